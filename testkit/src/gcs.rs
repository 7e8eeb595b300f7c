//! A GCS **test double**: an in-process HTTP server that speaks the subset of Google Cloud
//! Storage that object_store 0.14's GCS client uses, with GCS's generation preconditions.
//!
//! It is not an emulator and not GCS. It exists because no emulator available here accepts
//! object_store's GCS writes (fake-gcs-server rejects its XML-API PUT; gcp-storage-emulator
//! ignores preconditions). What it does, as read from object_store's `gcp/client.rs`:
//!
//! | request | behaviour |
//! | --- | --- |
//! | `PUT /{bucket}/{object}` | write; `x-goog-if-generation-match: 0` = only if absent, `N` = only if the live generation is `N`, else 412; answers `x-goog-generation` and `ETag` |
//! | `PUT` with `x-goog-copy-source: {bucket}/{object}` | server-side copy, same precondition on the destination |
//! | `GET`, `HEAD /{bucket}/{object}` | `Range`, `If-Match`, `If-None-Match`, `If-(Un)Modified-Since`, `?generation=`; answers `ETag`, `Last-Modified`, `Content-Length`, `Content-Type`, `x-goog-generation` |
//! | `DELETE /{bucket}/{object}` | 204, or 404 when absent (as GCS) |
//! | `GET /{bucket}?list-type=2&prefix&delimiter&continuation-token&start-after&max-keys` | XML listing in name order, paged by [`GcsOptions::page_size`] |
//! | `POST ?uploads`, `PUT ?partNumber&uploadId`, `POST ?uploadId`, `DELETE ?uploadId` | XML multipart upload |
//!
//! Errors are GCS's XML `<Error><Code>…</Code>…</Error>` with its status codes: 404 for an
//! unknown bucket or object (`NotFound`), 412 for a failed precondition (`Precondition`, or
//! `AlreadyExists` for create-only writes and copies), 304 for a matched `If-None-Match`.
//!
//! Differences from GCS worth knowing: ETags hash the content (like GCS's MD5, but not MD5);
//! only the live generation is kept; credentials are not checked; there is no JSON API (object_store
//! lists through the XML API); the limit of one write per second per object name (429) is
//! opt-in ([`GcsOptions::write_rate_limit`]).
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::gcs::GcsTestServer;
//!
//! let gcs = GcsTestServer::start().await;
//! let bucket = gcs.new_bucket();
//! let store = gcs.store(&bucket); // object_store's GoogleCloudStorage, pointed here
//! // or, through queue-core: StoreEnv { vars: gcs.store_env() } and `gs://{bucket}`
//! # let _ = store;
//! # }
//! ```

mod http;
mod list;
mod state;
mod xml;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use object_store::gcp::{GcpCredential, GoogleCloudStorage, GoogleCloudStorageBuilder};
use object_store::{ClientOptions, StaticCredentialProvider};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::util::unique_name;

/// Settings of a [`GcsTestServer`].
#[derive(Debug, Clone)]
pub struct GcsOptions {
    /// The most entries (objects and common prefixes) one listing page holds, whatever the
    /// client asks. GCS's is 1,000; set it small to exercise pagination.
    pub page_size: usize,
    /// GCS's limit of about one write per second to one object name: a write (upload or copy)
    /// to a name written less than this long ago is answered 429 (`rateLimitExceeded`), which
    /// object_store's client retries with backoff. `None` (the default) lets every write
    /// through; `Some(Duration::from_secs(1))` behaves as GCS does.
    pub write_rate_limit: Option<std::time::Duration>,
}

impl Default for GcsOptions {
    fn default() -> Self {
        GcsOptions {
            page_size: 1000,
            write_rate_limit: None,
        }
    }
}

/// Requests served, by kind. GCS bills `put`, `copy`, `list` and `multipart` as Class A
/// operations and `get` and `head` as Class B; `delete` is free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// Uploads (`PUT` without a copy source).
    pub put: u64,
    /// Server-side copies.
    pub copy: u64,
    /// Listing pages.
    pub list: u64,
    /// Multipart requests (start, part, complete, abort).
    pub multipart: u64,
    /// Object reads.
    pub get: u64,
    /// Metadata reads.
    pub head: u64,
    /// Deletes.
    pub delete: u64,
}

impl OpCounts {
    /// Class A operations: writes, copies, listings.
    pub fn class_a(&self) -> u64 {
        self.put + self.copy + self.list + self.multipart
    }

    /// Class B operations: reads.
    pub fn class_b(&self) -> u64 {
        self.get + self.head
    }

    /// The requests served since `earlier` was taken.
    pub fn since(&self, earlier: &OpCounts) -> OpCounts {
        OpCounts {
            put: self.put - earlier.put,
            copy: self.copy - earlier.copy,
            list: self.list - earlier.list,
            multipart: self.multipart - earlier.multipart,
            get: self.get - earlier.get,
            head: self.head - earlier.head,
            delete: self.delete - earlier.delete,
        }
    }
}

/// The running double, on 127.0.0.1 and a port of its own; stopped when dropped (or, to know
/// when it has stopped, with [`GcsTestServer::stop`]).
///
/// It runs as a task on the Tokio runtime that started it, so it serves only while that
/// runtime runs: start one per test (it is cheap) rather than sharing one between tests.
#[derive(Debug)]
pub struct GcsTestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<http::Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl GcsTestServer {
    /// Start with [`GcsOptions::default`].
    pub async fn start() -> GcsTestServer {
        GcsTestServer::start_with(GcsOptions::default()).await
    }

    /// Start with the given options. Panics if 127.0.0.1 cannot be bound.
    pub async fn start_with(options: GcsOptions) -> GcsTestServer {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("testkit: gcs double cannot bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("testkit: gcs double has no local address");
        let shared = Arc::new(http::Shared {
            store: Mutex::new(state::Store::new()),
            counts: http::Counters::default(),
            page_size: options.page_size.max(1),
            write_rate_limit: options.write_rate_limit,
            last_write: Mutex::default(),
        });
        let app = http::app(Arc::clone(&shared));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "gcs test double stopped");
            }
        });
        GcsTestServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Stop serving and wait until the port is closed and open connections have ended, so
    /// that the next request fails (a test of "GCS is unavailable").
    pub async fn stop(mut self) {
        drop(self.shutdown.take());
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Create an empty bucket (nothing happens if it exists).
    pub fn create_bucket(&self, name: &str) {
        self.shared.store().create_bucket(name);
    }

    /// Create an empty bucket with a unique name and return the name.
    pub fn new_bucket(&self) -> String {
        let name = unique_name("gcs");
        self.create_bucket(&name);
        name
    }

    /// `http://127.0.0.1:PORT`: the value for `STORAGE_EMULATOR_HOST`, and object_store's
    /// `with_base_url`.
    pub fn emulator_host(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The variables that point `queue_core::store::StoreEnv` with a `gs://BUCKET` URL here:
    /// just `STORAGE_EMULATOR_HOST`.
    pub fn store_env(&self) -> Vec<(String, String)> {
        vec![("STORAGE_EMULATOR_HOST".to_string(), self.emulator_host())]
    }

    /// An object_store GCS client for `bucket`, built as queue-core builds one for
    /// `STORAGE_EMULATOR_HOST`: this base URL, an empty bearer token, plain HTTP.
    pub fn store(&self, bucket: &str) -> GoogleCloudStorage {
        self.store_with_retry(bucket, object_store::RetryConfig::default())
    }

    /// As [`GcsTestServer::store`], with this retry policy (`max_retries: 0` for tests whose
    /// point is a failure the client would otherwise retry away).
    pub fn store_with_retry(
        &self,
        bucket: &str,
        retry: object_store::RetryConfig,
    ) -> GoogleCloudStorage {
        GoogleCloudStorageBuilder::new()
            .with_bucket_name(bucket)
            .with_base_url(&self.emulator_host())
            .with_credentials(Arc::new(StaticCredentialProvider::new(GcpCredential {
                bearer: String::new(),
            })))
            .with_client_options(ClientOptions::new().with_allow_http(true))
            .with_retry(retry)
            .build()
            .unwrap_or_else(|e| panic!("testkit: cannot build a GCS client for the double: {e}"))
    }

    /// Requests served so far.
    pub fn op_counts(&self) -> OpCounts {
        self.shared.counts.snapshot()
    }

    /// The generation of a live object, for assertions; `None` if it does not exist.
    pub fn generation(&self, bucket: &str, name: &str) -> Option<i64> {
        let store = self.shared.store();
        store.get(bucket, name).ok().map(|o| o.generation)
    }

    /// Every object name in `bucket`, in name order (empty for an unknown bucket).
    pub fn object_names(&self, bucket: &str) -> Vec<String> {
        let store = self.shared.store();
        store
            .bucket(bucket)
            .map(|b| b.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl Drop for GcsTestServer {
    fn drop(&mut self) {
        // Dropping the sender is the signal; the task winds down on its own.
        drop(self.shutdown.take());
    }
}
