//! Matching trust-list records: by signer fields, by a certificate seen on the wire or read
//! from a file, and the rollback-ITL shape. Shared by the decision, the diagnosis and `plan`.

use crate::cisco::model::{Header, Record, TrustList, function};
use crate::evidence::CertificateInfo;

use crate::cisco::serial_hex;

/// Normalises a serial written as hex (any case, separators) the same way as [`serial_hex`].
pub fn normalise_serial_text(text: &str) -> String {
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Splits a distinguished name into sorted `(key, value)` pairs so that CUCM's
/// `CN=a;OU=b;O=c`, certutils' `CN=a,OU=b,O=c` and x509-parser's `O=c, OU=b, CN=a` compare
/// equal. Keys and values are compared without case, quotes or padding spaces.
pub fn normalise_dn(dn: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in dn.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' | ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    let mut pairs: Vec<(String, String)> = parts
        .iter()
        .filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            let key = match key.trim().to_ascii_lowercase().as_str() {
                "e" | "email" | "emailaddress" => "emailaddress".to_string(),
                "s" => "st".to_string(),
                other => other.to_string(),
            };
            Some((key, value.trim().to_lowercase()))
        })
        .collect();
    pairs.sort();
    pairs
}

/// How a wire certificate was found in a trust list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// Tag 11 CERTHASH equals the certificate's SHA-1 (or SHA-256).
    CertHash,
    /// The record's tag-9 certificate is byte-identical (same SHA-1).
    Certificate,
    /// Same serial (as unsigned integers) and issuer.
    SerialIssuer,
}

impl MatchedBy {
    /// Words for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::CertHash => "certificate hash (CERTHASH)",
            MatchedBy::Certificate => "certificate SHA-1",
            MatchedBy::SerialIssuer => "serial and issuer",
        }
    }
}

/// SHA-1 of a record's DER certificate, lower-case hex.
pub fn record_certificate_sha1(record: &Record<'_>) -> Option<String> {
    use sha1::Digest;
    record
        .certificate
        .map(|der| hex::encode(sha1::Sha1::digest(der)))
}

/// Does `cert` match `record`?
pub fn match_record(cert: &CertificateInfo, record: &Record<'_>) -> Option<MatchedBy> {
    if let Some(hash) = record.cert_hash {
        let hash = hex::encode(hash);
        if hash == cert.sha1 || hash == cert.sha256 {
            return Some(MatchedBy::CertHash);
        }
    }
    if record_certificate_sha1(record).is_some_and(|sha1| sha1 == cert.sha1) {
        return Some(MatchedBy::Certificate);
    }
    if let Some(serial) = record.serial
        && normalise_serial_text(&serial_hex(serial)) == normalise_serial_text(&cert.serial)
    {
        let issuer_ok = match record.issuer {
            Some(issuer) => {
                normalise_dn(&String::from_utf8_lossy(issuer)) == normalise_dn(&cert.issuer)
            }
            None => false,
        };
        if issuer_ok {
            return Some(MatchedBy::SerialIssuer);
        }
    }
    None
}

/// The first record of `list` with a function in `functions` (all when empty) that
/// matches `cert`: its index and how it matched.
pub fn find_certificate(
    cert: &CertificateInfo,
    list: &TrustList<'_>,
    functions: &[u16],
) -> Option<(usize, MatchedBy)> {
    list.records.iter().enumerate().find_map(|(i, record)| {
        let role_ok =
            functions.is_empty() || record.function.is_some_and(|f| functions.contains(&f));
        if role_ok {
            match_record(cert, record).map(|m| (i, m))
        } else {
            None
        }
    })
}

/// Indices of the TVS records of a trust list.
pub fn tvs_records(list: &TrustList<'_>) -> Vec<usize> {
    list.records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.function == Some(function::TVS))
        .map(|(i, _)| i)
        .collect()
}

/// True for a "Prepare Cluster for Rollback to pre 8.0" ITL: records whose functions carry no
/// certificate, hash or key, apart from the signer that signs the file.
pub fn is_rollback(list: &TrustList<'_>, signer: Option<usize>) -> bool {
    if list.is_rollback() {
        return true;
    }
    let mut others = list
        .records
        .iter()
        .enumerate()
        .filter(|(i, r)| Some(*i) != signer && r.function != Some(function::SAST))
        .peekable();
    others.peek().is_some()
        && others.all(|(_, r)| {
            r.certificate.is_none() && r.cert_hash.is_none() && r.public_key.is_none()
        })
}

/// The signer record of a trust list by its header (SAST role, serial and, when both carry
/// one, issuer), without checking the signature.
pub fn header_signer(list: &TrustList<'_>) -> Option<usize> {
    signer_in(list, &list.header, &[function::SAST])
}

/// The record of `list` named by a file header's signer fields (serial and, when both carry
/// one, issuer) with a role in `roles`, without checking the signature.
pub fn signer_in(list: &TrustList<'_>, header: &Header<'_>, roles: &[u16]) -> Option<usize> {
    let serial = header.signer_serial?;
    let issuer = header
        .signer_issuer
        .map(|i| normalise_dn(&String::from_utf8_lossy(i)));
    list.records.iter().position(|r| {
        r.function.is_some_and(|f| roles.contains(&f))
            && r.serial.is_some_and(|s| crate::cisco::serial_eq(s, serial))
            && match (&issuer, r.issuer) {
                (Some(h), Some(ri)) => *h == normalise_dn(&String::from_utf8_lossy(ri)),
                _ => true,
            }
    })
}

/// A record described in one line: `#2 CCM+TFTP CN=cucm-1 serial 2e3e…`.
pub fn describe_record(list: &TrustList<'_>, index: usize) -> String {
    let Some(r) = list.records.get(index) else {
        return format!("record #{}", index + 1);
    };
    let role = r
        .function
        .map(function::name)
        .unwrap_or_else(|| "no role".into());
    let subject = r
        .subject
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .or_else(|| r.dns_name.map(|s| String::from_utf8_lossy(s).into_owned()))
        .unwrap_or_else(|| "(no subject)".into());
    let serial = r.serial.map(serial_hex).unwrap_or_else(|| "?".into());
    format!("record #{} {role} {subject} serial {serial}", index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_as_unsigned_integers() {
        assert_eq!(serial_hex(&[0x00, 0x81, 0xa3]), "81a3");
        assert_eq!(normalise_serial_text(&serial_hex(&[0x0a, 0xbc])), "abc");
        assert_eq!(normalise_serial_text("2E:3E:1A:7B"), "2e3e1a7b");
        assert_eq!(normalise_serial_text("00:0a:bc"), "abc");
    }

    #[test]
    fn dns_compare_across_renderings() {
        assert_eq!(
            normalise_dn("CN=CAPF-2076a1a2;OU=VTG;O=Alpha;L=SJ;ST=CA;C=US"),
            normalise_dn("C=US, ST=CA, L=SJ, O=Alpha, OU=VTG, CN=CAPF-2076a1a2")
        );
        assert_eq!(
            normalise_dn(r#"cn="SAST-ADN0054f509        ";ou=IPCBU;o="Cisco Systems""#),
            normalise_dn("O=Cisco Systems, OU=IPCBU, CN=SAST-ADN0054f509")
        );
        assert_ne!(normalise_dn("CN=a;O=b"), normalise_dn("CN=a, O=c"));
        assert_eq!(
            normalise_dn(r#"O="Cisco Systems, Inc.", CN=x"#),
            vec![
                ("cn".to_string(), "x".to_string()),
                ("o".to_string(), "cisco systems, inc.".to_string())
            ]
        );
    }
}
