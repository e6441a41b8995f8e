//! TLS handshakes seen in clear text: records re-joined across TCP segments, handshake
//! messages re-joined across records (tls-parser 0.12 does not do this), ClientHello,
//! ServerHello (TLS 1.3 through `supported_versions`), the server's certificate chain,
//! alerts, and application-data volumes.
//!
//! Per direction the bytes flow: reassembled TCP stream → record splitter → (handshake
//! records only) handshake buffer → one message at a time. Encrypted records are skipped by
//! their length without being buffered, so bulk traffic costs no copies.

use super::x509::SharedCerts;
use crate::budget::{Account, MemoryBudget, Worth};
use crate::evidence::{CertificateInfo, Endpoint, Seen, Side, TcpEnd, TlsAlert, TlsSession};
use std::sync::Arc;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

/// Largest record body accepted: 2^14 + 2048 (TLS ≤ 1.2 ciphertext limit).
pub const MAX_RECORD: usize = (1 << 14) + 2048;

/// Record content types.
mod content {
    pub const CCS: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

/// The ServerHello random that marks a TLS 1.3 HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The `supported_versions` extension type (RFC 8446 §4.2.1).
const SUPPORTED_VERSIONS: u16 = 43;

/// Whether a ServerHello's extension block may hold `supported_versions`, the only
/// extension read from it: false only when its (type, length) framing walks to its end
/// without one, and then parsing every extension with tls-parser (most of a TLS 1.2
/// ServerHello's cost, issue 19 tls-heavy) could not change the version. Anything else
/// (the extension present, framing that does not add up) is left to tls-parser.
fn may_hold_supported_versions(mut ext: &[u8]) -> bool {
    while let [t0, t1, l0, l1, rest @ ..] = ext {
        if u16::from_be_bytes([*t0, *t1]) == SUPPORTED_VERSIONS {
            return true;
        }
        let Some(next) = rest.get(usize::from(u16::from_be_bytes([*l0, *l1]))..) else {
            return true;
        };
        ext = next;
    }
    !ext.is_empty()
}

/// Most certificates decoded from one chain.
const MAX_CHAIN: usize = 16;

/// Alerts (clear-text and encrypted) kept a session: a real handshake ends with one or two;
/// a crafted stream of alert records would otherwise grow a session's record without bound.
pub const MAX_KEPT_ALERTS: usize = 16;
/// Cipher suites kept of a ClientHello's list (a phone offers a few dozen; the list's length
/// field allows 32,767).
pub const MAX_KEPT_SUITES: usize = 256;
/// Longest server name kept (a DNS name has at most 253 characters).
pub const MAX_KEPT_SNI: usize = 255;

/// Service name of a TLS server port.
pub fn service_for_port(port: u16) -> Option<&'static str> {
    Some(match port {
        2445 => "tvs",
        443 | 8443 => "https",
        2443 => "sccp-tls",
        5061 => "sip-tls",
        3804 => "capf",
        6971 | 6972 => "https-tftp",
        _ => return None,
    })
}

/// What the first bytes of a TCP payload say about TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A handshake record starting a ClientHello (the sender is the client).
    ClientHello,
    /// A handshake record starting a ServerHello (the sender is the server).
    ServerHello,
    /// Another plausible TLS handshake record.
    Handshake,
    /// An SSLv2-style ClientHello.
    Sslv2ClientHello,
}

/// Looks at a payload's first bytes for a TLS handshake record (no allocation).
pub fn probe(b: &[u8]) -> Option<Probe> {
    match b {
        [content::HANDSHAKE, 3, minor, h, l, rest @ ..] if *minor <= 4 => {
            let len = usize::from(u16::from_be_bytes([*h, *l]));
            if len == 0 || len > MAX_RECORD {
                return None;
            }
            Some(match rest.first() {
                Some(1) => Probe::ClientHello,
                Some(2) => Probe::ServerHello,
                _ => Probe::Handshake,
            })
        }
        [b0, _, 1, 0 | 3, _, ..] if b0 & 0x80 != 0 => Some(Probe::Sslv2ClientHello),
        _ => None,
    }
}

/// What the next bytes of a streamed Certificate message are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertField {
    /// The u24 length of the certificate list.
    ListLen,
    /// The u24 length of the next entry.
    EntryLen,
    /// The DER of an entry of this length.
    Der(usize),
    /// Bytes not decoded (past the chain limit, the client's further certificates, or an
    /// entry that runs past the message): skipped.
    Rest,
}

/// A Certificate message (TLS ≤ 1.2 form) read as its bytes come: each certificate is
/// decoded as soon as its DER is complete and its bytes dropped, so a direction holds at
/// most one certificate, never the whole chain (issue 19, "buffers hold only the
/// unparsed tail").
#[derive(Debug)]
struct CertStream {
    /// Message body bytes still to come.
    left: usize,
    /// The body's length (the list length is 3 less in a well-formed message).
    body_len: usize,
    field: CertField,
    /// The list length, once read.
    total: Option<usize>,
    chain: Vec<Arc<CertificateInfo>>,
}

impl CertStream {
    fn new(body_len: usize) -> Self {
        CertStream {
            left: body_len,
            body_len,
            field: CertField::ListLen,
            total: None,
            chain: Vec::new(),
        }
    }

    /// Bytes the current field needs in all (None: the rest is skipped).
    fn need(&self) -> Option<usize> {
        match self.field {
            CertField::ListLen | CertField::EntryLen => Some(3),
            CertField::Der(n) => Some(n),
            CertField::Rest => None,
        }
    }
}

/// Per-direction parsing state.
#[derive(Debug, Default)]
struct Direction {
    /// Partial record (header and, for clear records, body) awaiting more bytes.
    rec_buf: Vec<u8>,
    /// Bytes still to skip of an encrypted record's body.
    skip: usize,
    /// The start of a handshake message whose rest is still to come (never more than one
    /// message: bytes are taken only as far as the message they belong to).
    hs_buf: Vec<u8>,
    /// Bytes copied into `hs_buf`, for the linear-work tests.
    hs_copied: u64,
    /// Bytes still to skip of an over-long handshake message.
    hs_skip: usize,
    /// Body bytes still to come of a clear handshake record whose header was read: they
    /// go to the handshake layer as they arrive, without waiting for the whole record.
    hs_record_left: usize,
    /// A Certificate message being read certificate by certificate (`hs_buf` then holds
    /// only the field or certificate being completed).
    cert: Option<CertStream>,
    /// Most bytes `hs_buf` held at once, for the streaming tests.
    hs_peak: usize,
    /// Records from here on are encrypted (after ChangeCipherSpec, or TLS 1.3 after hello).
    encrypted: bool,
    /// Record sync lost (gap, garbage): nothing more is parsed in this direction.
    dead: bool,
    /// Any record seen.
    started: bool,
    ccs: bool,
    encrypted_handshake_records: u64,
    app_records: u64,
    /// The capacity of `rec_buf` and `hs_buf`, charged to the capture's memory budget.
    account: Account,
    /// The memory budget refused to let a buffer of this direction grow.
    starved: bool,
}

impl Direction {
    /// Makes room in `rec_buf` (`hs == false`) or `hs_buf` for `n` more bytes of a unit of
    /// `want` bytes in all (the record or the message they wait for): a record's buffer, or
    /// a message's of at most a record's size, is made its unit's length at once, a longer
    /// message's grows by doubling, never past `want` either way, so a buffer holds at most what its unit needs; the account is charged
    /// before the allocation. False when the budget refuses.
    fn room(&mut self, hs: bool, n: usize, want: usize) -> bool {
        let (buf, other) = if hs {
            (&mut self.hs_buf, self.rec_buf.capacity())
        } else {
            (&mut self.rec_buf, self.hs_buf.capacity())
        };
        let need = buf.len().saturating_add(n);
        if need <= buf.capacity() {
            return true;
        }
        // A record's length (at most MAX_RECORD + 5) is known from its header: room for all
        // of it at once, not growth by doubling that copies it twice over (issue 19,
        // tls-heavy). A handshake message may claim far more, so its buffer still doubles.
        // A message or certificate of up to a record's size is treated alike (a server's
        // certificate cut by a segment boundary is otherwise allocated, then grown and
        // copied, in every session).
        let target = if hs && want > MAX_RECORD + 5 {
            need.max(buf.capacity().saturating_mul(2))
                .min(want.max(need))
        } else {
            want.max(need)
        };
        // Doubling refused: exactly what this segment brings may still fit (the room the
        // connection table makes before a phone's segment is for that much).
        let more = other
            .saturating_add(target)
            .saturating_sub(self.account.held());
        let target = if self.account.fits(more) {
            target
        } else {
            need
        };
        if !self.account.hold(other.saturating_add(target)) {
            return false;
        }
        buf.reserve_exact(target - buf.len());
        let held = self.rec_buf.capacity() + self.hs_buf.capacity();
        self.account.hold(held);
        true
    }

    /// Gives back what the buffers no longer use (after a record or message was taken).
    fn settle(&mut self) {
        let held = self.rec_buf.capacity() + self.hs_buf.capacity();
        if held != self.account.held() {
            self.account.hold(held);
        }
    }

    /// Stops parsing this direction and frees its buffers (the budget refused them).
    fn starve(&mut self) {
        self.dead = true;
        self.starved = true;
        self.cert = None;
        self.rec_buf = Vec::new();
        self.hs_buf = Vec::new();
        self.account.hold(0);
    }
}

/// One TLS conversation being followed.
#[derive(Debug)]
pub struct TlsConn {
    session: TlsSession,
    dirs: [Direction; 2],
    max_message: usize,
    server_app_records_after_client_app: u64,
    sslv2: bool,
    /// Alerts past [`MAX_KEPT_ALERTS`] were seen and said in the notes.
    alerts_capped: bool,
    /// Where certificates are decoded: once per distinct certificate (the connection
    /// table's cache; a cache of its own made when first needed, for a conversation followed
    /// alone).
    certs: Option<SharedCerts>,
    /// A session only summed with others ([`TlsConn::summed`]): its ClientHello is not parsed.
    summed: bool,
}

fn side(dir: usize) -> Side {
    if dir == 0 { Side::Client } else { Side::Server }
}

impl TlsConn {
    /// Starts following a conversation. `max_message` caps one handshake message.
    pub fn new(client: Endpoint, server: Endpoint, first: Seen, max_message: usize) -> Self {
        TlsConn {
            session: TlsSession {
                client,
                server,
                service: service_for_port(server.port).map(str::to_string),
                offered_versions: Vec::new(),
                sni: None,
                version: None,
                cipher_suite: None,
                certificates: Vec::new(),
                certificates_encrypted: false,
                client_certificate: None,
                alerts: Vec::new(),
                handshake_complete: false,
                app_data_bytes: (0, 0),
                end: TcpEnd::Open,
                notes: Vec::new(),
                first,
                certificate_seen: None,
                last: first,
                offered_cipher_suites: Vec::new(),
                encrypted_alerts: Vec::new(),
            },
            dirs: [Direction::default(), Direction::default()],
            max_message,
            server_app_records_after_client_app: 0,
            sslv2: false,
            alerts_capped: false,
            certs: None,
            summed: false,
        }
    }

    /// Marks a session of a host that is not a phone, to a port that is not a phone's: it
    /// will only be summed per server and certificate, so what its ClientHello offers
    /// (versions, cipher suites, SNI) is not parsed. The server's side is read as always.
    pub fn summed(mut self) -> Self {
        self.summed = true;
        self
    }

    /// Charges this conversation's buffers to `budget` as bytes worth `worth`.
    pub fn with_budget(mut self, budget: &MemoryBudget, worth: Worth) -> Self {
        for d in &mut self.dirs {
            d.account.rebind(budget);
            d.account.set_worth(worth);
            d.settle();
        }
        self
    }

    /// Re-rates this conversation's buffers (its client turned out to be a phone).
    pub fn set_worth(&mut self, worth: Worth) {
        for d in &mut self.dirs {
            d.account.set_worth(worth);
        }
    }

    /// What this conversation's buffers are worth.
    pub fn worth(&self) -> Worth {
        self.dirs[0].account.worth()
    }

    /// Bytes this conversation's buffers hold (charged to the memory budget).
    pub fn held(&self) -> usize {
        self.dirs.iter().map(|d| d.account.held()).sum()
    }

    /// The memory budget refused a buffer: the direction stops being parsed, with a note
    /// saying why (not a verdict on the server: unknown, not false).
    fn starve(&mut self, dir: usize) {
        let d = &mut self.dirs[dir];
        if d.starved {
            return;
        }
        d.starve();
        let who = side(dir).as_str();
        self.note(format!(
            "the memory budget was spent: the {who}'s TLS records from here on were not parsed (raise --max-memory to read them)"
        ));
    }

    /// Decodes certificates through `certs`, shared with other conversations.
    pub fn with_certs(mut self, certs: SharedCerts) -> Self {
        self.certs = Some(certs);
        self
    }

    /// Says once that alerts past [`MAX_KEPT_ALERTS`] were not kept.
    fn alerts_not_kept(&mut self) {
        if !self.alerts_capped {
            self.alerts_capped = true;
            self.note(format!(
                "more than {MAX_KEPT_ALERTS} alert records: the first {MAX_KEPT_ALERTS} of each kind are kept"
            ));
        }
    }

    fn note(&mut self, s: String) {
        if self.session.notes.len() < 32 {
            self.session.notes.push(s);
        }
    }

    /// Bytes of the `dir` stream (0 = client → server) are missing.
    pub fn gap(&mut self, dir: usize, len: u64) {
        let d = &mut self.dirs[dir & 1];
        if d.dead {
            return;
        }
        if d.rec_buf.is_empty() && d.hs_record_left == 0 && d.skip as u64 >= len {
            // Inside an encrypted record body: the record boundaries still hold.
            d.skip -= len as usize;
            return;
        }
        d.dead = true;
        let who = side(dir).as_str();
        self.note(format!("{len} bytes missing from the {who}'s stream; its TLS records after that were not parsed"));
    }

    /// Stream bytes of the `dir` direction (0 = client → server), in order.
    pub fn data(&mut self, dir: usize, mut data: &[u8], seen: Seen) {
        let dir = dir & 1;
        self.session.last = seen;
        while !data.is_empty() && !self.dirs[dir].dead {
            let d = &mut self.dirs[dir];
            if d.skip > 0 {
                let n = d.skip.min(data.len());
                d.skip -= n;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            if d.hs_record_left > 0 {
                let n = d.hs_record_left.min(data.len());
                d.hs_record_left -= n;
                let (now, rest) = data.split_at(n);
                data = rest;
                self.handshake_bytes(dir, now, seen);
                continue;
            }
            if dir == 0
                && !d.started
                && d.rec_buf.is_empty()
                && data.first().is_some_and(|b| b & 0x80 != 0)
            {
                data = self.sslv2_hello(data, seen);
                continue;
            }
            // Complete the header.
            if d.rec_buf.len() < 5 {
                if d.rec_buf.is_empty() && data.len() >= 5 {
                    let header = [data[0], data[1], data[2], data[3], data[4]];
                    match self.header(dir, header, seen) {
                        HeaderAction::Skip(len) => {
                            data = data.get(5..).unwrap_or_default();
                            self.dirs[dir].skip = len;
                            continue;
                        }
                        HeaderAction::Read(len) => {
                            if let Some(body) = data.get(5..5 + len) {
                                self.record(dir, header[0], body, seen);
                                data = data.get(5 + len..).unwrap_or_default();
                                continue;
                            }
                            if header[0] == content::HANDSHAKE {
                                data = data.get(5..).unwrap_or_default();
                                self.dirs[dir].hs_record_left = len;
                                continue;
                            }
                        }
                        HeaderAction::Dead => return,
                    }
                }
                let d = &mut self.dirs[dir];
                let need = 5 - d.rec_buf.len().min(5);
                let n = need.min(data.len());
                if !d.room(false, n, 5) {
                    return self.starve(dir);
                }
                let d = &mut self.dirs[dir];
                d.rec_buf
                    .extend_from_slice(data.get(..n).unwrap_or_default());
                data = data.get(n..).unwrap_or_default();
                if d.rec_buf.len() < 5 {
                    continue;
                }
                let b = &d.rec_buf;
                let header = [b[0], b[1], b[2], b[3], b[4]];
                match self.header(dir, header, seen) {
                    HeaderAction::Skip(len) => {
                        let d = &mut self.dirs[dir];
                        d.rec_buf.clear();
                        d.skip = len;
                        continue;
                    }
                    HeaderAction::Read(len) if header[0] == content::HANDSHAKE => {
                        // Handshake bytes need no record around them: the handshake layer
                        // takes them as they come.
                        let d = &mut self.dirs[dir];
                        d.rec_buf.clear();
                        d.hs_record_left = len;
                        continue;
                    }
                    HeaderAction::Read(_) => {}
                    HeaderAction::Dead => return,
                }
            }
            // Clear record body being gathered.
            let d = &mut self.dirs[dir];
            let want = 5 + usize::from(u16::from_be_bytes([d.rec_buf[3], d.rec_buf[4]]));
            let n = (want - d.rec_buf.len()).min(data.len());
            if !d.room(false, n, want) {
                return self.starve(dir);
            }
            let d = &mut self.dirs[dir];
            d.rec_buf
                .extend_from_slice(data.get(..n).unwrap_or_default());
            data = data.get(n..).unwrap_or_default();
            if d.rec_buf.len() == want {
                let rec = std::mem::take(&mut d.rec_buf);
                self.record(dir, rec[0], rec.get(5..).unwrap_or_default(), seen);
                let d = &mut self.dirs[dir];
                if d.rec_buf.capacity() == 0 {
                    d.rec_buf = rec;
                    d.rec_buf.clear();
                }
            }
        }
        self.dirs[dir].settle();
    }

    /// Decides what to do with a record given its header.
    fn header(&mut self, dir: usize, h: [u8; 5], seen: Seen) -> HeaderAction {
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let valid = (content::CCS..=content::HEARTBEAT).contains(&h[0])
            && h[1] == 3
            && h[2] <= 4
            && len <= MAX_RECORD;
        let d = &mut self.dirs[dir];
        if !valid {
            d.dead = true;
            let who = side(dir).as_str();
            let msg = if d.started {
                format!(
                    "the {who}'s stream lost TLS record framing (bytes {:02x?}); not parsed further",
                    h
                )
            } else {
                format!(
                    "the {who}'s stream does not start with a TLS record (bytes {:02x?})",
                    h
                )
            };
            self.note(msg);
            return HeaderAction::Dead;
        }
        d.started = true;
        let ty = h[0];
        if ty == content::APPLICATION_DATA {
            d.app_records += 1;
            if dir == 0 {
                self.session.app_data_bytes.0 += len as u64;
            } else {
                self.session.app_data_bytes.1 += len as u64;
                if self.dirs[0].app_records > 0 {
                    self.server_app_records_after_client_app += 1;
                }
            }
            return HeaderAction::Skip(len);
        }
        if d.encrypted && ty != content::CCS {
            if ty == content::HANDSHAKE {
                d.encrypted_handshake_records += 1;
            }
            if ty == content::ALERT {
                if self.session.encrypted_alerts.len() < MAX_KEPT_ALERTS {
                    self.session.encrypted_alerts.push((side(dir), seen));
                } else {
                    self.alerts_not_kept();
                }
            }
            return HeaderAction::Skip(len);
        }
        if ty == content::HEARTBEAT {
            return HeaderAction::Skip(len);
        }
        HeaderAction::Read(len)
    }

    /// One clear-text record.
    fn record(&mut self, dir: usize, ty: u8, body: &[u8], seen: Seen) {
        match ty {
            content::CCS => {
                let d = &mut self.dirs[dir];
                d.ccs = true;
                d.encrypted = true;
            }
            content::ALERT => {
                for pair in body.chunks(2) {
                    if let [level, description] = pair {
                        if self.session.alerts.len() >= MAX_KEPT_ALERTS {
                            self.alerts_not_kept();
                            break;
                        }
                        self.session.alerts.push(TlsAlert {
                            from: side(dir),
                            level: *level,
                            description: *description,
                            after_server_certificate: self.session.certificate_seen.is_some(),
                            seen,
                        });
                    }
                }
            }
            content::HANDSHAKE => self.handshake_bytes(dir, body, seen),
            _ => {}
        }
    }

    /// Handshake record payload: re-join messages across records. Whole messages are parsed
    /// straight from the record; only a message cut by a record boundary is copied, and
    /// each of its bytes once (no re-copying of what is pending on every record).
    fn handshake_bytes(&mut self, dir: usize, mut body: &[u8], seen: Seen) {
        let u24 = |h: &[u8]| -> usize {
            h.iter()
                .skip(1)
                .take(3)
                .fold(0, |n, b| n << 8 | usize::from(*b))
        };
        loop {
            let d = &mut self.dirs[dir];
            if d.hs_skip > 0 {
                let n = d.hs_skip.min(body.len());
                d.hs_skip -= n;
                body = body.get(n..).unwrap_or_default();
            }
            if d.cert.is_some() {
                match self.cert_bytes(dir, body, seen) {
                    Some(rest) => body = rest,
                    None => return self.starve(dir),
                }
                if self.dirs[dir].cert.is_some() {
                    return; // the message lacks bytes still
                }
                continue;
            }
            if body.is_empty() || d.encrypted {
                // TLS 1.3: what follows the ServerHello in this direction is encrypted.
                return;
            }
            if !d.hs_buf.is_empty() {
                // Complete the pending message: its header, then exactly what it lacks.
                if d.hs_buf.len() < 4 {
                    let n = (4 - d.hs_buf.len()).min(body.len());
                    if !d.room(true, n, 4) {
                        return self.starve(dir);
                    }
                    let d = &mut self.dirs[dir];
                    d.hs_buf
                        .extend_from_slice(body.get(..n).unwrap_or_default());
                    d.hs_copied += n as u64;
                    body = body.get(n..).unwrap_or_default();
                    if d.hs_buf.len() < 4 {
                        return;
                    }
                    let len = u24(&d.hs_buf);
                    if len > self.max_message {
                        let ty = d.hs_buf[0];
                        d.hs_buf.clear();
                        d.hs_skip = len;
                        self.too_long(dir, ty, len);
                        continue;
                    }
                    if d.hs_buf[0] == 11 {
                        // A Certificate message: read certificate by certificate.
                        d.hs_buf.clear();
                        d.cert = Some(CertStream::new(len));
                        continue;
                    }
                }
                let d = &mut self.dirs[dir];
                let want = 4 + u24(&d.hs_buf);
                let n = (want - d.hs_buf.len().min(want)).min(body.len());
                if !d.room(true, n, want) {
                    return self.starve(dir);
                }
                let d = &mut self.dirs[dir];
                d.hs_buf
                    .extend_from_slice(body.get(..n).unwrap_or_default());
                d.hs_copied += n as u64;
                d.hs_peak = d.hs_peak.max(d.hs_buf.len());
                body = body.get(n..).unwrap_or_default();
                if d.hs_buf.len() < want {
                    return;
                }
                let mut msg = std::mem::take(&mut d.hs_buf);
                self.message(dir, msg[0], &msg, seen);
                msg.clear();
                let d = &mut self.dirs[dir];
                if d.hs_buf.capacity() == 0 && msg.capacity() <= 16 << 10 {
                    d.hs_buf = msg; // keep a modest allocation for the next message
                }
                continue;
            }
            // Whole messages straight from the record.
            while let Some(&[ty, a, b, c]) =
                body.get(..4).and_then(|s| <&[u8; 4]>::try_from(s).ok())
            {
                let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
                if len > self.max_message {
                    self.too_long(dir, ty, len);
                    self.dirs[dir].hs_skip = len;
                    body = body.get(4..).unwrap_or_default();
                    break;
                }
                let Some(msg) = body.get(..4 + len) else {
                    break;
                };
                self.message(dir, ty, msg, seen);
                body = body.get(4 + len..).unwrap_or_default();
                if self.dirs[dir].encrypted {
                    return;
                }
            }
            let d = &mut self.dirs[dir];
            if d.hs_skip > 0 {
                continue;
            }
            // The start of a message the next record continues.
            if let [11, a, b, c, rest @ ..] = body {
                // A Certificate message: read certificate by certificate as records come.
                let len = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
                d.cert = Some(CertStream::new(len));
                body = rest;
                continue;
            }
            let want = match body {
                [_, a, b, c, ..] => {
                    4 + (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c))
                }
                _ => 4,
            };
            if !d.room(true, body.len(), want) {
                return self.starve(dir);
            }
            let d = &mut self.dirs[dir];
            d.hs_buf.extend_from_slice(body);
            d.hs_copied += body.len() as u64;
            return;
        }
    }

    /// Notes a handshake message over the size limit (it is skipped).
    fn too_long(&mut self, dir: usize, ty: u8, len: usize) {
        let who = side(dir).as_str();
        self.note(format!(
            "the {who} sent a handshake message (type {ty}) of {len} bytes, over the {}-byte limit; skipped",
            self.max_message
        ));
    }

    /// One whole handshake message (4-byte header included).
    fn message(&mut self, dir: usize, ty: u8, msg: &[u8], seen: Seen) {
        match (dir, ty) {
            (0, 1) if self.summed => {}
            (0, 1) | (1, 2) => match tls_parser::parse_tls_message_handshake(msg) {
                Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) => {
                    let mut versions = vec![ch.version.0];
                    if let Some(ext) = ch.ext
                        && let Ok((_, exts)) = tls_parser::parse_tls_client_hello_extensions(ext)
                    {
                        for e in exts {
                            match e {
                                TlsExtension::SupportedVersions(v) => {
                                    versions = v
                                        .iter()
                                        .map(|x| x.0)
                                        .filter(|x| x & 0x0f0f != 0x0a0a)
                                        .collect();
                                }
                                TlsExtension::SNI(names) => {
                                    self.session.sni = names.first().map(|(_, n)| {
                                        let n = n.get(..MAX_KEPT_SNI).unwrap_or(n);
                                        String::from_utf8_lossy(n).into_owned()
                                    });
                                }
                                _ => {}
                            }
                        }
                    }
                    versions.sort_unstable_by(|a, b| b.cmp(a));
                    versions.dedup();
                    self.session.offered_versions = versions;
                    self.session.offered_cipher_suites = ch
                        .ciphers
                        .iter()
                        .take(MAX_KEPT_SUITES)
                        .map(|c| c.0)
                        .collect();
                }
                Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)))) => {
                    if sh.random == HRR_RANDOM {
                        self.note("the server sent a HelloRetryRequest".into());
                        return;
                    }
                    let mut version = sh.version.0;
                    if let Some(ext) = sh.ext
                        && may_hold_supported_versions(ext)
                        && let Ok((_, exts)) = tls_parser::parse_tls_server_hello_extensions(ext)
                    {
                        for e in exts {
                            if let TlsExtension::SupportedVersions(v) = e
                                && let Some(x) = v.first()
                            {
                                version = x.0;
                            }
                        }
                    }
                    self.session.version = Some(version);
                    self.session.cipher_suite = Some(sh.cipher.0);
                    if version >= 0x0304 {
                        self.session.certificates_encrypted = true;
                        self.dirs[1].encrypted = true;
                        self.dirs[0].encrypted = true;
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    let what = if ty == 1 {
                        "ClientHello"
                    } else {
                        "ServerHello"
                    };
                    self.note(format!("malformed {what} ({} bytes)", msg.len()));
                }
            },
            (_, 11) => self.certificate(dir, msg.get(4..).unwrap_or_default(), seen),
            _ => {}
        }
    }

    /// A whole Certificate message body (TLS ≤ 1.2 form: u24 list length, then
    /// u24-prefixed DER), read like one that arrives in pieces ([`TlsConn::cert_bytes`]).
    fn certificate(&mut self, dir: usize, body: &[u8], seen: Seen) {
        self.dirs[dir].cert = Some(CertStream::new(body.len()));
        if self.cert_bytes(dir, body, seen).is_none() {
            self.starve(dir);
        }
    }

    /// Feeds bytes of the Certificate message being streamed in direction `dir`; returns
    /// what follows the message (empty while it lacks bytes), or None when the memory
    /// budget refused room for a certificate. Bytes are copied only when a field or a
    /// certificate is cut by a record or segment boundary, and then only its own.
    fn cert_bytes<'a>(&mut self, dir: usize, mut body: &'a [u8], seen: Seen) -> Option<&'a [u8]> {
        loop {
            let d = &mut self.dirs[dir];
            let Some(cs) = d.cert.as_mut() else {
                return Some(body);
            };
            if cs.left == 0 {
                if let Some(done) = d.cert.take() {
                    d.hs_buf.clear();
                    d.settle();
                    self.cert_done(dir, done, seen);
                }
                return Some(body);
            }
            if body.is_empty() {
                return Some(body);
            }
            let avail = cs.left.min(body.len());
            let Some(need) = cs.need() else {
                cs.left -= avail;
                body = body.get(avail..).unwrap_or_default();
                continue;
            };
            let field = cs.field;
            if d.hs_buf.is_empty() && avail >= need {
                // The whole field is here: read it in place.
                cs.left -= need;
                let (bytes, rest) = body.split_at(need);
                body = rest;
                self.cert_field(dir, field, bytes);
                continue;
            }
            let n = need.saturating_sub(d.hs_buf.len()).min(avail);
            if !d.room(true, n, need) {
                return None;
            }
            let (bytes, rest) = body.split_at(n);
            body = rest;
            d.hs_buf.extend_from_slice(bytes);
            d.hs_copied += n as u64;
            d.hs_peak = d.hs_peak.max(d.hs_buf.len());
            if let Some(cs) = d.cert.as_mut() {
                cs.left -= n;
            }
            if d.hs_buf.len() == need {
                let mut whole = std::mem::take(&mut d.hs_buf);
                self.cert_field(dir, field, &whole);
                whole.clear();
                let d = &mut self.dirs[dir];
                if whole.capacity() <= 16 << 10 {
                    d.hs_buf = whole; // a modest allocation is kept for the next field
                }
                d.settle();
            }
        }
    }

    /// One complete field of a streamed Certificate message.
    fn cert_field(&mut self, dir: usize, field: CertField, bytes: &[u8]) {
        let n = bytes
            .iter()
            .take(3)
            .fold(0usize, |n, b| n << 8 | usize::from(*b));
        let mut notes = Vec::new();
        let Some(cs) = self.dirs[dir].cert.as_mut() else {
            return;
        };
        match field {
            CertField::ListLen => {
                cs.total = Some(n);
                cs.field = CertField::EntryLen;
                if dir == 0 {
                    notes.push(format!("the client sent a certificate chain ({n} bytes)"));
                } else if n + 3 != cs.body_len {
                    notes.push(format!(
                        "Certificate list length {n} does not match the message ({} bytes)",
                        cs.body_len.saturating_sub(3)
                    ));
                }
            }
            CertField::EntryLen => {
                if n > cs.left {
                    notes.push(format!(
                        "certificate entry of {n} bytes runs past the message"
                    ));
                    cs.field = CertField::Rest;
                } else if dir == 1 && cs.chain.len() == MAX_CHAIN {
                    notes.push(format!(
                        "certificate chain longer than {MAX_CHAIN}; the rest not decoded"
                    ));
                    cs.field = CertField::Rest;
                } else if n == 0 {
                    // An empty entry is complete already.
                    cs.field = CertField::Der(0);
                    return self.cert_field(dir, CertField::Der(0), &[]);
                } else {
                    cs.field = CertField::Der(n);
                }
            }
            CertField::Der(_) => {
                let (info, note) = self
                    .certs
                    .get_or_insert_with(SharedCerts::default)
                    .borrow_mut()
                    .intern(bytes);
                if dir == 0 {
                    // Only the client's own certificate is kept: it tells a phone
                    // (CN=CP-…-SEP<MAC>) from a gateway or trunk on the same ports.
                    self.session.client_certificate = Some(info);
                    cs.field = CertField::Rest;
                } else {
                    notes.extend(note);
                    cs.chain.push(info);
                    cs.field = CertField::EntryLen;
                }
            }
            CertField::Rest => {}
        }
        for note in notes {
            self.note(note);
        }
    }

    /// A streamed Certificate message is complete: the server's chain is the session's.
    fn cert_done(&mut self, dir: usize, cs: CertStream, seen: Seen) {
        if cs.total.is_none() {
            self.note("empty Certificate message".into());
            return;
        }
        if dir == 1 {
            self.session.certificate_seen = Some(seen);
            self.session.certificates = cs.chain;
        }
    }

    /// An SSLv2-style ClientHello (2-byte header with the high bit set).
    fn sslv2_hello<'a>(&mut self, data: &'a [u8], seen: Seen) -> &'a [u8] {
        let d = &mut self.dirs[0];
        d.started = true;
        let Some(&[b0, b1, kind, vmaj, vmin]) =
            data.get(..5).and_then(|s| <&[u8; 5]>::try_from(s).ok())
        else {
            d.dead = true;
            return &[];
        };
        let len = usize::from(u16::from_be_bytes([b0 & 0x7f, b1]));
        if kind != 1 {
            d.dead = true;
            self.note(
                "the client's stream starts with an SSLv2 record that is not a ClientHello".into(),
            );
            return &[];
        }
        self.sslv2 = true;
        self.session.first = if self.session.first.frame == 0 {
            seen
        } else {
            self.session.first
        };
        self.session.offered_versions = vec![u16::from_be_bytes([vmaj, vmin])];
        if let Some(spec_len) = data
            .get(5..7)
            .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
        {
            let ciphers = data.get(11..11 + spec_len).unwrap_or_default();
            self.session.offered_cipher_suites = ciphers
                .chunks_exact(3)
                .filter(|c| c[0] == 0)
                .take(MAX_KEPT_SUITES)
                .map(|c| u16::from_be_bytes([c[1], c[2]]))
                .collect();
        }
        self.note("the client sent an SSLv2-compatible ClientHello".into());
        data.get((2 + len).min(data.len())..).unwrap_or_default()
    }

    /// Nothing more in clear can change what this session says (only its application-data
    /// count): the handshake completed (as [`TlsConn::finish`] infers it) and both
    /// directions are encrypted, so certificates and clear-text alerts are behind us.
    pub fn settled(&self) -> bool {
        let [c, s] = &self.dirs;
        let complete = if self.session.version.is_some_and(|v| v >= 0x0304) {
            c.app_records > 0 && self.server_app_records_after_client_app > 0
        } else {
            c.ccs && s.ccs && c.encrypted_handshake_records > 0 && s.encrypted_handshake_records > 0
        };
        complete && c.encrypted && s.encrypted
    }

    /// Counts `len` bytes of a settled session's TCP payload from `dir` as application data
    /// without parsing them (record headers and retransmissions included: an estimate).
    pub fn count_unparsed(&mut self, dir: usize, len: usize) {
        if dir == 0 {
            self.session.app_data_bytes.0 += len as u64;
        } else {
            self.session.app_data_bytes.1 += len as u64;
        }
    }

    /// Ends the conversation: `end` is how the TCP connection ended, `last` its last packet.
    pub fn finish(mut self, end: TcpEnd, last: Seen, tcp_notes: Vec<String>) -> TlsSession {
        for n in tcp_notes {
            self.note(n);
        }
        let [c, s] = &self.dirs;
        self.session.handshake_complete = if self.session.version.is_some_and(|v| v >= 0x0304) {
            // Inference: the client sent encrypted records and the server answered after them.
            c.app_records > 0 && self.server_app_records_after_client_app > 0
        } else {
            (c.ccs
                && s.ccs
                && c.encrypted_handshake_records > 0
                && s.encrypted_handshake_records > 0)
                || (c.app_records > 0 && s.app_records > 0)
        };
        if !c.started && !s.started && !matches!(end, TcpEnd::NeverAnswered | TcpEnd::Refused) {
            self.note("no TLS record was exchanged".into());
        }
        if self.sslv2 && self.session.version.is_none() {
            self.note(
                "the server did not answer the SSLv2-compatible hello with a ServerHello".into(),
            );
        }
        self.session.end = end;
        self.session.last = last.max_by_frame(self.session.last);
        self.session
    }
}

trait MaxByFrame {
    fn max_by_frame(self, other: Self) -> Self;
}
impl MaxByFrame for Seen {
    fn max_by_frame(self, other: Seen) -> Seen {
        if other.frame > self.frame {
            other
        } else {
            self
        }
    }
}

enum HeaderAction {
    /// Skip a body of this length without buffering it.
    Skip(usize),
    /// Read and parse a clear body of this length.
    Read(usize),
    /// Framing lost.
    Dead,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use proptest::prelude::*;

    fn ep(port: u16) -> Endpoint {
        Endpoint {
            ip: "10.0.0.1".parse().unwrap(),
            port,
        }
    }

    #[test]
    fn probe_recognises_hello_records() {
        assert_eq!(probe(&[22, 3, 1, 0, 50, 1]), Some(Probe::ClientHello));
        assert_eq!(probe(&[22, 3, 3, 0, 50, 2]), Some(Probe::ServerHello));
        assert_eq!(probe(&[0x80, 0x2e, 1, 3, 1]), Some(Probe::Sslv2ClientHello));
        assert_eq!(probe(b"GET / HTTP/1.1"), None);
        assert_eq!(probe(&[22, 3, 3, 0xff, 0xff, 1]), None);
    }

    #[test]
    fn garbage_stream_is_noted() {
        let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20);
        t.data(0, b"hello world, not tls", Seen::default());
        let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("does not start with a TLS record"))
        );
    }

    /// Issue 19 (memory bounded whatever the input claims): a stream of alert records keeps
    /// the first MAX_KEPT_ALERTS, says the rest were not kept, and the phone's fatal alert at
    /// the start (statement 29's "phone rejects TVS") is still the first one read.
    #[test]
    fn a_flood_of_alert_records_keeps_the_first_and_says_so() {
        let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20);
        let mut stream = Vec::new();
        stream.extend_from_slice(&[21, 3, 3, 0, 2, 2, 48]); // fatal unknown_ca
        for _ in 0..10_000 {
            stream.extend_from_slice(&[21, 3, 3, 0, 2, 1, 0]);
        }
        t.data(0, &stream, Seen::default());
        let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        assert_eq!(s.alerts.len(), MAX_KEPT_ALERTS);
        assert_eq!((s.alerts[0].level, s.alerts[0].description), (2, 48));
        assert_eq!(
            s.notes
                .iter()
                .filter(|n| n.contains("alert records: the first"))
                .count(),
            1,
            "{:?}",
            s.notes
        );
    }

    /// Bytes copied to re-join a Certificate message of `len` bytes sent in records of
    /// one byte each; checks the chain still arrives.
    fn rejoin_copies(len: usize) -> u64 {
        let der_len = len - 4 - 6;
        let mut msg = vec![11];
        msg.extend_from_slice(&((len - 4) as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&((der_len + 3) as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&(der_len as u32).to_be_bytes()[1..]);
        msg.resize(len, 0x5a);
        let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 4 << 20);
        let mut stream = Vec::with_capacity(len * 6);
        for b in &msg {
            stream.extend_from_slice(&[22, 3, 3, 0, 1, *b]);
        }
        t.data(1, &stream, Seen::default());
        let copied = t.dirs[1].hs_copied;
        let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        assert_eq!(s.certificates.len(), 1, "{:?}", s.notes);
        assert_eq!(s.certificates[0].der.len(), der_len);
        copied
    }

    #[test]
    fn a_handshake_message_in_one_byte_records_is_copied_once() {
        let small = rejoin_copies(256 << 10);
        let big = rejoin_copies(512 << 10);
        assert!(
            big <= 2 * small + 64,
            "256 KiB: {small}, 512 KiB: {big} bytes copied"
        );
        assert!(big <= (512 << 10) + 64, "{big} bytes copied for 512 KiB");
    }

    /// A server's Certificate message of `len` bytes (one junk entry), in records of 16 KiB.
    fn certificate_records(len: usize) -> Vec<Vec<u8>> {
        let mut msg = vec![11];
        msg.extend_from_slice(&((len - 4) as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&((len - 7) as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&((len - 10) as u32).to_be_bytes()[1..]);
        msg.resize(len, 0x5a);
        msg.chunks(16 << 10)
            .map(|c| {
                let mut r = vec![22, 3, 3];
                r.extend_from_slice(&(c.len() as u16).to_be_bytes());
                r.extend_from_slice(c);
                r
            })
            .collect()
    }

    /// Statement 29 (the phone asks TVS): a TVS certificate larger than the memory budget
    /// is not parsed, says why, and gives its bytes back; nothing is claimed about it.
    #[test]
    fn a_handshake_message_over_the_memory_budget_stops_the_direction_with_a_note() {
        let budget = MemoryBudget::new(64 << 10);
        let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20)
            .with_budget(&budget, Worth::Phone);
        for r in certificate_records(256 << 10) {
            t.data(1, &r, Seen::default());
            assert!(budget.used() <= 64 << 10);
        }
        assert_eq!(budget.used(), 0, "a starved direction holds nothing");
        assert_eq!(budget.refusals(), (1, 1));
        let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        assert!(s.certificates.is_empty());
        assert!(
            s.notes.iter().any(|n| n.contains("memory budget")),
            "{:?}",
            s.notes
        );
    }

    #[test]
    fn the_handshake_buffer_never_grows_past_the_message_it_waits_for() {
        let len = 100_000;
        let budget = MemoryBudget::new(1 << 20);
        let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20)
            .with_budget(&budget, Worth::Phone);
        let records = certificate_records(len);
        let (last, first) = records.split_last().expect("records");
        for r in first {
            t.data(1, r, Seen::default());
            assert!(
                t.dirs[1].hs_buf.capacity() <= len,
                "{}",
                t.dirs[1].hs_buf.capacity()
            );
            assert_eq!(budget.used(), t.held());
        }
        t.data(1, last, Seen::default());
        assert!(
            budget.used() <= 16 << 10,
            "the finished message is given back"
        );
        let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        assert_eq!(s.certificates.len(), 1, "{:?}", s.notes);
    }

    /// A server Certificate message holding `n` entries of `der` bytes each.
    fn chain_message(n: usize, der: usize) -> Vec<u8> {
        let u24 = |v: usize| [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        let list = n * (3 + der);
        let mut msg = vec![11];
        msg.extend_from_slice(&u24(list + 3));
        msg.extend_from_slice(&u24(list));
        for i in 0..n {
            msg.extend_from_slice(&u24(der));
            msg.extend(std::iter::repeat_n(i as u8, der));
        }
        msg
    }

    /// Statement 17 (TVS's certificate is taken from the 2445 handshake): a 900 KB chain
    /// in many records and segments still yields every certificate, while the direction
    /// holds one certificate at most, never the whole message.
    #[test]
    fn a_900_kb_certificate_chain_is_read_certificate_by_certificate() {
        let (n, der) = (9, 100_000);
        let msg = chain_message(n, der);
        assert!(msg.len() > 900_000);
        let budget = MemoryBudget::new(4 << 20);
        let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20)
            .with_budget(&budget, Worth::Phone);
        let mut stream = Vec::new();
        for c in msg.chunks(16_000) {
            stream.extend_from_slice(&[22, 3, 3]);
            stream.extend_from_slice(&(c.len() as u16).to_be_bytes());
            stream.extend_from_slice(c);
        }
        // Segments of 1,400 bytes cut records, headers and certificates anywhere.
        for seg in stream.chunks(1400) {
            t.data(1, seg, Seen::default());
            assert!(budget.used() < msg.len() / 4, "{} held", budget.used());
        }
        let peak = t.dirs[1].hs_peak;
        assert!(peak <= der, "{peak} bytes buffered at once");
        assert!(budget.peak() < msg.len() / 4, "{}", budget.peak());
        assert_eq!(budget.used(), 0, "nothing is held once the message is read");
        let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        assert_eq!(s.certificates.len(), n, "{:?}", s.notes);
        for (i, c) in s.certificates.iter().enumerate() {
            assert_eq!(c.der.len(), der);
            assert!(c.der.iter().all(|b| *b == i as u8));
        }
    }

    /// The same chain in one record per certificate and in one-byte records: the same
    /// certificates either way (statement 17).
    #[test]
    fn a_streamed_chain_reads_the_same_in_any_split() {
        let msg = chain_message(3, 300);
        let read = |size: usize| {
            let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20);
            for c in msg.chunks(size) {
                let mut r = vec![22, 3, 3];
                r.extend_from_slice(&(c.len() as u16).to_be_bytes());
                r.extend_from_slice(c);
                t.data(1, &r, Seen::default());
            }
            let s = t.finish(TcpEnd::Open, Seen::default(), vec![]);
            s.certificates
                .iter()
                .map(|c| c.der.clone())
                .collect::<Vec<_>>()
        };
        let whole = read(msg.len());
        assert_eq!(whole.len(), 3);
        for size in [1, 2, 3, 5, 7, 303, 304, 500] {
            assert_eq!(read(size), whole, "records of {size} bytes");
        }
    }

    #[test]
    fn messages_split_across_records_every_way_are_all_read() {
        // Two messages (a ServerHelloDone and an unknown type) cut at every position.
        let msgs = [14u8, 0, 0, 0, 99, 0, 0, 3, 1, 2, 3];
        for cut in 0..=msgs.len() {
            let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 1 << 20);
            for part in [&msgs[..cut], &msgs[cut..]] {
                if part.is_empty() {
                    continue;
                }
                let mut rec = vec![22, 3, 3, 0, part.len() as u8];
                rec.extend_from_slice(part);
                t.data(1, &rec, Seen::default());
            }
            assert!(t.dirs[1].hs_buf.is_empty(), "cut at {cut}");
            assert_eq!(t.dirs[1].hs_skip, 0);
        }
    }

    #[test]
    fn server_hello_extensions_are_skipped_only_when_supported_versions_cannot_be_there() {
        // Issue 19 (tls-heavy): a TLS 1.2 ServerHello's extensions need no parsing.
        assert!(!may_hold_supported_versions(&[]));
        // renegotiation_info (0xff01, 1 byte), then ec_point_formats (11, 2 bytes).
        assert!(!may_hold_supported_versions(&[
            0xff, 0x01, 0, 1, 0, 0, 11, 0, 2, 1, 0
        ]));
        // supported_versions (43) after another extension: parsed.
        assert!(may_hold_supported_versions(&[
            0xff, 0x01, 0, 1, 0, 0, 43, 0, 2, 3, 4
        ]));
        // Framing that does not add up, or a stray tail: left to tls-parser.
        assert!(may_hold_supported_versions(&[0xff, 0x01, 0, 9, 0]));
        assert!(may_hold_supported_versions(&[0xff, 0x01, 0, 0, 7]));
    }

    /// A ServerHello record (TLS 1.2 legacy version) with these extension bytes.
    fn server_hello_record(ext: &[u8]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0); // no session id
        body.extend_from_slice(&[0xc0, 0x2f, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(ext);
        let mut msg = vec![2, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend_from_slice(&body);
        let mut rec = vec![22, 3, 3, (msg.len() >> 8) as u8, msg.len() as u8];
        rec.extend_from_slice(&msg);
        rec
    }

    proptest! {
        #[test]
        fn a_server_hello_reads_the_same_version_with_or_without_the_extension_shortcut(
            exts in proptest::collection::vec((prop_oneof![Just(43u16), Just(0xff01), Just(11), any::<u16>()], proptest::collection::vec(any::<u8>(), 0..6)), 0..5),
            tail in proptest::collection::vec(any::<u8>(), 0..3),
        ) {
            let mut ext = Vec::new();
            for (ty, data) in &exts {
                ext.extend_from_slice(&ty.to_be_bytes());
                ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
                ext.extend_from_slice(data);
            }
            ext.extend_from_slice(&tail);
            // What tls-parser alone says the version is.
            let mut expected = 0x0303;
            if let Ok((_, all)) = tls_parser::parse_tls_server_hello_extensions(&ext) {
                for e in all {
                    if let TlsExtension::SupportedVersions(v) = e && let Some(x) = v.first() {
                        expected = x.0;
                    }
                }
            }
            let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 4096);
            t.data(1, &server_hello_record(&ext), Seen::default());
            prop_assert_eq!(t.session.version, Some(expected));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(
            chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..200)), 0..30),
            gaps in proptest::collection::vec(0u64..100, 0..3),
        ) {
            let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 4096);
            for (i, (dir, c)) in chunks.iter().enumerate() {
                // Bias towards framing-valid input: a record header on every other chunk.
                let mut b = if i % 2 == 0 { vec![22, 3, 3, 0, c.len() as u8] } else { Vec::new() };
                b.extend_from_slice(c);
                t.data(usize::from(*dir), &b, Seen { capture: 0, frame: i as u64, ts: Timestamp(0) });
                if let Some(g) = gaps.get(i) {
                    t.gap(usize::from(*dir), *g);
                }
            }
            let _ = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        }

        #[test]
        fn handshake_parsing_never_panics(body in proptest::collection::vec(any::<u8>(), 0..600), ty in 0u8..30) {
            let mut t = TlsConn::new(ep(1), ep(2445), Seen::default(), 4096);
            let mut msg = vec![ty, 0, (body.len() >> 8) as u8, body.len() as u8];
            msg.extend_from_slice(&body);
            let mut rec = vec![22, 3, 3, (msg.len() >> 8) as u8, msg.len() as u8];
            rec.extend_from_slice(&msg);
            t.data(1, &rec, Seen::default());
            t.data(0, &rec, Seen::default());
            let _ = t.finish(TcpEnd::Open, Seen::default(), vec![]);
        }
    }
}
