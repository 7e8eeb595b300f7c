//! The stores a benchmark runs on, each wrapped the same way:
//!
//! ```text
//! DoneWatch (knows when tasks finish) → CountingStore (Class A/B tally) → [latency] → backend
//! ```
//!
//! - `local`: a fresh temporary directory (object_store's `LocalFileSystem`) under the
//!   system's temporary directory (`TMPDIR`, usually a disk);
//! - `local-tmpfs`: the same under `/dev/shm` (memory-backed), which separates the queue's own
//!   cost from the disk's metadata latency;
//! - `memory-50ms`: object_store's `InMemory` with 50 ms added to every call, a GCS-like round
//!   trip (queue-core's `FaultyStore` with one latency rule that always fires);
//! - `s3`: a fresh bucket on moto's S3 server over HTTP (`testkit::moto`), opened through
//!   `Bucket::open("s3://…")` as a worker would.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use queue_core::Bucket;
use queue_core::store::StoreEnv;
use queue_core::store::counting::CountingStore;
use queue_core::store::faulty::{Fault, FaultRule, FaultyStore};
use queue_worker::DiscoverySettings;
use testkit::moto::MotoServer;

use crate::BenchResult;
use crate::done_watch::DoneWatch;

/// The latency the `memory-50ms` store adds to every call.
pub const ADDED_LATENCY: Duration = Duration::from_millis(50);

/// Where `local-tmpfs` stores live (memory-backed on Linux).
pub const TMPFS: &str = "/dev/shm";

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    /// A local directory.
    Local,
    /// A local directory on tmpfs.
    LocalTmpfs,
    /// In memory, 50 ms per call.
    Memory50ms,
    /// S3 over HTTP (moto).
    S3,
}

impl StoreKind {
    /// Every kind, in report order.
    pub const ALL: [StoreKind; 4] = [
        StoreKind::Local,
        StoreKind::LocalTmpfs,
        StoreKind::Memory50ms,
        StoreKind::S3,
    ];

    /// The name used in flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Local => "local",
            StoreKind::LocalTmpfs => "local-tmpfs",
            StoreKind::Memory50ms => "memory-50ms",
            StoreKind::S3 => "s3",
        }
    }

    /// The discovery cadence a worker binary picks for this kind of store: fast polling for a
    /// directory, the cloud defaults for S3 and for the GCS stand-in.
    pub fn discovery(self, lease_ttl: Duration) -> DiscoverySettings {
        match self {
            StoreKind::Local | StoreKind::LocalTmpfs => DiscoverySettings::local(lease_ttl),
            StoreKind::Memory50ms | StoreKind::S3 => DiscoverySettings::cloud(),
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown store: {s} (expected local, local-tmpfs, memory-50ms or s3)")
            })
    }
}

/// Starts stores of one kind; holds what they need alive (moto).
#[derive(Debug)]
pub struct StoreFactory {
    kind: StoreKind,
    moto: Option<MotoServer>,
}

impl StoreFactory {
    /// A factory for `kind`; for S3 this starts moto (installed by
    /// `scripts/install-test-tools.sh`).
    pub fn new(kind: StoreKind) -> Self {
        let moto = (kind == StoreKind::S3).then(MotoServer::start);
        StoreFactory { kind, moto }
    }

    /// The kind.
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// A fresh, empty store.
    pub async fn fresh(&self) -> BenchResult<BenchStore> {
        let (backend, dir) = match self.kind {
            StoreKind::Local => {
                let dir = tempfile::tempdir()?;
                (Bucket::local(dir.path())?, Some(dir))
            }
            StoreKind::LocalTmpfs => {
                let dir = tempfile::tempdir_in(TMPFS)?;
                (Bucket::local(dir.path())?, Some(dir))
            }
            StoreKind::Memory50ms => {
                let bucket = Bucket::memory();
                let slow = FaultyStore::new(
                    bucket.object_store().clone(),
                    0,
                    vec![FaultRule::new(Fault::Latency(ADDED_LATENCY))],
                );
                (bucket.with_object_store(Arc::new(slow)), None)
            }
            StoreKind::S3 => {
                let moto = self.moto.as_ref().expect("moto runs for an s3 factory");
                let name = moto.new_bucket();
                let env = StoreEnv {
                    vars: moto.store_env().into_iter().collect(),
                };
                (Bucket::open(&format!("s3://{name}"), &env).await?, None)
            }
        };
        Ok(BenchStore::wrap(backend, dir))
    }
}

/// A store with its operation counter and done-watch.
#[derive(Debug)]
pub struct BenchStore {
    /// The bucket to hand to queues and workers.
    pub bucket: Bucket,
    /// Class A/B operations since the last reset.
    pub ops: Arc<CountingStore>,
    /// Tasks that reached done/.
    pub done: Arc<DoneWatch>,
    _dir: Option<tempfile::TempDir>,
}

impl BenchStore {
    /// Wrap `backend` with the counter and the done-watch.
    pub fn wrap(backend: Bucket, dir: Option<tempfile::TempDir>) -> Self {
        let ops = Arc::new(CountingStore::new(backend.object_store().clone()));
        let done = Arc::new(DoneWatch::new(ops.clone()));
        BenchStore {
            bucket: backend.with_object_store(done.clone()),
            ops,
            done,
            _dir: dir,
        }
    }

    /// The directory of a local store.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(|d| d.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in StoreKind::ALL {
            assert_eq!(kind.as_str().parse::<StoreKind>().unwrap(), kind);
        }
        assert!("gcs".parse::<StoreKind>().is_err());
    }

    #[tokio::test]
    async fn a_wrapped_store_counts_and_watches() {
        let store = StoreFactory::new(StoreKind::Local).fresh().await.unwrap();
        assert!(store.dir().is_some());
        store
            .bucket
            .put("light/done/a.json", b"{}".to_vec())
            .await
            .unwrap();
        store.bucket.get("light/done/a.json").await.unwrap();
        assert_eq!(store.done.count(), 1);
        let ops = store.ops.snapshot();
        assert_eq!((ops.class_a, ops.class_b), (1, 1));
    }
}
