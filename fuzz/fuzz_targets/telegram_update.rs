#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| queue_fuzz::telegram::telegram_update(data));
