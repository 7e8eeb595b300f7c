//! The Bot API, as the webhook needs it: send a message, fetch a file. A small trait so the
//! handlers hold `Arc<dyn BotApi>`; [`TeloxideBot`] implements it with teloxide-core, pointed
//! at Telegram or (tests, a local Bot API server) at `TELEGRAM_API_URL`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use teloxide_core::errors::{DownloadError, RequestError};
use teloxide_core::net::Download;
use teloxide_core::payloads::{SendMessageSetters, SetWebhookSetters};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{AllowedUpdate, BotCommand, ChatId, FileId, MessageId, ReplyParameters};
use url::Url;

use crate::secret::Secret;

/// A file fetched from Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// Telegram's `file_path` (e.g. `photos/file_12.jpg`); its extension is the file type.
    pub path: String,
    /// The contents.
    pub bytes: Vec<u8>,
}

/// Why a Bot API call failed. Messages never contain the bot token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotError {
    /// Telegram answered with an error: retrying the same call will not help.
    #[error("telegram refused the call: {0}")]
    Refused(String),
    /// Telegram could not be reached, timed out, or asked to retry later.
    #[error("telegram unavailable: {0}")]
    Unavailable(String),
    /// The file is larger than the ingress accepts.
    #[error("file too large: bytes={size} max={max}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
}

impl BotError {
    /// Whether a later retry (Telegram redelivering the update) may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, BotError::Unavailable(_))
    }
}

/// What the ingress asks of Telegram.
#[async_trait]
pub trait BotApi: Send + Sync + fmt::Debug + 'static {
    /// Send `text` to `chat_id`, as a reply to `reply_to` when given (sent anyway if that
    /// message is gone).
    async fn send_message(
        &self,
        chat_id: i64,
        text: &str,
        reply_to: Option<i32>,
    ) -> Result<(), BotError>;

    /// `getFile` then download it, refusing files over `max_bytes`.
    async fn fetch_file(&self, file_id: &str, max_bytes: u64) -> Result<FetchedFile, BotError>;
}

/// [`BotApi`] over a teloxide-core `Bot`.
#[derive(Clone)]
pub struct TeloxideBot {
    bot: teloxide_core::Bot,
    token: Secret,
    api_url: Option<Url>,
}

impl fmt::Debug for TeloxideBot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // teloxide's own Debug would print the token
        f.debug_struct("TeloxideBot")
            .field("token", &self.token)
            .field("api_url", &self.api_url.as_ref().map(Url::as_str))
            .finish()
    }
}

impl TeloxideBot {
    /// A client for `token`, talking to `api_url` (default: Telegram's). Loopback API URLs
    /// (a local Bot API server, tests) bypass any HTTP proxy configured in the environment.
    pub fn new(token: Secret, api_url: Option<Url>) -> Result<Self, BotError> {
        let mut builder = teloxide_core::net::default_reqwest_settings()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5));
        if api_url.as_ref().is_some_and(is_loopback) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| BotError::Unavailable(format!("cannot build the http client: {e}")))?;
        let mut bot = teloxide_core::Bot::with_client(token.expose(), client);
        if let Some(url) = &api_url {
            bot = bot.set_api_url(url.clone());
        }
        Ok(TeloxideBot {
            bot,
            token,
            api_url,
        })
    }

    /// `getMe`: the bot's username (checks the token).
    pub async fn username(&self) -> Result<String, BotError> {
        let me = self
            .bot
            .get_me()
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        Ok(me.user.username.clone().unwrap_or_default())
    }

    /// `setWebhook` with the secret header value and the update types wanted.
    pub async fn set_webhook(
        &self,
        url: Url,
        secret: &Secret,
        allowed: Vec<AllowedUpdate>,
        drop_pending: bool,
    ) -> Result<(), BotError> {
        self.bot
            .set_webhook(url)
            .secret_token(secret.expose())
            .allowed_updates(allowed)
            .drop_pending_updates(drop_pending)
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        Ok(())
    }

    /// `setMyCommands`: the command menu Telegram shows.
    pub async fn set_commands(&self, commands: Vec<(String, String)>) -> Result<(), BotError> {
        let commands = commands.into_iter().map(|(c, d)| BotCommand::new(c, d));
        self.bot
            .set_my_commands(commands)
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        Ok(())
    }

    fn scrub(&self, message: String) -> String {
        message.replace(self.token.expose(), "***")
    }

    fn request_error(&self, err: RequestError) -> BotError {
        match err {
            RequestError::Api(api) => BotError::Refused(self.scrub(api.to_string())),
            RequestError::MigrateToChatId(id) => {
                BotError::Refused(format!("the group moved to chat_id={id}"))
            }
            RequestError::RetryAfter(s) => {
                BotError::Unavailable(format!("rate limited, retry after {}s", s.seconds()))
            }
            RequestError::Network(e) => BotError::Unavailable(network_message(&e)),
            RequestError::InvalidJson { .. } => {
                BotError::Unavailable("telegram answered with unreadable json".into())
            }
            RequestError::Io(e) => BotError::Unavailable(self.scrub(format!("i/o error: {e}"))),
        }
    }
}

/// A reqwest error without its URL (which holds the token).
fn network_message(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if let Some(status) = e.status() {
        format!("http status {status}")
    } else {
        "network error".into()
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

#[async_trait]
impl BotApi for TeloxideBot {
    async fn send_message(
        &self,
        chat_id: i64,
        text: &str,
        reply_to: Option<i32>,
    ) -> Result<(), BotError> {
        let mut request = self.bot.send_message(ChatId(chat_id), text);
        if let Some(id) = reply_to {
            request = request.reply_parameters(ReplyParameters {
                allow_sending_without_reply: Some(true),
                ..ReplyParameters::new(MessageId(id))
            });
        }
        request.send().await.map_err(|e| self.request_error(e))?;
        Ok(())
    }

    async fn fetch_file(&self, file_id: &str, max_bytes: u64) -> Result<FetchedFile, BotError> {
        let file = self
            .bot
            .get_file(FileId(file_id.to_string()))
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        if u64::from(file.meta.size) > max_bytes {
            return Err(BotError::TooLarge {
                size: u64::from(file.meta.size),
                max: max_bytes,
            });
        }
        let mut bytes = Vec::new();
        self.bot
            .download_file(&file.path, &mut bytes)
            .await
            .map_err(|e| match e {
                DownloadError::Network(e) => BotError::Unavailable(network_message(&e)),
                DownloadError::Io(e) => {
                    BotError::Unavailable(self.scrub(format!("i/o error: {e}")))
                }
            })?;
        if bytes.len() as u64 > max_bytes {
            return Err(BotError::TooLarge {
                size: bytes.len() as u64,
                max: max_bytes,
            });
        }
        Ok(FetchedFile {
            path: file.path,
            bytes,
        })
    }
}
