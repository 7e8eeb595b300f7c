//! The task envelope: the JSON document that *is* a task, in every state. It is versioned
//! (`schema`), and fields a newer writer adds are kept in `extra` so an older reader that
//! rewrites the envelope does not drop them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The envelope schema this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A task id: a UUIDv7, so ids sort by creation time and are safe in object names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskId(Uuid);

impl TaskId {
    /// A new id for a task created at `at` (milliseconds go into the id, so ids sort by time),
    /// with random bits from `rng`.
    pub fn new_at(at: DateTime<Utc>, rng: &mut impl rand::RngCore) -> Self {
        let mut random = [0u8; 10];
        rng.fill_bytes(&mut random);
        let millis = at.timestamp_millis().max(0) as u64;
        TaskId(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
    }

    /// The id of the task that replays `failed` (a failed task at `epoch`): derived from both,
    /// so every replay of the same failure names the same task and the pending create itself
    /// dedupes concurrent or retried replays. Its time part is `at` (the failure time).
    pub fn replay_of(failed: TaskId, epoch: u64, at: DateTime<Utc>) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"replay\0")
            .chain_update(failed.0.as_bytes())
            .chain_update(epoch.to_be_bytes())
            .finalize();
        let mut random = [0u8; 10];
        random.copy_from_slice(&digest[..10]);
        let millis = at.timestamp_millis().max(0) as u64;
        TaskId(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl FromStr for TaskId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let uuid = Uuid::try_parse(s.trim())
            .map_err(|_| Error::invalid(format!("not a task id: id={s:?} (expected a UUID such as 0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f)")))?;
        if uuid.get_version_num() != 7 {
            return Err(Error::invalid(format!(
                "not a task id: id={s} is not a version-7 UUID"
            )));
        }
        Ok(TaskId(uuid))
    }
}

impl TryFrom<String> for TaskId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<TaskId> for String {
    fn from(id: TaskId) -> String {
        id.to_string()
    }
}

/// Which workers serve a task: the MacBook (`heavy`) or the always-on VM (`light`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Heavy AI work: served by worker-heavy on the MacBook.
    Heavy,
    /// Light automation: served by worker-light on the VM.
    Light,
}

impl Class {
    /// Every class, in display order.
    pub const ALL: [Class; 2] = [Class::Heavy, Class::Light];

    /// The name used in object names and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Heavy => "heavy",
            Class::Light => "light",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Class {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "heavy" => Ok(Class::Heavy),
            "light" => Ok(Class::Light),
            _ => Err(Error::invalid(format!(
                "unknown class: class={s:?} (expected heavy or light)"
            ))),
        }
    }
}

/// Where a task is in its life (see docs/protocol.md for the state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Waiting in `{class}/pending/` until its due time.
    Pending,
    /// Leased by a worker: `{class}/running/{id}/`.
    Running,
    /// Finished with a result: `{class}/done/`.
    Done,
    /// Dead-lettered or cancelled: `{class}/failed/`.
    Failed,
}

impl TaskState {
    /// Every state, in lifecycle order.
    pub const ALL: [TaskState; 4] = [
        TaskState::Pending,
        TaskState::Running,
        TaskState::Done,
        TaskState::Failed,
    ];

    /// The prefix segment for this state.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pending" => Ok(TaskState::Pending),
            "running" => Ok(TaskState::Running),
            "done" => Ok(TaskState::Done),
            "failed" => Ok(TaskState::Failed),
            _ => Err(Error::invalid(format!(
                "unknown state: state={s:?} (expected pending, running, done or failed)"
            ))),
        }
    }
}

/// Who to tell about the task, and where it came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Source {
    /// `telegram`, `api`, `schedule`, `cli`, …
    pub kind: String,
    /// Telegram chat to answer in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
    /// Telegram message to reply to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i32>,
    /// Telegram update id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<i64>,
    /// The schedule that fired this task, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Anything else the producer wants to keep (e.g. the raw Telegram update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Value>,
    /// Fields a newer version adds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A file that came with the task, stored under `attachments/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// The object name (relative to the store root), e.g. `attachments/{id}/photo.jpg`.
    pub object: String,
    /// The file name to give the handler.
    pub name: String,
    /// MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Fields a newer version adds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The handler finished and its result was committed.
    Done,
    /// The handler failed; the task will run again after a backoff.
    Retry,
    /// The handler failed and the task is dead-lettered (no attempts left, or "fail now").
    Failed,
    /// The handler asked to run again later; not counted against max attempts.
    Snoozed,
    /// The worker stopped renewing and another took over; counted as a failed attempt.
    Expired,
    /// The worker gave the task back (shutdown); not counted against max attempts.
    Released,
    /// Someone cancelled the task while it ran.
    Cancelled,
}

/// One attempt at running a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based attempt number (snoozes and releases do not consume a number).
    pub number: u32,
    /// The lease epoch this attempt ran under.
    pub epoch: u64,
    /// The worker that ran it.
    pub worker: String,
    /// When the lease was taken.
    pub started_at: DateTime<Utc>,
    /// When it ended (absent while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended (absent while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AttemptOutcome>,
    /// The error, for attempts that did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Fields a newer version adds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The task document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Envelope schema version ([`SCHEMA_VERSION`]).
    pub schema: u32,
    /// The task id.
    pub id: TaskId,
    /// Which workers serve it.
    pub class: Class,
    /// The handler to run (a key of the workers' handlers file).
    pub kind: String,
    /// Input for the handler, given on its stdin.
    #[serde(default)]
    pub payload: Value,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it may run next.
    pub due_at: DateTime<Utc>,
    /// Attempts counted against `max_attempts` so far.
    #[serde(default)]
    pub attempt: u32,
    /// After this many failed attempts the task is dead-lettered.
    pub max_attempts: u32,
    /// How many leases (claims) have been taken on this task; see docs/protocol.md.
    #[serde(default)]
    pub epoch: u64,
    /// Enqueue with the same key creates this task only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Where it came from and whom to answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Files that came with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Free-form labels (e.g. `rule` = the classification rule that chose the class).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Every attempt so far, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// The handler's result, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why the task ended in `failed/` (dead-lettered, cancelled, unknown kind …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The task this one replays, if any (a replay is a new task: a task id never runs again
    /// once it reached `failed/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<TaskId>,
    /// On a failed task: the task that replays it (set once, by the replay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_as: Option<TaskId>,
    /// Fields a newer version adds: kept verbatim on rewrite.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Envelope {
    /// Parse an envelope, with an error that says what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let env: Envelope = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("not a task envelope: {e}")))?;
        if env.schema == 0 {
            return Err(Error::invalid("not a task envelope: schema=0"));
        }
        if !crate::names::is_valid_kind(&env.kind) {
            return Err(Error::invalid(format!(
                "not a task envelope: bad kind={:?}",
                env.kind
            )));
        }
        Ok(env)
    }

    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("envelope serializes")
    }

    /// The attempt currently open (the last one, if it has no outcome yet).
    pub fn open_attempt_mut(&mut self) -> Option<&mut Attempt> {
        self.attempts.last_mut().filter(|a| a.outcome.is_none())
    }

    /// The error of the last attempt that had one.
    pub fn last_error(&self) -> Option<&str> {
        self.attempts.iter().rev().find_map(|a| a.error.as_deref())
    }
}

/// What a handler decided. The worker turns it into a state transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Finished: commit this result.
    Done(Value),
    /// Failed: retry after the backoff (or `after`, if given) unless attempts are exhausted.
    Retry {
        /// Why it failed.
        error: String,
        /// Run again no sooner than this; `None` = the standard backoff.
        after: Option<Duration>,
    },
    /// Failed for good: dead-letter now, no more attempts.
    Fail {
        /// Why.
        error: String,
    },
    /// Not now: run again after `after`; does not count as an attempt.
    Snooze {
        /// How long to wait.
        after: Duration,
    },
}
