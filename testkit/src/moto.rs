//! moto's S3 server (PyPI `moto[server]`), started as a child process for tests.
//!
//! moto honours `If-None-Match: *` and `If-Match`, so object_store's `PutMode::Create` and
//! `PutMode::Update` decide races against it as they do against S3 — but only one request at a
//! time: moto checks the precondition and then stores the object without a lock, so under
//! concurrent PUTs two create-only writes of one name can both succeed (seen: 1 key in 200 with
//! four concurrent writers). Real S3 decides them atomically. So testkit runs moto's own `main`
//! through a small launcher ([`SERIAL_LAUNCHER`]) that serialises requests, with the Python
//! interpreter next to `moto_server`; the races our conformance suite runs are then decided as
//! S3 decides them.
//!
//! The API is synchronous (it blocks for the second or two moto takes to start), so it works
//! from plain `#[test]`s and `#[tokio::test]`s alike:
//!
//! ```no_run
//! use testkit::moto::MotoServer;
//!
//! let moto = MotoServer::shared(); // one server for the whole test binary
//! let bucket = moto.new_bucket(); // a fresh, empty bucket per test
//! let env = moto.store_env(); // AWS_* variables for queue_core::store::StoreEnv
//! # let _ = (bucket, env);
//! ```
//!
//! The binary is looked up as `$MOTO_SERVER`, then `.test-tools/venv/bin/moto_server` (made by
//! `scripts/install-test-tools.sh`), then `moto_server` on `PATH`.
//!
//! moto runs under a small `sh` watchdog whose stdin is a pipe from the test process: when the
//! test process ends, however it ends, the pipe closes and the watchdog stops moto. So the
//! [`MotoServer::shared`] server, which is never dropped, does not outlive its test binary.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder};

use crate::util::{unique_name, workspace_root};

/// How long moto may take to start and answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `"$@"` (moto) and stops it when stdin reaches end of file; says so on stderr when moto
/// exits, so that a moto that cannot start fails the test at once instead of at the timeout.
/// (Without job control an asynchronous list reads /dev/null, hence stdin passed on as fd 3.)
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null 3<&- &
child=$!
{ while read -r line; do :; done; kill "$child" 2>/dev/null; } <&3 &
exec 3<&-
wait "$child"
echo "moto-watchdog: moto_server exited with status $?" >&2
"#;

/// Runs moto's server `main` with every request behind one lock (see the module docs).
pub const SERIAL_LAUNCHER: &str = r#"import sys, threading
import moto.server as server
_run = server.run_simple
_lock = threading.Lock()
def run_simple(host, port, app, *args, **kwargs):
    def serial(environ, start_response):
        with _lock:
            return list(app(environ, start_response))
    return _run(host, port, serial, *args, **kwargs)
server.run_simple = run_simple
server.main(sys.argv[1:])
"#;

/// What the watchdog prints when moto exits.
const EXITED: &str = "moto-watchdog: moto_server exited";

/// A running moto S3 server on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    bucket: String,
    watchdog: Child,
    stdin: Option<ChildStdin>,
}

impl MotoServer {
    /// Start a server of its own on a free port, wait until it answers, and create a bucket
    /// ([`MotoServer::bucket`]).
    ///
    /// Panics if moto is not installed (run `scripts/install-test-tools.sh`) or does not start
    /// within a minute, with moto's own output in the message.
    pub fn start() -> MotoServer {
        let binary = find_binary();
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("moto-watchdog")
            .args(serial_command(&binary))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("testkit: cannot run sh to start {binary:?}: {e}"));
        let stdin = watchdog.stdin.take();
        let stderr = watchdog
            .stderr
            .take()
            .expect("testkit: moto stderr was piped");
        let (port, log) = wait_for_port(stderr);
        let mut server = MotoServer {
            port,
            bucket: String::new(),
            watchdog,
            stdin,
        };
        match server.try_create_bucket(Instant::now() + START_TIMEOUT) {
            Ok(bucket) => server.bucket = bucket,
            Err(e) => panic!(
                "testkit: moto at {} did not create a bucket: {e}; moto said:\n{}",
                server.endpoint(),
                log.lines()
            ),
        }
        server
    }

    /// One server for the whole test binary, started on first use and stopped when the
    /// process exits. Call [`MotoServer::new_bucket`] for a bucket of the test's own.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(MotoServer::start)
    }

    /// Create a fresh, empty bucket with a unique name and return the name.
    pub fn new_bucket(&self) -> String {
        self.try_create_bucket(Instant::now() + Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("testkit: moto at {}: {e}", self.endpoint()))
    }

    /// The bucket [`MotoServer::start`] created.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `AWS_*` variables that point object_store's S3 client (and so
    /// `queue_core::store::StoreEnv` with an `s3://BUCKET` URL) at this server: endpoint,
    /// dummy keys, region `us-east-1`, plain HTTP, and `copy_if_not_exists` by conditional
    /// multipart completion (which moto honours).
    pub fn store_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_COPY_IF_NOT_EXISTS", "multipart".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// An object_store S3 client for `bucket` on this server, configured from
    /// [`MotoServer::store_env`].
    pub fn store(&self, bucket: &str) -> AmazonS3 {
        let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
        for (key, value) in self.store_env() {
            let key = key
                .to_ascii_lowercase()
                .parse()
                .unwrap_or_else(|e| panic!("testkit: object_store rejects key={key}: {e}"));
            builder = builder.with_config(key, value);
        }
        builder
            .build()
            .unwrap_or_else(|e| panic!("testkit: cannot build an S3 client for moto: {e}"))
    }

    fn try_create_bucket(&self, deadline: Instant) -> Result<String, String> {
        let bucket = unique_name("moto");
        loop {
            match http_status(self.port, "PUT", &format!("/{bucket}")) {
                Ok(200) => return Ok(bucket),
                Ok(status) => return Err(format!("create bucket={bucket}: http status {status}")),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("create bucket={bucket}: {e}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // End of file on the watchdog's stdin: it stops moto and waits for it.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.watchdog.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        tracing::warn!(
            port = self.port,
            "moto did not stop within 10s; killing its watchdog"
        );
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// The command that starts moto serialised: the Python next to `moto_server` running
/// [`SERIAL_LAUNCHER`]; `moto_server` itself (unserialised, with a warning) when there is none.
fn serial_command(moto_server: &std::path::Path) -> Vec<std::ffi::OsString> {
    let python = moto_server.with_file_name("python3");
    if python.is_file() {
        return vec![python.into(), "-c".into(), SERIAL_LAUNCHER.into()];
    }
    eprintln!(
        "testkit: no python3 next to {}; moto runs unserialised (concurrent create-only writes may both win)",
        moto_server.display()
    );
    vec![moto_server.into()]
}

/// `$MOTO_SERVER`, the project's venv, then `PATH`; panics with the install hint.
fn find_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".test-tools/venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "testkit: moto_server not found (looked at $MOTO_SERVER, {}, and PATH); run scripts/install-test-tools.sh",
                venv.display()
            )
        })
}

/// The last lines moto printed, kept for error messages.
#[derive(Debug, Clone, Default)]
struct Log(Arc<Mutex<VecDeque<String>>>);

impl Log {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == 40 {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn lines(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Read moto's stderr until werkzeug says `Running on http://127.0.0.1:PORT`, then keep
/// draining it on a thread so that moto never blocks on a full pipe.
fn wait_for_port(stderr: impl Read + Send + 'static) -> (u16, Log) {
    let log = Log::default();
    let (tx, rx) = mpsc::channel();
    let thread_log = log.clone();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let event = match parse_running_on(&line) {
                Some(port) => Some(Ok(port)),
                None if line.contains(EXITED) => Some(Err(())),
                None => None,
            };
            thread_log.push(line);
            if let Some(event) = event
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(event);
            }
        }
    });
    let why = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Ok(port)) => return (port, log),
        Ok(Err(())) => "moto_server exited".to_string(),
        Err(e) => format!("moto_server did not report its port ({e})"),
    };
    panic!(
        "testkit: {why}; if it is not installed, run scripts/install-test-tools.sh; moto said:\n{}",
        log.lines()
    )
}

fn parse_running_on(line: &str) -> Option<u16> {
    let rest = line.split("Running on http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One bodiless HTTP/1.1 request to moto, answered by its status code. Only bucket creation
/// uses it: object_store has no call for that.
fn http_status(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line)?;
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad status line: {status_line:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_port_from_werkzeug_output() {
        assert_eq!(
            parse_running_on(" * Running on http://127.0.0.1:46451"),
            Some(46451)
        );
        assert_eq!(
            parse_running_on("\u{1b}[33mPress CTRL+C to quit\u{1b}[0m"),
            None
        );
    }

    #[test]
    fn a_moto_that_cannot_start_fails_at_once() {
        let started = Instant::now();
        let broken = ["sh", "-c", "echo broken >&2; exit 3"];
        let mut watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "moto-watchdog"])
            .args(broken)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = watchdog.stderr.take().unwrap();
        let failed = std::panic::catch_unwind(|| wait_for_port(stderr));
        drop(watchdog.stdin.take());
        watchdog.wait().unwrap();
        let message = failed.expect_err("no port from a broken moto");
        let message = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("moto_server exited"), "{message}");
        assert!(message.contains("broken"), "{message}");
        assert!(message.contains("install-test-tools.sh"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
