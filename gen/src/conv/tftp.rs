//! A TFTP read transfer (RFC 1350, with RFC 2347/2348/2349 options): RRQ to port 69, the
//! server answering from its own ephemeral port, DATA blocks and the phone's ACKs, OACK when
//! options were asked for and accepted, ERROR "File not found" for a missing file; plus
//! capture impairments (a DATA block the capture missed, a block the server had to resend).

use super::{Host, MS, Trace};

/// TFTP opcodes.
pub mod opcode {
    /// Read request.
    pub const RRQ: u16 = 1;
    /// Write request.
    pub const WRQ: u16 = 2;
    /// Data.
    pub const DATA: u16 = 3;
    /// Acknowledgment.
    pub const ACK: u16 = 4;
    /// Error.
    pub const ERROR: u16 = 5;
    /// Option acknowledgment.
    pub const OACK: u16 = 6;
}

/// How the server answers the read request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TftpAnswer {
    /// The file, sent in blocks.
    File(Vec<u8>),
    /// An ERROR packet with this code and message (1, "File not found" for a missing file).
    Error(u16, String),
}

/// One read transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpRead {
    /// The phone and its source port.
    pub client: (Host, u16),
    /// The TFTP server (the request goes to port 69).
    pub server: Host,
    /// The server's transfer port (its new TID).
    pub server_port: u16,
    /// Requested file name.
    pub name: String,
    /// Options the phone asks for (e.g. `("blksize", "8192")`, `("tsize", "0")`); empty for
    /// the plain RFC 1350 request old phones send.
    pub options: Vec<(String, String)>,
    /// What the server sends.
    pub answer: TftpAnswer,
    /// DATA block numbers the capture does not hold (the phone still got and ACKed them).
    pub missed_blocks: Vec<u16>,
    /// DATA block numbers the server sends twice (the first ACK was lost beyond the capture
    /// point, so the server times out and resends; the phone ACKs again).
    pub resent_blocks: Vec<u16>,
    /// One-way delay between the capture point and the server.
    pub server_delay: i64,
}

impl TftpRead {
    /// A plain 512-byte-block read of `name` with no options.
    pub fn new(
        client: (Host, u16),
        server: Host,
        server_port: u16,
        name: &str,
        answer: TftpAnswer,
    ) -> Self {
        TftpRead {
            client,
            server,
            server_port,
            name: name.to_owned(),
            options: Vec::new(),
            answer,
            missed_blocks: Vec::new(),
            resent_blocks: Vec::new(),
            server_delay: 400_000,
        }
    }

    /// Adds an option to the request.
    pub fn option(mut self, name: &str, value: &str) -> Self {
        self.options.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The block size in use: the accepted `blksize` option, else 512.
    pub fn block_size(&self) -> usize {
        self.options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("blksize"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .filter(|b| (8..=65464).contains(b))
            .unwrap_or(512)
    }

    /// The read request payload.
    pub fn request_payload(&self) -> Vec<u8> {
        let mut p = opcode::RRQ.to_be_bytes().to_vec();
        p.extend_from_slice(self.name.as_bytes());
        p.push(0);
        p.extend_from_slice(b"octet\0");
        for (k, v) in &self.options {
            p.extend_from_slice(k.as_bytes());
            p.push(0);
            p.extend_from_slice(v.as_bytes());
            p.push(0);
        }
        p
    }

    /// Writes the transfer starting at `start`; returns the time of its last packet.
    pub fn write(&self, trace: &mut Trace, start: i64) -> i64 {
        let phone = (&self.client.0, self.client.1);
        let server69 = (&self.server, 69);
        let server = (&self.server, self.server_port);
        let rtt = 2 * self.server_delay;
        let mut t = start;
        trace.udp(t, phone, server69, &self.request_payload());
        t += rtt + 1_200_000; // the TFTP service looks the file up
        let data = match &self.answer {
            TftpAnswer::Error(code, msg) => {
                let mut p = opcode::ERROR.to_be_bytes().to_vec();
                p.extend_from_slice(&code.to_be_bytes());
                p.extend_from_slice(msg.as_bytes());
                p.push(0);
                trace.udp(t, server, phone, &p);
                return t;
            }
            TftpAnswer::File(data) => data,
        };
        if !self.options.is_empty() {
            let mut p = opcode::OACK.to_be_bytes().to_vec();
            for (k, v) in &self.options {
                let value = if k.eq_ignore_ascii_case("tsize") {
                    data.len().to_string()
                } else {
                    v.clone()
                };
                p.extend_from_slice(k.as_bytes());
                p.push(0);
                p.extend_from_slice(value.as_bytes());
                p.push(0);
            }
            trace.udp(t, server, phone, &p);
            t += 150_000;
            trace.udp(t, phone, server, &ack(0));
            t += rtt;
        }
        let bs = self.block_size();
        // A file whose size is a multiple of the block size ends with an empty block.
        let blocks = data.len() / bs + 1;
        for i in 0..blocks {
            let block = ((i + 1) % 65536) as u16;
            let start_byte = i * bs;
            let chunk = &data[start_byte.min(data.len())..(start_byte + bs).min(data.len())];
            let mut p = opcode::DATA.to_be_bytes().to_vec();
            p.extend_from_slice(&block.to_be_bytes());
            p.extend_from_slice(chunk);
            if !self.missed_blocks.contains(&block) {
                trace.udp(t, server, phone, &p);
            }
            t += 150_000;
            trace.udp(t, phone, server, &ack(block));
            if self.resent_blocks.contains(&block) {
                t += 1000 * MS; // server retransmission timeout
                trace.udp(t, server, phone, &p);
                t += 150_000;
                trace.udp(t, phone, server, &ack(block));
            }
            if i + 1 < blocks {
                t += rtt + 60_000;
            }
        }
        t
    }
}

fn ack(block: u16) -> Vec<u8> {
    let mut p = opcode::ACK.to_be_bytes().to_vec();
    p.extend_from_slice(&block.to_be_bytes());
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{SlicedPacket, TransportSlice};

    fn udp_payloads(trace: Trace) -> Vec<(u16, u16, Vec<u8>)> {
        let mut pool = etherparse::defrag::IpDefragPool::<u64, ()>::new();
        let mut out = Vec::new();
        for p in trace.finish() {
            let s = SlicedPacket::from_ip(&p.ip).expect("ip");
            let whole = if s.is_ip_payload_fragmented() {
                match pool.process_sliced_packet(&s, 0, ()).expect("defrag") {
                    Some(d) => d.payload,
                    None => continue,
                }
            } else {
                match s.transport {
                    Some(TransportSlice::Udp(u)) => {
                        out.push((u.source_port(), u.destination_port(), u.payload().to_vec()));
                    }
                    _ => panic!("udp"),
                }
                continue;
            };
            let sport = u16::from_be_bytes([whole[0], whole[1]]);
            let dport = u16::from_be_bytes([whole[2], whole[3]]);
            out.push((sport, dport, whole[8..].to_vec()));
        }
        out
    }

    fn hosts() -> (Host, Host) {
        (
            Host::new([2, 0, 0, 0, 0, 1], "192.0.2.10"),
            Host::new([2, 0, 0, 0, 0, 2], "198.51.100.10"),
        )
    }

    #[test]
    fn plain_read_uses_512_byte_blocks_from_an_ephemeral_port() {
        let (a, b) = hosts();
        let file: Vec<u8> = (0..1100u32).map(|i| i as u8).collect();
        let r = TftpRead::new(
            (a, 49152),
            b,
            35000,
            "ITLSEP00112233AABB.tlv",
            TftpAnswer::File(file.clone()),
        );
        let mut t = Trace::new();
        r.write(&mut t, 0);
        let p = udp_payloads(t);
        assert_eq!(p[0].1, 69);
        assert_eq!(&p[0].2[..2], &[0, 1]);
        assert!(p[0].2.ends_with(b"ITLSEP00112233AABB.tlv\0octet\0"));
        let data: Vec<_> = p.iter().filter(|x| x.0 == 35000).collect();
        assert_eq!(data.len(), 3);
        assert_eq!(data[0].2.len(), 516);
        assert_eq!(data[2].2.len(), 4 + 76);
        let joined: Vec<u8> = data.iter().flat_map(|d| d.2[4..].to_vec()).collect();
        assert_eq!(joined, file);
        assert_eq!(p.iter().filter(|x| x.1 == 35000).count(), 3, "three ACKs");
    }

    #[test]
    fn oack_blksize_and_fragmented_blocks() {
        let (a, b) = hosts();
        let file = vec![0xabu8; 20000];
        let r = TftpRead::new(
            (a, 49152),
            b,
            35001,
            "SEP00112233AABB.cnf.xml.sgn",
            TftpAnswer::File(file),
        )
        .option("blksize", "8192")
        .option("tsize", "0");
        let mut t = Trace::new();
        r.write(&mut t, 0);
        let p = udp_payloads(t);
        let oack = &p[1].2;
        assert_eq!(&oack[..2], &[0, 6]);
        assert!(oack.windows(6).any(|w| w == b"20000\0"));
        let sizes: Vec<usize> = p
            .iter()
            .filter(|x| x.0 == 35001 && x.2[1] == 3)
            .map(|x| x.2.len())
            .collect();
        assert_eq!(sizes, vec![8196, 8196, 4 + 3616]);
    }

    #[test]
    fn error_and_impairments() {
        let (a, b) = hosts();
        let r = TftpRead::new(
            (a, 49152),
            b,
            35002,
            "CTLSEP00112233AABB.tlv",
            TftpAnswer::Error(1, "File not found".into()),
        );
        let mut t = Trace::new();
        r.write(&mut t, 0);
        let p = udp_payloads(t);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].2, b"\0\x05\0\x01File not found\0");
        let mut r = TftpRead::new((a, 49152), b, 35003, "x", TftpAnswer::File(vec![1; 2000]));
        r.missed_blocks = vec![2];
        r.resent_blocks = vec![3];
        let mut t = Trace::new();
        r.write(&mut t, 0);
        let blocks: Vec<u8> = udp_payloads(t)
            .iter()
            .filter(|x| x.0 == 35003)
            .map(|x| x.2[3])
            .collect();
        assert_eq!(blocks, vec![1, 3, 3, 4]);
    }
}
