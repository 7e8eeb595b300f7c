//! queue-worker: the library behind `worker-heavy` and `worker-light`. Both binaries are a
//! [`Defaults`] value and a call to [`main`]; everything else lives here.
//!
//! Map of the crate (docs/workers.md is the operator's view):
//!
//! - [`config`]      — flags and environment (clap), turned into a plain [`WorkerConfig`].
//! - [`handlers`]    — the handlers file: task kind → command, timeout, env, cwd; built-in `echo`.
//! - [`exec`]        — the exec protocol: run one handler process, map its exit to an outcome.
//! - [`attachments`] — download a task's files into a private temporary directory.
//! - [`heartbeat`]   — renew the lease while the handler runs; cancel it when the lease is lost.
//! - [`discovery`]   — find work cheaply: wake-up object, backed-off polling, reclaim passes,
//!   and direct claims of the objects a push source names.
//! - [`wake`]        — wake-up sources: Pub/Sub bucket notifications, filesystem events, poll.
//! - [`runner`]      — the claim loop with N slots, and running one claimed task to the end.
//! - [`presence`]    — `workers/{id}.json`, and the clock check against the store at start.
//! - [`notify`]      — send results and final failures to a Telegram chat.
//! - [`metrics`]     — counters and the handler-duration histogram on `--metrics-addr`.
//! - [`outputs`]     — write the Markdown reports a handler's result names to `results/`.
//! - [`alerts`]      — operator alerts: dead-lettered routine jobs, findings, a silent VM.
//! - [`shutdown`]    — SIGTERM/SIGINT: stop claiming, grace period, release, second signal
//!   (the signals and the log format come from the `process-shell` crate).
//! - [`scheduler`]   — run queue-core's schedules inside a worker (worker-light by default);
//!   `run = "inline"` schedules with this worker's handlers (no task, an hourly roll-up).
//! - [`app`]         — wiring: build everything from the config and run until shut down.

pub mod alerts;
pub mod app;
pub mod attachments;
pub mod config;
pub mod discovery;
pub mod exec;
pub mod handlers;
pub mod heartbeat;
pub mod metrics;
pub mod notify;
pub mod outputs;
pub mod presence;
pub mod runner;
pub mod scheduler;
pub mod shutdown;
pub mod wake;

pub use app::{main, run};
pub use config::{Defaults, WorkerConfig};
pub use discovery::{Discovery, DiscoverySettings, Step};
pub use handlers::Handlers;
pub use metrics::WorkerMetrics;
pub use runner::{TaskEnd, TaskReport, Worker};
