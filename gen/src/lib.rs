//! Builders for itlscope's test data and scenario captures. Deterministic: the same inputs
//! give the same bytes on every run.
#![forbid(unsafe_code)]

pub mod bench;
pub mod conv;
pub mod enc_sgn;
pub mod filler;
pub mod packet;
pub mod pcap;
pub mod pki;
pub mod scenarios;
pub mod tls;
pub mod trustlist;
pub mod tunnel;
