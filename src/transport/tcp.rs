//! Per-direction TCP byte-stream reassembly.
//!
//! A [`HalfStream`] turns the segments one side sent (in capture order: possibly reordered,
//! duplicated, overlapping or lost) into the byte stream that side wrote, delivered in order
//! as [`StreamEvent`]s. Sequence numbers are unwrapped to 64-bit stream offsets, so streams
//! longer than 4 GiB and sequence wrap-around work. The first copy of a byte wins; a later
//! copy that differs is counted as a conflict. Bytes the capture never held are reported as
//! gaps (never invented) and the stream resynchronises after them.
//!
//! Memory is bounded: out-of-order bytes are held only up to a per-stream cap and a global
//! [`Budget`]; past either, the stream gives up waiting for the hole, reports it as a gap and
//! moves on.

use std::collections::BTreeMap;

/// What a [`HalfStream`] hands to its consumer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// This many bytes of the stream are missing from the capture; data after them follows.
    Gap(u64),
}

/// A global cap on out-of-order bytes held by all streams together.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Bytes currently held.
    pub used: usize,
    /// The cap.
    pub cap: usize,
    /// How many times a stream had to give up on a hole because the cap was reached.
    pub hits: u64,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Budget {
            used: 0,
            cap,
            hits: 0,
        }
    }
}

/// Anomaly counters of one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Missing byte ranges `[start, end)` in stream offsets (the first [`MAX_GAP_RANGES`]).
    pub gaps: Vec<(u64, u64)>,
    /// Total missing bytes.
    pub missing_bytes: u64,
    /// Bytes received more than once (retransmissions, overlaps).
    pub duplicate_bytes: u64,
    /// Overlapping bytes whose later copy differed from the first (first copy kept).
    pub conflicting_bytes: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order_segments: u64,
    /// Times the per-stream or global cap forced the stream past a hole.
    pub cap_hits: u64,
    /// Bytes that came from before the point where a mid-connection pickup started, after
    /// delivery had begun: lost to the analysis (counted in `missing_bytes` too).
    pub before_pickup_bytes: u64,
}

/// How many gap ranges a stream lists individually (the byte total is always exact).
pub const MAX_GAP_RANGES: usize = 64;

/// The least receive window [`HalfStream::accepts_rst`] allows around the sender's highest
/// sequence number (the largest window without the window-scale option).
pub const MIN_RST_WINDOW: i64 = 65_535;

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// Sequence number of stream offset 0 (ISN + 1 when the SYN was seen).
    base: Option<u32>,
    /// The base was guessed from the first data segment (no SYN) and nothing is delivered
    /// yet: that segment is held, and an earlier one may still move the base back.
    tentative: bool,
    /// Highest sequence number this side has used (end of data, SYN and FIN included).
    snd_max: Option<u32>,
    /// The receive window this side last advertised (for the other side's data).
    window: Option<u16>,
    /// Offset of the next byte to deliver.
    next: u64,
    /// Out-of-order data by offset; entries never overlap each other.
    pending: BTreeMap<u64, Vec<u8>>,
    /// Bytes held in `pending`.
    pending_bytes: usize,
    /// Anomalies.
    pub stats: StreamStats,
}

impl HalfStream {
    /// A stream that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records this side's SYN: data starts at `seq + 1`.
    pub fn syn(&mut self, seq: u32) {
        if self.next == 0 && self.pending.is_empty() {
            self.base = Some(seq.wrapping_add(1));
        }
    }

    /// Notes the sequence space a segment of this side used and the window it advertised,
    /// for [`Self::accepts_rst`]. Call it for every segment after checking an RST.
    pub fn observe(&mut self, seq: u32, len: usize, syn: bool, fin: bool, window: u16) {
        let end = seq
            .wrapping_add(len as u32)
            .wrapping_add(u32::from(syn) + u32::from(fin));
        // Truncation intended: sequence comparison modulo 2^32 (RFC 793).
        if self
            .snd_max
            .is_none_or(|m| (end.wrapping_sub(m) as i32) > 0)
        {
            self.snd_max = Some(end);
        }
        self.window = Some(window);
    }

    /// Whether an RST this side sent with sequence number `seq` is believable (RFC 5961
    /// §3.2, seen from outside): it must fall within the receiver's window around the
    /// highest sequence number this side used. `peer_window` is the window the receiver
    /// advertised; the window scale is not known to us, so at least [`MIN_RST_WINDOW`] is
    /// allowed on either side (a passive capture may have missed some of the sender's
    /// segments, or the receiver's acknowledgments). With nothing seen from this side yet,
    /// there is nothing to check against and the RST is accepted.
    pub fn accepts_rst(&self, seq: u32, peer_window: Option<u16>) -> bool {
        let Some(max) = self.snd_max else {
            return true;
        };
        let window = i64::from(peer_window.unwrap_or(0)).max(MIN_RST_WINDOW);
        // Truncation intended: signed distance modulo 2^32.
        let d = i64::from(seq.wrapping_sub(max) as i32);
        (-window..=window).contains(&d)
    }

    /// The receive window this side last advertised.
    pub fn advertised_window(&self) -> Option<u16> {
        self.window
    }

    /// True once the stream knows where it starts.
    pub fn started(&self) -> bool {
        self.base.is_some()
    }

    /// Offset of the next byte to deliver (= bytes delivered plus gaps).
    pub fn delivered(&self) -> u64 {
        self.next
    }

    /// Out-of-order bytes held.
    pub fn buffered(&self) -> usize {
        self.pending_bytes
    }

    /// The stream offset of sequence number `seq`, unwrapped near the delivery point.
    fn offset_of(&self, seq: u32, base: u32) -> i128 {
        let rel = seq.wrapping_sub(base);
        // Truncation intended: compare the low 32 bits, then extend by the signed distance.
        let diff = rel.wrapping_sub(self.next as u32) as i32;
        i128::from(self.next) + i128::from(diff)
    }

    /// Takes one segment. `cap` is the most out-of-order bytes this stream may hold.
    ///
    /// Without a SYN the stream starts at its first data segment; that segment is held
    /// until the next one (or [`Self::commit`]), so a capture that starts mid-connection
    /// with its first segments reordered still gets the earlier bytes.
    pub fn segment<F>(
        &mut self,
        seq: u32,
        payload: &[u8],
        cap: usize,
        budget: &mut Budget,
        sink: &mut F,
    ) where
        F: FnMut(StreamEvent<'_>),
    {
        if payload.is_empty() {
            return;
        }
        let Some(base) = self.base else {
            self.base = Some(seq);
            if payload.len() <= cap && budget.used + payload.len() <= budget.cap {
                self.tentative = true;
                self.pending.insert(0, payload.to_vec());
                self.pending_bytes += payload.len();
                budget.used += payload.len();
            } else {
                self.deliver_in_order(payload, budget, sink);
            }
            return;
        };
        let start = self.offset_of(seq, base);
        if self.tentative {
            self.tentative = false;
            if start < 0 && -start <= cap as i128 {
                // An earlier segment of a mid-connection pickup: the stream starts here.
                self.rebase(seq, (-start) as u64);
                self.deliver_in_order(payload, budget, sink);
                return;
            }
            self.drain_ready(None, budget, sink);
        }
        let end = start + payload.len() as i128;
        let next = i128::from(self.next);
        if end <= 0 {
            // Before where a mid-connection pickup started, and delivery has begun.
            self.lost_before_pickup(payload.len() as u64);
            return;
        }
        if end <= next {
            if start < 0 {
                self.lost_before_pickup((-start) as u64);
                self.stats.duplicate_bytes += end as u64;
            } else {
                self.stats.duplicate_bytes += payload.len() as u64;
            }
            return;
        }
        // Trim what was already delivered.
        let (start, payload) = if start < next {
            if start < 0 {
                self.lost_before_pickup((-start) as u64);
            }
            let skip = (next - start) as usize; // < payload.len() since end > next
            self.stats.duplicate_bytes += (next - start.max(0)) as u64;
            (self.next, payload.get(skip..).unwrap_or_default())
        } else {
            (start as u64, payload)
        };
        if start == self.next {
            self.deliver_in_order(payload, budget, sink);
        } else {
            self.stats.out_of_order_segments += 1;
            self.hold(start, payload, cap, budget, sink);
        }
    }

    /// Bytes from before the start of a mid-connection pickup arrived too late.
    fn lost_before_pickup(&mut self, n: u64) {
        self.stats.before_pickup_bytes += n;
        self.stats.missing_bytes += n;
    }

    /// Moves stream offset 0 back to `seq`, `by` bytes earlier (nothing delivered yet).
    fn rebase(&mut self, seq: u32, by: u64) {
        self.base = Some(seq);
        let held = std::mem::take(&mut self.pending);
        self.pending = held.into_iter().map(|(k, v)| (k + by, v)).collect();
    }

    /// Delivers a held first segment of a mid-connection pickup: the other side answered,
    /// so this side's bytes so far are due.
    pub fn commit<F>(&mut self, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if self.tentative {
            self.tentative = false;
            self.drain_ready(None, budget, sink);
        }
    }

    /// Delivers a segment that starts at `next`, letting earlier-held copies win overlaps.
    fn deliver_in_order<F>(&mut self, payload: &[u8], budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        let start = self.next;
        let end = start + payload.len() as u64;
        while self.next < end {
            self.drain_ready(Some((start, payload)), budget, sink);
            if self.next >= end {
                break;
            }
            let upto = match self.pending.keys().next() {
                Some(&s) if s < end => s,
                _ => end,
            };
            let from = (self.next - start) as usize;
            let to = (upto - start) as usize;
            if let Some(piece) = payload.get(from..to) {
                sink(StreamEvent::Data(piece));
            }
            self.next = upto;
        }
        self.drain_ready(None, budget, sink);
    }

    /// Delivers held entries that start at or before `next`. When `overlapping` is the
    /// in-order segment being delivered, the bytes it shares with an entry are compared.
    fn drain_ready<F>(
        &mut self,
        overlapping: Option<(u64, &[u8])>,
        budget: &mut Budget,
        sink: &mut F,
    ) where
        F: FnMut(StreamEvent<'_>),
    {
        while let Some(entry) = self.pending.first_entry() {
            let s = *entry.key();
            if s > self.next {
                break;
            }
            let data = entry.remove();
            self.pending_bytes -= data.len();
            budget.used = budget.used.saturating_sub(data.len());
            let e = s + data.len() as u64;
            if let Some((ps, p)) = overlapping {
                self.compare(s, &data, ps, p);
            }
            if e <= self.next {
                self.stats.duplicate_bytes += data.len() as u64;
                continue;
            }
            let skip = (self.next - s) as usize;
            self.stats.duplicate_bytes += skip as u64;
            if let Some(piece) = data.get(skip..) {
                sink(StreamEvent::Data(piece));
            }
            self.next = e;
        }
    }

    /// Counts differing bytes where `[a, a+x)` and `[b, b+y)` overlap.
    fn compare(&mut self, a: u64, x: &[u8], b: u64, y: &[u8]) {
        let lo = a.max(b);
        let hi = (a + x.len() as u64).min(b + y.len() as u64);
        if lo >= hi {
            return;
        }
        let xs = x
            .get((lo - a) as usize..(hi - a) as usize)
            .unwrap_or_default();
        let ys = y
            .get((lo - b) as usize..(hi - b) as usize)
            .unwrap_or_default();
        let differing = xs.iter().zip(ys).filter(|(p, q)| p != q).count();
        self.stats.conflicting_bytes += differing as u64;
    }

    /// Holds an out-of-order segment (first copy wins), within the caps.
    fn hold<F>(&mut self, start: u64, payload: &[u8], cap: usize, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        let end = start + payload.len() as u64;
        // Existing entries overlapping [start, end), ascending.
        let mut overlaps: Vec<(u64, u64)> = self
            .pending
            .range(..end)
            .rev()
            .take_while(|(s, d)| **s + d.len() as u64 > start)
            .map(|(s, d)| (*s, *s + d.len() as u64))
            .collect();
        overlaps.reverse();
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        let mut pos = start;
        for (s, e) in &overlaps {
            if pos < *s {
                pieces.push((pos, (*s).min(end)));
            }
            if let Some(existing) = self.pending.get(s) {
                let existing = existing.clone();
                self.compare(*s, &existing, start, payload);
                self.stats.duplicate_bytes += (*e).min(end) - (*s).max(start);
            }
            pos = pos.max(*e);
        }
        if pos < end {
            pieces.push((pos, end));
        }
        for (s, e) in pieces {
            let len = (e - s) as usize;
            while self.pending_bytes + len > cap || budget.used + len > budget.cap {
                if self.pending.is_empty() {
                    break;
                }
                self.stats.cap_hits += 1;
                budget.hits += 1;
                self.skip_to_first_held(budget, sink);
            }
            if s < self.next {
                // Skipping delivered past this piece's start: deliver what is new of it.
                if e > self.next {
                    let from = (self.next - start) as usize;
                    let to = (e - start) as usize;
                    if let Some(piece) = payload.get(from..to) {
                        self.deliver_in_order(piece, budget, sink);
                    }
                }
                continue;
            }
            if self.pending_bytes + len > cap || budget.used + len > budget.cap {
                // Nothing held and still no room (cap smaller than one segment): give up on
                // the hole before this piece.
                self.stats.cap_hits += 1;
                budget.hits += 1;
                self.gap_to(s, sink);
                if let Some(piece) = payload.get((s - start) as usize..(e - start) as usize) {
                    self.deliver_in_order(piece, budget, sink);
                }
                continue;
            }
            if let Some(piece) = payload.get((s - start) as usize..(e - start) as usize) {
                self.pending.insert(s, piece.to_vec());
                self.pending_bytes += len;
                budget.used += len;
            }
        }
    }

    /// Reports the bytes up to `to` as missing and moves past them.
    fn gap_to<F>(&mut self, to: u64, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if to <= self.next {
            return;
        }
        let len = to - self.next;
        if self.stats.gaps.len() < MAX_GAP_RANGES {
            self.stats.gaps.push((self.next, to));
        }
        self.stats.missing_bytes += len;
        sink(StreamEvent::Gap(len));
        self.next = to;
    }

    /// Gives up on the hole before the first held entry and delivers what follows it.
    fn skip_to_first_held<F>(&mut self, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if let Some(&s) = self.pending.keys().next() {
            self.gap_to(s, sink);
            self.drain_ready(None, budget, sink);
        }
    }

    /// Delivers everything held, reporting holes as gaps (end of connection or capture).
    pub fn flush<F>(&mut self, budget: &mut Budget, sink: &mut F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        self.tentative = false;
        while !self.pending.is_empty() {
            self.skip_to_first_held(budget, sink);
        }
    }

    /// Reports bytes known to be missing at the end of the stream (e.g. before a FIN at
    /// `fin_seq`) as a final gap.
    pub fn missing_before(&mut self, fin_seq: u32) -> Option<u64> {
        let base = self.base?;
        let off = self.offset_of(fin_seq, base);
        let next = i128::from(self.next);
        if off > next {
            Some((off - next) as u64)
        } else {
            None
        }
    }

    /// Releases held bytes back to the budget (the connection is being dropped).
    pub fn release(&mut self, budget: &mut Budget) {
        budget.used = budget.used.saturating_sub(self.pending_bytes);
        self.pending_bytes = 0;
        self.pending.clear();
        self.tentative = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds segments and returns (bytes delivered, gaps reported, stats).
    fn run(
        isn: Option<u32>,
        segs: &[(u32, Vec<u8>)],
        cap: usize,
    ) -> (Vec<u8>, Vec<u64>, StreamStats) {
        let mut s = HalfStream::new();
        if let Some(i) = isn {
            s.syn(i);
        }
        let mut budget = Budget::new(usize::MAX);
        let mut out = Vec::new();
        let mut gaps = Vec::new();
        let mut sink = |ev: StreamEvent<'_>| match ev {
            StreamEvent::Data(d) => out.extend_from_slice(d),
            StreamEvent::Gap(n) => gaps.push(n),
        };
        for (seq, p) in segs {
            s.segment(*seq, p, cap, &mut budget, &mut sink);
        }
        s.flush(&mut budget, &mut sink);
        assert_eq!(budget.used, 0);
        (out, gaps, s.stats)
    }

    fn split(isn: u32, data: &[u8], size: usize) -> Vec<(u32, Vec<u8>)> {
        data.chunks(size)
            .enumerate()
            .map(|(i, c)| {
                (
                    isn.wrapping_add(1).wrapping_add((i * size) as u32),
                    c.to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn in_order_and_reordered_give_the_stream() {
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut segs = split(100, &data, 90);
        assert_eq!(run(Some(100), &segs, 1 << 20).0, data);
        segs.swap(1, 4);
        segs.swap(2, 7);
        let (out, gaps, stats) = run(Some(100), &segs, 1 << 20);
        assert_eq!(out, data);
        assert!(gaps.is_empty());
        assert!(stats.out_of_order_segments > 0);
    }

    #[test]
    fn sequence_wraps_around() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let isn = u32::MAX - 1200;
        let mut segs = split(isn, &data, 700);
        segs.reverse();
        let (out, gaps, _) = run(Some(isn), &segs, 1 << 20);
        assert_eq!(out, data);
        assert!(gaps.is_empty());
    }

    #[test]
    fn retransmission_and_conflicting_overlap_first_copy_wins() {
        let isn = 10;
        let segs = vec![
            (11, b"hello ".to_vec()),
            (11, b"hello ".to_vec()),
            (23, b"world!".to_vec()), // ahead of a hole
            (20, b"XXXXXX".to_vec()), // fills the hole, overlaps "wor" with "XXX"
        ];
        let (out, gaps, stats) = run(Some(isn), &segs, 1 << 20);
        // The hole [6, 9) was never sent: reported as a gap, never zero-filled.
        assert_eq!(out, b"hello XXXworld!");
        assert_eq!(gaps, vec![3]);
        assert_eq!(stats.conflicting_bytes, 3);
        assert!(stats.duplicate_bytes >= 9);
    }

    #[test]
    fn gap_is_reported_and_stream_resyncs() {
        let segs = vec![(1, b"abc".to_vec()), (10, b"xyz".to_vec())];
        let (out, gaps, stats) = run(Some(0), &segs, 1 << 20);
        assert_eq!(out, b"abcxyz");
        assert_eq!(gaps, vec![6]);
        assert_eq!(stats.gaps, vec![(3, 9)]);
        assert_eq!(stats.missing_bytes, 6);
    }

    #[test]
    fn per_stream_cap_forces_a_gap_instead_of_growing() {
        let mut segs = vec![(1, b"a".to_vec())];
        // Hole at offset 1, then 100 segments of 100 bytes beyond it.
        for i in 0..100u32 {
            segs.push((3 + i * 100, vec![b'z'; 100]));
        }
        let (out, gaps, stats) = run(Some(0), &segs, 1000);
        assert_eq!(out.len(), 1 + 100 * 100);
        assert_eq!(gaps, vec![1]);
        assert!(stats.cap_hits >= 1);
    }

    #[test]
    fn four_gigabyte_jump_is_bounded() {
        let mut s = HalfStream::new();
        s.syn(0);
        let mut budget = Budget::new(1 << 20);
        let mut n = 0usize;
        let mut sink = |ev: StreamEvent<'_>| {
            if let StreamEvent::Data(d) = ev {
                n += d.len()
            }
        };
        s.segment(1, b"abc", 1 << 16, &mut budget, &mut sink);
        for i in 0..10_000u32 {
            // Segments all over the sequence space.
            s.segment(
                i.wrapping_mul(2_654_435_761),
                &[1u8; 1000],
                1 << 16,
                &mut budget,
                &mut sink,
            );
            assert!(s.buffered() <= 1 << 16);
        }
        s.flush(&mut budget, &mut sink);
        assert_eq!(budget.used, 0);
        assert!(n >= 3);
    }

    #[test]
    fn mid_stream_pickup_uses_first_sequence() {
        let segs = vec![(5000, b"abc".to_vec()), (5003, b"def".to_vec())];
        assert_eq!(run(None, &segs, 1 << 20).0, b"abcdef");
    }

    #[test]
    fn mid_stream_pickup_with_first_two_segments_reordered_keeps_every_byte() {
        let segs = vec![
            (5003, b"def".to_vec()),
            (5000, b"abc".to_vec()),
            (5006, b"ghi".to_vec()),
        ];
        let (out, gaps, stats) = run(None, &segs, 1 << 20);
        assert_eq!(out, b"abcdefghi");
        assert!(gaps.is_empty());
        assert_eq!(stats.duplicate_bytes, 0);
        assert_eq!(stats.missing_bytes, 0);
    }

    #[test]
    fn mid_stream_pickup_reordered_around_a_hole_waits_for_it() {
        // Captured as third, first, second.
        let segs = vec![
            (5006, b"ghi".to_vec()),
            (5000, b"abc".to_vec()),
            (5003, b"def".to_vec()),
        ];
        let (out, gaps, stats) = run(None, &segs, 1 << 20);
        assert_eq!(out, b"abcdefghi");
        assert!(gaps.is_empty());
        assert_eq!(stats.duplicate_bytes, 0);
    }

    #[test]
    fn bytes_from_before_the_pickup_point_count_as_missing_not_duplicate() {
        // Delivery began with the first two segments; an earlier one comes too late.
        let segs = vec![
            (5000, b"abc".to_vec()),
            (5003, b"def".to_vec()),
            (4997, b"xyz".to_vec()),
            (4998, b"yzab".to_vec()),
        ];
        let (out, _, stats) = run(None, &segs, 1 << 20);
        assert_eq!(out, b"abcdef");
        assert_eq!(stats.before_pickup_bytes, 3 + 2);
        assert_eq!(stats.missing_bytes, 5);
        assert_eq!(stats.duplicate_bytes, 2);
    }

    #[test]
    fn commit_delivers_a_held_first_segment() {
        let mut s = HalfStream::new();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        let mut sink = |ev: StreamEvent<'_>| {
            if let StreamEvent::Data(d) = ev {
                out.extend_from_slice(d)
            }
        };
        s.segment(900, b"GET /", 1 << 20, &mut budget, &mut sink);
        s.commit(&mut budget, &mut sink);
        assert_eq!(budget.used, 0);
        s.segment(905, b"x", 1 << 20, &mut budget, &mut sink);
        assert_eq!(out, b"GET /x");
    }

    #[test]
    fn rst_is_accepted_only_near_the_senders_sequence() {
        let mut s = HalfStream::new();
        assert!(
            s.accepts_rst(12345, None),
            "nothing known: nothing to check"
        );
        s.observe(1000, 0, true, false, 65535);
        s.observe(1001, 500, false, false, 65535);
        assert!(s.accepts_rst(1501, Some(65535)));
        assert!(s.accepts_rst(1501 + 60_000, Some(1000)));
        assert!(s.accepts_rst(1000, Some(1000)));
        assert!(!s.accepts_rst(1501 + 70_000, Some(1000)));
        assert!(!s.accepts_rst(1501u32.wrapping_sub(70_000), Some(1000)));
        assert!(!s.accepts_rst(0x8000_0000, Some(65535)));
        // Wrap-around: the sender's sequence numbers just passed 2^32.
        let mut w = HalfStream::new();
        w.observe(u32::MAX - 10, 100, false, false, 65535);
        assert!(w.accepts_rst(89, None));
        assert!(!w.accepts_rst(u32::MAX / 2, None));
    }

    proptest! {
        #[test]
        fn any_order_with_duplicates_gives_the_same_stream(
            data in proptest::collection::vec(any::<u8>(), 1..3000),
            size in 1usize..400,
            isn in any::<u32>(),
            order in proptest::collection::vec(any::<u16>(), 0..64),
            dups in proptest::collection::vec(any::<u16>(), 0..16),
        ) {
            let segs = split(isn, &data, size);
            let mut shuffled = segs.clone();
            let n = shuffled.len();
            for (i, o) in order.iter().enumerate() {
                shuffled.swap(i % n, *o as usize % n);
            }
            for d in &dups {
                let seg = segs[*d as usize % n].clone();
                shuffled.push(seg);
            }
            let (out, gaps, stats) = run(Some(isn), &shuffled, 1 << 20);
            prop_assert_eq!(out, data);
            prop_assert!(gaps.is_empty());
            prop_assert_eq!(stats.conflicting_bytes, 0);
        }

        #[test]
        fn overlapping_resegmentation_gives_the_same_stream(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec((any::<u16>(), 1u16..300), 1..40),
            isn in any::<u32>(),
        ) {
            // Whole stream once (split), plus arbitrary overlapping slices, in a mixed order.
            let mut segs = Vec::new();
            for (a, l) in &cuts {
                let a = *a as usize % data.len();
                let b = (a + *l as usize).min(data.len());
                segs.push((isn.wrapping_add(1).wrapping_add(a as u32), data[a..b].to_vec()));
            }
            segs.extend(split(isn, &data, 128));
            segs.reverse();
            let (out, gaps, stats) = run(Some(isn), &segs, 1 << 20);
            prop_assert_eq!(out, data);
            prop_assert!(gaps.is_empty());
            prop_assert_eq!(stats.conflicting_bytes, 0);
        }
    }
}
