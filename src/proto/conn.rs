//! TCP connections that matter: which side opened them, how they ended, and the
//! application (TLS, HTTP or SIP) their reassembled streams feed.

use super::capped::Capped;
use super::http::{self, HttpConn};
use super::losses::LossLog;
use super::sccp::{self, SccpStream};
use super::sessions::{
    KeeperLimits, PhoneHosts, TlsKeeper, is_phone_conversation, is_phone_tls_port, is_web_tls_port,
};
use super::sip_tcp::{self, SipStats, SipStream};
use super::tls::{self, Probe, TlsConn};
use super::x509::SharedCerts;
use super::{CollectorConfig, FileBudget, PortSet};
use crate::budget::{self, Account, Candidate, MemoryBudget, Worth};
use crate::events::{AppLimit, LimitEvent, RecordKind, RecordLimit, TransportLimit};
use crate::evidence::{
    Endpoint, EvidenceLoss, FileTransfer, LossReason, PhoneTrustAlarm, SccpRegistration, Seen,
    Side, SipRegistration, TcpEnd, TlsAggregate, TlsSession,
};
use crate::net::{Packet, TcpSegment};
use crate::transport::tcp::{Budget, HalfStream, StreamEvent};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Connections are keyed by their two endpoints, lower first ([`Key::of`]), as numbers, so
/// that making, hashing and comparing a key is a few integer operations, where two
/// `IpAddr` endpoints cost a match on each address's kind at every step, for every segment
/// (issue 19, tls-heavy). Only the table uses it: a connection's ends are its `client` and
/// `server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    /// Two IPv4 ends: the lower end's address and port as `address << 16 | port`. Otherwise
    /// the lower end's address (an IPv4 one in its low 32 bits).
    lo: u128,
    /// The other end, likewise.
    hi: u128,
    /// Two IPv4 ends: 0. Otherwise bit 40 set, the lower end's port (bits 0–15), the other's
    /// (16–31), and whether each address is IPv6 (bits 32 and 33).
    meta: u64,
}

impl Key {
    /// The key of a segment from `src` to `dst`; the same both ways.
    fn of(src: Endpoint, dst: Endpoint) -> Key {
        if let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip, dst.ip) {
            // Address and port in one number: one comparison orders the ends.
            let s = u64::from(s.to_bits()) << 16 | u64::from(src.port);
            let d = u64::from(d.to_bits()) << 16 | u64::from(dst.port);
            let (lo, hi) = if s <= d { (s, d) } else { (d, s) };
            return Key {
                lo: u128::from(lo),
                hi: u128::from(hi),
                meta: 0,
            };
        }
        let num = |e: Endpoint| match e.ip {
            IpAddr::V4(v4) => (u128::from(v4.to_bits()), false, e.port),
            IpAddr::V6(v6) => (v6.to_bits(), true, e.port),
        };
        let (s, d) = (num(src), num(dst));
        let (lo, hi) = if s <= d { (s, d) } else { (d, s) };
        Key {
            lo: lo.0,
            hi: hi.0,
            meta: 1 << 40
                | u64::from(lo.2)
                | u64::from(hi.2) << 16
                | u64::from(lo.1) << 32
                | u64::from(hi.1) << 33,
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        if self.meta == 0 {
            // Two IPv4 ends: 48 bits each, one write.
            h.write_u128(self.lo << 64 | self.hi);
        } else {
            h.write_u128(self.lo);
            h.write_u128(self.hi);
            h.write_u64(self.meta);
        }
    }
}

#[derive(Debug)]
enum App {
    /// Followed from its SYN; the first payload decides.
    Undecided,
    Tls(Box<TlsConn>),
    Http(Box<HttpConn>),
    /// Clear-text SIP: only the client's (phone's) stream is read, for `DeviceTLInfo` alarms.
    Sip(Box<SipStream>),
    /// SCCP on TCP 2000: both streams read until CUCM answers the phone's registration.
    Sccp(Box<SccpStream>),
    /// Not something we parse; only the connection's fate is kept.
    Ignored,
}

#[derive(Debug)]
struct Conn {
    client: Endpoint,
    server: Endpoint,
    streams: [HalfStream; 2],
    client_isn: Option<u32>,
    syn: bool,
    synack: bool,
    server_sent: bool,
    fin: [Option<u32>; 2],
    end: Option<TcpEnd>,
    first: Seen,
    last: Seen,
    /// The capture clock's time at the connection's last segment: idleness is measured on
    /// the clock, not on the segment's own stamp, so a host whose clock is skewed from the
    /// capture clock (a merged capture) is not idle for it.
    touched: i64,
    app: App,
    /// A TLS session of a host that is not a phone whose handshake is over: its payload is
    /// counted, no longer reassembled or parsed (nothing in it can reach a verdict).
    settled: bool,
    /// The HTTP or SIP parser's buffers, charged to the memory budget (made when they
    /// first hold bytes: most connections never need one).
    app_account: Option<Account>,
}

impl Conn {
    fn new(client: Endpoint, server: Endpoint, seen: Seen, app: App) -> Self {
        Conn {
            client,
            server,
            streams: [HalfStream::new(), HalfStream::new()],
            client_isn: None,
            syn: false,
            synack: false,
            server_sent: false,
            fin: [None, None],
            end: None,
            first: seen,
            last: seen,
            touched: seen.ts.0,
            app,
            settled: false,
            app_account: None,
        }
    }

    /// The server answered: the connection is past its opening (the longer idle timeout).
    fn answered(&self) -> bool {
        self.synack || self.server_sent
    }
}

/// Idle times after which a connection is closed, in nanoseconds of capture time.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// Not answered yet (SYN only, or data one way).
    new: i64,
    /// Answered by the server.
    established: i64,
}

/// Emergency timeouts, used once when the table is full (Suricata's emergency defaults).
const EMERGENCY: Timeouts = Timeouts {
    new: 10_000_000_000,
    established: 300_000_000_000,
};

/// How valuable a connection is to a phone's verdict, lowest evicted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    /// A non-phone connection the server never answered (a scan, a dead server).
    HalfOpen,
    /// A non-phone connection that was answered.
    Other,
    /// To a phone port (TLS phone ports, the HTTP file port, SIP) or from a phone host.
    Phone,
}

/// All followed TCP connections.
#[derive(Debug)]
pub struct Connections {
    /// Keyed hasher, randomly seeded: captures are hostile and the table holds many flows.
    conns: HashMap<Key, Conn, foldhash::fast::RandomState>,
    ports: Ports,
    stream_cap: usize,
    budget: Budget,
    /// The out-of-order cap set on the command line (`budget.cap` is lowered to what the
    /// memory budget allows before each segment).
    global_cap: usize,
    /// The capture's memory budget, charged by every parser buffer.
    memory: MemoryBudget,
    /// The out-of-order bytes of all streams, charged to `memory`.
    out_of_order: Account,
    /// Connections of hosts that are not phones closed to free memory for a phone's.
    memory_evicted: u64,
    /// The first frame of the first connection closed for memory.
    first_memory_evicted: Option<u64>,
    /// The first frame of the first connection closed to make room in the table.
    first_evicted: Option<u64>,
    /// The segment that forced the first skip over a hole (out-of-order limits), and its
    /// connection.
    first_skip: Option<(u64, Endpoint, Endpoint)>,
    max_flows: usize,
    max_file: u64,
    /// Whether a finished signed config keeps its bytes ([`super::CollectorConfig`]).
    keep_config_bytes: bool,
    max_message: usize,
    flows_dropped: u64,
    /// The first segment not followed for want of room (its limit event says where).
    first_flow_dropped: Option<u64>,
    /// Of those, segments of phone connections.
    phone_flows_dropped: u64,
    /// Idle limits.
    timeouts: Timeouts,
    /// The capture clock's time (the collector's [`crate::capture::CaptureClock`]).
    now: i64,
    /// Capture time of the last emergency sweep (the table was full).
    last_emergency: Option<i64>,
    /// Connections closed because they were idle too long.
    pub expired: u64,
    /// Connections closed early to make room, and how many of them were phones'.
    evicted: u64,
    evicted_phone: u64,
    /// The last search for a connection to evict found only phones' and nothing closed
    /// since: no need to look again (a full table of phones' must not cost a scan per SYN).
    only_phones_left: bool,
    /// What limits cost, by client and server port.
    pub(super) losses: LossLog,
    /// Finished TLS sessions: phones' kept, others summed.
    keeper: TlsKeeper,
    /// Hosts that behaved like phones so far (the collector adds TFTP and SIP/UDP ones).
    pub(super) phone_hosts: PhoneHosts,
    /// Certificates decoded once per distinct DER, shared by every TLS conversation.
    certs: SharedCerts,
    /// RSTs outside the receive window, ignored (RFC 5961).
    rst_rejected: u64,
    /// Segments taken plus connections visited by table scans (sweeps, evictions), for the
    /// scaling tests ([`Connections::work`]).
    work: u64,
    files: Capped<FileTransfer>,
    alarms: Capped<PhoneTrustAlarm>,
    /// SCCP registrations.
    registrations: Capped<SccpRegistration>,
    /// SIP registrations read from SIP over TCP.
    sip_registrations: Capped<SipRegistration>,
    /// SCCP messages that could not be read, summed over closed connections.
    sccp_malformed: u64,
    max_records: usize,
    /// SIP anomalies of closed connections, summed.
    sip_stats: SipStats,
    /// HTTP `CONNECT` tunnels (issue 19 item 7): counted, not downloads.
    connect_tunnels: http::ConnectTunnels,
}

/// What [`Connections::finish`] hands back.
#[derive(Debug, Default)]
pub struct TcpFindings {
    /// TLS sessions kept one by one.
    pub tls: Vec<TlsSession>,
    /// The other TLS sessions, summed per server and certificate.
    pub tls_aggregates: Vec<TlsAggregate>,
    /// HTTP transfers.
    pub files: Vec<FileTransfer>,
    /// `DeviceTLInfo` alarms read from SIP over TCP.
    pub alarms: Vec<PhoneTrustAlarm>,
    /// SCCP registrations (TCP 2000).
    pub registrations: Vec<SccpRegistration>,
    /// SIP registrations read from SIP over TCP.
    pub sip_registrations: Vec<SipRegistration>,
    /// Where the first SIP registration not kept was, when one was not.
    pub sip_registrations_first_dropped: Option<u64>,
    /// SIP registrations not kept (over `max_records`).
    pub sip_registrations_dropped: u64,
    /// Limits that cut something off, typed (the report words them).
    pub limits: Vec<LimitEvent>,
    /// Other things worth knowing (data lost by the capture), in words.
    pub notes: Vec<String>,
    /// Evidence the limits may have cost, by client and server port.
    pub losses: Vec<EvidenceLoss>,
}

/// Stream byte ranges `[start, end)` in words: `offsets 3590-5050, 7000-7100` (the
/// recorded ones; the count of missing bytes covers all).
fn stream_ranges(ranges: &[(u64, u64)]) -> String {
    let listed: Vec<String> = ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    format!("offsets {}", listed.join(", "))
}

fn side(dir: usize) -> Side {
    if dir == 0 { Side::Client } else { Side::Server }
}

impl Connections {
    /// HTTP downloads ended so far, in the order they ended.
    pub fn done_files(&self) -> &[FileTransfer] {
        self.files.items()
    }

    /// `DeviceTLInfo` alarms over SIP/TCP so far.
    pub fn done_alarms(&self) -> &[PhoneTrustAlarm] {
        self.alarms.items()
    }

    /// SCCP registrations so far.
    pub fn done_registrations(&self) -> &[SccpRegistration] {
        self.registrations.items()
    }

    /// SIP registrations over TCP so far.
    pub fn done_sip_registrations(&self) -> &[SipRegistration] {
        self.sip_registrations.items()
    }

    /// The TLS sessions ended so far.
    pub fn tls_keeper(&self) -> &TlsKeeper {
        &self.keeper
    }

    /// Empty, configured.
    pub fn new(c: &CollectorConfig) -> Self {
        let memory = MemoryBudget::new(c.max_memory);
        Connections {
            conns: HashMap::default(),
            ports: Ports {
                http: PortSet::new(&c.http_ports),
                tls: PortSet::new(&c.tls_ports),
                sip: PortSet::new(&c.sip_ports),
                sccp: PortSet::new(&super::ports::SCCP_PORTS),
            },
            stream_cap: c.stream_buffer_cap.max(1),
            budget: Budget::new(c.global_buffer_cap),
            global_cap: c.global_buffer_cap,
            out_of_order: memory.account(Worth::Phone),
            memory,
            memory_evicted: 0,
            max_flows: c.max_flows,
            max_file: c.max_file_size,
            keep_config_bytes: c.keep_signed_config_bytes,
            max_message: c.max_handshake_message,
            flows_dropped: 0,
            first_flow_dropped: None,
            phone_flows_dropped: 0,
            timeouts: Timeouts {
                new: duration_ns(c.tcp_timeout_new),
                established: duration_ns(c.tcp_timeout_established),
            },
            now: i64::MIN,
            last_emergency: None,
            expired: 0,
            evicted: 0,
            evicted_phone: 0,
            only_phones_left: false,
            losses: LossLog::default(),
            keeper: TlsKeeper::new(KeeperLimits {
                phone_sessions: c.max_records,
                other_sessions: c.max_other_tls_sessions,
                aggregates: c.max_records,
            }),
            phone_hosts: PhoneHosts::default(),
            certs: SharedCerts::default(),
            rst_rejected: 0,
            work: 0,
            first_memory_evicted: None,
            first_evicted: None,
            first_skip: None,
            files: Capped::new(c.max_records),
            alarms: Capped::new(c.max_records),
            registrations: Capped::new(c.max_records),
            sip_registrations: Capped::new(c.max_records),
            sccp_malformed: 0,
            max_records: c.max_records,
            sip_stats: SipStats::default(),
            connect_tunnels: http::ConnectTunnels::default(),
        }
    }

    /// Charges every buffer to `memory` from now on (the capture's share of the pool of
    /// the captures read in parallel). Call before the first segment.
    pub fn set_memory(&mut self, memory: MemoryBudget) {
        self.out_of_order = memory.account(Worth::Phone);
        self.certs.borrow_mut().set_memory(&memory);
        self.memory = memory;
    }

    /// Bytes a connection holds in its streams and its parser.
    fn held(c: &Conn) -> usize {
        let app = match &c.app {
            App::Tls(t) => t.held(),
            _ => 0,
        };
        let other = c.app_account.as_ref().map_or(0, Account::held);
        c.streams.iter().map(HalfStream::buffered).sum::<usize>() + app + other
    }

    /// A segment of `len` bytes of a phone's flow is coming and the budget is short:
    /// closes the oldest connections of hosts that are not phones that hold bytes until
    /// there is room for it (in a batch, so a long shortage costs one scan per batch).
    /// The phone's evidence is never evicted for room.
    fn make_memory_room(&mut self, len: usize, files_budget: &mut FileBudget) {
        let need = len.saturating_mul(2).saturating_add(tls::MAX_RECORD);
        if self.memory.free() >= need || self.memory.expendable() == 0 {
            return;
        }
        let mut candidates = Vec::new();
        self.work += self.conns.len() as u64;
        for (k, c) in self.conns.iter_mut() {
            let phone = is_phone_tls_port(c.server.port)
                || self.ports.http.contains(c.server.port)
                || self.ports.sip.contains(c.server.port)
                || self.phone_hosts.contains(&c.client.ip);
            let worth = if phone { Worth::Phone } else { Worth::Other };
            if let App::Tls(t) = &mut c.app
                && t.worth() != worth
            {
                // A host that turned out to be a phone: its bytes are no longer expendable.
                t.set_worth(worth);
            }
            candidates.push(Candidate {
                key: *k,
                worth,
                touched: c.touched,
                held: Self::held(c),
            });
        }
        let batch = need.max(self.memory.cap() / 16);
        for key in budget::eviction_order(candidates, batch) {
            if let Some(c) = self.conns.get(&key) {
                let (client, port, at) = (c.client.ip, c.server.port, c.last);
                self.first_memory_evicted.get_or_insert(c.first.frame);
                self.losses
                    .add_if_listed(client, port, LossReason::Evicted, at);
            }
            self.memory_evicted += 1;
            self.close(&key, files_budget);
        }
    }

    /// The capture's memory budget the table charges (for the other buffers of the
    /// capture to share it).
    pub(crate) fn memory(&self) -> &MemoryBudget {
        &self.memory
    }

    /// Work done so far: segments taken plus connections visited by scans of the table and
    /// the TLS keeper's look-ups (counted, never timed: the scaling tests of issue 19).
    pub fn work(&self) -> u64 {
        self.work.saturating_add(self.keeper.work())
    }

    /// Room in the memory budget for `len` bytes of a phone's evidence held outside the
    /// connection table (a TFTP block held ahead of a gap): see `make_memory_room`.
    pub(crate) fn make_room_for_phone(&mut self, len: usize, files_budget: &mut FileBudget) {
        self.make_memory_room(len, files_budget);
    }

    /// Decides whether an unknown flow matters: returns (client, server, app) if so.
    fn classify(
        ports: &Ports,
        phones: &PhoneHosts,
        src: Endpoint,
        dst: Endpoint,
        seg: &TcpSegment<'_>,
    ) -> Option<(Endpoint, Endpoint, App)> {
        if seg.flags.syn && !seg.flags.ack {
            // Every PC opens connections to the web ports all day and scanners leave them
            // half-open by the hundred thousand: there only a phone's SYN is followed; other
            // hosts' sessions are picked up at their first TLS record below. (The phone
            // lookup is made only for such a SYN, not for every unfollowed segment.)
            let tls = ports.tls.contains(dst.port)
                && (!is_web_tls_port(dst.port) || phones.contains(&src.ip));
            let watched = tls
                || ports.http.contains(dst.port)
                || ports.sip.contains(dst.port)
                || ports.sccp.contains(dst.port);
            return watched.then_some((src, dst, App::Undecided));
        }
        if seg.flags.rst || seg.payload.is_empty() {
            return None;
        }
        if let Some(p) = tls::probe(seg.payload) {
            let src_is_client = match p {
                Probe::ClientHello | Probe::Sslv2ClientHello => true,
                Probe::ServerHello => false,
                Probe::Handshake => {
                    !(tls::service_for_port(src.port).is_some() || src.port < dst.port)
                }
            };
            let (c, s) = if src_is_client {
                (src, dst)
            } else {
                (dst, src)
            };
            return Some((c, s, App::Undecided));
        }
        if ports.http.contains(dst.port) && http::looks_like_request(seg.payload) {
            return Some((src, dst, App::Undecided));
        }
        // A SIP connection whose start was missed is picked up at a request boundary.
        if ports.sip.contains(dst.port) && sip_tcp::looks_like_request(seg.payload) {
            return Some((src, dst, App::Undecided));
        }
        // Likewise SCCP, at a message boundary from the phone.
        if ports.sccp.contains(dst.port) && sccp::looks_like_sccp(seg.payload) {
            return Some((src, dst, App::Undecided));
        }
        None
    }

    /// One TCP segment.
    pub fn segment(
        &mut self,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        files_budget: &mut FileBudget,
    ) {
        self.work += 1;
        let src = Endpoint {
            ip: pkt.src,
            port: seg.src_port,
        };
        let dst = Endpoint {
            ip: pkt.dst,
            port: seg.dst_port,
        };
        let key = Key::of(src, dst);
        let seen = Seen {
            capture: 0,
            frame: pkt.frame,
            ts: pkt.ts,
        };
        // Without a capture clock (no collector), the segment's own time.
        let touched = if self.now == i64::MIN {
            pkt.ts.0
        } else {
            self.now
        };
        // A new SYN from the client on a connection that already went somewhere: port reuse.
        if seg.flags.syn
            && !seg.flags.ack
            && let Some(c) = self.conns.get(&key)
            && c.client == src
            && c.client_isn != Some(seg.seq)
            && (c.synack || c.server_sent || c.end.is_some())
        {
            self.close(&key, files_budget);
        }
        // Room for a phone's segment when the budget is short (two plain loads otherwise).
        if !seg.payload.is_empty()
            && self.memory.free() < seg.payload.len().saturating_mul(2) + tls::MAX_RECORD
            && self
                .conns
                .get(&key)
                .is_some_and(|c| self.value(c) == Value::Phone)
        {
            self.make_memory_room(seg.payload.len(), files_budget);
        }
        // One hash of the key per segment: the entry is found or made in the same lookup.
        let open = self.conns.len();
        let conn = match self.conns.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let Some((client, server, app)) =
                    Self::classify(&self.ports, &self.phone_hosts, src, dst, seg)
                else {
                    return;
                };
                if open >= self.max_flows {
                    let phone = self.is_phone_flow(client, server);
                    if self.make_room(files_budget) {
                        return self.segment(pkt, seg, files_budget);
                    }
                    self.flows_dropped += 1;
                    self.first_flow_dropped.get_or_insert(seen.frame);
                    if phone {
                        self.phone_flows_dropped += 1;
                        self.losses.add(
                            Some(client.ip),
                            server.port,
                            LossReason::FlowTableFull,
                            seen,
                        );
                    } else {
                        self.losses.add_if_listed(
                            client.ip,
                            server.port,
                            LossReason::FlowTableFull,
                            seen,
                        );
                    }
                    return;
                }
                if is_phone_tls_port(server.port) {
                    self.phone_hosts.mark(client.ip);
                }
                let conn = v.insert(Conn::new(client, server, seen, app));
                pickup_at_client_hello(conn, src, seg);
                conn
            }
        };
        let dir = usize::from(src != conn.client);
        // RFC 5961: an RST outside the receiver's window is not believed (blind injection,
        // or a stray from an older incarnation of the connection).
        if seg.flags.rst
            && !conn.streams[dir].accepts_rst(seg.seq, conn.streams[1 - dir].advertised_window())
        {
            self.rst_rejected += 1;
            return;
        }
        conn.streams[dir].observe(
            seg.seq,
            seg.payload.len(),
            seg.flags.syn,
            seg.flags.fin,
            seg.window,
        );
        conn.last = seen;
        conn.touched = touched;
        if seg.flags.syn {
            if dir == 0 && !seg.flags.ack {
                conn.syn = true;
                conn.client_isn = Some(seg.seq);
            } else if dir == 1 {
                conn.synack = true;
            }
            conn.streams[dir].syn(seg.seq);
        }
        if dir == 1 && !seg.flags.rst {
            conn.server_sent = true;
        }
        if conn.settled {
            if let App::Tls(t) = &mut conn.app {
                t.count_unparsed(dir, seg.payload.len());
            }
        } else if !seg.payload.is_empty() {
            if matches!(conn.app, App::Undecided) {
                let summed = !is_phone_conversation(conn.client, conn.server, &self.phone_hosts);
                let phone = is_phone_tls_port(conn.server.port)
                    || self.ports.http.contains(conn.server.port)
                    || self.ports.sip.contains(conn.server.port)
                    || self.phone_hosts.contains(&conn.client.ip);
                let worth = if phone { Worth::Phone } else { Worth::Other };
                conn.app = self_decide(
                    &self.ports,
                    conn,
                    seg.payload,
                    (self.max_file, self.keep_config_bytes),
                    self.max_message,
                    &self.certs,
                    summed,
                    (&self.memory, worth),
                );
                if matches!(conn.app, App::Http(_)) {
                    self.phone_hosts.mark(conn.client.ip);
                }
            }
            // SIP alarms travel phone→CUCM: the server's stream is not reassembled.
            let read = match conn.app {
                App::Ignored => false,
                App::Sip(_) => dir == 0,
                _ => true,
            };
            if read {
                // The out-of-order cap for this segment: what the command line allows,
                // within what the memory budget has left (plain loads: no charge unless
                // held bytes change).
                self.budget.cap = self
                    .global_cap
                    .min(self.out_of_order.held().saturating_add(self.memory.free()));
                let app = &mut conn.app;
                // A mid-connection pickup holds its first segment; an answer releases it.
                let mut other = |ev: StreamEvent<'_>| feed(app, 1 - dir, ev, seen, files_budget);
                conn.streams[1 - dir].commit(&mut self.budget, &mut other);
                let mut sink = |ev: StreamEvent<'_>| feed(app, dir, ev, seen, files_budget);
                // Data on a SYN starts after the SYN's own sequence number.
                let seq = seg.seq.wrapping_add(u32::from(seg.flags.syn));
                conn.streams[dir].segment(
                    seq,
                    seg.payload,
                    self.stream_cap,
                    &mut self.budget,
                    &mut sink,
                );
                charge_app(conn, &self.memory);
                match &mut conn.app {
                    App::Http(h) => self.files.extend(h.take_done()),
                    App::Sip(sip) => take_sip(
                        sip,
                        conn.client,
                        conn.server,
                        &mut self.phone_hosts,
                        &mut self.alarms,
                        &mut self.sip_registrations,
                    ),
                    App::Sccp(sccp) => {
                        let got = sccp.take(conn.client, conn.server);
                        note_registrations(&mut self.phone_hosts, &got);
                        self.registrations.extend(got);
                        if sccp.settled() {
                            // The answer is read: keepalives and calls are not.
                            conn.settled = true;
                            for stream in &mut conn.streams {
                                stream.release(&mut self.budget);
                            }
                        }
                    }
                    App::Tls(t)
                        if t.settled()
                            && !is_phone_conversation(
                                conn.client,
                                conn.server,
                                &self.phone_hosts,
                            ) =>
                    {
                        conn.settled = true;
                        for stream in &mut conn.streams {
                            stream.release(&mut self.budget);
                        }
                    }
                    _ => {}
                }
            }
        }
        if self.budget.hits > 0 {
            self.first_skip
                .get_or_insert((seen.frame, conn.client, conn.server));
        }
        if self.budget.used != self.out_of_order.held() {
            // Refused only when a parser took the same room within this segment: the
            // bytes are held already, so the overshoot is at most this segment's.
            self.out_of_order.hold(self.budget.used);
        }
        if seg.flags.fin && conn.fin[dir].is_none() {
            conn.fin[dir] = Some(seg.seq.wrapping_add(seg.payload.len() as u32));
            conn.end.get_or_insert(TcpEnd::Fin(side(dir)));
        }
        if seg.flags.rst {
            let end = if dir == 1 && !conn.synack && conn.streams[1].delivered() == 0 && conn.syn {
                TcpEnd::Refused
            } else {
                TcpEnd::Reset(side(dir))
            };
            conn.end.get_or_insert(end);
            self.close(&key, files_budget);
        } else if conn.fin[0].is_some() && conn.fin[1].is_some() {
            self.close(&key, files_budget);
        }
    }

    /// Whether a connection between these ends can matter to a phone's verdict.
    fn is_phone_flow(&self, client: Endpoint, server: Endpoint) -> bool {
        is_phone_tls_port(server.port)
            || self.ports.http.contains(server.port)
            || self.ports.sip.contains(server.port)
            || self.ports.sccp.contains(server.port)
            || self.phone_hosts.contains(&client.ip)
    }

    fn value(&self, c: &Conn) -> Value {
        if self.is_phone_flow(c.client, c.server) {
            Value::Phone
        } else if c.answered() {
            Value::Other
        } else {
            Value::HalfOpen
        }
    }

    /// Sets the capture clock's time idle checks measure against (the collector's clock,
    /// which a frame dated far from its neighbours does not move).
    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// Closes the connections idle longer than their timeout (the periodic sweep).
    pub fn expire(&mut self, files_budget: &mut FileBudget) {
        self.expire_with(self.timeouts, files_budget);
    }

    fn expire_with(&mut self, t: Timeouts, files_budget: &mut FileBudget) -> usize {
        self.work += self.conns.len() as u64;
        let now = self.now;
        let mut idle: Vec<(u64, Key)> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                let limit = if c.answered() { t.established } else { t.new };
                now.saturating_sub(c.touched) > limit
            })
            .map(|(k, c)| (c.first.frame, *k))
            .collect();
        idle.sort_unstable();
        for (_, k) in &idle {
            self.close(k, files_budget);
        }
        self.expired += idle.len() as u64;
        idle.len()
    }

    /// The table is full and a new connection wants in: first
    /// closes what is idle past the emergency timeouts (at most once per second of capture
    /// time), else evicts a batch of the least valuable and oldest connections. A phone's
    /// connection is never evicted for another host's. False when nothing could go.
    fn make_room(&mut self, files_budget: &mut FileBudget) -> bool {
        if self
            .last_emergency
            .is_none_or(|t| self.now < t || self.now.saturating_sub(t) >= 1_000_000_000)
        {
            self.last_emergency = Some(self.now);
            let t = Timeouts {
                new: EMERGENCY.new.min(self.timeouts.new),
                established: EMERGENCY.established.min(self.timeouts.established),
            };
            if self.expire_with(t, files_budget) > 0 {
                return true;
            }
        }
        // Phones' connections are never evicted, not even for another phone's: a flood of
        // phone-port SYNs is cut at the table's size and counted (and each lost host told).
        if self.only_phones_left {
            return false;
        }
        self.work += self.conns.len() as u64;
        let mut candidates: Vec<(Value, i64, u64, Key)> = self
            .conns
            .iter()
            .map(|(k, c)| (self.value(c), c.touched, c.first.frame, *k))
            .filter(|(v, ..)| *v < Value::Phone)
            .collect();
        if candidates.is_empty() {
            self.only_phones_left = true;
            return false;
        }
        // A batch, so that a flood of new connections costs one scan per batch, not per SYN.
        let batch = (self.max_flows / 64).clamp(1, candidates.len());
        if batch < candidates.len() {
            candidates.select_nth_unstable(batch - 1);
            candidates.truncate(batch);
        }
        candidates.sort_unstable_by_key(|c| c.2);
        for (value, _, _, key) in candidates {
            let Some(c) = self.conns.get(&key) else {
                continue;
            };
            let (client, port, at) = (c.client.ip, c.server.port, c.last);
            self.first_evicted.get_or_insert(c.first.frame);
            self.evicted += 1;
            if value == Value::Phone {
                self.evicted_phone += 1;
                self.losses.add(Some(client), port, LossReason::Evicted, at);
            } else {
                self.losses
                    .add_if_listed(client, port, LossReason::Evicted, at);
            }
            self.close(&key, files_budget);
        }
        true
    }

    /// Ends a connection: flushes its streams into its application and records the result.
    fn close(&mut self, key: &Key, files_budget: &mut FileBudget) {
        let Some(mut conn) = self.conns.remove(key) else {
            return;
        };
        self.only_phones_left = false;
        let mut notes = Vec::new();
        for dir in 0..2 {
            let app = &mut conn.app;
            let seen = conn.last;
            let read = match app {
                App::Ignored | App::Undecided => false,
                _ if conn.settled => false,
                App::Sip(_) => dir == 0,
                _ => true,
            };
            if read {
                let mut sink = |ev: StreamEvent<'_>| feed(app, dir, ev, seen, files_budget);
                conn.streams[dir].flush(&mut self.budget, &mut sink);
                if let Some(fin) = conn.fin[dir]
                    && let Some(missing) = conn.streams[dir].missing_before(fin)
                {
                    sink(StreamEvent::Gap(missing));
                    notes.push(format!(
                        "{missing} bytes before the {}'s FIN missing",
                        side(dir).as_str()
                    ));
                }
            }
            conn.streams[dir].release(&mut self.budget);
            let st = &conn.streams[dir].stats;
            let who = side(dir).as_str();
            if st.missing_bytes > 0 {
                notes.push(format!(
                    "{} bytes missing from the {who}'s stream at {}",
                    st.missing_bytes,
                    stream_ranges(&st.gaps)
                ));
            }
            if st.conflicting_bytes > 0 {
                notes.push(format!(
                    "{} retransmitted bytes from the {who} differed from the first copy (first kept)",
                    st.conflicting_bytes
                ));
            }
            if st.cap_hits > 0 {
                notes.push(format!(
                    "the {who}'s out-of-order buffer limit forced {} skips",
                    st.cap_hits
                ));
            }
        }
        let end = match conn.end {
            Some(e) => e,
            None if conn.syn && !conn.synack && !conn.server_sent => TcpEnd::NeverAnswered,
            None => TcpEnd::Open,
        };
        let app = std::mem::replace(&mut conn.app, App::Ignored);
        match app {
            App::Tls(t) => self.keeper.add(
                t.finish(end, conn.last, notes),
                &self.phone_hosts,
                &mut self.losses,
            ),
            App::Http(h) => {
                self.connect_tunnels.add(&h);
                self.files.extend(h.finish(end, conn.last));
            }
            App::Sip(mut sip) => {
                take_sip(
                    &mut sip,
                    conn.client,
                    conn.server,
                    &mut self.phone_hosts,
                    &mut self.alarms,
                    &mut self.sip_registrations,
                );
                let st = sip.stats;
                let sum = &mut self.sip_stats;
                sum.oversize += st.oversize;
                sum.first_oversize = sum
                    .first_oversize
                    .into_iter()
                    .chain(st.first_oversize)
                    .min();
                sum.refers_lost += st.refers_lost;
                sum.resyncs_after_gap += st.resyncs_after_gap;
                sum.malformed += st.malformed;
            }
            App::Sccp(mut sccp) => {
                let got = sccp.finish(conn.client, conn.server);
                note_registrations(&mut self.phone_hosts, &got);
                self.registrations.extend(got);
                self.sccp_malformed += sccp.malformed;
            }
            App::Undecided if self.ports.tls.contains(conn.server.port) => {
                let t = TlsConn::new(conn.client, conn.server, conn.first, self.max_message);
                self.keeper.add(
                    t.finish(end, conn.last, notes),
                    &self.phone_hosts,
                    &mut self.losses,
                );
            }
            App::Undecided | App::Ignored => {}
        }
    }

    /// Ends every connection; returns what they carried and the limits hit.
    pub fn finish(mut self, files_budget: &mut FileBudget) -> TcpFindings {
        let mut keys: Vec<(u64, Key)> = self
            .conns
            .iter()
            .map(|(k, c)| (c.first.frame, *k))
            .collect();
        keys.sort();
        for (_, k) in keys {
            self.close(&k, files_budget);
        }
        let mut limits = Vec::new();
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        if self.flows_dropped > 0 {
            limits.push(LimitEvent::Transport(TransportLimit::FlowsNotFollowed {
                count: self.flows_dropped,
                phones: self.phone_flows_dropped,
                max_flows: self.max_flows as u64,
                first_frame: self.first_flow_dropped,
            }));
        }
        if self.evicted > 0 {
            limits.push(LimitEvent::Transport(TransportLimit::FlowsEvicted {
                count: self.evicted,
                phones: self.evicted_phone,
                max_flows: self.max_flows as u64,
                first_frame: self.first_evicted,
            }));
        }
        if self.budget.hits > 0 {
            limits.push(LimitEvent::Transport(TransportLimit::OutOfOrderSkips {
                count: self.budget.hits,
                per_stream: self.stream_cap as u64,
                total: self.global_cap.min(self.memory.cap()) as u64,
                first_frame: self.first_skip.map(|(f, _, _)| f),
                first_flow: self.first_skip.map(|(_, c, s)| {
                    (
                        std::net::SocketAddr::new(c.ip, c.port),
                        std::net::SocketAddr::new(s.ip, s.port),
                    )
                }),
            }));
        }
        limits.extend(budget::limit_events(
            &self.memory,
            self.memory_evicted,
            self.first_memory_evicted,
        ));
        let sip = self.sip_stats;
        if sip.oversize > 0 {
            limits.push(LimitEvent::Application(AppLimit::SipTcpOversize {
                count: sip.oversize,
                max_bytes: n(sip_tcp::MAX_MESSAGE),
                first_frame: sip.first_oversize,
            }));
        }
        let mut notes = Vec::new();
        if self.rst_rejected > 0 {
            notes.push(format!(
                "{} TCP RSTs outside the receiver's window were ignored (RFC 5961)",
                self.rst_rejected
            ));
        }
        if sip.refers_lost > 0 {
            notes.push(format!(
                "{} SIP REFERs on TCP lost bytes in the capture and were not read",
                sip.refers_lost
            ));
        }
        if sip.resyncs_after_gap + sip.malformed > 0 {
            notes.push(format!(
                "SIP on TCP lost its message framing {} times (bytes missing from the capture: {}, malformed headers: {}); reading resumed at the next request line",
                sip.resyncs_after_gap + sip.malformed,
                sip.resyncs_after_gap,
                sip.malformed
            ));
        }
        let kept = self.keeper.finish(&self.phone_hosts, &mut self.losses);
        let tls_dropped = kept.phone_dropped;

        if kept.unaggregated > 0 {
            limits.push(LimitEvent::Application(AppLimit::TlsNotSummed {
                count: kept.unaggregated,
                max: self.max_records as u64,
                first_frame: kept.first_unaggregated,
            }));
        }
        if self.phone_hosts.refused > 0 {
            limits.push(LimitEvent::Application(AppLimit::PhoneHostsRefused {
                count: self.phone_hosts.refused,
                max: n(super::sessions::MAX_PHONE_HOSTS),
                first_frame: self.phone_hosts.first_refused_frame,
                first_host: self.phone_hosts.first_refused_host,
            }));
        }
        let first_dropped = [
            self.files.first_dropped(),
            self.alarms.first_dropped(),
            self.registrations.first_dropped(),
        ];
        let (files, files_dropped) = self.files.into_parts();
        let (alarms, alarms_dropped) = self.alarms.into_parts();
        let (registrations, registrations_dropped) = self.registrations.into_parts();
        let sip_registrations_first_dropped = self.sip_registrations.first_dropped();
        let (sip_registrations, sip_registrations_dropped) = self.sip_registrations.into_parts();
        if registrations_dropped > 0 {
            limits.push(LimitEvent::Records(RecordLimit::NotKept {
                what: RecordKind::SccpRegistrations,
                count: registrations_dropped,
                max: self.max_records as u64,
                first_frame: first_dropped[2],
            }));
        }
        if self.sccp_malformed > 0 {
            notes.push(format!(
                "{} SCCP messages on TCP 2000 could not be read (bad length or fields); reading of that direction stopped",
                self.sccp_malformed
            ));
        }
        // Not attributed to a host: they may concern any phone.
        for (n, port) in [(files_dropped, 6970), (alarms_dropped, 5060)] {
            self.losses
                .add_n(None, port, LossReason::RecordLimit, n, Seen::default());
        }
        for (count, what, first_frame) in [
            (
                tls_dropped,
                RecordKind::PhoneTlsSessions,
                kept.phone_first_dropped,
            ),
            (files_dropped, RecordKind::HttpTransfers, first_dropped[0]),
            (alarms_dropped, RecordKind::SipAlarmsTcp, first_dropped[1]),
        ] {
            if count > 0 {
                limits.push(LimitEvent::Records(RecordLimit::NotKept {
                    what,
                    count,
                    max: self.max_records as u64,
                    first_frame,
                }));
            }
        }
        notes.extend(self.connect_tunnels.notes());
        if self.expired > 0 {
            notes.push(format!(
                "{} TCP connections idle longer than {} s (unanswered) or {} s (answered) of capture time were closed",
                self.expired,
                self.timeouts.new / 1_000_000_000,
                self.timeouts.established / 1_000_000_000
            ));
        }
        TcpFindings {
            losses: self.losses.into_vec(),
            tls: kept.sessions,
            tls_aggregates: kept.aggregates,
            files,
            alarms,
            registrations,
            sip_registrations,
            sip_registrations_first_dropped,
            sip_registrations_dropped,
            limits,
            notes,
        }
    }
}

/// A duration as nanoseconds of capture time (saturating).
/// A connection picked up at the client's ClientHello (a web port's session of a host not
/// known as a phone, whose SYN was not followed): the server has sent nothing yet, and the
/// ClientHello's acknowledgment number is where the server's stream starts. Knowing it, a
/// server flight whose first segment arrives after later ones is reordered instead of
/// starting the stream at the first segment seen and losing the certificate (issue 19,
/// item 4). An acknowledgment number of 0 is taken as unknown: synthetic captures write
/// it when they do not track the peer (a real one is 1 in 2^32).
fn pickup_at_client_hello(conn: &mut Conn, src: Endpoint, seg: &TcpSegment<'_>) {
    if seg.flags.syn || seg.flags.rst || !seg.flags.ack || seg.ack == 0 || src != conn.client {
        return;
    }
    if !matches!(
        tls::probe(seg.payload),
        Some(Probe::ClientHello | Probe::Sslv2ClientHello)
    ) {
        return;
    }
    if let Some(server) = conn.streams.get_mut(1)
        && !server.started()
    {
        // `syn` takes the SYN's own sequence number: data starts one after it.
        server.syn(seg.ack.wrapping_sub(1));
    }
}

/// Charges the HTTP or SIP parser's buffers to the memory budget after a segment was fed
/// (they grow by at most that segment); refused, the parser gives up what it waited for.
/// Both are phone ports' parsers: their bytes are the phone's evidence.
fn charge_app(conn: &mut Conn, memory: &MemoryBudget) {
    let held = match &conn.app {
        App::Http(h) => h.buffered(),
        App::Sip(s) => s.buffered(),
        _ => return,
    };
    if held == 0 && conn.app_account.is_none() {
        return;
    }
    let account = conn
        .app_account
        .get_or_insert_with(|| memory.account(Worth::Phone));
    if account.hold(held) {
        return;
    }
    match &mut conn.app {
        App::Http(h) => {
            h.starve();
            account.hold(h.buffered());
        }
        App::Sip(s) => {
            s.starve();
            account.hold(s.buffered());
        }
        _ => {}
    }
}

/// A host that registered over SCCP as `SEP<MAC>` is a phone: its later TLS is kept.
fn note_registrations(phones: &mut PhoneHosts, got: &[SccpRegistration]) {
    for r in got {
        if is_phone_device_name(&r.device_name) {
            phones.mark(r.phone.ip);
        }
    }
}

/// Takes what a SIP stream of `phone` read so far: its DeviceTLInfo alarms (which mark the
/// sender as a phone host) and its REGISTERs.
fn take_sip(
    sip: &mut super::sip_tcp::SipStream,
    phone: Endpoint,
    registrar: Endpoint,
    phones: &mut PhoneHosts,
    alarms: &mut Capped<PhoneTrustAlarm>,
    kept: &mut Capped<SipRegistration>,
) {
    let got = sip.take_alarms();
    if !got.is_empty() {
        phones.mark(phone.ip);
    }
    alarms.extend(got.into_iter().map(|(info, at)| info.into_alarm(phone, at)));
    for (reg, seen) in sip.take_registers() {
        note_sip_registration(phones, kept, reg, seen, phone, registrar);
    }
}

/// Keeps one REGISTER; a host that registered as `SEP<MAC>` or with a Cisco phone's agent
/// ([`super::sip::is_phone_user_agent`]) is a phone, as over SCCP (issue 19 item 6): its
/// later TLS is kept.
pub(super) fn note_sip_registration(
    phones: &mut PhoneHosts,
    kept: &mut Capped<SipRegistration>,
    reg: super::sip::SipRegister,
    seen: Seen,
    phone: Endpoint,
    registrar: Endpoint,
) {
    if reg.device_name.as_deref().is_some_and(is_phone_device_name)
        || reg
            .user_agent
            .as_deref()
            .is_some_and(super::sip::is_phone_user_agent)
    {
        phones.mark(phone.ip);
    }
    kept.push(reg.into_registration(phone, registrar, seen));
}

/// True for a phone's device name: `SEP` and 12 hex digits.
pub(crate) fn is_phone_device_name(name: &str) -> bool {
    name.len() == 15
        && name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("SEP"))
        && name
            .get(3..)
            .is_some_and(|d| d.chars().all(|c| c.is_ascii_hexdigit()))
}

fn duration_ns(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// The watched ports, by application.
#[derive(Debug)]
struct Ports {
    http: PortSet,
    tls: PortSet,
    sip: PortSet,
    sccp: PortSet,
}

/// Picks the application for a connection from its first payload. `summed`: a TLS session
/// here would only be summed with others (not a phone's host, not a phone port).
#[allow(clippy::too_many_arguments)]
fn self_decide(
    ports: &Ports,
    conn: &Conn,
    payload: &[u8],
    (max_file, keep_config_bytes): (u64, bool),
    max_message: usize,
    certs: &SharedCerts,
    summed: bool,
    (memory, worth): (&MemoryBudget, Worth),
) -> App {
    let tls = || {
        let t = TlsConn::new(conn.client, conn.server, conn.first, max_message)
            .with_certs(certs.clone())
            .with_budget(memory, worth);
        App::Tls(Box::new(if summed { t.summed() } else { t }))
    };
    if tls::probe(payload).is_some() {
        return tls();
    }
    if ports.http.contains(conn.server.port) {
        return App::Http(Box::new(
            HttpConn::new(conn.client, conn.server, max_file)
                .keeping_config_bytes(keep_config_bytes),
        ));
    }
    if ports.sip.contains(conn.server.port) {
        return App::Sip(Box::default());
    }
    if ports.sccp.contains(conn.server.port) {
        return App::Sccp(Box::default());
    }
    if ports.tls.contains(conn.server.port) {
        // Not TLS-looking, but on a TLS service port: report what the TLS parser makes of it.
        return tls();
    }
    App::Ignored
}

fn feed(app: &mut App, dir: usize, ev: StreamEvent<'_>, seen: Seen, files_budget: &mut FileBudget) {
    match (app, ev) {
        (App::Tls(t), StreamEvent::Data(d)) => t.data(dir, d, seen),
        (App::Tls(t), StreamEvent::Gap(n)) => t.gap(dir, n),
        (App::Http(h), StreamEvent::Data(d)) => h.data(dir, d, seen, files_budget),
        (App::Http(h), StreamEvent::Gap(n)) => h.gap(dir, n),
        (App::Sip(s), StreamEvent::Data(d)) if dir == 0 => s.data(d, seen),
        (App::Sip(s), StreamEvent::Gap(n)) if dir == 0 => s.gap(n),
        (App::Sccp(s), StreamEvent::Data(d)) => s.data(dir, d, seen),
        (App::Sccp(s), StreamEvent::Gap(_)) => s.gap(dir),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_flow_key_is_the_same_both_ways_and_tells_every_other_pair_apart() {
        // Issue 19 (tls-heavy): the numeric key is equal exactly when the two pairs of ends
        // are the same pair, whichever way round (IPv4 and IPv6 addresses of equal bits
        // included: 10.0.0.1 and ::a00:1).
        let ends: Vec<Endpoint> = [
            "10.0.0.1:443",
            "10.0.0.1:50000",
            "10.0.0.2:1",
            "9.255.255.255:65535",
            "255.0.0.0:0",
            "[::1]:443",
            "[::a00:1]:443",
            "[fe80::1]:5060",
        ]
        .iter()
        .map(|s| s.parse().expect("endpoint"))
        .collect();
        let hasher = foldhash::fast::RandomState::default();
        for &a in &ends {
            for &b in &ends {
                let key = Key::of(a, b);
                assert_eq!(key, Key::of(b, a), "{a} {b}");
                assert_eq!(hasher.hash_one(key), hasher.hash_one(Key::of(b, a)));
                for &c in &ends {
                    for &d in &ends {
                        let same = (a, b) == (c, d) || (a, b) == (d, c);
                        assert_eq!(key == Key::of(c, d), same, "{a} {b} / {c} {d}");
                    }
                }
            }
        }
    }
}
