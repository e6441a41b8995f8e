//! X.509 certificates seen in TLS handshakes, decoded into [`CertificateInfo`].
//!
//! Names are rendered attribute by attribute (never through x509-parser's `Display`, which
//! turns any non-UTF-8 attribute into an error sentinel): known string types are decoded,
//! legacy T61/Latin-1 strings lossily, anything else as `#hex`.

use crate::evidence::CertificateInfo;
use crate::serial::serial_hex;
use sha1::Digest;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

/// Lower-case hex SHA-1 and SHA-256 of `der`.
fn fingerprints(der: &[u8]) -> (String, String) {
    (
        hex::encode(sha1::Sha1::digest(der)),
        hex::encode(sha2::Sha256::digest(der)),
    )
}

/// Decodes one DER certificate. On a parse failure the fingerprints are still given, with
/// the error in the returned note and placeholder names.
pub fn certificate_info(der: &[u8]) -> (CertificateInfo, Option<String>) {
    let (sha1, sha256) = fingerprints(der);
    match X509Certificate::from_der(der) {
        Ok((rest, cert)) => {
            let note = (!rest.is_empty()).then(|| {
                format!(
                    "certificate {sha1} has {} trailing bytes after its DER",
                    rest.len()
                )
            });
            let (key_type, key_bits) = key_description(&cert);
            let info = CertificateInfo {
                der: der.to_vec(),
                subject: render_name(cert.subject()),
                issuer: render_name(cert.issuer()),
                serial: serial_hex(cert.raw_serial()),
                sha1,
                sha256,
                not_before: Some(cert.validity().not_before.timestamp()),
                not_after: Some(cert.validity().not_after.timestamp()),
                key_type,
                key_bits,
            };
            (info, note)
        }
        Err(e) => {
            let info = CertificateInfo {
                der: der.to_vec(),
                subject: String::new(),
                issuer: String::new(),
                serial: String::new(),
                sha1: sha1.clone(),
                sha256,
                not_before: None,
                not_after: None,
                key_type: "unknown".into(),
                key_bits: None,
            };
            (
                info,
                Some(format!("certificate {sha1} could not be decoded: {e}")),
            )
        }
    }
}

fn key_description(cert: &X509Certificate<'_>) -> (String, Option<u32>) {
    use x509_parser::public_key::PublicKey;
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(k)) => ("RSA".into(), u32::try_from(k.key_size()).ok()),
        Ok(PublicKey::EC(k)) => (
            "EC".into(),
            u32::try_from(k.key_size()).ok().filter(|b| *b > 0),
        ),
        Ok(PublicKey::DSA(_)) => ("DSA".into(), None),
        Ok(PublicKey::GostR3410(_) | PublicKey::GostR3410_2012(_)) => ("GOST".into(), None),
        _ => {
            let oid = &spki.algorithm.algorithm;
            let name = oid2sn(oid, oid_registry())
                .map(str::to_string)
                .unwrap_or_else(|_| oid.to_id_string());
            (name, None)
        }
    }
}

/// Renders a name RDN by RDN in encoded order, `C=US, O=Cisco, CN=tvs-1`.
pub fn render_name(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let oid = attr.attr_type();
            let key = match oid2abbrev(oid, oid_registry()) {
                Ok(k) => k.to_string(),
                Err(_) => oid.to_id_string(),
            };
            parts.push(format!(
                "{key}={}",
                render_value(attr.attr_value().tag(), attr.attr_value().data)
            ));
        }
    }
    parts.join(", ")
}

fn render_value(tag: Tag, data: &[u8]) -> String {
    match tag {
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
        _ => format!("#{}", hex::encode(data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_reported_not_panicked() {
        let (info, note) = certificate_info(b"\x30\x03\x02\x01");
        assert!(note.is_some());
        assert_eq!(info.sha1.len(), 40);
        // Not parsed: the validity is unknown, not the epoch.
        assert_eq!((info.not_before, info.not_after), (None, None));
    }

    #[test]
    fn latin1_and_bmp_names_render() {
        assert_eq!(render_value(Tag::T61String, b"M\xfcller"), "Müller");
        assert_eq!(render_value(Tag::BmpString, b"\0A\0B"), "AB");
        assert_eq!(render_value(Tag::OctetString, b"\x01\x02"), "#0102");
    }
}
