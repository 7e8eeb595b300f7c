//! The bucket: an `object_store` backend plus a root prefix, and the few JSON operations the
//! protocol needs. Races are decided only by [`Bucket::create`] (create-if-absent), which every
//! backend has — including the local filesystem, which has no compare-and-swap.

pub mod counting;
pub mod faulty;
mod op_metrics;
mod url;

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
};

use crate::error::{Error, ErrorKind, Result};

pub use self::op_metrics::StoreOpsMetric;
pub use self::url::{StoreEnv, StoreUrl};

/// An object's metadata as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The name relative to the bucket root.
    pub name: String,
    /// The store's last-modified time.
    pub last_modified: DateTime<Utc>,
    /// Size in bytes.
    pub size: u64,
}

/// An object read from the store.
#[derive(Debug, Clone)]
pub struct Object {
    /// Its contents.
    pub bytes: Bytes,
    /// The store's last-modified time.
    pub last_modified: DateTime<Utc>,
}

/// The answer of a create-if-absent write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// This call created the object.
    Created,
    /// The object already existed: someone else won (or an earlier try of ours landed —
    /// callers that care check the contents).
    AlreadyExists,
}

/// A store plus a root prefix. Cheap to clone.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    root: String,
    description: String,
    content_type: bool,
    ordered_listing: bool,
    remote: bool,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("store", &self.description)
            .finish()
    }
}

impl Bucket {
    /// Wrap an object store that keeps a Content-Type and lists in name order (GCS, S3,
    /// memory). `root` is a prefix inside it (`""` for none); `description` names the store in
    /// messages (never include credentials).
    pub fn new(store: Arc<dyn ObjectStore>, root: &str, description: impl Into<String>) -> Self {
        let root = root.trim_matches('/');
        let root = if root.is_empty() {
            String::new()
        } else {
            format!("{root}/")
        };
        Bucket {
            store,
            root,
            description: description.into(),
            content_type: true,
            ordered_listing: true,
            remote: false,
        }
    }

    /// Wrap a local-filesystem store: no Content-Type attribute, listings in no order.
    pub fn new_local(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Self {
        Bucket {
            content_type: false,
            ordered_listing: false,
            ..Bucket::new(store, "", description)
        }
    }

    /// A fresh in-memory bucket (`memory://`): one process only.
    pub fn memory() -> Self {
        Bucket::new(
            Arc::new(object_store::memory::InMemory::new()),
            "",
            "memory://",
        )
    }

    /// A local directory, created if missing.
    pub fn local(dir: &std::path::Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::invalid(format!(
                "cannot create store directory: dir={} ({e})",
                dir.display()
            ))
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::store("open", &dir.display().to_string(), e))?
            // empty task directories under running/ go away with their last record
            .with_automatic_cleanup(true);
        Ok(Bucket::new_local(Arc::new(fs), dir.display().to_string()))
    }

    /// Open a store URL (see [`StoreUrl`]) and check that it can be reached, with an error that
    /// says what to fix (bad URL, missing bucket, missing credentials).
    pub async fn open(url: &str, env: &StoreEnv) -> Result<Self> {
        let bucket = StoreUrl::parse(url)?.build(env)?;
        bucket.probe().await?;
        Ok(bucket)
    }

    /// Mark the bucket as a network store (GCS, S3): its client retries a 429 or 5xx inline
    /// for minutes, so best-effort writes (the wake-up) get a time budget.
    pub fn remote(self) -> Self {
        Bucket {
            remote: true,
            ..self
        }
    }

    /// Whether the bucket is a network store (see [`Bucket::remote`]).
    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// The backend, for wrappers (fault injection, operation counting).
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The same bucket over a wrapped backend.
    pub fn with_object_store(&self, store: Arc<dyn ObjectStore>) -> Self {
        Bucket {
            store,
            ..self.clone()
        }
    }

    /// What this store is, for messages: `gs://bucket/prefix`, a path, `memory://`.
    pub fn description(&self) -> &str {
        &self.description
    }

    fn path(&self, name: &str) -> Path {
        Path::from(format!("{}{name}", self.root))
    }

    fn relative(&self, path: &Path) -> String {
        let full = path.as_ref();
        full.strip_prefix(self.root.as_str())
            .unwrap_or(full)
            .to_string()
    }

    fn options(&self, mode: PutMode) -> PutOptions {
        let mut attributes = Attributes::new();
        if self.content_type {
            attributes.insert(Attribute::ContentType, "application/json".into());
        }
        PutOptions {
            mode,
            attributes,
            ..Default::default()
        }
    }

    /// Check that the store answers: one listing of the root (a Class A operation on GCS).
    pub async fn probe(&self) -> Result<()> {
        let prefix = self.path("workers");
        match self.store.list(Some(&prefix)).try_next().await {
            Ok(_) => Ok(()),
            // object_store's GCS client reports a missing bucket as a generic error
            Err(e)
                if matches!(e, object_store::Error::NotFound { .. })
                    || e.to_string().contains("NoSuchBucket") =>
            {
                Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "store={} does not exist or is not visible to these credentials; create the bucket (see infra/) or fix the URL",
                        self.description
                    ),
                ))
            }
            Err(e) => {
                let message = e.to_string();
                let err = Error::store("probe", &self.description, e);
                Err(Error::new(
                    err.kind(),
                    format!(
                        "cannot reach store={}: {} ({message})",
                        self.description,
                        err.message()
                    ),
                ))
            }
        }
    }

    /// Create `name` only if it does not exist.
    pub async fn create(&self, name: &str, bytes: Vec<u8>) -> Result<Created> {
        let opts = self.options(PutMode::Create);
        match self
            .store
            .put_opts(&self.path(name), PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => Ok(Created::Created),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(Created::AlreadyExists),
            Err(e) => Err(Error::store("create", name, e)),
        }
    }

    /// Create `name` only if it does not exist, and settle an unknown outcome by reading it
    /// back: a create whose reply was lost (a timeout, a 5xx, a reset connection — object_store
    /// does not retry create-only writes on those), or that reports a conflict because a retry
    /// of it found the first try landed (GCS does). `is_ours` recognises our own bytes (a
    /// record's nonce, an envelope). Answers `Created` when the object is ours, `AlreadyExists`
    /// when it is somebody else's; when the read finds nothing after a failed write, the
    /// write's error (it did not land, or has not yet). One extra Class B read, only on the
    /// unhappy paths.
    pub async fn create_resolved(
        &self,
        name: &str,
        bytes: Vec<u8>,
        is_ours: impl Fn(&[u8]) -> bool,
    ) -> Result<Created> {
        let failure = match self.create(name, bytes).await {
            Ok(Created::Created) => return Ok(Created::Created),
            Ok(Created::AlreadyExists) => None,
            Err(e) if e.kind() == ErrorKind::Unavailable => Some(e),
            Err(e) => return Err(e),
        };
        let found = match self.get(name).await {
            Ok(found) => found,
            Err(read) => return Err(failure.unwrap_or(read)),
        };
        match (found, failure) {
            (Some(object), _) if is_ours(&object.bytes) => Ok(Created::Created),
            (Some(_), _) | (None, None) => Ok(Created::AlreadyExists),
            (None, Some(e)) => Err(e),
        }
    }

    /// Write `name`, replacing whatever is there.
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let opts = self.options(PutMode::Overwrite);
        self.store
            .put_opts(&self.path(name), PutPayload::from(bytes), opts)
            .await
            .map(|_| ())
            .map_err(|e| Error::store("put", name, e))
    }

    /// Write a non-JSON object (an attachment), replacing whatever is there, with its
    /// Content-Type where the backend keeps one.
    pub async fn put_file(&self, name: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        let mut opts = self.options(PutMode::Overwrite);
        if self.content_type {
            opts.attributes
                .insert(Attribute::ContentType, content_type.to_string().into());
        }
        self.store
            .put_opts(&self.path(name), PutPayload::from(bytes), opts)
            .await
            .map(|_| ())
            .map_err(|e| Error::store("put", name, e))
    }

    /// Read `name`; `None` if it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<Object>> {
        match self.store.get(&self.path(name)).await {
            Ok(res) => {
                let last_modified = res.meta.last_modified;
                let bytes = res
                    .bytes()
                    .await
                    .map_err(|e| Error::store("get", name, e))?;
                Ok(Some(Object {
                    bytes,
                    last_modified,
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::store("get", name, e)),
        }
    }

    /// Metadata of `name`; `None` if it does not exist.
    pub async fn head(&self, name: &str) -> Result<Option<ObjectInfo>> {
        match self.store.head(&self.path(name)).await {
            Ok(meta) => Ok(Some(ObjectInfo {
                name: name.to_string(),
                last_modified: meta.last_modified,
                size: meta.size,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::store("head", name, e)),
        }
    }

    /// Whether `name` exists.
    pub async fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.head(name).await?.is_some())
    }

    /// Delete `name`; deleting what is not there is not an error.
    pub async fn delete(&self, name: &str) -> Result<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::store("delete", name, e)),
        }
    }

    /// Copy `from` to `to`, replacing `to`.
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        self.store
            .copy(&self.path(from), &self.path(to))
            .await
            .map_err(|e| Error::store("copy", from, e))
    }

    /// Every object under `prefix`, sorted by name. One listing (Class A per 1,000 names on GCS).
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        self.list_until(prefix, &mut |_: &ObjectInfo| true).await
    }

    /// Objects under `prefix` in name order, stopping at the first for which `keep_going`
    /// returns false (that one is not returned). On backends that list in order (GCS, S3,
    /// memory) this stops fetching pages early; the local filesystem lists everything and
    /// sorts, which costs time but no money.
    pub async fn list_until(
        &self,
        prefix: &str,
        mut keep_going: impl FnMut(&ObjectInfo) -> bool,
    ) -> Result<Vec<ObjectInfo>> {
        let path = self.path(prefix.trim_end_matches('/'));
        let mut stream = self.store.list(Some(&path));
        let mut out = Vec::new();
        if self.ordered_listing {
            while let Some(meta) = stream
                .try_next()
                .await
                .map_err(|e| Error::store("list", prefix, e))?
            {
                let info = self.info(&meta);
                if !info.name.starts_with(prefix) {
                    continue;
                }
                if !keep_going(&info) {
                    break;
                }
                out.push(info);
            }
        } else {
            let mut all: Vec<ObjectInfo> = stream
                .map_ok(|meta| self.info(&meta))
                .try_collect()
                .await
                .map_err(|e| Error::store("list", prefix, e))?;
            all.retain(|info| info.name.starts_with(prefix));
            all.sort_by(|a, b| a.name.cmp(&b.name));
            for info in all {
                if !keep_going(&info) {
                    break;
                }
                out.push(info);
            }
        }
        Ok(out)
    }

    fn info(&self, meta: &object_store::ObjectMeta) -> ObjectInfo {
        ObjectInfo {
            name: self.relative(&meta.location),
            last_modified: meta.last_modified,
            size: meta.size,
        }
    }
}
