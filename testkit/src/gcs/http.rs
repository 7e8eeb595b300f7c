//! The HTTP face of the double: the XML API requests object_store 0.14's GCS client sends, in
//! the shapes it parses. Handlers only translate; `state.rs` and `list.rs` decide.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use chrono::{DateTime, SubsecRound, Utc};
use percent_encoding::percent_decode_str;

use super::OpCounts;
use super::list::{ListQuery, list_page};
use super::state::{Failure, Object, Store};
use super::xml;

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub counts: Counters,
    /// The most entries a listing page holds, whatever `max-keys` asks.
    pub page_size: usize,
    /// Writes to one name closer together than this are answered 429.
    pub write_rate_limit: Option<std::time::Duration>,
    /// When each (bucket, name) was last written.
    pub last_write: Mutex<std::collections::HashMap<(String, String), std::time::Instant>>,
}

impl Shared {
    /// GCS's per-object mutation rate: refuse a write to a name written within the limit.
    fn throttle(&self, bucket: &str, name: &str) -> Result<(), Failure> {
        let Some(window) = self.write_rate_limit else {
            return Ok(());
        };
        let mut last = self.last_write.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        let key = (bucket.to_string(), name.to_string());
        if last
            .get(&key)
            .is_some_and(|t| now.duration_since(*t) < window)
        {
            return Err(Failure::TooManyRequests);
        }
        last.insert(key, now);
        Ok(())
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A handler that panicked left the map consistent (every change is one insert or
        // remove), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Requests served, by kind.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    put: AtomicU64,
    copy: AtomicU64,
    list: AtomicU64,
    multipart: AtomicU64,
    get: AtomicU64,
    head: AtomicU64,
    delete: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> OpCounts {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        OpCounts {
            put: read(&self.put),
            copy: read(&self.copy),
            list: read(&self.list),
            multipart: read(&self.multipart),
            get: read(&self.get),
            head: read(&self.head),
            delete: read(&self.delete),
        }
    }
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The router: `/{bucket}` lists, `/{bucket}/{object}` is everything else.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{bucket}", get(list_objects))
        .route("/{bucket}/{*object}", any(object))
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

type Params = Query<HashMap<String, String>>;

async fn list_objects(
    State(shared): State<Arc<Shared>>,
    Path(bucket): Path<String>,
    Query(params): Params,
) -> Response {
    count(&shared.counts.list);
    let max_keys = match params.get("max-keys").map(|v| v.parse::<usize>()) {
        None => 1000,
        Some(Ok(n)) => n.min(1000),
        Some(Err(_)) => return failure(Failure::InvalidArgument("bad max-keys".into())),
    };
    let query = ListQuery {
        prefix: params.get("prefix").cloned().unwrap_or_default(),
        delimiter: params.get("delimiter").cloned(),
        start_after: params.get("start-after").cloned(),
        token: params.get("continuation-token").cloned(),
        max_keys: max_keys.min(shared.page_size),
    };
    let store = shared.store();
    let objects = match store.bucket(&bucket) {
        Ok(objects) => objects,
        Err(f) => return failure(f),
    };
    let Some(page) = list_page(objects, &query) else {
        return failure(Failure::InvalidArgument("bad continuation-token".into()));
    };
    let body = xml::list_result(
        &bucket,
        &query.prefix,
        query.delimiter.as_deref(),
        query.max_keys,
        &page,
    );
    xml_response(StatusCode::OK, body)
}

async fn object(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path((bucket, name)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = &shared.counts;
    let upload = params.get("uploadId");
    let result = match method {
        Method::GET | Method::HEAD => {
            count(if method == Method::HEAD {
                &c.head
            } else {
                &c.get
            });
            read(
                &shared,
                &bucket,
                &name,
                &params,
                &headers,
                method == Method::HEAD,
            )
        }
        Method::PUT => match (upload, params.get("partNumber")) {
            (Some(id), Some(number)) => {
                count(&c.multipart);
                put_part(&shared, id, number, body)
            }
            _ if headers.contains_key("x-goog-copy-source") => {
                count(&c.copy);
                copy(&shared, &bucket, &name, &headers)
            }
            _ => {
                count(&c.put);
                put(&shared, &bucket, &name, &headers, body)
            }
        },
        Method::DELETE => {
            let done = match upload {
                Some(id) => {
                    count(&c.multipart);
                    shared.store().abort_upload(id)
                }
                None => {
                    count(&c.delete);
                    shared.store().delete(&bucket, &name)
                }
            };
            done.map(|()| StatusCode::NO_CONTENT.into_response())
        }
        Method::POST => {
            count(&c.multipart);
            match upload {
                Some(id) => complete_upload(&shared, id, &bucket, &name, &body),
                None if params.contains_key("uploads") => {
                    let kept = kept_headers(&headers);
                    let id = shared.store().start_upload(&bucket, &name, kept);
                    id.map(|id| {
                        xml_response(StatusCode::OK, xml::upload_started(&bucket, &name, &id))
                    })
                }
                None => Err(Failure::InvalidArgument(
                    "POST needs ?uploads or ?uploadId".into(),
                )),
            }
        }
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    result.unwrap_or_else(failure)
}

fn read(
    shared: &Shared,
    bucket: &str,
    name: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, Failure> {
    let store = shared.store();
    let object = store.get(bucket, name)?;
    // Only the live generation is kept: an older one is gone, as on a bucket without versioning.
    if let Some(wanted) = params.get("generation")
        && wanted.parse::<i64>().ok() != Some(object.generation)
    {
        return Err(Failure::NoSuchKey);
    }
    check_read_conditions(object, headers)?;
    let size = object.data.len() as u64;
    let range = match header_str(headers, header::RANGE) {
        Some(range) => parse_range(range, size)?,
        None => None,
    };
    let mut response = object_headers(Response::builder(), object);
    let data = match range {
        Some((start, end)) => {
            response = response
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"))
                .header(header::CONTENT_LENGTH, end - start + 1);
            object.data.slice(start as usize..=end as usize)
        }
        None => {
            response = response.header(header::CONTENT_LENGTH, size);
            object.data.clone()
        }
    };
    let body = if head {
        Body::empty()
    } else {
        Body::from(data)
    };
    Ok(response
        .body(body)
        .unwrap_or_else(|e| internal(&e.to_string())))
}

fn put(
    shared: &Shared,
    bucket: &str,
    name: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let if_generation = generation_match(headers)?;
    shared.throttle(bucket, name)?;
    let kept = kept_headers(headers);
    let object = shared
        .store()
        .put(bucket, name, body, kept, if_generation)?;
    Ok(written(&object, Body::empty()))
}

fn copy(
    shared: &Shared,
    bucket: &str,
    name: &str,
    headers: &HeaderMap,
) -> Result<Response, Failure> {
    let if_generation = generation_match(headers)?;
    shared.throttle(bucket, name)?;
    let source = header_str(headers, "x-goog-copy-source").unwrap_or_default();
    let source = percent_decode_str(source).decode_utf8_lossy();
    let (from_bucket, from_name) = source
        .trim_start_matches('/')
        .split_once('/')
        .ok_or_else(|| Failure::InvalidArgument(format!("bad x-goog-copy-source: {source}")))?;
    let object = shared
        .store()
        .copy((from_bucket, from_name), (bucket, name), if_generation)?;
    Ok(written(&object, Body::from(xml::copy_result(&object))))
}

fn put_part(shared: &Shared, id: &str, number: &str, body: Bytes) -> Result<Response, Failure> {
    let number = number
        .parse()
        .map_err(|_| Failure::InvalidArgument(format!("bad partNumber: {number}")))?;
    let etag = shared.store().put_part(id, number, body)?;
    Ok(Response::builder()
        .header(header::ETAG, etag)
        .body(Body::empty())
        .unwrap_or_else(|e| internal(&e.to_string())))
}

fn complete_upload(
    shared: &Shared,
    id: &str,
    bucket: &str,
    name: &str,
    body: &[u8],
) -> Result<Response, Failure> {
    let numbers = xml::part_numbers(&String::from_utf8_lossy(body));
    let object = shared
        .store()
        .complete_upload(id, (bucket, name), &numbers)?;
    let body = xml::upload_completed(bucket, name, &object);
    Ok(written(&object, Body::from(body)))
}

/// The answer to a write: the new generation and ETag.
fn written(object: &Object, body: Body) -> Response {
    Response::builder()
        .header(header::ETAG, &object.etag)
        .header("x-goog-generation", object.generation)
        .header("x-goog-metageneration", 1)
        .body(body)
        .unwrap_or_else(|e| internal(&e.to_string()))
}

/// The headers object_store reads back from GET and HEAD.
fn object_headers(
    mut response: axum::http::response::Builder,
    object: &Object,
) -> axum::http::response::Builder {
    response = response
        .header(header::ETAG, &object.etag)
        .header(header::LAST_MODIFIED, http_date(&object.updated))
        .header("x-goog-generation", object.generation)
        .header("x-goog-metageneration", 1)
        .header("x-goog-stored-content-length", object.data.len());
    for (k, v) in &object.headers {
        response = response.header(k, v);
    }
    response
}

/// The headers an upload sets that GCS stores with the object.
fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    const KEPT: [&str; 5] = [
        "content-type",
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
    ];
    let mut kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| KEPT.contains(&k.as_str()) || k.as_str().starts_with("x-goog-meta-"))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    if !kept.iter().any(|(k, _)| k == "content-type") {
        kept.push(("content-type".into(), "application/octet-stream".into()));
    }
    kept
}

fn generation_match(headers: &HeaderMap) -> Result<Option<i64>, Failure> {
    header_str(headers, "x-goog-if-generation-match")
        .map(|v| {
            v.trim().parse().map_err(|_| {
                Failure::InvalidArgument(format!("bad x-goog-if-generation-match: {v}"))
            })
        })
        .transpose()
}

/// `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since`, in RFC 9110's order.
fn check_read_conditions(object: &Object, headers: &HeaderMap) -> Result<(), Failure> {
    let updated = object.updated.trunc_subsecs(0);
    let etag_in = |list: &str| {
        list.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t.trim_matches('"') == object.etag.trim_matches('"'))
    };
    if let Some(list) = header_str(headers, header::IF_MATCH)
        && !etag_in(list)
    {
        return Err(Failure::PreconditionFailed);
    }
    if let Some(date) = header_date(headers, header::IF_UNMODIFIED_SINCE)
        && updated > date
    {
        return Err(Failure::PreconditionFailed);
    }
    if let Some(list) = header_str(headers, header::IF_NONE_MATCH)
        && etag_in(list)
    {
        return Err(Failure::NotModified);
    }
    if let Some(date) = header_date(headers, header::IF_MODIFIED_SINCE)
        && updated <= date
    {
        return Err(Failure::NotModified);
    }
    Ok(())
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as an inclusive range within `size`; `None` for a
/// header this server does not understand (served whole, as HTTP allows).
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, Failure> {
    let Some((first, last)) = value
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
    else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
        (Ok(start), Err(_)) if last.is_empty() => (start, size.saturating_sub(1)),
        (Err(_), Ok(n)) if first.is_empty() && n > 0 => {
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if range.0 >= size {
        return Err(Failure::InvalidRange);
    }
    Ok(Some(range))
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn header_date(headers: &HeaderMap, name: header::HeaderName) -> Option<DateTime<Utc>> {
    let value = header_str(headers, name)?;
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn http_date(time: &DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// The status and XML error GCS answers with; object_store turns 404 into `NotFound`, 412 into
/// `Precondition` (or `AlreadyExists` for create-only writes and copies), 304 into
/// `NotModified`.
fn failure(f: Failure) -> Response {
    let (status, code, message) = match &f {
        Failure::NoSuchBucket => (
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        ),
        Failure::NoSuchKey => (
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
        Failure::NoSuchUpload => (
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The requested upload was not found.",
        ),
        Failure::PreconditionFailed => (
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold.",
        ),
        Failure::NotModified => return StatusCode::NOT_MODIFIED.into_response(),
        Failure::InvalidRange => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range cannot be satisfied.",
        ),
        Failure::InvalidArgument(why) => (StatusCode::BAD_REQUEST, "InvalidArgument", why.as_str()),
        Failure::TooManyRequests => (
            StatusCode::TOO_MANY_REQUESTS,
            "rateLimitExceeded",
            "The object exceeded the rate limit for object mutation operations (create, update, and delete).",
        ),
    };
    xml_response(status, xml::error(code, message, &format!("{f:?}")))
}

fn internal(why: &str) -> Response {
    xml_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        xml::error("InternalError", "gcs test double failed", why),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_object_store_sends_them() {
        assert_eq!(parse_range("bytes=2-4", 10), Ok(Some((2, 4))));
        assert_eq!(parse_range("bytes=2-40", 10), Ok(Some((2, 9))));
        assert_eq!(parse_range("bytes=7-", 10), Ok(Some((7, 9))));
        assert_eq!(parse_range("bytes=-3", 10), Ok(Some((7, 9))));
        assert_eq!(parse_range("bytes=10-", 10), Err(Failure::InvalidRange));
        assert_eq!(parse_range("items=1-2", 10), Ok(None));
    }
}
