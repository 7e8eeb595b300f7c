//! Exit codes scripts can rely on, and the error that carries one.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | ok |
//! | 1 | error (a bug, or a bulk operation where some items failed) |
//! | 2 | usage: a bad flag, value, id or URL — fix the command line |
//! | 3 | not found: no task (or schedule, worker) with that id |
//! | 4 | refused: the task is in a state that does not allow it, or it changed under us |
//! | 5 | the store cannot be reached, does not exist, or refuses the credentials |
//!
//! queue-core's coarse [`ErrorKind`] maps onto these in one place, [`Exit::from_kind`].

use queue_core::ErrorKind;

/// The text `--help` shows under the commands.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ok
  1  error (or some items of a bulk operation failed)
  2  usage: bad flag, value, id or store URL
  3  not found: no task or schedule with that id
  4  refused: the task's state does not allow it, or it changed meanwhile
  5  store unreachable, missing, or credentials refused";

/// A documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// A bug or a partial bulk failure.
    Error = 1,
    /// Bad command line.
    Usage = 2,
    /// Unknown id.
    NotFound = 3,
    /// Conflict or a state that refuses the operation.
    Refused = 4,
    /// The store is unreachable, missing, or refuses the credentials.
    Store = 5,
}

impl Exit {
    /// The code for a queue-core error kind. `InvalidInput` is a usage error here; commands
    /// whose `InvalidInput` means "not in that state" use [`CliError::refusal`] instead.
    pub fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::NotFound => Exit::NotFound,
            ErrorKind::Conflict | ErrorKind::LeaseLost => Exit::Refused,
            ErrorKind::Unavailable | ErrorKind::Unauthenticated => Exit::Store,
            ErrorKind::InvalidInput => Exit::Usage,
            ErrorKind::Internal => Exit::Error,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Exit::Error => "error",
            Exit::Usage => "usage",
            Exit::NotFound => "not_found",
            Exit::Refused => "refused",
            Exit::Store => "store",
        }
    }
}

/// An error on its way out of the program: what to print and which code to exit with.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong (lowercase, with `key=value` context).
    pub message: String,
    /// What to do about it, if there is something to say.
    pub hint: Option<String>,
}

impl CliError {
    /// An error with an explicit exit code.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            hint: None,
        }
    }

    /// Add a hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// For operations on one task (cancel, replay): queue-core answers `InvalidInput` when
    /// the task is in a state that does not allow the operation; that is a refusal (4).
    pub fn refusal(err: queue_core::Error) -> Self {
        let mut out = CliError::from(err);
        if out.exit == Exit::Usage {
            out.exit = Exit::Refused;
        }
        out
    }

    /// Print to stderr: `error: …` and `hint: …`, or one JSON object with `--json`.
    pub fn report(&self, json: bool) {
        if json {
            let value = serde_json::json!({
                "error": {
                    "code": self.exit as u8,
                    "kind": self.exit.label(),
                    "message": self.message,
                    "hint": self.hint,
                }
            });
            eprintln!("{value}");
        } else {
            eprintln!("error: {}", self.message);
            if let Some(hint) = &self.hint {
                eprintln!("hint: {hint}");
            }
        }
    }
}

impl From<queue_core::Error> for CliError {
    fn from(err: queue_core::Error) -> Self {
        let exit = Exit::from_kind(err.kind());
        // The kind prefix helps where the message alone does not say it ("unavailable: …");
        // for a missing task or a bad value the message says it all.
        let mut message = match err.kind() {
            ErrorKind::NotFound | ErrorKind::InvalidInput | ErrorKind::Conflict => {
                err.message().to_string()
            }
            _ => err.to_string(),
        };
        // the underlying cause (an I/O or HTTP error) helps with store problems
        if let Some(source) = std::error::Error::source(&err) {
            message = format!("{message} ({source})");
        }
        CliError::new(exit, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_documented_code() {
        let cases = [
            (ErrorKind::NotFound, 3),
            (ErrorKind::Conflict, 4),
            (ErrorKind::LeaseLost, 4),
            (ErrorKind::Unavailable, 5),
            (ErrorKind::Unauthenticated, 5),
            (ErrorKind::InvalidInput, 2),
            (ErrorKind::Internal, 1),
        ];
        for (kind, code) in cases {
            assert_eq!(Exit::from_kind(kind) as u8, code, "{kind}");
        }
    }

    #[test]
    fn invalid_input_on_a_task_operation_is_a_refusal() {
        let err = queue_core::Error::new(ErrorKind::InvalidInput, "task already finished");
        assert_eq!(CliError::refusal(err).exit, Exit::Refused);
        let err = queue_core::Error::new(ErrorKind::NotFound, "task not found");
        assert_eq!(CliError::refusal(err).exit, Exit::NotFound);
    }
}
