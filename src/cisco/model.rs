//! The parsed shape of trust lists and signed files, shared by the parsers, the verifier,
//! `show` and the diagnosis. Values borrow the file's bytes; every element keeps its offset.

use std::net::Ipv4Addr;

/// One TLV element as found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// Tag byte.
    pub tag: u8,
    /// Byte offset of the tag byte in the file.
    pub offset: usize,
    /// The value (empty for padding; for a container, empty: its children follow as their
    /// own elements).
    pub value: &'a [u8],
    /// True for a container tag (3, 7, 9, 16, 17, 21), whose length counts the nested TLVs.
    pub container: bool,
    /// The container's length field, for containers.
    pub container_len: u16,
}

/// What a file is, decided by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Identity Trust List (`ITLFile.tlv`, `ITLSEP<MAC>.tlv`).
    Itl,
    /// Certificate Trust List (`CTLFile.tlv`, `CTLSEP<MAC>.tlv`).
    Ctl,
    /// A signed file: header + opaque payload (`.sgn`, `.enc.sgn`, firmware `.loads`/`.sbn`).
    Signed,
}

impl FileFormat {
    /// JSON name: `itl`, `ctl` or `signed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Itl => "itl",
            FileFormat::Ctl => "ctl",
            FileFormat::Signed => "signed",
        }
    }
}

/// The header shared by trust lists and signed files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header<'a> {
    /// Tag 1: (major, minor).
    pub version: (u8, u8),
    /// Tag 2: offset where records or payload begin.
    pub header_length: u16,
    /// Tag 4, NUL stripped.
    pub signer_name: Option<&'a [u8]>,
    /// Tag 5, raw bytes.
    pub signer_serial: Option<&'a [u8]>,
    /// Tag 6, NUL stripped.
    pub signer_issuer: Option<&'a [u8]>,
    /// Tag 8 digest code (1 SHA-1, 2 SHA-256, 3 SHA-512).
    pub digest_algorithm: Option<u8>,
    /// Tag 10 (0 = RSA).
    pub signature_algorithm: Option<u8>,
    /// Tag 11 modulus code (signature length `64 << code`).
    pub modulus_code: Option<u8>,
    /// Tag 12: offset of the tag byte and the signature bytes.
    pub signature: Option<(usize, &'a [u8])>,
    /// Tag 14, NUL stripped.
    pub filename: Option<&'a [u8]>,
    /// Tag 15, Unix seconds.
    pub timestamp: Option<u32>,
    /// Tag 28 (ITL "signer version"), (major, minor).
    pub signer_version: Option<(u8, u8)>,
    /// Number of 0x0D padding bytes.
    pub padding: usize,
    /// Every element in file order (including unknown tags, kept raw).
    pub elements: Vec<Element<'a>>,
    /// The digest of the signed message by `digest_algorithm`, when the file's bytes were
    /// not kept (only the header was, issue 20): a signature check then uses it instead of
    /// hashing the bytes it is given. Never set by parsing.
    pub signed_digest: Option<&'a [u8]>,
}

/// Record function (role) codes, kept raw so unknown ones survive.
pub mod function {
    /// System Administrator Security Token: may sign the trust list.
    pub const SAST: u16 = 0;
    /// CallManager.
    pub const CCM: u16 = 1;
    /// CallManager + TFTP: signs config files.
    pub const CCM_TFTP: u16 = 2;
    /// TFTP.
    pub const TFTP: u16 = 3;
    /// Certificate Authority Proxy Function.
    pub const CAPF: u16 = 4;
    /// Application server (HTTPS).
    pub const APP_SERVER: u16 = 7;
    /// Trust Verification Service.
    pub const TVS: u16 = 21;

    /// JSON name: "SAST", "CCM", "CCM+TFTP", "TFTP", "CAPF", "APP-SERVER", "TVS" or "UNKNOWN(n)".
    pub fn name(code: u16) -> String {
        match code {
            SAST => "SAST".into(),
            CCM => "CCM".into(),
            CCM_TFTP => "CCM+TFTP".into(),
            TFTP => "TFTP".into(),
            CAPF => "CAPF".into(),
            APP_SERVER => "APP-SERVER".into(),
            TVS => "TVS".into(),
            other => format!("UNKNOWN({other})"),
        }
    }
}

/// One trust-list record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record<'a> {
    /// Offset of the record's first byte.
    pub offset: usize,
    /// RECORDLENGTH (includes its own 5 bytes).
    pub length: u16,
    /// Tag 2, NUL stripped.
    pub dns_name: Option<&'a [u8]>,
    /// Tag 3, NUL stripped.
    pub subject: Option<&'a [u8]>,
    /// Tag 4.
    pub function: Option<u16>,
    /// Tag 5, NUL stripped.
    pub issuer: Option<&'a [u8]>,
    /// Tag 6, raw bytes.
    pub serial: Option<&'a [u8]>,
    /// Tag 7: PKCS#1 RSAPublicKey DER (or an EC point).
    pub public_key: Option<&'a [u8]>,
    /// Tag 8: the certificate's own signature bytes.
    pub signature: Option<&'a [u8]>,
    /// Tag 9: DER certificate.
    pub certificate: Option<&'a [u8]>,
    /// Tag 10: IPv4 address.
    pub ip_address: Option<Ipv4Addr>,
    /// Tag 11: hash of the certificate (20-byte SHA-1 in CUCM TVS/CAPF records).
    pub cert_hash: Option<&'a [u8]>,
    /// Tag 12: algorithm of tag 11.
    pub hash_algorithm: Option<u8>,
    /// Every element of the record in file order (including unknown tags).
    pub elements: Vec<Element<'a>>,
}

/// A parsed ITL or CTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList<'a> {
    /// ITL or CTL (by FILENAME, then by content: TVS records make an ITL).
    pub format: FileFormat,
    /// The whole file.
    pub bytes: &'a [u8],
    /// Header.
    pub header: Header<'a>,
    /// Records in file order.
    pub records: Vec<Record<'a>>,
}

/// A parsed signed file: header plus opaque payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFile<'a> {
    /// The whole file.
    pub bytes: &'a [u8],
    /// Header.
    pub header: Header<'a>,
    /// `bytes[header_length..]`.
    pub payload: &'a [u8],
    /// The `.enc.sgn` encryption elements (header tags 16–27), when the header has any:
    /// the payload is then AES-CBC ciphertext.
    pub encryption: Option<EncryptionInfo<'a>>,
}

/// The encryption elements of an `SEP<MAC>.cnf.xml.enc.sgn` header (trust-list-format.md §8,
/// certutils `enccnf` names; no genuine CUCM file was available, so the semantics are [L–M]).
/// Each field is `None` when its tag is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptionInfo<'a> {
    /// Offset of the first encryption element (normally the tag-16 container).
    pub offset: usize,
    /// Tag 18 (`HEADER_ENCRYPTION_UNKNOWN1`), written as 0; meaning unknown.
    pub unknown1: Option<u8>,
    /// Tag 19: the AES-CBC IV (16 bytes).
    pub iv: Option<&'a [u8]>,
    /// Tag 20: number of `0x0D` bytes appended to the plaintext before encryption (1..16).
    pub padding: Option<u16>,
    /// Tag 22 (`HEADER_ENCRYPTION_UNKNOWN2`), written as 0; meaning unknown.
    pub unknown2: Option<u8>,
    /// Tag 23: size in bits of the encrypted key (= the phone's RSA modulus).
    pub key_size: Option<u16>,
    /// Tag 24: key algorithm, written as 1 (AES-128).
    pub key_algorithm: Option<u8>,
    /// Tag 25: the AES key, RSA-encrypted (PKCS#1 v1.5) to the phone's LSC/MIC key.
    pub encrypted_key: Option<&'a [u8]>,
    /// Tag 26: digest code of tag 27 (1 SHA-1, 3 SHA-512).
    pub hash_algorithm: Option<u8>,
    /// Tag 27: hash of the plaintext before padding.
    pub hash: Option<&'a [u8]>,
}

/// Outcome of a signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// The signature verifies with the key of this record (index into the trust list that
    /// supplied the key).
    Valid {
        /// Index of the signer record.
        signer_record: usize,
    },
    /// The signature does not hold.
    Invalid {
        /// Why: digest mismatch, key not found, malformed signature length, …
        reason: String,
    },
    /// Cannot be decided with what is at hand (firmware signer not in the file, unsupported
    /// algorithm reported separately in `reason`).
    NotCheckable {
        /// Why.
        reason: String,
    },
}
