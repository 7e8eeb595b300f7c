//! `GET /metrics`: the Prometheus text of [`crate::metrics`], behind the API token (404 when
//! none is configured, like `POST /v1/tasks`). A scrape may list the bucket (at most once a
//! minute): docs/ingress.md has the cost.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::tasks::check_bearer;
use crate::state::AppState;

/// The webhook's route (see [`crate::app`]).
const WEBHOOK_PATH: &str = "/telegram/webhook";

/// The route handler.
pub async fn scrape(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = &state.api_token else {
        return Err(ApiError::not_found("metrics are not configured"));
    };
    check_bearer(&headers, token)?;
    let text = state.metrics.render(state.queue.bucket()).await;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics_text::CONTENT_TYPE),
    );
    Ok(response)
}

/// Middleware (outermost, so it sees the body-limit and timeout answers too): count the
/// webhook's answers by outcome.
pub async fn count_webhook(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let webhook = req.uri().path() == WEBHOOK_PATH;
    let response = next.run(req).await;
    if webhook {
        state.metrics.webhook_answered(response.status());
    }
    response
}
