//! The by-hand recipes of docs/operations.md, run on a local store with the same edits the
//! docs make with `gsutil` (the bytes are the same; only the copy tool differs).

use chrono::Utc;
use queue_core::{Class, Outcome, TaskState, names};
use serde_json::json;

use crate::support::{block_on, populated};

#[test]
fn a_by_hand_replay_is_a_new_task_that_runs_while_the_failed_one_stays() {
    // docs/operations.md: read kind and payload from failed/ID.json (`jq -r .kind`,
    // `jq -c .payload`) and enqueue them as a new task; the failed object is left alone.
    let (store, ids) = populated();
    let id = ids.heavy_failed;
    let failed = store.path().join(names::failed(Class::Heavy, id));
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&failed).unwrap()).unwrap();
    let kind = envelope["kind"].as_str().unwrap().to_string();
    let payload = envelope["payload"].to_string();
    let new_id = store
        .run(&[
            "enqueue",
            "--class",
            "heavy",
            "--kind",
            &kind,
            "--payload",
            &payload,
        ])
        .expect(0)
        .stdout
        .trim()
        .to_string();
    assert_ne!(new_id, id.to_string());

    let q = store.queue();
    block_on(async {
        // the fixture's other heavy task is due earlier; claim until ours comes up
        loop {
            let c = q
                .claim(Class::Heavy, "macbook-2")
                .await
                .unwrap()
                .expect("claimable");
            if c.envelope.id.to_string() == new_id {
                assert_eq!(c.envelope.payload, envelope["payload"]);
                let done = q
                    .complete(&c.lease, &c.envelope, Outcome::Done(json!("ok")))
                    .await
                    .unwrap();
                assert_eq!(done.state, TaskState::Done);
                break;
            }
            assert_ne!(c.envelope.id, id, "the failed id never runs again");
        }
    });
    let shown = store.run(&["show", &new_id, "--json"]).expect(0).json();
    assert_eq!(shown["location"]["final"], "done");
    assert!(failed.exists(), "the failed object stays");
}

#[test]
fn a_failed_copy_put_back_unchanged_is_dropped_as_stale() {
    // Why the recipe enqueues a new task: a copy of failed/ID.json put back into pending/
    // looks like a stale copy of a finished task (its id reached failed/) and is dropped.
    let (store, ids) = populated();
    let id = ids.heavy_failed;
    let failed = store.path().join(names::failed(Class::Heavy, id));
    let now = Utc::now() - chrono::Duration::days(1); // due before everything else
    let pending = store.path().join(names::pending(Class::Heavy, now, id));
    std::fs::copy(&failed, &pending).unwrap();
    let q = store.queue();
    let claimed = block_on(q.claim(Class::Heavy, "macbook-2")).unwrap();
    assert_ne!(claimed.map(|c| c.envelope.id), Some(id));
    assert!(!pending.exists(), "the stale copy was dropped");
    assert!(failed.exists());
}
