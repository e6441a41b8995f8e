//! Rendering of the `files` and `tls` lists (issue 4 contract) until `report::evidence`
//! (owned by the reassembly stage) lands; then `report::json` switches to it and this module
//! goes away. Kept to the contract's fields only.

use crate::diagnosis::facts::Hashes;
use crate::diagnosis::names::{RequestKind, classify};
use crate::evidence::{FileTransfer, TlsSession};
use serde_json::{Value, json};

fn kind(name: &str) -> &'static str {
    match classify(name).0 {
        k if k.is_itl() => "itl",
        k if k.is_ctl() => "ctl",
        RequestKind::SignedConfig | RequestKind::EncryptedConfig => "signed-config",
        RequestKind::UnsignedConfig => "config",
        _ => "other",
    }
}

/// One `files` entry.
pub fn file_json(f: &FileTransfer) -> Value {
    let hashes = f.complete.then(|| Hashes::of(&f.data));
    json!({
        "name": f.name,
        "transport": f.transport.as_str(),
        "client": f.client.to_string(),
        "server": f.server.to_string(),
        "size": f.size,
        "complete": f.complete,
        "md5": hashes.as_ref().map(|h| h.md5.clone()),
        "sha1": hashes.as_ref().map(|h| h.sha1.clone()),
        "sha256": hashes.as_ref().map(|h| h.sha256.clone()),
        "kind": kind(&f.name),
        "error": f.error,
        "first_frame": f.first.frame,
    })
}

fn version(v: u16) -> Option<&'static str> {
    match v {
        0x0301 => Some("TLS1.0"),
        0x0302 => Some("TLS1.1"),
        0x0303 => Some("TLS1.2"),
        0x0304 => Some("TLS1.3"),
        _ => None,
    }
}

/// One `tls` entry.
pub fn tls_json(s: &TlsSession) -> Value {
    json!({
        "client": s.client.to_string(),
        "server": s.server.to_string(),
        "service": s.service,
        "version": s.version.and_then(version),
        "certificates": s.certificates.iter().map(|c| json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "serial": c.serial,
            "sha1": c.sha1,
            "sha256": c.sha256,
            "not_before": c.not_before,
            "not_after": c.not_after,
        })).collect::<Vec<_>>(),
        "alerts": s.alerts.iter().map(|a| json!({
            "from": a.from.as_str(),
            "level": a.level,
            "description": a.description,
        })).collect::<Vec<_>>(),
        "first_frame": s.first.frame,
    })
}
