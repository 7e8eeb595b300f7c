//! `queuectl workers`: presence documents under `workers/`: who is online, since when, doing
//! what. Online means the worker promised its next heartbeat by a time not yet past (allowing
//! the clock-skew bound).

use chrono::{DateTime, Utc};
use queue_core::presence::{self, Presence};
use serde::Serialize;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::output::{self, Table};

#[derive(Debug, Serialize)]
struct Row<'a> {
    status: &'static str,
    #[serde(flatten)]
    presence: &'a Presence,
}

fn status(p: &Presence, now: DateTime<Utc>, skew: chrono::Duration) -> &'static str {
    if !p.running {
        "stopped"
    } else if p.is_online(now, skew) {
        "online"
    } else {
        "offline"
    }
}

/// List workers.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let mut docs = presence::list(ctx.bucket()).await?;
    docs.sort_by(|a, b| (a.class, &a.worker_id).cmp(&(b.class, &b.worker_id)));
    let now = ctx.queue.clock().now();
    let skew = chrono::Duration::from_std(ctx.queue.settings().max_clock_skew)
        .unwrap_or(chrono::Duration::minutes(1));
    if ctx.json {
        let rows: Vec<Row> = docs
            .iter()
            .map(|p| Row {
                status: status(p, now, skew),
                presence: p,
            })
            .collect();
        output::print_json(&rows);
        return Ok(());
    }
    let mut table = Table::new(&[
        "WORKER",
        "CLASS",
        "HOST",
        "VERSION",
        "STATUS",
        "LAST SEEN",
        "UP",
        "TASKS",
    ]);
    for p in &docs {
        let tasks = if p.current_tasks.is_empty() {
            format!("0/{}", p.concurrency)
        } else {
            let ids: Vec<String> = p.current_tasks.iter().map(|t| t.to_string()).collect();
            format!(
                "{}/{}: {}",
                p.current_tasks.len(),
                p.concurrency,
                ids.join(", ")
            )
        };
        table.row(vec![
            p.worker_id.clone(),
            p.class.to_string(),
            p.host.clone(),
            p.version.clone(),
            status(p, now, skew).to_string(),
            output::relative(now, p.last_seen),
            // uptime: until now while it runs, until its last word once it stopped
            output::span(if p.is_online(now, skew) {
                now - p.started_at
            } else {
                p.last_seen - p.started_at
            }),
            tasks,
        ]);
    }
    table.print_or("no workers have reported presence (workers/ is empty)");
    Ok(())
}
