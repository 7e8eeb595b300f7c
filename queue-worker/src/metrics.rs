//! The worker's metrics, served on `GET /metrics` at `--metrics-addr` (off by default;
//! Prometheus text format, no token: bind it to a loopback or private address). Every family
//! is counted in memory at points the worker passes anyway, so a scrape costs no store
//! request (docs/workers.md lists them):
//!
//! - `bucketq_worker_claims_total{class}` — tasks claimed;
//! - `bucketq_worker_completions_total{class,outcome}` — how each claimed task ended
//!   ([`outcome`]);
//! - `bucketq_worker_handler_duration_seconds{class,kind}` — the handler step (attachments,
//!   process, exit), a histogram;
//! - `bucketq_worker_lease_renewals_total{class}` and `bucketq_worker_leases_lost_total{class}`;
//! - `bucketq_store_operations_total{gcs_class,op}` — store requests since start, by GCS class.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::routing::get;
use metrics_text::{Counter, Histogram, Registry};
use queue_core::store::StoreOpsMetric;
use queue_core::{Bucket, Class, TaskState};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::runner::TaskEnd;

/// Upper bounds of the handler-duration buckets, in seconds: from a quick shell step to an
/// hour-long AI job.
pub const DURATION_BUCKETS: [f64; 11] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0,
];

/// The worker's registry and the handles the runner updates. Shared in an `Arc`.
#[derive(Debug)]
pub struct WorkerMetrics {
    registry: Registry,
    claims: Counter,
    completions: Counter,
    durations: Histogram,
    renewals: Counter,
    leases_lost: Counter,
    store_ops: Option<StoreOpsMetric>,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics::new()
    }
}

impl WorkerMetrics {
    /// Fresh counters; no store counts until [`WorkerMetrics::counting`].
    pub fn new() -> Self {
        let registry = Registry::new();
        WorkerMetrics {
            claims: registry.counter(
                "bucketq_worker_claims_total",
                "Tasks claimed by this worker.",
                &["class"],
            ),
            completions: registry.counter(
                "bucketq_worker_completions_total",
                "Claimed tasks by how they ended: done, failed, pending (retry or snooze), lease_lost, released (shutdown), not_committed.",
                &["class", "outcome"],
            ),
            durations: registry.histogram(
                "bucketq_worker_handler_duration_seconds",
                "Time in the handler step (attachments, process, exit), by task kind (unknown: no handler).",
                &["class", "kind"],
                &DURATION_BUCKETS,
            ),
            renewals: registry.counter(
                "bucketq_worker_lease_renewals_total",
                "Successful lease renewals (one Class A write each).",
                &["class"],
            ),
            leases_lost: registry.counter(
                "bucketq_worker_leases_lost_total",
                "Tasks whose lease was lost while running (taken over, cancelled, or expired during a pause); nothing was committed.",
                &["class"],
            ),
            registry,
            store_ops: None,
        }
    }

    /// Fresh metrics that also count the requests of `bucket`: the worker must use the
    /// bucket returned.
    pub fn counting(bucket: &Bucket) -> (Bucket, Self) {
        let mut metrics = WorkerMetrics::new();
        let (bucket, ops) = StoreOpsMetric::register(&metrics.registry, bucket);
        metrics.store_ops = Some(ops);
        (bucket, metrics)
    }

    /// A task was claimed.
    pub fn claimed(&self, class: Class) {
        self.claims.inc(&[class.as_str()]);
    }

    /// A claimed task ended: how, after how long in its handler, with how many renewals.
    pub fn ended(&self, class: Class, kind: &str, end: &TaskEnd, handler: Duration, renewals: u32) {
        let class = class.as_str();
        self.completions.inc(&[class, outcome(end)]);
        self.durations
            .observe(&[class, kind], handler.as_secs_f64());
        self.renewals.add(&[class], u64::from(renewals));
        let lost = matches!(end, TaskEnd::LeaseLost { .. });
        self.leases_lost.add(&[class], u64::from(lost));
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        if let Some(ops) = &self.store_ops {
            ops.update();
        }
        self.registry.render()
    }
}

/// The `outcome` label of a task end.
pub fn outcome(end: &TaskEnd) -> &'static str {
    match end {
        TaskEnd::Committed {
            state: TaskState::Done,
        } => "done",
        TaskEnd::Committed {
            state: TaskState::Failed,
        } => "failed",
        TaskEnd::Committed { .. } => "pending",
        TaskEnd::LeaseLost { .. } => "lease_lost",
        TaskEnd::Released => "released",
        TaskEnd::NotCommitted { .. } => "not_committed",
    }
}

/// Bind `addr` for [`serve`] (a clear error when it cannot).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics-addr: cannot listen on {addr}: {e}"))
}

/// Answer `GET /metrics` on `listener` until `stop` is cancelled.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<WorkerMetrics>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

async fn scrape(State(metrics): State<Arc<WorkerMetrics>>) -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics_text::CONTENT_TYPE)],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_end_has_its_outcome() {
        let at = chrono::DateTime::UNIX_EPOCH;
        let ends = [
            (
                TaskEnd::Committed {
                    state: TaskState::Done,
                },
                "done",
            ),
            (
                TaskEnd::Committed {
                    state: TaskState::Failed,
                },
                "failed",
            ),
            (
                TaskEnd::Committed {
                    state: TaskState::Pending,
                },
                "pending",
            ),
            (TaskEnd::LeaseLost { deadline: at }, "lease_lost"),
            (TaskEnd::Released, "released"),
            (TaskEnd::NotCommitted { error: "x".into() }, "not_committed"),
        ];
        for (end, name) in ends {
            assert_eq!(outcome(&end), name);
        }
    }

    #[test]
    fn an_end_counts_its_outcome_duration_renewals_and_loss() {
        let m = WorkerMetrics::new();
        m.claimed(Class::Light);
        let lost = TaskEnd::LeaseLost {
            deadline: chrono::DateTime::UNIX_EPOCH,
        };
        m.ended(Class::Light, "ocr", &lost, Duration::from_millis(300), 2);
        assert_eq!(m.claims.get(&["light"]), 1);
        assert_eq!(m.completions.get(&["light", "lease_lost"]), 1);
        assert_eq!(m.renewals.get(&["light"]), 2);
        assert_eq!(m.leases_lost.get(&["light"]), 1);
        assert_eq!(m.durations.count(&["light", "ocr"]), 1);
        let text = m.render();
        let bucket = "bucketq_worker_handler_duration_seconds_bucket{class=\"light\",kind=\"ocr\",le=\"0.5\"} 1\n";
        assert!(text.contains(bucket), "{text}");
    }
}
