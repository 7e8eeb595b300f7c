//! Store operations by GCS class: per protocol step, per task through the real worker, and
//! per idle hour of each worker; one JSON document on stdout. Runs on an injected clock, so it
//! takes seconds. See docs/benchmarks.md and docs/cost.md.
//!
//! ```text
//! cargo run --release -p bench --bin ops
//! ```

use std::time::Duration;

use bench::BenchResult;
use bench::ops::{Pattern, per_task, step_costs};
use bench::sim::workload::Workload;
use bench::sim::{Scenario, run};
use clap::Parser;
use queue_worker::DiscoverySettings;
use queue_worker::config::Defaults;

#[derive(Debug, Parser)]
#[command(about = "Class A/B operations per step, per task and per idle hour")]
struct Args {
    /// Simulated hours of idle workers (after a first hour left out: start-up costs).
    #[arg(long, default_value_t = 48)]
    idle_hours: u32,
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let args = Args::parse();
    let steps = step_costs().await?;
    // worker-light's cadence on gs:// (the worker that runs most tasks).
    let light = Defaults::light().cloud;
    let cloud = DiscoverySettings {
        list_every: light.list_every,
        reclaim_every: light.reclaim_every,
        ..DiscoverySettings::cloud()
    };
    let per_task = vec![
        per_task(
            48,
            Pattern::Spaced(Duration::from_secs(30 * 60)),
            cloud.clone(),
            25,
        )
        .await?,
        per_task(
            144,
            Pattern::Spaced(Duration::from_secs(10 * 60)),
            cloud.clone(),
            25,
        )
        .await?,
        per_task(1000, Pattern::Backlog, cloud.clone(), 2).await?,
    ];

    // Idle: no requests, no schedules, the MacBook always on; the first hour left out.
    let days = args.idle_hours.div_ceil(24) + 1;
    let idle = run(&Scenario {
        days,
        workload: Workload::idle(),
        schedules: Vec::new(),
        measure_from: chrono::Duration::hours(1),
        ..Scenario::month()
    })
    .await?;
    let per_hour = |actor: &str| {
        let ops = &idle.by_actor[actor];
        serde_json::json!({
            "class_a": (ops.class_a as f64 / idle.hours * 100.0).round() / 100.0,
            "class_b": (ops.class_b as f64 / idle.hours * 100.0).round() / 100.0,
            "by_op_per_hour": ops.by_op.iter().map(|(op, n)| {
                (serde_json::to_value(op).unwrap_or_default().as_str().unwrap_or("?").to_string(),
                 (*n as f64 / idle.hours * 100.0).round() / 100.0)
            }).collect::<std::collections::BTreeMap<_, _>>(),
        })
    };
    let report = serde_json::json!({
        "store": "in-memory, counted by CountingStore; clock injected (ManualClock)",
        "per_task_discovery": {
            "busy_poll": humantime::format_duration(cloud.busy_poll).to_string(),
            "idle_poll": humantime::format_duration(cloud.idle_poll).to_string(),
            "list_every": humantime::format_duration(cloud.list_every).to_string(),
            "reclaim_every": humantime::format_duration(cloud.reclaim_every).to_string(),
        },
        "steps": steps,
        "per_task": per_task,
        "idle_per_hour": {
            "hours": idle.hours,
            "worker_heavy": per_hour("worker-heavy"),
            "worker_light": per_hour("worker-light"),
            "scheduler_in_worker_light": per_hour("scheduler"),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
