//! JSON rendering of file transfers and TLS sessions, per the JSON contract (`files` and
//! `tls` of `analyze --json`; `extract`'s index.json uses the same objects).
//!
//! Contract field names never change; extra fields are added alongside.

use crate::evidence::{
    CertificateInfo, FileTransfer, Seen, TcpEnd, TlsAggregate, TlsAlert, TlsSession,
};
use serde_json::{Value, json};

fn seen_json(s: &Seen) -> Value {
    json!({ "frame": s.frame, "time": s.ts.to_rfc3339() })
}

use crate::evidence::tls_version_name;

fn time_json(secs: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map_or(Value::Null, Value::String)
}

/// One file transfer: `name`, `transport`, `client`, `server`, `size`, `complete`, `md5`,
/// `sha1`, `sha256`, `kind`, `error` (contract) plus details.
pub fn file_json(f: &FileTransfer) -> Value {
    json!({
        "name": f.name,
        "transport": f.transport.as_str(),
        "client": f.client.to_string(),
        "server": f.server.to_string(),
        "size": f.size,
        "complete": f.complete,
        "md5": f.md5,
        "sha1": f.sha1,
        "sha256": f.sha256,
        "kind": f.kind().as_str(),
        "error": f.error,
        "upload": f.upload,
        "bytes_captured": f.data.len(),
        "missing": f.missing.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
        "http_status": f.http_status,
        "tftp_error_code": f.tftp_error_code,
        "options": f.options.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "first": seen_json(&f.first),
        "last": seen_json(&f.last),
        "notes": f.notes,
    })
}

/// One certificate: `subject`, `issuer`, `serial`, `sha1`, `sha256`, `not_before`,
/// `not_after` (contract; times RFC 3339 UTC, null when the certificate could not be parsed)
/// plus key details.
pub fn certificate_json(c: &CertificateInfo) -> Value {
    json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "serial": c.serial,
        "sha1": c.sha1,
        "sha256": c.sha256,
        "not_before": c.not_before.map_or(Value::Null, time_json),
        "not_after": c.not_after.map_or(Value::Null, time_json),
        "key_type": c.key_type,
        "key_bits": c.key_bits,
        "size": c.der.len(),
    })
}

fn alert_json(a: &TlsAlert) -> Value {
    json!({
        "from": a.from.as_str(),
        "level": a.level,
        "description": a.description,
        "description_name": a.describe(),
        "after_server_certificate": a.after_server_certificate,
        "frame": a.seen.frame,
    })
}

fn end_json(e: TcpEnd) -> Value {
    match e {
        TcpEnd::NeverAnswered => json!({ "how": "never-answered" }),
        TcpEnd::Refused => json!({ "how": "refused" }),
        TcpEnd::Fin(s) => json!({ "how": "fin", "by": s.as_str() }),
        TcpEnd::Reset(s) => json!({ "how": "reset", "by": s.as_str() }),
        TcpEnd::Open => json!({ "how": "open" }),
    }
}

/// One TLS session: `client`, `server`, `service`, `version`, `certificates`, `alerts`
/// (contract) plus details.
pub fn tls_json(s: &TlsSession) -> Value {
    json!({
        "client": s.client.to_string(),
        "server": s.server.to_string(),
        "service": s.service,
        "version": s.version.map(tls_version_name),
        "certificates": s.certificates.iter().map(|c| certificate_json(c)).collect::<Vec<_>>(),
        "alerts": s.alerts.iter().map(alert_json).collect::<Vec<_>>(),
        "certificates_encrypted": s.certificates_encrypted,
        "offered_versions": s.offered_versions.iter().map(|v| tls_version_name(*v)).collect::<Vec<_>>(),
        "offered_cipher_suites": s.offered_cipher_suites.len(),
        "sni": s.sni,
        "cipher_suite": s.cipher_suite.map(|c| format!("0x{c:04x}")),
        "handshake_complete": s.handshake_complete,
        "app_data_bytes": { "client": s.app_data_bytes.0, "server": s.app_data_bytes.1 },
        "encrypted_alerts": s.encrypted_alerts.iter().map(|(side, seen)| json!({ "from": side.as_str(), "frame": seen.frame })).collect::<Vec<_>>(),
        "end": end_json(s.end),
        "first": seen_json(&s.first),
        "certificate_frame": s.certificate_seen.map(|c| c.frame),
        "last": seen_json(&s.last),
        "notes": s.notes,
    })
}

/// TLS sessions of hosts that are not phones, summed per server and leaf certificate:
/// `server`, `service`, `certificate` (as in `certificates`, or null), `sessions`,
/// `handshakes_complete`, `unanswered`, `with_alerts`, `clients` (the first few addresses),
/// `clients_cut`, `first`, `last`.
pub fn tls_aggregate_json(a: &TlsAggregate) -> Value {
    json!({
        "server": a.server.to_string(),
        "service": a.service,
        "certificate": a.certificate.as_deref().map(certificate_json),
        "sessions": a.sessions,
        "handshakes_complete": a.handshakes_complete,
        "unanswered": a.unanswered,
        "with_alerts": a.with_alerts,
        "clients": a.clients.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "clients_cut": a.clients_cut,
        "first": seen_json(&a.first),
        "last": seen_json(&a.last),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Endpoint, FileTransport};

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
            data: vec![],
            size: None,
            complete: false,
            missing: vec![],
            error: Some("TFTP error 1: File not found".into()),
            http_status: None,
            tftp_error_code: Some(1),
            options: vec![],
            first: Seen::default(),
            last: Seen::default(),
            md5: None,
            sha1: None,
            sha256: None,
            notes: vec![],
        };
        let v = file_json(&f);
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
        assert!(v["md5"].is_null());
        assert_eq!(tls_version_name(0x0304), "TLS1.3");
    }
}
