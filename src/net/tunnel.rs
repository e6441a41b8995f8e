//! Encapsulations a phone capture really arrives in: a remote switch's ERSPAN (types I, II
//! and III, over GRE), plain GRE, VXLAN, Geneve, GTP-U, EtherIP (a WLC guest anchor), MPLS
//! (with or without an Ethernet pseudowire), PPPoE sessions, IP in IP, and 802.2 LLC/SNAP
//! framing. Each function here peels one layer and says where the inner
//! frame starts; [`super::Decoder`] then decodes that frame as if it had been captured
//! directly, with its own fragment reassembly.
//!
//! Hand-written because etherparse (the crate the rest of `net` uses) stops at the IP
//! layer and decodes none of these headers; each is a few fixed fields.

use super::link::LinkStart;
use std::fmt;

/// UDP port of VXLAN (RFC 7348).
pub const VXLAN_PORT: u16 = 4789;
/// UDP port of Geneve (RFC 8926).
pub const GENEVE_PORT: u16 = 6081;
/// UDP port of GTP-U (3GPP TS 29.281).
pub const GTPU_PORT: u16 = 2152;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_DISCOVERY: u16 = 0x8863;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// GRE protocol type of Transparent Ethernet Bridging (an Ethernet frame follows).
const GRE_TEB: u16 = 0x6558;
/// GRE protocol type of ERSPAN types I and II (II has the sequence-number bit set).
const GRE_ERSPAN_I_II: u16 = 0x88BE;
/// GRE protocol type of ERSPAN type III.
const GRE_ERSPAN_III: u16 = 0x22EB;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// IP protocol numbers that carry a tunnel.
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_MPLS: u8 = 137;
/// EtherIP (RFC 3378).
const IPPROTO_ETHERIP: u8 = 97;
/// IPsec ESP: encrypted, never decoded, but named.
const IPPROTO_ESP: u8 = 50;
/// GTP-U message type of a G-PDU (a user packet follows).
const GTP_G_PDU: u8 = 255;
/// SNAP OUIs whose protocol ID is an EtherType (RFC 1042, and 802.1H bridge tunnelling).
const OUI_RFC1042: u32 = 0x00_0000;
const OUI_8021H: u32 = 0x00_00F8;
/// Cisco's OUI, under which CDP, VTP, DTP, PVST+ and UDLD ride in SNAP.
const OUI_CISCO: u32 = 0x00_000C;
/// More MPLS labels than any real network stacks: the frame is not MPLS as we know it.
const MAX_MPLS_LABELS: usize = 16;

/// A kind of encapsulation that was peeled off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encapsulation {
    /// GRE carrying IP or Ethernet (RFC 2784/2890).
    Gre,
    /// ERSPAN type I (GRE 0x88BE without a sequence number): the mirrored frame follows GRE.
    ErspanI,
    /// ERSPAN type II (GRE 0x88BE, 8-byte ERSPAN header).
    ErspanII,
    /// ERSPAN type III (GRE 0x22EB, 12-byte header plus an optional 8-byte subheader).
    ErspanIII,
    /// VXLAN (UDP 4789).
    Vxlan,
    /// An MPLS label stack (EtherType 0x8847/0x8848 or MPLS in IP).
    Mpls,
    /// A PPPoE session (EtherType 0x8864).
    Pppoe,
    /// IPv4 or IPv6 inside IP (protocol 4 or 41).
    IpInIp,
    /// Geneve (UDP 6081, RFC 8926).
    Geneve,
    /// GTP-U G-PDUs (UDP 2152, 3GPP TS 29.281).
    GtpU,
    /// EtherIP (IP protocol 97, RFC 3378), as a Cisco WLC's guest anchor tunnel uses.
    EtherIp,
    /// IEEE 802.2 LLC with a SNAP header naming an EtherType (RFC 1042).
    LlcSnap,
}

impl Encapsulation {
    /// Every kind, in the order reports list them.
    pub const ALL: [Encapsulation; 12] = [
        Encapsulation::Gre,
        Encapsulation::ErspanI,
        Encapsulation::ErspanII,
        Encapsulation::ErspanIII,
        Encapsulation::Vxlan,
        Encapsulation::Mpls,
        Encapsulation::Pppoe,
        Encapsulation::IpInIp,
        Encapsulation::Geneve,
        Encapsulation::GtpU,
        Encapsulation::EtherIp,
        Encapsulation::LlcSnap,
    ];

    /// A stable machine name (used in JSON).
    pub fn id(self) -> &'static str {
        match self {
            Encapsulation::Gre => "gre",
            Encapsulation::ErspanI => "erspan-i",
            Encapsulation::ErspanII => "erspan-ii",
            Encapsulation::ErspanIII => "erspan-iii",
            Encapsulation::Vxlan => "vxlan",
            Encapsulation::Mpls => "mpls",
            Encapsulation::Pppoe => "pppoe",
            Encapsulation::IpInIp => "ip-in-ip",
            Encapsulation::Geneve => "geneve",
            Encapsulation::GtpU => "gtp-u",
            Encapsulation::EtherIp => "etherip",
            Encapsulation::LlcSnap => "llc-snap",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Encapsulation::Gre => 0,
            Encapsulation::ErspanI => 1,
            Encapsulation::ErspanII => 2,
            Encapsulation::ErspanIII => 3,
            Encapsulation::Vxlan => 4,
            Encapsulation::Mpls => 5,
            Encapsulation::Pppoe => 6,
            Encapsulation::IpInIp => 7,
            Encapsulation::Geneve => 8,
            Encapsulation::GtpU => 9,
            Encapsulation::EtherIp => 10,
            Encapsulation::LlcSnap => 11,
        }
    }
}

impl fmt::Display for Encapsulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encapsulation::Gre => "GRE",
            Encapsulation::ErspanI => "ERSPAN type I",
            Encapsulation::ErspanII => "ERSPAN type II",
            Encapsulation::ErspanIII => "ERSPAN type III",
            Encapsulation::Vxlan => "VXLAN",
            Encapsulation::Mpls => "MPLS",
            Encapsulation::Pppoe => "PPPoE",
            Encapsulation::IpInIp => "IP in IP",
            Encapsulation::Geneve => "Geneve",
            Encapsulation::GtpU => "GTP-U",
            Encapsulation::EtherIp => "EtherIP",
            Encapsulation::LlcSnap => "LLC/SNAP",
        })
    }
}

/// Why a frame, or the inside of a recognised encapsulation, was not decoded (counted and
/// named in the capture summary, never dropped silently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// GRE with a version other than 0 (1 is PPTP's enhanced GRE).
    GreVersion(u8),
    /// GRE with the routing bit (RFC 1701 source routing).
    GreRouting,
    /// GRE carrying a protocol type itlscope does not decode.
    GreProtocol(u16),
    /// An ERSPAN header with an unexpected version field.
    ErspanVersion(u8),
    /// ERSPAN type III carrying a frame type other than Ethernet (0) or IP (2).
    ErspanFrameType(u8),
    /// An MPLS payload that is neither IP nor an Ethernet pseudowire.
    MplsPayload(u8),
    /// More MPLS labels than [`MAX_MPLS_LABELS`].
    MplsLabelStack,
    /// Geneve carrying a protocol type other than Ethernet, IPv4 or IPv6.
    GeneveProtocol(u16),
    /// A GTP-U message other than a G-PDU (echo, error indication, end marker): signalling,
    /// no user packet.
    GtpMessage(u8),
    /// A GTP-U G-PDU whose payload is not IP (first nibble given).
    GtpPayload(u8),
    /// EtherIP with a version other than 3.
    EtherIpVersion(u8),
    /// IPsec ESP (IP protocol 50): encrypted, its content cannot be read.
    Esp,
    /// A plain 802.2 LLC frame (no SNAP), by its destination SAP (0x42 is Spanning Tree).
    LlcSap(u8),
    /// A SNAP header whose OUI is not RFC 1042's: a vendor protocol (Cisco's OUI 0x00000C
    /// carries CDP, VTP, DTP…).
    SnapProtocol {
        /// The organisation code.
        oui: u32,
        /// The protocol ID.
        pid: u16,
    },
    /// An EtherType itlscope does not decode and does not know as non-IP.
    EtherType(u16),
    /// Shorter than the encapsulation's own header.
    Short(Encapsulation),
    /// Tunnels nested deeper than the decoder follows.
    TooDeep,
    /// Any other reason, once more distinct reasons were met than are listed apart.
    Other,
}

impl SkipReason {
    /// A stable machine name (used in JSON).
    pub fn id(self) -> &'static str {
        match self {
            SkipReason::GreVersion(_) => "gre-version",
            SkipReason::GreRouting => "gre-routing",
            SkipReason::GreProtocol(_) => "gre-protocol",
            SkipReason::ErspanVersion(_) => "erspan-version",
            SkipReason::ErspanFrameType(_) => "erspan-frame-type",
            SkipReason::MplsPayload(_) => "mpls-payload",
            SkipReason::MplsLabelStack => "mpls-label-stack",
            SkipReason::GeneveProtocol(_) => "geneve-protocol",
            SkipReason::GtpMessage(_) => "gtp-message",
            SkipReason::GtpPayload(_) => "gtp-payload",
            SkipReason::EtherIpVersion(_) => "etherip-version",
            SkipReason::Esp => "ipsec-esp",
            SkipReason::LlcSap(_) => "llc-sap",
            SkipReason::SnapProtocol { .. } => "snap-protocol",
            SkipReason::EtherType(_) => "ether-type",
            SkipReason::Short(_) => "short-encapsulation-header",
            SkipReason::TooDeep => "tunnel-nesting",
            SkipReason::Other => "other",
        }
    }

    /// The number the reason is about (protocol type, version, frame type), if any.
    pub fn code(self) -> Option<u32> {
        match self {
            SkipReason::GreVersion(v)
            | SkipReason::ErspanVersion(v)
            | SkipReason::ErspanFrameType(v)
            | SkipReason::MplsPayload(v)
            | SkipReason::GtpMessage(v)
            | SkipReason::GtpPayload(v)
            | SkipReason::EtherIpVersion(v)
            | SkipReason::LlcSap(v) => Some(u32::from(v)),
            SkipReason::GreProtocol(p)
            | SkipReason::GeneveProtocol(p)
            | SkipReason::SnapProtocol { pid: p, .. }
            | SkipReason::EtherType(p) => Some(u32::from(p)),
            _ => None,
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::GreVersion(v) => write!(f, "GRE version {v} (only version 0 is decoded)"),
            SkipReason::GreRouting => f.write_str("GRE with source routing (RFC 1701)"),
            SkipReason::GreProtocol(p) => write!(f, "GRE carrying protocol type 0x{p:04x}"),
            SkipReason::ErspanVersion(v) => write!(f, "ERSPAN header version {v}"),
            SkipReason::ErspanFrameType(t) => {
                write!(f, "ERSPAN type III frame type {t} (only Ethernet and IP)")
            }
            SkipReason::MplsPayload(n) => {
                write!(
                    f,
                    "MPLS payload starting with nibble {n} (not IP or Ethernet)"
                )
            }
            SkipReason::MplsLabelStack => {
                write!(f, "MPLS label stack of more than {MAX_MPLS_LABELS} labels")
            }
            SkipReason::GeneveProtocol(p) => write!(f, "Geneve carrying protocol type 0x{p:04x}"),
            SkipReason::GtpMessage(t) => {
                write!(f, "GTP-U message type {t} (signalling, no user packet)")
            }
            SkipReason::GtpPayload(n) => {
                write!(f, "GTP-U payload starting with nibble {n} (not IP)")
            }
            SkipReason::EtherIpVersion(v) => write!(f, "EtherIP version {v} (only 3)"),
            SkipReason::Esp => f.write_str("IPsec ESP (encrypted, cannot be read)"),
            SkipReason::LlcSap(s) => write!(f, "802.2 LLC with SAP 0x{s:02x}"),
            SkipReason::SnapProtocol { oui: 0x0c, pid } => {
                write!(f, "SNAP with Cisco protocol ID 0x{pid:04x}")
            }
            SkipReason::SnapProtocol { oui, pid } => {
                write!(f, "SNAP with OUI {oui:06x} protocol ID 0x{pid:04x}")
            }
            SkipReason::EtherType(t) => write!(f, "EtherType 0x{t:04x} (not decoded)"),
            SkipReason::Short(e) => write!(f, "{e} header cut short"),
            SkipReason::TooDeep => f.write_str("tunnels nested too deep"),
            SkipReason::Other => f.write_str("other undecoded encapsulated frames"),
        }
    }
}

/// The result of peeling one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peeled<'a> {
    /// The inner frame, and the VLAN the encapsulation names for it (ERSPAN records the
    /// mirrored frame's VLAN when the switch stripped the tag).
    Inner {
        kind: Encapsulation,
        start: LinkStart<'a>,
        vlan: Option<u16>,
        /// What tells this tunnel from others between the same ends (GRE key, VXLAN VNI,
        /// ERSPAN session, PPPoE session, bottom MPLS label); 0 when the header names none.
        /// Part of the inner fragments' identity, with the outer addresses.
        key: u32,
    },
    /// A recognised encapsulation whose content is not decoded.
    Skipped(SkipReason),
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// An IP packet or an Ethernet frame named by an EtherType (or GRE protocol type).
fn by_ether_type(t: u16, data: &[u8]) -> Option<LinkStart<'_>> {
    match t {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Some(LinkStart::Ip(data)),
        _ => None,
    }
}

/// The EtherType after an Ethernet header and its VLAN tags, with what follows it and the
/// outermost VLAN ID. `None` when the frame is too short.
fn ethernet_payload(frame: &[u8]) -> Option<(u16, &[u8], Option<u16>)> {
    let mut t = be16(frame, 12)?;
    let mut at = 14usize;
    let mut vlan = None;
    while matches!(t, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        let tci = be16(frame, at)?;
        vlan.get_or_insert(tci & 0x0fff);
        t = be16(frame, at + 2)?;
        at += 4;
    }
    Some((t, frame.get(at..)?, vlan))
}

/// A link-level encapsulation (MPLS, PPPoE) at the start of a frame; `None` when the frame
/// is not one (the common case: a cheap look at one or two EtherTypes).
pub(crate) fn link_level(start: LinkStart<'_>) -> Option<Peeled<'_>> {
    let (ether_type, payload, vlan) = match start {
        LinkStart::Ethernet(d) => ethernet_payload(d)?,
        LinkStart::EtherType(t, d) => (t, d, None),
        LinkStart::Llc(d) => return llc(d),
        _ => return None,
    };
    match ether_type {
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => Some(with_vlan(mpls(payload), vlan)),
        ETHERTYPE_PPPOE_SESSION => Some(with_vlan(pppoe(payload), vlan)),
        // An 802.3 length: an LLC header follows.
        t if t < 0x0600 => llc(payload).map(|p| with_vlan(p, vlan)),
        // Decoded by etherparse, or known to carry no IP (ARP, LLDP, …): the decoder's
        // packet and not-IP counts take them.
        t if decoded_or_not_ip(t) => None,
        // Anything else could hide the phone's traffic: named with its EtherType.
        t => Some(Peeled::Skipped(SkipReason::EtherType(t))),
    }
}

/// EtherTypes etherparse decodes (IP, MACsec) and those of protocols that never carry IP.
fn decoded_or_not_ip(t: u16) -> bool {
    matches!(
        t,
        ETHERTYPE_IPV4
            | ETHERTYPE_IPV6
            | ETHERTYPE_VLAN
            | ETHERTYPE_QINQ
            | ETHERTYPE_QINQ_OLD
            // Discovery (PADI/PADO/…) sets a PPPoE session up; no IP in it.
            | ETHERTYPE_PPPOE_DISCOVERY
            | 0x0806 // ARP
            | 0x0842 // Wake-on-LAN
            | 0x2000 // CDP (as Cisco HDLC names it)
            | 0x8035 // RARP; Cisco HDLC's SLARP
            | 0x8808 // Ethernet flow control
            | 0x8809 // slow protocols (LACP)
            | 0x888E // EAPOL (802.1X)
            | 0x88CC // LLDP
            | 0x88E5 // MACsec (etherparse reads its header)
            | 0x88F7 // PTP
            | 0x8902 // CFM
            | 0x9000 // Ethernet loopback
    )
}

/// An IEEE 802.2 LLC frame: with a SNAP header of RFC 1042 (or 802.1H) the protocol ID is
/// an EtherType and the packet follows; plain LLC (Spanning Tree, NetBIOS, …) and vendor
/// SNAP protocols are named, not decoded.
///
/// `None` for the switch-to-switch protocols every access port carries and that never hold
/// IP (Spanning Tree, CDP, VTP, DTP, PVST+, UDLD): they are not-IP frames, like ARP, not
/// frames the tool failed to decode (a "no phone found" report must not blame them).
fn llc(d: &[u8]) -> Option<Peeled<'_>> {
    let short = Some(Peeled::Skipped(SkipReason::Short(Encapsulation::LlcSnap)));
    let (Some(&dsap), Some(&ssap), Some(&control)) = (d.first(), d.get(1), d.get(2)) else {
        return short;
    };
    // Spanning Tree (802.1D BPDUs on SAP 0x42).
    if dsap == 0x42 && ssap == 0x42 {
        return None;
    }
    // SNAP: SAP 0xAA both ways (the low SSAP bit is command/response), unnumbered
    // information.
    if dsap != 0xAA || ssap & 0xFE != 0xAA || control != 0x03 {
        return Some(Peeled::Skipped(SkipReason::LlcSap(dsap)));
    }
    let (Some(oui), Some(pid), Some(rest)) = (
        d.get(3..6)
            .map(|o| o.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))),
        be16(d, 6),
        d.get(8..),
    ) else {
        return short;
    };
    // Cisco's OUI: CDP 0x2000, VTP 0x2003, DTP 0x2004, PVST+ 0x010B, UDLD 0x0111.
    if oui == OUI_CISCO && matches!(pid, 0x2000 | 0x2003 | 0x2004 | 0x010B | 0x0111) {
        return None;
    }
    if oui != OUI_RFC1042 && oui != OUI_8021H {
        return Some(Peeled::Skipped(SkipReason::SnapProtocol { oui, pid }));
    }
    Some(Peeled::Inner {
        kind: Encapsulation::LlcSnap,
        start: LinkStart::EtherType(pid, rest),
        vlan: None,
        key: 0,
    })
}

/// Gives an inner frame the VLAN of the frame around it when the encapsulation names none.
fn with_vlan(p: Peeled<'_>, outer: Option<u16>) -> Peeled<'_> {
    match p {
        Peeled::Inner {
            kind,
            start,
            vlan,
            key,
        } => Peeled::Inner {
            kind,
            start,
            vlan: vlan.or(outer),
            key,
        },
        other => other,
    }
}

/// Gives an inner frame the key of the tunnel around it (MPLS inside a keyed GRE tunnel).
fn with_key(p: Peeled<'_>, outer: u32) -> Peeled<'_> {
    match p {
        Peeled::Inner {
            kind,
            start,
            vlan,
            key,
        } => Peeled::Inner {
            kind,
            start,
            vlan,
            key: key ^ outer.rotate_left(16),
        },
        other => other,
    }
}

/// An encapsulation carried by IP (GRE, MPLS in IP, IP in IP), by IP protocol number.
pub(crate) fn ip_level(protocol: u8, payload: &[u8]) -> Option<Peeled<'_>> {
    match protocol {
        IPPROTO_GRE => Some(gre(payload)),
        IPPROTO_MPLS => Some(mpls(payload)),
        IPPROTO_IPIP | IPPROTO_IPV6 => Some(Peeled::Inner {
            kind: Encapsulation::IpInIp,
            start: LinkStart::Ip(payload),
            vlan: None,
            key: 0,
        }),
        IPPROTO_ETHERIP => Some(etherip(payload)),
        IPPROTO_ESP => Some(Peeled::Skipped(SkipReason::Esp)),
        _ => None,
    }
}

/// EtherIP (RFC 3378): a 2-byte header (version 3, then reserved bits), then the Ethernet
/// frame.
fn etherip(d: &[u8]) -> Peeled<'_> {
    let (Some(&first), Some(frame)) = (d.first(), d.get(2..)) else {
        return Peeled::Skipped(SkipReason::Short(Encapsulation::EtherIp));
    };
    let version = first >> 4;
    if version != 3 {
        return Peeled::Skipped(SkipReason::EtherIpVersion(version));
    }
    Peeled::Inner {
        kind: Encapsulation::EtherIp,
        start: LinkStart::Ethernet(frame),
        vlan: None,
        key: 0,
    }
}

/// A 24-bit big-endian number at `at`.
fn be24(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(3)?)?;
    Some(b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
}

/// A Geneve payload (UDP to port 6081, RFC 8926): 8 bytes, options (their length in 4-byte
/// words in the first byte), then an Ethernet frame (protocol type 0x6558) or an IP packet.
/// `None` when the version is not 0 or reserved bits are set: RFC 8926 senders clear them,
/// so that is ordinary UDP whose port happens to be 6081 (a TFTP opcode would set them).
pub(crate) fn geneve(d: &[u8]) -> Option<Peeled<'_>> {
    let (&first, &second) = (d.first()?, d.get(1)?);
    if first >> 6 != 0 || second & 0x3f != 0 {
        return None;
    }
    let short = Some(Peeled::Skipped(SkipReason::Short(Encapsulation::Geneve)));
    let (Some(protocol), Some(vni)) = (be16(d, 2), be24(d, 4)) else {
        return short;
    };
    let len = 8 + 4 * usize::from(first & 0x3f);
    let Some(inner) = d.get(len..) else {
        return short;
    };
    let start = match protocol {
        GRE_TEB => LinkStart::Ethernet(inner),
        t => match by_ether_type(t, inner) {
            Some(start) => start,
            None => return Some(Peeled::Skipped(SkipReason::GeneveProtocol(t))),
        },
    };
    Some(Peeled::Inner {
        kind: Encapsulation::Geneve,
        start,
        vlan: None,
        key: vni,
    })
}

/// A GTP-U payload (UDP to port 2152, 3GPP TS 29.281): an 8-byte header, 4 more bytes when
/// any of the E, S or PN flags is set, then the extension-header chain when E is set, then
/// the user's IP packet in a G-PDU (message type 255). `None` when the first byte is not
/// GTP version 1 with the protocol-type bit: ordinary UDP on that port.
pub(crate) fn gtpu(d: &[u8]) -> Option<Peeled<'_>> {
    let flags = *d.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 {
        return None;
    }
    let short = Some(Peeled::Skipped(SkipReason::Short(Encapsulation::GtpU)));
    let (Some(&message), Some(hi), Some(lo)) = (d.get(1), be16(d, 4), be16(d, 6)) else {
        return short;
    };
    if message != GTP_G_PDU {
        return Some(Peeled::Skipped(SkipReason::GtpMessage(message)));
    }
    let teid = (u32::from(hi) << 16) | u32::from(lo);
    let mut at = 8usize;
    if flags & 0x07 != 0 {
        let Some(&next) = d.get(11) else {
            return short;
        };
        at = 12;
        // The next-extension type counts only when E is set.
        let mut next = if flags & 0x04 != 0 { next } else { 0 };
        // Each extension header is its length (in 4-byte words, at least 1) and ends with
        // the next one's type, so the walk advances and ends within the payload.
        while next != 0 {
            let Some(&words) = d.get(at) else {
                return short;
            };
            if words == 0 {
                return short;
            }
            let end = at + 4 * usize::from(words);
            let Some(&n) = d.get(end - 1) else {
                return short;
            };
            next = n;
            at = end;
        }
    }
    let Some(inner) = d.get(at..) else {
        return short;
    };
    Some(match inner.first().map(|b| b >> 4) {
        Some(4 | 6) => Peeled::Inner {
            kind: Encapsulation::GtpU,
            start: LinkStart::Ip(inner),
            vlan: None,
            key: teid,
        },
        Some(n) => Peeled::Skipped(SkipReason::GtpPayload(n)),
        None => return short,
    })
}

/// A VXLAN payload (UDP to port 4789); `None` when the I flag is not set (then it is taken
/// as ordinary UDP).
pub(crate) fn vxlan(payload: &[u8]) -> Option<Peeled<'_>> {
    if payload.first()? & 0x08 == 0 {
        return None;
    }
    Some(match payload.get(8..) {
        Some(inner) => Peeled::Inner {
            kind: Encapsulation::Vxlan,
            start: LinkStart::Ethernet(inner),
            vlan: None,
            // The 24-bit VNI.
            key: be16(payload, 4).map_or(0, |hi| {
                (u32::from(hi) << 8) | u32::from(payload.get(6).copied().unwrap_or(0))
            }),
        },
        None => Peeled::Skipped(SkipReason::Short(Encapsulation::Vxlan)),
    })
}

/// A GRE packet (RFC 2784 with the RFC 2890 key and sequence extensions), including the
/// ERSPAN headers that follow it.
pub(crate) fn gre(d: &[u8]) -> Peeled<'_> {
    let short = Peeled::Skipped(SkipReason::Short(Encapsulation::Gre));
    let (Some(&flags), Some(&version), Some(protocol)) = (d.first(), d.get(1), be16(d, 2)) else {
        return short;
    };
    let version = version & 0x07;
    if version != 0 {
        return Peeled::Skipped(SkipReason::GreVersion(version));
    }
    if flags & 0x40 != 0 {
        return Peeled::Skipped(SkipReason::GreRouting);
    }
    let checksum = flags & 0x80 != 0;
    let key = flags & 0x20 != 0;
    let sequence = flags & 0x10 != 0;
    let len = 4 + 4 * (usize::from(checksum) + usize::from(key) + usize::from(sequence));
    let Some(payload) = d.get(len..) else {
        return short;
    };
    // The key follows the checksum word when both are present (RFC 2890).
    let key_at = 4 + 4 * usize::from(checksum);
    let gre_key = match (key, be16(d, key_at), be16(d, key_at + 2)) {
        (true, Some(hi), Some(lo)) => (u32::from(hi) << 16) | u32::from(lo),
        _ => 0,
    };
    let inner = |kind, start| Peeled::Inner {
        kind,
        start,
        vlan: None,
        key: gre_key,
    };
    match protocol {
        GRE_TEB => inner(Encapsulation::Gre, LinkStart::Ethernet(payload)),
        GRE_ERSPAN_I_II if !sequence => inner(Encapsulation::ErspanI, LinkStart::Ethernet(payload)),
        GRE_ERSPAN_I_II => erspan_ii(payload),
        GRE_ERSPAN_III => erspan_iii(payload),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => with_key(mpls(payload), gre_key),
        t => match by_ether_type(t, payload) {
            Some(start) => inner(Encapsulation::Gre, start),
            None => Peeled::Skipped(SkipReason::GreProtocol(t)),
        },
    }
}

/// The VLAN field of an ERSPAN header (0 means none was recorded).
fn erspan_vlan(word: u16) -> Option<u16> {
    Some(word & 0x0fff).filter(|&v| v != 0)
}

/// The 10-bit session ID of an ERSPAN II or III header.
fn erspan_session(d: &[u8]) -> u32 {
    be16(d, 2).map_or(0, |w| u32::from(w & 0x03ff))
}

/// ERSPAN type II: version 1 in the first nibble, 8 bytes, then the mirrored Ethernet frame.
fn erspan_ii(d: &[u8]) -> Peeled<'_> {
    let (Some(word), Some(frame)) = (be16(d, 0), d.get(8..)) else {
        return Peeled::Skipped(SkipReason::Short(Encapsulation::ErspanII));
    };
    let version = (word >> 12) as u8;
    if version != 1 {
        return Peeled::Skipped(SkipReason::ErspanVersion(version));
    }
    Peeled::Inner {
        kind: Encapsulation::ErspanII,
        start: LinkStart::Ethernet(frame),
        vlan: erspan_vlan(word),
        key: erspan_session(d),
    }
}

/// ERSPAN type III: version 2, 12 bytes (plus 8 when the O flag announces the platform
/// subheader), frame type 0 (Ethernet) or 2 (IP).
fn erspan_iii(d: &[u8]) -> Peeled<'_> {
    let short = Peeled::Skipped(SkipReason::Short(Encapsulation::ErspanIII));
    let (Some(word), Some(&last)) = (be16(d, 0), d.get(11)) else {
        return short;
    };
    let version = (word >> 12) as u8;
    if version != 2 {
        return Peeled::Skipped(SkipReason::ErspanVersion(version));
    }
    let frame_type = match d.get(10) {
        Some(b) => (b >> 2) & 0x1f,
        None => return short,
    };
    let len = if last & 0x01 != 0 { 20 } else { 12 };
    let Some(frame) = d.get(len..) else {
        return short;
    };
    let start = match frame_type {
        0 => LinkStart::Ethernet(frame),
        2 => LinkStart::Ip(frame),
        t => return Peeled::Skipped(SkipReason::ErspanFrameType(t)),
    };
    Peeled::Inner {
        kind: Encapsulation::ErspanIII,
        start,
        vlan: erspan_vlan(word),
        key: erspan_session(d),
    }
}

/// An MPLS label stack, then IP (first nibble 4 or 6) or an Ethernet pseudowire (a zero
/// control word, RFC 4448, then the frame).
fn mpls(d: &[u8]) -> Peeled<'_> {
    let mut at = 0usize;
    for _ in 0..MAX_MPLS_LABELS {
        let Some(&bottom) = d.get(at + 2) else {
            return Peeled::Skipped(SkipReason::Short(Encapsulation::Mpls));
        };
        at += 4;
        if bottom & 0x01 == 0 {
            continue;
        }
        let Some(payload) = d.get(at..) else {
            return Peeled::Skipped(SkipReason::Short(Encapsulation::Mpls));
        };
        // The bottom label (20 bits) names the pseudowire or VPN.
        let label = match (be16(d, at - 4), d.get(at - 2)) {
            (Some(hi), Some(&lo)) => (u32::from(hi) << 4) | u32::from(lo >> 4),
            _ => 0,
        };
        let inner = |start| Peeled::Inner {
            kind: Encapsulation::Mpls,
            start,
            vlan: None,
            key: label,
        };
        return match payload.first().map(|b| b >> 4) {
            Some(4 | 6) => inner(LinkStart::Ip(payload)),
            Some(0) => match payload.get(4..) {
                Some(frame) => inner(LinkStart::Ethernet(frame)),
                None => Peeled::Skipped(SkipReason::Short(Encapsulation::Mpls)),
            },
            Some(n) => Peeled::Skipped(SkipReason::MplsPayload(n)),
            None => Peeled::Skipped(SkipReason::Short(Encapsulation::Mpls)),
        };
    }
    Peeled::Skipped(SkipReason::MplsLabelStack)
}

/// A PPPoE session frame: 6-byte PPPoE header, the PPP protocol, then IP. Other PPP
/// protocols (LCP, IPCP, …) are link control, not IP: `LinkStart::NotIp`.
///
/// The protocol is one byte when the peers negotiated protocol-field compression (RFC 1661
/// section 6.5): protocol numbers are odd in their last byte and even in their first, so an
/// odd first byte is a whole 1-byte protocol (0x21 is IPv4, 0x57 IPv6).
fn pppoe(d: &[u8]) -> Peeled<'_> {
    let short = Peeled::Skipped(SkipReason::Short(Encapsulation::Pppoe));
    let (Some(session), Some(&first)) = (be16(d, 2), d.get(6)) else {
        return short;
    };
    let (protocol, len) = if first & 0x01 == 1 {
        (u16::from(first), 1)
    } else {
        match be16(d, 6) {
            Some(p) => (p, 2),
            None => return short,
        }
    };
    let Some(payload) = d.get(6 + len..) else {
        return short;
    };
    let start = match protocol {
        PPP_IPV4 | PPP_IPV6 => LinkStart::Ip(payload),
        _ => LinkStart::NotIp,
    };
    Peeled::Inner {
        kind: Encapsulation::Pppoe,
        start,
        vlan: None,
        key: u32::from(session),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: [u8; 4] = [0x45, 0, 0, 20];

    fn inner(p: Peeled<'_>) -> (Encapsulation, LinkStart<'_>, Option<u16>) {
        match p {
            Peeled::Inner {
                kind, start, vlan, ..
            } => (kind, start, vlan),
            Peeled::Skipped(r) => panic!("skipped: {r}"),
        }
    }

    #[test]
    fn gre_with_key_and_sequence_carries_ip_or_ethernet() {
        let mut g = vec![0x30, 0x00, 0x08, 0x00, 0, 0, 0, 7, 0, 0, 0, 9];
        g.extend_from_slice(&IP);
        assert_eq!(
            inner(gre(&g)),
            (Encapsulation::Gre, LinkStart::Ip(&IP), None)
        );
        let teb = [0x00, 0x00, 0x65, 0x58, 1, 2, 3];
        assert_eq!(
            inner(gre(&teb)),
            (Encapsulation::Gre, LinkStart::Ethernet(&[1, 2, 3]), None)
        );
        // Checksum bit: 4 more bytes.
        let ck = [0x80, 0x00, 0x65, 0x58, 0, 0, 0, 0, 9];
        assert_eq!(inner(gre(&ck)).1, LinkStart::Ethernet(&[9]));
    }

    #[test]
    fn gre_refusals_are_named() {
        assert_eq!(
            gre(&[0x30, 0x01, 0x88, 0x0b]),
            Peeled::Skipped(SkipReason::GreVersion(1))
        );
        assert_eq!(
            gre(&[0x00, 0x00, 0x88, 0x0b, 0xff]),
            Peeled::Skipped(SkipReason::GreProtocol(0x880b))
        );
        assert_eq!(
            gre(&[0x40, 0x00, 0x08, 0x00]),
            Peeled::Skipped(SkipReason::GreRouting)
        );
        assert_eq!(
            gre(&[0x30, 0x00, 0x08]),
            Peeled::Skipped(SkipReason::Short(Encapsulation::Gre))
        );
        assert_eq!(
            gre(&[0x30, 0x00, 0x08, 0x00, 0, 0, 0]),
            Peeled::Skipped(SkipReason::Short(Encapsulation::Gre))
        );
    }

    #[test]
    fn erspan_types_i_ii_iii() {
        // Type I: 0x88BE without the sequence bit, frame right after GRE.
        let t1 = [0x00, 0x00, 0x88, 0xbe, 0xaa];
        assert_eq!(
            inner(gre(&t1)),
            (Encapsulation::ErspanI, LinkStart::Ethernet(&[0xaa]), None)
        );
        // Type II: sequence bit, version 1, VLAN 100 recorded.
        let mut t2 = vec![0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1];
        t2.extend_from_slice(&[0x10, 0x64, 0x00, 0x05, 0, 0, 0, 0, 0xbb]);
        assert_eq!(
            inner(gre(&t2)),
            (
                Encapsulation::ErspanII,
                LinkStart::Ethernet(&[0xbb]),
                Some(100)
            )
        );
        // Type III, frame type 0, no subheader; then with the O flag (8 more bytes).
        let mut t3 = vec![0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1];
        t3.extend_from_slice(&[0x20, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0xcc]);
        assert_eq!(
            inner(gre(&t3)),
            (Encapsulation::ErspanIII, LinkStart::Ethernet(&[0xcc]), None)
        );
        let mut t3o = vec![0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1];
        t3o.extend_from_slice(&[0x20, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x00, 0x01]);
        t3o.extend_from_slice(&[0; 8]);
        t3o.push(0xdd);
        assert_eq!(inner(gre(&t3o)).1, LinkStart::Ethernet(&[0xdd]));
        // Frame type 2 is IP; anything else is named.
        let mut t3ip = vec![0x00, 0x00, 0x22, 0xeb];
        t3ip.extend_from_slice(&[0x20, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 2 << 2, 0x00]);
        t3ip.extend_from_slice(&IP);
        assert_eq!(inner(gre(&t3ip)).1, LinkStart::Ip(&IP));
        t3ip[14] = 5 << 2;
        assert_eq!(gre(&t3ip), Peeled::Skipped(SkipReason::ErspanFrameType(5)));
        // A type II header claiming version 2 is not type II.
        t2[8] = 0x20;
        assert_eq!(gre(&t2), Peeled::Skipped(SkipReason::ErspanVersion(2)));
    }

    #[test]
    fn vxlan_needs_the_i_flag() {
        let v = [0x08, 0, 0, 0, 0, 0, 1, 0, 0xee];
        assert_eq!(
            inner(vxlan(&v).expect("vxlan")),
            (Encapsulation::Vxlan, LinkStart::Ethernet(&[0xee]), None)
        );
        assert_eq!(vxlan(&[0x00, 0, 0, 0, 0, 0, 1, 0, 0xee]), None);
        assert_eq!(
            vxlan(&[0x08, 0, 0]),
            Some(Peeled::Skipped(SkipReason::Short(Encapsulation::Vxlan)))
        );
    }

    #[test]
    fn mpls_stacks_ip_and_pseudowire() {
        // Two labels, bottom of stack on the second, then IPv4.
        let mut m = vec![0, 1, 0x00, 64, 0, 2, 0x01, 64];
        m.extend_from_slice(&IP);
        assert_eq!(
            inner(mpls(&m)),
            (Encapsulation::Mpls, LinkStart::Ip(&IP), None)
        );
        // Pseudowire: control word of zeros, then an Ethernet frame.
        let pw = [0, 1, 0x01, 64, 0, 0, 0, 0, 0xab];
        assert_eq!(inner(mpls(&pw)).1, LinkStart::Ethernet(&[0xab]));
        assert_eq!(
            mpls(&[0, 1, 0x01, 64, 0x90]),
            Peeled::Skipped(SkipReason::MplsPayload(9))
        );
        let endless: Vec<u8> = std::iter::repeat_n([0u8, 1, 0, 64], 40).flatten().collect();
        assert_eq!(mpls(&endless), Peeled::Skipped(SkipReason::MplsLabelStack));
        assert_eq!(
            mpls(&[0, 1, 0x00, 64, 0, 2]),
            Peeled::Skipped(SkipReason::Short(Encapsulation::Mpls))
        );
    }

    /// RFC 1661 protocol-field compression: a one-byte PPP protocol (odd first byte) is
    /// decoded, not counted as PPPoE and then dropped as not IP (issue 19, item 5c).
    #[test]
    fn pppoe_with_a_one_byte_ppp_protocol_field_is_decoded() {
        let ipv4 = [0x11, 0x00, 0x12, 0x34, 0x00, 0x15, 0x21];
        let d = [&ipv4[..], &IP].concat();
        assert_eq!(
            pppoe(&d),
            Peeled::Inner {
                kind: Encapsulation::Pppoe,
                start: LinkStart::Ip(&IP),
                vlan: None,
                key: 0x1234,
            }
        );
        let ipv6 = [0x11, 0x00, 0x12, 0x34, 0x00, 0x15, 0x57, 0x60];
        assert_eq!(inner(pppoe(&ipv6)).1, LinkStart::Ip(&[0x60]));
        // An uncompressed LCP frame and a compressed unknown protocol are link control.
        let lcp = [0x11, 0x00, 0x12, 0x34, 0x00, 0x03, 0xc0, 0x21, 1];
        assert_eq!(inner(pppoe(&lcp)).1, LinkStart::NotIp);
        let other = [0x11, 0x00, 0x12, 0x34, 0x00, 0x02, 0x23, 1];
        assert_eq!(inner(pppoe(&other)).1, LinkStart::NotIp);
        assert_eq!(
            pppoe(&[0x11, 0x00, 0x12, 0x34, 0x00, 0x00]),
            Peeled::Skipped(SkipReason::Short(Encapsulation::Pppoe))
        );
        assert_eq!(
            pppoe(&[0x11, 0x00, 0x12, 0x34, 0x00, 0x01, 0x00]),
            Peeled::Skipped(SkipReason::Short(Encapsulation::Pppoe))
        );
    }

    #[test]
    fn tunnel_keys_name_gre_vxlan_and_pppoe_sessions() {
        let gre_key = [0x20, 0x00, 0x08, 0x00, 0, 0, 0x01, 0x2c, 0x45];
        assert!(matches!(gre(&gre_key), Peeled::Inner { key: 300, .. }));
        let gre_csum_key = [0xa0, 0x00, 0x08, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 7, 0x45];
        assert!(matches!(gre(&gre_csum_key), Peeled::Inner { key: 7, .. }));
        let plain = [0x00, 0x00, 0x08, 0x00, 0x45];
        assert!(matches!(gre(&plain), Peeled::Inner { key: 0, .. }));
        let vx = [0x08, 0, 0, 0, 0x00, 0x13, 0x88, 0, 0xab];
        assert!(matches!(vxlan(&vx), Some(Peeled::Inner { key: 5000, .. })));
    }

    #[test]
    fn link_level_finds_mpls_and_pppoe_behind_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a, 0x88, 0x64]);
        f.extend_from_slice(&[0x11, 0x00, 0x12, 0x34, 0x00, 0x18, 0x00, 0x21]);
        f.extend_from_slice(&IP);
        assert_eq!(
            inner(link_level(LinkStart::Ethernet(&f)).expect("pppoe")),
            (Encapsulation::Pppoe, LinkStart::Ip(&IP), Some(10))
        );
        let lcp = [0x11, 0x00, 0x12, 0x34, 0x00, 0x18, 0xc0, 0x21, 1];
        assert_eq!(
            inner(link_level(LinkStart::EtherType(0x8864, &lcp)).expect("pppoe")).1,
            LinkStart::NotIp
        );
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0x88, 0x47, 0, 1, 0x01, 64]);
        m.extend_from_slice(&IP);
        assert_eq!(
            inner(link_level(LinkStart::Ethernet(&m)).expect("mpls")).1,
            LinkStart::Ip(&IP)
        );
        let plain = [0u8; 12]
            .iter()
            .chain(&[0x08, 0x00])
            .chain(&IP)
            .copied()
            .collect::<Vec<u8>>();
        assert_eq!(link_level(LinkStart::Ethernet(&plain)), None);
        assert_eq!(link_level(LinkStart::Ethernet(&[0u8; 5])), None);
    }

    #[test]
    fn ip_level_protocols() {
        assert!(matches!(
            ip_level(4, &IP),
            Some(Peeled::Inner {
                kind: Encapsulation::IpInIp,
                ..
            })
        ));
        assert!(ip_level(47, &[0, 0, 0x65, 0x58]).is_some());
        assert_eq!(ip_level(1, &IP), None);
    }

    /// Issue 19 item 7: Geneve (RFC 8926) with options carries Ethernet or IP; TFTP on
    /// port 6081 stays UDP.
    #[test]
    fn geneve_with_options_carries_ethernet_or_ip() {
        // One 4-byte word of options, protocol 0x6558, VNI 0x000102.
        let g = [
            0x01, 0x00, 0x65, 0x58, 0x00, 0x01, 0x02, 0x00, 1, 2, 3, 4, 0xee,
        ];
        assert_eq!(
            geneve(&g),
            Some(Peeled::Inner {
                kind: Encapsulation::Geneve,
                start: LinkStart::Ethernet(&[0xee]),
                vlan: None,
                key: 0x102,
            })
        );
        let ip = [&[0x00, 0x80, 0x08, 0x00, 0, 0, 1, 0][..], &IP].concat();
        assert_eq!(inner(geneve(&ip).expect("geneve")).1, LinkStart::Ip(&IP));
        assert_eq!(
            geneve(&[0x00, 0x00, 0x88, 0x0b, 0, 0, 1, 0, 9]),
            Some(Peeled::Skipped(SkipReason::GeneveProtocol(0x880b)))
        );
        assert_eq!(
            geneve(&[0x02, 0x00, 0x65, 0x58, 0, 0, 1, 0, 9]),
            Some(Peeled::Skipped(SkipReason::Short(Encapsulation::Geneve)))
        );
        // A TFTP DATA block and a version-1 header are ordinary UDP.
        assert_eq!(geneve(&[0x00, 0x03, 0x00, 0x01, b'x']), None);
        assert_eq!(geneve(&[0x40, 0x00, 0x65, 0x58, 0, 0, 1, 0]), None);
    }

    /// Issue 19 item 7: GTP-U G-PDUs (3GPP TS 29.281) with and without the optional fields
    /// and an extension-header chain.
    #[test]
    fn gtpu_g_pdu_with_sequence_and_extension_headers() {
        let plain = [&[0x30, 0xff, 0x00, 0x04, 0, 0, 0, 7][..], &IP].concat();
        assert_eq!(
            gtpu(&plain),
            Some(Peeled::Inner {
                kind: Encapsulation::GtpU,
                start: LinkStart::Ip(&IP),
                vlan: None,
                key: 7,
            })
        );
        // S flag: sequence, N-PDU, next type (ignored without E).
        let seq = [&[0x32, 0xff, 0, 8, 0, 0, 0, 7, 0, 1, 0, 0x85][..], &IP].concat();
        assert_eq!(inner(gtpu(&seq).expect("gtp")).1, LinkStart::Ip(&IP));
        // E flag: a PDU session container (type 0x85, one word) then none.
        let ext = [
            &[0x34, 0xff, 0, 12, 0, 0, 0, 7, 0, 0, 0, 0x85][..],
            &[0x01, 0x10, 0x05, 0x00],
            &IP,
        ]
        .concat();
        assert_eq!(inner(gtpu(&ext).expect("gtp")).1, LinkStart::Ip(&IP));
        // A zero-length extension header, an echo request, a non-IP payload.
        let zero = [0x34, 0xff, 0, 8, 0, 0, 0, 7, 0, 0, 0, 0x85, 0x00, 0, 0, 0];
        assert_eq!(
            gtpu(&zero),
            Some(Peeled::Skipped(SkipReason::Short(Encapsulation::GtpU)))
        );
        assert_eq!(
            gtpu(&[0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]),
            Some(Peeled::Skipped(SkipReason::GtpMessage(1)))
        );
        assert_eq!(
            gtpu(&[0x30, 0xff, 0, 1, 0, 0, 0, 7, 0x20]),
            Some(Peeled::Skipped(SkipReason::GtpPayload(2)))
        );
        // TFTP (opcode's first byte 0) and GTPv2 on this port are ordinary UDP.
        assert_eq!(gtpu(&[0x00, 0x03, 0x00, 0x01]), None);
        assert_eq!(gtpu(&[0x48, 0x20, 0, 4]), None);
    }

    /// Issue 19 item 7: EtherIP (RFC 3378), a WLC guest anchor's tunnel.
    #[test]
    fn etherip_version_3_carries_ethernet() {
        assert_eq!(
            inner(ip_level(97, &[0x30, 0x00, 0xab]).expect("etherip")),
            (Encapsulation::EtherIp, LinkStart::Ethernet(&[0xab]), None)
        );
        assert_eq!(
            ip_level(97, &[0x20, 0x00, 0xab]),
            Some(Peeled::Skipped(SkipReason::EtherIpVersion(2)))
        );
        assert_eq!(
            ip_level(97, &[0x30]),
            Some(Peeled::Skipped(SkipReason::Short(Encapsulation::EtherIp)))
        );
        assert_eq!(
            ip_level(50, &[0; 8]),
            Some(Peeled::Skipped(SkipReason::Esp))
        );
    }

    /// Issue 19 item 7: 802.3 frames with LLC/SNAP are decoded; plain LLC, vendor SNAP
    /// and unknown EtherTypes are named.
    #[test]
    fn llc_snap_plain_llc_and_unknown_ether_types() {
        let eth = |len_or_type: u16, body: &[u8]| {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&len_or_type.to_be_bytes());
            f.extend_from_slice(body);
            f
        };
        let snap = [&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00][..], &IP].concat();
        let f = eth(snap.len() as u16, &snap);
        assert_eq!(
            inner(link_level(LinkStart::Ethernet(&f)).expect("llc")),
            (
                Encapsulation::LlcSnap,
                LinkStart::EtherType(0x0800, &IP),
                None
            )
        );
        // Spanning Tree and CDP never carry IP: not-IP frames, not skipped ones.
        let stp = eth(38, &[0x42, 0x42, 0x03, 0, 0]);
        assert_eq!(link_level(LinkStart::Ethernet(&stp)), None);
        let cdp = eth(30, &[0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00, 2]);
        assert_eq!(link_level(LinkStart::Ethernet(&cdp)), None);
        // Another SAP, or another protocol under Cisco's OUI, is named.
        let netbios = eth(38, &[0xf0, 0xf0, 0x03, 0, 0]);
        assert_eq!(
            link_level(LinkStart::Ethernet(&netbios)),
            Some(Peeled::Skipped(SkipReason::LlcSap(0xf0)))
        );
        let other = eth(30, &[0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x01, 0x0c, 2]);
        assert_eq!(
            link_level(LinkStart::Ethernet(&other)),
            Some(Peeled::Skipped(SkipReason::SnapProtocol {
                oui: 0x0c,
                pid: 0x010c
            }))
        );
        assert_eq!(
            link_level(LinkStart::Ethernet(&eth(3, &[0xaa, 0xaa]))),
            Some(Peeled::Skipped(SkipReason::Short(Encapsulation::LlcSnap)))
        );
        // A Linux cooked capture of protocol ETH_P_802_2 gives the LLC header directly.
        assert_eq!(
            inner(link_level(LinkStart::Llc(&snap)).expect("llc")).1,
            LinkStart::EtherType(0x0800, &IP)
        );
        assert_eq!(
            link_level(LinkStart::Ethernet(&eth(0x88b5, &[1, 2]))),
            Some(Peeled::Skipped(SkipReason::EtherType(0x88b5)))
        );
        for known in [0x0806, 0x88cc, 0x0800, 0x888e] {
            assert_eq!(link_level(LinkStart::Ethernet(&eth(known, &[1, 2]))), None);
        }
        assert_eq!(SkipReason::LlcSap(0x42).code(), Some(0x42));
        assert_eq!(SkipReason::EtherType(0x88b5).id(), "ether-type");
    }
}
