//! Capture reading: legacy pcap and pcapng, streamed from a file or standard input.
//!
//! Produces [`Frame`]s numbered from 1 in file order, as Wireshark numbers them.
//! [`CaptureReader`] streams through bounded blocks (1 MiB, growing up to
//! [`ReaderOptions::max_record_size`] for big records), gunzips transparently, and reads
//! standard input for `-`. [`CaptureReader::next_shared_frame`] also gives the
//! [`SharedBlock`] a frame lies in, so its bytes can go to another thread uncopied.

mod blocks;
mod clock;
mod error;
mod input;
mod reader;

/// Re-exported: frames carry one, and most stages name it through the capture stage.
pub use crate::timestamp::Timestamp;
pub use blocks::SharedBlock;
pub use clock::{CONFIRM_FRAMES, CaptureClock, ClockMove};
pub use error::CaptureError;
pub use reader::{CaptureReader, MIN_RECORD_SIZE, ReaderOptions};

/// `pcap`, `pcapng` or `gzip-compressed` when the bytes start like a capture file (legacy
/// pcap in either byte order, microsecond or nanosecond, and its old variants).
pub fn file_kind(bytes: &[u8]) -> Option<&'static str> {
    let head: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let le = u32::from_le_bytes(head);
    const LEGACY: [u32; 4] = [0xa1b2_c3d4, 0xa1b2_3c4d, 0xa1b2_cd34, 0xa1b2_c3d5];
    if LEGACY.iter().any(|&m| le == m || le == m.swap_bytes()) {
        Some("pcap")
    } else if le == 0x0a0d_0d0a {
        Some("pcapng")
    } else if head[..2] == [0x1f, 0x8b] {
        Some("gzip-compressed")
    } else {
        None
    }
}

/// A link-layer type as numbered by tcpdump's LINKTYPE_ registry (kept raw so unknown
/// values still flow through and can be counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback, host byte order address family.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II (and 802.3).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP as written by some platforms with the old DLT value 12.
    pub const RAW_DLT12: LinkType = LinkType(12);
    /// Raw IP as written by OpenBSD with DLT value 14.
    pub const RAW_DLT14: LinkType = LinkType(14);
    /// Raw IP (version nibble decides 4 or 6).
    pub const RAW: LinkType = LinkType(101);
    /// Cisco HDLC (address, control, then an EtherType-like protocol field).
    pub const C_HDLC: LinkType = LinkType(104);
    /// OpenBSD loopback, network byte order address family.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter log messages (`nflog:` interfaces): TLVs around the IP packet.
    pub const NFLOG: LinkType = LinkType(239);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The JSON name of the link types itlscope decodes: tcpdump's `LINKTYPE_` name in
    /// lower case (`ethernet`, `linux_sll`, `raw`…).
    pub fn key(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "null",
            LinkType::ETHERNET => "ethernet",
            LinkType::RAW_DLT12 | LinkType::RAW_DLT14 | LinkType::RAW => "raw",
            LinkType::LOOP => "loop",
            LinkType::LINUX_SLL => "linux_sll",
            LinkType::IPV4 => "ipv4",
            LinkType::IPV6 => "ipv6",
            LinkType::LINUX_SLL2 => "linux_sll2",
            LinkType::C_HDLC => "c_hdlc",
            LinkType::NFLOG => "nflog",
            _ => return None,
        })
    }

    /// A short human name for the link types itlscope decodes.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "BSD loopback",
            LinkType::ETHERNET => "Ethernet",
            LinkType::RAW_DLT12 | LinkType::RAW_DLT14 | LinkType::RAW => "raw IP",
            LinkType::LOOP => "OpenBSD loopback",
            LinkType::LINUX_SLL => "Linux cooked",
            LinkType::IPV4 => "raw IPv4",
            LinkType::IPV6 => "raw IPv6",
            LinkType::LINUX_SLL2 => "Linux cooked v2",
            LinkType::C_HDLC => "Cisco HDLC",
            LinkType::NFLOG => "Linux NFLOG",
            _ => return None,
        })
    }
}

/// One captured packet, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number in file order (Wireshark's "frame N").
    pub number: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// Link type of the interface the frame was captured on.
    pub link_type: LinkType,
    /// pcapng interface index (0 for legacy pcap).
    pub interface: u32,
    /// The captured bytes (`caplen` of them).
    pub data: &'a [u8],
    /// Length of the packet on the wire; larger than `data.len()` when snaplen cut it.
    pub orig_len: u32,
}

impl Frame<'_> {
    /// True when the capture kept fewer bytes than were on the wire: payloads from such a
    /// frame must not be taken as whole.
    pub fn truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}
