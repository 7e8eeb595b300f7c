//! A fake Telegram Bot API server, for tests of anything that talks to Telegram through
//! teloxide-core (point the client at [`FakeBotApi::url`], e.g. with `TELEGRAM_API_URL` or
//! `Bot::set_api_url`).
//!
//! It listens on `127.0.0.1:0` and serves what the real API serves, in the shapes teloxide-core
//! parses:
//!
//! - `POST /bot{token}/{method}` with a JSON body (teloxide's `JsonRequest`) or a
//!   `multipart/form-data` body (its `MultipartRequest`: `sendDocument`, `setWebhook`, …).
//!   Method names are matched case-insensitively (teloxide sends `SendMessage`) and recorded
//!   in Telegram's spelling (`sendMessage`).
//! - Answers `getMe`, `sendMessage`, `sendDocument`, `sendPhoto`, `getFile`, `setWebhook`,
//!   `deleteWebhook`, `getWebhookInfo`, `setMyCommands`, `sendChatAction` and
//!   `answerCallbackQuery` with `{"ok":true,"result":…}`; any other method gets the real API's
//!   404 answer.
//! - `GET /file/bot{token}/{file_path}` serves the bytes of files added with
//!   [`FakeBotApi::add_file`]; `getFile` answers their `file_path`.
//!
//! Every method call is recorded as a [`Call`] (method, token, parsed params, uploaded files).
//! Tests wait for calls with [`FakeBotApi::wait_for_calls`] instead of sleeping, and script
//! failures with [`FakeBotApi::fail_next`].
//!
//! Multipart text fields are decoded the way teloxide encodes them: a field that parses as a
//! JSON number, boolean, object or array is stored as that value, anything else as a string.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{oneshot, watch};

/// How long [`FakeBotApi::wait_for_calls`] waits before it fails the test.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// One recorded Bot API method call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The method in Telegram's spelling, e.g. `sendMessage`.
    pub method: String,
    /// The bot token from the URL.
    pub token: String,
    /// The parameters: the JSON body, or the multipart text fields.
    pub params: Value,
    /// Files uploaded in a multipart body.
    pub files: Vec<UploadedFile>,
}

impl Call {
    /// A parameter by name.
    pub fn param(&self, key: &str) -> Option<&Value> {
        self.params.get(key)
    }

    /// A string parameter by name.
    pub fn str_param(&self, key: &str) -> Option<&str> {
        self.param(key).and_then(Value::as_str)
    }

    /// `chat_id` as a number, when it is one.
    pub fn chat_id(&self) -> Option<i64> {
        self.param("chat_id").and_then(Value::as_i64)
    }

    /// The `text` parameter (`sendMessage`).
    pub fn text(&self) -> Option<&str> {
        self.str_param("text")
    }

    /// The file sent for parameter `name` (e.g. `document`): the part of that name, or the
    /// part an `attach://…` value points to (how teloxide sends in-memory files).
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        let attached = self
            .str_param(name)
            .and_then(|v| v.strip_prefix("attach://"));
        self.files
            .iter()
            .find(|f| f.field == name || Some(f.field.as_str()) == attached)
    }

    /// The message this call replies to (`reply_parameters.message_id`).
    pub fn reply_to(&self) -> Option<i64> {
        self.param("reply_parameters")
            .and_then(|r| r.get("message_id"))
            .and_then(Value::as_i64)
    }
}

/// A file part of a multipart call.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    /// The form field it came in (e.g. `document`).
    pub field: String,
    /// The file name the client gave.
    pub file_name: Option<String>,
    /// The part's content type.
    pub content_type: Option<String>,
    /// The contents.
    pub bytes: Bytes,
}

/// A file the fake serves through `getFile` and `/file/bot{token}/{path}`.
#[derive(Debug, Clone)]
struct FakeFile {
    path: String,
    bytes: Bytes,
}

/// A scripted failure: the next call of `method` is answered with this error.
#[derive(Debug, Clone)]
struct Failure {
    method: String,
    status: StatusCode,
    description: String,
}

#[derive(Debug)]
struct Shared {
    token: Option<String>,
    bot_username: String,
    calls: Mutex<Vec<Call>>,
    downloads: Mutex<Vec<String>>,
    count: watch::Sender<usize>,
    files: Mutex<HashMap<String, FakeFile>>,
    failures: Mutex<Vec<Failure>>,
    next_message_id: AtomicI64,
}

/// Builds a [`FakeBotApi`] with a fixed token, a bot name or files known from the start.
#[derive(Debug, Default)]
pub struct FakeBotApiBuilder {
    token: Option<String>,
    bot_username: Option<String>,
    files: Vec<(String, String, Bytes)>,
}

impl FakeBotApiBuilder {
    /// Accept only this token; calls with another get the real API's 401 answer.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The username `getMe` reports (default `fake_test_bot`).
    pub fn bot_username(mut self, name: impl Into<String>) -> Self {
        self.bot_username = Some(name.into());
        self
    }

    /// Serve a file: `getFile(file_id)` answers `file_path`, and the download URL serves `bytes`.
    pub fn file(
        mut self,
        file_id: impl Into<String>,
        file_path: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        self.files
            .push((file_id.into(), file_path.into(), bytes.into()));
        self
    }

    /// Bind `127.0.0.1:0` and serve until the [`FakeBotApi`] is dropped.
    pub async fn start(self) -> FakeBotApi {
        let (count, _) = watch::channel(0usize);
        let files = self
            .files
            .into_iter()
            .map(|(id, path, bytes)| (id, FakeFile { path, bytes }))
            .collect();
        let shared = Arc::new(Shared {
            token: self.token,
            bot_username: self
                .bot_username
                .unwrap_or_else(|| "fake_test_bot".to_string()),
            calls: Mutex::new(Vec::new()),
            downloads: Mutex::new(Vec::new()),
            count,
            files: Mutex::new(files),
            failures: Mutex::new(Vec::new()),
            next_message_id: AtomicI64::new(1000),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Bot API on 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeBotApi {
            url: format!("http://{addr}/"),
            shared,
            _stop: stop,
        }
    }
}

/// The running fake server. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeBotApi {
    url: String,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

impl FakeBotApi {
    /// A fake that accepts any token.
    pub async fn start() -> FakeBotApi {
        FakeBotApi::builder().start().await
    }

    /// A builder for a fake with a fixed token, a bot name or files.
    pub fn builder() -> FakeBotApiBuilder {
        FakeBotApiBuilder::default()
    }

    /// The API base URL, e.g. `http://127.0.0.1:41234/` (what `TELEGRAM_API_URL` takes).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serve a file through `getFile` and the download URL.
    pub fn add_file(&self, file_id: &str, file_path: &str, bytes: impl Into<Bytes>) {
        self.shared.files.lock().expect("files lock").insert(
            file_id.to_string(),
            FakeFile {
                path: file_path.to_string(),
                bytes: bytes.into(),
            },
        );
    }

    /// Answer the next call of `method` with an error (`ok: false`, `error_code` = `status`).
    /// Note that teloxide-core waits 10 seconds after a 5xx answer before it reports it.
    pub fn fail_next(&self, method: &str, status: u16, description: &str) {
        self.shared
            .failures
            .lock()
            .expect("failures lock")
            .push(Failure {
                method: canonical_method(method),
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                description: description.to_string(),
            });
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().expect("calls lock").clone()
    }

    /// The calls of one method (any spelling: `sendMessage`, `SendMessage`).
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        let method = canonical_method(method);
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// The texts sent with `sendMessage` to `chat_id`, in order.
    pub fn messages_to(&self, chat_id: i64) -> Vec<String> {
        self.calls_to("sendMessage")
            .iter()
            .filter(|c| c.chat_id() == Some(chat_id))
            .filter_map(|c| c.text().map(str::to_string))
            .collect()
    }

    /// The file paths downloaded through `/file/bot{token}/…`, in order.
    pub fn downloads(&self) -> Vec<String> {
        self.shared
            .downloads
            .lock()
            .expect("downloads lock")
            .clone()
    }

    /// Wait until at least `n` calls of `method` were made and return them; fails the test
    /// after [`DEFAULT_WAIT`], listing the calls seen.
    pub async fn wait_for_calls(&self, method: &str, n: usize) -> Vec<Call> {
        self.wait_for_calls_within(method, n, DEFAULT_WAIT).await
    }

    /// [`FakeBotApi::wait_for_calls`] with an explicit time limit.
    pub async fn wait_for_calls_within(
        &self,
        method: &str,
        n: usize,
        limit: Duration,
    ) -> Vec<Call> {
        let mut rx = self.shared.count.subscribe();
        let wait = async {
            loop {
                let calls = self.calls_to(method);
                if calls.len() >= n {
                    return calls;
                }
                if rx.changed().await.is_err() {
                    return self.calls_to(method);
                }
            }
        };
        match tokio::time::timeout(limit, wait).await {
            Ok(calls) if calls.len() >= n => calls,
            _ => panic!(
                "waited {limit:?} for {n} call(s) of {method}; saw: {:#?}",
                self.calls()
                    .iter()
                    .map(|c| (c.method.clone(), c.params.clone()))
                    .collect::<Vec<_>>()
            ),
        }
    }
}

/// `SendMessage` → `sendMessage` (teloxide sends the payload's type name).
fn canonical_method(method: &str) -> String {
    let mut chars = method.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/');
    if method == Method::GET
        && let Some(rest) = path.strip_prefix("file/")
    {
        return download(&shared, rest);
    }
    let Some((bot, name)) = path.split_once('/') else {
        return not_found();
    };
    let Some(token) = bot.strip_prefix("bot") else {
        return not_found();
    };
    let token = decode(token);
    if method != Method::POST && method != Method::GET {
        return not_found();
    }
    if shared.token.as_deref().is_some_and(|t| t != token) {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let params = match parse_params(&headers, body).await {
        Ok(p) => p,
        Err(description) => return api_error(StatusCode::BAD_REQUEST, &description),
    };
    let call = Call {
        method: canonical_method(name),
        token,
        params: params.0,
        files: params.1,
    };
    let answer = answer(&shared, &call);
    {
        let mut calls = shared.calls.lock().expect("calls lock");
        calls.push(call);
        let n = calls.len();
        shared.count.send_replace(n);
    }
    answer
}

fn download(shared: &Shared, rest: &str) -> Response {
    let Some((bot, file_path)) = rest.split_once('/') else {
        return not_found();
    };
    if !bot.starts_with("bot") {
        return not_found();
    }
    let token = decode(&bot[3..]);
    if shared.token.as_deref().is_some_and(|t| t != token) {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    // teloxide pushes the whole file path as one URL segment, so its slashes arrive as %2F
    let file_path = decode(file_path);
    shared
        .downloads
        .lock()
        .expect("downloads lock")
        .push(file_path.clone());
    let files = shared.files.lock().expect("files lock");
    match files.values().find(|f| f.path == file_path) {
        Some(f) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            f.bytes.clone(),
        )
            .into_response(),
        None => not_found(),
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

async fn parse_params(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Value, Vec<UploadedFile>), String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(content_type)
            .map_err(|e| format!("Bad Request: bad multipart content type: {e}"))?;
        let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        let mut params = Map::new();
        let mut files = Vec::new();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| format!("Bad Request: bad multipart body: {e}"))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let part_type = field.content_type().map(|m| m.to_string());
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("Bad Request: bad multipart body: {e}"))?;
            if file_name.is_some() {
                files.push(UploadedFile {
                    field: name,
                    file_name,
                    content_type: part_type,
                    bytes,
                });
            } else {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                params.insert(name, decode_text_field(text));
            }
        }
        Ok((Value::Object(params), files))
    } else if body.is_empty() {
        Ok((Value::Object(Map::new()), Vec::new()))
    } else {
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("Bad Request: can't parse JSON: {e}"))?;
        if !value.is_object() {
            return Err("Bad Request: parameters must be a JSON object".to_string());
        }
        Ok((value, Vec::new()))
    }
}

fn decode_text_field(text: String) -> Value {
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(text),
    }
}

fn answer(shared: &Shared, call: &Call) -> Response {
    let scripted = {
        let mut failures = shared.failures.lock().expect("failures lock");
        failures
            .iter()
            .position(|f| f.method == call.method)
            .map(|i| failures.remove(i))
    };
    if let Some(f) = scripted {
        return api_error(f.status, &f.description);
    }
    let result = match call.method.as_str() {
        "getMe" => json!({
            "id": 777000111,
            "is_bot": true,
            "first_name": "Fake Bot",
            "username": shared.bot_username,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
            "can_connect_to_business": false,
            "has_main_web_app": false,
        }),
        "sendMessage" => {
            let mut m = message(shared, call);
            m["text"] = call.param("text").cloned().unwrap_or(json!(""));
            m
        }
        "sendDocument" | "sendPhoto" => {
            let field = if call.method == "sendPhoto" {
                "photo"
            } else {
                "document"
            };
            let upload = call.file(field);
            let id = format!(
                "fake-{field}-{}",
                shared.next_message_id.load(Ordering::Relaxed)
            );
            let mut m = message(shared, call);
            if let Some(caption) = call.param("caption") {
                m["caption"] = caption.clone();
            }
            let size = upload.map(|f| f.bytes.len()).unwrap_or(0);
            if field == "photo" {
                m["photo"] = json!([{
                    "file_id": id, "file_unique_id": format!("u{id}"),
                    "width": 1, "height": 1, "file_size": size,
                }]);
            } else {
                m["document"] = json!({
                    "file_id": id,
                    "file_unique_id": format!("u{id}"),
                    "file_name": upload.and_then(|f| f.file_name.clone()).unwrap_or_else(|| "file".into()),
                    "file_size": size,
                });
            }
            m
        }
        "getFile" => {
            let file_id = call.str_param("file_id").unwrap_or_default();
            let files = shared.files.lock().expect("files lock");
            match files.get(file_id) {
                Some(f) => json!({
                    "file_id": file_id,
                    "file_unique_id": format!("u-{file_id}"),
                    "file_size": f.bytes.len(),
                    "file_path": f.path,
                }),
                None => {
                    return api_error(StatusCode::BAD_REQUEST, "Bad Request: invalid file_id");
                }
            }
        }
        "getWebhookInfo" => json!({
            "url": "",
            "has_custom_certificate": false,
            "pending_update_count": 0,
        }),
        "setWebhook"
        | "deleteWebhook"
        | "setMyCommands"
        | "sendChatAction"
        | "answerCallbackQuery" => json!(true),
        _ => return not_found(),
    };
    (
        StatusCode::OK,
        axum::Json(json!({ "ok": true, "result": result })),
    )
        .into_response()
}

/// A sent message as the real API answers it (without its content fields).
fn message(shared: &Shared, call: &Call) -> Value {
    let id = shared.next_message_id.fetch_add(1, Ordering::Relaxed);
    let chat = match call.param("chat_id") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n > 0) => {
            json!({ "id": n, "type": "private", "first_name": "Test" })
        }
        Some(Value::Number(n)) => json!({ "id": n, "type": "supergroup", "title": "Test group" }),
        Some(Value::String(s)) => match s.parse::<i64>() {
            Ok(n) if n > 0 => json!({ "id": n, "type": "private", "first_name": "Test" }),
            Ok(n) => json!({ "id": n, "type": "supergroup", "title": "Test group" }),
            Err(_) => json!({
                "id": -1001000000001i64, "type": "channel", "title": s,
                "username": s.trim_start_matches('@'),
            }),
        },
        _ => json!({ "id": 1, "type": "private", "first_name": "Test" }),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut m = json!({
        "message_id": id,
        "date": now,
        "chat": chat,
        "from": {
            "id": 777000111, "is_bot": true, "first_name": "Fake Bot",
            "username": shared.bot_username,
        },
    });
    if let Some(reply) = call
        .param("reply_parameters")
        .and_then(|r| r.get("message_id"))
    {
        m["reply_to_message"] = json!({
            "message_id": reply, "date": now, "chat": m["chat"].clone(), "text": "",
        });
    }
    m
}

fn api_error(status: StatusCode, description: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "ok": false,
            "error_code": status.as_u16(),
            "description": description,
        })),
    )
        .into_response()
}

fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Not Found")
}
