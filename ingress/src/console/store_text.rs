//! How the console names the store to people: the command that prints an object with the
//! store's own tool (`gsutil cat`, `aws s3 cp … -`, `cat`), and whether reads are billed.

use queue_core::Bucket;

/// Whether the store is a cloud bucket (every listing billed as a Class A operation on GCS).
pub fn is_cloud(bucket: &Bucket) -> bool {
    let d = bucket.description();
    d.starts_with("gs://") || d.starts_with("s3://")
}

/// The command that prints `object`; `None` for an in-memory store.
pub fn cat_command(bucket: &Bucket, object: &str) -> Option<String> {
    let d = bucket.description().trim_end_matches('/');
    if d.starts_with("gs://") {
        Some(format!("gsutil cat {d}/{object}"))
    } else if d.starts_with("s3://") {
        Some(format!("aws s3 cp {d}/{object} -"))
    } else if d.starts_with("memory:") {
        None
    } else {
        Some(format!("cat {d}/{object}"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn bucket(description: &str) -> Bucket {
        Bucket::new(
            Arc::new(object_store::memory::InMemory::new()),
            "",
            description,
        )
    }

    #[test]
    fn each_store_gets_its_own_tool() {
        let o = "light/done/x.json";
        assert_eq!(
            cat_command(&bucket("gs://b/q"), o).as_deref(),
            Some("gsutil cat gs://b/q/light/done/x.json")
        );
        assert_eq!(
            cat_command(&bucket("s3://b"), o).as_deref(),
            Some("aws s3 cp s3://b/light/done/x.json -")
        );
        assert_eq!(
            cat_command(&bucket("./queue-data"), o).as_deref(),
            Some("cat ./queue-data/light/done/x.json")
        );
        assert_eq!(cat_command(&Bucket::memory(), o), None);
        assert!(is_cloud(&bucket("gs://b")) && !is_cloud(&Bucket::memory()));
    }
}
