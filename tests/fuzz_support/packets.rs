//! Harnesses for the packet stages: TLS handshake re-joining over TCP, the TFTP session
//! state machine, and the capture reader end to end (reader, decoder, collector).
//!
//! The packet-level harnesses decode the fuzz input as a small program of packets so the
//! fuzzer controls ordering, overlap, retransmission and direction, not only payload bytes.

use itlscope::capture::{CaptureReader, Timestamp};
use itlscope::net::{Decoded, Decoder, Packet, TcpFlags, TcpSegment, Transport};
use itlscope::proto::{Collected, Collector, CollectorConfig};
use std::net::{IpAddr, Ipv4Addr};

const PHONE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 100, 0, 20));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 1, 10));

/// A config with small caps so the fuzzer reaches the limits quickly.
fn small_limits() -> CollectorConfig {
    CollectorConfig {
        max_file_size: 64 * 1024,
        max_total_file_bytes: 256 * 1024,
        stream_buffer_cap: 32 * 1024,
        global_buffer_cap: 128 * 1024,
        max_flows: 64,
        max_tftp_transfers: 16,
        max_handshake_message: 32 * 1024,
        max_records: 64,
        ..CollectorConfig::default()
    }
}

/// Reads the fuzz input as a sequence of chunks.
struct Program<'a> {
    data: &'a [u8],
}

impl<'a> Program<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

/// TLS handshake re-joining over TCP (port 2445, the TVS port): the input is a list of
/// segments, each `[control, seq_delta, len, payload…]`:
/// - control bit 0: direction (0 = phone to server);
/// - control bits 1-2: flags (0 ACK+PSH, 1 SYN, 2 FIN, 3 RST);
/// - control bit 3: length unit of 64 bytes instead of 1;
/// - control bit 4: sequence delta unit of 4096 instead of 1 (jumps and wraps);
/// - `seq_delta` (i8): added to the direction's next sequence number (overlaps, holes).
///
/// The connection opens with SYN / SYN-ACK unless the first control byte has bit 7 set.
pub fn tls_rejoin(data: &[u8]) {
    let _ = run_tls_rejoin(data);
}

/// [`tls_rejoin`], returning what the collector found.
pub fn run_tls_rejoin(data: &[u8]) -> Collected {
    let mut collector = Collector::new(small_limits());
    let ports = [51000u16, 2445];
    let ips = [PHONE, SERVER];
    let mut next_seq = [1_000u32, 9_000_000u32];
    let mut frame = 0u64;
    let mut send =
        |collector: &mut Collector, dir: usize, seq: u32, flags: TcpFlags, payload: &[u8]| {
            frame += 1;
            let pkt = Packet {
                frame,
                ts: Timestamp(frame as i64 * 1_000_000),
                src: ips[dir],
                dst: ips[1 - dir],
                vlan: None,
                transport: Transport::Tcp(TcpSegment {
                    src_port: ports[dir],
                    dst_port: ports[1 - dir],
                    seq,
                    ack: 0,
                    flags,
                    window: 65535,
                    payload,
                }),
                truncated: false,
            };
            collector.packet(&pkt);
        };
    if data.first().is_none_or(|b| b & 0x80 == 0) {
        let syn = TcpFlags {
            syn: true,
            ..TcpFlags::default()
        };
        send(&mut collector, 0, next_seq[0].wrapping_sub(1), syn, &[]);
        let syn_ack = TcpFlags {
            syn: true,
            ack: true,
            ..TcpFlags::default()
        };
        send(&mut collector, 1, next_seq[1].wrapping_sub(1), syn_ack, &[]);
    }
    let mut program = Program { data };
    while let Some(control) = program.byte() {
        let delta = program.byte().unwrap_or(0) as i8;
        let len = usize::from(program.byte().unwrap_or(0));
        let dir = usize::from(control & 1);
        let flags = match (control >> 1) & 3 {
            0 => TcpFlags {
                ack: true,
                psh: true,
                ..TcpFlags::default()
            },
            1 => TcpFlags {
                syn: true,
                ..TcpFlags::default()
            },
            2 => TcpFlags {
                fin: true,
                ack: true,
                ..TcpFlags::default()
            },
            _ => TcpFlags {
                rst: true,
                ..TcpFlags::default()
            },
        };
        let len = if control & 0x08 != 0 { len * 64 } else { len };
        let unit: i32 = if control & 0x10 != 0 { 4096 } else { 1 };
        let seq = next_seq[dir].wrapping_add_signed(i32::from(delta) * unit);
        let payload = program.bytes(len);
        send(&mut collector, dir, seq, flags, payload);
        next_seq[dir] = seq.wrapping_add(payload.len() as u32);
    }
    collector.finish()
}

/// The TFTP session state machine: the input is a list of datagrams `[control, len,
/// payload…]`; control bits 0-1 pick the endpoints:
/// 0 = phone → server:69, 1 = server:TID → phone, 2 = phone → server:TID,
/// 3 = a second phone → server:69; bits 2-3 pick one of four server TIDs; bit 4 marks the
/// datagram as cut by the snaplen; bit 5 makes the length two bytes (big-endian).
pub fn tftp_sessions(data: &[u8]) {
    let _ = run_tftp_sessions(data);
}

/// [`tftp_sessions`], returning what the collector found.
pub fn run_tftp_sessions(data: &[u8]) -> Collected {
    let mut collector = Collector::new(small_limits());
    let other_phone = IpAddr::V4(Ipv4Addr::new(10, 100, 0, 21));
    let mut program = Program { data };
    let mut frame = 0u64;
    while let Some(control) = program.byte() {
        let mut len = usize::from(program.byte().unwrap_or(0));
        if control & 0x20 != 0 {
            len = len << 8 | usize::from(program.byte().unwrap_or(0));
        }
        let tid = 40_000 + u16::from((control >> 2) & 3);
        let (src, sport, dst, dport) = match control & 3 {
            0 => (PHONE, 50_000, SERVER, 69),
            1 => (SERVER, tid, PHONE, 50_000),
            2 => (PHONE, 50_000, SERVER, tid),
            _ => (other_phone, 50_001, SERVER, 69),
        };
        let payload = program.bytes(len);
        frame += 1;
        let pkt = Packet {
            frame,
            ts: Timestamp(frame as i64 * 1_000_000),
            src,
            dst,
            vlan: None,
            transport: Transport::Udp {
                src_port: sport,
                dst_port: dport,
                payload,
            },
            truncated: control & 0x10 != 0,
        };
        collector.packet(&pkt);
    }
    collector.finish()
}

/// Encodes TCP payloads, in order and without holes, as a [`tls_rejoin`] program
/// (`dir` 0 = phone to server). Used to turn real conversations into seeds.
pub fn encode_tcp(segments: &[(usize, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(dir, bytes) in segments {
        for chunk in bytes.chunks(255) {
            out.extend_from_slice(&[(dir & 1) as u8, 0, chunk.len() as u8]);
            out.extend_from_slice(chunk);
        }
    }
    out
}

/// Encodes datagrams as a [`tftp_sessions`] program; `route` is the control byte's low bits
/// (endpoints and TID, see there).
pub fn encode_udp(datagrams: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(route, payload) in datagrams {
        let payload = payload.get(..usize::from(u16::MAX)).unwrap_or(payload);
        if let Ok(len) = u8::try_from(payload.len()) {
            out.extend_from_slice(&[route & 0x0f, len]);
        } else {
            out.push((route & 0x0f) | 0x20);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(payload);
    }
    out
}

/// The capture reader end to end: the input is a capture file (pcap, pcapng, gzip), read
/// with a small buffer so record boundaries straddle refills, every frame decoded and fed
/// to a collector with small limits.
pub fn capture_end_to_end(data: &[u8]) {
    let _ = run_capture_end_to_end(data);
}

/// [`capture_end_to_end`], returning what the collector found (None when the input is not
/// a capture).
pub fn run_capture_end_to_end(data: &[u8]) -> Option<Collected> {
    let options = itlscope::capture::ReaderOptions {
        buffer_size: 4096,
        max_record_size: 256 * 1024,
    };
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let mut reader = CaptureReader::from_reader_with("fuzz", input, options).ok()?;
    let mut decoder = Decoder::new(itlscope::net::DefragLimits {
        max_total_bytes: 256 * 1024,
        max_datagrams: 64,
        ..Default::default()
    });
    let mut collector = Collector::new(small_limits());
    while let Ok(Some(frame)) = reader.next_frame() {
        if let Decoded::Packet(packet) = decoder.decode(&frame) {
            collector.packet(&packet);
        }
    }
    let _ = decoder.limits_hit();
    let mut summary = reader.into_summary();
    itlscope::net::merge_decoder(&mut summary, &decoder);
    let _ = itlscope::report::text::capture_section(&summary);
    Some(collector.finish())
}
