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

async fn heavy_presence(f: &Fixture) -> queue_core::presence::Presence {
    let docs = queue_core::presence::list(f.bucket()).await.unwrap();
    docs.into_iter()
        .find(|d| d.worker_id == "heavy-mac")
        .expect("presence written")
}

/// Poll `check` until it holds (60 s at most: CI machines are busy).
async fn until<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn mac_online(f: &Fixture) -> bool {
    let docs = queue_core::presence::list(f.bucket()).await.unwrap();
    queue_core::presence::any_online(
        &docs,
        Class::Heavy,
        chrono::Utc::now(),
        chrono::Duration::zero(),
    )
}

/// "Is the MacBook online?" is right within seconds of a wake and of a clean stop: presence is
/// written at start, at once after a pause (SIGSTOP/SIGCONT stands in for a laptop's sleep),
/// and with running = false at SIGTERM — with a 10-minute cadence that would not fire by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_tells_the_truth_after_a_pause_and_a_restart() {
    let f = Fixture::new(BIN, "");
    let mut worker = f.start("heavy-mac", &["--presence-every", "10m"], &[]);
    until("presence at start", || mac_online(&f)).await;
    // the presence loop runs once the start-up line is out
    until("the start-up line", || async {
        worker.stderr().contains("started")
    })
    .await;
    let before = heavy_presence(&f).await.last_seen;

    worker.signal(Signal::SIGSTOP);
    tokio::time::sleep(std::time::Duration::from_secs(22)).await;
    worker.signal(Signal::SIGCONT);
    let resumed = std::time::Instant::now();
    until("presence rewritten after the resume", || async {
        heavy_presence(&f).await.last_seen > before
    })
    .await;
    assert!(
        resumed.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        resumed.elapsed()
    );
    assert!(mac_online(&f).await);

    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
    assert!(!mac_online(&f).await, "a clean stop says offline at once");
    assert!(!heavy_presence(&f).await.running);

    let mut again = f.start("heavy-mac", &["--presence-every", "10m"], &[]);
    until("presence after the restart", || mac_online(&f)).await;
    again.signal(Signal::SIGTERM);
    assert!(again.wait_exit().await.success());
}
