//! A million tiny flows through the packet path (reader, decoder, collector) in bounded
//! memory: the peak resident size of this test process (alone in its binary, so nothing
//! else runs in it) stays far below what a million flows would take if each were kept.

use itlscope::pipeline::{PipelineOptions, read_capture};
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
use std::io::{BufWriter, Write};

/// Peak resident set of this process in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ipv4_header(src: [u8; 4], dst: [u8; 4], payload_len: usize) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((20 + payload_len) as u16).to_be_bytes());
    h[8] = 64;
    h[9] = 6;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    let sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !((folded & 0xffff) + (folded >> 16)) as u16;
    h[10..12].copy_from_slice(&checksum.to_be_bytes());
    h
}

#[test]
fn a_million_tiny_flows_through_the_packet_path_stay_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("million-flows.pcap");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = PcapWriter::new(
        BufWriter::new(file),
        1,
        65535,
        Precision::Micro,
        Endian::Little,
    )
    .expect("pcap");
    // A SYN to the TVS port from a new address and port each time (every one a candidate
    // TLS session), then a data segment of a flow nobody follows.
    let mut frame = Vec::with_capacity(64);
    let mut ts = 1_795_860_000_000_000_000i64;
    for i in 0..1_000_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let (dport, flags, payload): (u16, u8, &[u8]) = if i % 2 == 0 {
            (2445, 0x02, &[])
        } else {
            (5000, 0x18, b"noise")
        };
        frame.clear();
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
        frame.extend_from_slice(&ipv4_header(src, [10, 1, 1, 10], 20 + payload.len()));
        frame.extend_from_slice(&(1024 + (i % 60_000) as u16).to_be_bytes());
        frame.extend_from_slice(&dport.to_be_bytes());
        frame.extend_from_slice(&i.to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        frame.extend_from_slice(payload);
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
            .any(|l| l.contains("not followed")),
        "the limit is reported: {:?}",
        result.summary.limits_hit
    );
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        assert!(
            after / 1024 < 200,
            "peak RSS {} MiB (grew {grown_mib} MiB) for a million flows",
            after / 1024
        );
    }
}
