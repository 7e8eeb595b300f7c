//! Reading a Cloud Storage notification (payload format `JSON_API_V1`): which pending object it
//! announces, if any. The attributes carry what matters (`eventType`, `bucketId`, `objectId`,
//! `payloadFormat`); the JSON body (the object resource) is the fallback for the name.

use std::collections::BTreeMap;

use queue_core::Class;

/// What to do with one notification (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A new pending object of our class: claim it by this name (relative to the store root).
    Claim(String),
    /// Not for us: acknowledge and forget, for this reason.
    Ignore(String),
}

/// Where the store lives in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The bucket name (`bucketId`).
    pub bucket: String,
    /// The store's prefix inside it, without slashes at either end (may be empty).
    pub prefix: String,
    /// The class this worker serves.
    pub class: Class,
}

/// Decide what one notification means for the worker of `scope`.
pub fn decide(scope: &Scope, attributes: &BTreeMap<String, String>, data: &[u8]) -> Decision {
    let attr = |k: &str| attributes.get(k).map(String::as_str);
    let event = attr("eventType").unwrap_or_default();
    if event != "OBJECT_FINALIZE" {
        return Decision::Ignore(format!("event type {event:?}"));
    }
    let body: Option<serde_json::Value> = serde_json::from_slice(data).ok();
    let field = |k: &str| {
        body.as_ref()
            .and_then(|b| b.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let bucket = attr("bucketId")
        .map(str::to_string)
        .or_else(|| field("bucket"));
    if bucket.as_deref() != Some(scope.bucket.as_str()) {
        return Decision::Ignore(format!("bucket {bucket:?}"));
    }
    let Some(object) = attr("objectId")
        .map(str::to_string)
        .or_else(|| field("name"))
    else {
        return Decision::Ignore("no object name".into());
    };
    let name = if scope.prefix.is_empty() {
        Some(object.as_str())
    } else {
        object
            .strip_prefix(scope.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
    };
    let Some(name) = name else {
        return Decision::Ignore(format!("object {object:?} is outside the store"));
    };
    let prefix = super::super::pending_prefix(scope.class);
    match name.strip_prefix(&prefix) {
        Some(file) if queue_core::names::parse_pending_file(file).is_ok() => {
            Decision::Claim(name.to_string())
        }
        _ => Decision::Ignore(format!("object {object:?} is not a pending task of ours")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "20260101T000000.000Z_0190a0b0-0000-7000-8000-000000000001.json";

    fn attrs(event: &str, bucket: &str, object: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("eventType".into(), event.into()),
            ("bucketId".into(), bucket.into()),
            ("objectId".into(), object.into()),
            ("payloadFormat".into(), "JSON_API_V1".into()),
        ])
    }

    fn scope(prefix: &str) -> Scope {
        Scope {
            bucket: "b".into(),
            prefix: prefix.into(),
            class: Class::Heavy,
        }
    }

    #[test]
    fn a_finalized_pending_object_is_claimed_by_its_store_relative_name() {
        let name = format!("heavy/pending/{FILE}");
        assert!(queue_core::names::parse_pending_file(FILE).is_ok());
        assert_eq!(
            decide(&scope(""), &attrs("OBJECT_FINALIZE", "b", &name), b""),
            Decision::Claim(name.clone())
        );
        assert_eq!(
            decide(
                &scope("q/x"),
                &attrs("OBJECT_FINALIZE", "b", &format!("q/x/{name}")),
                b""
            ),
            Decision::Claim(name.clone())
        );
        // attributes missing: the JSON body names the object
        let body = format!(r#"{{"bucket":"b","name":"{name}"}}"#);
        let only_event = BTreeMap::from([("eventType".to_string(), "OBJECT_FINALIZE".to_string())]);
        assert_eq!(
            decide(&scope(""), &only_event, body.as_bytes()),
            Decision::Claim(name)
        );
    }

    #[test]
    fn everything_else_is_ignored_with_a_reason() {
        let name = format!("heavy/pending/{FILE}");
        for (a, why) in [
            (attrs("OBJECT_DELETE", "b", &name), "event type"),
            (attrs("OBJECT_FINALIZE", "other", &name), "bucket"),
            (
                attrs("OBJECT_FINALIZE", "b", &format!("light/pending/{FILE}")),
                "not a pending task",
            ),
            (
                attrs("OBJECT_FINALIZE", "b", "heavy/pending/junk.json"),
                "not a pending task",
            ),
            (
                attrs("OBJECT_FINALIZE", "b", "heavy/wake.json"),
                "not a pending",
            ),
        ] {
            match decide(&scope(""), &a, b"") {
                Decision::Ignore(reason) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{a:?} gave {other:?}"),
            }
        }
        match decide(&scope("q"), &attrs("OBJECT_FINALIZE", "b", &name), b"") {
            Decision::Ignore(reason) => assert!(reason.contains("outside the store"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
