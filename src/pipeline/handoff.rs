//! Decoded packets handed from the decoding thread to the collecting one, in batches.
//!
//! A packet's payload is not copied: it is named as (block, offset, length) in the capture
//! reader's [`SharedBlock`]s, which the batch holds. Only payloads the decoder built itself
//! (reassembled IP fragments) are copied, into the batch's own buffer.

use crate::capture::{SharedBlock, Timestamp};
use crate::net::{Packet, TcpFlags, TcpSegment, Transport};
use std::net::IpAddr;
use std::sync::Arc;

/// Packets per batch: big enough that the hand-over (a channel send, a wake-up) is rare,
/// small enough that the blocks a batch holds stay few.
pub(super) const BATCH_PACKETS: usize = 1024;
/// Copied payload bytes per batch at most (plus one datagram): reassembled fragments are
/// up to 64 KiB each.
const BATCH_COPIED: usize = 1 << 20;

/// Where a payload's bytes are.
#[derive(Debug, Clone, Copy)]
enum Bytes {
    /// In `blocks[block][start..start + len]`.
    Block { block: u32, start: u32, len: u32 },
    /// In `copied[start..start + len]`.
    Copied { start: u32, len: u32 },
}

/// A [`Transport`] whose payload is a [`Bytes`].
#[derive(Debug, Clone, Copy)]
enum TransportRef {
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: Bytes,
    },
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        payload: Bytes,
    },
    Other {
        protocol: u8,
        payload: Bytes,
    },
}

/// A [`Packet`] without its borrow.
#[derive(Debug, Clone, Copy)]
struct PacketRef {
    frame: u64,
    ts: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    vlan: Option<u16>,
    truncated: bool,
    transport: TransportRef,
}

/// Decoded packets and what their payloads lie in.
#[derive(Debug, Default)]
pub(super) struct Batch {
    blocks: Vec<SharedBlock>,
    copied: Vec<u8>,
    packets: Vec<PacketRef>,
}

impl Batch {
    /// True when the batch should be handed over.
    pub(super) fn is_full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.copied.len() >= BATCH_COPIED
    }

    /// True when it holds no packet.
    pub(super) fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Empties it for reuse, keeping its allocations (and dropping its hold on blocks).
    pub(super) fn clear(&mut self) {
        self.blocks.clear();
        self.copied.clear();
        self.packets.clear();
    }

    /// Adds a packet whose frame lies in `block`.
    pub(super) fn push(&mut self, packet: &Packet<'_>, block: &SharedBlock) {
        let transport = match packet.transport {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => TransportRef::Udp {
                src_port,
                dst_port,
                payload: self.bytes(payload, block),
            },
            Transport::Tcp(seg) => TransportRef::Tcp {
                src_port: seg.src_port,
                dst_port: seg.dst_port,
                seq: seg.seq,
                ack: seg.ack,
                flags: seg.flags,
                window: seg.window,
                payload: self.bytes(seg.payload, block),
            },
            Transport::Other { protocol, payload } => TransportRef::Other {
                protocol,
                payload: self.bytes(payload, block),
            },
        };
        self.packets.push(PacketRef {
            frame: packet.frame,
            ts: packet.ts,
            src: packet.src,
            dst: packet.dst,
            vlan: packet.vlan,
            truncated: packet.truncated,
            transport,
        });
    }

    /// Names `payload` by its place in `block`, or copies it when it lies elsewhere.
    fn bytes(&mut self, payload: &[u8], block: &SharedBlock) -> Bytes {
        let base = block.as_ptr() as usize;
        let at = (payload.as_ptr() as usize).wrapping_sub(base);
        let inside = at <= block.len() && payload.len() <= block.len() - at;
        match (inside, u32::try_from(at), u32::try_from(payload.len())) {
            (true, Ok(start), Ok(len)) => Bytes::Block {
                block: self.block_index(block),
                start,
                len,
            },
            _ => {
                let start = self.copied.len();
                self.copied.extend_from_slice(payload);
                Bytes::Copied {
                    start: u32::try_from(start).unwrap_or(u32::MAX),
                    len: u32::try_from(payload.len()).unwrap_or(0),
                }
            }
        }
    }

    /// The index of `block` in `blocks`, added when new (frames come in file order, so it is
    /// the last one or a new one).
    fn block_index(&mut self, block: &SharedBlock) -> u32 {
        if !self.blocks.last().is_some_and(|b| Arc::ptr_eq(b, block)) {
            self.blocks.push(Arc::clone(block));
        }
        // At most one block per packet, and a batch holds BATCH_PACKETS packets.
        (self.blocks.len() - 1) as u32
    }

    /// The packets, each as it was decoded.
    pub(super) fn packets(&self) -> impl Iterator<Item = Packet<'_>> {
        self.packets.iter().map(|p| Packet {
            frame: p.frame,
            ts: p.ts,
            src: p.src,
            dst: p.dst,
            vlan: p.vlan,
            truncated: p.truncated,
            transport: match p.transport {
                TransportRef::Udp {
                    src_port,
                    dst_port,
                    payload,
                } => Transport::Udp {
                    src_port,
                    dst_port,
                    payload: self.slice(payload),
                },
                TransportRef::Tcp {
                    src_port,
                    dst_port,
                    seq,
                    ack,
                    flags,
                    window,
                    payload,
                } => Transport::Tcp(TcpSegment {
                    src_port,
                    dst_port,
                    seq,
                    ack,
                    flags,
                    window,
                    payload: self.slice(payload),
                }),
                TransportRef::Other { protocol, payload } => Transport::Other {
                    protocol,
                    payload: self.slice(payload),
                },
            },
        })
    }

    fn slice(&self, bytes: Bytes) -> &[u8] {
        let (source, start, len): (&[u8], u32, u32) = match bytes {
            Bytes::Block { block, start, len } => (
                self.blocks.get(block as usize).map_or(&[][..], |b| &b[..]),
                start,
                len,
            ),
            Bytes::Copied { start, len } => (&self.copied[..], start, len),
        };
        let start = start as usize;
        source
            .get(start..start.saturating_add(len as usize))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn tcp<'a>(frame: u64, payload: &'a [u8]) -> Packet<'a> {
        Packet {
            frame,
            ts: Timestamp(frame as i64 * 1000),
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            vlan: Some(100),
            transport: Transport::Tcp(TcpSegment {
                src_port: 50000,
                dst_port: 2445,
                seq: 7,
                ack: 9,
                flags: TcpFlags {
                    ack: true,
                    psh: true,
                    ..TcpFlags::default()
                },
                window: 512,
                payload,
            }),
            truncated: false,
        }
    }

    #[test]
    fn payloads_in_a_block_are_named_and_others_copied() {
        let first: SharedBlock = Arc::new((0..=255u8).cycle().take(4096).collect());
        let second: SharedBlock = Arc::new(vec![0xab; 4096]);
        let reassembled = vec![0x5a; 3000];
        let udp = Packet {
            transport: Transport::Udp {
                src_port: 69,
                dst_port: 50001,
                payload: &reassembled,
            },
            ..tcp(3, &[])
        };
        let sent = [
            (tcp(1, &first[100..200]), &first),
            (tcp(2, &first[4000..4096]), &first),
            (udp, &first),
            (tcp(4, &second[..0]), &second),
            (tcp(5, &second[10..1500]), &second),
        ];
        let mut batch = Batch::default();
        for (packet, block) in &sent {
            batch.push(packet, block);
        }
        assert_eq!(batch.blocks.len(), 2, "each block held once");
        assert_eq!(
            batch.copied, reassembled,
            "only the reassembled payload is copied"
        );
        let received: Vec<Packet<'_>> = batch.packets().collect();
        let expected: Vec<Packet<'_>> = sent.iter().map(|(p, _)| *p).collect();
        assert_eq!(received, expected);
        // The named payloads are the block's own bytes, not copies.
        if let Transport::Tcp(seg) = received[1].transport {
            assert_eq!(seg.payload.as_ptr(), first[4000..].as_ptr());
        }
        batch.clear();
        assert!(batch.is_empty() && batch.blocks.is_empty());
        assert_eq!(
            Arc::strong_count(&first),
            1,
            "a cleared batch holds no block"
        );
    }
}
