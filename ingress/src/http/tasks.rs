//! `POST /v1/tasks`: enqueue a task from a script.
//!
//! ```text
//! POST /v1/tasks
//! Authorization: Bearer $INGRESS_API_TOKEN
//! {"class": "light", "kind": "backup", "payload": {...}, "delay": "10m",
//!  "idempotency_key": "backup-2026-11-24", "max_attempts": 3}
//! → 201 {"id": "…", "created": true, "class": "light", "kind": "backup", "due_at": "…"}
//! ```
//! `class` and `kind` are required. With an `idempotency_key` seen before, the answer is the
//! same task with `"created": false` (also 201: the same request, the same answer). A bad
//! field is a 400 that names it.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use queue_core::task::Source;
use queue_core::{Class, EnqueueRequest, names};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::secret::Secret;
use crate::state::AppState;

/// The longest `delay` accepted.
pub const MAX_DELAY: Duration = Duration::from_secs(366 * 24 * 3600);
/// The most `max_attempts` accepted.
pub const MAX_ATTEMPTS: u64 = 100;

/// A validated request body.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// Which workers.
    pub class: Class,
    /// Which handler.
    pub kind: String,
    /// Handler input (default `{}`).
    pub payload: Value,
    /// Run no sooner than this from now.
    pub delay: Option<Duration>,
    /// Same key, same task, forever.
    pub idempotency_key: Option<String>,
    /// Attempts before dead-lettering.
    pub max_attempts: Option<u32>,
}

/// Check `Authorization: Bearer …` against the token, in constant time.
pub fn check_bearer(headers: &HeaderMap, token: &Secret) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| {
            v.strip_prefix(b"Bearer ")
                .or_else(|| v.strip_prefix(b"bearer "))
        })
        .unwrap_or_default();
    if given.is_empty() || !token.matches(given) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

/// Parse and validate a body, naming the first bad field.
pub fn parse_request(body: &[u8]) -> Result<TaskRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not json (line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(mut map) = value else {
        return Err(ApiError::bad_request("the body must be a json object"));
    };
    const KNOWN: [&str; 6] = [
        "class",
        "kind",
        "payload",
        "delay",
        "idempotency_key",
        "max_attempts",
    ];
    if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::invalid_field(
            unknown.clone(),
            format!("unknown field (expected one of: {})", KNOWN.join(", ")),
        ));
    }
    let class = match map.remove("class") {
        Some(Value::String(s)) => s
            .parse::<Class>()
            .map_err(|_| ApiError::invalid_field("class", "expected \"heavy\" or \"light\""))?,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "class",
                "expected a string: \"heavy\" or \"light\"",
            ));
        }
        None => {
            return Err(ApiError::invalid_field(
                "class",
                "required: \"heavy\" or \"light\"",
            ));
        }
    };
    let kind = match map.remove("kind") {
        Some(Value::String(s)) if names::is_valid_kind(&s) => s,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "kind",
                "expected 1-64 letters, digits, '.', '_' or '-' (a key of the workers' handlers file)",
            ));
        }
        None => {
            return Err(ApiError::invalid_field(
                "kind",
                "required: the handler to run",
            ));
        }
    };
    let payload = match map.remove("payload") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => v,
    };
    let delay = match map.remove("delay") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let d = queue_core::settings::parse_duration(&s).map_err(|_| {
                ApiError::invalid_field("delay", "expected a duration such as 30s, 10m or 2h")
            })?;
            if d > MAX_DELAY {
                return Err(ApiError::invalid_field("delay", "at most 366 days"));
            }
            Some(d)
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "delay",
                "expected a string such as \"10m\"",
            ));
        }
    };
    let idempotency_key = match map.remove("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 512 => Some(s),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "idempotency_key",
                "expected a string of 1-512 bytes",
            ));
        }
    };
    let max_attempts = match map.remove("max_attempts") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n @ 1..=MAX_ATTEMPTS) => Some(n as u32),
            _ => {
                return Err(ApiError::invalid_field(
                    "max_attempts",
                    format!("expected an integer from 1 to {MAX_ATTEMPTS}"),
                ));
            }
        },
        Some(_) => {
            return Err(ApiError::invalid_field(
                "max_attempts",
                format!("expected an integer from 1 to {MAX_ATTEMPTS}"),
            ));
        }
    };
    Ok(TaskRequest {
        class,
        kind,
        payload,
        delay,
        idempotency_key,
        max_attempts,
    })
}

/// The route handler.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(token) = &state.api_token else {
        return Err(ApiError::not_found("the task api is not configured"));
    };
    check_bearer(&headers, token)?;
    let req = parse_request(&body)?;
    let now = state.queue.clock().now();
    let mut er = EnqueueRequest::new(req.class, req.kind, req.payload).source(Source {
        kind: "api".into(),
        ..Source::default()
    });
    if let Some(delay) = req.delay {
        let delay = chrono::Duration::from_std(delay)
            .map_err(|_| ApiError::invalid_field("delay", "too long"))?;
        let due = now
            .checked_add_signed(delay)
            .ok_or_else(|| ApiError::invalid_field("delay", "too long"))?;
        er = er.due_at(due);
    }
    if let Some(key) = req.idempotency_key {
        er = er.key(key);
    }
    if let Some(n) = req.max_attempts {
        er = er.max_attempts(n);
    }
    let done = state
        .queue
        .enqueue(er)
        .await
        .map_err(|e| ApiError::from_queue("enqueue api task", &e))?;
    state.metrics.enqueued(&done);
    let env = &done.envelope;
    tracing::info!(task = %done.id, class = %env.class, kind = %env.kind, created = done.created, "api task queued");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": done.id,
            "created": done.created,
            "class": env.class,
            "kind": env.kind,
            "due_at": env.due_at,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> Option<String> {
        parse_request(body.as_bytes())
            .err()
            .and_then(|e| e.field().map(str::to_string))
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(r#"{"kind":"x"}"#).as_deref(), Some("class"));
        assert_eq!(
            field_of(r#"{"class":"medium","kind":"x"}"#).as_deref(),
            Some("class")
        );
        assert_eq!(field_of(r#"{"class":"light"}"#).as_deref(), Some("kind"));
        assert_eq!(
            field_of(r#"{"class":"light","kind":"../x"}"#).as_deref(),
            Some("kind")
        );
        assert_eq!(
            field_of(r#"{"class":"light","kind":"x","delay":"soon"}"#).as_deref(),
            Some("delay")
        );
        assert_eq!(
            field_of(r#"{"class":"light","kind":"x","delay":10}"#).as_deref(),
            Some("delay")
        );
        assert_eq!(
            field_of(r#"{"class":"light","kind":"x","max_attempts":0}"#).as_deref(),
            Some("max_attempts")
        );
        assert_eq!(
            field_of(r#"{"class":"light","kind":"x","idempotency_key":""}"#).as_deref(),
            Some("idempotency_key")
        );
        assert_eq!(
            field_of(r#"{"class":"light","kind":"x","colour":1}"#).as_deref(),
            Some("colour")
        );
    }

    #[test]
    fn a_full_request_parses() {
        let r = parse_request(
            br#"{"class":"heavy","kind":"analysis","payload":{"q":1},"delay":"10m","idempotency_key":"k1","max_attempts":3}"#,
        )
        .unwrap();
        assert_eq!(r.class, Class::Heavy);
        assert_eq!(r.delay, Some(Duration::from_secs(600)));
        assert_eq!(r.max_attempts, Some(3));
        assert_eq!(r.payload, json!({"q": 1}));
    }

    #[test]
    fn bearer_is_checked() {
        let token = Secret::new("t0ken");
        let mut h = HeaderMap::new();
        assert!(check_bearer(&h, &token).is_err());
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(check_bearer(&h, &token).is_err());
        h.insert(header::AUTHORIZATION, "Bearer t0ken".parse().unwrap());
        assert!(check_bearer(&h, &token).is_ok());
    }
}
