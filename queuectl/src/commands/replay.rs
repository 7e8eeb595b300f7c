//! `queuectl replay`: a failed task runs again as a new task (its id is printed; the failed
//! task stays in failed/ with `replayed_as`), due now, its attempts counter reset and its
//! history kept. One id, or `--all-failed` narrowed by class and kind, with progress
//! on stderr and `--dry-run`.

use queue_core::queue::ReplayFilter;
use queue_core::{Envelope, TaskId};
use serde::Serialize;

use crate::cli::ReplayArgs;
use crate::context::Ctx;
use crate::exit::{CliError, Exit};
use crate::output::{self, Table};

#[derive(Debug, Serialize)]
struct One {
    id: TaskId,
    state: &'static str,
    /// The new task that runs the replay (none on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    replayed_as: Option<TaskId>,
    dry_run: bool,
}

#[derive(Debug, Serialize)]
struct Failure {
    id: TaskId,
    error: String,
}

#[derive(Debug, Serialize)]
struct Bulk {
    dry_run: bool,
    matched: usize,
    replayed: Vec<TaskId>,
    /// The new tasks, in the order of `replayed`.
    new_ids: Vec<TaskId>,
    errors: Vec<Failure>,
}

/// Replay one task or many.
pub async fn run(ctx: &Ctx, args: ReplayArgs) -> Result<(), CliError> {
    match args.id {
        Some(id) => replay_one(ctx, id, args.dry_run).await,
        None => {
            let filter = ReplayFilter {
                class: args.class.map(Into::into),
                kind: args.kind,
            };
            replay_all(ctx, &filter, args.dry_run).await
        }
    }
}

async fn replay_one(ctx: &Ctx, id: TaskId, dry_run: bool) -> Result<(), CliError> {
    if dry_run {
        // the same checks replay makes, without the write
        let found = ctx.queue.find(id).await?;
        let state = found.location.state();
        if state != queue_core::TaskState::Failed {
            return Err(CliError::new(
                Exit::Refused,
                format!("only failed tasks can be replayed: task={id} state={state}"),
            ));
        }
        if let Some(new) = found.envelope.replayed_as {
            return Err(CliError::new(
                Exit::Refused,
                format!("task was replayed already: task={id} replayed_as={new}"),
            ));
        }
    }
    let replayed_as = if dry_run {
        None
    } else {
        Some(ctx.queue.replay(id).await.map_err(CliError::refusal)?.id)
    };
    if ctx.json {
        output::print_json(&One {
            id,
            state: if dry_run { "failed" } else { "pending" },
            replayed_as,
            dry_run,
        });
    } else if let Some(new) = replayed_as {
        println!("replayed {id} as new task {new}: failed -> pending, due now");
    } else {
        println!("would replay {id} (failed -> pending); nothing changed");
    }
    Ok(())
}

async fn replay_all(ctx: &Ctx, filter: &ReplayFilter, dry_run: bool) -> Result<(), CliError> {
    let matched = ctx.queue.failed_matching(filter).await?;
    let total = matched.len();
    let mut answer = Bulk {
        dry_run,
        matched: total,
        replayed: Vec::new(),
        new_ids: Vec::new(),
        errors: Vec::new(),
    };
    if dry_run {
        if !ctx.json {
            print_candidates(&matched);
            println!("would replay {total} failed task(s); nothing changed");
        } else {
            output::print_json(&answer);
        }
        return Ok(());
    }
    let mut worst: Option<Exit> = None;
    for (i, env) in matched.iter().enumerate() {
        match ctx.queue.replay(env.id).await {
            Ok(new) => {
                let line = format!("replayed {} {} as {}", env.id, env.kind, new.id);
                output::progress(i + 1, total, &line);
                answer.replayed.push(env.id);
                answer.new_ids.push(new.id);
            }
            Err(e) => {
                let err = CliError::refusal(e);
                output::progress(i + 1, total, &format!("FAILED {}: {}", env.id, err.message));
                // a store problem stops the run: every further replay would fail the same way
                if err.exit == Exit::Store {
                    return Err(err);
                }
                worst = Some(Exit::Error);
                answer.errors.push(Failure {
                    id: env.id,
                    error: err.message,
                });
            }
        }
    }
    if ctx.json {
        output::print_json(&answer);
    } else {
        println!(
            "replayed {} of {total} failed task(s){}",
            answer.replayed.len(),
            if answer.errors.is_empty() {
                String::new()
            } else {
                format!("; {} could not be replayed", answer.errors.len())
            }
        );
    }
    match worst {
        Some(exit) => Err(CliError::new(
            exit,
            format!(
                "{} of {total} replays failed (see above)",
                answer.errors.len()
            ),
        )),
        None => Ok(()),
    }
}

fn print_candidates(matched: &[Envelope]) {
    let mut table = Table::new(&["ID", "CLASS", "KIND", "ATTEMPTS", "FAILURE"]);
    for env in matched {
        table.row(vec![
            env.id.to_string(),
            env.class.to_string(),
            env.kind.clone(),
            env.attempts.len().to_string(),
            output::or_dash(env.failure.as_deref().map(|f| output::first_line(f, 80))),
        ]);
    }
    if !table.is_empty() {
        print!("{}", table.render());
    }
}
