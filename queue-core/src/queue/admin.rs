//! Operator actions: cancel and replay. Both go through the same create-if-absent commit point
//! as workers, so they race safely with claims and commits.

use chrono::{DateTime, Utc};

use super::Queue;
use super::lease::close_attempt;
use crate::error::{Error, ErrorKind, Result};
use crate::inspect::{Found, Location};
use crate::names;
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

/// The task that replays `failed`: a new id derived from the failed one and its epoch, due at
/// the failure time (so at once, and the same name for every replay of this failure), attempts
/// counter reset, history kept. The idempotency key stays with the failed task (one task per
/// key; the replay is linked by `replay_of`). Pure: the replay transition as data.
pub fn replay_envelope(failed: &Envelope, now: DateTime<Utc>) -> Envelope {
    let at = failed
        .attempts
        .iter()
        .rev()
        .find_map(|a| a.ended_at)
        .unwrap_or(failed.due_at);
    let mut env = failed.clone();
    env.id = TaskId::replay_of(failed.id, failed.epoch, at);
    env.created_at = now;
    env.due_at = at;
    env.attempt = 0;
    env.epoch = 0;
    env.failure = None;
    env.result = None;
    env.idempotency_key = None;
    env.replay_of = Some(failed.id);
    env.replayed_as = None;
    env.labels.insert("replayed_at".into(), now.to_rfc3339());
    env
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

    /// Run a failed (dead-lettered or cancelled) task again, as a **new task**: a task id never
    /// runs again once it reached `failed/`, so a claim or commit of the old id that lands late
    /// (a laptop waking mid-request) always finds the terminal object and loses. The new task
    /// has a fresh attempts counter, the old history, `replay_of` = the old id, and an id
    /// derived from the old id and its failed epoch ([`TaskId::replay_of`]), so replaying the
    /// same failure twice (a retry after a lost reply, two operators) names the same task and
    /// its pending create dedupes. `failed/{id}` stays, rewritten once with `replayed_as`;
    /// nothing is deleted, so no retried delete can remove a newer object.
    ///
    /// Store operations: the look-up of [`Queue::find`], one create (the pending task), one
    /// write (`replayed_as`) and the wake-up write.
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
        let failed = found.envelope;
        if let Some(new) = failed.replayed_as {
            return Err(Error::invalid(format!(
                "task was replayed already: task={id} replayed_as={new} (replay that task if it failed too)"
            )));
        }
        let env = replay_envelope(&failed, self.now());
        // AlreadyExists: an earlier try of this replay (or a concurrent one) wrote this task.
        let pending = names::pending(env.class, env.due_at, env.id);
        let bytes = env.to_json();
        self.bucket
            .create_resolved(&pending, bytes.clone(), |b| b == bytes.as_slice())
            .await?;
        let mut marked = failed;
        marked.replayed_as = Some(env.id);
        self.bucket.put(name, marked.to_json()).await?;
        self.wake(env.class, &pending).await;
        Ok(env)
    }

    /// The failed tasks a replay with `filter` would touch (not replayed yet), oldest first.
    pub async fn failed_matching(&self, filter: &ReplayFilter) -> Result<Vec<Envelope>> {
        let mut out = Vec::new();
        for class in Class::ALL {
            if filter.class.is_some_and(|c| c != class) {
                continue;
            }
            for task in crate::inspect::list_tasks(&self.bucket, class, TaskState::Failed).await? {
                if let Some(env) = task.envelope
                    && env.replayed_as.is_none()
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::task::{Attempt, SCHEMA_VERSION};

    fn failed(epoch: u64) -> Envelope {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let json = serde_json::json!({
            "schema": SCHEMA_VERSION, "id": "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
            "class": "light", "kind": "echo", "created_at": at, "due_at": at,
            "attempt": 3, "max_attempts": 3, "epoch": epoch, "idempotency_key": "tg-1",
            "failure": "dead-lettered", "attempts": [],
        });
        let mut env: Envelope = serde_json::from_value(json).unwrap();
        env.attempts.push(Attempt {
            number: 3,
            epoch: epoch - 1,
            worker: "w".into(),
            started_at: at,
            ended_at: Some(at + chrono::Duration::seconds(30)),
            outcome: Some(crate::task::AttemptOutcome::Failed),
            error: Some("boom".into()),
            extra: Default::default(),
        });
        env
    }

    #[test]
    fn a_replay_is_a_new_task_named_by_the_failure() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let old = failed(6);
        let a = replay_envelope(&old, now);
        let b = replay_envelope(&old, now + chrono::Duration::hours(1));
        assert_eq!(
            a.id, b.id,
            "every replay of one failure names the same task"
        );
        assert_eq!(a.due_at, b.due_at, "and the same pending object");
        assert_ne!(a.id, old.id);
        assert_ne!(
            replay_envelope(&failed(8), now).id,
            a.id,
            "another failure, another task"
        );
        assert_eq!(a.id.as_uuid().get_version_num(), 7);
        assert_eq!(a.replay_of, Some(old.id));
        assert_eq!((a.attempt, a.epoch), (0, 0));
        assert_eq!(a.failure, None);
        assert_eq!(
            a.idempotency_key, None,
            "the key stays with the failed task"
        );
        assert_eq!(a.attempts, old.attempts, "history kept");
        assert_eq!(a.due_at, old.attempts[0].ended_at.unwrap(), "due at once");
    }
}
