//! Signals. The first SIGTERM or SIGINT cancels the returned token: the runner stops claiming,
//! lets running handlers finish within the grace period, then stops the rest and releases their
//! leases (see [`crate::runner::Worker::run`]). A second signal exits at once: every handler's
//! process group gets SIGKILL and the process exits with 128 + the signal number; leases left
//! behind are taken over after they expire.

use process_shell::Signals;
use tokio_util::sync::CancellationToken;

use crate::exec::ProcessGroups;

/// Listen for SIGTERM and SIGINT; the token is cancelled at the first.
pub fn listen(groups: ProcessGroups) -> std::io::Result<CancellationToken> {
    let mut signals = Signals::new()?;
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let first = signals.recv().await;
        tracing::info!(
            signal = first.name(),
            "shutting down: no new tasks; running handlers may finish within the grace period (a second signal exits at once)"
        );
        stop.cancel();
        let second = signals.recv().await;
        tracing::warn!(
            signal = second.name(),
            handlers = groups.len(),
            "second signal: killing handlers and exiting at once"
        );
        groups.kill_all();
        std::process::exit(second.exit_code());
    });
    Ok(token)
}
