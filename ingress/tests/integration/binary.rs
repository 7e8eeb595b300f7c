//! The real `ingress` binary over HTTP: started on a free port with a temporary local store
//! and the fake Bot API behind `TELEGRAM_API_URL`, stopped with SIGTERM.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::telegram::FakeBotApi;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::*;

/// A running ingress process. Killed on drop if the test did not stop it.
struct Ingress {
    child: Child,
    url: String,
    http: reqwest::Client,
    logs: tokio::task::JoinHandle<String>,
}

fn command(store: &Path, fake: &FakeBotApi) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ingress"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("INGRESS_BIND", "127.0.0.1")
        .env("QUEUE_STORE", store)
        .env("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
        .env("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("TELEGRAM_ALLOWED_CHAT_IDS", format!("{CHAT},{CHANNEL}"))
        .env("TELEGRAM_API_URL", fake.url())
        .env("INGRESS_API_TOKEN", API_TOKEN)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

impl Ingress {
    async fn start(mut cmd: Command) -> Ingress {
        let mut child = cmd.spawn().expect("spawn ingress");
        // drain stderr so logging never blocks on a full pipe; the test reads it at the end
        let stderr = child.stderr.take().unwrap();
        let logs = tokio::spawn(async move {
            let mut out = String::new();
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                out.push_str(&line);
                out.push('\n');
            }
            out
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("ingress printed its address within 30s")
            .expect("read stdout")
            .expect("a line on stdout");
        let url = line
            .strip_prefix("ingress listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Ingress {
            child,
            url,
            http,
            logs,
        }
    }

    async fn webhook(
        &self,
        body: impl Into<reqwest::Body>,
        secret: Option<&str>,
    ) -> reqwest::StatusCode {
        let mut req = self
            .http
            .post(format!("{}/telegram/webhook", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        req.send().await.expect("webhook answers").status()
    }

    /// POST a body the server refuses before reading it all. The server answers 413 and
    /// closes; an HTTP client still sending may see a reset instead of the answer, so write
    /// on one task and read the status line on another.
    async fn raw_status(&self, body: &str, secret: &str) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.url.trim_start_matches("http://").to_string();
        let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let request = format!(
            "POST /telegram/webhook HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             x-telegram-bot-api-secret-token: {secret}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let writer = tokio::spawn(async move {
            // the server may stop reading and close: a failed write is expected
            let _ = write.write_all(request.as_bytes()).await;
        });
        let mut head = Vec::new();
        let mut buf = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = read.read(&mut buf).await.expect("read the status line");
            assert!(n > 0, "connection closed before a status line");
            head.extend_from_slice(&buf[..n]);
        }
        writer.abort();
        let line = String::from_utf8_lossy(&head);
        line.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad status line: {line}"))
    }

    /// SIGTERM, wait for the exit, and return its status and everything it logged.
    async fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().expect("running").to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("exits within 30s of SIGTERM")
            .unwrap();
        (status, self.logs.await.unwrap())
    }
}

/// Pending task files in a local store.
fn pending_files(store: &Path, class: &str) -> Vec<Value> {
    let dir = store.join(class).join("pending");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn the_binary_serves_the_webhook_and_the_api_and_stops_on_sigterm() {
    let store = tempfile::tempdir().unwrap();
    let fake = FakeBotApi::builder()
        .token(BOT_TOKEN)
        .file(PHOTO_FILE_ID, "photos/file_7.jpg", PHOTO_BYTES)
        .start()
        .await;
    let ingress = Ingress::start(command(store.path(), &fake)).await;

    let health = ingress
        .http
        .get(format!("{}/healthz", ingress.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // authentication and bad bodies
    let text = fixture("text").to_string();
    assert_eq!(ingress.webhook(text.clone(), None).await, 401);
    assert_eq!(ingress.webhook(text.clone(), Some("wrong")).await, 401);
    assert_eq!(
        ingress.webhook("{not json", Some(WEBHOOK_SECRET)).await,
        400
    );
    let huge = format!(
        r#"{{"update_id":1,"message":{{"text":"{}"}}}}"#,
        "x".repeat(2 << 20)
    );
    assert_eq!(ingress.raw_status(&huge, WEBHOOK_SECRET).await, 413);
    assert!(pending_files(store.path(), "heavy").is_empty());
    assert!(pending_files(store.path(), "light").is_empty());

    // a stranger: 200, nothing
    let stranger = from_chat(fixture("text"), STRANGER).to_string();
    assert_eq!(ingress.webhook(stranger, Some(WEBHOOK_SECRET)).await, 200);

    // a request, delivered twice: one task, one reply
    assert_eq!(
        ingress.webhook(text.clone(), Some(WEBHOOK_SECRET)).await,
        200
    );
    assert_eq!(ingress.webhook(text, Some(WEBHOOK_SECRET)).await, 200);
    let heavy = pending_files(store.path(), "heavy");
    assert_eq!(heavy.len(), 1);
    assert_eq!(heavy[0]["labels"]["class_rule"], json!("analysis"));
    assert_eq!(heavy[0]["idempotency_key"], json!("tg-update-815736001"));
    fake.wait_for_calls("sendMessage", 1).await;
    assert_eq!(
        fake.messages_to(CHAT)
            .iter()
            .map(|m| without_footer(m))
            .collect::<Vec<_>>(),
        vec![OFFLINE.to_string()]
    );

    // a photo: on disk under attachments/ before the 200
    assert_eq!(
        ingress
            .webhook(fixture("photo").to_string(), Some(WEBHOOK_SECRET))
            .await,
        200
    );
    let photo = store
        .path()
        .join("attachments/tg-update-815736002/photo-AQADlarge1280.jpg");
    assert_eq!(std::fs::read(&photo).expect("photo stored"), PHOTO_BYTES);
    assert_eq!(pending_files(store.path(), "heavy").len(), 2);

    // the task API
    let url = format!("{}/v1/tasks", ingress.url);
    let unauth = ingress
        .http
        .post(&url)
        .json(&json!({"class": "light", "kind": "backup"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    let created = ingress
        .http
        .post(&url)
        .bearer_auth(API_TOKEN)
        .json(&json!({"class": "light", "kind": "backup", "idempotency_key": "b-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["created"], json!(true));
    let bad = ingress
        .http
        .post(&url)
        .bearer_auth(API_TOKEN)
        .json(&json!({"class": "light", "kind": "backup", "delay": "later"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let err: Value = bad.json().await.unwrap();
    assert_eq!(err["error"]["field"], json!("delay"));

    let (status, logs) = ingress.terminate().await;
    assert!(
        status.success(),
        "graceful exit on SIGTERM: {status:?}\n{logs}"
    );
    assert!(logs.contains("SIGTERM"), "{logs}");
    for secret in [BOT_TOKEN, WEBHOOK_SECRET, API_TOKEN] {
        assert!(!logs.contains(secret), "a secret reached the log:\n{logs}");
    }
    assert!(
        logs.contains("not allowed"),
        "the stranger is logged: {logs}"
    );
    assert!(
        !logs.contains("브랜드 전략 분석해줘"),
        "message texts are not logged:\n{logs}"
    );
}

#[tokio::test]
async fn the_binary_names_a_missing_secret_and_never_logs_secrets() {
    let store = tempfile::tempdir().unwrap();
    let fake = FakeBotApi::start().await;
    let mut cmd = command(store.path(), &fake);
    cmd.env_remove("TELEGRAM_WEBHOOK_SECRET");
    let out = cmd.output().await.unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TELEGRAM_WEBHOOK_SECRET"), "{stderr}");
    assert!(!stderr.contains(BOT_TOKEN), "{stderr}");

    let mut cmd = command(store.path(), &fake);
    cmd.env_remove("INGRESS_API_TOKEN");
    let out = cmd.output().await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("INGRESS_API_TOKEN"));
}

#[tokio::test]
async fn help_documents_every_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ingress"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in [
        "--store",
        "QUEUE_STORE",
        "PORT",
        "--rules",
        "INGRESS_RULES",
        "INGRESS_LANG",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "TELEGRAM_ALLOWED_CHAT_IDS",
        "TELEGRAM_API_URL",
        "INGRESS_API_TOKEN",
        "set-webhook",
    ] {
        assert!(help.contains(name), "--help lacks {name}:\n{help}");
    }
}

#[tokio::test]
async fn set_webhook_registers_url_secret_updates_and_commands() {
    let fake = FakeBotApi::builder()
        .token(BOT_TOKEN)
        .bot_username("queue_bot")
        .start()
        .await;
    let out = Command::new(env!("CARGO_BIN_EXE_ingress"))
        .env_clear()
        .env("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
        .env("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("TELEGRAM_API_URL", fake.url())
        .args([
            "set-webhook",
            "--url",
            "https://ingress.example.invalid/telegram/webhook",
            "--drop-pending",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("@queue_bot"), "{stdout}");
    let call = &fake.wait_for_calls("setWebhook", 1).await[0];
    assert_eq!(
        call.str_param("url"),
        Some("https://ingress.example.invalid/telegram/webhook")
    );
    assert_eq!(call.str_param("secret_token"), Some(WEBHOOK_SECRET));
    assert_eq!(call.param("drop_pending_updates"), Some(&json!(true)));
    assert_eq!(
        call.param("allowed_updates"),
        Some(&json!([
            "message",
            "edited_message",
            "channel_post",
            "edited_channel_post"
        ]))
    );
    let menu = &fake.wait_for_calls("setMyCommands", 1).await[0];
    assert_eq!(
        menu.param("commands").unwrap()[0]["command"],
        json!("status")
    );
}

#[tokio::test]
async fn logs_are_cloud_logging_json_lines_with_severity_when_not_on_a_terminal() {
    // Cloud Run reads stderr through a pipe, as here: no LOG_FORMAT, so the format is detected.
    let store = tempfile::tempdir().unwrap();
    let fake = FakeBotApi::builder().token(BOT_TOKEN).start().await;
    let ingress = Ingress::start(command(store.path(), &fake)).await;
    assert_eq!(ingress.webhook("{not json", None).await, 401);
    let (status, logs) = ingress.terminate().await;
    assert!(status.success(), "{status:?}\n{logs}");
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        let severity = line["severity"].as_str().unwrap_or_default();
        assert!(
            ["DEBUG", "INFO", "WARNING", "ERROR"].contains(&severity),
            "no Cloud Logging severity: {line}"
        );
        assert!(
            line["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
    }
    let listening = lines
        .iter()
        .find(|l| l["message"] == "ingress listening")
        .unwrap_or_else(|| panic!("no start line:\n{logs}"));
    assert_eq!(listening["severity"], "INFO");
    assert_eq!(listening["telegram"], true);
    assert!(
        lines
            .iter()
            .any(|l| l["signal"] == "SIGTERM" && l["severity"] == "INFO"),
        "{logs}"
    );
    for secret in [BOT_TOKEN, WEBHOOK_SECRET, API_TOKEN] {
        assert!(!logs.contains(secret), "a secret reached the log:\n{logs}");
    }

    let mut text = command(store.path(), &fake);
    text.arg("--log-format").arg("text");
    let ingress = Ingress::start(text).await;
    let (_, logs) = ingress.terminate().await;
    assert!(logs.contains("ingress listening"), "{logs}");
    assert!(
        logs.lines().all(|l| !l.starts_with('{')),
        "--log-format text writes text:\n{logs}"
    );
}
