//! The capture's bytes in shared blocks: pcap-parser's reader loop contract
//! ([`PcapReaderIterator`]: next / consume / refill / grow) over buffers that can outlive
//! the reader's position in them.
//!
//! pcap-parser's own readers keep one circular buffer and shift it on refill, so a frame's
//! bytes are only valid until the next call. Here each refill moves to a fresh block (the
//! unconsumed tail is carried over) and a block is reused only once nobody else holds it:
//! a frame's bytes can be handed to another thread as (block, offset) without copying them
//! (the pipeline decodes on one core and collects on the other).

use pcap_parser::pcap::{
    LegacyPcapBlock, PcapHeader, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified,
    parse_pcap_header,
};
use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::io::Read;
use std::sync::Arc;

/// A block of capture bytes, shared between the reader and whoever holds frames in it.
pub type SharedBlock = Arc<Vec<u8>>;

/// Retired blocks kept for reuse (each is reused once its last holder dropped it).
const SPARE_BLOCKS: usize = 8;

type LegacyParse =
    fn(&[u8]) -> pcap_parser::nom::IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>>;

/// The file format, decided from the first bytes as pcap-parser's `create_reader` does.
enum Format {
    Legacy {
        header: PcapHeader,
        parse: LegacyParse,
    },
    PcapNg {
        big_endian: bool,
    },
}

/// A capture reader over [`SharedBlock`]s; see the module documentation.
pub struct BlockReader {
    input: Box<dyn Read + Send>,
    format: Format,
    block: SharedBlock,
    /// Unconsumed data is `block[start..end]`.
    start: usize,
    end: usize,
    /// Size of a block: what the caller asked for.
    base: usize,
    /// Size of the next block while a record longer than `base` is read (grows for big
    /// records; blocks go back to `base` once it is consumed).
    capacity: usize,
    consumed: usize,
    exhausted: bool,
    spare: Vec<SharedBlock>,
}

impl std::fmt::Debug for BlockReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockReader")
            .field("capacity", &self.capacity)
            .field("consumed", &self.consumed)
            .field("buffered", &(self.end - self.start))
            .finish_non_exhaustive()
    }
}

impl BlockReader {
    /// Reads the first block and recognises the format, with pcap-parser's errors:
    /// `ReadError` when the first read fails, `Eof` on an empty input, `Incomplete` for a
    /// legacy header cut short, `HeaderNotRecognized` otherwise.
    pub fn new(
        capacity: usize,
        mut input: Box<dyn Read + Send>,
    ) -> Result<Self, PcapError<&'static [u8]>> {
        let mut first = vec![0u8; capacity];
        let n = input.read(&mut first).map_err(|_| PcapError::ReadError)?;
        if n == 0 {
            return Err(PcapError::Eof);
        }
        let data = first.get(..n).unwrap_or_default();
        let format = if parse_sectionheaderblock(data).is_ok() {
            Format::PcapNg { big_endian: false }
        } else {
            match parse_pcap_header(data) {
                Ok((_, header)) => {
                    let parse: LegacyParse = if header.is_modified_format() {
                        parse_pcap_frame_modified
                    } else if header.is_bigendian() {
                        parse_pcap_frame_be
                    } else {
                        parse_pcap_frame
                    };
                    Format::Legacy { header, parse }
                }
                Err(pcap_parser::nom::Err::Incomplete(pcap_parser::nom::Needed::Size(n))) => {
                    return Err(PcapError::Incomplete(n.into()));
                }
                Err(pcap_parser::nom::Err::Incomplete(pcap_parser::nom::Needed::Unknown)) => {
                    return Err(PcapError::Incomplete(0));
                }
                Err(_) => return Err(PcapError::HeaderNotRecognized),
            }
        };
        Ok(BlockReader {
            input,
            format,
            block: Arc::new(first),
            start: 0,
            end: n,
            base: capacity,
            capacity,
            consumed: 0,
            exhausted: false,
            spare: Vec::new(),
        })
    }

    /// The block the unconsumed data lies in: a frame returned from [`BlockReader::data`]
    /// lies in it until the next refill or grow.
    pub fn block(&self) -> &SharedBlock {
        &self.block
    }

    /// A block of at least `size` bytes that nobody else holds: a spare one, else new.
    fn fresh_block(&mut self, size: usize) -> SharedBlock {
        let free = self
            .spare
            .iter()
            .position(|b| Arc::strong_count(b) == 1 && b.len() >= size);
        match free {
            Some(i) => self.spare.swap_remove(i),
            None => Arc::new(vec![0u8; size]),
        }
    }

    /// Moves the unconsumed tail to the start of a block of `size` bytes: the current one
    /// when nobody else holds it, else a fresh one (the old one stays valid for its
    /// holders).
    fn carry_over(&mut self, size: usize) {
        let tail = self.start..self.end;
        let len = tail.len();
        if self.block.len() >= size
            && let Some(own) = Arc::get_mut(&mut self.block)
        {
            own.copy_within(tail, 0);
        } else {
            let mut fresh = self.fresh_block(size);
            if let (Some(to), Some(from)) = (
                Arc::get_mut(&mut fresh).and_then(|b| b.get_mut(..len)),
                self.block.get(tail),
            ) {
                to.copy_from_slice(from);
            }
            let old = std::mem::replace(&mut self.block, fresh);
            // Blocks grown for a big record are not kept: memory goes back to normal.
            if self.spare.len() < SPARE_BLOCKS && old.len() == self.base {
                self.spare.push(old);
            }
        }
        self.start = 0;
        self.end = len;
    }
}

/// pcap-parser's handling of a parser's "incomplete": the end of the input makes it a cut
/// capture; a record larger than the buffer asks for a bigger one.
fn incomplete<'a>(
    needed: pcap_parser::nom::Needed,
    exhausted: bool,
    available: usize,
    capacity: usize,
) -> PcapError<&'a [u8]> {
    if exhausted {
        return PcapError::UnexpectedEof;
    }
    match needed {
        pcap_parser::nom::Needed::Size(n) if available + usize::from(n) >= capacity => {
            PcapError::BufferTooSmall
        }
        pcap_parser::nom::Needed::Size(n) => PcapError::Incomplete(n.into()),
        pcap_parser::nom::Needed::Unknown => PcapError::Incomplete(0),
    }
}

impl PcapReaderIterator for BlockReader {
    fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        if let Format::Legacy { header, .. } = &self.format
            && self.consumed == 0
        {
            return Ok((header.size(), PcapBlockOwned::from(header.clone())));
        }
        if self.start == self.end && self.exhausted {
            return Err(PcapError::Eof);
        }
        let available = self.end - self.start;
        let (exhausted, capacity) = (self.exhausted, self.block.len());
        let data = self.block.get(self.start..self.end).unwrap_or_default();
        match &mut self.format {
            Format::Legacy { parse, .. } => match parse(data) {
                Ok((rest, b)) => Ok((data.len() - rest.len(), PcapBlockOwned::from(b))),
                Err(pcap_parser::nom::Err::Error(e)) | Err(pcap_parser::nom::Err::Failure(e)) => {
                    Err(e)
                }
                Err(pcap_parser::nom::Err::Incomplete(n)) => {
                    Err(incomplete(n, exhausted, available, capacity))
                }
            },
            Format::PcapNg { big_endian } => {
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                match parse(data) {
                    Ok((rest, b)) => {
                        if let Block::SectionHeader(shb) = &b {
                            *big_endian = shb.big_endian();
                        }
                        Ok((data.len() - rest.len(), PcapBlockOwned::from(b)))
                    }
                    Err(pcap_parser::nom::Err::Error(e))
                    | Err(pcap_parser::nom::Err::Failure(e)) => Err(e),
                    Err(pcap_parser::nom::Err::Incomplete(n)) => {
                        Err(incomplete(n, exhausted, available, capacity))
                    }
                }
            }
        }
    }

    fn consume(&mut self, offset: usize) {
        self.consume_noshift(offset);
    }

    fn consume_noshift(&mut self, offset: usize) {
        let n = offset.min(self.end - self.start);
        self.start += n;
        self.consumed += n;
    }

    fn consumed(&self) -> usize {
        self.consumed
    }

    fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        if self.exhausted {
            return Ok(());
        }
        // Only move when the free space at the end is less than half a block: a refill
        // right after a partial read keeps filling the same block. A tail shorter than a
        // block goes to a block of the normal size, a longer one (part of a big record) to
        // one of the grown size.
        let tail = self.end - self.start;
        let size = if tail < self.base {
            self.base
        } else {
            self.capacity.max(tail)
        };
        if self.block.len() - self.end < size / 2 || self.block.len() < size {
            self.carry_over(size);
        }
        if Arc::get_mut(&mut self.block).is_none() {
            // Someone holds the block: carry over to a fresh one, then read.
            self.carry_over(size);
        }
        let end = self.end;
        let read = match Arc::get_mut(&mut self.block).and_then(|b| b.get_mut(end..)) {
            Some(space) if !space.is_empty() => self.input.read(space),
            // No room (not expected: a record longer than the block grows it first). Not
            // the end of the input: the caller sees no progress and stops after a while.
            _ => return Ok(()),
        };
        match read {
            Ok(0) => {
                self.exhausted = true;
                Ok(())
            }
            Ok(n) => {
                self.end += n;
                Ok(())
            }
            Err(_) => Err(PcapError::ReadError),
        }
    }

    fn position(&self) -> usize {
        self.start
    }

    fn grow(&mut self, new_size: usize) -> bool {
        if new_size > self.capacity {
            self.capacity = new_size;
            self.carry_over(new_size);
        }
        true
    }

    fn data(&self) -> &[u8] {
        self.block.get(self.start..self.end).unwrap_or_default()
    }

    fn reader_exhausted(&self) -> bool {
        self.exhausted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use itlscope_gen::pcap::{Endian, PcapNgWriter, PcapWriter, Precision};
    use std::io::Cursor;

    /// Hands out at most `step` bytes per read after the first, as a pipe does (the first
    /// read is filled, as [`super::super::input`] does).
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let step = if self.at == 0 { buf.len() } else { self.step };
            let n = buf.len().min(step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Drives `reader` through its loop contract as the capture reader does, calling `each`
    /// with the reader (at the record) and the record's length; a record too big for the
    /// buffer grows it to `grow(bytes buffered)`.
    fn each_record<R: PcapReaderIterator + ?Sized>(
        reader: &mut R,
        grow: fn(usize) -> usize,
        mut each: impl FnMut(&R, usize),
    ) {
        loop {
            match reader.next() {
                Ok((len, _)) => {
                    each(reader, len);
                    reader.consume_noshift(len);
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
                Err(PcapError::BufferTooSmall) => {
                    let bigger = grow(reader.data().len());
                    reader.grow(bigger);
                    reader.refill().expect("refill");
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    }

    /// Every record of `reader` as (length, bytes).
    fn records(reader: &mut dyn PcapReaderIterator) -> Vec<(usize, Vec<u8>)> {
        let mut out = Vec::new();
        each_record(
            reader,
            |buffered| buffered * 2 + 4096,
            |r, len| out.push((len, r.data()[..len].to_vec())),
        );
        out
    }

    /// 300 frames of growing sizes, in pcapng or legacy pcap, in either byte order.
    fn sample(pcapng: bool, endian: Endian) -> Vec<u8> {
        let frames: Vec<Vec<u8>> = (0..300u32)
            .map(|i| vec![(i % 251) as u8; 60 + (i as usize * 37) % 1400])
            .collect();
        if pcapng {
            let mut w = PcapNgWriter::new(Vec::new(), endian).expect("write");
            w.add_interface(1, 65535, None, None).expect("write");
            for (i, f) in frames.iter().enumerate() {
                w.write_enhanced(0, i as i64 * 1000, f, f.len() as u32)
                    .expect("write");
            }
            w.into_inner()
        } else {
            let mut w =
                PcapWriter::new(Vec::new(), 1, 65535, Precision::Micro, endian).expect("write");
            for (i, f) in frames.iter().enumerate() {
                w.write_packet(i as i64 * 1000, f, f.len() as u32)
                    .expect("write");
            }
            w.into_inner()
        }
    }

    #[test]
    fn the_same_records_as_pcap_parsers_reader_whatever_the_reads() {
        for (pcapng, endian) in [
            (false, Endian::Little),
            (false, Endian::Big),
            (true, Endian::Little),
            (true, Endian::Big),
        ] {
            let bytes = sample(pcapng, endian);
            let mut theirs =
                pcap_parser::create_reader(1 << 16, Cursor::new(bytes.clone())).expect("reader");
            let reference = records(theirs.as_mut());
            assert!(reference.len() > 300, "header blocks and 300 frames");
            for (capacity, step) in [(4096, 4096), (4096, 7), (1 << 20, 1 << 20), (65536, 1000)] {
                let input = Trickle {
                    data: bytes.clone(),
                    at: 0,
                    step,
                };
                let mut ours = BlockReader::new(capacity, Box::new(input)).expect("reader");
                assert_eq!(
                    records(&mut ours),
                    reference,
                    "pcapng {pcapng}, capacity {capacity}"
                );
            }
        }
    }

    #[test]
    fn a_held_block_keeps_its_bytes_when_the_reader_moves_on() {
        let bytes = sample(false, Endian::Little);
        let mut reader = BlockReader::new(4096, Box::new(Cursor::new(bytes))).expect("reader");
        let mut held: Vec<(SharedBlock, usize, Vec<u8>)> = Vec::new();
        each_record(
            &mut reader,
            |_| 1 << 16,
            |r, len| {
                held.push((
                    Arc::clone(r.block()),
                    r.position(),
                    r.data()[..len].to_vec(),
                ));
            },
        );
        assert!(held.len() > 300);
        for (block, at, copy) in &held {
            assert_eq!(&block[*at..*at + copy.len()], &copy[..]);
        }
    }

    #[test]
    fn errors_at_opening_are_pcap_parsers() {
        let empty = BlockReader::new(4096, Box::new(Cursor::new(Vec::new())));
        assert!(matches!(empty, Err(PcapError::Eof)));
        let text = BlockReader::new(
            4096,
            Box::new(Cursor::new(b"hello, world, not a capture".to_vec())),
        );
        assert!(matches!(text, Err(PcapError::HeaderNotRecognized)));
        let cut = BlockReader::new(
            4096,
            Box::new(Cursor::new(vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0])),
        );
        assert!(matches!(cut, Err(PcapError::Incomplete(_))));
    }

    #[test]
    fn blocks_go_back_to_their_size_after_a_big_record() {
        let mut frames: Vec<Vec<u8>> = (0..50).map(|i| vec![i as u8; 1000]).collect();
        frames.insert(10, vec![0xee; 100_000]);
        let mut w = PcapWriter::new(Vec::new(), 1, 1 << 20, Precision::Micro, Endian::Little)
            .expect("write");
        for (i, f) in frames.iter().enumerate() {
            w.write_packet(i as i64, f, f.len() as u32).expect("write");
        }
        let bytes = w.into_inner();
        let mut reader = BlockReader::new(8192, Box::new(Cursor::new(bytes))).expect("reader");
        let mut held = Vec::new();
        let mut sizes = Vec::new();
        each_record(
            &mut reader,
            |_| 1 << 17,
            |r, len| {
                sizes.push((len, r.block().len()));
                // Hold every block, as batches in flight do.
                held.push(Arc::clone(r.block()));
            },
        );
        assert_eq!(sizes.len(), 52, "header and 51 frames");
        assert!(
            sizes.iter().any(|&(_, block)| block >= 100_000),
            "the big record's block"
        );
        let (_, last) = sizes[sizes.len() - 1];
        assert_eq!(last, 8192, "blocks of the normal size after it");
        assert!(
            reader.spare.iter().all(|b| b.len() == 8192),
            "no grown block kept"
        );
    }
}
