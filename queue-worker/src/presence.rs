//! Presence: `workers/{id}.json`, written at start, every `presence_every`, on resume after a
//! pause or sleep, and with `running = false` at a clean shutdown. Each write is one Class A
//! operation, so the cadence is a budget knob (20 minutes on cloud stores). The document
//! promises the next write by `next_heartbeat_by`; readers (ingress, queuectl) treat a worker
//! as offline past it.
//!
//! The loop looks at the wall clock every [`TICK`] (monotonic timers stand still while a
//! laptop sleeps): a gap between two looks longer than [`RESUME_GAP`] means the process was
//! paused or the machine slept, and the presence is rewritten at once — one write per wake,
//! which also restarts the cadence ([`decide`]).
//!
//! Also here: the clock check at start. The worker writes its presence, reads back the store's
//! `last_modified`, and refuses to run when its own clock is off by more than half of
//! `max_clock_skew` — the bound every lease decision relies on (docs/protocol.md).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::presence::{self, Presence};
use queue_core::task::SCHEMA_VERSION;
use queue_core::{Bucket, Class, Clock, TaskId, names};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

/// The tasks a worker runs now (shared by the runner and presence).
#[derive(Debug, Clone, Default)]
pub struct TaskSet(Arc<Mutex<BTreeSet<TaskId>>>);

impl TaskSet {
    /// Add a task.
    pub fn insert(&self, id: TaskId) {
        self.0.lock().expect("task set lock").insert(id);
    }
    /// Remove a task.
    pub fn remove(&self, id: TaskId) {
        self.0.lock().expect("task set lock").remove(&id);
    }
    /// The tasks, sorted.
    pub fn snapshot(&self) -> Vec<TaskId> {
        self.0
            .lock()
            .expect("task set lock")
            .iter()
            .copied()
            .collect()
    }
}

/// Who this worker is, for its presence document.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Worker id.
    pub worker_id: String,
    /// Class served.
    pub class: Class,
    /// Host name.
    pub host: String,
    /// Program version.
    pub version: String,
    /// Tasks at once.
    pub concurrency: usize,
    /// Kinds it has handlers for.
    pub kinds: Vec<String>,
}

/// Writes this worker's presence document.
#[derive(Debug, Clone)]
pub struct PresenceKeeper {
    bucket: Bucket,
    clock: Arc<dyn Clock>,
    identity: Identity,
    started_at: DateTime<Utc>,
    every: Duration,
    tasks: TaskSet,
}

impl PresenceKeeper {
    /// A keeper that writes every `every`.
    pub fn new(
        bucket: Bucket,
        clock: Arc<dyn Clock>,
        identity: Identity,
        every: Duration,
        tasks: TaskSet,
    ) -> Self {
        let started_at = clock.now();
        PresenceKeeper {
            bucket,
            clock,
            identity,
            started_at,
            every,
            tasks,
        }
    }

    /// The document as of `now` (pure).
    pub fn document(&self, now: DateTime<Utc>, running: bool) -> Presence {
        let every = chrono::Duration::from_std(self.every).unwrap_or(chrono::Duration::minutes(20));
        // Promise the next write a little later than planned: a slow store or a busy machine
        // must not make a live worker look offline.
        let slack = (every / 2).min(chrono::Duration::minutes(5));
        let mut extra = Map::new();
        extra.insert("kinds".into(), Value::from(self.identity.kinds.clone()));
        Presence {
            schema: SCHEMA_VERSION,
            worker_id: self.identity.worker_id.clone(),
            class: self.identity.class,
            host: self.identity.host.clone(),
            version: self.identity.version.clone(),
            pid: std::process::id(),
            started_at: self.started_at,
            last_seen: now,
            next_heartbeat_by: now + every + slack,
            current_tasks: self.tasks.snapshot(),
            concurrency: self.identity.concurrency,
            running,
            extra,
        }
    }

    /// Write the document now.
    pub async fn publish(&self, running: bool) -> queue_core::Result<()> {
        presence::publish(&self.bucket, &self.document(self.clock.now(), running)).await
    }

    /// Rewrite the document every `every` (wall clock) and on resume after a pause, until
    /// `stop`; failures are logged and retried at the next tick.
    pub async fn run(self, stop: CancellationToken) {
        let tick = self.every.min(TICK).max(Duration::from_millis(50));
        let mut last_tick = self.clock.now();
        let mut last_write = last_tick;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            let now = self.clock.now();
            let turn = decide(now, last_tick, last_write, self.every, tick);
            last_tick = now;
            let Turn::Write(why) = turn else { continue };
            match self.publish(true).await {
                Ok(()) => {
                    last_write = now;
                    if why == Why::Resumed {
                        tracing::info!("resumed after a pause or sleep; presence rewritten");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not write presence"),
            }
        }
    }

    /// Write the presence document and compare the store's timestamp of it with this
    /// machine's clock. Fails when they differ by more than half of `max_skew`.
    pub async fn publish_and_check_clock(
        &self,
        max_skew: Duration,
    ) -> Result<chrono::Duration, ClockError> {
        let before = self.clock.now();
        self.publish(true).await.map_err(ClockError::Store)?;
        let after = self.clock.now();
        let name = names::worker(&self.identity.worker_id);
        let info = self
            .bucket
            .head(&name)
            .await
            .map_err(ClockError::Store)?
            .ok_or_else(|| {
                ClockError::Store(queue_core::Error::new(
                    queue_core::ErrorKind::Internal,
                    format!("presence object vanished right after it was written: object={name}"),
                ))
            })?;
        check_offset(before, after, info.last_modified, max_skew)
    }
}

/// The longest the presence loop waits between two looks at the wall clock.
pub const TICK: Duration = Duration::from_secs(5);
/// A gap this much longer than a tick between two looks means the process was paused.
pub const RESUME_GAP: Duration = Duration::from_secs(15);

/// Why the presence is written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// `presence_every` has passed since the last write.
    Cadence,
    /// The process was paused or the machine slept since the last look.
    Resumed,
}

/// What the presence loop does at one look at the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Write the presence.
    Write(Why),
    /// Nothing to do.
    Wait,
}

/// Decide at wall-clock `now`, given the previous look and the last successful write (pure).
pub fn decide(
    now: DateTime<Utc>,
    last_tick: DateTime<Utc>,
    last_write: DateTime<Utc>,
    every: Duration,
    tick: Duration,
) -> Turn {
    let d = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    if now - last_tick > d(tick) + d(RESUME_GAP) {
        Turn::Write(Why::Resumed)
    } else if now - last_write >= d(every) || now < last_write {
        Turn::Write(Why::Cadence)
    } else {
        Turn::Wait
    }
}

/// The clock check failed.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// The clock is off.
    #[error(
        "this machine's clock is off by {offset_secs:.1}s from the store's (allowed: {allowed_secs:.1}s, half of --max-clock-skew); fix the clock (NTP) before running a worker: leases rely on it"
    )]
    Skewed {
        /// Store time minus local time, in seconds.
        offset_secs: f64,
        /// The bound, in seconds.
        allowed_secs: f64,
    },
    /// The presence write or read-back failed.
    #[error("cannot check the clock against the store: {0}")]
    Store(queue_core::Error),
}

/// Compare a store timestamp taken between `before` and `after` (local) with the local clock
/// (pure). Returns the offset (store minus local midpoint) when within `max_skew / 2`.
pub fn check_offset(
    before: DateTime<Utc>,
    after: DateTime<Utc>,
    store_time: DateTime<Utc>,
    max_skew: Duration,
) -> Result<chrono::Duration, ClockError> {
    let allowed = chrono::Duration::from_std(max_skew / 2).unwrap_or(chrono::Duration::seconds(30));
    // Inside the write's round trip the store's time is as right as ours.
    let offset = if store_time < before {
        store_time - before
    } else if store_time > after {
        store_time - after
    } else {
        chrono::Duration::zero()
    };
    // Stores that keep whole seconds (S3's Last-Modified) cut up to a second off.
    let offset_abs = offset.abs() - chrono::Duration::seconds(1).min(offset.abs());
    if offset_abs > allowed {
        return Err(ClockError::Skewed {
            offset_secs: offset.num_milliseconds() as f64 / 1000.0,
            allowed_secs: allowed.num_milliseconds() as f64 / 1000.0,
        });
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use queue_core::ManualClock;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn clock_offsets_beyond_half_the_skew_bound_are_refused() {
        let s = chrono::Duration::seconds;
        let skew = Duration::from_secs(60);
        assert!(check_offset(t0(), t0() + s(1), t0(), skew).is_ok());
        assert!(check_offset(t0(), t0() + s(1), t0() + s(25), skew).is_ok());
        let err = check_offset(t0(), t0() + s(1), t0() + s(45), skew).unwrap_err();
        assert!(err.to_string().contains("off by 44.0s"), "{err}");
        assert!(check_offset(t0(), t0() + s(1), t0() - s(40), skew).is_err());
    }

    #[test]
    fn presence_is_rewritten_on_cadence_and_at_once_after_a_pause() {
        let s = chrono::Duration::seconds;
        let every = Duration::from_secs(1200);
        let tick = TICK;
        assert_eq!(decide(t0() + s(5), t0(), t0(), every, tick), Turn::Wait);
        assert_eq!(
            decide(t0() + s(1200), t0() + s(1195), t0(), every, tick),
            Turn::Write(Why::Cadence)
        );
        // a laptop that slept ten minutes: written at the first look after the wake
        assert_eq!(
            decide(t0() + s(605), t0() + s(5), t0(), every, tick),
            Turn::Write(Why::Resumed)
        );
        // a slow tick is not a sleep
        assert_eq!(
            decide(t0() + s(20), t0() + s(5), t0(), every, tick),
            Turn::Wait
        );
        // a clock set back
        assert_eq!(
            decide(t0() - s(60), t0() - s(62), t0(), every, tick),
            Turn::Write(Why::Cadence)
        );
    }

    #[tokio::test]
    async fn presence_says_who_what_and_until_when() {
        let clock = ManualClock::new(t0());
        let tasks = TaskSet::default();
        let keeper = PresenceKeeper::new(
            Bucket::memory(),
            Arc::new(clock.clone()),
            Identity {
                worker_id: "light-vm".into(),
                class: Class::Light,
                host: "vm".into(),
                version: "0.1.0".into(),
                concurrency: 1,
                kinds: vec!["echo".into()],
            },
            Duration::from_secs(1200),
            tasks.clone(),
        );
        clock.advance(chrono::Duration::seconds(10));
        let doc = keeper.document(clock.now(), true);
        assert_eq!(doc.started_at, t0());
        assert_eq!(doc.last_seen, t0() + chrono::Duration::seconds(10));
        assert_eq!(
            doc.next_heartbeat_by,
            doc.last_seen + chrono::Duration::minutes(25)
        );
        assert!(doc.is_online(doc.last_seen, chrono::Duration::zero()));
        assert!(
            !keeper
                .document(clock.now(), false)
                .is_online(clock.now(), chrono::Duration::zero())
        );
        assert_eq!(doc.extra["kinds"], serde_json::json!(["echo"]));

        keeper.publish(true).await.unwrap();
        let docs = presence::list(&keeper.bucket).await.unwrap();
        assert_eq!(docs.len(), 1);
        assert!(docs[0].running);
    }
}
