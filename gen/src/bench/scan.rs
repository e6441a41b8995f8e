//! Half-open connections for the flow-churn mix: a scanner (or a worm, or a misconfigured
//! monitoring host) sending SYNs to many addresses and ports. Most go unanswered, some get a
//! SYN-ACK the scanner never acknowledges, a few a RST. Every SYN is a new connection for
//! the analyzer's flow table: hundreds of thousands per GiB, none of them ever closed.

use crate::filler::Filler;
use crate::packet::{TcpSpec, ip_tcp};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Ports a scanner tries most (web, SSH, SMB, RDP, alternates); never a phone's ports.
const PORTS: [u16; 8] = [443, 80, 22, 445, 3389, 8080, 8443, 21];

/// One probe: the SYN and what answers it, as IP packets.
pub(super) fn probe(rng: &mut Filler) -> Vec<Vec<u8>> {
    let scanner = IpAddr::V4(Ipv4Addr::new(10, 66, 0, rng.range(2, 9) as u8));
    let client = SocketAddr::new(scanner, rng.range(1024, 65535) as u16);
    let target = IpAddr::V4(Ipv4Addr::new(
        10,
        rng.range(1, 40) as u8,
        rng.range(0, 255) as u8,
        rng.range(2, 254) as u8,
    ));
    let server = SocketAddr::new(target, PORTS[rng.range(0, PORTS.len() as u64 - 1) as usize]);
    let isn = rng.next_u64() as u32;
    let id = rng.next_u64() as u16;
    let syn = TcpSpec {
        seq: isn,
        syn: true,
        window: 1024,
        ..Default::default()
    };
    let mut packets = vec![ip_tcp(client, server, id, syn, &[])];
    match rng.range(0, 7) {
        // Open port: SYN-ACK, never acknowledged (half-open until the server gives up).
        0 | 1 => packets.push(ip_tcp(
            server,
            client,
            id.wrapping_add(1),
            TcpSpec {
                seq: rng.next_u64() as u32,
                ack: Some(isn.wrapping_add(1)),
                syn: true,
                window: super::WINDOW,
                ..Default::default()
            },
            &[],
        )),
        // Closed port.
        2 => packets.push(ip_tcp(
            server,
            client,
            id.wrapping_add(1),
            TcpSpec {
                seq: 0,
                ack: Some(isn.wrapping_add(1)),
                rst: true,
                ..Default::default()
            },
            &[],
        )),
        // Filtered: nothing comes back.
        _ => {}
    }
    packets
}
