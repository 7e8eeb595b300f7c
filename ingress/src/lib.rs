//! ingress: the front door of the queue. A person's Telegram message or a script's HTTP call
//! becomes a task in the bucket, classified heavy (the MacBook) or light (the VM), or a
//! schedule; the person hears within a second what will happen.
//!
//! Map of the crate (docs/ingress.md has the routes, the rules file and the replies):
//!
//! - [`app`] and [`serve`] — the router and the server loop with graceful shutdown; `queuectl
//!   dev` embeds both.
//! - [`state`]    — [`AppState`]: the queue, rules, limits and the optional front doors.
//! - [`http`]     — `GET /healthz`, `POST /v1/tasks`, `GET /metrics`, and the JSON shape of
//!   layer errors.
//! - [`metrics`]  — [`IngressMetrics`]: counters, the cached task counts, store requests.
//! - [`console`]  — the web console under `/ui` (behind the API token) and the dev chat.
//! - [`telegram`] — `POST /telegram/webhook`: updates, requests, photos, commands, schedules,
//!   results and follow-up context, the Bot API client, and `set-webhook`.
//! - [`classify`] — the rules file and the pure decision heavy / light / scheduled.
//! - [`reply`]    — every sentence the bot says, in Korean and English (`reply/results.rs`:
//!   results, follow-ups, `/unschedule`).
//! - [`error`]    — [`ApiError`], the one error type answered to clients.
//! - [`secret`]   — [`Secret`]: never logged, compared in constant time.
//! - [`cli`]      — the binary's flags and environment (the library itself reads neither).

pub mod classify;
pub mod cli;
pub mod console;
pub mod error;
pub mod http;
pub mod metrics;
pub mod reply;
pub mod secret;
pub mod state;
pub mod telegram;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use crate::classify::{Decision, Route, Rules};
pub use crate::error::ApiError;
pub use crate::metrics::IngressMetrics;
pub use crate::reply::Lang;
pub use crate::secret::Secret;
pub use crate::state::{AppState, Limits, TelegramState};

/// The router: `GET /healthz` always; `POST /telegram/webhook` when `state.telegram` is set;
/// `POST /v1/tasks`, `GET /metrics` and the console under `/ui` when `state.api_token` is
/// set (the dev chat too when `state.dev_chat` is). Every route sits behind the body limit
/// (413) and the request timeout (408), and every error is answered as JSON.
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    let mut router = Router::new().route("/healthz", get(http::health::healthz));
    if state.telegram.is_some() {
        router = router.route("/telegram/webhook", post(telegram::webhook::handle));
    }
    if state.api_token.is_some() {
        router = router
            .route("/v1/tasks", post(http::tasks::create))
            .route("/metrics", get(http::metrics::scrape))
            .merge(console::routes(state.dev_chat.is_some()));
    }
    router
        .with_state(state.clone())
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(RequestBodyLimitLayer::new(limits.body_bytes))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    limits.request_timeout,
                ))
                .layer(DefaultBodyLimit::max(limits.body_bytes)),
        )
        // outermost: sees the 413 and 408 the layers above answer in plain text
        .layer(axum::middleware::map_response_with_state(
            limits,
            http::errors::json_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            http::metrics::count_webhook,
        ))
}

/// Serve [`app`] on `listener` until `shutdown` completes, then finish the requests in flight
/// and return.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
