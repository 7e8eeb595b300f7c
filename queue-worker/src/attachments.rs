//! A task's files (Telegram photos …) are downloaded from `attachments/` into a private
//! temporary directory (mode 0700) that the handler finds in `QUEUE_ATTACHMENTS_DIR`. The
//! directory is removed when the handler is done, whatever happened.

use std::path::Path;

use queue_core::task::Attachment;
use queue_core::{Bucket, Outcome};
use tempfile::TempDir;

/// Why the files could not be provided; [`AttachmentError::outcome`] says what happens to the
/// task.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// The object is not in the store: retrying will not bring it back.
    #[error("attachment missing from the store: object={0}")]
    Missing(String),
    /// The store failed; a later attempt may succeed.
    #[error("cannot download attachment object={object}: {source}")]
    Store {
        /// The object.
        object: String,
        /// The store's error.
        source: queue_core::Error,
    },
    /// The local disk failed.
    #[error("cannot write attachment file: {0}")]
    Io(#[from] std::io::Error),
}

impl AttachmentError {
    /// A missing file fails the task; anything else is a failed attempt (retried).
    pub fn outcome(&self) -> Outcome {
        match self {
            AttachmentError::Missing(_) => Outcome::Fail {
                error: self.to_string(),
            },
            _ => Outcome::Retry {
                error: self.to_string(),
                after: None,
            },
        }
    }
}

/// Download every attachment into a new private directory; `None` when there are none.
pub async fn download(
    bucket: &Bucket,
    attachments: &[Attachment],
) -> Result<Option<TempDir>, AttachmentError> {
    if attachments.is_empty() {
        return Ok(None);
    }
    let dir = tempfile::Builder::new()
        .prefix("queue-attachments-")
        .tempdir()?;
    for (index, attachment) in attachments.iter().enumerate() {
        let object = bucket
            .get(&attachment.object)
            .await
            .map_err(|source| AttachmentError::Store {
                object: attachment.object.clone(),
                source,
            })?
            .ok_or_else(|| AttachmentError::Missing(attachment.object.clone()))?;
        let name = file_name(&attachment.name, index, dir.path());
        tokio::fs::write(dir.path().join(name), &object.bytes).await?;
    }
    Ok(Some(dir))
}

/// A safe, unique file name: the last path component of `name` (never `..` or empty), with
/// the index in front when it is taken already.
pub fn file_name(name: &str, index: usize, dir: &Path) -> String {
    let base = Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .map(str::to_string)
        .unwrap_or_else(|| format!("attachment-{index}"));
    if dir.join(&base).exists() {
        format!("{index}-{base}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(object: &str, name: &str) -> Attachment {
        Attachment {
            object: object.into(),
            name: name.into(),
            content_type: None,
            size: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(file_name("../../etc/passwd", 0, dir.path()), "passwd");
        assert_eq!(file_name("..", 3, dir.path()), "attachment-3");
        assert_eq!(file_name("", 1, dir.path()), "attachment-1");
        std::fs::write(dir.path().join("photo.jpg"), b"x").unwrap();
        assert_eq!(file_name("photo.jpg", 2, dir.path()), "2-photo.jpg");
    }

    #[tokio::test]
    async fn files_are_downloaded_and_removed_with_the_directory() {
        let bucket = Bucket::memory();
        bucket
            .put("attachments/t1/photo.jpg", b"jpeg bytes".to_vec())
            .await
            .unwrap();
        let dir = download(
            &bucket,
            &[attachment("attachments/t1/photo.jpg", "photo.jpg")],
        )
        .await
        .unwrap()
        .unwrap();
        let path = dir.path().to_path_buf();
        assert_eq!(
            std::fs::read(path.join("photo.jpg")).unwrap(),
            b"jpeg bytes"
        );
        drop(dir);
        assert!(!path.exists());

        let err = download(
            &bucket,
            &[attachment("attachments/t1/gone.jpg", "gone.jpg")],
        )
        .await
        .unwrap_err();
        assert!(matches!(err.outcome(), Outcome::Fail { .. }), "{err}");
        assert!(download(&bucket, &[]).await.unwrap().is_none());
    }
}
