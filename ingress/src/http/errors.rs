//! Errors produced outside the handlers — tower-http's body limit (413) and timeout (408),
//! axum's unknown route (404) and wrong method (405) — come as plain text. This layer answers
//! them in the app's JSON error shape instead, so clients parse one format.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::Limits;

/// Rewrite a plain-text error response into an [`ApiError`].
pub async fn json_errors(State(limits): State<Limits>, response: Response) -> Response {
    let status = response.status();
    // JSON is ours already; HTML is the console's own error page
    let is_ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_ours || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(limits.body_bytes),
        StatusCode::REQUEST_TIMEOUT => ApiError::timeout(),
        StatusCode::NOT_FOUND => ApiError::not_found("no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(),
        s if s.is_server_error() => ApiError::internal(),
        _ => ApiError::bad_request("bad request"),
    };
    error.into_response()
}
