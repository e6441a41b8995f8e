//! Distinguished names in one form everywhere: the RFC 4514 string syntax, common name
//! first (`CN=cucm-pub.example.com,OU=VTG,O=Example Lab,C=US`), `,` between RDNs, `+`
//! inside a multi-valued RDN, special characters escaped with `\`.
//!
//! Certificates on the wire and in trust-list records are rendered from their DER names
//! (x509-parser's RDNs); the text names of trust-list headers and records (`CN=a;OU=b;O=c`,
//! `CN=a,O=b`, `cn="SAST-ADN…  ";ou=IPCBU`) are rewritten into the same form, in the order
//! they are written.
//!
//! Which way a certificate's RDN sequence is read: CUCM encodes its certificates CN first
//! (`CN, OU, O, L, ST, C`) and writes the same order in its trust lists' text names, while
//! most tools encode C first and RFC 4514 reverses the sequence. A name whose sequence
//! starts with a CN is therefore shown as encoded, any other reversed (RFC 4514 §2.1):
//! either way the CN leads, and one certificate reads the same in a trust list's header, in
//! its record and on the wire (issue 19, item 8).

use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

/// Escapes one attribute value as RFC 4514 §2.4 asks.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

/// Decodes a directory string (UTF-8, Printable, IA5, T61 as Latin-1, BMP, Universal);
/// None for a value that is not a string.
fn string_value(tag: Tag, data: &[u8]) -> Option<String> {
    Some(match tag {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        // T61/Teletex in practice carries Latin-1.
        Tag::T61String => data.iter().map(|b| char::from(*b)).collect(),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([*c.first().unwrap_or(&0), *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                for (d, s) in b.iter_mut().zip(c) {
                    *d = *s;
                }
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        _ => return None,
    })
}

/// One attribute value in RFC 4514 form: an escaped string, or `#` and the hex of the value
/// when it is not a string.
pub fn attribute_value(tag: Tag, data: &[u8]) -> String {
    string_value(tag, data).map_or_else(|| format!("#{}", hex::encode(data)), |s| escape_value(&s))
}

/// A certificate name in RFC 4514 syntax, common name first (see the module doc for the
/// order). Attribute types without a short name are written as their dotted OID.
pub fn of_x509(name: &X509Name<'_>) -> String {
    // Encoded CN first (CUCM's certificates): keep the order as written.
    let cn_first = name.iter().count() > 1
        && name.iter().next().is_some_and(|rdn| {
            rdn.iter()
                .any(|a| *a.attr_type() == x509_parser::oid_registry::OID_X509_COMMON_NAME)
        });
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let oid = attr.attr_type();
                    let key = oid2abbrev(oid, oid_registry())
                        .map_or_else(|_| oid.to_id_string(), str::to_owned);
                    let value = attr.attr_value();
                    format!("{key}={}", attribute_value(value.tag(), value.data))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    if cn_first {
        return rdns.join(",");
    }
    // RFC 4514 §2.1: the last RDN of the sequence comes first.
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// Splits a text name at `;` or `,` outside double quotes and after no backslash.
fn split_text(dn: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' | ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if escaped {
        current.push('\\');
    }
    parts.push(current);
    parts
}

/// The value of a text attribute, unquoted and unescaped.
fn text_value(raw: &str) -> String {
    let raw = raw.trim();
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// A name written as text (a trust list's header or record) in RFC 4514 form, keeping the
/// order it was written in. Text that is not a name (no `key=value`) is returned trimmed.
pub fn of_text(dn: &str) -> String {
    let parts = split_text(dn);
    let mut rdns = Vec::with_capacity(parts.len());
    for part in &parts {
        if part.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return dn.trim().to_owned();
        };
        let key = key.trim();
        let known = [
            "CN", "OU", "O", "L", "ST", "C", "E", "DC", "UID", "STREET", "SN",
        ];
        let key = if known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            key.to_ascii_uppercase()
        } else {
            key.to_owned()
        };
        rdns.push(format!("{key}={}", escape_value(&text_value(value))));
    }
    rdns.join(",")
}

/// [`of_text`] of bytes (lossy UTF-8, trailing NULs dropped).
pub fn of_text_bytes(dn: &[u8]) -> String {
    let end = dn.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    of_text(&String::from_utf8_lossy(dn.get(..end).unwrap_or(dn)))
}

/// Which name of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The subject.
    Subject,
    /// The issuer.
    Issuer,
}

/// A trust-list record's subject or issuer: from its certificate (tag 9) when that parses,
/// so it reads exactly like the same certificate seen on the wire; else from its text tag.
pub fn of_record(text: Option<&[u8]>, certificate: Option<&[u8]>, which: Which) -> Option<String> {
    if let Some(Ok((_, cert))) = certificate.map(X509Certificate::from_der) {
        return Some(of_x509(match which {
            Which::Subject => cert.subject(),
            Which::Issuer => cert.issuer(),
        }));
    }
    text.map(of_text_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_rfc_4514_asks() {
        assert_eq!(escape_value("Example, Inc."), "Example\\, Inc.");
        assert_eq!(escape_value("#1 a+b"), "\\#1 a\\+b");
        assert_eq!(escape_value(" padded "), "\\ padded\\ ");
        assert_eq!(escape_value("x\"y\\z;<>"), "x\\\"y\\\\z\\;\\<\\>");
        assert_eq!(escape_value("plain"), "plain");
    }

    #[test]
    fn cisco_text_names_take_the_same_form() {
        assert_eq!(
            of_text("CN=cucm-pub.example.com;OU=VTG;O=Example Lab;L=Springfield;ST=IL;C=US"),
            "CN=cucm-pub.example.com,OU=VTG,O=Example Lab,L=Springfield,ST=IL,C=US"
        );
        assert_eq!(of_text("CN=SAST,O=SAST,OU=SAST"), "CN=SAST,O=SAST,OU=SAST");
        assert_eq!(
            of_text(r#"cn="SAST-ADN0054f509        ";ou=IPCBU;o="Cisco Systems, Inc.""#),
            "CN=SAST-ADN0054f509,OU=IPCBU,O=Cisco Systems\\, Inc."
        );
        assert_eq!(of_text("cucm-pub"), "cucm-pub");
        assert_eq!(of_text_bytes(b"CN=a;O=b\0\0"), "CN=a,O=b");
    }

    #[test]
    fn certificate_names_come_most_significant_last() {
        let der = itlscope_test_cert();
        let (_, cert) = X509Certificate::from_der(&der).expect("certificate");
        let subject = of_x509(cert.subject());
        assert!(subject.starts_with("CN="), "{subject}");
        assert!(subject.ends_with(",C=US"), "{subject}");
        assert_eq!(
            of_record(Some(b"ignored"), Some(&der), Which::Subject).as_deref(),
            Some(subject.as_str())
        );
        assert_eq!(
            of_record(Some(b"CN=x;O=y"), None, Which::Subject).as_deref(),
            Some("CN=x,O=y")
        );
    }

    /// The generated TVS certificate: subject `C=US, ST=IL, …, CN=…` in encoded order.
    fn itlscope_test_cert() -> Vec<u8> {
        itlscope_gen::pki::CertSpec::tvs("cucm-pub.example.com")
            .self_signed()
            .der
    }

    /// Issue 19, item 8: the genuine CUCM CTL (certificates encoded CN first) names its
    /// signer in the header exactly as the signer's record names its certificate.
    #[test]
    fn a_cucm_certificate_encoded_cn_first_reads_as_its_trust_list_names_it() {
        let ctl = include_bytes!("../tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv");
        // Record 1 (offset 312, RECORDLENGTH 1147) holds the signer's certificate; find it
        // by its DER SEQUENCE header rather than re-parsing the trust list here.
        let record = &ctl[312..312 + 1147];
        let start = (0..record.len().saturating_sub(4))
            .find(|&i| {
                record[i] == 0x30
                    && record[i + 1] == 0x82
                    && X509Certificate::from_der(&record[i..]).is_ok()
            })
            .expect("a certificate in record 1");
        let der = &record[start..];
        let header_name = "CN=gigantic-6.cisco.com;OU=VTG;O=Alpha;L=SJ;ST=CA;C=US";
        let want = "CN=gigantic-6.cisco.com,OU=VTG,O=Alpha,L=SJ,ST=CA,C=US";
        assert_eq!(of_text(header_name), want);
        assert_eq!(
            of_record(None, Some(der), Which::Subject).as_deref(),
            Some(want)
        );
        assert_eq!(
            of_record(None, Some(der), Which::Issuer).as_deref(),
            Some(want)
        );
    }

    #[test]
    fn the_generated_certificate_reads_like_its_cucm_string() {
        let spec = itlscope_gen::pki::CertSpec::tvs("cucm-pub.example.com").self_signed();
        let (_, cert) = X509Certificate::from_der(&spec.der).expect("certificate");
        assert_eq!(of_x509(cert.subject()), of_text(&spec.subject_string()));
        assert_eq!(
            of_x509(cert.subject()),
            "CN=cucm-pub.example.com,OU=VTG,O=Example Lab,L=Springfield,ST=IL,C=US"
        );
    }
}
