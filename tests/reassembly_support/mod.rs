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
