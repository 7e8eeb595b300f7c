//! The protocol. Every transition of a task is decided by one create-if-absent write: the next
//! record of its lease chain, `{class}/running/{id}/{epoch}.json`. Whoever creates epoch `e+1`
//! decides what follows epoch `e` — a claim, a commit, a retry, a cancel or a takeover — and
//! everybody else loses with [`ErrorKind::LeaseLost`] or skips. Because only create-if-absent is
//! needed, the protocol runs unchanged on the local filesystem, which has no compare-and-swap.
//! docs/protocol.md has the state machine and a crash-point table for every step.
//!
//! Files: [`record`] (the chain record), [`enqueue`], [`claim`], [`lease`] (renew, complete,
//! release), [`admin`] (cancel, replay), [`reclaim`] (expired leases, roll-forward), and
//! [`quarantine`].

mod admin;
mod claim;
mod enqueue;
mod lease;
mod quarantine;
mod reclaim;
pub mod record;

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::clock::SharedClock;
use crate::settings::Settings;
use crate::store::Bucket;
use crate::task::{Class, TaskId};

pub use self::admin::{CancelOutcome, ReplayFilter, replay_envelope};
pub use self::claim::{ClaimedTask, PendingScan};
pub use self::enqueue::{EnqueueRequest, Enqueued, MAX_PAYLOAD_BYTES};
pub use self::lease::{Completion, Lease};
pub use self::reclaim::ReclaimReport;

/// The queue over one bucket. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct Queue {
    bucket: Bucket,
    clock: SharedClock,
    settings: Settings,
    rng: Mutex<StdRng>,
    last_wake: Mutex<[Option<DateTime<Utc>>; 2]>,
}

impl Queue {
    /// A queue over `bucket`, with time from `clock`. Randomness (ids, jitter, nonces) is seeded
    /// from the OS; use [`Queue::with_seed`] for reproducible runs.
    pub fn new(bucket: Bucket, clock: SharedClock, settings: Settings) -> Self {
        Queue {
            bucket,
            clock,
            settings,
            rng: Mutex::new(StdRng::from_os_rng()),
            last_wake: Mutex::new([None, None]),
        }
    }

    /// Seed the random number generator (ids, nonces, jitter).
    pub fn with_seed(self, seed: u64) -> Self {
        Queue {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            ..self
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut self.rng.lock().expect("rng lock"))
    }

    pub(crate) fn new_id(&self, at: DateTime<Utc>) -> TaskId {
        self.with_rng(|rng| TaskId::new_at(at, rng))
    }

    pub(crate) fn nonce(&self) -> String {
        self.with_rng(|rng| format!("{:016x}", rand::Rng::random::<u64>(rng)))
    }

    pub(crate) fn ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.lease_ttl).unwrap_or(chrono::Duration::minutes(5))
    }

    pub(crate) fn skew(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.max_clock_skew)
            .unwrap_or(chrono::Duration::minutes(1))
    }

    /// Whether a wake-up write for `class` is due (at most one a second per process: GCS
    /// accepts about one write per second to one object name).
    pub(crate) fn take_wake_slot(&self, class: Class, now: DateTime<Utc>) -> bool {
        let mut last = self.last_wake.lock().expect("wake lock");
        let slot = &mut last[class as usize];
        match *slot {
            Some(t) if now - t < chrono::Duration::seconds(1) && now >= t => false,
            _ => {
                *slot = Some(now);
                true
            }
        }
    }
}
