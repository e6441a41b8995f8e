//! Legacy pcap records: the record header, whether its fields can be true, and the
//! whole-record fast path that bypasses pcap-parser's per-record call.

use super::pcapng::classify_ng;
use super::state::{Layout, Meta, State, Step, frame_step};
use crate::capture::LinkType;
use crate::capture::clock::legacy_ts;
use pcap_parser::{LegacyPcapBlock, PcapBlockOwned};

/// The fields of a legacy pcap record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecordHeader {
    pub(super) secs: u32,
    /// Microseconds, or nanoseconds in a nanosecond file.
    pub(super) frac: u32,
    pub(super) caplen: u32,
    pub(super) origlen: u32,
}

/// Largest packet a legacy record may plausibly hold whatever the file's snaplen says
/// (Wireshark's limit; Linux offload captures exceed a 65,535 snaplen).
pub(super) const MAX_PLAUSIBLE_CAPLEN: u32 = 262_144;

/// Largest original length taken as plausible when looking for a record header.
pub(super) const MAX_PLAUSIBLE_ORIGLEN: u32 = 1 << 24;

/// The record header at the start of `data` in a legacy pcap layout (`None` for pcapng or
/// when fewer bytes than a header are buffered).
pub(super) fn record_header(layout: &Layout, data: &[u8]) -> Option<RecordHeader> {
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

/// Length of a legacy pcap record header (the "modified" format's is 24).
pub(super) const RECORD_HEADER: usize = 16;

/// A legacy pcap record (16-byte header) that lies whole at the start of `data` and whose
/// header can be true (or is taken as it claims, `resync_off`): its length with the header,
/// its frame's fields and its seconds. `None` sends the record down the general path
/// (pcapng, the modified format, a record not whole yet, a header that cannot be true).
pub(super) fn whole_record(
    layout: &Layout,
    data: &[u8],
    resync_off: bool,
) -> Option<(usize, Meta, u32)> {
    let Layout::Legacy {
        link_type,
        nanosecond,
        record_header: RECORD_HEADER,
        ..
    } = *layout
    else {
        return None;
    };
    let h = record_header(layout, data)?;
    if !resync_off && !fields_plausible(layout, &h) {
        return None;
    }
    let len = RECORD_HEADER.checked_add(usize::try_from(h.caplen).ok()?)?;
    if len > data.len() {
        return None;
    }
    let meta = Meta {
        ts: legacy_ts(h.secs, h.frac, nanosecond),
        has_ts: true,
        link_type,
        interface: 0,
        orig_len: h.origlen,
    };
    Some((len, meta, h.secs))
}

/// Whether a record header's own fields can be true: a fraction of a second below one
/// second, no more captured than sent, and a captured length a capture can hold.
pub(super) fn fields_plausible(layout: &Layout, h: &RecordHeader) -> bool {
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
pub(super) fn implausible_legacy_record(state: &State, data: &[u8]) -> Option<RecordHeader> {
    let h = record_header(&state.layout, data)?;
    (!fields_plausible(&state.layout, &h)).then_some(h)
}

pub(super) fn is_legacy_magic(m: [u8; 4]) -> bool {
    let v = u32::from_le_bytes(m);
    [0xa1b2_c3d4u32, 0xa1b2_3c4d, 0xa1b2_cd34]
        .iter()
        .any(|&magic| v == magic || v == magic.swap_bytes())
}

/// A legacy pcap record (16-byte header) that lies whole in the buffer, read directly: the
/// same block pcap-parser's `next()` would return, without its per-call overhead (a fifth of
/// the reader's instructions). `None` for pcapng, the modified format and records not yet
/// (or never) whole, which go through pcap-parser and its error handling.
pub(super) fn legacy_record<'d>(
    layout: &Layout,
    data: &'d [u8],
) -> Option<(usize, PcapBlockOwned<'d>)> {
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

/// Turns one parsed block into a [`Step`], updating the layout for header blocks.
pub(super) fn classify(
    state: &mut State,
    len: usize,
    block: PcapBlockOwned<'_>,
    base: usize,
) -> Step {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(big_endian: bool, record_header: usize) -> Layout {
        Layout::Legacy {
            link_type: LinkType::ETHERNET,
            nanosecond: false,
            big_endian,
            record_header,
            snaplen: 65_535,
        }
    }

    fn record(big_endian: bool, secs: u32, frac: u32, caplen: u32, origlen: u32) -> Vec<u8> {
        let mut r = Vec::new();
        for w in [secs, frac, caplen, origlen] {
            r.extend_from_slice(&if big_endian {
                w.to_be_bytes()
            } else {
                w.to_le_bytes()
            });
        }
        r.extend((0..caplen).map(|i| i as u8));
        r
    }

    /// The fast path gives the frame the general path gives (pcap-parser's block, then
    /// `classify`), in both byte orders, and leaves every other case to the general path.
    #[test]
    fn a_whole_plausible_record_reads_as_the_general_path_reads_it() {
        for big in [false, true] {
            let l = layout(big, 16);
            let mut data = record(big, 1_700_000_000, 250_000, 60, 70);
            data.extend_from_slice(&record(big, 1_700_000_001, 0, 10, 10));
            let (len, meta, secs) = whole_record(&l, &data, false).expect("whole");
            assert_eq!((len, secs, meta.orig_len), (76, 1_700_000_000, 70));
            let mut state = State {
                name: "t".into(),
                layout: layout(big, 16),
                summary: Default::default(),
                last_link: None,
                decryption_secrets: 0,
                notes_dropped: 0,
                last_legacy_secs: None,
                resync_off: false,
            };
            let base = data.as_ptr() as usize;
            let (glen, block) = legacy_record(&state.layout, &data).expect("general");
            let Step::Frame {
                len: step_len,
                start,
                caplen,
                meta: general,
            } = classify(&mut state, glen, block, base)
            else {
                panic!("a frame");
            };
            assert_eq!((step_len, start, caplen), (len, RECORD_HEADER, 60));
            assert_eq!(
                (
                    general.ts,
                    general.link_type,
                    general.interface,
                    general.orig_len
                ),
                (meta.ts, meta.link_type, meta.interface, meta.orig_len)
            );
            assert_eq!(state.last_legacy_secs, Some(secs));
            // Not whole yet, the modified format: the general path's.
            assert!(whole_record(&l, &data[..75], false).is_none());
            assert!(whole_record(&layout(big, 24), &data, false).is_none());
        }
    }

    /// A corrupt caplen (more captured than sent) is not taken by the fast path while
    /// resynchronisation is on (the reader's promise: one record lost, not the file).
    #[test]
    fn an_implausible_header_is_left_to_resynchronisation() {
        let l = layout(false, 16);
        let data = record(false, 1_700_000_000, 0, 60, 20);
        assert!(whole_record(&l, &data, false).is_none());
        assert!(whole_record(&l, &data, true).is_some());
    }

    #[test]
    fn legacy_magics_in_both_orders() {
        for m in [0xa1b2_c3d4u32, 0xa1b2_3c4d, 0xa1b2_cd34] {
            assert!(is_legacy_magic(m.to_le_bytes()));
            assert!(is_legacy_magic(m.to_be_bytes()));
        }
        assert!(!is_legacy_magic(*b"<htm"));
    }
}
