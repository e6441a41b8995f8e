//! Transport layer: UDP dispatch and per-direction TCP stream reassembly.

pub mod tcp;
pub mod udp;
