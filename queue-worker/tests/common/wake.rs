//! A discovery driven step by step with a wake-up source, on real time: what the runner does,
//! with the counts in reach of the test.

use std::sync::Arc;
use std::time::Duration;

use queue_core::{ClaimedTask, Class, EnqueueRequest, Envelope, Queue};
use queue_worker::discovery::{Discovery, DiscoverySettings, Step};
use queue_worker::wake::{WakeRx, WakeTx};
use tokio_util::sync::CancellationToken;

/// Polls fast when no push source is up; with one, waits an hour between safety-net listings
/// (so only a push can find a task within a test).
pub fn push_settings() -> DiscoverySettings {
    DiscoverySettings {
        busy_poll: Duration::from_millis(100),
        idle_poll: Duration::from_millis(500),
        list_every: Duration::from_secs(3600),
        reclaim_every: Duration::from_secs(3600),
    }
}

/// A worker's discovery and its wake-up channel.
pub struct Driver {
    pub queue: Arc<Queue>,
    pub discovery: Discovery,
    pub wakes: WakeRx,
    pub stop: CancellationToken,
}

impl Driver {
    /// A driver for `class` on `queue`; returns it and the sender a source writes to.
    pub fn new(queue: Arc<Queue>, class: Class) -> (Driver, WakeTx) {
        let (tx, wakes) = tokio::sync::mpsc::unbounded_channel();
        let discovery = Discovery::new(class, "w1", push_settings(), &queue);
        let driver = Driver {
            queue,
            discovery,
            wakes,
            stop: CancellationToken::new(),
        };
        (driver, tx)
    }

    fn drain(&mut self) {
        while let Ok(wake) = self.wakes.try_recv() {
            self.discovery.on_wake(wake, self.queue.clock().now());
        }
    }

    /// Wait until the push source is up (`true`) or down (`false`).
    pub async fn wait_push(&mut self, up: bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            self.drain();
            if self.discovery.push() == up {
                return;
            }
            match tokio::time::timeout_at(deadline, self.wakes.recv()).await {
                Ok(Some(wake)) => self.discovery.on_wake(wake, self.queue.clock().now()),
                Ok(None) => panic!("the wake-up source ended"),
                Err(_) => panic!("the push source never became up={up}"),
            }
        }
    }

    /// Step as the runner does (sleeping until the wait ends or a wake-up arrives) until a
    /// task is claimed or `within` has passed.
    pub async fn claim_within(&mut self, within: Duration) -> Option<ClaimedTask> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            self.drain();
            match self.discovery.step(&self.queue).await.expect("step") {
                Step::Claimed(task) => return Some(*task),
                Step::Idle(wait) => {
                    let until = (tokio::time::Instant::now() + wait).min(deadline);
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        Some(wake) = self.wakes.recv() => self.discovery.on_wake(wake, self.queue.clock().now()),
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return None;
                    }
                }
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Enqueue an echo task of `class`; returns the envelope and its pending object's name.
pub async fn enqueue(
    queue: &Queue,
    class: Class,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
) -> (Envelope, String) {
    let mut req = EnqueueRequest::new(class, "echo", serde_json::json!({"n": 1}));
    req.due_at = due_at;
    let done = queue.enqueue(req).await.expect("enqueue");
    let name = queue_core::names::pending(class, done.envelope.due_at, done.id);
    (done.envelope, name)
}
