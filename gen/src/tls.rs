//! TLS record and handshake message builders (RFC 5246 / RFC 8446 wire formats), enough to
//! write the clear-text part of a phone's handshakes: ClientHello / ServerHello (with
//! `supported_versions` and `key_share` for TLS 1.3), Certificate, CertificateRequest,
//! ServerKeyExchange, ServerHelloDone, ClientKeyExchange, CertificateVerify,
//! ChangeCipherSpec, alerts, and opaque records standing for encrypted ones.
//!
//! Messages are returned as bytes; [`records`] wraps a byte run (one or several handshake
//! messages) into records of at most `max_fragment` bytes, so a message can span records.

use crate::filler::Filler;

/// Wire version numbers.
pub mod version {
    /// SSL 3.0.
    pub const SSL30: u16 = 0x0300;
    /// TLS 1.0.
    pub const TLS10: u16 = 0x0301;
    /// TLS 1.1.
    pub const TLS11: u16 = 0x0302;
    /// TLS 1.2.
    pub const TLS12: u16 = 0x0303;
    /// TLS 1.3.
    pub const TLS13: u16 = 0x0304;
}

/// Record content types.
pub mod content_type {
    /// change_cipher_spec.
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// alert.
    pub const ALERT: u8 = 21;
    /// handshake.
    pub const HANDSHAKE: u8 = 22;
    /// application_data.
    pub const APPLICATION_DATA: u8 = 23;
}

/// Handshake message types.
pub mod handshake_type {
    /// client_hello.
    pub const CLIENT_HELLO: u8 = 1;
    /// server_hello.
    pub const SERVER_HELLO: u8 = 2;
    /// certificate.
    pub const CERTIFICATE: u8 = 11;
    /// server_key_exchange.
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    /// certificate_request.
    pub const CERTIFICATE_REQUEST: u8 = 13;
    /// server_hello_done.
    pub const SERVER_HELLO_DONE: u8 = 14;
    /// certificate_verify.
    pub const CERTIFICATE_VERIFY: u8 = 15;
    /// client_key_exchange.
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    /// finished.
    pub const FINISHED: u8 = 20;
}

/// Alert levels and descriptions used by the scenarios.
pub mod alert {
    /// warning.
    pub const WARNING: u8 = 1;
    /// fatal.
    pub const FATAL: u8 = 2;
    /// close_notify.
    pub const CLOSE_NOTIFY: u8 = 0;
    /// handshake_failure.
    pub const HANDSHAKE_FAILURE: u8 = 40;
    /// bad_certificate.
    pub const BAD_CERTIFICATE: u8 = 42;
    /// certificate_expired.
    pub const CERTIFICATE_EXPIRED: u8 = 45;
    /// certificate_unknown.
    pub const CERTIFICATE_UNKNOWN: u8 = 46;
    /// unknown_ca.
    pub const UNKNOWN_CA: u8 = 48;
    /// protocol_version.
    pub const PROTOCOL_VERSION: u8 = 70;
}

/// Cipher suites used by the scenarios.
pub mod suite {
    /// TLS_RSA_WITH_AES_128_CBC_SHA.
    pub const RSA_AES128_SHA: u16 = 0x002f;
    /// TLS_RSA_WITH_AES_256_CBC_SHA (AES256-SHA, seen in a CUCM 10.5/11 TVS trace).
    pub const RSA_AES256_SHA: u16 = 0x0035;
    /// TLS_RSA_WITH_AES_128_GCM_SHA256.
    pub const RSA_AES128_GCM_SHA256: u16 = 0x009c;
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
    pub const ECDHE_RSA_AES128_GCM_SHA256: u16 = 0xc02f;
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    pub const ECDHE_RSA_AES256_GCM_SHA384: u16 = 0xc030;
    /// TLS_AES_128_GCM_SHA256 (TLS 1.3).
    pub const TLS13_AES128_GCM_SHA256: u16 = 0x1301;
    /// TLS_AES_256_GCM_SHA384 (TLS 1.3).
    pub const TLS13_AES256_GCM_SHA384: u16 = 0x1302;
}

/// Extension numbers.
pub mod ext {
    /// server_name.
    pub const SERVER_NAME: u16 = 0;
    /// supported_groups.
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats.
    pub const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms.
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// extended_master_secret.
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    /// supported_versions.
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// psk_key_exchange_modes.
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    /// key_share.
    pub const KEY_SHARE: u16 = 51;
    /// renegotiation_info.
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Named group x25519.
pub const GROUP_X25519: u16 = 0x001d;
/// Named group secp256r1.
pub const GROUP_SECP256R1: u16 = 0x0017;

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    let v = u32::try_from(v).unwrap_or(u32::MAX).min(0x00ff_ffff);
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// `len:u8 || bytes`.
fn vec8(out: &mut Vec<u8>, data: &[u8]) {
    out.push(data.len().min(255) as u8);
    out.extend_from_slice(data);
}

/// `len:u16 || bytes`.
fn vec16(out: &mut Vec<u8>, data: &[u8]) {
    put_u16(out, data.len().min(0xffff) as u16);
    out.extend_from_slice(data);
}

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    put_u16(out, kind);
    vec16(out, body);
}

fn u16_list(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// One record: `type || version || len:u16 || fragment`. The caller keeps fragments at or
/// below 2^14 (+ 2048 for ciphertext) as the RFC requires.
pub fn record(content_type: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + fragment.len());
    out.push(content_type);
    put_u16(&mut out, version);
    vec16(&mut out, fragment);
    out
}

/// Wraps `data` into consecutive records of at most `max_fragment` bytes (at least 1), as a
/// TLS stack does when a handshake flight or one large message exceeds its record size.
pub fn records(content_type: u8, version: u16, data: &[u8], max_fragment: usize) -> Vec<u8> {
    let max = max_fragment.clamp(1, 16384);
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / max + 1));
    for chunk in data.chunks(max) {
        out.extend_from_slice(&record(content_type, version, chunk));
    }
    out
}

/// One handshake message: `type || len:u24 || body`.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.push(msg_type);
    put_u24(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// A ClientHello as a phone sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` in the hello body (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// The 32-byte random.
    pub random: [u8; 32],
    /// Session id (32 bytes for TLS 1.3 middlebox compatibility, else empty).
    pub session_id: Vec<u8>,
    /// Offered cipher suites.
    pub cipher_suites: Vec<u16>,
    /// SNI host name, if sent.
    pub server_name: Option<String>,
    /// `supported_versions` list (empty: the extension is not sent).
    pub supported_versions: Vec<u16>,
    /// `supported_groups`.
    pub groups: Vec<u16>,
    /// `signature_algorithms`.
    pub signature_algorithms: Vec<u16>,
    /// An x25519 key share (TLS 1.3 clients), if sent.
    pub key_share_x25519: Option<[u8; 32]>,
}

fn array32(f: &mut Filler) -> [u8; 32] {
    let mut a = [0u8; 32];
    a.copy_from_slice(&f.bytes(32));
    a
}

const SIG_ALGS: [u16; 6] = [0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0403];

impl ClientHello {
    /// A TLS 1.2 hello (or older: pass `max_version` 0x0301 for TLS 1.0 phones) offering
    /// ECDHE-RSA GCM and RSA CBC suites, as 78xx/88xx phones do.
    pub fn tls12(seed: u64, max_version: u16, server_name: Option<&str>) -> Self {
        let mut f = Filler::labelled(seed, "client-hello");
        ClientHello {
            legacy_version: max_version,
            random: array32(&mut f),
            session_id: Vec::new(),
            cipher_suites: vec![
                suite::ECDHE_RSA_AES256_GCM_SHA384,
                suite::ECDHE_RSA_AES128_GCM_SHA256,
                suite::RSA_AES256_SHA,
                suite::RSA_AES128_SHA,
            ],
            server_name: server_name.map(str::to_owned),
            supported_versions: Vec::new(),
            groups: vec![GROUP_SECP256R1],
            signature_algorithms: SIG_ALGS.to_vec(),
            key_share_x25519: None,
        }
    }

    /// A TLS 1.3 hello (also offering 1.2), with a 32-byte session id and an x25519 share.
    pub fn tls13(seed: u64, server_name: Option<&str>) -> Self {
        let mut f = Filler::labelled(seed, "client-hello-13");
        ClientHello {
            legacy_version: version::TLS12,
            random: array32(&mut f),
            session_id: f.bytes(32),
            cipher_suites: vec![
                suite::TLS13_AES256_GCM_SHA384,
                suite::TLS13_AES128_GCM_SHA256,
                suite::ECDHE_RSA_AES256_GCM_SHA384,
                suite::ECDHE_RSA_AES128_GCM_SHA256,
            ],
            server_name: server_name.map(str::to_owned),
            supported_versions: vec![version::TLS13, version::TLS12],
            groups: vec![GROUP_X25519, GROUP_SECP256R1],
            signature_algorithms: SIG_ALGS.to_vec(),
            key_share_x25519: Some(array32(&mut f)),
        }
    }

    /// The handshake message bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(256);
        put_u16(&mut body, self.legacy_version);
        body.extend_from_slice(&self.random);
        vec8(&mut body, &self.session_id);
        vec16(&mut body, &u16_list(&self.cipher_suites));
        vec8(&mut body, &[0]); // compression: null
        let mut exts = Vec::new();
        if let Some(name) = &self.server_name {
            let mut entry = vec![0u8]; // host_name
            vec16(&mut entry, name.as_bytes());
            let mut list = Vec::new();
            vec16(&mut list, &entry);
            extension(&mut exts, ext::SERVER_NAME, &list);
        }
        extension(&mut exts, ext::EXTENDED_MASTER_SECRET, &[]);
        extension(&mut exts, ext::RENEGOTIATION_INFO, &[0]);
        let mut groups = Vec::new();
        vec16(&mut groups, &u16_list(&self.groups));
        extension(&mut exts, ext::SUPPORTED_GROUPS, &groups);
        extension(&mut exts, ext::EC_POINT_FORMATS, &[1, 0]);
        let mut sigs = Vec::new();
        vec16(&mut sigs, &u16_list(&self.signature_algorithms));
        extension(&mut exts, ext::SIGNATURE_ALGORITHMS, &sigs);
        if let Some(share) = &self.key_share_x25519 {
            let mut entry = Vec::new();
            put_u16(&mut entry, GROUP_X25519);
            vec16(&mut entry, share);
            let mut list = Vec::new();
            vec16(&mut list, &entry);
            extension(&mut exts, ext::KEY_SHARE, &list);
            extension(&mut exts, ext::PSK_KEY_EXCHANGE_MODES, &[1, 1]);
        }
        if !self.supported_versions.is_empty() {
            let mut list = Vec::new();
            vec8(&mut list, &u16_list(&self.supported_versions));
            extension(&mut exts, ext::SUPPORTED_VERSIONS, &list);
        }
        vec16(&mut body, &exts);
        handshake(handshake_type::CLIENT_HELLO, &body)
    }
}

/// A ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` (the negotiated version for TLS ≤ 1.2; 0x0303 under TLS 1.3).
    pub legacy_version: u16,
    /// The 32-byte random.
    pub random: [u8; 32],
    /// Session id (echoed under TLS 1.3).
    pub session_id: Vec<u8>,
    /// Chosen suite.
    pub cipher_suite: u16,
    /// `supported_versions` selected version (TLS 1.3 only).
    pub selected_version: Option<u16>,
    /// The server's x25519 share (TLS 1.3 only).
    pub key_share_x25519: Option<[u8; 32]>,
}

impl ServerHello {
    /// A hello choosing `version` (≤ TLS 1.2) and `cipher_suite`.
    pub fn tls12(seed: u64, version: u16, cipher_suite: u16) -> Self {
        let mut f = Filler::labelled(seed, "server-hello");
        ServerHello {
            legacy_version: version,
            random: array32(&mut f),
            session_id: f.bytes(32),
            cipher_suite,
            selected_version: None,
            key_share_x25519: None,
        }
    }

    /// A TLS 1.3 hello answering `client` (session id echoed).
    pub fn tls13(seed: u64, client: &ClientHello) -> Self {
        let mut f = Filler::labelled(seed, "server-hello-13");
        ServerHello {
            legacy_version: version::TLS12,
            random: array32(&mut f),
            session_id: client.session_id.clone(),
            cipher_suite: suite::TLS13_AES256_GCM_SHA384,
            selected_version: Some(version::TLS13),
            key_share_x25519: Some(array32(&mut f)),
        }
    }

    /// The handshake message bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(128);
        put_u16(&mut body, self.legacy_version);
        body.extend_from_slice(&self.random);
        vec8(&mut body, &self.session_id);
        put_u16(&mut body, self.cipher_suite);
        body.push(0); // compression: null
        let mut exts = Vec::new();
        if let Some(v) = self.selected_version {
            extension(&mut exts, ext::SUPPORTED_VERSIONS, &v.to_be_bytes());
        }
        if let Some(share) = &self.key_share_x25519 {
            let mut entry = Vec::new();
            put_u16(&mut entry, GROUP_X25519);
            vec16(&mut entry, share);
            extension(&mut exts, ext::KEY_SHARE, &entry);
        }
        if self.selected_version.is_none() {
            extension(&mut exts, ext::RENEGOTIATION_INFO, &[0]);
            extension(&mut exts, ext::EXTENDED_MASTER_SECRET, &[]);
        }
        vec16(&mut body, &exts);
        handshake(handshake_type::SERVER_HELLO, &body)
    }
}

/// A TLS ≤ 1.2 Certificate message: the DER certificates, leaf first.
pub fn certificate(chain: &[&[u8]]) -> Vec<u8> {
    let total: usize = chain.iter().map(|c| 3 + c.len()).sum();
    let mut body = Vec::with_capacity(3 + total);
    put_u24(&mut body, total);
    for der in chain {
        put_u24(&mut body, der.len());
        body.extend_from_slice(der);
    }
    handshake(handshake_type::CERTIFICATE, &body)
}

/// A CertificateRequest asking for an RSA certificate (the phone then sends its LSC/MIC).
pub fn certificate_request() -> Vec<u8> {
    let mut body = vec![1u8, 1]; // one type: rsa_sign
    vec16(&mut body, &u16_list(&SIG_ALGS));
    vec16(&mut body, &[]); // no CA names
    handshake(handshake_type::CERTIFICATE_REQUEST, &body)
}

/// An ECDHE ServerKeyExchange (secp256r1, rsa_pkcs1_sha256) with filler point and signature
/// of `signature_len` bytes (the server key's modulus size).
pub fn server_key_exchange_ecdhe(seed: u64, signature_len: usize) -> Vec<u8> {
    let mut f = Filler::labelled(seed, "ske");
    let mut body = vec![3u8]; // named_curve
    put_u16(&mut body, GROUP_SECP256R1);
    let mut point = vec![4u8];
    point.extend_from_slice(&f.bytes(64));
    vec8(&mut body, &point);
    put_u16(&mut body, 0x0401);
    vec16(&mut body, &f.bytes(signature_len));
    handshake(handshake_type::SERVER_KEY_EXCHANGE, &body)
}

/// ServerHelloDone.
pub fn server_hello_done() -> Vec<u8> {
    handshake(handshake_type::SERVER_HELLO_DONE, &[])
}

/// An RSA ClientKeyExchange: the premaster secret encrypted to the server key
/// (`modulus_len` filler bytes).
pub fn client_key_exchange_rsa(seed: u64, modulus_len: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 + modulus_len);
    vec16(
        &mut body,
        &Filler::labelled(seed, "cke-rsa").bytes(modulus_len),
    );
    handshake(handshake_type::CLIENT_KEY_EXCHANGE, &body)
}

/// An ECDHE ClientKeyExchange (uncompressed secp256r1 point, filler).
pub fn client_key_exchange_ecdhe(seed: u64) -> Vec<u8> {
    let mut point = vec![4u8];
    point.extend_from_slice(&Filler::labelled(seed, "cke-ec").bytes(64));
    let mut body = Vec::new();
    vec8(&mut body, &point);
    handshake(handshake_type::CLIENT_KEY_EXCHANGE, &body)
}

/// A CertificateVerify (rsa_pkcs1_sha256) with a filler signature.
pub fn certificate_verify(seed: u64, signature_len: usize) -> Vec<u8> {
    let mut body = Vec::new();
    put_u16(&mut body, 0x0401);
    vec16(
        &mut body,
        &Filler::labelled(seed, "cv").bytes(signature_len),
    );
    handshake(handshake_type::CERTIFICATE_VERIFY, &body)
}

/// The ChangeCipherSpec record.
pub fn change_cipher_spec(version: u16) -> Vec<u8> {
    record(content_type::CHANGE_CIPHER_SPEC, version, &[1])
}

/// A clear-text alert record.
pub fn alert(version: u16, level: u8, description: u8) -> Vec<u8> {
    record(content_type::ALERT, version, &[level, description])
}

/// A record whose body stands for ciphertext: `len` filler bytes. Under TLS 1.3 every
/// encrypted record is `application_data`; under TLS ≤ 1.2 the encrypted Finished is a
/// `handshake` record and an encrypted alert an `alert` record.
pub fn opaque_record(content_type: u8, version: u16, len: usize, filler: &mut Filler) -> Vec<u8> {
    record(content_type, version, &filler.bytes(len))
}

/// Length of an encrypted TLS ≤ 1.2 Finished record body for a CBC-SHA suite (explicit IV,
/// 16-byte Finished, 20-byte MAC, padding to 16) or a GCM suite (8-byte nonce + 16 + tag).
pub fn encrypted_finished_len(cipher_suite: u16) -> usize {
    match cipher_suite {
        suite::RSA_AES128_SHA | suite::RSA_AES256_SHA => 16 + 48,
        _ => 8 + 16 + 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_parser::{TlsMessage, TlsMessageHandshake, parse_tls_extensions, parse_tls_plaintext};

    #[test]
    fn client_hello_13_parses_with_versions_and_share() {
        let hello = ClientHello::tls13(1, Some("cucm-pub.example.com"));
        let rec = record(content_type::HANDSHAKE, version::TLS10, &hello.encode());
        let (rest, plain) = parse_tls_plaintext(&rec).expect("parses");
        assert!(rest.is_empty());
        let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch))) = plain.msg.first()
        else {
            panic!("not a ClientHello: {:?}", plain.msg);
        };
        assert_eq!(ch.version.0, version::TLS12);
        let (_, exts) = parse_tls_extensions(ch.ext.expect("extensions")).expect("exts parse");
        let has_versions = exts.iter().any(|e| {
            matches!(e, tls_parser::TlsExtension::SupportedVersions(v) if v.iter().any(|x| x.0 == version::TLS13))
        });
        assert!(has_versions, "{exts:?}");
        assert!(
            exts.iter()
                .any(|e| matches!(e, tls_parser::TlsExtension::SNI(_)))
        );
    }

    #[test]
    fn server_hello_13_names_tls13() {
        let ch = ClientHello::tls13(1, None);
        let sh = ServerHello::tls13(2, &ch);
        assert_eq!(sh.session_id, ch.session_id);
        let rec = record(content_type::HANDSHAKE, version::TLS12, &sh.encode());
        let (_, plain) = parse_tls_plaintext(&rec).expect("parses");
        let Some(TlsMessage::Handshake(TlsMessageHandshake::ServerHello(h))) = plain.msg.first()
        else {
            panic!("not a ServerHello");
        };
        let (_, exts) = parse_tls_extensions(h.ext.expect("ext")).expect("ext parse");
        assert!(exts.iter().any(|e| matches!(
            e,
            tls_parser::TlsExtension::SupportedVersions(v) if v.first().map(|x| x.0) == Some(version::TLS13)
        )));
    }

    #[test]
    fn certificate_message_splits_across_records_and_rejoins() {
        let leaf = vec![0x30u8; 1500];
        let ca = vec![0x31u8; 900];
        let msg = certificate(&[&leaf, &ca]);
        assert_eq!(msg.len(), 4 + 3 + 3 + 1500 + 3 + 900);
        let recs = records(content_type::HANDSHAKE, version::TLS12, &msg, 1000);
        // Re-join the record bodies and check the message is intact.
        let mut pos = 0;
        let mut joined = Vec::new();
        let mut count = 0;
        while pos < recs.len() {
            let len = usize::from(u16::from_be_bytes([recs[pos + 3], recs[pos + 4]]));
            assert!(len <= 1000);
            joined.extend_from_slice(&recs[pos + 5..pos + 5 + len]);
            pos += 5 + len;
            count += 1;
        }
        assert_eq!(count, 3);
        assert_eq!(joined, msg);
        let (_, parsed) = tls_parser::parse_tls_message_handshake(&joined).expect("message");
        let TlsMessage::Handshake(TlsMessageHandshake::Certificate(c)) = parsed else {
            panic!("not a Certificate");
        };
        assert_eq!(c.cert_chain.len(), 2);
        assert_eq!(c.cert_chain[0].data, &leaf[..]);
    }

    #[test]
    fn alert_and_ccs_records() {
        assert_eq!(
            alert(version::TLS12, alert::FATAL, alert::UNKNOWN_CA),
            vec![21, 3, 3, 0, 2, 2, 48]
        );
        assert_eq!(change_cipher_spec(version::TLS10), vec![20, 3, 1, 0, 1, 1]);
        let mut f = Filler::new(3);
        let r = opaque_record(content_type::APPLICATION_DATA, version::TLS12, 40, &mut f);
        assert_eq!(r.len(), 45);
        assert_eq!(&r[..5], &[23, 3, 3, 0, 40]);
    }

    #[test]
    fn key_exchange_messages_have_consistent_lengths() {
        let cke = client_key_exchange_rsa(1, 256);
        assert_eq!(cke.len(), 4 + 2 + 256);
        assert_eq!(&cke[..4], &[16, 0, 1, 2]);
        let ske = server_key_exchange_ecdhe(1, 256);
        let (_, m) = tls_parser::parse_tls_message_handshake(&ske).expect("ske parses");
        assert!(matches!(
            m,
            TlsMessage::Handshake(TlsMessageHandshake::ServerKeyExchange(_))
        ));
        assert_eq!(server_hello_done(), vec![14, 0, 0, 0]);
        let cr = certificate_request();
        let (_, m) = tls_parser::parse_tls_message_handshake(&cr).expect("cr parses");
        assert!(matches!(
            m,
            TlsMessage::Handshake(TlsMessageHandshake::CertificateRequest(_))
        ));
    }
}
