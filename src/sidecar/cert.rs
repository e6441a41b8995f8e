//! Certificates exported from CUCM (`tvs.pem`, `CallManager.pem`, `show cert own TVS`):
//! PEM (one or more `CERTIFICATE` blocks, text around them allowed) or DER.

use super::{ExportedCert, Source};
use crate::x509::certificate_info;
use x509_parser::prelude::{FromDer, X509Certificate};

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";

/// True for PEM text holding a certificate, or DER bytes that parse as one.
pub fn looks_like(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, BEGIN.as_bytes()).is_some()
        || (bytes.first() == Some(&0x30) && X509Certificate::from_der(bytes).is_ok())
}

/// The role a file's name suggests; only used to say which ITL record it should match.
pub fn role_hint(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    let base = n.rsplit(['/', '\\', '!']).next().unwrap_or(&n);
    [
        ("itlrecovery", "itlrecovery"),
        ("callmanager", "callmanager"),
        ("tvs", "tvs"),
        ("tomcat", "tomcat"),
        ("capf", "capf"),
    ]
    .into_iter()
    .find(|(k, _)| base.contains(k))
    .map(|(_, role)| role)
}

/// The certificates in `bytes`, and notes on blocks that did not decode.
pub fn certificates(bytes: &[u8], source: &Source) -> (Vec<ExportedCert>, Vec<String>) {
    let hint_name = source.member.as_deref().unwrap_or(&source.file);
    let role_hint = role_hint(hint_name);
    let mut certs = Vec::new();
    let mut notes = Vec::new();
    if memchr::memmem::find(bytes, BEGIN.as_bytes()).is_none() {
        let (info, note) = certificate_info(bytes);
        notes.extend(note);
        certs.push(ExportedCert {
            source: source.clone(),
            role_hint,
            info,
        });
        return (certs, notes);
    }
    // Line of each BEGIN, to cite it.
    let text = String::from_utf8_lossy(bytes);
    let begins: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == BEGIN)
        .map(|(i, _)| i + 1)
        .collect();
    for (k, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
        let line = begins.get(k).copied();
        match pem {
            Ok(pem) if pem.label == "CERTIFICATE" => {
                let (info, note) = certificate_info(&pem.contents);
                notes.extend(note);
                certs.push(ExportedCert {
                    source: Source {
                        line,
                        ..source.clone()
                    },
                    role_hint,
                    info,
                });
            }
            Ok(pem) => notes.push(format!("a PEM {} block ignored", pem.label)),
            Err(e) => {
                notes.push(format!("PEM block {} does not decode: {e}", k + 1));
                break;
            }
        }
    }
    (certs, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_name() {
        assert_eq!(role_hint("exports/tvs.pem"), Some("tvs"));
        assert_eq!(role_hint("CallManager.pem"), Some("callmanager"));
        assert_eq!(role_hint("ITLRecovery.pem"), Some("itlrecovery"));
        assert_eq!(role_hint("cert.der"), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(!looks_like(b"0\x82\x01\x00 not der"));
        assert!(!looks_like(b"hello"));
    }
}
