//! UDP dispatch: a datagram seen as two endpoints and a payload.

use crate::evidence::{Endpoint, Seen};
use crate::net::{Packet, Transport};

/// A UDP datagram, addressed by endpoints.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Payload (possibly cut by the snaplen: see `truncated`).
    pub payload: &'a [u8],
    /// True when the snaplen cut the datagram.
    pub truncated: bool,
    /// Where it was seen.
    pub seen: Seen,
}

impl<'a> Datagram<'a> {
    /// The datagram in `pkt`, if it is UDP.
    pub fn from_packet(pkt: &Packet<'a>) -> Option<Self> {
        match pkt.transport {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => Some(Datagram {
                src: Endpoint {
                    ip: pkt.src,
                    port: src_port,
                },
                dst: Endpoint {
                    ip: pkt.dst,
                    port: dst_port,
                },
                payload,
                truncated: pkt.truncated,
                seen: Seen {
                    capture: 0,
                    frame: pkt.frame,
                    ts: pkt.ts,
                },
            }),
            _ => None,
        }
    }
}
