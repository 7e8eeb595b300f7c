//! The service's one error type. It answers in the app's own JSON shape and never leaks
//! internals: store errors, paths and causes are logged here, at the boundary, and the client
//! only hears what it can act on.
//!
//! ```json
//! {"error": {"code": "invalid_field", "field": "class", "message": "expected heavy or light"}}
//! ```

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use queue_core::ErrorKind;
use serde::Serialize;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    field: Option<String>,
    message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    message: &'a str,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            field: None,
            message: message.into(),
        }
    }

    /// 400: one field of the request is wrong; the answer names it.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", message)
        }
    }

    /// 400: the body is not what the route takes (not JSON, not an object, …).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: a missing or wrong secret. Says nothing about which.
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong credentials",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405: the route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this route",
        )
    }

    /// 408: the request took longer than the service allows.
    pub fn timeout() -> Self {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request took too long",
        )
    }

    /// 413: the body is larger than the limit.
    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than the limit of {limit} bytes"),
        )
    }

    /// 503: a dependency (the store, Telegram) did not answer; try again later.
    pub fn unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "temporarily unavailable, try again later",
        )
    }

    /// 500: a bug or an unexpected answer. Details are in the log, not here.
    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code (`invalid_field`, `unauthorized`, …).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The field named by an `invalid_field` error.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Map a queue error, logging what the client will not see.
    pub fn from_queue(context: &str, err: &queue_core::Error) -> Self {
        match err.kind() {
            ErrorKind::InvalidInput => ApiError::bad_request(err.message()),
            ErrorKind::NotFound => ApiError::not_found(err.message()),
            ErrorKind::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", err.message()),
            ErrorKind::Unavailable => {
                tracing::warn!(error = %err, context, "store unavailable");
                ApiError::unavailable()
            }
            ErrorKind::Unauthenticated | ErrorKind::LeaseLost | ErrorKind::Internal => {
                tracing::error!(error = %err, context, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl From<queue_core::Error> for ApiError {
    fn from(err: queue_core::Error) -> Self {
        ApiError::from_queue("request", &err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                field: self.field.as_deref(),
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
