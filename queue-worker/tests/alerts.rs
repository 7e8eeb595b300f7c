//! Operator alerts reach the (fake) Bot API: a dead-lettered routine job with `/retry ID`, a
//! handler's drift findings, a silent VM — each at most once per hour.

mod common;

use std::sync::Arc;
use std::time::Duration;

use queue_core::presence::{self, Presence};
use queue_core::task::Source;
use queue_core::{Bucket, Class, Clock, EnqueueRequest, SystemClock, TaskState};
use queue_worker::alerts::{self, Alerter};
use queue_worker::notify::{Notifier, TelegramNotifier};
use queue_worker::{Handlers, TaskEnd, Worker};
use serde_json::json;
use testkit::telegram::FakeBotApi;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "123456:SECRET-TOKEN";
const ADMIN: i64 = -1001;

async fn alerter(bot: &FakeBotApi) -> Arc<Alerter> {
    let notifier: Arc<dyn Notifier> =
        Arc::new(TelegramNotifier::new(TOKEN, Some(bot.url())).unwrap());
    Arc::new(Alerter::new(notifier, ADMIN, Arc::new(SystemClock)))
}

/// A worker whose `routine` handler runs `script`; keep the directory while it runs.
fn routine_worker(
    bucket: Bucket,
    alerter: Arc<Alerter>,
    script: &str,
) -> (Worker, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("handlers.toml");
    std::fs::write(
        &file,
        format!(
            "[handlers.routine]\ncommand = {}\nmax_attempts = 1\n",
            common::sh_command(script)
        ),
    )
    .unwrap();
    let handlers = Handlers::load(&file).unwrap();
    let q = common::queue(
        bucket,
        Arc::new(SystemClock),
        common::settings(Duration::from_secs(30)),
    );
    let worker = Worker::new(q, Class::Light, "light-vm", handlers).with_alerter(Some(alerter));
    (worker, dir)
}

async fn enqueue_routine(worker: &Worker) -> queue_core::TaskId {
    let source = Source {
        kind: "schedule".into(),
        schedule: Some("content-ideation".into()),
        ..Default::default()
    };
    worker
        .queue()
        .enqueue(EnqueueRequest::new(Class::Light, "routine", json!({})).source(source))
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_dead_lettered_routine_job_alerts_once_with_its_retry_command() {
    let bot = FakeBotApi::start().await;
    let (worker, _dir) = routine_worker(
        Bucket::memory(),
        alerter(&bot).await,
        "echo boom >&2; exit 1",
    );
    let first = enqueue_routine(&worker).await;
    let report = worker.run_once().await.unwrap().unwrap();
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Failed
        }
    );
    bot.wait_for_calls("sendMessage", 1).await;
    let sent = bot.messages_to(ADMIN);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(&format!("/retry {first}")), "{}", sent[0]);
    assert!(sent[0].contains("boom"), "{}", sent[0]);
    assert!(sent[0].contains("content-ideation"), "{}", sent[0]);

    // the same schedule failing again within the hour: no second alert
    enqueue_routine(&worker).await;
    worker.run_once().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.messages_to(ADMIN).len(), 1);
}

#[tokio::test]
async fn drift_findings_of_a_handler_go_to_the_admin_chat() {
    let bot = FakeBotApi::start().await;
    let findings = r#"{"in_sync": false, "alerts": [{"cause": "stuck", "text": "lease expired"}, {"cause": "quarantined", "text": "2 objects in invalid/"}]}"#;
    let (worker, _dir) = routine_worker(
        Bucket::memory(),
        alerter(&bot).await,
        &format!("cat >/dev/null; echo '{findings}'"),
    );
    enqueue_routine(&worker).await;
    worker.run_once().await.unwrap().unwrap();
    bot.wait_for_calls("sendMessage", 2).await;
    let sent = bot.messages_to(ADMIN);
    assert!(sent[0].contains("lease expired"), "{sent:?}");
    assert!(sent[1].contains("2 objects in invalid/"), "{sent:?}");
    // five minutes later the same drift: suppressed
    enqueue_routine(&worker).await;
    worker.run_once().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.messages_to(ADMIN).len(), 2);
}

#[tokio::test]
async fn a_silent_vm_is_reported_by_the_watching_worker_once() {
    let bot = FakeBotApi::start().await;
    let bucket = Bucket::memory();
    let now = SystemClock.now();
    let doc = |id: &str, class: Class, silent_for: i64| -> Presence {
        let last = now - chrono::Duration::minutes(silent_for);
        serde_json::from_value(json!({
            "schema": 1, "worker_id": id, "class": class, "host": "vm", "version": "0",
            "pid": 1, "started_at": last, "last_seen": last,
            "next_heartbeat_by": last + chrono::Duration::minutes(35),
            "current_tasks": [], "concurrency": 1, "running": true,
        }))
        .unwrap()
    };
    presence::publish(&bucket, &doc("light-vm", Class::Light, 71))
        .await
        .unwrap();
    presence::publish(&bucket, &doc("light-fresh", Class::Light, 10))
        .await
        .unwrap();
    presence::publish(&bucket, &doc("heavy-asleep", Class::Heavy, 600))
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let watch = tokio::spawn(alerts::watch(
        bucket,
        alerter(&bot).await,
        "heavy-mac".into(),
        Duration::from_millis(50),
        stop.clone(),
    ));
    bot.wait_for_calls("sendMessage", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // several more looks
    stop.cancel();
    watch.await.unwrap();
    let sent = bot.messages_to(ADMIN);
    assert_eq!(sent.len(), 1, "one alert per hour: {sent:?}");
    assert!(sent[0].contains("light-vm"), "{}", sent[0]);
    assert!(sent[0].contains("71분"), "{}", sent[0]);
}
