//! Link-layer framing: where the network layer starts in a frame of each supported link
//! type. Ethernet is left to etherparse (it walks 802.1Q/802.1ad tags itself); the cooked and
//! loopback headers are read here because etherparse has no lax parser for them.

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
    /// A recognised framing whose payload is not IP (e.g. an 802.2 LLC frame or an unknown
    /// loopback address family).
    NotIp,
    /// Shorter than its own link header.
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
        LinkType::RAW
        | LinkType::RAW_DLT12
        | LinkType::RAW_DLT14
        | LinkType::IPV4
        | LinkType::IPV6 => LinkStart::Ip(data),
        _ => LinkStart::Unsupported,
    }
}

/// Values below 0x0600 are 802.3 lengths or Linux pseudo-protocols, not EtherTypes.
fn ether_type(proto: u16, rest: &[u8]) -> LinkStart<'_> {
    if proto < 0x0600 {
        LinkStart::NotIp
    } else {
        LinkStart::EtherType(proto, rest)
    }
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
        assert_eq!(strip(LinkType::LINUX_SLL, &sll), LinkStart::NotIp);
        assert_eq!(strip(LinkType(105), &sll), LinkStart::Unsupported);
        assert_eq!(strip(LinkType::RAW_DLT14, &sll), LinkStart::Ip(&sll));
    }
}
