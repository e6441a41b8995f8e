//! What the reader knows between records: the file's layout (legacy header or pcapng
//! section and interfaces), the summary being built, and one record's outcome ([`Step`]).

use super::MAX_NOTES;
use crate::capture::clock::TickScale;
use crate::capture::error::CaptureError;
use crate::capture::input::GzipCut;
use crate::capture::{Frame, LinkType, Timestamp};
use crate::events::{CaptureLimit, LimitEvent};
use crate::evidence::CaptureSummary;
use std::sync::atomic::Ordering;

/// Why the reader stopped short of a whole record (the read-ahead in `refill.rs` decides).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Stall {
    /// End of input at a record boundary.
    Eof,
    /// Anything else: look at the record header to decide.
    NeedsLook,
    /// The underlying read failed.
    Read,
}

/// One pcapng interface of the current section.
#[derive(Debug, Clone, Copy)]
pub(super) struct Interface {
    pub(super) link_type: LinkType,
    pub(super) snaplen: u32,
    pub(super) scale: TickScale,
    pub(super) offset_secs: i64,
}

/// What the file header said about the records that follow.
#[derive(Debug)]
pub(super) enum Layout {
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
pub(super) struct State {
    pub(super) name: String,
    pub(super) layout: Layout,
    pub(super) summary: CaptureSummary,
    /// Index into `summary.link_types` of the last frame's link type (most frames repeat it).
    pub(super) last_link: Option<(LinkType, usize)>,
    pub(super) decryption_secrets: u64,
    pub(super) notes_dropped: u64,
    /// Seconds of the last legacy pcap record read: a record header found by
    /// resynchronisation must be dated near it.
    pub(super) last_legacy_secs: Option<u32>,
    /// Set when a resynchronisation found no plausible record header: the file's headers
    /// are odd throughout (a writer's quirk, not one corrupt record), so records are taken
    /// as they claim from then on, as before.
    pub(super) resync_off: bool,
}

/// Frame fields decided while the block is borrowed.
#[derive(Clone, Copy)]
pub(super) struct Meta {
    pub(super) ts: Timestamp,
    pub(super) has_ts: bool,
    pub(super) link_type: LinkType,
    pub(super) interface: u32,
    pub(super) orig_len: u32,
}

/// The outcome of one `next()` with no borrow of the buffer left.
pub(super) enum Step {
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

/// Ends reading: the end-of-file notes, and a gzip stream cut short said as such (the
/// decompressed capture may end on a record boundary and look whole).
pub(super) fn finish(state: &mut State, gzip_cut: &GzipCut) {
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

pub(super) fn truncation_message(name: &str, frames: u64, offset: u64) -> String {
    format!("{name}: truncated after frame {frames} (byte offset {offset})")
}

impl State {
    pub(super) fn corrupt(&self, offset: u64, reason: &str) -> CaptureError {
        CaptureError::Corrupt {
            path: self.name.clone(),
            frame: self.summary.frames,
            offset,
            reason: reason.to_string(),
        }
    }

    /// The frame of a packet record whose captured bytes are `data`, counted (the file read
    /// up to `bytes`).
    #[inline]
    pub(super) fn frame<'d>(&mut self, meta: &Meta, data: &'d [u8], bytes: u64) -> Frame<'d> {
        Frame {
            number: self.count_frame(meta, data.len(), bytes),
            ts: meta.ts,
            link_type: meta.link_type,
            interface: meta.interface,
            data,
            orig_len: meta.orig_len,
        }
    }

    /// Counts a returned frame in the summary; returns its number.
    #[inline]
    pub(super) fn count_frame(&mut self, meta: &Meta, caplen: usize, bytes: u64) -> u64 {
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
    pub(super) fn note_oversized(&mut self, offset: u64, claimed: u64, limit: usize) {
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

    pub(super) fn note_malformed(&mut self, offset: u64, why: &str) {
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
    pub(super) fn finish(&mut self) {
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
pub(super) fn offset_in(base: usize, inner: &[u8]) -> Option<usize> {
    (inner.as_ptr() as usize).checked_sub(base)
}

pub(super) fn frame_step(len: usize, base: usize, data: &[u8], meta: Meta) -> Step {
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
