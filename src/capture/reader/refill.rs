//! The read-ahead: what to do when the buffered bytes hold no whole record (read more,
//! grow the block for a big record, skip a record over the size limit without holding it,
//! or end), decided from the record header's claimed length.

use super::ReaderOptions;
use super::pcapng::PCAPNG_SHB;
use super::state::{Layout, State};
use crate::capture::error::CaptureError;
use crate::capture::input::{self, ErrorSlot};
use pcap_parser::traits::PcapReaderIterator;

/// What to do about a stall.
pub(super) enum Resolution {
    Refill,
    Grow(usize),
    SkipMalformed(usize, String),
    /// A record longer than `max_record_size`: read past, never held.
    SkipOversized(u64),
    End,
    Truncated,
    Fail(CaptureError),
}

/// Reads past `count` bytes of the input without holding them (a record over the size
/// limit). `Ok(false)` when the input ends first.
pub(super) fn skip_bytes(
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

pub(super) fn refill(
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

/// Reads the length the record at the start of `data` claims, in the file's byte order.
/// `None` when too few bytes are buffered to tell; `Err` when the length cannot be right.
pub(super) fn claimed_record_len(data: &[u8], layout: &Layout) -> Option<Result<u64, String>> {
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
pub(super) fn look_at_record(
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
}
