//! What an update is, for the ingress. The body was already parsed as a JSON value (kept
//! verbatim in the envelope); here it is read again as teloxide-core's `Update` for the parts
//! we model — new messages and channel posts, their edits — and everything else is `Other`,
//! still carrying its update id, its type name and, when one can be found, its chat.

use serde_json::Value;
use teloxide_core::types::{Message, PhotoSize, Update, UpdateKind};

/// The largest size of a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRef {
    /// For getFile.
    pub file_id: String,
    /// Stable across bots and time: names the stored object.
    pub file_unique_id: String,
    /// Size Telegram reported (0 when unknown).
    pub size: u64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// Who sent a message (absent for channel posts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Telegram user id.
    pub id: u64,
    /// @username, if any.
    pub username: Option<String>,
    /// First name.
    pub first_name: String,
}

/// The message a message replies to (Telegram's `reply_to_message`), as far as a follow-up
/// needs it: whether the bot wrote it, and its text (which carries a task id footer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepliedTo {
    /// Its message id.
    pub message_id: i32,
    /// Whether a bot sent it (ours: the chats are allowlisted and other bots cannot post).
    pub from_bot: bool,
    /// Its text or caption.
    pub text: String,
}

/// A message or channel post, reduced to what the ingress uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// The chat to answer in.
    pub chat_id: i64,
    /// The message to reply to.
    pub message_id: i32,
    /// The text, or a photo's caption; empty when neither.
    pub text: String,
    /// The largest size of an attached photo, or an image sent as a file.
    pub photo: Option<PhotoRef>,
    /// The sender.
    pub from: Option<Sender>,
    /// The message this one replies to.
    pub reply_to: Option<RepliedTo>,
}

impl IncomingMessage {
    /// `/cmd@bot args` → (`cmd`, `args`), for a text that starts with a slash.
    pub fn command(&self) -> Option<(String, String)> {
        let text = self.text.trim_start();
        let rest = text.strip_prefix('/')?;
        if self.photo.is_some() {
            return None;
        }
        let (word, args) = match rest.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (rest, ""),
        };
        let name = word
            .split('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        Some((name, args.to_string()))
    }
}

/// The part of an update the ingress acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateBody {
    /// A new message or channel post.
    New(IncomingMessage),
    /// An edited message or channel post.
    Edited(IncomingMessage),
    /// Anything else: reactions, polls, callback queries, types newer than teloxide-core.
    Other {
        /// The chat it concerns, when the raw JSON names one.
        chat_id: Option<i64>,
    },
}

/// An update as the ingress sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Telegram's update id: the idempotency key is `tg-update-{update_id}`.
    pub update_id: i64,
    /// The update's type as Telegram names it (`message`, `message_reaction`, …).
    pub update_type: String,
    /// What it carries.
    pub body: UpdateBody,
}

impl Incoming {
    /// The chat the update concerns, if known.
    pub fn chat_id(&self) -> Option<i64> {
        match &self.body {
            UpdateBody::New(m) | UpdateBody::Edited(m) => Some(m.chat_id),
            UpdateBody::Other { chat_id } => *chat_id,
        }
    }

    /// The idempotency key of everything created for this update.
    pub fn key(&self) -> String {
        format!("tg-update-{}", self.update_id)
    }
}

/// Why a body is not a Telegram update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Not JSON at all.
    #[error("the body is not json (line {line} column {column})")]
    NotJson {
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
    },
    /// JSON, but not an update.
    #[error("not a telegram update: {0}")]
    NotAnUpdate(&'static str),
}

/// Read an update from the request body: the raw JSON value (kept verbatim in the envelope)
/// and what the ingress acts on. Only the `update_id` is required: anything teloxide-core
/// cannot parse becomes [`UpdateBody::Other`].
pub fn read(body: &[u8]) -> Result<(Value, Incoming), ReadError> {
    let raw: Value = serde_json::from_slice(body).map_err(|e| ReadError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let object = raw
        .as_object()
        .ok_or(ReadError::NotAnUpdate("the body is not an object"))?;
    let update_id =
        object
            .get("update_id")
            .and_then(Value::as_i64)
            .ok_or(ReadError::NotAnUpdate(
                "update_id is missing or not an integer",
            ))?;
    let update_type = object
        .keys()
        .find(|k| *k != "update_id")
        .cloned()
        .unwrap_or_else(|| "unknown".to_string());
    // From the bytes, not from `raw`: teloxide's UpdateKind reads its key as a borrowed str,
    // which a `serde_json::Value` cannot lend, and then quietly yields `UpdateKind::Error`.
    let body = match serde_json::from_slice::<Update>(body) {
        Ok(update) => match update.kind {
            UpdateKind::Message(m) | UpdateKind::ChannelPost(m) => UpdateBody::New(message(&m)),
            UpdateKind::EditedMessage(m) | UpdateKind::EditedChannelPost(m) => {
                UpdateBody::Edited(message(&m))
            }
            _ => UpdateBody::Other {
                chat_id: raw_chat_id(&raw, &update_type),
            },
        },
        Err(e) => {
            tracing::debug!(update_id, update_type, error = %e, "update not modelled by teloxide-core; kept raw");
            UpdateBody::Other {
                chat_id: raw_chat_id(&raw, &update_type),
            }
        }
    };
    let incoming = Incoming {
        update_id,
        update_type,
        body,
    };
    Ok((raw, incoming))
}

fn text_of(m: &Message) -> String {
    m.text()
        .or_else(|| m.caption())
        .unwrap_or_default()
        .to_string()
}

fn message(m: &Message) -> IncomingMessage {
    IncomingMessage {
        chat_id: m.chat.id.0,
        message_id: m.id.0,
        text: text_of(m),
        photo: m.photo().and_then(largest).or_else(|| image_document(m)),
        reply_to: m.reply_to_message().map(|r| RepliedTo {
            message_id: r.id.0,
            from_bot: r.from.as_ref().is_some_and(|u| u.is_bot),
            text: text_of(r),
        }),
        from: m.from.as_ref().map(|u| Sender {
            id: u.id.0,
            username: u.username.clone(),
            first_name: u.first_name.clone(),
        }),
    }
}

/// The largest size: most pixels, then most bytes.
fn largest(sizes: &[PhotoSize]) -> Option<PhotoRef> {
    sizes
        .iter()
        .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file.size))
        .map(|p| PhotoRef {
            file_id: p.file.id.0.clone(),
            file_unique_id: p.file.unique_id.0.clone(),
            size: u64::from(p.file.size),
            width: p.width,
            height: p.height,
        })
}

/// An image sent as a file ("send as file" keeps the original): a document whose MIME type is
/// `image/*`. Its pixels are unknown (0).
fn image_document(m: &Message) -> Option<PhotoRef> {
    let d = m.document()?;
    let mime = d.mime_type.as_ref()?;
    (mime.type_() == "image").then(|| PhotoRef {
        file_id: d.file.id.0.clone(),
        file_unique_id: d.file.unique_id.0.clone(),
        size: u64::from(d.file.size),
        width: 0,
        height: 0,
    })
}

/// `{type}.chat.id`, or `{type}.message.chat.id` (callback queries).
fn raw_chat_id(raw: &Value, update_type: &str) -> Option<i64> {
    let inner = raw.get(update_type)?;
    inner
        .pointer("/chat/id")
        .or_else(|| inner.pointer("/message/chat/id"))
        .and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(text: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({"update_id": 10, "message": {
            "message_id": 5, "date": 1700000000,
            "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": {"id": 42, "is_bot": false, "first_name": "A"},
            "text": text }}))
        .unwrap()
    }

    fn read_one(body: &[u8]) -> Result<Incoming, ReadError> {
        read(body).map(|(_, incoming)| incoming)
    }

    #[test]
    fn commands_are_recognised_with_and_without_bot_name() {
        let Incoming {
            body: UpdateBody::New(m),
            ..
        } = read_one(&msg("/retry@my_bot 0193-x")).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.command(), Some(("retry".into(), "0193-x".into())));
        let Incoming {
            body: UpdateBody::New(m),
            ..
        } = read_one(&msg("/status")).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.command(), Some(("status".into(), String::new())));
        let Incoming {
            body: UpdateBody::New(m),
            ..
        } = read_one(&msg("/ 경로 정리")).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.command(), None);
    }

    #[test]
    fn replies_and_images_sent_as_files_are_read() {
        let mut v: serde_json::Value = serde_json::from_slice(&msg("더 자세히")).unwrap();
        v["message"]["reply_to_message"] = json!({
            "message_id": 3, "date": 1700000000,
            "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": {"id": 9, "is_bot": true, "first_name": "bot"},
            "text": "결과\n\nid: x"});
        v["message"]["document"] = json!({
            "file_id": "F", "file_unique_id": "U", "file_size": 10, "mime_type": "image/png"});
        let Incoming {
            body: UpdateBody::New(m),
            ..
        } = read_one(v.to_string().as_bytes()).unwrap()
        else {
            panic!()
        };
        let r = m.reply_to.expect("reply_to_message read");
        assert_eq!(
            (r.message_id, r.from_bot, r.text.as_str()),
            (3, true, "결과\n\nid: x")
        );
        let p = m.photo.expect("an image document counts as a photo");
        assert_eq!(
            (p.file_id.as_str(), p.file_unique_id.as_str(), p.size),
            ("F", "U", 10)
        );

        v["message"]["document"]["mime_type"] = json!("application/pdf");
        let Incoming {
            body: UpdateBody::New(m),
            ..
        } = read_one(v.to_string().as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.photo, None, "a pdf is not an image");
    }

    #[test]
    fn unknown_types_keep_id_type_and_chat() {
        let raw = json!({"update_id": 7, "future_thing": {"chat": {"id": -5}, "x": 1}});
        let u = read_one(raw.to_string().as_bytes()).unwrap();
        assert_eq!(u.update_type, "future_thing");
        assert_eq!(u.body, UpdateBody::Other { chat_id: Some(-5) });
        assert_eq!(u.key(), "tg-update-7");
    }

    #[test]
    fn bodies_without_update_id_are_refused() {
        assert!(matches!(
            read_one(br#"{"message": {}}"#),
            Err(ReadError::NotAnUpdate(_))
        ));
        assert!(matches!(
            read_one(b"[1, 2]"),
            Err(ReadError::NotAnUpdate(_))
        ));
        assert!(matches!(
            read_one(b"{\"update_id\""),
            Err(ReadError::NotJson { .. })
        ));
    }
}
