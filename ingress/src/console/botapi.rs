//! The dev chat's Bot API: a local endpoint at `/bot{DEV_BOT_TOKEN}/{method}` (Telegram's own
//! layout, under the dev token only) that answers the calls the
//! ingress and the workers make (`sendMessage`, `sendDocument`, `getFile` and the file
//! download, `getMe`, `setWebhook`, …) in the shapes teloxide-core parses, and records every
//! message the bot sends into the [`DevChat`] log. Only `queuectl dev` mounts it: point
//! `TELEGRAM_API_URL` (the ingress's bot and the workers' notifier) at
//! [`super::chat::DevChat::api_url`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::chat::{Entry, Who};
use crate::state::AppState;

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn api_error(status: StatusCode, description: &str) -> Response {
    (
        status,
        axum::Json(
            json!({ "ok": false, "error_code": status.as_u16(), "description": description }),
        ),
    )
        .into_response()
}

/// The call's parameters: a JSON body, or a multipart body's text fields (files noted by
/// name and size only).
async fn params(request: Request) -> Result<Map<String, Value>, Response> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let body = Bytes::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)?;
        if body.is_empty() {
            return Ok(Map::new());
        }
        return serde_json::from_slice(&body)
            .map_err(|_| api_error(StatusCode::BAD_REQUEST, "Bad Request: unreadable json"));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut out = Map::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let Ok(bytes) = field.bytes().await else {
            break;
        };
        let value = match file_name {
            Some(f) => json!({ "file_name": f, "size": bytes.len() }),
            None => {
                let text = String::from_utf8_lossy(&bytes).to_string();
                serde_json::from_str::<Value>(&text)
                    .ok()
                    .filter(|v| !v.is_string())
                    .unwrap_or(Value::String(text))
            }
        };
        out.insert(name, value);
    }
    Ok(out)
}

/// `POST /bot{DEV_BOT_TOKEN}/{method}`.
pub async fn call(
    State(state): State<AppState>,
    Path(method): Path<String>,
    request: Request,
) -> Response {
    let Some(chat) = state.dev_chat.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let params = match params(request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let chat_id = params
        .get("chat_id")
        .and_then(Value::as_i64)
        .unwrap_or(chat.chat_id);
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(json!({
            "id": 777000111, "is_bot": true, "first_name": "bucketq dev bot",
            "username": "bucketq_dev_bot", "can_join_groups": false,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false,
        })),
        "sendmessage" => {
            let text = params.get("text").and_then(Value::as_str).unwrap_or("");
            chat.record(Entry::text(Who::Bot, text));
            let mut m = chat.sent_message(chat_id);
            m["text"] = json!(text);
            ok(m)
        }
        "senddocument" | "sendphoto" => {
            let field = if method.eq_ignore_ascii_case("sendphoto") {
                "photo"
            } else {
                "document"
            };
            let caption = params.get("caption").and_then(Value::as_str).unwrap_or("");
            let file = params
                .get(field)
                .and_then(|f| f.get("file_name"))
                .and_then(Value::as_str)
                .unwrap_or("file");
            chat.record(Entry::text(
                Who::Bot,
                &format!("{caption}\n[{field}: {file}]"),
            ));
            let mut m = chat.sent_message(chat_id);
            m["caption"] = json!(caption);
            m["document"] =
                json!({ "file_id": "dev-doc", "file_unique_id": "dev-doc", "file_name": file });
            ok(m)
        }
        "getfile" => {
            let id = params.get("file_id").and_then(Value::as_str).unwrap_or("");
            match chat.file(id) {
                Some((path, bytes)) => ok(json!({
                    "file_id": id, "file_unique_id": format!("u-{id}"),
                    "file_size": bytes.len(), "file_path": path,
                })),
                None => api_error(StatusCode::BAD_REQUEST, "Bad Request: invalid file_id"),
            }
        }
        "setwebhook"
        | "deletewebhook"
        | "setmycommands"
        | "sendchataction"
        | "answercallbackquery" => ok(json!(true)),
        _ => api_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// `GET /file/bot{DEV_BOT_TOKEN}/{*path}`: a photo the chat page uploaded.
pub async fn file(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let Some(chat) = state.dev_chat.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match chat.file_by_path(&path) {
        Some(bytes) => bytes.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Used by [`DevChat::sent_message`].
pub(super) fn message_json(message_id: i64, chat_id: i64, date: i64) -> Value {
    json!({
        "message_id": message_id,
        "date": date,
        "chat": { "id": chat_id, "type": "private", "first_name": "Dev" },
        "from": { "id": 777000111, "is_bot": true, "first_name": "bucketq dev bot", "username": "bucketq_dev_bot" },
    })
}
