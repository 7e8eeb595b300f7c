//! The exec protocol: how one handler process runs, and what its exit means.
//!
//! - The command is an argv list (no shell). It runs in a process group of its own, so that a
//!   timeout, a lost lease or a shutdown stops it *and its children*: SIGTERM to the group,
//!   then SIGKILL after `kill_grace`. When the handler exits by itself, whatever it left
//!   running in its group is killed too.
//! - stdin: the task payload as JSON, then end of file.
//! - env: the worker's environment, the handler's `env`, and `QUEUE_TASK_ID`, `QUEUE_TASK_KIND`,
//!   `QUEUE_TASK_CLASS`, `QUEUE_TASK_ATTEMPT`, `QUEUE_WORKER_ID` (and `QUEUE_ATTACHMENTS_DIR`
//!   when the task has files).
//! - stdout: the result, stored as JSON when it parses, else as text.
//! - stderr: its last [`ExecSettings::stderr_tail`] bytes go into the attempt's error.
//! - exit status: see [`decide`] — 0 done, [`EXIT_RETRY`] retry later, [`EXIT_FAIL`] fail now,
//!   anything else a failed attempt.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use queue_core::Outcome;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// Exit code for "retry later" (EX_TEMPFAIL from sysexits.h): counts as an attempt, retried
/// with backoff.
pub const EXIT_RETRY: i32 = 75;
/// Exit code for "fail now, do not retry" (EX_DATAERR from sysexits.h): dead-lettered at once.
pub const EXIT_FAIL: i32 = 65;

/// How handler processes are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSettings {
    /// Between SIGTERM and SIGKILL when a handler is stopped. Default 5 s.
    pub kill_grace: Duration,
    /// How much of the end of stderr goes into the attempt's error. Default 4 KiB.
    pub stderr_tail: usize,
    /// The largest result kept from stdout; a bigger one fails the task. Default 4 MiB.
    pub max_stdout: usize,
}

impl Default for ExecSettings {
    fn default() -> Self {
        ExecSettings {
            kill_grace: Duration::from_secs(5),
            stderr_tail: 4096,
            max_stdout: 4 << 20,
        }
    }
}

/// One handler run to perform.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// argv; `argv[0]` is looked up in `PATH`.
    pub argv: &'a [String],
    /// Variables added to the worker's environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<&'a Path>,
    /// What the handler reads on stdin.
    pub stdin: Vec<u8>,
    /// Longest run.
    pub timeout: Duration,
}

/// Why a handler was stopped before it exited by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// It ran past its timeout.
    TimedOut,
    /// The worker asked it to stop (lease lost, or shutdown after the grace period).
    Cancelled,
}

/// How the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It could not be started.
    SpawnFailed(String),
}

/// What a handler run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecOutput {
    /// How it ended.
    pub exit: Exit,
    /// What it wrote on stdout (up to `max_stdout`).
    pub stdout: Vec<u8>,
    /// Whether stdout was longer than `max_stdout`.
    pub stdout_truncated: bool,
    /// The end of what it wrote on stderr.
    pub stderr_tail: String,
    /// Set when the worker stopped it.
    pub interrupted: Option<Interrupt>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The process groups of running handlers, so a hard exit (second signal) can kill them all.
#[derive(Debug, Clone, Default)]
pub struct ProcessGroups(Arc<Mutex<BTreeSet<i32>>>);

impl ProcessGroups {
    fn insert(&self, pgid: i32) {
        self.0.lock().expect("groups lock").insert(pgid);
    }
    fn remove(&self, pgid: i32) {
        self.0.lock().expect("groups lock").remove(&pgid);
    }
    /// How many handler groups are alive.
    pub fn len(&self) -> usize {
        self.0.lock().expect("groups lock").len()
    }
    /// Whether no handler runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// SIGKILL every handler group (the worker is about to exit at once).
    pub fn kill_all(&self) {
        for pgid in self.0.lock().expect("groups lock").iter() {
            signal_group(*pgid, Signal::SIGKILL);
        }
    }
}

/// Variables of the worker's environment that handlers do not inherit.
pub const WORKER_SECRETS: [&str; 3] = [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "INGRESS_API_TOKEN",
];

/// Run one handler to its end: exit, timeout, or `cancel`.
pub async fn run(
    inv: Invocation<'_>,
    settings: &ExecSettings,
    cancel: &CancellationToken,
    groups: &ProcessGroups,
) -> ExecOutput {
    let started = Instant::now();
    let mut cmd = Command::new(&inv.argv[0]);
    // Handlers are the user's programs; the worker's own secrets are not theirs to see. A
    // handler that needs one gets it through its `env` table in the handlers file.
    for secret in WORKER_SECRETS {
        cmd.env_remove(secret);
    }
    cmd.args(&inv.argv[1..])
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(dir) = inv.cwd {
        cmd.current_dir(dir);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let cwd = inv.cwd.map(|d| d.display().to_string()).unwrap_or_default();
            return ExecOutput {
                exit: Exit::SpawnFailed(format!(
                    "cannot start command={:?} cwd={cwd:?}: {e}",
                    inv.argv
                )),
                stdout: Vec::new(),
                stdout_truncated: false,
                stderr_tail: String::new(),
                interrupted: None,
                elapsed: started.elapsed(),
            };
        }
    };
    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
    groups.insert(pgid);

    // Feed stdin and drain both pipes concurrently, so neither side can block the other.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let payload = inv.stdin;
    let writer = tokio::spawn(async move {
        // A handler that does not read its stdin closes the pipe: not an error.
        let _ = stdin.write_all(&payload).await;
        let _ = stdin.shutdown().await;
    });
    let out = tokio::spawn(read_capped(
        child.stdout.take().expect("stdout is piped"),
        settings.max_stdout,
    ));
    let err = tokio::spawn(read_tail(
        child.stderr.take().expect("stderr is piped"),
        settings.stderr_tail,
    ));

    let (status, interrupted) = tokio::select! {
        status = child.wait() => (status, None),
        _ = tokio::time::sleep(inv.timeout) => {
            (terminate(&mut child, pgid, settings.kill_grace).await, Some(Interrupt::TimedOut))
        }
        _ = cancel.cancelled() => {
            (terminate(&mut child, pgid, settings.kill_grace).await, Some(Interrupt::Cancelled))
        }
    };
    // The leader is gone; anything it left in its group goes with it.
    signal_group(pgid, Signal::SIGKILL);
    groups.remove(pgid);
    writer.abort();

    // A grandchild that left the group could still hold the pipes open: do not wait forever.
    let drain = Duration::from_secs(2);
    let (stdout, stdout_truncated) = match tokio::time::timeout(drain, out).await {
        Ok(Ok(read)) => read,
        _ => (Vec::new(), false),
    };
    let stderr_tail = match tokio::time::timeout(drain, err).await {
        Ok(Ok(tail)) => tail,
        _ => String::new(),
    };
    let exit = match status {
        Ok(status) => exit_of(status),
        Err(e) => Exit::SpawnFailed(format!("cannot wait for the handler: {e}")),
    };
    ExecOutput {
        exit,
        stdout,
        stdout_truncated,
        stderr_tail,
        interrupted,
        elapsed: started.elapsed(),
    }
}

/// SIGTERM the group, wait up to `grace`, then SIGKILL it; returns the leader's exit status.
async fn terminate(
    child: &mut Child,
    pgid: i32,
    grace: Duration,
) -> std::io::Result<std::process::ExitStatus> {
    signal_group(pgid, Signal::SIGTERM);
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            signal_group(pgid, Signal::SIGKILL);
            child.wait().await
        }
    }
}

fn signal_group(pgid: i32, signal: Signal) {
    if pgid <= 1 {
        return; // never signal our own group or init by mistake
    }
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => {
            tracing::warn!(pgid, ?signal, error = %e, "could not signal a handler's process group")
        }
    }
}

#[cfg(unix)]
fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(-1),
    }
}

async fn read_capped(mut pipe: impl AsyncRead + Unpin, max: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = max.saturating_sub(kept.len());
                if n > room {
                    truncated = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (kept, truncated)
}

async fn read_tail(mut pipe: impl AsyncRead + Unpin, tail: usize) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut cut = false;
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * tail {
                    kept.drain(..kept.len() - tail);
                    cut = true;
                }
            }
        }
    }
    if kept.len() > tail {
        kept.drain(..kept.len() - tail);
        cut = true;
    }
    let text = String::from_utf8_lossy(&kept).trim_end().to_string();
    if cut { format!("…{text}") } else { text }
}

/// The result a handler's stdout stands for: JSON when it parses, else the text; nothing is
/// `null`.
pub fn parse_result(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(text.trim_end().to_string()))
}

/// What a handler run means for the task (pure: the exit-code table of docs/workers.md).
pub fn decide(out: &ExecOutput, timeout: Duration) -> Outcome {
    let with_stderr = |what: String| {
        if out.stderr_tail.is_empty() {
            what
        } else {
            format!("{what}; stderr: {}", out.stderr_tail)
        }
    };
    match out.interrupted {
        Some(Interrupt::TimedOut) => {
            return Outcome::Retry {
                error: with_stderr(format!(
                    "handler timed out after {} and was killed with its process group",
                    humantime::format_duration(timeout)
                )),
                after: None,
            };
        }
        Some(Interrupt::Cancelled) => {
            return Outcome::Retry {
                error: with_stderr("handler was stopped by the worker".into()),
                after: None,
            };
        }
        None => {}
    }
    match &out.exit {
        Exit::SpawnFailed(why) => Outcome::Fail { error: why.clone() },
        Exit::Code(0) if out.stdout_truncated => Outcome::Fail {
            error: format!(
                "handler result is larger than the {} bytes a worker keeps; write big results to a file and return its path",
                out.stdout.len()
            ),
        },
        Exit::Code(0) => Outcome::Done(parse_result(&out.stdout)),
        Exit::Code(EXIT_RETRY) => Outcome::Retry {
            error: with_stderr(format!("handler asked to retry later (exit {EXIT_RETRY})")),
            after: None,
        },
        Exit::Code(EXIT_FAIL) => Outcome::Fail {
            error: with_stderr(format!(
                "handler failed and asked not to retry (exit {EXIT_FAIL})"
            )),
        },
        Exit::Code(code) => Outcome::Retry {
            error: with_stderr(format!("handler exited with code {code}")),
            after: None,
        },
        Exit::Signal(sig) => Outcome::Retry {
            error: with_stderr(format!("handler was killed by signal {sig}")),
            after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(exit: Exit) -> ExecOutput {
        ExecOutput {
            exit,
            stdout: b"{\"ok\": true}\n".to_vec(),
            stdout_truncated: false,
            stderr_tail: "boom".into(),
            interrupted: None,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn exit_codes_map_to_outcomes() {
        let t = Duration::from_secs(60);
        assert_eq!(
            decide(&output(Exit::Code(0)), t),
            Outcome::Done(serde_json::json!({"ok": true}))
        );
        assert!(
            matches!(decide(&output(Exit::Code(75)), t), Outcome::Retry { error, after: None } if error.contains("retry later") && error.contains("boom"))
        );
        assert!(
            matches!(decide(&output(Exit::Code(65)), t), Outcome::Fail { error } if error.contains("not to retry") && error.contains("boom"))
        );
        assert!(
            matches!(decide(&output(Exit::Code(1)), t), Outcome::Retry { error, .. } if error.contains("code 1"))
        );
        assert!(
            matches!(decide(&output(Exit::Signal(9)), t), Outcome::Retry { error, .. } if error.contains("signal 9"))
        );
        assert!(
            matches!(decide(&output(Exit::SpawnFailed("no such file".into())), t), Outcome::Fail { error } if error.contains("no such file"))
        );
        let mut timed_out = output(Exit::Signal(15));
        timed_out.interrupted = Some(Interrupt::TimedOut);
        assert!(
            matches!(decide(&timed_out, t), Outcome::Retry { error, .. } if error.contains("timed out after 1m"))
        );
        let mut big = output(Exit::Code(0));
        big.stdout_truncated = true;
        assert!(matches!(decide(&big, t), Outcome::Fail { .. }));
    }

    #[test]
    fn stdout_is_json_when_it_parses_else_text() {
        assert_eq!(parse_result(b"  [1, 2]\n"), serde_json::json!([1, 2]));
        assert_eq!(
            parse_result(b"hello\nworld\n"),
            Value::String("hello\nworld".into())
        );
        assert_eq!(parse_result(b"\n"), Value::Null);
        assert_eq!(parse_result(b"42"), serde_json::json!(42));
    }

    #[tokio::test]
    async fn stderr_keeps_only_its_tail() {
        let long: Vec<u8> = (0..10_000).map(|i| b'a' + (i % 26) as u8).collect();
        let tail = read_tail(&long[..], 100).await;
        assert_eq!(tail.chars().count(), 101);
        assert!(tail.starts_with('…'));
        assert!(long.ends_with(tail.trim_start_matches('…').as_bytes()));
        let (kept, truncated) = read_capped(&long[..], 4096).await;
        assert_eq!((kept.len(), truncated), (4096, true));
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[tokio::test]
    async fn a_handler_reads_its_payload_and_environment() {
        let argv = sh("cat; printf ' %s' \"$QUEUE_TASK_KIND\"; echo oops >&2; exit 75");
        let out = run(
            Invocation {
                argv: &argv,
                env: vec![("QUEUE_TASK_KIND".into(), "demo".into())],
                cwd: None,
                stdin: b"{\"a\":1}".to_vec(),
                timeout: Duration::from_secs(30),
            },
            &ExecSettings::default(),
            &CancellationToken::new(),
            &ProcessGroups::default(),
        )
        .await;
        assert_eq!(out.exit, Exit::Code(75));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"a\":1} demo");
        assert_eq!(out.stderr_tail, "oops");
        assert_eq!(out.interrupted, None);
    }

    #[tokio::test]
    async fn cancelling_kills_the_group_even_when_it_ignores_sigterm() {
        let groups = ProcessGroups::default();
        let cancel = CancellationToken::new();
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let argv = sh(&format!(
            "trap '' TERM; sleep 600 & touch {}; wait",
            ready.display()
        ));
        let settings = ExecSettings {
            kill_grace: Duration::from_millis(200),
            ..ExecSettings::default()
        };
        let stopper = cancel.clone();
        tokio::spawn(async move {
            // wait until the handler ignores SIGTERM, so SIGKILL is what stops it
            while !ready.exists() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stopper.cancel();
        });
        let out = run(
            Invocation {
                argv: &argv,
                env: vec![],
                cwd: None,
                stdin: vec![],
                timeout: Duration::from_secs(600),
            },
            &settings,
            &cancel,
            &groups,
        )
        .await;
        assert_eq!(out.interrupted, Some(Interrupt::Cancelled));
        assert_eq!(out.exit, Exit::Signal(9));
        assert!(groups.is_empty());
    }

    #[tokio::test]
    async fn a_missing_program_fails_the_task_with_the_reason() {
        let argv = vec!["./no-such-handler-program".to_string()];
        let out = run(
            Invocation {
                argv: &argv,
                env: vec![],
                cwd: None,
                stdin: vec![],
                timeout: Duration::from_secs(5),
            },
            &ExecSettings::default(),
            &CancellationToken::new(),
            &ProcessGroups::default(),
        )
        .await;
        assert!(
            matches!(&out.exit, Exit::SpawnFailed(why) if why.contains("no-such-handler-program"))
        );
        assert!(matches!(
            decide(&out, Duration::from_secs(5)),
            Outcome::Fail { .. }
        ));
    }
}
