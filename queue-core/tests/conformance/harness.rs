//! Shared set-up for the conformance suite: a queue per "worker" over one bucket, one manual
//! clock for all of them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use queue_core::clock::ManualClock;
use queue_core::task::Class;
use queue_core::{Bucket, EnqueueRequest, Queue, Settings, TaskId};
use serde_json::json;

pub struct World {
    pub bucket: Bucket,
    pub clock: ManualClock,
    pub settings: Settings,
    seed: std::sync::atomic::AtomicU64,
}

impl World {
    pub fn new(bucket: Bucket) -> Self {
        let settings = Settings {
            lease_ttl: Duration::from_secs(60),
            max_clock_skew: Duration::from_secs(10),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(600),
            max_attempts: 3,
            ..Settings::default()
        };
        World {
            bucket,
            clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()),
            settings,
            seed: 1.into(),
        }
    }

    /// A queue handle (one per simulated process), seeded distinctly.
    pub fn queue(&self) -> Queue {
        let seed = self.seed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Queue::new(
            self.bucket.clone(),
            Arc::new(self.clock.clone()),
            self.settings.clone(),
        )
        .with_seed(seed)
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
    }

    pub async fn enqueue(&self, q: &Queue, kind: &str) -> TaskId {
        q.enqueue(EnqueueRequest::new(Class::Light, kind, json!({"n": 1})))
            .await
            .unwrap()
            .id
    }

    pub async fn names(&self, prefix: &str) -> Vec<String> {
        self.bucket
            .list(prefix)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect()
    }
}
