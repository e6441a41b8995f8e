//! Application protocols that carry the phone's trust evidence: TFTP, HTTP on TCP 6970,
//! TLS handshakes (TVS on 2445 above all) and clear-text SIP alarms.
//!
//! Each protocol module turns transport data into [`crate::evidence`] records.

pub mod sip;
