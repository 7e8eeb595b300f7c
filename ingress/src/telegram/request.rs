//! A message that asks for work: classify it, store its photo, enqueue it once per update,
//! and tell the person what happens next — aware of whether the MacBook is online. A message
//! that replies to the bot's message about a task is a follow-up: its payload carries that
//! task's id and result as `context` (see [`super::outcome`]). The "queued" reply ends with
//! the task's `id:` footer, so a reply to it (or `/result` as a reply) finds the task.

use queue_core::task::Attachment;
use queue_core::{Class, EnqueueRequest, presence};
use serde_json::{Value, json};

use super::outcome;
use super::photo::{self, PhotoError};
use super::recurring;
use super::update::{Incoming, IncomingMessage, RepliedTo};
use super::webhook::{send_reply, telegram_source};
use crate::classify::Input;
use crate::error::ApiError;
use crate::state::{AppState, TelegramState};

/// Classify and act on a request message.
pub async fn handle(
    state: &AppState,
    tg: &TelegramState,
    incoming: &Incoming,
    msg: &IncomingMessage,
    raw: Value,
) -> Result<(), ApiError> {
    let phrase = recurring::detect(&msg.text, &state.rules);
    let decision = state.rules.classify(&Input {
        text: &msg.text,
        has_photo: msg.photo.is_some(),
        recurring: phrase.is_some(),
    });
    let class = match decision.route.class() {
        Some(class) => class,
        None => {
            // A scheduled rule: a custom rules file may route here without `recurring`.
            let found = phrase.unwrap_or_else(|| recurring::parse(&msg.text, &state.rules));
            return recurring::create(state, tg, incoming, msg, found, &decision.rule).await;
        }
    };

    let mut attachments = Vec::new();
    let mut photo_error = None;
    if let Some(p) = &msg.photo {
        match photo::store(
            state.queue.bucket(),
            tg.bot.as_ref(),
            incoming.update_id,
            p,
            state.limits.max_file_bytes,
        )
        .await
        {
            Ok(a) => attachments.push(a),
            Err(PhotoError::Transient(e)) => {
                tracing::warn!(update_id = incoming.update_id, error = %e, "photo not stored; asking Telegram to redeliver");
                return Err(ApiError::unavailable());
            }
            Err(PhotoError::Permanent(e)) => {
                tracing::warn!(update_id = incoming.update_id, error = %e, "photo not available; queueing without it");
                photo_error = Some(e.to_string());
            }
        }
    }

    let mut payload = payload(msg, &decision.rule, &attachments);
    if let Some(replied) = msg.reply_to.as_ref().filter(|r| r.from_bot) {
        payload["context"] = follow_up_context(state, replied).await?;
    }
    let mut req = EnqueueRequest::new(class, decision.kind.clone(), payload)
        .key(incoming.key())
        .source(telegram_source(incoming, Some(msg.message_id), raw))
        .label("class", decision.route.as_str())
        .label("class_rule", decision.rule.clone());
    if let Some(e) = &photo_error {
        req = req.label("attachment_error", e.clone());
    }
    for a in attachments {
        req = req.attachment(a);
    }
    let done = state
        .queue
        .enqueue(req)
        .await
        .map_err(|e| ApiError::from_queue("enqueue telegram request", &e))?;
    state.metrics.enqueued(&done);
    tracing::info!(
        update_id = incoming.update_id,
        task = %done.id,
        class = %class,
        rule = %decision.rule,
        created = done.created,
        "telegram request queued"
    );
    if !done.created {
        // A redelivery: the first delivery already answered.
        return Ok(());
    }
    let mut text = match class {
        Class::Heavy if heavy_worker_online(state).await => state.lang.heavy_online().to_string(),
        Class::Heavy => state.lang.heavy_offline().to_string(),
        Class::Light => state.lang.light_queued().to_string(),
    };
    if photo_error.is_some() {
        text = format!("{text}\n{}", state.lang.photo_missing());
    }
    text = format!("{text}\n\n{}", outcome::footer(done.id));
    send_reply(tg, msg.chat_id, Some(msg.message_id), &text).await;
    Ok(())
}

/// The `context` of a reply to a bot message: its text, and the task its footer names with
/// that task's state and result (≤ 4 GETs for a finished task; see [`outcome::lookup`]). A
/// store that does not answer makes Telegram redeliver (503) rather than lose the context.
async fn follow_up_context(state: &AppState, replied: &RepliedTo) -> Result<Value, ApiError> {
    let id = outcome::task_id_in(&replied.text);
    let found = match id {
        Some(id) => outcome::lookup(state.queue.bucket(), id)
            .await
            .map_err(|e| ApiError::from_queue("read the task a follow-up replies to", &e))?,
        None => None,
    };
    Ok(outcome::context(&replied.text, id, found.as_ref()))
}

/// What the handler reads on stdin.
fn payload(msg: &IncomingMessage, rule: &str, attachments: &[Attachment]) -> Value {
    let mut p = json!({
        "text": msg.text,
        "chat_id": msg.chat_id,
        "message_id": msg.message_id,
        "rule": rule,
    });
    if let Some(from) = &msg.from {
        p["from"] = json!({
            "id": from.id,
            "username": from.username,
            "first_name": from.first_name,
        });
    }
    if !attachments.is_empty() {
        p["attachments"] = attachments.iter().map(|a| json!(a.object)).collect();
    }
    p
}

/// Whether any heavy worker's presence is current. A store that does not answer counts as
/// offline: the reply then promises less, never more.
pub(crate) async fn heavy_worker_online(state: &AppState) -> bool {
    match presence::list(state.queue.bucket()).await {
        Ok(docs) => {
            let skew = chrono::Duration::from_std(state.queue.settings().max_clock_skew)
                .unwrap_or(chrono::Duration::minutes(1));
            presence::any_online(&docs, Class::Heavy, state.queue.clock().now(), skew)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read worker presence; answering as if offline");
            false
        }
    }
}
