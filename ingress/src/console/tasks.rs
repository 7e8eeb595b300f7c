//! The task pages: one class and state (paged, newest first), one task, and the quarantined
//! objects. Built from queue-core's read functions and escaped with [`esc`].

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use queue_core::inspect::{self, Location};
use queue_core::{Class, TaskId, TaskState, names};
use serde::Deserialize;
use serde_json::Value;

use super::auth::{Session, refused};
use super::html::{button, esc, table};
use super::pages::{store_error, time_cell};
use super::store_text::cat_command;
use crate::state::AppState;

/// Tasks per page of a listing.
pub const PAGE_SIZE: usize = 50;

/// `?class=&state=&page=` of a task listing.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    class: Option<String>,
    state: Option<String>,
    page: Option<usize>,
}

/// `GET /ui/tasks`: one page of one class and state, newest first.
pub async fn list(
    session: Session,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Response {
    let class: Class = match q.class.as_deref().unwrap_or("light").parse() {
        Ok(c) => c,
        Err(_) => return refused(StatusCode::BAD_REQUEST, "class must be light or heavy"),
    };
    let st: TaskState = match q.state.as_deref().unwrap_or("pending").parse() {
        Ok(s) => s,
        Err(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "state must be pending, running, done or failed",
            );
        }
    };
    let page_no = q.page.unwrap_or(0);
    let offset = page_no.saturating_mul(PAGE_SIZE);
    let listing =
        match inspect::page_tasks(state.queue.bucket(), class, st, offset, PAGE_SIZE).await {
            Ok(p) => p,
            Err(e) => return store_error("cannot list tasks", &e),
        };
    let now = state.queue.clock().now();
    let mut body = format!("<h1>{class} · {st}</h1><p class=\"tabs\">");
    for c in Class::ALL {
        for s in [
            TaskState::Pending,
            TaskState::Running,
            TaskState::Done,
            TaskState::Failed,
        ] {
            let current = if (c, s) == (class, st) {
                r#" class="current""#
            } else {
                ""
            };
            let _ = write!(
                body,
                r#"<a{current} href="/ui/tasks?class={c}&amp;state={s}">{c} {s}</a> "#
            );
        }
    }
    body.push_str("</p>");
    if st == TaskState::Failed && listing.total > 0 {
        body.push_str(&button(
            "/ui/replay-failed",
            &format!("Replay all {} failed {class} tasks", listing.total),
            &session.csrf,
            &format!(r#"<input type="hidden" name="class" value="{class}">"#),
        ));
    }
    let rows: Vec<Vec<String>> = listing
        .tasks
        .iter()
        .map(|t| {
            let env = t.envelope.as_ref();
            let when = match st {
                TaskState::Pending => t.due_at.map(|d| time_cell(now, d)),
                _ => Some(time_cell(now, t.last_modified)),
            };
            vec![
                format!(
                    r#"<a class="task" href="/ui/tasks/{id}">{id}</a>"#,
                    id = t.id
                ),
                esc(env.map_or("?", |e| e.kind.as_str())),
                esc(&env.map_or(String::new(), |e| preview(&e.payload))),
                env.map_or(String::new(), |e| {
                    format!("{}/{}", e.attempt, e.max_attempts)
                }),
                when.unwrap_or_default(),
            ]
        })
        .collect();
    body.push_str(&table(
        &["Task", "Kind", "Payload", "Attempts", "When"],
        &rows,
        &format!("no {st} {class} tasks"),
    ));
    let pages = listing.total.div_ceil(PAGE_SIZE).max(1);
    let _ = write!(
        body,
        r#"<p class="pager">{} tasks · page {} of {pages} "#,
        listing.total,
        page_no + 1
    );
    if page_no > 0 {
        let _ = write!(
            body,
            r#"<a href="/ui/tasks?class={class}&amp;state={st}&amp;page={}">newer</a> "#,
            page_no - 1
        );
    }
    if offset + PAGE_SIZE < listing.total {
        let _ = write!(
            body,
            r#"<a href="/ui/tasks?class={class}&amp;state={st}&amp;page={}">older</a>"#,
            page_no + 1
        );
    }
    body.push_str("</p>");
    session
        .page(&state, format!("{class} {st}"), body)
        .into_response()
}

/// A payload in one short line.
fn preview(payload: &Value) -> String {
    let text = match payload.get("text").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None => payload.to_string(),
    };
    let mut short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// `GET /ui/tasks/{id}`: envelope, attempts, result or error, objects, actions.
pub async fn task(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let id: TaskId = match id.parse() {
        Ok(id) => id,
        Err(_) => return refused(StatusCode::BAD_REQUEST, "not a task id (a UUID)"),
    };
    let found = match state.queue.find(id).await {
        Ok(f) => f,
        Err(e) => return store_error("cannot find the task", &e),
    };
    let now = state.queue.clock().now();
    let env = &found.envelope;
    let st = found.location.state();
    let mut body = format!(
        r#"<h1>Task <code>{id}</code></h1><p><span class="state {st}" id="task-state">{st}</span> · {class} · <strong>{kind}</strong> · created {created}</p>"#,
        class = env.class,
        kind = esc(&env.kind),
        created = time_cell(now, env.created_at),
    );
    match st {
        TaskState::Failed => body.push_str(&button(
            &format!("/ui/tasks/{id}/replay"),
            "Replay",
            &session.csrf,
            "",
        )),
        TaskState::Pending | TaskState::Running => body.push_str(&button(
            &format!("/ui/tasks/{id}/cancel"),
            "Cancel",
            &session.csrf,
            "",
        )),
        TaskState::Done => {}
    }
    if let Location::Running {
        worker, expires_at, ..
    } = &found.location
    {
        let _ = write!(
            body,
            "<p>Leased by <code>{}</code>{}</p>",
            esc(worker),
            expires_at.map_or(String::new(), |t| format!(
                ", lease runs out {}",
                time_cell(now, t)
            ))
        );
    }
    if let Some(of) = env.replay_of {
        let _ = write!(
            body,
            r#"<p>Replay of <a href="/ui/tasks/{of}">{of}</a></p>"#
        );
    }
    if let Some(failure) = &env.failure {
        let _ = write!(
            body,
            r#"<h2>Error</h2><pre class="error">{}</pre>"#,
            esc(failure)
        );
    }
    if let Some(result) = &env.result {
        let _ = write!(
            body,
            r#"<h2>Result</h2><pre id="result">{}</pre>"#,
            esc(&pretty(result))
        );
    }
    body.push_str("<h2>Attempts</h2>");
    let rows: Vec<Vec<String>> = env
        .attempts
        .iter()
        .map(|a| {
            vec![
                a.number.to_string(),
                esc(&a.worker),
                time_cell(now, a.started_at),
                a.ended_at.map_or("—".into(), |t| time_cell(now, t)),
                a.outcome
                    .as_ref()
                    .map_or("running".into(), |o| esc(&format!("{o:?}").to_lowercase())),
                esc(a.error.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    body.push_str(&table(
        &["#", "Worker", "Started", "Ended", "Outcome", "Error"],
        &rows,
        "not run yet",
    ));
    body.push_str("<h2>Objects</h2><ul class=\"objects\">");
    let mut objects = vec![found.location.object().to_string()];
    for a in &env.attachments {
        objects.push(a.object.clone());
    }
    for o in &objects {
        let cmd = cat_command(state.queue.bucket(), o).map_or(String::new(), |c| {
            format!(" <code class=\"cmd\">{}</code>", esc(&c))
        });
        let _ = write!(body, "<li><code>{}</code>{cmd}</li>", esc(o));
    }
    body.push_str("</ul>");
    let _ = write!(
        body,
        r#"<h2>Envelope</h2><pre id="envelope">{}</pre>"#,
        esc(&String::from_utf8_lossy(&env.to_json()))
    );
    session
        .page(&state, format!("Task {id}"), body)
        .into_response()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// `GET /ui/invalid`: quarantined objects with their reasons (at most 200, newest names last).
pub async fn invalid(session: Session, State(state): State<AppState>) -> Response {
    let bucket = state.queue.bucket();
    let listed = match bucket.list(names::INVALID_PREFIX).await {
        Ok(l) => l,
        Err(e) => return store_error("cannot list invalid/", &e),
    };
    let objects: Vec<_> = listed
        .iter()
        .filter(|o| !o.name.ends_with(".reason.json"))
        .collect();
    let now = state.queue.clock().now();
    let mut rows = Vec::new();
    for info in objects.iter().take(200) {
        let original = &info.name[names::INVALID_PREFIX.len()..];
        let reason: Option<Value> = match bucket.get(&names::invalid_reason(original)).await {
            Ok(o) => o.and_then(|o| serde_json::from_slice(&o.bytes).ok()),
            Err(e) => return store_error("cannot read a reason", &e),
        };
        let text = reason
            .as_ref()
            .and_then(|r| r.get("reason"))
            .and_then(Value::as_str)
            .unwrap_or("(no reason document)");
        let cmd = cat_command(bucket, &info.name).unwrap_or_default();
        rows.push(vec![
            format!("<code>{}</code>", esc(&info.name)),
            time_cell(now, info.last_modified),
            esc(text),
            format!("<code class=\"cmd\">{}</code>", esc(&cmd)),
        ]);
    }
    let mut body = format!("<h1>Quarantined objects ({})</h1>", objects.len());
    body.push_str(&table(
        &["Object", "Quarantined", "Reason", "Read it"],
        &rows,
        "nothing quarantined (invalid/ is empty)",
    ));
    body.push_str(r#"<p class="hint">To restore one: fix it, copy it back to its original name (the object name without <code>invalid/</code>), then delete it and its <code>.reason.json</code>.</p>"#);
    session.page(&state, "Quarantine", body).into_response()
}
