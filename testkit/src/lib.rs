//! Test support shared by every crate's tests.
//!
//! - [`moto`]: moto's S3 server as a child process, a fresh bucket per test.
//! - [`gcs`]: an in-process GCS test double with generation preconditions (not an emulator).
//! - [`pubsub`]: the real Pub/Sub emulator (gcloud) as a child process; GCS-shaped notifications.
//! - [`util`]: the workspace root, free ports, unique names.

pub mod gcs;
pub mod moto;
pub mod process;
pub mod pubsub;
pub mod telegram;
pub mod util;
