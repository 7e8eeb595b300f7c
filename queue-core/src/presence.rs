//! Presence: each worker keeps `workers/{id}.json` saying who it is and until when it promises
//! to write again. The ingress reads these to tell a user whether the MacBook is online.
//!
//! Cost: one Class A write per heartbeat, so the cadence is a budget knob (docs/cost.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::names;
use crate::store::Bucket;
use crate::task::{Class, TaskId};

/// A worker's presence document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// Schema version.
    pub schema: u32,
    /// The worker id.
    pub worker_id: String,
    /// The class it serves.
    pub class: Class,
    /// Host name.
    pub host: String,
    /// Program version.
    pub version: String,
    /// Process id.
    #[serde(default)]
    pub pid: u32,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// When this document was written.
    pub last_seen: DateTime<Utc>,
    /// The worker promises to write again before this time; past it, it is offline.
    pub next_heartbeat_by: DateTime<Utc>,
    /// Tasks it runs now.
    #[serde(default)]
    pub current_tasks: Vec<TaskId>,
    /// How many tasks it runs at once.
    #[serde(default)]
    pub concurrency: usize,
    /// False once the worker shut down cleanly.
    #[serde(default = "yes")]
    pub running: bool,
    /// Fields a newer version adds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn yes() -> bool {
    true
}

impl Presence {
    /// Online: running, and its promised next heartbeat is not overdue (allowing `skew` for
    /// clocks that differ).
    pub fn is_online(&self, now: DateTime<Utc>, skew: chrono::Duration) -> bool {
        self.running && now <= self.next_heartbeat_by + skew
    }
}

/// Write a presence document (one Class A operation).
pub async fn publish(bucket: &Bucket, doc: &Presence) -> Result<()> {
    names::validate_worker_id(&doc.worker_id)?;
    bucket
        .put(
            &names::worker(&doc.worker_id),
            serde_json::to_vec_pretty(doc)?,
        )
        .await
}

/// Every presence document; malformed ones are skipped with a warning.
pub async fn list(bucket: &Bucket) -> Result<Vec<Presence>> {
    let mut out = Vec::new();
    for info in bucket.list(names::WORKERS_PREFIX).await? {
        let Some(object) = bucket.get(&info.name).await? else {
            continue;
        };
        match serde_json::from_slice::<Presence>(&object.bytes) {
            Ok(doc) => out.push(doc),
            Err(e) => {
                tracing::warn!(object = %info.name, error = %e, "skipping a malformed presence document")
            }
        }
    }
    Ok(out)
}

/// Whether any worker of `class` is online.
pub fn any_online(
    docs: &[Presence],
    class: Class,
    now: DateTime<Utc>,
    skew: chrono::Duration,
) -> bool {
    docs.iter()
        .any(|d| d.class == class && d.is_online(now, skew))
}
