//! The real Pub/Sub emulator (`gcloud beta emulators pubsub start`, shipped with the Cloud SDK;
//! it needs Java), started as a child process for tests, plus the calls a test makes to it:
//! create a topic and a subscription, and publish a notification exactly as Cloud Storage
//! formats one (`JSON_API_V1`: the object resource as data, and the attributes `eventType`,
//! `bucketId`, `objectId`, `payloadFormat`, `notificationConfig`, `objectGeneration`,
//! `eventTime`).
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::pubsub::PubsubEmulator;
//! let Some(emulator) = PubsubEmulator::start_or_skip("my test") else { return };
//! let sub = emulator.new_subscription().await; // a topic and its subscription, unique names
//! emulator.publish_finalize(&sub, "my-bucket", "heavy/pending/x.json").await;
//! # }
//! ```
//!
//! The emulator (gcloud, which starts Java in a process group of its own) runs under a `sh`
//! watchdog whose stdin is a pipe from the test process: the group is killed when the
//! emulator is dropped, and when the test process ends however it ends.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::util::{free_port, unique_name};

/// The project every emulator test uses.
pub const PROJECT: &str = "bucketq-test";

/// How long the emulator may take to answer (Java on a loaded two-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `"$@"` in the background and, when stdin closes, kills it and its process group
/// (gcloud makes a group of its own, with Java in it).
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null 3<&- &
child=$!
{ while read -r line; do :; done; kill -KILL -"$child" 2>/dev/null || kill -KILL "$child"; } <&3 &
exec 3<&-
wait
"#;

/// A running Pub/Sub emulator on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct PubsubEmulator {
    port: u16,
    watchdog: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    http: reqwest::Client,
}

/// A topic and its subscription on the emulator.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// `projects/P/topics/T`.
    pub topic: String,
    /// `projects/P/subscriptions/S`.
    pub name: String,
}

impl PubsubEmulator {
    /// `gcloud` on `PATH`, if any.
    pub fn gcloud() -> Option<PathBuf> {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("gcloud"))
                .find(|p| p.is_file())
        })
    }

    /// Start an emulator, or — only when `gcloud` is not installed — say loudly that `test`
    /// is skipped and return `None`.
    pub fn start_or_skip(test: &str) -> Option<PubsubEmulator> {
        if Self::gcloud().is_none() {
            eprintln!(
                "\n\n*** SKIPPED {test}: gcloud is not on PATH, so the Pub/Sub emulator cannot run. Install the Cloud SDK (scripts/install-test-tools.sh says how). ***\n"
            );
            return None;
        }
        Some(Self::start_on(free_port()))
    }

    /// Start an emulator on `port` and wait until it answers. Panics with the emulator's
    /// output if it does not within 90 s.
    pub fn start_on(port: u16) -> PubsubEmulator {
        let gcloud = Self::gcloud().expect("testkit: gcloud is not on PATH");
        let log = std::env::temp_dir().join(format!("{}.log", unique_name("pubsub-emulator")));
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("pubsub-watchdog")
            .arg(&gcloud)
            .args(["beta", "emulators", "pubsub", "start", "--quiet"])
            .arg(format!("--host-port=127.0.0.1:{port}"))
            .arg(format!("--project={PROJECT}"))
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(&log).expect("testkit: create emulator log"))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&log)
                    .expect("testkit: open emulator log"),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("testkit: cannot start the Pub/Sub emulator: {e}"));
        let stdin = watchdog.stdin.take();
        let emulator = PubsubEmulator {
            port,
            watchdog,
            stdin,
            log,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while !emulator.answers() {
            if Instant::now() > deadline {
                panic!(
                    "testkit: the Pub/Sub emulator did not answer on port {port} within {START_TIMEOUT:?}; it said:\n{}",
                    emulator.output()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        emulator
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200")
    }

    /// What the emulator printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, the value of `PUBSUB_EMULATOR_HOST`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/v1/{path}", self.port)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        // The emulator may close a pooled connection just as it is reused: try again.
        let mut tries = 0;
        let response = loop {
            tries += 1;
            match self
                .http
                .request(method.clone(), self.url(path))
                .json(&body)
                .send()
                .await
            {
                Ok(response) => break response,
                Err(e) if tries < 3 => {
                    eprintln!("testkit: pubsub emulator {method} {path}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("testkit: pubsub emulator {method} {path}: {e}"),
            }
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "testkit: pubsub emulator {method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Create a topic and a subscription to it (ack deadline 10 s), with unique names.
    pub async fn new_subscription(&self) -> Subscription {
        let id = unique_name("q");
        let topic = format!("projects/{PROJECT}/topics/{id}");
        let name = format!("projects/{PROJECT}/subscriptions/{id}");
        self.create(&Subscription { topic, name }).await
    }

    /// Create `sub`'s topic and subscription (after a restart, the emulator has forgotten them).
    pub async fn create(&self, sub: &Subscription) -> Subscription {
        self.call(reqwest::Method::PUT, &sub.topic, serde_json::json!({}))
            .await;
        self.call(
            reqwest::Method::PUT,
            &sub.name,
            serde_json::json!({ "topic": sub.topic, "ackDeadlineSeconds": 10 }),
        )
        .await;
        sub.clone()
    }

    /// Publish what Cloud Storage publishes when `object` is created in `bucket`.
    pub async fn publish_finalize(&self, sub: &Subscription, bucket: &str, object: &str) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let generation = chrono::Utc::now().timestamp_micros().to_string();
        let resource = serde_json::json!({
            "kind": "storage#object",
            "id": format!("{bucket}/{object}/{generation}"),
            "selfLink": format!("https://www.googleapis.com/storage/v1/b/{bucket}/o/{}", object.replace('/', "%2F")),
            "name": object,
            "bucket": bucket,
            "generation": generation,
            "metageneration": "1",
            "contentType": "application/json",
            "timeCreated": now,
            "updated": now,
            "storageClass": "STANDARD",
            "size": "512",
        });
        let data = base64::engine::general_purpose::STANDARD.encode(resource.to_string());
        let attributes = serde_json::json!({
            "notificationConfig": format!("projects/_/buckets/{bucket}/notificationConfigs/1"),
            "eventType": "OBJECT_FINALIZE",
            "payloadFormat": "JSON_API_V1",
            "bucketId": bucket,
            "objectId": object,
            "objectGeneration": generation,
            "eventTime": now,
        });
        self.call(
            reqwest::Method::POST,
            &format!("{}:publish", sub.topic),
            serde_json::json!({ "messages": [{ "data": data, "attributes": attributes }] }),
        )
        .await;
    }

    /// Pull without waiting: how many messages are deliverable now.
    pub async fn deliverable(&self, sub: &Subscription) -> usize {
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("{}:pull", sub.name),
                serde_json::json!({ "returnImmediately": true, "maxMessages": 1000 }),
            )
            .await;
        answer["receivedMessages"].as_array().map_or(0, Vec::len)
    }

    /// Stop the emulator now (its topics and subscriptions are lost).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        drop(self.stdin.take()); // the watchdog stops the emulator's process group
        let _ = self.watchdog.wait();
        // The port is free once nothing answers on it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PubsubEmulator {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.kill();
        }
    }
}
