//! The buckets in memory, and the decisions GCS makes on them: generation preconditions,
//! copies, multipart assembly. No HTTP here; `http.rs` translates.

use std::collections::{BTreeMap, HashMap};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

/// Why GCS refuses a request; `http.rs` maps each to a status and an XML error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    /// `x-goog-if-generation-match` or `If-Match` / `If-Unmodified-Since` did not hold.
    PreconditionFailed,
    /// `If-None-Match` / `If-Modified-Since` held: the caller's copy is current.
    NotModified,
    InvalidRange,
    InvalidArgument(String),
    /// More than one write a second to one object name (when the limit is on).
    TooManyRequests,
}

/// One stored object: its bytes and the metadata GCS reports for it.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub data: Bytes,
    /// Changes on every write of this name, and is never reused within a server.
    pub generation: i64,
    pub updated: DateTime<Utc>,
    /// Quoted content hash: rewriting identical bytes keeps it, as GCS's MD5 ETag does.
    pub etag: String,
    /// `Content-Type`, `Cache-Control`, …, `x-goog-meta-*`, as given on upload (lowercase names).
    pub headers: Vec<(String, String)>,
}

/// Object names in one bucket, in name order.
pub(crate) type Bucket = BTreeMap<String, Object>;

#[derive(Debug)]
struct Upload {
    bucket: String,
    name: String,
    headers: Vec<(String, String)>,
    parts: BTreeMap<u32, Bytes>,
}

/// Every bucket of one server.
#[derive(Debug)]
pub(crate) struct Store {
    buckets: HashMap<String, Bucket>,
    uploads: HashMap<String, Upload>,
    next_generation: i64,
    next_upload: u64,
}

impl Store {
    pub fn new() -> Self {
        // GCS generations are microsecond timestamps; starting from one keeps them as wide.
        let next_generation = Utc::now().timestamp_micros();
        Store {
            buckets: HashMap::new(),
            uploads: HashMap::new(),
            next_generation,
            next_upload: 1,
        }
    }

    pub fn create_bucket(&mut self, name: &str) {
        self.buckets.entry(name.to_string()).or_default();
    }

    pub fn bucket(&self, name: &str) -> Result<&Bucket, Failure> {
        self.buckets.get(name).ok_or(Failure::NoSuchBucket)
    }

    pub fn get(&self, bucket: &str, name: &str) -> Result<&Object, Failure> {
        self.bucket(bucket)?.get(name).ok_or(Failure::NoSuchKey)
    }

    /// Write `name`, if `if_generation_match` holds: `0` means "only if absent", `n` means
    /// "only if the live generation is `n`".
    pub fn put(
        &mut self,
        bucket: &str,
        name: &str,
        data: Bytes,
        headers: Vec<(String, String)>,
        if_generation_match: Option<i64>,
    ) -> Result<Object, Failure> {
        let current = self.bucket(bucket)?.get(name).map(|o| o.generation);
        check_generation(current, if_generation_match)?;
        let object = Object {
            etag: content_etag(&data),
            data,
            generation: self.take_generation(),
            updated: Utc::now().trunc_subsecs(3),
            headers,
        };
        let objects = self.buckets.get_mut(bucket).ok_or(Failure::NoSuchBucket)?;
        objects.insert(name.to_string(), object.clone());
        Ok(object)
    }

    pub fn delete(&mut self, bucket: &str, name: &str) -> Result<(), Failure> {
        let objects = self.buckets.get_mut(bucket).ok_or(Failure::NoSuchBucket)?;
        objects.remove(name).map(|_| ()).ok_or(Failure::NoSuchKey)
    }

    /// Copy bytes and metadata (GCS's default `x-goog-metadata-directive: COPY`), under the same
    /// generation precondition on the destination as [`Store::put`].
    pub fn copy(
        &mut self,
        from: (&str, &str),
        to: (&str, &str),
        if_generation_match: Option<i64>,
    ) -> Result<Object, Failure> {
        let source = self.get(from.0, from.1)?.clone();
        self.put(to.0, to.1, source.data, source.headers, if_generation_match)
    }

    pub fn start_upload(
        &mut self,
        bucket: &str,
        name: &str,
        headers: Vec<(String, String)>,
    ) -> Result<String, Failure> {
        self.bucket(bucket)?;
        let id = format!("upload-{}", self.next_upload);
        self.next_upload += 1;
        let upload = Upload {
            bucket: bucket.to_string(),
            name: name.to_string(),
            headers,
            parts: BTreeMap::new(),
        };
        self.uploads.insert(id.clone(), upload);
        Ok(id)
    }

    /// Store one part and return its ETag.
    pub fn put_part(&mut self, upload: &str, number: u32, data: Bytes) -> Result<String, Failure> {
        let upload = self.uploads.get_mut(upload).ok_or(Failure::NoSuchUpload)?;
        let etag = content_etag(&data);
        upload.parts.insert(number, data);
        Ok(etag)
    }

    /// Join the listed parts (all parts when `numbers` is empty) into the object.
    pub fn complete_upload(
        &mut self,
        id: &str,
        (bucket, name): (&str, &str),
        numbers: &[u32],
    ) -> Result<Object, Failure> {
        let upload = self.uploads.get(id).ok_or(Failure::NoSuchUpload)?;
        if (upload.bucket.as_str(), upload.name.as_str()) != (bucket, name) {
            return Err(Failure::NoSuchUpload);
        }
        let numbers: Vec<u32> = if numbers.is_empty() {
            upload.parts.keys().copied().collect()
        } else {
            numbers.to_vec()
        };
        let mut data = BytesMut::new();
        for n in numbers {
            let part = upload
                .parts
                .get(&n)
                .ok_or_else(|| Failure::InvalidArgument(format!("part {n} was never uploaded")))?;
            data.extend_from_slice(part);
        }
        let headers = upload.headers.clone();
        let object = self.put(bucket, name, data.freeze(), headers, None)?;
        self.uploads.remove(id);
        Ok(object)
    }

    pub fn abort_upload(&mut self, id: &str) -> Result<(), Failure> {
        self.uploads
            .remove(id)
            .map(|_| ())
            .ok_or(Failure::NoSuchUpload)
    }

    fn take_generation(&mut self) -> i64 {
        self.next_generation += 1;
        self.next_generation
    }
}

/// GCS's `ifGenerationMatch`: `0` holds only when there is no live object.
pub(crate) fn check_generation(current: Option<i64>, wanted: Option<i64>) -> Result<(), Failure> {
    match (wanted, current) {
        (None, _) | (Some(0), None) => Ok(()),
        (Some(want), Some(have)) if want == have => Ok(()),
        _ => Err(Failure::PreconditionFailed),
    }
}

/// A quoted 32-hex-digit hash of the content, shaped like GCS's MD5 ETag.
fn content_etag(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut s = Store::new();
        s.create_bucket("b");
        s
    }

    #[test]
    fn generation_zero_means_create_only() {
        let mut s = store();
        let first = s.put("b", "k", Bytes::from("1"), vec![], Some(0)).unwrap();
        let again = s.put("b", "k", Bytes::from("2"), vec![], Some(0));
        assert_eq!(again.unwrap_err(), Failure::PreconditionFailed);
        assert_eq!(s.get("b", "k").unwrap().generation, first.generation);
    }

    #[test]
    fn compare_and_swap_on_generation() {
        let mut s = store();
        let v1 = s.put("b", "k", Bytes::from("1"), vec![], None).unwrap();
        let v2 = s
            .put("b", "k", Bytes::from("2"), vec![], Some(v1.generation))
            .unwrap();
        assert!(v2.generation > v1.generation);
        let stale = s.put("b", "k", Bytes::from("3"), vec![], Some(v1.generation));
        assert_eq!(stale.unwrap_err(), Failure::PreconditionFailed);
        let absent = s.put("b", "other", Bytes::from("x"), vec![], Some(v2.generation));
        assert_eq!(absent.unwrap_err(), Failure::PreconditionFailed);
    }

    #[test]
    fn identical_bytes_keep_the_etag_but_not_the_generation() {
        let mut s = store();
        let a = s.put("b", "k", Bytes::from("same"), vec![], None).unwrap();
        let b = s.put("b", "k", Bytes::from("same"), vec![], None).unwrap();
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.generation, b.generation);
    }

    #[test]
    fn unknown_bucket_is_its_own_failure() {
        let mut s = store();
        let put = s.put("nope", "k", Bytes::new(), vec![], None);
        assert_eq!(put.unwrap_err(), Failure::NoSuchBucket);
        assert_eq!(s.get("b", "k").unwrap_err(), Failure::NoSuchKey);
    }

    #[test]
    fn multipart_joins_parts_in_order() {
        let mut s = store();
        let id = s.start_upload("b", "k", vec![]).unwrap();
        s.put_part(&id, 2, Bytes::from("world")).unwrap();
        s.put_part(&id, 1, Bytes::from("hello ")).unwrap();
        let o = s.complete_upload(&id, ("b", "k"), &[1, 2]).unwrap();
        assert_eq!(o.data, Bytes::from("hello world"));
        assert_eq!(s.abort_upload(&id).unwrap_err(), Failure::NoSuchUpload);
    }
}
