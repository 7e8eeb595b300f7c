//! Helpers shared by queue-worker's tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use queue_core::{Bucket, Clock, Queue, Settings};

/// Wall time that moves with tokio's clock, so `tokio::time::pause()` moves both: the
/// worker's sleeps and its decisions stay in step in a simulated hour that takes milliseconds.
#[derive(Debug)]
pub struct TokioClock {
    wall0: DateTime<Utc>,
    t0: tokio::time::Instant,
}

impl TokioClock {
    /// Starts at 2026-03-01 09:00 UTC.
    pub fn new() -> Self {
        TokioClock {
            wall0: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
            t0: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.wall0 + chrono::Duration::from_std(self.t0.elapsed()).unwrap()
    }
}

/// Settings with a short lease, for tests.
pub fn settings(lease_ttl: Duration) -> Settings {
    Settings {
        lease_ttl,
        max_clock_skew: Duration::from_secs(1),
        backoff_base: Duration::from_millis(100),
        ..Settings::default()
    }
}

/// A queue over `bucket` with `clock`.
pub fn queue(bucket: Bucket, clock: Arc<dyn Clock>, settings: Settings) -> Arc<Queue> {
    Arc::new(Queue::new(bucket, clock, settings).with_seed(7))
}

/// `sh -c SCRIPT` as a TOML argv.
pub fn sh_command(script: &str) -> String {
    format!("[\"sh\", \"-c\", {}]", toml_string(script))
}

/// A TOML basic string.
pub fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

pub mod wake;
