//! Names of the counted operations and of GCS's classes: the labels of the
//! `bucketq_store_operations_total` metric (docs/ingress.md, docs/workers.md), the same words
//! as the benchmark reports' JSON keys.

use super::counting::{CountedOp, OpClass};

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
}
