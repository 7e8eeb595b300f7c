//! A held lease: renew it (heartbeat), then end it with the handler's outcome, or give it back.

use chrono::{DateTime, Utc};

use super::Queue;
use super::record::{LeaseRecord, RecordState};
use crate::error::{Error, Result};
use crate::names;
use crate::retry::{RetryDecision, next_retry_at};
use crate::store::Created;
use crate::task::{AttemptOutcome, Class, Envelope, Outcome, SCHEMA_VERSION, TaskId, TaskState};

/// Proof of holding epoch `epoch` of a task. Small and cloneable: the heartbeat keeps one copy,
/// the code that commits another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The task's class.
    pub class: Class,
    /// The task.
    pub id: TaskId,
    /// The epoch this lease holds.
    pub epoch: u64,
    /// Our nonce in the lease record.
    pub nonce: String,
    /// Who holds it.
    pub worker: String,
    /// When it runs out unless renewed, on this worker's clock.
    pub deadline: DateTime<Utc>,
}

/// How a commit ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Where the task went.
    pub state: TaskState,
    /// For a retry or snooze: when it runs again.
    pub due_at: Option<DateTime<Utc>>,
    /// The envelope as written there.
    pub envelope: Envelope,
}

impl Queue {
    /// Renew the lease (the heartbeat). Fails with `LeaseLost` when the lease ran out on this
    /// worker's clock (it was paused — a sleeping laptop, SIGSTOP — for longer than the TTL) or
    /// when someone ended the epoch (takeover after expiry, or cancel). The caller must then stop
    /// the handler and commit nothing.
    ///
    /// Store operations: one metadata read and one write.
    pub async fn renew(&self, lease: &mut Lease, envelope: &Envelope) -> Result<()> {
        let now = self.now();
        check_deadline(lease, now, "renewal")?;
        let next = names::running(lease.class, lease.id, lease.epoch + 1);
        if self.bucket.exists(&next).await? {
            return Err(Error::lease_lost(format!(
                "lease was ended by someone else (taken over or cancelled): task={} epoch={}",
                lease.id, lease.epoch
            )));
        }
        let expires_at = now + self.ttl();
        let record = LeaseRecord {
            schema: SCHEMA_VERSION,
            epoch: lease.epoch,
            state: RecordState::Leased,
            by: lease.worker.clone(),
            nonce: lease.nonce.clone(),
            at: now,
            expires_at: Some(expires_at),
            next: None,
            envelope: envelope.clone(),
            extra: Default::default(),
        };
        self.bucket
            .put(
                &names::running(lease.class, lease.id, lease.epoch),
                record.to_json(),
            )
            .await?;
        // The write counts only if it landed before the old deadline: a reclaimer that read
        // the old record can take over only after that deadline (plus the skew), so a write
        // that landed later may have come after a takeover (a laptop asleep mid-request).
        check_deadline(lease, self.now(), "the renewal landed")?;
        lease.deadline = expires_at;
        Ok(())
    }

    /// End the lease with the handler's outcome: commit the result, schedule a retry, snooze or
    /// dead-letter. Fails with `LeaseLost` (and changes nothing) if the epoch was ended by
    /// someone else. Exactly one commit per epoch can succeed.
    pub async fn complete(
        &self,
        lease: &Lease,
        envelope: &Envelope,
        outcome: Outcome,
    ) -> Result<Completion> {
        let now = self.now();
        check_deadline(lease, now, "commit")?;
        let mut env = envelope.clone();
        let (attempt_outcome, error, next, due) = match outcome {
            Outcome::Done(result) => {
                env.result = Some(result);
                (AttemptOutcome::Done, None, TaskState::Done, None)
            }
            Outcome::Fail { error } => {
                env.failure = Some(format!("failed: {error}"));
                (AttemptOutcome::Failed, Some(error), TaskState::Failed, None)
            }
            Outcome::Retry { error, after } => {
                match self.with_rng(|rng| next_retry_at(now, &env, &self.settings, rng)) {
                    RetryDecision::DeadLetter => {
                        env.failure = Some(format!(
                            "dead-lettered after {} attempts: {error}",
                            env.attempt
                        ));
                        (AttemptOutcome::Failed, Some(error), TaskState::Failed, None)
                    }
                    RetryDecision::RetryAt(at) => {
                        let at = after
                            .and_then(|d| chrono::Duration::from_std(d).ok())
                            .map_or(at, |d| at.max(now + d));
                        (
                            AttemptOutcome::Retry,
                            Some(error),
                            TaskState::Pending,
                            Some(at),
                        )
                    }
                }
            }
            Outcome::Snooze { after } => {
                env.attempt = env.attempt.saturating_sub(1);
                let at =
                    now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero());
                (AttemptOutcome::Snoozed, None, TaskState::Pending, Some(at))
            }
        };
        close_attempt(&mut env, lease.epoch, now, attempt_outcome, error);
        self.close(
            lease.class,
            lease.id,
            lease.epoch,
            &lease.worker,
            env,
            next,
            due,
        )
        .await
    }

    /// Give the task back without counting the attempt (graceful shutdown): it is due again
    /// at once.
    pub async fn release(&self, lease: &Lease, envelope: &Envelope) -> Result<Completion> {
        let now = self.now();
        check_deadline(lease, now, "release")?;
        let mut env = envelope.clone();
        env.attempt = env.attempt.saturating_sub(1);
        close_attempt(
            &mut env,
            lease.epoch,
            now,
            AttemptOutcome::Released,
            Some("released by the worker at shutdown".into()),
        );
        self.close(
            lease.class,
            lease.id,
            lease.epoch,
            &lease.worker,
            env,
            TaskState::Pending,
            Some(now),
        )
        .await
    }

    /// End epoch `epoch` by creating record `epoch + 1` (closed, saying where the task goes),
    /// then perform the move. The create is the commit point: if it exists already, someone
    /// else ended the epoch and we lose.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn close(
        &self,
        class: Class,
        id: TaskId,
        epoch: u64,
        by: &str,
        mut env: Envelope,
        next: TaskState,
        due: Option<DateTime<Utc>>,
    ) -> Result<Completion> {
        let now = self.now();
        let closing = epoch + 1;
        env.epoch = closing;
        if let Some(due) = due {
            env.due_at = due;
        }
        let nonce = self.nonce();
        let record = LeaseRecord {
            schema: SCHEMA_VERSION,
            epoch: closing,
            state: RecordState::Closed,
            by: by.to_string(),
            nonce: nonce.clone(),
            at: now,
            expires_at: None,
            next: Some(next),
            envelope: env.clone(),
            extra: Default::default(),
        };
        let name = names::running(class, id, closing);
        if self.create_record(&name, &record).await? == Created::AlreadyExists {
            return Err(Error::lease_lost(format!(
                "epoch was already ended by someone else: task={id} epoch={epoch}; nothing committed"
            )));
        }
        if self.superseded(&record).await? {
            // Our create landed on a name the chain had already deleted: this writer stalled
            // between its checks and its write (a laptop asleep mid-request, a client retrying
            // for minutes) while the task was taken over and finished elsewhere. Undo.
            self.bucket.delete(&name).await?;
            return Err(Error::lease_lost(format!(
                "the task finished elsewhere while this commit was in flight: task={id} epoch={epoch}; nothing committed"
            )));
        }
        self.apply(&record).await?;
        Ok(Completion {
            state: next,
            due_at: due,
            envelope: env,
        })
    }

    /// Whether the task already finished by another write than this record's (a terminal
    /// object equal to the record's envelope is this record, rolled forward). Two concurrent
    /// reads (Class B); they keep a stalled writer from committing twice, and since a task id
    /// never leaves done/ or failed/ (a replay is a new task), the terminal object is always
    /// there to be found.
    async fn superseded(&self, record: &LeaseRecord) -> Result<bool> {
        let env = &record.envelope;
        let Some((state, bytes)) = self.terminal_object(env.class, env.id).await? else {
            return Ok(false);
        };
        let ours =
            record.next == Some(state) && Envelope::from_json(&bytes).is_ok_and(|t| t == *env);
        Ok(!ours)
    }

    /// Perform the move a closed record decided: write the envelope to `next`, and for a
    /// terminal state remove the chain's older records. The closing record itself stays as a
    /// fence — a holder cancelled mid-run learns from it that it lost — until a reclaim pass
    /// collects it after `lease_ttl + max_clock_skew`, when that holder's own deadline has
    /// stopped it. Idempotent: the writer and a roll-forward write the same objects.
    pub(crate) async fn apply(&self, record: &LeaseRecord) -> Result<()> {
        let env = &record.envelope;
        let (class, id) = (env.class, env.id);
        match record.next {
            Some(TaskState::Pending) => {
                let pending = names::pending(class, env.due_at, id);
                self.bucket.put(&pending, env.to_json()).await?;
                self.wake(class, &pending).await;
            }
            Some(state @ (TaskState::Done | TaskState::Failed)) => {
                self.bucket
                    .put(&names::terminal(class, state, id), env.to_json())
                    .await?;
                self.delete_chain(class, id, record.epoch - 1).await?;
            }
            Some(TaskState::Running) | None => {
                return Err(Error::internal(format!(
                    "apply on a record that is not closed: task={id}"
                )));
            }
        }
        Ok(())
    }

    /// Remove every record of a task's chain up to `last` (deletes are free on GCS).
    pub(crate) async fn delete_chain(&self, class: Class, id: TaskId, last: u64) -> Result<()> {
        // Newest first: a crash half-way leaves a shorter chain whose head is still the
        // closed record, which a roll-forward finishes.
        for epoch in (1..=last).rev() {
            self.bucket
                .delete(&names::running(class, id, epoch))
                .await?;
        }
        Ok(())
    }
}

/// A lease past its deadline on this worker's clock is lost: the worker was paused (a
/// sleeping laptop, SIGSTOP) or could not renew, and another may have taken over.
fn check_deadline(lease: &Lease, now: DateTime<Utc>, what: &str) -> Result<()> {
    if now >= lease.deadline {
        return Err(Error::lease_lost(format!(
            "lease ran out before {what}: task={} epoch={} deadline={} (the worker was paused or could not renew for longer than lease_ttl)",
            lease.id, lease.epoch, lease.deadline
        )));
    }
    Ok(())
}

/// Close the open attempt of epoch `epoch` (or record one, for a takeover or cancel that
/// finds none open).
pub(crate) fn close_attempt(
    env: &mut Envelope,
    epoch: u64,
    at: DateTime<Utc>,
    outcome: AttemptOutcome,
    error: Option<String>,
) {
    if let Some(a) = env
        .attempts
        .iter_mut()
        .rev()
        .find(|a| a.epoch == epoch && a.outcome.is_none())
    {
        a.ended_at = Some(at);
        a.outcome = Some(outcome);
        a.error = error;
    }
}
