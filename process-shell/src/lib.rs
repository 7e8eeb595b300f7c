//! process-shell: what the three binaries (worker-heavy and worker-light through queue-worker,
//! ingress, queuectl) do the same way around their work. Libraries never call it; binaries do,
//! once, at start.
//!
//! Map of the crate:
//!
//! - [`logging`]  — tracing to stderr: text on a terminal, one JSON object per line with Cloud
//!   Logging's `severity` otherwise (systemd, launchd, Cloud Run).
//! - [`signals`]  — SIGTERM and SIGINT as values, received in order (first: stop; second: exit).
//! - [`duration`] — the value parser for duration flags (`30s`, `10m`, `2h`, `1h30m`).

pub mod duration;
pub mod logging;
pub mod signals;

pub use duration::parse_duration;
pub use logging::LogFormat;
pub use signals::{Received, Signals};
