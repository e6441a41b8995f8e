//! Cisco file formats: ITL/CTL trust lists and signed files (`.sgn`, `.enc.sgn`, firmware
//! `.loads`/`.sbn`), with RSA signature verification. Pure byte parsing; no packets here.
//!
//! Entry points: [`trustlist::parse_trust_list`], [`signed::parse_signed_file`],
//! [`detect_format`], [`verify::verify_trust_list`], [`verify::verify_with_trust`].

pub mod config;
pub mod encrypted;
pub mod error;
pub mod header;
pub mod model;
pub mod signed;
pub mod tlv;
pub mod trustlist;
pub mod verify;

pub use error::FormatError;
pub use model::FileFormat;

/// What a file is, decided by content (never by name):
///
/// * `None` when the header does not parse (not a Cisco file, or a broken header);
/// * a trust list (ITL or CTL, see [`trustlist::parse_trust_list`] for which) when the bytes at
///   HEADER_LENGTH start a record (`01 00 02` and RECORDLENGTH >= 5), or when there is nothing
///   after the header and FILENAME ends in `.tlv`. The records may still be malformed:
///   parsing reports that, rather than re-reading a broken trust list as a signed file;
/// * otherwise a signed file (any payload, including an empty one); a header with the
///   `.enc.sgn` encryption container (tag 16) is always a signed file.
///
/// A signed file whose payload happens to start with `01 00 02` and a length >= 5 would be
/// taken for a trust list; no signed config or firmware seen starts that way.
pub fn detect_format(bytes: &[u8]) -> Option<FileFormat> {
    let header = header::parse_header(bytes).ok()?;
    if !looks_like_trust_list(bytes, &header) {
        return Some(FileFormat::Signed);
    }
    match trustlist::parse_trust_list(bytes) {
        Ok(list) => Some(list.format),
        Err(_) => Some(trustlist::kind(&header, &[])),
    }
}

/// A parsed trust list or signed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedFile<'a> {
    /// ITL or CTL.
    TrustList(model::TrustList<'a>),
    /// Signed file.
    Signed(model::SignedFile<'a>),
}

impl<'a> ParsedFile<'a> {
    /// The header.
    pub fn header(&self) -> &model::Header<'a> {
        match self {
            ParsedFile::TrustList(t) => &t.header,
            ParsedFile::Signed(s) => &s.header,
        }
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        match self {
            ParsedFile::TrustList(t) => t.bytes,
            ParsedFile::Signed(s) => s.bytes,
        }
    }
}

/// Parses a trust list or a signed file, told apart as [`detect_format`] does; the error is
/// the header's or the records' parse error.
pub fn parse_any(bytes: &[u8]) -> Result<ParsedFile<'_>, FormatError> {
    let header = header::parse_header(bytes)?;
    if looks_like_trust_list(bytes, &header) {
        trustlist::parse_trust_list(bytes).map(ParsedFile::TrustList)
    } else {
        signed::parse_signed_file(bytes).map(ParsedFile::Signed)
    }
}

fn looks_like_trust_list(bytes: &[u8], header: &model::Header<'_>) -> bool {
    // An encryption container means an `.enc.sgn`, whatever its ciphertext starts with.
    if header
        .elements
        .iter()
        .any(|e| e.tag == encrypted::tag::ENCRYPTION_INFO)
    {
        return false;
    }
    let start = usize::from(header.header_length);
    if start >= bytes.len() {
        header
            .filename
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(b".tlv"))
    } else {
        trustlist::starts_record(bytes, start)
    }
}

pub use crate::serial::{serial_eq, serial_hex};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_by_content() {
        let header = [1, 0, 2, 1, 2, 2, 0, 2, 0, 12, 0x0D, 0x0D];
        let mut signed = header.to_vec();
        signed.extend_from_slice(b"<device/>");
        assert_eq!(detect_format(&signed), Some(FileFormat::Signed));
        let mut list = header.to_vec();
        list.extend_from_slice(&[1, 0, 2, 0, 10, 4, 0, 2, 0, 21]);
        assert_eq!(detect_format(&list), Some(FileFormat::Itl));
        assert_eq!(detect_format(b"<device/>"), None);
        assert_eq!(detect_format(&header), Some(FileFormat::Signed));
    }
}
