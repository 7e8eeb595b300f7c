//! The by-hand recipes of docs/operations.md, run on a local store with the same edits the
//! docs make with `gsutil` (the bytes are the same; only the copy tool differs).

use std::process::Command;

use chrono::Utc;
use queue_core::{Class, Outcome, TaskState, names};
use serde_json::json;

use crate::support::{block_on, populated};

/// The jq filter docs/operations.md uses to turn a failed envelope into a pending one: what
/// `Queue::replay` does (attempts counter reset, failure cleared, due now, epoch one past the
/// failed copy's so a claim does not take it for a stale copy of a finished task).
const REPLAY_FILTER: &str =
    ".attempt = 0 | .epoch += 1 | .due_at = $now | del(.failure) | .labels.replayed_at = $now";

#[test]
fn a_by_hand_replay_is_claimed_and_runs_again() {
    let Ok(jq) = Command::new("jq").arg("--version").output() else {
        eprintln!("skipping: jq is not installed");
        return;
    };
    assert!(jq.status.success());
    let (store, ids) = populated();
    let id = ids.heavy_failed;
    let failed = store.path().join(names::failed(Class::Heavy, id));
    let now = Utc::now();
    let out = Command::new("jq")
        .args([
            "--arg",
            "now",
            &now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        ])
        .arg(REPLAY_FILTER)
        .arg(&failed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // write the pending copy first, then remove the failed one: a crash in between leaves
    // two copies (the claim sorts them out), never none
    let pending = store.path().join(names::pending(Class::Heavy, now, id));
    std::fs::write(&pending, &out.stdout).unwrap();
    std::fs::remove_file(&failed).unwrap();

    let shown = store
        .run(&["show", &id.to_string(), "--json"])
        .expect(0)
        .json();
    assert_eq!(shown["location"]["state"], "pending");
    assert_eq!(shown["envelope"]["attempt"], 0);

    let q = store.queue();
    block_on(async {
        // the fixture's other heavy task is due earlier; claim until ours comes up
        loop {
            let c = q
                .claim(Class::Heavy, "macbook-2")
                .await
                .unwrap()
                .expect("claimable");
            if c.envelope.id == id {
                assert_eq!(c.envelope.attempt, 1);
                let done = q
                    .complete(&c.lease, &c.envelope, Outcome::Done(json!("ok")))
                    .await
                    .unwrap();
                assert_eq!(done.state, TaskState::Done);
                break;
            }
        }
    });
    let shown = store
        .run(&["show", &id.to_string(), "--json"])
        .expect(0)
        .json();
    assert_eq!(shown["location"]["final"], "done");
}

#[test]
fn a_failed_copy_put_back_unchanged_is_dropped_as_stale() {
    // Why the recipe bumps the epoch: a plain copy of failed/ID.json into pending/ while the
    // failed object is still there looks like a stale copy of a finished task.
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
