//! Operator actions: cancel and replay. Both go through the same create-if-absent commit point
//! as workers, so they race safely with claims and commits.

use super::Queue;
use super::lease::close_attempt;
use crate::error::{Error, ErrorKind, Result};
use crate::inspect::{Found, Location};
use crate::task::{AttemptOutcome, Class, Envelope, TaskId, TaskState};

/// What [`Queue::cancel`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    /// The task was waiting and will not run.
    CancelledPending(Envelope),
    /// The task was running: its worker loses the lease at its next heartbeat and commits
    /// nothing.
    CancelledRunning(Envelope),
}

/// Which failed tasks to replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayFilter {
    /// Only this class (default: both).
    pub class: Option<Class>,
    /// Only this kind (default: any).
    pub kind: Option<String>,
}

impl Queue {
    /// Cancel a pending or running task: it ends in `failed/` with `failure = "cancelled: …"`.
    /// A finished task cannot be cancelled (`InvalidInput`); an unknown id is `NotFound` and
    /// says where it looked.
    pub async fn cancel(&self, id: TaskId, by: &str, reason: &str) -> Result<CancelOutcome> {
        // A claim may win the race against a cancel of a pending task; then cancel it running.
        for _ in 0..3 {
            let found = self.find(id).await?;
            let now = self.now();
            let failure = format!("cancelled by {by}: {reason}");
            let result = match &found.location {
                Location::Pending { name } => {
                    let mut env = found.envelope.clone();
                    env.failure = Some(failure);
                    match self
                        .close(env.class, id, env.epoch, by, env, TaskState::Failed, None)
                        .await
                    {
                        Ok(done) => {
                            self.bucket.delete(name).await?;
                            Ok(CancelOutcome::CancelledPending(done.envelope))
                        }
                        Err(e) => Err(e),
                    }
                }
                Location::Running { epoch, .. } => {
                    let mut env = found.envelope.clone();
                    env.failure = Some(failure);
                    close_attempt(
                        &mut env,
                        *epoch,
                        now,
                        AttemptOutcome::Cancelled,
                        Some(format!("cancelled by {by}")),
                    );
                    self.close(env.class, id, *epoch, by, env, TaskState::Failed, None)
                        .await
                        .map(|done| CancelOutcome::CancelledRunning(done.envelope))
                }
                Location::Terminal { state, .. } => {
                    return Err(Error::invalid(format!(
                        "task already finished: task={id} state={state}; nothing to cancel (use replay to run it again)"
                    )));
                }
            };
            match result {
                Err(e) if e.kind() == ErrorKind::LeaseLost => continue, // it moved; look again
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Conflict,
            format!("task kept changing state while cancelling: task={id}; try again"),
        ))
    }

    /// Run a failed (dead-lettered or cancelled) task again: it goes back to pending with its
    /// attempts counter reset and its history kept.
    pub async fn replay(&self, id: TaskId) -> Result<Envelope> {
        let found = self.find(id).await?;
        let Location::Terminal {
            state: TaskState::Failed,
            name,
        } = &found.location
        else {
            return Err(Error::invalid(format!(
                "only failed tasks can be replayed: task={id} state={}",
                found.location.state()
            )));
        };
        let now = self.now();
        let mut env = found.envelope.clone();
        env.attempt = 0;
        env.failure = None;
        env.labels.insert("replayed_at".into(), now.to_rfc3339());
        // A transition of the lease chain like any other: create record `failed epoch + 1`
        // (closed, next = pending, due now), then write the pending copy at that epoch. The
        // record keeps the old fence from being the chain's head, so a reclaim pass does not
        // "roll forward" the failed/ object this replay removes, and two replays race on one
        // create. A claim compares the copy's epoch with the failed object's to tell this
        // replay from a stale copy.
        let epoch = env.epoch;
        let done = match self
            .close(
                env.class,
                id,
                epoch,
                "replay",
                env,
                TaskState::Pending,
                Some(now),
            )
            .await
        {
            Err(e) if e.kind() == ErrorKind::LeaseLost => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("task is being replayed already: task={id}"),
                ));
            }
            other => other?,
        };
        self.bucket.delete(name).await?;
        Ok(done.envelope)
    }

    /// The failed tasks a replay with `filter` would touch, oldest first.
    pub async fn failed_matching(&self, filter: &ReplayFilter) -> Result<Vec<Envelope>> {
        let mut out = Vec::new();
        for class in Class::ALL {
            if filter.class.is_some_and(|c| c != class) {
                continue;
            }
            for task in crate::inspect::list_tasks(&self.bucket, class, TaskState::Failed).await? {
                if let Some(env) = task.envelope
                    && filter.kind.as_ref().is_none_or(|k| *k == env.kind)
                {
                    out.push(env);
                }
            }
        }
        Ok(out)
    }

    /// Where a task is now.
    pub async fn find(&self, id: TaskId) -> Result<Found> {
        crate::inspect::find_task(&self.bucket, id).await
    }
}
