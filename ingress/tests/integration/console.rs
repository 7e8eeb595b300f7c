//! The web console in-process: 404 without a token, login and the session cookie, CSRF
//! refusal, escaping of task data, actions, paging.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use queue_core::schedule::{Schedule, ScheduleStore, Spec};
use queue_core::task::Outcome;
use queue_core::{Class, EnqueueRequest, TaskId, TaskState};
use serde_json::json;
use tower::ServiceExt;

use crate::common::*;

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
}

async fn send(h: &Harness, req: Request<Body>) -> Answer {
    let response = h.router.clone().oneshot(req).await.unwrap();
    let get = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (location, cookie) = (get(header::LOCATION), get(header::SET_COOKIE));
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    Answer {
        status,
        location,
        cookie,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path).header(header::HOST, "127.0.0.1:8080");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut req = Request::post(path)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::from(form.to_string())).unwrap()
}

/// Log in; the `name=value` of the session cookie.
async fn login(h: &Harness) -> String {
    let a = send(h, post("/ui/login", None, &format!("token={API_TOKEN}"))).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let cookie = a.cookie.expect("a session cookie");
    cookie.split(';').next().unwrap().to_string()
}

/// The CSRF token in a page's forms.
fn csrf(page: &str) -> String {
    let at = page.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    page[at..at + 64].to_string()
}

async fn enqueue(h: &Harness, class: Class, kind: &str, text: &str) -> TaskId {
    h.queue
        .enqueue(EnqueueRequest::new(class, kind, json!({ "text": text })))
        .await
        .unwrap()
        .id
}

async fn fail_one(h: &Harness, class: Class) -> TaskId {
    let claimed = h.queue.claim(class, "w1").await.unwrap().expect("a task");
    h.queue
        .complete(
            &claimed.lease,
            &claimed.envelope,
            Outcome::Fail {
                error: "boom".into(),
            },
        )
        .await
        .unwrap();
    claimed.envelope.id
}

#[tokio::test]
async fn without_a_token_the_console_is_404() {
    let h = Harness::with(|mut s| {
        s.api_token = None;
        s
    })
    .await;
    for path in ["/ui", "/ui/login", "/ui/tasks", "/ui/style.css"] {
        assert_eq!(
            send(&h, get(path, None)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let a = send(&h, post("/ui/login", None, "token=anything")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_need_a_login_with_the_api_token() {
    let h = Harness::new().await;
    let a = send(&h, get("/ui", None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/ui/login"));

    let wrong = send(&h, post("/ui/login", None, "token=nope")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.cookie.is_none());
    assert!(wrong.body.contains("not the API token"));

    let ok = send(&h, post("/ui/login", None, &format!("token={API_TOKEN}"))).await;
    let cookie = ok.cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains(API_TOKEN),
        "the token never goes into the cookie"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback");

    let session = cookie.split(';').next().unwrap();
    let page = send(&h, get("/ui", Some(session))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Overview"));

    let forged = send(&h, get("/ui", Some(&format!("{session}0")))).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_overview_counts_what_the_bucket_holds() {
    let h = Harness::new().await;
    let session = login(&h).await;
    let count = |body: &str, key: &str| {
        let at = body.find(&format!(r#"data-count="{key}""#)).unwrap();
        let rest = &body[at..];
        let from = rest.find('>').unwrap() + 1;
        rest[from..rest.find("</a>").unwrap()].to_string()
    };
    let before = send(&h, get("/ui", Some(&session))).await.body;
    assert_eq!(count(&before, "light-pending"), "0");
    enqueue(&h, Class::Light, "backup", "one").await;
    enqueue(&h, Class::Light, "backup", "two").await;
    enqueue(&h, Class::Heavy, "report", "three").await;
    fail_one(&h, Class::Heavy).await;
    let after = send(&h, get("/ui", Some(&session))).await.body;
    assert_eq!(count(&after, "light-pending"), "2");
    assert_eq!(count(&after, "heavy-failed"), "1");
    assert_eq!(count(&after, "invalid"), "0");
}

#[tokio::test]
async fn task_data_is_shown_as_text() {
    let h = Harness::new().await;
    let session = login(&h).await;
    let xss = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
    let id = enqueue(&h, Class::Light, "backup", xss).await;
    for path in [
        format!("/ui/tasks/{id}"),
        "/ui/tasks?class=light&state=pending".to_string(),
    ] {
        let page = send(&h, get(&path, Some(&session))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(page.body.contains("&lt;script&gt;alert("), "{path}");
    }
}

#[tokio::test]
async fn actions_without_the_csrf_token_are_refused() {
    let h = Harness::new().await;
    let session = login(&h).await;
    let id = enqueue(&h, Class::Light, "backup", "keep me").await;
    let path = format!("/ui/tasks/{id}/cancel");
    for form in ["", "csrf=", &format!("csrf={}", "0".repeat(64))] {
        let a = send(&h, post(&path, Some(&session), form)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "form {form:?}");
        assert!(a.body.contains("CSRF"));
    }
    // another session's token does not work either
    let other = login(&h).await;
    let other_csrf = csrf(
        &send(&h, get(&format!("/ui/tasks/{id}"), Some(&other)))
            .await
            .body,
    );
    let a = send(
        &h,
        post(&path, Some(&session), &format!("csrf={other_csrf}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.queue.find(id).await.unwrap().location.state(),
        TaskState::Pending
    );

    let page = send(&h, get(&format!("/ui/tasks/{id}"), Some(&session)))
        .await
        .body;
    let a = send(
        &h,
        post(&path, Some(&session), &format!("csrf={}", csrf(&page))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("is cancelled"));
    assert_eq!(
        h.queue.find(id).await.unwrap().location.state(),
        TaskState::Failed
    );
}

#[tokio::test]
async fn a_failed_task_is_replayed_from_its_page() {
    let h = Harness::new().await;
    let session = login(&h).await;
    enqueue(&h, Class::Light, "backup", "again").await;
    let id = fail_one(&h, Class::Light).await;
    let page = send(&h, get(&format!("/ui/tasks/{id}"), Some(&session)))
        .await
        .body;
    assert!(page.contains(">Replay</button>") && page.contains("boom"));
    let path = format!("/ui/tasks/{id}/replay");
    let a = send(
        &h,
        post(&path, Some(&session), &format!("csrf={}", csrf(&page))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let needle = r#"id="replayed" href="/ui/tasks/"#;
    let at = a.body.find(needle).unwrap() + needle.len();
    let new: TaskId = a.body[at..at + 36].parse().unwrap();
    assert_eq!(
        h.queue.find(new).await.unwrap().location.state(),
        TaskState::Pending
    );
    // replaying again is refused with a reason, not a crash
    let again = send(
        &h,
        post(&path, Some(&session), &format!("csrf={}", csrf(&page))),
    )
    .await;
    assert!(again.status.is_client_error(), "{}", again.body);
}

#[tokio::test]
async fn schedules_pause_and_resume_from_the_overview() {
    let h = Harness::new().await;
    let store = ScheduleStore::new(h.queue.bucket().clone());
    let s = Schedule::new(
        "nightly",
        Spec::parse_cron("0 3 * * *").unwrap(),
        Class::Light,
        "backup",
        json!({}),
        start_time(),
    )
    .unwrap();
    store.create(&s).await.unwrap();
    let session = login(&h).await;
    let page = send(&h, get("/ui", Some(&session))).await.body;
    assert!(page.contains("/ui/schedules/nightly/pause"));
    let form = format!("csrf={}", csrf(&page));
    let a = send(
        &h,
        post("/ui/schedules/nightly/pause", Some(&session), &form),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!store.get("nightly").await.unwrap().unwrap().enabled);
    let a = send(
        &h,
        post("/ui/schedules/nightly/resume", Some(&session), &form),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(store.get("nightly").await.unwrap().unwrap().enabled);
    let a = send(
        &h,
        post("/ui/schedules/nightly/pause", Some(&session), "csrf=x"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn lists_are_paged_newest_first() {
    let h = Harness::new().await;
    let session = login(&h).await;
    let mut ids = Vec::new();
    for i in 0..57 {
        ids.push(enqueue(&h, Class::Light, "backup", &format!("n{i}")).await);
        h.clock.advance(chrono::Duration::seconds(1));
    }
    let first = send(
        &h,
        get("/ui/tasks?class=light&state=pending", Some(&session)),
    )
    .await
    .body;
    assert!(first.contains("57 tasks · page 1 of 2"));
    assert!(first.contains(&ids[56].to_string()) && !first.contains(&ids[6].to_string()));
    let second = send(
        &h,
        get("/ui/tasks?class=light&state=pending&page=1", Some(&session)),
    )
    .await
    .body;
    assert!(second.contains(&ids[0].to_string()) && !second.contains(&ids[7].to_string()));
    let bad = send(&h, get("/ui/tasks?class=medium", Some(&session))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn log_out_clears_the_cookie_and_needs_the_csrf_token() {
    let h = Harness::new().await;
    let session = login(&h).await;
    let page = send(&h, get("/ui", Some(&session))).await.body;
    assert!(page.contains(r#"action="/ui/logout""#));
    let refused = send(&h, post("/ui/logout", Some(&session), "")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = send(
        &h,
        post(
            "/ui/logout",
            Some(&session),
            &format!("csrf={}", csrf(&page)),
        ),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/ui/login"));
    assert!(out.cookie.unwrap().contains("Max-Age=0"));
}
