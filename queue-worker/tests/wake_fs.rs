//! Filesystem-event wake-ups on a local-directory store (inotify here): a new pending file
//! wakes the worker, which claims it by name without listing, including when the pending
//! directory did not exist when the worker started.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::wake::{Driver, enqueue};
use queue_core::{Bucket, Class, Queue, Settings, SystemClock};
use queue_worker::wake::fs;

fn local_queue(dir: &std::path::Path) -> Arc<Queue> {
    let bucket = Bucket::local(dir).unwrap();
    Arc::new(Queue::new(
        bucket,
        Arc::new(SystemClock),
        Settings::default(),
    ))
}

fn driver(queue: Arc<Queue>, root: &std::path::Path) -> Driver {
    let (driver, tx) = Driver::new(queue, Class::Heavy);
    fs::spawn(root.to_path_buf(), Class::Heavy, tx, driver.stop.clone());
    driver
}

#[tokio::test]
async fn a_pending_directory_created_after_start_is_watched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("q");
    let queue = local_queue(&root);
    let mut d = driver(queue.clone(), &root);
    d.wait_push(true).await;
    assert!(d.claim_within(Duration::from_millis(200)).await.is_none());
    assert!(
        !root.join("heavy/pending").exists(),
        "no pending directory yet"
    );
    let before = d.discovery.stats();

    let (envelope, _) = enqueue(&queue, Class::Heavy, None).await;
    let task = d
        .claim_within(Duration::from_secs(10))
        .await
        .expect("claimed");
    assert_eq!(task.envelope.id, envelope.id);
    let after = d.discovery.stats();
    assert_eq!(
        after.wake_polls, before.wake_polls,
        "no wake-up reads: {after:?}"
    );
    // Found by its own event, or by the one listing the directory's appearance asks for (the
    // file may be renamed into place before the new directory's watch is set).
    assert!(after.listings <= before.listings + 1, "{after:?}");
}

#[tokio::test]
async fn each_new_pending_file_is_claimed_by_name_without_listing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("q");
    let queue = local_queue(&root);
    // The directory exists before the worker starts, and stays: the local store removes an
    // emptied directory, and a task due next year keeps this one.
    let later = chrono::Utc::now() + chrono::Duration::days(365);
    enqueue(&queue, Class::Heavy, Some(later)).await;
    let (first, _) = enqueue(&queue, Class::Heavy, None).await;
    let mut d = driver(queue.clone(), &root);
    d.wait_push(true).await;
    let task = d
        .claim_within(Duration::from_secs(5))
        .await
        .expect("found at start");
    assert_eq!(task.envelope.id, first.id);
    let listings = d.discovery.stats().listings;

    for _ in 0..3 {
        let (envelope, _) = enqueue(&queue, Class::Heavy, None).await;
        let task = d
            .claim_within(Duration::from_secs(10))
            .await
            .expect("claimed");
        assert_eq!(task.envelope.id, envelope.id);
    }
    let stats = d.discovery.stats();
    assert_eq!(stats.listings, listings, "claimed by name: {stats:?}");
    assert_eq!(stats.claims, 4);
    assert!(stats.notices >= 3, "{stats:?}");
    // tasks of the other class do not wake this worker
    enqueue(&queue, Class::Light, None).await;
    assert!(d.claim_within(Duration::from_millis(500)).await.is_none());
}
