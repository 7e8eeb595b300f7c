//! `queuectl purge --older-than DUR`: remove done tasks that finished at least DUR ago (by the
//! store's last-modified time, so choosing them costs one listing per class and no reads).
//!
//! A task with an idempotency key is *compacted*, not deleted: enqueue with a seen key checks
//! that the key's task still exists and writes it again if not (it cannot tell a purge from a
//! crash between the key record and the pending write). Deleting it would let the same
//! Telegram update or schedule slot run a second time. The compacted object keeps the
//! envelope's headline and attempts and drops payload, result and raw source; it is labelled
//! `purged_at`. Attachments of purged tasks are deleted, and so is what is left of their lease
//! chain (the closing record a reclaim pass would collect).
//!
//! `--older-than` must be at least lease TTL + clock skew: nothing that recent is touched.

use chrono::{DateTime, Utc};
use queue_core::store::ObjectInfo;
use queue_core::{Class, Envelope, TaskId, TaskState, names};
use serde::Serialize;

use crate::cli::PurgeArgs;
use crate::context::Ctx;
use crate::exit::{CliError, Exit};
use crate::output::{self, Table};

const PURGED_LABEL: &str = "purged_at";

#[derive(Debug, Serialize)]
struct Failure {
    id: TaskId,
    error: String,
}

#[derive(Debug, Default, Serialize)]
struct Answer {
    dry_run: bool,
    older_than: String,
    matched: usize,
    deleted: Vec<TaskId>,
    compacted: Vec<TaskId>,
    already_compacted: Vec<TaskId>,
    errors: Vec<Failure>,
}

struct Candidate {
    id: TaskId,
    class: Class,
    info: ObjectInfo,
}

enum Done {
    Deleted,
    Compacted,
    AlreadyCompacted,
}

/// Purge old done tasks.
pub async fn run(ctx: &Ctx, args: PurgeArgs) -> Result<(), CliError> {
    let older = chrono::Duration::from_std(args.older_than)
        .map_err(|_| CliError::new(Exit::Usage, "--older-than is too long"))?;
    let settings = ctx.queue.settings();
    let floor = settings.lease_ttl + settings.max_clock_skew;
    if args.older_than < floor {
        return Err(CliError::new(
            Exit::Usage,
            format!(
                "--older-than must be at least {} (lease TTL + clock skew), so no worker can still be finishing the task",
                humantime::format_duration(floor)
            ),
        ));
    }
    let now = ctx.queue.clock().now();
    let classes: Vec<Class> = match args.class {
        Some(c) => vec![c.into()],
        None => Class::ALL.to_vec(),
    };
    let mut candidates = Vec::new();
    for class in classes {
        let prefix = names::state_prefix(class, TaskState::Done);
        for info in ctx.bucket().list(&prefix).await? {
            if let Ok(id) = names::parse_terminal_file(&info.name[prefix.len()..])
                && now - info.last_modified >= older
            {
                candidates.push(Candidate { id, class, info });
            }
        }
    }
    let total = candidates.len();
    let mut answer = Answer {
        dry_run: args.dry_run,
        older_than: output::span(older),
        matched: total,
        ..Answer::default()
    };
    if args.dry_run {
        if ctx.json {
            output::print_json(&answer);
        } else {
            print_candidates(&candidates, now);
            println!(
                "would purge {total} done task(s) finished over {} ago; nothing changed",
                answer.older_than
            );
        }
        return Ok(());
    }
    for (i, c) in candidates.iter().enumerate() {
        match purge_one(ctx, c, now).await {
            Ok(done) => {
                let (list, what) = match done {
                    Done::Deleted => (&mut answer.deleted, "deleted"),
                    Done::Compacted => (&mut answer.compacted, "compacted (has a key)"),
                    Done::AlreadyCompacted => (&mut answer.already_compacted, "already compacted"),
                };
                list.push(c.id);
                output::progress(i + 1, total, &format!("{what} {}/{}", c.class, c.id));
            }
            Err(err) if err.exit == Exit::Store => return Err(err),
            Err(err) => {
                output::progress(i + 1, total, &format!("FAILED {}: {}", c.id, err.message));
                answer.errors.push(Failure {
                    id: c.id,
                    error: err.message,
                });
            }
        }
    }
    if ctx.json {
        output::print_json(&answer);
    } else {
        println!(
            "purged {total} done task(s): {} deleted, {} compacted (idempotency key kept), {} already compacted, {} failed",
            answer.deleted.len(),
            answer.compacted.len(),
            answer.already_compacted.len(),
            answer.errors.len()
        );
    }
    if answer.errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(
            Exit::Error,
            format!(
                "{} of {total} purges failed (see above)",
                answer.errors.len()
            ),
        ))
    }
}

async fn purge_one(ctx: &Ctx, c: &Candidate, now: DateTime<Utc>) -> Result<Done, CliError> {
    let bucket = ctx.bucket();
    let Some(object) = bucket.get(&c.info.name).await? else {
        return Ok(Done::Deleted); // gone meanwhile
    };
    let env = Envelope::from_json(&object.bytes).map_err(|e| {
        CliError::new(
            Exit::Error,
            format!(
                "{} (left in place; a done object that does not parse is worth a look)",
                e.message()
            ),
        )
    })?;
    if env.labels.contains_key(PURGED_LABEL) {
        return Ok(Done::AlreadyCompacted);
    }
    for attachment in &env.attachments {
        bucket.delete(&attachment.object).await?;
    }
    // The closing record of its lease chain may still be there (a fence a reclaim pass
    // collects); the task ended long enough ago that no holder can need it.
    for record in bucket.list(&names::running_dir(c.class, c.id)).await? {
        bucket.delete(&record.name).await?;
    }
    if env.idempotency_key.is_some() {
        bucket
            .put(&c.info.name, compact(env, now).to_json())
            .await?;
        Ok(Done::Compacted)
    } else {
        bucket.delete(&c.info.name).await?;
        Ok(Done::Deleted)
    }
}

/// What stays of a keyed task: enough to answer "this key already ran, as task X, on day Y".
fn compact(mut env: Envelope, now: DateTime<Utc>) -> Envelope {
    env.payload = serde_json::Value::Null;
    env.result = None;
    env.attachments.clear();
    if let Some(source) = env.source.as_mut() {
        source.raw = None;
    }
    for attempt in &mut env.attempts {
        attempt.error = attempt.error.take().map(|e| output::first_line(&e, 200));
    }
    env.labels.insert(PURGED_LABEL.into(), now.to_rfc3339());
    env
}

fn print_candidates(candidates: &[Candidate], now: DateTime<Utc>) {
    let mut table = Table::new(&["ID", "CLASS", "ENDED", "SIZE"]);
    for c in candidates {
        table.row(vec![
            c.id.to_string(),
            c.class.to_string(),
            output::relative(now, c.info.last_modified),
            c.info.size.to_string(),
        ]);
    }
    if !table.is_empty() {
        print!("{}", table.render());
    }
}
