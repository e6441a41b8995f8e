//! Scaling of the connection table under many short flows (issue 19, "no superlinear
//! path"): the work counted is the segments taken plus the connections every scan of the
//! table visits (idle sweeps, evictions for room, evictions for memory) and the TLS
//! keeper's look-ups. Ten times the flows must cost at most about ten times the work
//! (counted, never timed).

mod reassembly_support;
mod scaling_support;

use itlscope::proto::{Collector, CollectorConfig};
use reassembly_support::{Conv, Pkt};

const GET: &[u8] = b"GET /SEP0011AABBCC01.cnf.xml HTTP/1.1\r\nHost: cucm\r\n\r\n";
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

fn addr(net: u8, i: usize, port: u16) -> String {
    format!(
        "{net}.{}.{}.{}:{port}",
        (i >> 16) & 255,
        (i >> 8) & 255,
        i & 255
    )
}

/// A TLS ClientHello record (TLS 1.2, one cipher suite).
fn client_hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0]);
    let mut msg = vec![1, 0, 0, body.len() as u8];
    msg.append(&mut body);
    let mut rec = vec![22, 3, 1, 0, msg.len() as u8];
    rec.append(&mut msg);
    rec
}

/// `n` short flows: an HTTP request to a phone's file port (TCP 6970) answered and closed,
/// and every fourth one a PC's HTTPS session that sends its ClientHello and stalls, so the
/// table (64 flows) fills with others' connections and has to sweep and evict.
fn packets(n: usize) -> Vec<Pkt> {
    let hello = client_hello();
    let mut pkts = Vec::with_capacity(n * 8);
    for i in 0..n {
        let mut c = Conv::new(&addr(10, i, 40_000), "192.0.2.10:6970", 1000, 9000);
        c.open();
        c.send(true, GET, 1460);
        c.send(false, NOT_FOUND, 1460);
        c.fin(true);
        c.fin(false);
        pkts.append(&mut c.pkts);
        if i % 4 == 0 {
            let mut pc = Conv::new(&addr(172, i, 50_000), "198.51.100.1:443", 77, 88);
            pc.open();
            pc.send(true, &hello, 1460);
            pkts.append(&mut pc.pkts);
        }
    }
    pkts
}

/// The connection table's work for [`packets`]`(n)` with room for 64 flows.
fn work(n: usize) -> u64 {
    let config = CollectorConfig {
        max_flows: 64,
        ..CollectorConfig::default()
    };
    let mut collector = Collector::new(config);
    for (i, p) in packets(n).iter().enumerate() {
        collector.packet(&p.packet(i as u64 + 1));
    }
    let work = collector.work();
    let collected = collector.finish();
    // The table was full: the PCs' stalled sessions were closed early to make room.
    let evicted = collected
        .limits_hit
        .iter()
        .any(|e| e.kind() == "tcp-flows-evicted");
    assert!(evicted, "{:?}", collected.limits_hit);
    // Statement 6 (the phone fetches its files): every request was followed to its answer.
    let followed = collected
        .files
        .iter()
        .filter(|f| f.http_status == Some(404))
        .count();
    assert_eq!(followed, n, "every short flow is followed");
    work
}

#[test]
fn many_short_flows_through_a_full_connection_table_grow_linearly() {
    scaling_support::assert_linear("short flows", 2_000, work);
}
