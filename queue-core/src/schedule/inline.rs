//! Inline schedules: a routine job run by the scheduling worker itself, not as a task.
//!
//! A task costs its writes every run (the key record, the pending object, the wake-up, the
//! lease, the result …); a check every 5 minutes pays them 8,640 times a month. A schedule with
//! `run = "inline"` is run by the scheduler's [`InlineRunner`] (the worker's own handlers and
//! exec path), and leaves in the bucket only:
//!
//! - **one roll-up per schedule per hour** — `rollups/{name}/{YYYYMMDDTHH}.json` (UTC hour),
//!   created if absent at the first slot of the *next* hour: the hour's runs, successes,
//!   failures and last result, and `next_owner`, the scheduler that runs the next hour;
//! - **a failed task per failed run** — an ordinary `failed/` task (keyed by the slot, labelled
//!   `inline = true`), replayable with `queuectl replay`, with the handler's error.
//!
//! **Exactly once per slot without a write per slot.** The roll-up of hour H-1 is also the
//! claim on hour H: the scheduler whose create of it succeeds (or whose id it names as
//! `next_owner`) runs every slot of H; any other scheduler skips them. Slots of one hour are
//! decided by one create, so a 5-minute job costs one Class A write an hour. A scheduler that
//! did not own H-1 waits [`TAKEOVER_AFTER`] into H (reading, Class B) before it creates the
//! roll-up itself, so the owner publishes its counts first. If an hour's owner stops mid-hour
//! (the MacBook sleeps), the rest of that hour is not run by anyone: an inline slot runs **at
//! most** once, and another scheduler takes over at the next hour. Owners are scheduler
//! *instances* (worker id plus start time), so a restarted scheduler waits for the next hour
//! too, rather than risk running a slot its previous life already ran.
//!
//! The decisions are pure ([`plan`], [`after_read`]); [`Scheduler`](super::Scheduler) performs
//! them.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Schedule;
use crate::error::{Error, Result};
use crate::task::{Envelope, SCHEMA_VERSION, TaskId};

/// Where the objects of inline runs live: outside `schedules/`, so the schedulers' listing of
/// definitions does not grow by an object an hour.
pub const ROLLUPS_PREFIX: &str = "rollups/";

/// A scheduler that did not run the previous hour waits this long into an hour before it
/// claims the hour itself (below the scheduler's 5-minute grace, so the slot is still on time).
pub const TAKEOVER_AFTER: Duration = Duration::seconds(60);

/// The largest `last_result` kept in a roll-up, in bytes of JSON; larger results are replaced
/// by a note.
pub const MAX_ROLLUP_RESULT: usize = 2048;

/// How a schedule's slots run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    /// Each slot becomes a task (the default): any worker of the class runs it, with retries.
    #[default]
    Task,
    /// The scheduling worker runs the handler itself; only failures and an hourly roll-up are
    /// written. For frequent, short routine jobs.
    Inline,
}

impl fmt::Display for RunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunMode::Task => "task",
            RunMode::Inline => "inline",
        })
    }
}

impl FromStr for RunMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "task" => Ok(RunMode::Task),
            "inline" => Ok(RunMode::Inline),
            other => Err(Error::invalid(format!(
                "bad run mode: run={other:?} (write \"task\" or \"inline\")"
            ))),
        }
    }
}

/// What an inline run ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum InlineOutcome {
    /// The handler finished; its result.
    Done(Value),
    /// The handler failed (any failure: inline runs are not retried; the failed task is).
    Failed(String),
}

/// Runs a schedule's handler in the scheduler's process (queue-worker implements it with its
/// handlers file and exec path).
#[async_trait]
pub trait InlineRunner: Send + Sync + fmt::Debug {
    /// Whether this process can run the schedule's kind. A scheduler that cannot never claims
    /// the schedule's hours, so one that can does.
    fn can_run(&self, schedule: &Schedule) -> bool;

    /// Run one slot. `envelope` is the task the slot would have been (its id is used only if
    /// the run fails and becomes a failed task).
    async fn run(&self, envelope: &Envelope) -> InlineOutcome;
}

/// The start of the UTC hour a slot falls in.
pub fn hour_of(slot: DateTime<Utc>) -> DateTime<Utc> {
    slot.duration_trunc(Duration::hours(1)).unwrap_or(slot)
}

/// `rollups/{name}/{YYYYMMDDTHH}.json` for the hour starting at `hour`.
pub fn rollup_name(name: &str, hour: DateTime<Utc>) -> String {
    format!("{ROLLUPS_PREFIX}{name}/{}.json", hour.format("%Y%m%dT%H"))
}

/// One hour of an inline schedule, as stored. Also the claim on the next hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    /// Document schema (1).
    pub schema: u32,
    /// The schedule.
    pub schedule: String,
    /// The hour (UTC) the counts are for.
    pub hour: DateTime<Utc>,
    /// The scheduler that ran this hour; `None` when the writer did not (a takeover).
    #[serde(default)]
    pub owner: Option<String>,
    /// Slots run.
    pub runs: u32,
    /// Runs that ended done.
    pub successes: u32,
    /// Runs that failed (each is a failed task).
    pub failures: u32,
    /// The first and last slot run.
    #[serde(default)]
    pub first_slot: Option<DateTime<Utc>>,
    /// The last slot run.
    #[serde(default)]
    pub last_slot: Option<DateTime<Utc>>,
    /// `done` or `failed`.
    #[serde(default)]
    pub last_outcome: Option<String>,
    /// The last successful run's result (at most [`MAX_ROLLUP_RESULT`] bytes of JSON).
    #[serde(default)]
    pub last_result: Option<Value>,
    /// The last failure's error.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The failed tasks of this hour.
    #[serde(default)]
    pub failed_tasks: Vec<TaskId>,
    /// The scheduler that runs the next hour.
    pub next_owner: String,
    /// When it was written.
    pub written_at: DateTime<Utc>,
}

/// What one scheduler ran in an hour it owns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Slots run.
    pub runs: u32,
    /// Done.
    pub successes: u32,
    /// Failed.
    pub failures: u32,
    /// First slot run.
    pub first_slot: Option<DateTime<Utc>>,
    /// Last slot run.
    pub last_slot: Option<DateTime<Utc>>,
    /// The last outcome.
    pub last: Option<InlineOutcome>,
    /// Failed tasks recorded.
    pub failed_tasks: Vec<TaskId>,
}

impl Tally {
    /// Count one run.
    pub fn record(&mut self, slot: DateTime<Utc>, outcome: InlineOutcome, failed: Option<TaskId>) {
        self.runs += 1;
        match &outcome {
            InlineOutcome::Done(_) => self.successes += 1,
            InlineOutcome::Failed(_) => self.failures += 1,
        }
        self.first_slot.get_or_insert(slot);
        self.last_slot = Some(slot);
        self.failed_tasks.extend(failed);
        self.last = Some(outcome);
    }

    /// The roll-up of `hour` with these counts, handing the next hour to `next_owner`.
    pub fn rollup(
        &self,
        schedule: &str,
        hour: DateTime<Utc>,
        owner: Option<&str>,
        next_owner: &str,
        now: DateTime<Utc>,
    ) -> Rollup {
        let (last_outcome, last_result, last_error) = match &self.last {
            None => (None, None, None),
            Some(InlineOutcome::Done(v)) => (Some("done"), Some(capped(v)), None),
            Some(InlineOutcome::Failed(e)) => (Some("failed"), None, Some(e.clone())),
        };
        Rollup {
            schema: 1,
            schedule: schedule.to_string(),
            hour,
            owner: owner.map(str::to_string),
            runs: self.runs,
            successes: self.successes,
            failures: self.failures,
            first_slot: self.first_slot,
            last_slot: self.last_slot,
            last_outcome: last_outcome.map(str::to_string),
            last_result,
            last_error,
            failed_tasks: self.failed_tasks.clone(),
            next_owner: next_owner.to_string(),
            written_at: now,
        }
    }
}

fn capped(v: &Value) -> Value {
    let len = serde_json::to_vec(v).map_or(usize::MAX, |b| b.len());
    if len <= MAX_ROLLUP_RESULT {
        v.clone()
    } else {
        Value::String(format!("(result of {len} bytes not kept in the roll-up)"))
    }
}

/// Who runs an hour, as far as this scheduler knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The hour.
    pub hour: DateTime<Utc>,
    /// Whether this scheduler runs it.
    pub mine: bool,
}

/// The next step for a slot in `hour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// This scheduler owns the hour: run the slot.
    Run,
    /// Another scheduler owns the hour: skip the slot.
    Skip,
    /// This scheduler owned the previous hour: create its roll-up (claiming this one).
    Publish,
    /// Read the previous hour's roll-up to learn the owner. `stale` names an older hour this
    /// scheduler owned whose roll-up is still unwritten (write it first).
    Read {
        /// An older owned hour to publish first.
        stale: Option<DateTime<Utc>>,
    },
}

/// Decide what to do for a slot in `hour`, knowing `known`.
pub fn plan(known: Option<Known>, hour: DateTime<Utc>) -> Plan {
    match known {
        Some(k) if k.hour == hour => {
            if k.mine {
                Plan::Run
            } else {
                Plan::Skip
            }
        }
        Some(k) if k.mine && k.hour + Duration::hours(1) == hour => Plan::Publish,
        Some(k) if k.mine && k.hour < hour => Plan::Read {
            stale: Some(k.hour),
        },
        _ => Plan::Read { stale: None },
    }
}

/// What the previous hour's roll-up (or its absence) says about `hour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The roll-up names the owner.
    Owner {
        /// Whether it is this scheduler.
        mine: bool,
    },
    /// No roll-up yet: its owner may still write it. Ask again at this time.
    Wait(DateTime<Utc>),
    /// No roll-up and the owner had its chance: create it (with no runs) to claim the hour.
    TakeOver,
}

/// Decide from the previous hour's roll-up, read at `now`.
pub fn after_read(
    found: Option<&Rollup>,
    me: &str,
    hour: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Claim {
    match found {
        Some(r) => Claim::Owner {
            mine: r.next_owner == me,
        },
        None if now >= hour + TAKEOVER_AFTER => Claim::TakeOver,
        None => Claim::Wait(hour + TAKEOVER_AFTER),
    }
}

/// The task a slot would have been: what an inline runner gets, and what a failed run
/// records.
pub fn slot_envelope(
    schedule: &Schedule,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
    id: TaskId,
) -> Envelope {
    let labels = [
        ("schedule".to_string(), schedule.name.clone()),
        ("slot".to_string(), super::format_slot(slot)),
        ("inline".to_string(), "true".to_string()),
    ];
    Envelope {
        schema: SCHEMA_VERSION,
        id,
        class: schedule.class,
        kind: schedule.kind.clone(),
        payload: schedule.payload.clone(),
        created_at: now,
        due_at: slot,
        attempt: 1,
        max_attempts: 1,
        epoch: 0,
        idempotency_key: Some(super::slot_key(&schedule.name, slot)),
        source: Some(super::scheduler::slot_source(schedule)),
        attachments: Vec::new(),
        labels: labels.into_iter().collect(),
        attempts: Vec::new(),
        result: None,
        failure: None,
        replay_of: None,
        replayed_as: None,
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn h(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, hour, 0, 0).unwrap()
    }

    fn known(hour: u32, mine: bool) -> Option<Known> {
        Some(Known {
            hour: h(hour),
            mine,
        })
    }

    #[test]
    fn the_plan_follows_what_is_known_of_the_hours() {
        assert_eq!(plan(known(5, true), h(5)), Plan::Run);
        assert_eq!(plan(known(5, false), h(5)), Plan::Skip);
        assert_eq!(plan(known(4, true), h(5)), Plan::Publish);
        assert_eq!(plan(known(2, true), h(5)), Plan::Read { stale: Some(h(2)) });
        assert_eq!(plan(known(4, false), h(5)), Plan::Read { stale: None });
        assert_eq!(plan(None, h(5)), Plan::Read { stale: None });
    }

    #[test]
    fn a_missing_rollup_is_waited_for_then_taken_over() {
        let r = Tally::default().rollup("s", h(4), Some("a"), "a", h(5));
        assert_eq!(
            after_read(Some(&r), "a", h(5), h(5)),
            Claim::Owner { mine: true }
        );
        assert_eq!(
            after_read(Some(&r), "b", h(5), h(5)),
            Claim::Owner { mine: false }
        );
        let early = h(5) + Duration::seconds(10);
        assert_eq!(
            after_read(None, "b", h(5), early),
            Claim::Wait(h(5) + TAKEOVER_AFTER)
        );
        assert_eq!(
            after_read(None, "b", h(5), h(5) + TAKEOVER_AFTER),
            Claim::TakeOver
        );
    }

    #[test]
    fn the_tally_becomes_the_rollup() {
        let mut t = Tally::default();
        let slot = |m| h(5) + Duration::minutes(m);
        t.record(slot(0), InlineOutcome::Done(serde_json::json!(1)), None);
        let id = TaskId::new_at(h(5), &mut rand::rng());
        t.record(slot(5), InlineOutcome::Failed("boom".into()), Some(id));
        t.record(slot(10), InlineOutcome::Done("x".repeat(3000).into()), None);
        let r = t.rollup("sync-check", h(5), Some("a"), "a", h(6));
        assert_eq!((r.runs, r.successes, r.failures), (3, 2, 1));
        assert_eq!((r.first_slot, r.last_slot), (Some(slot(0)), Some(slot(10))));
        assert_eq!(r.failed_tasks, vec![id]);
        assert_eq!(r.last_outcome.as_deref(), Some("done"));
        assert!(
            r.last_result
                .unwrap()
                .as_str()
                .unwrap()
                .contains("not kept")
        );
        assert_eq!(
            rollup_name("sync-check", hour_of(slot(10))),
            "rollups/sync-check/20260601T05.json"
        );
    }

    #[test]
    fn run_modes_parse_and_say_what_is_accepted() {
        assert_eq!("inline".parse::<RunMode>().unwrap(), RunMode::Inline);
        assert_eq!(" Task ".parse::<RunMode>().unwrap(), RunMode::Task);
        let err = "cron".parse::<RunMode>().unwrap_err();
        assert!(err.message().contains("\"task\" or \"inline\""), "{err}");
    }
}
