//! Relevance before volume, through the Collector: a PC's HTTPS is summed per server and
//! certificate, certificates are decoded once, and a phone's TLS is kept whatever the
//! other traffic.

mod reassembly_support;

use itlscope::proto::CollectorConfig;
use itlscope::report::limits::limit_text;
use reassembly_support::tls::content;
use reassembly_support::*;
use std::sync::Arc;

const V12: u16 = 0x0303;

/// One short TLS 1.2 session from `client` to `server` presenting `chain`, closed by FIN.
fn session(client: &str, server: &str, chain: &[&[u8]]) -> Vec<Pkt> {
    let mut c = Conv::new(client, server, 1000, 5000);
    c.open();
    let ch = tls::client_hello(V12, &[0xc030, 0x002f], &[], Some("example"));
    c.send(
        true,
        &tls::records(content::HANDSHAKE, 0x0301, &ch, 16384),
        1460,
    );
    let mut flight = tls::server_hello(V12, 0x002f, None);
    flight.extend(tls::certificate(chain));
    flight.extend(tls::server_hello_done());
    c.send(
        false,
        &tls::records(content::HANDSHAKE, V12, &flight, 16384),
        1460,
    );
    let mut cflight = tls::change_cipher_spec(V12);
    cflight.extend(tls::opaque(content::HANDSHAKE, V12, 48));
    c.send(true, &cflight, 1460);
    let mut sflight = tls::change_cipher_spec(V12);
    sflight.extend(tls::opaque(content::HANDSHAKE, V12, 48));
    c.send(false, &sflight, 1460);
    c.fin(true);
    c.fin(false);
    c.pkts
}

/// `n` sessions of a PC (10.9.9.9) to 10.1.1.1:443, each from its own port.
fn pc_browsing(n: u32, chain: &[&[u8]]) -> Vec<Pkt> {
    (0..n)
        .flat_map(|i| session(&format!("10.9.9.9:{}", 10_000 + i), "10.1.1.1:443", chain))
        .collect()
}

#[test]
fn https_of_a_pc_is_summed_and_its_certificates_shared() {
    let certs = ctl_certs();
    let mut pkts = pc_browsing(300, &[&certs[0], &certs[1]]);
    pkts.extend(session("10.1.1.20:40000", "10.1.1.2:2445", &[&certs[2]]));
    let config = CollectorConfig {
        max_other_tls_sessions: 10,
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    assert_eq!(
        out.tls.len(),
        11,
        "the TVS session and the latest 10 of the PC"
    );
    let tvs: Vec<_> = out.tls.iter().filter(|s| s.server.port == 2445).collect();
    assert_eq!(tvs.len(), 1);
    assert_eq!(tvs[0].certificates.len(), 1);
    assert_eq!(out.tls_aggregates.len(), 1);
    let agg = &out.tls_aggregates[0];
    assert_eq!(agg.sessions, 290);
    assert_eq!(agg.handshakes_complete, 290);
    assert_eq!(agg.server.to_string(), "10.1.1.1:443");
    assert_eq!(agg.service.as_deref(), Some("https"));
    assert_eq!(agg.clients.len(), 1);
    assert!(agg.first.frame < agg.last.frame);
    // Every copy of the server's leaf is the one decoded copy.
    let leaf = agg.certificate.as_ref().expect("leaf certificate");
    for s in out.tls.iter().filter(|s| s.server.port == 443) {
        assert!(Arc::ptr_eq(&s.certificates[0], leaf));
    }
    assert!(
        out.limits_hit.is_empty(),
        "nothing was lost: {:?}",
        out.limits_hit
    );
}

#[test]
fn a_phone_session_is_kept_whatever_the_number_of_pc_sessions_before_it() {
    let certs = ctl_certs();
    let mut pkts = pc_browsing(500, &[&certs[0]]);
    // The phone: a TFTP request first, then HTTPS to 8443 and TVS.
    pkts.push(udp(
        "10.1.1.20:50000",
        "10.1.1.2:69",
        b"\x00\x01ITLSEP0011223344AA.tlv\x00octet\x00".to_vec(),
    ));
    pkts.extend(session("10.1.1.20:40001", "10.1.1.2:8443", &[&certs[3]]));
    pkts.extend(session("10.1.1.20:40002", "10.1.1.2:2445", &[&certs[2]]));
    let config = CollectorConfig {
        max_records: 100,
        max_other_tls_sessions: 50,
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    let phone: Vec<u16> = out
        .tls
        .iter()
        .filter(|s| s.client.ip.to_string() == "10.1.1.20")
        .map(|s| s.server.port)
        .collect();
    assert_eq!(phone, vec![8443, 2445], "{:?}", out.limits_hit);
    assert_eq!(
        out.tls_aggregates.iter().map(|a| a.sessions).sum::<u64>(),
        450
    );
    assert!(
        !out.limits_hit.iter().any(|l| limit_text(l).contains("TLS")),
        "{:?}",
        out.limits_hit
    );
}

#[test]
fn a_host_that_behaves_like_a_phone_later_keeps_its_recent_https() {
    let certs = ctl_certs();
    // The phone's HTTPS to 8443 comes before anything shows it is a phone.
    let mut pkts = session("10.1.1.20:40001", "10.1.1.2:8443", &[&certs[3]]);
    pkts.extend(pc_browsing(20, &[&certs[0]]));
    pkts.extend(session("10.1.1.20:40002", "10.1.1.2:2445", &[&certs[2]]));
    let config = CollectorConfig {
        max_other_tls_sessions: 50,
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    assert_eq!(out.tls.len(), 22);
    assert!(out.tls_aggregates.is_empty());
}
