//! Builders of `net::Packet` sequences for the reassembly tests.
#![allow(dead_code)]

use itlscope::capture::Timestamp;
use itlscope::net::{Packet, TcpFlags, TcpSegment, Transport};
use itlscope::proto::{Collected, Collector, CollectorConfig};
use std::net::SocketAddr;

/// An owned packet (frame numbers are given when the list is run).
#[derive(Debug, Clone)]
pub struct Pkt {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub tcp: Option<(u32, TcpFlags)>,
    pub payload: Vec<u8>,
    pub truncated: bool,
}

impl Pkt {
    pub fn packet(&self, frame: u64) -> Packet<'_> {
        let transport = match self.tcp {
            Some((seq, flags)) => Transport::Tcp(TcpSegment {
                src_port: self.src.port(),
                dst_port: self.dst.port(),
                seq,
                ack: 0,
                flags,
                window: 65535,
                payload: &self.payload,
            }),
            None => Transport::Udp {
                src_port: self.src.port(),
                dst_port: self.dst.port(),
                payload: &self.payload,
            },
        };
        Packet {
            frame,
            ts: Timestamp(frame as i64 * 1_000_000),
            src: self.src.ip(),
            dst: self.dst.ip(),
            vlan: None,
            transport,
            truncated: self.truncated,
        }
    }
}

pub fn udp(src: &str, dst: &str, payload: Vec<u8>) -> Pkt {
    Pkt {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        tcp: None,
        payload,
        truncated: false,
    }
}

/// Runs packets (frame = position + 1) through a collector.
pub fn run(pkts: &[Pkt], config: CollectorConfig) -> Collected {
    let mut c = Collector::new(config);
    for (i, p) in pkts.iter().enumerate() {
        c.packet(&p.packet(i as u64 + 1));
    }
    c.finish()
}

pub fn flags(syn: bool, ack: bool, fin: bool, rst: bool) -> TcpFlags {
    TcpFlags {
        syn,
        ack,
        fin,
        rst,
        psh: false,
    }
}

/// A TCP conversation written packet by packet.
pub struct Conv {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub cseq: u32,
    pub sseq: u32,
    pub pkts: Vec<Pkt>,
}

impl Conv {
    pub fn new(client: &str, server: &str, cisn: u32, sisn: u32) -> Self {
        Conv {
            client: client.parse().unwrap(),
            server: server.parse().unwrap(),
            cseq: cisn,
            sseq: sisn,
            pkts: Vec::new(),
        }
    }
    fn push(&mut self, from_client: bool, seq: u32, f: TcpFlags, payload: &[u8]) {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        self.pkts.push(Pkt {
            src,
            dst,
            tcp: Some((seq, f)),
            payload: payload.to_vec(),
            truncated: false,
        });
    }
    pub fn syn(&mut self) {
        self.push(true, self.cseq, flags(true, false, false, false), &[]);
    }
    pub fn synack(&mut self) {
        self.push(false, self.sseq, flags(true, true, false, false), &[]);
    }
    /// SYN, SYN-ACK, ACK.
    pub fn open(&mut self) {
        self.syn();
        self.synack();
        self.cseq = self.cseq.wrapping_add(1);
        self.sseq = self.sseq.wrapping_add(1);
        self.push(true, self.cseq, flags(false, true, false, false), &[]);
    }
    /// Sends `data` from one side in segments of `mss` bytes.
    pub fn send(&mut self, from_client: bool, data: &[u8], mss: usize) {
        for chunk in data.chunks(mss.max(1)) {
            let seq = if from_client { self.cseq } else { self.sseq };
            self.push(from_client, seq, flags(false, true, false, false), chunk);
            if from_client {
                self.cseq = self.cseq.wrapping_add(chunk.len() as u32);
            } else {
                self.sseq = self.sseq.wrapping_add(chunk.len() as u32);
            }
        }
    }
    pub fn fin(&mut self, from_client: bool) {
        let seq = if from_client { self.cseq } else { self.sseq };
        self.push(from_client, seq, flags(false, true, true, false), &[]);
        if from_client {
            self.cseq = self.cseq.wrapping_add(1);
        } else {
            self.sseq = self.sseq.wrapping_add(1);
        }
    }
    pub fn rst(&mut self, from_client: bool) {
        let seq = if from_client { self.cseq } else { self.sseq };
        self.push(from_client, seq, flags(false, true, false, true), &[]);
    }
}

/// The certificates of the genuine CUCM CTL in tests/fixtures (six DER certificates).
pub fn ctl_certs() -> Vec<Vec<u8>> {
    let ctl = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv"
    ))
    .expect("sample CTL");
    let parsed = itlscope::cisco::trustlist::parse_trust_list(&ctl).expect("genuine CTL parses");
    let certs: Vec<Vec<u8>> = parsed
        .records
        .iter()
        .filter_map(|r| r.certificate.map(<[u8]>::to_vec))
        .collect();
    assert!(certs.len() >= 6, "found {} certificates", certs.len());
    certs
}

/// Adapters from the shapes these tests use onto the scenario generator's TLS builders.
#[allow(unused_imports)] // each test binary uses a different subset
pub mod tls {
    use itlscope_gen::filler::Filler;
    use itlscope_gen::tls::{ClientHello, ServerHello, opaque_record};
    pub use itlscope_gen::tls::{
        alert, certificate, change_cipher_spec, handshake, records, server_hello_done,
    };

    /// Record content types.
    pub mod content {
        pub use itlscope_gen::tls::content_type::*;
    }

    /// A ClientHello with exactly these suites and `supported_versions`.
    pub fn client_hello(
        legacy: u16,
        suites: &[u16],
        versions: &[u16],
        sni: Option<&str>,
    ) -> Vec<u8> {
        let mut hello = ClientHello::tls12(1, legacy, sni);
        hello.cipher_suites = suites.to_vec();
        hello.supported_versions = versions.to_vec();
        hello.encode()
    }

    /// A ServerHello choosing `suite`, with `supported_versions` when given (TLS 1.3).
    pub fn server_hello(legacy: u16, suite: u16, selected: Option<u16>) -> Vec<u8> {
        let mut hello = ServerHello::tls12(1, legacy, suite);
        hello.selected_version = selected;
        hello.encode()
    }

    /// One record of `len` opaque bytes.
    pub fn opaque(content_type: u8, version: u16, len: usize) -> Vec<u8> {
        opaque_record(content_type, version, len, &mut Filler::new(7))
    }
}
