//! Child processes for tests that run the real binaries: spawn with output captured to files
//! (no pipe can fill up and block the child), send signals, wait for exit or for a condition
//! with a generous deadline — never a fixed sleep as an assertion.
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::process::{Proc, wait_for};
//! let dir = std::env::temp_dir();
//! let mut worker = Proc::spawn("worker-light", ["--store", "q"], [("RUST_LOG", "info")], &dir, "w1");
//! wait_for("the worker logs that it started", || worker.stderr().contains("started").then_some(())).await;
//! worker.signal(nix::sys::signal::Signal::SIGTERM);
//! let status = worker.wait_exit().await;
//! assert!(status.success());
//! # }
//! ```

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// How long [`wait_for`] and [`Proc::wait_exit`] wait before failing the test: generous, for a
/// loaded two-core machine.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// A child process whose stdout and stderr go to `{dir}/{name}.out` and `{dir}/{name}.err`.
/// Dropping it kills it (SIGKILL) if it still runs.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Start `program` with `args` and extra environment variables.
    pub fn spawn<I, S, E, K, V>(
        program: impl AsRef<OsStr>,
        args: I,
        env: E,
        dir: &Path,
        name: &str,
    ) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
        E: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        let child = Command::new(program.as_ref())
            .args(args)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("create stdout file"))
            .stderr(File::create(&stderr).expect("create stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({:?}): {e}", program.as_ref()));
        Proc {
            name: name.to_string(),
            child,
            stdout,
            stderr,
            status: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Send `signal`.
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid()), signal)
            .unwrap_or_else(|e| panic!("cannot send {signal:?} to {}: {e}", self.name));
    }

    /// What it wrote on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The exit status, if it has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Wait for it to exit (up to [`DEFAULT_DEADLINE`]).
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let what = format!("{} to exit", self.name);
        let deadline = Instant::now() + DEFAULT_DEADLINE;
        loop {
            if let Some(status) = self.try_status() {
                return status;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; stderr:\n{}", self.stderr());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL it and reap it.
    pub fn kill(&mut self) {
        if self.try_status().is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Poll `check` every 50 ms until it returns `Some`, or fail the test after
/// [`DEFAULT_DEADLINE`] saying what was awaited.
pub async fn wait_for<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    wait_for_within(what, DEFAULT_DEADLINE, check).await
}

/// [`wait_for`] with another deadline.
pub async fn wait_for_within<T>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check() {
            return value;
        }
        if Instant::now() > end {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether process `pid` runs (a zombie waiting to be reaped counts as gone).
pub fn is_alive(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // the state follows the parenthesised command name
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

/// Send `signal` to every process of group `pgid` (gone already is fine).
pub fn signal_group(pgid: i32, signal: Signal) {
    let _ = killpg(Pid::from_raw(pgid), signal);
}
