//! Enqueue: write the envelope to `{class}/pending/`, once per idempotency key, forever.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Queue;
use crate::error::{Error, Result};
use crate::names;
use crate::store::Created;
use crate::task::{Attachment, Class, Envelope, SCHEMA_VERSION, Source, TaskId};

/// Largest payload accepted, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// What to enqueue. Build with [`EnqueueRequest::new`] and the builder methods.
#[derive(Debug, Clone, PartialEq)]
pub struct EnqueueRequest {
    /// Which workers serve it.
    pub class: Class,
    /// The handler.
    pub kind: String,
    /// Handler input.
    pub payload: Value,
    /// Not before this time (default: now).
    pub due_at: Option<DateTime<Utc>>,
    /// Idempotency key: the same key (per class) creates one task, forever.
    pub key: Option<String>,
    /// Attempts before dead-lettering (default: the queue's setting).
    pub max_attempts: Option<u32>,
    /// Origin and reply target.
    pub source: Option<Source>,
    /// Files that came with it.
    pub attachments: Vec<Attachment>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

impl EnqueueRequest {
    /// A task of `kind` for `class` with `payload`.
    pub fn new(class: Class, kind: impl Into<String>, payload: Value) -> Self {
        EnqueueRequest {
            class,
            kind: kind.into(),
            payload,
            due_at: None,
            key: None,
            max_attempts: None,
            source: None,
            attachments: Vec::new(),
            labels: BTreeMap::new(),
        }
    }

    /// Set the idempotency key.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Run no sooner than `due`.
    pub fn due_at(mut self, due: DateTime<Utc>) -> Self {
        self.due_at = Some(due);
        self
    }

    /// Attempts before dead-lettering.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    /// Origin and reply target.
    pub fn source(mut self, source: Source) -> Self {
        self.source = Some(source);
        self
    }

    /// Add an attachment.
    pub fn attachment(mut self, a: Attachment) -> Self {
        self.attachments.push(a);
        self
    }

    /// Add a label.
    pub fn label(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }

    fn validate(&self) -> Result<()> {
        if !names::is_valid_kind(&self.kind) {
            return Err(Error::invalid(format!(
                "bad kind: kind={:?} (use 1-64 letters, digits, '.', '_' or '-')",
                self.kind
            )));
        }
        if let Some(due) = self.due_at
            && !(0..=9999).contains(&chrono::Datelike::year(&due))
        {
            // pending names carry the due time as `%Y…`: a fifth digit or a sign would make a
            // name that no claim parses, and the accepted task would be quarantined
            return Err(Error::invalid(format!(
                "due time out of range: due_at={due} (years 0000-9999)"
            )));
        }
        if self.max_attempts == Some(0) {
            return Err(Error::invalid("bad max_attempts: 0 (must be at least 1)"));
        }
        if let Some(key) = &self.key
            && (key.is_empty() || key.len() > 512)
        {
            return Err(Error::invalid("bad idempotency key: must be 1-512 bytes"));
        }
        let size = serde_json::to_vec(&self.payload)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_PAYLOAD_BYTES {
            return Err(Error::invalid(format!(
                "payload too large: bytes={size} max={MAX_PAYLOAD_BYTES} (store big inputs as attachments)"
            )));
        }
        Ok(())
    }
}

/// The answer of [`Queue::enqueue`].
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued {
    /// The task's id (the existing task's, when the key was seen before).
    pub id: TaskId,
    /// False when the idempotency key was seen before and nothing new was created.
    pub created: bool,
    /// The envelope as first enqueued.
    pub envelope: Envelope,
}

/// `keys/{class}/{key}.json`: the first enqueue with a key wins and records its task.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRecord {
    schema: u32,
    key: String,
    task_id: TaskId,
    created_at: DateTime<Utc>,
    envelope: Envelope,
}

impl Queue {
    /// Enqueue a task. With a key, a second enqueue (even years later, even concurrent) returns
    /// the first task's id with `created: false`.
    ///
    /// Store operations: one write (two with a key), plus the class's wake-up write at most
    /// once a second.
    pub async fn enqueue(&self, req: EnqueueRequest) -> Result<Enqueued> {
        req.validate()?;
        let now = self.now();
        let id = self.new_id(now);
        let envelope = Envelope {
            schema: SCHEMA_VERSION,
            id,
            class: req.class,
            kind: req.kind,
            payload: req.payload,
            created_at: now,
            due_at: req.due_at.unwrap_or(now),
            attempt: 0,
            max_attempts: req.max_attempts.unwrap_or(self.settings.max_attempts),
            epoch: 0,
            idempotency_key: req.key.clone(),
            source: req.source,
            attachments: req.attachments,
            labels: req.labels,
            attempts: Vec::new(),
            result: None,
            failure: None,
            replay_of: None,
            replayed_as: None,
            extra: Default::default(),
        };
        if let Some(key) = &req.key {
            let record = KeyRecord {
                schema: 1,
                key: key.clone(),
                task_id: id,
                created_at: now,
                envelope: envelope.clone(),
            };
            let name = names::idempotency(envelope.class, key);
            let bytes = serde_json::to_vec_pretty(&record)?;
            let ours = bytes.clone();
            let created = self
                .bucket
                .create_resolved(&name, bytes, |b| b == ours.as_slice())
                .await?;
            if created == Created::AlreadyExists {
                return self.enqueue_existing(&name).await;
            }
        }
        let pending = self.write_pending(&envelope).await?;
        self.wake(envelope.class, &pending).await;
        Ok(Enqueued {
            id,
            created: true,
            envelope,
        })
    }

    async fn write_pending(&self, envelope: &Envelope) -> Result<String> {
        let name = names::pending(envelope.class, envelope.due_at, envelope.id);
        // AlreadyExists can only be an earlier try of this same write (ids are unique); a
        // lost reply is settled by reading the object back.
        let bytes = envelope.to_json();
        self.bucket
            .create_resolved(&name, bytes.clone(), |b| b == bytes.as_slice())
            .await?;
        Ok(name)
    }

    /// The key was seen before. Make sure its task exists (the first enqueuer may have crashed
    /// between the key record and the pending write), then answer with it.
    async fn enqueue_existing(&self, key_name: &str) -> Result<Enqueued> {
        let object = self.bucket.get(key_name).await?.ok_or_else(|| {
            Error::internal(format!("idempotency record vanished: object={key_name}"))
        })?;
        let record: KeyRecord = serde_json::from_slice(&object.bytes).map_err(|e| {
            Error::internal(format!(
                "unreadable idempotency record: object={key_name} ({e})"
            ))
        })?;
        let env = record.envelope;
        if !self.task_exists(&env).await? {
            tracing::warn!(task = %env.id, key = %record.key, "idempotency record without its task: writing the task now");
            let pending = self.write_pending(&env).await?;
            self.wake(env.class, &pending).await;
        }
        Ok(Enqueued {
            id: record.task_id,
            created: false,
            envelope: env,
        })
    }

    /// Whether the task of a key record exists in any state. The cheap looks first: where the
    /// first enqueuer wrote it, its lease chain, its done/failed object. Checked in the order a
    /// task moves, so a task moving while we look is still seen. A task waiting under another
    /// pending name (a retry, a snooze) has a chain until it finishes, and a task id never
    /// leaves done/ or failed/ (a replay is a new task), so no listing of pending/ is needed.
    async fn task_exists(&self, env: &Envelope) -> Result<bool> {
        let (class, id) = (env.class, env.id);
        Ok(self
            .bucket
            .exists(&names::pending(class, env.due_at, id))
            .await?
            || self.chain_exists(class, id).await?
            || self.terminal_object(class, id).await?.is_some())
    }

    async fn chain_exists(&self, class: Class, id: TaskId) -> Result<bool> {
        Ok(!self
            .bucket
            .list(&names::running_dir(class, id))
            .await?
            .is_empty())
    }

    /// Touch `{class}/wake.json` so idle workers (which poll it with a cheap GET) look for
    /// work, naming the pending object that was just written so a poller can claim it with
    /// [`Queue::try_claim`] without a listing. Never holds up its caller: skipped when
    /// [`Settings::wake_writes`](crate::Settings::wake_writes) is off or this process woke the
    /// class less than a second ago; at most [`WAKE_BUDGET`] spent, and any failure — a 429
    /// because another process rewrote the object this second (GCS allows about one write a
    /// second per object name) means somebody just woke them — is only logged. A missed wake-up
    /// delays pickup until the workers' safety-net poll.
    pub(crate) async fn wake(&self, class: Class, pending: &str) {
        if !self.settings.wake_writes {
            return;
        }
        let now = self.now();
        if !self.take_wake_slot(class, now) {
            return;
        }
        let body = crate::wake::WakeBody {
            schema: 1,
            class,
            at: now,
            nonce: self.nonce(),
            pending: vec![pending.to_string()],
        };
        let name = names::wake(class);
        let write = self.bucket.put(&name, body.to_json());
        let answer = if self.bucket.is_remote() {
            tokio::time::timeout(WAKE_BUDGET, write).await
        } else {
            Ok(write.await) // memory and local directories answer at once and never throttle
        };
        match answer {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, %class, "wake-up write failed (another writer, or the store); idle workers find the task at their next poll")
            }
            Err(_) => {
                tracing::debug!(%class, "wake-up write abandoned after its budget; idle workers find the task at their next poll")
            }
        }
    }
}

/// The most time a wake-up write to a network store may take before its caller moves on
/// (object_store retries a 429 or 5xx inline for minutes; a wake-up is worth none of that).
pub const WAKE_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);
