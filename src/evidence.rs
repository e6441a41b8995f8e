//! Evidence: the plain data the protocol stage hands to the diagnosis.
//!
//! Every record carries frame numbers and times so a finding can cite "frame N". Nothing here
//! parses bytes; these are the facts a capture showed.

use crate::events::{FileCut, LimitEvent};
use crate::timestamp::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A transport endpoint, rendered `ip:port` (IPv6 as `[addr]:port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// UDP or TCP port.
    pub port: u16,
}

impl Default for Endpoint {
    /// `0.0.0.0:0`, for building records field by field.
    fn default() -> Self {
        Endpoint {
            ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            port: 0,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", SocketAddr::new(self.ip, self.port))
    }
}

impl std::str::FromStr for Endpoint {
    type Err = std::net::AddrParseError;

    /// Parses `ip:port` (IPv6 as `[addr]:port`), the form [`Endpoint`] is displayed in.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sa: SocketAddr = s.parse()?;
        Ok(Endpoint {
            ip: sa.ip(),
            port: sa.port(),
        })
    }
}

/// Where and when something was seen in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seen {
    /// Index of the capture file in `Evidence::captures` (0 for the first or only one).
    pub capture: usize,
    /// 1-based frame number (within its capture).
    pub frame: u64,
    /// Capture time of that frame.
    pub ts: Timestamp,
}

impl Seen {
    /// The same place in capture `capture`.
    pub fn in_capture(self, capture: usize) -> Seen {
        Seen { capture, ..self }
    }
}

/// How a file travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileTransport {
    /// TFTP (UDP 69 and an ephemeral server port).
    #[default]
    Tftp,
    /// HTTP GET (TCP 6970 by default).
    Http,
}

impl FileTransport {
    /// The JSON name: `tftp` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileTransport::Tftp => "tftp",
            FileTransport::Http => "http",
        }
    }
}

/// A file download (or upload) the phone attempted, complete or not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileTransfer {
    /// Requested name as the phone asked for it (TFTP file name, or HTTP path without the
    /// leading `/`, e.g. `ITLSEP0011223344AA.tlv` or `Desktops/320x196x4/List.xml.sgn`).
    pub name: String,
    /// TFTP or HTTP.
    pub transport: FileTransport,
    /// True for a TFTP write request (opcode 2): the client sends the file.
    pub upload: bool,
    /// The phone's end.
    pub client: Endpoint,
    /// The server's end (for TFTP, the server's transfer port once seen, else port 69).
    pub server: Endpoint,
    /// The file's bytes as reassembled. Only whole when `complete`; never zero-filled: when
    /// ranges are missing, this holds the bytes up to the first gap. Shared: identical
    /// contents (every phone of a cluster downloads the same ITL) are kept once
    /// ([`crate::proto::store_file`]).
    pub data: FileBytes,
    /// Size of the file: bytes seen when complete, else the best known size (e.g. from the
    /// last block number or Content-Length), if any.
    pub size: Option<u64>,
    /// True when every byte arrived and the transfer ended normally.
    pub complete: bool,
    /// Byte ranges `[start, end)` of the file that the capture does not hold.
    pub missing: Vec<(u64, u64)>,
    /// Why the download failed, in words ("TFTP error 1: File not found", "HTTP 503 Service
    /// Unavailable", "transfer did not finish in the capture"), or None when it did not fail.
    /// Bytes the capture lacks (or a memory limit cut) are not a failure: such a transfer is
    /// `complete: false` with `missing` listed, `error` None and the reason in `notes`.
    pub error: Option<String>,
    /// HTTP status code, if HTTP.
    pub http_status: Option<u16>,
    /// TFTP error code, if the server (or client) sent an ERROR packet.
    pub tftp_error_code: Option<u16>,
    /// Negotiated or requested options (TFTP option name/value pairs; HTTP request headers
    /// worth keeping such as `Host`). Shared text: every phone of a fleet sends the same
    /// `Host`, `User-Agent` and `blksize`, kept once ([`crate::proto::intern`], issue 20).
    pub options: Vec<(Arc<str>, Arc<str>)>,
    /// The request.
    pub first: Seen,
    /// The last packet of the transfer.
    pub last: Seen,
    /// MD5 of the file, when `complete` (None when the bytes are not whole). Kept as raw
    /// bytes (16, not a 32-character `String` on the heap: issue 20, 50,000 phones);
    /// [`HexDigest::hex`] and its `Display` give the lower-case hex the reports print.
    pub md5: Option<Md5Digest>,
    /// SHA-1 of the file, same rule.
    pub sha1: Option<Sha1Digest>,
    /// SHA-256 of the file, same rule.
    pub sha256: Option<Sha256Digest>,
    /// Anomalies met while reassembling (duplicate blocks that differed, gaps…). A cut by a
    /// memory limit is not here but in `cut`.
    pub notes: Vec<String>,
    /// Set when a file limit stopped keeping the bytes (the transfer is then not
    /// `complete`); the reports say it in words.
    pub cut: Option<FileCut>,
    /// Set when a whole signed configuration's bytes were not kept (`data` is then empty):
    /// what the diagnosis reads of it instead ([`crate::proto::summarize_signed_config`]).
    /// A phone's own config differs from every other phone's, so at 50,000 phones its
    /// bytes were the largest part of the evidence (issue 20).
    pub signed_config: Option<Box<SignedConfigSummary>>,
}

/// What the diagnosis reads of a signed configuration (`SEP<MAC>.cnf.xml.sgn`) once its bytes
/// are dropped: the header to parse, the digest its signature is checked against, and the
/// `callManagerGroup` of the XML. `analyze` keeps only this; `extract` keeps the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedConfigSummary {
    /// The file's header, `bytes[..header_length]`: parsing it gives the same header as
    /// parsing the whole file, with an empty payload.
    pub header: Box<[u8]>,
    /// Length of the whole file in bytes.
    pub len: u64,
    /// Digest of the signed message (the file less its signature element) by the header's
    /// digest algorithm ([`crate::cisco::verify::signed_digest`]).
    pub signed_digest: Box<[u8]>,
    /// The config's `<callManagerGroup>` members ([`crate::cisco::config::callmanager_group`]),
    /// shared text: a cluster's phones name the same servers.
    pub callmanager_group: Option<Box<[Arc<str>]>>,
}

/// A digest of `N` bytes kept as its raw bytes. It prints (`Display`), serialises and
/// compares with text as lower-case hex, as the `String`s it replaced did, so reports are
/// unchanged; it takes `N` bytes inline and nothing on the heap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HexDigest<const N: usize>(pub [u8; N]);

/// An MD5 digest.
pub type Md5Digest = HexDigest<16>;
/// A SHA-1 digest.
pub type Sha1Digest = HexDigest<20>;
/// A SHA-256 digest.
pub type Sha256Digest = HexDigest<32>;

impl<const N: usize> HexDigest<N> {
    /// The lower-case hex (`2 * N` characters).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; N] {
        &self.0
    }

    /// Reads `2 * N` hex digits (either case); None for anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; N];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(HexDigest(out))
    }

    /// The digest of the first `N` bytes of `bytes` (a hash function's output); None when
    /// `bytes` is shorter.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let head = bytes.get(..N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Some(HexDigest(out))
    }
}

impl<const N: usize> fmt::Display for HexDigest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for HexDigest<N> {
    /// As the hex `String` would print: quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl<const N: usize> Serialize for HexDigest<N> {
    /// A JSON string of lower-case hex, as before.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<const N: usize> JsonSchema for HexDigest<N> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

impl<const N: usize> PartialEq<str> for HexDigest<N> {
    /// Equal to hex text of either case.
    fn eq(&self, other: &str) -> bool {
        other.len() == 2 * N && Self::from_hex(other).is_some_and(|d| d == *self)
    }
}

impl<const N: usize> PartialEq<&str> for HexDigest<N> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl<const N: usize> PartialEq<String> for HexDigest<N> {
    fn eq(&self, other: &String) -> bool {
        *self == *other.as_str()
    }
}

/// A transferred file's bytes, reference-counted so that transfers of identical contents
/// share one copy. Reads like a `&[u8]` (it derefs to one); it never changes once stored.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FileBytes(Arc<[u8]>);

impl FileBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// True when `self` and `other` are the same stored copy (not only equal bytes).
    pub fn same_copy(&self, other: &FileBytes) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Keeps the first `len` bytes (a new copy; others sharing the old one keep it whole).
    pub fn truncate(&mut self, len: usize) {
        if len < self.0.len() {
            self.0 = Arc::from(self.0.get(..len).unwrap_or_default());
        }
    }
}

impl From<Arc<[u8]>> for FileBytes {
    fn from(bytes: Arc<[u8]>) -> Self {
        FileBytes(bytes)
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        FileBytes(Arc::from(bytes))
    }
}

impl From<&[u8]> for FileBytes {
    fn from(bytes: &[u8]) -> Self {
        FileBytes(Arc::from(bytes))
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for FileBytes {
    /// As a `Vec<u8>` would print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<[u8]> for FileBytes {
    fn eq(&self, other: &[u8]) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&[u8]> for FileBytes {
    fn eq(&self, other: &&[u8]) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Vec<u8>> for FileBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        *self.0 == **other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for FileBytes {
    fn eq(&self, other: &[u8; N]) -> bool {
        *self.0 == other[..]
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for FileBytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        *self.0 == other[..]
    }
}

/// What a transferred file is, judged by its name (the JSON `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// An Identity Trust List (`ITLSEP<MAC>.tlv`, `ITLFile.tlv`).
    Itl,
    /// A Certificate Trust List (`CTLSEP<MAC>.tlv`, `CTLFile.tlv`).
    Ctl,
    /// A signed configuration or other signed XML (`*.xml.sgn`, `*.cnf.xml.enc.sgn`).
    SignedConfig,
    /// An unsigned configuration (`*.cnf.xml`, `*.xml`).
    Config,
    /// Anything else (firmware, ring tones, images…).
    Other,
}

impl FileKind {
    /// Classifies a requested name (path components before the last `/` are ignored).
    pub fn of_name(name: &str) -> FileKind {
        let base = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(name)
            .to_ascii_lowercase();
        if base.ends_with(".tlv") && base.starts_with("itl") {
            FileKind::Itl
        } else if base.ends_with(".tlv") && base.starts_with("ctl") {
            FileKind::Ctl
        } else if base.ends_with(".xml.sgn") || base.ends_with(".xml.enc.sgn") {
            FileKind::SignedConfig
        } else if base.ends_with(".xml") {
            FileKind::Config
        } else {
            FileKind::Other
        }
    }

    /// The JSON name: `itl`, `ctl`, `signed-config`, `config` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Itl => "itl",
            FileKind::Ctl => "ctl",
            FileKind::SignedConfig => "signed-config",
            FileKind::Config => "config",
            FileKind::Other => "other",
        }
    }
}

impl FileTransfer {
    /// The file's kind by its requested name.
    pub fn kind(&self) -> FileKind {
        FileKind::of_name(&self.name)
    }

    /// Bytes of the file the capture held (up to the first gap): `data`'s length, or the
    /// whole length of a signed config whose bytes were not kept.
    pub fn captured_len(&self) -> usize {
        match &self.signed_config {
            Some(s) => usize::try_from(s.len).unwrap_or(usize::MAX),
            None => self.data.len(),
        }
    }

    /// The bytes to parse as a signed file: the whole file, or only its header when the
    /// bytes were not kept (the payload then reads as empty).
    pub fn signed_bytes(&self) -> &[u8] {
        match &self.signed_config {
            Some(s) => &s.header,
            None => &self.data,
        }
    }

    /// The digest of the signed message when the bytes were not kept, for the signature
    /// check ([`crate::cisco::model::Header::signed_digest`]).
    pub fn signed_digest(&self) -> Option<&[u8]> {
        self.signed_config.as_ref().map(|s| &*s.signed_digest)
    }
}

/// Which side of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side that opened the connection (the phone).
    Client,
    /// The side that accepted it.
    Server,
}

impl Side {
    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// A TLS wire version as `TLS1.0` … `TLS1.3` (`SSL2.0`, `SSL3.0`; else hex).
pub fn tls_version_name(version: u16) -> String {
    crate::codes::tls_version(version).map_or_else(|| format!("0x{version:04x}"), str::to_owned)
}

/// A decoded X.509 certificate seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The DER bytes.
    pub der: Vec<u8>,
    /// Subject, RDNs in encoded order, e.g. `C=US, O=Cisco, CN=tvs-1`.
    pub subject: String,
    /// Issuer, same rendering.
    pub issuer: String,
    /// Serial as lower-case hex of the unsigned integer, leading zero bytes stripped
    /// ([`crate::serial::serial_hex`]).
    pub serial: String,
    /// SHA-1 of the DER, lower-case hex.
    pub sha1: String,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// Validity start, seconds since the epoch; None when the certificate could not be
    /// parsed (unknown, never a made-up date).
    pub not_before: Option<i64>,
    /// Validity end, seconds since the epoch; None when the certificate could not be parsed.
    pub not_after: Option<i64>,
    /// "RSA", "EC", … and the key size in bits when known.
    pub key_type: String,
    /// Key size in bits, when known.
    pub key_bits: Option<u32>,
}

/// A TLS alert sent in clear text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsAlert {
    /// Who sent it.
    pub from: Side,
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// Alert description code (e.g. 42 bad_certificate, 48 unknown_ca).
    pub description: u8,
    /// True when it came after the server's Certificate message.
    pub after_server_certificate: bool,
    /// Where.
    pub seen: Seen,
}

impl TlsAlert {
    /// The RFC name of the description with its code, e.g. `unknown_ca (48)`.
    pub fn describe(&self) -> String {
        match crate::codes::alert_description(self.description) {
            Some(name) => format!("{name} ({})", self.description),
            None => format!("alert {}", self.description),
        }
    }
}

/// How a TCP connection ended, as far as the capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TcpEnd {
    /// SYN sent, never answered in the capture.
    NeverAnswered,
    /// The SYN was answered with a RST (port closed).
    Refused,
    /// Closed with FIN by this side first.
    Fin(Side),
    /// Reset by this side.
    Reset(Side),
    /// Still open when the capture ended.
    #[default]
    Open,
}

/// One TLS conversation (any port), with what its handshake showed in clear text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSession {
    /// The phone's end.
    pub client: Endpoint,
    /// The server's end.
    pub server: Endpoint,
    /// Service label by server port: "tvs" (2445), "https" (8443/443), "sccp-tls" (2443),
    /// "sip-tls" (5061), "capf" (3804), "https-tftp" (6971/6972), else None.
    pub service: Option<String>,
    /// Versions the client offered (wire values, e.g. 0x0303), highest first.
    pub offered_versions: Vec<u16>,
    /// SNI host name from the ClientHello.
    pub sni: Option<String>,
    /// Version chosen by the server (0x0304 when `supported_versions` says TLS 1.3).
    pub version: Option<u16>,
    /// Cipher suite chosen by the server.
    pub cipher_suite: Option<u16>,
    /// Server certificate chain, leaf first (empty when not seen or encrypted). Shared:
    /// each distinct certificate of a capture is decoded once and every session that
    /// presented it refers to that copy.
    pub certificates: Vec<Arc<CertificateInfo>>,
    /// True when the chain could not be seen because the session is TLS 1.3.
    pub certificates_encrypted: bool,
    /// The client's own certificate (the first of its chain), when it sent one in clear
    /// (TLS 1.2 and earlier): a phone's is `CN=CP-<model>-SEP<MAC>` (its MIC or LSC).
    pub client_certificate: Option<Arc<CertificateInfo>>,
    /// Clear-text alerts in order.
    pub alerts: Vec<TlsAlert>,
    /// Both sides sent ChangeCipherSpec/Finished (TLS ≤ 1.2), or application data flowed.
    pub handshake_complete: bool,
    /// Application-data bytes (record payloads) sent by the client and by the server.
    pub app_data_bytes: (u64, u64),
    /// How the connection ended.
    pub end: TcpEnd,
    /// Anomalies met while reassembling (gaps, over-long messages, SSLv2 hello…).
    pub notes: Vec<String>,
    /// First packet (the SYN or first data).
    pub first: Seen,
    /// Frame of the server's Certificate message, if seen.
    pub certificate_seen: Option<Seen>,
    /// Last packet.
    pub last: Seen,
    /// Cipher suites the client offered (wire values, in its order).
    pub offered_cipher_suites: Vec<u16>,
    /// Alert records sent after encryption started (content unreadable): who and where.
    /// Under TLS 1.3 alerts travel as application data and do not show here.
    pub encrypted_alerts: Vec<(Side, Seen)>,
}

/// Client addresses listed one by one in a [`TlsAggregate`]; more are only counted.
pub const AGGREGATE_CLIENTS: usize = 8;

/// TLS sessions of hosts that do not behave like phones (a PC browsing on 443), summed per
/// server endpoint and server certificate instead of kept one by one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsAggregate {
    /// The server's end.
    pub server: Endpoint,
    /// Service label by server port, as [`TlsSession::service`].
    pub service: Option<String>,
    /// The leaf certificate the server presented (None: not seen in clear).
    pub certificate: Option<Arc<CertificateInfo>>,
    /// Sessions summed here.
    pub sessions: u64,
    /// Of those, sessions whose handshake completed.
    pub handshakes_complete: u64,
    /// Of those, sessions the server never answered or refused.
    pub unanswered: u64,
    /// Sessions with a clear-text alert.
    pub with_alerts: u64,
    /// Distinct client addresses, the first [`AGGREGATE_CLIENTS`].
    pub clients: Vec<IpAddr>,
    /// True when more client addresses took part than are listed.
    pub clients_cut: bool,
    /// First packet of the earliest session.
    pub first: Seen,
    /// Last packet of the latest session.
    pub last: Seen,
}

impl TlsAggregate {
    /// Adds one session (its server and leaf certificate are the aggregate's).
    pub fn add(&mut self, s: &TlsSession) {
        if self.sessions == 0 {
            self.server = s.server;
            self.service.clone_from(&s.service);
            self.certificate = s.certificates.first().cloned();
            self.first = s.first;
            self.last = s.last;
        }
        self.sessions += 1;
        self.handshakes_complete += u64::from(s.handshake_complete);
        self.unanswered += u64::from(matches!(s.end, TcpEnd::NeverAnswered | TcpEnd::Refused));
        self.with_alerts += u64::from(!s.alerts.is_empty());
        if s.first.frame < self.first.frame {
            self.first = s.first;
        }
        if s.last.frame > self.last.frame {
            self.last = s.last;
        }
        if !self.clients.contains(&s.client.ip) {
            if self.clients.len() < AGGREGATE_CLIENTS {
                self.clients.push(s.client.ip);
            } else {
                self.clients_cut = true;
            }
        }
    }
}

/// Why evidence may be missing: a limit or an eviction that cost something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LossReason {
    /// A new TCP connection was not followed: the connection table was full of flows at
    /// least as valuable.
    FlowTableFull,
    /// A followed TCP connection was closed early to make room for another (the least
    /// valuable and oldest go first).
    Evicted,
    /// A TFTP request was not followed: too many transfers open at once.
    TftpTableFull,
    /// A record (TLS session of a phone, file transfer, alarm) was not kept: more than the
    /// record limit.
    RecordLimit,
}

impl LossReason {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            LossReason::FlowTableFull => "flow-table-full",
            LossReason::Evicted => "evicted",
            LossReason::TftpTableFull => "tftp-table-full",
            LossReason::RecordLimit => "record-limit",
        }
    }
}

/// Evidence a limit cost, by client host and server port: what lets a phone's report say
/// "TVS evidence may be missing" next to the check concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceLoss {
    /// The client (the would-be phone); None when too many hosts lost something to list
    /// them (the loss may concern any phone).
    pub client: Option<IpAddr>,
    /// The server port (2445, 69, 6970, 5060…); 0 when not known.
    pub server_port: u16,
    /// What cut it.
    pub reason: LossReason,
    /// Connections, requests or records lost.
    pub count: u64,
    /// The first loss.
    pub first: Seen,
}

/// How CUCM answered an SCCP registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// `RegisterAck`, at that frame.
    Accepted {
        /// The answer's frame.
        at: Seen,
    },
    /// `RegisterReject`, with CUCM's text.
    Rejected {
        /// The answer's frame.
        at: Seen,
        /// The reject's text (printable ASCII, at most 33 characters).
        reason: String,
    },
    /// No answer in the capture.
    Unanswered,
}

/// An SCCP `StationRegister` a device sent (TCP 2000): who it says it is and which CUCM it
/// registered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SccpRegistration {
    /// The device's end (the TCP client).
    pub phone: Endpoint,
    /// The CUCM's end (the TCP server).
    pub cucm: Endpoint,
    /// Device name as sent (`SEP0011223344AA` for a phone).
    pub device_name: String,
    /// Device type number, when the message carried it.
    pub device_type: Option<u32>,
    /// The model of that device type (`7970`, else `device type N`).
    pub model: Option<String>,
    /// The address the device says it has.
    pub station_ip: Option<IpAddr>,
    /// CUCM's answer.
    pub outcome: RegistrationOutcome,
    /// The `StationRegister`'s frame.
    pub seen: Seen,
}

impl SccpRegistration {
    /// Says which capture the registration was seen in.
    pub fn set_capture(&mut self, capture: usize) {
        self.seen = self.seen.in_capture(capture);
        if let RegistrationOutcome::Accepted { at } | RegistrationOutcome::Rejected { at, .. } =
            &mut self.outcome
        {
            *at = at.in_capture(capture);
        }
    }
}

/// True when a trust-list field of a `DeviceTLInfo` alarm (`ITL_Signature`, `CTL_Signature`),
/// as the phone wrote it, says the list is not installed ("Not Installed", any case, spaces
/// around ignored).
pub fn says_not_installed(raw: &str) -> bool {
    raw.trim().eq_ignore_ascii_case("Not Installed")
}

/// A SIP `REGISTER` a device sent (UDP or TCP 5060): who it says it is (issue 19 item 6; a
/// Cisco phone names itself `SEP<MAC>` in its Contact's `+u.sip!devicename.ccm.cisco.com`
/// or in the cisco-alarm `Reason` of its first REGISTER after a restart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipRegistration {
    /// The device's end (the REGISTER's sender).
    pub phone: Endpoint,
    /// The registrar's end (the REGISTER's receiver).
    pub registrar: Endpoint,
    /// Device name as sent (`SEP0011223344AA`); None when the REGISTER named no `SEP…`.
    pub device_name: Option<String>,
    /// The `User-Agent` header (`Cisco-CP8845/14.2.1`), as sent.
    pub user_agent: Option<String>,
    /// `ActiveLoad=` of the cisco-alarm `Reason` (`sip88xx.14-2-1-0001-14`).
    pub active_load: Option<String>,
    /// The frame that completed the REGISTER's head.
    pub seen: Seen,
}

impl SipRegistration {
    /// Says which capture the registration was seen in.
    pub fn set_capture(&mut self, capture: usize) {
        self.seen = self.seen.in_capture(capture);
    }
}

/// A `DeviceTLInfo` alarm the phone sent over clear-text SIP (REFER with
/// `application/x-cisco-alarm+xml`): the hash of the trust lists the phone has installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneTrustAlarm {
    /// The phone's SIP endpoint.
    pub phone: Endpoint,
    /// `DeviceName` (e.g. `SEP0011223344AA`).
    pub device_name: Option<String>,
    /// `ITL_Signature` as lower-case hex without spaces (None when "Not Installed").
    pub itl_signature: Option<String>,
    /// `ITL_Signature` as the phone wrote it (e.g. `Not Installed`, or hex bytes with spaces),
    /// so "not installed" can be told from "field absent".
    pub itl_signature_raw: Option<String>,
    /// `CTL_Signature` as lower-case hex without spaces (None when "Not Installed" or absent).
    pub ctl_signature: Option<String>,
    /// `CTL_Signature` as the phone wrote it, so "holds no CTL" (`Not Installed`) can be told
    /// from "field absent".
    pub ctl_signature_raw: Option<String>,
    /// `ITL_TFTP_Server`.
    pub itl_tftp_server: Option<String>,
    /// `StatusCode`.
    pub status_code: Option<u32>,
    /// Where.
    pub seen: Seen,
}

impl PhoneTrustAlarm {
    /// True when `CTL_Signature` says "Not Installed" (any case): the phone holds no CTL.
    pub fn ctl_not_installed(&self) -> bool {
        self.ctl_signature_raw
            .as_deref()
            .is_some_and(says_not_installed)
    }
}

/// Per-capture-file facts: what was read and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaptureSummary {
    /// The file as named on the command line (`-` for standard input).
    pub path: String,
    /// "pcap" or "pcapng".
    pub format: String,
    /// Frames read.
    pub frames: u64,
    /// Bytes of the file consumed.
    pub bytes: u64,
    /// Frames per link type.
    pub link_types: Vec<(u32, u64)>,
    /// Frames whose headers lied (lengths past the end, bad IHL…), skipped.
    pub malformed: u64,
    /// Frames cut by the snaplen.
    pub snaplen_truncated: u64,
    /// Set when reading stopped before the end of the file (cut mid-record, or a corrupt
    /// or oversized record): the message to show.
    pub truncated: Option<String>,
    /// First and last capture times.
    pub first_ts: Option<Timestamp>,
    /// Last capture time.
    pub last_ts: Option<Timestamp>,
    /// Limits that cut something off (never silent), typed; the report words them.
    pub limits_hit: Vec<LimitEvent>,
    /// Other facts about the file itself, in words: skipped records and why, compression,
    /// embedded TLS secrets.
    pub notes: Vec<String>,
    /// Frames that arrived inside tunnels (ERSPAN, GRE, VXLAN, …), per encapsulation.
    pub encapsulations: Vec<EncapsulationCount>,
    /// Frames not decoded, per reason: unsupported link types, tunnel contents itlscope
    /// does not decode. Never silent: a phone's traffic could hide there.
    pub skipped: Vec<SkippedFrames>,
}

/// Frames unwrapped from one kind of encapsulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncapsulationCount {
    /// Stable name: `gre`, `erspan-i`, `erspan-ii`, `erspan-iii`, `vxlan`, `mpls`, `pppoe`,
    /// `ip-in-ip`, `geneve`, `gtp-u`, `etherip`, `llc-snap`.
    pub id: String,
    /// For people: "ERSPAN type II".
    pub name: String,
    /// Frames.
    pub frames: u64,
}

/// Frames skipped for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFrames {
    /// Stable name of the reason: `unsupported-link-type`, `gre-protocol`, `gre-version`,
    /// `erspan-version`, `erspan-frame-type`, `mpls-payload`, `mpls-label-stack`,
    /// `short-encapsulation-header`, `tunnel-nesting`, `other`.
    pub reason: String,
    /// The number the reason is about (link type, GRE protocol type, version…), if any.
    pub code: Option<u32>,
    /// For people: "link type 105 (not decoded)".
    pub detail: String,
    /// Frames.
    pub frames: u64,
}

/// Everything the protocol stage found in one or more captures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    /// One per capture file.
    pub captures: Vec<CaptureSummary>,
    /// File transfers, in order of their first frame.
    pub files: Vec<FileTransfer>,
    /// TLS conversations kept one by one, in order of their first frame.
    pub tls: Vec<TlsSession>,
    /// TLS sessions of hosts that did not behave like phones, summed per server and
    /// certificate (those not kept in `tls`).
    pub tls_aggregates: Vec<TlsAggregate>,
    /// Trust-list alarms the phones sent.
    pub alarms: Vec<PhoneTrustAlarm>,
    /// Evidence limits or evictions may have cost, by client and server port.
    pub losses: Vec<EvidenceLoss>,
    /// SCCP registrations (TCP 2000), in order of their frame.
    pub registrations: Vec<SccpRegistration>,
    /// SIP registrations (UDP and TCP 5060), in order of their frame.
    pub sip_registrations: Vec<SipRegistration>,
}

impl FileTransfer {
    /// Says which capture the transfer was seen in.
    pub fn set_capture(&mut self, capture: usize) {
        self.first = self.first.in_capture(capture);
        self.last = self.last.in_capture(capture);
    }
}

impl TlsSession {
    /// Says which capture the session was seen in.
    pub fn set_capture(&mut self, capture: usize) {
        self.first = self.first.in_capture(capture);
        self.last = self.last.in_capture(capture);
        self.certificate_seen = self.certificate_seen.map(|s| s.in_capture(capture));
        for alert in &mut self.alerts {
            alert.seen = alert.seen.in_capture(capture);
        }
        for (_, seen) in &mut self.encrypted_alerts {
            *seen = seen.in_capture(capture);
        }
    }
}

impl PhoneTrustAlarm {
    /// Says which capture the alarm was seen in.
    pub fn set_capture(&mut self, capture: usize) {
        self.seen = self.seen.in_capture(capture);
    }
}

impl Evidence {
    /// Where `seen` is, for a reader: `frame 12` when there is one capture, else
    /// `<capture path>#12`, so frame numbers of different files are never confused.
    pub fn place(&self, seen: Seen) -> String {
        if self.captures.len() > 1 {
            let name = self
                .captures
                .get(seen.capture)
                .map_or("?", |c| c.path.as_str());
            format!("{name}#{}", seen.frame)
        } else {
            format!("frame {}", seen.frame)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: a SPAN of 50,000 phones holds ~225,000 transfer records, so each byte of
    /// `FileTransfer` is ~0.2 MiB. The digests are inline bytes, not hex `String`s on the
    /// heap; this keeps the record from growing back unnoticed.
    #[test]
    fn a_transfer_record_stays_small() {
        let size = std::mem::size_of::<FileTransfer>();
        assert!(size <= 352, "FileTransfer is {size} bytes");
        assert_eq!(std::mem::size_of::<Option<Sha256Digest>>(), 33);
    }

    #[test]
    fn digests_print_serialise_and_compare_as_lower_case_hex() {
        let d = Sha1Digest::from_hex("A9993E364706816ABA3E25717850C26C9CD0D89D").expect("hex");
        let hex = "a9993e364706816aba3e25717850c26c9cd0d89d";
        assert_eq!(d.to_string(), hex);
        assert_eq!(d.hex(), hex);
        assert_eq!(format!("{d:?}"), format!("{hex:?}"));
        assert_eq!(
            serde_json::to_string(&Some(d)).expect("serialises"),
            format!("\"{hex}\"")
        );
        assert!(d == *hex && d == hex.to_uppercase() && d != "a9993e");
        assert_eq!(Sha1Digest::from_slice(d.bytes()), Some(d));
        assert_eq!(Md5Digest::from_slice(&[0; 15]), None);
        assert_eq!(Md5Digest::from_hex("zz"), None);
    }

    #[test]
    fn endpoints_parse_back_from_their_display() {
        for text in ["10.0.0.5:40000", "[2001:db8::21]:2445", "0.0.0.0:0"] {
            let ep: Endpoint = text.parse().expect("valid endpoint");
            assert_eq!(ep.to_string(), text);
        }
        let ep: Endpoint = "192.0.2.21:69".parse().expect("valid endpoint");
        assert_eq!(ep.ip, IpAddr::from([192, 0, 2, 21]));
        assert_eq!(ep.port, 69);
        for bad in [
            "10.0.0.5",
            "10.0.0.5:70000",
            "[2001:db8::21]",
            "host:80",
            "",
        ] {
            assert!(
                bad.parse::<Endpoint>().is_err(),
                "{bad:?} is not an endpoint"
            );
        }
    }

    #[test]
    fn alerts_are_named_as_the_rfc_names_them() {
        let alert = |description| TlsAlert {
            from: Side::Client,
            level: 2,
            description,
            after_server_certificate: true,
            seen: Seen::default(),
        };
        assert_eq!(alert(48).describe(), "unknown_ca (48)");
        assert_eq!(alert(42).describe(), "bad_certificate (42)");
        assert_eq!(alert(40).describe(), "handshake_failure (40)");
        assert_eq!(alert(201).describe(), "alert 201");
    }
}
