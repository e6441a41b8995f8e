//! Throughput of the protocol stage's hot path (`proto::Collector::packet`) on decoded
//! packets, per kind of traffic, against a baseline run in the same group: the same packets
//! iterated with each payload copied into a reused buffer (a memcpy of every byte, no
//! protocol work). Throughput is in payload bytes; the ratio collector÷baseline is the
//! figure to track, not the absolute speed of the machine.
//!
//! `cargo bench --bench collector`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use itlscope::net::Packet;
use itlscope::proto::{Collector, CollectorConfig};
use std::hint::black_box;

#[path = "../tests/reassembly_support/mod.rs"]
mod reassembly_support;

use reassembly_support::tls::content;
use reassembly_support::{Conv, Pkt, tls};

/// Payload bytes per workload: enough to leave the caches, quick enough for a shared machine.
const WORKLOAD_BYTES: usize = 32 << 20;
const MSS: usize = 1400;

/// Bulk TCP on a port nobody watches: the cost of deciding a flow does not matter.
fn ignored_tcp() -> Vec<Pkt> {
    let mut c = Conv::new("10.0.0.2:40000", "10.0.0.3:3306", 1, 2);
    c.open();
    c.send(true, &vec![0x5a; WORKLOAD_BYTES], MSS);
    c.pkts
}

/// A TLS 1.2 session to TVS whose application data is skipped record by record.
fn tls_app_data() -> Vec<Pkt> {
    let mut c = Conv::new("10.0.0.2:40001", "10.0.0.3:2445", 1, 2);
    c.open();
    let hello = tls::client_hello(0x0303, &[0x2f], &[], None);
    c.send(
        true,
        &tls::records(content::HANDSHAKE, 0x0301, &hello, 16384),
        MSS,
    );
    c.send(
        false,
        &tls::records(
            content::HANDSHAKE,
            0x0303,
            &tls::server_hello(0x0303, 0x2f, None),
            16384,
        ),
        MSS,
    );
    let mut bulk = Vec::with_capacity(WORKLOAD_BYTES + 16384);
    while bulk.len() < WORKLOAD_BYTES {
        bulk.extend(tls::opaque(content::APPLICATION_DATA, 0x0303, 16379));
    }
    c.send(false, &bulk, MSS);
    c.pkts
}

/// HTTP 6970 downloads of 4 MB files (bodies kept and hashed by the collector).
fn http_downloads() -> Vec<Pkt> {
    const FILE: usize = 4_000_000;
    let mut pkts = Vec::new();
    for i in 0..(WORKLOAD_BYTES / FILE) as u16 {
        let mut c = Conv::new(&format!("10.0.0.2:{}", 41000 + i), "10.0.0.3:6970", 1, 2);
        c.open();
        c.send(true, b"GET /f.bin HTTP/1.1\r\n\r\n", MSS);
        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {FILE}\r\n\r\n").into_bytes();
        r.extend(std::iter::repeat_n(1u8, FILE));
        c.send(false, &r, MSS);
        c.fin(true);
        c.fin(false);
        pkts.extend(c.pkts);
    }
    pkts
}

/// SIP over TCP 5060 that is not an alarm: messages with bodies, framed and skipped.
fn sip_tcp() -> Vec<Pkt> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.22\r\ns=-\r\nc=IN IP4 192.0.2.22\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        .repeat(8);
    let message = format!(
        "INVITE sip:1000@198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.22:50168;branch=z9hG4bK1\r\nFrom: <sip:2000@198.51.100.10>;tag=1\r\nTo: <sip:1000@198.51.100.10>\r\nCall-ID: 1@192.0.2.22\r\nCSeq: 101 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    let mut stream = Vec::with_capacity(WORKLOAD_BYTES + message.len());
    while stream.len() < WORKLOAD_BYTES {
        stream.extend_from_slice(message.as_bytes());
    }
    let mut c = Conv::new("192.0.2.22:50168", "198.51.100.10:5060", 1, 2);
    c.open();
    c.send(true, &stream, MSS);
    c.pkts
}

/// Baseline: the same packets, every payload copied once into a reused buffer.
fn memcpy_payloads(packets: &[Packet<'_>], buf: &mut Vec<u8>) -> u64 {
    let mut sum = 0u64;
    for p in packets {
        let payload = match p.transport {
            itlscope::net::Transport::Tcp(seg) => seg.payload,
            itlscope::net::Transport::Udp { payload, .. } => payload,
            itlscope::net::Transport::Other { .. } => &[],
        };
        buf.clear();
        buf.extend_from_slice(payload);
        sum += buf.len() as u64 + u64::from(buf.last().copied().unwrap_or(0));
    }
    sum
}

fn collect(packets: &[Packet<'_>]) -> usize {
    let mut c = Collector::new(CollectorConfig::default());
    for p in packets {
        c.packet(p);
    }
    let out = c.finish();
    out.files.len() + out.tls.len() + out.alarms.len()
}

/// A named packet list builder.
type Workload = (&'static str, fn() -> Vec<Pkt>);

fn workloads(crit: &mut Criterion) {
    let cases: [Workload; 4] = [
        ("ignored-tcp", ignored_tcp),
        ("tls-app-data", tls_app_data),
        ("http-downloads", http_downloads),
        ("sip-tcp", sip_tcp),
    ];
    for (name, build) in cases {
        let pkts = build();
        let packets: Vec<Packet<'_>> = pkts
            .iter()
            .enumerate()
            .map(|(i, p)| p.packet(i as u64 + 1))
            .collect();
        let bytes: usize = pkts.iter().map(|p| p.payload.len()).sum();
        let mut group = crit.benchmark_group(format!("collector/{name}"));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(20);
        let mut buf = Vec::with_capacity(64 * 1024);
        group.bench_function("baseline-memcpy", |b| {
            b.iter(|| memcpy_payloads(black_box(&packets), &mut buf))
        });
        group.bench_function("collector", |b| b.iter(|| collect(black_box(&packets))));
        group.finish();
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
