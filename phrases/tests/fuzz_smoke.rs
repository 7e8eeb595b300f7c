//! The schedule-phrase fuzz body (`fuzz/src/phrase.rs`) over its corpus and seeded mutations
//! of it, on stable, in the normal test suite. The same body runs under libFuzzer with
//! `cargo +nightly fuzz run schedule_phrase` (docs/reliability.md).

#[allow(dead_code)]
#[path = "../../fuzz/src/corpus.rs"]
mod corpus;
#[path = "../../fuzz/src/phrase.rs"]
mod phrase;

#[test]
fn fuzz_smoke_schedule_phrase() {
    let inputs = corpus::schedule_phrase();
    let mutated = corpus::mutations(&inputs, 5_000, 0x5eed);
    for input in inputs.iter().chain(&mutated) {
        phrase::schedule_phrase(input);
    }
}
