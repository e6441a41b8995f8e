//! Fuzz target `console_log`: see `tests/fuzz_support/outside.rs` for the harness.
#![no_main]

#[path = "../../tests/fuzz_support/mod.rs"]
mod fuzz_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_support::outside::console_log(data));
