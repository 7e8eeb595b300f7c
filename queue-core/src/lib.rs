//! queue-core: a durable task queue whose only server is an object-store bucket.
//!
//! Map of the crate (read docs/protocol.md for the state machine):
//!
//! - [`error`]    — the public [`Error`] with a coarse [`ErrorKind`] telling callers what to do.
//! - [`clock`]    — [`Clock`] (wall time) and seeded randomness, injected so tests control time.
//! - [`task`]     — [`TaskId`], [`Class`], the versioned [`Envelope`], attempts and outcomes.
//! - [`names`]    — the bucket layout: every object name is built and parsed here, nowhere else.
//! - [`store`]    — store URLs (`gs://`, `s3://`, a directory, `memory://`) and the JSON helpers
//!   over `object_store` that the protocol uses.
//! - [`settings`] — plain, serde-able protocol settings (lease TTL, backoff, skew bound).
//! - [`retry`]    — pure decisions: when a failed attempt runs again, or whether it is dead.
//! - [`queue`]    — the protocol: enqueue, claim, renew, complete, cancel, replay, reclaim,
//!   quarantine. Every race is decided by a create-if-absent write.
//! - [`presence`] — worker presence documents under `workers/`.
//! - [`wake`]     — the cheap wake-up object idle workers poll with a GET instead of a LIST.
//! - [`inspect`]  — read-only views: list tasks by state, find a task, stats.
//! - [`schedule`] — recurring schedules, cron/interval slots, catch-up.

pub mod clock;
pub mod error;
pub mod inspect;
pub mod names;
pub mod presence;
pub mod queue;
pub mod retry;
pub mod schedule;
pub mod settings;
pub mod store;
pub mod task;
pub mod wake;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use queue::{ClaimedTask, EnqueueRequest, Enqueued, Lease, Queue};
pub use settings::Settings;
pub use store::Bucket;
pub use task::{Attempt, AttemptOutcome, Class, Envelope, Outcome, TaskId, TaskState};
