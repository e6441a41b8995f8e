//! Link and network layer decoding: Ethernet, Linux SLL/SLL2, raw IP, BSD loopback,
//! 802.1Q/802.1ad tags, IPv4 and IPv6 (extension headers), and IP fragment reassembly.
//!
//! Turns a [`crate::capture::Frame`] into a transport-level packet with addresses and ports.
