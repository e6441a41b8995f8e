//! Builders for Cisco ITL/CTL trust lists (`.tlv`) and signed files (`.sgn`; `.enc.sgn` in
//! [`crate::enc_sgn`], re-exported here) in CUCM's byte
//! layout (`trust-list-format.md`): header `1, 2, [28], 3{4, 5, 6}, 7{8, 9{10, 11}}, 12, 14,
//! 15, 13*` padded with `0x0D` to a multiple of 4; records `1, 2, 3, 4, 5, 6, 7, 8, 9, 10
//! [, 11, 12]`; the signature is computed over the file built without the tag-12 element,
//! which is then spliced in right after tag 11.
//!
//! ```
//! use itlscope_gen::pki::{ClusterCerts, Digest};
//! use itlscope_gen::trustlist::{RecordSpec, Signer, TrustListBuilder, function};
//! let certs = ClusterCerts::new("cucm-pub.example.com");
//! let itl = TrustListBuilder::new("ITLFile.tlv", Signer::from_cert(&certs.itl_recovery))
//!     .record(RecordSpec::from_cert(function::SAST, &certs.itl_recovery))
//!     .record(RecordSpec::from_cert(function::CCM_TFTP, &certs.callmanager))
//!     .record(RecordSpec::from_cert(function::TVS, &certs.tvs).hash_only())
//!     .digest(Digest::Sha256)
//!     .build();
//! assert_eq!(itl[..5], [1, 0, 2, 1, 2]);
//! ```

pub use crate::enc_sgn::{
    EncryptedConfigBuilder, StubConfig, decrypt_payload, encrypt_payload, encrypted_config_stub_xml,
};
use crate::pki::{Cert, Digest, KeyName};
use sha1::{Digest as _, Sha1};
use std::net::Ipv4Addr;

/// Record function (role) codes.
pub mod function {
    /// System Administrator Security Token (signs trust lists).
    pub const SAST: u16 = 0;
    /// CallManager.
    pub const CCM: u16 = 1;
    /// CallManager + TFTP (signs config files).
    pub const CCM_TFTP: u16 = 2;
    /// TFTP.
    pub const TFTP: u16 = 3;
    /// CAPF.
    pub const CAPF: u16 = 4;
    /// Application server (HTTPS).
    pub const APP_SERVER: u16 = 7;
    /// Trust Verification Service.
    pub const TVS: u16 = 21;
}

/// Default timestamp: 2025-01-15 10:00:00 UTC.
pub const DEFAULT_TIMESTAMP: u32 = 1_736_935_200;

/// Appends one TLV (tag, u16 big-endian length, value). Values longer than 65535 bytes cannot
/// be encoded; the builder is for test data, so that is a programming error.
pub fn push_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    let len = u16::try_from(value.len()).expect("TLV value fits a u16 length");
    out.push(tag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
}

fn with_nul(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// One trust-list record. `None` fields are left out. Fields are public so scenarios can
/// forge odd records (wrong serial, missing key, raw unknown tags).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordSpec {
    /// Tag 2 (written NUL-terminated).
    pub dns_name: Option<String>,
    /// Tag 3 (written NUL-terminated).
    pub subject: Option<String>,
    /// Tag 4.
    pub function: u16,
    /// Tag 5 (written NUL-terminated).
    pub issuer: Option<String>,
    /// Tag 6.
    pub serial: Option<Vec<u8>>,
    /// Tag 7 (PKCS#1 RSAPublicKey DER).
    pub public_key: Option<Vec<u8>>,
    /// Tag 8 (the certificate's signatureValue).
    pub signature: Option<Vec<u8>>,
    /// Tag 9 (DER certificate).
    pub certificate: Option<Vec<u8>>,
    /// Tag 10.
    pub ip_address: Option<Ipv4Addr>,
    /// Tag 11 (certificate hash).
    pub cert_hash: Option<Vec<u8>>,
    /// Tag 12 (hash algorithm of tag 11; 1 = SHA-1), one byte.
    pub hash_algorithm: Option<u8>,
    /// Raw extra elements appended after the known ones.
    pub extra: Vec<(u8, Vec<u8>)>,
}

impl RecordSpec {
    /// A full CUCM record for `cert` with `function`: tags 2..10 (DNS name = the CN, IP
    /// 10.0.0.10; change them with [`RecordSpec::dns_name`] / [`RecordSpec::ip`]).
    pub fn from_cert(function: u16, cert: &Cert) -> RecordSpec {
        RecordSpec {
            dns_name: Some(cert.subject.cn.clone()),
            subject: Some(cert.subject_string()),
            function,
            issuer: Some(cert.issuer_string()),
            serial: Some(cert.serial.clone()),
            public_key: Some(cert.public_key_pkcs1().to_vec()),
            signature: Some(cert.signature_value()),
            certificate: Some(cert.der.clone()),
            ip_address: Some(Ipv4Addr::new(10, 0, 0, 10)),
            cert_hash: None,
            hash_algorithm: None,
            extra: Vec::new(),
        }
    }

    /// An empty "rollback" record: FUNCTION only, no certificate (what CUCM writes with
    /// "Prepare Cluster for Rollback to pre 8.0").
    pub fn rollback(function: u16) -> RecordSpec {
        RecordSpec {
            function,
            ..RecordSpec::default()
        }
    }

    /// Adds CERTHASH (SHA-1 of the certificate DER) and HASH ALGORITHM = 1, keeping the
    /// certificate.
    pub fn with_cert_hash(mut self) -> RecordSpec {
        let hash = self
            .certificate
            .as_deref()
            .map(|der| Sha1::digest(der).to_vec());
        if let Some(hash) = hash {
            self.cert_hash = Some(hash);
            self.hash_algorithm = Some(1);
        }
        self
    }

    /// CUCM's TVS/CAPF ITL form: CERTHASH + HASH ALGORITHM instead of the certificate.
    pub fn hash_only(self) -> RecordSpec {
        let mut spec = self.with_cert_hash();
        spec.certificate = None;
        spec
    }

    /// Sets the DNS name.
    pub fn dns_name(mut self, name: &str) -> RecordSpec {
        self.dns_name = Some(name.to_owned());
        self
    }

    /// Sets the IP address.
    pub fn ip(mut self, ip: Ipv4Addr) -> RecordSpec {
        self.ip_address = Some(ip);
        self
    }

    /// The record's bytes, RECORDLENGTH first.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(v) = &self.dns_name {
            push_tlv(&mut body, 2, &with_nul(v));
        }
        if let Some(v) = &self.subject {
            push_tlv(&mut body, 3, &with_nul(v));
        }
        push_tlv(&mut body, 4, &self.function.to_be_bytes());
        if let Some(v) = &self.issuer {
            push_tlv(&mut body, 5, &with_nul(v));
        }
        if let Some(v) = &self.serial {
            push_tlv(&mut body, 6, v);
        }
        if let Some(v) = &self.public_key {
            push_tlv(&mut body, 7, v);
        }
        if let Some(v) = &self.signature {
            push_tlv(&mut body, 8, v);
        }
        if let Some(v) = &self.certificate {
            push_tlv(&mut body, 9, v);
        }
        if let Some(v) = self.ip_address {
            push_tlv(&mut body, 10, &v.octets());
        }
        if let Some(v) = &self.cert_hash {
            push_tlv(&mut body, 11, v);
        }
        if let Some(v) = self.hash_algorithm {
            push_tlv(&mut body, 12, &[v]);
        }
        for (tag, value) in &self.extra {
            push_tlv(&mut body, *tag, value);
        }
        let total = u16::try_from(body.len() + 5).expect("record fits a u16 RECORDLENGTH");
        let mut out = Vec::with_capacity(body.len() + 5);
        push_tlv(&mut out, 1, &total.to_be_bytes());
        out.extend_from_slice(&body);
        out
    }
}

/// Who the header names as signer (tags 4, 5, 6) and which key actually signs. Separate so a
/// scenario can name one certificate and sign with another key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Tag 4.
    pub name: String,
    /// Tag 5.
    pub serial: Vec<u8>,
    /// Tag 6.
    pub issuer: String,
    /// The signing key.
    pub key: KeyName,
}

impl Signer {
    /// The header names `cert` and signs with its key.
    pub fn from_cert(cert: &Cert) -> Signer {
        Signer {
            name: cert.subject_string(),
            serial: cert.serial.clone(),
            issuer: cert.issuer_string(),
            key: cert.key,
        }
    }
}

/// Header fields common to trust lists and signed files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSpec {
    /// Tag 1 (major, minor).
    pub version: (u8, u8),
    /// Tag 28, written right after tag 2 when set.
    pub signer_version: Option<(u8, u8)>,
    /// Tags 4, 5, 6 and the signing key.
    pub signer: Signer,
    /// Tag 8.
    pub digest: Digest,
    /// Tag 14 (written NUL-terminated).
    pub filename: String,
    /// Tag 15.
    pub timestamp: Option<u32>,
}

impl HeaderSpec {
    /// Builds `header ++ body`, signed: the file is assembled without tag 12, signed with the
    /// signer key, and the signature element spliced in after tag 11.
    pub fn sign_and_build(&self, body: &[u8]) -> Vec<u8> {
        self.sign_and_build_with(&[], body)
    }

    /// As [`HeaderSpec::sign_and_build`], with `extra` (encoded header elements, e.g. the
    /// `.enc.sgn` tags 16–27) written after tag 15, before the padding.
    pub fn sign_and_build_with(&self, extra: &[u8], body: &[u8]) -> Vec<u8> {
        let key = self.signer.key.key();
        let sig_len = key.size();
        let modulus_code = match sig_len {
            64 => 0u8,
            128 => 1,
            256 => 2,
            512 => 3,
            _ => 0xff,
        };

        let mut signer_id = Vec::new();
        push_tlv(&mut signer_id, 4, &with_nul(&self.signer.name));
        push_tlv(&mut signer_id, 5, &self.signer.serial);
        push_tlv(&mut signer_id, 6, &with_nul(&self.signer.issuer));

        let mut tail = Vec::new();
        push_tlv(&mut tail, 14, &with_nul(&self.filename));
        if let Some(ts) = self.timestamp {
            push_tlv(&mut tail, 15, &ts.to_be_bytes());
        }
        tail.extend_from_slice(extra);

        let pre_len = 10 + self.signer_version.map_or(0, |_| 5) + 3 + signer_id.len() + 18;
        let unpadded = pre_len + 3 + sig_len + tail.len();
        let padding = (4 - unpadded % 4) % 4;
        let header_length = u16::try_from(unpadded + padding).expect("header length fits a u16");

        let mut pre = Vec::with_capacity(pre_len);
        push_tlv(&mut pre, 1, &[self.version.0, self.version.1]);
        push_tlv(&mut pre, 2, &header_length.to_be_bytes());
        if let Some((major, minor)) = self.signer_version {
            push_tlv(&mut pre, 28, &[major, minor]);
        }
        let signer_id_len = u16::try_from(signer_id.len()).expect("signer id fits a u16");
        pre.push(3);
        pre.extend_from_slice(&signer_id_len.to_be_bytes());
        pre.extend_from_slice(&signer_id);
        pre.extend_from_slice(&[7, 0, 15, 8, 0, 1, self.digest.code(), 9, 0, 8]);
        pre.extend_from_slice(&[10, 0, 1, 0, 11, 0, 1, modulus_code]);
        debug_assert_eq!(pre.len(), pre_len);

        tail.extend(std::iter::repeat_n(0x0D, padding));
        let signature = key.sign(self.digest, &[&pre, &tail, body]);

        let mut out = Vec::with_capacity(usize::from(header_length) + body.len());
        out.extend_from_slice(&pre);
        push_tlv(&mut out, 12, &signature);
        out.extend_from_slice(&tail);
        debug_assert_eq!(out.len(), usize::from(header_length));
        out.extend_from_slice(body);
        out
    }
}

/// Builds an ITL or CTL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustListBuilder {
    /// Header fields (public for forging).
    pub header: HeaderSpec,
    /// Records in file order.
    pub records: Vec<RecordSpec>,
}

impl TrustListBuilder {
    /// A version 1.2 trust list named `filename` (tag 14), SHA-1, [`DEFAULT_TIMESTAMP`], no tag 28.
    pub fn new(filename: &str, signer: Signer) -> TrustListBuilder {
        TrustListBuilder {
            header: HeaderSpec {
                version: (1, 2),
                signer_version: None,
                signer,
                digest: Digest::Sha1,
                filename: filename.to_owned(),
                timestamp: Some(DEFAULT_TIMESTAMP),
            },
            records: Vec::new(),
        }
    }

    /// Appends a record.
    pub fn record(mut self, record: RecordSpec) -> TrustListBuilder {
        self.records.push(record);
        self
    }

    /// Sets the digest.
    pub fn digest(mut self, digest: Digest) -> TrustListBuilder {
        self.header.digest = digest;
        self
    }

    /// Sets the timestamp (tag 15; `None` leaves it out).
    pub fn timestamp(mut self, timestamp: Option<u32>) -> TrustListBuilder {
        self.header.timestamp = timestamp;
        self
    }

    /// Sets tag 28 ("ITL version"; 1.1 enables the newer phone features).
    pub fn signer_version(mut self, version: Option<(u8, u8)>) -> TrustListBuilder {
        self.header.signer_version = version;
        self
    }

    /// The signed file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let body: Vec<u8> = self.records.iter().flat_map(RecordSpec::encode).collect();
        self.header.sign_and_build(&body)
    }
}

/// A typical CUCM ITL for a one-node cluster: ITLRecovery (SAST, signer), CallManager
/// (CCM+TFTP), TVS (CERTHASH form), CAPF (CERTHASH form).
pub fn cucm_itl(certs: &crate::pki::ClusterCerts, digest: Digest) -> Vec<u8> {
    TrustListBuilder::new("ITLFile.tlv", Signer::from_cert(&certs.itl_recovery))
        .record(RecordSpec::from_cert(function::SAST, &certs.itl_recovery))
        .record(RecordSpec::from_cert(
            function::CCM_TFTP,
            &certs.callmanager,
        ))
        .record(RecordSpec::from_cert(function::TVS, &certs.tvs).hash_only())
        .record(RecordSpec::from_cert(function::CAPF, &certs.capf).hash_only())
        .digest(digest)
        .build()
}

/// The empty "rollback" ITL (Prepare Cluster for Rollback to pre 8.0): signed, records with
/// functions only.
pub fn rollback_itl(certs: &crate::pki::ClusterCerts) -> Vec<u8> {
    TrustListBuilder::new("ITLFile.tlv", Signer::from_cert(&certs.itl_recovery))
        .record(RecordSpec::rollback(function::SAST))
        .record(RecordSpec::rollback(function::CCM_TFTP))
        .record(RecordSpec::rollback(function::TVS))
        .record(RecordSpec::rollback(function::CAPF))
        .build()
}

/// A signed file (`SEP<MAC>.cnf.xml.sgn`): header (FILENAME = `sgn_name`, version 1.2 like a
/// CUCM config) followed by `payload` unchanged.
pub fn signed_file(sgn_name: &str, payload: &[u8], signer: Signer, digest: Digest) -> Vec<u8> {
    HeaderSpec {
        version: (1, 2),
        signer_version: None,
        signer,
        digest,
        filename: sgn_name.to_owned(),
        timestamp: Some(DEFAULT_TIMESTAMP),
    }
    .sign_and_build(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::ClusterCerts;
    use rsa::pkcs1v15::Pkcs1v15Sign;
    use rsa::traits::SignatureScheme as _;

    fn be16(b: &[u8], at: usize) -> usize {
        usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
    }

    #[test]
    fn header_has_cucm_order_and_padding() {
        let certs = ClusterCerts::new("cucm-pub.example.com");
        let itl = cucm_itl(&certs, Digest::Sha1);
        let hl = be16(&itl, 8);
        assert_eq!(hl % 4, 0);
        assert_eq!(itl[10], 3);
        let after_signer = 13 + be16(&itl, 11);
        assert_eq!(
            itl[after_signer..after_signer + 18],
            [7, 0, 15, 8, 0, 1, 1, 9, 0, 8, 10, 0, 1, 0, 11, 0, 1, 2]
        );
        let sig_at = after_signer + 18;
        assert_eq!(itl[sig_at], 12);
        assert_eq!(be16(&itl, sig_at + 1), 256);
        let name_at = sig_at + 3 + 256;
        assert_eq!(itl[name_at], 14);
        assert_eq!(&itl[name_at + 3..name_at + 15], b"ITLFile.tlv\0");
        assert_eq!(itl[name_at + 15], 15);
        assert!(itl[name_at + 22..hl].iter().all(|&b| b == 0x0D));
        // The first record starts with RECORDLENGTH.
        assert_eq!(itl[hl..hl + 3], [1, 0, 2]);
    }

    #[test]
    fn signature_covers_the_file_without_tag_12() {
        let certs = ClusterCerts::new("cucm-pub.example.com");
        for digest in Digest::ALL {
            let itl = cucm_itl(&certs, digest);
            let sig_at = 13 + be16(&itl, 11) + 18;
            let sig_len = be16(&itl, sig_at + 1);
            let sig = &itl[sig_at + 3..sig_at + 3 + sig_len];
            let mut msg = itl[..sig_at].to_vec();
            msg.extend_from_slice(&itl[sig_at + 3 + sig_len..]);
            let key = certs.itl_recovery.rsa_key().public_key();
            let result = match digest {
                Digest::Sha1 => Pkcs1v15Sign::new::<Sha1>().verify(&key, &Sha1::digest(&msg), sig),
                Digest::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>().verify(
                    &key,
                    &sha2::Sha256::digest(&msg),
                    sig,
                ),
                Digest::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>().verify(
                    &key,
                    &sha2::Sha512::digest(&msg),
                    sig,
                ),
            };
            result.expect("signature verifies");
        }
    }

    #[test]
    fn records_are_in_cucm_field_order() {
        let certs = ClusterCerts::new("cucm-pub.example.com");
        let rec = RecordSpec::from_cert(function::TVS, &certs.tvs)
            .with_cert_hash()
            .encode();
        let mut tags = Vec::new();
        let mut at = 0;
        while at < rec.len() {
            tags.push(rec[at]);
            at += 3 + be16(&rec, at + 1);
        }
        assert_eq!(tags, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(be16(&rec, 3), rec.len());
        let hash_only = RecordSpec::from_cert(function::TVS, &certs.tvs)
            .hash_only()
            .encode();
        assert!(hash_only.len() < rec.len());
        assert_eq!(
            RecordSpec::rollback(function::TVS).encode(),
            [1, 0, 2, 0, 10, 4, 0, 2, 0, 21]
        );
    }

    #[test]
    fn builds_are_byte_identical() {
        let a = ClusterCerts::new("cucm-pub.example.com");
        let b = ClusterCerts::new("cucm-pub.example.com");
        assert_eq!(cucm_itl(&a, Digest::Sha512), cucm_itl(&b, Digest::Sha512));
        assert_eq!(rollback_itl(&a), rollback_itl(&b));
        let sgn = |c: &ClusterCerts| {
            signed_file(
                "SEP001122334455.cnf.xml.sgn",
                b"<device/>",
                Signer::from_cert(&c.callmanager),
                Digest::Sha256,
            )
        };
        assert_eq!(sgn(&a), sgn(&b));
        assert!(sgn(&a).ends_with(b"<device/>"));
    }
}
