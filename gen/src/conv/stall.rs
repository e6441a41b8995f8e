//! Downloads that stall mid-transfer as the phone's port sees them when the path to the
//! server drops full-size frames (a tunnel or trunk with a smaller MTU, ICMP
//! fragmentation-needed filtered): the small packets arrive, the 1500-byte ones never do.
//!
//! * HTTP: the response head and the first small piece of the body arrive in one short
//!   segment; the full-size segments after it never reach the phone, whose ACK stays where it
//!   was; after its timeout the phone resets the connection.
//! * TFTP with `blksize 1468` (a 1500-byte IP packet per block): the OACK arrives, block 1
//!   never does; the phone resends ACK 0 a few times, then gives up silently.

use super::http::{HttpAnswer, HttpGet};
use super::tcp::{TcpConn, TcpImpair};
use super::tftp::opcode;
use super::{Host, MS, SEC, Side, Trace};

/// Block size whose DATA packets are exactly 1500 bytes of IP (1468 + 4 + 8 + 20).
pub const FULL_FRAME_BLKSIZE: usize = 1468;

/// An HTTP GET whose body stops after `delivered` bytes.
#[derive(Debug, Clone)]
pub struct HttpStall {
    /// The phone and its port.
    pub client: (Host, u16),
    /// The server (port 6970).
    pub server: (Host, u16),
    /// Requested path without `/`.
    pub path: String,
    /// The phone's `User-Agent`.
    pub user_agent: String,
    /// The whole file the server sends (its length is the Content-Length).
    pub body: Vec<u8>,
    /// Body bytes that arrive with the head in the first, short segment.
    pub delivered: usize,
    /// Initial sequence seed.
    pub isn_seed: u32,
    /// How long the phone waits before it resets the connection.
    pub timeout: i64,
}

impl HttpStall {
    /// Writes the stalled exchange from `start`; returns the time of its last packet.
    pub fn write(&self, trace: &mut Trace, start: i64) -> i64 {
        let mut conn = TcpConn::new(self.client, self.server, self.isn_seed, start).with_mss(1460);
        conn.open(trace);
        let get = HttpGet {
            client: self.client,
            server: self.server,
            path: self.path.clone(),
            user_agent: self.user_agent.clone(),
            answer: HttpAnswer::ok(self.body.clone()),
            isn_seed: self.isn_seed,
            impair: TcpImpair::default(),
        };
        conn.send(trace, Side::Client, &get.request());
        let response = get.answer.encode();
        let head_len = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(response.len(), |p| p + 4);
        let first = (head_len + self.delivered).min(response.len());
        conn.send(trace, Side::Server, &response[..first]);
        // The rest travels in full-size segments that are dropped before the phone's port.
        conn.wait(self.timeout);
        conn.reset(trace, Side::Client);
        conn.now()
    }
}

/// A TFTP read with a full-frame block size whose DATA blocks never arrive.
#[derive(Debug, Clone)]
pub struct TftpStall {
    /// The phone and its source port.
    pub client: (Host, u16),
    /// The TFTP server.
    pub server: Host,
    /// The server's transfer port.
    pub server_port: u16,
    /// Requested name.
    pub name: String,
    /// Size the server announces in its OACK (`tsize`).
    pub size: usize,
    /// ACK 0 resends after the first, one per timeout.
    pub retries: u32,
}

fn ack(block: u16) -> Vec<u8> {
    let mut p = opcode::ACK.to_be_bytes().to_vec();
    p.extend_from_slice(&block.to_be_bytes());
    p
}

impl TftpStall {
    /// Writes the stalled transfer from `start`; returns the time of its last packet.
    pub fn write(&self, trace: &mut Trace, start: i64) -> i64 {
        let phone = (&self.client.0, self.client.1);
        let server = (&self.server, self.server_port);
        let mut rrq = opcode::RRQ.to_be_bytes().to_vec();
        rrq.extend_from_slice(self.name.as_bytes());
        rrq.extend_from_slice(b"\0octet\0blksize\0");
        rrq.extend_from_slice(FULL_FRAME_BLKSIZE.to_string().as_bytes());
        rrq.extend_from_slice(b"\0tsize\x000\0");
        let mut t = start;
        trace.udp(t, phone, (&self.server, 69), &rrq);
        t += 2 * MS;
        let mut oack = opcode::OACK.to_be_bytes().to_vec();
        oack.extend_from_slice(b"blksize\0");
        oack.extend_from_slice(FULL_FRAME_BLKSIZE.to_string().as_bytes());
        oack.extend_from_slice(b"\0tsize\0");
        oack.extend_from_slice(self.size.to_string().as_bytes());
        oack.push(0);
        trace.udp(t, server, phone, &oack);
        t += 150_000;
        trace.udp(t, phone, server, &ack(0));
        for _ in 0..self.retries {
            t += 2 * SEC;
            trace.udp(t, phone, server, &ack(0));
        }
        t + 2 * SEC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> (Host, Host) {
        (
            Host::new([2; 6], "192.0.2.30"),
            Host::new([4; 6], "198.51.100.10"),
        )
    }

    #[test]
    fn tftp_stall_never_sends_a_data_block() {
        let (phone, server) = hosts();
        let mut trace = Trace::new();
        let s = TftpStall {
            client: (phone, 50000),
            server,
            server_port: 30000,
            name: "ITLSEP0011.tlv".into(),
            size: 4619,
            retries: 2,
        };
        let end = s.write(&mut trace, 0);
        assert!(end >= 4 * SEC);
        let packets = trace.finish();
        // RRQ, OACK, ACK 0 and two resends; no DATA (opcode 3) ever.
        assert_eq!(packets.len(), 5);
        for p in &packets {
            let udp = &p.ip[20 + 8..];
            assert_ne!(&udp[..2], &opcode::DATA.to_be_bytes());
        }
    }

    #[test]
    fn http_stall_delivers_the_head_and_a_piece() {
        let (phone, server) = hosts();
        let mut trace = Trace::new();
        let s = HttpStall {
            client: (phone, 50001),
            server: (server, 6970),
            path: "ITLSEP0011.tlv".into(),
            user_agent: "Cisco-CP8845/14.2.1".into(),
            body: vec![7; 5000],
            delivered: 300,
            isn_seed: 9,
            timeout: 10 * SEC,
        };
        let end = s.write(&mut trace, 0);
        assert!(end >= 10 * SEC);
        let packets = trace.finish();
        let largest = packets.iter().map(|p| p.ip.len()).max().unwrap_or(0);
        assert!(
            largest < 1500,
            "no full-size frame reaches the phone: {largest}"
        );
    }
}
