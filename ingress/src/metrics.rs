//! The ingress's metrics, served on `GET /metrics` (Prometheus text format, behind the API
//! token; docs/ingress.md lists every family and what it costs):
//!
//! - `bucketq_tasks{class,state}` and `bucketq_quarantined_objects` — from a cached listing of
//!   the bucket, refreshed on a scrape at most once per [`IngressMetrics::refresh_every`]
//!   (default and minimum a minute): [`TASK_COUNT_LISTINGS`] Class A listings per refresh.
//! - `bucketq_enqueues_total{class,source}` — tasks created here (idempotent repeats are not).
//! - `bucketq_webhook_requests_total{outcome}` — Telegram webhook calls by answer.
//! - `bucketq_store_operations_total{gcs_class,op}` — store requests since start, by GCS class
//!   ([`StoreOpsMetric`], when built with [`IngressMetrics::counting`]).
//!
//! Counters live in this process: they restart from zero with it (a Cloud Run instance).

use std::time::Duration;

use axum::http::StatusCode;
use metrics_text::{Counter, Gauge, Registry};
use queue_core::store::StoreOpsMetric;
use queue_core::{Bucket, Class, Enqueued, inspect};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The shortest time between two task-count refreshes.
pub const MIN_REFRESH: Duration = Duration::from_secs(60);

/// Listing requests of one task-count refresh on a bucket with under 1,000 objects per
/// prefix: pending, running, done and failed of both classes, and invalid/. Each further
/// 1,000 names under a prefix add one.
pub const TASK_COUNT_LISTINGS: u64 = 9;

const STATES: [&str; 4] = ["pending", "running", "done", "failed"];

/// The ingress's registry and the handles its code updates. Shared in an `Arc`.
#[derive(Debug)]
pub struct IngressMetrics {
    registry: Registry,
    enqueues: Counter,
    webhook: Counter,
    tasks: Gauge,
    quarantined: Gauge,
    counts_age: Gauge,
    refresh_errors: Counter,
    store_ops: Option<StoreOpsMetric>,
    refresh_every: Duration,
    last_refresh: Mutex<Option<Instant>>,
}

impl Default for IngressMetrics {
    fn default() -> Self {
        IngressMetrics::new()
    }
}

impl IngressMetrics {
    /// Fresh counters; no store counts until [`IngressMetrics::with_store_counts`].
    pub fn new() -> Self {
        let registry = Registry::new();
        IngressMetrics {
            tasks: registry.gauge(
                "bucketq_tasks",
                "Tasks by class and state, from a cached listing (see bucketq_task_counts_age_seconds).",
                &["class", "state"],
            ),
            quarantined: registry.gauge(
                "bucketq_quarantined_objects",
                "Objects under invalid/ (malformed, kept with a reason), from the same listing.",
                &[],
            ),
            counts_age: registry.gauge(
                "bucketq_task_counts_age_seconds",
                "Seconds since bucketq_tasks was listed.",
                &[],
            ),
            refresh_errors: registry.counter(
                "bucketq_task_count_refresh_errors_total",
                "Task-count refreshes that failed (the previous counts are kept).",
                &[],
            ),
            enqueues: registry.counter(
                "bucketq_enqueues_total",
                "Tasks created by this ingress, by class and source (api, telegram).",
                &["class", "source"],
            ),
            webhook: registry.counter(
                "bucketq_webhook_requests_total",
                "Telegram webhook requests by outcome.",
                &["outcome"],
            ),
            registry,
            store_ops: None,
            refresh_every: MIN_REFRESH,
            last_refresh: Mutex::new(None),
        }
    }

    /// Fresh metrics that also count the requests of `bucket`: the queue must use the bucket
    /// returned.
    pub fn counting(bucket: &Bucket) -> (Bucket, Self) {
        let mut metrics = IngressMetrics::new();
        let (bucket, ops) = StoreOpsMetric::register(&metrics.registry, bucket);
        metrics.store_ops = Some(ops);
        (bucket, metrics)
    }

    /// List the task counts at most this often (at least [`MIN_REFRESH`]).
    pub fn with_refresh_every(mut self, every: Duration) -> Self {
        self.refresh_every = every.max(MIN_REFRESH);
        self
    }

    /// How often the task counts may be listed.
    pub fn refresh_every(&self) -> Duration {
        self.refresh_every
    }

    /// Count an enqueue (only a task actually created).
    pub fn enqueued(&self, done: &Enqueued) {
        if !done.created {
            return;
        }
        let env = &done.envelope;
        let source = env.source.as_ref().map_or("unknown", |s| s.kind.as_str());
        self.enqueues.inc(&[env.class.as_str(), source]);
    }

    /// Count a webhook answer.
    pub fn webhook_answered(&self, status: StatusCode) {
        self.webhook.inc(&[webhook_outcome(status)]);
    }

    /// The exposition text, refreshing the task counts from `bucket` first when they are
    /// older than [`IngressMetrics::refresh_every`]. A failed refresh keeps the old counts.
    pub async fn render(&self, bucket: &Bucket) -> String {
        {
            // Held across the listing: concurrent scrapes wait for one refresh.
            let mut last = self.last_refresh.lock().await;
            let now = Instant::now();
            if refresh_due(*last, now, self.refresh_every) {
                match inspect::stats(bucket).await {
                    Ok(stats) => {
                        for (class, s) in
                            [(Class::Heavy, &stats.heavy), (Class::Light, &stats.light)]
                        {
                            let counts = [s.pending, s.running, s.done, s.failed];
                            for (state, n) in STATES.iter().zip(counts) {
                                self.tasks.set(&[class.as_str(), state], n as f64);
                            }
                        }
                        self.quarantined.set(&[], stats.invalid as f64);
                        *last = Some(now);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot list the task counts for /metrics");
                        self.refresh_errors.inc(&[]);
                    }
                }
            }
            if let Some(at) = *last {
                self.counts_age
                    .set(&[], now.duration_since(at).as_secs_f64());
            }
        }
        if let Some(ops) = &self.store_ops {
            ops.update();
        }
        self.registry.render()
    }
}

/// Whether the task counts should be listed again.
pub fn refresh_due(last: Option<Instant>, now: Instant, every: Duration) -> bool {
    last.is_none_or(|at| now.duration_since(at) >= every)
}

/// The `outcome` label of a webhook answer.
pub fn webhook_outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "ok",
        401 => "unauthorized",
        400 | 422 => "bad_request",
        404 => "not_configured",
        408 => "timeout",
        413 => "too_large",
        503 => "unavailable",
        400..=499 => "refused",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_core::store::counting::CountedOp;

    #[test]
    fn webhook_answers_map_to_few_outcomes() {
        assert_eq!(webhook_outcome(StatusCode::OK), "ok");
        assert_eq!(webhook_outcome(StatusCode::UNAUTHORIZED), "unauthorized");
        assert_eq!(webhook_outcome(StatusCode::BAD_REQUEST), "bad_request");
        assert_eq!(webhook_outcome(StatusCode::PAYLOAD_TOO_LARGE), "too_large");
        assert_eq!(webhook_outcome(StatusCode::REQUEST_TIMEOUT), "timeout");
        assert_eq!(
            webhook_outcome(StatusCode::SERVICE_UNAVAILABLE),
            "unavailable"
        );
        assert_eq!(webhook_outcome(StatusCode::METHOD_NOT_ALLOWED), "refused");
        assert_eq!(webhook_outcome(StatusCode::INTERNAL_SERVER_ERROR), "error");
    }

    #[test]
    fn counts_are_listed_again_only_after_the_interval() {
        let t = Instant::now();
        let minute = Duration::from_secs(60);
        assert!(refresh_due(None, t, minute));
        assert!(!refresh_due(Some(t), t + Duration::from_secs(59), minute));
        assert!(refresh_due(Some(t), t + minute, minute));
        let m = IngressMetrics::new().with_refresh_every(Duration::from_secs(5));
        assert_eq!(m.refresh_every(), MIN_REFRESH);
    }

    #[tokio::test(start_paused = true)]
    async fn a_scrape_lists_the_bucket_at_most_once_a_minute() {
        let (bucket, metrics) = IngressMetrics::counting(&Bucket::memory());
        let store = metrics.store_ops.clone().unwrap();
        let lists = || store.store().snapshot().get(CountedOp::List);
        metrics.render(&bucket).await;
        assert_eq!(lists(), TASK_COUNT_LISTINGS);
        tokio::time::advance(Duration::from_secs(59)).await;
        metrics.render(&bucket).await;
        assert_eq!(lists(), TASK_COUNT_LISTINGS, "cached within the minute");
        tokio::time::advance(Duration::from_secs(1)).await;
        let text = metrics.render(&bucket).await;
        assert_eq!(lists(), 2 * TASK_COUNT_LISTINGS);
        // the scrape reports its own listings
        let a = format!(
            "bucketq_store_operations_total{{gcs_class=\"A\",op=\"list\"}} {}\n",
            2 * TASK_COUNT_LISTINGS
        );
        assert!(text.contains(&a), "{text}");
    }
}
