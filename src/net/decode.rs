//! Frame → [`Packet`]: link header, VLAN tags, IPv4/IPv6 (extension headers), TCP/UDP.
//!
//! Fast path: etherparse's strict slicer, which borrows everything from the frame and
//! allocates nothing. Only when it refuses the frame (snaplen cut, TSO zero length, a lying
//! header) does the lax slicer run, to keep what is usable and to tell a cut packet (kept,
//! marked truncated) from a lying one (counted as malformed, skipped).

use super::defrag::{
    DefragLimits, DefragStats, Defragmenter, FragKey, FragOutcome, Fragment, FragmentDrop,
};
use super::fast;
use super::link::{self, LinkStart};
use super::tunnel::{self, Encapsulation, Peeled, SkipReason};
use super::{Packet, TcpFlags, TcpSegment, Transport};
use crate::capture::{Frame, LinkType};
use crate::events::{LimitEvent, NetworkLimit};
use etherparse::err::Layer;
use etherparse::{
    EtherType, IpNumber, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LinkExtSlice, NetSlice,
    SlicedPacket, TcpSlice, TransportSlice, UdpSlice,
};
use std::fmt;
use std::net::IpAddr;

/// Why a frame was counted as malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MalformedReason {
    /// Shorter than its link-layer header, or a broken VLAN tag.
    LinkHeader,
    /// A broken IP header (bad version, IHL, extension header).
    IpHeader,
    /// A length field claims more bytes than the frame holds although the snaplen did not
    /// cut it.
    LengthPastEnd,
    /// A broken TCP or UDP header (e.g. TCP data offset below 5).
    TransportHeader,
    /// A reassembled datagram whose transport header does not parse.
    ReassembledTransport,
    /// The snaplen cut the frame inside its headers, so not even the ports are known (not
    /// a lie, but nothing to decode; counted apart from the other reasons).
    CutInHeaders,
}

impl MalformedReason {
    /// True when the frame's headers contradict themselves (as opposed to a snaplen cut).
    pub fn is_lie(self) -> bool {
        self != MalformedReason::CutInHeaders
    }
}

impl fmt::Display for MalformedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MalformedReason::LinkHeader => "link-layer header too short or invalid",
            MalformedReason::IpHeader => "invalid IP header",
            MalformedReason::LengthPastEnd => "length field past the end of the frame",
            MalformedReason::TransportHeader => "invalid TCP/UDP header",
            MalformedReason::ReassembledTransport => {
                "invalid TCP/UDP header in a reassembled datagram"
            }
            MalformedReason::CutInHeaders => "cut by the snaplen inside its headers",
        })
    }
}

/// What a frame turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// An IP packet (reassembled if it was fragmented).
    Packet(Packet<'a>),
    /// An IP fragment, kept until its datagram is complete.
    FragmentHeld,
    /// An IP fragment that was not kept (limits, conflicts); counted in the stats.
    FragmentDropped(FragmentDrop),
    /// Not IP (ARP, LLDP, …).
    NotIp,
    /// Headers that lie, or too cut to decode; counted.
    Malformed(MalformedReason),
    /// A link type itlscope does not decode; counted per link type.
    UnsupportedLink(LinkType),
    /// A recognised encapsulation (GRE, ERSPAN, MPLS, …) whose content is not decoded;
    /// counted per reason.
    Encapsulated(SkipReason),
}

/// Counters of the decoder; every frame lands in exactly one of `packets`,
/// `fragments.fragments`, `not_ip`, `malformed`, `cut_in_headers`, `unsupported_links` or
/// `skipped_encapsulations`, a tunnelled frame by what was found inside its tunnel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodeStats {
    /// Frames decoded.
    pub frames: u64,
    /// IP packets produced (reassembled datagrams count once).
    pub packets: u64,
    /// Frames that were not IP.
    pub not_ip: u64,
    /// Frames whose headers lie (see [`MalformedReason::is_lie`]).
    pub malformed: u64,
    /// Frames cut by the snaplen inside their headers.
    pub cut_in_headers: u64,
    /// Packets produced with an incomplete payload (`Packet::truncated`).
    pub truncated_payloads: u64,
    /// Frames the strict slicer refused and the lax one decoded.
    pub lax_decoded: u64,
    /// Frames per unsupported link type.
    pub unsupported_links: Vec<(LinkType, u64)>,
    /// Frames unwrapped per encapsulation (a frame in two nested tunnels counts in both).
    pub encapsulations: Vec<(Encapsulation, u64)>,
    /// Frames inside a recognised encapsulation that were not decoded, per reason (at most
    /// [`MAX_SKIP_REASONS`] reasons; the rest are counted under [`SkipReason::Other`]).
    pub skipped_encapsulations: Vec<(SkipReason, u64)>,
    /// Fragment reassembly (of the outer packets and of those inside tunnels).
    pub fragments: DefragStats,
}

/// How deep tunnels are followed (ERSPAN over GRE over MPLS is three).
pub const MAX_TUNNEL_DEPTH: u8 = 4;

/// Distinct skip reasons kept apart; crafted traffic could name thousands of GRE protocol
/// types.
pub const MAX_SKIP_REASONS: usize = 32;

/// Decodes frames into packets; holds the fragment reassembly state.
pub struct Decoder {
    defrag: Defragmenter,
    stats: DecodeStats,
    tunnels: Tunnels,
    /// The tunnel the frame being decoded came through ([`TunnelId`]; 0 for the capture's
    /// own frames): set by the decoder around this one before each frame.
    via: u64,
}

/// What is inside tunnels: a decoder of its own (inner packets have their own fragments,
/// whose keys must not meet the outer ones), made on the first tunnelled frame.
struct Tunnels {
    /// Nesting level of the decoder that owns this (0 for the capture's own frames).
    depth: u8,
    /// The reassembly limits the inner decoder gets (its own budget, the same size).
    limits: DefragLimits,
    inner: Option<Box<Decoder>>,
    /// The capture's memory budget the inner decoder's reassembler is charged to.
    memory: Option<crate::budget::MemoryBudget>,
    /// Frames unwrapped per [`Encapsulation::index`].
    counts: [u64; Encapsulation::ALL.len()],
    skipped: Vec<(SkipReason, u64)>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DefragLimits::default())
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A fragment's position as found in its header, before it is handed to the reassembler.
struct FragInfo<'a> {
    protocol: u8,
    id: u32,
    offset: usize,
    more: bool,
    data: &'a [u8],
}

impl Decoder {
    /// A decoder with the given reassembly limits.
    pub fn new(limits: DefragLimits) -> Self {
        Decoder::at_depth(limits, 0)
    }

    fn at_depth(limits: DefragLimits, depth: u8) -> Self {
        Decoder {
            via: 0,
            defrag: Defragmenter::new(limits),
            stats: DecodeStats::default(),
            tunnels: Tunnels {
                depth,
                limits,
                inner: None,
                memory: None,
                counts: [0; Encapsulation::ALL.len()],
                skipped: Vec::new(),
            },
        }
    }

    /// Charges fragments held for reassembly (here and inside tunnels) to `memory`, the
    /// capture's budget ([`crate::budget`]), on top of the reassembly limits.
    pub fn set_memory(&mut self, memory: &crate::budget::MemoryBudget) {
        self.defrag.set_memory(memory);
        self.tunnels.memory = Some(memory.clone());
        if let Some(inner) = &mut self.tunnels.inner {
            inner.set_memory(memory);
        }
    }

    /// The reassembly limits in force.
    pub fn limits(&self) -> &DefragLimits {
        self.defrag.limits()
    }

    /// Counters so far (fragments still pending at the end of a capture never completed),
    /// including what was found inside tunnels.
    pub fn stats(&self) -> DecodeStats {
        let mut stats = DecodeStats {
            fragments: self.defrag.stats(),
            ..self.stats.clone()
        };
        let t = &self.tunnels;
        for (kind, n) in Encapsulation::ALL.iter().zip(t.counts) {
            if n > 0 {
                stats.encapsulations.push((*kind, n));
            }
        }
        stats.skipped_encapsulations.clone_from(&t.skipped);
        if let Some(inner) = &t.inner {
            stats.add_inner(inner.stats());
        }
        stats
    }

    /// The limits that cut something off, typed, for [`crate::evidence::CaptureSummary`]
    /// (`limits_hit`; the report words them); empty when nothing was lost to a limit.
    pub fn limits_hit(&self) -> Vec<LimitEvent> {
        let mut out = self.own_limits_hit();
        if let Some(inner) = &self.tunnels.inner {
            out.extend(
                inner
                    .limits_hit()
                    .into_iter()
                    .map(LimitEvent::inside_tunnel),
            );
        }
        out
    }

    fn own_limits_hit(&self) -> Vec<LimitEvent> {
        let f = self.defrag.stats();
        let l = self.defrag.limits();
        let at = f.first_frames;
        let to_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        [
            (
                NetworkLimit::FragmentsOverBudget {
                    count: f.dropped_by_cap,
                    max_bytes: to_u64(l.max_total_bytes),
                    max_datagrams: to_u64(l.max_datagrams),
                },
                at.cap,
            ),
            (
                NetworkLimit::FragmentsExpired {
                    count: f.expired,
                    timeout: l.timeout,
                },
                at.expired,
            ),
            (
                NetworkLimit::FragmentsOversize {
                    count: f.oversize,
                    max_bytes: to_u64(l.max_datagram_bytes),
                },
                at.oversize,
            ),
            (
                NetworkLimit::FragmentsConflicting {
                    count: f.conflicting,
                },
                at.conflicting,
            ),
            (
                NetworkLimit::FragmentsTruncated {
                    count: f.truncated_fragments,
                },
                at.truncated,
            ),
            (
                NetworkLimit::FragmentsMalformed {
                    count: f.bad_fragments,
                },
                at.malformed,
            ),
            (
                NetworkLimit::FragmentsPendingAtEnd { count: f.pending },
                at.pending,
            ),
            (
                NetworkLimit::FragmentsMemoryBudget {
                    evicted: f.memory_evicted,
                    refused: f.memory_refused,
                    budget: to_u64(self.defrag.memory_cap()),
                },
                f.memory_first_frame,
            ),
        ]
        .into_iter()
        .map(|(limit, first_frame)| LimitEvent::Network {
            tunnel_depth: 0,
            limit,
            first_frame,
        })
        .filter(|e| e.count() > 0)
        .collect()
    }

    /// Decodes one frame. The packet borrows from the frame, or from the decoder when it
    /// was reassembled from fragments.
    #[inline]
    pub fn decode<'a>(&'a mut self, frame: &Frame<'a>) -> Decoded<'a> {
        // Ethernet, nearly every frame: straight to the fast decoder, without the link
        // type's dispatch in `link::strip` (which gives `LinkStart::Ethernet(data)` for it)
        // nor `decode_start`'s match on its result (issue 19, tls-heavy).
        if frame.link_type == LinkType::ETHERNET {
            if let Some(f) = fast::ethernet(frame.data) {
                self.stats.frames += 1;
                return self.packet(frame, f.addrs, f.vlan, f.transport, false);
            }
            return self.decode_etherparse(frame, LinkStart::Ethernet(frame.data));
        }
        let start = link::strip(frame.link_type, frame.data);
        self.decode_start(frame, start)
    }

    /// Decodes a frame whose network layer begins at `start` (the frame itself, or the
    /// inside of a tunnel in it: a sub-slice of `frame.data`, so the frame's number, time
    /// and snaplen cut apply to it).
    fn decode_start<'a>(&'a mut self, frame: &Frame<'a>, start: LinkStart<'a>) -> Decoded<'a> {
        // Most frames are plain TCP/UDP over IPv4/IPv6: read them by hand (a third of the
        // packet path's instructions went to etherparse's general slicer).
        let fast = match start {
            LinkStart::Ethernet(d) => fast::ethernet(d),
            LinkStart::EtherType(t, d) => fast::ether_type(t, d),
            _ => None,
        };
        if let Some(f) = fast {
            self.stats.frames += 1;
            return self.packet(frame, f.addrs, f.vlan, f.transport, false);
        }
        self.decode_etherparse(frame, start)
    }

    /// [`Decoder::decode`] without the fast path: link-level tunnels (MPLS, PPPoE), then
    /// etherparse (every frame the fast path declines).
    pub(super) fn decode_etherparse<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        start: LinkStart<'a>,
    ) -> Decoded<'a> {
        self.stats.frames += 1;
        // MPLS and PPPoE sit where the EtherType is; etherparse would call them "not IP".
        if let Some(peeled) = tunnel::link_level(start) {
            return self.tunnels.peel(frame, peeled, self.via, None);
        }
        // The sliced packet is a few hundred bytes: it is passed by reference from where it
        // is built, as moving it out of a `match` cost a memcpy per packet (8% in profiles).
        match start {
            LinkStart::Ethernet(d) => {
                self.strict_or_lax(frame, start, &SlicedPacket::from_ethernet(d))
            }
            LinkStart::EtherType(t, d) => self.strict_or_lax(
                frame,
                start,
                &SlicedPacket::from_ether_type(EtherType(t), d),
            ),
            LinkStart::Ip(d) => self.strict_or_lax(frame, start, &SlicedPacket::from_ip(d)),
            // An LLC header is read by `link_level` above; never reached.
            LinkStart::NotIp | LinkStart::Llc(_) => self.not_ip(),
            LinkStart::TooShort => self.bad(frame, MalformedReason::LinkHeader),
            LinkStart::Unsupported => self.unsupported(frame.link_type),
        }
    }

    fn strict_or_lax<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        start: LinkStart<'a>,
        strict: &Result<SlicedPacket<'a>, etherparse::err::packet::SliceError>,
    ) -> Decoded<'a> {
        match strict {
            Ok(sliced) => self.decode_strict(frame, sliced),
            Err(_) => self.decode_lax(frame, start),
        }
    }

    fn not_ip<'a>(&mut self) -> Decoded<'a> {
        self.stats.not_ip += 1;
        Decoded::NotIp
    }

    fn unsupported<'a>(&mut self, lt: LinkType) -> Decoded<'a> {
        match self
            .stats
            .unsupported_links
            .iter_mut()
            .find(|(l, _)| *l == lt)
        {
            Some((_, n)) => *n += 1,
            None => self.stats.unsupported_links.push((lt, 1)),
        }
        Decoded::UnsupportedLink(lt)
    }

    /// Counts a frame that cannot be decoded: a lie, or a snaplen cut inside the headers.
    fn bad<'a>(&mut self, frame: &Frame<'_>, reason: MalformedReason) -> Decoded<'a> {
        let reason = if frame.truncated() {
            MalformedReason::CutInHeaders
        } else {
            reason
        };
        if reason.is_lie() {
            self.stats.malformed += 1;
        } else {
            self.stats.cut_in_headers += 1;
        }
        Decoded::Malformed(reason)
    }

    #[inline]
    fn packet<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        (src, dst): (IpAddr, IpAddr),
        vlan: Option<u16>,
        transport: Transport<'a>,
        truncated: bool,
    ) -> Decoded<'a> {
        if let Some(peeled) = tunnel_in(&transport) {
            return self.tunnels.peel(frame, peeled, self.via, Some((src, dst)));
        }
        self.stats.packets += 1;
        if truncated {
            self.stats.truncated_payloads += 1;
        }
        Decoded::Packet(Packet {
            frame: frame.number,
            ts: frame.ts,
            src,
            dst,
            vlan,
            transport,
            truncated,
        })
    }

    fn decode_strict<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        sliced: &SlicedPacket<'a>,
    ) -> Decoded<'a> {
        let vlans = Vlans::collect(sliced.link_exts.iter().filter_map(|e| match e {
            LinkExtSlice::Vlan(v) => Some(v.vlan_identifier().value()),
            _ => None,
        }));
        let vlan = vlans.outer();
        let (addrs, protocol, fragment) = match &sliced.net {
            Some(NetSlice::Ipv4(ip)) => {
                let h = ip.header();
                let addrs = (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                );
                let frag = ip.payload().fragmented.then(|| FragInfo {
                    protocol: h.protocol().0,
                    id: u32::from(h.identification()),
                    offset: usize::from(h.fragments_offset().value()) * 8,
                    more: h.more_fragments(),
                    data: ip.payload().payload,
                });
                (addrs, ip.payload().ip_number.0, frag)
            }
            Some(NetSlice::Ipv6(ip)) => {
                let h = ip.header();
                let addrs = (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                );
                let frag = if ip.payload().fragmented {
                    match ipv6_fragment(frame.data, h.slice()) {
                        Some(f) => Some(f),
                        None => return self.bad(frame, MalformedReason::IpHeader),
                    }
                } else {
                    None
                };
                (addrs, ip.payload().ip_number.0, frag)
            }
            _ => return self.not_ip(),
        };
        if let Some(f) = fragment {
            return self.reassemble(frame, addrs, vlans, vlan, f);
        }
        let transport = match &sliced.transport {
            Some(TransportSlice::Udp(u)) => udp(u),
            Some(TransportSlice::Tcp(t)) => tcp(t),
            _ => Transport::Other {
                protocol,
                payload: ip_payload(&sliced.net),
            },
        };
        self.packet(frame, addrs, vlan, transport, false)
    }

    fn decode_lax<'a>(&'a mut self, frame: &Frame<'a>, start: LinkStart<'a>) -> Decoded<'a> {
        let lax = match start {
            LinkStart::Ethernet(d) => match LaxSlicedPacket::from_ethernet(d) {
                Ok(p) => p,
                Err(_) => return self.bad(frame, MalformedReason::LinkHeader),
            },
            LinkStart::EtherType(t, d) => LaxSlicedPacket::from_ether_type(EtherType(t), d),
            LinkStart::Ip(d) => match LaxSlicedPacket::from_ip(d) {
                Ok(p) => p,
                Err(_) => return self.bad(frame, MalformedReason::IpHeader),
            },
            LinkStart::NotIp | LinkStart::Llc(_) => return self.not_ip(),
            LinkStart::TooShort => return self.bad(frame, MalformedReason::LinkHeader),
            LinkStart::Unsupported => return self.unsupported(frame.link_type),
        };
        self.stats.lax_decoded += 1;
        let stop_reason = lax.stop_err.as_ref().map(|(_, layer)| reason_for(*layer));
        let vlans = Vlans::collect(lax.link_exts.iter().filter_map(|e| match e {
            LaxLinkExtSlice::Vlan(v) => Some(v.vlan_identifier().value()),
            _ => None,
        }));
        let vlan = vlans.outer();
        let (addrs, payload, fragment) = match &lax.net {
            Some(LaxNetSlice::Ipv4(ip)) => {
                let h = ip.header();
                let p = ip.payload();
                let frag = p.fragmented.then(|| FragInfo {
                    protocol: h.protocol().0,
                    id: u32::from(h.identification()),
                    offset: usize::from(h.fragments_offset().value()) * 8,
                    more: h.more_fragments(),
                    data: p.payload,
                });
                let addrs = (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                );
                (addrs, p, frag)
            }
            Some(LaxNetSlice::Ipv6(ip)) => {
                let h = ip.header();
                let p = ip.payload();
                let frag = if p.fragmented {
                    match ipv6_fragment(frame.data, h.slice()) {
                        Some(f) => Some(f),
                        None => return self.bad(frame, MalformedReason::IpHeader),
                    }
                } else {
                    None
                };
                let addrs = (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                );
                (addrs, p, frag)
            }
            Some(_) => return self.not_ip(),
            None => {
                return match stop_reason {
                    Some(r) => self.bad(frame, r),
                    None => self.not_ip(),
                };
            }
        };
        let cut = frame.truncated();
        if payload.incomplete && !cut {
            return self.bad(frame, MalformedReason::LengthPastEnd);
        }
        let protocol = payload.ip_number.0;
        let ip_incomplete = payload.incomplete;
        if let Some(f) = fragment {
            if ip_incomplete {
                return self.refuse_fragment(FragmentDrop::Truncated, frame.number);
            }
            return self.reassemble(frame, addrs, vlans, vlan, f);
        }
        match &lax.transport {
            Some(TransportSlice::Udp(u)) => {
                let short = usize::from(u.length()) > 8 + u.payload().len();
                if short && !cut {
                    return self.bad(frame, MalformedReason::LengthPastEnd);
                }
                self.packet(frame, addrs, vlan, udp(u), ip_incomplete || short)
            }
            Some(TransportSlice::Tcp(t)) => self.packet(frame, addrs, vlan, tcp(t), ip_incomplete),
            Some(_) => self.packet(
                frame,
                addrs,
                vlan,
                Transport::Other {
                    protocol,
                    payload: payload.payload,
                },
                ip_incomplete,
            ),
            None => match stop_reason {
                Some(r) => self.bad(frame, r),
                None => self.packet(
                    frame,
                    addrs,
                    vlan,
                    Transport::Other {
                        protocol,
                        payload: payload.payload,
                    },
                    ip_incomplete,
                ),
            },
        }
    }

    fn refuse_fragment<'a>(&mut self, why: FragmentDrop, frame: u64) -> Decoded<'a> {
        let _ = self.defrag.refuse(why, frame);
        Decoded::FragmentDropped(why)
    }

    fn reassemble<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        addrs: (IpAddr, IpAddr),
        vlans: Vlans,
        vlan: Option<u16>,
        f: FragInfo<'a>,
    ) -> Decoded<'a> {
        let fragment = Fragment {
            key: FragKey {
                src: addrs.0,
                dst: addrs.1,
                protocol: f.protocol,
                id: f.id,
                vlans: vlans.ids,
                interface: frame.interface,
                tunnel: self.via,
            },
            offset: f.offset,
            more: f.more,
            data: f.data,
            ts: frame.ts,
            frame: frame.number,
        };
        let ipv6 = addrs.0.is_ipv6();
        let (protocol, payload) = match self.defrag.add(fragment) {
            FragOutcome::Held => return Decoded::FragmentHeld,
            FragOutcome::Dropped(why) => return Decoded::FragmentDropped(why),
            FragOutcome::Complete { protocol, payload } => (protocol, payload),
        };
        // The reassembled IPv6 payload may start with more extension headers (those that
        // followed the fragment header in the first fragment).
        let (protocol, payload) = if ipv6 {
            match etherparse::Ipv6ExtensionsSlice::from_slice(IpNumber(protocol), payload) {
                Ok((_, next, rest)) => (next.0, rest),
                Err(_) => (protocol, payload),
            }
        } else {
            (protocol, payload)
        };
        let transport = match IpNumber(protocol) {
            IpNumber::UDP => match UdpSlice::from_slice(payload) {
                Ok(u) => udp(&u),
                Err(_) => {
                    self.stats.malformed += 1;
                    return Decoded::Malformed(MalformedReason::ReassembledTransport);
                }
            },
            IpNumber::TCP => match TcpSlice::from_slice(payload) {
                Ok(t) => tcp(&t),
                Err(_) => {
                    self.stats.malformed += 1;
                    return Decoded::Malformed(MalformedReason::ReassembledTransport);
                }
            },
            _ => Transport::Other { protocol, payload },
        };
        if let Some(peeled) = tunnel_in(&transport) {
            return self.tunnels.peel(frame, peeled, self.via, Some(addrs));
        }
        self.stats.packets += 1;
        Decoded::Packet(Packet {
            frame: frame.number,
            ts: frame.ts,
            src: addrs.0,
            dst: addrs.1,
            vlan,
            transport,
            truncated: false,
        })
    }
}

/// The encapsulation a packet carries, if any: GRE, MPLS, IP in IP, EtherIP or ESP by
/// protocol number, VXLAN, Geneve or GTP-U by UDP port.
fn tunnel_in<'a>(transport: &Transport<'a>) -> Option<Peeled<'a>> {
    match *transport {
        Transport::Other { protocol, payload } => tunnel::ip_level(protocol, payload),
        Transport::Udp {
            dst_port, payload, ..
        } => match dst_port {
            tunnel::VXLAN_PORT => tunnel::vxlan(payload),
            tunnel::GENEVE_PORT => tunnel::geneve(payload),
            tunnel::GTPU_PORT => tunnel::gtpu(payload),
            _ => None,
        },
        _ => None,
    }
}

/// What identifies a tunnel a frame came through: the tunnel around it, its kind, the outer
/// packet's addresses, the outer VLAN, the tunnel's own key and the capture interface.
#[derive(Hash)]
struct TunnelId {
    via: u64,
    kind: Encapsulation,
    outer: Option<(IpAddr, IpAddr)>,
    vlan: Option<u16>,
    key: u32,
    interface: u32,
}

impl TunnelId {
    /// A fixed-key hash of the identity (never 0, which means "no tunnel"): a 64-bit
    /// summary keeps the fragment key small and `Copy`; two distinct tunnels colliding
    /// would need 2^32 of them in one capture.
    fn hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // `DefaultHasher::new` has fixed keys: the same tunnel gets the same ID all run long.
        let mut h = std::hash::DefaultHasher::new();
        Hash::hash(self, &mut h);
        h.finish().max(1)
    }
}

/// The payload of a strictly sliced IP packet.
fn ip_payload<'a>(net: &Option<NetSlice<'a>>) -> &'a [u8] {
    match net {
        Some(NetSlice::Ipv4(ip)) => ip.payload().payload,
        Some(NetSlice::Ipv6(ip)) => ip.payload().payload,
        _ => &[],
    }
}

impl Tunnels {
    /// Decodes what a tunnel carries with the inner decoder (made on first use), or counts
    /// why it is not decoded. `via` is the tunnel the outer frame itself came through and
    /// `outer` the outer packet's addresses (none for MPLS and PPPoE on the link).
    fn peel<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        peeled: Peeled<'a>,
        via: u64,
        outer: Option<(IpAddr, IpAddr)>,
    ) -> Decoded<'a> {
        let (kind, start, vlan, key) = match peeled {
            Peeled::Inner {
                kind,
                start,
                vlan,
                key,
            } => (kind, start, vlan, key),
            Peeled::Skipped(why) => return self.skip(why),
        };
        if self.depth + 1 >= MAX_TUNNEL_DEPTH {
            return self.skip(SkipReason::TooDeep);
        }
        if let Some(n) = self.counts.get_mut(kind.index()) {
            *n += 1;
        }
        let depth = self.depth + 1;
        let memory = &self.memory;
        let inner = self.inner.get_or_insert_with(|| {
            let mut d = Decoder::at_depth(self.limits, depth);
            if let Some(m) = memory {
                d.set_memory(m);
            }
            Box::new(d)
        });
        // One inner decoder serves every tunnel at this depth: its fragments are told apart
        // by the tunnel they came through (two tunnels may carry the same inner addresses
        // and IP IDs).
        inner.via = TunnelId {
            via,
            kind,
            outer,
            vlan,
            key,
            interface: frame.interface,
        }
        .hash();
        match inner.decode_start(frame, start) {
            Decoded::Packet(mut p) => {
                p.vlan = p.vlan.or(vlan);
                Decoded::Packet(p)
            }
            other => other,
        }
    }

    fn skip<'a>(&mut self, why: SkipReason) -> Decoded<'a> {
        let why = if self.skipped.len() >= MAX_SKIP_REASONS
            && !self.skipped.iter().any(|(r, _)| *r == why)
        {
            SkipReason::Other
        } else {
            why
        };
        match self.skipped.iter_mut().find(|(r, _)| *r == why) {
            Some((_, n)) => *n += 1,
            None => self.skipped.push((why, 1)),
        }
        Decoded::Encapsulated(why)
    }
}

impl DecodeStats {
    /// Adds the counts of the decoder inside tunnels (its frames are already counted here).
    fn add_inner(&mut self, inner: DecodeStats) {
        self.packets += inner.packets;
        self.not_ip += inner.not_ip;
        self.malformed += inner.malformed;
        self.cut_in_headers += inner.cut_in_headers;
        self.truncated_payloads += inner.truncated_payloads;
        self.lax_decoded += inner.lax_decoded;
        for (kind, n) in inner.encapsulations {
            match self.encapsulations.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, m)) => *m += n,
                None => self.encapsulations.push((kind, n)),
            }
        }
        for (why, n) in inner.skipped_encapsulations {
            match self
                .skipped_encapsulations
                .iter_mut()
                .find(|(r, _)| *r == why)
            {
                Some((_, m)) => *m += n,
                None => self.skipped_encapsulations.push((why, n)),
            }
        }
        self.fragments.add(&inner.fragments);
    }
}

/// Up to three VLAN IDs, outermost first, in one pass over the link extensions (no
/// allocation; etherparse's `vlan_ids()` showed up in profiles when called per packet).
#[derive(Clone, Copy)]
struct Vlans {
    /// 0 marks "no tag"; a real VLAN 0 (priority tag) is stored as 0x1000, out of range for
    /// a 12-bit ID, so the two stay distinct in fragment keys.
    ids: [u16; 3],
}

impl Vlans {
    fn collect(ids: impl Iterator<Item = u16>) -> Vlans {
        let mut out = [0u16; 3];
        for (slot, id) in out.iter_mut().zip(ids) {
            *slot = if id == 0 { 0x1000 } else { id };
        }
        Vlans { ids: out }
    }

    fn outer(self) -> Option<u16> {
        match self.ids[0] {
            0 => None,
            0x1000 => Some(0),
            id => Some(id),
        }
    }
}

fn udp<'a>(u: &UdpSlice<'a>) -> Transport<'a> {
    Transport::Udp {
        src_port: u.source_port(),
        dst_port: u.destination_port(),
        payload: u.payload(),
    }
}

fn tcp<'a>(t: &TcpSlice<'a>) -> Transport<'a> {
    Transport::Tcp(TcpSegment {
        src_port: t.source_port(),
        dst_port: t.destination_port(),
        seq: t.sequence_number(),
        ack: t.acknowledgment_number(),
        flags: TcpFlags {
            syn: t.syn(),
            ack: t.ack(),
            fin: t.fin(),
            rst: t.rst(),
            psh: t.psh(),
        },
        window: t.window_size(),
        payload: t.payload(),
    })
}

/// Maps the layer where lax slicing stopped to a reason.
fn reason_for(layer: Layer) -> MalformedReason {
    match layer {
        Layer::LinuxSllHeader
        | Layer::Ethernet2Header
        | Layer::EtherPayload
        | Layer::VlanHeader
        | Layer::MacsecHeader
        | Layer::MacsecPacket => MalformedReason::LinkHeader,
        Layer::UdpHeader | Layer::UdpPayload | Layer::TcpHeader => MalformedReason::TransportHeader,
        _ => MalformedReason::IpHeader,
    }
}

/// Upper bound on IPv6 extension headers walked before the fragment header.
const MAX_V6_EXTENSIONS: usize = 16;

/// Finds the fragment header of an IPv6 packet and returns what follows it (the fragment's
/// data, which in the first fragment may begin with further extension headers).
///
/// `header` is etherparse's slice of the 40-byte fixed header, a sub-slice of `frame`; the
/// walk is done here because etherparse reports the payload after *all* extension headers,
/// while reassembly needs the bytes right after the fragment header.
fn ipv6_fragment<'a>(frame: &'a [u8], header: &[u8]) -> Option<FragInfo<'a>> {
    let at = (header.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?;
    let packet = frame.get(at..)?;
    let byte = |i: usize| packet.get(i).copied();
    let payload_len = usize::from(u16::from_be_bytes([byte(4)?, byte(5)?]));
    // Payload length 0 is a jumbogram or a TSO capture: the frame decides.
    let limit = if payload_len == 0 {
        packet.len()
    } else {
        (40 + payload_len).min(packet.len())
    };
    let mut next = byte(6)?;
    let mut pos = 40usize;
    for _ in 0..MAX_V6_EXTENSIONS {
        match IpNumber(next) {
            IpNumber::IPV6_HEADER_HOP_BY_HOP
            | IpNumber::IPV6_ROUTE_HEADER
            | IpNumber::IPV6_DESTINATION_OPTIONS => {
                let len = (usize::from(byte(pos + 1)?) + 1) * 8;
                next = byte(pos)?;
                pos += len;
            }
            IpNumber::AUTHENTICATION_HEADER => {
                let len = (usize::from(byte(pos + 1)?) + 2) * 4;
                next = byte(pos)?;
                pos += len;
            }
            IpNumber::IPV6_FRAGMENTATION_HEADER => {
                let off_flags = u16::from_be_bytes([byte(pos + 2)?, byte(pos + 3)?]);
                let id = u32::from_be_bytes([
                    byte(pos + 4)?,
                    byte(pos + 5)?,
                    byte(pos + 6)?,
                    byte(pos + 7)?,
                ]);
                return Some(FragInfo {
                    protocol: byte(pos)?,
                    id,
                    offset: usize::from(off_flags >> 3) * 8,
                    more: off_flags & 1 == 1,
                    data: packet.get(pos + 8..limit)?,
                });
            }
            _ => return None,
        }
        if pos > limit {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tunnel_tests {
    use super::*;
    use crate::capture::Timestamp;

    /// A raw IPv4 header (checksum not needed by the decoder) around `payload`.
    fn ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
        let len = (20 + payload.len()) as u16;
        let mut p = vec![
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    /// `levels` GRE tunnels around a UDP datagram.
    fn nested(levels: usize) -> Vec<u8> {
        let udp = [0x13, 0x88, 0x00, 0x45, 0x00, 0x09, 0x00, 0x00, b'x'];
        let mut packet = ipv4(17, &udp);
        for _ in 0..levels {
            let mut gre = vec![0x00, 0x00, 0x08, 0x00];
            gre.append(&mut packet);
            packet = ipv4(47, &gre);
        }
        packet
    }

    fn decode_raw(decoder: &mut Decoder, data: &[u8]) -> bool {
        let frame = Frame {
            number: 1,
            ts: Timestamp(0),
            link_type: LinkType::RAW,
            interface: 0,
            data,
            orig_len: data.len() as u32,
        };
        matches!(decoder.decode(&frame), Decoded::Packet(_))
    }

    #[test]
    fn tunnels_are_followed_three_deep_and_counted() {
        let mut d = Decoder::default();
        assert!(decode_raw(&mut d, &nested(3)));
        let s = d.stats();
        assert_eq!(s.frames, 1);
        assert_eq!(s.packets, 1, "only the innermost packet counts");
        assert_eq!(s.encapsulations, vec![(Encapsulation::Gre, 3)]);
        assert!(!decode_raw(&mut d, &nested(4)));
        let s = d.stats();
        assert_eq!(s.packets, 1);
        assert_eq!(s.skipped_encapsulations, vec![(SkipReason::TooDeep, 1)]);
    }

    /// An IPv4 fragment from `src` to 10.0.0.2 with IP ID `id`.
    fn ipv4_fragment(
        src: [u8; 4],
        protocol: u8,
        id: u16,
        offset8: u16,
        more: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut p = ipv4(protocol, payload);
        p[4..6].copy_from_slice(&id.to_be_bytes());
        let flags = offset8 | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&flags.to_be_bytes());
        p[12..16].copy_from_slice(&src);
        p
    }

    /// Issue 19, item 3: two GRE tunnels (from different outer addresses) carrying the same
    /// inner addresses and IP ID reassemble apart; before, their fragments met in one
    /// reassembler and were dropped as "overlapping fragments disagreed".
    #[test]
    fn two_gre_tunnels_with_the_same_inner_ip_id_reassemble_apart() {
        let udp = |fill: u8| {
            let mut u = vec![0x13, 0x88, 0x00, 0x45, 0x00, 0x20, 0x00, 0x00];
            u.extend_from_slice(&[fill; 24]);
            u
        };
        let (a, b) = (udp(b'a'), udp(b'b'));
        // Inner fragments: 16 bytes at offset 0, the other 16 at offset 2 (x 8 bytes).
        let inner = |d: &[u8], first: bool| {
            if first {
                ipv4_fragment([10, 0, 0, 1], 17, 7, 0, true, &d[..16])
            } else {
                ipv4_fragment([10, 0, 0, 1], 17, 7, 2, false, &d[16..])
            }
        };
        let outer = |tunnel_src: [u8; 4], packet: Vec<u8>| {
            let mut gre = vec![0x00, 0x00, 0x08, 0x00];
            gre.extend_from_slice(&packet);
            let mut o = ipv4(47, &gre);
            o[12..16].copy_from_slice(&tunnel_src);
            o
        };
        let frames = [
            outer([192, 0, 2, 1], inner(&a, true)),
            outer([192, 0, 2, 9], inner(&b, true)),
            outer([192, 0, 2, 1], inner(&a, false)),
            outer([192, 0, 2, 9], inner(&b, false)),
        ];
        let mut d = Decoder::default();
        let mut payloads = Vec::new();
        for f in &frames {
            let frame = Frame {
                number: 1,
                ts: Timestamp(0),
                link_type: LinkType::RAW,
                interface: 0,
                data: f,
                orig_len: f.len() as u32,
            };
            if let Decoded::Packet(p) = d.decode(&frame) {
                payloads.push(p.transport.payload().to_vec());
            }
        }
        let s = d.stats();
        assert_eq!(s.fragments.conflicting, 0, "{:?}", s.fragments);
        assert_eq!(s.fragments.reassembled, 2);
        assert_eq!(payloads, vec![vec![b'a'; 24], vec![b'b'; 24]]);
        // The same inner fragments through one tunnel still disagree (RFC 5722).
        let mut d = Decoder::default();
        for f in [
            outer([192, 0, 2, 1], inner(&a, true)),
            outer([192, 0, 2, 1], inner(&b, true)),
        ] {
            let frame = Frame {
                number: 1,
                ts: Timestamp(0),
                link_type: LinkType::RAW,
                interface: 0,
                data: &f,
                orig_len: f.len() as u32,
            };
            let _ = d.decode(&frame);
        }
        assert_eq!(d.stats().fragments.conflicting, 1);
    }

    #[test]
    fn skip_reasons_are_bounded() {
        let mut d = Decoder::default();
        for protocol in 0..200u16 {
            let mut gre = vec![0x00, 0x00];
            gre.extend_from_slice(&(0x9000 + protocol).to_be_bytes());
            assert!(!decode_raw(&mut d, &ipv4(47, &gre)));
        }
        let s = d.stats();
        assert_eq!(s.skipped_encapsulations.len(), MAX_SKIP_REASONS + 1);
        let total: u64 = s.skipped_encapsulations.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 200);
    }
}
