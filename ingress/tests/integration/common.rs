//! Shared set-up: fixtures, an in-process harness around `ingress::app`, and helpers that
//! read what the queue holds.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use ingress::telegram::bot::TeloxideBot;
use ingress::{AppState, Lang, Secret, TelegramState};
use queue_core::inspect;
use queue_core::presence::{self, Presence};
use queue_core::{Bucket, Class, Envelope, ManualClock, Queue, Settings, TaskState};
use serde_json::Value;
use testkit::telegram::FakeBotApi;
use tower::ServiceExt;

pub const BOT_TOKEN: &str = "123456:TEST-bot-token";
pub const WEBHOOK_SECRET: &str = "webhook-s3cret_token";
pub const API_TOKEN: &str = "api-t0ken";
/// The person's private chat (the fixtures' chat).
pub const CHAT: i64 = 111111111;
/// An allowed channel (the channel_post fixture).
pub const CHANNEL: i64 = -1001234567890;
/// A chat that is not allowed.
pub const STRANGER: i64 = 999999999;
/// Bytes served for the photo fixture's largest size.
pub const PHOTO_BYTES: &[u8] = b"\xff\xd8\xff\xe0 fake jpeg bytes of the largest size";
/// The largest size in photo.json.
pub const PHOTO_FILE_ID: &str = "AgACAgUAAxkBAAIPsmdBlarge1280";

/// A fixture from tests/fixtures.
pub fn fixture(name: &str) -> Value {
    let text = match name {
        "text" => include_str!("../fixtures/text.json"),
        "photo" => include_str!("../fixtures/photo.json"),
        "command" => include_str!("../fixtures/command.json"),
        "edited_message" => include_str!("../fixtures/edited_message.json"),
        "channel_post" => include_str!("../fixtures/channel_post.json"),
        "message_reaction" => include_str!("../fixtures/message_reaction.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).expect("fixture is json")
}

/// The text fixture with another text and update id.
pub fn text_update(update_id: i64, text: &str) -> Value {
    let mut v = fixture("text");
    v["update_id"] = update_id.into();
    v["message"]["text"] = text.into();
    v
}

/// The command fixture with another text and update id.
pub fn command(update_id: i64, text: &str) -> Value {
    let mut v = fixture("command");
    v["update_id"] = update_id.into();
    v["message"]["text"] = text.into();
    v
}

/// The text fixture from another chat.
pub fn from_chat(mut v: Value, chat: i64) -> Value {
    v["message"]["chat"]["id"] = chat.into();
    v["message"]["from"]["id"] = chat.into();
    v
}

/// The text fixture as a reply to a message the bot sent (`reply_to_message` from a bot, with
/// `bot_text` as Telegram shows it).
pub fn reply_to_bot(update_id: i64, text: &str, bot_message_id: i32, bot_text: &str) -> Value {
    let mut v = text_update(update_id, text);
    v["message"]["reply_to_message"] = serde_json::json!({
        "message_id": bot_message_id,
        "date": 1763971000,
        "chat": v["message"]["chat"].clone(),
        "from": {"id": 7000000001_i64, "is_bot": true, "first_name": "bucketq", "username": "bucketq_bot"},
        "text": bot_text,
    });
    v
}

/// The fixed start time of the harness clock: 2026-11-24 14:00 KST.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 5, 0, 0).unwrap()
}

/// The router in-process, a fake Bot API, and the queue behind them.
pub struct Harness {
    pub fake: FakeBotApi,
    pub queue: Arc<Queue>,
    pub clock: ManualClock,
    pub router: Router,
}

impl Harness {
    /// Korean replies, default rules, memory store.
    pub async fn new() -> Self {
        Harness::with(|s| s).await
    }

    /// Like [`Harness::new`], with the state adjusted by `f`.
    pub async fn with(f: impl FnOnce(AppState) -> AppState) -> Self {
        let fake = FakeBotApi::builder()
            .token(BOT_TOKEN)
            .file(PHOTO_FILE_ID, "photos/file_7.jpg", PHOTO_BYTES)
            .start()
            .await;
        Harness::with_fake(fake, Bucket::memory(), f)
    }

    /// Around an existing fake and bucket.
    pub fn with_fake(
        fake: FakeBotApi,
        bucket: Bucket,
        f: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let clock = ManualClock::new(start_time());
        let queue = Arc::new(Queue::new(
            bucket,
            Arc::new(clock.clone()),
            Settings::default(),
        ));
        let bot = TeloxideBot::new(
            Secret::new(BOT_TOKEN),
            Some(fake.url().parse().expect("fake url")),
        )
        .expect("bot client");
        let state = AppState::new(queue.clone())
            .with_api_token(Secret::new(API_TOKEN))
            .with_telegram(TelegramState {
                bot: Arc::new(bot),
                webhook_secret: Secret::new(WEBHOOK_SECRET),
                allowed_chats: BTreeSet::from([CHAT, CHANNEL]),
            });
        let router = ingress::app(f(state));
        Harness {
            fake,
            queue,
            clock,
            router,
        }
    }

    /// Send a request through the router.
    pub async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, body)
    }

    /// POST a body to the webhook with the given secret header (none when `None`).
    pub async fn post_raw(
        &self,
        body: impl Into<Body>,
        secret: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::post("/telegram/webhook").header("content-type", "application/json");
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        self.call(req.body(body.into()).unwrap()).await
    }

    /// POST an update with the right secret; returns the status.
    pub async fn post_update(&self, update: &Value) -> StatusCode {
        self.post_raw(update.to_string(), Some(WEBHOOK_SECRET))
            .await
            .0
    }

    /// Every pending envelope of both classes.
    pub async fn pending(&self) -> Vec<Envelope> {
        let mut out = Vec::new();
        for class in Class::ALL {
            out.extend(self.in_state(class, TaskState::Pending).await);
        }
        out
    }

    /// Envelopes of `class` in `state`.
    pub async fn in_state(&self, class: Class, state: TaskState) -> Vec<Envelope> {
        inspect::list_tasks(self.queue.bucket(), class, state)
            .await
            .expect("list")
            .into_iter()
            .filter_map(|t| t.envelope)
            .collect()
    }

    /// The one pending task created for `update_id`.
    pub async fn task_for(&self, update_id: i64) -> Envelope {
        let found: Vec<Envelope> = self
            .pending()
            .await
            .into_iter()
            .filter(|e| e.source.as_ref().and_then(|s| s.update_id) == Some(update_id))
            .collect();
        assert_eq!(found.len(), 1, "tasks for update {update_id}: {found:#?}");
        found.into_iter().next().unwrap()
    }

    /// Publish a presence document for a worker of `class`, current at the harness clock.
    pub async fn worker_online(&self, id: &str, class: Class) {
        let now = self.clock_now();
        let doc = Presence {
            schema: 1,
            worker_id: id.to_string(),
            class,
            host: "test-host".into(),
            version: "0.1.0".into(),
            pid: 1,
            started_at: now,
            last_seen: now,
            next_heartbeat_by: now + chrono::Duration::seconds(30),
            current_tasks: vec![],
            concurrency: 1,
            running: true,
            extra: Default::default(),
        };
        presence::publish(self.queue.bucket(), &doc)
            .await
            .expect("publish presence");
    }

    /// Enqueue a task for `chat`, claim it and finish it with `outcome`, as a worker would.
    pub async fn finished(
        &self,
        class: Class,
        kind: &str,
        chat: i64,
        outcome: queue_core::Outcome,
    ) -> Envelope {
        let source = queue_core::task::Source {
            kind: "schedule".into(),
            chat_id: Some(chat),
            ..Default::default()
        };
        let req = queue_core::EnqueueRequest::new(class, kind, serde_json::json!({}))
            .max_attempts(1)
            .source(source);
        let id = self.queue.enqueue(req).await.expect("enqueue").id;
        let c = self
            .queue
            .claim(class, "test-worker")
            .await
            .expect("claim")
            .expect("due");
        assert_eq!(c.envelope.id, id);
        self.queue
            .complete(&c.lease, &c.envelope, outcome)
            .await
            .expect("complete");
        queue_core::inspect::find_task(self.queue.bucket(), id)
            .await
            .expect("find")
            .envelope
    }

    /// The harness clock's time.
    pub fn clock_now(&self) -> DateTime<Utc> {
        use queue_core::Clock;
        self.clock.now()
    }
}

/// The Korean heavy-offline sentence the users' design fixes.
pub const OFFLINE: &str = "작업을 큐에 추가했습니다. MacBook 복귀 시 처리됩니다.";

/// Replies sent to `chat`, waiting until there are `n`.
pub async fn replies(h: &Harness, chat: i64, n: usize) -> Vec<String> {
    h.fake.wait_for_calls("sendMessage", n).await;
    h.fake.messages_to(chat)
}

/// A "queued" reply without its `id: {task id}` footer (which must be there).
pub fn without_footer(reply: &str) -> String {
    let (sentence, footer) = reply
        .rsplit_once("\n\nid: ")
        .unwrap_or_else(|| panic!("no id footer in {reply:?}"));
    footer
        .parse::<queue_core::TaskId>()
        .unwrap_or_else(|e| panic!("footer {footer:?} is not a task id: {e}"));
    sentence.to_string()
}

/// Replies sent to `chat` (waiting for `n`), each without its id footer.
pub async fn sentences(h: &Harness, chat: i64, n: usize) -> Vec<String> {
    replies(h, chat, n)
        .await
        .iter()
        .map(|r| without_footer(r))
        .collect()
}

/// Language used by a harness built with `with_lang`.
pub fn english(state: AppState) -> AppState {
    state.with_lang(Lang::En)
}
