//! Plain HTTP routes and the layers around every route.
//!
//! - [`health`] — `GET /healthz`.
//! - [`tasks`]  — `POST /v1/tasks`, for scripts, behind a bearer token.
//! - [`errors`] — answers produced outside the handlers (body limit, timeout, unknown route)
//!   rewritten into the app's JSON error shape.

pub mod errors;
pub mod health;
pub mod tasks;
