//! Helpers shared by the capture tests: build tiny captures with itlscope-gen and read them
//! back into owned values.
#![allow(dead_code)]

use itlscope::capture::{CaptureReader, ReaderOptions, Timestamp};
use itlscope::evidence::CaptureSummary;
use itlscope::net::{Decoded, Decoder, DefragLimits, Transport};
use itlscope_gen::packet::Link;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

pub fn ethernet(vlans: Vec<u16>) -> Link {
    Link::Ethernet {
        src: [0x02, 0, 0, 0, 0, 1],
        dst: [0x02, 0, 0, 0, 0, 2],
        vlans,
    }
}

/// A frame as read, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame {
    pub number: u64,
    pub ts: Timestamp,
    pub link_type: u32,
    pub interface: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
}

/// A decoded packet, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPacket {
    pub frame: u64,
    pub ts: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub vlan: Option<u16>,
    pub tcp: bool,
    pub payload: Vec<u8>,
    pub truncated: bool,
}

pub fn reader(bytes: Vec<u8>) -> CaptureReader {
    CaptureReader::from_reader("test.cap", Box::new(Cursor::new(bytes))).expect("a capture")
}

pub fn reader_with(bytes: Vec<u8>, options: ReaderOptions) -> CaptureReader {
    CaptureReader::from_reader_with("test.cap", Box::new(Cursor::new(bytes)), options)
        .expect("a capture")
}

/// Reads every frame; panics on a reader error.
pub fn frames(bytes: Vec<u8>) -> (Vec<OwnedFrame>, CaptureSummary) {
    let mut r = reader(bytes);
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().expect("readable") {
        out.push(OwnedFrame {
            number: f.number,
            ts: f.ts,
            link_type: f.link_type.0,
            interface: f.interface,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        });
    }
    (out, r.summary().clone())
}

/// Decodes every frame, keeping the packets and a tally of the other outcomes.
pub fn packets_with(
    bytes: Vec<u8>,
    limits: DefragLimits,
) -> (Vec<OwnedPacket>, Vec<String>, Decoder, CaptureSummary) {
    let mut r = reader(bytes);
    let mut decoder = Decoder::new(limits);
    let mut out = Vec::new();
    let mut others = Vec::new();
    while let Some(f) = r.next_frame().expect("readable") {
        match decoder.decode(&f) {
            Decoded::Packet(p) => {
                let (sp, dp, payload, tcp) = match p.transport {
                    Transport::Udp {
                        src_port,
                        dst_port,
                        payload,
                    } => (src_port, dst_port, payload.to_vec(), false),
                    Transport::Tcp(t) => (t.src_port, t.dst_port, t.payload.to_vec(), true),
                    Transport::Other { protocol, .. } => {
                        others.push(format!("other {protocol}"));
                        continue;
                    }
                };
                out.push(OwnedPacket {
                    frame: p.frame,
                    ts: p.ts,
                    src: SocketAddr::new(p.src, sp),
                    dst: SocketAddr::new(p.dst, dp),
                    vlan: p.vlan,
                    tcp,
                    payload,
                    truncated: p.truncated,
                });
            }
            other => others.push(format!("{other:?}")),
        }
    }
    let summary = r.summary().clone();
    (out, others, decoder, summary)
}

pub fn packets(bytes: Vec<u8>) -> (Vec<OwnedPacket>, Vec<String>) {
    let (p, o, _, _) = packets_with(bytes, DefragLimits::default());
    (p, o)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test ip")
}
