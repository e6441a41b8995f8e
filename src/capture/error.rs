//! Errors of the capture reader. Every variant names the file; those met mid-file also say
//! after which frame and at which byte offset reading stopped.

use std::fmt::Write as _;
use std::io;

/// Why a capture could not be read (or could not be read to its end).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The input starts with neither a pcap nor a pcapng header.
    #[error(
        "{path}: not a pcap or pcapng capture ({})",
        describe_first_bytes(first_bytes)
    )]
    NotACapture {
        /// The file as named by the caller.
        path: String,
        /// Up to the first 16 bytes of the input (after gzip decompression if it was gzip).
        first_bytes: Vec<u8>,
    },
    /// The file could not be opened or its first bytes could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file as named by the caller.
        path: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Reading failed part-way (disk error, corrupt gzip stream, …).
    #[error("{path}: read error after frame {frame} (byte offset {offset}): {source}")]
    Read {
        /// The file as named by the caller.
        path: String,
        /// Frames returned before the failure.
        frame: u64,
        /// Bytes of the capture consumed before the failure.
        offset: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file's record structure is broken beyond resynchronisation (e.g. a pcapng block
    /// length that is not a multiple of 4): frames before this point were returned.
    #[error("{path}: corrupt capture after frame {frame} (byte offset {offset}): {reason}")]
    Corrupt {
        /// The file as named by the caller.
        path: String,
        /// Frames returned before the corrupt record.
        frame: u64,
        /// Byte offset of the corrupt record.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// A record claims to be larger than the reader's block size limit; memory stays bounded
    /// so reading stops there.
    #[error(
        "{path}: record at byte offset {offset} (after frame {frame}) claims {claimed} bytes, over the {limit}-byte limit"
    )]
    RecordTooLarge {
        /// The file as named by the caller.
        path: String,
        /// Frames returned before the record.
        frame: u64,
        /// Byte offset of the record.
        offset: u64,
        /// The length the record header claims.
        claimed: u64,
        /// The configured limit ([`crate::capture::ReaderOptions::max_record_size`]).
        limit: usize,
    },
}

/// How many leading bytes [`CaptureError::NotACapture`] shows.
const SHOWN_BYTES: usize = 8;

/// `first bytes 3c 68 74 6d 6c 3e 0a 3c ...`, or `empty file`.
fn describe_first_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "empty file".to_string();
    }
    let mut out = String::from("first bytes");
    for b in bytes.iter().take(SHOWN_BYTES) {
        let _ = write!(out, " {b:02x}");
    }
    if bytes.len() > SHOWN_BYTES {
        out.push_str(" ...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_capture_shows_the_first_bytes() {
        let e = CaptureError::NotACapture {
            path: "x.html".into(),
            first_bytes: b"<html>\n<body>".to_vec(),
        };
        assert_eq!(
            e.to_string(),
            "x.html: not a pcap or pcapng capture (first bytes 3c 68 74 6d 6c 3e 0a 3c ...)"
        );
        let short = CaptureError::NotACapture {
            path: "s".into(),
            first_bytes: vec![1, 2],
        };
        assert_eq!(
            short.to_string(),
            "s: not a pcap or pcapng capture (first bytes 01 02)"
        );
        let empty = CaptureError::NotACapture {
            path: "e".into(),
            first_bytes: vec![],
        };
        assert_eq!(
            empty.to_string(),
            "e: not a pcap or pcapng capture (empty file)"
        );
    }
}
