//! A TCP connection written packet by packet: three-way handshake, data cut at the MSS with
//! ACKs from the receiver, FIN or RST, unanswered or refused SYNs, and capture impairments
//! (a segment the capture missed, a retransmission, two segments swapped).

use super::{Host, MS, Side, Trace};
use crate::packet::TcpSpec;

/// What should go wrong with data segments, each named by `(sender, n)` where `n` counts
/// that sender's data segments from 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpImpair {
    /// Segments the capture does not hold (the receiver still got and ACKed them).
    pub missed: Vec<(Side, usize)>,
    /// Segments sent twice: the second copy after a retransmission timeout.
    pub retransmitted: Vec<(Side, usize)>,
    /// Segments captured after the one that follows them (out of order).
    pub swapped_with_next: Vec<(Side, usize)>,
}

/// One TCP connection between a phone and a server.
#[derive(Debug, Clone)]
pub struct TcpConn {
    client: (Host, u16),
    server: (Host, u16),
    /// Next sequence number of the client and of the server.
    seq: [u32; 2],
    /// Data segments sent so far by the client and by the server.
    sent: [usize; 2],
    mss: usize,
    /// One-way delay between the capture point (at the phone) and the server.
    pub server_delay: i64,
    /// Time the last packet was written.
    now: i64,
    impair: TcpImpair,
}

fn idx(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl TcpConn {
    /// A connection not yet opened. `isn_seed` picks the initial sequence numbers.
    pub fn new(client: (Host, u16), server: (Host, u16), isn_seed: u32, start: i64) -> Self {
        let c = isn_seed.wrapping_mul(2_654_435_761).wrapping_add(0x1000);
        let s = isn_seed.wrapping_mul(40_503).wrapping_add(0x7a00_0000) ^ 0x5bd1_e995;
        TcpConn {
            client,
            server,
            seq: [c, s],
            sent: [0, 0],
            mss: 1460,
            server_delay: 400_000,
            now: start,
            impair: TcpImpair::default(),
        }
    }

    /// Sets the MSS used to cut data (1460 on Ethernet IPv4, 1440 for IPv6).
    pub fn with_mss(mut self, mss: usize) -> Self {
        self.mss = mss.max(1);
        self
    }

    /// Sets the impairments.
    pub fn with_impair(mut self, impair: TcpImpair) -> Self {
        self.impair = impair;
        self
    }

    /// Time of the last packet written.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Lets time pass (the application thinking).
    pub fn wait(&mut self, dt: i64) {
        self.now += dt;
    }

    /// The client's endpoint.
    pub fn client(&self) -> (Host, u16) {
        self.client
    }

    /// The server's endpoint.
    pub fn server(&self) -> (Host, u16) {
        self.server
    }

    fn ends(&self, from: Side) -> ((&Host, u16), (&Host, u16)) {
        let c = (&self.client.0, self.client.1);
        let s = (&self.server.0, self.server.1);
        match from {
            Side::Client => (c, s),
            Side::Server => (s, c),
        }
    }

    fn emit(&self, trace: &mut Trace, ts: i64, from: Side, spec: TcpSpec, payload: &[u8]) {
        let (src, dst) = self.ends(from);
        trace.tcp(ts, src, dst, spec, payload);
    }

    /// Delay for a packet from `from` to cross to the other side of the capture point and
    /// come back: the capture is at the phone, so the phone's packets are seen at once and
    /// the server's answers a round trip later.
    fn rtt(&self) -> i64 {
        2 * self.server_delay
    }

    fn spec(&self, from: Side) -> TcpSpec {
        TcpSpec {
            seq: self.seq[idx(from)],
            ack: Some(self.seq[idx(from.other())]),
            window: match from {
                Side::Client => 29_200,
                Side::Server => 64_240,
            },
            ..Default::default()
        }
    }

    /// SYN, SYN-ACK, ACK.
    pub fn open(&mut self, trace: &mut Trace) {
        let mut syn = self.spec(Side::Client);
        syn.ack = None;
        syn.syn = true;
        self.emit(trace, self.now, Side::Client, syn, &[]);
        self.seq[0] = self.seq[0].wrapping_add(1);
        self.now += self.rtt();
        let mut synack = self.spec(Side::Server);
        synack.syn = true;
        self.emit(trace, self.now, Side::Server, synack, &[]);
        self.seq[1] = self.seq[1].wrapping_add(1);
        self.now += 80_000;
        self.emit(trace, self.now, Side::Client, self.spec(Side::Client), &[]);
    }

    /// A SYN that nobody answers: the first try and `retries` retransmissions with doubling
    /// timeouts (1 s, 2 s, 4 s…).
    pub fn syn_unanswered(&mut self, trace: &mut Trace, retries: u32) {
        let mut syn = self.spec(Side::Client);
        syn.ack = None;
        syn.syn = true;
        let mut timeout = 1000 * MS;
        for _ in 0..=retries {
            self.emit(trace, self.now, Side::Client, syn, &[]);
            self.now += timeout;
            timeout *= 2;
        }
    }

    /// A SYN answered by RST-ACK (nothing listens on the port).
    pub fn refused(&mut self, trace: &mut Trace) {
        let mut syn = self.spec(Side::Client);
        syn.ack = None;
        syn.syn = true;
        self.emit(trace, self.now, Side::Client, syn, &[]);
        self.now += self.rtt();
        let rst = TcpSpec {
            seq: 0,
            ack: Some(self.seq[0].wrapping_add(1)),
            rst: true,
            ..Default::default()
        };
        self.emit(trace, self.now, Side::Server, rst, &[]);
    }

    fn impaired(list: &[(Side, usize)], from: Side, n: usize) -> bool {
        list.iter().any(|&(s, i)| s == from && i == n)
    }

    /// Sends `data` from one side: segments of at most MSS bytes, PSH on the last, and the
    /// receiver's ACK after every second segment and after the last. The next call starts
    /// after the receiver's ACK has reached the capture point.
    pub fn send(&mut self, trace: &mut Trace, from: Side, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        // The server's data reaches the capture point one-way later than its ACK of the
        // request would; the phone's data is seen as it leaves.
        let per_segment = 12_000; // ~1 Gb/s with some stack latency
        if from == Side::Server {
            self.now += 250_000; // server processing
        }
        let chunks: Vec<&[u8]> = data.chunks(self.mss).collect();
        let mut pending: Option<(i64, TcpSpec, &[u8])> = None;
        for (i, chunk) in chunks.iter().enumerate() {
            let n = self.sent[idx(from)];
            self.sent[idx(from)] += 1;
            let mut spec = self.spec(from);
            spec.psh = i + 1 == chunks.len();
            self.now += per_segment;
            let ts = self.now;
            self.seq[idx(from)] = self.seq[idx(from)].wrapping_add(chunk.len() as u32);
            let missed = Self::impaired(&self.impair.missed, from, n);
            if Self::impaired(&self.impair.swapped_with_next, from, n) && i + 1 < chunks.len() {
                pending = Some((ts, spec, chunk));
            } else if !missed {
                self.emit(trace, ts, from, spec, chunk);
                if let Some((pts, pspec, pdata)) = pending.take() {
                    // The held segment shows up just after its successor.
                    self.emit(trace, ts.max(pts) + 3_000, from, pspec, pdata);
                }
            }
            if Self::impaired(&self.impair.retransmitted, from, n) {
                // The receiver's duplicate ACK, then the retransmission after the RTO.
                let dup_ack_ts = ts + self.rtt();
                let mut ack = self.spec(from.other());
                ack.ack = Some(spec.seq);
                self.emit(trace, dup_ack_ts, from.other(), ack, &[]);
                self.now = ts + 200 * MS;
                self.emit(trace, self.now, from, spec, chunk);
            }
            let ack_due = i % 2 == 1 || i + 1 == chunks.len();
            if ack_due {
                let ack_ts = if from == Side::Client {
                    self.now + self.rtt()
                } else {
                    self.now + 40_000
                };
                self.emit(trace, ack_ts, from.other(), self.spec(from.other()), &[]);
                if i + 1 == chunks.len() {
                    self.now = ack_ts;
                }
            }
        }
    }

    /// Orderly close: `first` sends FIN, the other side answers FIN-ACK, `first` ACKs.
    pub fn close(&mut self, trace: &mut Trace, first: Side) {
        let gap = |side: Side| if side == Side::Client { 0 } else { self.rtt() };
        self.now += 1_000_000 + gap(first);
        let mut fin = self.spec(first);
        fin.fin = true;
        self.emit(trace, self.now, first, fin, &[]);
        self.seq[idx(first)] = self.seq[idx(first)].wrapping_add(1);
        self.now += self.rtt() / 2 + 60_000;
        let mut fin2 = self.spec(first.other());
        fin2.fin = true;
        self.emit(trace, self.now, first.other(), fin2, &[]);
        self.seq[idx(first.other())] = self.seq[idx(first.other())].wrapping_add(1);
        self.now += self.rtt() / 2 + 40_000;
        self.emit(trace, self.now, first, self.spec(first), &[]);
    }

    /// Abortive close: `from` sends RST-ACK.
    pub fn reset(&mut self, trace: &mut Trace, from: Side) {
        self.now += 2 * MS;
        let mut rst = self.spec(from);
        rst.rst = true;
        self.emit(trace, self.now, from, rst, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{SlicedPacket, TransportSlice};

    fn hosts() -> (Host, Host) {
        (
            Host::new([2, 0, 0, 0, 0, 1], "192.0.2.10"),
            Host::new([2, 0, 0, 0, 0, 2], "198.51.100.10"),
        )
    }

    fn segments(trace: Trace) -> Vec<(u16, u32, usize, bool, bool, bool)> {
        trace
            .finish()
            .iter()
            .map(|p| {
                let s = SlicedPacket::from_ip(&p.ip).expect("ip");
                let Some(TransportSlice::Tcp(t)) = s.transport else {
                    panic!("tcp")
                };
                (
                    t.source_port(),
                    t.sequence_number(),
                    t.payload().len(),
                    t.syn(),
                    t.fin(),
                    t.rst(),
                )
            })
            .collect()
    }

    #[test]
    fn data_is_cut_at_mss_and_sequence_advances() {
        let (a, b) = hosts();
        let mut t = Trace::new();
        let mut c = TcpConn::new((a, 50000), (b, 6970), 1, 0);
        c.open(&mut t);
        c.send(&mut t, Side::Client, b"GET / HTTP/1.1\r\n\r\n");
        c.send(&mut t, Side::Server, &vec![1u8; 4000]);
        c.close(&mut t, Side::Server);
        let segs = segments(t);
        let server_data: Vec<_> = segs
            .iter()
            .filter(|s| s.0 == 6970 && s.2 > 0)
            .map(|s| s.2)
            .collect();
        assert_eq!(server_data, vec![1460, 1460, 1080]);
        let seqs: Vec<u32> = segs
            .iter()
            .filter(|s| s.0 == 6970 && s.2 > 0)
            .map(|s| s.1)
            .collect();
        assert_eq!(seqs[1].wrapping_sub(seqs[0]), 1460);
        assert_eq!(segs.iter().filter(|s| s.4).count(), 2, "two FINs");
        assert!(segs[0].3 && segs[1].3, "SYN then SYN-ACK first");
    }

    #[test]
    fn impairments_drop_repeat_and_swap() {
        let (a, b) = hosts();
        let data = vec![9u8; 1460 * 4];
        let run = |impair: TcpImpair| {
            let mut t = Trace::new();
            let mut c = TcpConn::new((a, 50000), (b, 2445), 1, 0).with_impair(impair);
            c.open(&mut t);
            c.send(&mut t, Side::Server, &data);
            segments(t)
                .into_iter()
                .filter(|s| s.0 == 2445 && s.2 > 0)
                .map(|s| s.1)
                .collect::<Vec<_>>()
        };
        let clean = run(TcpImpair::default());
        assert_eq!(clean.len(), 4);
        let missed = run(TcpImpair {
            missed: vec![(Side::Server, 1)],
            ..Default::default()
        });
        assert_eq!(missed, vec![clean[0], clean[2], clean[3]]);
        let repeated = run(TcpImpair {
            retransmitted: vec![(Side::Server, 2)],
            ..Default::default()
        });
        assert_eq!(
            repeated,
            vec![clean[0], clean[1], clean[2], clean[2], clean[3]]
        );
        let swapped = run(TcpImpair {
            swapped_with_next: vec![(Side::Server, 0)],
            ..Default::default()
        });
        assert_eq!(swapped, vec![clean[1], clean[0], clean[2], clean[3]]);
    }

    #[test]
    fn unanswered_and_refused() {
        let (a, b) = hosts();
        let mut t = Trace::new();
        TcpConn::new((a, 50000), (b, 2445), 1, 0).syn_unanswered(&mut t, 2);
        let segs = segments(t);
        assert_eq!(segs.len(), 3);
        assert!(segs.iter().all(|s| s.3));
        let mut t = Trace::new();
        TcpConn::new((a, 50001), (b, 2445), 1, 0).refused(&mut t);
        let segs = segments(t);
        assert!(segs[0].3 && segs[1].5);
    }
}
