//! bench: measurements of the queue (docs/benchmarks.md) and its cost model (docs/cost.md).
//! The binaries in `src/bin/` are thin: each parses flags, runs one measurement from here and
//! prints JSON; `scripts/bench.sh` runs them all and `report` turns the JSON into the docs'
//! tables.
//!
//! Map of the crate:
//!
//! - [`store`]      — the stores measured (local directory, memory + 50 ms, S3 on moto), each
//!   wrapped in an operation counter and a done-watch.
//! - [`done_watch`] — a store wrapper that sees tasks reach `done/` (no listing needed).
//! - [`fleet`]      — in-process workers running queue-worker's real runner, and a producer.
//! - [`ops`]        — Class A/B operations per protocol step and per task (injected clock).
//! - [`throughput`] — tasks per second, end to end and draining a backlog.
//! - [`scaleout`]   — the same backlog drained by 1 to 64 slots on the 50 ms store.
//! - [`process`]    — the worker binaries as processes: memory and pickup latency.
//! - [`stats`]      — percentiles.
//! - [`rss`]        — resident memory of a process, from `/proc`.
//! - [`sim`]        — the month on an injected clock: workload, simulated processes, the bill.
//! - [`report`]     — markdown tables from the results, written between markers in docs/.
//! - [`wake`]       — pickup latency by wake-up source: poll, Pub/Sub, filesystem events.

pub mod done_watch;
pub mod fleet;
pub mod ops;
pub mod process;
pub mod report;
pub mod rss;
pub mod scaleout;
pub mod sim;
pub mod stats;
pub mod store;
pub mod throughput;
pub mod wake;

/// Errors of the benchmark binaries: anything, with its message.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
