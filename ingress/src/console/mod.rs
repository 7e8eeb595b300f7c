//! The web console under `/ui`: the queue at a glance, actions with one click, and (in
//! `queuectl dev`) a chat with the bot. Server-rendered HTML from queue-core's read functions,
//! one embedded style sheet, a few lines of inline JavaScript for refreshing; no external
//! assets. docs/console.md has the pages, the costs and the screenshots.
//!
//! - [`auth`]       — login with the API token, signed session cookie, CSRF tokens.
//! - [`html`]       — [`html::esc`], the one escaping helper, and the page frame.
//! - [`pages`]      — the overview, and what pages share (errors, times, the style sheet).
//! - [`tasks`]      — task lists (paged, newest first), a task, quarantined objects.
//! - [`actions`]    — replay, replay all failed, cancel, pause/resume a schedule.
//! - [`chat`]       — the dev chat: messages through the real webhook.
//! - [`botapi`]     — the dev chat's local Bot API, recording the bot's answers.
//! - [`store_text`] — the `gsutil cat` command for an object; whether listings are billed.
//!
//! The console is routed when the API token is set (it is the password); without one every
//! `/ui` path is 404. The chat and the Bot API exist only with [`crate::AppState::dev_chat`].

pub mod actions;
pub mod auth;
pub mod botapi;
pub mod chat;
pub mod html;
pub mod pages;
pub mod store_text;
pub mod tasks;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::state::AppState;

/// The console's routes (merged into [`crate::app`] when the API token is set).
pub fn routes(with_chat: bool) -> Router<AppState> {
    let mut router = Router::new()
        .route("/ui", get(pages::overview))
        .route("/ui/", get(|| async { Redirect::to("/ui") }))
        .route("/ui/style.css", get(pages::style))
        .route("/ui/login", get(auth::login_form).post(auth::login))
        .route("/ui/logout", post(auth::logout))
        .route("/ui/tasks", get(tasks::list))
        .route("/ui/tasks/{id}", get(tasks::task))
        .route("/ui/tasks/{id}/replay", post(actions::replay))
        .route("/ui/tasks/{id}/cancel", post(actions::cancel))
        .route("/ui/replay-failed", post(actions::replay_failed))
        .route("/ui/schedules/{name}/{verb}", post(actions::schedule))
        .route("/ui/invalid", get(tasks::invalid));
    if with_chat {
        router = router
            .route("/ui/chat", get(chat::page).post(chat::send))
            .route("/ui/chat/log", get(chat::log))
            .route(
                &format!("/file/bot{}/{{*path}}", chat::DEV_BOT_TOKEN),
                get(botapi::file),
            )
            .route(
                &format!("/bot{}/{{method}}", chat::DEV_BOT_TOKEN),
                post(botapi::call),
            );
    }
    router
}
