//! `queuectl schedules`: add, ls (next run in the schedule's zone and UTC), pause, resume, rm.

use serde_json::json;

use crate::support::Store;

fn add(store: &Store, args: &[&str]) -> crate::support::Run {
    let mut full = vec!["schedules", "add"];
    full.extend_from_slice(args);
    store.run(&full)
}

#[test]
fn add_then_ls_shows_the_next_run_locally_and_in_utc() {
    let store = Store::empty();
    let out = add(
        &store,
        &[
            "content-ideation",
            "--cron",
            "0 9 * * *",
            "--class",
            "light",
            "--kind",
            "content-ideation",
            "--payload",
            r#"{"count":5}"#,
        ],
    )
    .expect(0);
    assert!(out.stdout.contains("next run"), "{}", out.stdout);
    assert!(out.stdout.contains("09:00 KST"), "{}", out.stdout);
    assert!(out.stdout.contains("00:00 UTC"), "{}", out.stdout);
    add(
        &store,
        &[
            "clip",
            "--every",
            "30m",
            "--class",
            "light",
            "--kind",
            "clipboard-backup",
        ],
    )
    .expect(0);
    add(
        &store,
        &[
            "ny-report",
            "--cron",
            "30 8 * * 1-5",
            "--tz",
            "America/New_York",
            "--class",
            "heavy",
            "--kind",
            "brand-analysis",
        ],
    )
    .expect(0);

    let out = store.run(&["schedules", "ls"]).expect(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{}", out.stdout);
    assert!(lines[0].contains("NEXT (LOCAL)") && lines[0].contains("NEXT (UTC)"));
    let ci = lines
        .iter()
        .find(|l| l.starts_with("content-ideation"))
        .unwrap();
    assert!(
        ci.contains("cron 0 9 * * *") && ci.contains("Asia/Seoul"),
        "{ci}"
    );
    assert!(ci.contains("09:00 KST") && ci.contains("00:00 UTC"), "{ci}");
    let ny = lines.iter().find(|l| l.starts_with("ny-report")).unwrap();
    assert!(ny.contains("08:30 E"), "EST or EDT: {ny}");

    let json = store.run(&["schedules", "ls", "--json"]).expect(0).json();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["clip", "content-ideation", "ny-report"]);
    assert_eq!(json[1]["payload"], json!({"count": 5}));
    assert_eq!(json[1]["state"], "enabled");
    assert!(json[1]["next_run"].is_string());
    assert!(
        json[1]["next_run_local"]
            .as_str()
            .unwrap()
            .ends_with("09:00 KST")
    );
}

#[test]
fn add_from_a_korean_phrase() {
    let store = Store::empty();
    let out = add(
        &store,
        &[
            "weekly",
            "--phrase",
            "매주 일요일 자정",
            "--class",
            "light",
            "--kind",
            "system-evolution",
        ],
    )
    .expect(0);
    assert!(
        out.stdout.contains("cron 0 0 * * 0 in Asia/Seoul"),
        "{}",
        out.stdout
    );
    let out = add(
        &store,
        &[
            "nine",
            "--phrase",
            "매일 9시",
            "--class",
            "light",
            "--kind",
            "k",
        ],
    )
    .expect(2);
    assert!(!out.stderr.is_empty());
}

#[test]
fn pause_and_resume() {
    let store = Store::empty();
    add(
        &store,
        &["clip", "--every", "30m", "--class", "light", "--kind", "k"],
    )
    .expect(0);
    let out = store.run(&["schedules", "pause", "clip"]).expect(0);
    assert!(out.stdout.contains("paused, no next run"), "{}", out.stdout);
    let json = store.run(&["schedules", "ls", "--json"]).expect(0).json();
    assert_eq!(json[0]["state"], "paused");
    assert_eq!(json[0]["next_run"], serde_json::Value::Null);
    let out = store
        .run(&["schedules", "resume", "clip", "--json"])
        .expect(0)
        .json();
    assert_eq!(out["state"], "enabled");
    assert!(out["next_run"].is_string());
}

#[test]
fn add_paused() {
    let store = Store::empty();
    add(
        &store,
        &[
            "later", "--every", "1h", "--class", "heavy", "--kind", "k", "--paused",
        ],
    )
    .expect(0);
    let json = store.run(&["schedules", "ls", "--json"]).expect(0).json();
    assert_eq!(json[0]["enabled"], false);
}

#[test]
fn a_duplicate_name_is_refused_and_rm_frees_it() {
    let store = Store::empty();
    let args = ["clip", "--every", "30m", "--class", "light", "--kind", "k"];
    add(&store, &args).expect(0);
    let out = add(&store, &args).expect(4);
    assert!(out.stderr.contains("schedule exists"), "{}", out.stderr);
    store.run(&["schedules", "rm", "clip"]).expect(0);
    add(&store, &args).expect(0);
}

#[test]
fn unknown_schedules_are_not_found() {
    let store = Store::empty();
    for cmd in ["rm", "pause", "resume"] {
        let out = store.run(&["schedules", cmd, "nope"]).expect(3);
        assert!(
            out.stderr.contains("no such schedule"),
            "{cmd}: {}",
            out.stderr
        );
    }
}

#[test]
fn bad_schedule_values_are_usage_errors() {
    let store = Store::empty();
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "x",
                "--cron",
                "0 25 * * *",
                "--class",
                "light",
                "--kind",
                "k",
            ],
            "hour",
        ),
        (
            &["x", "--cron", "0 9 * *", "--class", "light", "--kind", "k"],
            "fields",
        ),
        (
            &["x", "--every", "soon", "--class", "light", "--kind", "k"],
            "30s, 10m",
        ),
        (
            &[
                "x",
                "--every",
                "30m",
                "--tz",
                "Asia/Busan",
                "--class",
                "light",
                "--kind",
                "k",
            ],
            "IANA",
        ),
        (
            &[
                "Bad_Name", "--every", "30m", "--class", "light", "--kind", "k",
            ],
            "schedule name",
        ),
        (&["x", "--class", "light", "--kind", "k"], "--cron"),
        (
            &[
                "x",
                "--cron",
                "0 9 * * *",
                "--every",
                "1h",
                "--class",
                "light",
                "--kind",
                "k",
            ],
            "cannot be used",
        ),
    ];
    for (args, says) in cases {
        let out = add(&store, args).expect(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    let out = add(
        &store,
        &[
            "x",
            "--every",
            "30m",
            "--class",
            "light",
            "--kind",
            "k",
            "--catch-up",
            "twice",
        ],
    )
    .expect(2);
    assert!(out.stderr.contains("each:N"), "{}", out.stderr);
    assert!(store.names("schedules/").is_empty());
}

#[test]
fn ls_on_an_empty_store() {
    let store = Store::empty();
    assert!(
        store
            .run(&["schedules", "ls"])
            .expect(0)
            .stdout
            .contains("no schedules")
    );
    assert_eq!(
        store.run(&["schedules", "ls", "--json"]).expect(0).json(),
        json!([])
    );
}
