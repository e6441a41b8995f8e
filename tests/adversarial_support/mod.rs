//! Capture-writing helpers shared by the adversarial tests (tests/adversarial_*.rs).
#![allow(dead_code)] // each test binary uses a different subset

use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Ethernet header from one made-up MAC to another, carrying IPv4.
pub const ETHERNET_IPV4: [u8; 14] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];

/// Timestamp of the first packet, in nanoseconds since the epoch.
pub const START_NS: i64 = 1_795_860_000_000_000_000;

/// A little-endian, microsecond pcap file at `path` for Ethernet frames (snaplen 65535).
pub fn pcap_file(path: &Path) -> PcapWriter<BufWriter<File>> {
    let file = File::create(path).expect("create");
    PcapWriter::new(
        BufWriter::new(file),
        1,
        65535,
        Precision::Micro,
        Endian::Little,
    )
    .expect("pcap")
}

/// An IPv4 header (no options, TTL 64, valid checksum) for `payload_len` bytes of `protocol`.
pub fn ipv4_header(protocol: u8, src: [u8; 4], dst: [u8; 4], payload_len: usize) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((20 + payload_len) as u16).to_be_bytes());
    h[8] = 64;
    h[9] = protocol;
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

/// Replaces `frame` with an Ethernet/IPv4/TCP frame from `src` to `dst` (address, port):
/// sequence number `seq`, no ACK number, TCP `flags`, then `payload` (TCP checksum 0).
pub fn tcp_frame_into(
    frame: &mut Vec<u8>,
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    flags: u8,
    payload: &[u8],
) {
    frame.clear();
    frame.extend_from_slice(&ETHERNET_IPV4);
    frame.extend_from_slice(&ipv4_header(6, src.0, dst.0, 20 + payload.len()));
    frame.extend_from_slice(&src.1.to_be_bytes());
    frame.extend_from_slice(&dst.1.to_be_bytes());
    frame.extend_from_slice(&seq.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    frame.extend_from_slice(payload);
}
