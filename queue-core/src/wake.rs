//! The wake-up signal. Enqueue rewrites `{class}/wake.json` (at most once a second); an idle
//! worker reads it with a GET — a Class B operation, ten times cheaper than listing, and free
//! of the 5,000-a-month Class A allowance — and lists `pending/` only when it changed.

use crate::error::Result;
use crate::names;
use crate::store::Bucket;
use crate::task::Class;

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
}
