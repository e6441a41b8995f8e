//! TFTP (RFC 1350 with the option extensions of RFC 2347/2348/2349 and windowsize, RFC 7440):
//! packet parsing and per-transfer reassembly by block number.
//!
//! A read (or write) request to a TFTP port opens a transfer keyed by the client endpoint
//! and the server address; the server answers from a new port (its transfer ID) which is
//! bound on the first answer. Blocks are placed by their unwrapped block number, so
//! duplicates, reordering and the 16-bit wrap-around of large files are handled; a block the
//! capture lacks leaves the file incomplete with the missing byte ranges listed.
//!
//! Capture loss is not a download error: a transfer that ran to its end (final short block
//! seen, or the final block acknowledged when `tsize` says which one it is) but whose
//! capture lacks blocks is incomplete, with `error` None and the loss in `notes`. `error` is
//! kept for an ERROR packet and for a transfer that stopped before its final block.

use super::capped::Capped;
use super::{FileBudget, digests};
use crate::budget::{Account, MemoryBudget, Worth};
use crate::events::FileCut;
use crate::evidence::{Endpoint, FileTransfer, FileTransport, Seen};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Default block size (RFC 1350).
pub const DEFAULT_BLKSIZE: usize = 512;
/// Smallest and largest block sizes RFC 2348 allows.
const BLKSIZE_RANGE: std::ops::RangeInclusive<usize> = 8..=65464;
/// How far past the highest block seen a DATA or ACK block number may jump before it is
/// doubted: lock-step TFTP moves one block at a time, RFC 7440 windows a few dozen. A jump
/// further ahead is believed only when the next DATA block continues from it (capture
/// loss), never on one stray packet.
const MAX_AHEAD: u64 = 1024;

/// TFTP opcodes.
pub mod opcode {
    /// Read request.
    pub const RRQ: u16 = 1;
    /// Write request.
    pub const WRQ: u16 = 2;
    /// Data block.
    pub const DATA: u16 = 3;
    /// Acknowledgment.
    pub const ACK: u16 = 4;
    /// Error.
    pub const ERROR: u16 = 5;
    /// Option acknowledgment.
    pub const OACK: u16 = 6;
}

/// One parsed TFTP packet, borrowing its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TftpPacket<'a> {
    /// RRQ or WRQ.
    Request {
        /// True for WRQ.
        write: bool,
        /// Requested file name (lossy UTF-8).
        name: String,
        /// Transfer mode (`octet`, `netascii`…), lower-cased.
        mode: String,
        /// Option name (lower-cased) and value pairs.
        options: Vec<(String, String)>,
    },
    /// DATA.
    Data {
        /// Block number as on the wire.
        block: u16,
        /// Block payload.
        data: &'a [u8],
    },
    /// ACK.
    Ack {
        /// Block number.
        block: u16,
    },
    /// ERROR.
    Error {
        /// Error code (1 = file not found…).
        code: u16,
        /// Error message (lossy UTF-8).
        message: String,
    },
    /// OACK.
    Oack {
        /// Accepted options.
        options: Vec<(String, String)>,
    },
}

/// Why a datagram is not a TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TftpParseError {
    /// Fewer than the 2-byte opcode (or 4 bytes for DATA/ACK/ERROR).
    #[error("TFTP packet too short ({0} bytes)")]
    TooShort(usize),
    /// Opcode outside 1..=6.
    #[error("unknown TFTP opcode {0}")]
    UnknownOpcode(u16),
    /// A request without its NUL-terminated name and mode.
    #[error("TFTP request without name and mode")]
    BadRequest,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Splits NUL-terminated strings; a trailing piece without NUL is kept (lenient).
fn strings(b: &[u8]) -> Vec<String> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|c| *c == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn pairs(items: &[String]) -> Vec<(String, String)> {
    items
        .chunks(2)
        .map(|c| {
            let name = c
                .first()
                .map(|s| s.to_ascii_lowercase())
                .unwrap_or_default();
            let value = c.get(1).cloned().unwrap_or_default();
            (name, value)
        })
        .collect()
}

/// Parses one TFTP packet.
pub fn parse(b: &[u8]) -> Result<TftpPacket<'_>, TftpParseError> {
    let op = u16_at(b, 0).ok_or(TftpParseError::TooShort(b.len()))?;
    match op {
        opcode::RRQ | opcode::WRQ => {
            let items = strings(b.get(2..).unwrap_or_default());
            if items.len() < 2 {
                return Err(TftpParseError::BadRequest);
            }
            Ok(TftpPacket::Request {
                write: op == opcode::WRQ,
                name: items[0].clone(),
                mode: items[1].to_ascii_lowercase(),
                options: pairs(items.get(2..).unwrap_or_default()),
            })
        }
        opcode::DATA => Ok(TftpPacket::Data {
            block: u16_at(b, 2).ok_or(TftpParseError::TooShort(b.len()))?,
            data: b.get(4..).unwrap_or_default(),
        }),
        opcode::ACK => Ok(TftpPacket::Ack {
            block: u16_at(b, 2).ok_or(TftpParseError::TooShort(b.len()))?,
        }),
        opcode::ERROR => {
            let code = u16_at(b, 2).ok_or(TftpParseError::TooShort(b.len()))?;
            let message = strings(b.get(4..).unwrap_or_default())
                .into_iter()
                .next()
                .unwrap_or_default();
            Ok(TftpPacket::Error { code, message })
        }
        opcode::OACK => Ok(TftpPacket::Oack {
            options: pairs(&strings(b.get(2..).unwrap_or_default())),
        }),
        other => Err(TftpParseError::UnknownOpcode(other)),
    }
}

/// True when `payload` looks like a read or write request (cheap check, no allocation).
pub fn is_request(payload: &[u8]) -> bool {
    matches!(u16_at(payload, 0), Some(opcode::RRQ | opcode::WRQ))
}

/// Transfers are keyed by the client endpoint and the server address (its port changes).
type Key = (Endpoint, IpAddr);

#[derive(Debug)]
struct Transfer {
    name: String,
    upload: bool,
    mode: String,
    client: Endpoint,
    server_ip: IpAddr,
    request_port: u16,
    server_port: Option<u16>,
    options: Vec<(String, String)>,
    blksize: usize,
    blksize_negotiated: bool,
    tsize: Option<u64>,
    first: Seen,
    last: Seen,
    /// The capture clock's time at the transfer's last datagram (idleness is measured on
    /// the clock, so a host whose clock is skewed from it is not idle for it).
    touched: i64,
    /// Contiguous bytes of blocks `1..next`.
    data: Vec<u8>,
    /// Next block ordinal expected in order (1-based).
    next: u64,
    /// Bytes of blocks `1..next` (also when storing stopped at a limit).
    prefix_len: u64,
    /// Blocks ahead of a hole, by ordinal.
    held: BTreeMap<u64, Vec<u8>>,
    held_bytes: usize,
    /// The held blocks' bytes (and their bookkeeping), charged to the capture's memory
    /// budget: a phone's evidence.
    held_account: Account,
    /// Highest unwrapped DATA block number believed (moves only by plausible steps).
    highest: u64,
    /// A DATA block far ahead of `highest`, waiting for a next block to confirm the jump.
    far: Option<u64>,
    /// DATA and ACK packets whose block numbers jumped implausibly far, ignored.
    stray: u64,
    /// Whether the block number wraps to 1 (not 0) after 65535, once known.
    wraps_to_one: Option<bool>,
    /// Ordinal and length of the short final block.
    last_block: Option<(u64, usize)>,
    /// Highest block ordinal the receiving side acknowledged.
    acked: u64,
    error: Option<(u16, String)>,
    /// Storing stopped at a memory limit (which one).
    cut: Option<FileCut>,
    /// File offset of the first block dropped while it was held ahead of a gap: from there
    /// on the capture may hold bytes the transfer did not keep, so they are not "missing".
    cut_from: Option<u64>,
    conflicting_duplicates: u64,
    /// OACK options whose value a later OACK changed.
    oack_changes: usize,
    notes: Vec<String>,
}

/// Bookkeeping bytes of one held block besides its data (its vector and its map entry),
/// charged with it so that many tiny blocks cannot slip under the budget.
const HELD_OVERHEAD: usize = 64;

/// What `n` held blocks of `bytes` data bytes in all cost the memory budget.
fn held_cost(bytes: usize, n: usize) -> usize {
    bytes.saturating_add(n.saturating_mul(HELD_OVERHEAD))
}

/// Bounds the notes about OACKs that changed an option (a crafted server could send many).
const MAX_OACK_NOTES: usize = 4;

impl Transfer {
    /// Records the options of an OACK as `oack:<name>`. The server retransmits its OACK
    /// until the client acknowledges it (RFC 2347): a repeat adds nothing, and a later OACK
    /// that changes a value replaces it (the transfer follows the latest) with a note.
    fn oack_options(&mut self, options: Vec<(String, String)>) {
        for (k, v) in options {
            let name = format!("oack:{k}");
            match self.options.iter_mut().find(|(n, _)| *n == name) {
                Some((_, old)) if *old == v => {}
                Some((_, old)) => {
                    self.oack_changes += 1;
                    if self.oack_changes <= MAX_OACK_NOTES {
                        self.notes
                            .push(format!("a later OACK changed {k} from {old} to {v}"));
                    }
                    *old = v;
                }
                None => self.options.push((name, v)),
            }
        }
    }

    /// The unwrapped block number of `block`: the one nearest the highest DATA block.
    fn unwrap(&self, block: u16) -> u64 {
        let b = u64::from(block);
        let h = self.highest;
        let c = (h & !0xFFFF) | b;
        let mut best = c;
        for cand in [c.checked_sub(0x1_0000), Some(c + 0x1_0000)]
            .into_iter()
            .flatten()
        {
            if cand.abs_diff(h) < best.abs_diff(h) {
                best = cand;
            }
        }
        best
    }

    /// Maps an unwrapped block number to the file's block ordinal.
    fn to_ordinal(&self, unwrapped: u64) -> u64 {
        if self.wraps_to_one == Some(true) {
            unwrapped - (unwrapped >> 16)
        } else {
            unwrapped
        }
    }

    /// The ordinal of a DATA block, or None for a stray one (a number far ahead of the
    /// transfer that no next block confirms).
    fn data_ordinal(&mut self, block: u16) -> Option<u64> {
        let best = self.unwrap(block);
        if best > self.highest + MAX_AHEAD {
            match self.far {
                Some(f) if best > f && best - f <= MAX_AHEAD => self.far = None,
                _ => {
                    self.far = Some(best);
                    self.stray += 1;
                    return None;
                }
            }
        }
        if best >= 0x1_0000 && self.wraps_to_one.is_none() {
            // First block after a wrap: some servers restart at 0, others at 1.
            self.wraps_to_one = Some(best & 0xFFFF == 1 && self.next <= 0x1_0000);
        }
        self.highest = self.highest.max(best);
        Some(self.to_ordinal(best))
    }

    /// An acknowledgment: believed only a little ahead of the DATA blocks seen (the capture
    /// may lack the block it acknowledges), and it never moves the unwrapping reference.
    fn ack(&mut self, block: u16) {
        let best = self.unwrap(block);
        if best > self.highest + MAX_AHEAD {
            self.stray += 1;
            return;
        }
        self.acked = self.acked.max(self.to_ordinal(best));
    }

    /// `tsize` unless the blocks seen contradict it (0 for a file that has data, or less
    /// than the bytes before the highest block).
    fn credible_tsize(&self) -> Option<u64> {
        let bs = self.blksize as u64;
        self.tsize.filter(|&sz| {
            let before_highest = self.to_ordinal(self.highest).saturating_sub(1) * bs;
            before_highest <= sz && !(sz == 0 && self.prefix_len + self.held_bytes as u64 > 0)
        })
    }

    fn data_block(&mut self, block: u16, data: &[u8], budget: &mut FileBudget, max_file: u64) {
        if data.len() > self.blksize {
            if !self.blksize_negotiated {
                self.notes.push(format!(
                    "blocks of {} bytes without a negotiated blksize (OACK not captured?)",
                    data.len()
                ));
            }
            self.blksize = data.len();
            self.blksize_negotiated = true;
        }
        let Some(ord) = self.data_ordinal(block) else {
            return;
        };
        if ord == 0 {
            return; // block 0 carries no data in RFC 1350
        }
        if data.len() < self.blksize {
            self.last_block = Some((ord, data.len()));
        }
        if ord < self.next {
            // Duplicate of a block already placed: compare when its bytes are still held.
            let off = (ord - 1) * self.blksize as u64;
            if let Some(old) = usize::try_from(off)
                .ok()
                .and_then(|o| self.data.get(o..o + data.len()))
                && old != data
            {
                self.conflicting_duplicates += 1;
            }
            return;
        }
        if ord > self.next {
            if let Some(old) = self.held.get(&ord) {
                if old.as_slice() != data {
                    self.conflicting_duplicates += 1;
                }
                return;
            }
            // Held blocks lie past `next`, so holding more than `max_file` bytes proves the
            // file is larger than the limit: a per-file cut, not bytes the capture lacks.
            if (self.held_bytes + data.len()) as u64 > max_file {
                self.cut_held(ord, FileCut::HeldOverFileLimit { limit: max_file });
                return;
            }
            // Held blocks are memory the capture makes the tool keep: charged to the
            // memory budget before they are taken.
            let cost = held_cost(self.held_bytes + data.len(), self.held.len() + 1);
            if !self.held_account.hold(cost) {
                let budget = u64::try_from(self.held_account.cap()).unwrap_or(u64::MAX);
                self.cut_held(ord, FileCut::HeldOverMemoryBudget { budget });
                return;
            }
            // Held blocks are file data in memory: they count against the global budget.
            if !budget.take(data.len()) {
                self.settle_held();
                self.cut_held(ord, FileCut::TotalLimit);
                return;
            }
            self.held_bytes += data.len();
            self.held.insert(ord, data.to_vec());
            return;
        }
        self.append(data, false, budget, max_file);
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let d = entry.remove();
            self.held_bytes -= d.len();
            self.append(&d, true, budget, max_file);
        }
        self.settle_held();
    }

    /// Charges the memory budget with what the held blocks hold now (after some were taken
    /// into the file): releasing always succeeds.
    fn settle_held(&mut self) {
        self.held_account
            .hold(held_cost(self.held_bytes, self.held.len()));
    }

    /// Records that block `ord`, held ahead of a gap, was dropped by a limit.
    fn cut_held(&mut self, ord: u64, why: FileCut) {
        self.cut.get_or_insert(why);
        let off = (ord - 1).saturating_mul(self.blksize as u64);
        self.cut_from = Some(self.cut_from.map_or(off, |c| c.min(off)));
    }

    /// Appends the next block in order; `reserved` when its bytes were already taken from
    /// the budget while it was held.
    fn append(&mut self, data: &[u8], reserved: bool, budget: &mut FileBudget, max_file: u64) {
        self.next += 1;
        self.prefix_len += data.len() as u64;
        if self.cut.is_some() {
            if reserved {
                budget.release(data.len());
            }
            return;
        }
        if self.prefix_len > max_file {
            self.cut = Some(FileCut::PerFileLimit { limit: max_file });
            if reserved {
                budget.release(data.len());
            }
        } else if !reserved && !budget.take(data.len()) {
            self.cut = Some(FileCut::TotalLimit);
        } else {
            self.data.extend_from_slice(data);
        }
    }

    fn complete_bytes(&self) -> bool {
        matches!(self.last_block, Some((o, _)) if self.next > o)
    }

    /// True when the transfer ran to its final block, whether or not the capture holds every
    /// block: the short final block was seen, or its acknowledgment when `tsize` tells which
    /// block is the last.
    fn reached_end(&self) -> bool {
        let bs = (self.blksize as u64).max(1);
        self.last_block.is_some() || self.credible_tsize().is_some_and(|sz| self.acked > sz / bs)
    }

    fn finish(mut self, keep_config_bytes: bool) -> FileTransfer {
        let bs = self.blksize as u64;
        let whole = self.complete_bytes() && self.error.is_none();
        let tsize = self.credible_tsize();
        if let (Some(sz), None) = (self.tsize, tsize) {
            self.notes.push(format!(
                "the announced tsize {sz} contradicts the blocks seen; ignored"
            ));
        }
        if self.stray > 0 {
            self.notes.push(format!(
                "{} DATA/ACK packets with block numbers far ahead of the transfer ignored",
                self.stray
            ));
        }
        let size = match self.last_block {
            Some((o, len)) => Some((o - 1) * bs + len as u64),
            None => tsize,
        };
        // Missing ranges: holes between held blocks and up to the end when known.
        let mut missing = Vec::new();
        let end_ord = self.last_block.map(|(o, _)| o + 1);
        let mut pos = self.next;
        for &o in self.held.keys() {
            if o > pos {
                missing.push(((pos - 1) * bs, (o - 1) * bs));
            }
            pos = o + 1;
        }
        match (end_ord, size) {
            (Some(e), Some(sz)) if pos < e => missing.push(((pos - 1) * bs, sz)),
            (None, Some(sz)) if (pos - 1) * bs < sz => missing.push(((pos - 1) * bs, sz)),
            _ => {}
        }
        let error = if let Some((code, msg)) = &self.error {
            Some(format!("TFTP error {code}: {msg}"))
        } else if !self.reached_end() {
            Some("transfer did not finish in the capture".to_string())
        } else {
            None
        };
        if let Some(from) = self.cut_from {
            // Past the first dropped block, what the capture held is not known (issue 19,
            // item 2): keep only the gaps before it.
            missing.retain(|&(a, _)| a < from);
            for r in &mut missing {
                r.1 = r.1.min(from);
            }
        }
        let lost: u64 = missing.iter().map(|(a, b)| b - a).sum();
        if self.error.is_none() && self.reached_end() && !whole && lost > 0 {
            self.notes.push(format!(
                "{lost} bytes ({} ranges) missing from the capture; the transfer ran to its final block, so the phone may have received the whole file",
                missing.len()
            ));
        }
        if self.conflicting_duplicates > 0 {
            self.notes.push(format!(
                "{} duplicate blocks differed from the first copy (first copy kept)",
                self.conflicting_duplicates
            ));
        }
        if self.mode == "netascii" {
            self.notes
                .push("netascii mode: bytes kept as sent (CR LF not translated)".into());
        }
        let complete = whole && self.cut.is_none();
        let (md5, sha1, sha256) = if complete {
            digests(&self.data)
        } else {
            (None, None, None)
        };
        let data = std::mem::take(&mut self.data);
        let mut file = FileTransfer {
            name: self.name,
            transport: FileTransport::Tftp,
            upload: self.upload,
            client: self.client,
            server: Endpoint {
                ip: self.server_ip,
                port: self.server_port.unwrap_or(self.request_port),
            },
            data: Default::default(),
            size,
            complete,
            missing,
            error,
            http_status: None,
            tftp_error_code: self.error.as_ref().map(|e| e.0),
            options: super::intern_options(self.options),
            first: self.first,
            last: self.last,
            md5,
            sha1,
            sha256,
            notes: self.notes,
            cut: self.cut,
            signed_config: None,
        };
        super::bound_record_text(&mut file);
        super::finish_transfer(&mut file, data, keep_config_bytes);
        file
    }
}

/// Follows every TFTP transfer of a capture.
#[derive(Debug)]
pub struct TftpTracker {
    /// Keyed hasher, randomly seeded (hostile captures); faster than SipHash.
    transfers: HashMap<Key, Transfer, foldhash::fast::RandomState>,
    /// Ended transfers, at most `max_records` of them.
    done: Capped<FileTransfer>,
    /// Whether a finished signed config keeps its bytes ([`super::CollectorConfig`]).
    keep_config_bytes: bool,
    max_transfers: usize,
    max_file: u64,
    /// Requests dropped because too many transfers were open at once.
    pub dropped_requests: u64,
    /// The capture clock's time ([`TftpTracker::set_now`]); `i64::MIN` when no clock
    /// drives the tracker (each datagram's own time is used then).
    now: i64,
    /// The capture's memory budget, charged with blocks held ahead of a gap.
    memory: MemoryBudget,
}

impl TftpTracker {
    /// The transfers ended so far, in the order they ended (open ones are not among them).
    pub fn done(&self) -> &[FileTransfer] {
        self.done.items()
    }

    /// Sets the capture clock's time idleness is measured on (the collector's clock, which
    /// a frame dated far from its neighbours does not move).
    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// The time a datagram seen at `seen` counts as activity at.
    fn touched(&self, seen: Seen) -> i64 {
        if self.now == i64::MIN {
            seen.ts.0
        } else {
            self.now
        }
    }

    /// A tracker holding at most `max_transfers` open transfers of at most `max_file` bytes.
    pub fn new(max_transfers: usize, max_file: u64) -> Self {
        TftpTracker {
            transfers: HashMap::default(),
            done: Capped::new(usize::MAX),
            keep_config_bytes: true,
            max_transfers,
            max_file,
            dropped_requests: 0,
            now: i64::MIN,
            memory: MemoryBudget::default(),
        }
    }

    /// Charges blocks held ahead of a gap to `memory` (the capture's budget, shared with the
    /// TCP and TLS buffers). Call before the first request.
    pub fn set_memory(&mut self, memory: &MemoryBudget) {
        self.memory = memory.clone();
        for t in self.transfers.values_mut() {
            t.held_account.rebind(memory);
            t.settle_held();
        }
    }

    /// A datagram sent to a TFTP request port.
    pub fn request(&mut self, src: Endpoint, dst: Endpoint, payload: &[u8], seen: Seen) {
        let Ok(TftpPacket::Request {
            write,
            name,
            mode,
            options,
        }) = parse(payload)
        else {
            return;
        };
        let key = (src, dst.ip);
        let touched = self.touched(seen);
        if let Some(t) = self.transfers.get_mut(&key) {
            if t.name == name && t.upload == write && t.next == 1 && t.server_port.is_none() {
                t.last = seen; // a retransmitted request
                t.touched = touched;
                return;
            }
            if let Some(old) = self.transfers.remove(&key) {
                self.done.push(old.finish(self.keep_config_bytes));
            }
        }
        if self.transfers.len() >= self.max_transfers {
            self.dropped_requests += 1;
            return;
        }
        let mut blksize = DEFAULT_BLKSIZE;
        let mut tsize = None;
        for (k, v) in &options {
            if k == "tsize" {
                tsize = v.parse::<u64>().ok().filter(|n| *n > 0);
            }
            let _ = &mut blksize;
        }
        self.transfers.insert(
            key,
            Transfer {
                name,
                upload: write,
                mode,
                client: src,
                server_ip: dst.ip,
                request_port: dst.port,
                server_port: None,
                options,
                blksize,
                blksize_negotiated: false,
                tsize,
                first: seen,
                last: seen,
                touched,
                data: Vec::new(),
                next: 1,
                prefix_len: 0,
                held: BTreeMap::new(),
                held_bytes: 0,
                held_account: self.memory.account(Worth::Phone),
                highest: 0,
                far: None,
                stray: 0,
                wraps_to_one: None,
                last_block: None,
                acked: 0,
                error: None,
                cut: None,
                cut_from: None,
                conflicting_duplicates: 0,
                oack_changes: 0,
                notes: Vec::new(),
            },
        );
    }

    /// True when some transfer is open (so other datagrams may belong to one).
    pub fn active(&self) -> bool {
        !self.transfers.is_empty()
    }

    /// True when a datagram between `src` and `dst` belongs to an open transfer.
    pub fn owns(&self, src: Endpoint, dst: Endpoint) -> bool {
        matches!(self.transfers.get(&(dst, src.ip)), Some(t) if t.server_port.is_none_or(|p| p == src.port))
            || matches!(self.transfers.get(&(src, dst.ip)), Some(t) if t.server_port == Some(dst.port))
    }

    /// Any other datagram: if it belongs to an open transfer, follow it. Returns true when
    /// it did.
    pub fn datagram(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        payload: &[u8],
        seen: Seen,
        budget: &mut FileBudget,
    ) -> bool {
        // Server -> client?
        let (key, from_server) = match self.transfers.get(&(dst, src.ip)) {
            Some(t) if t.server_port.is_none_or(|p| p == src.port) => ((dst, src.ip), true),
            _ => match self.transfers.get(&(src, dst.ip)) {
                Some(t) if t.server_port == Some(dst.port) => ((src, dst.ip), false),
                _ => return false,
            },
        };
        let Ok(packet) = parse(payload) else {
            return false;
        };
        let max_file = self.max_file;
        let touched = self.touched(seen);
        let Some(t) = self.transfers.get_mut(&key) else {
            return false;
        };
        if from_server && t.server_port.is_none() {
            t.server_port = Some(src.port);
        }
        t.last = seen;
        t.touched = touched;
        let data_from_server = !t.upload;
        let mut ended = false;
        match packet {
            TftpPacket::Data { block, data } if from_server == data_from_server => {
                t.data_block(block, data, budget, max_file);
                ended = t.complete_bytes() && t.held.is_empty();
            }
            TftpPacket::Ack { block } if from_server != data_from_server => t.ack(block),
            TftpPacket::Oack { options } if from_server => {
                for (k, v) in &options {
                    match k.as_str() {
                        "blksize" => {
                            if let Some(n) = v
                                .parse::<usize>()
                                .ok()
                                .filter(|n| BLKSIZE_RANGE.contains(n))
                            {
                                t.blksize = n;
                                t.blksize_negotiated = true;
                            }
                        }
                        "tsize" => t.tsize = v.parse::<u64>().ok().or(t.tsize),
                        _ => {}
                    }
                }
                t.oack_options(options);
            }
            TftpPacket::Error { code, message } => {
                t.error = Some((code, message));
                if !from_server {
                    t.notes.push("the client sent the ERROR".into());
                }
                ended = true;
            }
            _ => {}
        }
        if ended && let Some(t) = self.transfers.remove(&key) {
            self.done.push(t.finish(self.keep_config_bytes));
        }
        true
    }

    /// True when a new request would be refused: as many transfers open as allowed.
    pub fn is_full(&self) -> bool {
        self.transfers.len() >= self.max_transfers
    }

    /// Ends the transfers with no packet for more than `idle_ns` of capture time before
    /// `now`; returns how many.
    pub fn expire(&mut self, now: i64, idle_ns: i64) -> u64 {
        let mut idle: Vec<(u64, Key)> = self
            .transfers
            .iter()
            .filter(|(_, t)| now.saturating_sub(t.touched) > idle_ns)
            .map(|(k, t)| (t.first.frame, *k))
            .collect();
        idle.sort_unstable();
        for (_, k) in &idle {
            if let Some(t) = self.transfers.remove(k) {
                self.done.push(t.finish(self.keep_config_bytes));
            }
        }
        idle.len() as u64
    }

    /// Ends every open transfer and returns all transfers in order of their request.
    pub fn finish(self) -> Vec<FileTransfer> {
        self.finish_counted().0
    }

    /// Keeps at most `max` ended transfers (the rest are counted by [`Self::finish_counted`]).
    pub fn with_max_records(mut self, max: usize) -> Self {
        self.done = Capped::new(max);
        self
    }

    /// Whether finished signed configs keep their bytes (true unless told; see
    /// [`super::CollectorConfig::keep_signed_config_bytes`]).
    pub fn keeping_config_bytes(mut self, keep: bool) -> Self {
        self.keep_config_bytes = keep;
        self
    }

    /// Ends every open transfer; returns the transfers in order of their first frame and how
    /// many were not kept because of the record limit.
    pub fn finish_counted(self) -> (Vec<FileTransfer>, u64) {
        let (done, dropped, _) = self.finish_counted_at();
        (done, dropped)
    }

    /// [`Self::finish_counted`], with the request frame of the first transfer not kept.
    pub fn finish_counted_at(mut self) -> (Vec<FileTransfer>, u64, Option<u64>) {
        let mut open: Vec<Transfer> = self.transfers.drain().map(|(_, t)| t).collect();
        open.sort_by_key(|t| t.first.frame);
        let keep = self.keep_config_bytes;
        self.done.extend(open.into_iter().map(|t| t.finish(keep)));
        let first_dropped = self.done.first_dropped();
        let (mut done, dropped) = self.done.into_parts();
        done.sort_by_key(|f| f.first.frame);
        (done, dropped, first_dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use proptest::prelude::*;

    fn ep(s: &str) -> Endpoint {
        s.parse().unwrap()
    }
    fn seen(frame: u64) -> Seen {
        Seen {
            capture: 0,
            frame,
            ts: Timestamp(frame as i64),
        }
    }
    fn rrq(name: &str, opts: &[(&str, &str)]) -> Vec<u8> {
        let mut v = vec![0, 1];
        v.extend_from_slice(name.as_bytes());
        v.push(0);
        v.extend_from_slice(b"octet\0");
        for (k, val) in opts {
            v.extend_from_slice(k.as_bytes());
            v.push(0);
            v.extend_from_slice(val.as_bytes());
            v.push(0);
        }
        v
    }
    fn ack(block: u16) -> Vec<u8> {
        let mut v = vec![0, 4];
        v.extend_from_slice(&block.to_be_bytes());
        v
    }
    fn data(block: u16, d: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 3];
        v.extend_from_slice(&block.to_be_bytes());
        v.extend_from_slice(d);
        v
    }
    fn file(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    const C: &str = "10.0.0.5:50000";
    const S69: &str = "10.0.0.1:69";
    const ST: &str = "10.0.0.1:41000";

    /// Runs a read transfer of `content` with blocks of `bs` delivered in `order` (indexes
    /// into the block list, repeats allowed).
    fn transfer(content: &[u8], bs: usize, order: &[usize], wrap_to: u16) -> FileTransfer {
        let mut t = TftpTracker::new(10, 1 << 30);
        let mut budget = FileBudget::new(u64::MAX);
        let opts = if bs == 512 {
            vec![]
        } else {
            vec![("blksize", bs.to_string())]
        };
        let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t.request(ep(C), ep(S69), &rrq("ITLSEP0011.tlv", &opts), seen(1));
        let mut frame = 2;
        if bs != 512 {
            let mut oack = vec![0, 6];
            oack.extend_from_slice(format!("blksize\0{bs}\0").as_bytes());
            assert!(t.datagram(ep(ST), ep(C), &oack, seen(frame), &mut budget));
            frame += 1;
        }
        let mut blocks: Vec<&[u8]> = content.chunks(bs).collect();
        if content.len().is_multiple_of(bs) {
            blocks.push(&[]);
        }
        for &i in order {
            let n = i + 1;
            let wire = if n <= 65535 {
                n as u16
            } else {
                ((n - 65536) % 65536) as u16 + wrap_to
            };
            t.datagram(
                ep(ST),
                ep(C),
                &data(wire, blocks[i]),
                seen(frame),
                &mut budget,
            );
            frame += 1;
        }
        let mut files = t.finish();
        assert_eq!(files.len(), 1);
        files.remove(0)
    }

    fn nblocks(len: usize, bs: usize) -> usize {
        len / bs + 1
    }

    #[test]
    fn plain_512_byte_transfer() {
        let content = file(1300);
        let f = transfer(&content, 512, &[0, 1, 2], 0);
        assert!(f.complete);
        assert_eq!(f.data, content);
        assert_eq!(f.size, Some(1300));
        assert_eq!(f.server, ep(ST));
        assert!(f.error.is_none());
        assert_eq!(f.sha1.map(|d| d.hex().len()), Some(40));
    }

    #[test]
    fn exact_multiple_ends_with_empty_block() {
        let content = file(1024);
        let f = transfer(&content, 512, &[0, 1, 2], 0);
        assert!(f.complete);
        assert_eq!(f.data, content);
    }

    #[test]
    fn duplicates_and_reordering() {
        let content = file(512 * 5 + 100);
        let f = transfer(&content, 512, &[0, 2, 1, 1, 4, 3, 3, 5, 5], 0);
        assert!(f.complete);
        assert_eq!(f.data, content);
    }

    #[test]
    fn missing_block_is_listed_never_zero_filled() {
        let content = file(512 * 4 + 10);
        let f = transfer(&content, 512, &[0, 1, 3, 4], 0);
        assert!(!f.complete);
        assert_eq!(f.missing, vec![(1024, 1536)]);
        assert_eq!(f.data, content[..1024].to_vec());
        assert_eq!(f.size, Some(content.len() as u64));
        assert!(f.sha1.is_none());
        // The final block arrived: the capture lost a block, the download did not fail.
        assert_eq!(f.error, None);
        assert!(
            f.notes
                .iter()
                .any(|n| n.contains("512 bytes (1 ranges) missing")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn transfer_that_stopped_before_its_final_block_is_an_error() {
        let content = file(512 * 4 + 10);
        let f = transfer(&content, 512, &[0, 1, 2], 0);
        assert!(!f.complete);
        assert_eq!(
            f.error.as_deref(),
            Some("transfer did not finish in the capture")
        );
        assert_eq!(f.size, None);
    }

    /// The phone asks for ITLSEP0011.tlv with `tsize` (frame 1); the server's OACK announces
    /// `size` bytes (frame 2).
    fn request_with_tsize(t: &mut TftpTracker, budget: &mut FileBudget, size: usize) {
        t.request(
            ep(C),
            ep(S69),
            &rrq("ITLSEP0011.tlv", &[("tsize", "0")]),
            seen(1),
        );
        let mut oack = vec![0, 6];
        oack.extend_from_slice(format!("tsize\0{size}\0").as_bytes());
        t.datagram(ep(ST), ep(C), &oack, seen(2), budget);
    }

    #[test]
    fn lost_final_block_acknowledged_with_tsize_is_capture_loss() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        let content = file(512 * 2 + 100);
        request_with_tsize(&mut t, &mut budget, content.len());
        t.datagram(ep(C), ep(ST), &ack(0), seen(3), &mut budget);
        t.datagram(
            ep(ST),
            ep(C),
            &data(1, &content[..512]),
            seen(4),
            &mut budget,
        );
        t.datagram(ep(C), ep(ST), &ack(1), seen(5), &mut budget);
        t.datagram(
            ep(ST),
            ep(C),
            &data(2, &content[512..1024]),
            seen(6),
            &mut budget,
        );
        t.datagram(ep(C), ep(ST), &ack(2), seen(7), &mut budget);
        // Block 3 (the short final one) is not in the capture, its ACK is.
        t.datagram(ep(C), ep(ST), &ack(3), seen(9), &mut budget);
        let f = &t.finish()[0];
        assert!(!f.complete);
        assert_eq!(f.error, None, "{:?}", f.notes);
        assert_eq!(f.missing, vec![(1024, content.len() as u64)]);
        assert_eq!(f.size, Some(content.len() as u64));
        assert_eq!(f.data, content[..1024].to_vec());
    }

    #[test]
    fn without_the_final_ack_a_lost_final_block_did_not_finish() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        let content = file(512 + 100);
        request_with_tsize(&mut t, &mut budget, content.len());
        t.datagram(
            ep(ST),
            ep(C),
            &data(1, &content[..512]),
            seen(4),
            &mut budget,
        );
        t.datagram(ep(C), ep(ST), &ack(1), seen(5), &mut budget);
        let f = &t.finish()[0];
        assert_eq!(
            f.error.as_deref(),
            Some("transfer did not finish in the capture")
        );
        assert_eq!(f.missing, vec![(512, content.len() as u64)]);
    }

    #[test]
    fn blksize_8192() {
        let content = file(8192 * 3 + 17);
        let f = transfer(&content, 8192, &[0, 1, 2, 3], 0);
        assert!(f.complete);
        assert_eq!(f.data, content);
        assert!(
            f.options
                .iter()
                .any(|(k, v)| &**k == "oack:blksize" && &**v == "8192")
        );
    }

    /// Issue 19, item 5b: the server retransmits its OACK (the client's ACK of block 0 was
    /// lost or late); the transfer's option list names each option once.
    #[test]
    fn a_retransmitted_oack_does_not_duplicate_the_option_list() {
        let content = file(1024 + 100);
        let mut t = TftpTracker::new(10, 1 << 30);
        let mut budget = FileBudget::new(u64::MAX);
        t.request(
            ep(C),
            ep(S69),
            &rrq("ITLSEP0011.tlv", &[("blksize", "1024"), ("tsize", "0")]),
            seen(1),
        );
        let mut oack = vec![0, 6];
        oack.extend_from_slice(format!("blksize\01024\0tsize\0{}\0", content.len()).as_bytes());
        assert!(t.datagram(ep(ST), ep(C), &oack, seen(2), &mut budget));
        assert!(t.datagram(ep(ST), ep(C), &oack, seen(3), &mut budget));
        t.datagram(ep(C), ep(ST), &ack(0), seen(4), &mut budget);
        for (i, chunk) in content.chunks(1024).enumerate() {
            let n = i as u16 + 1;
            t.datagram(
                ep(ST),
                ep(C),
                &data(n, chunk),
                seen(5 + u64::from(n)),
                &mut budget,
            );
        }
        let files = t.finish();
        let f = &files[0];
        assert!(f.complete);
        let oack_options: Vec<(&str, &str)> = f
            .options
            .iter()
            .filter(|(k, _)| k.starts_with("oack:"))
            .map(|(k, v)| (&**k, &**v))
            .collect();
        let tsize = content.len().to_string();
        assert_eq!(
            oack_options,
            vec![("oack:blksize", "1024"), ("oack:tsize", tsize.as_str())]
        );
        assert!(f.notes.iter().all(|n| !n.contains("OACK")), "{:?}", f.notes);
    }

    #[test]
    fn block_number_wraps_to_zero_and_to_one() {
        let bs = 8;
        let content = file(bs * 70_000 + 3);
        let n = nblocks(content.len(), bs);
        let order: Vec<usize> = (0..n).collect();
        for wrap_to in [0u16, 1] {
            let f = transfer(&content, bs, &order, wrap_to);
            assert!(f.complete, "wrap to {wrap_to}: {:?}", f.error);
            assert_eq!(f.data, content);
        }
    }

    #[test]
    fn error_file_not_found() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        t.request(ep(C), ep(S69), &rrq("CTLSEP0011.tlv", &[]), seen(1));
        let err = b"\0\x05\0\x01File not found\0";
        assert!(t.datagram(ep(ST), ep(C), err, seen(2), &mut budget));
        let f = &t.finish()[0];
        assert!(!f.complete);
        assert_eq!(f.tftp_error_code, Some(1));
        assert_eq!(f.error.as_deref(), Some("TFTP error 1: File not found"));
        assert_eq!(f.last.frame, 2);
    }

    #[test]
    fn write_request_data_flows_from_client() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        let mut wrq = rrq("upload.txt", &[]);
        wrq[1] = 2;
        t.request(ep(C), ep(S69), &wrq, seen(1));
        assert!(t.datagram(ep(ST), ep(C), b"\0\x04\0\0", seen(2), &mut budget));
        assert!(t.datagram(ep(C), ep(ST), &data(1, b"hi"), seen(3), &mut budget));
        let f = &t.finish()[0];
        assert!(f.upload && f.complete);
        assert_eq!(f.data, b"hi");
    }

    #[test]
    fn huge_tsize_allocates_nothing() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        t.request(
            ep(C),
            ep(S69),
            &rrq("x.tlv", &[("tsize", "4294967296")]),
            seen(1),
        );
        t.datagram(ep(ST), ep(C), &data(1, &[1; 512]), seen(2), &mut budget);
        let f = &t.finish()[0];
        assert_eq!(f.size, Some(4_294_967_296));
        assert_eq!(f.missing, vec![(512, 4_294_967_296)]);
        assert_eq!(f.data.len(), 512);
    }

    #[test]
    fn file_limit_cuts_and_says_so() {
        let mut t = TftpTracker::new(10, 1000);
        let mut budget = FileBudget::new(u64::MAX);
        t.request(ep(C), ep(S69), &rrq("big.bin", &[]), seen(1));
        for b in 1..=4u16 {
            t.datagram(
                ep(ST),
                ep(C),
                &data(b, &[7; 512]),
                seen(1 + u64::from(b)),
                &mut budget,
            );
        }
        t.datagram(ep(ST), ep(C), &data(5, &[7; 5]), seen(9), &mut budget);
        let f = &t.finish()[0];
        assert!(!f.complete);
        assert!(f.data.len() <= 1000);
        // Our memory limit is not a download failure: said in the notes, not the error.
        assert_eq!(f.error, None);
        assert_eq!(f.cut, Some(FileCut::PerFileLimit { limit: 1000 }));
        assert_eq!(f.size, Some(4 * 512 + 5));
    }

    /// A 612-byte read with one extra datagram (`stray`, client→server when `from_client`)
    /// after block 1.
    fn read_with_stray(stray: &[u8], from_client: bool) -> FileTransfer {
        let mut t = TftpTracker::new(10, 1 << 30);
        let mut budget = FileBudget::new(u64::MAX);
        let content = file(612);
        t.request(ep(C), ep(S69), &rrq("ITLSEP0011.tlv", &[]), seen(1));
        t.datagram(
            ep(ST),
            ep(C),
            &data(1, &content[..512]),
            seen(2),
            &mut budget,
        );
        t.datagram(ep(C), ep(ST), &ack(1), seen(3), &mut budget);
        let (src, dst) = if from_client { (C, ST) } else { (ST, C) };
        t.datagram(ep(src), ep(dst), stray, seen(4), &mut budget);
        t.datagram(
            ep(ST),
            ep(C),
            &data(2, &content[512..]),
            seen(5),
            &mut budget,
        );
        t.datagram(ep(C), ep(ST), &ack(2), seen(6), &mut budget);
        let f = t.finish().remove(0);
        assert_eq!(f.data, content, "{:?}", f.notes);
        f
    }

    #[test]
    fn a_stray_ack_far_ahead_does_not_move_the_block_numbering() {
        let f = read_with_stray(&ack(40000), true);
        assert!(f.complete, "{:?} {:?}", f.error, f.notes);
        assert_eq!(f.size, Some(612));
        assert!(f.missing.is_empty(), "{:?}", f.missing);
        assert!(
            f.notes.iter().any(|n| n.contains("far ahead")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn a_stray_data_block_far_ahead_is_ignored() {
        let f = read_with_stray(&data(40000, &[9; 512]), false);
        assert!(f.complete, "{:?} {:?}", f.error, f.notes);
        assert_eq!(f.size, Some(612));
        assert!(f.missing.is_empty(), "{:?}", f.missing);
    }

    #[test]
    fn a_long_capture_loss_is_still_followed_after_it() {
        let content = file(512 * 3000 + 10);
        let n = nblocks(content.len(), 512);
        // Blocks 5..=2000 (indexes 4..2000) are not in the capture.
        let order: Vec<usize> = (0..4).chain(2000..n).collect();
        let f = transfer(&content, 512, &order, 0);
        assert_eq!(f.error, None, "{:?}", f.notes);
        assert_eq!(f.size, Some(content.len() as u64));
        // Block 2001, the first after the loss, is believed only once 2002 follows it.
        assert_eq!(f.missing, vec![(4 * 512, 2001 * 512)]);
    }

    #[test]
    fn oack_tsize_zero_does_not_make_a_cut_transfer_look_finished() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        request_with_tsize(&mut t, &mut budget, 0);
        t.datagram(ep(ST), ep(C), &data(1, &file(512)), seen(4), &mut budget);
        t.datagram(ep(C), ep(ST), &ack(1), seen(5), &mut budget);
        let f = &t.finish()[0];
        assert!(!f.complete);
        assert_eq!(
            f.error.as_deref(),
            Some("transfer did not finish in the capture"),
            "{:?}",
            f.notes
        );
        assert_eq!(f.size, None);
        assert!(
            f.notes.iter().any(|n| n.contains("tsize 0")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn an_empty_file_with_tsize_zero_is_complete() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(u64::MAX);
        request_with_tsize(&mut t, &mut budget, 0);
        t.datagram(ep(ST), ep(C), &data(1, &[]), seen(4), &mut budget);
        let f = &t.finish()[0];
        assert!(f.complete, "{:?} {:?}", f.error, f.notes);
        assert_eq!(f.size, Some(0));
    }

    #[test]
    fn out_of_order_blocks_count_against_the_global_file_budget() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(2000);
        t.request(ep(C), ep(S69), &rrq("big.bin", &[]), seen(1));
        // Block 1 never comes: blocks 2..=10 are held.
        for b in 2..=10u16 {
            t.datagram(
                ep(ST),
                ep(C),
                &data(b, &[7; 512]),
                seen(u64::from(b)),
                &mut budget,
            );
        }
        assert!(budget.used <= 2000, "{} bytes held", budget.used);
        assert!(budget.refusals > 0);
        let f = &t.finish()[0];
        assert_eq!(f.cut, Some(FileCut::TotalLimit), "{:?}", f.notes);
        // Block 1 is the capture's gap; the dropped blocks after it are the limit's.
        assert_eq!(f.missing, vec![(0, 512)]);
    }

    /// Statement 6 (the phone downloads its CTL and ITL over TFTP at boot): blocks held
    /// ahead of a gap are charged to the capture's memory budget; past it they are a cut
    /// named after the budget, not bytes the capture lacks, and the budget counts the
    /// refusal for the report.
    #[test]
    fn held_blocks_are_charged_to_the_memory_budget_and_cut_when_it_refuses() {
        let memory = MemoryBudget::new(4 * (512 + HELD_OVERHEAD));
        let mut t = TftpTracker::new(10, 1 << 20);
        t.set_memory(&memory);
        let mut budget = FileBudget::new(u64::MAX);
        t.request(ep(C), ep(S69), &rrq("ITLSEP0011.tlv", &[]), seen(1));
        // Block 1 never comes: blocks 2..=10 would be held.
        for b in 2..=10u16 {
            t.datagram(
                ep(ST),
                ep(C),
                &data(b, &[7; 512]),
                seen(u64::from(b)),
                &mut budget,
            );
            assert!(memory.used() <= memory.cap(), "{} held", memory.used());
        }
        assert_eq!(memory.used(), 4 * (512 + HELD_OVERHEAD));
        assert_eq!(memory.refusals(), (5, 5), "each refused block is counted");
        let f = &t.finish()[0];
        assert_eq!(
            f.cut,
            Some(FileCut::HeldOverMemoryBudget {
                budget: memory.cap() as u64
            }),
            "{:?}",
            f.notes
        );
        assert_eq!(f.missing, vec![(0, 512)]);
        assert_eq!(
            memory.used(),
            0,
            "a finished transfer gives its blocks back"
        );
    }

    /// Held blocks taken into the file in order give their memory back at once.
    #[test]
    fn held_blocks_release_the_memory_budget_when_the_gap_fills() {
        let memory = MemoryBudget::new(1 << 20);
        let mut t = TftpTracker::new(10, 1 << 20);
        t.set_memory(&memory);
        let mut budget = FileBudget::new(u64::MAX);
        t.request(ep(C), ep(S69), &rrq("ITLSEP0011.tlv", &[]), seen(1));
        for b in 2..=4u16 {
            t.datagram(
                ep(ST),
                ep(C),
                &data(b, &[7; 512]),
                seen(u64::from(b)),
                &mut budget,
            );
        }
        assert_eq!(memory.used(), 3 * (512 + HELD_OVERHEAD));
        t.datagram(ep(ST), ep(C), &data(1, &[7; 512]), seen(5), &mut budget);
        assert_eq!(memory.used(), 0);
        t.datagram(ep(ST), ep(C), &data(5, &[7; 3]), seen(6), &mut budget);
        let f = &t.finish()[0];
        assert!(f.complete, "{:?}", f.notes);
        assert_eq!(memory.peak(), 3 * (512 + HELD_OVERHEAD));
    }

    #[test]
    fn held_blocks_are_not_charged_twice() {
        let mut t = TftpTracker::new(10, 1 << 20);
        let mut budget = FileBudget::new(3 * 512 + 10);
        t.request(ep(C), ep(S69), &rrq("x.bin", &[]), seen(1));
        let content = file(3 * 512 + 10);
        let blocks: Vec<&[u8]> = content.chunks(512).collect();
        for (i, b) in [(3u16, 2usize), (2, 1), (4, 3), (1, 0)] {
            t.datagram(
                ep(ST),
                ep(C),
                &data(i, blocks[b]),
                seen(u64::from(i)),
                &mut budget,
            );
        }
        assert_eq!(budget.used, content.len() as u64);
        let f = &t.finish()[0];
        assert!(f.complete, "{:?}", f.notes);
        assert_eq!(f.data, content);
    }

    proptest! {
        #[test]
        fn parser_never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse(&b);
        }

        #[test]
        fn blocks_in_any_order_give_the_same_file(
            len in 0usize..5000,
            swaps in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..30),
            dups in proptest::collection::vec(any::<u16>(), 0..10),
        ) {
            let content = file(len);
            let n = nblocks(len, 512);
            let mut order: Vec<usize> = (0..n).collect();
            for (a, b) in swaps {
                order.swap(a as usize % n, b as usize % n);
            }
            for d in dups {
                order.push(d as usize % n);
            }
            let f = transfer(&content, 512, &order, 0);
            prop_assert!(f.complete);
            prop_assert_eq!(f.data, content);
        }
    }
}
