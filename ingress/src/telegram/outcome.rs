//! What became of a task, for the chat: `/result ID`, and the `context` a follow-up carries.
//!
//! **Message → task.** Every bot message about a task ends with a footer line `id: {task id}`
//! (the ingress's "queued" reply, the worker's result and failure notices, `/result`). A reply
//! to such a message arrives with Telegram's `reply_to_message`, whose text holds the footer:
//! [`task_id_in`] reads it back with no store operation and no state kept by the ingress.
//!
//! **Store operations.** [`lookup`] reads the finished places first — `done/` then `failed/`
//! of light, then of heavy: at most 4 GETs (Class B), 1 for a light task that is done — and
//! only when the task is not finished yet (a reply to "queued") falls back to
//! [`queue_core::inspect::find_task`], which lists `pending/` and the lease chain (Class A).

use queue_core::inspect::{self, Location};
use queue_core::{Bucket, Class, Envelope, ErrorKind, TaskId, TaskState, names};
use serde_json::{Value, json};

use super::update::IncomingMessage;
use crate::reply::Lang;
use crate::state::AppState;

/// The longest result text shown in one chat message (Telegram's limit is 4096).
pub const MAX_SHOWN_CHARS: usize = 3500;

/// The footer line that names a task in a bot message.
pub fn footer(id: TaskId) -> String {
    format!("id: {id}")
}

/// The task named by the last `id: …` footer line of `text` (pure).
pub fn task_id_in(text: &str) -> Option<TaskId> {
    text.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("id:")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// A task and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Pending, running, done or failed.
    pub state: TaskState,
    /// Its envelope (with `result` or `failure` when finished).
    pub envelope: Envelope,
}

/// Find task `id`: finished places first (≤ 4 GETs), then the full search. `None`: no such
/// task (never created, or purged).
pub async fn lookup(bucket: &Bucket, id: TaskId) -> queue_core::Result<Option<Outcome>> {
    for class in [Class::Light, Class::Heavy] {
        for state in [TaskState::Done, TaskState::Failed] {
            if let Some(o) = bucket.get(&names::terminal(class, state, id)).await? {
                let envelope = Envelope::from_json(&o.bytes)?;
                return Ok(Some(Outcome { state, envelope }));
            }
        }
    }
    match inspect::find_task(bucket, id).await {
        Ok(found) => Ok(Some(Outcome {
            state: match found.location {
                Location::Pending { .. } => TaskState::Pending,
                Location::Running { .. } => TaskState::Running,
                Location::Terminal { state, .. } => state,
            },
            envelope: found.envelope,
        })),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// `/result ID`, or `/result` sent as a reply to a bot message about a task.
pub async fn command(
    state: &AppState,
    msg: &IncomingMessage,
    args: &str,
) -> queue_core::Result<String> {
    let id = match args.trim() {
        "" => msg.reply_to.as_ref().and_then(|r| task_id_in(&r.text)),
        given => given.parse().ok(),
    };
    let Some(id) = id else {
        return Ok(if args.trim().is_empty() {
            state.lang.result_needs_id().to_string()
        } else {
            state.lang.needs_id("result")
        });
    };
    let found = lookup(state.queue.bucket(), id).await?;
    Ok(render(state.lang, id, found.as_ref()))
}

/// A result as text: a string as it is, anything else as pretty JSON, `None` when empty.
pub fn result_text(result: Option<&Value>) -> Option<String> {
    match result? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string())),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    format!("{cut}…")
}

/// The `/result` answer for a task (pure): its result, its failure with `/retry ID`, or its
/// state while it is not finished; always with the footer, so a reply to it is a follow-up.
pub fn render(lang: Lang, id: TaskId, outcome: Option<&Outcome>) -> String {
    let Some(o) = outcome else {
        return lang.result_not_found(&id.to_string());
    };
    let env = &o.envelope;
    let body = match o.state {
        TaskState::Done => lang.result_done(
            &env.kind,
            &result_text(env.result.as_ref()).map(|t| shorten(&t)),
        ),
        TaskState::Failed => {
            let reason = shorten(
                env.failure
                    .as_deref()
                    .or(env.last_error())
                    .unwrap_or("unknown error"),
            );
            match env.replayed_as {
                Some(new) => lang.result_replayed(&env.kind, &reason, &new.to_string()),
                None => lang.result_failed(&env.kind, &reason, &id.to_string()),
            }
        }
        TaskState::Pending | TaskState::Running => lang.result_waiting(&env.kind, o.state),
    };
    format!("{body}\n\n{}", footer(id))
}

/// The `context` of a follow-up: the text of the bot message it replies to, and — when that
/// message names a task — the task's id, kind, state and result or failure.
pub fn context(replied_text: &str, id: Option<TaskId>, outcome: Option<&Outcome>) -> Value {
    let mut c = json!({ "replied_text": replied_text });
    if let Some(id) = id {
        c["task_id"] = json!(id.to_string());
        c["found"] = json!(outcome.is_some());
    }
    if let Some(o) = outcome {
        c["kind"] = json!(o.envelope.kind);
        c["state"] = json!(o.state.as_str());
        c["result"] = o.envelope.result.clone().unwrap_or(Value::Null);
        if let Some(f) = &o.envelope.failure {
            c["failure"] = json!(f);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn the_footer_is_read_back_from_the_last_id_line() {
        let id: TaskId = ID.parse().unwrap();
        assert_eq!(task_id_in(&format!("결과\n\n{}", footer(id))), Some(id));
        assert_eq!(
            task_id_in(&format!("❌ 작업 실패\n\nid: {ID}\n다시 실행: /retry {ID}")),
            Some(id),
            "the worker's failure notice"
        );
        assert_eq!(task_id_in("id: not-a-uuid"), None);
        assert_eq!(task_id_in("no footer here"), None);
        assert_eq!(task_id_in(""), None);
    }

    #[test]
    fn results_are_shown_as_text_or_json_and_shortened() {
        assert_eq!(result_text(Some(&json!("hi"))), Some("hi".into()));
        assert_eq!(result_text(Some(&json!(" "))), None);
        assert_eq!(result_text(None), None);
        assert_eq!(
            result_text(Some(&json!({"a": 1}))),
            Some("{\n  \"a\": 1\n}".into())
        );
        let long = "가".repeat(MAX_SHOWN_CHARS + 10);
        assert_eq!(shorten(&long).chars().count(), MAX_SHOWN_CHARS + 1);
    }
}
