//! Pickup latency and store operations per task by wake-up source (poll, Pub/Sub, filesystem
//! events), side by side in one run; one JSON document on stdout. See docs/benchmarks.md
//! ("Wake-ups").
//!
//! ```text
//! cargo run --release -p bench --bin wake > bench/results/wake.json
//! ```

use bench::BenchResult;
use bench::wake::{Plan, measure};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    about = "Pickup latency by wake-up source: poll vs Pub/Sub (50 ms store), poll vs filesystem events (local)"
)]
struct Args {
    /// Tasks per row on the 50 ms store (2–20 s apart; 0 skips these rows).
    #[arg(long, default_value_t = 20)]
    cloud_samples: usize,
    /// Tasks per row on the local directory (0.3–0.8 s apart; 0 skips these rows).
    #[arg(long, default_value_t = 100)]
    local_samples: usize,
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let args = Args::parse();
    let rows = measure(
        Plan {
            samples: args.cloud_samples,
            gap: (2.0, 20.0),
        },
        Plan {
            samples: args.local_samples,
            gap: (0.3, 0.8),
        },
    )
    .await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "wake": rows }))?
    );
    Ok(())
}
