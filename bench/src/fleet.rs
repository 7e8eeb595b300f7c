//! Workers in this process: queue-worker's real runner ([`Worker::run`] with its discovery
//! loop and the built-in `echo` handler), one [`Queue`] per worker as if each were its own
//! process, all sharing one bucket. And the producer side: enqueue many echo tasks at once.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};
use queue_core::{Bucket, Class, EnqueueRequest, Queue, Settings, SystemClock, TaskId};
use queue_worker::{Discovery, DiscoverySettings, Handlers, Worker};
use serde_json::json;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The task kind every benchmark enqueues: the worker's built-in no-op handler (result =
/// payload).
pub const ECHO: &str = "echo";

/// How the workers of a fleet are set up.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The class served.
    pub class: Class,
    /// Workers (each its own queue, discovery and id).
    pub workers: usize,
    /// Tasks each worker runs at once.
    pub concurrency: usize,
    /// Protocol settings.
    pub settings: Settings,
    /// Discovery cadence.
    pub discovery: DiscoverySettings,
}

/// Running workers; [`Fleet::stop`] shuts them down as SIGTERM would.
#[derive(Debug)]
pub struct Fleet {
    stop: CancellationToken,
    running: JoinSet<()>,
}

impl Fleet {
    /// Start `config.workers` workers on `bucket`, named `bench-0`, `bench-1`, …
    pub fn start(bucket: &Bucket, config: &FleetConfig) -> Fleet {
        let stop = CancellationToken::new();
        let mut running = JoinSet::new();
        for i in 0..config.workers {
            let id = format!("bench-{i}");
            let queue = Arc::new(
                Queue::new(
                    bucket.clone(),
                    Arc::new(SystemClock),
                    config.settings.clone(),
                )
                .with_seed(1000 + i as u64),
            );
            let discovery =
                Discovery::new(config.class, id.clone(), config.discovery.clone(), &queue);
            let worker = Worker::new(queue, config.class, id, Handlers::builtin_only())
                .with_concurrency(config.concurrency);
            running.spawn(Arc::new(worker).run(discovery, stop.clone(), Duration::from_secs(10)));
        }
        Fleet { stop, running }
    }

    /// Stop claiming, let running handlers finish, wait for every worker to return.
    pub async fn stop(mut self) {
        self.stop.cancel();
        while self.running.join_next().await.is_some() {}
    }
}

/// A producer: its own queue on the bucket, like an ingress process.
pub fn producer(bucket: &Bucket, settings: &Settings) -> Queue {
    Queue::new(bucket.clone(), Arc::new(SystemClock), settings.clone()).with_seed(7)
}

/// Enqueue `n` echo tasks of `class` with up to `concurrency` enqueues in flight; their ids in
/// enqueue-completion order.
pub async fn enqueue_echo(
    queue: &Queue,
    class: Class,
    n: usize,
    concurrency: usize,
) -> queue_core::Result<Vec<TaskId>> {
    stream::iter(0..n)
        .map(|i| async move {
            let req = EnqueueRequest::new(class, ECHO, json!({ "n": i }));
            queue.enqueue(req).await.map(|e| e.id)
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BenchStore;

    #[tokio::test]
    async fn a_fleet_runs_echo_tasks_to_done() {
        let store = BenchStore::wrap(Bucket::memory(), None);
        let settings = Settings::default();
        let producer = producer(&store.bucket, &settings);
        enqueue_echo(&producer, Class::Light, 20, 4).await.unwrap();
        let fleet = Fleet::start(
            &store.bucket,
            &FleetConfig {
                class: Class::Light,
                workers: 2,
                concurrency: 1,
                settings: settings.clone(),
                discovery: DiscoverySettings::local(settings.lease_ttl),
            },
        );
        assert!(store.done.wait_for(20, Duration::from_secs(30)).await);
        fleet.stop().await;
        let stats = queue_core::inspect::stats(&store.bucket).await.unwrap();
        assert_eq!(stats.light.done, 20);
        assert_eq!(stats.light.pending, 0);
    }
}
