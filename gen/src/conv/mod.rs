//! Conversation builders: whole exchanges (TFTP reads, TCP connections, HTTP GETs on 6970,
//! TLS handshakes, SIP alarms) written as timed IP packets into a [`Trace`], which then
//! becomes a pcap or pcapng file with the chosen link framing.
//!
//! Every builder takes the time to start at and leaves the trace's packets in time order
//! once [`Trace::finish`] sorts them; all times are nanoseconds since the Unix epoch.

pub mod http;
pub mod sip;
pub mod tcp;
pub mod tftp;
pub mod tls_session;

use crate::packet::{Link, fragment, ip_tcp, ip_udp};
use crate::pcap::{Endian, PcapNgWriter, PcapWriter, Precision};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// One millisecond in nanoseconds.
pub const MS: i64 = 1_000_000;
/// One second in nanoseconds.
pub const SEC: i64 = 1_000_000_000;

/// A machine on the wire: its MAC (as seen at the capture point) and IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// MAC address. For a server behind a router this is the router's MAC.
    pub mac: [u8; 6],
    /// IP address.
    pub ip: IpAddr,
}

impl Host {
    /// A host from a MAC and an address string (panics on a bad literal: scenario data).
    pub fn new(mac: [u8; 6], ip: &str) -> Self {
        Host {
            mac,
            ip: ip.parse().expect("scenario IP literal"),
        }
    }

    /// The socket address of this host on `port`.
    pub fn at(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.ip, port)
    }
}

/// Which end of a conversation sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The phone (the side that opened the connection / sent the request).
    Client,
    /// The server.
    Server,
}

impl Side {
    /// The other end.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// A packet in the trace: time, MACs, and the IP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracePacket {
    /// Capture time, ns since the epoch.
    pub ts: i64,
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// The IP packet (a fragment when the datagram exceeded the MTU).
    pub ip: Vec<u8>,
}

/// Link framing of a written capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// Ethernet, with 802.1Q tags (outermost first) on every frame.
    Ethernet {
        /// VLAN IDs; empty for untagged.
        vlans: Vec<u16>,
    },
    /// Linux cooked capture v2 (as `tcpdump -i any` writes).
    Sll2,
    /// Raw IP.
    Raw,
    /// Ethernet frames (with `vlans`) carried in an encapsulation, as a remote switch's
    /// ERSPAN session or a provider network delivers them.
    Tunnel {
        /// The encapsulation.
        encap: crate::tunnel::Encap,
        /// VLAN IDs of the mirrored frames, outermost first.
        vlans: Vec<u16>,
    },
}

/// File format of a written capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Legacy pcap, little-endian, microseconds.
    Pcap,
    /// pcapng, one interface, microsecond resolution.
    PcapNg,
}

/// A capture being built: packets with times. Packets may be pushed out of order (a
/// conversation builder runs ahead on its own clock); [`Trace::finish`] sorts them stably.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    packets: Vec<TracePacket>,
    ip_ids: BTreeMap<IpAddr, u16>,
    mtu: usize,
}

impl Trace {
    /// An empty trace with a 1500-byte MTU.
    pub fn new() -> Self {
        Trace {
            packets: Vec::new(),
            ip_ids: BTreeMap::new(),
            mtu: 1500,
        }
    }

    /// The next IPv4 identification of this sender (per-host counter, seeded by the
    /// address so hosts do not share ids).
    fn next_ip_id(&mut self, src: IpAddr) -> u16 {
        let seed = match src {
            IpAddr::V4(v) => u16::from_be_bytes([v.octets()[2], v.octets()[3]]).wrapping_mul(97),
            IpAddr::V6(v) => u16::from_be_bytes([v.octets()[14], v.octets()[15]]).wrapping_mul(97),
        };
        let id = self.ip_ids.entry(src).or_insert(seed);
        *id = id.wrapping_add(1);
        *id
    }

    /// Adds an IP packet, fragmenting it at the MTU.
    pub fn push_ip(&mut self, ts: i64, src: &Host, dst: &Host, ip: Vec<u8>) {
        let frags = if ip.len() > self.mtu {
            let header = if src.ip.is_ipv6() { 48 } else { 20 };
            fragment(&ip, self.mtu - header)
        } else {
            vec![ip]
        };
        for f in frags {
            self.packets.push(TracePacket {
                ts,
                src_mac: src.mac,
                dst_mac: dst.mac,
                ip: f,
            });
        }
    }

    /// Adds a UDP datagram.
    pub fn udp(&mut self, ts: i64, src: (&Host, u16), dst: (&Host, u16), payload: &[u8]) {
        let id = self.next_ip_id(src.0.ip);
        let ip = ip_udp(src.0.at(src.1), dst.0.at(dst.1), id, payload);
        self.push_ip(ts, src.0, dst.0, ip);
    }

    /// Adds a TCP segment.
    pub fn tcp(
        &mut self,
        ts: i64,
        src: (&Host, u16),
        dst: (&Host, u16),
        spec: crate::packet::TcpSpec,
        payload: &[u8],
    ) {
        let id = self.next_ip_id(src.0.ip);
        let ip = ip_tcp(src.0.at(src.1), dst.0.at(dst.1), id, spec, payload);
        self.push_ip(ts, src.0, dst.0, ip);
    }

    /// Adds another trace's packets (e.g. a second phone's boot on the same SPAN port).
    pub fn merge(&mut self, other: Trace) {
        self.packets.extend(other.packets);
    }

    /// Number of packets so far.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when no packet was added.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// The packets in capture order (stable sort by time).
    pub fn finish(mut self) -> Vec<TracePacket> {
        self.packets.sort_by_key(|p| p.ts);
        self.packets
    }
}

/// The frames that carry one packet (several when an encapsulation is fragmented); `index`
/// is the packet's position, used as the tunnel's sequence number.
fn frames(framing: &Framing, p: &TracePacket, index: usize) -> Vec<Vec<u8>> {
    let link = match framing {
        Framing::Ethernet { vlans } => Link::Ethernet {
            src: p.src_mac,
            dst: p.dst_mac,
            vlans: vlans.clone(),
        },
        Framing::Sll2 => Link::Sll2,
        Framing::Raw => Link::Raw,
        Framing::Tunnel { encap, vlans } => {
            let inner = crate::tunnel::inner_frame(p.src_mac, p.dst_mac, vlans, &p.ip);
            return crate::tunnel::wrap(*encap, &inner, &p.ip, index as u32 + 1);
        }
    };
    vec![link.wrap(&p.ip)]
}

fn link_type(framing: &Framing) -> u32 {
    match framing {
        Framing::Ethernet { .. } => Link::Ethernet {
            src: [0; 6],
            dst: [0; 6],
            vlans: Vec::new(),
        }
        .link_type(false),
        Framing::Sll2 => Link::Sll2.link_type(false),
        Framing::Raw => Link::Raw.link_type(false),
        Framing::Tunnel { encap, .. } => encap.link_type(),
    }
}

/// Writes packets (already in capture order) as a capture file.
pub fn write_capture(packets: &[TracePacket], format: Format, framing: &Framing) -> Vec<u8> {
    const SNAPLEN: u32 = 262_144;
    let lt = link_type(framing);
    // Writing into a Vec<u8> cannot fail.
    match format {
        Format::Pcap => {
            let mut w = PcapWriter::new(Vec::new(), lt, SNAPLEN, Precision::Micro, Endian::Little)
                .expect("Vec write");
            for (i, p) in packets.iter().enumerate() {
                for data in frames(framing, p, i) {
                    w.write_packet(p.ts, &data, data.len() as u32)
                        .expect("Vec write");
                }
            }
            w.into_inner()
        }
        Format::PcapNg => {
            let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).expect("Vec write");
            let lt16 = u16::try_from(lt).unwrap_or(1);
            let ifc = w
                .add_interface(lt16, SNAPLEN, None, None)
                .expect("Vec write");
            for (i, p) in packets.iter().enumerate() {
                for data in frames(framing, p, i) {
                    w.write_enhanced(ifc, p.ts, &data, data.len() as u32)
                        .expect("Vec write");
                }
            }
            w.into_inner()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_udp_is_fragmented_and_packets_sorted() {
        let a = Host::new([2, 0, 0, 0, 0, 1], "192.0.2.10");
        let b = Host::new([2, 0, 0, 0, 0, 2], "198.51.100.10");
        let mut t = Trace::new();
        t.udp(2 * SEC, (&a, 5000), (&b, 69), b"later");
        t.udp(SEC, (&b, 40000), (&a, 5000), &vec![7u8; 8196]);
        let packets = t.finish();
        assert_eq!(packets.len(), 7, "6 fragments + 1");
        assert!(packets.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert!(packets.iter().all(|p| p.ip.len() <= 1500));
        let file = write_capture(&packets, Format::Pcap, &Framing::Ethernet { vlans: vec![] });
        assert_eq!(&file[..4], &0xa1b2_c3d4u32.to_le_bytes());
        let ng = write_capture(&packets, Format::PcapNg, &Framing::Sll2);
        assert_eq!(&ng[..4], &0x0A0D_0D0Au32.to_le_bytes());
    }
}
