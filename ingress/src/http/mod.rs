//! Plain HTTP routes and the layers around every route.
//!
//! - [`health`] — `GET /healthz`.
//! - [`tasks`]  — `POST /v1/tasks`, for scripts, behind a bearer token.
//! - [`metrics`] — `GET /metrics`, Prometheus text behind the same token; webhook counting.
//! - [`errors`] — answers produced outside the handlers (body limit, timeout, unknown route)
//!   rewritten into the app's JSON error shape.

pub mod errors;
pub mod health;
pub mod metrics;
pub mod tasks;
