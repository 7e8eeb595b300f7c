//! The cost model: a simulated month of today's workload on an injected clock, every store
//! operation counted by GCS class, and the bill — for the default cadences and for each knob
//! turned on its own. One JSON document on stdout. See docs/cost.md.
//!
//! ```text
//! cargo run --release -p bench --bin cost -- [--days 30] [--no-knobs]
//! ```

use std::time::{Duration, Instant};

use bench::BenchResult;
use bench::sim::bill::Prices;
use bench::sim::{Knobs, Scenario, run};
use clap::Parser;
use queue_core::schedule::{RunMode, Schedule};
use queue_worker::config::CloudCadence;

#[derive(Debug, Parser)]
#[command(about = "A simulated month of today's workload and its GCS operations bill")]
struct Args {
    /// Days to simulate.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Only the default cadences (skip the knob table).
    #[arg(long)]
    no_knobs: bool,
}

/// One knob turned: (knob, value, the knobs).
fn variants() -> Vec<(&'static str, &'static str, Knobs)> {
    let d = Knobs::default;
    let secs = Duration::from_secs;
    let min = |m: u64| Duration::from_secs(m * 60);
    vec![
        (
            "idle poll",
            "10s",
            Knobs {
                idle_poll: secs(10),
                ..d()
            },
        ),
        (
            "idle poll",
            "60s",
            Knobs {
                idle_poll: secs(60),
                ..d()
            },
        ),
        (
            "idle poll",
            "2m",
            Knobs {
                idle_poll: min(2),
                ..d()
            },
        ),
        (
            "idle poll",
            "5m",
            Knobs {
                idle_poll: min(5),
                ..d()
            },
        ),
        (
            "presence cadence",
            "5m",
            d().both(|c| c.presence_every = min(5)),
        ),
        (
            "presence cadence",
            "60m",
            d().both(|c| c.presence_every = min(60)),
        ),
        (
            "lease TTL",
            "2m",
            Knobs {
                lease_ttl: min(2),
                ..d()
            },
        ),
        (
            "lease TTL",
            "15m",
            Knobs {
                lease_ttl: min(15),
                ..d()
            },
        ),
        (
            "reclaim interval",
            "15m",
            d().both(|c| c.reclaim_every = min(15)),
        ),
        (
            "reclaim interval",
            "6h",
            d().both(|c| c.reclaim_every = min(360)),
        ),
        (
            "safety-net listing",
            "10m",
            d().both(|c| c.list_every = min(10)),
        ),
        (
            "safety-net listing",
            "2h",
            d().both(|c| c.list_every = min(120)),
        ),
        (
            "schedule refresh",
            "1m",
            d().both(|c| c.schedule_refresh = min(1)),
        ),
        (
            "schedule refresh",
            "2h",
            d().both(|c| c.schedule_refresh = min(120)),
        ),
    ]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> BenchResult<()> {
    let args = Args::parse();
    let prices = Prices::default();
    let scenario = Scenario {
        days: args.days,
        ..Scenario::month()
    };
    let t = Instant::now();
    let base = run(&scenario).await?;
    eprintln!(
        "cost: simulated {} days in {:.1}s",
        args.days,
        t.elapsed().as_secs_f64()
    );
    let bill = prices.bill(base.class_a, base.class_b);

    let mut knobs = Vec::new();
    if !args.no_knobs {
        for (knob, value, k) in variants() {
            let r = run(&Scenario {
                knobs: k,
                ..scenario.clone()
            })
            .await?;
            let b = prices.bill(r.class_a, r.class_b);
            eprintln!(
                "cost: {knob} = {value}: A={} B={} ${}",
                r.class_a, r.class_b, b.total_usd
            );
            knobs.push(serde_json::json!({
                "knob": knob, "value": value,
                "class_a": r.class_a, "class_b": r.class_b, "bill": b,
            }));
        }
    }
    // What each routine schedule costs: the month without it, compared.
    let mut schedules = Vec::new();
    if !args.no_knobs {
        for schedule in &scenario.schedules {
            let without = Scenario {
                schedules: scenario
                    .schedules
                    .iter()
                    .filter(|s| s.name != schedule.name)
                    .cloned()
                    .collect(),
                ..scenario.clone()
            };
            let r = run(&without).await?;
            let b = prices.bill(r.class_a, r.class_b);
            schedules.push(serde_json::json!({
                "schedule": schedule.name,
                "timing": schedule.spec.to_string(),
                "tasks": base.tasks.scheduled - r.tasks.scheduled,
                "class_a": base.class_a as i64 - r.class_a as i64,
                "class_b": base.class_b as i64 - r.class_b as i64,
                "usd_saved_without_it": ((bill.total_usd - b.total_usd) * 10_000.0).round() / 10_000.0,
            }));
        }
    }
    let (as_tasks, sync_check) = if args.no_knobs {
        (serde_json::Value::Null, serde_json::Value::Null)
    } else {
        (
            month_as_tasks(&scenario, &prices).await?,
            sync_check_per_hour(&scenario).await?,
        )
    };
    let fmt = |d: Duration| humantime::format_duration(d).to_string();
    let cadence = |c: &CloudCadence| {
        serde_json::json!({
            "presence_every": fmt(c.presence_every), "list_every": fmt(c.list_every),
            "reclaim_every": fmt(c.reclaim_every), "schedule_refresh": fmt(c.schedule_refresh),
        })
    };
    let k = &scenario.knobs;
    let report = serde_json::json!({
        "days": args.days,
        "start": scenario.start,
        "workload": scenario.workload,
        "defaults": {
            "idle_poll": fmt(k.idle_poll), "busy_poll": fmt(k.busy_poll),
            "lease_ttl": fmt(k.lease_ttl),
            "light": cadence(&k.light), "heavy": cadence(&k.heavy),
        },
        "prices": prices,
        "month": base,
        "bill": bill,
        "knobs": knobs,
        "schedules": schedules,
        "all_schedules_as_tasks": as_tasks,
        "sync_check": sync_check,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The same month with every schedule a task (`run = "task"`): the bill before inline runs.
async fn month_as_tasks(scenario: &Scenario, prices: &Prices) -> BenchResult<serde_json::Value> {
    let mut tasks_only = scenario.clone();
    for s in &mut tasks_only.schedules {
        s.run = RunMode::Task;
    }
    let r = run(&tasks_only).await?;
    let b = prices.bill(r.class_a, r.class_b);
    eprintln!(
        "cost: all schedules as tasks: A={} B={} ${}",
        r.class_a, r.class_b, b.total_usd
    );
    Ok(serde_json::json!({
        "class_a": r.class_a, "class_b": r.class_b, "bill": b, "tasks": r.tasks,
    }))
}

/// The sync check alone, inline and as a task: the scheduler's (and, as a task, the workers')
/// operations per hour with it, minus the same month without any schedule. Counted from the
/// second day, so start-up is left out.
async fn sync_check_per_hour(scenario: &Scenario) -> BenchResult<serde_json::Value> {
    let sync: Vec<_> = scenario
        .schedules
        .iter()
        .filter(|s| s.name == "sync-check")
        .cloned()
        .collect();
    let base = Scenario {
        schedules: Vec::new(),
        measure_from: chrono::Duration::days(1),
        ..scenario.clone()
    };
    let none = run(&base).await?;
    let mut out = serde_json::Map::new();
    for mode in [RunMode::Inline, RunMode::Task] {
        let with = Scenario {
            schedules: sync
                .iter()
                .cloned()
                .map(|s| Schedule { run: mode, ..s })
                .collect(),
            ..base.clone()
        };
        let r = run(&with).await?;
        let per_hour = |a: u64, b: u64| (a as f64 - b as f64) / r.hours;
        let sched = |r: &bench::sim::SimReport| r.by_actor["scheduler"].clone();
        out.insert(
            mode.to_string(),
            serde_json::json!({
                "hours": r.hours,
                "class_a_per_hour": per_hour(r.class_a, none.class_a),
                "class_b_per_hour": per_hour(r.class_b, none.class_b),
                "scheduler_class_a_per_hour": per_hour(sched(&r).class_a, sched(&none).class_a),
                "runs": r.tasks.inline_runs + r.tasks.scheduled,
                "rollups": r.tasks.rollups,
            }),
        );
    }
    eprintln!("cost: sync check per hour: {out:?}");
    Ok(serde_json::Value::Object(out))
}
