//! `queuectl dev`: the ingress, both workers and the scheduler in one process. The test
//! starts it on a free port, sends a task over HTTP, waits (on conditions, never a fixed
//! sleep) until it is done and until the scheduler has fired, then stops it with SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Store, queuectl_raw};

const TIMEOUT: Duration = Duration::from_secs(60);

/// A running `queuectl dev`, killed on drop if the test did not stop it.
pub(crate) struct Dev {
    pub(crate) child: Child,
    pub(crate) port: u16,
    banner: std::sync::mpsc::Receiver<String>,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(store: &Store, extra: &[&str]) -> Dev {
    start_with_env(store, extra, &[])
}

/// `queuectl dev` on a free port with `extra` flags and `env` added to its environment.
pub(crate) fn start_with_env(store: &Store, extra: &[&str], env: &[(&str, &str)]) -> Dev {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_queuectl"))
        .args([
            "--store",
            store.path().to_str().unwrap(),
            "dev",
            "--listen",
            &listen,
        ])
        .args(extra)
        .envs(env.iter().copied())
        .env_remove("QUEUE_STORE")
        .env_remove("INGRESS_API_TOKEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, banner) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Dev {
        child,
        port,
        banner,
    }
}

/// One HTTP/1.1 request; returns (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    let status = reply.split_whitespace().nth(1)?.parse().ok()?;
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// Wait until `f` returns `Some`, or fail after [`TIMEOUT`] saying what was awaited.
pub(crate) fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn dev_runs_ingress_workers_and_scheduler_until_sigterm() {
    let store = Store::empty();
    let files = tempfile::tempdir().unwrap();
    let handlers = files.path().join("handlers.toml");
    std::fs::write(
        &handlers,
        "[handlers.shout]\ncommand = [\"sh\", \"-c\", \"tr a-z A-Z\"]\ntimeout = \"30s\"\n\n\
         [handlers.tick]\nbuiltin = \"echo\"\n",
    )
    .unwrap();
    let schedules = files.path().join("schedules.toml");
    std::fs::write(
        &schedules,
        "[[schedule]]\nname = \"tick\"\nevery = \"1s\"\nclass = \"light\"\nkind = \"tick\"\n\
         catch_up = \"skip\"\n",
    )
    .unwrap();
    let mut dev = start(
        &store,
        &[
            "--handlers",
            handlers.to_str().unwrap(),
            "--schedules",
            schedules.to_str().unwrap(),
        ],
    );

    let port = dev.port;
    wait_for("GET /healthz", || {
        http(port, "GET", "/healthz", None, "").filter(|(status, _)| *status == 200)
    });
    let banner: Vec<String> = dev.banner.try_iter().collect();
    let banner = banner.join("\n");
    assert!(banner.contains("/v1/tasks"), "{banner}");
    assert!(banner.contains("Bearer dev-token"), "{banner}");
    assert!(banner.contains("queuectl --store"), "{banner}");

    // the front door refuses a wrong token and takes the dev token
    let (status, _) = http(port, "POST", "/v1/tasks", Some("nope"), "{}").unwrap();
    assert_eq!(status, 401);
    let (status, body) = http(
        port,
        "POST",
        "/v1/tasks",
        Some("dev-token"),
        r#"{"class":"heavy","kind":"shout","payload":"hello"}"#,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let done = wait_for("the heavy task to be done", || {
        let out = store.run(&["show", &id, "--json"]);
        (out.code == 0)
            .then(|| out.json())
            .filter(|j| j["location"]["final"] == "done")
    });
    // the handler upper-cased its stdin (the payload as JSON); stdout parsed as JSON
    assert_eq!(done["envelope"]["result"], "HELLO");

    wait_for("the scheduler to fire tick", || {
        let out = store.run(&["ls", "--kind", "tick", "--state", "done", "--json"]);
        (out.code == 0 && !out.json().as_array().unwrap().is_empty()).then_some(())
    });
    let workers = store.run(&["workers", "--json"]).expect(0).json();
    let online: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"] == "online")
        .map(|w| w["worker_id"].as_str().unwrap())
        .collect();
    assert_eq!(online, vec!["dev-heavy", "dev-light"]);

    let pid = dev.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_for("dev to exit after SIGTERM", || {
        dev.child.try_wait().unwrap()
    });
    assert!(status.success(), "{status}");
    let workers = store.run(&["workers", "--json"]).expect(0).json();
    assert!(
        workers
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["status"] == "stopped"),
        "{workers}"
    );
}

#[test]
fn dev_refuses_what_it_cannot_run() {
    let store = Store::empty();
    let path = store.path().to_str().unwrap();
    let out = queuectl_raw(&["--store", "memory://", "dev"], None).expect(2);
    assert!(out.stderr.contains("not memory://"), "{}", out.stderr);
    let out = queuectl_raw(
        &[
            "--store",
            path,
            "dev",
            "--handlers",
            "/nonexistent/handlers.toml",
        ],
        None,
    )
    .expect(2);
    assert!(out.stderr.contains("handlers.toml"), "{}", out.stderr);
    // the port is taken
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = queuectl_raw(
        &["--store", path, "dev", "--listen", &addr, "--no-schedules"],
        None,
    )
    .expect(1);
    assert!(out.stderr.contains("--listen"), "{}", out.stderr);
}
