//! The conformance suite: every property in `conformance/suite.rs`, run unchanged on every
//! backend — object_store's InMemory and LocalFileSystem, S3 over HTTP (moto), and GCS over
//! HTTP (the project's GCS test double, through STORAGE_EMULATOR_HOST).

#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/suite.rs"]
mod suite;

use queue_core::Bucket;

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

backend!(memory, crate::memory());
backend!(local, crate::local());
