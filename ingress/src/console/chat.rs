//! The dev chat (`/ui/chat`, `queuectl dev` only): a message typed in the page (with an
//! optional photo) becomes a synthetic Telegram update — a fresh `update_id`, the dev chat,
//! the webhook secret — POSTed to this server's own `/telegram/webhook`, the real path. The
//! bot's answers come back through the local Bot API ([`super::botapi`]) and land in the log
//! the page shows: the classification, the Korean reply, and later the worker's result.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use queue_core::{Class, names};
use serde_json::{Value, json};

use super::auth::{Session, refused};
use super::html::{csrf_field, esc, html_response};
use crate::secret::Secret;
use crate::state::{AppState, TelegramState};
use crate::telegram::bot::{BotError, TeloxideBot};
use crate::telegram::webhook::SECRET_HEADER;

/// Who said a line of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The person at the page.
    You,
    /// The bot (the ingress's reply or a worker's notification).
    Bot,
    /// What the ingress did with the update (its answer, the task it made).
    System,
}

/// One line of the chat log; `html` is already escaped.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Who.
    pub who: Who,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The rendered line.
    pub html: String,
}

impl Entry {
    /// A line of plain text.
    pub fn text(who: Who, text: &str) -> Self {
        Entry {
            who,
            at: Utc::now(),
            html: esc(text),
        }
    }
}

/// The dev chat: its log, its photos, and where its webhook is.
#[derive(Debug)]
pub struct DevChat {
    /// The chat id of the page (allowed in the ingress's Telegram state).
    pub chat_id: i64,
    webhook_url: String,
    api_url: String,
    secret: Secret,
    next_update: AtomicI64,
    next_message: AtomicI64,
    log: Mutex<Vec<Entry>>,
    files: Mutex<HashMap<String, (String, Vec<u8>)>>,
    client: reqwest::Client,
}

/// Lines the chat log keeps (it lives in memory).
pub const MAX_ENTRIES: usize = 500;

/// The dev chat's id.
pub const DEV_CHAT_ID: i64 = 1000;
/// The bot token used against the local Bot API (not a real token: nothing leaves the host).
pub const DEV_BOT_TOKEN: &str = "dev-local-bot-api";

impl DevChat {
    /// A chat for a server at `base` (e.g. `http://127.0.0.1:8080`) whose webhook expects
    /// `secret`.
    pub fn new(base: &str, secret: Secret) -> Self {
        let base = base.trim_end_matches('/');
        let start = Utc::now().timestamp();
        DevChat {
            chat_id: DEV_CHAT_ID,
            webhook_url: format!("{base}/telegram/webhook"),
            api_url: format!("{base}/"),
            secret,
            // fresh across restarts on the same store: idempotency keys are per update_id
            next_update: AtomicI64::new(start),
            next_message: AtomicI64::new(1),
            log: Mutex::new(Vec::new()),
            files: Mutex::new(HashMap::new()),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_default(),
        }
    }

    /// The Bot API base URL the ingress and the workers must use.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The ingress's Telegram side for this chat: a bot pointed at the local Bot API, the
    /// chat's webhook secret, and only the dev chat allowed.
    pub fn telegram_state(&self) -> Result<TelegramState, BotError> {
        let url = url::Url::parse(&self.api_url)
            .map_err(|e| BotError::Refused(format!("bad local Bot API url: {e}")))?;
        let bot = TeloxideBot::new(Secret::new(DEV_BOT_TOKEN.to_string()), Some(url))?;
        Ok(TelegramState {
            bot: std::sync::Arc::new(bot),
            webhook_secret: self.secret.clone(),
            allowed_chats: [self.chat_id].into_iter().collect(),
        })
    }

    /// Add a line to the log (the oldest go beyond [`MAX_ENTRIES`]).
    pub fn record(&self, entry: Entry) {
        let mut log = self.log.lock().expect("chat log lock");
        if log.len() >= MAX_ENTRIES {
            log.remove(0);
        }
        log.push(entry);
    }

    /// The log so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.log.lock().expect("chat log lock").clone()
    }

    /// A message the bot "sent", as the Bot API answers it.
    pub(super) fn sent_message(&self, chat_id: i64) -> Value {
        let id = self.next_message.fetch_add(1, Ordering::Relaxed);
        super::botapi::message_json(id, chat_id, Utc::now().timestamp())
    }

    /// A photo by file id: its path and bytes.
    pub(super) fn file(&self, id: &str) -> Option<(String, Vec<u8>)> {
        self.files.lock().expect("files lock").get(id).cloned()
    }

    /// A photo by path.
    pub(super) fn file_by_path(&self, path: &str) -> Option<Vec<u8>> {
        self.files
            .lock()
            .expect("files lock")
            .values()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
    }

    /// The update a message from the page becomes (pure apart from the counters).
    fn update(&self, text: &str, photo: Option<(String, usize)>) -> (i64, Value) {
        let update_id = self.next_update.fetch_add(1, Ordering::Relaxed);
        let message_id = self.next_message.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({
            "message_id": message_id,
            "date": Utc::now().timestamp(),
            "chat": { "id": self.chat_id, "type": "private", "first_name": "Dev" },
            "from": { "id": self.chat_id, "is_bot": false, "first_name": "Dev", "language_code": "ko" },
        });
        match photo {
            Some((file_id, size)) => {
                message["photo"] = json!([{
                    "file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                    "width": 1280, "height": 960, "file_size": size,
                }]);
                if !text.is_empty() {
                    message["caption"] = json!(text);
                }
            }
            None => message["text"] = json!(text),
        }
        (
            update_id,
            json!({ "update_id": update_id, "message": message }),
        )
    }
}

/// `GET /ui/chat`.
pub async fn page(session: Session, State(state): State<AppState>) -> Response {
    let Some(chat) = state.dev_chat.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let body = format!(
        r#"<h1>Dev chat</h1><p class="hint">Messages go through the real webhook as Telegram updates from chat {id}; the bot's answers come from a local Bot API. Try <em>이 논문 요약해줘</em>, <em>서버 상태 확인해줘</em> or <em>매일 아침 9시에 뉴스 요약</em>.</p><ol id="log" class="chat">{log}</ol><form method="post" action="/ui/chat" enctype="multipart/form-data" class="chat-form">{csrf}<input name="text" id="text" placeholder="메시지…" autocomplete="off" autofocus><input type="file" name="photo" accept="image/*"><button id="send">Send</button></form><script>setInterval(function(){{fetch('/ui/chat/log').then(function(r){{return r.ok?r.text():null}}).then(function(h){{if(h!==null){{document.getElementById('log').innerHTML=h}}}})}},1000);</script>"#,
        id = chat.chat_id,
        log = log_html(&chat),
        csrf = csrf_field(&session.csrf),
    );
    session.page(&state, "Dev chat", body).into_response()
}

fn log_html(chat: &DevChat) -> String {
    let mut out = String::new();
    for e in chat.entries() {
        let class = match e.who {
            Who::You => "you",
            Who::Bot => "bot",
            Who::System => "system",
        };
        let _ = write!(
            out,
            r#"<li class="{class}"><time>{}</time> {}</li>"#,
            e.at.format("%H:%M:%S"),
            e.html
        );
    }
    out
}

/// `GET /ui/chat/log`: the log as list items (the page polls it).
pub async fn log(_session: Session, State(state): State<AppState>) -> Response {
    match state.dev_chat.clone() {
        Some(chat) => html_response(log_html(&chat)),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `POST /ui/chat`: send a message (multipart: `csrf`, `text`, optional `photo`).
pub async fn send(
    session: Session,
    State(state): State<AppState>,
    mut form: Multipart,
) -> Response {
    let Some(chat) = state.dev_chat.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (mut csrf, mut text, mut photo) = (None, String::new(), None);
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let Ok(bytes) = field.bytes().await else {
            return refused(
                StatusCode::BAD_REQUEST,
                "the form could not be read (too large?)",
            );
        };
        match name.as_str() {
            "csrf" => csrf = Some(String::from_utf8_lossy(&bytes).to_string()),
            "text" => text = String::from_utf8_lossy(&bytes).trim().to_string(),
            "photo" if !bytes.is_empty() => photo = Some((file_name, bytes.to_vec())),
            _ => {}
        }
    }
    if let Err(r) = session.require_csrf(csrf.as_deref()) {
        return *r;
    }
    if text.is_empty() && photo.is_none() {
        return Redirect::to("/ui/chat").into_response();
    }
    let photo_ref = photo.map(|(name, bytes)| {
        let n = chat.next_message.fetch_add(1, Ordering::Relaxed);
        let ext = name
            .as_deref()
            .and_then(|n| n.rsplit_once('.'))
            .map_or("jpg", |(_, e)| e)
            .to_ascii_lowercase();
        let ext = if ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            ext
        } else {
            "jpg".into()
        };
        let id = format!("dev-photo-{n}");
        let size = bytes.len();
        chat.files
            .lock()
            .expect("files lock")
            .insert(id.clone(), (format!("photos/dev-{n}.{ext}"), bytes));
        (id, size)
    });
    let shown = match &photo_ref {
        Some((_, size)) => format!("{text} [photo, {size} bytes]"),
        None => text.clone(),
    };
    chat.record(Entry::text(Who::You, &shown));
    let (update_id, update) = chat.update(&text, photo_ref);
    let answer = chat
        .client
        .post(&chat.webhook_url)
        .header(SECRET_HEADER, chat.secret.expose())
        .json(&update)
        .send()
        .await;
    let status = match answer {
        Ok(r) => r.status().to_string(),
        Err(e) => format!("unreachable ({e})"),
    };
    tracing::info!(who = %session.who(), update_id, %status, "dev chat message sent to the webhook");
    chat.record(Entry {
        who: Who::System,
        at: Utc::now(),
        html: classification(&state, update_id, &status).await,
    });
    Redirect::to("/ui/chat").into_response()
}

/// What became of update `update_id`: the task its idempotency key points to, with the
/// classification labels, or just the webhook's status (a command, a schedule, a refusal).
async fn classification(state: &AppState, update_id: i64, status: &str) -> String {
    let key = format!("tg-update-{update_id}");
    for class in Class::ALL {
        let Ok(Some(o)) = state
            .queue
            .bucket()
            .get(&names::idempotency(class, &key))
            .await
        else {
            continue;
        };
        let Ok(record) = serde_json::from_slice::<Value>(&o.bytes) else {
            continue;
        };
        let id = record.get("task_id").and_then(Value::as_str).unwrap_or("");
        let env = record.get("envelope").cloned().unwrap_or(Value::Null);
        let label = |k: &str| {
            env.pointer(&format!("/labels/{k}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let kind = env.get("kind").and_then(Value::as_str).unwrap_or("");
        return format!(
            r#"webhook {status} · classified <strong class="route">{class}</strong> (rule {rule}) · task <a href="/ui/tasks/{id}">{id_short}</a> kind {kind}"#,
            status = esc(status),
            rule = esc(&label("class_rule")),
            id = esc(id),
            id_short = esc(id.get(..8).unwrap_or(id)),
            kind = esc(kind),
        );
    }
    format!(
        "webhook {} · no task (a command, a schedule, or refused)",
        esc(status)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_get_fresh_ids_and_carry_the_photo_as_caption() {
        let chat = DevChat::new("http://127.0.0.1:1/", Secret::new("s".to_string()));
        let (a, text) = chat.update("안녕", None);
        let (b, photo) = chat.update("이거 봐", Some(("dev-photo-1".into(), 3)));
        assert_eq!(b, a + 1);
        assert_eq!(text["message"]["text"], "안녕");
        assert_eq!(text["message"]["chat"]["id"], DEV_CHAT_ID);
        assert_eq!(photo["message"]["caption"], "이거 봐");
        assert_eq!(photo["message"]["photo"][0]["file_id"], "dev-photo-1");
        assert_eq!(chat.api_url(), "http://127.0.0.1:1/");
    }
}
