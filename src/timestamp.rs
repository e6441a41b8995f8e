//! The one time type of the tool: a capture's frame times, and times read from phone logs.
//!
//! It lives at the ground floor so the evidence, the capture reader and the phone-log reader
//! share it without importing one another.

/// A capture timestamp: nanoseconds since the Unix epoch (UTC).
///
/// Kept as one integer so arithmetic (timeouts, ordering) is trivial; `i64` nanoseconds
/// reach the year 2262.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from seconds and nanoseconds.
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(i64::from(nanos)),
        )
    }
    /// Whole seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }
    /// Nanoseconds within the second.
    pub fn subsec_nanos(self) -> u32 {
        // rem_euclid of a positive modulus is always in 0..1e9, so it fits in u32.
        self.0.rem_euclid(1_000_000_000) as u32
    }
    /// RFC 3339 rendering in UTC with nanosecond precision, e.g. `2026-11-28T10:00:00.000000001Z`.
    pub fn to_rfc3339(self) -> String {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
        );
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0))
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| format!("{}.{:09}", self.secs(), self.subsec_nanos()))
    }
}
