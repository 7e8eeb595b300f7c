//! Discovery: what an idle worker costs, and that it still finds work — woken, due later, or
//! behind junk. Simulated hours run under paused tokio time with a clock that follows it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use queue_core::presence;
use queue_core::schedule::SchedulerSettings;
use queue_core::store::counting::{CountingStore, OpCounts};
use queue_core::{Bucket, Class, Clock, EnqueueRequest, ManualClock, TaskState, names};
use queue_worker::config::IDLE_CLASS_A_BUDGET;
use queue_worker::presence::{Identity, PresenceKeeper};
use queue_worker::{Defaults, Discovery, DiscoverySettings, Handlers, Step, TaskEnd, Worker};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::{TokioClock, queue, settings};

const TTL: Duration = Duration::from_secs(300);

/// Run a worker built like the binary with `defaults` on a cloud store for a simulated idle
/// hour (after ten minutes of start-up) and count the store operations of that hour.
async fn idle_hour(defaults: Defaults) -> OpCounts {
    idle_hour_with(defaults, false).await
}

/// [`idle_hour`], with a push wake-up source up when `push` (as `--wake pubsub:…` sets it up:
/// no wake-up writes, hourly safety net).
async fn idle_hour_with(defaults: Defaults, push: bool) -> OpCounts {
    let memory = Bucket::memory();
    let counting = Arc::new(CountingStore::new(memory.object_store().clone()));
    let bucket = memory.with_object_store(counting.clone());
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let mut s = settings(TTL);
    s.max_clock_skew = Duration::from_secs(60);
    s.wake_writes = !push;
    let q = queue(bucket.clone(), clock.clone(), s);
    let id = format!("{}-host", defaults.class);
    let worker = Worker::new(
        q.clone(),
        defaults.class,
        id.clone(),
        Handlers::builtin_only(),
    );
    let keeper = PresenceKeeper::new(
        bucket.clone(),
        clock.clone(),
        Identity {
            worker_id: id.clone(),
            class: defaults.class,
            host: "host".into(),
            version: "test".into(),
            concurrency: defaults.concurrency,
            kinds: vec!["echo".into()],
        },
        defaults.cloud.presence_every,
        worker.tasks(),
    );
    let stop = CancellationToken::new();
    keeper.publish(true).await.unwrap();
    let presence = tokio::spawn(keeper.clone().run(stop.clone()));
    let scheduler = defaults.scheduler.then(|| {
        let settings = SchedulerSettings {
            refresh_every: defaults.cloud.schedule_refresh,
            ..SchedulerSettings::default()
        };
        queue_worker::scheduler::spawn(q.clone(), settings, stop.clone())
    });
    let list_every = if push {
        queue_worker::config::PUSH_LIST_EVERY
    } else {
        defaults.cloud.list_every
    };
    let (wake_tx, wakes) = tokio::sync::mpsc::unbounded_channel();
    if push {
        wake_tx.send(queue_worker::wake::Wake::Up).unwrap();
    }
    let discovery = Discovery::new(
        defaults.class,
        id,
        DiscoverySettings {
            list_every,
            reclaim_every: defaults.cloud.reclaim_every,
            ..DiscoverySettings::cloud()
        },
        &q,
    )
    .with_wakes(wakes);
    let run = tokio::spawn(Arc::new(worker).run(discovery, stop.clone(), Duration::from_secs(1)));

    // Let start-up costs (first listing, reclaim at start and after one TTL) pass, then
    // count a whole idle hour.
    tokio::time::sleep(Duration::from_secs(10 * 60)).await;
    counting.reset();
    tokio::time::sleep(Duration::from_secs(60 * 60)).await;
    let hour = counting.snapshot();
    eprintln!("{} idle hour: {hour:?}", defaults.binary);
    assert!(
        presence::list(&memory).await.unwrap()[0].is_online(clock.now(), chrono::Duration::zero())
    );
    stop.cancel();
    run.await.unwrap();
    drop(wake_tx);
    presence.await.unwrap();
    if let Some(scheduler) = scheduler {
        scheduler.await.unwrap();
    }
    hour
}

#[tokio::test(start_paused = true)]
async fn an_idle_worker_heavy_spends_at_most_six_class_a_an_hour() {
    let hour = idle_hour(Defaults::heavy()).await;
    assert!(hour.class_a <= u64::from(IDLE_CLASS_A_BUDGET), "{hour:?}");
    assert!(
        hour.class_a >= 5,
        "presence, safety net and reclaim still happen: {hour:?}"
    );
    assert!(
        hour.class_b <= 130,
        "about one wake-up read per 30 s: {hour:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_worker_heavy_with_push_wake_ups_reads_nothing_and_lists_once_an_hour() {
    let hour = idle_hour_with(Defaults::heavy(), true).await;
    let lists = hour
        .by_op
        .get(&queue_core::store::counting::CountedOp::List)
        .copied()
        .unwrap_or(0);
    assert_eq!(hour.class_b, 0, "no wake-up reads: {hour:?}");
    assert!(
        lists <= 2,
        "one safety-net listing and one reclaim: {hour:?}"
    );
    assert!(hour.class_a <= 5, "{hour:?}");
}

#[tokio::test(start_paused = true)]
async fn an_idle_worker_light_with_its_scheduler_spends_at_most_six_class_a_an_hour() {
    let hour = idle_hour(Defaults::light()).await;
    assert!(hour.class_a <= u64::from(IDLE_CLASS_A_BUDGET), "{hour:?}");
    assert!(
        hour.by_op
            .get(&queue_core::store::counting::CountedOp::List)
            .copied()
            .unwrap_or(0)
            <= 2,
        "one safety-net and one reclaim listing; the scheduler lists nothing while schedules are unchanged: {hour:?}"
    );
    assert!(
        hour.class_b <= 145,
        "about one wake-up read per 30 s and one schedule-change read per 5 min: {hour:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_enqueue_wakes_an_idle_worker_without_a_listing_per_poll() {
    let memory = Bucket::memory();
    let counting = Arc::new(CountingStore::new(memory.object_store().clone()));
    let bucket = memory.with_object_store(counting.clone());
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let q = queue(bucket.clone(), clock.clone(), settings(TTL));
    let mut discovery = Discovery::new(Class::Light, "light-vm", DiscoverySettings::cloud(), &q);

    // idle for 10 minutes, stepping as the runner would
    let until = clock.now() + chrono::Duration::minutes(10);
    while clock.now() < until {
        match discovery.step(&q).await.unwrap() {
            Step::Idle(wait) => tokio::time::sleep(wait).await,
            Step::Claimed(task) => panic!("nothing was enqueued: {task:?}"),
        }
    }
    let idle = discovery.stats();
    assert!(idle.listings <= 2, "{idle:?}");
    assert!(idle.wake_polls >= 20, "{idle:?}");

    // another process enqueues: the next wake-up poll sees it, one listing finds it
    let producer = queue(bucket.clone(), clock.clone(), settings(TTL));
    let id = producer
        .enqueue(EnqueueRequest::new(Class::Light, "echo", json!({})))
        .await
        .unwrap()
        .id;
    let enqueued_at = clock.now();
    let task = loop {
        match discovery.step(&q).await.unwrap() {
            Step::Idle(wait) => tokio::time::sleep(wait).await,
            Step::Claimed(task) => break task,
        }
    };
    assert_eq!(task.envelope.id, id);
    assert!(
        clock.now() - enqueued_at <= chrono::Duration::seconds(30),
        "within one idle poll"
    );
    assert_eq!(discovery.stats().listings, idle.listings + 1);
}

#[tokio::test]
async fn a_task_due_later_is_claimed_when_due_without_a_wake_up() {
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    let q = queue(Bucket::memory(), Arc::new(clock.clone()), settings(TTL));
    let due = clock.now() + chrono::Duration::minutes(10);
    q.enqueue(EnqueueRequest::new(Class::Light, "echo", json!({})).due_at(due))
        .await
        .unwrap();
    let mut discovery = Discovery::new(Class::Light, "light-vm", DiscoverySettings::cloud(), &q);
    let mut steps = 0;
    let task = loop {
        steps += 1;
        match discovery.step(&q).await.unwrap() {
            Step::Idle(wait) => clock.advance(chrono::Duration::from_std(wait).unwrap()),
            Step::Claimed(task) => break task,
        }
    };
    assert_eq!(clock.now(), due, "claimed exactly when due");
    assert!(
        steps < 40,
        "waits are long while idle, not a busy loop: {steps}"
    );
    assert_eq!(task.envelope.due_at, due);
}

#[tokio::test]
async fn junk_in_pending_is_quarantined_and_the_worker_carries_on() {
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    let bucket = Bucket::memory();
    let q = queue(bucket.clone(), Arc::new(clock.clone()), settings(TTL));
    bucket
        .put("light/pending/junk.json", b"{".to_vec())
        .await
        .unwrap();
    let fake_id = "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f".parse().unwrap();
    let bad_body = names::pending(
        Class::Light,
        clock.now() - chrono::Duration::seconds(5),
        fake_id,
    );
    bucket.put(&bad_body, b"not json".to_vec()).await.unwrap();
    let id = q
        .enqueue(EnqueueRequest::new(Class::Light, "echo", json!({})))
        .await
        .unwrap()
        .id;
    let worker = Worker::new(
        q.clone(),
        Class::Light,
        "light-vm",
        Handlers::builtin_only(),
    );
    let mut discovery = Discovery::new(Class::Light, "light-vm", DiscoverySettings::local(TTL), &q);
    let Step::Claimed(task) = discovery.step(&q).await.unwrap() else {
        panic!("the good task is claimed past the junk");
    };
    assert_eq!(task.envelope.id, id);
    let report = worker.run_claimed(*task, &CancellationToken::new()).await;
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Done
        }
    );
    let invalid: Vec<String> = bucket
        .list(names::INVALID_PREFIX)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert!(
        invalid.iter().any(|n| n.contains("junk.json")),
        "{invalid:?}"
    );
    assert!(
        invalid.iter().any(|n| n.contains(&fake_id.to_string())),
        "{invalid:?}"
    );
    assert!(bucket.list("light/pending/").await.unwrap().is_empty());
}
