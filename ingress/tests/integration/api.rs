//! `POST /v1/tasks` and `GET /healthz` in-process.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use queue_core::{Class, TaskState};
use serde_json::{Value, json};

use crate::common::*;

fn post(body: &str, auth: Option<&str>) -> Request<Body> {
    let mut req = Request::post("/v1/tasks").header("content-type", "application/json");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

fn bearer() -> String {
    format!("Bearer {API_TOKEN}")
}

#[tokio::test]
async fn healthz_answers_200() {
    let h = Harness::new().await;
    let (status, body) = h
        .call(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn tasks_need_the_bearer_token() {
    let h = Harness::new().await;
    let body = r#"{"class":"light","kind":"backup"}"#;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("api-t0ken"),
        Some("Basic YXBpLXQwa2Vu"),
    ] {
        let (status, err) = h.call(post(body, auth)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(err["error"]["code"], "unauthorized");
    }
    assert!(h.pending().await.is_empty());
}

#[tokio::test]
async fn a_task_is_created_once_per_idempotency_key() {
    let h = Harness::new().await;
    let body = r#"{"class":"light","kind":"backup","payload":{"dir":"~/Documents"},"idempotency_key":"backup-2026-11-24","max_attempts":3}"#;
    let (status, first) = h.call(post(body, Some(&bearer()))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["created"], json!(true));
    assert_eq!(first["class"], json!("light"));
    let (status, second) = h.call(post(body, Some(&bearer()))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(second["created"], json!(false));
    assert_eq!(second["id"], first["id"]);
    let tasks = h.in_state(Class::Light, TaskState::Pending).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].payload, json!({"dir": "~/Documents"}));
    assert_eq!(tasks[0].max_attempts, 3);
    assert_eq!(tasks[0].source.as_ref().unwrap().kind, "api");
}

#[tokio::test]
async fn delay_sets_the_due_time() {
    let h = Harness::new().await;
    let (status, body) = h
        .call(post(
            r#"{"class":"heavy","kind":"analysis","delay":"10m"}"#,
            Some(&bearer()),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["due_at"].clone()).unwrap();
    assert_eq!(due, start_time() + chrono::Duration::minutes(10));
    let env = &h.in_state(Class::Heavy, TaskState::Pending).await[0];
    assert_eq!(
        env.payload,
        json!({}),
        "payload defaults to an empty object"
    );
}

#[tokio::test]
async fn bad_fields_are_400_naming_the_field() {
    let h = Harness::new().await;
    let cases: [(&str, &str); 8] = [
        (r#"{"kind":"x"}"#, "class"),
        (r#"{"class":"urgent","kind":"x"}"#, "class"),
        (r#"{"class":"light"}"#, "kind"),
        (r#"{"class":"light","kind":"rm -rf"}"#, "kind"),
        (r#"{"class":"light","kind":"x","delay":"a while"}"#, "delay"),
        (
            r#"{"class":"light","kind":"x","max_attempts":-1}"#,
            "max_attempts",
        ),
        (
            r#"{"class":"light","kind":"x","idempotency_key":7}"#,
            "idempotency_key",
        ),
        (r#"{"class":"light","kind":"x","priority":1}"#, "priority"),
    ];
    for (body, field) in cases {
        let (status, err) = h.call(post(body, Some(&bearer()))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(err["error"]["code"], "invalid_field", "{body}");
        assert_eq!(err["error"]["field"], json!(field), "{body}");
    }
    let (status, err) = h.call(post("not json", Some(&bearer()))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "bad_request");
    assert!(h.pending().await.is_empty());
}

#[tokio::test]
async fn errors_outside_handlers_are_json_too() {
    let h = Harness::new().await;
    let (status, err) = h
        .call(Request::get("/nope").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "not_found");
    let (status, err) = h
        .call(Request::get("/v1/tasks").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(err["error"]["code"], "method_not_allowed", "{err}");
    let big = format!(
        r#"{{"class":"light","kind":"x","payload":"{}"}}"#,
        "a".repeat(2 << 20)
    );
    let (status, err) = h.call(post(&big, Some(&bearer()))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["error"]["code"], "too_large");
}

#[tokio::test]
async fn internal_details_do_not_leak() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = queue_core::Bucket::local(dir.path()).unwrap();
    let fake = testkit::telegram::FakeBotApi::start().await;
    let h = Harness::with_fake(fake, bucket, |s| s);
    // enqueue writes under keys/… and light/pending/…; make `light` a file so writes fail
    std::fs::write(dir.path().join("light"), b"x").unwrap();
    let (status, err): (StatusCode, Value) = h
        .call(post(r#"{"class":"light","kind":"x"}"#, Some(&bearer())))
        .await;
    assert!(status.is_server_error(), "{status} {err}");
    let text = err.to_string();
    assert!(!text.contains(&dir.path().display().to_string()), "{text}");
    assert!(!text.contains("light/pending"), "{text}");
}
