//! Rewrite the generated tables of docs/benchmarks.md and docs/cost.md from the JSON results
//! in bench/results/ (what `scripts/bench.sh` saved). Only the text between
//! `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers changes.
//!
//! ```text
//! cargo run --release -p bench --bin report -- [--results bench/results] [--docs docs]
//! ```

use std::path::{Path, PathBuf};

use bench::BenchResult;
use bench::report::{self, Results, blocks::replace_block};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Write the benchmark and cost tables into the docs")]
struct Args {
    /// Where the JSON results are.
    #[arg(long, default_value = "bench/results")]
    results: PathBuf,
    /// Where the docs are.
    #[arg(long, default_value = "docs")]
    docs: PathBuf,
}

fn load(dir: &Path, name: &str) -> BenchResult<Option<serde_json::Value>> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)?;
    let value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(value))
}

type Render = fn(&Results) -> String;

fn rewrite(path: &Path, blocks: &[(&str, Render)], results: &Results) -> BenchResult<()> {
    let mut doc = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for (name, render) in blocks {
        doc = replace_block(&doc, name, &render(results)).ok_or_else(|| {
            format!(
                "{}: no <!-- bench:{name} --> … <!-- /bench:{name} --> block",
                path.display()
            )
        })?;
    }
    std::fs::write(path, doc)?;
    eprintln!("report: rewrote {}", path.display());
    Ok(())
}

fn main() -> BenchResult<()> {
    let args = Args::parse();
    let dir = &args.results;
    let results = Results {
        machine: load(dir, "machine.json")?,
        throughput: load(dir, "throughput.json")?,
        process: load(dir, "process.json")?,
        ops: load(dir, "ops.json")?,
        baselines: load(dir, "baselines.json")?,
        cost: load(dir, "cost.json")?,
        scaleout: load(dir, "scaleout.json")?,
        scaleout_before: load(dir, "scaleout-before.json")?,
    };
    let benchmarks: [(&str, Render); 10] = [
        ("machine", report::machine),
        ("targets", report::targets),
        ("throughput", report::throughput),
        ("pickup", report::pickup),
        ("memory", report::process),
        ("ops-per-task", report::ops_per_task),
        ("ops-steps", report::ops_steps),
        ("idle", report::idle),
        ("baselines", report::baselines),
        ("scaleout", report::scaleout),
    ];
    rewrite(&args.docs.join("benchmarks.md"), &benchmarks, &results)?;
    if let Some(svg) = report::scaleout_svg(&results) {
        let path = args.docs.join("scaleout.svg");
        std::fs::write(&path, svg)?;
        eprintln!("report: wrote {}", path.display());
    }
    let cost: [(&str, Render); 5] = [
        ("machine", report::machine),
        ("cost-month", report::cost_month),
        ("cost-knobs", report::cost_knobs),
        ("cost-schedules", report::cost_schedules),
        ("cost-inline", report::cost_inline),
    ];
    rewrite(&args.docs.join("cost.md"), &cost, &results)?;
    Ok(())
}
