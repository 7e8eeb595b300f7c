//! The rendered text read back by the strict reader: every rule of the format holds, and the
//! values come back as written. The reader itself is shown to refuse broken text.

use metrics_text::Registry;
use metrics_text::parse::parse;

fn busy_registry() -> Registry {
    let r = Registry::new();
    let c = r.counter(
        "jobs_total",
        "Jobs by class\nand outcome \\ note.",
        &["class", "outcome"],
    );
    c.inc(&["light", "done"]);
    c.add(&["heavy", "failed"], 3);
    c.inc(&["li\"ght\\\n", "done"]);
    let g = r.gauge("tasks", "Tasks.", &["class", "state"]);
    g.set(&["light", "pending"], 7.0);
    g.set(&["heavy", "running"], 0.5);
    r.gauge("empty", "Never set.", &[]);
    let h = r.histogram("run_seconds", "Durations.", &["kind"], &[0.1, 1.0, 10.0]);
    for v in [0.05, 0.1, 2.0, 50.0] {
        h.observe(&["ocr"], v);
    }
    h.observe(&["echo"], 0.01);
    r
}

#[test]
fn the_rendered_text_obeys_the_format_and_reads_back() {
    let text = busy_registry().render();
    let scrape = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(scrape.families["jobs_total"].kind, "counter");
    assert_eq!(
        scrape.families["jobs_total"].help.as_deref(),
        Some("Jobs by class\nand outcome \\ note.")
    );
    assert_eq!(scrape.sum("jobs_total", &[("class", "heavy")]), Some(3.0));
    assert_eq!(scrape.sum("jobs_total", &[("outcome", "done")]), Some(2.0));
    // an awkward label value survives escaping
    assert_eq!(
        scrape.sum("jobs_total", &[("class", "li\"ght\\\n")]),
        Some(1.0)
    );
    assert_eq!(scrape.sum("tasks", &[("state", "running")]), Some(0.5));
    assert!(scrape.families["empty"].samples.is_empty());
    assert_eq!(
        scrape.sum("run_seconds_count", &[("kind", "ocr")]),
        Some(4.0)
    );
    assert_eq!(
        scrape.sum("run_seconds_sum", &[("kind", "ocr")]),
        Some(52.15)
    );
    assert_eq!(
        scrape.sum("run_seconds_bucket", &[("kind", "ocr"), ("le", "1")]),
        Some(2.0)
    );
    assert_eq!(
        scrape.sum("run_seconds_bucket", &[("kind", "ocr"), ("le", "+Inf")]),
        Some(4.0)
    );
}

#[test]
fn the_reader_refuses_broken_text() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    parse(ok).unwrap();
    for (broken, why) in [
        ("# TYPE a counter\na 1\n", "_total"),
        ("a_total 1\n", "no declared family"),
        ("# TYPE a_total counter\na_total 1", "newline"),
        ("# TYPE a_total counter\na_total{x=1} 1\n", "quoted"),
        ("# TYPE a_total counter\na_total{x=\"\\t\"} 1\n", "escape"),
        (
            "# TYPE a_total counter\na_total{x=\"1\",x=\"2\"} 1\n",
            "twice",
        ),
        ("# TYPE a_total counter\na_total 1\na_total 2\n", "twice"),
        ("# TYPE a_total counter\na_total -1\n", "negative"),
        ("# TYPE a_total counter\na_total one\n", "bad value"),
        ("# TYPE g gauge\n# TYPE h gauge\ng 1\n", "split"),
        ("# TYPE g gauge\ng 1\n# TYPE g gauge\n", "TYPE"),
        ("# TYPE g gauge\ng{__x=\"1\"} 1\n", "label name"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "+Inf",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
            "_count",
        ),
    ] {
        let e = parse(broken).expect_err(broken);
        assert!(e.contains(why), "{broken:?}: {e}");
    }
}
