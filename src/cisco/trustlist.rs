//! ITL / CTL trust lists: header, then records back to back up to the end of the file, each
//! starting with RECORDLENGTH (which counts its own 5 bytes).

use super::error::FormatError;
use super::header::parse_header;
use super::model::{FileFormat, Header, Record, TrustList, function};
use super::tlv::{Walker, fixed_u16_element, strip_nul};
use std::net::Ipv4Addr;

/// Record tag numbers.
pub mod tag {
    /// RECORDLENGTH.
    pub const RECORD_LENGTH: u8 = 1;
    /// DNSNAME.
    pub const DNS_NAME: u8 = 2;
    /// SUBJECTNAME.
    pub const SUBJECT_NAME: u8 = 3;
    /// FUNCTION.
    pub const FUNCTION: u8 = 4;
    /// ISSUERNAME.
    pub const ISSUER_NAME: u8 = 5;
    /// SERIALNUMBER.
    pub const SERIAL_NUMBER: u8 = 6;
    /// PUBLICKEY.
    pub const PUBLIC_KEY: u8 = 7;
    /// SIGNATURE (of the certificate).
    pub const SIGNATURE: u8 = 8;
    /// CERTIFICATE.
    pub const CERTIFICATE: u8 = 9;
    /// IPADDRESS.
    pub const IP_ADDRESS: u8 = 10;
    /// CERTHASH.
    pub const CERT_HASH: u8 = 11;
    /// HASH ALGORITHM.
    pub const HASH_ALGORITHM: u8 = 12;

    /// CUCM's name for a record tag.
    pub fn name(tag: u8) -> &'static str {
        match tag {
            RECORD_LENGTH => "RECORDLENGTH",
            DNS_NAME => "DNSNAME",
            SUBJECT_NAME => "SUBJECTNAME",
            FUNCTION => "FUNCTION",
            ISSUER_NAME => "ISSUERNAME",
            SERIAL_NUMBER => "SERIALNUMBER",
            PUBLIC_KEY => "PUBLICKEY",
            SIGNATURE => "SIGNATURE",
            CERTIFICATE => "CERTIFICATE",
            IP_ADDRESS => "IPADDRESS",
            CERT_HASH => "CERTHASH",
            HASH_ALGORITHM => "HASH ALGORITHM",
            _ => "UNKNOWN",
        }
    }
}

/// Size of the RECORDLENGTH element.
const RECORD_LENGTH_SIZE: usize = 5;

/// Parses an ITL or CTL file. Fails on any structural error (a record or element past its
/// end, a bad fixed-width value, a repeated tag); unknown tags and functions are kept raw.
pub fn parse_trust_list(bytes: &[u8]) -> Result<TrustList<'_>, FormatError> {
    let header = parse_header(bytes)?;
    let records = parse_records(bytes, usize::from(header.header_length))?;
    let format = kind(&header, &records);
    Ok(TrustList {
        format,
        bytes,
        header,
        records,
    })
}

/// True when the bytes at `offset` begin a record (`01 00 02` and RECORDLENGTH >= 5): how a
/// trust list is told from a signed file's payload.
pub(crate) fn starts_record(bytes: &[u8], offset: usize) -> bool {
    matches!(
        bytes.get(offset..offset + RECORD_LENGTH_SIZE),
        Some([tag::RECORD_LENGTH, 0, 2, hi, lo]) if u16::from_be_bytes([*hi, *lo]) >= 5
    )
}

/// ITL or CTL: by FILENAME (`ITL…`, `ext_ITL…` / `CTL…`), else by content (TVS records or the
/// ITL-only tag 28 make an ITL), else CTL.
pub(crate) fn kind(header: &Header<'_>, records: &[Record<'_>]) -> FileFormat {
    if let Some(name) = header.filename {
        let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
        let upper = base.to_ascii_uppercase();
        if upper.starts_with(b"ITL") || upper.starts_with(b"EXT_ITL") {
            return FileFormat::Itl;
        }
        if upper.starts_with(b"CTL") {
            return FileFormat::Ctl;
        }
    }
    let has_tvs = records.iter().any(|r| r.function == Some(function::TVS));
    if has_tvs || header.signer_version.is_some() {
        FileFormat::Itl
    } else {
        FileFormat::Ctl
    }
}

/// What can be read of a damaged trust list: the header (when it parses), every record
/// before the first broken one, and the error that stopped reading (None: nothing wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvaged<'a> {
    /// The header, when it parses.
    pub header: Option<Header<'a>>,
    /// The records read before the error.
    pub records: Vec<Record<'a>>,
    /// What stopped the reading.
    pub error: Option<FormatError>,
}

/// Reads as much of a trust list as parses, for showing a damaged file.
pub fn salvage(bytes: &[u8]) -> Salvaged<'_> {
    let header = match parse_header(bytes) {
        Ok(h) => h,
        Err(e) => {
            return Salvaged {
                header: None,
                records: Vec::new(),
                error: Some(e),
            };
        }
    };
    let mut records = Vec::new();
    let mut pos = usize::from(header.header_length);
    let mut error = None;
    while pos < bytes.len() {
        match parse_record(bytes, pos, records.len() + 1) {
            Ok(record) => {
                pos += usize::from(record.length);
                records.push(record);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    Salvaged {
        header: Some(header),
        records,
        error,
    }
}

fn parse_records(bytes: &[u8], start: usize) -> Result<Vec<Record<'_>>, FormatError> {
    let mut records = Vec::new();
    let mut pos = start;
    while pos < bytes.len() {
        let number = records.len() + 1;
        let record = parse_record(bytes, pos, number)?;
        pos += usize::from(record.length);
        records.push(record);
    }
    Ok(records)
}

fn parse_record(bytes: &[u8], offset: usize, number: usize) -> Result<Record<'_>, FormatError> {
    let record = Some(number);
    let (length_element, length) = fixed_u16_element(
        bytes,
        offset,
        tag::RECORD_LENGTH,
        "RECORDLENGTH",
        "RECORDLENGTH (tag 1) at the start of a record",
        record,
    )?;
    let remaining = bytes.len().saturating_sub(offset);
    let end = offset + usize::from(length);
    if usize::from(length) < RECORD_LENGTH_SIZE || usize::from(length) > remaining {
        return Err(FormatError::RecordLength {
            length,
            remaining,
            number,
            offset,
            record,
        });
    }
    let mut rec = Record {
        offset,
        length,
        elements: vec![length_element],
        ..Record::default()
    };
    let mut walker = Walker::record(bytes, offset, offset + RECORD_LENGTH_SIZE, end, number);
    while let Some(element) = walker.next_element()? {
        if element.tag != tag::RECORD_LENGTH
            && let Some(first) = rec.elements.iter().find(|e| e.tag == element.tag)
            && is_known(element.tag)
        {
            return Err(FormatError::Duplicate {
                tag: element.tag,
                first: first.offset,
                offset: element.offset,
                record,
            });
        }
        let bad_length = |expected: u16| FormatError::BadLength {
            element: tag::name(element.tag),
            tag: element.tag,
            length: u16::try_from(element.value.len()).unwrap_or(u16::MAX),
            expected,
            offset: element.offset,
            record,
        };
        let v = element.value;
        match element.tag {
            tag::RECORD_LENGTH => {
                return Err(FormatError::Duplicate {
                    tag: element.tag,
                    first: offset,
                    offset: element.offset,
                    record,
                });
            }
            tag::DNS_NAME => rec.dns_name = Some(strip_nul(v)),
            tag::SUBJECT_NAME => rec.subject = Some(strip_nul(v)),
            tag::FUNCTION => match v {
                [hi, lo] => rec.function = Some(u16::from_be_bytes([*hi, *lo])),
                _ => return Err(bad_length(2)),
            },
            tag::ISSUER_NAME => rec.issuer = Some(strip_nul(v)),
            tag::SERIAL_NUMBER => rec.serial = Some(v),
            tag::PUBLIC_KEY => rec.public_key = Some(v),
            tag::SIGNATURE => rec.signature = Some(v),
            tag::CERTIFICATE => rec.certificate = Some(v),
            tag::IP_ADDRESS => match v {
                [a, b, c, d] => rec.ip_address = Some(Ipv4Addr::new(*a, *b, *c, *d)),
                _ => return Err(bad_length(4)),
            },
            tag::CERT_HASH => rec.cert_hash = Some(v),
            // Width never seen in genuine bytes: one byte is understood, others kept raw.
            tag::HASH_ALGORITHM => {
                if let [b] = v {
                    rec.hash_algorithm = Some(*b);
                }
            }
            _ => {}
        }
        rec.elements.push(element);
    }
    Ok(rec)
}

fn is_known(t: u8) -> bool {
    (tag::RECORD_LENGTH..=tag::HASH_ALGORITHM).contains(&t)
}

impl TrustList<'_> {
    /// True for a "rollback" trust list (Prepare Cluster for Rollback to pre 8.0): it has
    /// records, and none of them carries a certificate, a certificate hash or a public key.
    pub fn is_rollback(&self) -> bool {
        !self.records.is_empty()
            && self
                .records
                .iter()
                .all(|r| r.certificate.is_none() && r.cert_hash.is_none() && r.public_key.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(filename: &[u8]) -> Vec<u8> {
        let mut h = vec![1, 0, 2, 1, 2, 2, 0, 2, 0, 0, 14, 0];
        h.push(u8::try_from(filename.len()).expect("short"));
        h.extend_from_slice(filename);
        while h.len() % 4 != 0 {
            h.push(0x0D);
        }
        let hl = u8::try_from(h.len()).expect("short");
        h[9] = hl;
        h
    }

    #[test]
    fn records_with_unknown_tags_and_functions() {
        let mut file = header(b"ITLFile.tlv\0");
        let hl = file.len();
        file.extend_from_slice(&[
            1, 0, 2, 0, 21, 4, 0, 2, 0, 99, 0x42, 0, 1, 7, 10, 0, 4, 10, 0, 0, 1,
        ]);
        file.extend_from_slice(&[1, 0, 2, 0, 10, 4, 0, 2, 0, 21]);
        let tl = parse_trust_list(&file).expect("parses");
        assert_eq!(tl.format, FileFormat::Itl);
        assert_eq!(tl.records.len(), 2);
        assert_eq!(tl.records[0].offset, hl);
        assert_eq!(tl.records[0].function, Some(99));
        assert_eq!(tl.records[0].elements[2].tag, 0x42);
        assert_eq!(tl.records[0].ip_address, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(tl.records[1].function, Some(function::TVS));
        assert!(tl.is_rollback());
    }

    #[test]
    fn record_errors_name_the_record() {
        let mut file = header(b"CTLFile.tlv\0");
        let hl = file.len();
        file.extend_from_slice(&[1, 0, 2, 0, 10, 4, 0, 2, 0, 0]);
        file.extend_from_slice(&[1, 0, 2, 0, 40, 4, 0, 2, 0, 0]);
        let err = parse_trust_list(&file).expect_err("record 2 too long");
        assert_eq!(err.offset(), hl + 10);
        assert_eq!(err.record(), Some(2));
        assert!(
            err.to_string()
                .ends_with(&format!("at byte offset {} (record #2)", hl + 10))
        );

        let mut file = header(b"CTLFile.tlv\0");
        file.extend_from_slice(&[1, 0, 2, 0, 10, 4, 0, 3, 0, 0]);
        assert!(matches!(
            parse_trust_list(&file),
            Err(FormatError::Overrun {
                record: Some(1),
                ..
            })
        ));
        let mut file = header(b"CTLFile.tlv\0");
        file.extend_from_slice(&[1, 0, 2, 0, 11, 4, 0, 3, 0, 0, 0]);
        assert!(matches!(
            parse_trust_list(&file),
            Err(FormatError::BadLength { tag: 4, .. })
        ));
        let mut file = header(b"CTLFile.tlv\0");
        file.extend_from_slice(&[1, 0, 2]);
        assert!(matches!(
            parse_trust_list(&file),
            Err(FormatError::Truncated {
                record: Some(1),
                ..
            })
        ));
    }

    #[test]
    fn kind_falls_back_to_content() {
        let mut file = header(b"");
        file.extend_from_slice(&[1, 0, 2, 0, 10, 4, 0, 2, 0, 2]);
        assert_eq!(parse_trust_list(&file).expect("ok").format, FileFormat::Ctl);
        let mut file = header(b"dir/ext_ITLSEP001122334455.tlv\0");
        file.extend_from_slice(&[1, 0, 2, 0, 10, 4, 0, 2, 0, 2]);
        assert_eq!(parse_trust_list(&file).expect("ok").format, FileFormat::Itl);
    }
}
