//! A store wrapper that notices tasks reaching `done/`, so a benchmark knows when the last task
//! finished without listing the bucket (a listing of thousands of names would perturb what it
//! measures).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use tokio::sync::Notify;

/// Counts successful writes under any `…/done/` prefix; everything passes through unchanged.
///
/// # Contract
/// - A write is counted once it succeeded; a failed write is not.
/// - Only `put_opts` is watched: the queue writes `done/{id}.json` with a put (a roll-forward
///   writes the same object again, which counts again — benchmarks run without crashes).
/// - Clones share the counter.
#[derive(Debug, Clone)]
pub struct DoneWatch {
    inner: Arc<dyn ObjectStore>,
    done: Arc<AtomicU64>,
    changed: Arc<Notify>,
}

impl DoneWatch {
    /// Watch writes to `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        DoneWatch {
            inner,
            done: Arc::new(AtomicU64::new(0)),
            changed: Arc::new(Notify::new()),
        }
    }

    /// Writes to `done/` so far.
    pub fn count(&self) -> u64 {
        self.done.load(Ordering::SeqCst)
    }

    /// Start counting from zero.
    pub fn reset(&self) {
        self.done.store(0, Ordering::SeqCst);
    }

    /// Wait until at least `n` writes to `done/` were seen; false on timeout.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                if self.count() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

/// Whether an object_store path is a task in a `done/` folder.
pub fn is_done_object(path: &str) -> bool {
    path.contains("/done/") && path.ends_with(".json")
}

impl fmt::Display for DoneWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DoneWatch({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for DoneWatch {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let result = self.inner.put_opts(location, payload, opts).await;
        if result.is_ok() && is_done_object(location.as_ref()) {
            self.done.fetch_add(1, Ordering::SeqCst);
            self.changed.notify_waiters();
        }
        result
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_core::Bucket;

    #[test]
    fn only_task_objects_in_done_folders_count() {
        assert!(is_done_object("light/done/0190aaaa.json"));
        assert!(is_done_object("prefix/heavy/done/0190aaaa.json"));
        assert!(!is_done_object("light/pending/x_0190aaaa.json"));
        assert!(!is_done_object("light/running/0190aaaa/000002.json"));
        assert!(!is_done_object("done/readme.txt"));
    }

    #[tokio::test]
    async fn waits_for_writes_to_done() {
        let bucket = Bucket::memory();
        let watch = Arc::new(DoneWatch::new(bucket.object_store().clone()));
        let bucket = bucket.with_object_store(watch.clone());
        bucket.put("light/pending/a.json", vec![]).await.unwrap();
        assert_eq!(watch.count(), 0);
        let waiter = {
            let watch = watch.clone();
            tokio::spawn(async move { watch.wait_for(2, Duration::from_secs(5)).await })
        };
        bucket.put("light/done/a.json", vec![]).await.unwrap();
        bucket.put("heavy/done/b.json", vec![]).await.unwrap();
        assert!(waiter.await.unwrap());
        assert_eq!(watch.count(), 2);
        watch.reset();
        assert!(!watch.wait_for(1, Duration::from_millis(20)).await);
    }
}
