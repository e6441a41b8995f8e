//! pcapng blocks: section headers and interfaces (the layout), and the packet blocks
//! (enhanced, simple, the obsolete type 2) turned into frames.

use super::state::{Interface, Layout, Meta, State, Step, frame_step};
use crate::capture::LinkType;
use crate::capture::Timestamp;
use crate::capture::clock::{TickScale, pcapng_ts};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;

pub(super) const PCAPNG_SHB: u32 = 0x0A0D_0D0A;

pub(super) const PCAPNG_OBSOLETE_PACKET: u32 = 2;

pub(super) fn classify_ng(state: &mut State, len: usize, block: Block<'_>, base: usize) -> Step {
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
pub(super) fn if_tsoffset(
    options: &[pcap_parser::pcapng::PcapNGOption<'_>],
    big_endian: bool,
) -> i64 {
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
pub(super) struct ObsoletePacket<'a> {
    if_id: u16,
    ts_high: u32,
    ts_low: u32,
    orig_len: u32,
    data: &'a [u8],
}

pub(super) fn parse_obsolete_packet(body: &[u8], big_endian: bool) -> Option<ObsoletePacket<'_>> {
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

/// The length a pcapng section header block claims, from the file's first bytes.
pub(super) fn section_header_len(first: &[u8]) -> Option<u64> {
    let word = |at: usize| -> Option<[u8; 4]> { first.get(at..at + 4)?.try_into().ok() };
    let len = word(4)?;
    Some(u64::from(match word(8)? {
        [0x4D, 0x3C, 0x2B, 0x1A] => u32::from_le_bytes(len),
        [0x1A, 0x2B, 0x3C, 0x4D] => u32::from_be_bytes(len),
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
