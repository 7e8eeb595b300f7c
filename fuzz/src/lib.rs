//! Fuzz bodies, shared by the cargo-fuzz targets (`fuzz_targets/`) and by plain smoke tests
//! that run them over a corpus of tricky inputs on stable (queue-core's simulation test binary
//! includes `bodies.rs`; `tests/smoke.rs` here runs all of them).
//!
//! Each body panics only when a property is broken: parsers never panic, and what parses
//! round-trips.

pub mod bodies;
pub mod corpus;
pub mod phrase;
#[cfg(feature = "telegram")]
pub mod telegram;
