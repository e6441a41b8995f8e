//! The streaming capture reader: pcap-parser's record parsers driven through its reader loop
//! contract (next / consume / refill / grow) over shared blocks ([`BlockReader`]), with the
//! record-length checks pcap-parser lacks so that a lying header costs one skipped record or
//! a clear error, never unbounded memory.

mod legacy;
mod pcapng;
mod refill;
mod resync;
mod state;

use super::blocks::{BlockReader, SharedBlock};
use super::error::CaptureError;
use super::input::{self, ErrorSlot, GzipCut};
use super::{Frame, LinkType};
use crate::evidence::CaptureSummary;
use legacy::{RECORD_HEADER, classify, implausible_legacy_record, is_legacy_magic, legacy_record};
use pcap_parser::PcapError;
use pcap_parser::traits::PcapReaderIterator;
use pcapng::{PCAPNG_SHB, section_header_len};
use refill::{Resolution, claimed_record_len, look_at_record, refill, skip_bytes};
use resync::resync;
use state::Stall;
use state::{Layout, State, Step, finish, truncation_message};
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
            // The common case first: a plausible legacy record that lies whole in the
            // buffer becomes a frame here, without pcap-parser's block or a `Step` (the
            // general path below gives the same frame, slower).
            if consumed != 0
                && let Some((len, meta, secs)) =
                    legacy::whole_record(&self.state.layout, reader.data(), self.state.resync_off)
            {
                let data = reader.data().get(RECORD_HEADER..len).unwrap_or_default();
                self.state.last_legacy_secs = Some(secs);
                self.pending = len;
                let frame = self.state.frame(&meta, data, (consumed + len) as u64);
                return Ok(Some((frame, reader.block())));
            }
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
                    let frame = self.state.frame(&meta, data, offset + len as u64);
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
