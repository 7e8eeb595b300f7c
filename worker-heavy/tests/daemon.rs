//! The real worker-heavy binary: what differs from worker-light is its defaults, so these
//! tests check those; the shared behaviour is tested on worker-light (same library, same
//! fixture).

#[path = "../../worker-light/tests/common/mod.rs"]
mod common;

use nix::sys::signal::Signal;
use queue_core::{Class, TaskState};
use serde_json::json;

use common::Fixture;

const BIN: &str = env!("CARGO_BIN_EXE_worker-heavy");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_several_tasks_at_once_by_default() {
    // Each handler waits until three have started: they finish only if they run together.
    let f = Fixture::new(
        BIN,
        r#"
[handlers.together]
command = ["sh", "-c", "echo \"start $$\" >> \"$DIR/runs\"; while [ \"$(grep -c start \"$DIR/runs\")\" -lt 3 ]; do sleep 0.05; done; echo ok"]
env = { DIR = "{dir}" }
timeout = "2m"
"#,
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(f.enqueue(Class::Heavy, "together", json!({})).await);
    }
    let mut worker = f.start("heavy-mac", &[], &[]);
    for id in ids {
        let done = f.wait_state(id, TaskState::Done).await;
        assert_eq!(done.envelope.result, Some(json!("ok")));
        assert_eq!(done.envelope.attempt, 1);
    }
    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_only_the_heavy_class() {
    let f = Fixture::new(BIN, "");
    let light = f.enqueue(Class::Light, "echo", json!({})).await;
    let heavy = f.enqueue(Class::Heavy, "echo", json!({"n": 1})).await;
    let mut worker = f.start("heavy-mac", &[], &[]);
    f.wait_state(heavy, TaskState::Done).await;
    assert_eq!(f.find(light).await.location.state(), TaskState::Pending);
    worker.signal(Signal::SIGINT);
    assert!(worker.wait_exit().await.success());
}

#[test]
fn help_shows_the_heavy_defaults() {
    let help = common::help_text(BIN);
    for needle in [
        "worker-heavy",
        "[default: 4]",
        "--scheduler",
        "{class}-{hostname}",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}
