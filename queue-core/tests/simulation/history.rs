//! What happened, as the auditor needs it: what callers were told (enqueue, claim, renew,
//! commit, cancel, replay results, in true simulated time) and what really landed in the store
//! (every lease-chain record created, seen below the fault injector).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use queue_core::queue::record::{LeaseRecord, RecordState};
use queue_core::task::{Class, TaskState};
use queue_core::{Clock, ErrorKind, ManualClock, TaskId};
use serde_json::Value;

/// An enqueue that returned Ok.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: TaskId,
    pub class: Class,
    pub key: Option<String>,
    pub created: bool,
}

/// A lease a worker was told it holds (claim Ok), in true time.
#[derive(Debug, Clone)]
pub struct Hold {
    pub task: TaskId,
    pub epoch: u64,
    pub worker: String,
    /// When the claim returned.
    pub start: DateTime<Utc>,
    /// The lease deadline converted from the worker's clock to true time (moved by renewals).
    pub deadline: DateTime<Utc>,
    /// When the worker stopped acting on it (commit call, lost renewal, crash).
    pub stop: Option<DateTime<Utc>>,
}

impl Hold {
    /// The end of the interval in which the worker believed it held the lease.
    pub fn end(&self) -> DateTime<Utc> {
        self.stop.map_or(self.deadline, |s| s.min(self.deadline))
    }
}

/// What a worker asked `complete`/`release` to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommitKind {
    Done,
    Retry,
    Fail,
    Snooze,
    Release,
}

/// One commit call.
#[derive(Debug, Clone)]
pub struct Commit {
    pub task: TaskId,
    pub epoch: u64,
    pub worker: String,
    pub kind: CommitKind,
    /// For Done: the unique result value.
    pub value: Option<Value>,
    pub at: DateTime<Utc>,
    /// `None` while the call runs, and forever if the worker died in it.
    pub result: Option<Result<TaskState, ErrorKind>>,
}

/// One operator call (cancel or replay).
#[derive(Debug, Clone)]
pub struct OperatorCall {
    pub task: TaskId,
    pub by: String,
    pub at: DateTime<Utc>,
    /// `None` while the call runs, and forever if the operator died in it.
    pub result: Option<Result<(), ErrorKind>>,
}

/// A write of a task's done/ or failed/ object, as it landed.
#[derive(Debug, Clone)]
pub struct Finished {
    pub task: TaskId,
    pub state: TaskState,
    pub epoch: u64,
    pub result: Option<Value>,
    /// The exact bytes: a roll-forward rewrites the same ones.
    pub bytes: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// A lease-chain record as it landed in the store.
#[derive(Debug, Clone)]
pub struct Landed {
    pub task: TaskId,
    pub epoch: u64,
    pub state: RecordState,
    pub next: Option<TaskState>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Everything the auditor reads, plus tallies for the report.
#[derive(Debug, Default)]
pub struct History {
    pub accepted: Vec<Accepted>,
    pub holds: Vec<Hold>,
    pub commits: Vec<Commit>,
    pub cancels: Vec<OperatorCall>,
    pub replays: Vec<OperatorCall>,
    pub landed: Vec<Landed>,
    pub finished: Vec<Finished>,
    /// Internal errors returned by queue calls (never expected, even under faults).
    pub internal: Vec<String>,
    /// `op: kind` -> count of errors callers saw.
    pub errors: BTreeMap<String, u64>,
    /// Tallies: claims, renewals, takeovers, crashes, pauses …
    pub tally: BTreeMap<&'static str, u64>,
    pub trace: Vec<String>,
    pub keep_trace: bool,
    /// FNV-1a over every trace line: two runs of one seed must agree.
    pub digest: u64,
}

impl History {
    pub fn count(&mut self, what: &'static str) {
        *self.tally.entry(what).or_insert(0) += 1;
    }

    pub fn error(&mut self, op: &str, err: &queue_core::Error) {
        *self
            .errors
            .entry(format!("{op}: {}", err.kind()))
            .or_insert(0) += 1;
        if err.kind() == ErrorKind::Internal {
            self.internal.push(format!("{op}: {err}"));
        }
    }

    pub fn trace(&mut self, at: DateTime<Utc>, line: String) {
        let line = format!("{} {line}", at.format("%H:%M:%S%.3f"));
        if self.keep_trace {
            println!("{line}");
        }
        for b in line.bytes().chain([b'\n']) {
            self.digest = (self.digest ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        self.trace.push(line);
        if self.trace.len() > 400 {
            self.trace.drain(..200);
        }
    }

    /// End every hold of `worker` still open at `at` (its process died).
    pub fn stop_all(&mut self, worker: &str, at: DateTime<Utc>) {
        for h in self.holds.iter_mut().filter(|h| h.worker == worker) {
            if h.stop.is_none() {
                h.stop = Some(at);
            }
        }
    }
}

pub type SharedHistory = Arc<Mutex<History>>;

/// Sits directly on the real backend and writes down every lease-chain record that lands.
#[derive(Debug, Clone)]
pub struct RecorderStore {
    inner: Arc<dyn ObjectStore>,
    history: SharedHistory,
    clock: ManualClock,
}

impl RecorderStore {
    pub fn new(inner: Arc<dyn ObjectStore>, history: SharedHistory, clock: ManualClock) -> Self {
        RecorderStore {
            inner,
            history,
            clock,
        }
    }

    fn note(&self, line: String) {
        let at = self.clock.now();
        self.history.lock().unwrap().trace(at, line);
    }

    fn observe_terminal(&self, location: &Path, payload: &PutPayload) {
        let path = location.as_ref();
        let state = if path.contains("/done/") {
            TaskState::Done
        } else if path.contains("/failed/") {
            TaskState::Failed
        } else {
            return;
        };
        let bytes: Vec<u8> = payload.iter().flat_map(|b| b.iter().copied()).collect();
        let Ok(mut env) = queue_core::Envelope::from_json(&bytes) else {
            return;
        };
        if env.replayed_as.take().is_some() {
            // a replay marking the failed task: the same finish, not a new one
            return;
        }
        let at = self.clock.now();
        self.history.lock().unwrap().finished.push(Finished {
            task: env.id,
            state,
            epoch: env.epoch,
            result: env.result,
            bytes,
            at,
        });
    }

    fn observe(&self, location: &Path, payload: &PutPayload) {
        let path = location.as_ref();
        let Some((_, rest)) = path.split_once("/running/") else {
            return;
        };
        let Ok((task, epoch)) = queue_core::names::parse_running_rest(rest) else {
            return;
        };
        let bytes: Vec<u8> = payload.iter().flat_map(|b| b.iter().copied()).collect();
        let Ok(record) = LeaseRecord::from_json(&bytes) else {
            return;
        };
        let at = self.clock.now();
        let mut h = self.history.lock().unwrap();
        h.trace(
            at,
            format!(
                "landed {task} e{epoch} {:?} next={:?} by={}",
                record.state, record.next, record.by
            ),
        );
        h.landed.push(Landed {
            task,
            epoch,
            state: record.state,
            next: record.next,
            by: record.by,
            at,
        });
    }
}

impl fmt::Display for RecorderStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecorderStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for RecorderStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let create = matches!(opts.mode, PutMode::Create);
        let copy = payload.clone();
        let res = self.inner.put_opts(location, payload, opts).await;
        if create && res.is_ok() {
            self.observe(location, &copy);
        } else if res.is_ok() && !location.as_ref().contains("/running/") {
            self.note(format!("put {location}"));
            self.observe_terminal(location, &copy);
        }
        res
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let this = self.clone();
        self.inner
            .delete_stream(locations)
            .inspect(move |res| {
                if let Ok(path) = res {
                    this.note(format!("delete {path}"));
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
