//! Telling the person: when a task came with a Telegram chat (`envelope.source.chat_id`), its
//! result — or its final failure — is sent there through the Bot API (teloxide-core).
//!
//! The result is always committed *before* anything is sent, so a failed message never loses
//! it (the operator finds it in `done/`); a failed send is logged, without the token. Texts
//! longer than one message are split on line breaks into up to [`MAX_MESSAGES`] messages;
//! anything longer is sent as a document.
//!
//! A routine job (no chat of its own) whose result names reports under `results/` is
//! summarised to the report chat (`TELEGRAM_REPORT_CHAT_ID`, else `TELEGRAM_ADMIN_CHAT_ID`):
//! its `summary` and the objects' names ([`report_notice`]).

use std::time::Duration;

use async_trait::async_trait;
use queue_core::{Envelope, TaskState};
use serde_json::Value;
use teloxide_core::payloads::{SendDocumentSetters, SendMessageSetters};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{ChatId, InputFile, MessageId, ReplyParameters};
use teloxide_core::{Bot, RequestError};

/// Telegram's limit for one message's text, in UTF-16 code units.
pub const MESSAGE_LIMIT: usize = 4096;
/// Longer texts than this many messages go as a document.
pub const MAX_MESSAGES: usize = 4;

/// Something to send to a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The chat.
    pub chat_id: i64,
    /// The message to answer, if known.
    pub reply_to: Option<i32>,
    /// What to send.
    pub body: Body,
}

/// A notice's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// One or more text messages, in order.
    Text(Vec<String>),
    /// A file with a short caption.
    Document {
        /// The file name shown in the chat.
        file_name: String,
        /// Its contents.
        bytes: Vec<u8>,
        /// The caption.
        caption: String,
    },
}

/// Sends notices. [`TelegramNotifier`] is the real one; tests can pass their own.
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Send `notice`; the error is safe to log (no secrets).
    async fn send(&self, notice: &Notice) -> Result<(), String>;

    /// The chat that gets the summaries of routine jobs' reports, if any.
    fn report_chat(&self) -> Option<i64> {
        None
    }

    /// The language of the notices' own words (the task's result is sent as it is).
    fn lang(&self) -> NoticeLang {
        NoticeLang::Ko
    }
}

/// The language of a notice's own words: `INGRESS_LANG`, the same setting the ingress's
/// replies follow, so the bot speaks one language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoticeLang {
    /// Korean (the default).
    #[default]
    Ko,
    /// English.
    En,
}

impl NoticeLang {
    /// `ko` or `en`, as `INGRESS_LANG` is written.
    pub fn parse(code: &str) -> Result<Self, String> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ko" => Ok(NoticeLang::Ko),
            "en" => Ok(NoticeLang::En),
            other => Err(format!("bad INGRESS_LANG={other:?}: write ko or en")),
        }
    }
}

/// The notice for a task that reached `state`, in Korean (see [`notice_in`]).
pub fn notice_for(envelope: &Envelope, state: TaskState) -> Option<Notice> {
    notice_in(envelope, state, NoticeLang::Ko)
}

/// The notice for a task that reached `state`, if it has a chat and the state is final, with
/// its own words in `lang` (pure).
pub fn notice_in(envelope: &Envelope, state: TaskState, lang: NoticeLang) -> Option<Notice> {
    let source = envelope.source.as_ref()?;
    let chat_id = source.chat_id?;
    // Every notice ends with `id: {task id}`: a reply to it in the chat is a follow-up that the
    // ingress maps back to this task (docs/ingress.md, "Follow-ups").
    let text = match state {
        TaskState::Done => format!("{}\n\nid: {}", result_text(envelope), envelope.id),
        TaskState::Failed => {
            let (kind, id) = (&envelope.kind, envelope.id);
            let reason = envelope
                .failure
                .as_deref()
                .or(envelope.last_error())
                .unwrap_or("unknown error");
            match lang {
                NoticeLang::Ko => {
                    format!("❌ 작업 실패 ({kind}): {reason}\n\n다시 실행: /retry {id}\nid: {id}")
                }
                NoticeLang::En => {
                    format!(
                        "❌ Task failed ({kind}): {reason}\n\nRun it again: /retry {id}\nid: {id}"
                    )
                }
            }
        }
        TaskState::Pending | TaskState::Running => return None,
    };
    let chunks = split_text(&text, MESSAGE_LIMIT);
    let body = if chunks.len() <= MAX_MESSAGES {
        Body::Text(chunks)
    } else {
        let json = !matches!(envelope.result, Some(Value::String(_)) | None);
        Body::Document {
            file_name: format!(
                "{}-{}.{}",
                envelope.kind,
                envelope.id,
                if json { "json" } else { "txt" }
            ),
            bytes: text.into_bytes(),
            caption: match lang {
                NoticeLang::Ko => format!(
                    "✅ {} 결과 (메시지로 보내기엔 깁니다)\n\nid: {}",
                    envelope.kind, envelope.id
                ),
                NoticeLang::En => format!(
                    "✅ {} result (too long for a message)\n\nid: {}",
                    envelope.kind, envelope.id
                ),
            },
        }
    };
    Some(Notice {
        chat_id,
        reply_to: source.message_id,
        body,
    })
}

/// The notice for a finished task without a chat whose result names reports: its summary, the
/// reports' object names and the `id:` footer (a reply to it is a follow-up with the report as
/// context), to `chat` (pure).
pub fn report_notice(envelope: &Envelope, state: TaskState, chat: i64) -> Option<Notice> {
    if state != TaskState::Done || report_names(envelope.result.as_ref()?).is_empty() {
        return None;
    }
    Some(Notice {
        chat_id: chat,
        reply_to: None,
        body: Body::Text(split_text(
            &format!("{}\n\nid: {}", result_text(envelope), envelope.id),
            MESSAGE_LIMIT,
        )),
    })
}

fn report_names(result: &Value) -> Vec<&str> {
    let names = result.get("results").and_then(Value::as_array);
    names
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The text a result stands for: a string as is, `null` as a short note, a report's summary
/// with its object names, anything else as pretty JSON.
pub fn result_text(envelope: &Envelope) -> String {
    if let Some(result) = &envelope.result {
        let names = report_names(result);
        if !names.is_empty() {
            let summary = result.get("summary").and_then(Value::as_str);
            let mut text = format!("✅ {}", summary.unwrap_or(&envelope.kind));
            for name in names {
                text.push_str(&format!("\n📄 {name}"));
            }
            return text;
        }
    }
    match &envelope.result {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            format!("✅ 완료: {}", envelope.kind)
        }
        Some(other) => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

/// Split `text` into pieces of at most `limit` UTF-16 code units, preferring line breaks
/// (pure).
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while utf16_len(rest) > limit {
        // the longest prefix that fits
        let mut units = 0;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            units += c.len_utf16();
            if units > limit {
                break;
            }
            end = i + c.len_utf8();
        }
        let cut = match rest[..end].rfind('\n') {
            Some(nl) if nl > end / 2 => nl + 1,
            _ => end,
        };
        out.push(rest[..cut].trim_end_matches('\n').to_string());
        rest = &rest[cut..];
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_string());
    }
    out
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Sends through the Telegram Bot API.
#[derive(Clone)]
pub struct TelegramNotifier {
    bot: Bot,
    token: String,
    report_chat: Option<i64>,
    lang: NoticeLang,
}

impl std::fmt::Debug for TelegramNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramNotifier")
            .field("api_url", &self.bot.api_url().as_str())
            .finish_non_exhaustive()
    }
}

impl TelegramNotifier {
    /// A notifier for `token`, talking to `api_url` (default: Telegram's).
    pub fn new(token: &str, api_url: Option<&str>) -> Result<Self, String> {
        let mut bot = Bot::new(token);
        if let Some(url) = api_url.filter(|u| !u.trim().is_empty()) {
            let url = reqwest::Url::parse(url.trim())
                .map_err(|e| format!("bad TELEGRAM_API_URL={url:?}: {e}"))?;
            bot = bot.set_api_url(url);
        }
        Ok(TelegramNotifier {
            bot,
            token: token.to_string(),
            report_chat: None,
            lang: NoticeLang::Ko,
        })
    }

    /// Write the notices' own words in `lang`.
    pub fn with_lang(mut self, lang: NoticeLang) -> Self {
        self.lang = lang;
        self
    }

    /// Send routine jobs' report summaries to `chat`.
    pub fn with_report_chat(mut self, chat: Option<i64>) -> Self {
        self.report_chat = chat;
        self
    }

    /// From `TELEGRAM_BOT_TOKEN`, `TELEGRAM_API_URL` and `INGRESS_LANG` (default `ko`); `None`
    /// without a token.
    pub fn from_env() -> Result<Option<Self>, String> {
        let Some(token) = std::env::var("TELEGRAM_BOT_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
        else {
            return Ok(None);
        };
        let url = std::env::var("TELEGRAM_API_URL").ok();
        let report_chat = match crate::alerts::chat_from_env("TELEGRAM_REPORT_CHAT_ID")? {
            Some(chat) => Some(chat),
            None => crate::alerts::admin_chat_from_env()?,
        };
        let lang = match std::env::var("INGRESS_LANG") {
            Ok(code) if !code.trim().is_empty() => NoticeLang::parse(&code)?,
            _ => NoticeLang::Ko,
        };
        Self::new(token.trim(), url.as_deref())
            .map(|n| Some(n.with_report_chat(report_chat).with_lang(lang)))
    }

    async fn send_once(&self, notice: &Notice) -> Result<(), RequestError> {
        let chat = ChatId(notice.chat_id);
        let reply = notice
            .reply_to
            .map(|id| ReplyParameters::new(MessageId(id)).allow_sending_without_reply());
        match &notice.body {
            Body::Text(chunks) => {
                for (i, chunk) in chunks.iter().enumerate() {
                    let mut req = self.bot.send_message(chat, chunk.clone());
                    if let (0, Some(reply)) = (i, &reply) {
                        req = req.reply_parameters(reply.clone());
                    }
                    req.send().await?;
                }
            }
            Body::Document {
                file_name,
                bytes,
                caption,
            } => {
                let file = InputFile::memory(bytes.clone()).file_name(file_name.clone());
                let mut req = self.bot.send_document(chat, file).caption(caption.clone());
                if let Some(reply) = reply {
                    req = req.reply_parameters(reply);
                }
                req.send().await?;
            }
        }
        Ok(())
    }

    fn redact(&self, text: &str) -> String {
        if self.token.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token, "<redacted>")
        }
    }
}

#[async_trait]
impl Notifier for TelegramNotifier {
    fn lang(&self) -> NoticeLang {
        self.lang
    }

    fn report_chat(&self) -> Option<i64> {
        self.report_chat
    }

    async fn send(&self, notice: &Notice) -> Result<(), String> {
        let mut tries = 0;
        loop {
            tries += 1;
            let wait = match self.send_once(notice).await {
                Ok(()) => return Ok(()),
                Err(RequestError::RetryAfter(secs)) if tries < 3 => {
                    secs.duration().min(Duration::from_secs(60))
                }
                Err(RequestError::Network(_) | RequestError::Io(_)) if tries < 3 => {
                    Duration::from_secs(2 * tries)
                }
                // Error texts can hold the request URL, which holds the token.
                Err(e) => return Err(self.redact(&e.to_string())),
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use queue_core::task::Source;

    use super::*;

    fn envelope(result: Option<Value>, chat: Option<i64>) -> Envelope {
        let mut env: Envelope = serde_json::from_value(serde_json::json!({
            "schema": 1,
            "id": "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f",
            "class": "heavy",
            "kind": "analysis",
            "created_at": "2026-01-01T00:00:00Z",
            "due_at": "2026-01-01T00:00:00Z",
            "max_attempts": 3,
        }))
        .unwrap();
        env.result = result;
        env.source = Some(Source {
            kind: "telegram".into(),
            chat_id: chat,
            message_id: Some(7),
            ..Default::default()
        });
        env
    }

    #[test]
    fn results_and_final_failures_go_to_the_chat() {
        let done = notice_for(
            &envelope(Some("분석 결과".into()), Some(42)),
            TaskState::Done,
        )
        .unwrap();
        assert_eq!(done.chat_id, 42);
        assert_eq!(done.reply_to, Some(7));
        let footer = |e: &Envelope| format!("\n\nid: {}", e.id);
        let env = envelope(Some("분석 결과".into()), Some(42));
        assert_eq!(
            done.body,
            Body::Text(vec![format!("분석 결과{}", footer(&env))])
        );

        let mut failed = envelope(None, Some(42));
        failed.failure = Some("failed: exit 65".into());
        let en = notice_in(&failed, TaskState::Failed, NoticeLang::En).unwrap();
        let Body::Text(chunks) = &en.body else {
            panic!("a short failure is a text message")
        };
        assert!(chunks[0].starts_with("❌ Task failed"), "{chunks:?}");
        assert!(
            chunks[0].contains(&format!("Run it again: /retry {}", failed.id)),
            "{chunks:?}"
        );
        assert!(
            chunks[0].ends_with(&format!("id: {}", failed.id)),
            "{chunks:?}"
        );
        assert_eq!(NoticeLang::parse(" EN "), Ok(NoticeLang::En));
        assert!(NoticeLang::parse("fr").is_err());
        let n = notice_for(&failed, TaskState::Failed).unwrap();
        assert!(matches!(&n.body, Body::Text(t) if t[0].contains("failed: exit 65")));
        let retry = format!("/retry {}\nid: {}", failed.id, failed.id);
        assert!(
            matches!(&n.body, Body::Text(t) if t[0].ends_with(&retry)),
            "{n:?}"
        );

        assert!(notice_for(&envelope(None, None), TaskState::Done).is_none());
        assert!(notice_for(&envelope(None, Some(1)), TaskState::Pending).is_none());
        let env = envelope(Some(serde_json::json!({"a": 1})), Some(1));
        let json = notice_for(&env, TaskState::Done).unwrap();
        assert_eq!(
            json.body,
            Body::Text(vec![format!("{{\n  \"a\": 1\n}}{}", footer(&env))])
        );
    }

    #[test]
    fn a_routine_report_is_summarised_with_its_object_names() {
        let mut env = envelope(
            Some(
                serde_json::json!({"summary": "아이디어 3개", "results": ["results/content_ideas/2026-03-01.md"]}),
            ),
            None,
        );
        env.source = None;
        assert!(notice_for(&env, TaskState::Done).is_none());
        let n = report_notice(&env, TaskState::Done, 99).unwrap();
        assert_eq!(n.chat_id, 99);
        assert_eq!(
            n.body,
            Body::Text(vec![format!(
                "✅ 아이디어 3개\n📄 results/content_ideas/2026-03-01.md\n\nid: {}",
                env.id
            )])
        );
        assert!(report_notice(&env, TaskState::Failed, 99).is_none());
        env.result = Some(serde_json::json!({"in_sync": true}));
        assert!(report_notice(&env, TaskState::Done, 99).is_none());
    }

    #[test]
    fn long_texts_split_on_lines_and_very_long_ones_become_a_document() {
        let line = "가".repeat(99) + "\n"; // 100 UTF-16 units a line
        let text = line.repeat(60); // 6,000 units
        let chunks = split_text(&text, MESSAGE_LIMIT);
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| utf16_len(c) <= MESSAGE_LIMIT));
        assert_eq!(chunks.concat().replace('\n', ""), text.replace('\n', ""));

        let emoji = "😀".repeat(3000); // 2 units each, no line breaks
        let chunks = split_text(&emoji, MESSAGE_LIMIT);
        assert!(chunks.iter().all(|c| utf16_len(c) <= MESSAGE_LIMIT));
        assert_eq!(chunks.concat(), emoji);

        let huge = envelope(Some(Value::String("x".repeat(MESSAGE_LIMIT * 5))), Some(1));
        let n = notice_for(&huge, TaskState::Done).unwrap();
        assert!(
            matches!(n.body, Body::Document { ref file_name, .. } if file_name.ends_with(".txt"))
        );
    }

    #[test]
    fn the_token_never_reaches_a_log_line() {
        let n = TelegramNotifier::new("123:SECRET", Some("http://127.0.0.1:9/")).unwrap();
        let text = n
            .redact("error sending request for url (http://127.0.0.1:9/bot123:SECRET/SendMessage)");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!format!("{n:?}").contains("SECRET"));
    }
}
