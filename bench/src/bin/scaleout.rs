//! Scale-out: drain a backlog with 1, 4, 16 and 64 worker slots over 1, 2, 4 and 8 in-process
//! workers on the 50 ms store; tasks/s, Class A per task and lost races per task. One JSON
//! document on stdout. See docs/benchmarks.md ("Scale-out").
//!
//! ```text
//! target/release/scaleout [--tasks 2000] [--tasks-one-slot 300] [--store memory-50ms]
//! ```

use std::time::Duration;

use bench::BenchResult;
use bench::scaleout::{SHAPES, drain};
use bench::store::{ADDED_LATENCY, StoreKind};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Drain a backlog with more and more worker slots; how the throughput scales")]
struct Args {
    /// Tasks in the backlog (every shape but the single slot).
    #[arg(long, default_value_t = 2000)]
    tasks: usize,
    /// Tasks for the single slot (about 2 a second on the 50 ms store: 2,000 would take a
    /// quarter of an hour for the same steady rate).
    #[arg(long, default_value_t = 300)]
    tasks_one_slot: usize,
    /// The store: memory-50ms, local, local-tmpfs or s3.
    #[arg(long, default_value = "memory-50ms")]
    store: StoreKind,
    /// Give up on one shape after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout_s: u64,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> BenchResult<()> {
    let args = Args::parse();
    let mut points = Vec::new();
    for shape in SHAPES {
        let tasks = if shape.slots() == 1 {
            args.tasks_one_slot
        } else {
            args.tasks
        };
        let p = drain(
            args.store,
            shape,
            tasks,
            Duration::from_secs(args.timeout_s),
        )
        .await?;
        eprintln!(
            "scaleout: {} slots ({}×{}): {:.1} tasks/s, {:.2} A/task, {:.2} failed creates/task",
            p.slots,
            p.workers,
            p.concurrency,
            p.tasks_per_s,
            p.ops_per_task.class_a,
            p.failed_creates_per_task
        );
        points.push(p);
    }
    let report = serde_json::json!({
        "store": args.store.as_str(),
        "added_latency_ms": ADDED_LATENCY.as_millis() as u64,
        "workers_are": "in-process Worker instances, each with its own Queue, id and discovery",
        "points": points,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
