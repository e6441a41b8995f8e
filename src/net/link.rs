//! Link-layer framing: where the network layer starts in a frame of each supported link
//! type. Ethernet is left to etherparse (it walks 802.1Q/802.1ad tags itself); the cooked,
//! loopback, Cisco HDLC and NFLOG headers are read here because etherparse has no parser
//! for them.

use crate::capture::LinkType;

/// Where a frame's network layer begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkStart<'a> {
    /// An Ethernet II frame, tags and all.
    Ethernet(&'a [u8]),
    /// A payload of the given EtherType (which may itself be a VLAN tag).
    EtherType(u16, &'a [u8]),
    /// An IP packet, version in the first nibble.
    Ip(&'a [u8]),
    /// An IEEE 802.2 LLC header and what follows it (a Linux cooked capture of protocol
    /// `ETH_P_802_2`); [`super::tunnel::link_level`] reads it.
    Llc(&'a [u8]),
    /// A recognised framing whose payload is not IP (e.g. an unknown loopback address
    /// family, an NFLOG message without a payload).
    NotIp,
    /// Shorter than its own link header, or a link header that is not valid (a Cisco HDLC
    /// address other than unicast or broadcast, an NFLOG version other than 0).
    TooShort,
    /// A link type itlscope does not decode.
    Unsupported,
}

/// Linux cooked v1 header length; protocol (EtherType) at bytes 14..16.
const SLL_LEN: usize = 16;
/// Linux cooked v2 header length; protocol at bytes 0..2.
const SLL2_LEN: usize = 20;
/// BSD loopback header: a 4-byte address family.
const NULL_LEN: usize = 4;
/// Cisco HDLC header: address, control, 2-byte protocol.
const C_HDLC_LEN: usize = 4;
/// Cisco HDLC addresses: unicast and broadcast.
const C_HDLC_UNICAST: u8 = 0x0F;
const C_HDLC_BROADCAST: u8 = 0x8F;
/// Linux cooked-capture protocol of a frame that starts with an 802.2 LLC header.
const ETH_P_802_2: u16 = 0x0004;
/// NFLOG header: family, version, resource ID; the TLVs follow.
const NFLOG_HEADER_LEN: usize = 4;
/// The NFLOG TLV that holds the logged packet (`NFULA_PAYLOAD`).
const NFULA_PAYLOAD: u16 = 9;
/// Linux address families an NFLOG header names for IP.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Address families BSD loopback headers use for IP: AF_INET, and AF_INET6 as numbered on
/// OpenBSD/NetBSD (24), FreeBSD/DragonFly (28) and Darwin (30).
fn is_ip_family(af: u32) -> bool {
    matches!(af, 2 | 24 | 28 | 30)
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Strips the link header of `data` captured on a `link_type` interface.
pub(crate) fn strip(link_type: LinkType, data: &[u8]) -> LinkStart<'_> {
    match link_type {
        LinkType::ETHERNET => LinkStart::Ethernet(data),
        LinkType::LINUX_SLL => match (be16(data, 14), data.get(SLL_LEN..)) {
            (Some(proto), Some(rest)) => ether_type(proto, rest),
            _ => LinkStart::TooShort,
        },
        LinkType::LINUX_SLL2 => match (be16(data, 0), data.get(SLL2_LEN..)) {
            (Some(proto), Some(rest)) => ether_type(proto, rest),
            _ => LinkStart::TooShort,
        },
        LinkType::NULL | LinkType::LOOP => {
            let (Some(af), Some(rest)) = (data.get(..NULL_LEN), data.get(NULL_LEN..)) else {
                return LinkStart::TooShort;
            };
            let Ok(af) = <[u8; 4]>::try_from(af) else {
                return LinkStart::TooShort;
            };
            let family = if link_type == LinkType::LOOP {
                u32::from_be_bytes(af)
            } else {
                // NULL is in the capturing host's byte order, which the file does not
                // record: the family values are small, so the order that gives a known
                // family is the right one.
                let le = u32::from_le_bytes(af);
                if is_ip_family(le) {
                    le
                } else {
                    u32::from_be_bytes(af)
                }
            };
            if is_ip_family(family) {
                LinkStart::Ip(rest)
            } else {
                LinkStart::NotIp
            }
        }
        LinkType::C_HDLC => match (data.first(), be16(data, 2), data.get(C_HDLC_LEN..)) {
            (Some(&(C_HDLC_UNICAST | C_HDLC_BROADCAST)), Some(proto), Some(rest)) => {
                ether_type(proto, rest)
            }
            _ => LinkStart::TooShort,
        },
        LinkType::NFLOG => nflog(data),
        LinkType::RAW
        | LinkType::RAW_DLT12
        | LinkType::RAW_DLT14
        | LinkType::IPV4
        | LinkType::IPV6 => LinkStart::Ip(data),
        _ => LinkStart::Unsupported,
    }
}

/// Values below 0x0600 are 802.3 lengths or Linux pseudo-protocols, not EtherTypes; of
/// those, `ETH_P_802_2` announces an LLC header.
fn ether_type(proto: u16, rest: &[u8]) -> LinkStart<'_> {
    if proto == ETH_P_802_2 {
        LinkStart::Llc(rest)
    } else if proto < 0x0600 {
        LinkStart::NotIp
    } else {
        LinkStart::EtherType(proto, rest)
    }
}

/// An NFLOG message (Linux `nflog:` capture): a 4-byte header naming the address family,
/// then TLVs, of which `NFULA_PAYLOAD` holds the packet from its network header on.
///
/// The TLV length and type are in the capturing host's byte order, which the file does
/// not record: the order that makes the first TLV's length fit the frame is taken (a
/// length is at least 4, the TLV header itself).
fn nflog(data: &[u8]) -> LinkStart<'_> {
    let (Some(&family), Some(&version), Some(tlvs)) =
        (data.first(), data.get(1), data.get(NFLOG_HEADER_LEN..))
    else {
        return LinkStart::TooShort;
    };
    if version != 0 {
        return LinkStart::TooShort;
    }
    let fits = |len: u16| (4..=tlvs.len()).contains(&usize::from(len));
    let little = match tlvs.get(..2) {
        Some(&[a, b]) => {
            let le = u16::from_le_bytes([a, b]);
            fits(le) || !fits(u16::from_be_bytes([a, b]))
        }
        // No TLV at all: nothing logged but the header.
        _ => return LinkStart::NotIp,
    };
    let read = |at: usize| -> Option<u16> {
        let b = [*tlvs.get(at)?, *tlvs.get(at + 1)?];
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let mut at = 0usize;
    // Each TLV advances by at least 4 bytes, so the walk ends within the frame.
    while let (Some(len), Some(kind)) = (read(at), read(at + 2)) {
        let len = usize::from(len);
        if len < 4 {
            return LinkStart::TooShort;
        }
        // The top two bits of the type are netlink flags (nested, byte order).
        if kind & 0x3fff == NFULA_PAYLOAD {
            // A snaplen cut may end the frame inside the payload: keep what is there.
            let end = (at + len).min(tlvs.len());
            let Some(payload) = tlvs.get(at + 4..end) else {
                return LinkStart::TooShort;
            };
            return match family {
                AF_INET | AF_INET6 => LinkStart::Ip(payload),
                _ => LinkStart::NotIp,
            };
        }
        // TLVs are padded to 4 bytes.
        at += (len + 3) & !3;
    }
    LinkStart::NotIp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_accepts_both_byte_orders_and_loop_is_network_order() {
        let ip = [0x45u8, 0, 0, 20];
        for af in [2u32.to_le_bytes(), 2u32.to_be_bytes(), 30u32.to_le_bytes()] {
            let frame = [&af[..], &ip[..]].concat();
            assert_eq!(strip(LinkType::NULL, &frame), LinkStart::Ip(&ip));
        }
        let frame = [&24u32.to_be_bytes()[..], &ip[..]].concat();
        assert_eq!(strip(LinkType::LOOP, &frame), LinkStart::Ip(&ip));
        let le = [&24u32.to_le_bytes()[..], &ip[..]].concat();
        assert_eq!(strip(LinkType::LOOP, &le), LinkStart::NotIp);
        assert_eq!(strip(LinkType::NULL, &[2, 0]), LinkStart::TooShort);
        let ipx = [&23u32.to_le_bytes()[..], &ip[..]].concat();
        assert_eq!(strip(LinkType::NULL, &ipx), LinkStart::NotIp);
    }

    #[test]
    fn cooked_headers_and_unknown_links() {
        let mut sll = vec![0u8; 16];
        sll[14..16].copy_from_slice(&0x86ddu16.to_be_bytes());
        sll.push(0x60);
        assert_eq!(
            strip(LinkType::LINUX_SLL, &sll),
            LinkStart::EtherType(0x86dd, &[0x60])
        );
        assert_eq!(strip(LinkType::LINUX_SLL, &sll[..10]), LinkStart::TooShort);
        sll[14..16].copy_from_slice(&4u16.to_be_bytes());
        assert_eq!(strip(LinkType::LINUX_SLL, &sll), LinkStart::Llc(&[0x60]));
        sll[14..16].copy_from_slice(&1u16.to_be_bytes());
        assert_eq!(strip(LinkType::LINUX_SLL, &sll), LinkStart::NotIp);
        assert_eq!(strip(LinkType(105), &sll), LinkStart::Unsupported);
        assert_eq!(strip(LinkType::RAW_DLT14, &sll), LinkStart::Ip(&sll));
    }

    /// Issue 19 item 7: Cisco HDLC (link type 104) names an EtherType after its address
    /// and control bytes.
    #[test]
    fn cisco_hdlc_gives_the_protocol_field() {
        let ip = [0x45u8, 0, 0, 20];
        for address in [0x0f, 0x8f] {
            let frame = [&[address, 0x00, 0x08, 0x00][..], &ip[..]].concat();
            assert_eq!(
                strip(LinkType::C_HDLC, &frame),
                LinkStart::EtherType(0x0800, &ip)
            );
        }
        let bad = [&[0x42, 0x00, 0x08, 0x00][..], &ip[..]].concat();
        assert_eq!(strip(LinkType::C_HDLC, &bad), LinkStart::TooShort);
        assert_eq!(
            strip(LinkType::C_HDLC, &[0x0f, 0x00, 0x08]),
            LinkStart::TooShort
        );
    }

    /// An NFLOG message in either byte order (issue 19 item 7).
    fn nflog_frame(family: u8, little: bool, payload: &[u8]) -> Vec<u8> {
        let put = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if little {
                x.to_le_bytes()
            } else {
                x.to_be_bytes()
            })
        };
        let mut f = vec![family, 0, 0, 1];
        // A prefix TLV of 5 bytes ("abcd" and its NUL), padded to 8.
        put(&mut f, 9);
        put(&mut f, 10);
        f.extend_from_slice(b"abcd\0\0\0\0");
        put(&mut f, 4 + payload.len() as u16);
        put(&mut f, 9);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn nflog_takes_the_payload_tlv_in_either_byte_order() {
        let ip = [0x45u8, 0, 0, 20];
        for little in [true, false] {
            let f = nflog_frame(2, little, &ip);
            assert_eq!(strip(LinkType::NFLOG, &f), LinkStart::Ip(&ip), "{little}");
            let f6 = nflog_frame(10, little, &[0x60]);
            assert_eq!(strip(LinkType::NFLOG, &f6), LinkStart::Ip(&[0x60]));
            let other = nflog_frame(7, little, &ip);
            assert_eq!(strip(LinkType::NFLOG, &other), LinkStart::NotIp);
        }
        // A snaplen cut inside the payload keeps what was captured.
        let f = nflog_frame(2, true, &ip);
        assert_eq!(
            strip(LinkType::NFLOG, &f[..f.len() - 2]),
            LinkStart::Ip(&ip[..2])
        );
        // Header only, a bad version, a zero-length TLV.
        assert_eq!(strip(LinkType::NFLOG, &[2, 0, 0, 1]), LinkStart::NotIp);
        assert_eq!(strip(LinkType::NFLOG, &[2, 1, 0, 1]), LinkStart::TooShort);
        assert_eq!(strip(LinkType::NFLOG, &[2, 0]), LinkStart::TooShort);
        assert_eq!(
            strip(LinkType::NFLOG, &[2, 0, 0, 1, 0, 0, 9, 0]),
            LinkStart::TooShort
        );
    }
}
