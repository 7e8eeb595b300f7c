//! The scheduler's effects for inline schedules: claim the hour through the roll-ups, run the
//! slot with the [`InlineRunner`](super::InlineRunner), record a failure as a failed task.
//! The decisions are [`super::inline`]'s pure functions.

use chrono::{DateTime, Duration, Utc};

use super::catchup::Decision;
use super::inline::{
    Claim, InlineOutcome, Known, Plan, Tally, after_read, hour_of, plan, slot_envelope,
};
use super::scheduler::{
    Entry, InlineRun, ScheduleFailure, Scheduler, TickReport, chrono_duration, request,
};
use super::{Schedule, format_slot};
use crate::error::{Error, Result};
use crate::names;
use crate::store::Created;
use crate::task::{Outcome, TaskId};

/// Why an inline tick stopped early: try again at `retry_at`; slots up to `done_through`
/// were run (or skipped) and must not be decided again.
pub(super) struct Stopped {
    pub retry_at: DateTime<Utc>,
    pub done_through: Option<DateTime<Utc>>,
}

/// At most this many reads and creates to settle one hour's owner (a create that finds the
/// roll-up written is followed by a read, which names the owner).
const SETTLE_STEPS: usize = 4;

impl Scheduler {
    /// Run (or skip) the decided slots of an inline schedule.
    pub(super) async fn run_inline(
        &self,
        entry: &mut Entry,
        s: &Schedule,
        decision: &Decision,
        report: &mut TickReport,
    ) -> std::result::Result<(), Stopped> {
        let Some((runner, me)) = self.inline.as_ref().filter(|(r, _)| r.can_run(s)) else {
            // Not runnable here: another scheduler claims the hours; nothing is written.
            return Ok(());
        };
        let mut done_through = None;
        for &slot in &decision.enqueue {
            let now = self.queue.clock().now();
            let mine = match self
                .settle_hour(entry, s, me, hour_of(slot), now, report)
                .await
            {
                Ok(Ok(mine)) => mine,
                Ok(Err(wait)) => {
                    return Err(Stopped {
                        retry_at: wait,
                        done_through,
                    });
                }
                Err(e) => {
                    tracing::warn!(schedule = %s.name, slot = %format_slot(slot), error = %e, "could not settle who runs this hour; retrying later");
                    report.errors.push(ScheduleFailure::new(Some(&s.name), &e));
                    return Err(Stopped {
                        retry_at: now + chrono_duration(self.settings().retry_after),
                        done_through,
                    });
                }
            };
            if mine {
                let id = self.queue.new_id(now);
                let outcome = runner.run(&slot_envelope(s, slot, now, id)).await;
                let failed_task = match &outcome {
                    InlineOutcome::Done(_) => None,
                    InlineOutcome::Failed(error) => {
                        tracing::warn!(schedule = %s.name, slot = %format_slot(slot), %error, "inline run failed; recording a failed task");
                        match self.record_failure(s, slot, error, me).await {
                            Ok(id) => Some(id),
                            Err(e) => {
                                tracing::error!(schedule = %s.name, slot = %format_slot(slot), error = %e, "could not record the failed inline run");
                                report.errors.push(ScheduleFailure::new(Some(&s.name), &e));
                                None
                            }
                        }
                    }
                };
                entry.tally.record(slot, outcome.clone(), failed_task);
                report.ran.push(InlineRun {
                    schedule: s.name.clone(),
                    slot,
                    outcome,
                    failed_task,
                });
            }
            done_through = Some(slot);
        }
        Ok(())
    }

    /// Learn (or claim) who runs `hour`. `Ok(Ok(mine))` when settled, `Ok(Err(at))` to wait
    /// for the previous owner until `at`.
    async fn settle_hour(
        &self,
        entry: &mut Entry,
        s: &Schedule,
        me: &str,
        hour: DateTime<Utc>,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<std::result::Result<bool, DateTime<Utc>>> {
        let previous = hour - Duration::hours(1);
        for _ in 0..SETTLE_STEPS {
            match plan(entry.known, hour) {
                Plan::Run => return Ok(Ok(true)),
                Plan::Skip => return Ok(Ok(false)),
                Plan::Publish => {
                    let rollup = entry.tally.rollup(&s.name, previous, Some(me), me, now);
                    if self.publish(entry, rollup, hour, report).await? {
                        continue;
                    }
                }
                Plan::Read { stale } => {
                    if let Some(old) = stale {
                        // An hour this scheduler ran whose successor had no slot: its counts.
                        let rollup = entry.tally.rollup(&s.name, old, Some(me), me, now);
                        self.publish(entry, rollup, old + Duration::hours(1), report)
                            .await?;
                        entry.known = None;
                    }
                }
            }
            let found = self.store.read_rollup(&s.name, previous).await?;
            match after_read(found.as_ref(), me, hour, now) {
                Claim::Owner { mine } => self.learn(entry, hour, mine),
                Claim::Wait(at) => return Ok(Err(at)),
                Claim::TakeOver => {
                    let rollup = Tally::default().rollup(&s.name, previous, None, me, now);
                    self.publish(entry, rollup, hour, report).await?;
                }
            }
        }
        Err(Error::internal(format!(
            "could not settle the owner of an inline hour: schedule={} hour={}",
            s.name,
            format_slot(hour)
        )))
    }

    /// Create a roll-up, which claims `claims` for this scheduler. True when created (the
    /// hour is ours); false when it existed (read it to learn the owner).
    async fn publish(
        &self,
        entry: &mut Entry,
        rollup: super::inline::Rollup,
        claims: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<bool> {
        match self.store.create_rollup(&rollup).await? {
            Created::Created => {
                tracing::info!(schedule = %rollup.schedule, hour = %format_slot(rollup.hour), runs = rollup.runs, failures = rollup.failures, "wrote an inline roll-up (and claimed the next hour)");
                report.rollups.push(rollup);
                self.learn(entry, claims, true);
                Ok(true)
            }
            Created::AlreadyExists => {
                // Written by another scheduler, or by an earlier try of ours whose reply was
                // lost: the read that follows tells which.
                entry.known = None;
                Ok(false)
            }
        }
    }

    fn learn(&self, entry: &mut Entry, hour: DateTime<Utc>, mine: bool) {
        if entry.known != Some(Known { hour, mine }) {
            entry.tally = Tally::default();
        }
        entry.known = Some(Known { hour, mine });
    }

    /// Record a failed inline run as an ordinary failed task (keyed by the slot, so it is
    /// recorded once): enqueue it due in an hour, claim it at once and fail it with the error.
    /// Should this process die in between, a worker runs the slot as a task an hour later.
    async fn record_failure(
        &self,
        s: &Schedule,
        slot: DateTime<Utc>,
        error: &str,
        worker: &str,
    ) -> Result<TaskId> {
        let now = self.queue.clock().now();
        let req = request(s, slot, false)
            .due_at(now + Duration::hours(1))
            .max_attempts(1)
            .label("inline", "true");
        let enqueued = self.queue.enqueue(req).await?;
        if !enqueued.created {
            return Ok(enqueued.id);
        }
        let pending = names::pending(s.class, enqueued.envelope.due_at, enqueued.id);
        if let Some(claimed) = self.queue.try_claim(s.class, worker, &pending).await? {
            let outcome = Outcome::Fail {
                error: error.to_string(),
            };
            self.queue
                .complete(&claimed.lease, &claimed.envelope, outcome)
                .await?;
        }
        Ok(enqueued.id)
    }
}
