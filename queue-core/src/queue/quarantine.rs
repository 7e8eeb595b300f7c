//! Quarantine: an object that cannot be parsed is moved to `invalid/` with the reason beside
//! it — never deleted, and never allowed to stop a worker.

use serde_json::json;

use super::Queue;
use crate::error::Result;
use crate::names;

impl Queue {
    /// Move `name` to `invalid/{name}` and write `invalid/{name}.reason.json`. The copy is made
    /// before the original is removed, so a crash leaves both, never neither.
    pub async fn quarantine(&self, name: &str, reason: &str) -> Result<()> {
        let now = self.now();
        tracing::warn!(object = %name, %reason, "quarantining an object that cannot be used");
        let target = names::invalid(name);
        match self.bucket.copy(name, &target).await {
            Ok(()) => {}
            Err(e) if e.kind() == crate::ErrorKind::NotFound => return Ok(()), // already moved
            Err(e) => return Err(e),
        }
        let body = json!({
            "schema": 1,
            "original": name,
            "reason": reason,
            "quarantined_at": now,
            "restore": format!("fix the object, then copy invalid/{name} back to {name}"),
        });
        self.bucket
            .put(
                &names::invalid_reason(name),
                serde_json::to_vec_pretty(&body)?,
            )
            .await?;
        self.bucket.delete(name).await
    }
}
