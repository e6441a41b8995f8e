//! Why an `--evidence` file could not be used. Every variant names the file.

/// An `--evidence` file that cannot be read or is none of the known kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidecarError {
    /// Reading failed.
    #[error("{file}: {error}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        error: String,
    },
    /// Larger than the limit.
    #[error("{file}: larger than {limit} bytes, not evidence itlscope reads")]
    TooLarge {
        /// The file.
        file: String,
        /// The limit.
        limit: u64,
    },
    /// None of the known kinds.
    #[error(
        "{file}: not a phone console log, Status Messages text, CUCM `show itl`/`show ctl` output, certificate (PEM/DER), CUCM TVS trace or PRT archive ({why})"
    )]
    Unrecognised {
        /// The file (and member).
        file: String,
        /// What was seen.
        why: String,
    },
    /// A corrupt archive or compressed stream.
    #[error("{file}: {why}")]
    Archive {
        /// The file (and member).
        file: String,
        /// What went wrong.
        why: String,
    },
}
