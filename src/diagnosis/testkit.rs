//! Test helpers: hand-built evidence, trust lists and a backend that serves them, so the
//! diagnosis logic is tested without byte parsing.

use super::trust::{TrustBackend, serial_hex};
use crate::capture::Timestamp;
use crate::cisco::model::{FileFormat, Header, Record, SignatureCheck, SignedFile, TrustList};
use crate::evidence::{
    CertificateInfo, Endpoint, FileTransfer, FileTransport, PhoneTrustAlarm, Seen, Side, TcpEnd,
    TlsAlert, TlsSession,
};
use crate::trust::Verifier as _;
use std::collections::HashMap;

/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600;

pub fn seen(frame: u64) -> Seen {
    Seen {
        capture: 0,
        frame,
        ts: Timestamp::from_parts(T0 + frame as i64, 0),
    }
}

pub fn ep(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        ip: ip.parse().expect("test IP"),
        port,
    }
}

/// A complete TFTP download.
pub fn file(name: &str, client_ip: &str, data: &[u8]) -> FileTransfer {
    FileTransfer {
        name: name.into(),
        transport: FileTransport::Tftp,
        upload: false,
        client: ep(client_ip, 50000),
        server: ep("10.0.0.1", 69),
        data: data.into(),
        size: Some(data.len() as u64),
        complete: true,
        missing: Vec::new(),
        error: None,
        http_status: None,
        tftp_error_code: None,
        options: Vec::new(),
        first: seen(1),
        last: seen(2),
        ..Default::default()
    }
}

/// A failed download.
pub fn failed(name: &str, client_ip: &str, transport: FileTransport, error: &str) -> FileTransfer {
    let mut f = file(name, client_ip, b"");
    f.transport = transport;
    f.complete = false;
    f.size = None;
    f.error = Some(error.into());
    // The code the wire would carry with that message ("TFTP error 1: …", "HTTP 404 …").
    let code = |prefix: &str| {
        error
            .strip_prefix(prefix)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<u16>().ok())
    };
    f.tftp_error_code = code("TFTP error ");
    f.http_status = code("HTTP ");
    f
}

/// A completed TLS 1.2 session with no certificate yet.
pub fn tls(client_ip: &str, port: u16) -> TlsSession {
    TlsSession {
        client: ep(client_ip, 40000),
        server: ep("10.0.0.1", port),
        service: match port {
            2445 => Some("tvs".into()),
            8443 => Some("https".into()),
            _ => None,
        },
        offered_versions: vec![0x0303],
        sni: None,
        version: Some(0x0303),
        cipher_suite: Some(0x002f),
        certificates: Vec::new(),
        certificates_encrypted: false,
        alerts: Vec::new(),
        handshake_complete: true,
        app_data_bytes: (153, 1480),
        end: TcpEnd::Fin(Side::Client),
        notes: Vec::new(),
        first: seen(10),
        certificate_seen: Some(seen(11)),
        last: seen(14),
        ..Default::default()
    }
}

/// A TLS session to `port` presenting `cert`.
pub fn tls_with(client_ip: &str, port: u16, cert: CertificateInfo) -> TlsSession {
    let mut s = tls(client_ip, port);
    s.certificates = vec![cert.into()];
    s
}

/// The phone rejects the certificate: fatal alert after it, handshake incomplete.
pub fn rejected(mut s: TlsSession) -> TlsSession {
    s.handshake_complete = false;
    s.app_data_bytes = (0, 0);
    s.alerts.push(TlsAlert {
        from: Side::Client,
        level: 2,
        description: 48,
        after_server_certificate: true,
        seen: seen(12),
    });
    s
}

/// A certificate with the given identity, valid through 2030.
pub fn cert(subject: &str, issuer: &str, serial: &str, sha1: &str) -> CertificateInfo {
    CertificateInfo {
        der: Vec::new(),
        subject: subject.into(),
        issuer: issuer.into(),
        serial: serial.into(),
        sha1: sha1.into(),
        sha256: "00".repeat(32),
        not_before: Some(T0 - 86_400),
        not_after: Some(T0 + 4 * 365 * 86_400),
        key_type: "RSA".into(),
        key_bits: Some(2048),
    }
}

pub fn alarm(phone_ip: &str, device: &str, signature: Option<&str>, frame: u64) -> PhoneTrustAlarm {
    PhoneTrustAlarm {
        phone: ep(phone_ip, 5060),
        device_name: Some(device.into()),
        itl_signature: signature.map(str::to_string),
        itl_signature_raw: Some(signature.unwrap_or("Not Installed").to_string()),
        ctl_signature: None,
        ctl_signature_raw: None,
        itl_tftp_server: Some("cucm-pub".into()),
        status_code: Some(3),
        seen: seen(frame),
    }
}

fn leak(bytes: &[u8]) -> &'static [u8] {
    Box::leak(bytes.to_vec().into_boxed_slice())
}

fn leak_str(s: &str) -> &'static [u8] {
    leak(s.as_bytes())
}

/// A record with an identity and an opaque certificate (its bytes are `cert_der`).
pub fn record(function: u16, subject: &str, issuer: &str, serial: &[u8]) -> Record<'static> {
    Record {
        function: Some(function),
        subject: Some(leak_str(subject)),
        issuer: Some(leak_str(issuer)),
        serial: Some(leak(serial)),
        public_key: Some(leak(b"key")),
        certificate: Some(leak(
            format!("DER:{subject}:{}", hex::encode(serial)).as_bytes(),
        )),
        ..Record::default()
    }
}

/// A TVS record carrying a CERTHASH instead of a certificate.
pub fn tvs_record(subject: &str, issuer: &str, serial: &[u8], sha1_hex: &str) -> Record<'static> {
    let mut r = record(crate::cisco::model::function::TVS, subject, issuer, serial);
    r.certificate = None;
    r.cert_hash = Some(leak(&hex::decode(sha1_hex).expect("test hex")));
    r.hash_algorithm = Some(1);
    r
}

/// A record of a rollback ITL: role only.
pub fn empty_record(function: u16) -> Record<'static> {
    Record {
        function: Some(function),
        ..Record::default()
    }
}

/// A trust list signed by the record at `signer`.
pub fn list(
    format: FileFormat,
    records: Vec<Record<'static>>,
    signer: usize,
) -> TrustList<'static> {
    let s = records.get(signer).expect("signer record");
    TrustList {
        format,
        bytes: &[],
        header: Header {
            version: (1, 2),
            signer_name: s.subject,
            signer_serial: s.serial,
            signer_issuer: s.issuer,
            digest_algorithm: Some(1),
            ..Header::default()
        },
        records,
    }
}

/// A signed file signed by `signer`.
pub fn signed_by(signer: &Record<'static>) -> SignedFile<'static> {
    SignedFile {
        bytes: &[],
        header: Header {
            version: (1, 2),
            signer_name: signer.subject,
            signer_serial: signer.serial,
            signer_issuer: signer.issuer,
            ..Header::default()
        },
        payload: &[],
        encryption: None,
    }
}

/// Serves hand-built trust lists and signed files keyed by file bytes. Signatures hold unless
/// the bytes are marked tampered; a file verifies against a trust list when a record with an
/// allowed role has the header's signer serial.
#[derive(Default)]
pub struct FakeBackend {
    pub lists: HashMap<Vec<u8>, TrustList<'static>>,
    pub signed: HashMap<Vec<u8>, SignedFile<'static>>,
    pub tampered: Vec<Vec<u8>>,
}

impl FakeBackend {
    pub fn with_list(mut self, bytes: &[u8], list: TrustList<'static>) -> Self {
        self.lists.insert(bytes.to_vec(), list);
        self
    }
    pub fn with_signed(mut self, bytes: &[u8], file: SignedFile<'static>) -> Self {
        self.signed.insert(bytes.to_vec(), file);
        self
    }
}

impl TrustBackend for FakeBackend {
    fn parse_trust_list<'a>(&self, bytes: &'a [u8]) -> Result<TrustList<'a>, String> {
        let mut l: TrustList<'a> = self
            .lists
            .get(bytes)
            .cloned()
            .ok_or_else(|| "record at byte offset 312 overruns the file".to_string())?;
        l.bytes = bytes;
        Ok(l)
    }
    fn parse_signed_file<'a>(&self, bytes: &'a [u8]) -> Result<SignedFile<'a>, String> {
        let mut f: SignedFile<'a> = self
            .signed
            .get(bytes)
            .cloned()
            .ok_or_else(|| "not a signed file".to_string())?;
        f.bytes = bytes;
        Ok(f)
    }
    fn verify_trust_list(&self, list: &TrustList<'_>) -> SignatureCheck {
        self.verify_with_trust(list.bytes, &list.header, list, &[0])
    }
}

impl crate::trust::Verifier for FakeBackend {
    fn verify_with_trust(
        &self,
        file: &[u8],
        header: &Header<'_>,
        trust: &TrustList<'_>,
        allowed: &[u16],
    ) -> SignatureCheck {
        let Some(serial) = header.signer_serial else {
            return SignatureCheck::Invalid {
                reason: "no signer".into(),
            };
        };
        let found = trust.records.iter().position(|r| {
            r.function.is_some_and(|f| allowed.contains(&f))
                && r.serial
                    .is_some_and(|s| serial_hex(s) == serial_hex(serial))
        });
        match found {
            None => SignatureCheck::Invalid {
                reason: "signer not found in the trust list".into(),
            },
            Some(_) if self.tampered.iter().any(|t| t == file) => SignatureCheck::Invalid {
                reason: "digest mismatch".into(),
            },
            Some(i) => SignatureCheck::Valid { signer_record: i },
        }
    }
}
