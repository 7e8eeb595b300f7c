//! Handler outputs: Markdown reports and operator alerts a handler asks the worker to deliver,
//! so a handler needs no credentials of its own — the worker already has the bucket and the bot.
//!
//! A handler that exits 0 with a JSON object on stdout may add:
//!
//! ```json
//! { "summary": "짧은 요약",
//!   "results": [{ "name": "content_ideas/2026-03-01.md", "markdown": "# …" }],
//!   "alerts":  [{ "cause": "sync-check:stuck-lease", "text": "…" }] }
//! ```
//!
//! Each `results` entry is written to `results/{name}` (plain Markdown, one Class A write each)
//! *before* the task is committed, and the committed result keeps the object names and, as
//! `report`, the first report's text up to [`REPORT_IN_RESULT`] bytes — what a follow-up
//! replying to the job's summary carries as its context (docs/ingress.md, "Follow-ups"). `alerts` stay in the result; the runner hands them to
//! [`crate::alerts`] after the commit. A malformed entry fails the task with a message naming
//! it (a handler bug does not go away by retrying); a store error retries it.

use queue_core::{Bucket, Outcome};
use serde_json::{Map, Value};

/// Where reports go in the bucket.
pub const RESULTS_PREFIX: &str = "results/";
/// How much of the first report the committed result keeps.
pub const REPORT_IN_RESULT: usize = 8 * 1024;
/// The largest report accepted, in bytes.
pub const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// One report to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The object's full name (`results/…`).
    pub object: String,
    /// Its Markdown.
    pub markdown: String,
}

/// What a result asks for (pure): the reports to write and the result to commit instead.
pub fn split(result: &Value) -> Result<(Vec<Report>, Value), String> {
    let Some(entries) = result.get("results") else {
        return Ok((Vec::new(), result.clone()));
    };
    let entries = entries
        .as_array()
        .ok_or("handler output: `results` must be a list of {name, markdown}")?;
    let mut reports = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("handler output: results[{i}] has no string `name`"))?;
        let markdown = entry
            .get("markdown")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("handler output: results[{i}] has no string `markdown`"))?;
        validate_name(name).map_err(|e| format!("handler output: results[{i}]: {e}"))?;
        if markdown.len() > MAX_REPORT_BYTES {
            return Err(format!(
                "handler output: results[{i}] ({name}) is {} bytes; at most {MAX_REPORT_BYTES}",
                markdown.len()
            ));
        }
        reports.push(Report {
            object: format!("{RESULTS_PREFIX}{name}"),
            markdown: markdown.to_string(),
        });
    }
    let mut kept: Map<String, Value> = result.as_object().cloned().unwrap_or_default();
    kept.insert(
        "results".into(),
        Value::from(reports.iter().map(|r| r.object.clone()).collect::<Vec<_>>()),
    );
    if let Some(first) = reports.first() {
        kept.insert(
            "report".into(),
            Value::from(truncate_bytes(&first.markdown, REPORT_IN_RESULT)),
        );
    }
    Ok((reports, Value::Object(kept)))
}

fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

/// A report name: relative, `/`-separated segments of `A-Z a-z 0-9 . _ -`, ending in `.md`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok_segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if name.len() > 200 || !name.ends_with(".md") || !name.split('/').all(ok_segment) {
        return Err(format!(
            "bad report name {name:?}: use relative segments of A-Z a-z 0-9 . _ - ending in .md, e.g. content_ideas/2026-03-01.md"
        ));
    }
    Ok(())
}

/// Write the reports a `Done` outcome names and return the outcome to commit: `Done` with
/// the names instead of the Markdown, `Fail` for a malformed output, `Retry` when the store
/// did not take a report.
pub async fn deliver(bucket: &Bucket, outcome: Outcome) -> Outcome {
    let Outcome::Done(result) = outcome else {
        return outcome;
    };
    let (reports, kept) = match split(&result) {
        Ok(split) => split,
        Err(error) => return Outcome::Fail { error },
    };
    for report in &reports {
        let bytes = report.markdown.clone().into_bytes();
        if let Err(e) = bucket
            .put_file(&report.object, bytes, "text/markdown; charset=utf-8")
            .await
        {
            return Outcome::Retry {
                error: format!("could not write the report {}: {e}", report.object),
                after: None,
            };
        }
        tracing::info!(object = %report.object, "report written");
    }
    Outcome::Done(kept)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reports_are_split_off_and_replaced_by_their_names() {
        let (reports, kept) = split(&json!({
            "summary": "아이디어 3개",
            "results": [{"name": "content_ideas/2026-03-01.md", "markdown": "# 아이디어"}],
        }))
        .unwrap();
        assert_eq!(reports[0].object, "results/content_ideas/2026-03-01.md");
        assert_eq!(reports[0].markdown, "# 아이디어");
        assert_eq!(
            kept,
            json!({"summary": "아이디어 3개", "results": ["results/content_ideas/2026-03-01.md"],
                   "report": "# 아이디어"})
        );
        let plain = json!({"in_sync": true});
        assert_eq!(split(&plain).unwrap(), (Vec::new(), plain.clone()));
        assert_eq!(split(&json!("text")).unwrap().1, json!("text"));
    }

    #[test]
    fn the_result_keeps_a_bounded_copy_of_the_first_report() {
        let long = "가".repeat(REPORT_IN_RESULT); // 3 bytes a character
        let (_, kept) = split(&json!({"results": [{"name": "a.md", "markdown": long}]})).unwrap();
        let report = kept["report"].as_str().unwrap();
        assert!(report.len() <= REPORT_IN_RESULT + 3, "{}", report.len());
        assert!(report.ends_with('…'));
    }

    #[test]
    fn malformed_report_entries_are_named() {
        for (bad, says) in [
            (json!({"results": "x"}), "must be a list"),
            (
                json!({"results": [{"markdown": "x"}]}),
                "results[0] has no string `name`",
            ),
            (
                json!({"results": [{"name": "a.md"}]}),
                "no string `markdown`",
            ),
            (
                json!({"results": [{"name": "../a.md", "markdown": ""}]}),
                "bad report name",
            ),
            (
                json!({"results": [{"name": "/a.md", "markdown": ""}]}),
                "bad report name",
            ),
            (
                json!({"results": [{"name": "a.txt", "markdown": ""}]}),
                "ending in .md",
            ),
            (
                json!({"results": [{"name": "a b.md", "markdown": ""}]}),
                "bad report name",
            ),
        ] {
            let err = split(&bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn delivered_reports_are_plain_markdown_objects() {
        let bucket = Bucket::memory();
        let out = deliver(
            &bucket,
            Outcome::Done(json!({"results": [{"name": "r/x.md", "markdown": "# 제목\n"}]})),
        )
        .await;
        assert_eq!(
            out,
            Outcome::Done(json!({"results": ["results/r/x.md"], "report": "# 제목\n"}))
        );
        let obj = bucket.get("results/r/x.md").await.unwrap().unwrap();
        assert_eq!(obj.bytes.as_ref(), "# 제목\n".as_bytes());
        let bad = deliver(&bucket, Outcome::Done(json!({"results": [{}]}))).await;
        assert!(matches!(bad, Outcome::Fail { .. }));
        let retry = Outcome::Retry {
            error: "x".into(),
            after: None,
        };
        assert_eq!(deliver(&bucket, retry.clone()).await, retry);
    }
}
