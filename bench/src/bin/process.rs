//! The release worker binaries as processes on a local store: idle and busy memory (VmRSS)
//! and the pickup latency of an idle worker; one JSON document on stdout. See
//! docs/benchmarks.md.
//!
//! ```text
//! cargo build --release -p worker-light -p worker-heavy
//! cargo run --release -p bench --bin process -- [--pickup-samples 50] [--busy-rate 200]
//! ```

use std::path::PathBuf;
use std::time::Duration;

use bench::BenchResult;
use bench::process::{ProcessConfig, measure};
use clap::Parser;
use queue_core::Class;

#[derive(Debug, Parser)]
#[command(about = "Memory and pickup latency of the worker binaries")]
struct Args {
    /// worker-light binary [default: next to this one].
    #[arg(long)]
    light: Option<PathBuf>,
    /// worker-heavy binary, idle memory only [default: next to this one; skipped if absent].
    #[arg(long)]
    heavy: Option<PathBuf>,
    /// Idle seconds before reading memory.
    #[arg(long, default_value_t = 5)]
    settle_secs: u64,
    /// Pickup latency samples.
    #[arg(long, default_value_t = 50)]
    pickup_samples: usize,
    /// Busy stream: echo tasks a second.
    #[arg(long, default_value_t = 200)]
    busy_rate: u32,
    /// Busy stream: seconds.
    #[arg(long, default_value_t = 10)]
    busy_seconds: u64,
}

fn sibling(name: &str) -> BenchResult<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(name))
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let args = Args::parse();
    let settle = Duration::from_secs(args.settle_secs);
    let light = ProcessConfig {
        binary: args
            .light
            .clone()
            .map_or_else(|| sibling("worker-light"), Ok)?,
        class: Class::Light,
        settle,
        pickup_samples: args.pickup_samples,
        busy_rate: args.busy_rate,
        busy_seconds: args.busy_seconds,
        extra_args: Vec::new(),
    };
    eprintln!("process: measuring {}", light.binary.display());
    let light_report = measure(&light).await?;

    let heavy_binary = args
        .heavy
        .clone()
        .map_or_else(|| sibling("worker-heavy"), Ok)?;
    let heavy_report = if heavy_binary.exists() {
        eprintln!("process: measuring {} (idle only)", heavy_binary.display());
        let heavy = ProcessConfig {
            binary: heavy_binary,
            class: Class::Heavy,
            settle,
            pickup_samples: 0,
            busy_rate: 0,
            busy_seconds: 0,
            extra_args: Vec::new(),
        };
        Some(measure(&heavy).await?)
    } else {
        None
    };
    let report = serde_json::json!({
        "store": "local directory (tempdir)",
        "worker_light": light_report,
        "worker_heavy": heavy_report,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
