//! The store's requests as a metric: [`StoreOpsMetric`], the `bucketq_store_operations_total`
//! family that the ingress and the workers both serve (docs/ingress.md, docs/workers.md), and
//! the names of the counted operations and of GCS's classes — its labels, the same words as the
//! benchmark reports' JSON keys.

use std::sync::Arc;

use metrics_text::{Counter, Registry};

use super::Bucket;
use super::counting::{CountedOp, CountingStore, OpClass};

/// `bucketq_store_operations_total{gcs_class, op}`: the requests a [`CountingStore`] counted
/// since start, copied into a registry when it is rendered. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StoreOpsMetric {
    counter: Counter,
    store: Arc<CountingStore>,
}

impl StoreOpsMetric {
    /// The family's name.
    pub const NAME: &'static str = "bucketq_store_operations_total";

    /// Wrap `bucket` so its requests are counted, and register the family in `registry`.
    pub fn register(registry: &Registry, bucket: &Bucket) -> (Bucket, Self) {
        let store = Arc::new(CountingStore::new(bucket.object_store().clone()));
        let counter = registry.counter(
            Self::NAME,
            "Store requests since start, by GCS class (A: writes and listings, B: reads, free: deletes) and operation.",
            &["gcs_class", "op"],
        );
        let metric = StoreOpsMetric { counter, store };
        metric.update();
        (bucket.with_object_store(metric.store.clone()), metric)
    }

    /// Copy the counts into the family; call it before rendering.
    pub fn update(&self) {
        let counts = self.store.snapshot();
        for op in CountedOp::ALL {
            let labels = [op.class().as_str(), op.as_str()];
            self.counter.set_total(&labels, counts.get(op));
        }
    }

    /// The counting store under the bucket.
    pub fn store(&self) -> &Arc<CountingStore> {
        &self.store
    }
}

impl CountedOp {
    /// Every operation, in report order.
    pub const ALL: [CountedOp; 10] = [
        CountedOp::Put,
        CountedOp::PutCreate,
        CountedOp::PutUpdate,
        CountedOp::PutMultipart,
        CountedOp::Copy,
        CountedOp::CopyIfNotExists,
        CountedOp::List,
        CountedOp::Get,
        CountedOp::Head,
        CountedOp::Delete,
    ];

    /// The operation's name (`put_create`, `list`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CountedOp::Put => "put",
            CountedOp::PutCreate => "put_create",
            CountedOp::PutUpdate => "put_update",
            CountedOp::PutMultipart => "put_multipart",
            CountedOp::Copy => "copy",
            CountedOp::CopyIfNotExists => "copy_if_not_exists",
            CountedOp::List => "list",
            CountedOp::Get => "get",
            CountedOp::Head => "head",
            CountedOp::Delete => "delete",
        }
    }
}

impl OpClass {
    /// `A`, `B` or `free`.
    pub fn as_str(self) -> &'static str {
        match self {
            OpClass::A => "A",
            OpClass::B => "B",
            OpClass::Free => "free",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_report_keys() {
        for op in CountedOp::ALL {
            assert_eq!(
                serde_json::to_value(op).unwrap(),
                serde_json::Value::String(op.as_str().into())
            );
        }
        let distinct: std::collections::BTreeSet<_> = CountedOp::ALL.into_iter().collect();
        assert_eq!(distinct.len(), CountedOp::ALL.len());
    }

    #[tokio::test]
    async fn the_family_shows_every_operation_by_class_once_updated() {
        let registry = Registry::new();
        let (bucket, ops) = StoreOpsMetric::register(&registry, &Bucket::memory());
        let zero = "bucketq_store_operations_total{gcs_class=\"A\",op=\"put\"} 0\n";
        assert!(registry.render().contains(zero));
        bucket.put("a.json", b"{}".to_vec()).await.unwrap();
        bucket.get("a.json").await.unwrap();
        bucket.delete("a.json").await.unwrap();
        ops.update();
        let text = registry.render();
        for line in [
            "bucketq_store_operations_total{gcs_class=\"A\",op=\"put\"} 1\n",
            "bucketq_store_operations_total{gcs_class=\"B\",op=\"get\"} 1\n",
            "bucketq_store_operations_total{gcs_class=\"free\",op=\"delete\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert_eq!(ops.store().snapshot().total(), 3);
    }
}
