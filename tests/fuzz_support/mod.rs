//! The fuzz harnesses, shared by the cargo-fuzz targets in `fuzz/` (which include this file
//! by path) and by `tests/fuzz_corpus_replay.rs` (which replays the committed corpus on
//! stable). Each harness takes arbitrary bytes and must return without panicking, in bounded
//! time and memory.
#![allow(dead_code)]

pub mod cisco;
pub mod outside;
pub mod packets;

/// A harness: arbitrary bytes in, nothing out (it must just not panic or hang).
pub type Harness = fn(&[u8]);

/// Every harness by its fuzz-target name (the folder names under `fuzz/seeds/` and
/// `tests/fuzz_regressions/`).
pub const HARNESSES: &[(&str, Harness)] = &[
    ("trust_list", cisco::trust_list),
    ("signed_file", cisco::signed_file),
    ("tls_rejoin", packets::tls_rejoin),
    ("tftp_sessions", packets::tftp_sessions),
    ("capture_end_to_end", packets::capture_end_to_end),
    ("console_log", outside::console_log),
    ("status_messages", outside::status_messages),
    ("cucm_text", outside::cucm_text),
    ("prt_archive", outside::prt_archive),
    ("device_tl_info", outside::device_tl_info),
    ("plan_inputs", outside::plan_inputs),
];
