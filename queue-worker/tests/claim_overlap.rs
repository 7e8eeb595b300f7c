//! The slots of one worker claim at the same time: on a store with 50 ms round trips, eight
//! slots drain a backlog in a fraction of the time one claim after another would take.
//! Measured on tokio's paused clock (store latency included), so the figure is exact.

mod common;

use std::sync::Arc;
use std::time::Duration;

use queue_core::store::faulty::{Fault, FaultRule, FaultyStore};
use queue_core::{Bucket, Class, Clock, EnqueueRequest, inspect};
use queue_worker::{Discovery, DiscoverySettings, Handlers, Worker};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use common::{TokioClock, queue, settings};

#[tokio::test(start_paused = true)]
async fn the_slots_of_one_worker_claim_concurrently() {
    let memory = Bucket::memory();
    let slow = FaultyStore::new(
        memory.object_store().clone(),
        0,
        vec![FaultRule::new(Fault::Latency(Duration::from_millis(50)))],
    );
    let bucket = memory.with_object_store(Arc::new(slow));
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let q = queue(bucket.clone(), clock, settings(Duration::from_secs(300)));
    for i in 0..32 {
        q.enqueue(EnqueueRequest::new(Class::Light, "echo", json!({ "i": i })))
            .await
            .unwrap();
    }
    let worker =
        Worker::new(q.clone(), Class::Light, "w", Handlers::builtin_only()).with_concurrency(8);
    let discovery = Discovery::new(Class::Light, "w", DiscoverySettings::cloud(), &q);
    let stop = CancellationToken::new();
    let start = tokio::time::Instant::now();
    let run = tokio::spawn(Arc::new(worker).run(discovery, stop.clone(), Duration::from_secs(1)));
    let drained = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if inspect::stats(&memory).await.unwrap().light.done == 32 {
            break start.elapsed();
        }
    };
    stop.cancel();
    run.await.unwrap();
    // A claim and a commit are about a dozen round trips of 50 ms: one task at a time would
    // take 32 × ~0.6 s ≈ 19 s. Eight slots claiming together take a quarter of that or less.
    assert!(drained < Duration::from_secs(5), "drained in {drained:?}");
    let stats = inspect::stats(&memory).await.unwrap();
    assert_eq!((stats.light.done, stats.light.pending), (32, 0));
}
