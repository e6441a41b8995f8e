//! itlscope: does this Cisco IP phone's Identity Trust List really have to be deleted?
//!
//! The library is a one-way pipeline; each stage only knows the stages below it:
//!
//! ```text
//! capture  (pcap / pcapng frames)
//!   -> net        (link layer, VLAN, IPv4/IPv6, defragmentation)
//!   -> transport  (UDP dispatch, TCP reassembly)
//!   -> proto      (TFTP, HTTP on 6970, TLS, SIP alarms)  => evidence
//! sidecar  (--evidence: phone logs, Status Messages, CUCM CLI text, exported certificates)
//!   -> cisco      (trust lists and signed files: parse and verify; no packets)
//!   -> trust      (the one trust decision: would a phone holding this list accept that file?)
//!   -> diagnosis  (per-phone checks and the verdict; no byte parsing)
//!   -> report     (text and JSON; formatting only)
//! ```
//!
//! [`evidence`] holds the plain data the protocol stage hands up to the diagnosis.
#![forbid(unsafe_code)]

pub mod alarm;
pub mod budget;
pub mod capture;
pub mod cisco;
pub mod codes;
pub mod diagnosis;
pub mod diff;
pub mod dn;
pub mod events;
pub mod evidence;
pub mod extract;
pub mod follow;
pub mod net;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod proto;
pub mod report;
pub mod serial;
pub mod sidecar;
pub mod timestamp;
pub mod transport;
pub mod trust;
pub mod x509;
