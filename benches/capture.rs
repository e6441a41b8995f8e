//! Framing and decode throughput of the capture stage on a generated IMIX-like capture
//! (66/590/1514-byte TCP frames in a 58/33/9 % mix over 64 flows), against a baseline of
//! plain reading the same bytes through a 1 MiB buffer. Throughput is in input bytes.
//!
//! `cargo bench --bench capture`; the ratio framing÷baseline is what issue 7 tracks
//! (≥ 0.3 × `cat`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use itlscope::capture::CaptureReader;
use itlscope::net::{Decoded, Decoder};
use itlscope_gen::packet::{Link, TcpSpec, ip_tcp};
use itlscope_gen::pcap::{Endian, PcapNgWriter, PcapWriter, Precision};
use std::hint::black_box;
use std::io::{Cursor, Read};
use std::net::SocketAddr;

/// About 48 MiB of capture: big enough to leave the caches, small enough for CI machines.
const TARGET_BYTES: usize = 48 << 20;

fn imix_frames() -> Vec<Vec<u8>> {
    let link = Link::Ethernet {
        src: [2, 0, 0, 0, 0, 1],
        dst: [2, 0, 0, 0, 0, 2],
        vlans: vec![],
    };
    // Payload sizes giving 66, 590 and 1514-byte Ethernet frames (14 + 20 + 20 headers).
    let sizes = [12usize, 536, 1460];
    let mut frames = Vec::new();
    for i in 0..100u16 {
        let size = match i % 100 {
            0..=57 => sizes[0],
            58..=90 => sizes[1],
            _ => sizes[2],
        };
        let flow = i % 64;
        let src: SocketAddr = format!("10.0.{}.1:{}", flow, 40000 + flow).parse().unwrap();
        let dst: SocketAddr = "10.1.0.1:443".parse().unwrap();
        let spec = TcpSpec {
            seq: u32::from(i) * 1000,
            ack: Some(1),
            psh: true,
            window: 65535,
            ..Default::default()
        };
        frames.push(link.wrap(&ip_tcp(src, dst, i, spec, &vec![0x17; size])));
    }
    frames
}

fn legacy_capture() -> &'static [u8] {
    let frames = imix_frames();
    let mut w = PcapWriter::new(Vec::new(), 1, 65535, Precision::Micro, Endian::Little).unwrap();
    let mut i = 0usize;
    let mut written = 24;
    while written < TARGET_BYTES {
        let f = &frames[i % frames.len()];
        w.write_packet(
            1_764_324_000_000_000_000 + i as i64 * 1000,
            f,
            f.len() as u32,
        )
        .unwrap();
        written += 16 + f.len();
        i += 1;
    }
    Box::leak(w.into_inner().into_boxed_slice())
}

fn pcapng_capture() -> &'static [u8] {
    let frames = imix_frames();
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(1, 0, Some(9), None).unwrap();
    let mut i = 0usize;
    let mut written = 0;
    while written < TARGET_BYTES {
        let f = &frames[i % frames.len()];
        w.write_enhanced(
            0,
            1_764_324_000_000_000_000 + i as i64 * 1000,
            f,
            f.len() as u32,
        )
        .unwrap();
        written += 32 + f.len().div_ceil(4) * 4;
        i += 1;
    }
    Box::leak(w.into_inner().into_boxed_slice())
}

fn plain_read(data: &'static [u8]) -> u64 {
    let mut input = Cursor::new(data);
    let mut buf = vec![0u8; 1 << 20];
    let mut sum = 0u64;
    loop {
        let n = input.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        sum += u64::from(buf[n - 1]);
    }
    sum
}

/// pcap-parser alone (next + consume, no frame bookkeeping): what the reader adds on top.
fn raw_pcap_parser(data: &'static [u8]) -> u64 {
    let mut r = pcap_parser::create_reader(1 << 20, Cursor::new(data)).unwrap();
    let mut blocks = 0u64;
    loop {
        match r.next() {
            Ok((len, _)) => {
                blocks += 1;
                r.consume(len);
            }
            Err(pcap_parser::PcapError::Incomplete(_)) => r.refill().unwrap(),
            Err(_) => break,
        }
    }
    blocks
}

fn framing(data: &'static [u8]) -> u64 {
    let mut r = CaptureReader::from_reader("bench", Box::new(Cursor::new(data))).unwrap();
    let mut bytes = 0u64;
    while let Some(f) = r.next_frame().unwrap() {
        bytes += f.data.len() as u64;
    }
    bytes
}

fn framing_and_decode(data: &'static [u8]) -> u64 {
    let mut r = CaptureReader::from_reader("bench", Box::new(Cursor::new(data))).unwrap();
    let mut decoder = Decoder::default();
    let mut payload = 0u64;
    while let Some(f) = r.next_frame().unwrap() {
        if let Decoded::Packet(p) = decoder.decode(&f)
            && let itlscope::net::Transport::Tcp(t) = p.transport
        {
            payload += t.payload.len() as u64;
        }
    }
    payload
}

fn bench(c: &mut Criterion) {
    for (name, data) in [("pcap", legacy_capture()), ("pcapng", pcapng_capture())] {
        let mut group = c.benchmark_group(format!("capture/{name}"));
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.sample_size(10);
        group.bench_function("baseline_read_1MiB", |b| {
            b.iter(|| black_box(plain_read(black_box(data))))
        });
        group.bench_function("pcap_parser_only", |b| {
            b.iter(|| black_box(raw_pcap_parser(black_box(data))))
        });
        group.bench_function("framing", |b| {
            b.iter(|| black_box(framing(black_box(data))))
        });
        group.bench_function("framing_decode", |b| {
            b.iter(|| black_box(framing_and_decode(black_box(data))))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
