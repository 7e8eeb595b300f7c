//! Who may use the console: whoever knows the API token (`INGRESS_API_TOKEN`). They type it
//! once into the login form and get a session cookie: `{expires}.{session id}.{mac}`, signed
//! with HMAC-SHA256 under a key derived from the token (changing the token logs everyone out).
//! The cookie is HttpOnly, SameSite=Strict, and Secure unless the console is reached on a
//! loopback host (plain `http://127.0.0.1` in `queuectl dev`).
//!
//! Every POST carries a CSRF token: the MAC of the session id under the same key, so it needs
//! no server-side storage and a page from another site cannot know it.

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::html::{self, Page, esc};
use crate::secret::Secret;
use crate::state::AppState;

/// The cookie's name.
pub const COOKIE: &str = "bucketq_session";
/// How long a session lasts.
pub const SESSION_SECS: i64 = 7 * 24 * 3600;

type HmacSha256 = Hmac<Sha256>;

/// The signing key of sessions and CSRF tokens, derived from the API token.
#[derive(Clone)]
pub struct Keys {
    key: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// Derive the console key from the API token.
    pub fn derive(token: &Secret) -> Self {
        let mut mac = HmacSha256::new_from_slice(token.expose().as_bytes())
            .expect("hmac takes any key length");
        mac.update(b"bucketq console session key v1");
        Keys {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, parts: &[&str]) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("hmac takes any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(b"|");
        }
        hex::encode(mac.finalize().into_bytes())
    }

    fn verify(&self, parts: &[&str], given_hex: &str) -> bool {
        let Ok(given) = hex::decode(given_hex) else {
            return false;
        };
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("hmac takes any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(b"|");
        }
        mac.verify_slice(&given).is_ok()
    }

    /// A new session cookie value for a session that ends at `expires` (unix seconds).
    pub fn issue(&self, session: &str, expires: i64) -> String {
        let exp = expires.to_string();
        format!("{exp}.{session}.{}", self.mac(&["session", &exp, session]))
    }

    /// The session id in a cookie value, if its MAC holds and it has not expired.
    pub fn check(&self, cookie: &str, now: i64) -> Option<String> {
        let mut it = cookie.splitn(3, '.');
        let (exp, session, mac) = (it.next()?, it.next()?, it.next()?);
        let expires: i64 = exp.parse().ok()?;
        (expires > now && self.verify(&["session", exp, session], mac)).then(|| session.into())
    }

    /// The CSRF token of a session.
    pub fn csrf(&self, session: &str) -> String {
        self.mac(&["csrf", session])
    }

    /// Whether `given` is the CSRF token of `session` (constant time).
    pub fn csrf_ok(&self, session: &str, given: &str) -> bool {
        self.verify(&["csrf", session], given)
    }
}

/// A logged-in visitor. As an extractor it redirects to the login form when there is no valid
/// session, and answers 404 when the console is off.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session id (random; the "who" of the action log).
    pub id: String,
    /// The CSRF token forms must carry.
    pub csrf: String,
    /// The key, to check CSRF tokens.
    pub keys: Keys,
}

impl Session {
    /// Refuse a POST whose CSRF token is missing or wrong (403).
    pub fn require_csrf(&self, given: Option<&str>) -> Result<(), Box<Response>> {
        if given.is_some_and(|g| self.keys.csrf_ok(&self.id, g)) {
            return Ok(());
        }
        tracing::warn!(who = %self.who(), "console POST without a valid CSRF token: refused");
        Err(Box::new(refused(
            StatusCode::FORBIDDEN,
            "This form is stale or came from another site (missing or wrong CSRF token). Reload the page and try again.",
        )))
    }

    /// A page for this session: navigation with the log-out form, the chat link in dev.
    pub fn page(&self, state: &AppState, title: impl Into<String>, body: String) -> Page {
        let mut page = Page::new(title, body);
        page.csrf = Some(self.csrf.clone());
        page.chat = state.dev_chat.is_some();
        page
    }

    /// How the action log names this session (never the token).
    pub fn who(&self) -> String {
        format!("console:{}", &self.id[..self.id.len().min(8)])
    }
}

/// The console key, when the console is on.
pub fn keys(state: &AppState) -> Option<Keys> {
    state.api_token.as_ref().map(Keys::derive)
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(keys) = keys(state) else {
            return Err(StatusCode::NOT_FOUND.into_response());
        };
        let now = state.queue.clock().now().timestamp();
        match cookie_value(&parts.headers, COOKIE).and_then(|c| keys.check(c, now)) {
            Some(id) => Ok(Session {
                csrf: keys.csrf(&id),
                id,
                keys,
            }),
            None => Err(Redirect::to("/ui/login").into_response()),
        }
    }
}

/// Whether the request came to a loopback host name (no `Secure` cookie then: plain http).
fn is_loopback_host(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Set-Cookie` value for a session (or for logging out, with an empty value).
pub fn set_cookie(value: &str, max_age: i64, headers: &HeaderMap) -> String {
    let secure = if is_loopback_host(headers) {
        ""
    } else {
        "; Secure"
    };
    format!("{COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

fn login_page(message: Option<&str>) -> Response {
    let message = message.map_or(String::new(), |m| {
        format!(r#"<p class="error">{}</p>"#, esc(m))
    });
    let body = format!(
        r#"<h1>Log in</h1>{message}<form method="post" action="/ui/login" class="login"><label>API token (<code>INGRESS_API_TOKEN</code>) <input type="password" name="token" autocomplete="current-password" autofocus></label><button>Log in</button></form><p class="hint">The token is checked once; the browser then keeps a signed session cookie for 7 days.</p>"#
    );
    Page::new("Log in", body).into_response()
}

/// `GET /ui/login`.
pub async fn login_form(State(state): State<AppState>) -> Response {
    if keys(&state).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    login_page(None)
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /ui/login`: check the token, set the session cookie.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let (Some(keys), Some(token)) = (keys(&state), state.api_token.as_ref()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !token.matches(form.token.trim().as_bytes()) {
        tracing::warn!("console login with a wrong token: refused");
        let mut response = login_page(Some("That is not the API token."));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    }
    let session = hex::encode(rand::random::<[u8; 16]>());
    let expires = state.queue.clock().now().timestamp() + SESSION_SECS;
    let cookie = set_cookie(&keys.issue(&session, expires), SESSION_SECS, &headers);
    tracing::info!(who = %format!("console:{}", &session[..8]), "console login");
    let mut response = Redirect::to("/ui").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The logout form's fields.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /ui/logout`.
pub async fn logout(session: Session, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let Err(refusal) = session.require_csrf(form.csrf.as_deref()) {
        return *refusal;
    }
    let mut response = Redirect::to("/ui/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie("", 0, &headers)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// An error page with a status.
pub fn refused(status: StatusCode, message: &str) -> Response {
    let body = format!(
        r#"<h1>Refused</h1><p class="error">{}</p>"#,
        html::esc(message)
    );
    let mut response = Page::new("Refused", body).into_response();
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::derive(&Secret::new("t0ken".to_string()))
    }

    #[test]
    fn a_cookie_checks_until_it_expires() {
        let k = keys();
        let c = k.issue("abc", 1000);
        assert_eq!(k.check(&c, 999).as_deref(), Some("abc"));
        assert_eq!(k.check(&c, 1000), None);
    }

    #[test]
    fn a_tampered_or_foreign_cookie_is_refused() {
        let k = keys();
        let c = k.issue("abc", 1000);
        assert_eq!(k.check(&c.replacen("abc", "abd", 1), 1), None);
        assert_eq!(k.check(&c.replacen("1000", "9999", 1), 1), None);
        let other = Keys::derive(&Secret::new("other".to_string()));
        assert_eq!(other.check(&c, 1), None);
        assert_eq!(k.check("garbage", 1), None);
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let k = keys();
        assert!(k.csrf_ok("s1", &k.csrf("s1")));
        assert!(!k.csrf_ok("s2", &k.csrf("s1")));
        assert!(!k.csrf_ok("s1", ""));
    }

    #[test]
    fn the_cookie_is_secure_except_on_loopback() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        let c = set_cookie("v", 10, &h);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"));
        assert!(!c.contains("Secure"));
        h.insert(header::HOST, HeaderValue::from_static("queue.example.com"));
        assert!(set_cookie("v", 10, &h).contains("; Secure"));
        h.insert(header::HOST, HeaderValue::from_static("[::1]:80"));
        assert!(!set_cookie("v", 10, &h).contains("Secure"));
    }
}
