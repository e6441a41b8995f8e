//! Short HTTPS sessions for the TLS-heavy mix: what a PC behind the phone produces all day.
//! Each session is a full TLS 1.2 handshake (ClientHello; ServerHello, Certificate with a
//! two-certificate chain, ServerKeyExchange, ServerHelloDone; ClientKeyExchange,
//! ChangeCipherSpec, Finished; ChangeCipherSpec, Finished) followed by a little
//! application data each way, as in the field capture of issue 10.
//!
//! The handshakes come from a fixed set of web servers, built once: the analyzer sees the same
//! server certificate tens of thousands of times, which is what certificate interning is for.

use crate::filler::Filler;
use crate::pki::{CertSpec, KeyName};
use crate::tls::{self, content_type, suite, version};
use std::rc::Rc;

/// The handshake bytes of one web server, message by message, as they go on the wire
/// (whole TLS records). Message `i` is sent by the client when `i` is even.
#[derive(Debug)]
pub(super) struct Handshake {
    /// Client hello; server flight; client finish; server finish.
    pub parts: [Vec<u8>; 4],
}

/// Distinct web servers (and so distinct certificate chains) of the TLS-heavy mix.
pub(super) const SERVERS: usize = 48;
/// Issuing CAs those servers share.
const CAS: usize = 4;

/// Builds the handshake of every web server (signs `SERVERS` + `CAS` certificates).
pub(super) fn handshakes(seed: u64) -> Vec<Rc<Handshake>> {
    let cas: Vec<_> = (0..CAS)
        .map(|i| CertSpec::ca(&format!("Bench Web Issuing CA {i}")).self_signed())
        .collect();
    (0..SERVERS)
        .map(|i| {
            let host = format!("www{i}.bench.example");
            let serial = [0x42, (i >> 8) as u8, i as u8, 0x01];
            let ca = &cas[i % CAS];
            let leaf = CertSpec::new(&host, KeyName::Tomcat, &serial).issued_by(ca);
            Rc::new(handshake(
                seed.wrapping_add(i as u64),
                &host,
                &leaf.der,
                &ca.der,
            ))
        })
        .collect()
}

fn handshake(seed: u64, host: &str, leaf: &[u8], ca: &[u8]) -> Handshake {
    let v12 = version::TLS12;
    let chosen = suite::ECDHE_RSA_AES128_GCM_SHA256;
    let hello = tls::ClientHello::tls12(seed, v12, Some(host)).encode();
    let client_hello = tls::records(content_type::HANDSHAKE, version::TLS10, &hello, 16384);

    let mut flight = tls::ServerHello::tls12(seed, v12, chosen).encode();
    flight.extend(tls::certificate(&[leaf, ca]));
    flight.extend(tls::server_key_exchange_ecdhe(seed, 256));
    flight.extend(tls::server_hello_done());
    let server_flight = tls::records(content_type::HANDSHAKE, v12, &flight, 16384);

    let mut filler = Filler::labelled(seed, "bench-https-finished");
    let finished_len = tls::encrypted_finished_len(chosen);
    let mut client_finish = tls::record(
        content_type::HANDSHAKE,
        v12,
        &tls::client_key_exchange_ecdhe(seed),
    );
    client_finish.extend(tls::change_cipher_spec(v12));
    client_finish.extend(tls::opaque_record(
        content_type::HANDSHAKE,
        v12,
        finished_len,
        &mut filler,
    ));
    let mut server_finish = tls::change_cipher_spec(v12);
    server_finish.extend(tls::opaque_record(
        content_type::HANDSHAKE,
        v12,
        finished_len,
        &mut filler,
    ));
    Handshake {
        parts: [client_hello, server_flight, client_finish, server_finish],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_has_its_own_chain_and_well_formed_records() {
        let all = handshakes(7);
        assert_eq!(all.len(), SERVERS);
        let flights: std::collections::HashSet<&[u8]> =
            all.iter().map(|h| h.parts[1].as_slice()).collect();
        assert_eq!(flights.len(), SERVERS, "distinct certificates");
        for h in &all {
            for part in &h.parts {
                // Walk the records: each header's length must land exactly on the next one.
                let mut at = 0;
                while at < part.len() {
                    let len = usize::from(u16::from_be_bytes([part[at + 3], part[at + 4]]));
                    assert!(matches!(part[at], 20 | 22), "content type {}", part[at]);
                    at += 5 + len;
                }
                assert_eq!(at, part.len());
            }
        }
    }
}
