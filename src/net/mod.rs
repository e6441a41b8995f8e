//! Link and network layer decoding: Ethernet (and 802.3 LLC/SNAP), Linux SLL/SLL2, raw IP,
//! BSD loopback, Cisco HDLC, NFLOG, 802.1Q/802.1ad tags, IPv4 and IPv6 (extension headers),
//! IP fragment reassembly, and the tunnels remote captures arrive in (ERSPAN/GRE, VXLAN,
//! Geneve, GTP-U, EtherIP, MPLS, PPPoE, IP in IP). What is not decoded is counted by a
//! named [`SkipReason`] (or per unsupported link type), never dropped silently.
//!
//! Turns a [`crate::capture::Frame`] into a transport-level packet with addresses and ports:
//! [`Decoder::decode`] gives a [`Decoded`]; [`merge_decoder`] folds the decoder's counts into
//! a capture's [`crate::evidence::CaptureSummary`].

mod decode;
mod defrag;
mod fast;
mod link;
mod summary;
mod tunnel;

pub use decode::{DecodeStats, Decoded, Decoder, MalformedReason};
pub use defrag::{DefragLimits, DefragStats, FragmentDrop};
pub use summary::merge_decoder;
pub use tunnel::{Encapsulation, SkipReason};

use crate::capture::Timestamp;
use std::net::IpAddr;

/// TCP header fields the reassembler needs, with the segment's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when `flags.ack`).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Payload bytes (as captured; see [`Packet::truncated`]).
    pub payload: &'a [u8],
}

/// TCP flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
    /// PSH.
    pub psh: bool,
}

/// The transport part of a decoded packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Payload (as captured; see [`Packet::truncated`]).
        payload: &'a [u8],
    },
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// Another IP protocol (ICMP, …), by number.
    Other {
        /// IP protocol number.
        protocol: u8,
        /// The IP payload (as captured).
        payload: &'a [u8],
    },
}

impl<'a> Transport<'a> {
    /// The payload, whatever the protocol.
    pub fn payload(&self) -> &'a [u8] {
        match *self {
            Transport::Udp { payload, .. } | Transport::Other { payload, .. } => payload,
            Transport::Tcp(seg) => seg.payload,
        }
    }

    /// The same headers with another payload.
    pub fn with_payload<'b>(self, payload: &'b [u8]) -> Transport<'b> {
        match self {
            Transport::Udp {
                src_port, dst_port, ..
            } => Transport::Udp {
                src_port,
                dst_port,
                payload,
            },
            Transport::Tcp(seg) => Transport::Tcp(TcpSegment { payload, ..seg }),
            Transport::Other { protocol, .. } => Transport::Other { protocol, payload },
        }
    }
}

/// A decoded IP packet (after defragmentation when it was fragmented).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Frame number of the frame that completed this packet.
    pub frame: u64,
    /// Capture time of that frame.
    pub ts: Timestamp,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Outermost VLAN ID, if tagged.
    pub vlan: Option<u16>,
    /// Transport header and payload.
    pub transport: Transport<'a>,
    /// True when the snaplen cut the packet: the payload is not whole.
    pub truncated: bool,
}

impl Packet<'_> {
    /// The same packet with another payload (the pipeline hands packets between threads
    /// with their payload named apart).
    pub fn with_payload<'b>(&self, payload: &'b [u8]) -> Packet<'b> {
        Packet {
            frame: self.frame,
            ts: self.ts,
            src: self.src,
            dst: self.dst,
            vlan: self.vlan,
            transport: self.transport.with_payload(payload),
            truncated: self.truncated,
        }
    }
}
