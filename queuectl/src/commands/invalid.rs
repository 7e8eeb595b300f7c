//! `queuectl invalid`: objects a worker could not parse, moved to `invalid/` with a
//! `.reason.json` beside each. Nothing is deleted; restoring is a copy back.

use chrono::{DateTime, Utc};
use queue_core::names;
use serde::Serialize;
use serde_json::Value;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::output::{self, Table};

const REASON_SUFFIX: &str = ".reason.json";

#[derive(Debug, Serialize)]
struct Row {
    object: String,
    original: String,
    size: u64,
    quarantined_at: Option<DateTime<Utc>>,
    reason: Option<String>,
}

/// List quarantined objects with their reasons.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let listed = ctx.bucket().list(names::INVALID_PREFIX).await?;
    let mut rows = Vec::new();
    for info in listed.iter().filter(|o| !o.name.ends_with(REASON_SUFFIX)) {
        let original = info.name[names::INVALID_PREFIX.len()..].to_string();
        let doc: Option<Value> = ctx
            .bucket()
            .get(&names::invalid_reason(&original))
            .await?
            .and_then(|o| serde_json::from_slice(&o.bytes).ok());
        let field = |k: &str| doc.as_ref().and_then(|d| d.get(k)).and_then(Value::as_str);
        rows.push(Row {
            object: info.name.clone(),
            size: info.size,
            quarantined_at: field("quarantined_at").and_then(|s| s.parse().ok()),
            reason: field("reason").map(str::to_string),
            original,
        });
    }
    if ctx.json {
        output::print_json(&rows);
        return Ok(());
    }
    let now = ctx.queue.clock().now();
    let mut table = Table::new(&["OBJECT", "QUARANTINED", "REASON"]);
    for row in &rows {
        table.row(vec![
            row.object.clone(),
            output::or_dash(row.quarantined_at.map(|t| output::relative(now, t))),
            output::or_dash(row.reason.as_deref().map(|r| output::first_line(r, 120))),
        ]);
    }
    table.print_or("nothing quarantined (invalid/ is empty)");
    if let Some(row) = rows.first() {
        println!(
            "\nto restore one: fix it, copy it back to its original name, then delete it and its reason, e.g.\n  {}",
            restore_hint(ctx, &row.original)
        );
    }
    Ok(())
}

fn restore_hint(ctx: &Ctx, original: &str) -> String {
    let from = ctx.object_url(&names::invalid(original));
    let to = ctx.object_url(original);
    match ctx.cat_command(original) {
        Some(cmd) if cmd.starts_with("gsutil") => format!("gsutil mv {from} {to}"),
        Some(cmd) if cmd.starts_with("aws") => format!("aws s3 mv {from} {to}"),
        _ => format!("mv {from} {to}"),
    }
}
