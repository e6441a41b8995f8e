//! The encryption elements of `SEP<MAC>.cnf.xml.enc.sgn` (header tags 16–27, certutils
//! `enccnf` layout, trust-list-format.md §8): where the IV, the pad count, the RSA-encrypted
//! AES key and the plaintext hash are. Decrypting needs the phone's private key, which
//! itlscope never has; what can be checked without it is whether the elements agree.

use super::error::FormatError;
use super::header::{bad_length, once, one_byte};
use super::model::{Element, EncryptionInfo, Header};
use super::verify::DigestAlgorithm;

/// Encryption tag numbers.
pub mod tag {
    /// Container of 17 and 21.
    pub const ENCRYPTION_INFO: u8 = 16;
    /// Container of 18, 19, 20.
    pub const IV_INFO: u8 = 17;
    /// One byte, written 0.
    pub const UNKNOWN1: u8 = 18;
    /// The IV.
    pub const IV: u8 = 19;
    /// u16 pad count.
    pub const PADDING: u8 = 20;
    /// Container of 22..25.
    pub const KEY_INFO: u8 = 21;
    /// One byte, written 0.
    pub const UNKNOWN2: u8 = 22;
    /// u16 key size in bits.
    pub const KEY_SIZE: u8 = 23;
    /// One byte, written 1.
    pub const KEY_ALGORITHM: u8 = 24;
    /// The RSA-encrypted AES key.
    pub const KEY: u8 = 25;
    /// One byte, digest code of tag 27.
    pub const HASH_ALGORITHM: u8 = 26;
    /// Hash of the plaintext.
    pub const HASH: u8 = 27;
}

/// AES block size: the ciphertext is a whole number of these.
pub const AES_BLOCK: usize = 16;

/// What `show` says about decryption.
pub const NOT_DECRYPTABLE: &str = "payload encrypted to the phone's key; not decryptable here";

fn is_encryption_tag(t: u8) -> bool {
    (tag::ENCRYPTION_INFO..=tag::HASH).contains(&t)
}

fn two_bytes(element: &Element<'_>, name: &'static str) -> Result<u16, FormatError> {
    match element.value {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        other => Err(bad_length(element, name, other.len(), 2)),
    }
}

/// The encryption elements of `header`, `None` when it has none (a plain signed file).
/// Fixed-width elements of another width and repeated elements are errors with the
/// element's offset; the variable ones (IV, key, hash) are kept as found and judged by
/// [`problems`].
pub fn parse_encryption<'a>(
    header: &Header<'a>,
) -> Result<Option<EncryptionInfo<'a>>, FormatError> {
    let mut found = header
        .elements
        .iter()
        .filter(|e| is_encryption_tag(e.tag))
        .peekable();
    let Some(first) = found.peek() else {
        return Ok(None);
    };
    let mut info = EncryptionInfo {
        offset: first.offset,
        ..EncryptionInfo::default()
    };
    let mut seen: Vec<Element<'a>> = Vec::new();
    for &e in found {
        let all = seen.as_slice();
        match e.tag {
            tag::UNKNOWN1 => {
                let v = one_byte(&e, "ENCRYPTIONUNKNOWN1")?;
                once(&mut info.unknown1, v, &e, all)?;
            }
            tag::IV => once(&mut info.iv, e.value, &e, all)?,
            tag::PADDING => {
                let v = two_bytes(&e, "ENCRYPTIONPADDING")?;
                once(&mut info.padding, v, &e, all)?;
            }
            tag::UNKNOWN2 => {
                let v = one_byte(&e, "ENCRYPTIONUNKNOWN2")?;
                once(&mut info.unknown2, v, &e, all)?;
            }
            tag::KEY_SIZE => {
                let v = two_bytes(&e, "ENCRYPTIONKEYSIZE")?;
                once(&mut info.key_size, v, &e, all)?;
            }
            tag::KEY_ALGORITHM => {
                let v = one_byte(&e, "ENCRYPTIONKEYALGO")?;
                once(&mut info.key_algorithm, v, &e, all)?;
            }
            tag::KEY => once(&mut info.encrypted_key, e.value, &e, all)?,
            tag::HASH_ALGORITHM => {
                let v = one_byte(&e, "ENCRYPTIONHASHALGO")?;
                once(&mut info.hash_algorithm, v, &e, all)?;
            }
            tag::HASH => once(&mut info.hash, e.value, &e, all)?,
            // Containers carry no value.
            _ => {}
        }
        seen.push(e);
    }
    Ok(Some(info))
}

/// Length of a tag-26 digest, `None` for an unknown code.
fn digest_len(code: u8) -> Option<usize> {
    DigestAlgorithm::from_code(code).map(|d| match d {
        DigestAlgorithm::Sha1 => 20,
        DigestAlgorithm::Sha256 => 32,
        DigestAlgorithm::Sha512 => 64,
    })
}

/// Length of the XML inside a ciphertext of `payload_len` bytes: the payload minus tag 20's
/// pad count, when both are consistent (whole AES blocks, pad count 1..=16).
pub fn plaintext_len(info: &EncryptionInfo<'_>, payload_len: usize) -> Option<usize> {
    let pad = usize::from(info.padding?);
    if !payload_len.is_multiple_of(AES_BLOCK) || !(1..=AES_BLOCK).contains(&pad) {
        return None;
    }
    payload_len.checked_sub(pad)
}

/// Disagreements among the encryption elements and with the payload, in file order; empty
/// for a well-formed file. A phone would most likely fail to decrypt a file with any.
pub fn problems(info: &EncryptionInfo<'_>, payload_len: usize) -> Vec<String> {
    let mut out = Vec::new();
    match info.iv {
        None => out.push("no IV (tag 19)".to_owned()),
        Some(iv) if iv.len() != AES_BLOCK => out.push(format!(
            "IV (tag 19) is {} bytes, AES-CBC needs {AES_BLOCK}",
            iv.len()
        )),
        Some(_) => {}
    }
    match info.padding {
        None => out.push("no pad count (tag 20)".to_owned()),
        Some(p) if !(1..=16).contains(&p) => {
            out.push(format!("pad count (tag 20) {p} is outside 1..16"));
        }
        Some(_) => {}
    }
    match (info.encrypted_key, info.key_size) {
        (None, _) => out.push("no encrypted key (tag 25)".to_owned()),
        (Some(key), Some(bits)) if usize::from(bits) != key.len() * 8 => out.push(format!(
            "key size (tag 23) says {bits} bits, the encrypted key (tag 25) is {} bytes",
            key.len()
        )),
        _ => {}
    }
    if let Some(alg) = info.key_algorithm
        && alg != 1
    {
        out.push(format!(
            "key algorithm (tag 24) {alg}: only 1 (AES-128) is known"
        ));
    }
    match (info.hash_algorithm, info.hash) {
        (None, _) => out.push("no hash algorithm (tag 26)".to_owned()),
        (_, None) => out.push("no plaintext hash (tag 27)".to_owned()),
        (Some(code), Some(hash)) => match digest_len(code) {
            None => out.push(format!("unknown hash algorithm code {code} (tag 26)")),
            Some(n) if n != hash.len() => out.push(format!(
                "plaintext hash (tag 27) is {} bytes, hash algorithm {code} makes {n}",
                hash.len()
            )),
            Some(_) => {}
        },
    }
    if payload_len == 0 || !payload_len.is_multiple_of(AES_BLOCK) {
        out.push(format!(
            "payload of {payload_len} bytes is not a whole number of {AES_BLOCK}-byte AES blocks"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cisco::header::parse_header;

    /// A header with the given encryption elements after the fixed part, padded to 4.
    fn header_with(elements: &[u8]) -> Vec<u8> {
        let mut len = 10 + elements.len();
        len += (4 - len % 4) % 4;
        let mut out = vec![1, 0, 2, 2, 0, 2, 0, 2];
        out.extend_from_slice(&u16::try_from(len).expect("small").to_be_bytes());
        out.extend_from_slice(elements);
        out.resize(len, 0x0D);
        out
    }

    fn well_formed() -> Vec<u8> {
        let mut e = vec![16, 0, 54, 17, 0, 28, 18, 0, 1, 0, 19, 0, 16];
        e.extend_from_slice(&[0xAA; 16]);
        e.extend_from_slice(&[20, 0, 2, 0, 5, 21, 0, 20, 22, 0, 1, 0, 23, 0, 2, 0, 32]);
        e.extend_from_slice(&[24, 0, 1, 1, 25, 0, 4, 1, 2, 3, 4, 26, 0, 1, 1, 27, 0, 20]);
        e.extend_from_slice(&[0xBB; 20]);
        header_with(&e)
    }

    #[test]
    fn fields_of_a_well_formed_header() {
        let bytes = well_formed();
        let header = parse_header(&bytes).expect("parses");
        let info = parse_encryption(&header).expect("ok").expect("present");
        assert_eq!(info.offset, 10);
        assert_eq!(info.unknown1, Some(0));
        assert_eq!(info.iv, Some(&[0xAA; 16][..]));
        assert_eq!(info.padding, Some(5));
        assert_eq!(info.unknown2, Some(0));
        assert_eq!(info.key_size, Some(32));
        assert_eq!(info.key_algorithm, Some(1));
        assert_eq!(info.encrypted_key, Some(&[1, 2, 3, 4][..]));
        assert_eq!(info.hash_algorithm, Some(1));
        assert_eq!(info.hash, Some(&[0xBB; 20][..]));
        assert!(problems(&info, 32).is_empty(), "{:?}", problems(&info, 32));
        assert_eq!(plaintext_len(&info, 32), Some(27));
        assert_eq!(plaintext_len(&info, 33), None);
    }

    #[test]
    fn plain_header_has_no_encryption() {
        let bytes = header_with(&[14, 0, 2, b'x', 0]);
        let header = parse_header(&bytes).expect("parses");
        assert_eq!(parse_encryption(&header), Ok(None));
    }

    #[test]
    fn bad_widths_and_repeats_are_errors_with_offsets() {
        let bytes = header_with(&[20, 0, 1, 5]);
        let header = parse_header(&bytes).expect("parses");
        assert!(matches!(
            parse_encryption(&header),
            Err(FormatError::BadLength {
                tag: 20,
                offset: 10,
                expected: 2,
                ..
            })
        ));
        let bytes = header_with(&[26, 0, 1, 1, 26, 0, 1, 3]);
        let header = parse_header(&bytes).expect("parses");
        assert!(matches!(
            parse_encryption(&header),
            Err(FormatError::Duplicate {
                tag: 26,
                first: 10,
                offset: 14,
                ..
            })
        ));
    }

    #[test]
    fn inconsistencies_are_named() {
        let info = EncryptionInfo {
            iv: Some(&[0; 8]),
            padding: Some(17),
            key_size: Some(2048),
            encrypted_key: Some(&[0; 128]),
            key_algorithm: Some(2),
            hash_algorithm: Some(3),
            hash: Some(&[0; 20]),
            ..EncryptionInfo::default()
        };
        let p = problems(&info, 30);
        assert_eq!(p.len(), 6, "{p:?}");
        assert!(p[0].contains("IV (tag 19) is 8 bytes"));
        assert!(p[1].contains("outside 1..16"));
        assert!(p[2].contains("2048 bits"));
        assert!(p[3].contains("key algorithm (tag 24) 2"));
        assert!(p[4].contains("makes 64"));
        assert!(p[5].contains("30 bytes"));
        assert_eq!(plaintext_len(&info, 32), None);
        let empty = problems(&EncryptionInfo::default(), 16);
        assert_eq!(empty.len(), 4, "{empty:?}");
    }
}
