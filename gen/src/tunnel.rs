//! Encapsulated captures: a phone's frames as a remote switch mirrors them (ERSPAN types I,
//! II and III over GRE), or as they cross a provider network (GRE, VXLAN, MPLS, PPPoE).
//! Each mirrored frame becomes one or more outer frames: the outer IPv4 packet is
//! fragmented at a 1500-byte MTU, as ERSPAN across a WAN is.

use crate::packet::{Link, fragment, ip_udp};
use etherparse::{IpNumber, Ipv4Header};

/// MAC of the switch that sends the mirrored traffic (ERSPAN source) or the provider edge.
const OUTER_SRC_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xe1];
/// MAC of the analyzer that receives it.
const OUTER_DST_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xe2];
/// ERSPAN source (the remote switch) and destination (the analyzer), documentation range.
const OUTER_SRC: [u8; 4] = [203, 0, 113, 1];
const OUTER_DST: [u8; 4] = [203, 0, 113, 50];
const MTU: usize = 1500;

/// An encapsulation to wrap frames in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    /// ERSPAN type I: GRE 0x88BE without sequence number, then the frame.
    ErspanI,
    /// ERSPAN type II: GRE 0x88BE with sequence number, 8-byte header naming `vlan`.
    ErspanII {
        /// VLAN recorded in the ERSPAN header (the mirrored frame is then untagged).
        vlan: u16,
    },
    /// ERSPAN type III: GRE 0x22EB, 12-byte header, with or without the 8-byte platform
    /// subheader.
    ErspanIII {
        /// Add the optional platform-specific subheader (O flag).
        subheader: bool,
    },
    /// GRE carrying the Ethernet frame (Transparent Ethernet Bridging, 0x6558).
    GreEthernet,
    /// GRE carrying the IP packet (0x0800), with a key.
    GreIp,
    /// GRE with a protocol type itlscope does not decode (0x880B, PPP).
    GreUnknown,
    /// VXLAN (UDP 4789), VNI 5000.
    Vxlan,
    /// MPLS: two labels then the IP packet.
    MplsIp,
    /// MPLS Ethernet pseudowire: one label, control word, the frame.
    MplsEthernet,
    /// PPPoE session, PPP protocol IPv4/IPv6.
    Pppoe,
}

impl Encap {
    /// Every encapsulation that itlscope decodes (all but [`Encap::GreUnknown`]).
    pub const DECODED: [Encap; 10] = [
        Encap::ErspanI,
        Encap::ErspanII { vlan: 100 },
        Encap::ErspanIII { subheader: false },
        Encap::ErspanIII { subheader: true },
        Encap::GreEthernet,
        Encap::GreIp,
        Encap::Vxlan,
        Encap::MplsIp,
        Encap::MplsEthernet,
        Encap::Pppoe,
    ];

    /// The link type of the outer frames (Ethernet).
    pub fn link_type(self) -> u32 {
        1
    }
}

/// Wraps one packet (given as its Ethernet frame `frame` and its IP packet `ip`) into the
/// outer frames that carry it; `seq` numbers GRE/ERSPAN packets.
pub fn wrap(encap: Encap, frame: &[u8], ip: &[u8], seq: u32) -> Vec<Vec<u8>> {
    let gre = |flags: u8, protocol: u16, extra: &[u8], body: &[u8]| {
        let mut g = vec![flags, 0];
        g.extend_from_slice(&protocol.to_be_bytes());
        g.extend_from_slice(extra);
        g.extend_from_slice(body);
        outer_ipv4(IpNumber::GRE, &g, seq)
    };
    let seq_bytes = seq.to_be_bytes();
    match encap {
        Encap::ErspanI => gre(0x00, 0x88be, &[], frame),
        Encap::ErspanII { vlan } => {
            let mut h = Vec::with_capacity(8 + frame.len());
            h.extend_from_slice(&(0x1000 | (vlan & 0x0fff)).to_be_bytes());
            h.extend_from_slice(&0x0064u16.to_be_bytes()); // session 100
            h.extend_from_slice(&[0, 0, 0, 1]); // index
            h.extend_from_slice(&strip_vlan(frame));
            gre(0x10, 0x88be, &seq_bytes, &h)
        }
        Encap::ErspanIII { subheader } => {
            let mut h = Vec::with_capacity(20 + frame.len());
            h.extend_from_slice(&0x2000u16.to_be_bytes()); // version 2, VLAN 0
            h.extend_from_slice(&0x0064u16.to_be_bytes()); // session 100
            h.extend_from_slice(&seq.wrapping_mul(1000).to_be_bytes()); // timestamp
            h.extend_from_slice(&0u16.to_be_bytes()); // SGT
            h.push(0x00); // P, frame type 0 (Ethernet), hardware ID
            h.push(u8::from(subheader)); // D, Gra, O
            if subheader {
                h.extend_from_slice(&[0x00, 0x01, 0, 0, 0, 0, 0, 0]);
            }
            h.extend_from_slice(frame);
            gre(0x10, 0x22eb, &seq_bytes, &h)
        }
        Encap::GreEthernet => gre(0x00, 0x6558, &[], frame),
        Encap::GreIp => gre(0x20, ether_type(ip), &[0, 0, 0x01, 0x2c], ip),
        Encap::GreUnknown => gre(0x00, 0x880b, &[], ip),
        Encap::Vxlan => {
            let mut v = vec![0x08, 0, 0, 0, 0x00, 0x13, 0x88, 0];
            v.extend_from_slice(frame);
            let src = std::net::SocketAddr::from((OUTER_SRC, 49152 + (seq % 16_000) as u16));
            let dst = std::net::SocketAddr::from((OUTER_DST, 4789));
            let packet = ip_udp(src, dst, seq as u16, &v);
            fragment(&packet, MTU - 20)
                .into_iter()
                .map(|p| outer_ethernet(0x0800, &p))
                .collect()
        }
        Encap::MplsIp => {
            let mut m = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
            m.extend_from_slice(ip);
            vec![outer_ethernet(0x8847, &m)]
        }
        Encap::MplsEthernet => {
            let mut m = vec![0x00, 0x03, 0x01, 0x40, 0, 0, 0, 0];
            m.extend_from_slice(frame);
            vec![outer_ethernet(0x8847, &m)]
        }
        Encap::Pppoe => {
            let mut p = vec![0x11, 0x00, 0x12, 0x34];
            p.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
            let ppp: u16 = if ether_type(ip) == 0x86dd {
                0x0057
            } else {
                0x0021
            };
            p.extend_from_slice(&ppp.to_be_bytes());
            p.extend_from_slice(ip);
            vec![outer_ethernet(0x8864, &p)]
        }
    }
}

fn ether_type(ip: &[u8]) -> u16 {
    if ip.first().is_some_and(|b| b >> 4 == 6) {
        0x86dd
    } else {
        0x0800
    }
}

/// The frame without its first 802.1Q tag (ERSPAN II records the VLAN in its header).
fn strip_vlan(frame: &[u8]) -> Vec<u8> {
    if frame.get(12..14) == Some(&[0x81, 0x00]) {
        [&frame[..12], &frame[16..]].concat()
    } else {
        frame.to_vec()
    }
}

/// An outer IPv4 packet of `protocol` from the remote switch to the analyzer, fragmented at
/// the MTU, each in an Ethernet frame.
fn outer_ipv4(protocol: IpNumber, payload: &[u8], seq: u32) -> Vec<Vec<u8>> {
    let mut h = Ipv4Header::new(0, 60, protocol, OUTER_SRC, OUTER_DST).unwrap_or_default();
    h.identification = seq as u16;
    h.dont_fragment = false;
    h.set_payload_len(payload.len())
        .expect("mirrored frames fit in one IP packet");
    h.header_checksum = h.calc_header_checksum();
    let mut packet = Vec::with_capacity(20 + payload.len());
    h.write(&mut packet).expect("write to Vec");
    packet.extend_from_slice(payload);
    fragment(&packet, MTU - 20)
        .into_iter()
        .map(|p| outer_ethernet(0x0800, &p))
        .collect()
}

fn outer_ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&OUTER_DST_MAC);
    f.extend_from_slice(&OUTER_SRC_MAC);
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The Ethernet frame of a packet as the mirrored port saw it (with `vlans`).
pub fn inner_frame(src_mac: [u8; 6], dst_mac: [u8; 6], vlans: &[u16], ip: &[u8]) -> Vec<u8> {
    Link::Ethernet {
        src: src_mac,
        dst: dst_mac,
        vlans: vlans.to_vec(),
    }
    .wrap(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_frames_are_fragmented_and_headers_are_right() {
        let ip = crate::packet::ip_udp(
            "192.0.2.21:5000".parse().expect("addr"),
            "198.51.100.10:69".parse().expect("addr"),
            1,
            &[7u8; 1472],
        );
        let frame = inner_frame([2; 6], [4; 6], &[100], &ip);
        let out = wrap(Encap::ErspanIII { subheader: true }, &frame, &ip, 9);
        assert_eq!(out.len(), 2, "1518-byte frame + 56 bytes of headers > 1500");
        assert!(out.iter().all(|f| f.len() <= 1514));
        // GRE right after the outer IPv4 header of the first fragment.
        assert_eq!(&out[0][14 + 20..14 + 24], &[0x10, 0x00, 0x22, 0xeb]);
        let pppoe = wrap(Encap::Pppoe, &frame, &ip, 1);
        assert_eq!(&pppoe[0][12..14], &[0x88, 0x64]);
        assert_eq!(&pppoe[0][20..22], &[0x00, 0x21]);
        let erspan2 = wrap(Encap::ErspanII { vlan: 100 }, &frame, &ip, 1);
        let inner = &erspan2[0][14 + 20 + 8 + 8..];
        assert_eq!(&inner[12..14], &[0x08, 0x00], "tag moved into the header");
    }
}
