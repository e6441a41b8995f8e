//! Application protocols that carry the phone's trust evidence: TFTP, HTTP on TCP 6970,
//! TLS handshakes (TVS on 2445 above all) and clear-text SIP alarms.
//!
//! Each protocol module turns transport data into [`crate::evidence`] records; the
//! [`Collector`] is the single entry point the pipeline feeds packet by packet.
//!
//! Cheap by default: a UDP datagram costs a port check (plus two map lookups while a TFTP
//! transfer is open); a TCP segment costs one map lookup, and a flow is only created for a
//! SYN to a watched port or a payload whose first bytes look like a TLS handshake, or an HTTP
//! or SIP request to a watched port. Nothing is copied for flows that do not matter.

mod capped;
pub mod http;
pub mod sccp;
pub mod sip;
pub mod sip_tcp;
pub mod tftp;
pub mod tls;
pub mod x509;

mod conn;
mod losses;
mod ports;
pub mod sessions;

pub use ports::PortSet;

use crate::capture::{CaptureClock, ClockMove};
use crate::events::{AppLimit, FileLimit, LimitEvent, RecordKind, RecordLimit};
use crate::evidence::{
    EvidenceLoss, FileTransfer, LossReason, PhoneTrustAlarm, SccpRegistration, Seen,
    SipRegistration, TlsAggregate, TlsSession,
};
use crate::net::{Packet, Transport};
use crate::transport::udp::Datagram;
use sha1::Digest;
use std::time::Duration;

/// What to follow and the memory limits. Every limit that cuts something is reported in
/// [`Collected::limits_hit`].
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// UDP ports where TFTP requests are accepted (69 by default; CUCM also lists 6969).
    pub tftp_ports: Vec<u16>,
    /// TCP ports where HTTP downloads are followed (6970 by default).
    pub http_ports: Vec<u16>,
    /// TCP ports where a connection is followed from its SYN, so that unanswered or refused
    /// attempts still show as TLS sessions (TLS on other ports is found by content).
    pub tls_ports: Vec<u16>,
    /// Ports of clear-text SIP where phones' `DeviceTLInfo` alarms are read (UDP and TCP;
    /// 5060).
    pub sip_ports: Vec<u16>,
    /// Whether a whole signed config keeps its bytes (true, the default: `extract` and the
    /// library's callers read them) or only what the diagnosis reads of it
    /// ([`summarize_signed_config`]). `analyze` says false: at 50,000 phones each phone's own
    /// config was ~2.2 KB of the ~7.5 KiB of evidence held per phone (issue 20).
    pub keep_signed_config_bytes: bool,
    /// Largest file kept, in bytes (16 MiB by default: eight times the phones' own 2 MiB
    /// download limit; trust lists and configurations are a few KiB; larger files such as
    /// firmware images are cut and reported incomplete).
    pub max_file_size: u64,
    /// Total file bytes kept across all transfers (1 GiB by default).
    pub max_total_file_bytes: u64,
    /// Bytes all parser buffers of the captures read at once may hold: out-of-order TCP
    /// data and partial TLS records and handshake messages (32 MiB; `--max-memory`). Each
    /// capture gets an equal share of it ([`crate::pipeline`]); a buffer that would pass it
    /// gives up what it waited for, and is reported among the limits.
    pub max_memory: usize,
    /// Out-of-order bytes one TCP direction may hold while waiting for a hole (1 MiB).
    pub stream_buffer_cap: usize,
    /// Out-of-order bytes all TCP directions together may hold (256 MiB).
    pub global_buffer_cap: usize,
    /// TCP connections followed at once (50,000).
    pub max_flows: usize,
    /// TFTP transfers open at once (10,000).
    pub max_tftp_transfers: usize,
    /// Largest TLS handshake message buffered (1 MiB; the protocol allows 16 MiB).
    pub max_handshake_message: usize,
    /// Most file transfers, TLS sessions of phones and TLS aggregates reported (100,000
    /// each).
    pub max_records: usize,
    /// Latest TLS sessions of hosts that do not behave like phones kept one by one (1,000);
    /// older ones are summed per server and certificate.
    pub max_other_tls_sessions: usize,
    /// A TCP connection the server has not answered is closed after this idle time of
    /// capture time (60 s, Suricata's `new` timeout).
    pub tcp_timeout_new: Duration,
    /// An answered TCP connection is closed after this idle time (3600 s).
    pub tcp_timeout_established: Duration,
    /// A TFTP transfer is ended after this idle time (60 s; phones retry within seconds).
    pub tftp_timeout: Duration,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            tftp_ports: vec![69],
            http_ports: vec![6970],
            tls_ports: vec![2445, 443, 8443, 2443, 5061, 3804, 6971, 6972],
            sip_ports: vec![5060],
            max_file_size: 16 << 20,
            max_total_file_bytes: 1 << 30,
            max_memory: DEFAULT_MAX_MEMORY,
            stream_buffer_cap: 1 << 20,
            global_buffer_cap: 256 << 20,
            max_flows: 50_000,
            max_tftp_transfers: 10_000,
            max_handshake_message: 1 << 20,
            max_records: 100_000,
            keep_signed_config_bytes: true,
            max_other_tls_sessions: 1_000,
            tcp_timeout_new: Duration::from_secs(60),
            tcp_timeout_established: Duration::from_secs(3600),
            tftp_timeout: Duration::from_secs(60),
        }
    }
}

/// Default of [`CollectorConfig::max_memory`]: 16 MiB for all captures read at once (two
/// captures at once at 8 MiB each; a phone's evidence needs a few KiB per connection).
pub const DEFAULT_MAX_MEMORY: usize = 16 << 20;

/// Everything the protocol stage found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// File transfers (TFTP and HTTP), in order of their first frame.
    pub files: Vec<FileTransfer>,
    /// TLS conversations kept one by one, in order of their first frame.
    pub tls: Vec<TlsSession>,
    /// The other TLS sessions, summed per server endpoint and certificate, in order of
    /// their first frame.
    pub tls_aggregates: Vec<TlsAggregate>,
    /// Trust-list alarms the phones sent.
    pub alarms: Vec<PhoneTrustAlarm>,
    /// SCCP registrations (TCP 2000), in order of their frame.
    pub registrations: Vec<SccpRegistration>,
    /// SIP registrations (UDP and TCP 5060), in order of their frame.
    pub sip_registrations: Vec<SipRegistration>,
    /// Limits that cut something off, typed (the report words them).
    pub limits_hit: Vec<LimitEvent>,
    /// Other facts worth knowing (e.g. alarms the capture lost bytes of), in words.
    pub notes: Vec<String>,
    /// Evidence the limits may have cost, by client and server port.
    pub losses: Vec<EvidenceLoss>,
    /// Frames dated far from their neighbours that did not move the idle clock (no later
    /// frames confirmed their time): a garbage timestamp, another host's skewed clock.
    pub time_anomalies: u64,
    /// Jumps of the capture's time that later frames confirmed (the idle clock stepped).
    pub clock_steps: u64,
}

/// The records a [`Collector`] has ended so far ([`Collector::so_far`]). Every list but
/// `recent_tls` only grows at its end while packets come.
#[derive(Debug)]
pub struct SoFar<'a> {
    /// TFTP transfers ended, in the order they ended.
    pub tftp_files: &'a [FileTransfer],
    /// HTTP downloads ended, in the order they ended.
    pub http_files: &'a [FileTransfer],
    /// `DeviceTLInfo` alarms over SIP/UDP.
    pub udp_alarms: &'a [PhoneTrustAlarm],
    /// `DeviceTLInfo` alarms over SIP/TCP.
    pub tcp_alarms: &'a [PhoneTrustAlarm],
    /// SCCP registrations.
    pub registrations: &'a [SccpRegistration],
    /// SIP registrations over UDP.
    pub udp_sip_registrations: &'a [SipRegistration],
    /// SIP registrations over TCP.
    pub tcp_sip_registrations: &'a [SipRegistration],
    /// TLS sessions of hosts known as phones when they ended.
    pub phone_tls: &'a [TlsSession],
    /// The latest TLS sessions of other hosts (a bounded window, not append-only).
    pub recent_tls: &'a std::collections::VecDeque<TlsSession>,
}

/// A cap on the file bytes kept in memory across all transfers.
#[derive(Debug, Clone)]
pub struct FileBudget {
    used: u64,
    cap: u64,
    /// Times a file was cut because the cap was reached.
    pub refusals: u64,
    /// The packet whose data was refused first (dated by the collector after each packet).
    pub first_refused_frame: Option<u64>,
}

impl FileBudget {
    /// A budget of `cap` bytes.
    pub fn new(cap: u64) -> Self {
        FileBudget {
            used: 0,
            cap,
            refusals: 0,
            first_refused_frame: None,
        }
    }

    /// Reserves `n` bytes; false (and counted) when they do not fit.
    pub fn take(&mut self, n: usize) -> bool {
        let n = n as u64;
        if self.used.saturating_add(n) > self.cap {
            self.refusals += 1;
            return false;
        }
        self.used += n;
        true
    }

    /// Gives back `n` bytes taken earlier and not kept after all.
    pub fn release(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n as u64);
    }
}

/// MD5, SHA-1 and SHA-256 of `data`, as raw bytes (the reports print them as hex).
pub(crate) fn digests(
    data: &[u8],
) -> (
    Option<crate::evidence::Md5Digest>,
    Option<crate::evidence::Sha1Digest>,
    Option<crate::evidence::Sha256Digest>,
) {
    use crate::evidence::HexDigest;
    (
        Some(HexDigest(md5::Md5::digest(data).into())),
        Some(HexDigest(sha1::Sha1::digest(data).into())),
        Some(HexDigest(sha2::Sha256::digest(data).into())),
    )
}

/// Replaces a finished transfer's bytes by what the diagnosis reads of them
/// ([`crate::evidence::SignedConfigSummary`]: header, signed-message digest,
/// `callManagerGroup`) when it is a whole signed config (`.xml.sgn`, not `.enc.sgn`,
/// whose checks read its payload) that parses and names a usable signature algorithm.
/// Anything else keeps its bytes, so that the checks that explain a bad file are unchanged.
/// True when the bytes were dropped.
pub fn summarize_signed_config(file: &mut crate::evidence::FileTransfer) -> bool {
    if file.signed_config.is_some() {
        return false;
    }
    match summary_of(file, &file.data) {
        Some(summary) => {
            file.signed_config = Some(Box::new(summary));
            file.data = crate::evidence::FileBytes::default();
            true
        }
        None => false,
    }
}

/// What [`summarize_signed_config`] keeps of `data`, the bytes of `file`; None when the bytes
/// must be kept.
fn summary_of(
    file: &crate::evidence::FileTransfer,
    data: &[u8],
) -> Option<crate::evidence::SignedConfigSummary> {
    if !file.complete
        || file.upload
        || file.kind() != crate::evidence::FileKind::SignedConfig
        || file.name.to_ascii_lowercase().ends_with(".enc.sgn")
    {
        return None;
    }
    let parsed = crate::cisco::signed::parse_signed_file(data).ok()?;
    let signed_digest = crate::cisco::verify::signed_digest(data, &parsed.header)?;
    let header = data.get(..usize::from(parsed.header.header_length))?;
    Some(crate::evidence::SignedConfigSummary {
        header: header.into(),
        len: u64::try_from(data.len()).unwrap_or(u64::MAX),
        signed_digest: signed_digest.into_boxed_slice(),
        callmanager_group: crate::cisco::config::callmanager_group(data)
            .map(|names| names.iter().map(|n| intern(n)).collect()),
    })
}

/// Gives a finished transfer its bytes: [`store_file`], or, when `keep_config_bytes` is
/// false ([`CollectorConfig::keep_signed_config_bytes`]) and the file is a signed config,
/// only what [`summarize_signed_config`] keeps (before the store, whose weak entry would
/// otherwise hold the whole allocation until it is pruned).
pub(crate) fn finish_transfer(
    file: &mut crate::evidence::FileTransfer,
    data: Vec<u8>,
    keep_config_bytes: bool,
) {
    if !keep_config_bytes && let Some(summary) = summary_of(file, &data) {
        file.signed_config = Some(Box::new(summary));
        file.data = crate::evidence::FileBytes::default();
        return;
    }
    file.data = store_file(data, file.sha256.as_ref());
}

/// Distinct texts [`intern`] keeps at most; past it a text is allocated on its own (a capture
/// of crafted headers cannot grow the table without bound).
const MAX_INTERNED: usize = 1 << 16;

static INTERNED: std::sync::Mutex<Option<std::collections::HashSet<std::sync::Arc<str>>>> =
    std::sync::Mutex::new(None);

/// `text` as one shared copy: the option names and values of a fleet's transfers (`Host`,
/// `User-Agent`, `oack:blksize` …) are the same for every phone, so 50,000 phones would
/// otherwise hold 50,000 copies of each (issue 20). Process-wide, like the file store; a
/// text longer than [`MAX_RECORD_TEXT`] is given its own copy, not kept in the table.
pub fn intern(text: &str) -> std::sync::Arc<str> {
    let mut guard = INTERNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let set = guard.get_or_insert_with(std::collections::HashSet::new);
    if let Some(held) = set.get(text) {
        return held.clone();
    }
    let new: std::sync::Arc<str> = std::sync::Arc::from(text);
    // The table outlives every capture: only short texts go in, so it holds at most
    // MAX_INTERNED × MAX_RECORD_TEXT bytes whatever a crafted config names.
    if set.len() < MAX_INTERNED && text.len() <= MAX_RECORD_TEXT {
        set.insert(new.clone());
    }
    new
}

/// A finished transfer's options, each name and value [`intern`]ed.
pub(crate) fn intern_options(
    options: Vec<(String, String)>,
) -> Vec<(std::sync::Arc<str>, std::sync::Arc<str>)> {
    options
        .iter()
        .take(MAX_RECORD_OPTIONS)
        .map(|(name, value)| (intern(cut_text(name)), intern(cut_text(value))))
        .collect()
}

/// Longest name, option name or option value a file record keeps, in bytes. A phone's names
/// are short (`ITLSEP<MAC>.tlv`, `SEP<MAC>.cnf.xml.sgn`); without a cap one crafted request
/// could make each of `--max-records` records own a 64 KiB head (issue 19: memory stays
/// bounded whatever the input claims).
pub const MAX_RECORD_TEXT: usize = 1024;
/// Options (TFTP options, HTTP headers worth keeping) a file record keeps at most.
pub const MAX_RECORD_OPTIONS: usize = 32;

/// `text` cut to at most [`MAX_RECORD_TEXT`] bytes, at a character boundary.
fn cut_text(text: &str) -> &str {
    let mut end = text.len().min(MAX_RECORD_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cuts a record's name to [`MAX_RECORD_TEXT`] bytes and says so in its notes: no phone's
/// file has such a name, so the cut changes no verdict, and the record stays small.
pub(crate) fn bound_record_text(file: &mut crate::evidence::FileTransfer) {
    let len = file.name.len();
    if len > MAX_RECORD_TEXT {
        let kept = cut_text(&file.name).len();
        file.name.truncate(kept);
        file.name.shrink_to_fit();
        file.notes.push(format!(
            "the requested name is {len} bytes long: only its first {kept} are kept"
        ));
    }
}

/// Content-addressed store of finished files' bytes: every phone of a cluster downloads the
/// same ITL and CTL, so a SPAN of N phones would otherwise hold N copies. Keyed by SHA-256;
/// entries are weak, so a file nobody holds any more is freed (its entry is pruned later).
struct FileStore {
    by_hash: std::collections::HashMap<[u8; 32], std::sync::Weak<[u8]>>,
    /// Entries after the last pruning: prune again when the map has doubled since.
    pruned_at: usize,
    /// Transfers stored, and of those, how many found their bytes already stored.
    stored: u64,
    shared: u64,
}

static FILE_STORE: std::sync::Mutex<Option<FileStore>> = std::sync::Mutex::new(None);

/// How often [`store_file`] found a file's contents already stored (for benchmarks and
/// tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStoreStats {
    /// Files stored since the process started.
    pub stored: u64,
    /// Of those, files whose identical bytes were already held: they share that copy.
    pub shared: u64,
}

/// Counts of [`store_file`] since the process started.
pub fn file_store_stats() -> FileStoreStats {
    let guard = FILE_STORE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    guard
        .as_ref()
        .map_or_else(FileStoreStats::default, |s| FileStoreStats {
            stored: s.stored,
            shared: s.shared,
        })
}

/// Stores a finished transfer's bytes: when identical bytes are already held (same SHA-256
/// and equal byte for byte) the transfer shares that copy and `data` is freed. `sha256` is
/// the digest when the caller has computed it already (complete files).
pub fn store_file(
    data: Vec<u8>,
    sha256: Option<&crate::evidence::Sha256Digest>,
) -> crate::evidence::FileBytes {
    use std::sync::Arc;
    // Empty files (failed transfers) share nothing worth the bookkeeping.
    if data.is_empty() {
        return crate::evidence::FileBytes::default();
    }
    let key: [u8; 32] = match sha256 {
        Some(d) => d.0,
        None => sha2::Sha256::digest(&data).into(),
    };
    let mut guard = FILE_STORE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let store = guard.get_or_insert_with(|| FileStore {
        by_hash: std::collections::HashMap::new(),
        pruned_at: 0,
        stored: 0,
        shared: 0,
    });
    store.stored += 1;
    if let Some(held) = store.by_hash.get(&key).and_then(std::sync::Weak::upgrade)
        && *held == *data
    {
        store.shared += 1;
        return held.into();
    }
    // Exactly sized: a TFTP buffer grown block by block has up to half its capacity spare.
    let bytes: Arc<[u8]> = Arc::from(data);
    store.by_hash.insert(key, Arc::downgrade(&bytes));
    if store.by_hash.len() >= 2 * store.pruned_at.max(1024) {
        // A dead weak entry still holds its allocation: drop those of freed files.
        store.by_hash.retain(|_, w| w.strong_count() > 0);
        store.pruned_at = store.by_hash.len();
    }
    bytes.into()
}

/// Turns packets into evidence: file transfers, TLS sessions, phone alarms.
#[derive(Debug)]
pub struct Collector {
    config: CollectorConfig,
    sip_ports: PortSet,
    tftp_ports: PortSet,
    tftp: tftp::TftpTracker,
    tcp: conn::Connections,
    files_budget: FileBudget,
    truncated_tftp: u64,
    /// Where the first TFTP packet cut by the snaplen was, and the first request not
    /// followed: the limit events say where they started.
    first_truncated_tftp: Option<u64>,
    first_dropped_request: Option<u64>,
    alarms: capped::Capped<PhoneTrustAlarm>,
    /// SIP registrations over UDP.
    sip_registrations: capped::Capped<SipRegistration>,
    /// The capture time idle sweeps measure against, and when the next one is due.
    clock: CaptureClock,
    next_sweep: Option<i64>,
    sweep_every: i64,
    tftp_idle_ns: i64,
    tftp_expired: u64,
}

/// Seconds of capture time between idle sweeps at least (a sweep looks at every open flow).
const MIN_SWEEP_INTERVAL_NS: i64 = 1_000_000_000;

/// The shortest idle timeout, in nanoseconds: a jump of capture time below it cannot idle
/// out a flow by itself, so the clock counts only larger ones as jumps.
fn shortest_timeout_ns(config: &CollectorConfig) -> i64 {
    let shortest = config
        .tcp_timeout_new
        .min(config.tcp_timeout_established)
        .min(config.tftp_timeout);
    i64::try_from(shortest.as_nanos()).unwrap_or(i64::MAX)
}

/// Capture time between idle sweeps: an eighth of the shortest timeout, at least a second.
fn sweep_every(config: &CollectorConfig) -> i64 {
    (shortest_timeout_ns(config) / 8).max(MIN_SWEEP_INTERVAL_NS)
}

/// Emergency idle time of a TFTP transfer, used when the transfer table is full.
const TFTP_EMERGENCY_NS: i64 = 5_000_000_000;

impl Collector {
    /// A collector with the given configuration.
    pub fn new(config: CollectorConfig) -> Self {
        let mut collector = Collector {
            tftp: tftp::TftpTracker::new(config.max_tftp_transfers, config.max_file_size)
                .with_max_records(config.max_records)
                .keeping_config_bytes(config.keep_signed_config_bytes),
            tcp: conn::Connections::new(&config),
            sip_ports: PortSet::new(&config.sip_ports),
            tftp_ports: PortSet::new(&config.tftp_ports),
            files_budget: FileBudget::new(config.max_total_file_bytes),
            truncated_tftp: 0,
            first_truncated_tftp: None,
            first_dropped_request: None,
            alarms: capped::Capped::new(config.max_records),
            sip_registrations: capped::Capped::new(config.max_records),
            clock: CaptureClock::new(shortest_timeout_ns(&config)),
            next_sweep: None,
            sweep_every: sweep_every(&config),
            tftp_idle_ns: i64::try_from(config.tftp_timeout.as_nanos()).unwrap_or(i64::MAX),
            tftp_expired: 0,
            config,
        };
        // Held TFTP blocks share the budget of the connection table's buffers.
        let memory = collector.tcp.memory().clone();
        collector.tftp.set_memory(&memory);
        collector
    }

    /// Charges the parser buffers to `memory` (this capture's share of the pool of the
    /// captures read in parallel) instead of a budget of its own of `max_memory` bytes.
    pub fn with_memory(mut self, memory: crate::budget::MemoryBudget) -> Self {
        self.tftp.set_memory(&memory);
        self.tcp.set_memory(memory);
        self
    }

    /// Closes what has been idle too long, every eighth of the shortest timeout of capture
    /// time (at least every second), measured on the capture clock: a frame dated far
    /// from its neighbours moves nothing until later frames confirm its time.
    fn tick(&mut self, ts: i64) {
        let every = self.sweep_every;
        match self.clock.observe(ts) {
            ClockMove::Held => return,
            ClockMove::Stepped => {
                // A new time line: the next sweep is due a full interval into it, so a
                // burst of another host's skewed frames cannot idle out this host's flows.
                let now = self.clock.idle_now();
                self.tcp.set_now(now);
                self.tftp.set_now(now);
                self.next_sweep = Some(now.saturating_add(every));
                return;
            }
            ClockMove::InLine => {}
        }
        let now = self.clock.idle_now();
        self.tcp.set_now(now);
        self.tftp.set_now(now);
        let due = *self
            .next_sweep
            .get_or_insert_with(|| now.saturating_add(every));
        if now < due {
            return;
        }
        self.next_sweep = Some(now.saturating_add(every));
        self.tcp.expire(&mut self.files_budget);
        if self.tftp.active() {
            self.tftp_expired += self.tftp.expire(now, self.tftp_idle_ns);
        }
    }

    /// Takes one decoded packet (the hot path).
    pub fn packet(&mut self, pkt: &Packet<'_>) {
        self.tick(pkt.ts.0);
        match pkt.transport {
            Transport::Tcp(seg) => self.tcp.segment(pkt, &seg, &mut self.files_budget),
            Transport::Udp { .. } => self.udp(pkt),
            Transport::Other { .. } => {}
        }
        self.date_limits(pkt.frame);
    }

    /// Dates the first refusal of the budgets and of the phone set at this packet: they
    /// count without knowing the packet (issue 19: every limit event says where it
    /// happened). Counter reads only; nothing is taken on the bulk path.
    fn date_limits(&mut self, frame: u64) {
        if self.files_budget.refusals > 0 {
            self.files_budget.first_refused_frame.get_or_insert(frame);
        }
        self.tcp.phone_hosts.date_refusals(frame);
        self.tcp.memory().date_refusals(frame);
    }

    fn udp(&mut self, pkt: &Packet<'_>) {
        let Some(dg) = Datagram::from_packet(pkt) else {
            return;
        };
        if self.sip_ports.contains(dg.dst.port) {
            // Cheap test first: only a REFER can carry the alarm.
            if dg
                .payload
                .get(..6)
                .is_some_and(|m| m.eq_ignore_ascii_case(b"REFER "))
                && let Some(info) = sip::parse_device_tl_info(dg.payload)
            {
                self.tcp.phone_hosts.mark(dg.src.ip);
                self.alarms.push(info.into_alarm(dg.src, dg.seen));
            } else if dg
                .payload
                .get(..9)
                .is_some_and(|m| m.eq_ignore_ascii_case(b"REGISTER "))
                && let Some(reg) = sip::parse_register(dg.payload)
            {
                // How a phone names itself over SIP (issue 19 item 6).
                conn::note_sip_registration(
                    &mut self.tcp.phone_hosts,
                    &mut self.sip_registrations,
                    reg,
                    dg.seen,
                    dg.src,
                    dg.dst,
                );
            }
            return;
        }
        if self.tftp_ports.contains(dg.dst.port) && tftp::is_request(dg.payload) {
            self.tcp.phone_hosts.mark(dg.src.ip);
            if self.tftp.is_full() {
                self.tftp_expired += self.tftp.expire(self.clock.idle_now(), TFTP_EMERGENCY_NS);
            }
            let dropped = self.tftp.dropped_requests;
            self.tftp.request(dg.src, dg.dst, dg.payload, dg.seen);
            if self.tftp.dropped_requests > dropped {
                self.first_dropped_request.get_or_insert(dg.seen.frame);
                self.tcp.losses.add(
                    Some(dg.src.ip),
                    dg.dst.port,
                    LossReason::TftpTableFull,
                    dg.seen,
                );
            }
        } else if self.tftp.active() {
            if dg.truncated {
                // A cut block would pass for the short final block; treat it as lost.
                if self.tftp.owns(dg.src, dg.dst) {
                    self.truncated_tftp += 1;
                    self.first_truncated_tftp.get_or_insert(dg.seen.frame);
                }
                return;
            }
            if dg.payload.get(..2) == Some(&tftp::opcode::DATA.to_be_bytes()[..]) {
                // A block may have to be held ahead of a gap: other hosts' flows give up
                // their memory first (the phone's download is its evidence).
                self.tcp
                    .make_room_for_phone(dg.payload.len(), &mut self.files_budget);
            }
            self.tftp
                .datagram(dg.src, dg.dst, dg.payload, dg.seen, &mut self.files_budget);
        }
    }

    /// The connection table's work so far (segments plus connections visited by its
    /// scans), for the scaling tests: counted, never timed.
    pub fn work(&self) -> u64 {
        self.tcp.work()
    }

    /// The records ended so far, without ending anything (for `--follow`, which diagnoses a
    /// phone mid-capture): each list grows only at its end, so a reader can keep its place.
    pub fn so_far(&self) -> SoFar<'_> {
        let keeper = self.tcp.tls_keeper();
        SoFar {
            tftp_files: self.tftp.done(),
            http_files: self.tcp.done_files(),
            udp_alarms: self.alarms.items(),
            tcp_alarms: self.tcp.done_alarms(),
            registrations: self.tcp.done_registrations(),
            udp_sip_registrations: self.sip_registrations.items(),
            tcp_sip_registrations: self.tcp.done_sip_registrations(),
            phone_tls: keeper.phone_sessions(),
            recent_tls: keeper.recent_sessions(),
        }
    }

    /// Ends every open transfer and connection and returns what was found.
    pub fn finish(mut self) -> Collected {
        let mut limits = Vec::new();
        let mut notes = Vec::new();
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        if self.tftp.dropped_requests > 0 {
            limits.push(LimitEvent::Application(AppLimit::TftpRequestsNotFollowed {
                count: self.tftp.dropped_requests,
                max: n(self.config.max_tftp_transfers),
                first_frame: self.first_dropped_request,
            }));
        }
        if self.truncated_tftp > 0 {
            limits.push(LimitEvent::Application(AppLimit::TftpSnaplenCut {
                count: self.truncated_tftp,
                first_frame: self.first_truncated_tftp,
            }));
        }
        if self.tftp_expired > 0 {
            notes.push(format!(
                "{} TFTP transfers idle longer than {} s of capture time were ended",
                self.tftp_expired,
                self.config.tftp_timeout.as_secs()
            ));
        }
        let time_anomalies = self.clock.anomalies();
        if time_anomalies > 0 {
            notes.push(format!(
                "{time_anomalies} frames dated more than {} s from their neighbours did not move the capture clock (time anomalies)",
                shortest_timeout_ns(&self.config).max(1_000_000_000) / 1_000_000_000
            ));
        }
        let tcp = self.tcp.finish(&mut self.files_budget);
        let mut losses = tcp.losses;
        let mut notes_tcp = tcp.notes;
        notes.append(&mut notes_tcp);
        let mut tls = tcp.tls;
        let mut tls_aggregates = tcp.tls_aggregates;
        tls_aggregates.sort_by_key(|a| a.first.frame);
        limits.extend(tcp.limits);
        let (mut files, tftp_dropped, tftp_first_dropped) = self.tftp.finish_counted_at();
        // Records over the limit are not attributed to a host: they may concern any phone.
        let unlisted = |losses: &mut Vec<EvidenceLoss>, port: u16, count: u64| {
            if count > 0 {
                losses.push(EvidenceLoss {
                    client: None,
                    server_port: port,
                    reason: LossReason::RecordLimit,
                    count,
                    first: Seen::default(),
                });
            }
        };
        unlisted(&mut losses, 69, tftp_dropped);
        let max_records = n(self.config.max_records);
        if tftp_dropped > 0 {
            limits.push(LimitEvent::Records(RecordLimit::NotKept {
                what: RecordKind::TftpTransfers,
                count: tftp_dropped,
                max: max_records,
                first_frame: tftp_first_dropped,
            }));
        }
        // Exactly the room needed: grown by doubling, the list of a fleet's transfers would
        // hold up to twice its size.
        files.reserve_exact(tcp.files.len());
        files.extend(tcp.files);
        if self.files_budget.refusals > 0 {
            limits.push(LimitEvent::Files(FileLimit::TotalRefusals {
                count: self.files_budget.refusals,
                total: self.config.max_total_file_bytes,
                first_frame: self.files_budget.first_refused_frame,
            }));
        }
        // A cut is a lost part of a file, so it must show among the limits, not only on the
        // file; the trackers set the typed `cut` (issue 19, item 2: no sentence is read).
        let cut = files.iter().filter(|f| f.cut.is_some()).count();
        if cut > 0 {
            limits.push(LimitEvent::Files(FileLimit::TransfersCut {
                count: n(cut),
                per_file: self.config.max_file_size,
                total: self.config.max_total_file_bytes,
                first_frame: files
                    .iter()
                    .filter(|f| f.cut.is_some())
                    .map(|f| f.first.frame)
                    .min(),
            }));
        }
        files.sort_by_key(|f| f.first.frame);
        tls.sort_by_key(|s| s.first.frame);
        let max = self.config.max_records;
        if files.len() > max {
            unlisted(&mut losses, 69, (files.len() - max) as u64);
            limits.push(LimitEvent::Records(RecordLimit::NotReported {
                what: RecordKind::FileTransfers,
                count: n(files.len() - max),
                max: max_records,
                first_frame: files.get(max).map(|f| f.first.frame),
            }));
            files.truncate(max);
        }
        // `tls` is bounded already: phones' sessions by `max_records`, the others by
        // `max_other_tls_sessions` (a cut here would drop phones' for the others').
        let max_alarms = self.config.max_records;
        let udp_alarms_first_dropped = self.alarms.first_dropped();
        let (mut alarms, udp_alarms_dropped) = self.alarms.into_parts();
        unlisted(&mut losses, 5060, udp_alarms_dropped);
        if udp_alarms_dropped > 0 {
            limits.push(LimitEvent::Records(RecordLimit::NotKept {
                what: RecordKind::SipAlarmsUdp,
                count: udp_alarms_dropped,
                max: max_records,
                first_frame: udp_alarms_first_dropped,
            }));
        }
        alarms.extend(tcp.alarms);
        alarms.sort_by_key(|a| a.seen.frame);
        if alarms.len() > max_alarms {
            unlisted(&mut losses, 5060, (alarms.len() - max_alarms) as u64);
            limits.push(LimitEvent::Records(RecordLimit::NotReported {
                what: RecordKind::SipAlarms,
                count: n(alarms.len() - max_alarms),
                max: max_records,
                first_frame: alarms.get(max_alarms).map(|a| a.seen.frame),
            }));
            alarms.truncate(max_alarms);
        }
        let mut registrations = tcp.registrations;
        registrations.sort_by_key(|r| r.seen.frame);
        // Each list keeps at most `max_records`; the two together are cut to it as well.
        let udp_first_dropped = self.sip_registrations.first_dropped();
        let (mut sip_registrations, udp_dropped) = self.sip_registrations.into_parts();
        sip_registrations.extend(tcp.sip_registrations);
        sip_registrations.sort_by_key(|r| r.seen.frame);
        let mut sip_dropped = udp_dropped + tcp.sip_registrations_dropped;
        let mut sip_first_dropped = match (udp_first_dropped, tcp.sip_registrations_first_dropped) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if sip_registrations.len() > max {
            sip_dropped += n(sip_registrations.len() - max);
            let cut = sip_registrations.get(max).map(|r| r.seen.frame);
            sip_first_dropped = match (sip_first_dropped, cut) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            sip_registrations.truncate(max);
        }
        if sip_dropped > 0 {
            limits.push(LimitEvent::Records(RecordLimit::NotKept {
                what: RecordKind::SipRegistrations,
                count: sip_dropped,
                max: max_records,
                first_frame: sip_first_dropped,
            }));
        }
        Collected {
            files,
            tls,
            tls_aggregates,
            alarms,
            registrations,
            sip_registrations,
            limits_hit: limits,
            notes,
            losses,
            time_anomalies,
            clock_steps: self.clock.steps(),
        }
    }
}

#[cfg(test)]
mod store_tests {
    use super::{digests, store_file};

    #[test]
    fn identical_files_share_one_copy_and_different_ones_do_not() {
        let itl = b"fleet store test: the same ITL served to every phone".to_vec();
        let (_, _, sha256) = digests(&itl);
        let a = store_file(itl.clone(), sha256.as_ref());
        let b = store_file(itl.clone(), None);
        assert!(a.same_copy(&b), "same bytes, one copy");
        assert_eq!(a, itl);
        let other = store_file(b"fleet store test: a per-phone config".to_vec(), None);
        assert!(!a.same_copy(&other));
    }

    #[test]
    fn a_wrong_digest_never_merges_different_bytes() {
        let first = b"fleet store test: first contents".to_vec();
        let (_, _, sha256) = digests(&first);
        let a = store_file(first.clone(), sha256.as_ref());
        // A caller's digest that does not belong to these bytes: compared byte for byte.
        let b = store_file(
            b"fleet store test: other contents".to_vec(),
            sha256.as_ref(),
        );
        assert!(!a.same_copy(&b));
        assert_eq!(a, first);
        assert_eq!(b, b"fleet store test: other contents");
        assert!(store_file(Vec::new(), None).is_empty());
    }

    #[test]
    fn equal_texts_are_interned_as_one_copy() {
        let a = super::intern("fleet intern test: Cisco-CP8845/14.1.1");
        let b = super::intern(&String::from("fleet intern test: Cisco-CP8845/14.1.1"));
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "fleet intern test: Cisco-CP8845/14.1.1");
        let pairs = super::intern_options(vec![("Host".into(), "10.0.0.1:6970".into())]);
        assert_eq!(&*pairs[0].0, "Host");
        assert_eq!(&*pairs[0].1, "10.0.0.1:6970");
        // Issue 19: a long text is not kept in the process-wide table.
        let long = "n".repeat(super::MAX_RECORD_TEXT + 1);
        let (c, d) = (super::intern(&long), super::intern(&long));
        assert_eq!(&*c, long.as_str());
        assert!(!std::sync::Arc::ptr_eq(&c, &d));
    }

    /// Only a whole signed config that parses loses its bytes: anything else keeps them,
    /// so the checks that explain a bad file read what they read before.
    #[test]
    fn only_a_whole_parsable_signed_config_is_summarized() {
        use crate::evidence::FileTransfer;
        let whole = |name: &str, data: &[u8]| FileTransfer {
            name: name.into(),
            data: data.into(),
            complete: true,
            ..FileTransfer::default()
        };
        // Not a signed file at all.
        let mut f = whole("SEP0011223344AA.cnf.xml.sgn", b"<device></device>");
        assert!(!super::summarize_signed_config(&mut f));
        assert_eq!(f.data.as_slice(), b"<device></device>");
        // Neither another kind, an encrypted config, an upload nor a partial download.
        for name in [
            "ITLSEP0011223344AA.tlv",
            "SEP0011223344AA.cnf.xml.enc.sgn",
            "a.bin",
        ] {
            let mut f = whole(name, b"x");
            assert!(!super::summarize_signed_config(&mut f), "{name}");
        }
        let mut f = whole("SEP0011223344AA.cnf.xml.sgn", b"x");
        f.upload = true;
        assert!(!super::summarize_signed_config(&mut f));
        f.upload = false;
        f.complete = false;
        assert!(!super::summarize_signed_config(&mut f));
        assert_eq!(f.captured_len(), 1);
        assert_eq!(f.signed_bytes(), b"x");
        assert!(f.signed_digest().is_none());
    }
}
