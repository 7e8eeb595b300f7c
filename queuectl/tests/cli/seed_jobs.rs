//! The seed's six routine jobs, each run once by a real `queuectl dev` with
//! examples/handlers.toml: each does its work and the reports land under results/ as plain
//! Markdown; the sync check reports drift it finds (not always `in_sync: true`).

use serde_json::{Value, json};

use crate::dev::{start_with_env, wait_for};
use crate::support::Store;

fn enqueue(store: &Store, kind: &str, payload: Value) -> String {
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "light",
            "--kind",
            kind,
            "--payload",
            &payload.to_string(),
        ])
        .expect(0);
    out.stdout.trim().to_string()
}

/// Wait until task `id` is finished; its envelope.
fn finished(store: &Store, id: &str) -> Value {
    wait_for(&format!("task {id} to finish"), || {
        let out = store.run(&["show", id, "--json"]);
        (out.code == 0)
            .then(|| out.json())
            .filter(|j| j["location"]["final"].is_string())
    })["envelope"]
        .clone()
}

/// The Markdown of the one report a routine job's result names.
fn report(store: &Store, task: &Value, folder: &str) -> String {
    assert!(task["failure"].is_null(), "{task}");
    let names = task["result"]["results"].as_array().expect("report names");
    assert_eq!(names.len(), 1, "{task}");
    let name = names[0].as_str().unwrap();
    assert!(name.starts_with(&format!("results/{folder}/")), "{name}");
    assert!(name.ends_with(".md"), "{name}");
    std::fs::read_to_string(store.path().join(name)).expect("the report is in the bucket")
}

#[test]
fn the_six_routine_jobs_do_their_work_under_queuectl_dev() {
    let store = Store::empty();
    let work = tempfile::tempdir().unwrap();
    let w = |name: &str| work.path().join(name).display().to_string();
    std::fs::create_dir_all(work.path().join("notes")).unwrap();
    std::fs::write(work.path().join("notes/today.txt"), "향수 촬영 메모").unwrap();
    std::fs::write(work.path().join("clip.txt"), "복사한 문장").unwrap();
    std::fs::create_dir_all(work.path().join("drive")).unwrap(); // synced folder, empty: drift
    let now = chrono::Utc::now().to_rfc3339();
    let log = [
        json!({"severity": "ERROR", "message": "could not commit", "time": now, "error": "store timeout after 30s"}),
        json!({"severity": "ERROR", "message": "could not commit", "time": now, "error": "store timeout after 31s"}),
        json!({"severity": "INFO", "message": "task committed", "time": now}),
        json!({"severity": "ERROR", "message": "old", "time": "2020-01-01T00:00:00Z"}),
    ]
    .map(|l| l.to_string())
    .join("\n");
    std::fs::write(work.path().join("worker.log"), log).unwrap();

    let handlers = testkit_root().join("examples/handlers.toml");
    let env = [
        ("SNAPSHOT_SOURCE", w("notes")),
        ("SNAPSHOT_DIR", w("snapshots")),
        ("CLIPBOARD_FILE", w("clip.txt")),
        ("CLIPBOARD_ARCHIVE_DIR", w("clipboard")),
        ("LOG_FILES", w("worker.log")),
        ("SYNC_DIR", w("drive")),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _dev = start_with_env(
        &store,
        &["--handlers", handlers.to_str().unwrap(), "--no-schedules"],
        &env,
    );

    // the day so far: a message answered, and a task that failed
    let chat = enqueue(&store, "echo", json!({"text": "가을 향수 라인 촬영 기획"}));
    finished(&store, &chat);
    let broken = enqueue(&store, "no-such-kind", json!({}));
    finished(&store, &broken);

    let ids: Vec<(&str, String)> = [
        ("content-ideation", json!({"count": 3})),
        ("system-evolution", json!({"scope": "weekly"})),
        ("log-analysis", json!({"window": "24h"})),
        ("snapshot", json!({"keep_days": 14})),
        ("clipboard-backup", json!({})),
        ("sync-check", json!({"full": true})),
    ]
    .into_iter()
    .map(|(kind, payload)| (kind, enqueue(&store, kind, payload)))
    .collect();
    let task = |kind: &str| finished(&store, &ids.iter().find(|(k, _)| *k == kind).unwrap().1);

    let ideas = report(&store, &task("content-ideation"), "content_ideas");
    assert_eq!(ideas.matches("\n## ").count(), 3, "{ideas}");
    assert!(
        ideas.contains("가을 향수 라인 촬영 기획"),
        "drawn from recent activity: {ideas}"
    );

    let week = report(&store, &task("system-evolution"), "evolution");
    assert!(week.contains("| echo | 1 | 0 |"), "{week}");
    assert!(week.contains("no-such-kind"), "{week}");
    assert!(week.contains("가장 느린 작업"), "{week}");

    let health = report(&store, &task("log-analysis"), "health");
    assert!(
        health.contains("2회: could not commit: store timeout after {n}s"),
        "{health}"
    );
    assert!(!health.contains("old"), "outside the window: {health}");

    let snapshot = task("snapshot");
    let archive = snapshot["result"]["snapshot"].as_str().unwrap();
    assert!(archive.contains("snapshot-"), "{snapshot}");
    assert!(std::path::Path::new(archive).is_file(), "{archive}");

    let clip = task("clipboard-backup");
    assert_eq!(clip["result"]["backed_up"], 1, "{clip}");
    let archive = std::fs::read_to_string(clip["result"]["archive"].as_str().unwrap()).unwrap();
    assert!(archive.contains("복사한 문장"), "{archive}");

    let sync = task("sync-check")["result"].clone();
    assert_eq!(sync["in_sync"], false, "{sync}");
    let findings = sync["findings"].to_string();
    assert!(
        findings.contains("drive"),
        "the empty synced folder: {findings}"
    );
    assert!(
        findings.contains(&format!("/retry {broken}")),
        "the failed task: {findings}"
    );
    assert_eq!(sync["alerts"].as_array().unwrap().len(), 2, "{sync}");
}

fn testkit_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}
