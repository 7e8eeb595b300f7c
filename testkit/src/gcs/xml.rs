//! The XML bodies GCS's XML API answers with, for the requests object_store sends.

use std::fmt::Write;

use chrono::SecondsFormat;

use super::list::ListPage;
use super::state::Object;

const HEADER: &str = "<?xml version='1.0' encoding='UTF-8'?>";

/// `<Error><Code>…</Code><Message>…</Message><Details>…</Details></Error>`.
pub(crate) fn error(code: &str, message: &str, details: &str) -> String {
    format!(
        "{HEADER}<Error><Code>{}</Code><Message>{}</Message><Details>{}</Details></Error>",
        escape(code),
        escape(message),
        escape(details)
    )
}

/// The listing page, shaped like S3's `ListObjectsV2` (which GCS answers `list-type=2` with).
/// All `Contents` come before all `CommonPrefixes`: object_store's parser wants each list in
/// one run.
pub(crate) fn list_result(
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    max_keys: usize,
    page: &ListPage<'_>,
) -> String {
    let mut out = format!(
        "{HEADER}<ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01\"><Name>{}</Name><Prefix>{}</Prefix><MaxKeys>{max_keys}</MaxKeys><KeyCount>{}</KeyCount><IsTruncated>{}</IsTruncated>",
        escape(bucket),
        escape(prefix),
        page.objects.len() + page.prefixes.len(),
        page.next_token.is_some(),
    );
    if let Some(delimiter) = delimiter {
        let _ = write!(out, "<Delimiter>{}</Delimiter>", escape(delimiter));
    }
    for (name, object) in &page.objects {
        let _ = write!(
            out,
            "<Contents><Key>{}</Key><Generation>{}</Generation><MetaGeneration>1</MetaGeneration><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size></Contents>",
            escape(name),
            object.generation,
            object.updated.to_rfc3339_opts(SecondsFormat::Millis, true),
            escape(&object.etag),
            object.data.len(),
        );
    }
    for prefix in &page.prefixes {
        let _ = write!(
            out,
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            escape(prefix)
        );
    }
    if let Some(token) = &page.next_token {
        let _ = write!(
            out,
            "<NextContinuationToken>{}</NextContinuationToken>",
            escape(token)
        );
    }
    out.push_str("</ListBucketResult>");
    out
}

/// The answer to a copy.
pub(crate) fn copy_result(object: &Object) -> String {
    format!(
        "{HEADER}<CopyObjectResult><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
        object.updated.to_rfc3339_opts(SecondsFormat::Millis, true),
        escape(&object.etag)
    )
}

/// The answer to `POST ?uploads`.
pub(crate) fn upload_started(bucket: &str, name: &str, upload_id: &str) -> String {
    format!(
        "{HEADER}<InitiateMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
        escape(bucket),
        escape(name),
        escape(upload_id)
    )
}

/// The answer to `POST ?uploadId=…`.
pub(crate) fn upload_completed(bucket: &str, name: &str, object: &Object) -> String {
    format!(
        "{HEADER}<CompleteMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
        escape(bucket),
        escape(name),
        escape(&object.etag)
    )
}

/// The part numbers listed in a `CompleteMultipartUpload` body, in order. object_store lists
/// every part it uploaded, so nothing else in the body matters here.
pub(crate) fn part_numbers(body: &str) -> Vec<u32> {
    body.split("<PartNumber>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next()?.trim().parse().ok())
        .collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_names() {
        assert_eq!(escape("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
    }

    #[test]
    fn reads_part_numbers_from_a_complete_request() {
        let body = "<CompleteMultipartUpload><Part><ETag>\"x\"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>\"y\"</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(part_numbers(body), [1, 2]);
    }
}
