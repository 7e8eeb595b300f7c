//! The conformance suite: every property in `conformance/suite.rs`, run unchanged on every
//! backend — object_store's InMemory and LocalFileSystem, S3 over HTTP (moto), and GCS over
//! HTTP (the project's GCS test double, through STORAGE_EMULATOR_HOST).

#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/suite.rs"]
mod suite;

use queue_core::Bucket;
use queue_core::store::StoreEnv;

macro_rules! backend {
    ($backend:ident, $make:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;

            macro_rules! case {
                ($name:ident) => {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $name() {
                        let (bucket, _guard) = $make.await;
                        crate::suite::$name(bucket).await;
                    }
                };
            }

            case!(exclusive_claim_under_many_claimers);
            case!(renewal_keeps_the_lease);
            case!(expiry_lets_another_worker_take_over);
            case!(a_stale_worker_is_fenced);
            case!(retry_with_backoff);
            case!(dead_letter_after_max_attempts);
            case!(replay_from_failed);
            case!(idempotent_enqueue);
            case!(cancel_pending_and_running);
            case!(malformed_objects_are_quarantined);
            case!(race_of_workers_over_many_tasks);
            case!(a_crashed_commit_is_rolled_forward);
            case!(a_stale_pending_copy_never_runs_twice);
            case!(release_gives_the_task_back_at_once);
            case!(claiming_stays_cheap_with_a_deep_queue);
        }
    };
}

async fn memory() -> (Bucket, ()) {
    (Bucket::memory(), ())
}

async fn local() -> (Bucket, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Bucket::local(dir.path()).unwrap(), dir)
}

async fn s3() -> (Bucket, ()) {
    let moto = testkit::moto::MotoServer::shared();
    let env = StoreEnv {
        vars: moto.store_env().into_iter().collect(),
    };
    let url = format!("s3://{}/conformance", moto.new_bucket());
    (Bucket::open(&url, &env).await.unwrap(), ())
}

async fn gcs() -> (Bucket, testkit::gcs::GcsTestServer) {
    let server = testkit::gcs::GcsTestServer::start().await;
    let env = StoreEnv {
        vars: server.store_env().into_iter().collect(),
    };
    let url = format!("gs://{}/conformance", server.new_bucket());
    (Bucket::open(&url, &env).await.unwrap(), server)
}

backend!(memory, crate::memory());
backend!(local, crate::local());
backend!(s3, crate::s3());
backend!(gcs, crate::gcs());

/// Opening a bucket that does not exist says so, on both cloud backends.
#[tokio::test]
async fn a_missing_bucket_is_a_clear_error() {
    let gcs = testkit::gcs::GcsTestServer::start().await;
    let env = StoreEnv {
        vars: gcs.store_env().into_iter().collect(),
    };
    let err = Bucket::open("gs://no-such-bucket", &env).await.unwrap_err();
    assert_eq!(err.kind(), queue_core::ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string()
            .contains("gs://no-such-bucket does not exist"),
        "{err}"
    );

    let moto = testkit::moto::MotoServer::shared();
    let env = StoreEnv {
        vars: moto.store_env().into_iter().collect(),
    };
    let err = Bucket::open("s3://no-such-bucket-here", &env)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            queue_core::ErrorKind::NotFound | queue_core::ErrorKind::Unavailable
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("s3://no-such-bucket-here"),
        "{err}"
    );
}
