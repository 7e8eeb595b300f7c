//! Push wake-ups through the real Pub/Sub emulator: the test publishes notifications exactly
//! as Cloud Storage formats them when it enqueues, and the worker claims the named objects
//! without listing. Skipped, loudly, only where gcloud is not installed.

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::wake::{Driver, enqueue};
use queue_core::{Bucket, Class, Queue, Settings, SystemClock};
use queue_worker::wake::pubsub::{self, PubsubClient, Scope};
use testkit::pubsub::{PubsubEmulator, Subscription};

const BUCKET: &str = "test-bucket";

/// One emulator for the tests that do not stop it.
fn shared() -> Option<&'static PubsubEmulator> {
    static SHARED: OnceLock<Option<PubsubEmulator>> = OnceLock::new();
    SHARED
        .get_or_init(|| PubsubEmulator::start_or_skip("wake_pubsub"))
        .as_ref()
}

fn queue() -> Arc<Queue> {
    let settings = Settings {
        wake_writes: false,
        ..Settings::default()
    };
    Arc::new(Queue::new(
        Bucket::memory(),
        Arc::new(SystemClock),
        settings,
    ))
}

/// A driver whose Pub/Sub source pulls `sub` at `host`.
fn driver(queue: Arc<Queue>, host: &str, sub: &Subscription) -> Driver {
    let (driver, tx) = Driver::new(queue, Class::Heavy);
    let client = PubsubClient::new(&format!("http://{host}"), &sub.name, None).unwrap();
    let scope = Scope {
        bucket: BUCKET.into(),
        prefix: String::new(),
        class: Class::Heavy,
    };
    pubsub::spawn(client, scope, tx, driver.stop.clone());
    driver
}

#[tokio::test]
async fn a_notification_wakes_an_idle_worker_which_claims_the_object_without_listing() {
    let Some(emulator) = shared() else { return };
    let sub = emulator.new_subscription().await;
    let queue = queue();
    let mut d = driver(queue.clone(), &emulator.host(), &sub);
    d.wait_push(true).await;
    assert!(d.claim_within(Duration::from_millis(300)).await.is_none());
    let before = d.discovery.stats();
    assert_eq!(before.listings, 1, "only the start listing: {before:?}");

    let (envelope, name) = enqueue(&queue, Class::Heavy, None).await;
    emulator.publish_finalize(&sub, BUCKET, &name).await;
    let task = d
        .claim_within(Duration::from_secs(30))
        .await
        .expect("claimed");
    assert_eq!(task.envelope.id, envelope.id);
    let after = d.discovery.stats();
    assert_eq!(after.listings, 1, "claimed by name, no listing: {after:?}");
    assert_eq!(after.wake_polls, 0, "no wake-up reads with push: {after:?}");
    assert_eq!(after.notices, 1);
}

#[tokio::test]
async fn duplicate_late_and_already_claimed_notifications_are_harmless_and_acknowledged() {
    let Some(emulator) = shared() else { return };
    let sub = emulator.new_subscription().await;
    let queue = queue();
    let mut d = driver(queue.clone(), &emulator.host(), &sub);
    d.wait_push(true).await;

    // out of order: the newer task's notification first, then the older's, then a duplicate
    let (first, first_name) = enqueue(&queue, Class::Heavy, None).await;
    let (second, second_name) = enqueue(&queue, Class::Heavy, None).await;
    for name in [&second_name, &first_name, &second_name] {
        emulator.publish_finalize(&sub, BUCKET, name).await;
    }
    // a task another worker claimed before its notification arrived
    let (_, taken_name) = enqueue(&queue, Class::Heavy, None).await;
    let taken = queue
        .try_claim(Class::Heavy, "w2", &taken_name)
        .await
        .unwrap();
    assert!(taken.is_some());
    emulator.publish_finalize(&sub, BUCKET, &taken_name).await;

    let mut claimed = Vec::new();
    while let Some(task) = d.claim_within(Duration::from_secs(5)).await {
        claimed.push(task.envelope.id);
    }
    claimed.sort();
    let mut expected = vec![first.id, second.id];
    expected.sort();
    assert_eq!(
        claimed, expected,
        "each task once; the taken one not at all"
    );
    assert_eq!(d.discovery.stats().notices, 4);
    assert_eq!(d.discovery.stats().listings, 1);

    // Every message was acknowledged: none comes back after the 10 s ack deadline.
    d.stop.cancel();
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(emulator.deliverable(&sub).await, 0);
}

#[tokio::test]
async fn a_task_due_later_is_kept_in_a_local_timer_not_relisted() {
    let Some(emulator) = shared() else { return };
    let sub = emulator.new_subscription().await;
    let queue = queue();
    let mut d = driver(queue.clone(), &emulator.host(), &sub);
    d.wait_push(true).await;

    let due = chrono::Utc::now() + chrono::Duration::seconds(3);
    let (envelope, name) = enqueue(&queue, Class::Heavy, Some(due)).await;
    emulator.publish_finalize(&sub, BUCKET, &name).await;
    assert!(
        d.claim_within(Duration::from_secs(2)).await.is_none(),
        "not due yet"
    );
    assert_eq!(d.discovery.stats().notices, 1, "the notice arrived");
    let task = d
        .claim_within(Duration::from_secs(10))
        .await
        .expect("claimed when due");
    assert_eq!(task.envelope.id, envelope.id);
    assert!(chrono::Utc::now() >= due);
    assert_eq!(d.discovery.stats().listings, 1, "the timer, not a listing");
}

#[tokio::test]
async fn with_pubsub_down_at_start_the_worker_polls_then_goes_back_to_push() {
    if PubsubEmulator::gcloud().is_none() {
        eprintln!("*** SKIPPED: gcloud is not on PATH ***");
        return;
    }
    let port = testkit::util::free_port();
    let host = format!("127.0.0.1:{port}");
    let sub = Subscription {
        topic: format!("projects/{}/topics/restart", testkit::pubsub::PROJECT),
        name: format!(
            "projects/{}/subscriptions/restart",
            testkit::pubsub::PROJECT
        ),
    };
    let queue = queue();
    let mut d = driver(queue.clone(), &host, &sub);
    d.wait_push(false).await;

    // Down: the worker lists on every poll (enqueue writes no wake-up object).
    let (polled, _) = enqueue(&queue, Class::Heavy, None).await;
    let task = d
        .claim_within(Duration::from_secs(10))
        .await
        .expect("found by polling");
    assert_eq!(task.envelope.id, polled.id);

    let emulator = PubsubEmulator::start_on(port);
    emulator.create(&sub).await;
    d.wait_push(true).await;
    // back up: one listing for what arrived while it was down
    let listings = d.discovery.stats().listings;
    assert!(d.claim_within(Duration::from_millis(300)).await.is_none());
    assert_eq!(d.discovery.stats().listings, listings + 1);
    let listings = listings + 1;

    let (pushed, name) = enqueue(&queue, Class::Heavy, None).await;
    emulator.publish_finalize(&sub, BUCKET, &name).await;
    let task = d
        .claim_within(Duration::from_secs(30))
        .await
        .expect("claimed by push");
    assert_eq!(task.envelope.id, pushed.id);
    let stats = d.discovery.stats();
    assert_eq!(stats.notices, 1);
    assert_eq!(stats.listings, listings, "claimed by name: {stats:?}");
}
