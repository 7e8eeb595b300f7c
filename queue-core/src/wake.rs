//! The wake-up signal. Enqueue rewrites `{class}/wake.json` (at most once a second per
//! process, never waiting on it; off with `Settings::wake_writes = false` when a push wake-up
//! is configured); an idle worker reads it with a GET — a Class B operation, ten times cheaper
//! than listing, and free of the 5,000-a-month Class A allowance — and, when it changed,
//! claims the pending objects it names with `Queue::try_claim` before listing `pending/`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::names;
use crate::store::Bucket;
use crate::task::Class;

/// The contents of `{class}/wake.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WakeBody {
    /// Schema version (1).
    pub schema: u32,
    /// The class it wakes.
    pub class: Class,
    /// When it was written (writer's clock).
    pub at: DateTime<Utc>,
    /// Random: makes every write differ, so a poller sees a change.
    pub nonce: String,
    /// The newest pending object names (relative to the bucket): claim them by name.
    #[serde(default)]
    pub pending: Vec<String>,
}

impl WakeBody {
    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("wake body serializes")
    }
}

/// Remembers the last wake-up object seen.
#[derive(Debug, Default, Clone)]
pub struct WakeWatcher {
    last: Option<bytes::Bytes>,
    primed: bool,
}

impl WakeWatcher {
    /// A watcher that reports a change on its first poll (so a starting worker looks once).
    pub fn new() -> Self {
        WakeWatcher::default()
    }

    /// Read the wake-up object; true if it changed since the last poll (or on the first).
    pub async fn poll(&mut self, bucket: &Bucket, class: Class) -> Result<bool> {
        let current = bucket.get(&names::wake(class)).await?.map(|o| o.bytes);
        let changed = !self.primed || current != self.last;
        self.primed = true;
        self.last = current;
        Ok(changed)
    }

    /// The pending names the last wake-up object seen carries (none when it was missing or
    /// unreadable): candidates for [`Queue::try_claim`](crate::Queue::try_claim).
    pub fn pending(&self) -> Vec<String> {
        self.last
            .as_deref()
            .and_then(|b| serde_json::from_slice::<WakeBody>(b).ok())
            .map(|w| w.pending)
            .unwrap_or_default()
    }
}
