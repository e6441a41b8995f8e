//! Bad and awkward input: truncated files, garbage, snaplen cuts, lying headers, bogus
//! pcapng interface IDs and lengths, fragments (reassembled, and never completing).

mod capture_support;

use capture_support::*;
use itlscope::capture::{CaptureError, CaptureReader, ReaderOptions};
use itlscope::evidence::CaptureSummary;
use itlscope::net::{DefragLimits, MalformedReason};
use itlscope::pipeline::{PipelineOptions, run};
use itlscope::report::limits::limit_text;
use itlscope_gen::packet::{Link, TcpSpec, fragment, ip_tcp, ip_udp};
use itlscope_gen::pcap::{Endian, PcapNgWriter, PcapWriter, Precision};
use proptest::prelude::*;
use std::io::Cursor;

const T0: i64 = 1_764_324_000_000_000_000;

fn pcap(link: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), link, 65535, Precision::Nano, Endian::Little).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(T0 + i as i64, f, f.len() as u32).unwrap();
    }
    w.into_inner()
}

fn udp_frame(payload: &[u8]) -> Vec<u8> {
    ethernet(vec![]).wrap(&ip_udp(
        addr("192.0.2.1:1024"),
        addr("192.0.2.2:69"),
        1,
        payload,
    ))
}

#[test]
fn a_capture_cut_mid_record_keeps_what_came_before() {
    let frames: Vec<_> = (0..3u8).map(|i| udp_frame(&[i; 40])).collect();
    let whole = pcap(1, &frames);
    let rec = 16 + frames[0].len();
    // Cut 5 bytes into the third record's data, and also inside its record header.
    for cut in [24 + 2 * rec + 16 + 5, 24 + 2 * rec + 7] {
        let bytes = whole[..cut].to_vec();
        let (pk, others) = packets(bytes.clone());
        assert!(others.is_empty());
        assert_eq!(pk.len(), 2);
        let (_, summary) = frames_and_summary(bytes);
        let offset = 24 + 2 * rec;
        assert_eq!(
            summary.truncated.as_deref(),
            Some(format!("test.cap: truncated after frame 2 (byte offset {offset})").as_str())
        );
        assert_eq!(summary.frames, 2);
        assert_eq!(summary.bytes, offset as u64);
    }
    // A pcapng file cut inside a block.
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, None, None).unwrap();
    w.write_enhanced(0, T0, &frames[0], frames[0].len() as u32)
        .unwrap();
    let good = w.into_inner().len();
    let mut w2 = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w2.add_interface(1, 0, None, None).unwrap();
    w2.write_enhanced(0, T0, &frames[0], frames[0].len() as u32)
        .unwrap();
    w2.write_enhanced(0, T0, &frames[1], frames[1].len() as u32)
        .unwrap();
    let bytes = w2.into_inner();
    let (fr, summary) = frames_and_summary(bytes[..good + 30].to_vec());
    assert_eq!(fr, 1);
    assert_eq!(
        summary.truncated.as_deref(),
        Some(format!("test.cap: truncated after frame 1 (byte offset {good})").as_str())
    );
}

fn frames_and_summary(bytes: Vec<u8>) -> (usize, itlscope::evidence::CaptureSummary) {
    let (f, s) = frames(bytes);
    (f.len(), s)
}

#[test]
fn a_header_only_or_half_header_file() {
    let (n, s) = frames_and_summary(pcap(1, &[]));
    assert_eq!((n, s.truncated), (0, None));
    let half = pcap(1, &[])[..10].to_vec();
    let (n, s) = frames_and_summary(half);
    assert_eq!(n, 0);
    assert_eq!(
        s.truncated.as_deref(),
        Some("test.cap: truncated after frame 0 (byte offset 0)")
    );
}

#[test]
fn garbage_is_not_a_capture() {
    let cases: [(&[u8], &str); 3] = [
        (
            b"<html>\n<head><title>404</title></head>\n",
            "x: not a pcap or pcapng capture (first bytes 3c 68 74 6d 6c 3e 0a 3c ...)",
        ),
        (b"", "x: not a pcap or pcapng capture (empty file)"),
        (
            b"\x01\x02",
            "x: not a pcap or pcapng capture (first bytes 01 02)",
        ),
    ];
    for (bytes, message) in cases {
        let err = CaptureReader::from_reader("x", Box::new(Cursor::new(bytes.to_vec())))
            .expect_err("not a capture");
        assert!(matches!(err, CaptureError::NotACapture { .. }));
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn snaplen_cut_frames_are_kept_and_flagged() {
    let full = udp_frame(&[7u8; 300]);
    let mut w = PcapWriter::new(Vec::new(), 1, 100, Precision::Micro, Endian::Little).unwrap();
    w.write_packet(T0, &full[..100], full.len() as u32).unwrap();
    // Cut inside the IP header: nothing to decode, but not a lie.
    w.write_packet(T0, &full[..20], full.len() as u32).unwrap();
    w.write_packet(T0, &full, full.len() as u32).unwrap();
    let bytes = w.into_inner();
    let (pk, others, decoder, summary) = packets_with(bytes, DefragLimits::default());
    assert_eq!(summary.snaplen_truncated, 2);
    assert_eq!(pk.len(), 2);
    assert!(pk[0].truncated);
    assert_eq!(pk[0].payload.len(), 100 - 14 - 20 - 8);
    assert_eq!(pk[0].dst, addr("192.0.2.2:69"));
    assert!(!pk[1].truncated);
    assert_eq!(pk[1].payload.len(), 300);
    assert_eq!(
        others,
        vec![format!("Malformed({:?})", MalformedReason::CutInHeaders)]
    );
    let stats = decoder.stats();
    assert_eq!((stats.malformed, stats.cut_in_headers), (0, 1));
    assert_eq!(stats.truncated_payloads, 1);
}

#[test]
fn headers_that_lie_are_counted_and_skipped() {
    let good = ip_tcp(
        addr("192.0.2.1:1000"),
        addr("192.0.2.2:443"),
        1,
        TcpSpec::default(),
        b"data",
    );
    let mut bad_ihl = good.clone();
    bad_ihl[0] = 0x43; // IHL 3 (< 5)
    let mut long_total = good.clone();
    long_total[2..4].copy_from_slice(&1500u16.to_be_bytes()); // past the end, not cut
    let mut bad_offset = good.clone();
    bad_offset[20 + 12] = 0x30; // TCP data offset 3
    let mut bad_version = good.clone();
    bad_version[0] = 0x75;
    let frames = vec![
        bad_ihl,
        long_total,
        bad_offset,
        bad_version,
        vec![0x45],
        good.clone(),
    ];
    let (pk, others, decoder, _) = packets_with(pcap(101, &frames), DefragLimits::default());
    assert_eq!(pk.len(), 1);
    assert_eq!(pk[0].frame, 6);
    assert_eq!(pk[0].payload, b"data");
    assert_eq!(others.len(), 5, "{others:?}");
    assert!(
        others.iter().all(|o| o.starts_with("Malformed")),
        "{others:?}"
    );
    assert_eq!(decoder.stats().malformed, 5);
    let r = reader(pcap(101, &frames));
    assert_eq!(summarize(r).malformed, 5);
}

#[test]
fn a_bogus_pcapng_interface_id_skips_one_block() {
    let f = udp_frame(b"x");
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, None, None).unwrap();
    w.write_enhanced(0, T0, &f, f.len() as u32).unwrap();
    w.write_enhanced(7, T0, &f, f.len() as u32).unwrap();
    w.write_obsolete(3, T0, &f, f.len() as u32).unwrap();
    w.write_enhanced(0, T0, &f, f.len() as u32).unwrap();
    let (fr, summary) = frames(w.into_inner());
    assert_eq!(fr.len(), 2);
    assert_eq!((fr[0].number, fr[1].number), (1, 2));
    assert_eq!(summary.malformed, 2);
    assert!(
        summary.notes[0].contains("names interface 7 but the section declares 1"),
        "{:?}",
        summary.notes
    );
}

#[test]
fn a_pcapng_block_whose_fields_lie_is_skipped_whole() {
    let f = udp_frame(b"x");
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, None, None).unwrap();
    // An EPB whose caplen claims more than its block holds.
    let mut body = Vec::new();
    for v in [0u32, 0, 0, 5000, 5000] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&[0u8; 16]);
    w.block(6, &body).unwrap();
    w.write_enhanced(0, T0, &f, f.len() as u32).unwrap();
    let (fr, summary) = frames(w.into_inner());
    assert_eq!(fr.len(), 1);
    assert_eq!(summary.malformed, 1);
    assert_eq!(summary.truncated, None);
}

#[test]
fn a_block_claiming_4_gib_is_skipped_in_bounded_memory() {
    let f = udp_frame(b"x");
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, None, None).unwrap();
    w.write_enhanced(0, T0, &f, f.len() as u32).unwrap();
    let mut bytes = w.into_inner();
    let at = bytes.len();
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.extend_from_slice(&0xFFFF_FFFCu32.to_le_bytes());
    bytes.extend_from_slice(&[0u8; 4096]);
    let mut r = reader(bytes);
    assert!(r.next_frame().unwrap().is_some());
    // Never held: read past to the end of the file, which comes first.
    assert!(r.next_frame().unwrap().is_none());
    let s = r.summary();
    assert_eq!(
        itlscope::report::limits::limit_texts(&s.limits_hit),
        vec![format!(
            "record at byte offset {at} (after frame 1) claims 4294967292 bytes, over the 16777216-byte --max-record-size: skipped"
        )]
    );
    assert!(
        s.truncated
            .as_deref()
            .is_some_and(|t| t.contains("truncated inside the oversized record")),
        "{:?}",
        s.truncated
    );
    // The same with a legacy record header claiming 4 GiB.
    let mut legacy = pcap(1, std::slice::from_ref(&f));
    legacy.extend_from_slice(&[0u8; 8]);
    legacy.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    legacy.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let mut r = reader(legacy);
    assert!(r.next_frame().unwrap().is_some());
    assert!(r.next_frame().unwrap().is_none());
    assert_eq!(r.summary().limits_hit.len(), 1);
}

#[test]
fn one_oversized_record_is_skipped_and_reading_goes_on() {
    let small = udp_frame(b"before");
    let big = udp_frame(&[0x55; 6000]);
    let after = udp_frame(b"after");
    let options = ReaderOptions {
        buffer_size: 4096,
        max_record_size: 4096,
    };
    for bytes in [pcap(1, &[small.clone(), big.clone(), after.clone()]), {
        let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
        w.add_interface(1, 0, None, None).unwrap();
        for f in [&small, &big, &after] {
            w.write_enhanced(0, T0, f, f.len() as u32).unwrap();
        }
        w.into_inner()
    }] {
        let mut r = reader_with(bytes, options);
        let mut lens = Vec::new();
        while let Some(f) = r.next_frame().expect("readable") {
            lens.push((f.number, f.data.len()));
        }
        assert_eq!(lens, vec![(1, small.len()), (2, after.len())]);
        let s = r.summary();
        assert_eq!(s.truncated, None);
        assert_eq!(s.limits_hit.len(), 1, "{:?}", s.limits_hit);
        assert!(limit_text(&s.limits_hit[0]).contains("--max-record-size: skipped"));
    }
}

#[test]
fn a_cut_gzip_capture_is_read_up_to_the_cut() {
    use std::io::Write;
    let frames: Vec<_> = (0..200u8).map(|i| udp_frame(&[i; 300])).collect();
    let whole = pcap(1, &frames);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&whole).unwrap();
    let gz = enc.finish().unwrap();
    // Cut in the middle of the compressed data, and cut only the 8-byte trailer.
    for (cut, all) in [(gz.len() / 2, false), (gz.len() - 4, true)] {
        let mut r = reader(gz[..cut].to_vec());
        let mut n = 0;
        while r.next_frame().expect("a cut is not a read error").is_some() {
            n += 1;
        }
        let s = r.summary();
        if all {
            assert_eq!(n, 200);
        } else {
            assert!(n > 10 && n < 200, "{n}");
        }
        assert!(s.truncated.is_some(), "cut at {cut}: {s:?}");
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("gzip stream is cut short")),
            "{:?}",
            s.notes
        );
    }
}

#[test]
fn a_pcapng_cut_inside_its_section_header_is_a_cut_capture() {
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, None, None).unwrap();
    let whole = w.into_inner();
    for cut in [6, 10, 20] {
        let r = reader(whole[..cut].to_vec());
        let t = r.warning().expect("a warning").to_owned();
        assert!(
            t.starts_with("test.cap: pcapng capture cut inside its section header"),
            "{t}"
        );
    }
    // A whole section header that does not parse is damaged, not cut.
    let mut bad = whole.clone();
    bad[8..12].copy_from_slice(b"XXXX");
    let err =
        CaptureReader::from_reader("test.cap", Box::new(Cursor::new(bad))).expect_err("damaged");
    assert!(
        err.to_string()
            .contains("pcapng section header does not parse"),
        "{err}"
    );
}

#[test]
fn a_pcapng_block_length_below_12_never_reaches_the_parser() {
    // Fuzz finding: a Process Information Block (0x80000001) of length 8 made pcap-parser
    // 0.17 compute `8 - 12` (a panic in debug builds). It is refused before the parser.
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz_regressions/capture_end_to_end/pcapng-pib-block-length-8"),
    )
    .expect("the regression input is committed");
    assert_eq!(bytes.len(), 64);
    let mut r = reader(bytes);
    let mut frames = 0;
    let err = loop {
        match r.next_frame() {
            Ok(Some(_)) => frames += 1,
            Ok(None) => panic!("a block length of 8 must be an error"),
            Err(e) => break e,
        }
    };
    assert_eq!(frames, 0);
    assert!(
        err.to_string().contains("block length 8 is invalid"),
        "{err}"
    );
}

#[test]
fn a_broken_block_length_is_a_corrupt_capture() {
    let f = udp_frame(b"x");
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, None, None).unwrap();
    w.write_enhanced(0, T0, &f, f.len() as u32).unwrap();
    let mut bytes = w.into_inner();
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.extend_from_slice(&33u32.to_le_bytes());
    bytes.extend_from_slice(&[0u8; 40]);
    let mut r = reader(bytes.clone());
    assert!(r.next_frame().unwrap().is_some());
    let err = r.next_frame().expect_err("corrupt");
    assert!(
        err.to_string().contains("block length 33 is invalid"),
        "{err}"
    );
    // The summary path reports it as where reading stopped.
    let s = summarize(reader(bytes));
    assert_eq!(s.frames, 1);
    assert!(
        s.truncated
            .unwrap()
            .contains("corrupt capture after frame 1")
    );
}

#[test]
fn fragmented_datagrams_reassemble_v4_and_v6_out_of_order() {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    for (src, dst) in [
        ("192.0.2.1:69", "192.0.2.2:50000"),
        ("[2001:db8::1]:69", "[2001:db8::2]:50000"),
    ] {
        let ip = ip_udp(addr(src), addr(dst), 0x4242, &payload);
        let mut frags = fragment(&ip, 1400);
        assert_eq!(frags.len(), 3);
        frags.swap(0, 2);
        let link = ethernet(vec![10, 20]);
        let mut frames: Vec<Vec<u8>> = frags.iter().map(|f| link.wrap(f)).collect();
        // An unrelated packet in between.
        frames.insert(1, udp_frame(b"between"));
        let (pk, others, decoder, _) = packets_with(pcap(1, &frames), DefragLimits::default());
        assert_eq!(others, vec!["FragmentHeld", "FragmentHeld"], "{src}");
        assert_eq!(pk.len(), 2);
        let whole = &pk[1];
        assert_eq!((whole.src, whole.dst), (addr(src), addr(dst)));
        assert_eq!(whole.payload, payload);
        assert_eq!(whole.frame, 4, "numbered by the frame that completed it");
        assert_eq!(whole.vlan, Some(10));
        let s = decoder.stats().fragments;
        assert_eq!((s.fragments, s.reassembled, s.pending), (3, 1, 0));
        assert!(decoder.limits_hit().is_empty());
    }
}

#[test]
fn ipv6_fragments_after_a_hop_by_hop_header() {
    let payload = vec![0x33u8; 2000];
    let ip = ip_udp(
        addr("[2001:db8::1]:69"),
        addr("[2001:db8::2]:9"),
        1,
        &payload,
    );
    let frames: Vec<Vec<u8>> = fragment(&ip, 1000)
        .into_iter()
        .map(|mut f| {
            f[6] = 0; // hop-by-hop first, then the fragment header
            let plen = u16::from_be_bytes([f[4], f[5]]) + 8;
            f[4..6].copy_from_slice(&plen.to_be_bytes());
            [&f[..40], &[44u8, 0, 1, 4, 0, 0, 0, 0][..], &f[40..]].concat()
        })
        .collect();
    let (pk, _, _, _) = packets_with(pcap(229, &frames), DefragLimits::default());
    assert_eq!(pk.len(), 1);
    assert_eq!(pk[0].payload, payload);
}

#[test]
fn fragments_on_different_vlans_do_not_mix() {
    let a = ip_udp(addr("192.0.2.1:69"), addr("192.0.2.2:9"), 7, &[1u8; 2000]);
    let b = ip_udp(addr("192.0.2.1:69"), addr("192.0.2.2:9"), 7, &[2u8; 2000]);
    let fa = fragment(&a, 1000);
    let fb = fragment(&b, 1000);
    let (v1, v2) = (ethernet(vec![1]), ethernet(vec![2]));
    let frames = vec![
        v1.wrap(&fa[0]),
        v2.wrap(&fb[0]),
        v2.wrap(&fb[1]),
        v1.wrap(&fa[1]),
        v1.wrap(&fa[2]),
        v2.wrap(&fb[2]),
    ];
    let (pk, _, _, _) = packets_with(pcap(1, &frames), DefragLimits::default());
    assert_eq!(pk.len(), 2);
    assert_eq!((pk[0].vlan, pk[0].payload[0]), (Some(1), 1));
    assert_eq!((pk[1].vlan, pk[1].payload[0]), (Some(2), 2));
}

#[test]
fn snaplen_cut_fragments_are_refused_and_reported() {
    let ip = ip_udp(addr("192.0.2.1:69"), addr("192.0.2.2:9"), 7, &[1u8; 2000]);
    let frags = fragment(&ip, 1000);
    let mut w = PcapWriter::new(Vec::new(), 101, 500, Precision::Nano, Endian::Little).unwrap();
    for f in &frags {
        w.write_packet(T0, &f[..500.min(f.len())], f.len() as u32)
            .unwrap();
    }
    let (pk, others, decoder, _) = packets_with(w.into_inner(), DefragLimits::default());
    // Fragments of 1000, 1000 and 8 bytes: the first two are cut, the last is whole.
    assert!(pk.is_empty());
    assert_eq!(
        others,
        vec![
            "FragmentDropped(Truncated)",
            "FragmentDropped(Truncated)",
            "FragmentHeld"
        ]
    );
    assert_eq!(decoder.stats().fragments.truncated_fragments, 2);
    assert!(
        limit_text(&decoder.limits_hit()[0]).contains("cut by the snaplen"),
        "{:?}",
        decoder.limits_hit()
    );
}

#[test]
fn a_hundred_thousand_fragments_that_never_complete_stay_bounded() {
    // First fragments (MF set) of 100,000 different datagrams, 1 s apart every 1000.
    let template = fragment(
        &ip_udp(addr("192.0.2.1:69"), addr("192.0.2.2:9"), 0, &[5u8; 1600]),
        1000,
    )
    .remove(0);
    let mut w = PcapWriter::new(Vec::new(), 101, 65535, Precision::Nano, Endian::Little).unwrap();
    for id in 0..100_000u32 {
        let mut f = template.clone();
        f[4..6].copy_from_slice(&(id as u16).to_be_bytes());
        // Vary the source too, so IDs do not repeat.
        f[12] = 10 + (id >> 16) as u8;
        w.write_packet(T0 + i64::from(id) * 1_000_000, &f, f.len() as u32)
            .unwrap();
    }
    let limits = DefragLimits {
        max_total_bytes: 2 << 20,
        ..DefragLimits::default()
    };
    let mut r = reader(w.into_inner());
    let mut decoder = itlscope::net::Decoder::new(limits);
    let mut peak = 0;
    while let Some(f) = r.next_frame().unwrap() {
        let _ = decoder.decode(&f);
        peak = peak.max(decoder.stats().fragments.pending_bytes);
    }
    let s = decoder.stats().fragments;
    assert!(peak <= 2 << 20, "peak {peak}");
    assert!(s.pending <= 4096);
    assert_eq!(s.fragments, 100_000);
    assert_eq!(s.reassembled, 0);
    assert_eq!(s.dropped_by_cap + s.expired + s.pending, 100_000);
    assert!(s.dropped_by_cap > 0);
    let hit = decoder.limits_hit();
    assert!(
        hit.iter()
            .any(|l| limit_text(l).contains("reassembly limits")),
        "{hit:?}"
    );
    assert!(
        hit.iter()
            .any(|l| limit_text(l).contains("still incomplete")),
        "{hit:?}"
    );
}

#[test]
fn ip_in_unsupported_link_types_is_counted() {
    let f = udp_frame(b"x");
    let r = reader(pcap(127, &[f.clone(), f]));
    let s = summarize(r);
    assert_eq!(s.frames, 2);
    assert_eq!(s.skipped.len(), 1, "{:?}", s.skipped);
    assert_eq!(s.skipped[0].reason, "unsupported-link-type");
    assert_eq!(s.skipped[0].code, Some(127));
    assert_eq!(s.skipped[0].frames, 2);
}

#[test]
fn not_ip_is_not_malformed() {
    let mut arp = vec![0xffu8; 6];
    arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[0u8; 28]);
    let sll = Link::Sll.wrap(&[0x45]);
    let mut llc = sll.clone();
    llc[14..16].copy_from_slice(&4u16.to_be_bytes());
    let (pk, others) = packets(pcap(1, &[arp]));
    assert!(pk.is_empty());
    assert_eq!(others, vec!["NotIp"]);
    // Issue 19 item 7: an 802.2 LLC frame is read as LLC and named (this one is too short
    // for its header), never counted as malformed.
    let (_, others) = packets(pcap(113, &[llc]));
    assert_eq!(others, vec!["Encapsulated(Short(LlcSnap))"]);
}

fn valid_headers() -> Vec<Vec<u8>> {
    let legacy = pcap(1, &[udp_frame(b"seed")]);
    let mut ng = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    ng.add_interface(1, 0, None, None).unwrap();
    ng.add_interface(113, 64, Some(0x85), Some(-5)).unwrap();
    let ng = ng.into_inner();
    let mut be = PcapNgWriter::new(Vec::new(), Endian::Big).unwrap();
    be.add_interface(101, 0, Some(9), None).unwrap();
    vec![legacy, ng, be.into_inner(), pcap(0, &[]), pcap(276, &[])]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever follows a valid header, reading and decoding never panic and memory stays
    /// within the configured record limit.
    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(
        which in 0usize..5,
        tail in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut bytes = valid_headers().swap_remove(which);
        bytes.extend_from_slice(&tail);
        let options = ReaderOptions { buffer_size: 4096, max_record_size: 1 << 16 };
        let mut r = CaptureReader::from_reader_with("p", Box::new(Cursor::new(bytes)), options)
            .expect("valid header");
        let mut decoder = itlscope::net::Decoder::default();
        for _ in 0..10_000 {
            match r.next_frame() {
                Ok(Some(f)) => { let _ = decoder.decode(&f); }
                Ok(None) | Err(_) => break,
            }
        }
        prop_assert!(r.next_frame().map(|f| f.is_none()).unwrap_or(true));
    }

    /// Arbitrary frame bytes under every supported link type decode without panicking.
    #[test]
    fn arbitrary_frames_decode_without_panic(
        link in prop::sample::select(vec![0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276]),
        data in proptest::collection::vec(any::<u8>(), 0..200),
        orig_extra in 0u32..100,
    ) {
        let mut w = PcapWriter::new(Vec::new(), link, 65535, Precision::Nano, Endian::Little).unwrap();
        w.write_packet(T0, &data, data.len() as u32 + orig_extra).unwrap();
        let mut r = reader(w.into_inner());
        let mut decoder = itlscope::net::Decoder::default();
        while let Some(f) = r.next_frame().unwrap() {
            let _ = decoder.decode(&f);
        }
        prop_assert_eq!(decoder.stats().frames, 1);
    }
}

/// The whole pipeline's summary of a capture (what the report's capture section shows).
fn summarize(reader: CaptureReader) -> CaptureSummary {
    run(reader, &PipelineOptions::default()).summary
}
