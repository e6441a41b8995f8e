//! Issue 19, item 6: a host is a phone only on evidence a phone gives. A router fetching
//! `R1.cfg` and a host uploading a file over TFTP are "other TFTP clients", not phones; a
//! 7970 that only registers over SCCP (TCP 2000) is a phone with its name, model and CUCM;
//! a phone that fetches its trust lists and config (statement 6: CTL, then ITL, then the
//! config) still is one. A phone that only registers over SIP (UDP or TCP 5060) as
//! `SEP<MAC>` is a phone with that MAC and the model its User-Agent names; a gateway
//! registering under another name is not.

mod reassembly_support;

use itlscope::diagnosis::{DeleteItl, OperatorFacts, diagnose};
use itlscope::evidence::Evidence;
use itlscope::proto::CollectorConfig;
use reassembly_support::*;

const CUCM: &str = "10.9.0.1";

/// A TFTP read: RRQ to port 69, one short DATA block from the server's transfer port, ACK.
fn tftp_read(client: &str, name: &str, data: &[u8], tid: u16) -> Vec<Pkt> {
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(name.as_bytes());
    rrq.push(0);
    rrq.extend_from_slice(b"octet\0");
    let mut block = vec![0, 3, 0, 1];
    block.extend_from_slice(data);
    let server = format!("{CUCM}:{tid}");
    vec![
        udp(client, &format!("{CUCM}:69"), rrq),
        udp(&server, client, block),
        udp(client, &server, vec![0, 4, 0, 1]),
    ]
}

/// A TFTP write: WRQ to port 69, ACK 0, one short DATA block from the client, ACK 1.
fn tftp_write(client: &str, name: &str, data: &[u8], tid: u16) -> Vec<Pkt> {
    let mut wrq = vec![0, 2];
    wrq.extend_from_slice(name.as_bytes());
    wrq.push(0);
    wrq.extend_from_slice(b"octet\0");
    let mut block = vec![0, 3, 0, 1];
    block.extend_from_slice(data);
    let server = format!("{CUCM}:{tid}");
    vec![
        udp(client, &format!("{CUCM}:69"), wrq),
        udp(&server, client, vec![0, 4, 0, 0]),
        udp(client, &server, block),
        udp(&server, client, vec![0, 4, 0, 1]),
    ]
}

/// One SCCP message: length (id + body), header version, message id, body.
fn sccp(id: u32, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&id.to_le_bytes());
    m.extend_from_slice(body);
    m
}

/// A `StationRegister` body: name, user id, instance, IP, device type, max streams, rest.
fn station_register(name: &str, ip: [u8; 4], device_type: u32) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b[..name.len()].copy_from_slice(name.as_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&ip);
    b.extend_from_slice(&device_type.to_le_bytes());
    b.extend_from_slice(&5u32.to_le_bytes());
    b.extend_from_slice(&[0u8; 12]);
    b
}

/// A device registering over SCCP on TCP 2000, CUCM answering with `RegisterAck`.
fn sccp_registration(client: &str, name: &str, device_type: u32) -> Vec<Pkt> {
    let ip: std::net::SocketAddr = client.parse().expect("address");
    let std::net::IpAddr::V4(v4) = ip.ip() else {
        panic!("IPv4 only here");
    };
    let mut c = Conv::new(client, &format!("{CUCM}:2000"), 1000, 9000);
    c.open();
    c.send(
        true,
        &sccp(0x0001, &station_register(name, v4.octets(), device_type)),
        1460,
    );
    c.send(false, &sccp(0x0081, &[0u8; 20]), 1460);
    c.send(true, &sccp(0x0000, &[]), 1460); // KeepAlive: not read once registered
    c.fin(true);
    c.fin(false);
    c.pkts
}

fn evidence(pkts: &[Pkt]) -> Evidence {
    let got = run(pkts, CollectorConfig::default());
    Evidence {
        files: got.files,
        tls: got.tls,
        tls_aggregates: got.tls_aggregates,
        alarms: got.alarms,
        losses: got.losses,
        registrations: got.registrations,
        sip_registrations: got.sip_registrations,
        ..Evidence::default()
    }
}

fn json(ev: &Evidence) -> serde_json::Value {
    let text = itlscope::report::run_analyze(
        ev,
        &OperatorFacts::default(),
        itlscope::report::OutputFormat::Json,
    );
    serde_json::from_str(&text).expect("JSON report")
}

fn text(ev: &Evidence) -> String {
    itlscope::report::run_analyze(
        ev,
        &OperatorFacts::default(),
        itlscope::report::OutputFormat::Text,
    )
}

fn notes(v: &serde_json::Value) -> Vec<String> {
    v["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_router_fetching_r1_cfg_is_another_tftp_client_not_a_phone() {
    let ev = evidence(&tftp_read(
        "10.5.0.1:50001",
        "R1.cfg",
        b"hostname R1\n",
        40001,
    ));
    assert_eq!(ev.files.len(), 1, "the transfer itself is still read");
    let d = diagnose(&ev, &OperatorFacts::default());
    assert!(d.phones.is_empty(), "{:?}", d.phones);
    let note = d
        .notes
        .iter()
        .find(|n| n.contains("other TFTP client"))
        .expect("listed among other TFTP clients");
    assert!(
        note.contains("10.5.0.1 fetched 1 file(s): R1.cfg"),
        "{note}"
    );
    assert!(notes(&json(&ev)).iter().any(|n| n.contains("R1.cfg")));
}

#[test]
fn a_host_uploading_over_tftp_is_not_a_phone_even_with_a_phone_file_name() {
    // Phones never write files over TFTP: a WRQ is no evidence of a phone, whatever its name.
    let mut pkts = tftp_write("10.5.0.2:50002", "backup.cfg", b"config", 40002);
    pkts.extend(tftp_write(
        "10.5.0.2:50003",
        "SEP001122334455.cnf.xml",
        b"<x/>",
        40003,
    ));
    let ev = evidence(&pkts);
    assert_eq!(ev.files.iter().filter(|f| f.upload).count(), 2);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert!(d.phones.is_empty(), "{:?}", d.phones);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("10.5.0.2 uploaded 2 file(s): backup.cfg")),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_7970_registering_over_sccp_is_a_phone_with_name_model_and_cucm() {
    let ev = evidence(&sccp_registration(
        "10.5.0.70:51000",
        "SEP00112233AA70",
        30006,
    ));
    assert_eq!(ev.registrations.len(), 1, "{:?}", ev.registrations);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1);
    let p = &d.phones[0];
    assert_eq!(p.mac.as_deref(), Some("00112233AA70"));
    assert_eq!(p.device.model.as_deref(), Some("7970"));
    let r = p.registration.as_ref().expect("registration");
    assert_eq!(r.cucm.to_string(), format!("{CUCM}:2000"));
    assert_eq!(r.outcome, "accepted");
    // Statement 15: nothing here shows the ITL, so the verdict cannot be decided.
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    assert!(p.verdict.conditions.itl_differs.value.is_none());

    let v = json(&ev);
    let reg = &v["phones"][0]["sccp_registration"];
    assert_eq!(reg["device_name"], "SEP00112233AA70");
    assert_eq!(reg["model"], "7970");
    assert_eq!(reg["cucm"], format!("{CUCM}:2000"));
    assert_eq!(reg["outcome"], "accepted");
    let t = text(&ev);
    assert!(
        t.contains("SCCP: registered as SEP00112233AA70 (model 7970) to CUCM 10.9.0.1:2000"),
        "{t}"
    );
    assert!(!t.contains("No phone traffic found"), "{t}");
    // No ITL or CTL is known, and no TLS was seen: nothing may claim the phone must ask TVS.
    assert!(!t.contains("must ask TVS"), "{t}");
}

#[test]
fn an_sccp_device_not_named_sep_is_not_a_phone() {
    // A conference bridge on a voice gateway registers as its profile name.
    let ev = evidence(&sccp_registration("10.5.0.80:51001", "CFB2811", 52));
    assert_eq!(ev.registrations.len(), 1);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert!(d.phones.is_empty());
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("not SEP<MAC>") && n.contains("CFB2811")),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_normal_phone_stays_a_phone_beside_other_tftp_clients() {
    // Statement 6: CTL, then ITL, then the config.
    let phone = "10.5.0.10:50010";
    let mut pkts = tftp_read(phone, "CTLSEP0011223344AA.tlv", b"ctl", 40010);
    pkts.extend(tftp_read(phone, "ITLSEP0011223344AA.tlv", b"itl", 40011));
    pkts.extend(tftp_read(
        phone,
        "SEP0011223344AA.cnf.xml.sgn",
        b"cfg",
        40012,
    ));
    // The phone's own other files stay with it.
    pkts.extend(tftp_read(phone, "Ringlist.xml", b"r", 40013));
    pkts.extend(tftp_read(
        "10.5.0.1:50001",
        "R1.cfg",
        b"hostname R1\n",
        40001,
    ));
    pkts.extend(tftp_write("10.5.0.2:50002", "upload.bin", b"x", 40002));
    let ev = evidence(&pkts);
    assert_eq!(ev.files.len(), 6);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1, "{:?}", d.phones);
    let p = &d.phones[0];
    assert_eq!(p.mac.as_deref(), Some("0011223344AA"));
    assert_eq!(p.files.len(), 4, "Ringlist.xml stays with the phone");
    assert!(p.registration.is_none());
    let note = d
        .notes
        .iter()
        .find(|n| n.starts_with("2 other TFTP client(s)"))
        .expect("two other TFTP clients");
    assert!(
        note.contains("10.5.0.1 fetched 1 file(s): R1.cfg"),
        "{note}"
    );
    assert!(
        note.contains("10.5.0.2 uploaded 1 file(s): upload.bin"),
        "{note}"
    );
    // Without a registration the JSON phone has no `sccp_registration` key at all.
    let v = json(&ev);
    assert!(v["phones"][0].get("sccp_registration").is_none());
}

#[test]
fn an_sccp_phone_that_also_fetches_its_files_is_one_phone() {
    let phone = "10.5.0.70:50070";
    let mut pkts = tftp_read(phone, "ITLSEP00112233AA70.tlv", b"itl", 40070);
    pkts.extend(sccp_registration(
        "10.5.0.70:51000",
        "SEP00112233AA70",
        30006,
    ));
    let ev = evidence(&pkts);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1, "{:?}", d.phones);
    assert_eq!(d.phones[0].files, vec![0]);
    assert!(d.phones[0].registration.is_some());
}

#[test]
fn a_voice_gateway_doing_sccp_over_tls_is_not_a_phone() {
    // SCCP over TLS (2443) is what gateways' media resources use too: alone it is no phone.
    let mut ev = Evidence::default();
    ev.tls.push(itlscope::evidence::TlsSession {
        client: "10.5.0.90:52000".parse().expect("endpoint"),
        server: format!("{CUCM}:2443").parse().expect("endpoint"),
        service: Some("sccp-tls".into()),
        handshake_complete: true,
        ..Default::default()
    });
    let d = diagnose(&ev, &OperatorFacts::default());
    assert!(d.phones.is_empty(), "{:?}", d.phones);
    // The same session from a host that fetched its ITL attaches to that phone.
    let mut with_phone = evidence(&tftp_read(
        "10.5.0.90:50090",
        "ITLSEP0011223344BB.tlv",
        b"itl",
        40090,
    ));
    with_phone.tls = ev.tls.clone();
    let d = diagnose(&with_phone, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1);
    assert_eq!(d.phones[0].tls, vec![0]);
}

#[test]
fn a_phone_certificate_on_sccp_over_tls_makes_a_phone() {
    // The client certificate a phone sends on 2443 names it: CN=CP-<model>-SEP<MAC>.
    let cert = itlscope::evidence::CertificateInfo {
        der: Vec::new(),
        subject: "CN=CP-7970G-SEP0011223344CC, O=Cisco Systems Inc.".into(),
        issuer: "CN=Cisco Manufacturing CA".into(),
        serial: "01".into(),
        sha1: String::new(),
        sha256: String::new(),
        not_before: None,
        not_after: None,
        key_type: "RSA".into(),
        key_bits: None,
    };
    let mut ev = Evidence::default();
    ev.tls.push(itlscope::evidence::TlsSession {
        client: "10.5.0.91:52000".parse().expect("endpoint"),
        server: format!("{CUCM}:2443").parse().expect("endpoint"),
        service: Some("sccp-tls".into()),
        client_certificate: Some(std::sync::Arc::new(cert)),
        ..Default::default()
    });
    let d = diagnose(&ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1, "{:?}", d.phones);
    assert_eq!(d.phones[0].mac.as_deref(), Some("0011223344CC"));
}

#[test]
fn the_client_certificate_sent_in_clear_is_kept_on_the_session() {
    use reassembly_support::tls::{self, content};
    const V12: u16 = 0x0303;
    let certs = ctl_certs();
    let mut c = Conv::new("10.5.0.92:52001", &format!("{CUCM}:2443"), 100, 70_000);
    c.open();
    let hello = tls::client_hello(V12, &[0x002f], &[], None);
    c.send(
        true,
        &tls::records(content::HANDSHAKE, V12, &hello, 16384),
        1460,
    );
    let mut flight = tls::server_hello(V12, 0x002f, None);
    flight.extend(tls::certificate(&[&certs[0]]));
    flight.extend(tls::server_hello_done());
    c.send(
        false,
        &tls::records(content::HANDSHAKE, V12, &flight, 16384),
        1460,
    );
    let client_chain = tls::certificate(&[&certs[1], &certs[0]]);
    c.send(
        true,
        &tls::records(content::HANDSHAKE, V12, &client_chain, 16384),
        1460,
    );
    c.fin(true);
    c.fin(false);
    let got = run(&c.pkts, CollectorConfig::default());
    assert_eq!(got.tls.len(), 1);
    let s = &got.tls[0];
    let client = s
        .client_certificate
        .as_ref()
        .expect("client certificate kept");
    assert_eq!(client.der, certs[1], "the client's own (first) certificate");
    assert_eq!(s.certificates.len(), 1, "the server's chain is unchanged");
}

/// A SIP REGISTER as a Cisco phone sends it: `name` in the Contact's
/// `+u.sip!devicename.ccm.cisco.com`, its model and version in `User-Agent`.
fn sip_register(transport: &str, from: &str, name: &str, agent: &str) -> Vec<u8> {
    format!(
        "REGISTER sip:{CUCM} SIP/2.0\r\nVia: SIP/2.0/{transport} {from};branch=z9hG4bK1\r\nFrom: <sip:1001@{CUCM}>;tag=1\r\nTo: <sip:1001@{CUCM}>\r\nCall-ID: 1@{from}\r\nCSeq: 101 REGISTER\r\nUser-Agent: {agent}\r\nContact: <sip:1001@{from};transport={}>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00112233aa01>\";+u.sip!devicename.ccm.cisco.com=\"{name}\"\r\nReason: SIP;cause=200;text=\"cisco-alarm:25 Name={name} ActiveLoad=sip88xx.14-2-1-0001-14 InactiveLoad=sip88xx.14-1-1-0001-125\"\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
        transport.to_ascii_lowercase()
    )
    .into_bytes()
}

/// A SIP REGISTER over TCP 5060, split across small segments.
fn sip_register_tcp(client: &str, name: &str, agent: &str) -> Vec<Pkt> {
    let mut c = Conv::new(client, &format!("{CUCM}:5060"), 3000, 7000);
    c.open();
    c.send(true, &sip_register("TCP", client, name, agent), 200);
    c.send(false, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 1460);
    c.fin(true);
    c.fin(false);
    c.pkts
}

/// The phone a SIP REGISTER alone makes: its MAC, model and firmware, JSON and text.
fn assert_sip_phone(ev: &Evidence, mac: &str, model: &str) {
    assert_eq!(ev.sip_registrations.len(), 1, "{:?}", ev.sip_registrations);
    let d = diagnose(ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1, "{:?}", d.notes);
    let p = &d.phones[0];
    assert_eq!(p.mac.as_deref(), Some(mac));
    assert_eq!(p.device.model.as_deref(), Some(model));
    assert_eq!(p.device.firmware.as_deref(), Some("14.2.1"));
    // Statement 15: nothing here shows the ITL, so the verdict cannot be decided.
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    assert!(p.verdict.conditions.itl_differs.value.is_none());
    let v = json(ev);
    let reg = &v["phones"][0]["sip_registration"];
    assert_eq!(reg["device_name"], format!("SEP{mac}"));
    assert_eq!(reg["user_agent"], "Cisco-CP8845/14.2.1");
    assert_eq!(reg["active_load"], "sip88xx.14-2-1-0001-14");
    assert_eq!(reg["registrar"], format!("{CUCM}:5060"));
    assert_eq!(reg["capture"], 0);
    assert!(reg["frame"].as_u64().is_some());
    assert!(v["phones"][0].get("sccp_registration").is_none());
    let t = text(ev);
    assert!(
        t.contains(&format!(
            "SIP: registered as SEP{mac} (agent \"Cisco-CP8845/14.2.1\", load \"sip88xx.14-2-1-0001-14\") to {CUCM}:5060"
        )),
        "{t}"
    );
    assert!(!t.contains("No phone traffic found"), "{t}");
    assert!(!t.contains("must ask TVS"), "{t}");
}

#[test]
fn a_phone_registering_over_sip_udp_as_sep_is_a_phone_with_mac_and_model() {
    let from = "10.5.0.90:5060";
    let ev = evidence(&[udp(
        from,
        &format!("{CUCM}:5060"),
        sip_register("UDP", from, "SEP00112233AA01", "Cisco-CP8845/14.2.1"),
    )]);
    assert_sip_phone(&ev, "00112233AA01", "CP-8845");
}

#[test]
fn a_phone_registering_over_sip_tcp_as_sep_is_a_phone_with_mac_and_model() {
    let ev = evidence(&sip_register_tcp(
        "10.5.0.91:51500",
        "SEP00112233AA02",
        "Cisco-CP8845/14.2.1",
    ));
    assert_sip_phone(&ev, "00112233AA02", "CP-8845");
}

#[test]
fn a_gateway_registering_over_sip_under_another_name_is_not_a_phone() {
    let from = "10.5.0.95:5060";
    let mut pkts = vec![udp(
        from,
        &format!("{CUCM}:5060"),
        sip_register("UDP", from, "ISR4331-GW", "Cisco-SIPGateway/IOS-16.9"),
    )];
    pkts.extend(sip_register_tcp(
        "10.5.0.96:51600",
        "ISR4331-GW2",
        "Cisco-SIPGateway/IOS-16.9",
    ));
    let ev = evidence(&pkts);
    // Read (the agent is known), but naming no SEP<MAC>.
    assert_eq!(ev.sip_registrations.len(), 2, "{:?}", ev.sip_registrations);
    assert!(ev.sip_registrations.iter().all(|r| r.device_name.is_none()));
    let d = diagnose(&ev, &OperatorFacts::default());
    assert!(d.phones.is_empty(), "{:?}", d.phones);
    assert!(
        d.notes.iter().any(|n| n.contains("registered over SIP")
            && n.contains("10.5.0.95")
            && n.contains("10.5.0.96")),
        "{:?}",
        d.notes
    );
}

#[test]
fn sip_registrations_over_max_records_are_counted_with_their_first_frame() {
    let mut pkts = Vec::new();
    for i in 0..3u8 {
        let from = format!("10.5.1.{i}:5060");
        pkts.push(udp(
            &from,
            &format!("{CUCM}:5060"),
            sip_register(
                "UDP",
                &from,
                &format!("SEP00112233AB0{i}"),
                "Cisco-CP8845/14.2.1",
            ),
        ));
    }
    let config = CollectorConfig {
        max_records: 2,
        ..CollectorConfig::default()
    };
    let got = run(&pkts, config);
    assert_eq!(got.sip_registrations.len(), 2);
    let hit = got
        .limits_hit
        .iter()
        .find(|l| format!("{l:?}").contains("SipRegistrations"))
        .expect("a not-kept event");
    let text = format!("{hit:?}");
    assert!(
        text.contains("count: 1") && text.contains("first_frame: Some("),
        "{text}"
    );
}

/// A REGISTER whose only sign of a phone is its `User-Agent`: From, To and Contact name a
/// line number, no `SEP<MAC>`, and no cisco-alarm `Reason` (a phone's later REGISTERs).
fn sip_register_by_agent(from: &str, agent: &str) -> Vec<u8> {
    format!(
        "REGISTER sip:{CUCM} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK2\r\nFrom: <sip:1002@{CUCM}>;tag=2\r\nTo: <sip:1002@{CUCM}>\r\nCall-ID: 2@{from}\r\nCSeq: 102 REGISTER\r\nUser-Agent: {agent}\r\nContact: <sip:1002@{from};transport=udp>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The model and firmware columns of the phone rows (CSV and JSONL carry the same ones).
fn row_device(ev: &Evidence) -> (String, serde_json::Value) {
    let csv = itlscope::report::run_analyze(
        ev,
        &OperatorFacts::default(),
        itlscope::report::OutputFormat::Csv,
    );
    let jsonl = itlscope::report::run_analyze(
        ev,
        &OperatorFacts::default(),
        itlscope::report::OutputFormat::Jsonl,
    );
    let row: serde_json::Value =
        serde_json::from_str(jsonl.lines().next().expect("one row")).expect("JSON row");
    (csv, row)
}

/// Issue 19 item 6 and statement 6 (the phone downloads its config): a REGISTER that names
/// no `SEP<MAC>` but comes from the address that downloaded `SEP<MAC>.cnf.xml` is that
/// phone's; its agent gives the model and firmware the rows show.
#[test]
fn a_register_known_only_by_its_agent_joins_the_phone_at_its_address_statement_6() {
    let ip = "10.5.0.97";
    let mut pkts = tftp_read(
        &format!("{ip}:50000"),
        "SEP00112233AA03.cnf.xml",
        b"<device/>",
        40001,
    );
    let from = format!("{ip}:5060");
    pkts.push(udp(
        &from,
        &format!("{CUCM}:5060"),
        sip_register_by_agent(&from, "Cisco-CP8845/14.2.1"),
    ));
    let ev = evidence(&pkts);
    assert_eq!(ev.sip_registrations.len(), 1);
    assert_eq!(ev.sip_registrations[0].device_name, None);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1, "{:?}", d.notes);
    let p = &d.phones[0];
    assert_eq!(p.mac.as_deref(), Some("00112233AA03"));
    assert_eq!(p.device.model.as_deref(), Some("CP-8845"));
    assert_eq!(p.device.firmware.as_deref(), Some("14.2.1"));
    assert!(
        !d.notes.iter().any(|n| n.contains("registered over SIP")),
        "{:?}",
        d.notes
    );
    let (csv, row) = row_device(&ev);
    assert_eq!(
        (&row["model"], &row["firmware"]),
        (&"CP-8845".into(), &"14.2.1".into())
    );
    assert!(csv.contains(",CP-8845,14.2.1,"), "{csv}");
    // The text says the REGISTER named no device, not "registered as ?".
    let text = itlscope::report::run_analyze(
        &ev,
        &OperatorFacts::default(),
        itlscope::report::OutputFormat::Text,
    );
    assert!(
        text.contains("SIP: registered without naming a device (agent \"Cisco-CP8845/14.2.1\")"),
        "{text}"
    );
    assert!(!text.contains("registered as ?"), "{text}");
}

/// Issue 19 item 6: only phones send a `Cisco-CP<model>` agent, so a REGISTER with it is a
/// phone even alone, known by its address (no MAC was named); a Jabber or gateway agent
/// alone is not, and is named among the hosts not diagnosed.
#[test]
fn a_cisco_phone_agent_alone_makes_a_phone_and_another_agent_does_not() {
    let phone = "10.5.0.98:5060";
    let jabber = "10.5.0.99:5060";
    let pkts = vec![
        udp(
            phone,
            &format!("{CUCM}:5060"),
            sip_register_by_agent(phone, "Cisco-CP7821/12.1.1"),
        ),
        udp(
            jabber,
            &format!("{CUCM}:5060"),
            sip_register_by_agent(jabber, "Cisco-CSF"),
        ),
    ];
    let ev = evidence(&pkts);
    assert_eq!(ev.sip_registrations.len(), 2);
    let d = diagnose(&ev, &OperatorFacts::default());
    assert_eq!(d.phones.len(), 1, "{:?}", d.phones);
    let p = &d.phones[0];
    assert_eq!(p.mac, None);
    assert_eq!(p.ip, Some("10.5.0.98".parse().expect("ip")));
    assert_eq!(p.device.model.as_deref(), Some("CP-7821"));
    assert_eq!(p.device.firmware.as_deref(), Some("12.1.1"));
    // Statement 15: nothing shows the ITL, so nothing is decided.
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("registered over SIP") && n.contains("10.5.0.99")),
        "{:?}",
        d.notes
    );
    let (_, row) = row_device(&ev);
    assert_eq!(
        (&row["model"], &row["firmware"]),
        (&"CP-7821".into(), &"12.1.1".into())
    );
}
