//! `queuectl stats`: counts per class and state, from listings only (no object reads).

use queue_core::inspect::{self, ClassStats};

use crate::context::Ctx;
use crate::exit::CliError;
use crate::output::{self, Table};

/// Print the counts. `--json` prints `queue_core::inspect::Stats` as it serializes:
/// `{"heavy":{"pending":N,"running":N,"done":N,"failed":N},"light":{…},"invalid":N}`.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let stats = inspect::stats(ctx.bucket()).await?;
    if ctx.json {
        output::print_json(&stats);
        return Ok(());
    }
    let mut table = Table::new(&["CLASS", "PENDING", "RUNNING", "DONE", "FAILED"]);
    let row = |name: &str, s: &ClassStats| {
        vec![
            name.to_string(),
            s.pending.to_string(),
            s.running.to_string(),
            s.done.to_string(),
            s.failed.to_string(),
        ]
    };
    table.row(row("heavy", &stats.heavy));
    table.row(row("light", &stats.light));
    print!("{}", table.render());
    println!("invalid: {}", stats.invalid);
    if stats.invalid > 0 {
        println!("(see `queuectl invalid` for what was quarantined and why)");
    }
    Ok(())
}
