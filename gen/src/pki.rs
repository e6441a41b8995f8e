//! Deterministic test PKI: committed RSA keys (`gen/keys/`) and X.509 certificates built with
//! rcgen, signed through the `rsa` crate (RSA PKCS#1 v1.5 with SHA-256, which is deterministic),
//! so no C crypto library is needed and the same inputs give the same DER on every run.
//!
//! Typical use:
//! ```
//! use itlscope_gen::pki::{CertSpec, KeyName};
//! let cm = CertSpec::callmanager("cucm-pub.example.com").self_signed();
//! let tvs = CertSpec::tvs("cucm-pub.example.com").self_signed();
//! assert_ne!(cm.der, tvs.der);
//! assert_eq!(cm.key, KeyName::CallManager);
//! ```

use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::{Pkcs1v15Encrypt, Pkcs1v15Sign};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use sha1::{Digest as _, Sha1};
use sha2::{Sha256, Sha512};
use std::sync::OnceLock;
use time::OffsetDateTime;
use time::macros::datetime;

/// The committed test keys (see `gen/keys/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyName {
    /// Cluster CA, 2048 bits.
    Ca,
    /// CallManager (CCM+TFTP), 2048 bits.
    CallManager,
    /// CallManager after "regenerate", 2048 bits.
    CallManagerRegenerated,
    /// TVS, 2048 bits.
    Tvs,
    /// TVS after "regenerate", 2048 bits.
    TvsRegenerated,
    /// CAPF, 2048 bits.
    Capf,
    /// Tomcat (HTTPS), 2048 bits.
    Tomcat,
    /// ITLRecovery (SAST that signs the ITL), 2048 bits.
    ItlRecovery,
    /// Another cluster's signer, 2048 bits.
    OtherCluster,
    /// A 1024-bit key.
    Rsa1024,
    /// A 4096-bit key.
    Rsa4096,
    /// A phone's own key (its MIC), 2048 bits: encrypted configs are encrypted to it.
    Phone,
}

impl KeyName {
    /// Every committed key.
    pub const ALL: [KeyName; 12] = [
        KeyName::Ca,
        KeyName::CallManager,
        KeyName::CallManagerRegenerated,
        KeyName::Tvs,
        KeyName::TvsRegenerated,
        KeyName::Capf,
        KeyName::Tomcat,
        KeyName::ItlRecovery,
        KeyName::OtherCluster,
        KeyName::Rsa1024,
        KeyName::Rsa4096,
        KeyName::Phone,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn pem(self) -> &'static str {
        match self {
            KeyName::Ca => include_str!("../keys/ca.pem"),
            KeyName::CallManager => include_str!("../keys/callmanager.pem"),
            KeyName::CallManagerRegenerated => include_str!("../keys/callmanager-regenerated.pem"),
            KeyName::Tvs => include_str!("../keys/tvs.pem"),
            KeyName::TvsRegenerated => include_str!("../keys/tvs-regenerated.pem"),
            KeyName::Capf => include_str!("../keys/capf.pem"),
            KeyName::Tomcat => include_str!("../keys/tomcat.pem"),
            KeyName::ItlRecovery => include_str!("../keys/itlrecovery.pem"),
            KeyName::OtherCluster => include_str!("../keys/other-cluster.pem"),
            KeyName::Rsa1024 => include_str!("../keys/rsa1024.pem"),
            KeyName::Rsa4096 => include_str!("../keys/rsa4096.pem"),
            KeyName::Phone => include_str!("../keys/phone.pem"),
        }
    }

    /// The loaded key (parsed once per process).
    pub fn key(self) -> &'static RsaKey {
        static KEYS: [OnceLock<RsaKey>; 12] = [const { OnceLock::new() }; 12];
        KEYS[self.index()].get_or_init(|| RsaKey::from_pem(self.pem()))
    }
}

/// Digest for RSA PKCS#1 v1.5 signatures, with its Cisco header code (tag 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Digest {
    /// SHA-1 (code 1).
    Sha1,
    /// SHA-256 (code 2).
    Sha256,
    /// SHA-512 (code 3).
    Sha512,
}

impl Digest {
    /// The three digests Cisco trust lists use.
    pub const ALL: [Digest; 3] = [Digest::Sha1, Digest::Sha256, Digest::Sha512];

    /// Header tag 8 code.
    pub fn code(self) -> u8 {
        match self {
            Digest::Sha1 => 1,
            Digest::Sha256 => 2,
            Digest::Sha512 => 3,
        }
    }
}

/// An RSA private key with its PKCS#1 public key DER.
#[derive(Debug)]
pub struct RsaKey {
    private: PrivateKey,
    public_pkcs1: Vec<u8>,
}

impl RsaKey {
    /// Parses a PKCS#8 PEM key. Only for the committed keys: panics on a bad one, which is a
    /// broken checkout, not bad input.
    fn from_pem(pem: &str) -> RsaKey {
        let private = PrivateKey::from_pkcs8_pem(pem).expect("committed test key is valid PKCS#8");
        let public = PublicKey::from(&private);
        let public_pkcs1 = public
            .to_pkcs1_der()
            .expect("RSA public key encodes")
            .into_vec();
        RsaKey {
            private,
            public_pkcs1,
        }
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.private.size() * 8
    }

    /// Modulus size in bytes (= signature length).
    pub fn size(&self) -> usize {
        self.private.size()
    }

    /// DER `RSAPublicKey` (PKCS#1), as trust-list record tag 7 carries it.
    pub fn public_key_pkcs1(&self) -> &[u8] {
        &self.public_pkcs1
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from(&self.private)
    }

    /// RSASSA-PKCS1-v1_5 signature over `parts` concatenated (deterministic).
    pub fn sign(&self, digest: Digest, parts: &[&[u8]]) -> Vec<u8> {
        let result = match digest {
            Digest::Sha1 => self
                .private
                .sign(Pkcs1v15Sign::new::<Sha1>(), &hash::<Sha1>(parts)),
            Digest::Sha256 => self
                .private
                .sign(Pkcs1v15Sign::new::<Sha256>(), &hash::<Sha256>(parts)),
            Digest::Sha512 => self
                .private
                .sign(Pkcs1v15Sign::new::<Sha512>(), &hash::<Sha512>(parts)),
        };
        result.expect("RSA signing with a valid key and a known digest succeeds")
    }

    /// RSAES-PKCS1-v1_5 encryption of `msg` to this key's public half (what a config
    /// encrypter does with the phone's certificate). The random padding comes from a
    /// [`SeededRng`] seeded with `seed`, so the same inputs give the same bytes.
    pub fn encrypt_pkcs1v15(&self, msg: &[u8], seed: &[u8]) -> Vec<u8> {
        PublicKey::from(&self.private)
            .encrypt(&mut SeededRng::new(seed), Pkcs1v15Encrypt, msg)
            .expect("a short message fits the RSA modulus")
    }

    /// RSAES-PKCS1-v1_5 decryption with the private key (what the phone does); `None` when
    /// the ciphertext does not decrypt to a well-formed padding.
    pub fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Option<Vec<u8>> {
        self.private.decrypt(Pkcs1v15Encrypt, ciphertext).ok()
    }
}

/// A deterministic generator for the randomness that RSA encryption padding needs: block
/// `i` is SHA-256(seed ‖ i as u64 big-endian). Reproducible test data only, not a secret.
#[derive(Debug, Clone)]
pub struct SeededRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    /// A generator for `seed` (any length; hashed to 32 bytes).
    pub fn new(seed: &[u8]) -> SeededRng {
        SeededRng {
            seed: Sha256::digest(seed).into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn fill(&mut self, dst: &mut [u8]) {
        for byte in dst {
            if self.used == self.block.len() {
                let mut hasher = Sha256::new();
                hasher.update(self.seed);
                hasher.update(self.counter.to_be_bytes());
                self.block = hasher.finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }
}

impl rsa::rand_core::TryRng for SeededRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.fill(&mut b);
        Ok(u32::from_be_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.fill(&mut b);
        Ok(u64::from_be_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill(dst);
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for SeededRng {}

fn hash<D: sha1::Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().to_vec()
}

impl rcgen::PublicKeyData for RsaKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_pkcs1
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for RsaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.private
            .sign(Pkcs1v15Sign::new::<Sha256>(), &hash::<Sha256>(&[msg]))
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// A distinguished name, written in DER as C, ST, L, O, OU, CN (OpenSSL's usual order) and
/// displayed the way CUCM writes trust-list names: `CN=..;OU=..;O=..;L=..;ST=..;C=..`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dn {
    /// Common name.
    pub cn: String,
    /// Organizational unit.
    pub ou: Option<String>,
    /// Organization.
    pub o: Option<String>,
    /// Locality.
    pub l: Option<String>,
    /// State.
    pub st: Option<String>,
    /// Country (2 letters).
    pub c: Option<String>,
}

impl Dn {
    /// The lab default organisation around `cn`.
    pub fn lab(cn: &str) -> Dn {
        Dn {
            cn: cn.to_owned(),
            ou: Some("VTG".into()),
            o: Some("Example Lab".into()),
            l: Some("Springfield".into()),
            st: Some("IL".into()),
            c: Some("US".into()),
        }
    }

    /// CUCM's display string: `CN=..;OU=..;O=..;L=..;ST=..;C=..` (absent parts left out).
    pub fn cucm_string(&self) -> String {
        let mut parts = vec![format!("CN={}", self.cn)];
        for (key, value) in [
            ("OU", &self.ou),
            ("O", &self.o),
            ("L", &self.l),
            ("ST", &self.st),
            ("C", &self.c),
        ] {
            if let Some(v) = value {
                parts.push(format!("{key}={v}"));
            }
        }
        parts.join(";")
    }

    fn to_rcgen(&self) -> rcgen::DistinguishedName {
        let mut dn = rcgen::DistinguishedName::new();
        let pairs = [
            (rcgen::DnType::CountryName, &self.c),
            (rcgen::DnType::StateOrProvinceName, &self.st),
            (rcgen::DnType::LocalityName, &self.l),
            (rcgen::DnType::OrganizationName, &self.o),
            (rcgen::DnType::OrganizationalUnitName, &self.ou),
        ];
        for (ty, value) in pairs {
            if let Some(v) = value {
                // X.520 requires countryName as PrintableString (Wireshark flags a
                // UTF8String there as malformed), as real CUCM certificates have it.
                match rcgen::string::PrintableString::try_from(v.as_str()) {
                    Ok(p) if ty == rcgen::DnType::CountryName => {
                        dn.push(ty, rcgen::DnValue::PrintableString(p))
                    }
                    _ => dn.push(ty, v.as_str()),
                }
            }
        }
        dn.push(rcgen::DnType::CommonName, self.cn.as_str());
        dn
    }
}

/// Fixed default validity: 2024-01-01 to 2034-01-01 (UTC).
pub const DEFAULT_NOT_BEFORE: OffsetDateTime = datetime!(2024-01-01 00:00:00 UTC);
/// See [`DEFAULT_NOT_BEFORE`].
pub const DEFAULT_NOT_AFTER: OffsetDateTime = datetime!(2034-01-01 00:00:00 UTC);

/// What a certificate should contain. Every field is public so scenarios can make
/// "regenerated" (new key and serial) or "expired" (old validity) variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    /// Subject.
    pub subject: Dn,
    /// Serial number, big-endian unsigned (DER adds a sign byte if needed).
    pub serial: Vec<u8>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The certified key.
    pub key: KeyName,
    /// A CA certificate (basic constraints CA:TRUE, keyCertSign).
    pub is_ca: bool,
    /// DNS subject alternative names.
    pub dns_names: Vec<String>,
}

impl CertSpec {
    /// A certificate with the lab DN around `cn`, default validity, not a CA.
    pub fn new(cn: &str, key: KeyName, serial: &[u8]) -> CertSpec {
        CertSpec {
            subject: Dn::lab(cn),
            serial: serial.to_vec(),
            not_before: DEFAULT_NOT_BEFORE,
            not_after: DEFAULT_NOT_AFTER,
            key,
            is_ca: false,
            dns_names: Vec::new(),
        }
    }

    /// A certificate for `host` that also names it as its DNS subject alternative name.
    fn named_host(host: &str, key: KeyName, serial: &[u8]) -> CertSpec {
        let mut spec = CertSpec::new(host, key, serial);
        spec.dns_names.push(host.to_owned());
        spec
    }

    /// A cluster CA.
    pub fn ca(cn: &str) -> CertSpec {
        let mut spec = CertSpec::new(cn, KeyName::Ca, &[0x10, 0x00, 0x00, 0x01]);
        spec.is_ca = true;
        spec
    }

    /// The CallManager certificate of `host` (CCM+TFTP role; signs config files).
    pub fn callmanager(host: &str) -> CertSpec {
        CertSpec::named_host(
            host,
            KeyName::CallManager,
            &[
                0x63, 0x30, 0x98, 0x1c, 0x01, 0x7c, 0x47, 0x43, 0x9e, 0x11, 0x52, 0x0a, 0x3b, 0x44,
                0x7d, 0x01,
            ],
        )
    }

    /// The TVS certificate of `host` (an 8-byte serial, like the `show itl` example).
    pub fn tvs(host: &str) -> CertSpec {
        CertSpec::new(
            host,
            KeyName::Tvs,
            &[0x2e, 0x3e, 0x1a, 0x7b, 0xda, 0xa6, 0x4d, 0x84],
        )
    }

    /// The CAPF certificate of `host` (`CN=CAPF-<8 hex>`).
    pub fn capf(_host: &str) -> CertSpec {
        CertSpec::new(
            "CAPF-2076a1a2",
            KeyName::Capf,
            &[
                0x61, 0x5d, 0xd8, 0x84, 0x0a, 0x63, 0xeb, 0x41, 0x19, 0xbe, 0x84, 0x3e, 0x20, 0x15,
                0x50, 0xe0,
            ],
        )
    }

    /// The Tomcat (HTTPS) certificate of `host`.
    pub fn tomcat(host: &str) -> CertSpec {
        CertSpec::named_host(
            host,
            KeyName::Tomcat,
            &[
                0x41, 0x8c, 0x54, 0x9a, 0xbc, 0x25, 0x1e, 0x2f, 0x26, 0x09, 0xec, 0xf6, 0xa0, 0x92,
                0xd2, 0x2f,
            ],
        )
    }

    /// The ITLRecovery certificate of `host` (`CN=ITLRECOVERY_<host>`; the SAST signing the ITL).
    pub fn itl_recovery(host: &str) -> CertSpec {
        CertSpec::new(
            &format!("ITLRECOVERY_{host}"),
            KeyName::ItlRecovery,
            &[
                0x5b, 0x73, 0x28, 0xd0, 0xa0, 0x29, 0x32, 0xd8, 0x16, 0xd5, 0x9e, 0xee, 0xf6, 0xec,
                0x9d, 0x18,
            ],
        )
    }

    /// The CA that issues phones' manufacturing-installed certificates (MICs). A stand-in
    /// for Cisco's manufacturing CA, with the lab CA key.
    pub fn manufacturing_ca() -> CertSpec {
        let mut spec = CertSpec::ca("Cisco Manufacturing CA SHA2");
        spec.subject = Dn {
            cn: "Cisco Manufacturing CA SHA2".into(),
            ou: None,
            o: Some("Cisco".into()),
            l: None,
            st: None,
            c: Some("US".into()),
        };
        spec.serial = vec![0x02];
        spec
    }

    /// A phone's MIC (`CN=CP-<model>-<device name>`, `O=Cisco Systems Inc.`) with the
    /// [`KeyName::Phone`] key; issue it with [`CertSpec::issued_by`] from
    /// [`CertSpec::manufacturing_ca`]. Encrypted configs are encrypted to this key.
    pub fn phone_mic(model: &str, device_name: &str, serial: &[u8]) -> CertSpec {
        let cn = format!("CP-{model}-{device_name}");
        let mut spec = CertSpec::new(&cn, KeyName::Phone, serial);
        spec.subject = Dn {
            cn,
            ou: None,
            o: Some("Cisco Systems Inc.".into()),
            l: None,
            st: None,
            c: Some("US".into()),
        };
        spec
    }

    /// Same certificate with another key (a "regenerated" certificate also gets a new serial:
    /// use [`CertSpec::with_serial`] too).
    pub fn with_key(mut self, key: KeyName) -> CertSpec {
        self.key = key;
        self
    }

    /// Same certificate with another serial.
    pub fn with_serial(mut self, serial: &[u8]) -> CertSpec {
        self.serial = serial.to_vec();
        self
    }

    /// Same certificate with another validity period.
    pub fn with_validity(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Same certificate with another subject.
    pub fn with_subject(mut self, subject: Dn) -> CertSpec {
        self.subject = subject;
        self
    }

    fn params(&self) -> rcgen::CertificateParams {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = self.subject.to_rcgen();
        params.serial_number = Some(rcgen::SerialNumber::from(self.serial.clone()));
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        params.subject_alt_names = self
            .dns_names
            .iter()
            .filter_map(|name| {
                rcgen::string::Ia5String::try_from(name.as_str())
                    .ok()
                    .map(rcgen::SanType::DnsName)
            })
            .collect();
        // Key identifier: SHA-1 of the PKCS#1 key (RFC 5280 method 1), fixed by the key.
        params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(
            Sha1::digest(self.key.key().public_key_pkcs1()).to_vec(),
        );
        if self.is_ca {
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params.key_usages = vec![
                rcgen::KeyUsagePurpose::KeyCertSign,
                rcgen::KeyUsagePurpose::CrlSign,
                rcgen::KeyUsagePurpose::DigitalSignature,
            ];
        } else {
            params.key_usages = vec![
                rcgen::KeyUsagePurpose::DigitalSignature,
                rcgen::KeyUsagePurpose::KeyEncipherment,
            ];
            params.extended_key_usages = vec![
                rcgen::ExtendedKeyUsagePurpose::ServerAuth,
                rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            ];
        }
        params
    }

    /// A self-signed certificate (what CUCM makes for CallManager, TVS, CAPF, ITLRecovery).
    pub fn self_signed(&self) -> Cert {
        let der = self
            .params()
            .self_signed(self.key.key())
            .expect("rcgen builds a certificate from fixed, valid parameters")
            .der()
            .to_vec();
        Cert {
            der,
            key: self.key,
            subject: self.subject.clone(),
            issuer: self.subject.clone(),
            serial: self.serial.clone(),
        }
    }

    /// A certificate issued by `issuer` (a CA certificate made by [`CertSpec::self_signed`]).
    pub fn issued_by(&self, issuer: &Cert) -> Cert {
        let mut issuer_params = rcgen::CertificateParams::default();
        issuer_params.distinguished_name = issuer.subject.to_rcgen();
        issuer_params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(
            Sha1::digest(issuer.key.key().public_key_pkcs1()).to_vec(),
        );
        let issuer_signer = rcgen::Issuer::new(issuer_params, issuer.key.key());
        let mut params = self.params();
        params.use_authority_key_identifier_extension = true;
        let der = params
            .signed_by(self.key.key(), &issuer_signer)
            .expect("rcgen builds a certificate from fixed, valid parameters")
            .der()
            .to_vec();
        Cert {
            der,
            key: self.key,
            subject: self.subject.clone(),
            issuer: issuer.subject.clone(),
            serial: self.serial.clone(),
        }
    }
}

/// A built certificate and what a trust list needs from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    /// DER X.509 certificate.
    pub der: Vec<u8>,
    /// The certified key.
    pub key: KeyName,
    /// Subject.
    pub subject: Dn,
    /// Issuer.
    pub issuer: Dn,
    /// Serial (big-endian unsigned, as given).
    pub serial: Vec<u8>,
}

impl Cert {
    /// Subject as CUCM writes it into trust lists.
    pub fn subject_string(&self) -> String {
        self.subject.cucm_string()
    }

    /// Issuer as CUCM writes it into trust lists.
    pub fn issuer_string(&self) -> String {
        self.issuer.cucm_string()
    }

    /// The certified key.
    pub fn rsa_key(&self) -> &'static RsaKey {
        self.key.key()
    }

    /// The PKCS#1 public key (record tag 7).
    pub fn public_key_pkcs1(&self) -> &'static [u8] {
        self.key.key().public_key_pkcs1()
    }

    /// SHA-1 of the DER (what `show itl` prints, and the CERTHASH of TVS/CAPF records).
    pub fn sha1(&self) -> [u8; 20] {
        Sha1::digest(&self.der).into()
    }

    /// The certificate's own `signatureValue` bytes (record tag 8).
    pub fn signature_value(&self) -> Vec<u8> {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.der)
            .expect("a certificate built by rcgen parses");
        cert.signature_value.data.to_vec()
    }
}

/// The usual certificates of a one-node CUCM cluster, all self-signed as CUCM makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterCerts {
    /// CallManager certificate (CCM+TFTP).
    pub callmanager: Cert,
    /// TVS certificate.
    pub tvs: Cert,
    /// CAPF certificate.
    pub capf: Cert,
    /// Tomcat certificate.
    pub tomcat: Cert,
    /// ITLRecovery certificate (signs the ITL).
    pub itl_recovery: Cert,
}

impl ClusterCerts {
    /// The certificates of a cluster whose publisher is `host`.
    pub fn new(host: &str) -> ClusterCerts {
        ClusterCerts {
            callmanager: CertSpec::callmanager(host).self_signed(),
            tvs: CertSpec::tvs(host).self_signed(),
            capf: CertSpec::capf(host).self_signed(),
            tomcat: CertSpec::tomcat(host).self_signed(),
            itl_recovery: CertSpec::itl_recovery(host).self_signed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::SignatureScheme as _;

    #[test]
    fn keys_have_their_documented_sizes() {
        assert_eq!(KeyName::Rsa1024.key().bits(), 1024);
        assert_eq!(KeyName::Rsa4096.key().bits(), 4096);
        for name in KeyName::ALL {
            if !matches!(name, KeyName::Rsa1024 | KeyName::Rsa4096) {
                assert_eq!(name.key().bits(), 2048, "{name:?}");
            }
        }
    }

    #[test]
    fn certificates_are_byte_identical_across_builds() {
        let a = ClusterCerts::new("cucm-pub.example.com");
        let b = ClusterCerts::new("cucm-pub.example.com");
        assert_eq!(a, b);
        let ca = CertSpec::ca("Lab CA").self_signed();
        let issued = CertSpec::tomcat("cucm-pub.example.com").issued_by(&ca);
        assert_eq!(
            issued.der,
            CertSpec::tomcat("cucm-pub.example.com").issued_by(&ca).der
        );
        assert_ne!(issued.der, a.tomcat.der);
    }

    #[test]
    fn certificate_fields_round_trip_through_x509_parser() {
        let cert = CertSpec::tvs("cucm-pub.example.com")
            .with_serial(&[0x80, 0x01])
            .with_validity(
                datetime!(2010-01-01 00:00:00 UTC),
                datetime!(2012-01-01 00:00:00 UTC),
            )
            .self_signed();
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert.der).expect("parses");
        assert_eq!(parsed.tbs_certificate.raw_serial(), &[0x00, 0x80, 0x01]);
        assert_eq!(
            parsed.validity().not_after.timestamp(),
            datetime!(2012-01-01 00:00:00 UTC).unix_timestamp()
        );
        assert_eq!(
            parsed.public_key().subject_public_key.data.as_ref(),
            cert.public_key_pkcs1()
        );
        assert_eq!(
            cert.subject_string(),
            "CN=cucm-pub.example.com;OU=VTG;O=Example Lab;L=Springfield;ST=IL;C=US"
        );
    }

    #[test]
    fn seeded_encryption_is_reproducible_and_decrypts() {
        let key = KeyName::Phone.key();
        let a = key.encrypt_pkcs1v15(b"0123456789abcdef", b"seed");
        assert_eq!(a, key.encrypt_pkcs1v15(b"0123456789abcdef", b"seed"));
        assert_ne!(a, key.encrypt_pkcs1v15(b"0123456789abcdef", b"other seed"));
        assert_eq!(a.len(), 256);
        assert_eq!(
            key.decrypt_pkcs1v15(&a).as_deref(),
            Some(&b"0123456789abcdef"[..])
        );
        assert_ne!(
            KeyName::Tvs.key().decrypt_pkcs1v15(&a).as_deref(),
            Some(&b"0123456789abcdef"[..])
        );
    }

    #[test]
    fn phone_mic_is_issued_by_the_manufacturing_ca() {
        let ca = CertSpec::manufacturing_ca().self_signed();
        let mic = CertSpec::phone_mic("8845", "SEP00005E005322", &[0x7a, 0x22]).issued_by(&ca);
        assert_eq!(mic.key, KeyName::Phone);
        assert_eq!(
            mic.subject_string(),
            "CN=CP-8845-SEP00005E005322;O=Cisco Systems Inc.;C=US"
        );
        assert_eq!(
            mic.issuer_string(),
            "CN=Cisco Manufacturing CA SHA2;O=Cisco;C=US"
        );
    }

    #[test]
    fn certificate_signature_verifies_with_the_issuer_key() {
        let ca = CertSpec::ca("Lab CA").self_signed();
        let cert = CertSpec::callmanager("cucm-pub.example.com").issued_by(&ca);
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert.der).expect("parses");
        let tbs_hash = Sha256::digest(parsed.tbs_certificate.as_ref());
        let scheme = Pkcs1v15Sign::new::<Sha256>();
        scheme
            .verify(
                &ca.rsa_key().public_key(),
                &tbs_hash,
                &cert.signature_value(),
            )
            .expect("CA signature verifies");
    }
}
