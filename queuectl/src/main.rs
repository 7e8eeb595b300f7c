//! queuectl: inspect and operate the queue from a terminal.
//!
//! Map of the binary:
//!
//! - [`cli`]      — the command line (clap derive) and its value parsers: classes, states,
//!   durations, task ids and payloads are checked here, so a typo is a usage error (exit 2).
//! - [`context`]  — opens the store named by `--store` and builds the [`queue_core::Queue`].
//! - [`commands`] — one file per subcommand; each reads, decides, prints.
//! - [`output`]   — tables for people, `--json` for scripts, ages and progress lines.
//! - [`exit`]     — the documented exit codes and the error type that carries one.

mod cli;
mod commands;
mod context;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(&cli);
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::Exit::Error as u8);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            err.report(json);
            ExitCode::from(err.exit as u8)
        }
    }
}

/// Logs go to stderr as text, warnings only unless `RUST_LOG` says otherwise (`dev` shows
/// info).
fn init_tracing(cli: &cli::Cli) {
    process_shell::logging::init(
        Some(process_shell::LogFormat::Text),
        cli.command.default_log_filter(),
    );
}
