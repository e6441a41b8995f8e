//! What every check family shares: an empty check to fill, flags without repeats, and
//! the evidence items of a transfer and of a TLS session's certificate.

use crate::diagnosis::context::{service_of, session_time};
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::evidence::{CertificateInfo, FileTransfer, TcpEnd, TlsSession};

/// A check with no flags and no evidence yet.
pub(super) fn check(id: &'static str, status: Status, explanation: impl Into<String>) -> Check {
    Check {
        id,
        status,
        explanation: explanation.into(),
        flags: Vec::new(),
        evidence: Vec::new(),
    }
}

/// Adds `flag` once.
pub(super) fn push_flag(flags: &mut Vec<&'static str>, flag: &'static str) {
    if !flags.contains(&flag) {
        flags.push(flag);
    }
}

/// "ITLSEP….tlv via tftp from 10.0.0.1:69: 5438 bytes" and so on.
pub fn transfer_outcome(file: &FileTransfer) -> String {
    if file.complete {
        format!("{} bytes", file.captured_len())
    } else if let Some(error) = &file.error {
        error.clone()
    } else {
        let missing: Vec<String> = file
            .missing
            .iter()
            .take(4)
            .map(|(a, b)| format!("{a}..{b}"))
            .collect();
        format!(
            "incomplete ({} bytes seen{}{})",
            file.captured_len(),
            if missing.is_empty() { "" } else { ", missing " },
            missing.join(", ")
        )
    }
}

/// One transfer as an evidence item: name, transport, server, outcome and error codes.
pub(super) fn transfer_item(file: &FileTransfer) -> EvidenceItem {
    let mut item = EvidenceItem::at(
        file.first,
        format!(
            "{} via {} from {}: {}",
            file.name,
            file.transport.as_str(),
            file.server,
            transfer_outcome(file)
        ),
    )
    .with("name", file.name.clone())
    .with("transport", file.transport.as_str())
    .with("complete", file.complete);
    if let Some(error) = &file.error {
        item = item.with("error", error.clone());
    }
    if let Some(code) = file.tftp_error_code {
        item = item.with_code(
            "tftp_error",
            "tftp_error_code",
            crate::codes::tftp_error(code),
            code,
        );
    }
    if let Some(status) = file.http_status {
        item = item.with("http_status", status);
    }
    item
}

/// One TLS session in a line: ends, service, version, handshake, bytes, how it ended.
pub(super) fn session_summary(s: &TlsSession) -> String {
    let version = s
        .version
        .map(crate::evidence::tls_version_name)
        .unwrap_or_else(|| "no ServerHello".into());
    let end = match s.end {
        TcpEnd::NeverAnswered => "SYN never answered".to_string(),
        TcpEnd::Refused => "refused (RST to SYN)".to_string(),
        TcpEnd::Fin(side) => format!("closed by {}", side.as_str()),
        TcpEnd::Reset(side) => format!("reset by {}", side.as_str()),
        TcpEnd::Open => "open at capture end".to_string(),
    };
    format!(
        "{} -> {} {}: {version}, handshake {}, app data {}/{} bytes, {end}",
        s.client,
        s.server,
        service_of(s),
        if s.handshake_complete {
            "completed"
        } else {
            "not completed"
        },
        s.app_data_bytes.0,
        s.app_data_bytes.1
    )
}

/// A session's certificate as an evidence item, dated by the session.
pub(super) fn cert_item(s: &TlsSession, cert: &CertificateInfo, detail: String) -> EvidenceItem {
    EvidenceItem::at(session_time(s), detail)
        .with("server", s.server.to_string())
        .with("subject", cert.subject.clone())
        .with("issuer", cert.issuer.clone())
        .with("serial", cert.serial.clone())
        .with("sha1", cert.sha1.clone())
}
