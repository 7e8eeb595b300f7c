//! queuectl's command-line tests: the real binary against temporary stores written by
//! queue-core, plus the operator's own tools (gsutil, gcloud storage) against
//! fake-gcs-server serving such a store.

mod by_hand;
mod dev;
mod gsutil;
mod inspect;
mod operate;
mod schedules;
mod seed_jobs;
mod support;
mod usage;
