//! Large benchmark captures, streamed in bounded memory: mostly unrelated traffic (RTP, DNS,
//! HTTP on 80, bulk TCP, TLS on 443; thousands of flows) with phone boots mixed in at even
//! intervals through [`PhoneBoots`].
//!
//! Three mixes ([`Mix`]): the ordinary one; a TLS-heavy one, mostly short HTTPS sessions with
//! full handshakes ([`https`]); and a flow-churn one with hundreds of thousands of half-open
//! connections per GiB ([`scan`]) spread over minutes of capture time.
//!
//! The noise is built here; the phone boots come from the scenario builders through the
//! [`PhoneBoots`] hook so there is one copy of those conversations. Memory stays bounded
//! whatever the requested size: a fixed number of active flows, each holding a few integers.

mod https;
mod scan;

use crate::filler::Filler;
use crate::packet::{Link, TcpSpec, ip_tcp, ip_udp};
use crate::pcap::{Endian, PcapNgWriter, PcapWriter, Precision};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;

/// Container format of the written capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Legacy pcap, microseconds, little-endian.
    Pcap,
    /// pcapng with one Ethernet interface and Enhanced Packet Blocks.
    PcapNg,
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchConfig {
    /// Stop once at least this many bytes (headers included) are written.
    pub size: u64,
    /// Container format.
    pub format: Format,
    /// Seed of the deterministic generator: same seed and size, same bytes.
    pub seed: u64,
    /// Number of phone boots spread evenly through the file.
    pub boots: u32,
    /// What the other traffic is.
    pub mix: Mix,
}

/// The traffic around the phone boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mix {
    /// RTP, bulk TCP, HTTP, long TLS sessions and DNS (shares in [`Mix::shares`]).
    #[default]
    Ordinary,
    /// 80 % short HTTPS sessions with full handshakes to 48 web servers (new ports each time).
    TlsHeavy,
    /// The ordinary mix plus a scanner's half-open connections (5 % of the bytes, about
    /// 700,000 per GiB), at a tenth of the link rate so 1 GiB spans about 3.5 minutes.
    FlowChurn,
}

impl Mix {
    /// Every mix, in the order of [`Mix::name`].
    pub const ALL: [Mix; 3] = [Mix::Ordinary, Mix::TlsHeavy, Mix::FlowChurn];

    /// The name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Mix::Ordinary => "ordinary",
            Mix::TlsHeavy => "tls-heavy",
            Mix::FlowChurn => "flow-churn",
        }
    }

    /// The mix called `name`.
    pub fn from_name(name: &str) -> Option<Mix> {
        Mix::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Target share of bytes per category, in the order of [`CATEGORY_NAMES`] (sums to 1).
    pub fn shares(self) -> [f64; CATEGORIES] {
        match self {
            Mix::Ordinary => [0.35, 0.33, 0.12, 0.17, 0.03, 0.0, 0.0],
            Mix::TlsHeavy => [0.08, 0.03, 0.03, 0.03, 0.03, 0.80, 0.0],
            Mix::FlowChurn => [0.33, 0.31, 0.11, 0.17, 0.03, 0.0, 0.05],
        }
    }

    /// The simulated link rate that spaces timestamps.
    fn link_bits_per_sec(self) -> u64 {
        match self {
            Mix::FlowChurn => LINK_BITS_PER_SEC / 10,
            _ => LINK_BITS_PER_SEC,
        }
    }
}

/// The frames of one phone boot (TFTP downloads of ITL/config, HTTP 6970 GETs, TVS TLS
/// handshakes on 2445), as Ethernet frames with their timestamps in nanoseconds.
///
/// This is where the scenario builders plug in: the generator calls [`PhoneBoots::boot`]
/// at evenly spaced points of the file and writes what it returns verbatim.
pub trait PhoneBoots {
    /// Frames for boot number `index` (0-based) of the phone at `phone_ip`, starting at
    /// `start_ns`. Timestamps should not go below `start_ns`.
    fn boot(&mut self, index: u32, phone_ip: Ipv4Addr, start_ns: i64) -> Vec<(i64, Vec<u8>)>;
}

/// Inserts nothing: the noise-only capture.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBoots;

impl PhoneBoots for NoBoots {
    fn boot(&mut self, _: u32, _: Ipv4Addr, _: i64) -> Vec<(i64, Vec<u8>)> {
        Vec::new()
    }
}

/// Phone boots taken from a generated voice-VLAN SPAN ([`crate::span::Span`]): every boot
/// its own phone (own MAC, model and firmware) in one of the SPAN's states (healthy,
/// accepted via TVS, stale ITL with TVS rejecting the new certificate, TVS unreachable, boot
/// loop, stalled downloads), each moved to the address the generator gives it. One copy of
/// those conversations: this only replays `scenarios::boot::write_boot`.
#[derive(Debug, Clone)]
pub struct SpanBoots {
    span: crate::span::Span,
}

impl SpanBoots {
    /// `count` phones drawn from `seed` (certificates and trust lists are signed here).
    pub fn new(count: u32, seed: u64) -> Self {
        SpanBoots {
            span: crate::span::Span::new(count as usize, seed),
        }
    }

    /// The state of boot `index`, if there is one.
    pub fn state(&self, index: u32) -> Option<crate::span::State> {
        self.span.states.get(index as usize).copied()
    }
}

impl PhoneBoots for SpanBoots {
    fn boot(&mut self, index: u32, phone_ip: Ipv4Addr, start_ns: i64) -> Vec<(i64, Vec<u8>)> {
        let Some(boot) = self.span.phones.get(index as usize) else {
            return Vec::new();
        };
        // The SPAN's phone, moved to the generator's address and time.
        let mut moved = boot.clone();
        moved.phone.ip = phone_ip.to_string();
        moved.start = start_ns;
        let mut trace = crate::conv::Trace::new();
        moved.write(&mut trace, self.span.seed, index as usize);
        trace
            .finish()
            .into_iter()
            .map(|p| {
                let link = Link::Ethernet {
                    src: p.src_mac,
                    dst: p.dst_mac,
                    vlans: Vec::new(),
                };
                (p.ts, link.wrap(&p.ip))
            })
            .collect()
    }
}

/// What was written, by category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BenchStats {
    /// Bytes written to the output, file headers included.
    pub bytes: u64,
    /// Packets written.
    pub packets: u64,
    /// Flows started (RTP streams count one per direction; each DNS exchange counts one).
    pub flows: u64,
    /// Phone boots inserted (those for which the hook returned frames).
    pub boots: u32,
    /// Frames that came from the boot hook.
    pub boot_packets: u64,
    /// Frame bytes per category: RTP, bulk TCP, HTTP, TLS, DNS.
    pub category_bytes: [u64; CATEGORIES],
}

/// Number of noise categories.
pub const CATEGORIES: usize = 7;
/// Category names, in the order of [`BenchStats::category_bytes`].
pub const CATEGORY_NAMES: [&str; CATEGORIES] = [
    "rtp",
    "bulk-tcp",
    "http",
    "tls",
    "dns",
    "https-short",
    "half-open",
];
const RTP: usize = 0;
const BULK: usize = 1;
const HTTP: usize = 2;
const TLS: usize = 3;
const DNS: usize = 4;
const HTTPS_SHORT: usize = 5;
const HALF_OPEN: usize = 6;
/// The category of each TCP pool, in the order of [`TcpKind::POOLS`].
const POOL_CATEGORIES: [usize; 4] = [BULK, HTTP, TLS, HTTPS_SHORT];

/// TCP window of every generated segment.
const WINDOW: u16 = 64240;

/// The control segments a connection opens and closes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Syn,
    Fin,
}

/// Active RTP calls (two streams each) and TCP connections per kind: fixed, so memory is too.
const RTP_SLOTS: usize = 400;
const TCP_SLOTS: usize = 128;
const MSS: usize = 1460;
/// The capture's simulated link rate, used to space timestamps.
const LINK_BITS_PER_SEC: u64 = 400_000_000;
/// 2026-11-28T10:00:00Z.
const START_NS: i64 = 1_795_860_000 * 1_000_000_000;

/// One RTP call: two streams of 172-byte G.711 frames (12-byte header + 160 samples).
#[derive(Debug, Clone)]
struct RtpCall {
    a: SocketAddr,
    b: SocketAddr,
    ssrc: [u32; 2],
    seq: [u16; 2],
    rtp_ts: [u32; 2],
    ip_id: [u16; 2],
    left: u32,
    turn: usize,
}

/// What a TCP connection carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpKind {
    Bulk,
    Http,
    /// Application data only (the handshake happened before the capture began).
    Tls,
    /// A short session with a full handshake ([`https`]).
    Https,
}

impl TcpKind {
    /// Kinds in the order of `Generator::tcp`'s pools.
    const POOLS: [TcpKind; 4] = [TcpKind::Bulk, TcpKind::Http, TcpKind::Tls, TcpKind::Https];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpPhase {
    Syn,
    SynAck,
    Ack,
    /// Sending message `n`: the client sends the even ones, the server the odd ones.
    Data(usize),
    Fin,
    FinAck,
    LastAck,
    Done,
}

/// A TCP connection: handshake, a client request, a server response (a short HTTPS session:
/// the four TLS handshake flights, the last two followed by application data), close. The
/// receiver acknowledges every second segment.
#[derive(Debug, Clone)]
struct TcpConn {
    kind: TcpKind,
    client: SocketAddr,
    server: SocketAddr,
    /// Next sequence number per side (0 = client).
    seq: [u32; 2],
    ip_id: [u16; 2],
    /// Payload lengths per message (TLS: application data, without record headers).
    len: [u64; 4],
    /// The TLS handshake flights of a short HTTPS session, sent before the payloads.
    handshake: Option<Rc<https::Handshake>>,
    /// Bytes of the current message sent.
    sent: u64,
    /// Segments since the last ACK from the receiver.
    unacked: u32,
    /// An ACK is owed before the next data segment.
    ack_due: bool,
    /// Small selector for header text variants.
    variant: u32,
    phase: TcpPhase,
}

const TLS_RECORD: u64 = 16384;
const HTTP_REQUEST_PATHS: [&str; 4] = [
    "/index.html",
    "/static/app.js",
    "/images/banner.jpg",
    "/api/v2/items?page=3",
];

/// On-wire length of `body` bytes of application data cut into full-size records.
fn tls_records_len(body: u64) -> u64 {
    body + 5 * body.div_ceil(TLS_RECORD)
}

/// Writes bytes `offset..offset+out.len()` of `body` bytes of application data cut into
/// full-size TLS 1.2 records (headers real, contents filler).
fn fill_tls_records(body: u64, offset: u64, out: &mut [u8], filler: &[u8]) {
    let whole = TLS_RECORD + 5;
    for (i, b) in out.iter_mut().enumerate() {
        let pos = offset + i as u64;
        let record = pos / whole;
        let inner = pos % whole;
        let record_len = body.saturating_sub(record * TLS_RECORD).min(TLS_RECORD) as u16;
        *b = match inner {
            0 => 0x17,
            1 => 0x03,
            2 => 0x03,
            3 => (record_len >> 8) as u8,
            4 => record_len as u8,
            _ => filler[(pos as usize) % filler.len()],
        };
    }
}

impl TcpConn {
    fn header(&self, msg: usize) -> Vec<u8> {
        match (self.kind, msg) {
            (TcpKind::Http, 0) => format!(
                "GET {} HTTP/1.1\r\nHost: www{}.example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n",
                HTTP_REQUEST_PATHS[(self.variant % 4) as usize],
                self.variant % 97
            )
            .into_bytes(),
            (TcpKind::Http, _) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                self.len[1]
            )
            .into_bytes(),
            _ => Vec::new(),
        }
    }

    /// Total on-wire length of message `msg` (HTTP: header + body; TLS: with record headers).
    fn message_len(&self, msg: usize) -> u64 {
        match self.kind {
            TcpKind::Http => self.header(msg).len() as u64 + if msg == 1 { self.len[1] } else { 0 },
            TcpKind::Tls => tls_records_len(self.len[msg]),
            TcpKind::Https => {
                self.handshake_part(msg).len() as u64 + tls_records_len(self.len[msg])
            }
            TcpKind::Bulk => self.len[msg],
        }
    }

    /// Messages exchanged: request and response, or the four flights of a handshake.
    fn messages(&self) -> usize {
        if self.kind == TcpKind::Https { 4 } else { 2 }
    }

    /// The handshake bytes that start message `msg` (empty for other kinds).
    fn handshake_part(&self, msg: usize) -> &[u8] {
        self.handshake
            .as_ref()
            .and_then(|h| h.parts.get(msg))
            .map_or(&[], Vec::as_slice)
    }

    /// Writes bytes `offset..offset+out.len()` of message `msg` into `out`.
    fn fill(&self, msg: usize, offset: u64, out: &mut [u8], filler: &[u8]) {
        let filler_at = |pos: u64| {
            (pos.wrapping_mul(31).wrapping_add(u64::from(self.variant)) as usize)
                % (filler.len() - MSS)
        };
        match self.kind {
            TcpKind::Bulk => {
                let start = filler_at(offset);
                out.copy_from_slice(&filler[start..start + out.len()]);
            }
            TcpKind::Http => {
                let header = self.header(msg);
                for (i, b) in out.iter_mut().enumerate() {
                    let pos = offset + i as u64;
                    *b = match header.get(pos as usize) {
                        Some(h) => *h,
                        None => filler[(pos as usize) % filler.len()],
                    };
                }
            }
            TcpKind::Tls => fill_tls_records(self.len[msg], offset, out, filler),
            TcpKind::Https => {
                let part = self.handshake_part(msg);
                let start = (offset as usize).min(part.len());
                let from_part = (part.len() - start).min(out.len());
                let (head, tail) = out.split_at_mut(from_part);
                head.copy_from_slice(&part[start..start + from_part]);
                let data_offset = (offset + from_part as u64).saturating_sub(part.len() as u64);
                fill_tls_records(self.len[msg], data_offset, tail, filler);
            }
        }
    }

    /// Builds the next IP packet, or None when the connection is over.
    fn next_packet(&mut self, buf: &mut Vec<u8>, filler: &[u8]) -> Option<Vec<u8>> {
        let spec = |seq, ack: Option<u32>| TcpSpec {
            seq,
            ack,
            window: WINDOW,
            ..Default::default()
        };
        let packet = match self.phase {
            TcpPhase::Syn => {
                self.phase = TcpPhase::SynAck;
                self.control(0, Control::Syn)
            }
            TcpPhase::SynAck => {
                self.phase = TcpPhase::Ack;
                self.control(1, Control::Syn)
            }
            TcpPhase::Ack => {
                self.phase = TcpPhase::Data(0);
                self.tcp(0, spec(self.seq[0], Some(self.seq[1])), &[])
            }
            TcpPhase::Data(msg) => {
                let (from, to) = (msg % 2, 1 - msg % 2);
                let total = self.message_len(msg);
                if self.ack_due {
                    self.ack_due = false;
                    self.unacked = 0;
                    let p = self.tcp(to, spec(self.seq[to], Some(self.seq[from])), &[]);
                    if self.sent >= total {
                        self.next_message(msg);
                    }
                    p
                } else {
                    let len = (total - self.sent).min(MSS as u64) as usize;
                    buf.resize(len, 0);
                    self.fill(msg, self.sent, buf, filler);
                    let p = self.tcp(
                        from,
                        TcpSpec {
                            psh: self.sent + len as u64 >= total,
                            ..spec(self.seq[from], Some(self.seq[to]))
                        },
                        buf,
                    );
                    self.seq[from] = self.seq[from].wrapping_add(len as u32);
                    self.sent += len as u64;
                    self.unacked += 1;
                    if self.unacked >= 2 || self.sent >= total {
                        self.ack_due = true;
                    }
                    p
                }
            }
            TcpPhase::Fin => {
                self.phase = TcpPhase::FinAck;
                self.control(1, Control::Fin)
            }
            TcpPhase::FinAck => {
                self.phase = TcpPhase::LastAck;
                self.control(0, Control::Fin)
            }
            TcpPhase::LastAck => {
                self.phase = TcpPhase::Done;
                self.tcp(1, spec(self.seq[1], Some(self.seq[0])), &[])
            }
            TcpPhase::Done => return None,
        };
        Some(packet)
    }

    fn next_message(&mut self, msg: usize) {
        self.sent = 0;
        self.phase = if msg + 1 < self.messages() {
            TcpPhase::Data(msg + 1)
        } else {
            TcpPhase::Fin
        };
    }

    /// A SYN or FIN from `side`, acknowledging the other side (but for the opening SYN); it
    /// takes one sequence number.
    fn control(&mut self, side: usize, control: Control) -> Vec<u8> {
        let syn = control == Control::Syn;
        let ack = (!(syn && side == 0)).then_some(self.seq[1 - side]);
        let spec = TcpSpec {
            seq: self.seq[side],
            ack,
            syn,
            fin: !syn,
            window: WINDOW,
            ..Default::default()
        };
        let packet = self.tcp(side, spec, &[]);
        self.seq[side] = self.seq[side].wrapping_add(1);
        packet
    }

    fn tcp(&mut self, side: usize, spec: TcpSpec, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = if side == 0 {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        self.ip_id[side] = self.ip_id[side].wrapping_add(1);
        ip_tcp(src, dst, self.ip_id[side], spec, payload)
    }
}

/// Streams the capture into `out`; returns what was written. `boots` supplies the phone
/// boots (use [`NoBoots`] for noise only).
pub fn write_bench_capture<W: Write>(
    config: &BenchConfig,
    boots: &mut dyn PhoneBoots,
    out: W,
) -> io::Result<BenchStats> {
    let mut sink = Sink::new(config.format, out)?;
    let mut noise = Generator::new(config.seed, config.mix);
    let mut stats = BenchStats {
        bytes: sink.written,
        ..Default::default()
    };
    let mut next_boot = 0u32;
    // Boot frames not yet due, earliest first: a boot is interleaved with the noise by time,
    // as on a real wire, so its flows must survive whatever the noise does meanwhile.
    let mut pending: BinaryHeap<Reverse<(i64, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut order = 0u64;
    while sink.written < config.size {
        // Phone boot k of n starts at (k+1)/(n+1) of the file.
        if next_boot < config.boots
            && sink.written >= config.size / u64::from(config.boots + 1) * u64::from(next_boot + 1)
        {
            let phone = Ipv4Addr::new(
                10,
                100,
                (next_boot / 200) as u8,
                (next_boot % 200 + 20) as u8,
            );
            let frames = boots.boot(next_boot, phone, noise.now);
            if !frames.is_empty() {
                stats.boots += 1;
            }
            for (ts, frame) in frames {
                pending.push(Reverse((ts.max(noise.now), order, frame)));
                order += 1;
            }
            next_boot += 1;
            continue;
        }
        if let Some(Reverse((ts, _, _))) = pending.peek()
            && *ts <= noise.now
        {
            if let Some(Reverse((ts, _, frame))) = pending.pop() {
                sink.write(ts, &frame)?;
                stats.packets += 1;
                stats.boot_packets += 1;
            }
            continue;
        }
        let category = noise.pick_category(&stats);
        let before = sink.written;
        noise.emit(category, &mut sink, &mut stats)?;
        stats.category_bytes[category] += sink.written - before;
    }
    // Boots still going when the size is reached are written to their end.
    while let Some(Reverse((ts, _, frame))) = pending.pop() {
        sink.write(ts, &frame)?;
        stats.packets += 1;
        stats.boot_packets += 1;
    }
    stats.bytes = sink.written;
    stats.flows = noise.flows;
    sink.finish()?;
    Ok(stats)
}

/// Writes frames in the chosen format and counts bytes.
struct Sink<W: Write> {
    writer: SinkWriter<W>,
    written: u64,
}

enum SinkWriter<W: Write> {
    Pcap(PcapWriter<W>),
    PcapNg(PcapNgWriter<W>),
}

impl<W: Write> Sink<W> {
    fn new(format: Format, out: W) -> io::Result<Self> {
        Ok(match format {
            Format::Pcap => Sink {
                writer: SinkWriter::Pcap(PcapWriter::new(
                    out,
                    1,
                    65535,
                    Precision::Micro,
                    Endian::Little,
                )?),
                written: 24,
            },
            Format::PcapNg => {
                let mut w = PcapNgWriter::new(out, Endian::Little)?;
                w.add_interface(1, 65535, None, None)?;
                // SHB (28) + IDB (20).
                Sink {
                    writer: SinkWriter::PcapNg(w),
                    written: 28 + 20,
                }
            }
        })
    }

    fn write(&mut self, ts: i64, frame: &[u8]) -> io::Result<()> {
        let len = frame.len() as u32;
        match &mut self.writer {
            SinkWriter::Pcap(w) => {
                w.write_packet(ts, frame, len)?;
                self.written += 16 + frame.len() as u64;
            }
            SinkWriter::PcapNg(w) => {
                w.write_enhanced(0, ts, frame, len)?;
                self.written += 32 + frame.len().div_ceil(4) as u64 * 4;
            }
        }
        Ok(())
    }

    fn finish(self) -> io::Result<()> {
        match self.writer {
            SinkWriter::Pcap(w) => w.into_inner().flush(),
            SinkWriter::PcapNg(w) => w.into_inner().flush(),
        }
    }
}

/// The noise generator: fixed pools of active flows, refilled as flows end.
struct Generator {
    rng: Filler,
    now: i64,
    flows: u64,
    rtp: Vec<RtpCall>,
    /// Active connections per kind, in the order of [`TcpKind::POOLS`].
    tcp: [Vec<TcpConn>; 4],
    /// The web servers' handshakes (empty unless the mix has short HTTPS sessions).
    web_servers: Vec<Rc<https::Handshake>>,
    shares: [f64; CATEGORIES],
    link_bits_per_sec: u64,
    filler: Vec<u8>,
    buf: Vec<u8>,
    untagged: Link,
    voice_vlan: Link,
}

impl Generator {
    fn new(seed: u64, mix: Mix) -> Self {
        let mut rng = Filler::new(seed);
        let filler: Vec<u8> = (0..64 * 1024).map(|_| rng.next_u64() as u8).collect();
        let mut g = Generator {
            rng,
            now: START_NS,
            flows: 0,
            rtp: Vec::with_capacity(RTP_SLOTS),
            tcp: Default::default(),
            web_servers: Vec::new(),
            shares: mix.shares(),
            link_bits_per_sec: mix.link_bits_per_sec(),
            filler,
            buf: Vec::with_capacity(MSS),
            untagged: Link::Ethernet {
                src: [0x00, 0x1b, 0x54, 0x11, 0x22, 0x33],
                dst: [0x00, 0x50, 0x56, 0xaa, 0xbb, 0xcc],
                vlans: Vec::new(),
            },
            voice_vlan: Link::Ethernet {
                src: [0x00, 0x1b, 0x54, 0x11, 0x22, 0x34],
                dst: [0x00, 0x50, 0x56, 0xaa, 0xbb, 0xcd],
                vlans: vec![100],
            },
        };
        for _ in 0..RTP_SLOTS {
            let call = g.new_call();
            g.rtp.push(call);
        }
        if g.shares[HTTPS_SHORT] > 0.0 {
            g.web_servers = https::handshakes(seed);
        }
        for (i, kind) in TcpKind::POOLS.into_iter().enumerate() {
            // Pools of a kind the mix never sends stay empty (and draw nothing from the rng,
            // so a mix's bytes do not depend on the others').
            if g.shares[POOL_CATEGORIES[i]] == 0.0 {
                continue;
            }
            for _ in 0..TCP_SLOTS {
                let conn = g.new_conn(kind);
                g.tcp[i].push(conn);
            }
        }
        g
    }

    /// The category furthest behind its byte share; ties broken by order.
    fn pick_category(&mut self, stats: &BenchStats) -> usize {
        let total: u64 = stats.category_bytes.iter().sum::<u64>().max(1);
        let mut best = 0;
        let mut best_deficit = f64::MIN;
        for (c, share) in self.shares.iter().enumerate() {
            let deficit = share * total as f64 - stats.category_bytes[c] as f64;
            if *share > 0.0 && deficit > best_deficit {
                best = c;
                best_deficit = deficit;
            }
        }
        best
    }

    fn client_addr(&mut self) -> SocketAddr {
        let ip = Ipv4Addr::new(
            10,
            self.rng.range(1, 40) as u8,
            self.rng.range(0, 255) as u8,
            self.rng.range(2, 254) as u8,
        );
        SocketAddr::new(IpAddr::V4(ip), self.rng.range(32768, 60999) as u16)
    }

    fn server_addr(&mut self, port: u16) -> SocketAddr {
        let nets = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
        let n = nets[self.rng.range(0, 2) as usize];
        SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(
                n[0],
                n[1],
                n[2],
                self.rng.range(1, 254) as u8,
            )),
            port,
        )
    }

    fn new_call(&mut self) -> RtpCall {
        self.flows += 2;
        let phone = |r: &mut Filler| {
            IpAddr::V4(Ipv4Addr::new(
                10,
                100,
                r.range(0, 15) as u8,
                r.range(2, 254) as u8,
            ))
        };
        let even_port = |r: &mut Filler| (r.range(16384, 32766) & !1) as u16;
        let a = SocketAddr::new(phone(&mut self.rng), even_port(&mut self.rng));
        let b = SocketAddr::new(phone(&mut self.rng), even_port(&mut self.rng));
        RtpCall {
            a,
            b,
            ssrc: [self.rng.next_u64() as u32, self.rng.next_u64() as u32],
            seq: [self.rng.next_u64() as u16, self.rng.next_u64() as u16],
            rtp_ts: [self.rng.next_u64() as u32, self.rng.next_u64() as u32],
            ip_id: [self.rng.next_u64() as u16, self.rng.next_u64() as u16],
            left: self.rng.range(500, 9000) as u32,
            turn: 0,
        }
    }

    fn new_conn(&mut self, kind: TcpKind) -> TcpConn {
        self.flows += 1;
        let (port, len) = match kind {
            TcpKind::Bulk => {
                let port = [445u16, 22, 873, 8443, 3260][self.rng.range(0, 4) as usize];
                (
                    port,
                    [
                        self.rng.range(40, 400),
                        self.rng.log_range(64 * 1024, 16 * 1024 * 1024),
                        0,
                        0,
                    ],
                )
            }
            TcpKind::Http => (80, [0, self.rng.log_range(200, 4 * 1024 * 1024), 0, 0]),
            TcpKind::Tls => (
                443,
                [
                    self.rng.range(300, 1500),
                    self.rng.log_range(2 * 1024, 8 * 1024 * 1024),
                    0,
                    0,
                ],
            ),
            TcpKind::Https => (
                443,
                [
                    0,
                    0,
                    self.rng.log_range(200, 2000),
                    self.rng.log_range(500, 16 * 1024),
                ],
            ),
        };
        let client = self.client_addr();
        let (server, handshake) = if kind == TcpKind::Https && !self.web_servers.is_empty() {
            // One address per web server (RFC 2544's benchmarking range), so a server
            // endpoint always shows the same certificate.
            let n = self.rng.range(0, self.web_servers.len() as u64 - 1) as usize;
            let ip = Ipv4Addr::new(198, 19, (n / 250) as u8, (n % 250 + 1) as u8);
            (
                SocketAddr::new(IpAddr::V4(ip), port),
                Some(Rc::clone(&self.web_servers[n])),
            )
        } else {
            (self.server_addr(port), None)
        };
        TcpConn {
            kind,
            client,
            server,
            seq: [self.rng.next_u64() as u32, self.rng.next_u64() as u32],
            ip_id: [self.rng.next_u64() as u16, self.rng.next_u64() as u16],
            len,
            handshake,
            sent: 0,
            unacked: 0,
            ack_due: false,
            variant: self.rng.next_u64() as u32,
            phase: TcpPhase::Syn,
        }
    }

    fn tick(&mut self, frame_len: usize) -> i64 {
        let wire_bits = (frame_len as u64 + 24) * 8;
        self.now += (wire_bits * 1_000_000_000 / self.link_bits_per_sec) as i64;
        self.now
    }

    fn emit<W: Write>(
        &mut self,
        category: usize,
        sink: &mut Sink<W>,
        stats: &mut BenchStats,
    ) -> io::Result<()> {
        match category {
            RTP => {
                let slot = self.rng.range(0, RTP_SLOTS as u64 - 1) as usize;
                let call = &mut self.rtp[slot];
                let side = call.turn;
                call.turn ^= 1;
                let mut payload = [0u8; 172];
                payload[0] = 0x80;
                payload[1] = 0; // PT 0 = PCMU
                payload[2..4].copy_from_slice(&call.seq[side].to_be_bytes());
                payload[4..8].copy_from_slice(&call.rtp_ts[side].to_be_bytes());
                payload[8..12].copy_from_slice(&call.ssrc[side].to_be_bytes());
                let start = (call.seq[side] as usize * 160) % (self.filler.len() - 160);
                payload[12..].copy_from_slice(&self.filler[start..start + 160]);
                call.seq[side] = call.seq[side].wrapping_add(1);
                call.rtp_ts[side] = call.rtp_ts[side].wrapping_add(160);
                call.ip_id[side] = call.ip_id[side].wrapping_add(1);
                let (src, dst) = if side == 0 {
                    (call.a, call.b)
                } else {
                    (call.b, call.a)
                };
                let ip = ip_udp(src, dst, call.ip_id[side], &payload);
                let frame = self.voice_vlan.wrap(&ip);
                let ts = self.tick(frame.len());
                sink.write(ts, &frame)?;
                stats.packets += 1;
                if side == 1 {
                    let call = &mut self.rtp[slot];
                    call.left -= 1;
                    if call.left == 0 {
                        self.rtp[slot] = self.new_call();
                    }
                }
            }
            BULK | HTTP | TLS | HTTPS_SHORT => {
                let pool = POOL_CATEGORIES
                    .iter()
                    .position(|c| *c == category)
                    .unwrap_or_default();
                let slot = self.rng.range(0, TCP_SLOTS as u64 - 1) as usize;
                let mut buf = std::mem::take(&mut self.buf);
                let packet = self.tcp[pool][slot].next_packet(&mut buf, &self.filler);
                self.buf = buf;
                match packet {
                    Some(ip) => {
                        let frame = self.untagged.wrap(&ip);
                        let ts = self.tick(frame.len());
                        sink.write(ts, &frame)?;
                        stats.packets += 1;
                    }
                    None => {
                        let kind = self.tcp[pool][slot].kind;
                        self.tcp[pool][slot] = self.new_conn(kind);
                    }
                }
            }
            HALF_OPEN => {
                self.flows += 1;
                for ip in scan::probe(&mut self.rng) {
                    let frame = self.untagged.wrap(&ip);
                    let ts = self.tick(frame.len());
                    sink.write(ts, &frame)?;
                    stats.packets += 1;
                }
            }
            _ => {
                debug_assert_eq!(category, DNS);
                // One DNS exchange: A query and its answer, one in ten over IPv6.
                self.flows += 1;
                let id = self.rng.next_u64() as u16;
                let name_no = self.rng.range(0, 9999);
                let v6 = self.rng.range(0, 9) == 0;
                let (client, server) = if v6 {
                    (
                        SocketAddr::new(
                            IpAddr::V6(Ipv6Addr::new(
                                0x2001,
                                0xdb8,
                                1,
                                0,
                                0,
                                0,
                                0,
                                self.rng.range(2, 999) as u16,
                            )),
                            self.rng.range(32768, 60999) as u16,
                        ),
                        SocketAddr::new(
                            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 53)),
                            53,
                        ),
                    )
                } else {
                    (
                        self.client_addr(),
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53)), 53),
                    )
                };
                let query = dns_message(id, name_no, false);
                let answer = dns_message(id, name_no, true);
                for (src, dst, msg) in [(client, server, &query), (server, client, &answer)] {
                    let ip = ip_udp(src, dst, id, msg);
                    let frame = self.untagged.wrap(&ip);
                    let ts = self.tick(frame.len());
                    sink.write(ts, &frame)?;
                    stats.packets += 1;
                }
            }
        }
        Ok(())
    }
}

/// A DNS A query for `host<n>.example.net`, or its answer with one address.
fn dns_message(id: u16, name_no: u64, answer: bool) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer { &[0x81, 0x80] } else { &[0x01, 0x00] });
    m.extend_from_slice(&[0, 1, 0, u8::from(answer), 0, 0, 0, 0]);
    let label = format!("host{name_no}");
    m.push(label.len() as u8);
    m.extend_from_slice(label.as_bytes());
    for part in ["example", "net"] {
        m.push(part.len() as u8);
        m.extend_from_slice(part.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&[0, 1, 0, 1]);
    if answer {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        m.extend_from_slice(&[198, 51, 100, (name_no % 250) as u8 + 1]);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn generate(seed: u64, size: u64, format: Format) -> (Vec<u8>, BenchStats) {
        generate_mix(seed, size, format, Mix::Ordinary)
    }

    fn generate_mix(seed: u64, size: u64, format: Format, mix: Mix) -> (Vec<u8>, BenchStats) {
        let config = BenchConfig {
            size,
            format,
            seed,
            boots: 3,
            mix,
        };
        let mut out = Vec::new();
        let stats = write_bench_capture(&config, &mut NoBoots, &mut out).expect("writes to a Vec");
        (out, stats)
    }

    /// Walks a little-endian microsecond pcap and returns its frames.
    fn pcap_frames(file: &[u8]) -> Vec<&[u8]> {
        let mut frames = Vec::new();
        let mut pos = 24;
        while pos + 16 <= file.len() {
            let caplen =
                u32::from_le_bytes(file[pos + 8..pos + 12].try_into().expect("4 bytes")) as usize;
            frames.push(&file[pos + 16..pos + 16 + caplen]);
            pos += 16 + caplen;
        }
        assert_eq!(pos, file.len(), "records fill the file exactly");
        frames
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, _) = generate(7, 300_000, Format::Pcap);
        let (b, _) = generate(7, 300_000, Format::Pcap);
        let (c, _) = generate(8, 300_000, Format::Pcap);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn size_is_reached_and_counted_exactly() {
        for format in [Format::Pcap, Format::PcapNg] {
            let (out, stats) = generate(1, 500_000, format);
            assert!(out.len() as u64 >= 500_000);
            assert!(
                (out.len() as u64) < 500_000 + 2000,
                "stops right after the target"
            );
            assert_eq!(stats.bytes, out.len() as u64);
        }
    }

    #[test]
    fn traffic_is_the_promised_mix_and_every_frame_parses() {
        let (out, stats) = generate(3, 4_000_000, Format::Pcap);
        let frames = pcap_frames(&out);
        assert_eq!(frames.len() as u64, stats.packets);
        let (mut rtp, mut dns, mut http, mut tls, mut syn, mut vlan) = (0, 0, 0, 0, 0, 0);
        for frame in &frames {
            let sliced = SlicedPacket::from_ethernet(frame).expect("every frame parses");
            if !sliced.vlan_ids().is_empty() {
                vlan += 1;
            }
            match sliced.transport {
                Some(TransportSlice::Udp(u)) => {
                    if u.source_port() == 53 || u.destination_port() == 53 {
                        dns += 1;
                    } else {
                        assert!((16384..=32767).contains(&u.source_port()));
                        assert_eq!(u.payload().len(), 172);
                        assert_eq!(u.payload()[0], 0x80);
                        rtp += 1;
                    }
                }
                Some(TransportSlice::Tcp(t)) => {
                    syn += usize::from(t.syn() && !t.ack());
                    if t.destination_port() == 80 && t.payload().starts_with(b"GET ") {
                        http += 1;
                    }
                    if t.source_port() == 443 && t.payload().starts_with(&[0x17, 0x03, 0x03]) {
                        tls += 1;
                    }
                }
                other => panic!("unexpected transport {other:?}"),
            }
        }
        assert_eq!(vlan, rtp, "RTP rides the voice VLAN");
        assert!(
            rtp > 1000 && dns > 100 && http > 5 && tls > 5 && syn > 50,
            "{rtp} {dns} {http} {tls} {syn}"
        );
        let total: u64 = stats.category_bytes.iter().sum();
        for (c, share) in Mix::Ordinary.shares().iter().enumerate() {
            let got = stats.category_bytes[c] as f64 / total as f64;
            assert!(
                (got - share).abs() < 0.01,
                "{}: {got} vs {share}",
                CATEGORY_NAMES[c]
            );
        }
    }

    #[test]
    fn span_boots_are_real_phone_conversations_of_distinct_phones() {
        use crate::span::State;
        let count = 40;
        let mut boots = SpanBoots::new(count, 1);
        let phone = Ipv4Addr::new(10, 100, 0, 99);
        let mut macs = std::collections::HashSet::new();
        for index in 0..count {
            let frames = boots.boot(index, phone, START_NS);
            assert!(frames.len() > 10, "boot {index}: {} frames", frames.len());
            assert!(frames.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
            let mut ports = Vec::new();
            for (_, frame) in &frames {
                let sliced = SlicedPacket::from_ethernet(frame).expect("frame parses");
                if let Some(NetSlice::Ipv4(ip)) = &sliced.net
                    && ip.header().source() == phone.octets()
                {
                    macs.insert(frame[6..12].to_vec());
                }
                match sliced.transport {
                    Some(TransportSlice::Udp(u)) => ports.push(u.destination_port()),
                    Some(TransportSlice::Tcp(t)) => ports.push(t.destination_port()),
                    _ => {}
                }
            }
            assert!(
                ports.contains(&69) || ports.contains(&6970),
                "boot {index} downloads files: {ports:?}"
            );
            let state = boots.state(index).expect("a state per boot");
            if matches!(
                state,
                State::AcceptedViaTvs | State::StaleTvsRejected | State::TvsUnreachable
            ) {
                assert!(
                    ports.contains(&2445),
                    "boot {index} ({state:?}) meets TVS: {ports:?}"
                );
            }
        }
        assert_eq!(macs.len(), count as usize, "every boot is its own phone");
        assert!(
            boots.boot(count, phone, START_NS).is_empty(),
            "no boot past the SPAN"
        );
    }

    /// Byte shares per category within a point of the mix's targets.
    fn assert_shares(stats: &BenchStats, mix: Mix) {
        let total: u64 = stats.category_bytes.iter().sum();
        for (c, share) in mix.shares().iter().enumerate() {
            let got = stats.category_bytes[c] as f64 / total as f64;
            assert!(
                (got - share).abs() < 0.01,
                "{:?} {}: {got} vs {share}",
                mix,
                CATEGORY_NAMES[c]
            );
        }
    }

    #[test]
    fn the_tls_heavy_mix_is_mostly_full_handshakes_to_a_few_servers() {
        let (out, stats) = generate_mix(2, 6_000_000, Format::Pcap, Mix::TlsHeavy);
        assert_shares(&stats, Mix::TlsHeavy);
        let (mut hellos, mut certificates) = (0, 0);
        let mut servers = std::collections::HashSet::new();
        for frame in pcap_frames(&out) {
            let sliced = SlicedPacket::from_ethernet(frame).expect("every frame parses");
            let Some(TransportSlice::Tcp(t)) = sliced.transport else {
                continue;
            };
            let p = t.payload();
            // A ClientHello record: handshake, TLS 1.0 record version, message type 1.
            if t.destination_port() == 443
                && p.starts_with(&[0x16, 0x03, 0x01])
                && p.get(5) == Some(&1)
            {
                hellos += 1;
                if let Some(NetSlice::Ipv4(ip)) = &sliced.net {
                    servers.insert(ip.header().destination());
                }
            }
            // The server flight starts with ServerHello; its Certificate follows in the record.
            if t.source_port() == 443 && p.starts_with(&[0x16, 0x03, 0x03]) && p.get(5) == Some(&2)
            {
                certificates += 1;
            }
        }
        assert!(hellos > 500, "{hellos} short sessions in 6 MB");
        assert!(
            certificates + 200 > hellos,
            "{certificates} server flights for {hellos} hellos"
        );
        assert!(
            servers.len() <= https::SERVERS && servers.len() > https::SERVERS / 2,
            "{} web servers",
            servers.len()
        );
    }

    #[test]
    fn the_flow_churn_mix_leaves_hundreds_of_thousands_of_connections_half_open_per_gib() {
        let (out, stats) = generate_mix(4, 6_000_000, Format::Pcap, Mix::FlowChurn);
        assert_shares(&stats, Mix::FlowChurn);
        let frames = pcap_frames(&out);
        let mut syns = std::collections::HashSet::new();
        let mut finished = 0;
        for frame in &frames {
            let sliced = SlicedPacket::from_ethernet(frame).expect("every frame parses");
            if let Some(TransportSlice::Tcp(t)) = sliced.transport {
                if t.syn() && !t.ack() {
                    syns.insert((
                        t.source_port(),
                        t.destination_port(),
                        frame[26..34].to_vec(),
                    ));
                }
                finished += usize::from(t.fin() && t.source_port() != 443);
            }
        }
        // 6 MB is 1/179 GiB: 100,000 per GiB would be 560 here.
        let half_open = syns.len().saturating_sub(finished);
        assert!(half_open > 2_000, "{} SYNs, {finished} closed", syns.len());
        // A tenth of the ordinary link rate: the same bytes span ten times the capture time.
        let (ordinary, _) = generate_mix(4, 6_000_000, Format::Pcap, Mix::Ordinary);
        let span = |b: &[u8]| {
            let u32_at =
                |at: usize| u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]));
            let micros = |at: usize| u32_at(at) * 1_000_000 + u32_at(at + 4);
            let mut at = 24;
            let first = micros(at);
            let mut last = first;
            while at + 16 <= b.len() {
                last = micros(at);
                at += 16 + u32_at(at + 8) as usize;
            }
            last - first
        };
        assert!(
            span(&out) >= 5 * span(&ordinary).max(1),
            "{} µs vs {} µs",
            span(&out),
            span(&ordinary)
        );
    }

    /// A hook that records where it was called and returns one marker frame.
    struct Marker(Vec<(u32, i64)>);
    impl PhoneBoots for Marker {
        fn boot(&mut self, index: u32, phone: Ipv4Addr, start_ns: i64) -> Vec<(i64, Vec<u8>)> {
            self.0.push((index, start_ns));
            let ip = ip_udp(
                SocketAddr::new(IpAddr::V4(phone), 50000),
                "10.0.0.1:69".parse().expect("addr"),
                1,
                b"\x00\x01ITLSEP001122334455.tlv\x00octet\x00",
            );
            vec![(start_ns, Link::Raw.wrap(&ip))]
        }
    }

    #[test]
    fn boots_are_spread_evenly_and_written_verbatim() {
        let config = BenchConfig {
            size: 1_000_000,
            format: Format::Pcap,
            seed: 5,
            boots: 4,
            mix: Mix::Ordinary,
        };
        let mut hook = Marker(Vec::new());
        let mut out = Vec::new();
        let stats = write_bench_capture(&config, &mut hook, &mut out).expect("writes");
        assert_eq!(stats.boots, 4);
        assert_eq!(stats.boot_packets, 4);
        assert_eq!(
            hook.0.iter().map(|b| b.0).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert!(
            hook.0.windows(2).all(|w| w[0].1 < w[1].1),
            "boot times increase"
        );
        let marker_positions: Vec<usize> = pcap_frames(&out)
            .iter()
            .enumerate()
            .filter(|(_, f)| f.windows(6).any(|w| w == b"ITLSEP"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(marker_positions.len(), 4);
    }
}
