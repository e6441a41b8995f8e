//! `itlscope show` and `itlscope verify`: a trust list or signed file as CUCM's `show itl`
//! prints it, the JSON object of the `show --json` contract, and the one-line verify verdict.

use crate::cisco::encrypted::{self, tag as etag};
use crate::cisco::header::tag as htag;
use crate::cisco::model::{
    Element, EncryptionInfo, FileFormat, Header, Record, SignatureCheck, SignedFile, TrustList,
    function,
};
use crate::cisco::trustlist::tag as rtag;
use crate::cisco::verify::{DigestAlgorithm, verify_signed_alone};
use crate::cisco::{ParsedFile, serial_hex};
use crate::dn::{self, Which};
use crate::trust::{
    Acceptance, Held, Kind, NoTvsEvidence, Offered, Route, RsaVerifier, decide, own_signature,
};
use md5::Md5;
use schemars::JsonSchema;
use serde::Serialize;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use std::fmt::Write as _;

/// Most bytes of an unknown value shown in hex in the text dump.
const HEX_PREVIEW: usize = 32;

/// Version of the `show --json` layout; bumped when a field changes meaning or disappears.
pub const SHOW_SCHEMA_VERSION: u32 = 1;

/// `show --json` (schema: docs/schema/show.schema.json): names fixed by the contract in
/// issue 3; extra fields are additions.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "itlscope show --json")]
pub struct ShowJson {
    /// Version of this layout.
    #[schemars(extend("const" = SHOW_SCHEMA_VERSION))]
    pub schema_version: u32,
    /// `itl`, `ctl` or `signed`.
    pub format: &'static str,
    /// `"1.2"`.
    pub version: String,
    /// HEADER_LENGTH.
    pub header_length: u16,
    /// Header tags 4, 5, 6.
    pub signer: SignerJson,
    /// Header tag 8: `sha1`, `sha256` or `sha512`; null when absent or unknown.
    pub digest_algorithm: Option<&'static str>,
    /// Its code (1 sha1, 2 sha256, 3 sha512); null when the tag is absent.
    pub digest_algorithm_code: Option<u8>,
    /// Signature verdict.
    pub signature: SignatureJson,
    /// Tag 14.
    pub filename: Option<String>,
    /// Tag 15 as RFC 3339 UTC.
    pub timestamp: Option<String>,
    /// Hashes of the whole file.
    pub hashes: HashesJson,
    /// Records (empty for a signed file).
    pub records: Vec<RecordJson>,
    /// Size of the file.
    pub file_length: usize,
    /// Tag 28 ("ITL version") as `"1.1"`, or null.
    pub signer_version: Option<String>,
    /// Offset of the tag-12 element, or null.
    pub signature_offset: Option<usize>,
    /// Length of the signature, or null.
    pub signature_length: Option<usize>,
    /// Number of 0x0D padding bytes.
    pub padding: usize,
    /// True for a trust list whose records carry no certificate, hash or key (rollback ITL).
    pub rollback: bool,
    /// For a signed file: where the payload is and what it looks like.
    pub payload: Option<PayloadJson>,
    /// For an `.enc.sgn`: the encryption elements (header tags 16–27); null otherwise.
    pub encryption: Option<EncryptionJson>,
}

/// The encryption elements of an `.enc.sgn` (null fields: tag absent).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EncryptionJson {
    /// Offset of the first encryption element.
    pub offset: usize,
    /// Tag 19, hex.
    pub iv: Option<String>,
    /// Tag 20: `0x0D` bytes appended to the XML before encryption.
    pub padding: Option<u16>,
    /// Tag 23: size of the encrypted key in bits (the phone's RSA modulus).
    pub key_size: Option<u16>,
    /// Tag 24 as a name: `aes-128` for 1; null when absent or another code.
    pub key_algorithm: Option<&'static str>,
    /// Tag 24's code.
    pub key_algorithm_code: Option<u8>,
    /// Tag 25, hex: the AES key RSA-encrypted to the phone's key.
    pub encrypted_key: Option<String>,
    /// Length of tag 25.
    pub encrypted_key_length: Option<usize>,
    /// Tag 26 as `sha1`, `sha256` or `sha512`; null when absent or unknown.
    pub hash_algorithm: Option<&'static str>,
    /// Tag 26 code.
    pub hash_algorithm_code: Option<u8>,
    /// Tag 27, hex: hash of the plaintext XML before padding.
    pub hash: Option<String>,
    /// Tag 18 (written 0, meaning unknown).
    pub unknown_18: Option<u8>,
    /// Tag 22 (written 0, meaning unknown).
    pub unknown_22: Option<u8>,
    /// Length of the XML inside (payload minus padding), null when inconsistent.
    pub plaintext_length: Option<usize>,
    /// Always false: decrypting needs the phone's private key.
    pub decryptable: bool,
    /// Why not.
    pub detail: &'static str,
    /// Disagreements among the elements and with the payload (empty when well formed).
    pub problems: Vec<String>,
}

/// Signer named by the header.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SignerJson {
    /// Tag 4.
    pub name: Option<String>,
    /// Tag 5 as an unsigned hex integer.
    pub serial: Option<String>,
    /// Tag 6.
    pub issuer: Option<String>,
}

/// The signature verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SignatureJson {
    /// true valid, false invalid, null not checkable.
    pub valid: Option<bool>,
    /// Index (0-based) of the record whose key verified, or null.
    pub signer_record: Option<usize>,
    /// Why.
    pub detail: String,
}

/// Hashes of the whole file (lower-case hex), as phones show them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HashesJson {
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
}

impl HashesJson {
    /// The three hashes of `bytes` ([`crate::diagnosis::facts::Hashes`]).
    fn of(bytes: &[u8]) -> Self {
        let h = crate::diagnosis::facts::Hashes::of(bytes);
        HashesJson {
            md5: h.md5,
            sha1: h.sha1,
            sha256: h.sha256,
        }
    }
}

/// One record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecordJson {
    /// Offset of its first byte.
    pub offset: usize,
    /// RECORDLENGTH.
    pub length: u16,
    /// Function name, null without a FUNCTION tag.
    pub function: Option<String>,
    /// Function code.
    pub function_code: Option<u16>,
    /// Tag 2.
    pub dns_name: Option<String>,
    /// Tag 3.
    pub subject: Option<String>,
    /// Tag 5.
    pub issuer: Option<String>,
    /// Tag 6 as an unsigned hex integer.
    pub serial: Option<String>,
    /// Tag 10.
    pub ip_address: Option<String>,
    /// SHA-1 of the tag-9 DER.
    pub certificate_sha1: Option<String>,
    /// Tag 11.
    pub cert_hash: Option<String>,
    /// True for the record whose key verified this file's signature.
    pub signed_this_file: bool,
    /// Tag 12 (algorithm of tag 11) read with the header's digest codes (`sha1`…); null
    /// when absent or unknown. The tag has not been seen in real files.
    pub hash_algorithm: Option<&'static str>,
    /// Tag 12's code, if one byte.
    pub hash_algorithm_code: Option<u8>,
    /// Length of the tag-9 certificate, or null.
    pub certificate_length: Option<usize>,
    /// True when tag 7 is present.
    pub has_public_key: bool,
}

/// Where a signed file's payload is.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PayloadJson {
    /// Offset (= HEADER_LENGTH).
    pub offset: usize,
    /// Length.
    pub length: usize,
    /// `xml`, `text`, `encrypted`, `empty` or `binary`.
    pub kind: &'static str,
}

/// The verdict for a parsed file on its own: a trust list checks itself, a signed file
/// cannot be checked without a trust list.
pub fn own_signature_check(parsed: &ParsedFile<'_>) -> SignatureCheck {
    match parsed {
        ParsedFile::TrustList(tl) => own_signature(tl, &RsaVerifier),
        ParsedFile::Signed(sf) => verify_signed_alone(sf),
    }
}

/// The JSON name of a digest code, None when absent or unknown.
fn digest_key(code: Option<u8>) -> Option<&'static str> {
    code.and_then(DigestAlgorithm::from_code)
        .map(DigestAlgorithm::as_str)
}

fn lossy(bytes: Option<&[u8]>) -> Option<String> {
    bytes.map(|b| String::from_utf8_lossy(b).into_owned())
}

fn rfc3339(ts: u32) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(i64::from(ts))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

fn signer_index(check: &SignatureCheck) -> Option<usize> {
    match check {
        SignatureCheck::Valid { signer_record } => Some(*signer_record),
        _ => None,
    }
}

fn check_detail(check: &SignatureCheck, records: &[Record<'_>]) -> String {
    match check {
        SignatureCheck::Valid { signer_record } => {
            let role = records
                .get(*signer_record)
                .and_then(|r| r.function)
                .map_or_else(|| "no function".to_owned(), function::name);
            format!(
                "verified with the key of record #{} ({role})",
                signer_record + 1
            )
        }
        SignatureCheck::Invalid { reason } | SignatureCheck::NotCheckable { reason } => {
            reason.clone()
        }
    }
}

fn payload_kind(header: &Header<'_>, payload: &[u8]) -> &'static str {
    let encrypted = header.elements.iter().any(|e| (16..=27).contains(&e.tag));
    if encrypted {
        "encrypted"
    } else if payload.is_empty() {
        "empty"
    } else if payload.trim_ascii_start().starts_with(b"<") {
        "xml"
    } else if payload
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "text"
    } else {
        "binary"
    }
}

fn encryption_json(info: &EncryptionInfo<'_>, payload_len: usize) -> EncryptionJson {
    EncryptionJson {
        offset: info.offset,
        iv: info.iv.map(hex::encode),
        padding: info.padding,
        key_size: info.key_size,
        key_algorithm: info.key_algorithm.filter(|&c| c == 1).map(|_| "aes-128"),
        key_algorithm_code: info.key_algorithm,
        encrypted_key: info.encrypted_key.map(hex::encode),
        encrypted_key_length: info.encrypted_key.map(<[u8]>::len),
        hash_algorithm: digest_key(info.hash_algorithm),
        hash_algorithm_code: info.hash_algorithm,
        hash: info.hash.map(hex::encode),
        unknown_18: info.unknown1,
        unknown_22: info.unknown2,
        plaintext_length: encrypted::plaintext_len(info, payload_len),
        decryptable: false,
        detail: encrypted::NOT_DECRYPTABLE,
        problems: encrypted::problems(info, payload_len),
    }
}

/// The JSON Schema of the `show --json` object (docs/schema/show.schema.json).
pub fn show_schema() -> schemars::Schema {
    schemars::schema_for!(ShowJson)
}

/// The `show --json` object.
pub fn show_json(parsed: &ParsedFile<'_>) -> ShowJson {
    let check = own_signature_check(parsed);
    let header = parsed.header();
    let bytes = parsed.bytes();
    let (format, records, rollback, payload) = match parsed {
        ParsedFile::TrustList(tl) => (tl.format, tl.records.as_slice(), tl.is_rollback(), None),
        ParsedFile::Signed(sf) => (
            FileFormat::Signed,
            &[][..],
            false,
            Some(PayloadJson {
                offset: usize::from(header.header_length),
                length: sf.payload.len(),
                kind: payload_kind(header, sf.payload),
            }),
        ),
    };
    let signer = signer_index(&check);
    let encryption = match parsed {
        ParsedFile::Signed(sf) => sf
            .encryption
            .as_ref()
            .map(|info| encryption_json(info, sf.payload.len())),
        ParsedFile::TrustList(_) => None,
    };
    ShowJson {
        schema_version: SHOW_SCHEMA_VERSION,
        format: format.as_str(),
        version: format!("{}.{}", header.version.0, header.version.1),
        header_length: header.header_length,
        signer: SignerJson {
            name: header.signer_name.map(dn::of_text_bytes),
            serial: header.signer_serial.map(serial_hex),
            issuer: header.signer_issuer.map(dn::of_text_bytes),
        },
        digest_algorithm: digest_key(header.digest_algorithm),
        digest_algorithm_code: header.digest_algorithm,
        signature: SignatureJson {
            valid: match check {
                SignatureCheck::Valid { .. } => Some(true),
                SignatureCheck::Invalid { .. } => Some(false),
                SignatureCheck::NotCheckable { .. } => None,
            },
            signer_record: signer,
            detail: check_detail(&check, records),
        },
        filename: lossy(header.filename),
        timestamp: header.timestamp.and_then(rfc3339),
        hashes: HashesJson::of(bytes),
        records: records
            .iter()
            .enumerate()
            .map(|(i, r)| record_json(r, signer == Some(i)))
            .collect(),
        file_length: bytes.len(),
        signer_version: header
            .signer_version
            .map(|(major, minor)| format!("{major}.{minor}")),
        signature_offset: header.signature.map(|(offset, _)| offset),
        signature_length: header.signature.map(|(_, sig)| sig.len()),
        padding: header.padding,
        rollback,
        payload,
        encryption,
    }
}

fn record_json(r: &Record<'_>, signed_this_file: bool) -> RecordJson {
    RecordJson {
        offset: r.offset,
        length: r.length,
        function: r.function.map(function::name),
        function_code: r.function,
        dns_name: lossy(r.dns_name),
        subject: dn::of_record(r.subject, r.certificate, Which::Subject),
        issuer: dn::of_record(r.issuer, r.certificate, Which::Issuer),
        serial: r.serial.map(serial_hex),
        ip_address: r.ip_address.map(|ip| ip.to_string()),
        certificate_sha1: r.certificate.map(|der| hex::encode(Sha1::digest(der))),
        cert_hash: r.cert_hash.map(hex::encode),
        signed_this_file,
        hash_algorithm: digest_key(r.hash_algorithm),
        hash_algorithm_code: r.hash_algorithm,
        certificate_length: r.certificate.map(<[u8]>::len),
        has_public_key: r.public_key.is_some(),
    }
}

/// Serial as `2E:3E:1A:…` (as CUCM prints it; raw bytes).
fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Hash as `BD 3A AF …` (as CUCM prints it).
fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex_preview(bytes: &[u8]) -> String {
    let shown = bytes.get(..HEX_PREVIEW).unwrap_or(bytes);
    let mut s = spaced_hex(shown);
    if bytes.len() > HEX_PREVIEW {
        s.push_str(" …");
    }
    s
}

/// Function as `show itl` names it.
fn function_display(code: u16) -> String {
    match code {
        function::SAST => "System Administrator Security Token".to_owned(),
        other => function::name(other),
    }
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(crate::cisco::tlv::strip_nul(value)).into_owned()
}

fn header_value(e: &Element<'_>) -> String {
    let v = e.value;
    let byte = v.first().copied();
    match e.tag {
        htag::SIGNER_NAME | htag::CA_NAME | htag::FILENAME => text(v),
        htag::SERIAL_NUMBER => colon_hex(v),
        htag::DIGEST_ALGORITHM => match byte.and_then(DigestAlgorithm::from_code) {
            Some(d) => format!("{} ({})", byte.unwrap_or_default(), d.display()),
            None => format!("{} (unsupported)", byte.unwrap_or_default()),
        },
        htag::SIGNATURE_ALGORITHM => match byte {
            Some(0) => "0 (RSA)".to_owned(),
            Some(b) => format!("{b} (unknown)"),
            None => String::new(),
        },
        htag::SIGNATURE_MODULUS => match byte {
            Some(b) => match 64usize.checked_shl(u32::from(b)).filter(|&n| n <= 1024) {
                Some(n) => format!("{b} ({n}-byte signature)"),
                None => format!("{b} (unknown)"),
            },
            None => String::new(),
        },
        htag::SIGNATURE => "(signature bytes omitted)".to_owned(),
        htag::TIMESTAMP => match v {
            [a, b, c, d] => {
                let ts = u32::from_be_bytes([*a, *b, *c, *d]);
                format!("{ts} ({})", rfc3339(ts).unwrap_or_default())
            }
            _ => hex_preview(v),
        },
        htag::VERSION | htag::SIGNER_VERSION => match v {
            [major, minor] => format!("{major}.{minor}"),
            _ => hex_preview(v),
        },
        htag::HEADER_LENGTH => match v {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]).to_string(),
            _ => hex_preview(v),
        },
        etag::PADDING => match v {
            [hi, lo] => format!(
                "{} (0x0D bytes after the XML)",
                u16::from_be_bytes([*hi, *lo])
            ),
            _ => hex_preview(v),
        },
        etag::KEY_SIZE => match v {
            [hi, lo] => format!("{} (bits)", u16::from_be_bytes([*hi, *lo])),
            _ => hex_preview(v),
        },
        etag::KEY_ALGORITHM => match byte {
            Some(1) => "1 (AES-128)".to_owned(),
            Some(b) => format!("{b} (unknown)"),
            None => String::new(),
        },
        etag::KEY => "(RSA-encrypted AES key omitted)".to_owned(),
        etag::HASH_ALGORITHM => match byte.and_then(DigestAlgorithm::from_code) {
            Some(d) => format!("{} ({})", byte.unwrap_or_default(), d.display()),
            None => format!("{} (unsupported)", byte.unwrap_or_default()),
        },
        etag::IV | etag::HASH => spaced_hex(v),
        _ => hex_preview(v),
    }
}

fn encryption_text(out: &mut String, info: &EncryptionInfo<'_>, payload_len: usize) {
    let _ = writeln!(out);
    let _ = writeln!(out, "Encryption (tags 16-27, certutils enccnf layout):");
    let iv = info.iv.map_or_else(|| "none".to_owned(), spaced_hex);
    let _ = writeln!(out, "  IV:             {iv}");
    let padding = info.padding.map_or_else(
        || "unknown (no tag 20)".to_owned(),
        |p| format!("{p} byte(s) of 0x0D after the XML"),
    );
    let _ = writeln!(out, "  Padding:        {padding}");
    let algorithm = match info.key_algorithm {
        Some(1) => "AES-128".to_owned(),
        Some(other) => format!("algorithm {other} (unknown)"),
        None => "unknown algorithm".to_owned(),
    };
    let key = match (info.encrypted_key, info.key_size) {
        (Some(k), Some(bits)) => format!(
            "{algorithm}, RSA-encrypted to a {bits}-bit phone key ({} bytes)",
            k.len()
        ),
        (Some(k), None) => format!("{algorithm}, RSA-encrypted ({} bytes)", k.len()),
        (None, _) => "none (no tag 25)".to_owned(),
    };
    let _ = writeln!(out, "  Key:            {key}");
    let hash = match (info.hash_algorithm, info.hash) {
        (Some(code), Some(h)) => format!(
            "{} {}",
            DigestAlgorithm::from_code(code).map_or_else(
                || format!("code {code} (unsupported)"),
                |d| d.display().to_owned()
            ),
            hex::encode(h)
        ),
        (_, None) => "none (no tag 27)".to_owned(),
        (None, Some(h)) => format!("unknown algorithm {}", hex::encode(h)),
    };
    let _ = writeln!(out, "  Plaintext hash: {hash}");
    if let Some(n) = encrypted::plaintext_len(info, payload_len) {
        let _ = writeln!(out, "  Plaintext:      {n} bytes of XML");
    }
    for problem in encrypted::problems(info, payload_len) {
        let _ = writeln!(out, "  Problem:        {problem}");
    }
    let _ = writeln!(out, "  {}", encrypted::NOT_DECRYPTABLE);
}

fn record_value(e: &Element<'_>) -> String {
    let v = e.value;
    match e.tag {
        rtag::RECORD_LENGTH | rtag::FUNCTION => match v {
            [hi, lo] if e.tag == rtag::FUNCTION => function_display(u16::from_be_bytes([*hi, *lo])),
            [hi, lo] => u16::from_be_bytes([*hi, *lo]).to_string(),
            _ => hex_preview(v),
        },
        rtag::DNS_NAME | rtag::SUBJECT_NAME | rtag::ISSUER_NAME => text(v),
        rtag::SERIAL_NUMBER => colon_hex(v),
        rtag::PUBLIC_KEY | rtag::SIGNATURE => String::new(),
        rtag::CERTIFICATE => format!("{} (SHA1 Hash HEX)", spaced_hex(&Sha1::digest(v))),
        rtag::IP_ADDRESS => match v {
            [a, b, c, d] => format!("{a}.{b}.{c}.{d}"),
            _ => hex_preview(v),
        },
        rtag::CERT_HASH => spaced_hex(v),
        rtag::HASH_ALGORITHM => match v {
            [1] => "SHA-1 hash".to_owned(),
            [2] => "SHA-256 hash".to_owned(),
            [3] => "SHA-512 hash".to_owned(),
            _ => hex_preview(v),
        },
        _ => hex_preview(v),
    }
}

fn table_head(out: &mut String) {
    let _ = writeln!(out, "{:<8}{:<24}{:<8}VALUE", "BYTEPOS", "TAG", "LENGTH");
    let _ = writeln!(out, "{:<8}{:<24}{:<8}-----", "-------", "---", "------");
}

fn table_row(out: &mut String, offset: usize, tag: u8, name: &str, length: usize, value: &str) {
    let tag_label = format!("{tag:<3} {name}");
    let _ = writeln!(out, "{offset:<8}{tag_label:<24}{length:<8}{value}");
}

fn header_table(out: &mut String, header: &Header<'_>) {
    table_head(out);
    for e in &header.elements {
        if e.tag == 0x0D {
            table_row(out, e.offset, e.tag, "PADDING", 1, "");
            continue;
        }
        let length = if e.container {
            usize::from(e.container_len)
        } else {
            e.value.len()
        };
        let value = if e.container {
            "(container)".to_owned()
        } else {
            header_value(e)
        };
        table_row(out, e.offset, e.tag, htag::name(e.tag), length, &value);
    }
}

fn hashes_text(out: &mut String, bytes: &[u8]) {
    let _ = writeln!(out, "MD5:    {}", hex::encode(Md5::digest(bytes)));
    let _ = writeln!(out, "SHA1:   {}", hex::encode(Sha1::digest(bytes)));
    let _ = writeln!(out, "SHA256: {}", hex::encode(Sha256::digest(bytes)));
}

fn record_table(out: &mut String, kind: &str, index: usize, record: &Record<'_>) {
    let _ = writeln!(out);
    let _ = writeln!(out, "        {kind} Record #:{}", index + 1);
    let _ = writeln!(out, "        ----");
    table_head(out);
    for e in &record.elements {
        table_row(
            out,
            e.offset,
            e.tag,
            rtag::name(e.tag),
            e.value.len(),
            &record_value(e),
        );
    }
}

/// What a file that is no trust list or signed file looks like, when that is plain from its
/// first bytes: a capture, a compressed file, text. None when it may be a damaged Cisco file.
pub fn not_a_cisco_file(bytes: &[u8]) -> Option<&'static str> {
    if bytes.is_empty() {
        return Some("this file is empty");
    }
    match crate::capture::file_kind(bytes) {
        Some("pcap") => {
            Some("this is a pcap capture, not a trust list: use itlscope analyze (or extract)")
        }
        Some("pcapng") => {
            Some("this is a pcapng capture, not a trust list: use itlscope analyze (or extract)")
        }
        Some(_) => Some(
            "this is a gzip-compressed file (a compressed capture?), not a trust list: use itlscope analyze, or gunzip it first",
        ),
        None if looks_like_text(bytes) => Some(
            "this is a text file, not a trust list or signed file (ITL/CTL files and .sgn files are binary)",
        ),
        None => None,
    }
}

/// True when the first KiB is printable UTF-8 text (a Cisco file starts with tag 1, byte 0x01).
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = bytes.get(..1024).unwrap_or(bytes);
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        // A multi-byte character cut at the 1 KiB mark.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty() && valid.chars().all(|c| !c.is_control() || c.is_whitespace())
}

/// The dump of a trust list that does not parse whole: length and hashes (what the phone
/// shows), the header and every record read before the damage, then the damage itself.
pub fn damaged_text(bytes: &[u8], error: &crate::cisco::FormatError) -> String {
    damaged_text_with(bytes, error, false)
}

/// [`damaged_text`], the damage in red when `color` is on.
pub fn damaged_text_with(bytes: &[u8], error: &crate::cisco::FormatError, color: bool) -> String {
    let salvaged = crate::cisco::trustlist::salvage(bytes);
    let mut out = String::new();
    let _ = writeln!(out, "Length of file: {}", bytes.len());
    hashes_text(&mut out, bytes);
    if let Some(h) = &salvaged.header {
        let kind = match crate::cisco::trustlist::kind(h, &salvaged.records) {
            FileFormat::Ctl => "CTL",
            _ => "ITL",
        };
        parse_heading(&mut out, &format!("{kind} File (damaged)"), 16, h);
        for (i, record) in salvaged.records.iter().enumerate() {
            record_table(&mut out, kind, i, record);
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} record(s) read before the damage; the signature cannot be checked.",
            salvaged.records.len()
        );
    }
    let _ = writeln!(out, "{}", bad(&format!("Damaged: {error}"), color));
    out
}

/// `show --json` of a damaged trust list: what [`damaged_text`] prints, as JSON (the hashes
/// still match what the phone shows; the records read before the damage).
#[derive(Debug, Clone, Serialize)]
pub struct DamagedShowJson {
    /// Version of the `show --json` layout.
    pub schema_version: u32,
    /// What stopped the reading.
    pub damaged: String,
    /// `itl` or `ctl` when the header parses, else null.
    pub format: Option<&'static str>,
    /// Size of the file.
    pub file_length: usize,
    /// Hashes of the whole file.
    pub hashes: HashesJson,
    /// The records read before the damage (the signature cannot be checked).
    pub records: Vec<RecordJson>,
}

/// The JSON form of a damaged trust list (see [`DamagedShowJson`]).
pub fn damaged_json(bytes: &[u8], error: &crate::cisco::FormatError) -> DamagedShowJson {
    let salvaged = crate::cisco::trustlist::salvage(bytes);
    let format = salvaged
        .header
        .as_ref()
        .map(|h| crate::cisco::trustlist::kind(h, &salvaged.records).as_str());
    DamagedShowJson {
        schema_version: SHOW_SCHEMA_VERSION,
        damaged: error.to_string(),
        format,
        file_length: bytes.len(),
        hashes: HashesJson::of(bytes),
        records: salvaged
            .records
            .iter()
            .map(|r| record_json(r, false))
            .collect(),
    }
}

/// `Parse ITL File` and the header, as `show itl` prints them before the records
/// (`underline` dashes under the title: 16 for a trust list, as CUCM prints it).
fn parse_heading(out: &mut String, title: &str, underline: usize, h: &Header<'_>) {
    let _ = writeln!(out);
    let _ = writeln!(out, "        Parse {title}");
    let _ = writeln!(out, "        {}", "-".repeat(underline));
    let _ = writeln!(out);
    let _ = writeln!(out, "Version:        {}.{}", h.version.0, h.version.1);
    let _ = writeln!(out, "HeaderLength:   {} (BYTES)", h.header_length);
    let _ = writeln!(out);
    header_table(out, h);
}

/// The readable dump, modelled on CUCM's `show itl` / `show ctl`.
pub fn show_text(parsed: &ParsedFile<'_>) -> String {
    show_text_with(parsed, false)
}

/// [`show_text`], the signature verdict in green (valid) or red (invalid) when `color` is on.
pub fn show_text_with(parsed: &ParsedFile<'_>, color: bool) -> String {
    match parsed {
        ParsedFile::TrustList(tl) => trust_list_text(tl, color),
        ParsedFile::Signed(sf) => signed_text(sf, color),
    }
}

fn good(text: &str, color: bool) -> String {
    super::text::paint(text, anstyle::AnsiColor::Green, color)
}

fn bad(text: &str, color: bool) -> String {
    super::text::paint(text, anstyle::AnsiColor::Red, color)
}

fn trust_list_text(tl: &TrustList<'_>, color: bool) -> String {
    let kind = match tl.format {
        FileFormat::Ctl => "CTL",
        _ => "ITL",
    };
    let check = own_signature(tl, &RsaVerifier);
    let signer = signer_index(&check);
    let h = &tl.header;
    let mut out = String::new();
    let _ = writeln!(out, "Length of {kind} file: {}", tl.bytes.len());
    hashes_text(&mut out, tl.bytes);
    parse_heading(&mut out, &format!("{kind} File"), 16, h);
    for (i, record) in tl.records.iter().enumerate() {
        record_table(&mut out, kind, i, record);
        if signer == Some(i) {
            let _ = writeln!(out, "This etoken was used to sign the {kind} file.");
        } else if record.function == Some(function::SAST) {
            let _ = writeln!(out, "This etoken was not used to sign the {kind} file.");
        }
    }
    let _ = writeln!(out);
    if tl.is_rollback() {
        let _ = writeln!(
            out,
            "Rollback {kind}: no record carries a certificate, hash or key (\"Prepare Cluster for Rollback to pre 8.0\")."
        );
    }
    match &check {
        SignatureCheck::Valid { .. } => {
            let verified = format!("The {kind} file was verified successfully.");
            let _ = writeln!(out, "{}", good(&verified, color));
        }
        SignatureCheck::Invalid { reason } => {
            let failed = format!("Verification of the {kind} file failed.");
            let _ = writeln!(out, "{}", bad(&failed, color));
            let _ = writeln!(out, "Reason: {reason}");
        }
        SignatureCheck::NotCheckable { reason } => {
            let _ = writeln!(
                out,
                "The {kind} file's signature cannot be checked from the file alone."
            );
            let _ = writeln!(out, "Reason: {reason}");
        }
    }
    terms_text(&mut out);
    out
}

/// CUCM's jargon in the dump, explained once at the end.
const SHOW_TERMS: [(&str, &str); 3] = [
    (
        "etoken",
        "CUCM's word for a SAST record: a certificate whose key may sign the trust list",
    ),
    (
        "SAST",
        "System Administrator Security Token: the function of the records allowed to sign ITL/CTL files",
    ),
    (
        "CERTHASH",
        "tag 11: the hash of the record's certificate, which the phone matches against what TVS presents",
    ),
];

fn terms_text(out: &mut String) {
    let used: Vec<_> = SHOW_TERMS
        .iter()
        .filter(|(term, _)| {
            out.contains(term)
                || (*term == "SAST" && out.contains("System Administrator Security Token"))
        })
        .collect();
    if used.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Terms:");
    for (term, meaning) in used {
        let _ = writeln!(out, "  {term}: {meaning}");
    }
}

fn signed_text(sf: &SignedFile<'_>, color: bool) -> String {
    let h = &sf.header;
    let check = verify_signed_alone(sf);
    let mut out = String::new();
    let _ = writeln!(out, "Length of signed file: {}", sf.bytes.len());
    hashes_text(&mut out, sf.bytes);
    parse_heading(&mut out, "Signed File Header", 24, h);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Payload: {} bytes at byte offset {} ({})",
        sf.payload.len(),
        h.header_length,
        payload_kind(h, sf.payload)
    );
    if let Some(info) = &sf.encryption {
        encryption_text(&mut out, info, sf.payload.len());
        let _ = writeln!(out);
    }
    match &check {
        SignatureCheck::Valid { .. } => {
            let _ = writeln!(out, "{}", good("Signature: valid", color));
        }
        SignatureCheck::Invalid { reason } => {
            let _ = writeln!(
                out,
                "{}",
                bad(&format!("Signature: invalid: {reason}"), color)
            );
        }
        SignatureCheck::NotCheckable { reason } => {
            let _ = writeln!(out, "Signature: {reason}");
        }
    }
    out
}

/// The verdict of `itlscope verify`: `(trusted, one-line reason)`, by the tool's one trust
/// decision ([`crate::trust::decide`]): would a phone holding `trust` accept `file`? A signed
/// file must be signed by a TFTP or CCM+TFTP record of `trust`, a trust list by a SAST, TFTP
/// or CCM+TFTP record; a rollback `trust` accepts anything. TVS is not asked here, so a file
/// only a TVS could vouch for is "not trusted" with that reason.
pub fn verify_verdict(file: &ParsedFile<'_>, trust: &TrustList<'_>) -> (bool, String) {
    let kind = match file {
        ParsedFile::TrustList(_) => Kind::TrustList,
        ParsedFile::Signed(_) => Kind::Config,
    };
    let decision = decide(
        &Held::List {
            list: trust,
            label: "the trust list",
        },
        &Offered {
            bytes: file.bytes(),
            header: file.header(),
            kind,
            what: "the file",
        },
        &RsaVerifier,
        &NoTvsEvidence,
    );
    match (decision.acceptance, decision.route) {
        (Acceptance::Accepted, Some(Route::SignerInList { record })) => {
            let r = trust.records.get(record);
            let role = r
                .and_then(|r| r.function)
                .map_or_else(|| "no function".to_owned(), function::name);
            let subject = r
                .and_then(|r| dn::of_record(r.subject, r.certificate, Which::Subject))
                .unwrap_or_else(|| "no subject".to_owned());
            (
                true,
                format!(
                    "trusted: signed by record #{} ({role}, {subject}) of the trust list",
                    record + 1
                ),
            )
        }
        (Acceptance::Accepted, _) => (true, format!("trusted: {}", decision.explanation)),
        _ => (false, format!("not trusted: {}", decision.explanation)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_renderings() {
        assert_eq!(colon_hex(&[0x2e, 0x3e, 0x0a]), "2E:3E:0A");
        assert_eq!(spaced_hex(&[0xbd, 0x3a]), "BD 3A");
        assert_eq!(hex_preview(&[0u8; 40]).matches("00").count(), HEX_PREVIEW);
        assert_eq!(
            rfc3339(0x554A_D7B7).as_deref(),
            Some("2015-05-07T03:10:47Z")
        );
        assert_eq!(function_display(0), "System Administrator Security Token");
        assert_eq!(function_display(2), "CCM+TFTP");
    }

    #[test]
    fn payload_kinds() {
        let h = Header::default();
        assert_eq!(payload_kind(&h, b""), "empty");
        assert_eq!(payload_kind(&h, b"  <?xml?>"), "xml");
        assert_eq!(payload_kind(&h, b"#\r\nabc\n"), "text");
        assert_eq!(payload_kind(&h, &[0, 1, 2]), "binary");
    }
}
