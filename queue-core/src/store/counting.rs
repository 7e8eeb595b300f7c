//! An operation-counting `ObjectStore` wrapper: how many GCS Class A and Class B operations a
//! piece of code costs. Benchmarks and the cost model read it.
//!
//! ```
//! # use std::sync::Arc;
//! use queue_core::Bucket;
//! use queue_core::store::counting::CountingStore;
//!
//! # tokio_test_block_on(async {
//! let bucket = Bucket::memory();
//! let counting = Arc::new(CountingStore::new(bucket.object_store().clone()));
//! let bucket = bucket.with_object_store(counting.clone());
//! bucket.put("a.json", b"{}".to_vec()).await.unwrap();
//! bucket.get("a.json").await.unwrap();
//! let ops = counting.snapshot();
//! assert_eq!((ops.class_a, ops.class_b), (1, 1));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use serde::Serialize;

/// Names per listing page on GCS (and S3): a listing costs one request per page.
pub const LIST_PAGE_SIZE: u64 = 1000;

/// A billable request, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountedOp {
    /// An unconditional write.
    Put,
    /// A create-if-absent write.
    PutCreate,
    /// A write conditional on a version (GCS generation, S3 ETag).
    PutUpdate,
    /// The start of a multipart upload (its parts are not counted; the queue never uses them).
    PutMultipart,
    /// A copy (GCS rewrite).
    Copy,
    /// A copy-if-not-exists.
    CopyIfNotExists,
    /// One page of a listing (a listing of N names is `max(1, ceil(N / 1000))` pages).
    List,
    /// A read of an object's body.
    Get,
    /// A read of an object's metadata.
    Head,
    /// A delete (one per location).
    Delete,
}

/// GCS's operation classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum OpClass {
    /// Writes, copies and listings (5,000 a month free).
    A,
    /// Reads and metadata reads (50,000 a month free).
    B,
    /// Deletes.
    Free,
}

impl CountedOp {
    /// The GCS class of this operation.
    pub fn class(self) -> OpClass {
        match self {
            CountedOp::Put
            | CountedOp::PutCreate
            | CountedOp::PutUpdate
            | CountedOp::PutMultipart
            | CountedOp::Copy
            | CountedOp::CopyIfNotExists
            | CountedOp::List => OpClass::A,
            CountedOp::Get | CountedOp::Head => OpClass::B,
            CountedOp::Delete => OpClass::Free,
        }
    }
}

/// Counts of operations since creation or the last [`CountingStore::reset`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    /// Class A operations (put of any kind, copy, listing pages).
    pub class_a: u64,
    /// Class B operations (get, head).
    pub class_b: u64,
    /// Free operations (delete).
    pub free: u64,
    /// Each operation's count; absent means zero.
    pub by_op: BTreeMap<CountedOp, u64>,
}

impl OpCounts {
    /// The count of one operation.
    pub fn get(&self, op: CountedOp) -> u64 {
        self.by_op.get(&op).copied().unwrap_or(0)
    }

    /// Every operation counted.
    pub fn total(&self) -> u64 {
        self.class_a + self.class_b + self.free
    }

    fn add(&mut self, op: CountedOp, n: u64) {
        match op.class() {
            OpClass::A => self.class_a += n,
            OpClass::B => self.class_b += n,
            OpClass::Free => self.free += n,
        }
        *self.by_op.entry(op).or_insert(0) += n;
    }
}

/// An `ObjectStore` that counts the requests it passes to `inner`.
///
/// # Contract
/// - A request is counted when it is issued, whether or not it succeeds (failed requests are
///   billed too). Nothing else about the call changes.
/// - Classes follow GCS pricing: Class A for every put (plain, create-if-absent, update),
///   multipart start, copy and listing page; Class B for get and head; deletes free.
/// - A listing counts one page when it starts and one more for every further 1,000 names it
///   yields (GCS's page size), so a listing read only partly is counted for what was read.
/// - `list_with_delimiter` counts one page; a delete stream counts each location it deletes.
/// - Clones share their counters.
#[derive(Debug, Clone)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    counts: Arc<Mutex<OpCounts>>,
}

impl CountingStore {
    /// Count the requests made to `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        CountingStore {
            inner,
            counts: Arc::new(Mutex::new(OpCounts::default())),
        }
    }

    /// The counts so far.
    pub fn snapshot(&self) -> OpCounts {
        self.counts.lock().expect("op counts lock").clone()
    }

    /// Start counting from zero.
    pub fn reset(&self) {
        *self.counts.lock().expect("op counts lock") = OpCounts::default();
    }

    fn count(&self, op: CountedOp) {
        count(&self.counts, op);
    }
}

fn count(counts: &Mutex<OpCounts>, op: CountedOp) {
    counts.lock().expect("op counts lock").add(op, 1);
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountingStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.count(match opts.mode {
            PutMode::Overwrite => CountedOp::Put,
            PutMode::Create => CountedOp::PutCreate,
            PutMode::Update(_) => CountedOp::PutUpdate,
        });
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.count(CountedOp::PutMultipart);
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.count(if options.head {
            CountedOp::Head
        } else {
            CountedOp::Get
        });
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let counts = self.counts.clone();
        let counted = locations
            .inspect(move |location| {
                if location.is_ok() {
                    count(&counts, CountedOp::Delete);
                }
            })
            .boxed();
        self.inner.delete_stream(counted)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.count(CountedOp::List);
        let counts = self.counts.clone();
        let mut seen = 0u64;
        self.inner
            .list(prefix)
            .inspect(move |item| {
                if item.is_ok() {
                    if seen > 0 && seen.is_multiple_of(LIST_PAGE_SIZE) {
                        count(&counts, CountedOp::List);
                    }
                    seen += 1;
                }
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.count(CountedOp::List);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.count(match options.mode {
            CopyMode::Overwrite => CountedOp::Copy,
            CopyMode::Create => CountedOp::CopyIfNotExists,
        });
        self.inner.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Bucket;

    fn counting() -> (Bucket, Arc<CountingStore>) {
        let bucket = Bucket::memory();
        let store = Arc::new(CountingStore::new(bucket.object_store().clone()));
        (bucket.with_object_store(store.clone()), store)
    }

    #[tokio::test]
    async fn every_call_is_tallied_by_gcs_class() {
        let (bucket, store) = counting();
        bucket.put("a.json", b"1".to_vec()).await.unwrap(); // A: put
        bucket.create("b.json", b"1".to_vec()).await.unwrap(); // A: put_create
        bucket.create("b.json", b"2".to_vec()).await.unwrap(); // A: put_create (conflict)
        bucket.copy("a.json", "c.json").await.unwrap(); // A: copy
        bucket.list("").await.unwrap(); // A: list
        bucket.get("a.json").await.unwrap(); // B: get
        bucket.get("missing.json").await.unwrap(); // B: get (not found is billed too)
        bucket.head("a.json").await.unwrap(); // B: head
        bucket.exists("b.json").await.unwrap(); // B: head
        bucket.delete("a.json").await.unwrap(); // free
        bucket.delete("missing.json").await.unwrap(); // free
        let ops = store.snapshot();
        assert_eq!(ops.class_a, 5, "{ops:?}");
        assert_eq!(ops.class_b, 4, "{ops:?}");
        assert_eq!(ops.free, 2, "{ops:?}");
        assert_eq!(ops.total(), 11);
        assert_eq!(ops.get(CountedOp::Put), 1);
        assert_eq!(ops.get(CountedOp::PutCreate), 2);
        assert_eq!(ops.get(CountedOp::Copy), 1);
        assert_eq!(ops.get(CountedOp::List), 1);
        assert_eq!(ops.get(CountedOp::Get), 2);
        assert_eq!(ops.get(CountedOp::Head), 2);
        assert_eq!(ops.get(CountedOp::Delete), 2);
        assert_eq!(ops.get(CountedOp::PutUpdate), 0);
    }

    #[tokio::test]
    async fn reset_starts_from_zero_and_clones_share_counters() {
        let (bucket, store) = counting();
        bucket.put("a.json", b"1".to_vec()).await.unwrap();
        let clone = (*store).clone();
        assert_eq!(clone.snapshot().class_a, 1);
        store.reset();
        assert_eq!(clone.snapshot(), OpCounts::default());
        bucket.get("a.json").await.unwrap();
        assert_eq!(store.snapshot().class_b, 1);
    }

    #[tokio::test]
    async fn a_listing_costs_one_request_per_page_of_names() {
        let (bucket, store) = counting();
        for i in 0..2500 {
            bucket.put(&format!("p/{i:05}.json"), vec![]).await.unwrap();
        }
        store.reset();
        assert_eq!(bucket.list("p/").await.unwrap().len(), 2500);
        assert_eq!(store.snapshot().get(CountedOp::List), 3);
        store.reset();
        assert!(bucket.list("nothing/").await.unwrap().is_empty());
        assert_eq!(store.snapshot().get(CountedOp::List), 1);
        store.reset();
        // a listing stopped early is billed for the pages it read
        let first = bucket.list_until("p/", |_| false).await.unwrap();
        assert!(first.is_empty());
        assert_eq!(store.snapshot().get(CountedOp::List), 1);
    }

    #[test]
    fn counts_serialize_for_benchmark_reports() {
        let mut ops = OpCounts::default();
        ops.add(CountedOp::PutCreate, 2);
        ops.add(CountedOp::Head, 1);
        let json = serde_json::to_value(&ops).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "class_a": 2, "class_b": 1, "free": 0,
                "by_op": {"put_create": 2, "head": 1}
            })
        );
    }
}
