//! Issue 19, item 4: a web-port (443/8443) TLS session of a host not yet known as a phone
//! keeps its certificates when the server's first segment arrives after later ones, as
//! the same session on a phone TLS port (2443) and in order always did.

mod reassembly_support;

use itlscope::capture::Timestamp;
use itlscope::net::{Packet, TcpSegment, Transport};
use itlscope::proto::{Collected, Collector, CollectorConfig};
use reassembly_support::tls::content;
use reassembly_support::*;
use std::net::SocketAddr;

const V12: u16 = 0x0303;
const CISN: u32 = 0x1000_0000;
const SISN: u32 = 0xfff0_0000;

/// One segment with real acknowledgment numbers.
struct Seg {
    from_client: bool,
    seq: u32,
    ack: u32,
    syn: bool,
    payload: Vec<u8>,
}

/// The handshake of a client with a server on `port`: SYN, SYN-ACK, ACK, ClientHello, then
/// the server's flight (ServerHello, Certificate with two certificates, ServerHelloDone)
/// in segments of 400 bytes, then the client's ACK. The server's segments come in
/// `order` (indexes into them).
fn handshake(port: u16, order: &dyn Fn(usize) -> Vec<usize>) -> (Vec<Seg>, SocketAddr, SocketAddr) {
    let client: SocketAddr = "10.1.1.50:51000".parse().expect("address");
    let server: SocketAddr = format!("10.1.1.1:{port}").parse().expect("address");
    let certs = ctl_certs();
    let mut segs = vec![
        Seg {
            from_client: true,
            seq: CISN,
            ack: 0,
            syn: true,
            payload: vec![],
        },
        Seg {
            from_client: false,
            seq: SISN,
            ack: CISN + 1,
            syn: true,
            payload: vec![],
        },
        Seg {
            from_client: true,
            seq: CISN + 1,
            ack: SISN.wrapping_add(1),
            syn: false,
            payload: vec![],
        },
    ];
    let ch = tls::records(
        content::HANDSHAKE,
        0x0301,
        &tls::client_hello(V12, &[0xc030, 0x002f], &[], Some("cucm.example")),
        16384,
    );
    let ch_len = ch.len() as u32;
    segs.push(Seg {
        from_client: true,
        seq: CISN + 1,
        ack: SISN.wrapping_add(1),
        syn: false,
        payload: ch,
    });
    let mut flight = tls::server_hello(V12, 0x002f, None);
    flight.extend(tls::certificate(&[&certs[0], &certs[3]]));
    flight.extend(tls::server_hello_done());
    let flight = tls::records(content::HANDSHAKE, V12, &flight, 16384);
    let chunks: Vec<&[u8]> = flight.chunks(400).collect();
    let mut offsets = Vec::new();
    let mut at = 0u32;
    for c in &chunks {
        offsets.push(at);
        at += c.len() as u32;
    }
    for i in order(chunks.len()) {
        segs.push(Seg {
            from_client: false,
            seq: SISN.wrapping_add(1).wrapping_add(offsets[i]),
            ack: CISN + 1 + ch_len,
            syn: false,
            payload: chunks[i].to_vec(),
        });
    }
    segs.push(Seg {
        from_client: true,
        seq: CISN + 1 + ch_len,
        ack: SISN.wrapping_add(1).wrapping_add(at),
        syn: false,
        payload: vec![],
    });
    (segs, client, server)
}

fn collect(segs: &[Seg], client: SocketAddr, server: SocketAddr) -> Collected {
    let mut c = Collector::new(CollectorConfig::default());
    for (i, s) in segs.iter().enumerate() {
        let (src, dst) = if s.from_client {
            (client, server)
        } else {
            (server, client)
        };
        let frame = i as u64 + 1;
        c.packet(&Packet {
            frame,
            ts: Timestamp(frame as i64 * 1_000_000),
            src: src.ip(),
            dst: dst.ip(),
            vlan: None,
            transport: Transport::Tcp(TcpSegment {
                src_port: src.port(),
                dst_port: dst.port(),
                seq: s.seq,
                ack: s.ack,
                flags: flags(s.syn, !(s.syn && s.from_client), false, false),
                window: 65535,
                payload: &s.payload,
            }),
            truncated: false,
        });
    }
    c.finish()
}

/// Serials of the certificates found, kept whole or summed.
fn serials(out: &Collected) -> Vec<String> {
    let mut v: Vec<String> = out
        .tls
        .iter()
        .flat_map(|s| s.certificates.iter().map(|c| c.serial.clone()))
        .collect();
    v.extend(
        out.tls_aggregates
            .iter()
            .filter_map(|a| a.certificate.as_ref().map(|c| c.serial.clone())),
    );
    v
}

#[test]
fn a_late_first_server_segment_on_a_web_port_keeps_the_certificate() {
    let in_order = |n: usize| (0..n).collect::<Vec<_>>();
    // The first server segment after the second and third.
    let late_first = |n: usize| {
        let mut v = vec![1, 2, 0];
        v.extend(3..n);
        v
    };
    for port in [443, 8443, 2443] {
        for (what, order) in [
            ("in order", &in_order as &dyn Fn(usize) -> Vec<usize>),
            ("late first segment", &late_first),
        ] {
            let (segs, client, server) = handshake(port, order);
            let out = collect(&segs, client, server);
            let found = serials(&out);
            assert!(
                found.iter().any(|s| s == "24491f10703fea9b"),
                "port {port}, {what}: {found:?} {:?}",
                out.tls.iter().map(|s| &s.notes).collect::<Vec<_>>()
            );
        }
    }
}
