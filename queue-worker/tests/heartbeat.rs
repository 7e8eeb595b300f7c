//! The heartbeat on a memory store under paused tokio time: it keeps a long handler's lease,
//! notices a takeover or cancel, and notices a pause (SIGSTOP, a sleeping laptop) that outlived
//! the lease.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use queue_core::{Bucket, Class, EnqueueRequest, ErrorKind, ManualClock, Queue};
use queue_worker::heartbeat;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::{TokioClock, queue, settings};

const TTL: Duration = Duration::from_secs(30);

async fn claimed(q: &Arc<Queue>) -> queue_core::ClaimedTask {
    q.enqueue(EnqueueRequest::new(Class::Heavy, "echo", json!({})))
        .await
        .unwrap();
    q.claim(Class::Heavy, "heavy-a").await.unwrap().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_long_handler_keeps_its_lease() {
    let bucket = Bucket::memory();
    let q = queue(bucket.clone(), Arc::new(TokioClock::new()), settings(TTL));
    let task = claimed(&q).await;
    let start = q.clock().now();
    let on_lost = CancellationToken::new();
    let beat = heartbeat::spawn(q.clone(), task.lease, task.envelope, on_lost.clone());

    tokio::time::sleep(Duration::from_secs(100)).await; // the handler runs for 100 s
    let report = q.reclaim(Class::Heavy, "heavy-b").await.unwrap();
    assert!(
        report.expired.is_empty(),
        "a renewed lease is not taken over"
    );

    let end = beat.stop().await;
    assert!(end.lost.is_none());
    assert!(!on_lost.is_cancelled());
    assert!(end.renewals >= 9, "renewed every ttl/3: {}", end.renewals);
    assert!(end.lease.deadline > start + chrono::Duration::seconds(100));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_while_running_stops_the_handler() {
    let q = queue(Bucket::memory(), Arc::new(TokioClock::new()), settings(TTL));
    let task = claimed(&q).await;
    let id = task.envelope.id;
    let on_lost = CancellationToken::new();
    let beat = heartbeat::spawn(q.clone(), task.lease, task.envelope, on_lost.clone());

    q.cancel(id, "operator", "changed my mind").await.unwrap();
    tokio::time::timeout(TTL, on_lost.cancelled())
        .await
        .expect("the next renewal notices the cancel");
    let end = beat.stop().await;
    assert_eq!(end.lost.unwrap().kind(), ErrorKind::LeaseLost);
}

#[tokio::test(start_paused = true)]
async fn a_pause_longer_than_the_lease_is_noticed_at_the_next_tick() {
    // The wall clock jumps while the monotonic timers stood still: a laptop waking up.
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    let q = queue(Bucket::memory(), Arc::new(clock.clone()), settings(TTL));
    let task = claimed(&q).await;
    let on_lost = CancellationToken::new();
    let beat = heartbeat::spawn(q.clone(), task.lease, task.envelope, on_lost.clone());

    clock.advance(chrono::Duration::minutes(45));
    tokio::time::timeout(heartbeat::MAX_TICK * 2, on_lost.cancelled())
        .await
        .expect("noticed within one tick");
    let end = beat.stop().await;
    let lost = end.lost.unwrap();
    assert_eq!(lost.kind(), ErrorKind::LeaseLost);
    assert!(lost.message().contains("ran out"), "{lost}");
}
