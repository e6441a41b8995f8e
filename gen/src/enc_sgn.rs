//! Encrypted phone configs, `SEP<MAC>.cnf.xml.enc.sgn`, in certutils' `enccnf` layout
//! (trust-list-format.md §8), and the reduced `SEP<MAC>.cnf.xml.sgn` that goes with them.
//!
//! Header: version 2.0, tags 1–15 as for a `.sgn`, then
//! `16{17{18, 19, 20}, 21{22, 23, 24, 25}}, 26, 27`, padding. Payload:
//! `AES-128-CBC(key, IV, xml ‖ 0x0D × pad)` with `pad = 16 − (len mod 16)` (1..16 carriage
//! returns, not PKCS#7). Tag 25 is the AES key RSA-encrypted (PKCS#1 v1.5) to the phone's key,
//! tag 27 the hash (tag 26 code) of the XML before padding. The signature covers the whole
//! file without tag 12, as for any signed file. Re-exported by [`crate::trustlist`].
//!
//! ```
//! use itlscope_gen::pki::{CertSpec, KeyName};
//! use itlscope_gen::trustlist::{EncryptedConfigBuilder, Signer};
//! let cm = CertSpec::callmanager("cucm-pub.example.com").self_signed();
//! let file = EncryptedConfigBuilder::new(
//!     "SEP001122334455.cnf.xml.enc.sgn",
//!     Signer::from_cert(&cm),
//!     KeyName::Phone,
//! )
//! .build(b"<device/>");
//! assert_eq!(file[..5], [1, 0, 2, 2, 0]);
//! ```

use crate::pki::{Digest, KeyName};
use crate::trustlist::{DEFAULT_TIMESTAMP, HeaderSpec, Signer, push_tlv};
use aes::Aes128;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use md5::Md5;
use sha1::{Digest as _, Sha1};
use sha2::{Sha256, Sha512};

/// Tag numbers of the `.enc.sgn` encryption elements (certutils names).
pub mod tag {
    /// `HEADER_ENCRYPTION_INFO`: container of 17 and 21.
    pub const ENCRYPTION_INFO: u8 = 16;
    /// `HEADER_ENCRYPTION_IV_INFO`: container of 18, 19, 20.
    pub const IV_INFO: u8 = 17;
    /// `HEADER_ENCRYPTION_UNKNOWN1`: one byte, written 0.
    pub const UNKNOWN1: u8 = 18;
    /// `HEADER_ENCRYPTION_IV`: the 16-byte AES-CBC IV.
    pub const IV: u8 = 19;
    /// `HEADER_ENCRYPTION_PADDING`: u16, pad bytes appended to the plaintext.
    pub const PADDING: u8 = 20;
    /// `HEADER_ENCRYPTION_KEY_INFO`: container of 22..25.
    pub const KEY_INFO: u8 = 21;
    /// `HEADER_ENCRYPTION_UNKNOWN2`: one byte, written 0.
    pub const UNKNOWN2: u8 = 22;
    /// `HEADER_ENCRYPTION_KEY_SIZE`: u16, 8 × length of tag 25.
    pub const KEY_SIZE: u8 = 23;
    /// `HEADER_ENCRYPTION_KEY_ALGORITHM`: one byte, written 1.
    pub const KEY_ALGORITHM: u8 = 24;
    /// `HEADER_ENCRYPTION_KEY`: the RSA-encrypted AES key.
    pub const KEY: u8 = 25;
    /// `HEADER_ENCRYPTION_HASH_ALGORITHM`: one byte, digest code.
    pub const HASH_ALGORITHM: u8 = 26;
    /// `HEADER_ENCRYPTION_HASH`: hash of the plaintext before padding.
    pub const HASH: u8 = 27;
}

/// AES block size.
const BLOCK: usize = 16;

/// Number of carriage returns appended before encryption: `16 − (len mod 16)`, so 1..=16.
pub fn pad_len(plaintext_len: usize) -> usize {
    BLOCK - plaintext_len % BLOCK
}

/// `AES-128-CBC(key, iv, xml ‖ 0x0D × pad_len(xml.len()))`.
pub fn encrypt_payload(key: &[u8; 16], iv: &[u8; 16], xml: &[u8]) -> Vec<u8> {
    let mut buf = xml.to_vec();
    buf.extend(std::iter::repeat_n(0x0D, pad_len(xml.len())));
    let len = buf.len();
    cbc::Encryptor::<Aes128>::new(key.into(), iv.into())
        .encrypt_padded::<NoPadding>(&mut buf, len)
        .expect("the carriage-return padding makes whole blocks");
    buf
}

/// AES-128-CBC decryption without removing any padding (the caller drops tag 20's count).
/// `None` when the ciphertext is not a whole number of blocks.
pub fn decrypt_payload(key: &[u8; 16], iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let mut buf = ciphertext.to_vec();
    let len = cbc::Decryptor::<Aes128>::new(key.into(), iv.into())
        .decrypt_padded::<NoPadding>(&mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

fn digest_of(digest: Digest, data: &[u8]) -> Vec<u8> {
    match digest {
        Digest::Sha1 => Sha1::digest(data).to_vec(),
        Digest::Sha256 => Sha256::digest(data).to_vec(),
        Digest::Sha512 => Sha512::digest(data).to_vec(),
    }
}

/// 16 bytes derived from `label` and `name`: a reproducible AES key or IV per file.
fn derived(label: &str, name: &str) -> [u8; 16] {
    let hash = Sha256::digest(format!("{label}\0{name}").as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&hash[..16]);
    out
}

/// Builds a `SEP<MAC>.cnf.xml.enc.sgn`. Fields are public so tests can forge odd files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedConfigBuilder {
    /// Header fields (version 2.0, FILENAME = the `.enc.sgn` name).
    pub header: HeaderSpec,
    /// The AES-128 key (tag 25 carries it encrypted).
    pub aes_key: [u8; 16],
    /// The CBC IV (tag 19).
    pub iv: [u8; 16],
    /// The phone key the AES key is encrypted to.
    pub device_key: KeyName,
    /// Seed of the RSA encryption padding.
    pub rsa_seed: Vec<u8>,
    /// Algorithm of the plaintext hash (tags 26, 27).
    pub hash: Digest,
}

impl EncryptedConfigBuilder {
    /// An `.enc.sgn` named `enc_sgn_name`, signed by `signer` with SHA-1, encrypted to
    /// `device_key`; AES key, IV and RSA seed derived from the name (reproducible), SHA-1
    /// plaintext hash, [`DEFAULT_TIMESTAMP`].
    pub fn new(enc_sgn_name: &str, signer: Signer, device_key: KeyName) -> Self {
        EncryptedConfigBuilder {
            header: HeaderSpec {
                version: (2, 0),
                signer_version: None,
                signer,
                digest: Digest::Sha1,
                filename: enc_sgn_name.to_owned(),
                timestamp: Some(DEFAULT_TIMESTAMP),
            },
            aes_key: derived("aes-key", enc_sgn_name),
            iv: derived("iv", enc_sgn_name),
            device_key,
            rsa_seed: format!("rsa-seed\0{enc_sgn_name}").into_bytes(),
            hash: Digest::Sha1,
        }
    }

    /// Sets the AES key.
    pub fn aes_key(mut self, key: [u8; 16]) -> Self {
        self.aes_key = key;
        self
    }

    /// Sets the IV.
    pub fn iv(mut self, iv: [u8; 16]) -> Self {
        self.iv = iv;
        self
    }

    /// Sets the plaintext hash algorithm (tag 26).
    pub fn hash(mut self, digest: Digest) -> Self {
        self.hash = digest;
        self
    }

    /// Sets the signature digest (tag 8).
    pub fn digest(mut self, digest: Digest) -> Self {
        self.header.digest = digest;
        self
    }

    /// The RSA-encrypted AES key (tag 25).
    pub fn encrypted_key(&self) -> Vec<u8> {
        self.device_key
            .key()
            .encrypt_pkcs1v15(&self.aes_key, &self.rsa_seed)
    }

    /// Tags 16–27 for a plaintext `xml`, encoded in certutils' order.
    pub fn encryption_elements(&self, xml: &[u8]) -> Vec<u8> {
        let pad = u16::try_from(pad_len(xml.len())).expect("1..=16");
        let mut iv_info = Vec::new();
        push_tlv(&mut iv_info, tag::UNKNOWN1, &[0]);
        push_tlv(&mut iv_info, tag::IV, &self.iv);
        push_tlv(&mut iv_info, tag::PADDING, &pad.to_be_bytes());

        let key = self.encrypted_key();
        let key_bits = u16::try_from(key.len() * 8).expect("RSA key of at most 8191 bits");
        let mut key_info = Vec::new();
        push_tlv(&mut key_info, tag::UNKNOWN2, &[0]);
        push_tlv(&mut key_info, tag::KEY_SIZE, &key_bits.to_be_bytes());
        push_tlv(&mut key_info, tag::KEY_ALGORITHM, &[1]);
        push_tlv(&mut key_info, tag::KEY, &key);

        let mut info = Vec::new();
        push_container(&mut info, tag::IV_INFO, &iv_info);
        push_container(&mut info, tag::KEY_INFO, &key_info);

        let mut out = Vec::new();
        push_container(&mut out, tag::ENCRYPTION_INFO, &info);
        push_tlv(&mut out, tag::HASH_ALGORITHM, &[self.hash.code()]);
        push_tlv(&mut out, tag::HASH, &digest_of(self.hash, xml));
        out
    }

    /// The signed, encrypted file for the plaintext config `xml`.
    pub fn build(&self, xml: &[u8]) -> Vec<u8> {
        let cipher = encrypt_payload(&self.aes_key, &self.iv, xml);
        self.header
            .sign_and_build_with(&self.encryption_elements(xml), &cipher)
    }
}

/// A container element: tag, length of the nested elements, then those elements.
fn push_container(out: &mut Vec<u8>, tag: u8, nested: &[u8]) {
    let len = u16::try_from(nested.len()).expect("container fits a u16 length");
    out.push(tag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(nested);
}

/// What the reduced config next to an `.enc.sgn` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubConfig<'a> {
    /// `<loadInformation>`.
    pub load_information: &'a str,
    /// The CAPF node (`<capfList>`).
    pub capf_host: &'a str,
    /// DER of the certificate the config is encrypted to; `<certHash>` is its MD5.
    pub device_cert_der: &'a [u8],
}

/// The reduced `SEP<MAC>.cnf.xml` that `enccnf` writes next to the `.enc.sgn`: not a full
/// config, says `<encrConfig>true</encrConfig>` and names the phone certificate by MD5, so
/// the phone knows to fetch the encrypted one.
pub fn encrypted_config_stub_xml(stub: &StubConfig<'_>) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <device>\n\
         <fullConfig>false</fullConfig>\n\
         <ipAddressMode>0</ipAddressMode>\n\
         <loadInformation>{load}</loadInformation>\n\
         <capfAuthMode>0</capfAuthMode>\n\
         <capfList><capf><phonePort>3804</phonePort><processNodeName>{capf}</processNodeName></capf></capfList>\n\
         <certHash>{hash}</certHash>\n\
         <encrConfig>true</encrConfig>\n\
         </device>\n",
        load = stub.load_information,
        capf = stub.capf_host,
        hash = hex_lower(&Md5::digest(stub.device_cert_der)),
    )
    .into_bytes()
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::CertSpec;

    fn be16(b: &[u8], at: usize) -> usize {
        usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
    }

    /// (tag, offset, length) of every header element after HEADER_LENGTH.
    fn header_tags(file: &[u8]) -> Vec<(u8, usize, usize)> {
        let hl = be16(file, 8);
        let mut at = 10;
        let mut out = Vec::new();
        while at < hl {
            let t = file[at];
            if t == 0x0D {
                out.push((t, at, 0));
                at += 1;
                continue;
            }
            let len = be16(file, at + 1);
            out.push((t, at, len));
            at += if [3, 7, 9, 16, 17, 21].contains(&t) {
                3
            } else {
                3 + len
            };
        }
        assert_eq!(at, hl);
        out
    }

    #[test]
    fn carriage_return_padding_is_one_to_sixteen() {
        assert_eq!(pad_len(0), 16);
        assert_eq!(pad_len(15), 1);
        assert_eq!(pad_len(16), 16);
        assert_eq!(pad_len(17), 15);
        let key = [7; 16];
        let iv = [9; 16];
        for len in [0, 1, 15, 16, 17, 100] {
            let xml = vec![b'x'; len];
            let cipher = encrypt_payload(&key, &iv, &xml);
            assert_eq!(cipher.len(), len + pad_len(len));
            let plain = decrypt_payload(&key, &iv, &cipher).expect("whole blocks");
            assert_eq!(&plain[..len], &xml[..]);
            assert!(plain[len..].iter().all(|&b| b == 0x0D));
        }
        assert_eq!(decrypt_payload(&key, &iv, &[0; 15]), None);
    }

    #[test]
    fn layout_follows_certutils() {
        let cm = CertSpec::callmanager("cucm-pub.example.com").self_signed();
        let xml = b"<device><fullConfig>true</fullConfig></device>\n";
        let builder = EncryptedConfigBuilder::new(
            "SEP001122334455.cnf.xml.enc.sgn",
            Signer::from_cert(&cm),
            KeyName::Phone,
        );
        let file = builder.build(xml);
        assert_eq!(file[..5], [1, 0, 2, 2, 0]);
        let tags: Vec<u8> = header_tags(&file)
            .iter()
            .map(|&(t, _, _)| t)
            .filter(|&t| t != 0x0D)
            .collect();
        assert_eq!(
            tags,
            [
                3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                26, 27
            ]
        );
        let find = |t: u8| {
            header_tags(&file)
                .into_iter()
                .find(|&(tag, _, _)| tag == t)
                .expect("tag present")
        };
        // Container lengths count exactly their children.
        let (_, iv_info, iv_info_len) = find(17);
        assert_eq!(iv_info_len, 4 + 19 + 5);
        assert_eq!(find(21).1, iv_info + 3 + iv_info_len);
        let (_, info, info_len) = find(16);
        assert_eq!(find(26).1, info + 3 + info_len);
        let (_, key_at, key_len) = find(25);
        assert_eq!(key_len, 256);
        assert_eq!(be16(&file, find(23).1 + 3), 2048);
        let (_, pad_at, _) = find(20);
        let pad = be16(&file, pad_at + 3);
        assert_eq!(pad, 16 - xml.len() % 16);
        let (_, hash_at, hash_len) = find(27);
        assert_eq!(
            &file[hash_at + 3..hash_at + 3 + hash_len],
            &Sha1::digest(xml)[..]
        );

        // The phone's side: RSA-decrypt the key, AES-decrypt, drop the padding.
        let key = KeyName::Phone
            .key()
            .decrypt_pkcs1v15(&file[key_at + 3..key_at + 3 + key_len])
            .expect("decrypts");
        assert_eq!(key, builder.aes_key);
        let hl = be16(&file, 8);
        assert_eq!(hl % 4, 0);
        let plain = decrypt_payload(&builder.aes_key, &builder.iv, &file[hl..]).expect("blocks");
        assert_eq!(&plain[..plain.len() - pad], xml);
    }

    #[test]
    fn builds_are_byte_identical_and_differ_per_name() {
        let cm = CertSpec::callmanager("cucm-pub.example.com").self_signed();
        let build = |name: &str| {
            EncryptedConfigBuilder::new(name, Signer::from_cert(&cm), KeyName::Phone)
                .build(b"<device/>")
        };
        assert_eq!(build("SEPA.cnf.xml.enc.sgn"), build("SEPA.cnf.xml.enc.sgn"));
        assert_ne!(build("SEPA.cnf.xml.enc.sgn"), build("SEPB.cnf.xml.enc.sgn"));
    }

    #[test]
    fn stub_names_the_certificate_by_md5() {
        let xml = encrypted_config_stub_xml(&StubConfig {
            load_information: "sip8845_65.14-2-1-0001-14",
            capf_host: "cucm-pub.example.com",
            device_cert_der: b"abc",
        });
        let text = String::from_utf8(xml).expect("utf-8");
        assert!(text.contains("<certHash>900150983cd24fb0d6963f7d28e17f72</certHash>"));
        assert!(text.contains("<encrConfig>true</encrConfig>"));
        assert!(text.contains("<fullConfig>false</fullConfig>"));
    }
}
