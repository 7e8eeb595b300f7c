//! The read-only commands: stats, ls, show, workers, invalid — populated and empty stores.

use std::sync::Arc;

use chrono::Utc;
use queue_core::clock::ManualClock;
use queue_core::{Bucket, Class, EnqueueRequest, Queue, Settings};
use serde_json::json;

use crate::support::{Store, block_on, populated};

#[test]
fn stats_json_has_the_documented_shape_and_counts() {
    let (store, _) = populated();
    let out = store.run(&["stats", "--json"]).expect(0);
    assert_eq!(
        out.json(),
        json!({
            "heavy": {"pending": 2, "running": 1, "done": 0, "failed": 1},
            "light": {"pending": 1, "running": 0, "done": 2, "failed": 1},
            "invalid": 1
        })
    );
}

#[test]
fn stats_on_an_empty_store_is_all_zeros() {
    let store = Store::empty();
    let zero = json!({"pending": 0, "running": 0, "done": 0, "failed": 0});
    let out = store.run(&["--json", "stats"]).expect(0);
    assert_eq!(
        out.json(),
        json!({"heavy": zero, "light": zero, "invalid": 0})
    );
    let out = store.run(&["stats"]).expect(0);
    assert!(
        out.stdout.contains("heavy  0        0        0     0"),
        "{}",
        out.stdout
    );
}

#[test]
fn stats_table_is_for_people() {
    let (store, _) = populated();
    let out = store.run(&["stats"]).expect(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "CLASS  PENDING  RUNNING  DONE  FAILED");
    assert_eq!(lines[1], "heavy  2        1        0     1");
    assert_eq!(lines[2], "light  1        0        2     1");
    assert!(out.stdout.contains("invalid: 1"));
    assert!(out.stdout.contains("queuectl invalid"));
}

#[test]
fn ls_shows_every_task_once() {
    let (store, ids) = populated();
    let out = store.run(&["ls"]).expect(0);
    for id in [
        ids.heavy_pending_now,
        ids.heavy_pending_later,
        ids.light_pending,
        ids.heavy_running,
        ids.light_done,
        ids.light_done_keyed,
        ids.heavy_failed,
        ids.light_failed,
    ] {
        assert_eq!(
            out.stdout.matches(&id.to_string()).count(),
            1,
            "{id} once in:\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.starts_with("ID "), "{}", out.stdout);
    let running = out
        .stdout
        .lines()
        .find(|l| l.contains(&ids.heavy_running.to_string()))
        .unwrap();
    assert!(running.contains("macbook-1"), "{running}");
    assert!(running.contains("lease"), "{running}");
    assert!(running.contains("1/5"), "{running}");
    let json = store.run(&["ls", "--json"]).expect(0).json();
    assert_eq!(json.as_array().unwrap().len(), 8);
}

#[test]
fn ls_filters_by_class_and_state_and_keeps_due_order() {
    let (store, ids) = populated();
    let out = store
        .run(&["ls", "--class", "heavy", "--state", "pending", "--json"])
        .expect(0);
    let got: Vec<String> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            ids.heavy_pending_now.to_string(),
            ids.heavy_pending_later.to_string()
        ]
    );
    let out = store
        .run(&["ls", "--class", "heavy", "--state", "pending"])
        .expect(0);
    let later = out
        .stdout
        .lines()
        .find(|l| l.contains(&ids.heavy_pending_later.to_string()))
        .unwrap();
    assert!(
        later.contains("due in 59m") || later.contains("due in 1h"),
        "{later}"
    );
}

#[test]
fn ls_filters_by_kind() {
    let (store, ids) = populated();
    let json = store
        .run(&["ls", "--kind", "multi-agent", "--json"])
        .expect(0)
        .json();
    let got: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec!["running", "failed"]);
    assert_eq!(json[1]["id"], ids.heavy_failed.to_string());
    assert!(
        json[1]["failure"]
            .as_str()
            .unwrap()
            .contains("model quota exceeded")
    );
}

#[test]
fn ls_older_than_goes_by_creation_time() {
    let (store, _) = populated();
    let two_days_ago = Utc::now() - chrono::Duration::days(2);
    let old_queue = Queue::new(
        Bucket::local(store.path()).unwrap(),
        Arc::new(ManualClock::new(two_days_ago)),
        Settings::default(),
    );
    let old = block_on(old_queue.enqueue(EnqueueRequest::new(Class::Light, "snapshot", json!({}))))
        .unwrap()
        .id;
    let json = store
        .run(&["ls", "--older-than", "1d", "--json"])
        .expect(0)
        .json();
    let got: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![old.to_string()]);
    let out = store.run(&["ls", "--older-than", "1d"]).expect(0);
    assert!(out.stdout.contains("due 2d ago"), "{}", out.stdout);
}

#[test]
fn ls_limit_says_what_it_left_out() {
    let (store, _) = populated();
    let out = store.run(&["ls", "--limit", "2"]).expect(0);
    assert_eq!(
        out.stdout.lines().count(),
        3,
        "header and two rows:\n{}",
        out.stdout
    );
    assert!(out.stderr.contains("showing 2 of 8"), "{}", out.stderr);
}

#[test]
fn ls_on_an_empty_store() {
    let store = Store::empty();
    assert_eq!(store.run(&["ls"]).expect(0).stdout, "no tasks\n");
    assert_eq!(store.run(&["ls", "--json"]).expect(0).json(), json!([]));
}

#[test]
fn show_pending_names_its_object_and_origin() {
    let (store, ids) = populated();
    let id = ids.heavy_pending_now.to_string();
    let out = store.run(&["show", &id]).expect(0);
    assert!(out.stdout.contains("state     pending"), "{}", out.stdout);
    assert!(out.stdout.contains("key       tg-update-1001"));
    assert!(
        out.stdout
            .contains("source    telegram chat=42 message=7 update=1001")
    );
    assert!(out.stdout.contains("브랜드 전략 분석해줘"));
    assert!(out.stdout.contains("attempts: none yet"));
    // the hint names a file that holds exactly this task
    let cat = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("cat "))
        .expect("a cat hint");
    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(cat).unwrap()).unwrap();
    assert_eq!(env["id"], id);
    assert!(cat.contains("heavy/pending/"), "{cat}");
}

#[test]
fn show_running_says_who_holds_the_lease() {
    let (store, ids) = populated();
    let out = store
        .run(&["show", &ids.heavy_running.to_string()])
        .expect(0);
    assert!(
        out.stdout
            .contains("state     running on macbook-1 (epoch 1, lease expires in"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("heavy/running/"));
    assert!(
        out.stdout.contains("macbook-1  "),
        "attempts table:\n{}",
        out.stdout
    );
    let json = store
        .run(&["show", &ids.heavy_running.to_string(), "--json"])
        .expect(0)
        .json();
    assert_eq!(json["location"]["state"], "running");
    assert_eq!(json["location"]["worker"], "macbook-1");
    assert_eq!(json["envelope"]["id"], ids.heavy_running.to_string());
}

#[test]
fn show_done_prints_the_result() {
    let (store, ids) = populated();
    let out = store.run(&["show", &ids.light_done.to_string()]).expect(0);
    assert!(out.stdout.contains("state     done"));
    assert!(out.stdout.contains("result:"));
    assert!(out.stdout.contains("\"ideas\""));
    assert!(
        out.stdout.contains(" done "),
        "attempt outcome:\n{}",
        out.stdout
    );
}

#[test]
fn show_failed_explains_why() {
    let (store, ids) = populated();
    let out = store
        .run(&["show", &ids.light_failed.to_string()])
        .expect(0);
    assert!(out.stdout.contains("state     failed"));
    assert!(out.stdout.contains("failure:"));
    assert!(out.stdout.contains("dead-lettered after 1 attempts"));
    assert!(
        out.stdout.contains("ValueError: bad log line"),
        "{}",
        out.stdout
    );
    let json = store
        .run(&["--json", "show", &ids.light_failed.to_string()])
        .expect(0)
        .json();
    assert_eq!(json["location"]["state"], "terminal");
    assert_eq!(json["location"]["final"], "failed");
    assert!(
        json["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("light/failed/{}.json", ids.light_failed))
    );
}

#[test]
fn show_unknown_id_says_where_it_looked() {
    let (store, _) = populated();
    let out = store
        .run(&["show", "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f"])
        .expect(3);
    assert!(
        out.stderr
            .contains("searched heavy and light: pending, running, done, failed"),
        "{}",
        out.stderr
    );
    Store::empty()
        .run(&["show", "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f"])
        .expect(3);
}

#[test]
fn workers_tells_online_from_offline() {
    let (store, ids) = populated();
    let out = store.run(&["workers"]).expect(0);
    let mac = out
        .stdout
        .lines()
        .find(|l| l.starts_with("macbook-1"))
        .unwrap();
    assert!(mac.contains("online"), "{mac}");
    assert!(mac.contains(&ids.heavy_running.to_string()), "{mac}");
    let vm = out.stdout.lines().find(|l| l.starts_with("vm-1")).unwrap();
    assert!(vm.contains("offline"), "{vm}");
    assert!(vm.contains("3h ago"), "{vm}");
    let json = store.run(&["workers", "--json"]).expect(0).json();
    assert_eq!(json[0]["worker_id"], "macbook-1");
    assert_eq!(json[0]["status"], "online");
    assert_eq!(json[1]["status"], "offline");
}

#[test]
fn workers_on_an_empty_store() {
    let store = Store::empty();
    let out = store.run(&["workers"]).expect(0);
    assert!(out.stdout.contains("no workers"), "{}", out.stdout);
    assert_eq!(
        store.run(&["workers", "--json"]).expect(0).json(),
        json!([])
    );
}

#[test]
fn invalid_lists_quarantined_objects_with_reasons() {
    let (store, _) = populated();
    let out = store.run(&["invalid"]).expect(0);
    assert!(
        out.stdout.contains("invalid/light/pending/not-a-task.json"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("object name is not {due}_{id}.json"));
    assert!(out.stdout.contains("to restore one"));
    let json = store.run(&["invalid", "--json"]).expect(0).json();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["original"], "light/pending/not-a-task.json");
}

#[test]
fn invalid_on_an_empty_store() {
    let store = Store::empty();
    assert!(
        store
            .run(&["invalid"])
            .expect(0)
            .stdout
            .contains("nothing quarantined")
    );
    assert_eq!(
        store.run(&["invalid", "--json"]).expect(0).json(),
        json!([])
    );
}
