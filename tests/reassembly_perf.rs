//! Throughput of the Collector's hot path (run in release, ignored by default):
//! `cargo test --release --test reassembly_perf -- --ignored --nocapture`

mod reassembly_support;

use itlscope::proto::{Collector, CollectorConfig};
use reassembly_support::tls::content;
use reassembly_support::*;
use std::time::Instant;

fn measure(name: &str, pkts: &[Pkt]) {
    let bytes: usize = pkts.iter().map(|p| p.payload.len()).sum();
    let packets: Vec<_> = pkts
        .iter()
        .enumerate()
        .map(|(i, p)| p.packet(i as u64 + 1))
        .collect();
    let start = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    for p in &packets {
        c.packet(p);
    }
    let out = c.finish();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {} packets, {:.1} MB payload in {:.3} s = {:.1} Mpps, {:.2} GB/s ({} files, {} tls)",
        packets.len(),
        bytes as f64 / 1e6,
        secs,
        packets.len() as f64 / secs / 1e6,
        bytes as f64 / secs / 1e9,
        out.files.len(),
        out.tls.len()
    );
}

#[test]
#[ignore]
fn hot_path_throughput() {
    // Traffic that does not matter: bulk TCP on other ports.
    let mut c = Conv::new("10.0.0.2:40000", "10.0.0.3:3306", 1, 2);
    c.open();
    c.send(true, &vec![0x5a; 1400 * 500_000], 1400);
    measure("ignored TCP", &c.pkts);

    // A TLS 1.2 connection to TVS with 700 MB of application data.
    let mut c = Conv::new("10.0.0.2:40001", "10.0.0.3:2445", 1, 2);
    c.open();
    let ch = tls::client_hello(0x0303, &[0x2f], &[], None);
    c.send(
        true,
        &tls::records(content::HANDSHAKE, 0x0301, &ch, 16384),
        1400,
    );
    c.send(
        false,
        &tls::records(
            content::HANDSHAKE,
            0x0303,
            &tls::server_hello(0x0303, 0x2f, None),
            16384,
        ),
        1400,
    );
    let mut bulk = Vec::new();
    for _ in 0..(700_000_000 / 16384) {
        bulk.extend(tls::opaque(content::APPLICATION_DATA, 0x0303, 16379));
    }
    c.send(false, &bulk, 1400);
    measure("TLS app data", &c.pkts);

    // HTTP download of 16 MB files, repeated.
    let mut pkts = Vec::new();
    for i in 0..40u16 {
        let mut c = Conv::new(&format!("10.0.0.2:{}", 41000 + i), "10.0.0.3:6970", 1, 2);
        c.open();
        c.send(true, b"GET /f.bin HTTP/1.1\r\n\r\n", 1400);
        let mut r =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 16_000_000).into_bytes();
        r.extend(vec![1u8; 16_000_000]);
        c.send(false, &r, 1400);
        c.fin(true);
        c.fin(false);
        pkts.extend(c.pkts);
    }
    measure("HTTP downloads", &pkts);
}
