//! Reclaim: the recovery loop. Takes over leases that expired (their worker died, or slept),
//! and finishes moves whose writer crashed after its commit point ("roll forward").

use super::Queue;
use super::lease::close_attempt;
use super::record::{LeaseRecord, RecordState};
use crate::error::{ErrorKind, Result};
use crate::names;
use crate::retry::{RetryDecision, next_retry_at};
use crate::task::{AttemptOutcome, Class, TaskId, TaskState};

/// What one reclaim pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReclaimReport {
    /// Expired leases taken over (back to pending, or dead-lettered).
    pub expired: Vec<TaskId>,
    /// Moves finished on behalf of a crashed writer.
    pub rolled_forward: Vec<TaskId>,
    /// Malformed objects moved to `invalid/`.
    pub quarantined: usize,
    /// Fence records of finished tasks removed.
    pub collected: usize,
}

impl Queue {
    /// One pass over `{class}/running/`. Store operations: one listing, one read per task in
    /// the chain's head, and writes only for what it fixes.
    ///
    /// A lease counts as expired only when `now > expires_at + max_clock_skew`: the writer's
    /// deadline plus the largest clock difference the protocol tolerates.
    pub async fn reclaim(&self, class: Class, by: &str) -> Result<ReclaimReport> {
        let prefix = names::state_prefix(class, TaskState::Running);
        let listed = self.bucket.list(&prefix).await?;
        let mut report = ReclaimReport::default();
        let mut heads: std::collections::BTreeMap<TaskId, (u64, String)> = Default::default();
        for info in listed {
            match names::parse_running_rest(&info.name[prefix.len()..]) {
                Ok((id, epoch)) => {
                    let head = heads.entry(id).or_insert((0, String::new()));
                    if epoch >= head.0 {
                        *head = (epoch, info.name);
                    }
                }
                Err(e) => {
                    self.quarantine(&info.name, e.message()).await?;
                    report.quarantined += 1;
                }
            }
        }
        for (id, (_, name)) in heads {
            match self.reclaim_one(&name, by).await {
                Ok(Some(Fixed::Expired)) => report.expired.push(id),
                Ok(Some(Fixed::RolledForward)) => report.rolled_forward.push(id),
                Ok(Some(Fixed::Quarantined)) => report.quarantined += 1,
                Ok(Some(Fixed::Collected)) => report.collected += 1,
                Ok(None) => {}
                Err(e) if e.kind() == ErrorKind::LeaseLost => {} // someone else fixed it first
                Err(e) => {
                    tracing::warn!(task = %id, error = %e, "reclaim failed for one task; will retry next pass")
                }
            }
        }
        Ok(report)
    }

    async fn reclaim_one(&self, name: &str, by: &str) -> Result<Option<Fixed>> {
        let Some(object) = self.bucket.get(name).await? else {
            return Ok(None);
        };
        let record = match LeaseRecord::from_json(&object.bytes) {
            Ok(r) => r,
            Err(e) => {
                self.quarantine(name, e.message()).await?;
                return Ok(Some(Fixed::Quarantined));
            }
        };
        let now = self.now();
        match record.state {
            RecordState::Leased => {
                let expires = record.expires_at.unwrap_or(record.at + self.ttl());
                if now <= expires + self.skew() {
                    return Ok(None);
                }
                if self.finished(&record.envelope).await? {
                    // A leftover of a chain that has moved on: a stale claim whose undo was cut
                    // short, or a late renewal that landed after the chain was collected. The
                    // task finished at a later epoch; taking over would run it again.
                    let env = &record.envelope;
                    self.delete_chain(env.class, env.id, record.epoch).await?;
                    return Ok(Some(Fixed::Collected));
                }
                let mut env = record.envelope.clone();
                let error = format!(
                    "lease expired: worker {} stopped renewing (lease ran out at {expires})",
                    record.by
                );
                close_attempt(
                    &mut env,
                    record.epoch,
                    now,
                    AttemptOutcome::Expired,
                    Some(error.clone()),
                );
                let (next, due) =
                    match self.with_rng(|rng| next_retry_at(now, &env, &self.settings, rng)) {
                        RetryDecision::RetryAt(at) => (TaskState::Pending, Some(at)),
                        RetryDecision::DeadLetter => {
                            env.failure = Some(format!(
                                "dead-lettered after {} attempts: {error}",
                                env.attempt
                            ));
                            if let Some(a) = env
                                .attempts
                                .iter_mut()
                                .rev()
                                .find(|a| a.epoch == record.epoch)
                            {
                                a.outcome = Some(AttemptOutcome::Failed);
                            }
                            (TaskState::Failed, None)
                        }
                    };
                tracing::info!(task = %env.id, worker = %record.by, "taking over an expired lease");
                self.close(env.class, env.id, record.epoch, by, env, next, due)
                    .await?;
                Ok(Some(Fixed::Expired))
            }
            RecordState::Closed => {
                // The writer had a whole lease TTL to finish its move; after that it is
                // presumed dead and we finish it. Applying twice writes the same objects.
                if now <= record.at + self.ttl() + self.skew() {
                    return Ok(None);
                }
                let env = &record.envelope;
                match record.next {
                    Some(TaskState::Pending) => {
                        if self
                            .bucket
                            .exists(&names::pending(env.class, env.due_at, env.id))
                            .await?
                        {
                            return Ok(None); // a retry waiting for its due time
                        }
                        if self.finished(env).await? {
                            // a leftover record of a task that finished since: writing its
                            // pending copy again would resurrect a finished task
                            self.delete_chain(env.class, env.id, record.epoch).await?;
                            return Ok(Some(Fixed::Collected));
                        }
                        tracing::info!(task = %env.id, "rolling forward a retry whose writer stopped");
                        self.apply(&record).await?;
                        Ok(Some(Fixed::RolledForward))
                    }
                    Some(state @ (TaskState::Done | TaskState::Failed)) => {
                        // Finished already (this record rolled forward before,
                        // or a stale record whose task finished otherwise): nothing to write.
                        let rolled = if self.finished(env).await? {
                            false
                        } else {
                            tracing::info!(task = %env.id, ?state, "rolling forward a commit whose writer stopped");
                            self.apply(&record).await?;
                            true
                        };
                        // The fence has served: any holder's own deadline has passed by now.
                        // Older records first and the fence last: a pass cut short must leave
                        // the fence as the chain's head. Deleting it first exposed an older
                        // closed record (next = pending) as the head, which a later pass then
                        // "rolled forward" into a pending copy of this finished task.
                        self.delete_chain(env.class, env.id, record.epoch - 1)
                            .await?;
                        self.bucket.delete(name).await?;
                        Ok(rolled
                            .then_some(Fixed::RolledForward)
                            .or(Some(Fixed::Collected)))
                    }
                    _ => Ok(None),
                }
            }
        }
    }
}

enum Fixed {
    Expired,
    RolledForward,
    Quarantined,
    Collected,
}
