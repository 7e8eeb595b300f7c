//! `--metrics-addr` on the real worker-light binary: after it ran real tasks (a shell handler
//! that succeeds slowly enough to renew its lease, one that fails, one kind it has no handler
//! for), a scrape over HTTP, read back by the strict text-format reader, shows the counts.

mod common;

use metrics_text::parse::{Scrape, parse};
use nix::sys::signal::Signal;
use queue_core::{Class, TaskState};
use serde_json::json;
use testkit::process::wait_for;

use common::Fixture;

const BIN: &str = env!("CARGO_BIN_EXE_worker-light");

const HANDLERS: &str = r#"
[handlers.slow]
command = ["sh", "-c", "cat >/dev/null; sleep 2.5; echo '{\"ok\": true}'"]
timeout = "1m"

[handlers.quick]
command = ["sh", "-c", "cat >/dev/null; echo '{}'"]
timeout = "1m"

[handlers.broken]
command = ["sh", "-c", "cat >/dev/null; echo 'bad input' >&2; exit 65"]
timeout = "1m"
"#;

async fn scrape(http: &reqwest::Client, url: &str) -> Scrape {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_real_tasks_shows_claims_outcomes_durations_and_store_requests() {
    let f = Fixture::new(BIN, HANDLERS);
    let slow = f.enqueue(Class::Light, "slow", json!({})).await;
    let quick = f.enqueue(Class::Light, "quick", json!({})).await;
    let broken = f.enqueue(Class::Light, "broken", json!({})).await;
    let stray = f.enqueue(Class::Light, "no-such-kind", json!({})).await;
    // 3s lease: renewed every second, so the slow handler renews at least once
    let mut worker = f.start(
        "light-m",
        &["--metrics-addr", "127.0.0.1:0", "--lease-ttl", "3s"],
        &[],
    );
    let addr = wait_for("the worker logs its metrics address", || {
        let logs = worker.stderr();
        let start = logs.find("metrics listening on http://")? + "metrics listening on ".len();
        let rest = &logs[start..];
        Some(rest[..rest.find("/metrics")?].to_string())
    })
    .await;
    for id in [slow, quick] {
        f.wait_state(id, TaskState::Done).await;
    }
    for id in [broken, stray] {
        f.wait_state(id, TaskState::Failed).await;
    }
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{addr}/metrics");
    let m = scrape(&http, &url).await;

    let light = [("class", "light")];
    assert_eq!(m.sum("bucketq_worker_claims_total", &light), Some(4.0));
    let ended = |outcome: &str| {
        m.sum(
            "bucketq_worker_completions_total",
            &[("class", "light"), ("outcome", outcome)],
        )
    };
    assert_eq!(ended("done"), Some(2.0));
    assert_eq!(ended("failed"), Some(2.0));
    assert_eq!(m.sum("bucketq_worker_completions_total", &[]), Some(4.0));
    let runs = |kind: &str| {
        m.sum(
            "bucketq_worker_handler_duration_seconds_count",
            &[("class", "light"), ("kind", kind)],
        )
    };
    for kind in ["slow", "quick", "broken", "unknown"] {
        assert_eq!(runs(kind), Some(1.0), "{kind}");
    }
    // the slow handler's 2.5 s is past the 1 s bucket and within the 5 s one
    let slow_bucket = |le: &str| {
        m.sum(
            "bucketq_worker_handler_duration_seconds_bucket",
            &[("kind", "slow"), ("le", le)],
        )
    };
    assert_eq!(slow_bucket("1"), Some(0.0));
    assert_eq!(slow_bucket("5"), Some(1.0));
    let sum = m
        .sum(
            "bucketq_worker_handler_duration_seconds_sum",
            &[("kind", "slow")],
        )
        .unwrap();
    assert!(sum >= 2.5, "{sum}");
    let renewals = m
        .sum("bucketq_worker_lease_renewals_total", &light)
        .unwrap();
    assert!(renewals >= 1.0, "{renewals}");
    assert_eq!(m.sum("bucketq_worker_leases_lost_total", &light), Some(0.0));
    // four claims and four commits are writes at least; reads find the work
    let ops = |class: &str| m.sum("bucketq_store_operations_total", &[("gcs_class", class)]);
    assert!(ops("A").unwrap() >= 8.0, "{:?}", ops("A"));
    assert!(ops("B").unwrap() >= 1.0, "{:?}", ops("B"));

    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_is_a_configuration_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let f = Fixture::new(BIN, HANDLERS);
    let mut worker = f.start("light-m", &["--metrics-addr", &addr], &[]);
    let status = worker.wait_exit().await;
    assert_eq!(status.code(), Some(2));
    assert!(
        worker.stderr().contains("--metrics-addr"),
        "{}",
        worker.stderr()
    );
}
