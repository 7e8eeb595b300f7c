//! What the handlers share: the queue, the rules, and the optional front doors (Telegram, the
//! HTTP API). Built by the binary (or `queuectl dev`) from flags and environment; the library
//! only takes the built values.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use queue_core::Queue;

use crate::classify::Rules;
use crate::console::chat::DevChat;
use crate::metrics::IngressMetrics;
use crate::reply::Lang;
use crate::secret::Secret;
use crate::telegram::bot::BotApi;

/// Limits the service enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413. Default 1 MiB (a Telegram update
    /// is a few KiB).
    pub body_bytes: usize,
    /// Longest a request may take before it is answered 408. Default 30 s: a webhook with a
    /// photo waits for Telegram's getFile and the download before it answers.
    pub request_timeout: Duration,
    /// Largest photo fetched from Telegram. Default 20 MiB (the Bot API's own getFile limit).
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            max_file_bytes: 20 << 20,
        }
    }
}

/// The Telegram side: the bot client, the webhook secret and the chats allowed in.
#[derive(Debug, Clone)]
pub struct TelegramState {
    /// The Bot API client.
    pub bot: Arc<dyn BotApi>,
    /// Expected in `X-Telegram-Bot-Api-Secret-Token`.
    pub webhook_secret: Secret,
    /// Chats whose messages are accepted; all others are answered 200 and dropped.
    pub allowed_chats: BTreeSet<i64>,
}

/// The shared state of the router. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The queue tasks go into.
    pub queue: Arc<Queue>,
    /// Classification rules.
    pub rules: Arc<Rules>,
    /// Reply language.
    pub lang: Lang,
    /// The Telegram webhook; `None` leaves `/telegram/webhook` unrouted (404).
    pub telegram: Option<TelegramState>,
    /// Bearer token of `POST /v1/tasks`; `None` leaves it unrouted (404).
    pub api_token: Option<Secret>,
    /// Body size and time limits.
    pub limits: Limits,
    /// The dev chat (`/ui/chat` and its local Bot API); `queuectl dev` only.
    pub dev_chat: Option<Arc<DevChat>>,
    /// Counters and the cached task counts of `GET /metrics`.
    pub metrics: Arc<IngressMetrics>,
}

impl AppState {
    /// A state with the default rules, Korean replies, default limits, and no front door yet.
    pub fn new(queue: Arc<Queue>) -> Self {
        AppState {
            queue,
            rules: Arc::new(Rules::builtin()),
            lang: Lang::default(),
            telegram: None,
            api_token: None,
            limits: Limits::default(),
            dev_chat: None,
            metrics: Arc::new(IngressMetrics::new()),
        }
    }

    /// Serve the Telegram webhook.
    pub fn with_telegram(mut self, telegram: TelegramState) -> Self {
        self.telegram = Some(telegram);
        self
    }

    /// Serve `POST /v1/tasks` behind this bearer token.
    pub fn with_api_token(mut self, token: Secret) -> Self {
        self.api_token = Some(token);
        self
    }

    /// Use these classification rules.
    pub fn with_rules(mut self, rules: Rules) -> Self {
        self.rules = Arc::new(rules);
        self
    }

    /// Reply in this language.
    pub fn with_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// Report these metrics (e.g. with the store's requests counted:
    /// [`IngressMetrics::counting`]).
    pub fn with_metrics(mut self, metrics: IngressMetrics) -> Self {
        self.metrics = Arc::new(metrics);
        self
    }

    /// Serve the dev chat (`queuectl dev`): `/ui/chat` and the local Bot API it records.
    pub fn with_dev_chat(mut self, chat: Arc<DevChat>) -> Self {
        self.dev_chat = Some(chat);
        self
    }

    /// Use these limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}
