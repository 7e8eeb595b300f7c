//! `queuectl cancel ID`: a pending task will not run; a running one ends in failed/ and its
//! worker loses the lease at its next heartbeat (it commits nothing).

use queue_core::queue::CancelOutcome;
use serde::Serialize;

use crate::cli::CancelArgs;
use crate::context::{ACTOR, Ctx};
use crate::exit::CliError;
use crate::output;

#[derive(Debug, Serialize)]
struct Answer {
    id: String,
    was: &'static str,
    state: &'static str,
    failure: Option<String>,
}

/// Cancel one task. A finished task is refused (exit 4); an unknown id is not found (exit 3).
pub async fn run(ctx: &Ctx, args: CancelArgs) -> Result<(), CliError> {
    let outcome = ctx
        .queue
        .cancel(args.id, ACTOR, &args.reason)
        .await
        .map_err(CliError::refusal)?;
    let (was, env) = match &outcome {
        CancelOutcome::CancelledPending(env) => ("pending", env),
        CancelOutcome::CancelledRunning(env) => ("running", env),
    };
    if ctx.json {
        output::print_json(&Answer {
            id: env.id.to_string(),
            was,
            state: "failed",
            failure: env.failure.clone(),
        });
        return Ok(());
    }
    println!(
        "cancelled {} (was {was}; now in {}/failed/)",
        env.id, env.class
    );
    if was == "running" {
        println!("its worker stops the handler at its next heartbeat and commits nothing");
    }
    println!("undo with: queuectl replay {}", env.id);
    Ok(())
}
