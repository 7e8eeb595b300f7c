//! SIGTERM (Cloud Run, systemd, launchd) and SIGINT (Ctrl-C), received in order. What a signal
//! means is the binary's business: the ingress stops serving at the first; the workers stop
//! claiming at the first and exit at once at the second.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// A signal that asks the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// SIGTERM.
    Term,
    /// SIGINT.
    Int,
}

impl Received {
    /// `SIGTERM` or `SIGINT`, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Received::Term => "SIGTERM",
            Received::Int => "SIGINT",
        }
    }

    /// The conventional exit code of a process ended by this signal: 128 + its number.
    pub fn exit_code(self) -> i32 {
        match self {
            Received::Term => 128 + 15,
            Received::Int => 128 + 2,
        }
    }
}

/// Listeners for SIGTERM and SIGINT, installed when created (a signal before that ends the
/// process the default way).
#[derive(Debug)]
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    /// Install the listeners. Needs a running tokio runtime.
    pub fn new() -> std::io::Result<Self> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Wait for the next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> Received {
        tokio::select! {
            _ = self.term.recv() => Received::Term,
            _ = self.int.recv() => Received::Int,
        }
    }
}

/// Completes at the first SIGTERM or SIGINT, logging which. If the listeners cannot be
/// installed it logs a warning and never completes.
pub async fn first() -> Received {
    match Signals::new() {
        Ok(mut signals) => {
            let got = signals.recv().await;
            tracing::info!(signal = got.name(), "{}: shutting down", got.name());
            got
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM/SIGINT");
            std::future::pending().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_sent_to_the_process_is_received_by_name() {
        let mut signals = Signals::new().unwrap();
        // the listener is installed: a SIGINT now is received, not fatal
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let got = tokio::time::timeout(std::time::Duration::from_secs(30), signals.recv())
            .await
            .expect("SIGINT arrives");
        assert_eq!(got, Received::Int);
        assert_eq!((got.name(), got.exit_code()), ("SIGINT", 130));
    }
}
