//! Packet builders: IPv4/IPv6 UDP and TCP packets (checksums right, so Wireshark shows no
//! "bad checksum"), IP fragmentation, and link-layer framing for every link type itlscope
//! reads (Ethernet with 802.1Q/802.1ad tags, Linux SLL and SLL2, raw IP, BSD null/loopback).

use etherparse::{IpNumber, Ipv4Header, PacketBuilder};
use std::net::{IpAddr, SocketAddr};

/// Link-layer framing to put in front of an IP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II. `vlans` are outermost first: one tag is written as 802.1Q (0x8100); with
    /// two, the outer one is 802.1ad (0x88a8), as QinQ does.
    Ethernet {
        /// Source MAC.
        src: [u8; 6],
        /// Destination MAC.
        dst: [u8; 6],
        /// VLAN IDs, outermost first.
        vlans: Vec<u16>,
    },
    /// Linux cooked capture v1 (link type 113).
    Sll,
    /// Linux cooked capture v2 (link type 276).
    Sll2,
    /// Raw IP (link type 101).
    Raw,
    /// Raw IPv4 or IPv6 by link type 228 / 229 (pick the one matching the packet).
    RawV4V6,
    /// BSD loopback, address family in host (little-endian) order (link type 0).
    Null,
    /// OpenBSD loopback, address family in network order (link type 108).
    Loop,
}

impl Link {
    /// The LINKTYPE_ value for this framing; for `RawV4V6` pass whether the packets are IPv6.
    pub fn link_type(&self, ipv6: bool) -> u32 {
        match self {
            Link::Ethernet { .. } => 1,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Raw => 101,
            Link::RawV4V6 if ipv6 => 229,
            Link::RawV4V6 => 228,
            Link::Null => 0,
            Link::Loop => 108,
        }
    }

    /// Frames an IP packet.
    pub fn wrap(&self, ip_packet: &[u8]) -> Vec<u8> {
        let ipv6 = ip_packet.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if ipv6 { 0x86dd } else { 0x0800 };
        let mut out = Vec::with_capacity(ip_packet.len() + 24);
        match self {
            Link::Ethernet { src, dst, vlans } => {
                out.extend_from_slice(dst);
                out.extend_from_slice(src);
                for (i, vid) in vlans.iter().enumerate() {
                    let tpid: u16 = if vlans.len() > 1 && i == 0 {
                        0x88a8
                    } else {
                        0x8100
                    };
                    out.extend_from_slice(&tpid.to_be_bytes());
                    out.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
                }
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll => {
                out.extend_from_slice(&0u16.to_be_bytes()); // packet type: to us
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.extend_from_slice(&6u16.to_be_bytes());
                out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0, 0]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll2 => {
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(&0u16.to_be_bytes()); // reserved
                out.extend_from_slice(&2u32.to_be_bytes()); // interface index
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.push(0); // packet type
                out.push(6); // address length
                out.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0, 0]);
            }
            Link::Raw | Link::RawV4V6 => {}
            Link::Null => {
                let af: u32 = if ipv6 { 30 } else { 2 };
                out.extend_from_slice(&af.to_le_bytes());
            }
            Link::Loop => {
                let af: u32 = if ipv6 { 24 } else { 2 };
                out.extend_from_slice(&af.to_be_bytes());
            }
        }
        out.extend_from_slice(ip_packet);
        out
    }
}

/// TCP header fields for [`ip_tcp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpSpec {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number; `Some` sets the ACK flag.
    pub ack: Option<u32>,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// PSH flag.
    pub psh: bool,
    /// Window.
    pub window: u16,
}

fn ip_step(
    src: IpAddr,
    dst: IpAddr,
    ip_id: u16,
) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h =
                Ipv4Header::new(0, 64, IpNumber::UDP, s.octets(), d.octets()).unwrap_or_default();
            h.identification = ip_id;
            h.dont_fragment = false;
            PacketBuilder::ip(etherparse::IpHeaders::Ipv4(h, Default::default()))
        }
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V6(v) => v.octets(),
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            };
            let h = etherparse::Ipv6Header {
                traffic_class: 0,
                flow_label: Default::default(),
                payload_length: 0,
                next_header: IpNumber::UDP,
                hop_limit: 64,
                source: to6(s),
                destination: to6(d),
            };
            PacketBuilder::ip(etherparse::IpHeaders::Ipv6(h, Default::default()))
        }
    }
}

/// Builds an IP packet carrying one UDP datagram. `ip_id` is the IPv4 identification.
pub fn ip_udp(src: SocketAddr, dst: SocketAddr, ip_id: u16, payload: &[u8]) -> Vec<u8> {
    let builder = ip_step(src.ip(), dst.ip(), ip_id).udp(src.port(), dst.port());
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    // Writing into a Vec cannot fail except for a payload over the IP length limit, which
    // is a bug in the caller's scenario, not input.
    builder
        .write(&mut out, payload)
        .expect("UDP payload fits in one IP packet");
    out
}

/// Builds an IP packet carrying one TCP segment.
pub fn ip_tcp(
    src: SocketAddr,
    dst: SocketAddr,
    ip_id: u16,
    tcp: TcpSpec,
    payload: &[u8],
) -> Vec<u8> {
    let mut step =
        ip_step(src.ip(), dst.ip(), ip_id).tcp(src.port(), dst.port(), tcp.seq, tcp.window);
    if tcp.syn {
        step = step.syn();
    }
    if tcp.fin {
        step = step.fin();
    }
    if tcp.rst {
        step = step.rst();
    }
    if tcp.psh {
        step = step.psh();
    }
    if let Some(ack) = tcp.ack {
        step = step.ack(ack);
    }
    let mut out = Vec::with_capacity(step.size(payload.len()));
    step.write(&mut out, payload)
        .expect("TCP payload fits in one IP packet");
    out
}

/// Splits an IPv4 or IPv6 packet into fragments whose payload is at most `max_payload` bytes
/// (rounded down to a multiple of 8). IPv6 packets must have no extension headers. Returns
/// the packet unchanged (one element) when it already fits.
pub fn fragment(packet: &[u8], max_payload: usize) -> Vec<Vec<u8>> {
    let chunk = (max_payload / 8).max(1) * 8;
    match packet.first().map(|b| b >> 4) {
        Some(4) => fragment_v4(packet, chunk),
        Some(6) => fragment_v6(packet, chunk),
        _ => vec![packet.to_vec()],
    }
}

fn fragment_v4(packet: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let Ok((header, rest)) = Ipv4Header::from_slice(packet) else {
        return vec![packet.to_vec()];
    };
    let payload = &rest[..(usize::from(header.total_len) - header.header_len()).min(rest.len())];
    if payload.len() <= chunk {
        return vec![packet.to_vec()];
    }
    payload
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            let mut h = header.clone();
            h.fragment_offset = etherparse::IpFragOffset::try_new((i * chunk / 8) as u16)
                .expect("fragment offset fits 13 bits for packets under 64 KiB");
            h.more_fragments = (i + 1) * chunk < payload.len();
            h.total_len = (h.header_len() + part.len()) as u16;
            h.header_checksum = h.calc_header_checksum();
            let mut out = Vec::with_capacity(h.header_len() + part.len());
            h.write(&mut out).expect("write to Vec");
            out.extend_from_slice(part);
            out
        })
        .collect()
}

fn fragment_v6(packet: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    if packet.len() <= 40 + chunk {
        return vec![packet.to_vec()];
    }
    let (fixed, payload) = packet.split_at(40);
    let next_header = fixed[6];
    let id: u32 = 0x0000_1234 ^ u32::from(u16::from_be_bytes([fixed[4], fixed[5]]));
    payload
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            let mut out = Vec::with_capacity(48 + part.len());
            out.extend_from_slice(&fixed[..4]);
            out.extend_from_slice(&((8 + part.len()) as u16).to_be_bytes());
            out.push(44); // Fragment extension header follows
            out.extend_from_slice(&fixed[7..40]);
            let more = (i + 1) * chunk < payload.len();
            let off_flags = ((i * chunk / 8) as u16) << 3 | u16::from(more);
            out.push(next_header);
            out.push(0);
            out.extend_from_slice(&off_flags.to_be_bytes());
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(part);
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{SlicedPacket, TransportSlice};

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn tcp_packet_parses_back_with_its_fields() {
        let spec = TcpSpec {
            seq: 7,
            ack: Some(9),
            psh: true,
            window: 1000,
            ..Default::default()
        };
        let ip = ip_tcp(
            addr("192.0.2.10:50000"),
            addr("198.51.100.5:2445"),
            1,
            spec,
            b"abc",
        );
        let frame = Link::Ethernet {
            src: [2; 6],
            dst: [4; 6],
            vlans: vec![100, 200],
        }
        .wrap(&ip);
        let sliced = SlicedPacket::from_ethernet(&frame).expect("parses");
        assert_eq!(sliced.vlan_ids().len(), 2);
        match sliced.transport {
            Some(TransportSlice::Tcp(t)) => {
                assert_eq!(
                    (t.source_port(), t.destination_port(), t.sequence_number()),
                    (50000, 2445, 7)
                );
                assert!(t.psh() && t.ack() && !t.syn());
                assert_eq!(t.payload(), b"abc");
            }
            other => panic!("expected TCP, got {other:?}"),
        }
    }

    #[test]
    fn fragments_cover_the_payload_once() {
        let payload = vec![0x5a; 3000];
        for (src, dst) in [
            ("192.0.2.1:69", "192.0.2.2:5000"),
            ("[2001:db8::1]:69", "[2001:db8::2]:5000"),
        ] {
            let ip = ip_udp(addr(src), addr(dst), 42, &payload);
            let frags = fragment(&ip, 1480);
            assert_eq!(frags.len(), 3);
            let mut pool = etherparse::defrag::IpDefragPool::<u64, ()>::new();
            let mut done = None;
            for f in &frags {
                let sliced = SlicedPacket::from_ip(f).expect("fragment parses");
                if let Some(p) = pool.process_sliced_packet(&sliced, 0, ()).expect("defrag") {
                    done = Some(p.payload);
                }
            }
            let whole = done.expect("reassembled");
            assert_eq!(&whole[8..], &payload[..]);
        }
    }
}
