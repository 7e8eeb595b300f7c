//! The Telegram update-intake fuzz body (fuzz/src/telegram.rs) over its corpus and seeded
//! mutations, in the normal test run (cargo-fuzz itself needs nightly; see docs/reliability.md).

#[allow(dead_code)]
#[path = "../../fuzz/src/corpus.rs"]
mod corpus;
#[path = "../../fuzz/src/telegram.rs"]
mod telegram;

#[test]
fn telegram_update_intake_never_panics_and_keeps_its_promises() {
    let inputs = corpus::telegram_update();
    let mutated = corpus::mutations(&inputs, 20_000, 0x5eed);
    for input in inputs.iter().chain(&mutated) {
        telegram::telegram_update(input);
    }
}
