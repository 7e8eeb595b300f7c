//! One file per subcommand. Each opens the store with the access it needs, reads or acts
//! through queue-core, and prints a table or JSON.

mod cancel;
mod dev;
mod enqueue;
mod invalid;
mod ls;
mod purge;
mod replay;
mod schedules;
mod show;
mod stats;
mod workers;

use crate::cli::{Cli, Command, SchedulesCommand};
use crate::context::{Access, Ctx};
use crate::exit::CliError;

/// Run the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let Cli {
        store,
        json,
        command,
    } = cli;
    let open = |access| Ctx::open(&store, access, json);
    match command {
        Command::Enqueue(args) => enqueue::run(&open(Access::Write).await?, args).await,
        Command::Ls(args) => ls::run(&open(Access::Read).await?, args).await,
        Command::Show(args) => show::run(&open(Access::Read).await?, args.id).await,
        Command::Stats => stats::run(&open(Access::Read).await?).await,
        Command::Replay(args) => replay::run(&open(Access::Read).await?, args).await,
        Command::Cancel(args) => cancel::run(&open(Access::Read).await?, args).await,
        Command::Purge(args) => purge::run(&open(Access::Read).await?, args).await,
        Command::Workers => workers::run(&open(Access::Read).await?).await,
        Command::Invalid => invalid::run(&open(Access::Read).await?).await,
        Command::Schedules(args) => {
            // adding the first schedule may create a local store; the rest need one
            let access = match args.command {
                SchedulesCommand::Add(_) => Access::Write,
                _ => Access::Read,
            };
            schedules::run(&open(access).await?, args.command).await
        }
        Command::Dev(args) => dev::run(&store, args).await,
    }
}
