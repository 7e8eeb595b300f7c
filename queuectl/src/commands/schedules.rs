//! `queuectl schedules add|ls|rm|pause|resume`: the definitions under `schedules/`, through
//! queue-core's [`ScheduleStore`]. The schedulers inside the workers pick changes up at their
//! next refresh; each slot becomes one task (idempotency key `sched:{name}:{slot}`).

use chrono::{DateTime, Utc};
use phrases::{next_run, parse_phrase};
use queue_core::schedule::{Schedule, ScheduleStore, Spec};
use serde::Serialize;

use crate::cli::{ScheduleAddArgs, SchedulesCommand};
use crate::context::Ctx;
use crate::exit::{CliError, Exit};
use crate::output::{self, Table};

/// One schedule as `ls --json` prints it: the stored document plus what people ask about.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    schedule: &'a Schedule,
    /// `paused` or `enabled`.
    state: &'static str,
    /// The next slot, in UTC (absent when paused).
    next_run: Option<DateTime<Utc>>,
    /// The next slot in the schedule's zone, e.g. `2026-03-10 09:00 KST`.
    next_run_local: Option<String>,
    /// The latest slot a scheduler has decided (enqueued or skipped), if any.
    last_slot: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
struct Changed<'a> {
    name: &'a str,
    action: &'static str,
    state: &'static str,
    next_run: Option<DateTime<Utc>>,
}

/// Run a schedules subcommand.
pub async fn run(ctx: &Ctx, command: SchedulesCommand) -> Result<(), CliError> {
    let store = ScheduleStore::new(ctx.bucket().clone());
    match command {
        SchedulesCommand::Add(args) => add(ctx, &store, *args).await,
        SchedulesCommand::Ls => ls(ctx, &store).await,
        SchedulesCommand::Rm(n) => rm(ctx, &store, &n.name).await,
        SchedulesCommand::Pause(n) => {
            let s = store.pause(&n.name).await?;
            changed(ctx, &s, "paused")
        }
        SchedulesCommand::Resume(n) => {
            let s = store.resume(&n.name, ctx.queue.clock().now()).await?;
            changed(ctx, &s, "resumed")
        }
    }
}

async fn add(ctx: &Ctx, store: &ScheduleStore, args: ScheduleAddArgs) -> Result<(), CliError> {
    let now = ctx.queue.clock().now();
    let usage = |e: queue_core::Error| CliError::new(Exit::Usage, e.message().to_string());
    let (spec, tz, description) = match (args.cron, args.every, &args.phrase) {
        (Some(spec), _, _) | (_, Some(spec), _) => (spec, args.tz.clone(), None),
        (None, None, Some(phrase)) => {
            let m = parse_phrase(phrase).map_err(|e| CliError::new(Exit::Usage, e.to_string()))?;
            if !m.rest.is_empty() {
                return Err(CliError::new(
                    Exit::Usage,
                    format!(
                        "--phrase has text after the schedule: {:?}; give only the timing (the task is --kind and --payload)",
                        m.rest
                    ),
                ));
            }
            let spec = Spec::parse_cron(&m.cron).map_err(usage)?;
            (spec, Some(m.tz.name().to_string()), Some(m.description_ko))
        }
        (None, None, None) => {
            return Err(CliError::new(
                Exit::Usage,
                "give the timing: --cron EXPR, --every DUR or --phrase TEXT",
            ));
        }
    };
    let mut s = Schedule::new(
        &args.name,
        spec,
        args.class.into(),
        &args.kind,
        args.payload,
        now,
    )
    .map_err(usage)?;
    if let Some(tz) = tz {
        s = s.with_tz(&tz).map_err(usage)?;
    }
    if let Some(policy) = args.catch_up {
        s = s.with_catch_up(policy).map_err(usage)?;
    }
    if let Some(text) = args.description.or(description) {
        s = s.with_description(text);
    }
    s = s.with_enabled(!args.paused);
    store.create(&s).await?;
    changed(ctx, &s, "added")
}

async fn ls(ctx: &Ctx, store: &ScheduleStore) -> Result<(), CliError> {
    let now = ctx.queue.clock().now();
    let listing = store.list().await?;
    let mut rows = Vec::new();
    for s in &listing.schedules {
        let next = next_run(s, now);
        let last_slot = store.read_marker(&s.name).await?.map(|m| m.last_slot);
        rows.push(Row {
            schedule: s,
            state: state(s),
            next_run: next.map(|n| n.at),
            next_run_local: next.map(|n| n.local_text()),
            last_slot,
        });
    }
    if ctx.json {
        output::print_json(&rows);
    } else {
        let mut table = Table::new(&[
            "NAME",
            "WHEN",
            "TZ",
            "CLASS",
            "KIND",
            "STATE",
            "NEXT (LOCAL)",
            "NEXT (UTC)",
            "LAST SLOT",
        ]);
        for row in &rows {
            let s = row.schedule;
            let next = next_run(s, now);
            table.row(vec![
                s.name.clone(),
                when(&s.spec),
                s.tz.name().to_string(),
                s.class.to_string(),
                s.kind.clone(),
                row.state.to_string(),
                output::or_dash(next.map(|n| n.local_text())),
                output::or_dash(next.map(|n| n.utc_text())),
                output::or_dash(row.last_slot.map(|t| output::relative(now, t))),
            ]);
        }
        table.print_or("no schedules (add one with `queuectl schedules add`)");
    }
    for (object, reason) in &listing.invalid {
        eprintln!("warning: unreadable schedule {object}: {reason}");
    }
    Ok(())
}

async fn rm(ctx: &Ctx, store: &ScheduleStore, name: &str) -> Result<(), CliError> {
    if !store.remove(name).await? {
        return Err(CliError::new(
            Exit::NotFound,
            format!("no such schedule: name={name} (see `queuectl schedules ls`)"),
        ));
    }
    if ctx.json {
        output::print_json(&Changed {
            name,
            action: "removed",
            state: "removed",
            next_run: None,
        });
    } else {
        println!("removed schedule {name}; tasks it already enqueued stay in the queue");
    }
    Ok(())
}

fn changed(ctx: &Ctx, s: &Schedule, action: &'static str) -> Result<(), CliError> {
    let next = next_run(s, ctx.queue.clock().now());
    if ctx.json {
        output::print_json(&Changed {
            name: &s.name,
            action,
            state: state(s),
            next_run: next.map(|n| n.at),
        });
        return Ok(());
    }
    match next {
        Some(next) => println!(
            "{action} schedule {} ({} in {}, {} {}); next run {next}",
            s.name,
            when(&s.spec),
            s.tz.name(),
            s.class,
            s.kind
        ),
        None => println!(
            "{action} schedule {} ({} in {}, {} {}); paused, no next run",
            s.name,
            when(&s.spec),
            s.tz.name(),
            s.class,
            s.kind
        ),
    }
    Ok(())
}

fn state(s: &Schedule) -> &'static str {
    if s.enabled { "enabled" } else { "paused" }
}

fn when(spec: &Spec) -> String {
    match spec {
        Spec::Cron(c) => format!("cron {}", c.expr()),
        Spec::Every(e) => format!("every {}", e.text()),
    }
}
