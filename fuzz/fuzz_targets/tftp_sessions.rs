//! Fuzz target `tftp_sessions`: see `tests/fuzz_support/packets.rs` for the harness.
#![no_main]

#[path = "../../tests/fuzz_support/mod.rs"]
mod fuzz_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_support::packets::tftp_sessions(data));
