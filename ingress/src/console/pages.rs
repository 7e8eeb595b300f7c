//! The overview page (counts, workers, schedules, quarantine) and what every page shares:
//! store errors as pages, relative times, the style sheet. Built from queue-core's read
//! functions (the ones `queuectl` uses) and escaped with [`esc`].

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use queue_core::inspect;
use queue_core::schedule::ScheduleStore;
use queue_core::{Class, ErrorKind, TaskState, presence};
use serde::Deserialize;

use super::auth::{Session, refused};
use super::html::{button, esc, table, url_part};
use super::store_text::is_cloud;
use crate::state::AppState;

/// Store listings one overview costs: 4 task prefixes per class, `invalid/`, `workers/`,
/// `schedules/`.
pub const OVERVIEW_LISTINGS: u64 = 11;

/// `?every=SECONDS` on the overview.
#[derive(Debug, Deserialize)]
pub struct OverviewQuery {
    every: Option<u64>,
}

/// A store error as a page.
pub fn store_error(what: &str, e: &queue_core::Error) -> Response {
    let status = match e.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %e, what, "console: store error");
    }
    refused(status, &format!("{what}: {}", e.message()))
}

/// How long ago `t` was, e.g. `3m ago` or `in 2h`.
pub fn relative(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let (n, future) = (secs.unsigned_abs(), secs < 0);
    let text = match n {
        0..=59 => format!("{n}s"),
        60..=3599 => format!("{}m", n / 60),
        3600..=172_799 => format!("{}h", n / 3600),
        _ => format!("{}d", n / 86_400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

pub(super) fn time_cell(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    format!(
        r#"<time datetime="{iso}" title="{iso}">{rel}</time>"#,
        iso = esc(&t.to_rfc3339()),
        rel = esc(&relative(now, t))
    )
}

fn refresh_interval(state: &AppState, asked: Option<u64>) -> u64 {
    match asked {
        Some(0) => 0,
        Some(s) => s.clamp(5, 3600),
        None if is_cloud(state.queue.bucket()) => 0,
        None => 10,
    }
}

/// `GET /ui`: counts, workers, schedules, quarantine.
pub async fn overview(
    session: Session,
    State(state): State<AppState>,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let bucket = state.queue.bucket();
    let now = state.queue.clock().now();
    let stats = match inspect::stats(bucket).await {
        Ok(s) => s,
        Err(e) => return store_error("cannot count tasks", &e),
    };
    let mut body = String::from("<h1>Overview</h1>");
    let mut rows = Vec::new();
    for (class, s) in [(Class::Light, &stats.light), (Class::Heavy, &stats.heavy)] {
        let link = |st: TaskState, n: usize| {
            format!(
                r#"<a data-count="{class}-{st}" href="/ui/tasks?class={class}&amp;state={st}">{n}</a>"#
            )
        };
        let oldest = s
            .oldest_due
            .filter(|d| *d <= now)
            .map_or("—".to_string(), |d| relative(now, d));
        rows.push(vec![
            class.to_string(),
            link(TaskState::Pending, s.pending),
            link(TaskState::Running, s.running),
            link(TaskState::Done, s.done),
            link(TaskState::Failed, s.failed),
            esc(&oldest),
        ]);
    }
    body.push_str(&table(
        &[
            "Class",
            "Pending",
            "Running",
            "Done",
            "Failed",
            "Oldest due pending",
        ],
        &rows,
        "",
    ));
    let _ = write!(
        body,
        r#"<p>Quarantined objects: <a href="/ui/invalid" data-count="invalid">{}</a></p>"#,
        stats.invalid
    );

    body.push_str("<h2>Workers</h2>");
    body.push_str(&workers_table(&state, now).await);
    body.push_str("<h2>Schedules</h2>");
    body.push_str(&schedules_table(&state, &session, now).await);

    let every = refresh_interval(&state, q.every);
    let cost = if is_cloud(bucket) {
        "on GCS every refresh is Class A listings"
    } else {
        "this store is local, so refreshing is free; on GCS every refresh is Class A listings"
    };
    let per_day = match (OVERVIEW_LISTINGS * 86_400).checked_div(every) {
        None => "auto-refresh is off".to_string(),
        Some(n) => format!("refreshing every {every} s; left open a day that is {n} listings"),
    };
    let _ = write!(
        body,
        r#"<p class="hint">Each view of this page lists the bucket {OVERVIEW_LISTINGS} times ({cost}; the GCS free tier has 5,000 a month): {per_day}. Refresh: <a href="/ui?every=0">off</a> · <a href="/ui?every=10">10 s</a> · <a href="/ui?every=60">1 min</a> · <a href="/ui?every=300">5 min</a>.</p>"#
    );
    let mut page = session.page(&state, "Overview", body);
    page.refresh = (every > 0).then_some(every);
    page.into_response()
}

async fn workers_table(state: &AppState, now: DateTime<Utc>) -> String {
    let mut docs = match presence::list(state.queue.bucket()).await {
        Ok(d) => d,
        Err(e) => return format!(r#"<p class="error">{}</p>"#, esc(e.message())),
    };
    docs.sort_by(|a, b| (a.class, &a.worker_id).cmp(&(b.class, &b.worker_id)));
    let skew = chrono::Duration::from_std(state.queue.settings().max_clock_skew)
        .unwrap_or(chrono::Duration::minutes(1));
    let rows: Vec<Vec<String>> = docs
        .iter()
        .map(|p| {
            let status = if !p.running {
                "stopped"
            } else if p.is_online(now, skew) {
                "online"
            } else {
                "offline"
            };
            vec![
                esc(&p.worker_id),
                p.class.to_string(),
                esc(&p.host),
                format!(r#"<span class="{status}">{status}</span>"#),
                time_cell(now, p.last_seen),
                format!("{}/{}", p.current_tasks.len(), p.concurrency),
            ]
        })
        .collect();
    table(
        &["Worker", "Class", "Host", "Status", "Last seen", "Tasks"],
        &rows,
        "no worker has announced itself (workers/ is empty)",
    )
}

async fn schedules_table(state: &AppState, session: &Session, now: DateTime<Utc>) -> String {
    let store = ScheduleStore::new(state.queue.bucket().clone());
    let listing = match store.list().await {
        Ok(l) => l,
        Err(e) => return format!(r#"<p class="error">{}</p>"#, esc(e.message())),
    };
    let rows: Vec<Vec<String>> = listing
        .schedules
        .iter()
        .map(|s| {
            let next = phrases::next_run(s, now);
            let (label, verb) = if s.enabled {
                ("enabled", "pause")
            } else {
                ("paused", "resume")
            };
            let action = format!("/ui/schedules/{}/{verb}", url_part(&s.name));
            vec![
                esc(&s.name),
                esc(&s.spec.to_string()),
                format!("{} / {}", s.class, esc(&s.kind)),
                label.to_string(),
                next.map_or("—".into(), |n| esc(&n.local_text())),
                button(&action, verb, &session.csrf, ""),
            ]
        })
        .collect();
    let mut out = table(
        &["Name", "When", "Task", "State", "Next run", ""],
        &rows,
        "no schedules",
    );
    for (object, reason) in &listing.invalid {
        let _ = write!(
            out,
            r#"<p class="error">unreadable schedule {}: {}</p>"#,
            esc(object),
            esc(reason)
        );
    }
    out
}

/// `GET /ui/style.css`: the one style sheet, compiled in.
pub async fn style() -> impl IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("style.css"),
    )
}
