//! The real worker-heavy binary on a gs:// store (testkit's GCS test double) with push wake-ups
//! from the real Pub/Sub emulator: the MacBook asleep while tasks arrive.
//!
//! The pause is 20 s, not the 30 s of issue 13, to keep CI fast: anything past the resume
//! detector's threshold (tick 5 s + slack 10 s) exercises the same path.

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use queue_core::store::{StoreEnv, StoreUrl};
use queue_core::{Class, EnqueueRequest, Queue, Settings, SystemClock, names};
use testkit::gcs::GcsTestServer;
use testkit::process::{Proc, wait_for};
use testkit::pubsub::PubsubEmulator;

const BIN: &str = env!("CARGO_BIN_EXE_worker-heavy");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_while_notifications_pile_up_runs_them_all_when_it_continues() {
    let Some(emulator) = PubsubEmulator::start_or_skip("worker-heavy wake") else {
        return;
    };
    let sub = emulator.new_subscription().await;
    let gcs = GcsTestServer::start().await;
    let bucket_name = gcs.new_bucket();
    let env = StoreEnv {
        vars: gcs.store_env().into_iter().collect(),
    };
    let bucket = StoreUrl::parse(&format!("gs://{bucket_name}"))
        .unwrap()
        .build(&env)
        .unwrap();
    let settings = Settings {
        wake_writes: false,
        ..Settings::default()
    };
    let queue = Arc::new(Queue::new(bucket.clone(), Arc::new(SystemClock), settings));

    let dir = tempfile::tempdir().unwrap();
    let mut envs = gcs.store_env();
    envs.push(("PUBSUB_EMULATOR_HOST".into(), emulator.host()));
    envs.push(("RUST_LOG".into(), "info".into()));
    let worker = Proc::spawn(
        BIN,
        [
            "--store",
            &format!("gs://{bucket_name}"),
            "--wake",
            &format!("pubsub:{}", sub.name),
            "--worker-id",
            "heavy-mac",
            "--log-format",
            "json",
        ],
        envs,
        dir.path(),
        "heavy",
    );
    wait_for("push wake-ups are on", || {
        worker.stderr().contains("push wake-ups on").then_some(())
    })
    .await;

    worker.signal(Signal::SIGSTOP);
    let mut ids = Vec::new();
    for n in 0..5 {
        let req = EnqueueRequest::new(Class::Heavy, "echo", serde_json::json!({ "n": n }));
        let done = queue.enqueue(req).await.unwrap();
        let name = names::pending(Class::Heavy, done.envelope.due_at, done.id);
        emulator.publish_finalize(&sub, &bucket_name, &name).await;
        ids.push(done.id);
    }
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(
        !gcs.object_names(&bucket_name)
            .iter()
            .any(|n| n.starts_with("heavy/done/")),
        "nothing ran while stopped"
    );
    worker.signal(Signal::SIGCONT);

    wait_for("every task is done", || {
        let objects = gcs.object_names(&bucket_name);
        ids.iter()
            .all(|id| objects.contains(&names::done(Class::Heavy, *id)))
            .then_some(())
    })
    .await;
    assert!(
        worker.stderr().contains("resumed after a pause or sleep"),
        "{}",
        worker.stderr()
    );
    let mut worker = worker;
    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}
