//! `queuectl show ID`: everything about one task, and the object it lives in, so the operator
//! can look at the same bytes with `gsutil cat`.

use chrono::{DateTime, Utc};
use queue_core::inspect::{Found, Location};
use queue_core::{Envelope, TaskId};
use serde::Serialize;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::output::{self, Table};

#[derive(Debug, Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    found: &'a Found,
    /// The object's full address (`gs://…`, a path).
    url: String,
}

/// Show one task.
pub async fn run(ctx: &Ctx, id: TaskId) -> Result<(), CliError> {
    let found = ctx.queue.find(id).await?;
    let object = found.location.object().to_string();
    if ctx.json {
        output::print_json(&Answer {
            found: &found,
            url: ctx.object_url(&object),
        });
        return Ok(());
    }
    let now = ctx.queue.clock().now();
    let env = &found.envelope;
    print_header(ctx, &found, now);
    print_fields(env, now);
    print_attempts(env);
    if let Some(result) = &env.result {
        println!("\nresult:");
        println!("{}", indent(&pretty(result)));
    }
    if let Some(failure) = &env.failure {
        println!("\nfailure:");
        println!("{}", indent(failure));
        if let Some(err) = env.last_error()
            && !failure.contains(err)
        {
            println!("\nlast error:");
            println!("{}", indent(err));
        }
    }
    Ok(())
}

fn print_header(ctx: &Ctx, found: &Found, now: DateTime<Utc>) {
    let env = &found.envelope;
    let object = found.location.object();
    println!("task      {}", env.id);
    println!("class     {}", env.class);
    let state = match &found.location {
        Location::Running {
            epoch,
            worker,
            expires_at,
            ..
        } => {
            let lease = match expires_at {
                Some(t) if *t > now => format!("lease expires {}", output::relative(now, *t)),
                Some(t) => format!(
                    "lease EXPIRED {} (a reclaim will take it over)",
                    output::relative(now, *t)
                ),
                None => "no expiry recorded".into(),
            };
            format!("running on {worker} (epoch {epoch}, {lease})")
        }
        other => other.state().to_string(),
    };
    println!("state     {state}");
    println!("object    {object}");
    if let Some(cmd) = ctx.cat_command(object) {
        println!("          {cmd}");
    }
}

fn print_fields(env: &Envelope, now: DateTime<Utc>) {
    println!("kind      {}", env.kind);
    println!(
        "created   {} ({})",
        output::timestamp(env.created_at),
        output::relative(now, env.created_at)
    );
    println!(
        "due       {} ({})",
        output::timestamp(env.due_at),
        output::relative(now, env.due_at)
    );
    println!("attempt   {} of {}", env.attempt, env.max_attempts);
    if let Some(key) = &env.idempotency_key {
        println!("key       {key}");
    }
    if let Some(source) = &env.source {
        let mut parts = vec![source.kind.clone()];
        if let Some(chat) = source.chat_id {
            parts.push(format!("chat={chat}"));
        }
        if let Some(msg) = source.message_id {
            parts.push(format!("message={msg}"));
        }
        if let Some(update) = source.update_id {
            parts.push(format!("update={update}"));
        }
        if let Some(schedule) = &source.schedule {
            parts.push(format!("schedule={schedule}"));
        }
        println!("source    {}", parts.join(" "));
    }
    if let Some(of) = env.replay_of {
        println!("replays   {of}");
    }
    for (k, v) in &env.labels {
        println!("label     {k}={v}");
    }
    for a in &env.attachments {
        println!("attached  {} ({})", a.name, a.object);
    }
    println!("payload:");
    println!("{}", indent(&pretty(&env.payload)));
}

fn print_attempts(env: &Envelope) {
    if env.attempts.is_empty() {
        println!("\nattempts: none yet");
        return;
    }
    println!("\nattempts:");
    let mut table = Table::new(&[
        "#", "EPOCH", "WORKER", "STARTED", "TOOK", "OUTCOME", "ERROR",
    ]);
    for a in &env.attempts {
        table.row(vec![
            a.number.to_string(),
            a.epoch.to_string(),
            a.worker.clone(),
            output::timestamp(a.started_at),
            output::or_dash(a.ended_at.map(|e| output::span(e - a.started_at))),
            a.outcome
                .map(|o| {
                    serde_json::to_value(o)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                })
                .unwrap_or_else(|| "running".into()),
            output::or_dash(a.error.as_deref().map(|e| output::first_line(e, 80))),
        ]);
    }
    print!("{}", indent(&table.render()));
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}
