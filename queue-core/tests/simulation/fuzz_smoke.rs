//! The queue-core fuzz bodies (`fuzz/src/bodies.rs`) over their corpus and seeded mutations of
//! it, on stable, in the normal test suite (the schedule-phrase body runs in the phrases crate's
//! tests). The same bodies run under libFuzzer with
//! `cargo +nightly fuzz run <target>` (docs/reliability.md).

use crate::fuzz_bodies as bodies;
use crate::fuzz_corpus as corpus;

const MUTATIONS: usize = 5_000;

fn run(inputs: Vec<Vec<u8>>, body: fn(&[u8])) {
    let mutated = corpus::mutations(&inputs, MUTATIONS, 0x5eed);
    for input in inputs.iter().chain(&mutated) {
        body(input);
    }
}

#[test]
fn fuzz_smoke_envelope() {
    run(corpus::envelope(), bodies::envelope);
}

#[test]
fn fuzz_smoke_names() {
    run(corpus::names(), bodies::names);
}
