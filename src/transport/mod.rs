//! Transport layer: UDP dispatch and per-direction TCP stream reassembly.
