//! A small Pub/Sub REST client: `GET` a subscription, `:pull` (long poll), `:acknowledge`.
//! Nothing else is needed to receive bucket notifications, and a plain HTTPS client keeps the
//! 1 GB VM's worker small (no gRPC stack).
//!
//! Credentials are Application Default Credentials as object_store's GCS backend finds them
//! (`GOOGLE_APPLICATION_CREDENTIALS` key file, `gcloud auth application-default login`, the
//! metadata server on GCE), scoped `cloud-platform`. With `PUBSUB_EMULATOR_HOST` the client
//! talks plain HTTP to the emulator without credentials, as Google's libraries do.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use object_store::gcp::{GcpCredentialProvider, GoogleCloudStorageBuilder};
use serde::Deserialize;

/// The Pub/Sub service.
pub const GOOGLE_ENDPOINT: &str = "https://pubsub.googleapis.com";

/// How long one pull may wait for messages before the service answers with none.
pub const PULL_TIMEOUT: Duration = Duration::from_secs(90);

/// What went wrong talking to Pub/Sub.
#[derive(Debug, thiserror::Error)]
pub enum PubsubError {
    /// No answer (connection refused, DNS, reset).
    #[error("pubsub unreachable: op={op} ({source})")]
    Transport {
        /// `get`, `pull` or `acknowledge`.
        op: &'static str,
        /// The cause.
        source: reqwest::Error,
    },
    /// An answer other than 2xx.
    #[error("pubsub refused: op={op} status={status} ({body})")]
    Status {
        /// `get`, `pull` or `acknowledge`.
        op: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// No access token.
    #[error("no credentials for pubsub ({0})")]
    Credentials(String),
}

impl PubsubError {
    /// A long poll that ended without an answer: not a failure of the source.
    pub fn is_timeout(&self) -> bool {
        matches!(self, PubsubError::Transport { source, .. } if source.is_timeout())
    }
}

/// One message as `:pull` returns it, its data decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Give this to `:acknowledge`.
    pub ack_id: String,
    /// The message attributes.
    pub attributes: BTreeMap<String, String>,
    /// The payload (for GCS notifications: the object's JSON resource).
    pub data: Vec<u8>,
}

/// The client of one subscription.
#[derive(Clone)]
pub struct PubsubClient {
    http: reqwest::Client,
    base: String,
    subscription: String,
    credentials: Option<GcpCredentialProvider>,
}

impl std::fmt::Debug for PubsubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubsubClient")
            .field("base", &self.base)
            .field("subscription", &self.subscription)
            .field("authenticated", &self.credentials.is_some())
            .finish()
    }
}

impl PubsubClient {
    /// A client of `subscription` (`projects/P/subscriptions/S`) at `base`, with `credentials`
    /// (none for the emulator).
    pub fn new(
        base: &str,
        subscription: &str,
        credentials: Option<GcpCredentialProvider>,
    ) -> Result<Self, PubsubError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(PULL_TIMEOUT)
            .build()
            .map_err(|e| PubsubError::Credentials(format!("cannot build the HTTP client: {e}")))?;
        Ok(PubsubClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            subscription: subscription.to_string(),
            credentials,
        })
    }

    /// The client the environment asks for: `PUBSUB_EMULATOR_HOST` (plain HTTP, no
    /// credentials), else Google's endpoint with Application Default Credentials read from the
    /// `GOOGLE_*` and `HOME` variables in `vars`. Binaries pass the process environment.
    pub fn from_env(
        subscription: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<Self, PubsubError> {
        let get = |k: &str| vars.get(k).filter(|v| !v.is_empty());
        if let Some(host) = get("PUBSUB_EMULATOR_HOST") {
            let base = if host.contains("://") {
                host.clone()
            } else {
                format!("http://{host}")
            };
            return PubsubClient::new(&base, subscription, None);
        }
        let mut builder = GoogleCloudStorageBuilder::new().with_bucket_name("unused");
        for (k, v) in vars {
            if k.starts_with("GOOGLE_")
                && let Ok(key) = k.to_ascii_lowercase().parse()
            {
                builder = builder.with_config(key, v);
            }
        }
        if let Some(path) = get("GOOGLE_APPLICATION_CREDENTIALS") {
            builder = builder.with_application_credentials(path);
        }
        let gcs = builder
            .build()
            .map_err(|e| PubsubError::Credentials(e.to_string()))?;
        PubsubClient::new(
            GOOGLE_ENDPOINT,
            subscription,
            Some(Arc::clone(gcs.credentials())),
        )
    }

    /// The subscription's full name.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// Check the subscription exists and may be read (`GET`).
    pub async fn check(&self) -> Result<(), PubsubError> {
        let url = format!("{}/v1/{}", self.base, self.subscription);
        let req = self.http.get(url).timeout(Duration::from_secs(30));
        self.send("get", req).await.map(drop)
    }

    /// Wait for up to `max` messages (a long poll: the service answers when messages arrive or
    /// after a while with none).
    pub async fn pull(&self, max: u32) -> Result<Vec<Received>, PubsubError> {
        let url = format!("{}/v1/{}:pull", self.base, self.subscription);
        let body = serde_json::json!({ "returnImmediately": false, "maxMessages": max });
        let answer = self.send("pull", self.http.post(url).json(&body)).await?;
        Ok(decode_pull(&answer))
    }

    /// Acknowledge messages: they will not be delivered again.
    pub async fn acknowledge(&self, ack_ids: &[String]) -> Result<(), PubsubError> {
        if ack_ids.is_empty() {
            return Ok(());
        }
        let url = format!("{}/v1/{}:acknowledge", self.base, self.subscription);
        let body = serde_json::json!({ "ackIds": ack_ids });
        let req = self
            .http
            .post(url)
            .json(&body)
            .timeout(Duration::from_secs(30));
        self.send("acknowledge", req).await.map(drop)
    }

    async fn send(
        &self,
        op: &'static str,
        mut req: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, PubsubError> {
        if let Some(credentials) = &self.credentials {
            let token = credentials
                .get_credential()
                .await
                .map_err(|e| PubsubError::Credentials(e.to_string()))?;
            req = req.bearer_auth(&token.bearer);
        }
        let transport = |source| PubsubError::Transport { op, source };
        let response = req.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            let body: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            return Err(PubsubError::Status {
                op,
                status: status.as_u16(),
                body,
            });
        }
        Ok(bytes.to_vec())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullAnswer {
    #[serde(default)]
    received_messages: Vec<WireReceived>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireReceived {
    ack_id: String,
    #[serde(default)]
    message: WireMessage,
}

#[derive(Deserialize, Default)]
struct WireMessage {
    #[serde(default)]
    data: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// The messages of a `:pull` answer. A message whose data is not base64 keeps empty data (its
/// attributes still name the object); an answer that is not JSON has no messages.
fn decode_pull(answer: &[u8]) -> Vec<Received> {
    let Ok(answer) = serde_json::from_slice::<PullAnswer>(answer) else {
        tracing::warn!("pubsub pull answer is not the expected JSON; ignoring it");
        return Vec::new();
    };
    answer
        .received_messages
        .into_iter()
        .map(|m| Received {
            ack_id: m.ack_id,
            attributes: m.message.attributes,
            data: base64::engine::general_purpose::STANDARD
                .decode(m.message.data.as_bytes())
                .unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_answers_decode_with_or_without_messages() {
        assert!(decode_pull(b"{}").is_empty());
        assert!(decode_pull(b"not json").is_empty());
        let answer = br#"{"receivedMessages":[{"ackId":"a1","message":{"data":"eyJuYW1lIjoieCJ9","attributes":{"eventType":"OBJECT_FINALIZE"},"messageId":"1"}}]}"#;
        let got = decode_pull(answer);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ack_id, "a1");
        assert_eq!(got[0].data, br#"{"name":"x"}"#);
        assert_eq!(got[0].attributes["eventType"], "OBJECT_FINALIZE");
    }

    #[test]
    fn the_emulator_host_means_plain_http_without_credentials() {
        let vars = BTreeMap::from([(
            "PUBSUB_EMULATOR_HOST".to_string(),
            "127.0.0.1:8085".to_string(),
        )]);
        let client = PubsubClient::from_env("projects/p/subscriptions/s", &vars).unwrap();
        assert_eq!(client.base, "http://127.0.0.1:8085");
        assert!(client.credentials.is_none());
    }
}
