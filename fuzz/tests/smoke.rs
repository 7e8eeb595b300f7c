//! Every fuzz body over its corpus and 20,000 seeded mutations of it, on stable:
//! `cargo test --manifest-path fuzz/Cargo.toml --features telegram`.
//! `FUZZ_WRITE_SEEDS=1` also writes the corpus to `corpus/<target>/` to seed cargo-fuzz.

use queue_fuzz::{bodies, corpus, phrase};

fn run(target: &str, inputs: Vec<Vec<u8>>, body: fn(&[u8])) {
    if std::env::var("FUZZ_WRITE_SEEDS").is_ok_and(|v| v == "1") {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), input).unwrap();
        }
    }
    let mutated = corpus::mutations(&inputs, 20_000, 0x5eed);
    for input in inputs.iter().chain(&mutated) {
        body(input);
    }
}

#[test]
fn envelope() {
    run("envelope", corpus::envelope(), bodies::envelope);
}

#[test]
fn names() {
    run("names", corpus::names(), bodies::names);
}

#[test]
fn schedule_phrase() {
    run(
        "schedule_phrase",
        corpus::schedule_phrase(),
        phrase::schedule_phrase,
    );
}

#[cfg(feature = "telegram")]
#[test]
fn telegram_update() {
    run(
        "telegram_update",
        corpus::telegram_update(),
        queue_fuzz::telegram::telegram_update,
    );
}
