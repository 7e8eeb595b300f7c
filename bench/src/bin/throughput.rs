//! Tasks per second through the whole lifecycle with 1, 2 and 4 in-process workers on each
//! store; one JSON document on stdout. See docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p bench --bin throughput -- [--stores local,local-tmpfs,memory-50ms,s3]
//!     [--workers 1,2,4] [--modes e2e,drain] [--tasks-local 5000] [--tasks-memory-50ms 100]
//!     [--tasks-s3 300]
//! ```

use std::time::Duration;

use bench::BenchResult;
use bench::store::{StoreFactory, StoreKind};
use bench::throughput::{Mode, Run, measure};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Tasks per second: enqueue → claim → no-op handler → complete")]
struct Args {
    /// Stores to measure.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "local,local-tmpfs,memory-50ms,s3"
    )]
    stores: Vec<StoreKind>,
    /// Worker counts.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    workers: Vec<usize>,
    /// Timings: e2e (producer and workers at once), drain (a backlog).
    #[arg(long, value_delimiter = ',', default_value = "e2e,drain")]
    modes: Vec<Mode>,
    /// Tasks slots per worker.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Enqueues in flight at once.
    #[arg(long, default_value_t = 32)]
    producer_concurrency: usize,
    /// Tasks per run on the local stores.
    #[arg(long, default_value_t = 5000)]
    tasks_local: usize,
    /// Tasks per run on the memory store with 50 ms per call.
    #[arg(long = "tasks-memory-50ms", default_value_t = 100)]
    tasks_memory: usize,
    /// Tasks per run on S3 (moto).
    #[arg(long, default_value_t = 300)]
    tasks_s3: usize,
    /// Give up on a run after this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let args = Args::parse();
    let mut runs = Vec::new();
    for kind in &args.stores {
        let factory = StoreFactory::new(*kind);
        let tasks = match kind {
            StoreKind::Local | StoreKind::LocalTmpfs => args.tasks_local,
            StoreKind::Memory50ms => args.tasks_memory,
            StoreKind::S3 => args.tasks_s3,
        };
        for &workers in &args.workers {
            for &mode in &args.modes {
                let run = Run {
                    mode,
                    workers,
                    concurrency: args.concurrency,
                    tasks,
                    producer_concurrency: args.producer_concurrency,
                    timeout: Duration::from_secs(args.timeout_secs),
                };
                let measured = measure(&factory, &run).await?;
                eprintln!(
                    "throughput: store={} mode={:?} workers={} tasks={} → {} tasks/s",
                    measured.store, measured.mode, workers, tasks, measured.tasks_per_s
                );
                runs.push(measured);
            }
        }
    }
    let report = serde_json::json!({
        "runtime": "tokio multi-thread, one worker thread per core",
        "producer_concurrency": args.producer_concurrency,
        "runs": runs,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
