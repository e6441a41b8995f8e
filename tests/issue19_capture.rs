//! Issue 19, capture-level correctness: a legacy pcap with one corrupt record header
//! (item 5a: the reader's promise is one skipped record, not the rest of the file), and
//! PPPoE with a one-byte PPP protocol field (item 5c).

mod capture_support;

use capture_support::*;
use itlscope::capture::ReaderOptions;
use itlscope::net::{DefragLimits, Encapsulation};
use itlscope_gen::packet::ip_udp;
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};

const T0: i64 = 1_764_324_000_000_000_000;
const FRAMES: usize = 2000;
/// The record whose header is damaged (1-based, as frames are numbered).
const BAD: usize = 1000;

/// `FRAMES` UDP frames of the same length, 1 ms apart, each carrying its own index.
fn capture(endian: Endian, precision: Precision) -> (Vec<u8>, usize) {
    let mut w = PcapWriter::new(Vec::new(), 1, 65535, precision, endian).expect("writer");
    let mut len = 0;
    for i in 0..FRAMES {
        let mut payload = (i as u32).to_be_bytes().to_vec();
        payload.extend_from_slice(&[0x5a; 60]);
        let f = ethernet(vec![]).wrap(&ip_udp(
            addr("192.0.2.1:1024"),
            addr("192.0.2.2:69"),
            i as u16,
            &payload,
        ));
        len = f.len();
        w.write_packet(T0 + i as i64 * 1_000_000, &f, f.len() as u32)
            .expect("write");
    }
    (w.into_inner(), len)
}

/// Overwrites the caplen of record `BAD`.
fn corrupt(bytes: &mut [u8], frame_len: usize, caplen: u32, endian: Endian) {
    let at = 24 + (BAD - 1) * (16 + frame_len) + 8;
    let b = match endian {
        Endian::Little => caplen.to_le_bytes(),
        Endian::Big => caplen.to_be_bytes(),
    };
    bytes[at..at + 4].copy_from_slice(&b);
}

/// The indexes carried by the frames read whole (a damaged record's bytes carry none).
fn indexes(
    bytes: Vec<u8>,
    options: ReaderOptions,
) -> (Vec<u32>, itlscope::evidence::CaptureSummary) {
    let mut r = reader_with(bytes, options);
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().expect("readable") {
        // Ethernet 14 + IPv4 20 + UDP 8, then the index.
        if let Some(b) = f.data.get(42..46) {
            out.push(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        }
    }
    (out, r.into_summary())
}

#[test]
fn one_corrupt_caplen_in_a_legacy_pcap_costs_one_record_not_the_rest_of_the_file() {
    let small = ReaderOptions {
        buffer_size: 4096,
        max_record_size: 1 << 20,
    };
    for options in [ReaderOptions::default(), small] {
        for endian in [Endian::Little, Endian::Big] {
            for precision in [Precision::Micro, Precision::Nano] {
                // Past the record size limit, past the file, and just a wrong length.
                for caplen in [u32::MAX, 0x0100_0000, 60_000, 300] {
                    let (mut bytes, len) = capture(endian, precision);
                    corrupt(&mut bytes, len, caplen, endian);
                    let (got, summary) = indexes(bytes, options);
                    let want: Vec<u32> = (0..FRAMES as u32)
                        .filter(|&i| i != BAD as u32 - 1)
                        .collect();
                    assert_eq!(
                        got, want,
                        "caplen {caplen} {endian:?} {precision:?} buffer {}",
                        options.buffer_size
                    );
                    assert_eq!(summary.truncated, None);
                    assert_eq!(summary.malformed, 1);
                    let offset = 24 + (BAD - 1) * (16 + len);
                    let note = format!(
                        "record at byte offset {offset} (after frame {}) has an impossible header (caplen {caplen}, original length {len}): {} bytes skipped to the next plausible record header",
                        BAD - 1,
                        16 + len
                    );
                    assert!(summary.notes.contains(&note), "{:?}", summary.notes);
                }
            }
        }
    }
}

/// A caplen made smaller than the record (still plausible on its own) reads a short
/// frame; the header it then lands on is not one, and reading resumes at the next record.
#[test]
fn a_caplen_shrunk_by_corruption_resynchronises_at_the_next_record() {
    let (mut bytes, len) = capture(Endian::Little, Precision::Micro);
    corrupt(&mut bytes, len, 30, Endian::Little);
    let (got, summary) = indexes(bytes, ReaderOptions::default());
    let want: Vec<u32> = (0..FRAMES as u32)
        .filter(|&i| i != BAD as u32 - 1)
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        summary.frames, FRAMES as u64,
        "the short record is still a frame"
    );
    assert_eq!(summary.truncated, None);
    assert_eq!(summary.malformed, 1, "{:?}", summary.notes);
}

/// A writer whose every record claims more captured than original bytes is a quirk, not
/// a corruption: no record is skipped.
#[test]
fn a_file_whose_every_header_is_odd_is_read_as_it_claims() {
    let mut w =
        PcapWriter::new(Vec::new(), 1, 65535, Precision::Micro, Endian::Little).expect("writer");
    for i in 0..50u32 {
        let mut payload = i.to_be_bytes().to_vec();
        payload.extend_from_slice(&[1; 20]);
        let f = ethernet(vec![]).wrap(&ip_udp(
            addr("192.0.2.1:1024"),
            addr("192.0.2.2:69"),
            1,
            &payload,
        ));
        w.write_packet(T0 + i64::from(i) * 1000, &f, 0)
            .expect("write");
    }
    let (got, summary) = indexes(w.into_inner(), ReaderOptions::default());
    assert_eq!(got, (0..50).collect::<Vec<u32>>());
    assert_eq!(summary.malformed, 0);
}

/// RFC 1661 protocol-field compression: PPPoE session frames whose PPP protocol is the one
/// byte 0x21 (IPv4) reach the analysis like those with the two bytes 0x0021, and are not
/// counted as unwrapped PPPoE and then dropped as "not IP".
#[test]
fn pppoe_with_a_compressed_ppp_protocol_field_is_decoded() {
    let ip = ip_udp(
        addr("192.0.2.1:1024"),
        addr("192.0.2.2:69"),
        1,
        b"\0\x01SEP0011.cnf.xml\0octet\0",
    );
    let frame = |protocol: &[u8]| {
        let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0x64];
        f.extend_from_slice(&[0x11, 0x00, 0x12, 0x34]);
        f.extend_from_slice(&((ip.len() + protocol.len()) as u16).to_be_bytes());
        f.extend_from_slice(protocol);
        f.extend_from_slice(&ip);
        f
    };
    let mut w =
        PcapWriter::new(Vec::new(), 1, 65535, Precision::Micro, Endian::Little).expect("writer");
    for (i, f) in [frame(&[0x21]), frame(&[0x00, 0x21])].iter().enumerate() {
        w.write_packet(T0 + i as i64 * 1000, f, f.len() as u32)
            .expect("write");
    }
    let (packets, others, decoder, _) = packets_with(w.into_inner(), DefragLimits::default());
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(packets.len(), 2);
    for p in &packets {
        assert_eq!(p.dst, addr("192.0.2.2:69"));
        assert_eq!(p.payload, b"\0\x01SEP0011.cnf.xml\0octet\0");
    }
    let stats = decoder.stats();
    assert_eq!(stats.encapsulations, vec![(Encapsulation::Pppoe, 2)]);
    assert_eq!(stats.not_ip, 0);
}
