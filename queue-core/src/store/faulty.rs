//! A fault-injecting `ObjectStore` wrapper, for tests that must show the protocol survives what
//! real buckets do: answer 503, time out, answer slowly, or lose the reply of a write that
//! landed.
//!
//! ```
//! # use std::sync::Arc;
//! # use std::time::Duration;
//! use queue_core::Bucket;
//! use queue_core::store::faulty::{Fault, FaultRule, FaultyStore, Op};
//!
//! let bucket = Bucket::memory();
//! let faulty = Arc::new(FaultyStore::new(
//!     bucket.object_store().clone(),
//!     42, // seed: the same seed and the same calls give the same faults
//!     vec![
//!         FaultRule::new(Fault::Error).ops([Op::Get, Op::Head]).probability(0.05),
//!         FaultRule::new(Fault::LostReply).ops([Op::Put]).prefix("light/running/").probability(0.1),
//!         FaultRule::new(Fault::Latency(Duration::from_millis(20))).probability(0.2),
//!     ],
//! ));
//! let bucket = bucket.with_object_store(faulty.clone());
//! // … run the code under test on `bucket`, then read the truth with faults off:
//! faulty.set_enabled(false);
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The operations a rule can select. `Head` is a `get_opts` with `head: true`; `Copy` covers
/// `copy_opts` (and so `rename`, which object_store builds from copy and delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `put_opts` (plain or conditional) and the start of a multipart upload.
    Put,
    /// `get_opts` reading the body.
    Get,
    /// `get_opts` with `head: true`.
    Head,
    /// `list`, `list_with_offset`, `list_with_delimiter`.
    List,
    /// Each location of `delete_stream` (and so `delete`).
    Delete,
    /// `copy_opts`.
    Copy,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 6] = [Op::Put, Op::Get, Op::Head, Op::List, Op::Delete, Op::Copy];

    /// Whether the operation changes the store (a reply can be lost after it landed).
    pub fn is_write(self) -> bool {
        matches!(self, Op::Put | Op::Delete | Op::Copy)
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::Head => "head",
            Op::List => "list",
            Op::Delete => "delete",
            Op::Copy => "copy",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Fail at once without touching the store, like a 503 the client stopped retrying.
    Error,
    /// Wait this long, then fail without touching the store: a request that timed out before
    /// it reached the bucket.
    Timeout(Duration),
    /// Wait this long, then perform the operation. Latencies of several firing rules add up.
    Latency(Duration),
    /// Perform the operation, then fail: the write landed but the reply was lost. Only matches
    /// writes (put, delete, copy).
    LostReply,
    /// Perform a conditional write (create-if-absent, update-if-version, copy-if-not-exists),
    /// then report a conflict (`AlreadyExists` or `Precondition`), as a client that retried a
    /// landed write sees it. Only matches conditional writes.
    LandedThenConflict,
}

/// One fault rule: which operations and paths it applies to, how often it fires, and what it
/// does. Build with [`FaultRule::new`] and the builder methods.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    ops: Vec<Op>,
    prefix: String,
    probability: f64,
    fault: Fault,
}

impl FaultRule {
    /// A rule that always fires `fault`, on every operation and path it can apply to.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            ops: Op::ALL.to_vec(),
            prefix: String::new(),
            probability: 1.0,
            fault,
        }
    }

    /// Only these operations.
    pub fn ops(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        self.ops = ops.into_iter().collect();
        self
    }

    /// Only paths starting with `prefix` (the full object_store path, including any root prefix
    /// of the bucket; for a copy, the destination; for a listing, the listed prefix).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Fire with this probability (clamped to 0..=1) on each matching call.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self
    }

    /// The fault.
    pub fn fault(&self) -> Fault {
        self.fault
    }

    fn matches(&self, op: Op, path: &str, conditional: bool) -> bool {
        let applies = match self.fault {
            Fault::LostReply => op.is_write(),
            Fault::LandedThenConflict => conditional,
            _ => true,
        };
        applies && self.ops.contains(&op) && path.starts_with(&self.prefix)
    }
}

/// How many calls went through and how many faults fired, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Calls seen while faults were on (each delete location counts once).
    pub calls: u64,
    /// Calls failed at once ([`Fault::Error`]).
    pub errors: u64,
    /// Calls failed after a wait ([`Fault::Timeout`]).
    pub timeouts: u64,
    /// Calls delayed ([`Fault::Latency`]).
    pub delayed: u64,
    /// Writes performed whose reply was then lost ([`Fault::LostReply`]).
    pub lost_replies: u64,
    /// Conditional writes performed and then reported as conflicts.
    pub landed_conflicts: u64,
}

impl FaultCounts {
    /// Faults that made a call fail (everything but latency).
    pub fn failures(&self) -> u64 {
        self.errors + self.timeouts + self.lost_replies + self.landed_conflicts
    }
}

/// The failure one call suffers, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Before,
    LostReply,
    Conflict,
}

#[derive(Debug, Clone, Copy, Default)]
struct Decision {
    delay: Duration,
    failure: Option<Failure>,
}

impl Decision {
    async fn wait(&self) {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
    }
}

#[derive(Debug)]
struct Shared {
    rules: Vec<FaultRule>,
    rng: Mutex<StdRng>,
    enabled: AtomicBool,
    counts: Mutex<FaultCounts>,
}

/// An `ObjectStore` that injects faults into the calls it passes to `inner`.
///
/// # Contract
/// - **Rules.** Each call is matched against every rule in order (operation, path prefix, and
///   what the fault can apply to). Every matching rule draws once from the store's seeded RNG
///   and fires with its probability. The latencies of firing rules add up and are waited first
///   (`tokio::time::sleep`: a Tokio runtime with time is required; under `tokio::time::pause`
///   they cost no real time). The first firing rule that fails the call decides how.
/// - **Failures** are `object_store::Error::Generic` with a message starting `injected fault`
///   (the queue maps them to `Unavailable`, as a 503 or timeout), except
///   [`Fault::LandedThenConflict`], which returns `AlreadyExists` (create, copy-if-not-exists)
///   or `Precondition` (update). [`Fault::Error`] and [`Fault::Timeout`] never touch the store;
///   [`Fault::LostReply`] and [`Fault::LandedThenConflict`] perform the call first, so the
///   write has landed whatever the caller is told.
/// - **Reproducible.** The same seed, rules and sequence of calls give the same faults. Calls
///   made concurrently draw in the order they arrive, so reproducing a run also needs a
///   deterministic schedule of calls.
/// - **Switch.** [`FaultyStore::set_enabled`]`(false)` passes every call through untouched and
///   draws nothing (for the auditor's final read). Clones share rules, RNG, switch and counts.
/// - **Streams.** A listing fails or waits as a whole, before its first item. A delete stream
///   is judged per location. Multipart uploads can fail or wait at their start only.
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    shared: Arc<Shared>,
}

impl FaultyStore {
    /// Wrap `inner` with `rules`, drawing from an RNG seeded with `seed`. Faults start enabled.
    pub fn new(inner: Arc<dyn ObjectStore>, seed: u64, rules: Vec<FaultRule>) -> Self {
        FaultyStore {
            inner,
            shared: Arc::new(Shared {
                rules,
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
                enabled: AtomicBool::new(true),
                counts: Mutex::new(FaultCounts::default()),
            }),
        }
    }

    /// Turn faults on or off.
    pub fn set_enabled(&self, on: bool) {
        self.shared.enabled.store(on, Ordering::SeqCst);
    }

    /// Whether faults are on.
    pub fn is_enabled(&self) -> bool {
        self.shared.enabled.load(Ordering::SeqCst)
    }

    /// What has been injected so far.
    pub fn counts(&self) -> FaultCounts {
        *self.shared.counts.lock().expect("fault counts lock")
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    fn decide(&self, op: Op, path: &str, conditional: bool) -> Decision {
        if !self.is_enabled() {
            return Decision::default();
        }
        let mut decision = Decision::default();
        let mut counts = FaultCounts {
            calls: 1,
            ..Default::default()
        };
        {
            let mut rng = self.shared.rng.lock().expect("fault rng lock");
            for rule in &self.shared.rules {
                if !rule.matches(op, path, conditional) || !rng.random_bool(rule.probability) {
                    continue;
                }
                match rule.fault {
                    Fault::Latency(d) => {
                        decision.delay += d;
                        counts.delayed = 1;
                    }
                    _ if decision.failure.is_some() => {}
                    Fault::Error => {
                        decision.failure = Some(Failure::Before);
                        counts.errors = 1;
                    }
                    Fault::Timeout(d) => {
                        decision.delay += d;
                        decision.failure = Some(Failure::Before);
                        counts.timeouts = 1;
                    }
                    Fault::LostReply => {
                        decision.failure = Some(Failure::LostReply);
                        counts.lost_replies = 1;
                    }
                    Fault::LandedThenConflict => {
                        decision.failure = Some(Failure::Conflict);
                        counts.landed_conflicts = 1;
                    }
                }
            }
        }
        let mut total = self.shared.counts.lock().expect("fault counts lock");
        total.calls += counts.calls;
        total.errors += counts.errors;
        total.timeouts += counts.timeouts;
        total.delayed += counts.delayed;
        total.lost_replies += counts.lost_replies;
        total.landed_conflicts += counts.landed_conflicts;
        decision
    }
}

fn injected(op: Op, path: &str, what: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "faulty",
        source: format!("injected fault: {what} op={op} path={path}").into(),
    }
}

fn conflict(path: &str, update: bool) -> object_store::Error {
    let source = "injected fault: the conditional write landed, then a retry of it conflicted";
    if update {
        object_store::Error::Precondition {
            path: path.to_string(),
            source: source.into(),
        }
    } else {
        object_store::Error::AlreadyExists {
            path: path.to_string(),
            source: source.into(),
        }
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let update = matches!(opts.mode, PutMode::Update(_));
        let conditional = update || matches!(opts.mode, PutMode::Create);
        let path = location.as_ref();
        let decision = self.decide(Op::Put, path, conditional);
        decision.wait().await;
        match decision.failure {
            None => self.inner.put_opts(location, payload, opts).await,
            Some(Failure::Before) => Err(injected(Op::Put, path, "503 service unavailable")),
            Some(Failure::LostReply) => {
                let landed = self.inner.put_opts(location, payload, opts).await;
                let what = if landed.is_ok() {
                    "reply lost after the write landed"
                } else {
                    "reply lost (the write had failed)"
                };
                Err(injected(Op::Put, path, what))
            }
            Some(Failure::Conflict) => {
                self.inner.put_opts(location, payload, opts).await?;
                Err(conflict(path, update))
            }
        }
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        let path = location.as_ref();
        let decision = self.decide(Op::Put, path, false);
        decision.wait().await;
        match decision.failure {
            Some(Failure::Before) => Err(injected(Op::Put, path, "503 service unavailable")),
            _ => self.inner.put_multipart_opts(location, opts).await,
        }
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let op = if options.head { Op::Head } else { Op::Get };
        let path = location.as_ref();
        let decision = self.decide(op, path, false);
        decision.wait().await;
        match decision.failure {
            Some(_) => Err(injected(op, path, "503 service unavailable")),
            None => self.inner.get_opts(location, options).await,
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let this = self.clone();
        locations
            .then(move |location| {
                let this = this.clone();
                async move {
                    let location = location?;
                    let path = location.as_ref().to_string();
                    let decision = this.decide(Op::Delete, &path, false);
                    decision.wait().await;
                    let delete = |location: Path| {
                        let one = futures::stream::once(async move { Ok(location) }).boxed();
                        let mut deleted = this.inner.delete_stream(one);
                        async move {
                            deleted.next().await.unwrap_or_else(|| {
                                Err(injected(Op::Delete, "", "inner delete yielded nothing"))
                            })
                        }
                    };
                    match decision.failure {
                        None => delete(location).await,
                        Some(Failure::Before) => {
                            Err(injected(Op::Delete, &path, "503 service unavailable"))
                        }
                        Some(Failure::LostReply | Failure::Conflict) => {
                            delete(location).await?;
                            Err(injected(
                                Op::Delete,
                                &path,
                                "reply lost after the delete landed",
                            ))
                        }
                    }
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let path = prefix.map(|p| p.as_ref().to_string()).unwrap_or_default();
        let decision = self.decide(Op::List, &path, false);
        let listing = self.inner.list(prefix);
        futures::stream::once(async move {
            decision.wait().await;
            match decision.failure {
                Some(_) => futures::stream::once(async move {
                    Err(injected(Op::List, &path, "503 service unavailable"))
                })
                .boxed(),
                None => listing,
            }
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let path = prefix.map(|p| p.as_ref().to_string()).unwrap_or_default();
        let decision = self.decide(Op::List, &path, false);
        decision.wait().await;
        match decision.failure {
            Some(_) => Err(injected(Op::List, &path, "503 service unavailable")),
            None => self.inner.list_with_delimiter(prefix).await,
        }
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        let conditional = matches!(options.mode, CopyMode::Create);
        let path = to.as_ref();
        let decision = self.decide(Op::Copy, path, conditional);
        decision.wait().await;
        match decision.failure {
            None => self.inner.copy_opts(from, to, options).await,
            Some(Failure::Before) => Err(injected(Op::Copy, path, "503 service unavailable")),
            Some(Failure::LostReply) => {
                self.inner.copy_opts(from, to, options).await?;
                Err(injected(Op::Copy, path, "reply lost after the copy landed"))
            }
            Some(Failure::Conflict) => {
                self.inner.copy_opts(from, to, options).await?;
                Err(conflict(path, false))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Bucket, Created};
    use crate::{Error, ErrorKind};

    fn faulty(seed: u64, rules: Vec<FaultRule>) -> (Bucket, Arc<FaultyStore>) {
        let bucket = Bucket::memory();
        let store = Arc::new(FaultyStore::new(bucket.object_store().clone(), seed, rules));
        (bucket.with_object_store(store.clone()), store)
    }

    #[tokio::test]
    async fn error_rules_fail_matching_calls_without_touching_the_store() {
        let (bucket, store) = faulty(
            1,
            vec![FaultRule::new(Fault::Error).ops([Op::Put]).prefix("light/")],
        );
        let err: Error = bucket.put("light/a.json", b"1".to_vec()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        bucket.put("heavy/a.json", b"1".to_vec()).await.unwrap();
        store.set_enabled(false);
        assert!(!bucket.exists("light/a.json").await.unwrap());
        assert!(bucket.exists("heavy/a.json").await.unwrap());
        let counts = store.counts();
        assert_eq!((counts.calls, counts.errors), (2, 1));
    }

    #[tokio::test]
    async fn a_lost_reply_means_the_write_landed() {
        let (bucket, store) = faulty(
            2,
            vec![FaultRule::new(Fault::LostReply).ops([Op::Put, Op::Delete])],
        );
        assert!(bucket.create("x.json", b"1".to_vec()).await.is_err());
        store.set_enabled(false);
        assert!(bucket.exists("x.json").await.unwrap());
        store.set_enabled(true);
        assert!(bucket.delete("x.json").await.is_err());
        store.set_enabled(false);
        assert!(!bucket.exists("x.json").await.unwrap());
        assert_eq!(store.counts().lost_replies, 2);
    }

    #[tokio::test]
    async fn a_landed_conditional_write_can_report_a_conflict() {
        let (bucket, store) = faulty(3, vec![FaultRule::new(Fault::LandedThenConflict)]);
        // plain writes do not match the rule
        bucket.put("plain.json", b"1".to_vec()).await.unwrap();
        assert_eq!(
            bucket.create("c.json", b"mine".to_vec()).await.unwrap(),
            Created::AlreadyExists
        );
        store.set_enabled(false);
        assert_eq!(
            &bucket.get("c.json").await.unwrap().unwrap().bytes[..],
            b"mine"
        );
        assert_eq!(store.counts().landed_conflicts, 1);
    }

    #[tokio::test]
    async fn listings_and_reads_fail_as_a_whole() {
        let (bucket, store) = faulty(
            4,
            vec![FaultRule::new(Fault::Error).ops([Op::List, Op::Get, Op::Head])],
        );
        store.set_enabled(false);
        bucket.put("a/1.json", b"1".to_vec()).await.unwrap();
        store.set_enabled(true);
        assert!(bucket.list("a/").await.is_err());
        assert!(bucket.get("a/1.json").await.is_err());
        assert!(bucket.head("a/1.json").await.is_err());
        store.set_enabled(false);
        assert_eq!(bucket.list("a/").await.unwrap().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn latency_and_timeouts_wait_on_tokio_time() {
        let (bucket, _store) = faulty(
            5,
            vec![
                FaultRule::new(Fault::Latency(Duration::from_secs(2))).ops([Op::Put]),
                FaultRule::new(Fault::Timeout(Duration::from_secs(30))).ops([Op::Get]),
            ],
        );
        let start = tokio::time::Instant::now();
        bucket.put("a.json", b"1".to_vec()).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert!(bucket.get("a.json").await.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(32));
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_faults() {
        async fn run(seed: u64) -> Vec<bool> {
            let (bucket, _store) =
                faulty(seed, vec![FaultRule::new(Fault::Error).probability(0.5)]);
            let mut out = Vec::new();
            for i in 0..64 {
                out.push(bucket.put(&format!("k{i}"), vec![]).await.is_ok());
            }
            out
        }
        let a = run(9).await;
        assert_eq!(a, run(9).await);
        assert_ne!(a, run(10).await);
        assert!(a.iter().any(|ok| *ok) && a.iter().any(|ok| !ok));
    }

    #[test]
    fn probabilities_are_clamped() {
        let rule = FaultRule::new(Fault::Error).probability(7.0);
        assert_eq!(rule.probability, 1.0);
        let rule = FaultRule::new(Fault::Error).probability(f64::NAN);
        assert_eq!(rule.probability, 0.0);
    }
}
