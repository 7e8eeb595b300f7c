//! The deterministic scheduler. Every simulated process ("actor") runs as a Tokio task on one
//! thread, but may only touch the store when the driver grants it a turn: each store call parks
//! the actor at a gate until then. So exactly one actor moves at a time, the driver's seeded
//! RNG decides the interleaving of all store operations, and a crash can be placed between any
//! two of them (the driver drops the parked actor). Actors wait for simulated time by parking
//! until an instant of the manual clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use queue_core::{Clock, ManualClock};
use tokio::sync::{Notify, oneshot};

pub type ActorId = usize;

/// Why an actor is parked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Park {
    /// About to make a store call.
    Store,
    /// Waiting for the simulated clock to reach this instant.
    Until(DateTime<Utc>),
}

#[derive(Debug, Default)]
struct Inner {
    /// Parked calls per actor, oldest first: an actor may have several store calls in flight
    /// at once (concurrent reads); each is granted as its own turn. While one runs, the
    /// actor's other calls stay parked, so the driver may move another actor meanwhile.
    parked: BTreeMap<ActorId, (Park, Vec<oneshot::Sender<()>>)>,
    finished: BTreeSet<ActorId>,
}

/// Shared between the driver and every actor.
#[derive(Debug, Default)]
pub struct Sched {
    inner: Mutex<Inner>,
    settled: Notify,
}

impl Sched {
    /// Park `actor` until the driver grants it a turn. An actor whose turn never comes (it was
    /// crashed) waits forever and is dropped by the driver.
    pub async fn park(&self, actor: ActorId, why: Park) {
        let (tx, rx) = oneshot::channel();
        self.inner
            .lock()
            .unwrap()
            .parked
            .entry(actor)
            .or_insert_with(|| (why, Vec::new()))
            .1
            .push(tx);
        self.settled.notify_one();
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Called by an actor's wrapper when its program returns.
    pub fn finish(&self, actor: ActorId) {
        self.inner.lock().unwrap().finished.insert(actor);
        self.settled.notify_one();
    }

    /// Wait until `actor` is parked or finished (it runs alone meanwhile).
    pub async fn settle(&self, actor: ActorId) {
        loop {
            let notified = self.settled.notified();
            {
                let inner = self.inner.lock().unwrap();
                if inner.parked.contains_key(&actor) || inner.finished.contains(&actor) {
                    return;
                }
            }
            notified.await;
        }
    }

    /// The parked actors and why, in id order.
    pub fn parked(&self) -> Vec<(ActorId, Park)> {
        self.inner
            .lock()
            .unwrap()
            .parked
            .iter()
            .map(|(id, (why, _))| (*id, why.clone()))
            .collect()
    }

    /// Let `actor` run until it parks again or finishes.
    pub async fn grant(&self, actor: ActorId) {
        let tx = {
            let mut inner = self.inner.lock().unwrap();
            let Some((_, calls)) = inner.parked.get_mut(&actor) else {
                return;
            };
            let tx = calls.remove(0);
            if calls.is_empty() {
                inner.parked.remove(&actor);
            }
            tx
        };
        // a closed call was dropped by its actor (a sibling in a join failed first)
        if tx.send(()).is_ok() {
            self.settle(actor).await;
        }
    }

    /// Forget a parked actor (it is being crashed): its turn never comes.
    pub fn forget(&self, actor: ActorId) {
        let mut inner = self.inner.lock().unwrap();
        inner.parked.remove(&actor);
        inner.finished.insert(actor);
    }
}

/// The store as one actor sees it: every call waits for the actor's turn first.
#[derive(Debug, Clone)]
pub struct GateStore {
    inner: Arc<dyn ObjectStore>,
    sched: Arc<Sched>,
    actor: ActorId,
}

impl GateStore {
    pub fn new(inner: Arc<dyn ObjectStore>, sched: Arc<Sched>, actor: ActorId) -> Self {
        GateStore {
            inner,
            sched,
            actor,
        }
    }

    async fn turn(&self) {
        self.sched.park(self.actor, Park::Store).await;
    }
}

impl fmt::Display for GateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GateStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for GateStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.turn().await;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.turn().await;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.turn().await;
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let this = self.clone();
        futures::stream::once(async move {
            this.turn().await;
            this.inner.delete_stream(locations)
        })
        .flatten()
        .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let this = self.clone();
        let prefix = prefix.cloned();
        futures::stream::once(async move {
            this.turn().await;
            this.inner.list(prefix.as_ref())
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.turn().await;
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.turn().await;
        self.inner.copy_opts(from, to, options).await
    }
}

/// One process's wall clock: the simulation's true time plus a fixed offset (clock skew).
#[derive(Debug, Clone)]
pub struct OffsetClock {
    pub base: ManualClock,
    pub offset: chrono::Duration,
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        self.base.now() + self.offset
    }
}
