//! A phone's boot (and what follows) as a list of steps: file fetches over TFTP or HTTP 6970,
//! TLS sessions (TVS on 2445, HTTPS on 8443 checked through TVS), unanswered connection
//! attempts, SIP alarms. [`write_boot`] turns them into packets; [`expected_files`] and
//! [`expected_tls`] say what an analyzer must find, derived from the same steps.

use super::phone::Phone;
use crate::conv::http::{HttpAnswer, HttpGet};
use crate::conv::sip::{DeviceTlInfo, write_alarm};
use crate::conv::stall::{HttpStall, TftpStall};
use crate::conv::tcp::{TcpConn, TcpImpair};
use crate::conv::tftp::{TftpAnswer, TftpRead};
use crate::conv::tls_session::{TlsOutcome, TlsSession};
use crate::conv::{Host, MS, SEC, Side, Trace};
use crate::filler::Filler;
use crate::tls::version;
use sha1::{Digest as _, Sha1};

/// A TFTP read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpStep {
    /// The TFTP server.
    pub server: Host,
    /// Requested name.
    pub name: String,
    /// The file, or None for "File not found".
    pub body: Option<Vec<u8>>,
    /// Options the phone asks for.
    pub options: Vec<(String, String)>,
    /// DATA blocks the capture misses.
    pub missed_blocks: Vec<u16>,
    /// DATA blocks the server resends.
    pub resent_blocks: Vec<u16>,
}

/// An HTTP GET on 6970.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpStep {
    /// The TFTP server.
    pub server: Host,
    /// Requested name (path without `/`).
    pub name: String,
    /// Status and body.
    pub answer: HttpAnswer,
    /// Capture impairments.
    pub impair: TcpImpair,
}

/// A TLS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsStep {
    /// The server.
    pub server: Host,
    /// Its port (2445 TVS, 8443 HTTPS).
    pub port: u16,
    /// The conversation.
    pub session: TlsSession,
    /// Capture impairments.
    pub impair: TcpImpair,
}

/// One thing the phone does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A TFTP read.
    Tftp(TftpStep),
    /// An HTTP GET.
    Http(HttpStep),
    /// A TLS session.
    Tls(TlsStep),
    /// An HTTPS session whose server certificate the phone has TVS check before answering.
    TlsCheckedByTvs {
        /// The HTTPS session (its `verify_delay` must cover the TVS session).
        https: Box<TlsStep>,
        /// The TVS session made meanwhile.
        tvs: Box<TlsStep>,
    },
    /// A connection attempt nobody answers.
    Unanswered {
        /// The server.
        server: Host,
        /// Port.
        port: u16,
        /// SYN retransmissions after the first.
        retries: u32,
    },
    /// A DeviceTLInfo alarm in a SIP REFER.
    Alarm {
        /// The CUCM node.
        cucm: Host,
        /// Over TCP (else UDP).
        tcp: bool,
        /// The alarm.
        alarm: DeviceTlInfo,
    },
    /// Time passes.
    Pause(i64),
    /// A download that stalls mid-transfer: full-size frames never reach the phone.
    Stalled(StallStep),
}

/// A download whose full-size frames are dropped between server and phone
/// ([`crate::conv::stall`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallStep {
    /// The TFTP server.
    pub server: Host,
    /// Requested name.
    pub name: String,
    /// The file the server tries to send.
    pub body: Vec<u8>,
    /// TFTP with blksize 1468 (else HTTP on 6970).
    pub tftp: bool,
    /// HTTP: body bytes that arrive with the response head.
    pub delivered: usize,
    /// TFTP: ACK 0 resends before the phone gives up.
    pub retries: u32,
}

/// Steps to fetch one file the way `phone` does: an HTTP-first phone tries HTTP 6970 once
/// (a missing file gets `missing_status`, then TFTP); a TFTP phone uses TFTP.
pub fn fetch(
    phone: &Phone,
    server: &Host,
    name: &str,
    body: Option<&[u8]>,
    missing_status: u16,
) -> Vec<Step> {
    let tftp = Step::Tftp(TftpStep {
        server: *server,
        name: name.to_owned(),
        body: body.map(<[u8]>::to_vec),
        options: Vec::new(),
        missed_blocks: Vec::new(),
        resent_blocks: Vec::new(),
    });
    if !phone.http_first {
        return vec![tftp];
    }
    match body {
        Some(b) => vec![Step::Http(HttpStep {
            server: *server,
            name: name.to_owned(),
            answer: HttpAnswer::ok(b.to_vec()),
            impair: TcpImpair::default(),
        })],
        None => vec![
            Step::Http(HttpStep {
                server: *server,
                name: name.to_owned(),
                answer: HttpAnswer::status(missing_status),
                impair: TcpImpair::default(),
            }),
            Step::Pause(40 * MS),
            tftp,
        ],
    }
}

/// A TVS session as phones make it: TLS with the phone's LSC as client certificate, the
/// TVS certificate as the server chain, and the given outcome.
pub fn tvs_session(
    tvs: &Host,
    tvs_cert: &[u8],
    lsc: &[u8],
    tls_version: u16,
    seed: u64,
    outcome: TlsOutcome,
) -> TlsStep {
    let mut session = TlsSession::new(tls_version, vec![tvs_cert.to_vec()], seed, outcome);
    session.client_chain = vec![lsc.to_vec()];
    TlsStep {
        server: *tvs,
        port: 2445,
        session,
        impair: TcpImpair::default(),
    }
}

/// Writes a phone's steps from `start`; returns the time of the last packet.
pub fn write_boot(trace: &mut Trace, phone: &Phone, steps: &[Step], start: i64, seed: u64) -> i64 {
    let me = phone.host();
    let mut f = Filler::labelled(seed, &phone.device_name());
    let mut port: u16 = 49152 + (f.below(2000) as u16);
    let mut next_port = || {
        port = port.wrapping_add(1 + (port % 3));
        port
    };
    let mut t = start;
    for step in steps {
        t = match step {
            Step::Tftp(s) => {
                let answer = match &s.body {
                    Some(b) => TftpAnswer::File(b.clone()),
                    None => TftpAnswer::Error(1, "File not found".into()),
                };
                let server_port = 20000 + f.below(40000) as u16;
                let mut r =
                    TftpRead::new((me, next_port()), s.server, server_port, &s.name, answer);
                r.options = s.options.clone();
                r.missed_blocks = s.missed_blocks.clone();
                r.resent_blocks = s.resent_blocks.clone();
                r.write(trace, t)
            }
            Step::Http(s) => HttpGet {
                client: (me, next_port()),
                server: (s.server, 6970),
                path: s.name.clone(),
                user_agent: phone.user_agent(),
                answer: s.answer.clone(),
                isn_seed: f.next_u64() as u32,
                impair: s.impair.clone(),
            }
            .write(trace, t),
            Step::Tls(s) => {
                let mut conn = tls_conn(&me, next_port(), s, f.next_u64() as u32, t);
                conn.open(trace);
                s.session.write(trace, &mut conn);
                conn.now()
            }
            Step::TlsCheckedByTvs { https, tvs } => {
                let mut conn = tls_conn(&me, next_port(), https, f.next_u64() as u32, t);
                conn.open(trace);
                let flight = https.session.write(trace, &mut conn);
                let mut tconn =
                    tls_conn(&me, next_port(), tvs, f.next_u64() as u32, flight + 2 * MS);
                tconn.open(trace);
                tvs.session.write(trace, &mut tconn);
                conn.now().max(tconn.now())
            }
            Step::Unanswered {
                server,
                port,
                retries,
            } => {
                let mut c =
                    TcpConn::new((me, next_port()), (*server, *port), f.next_u64() as u32, t);
                c.syn_unanswered(trace, *retries);
                c.now()
            }
            Step::Alarm { cucm, tcp, alarm } => {
                write_alarm(trace, t, (me, next_port()), *cucm, *tcp, alarm)
            }
            Step::Pause(dt) => t + dt,
            Step::Stalled(s) if s.tftp => TftpStall {
                client: (me, next_port()),
                server: s.server,
                server_port: 20000 + f.below(40000) as u16,
                name: s.name.clone(),
                size: s.body.len(),
                retries: s.retries,
            }
            .write(trace, t),
            Step::Stalled(s) => HttpStall {
                client: (me, next_port()),
                server: (s.server, 6970),
                path: s.name.clone(),
                user_agent: phone.user_agent(),
                body: s.body.clone(),
                delivered: s.delivered,
                isn_seed: f.next_u64() as u32,
                timeout: 10 * SEC,
            }
            .write(trace, t),
        };
        t += 20 * MS + (f.below(30) as i64) * MS;
    }
    t
}

fn tls_conn(me: &Host, port: u16, s: &TlsStep, isn: u32, t: i64) -> TcpConn {
    let mss = if me.ip.is_ipv6() { 1440 } else { 1460 };
    TcpConn::new((*me, port), (s.server, s.port), isn, t)
        .with_mss(mss)
        .with_impair(s.impair.clone())
}

/// A file the analyzer must report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFact {
    /// Requested name.
    pub name: String,
    /// "tftp" or "http".
    pub transport: &'static str,
    /// Whether every byte is in the capture.
    pub complete: bool,
    /// The file's size when served.
    pub size: Option<usize>,
    /// SHA-1 of the served file (lower-case hex), when served and complete.
    pub sha1: Option<String>,
    /// True when the server refused (not found / HTTP error).
    pub failed: bool,
}

/// SHA-1 as lower-case hex.
pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files the steps fetch, in order.
pub fn expected_files(steps: &[Step]) -> Vec<FileFact> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Tftp(s) => {
                let complete = s.body.is_some() && s.missed_blocks.is_empty();
                out.push(FileFact {
                    name: s.name.clone(),
                    transport: "tftp",
                    complete,
                    size: s.body.as_ref().map(Vec::len),
                    sha1: s.body.as_deref().filter(|_| complete).map(sha1_hex),
                    failed: s.body.is_none(),
                });
            }
            Step::Http(s) => {
                let ok = s.answer.status == 200;
                let lost = s
                    .impair
                    .missed
                    .iter()
                    .any(|(side, _)| *side == Side::Server);
                let complete = ok && !lost;
                out.push(FileFact {
                    name: s.name.clone(),
                    transport: "http",
                    complete,
                    size: ok.then_some(s.answer.body.len()),
                    sha1: Some(s.answer.body.as_slice())
                        .filter(|_| complete)
                        .map(sha1_hex),
                    failed: !ok,
                });
            }
            Step::Stalled(s) => out.push(FileFact {
                name: s.name.clone(),
                transport: if s.tftp { "tftp" } else { "http" },
                complete: false,
                size: Some(s.body.len()),
                sha1: None,
                failed: false,
            }),
            _ => {}
        }
    }
    out
}

/// A TLS session the analyzer must report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFact {
    /// Server port.
    pub port: u16,
    /// "TLS1.0" … "TLS1.3"; None when the server never answered with a ServerHello.
    pub version: Option<&'static str>,
    /// SHA-1 of the leaf certificate when visible (TLS ≤ 1.2), else None.
    pub leaf_sha1: Option<String>,
    /// Serial of the leaf certificate when visible: lower-case hex, leading zeros stripped.
    pub leaf_serial: Option<String>,
    /// Clear-text alert descriptions the client sent.
    pub client_alerts: Vec<u8>,
    /// Clear-text alert descriptions the server sent.
    pub server_alerts: Vec<u8>,
}

fn version_name(v: u16) -> &'static str {
    match v {
        version::TLS10 => "TLS1.0",
        version::TLS11 => "TLS1.1",
        version::TLS12 => "TLS1.2",
        version::TLS13 => "TLS1.3",
        _ => "unknown",
    }
}

/// The serial of a DER certificate as lower-case hex of the unsigned integer without
/// leading zero bytes (`00` for zero), as itlscope's JSON writes it.
pub fn serial_hex(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let raw = cert.tbs_certificate.raw_serial();
    let first = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    let digits: String = raw
        .get(first..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(if digits.is_empty() {
        "00".to_owned()
    } else {
        digits
    })
}

fn tls_fact(s: &TlsStep) -> TlsFact {
    let answered = !matches!(s.session.outcome, TlsOutcome::ServerAlert { .. });
    let visible = s.session.version != version::TLS13 && answered;
    let client_alerts = match (&s.session.outcome, visible) {
        (
            TlsOutcome::ClientRejects {
                description: Some(d),
                ..
            },
            true,
        ) => vec![*d],
        _ => Vec::new(),
    };
    let server_alerts = match &s.session.outcome {
        TlsOutcome::ServerAlert { description } => vec![*description],
        _ => Vec::new(),
    };
    let leaf = s.session.server_chain.first().filter(|_| visible);
    TlsFact {
        port: s.port,
        version: answered.then(|| version_name(s.session.version)),
        leaf_sha1: leaf.map(|c| sha1_hex(c)),
        leaf_serial: leaf.and_then(|c| serial_hex(c)),
        client_alerts,
        server_alerts,
    }
}

/// The TLS sessions the steps make, in order of their start.
pub fn expected_tls(steps: &[Step]) -> Vec<TlsFact> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Tls(s) => out.push(tls_fact(s)),
            Step::TlsCheckedByTvs { https, tvs } => {
                out.push(tls_fact(https));
                out.push(tls_fact(tvs));
            }
            _ => {}
        }
    }
    out
}
