//! A million tiny flows through the packet path (reader, decoder, collector) in bounded
//! memory: the peak resident size of this test process (alone in its binary, so nothing
//! else runs in it) stays far below what a million flows would take if each were kept.

mod adversarial_support;

use adversarial_support::{START_NS, pcap_file, tcp_frame_into};
use itlscope::pipeline::{PipelineOptions, read_capture};
use itlscope::report::limits::limit_text;
use std::io::Write;

/// Peak resident set of this process in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_million_tiny_flows_through_the_packet_path_stay_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("million-flows.pcap");
    let mut w = pcap_file(&path);
    // A SYN to the TVS port from a new address and port each time (every one a candidate
    // TLS session), then a data segment of a flow nobody follows.
    let mut frame = Vec::with_capacity(64);
    let mut ts = START_NS;
    for i in 0..1_000_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let (dport, flags, payload): (u16, u8, &[u8]) = if i % 2 == 0 {
            (2445, 0x02, &[])
        } else {
            (5000, 0x18, b"noise")
        };
        let sport = 1024 + (i % 60_000) as u16;
        tcp_frame_into(
            &mut frame,
            (src, sport),
            ([10, 1, 1, 10], dport),
            i,
            flags,
            payload,
        );
        ts += 1_000;
        w.write_packet(ts, &frame, frame.len() as u32)
            .expect("write");
    }
    w.into_inner().flush().expect("flush");
    let before = peak_rss_kib();

    let mut options = PipelineOptions::default();
    options.collector.max_flows = 20_000;
    let result = read_capture(&path, &options).expect("reads");
    assert_eq!(result.summary.frames, 1_000_000);
    assert_eq!(
        result.collected.tls.len(),
        20_000,
        "followed up to the limit"
    );
    assert!(
        result
            .summary
            .limits_hit
            .iter()
            .any(|l| limit_text(l).contains("not followed")),
        "the limit is reported: {:?}",
        result.summary.limits_hit
    );
    // Typed, with where it began: the 20,001st TVS SYN (frame 40,001; every other frame is
    // a data segment nobody follows).
    let first = result
        .summary
        .limits_hit
        .iter()
        .find(|e| e.kind() == "tcp-flows-not-followed")
        .and_then(|e| e.first_frame());
    assert_eq!(first, Some(40_001), "{:?}", result.summary.limits_hit);
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        assert!(
            after / 1024 < 200,
            "peak RSS {} MiB (grew {grown_mib} MiB) for a million flows",
            after / 1024
        );
    }
}
