//! Finding work without burning Class A operations.
//!
//! One [`Discovery::step`] decides, from the clock and what it knows, the cheapest thing that
//! can find a task:
//!
//! 1. claim from the names the last listing returned, while any are left;
//! 2. list `{class}/pending/` (Class A) only when there is a reason: at start, right after a
//!    task ended or was claimed (bursts), when a known future task falls due, when the wake-up
//!    object changed, or when the safety-net interval `list_every` ran out;
//! 3. otherwise read `{class}/wake.json` (a GET, Class B), which every enqueue rewrites, and
//!    wait: the wait starts at `busy_poll` after work and doubles up to `idle_poll`.
//!
//! With a push wake-up source up ([`crate::wake`]: Pub/Sub notifications or filesystem events),
//! step 3 goes away and so do the listings after work: each [`Notice`] names a new pending
//! object, which is claimed directly (one read, no listing) — or, when not due yet, kept in a
//! local timer and claimed when it falls due. Its Pub/Sub message is acknowledged once the claim
//! is decided. Listings remain at start, on a resume, when the push source comes back, and as
//! the safety net. When the push source is down and enqueue writes no wake-up object
//! (`Settings::wake_writes` off), each poll lists instead.
//!
//! Reclaim passes (`queue.reclaim`, one Class A listing of `running/`) run at start, one lease
//! TTL (+ skew) later — when leases a crashed predecessor left have expired — every
//! `reclaim_every`, and when a lease this worker lost falls due for takeover.
//!
//! docs/workers.md has the resulting operations per hour.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::wake::WakeWatcher;
use queue_core::{ClaimedTask, Class, Queue};
use serde::{Deserialize, Serialize};

use crate::wake::{Ack, Notice, Wake, WakeRx};

/// Discovery cadence. Costs per idle hour are in docs/workers.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverySettings {
    /// First wake-up poll after work (then doubling).
    pub busy_poll: Duration,
    /// Longest wait between two wake-up polls when idle.
    pub idle_poll: Duration,
    /// List pending at least this often even without a wake-up (safety net).
    pub list_every: Duration,
    /// Look for expired leases this often.
    pub reclaim_every: Duration,
}

impl DiscoverySettings {
    /// For `gs://` and `s3://`: 2 listings + 1 reclaim an idle hour (Class A) and 120 wake-up
    /// reads (Class B). The binaries adjust `list_every` and `reclaim_every` per machine
    /// ([`crate::config::CloudCadence`]).
    pub fn cloud() -> Self {
        DiscoverySettings {
            busy_poll: Duration::from_secs(1),
            idle_poll: Duration::from_secs(30),
            list_every: Duration::from_secs(30 * 60),
            reclaim_every: Duration::from_secs(60 * 60),
        }
    }

    /// For a local directory or memory: operations cost nothing, so poll fast.
    pub fn local(lease_ttl: Duration) -> Self {
        DiscoverySettings {
            busy_poll: Duration::from_millis(200),
            idle_poll: Duration::from_millis(200),
            list_every: Duration::from_secs(5),
            reclaim_every: (lease_ttl / 2)
                .clamp(Duration::from_millis(500), Duration::from_secs(30)),
        }
    }

    /// Check the values make sense together.
    pub fn validated(self) -> Result<Self, String> {
        if self.busy_poll.is_zero() || self.idle_poll.is_zero() {
            return Err("--busy-poll and --idle-poll must be more than 0s".into());
        }
        if self.busy_poll > self.idle_poll {
            return Err(format!(
                "--busy-poll ({}) cannot be longer than --idle-poll ({})",
                humantime::format_duration(self.busy_poll),
                humantime::format_duration(self.idle_poll)
            ));
        }
        if self.list_every.is_zero() || self.reclaim_every.is_zero() {
            return Err("--list-every and --reclaim-every must be more than 0s".into());
        }
        Ok(self)
    }
}

/// What one step found.
#[derive(Debug)]
pub enum Step {
    /// A task, leased to this worker.
    Claimed(Box<ClaimedTask>),
    /// Nothing now; step again after this long (or sooner when a task ends).
    Idle(Duration),
}

/// Store operations a discovery has made, by kind (for tests and docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoveryStats {
    /// Listings of pending (Class A).
    pub listings: u64,
    /// Reads of the wake-up object (Class B).
    pub wake_polls: u64,
    /// Reclaim passes (one Class A listing each, plus repairs).
    pub reclaims: u64,
    /// Tasks claimed.
    pub claims: u64,
    /// Notices received from a push source (duplicates included).
    pub notices: u64,
}

/// The discovery state of one worker.
#[derive(Debug)]
pub struct Discovery {
    class: Class,
    worker: String,
    settings: DiscoverySettings,
    wake: WakeWatcher,
    candidates: VecDeque<String>,
    next_due: Option<DateTime<Utc>>,
    list_at: Option<DateTime<Utc>>,
    last_list: Option<DateTime<Utc>>,
    poll: Duration,
    reclaim_next: DateTime<Utc>,
    reclaim_extra: BTreeSet<DateTime<Utc>>,
    stats: DiscoveryStats,
    push: bool,
    push_lost: bool,
    notified: BTreeMap<String, Vec<Ack>>,
    timers: BTreeSet<(DateTime<Utc>, String)>,
    wakes: Option<WakeRx>,
}

impl Discovery {
    /// A discovery that lists and reclaims at its first step, and reclaims again once leases
    /// left by a crashed predecessor (`lease_ttl + max_clock_skew`) can have expired.
    pub fn new(
        class: Class,
        worker: impl Into<String>,
        settings: DiscoverySettings,
        queue: &Queue,
    ) -> Self {
        let now = queue.clock().now();
        let takeover = to_chrono(queue.settings().lease_ttl + queue.settings().max_clock_skew)
            + chrono::Duration::seconds(1);
        Discovery {
            class,
            worker: worker.into(),
            poll: settings.busy_poll,
            settings,
            wake: WakeWatcher::new(),
            candidates: VecDeque::new(),
            next_due: None,
            list_at: Some(now),
            last_list: None,
            reclaim_next: now,
            reclaim_extra: BTreeSet::from([now + takeover]),
            stats: DiscoveryStats::default(),
            push: false,
            push_lost: false,
            notified: BTreeMap::new(),
            timers: BTreeSet::new(),
            wakes: None,
        }
    }

    /// Listen to a push wake-up source (the runner takes the receiver with [`Self::take_wakes`]).
    pub fn with_wakes(mut self, wakes: WakeRx) -> Self {
        self.wakes = Some(wakes);
        self
    }

    /// The wake-up receiver, for the loop that waits on it.
    pub fn take_wakes(&mut self) -> Option<WakeRx> {
        self.wakes.take()
    }

    /// Operations so far.
    pub fn stats(&self) -> DiscoveryStats {
        self.stats
    }

    /// A task ended: look again at once, and poll fast for a while. With push wake-ups on,
    /// nothing: new tasks announce themselves.
    pub fn worked(&mut self, now: DateTime<Utc>) {
        if self.push {
            return;
        }
        self.list_at = Some(now);
        self.poll = self.settings.busy_poll;
    }

    /// Whether a push source is up (idle steps read no wake-up object).
    pub fn push(&self) -> bool {
        self.push
    }

    /// Take in what a wake-up source said.
    pub fn on_wake(&mut self, wake: Wake, now: DateTime<Utc>) {
        match wake {
            Wake::Up => {
                // Whatever arrived while it was down was announced to nobody. (At start the
                // first listing covers what came before the source was up.)
                if self.push_lost {
                    self.list_at = Some(now);
                }
                self.push = true;
                self.push_lost = false;
            }
            Wake::Down => {
                self.push = false;
                self.push_lost = true;
                self.poll = self.settings.busy_poll;
            }
            Wake::Look => self.list_at = Some(now),
            Wake::Notice(Notice { name, ack }) => {
                self.stats.notices += 1;
                let acks = self.notified.entry(name).or_default();
                acks.extend(ack);
            }
        }
    }

    /// Run a reclaim pass at `at` (a lease this worker lost can be taken over then).
    pub fn reclaim_at(&mut self, at: DateTime<Utc>) {
        self.reclaim_extra.insert(at);
    }

    /// One step: reclaim if due, then claim a task or say how long to wait.
    pub async fn step(&mut self, queue: &Queue) -> queue_core::Result<Step> {
        let now = queue.clock().now();
        self.reclaim_if_due(queue, now).await;
        if let Some(task) = self.claim_notified(queue, now).await? {
            return Ok(Step::Claimed(Box::new(task)));
        }
        let mut listed = false;
        loop {
            while let Some(name) = self.candidates.pop_front() {
                if let Some(task) = queue.try_claim(self.class, &self.worker, &name).await? {
                    self.stats.claims += 1;
                    self.poll = self.settings.busy_poll;
                    if self.candidates.is_empty() && !self.push {
                        // A burst may have more: enqueues within a second share one wake-up.
                        self.list_at = Some(now + to_chrono(self.settings.busy_poll));
                    }
                    return Ok(Step::Claimed(Box::new(task)));
                }
            }
            if listed {
                break;
            }
            // Read the wake-up object before any listing, so a change seen later is newer
            // than the listing.
            let reason = self.list_reason(now);
            let woken = if self.push {
                false
            } else if queue.settings().wake_writes {
                self.stats.wake_polls += 1;
                self.wake.poll(queue.bucket(), self.class).await?
            } else {
                true // no wake-up object to read, and no push: list on each poll
            };
            if reason.is_none() && !woken {
                break;
            }
            let scan = queue.scan_pending(self.class).await?;
            self.stats.listings += 1;
            listed = true;
            tracing::debug!(
                class = %self.class,
                reason = reason.unwrap_or("wake-up"),
                due = scan.due.len(),
                next_due = ?scan.next_due,
                "listed pending"
            );
            self.candidates = scan.due.into_iter().map(|i| i.name).collect();
            // Workers that listed the same due head would all race for its first name; each
            // starts at its own point of the batch instead (every name in it is due).
            let start = spread(&self.worker, self.candidates.len());
            self.candidates.rotate_left(start);
            self.next_due = scan.next_due;
            self.last_list = Some(now);
            self.list_at = None;
        }
        let wait = self.wait_from(now);
        self.poll = (self.poll * 2).min(self.settings.idle_poll);
        Ok(Step::Idle(wait))
    }

    /// Claim the notified names that are due, oldest first; keep the others in timers. Each
    /// name's messages are acknowledged once its claim is decided; on a store error they stay
    /// (the name is tried again at the next step, the message redelivered if we stop).
    async fn claim_notified(
        &mut self,
        queue: &Queue,
        now: DateTime<Utc>,
    ) -> queue_core::Result<Option<ClaimedTask>> {
        while let Some((due, _)) = self.timers.first().cloned() {
            if due > now {
                break;
            }
            let (_, name) = self.timers.pop_first().expect("just seen");
            self.notified.entry(name).or_default();
        }
        while let Some((name, acks)) = self.notified.pop_first() {
            let file = name.rsplit('/').next().unwrap_or_default();
            if let Ok(p) = queue_core::names::parse_pending_file(file)
                && p.due > now
            {
                self.timers.insert((p.due, name));
                acks.into_iter().for_each(Ack::done);
                continue;
            }
            match queue.try_claim(self.class, &self.worker, &name).await {
                Ok(claimed) => {
                    acks.into_iter().for_each(Ack::done);
                    if let Some(task) = claimed {
                        self.stats.claims += 1;
                        return Ok(Some(task));
                    }
                }
                Err(e) => {
                    self.notified.insert(name, acks);
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    /// Why a listing is due now, if it is.
    /// Take the next name of the last listing, for a claim the caller makes itself (the
    /// runner claims in the slot's own task, so one worker's claims overlap instead of
    /// waiting for each other's round trips). The cadence treats it as a claim: when it was
    /// the last name, list again after `busy_poll`.
    pub fn take_candidate(&mut self, now: DateTime<Utc>) -> Option<String> {
        let name = self.candidates.pop_front()?;
        self.poll = self.settings.busy_poll;
        if self.candidates.is_empty() {
            self.list_at = Some(now + to_chrono(self.settings.busy_poll));
        }
        Some(name)
    }

    fn list_reason(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.list_at.is_some_and(|t| t <= now) {
            return Some("after work");
        }
        if self.next_due.is_some_and(|t| t <= now) {
            return Some("a task fell due");
        }
        match self.last_list {
            None => Some("start"),
            Some(t) if t + to_chrono(self.settings.list_every) <= now => Some("safety net"),
            Some(_) => None,
        }
    }

    /// How long to wait: the poll interval, or less when something is due sooner.
    fn wait_from(&self, now: DateTime<Utc>) -> Duration {
        let idle = if self.push {
            self.settings.list_every
        } else {
            self.poll
        };
        let mut until = now + to_chrono(idle);
        let timer = self.timers.first().map(|(t, _)| *t);
        let safety = self
            .last_list
            .map(|t| t + to_chrono(self.settings.list_every));
        let extra = self.reclaim_extra.first().copied();
        for t in [
            self.list_at,
            self.next_due,
            safety,
            Some(self.reclaim_next),
            extra,
            timer,
        ]
        .into_iter()
        .flatten()
        {
            until = until.min(t);
        }
        (until - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_millis(10))
    }

    async fn reclaim_if_due(&mut self, queue: &Queue, now: DateTime<Utc>) {
        let extra_due = self.reclaim_extra.first().is_some_and(|t| *t <= now);
        if self.reclaim_next > now && !extra_due {
            return;
        }
        self.stats.reclaims += 1;
        self.reclaim_next = now + to_chrono(self.settings.reclaim_every);
        self.reclaim_extra.retain(|t| *t > now);
        match queue.reclaim(self.class, &self.worker).await {
            Ok(report) => {
                if !report.expired.is_empty() || !report.rolled_forward.is_empty() {
                    tracing::info!(
                        class = %self.class,
                        expired = report.expired.len(),
                        rolled_forward = report.rolled_forward.len(),
                        "reclaimed tasks of stopped workers"
                    );
                    self.list_at = Some(now);
                }
            }
            // Not fatal: claiming goes on, and the next pass tries again.
            Err(e) => tracing::warn!(class = %self.class, error = %e, "reclaim pass failed"),
        }
    }
}

/// Where in a batch of `len` due names `worker` starts claiming: fixed per worker, spread
/// across workers.
fn spread(worker: &str, len: usize) -> usize {
    use std::hash::{Hash, Hasher};
    if len < 2 {
        return 0;
    }
    let mut h = std::hash::DefaultHasher::new();
    worker.hash(&mut h);
    (h.finish() % len as u64) as usize
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365))
}
