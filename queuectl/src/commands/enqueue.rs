//! `queuectl enqueue`: add a task. stdout is the id alone, so `ID=$(queuectl enqueue …)` works.

use queue_core::EnqueueRequest;
use queue_core::task::Source;
use serde::Serialize;

use crate::cli::EnqueueArgs;
use crate::context::Ctx;
use crate::exit::CliError;
use crate::output;

#[derive(Debug, Serialize)]
struct Answer {
    id: String,
    created: bool,
}

/// Enqueue one task.
pub async fn run(ctx: &Ctx, args: EnqueueArgs) -> Result<(), CliError> {
    let mut req = EnqueueRequest::new(args.class.into(), args.kind, args.payload).source(Source {
        kind: "cli".into(),
        ..Source::default()
    });
    if let Some(delay) = args.delay {
        let delay = chrono::Duration::from_std(delay)
            .map_err(|_| CliError::new(crate::exit::Exit::Usage, "--delay is too long"))?;
        req = req.due_at(ctx.queue.clock().now() + delay);
    }
    if let Some(key) = args.key {
        req = req.key(key);
    }
    if let Some(n) = args.max_attempts {
        req = req.max_attempts(n);
    }
    let enqueued = ctx.queue.enqueue(req).await?;
    if ctx.json {
        output::print_json(&Answer {
            id: enqueued.id.to_string(),
            created: enqueued.created,
        });
        return Ok(());
    }
    println!("{}", enqueued.id);
    let env = &enqueued.envelope;
    if enqueued.created {
        let now = ctx.queue.clock().now();
        let due = if env.due_at <= now {
            "due now".to_string()
        } else {
            format!("due {}", output::relative(now, env.due_at))
        };
        eprintln!("queued: class={} kind={} {due}", env.class, env.kind);
    } else {
        eprintln!(
            "not queued again: key={:?} already made this task (class={} kind={}); see `queuectl show {}`",
            env.idempotency_key.as_deref().unwrap_or_default(),
            env.class,
            env.kind,
            enqueued.id
        );
    }
    Ok(())
}
