//! Test support shared by every crate's tests.
