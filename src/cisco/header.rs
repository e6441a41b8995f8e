//! The header shared by trust lists and signed files: VERSION and HEADER_LENGTH first, then
//! tags 3–15 and 28 in any order (unknown tags kept raw), padded with `0x0D`.

use super::error::FormatError;
use super::model::{Element, Header};
use super::tlv::{PADDING, Walker, fixed_u16_element, strip_nul};

/// Header tag numbers.
pub mod tag {
    /// VERSION (major, minor).
    pub const VERSION: u8 = 1;
    /// HEADER_LENGTH (u16).
    pub const HEADER_LENGTH: u8 = 2;
    /// SIGNERID container.
    pub const SIGNER_ID: u8 = 3;
    /// SIGNERNAME.
    pub const SIGNER_NAME: u8 = 4;
    /// SERIALNUMBER of the signer.
    pub const SERIAL_NUMBER: u8 = 5;
    /// CANAME (signer issuer).
    pub const CA_NAME: u8 = 6;
    /// SIGNATUREINFO container.
    pub const SIGNATURE_INFO: u8 = 7;
    /// DIGESTALGORITHM.
    pub const DIGEST_ALGORITHM: u8 = 8;
    /// SIGNATUREALGOINFO container.
    pub const SIGNATURE_ALGO_INFO: u8 = 9;
    /// SIGNATUREALGORITHM.
    pub const SIGNATURE_ALGORITHM: u8 = 10;
    /// SIGNATUREMODULUS.
    pub const SIGNATURE_MODULUS: u8 = 11;
    /// SIGNATURE.
    pub const SIGNATURE: u8 = 12;
    /// FILENAME.
    pub const FILENAME: u8 = 14;
    /// TIMESTAMP.
    pub const TIMESTAMP: u8 = 15;
    /// ITL signer version.
    pub const SIGNER_VERSION: u8 = 28;

    /// CUCM's name for a header tag.
    pub fn name(tag: u8) -> &'static str {
        match tag {
            VERSION => "VERSION",
            HEADER_LENGTH => "HEADERLENGTH",
            SIGNER_ID => "SIGNERID",
            SIGNER_NAME => "SIGNERNAME",
            SERIAL_NUMBER => "SERIALNUMBER",
            CA_NAME => "CANAME",
            SIGNATURE_INFO => "SIGNATUREINFO",
            DIGEST_ALGORITHM => "DIGESTALGORITHM",
            SIGNATURE_ALGO_INFO => "SIGNATUREALGOINFO",
            SIGNATURE_ALGORITHM => "SIGNATUREALGORITHM",
            SIGNATURE_MODULUS => "SIGNATUREMODULUS",
            SIGNATURE => "SIGNATURE",
            13 => "PADDING",
            FILENAME => "FILENAME",
            TIMESTAMP => "TIMESTAMP",
            16 => "ENCRYPTIONINFO",
            17 => "ENCRYPTIONIVINFO",
            18 => "ENCRYPTIONUNKNOWN1",
            19 => "ENCRYPTIONIV",
            20 => "ENCRYPTIONPADDING",
            21 => "ENCRYPTIONKEYINFO",
            22 => "ENCRYPTIONUNKNOWN2",
            23 => "ENCRYPTIONKEYSIZE",
            24 => "ENCRYPTIONKEYALGO",
            25 => "ENCRYPTIONKEY",
            26 => "ENCRYPTIONHASHALGO",
            27 => "ENCRYPTIONHASH",
            SIGNER_VERSION => "SIGNERVERSION",
            _ => "UNKNOWN",
        }
    }
}

/// Offset of the first element after the two fixed ones.
const FIXED_PART: usize = 10;

/// Parses the header at the start of `file`.
pub fn parse_header(file: &[u8]) -> Result<Header<'_>, FormatError> {
    let (version_element, _) = fixed_u16_element(
        file,
        0,
        tag::VERSION,
        "VERSION",
        "VERSION (tag 1) at the start of the file",
        None,
    )?;
    let version = match version_element.value {
        [major, minor] => (*major, *minor),
        _ => (0, 0),
    };
    let (length_element, header_length) = fixed_u16_element(
        file,
        5,
        tag::HEADER_LENGTH,
        "HEADER_LENGTH",
        "HEADER_LENGTH (tag 2) after VERSION",
        None,
    )?;
    let hl = usize::from(header_length);
    if hl < FIXED_PART || hl > file.len() {
        return Err(FormatError::HeaderLength {
            header_length,
            file_len: file.len(),
            offset: 5,
        });
    }

    let mut header = Header {
        version,
        header_length,
        elements: vec![version_element, length_element],
        ..Header::default()
    };
    let mut walker = Walker::header(file, FIXED_PART, hl);
    while let Some(element) = walker.next_element()? {
        apply(&mut header, element)?;
        header.elements.push(element);
    }
    Ok(header)
}

/// One byte of a 1-byte element.
pub(crate) fn one_byte(element: &Element<'_>, name: &'static str) -> Result<u8, FormatError> {
    match element.value {
        [b] => Ok(*b),
        other => Err(bad_length(element, name, other.len(), 1)),
    }
}

pub(crate) fn bad_length(
    element: &Element<'_>,
    name: &'static str,
    len: usize,
    expected: u16,
) -> FormatError {
    FormatError::BadLength {
        element: name,
        tag: element.tag,
        length: u16::try_from(len).unwrap_or(u16::MAX),
        expected,
        offset: element.offset,
        record: None,
    }
}

/// Stores `value` in `slot`, refusing a second occurrence.
pub(crate) fn once<T>(
    slot: &mut Option<T>,
    value: T,
    element: &Element<'_>,
    elements: &[Element<'_>],
) -> Result<(), FormatError> {
    if slot.is_some() {
        let first = elements
            .iter()
            .find(|e| e.tag == element.tag)
            .map_or(element.offset, |e| e.offset);
        return Err(FormatError::Duplicate {
            tag: element.tag,
            first,
            offset: element.offset,
            record: None,
        });
    }
    *slot = Some(value);
    Ok(())
}

fn apply<'a>(header: &mut Header<'a>, element: Element<'a>) -> Result<(), FormatError> {
    let elements = &header.elements;
    match element.tag {
        PADDING => header.padding += 1,
        tag::VERSION | tag::HEADER_LENGTH => {
            let first = if element.tag == tag::VERSION { 0 } else { 5 };
            return Err(FormatError::Duplicate {
                tag: element.tag,
                first,
                offset: element.offset,
                record: None,
            });
        }
        tag::SIGNER_NAME => once(
            &mut header.signer_name,
            strip_nul(element.value),
            &element,
            elements,
        )?,
        tag::SERIAL_NUMBER => once(&mut header.signer_serial, element.value, &element, elements)?,
        tag::CA_NAME => once(
            &mut header.signer_issuer,
            strip_nul(element.value),
            &element,
            elements,
        )?,
        tag::DIGEST_ALGORITHM => {
            let v = one_byte(&element, "DIGESTALGORITHM")?;
            once(&mut header.digest_algorithm, v, &element, elements)?;
        }
        tag::SIGNATURE_ALGORITHM => {
            let v = one_byte(&element, "SIGNATUREALGORITHM")?;
            once(&mut header.signature_algorithm, v, &element, elements)?;
        }
        tag::SIGNATURE_MODULUS => {
            let v = one_byte(&element, "SIGNATUREMODULUS")?;
            once(&mut header.modulus_code, v, &element, elements)?;
        }
        tag::SIGNATURE => once(
            &mut header.signature,
            (element.offset, element.value),
            &element,
            elements,
        )?,
        tag::FILENAME => once(
            &mut header.filename,
            strip_nul(element.value),
            &element,
            elements,
        )?,
        tag::TIMESTAMP => {
            let v = match element.value {
                [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
                other => return Err(bad_length(&element, "TIMESTAMP", other.len(), 4)),
            };
            once(&mut header.timestamp, v, &element, elements)?;
        }
        tag::SIGNER_VERSION => {
            let v = match element.value {
                [major, minor] => (*major, *minor),
                other => return Err(bad_length(&element, "SIGNERVERSION", other.len(), 2)),
            };
            once(&mut header.signer_version, v, &element, elements)?;
        }
        // Containers and unknown tags are kept raw in `elements`.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_header() {
        let bytes = [1, 0, 2, 1, 2, 2, 0, 2, 0, 12, 0x0D, 0x0D];
        let header = parse_header(&bytes).expect("parses");
        assert_eq!(header.version, (1, 2));
        assert_eq!(header.header_length, 12);
        assert_eq!(header.padding, 2);
        assert_eq!(header.elements.len(), 4);
    }

    #[test]
    fn bad_starts_are_rejected_with_offsets() {
        assert!(matches!(
            parse_header(&[1, 0, 2, 1]),
            Err(FormatError::Truncated { offset: 0, .. })
        ));
        assert!(matches!(
            parse_header(&[9, 0, 2, 1, 2, 2, 0, 2, 0, 10]),
            Err(FormatError::Unexpected { offset: 0, .. })
        ));
        assert!(matches!(
            parse_header(&[1, 0, 2, 1, 2, 2, 0, 2, 0, 40]),
            Err(FormatError::HeaderLength {
                header_length: 40,
                ..
            })
        ));
        assert!(matches!(
            parse_header(&[
                1, 0, 2, 1, 2, 2, 0, 2, 0, 20, 15, 0, 3, 1, 2, 3, 15, 0, 1, 1
            ]),
            Err(FormatError::BadLength {
                tag: 15,
                offset: 10,
                ..
            })
        ));
    }

    #[test]
    fn duplicate_signature_is_rejected() {
        let bytes = [1, 0, 2, 1, 2, 2, 0, 2, 0, 18, 12, 0, 1, 9, 12, 0, 1, 9];
        assert!(matches!(
            parse_header(&bytes),
            Err(FormatError::Duplicate {
                tag: 12,
                first: 10,
                offset: 14,
                ..
            })
        ));
    }
}
