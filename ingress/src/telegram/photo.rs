//! Photos: the largest size is fetched through getFile and stored under
//! `attachments/tg-update-{update_id}/` before the webhook answers, so an acknowledged update
//! never points at a file that only Telegram has (its file links expire after an hour).

use queue_core::task::Attachment;
use queue_core::{Bucket, ErrorKind};

use super::bot::{BotApi, BotError};
use super::update::PhotoRef;

/// Why a photo could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Telegram refused or the file is too large: retrying will not help.
    #[error("photo not available: {0}")]
    Permanent(BotError),
    /// Telegram or the store did not answer: Telegram should redeliver the update.
    #[error("photo not stored yet: {0}")]
    Transient(String),
}

/// The object name of a photo: Telegram serves photos as JPEG, and `file_unique_id` is stable,
/// so a redelivered update finds its photo already stored.
pub fn object_name(update_id: i64, photo: &PhotoRef) -> String {
    let unique: String = photo
        .file_unique_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let unique: String = unique.chars().take(48).collect();
    queue_core::names::attachment(
        &format!("tg-update-{update_id}"),
        &format!("photo-{unique}.jpg"),
    )
    .expect("sanitised name parts are valid")
}

/// Fetch the photo (unless an earlier delivery stored it) and store it.
///
/// Store operations: one HEAD, plus one write when not stored yet.
pub async fn store(
    bucket: &Bucket,
    bot: &dyn BotApi,
    update_id: i64,
    photo: &PhotoRef,
    max_bytes: u64,
) -> Result<Attachment, PhotoError> {
    let object = object_name(update_id, photo);
    let file_name = object.rsplit('/').next().unwrap_or("photo.jpg").to_string();
    let transient = |e: queue_core::Error| PhotoError::Transient(e.to_string());
    if let Some(info) = bucket.head(&object).await.map_err(transient)? {
        return Ok(attachment(object, file_name, info.size));
    }
    let file = bot
        .fetch_file(&photo.file_id, max_bytes)
        .await
        .map_err(|e| {
            if e.is_transient() {
                PhotoError::Transient(e.to_string())
            } else {
                PhotoError::Permanent(e)
            }
        })?;
    let size = file.bytes.len() as u64;
    bucket
        .put_file(&object, file.bytes, "image/jpeg")
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::Unavailable => PhotoError::Transient(e.to_string()),
            _ => PhotoError::Transient(format!("store write failed: {e}")),
        })?;
    tracing::info!(update_id, object, size, "photo stored");
    Ok(attachment(object, file_name, size))
}

fn attachment(object: String, name: String, size: u64) -> Attachment {
    Attachment {
        object,
        name,
        content_type: Some("image/jpeg".into()),
        size: Some(size),
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_per_update_and_safe() {
        let p = PhotoRef {
            file_id: "x".into(),
            file_unique_id: "AQAD/../5".into(),
            size: 1,
            width: 1,
            height: 1,
        };
        assert_eq!(
            object_name(99, &p),
            "attachments/tg-update-99/photo-AQAD____5.jpg"
        );
    }
}
