//! `POST /telegram/webhook`: authenticate, parse, filter by chat, then hand the update to
//! the request path, the command path, or keep it raw. Telegram redelivers an update until it
//! gets a 2xx, so the answer is 200 for everything handled or deliberately dropped, 4xx for
//! what can never succeed, and 503 only when a retry may help (store or Telegram down) —
//! safe, because everything created is keyed by `tg-update-{update_id}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use queue_core::task::Source;
use queue_core::{Class, EnqueueRequest};
use serde_json::{Value, json};

use super::update::{self, Incoming, UpdateBody};
use super::{commands, request};
use crate::classify::UpdatePolicy;
use crate::error::ApiError;
use crate::state::{AppState, TelegramState};

/// The header Telegram sends the webhook secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The route handler.
pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Some(tg) = state.telegram.clone() else {
        return Err(ApiError::not_found(
            "the telegram webhook is not configured",
        ));
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if given.is_empty() || !tg.webhook_secret.matches(given) {
        tracing::warn!(
            header_present = !given.is_empty(),
            "webhook call with a missing or wrong secret token: refused"
        );
        return Err(ApiError::unauthorized());
    }
    let (raw, incoming) = update::read(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let Some(chat_id) = incoming.chat_id().filter(|c| tg.allowed_chats.contains(c)) else {
        // Never log the text: strangers' messages are not ours to keep.
        tracing::info!(
            update_id = incoming.update_id,
            update_type = %incoming.update_type,
            chat_id = ?incoming.chat_id(),
            "update from a chat that is not allowed: dropped"
        );
        return Ok(StatusCode::OK);
    };
    let settings = &state.rules.settings;
    match &incoming.body {
        UpdateBody::New(msg) if msg.text.trim().is_empty() && msg.photo.is_none() => {
            keep_raw(&state, &incoming, raw, settings.other_updates, "no-content").await?;
        }
        UpdateBody::New(msg) => match msg.command() {
            Some((name, args)) => commands::run(&state, &tg, msg, &name, &args).await,
            None => request::handle(&state, &tg, &incoming, msg, raw).await?,
        },
        UpdateBody::Edited(_) => {
            keep_raw(&state, &incoming, raw, settings.edited_messages, "edited").await?;
        }
        UpdateBody::Other { .. } => {
            keep_raw(
                &state,
                &incoming,
                raw,
                settings.other_updates,
                "other-update",
            )
            .await?;
        }
    }
    tracing::debug!(update_id = incoming.update_id, chat_id, "update handled");
    Ok(StatusCode::OK)
}

/// Updates that are not requests: kept as a light task with the raw JSON (no reply), or
/// dropped, as the rules file says.
async fn keep_raw(
    state: &AppState,
    incoming: &Incoming,
    raw: Value,
    policy: UpdatePolicy,
    rule: &str,
) -> Result<(), ApiError> {
    if policy == UpdatePolicy::Ignore {
        tracing::info!(update_id = incoming.update_id, update_type = %incoming.update_type, rule, "update ignored by policy");
        return Ok(());
    }
    let kind = state.rules.settings.other_kind.clone();
    let payload = json!({
        "update_id": incoming.update_id,
        "update_type": incoming.update_type,
        "chat_id": incoming.chat_id(),
    });
    let req = EnqueueRequest::new(Class::Light, kind, payload)
        .key(incoming.key())
        .source(telegram_source(incoming, None, raw))
        .label("class", "light")
        .label("class_rule", rule)
        .label("update_type", incoming.update_type.clone());
    let done = state
        .queue
        .enqueue(req)
        .await
        .map_err(|e| ApiError::from_queue("keep update", &e))?;
    state.metrics.enqueued(&done);
    tracing::info!(update_id = incoming.update_id, update_type = %incoming.update_type, task = %done.id, created = done.created, "update kept");
    Ok(())
}

/// The envelope's `source` for an update: chat, message and update ids, and the raw JSON.
pub(crate) fn telegram_source(incoming: &Incoming, message_id: Option<i32>, raw: Value) -> Source {
    Source {
        kind: "telegram".into(),
        chat_id: incoming.chat_id(),
        message_id,
        update_id: Some(incoming.update_id),
        raw: Some(raw),
        ..Source::default()
    }
}

/// Send a reply; a failure is logged, not returned: the task exists, and answering the
/// webhook with an error would only make Telegram redeliver an update we already handled.
pub(crate) async fn send_reply(
    tg: &TelegramState,
    chat_id: i64,
    reply_to: Option<i32>,
    text: &str,
) {
    if let Err(e) = tg.bot.send_message(chat_id, text, reply_to).await {
        tracing::warn!(chat_id, error = %e, "could not send the reply");
    }
}
