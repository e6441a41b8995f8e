//! Frames handed from the reading thread to the collecting one, in batches, decoded on
//! whichever side has time for it.
//!
//! A frame's bytes are not copied: they are named as (block, offset, length) in the capture
//! reader's [`SharedBlock`]s, which the batch holds. The reading thread decodes a batch
//! before sending it ([`Batch::decode`]) when the collector is behind, and sends it raw
//! when the collector is waiting, which then decodes it itself: heavy TLS traffic keeps the
//! collector busy, plain RTP keeps the reader busy, and either way both cores work.
//! Payloads the decoder built itself (reassembled IP fragments) are copied into the batch.

use crate::capture::{Frame, LinkType, SharedBlock, Timestamp};
use crate::net::{Decoded, Decoder, Packet, Transport};
use std::sync::Arc;

/// Frames per batch: big enough that the hand-over (a channel send, a wake-up) is rare,
/// small enough that the blocks a batch holds stay few.
const BATCH_FRAMES: usize = 1024;
/// Bytes of blocks (and copies) a batch holds at most, plus one block: with the batches in
/// flight this bounds the memory they keep, whatever the records' sizes (a batch of
/// 1024 records of 16 MiB would otherwise hold 16 GiB).
/// (2 MiB: with the batches in flight and the read-ahead, a capture of big records holds
/// ~15 MiB in hand-over, part of the fixed memory per capture read at once.)
const BATCH_BYTES: usize = 2 << 20;

/// Where a payload's bytes are.
#[derive(Debug, Clone, Copy)]
enum Bytes {
    /// In `blocks[block][start..start + len]`.
    Block { block: u32, start: u32, len: u32 },
    /// In `copied[start..start + len]`.
    Copied { start: u32, len: u32 },
    /// In `frames_copied[start..start + len]` (a frame outside the block it was given with:
    /// not expected, kept rather than lost).
    FrameCopied { start: u32, len: u32 },
}

/// A [`Packet`] without its borrow: the headers, with an empty payload, and where the
/// payload is.
#[derive(Debug, Clone, Copy)]
struct PacketRef {
    packet: Packet<'static>,
    payload: Bytes,
}

/// A [`Frame`] without its borrow.
#[derive(Debug, Clone, Copy)]
struct FrameRef {
    number: u64,
    ts: Timestamp,
    link_type: LinkType,
    interface: u32,
    orig_len: u32,
    data: Bytes,
}

impl FrameRef {
    fn frame(self, data: &[u8]) -> Frame<'_> {
        Frame {
            number: self.number,
            ts: self.ts,
            link_type: self.link_type,
            interface: self.interface,
            data,
            orig_len: self.orig_len,
        }
    }
}

/// Frames, or the packets decoded from them, and what their bytes lie in.
#[derive(Debug, Default)]
pub(super) struct Batch {
    blocks: Vec<SharedBlock>,
    copied: Vec<u8>,
    frames_copied: Vec<u8>,
    /// Frames not decoded yet (empty once decoded).
    frames: Vec<FrameRef>,
    /// Packets decoded from the frames, when the reading thread decoded them.
    packets: Vec<PacketRef>,
    /// Bytes of the blocks held and of the frames copied.
    held: usize,
}

impl Batch {
    /// True when the batch should be handed over.
    pub(super) fn is_full(&self) -> bool {
        self.frames.len() >= BATCH_FRAMES || self.held >= BATCH_BYTES
    }

    /// True when it holds nothing.
    pub(super) fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.packets.is_empty()
    }

    /// True when its frames still need decoding.
    pub(super) fn is_raw(&self) -> bool {
        !self.frames.is_empty()
    }

    /// Empties it for reuse, keeping its allocations (and dropping its hold on blocks).
    pub(super) fn clear(&mut self) {
        self.blocks.clear();
        self.copied.clear();
        self.frames_copied.clear();
        self.frames.clear();
        self.packets.clear();
        self.held = 0;
    }

    /// Adds a frame that lies in `block`.
    #[inline]
    pub(super) fn push_frame(&mut self, frame: &Frame<'_>, block: &SharedBlock) {
        let data = match self.place(frame.data, block) {
            Some(bytes) => bytes,
            None => {
                self.held += frame.data.len();
                match copy_into(&mut self.frames_copied, frame.data) {
                    Bytes::Copied { start, len } => Bytes::FrameCopied { start, len },
                    other => other,
                }
            }
        };
        self.frames.push(FrameRef {
            number: frame.number,
            ts: frame.ts,
            link_type: frame.link_type,
            interface: frame.interface,
            orig_len: frame.orig_len,
            data,
        });
    }

    /// Decodes the frames into packets (on the reading thread). The decoder must have
    /// decoded every earlier frame of the capture, and no later one.
    pub(super) fn decode(&mut self, decoder: &mut Decoder) {
        // The copies made here (reassembled datagrams) are bounded by the decoder's
        // reassembly limits, not counted in `held`: the batch is already full.
        let Batch {
            blocks,
            copied,
            frames_copied,
            frames,
            packets,
            held: _,
        } = self;
        // Room for every frame's packet at once: no capacity check per packet (issue 19).
        packets.reserve(frames.len());
        for f in frames.iter() {
            // A frame lies in a block or in `frames_copied`, never in `copied`.
            let (data, home) = match f.data {
                Bytes::Block { block, start, len } => {
                    let b = blocks.get(block as usize);
                    let start = start as usize;
                    let data = b
                        .and_then(|b| b.get(start..start.saturating_add(len as usize)))
                        .unwrap_or_default();
                    (data, b.map(|b| (block, b)))
                }
                other => (slice(blocks, &[], frames_copied, other), None),
            };
            let Decoded::Packet(packet) = decoder.decode(&f.frame(data)) else {
                continue;
            };
            // A payload inside its frame is named in the frame's block; one the decoder
            // built (reassembled fragments) is copied.
            let payload = packet.transport.payload();
            let bytes = match home.and_then(|(i, b)| locate(payload, i, b)) {
                Some(bytes) => bytes,
                None => copy_into(copied, payload),
            };
            packets.push(PacketRef {
                packet: packet.with_payload(&[]),
                payload: bytes,
            });
        }
        frames.clear();
    }

    /// The frames, when the batch came raw.
    pub(super) fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        self.frames.iter().map(|f| f.frame(self.slice(f.data)))
    }

    /// `bytes`' place in `block`, when it lies there (the block is then held).
    fn place(&mut self, bytes: &[u8], block: &SharedBlock) -> Option<Bytes> {
        let Bytes::Block { start, len, .. } = locate(bytes, 0, block)? else {
            return None;
        };
        Some(Bytes::Block {
            block: self.block_index(block),
            start,
            len,
        })
    }

    /// The index of `block` in `blocks`, added when new (frames come in file order, so it is
    /// the last one or a new one; a packet's is its frame's).
    fn block_index(&mut self, block: &SharedBlock) -> u32 {
        if !self.blocks.last().is_some_and(|b| Arc::ptr_eq(b, block)) {
            self.held += block.len();
            self.blocks.push(Arc::clone(block));
        }
        // At most one block per frame, and a batch holds BATCH_FRAMES frames.
        (self.blocks.len() - 1) as u32
    }

    /// The packets, when the reading thread decoded them.
    pub(super) fn packets(&self) -> impl Iterator<Item = Packet<'_>> {
        self.packets.iter().map(|p| {
            // The headers copied as they are (a `Packet<'static>` is a `Packet<'_>`), then
            // only the payload set: half the work of rebuilding the packet field by field
            // (`Packet::with_payload`), once a packet on the collecting thread (issue 19).
            let mut packet: Packet<'_> = p.packet;
            let bytes = self.slice(p.payload);
            match &mut packet.transport {
                Transport::Tcp(seg) => seg.payload = bytes,
                Transport::Udp { payload, .. } | Transport::Other { payload, .. } => {
                    *payload = bytes;
                }
            }
            packet
        })
    }

    fn slice(&self, bytes: Bytes) -> &[u8] {
        slice(&self.blocks, &self.copied, &self.frames_copied, bytes)
    }
}

/// The bytes `bytes` names.
fn slice<'b>(
    blocks: &'b [SharedBlock],
    copied: &'b [u8],
    frames: &'b [u8],
    bytes: Bytes,
) -> &'b [u8] {
    let (source, start, len): (&[u8], u32, u32) = match bytes {
        Bytes::Block { block, start, len } => (
            blocks.get(block as usize).map_or(&[][..], |b| &b[..]),
            start,
            len,
        ),
        Bytes::Copied { start, len } => (copied, start, len),
        Bytes::FrameCopied { start, len } => (frames, start, len),
    };
    let start = start as usize;
    source
        .get(start..start.saturating_add(len as usize))
        .unwrap_or_default()
}

/// `bytes`' place in `block` (number `index` of the batch), when it lies there.
fn locate(bytes: &[u8], index: u32, block: &SharedBlock) -> Option<Bytes> {
    let at = (bytes.as_ptr() as usize).wrapping_sub(block.as_ptr() as usize);
    let inside = at <= block.len() && bytes.len() <= block.len() - at;
    match (inside, u32::try_from(at), u32::try_from(bytes.len())) {
        (true, Ok(start), Ok(len)) => Some(Bytes::Block {
            block: index,
            start,
            len,
        }),
        _ => None,
    }
}

/// Copies `bytes` to the end of `buffer`; a batch's buffers stay far below 4 GiB (a
/// thousand frames or reassembled datagrams of at most 64 KiB each).
fn copy_into(buffer: &mut Vec<u8>, bytes: &[u8]) -> Bytes {
    let start = buffer.len();
    buffer.extend_from_slice(bytes);
    Bytes::Copied {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        len: u32::try_from(bytes.len()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::DefragLimits;
    use etherparse::PacketBuilder;

    /// An Ethernet frame carrying UDP (`tcp` false) or TCP with `payload`.
    fn frame_bytes(tcp: bool, payload: &[u8]) -> Vec<u8> {
        let ip = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]).ipv4(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            64,
        );
        let mut out = Vec::new();
        if tcp {
            ip.tcp(50000, 2445, 7, 512).ack(9).write(&mut out, payload)
        } else {
            ip.udp(69, 50001).write(&mut out, payload)
        }
        .expect("builds");
        out
    }

    fn frame(number: u64, data: &[u8]) -> Frame<'_> {
        Frame {
            number,
            ts: Timestamp(number as i64 * 1000),
            link_type: LinkType::ETHERNET,
            interface: 0,
            data,
            orig_len: data.len() as u32,
        }
    }

    #[test]
    fn a_batch_decoded_on_either_side_gives_the_packets_of_a_plain_decode() {
        let mut first = Vec::new();
        let mut spans = Vec::new();
        for (i, tcp) in [true, false, true].into_iter().enumerate() {
            let bytes = frame_bytes(tcp, &vec![i as u8 + 1; 100 * (i + 1)]);
            spans.push(first.len()..first.len() + bytes.len());
            first.extend_from_slice(&bytes);
        }
        let first: SharedBlock = Arc::new(first);
        let second: SharedBlock = Arc::new(frame_bytes(false, b"in the second block"));
        // Not inside the block it is given with: copied, not lost.
        let elsewhere = frame_bytes(true, b"elsewhere");
        let given: Vec<(Frame<'_>, &SharedBlock)> = vec![
            (frame(1, &first[spans[0].clone()]), &first),
            (frame(2, &first[spans[1].clone()]), &first),
            (frame(3, &second[..]), &second),
            (frame(4, &first[spans[2].clone()]), &first),
            (frame(5, &elsewhere), &first),
        ];
        let mut plain = Decoder::new(DefragLimits::default());
        let expected: Vec<String> = given
            .iter()
            .filter_map(|(f, _)| match plain.decode(f) {
                Decoded::Packet(p) => Some(format!("{p:?}")),
                _ => None,
            })
            .collect();
        assert_eq!(expected.len(), 5);

        let mut batch = Batch::default();
        for (f, block) in &given {
            batch.push_frame(f, block);
        }
        assert!(batch.is_raw());
        assert_eq!(batch.blocks.len(), 3, "first, second, first again");
        assert_eq!(batch.frames_copied, elsewhere);
        let mut collecting_side = Decoder::new(DefragLimits::default());
        let raw: Vec<String> = batch
            .frames()
            .filter_map(|f| match collecting_side.decode(&f) {
                Decoded::Packet(p) => Some(format!("{p:?}")),
                _ => None,
            })
            .collect();
        assert_eq!(raw, expected);

        let mut reading_side = Decoder::new(DefragLimits::default());
        batch.decode(&mut reading_side);
        assert!(!batch.is_raw() && !batch.is_empty());
        assert_eq!(
            batch.copied, b"elsewhere",
            "payloads in blocks are not copied; the copied frame's is"
        );
        let decoded: Vec<String> = batch.packets().map(|p| format!("{p:?}")).collect();
        assert_eq!(decoded, expected);
        // A payload named in its block is the block's own bytes.
        if let Some(Transport::Tcp(seg)) = batch.packets().next().map(|p| p.transport) {
            let at = seg.payload.as_ptr() as usize - first.as_ptr() as usize;
            assert!(spans[0].contains(&at));
        }
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(
            Arc::strong_count(&first),
            1,
            "a cleared batch holds no block"
        );
    }

    #[test]
    fn a_batch_is_full_by_bytes_held_as_well_as_by_frames() {
        // Big records: each in a block of its own.
        let blocks: Vec<SharedBlock> = (0..6).map(|_| Arc::new(vec![0u8; 1 << 20])).collect();
        let mut batch = Batch::default();
        let mut pushed = 0;
        for block in &blocks {
            if batch.is_full() {
                break;
            }
            batch.push_frame(&frame(pushed, &block[..1000]), block);
            pushed += 1;
        }
        assert_eq!(
            pushed,
            (BATCH_BYTES >> 20) as u64,
            "full after BATCH_BYTES of 1 MiB blocks, not after 1024 frames"
        );
        // Small frames in one block: full by count.
        let small: SharedBlock = Arc::new(vec![0u8; 1 << 16]);
        let mut batch = Batch::default();
        let mut n = 0;
        while !batch.is_full() {
            batch.push_frame(&frame(n, &small[..60]), &small);
            n += 1;
        }
        assert_eq!(n, BATCH_FRAMES as u64);
    }
}
