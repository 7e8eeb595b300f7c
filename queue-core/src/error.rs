//! Errors in two layers: a coarse [`ErrorKind`] that says what the caller should do, and a
//! message with `key=value` context that says what happened. Store errors are mapped once,
//! here, exhaustively enough that nobody downcasts.

use std::fmt;

/// What the caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Someone else won a race (the object already exists). Usually: skip and move on.
    Conflict,
    /// This worker's lease on the task is gone (taken over, cancelled or expired):
    /// stop the handler and commit nothing.
    LeaseLost,
    /// The task or object does not exist.
    NotFound,
    /// The store could not be reached or answered with a transient error: retry later.
    Unavailable,
    /// The input (URL, id, envelope, setting) is wrong: fix it; retrying will not help.
    InvalidInput,
    /// Credentials are missing or refused: fix the credentials.
    Unauthenticated,
    /// A bug or an unexpected answer: report it.
    Internal,
}

impl ErrorKind {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Unavailable)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::Conflict => "conflict",
            ErrorKind::LeaseLost => "lease lost",
            ErrorKind::NotFound => "not found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Internal => "internal",
        };
        f.write_str(s)
    }
}

/// The crate's error: a kind and a lowercase message with context.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind: what to do about it.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    pub(crate) fn lease_lost(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::LeaseLost, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// Map an object_store error, naming the object it concerns.
    pub(crate) fn store(op: &str, path: &str, err: object_store::Error) -> Self {
        use object_store::Error as E;
        let kind = match &err {
            E::NotFound { .. } => ErrorKind::NotFound,
            E::AlreadyExists { .. } | E::Precondition { .. } => ErrorKind::Conflict,
            E::NotModified { .. } => ErrorKind::Conflict,
            E::InvalidPath { .. } => ErrorKind::InvalidInput,
            E::NotSupported { .. } | E::NotImplemented { .. } => ErrorKind::Internal,
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            E::UnknownConfigurationKey { .. } => ErrorKind::InvalidInput,
            // Generic, JoinError and the rest: the HTTP client already retried transient
            // failures, so what reaches us is treated as "try again later".
            _ => ErrorKind::Unavailable,
        };
        let hint = match kind {
            ErrorKind::Unauthenticated => {
                "; check the credentials (GOOGLE_APPLICATION_CREDENTIALS, AWS_* variables) and that they may use this bucket"
            }
            ErrorKind::Unavailable => "; the store did not answer, retry later",
            _ => "",
        };
        Error::new(kind, format!("{op} failed: object={path}{hint}")).with_source(err)
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::new(ErrorKind::InvalidInput, format!("invalid json: {err}")).with_source(err)
    }
}
