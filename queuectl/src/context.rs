//! What every command starts from: the store named by `--store`, opened and probed, the queue
//! over it, and how to name an object for the operator's own tools (`gsutil cat …`).

use std::path::PathBuf;
use std::sync::Arc;

use queue_core::store::{StoreEnv, StoreUrl};
use queue_core::{Bucket, Queue, Settings, SystemClock};

use crate::exit::{CliError, Exit};

/// Who queuectl says it is in lease records and cancel reasons.
pub const ACTOR: &str = "queuectl";

/// Whether a command may create the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Looks only: a local directory that does not exist is an error, not an empty queue
    /// (a typo in `--store` should not look like "nothing pending").
    Read,
    /// May write: a local directory is created if missing.
    Write,
}

/// The opened store and the queue over it.
#[derive(Debug)]
pub struct Ctx {
    /// The queue (system clock, default settings).
    pub queue: Queue,
    /// The parsed URL, for naming objects.
    pub url: StoreUrl,
    /// `--json`.
    pub json: bool,
}

impl Ctx {
    /// Open `store` for `access`, mapping failures to exit codes: a bad URL is usage (2);
    /// anything else that stops us from reaching the store is 5.
    pub async fn open(store: &str, access: Access, json: bool) -> Result<Ctx, CliError> {
        let url = StoreUrl::parse(store).map_err(|e| {
            CliError::new(Exit::Usage, e.to_string())
                .hint("pass --store URL or set QUEUE_STORE (the default is ./queue-data)")
        })?;
        if let (StoreUrl::Local(dir), Access::Read) = (&url, access)
            && !dir.exists()
        {
            return Err(CliError::new(
                Exit::Store,
                format!("store directory does not exist: dir={}", dir.display()),
            )
            .hint(
                "pass --store URL or set QUEUE_STORE; a local store is created by the first \
                 `queuectl enqueue` or by `queuectl dev`",
            ));
        }
        let bucket = Bucket::open(store, &StoreEnv::from_env())
            .await
            .map_err(|e| {
                let mut err = CliError::from(e);
                if err.exit != Exit::Usage {
                    err.exit = Exit::Store;
                }
                err
            })?;
        Ok(Ctx::with_bucket(bucket, url, json))
    }

    /// A context over an already built bucket (`dev` shares one with its workers).
    pub fn with_bucket(bucket: Bucket, url: StoreUrl, json: bool) -> Ctx {
        let queue = Queue::new(bucket, Arc::new(SystemClock), Settings::default());
        Ctx { queue, url, json }
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        self.queue.bucket()
    }

    /// The full address of `object` in the operator's terms: `gs://bucket/prefix/object`,
    /// `s3://…`, or a file path.
    pub fn object_url(&self, object: &str) -> String {
        object_url(&self.url, object)
    }

    /// The command that prints `object` with the store's own tools.
    pub fn cat_command(&self, object: &str) -> Option<String> {
        cat_command(&self.url, object)
    }
}

/// See [`Ctx::object_url`].
pub fn object_url(url: &StoreUrl, object: &str) -> String {
    match url {
        StoreUrl::Gcs { bucket, prefix } => join_url("gs", bucket, prefix, object),
        StoreUrl::S3 { bucket, prefix } => join_url("s3", bucket, prefix, object),
        StoreUrl::Local(dir) => PathBuf::from(dir).join(object).display().to_string(),
        StoreUrl::Memory => format!("memory://{object}"),
    }
}

/// See [`Ctx::cat_command`].
pub fn cat_command(url: &StoreUrl, object: &str) -> Option<String> {
    let full = object_url(url, object);
    match url {
        StoreUrl::Gcs { .. } => Some(format!("gsutil cat {full}")),
        StoreUrl::S3 { .. } => Some(format!("aws s3 cp {full} -")),
        StoreUrl::Local(_) => Some(format!("cat {full}")),
        StoreUrl::Memory => None,
    }
}

fn join_url(scheme: &str, bucket: &str, prefix: &str, object: &str) -> String {
    if prefix.is_empty() {
        format!("{scheme}://{bucket}/{object}")
    } else {
        format!("{scheme}://{bucket}/{prefix}/{object}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECT: &str = "heavy/failed/0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f.json";

    fn cat(url: &str) -> Option<String> {
        cat_command(&StoreUrl::parse(url).unwrap(), OBJECT)
    }

    #[test]
    fn objects_are_named_in_the_operators_terms() {
        assert_eq!(
            cat("gs://my-queue").unwrap(),
            format!("gsutil cat gs://my-queue/{OBJECT}")
        );
        assert_eq!(
            cat("gs://my-queue/prod/").unwrap(),
            format!("gsutil cat gs://my-queue/prod/{OBJECT}")
        );
        assert_eq!(
            cat("s3://my-queue/q").unwrap(),
            format!("aws s3 cp s3://my-queue/q/{OBJECT} -")
        );
        assert_eq!(
            cat("./queue-data").unwrap(),
            format!("cat ./queue-data/{OBJECT}")
        );
        assert_eq!(cat("memory://"), None);
    }
}
