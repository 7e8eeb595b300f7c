//! The commands that change the queue: enqueue, replay, cancel, purge.

use std::time::Duration;

use queue_core::{Class, EnqueueRequest, TaskId};
use serde_json::json;

use crate::support::{Store, block_on, populated, queuectl_raw};

fn find_state(store: &Store, id: &str) -> String {
    let json = store.run(&["show", id, "--json"]).expect(0).json();
    match json["location"]["state"].as_str().unwrap() {
        "terminal" => json["location"]["final"].as_str().unwrap().to_string(),
        s => s.to_string(),
    }
}

#[test]
fn enqueue_prints_the_id_of_a_pending_task() {
    let store = Store::empty();
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "heavy",
            "--kind",
            "brand-analysis",
            "--payload",
            r#"{"text":"hi"}"#,
        ])
        .expect(0);
    let id = out.stdout.trim();
    id.parse::<TaskId>().expect("stdout is the id alone");
    assert!(
        out.stderr
            .contains("queued: class=heavy kind=brand-analysis due now")
    );
    let json = store.run(&["show", id, "--json"]).expect(0).json();
    assert_eq!(json["location"]["state"], "pending");
    assert_eq!(json["envelope"]["payload"], json!({"text": "hi"}));
    assert_eq!(json["envelope"]["source"]["kind"], "cli");
}

#[test]
fn enqueue_creates_a_missing_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("new-store");
    let out = queuectl_raw(
        &[
            "--store",
            store.to_str().unwrap(),
            "enqueue",
            "--class",
            "light",
            "--kind",
            "sync-check",
        ],
        None,
    )
    .expect(0);
    assert!(store.join("light/pending").is_dir());
    assert!(
        std::fs::read_dir(store.join("light/pending"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(out.stdout.trim()))
    );
}

#[test]
fn enqueue_with_a_key_creates_one_task() {
    let store = Store::empty();
    let args = [
        "enqueue",
        "--class",
        "light",
        "--kind",
        "sync-check",
        "--key",
        "slot-7",
        "--json",
    ];
    let first = store.run(&args).expect(0).json();
    assert_eq!(first["created"], true);
    let second = store.run(&args).expect(0).json();
    assert_eq!(second["created"], false);
    assert_eq!(first["id"], second["id"]);
    let human = store.run(&args[..args.len() - 1]).expect(0);
    assert_eq!(human.stdout.trim(), first["id"].as_str().unwrap());
    assert!(
        human.stderr.contains("not queued again"),
        "{}",
        human.stderr
    );
    assert_eq!(store.names("light/pending/").len(), 1);
}

#[test]
fn enqueue_with_delay_file_payload_and_max_attempts() {
    let store = Store::empty();
    let payload = store.path().join("payload.json");
    std::fs::write(&payload, r#"{"from":"file"}"#).unwrap();
    let at_file = format!("@{}", payload.display());
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "heavy",
            "--kind",
            "weekly-evolution",
            "--payload",
            &at_file,
            "--delay",
            "10m",
            "--max-attempts",
            "3",
        ])
        .expect(0);
    assert!(out.stderr.contains("due in 9m") || out.stderr.contains("due in 10m"));
    let json = store
        .run(&["show", out.stdout.trim(), "--json"])
        .expect(0)
        .json();
    assert_eq!(json["envelope"]["payload"], json!({"from": "file"}));
    assert_eq!(json["envelope"]["max_attempts"], 3);
    let ls = store.run(&["ls", "--state", "pending"]).expect(0);
    assert!(ls.stdout.contains("due in"), "{}", ls.stdout);
}

#[test]
fn enqueue_reads_the_payload_from_stdin() {
    let store = Store::empty();
    let out = queuectl_raw(
        &[
            "--store",
            store.path().to_str().unwrap(),
            "enqueue",
            "--class",
            "light",
            "--kind",
            "k",
            "--payload",
            "@-",
        ],
        Some(r#"[1, 2, 3]"#),
    )
    .expect(0);
    let json = store
        .run(&["show", out.stdout.trim(), "--json"])
        .expect(0)
        .json();
    assert_eq!(json["envelope"]["payload"], json!([1, 2, 3]));
}

#[test]
fn replay_one_failed_task() {
    let (store, ids) = populated();
    let id = ids.heavy_failed.to_string();
    let out = store.run(&["replay", &id, "--dry-run"]).expect(0);
    assert!(out.stdout.contains("would replay"));
    assert_eq!(find_state(&store, &id), "failed");
    let out = store.run(&["replay", &id, "--json"]).expect(0).json();
    let new = out["replayed_as"]
        .as_str()
        .expect("the new task's id")
        .to_string();
    assert_ne!(new, id, "a replay is a new task");
    assert_eq!(find_state(&store, &new), "pending");
    assert_eq!(find_state(&store, &id), "failed", "the failed task stays");
    // it was replayed: a second replay is refused, and says which task runs it
    let out = store.run(&["replay", &id]).expect(4);
    assert!(
        out.stderr.contains("replayed already") && out.stderr.contains(&new),
        "{}",
        out.stderr
    );
    let out = store.run(&["replay", &new]).expect(4);
    assert!(
        out.stderr.contains("only failed tasks can be replayed"),
        "{}",
        out.stderr
    );
}

#[test]
fn replay_refuses_what_did_not_fail_and_what_does_not_exist() {
    let (store, ids) = populated();
    store
        .run(&["replay", &ids.light_done.to_string()])
        .expect(4);
    store
        .run(&["replay", &ids.heavy_running.to_string()])
        .expect(4);
    store
        .run(&["replay", "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f"])
        .expect(3);
    store
        .run(&[
            "replay",
            "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
            "--dry-run",
        ])
        .expect(3);
}

#[test]
fn replay_all_failed_dry_run_changes_nothing() {
    let (store, ids) = populated();
    let json = store
        .run(&["replay", "--all-failed", "--dry-run", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["matched"], 2);
    assert_eq!(json["replayed"], json!([]));
    let out = store
        .run(&["replay", "--all-failed", "--dry-run"])
        .expect(0);
    assert!(out.stdout.contains(&ids.heavy_failed.to_string()));
    assert!(out.stdout.contains("model quota exceeded"));
    assert!(out.stdout.contains("would replay 2"));
    assert_eq!(find_state(&store, &ids.heavy_failed.to_string()), "failed");
    assert_eq!(find_state(&store, &ids.light_failed.to_string()), "failed");
}

#[test]
fn replay_all_failed_of_a_class_with_progress() {
    let (store, ids) = populated();
    let out = store
        .run(&["replay", "--all-failed", "--class", "light", "--json"])
        .expect(0);
    assert_eq!(
        out.json()["replayed"],
        json!([ids.light_failed.to_string()])
    );
    assert!(out.stderr.contains("[1/1] replayed"), "{}", out.stderr);
    let new = out.json()["new_ids"][0].as_str().unwrap().to_string();
    assert_eq!(find_state(&store, &new), "pending");
    assert_eq!(find_state(&store, &ids.light_failed.to_string()), "failed");
    assert_eq!(find_state(&store, &ids.heavy_failed.to_string()), "failed");
    // by kind: nothing of that kind failed
    let json = store
        .run(&["replay", "--all-failed", "--kind", "no-such-kind", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["matched"], 0);
}

#[test]
fn replay_all_failed_on_an_empty_store() {
    let store = Store::empty();
    let out = store.run(&["replay", "--all-failed"]).expect(0);
    assert!(out.stdout.contains("replayed 0 of 0"), "{}", out.stdout);
}

#[test]
fn cancel_a_pending_task_keeps_the_reason() {
    let (store, ids) = populated();
    let id = ids.heavy_pending_later.to_string();
    let out = store
        .run(&["cancel", &id, "--reason", "not needed this week", "--json"])
        .expect(0);
    assert_eq!(out.json()["was"], "pending");
    let json = store.run(&["show", &id, "--json"]).expect(0).json();
    assert_eq!(json["location"]["final"], "failed");
    assert!(
        json["envelope"]["failure"]
            .as_str()
            .unwrap()
            .contains("not needed this week")
    );
    // cancelled is finished: a second cancel is refused, replay brings it back
    store.run(&["cancel", &id]).expect(4);
    store.run(&["replay", &id]).expect(0);
}

#[test]
fn cancel_a_running_task_fences_its_worker() {
    let (store, ids) = populated();
    let id = ids.heavy_running.to_string();
    let out = store.run(&["cancel", &id]).expect(0);
    assert!(out.stdout.contains("was running"), "{}", out.stdout);
    assert!(out.stdout.contains("next heartbeat"));
    assert_eq!(find_state(&store, &id), "failed");
}

#[test]
fn cancel_refuses_finished_and_unknown_tasks() {
    let (store, ids) = populated();
    let out = store
        .run(&["cancel", &ids.light_done.to_string()])
        .expect(4);
    assert!(out.stderr.contains("already finished"), "{}", out.stderr);
    store
        .run(&["cancel", &ids.heavy_failed.to_string()])
        .expect(4);
    store
        .run(&["cancel", "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f"])
        .expect(3);
}

#[test]
fn purge_deletes_old_done_tasks_and_compacts_keyed_ones() {
    let (store, ids) = populated();
    let ten_days = Duration::from_secs(10 * 86_400);
    store.age_done(Class::Light, ids.light_done, ten_days);
    store.age_done(Class::Light, ids.light_done_keyed, ten_days);

    // ten days is not thirty
    let json = store
        .run(&["purge", "--older-than", "30d", "--json"])
        .expect(0)
        .json();
    assert_eq!(json["matched"], 0);

    let dry = store
        .run(&["purge", "--older-than", "7d", "--dry-run"])
        .expect(0);
    assert!(dry.stdout.contains("would purge 2"), "{}", dry.stdout);
    assert_eq!(store.names("light/done/").len(), 2);

    let out = store
        .run(&["purge", "--older-than", "7d", "--json"])
        .expect(0);
    let json = out.json();
    assert_eq!(json["deleted"], json!([ids.light_done.to_string()]));
    assert_eq!(json["compacted"], json!([ids.light_done_keyed.to_string()]));
    assert!(out.stderr.contains("[2/2]"), "{}", out.stderr);
    store.run(&["show", &ids.light_done.to_string()]).expect(3);
    // nothing of its lease chain is left to look like a running task
    for id in [ids.light_done, ids.light_done_keyed] {
        let chain = queue_core::names::running_dir(Class::Light, id);
        assert_eq!(store.names(&chain), Vec::<String>::new());
    }
    let stats = store.run(&["stats", "--json"]).expect(0).json();
    assert_eq!(stats["light"]["running"], 0);
    let kept = store
        .run(&["show", &ids.light_done_keyed.to_string(), "--json"])
        .expect(0)
        .json();
    assert_eq!(kept["envelope"]["payload"], serde_json::Value::Null);
    assert!(kept["envelope"]["labels"]["purged_at"].is_string());

    // the key still names its task: enqueueing it again creates nothing
    let again = block_on(store.queue().enqueue(
        EnqueueRequest::new(Class::Light, "sync-check", json!({"slot": 1})).key("slot-1"),
    ))
    .unwrap();
    assert!(!again.created);
    assert_eq!(again.id, ids.light_done_keyed);
    assert_eq!(store.names("light/pending/").len(), 1, "only the fixture's");
}

#[test]
fn purge_refuses_an_age_a_worker_could_still_be_finishing() {
    let out = Store::empty()
        .run(&["purge", "--older-than", "1m"])
        .expect(2);
    assert!(
        out.stderr.contains("lease TTL + clock skew"),
        "{}",
        out.stderr
    );
}

#[test]
fn purge_on_an_empty_store() {
    let store = Store::empty();
    let out = store.run(&["purge", "--older-than", "1d"]).expect(0);
    assert!(out.stdout.contains("purged 0"), "{}", out.stdout);
}

#[test]
fn enqueue_into_a_populated_store_honours_keys_it_did_not_write() {
    let (store, ids) = populated();
    // the fixture enqueued this key through queue-core, as the ingress would
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "heavy",
            "--kind",
            "brand-analysis",
            "--key",
            "tg-update-1001",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(out["created"], false);
    assert_eq!(out["id"], ids.heavy_pending_now.to_string());
    // the same key in the other class is another task
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "light",
            "--kind",
            "k",
            "--key",
            "tg-update-1001",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(out["created"], true);
    let stats = store.run(&["stats", "--json"]).expect(0).json();
    assert_eq!(stats["heavy"]["pending"], 2);
    assert_eq!(stats["light"]["pending"], 2);
}
