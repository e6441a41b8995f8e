//! Signed files (`.sgn`, `.enc.sgn`, firmware `.loads`/`.sbn`): the trust-list header followed
//! by the original file, unchanged, up to the end.

use super::encrypted::parse_encryption;
use super::error::FormatError;
use super::header::parse_header;
use super::model::SignedFile;

/// Placeholder signer serial that Cisco's firmware signer writes (the key is built into the
/// phone firmware, so no trust list can resolve it).
const FIRMWARE_PLACEHOLDER_SERIAL: [u8; 8] = [0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef];

/// Parses a signed file: header, then `payload = bytes[HEADER_LENGTH..]`; an `.enc.sgn`'s
/// encryption elements (tags 16–27) go to `encryption`. It does not check that the payload
/// is not a trust list; use [`super::detect_format`] to tell them apart.
pub fn parse_signed_file(bytes: &[u8]) -> Result<SignedFile<'_>, FormatError> {
    let header = parse_header(bytes)?;
    let encryption = parse_encryption(&header)?;
    let payload = bytes
        .get(usize::from(header.header_length)..)
        .unwrap_or_default();
    Ok(SignedFile {
        bytes,
        header,
        payload,
        encryption,
    })
}

impl SignedFile<'_> {
    /// True when the header names Cisco's firmware placeholder signer (`CN=someSigner…`,
    /// serial `1234567890abcdef`): signed with a key only the phone firmware knows.
    pub fn is_firmware_signed(&self) -> bool {
        self.header.signer_serial == Some(&FIRMWARE_PLACEHOLDER_SERIAL[..])
            || self
                .header
                .signer_name
                .is_some_and(|n| n.starts_with(b"CN=someSigner"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_follows_the_header() {
        let bytes = [1, 0, 2, 1, 0, 2, 0, 2, 0, 12, 0x0D, 0x0D, b'<', b'x', b'>'];
        let signed = parse_signed_file(&bytes).expect("parses");
        assert_eq!(signed.payload, b"<x>");
        assert_eq!(signed.header.version, (1, 0));
        assert!(!signed.is_firmware_signed());
    }
}
