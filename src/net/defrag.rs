//! IPv4 and IPv6 fragment reassembly with hard limits: a per-datagram size cap, a global
//! memory cap and a cap on datagrams in progress (oldest evicted first), and a timeout in
//! capture time. Every fragment that a limit throws away is counted.
//!
//! Overlapping fragments that disagree drop the datagram (RFC 5722's rule), so the analyzer
//! never picks one of two versions of the bytes; identical duplicates are harmless.

use crate::budget::{Account, MemoryBudget, Worth};
use crate::capture::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

/// Limits of the reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragLimits {
    /// Largest reassembled IP payload accepted (bytes).
    pub max_datagram_bytes: usize,
    /// Memory all datagrams in progress may hold together (bytes).
    pub max_total_bytes: usize,
    /// Datagrams in progress at once.
    pub max_datagrams: usize,
    /// A datagram still incomplete this long (capture time) after its first fragment is
    /// dropped.
    pub timeout: Duration,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits {
            max_datagram_bytes: 65_535,
            max_total_bytes: 16 << 20,
            max_datagrams: 4096,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of the reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DefragStats {
    /// Fragments offered.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Datagrams dropped because their timeout passed.
    pub expired: u64,
    /// Datagrams dropped (or fragments refused) to stay within the memory or count caps.
    pub dropped_by_cap: u64,
    /// Datagrams dropped for growing past `max_datagram_bytes`.
    pub oversize: u64,
    /// Datagrams dropped because fragments disagreed (overlap with different bytes, or two
    /// different ends).
    pub conflicting: u64,
    /// Fragments refused as malformed (a non-final fragment whose length is not a multiple
    /// of 8).
    pub bad_fragments: u64,
    /// Fragments refused because the snaplen cut them.
    pub truncated_fragments: u64,
    /// Datagrams in progress now (at the end of a capture: never completed).
    pub pending: u64,
    /// Bytes those hold.
    pub pending_bytes: u64,
    /// Datagrams of other hosts evicted because the capture's memory budget
    /// ([`crate::budget`]) had no room for another fragment.
    pub memory_evicted: u64,
    /// Fragments refused because the memory budget had no room and nothing expendable was
    /// held (their datagram is dropped).
    pub memory_refused: u64,
    /// The frame of the first fragment the memory budget made the reassembler give up.
    pub memory_first_frame: Option<u64>,
    /// Where each kind of loss first happened (the frame of the fragment refused, or of
    /// the first fragment of the datagram dropped).
    pub first_frames: FirstFrames,
}

/// The first frame of each kind of fragment loss ([`DefragStats`]); None when none
/// happened or the frame was not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FirstFrames {
    /// Dropped at the reassembler's own caps.
    pub cap: Option<u64>,
    /// Expired.
    pub expired: Option<u64>,
    /// Over the per-datagram size.
    pub oversize: Option<u64>,
    /// Conflicting overlaps.
    pub conflicting: Option<u64>,
    /// Malformed fragments.
    pub malformed: Option<u64>,
    /// Fragments cut by the snaplen.
    pub truncated: Option<u64>,
    /// Datagrams still pending (the oldest one's first fragment).
    pub pending: Option<u64>,
}

/// The earlier of two known frames.
fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl FirstFrames {
    fn add(&mut self, o: &FirstFrames) {
        self.cap = earliest(self.cap, o.cap);
        self.expired = earliest(self.expired, o.expired);
        self.oversize = earliest(self.oversize, o.oversize);
        self.conflicting = earliest(self.conflicting, o.conflicting);
        self.malformed = earliest(self.malformed, o.malformed);
        self.truncated = earliest(self.truncated, o.truncated);
        self.pending = earliest(self.pending, o.pending);
    }

    /// Notes `frame` (0: unknown) as where a loss of kind `why` happened, if it is the first.
    fn note(&mut self, why: FragmentDrop, frame: u64) {
        let slot = match why {
            FragmentDrop::Cap => &mut self.cap,
            FragmentDrop::Oversize => &mut self.oversize,
            FragmentDrop::Conflict => &mut self.conflicting,
            FragmentDrop::Malformed => &mut self.malformed,
            FragmentDrop::Truncated => &mut self.truncated,
        };
        if frame > 0 && slot.is_none() {
            *slot = Some(frame);
        }
    }
}

impl DefragStats {
    /// Adds another reassembler's counts (the one inside tunnels).
    pub(crate) fn add(&mut self, o: &DefragStats) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.expired += o.expired;
        self.dropped_by_cap += o.dropped_by_cap;
        self.oversize += o.oversize;
        self.conflicting += o.conflicting;
        self.bad_fragments += o.bad_fragments;
        self.truncated_fragments += o.truncated_fragments;
        self.pending += o.pending;
        self.pending_bytes += o.pending_bytes;
        self.memory_evicted += o.memory_evicted;
        self.memory_refused += o.memory_refused;
        self.memory_first_frame = earliest(self.memory_first_frame, o.memory_first_frame);
        self.first_frames.add(&o.first_frames);
    }
}

/// What identifies the fragments of one datagram: addresses, protocol and ID (RFC 791 /
/// 8200), plus the VLAN tags, capture interface and tunnel so that two links never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub id: u32,
    pub vlans: [u16; 3],
    pub interface: u32,
    /// The tunnel the fragment came through (a hash of its identity; 0 outside tunnels).
    pub tunnel: u64,
}

/// One fragment as the decoder found it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fragment<'a> {
    pub key: FragKey,
    /// Byte offset of this fragment in the datagram's payload.
    pub offset: usize,
    /// More-fragments flag.
    pub more: bool,
    pub data: &'a [u8],
    pub ts: Timestamp,
    /// The frame it came in (1-based, 0 when not known).
    pub frame: u64,
}

/// Why a fragment did not go into a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentDrop {
    /// A limit (memory, count) refused it.
    Cap,
    /// The datagram would exceed the per-datagram size limit.
    Oversize,
    /// It contradicts fragments already held.
    Conflict,
    /// Its length is impossible for its position.
    Malformed,
    /// The snaplen cut it.
    Truncated,
}

impl std::fmt::Display for FragmentDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FragmentDrop::Cap => "reassembly memory limit reached",
            FragmentDrop::Oversize => "reassembled datagram too large",
            FragmentDrop::Conflict => "overlapping fragments disagree",
            FragmentDrop::Malformed => "fragment length not a multiple of 8",
            FragmentDrop::Truncated => "fragment cut by the snaplen",
        })
    }
}

/// Result of adding a fragment.
#[derive(Debug)]
pub(crate) enum FragOutcome<'a> {
    /// Kept; the datagram is not complete yet.
    Held,
    /// This fragment completed its datagram; `payload` is the whole IP payload.
    Complete { protocol: u8, payload: &'a [u8] },
    /// Not kept.
    Dropped(FragmentDrop),
}

struct Datagram {
    buf: Vec<u8>,
    /// Received byte ranges, sorted, disjoint and merged.
    have: Vec<(usize, usize)>,
    /// Payload length, known once the last fragment arrived.
    total: Option<usize>,
    first_ts: Timestamp,
    seq: u64,
    /// The first fragment's transport header names a phone's port: the phone's evidence,
    /// never evicted to make room for another datagram.
    phone: bool,
    /// The frame of the first of its fragments seen (0: not known).
    first_frame: u64,
}

/// The reassembler.
pub(crate) struct Defragmenter {
    limits: DefragLimits,
    pending: HashMap<FragKey, Datagram>,
    /// Datagrams in creation order (stale entries skipped), for expiry and eviction.
    order: VecDeque<(FragKey, u64)>,
    /// Bytes held by pending datagrams (buffer capacities).
    bytes: usize,
    /// `bytes`, charged to the capture's memory budget.
    account: Account,
    next_seq: u64,
    /// The last completed datagram; the decoded packet borrows from it.
    done: Vec<u8>,
    stats: DefragStats,
}

impl Defragmenter {
    pub(crate) fn new(limits: DefragLimits) -> Self {
        Defragmenter {
            limits,
            pending: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            account: Account::default(),
            next_seq: 0,
            done: Vec::new(),
            stats: DefragStats::default(),
        }
    }

    pub(crate) fn limits(&self) -> &DefragLimits {
        &self.limits
    }

    /// Charges the datagrams in progress to `memory` (the capture's budget, shared with the
    /// TCP and application parsers) as well as to this reassembler's own caps.
    pub(crate) fn set_memory(&mut self, memory: &MemoryBudget) {
        self.account.rebind(memory);
        self.account.set_worth(Worth::Phone);
        self.account.hold(self.bytes);
    }

    /// The size of the memory budget this reassembler is charged to.
    pub(crate) fn memory_cap(&self) -> usize {
        self.account.cap()
    }

    pub(crate) fn stats(&self) -> DefragStats {
        let mut first_frames = self.stats.first_frames;
        first_frames.pending = self
            .pending
            .values()
            .map(|d| d.first_frame)
            .filter(|f| *f > 0)
            .min();
        DefragStats {
            pending: self.pending.len() as u64,
            pending_bytes: self.bytes as u64,
            first_frames,
            ..self.stats
        }
    }

    /// Counts a fragment of frame `frame` refused before reaching the reassembler (e.g.
    /// cut by the snaplen).
    pub(crate) fn refuse(&mut self, why: FragmentDrop, frame: u64) -> FragOutcome<'_> {
        self.stats.fragments += 1;
        self.stats.first_frames.note(why, frame);
        match why {
            FragmentDrop::Truncated => self.stats.truncated_fragments += 1,
            FragmentDrop::Malformed => self.stats.bad_fragments += 1,
            _ => {}
        }
        FragOutcome::Dropped(why)
    }

    fn remove(&mut self, key: &FragKey) {
        if let Some(d) = self.pending.remove(key) {
            self.bytes = self.bytes.saturating_sub(d.buf.capacity());
            self.account.hold(self.bytes);
        }
    }

    /// Makes room in the memory budget for `needed` more bytes: evicts datagrams of other
    /// hosts (not `keep`, never a phone's), the oldest first. False when the budget still
    /// has no room (the budget counts the refusal).
    fn room_in_budget(&mut self, keep: &FragKey, needed: usize, frame: u64) -> bool {
        while !self.account.fits(needed) {
            let victim = self.order.iter().find_map(|(k, seq)| {
                let d = self.pending.get(k)?;
                (d.seq == *seq && k != keep && !d.phone).then_some(*k)
            });
            let Some(victim) = victim else {
                break;
            };
            self.remove(&victim);
            self.stats.memory_evicted += 1;
            self.stats.memory_first_frame.get_or_insert(frame);
        }
        let want = self.bytes.saturating_add(needed);
        // Refused here without asking the budget when it cannot fit: the refusal is this
        // stage's own event (`fragments-memory-budget`), not a parser buffer's.
        if self.account.fits(needed) && self.account.hold(want) {
            // Taken ahead of the allocation; `add` settles it to the real capacity.
            return true;
        }
        self.stats.memory_refused += 1;
        self.stats.memory_first_frame.get_or_insert(frame);
        false
    }

    /// Drops datagrams whose first fragment is older than the timeout.
    fn expire(&mut self, now: Timestamp) {
        let timeout = i64::try_from(self.limits.timeout.as_nanos()).unwrap_or(i64::MAX);
        while let Some(&(key, seq)) = self.order.front() {
            match self.pending.get(&key) {
                Some(d) if d.seq == seq => {
                    if now.0.saturating_sub(d.first_ts.0) <= timeout {
                        break;
                    }
                    if d.first_frame > 0 {
                        self.stats.first_frames.expired.get_or_insert(d.first_frame);
                    }
                    self.remove(&key);
                    self.stats.expired += 1;
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Drops the oldest datagram other than `keep`; false when there is none.
    fn evict_oldest(&mut self, keep: &FragKey) -> bool {
        let mut skipped = None;
        while let Some((key, seq)) = self.order.pop_front() {
            let live = self.pending.get(&key).is_some_and(|d| d.seq == seq);
            if !live {
                continue;
            }
            if key == *keep {
                skipped = Some((key, seq));
                continue;
            }
            let first = self.pending.get(&key).map_or(0, |d| d.first_frame);
            self.stats.first_frames.note(FragmentDrop::Cap, first);
            self.remove(&key);
            self.stats.dropped_by_cap += 1;
            if let Some(s) = skipped {
                self.order.push_front(s);
            }
            return true;
        }
        if let Some(s) = skipped {
            self.order.push_front(s);
        }
        false
    }

    /// Keeps the order queue from growing with stale entries of finished datagrams.
    fn compact_order(&mut self) {
        if self.order.len() > 4 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.order
                .retain(|(k, seq)| pending.get(k).is_some_and(|d| d.seq == *seq));
        }
    }

    /// Drops the datagram of `key` because of the fragment of frame `frame`.
    fn drop_datagram(&mut self, key: &FragKey, why: FragmentDrop, frame: u64) -> FragOutcome<'_> {
        let first = self.pending.get(key).map_or(frame, |d| d.first_frame);
        self.stats.first_frames.note(why, first);
        self.remove(key);
        match why {
            FragmentDrop::Oversize => self.stats.oversize += 1,
            FragmentDrop::Conflict => self.stats.conflicting += 1,
            FragmentDrop::Cap => self.stats.dropped_by_cap += 1,
            FragmentDrop::Malformed => self.stats.bad_fragments += 1,
            FragmentDrop::Truncated => self.stats.truncated_fragments += 1,
        }
        FragOutcome::Dropped(why)
    }

    /// Adds a fragment.
    pub(crate) fn add(&mut self, frag: Fragment<'_>) -> FragOutcome<'_> {
        self.stats.fragments += 1;
        self.expire(frag.ts);
        let key = frag.key;
        let start = frag.offset;
        let end = start.saturating_add(frag.data.len());
        if frag.more && !frag.data.len().is_multiple_of(8) {
            self.stats
                .first_frames
                .note(FragmentDrop::Malformed, frag.frame);
            self.stats.bad_fragments += 1;
            return FragOutcome::Dropped(FragmentDrop::Malformed);
        }
        if end > self.limits.max_datagram_bytes {
            return self.drop_datagram(&key, FragmentDrop::Oversize, frag.frame);
        }
        if !self.pending.contains_key(&key) {
            while self.pending.len() >= self.limits.max_datagrams.max(1) {
                if !self.evict_oldest(&key) {
                    break;
                }
            }
            if self.pending.len() >= self.limits.max_datagrams.max(1) {
                self.stats.first_frames.note(FragmentDrop::Cap, frag.frame);
                self.stats.dropped_by_cap += 1;
                return FragOutcome::Dropped(FragmentDrop::Cap);
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.pending.insert(
                key,
                Datagram {
                    buf: Vec::new(),
                    have: Vec::new(),
                    total: None,
                    first_ts: frag.ts,
                    seq,
                    phone: false,
                    first_frame: frag.frame,
                },
            );
            self.order.push_back((key, seq));
            self.compact_order();
        }
        // Consistency of this fragment with what is held.
        let conflict = match self.pending.get(&key) {
            None => return FragOutcome::Dropped(FragmentDrop::Cap),
            Some(d) => {
                let past_end = d.total.is_some_and(|t| end > t);
                let other_end = !frag.more && d.total.is_some_and(|t| t != end);
                let beyond_new_end = !frag.more && d.have.last().is_some_and(|&(_, e)| e > end);
                let differs = d.have.iter().any(|&(s, e)| {
                    let (lo, hi) = (s.max(start), e.min(end));
                    lo < hi && d.buf.get(lo..hi) != frag.data.get(lo - start..hi - start)
                });
                past_end || other_end || beyond_new_end || differs
            }
        };
        if conflict {
            return self.drop_datagram(&key, FragmentDrop::Conflict, frag.frame);
        }
        // Memory: grow this datagram's buffer within the global cap, evicting the oldest.
        let current_len = self.pending.get(&key).map_or(0, |d| d.buf.len());
        if end > current_len {
            let needed = end - current_len;
            while self.bytes + needed > self.limits.max_total_bytes {
                if !self.evict_oldest(&key) {
                    return self.drop_datagram(&key, FragmentDrop::Cap, frag.frame);
                }
            }
        }
        let grow = self
            .pending
            .get(&key)
            .map_or(0, |d| end.saturating_sub(d.buf.capacity()));
        if grow > 0 && !self.room_in_budget(&key, grow, frag.frame) {
            // Counted as a memory refusal, not under this reassembler's own caps.
            self.remove(&key);
            return FragOutcome::Dropped(FragmentDrop::Cap);
        }
        let Some(d) = self.pending.get_mut(&key) else {
            return FragOutcome::Dropped(FragmentDrop::Cap);
        };
        if start == 0 && frag.data.len() >= 4 && matches!(key.protocol, 6 | 17) {
            // Source and destination port lead both TCP and UDP headers.
            let port = |at: usize| u16::from_be_bytes([frag.data[at], frag.data[at + 1]]);
            d.phone = is_phone_port(port(0)) || is_phone_port(port(2));
        }
        if end > d.buf.len() {
            let before = d.buf.capacity();
            d.buf.reserve_exact(end - d.buf.len());
            d.buf.resize(end, 0);
            self.bytes += d.buf.capacity() - before;
            self.account.hold(self.bytes);
        }
        if let Some(dst) = d.buf.get_mut(start..end) {
            dst.copy_from_slice(frag.data);
        }
        insert_range(&mut d.have, start, end);
        if !frag.more {
            d.total = Some(end);
        }
        let complete = d.total.is_some_and(|t| d.have.as_slice() == [(0, t)]);
        if !complete {
            return FragOutcome::Held;
        }
        let protocol = key.protocol;
        if let Some(d) = self.pending.remove(&key) {
            self.bytes = self.bytes.saturating_sub(d.buf.capacity());
            self.account.hold(self.bytes);
            self.done = d.buf;
        }
        self.stats.reassembled += 1;
        FragOutcome::Complete {
            protocol,
            payload: &self.done,
        }
    }
}

/// Ports a phone's evidence travels on (TFTP, the HTTP file ports, TVS, CAPF, SIP, SCCP):
/// fragments of such datagrams are kept over others' when memory runs short.
fn is_phone_port(port: u16) -> bool {
    matches!(
        port,
        69 | 80 | 2000 | 2443 | 2445 | 3804 | 5060 | 5061 | 6970 | 6971 | 6972 | 8080
    )
}

/// Adds `[start, end)` to a sorted list of disjoint ranges, merging neighbours.
fn insert_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if start >= end {
        return;
    }
    let (mut s, mut e) = (start, end);
    ranges.retain(|&(a, b)| {
        if b < s || a > e {
            true
        } else {
            s = s.min(a);
            e = e.max(b);
            false
        }
    });
    let at = ranges.partition_point(|&(a, _)| a < s);
    ranges.insert(at, (s, e));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32) -> FragKey {
        FragKey {
            src: "192.0.2.1".parse().unwrap(),
            dst: "192.0.2.2".parse().unwrap(),
            protocol: 17,
            id,
            vlans: [0; 3],
            interface: 0,
            tunnel: 0,
        }
    }

    fn frag(id: u32, offset: usize, more: bool, data: &[u8], secs: i64) -> Fragment<'_> {
        Fragment {
            key: key(id),
            offset,
            more,
            data,
            ts: Timestamp::from_parts(secs, 0),
            frame: u64::from(id),
        }
    }

    #[test]
    fn ranges_merge() {
        let mut r = vec![];
        insert_range(&mut r, 8, 16);
        insert_range(&mut r, 24, 32);
        insert_range(&mut r, 0, 8);
        assert_eq!(r, vec![(0, 16), (24, 32)]);
        insert_range(&mut r, 16, 24);
        assert_eq!(r, vec![(0, 32)]);
    }

    #[test]
    fn out_of_order_and_duplicate_fragments_reassemble() {
        let mut d = Defragmenter::new(DefragLimits::default());
        let data: Vec<u8> = (0..20u8).collect();
        assert!(matches!(
            d.add(frag(1, 16, false, &data[16..], 0)),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(frag(1, 0, true, &data[..8], 0)),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(frag(1, 0, true, &data[..8], 0)),
            FragOutcome::Held
        ));
        match d.add(frag(1, 8, true, &data[8..16], 0)) {
            FragOutcome::Complete { protocol, payload } => {
                assert_eq!((protocol, payload), (17, &data[..]));
            }
            other => panic!("{other:?}"),
        }
        let s = d.stats();
        assert_eq!((s.reassembled, s.pending, s.pending_bytes), (1, 0, 0));
    }

    #[test]
    fn conflicts_timeouts_and_bad_lengths_are_counted() {
        let mut d = Defragmenter::new(DefragLimits::default());
        assert!(matches!(
            d.add(frag(1, 0, true, &[1; 8], 0)),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(frag(1, 0, true, &[2; 8], 0)),
            FragOutcome::Dropped(FragmentDrop::Conflict)
        ));
        assert!(matches!(
            d.add(frag(2, 0, true, &[1; 5], 0)),
            FragOutcome::Dropped(FragmentDrop::Malformed)
        ));
        assert!(matches!(
            d.add(frag(3, 0, true, &[1; 8], 0)),
            FragOutcome::Held
        ));
        // 31 s later the first datagram expires when the next fragment arrives.
        assert!(matches!(
            d.add(frag(4, 0, true, &[1; 8], 31)),
            FragOutcome::Held
        ));
        let s = d.stats();
        assert_eq!((s.conflicting, s.bad_fragments, s.expired), (1, 1, 1));
        assert_eq!(s.pending, 1);
        assert!(matches!(
            d.add(frag(5, 65_528, false, &[0; 16], 31)),
            FragOutcome::Dropped(FragmentDrop::Oversize)
        ));
        // Each loss names where it first happened (the test's frames are the IDs).
        let at = d.stats().first_frames;
        assert_eq!(
            (
                at.conflicting,
                at.malformed,
                at.expired,
                at.oversize,
                at.pending
            ),
            (Some(1), Some(2), Some(3), Some(5), Some(4))
        );
    }

    fn udp_head(src_port: u16, dst_port: u16) -> [u8; 8] {
        let mut h = [0u8; 8];
        h[..2].copy_from_slice(&src_port.to_be_bytes());
        h[2..4].copy_from_slice(&dst_port.to_be_bytes());
        h
    }

    /// Statement 6 (the phone's TFTP downloads may arrive fragmented): fragments held for
    /// reassembly are charged to the capture's memory budget; other hosts' datagrams are
    /// evicted for room before a phone's is refused, and each is counted with its frame.
    #[test]
    fn fragments_are_charged_to_the_memory_budget_and_phones_go_last() {
        let memory = MemoryBudget::new(4096);
        let mut d = Defragmenter::new(DefragLimits::default());
        d.set_memory(&memory);
        let mut first = [0u8; 1024];
        first[..8].copy_from_slice(&udp_head(50_000, 69));
        // Two of the phone's datagrams (TFTP, port 69) wait for their second fragment.
        assert!(matches!(
            d.add(frag(1, 0, true, &first, 0)),
            FragOutcome::Held
        ));
        assert!(matches!(
            d.add(frag(2, 0, true, &first, 0)),
            FragOutcome::Held
        ));
        // Another host's datagrams fill the rest, then push on.
        let mut other = [0u8; 1024];
        other[..8].copy_from_slice(&udp_head(40_000, 9999));
        for id in 3..=6 {
            let _ = d.add(frag(id, 0, true, &other, 0));
            assert!(memory.used() <= 4096, "{}", memory.used());
        }
        let s = d.stats();
        assert_eq!(s.memory_evicted, 2, "{s:?}");
        assert_eq!(s.memory_first_frame, Some(5));
        assert!(d.pending.contains_key(&key(1)) && d.pending.contains_key(&key(2)));
        // Two more of the phone's evict the other host's last two; then only the phone's
        // are left and a new datagram is refused rather than a phone's evicted.
        let _ = d.add(frag(7, 0, true, &first, 0));
        let _ = d.add(frag(8, 0, true, &first, 0));
        assert_eq!(d.stats().memory_evicted, 4);
        assert!(matches!(
            d.add(frag(9, 0, true, &other, 0)),
            FragOutcome::Dropped(FragmentDrop::Cap)
        ));
        let s = d.stats();
        assert_eq!((s.memory_refused, s.dropped_by_cap), (1, 0), "{s:?}");
        for id in [1, 2, 7, 8] {
            assert!(d.pending.contains_key(&key(id)), "phone datagram {id} kept");
        }
        assert_eq!(memory.used(), s.pending_bytes as usize);
        drop(d);
        assert_eq!(memory.used(), 0, "a reassembler gives its bytes back");
    }

    #[test]
    fn memory_stays_within_the_caps() {
        let limits = DefragLimits {
            max_total_bytes: 64 * 1024,
            max_datagrams: 100,
            ..DefragLimits::default()
        };
        let mut d = Defragmenter::new(limits);
        let chunk = [7u8; 1024];
        for id in 0..100_000u32 {
            let _ = d.add(frag(id, 0, true, &chunk, 0));
            assert!(d.stats().pending_bytes <= 64 * 1024);
            assert!(d.stats().pending <= 100);
        }
        let s = d.stats();
        assert_eq!(s.fragments, 100_000);
        assert_eq!(s.dropped_by_cap + s.pending, 100_000);
        assert!(d.order.len() <= 4 * 100 + 64 + 1);
    }
}
