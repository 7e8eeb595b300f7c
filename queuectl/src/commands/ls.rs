//! `queuectl ls`: tasks by class and state. Pending tasks come in due order (their names sort
//! that way), running ones by start, finished ones by id (= creation time).
//!
//! Cost: one listing per class and state, and one read per task shown (the envelope), so
//! narrow with `--class` and `--state` on a big bucket.

use chrono::{DateTime, Utc};
use queue_core::inspect::{self, TaskSummary};
use queue_core::{Class, TaskId, TaskState};
use serde::Serialize;

use crate::cli::LsArgs;
use crate::context::Ctx;
use crate::exit::CliError;
use crate::output::{self, Table};

/// One row of `ls --json`: the envelope's headline, not its payload (use `show` for that).
#[derive(Debug, Serialize)]
struct Row {
    id: TaskId,
    class: Class,
    state: TaskState,
    kind: Option<String>,
    attempt: Option<u32>,
    max_attempts: Option<u32>,
    created_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    object: String,
    last_modified: DateTime<Utc>,
}

impl Row {
    fn from_summary(t: TaskSummary) -> Row {
        let env = t.envelope.as_ref();
        Row {
            id: t.id,
            class: t.class,
            state: t.state,
            kind: env.map(|e| e.kind.clone()),
            attempt: env.map(|e| e.attempt),
            max_attempts: env.map(|e| e.max_attempts),
            created_at: env.map(|e| e.created_at),
            due_at: t.due_at.or(env.map(|e| e.due_at)),
            started_at: match t.state {
                TaskState::Running => env.and_then(|e| e.attempts.last().map(|a| a.started_at)),
                _ => None,
            },
            worker: t.worker,
            expires_at: t.expires_at,
            failure: env.and_then(|e| e.failure.clone()),
            object: t.object,
            last_modified: t.last_modified,
        }
    }

    /// Age for `--older-than`: since creation (since the object was written when the
    /// envelope is unreadable).
    fn created(&self) -> DateTime<Utc> {
        self.created_at.unwrap_or(self.last_modified)
    }

    /// The DUE/AGE cell.
    fn when(&self, now: DateTime<Utc>) -> String {
        match self.state {
            TaskState::Pending => match self.due_at {
                Some(due) if due > now => format!("due {}", output::relative(now, due)),
                Some(due) => format!("due {} ago", output::span(now - due)),
                None => "-".into(),
            },
            TaskState::Running => {
                let lease = match self.expires_at {
                    Some(exp) if exp > now => format!("lease {} left", output::span(exp - now)),
                    Some(exp) => format!("lease expired {} ago", output::span(now - exp)),
                    None => "lease ?".into(),
                };
                match self.started_at {
                    Some(start) => format!("running {}, {lease}", output::span(now - start)),
                    None => lease,
                }
            }
            TaskState::Done | TaskState::Failed => {
                format!("ended {}", output::relative(now, self.last_modified))
            }
        }
    }
}

/// List tasks.
pub async fn run(ctx: &Ctx, args: LsArgs) -> Result<(), CliError> {
    let classes: Vec<Class> = match args.class {
        Some(c) => vec![c.into()],
        None => Class::ALL.to_vec(),
    };
    let states: Vec<TaskState> = match args.state {
        Some(s) => vec![s.into()],
        None => TaskState::ALL.to_vec(),
    };
    let now = ctx.queue.clock().now();
    let min_age = args
        .older_than
        .map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX));
    let mut rows = Vec::new();
    for &state in &states {
        for &class in &classes {
            for task in inspect::list_tasks(ctx.bucket(), class, state).await? {
                let row = Row::from_summary(task);
                if args
                    .kind
                    .as_ref()
                    .is_some_and(|k| row.kind.as_ref() != Some(k))
                {
                    continue;
                }
                if min_age.is_some_and(|age| now - row.created() < age) {
                    continue;
                }
                rows.push(row);
            }
        }
    }
    let total = rows.len();
    if let Some(limit) = args.limit {
        rows.truncate(limit);
    }
    if ctx.json {
        output::print_json(&rows);
        return Ok(());
    }
    let mut table = Table::new(&[
        "ID", "CLASS", "STATE", "KIND", "ATTEMPT", "DUE/AGE", "WORKER",
    ]);
    for row in &rows {
        table.row(vec![
            row.id.to_string(),
            row.class.to_string(),
            row.state.to_string(),
            output::or_dash(row.kind.clone()),
            match (row.attempt, row.max_attempts) {
                (Some(a), Some(m)) => format!("{a}/{m}"),
                _ => "-".into(),
            },
            row.when(now),
            output::or_dash(row.worker.clone()),
        ]);
    }
    table.print_or("no tasks");
    if rows.len() < total {
        eprintln!(
            "showing {} of {total} tasks; raise --limit to see more",
            rows.len()
        );
    }
    Ok(())
}
