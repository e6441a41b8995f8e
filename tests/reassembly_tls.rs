//! TLS through the Collector: handshakes re-joined across records and segments, TLS 1.3,
//! alerts, unanswered and refused connections, hostile lengths.

mod reassembly_support;

use itlscope::evidence::{Side, TcpEnd};
use itlscope::proto::CollectorConfig;
use itlscope::report::limits::limit_text;
use reassembly_support::tls::content;
use reassembly_support::*;

const V12: u16 = 0x0303;

/// A TLS 1.2 handshake to TVS; the server flight is cut into records of `frag` bytes and
/// segments of `mss` bytes.
fn tls12(frag: usize, mss: usize, client_rejects: bool) -> Conv {
    let certs = ctl_certs();
    let mut c = Conv::new("10.1.1.20:51000", "10.1.1.1:2445", 0xffff_ff00, 0x7fff_fff0);
    c.open();
    let ch = tls::client_hello(V12, &[0xc030, 0x002f, 0x0035], &[], Some("tvs.example"));
    c.send(
        true,
        &tls::records(content::HANDSHAKE, 0x0301, &ch, 16384),
        mss,
    );
    let mut flight = tls::server_hello(V12, 0x0035, None);
    flight.extend(tls::certificate(&[&certs[0], &certs[3]]));
    flight.extend(tls::server_hello_done());
    c.send(
        false,
        &tls::records(content::HANDSHAKE, V12, &flight, frag),
        mss,
    );
    if client_rejects {
        c.send(true, &tls::alert(V12, 2, 48), mss);
        c.rst(true);
        return c;
    }
    let mut cflight = tls::records(
        content::HANDSHAKE,
        V12,
        &tls::handshake(16, &[0; 130]),
        16384,
    );
    cflight.extend(tls::change_cipher_spec(V12));
    cflight.extend(tls::opaque(content::HANDSHAKE, V12, 48));
    c.send(true, &cflight, mss);
    let mut sflight = tls::change_cipher_spec(V12);
    sflight.extend(tls::opaque(content::HANDSHAKE, V12, 48));
    c.send(false, &sflight, mss);
    c.send(true, &tls::opaque(content::APPLICATION_DATA, V12, 153), mss);
    c.send(
        false,
        &tls::opaque(content::APPLICATION_DATA, V12, 1480),
        mss,
    );
    c.send(true, &tls::opaque(content::ALERT, V12, 26), mss);
    c.fin(true);
    c.fin(false);
    c
}

#[test]
fn certificate_spanning_records_and_segments_is_decoded() {
    for (frag, mss) in [(16384, 1460), (500, 300), (7, 5), (1000, 1)] {
        let c = tls12(frag, mss, false);
        let out = run(&c.pkts, CollectorConfig::default());
        assert_eq!(out.tls.len(), 1, "frag {frag} mss {mss}");
        let s = &out.tls[0];
        assert_eq!(s.service.as_deref(), Some("tvs"));
        assert_eq!(s.version, Some(V12));
        assert_eq!(s.cipher_suite, Some(0x0035));
        assert_eq!(s.sni.as_deref(), Some("tvs.example"));
        assert_eq!(s.offered_cipher_suites.len(), 3);
        assert_eq!(s.certificates.len(), 2, "notes {:?}", s.notes);
        assert_eq!(s.certificates[0].serial, "24491f10703fea9b");
        assert!(
            s.certificates[0]
                .subject
                .contains("CN=gigantic-6.cisco.com"),
            "{}",
            s.certificates[0].subject
        );
        assert_eq!(s.certificates[1].serial, "615dd8840a63eb4119be843e201550e0");
        assert_eq!(s.certificates[0].key_type, "RSA");
        assert!(s.handshake_complete);
        assert_eq!(s.app_data_bytes, (153, 1480));
        assert_eq!(s.end, TcpEnd::Fin(Side::Client));
        assert!(s.alerts.is_empty());
        assert_eq!(s.encrypted_alerts.len(), 1);
        assert!(s.certificate_seen.is_some());
    }
}

#[test]
fn reordered_and_retransmitted_segments_still_decode() {
    let mut c = tls12(700, 400, false);
    // Swap neighbouring server segments and duplicate a few.
    let n = c.pkts.len();
    for i in (4..n - 6).step_by(3) {
        c.pkts.swap(i, i + 1);
    }
    let dup = c.pkts[6].clone();
    c.pkts.insert(9, dup);
    let out = run(&c.pkts, CollectorConfig::default());
    let s = &out.tls[0];
    assert_eq!(s.certificates.len(), 2, "notes {:?}", s.notes);
    assert!(s.handshake_complete);
}

#[test]
fn client_alert_right_after_the_server_certificate() {
    let c = tls12(16384, 1460, true);
    let out = run(&c.pkts, CollectorConfig::default());
    let s = &out.tls[0];
    assert_eq!(s.alerts.len(), 1);
    let a = &s.alerts[0];
    assert_eq!((a.from, a.level, a.description), (Side::Client, 2, 48));
    assert!(a.after_server_certificate);
    assert!(!s.handshake_complete);
    assert_eq!(s.end, TcpEnd::Reset(Side::Client));
    assert_eq!(s.certificates.len(), 2);
}

#[test]
fn tls13_says_certificates_are_encrypted() {
    let mut c = Conv::new("10.1.1.20:51001", "10.1.1.1:2445", 1, 2);
    c.open();
    let ch = tls::client_hello(V12, &[0x1301], &[0x0304, 0x0303], None);
    c.send(
        true,
        &tls::records(content::HANDSHAKE, 0x0301, &ch, 16384),
        1460,
    );
    let mut sf = tls::records(
        content::HANDSHAKE,
        V12,
        &tls::server_hello(V12, 0x1301, Some(0x0304)),
        16384,
    );
    sf.extend(tls::change_cipher_spec(V12));
    sf.extend(tls::opaque(content::APPLICATION_DATA, V12, 2500));
    c.send(false, &sf, 1460);
    let mut cf = tls::change_cipher_spec(V12);
    cf.extend(tls::opaque(content::APPLICATION_DATA, V12, 53));
    c.send(true, &cf, 1460);
    c.send(
        false,
        &tls::opaque(content::APPLICATION_DATA, V12, 200),
        1460,
    );
    c.fin(false);
    c.fin(true);
    let out = run(&c.pkts, CollectorConfig::default());
    let s = &out.tls[0];
    assert_eq!(s.version, Some(0x0304));
    assert_eq!(s.offered_versions, vec![0x0304, 0x0303]);
    assert!(s.certificates_encrypted);
    assert!(s.certificates.is_empty());
    assert!(s.handshake_complete);
    assert_eq!(s.end, TcpEnd::Fin(Side::Server));
}

#[test]
fn unanswered_and_refused_connections_to_tvs_are_sessions() {
    let mut a = Conv::new("10.1.1.20:52000", "10.1.1.1:2445", 100, 0);
    a.syn();
    a.syn();
    a.syn();
    let mut b = Conv::new("10.1.1.20:52001", "10.1.1.2:2445", 100, 0);
    b.syn();
    b.pkts.push(Pkt {
        tcp: Some((0, flags(false, true, false, true))),
        ..b.pkts[0].clone()
    });
    let last = b.pkts.len() - 1;
    let p = &mut b.pkts[last];
    std::mem::swap(&mut p.src, &mut p.dst);
    let mut pkts = a.pkts.clone();
    pkts.extend(b.pkts);
    let out = run(&pkts, CollectorConfig::default());
    assert_eq!(out.tls.len(), 2);
    assert_eq!(out.tls[0].end, TcpEnd::NeverAnswered);
    assert_eq!(out.tls[0].service.as_deref(), Some("tvs"));
    assert_eq!(out.tls[1].end, TcpEnd::Refused);
}

#[test]
fn tls_found_by_content_on_any_port_and_labelled_by_port() {
    for (port, service) in [
        (8443u16, Some("https")),
        (9999, None),
        (5061, Some("sip-tls")),
    ] {
        let mut c = Conv::new("10.1.1.20:53000", &format!("10.1.1.1:{port}"), 5, 6);
        // No handshake captured: the capture starts with the ClientHello.
        let ch = tls::client_hello(V12, &[0x002f], &[], None);
        c.send(
            true,
            &tls::records(content::HANDSHAKE, 0x0301, &ch, 16384),
            1460,
        );
        c.send(
            false,
            &tls::records(
                content::HANDSHAKE,
                V12,
                &tls::server_hello(V12, 0x002f, None),
                16384,
            ),
            1460,
        );
        let out = run(&c.pkts, CollectorConfig::default());
        assert_eq!(out.tls.len(), 1);
        assert_eq!(out.tls[0].service.as_deref(), service);
        assert_eq!(out.tls[0].version, Some(V12));
        assert_eq!(out.tls[0].end, TcpEnd::Open);
    }
}

#[test]
fn sslv2_client_hello_is_recognised() {
    let mut c = Conv::new("10.1.1.20:53001", "10.1.1.1:443", 5, 6);
    c.open();
    // SSLv2 CLIENT-HELLO: len, type 1, version 3.1, cipher spec len 6, session 0, challenge 16.
    let mut body = vec![1, 3, 1, 0, 6, 0, 0, 0, 16];
    body.extend_from_slice(&[0, 0, 0x2f, 0, 0, 0x35]);
    body.extend_from_slice(&[7; 16]);
    let mut hello = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
    hello.extend(body);
    c.send(true, &hello, 1460);
    c.send(
        false,
        &tls::records(
            content::HANDSHAKE,
            V12,
            &tls::server_hello(0x0301, 0x002f, None),
            16384,
        ),
        1460,
    );
    let out = run(&c.pkts, CollectorConfig::default());
    let s = &out.tls[0];
    assert!(s.notes.iter().any(|n| n.contains("SSLv2")), "{:?}", s.notes);
    assert_eq!(s.offered_versions, vec![0x0301]);
    assert_eq!(s.offered_cipher_suites, vec![0x2f, 0x35]);
    assert_eq!(s.version, Some(0x0301));
}

#[test]
fn certificate_claiming_16_mib_is_skipped_not_buffered() {
    let mut c = Conv::new("10.1.1.20:53002", "10.1.1.1:2445", 5, 6);
    c.open();
    let ch = tls::client_hello(V12, &[0x002f], &[], None);
    c.send(
        true,
        &tls::records(content::HANDSHAKE, V12, &ch, 16384),
        1460,
    );
    let mut msg = tls::server_hello(V12, 0x002f, None);
    msg.extend_from_slice(&[11, 0xff, 0xff, 0xff]);
    msg.extend(vec![0x41; 3 << 20]); // 3 MiB of it, over the 1 MiB cap
    c.send(
        false,
        &tls::records(content::HANDSHAKE, V12, &msg, 16384),
        16384,
    );
    c.fin(false);
    let out = run(&c.pkts, CollectorConfig::default());
    let s = &out.tls[0];
    assert_eq!(s.version, Some(V12));
    assert!(s.certificates.is_empty());
    assert!(
        s.notes.iter().any(|n| n.contains("16777215 bytes")),
        "{:?}",
        s.notes
    );
}

#[test]
fn gap_in_the_server_flight_is_noted_not_guessed() {
    let mut c = tls12(16384, 300, false);
    // Drop the 3rd server data segment (inside the Certificate).
    let idx = c
        .pkts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.src == c.server && !p.payload.is_empty())
        .nth(2)
        .unwrap()
        .0;
    c.pkts.remove(idx);
    let out = run(&c.pkts, CollectorConfig::default());
    let s = &out.tls[0];
    assert!(s.certificates.is_empty());
    assert!(
        s.notes.iter().any(|n| n.contains("missing")),
        "{:?}",
        s.notes
    );
}

#[test]
fn hundred_thousand_half_open_flows_stay_bounded() {
    let mut pkts = Vec::new();
    for i in 0..100_000u32 {
        let client = format!(
            "10.{}.{}.{}:{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            1024 + (i % 60000)
        );
        let mut c = Conv::new(
            &client,
            if i % 2 == 0 {
                "10.9.9.9:2445"
            } else {
                "10.9.9.9:40000"
            },
            i,
            0,
        );
        c.syn();
        pkts.extend(c.pkts);
    }
    let config = CollectorConfig {
        max_flows: 20_000,
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    // Only the 50,000 to the TVS port matter; at most 20,000 are followed at once, and the
    // unanswered ones age out (emergency timeout 10 s of the 100 s capture) to make room,
    // so every attempt is still reported.
    assert_eq!(out.tls.len(), 50_000);
    assert!(out.tls.iter().all(|s| s.end == TcpEnd::NeverAnswered));
    assert!(
        !out.limits_hit
            .iter()
            .any(|l| limit_text(l).contains("not followed")),
        "{:?}",
        out.limits_hit
    );
    assert!(
        out.notes.iter().any(|n| n.contains("idle longer than")),
        "{:?}",
        out.notes
    );
}

#[test]
fn sessions_beyond_the_record_limit_are_counted_not_kept() {
    // Connection attempts that end one after another (refused by RST) never pile up as open
    // flows, so only the record limit bounds what is kept.
    let mut pkts = Vec::new();
    for i in 0..500u32 {
        let client = format!("10.1.{}.{}:{}", i >> 8, i & 255, 2000 + i);
        let mut c = Conv::new(&client, "10.9.9.9:2445", i, 0);
        c.syn();
        c.rst(false);
        pkts.extend(c.pkts);
    }
    let config = CollectorConfig {
        max_records: 100,
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    assert_eq!(out.tls.len(), 100);
    assert!(
        out.limits_hit
            .iter()
            .any(|l| limit_text(l).contains("400 TLS sessions of phones not kept")),
        "{:?}",
        out.limits_hit
    );
}

#[test]
fn four_gigabyte_sequence_jumps_stay_bounded() {
    let mut c = tls12(16384, 1460, false);
    // Hostile segments from the server all over the sequence space, 64 KiB each.
    let template = c
        .pkts
        .iter()
        .find(|p| p.src == c.server && !p.payload.is_empty())
        .unwrap()
        .clone();
    for i in 0..2_000u32 {
        let mut p = template.clone();
        p.tcp = Some((
            i.wrapping_mul(2_654_435_761),
            flags(false, true, false, false),
        ));
        p.payload = vec![0x17; 65_000];
        c.pkts.insert(8, p);
    }
    let config = CollectorConfig {
        stream_buffer_cap: 1 << 20,
        ..CollectorConfig::default()
    };
    let out = run(&c.pkts, config);
    let s = &out.tls[0];
    // The reassembler never held more than its cap; the damage is reported, not hidden.
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("missing") || n.contains("limit")),
        "{:?}",
        s.notes
    );
    assert!(
        out.limits_hit
            .iter()
            .any(|l| limit_text(l).contains("out-of-order")),
        "{:?}",
        out.limits_hit
    );
}
