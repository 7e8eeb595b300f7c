//! A record of a task's lease chain: `{class}/running/{id}/{epoch}.json`.
//!
//! A `leased` record says "worker W holds epoch e until expires_at" and is overwritten by W's
//! renewals. A `closed` record ends the previous epoch and says where the task went next
//! (`next`: pending, done or failed), carrying the envelope as it must be written there, so
//! anyone can finish ("roll forward") a transition whose writer crashed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::task::{Envelope, TaskState};

/// Whether the record holds a lease or ends one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordState {
    /// A worker holds the lease.
    Leased,
    /// The previous epoch is over; the task went to `next`.
    Closed,
}

/// One record of the lease chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// Schema version.
    pub schema: u32,
    /// The epoch this record starts.
    pub epoch: u64,
    /// Leased or closed.
    pub state: RecordState,
    /// The worker (or `queuectl`, or a reclaimer) that wrote it.
    pub by: String,
    /// A random value unique to the writer's attempt, so a writer can recognise its own record
    /// after a lost reply.
    pub nonce: String,
    /// When it was written (writer's clock).
    pub at: DateTime<Utc>,
    /// For leased records: when the lease runs out unless renewed (writer's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// For closed records: where the task went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<TaskState>,
    /// The envelope: as leased, or as it must be written to `next`.
    pub envelope: Envelope,
    /// Fields a newer version adds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LeaseRecord {
    /// Parse a record.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| crate::Error::invalid(format!("not a lease record: {e}")))
    }

    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("record serializes")
    }
}
