//! The scheduler loop: enqueue every due slot of every schedule, exactly once across any number
//! of schedulers.
//!
//! A tick ([`Scheduler::run_once`]) decides with [`decide`](super::catchup::decide) and enqueues
//! each chosen slot with its idempotency key — the key, not any coordination between
//! schedulers, is what makes a slot one task. [`Scheduler::run`] sleeps until the next slot.
//!
//! # Cost (GCS operations; see docs/cost.md)
//! - The schedule list is cached. Every `refresh_every` (default 5 minutes) the scheduler reads
//!   `schedules/_changed.json` with one GET (Class B, ~8,600 a month), which every change made
//!   through `ScheduleStore` (queuectl, a worker loading its file) rewrites; only when it
//!   changed — or every `full_refresh_every` (default 24 hours, for edits made with other
//!   tools) — does it LIST `schedules/` (Class A, ~30 a month) and GET the definitions that
//!   changed (by size and modification time). A tick with nothing due touches no store at all.
//! - A fired slot costs the enqueue (key record + pending task + the class's wake-up write)
//!   and, at most every `marker_every` per schedule, a fired-marker write. A second scheduler
//!   firing the same slot costs one failed create and one read.
//! - After a start, or when a tick finds missed slots, the schedule's fired marker is read
//!   (one GET) so a scheduler back from downtime knows where catch-up starts.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::catchup::{Decision, decide};
use super::inline::{InlineOutcome, InlineRunner, Known, Rollup, RunMode, Tally};
use super::store::{ScheduleStore, parse_definition_name};
use super::{Schedule, format_slot, slot_key};
use crate::error::{Error, ErrorKind, Result};
use crate::queue::{EnqueueRequest, Queue};
use crate::settings::humantime_serde_compat;
use crate::task::{Source, TaskId};

/// Scheduler settings: plain data with documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerSettings {
    /// How often the change marker is read (one GET). A schedule added with `queuectl` starts
    /// firing within this time. Default 5 minutes.
    #[serde(with = "humantime_serde_compat")]
    pub refresh_every: StdDuration,
    /// The list is re-read (one LIST) at least this often even when the change marker did
    /// not change, to pick up definitions written by other tools. Default 24 hours.
    #[serde(with = "humantime_serde_compat")]
    pub full_refresh_every: StdDuration,
    /// A due slot no older than this is on time and always enqueued; older ones were missed
    /// and follow the schedule's catch-up policy. Default 5 minutes.
    #[serde(with = "humantime_serde_compat")]
    pub grace: StdDuration,
    /// A schedule's fired marker is written at most this often (and always after a catch-up
    /// or skip). Default 30 minutes.
    #[serde(with = "humantime_serde_compat")]
    pub marker_every: StdDuration,
    /// Longest sleep between ticks in [`Scheduler::run`]. Bounds how late a slot fires after
    /// the machine slept (timers do not count suspended time); idle ticks cost nothing.
    /// Default 30 seconds.
    #[serde(with = "humantime_serde_compat")]
    pub max_sleep: StdDuration,
    /// After a store error, the schedule (or the list refresh) is retried this much later.
    /// Default 30 seconds.
    #[serde(with = "humantime_serde_compat")]
    pub retry_after: StdDuration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            refresh_every: StdDuration::from_secs(300),
            full_refresh_every: StdDuration::from_secs(86_400),
            grace: StdDuration::from_secs(300),
            marker_every: StdDuration::from_secs(1800),
            max_sleep: StdDuration::from_secs(30),
            retry_after: StdDuration::from_secs(30),
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    /// The tick's time (the clock's `now`).
    pub at: DateTime<Utc>,
    /// Whether the schedule list was re-read.
    pub refreshed: bool,
    /// Slots enqueued (or found already enqueued by another scheduler).
    pub fired: Vec<FiredSlot>,
    /// Missed slots dropped by a catch-up policy.
    pub skipped: Vec<SkippedSlots>,
    /// Definitions that could not be read; they are skipped until fixed.
    pub invalid: Vec<InvalidSchedule>,
    /// Store errors; the schedule is retried after `retry_after`.
    pub errors: Vec<ScheduleFailure>,
    /// Slots of inline schedules run by this scheduler.
    pub ran: Vec<InlineRun>,
    /// Roll-ups of inline schedules this scheduler created (each also claims the next hour).
    pub rollups: Vec<Rollup>,
}

impl TickReport {
    /// Slots this tick created (not found already enqueued).
    pub fn created(&self) -> impl Iterator<Item = &FiredSlot> {
        self.fired.iter().filter(|f| f.created)
    }
}

/// One slot handed to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredSlot {
    /// The schedule.
    pub schedule: String,
    /// The slot time.
    pub slot: DateTime<Utc>,
    /// The task (the existing one when `created` is false).
    pub task: TaskId,
    /// False when the slot's key was seen before: another scheduler (or an earlier try) won.
    pub created: bool,
    /// Whether it was a missed slot run by the catch-up policy.
    pub catch_up: bool,
}

/// One slot of an inline schedule run by this scheduler.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineRun {
    /// The schedule.
    pub schedule: String,
    /// The slot time.
    pub slot: DateTime<Utc>,
    /// What the handler ended with.
    pub outcome: InlineOutcome,
    /// The failed task recorded for a failure (`None` for a success, or if recording failed).
    pub failed_task: Option<TaskId>,
}

/// Missed slots a policy dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSlots {
    /// The schedule.
    pub schedule: String,
    /// How many (saturates at [`COUNT_CAP`](super::catchup::COUNT_CAP)).
    pub count: u64,
    /// The latest due slot at the time (where the schedule's cursor moved).
    pub through: DateTime<Utc>,
}

/// A definition that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSchedule {
    /// Its object name.
    pub object: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A store error met while handling a schedule (or, with `schedule: None`, the list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleFailure {
    /// The schedule, or `None` for the list refresh.
    pub schedule: Option<String>,
    /// What to do about it.
    pub kind: ErrorKind,
    /// What happened.
    pub message: String,
}

impl ScheduleFailure {
    pub(super) fn new(schedule: Option<&str>, e: &Error) -> Self {
        ScheduleFailure {
            schedule: schedule.map(str::to_string),
            kind: e.kind(),
            message: e.message().to_string(),
        }
    }
}

/// The scheduler. Share the queue with the worker; run one per process.
#[derive(Debug)]
pub struct Scheduler {
    pub(super) queue: Arc<Queue>,
    pub(super) store: ScheduleStore,
    /// Runs inline schedules, with this scheduler instance's owner id (see [`super::inline`]).
    pub(super) inline: Option<(Arc<dyn InlineRunner>, String)>,
    settings: SchedulerSettings,
    state: tokio::sync::Mutex<State>,
    wakeup: Mutex<Option<DateTime<Utc>>>,
    force_refresh: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// When the change marker is read next; `None` = at the next tick.
    refresh_due: Option<DateTime<Utc>>,
    /// When the list is re-read next even without a change.
    full_refresh_due: Option<DateTime<Utc>>,
    /// The change marker as of the last listing.
    seen_changes: Option<bytes::Bytes>,
    entries: BTreeMap<String, Entry>,
    invalid: BTreeMap<String, Invalid>,
}

/// A definition's version as listed: modification time and size.
type Version = (DateTime<Utc>, u64);

#[derive(Debug)]
pub(super) struct Entry {
    schedule: Schedule,
    version: Version,
    /// Every slot up to here is decided; `None` until the fired marker was read.
    cursor: Option<DateTime<Utc>>,
    /// The first slot after the cursor (`None`: never fires again).
    next: Option<DateTime<Utc>>,
    /// After a store error: not before this.
    retry_at: Option<DateTime<Utc>>,
    /// When this process last wrote the fired marker.
    marker_written: Option<DateTime<Utc>>,
    /// Inline schedules: who runs which hour, as far as this scheduler knows.
    pub(super) known: Option<Known>,
    /// Inline schedules: what this scheduler ran in the hour it owns (`known`, when mine).
    pub(super) tally: Tally,
}

#[derive(Debug)]
struct Invalid {
    version: Version,
    reason: String,
}

impl Scheduler {
    /// A scheduler over the queue's bucket.
    pub fn new(queue: Arc<Queue>, settings: SchedulerSettings) -> Self {
        let store = ScheduleStore::new(queue.bucket().clone());
        Scheduler {
            queue,
            store,
            inline: None,
            settings,
            state: tokio::sync::Mutex::new(State::default()),
            wakeup: Mutex::new(None),
            force_refresh: AtomicBool::new(false),
        }
    }

    /// Run schedules marked `run = "inline"` with `runner`. `owner` names this scheduler
    /// instance in roll-ups (unique per process start: a worker id and its start time) and is
    /// the worker id of the failed tasks it records, so it must be a valid worker id.
    /// Without a runner, inline schedules are left to schedulers that have one.
    pub fn with_inline(
        mut self,
        runner: Arc<dyn InlineRunner>,
        owner: impl Into<String>,
    ) -> Result<Self> {
        let owner = owner.into();
        crate::names::validate_worker_id(&owner)?;
        self.inline = Some((runner, owner));
        Ok(self)
    }

    /// The schedule store it reads.
    pub fn store(&self) -> &ScheduleStore {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &SchedulerSettings {
        &self.settings
    }

    /// Re-read the schedule list at the next tick (e.g. right after loading a schedules file).
    pub fn refresh_soon(&self) {
        self.force_refresh.store(true, Ordering::Relaxed);
        *self.wakeup.lock().expect("wakeup lock") = None;
    }

    /// When the next tick has something to do: the earliest next slot of an enabled schedule,
    /// a retry, or the next list refresh. `None` before the first tick (tick now).
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        *self.wakeup.lock().expect("wakeup lock")
    }

    /// One tick at the clock's `now`: refresh the list if due, then enqueue every due slot.
    /// Unreadable definitions and store errors of one schedule are reported, never fatal;
    /// the only error is a failed first listing (nothing is known yet).
    pub async fn run_once(&self) -> Result<TickReport> {
        let mut state = self.state.lock().await;
        let now = self.queue.clock().now();
        let mut report = TickReport {
            at: now,
            ..TickReport::default()
        };
        let refresh_every = chrono_duration(self.settings.refresh_every);
        let forced = self.force_refresh.swap(false, Ordering::Relaxed);
        let refresh = forced
            || state
                .refresh_due
                .is_none_or(|due| due <= now || due - now > refresh_every);
        if refresh {
            let first = state.refresh_due.is_none();
            match self.refresh_if_changed(&mut state, now, forced).await {
                Ok(()) => {
                    state.refresh_due = Some(now + refresh_every);
                    report.refreshed = true;
                }
                Err(e) if first => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "could not re-read the schedule list; using the cached one");
                    state.refresh_due = Some(now + chrono_duration(self.settings.retry_after));
                    report.errors.push(ScheduleFailure::new(None, &e));
                }
            }
        }
        report.invalid = state
            .invalid
            .iter()
            .map(|(object, i)| InvalidSchedule {
                object: object.clone(),
                reason: i.reason.clone(),
            })
            .collect();

        let names: Vec<String> = state.entries.keys().cloned().collect();
        for name in names {
            let entry = state.entries.get_mut(&name).expect("entry exists");
            self.tick_schedule(entry, now, &mut report).await;
        }

        let wakeup = state
            .entries
            .values()
            .filter(|e| e.schedule.enabled)
            .filter_map(|e| e.retry_at.or(e.next))
            .chain(state.refresh_due)
            .min();
        *self.wakeup.lock().expect("wakeup lock") = wakeup;
        Ok(report)
    }

    /// Loop until `shutdown` completes: tick, then sleep until the next wake-up (at most
    /// `max_sleep`).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let retry = chrono_duration(self.settings.retry_after);
        let max_sleep = chrono_duration(self.settings.max_sleep);
        loop {
            match self.run_once().await {
                Ok(report) => log_report(&report),
                Err(e) => tracing::warn!(error = %e, "scheduler tick failed; retrying"),
            }
            let now = self.queue.clock().now();
            let wake = self.next_wakeup().unwrap_or(now + retry);
            let sleep = (wake - now)
                .clamp(Duration::milliseconds(10), max_sleep)
                .to_std()
                .unwrap_or(self.settings.max_sleep);
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    /// Read the change marker (one GET) and re-read the list only when it changed, when
    /// forced, on the first tick, or when the full refresh is due.
    async fn refresh_if_changed(
        &self,
        state: &mut State,
        now: DateTime<Utc>,
        forced: bool,
    ) -> Result<()> {
        let changes = self.store.changes().await?;
        let must_list = forced
            || state.full_refresh_due.is_none_or(|due| due <= now)
            || changes != state.seen_changes;
        if must_list {
            self.refresh(state).await?;
            state.seen_changes = changes;
            state.full_refresh_due = Some(now + chrono_duration(self.settings.full_refresh_every));
        }
        Ok(())
    }

    /// Re-read the list: one LIST, and a GET for each definition that is new or changed.
    async fn refresh(&self, state: &mut State) -> Result<()> {
        let objects = self.store.list_objects().await?;
        let mut seen = BTreeSet::new();
        for object in objects {
            let Some(name) = parse_definition_name(&object.name) else {
                continue;
            };
            let name = name.to_string();
            let version = (object.last_modified, object.size);
            seen.insert(name.clone());
            if state
                .entries
                .get(&name)
                .is_some_and(|e| e.version == version)
                || state
                    .invalid
                    .get(&object.name)
                    .is_some_and(|i| i.version == version)
            {
                continue;
            }
            match self.store.load(&object).await {
                Ok(Some(schedule)) => {
                    state.invalid.remove(&object.name);
                    let entry = match state.entries.remove(&name) {
                        // Same timing and activation: keep where it left off.
                        Some(old)
                            if old.schedule.same_timing(&schedule)
                                && old.schedule.active_since == schedule.active_since =>
                        {
                            Entry {
                                schedule,
                                version,
                                ..old
                            }
                        }
                        _ => Entry::new(schedule, version),
                    };
                    state.entries.insert(name, entry);
                }
                Ok(None) => {
                    seen.remove(&name);
                }
                Err(e) if e.kind() == ErrorKind::InvalidInput => {
                    tracing::warn!(object = %object.name, reason = %e.message(), "skipping an unreadable schedule; fix or remove it");
                    state.entries.remove(&name);
                    state.invalid.insert(
                        object.name.clone(),
                        Invalid {
                            version,
                            reason: e.message().to_string(),
                        },
                    );
                }
                Err(e) => return Err(e),
            }
        }
        state.entries.retain(|name, _| seen.contains(name));
        state
            .invalid
            .retain(|object, _| parse_definition_name(object).is_some_and(|n| seen.contains(n)));
        Ok(())
    }

    async fn tick_schedule(&self, entry: &mut Entry, now: DateTime<Utc>, report: &mut TickReport) {
        if !entry.schedule.enabled || entry.retry_at.is_some_and(|r| r > now) {
            return;
        }
        if entry.cursor.is_some() && entry.next.is_none_or(|next| next > now) {
            return; // the common case: nothing due, no store operation
        }
        let s = entry.schedule.clone();
        let retry_at = now + chrono_duration(self.settings.retry_after);
        let mut marker_fresh = false;
        if entry.cursor.is_none() {
            match self.store.read_marker(&s.name).await {
                Ok(marker) => {
                    let from_marker = marker.map(|m| m.last_slot);
                    let cursor = from_marker
                        .map_or(s.active_since, |m| m.max(s.active_since))
                        .min(now);
                    entry.cursor = Some(cursor);
                    entry.next = s.next_slot_after(cursor);
                    entry.retry_at = None;
                    marker_fresh = true;
                }
                Err(e) => {
                    report.errors.push(ScheduleFailure::new(Some(&s.name), &e));
                    entry.retry_at = Some(retry_at);
                    return;
                }
            }
        }
        let Some(mut cursor) = entry.cursor else {
            return;
        };
        if entry.next.is_none_or(|next| next > now) {
            return;
        }
        let grace = chrono_duration(self.settings.grace);
        let mut decision = decide(&s.spec, s.tz, s.catch_up, cursor, now, grace);
        if decision.missed_any() && !marker_fresh {
            // Missed slots: this scheduler was away. Another may not have been — ask the
            // marker where things stand before catching up.
            let newer = (self.store.read_marker(&s.name).await.ok().flatten())
                .map(|m| m.last_slot)
                .filter(|&last| last > cursor);
            if let Some(last) = newer {
                cursor = last.min(now);
                decision = decide(&s.spec, s.tz, s.catch_up, cursor, now, grace);
            }
        }
        if s.run == RunMode::Inline {
            if let Err(stopped) = self.run_inline(entry, &s, &decision, report).await {
                if let Some(done) = stopped.done_through {
                    entry.cursor = Some(done);
                    entry.next = s.next_slot_after(done);
                }
                entry.retry_at = Some(stopped.retry_at);
                return;
            }
            self.advance(entry, &decision, cursor, now, report).await;
            return;
        }
        let catch_up_slots: BTreeSet<_> = decision.enqueue[..decision.catch_up]
            .iter()
            .copied()
            .collect();
        for &slot in &decision.enqueue {
            let catch_up = catch_up_slots.contains(&slot);
            match self.queue.enqueue(request(&s, slot, catch_up)).await {
                Ok(done) => report.fired.push(FiredSlot {
                    schedule: s.name.clone(),
                    slot,
                    task: done.id,
                    created: done.created,
                    catch_up,
                }),
                Err(e) => {
                    tracing::warn!(schedule = %s.name, slot = %format_slot(slot), error = %e, "could not enqueue a slot; retrying later");
                    report.errors.push(ScheduleFailure::new(Some(&s.name), &e));
                    // The cursor stays: the next try re-decides, and keys make repeats harmless.
                    entry.retry_at = Some(retry_at);
                    return;
                }
            }
        }
        self.advance(entry, &decision, cursor, now, report).await;
    }

    async fn advance(
        &self,
        entry: &mut Entry,
        decision: &Decision,
        cursor: DateTime<Utc>,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) {
        let name = entry.schedule.name.clone();
        let through = decision.through.unwrap_or(cursor).max(cursor);
        entry.cursor = Some(through);
        entry.next = entry.schedule.next_slot_after(through);
        entry.retry_at = None;
        if decision.skipped > 0 {
            tracing::info!(schedule = %name, count = decision.skipped, through = %format_slot(through), "skipped missed slots (catch_up policy)");
            report.skipped.push(SkippedSlots {
                schedule: name.clone(),
                count: decision.skipped,
                through,
            });
        }
        // Inline schedules keep no marker on the way: their hourly roll-up is their record.
        let marker_due = entry.schedule.run == RunMode::Task
            && entry
                .marker_written
                .is_none_or(|w| now - w >= chrono_duration(self.settings.marker_every));
        if decision.through.is_some() && (marker_due || decision.missed_any()) {
            match self.store.write_marker(&name, through, now).await {
                Ok(()) => entry.marker_written = Some(now),
                Err(e) => {
                    tracing::warn!(schedule = %name, error = %e, "could not write the fired marker; it only saves work, carrying on")
                }
            }
        }
    }
}

impl Entry {
    fn new(schedule: Schedule, version: Version) -> Self {
        Entry {
            schedule,
            version,
            cursor: None,
            next: None,
            retry_at: None,
            marker_written: None,
            known: None,
            tally: Tally::default(),
        }
    }
}

/// The enqueue request of one slot: keyed `sched:{name}:{slot}`, due at the slot.
pub(super) fn request(s: &Schedule, slot: DateTime<Utc>, catch_up: bool) -> EnqueueRequest {
    let req = EnqueueRequest::new(s.class, s.kind.clone(), s.payload.clone())
        .key(slot_key(&s.name, slot))
        .due_at(slot)
        .source(slot_source(s))
        .label("schedule", s.name.clone())
        .label("slot", format_slot(slot));
    if catch_up {
        req.label("catch_up", "true")
    } else {
        req
    }
}

/// Where a slot's task comes from. A schedule made from Telegram remembers its chat, so
/// results go back there.
pub(super) fn slot_source(s: &Schedule) -> Source {
    Source {
        kind: "schedule".to_string(),
        schedule: Some(s.name.clone()),
        chat_id: s.extra.get("chat_id").and_then(serde_json::Value::as_i64),
        ..Source::default()
    }
}

fn log_report(report: &TickReport) {
    for f in &report.fired {
        if f.created {
            tracing::info!(schedule = %f.schedule, slot = %format_slot(f.slot), task = %f.task, catch_up = f.catch_up, "enqueued a scheduled task");
        } else {
            tracing::debug!(schedule = %f.schedule, slot = %format_slot(f.slot), task = %f.task, "slot already enqueued by another scheduler");
        }
    }
}

pub(super) fn chrono_duration(d: StdDuration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}
