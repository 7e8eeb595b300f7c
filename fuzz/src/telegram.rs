//! Body of the Telegram update-intake target: `ingress::telegram::update::read`, the pure
//! function the webhook runs on every request body.

use ingress::telegram::update::{UpdateBody, read};
use queue_core::task::Class;
use serde_json::Value;

/// Never panics; what it accepts carries the `update_id` of the body, a key that names a
/// readable idempotency record, and a chat the message belongs to.
pub fn telegram_update(data: &[u8]) {
    let Ok((raw, incoming)) = read(data) else {
        return;
    };
    assert_eq!(
        raw.get("update_id").and_then(Value::as_i64),
        Some(incoming.update_id)
    );
    let key = incoming.key();
    assert_eq!(key, format!("tg-update-{}", incoming.update_id));
    assert_eq!(
        queue_core::names::idempotency(Class::Light, &key),
        format!("keys/light/{key}.json"),
        "telegram keys stay readable in the bucket"
    );
    match &incoming.body {
        UpdateBody::New(m) | UpdateBody::Edited(m) => {
            assert_eq!(incoming.chat_id(), Some(m.chat_id));
            if let Some((name, _)) = m.command() {
                assert!(
                    !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                );
            }
        }
        UpdateBody::Other { .. } => {}
    }
}
