//! The claim loop's shutdown (`Worker::run` with a stop token): handlers that finish within the
//! grace period commit; the rest are stopped and their tasks released back to pending.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use queue_core::task::AttemptOutcome;
use queue_core::{Bucket, Class, EnqueueRequest, SystemClock, TaskState};
use queue_worker::{Discovery, DiscoverySettings, Handlers, Worker};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::{queue, settings, sh_command};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_finishes_what_it_can_within_the_grace_and_releases_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[handlers.quick]\ncommand = {}\n[handlers.stuck]\ncommand = {}\n",
        sh_command(&format!(
            "touch {}/quick; sleep 0.5; echo done",
            dir.path().display()
        )),
        sh_command(&format!("touch {}/stuck; sleep 600", dir.path().display())),
    );
    let handlers = Handlers::parse(&toml, Path::new("/"), Path::new("/t/handlers.toml")).unwrap();
    let q = queue(
        Bucket::memory(),
        Arc::new(SystemClock),
        settings(Duration::from_secs(30)),
    );
    let quick = q
        .enqueue(EnqueueRequest::new(Class::Heavy, "quick", json!({})))
        .await
        .unwrap()
        .id;
    let stuck = q
        .enqueue(EnqueueRequest::new(Class::Heavy, "stuck", json!({})))
        .await
        .unwrap()
        .id;
    let worker = Arc::new(
        Worker::new(q.clone(), Class::Heavy, "heavy-a", handlers)
            .with_concurrency(2)
            .with_exec(queue_worker::exec::ExecSettings {
                kill_grace: Duration::from_millis(200),
                ..Default::default()
            }),
    );
    let discovery = Discovery::new(
        Class::Heavy,
        "heavy-a",
        DiscoverySettings::local(Duration::from_secs(30)),
        &q,
    );
    let stop = CancellationToken::new();
    let run = tokio::spawn(
        worker
            .clone()
            .run(discovery, stop.clone(), Duration::from_secs(3)),
    );

    testkit::process::wait_for("both handlers to start", || {
        (dir.path().join("quick").exists() && dir.path().join("stuck").exists()).then_some(())
    })
    .await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap()
        .unwrap();

    let quick = q.find(quick).await.unwrap();
    assert_eq!(quick.location.state(), TaskState::Done);
    let stuck = q.find(stuck).await.unwrap();
    assert_eq!(stuck.location.state(), TaskState::Pending);
    assert_eq!(stuck.envelope.attempt, 0);
    assert_eq!(
        stuck.envelope.attempts[0].outcome,
        Some(AttemptOutcome::Released)
    );
    assert!(worker.groups().is_empty(), "no handler process is left");
}
