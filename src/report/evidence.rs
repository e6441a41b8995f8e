//! JSON views of file transfers, TLS sessions, certificates and alarms (`files`, `tls` and
//! `alarms` of `analyze --json`; `extract`'s index.json uses the same objects).
//!
//! Each view is a `#[derive(Serialize, JsonSchema)]` struct borrowing from the evidence, so
//! the published schemas (docs/schema/) are generated from the very types that write the
//! JSON. Values are typed: numbers and booleans as such, an enumeration as its name with its
//! code beside it (`x` and `x_code`; `{name, code}` in lists), times as RFC 3339 UTC.

use crate::capture::Timestamp;
use crate::codes;
use crate::evidence::{
    CertificateInfo, FileKind, FileTransfer, FileTransport, PhoneTrustAlarm, Seen, Side, TcpEnd,
    TlsAggregate, TlsAlert, TlsSession,
};
use schemars::JsonSchema;
use serde::Serialize;
use std::borrow::Cow;

/// RFC 3339 UTC with nanoseconds, the form every capture time takes.
pub fn rfc3339(ts: Timestamp) -> String {
    ts.to_rfc3339()
}

/// Seconds since the epoch as RFC 3339 UTC; None when out of range.
pub fn rfc3339_secs(secs: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

/// Where something was seen: frame number and capture time.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeenJson {
    /// Index into `captures` of the capture file the frame is in.
    pub capture: usize,
    /// 1-based frame number in its capture file.
    pub frame: u64,
    /// Capture time, RFC 3339 UTC.
    pub time: String,
}

impl From<&Seen> for SeenJson {
    fn from(s: &Seen) -> Self {
        SeenJson {
            capture: s.capture,
            frame: s.frame,
            time: rfc3339(s.ts),
        }
    }
}

/// An enumeration in a list: its name (null when itlscope knows no name for the code) and
/// its code.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Coded {
    /// Name, e.g. `TLS1.2` or `TLS_RSA_WITH_AES_128_CBC_SHA`.
    pub name: Option<&'static str>,
    /// Wire code.
    pub code: u16,
}

/// A byte range `[start, end)` of a file that the capture does not hold.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ByteRange {
    /// First missing byte.
    pub start: u64,
    /// One past the last missing byte.
    pub end: u64,
}

/// A TFTP option or HTTP header kept with a transfer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OptionJson<'a> {
    /// Option or header name.
    pub name: &'a str,
    /// Its value, as sent.
    pub value: &'a str,
}

/// One file transfer. Contract fields: `name`, `transport`, `client`, `server`, `size`,
/// `complete`, `md5`, `sha1`, `sha256`, `kind`, `error`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileJson<'a> {
    /// Requested name as the phone asked for it.
    pub name: &'a str,
    /// How it travelled.
    pub transport: FileTransport,
    /// True for a TFTP write request (the client sent the file).
    pub upload: bool,
    /// The phone's end, `ip:port` (`[v6]:port`).
    pub client: String,
    /// The server's end.
    pub server: String,
    /// Size in bytes: bytes seen when complete, else the best known size; null if unknown.
    pub size: Option<u64>,
    /// Every byte arrived and the transfer ended normally.
    pub complete: bool,
    /// MD5 of the file, lower-case hex, when complete.
    pub md5: Option<crate::evidence::Md5Digest>,
    /// SHA-1, same rule.
    pub sha1: Option<crate::evidence::Sha1Digest>,
    /// SHA-256, same rule.
    pub sha256: Option<crate::evidence::Sha256Digest>,
    /// What the file is, by its name.
    pub kind: FileKind,
    /// Why the download failed, in words; null when it did not fail.
    pub error: Option<&'a str>,
    /// The TFTP error's name (`file_not_found`), null when none or unknown.
    pub tftp_error: Option<&'static str>,
    /// The TFTP error code of an ERROR packet.
    pub tftp_error_code: Option<u16>,
    /// HTTP status code.
    pub http_status: Option<u16>,
    /// Bytes the capture holds (up to the first gap).
    pub bytes_captured: u64,
    /// Byte ranges the capture does not hold.
    pub missing: Vec<ByteRange>,
    /// TFTP options or HTTP headers worth keeping.
    pub options: Vec<OptionJson<'a>>,
    /// The request.
    pub first: SeenJson,
    /// The last packet of the transfer.
    pub last: SeenJson,
    /// Anomalies met while reassembling, then the file limit that cut it, if one did.
    pub notes: Vec<Cow<'a, str>>,
}

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl<'a> From<&'a FileTransfer> for FileJson<'a> {
    fn from(f: &'a FileTransfer) -> Self {
        FileJson {
            name: &f.name,
            transport: f.transport,
            upload: f.upload,
            client: f.client.to_string(),
            server: f.server.to_string(),
            size: f.size,
            complete: f.complete,
            md5: f.md5,
            sha1: f.sha1,
            sha256: f.sha256,
            kind: f.kind(),
            error: f.error.as_deref(),
            tftp_error: f.tftp_error_code.and_then(codes::tftp_error),
            tftp_error_code: f.tftp_error_code,
            http_status: f.http_status,
            bytes_captured: len64(f.captured_len()),
            missing: f
                .missing
                .iter()
                .map(|&(start, end)| ByteRange { start, end })
                .collect(),
            options: f
                .options
                .iter()
                .map(|(name, value)| OptionJson { name, value })
                .collect(),
            first: (&f.first).into(),
            last: (&f.last).into(),
            notes: f
                .notes
                .iter()
                .map(|n| Cow::Borrowed(n.as_str()))
                .chain(f.cut.map(|c| Cow::Owned(super::limits::file_cut_text(c))))
                .collect(),
        }
    }
}

/// One certificate. Contract fields: `subject`, `issuer`, `serial`, `sha1`, `sha256`,
/// `not_before`, `not_after`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CertificateJson<'a> {
    /// Subject, RFC 4514 string form (`CN=tvs-1,O=Cisco,C=US`).
    pub subject: &'a str,
    /// Issuer, same form.
    pub issuer: &'a str,
    /// Serial, lower-case hex of the unsigned integer.
    pub serial: &'a str,
    /// SHA-1 of the DER, lower-case hex.
    pub sha1: &'a str,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: &'a str,
    /// Validity start, RFC 3339 UTC; null when the certificate could not be parsed.
    pub not_before: Option<String>,
    /// Validity end, RFC 3339 UTC.
    pub not_after: Option<String>,
    /// `RSA`, `EC`, … or the key algorithm's name.
    pub key_type: &'a str,
    /// Key size in bits, when known.
    pub key_bits: Option<u32>,
    /// Size of the DER in bytes.
    pub size: u64,
}

impl<'a> From<&'a CertificateInfo> for CertificateJson<'a> {
    fn from(c: &'a CertificateInfo) -> Self {
        CertificateJson {
            subject: &c.subject,
            issuer: &c.issuer,
            serial: &c.serial,
            sha1: &c.sha1,
            sha256: &c.sha256,
            not_before: c.not_before.and_then(rfc3339_secs),
            not_after: c.not_after.and_then(rfc3339_secs),
            key_type: &c.key_type,
            key_bits: c.key_bits,
            size: len64(c.der.len()),
        }
    }
}

/// A TLS alert sent in clear text.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AlertJson {
    /// Who sent it.
    pub from: Side,
    /// `warning` or `fatal`; null for another level.
    pub level: Option<&'static str>,
    /// The level's code (1 warning, 2 fatal).
    pub level_code: u8,
    /// The RFC name of the description (`unknown_ca`); null when unknown.
    pub description: Option<String>,
    /// The description's code (48 for `unknown_ca`).
    pub description_code: u8,
    /// It came after the server's Certificate message.
    pub after_server_certificate: bool,
    /// Frame of the alert.
    pub frame: u64,
    /// Its capture time.
    pub time: String,
}

impl From<&TlsAlert> for AlertJson {
    fn from(a: &TlsAlert) -> Self {
        AlertJson {
            from: a.from,
            level: codes::alert_level(a.level),
            level_code: a.level,
            description: codes::alert_description(a.description),
            description_code: a.description,
            after_server_certificate: a.after_server_certificate,
            frame: a.seen.frame,
            time: rfc3339(a.seen.ts),
        }
    }
}

/// An alert record sent after encryption started (its content unreadable).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EncryptedAlertJson {
    /// Who sent it.
    pub from: Side,
    /// Frame.
    pub frame: u64,
    /// Capture time.
    pub time: String,
}

/// How the TCP connection ended.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EndHow {
    /// SYN never answered in the capture.
    NeverAnswered,
    /// SYN answered with a reset (port closed).
    Refused,
    /// Closed with FIN.
    Fin,
    /// Reset.
    Reset,
    /// Still open when the capture ended.
    Open,
}

/// How the TCP connection ended, and by whom.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EndJson {
    /// How.
    pub how: EndHow,
    /// The side that closed or reset first; null for the other ways.
    pub by: Option<Side>,
}

impl From<TcpEnd> for EndJson {
    fn from(e: TcpEnd) -> Self {
        let (how, by) = match e {
            TcpEnd::NeverAnswered => (EndHow::NeverAnswered, None),
            TcpEnd::Refused => (EndHow::Refused, None),
            TcpEnd::Fin(s) => (EndHow::Fin, Some(s)),
            TcpEnd::Reset(s) => (EndHow::Reset, Some(s)),
            TcpEnd::Open => (EndHow::Open, None),
        };
        EndJson { how, by }
    }
}

/// Application-data bytes each side sent.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AppDataJson {
    /// By the client.
    pub client: u64,
    /// By the server.
    pub server: u64,
}

/// One TLS session. Contract fields: `client`, `server`, `service`, `version`,
/// `certificates`, `alerts`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TlsJson<'a> {
    /// The phone's end.
    pub client: String,
    /// The server's end.
    pub server: String,
    /// `tvs`, `https`, `sccp-tls`, `sip-tls`, `capf`, `https-tftp`, or null.
    pub service: Option<&'a str>,
    /// The version the server chose (`TLS1.2`); null when not seen or unknown.
    pub version: Option<&'static str>,
    /// Its wire code (771 for TLS1.2).
    pub version_code: Option<u16>,
    /// The cipher suite the server chose, IANA name; null when not seen or unknown.
    pub cipher_suite: Option<&'static str>,
    /// Its code.
    pub cipher_suite_code: Option<u16>,
    /// Server certificate chain, leaf first.
    pub certificates: Vec<CertificateJson<'a>>,
    /// The chain was not visible because the session is TLS 1.3.
    pub certificates_encrypted: bool,
    /// Clear-text alerts in order.
    pub alerts: Vec<AlertJson>,
    /// Versions the client offered, highest first.
    pub offered_versions: Vec<Coded>,
    /// Cipher suites the client offered, in its order.
    pub offered_cipher_suites: Vec<Coded>,
    /// SNI host name.
    pub sni: Option<&'a str>,
    /// Both sides finished the handshake, or application data flowed.
    pub handshake_complete: bool,
    /// Application-data bytes per side.
    pub app_data_bytes: AppDataJson,
    /// Alerts sent encrypted.
    pub encrypted_alerts: Vec<EncryptedAlertJson>,
    /// How the connection ended.
    pub end: EndJson,
    /// First packet.
    pub first: SeenJson,
    /// Frame of the server's Certificate message.
    pub certificate_frame: Option<u64>,
    /// Last packet.
    pub last: SeenJson,
    /// Anomalies met while reassembling.
    pub notes: &'a [String],
}

fn coded_version(v: u16) -> Coded {
    Coded {
        name: codes::tls_version(v),
        code: v,
    }
}

impl<'a> From<&'a TlsSession> for TlsJson<'a> {
    fn from(s: &'a TlsSession) -> Self {
        TlsJson {
            client: s.client.to_string(),
            server: s.server.to_string(),
            service: s.service.as_deref(),
            version: s.version.and_then(codes::tls_version),
            version_code: s.version,
            cipher_suite: s.cipher_suite.and_then(codes::cipher_suite),
            cipher_suite_code: s.cipher_suite,
            certificates: s
                .certificates
                .iter()
                .map(|c| CertificateJson::from(&**c))
                .collect(),
            certificates_encrypted: s.certificates_encrypted,
            alerts: s.alerts.iter().map(AlertJson::from).collect(),
            offered_versions: s
                .offered_versions
                .iter()
                .map(|&v| coded_version(v))
                .collect(),
            offered_cipher_suites: s
                .offered_cipher_suites
                .iter()
                .map(|&c| Coded {
                    name: codes::cipher_suite(c),
                    code: c,
                })
                .collect(),
            sni: s.sni.as_deref(),
            handshake_complete: s.handshake_complete,
            app_data_bytes: AppDataJson {
                client: s.app_data_bytes.0,
                server: s.app_data_bytes.1,
            },
            encrypted_alerts: s
                .encrypted_alerts
                .iter()
                .map(|(from, seen)| EncryptedAlertJson {
                    from: *from,
                    frame: seen.frame,
                    time: rfc3339(seen.ts),
                })
                .collect(),
            end: s.end.into(),
            first: (&s.first).into(),
            certificate_frame: s.certificate_seen.map(|c| c.frame),
            last: (&s.last).into(),
            notes: &s.notes,
        }
    }
}

/// A `DeviceTLInfo` alarm: the hashes of the trust lists the phone has installed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AlarmJson<'a> {
    /// The phone's SIP endpoint.
    pub phone: String,
    /// `DeviceName`.
    pub device_name: Option<&'a str>,
    /// `ITL_Signature`, lower-case hex; null when "Not Installed" or absent.
    pub itl_signature: Option<&'a str>,
    /// `ITL_Signature` as the phone wrote it.
    pub itl_signature_raw: Option<&'a str>,
    /// `CTL_Signature`, lower-case hex; null when "Not Installed" or absent.
    pub ctl_signature: Option<&'a str>,
    /// `CTL_Signature` as the phone wrote it: "Not Installed" (the phone holds no CTL) told
    /// from a field that is absent (null).
    pub ctl_signature_raw: Option<&'a str>,
    /// `ITL_TFTP_Server`.
    pub itl_tftp_server: Option<&'a str>,
    /// The `StatusCode`'s name (`TL_FAILED`); null when absent or unknown.
    pub status: Option<&'static str>,
    /// `StatusCode`.
    pub status_code: Option<u32>,
    /// Frame of the alarm.
    pub frame: u64,
    /// Its capture time.
    pub time: String,
}

/// The name of a `DeviceTLInfo` `StatusCode`, None when unknown.
fn status_name(code: u32) -> Option<&'static str> {
    let name = crate::diagnosis::checks::status_code_name(code);
    (name != "unknown code").then_some(name)
}

impl<'a> From<&'a PhoneTrustAlarm> for AlarmJson<'a> {
    fn from(a: &'a PhoneTrustAlarm) -> Self {
        AlarmJson {
            phone: a.phone.to_string(),
            device_name: a.device_name.as_deref(),
            itl_signature: a.itl_signature.as_deref(),
            itl_signature_raw: a.itl_signature_raw.as_deref(),
            ctl_signature: a.ctl_signature.as_deref(),
            ctl_signature_raw: a.ctl_signature_raw.as_deref(),
            itl_tftp_server: a.itl_tftp_server.as_deref(),
            status: a.status_code.and_then(status_name),
            status_code: a.status_code,
            frame: a.seen.frame,
            time: rfc3339(a.seen.ts),
        }
    }
}

/// TLS sessions of hosts that are not phones, summed per server endpoint and certificate.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TlsAggregateJson<'a> {
    /// The server's end.
    pub server: String,
    /// Service label by server port.
    pub service: Option<&'a str>,
    /// The leaf certificate the server presented; null when not seen in clear.
    pub certificate: Option<CertificateJson<'a>>,
    /// Sessions summed here.
    pub sessions: u64,
    /// Of those, sessions whose handshake completed.
    pub handshakes_complete: u64,
    /// Of those, sessions the server never answered or refused.
    pub unanswered: u64,
    /// Sessions with a clear-text alert.
    pub with_alerts: u64,
    /// Distinct client addresses (the first few).
    pub clients: Vec<String>,
    /// True when more clients took part than are listed.
    pub clients_cut: bool,
    /// First packet of the earliest session.
    pub first: SeenJson,
    /// Last packet of the latest session.
    pub last: SeenJson,
}

impl<'a> From<&'a TlsAggregate> for TlsAggregateJson<'a> {
    fn from(a: &'a TlsAggregate) -> Self {
        TlsAggregateJson {
            server: a.server.to_string(),
            service: a.service.as_deref(),
            certificate: a.certificate.as_deref().map(CertificateJson::from),
            sessions: a.sessions,
            handshakes_complete: a.handshakes_complete,
            unanswered: a.unanswered,
            with_alerts: a.with_alerts,
            clients: a.clients.iter().map(ToString::to_string).collect(),
            clients_cut: a.clients_cut,
            first: (&a.first).into(),
            last: (&a.last).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Endpoint, TlsAlert};
    use serde_json::Value;

    #[test]
    fn contract_fields_and_endpoint_forms() {
        let f = FileTransfer {
            name: "ITLSEP0011.tlv".into(),
            transport: FileTransport::Tftp,
            upload: false,
            client: Endpoint {
                ip: "fe80::1".parse().unwrap(),
                port: 5000,
            },
            server: Endpoint {
                ip: "10.0.0.1".parse().unwrap(),
                port: 69,
            },
            error: Some("TFTP error 1: File not found".into()),
            tftp_error_code: Some(1),
            missing: vec![(512, 1024)],
            ..Default::default()
        };
        let v = serde_json::to_value(FileJson::from(&f)).unwrap();
        for k in [
            "name",
            "transport",
            "client",
            "server",
            "size",
            "complete",
            "md5",
            "sha1",
            "sha256",
            "kind",
            "error",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["client"], "[fe80::1]:5000");
        assert_eq!(v["server"], "10.0.0.1:69");
        assert_eq!(v["kind"], "itl");
        assert_eq!(v["transport"], "tftp");
        assert_eq!(v["complete"], Value::Bool(false));
        assert_eq!(v["tftp_error"], "file_not_found");
        assert_eq!(v["tftp_error_code"], 1);
        assert_eq!(v["missing"][0]["start"], 512);
        assert_eq!(v["missing"][0]["end"], 1024);
        assert!(v["md5"].is_null());
    }

    #[test]
    fn enumerations_carry_name_and_code() {
        let s = TlsSession {
            version: Some(0x0303),
            cipher_suite: Some(0x002f),
            offered_versions: vec![0x0304, 0x7f1c],
            alerts: vec![TlsAlert {
                from: Side::Client,
                level: 2,
                description: 48,
                after_server_certificate: true,
                seen: Seen::default(),
            }],
            end: TcpEnd::Reset(Side::Client),
            ..Default::default()
        };
        let v = serde_json::to_value(TlsJson::from(&s)).unwrap();
        assert_eq!(v["version"], "TLS1.2");
        assert_eq!(v["version_code"], 0x0303);
        assert_eq!(v["cipher_suite"], "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(v["cipher_suite_code"], 0x002f);
        assert_eq!(v["offered_versions"][0]["name"], "TLS1.3");
        assert_eq!(v["offered_versions"][1]["name"], Value::Null);
        assert_eq!(v["offered_versions"][1]["code"], 0x7f1c);
        let alert = &v["alerts"][0];
        assert_eq!(alert["from"], "client");
        assert_eq!(alert["level"], "fatal");
        assert_eq!(alert["level_code"], 2);
        assert_eq!(alert["description"], "unknown_ca");
        assert_eq!(alert["description_code"], 48);
        assert_eq!(v["end"]["how"], "reset");
        assert_eq!(v["end"]["by"], "client");
    }
}
