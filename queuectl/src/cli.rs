//! The command line. Values are checked as they are parsed (class, state, duration, id,
//! kind, payload), so a mistake is a usage error (exit 2) that says what is accepted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use queue_core::schedule::{CatchUp, Spec};
use queue_core::{Class, TaskId, TaskState};
use serde_json::Value;

use crate::exit::EXIT_CODES_HELP;

/// Inspect and operate the queue.
#[derive(Debug, Parser)]
#[command(name = "queuectl", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Where the queue lives: a directory, file:///path, gs://bucket[/prefix],
    /// s3://bucket[/prefix] or memory://
    #[arg(
        long,
        global = true,
        env = "QUEUE_STORE",
        default_value = "./queue-data",
        value_name = "URL"
    )]
    pub store: String,

    /// Print JSON for scripts instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a task; prints its id
    Enqueue(EnqueueArgs),
    /// List tasks (every class and state unless filtered)
    Ls(LsArgs),
    /// Show one task: envelope, attempts, result or failure, and the object it lives in
    Show(IdArg),
    /// Count tasks per class and state
    Stats,
    /// Run failed tasks again: one id, or every failed task matching a filter
    Replay(ReplayArgs),
    /// Cancel a pending or running task (it ends in failed/)
    Cancel(CancelArgs),
    /// Delete finished (done) tasks older than a duration
    Purge(PurgeArgs),
    /// Workers and their presence: online or not, last seen, current tasks
    Workers,
    /// Quarantined objects under invalid/ and why they were set aside
    Invalid,
    /// Recurring schedules: add, ls, rm, pause, resume
    Schedules(SchedulesArgs),
    /// The whole system in one process on the local store: ingress, both workers, scheduler,
    /// the web console at /ui and a chat with the bot at /ui/chat
    Dev(DevArgs),
}

impl Command {
    /// What gets logged to stderr unless `RUST_LOG` says otherwise.
    pub fn default_log_filter(&self) -> &'static str {
        match self {
            Command::Dev(_) => "info",
            _ => "warn",
        }
    }
}

/// A task class on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassArg {
    /// Served by worker-heavy (the MacBook)
    Heavy,
    /// Served by worker-light (the VM)
    Light,
}

impl From<ClassArg> for Class {
    fn from(c: ClassArg) -> Class {
        match c {
            ClassArg::Heavy => Class::Heavy,
            ClassArg::Light => Class::Light,
        }
    }
}

/// A task state on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// Waiting for its due time or a worker
    Pending,
    /// Leased by a worker
    Running,
    /// Finished with a result
    Done,
    /// Dead-lettered or cancelled
    Failed,
}

impl From<StateArg> for TaskState {
    fn from(s: StateArg) -> TaskState {
        match s {
            StateArg::Pending => TaskState::Pending,
            StateArg::Running => TaskState::Running,
            StateArg::Done => TaskState::Done,
            StateArg::Failed => TaskState::Failed,
        }
    }
}

/// `queuectl enqueue`.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// Which workers serve it
    #[arg(long, value_enum)]
    pub class: ClassArg,
    /// The handler to run (a key of the workers' handlers file)
    #[arg(long, value_parser = parse_kind)]
    pub kind: String,
    /// Handler input: inline JSON, @FILE to read a file, or @- to read stdin
    #[arg(long, value_parser = parse_payload, default_value = "{}", value_name = "JSON|@FILE")]
    pub payload: Value,
    /// Run no sooner than this from now (30s, 10m, 2h, 1d)
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub delay: Option<Duration>,
    /// Idempotency key: the same key (per class) creates one task, forever
    #[arg(long)]
    pub key: Option<String>,
    /// Attempts before the task is dead-lettered (default: the queue's setting, 5)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_attempts: Option<u32>,
}

/// `queuectl ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only this class
    #[arg(long, value_enum)]
    pub class: Option<ClassArg>,
    /// Only this state
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only this kind
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<String>,
    /// Only tasks created at least this long ago (30s, 10m, 2h, 7d)
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub older_than: Option<Duration>,
    /// Show at most N tasks
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// A task id argument.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The task id (a UUIDv7, as printed by enqueue and ls)
    #[arg(value_parser = parse_task_id)]
    pub id: TaskId,
}

/// `queuectl replay`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all_failed"])))]
pub struct ReplayArgs {
    /// The failed task to run again
    #[arg(value_parser = parse_task_id)]
    pub id: Option<TaskId>,
    /// Every failed task (narrow with --class and --kind)
    #[arg(long, conflicts_with = "id")]
    pub all_failed: bool,
    /// With --all-failed: only this class
    #[arg(long, value_enum, conflicts_with = "id")]
    pub class: Option<ClassArg>,
    /// With --all-failed: only this kind
    #[arg(long, value_parser = parse_kind, conflicts_with = "id")]
    pub kind: Option<String>,
    /// Show what would be replayed and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `queuectl cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The pending or running task to cancel
    #[arg(value_parser = parse_task_id)]
    pub id: TaskId,
    /// Why (kept in the task's failure)
    #[arg(
        long,
        default_value = "cancelled from the command line",
        value_name = "TEXT"
    )]
    pub reason: String,
}

/// `queuectl purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Done tasks that finished at least this long ago (7d, 30d, 12h)
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub older_than: Duration,
    /// Only this class
    #[arg(long, value_enum)]
    pub class: Option<ClassArg>,
    /// Show what would be purged and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `queuectl schedules`.
#[derive(Debug, Args)]
pub struct SchedulesArgs {
    #[command(subcommand)]
    pub command: SchedulesCommand,
}

/// The schedules subcommands.
#[derive(Debug, Subcommand)]
pub enum SchedulesCommand {
    /// Add a schedule (refused if one of that name exists)
    Add(Box<ScheduleAddArgs>),
    /// List schedules with their next run in the schedule's zone and in UTC
    Ls,
    /// Remove a schedule (tasks it already enqueued stay)
    Rm(ScheduleName),
    /// Pause a schedule: it enqueues nothing until resumed
    Pause(ScheduleName),
    /// Resume a paused schedule (slots missed while paused are not caught up)
    Resume(ScheduleName),
}

/// A schedule name argument.
#[derive(Debug, Args)]
pub struct ScheduleName {
    /// The schedule's name
    #[arg(value_parser = parse_schedule_name)]
    pub name: String,
}

/// `queuectl schedules add`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["cron", "every", "phrase"])))]
pub struct ScheduleAddArgs {
    /// 1-64 lowercase letters, digits, '.', '_' or '-' (e.g. content-ideation)
    #[arg(value_parser = parse_schedule_name)]
    pub name: String,
    /// Cron expression: 5 fields ("0 9 * * *"), or 6 with seconds first
    #[arg(long, value_parser = parse_cron, value_name = "EXPR")]
    pub cron: Option<Spec>,
    /// Fixed interval (30s, 5m, 2h, 1d)
    #[arg(long, value_parser = parse_every, value_name = "DUR")]
    pub every: Option<Spec>,
    /// A Korean phrase such as "매일 오전 9시" or "30분마다" (Asia/Seoul)
    #[arg(long, value_name = "TEXT", conflicts_with = "tz")]
    pub phrase: Option<String>,
    /// IANA zone the cron fields are read in (default Asia/Seoul)
    #[arg(long, value_parser = parse_zone, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Which workers run the tasks
    #[arg(long, value_enum)]
    pub class: ClassArg,
    /// The handler (a key of the workers' handlers file)
    #[arg(long, value_parser = parse_kind)]
    pub kind: String,
    /// Handler input for every run: inline JSON, @FILE or @-
    #[arg(long, value_parser = parse_payload, default_value = "{}", value_name = "JSON|@FILE")]
    pub payload: Value,
    /// Slots missed while no scheduler ran: skip, once (default) or each:N
    #[arg(long, value_parser = parse_catch_up, value_name = "POLICY")]
    pub catch_up: Option<CatchUp>,
    /// Free text for people
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Add it paused
    #[arg(long)]
    pub paused: bool,
}

fn core_message(e: queue_core::Error) -> String {
    e.message().to_string()
}

/// A schedule name.
pub fn parse_schedule_name(s: &str) -> Result<String, String> {
    queue_core::schedule::validate_name(s).map_err(core_message)?;
    Ok(s.to_string())
}

/// A cron expression.
pub fn parse_cron(s: &str) -> Result<Spec, String> {
    Spec::parse_cron(s).map_err(core_message)
}

/// An interval.
pub fn parse_every(s: &str) -> Result<Spec, String> {
    Spec::parse_every(s).map_err(core_message)
}

/// An IANA zone name.
pub fn parse_zone(s: &str) -> Result<String, String> {
    queue_core::schedule::parse_tz(s).map_err(core_message)?;
    Ok(s.trim().to_string())
}

/// A catch-up policy.
pub fn parse_catch_up(s: &str) -> Result<CatchUp, String> {
    s.parse().map_err(core_message)
}

/// `queuectl dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where the ingress listens
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Handlers file [default: examples/handlers.toml when it exists, else only `echo`]
    #[arg(long, value_name = "FILE")]
    pub handlers: Option<PathBuf>,
    /// Schedules file loaded by the light worker's scheduler
    /// [default: examples/schedules.toml when it exists]
    #[arg(long, value_name = "FILE", conflicts_with = "no_schedules")]
    pub schedules: Option<PathBuf>,
    /// Load no schedules file (schedules already in the store still fire)
    #[arg(long)]
    pub no_schedules: bool,
    /// Bearer token for POST /v1/tasks, and the password of the console at /ui
    #[arg(
        long,
        env = "INGRESS_API_TOKEN",
        default_value = "dev-token",
        hide_env_values = true
    )]
    pub token: String,
}

/// Durations as the docs write them (`30s`, `10m`, `2h`, `7d`), with examples in the error.
pub use process_shell::parse_duration;

/// A task id: a UUIDv7.
pub fn parse_task_id(s: &str) -> Result<TaskId, String> {
    s.parse::<TaskId>().map_err(|e| e.message().to_string())
}

/// A task kind: it becomes part of object names and handler lookups.
pub fn parse_kind(s: &str) -> Result<String, String> {
    if queue_core::names::is_valid_kind(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "bad kind {s:?}: use 1-64 letters, digits, '.', '_' or '-', not starting with '.'"
        ))
    }
}

/// A payload: inline JSON, `@FILE`, or `@-` for stdin.
pub fn parse_payload(s: &str) -> Result<Value, String> {
    let (text, from) = match s.strip_prefix('@') {
        Some("-") => {
            let mut buf = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut buf)
                .map_err(|e| format!("cannot read the payload from stdin: {e}"))?;
            (buf, "stdin".to_string())
        }
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the payload file {path:?}: {e}"))?,
            format!("file {path:?}"),
        ),
        None => (s.to_string(), "--payload".to_string()),
    };
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "the payload in {from} is not JSON: {e}; write it like '{{\"topic\":\"brand\"}}' or @payload.json"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn payloads_are_json_or_a_file() {
        assert_eq!(parse_payload(r#"{"a":1}"#), Ok(serde_json::json!({"a": 1})));
        assert!(parse_payload("{oops").unwrap_err().contains("not JSON"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, "[1,2]").unwrap();
        assert_eq!(
            parse_payload(&format!("@{}", file.display())),
            Ok(serde_json::json!([1, 2]))
        );
        assert!(parse_payload("@/nonexistent/p.json").is_err());
    }
}
