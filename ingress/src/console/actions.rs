//! The console's actions, each a POST carrying the session's CSRF token, each answered with a
//! page that says what happened, each logged with who (the session, never the token) and what.

use std::fmt::Write as _;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use queue_core::queue::{CancelOutcome, ReplayFilter};
use queue_core::schedule::ScheduleStore;
use queue_core::{Class, TaskId};
use serde::Deserialize;

use super::auth::{Session, refused};
use super::html::esc;
use super::pages::store_error;
use crate::state::AppState;

/// The fields every action form carries.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    class: Option<String>,
}

fn done(state: &AppState, session: &Session, title: &str, body: String) -> Response {
    session
        .page(
            state,
            title,
            format!(r#"<div class="outcome">{body}</div>"#),
        )
        .into_response()
}

/// The CSRF check, then the task id of the path.
fn checked(session: &Session, form: &ActionForm, id: &str) -> Result<TaskId, Box<Response>> {
    session.require_csrf(form.csrf.as_deref())?;
    id.parse()
        .map_err(|_| Box::new(refused(StatusCode::BAD_REQUEST, "not a task id (a UUID)")))
}

/// `POST /ui/tasks/{id}/replay`: run a failed task again as the new task `replay` mints
/// (linked by `replay_of`); the answer links its id.
pub async fn replay(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let id = match checked(&session, &form, &id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let result = state.queue.replay(id).await.map(|env| {
        format!(
            r#"<h1>Replayed</h1><p>Task {id} runs again as the new task <a id="replayed" href="/ui/tasks/{new}">{new}</a>.</p>"#,
            new = env.id
        )
    });
    finish(&state, &session, "replay", id, result)
}

/// Log an action on task `id` and answer with its page, or with why it was refused.
fn finish(
    state: &AppState,
    session: &Session,
    action: &str,
    id: TaskId,
    result: queue_core::Result<String>,
) -> Response {
    match result {
        Ok(body) => {
            tracing::info!(who = %session.who(), action, task = %id, "console action");
            done(state, session, action, body)
        }
        Err(e) => {
            tracing::info!(who = %session.who(), action, task = %id, error = %e, "console action refused");
            store_error(&format!("cannot {action}"), &e)
        }
    }
}

/// `POST /ui/tasks/{id}/cancel`: a pending or running task ends in failed/.
pub async fn cancel(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let id = match checked(&session, &form, &id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let result = state
        .queue
        .cancel(id, &session.who(), "cancelled in the console")
        .await
        .map(|outcome| {
            let how = match outcome {
                CancelOutcome::CancelledPending(_) => "It was waiting; it will not run.",
                CancelOutcome::CancelledRunning(_) => {
                    "It was running: its worker loses the lease at its next heartbeat and commits nothing."
                }
            };
            format!(
                r#"<h1>Cancelled</h1><p>Task <a href="/ui/tasks/{id}">{id}</a> is cancelled. {how}</p>"#
            )
        });
    finish(&state, &session, "cancel", id, result)
}

/// `POST /ui/replay-failed` with `class`: replay every failed task of the class.
pub async fn replay_failed(
    session: Session,
    State(state): State<AppState>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(r) = session.require_csrf(form.csrf.as_deref()) {
        return *r;
    }
    let class: Class = match form.class.as_deref().unwrap_or("").parse() {
        Ok(c) => c,
        Err(_) => return refused(StatusCode::BAD_REQUEST, "class must be light or heavy"),
    };
    let filter = ReplayFilter {
        class: Some(class),
        kind: None,
    };
    let failed = match state.queue.failed_matching(&filter).await {
        Ok(f) => f,
        Err(e) => return store_error("cannot list failed tasks", &e),
    };
    let mut body = String::from("<h1>Replay all failed</h1><ul>");
    let (mut ok, mut refused_n) = (0, 0);
    for env in &failed {
        match state.queue.replay(env.id).await {
            Ok(new) => {
                ok += 1;
                let _ = write!(
                    body,
                    r#"<li>{} → <a href="/ui/tasks/{n}">{n}</a></li>"#,
                    env.id,
                    n = new.id
                );
            }
            Err(e) => {
                refused_n += 1;
                let _ = write!(body, "<li>{}: {}</li>", env.id, esc(e.message()));
            }
        }
    }
    body.push_str("</ul>");
    let _ = write!(
        body,
        "<p>{ok} of {} failed {class} tasks replayed, {refused_n} refused.</p>",
        failed.len()
    );
    tracing::info!(who = %session.who(), action = "replay-failed", %class, replayed = ok, refused = refused_n, "console action");
    done(&state, &session, "Replayed", body)
}

/// `POST /ui/schedules/{name}/{pause|resume}`.
pub async fn schedule(
    session: Session,
    State(state): State<AppState>,
    Path((name, verb)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(r) = session.require_csrf(form.csrf.as_deref()) {
        return *r;
    }
    let store = ScheduleStore::new(state.queue.bucket().clone());
    let now = state.queue.clock().now();
    let result = match verb.as_str() {
        "pause" => store.pause(&name).await,
        "resume" => store.resume(&name, now).await,
        _ => return refused(StatusCode::NOT_FOUND, "schedules can be paused or resumed"),
    };
    match result {
        Ok(s) => {
            tracing::info!(who = %session.who(), action = %verb, schedule = %name, "console action");
            let what = if s.enabled {
                "enabled: missed slots while paused are not caught up"
            } else {
                "paused: it enqueues nothing until resumed"
            };
            done(
                &state,
                &session,
                "Schedule",
                format!(
                    r#"<h1>Schedule {}</h1><p>It is now {what}. Schedulers pick the change up at their next refresh.</p><p><a href="/ui">Back to the overview</a></p>"#,
                    esc(&s.name)
                ),
            )
        }
        Err(e) => store_error("cannot change the schedule", &e),
    }
}
