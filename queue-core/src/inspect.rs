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
    /// The earliest due time among pending tasks (read from their names: no extra operation).
    /// Not part of `queuectl stats --json`'s documented shape.
    #[serde(skip)]
    pub oldest_due: Option<DateTime<Utc>>,
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
            oldest_due: pending.values().min().copied(),
            pending: pending.len(),
            // a chain whose task waits in pending/ (a retry) or has finished (its fence record
            // awaits collection) is not running
            running: running
                .keys()
                .filter(|id| {
                    !pending.contains_key(id) && !done.contains(id) && !failed.contains(id)
                })
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

/// Pending task ids with their due times (from the names).
async fn pending_ids(bucket: &Bucket, class: Class) -> Result<BTreeMap<TaskId, DateTime<Utc>>> {
    let prefix = names::state_prefix(class, TaskState::Pending);
    Ok(bucket
        .list(&prefix)
        .await?
        .iter()
        .filter_map(|o| {
            names::parse_pending_file(&o.name[prefix.len()..])
                .ok()
                .map(|p| (p.id, p.due))
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
    with_envelopes(bucket, listed(bucket, class, state).await?).await
}

/// One page of a task listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskPage {
    /// The tasks of this page, newest first.
    pub tasks: Vec<TaskSummary>,
    /// How many tasks the listing holds in all.
    pub total: usize,
}

/// Tasks of `class` in `state`, newest first (pending: latest due first; done and failed: by
/// id, which is time-ordered), skipping `offset` and returning at most `limit`. One listing,
/// then one read per task of the page only: a page of 50 out of 10,000 reads 50 objects.
/// Running tasks are few and come from [`list_tasks`].
pub async fn page_tasks(
    bucket: &Bucket,
    class: Class,
    state: TaskState,
    offset: usize,
    limit: usize,
) -> Result<TaskPage> {
    if state == TaskState::Running {
        let mut all = list_tasks(bucket, class, state).await?;
        all.reverse();
        let total = all.len();
        let tasks = all.into_iter().skip(offset).take(limit).collect();
        return Ok(TaskPage { tasks, total });
    }
    let mut listed = listed(bucket, class, state).await?;
    listed.sort_by(|a, b| b.object.cmp(&a.object));
    let total = listed.len();
    let page = listed.into_iter().skip(offset).take(limit).collect();
    let tasks = with_envelopes(bucket, page).await?;
    Ok(TaskPage { tasks, total })
}

/// The pending, done or failed tasks of a class as listed (names only, listing order).
async fn listed(bucket: &Bucket, class: Class, state: TaskState) -> Result<Vec<TaskSummary>> {
    let prefix = names::state_prefix(class, state);
    Ok(bucket
        .list(&prefix)
        .await?
        .into_iter()
        .filter_map(|info| {
            let file = &info.name[prefix.len()..];
            let (id, due_at) = if state == TaskState::Pending {
                let p = names::parse_pending_file(file).ok()?;
                (p.id, Some(p.due))
            } else {
                (names::parse_terminal_file(file).ok()?, None)
            };
            Some(TaskSummary {
                id,
                class,
                state,
                object: info.name,
                last_modified: info.last_modified,
                due_at,
                envelope: None,
                worker: None,
                expires_at: None,
            })
        })
        .collect())
}

/// Read the envelope of each task (one read each), dropping those gone since the listing.
async fn with_envelopes(bucket: &Bucket, tasks: Vec<TaskSummary>) -> Result<Vec<TaskSummary>> {
    let mut out = Vec::with_capacity(tasks.len());
    for mut task in tasks {
        let Some(found) = bucket.get(&task.object).await? else {
            continue; // moved since the listing
        };
        task.envelope = Envelope::from_json(&found.bytes).ok();
        out.push(task);
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
