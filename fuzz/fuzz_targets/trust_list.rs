//! Fuzz target `trust_list`: see `tests/fuzz_support/mod.rs` for the harness.
#![no_main]

#[path = "../../tests/fuzz_support/mod.rs"]
mod fuzz_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_support::cisco::trust_list(data));
