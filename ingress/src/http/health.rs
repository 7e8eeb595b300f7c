//! `GET /healthz`: the process is up and serving. It touches no dependency, so a store outage
//! does not make Cloud Run restart healthy instances; store trouble shows in request errors.

use axum::Json;
use serde_json::{Value, json};

/// The handler.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
