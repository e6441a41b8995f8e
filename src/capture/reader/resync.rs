//! Resynchronisation after a legacy record header whose fields cannot be true (a corrupt
//! `caplen`): the next plausible record header is looked for, so one corrupt record costs
//! that record and not the rest of the file.

use super::MAX_NOTES;
use super::legacy::{MAX_PLAUSIBLE_ORIGLEN, RecordHeader, fields_plausible, record_header};
use super::refill::refill;
use super::state::{Layout, State};
use crate::capture::error::CaptureError;
use crate::capture::input::ErrorSlot;
use pcap_parser::traits::PcapReaderIterator;

/// A record header found by resynchronisation is dated within this many seconds of the
/// record before it (and of the one after it).
pub(super) const RESYNC_MAX_GAP_SECS: u32 = 86_400;

/// Refills tried to fill the buffer before looking for the next record header.
pub(super) const RESYNC_REFILLS: u32 = 64;

/// Whether a record header can start at `at` of `data`: plausible fields, dated near
/// `near` (the record before), and followed by another such header, or by the exact end
/// of the input.
pub(super) fn header_at(
    layout: &Layout,
    data: &[u8],
    at: usize,
    near: Option<u32>,
    exhausted: bool,
) -> bool {
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
pub(super) fn resync(
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
