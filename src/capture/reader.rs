//! The streaming capture reader: pcap-parser's record parsers driven through its reader loop
//! contract (next / consume / refill / grow) over shared blocks ([`BlockReader`]), with the
//! record-length checks pcap-parser lacks so that a lying header costs one skipped record or
//! a clear error, never unbounded memory.

use super::blocks::{BlockReader, SharedBlock};
use super::clock::{TickScale, legacy_ts, pcapng_ts};
use super::error::CaptureError;
use super::input::{self, ErrorSlot, GzipCut};
use super::{Frame, LinkType, Timestamp};
use crate::events::{CaptureLimit, LimitEvent};
use crate::evidence::CaptureSummary;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapBlock, PcapBlockOwned, PcapError};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Tunables of the capture reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Size of the read buffer. 1 MiB measured best (rust-notes §4.2).
    pub buffer_size: usize,
    /// Largest record (pcapng block or pcap record with its header) the reader will hold;
    /// the buffer grows up to this size for big records, and a record claiming more is
    /// skipped without being held (named in the summary's `limits_hit`).
    pub max_record_size: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            buffer_size: 1 << 20,
            max_record_size: 16 << 20,
        }
    }
}

/// Smallest buffer accepted (the file header and record headers must fit).
const MIN_BUFFER: usize = 4096;

/// The smallest `max_record_size` honoured: smaller values are raised to it (a record
/// header and a minimal frame must fit).
pub const MIN_RECORD_SIZE: usize = MIN_BUFFER;
/// At most this many notes about skipped records are kept in the summary.
const MAX_NOTES: usize = 20;
/// Consecutive refills without progress tolerated before giving up.
const MAX_STALLS: u32 = 64;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_OBSOLETE_PACKET: u32 = 2;

/// One pcapng interface of the current section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    scale: TickScale,
    offset_secs: i64,
}

/// What the file header said about the records that follow.
#[derive(Debug)]
enum Layout {
    Legacy {
        link_type: LinkType,
        nanosecond: bool,
        big_endian: bool,
        /// 16, or 24 for the "modified" (Kuznetzov) format.
        record_header: usize,
        /// The file header's snapshot length (0 when the writer left it unset).
        snaplen: u32,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Everything but the pcap-parser reader, so it can be updated while the reader is borrowed.
struct State {
    name: String,
    layout: Layout,
    summary: CaptureSummary,
    /// Index into `summary.link_types` of the last frame's link type (most frames repeat it).
    last_link: Option<(LinkType, usize)>,
    decryption_secrets: u64,
    notes_dropped: u64,
    /// Seconds of the last legacy pcap record read: a record header found by
    /// resynchronisation must be dated near it.
    last_legacy_secs: Option<u32>,
    /// Set when a resynchronisation found no plausible record header: the file's headers
    /// are odd throughout (a writer's quirk, not one corrupt record), so records are taken
    /// as they claim from then on, as before.
    resync_off: bool,
}

/// Frame fields decided while the block is borrowed.
#[derive(Clone, Copy)]
struct Meta {
    ts: Timestamp,
    has_ts: bool,
    link_type: LinkType,
    interface: u32,
    orig_len: u32,
}

/// The outcome of one `next()` with no borrow of the buffer left.
enum Step {
    /// A packet record `len` bytes long whose captured bytes are `start..start + caplen`
    /// of the buffer's data.
    Frame {
        len: usize,
        start: usize,
        caplen: usize,
        meta: Meta,
    },
    /// A record with no packet (headers, statistics, unknown blocks).
    Skip(usize),
    /// A packet record whose fields lie, skipped whole.
    Malformed { len: usize, why: String },
    /// pcap-parser could not return a block; see [`Stall`].
    Stall(Stall),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stall {
    /// End of input at a record boundary.
    Eof,
    /// Anything else: look at the record header to decide.
    NeedsLook,
    /// The underlying read failed.
    Read,
}

/// What to do about a stall.
enum Resolution {
    Refill,
    Grow(usize),
    SkipMalformed(usize, String),
    /// A record longer than `max_record_size`: read past, never held.
    SkipOversized(u64),
    End,
    Truncated,
    Fail(CaptureError),
}

/// Reads frames from a legacy pcap or pcapng capture, streaming, in bounded memory.
///
/// ```no_run
/// # use itlscope::capture::CaptureReader;
/// let mut reader = CaptureReader::open(std::path::Path::new("phone.pcapng"))?;
/// while let Some(frame) = reader.next_frame()? {
///     println!("frame {} at {}", frame.number, frame.ts.to_rfc3339());
/// }
/// if let Some(w) = reader.warning() { eprintln!("{w}"); }
/// # Ok::<(), itlscope::capture::CaptureError>(())
/// ```
pub struct CaptureReader {
    /// None once the end (or a fatal error) was reached and the next call released it.
    reader: Option<BlockReader>,
    /// Set when the end (or a fatal error) was reached.
    done: bool,
    state: State,
    /// Length of the record last returned, consumed on the next call (without shifting the
    /// buffer: `refill` shifts anyway, when little is left, which avoids a 512 KiB memmove
    /// per half buffer; measured ~10% of the run time).
    pending: usize,
    capacity: usize,
    options: ReaderOptions,
    errors: ErrorSlot,
    /// Set by the input when a gzip stream ended before its end marker.
    gzip_cut: GzipCut,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.state.name)
            .field("frames", &self.state.summary.frames)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a capture file; `-` reads standard input.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Self::open_with(path, ReaderOptions::default())
    }

    /// [`CaptureReader::open`] with explicit options.
    pub fn open_with(path: &Path, options: ReaderOptions) -> Result<Self, CaptureError> {
        let name = path.display().to_string();
        if path == Path::new("-") {
            return Self::from_reader_with(&name, Box::new(std::io::stdin()), options);
        }
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: name.clone(),
            source,
        })?;
        Self::from_reader_with(&name, Box::new(file), options)
    }

    /// Reads a capture from any byte stream; `name` is used in messages.
    pub fn from_reader(name: &str, input: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        Self::from_reader_with(name, input, ReaderOptions::default())
    }

    /// [`CaptureReader::from_reader`] with explicit options.
    pub fn from_reader_with(
        name: &str,
        input: Box<dyn Read + Send>,
        options: ReaderOptions,
    ) -> Result<Self, CaptureError> {
        let max_record_size = options.max_record_size.max(MIN_BUFFER);
        let buffer_size = options.buffer_size.clamp(MIN_BUFFER, max_record_size);
        let options = ReaderOptions {
            buffer_size,
            max_record_size,
        };
        let prepared = input::prepare(input).map_err(|source| CaptureError::Io {
            path: name.to_string(),
            source,
        })?;
        let magic = prepared
            .first_bytes
            .get(..4)
            .and_then(|m| <[u8; 4]>::try_from(m).ok());
        let pcapng = magic == Some(PCAPNG_SHB.to_le_bytes());
        let known_magic = pcapng || magic.is_some_and(is_legacy_magic);
        let mut summary = CaptureSummary {
            path: name.to_string(),
            format: if pcapng { "pcapng" } else { "pcap" }.to_string(),
            ..CaptureSummary::default()
        };
        if prepared.gzip {
            summary
                .notes
                .push("gzip-compressed: byte counts are of the decompressed capture".into());
        }
        let layout = if pcapng {
            Layout::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            }
        } else {
            Layout::Legacy {
                link_type: LinkType::ETHERNET,
                nanosecond: false,
                big_endian: false,
                record_header: 16,
                snaplen: 0,
            }
        };
        let state = State {
            name: name.to_string(),
            layout,
            summary,
            last_link: None,
            decryption_secrets: 0,
            notes_dropped: 0,
            last_legacy_secs: None,
            resync_off: false,
        };
        let errors = prepared.errors.clone();
        let gzip_cut = prepared.gzip_cut.clone();
        let delivered = prepared.delivered.clone();
        let first_bytes = prepared.first_bytes.clone();
        let mut this = CaptureReader {
            reader: None,
            done: false,
            state,
            pending: 0,
            capacity: buffer_size,
            options,
            errors,
            gzip_cut,
        };
        match BlockReader::new(buffer_size, Box::new(prepared.input)) {
            Ok(r) => this.reader = Some(r),
            Err(PcapError::ReadError) => {
                return Err(CaptureError::Io {
                    path: name.to_string(),
                    source: input::take_error(&this.errors),
                });
            }
            // A recognised magic with too few bytes behind it: a capture cut in its header.
            Err(PcapError::Incomplete(_)) if known_magic => {
                this.state.summary.truncated = Some(truncation_message(name, 0, 0));
            }
            // pcap-parser tries the legacy header when the section header does not parse, so
            // a pcapng cut inside its section header fails as "not recognised": it is a cut
            // capture when the file ends before the length the header claims.
            Err(_) if pcapng => {
                let have = delivered.load(Ordering::Relaxed);
                let claimed = section_header_len(&first_bytes);
                // 12 bytes hold the block type, its length and the byte-order magic.
                let cut = match claimed {
                    Some(claimed) => have < claimed,
                    None => have < 12,
                };
                if !cut {
                    return Err(CaptureError::Corrupt {
                        path: name.to_string(),
                        frame: 0,
                        offset: 0,
                        reason: "pcapng section header does not parse".into(),
                    });
                }
                let of = claimed.map(|c| format!(" of {c}")).unwrap_or_default();
                this.state.summary.bytes = have;
                this.state.summary.truncated = Some(format!(
                    "{name}: pcapng capture cut inside its section header ({have}{of} bytes)"
                ));
                this.done = true;
            }
            Err(_) => {
                return Err(CaptureError::NotACapture {
                    path: name.to_string(),
                    first_bytes,
                });
            }
        }
        Ok(this)
    }

    /// The name given at opening.
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// What was read so far (complete once `next_frame` returned `None` or an error).
    pub fn summary(&self) -> &CaptureSummary {
        &self.state.summary
    }

    /// The truncation warning, `FILE: truncated after frame N (byte offset X)`, once the
    /// reader met a record cut off by the end of the file.
    pub fn warning(&self) -> Option<&str> {
        self.state.summary.truncated.as_deref()
    }

    /// Consumes the reader, returning its summary.
    pub fn into_summary(self) -> CaptureSummary {
        self.state.summary
    }

    /// The next frame in file order, numbered from 1; `None` at the end of the capture,
    /// including a truncated end (then [`CaptureReader::warning`] says where).
    ///
    /// An error stops the reader: frames returned before it are valid, later calls return
    /// `None`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        Ok(self.next_shared_frame()?.map(|(frame, _)| frame))
    }

    /// [`CaptureReader::next_frame`], with the block the frame's bytes lie in: holding the
    /// block keeps them valid after the reader moved on, so they can be handed to another
    /// thread without a copy.
    pub fn next_shared_frame(&mut self) -> Result<Option<(Frame<'_>, &SharedBlock)>, CaptureError> {
        if self.done {
            // Release the buffer and the file (could not be done while borrowed).
            self.reader = None;
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        if self.pending != 0 {
            reader.consume_noshift(self.pending);
            self.pending = 0;
        }
        let mut stalls = 0u32;
        loop {
            // Each of these is a virtual call into pcap-parser: one of each per frame.
            // `next()` neither consumes nor refills, so both stay valid below.
            let consumed = reader.consumed();
            // A legacy record header that cannot be true: find the next one rather than take
            // the records after it for its data.
            if consumed != 0
                && !self.state.resync_off
                && let Some(bad) = implausible_legacy_record(&self.state, reader.data())
            {
                match resync(
                    &mut *reader,
                    &mut self.state,
                    self.capacity,
                    &self.errors,
                    bad,
                ) {
                    Ok(()) => continue,
                    Err(e) => {
                        self.done = true;
                        return Err(e);
                    }
                }
            }
            let buffer = reader.data();
            let base = buffer.as_ptr() as usize;
            let whole = (consumed != 0)
                .then(|| legacy_record(&self.state.layout, buffer))
                .flatten();
            // pcap-parser 0.17 subtracts 12 from a pcapng block length it has only checked
            // against a smaller per-block minimum (8 for a Process Information Block): a
            // length of 8 to 11 underflows (a panic in debug builds). Such a length is
            // refused here, before the parser sees it.
            let bad_length = whole.is_none()
                && matches!(self.state.layout, Layout::PcapNg { .. })
                && matches!(claimed_record_len(buffer, &self.state.layout), Some(Err(_)));
            let step = match whole {
                Some((len, block)) => classify(&mut self.state, len, block, base),
                None if bad_length => Step::Stall(Stall::NeedsLook),
                None => match reader.next() {
                    Ok((len, block)) => classify(&mut self.state, len, block, base),
                    Err(e) => Step::Stall(match e {
                        PcapError::Eof => Stall::Eof,
                        PcapError::ReadError => Stall::Read,
                        _ => Stall::NeedsLook,
                    }),
                },
            };
            let resolution = match step {
                Step::Frame {
                    len,
                    start,
                    caplen,
                    meta,
                } => {
                    let offset = consumed as u64;
                    let Some(data) = reader.data().get(start..start.saturating_add(caplen)) else {
                        // Cannot happen: the slice came from this buffer. Stop cleanly.
                        let err = self.state.corrupt(offset, "packet data outside its block");
                        self.done = true;
                        return Err(err);
                    };
                    self.pending = len;
                    let number = self
                        .state
                        .count_frame(&meta, data.len(), offset + len as u64);
                    let frame = Frame {
                        number,
                        ts: meta.ts,
                        link_type: meta.link_type,
                        interface: meta.interface,
                        data,
                        orig_len: meta.orig_len,
                    };
                    return Ok(Some((frame, reader.block())));
                }
                Step::Skip(len) => {
                    reader.consume_noshift(len);
                    continue;
                }
                Step::Malformed { len, why } => Resolution::SkipMalformed(len, why),
                Step::Stall(Stall::Eof) => Resolution::End,
                Step::Stall(Stall::Read) => Resolution::Fail(CaptureError::Read {
                    path: self.state.name.clone(),
                    frame: self.state.summary.frames,
                    offset: reader.consumed() as u64,
                    source: input::take_error(&self.errors),
                }),
                Step::Stall(Stall::NeedsLook) => {
                    look_at_record(&*reader, &self.state, self.capacity, &self.options)
                }
            };
            match resolution {
                Resolution::SkipMalformed(len, why) => {
                    let offset = reader.consumed() as u64;
                    self.state.note_malformed(offset, &why);
                    reader.consume_noshift(len);
                }
                Resolution::SkipOversized(claimed) => {
                    let offset = reader.consumed() as u64;
                    self.state
                        .note_oversized(offset, claimed, self.options.max_record_size);
                    match skip_bytes(&mut *reader, claimed, &self.state, &self.errors) {
                        Ok(true) => {}
                        Ok(false) => {
                            let offset = reader.consumed() as u64;
                            self.state.summary.bytes = offset;
                            self.state.summary.truncated = Some(format!(
                                "{}: truncated inside the oversized record at byte offset {} (after frame {})",
                                self.state.name, offset, self.state.summary.frames
                            ));
                            finish(&mut self.state, &self.gzip_cut);
                            self.done = true;
                            return Ok(None);
                        }
                        Err(e) => {
                            self.done = true;
                            return Err(e);
                        }
                    }
                }
                Resolution::Grow(new_capacity) => {
                    reader.grow(new_capacity);
                    self.capacity = new_capacity;
                    if let Err(e) = refill(&mut *reader, &self.state, &self.errors) {
                        self.done = true;
                        return Err(e);
                    }
                }
                Resolution::Refill => {
                    let before = reader.data().len();
                    if let Err(e) = refill(&mut *reader, &self.state, &self.errors) {
                        self.done = true;
                        return Err(e);
                    }
                    if reader.data().len() == before && !reader.reader_exhausted() {
                        stalls += 1;
                        if stalls > MAX_STALLS {
                            let err = self
                                .state
                                .corrupt(reader.consumed() as u64, "the reader makes no progress");
                            self.done = true;
                            return Err(err);
                        }
                    } else {
                        stalls = 0;
                    }
                }
                Resolution::End => {
                    self.state.summary.bytes = reader.consumed() as u64;
                    finish(&mut self.state, &self.gzip_cut);
                    self.done = true;
                    return Ok(None);
                }
                Resolution::Truncated => {
                    let offset = reader.consumed() as u64;
                    self.state.summary.bytes = offset;
                    self.state.summary.truncated = Some(truncation_message(
                        &self.state.name,
                        self.state.summary.frames,
                        offset,
                    ));
                    finish(&mut self.state, &self.gzip_cut);
                    self.done = true;
                    return Ok(None);
                }
                Resolution::Fail(err) => {
                    self.state.summary.bytes = reader.consumed() as u64;
                    finish(&mut self.state, &self.gzip_cut);
                    self.done = true;
                    return Err(err);
                }
            }
        }
    }
}

/// The fields of a legacy pcap record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RecordHeader {
    secs: u32,
    /// Microseconds, or nanoseconds in a nanosecond file.
    frac: u32,
    caplen: u32,
    origlen: u32,
}

/// Largest packet a legacy record may plausibly hold whatever the file's snaplen says
/// (Wireshark's limit; Linux offload captures exceed a 65,535 snaplen).
const MAX_PLAUSIBLE_CAPLEN: u32 = 262_144;
/// Largest original length taken as plausible when looking for a record header.
const MAX_PLAUSIBLE_ORIGLEN: u32 = 1 << 24;
/// A record header found by resynchronisation is dated within this many seconds of the
/// record before it (and of the one after it).
const RESYNC_MAX_GAP_SECS: u32 = 86_400;
/// Refills tried to fill the buffer before looking for the next record header.
const RESYNC_REFILLS: u32 = 64;

/// The record header at the start of `data` in a legacy pcap layout (`None` for pcapng or
/// when fewer bytes than a header are buffered).
fn record_header(layout: &Layout, data: &[u8]) -> Option<RecordHeader> {
    let Layout::Legacy {
        big_endian,
        record_header,
        ..
    } = *layout
    else {
        return None;
    };
    if data.len() < record_header {
        return None;
    }
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    Some(RecordHeader {
        secs: word(0)?,
        frac: word(4)?,
        caplen: word(8)?,
        origlen: word(12)?,
    })
}

/// Whether a record header's own fields can be true: a fraction of a second below one
/// second, no more captured than sent, and a captured length a capture can hold.
fn fields_plausible(layout: &Layout, h: &RecordHeader) -> bool {
    let Layout::Legacy {
        nanosecond,
        snaplen,
        ..
    } = *layout
    else {
        return true;
    };
    let frac_limit = if nanosecond { 1_000_000_000 } else { 1_000_000 };
    h.frac < frac_limit && h.caplen <= h.origlen && h.caplen <= snaplen.max(MAX_PLAUSIBLE_CAPLEN)
}

/// The header of the legacy pcap record at the start of `data` when its fields cannot be
/// true (a corrupt `caplen`, or bytes that are not a header at all): reading it as it claims
/// would take the records after it for packet data.
fn implausible_legacy_record(state: &State, data: &[u8]) -> Option<RecordHeader> {
    let h = record_header(&state.layout, data)?;
    (!fields_plausible(&state.layout, &h)).then_some(h)
}

/// Whether a record header can start at `at` of `data`: plausible fields, dated near
/// `near` (the record before), and followed by another such header, or by the exact end
/// of the input.
fn header_at(layout: &Layout, data: &[u8], at: usize, near: Option<u32>, exhausted: bool) -> bool {
    let Layout::Legacy {
        record_header: hdr, ..
    } = *layout
    else {
        return false;
    };
    let close = |a: u32, b: Option<u32>| b.is_none_or(|b| a.abs_diff(b) <= RESYNC_MAX_GAP_SECS);
    let plausible =
        |h: &RecordHeader| fields_plausible(layout, h) && h.origlen <= MAX_PLAUSIBLE_ORIGLEN;
    let Some(h) = data.get(at..).and_then(|d| record_header(layout, d)) else {
        return false;
    };
    if !plausible(&h) || !close(h.secs, near) {
        return false;
    }
    let Some(next) = at
        .checked_add(hdr)
        .and_then(|n| n.checked_add(h.caplen as usize))
    else {
        return false;
    };
    if next == data.len() {
        return exhausted;
    }
    match data.get(next..).and_then(|d| record_header(layout, d)) {
        Some(n) => plausible(&n) && close(n.secs, Some(h.secs)),
        None => false,
    }
}

/// Skips from a record header whose fields cannot be true to the next plausible record
/// header in the buffer (the reader's promise: a corrupt record costs that record, not the
/// rest of the file), and notes how many bytes were skipped, where, and after which frame.
/// When the buffer holds no plausible header, the file's headers are odd throughout:
/// resynchronisation is switched off and records are read as they claim.
fn resync(
    reader: &mut (dyn PcapReaderIterator + Send),
    state: &mut State,
    capacity: usize,
    errors: &ErrorSlot,
    bad: RecordHeader,
) -> Result<(), CaptureError> {
    // Fill the buffer: the next header is within a record or two of here.
    for _ in 0..RESYNC_REFILLS {
        if reader.reader_exhausted() || reader.data().len() >= capacity / 2 {
            break;
        }
        refill(reader, state, errors)?;
    }
    let data = reader.data();
    let exhausted = reader.reader_exhausted();
    let near = state.last_legacy_secs;
    let found = (1..data.len()).find(|&at| header_at(&state.layout, data, at, near, exhausted));
    let Some(skip) = found else {
        state.resync_off = true;
        return Ok(());
    };
    let offset = reader.consumed() as u64;
    state.summary.malformed += 1;
    let note = format!(
        "record at byte offset {offset} (after frame {}) has an impossible header (caplen {}, original length {}): {skip} bytes skipped to the next plausible record header",
        state.summary.frames, bad.caplen, bad.origlen
    );
    if state.summary.notes.len() < MAX_NOTES {
        state.summary.notes.push(note);
    } else {
        state.notes_dropped += 1;
    }
    reader.consume_noshift(skip);
    Ok(())
}

/// Ends reading: the end-of-file notes, and a gzip stream cut short said as such (the
/// decompressed capture may end on a record boundary and look whole).
fn finish(state: &mut State, gzip_cut: &GzipCut) {
    state.finish();
    if gzip_cut.load(Ordering::Relaxed) {
        let s = &mut state.summary;
        s.notes
            .push("the gzip stream is cut short (no end marker): read up to the cut".into());
        if s.truncated.is_none() {
            s.truncated = Some(format!(
                "{}: gzip stream cut after frame {} (byte offset {} of the decompressed capture)",
                state.name, s.frames, s.bytes
            ));
        }
    }
}

/// Reads past `count` bytes of the input without holding them (a record over the size
/// limit). `Ok(false)` when the input ends first.
fn skip_bytes(
    reader: &mut (dyn PcapReaderIterator + Send),
    mut count: u64,
    state: &State,
    errors: &ErrorSlot,
) -> Result<bool, CaptureError> {
    loop {
        let here = reader.data().len();
        let n = usize::try_from(count).map_or(here, |c| c.min(here));
        reader.consume_noshift(n);
        count -= n as u64;
        if count == 0 {
            return Ok(true);
        }
        if reader.reader_exhausted() && reader.data().is_empty() {
            return Ok(false);
        }
        refill(reader, state, errors)?;
        if reader.data().is_empty() && reader.reader_exhausted() {
            return Ok(false);
        }
    }
}

/// The length a pcapng section header block claims, from the file's first bytes.
fn section_header_len(first: &[u8]) -> Option<u64> {
    let word = |at: usize| -> Option<[u8; 4]> { first.get(at..at + 4)?.try_into().ok() };
    let len = word(4)?;
    Some(u64::from(match word(8)? {
        [0x4D, 0x3C, 0x2B, 0x1A] => u32::from_le_bytes(len),
        [0x1A, 0x2B, 0x3C, 0x4D] => u32::from_be_bytes(len),
        _ => return None,
    }))
}

fn truncation_message(name: &str, frames: u64, offset: u64) -> String {
    format!("{name}: truncated after frame {frames} (byte offset {offset})")
}

fn is_legacy_magic(m: [u8; 4]) -> bool {
    let v = u32::from_le_bytes(m);
    [0xa1b2_c3d4u32, 0xa1b2_3c4d, 0xa1b2_cd34]
        .iter()
        .any(|&magic| v == magic || v == magic.swap_bytes())
}

fn refill(
    reader: &mut (dyn PcapReaderIterator + Send),
    state: &State,
    errors: &ErrorSlot,
) -> Result<(), CaptureError> {
    let offset = reader.consumed() as u64;
    reader.refill().map_err(|_| CaptureError::Read {
        path: state.name.clone(),
        frame: state.summary.frames,
        offset,
        source: input::take_error(errors),
    })
}

impl State {
    fn corrupt(&self, offset: u64, reason: &str) -> CaptureError {
        CaptureError::Corrupt {
            path: self.name.clone(),
            frame: self.summary.frames,
            offset,
            reason: reason.to_string(),
        }
    }

    /// Counts a returned frame in the summary; returns its number.
    fn count_frame(&mut self, meta: &Meta, caplen: usize, bytes: u64) -> u64 {
        let s = &mut self.summary;
        s.frames += 1;
        s.bytes = bytes;
        if (caplen as u64) < u64::from(meta.orig_len) {
            s.snaplen_truncated += 1;
        }
        if meta.has_ts {
            s.first_ts = Some(s.first_ts.map_or(meta.ts, |t| t.min(meta.ts)));
            s.last_ts = Some(s.last_ts.map_or(meta.ts, |t| t.max(meta.ts)));
        }
        let index = match self.last_link {
            Some((lt, i)) if lt == meta.link_type => Some(i),
            _ => s
                .link_types
                .iter()
                .position(|(lt, _)| *lt == meta.link_type.0),
        };
        let index = index.unwrap_or_else(|| {
            s.link_types.push((meta.link_type.0, 0));
            s.link_types.len() - 1
        });
        if let Some(entry) = s.link_types.get_mut(index) {
            entry.1 += 1;
        }
        self.last_link = Some((meta.link_type, index));
        s.frames
    }

    /// Names a record skipped for exceeding `--max-record-size` (a limit that cut something).
    fn note_oversized(&mut self, offset: u64, claimed: u64, limit: usize) {
        if self.summary.limits_hit.len() < MAX_NOTES {
            self.summary
                .limits_hit
                .push(LimitEvent::Capture(CaptureLimit::OversizedRecord {
                    offset,
                    after_frame: self.summary.frames,
                    claimed,
                    limit: limit as u64,
                }));
        } else {
            self.notes_dropped += 1;
        }
    }

    fn note_malformed(&mut self, offset: u64, why: &str) {
        self.summary.malformed += 1;
        if self.summary.notes.len() < MAX_NOTES {
            self.summary.notes.push(format!(
                "record at byte offset {offset} skipped (after frame {}): {why}",
                self.summary.frames
            ));
        } else {
            self.notes_dropped += 1;
        }
    }

    /// Adds the end-of-file notes.
    fn finish(&mut self) {
        if self.notes_dropped > 0 {
            self.summary.notes.push(format!(
                "{} more skipped records not listed",
                self.notes_dropped
            ));
        }
        if self.decryption_secrets > 0 {
            self.summary.notes.push(format!(
                "{} pcapng Decryption Secrets block(s) present (TLS keys; not used)",
                self.decryption_secrets
            ));
        }
    }
}

/// Position of `inner` inside the buffer whose data starts at address `base`.
fn offset_in(base: usize, inner: &[u8]) -> Option<usize> {
    (inner.as_ptr() as usize).checked_sub(base)
}

fn frame_step(len: usize, base: usize, data: &[u8], meta: Meta) -> Step {
    match offset_in(base, data) {
        Some(start) => Step::Frame {
            len,
            start,
            caplen: data.len(),
            meta,
        },
        None => Step::Malformed {
            len,
            why: "packet data outside its block".into(),
        },
    }
}

/// Turns one parsed block into a [`Step`], updating the layout for header blocks.
/// A legacy pcap record (16-byte header) that lies whole in the buffer, read directly: the
/// same block pcap-parser's `next()` would return, without its per-call overhead (a fifth of
/// the reader's instructions). `None` for pcapng, the modified format and records not yet
/// (or never) whole, which go through pcap-parser and its error handling.
fn legacy_record<'d>(layout: &Layout, data: &'d [u8]) -> Option<(usize, PcapBlockOwned<'d>)> {
    let Layout::Legacy {
        big_endian,
        record_header: 16,
        ..
    } = *layout
    else {
        return None;
    };
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let caplen = word(8)?;
    let len = 16usize.checked_add(usize::try_from(caplen).ok()?)?;
    let block = LegacyPcapBlock {
        ts_sec: word(0)?,
        ts_usec: word(4)?,
        caplen,
        origlen: word(12)?,
        data: data.get(16..len)?,
    };
    Some((len, PcapBlockOwned::Legacy(block)))
}

fn classify(state: &mut State, len: usize, block: PcapBlockOwned<'_>, base: usize) -> Step {
    match block {
        PcapBlockOwned::LegacyHeader(h) => {
            state.layout = Layout::Legacy {
                link_type: LinkType((h.network.0 as u32) & 0xffff),
                nanosecond: h.is_nanosecond_precision(),
                big_endian: h.is_bigendian(),
                record_header: if h.is_modified_format() { 24 } else { 16 },
                snaplen: h.snaplen,
            };
            Step::Skip(len)
        }
        PcapBlockOwned::Legacy(b) => {
            let Layout::Legacy {
                link_type,
                nanosecond,
                ..
            } = state.layout
            else {
                return Step::Malformed {
                    len,
                    why: "pcap record in a pcapng file".into(),
                };
            };
            state.last_legacy_secs = Some(b.ts_sec);
            let meta = Meta {
                ts: legacy_ts(b.ts_sec, b.ts_usec, nanosecond),
                has_ts: true,
                link_type,
                interface: 0,
                orig_len: b.origlen,
            };
            frame_step(len, base, b.data, meta)
        }
        PcapBlockOwned::NG(block) => classify_ng(state, len, block, base),
    }
}

fn classify_ng(state: &mut State, len: usize, block: Block<'_>, base: usize) -> Step {
    let Layout::PcapNg {
        big_endian,
        interfaces,
    } = &mut state.layout
    else {
        return Step::Malformed {
            len,
            why: "pcapng block in a pcap file".into(),
        };
    };
    match block {
        Block::SectionHeader(shb) => {
            *big_endian = shb.big_endian();
            interfaces.clear();
            Step::Skip(len)
        }
        Block::InterfaceDescription(idb) => {
            interfaces.push(Interface {
                link_type: LinkType((idb.linktype.0 as u32) & 0xffff),
                snaplen: idb.snaplen,
                scale: TickScale::from_tsresol(idb.if_tsresol),
                offset_secs: if_tsoffset(&idb.options, *big_endian),
            });
            Step::Skip(len)
        }
        Block::EnhancedPacket(epb) => {
            let Some(iface) = usize::try_from(epb.if_id)
                .ok()
                .and_then(|i| interfaces.get(i))
            else {
                return Step::Malformed {
                    len,
                    why: format!(
                        "enhanced packet block names interface {} but the section declares {}",
                        epb.if_id,
                        interfaces.len()
                    ),
                };
            };
            let meta = Meta {
                ts: pcapng_ts(epb.ts_high, epb.ts_low, iface.scale, iface.offset_secs),
                has_ts: true,
                link_type: iface.link_type,
                interface: epb.if_id,
                orig_len: epb.origlen,
            };
            frame_step(len, base, epb.packet_data(), meta)
        }
        Block::SimplePacket(spb) => {
            let Some(iface) = interfaces.first() else {
                return Step::Malformed {
                    len,
                    why: "simple packet block before any interface description".into(),
                };
            };
            // No caplen field: the captured length is the original length cut by snaplen.
            let mut caplen = spb.data.len().min(spb.origlen as usize);
            if iface.snaplen != 0 {
                caplen = caplen.min(iface.snaplen as usize);
            }
            let data = spb.data.get(..caplen).unwrap_or(spb.data);
            let meta = Meta {
                ts: Timestamp(0),
                has_ts: false,
                link_type: iface.link_type,
                interface: 0,
                orig_len: spb.origlen,
            };
            frame_step(len, base, data, meta)
        }
        Block::Unknown(u) => {
            let block_type = if *big_endian {
                u.block_type.swap_bytes()
            } else {
                u.block_type
            };
            if block_type != PCAPNG_OBSOLETE_PACKET {
                return Step::Skip(len);
            }
            match parse_obsolete_packet(u.data, *big_endian) {
                None => Step::Malformed {
                    len,
                    why: "obsolete packet block shorter than its captured length".into(),
                },
                Some(p) => match interfaces.get(usize::from(p.if_id)) {
                    None => Step::Malformed {
                        len,
                        why: format!(
                            "packet block names interface {} but the section declares {}",
                            p.if_id,
                            interfaces.len()
                        ),
                    },
                    Some(iface) => {
                        let meta = Meta {
                            ts: pcapng_ts(p.ts_high, p.ts_low, iface.scale, iface.offset_secs),
                            has_ts: true,
                            link_type: iface.link_type,
                            interface: u32::from(p.if_id),
                            orig_len: p.orig_len,
                        };
                        frame_step(len, base, p.data, meta)
                    }
                },
            }
        }
        Block::DecryptionSecrets(_) => {
            state.decryption_secrets += 1;
            Step::Skip(len)
        }
        _ => Step::Skip(len),
    }
}

/// The `if_tsoffset` option (code 14) in the section's byte order. pcap-parser 0.17 reads
/// it little-endian even in big-endian sections, so it is read here.
fn if_tsoffset(options: &[pcap_parser::pcapng::PcapNGOption<'_>], big_endian: bool) -> i64 {
    options
        .iter()
        .filter(|o| o.code == pcap_parser::pcapng::OptionCode::IfTsoffset)
        .find_map(|o| <[u8; 8]>::try_from(o.value().get(..8)?).ok())
        .map_or(0, |b| {
            if big_endian {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        })
}

/// The fields of an obsolete Packet Block (type 2).
struct ObsoletePacket<'a> {
    if_id: u16,
    ts_high: u32,
    ts_low: u32,
    orig_len: u32,
    data: &'a [u8],
}

fn parse_obsolete_packet(body: &[u8], big_endian: bool) -> Option<ObsoletePacket<'_>> {
    let u16_at = |at: usize| {
        let b = body.get(at..at + 2)?;
        let a = [*b.first()?, *b.get(1)?];
        Some(if big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    };
    let u32_at = |at: usize| {
        let a: [u8; 4] = body.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let caplen = usize::try_from(u32_at(12)?).ok()?;
    Some(ObsoletePacket {
        if_id: u16_at(0)?,
        ts_high: u32_at(4)?,
        ts_low: u32_at(8)?,
        orig_len: u32_at(16)?,
        data: body.get(20..20usize.checked_add(caplen)?)?,
    })
}

/// Reads the length the record at the start of `data` claims, in the file's byte order.
/// `None` when too few bytes are buffered to tell; `Err` when the length cannot be right.
fn claimed_record_len(data: &[u8], layout: &Layout) -> Option<Result<u64, String>> {
    let u32_at = |at: usize, big: bool| -> Option<u32> {
        let a: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    match layout {
        Layout::Legacy {
            big_endian,
            record_header,
            ..
        } => {
            let caplen = u32_at(8, *big_endian)?;
            if data.len() < *record_header {
                return None;
            }
            Some(Ok(*record_header as u64 + u64::from(caplen)))
        }
        Layout::PcapNg { big_endian, .. } => {
            let block_type = u32_at(0, false)?;
            let big = if block_type == PCAPNG_SHB {
                match u32_at(8, false)? {
                    0x1A2B_3C4D => false,
                    0x4D3C_2B1A => true,
                    _ => {
                        return Some(Err(
                            "section header block with an unknown byte-order magic".into()
                        ));
                    }
                }
            } else {
                *big_endian
            };
            let len = u32_at(4, big)?;
            if len < 12 || !len.is_multiple_of(4) {
                return Some(Err(format!("block length {len} is invalid")));
            }
            Some(Ok(u64::from(len)))
        }
    }
}

/// Decides what to do when pcap-parser returned no block, from the record header.
fn look_at_record(
    reader: &(dyn PcapReaderIterator + Send),
    state: &State,
    capacity: usize,
    options: &ReaderOptions,
) -> Resolution {
    let data = reader.data();
    let exhausted = reader.reader_exhausted();
    let offset = reader.consumed() as u64;
    match claimed_record_len(data, &state.layout) {
        None if data.is_empty() && exhausted => Resolution::End,
        None if exhausted => Resolution::Truncated,
        None => Resolution::Refill,
        Some(Err(why)) => Resolution::Fail(state.corrupt(offset, &why)),
        Some(Ok(claimed)) => {
            if claimed > options.max_record_size as u64 {
                // A section header cannot be skipped: what follows depends on it.
                let is_shb = data.get(..4) == Some(&PCAPNG_SHB.to_le_bytes()[..]);
                if is_shb {
                    return Resolution::Fail(state.corrupt(offset, "oversized section header"));
                }
                return Resolution::SkipOversized(claimed);
            }
            // Bounded by max_record_size just above, so it fits in usize.
            let claimed = claimed as usize;
            if data.len() >= claimed {
                // The whole record is here and still did not parse: its fields lie.
                let is_shb = data.get(..4) == Some(&PCAPNG_SHB.to_le_bytes()[..]);
                if is_shb {
                    return Resolution::Fail(state.corrupt(offset, "unparseable section header"));
                }
                return Resolution::SkipMalformed(
                    claimed,
                    "record fields inconsistent with its length".into(),
                );
            }
            if claimed > capacity {
                let grown = claimed
                    .checked_next_power_of_two()
                    .unwrap_or(claimed)
                    .min(options.max_record_size)
                    .max(claimed);
                return Resolution::Grow(grown);
            }
            if exhausted {
                Resolution::Truncated
            } else {
                Resolution::Refill
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_magics_in_both_orders() {
        for m in [0xa1b2_c3d4u32, 0xa1b2_3c4d, 0xa1b2_cd34] {
            assert!(is_legacy_magic(m.to_le_bytes()));
            assert!(is_legacy_magic(m.to_be_bytes()));
        }
        assert!(!is_legacy_magic(*b"<htm"));
    }

    #[test]
    fn pcapng_record_lengths_are_checked() {
        let layout = Layout::PcapNg {
            big_endian: false,
            interfaces: vec![],
        };
        let mut block = vec![6, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            claimed_record_len(&block, &layout),
            Some(Err("block length 30 is invalid".into()))
        );
        block[4] = 32;
        assert_eq!(claimed_record_len(&block, &layout), Some(Ok(32)));
        assert_eq!(claimed_record_len(&block[..6], &layout), None);
        let big_shb = [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d];
        assert_eq!(claimed_record_len(&big_shb, &layout), Some(Ok(28)));
    }

    #[test]
    fn obsolete_packet_block_is_bounds_checked() {
        let mut body = Vec::new();
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&5u32.to_le_bytes());
        body.extend_from_slice(&100u32.to_le_bytes()); // caplen past the end
        body.extend_from_slice(&100u32.to_le_bytes());
        body.extend_from_slice(&[1, 2, 3, 4]);
        assert!(parse_obsolete_packet(&body, false).is_none());
        body[12] = 4;
        let p = parse_obsolete_packet(&body, false).expect("fits");
        assert_eq!((p.if_id, p.ts_low, p.data), (1, 5, &[1u8, 2, 3, 4][..]));
    }
}
