//! The error of the trust-list and signed-file parsers: what went wrong, where (byte offset in
//! the file) and in which record (`None` for the header).

use std::fmt;

/// The part of a file an element belongs to, for overrun messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The header (up to HEADER_LENGTH).
    Header,
    /// The header container with this tag (3, 7, 9, 16, 17, 21).
    Container(u8),
    /// Record number k (1-based).
    Record(usize),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Header => f.write_str("the header"),
            Scope::Container(tag) => write!(f, "header container tag {tag}"),
            Scope::Record(k) => write!(f, "record #{k}"),
        }
    }
}

/// `(record #k)` or `(header)`.
fn place(record: &Option<usize>) -> String {
    match record {
        Some(k) => format!("record #{k}"),
        None => "header".to_owned(),
    }
}

/// A malformed trust list or signed file. Every variant carries the byte offset of the
/// element at fault and the record number (`None` in the header); the message reads
/// `<what> at byte offset N (record #k)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Fewer bytes left than the element needs.
    #[error(
        "truncated {element}: needs {needed} bytes, {available} left at byte offset {offset} ({})",
        place(.record)
    )]
    Truncated {
        /// What was being read.
        element: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
        /// Where.
        offset: usize,
        /// Record number, `None` in the header.
        record: Option<usize>,
    },
    /// A different element than the format requires at this place.
    #[error("expected {expected}, found {found} at byte offset {offset} ({})", place(.record))]
    Unexpected {
        /// What the format requires here.
        expected: &'static str,
        /// What is there.
        found: String,
        /// Where.
        offset: usize,
        /// Record number, `None` in the header.
        record: Option<usize>,
    },
    /// A fixed-width element with another length.
    #[error(
        "{element} (tag {tag}) has length {length}, expected {expected} at byte offset {offset} ({})",
        place(.record)
    )]
    BadLength {
        /// Element name.
        element: &'static str,
        /// Tag.
        tag: u8,
        /// Length found.
        length: u16,
        /// Length required.
        expected: u16,
        /// Where.
        offset: usize,
        /// Record number, `None` in the header.
        record: Option<usize>,
    },
    /// HEADER_LENGTH smaller than the two fixed elements or past the end of the file.
    #[error(
        "HEADER_LENGTH {header_length} outside 10..={file_len} (the file size) at byte offset {offset} (header)"
    )]
    HeaderLength {
        /// The value.
        header_length: u16,
        /// File size.
        file_len: usize,
        /// Offset of the HEADER_LENGTH element.
        offset: usize,
    },
    /// RECORDLENGTH below 5 or past the end of the file.
    #[error(
        "RECORDLENGTH {length} of record #{number} outside 5..={remaining} (bytes left in the file) at byte offset {offset} ({})",
        place(.record)
    )]
    RecordLength {
        /// The value.
        length: u16,
        /// Bytes from the record start to the end of the file.
        remaining: usize,
        /// Record number (same as `record`, for the message).
        number: usize,
        /// Offset of the record.
        offset: usize,
        /// Record number.
        record: Option<usize>,
    },
    /// An element whose length runs past the end of its record, container or header.
    #[error(
        "element tag {tag} of length {length} runs past the end of {scope} (bytes {scope_start}..{scope_end}) at byte offset {offset} ({})",
        place(.record)
    )]
    Overrun {
        /// Tag.
        tag: u8,
        /// Length field.
        length: u16,
        /// What it overruns.
        scope: Scope,
        /// Start of that scope.
        scope_start: usize,
        /// End (exclusive) of that scope.
        scope_end: usize,
        /// Offset of the element.
        offset: usize,
        /// Record number, `None` in the header.
        record: Option<usize>,
    },
    /// A tag that may appear once appears again.
    #[error("tag {tag} repeated (first at byte {first}) at byte offset {offset} ({})", place(.record))]
    Duplicate {
        /// Tag.
        tag: u8,
        /// Offset of the first occurrence.
        first: usize,
        /// Offset of the repeat.
        offset: usize,
        /// Record number, `None` in the header.
        record: Option<usize>,
    },
}

impl FormatError {
    /// Byte offset of the element at fault.
    pub fn offset(&self) -> usize {
        match self {
            FormatError::Truncated { offset, .. }
            | FormatError::Unexpected { offset, .. }
            | FormatError::BadLength { offset, .. }
            | FormatError::HeaderLength { offset, .. }
            | FormatError::RecordLength { offset, .. }
            | FormatError::Overrun { offset, .. }
            | FormatError::Duplicate { offset, .. } => *offset,
        }
    }

    /// Record number (1-based), `None` for the header.
    pub fn record(&self) -> Option<usize> {
        match self {
            FormatError::Truncated { record, .. }
            | FormatError::Unexpected { record, .. }
            | FormatError::BadLength { record, .. }
            | FormatError::RecordLength { record, .. }
            | FormatError::Overrun { record, .. }
            | FormatError::Duplicate { record, .. } => *record,
            FormatError::HeaderLength { .. } => None,
        }
    }
}
