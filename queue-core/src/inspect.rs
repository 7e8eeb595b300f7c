//! Read-only views of the bucket: tasks by state, where one task is, and counts. Used by
//! queuectl, the ingress's /status, and tests. Listings are Class A operations on GCS; the
//! views list each prefix once and read objects only when asked to.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::names;
use crate::queue::record::{LeaseRecord, RecordState};
use crate::store::Bucket;
use crate::task::{Class, Envelope, TaskId, TaskState};

/// Where a task lives now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Location {
    /// Waiting: `name` is its pending object.
    Pending {
        /// Object name.
        name: String,
    },
    /// Leased: `name` is the head record of its chain.
    Running {
        /// The epoch held.
        epoch: u64,
        /// Object name of the lease record.
        name: String,
        /// Who holds it.
        worker: String,
        /// When the lease runs out unless renewed.
        expires_at: Option<DateTime<Utc>>,
    },
    /// Finished: `name` is `done/` or `failed/`.
    Terminal {
        /// Done or failed.
        #[serde(rename = "final")]
        state: TaskState,
        /// Object name.
        name: String,
    },
}

impl Location {
    /// The state this location means.
    pub fn state(&self) -> TaskState {
        match self {
            Location::Pending { .. } => TaskState::Pending,
            Location::Running { .. } => TaskState::Running,
            Location::Terminal { state, .. } => *state,
        }
    }

    /// The object the task lives in.
    pub fn object(&self) -> &str {
        match self {
            Location::Pending { name }
            | Location::Running { name, .. }
            | Location::Terminal { name, .. } => name,
        }
    }
}

/// A task found by id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// Where it is.
    pub location: Location,
    /// Its envelope there.
    pub envelope: Envelope,
}

/// One task in a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSummary {
    /// Its id.
    pub id: TaskId,
    /// Its class.
    pub class: Class,
    /// Its state.
    pub state: TaskState,
    /// The object it lives in.
    pub object: String,
    /// When the object was last written (store time).
    pub last_modified: DateTime<Utc>,
    /// For pending tasks: when due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The envelope (for running tasks, as leased), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<Envelope>,
    /// For running tasks: the lease holder and deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// For running tasks: when the lease runs out unless renewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Counts per class and state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClassStats {
    /// Waiting (including not yet due).
    pub pending: usize,
    /// Leased.
    pub running: usize,
    /// Finished.
    pub done: usize,
    /// Dead-lettered or cancelled.
    pub failed: usize,
}

/// What `queuectl stats --json` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Heavy tasks.
    pub heavy: ClassStats,
    /// Light tasks.
    pub light: ClassStats,
    /// Quarantined objects (reason documents not counted).
    pub invalid: usize,
}

/// Count tasks per class and state: one listing per prefix, no reads.
pub async fn stats(bucket: &Bucket) -> Result<Stats> {
    let mut stats = Stats::default();
    for class in Class::ALL {
        let pending = pending_ids(bucket, class).await?;
        let running = running_heads(bucket, class).await?;
        let done = terminal_ids(bucket, class, TaskState::Done).await?;
        let failed = terminal_ids(bucket, class, TaskState::Failed).await?;
        let s = ClassStats {
            pending: pending.len(),
            // a chain whose task waits in pending/ (a retry) or has finished (its fence record
            // awaits collection) is not running
            running: running
                .keys()
                .filter(|id| !pending.contains(id) && !done.contains(id) && !failed.contains(id))
                .count(),
            done: done.len(),
            failed: failed.len(),
        };
        match class {
            Class::Heavy => stats.heavy = s,
            Class::Light => stats.light = s,
        }
    }
    stats.invalid = bucket
        .list(names::INVALID_PREFIX)
        .await?
        .iter()
        .filter(|o| !o.name.ends_with(".reason.json"))
        .count();
    Ok(stats)
}

async fn pending_ids(bucket: &Bucket, class: Class) -> Result<BTreeSet<TaskId>> {
    let prefix = names::state_prefix(class, TaskState::Pending);
    Ok(bucket
        .list(&prefix)
        .await?
        .iter()
        .filter_map(|o| {
            names::parse_pending_file(&o.name[prefix.len()..])
                .ok()
                .map(|p| p.id)
        })
        .collect())
}

async fn terminal_ids(bucket: &Bucket, class: Class, state: TaskState) -> Result<BTreeSet<TaskId>> {
    let prefix = names::state_prefix(class, state);
    Ok(bucket
        .list(&prefix)
        .await?
        .iter()
        .filter_map(|o| names::parse_terminal_file(&o.name[prefix.len()..]).ok())
        .collect())
}

/// The head (highest epoch) record name of every chain under `{class}/running/`.
async fn running_heads(
    bucket: &Bucket,
    class: Class,
) -> Result<BTreeMap<TaskId, (u64, crate::store::ObjectInfo)>> {
    let prefix = names::state_prefix(class, TaskState::Running);
    let mut heads: BTreeMap<TaskId, (u64, crate::store::ObjectInfo)> = BTreeMap::new();
    for info in bucket.list(&prefix).await? {
        if let Ok((id, epoch)) = names::parse_running_rest(&info.name[prefix.len()..])
            && heads.get(&id).is_none_or(|(e, _)| epoch > *e)
        {
            heads.insert(id, (epoch, info));
        }
    }
    Ok(heads)
}

/// Every task of `class` in `state`, oldest first (pending: by due time), with envelopes read.
/// Running tasks are those whose chain head is a live or expired lease.
pub async fn list_tasks(
    bucket: &Bucket,
    class: Class,
    state: TaskState,
) -> Result<Vec<TaskSummary>> {
    let prefix = names::state_prefix(class, state);
    let mut out = Vec::new();
    if state == TaskState::Running {
        for (id, (_, info)) in running_heads(bucket, class).await? {
            let Some(object) = bucket.get(&info.name).await? else {
                continue;
            };
            let Ok(record) = LeaseRecord::from_json(&object.bytes) else {
                continue;
            };
            if record.state != RecordState::Leased {
                continue;
            }
            out.push(TaskSummary {
                id,
                class,
                state,
                object: info.name,
                last_modified: object.last_modified,
                due_at: None,
                worker: Some(record.by.clone()),
                expires_at: record.expires_at,
                envelope: Some(record.envelope),
            });
        }
        out.sort_by_key(|t| {
            t.envelope
                .as_ref()
                .and_then(|e| e.attempts.last().map(|a| a.started_at))
        });
        return Ok(out);
    }
    for info in bucket.list(&prefix).await? {
        let file = &info.name[prefix.len()..];
        let (id, due_at) = match state {
            TaskState::Pending => match names::parse_pending_file(file) {
                Ok(p) => (p.id, Some(p.due)),
                Err(_) => continue,
            },
            _ => match names::parse_terminal_file(file) {
                Ok(id) => (id, None),
                Err(_) => continue,
            },
        };
        let envelope = match bucket.get(&info.name).await? {
            Some(o) => Envelope::from_json(&o.bytes).ok(),
            None => continue,
        };
        out.push(TaskSummary {
            id,
            class,
            state,
            object: info.name,
            last_modified: info.last_modified,
            due_at,
            envelope,
            worker: None,
            expires_at: None,
        });
    }
    Ok(out)
}

/// Find a task by id in either class. Looks where a task goes in the order it moves (pending,
/// running, done/failed), so a task that moves while we look is still found.
pub async fn find_task(bucket: &Bucket, id: TaskId) -> Result<Found> {
    for _ in 0..3 {
        for class in Class::ALL {
            if let Some(found) = find_in_class(bucket, class, id).await? {
                return Ok(found);
            }
        }
    }
    Err(Error::not_found(format!(
        "task not found: id={id} (searched heavy and light: pending, running, done, failed)"
    )))
}

async fn find_in_class(bucket: &Bucket, class: Class, id: TaskId) -> Result<Option<Found>> {
    let pending_prefix = names::state_prefix(class, TaskState::Pending);
    let suffix = format!("_{id}.json");
    for info in bucket.list(&pending_prefix).await? {
        if info.name.ends_with(&suffix)
            && let Some(o) = bucket.get(&info.name).await?
        {
            let envelope = Envelope::from_json(&o.bytes)?;
            return Ok(Some(Found {
                location: Location::Pending { name: info.name },
                envelope,
            }));
        }
    }
    let chain = bucket.list(&names::running_dir(class, id)).await?;
    if let Some(head) = chain
        .iter()
        .filter_map(|o| {
            let rest = &o.name[names::state_prefix(class, TaskState::Running).len()..];
            names::parse_running_rest(rest)
                .ok()
                .map(|(_, e)| (e, o.name.clone()))
        })
        .max()
        && let Some(o) = bucket.get(&head.1).await?
    {
        let record = LeaseRecord::from_json(&o.bytes)?;
        if record.state == RecordState::Leased {
            return Ok(Some(Found {
                location: Location::Running {
                    epoch: record.epoch,
                    name: head.1,
                    worker: record.by.clone(),
                    expires_at: record.expires_at,
                },
                envelope: record.envelope,
            }));
        }
        // closed: the task is on its way to `next`; look there below (or again)
    }
    for state in [TaskState::Done, TaskState::Failed] {
        let name = names::terminal(class, state, id);
        if let Some(o) = bucket.get(&name).await? {
            let envelope = Envelope::from_json(&o.bytes)?;
            return Ok(Some(Found {
                location: Location::Terminal { state, name },
                envelope,
            }));
        }
    }
    Ok(None)
}
