//! Claim: take the lease on the first due pending task by creating the next record of its
//! lease chain. One listing serves a whole batch of claims.

use super::Queue;
use super::lease::Lease;
use super::record::{LeaseRecord, RecordState};
use crate::error::Result;
use crate::names;
use crate::store::{Created, ObjectInfo};
use crate::task::{Attempt, Class, Envelope, SCHEMA_VERSION, TaskState};

/// What one scan of `{class}/pending/` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingScan {
    /// Due names, oldest first (at most `claim_batch`).
    pub due: Vec<ObjectInfo>,
    /// When the first task not yet due falls due (if the scan reached one).
    pub next_due: Option<chrono::DateTime<chrono::Utc>>,
}

/// A task this worker holds the lease on.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    /// The lease: pass it to renew, complete and release.
    pub lease: Lease,
    /// The envelope as leased (attempt already counted, this attempt open in `attempts`).
    pub envelope: Envelope,
}

impl Queue {
    /// Claim the first due task of `class` for `worker`, or `None` when nothing is due.
    ///
    /// Store operations: one listing of the due head of `{class}/pending/` (stops at the first
    /// name not yet due), then per candidate one read, one create, and two metadata reads.
    pub async fn claim(&self, class: Class, worker: &str) -> Result<Option<ClaimedTask>> {
        let candidates = self.due_candidates(class).await?;
        self.claim_from(class, worker, &candidates).await
    }

    /// The due head of `{class}/pending/`: up to `claim_batch` names, oldest due first.
    /// Workers cache it and claim from it until it runs dry, so a busy worker does not list
    /// once per task.
    pub async fn due_candidates(&self, class: Class) -> Result<Vec<ObjectInfo>> {
        Ok(self.scan_pending(class).await?.due)
    }

    /// One listing of `{class}/pending/` that stops at the first name not yet due: the due
    /// head (up to `claim_batch` names) and when the next waiting task falls due, so a worker
    /// picks up a delayed or backed-off task on time without polling. Names that do not parse
    /// are quarantined.
    pub async fn scan_pending(&self, class: Class) -> Result<PendingScan> {
        let now = self.now();
        let prefix = names::state_prefix(class, TaskState::Pending);
        let limit = self.settings.claim_batch.max(1);
        let mut count = 0;
        let mut next_due = None;
        let mut junk = Vec::new();
        let mut due = self
            .bucket
            .list_until(&prefix, &mut |info: &ObjectInfo| {
                let file = &info.name[prefix.len()..];
                match names::parse_pending_file(file) {
                    Ok(p) if p.due > now => {
                        next_due = Some(p.due);
                        false
                    }
                    Ok(_) => {
                        count += 1;
                        count <= limit
                    }
                    Err(_) => {
                        junk.push(info.name.clone());
                        true
                    }
                }
            })
            .await?;
        due.retain(|info| !junk.contains(&info.name));
        for name in junk {
            let reason = format!("object name is not {{due}}_{{id}}.json: name={name}");
            if let Err(e) = self.quarantine(&name, &reason).await {
                tracing::warn!(error = %e, object = %name, "could not quarantine a malformed pending name");
            }
        }
        Ok(PendingScan { due, next_due })
    }

    /// Claim the first of `candidates` that can still be claimed. Candidates another worker
    /// took are skipped; unparseable ones are quarantined.
    pub async fn claim_from(
        &self,
        class: Class,
        worker: &str,
        candidates: &[ObjectInfo],
    ) -> Result<Option<ClaimedTask>> {
        names::validate_worker_id(worker)?;
        for info in candidates {
            if let Some(task) = self.try_claim(class, worker, &info.name).await? {
                return Ok(Some(task));
            }
        }
        Ok(None)
    }

    /// Claim one pending object by name; `None` if someone else has it (or it is gone).
    pub async fn try_claim(
        &self,
        class: Class,
        worker: &str,
        pending_name: &str,
    ) -> Result<Option<ClaimedTask>> {
        let Some(object) = self.bucket.get(pending_name).await? else {
            return Ok(None); // claimed and removed meanwhile
        };
        let file = pending_name.rsplit('/').next().unwrap_or_default();
        let parsed = names::parse_pending_file(file);
        let envelope = match (Envelope::from_json(&object.bytes), parsed) {
            (Ok(env), Ok(p)) if env.id == p.id && env.class == class => env,
            (Ok(env), Ok(p)) => {
                let reason = format!(
                    "envelope does not match its name: name_id={} envelope_id={} envelope_class={}",
                    p.id, env.id, env.class
                );
                self.quarantine(pending_name, &reason).await?;
                return Ok(None);
            }
            (Err(e), _) => {
                self.quarantine(pending_name, e.message()).await?;
                return Ok(None);
            }
            (Ok(_), Err(e)) => {
                self.quarantine(pending_name, e.message()).await?;
                return Ok(None);
            }
        };
        let now = self.now();
        let epoch = envelope.epoch + 1;
        let nonce = self.nonce();
        let mut leased = envelope.clone();
        leased.epoch = epoch;
        leased.attempt += 1;
        leased.attempts.push(Attempt {
            number: leased.attempt,
            epoch,
            worker: worker.to_string(),
            started_at: now,
            ended_at: None,
            outcome: None,
            error: None,
            extra: Default::default(),
        });
        let expires_at = now + self.ttl();
        let record = LeaseRecord {
            schema: SCHEMA_VERSION,
            epoch,
            state: RecordState::Leased,
            by: worker.to_string(),
            nonce: nonce.clone(),
            at: now,
            expires_at: Some(expires_at),
            next: None,
            envelope: leased.clone(),
            extra: Default::default(),
        };
        let record_name = names::running(class, envelope.id, epoch);
        if self.create_record(&record_name, &record).await? == Created::AlreadyExists {
            // Epoch `epoch` exists already: this pending object is a copy the chain has moved
            // past (its claimer crashed before removing it, or a roll-forward re-wrote it).
            // The chain holds the task, so the copy can go.
            self.bucket.delete(pending_name).await?;
            return Ok(None);
        }
        if self.finished(&envelope).await? {
            // A stale copy of a task that has since finished: undo our lease and drop the copy.
            self.bucket.delete(&record_name).await?;
            self.bucket.delete(pending_name).await?;
            return Ok(None);
        }
        self.bucket.delete(pending_name).await?;
        let lease = Lease {
            class,
            id: envelope.id,
            epoch,
            nonce,
            worker: worker.to_string(),
            deadline: expires_at,
        };
        tracing::debug!(task = %envelope.id, epoch, worker, "claimed");
        Ok(Some(ClaimedTask {
            lease,
            envelope: leased,
        }))
    }

    /// Create a chain record; our own record found after a lost reply counts as created
    /// (recognised by its nonce).
    pub(crate) async fn create_record(&self, name: &str, record: &LeaseRecord) -> Result<Created> {
        self.bucket
            .create_resolved(name, record.to_json(), |bytes| {
                LeaseRecord::from_json(bytes).is_ok_and(|r| r.nonce == record.nonce)
            })
            .await
    }

    /// The task's terminal object, if it has one: `done/{id}` or `failed/{id}`, read
    /// concurrently (one round trip, two Class B reads). A task id that reached either never
    /// runs again (a replay is a new task), so any terminal object means "finished".
    pub(crate) async fn terminal_object(
        &self,
        class: Class,
        id: crate::task::TaskId,
    ) -> Result<Option<(TaskState, bytes::Bytes)>> {
        let (done, failed) = (names::done(class, id), names::failed(class, id));
        let (done, failed) = futures::try_join!(self.bucket.get(&done), self.bucket.get(&failed))?;
        Ok(done
            .map(|o| (TaskState::Done, o.bytes))
            .or(failed.map(|o| (TaskState::Failed, o.bytes))))
    }

    /// Whether the task already reached done/ or failed/: a copy of it, or a record of its
    /// chain, is a leftover that must never run or be rolled forward.
    pub(super) async fn finished(&self, envelope: &Envelope) -> Result<bool> {
        Ok(self
            .terminal_object(envelope.class, envelope.id)
            .await?
            .is_some())
    }
}
