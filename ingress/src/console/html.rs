//! HTML output: the one escaping helper every piece of task data goes through, and the page
//! frame (header, navigation, the embedded style sheet's link).
//!
//! Pages are built with `format!` and [`esc`]; nothing user-supplied reaches a page any other
//! way. Attribute values are quoted with `"`, which [`esc`] escapes too.

use std::fmt::Write as _;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Escape text for HTML element content and double-quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a path or query component (ids, schedule names, object names).
pub fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A finished page.
#[derive(Debug)]
pub struct Page {
    /// The `<title>` (escaped here).
    pub title: String,
    /// The body, already escaped where needed.
    pub body: String,
    /// Seconds between automatic reloads, if any.
    pub refresh: Option<u64>,
    /// The session's CSRF token: the navigation (with its log-out form) is shown when set.
    pub csrf: Option<String>,
    /// Whether the dev chat exists (shown in the navigation).
    pub chat: bool,
}

impl Page {
    /// A page without navigation or refresh (see `Session::page` for a logged-in one).
    pub fn new(title: impl Into<String>, body: String) -> Self {
        Page {
            title: title.into(),
            body,
            refresh: None,
            csrf: None,
            chat: false,
        }
    }

    /// The full document.
    pub fn render(&self) -> String {
        let nav = if let Some(csrf) = &self.csrf {
            let chat = if self.chat {
                r#"<a href="/ui/chat">Chat (dev)</a>"#
            } else {
                ""
            };
            format!(
                r#"<nav><a href="/ui">Overview</a><a href="/ui/tasks?class=light&amp;state=failed">Tasks</a><a href="/ui/invalid">Quarantine</a>{chat}<form method="post" action="/ui/logout">{csrf}<button>Log out</button></form></nav>"#,
                csrf = csrf_field(csrf)
            )
        } else {
            String::new()
        };
        let refresh = self.refresh.map_or(String::new(), |s| {
            format!(
                r#"<script>setTimeout(function(){{location.reload()}},{ms});</script>"#,
                ms = s * 1000
            )
        });
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title} · bucketq</title><link rel=\"stylesheet\" href=\"/ui/style.css\"></head><body><header><strong>bucketq</strong>{nav}</header><main>{body}</main>{refresh}</body></html>\n",
            title = esc(&self.title),
            body = self.body,
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        html_response(self.render())
    }
}

/// A `text/html` answer that no other site may frame and no cache keeps.
pub fn html_response(body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

/// A hidden form field carrying the CSRF token.
pub fn csrf_field(token: &str) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(token)
    )
}

/// A one-button POST form.
pub fn button(action: &str, label: &str, csrf: &str, extra: &str) -> String {
    format!(
        r#"<form class="inline" method="post" action="{action}">{csrf}{extra}<button>{label}</button></form>"#,
        action = esc(action),
        csrf = csrf_field(csrf),
        label = esc(label),
    )
}

/// A table from a header row and already-rendered cells.
pub fn table(head: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!(r#"<p class="empty">{}</p>"#, esc(empty));
    }
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_every_markup_character() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(esc("보고서 작성"), "보고서 작성");
    }

    #[test]
    fn url_part_encodes_everything_but_unreserved() {
        assert_eq!(url_part("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(url_part("daily-report_1.x"), "daily-report_1.x");
    }

    #[test]
    fn a_page_escapes_its_title() {
        let page = Page::new("<b>", String::new()).render();
        assert!(page.contains("<title>&lt;b&gt; · bucketq</title>"));
    }
}
