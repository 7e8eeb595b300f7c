//! Bot commands: /status, /tasks, /result ID, /retry ID, /cancel ID, /schedules,
//! /unschedule NAME, /help. They read or act
//! on the queue and answer in the chat; they create no task. A store failure is answered in
//! the chat too (the webhook still answers 200: a redelivery would not fix the store).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use queue_core::inspect::{self, Stats};
use queue_core::queue::CancelOutcome;
use queue_core::{Class, Envelope, ErrorKind, TaskId, TaskState, names, presence};

use super::update::IncomingMessage;
use super::webhook::send_reply;
use super::{outcome, recurring};
use crate::reply::{Lang, kst};
use crate::state::{AppState, TelegramState};

/// How many tasks /tasks shows.
pub const RECENT_TASKS: usize = 10;

/// Run a command and send its answer.
pub async fn run(
    state: &AppState,
    tg: &TelegramState,
    msg: &IncomingMessage,
    name: &str,
    args: &str,
) {
    let lang = state.lang;
    let text = match name {
        "status" => status(state).await,
        "tasks" => tasks(state).await,
        "result" => outcome::command(state, msg, args).await,
        "retry" => retry(state, args).await,
        "cancel" => cancel(state, msg.chat_id, args).await,
        "schedules" => recurring::list(state, msg.chat_id).await,
        "unschedule" => recurring::unschedule(state, msg.chat_id, args).await,
        "help" | "start" => Ok(lang.help().to_string()),
        other => Ok(lang.unknown_command(other)),
    };
    let text = text.unwrap_or_else(|e| {
        tracing::warn!(command = name, error = %e, "command failed");
        if e.kind().is_retryable() {
            lang.store_unavailable().to_string()
        } else {
            lang.command_failed("internal error")
        }
    });
    send_reply(tg, msg.chat_id, Some(msg.message_id), &text).await;
}

/// /status: depths per class and state, then every worker with when it was last seen.
pub async fn status(state: &AppState) -> queue_core::Result<String> {
    let stats = inspect::stats(state.queue.bucket()).await?;
    let workers = presence::list(state.queue.bucket()).await?;
    let now = state.queue.clock().now();
    let skew = chrono::Duration::from_std(state.queue.settings().max_clock_skew)
        .unwrap_or(chrono::Duration::minutes(1));
    Ok(render_status(state.lang, &stats, &workers, now, skew))
}

/// The /status text (pure, for tests).
pub fn render_status(
    lang: Lang,
    stats: &Stats,
    workers: &[presence::Presence],
    now: DateTime<Utc>,
    skew: chrono::Duration,
) -> String {
    let w = lang.words();
    let mut out = format!("{}\n", w.queue);
    for (class, s) in [(Class::Heavy, &stats.heavy), (Class::Light, &stats.light)] {
        out += &format!(
            "{class}: {} {} · {} {} · {} {} · {} {}\n",
            w.states[0],
            s.pending,
            w.states[1],
            s.running,
            w.states[2],
            s.done,
            w.states[3],
            s.failed
        );
    }
    out += &format!("{}: {}\n\n{}\n", w.invalid, stats.invalid, w.workers);
    if workers.is_empty() {
        out += &format!("{}\n", w.no_workers);
    }
    let mut sorted: Vec<&presence::Presence> = workers.iter().collect();
    sorted.sort_by(|a, b| (a.class, &a.worker_id).cmp(&(b.class, &b.worker_id)));
    for p in sorted {
        let online = if p.is_online(now, skew) {
            w.online
        } else {
            w.offline
        };
        out += &format!(
            "• {} ({}) {online} · {} {}",
            p.worker_id,
            p.class,
            w.last_seen,
            kst(p.last_seen)
        );
        if !p.current_tasks.is_empty() {
            out += &format!(" · {} {}", w.busy, p.current_tasks.len());
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// One task in /tasks.
#[derive(Debug, Clone)]
struct Recent {
    at: DateTime<Utc>,
    class: Class,
    state: TaskState,
    id: TaskId,
    object: String,
}

/// /tasks: the most recently written tasks across both classes and all states. Lists each
/// state prefix once and reads only the envelopes it shows.
pub async fn tasks(state: &AppState) -> queue_core::Result<String> {
    let bucket = state.queue.bucket();
    let mut recent: BTreeMap<TaskId, Recent> = BTreeMap::new();
    let mut running_envs: BTreeMap<TaskId, Envelope> = BTreeMap::new();
    for class in Class::ALL {
        for st in [TaskState::Pending, TaskState::Done, TaskState::Failed] {
            let prefix = names::state_prefix(class, st);
            for info in bucket.list(&prefix).await? {
                let file = &info.name[prefix.len()..];
                let id = match st {
                    TaskState::Pending => names::parse_pending_file(file).ok().map(|p| p.id),
                    _ => names::parse_terminal_file(file).ok(),
                };
                if let Some(id) = id {
                    let r = Recent {
                        at: info.last_modified,
                        class,
                        state: st,
                        id,
                        object: info.name,
                    };
                    keep_newest(&mut recent, r);
                }
            }
        }
        for t in inspect::list_tasks(bucket, class, TaskState::Running).await? {
            if let Some(env) = t.envelope {
                running_envs.insert(t.id, env);
            }
            let r = Recent {
                at: t.last_modified,
                class,
                state: TaskState::Running,
                id: t.id,
                object: t.object,
            };
            keep_newest(&mut recent, r);
        }
    }
    let mut list: Vec<Recent> = recent.into_values().collect();
    list.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    list.truncate(RECENT_TASKS);
    let w = state.lang.words();
    if list.is_empty() {
        return Ok(w.no_tasks.to_string());
    }
    let mut out = format!("{}\n", w.recent);
    for r in list {
        let env = match running_envs.remove(&r.id) {
            Some(env) => Some(env),
            None => bucket
                .get(&r.object)
                .await?
                .and_then(|o| Envelope::from_json(&o.bytes).ok()),
        };
        let state_word = w.states[TaskState::ALL
            .iter()
            .position(|s| *s == r.state)
            .unwrap_or(0)];
        let (kind, snippet) = match &env {
            Some(e) => (e.kind.as_str(), snippet(e)),
            None => ("?", String::new()),
        };
        out += &format!(
            "• {} {}/{state_word} {kind}{snippet}\n  {}\n",
            kst(r.at),
            r.class,
            r.id
        );
    }
    Ok(out.trim_end().to_string())
}

fn keep_newest(map: &mut BTreeMap<TaskId, Recent>, r: Recent) {
    match map.get(&r.id) {
        Some(old) if old.at >= r.at => {}
        _ => {
            map.insert(r.id, r);
        }
    }
}

/// ` — first 30 characters of the text`, when the payload has one.
fn snippet(env: &Envelope) -> String {
    let Some(text) = env.payload.get("text").and_then(|t| t.as_str()) else {
        return String::new();
    };
    let short: String = text.chars().take(30).collect();
    if short.is_empty() {
        String::new()
    } else if short.len() < text.len() {
        format!(" — {short}…")
    } else {
        format!(" — {short}")
    }
}

/// /retry ID: replay a failed task.
async fn retry(state: &AppState, args: &str) -> queue_core::Result<String> {
    let lang = state.lang;
    let Ok(id) = args.trim().parse::<TaskId>() else {
        return Ok(lang.needs_id("retry"));
    };
    match state.queue.replay(id).await {
        Ok(new) => Ok(format!(
            "{}\n\n{}",
            lang.retried(&id.to_string(), &new.id.to_string()),
            outcome::footer(new.id)
        )),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
            Ok(lang.command_failed(e.message()))
        }
        Err(e) => Err(e),
    }
}

/// /cancel ID: cancel a pending or running task.
async fn cancel(state: &AppState, chat_id: i64, args: &str) -> queue_core::Result<String> {
    let lang = state.lang;
    let Ok(id) = args.trim().parse::<TaskId>() else {
        return Ok(lang.needs_id("cancel"));
    };
    let by = format!("telegram-chat-{chat_id}");
    match state.queue.cancel(id, &by, "cancelled from telegram").await {
        Ok(CancelOutcome::CancelledPending(_)) => Ok(lang.cancelled(&id.to_string(), false)),
        Ok(CancelOutcome::CancelledRunning(_)) => Ok(lang.cancelled(&id.to_string(), true)),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::NotFound | ErrorKind::InvalidInput | ErrorKind::Conflict
            ) =>
        {
            Ok(lang.command_failed(e.message()))
        }
        Err(e) => Err(e),
    }
}
