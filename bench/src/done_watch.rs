//! A store wrapper that notices tasks reaching `done/`, so a benchmark knows when the last task
//! finished without listing the bucket (a listing of thousands of names would perturb what it
//! measures) — and counts the races workers lose on the way.

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
/// - Lost races: a conditional write refused (`AlreadyExists`, `Precondition`) and a read of
///   a pending object that is gone (`NotFound`: another worker claimed it first).
/// - Clones share the counters.
#[derive(Debug, Clone)]
pub struct DoneWatch {
    inner: Arc<dyn ObjectStore>,
    done: Arc<AtomicU64>,
    changed: Arc<Notify>,
    races: Arc<[AtomicU64; 2]>,
}

/// Races lost since the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LostRaces {
    /// Conditional writes refused because another writer was first (a failed claim create).
    pub failed_creates: u64,
    /// Reads of pending objects that were already gone (claimed by another worker).
    pub vanished_reads: u64,
}

impl DoneWatch {
    /// Watch writes to `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        DoneWatch {
            inner,
            done: Arc::new(AtomicU64::new(0)),
            changed: Arc::new(Notify::new()),
            races: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
        }
    }

    /// Races lost since the last reset.
    pub fn lost_races(&self) -> LostRaces {
        LostRaces {
            failed_creates: self.races[0].load(Ordering::SeqCst),
            vanished_reads: self.races[1].load(Ordering::SeqCst),
        }
    }

    /// Writes to `done/` so far.
    pub fn count(&self) -> u64 {
        self.done.load(Ordering::SeqCst)
    }

    /// Start counting from zero.
    pub fn reset(&self) {
        self.done.store(0, Ordering::SeqCst);
        for r in self.races.iter() {
            r.store(0, Ordering::SeqCst);
        }
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
        match &result {
            Ok(_) if is_done_object(location.as_ref()) => {
                self.done.fetch_add(1, Ordering::SeqCst);
                self.changed.notify_waiters();
            }
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => {
                self.races[0].fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
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
        let result = self.inner.get_opts(location, options).await;
        if matches!(result, Err(object_store::Error::NotFound { .. }))
            && location.as_ref().contains("/pending/")
        {
            self.races[1].fetch_add(1, Ordering::SeqCst);
        }
        result
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

    #[tokio::test]
    async fn refused_creates_and_claimed_pending_reads_count_as_lost_races() {
        let watch = Arc::new(DoneWatch::new(Bucket::memory().object_store().clone()));
        let bucket = Bucket::memory().with_object_store(watch.clone());
        bucket
            .create("light/running/a/1.json", b"{}".to_vec())
            .await
            .unwrap();
        bucket
            .create("light/running/a/1.json", b"{}".to_vec())
            .await
            .unwrap();
        assert!(
            bucket
                .get("light/pending/x_a.json")
                .await
                .unwrap()
                .is_none()
        );
        assert!(bucket.get("light/done/a.json").await.unwrap().is_none());
        assert_eq!(
            watch.lost_races(),
            LostRaces {
                failed_creates: 1,
                vanished_reads: 1
            }
        );
        watch.reset();
        assert_eq!(watch.lost_races(), LostRaces::default());
    }
}
