//! examples/handlers.toml loads, names scripts that exist, and runs from any directory.

mod common;

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Bucket, Class, EnqueueRequest, SystemClock, TaskState};
use queue_worker::handlers::Action;
use queue_worker::{Handlers, TaskEnd, Worker};
use serde_json::json;

#[test]
fn the_example_handlers_file_names_scripts_that_exist() {
    let file = testkit::util::workspace_root().join("examples/handlers.toml");
    let handlers = Handlers::load(&file).unwrap();
    for kind in handlers.kinds() {
        let handler = handlers.get(&kind).unwrap();
        if let Action::Command(argv) = &handler.action {
            let script = handler.cwd.as_ref().unwrap().join(&argv[1]);
            assert!(
                script.is_file(),
                "kind={kind}: {} is missing",
                script.display()
            );
        }
    }
    assert!(handlers.get("content-ideation").is_some());
}

#[tokio::test]
async fn an_example_handler_runs_wherever_the_worker_was_started() {
    let file = testkit::util::workspace_root().join("examples/handlers.toml");
    let q = common::queue(
        Bucket::memory(),
        Arc::new(SystemClock),
        common::settings(Duration::from_secs(30)),
    );
    let worker = Worker::new(
        q.clone(),
        Class::Light,
        "light-test",
        Handlers::load(&file).unwrap(),
    );
    let id = q
        .enqueue(EnqueueRequest::new(
            Class::Light,
            "sync-check",
            json!({"full": false}),
        ))
        .await
        .unwrap()
        .id;
    let report = worker.run_once().await.unwrap().unwrap();
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Done
        }
    );
    let result = q.find(id).await.unwrap().envelope.result.unwrap();
    // nothing configured to check but the (absent) synced folder: in sync, and it says so
    assert_eq!(result["in_sync"], json!(true));
    assert_eq!(result["checked"], json!(["sync-dir"]));
}

/// The 5-agent stand-in against a local fake LLM server (examples/handlers/test_agents.py).
#[test]
fn the_agents_stand_in_passes_its_tests_against_a_fake_llm_server() {
    let dir = testkit::util::workspace_root().join("examples/handlers");
    let out = std::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&dir)
        .args(["-p", "test_*.py"])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Ran 4 tests"), "{stderr}");
}
