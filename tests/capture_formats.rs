//! Capture formats and link types: tiny captures written with itlscope-gen, read back with
//! frame numbers, timestamps to the nanosecond, addresses and ports.

mod capture_support;

use capture_support::*;
use itlscope::capture::Timestamp;
use itlscope_gen::packet::{Link, TcpSpec, ip_tcp, ip_udp};
use itlscope_gen::pcap::{Endian, PcapNgWriter, PcapWriter, Precision};

/// 2025-11-28T10:00:00.123456789Z
const T0: i64 = 1_764_324_000_123_456_789;

fn legacy(link: u32, precision: Precision, endian: Endian, frames: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), link, 65535, precision, endian).unwrap();
    for (ts, data) in frames {
        w.write_packet(*ts, data, data.len() as u32).unwrap();
    }
    w.into_inner()
}

#[test]
fn legacy_pcap_both_byte_orders_micro_and_nano() {
    let tcp = ip_tcp(
        addr("192.0.2.10:50000"),
        addr("198.51.100.5:2445"),
        7,
        TcpSpec {
            seq: 1000,
            ack: Some(5),
            psh: true,
            window: 512,
            ..Default::default()
        },
        b"hello",
    );
    let udp = ip_udp(
        addr("192.0.2.10:50001"),
        addr("198.51.100.5:69"),
        8,
        b"\0\x01x",
    );
    let link = ethernet(vec![]);
    let frames = vec![(T0, link.wrap(&tcp)), (T0 + 1_000_001, link.wrap(&udp))];
    for endian in [Endian::Little, Endian::Big] {
        for precision in [Precision::Micro, Precision::Nano] {
            let bytes = legacy(1, precision, endian, &frames);
            let total = bytes.len() as u64;
            let (read, summary) = frames_of(bytes.clone());
            assert_eq!(read.len(), 2);
            assert_eq!((read[0].number, read[1].number), (1, 2));
            let expect = |ts: i64| match precision {
                Precision::Nano => Timestamp(ts),
                Precision::Micro => Timestamp(ts - ts.rem_euclid(1000)),
            };
            assert_eq!(read[0].ts, expect(T0), "{endian:?} {precision:?}");
            assert_eq!(read[1].ts, expect(T0 + 1_000_001));
            assert_eq!(summary.format, "pcap");
            assert_eq!(summary.frames, 2);
            assert_eq!(summary.bytes, total);
            assert_eq!(summary.link_types, vec![(1, 2)]);
            assert_eq!(summary.first_ts, Some(expect(T0)));
            assert_eq!(summary.truncated, None);

            let (pk, others) = packets(bytes);
            assert!(others.is_empty(), "{others:?}");
            assert_eq!(pk[0].src, addr("192.0.2.10:50000"));
            assert_eq!(pk[0].dst, addr("198.51.100.5:2445"));
            assert!(pk[0].tcp);
            assert_eq!(pk[0].payload, b"hello");
            assert_eq!((pk[1].dst, pk[1].tcp), (addr("198.51.100.5:69"), false));
            assert_eq!(pk[1].payload, b"\0\x01x");
            assert_eq!(pk[1].frame, 2);
        }
    }
}

fn frames_of(bytes: Vec<u8>) -> (Vec<OwnedFrame>, itlscope::evidence::CaptureSummary) {
    frames(bytes)
}

#[test]
fn every_link_type_decodes_v4_and_v6() {
    let cases = [
        (Link::Sll, None),
        (Link::Sll2, None),
        (Link::Raw, None),
        (Link::RawV4V6, None),
        (Link::Null, None),
        (Link::Loop, None),
        (Link::Raw, Some(12u32)),
        (Link::Raw, Some(14u32)),
        (ethernet(vec![]), None),
    ];
    for (src, dst) in [
        ("192.0.2.1:5060", "192.0.2.200:6970"),
        ("[2001:db8::1]:5060", "[2001:db8::c8]:6970"),
    ] {
        let ipv6 = src.starts_with('[');
        let pkt = ip_udp(addr(src), addr(dst), 1, b"payload");
        for (link, override_type) in &cases {
            let lt = override_type.unwrap_or(link.link_type(ipv6));
            let bytes = legacy(
                lt,
                Precision::Nano,
                Endian::Little,
                &[(T0, link.wrap(&pkt))],
            );
            let (pk, others) = packets(bytes);
            assert!(others.is_empty(), "{link:?} {lt}: {others:?}");
            assert_eq!(pk.len(), 1, "{link:?} {lt}");
            assert_eq!((pk[0].src, pk[0].dst), (addr(src), addr(dst)), "{link:?}");
            assert_eq!(pk[0].payload, b"payload");
            assert!(!pk[0].truncated);
        }
    }
}

#[test]
fn bsd_null_written_big_endian_is_understood() {
    let pkt = ip_udp(addr("[2001:db8::1]:1"), addr("[2001:db8::2]:2"), 1, b"x");
    for af in [24u32, 28, 30] {
        let frame = [&af.to_be_bytes()[..], &pkt[..]].concat();
        let bytes = legacy(0, Precision::Micro, Endian::Big, &[(T0, frame)]);
        let (pk, others) = packets(bytes);
        assert!(others.is_empty(), "{others:?}");
        assert_eq!(pk[0].dst, addr("[2001:db8::2]:2"));
    }
}

#[test]
fn qinq_and_single_tags_report_the_outer_vlan() {
    let pkt = ip_udp(addr("192.0.2.1:1000"), addr("192.0.2.2:69"), 1, b"q");
    let frames = vec![
        (T0, ethernet(vec![100, 200]).wrap(&pkt)),
        (T0 + 1, ethernet(vec![42]).wrap(&pkt)),
        (T0 + 2, ethernet(vec![]).wrap(&pkt)),
    ];
    // The SLL header carries the tag too when the kernel did not strip it.
    let (pk, others) = packets(legacy(1, Precision::Nano, Endian::Little, &frames));
    assert!(others.is_empty(), "{others:?}");
    let vlans: Vec<_> = pk.iter().map(|p| p.vlan).collect();
    assert_eq!(vlans, vec![Some(100), Some(42), None]);
    assert!(pk.iter().all(|p| p.dst == addr("192.0.2.2:69")));
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let mut pkt = ip_udp(
        addr("[2001:db8::1]:4000"),
        addr("[2001:db8::2]:69"),
        1,
        b"ext",
    );
    // Insert a hop-by-hop header (8 bytes, PadN) and a destination options header.
    pkt[6] = 0; // hop-by-hop next
    let ext = [60u8, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
    let plen = u16::from_be_bytes([pkt[4], pkt[5]]) + ext.len() as u16;
    pkt[4..6].copy_from_slice(&plen.to_be_bytes());
    let pkt = [&pkt[..40], &ext[..], &pkt[40..]].concat();
    let bytes = legacy(101, Precision::Nano, Endian::Little, &[(T0, pkt)]);
    let (pk, others) = packets(bytes);
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(pk[0].dst, addr("[2001:db8::2]:69"));
    assert_eq!(pk[0].payload, b"ext");
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_block_kinds() {
    let udp4 = ip_udp(addr("192.0.2.1:1111"), addr("192.0.2.2:2222"), 1, b"a");
    let udp6 = ip_udp(
        addr("[2001:db8::1]:3333"),
        addr("[2001:db8::2]:4444"),
        1,
        b"b",
    );
    let secs = 1_764_324_000i64;
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    // Interface 0: Ethernet, nanoseconds, offset 1000 s.
    let if0 = w.add_interface(1, 0, Some(9), Some(1000)).unwrap();
    // Interface 1: SLL2, default microseconds.
    let if1 = w.add_interface(276, 0, None, None).unwrap();
    // Interface 2: raw IP, 2^-20 s ticks.
    let if2 = w.add_interface(101, 0, Some(0x80 | 20), None).unwrap();
    w.write_enhanced(if0, T0, &ethernet(vec![]).wrap(&udp4), 0)
        .unwrap();
    w.block(0x0BAD_CAFE, &[1, 2, 3, 4, 5]).unwrap(); // unknown: skipped
    w.write_enhanced(if1, T0 + 2_000, &Link::Sll2.wrap(&udp6), 0)
        .unwrap();
    w.write_enhanced(if2, secs * 1_000_000_000 + 500_000_000, &udp4, 0)
        .unwrap();
    w.write_obsolete(1, T0 + 5_000, &Link::Sll2.wrap(&udp4), 0)
        .unwrap();
    // Decryption Secrets block: TLS key log, 4 bytes.
    let mut dsb = Vec::new();
    dsb.extend_from_slice(&0x544c_534bu32.to_le_bytes());
    dsb.extend_from_slice(&4u32.to_le_bytes());
    dsb.extend_from_slice(b"CLNT");
    w.block(0x0000_000A, &dsb).unwrap();
    // Section 2 (its interface list restarts): raw IPv6 and a simple packet block.
    w.new_section().unwrap();
    w.add_interface(229, 0, Some(9), None).unwrap();
    w.write_simple(&udp6, udp6.len() as u32).unwrap();
    let mut bytes = w.into_inner();
    // Section 3, big-endian.
    let mut be = PcapNgWriter::new(Vec::new(), Endian::Big).unwrap();
    let i = be.add_interface(228, 0, Some(3), Some(-10)).unwrap();
    be.write_enhanced(i, T0, &udp4, 0).unwrap();
    bytes.extend(be.into_inner());

    let (fr, summary) = frames(bytes.clone());
    assert_eq!(fr.len(), 6, "{summary:?}");
    let numbers: Vec<_> = fr.iter().map(|f| f.number).collect();
    assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6]);
    let types: Vec<_> = fr.iter().map(|f| f.link_type).collect();
    assert_eq!(types, vec![1, 276, 101, 276, 229, 228]);
    let ifaces: Vec<_> = fr.iter().map(|f| f.interface).collect();
    assert_eq!(ifaces, vec![0, 1, 2, 1, 0, 0]);
    assert_eq!(fr[0].ts, Timestamp(T0), "ns + offset exact");
    assert_eq!(fr[1].ts, Timestamp(T0 + 2_000 - 789), "microseconds");
    assert_eq!(
        fr[2].ts,
        Timestamp(secs * 1_000_000_000 + 500_000_000),
        "2^-20"
    );
    assert_eq!(fr[3].ts, Timestamp(T0 + 5_000 - 789), "obsolete block");
    assert_eq!(fr[4].ts, Timestamp(0), "simple packet blocks carry no time");
    assert_eq!(
        fr[5].ts,
        Timestamp(T0 - 456_789),
        "milliseconds, offset -10 s"
    );
    assert_eq!(summary.format, "pcapng");
    assert_eq!(summary.malformed, 0);
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(
        summary.link_types,
        vec![(1, 1), (276, 2), (101, 1), (229, 1), (228, 1)]
    );
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.contains("Decryption Secrets")),
        "{:?}",
        summary.notes
    );

    let (pk, others) = packets(bytes);
    assert!(others.is_empty(), "{others:?}");
    let dsts: Vec<_> = pk.iter().map(|p| p.dst.port()).collect();
    assert_eq!(dsts, vec![2222, 4444, 2222, 2222, 4444, 2222]);
}

#[test]
fn gzip_compressed_capture_is_read() {
    use std::io::Write;
    let pkt = ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), 1, b"z");
    let plain = legacy(101, Precision::Nano, Endian::Little, &[(T0, pkt)]);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    let (pk, others) = packets(enc.finish().unwrap());
    assert!(others.is_empty());
    assert_eq!(pk[0].payload, b"z");
}

#[test]
fn a_trickling_pipe_is_read_like_a_file() {
    /// Returns at most 5 bytes per read, like a slow pipe.
    struct Trickle(std::io::Cursor<Vec<u8>>);
    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(5);
            self.0.read(&mut buf[..n])
        }
    }
    let pkt = ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), 1, &[9u8; 3000]);
    let frames: Vec<_> = (0..50).map(|i| (T0 + i, pkt.clone())).collect();
    for bytes in [legacy(101, Precision::Nano, Endian::Little, &frames), {
        let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
        w.add_interface(101, 0, Some(9), None).unwrap();
        for (ts, d) in &frames {
            w.write_enhanced(0, *ts, d, d.len() as u32).unwrap();
        }
        w.into_inner()
    }] {
        let total = bytes.len() as u64;
        let mut r = itlscope::capture::CaptureReader::from_reader(
            "-",
            Box::new(Trickle(std::io::Cursor::new(bytes))),
        )
        .expect("a capture");
        let mut n = 0;
        while let Some(f) = r.next_frame().unwrap() {
            n += 1;
            assert_eq!(f.ts, Timestamp(T0 + n - 1));
            assert_eq!(f.data.len(), pkt.len());
        }
        assert_eq!(n, 50);
        assert_eq!(r.summary().bytes, total);
        assert_eq!(r.warning(), None);
    }
}

#[test]
fn records_larger_than_the_buffer_grow_it() {
    // 60 KB frames with a 4 KiB buffer: the reader grows to fit, within its limit.
    let big = vec![0x45u8; 60_000];
    let frames: Vec<_> = (0..3).map(|i| (T0 + i, big.clone())).collect();
    let bytes = legacy(1, Precision::Nano, Endian::Little, &frames);
    let mut r = reader_with(
        bytes,
        itlscope::capture::ReaderOptions {
            buffer_size: 4096,
            max_record_size: 1 << 20,
        },
    );
    let mut n = 0;
    while let Some(f) = r.next_frame().unwrap() {
        assert_eq!(f.data, &big[..]);
        n += 1;
    }
    assert_eq!(n, 3);
}
