//! `DeviceTLInfo` alarms through the Collector over SIP/TCP: REFERs split over segments,
//! reordered and retransmitted, between other SIP messages, on connections picked up
//! mid-stream; lost bytes and oversize messages noted, never guessed; and the scenario
//! captures where phones send the REFER over TCP 5060.

mod reassembly_support;

use itlscope::pipeline::{PipelineOptions, collect_evidence};
use itlscope::proto::CollectorConfig;
use itlscope::report::limits::limit_text;
use itlscope_gen::conv::Host;
use itlscope_gen::conv::sip::{DeviceTlInfo, accepted};
use reassembly_support::*;
use sha1::Digest;
use std::path::PathBuf;

const PHONE: &str = "192.0.2.22:50168";
const CUCM: &str = "198.51.100.10:5060";

fn info(device: &str, signature: u8) -> DeviceTlInfo {
    DeviceTlInfo {
        device_name: device.into(),
        model: "CP8845".into(),
        firmware: "14.2.1".into(),
        itl_signature: Some(vec![signature; 20]),
        itl_tftp_server: "cucm-pub".into(),
        ctl_signature: None,
        status_code: 3,
    }
}

fn refer(device: &str, signature: u8, seq: u32) -> Vec<u8> {
    let phone = Host::new([0, 0, 0x5e, 0, 0x53, 0x22], "192.0.2.22");
    let cucm = Host::new([0, 0, 0x5e, 0, 0x53, 0x01], "198.51.100.10");
    info(device, signature).refer(&phone, 5060, &cucm, "TCP", seq)
}

fn other(method: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} sip:198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.22:50168\r\nCSeq: 7 {method}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn refer_over_tcp_split_reordered_and_retransmitted() {
    let alarm = refer("SEP00005E005322", 0xab, 1);
    let mut c = Conv::new(PHONE, CUCM, 1000, 9000);
    c.open();
    let mut stream = other("REGISTER", "");
    stream.extend(other("MESSAGE", &"x".repeat(3000)));
    c.send(true, &stream, 1460);
    c.send(false, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 1460);
    let before = c.pkts.len();
    c.send(true, &alarm, 500);
    c.send(false, &accepted(&alarm), 1460);
    // The REFER's segments arrive 2nd, 1st (twice), 3rd.
    c.pkts.swap(before, before + 1);
    let dup = c.pkts[before + 1].clone();
    c.pkts.insert(before + 2, dup);
    let last_refer_frame = before + 4; // frames count from 1
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.alarms.len(), 1, "{out:?}");
    let a = &out.alarms[0];
    assert_eq!(a.device_name.as_deref(), Some("SEP00005E005322"));
    assert_eq!(a.itl_signature.as_deref(), Some("ab".repeat(20).as_str()));
    assert_eq!(a.status_code, Some(3));
    assert_eq!(a.phone.to_string(), PHONE);
    assert_eq!(a.seen.frame, last_refer_frame as u64);
    assert!(out.notes.is_empty() && out.limits_hit.is_empty(), "{out:?}");
    // SIP is neither a file nor a TLS session.
    assert!(out.files.is_empty() && out.tls.is_empty());
}

#[test]
fn connection_picked_up_mid_stream() {
    let mut c = Conv::new(PHONE, CUCM, 77, 99);
    c.send(true, &other("OPTIONS", ""), 1460);
    c.send(true, &refer("SEP00005E005322", 1, 2), 1460);
    c.send(true, &refer("SEP00005E005322", 2, 3), 700);
    let out = run(&c.pkts, CollectorConfig::default());
    let sigs: Vec<_> = out
        .alarms
        .iter()
        .map(|a| a.itl_signature.clone().unwrap_or_default())
        .collect();
    assert_eq!(sigs, ["01".repeat(20), "02".repeat(20)]);
}

#[test]
fn a_segment_mid_message_does_not_start_a_flow() {
    // The capture starts inside a REFER: its tail is not read as a message, the next REFER is.
    let first = refer("SEP00005E005322", 1, 1);
    let mut c = Conv::new(PHONE, CUCM, 77, 99);
    c.send(true, &first, 400);
    c.pkts.remove(0);
    c.send(true, &refer("SEP00005E005322", 2, 2), 1460);
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.alarms.len(), 1, "{out:?}");
    assert_eq!(out.alarms[0].itl_signature, Some("02".repeat(20)));
}

#[test]
fn lost_segment_drops_that_refer_with_a_note_and_the_next_is_read() {
    let mut c = Conv::new(PHONE, CUCM, 5, 6);
    c.open();
    let first = c.pkts.len();
    c.send(true, &refer("SEP00005E005322", 1, 1), 400);
    c.pkts.remove(first + 1);
    c.send(true, &refer("SEP00005E005322", 2, 2), 400);
    c.fin(true);
    c.fin(false);
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.alarms.len(), 1, "{out:?}");
    assert_eq!(out.alarms[0].itl_signature, Some("02".repeat(20)));
    assert!(
        out.notes.iter().any(|n| n.contains("REFER")),
        "{:?}",
        out.notes
    );
}

#[test]
fn oversize_message_is_skipped_and_reported() {
    let mut big = refer("SEP00005E005322", 1, 1);
    let text = String::from_utf8(big.clone()).unwrap();
    // Inflate the body (and its Content-Length) past 64 KiB.
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let body = format!("{body}<!--{}-->", "p".repeat(70_000));
    let head = head
        .lines()
        .map(|l| {
            if l.starts_with("Content-Length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    big = format!("{head}\r\n\r\n{body}").into_bytes();
    let mut c = Conv::new(PHONE, CUCM, 5, 6);
    c.open();
    c.send(true, &big, 1460);
    c.send(true, &refer("SEP00005E005322", 2, 2), 1460);
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.alarms.len(), 1, "{out:?}");
    assert_eq!(out.alarms[0].itl_signature, Some("02".repeat(20)));
    assert!(
        out.limits_hit.iter().any(|l| limit_text(l).contains("SIP")),
        "{:?}",
        out.limits_hit
    );
}

#[test]
fn udp_and_tcp_alarms_in_frame_order_and_ports_configurable() {
    let mut c = Conv::new(PHONE, "198.51.100.10:5070", 5, 6);
    c.open();
    c.send(true, &refer("SEP00005E005322", 1, 1), 1460);
    let mut pkts = vec![udp(
        "192.0.2.21:5060",
        "198.51.100.10:5060",
        refer("SEP00005E005321", 9, 9),
    )];
    pkts.extend(c.pkts);
    pkts.push(udp(
        "192.0.2.23:5060",
        "198.51.100.10:5060",
        refer("SEP00005E005323", 8, 8),
    ));
    // 5070 is not watched by default.
    let out = run(&pkts, CollectorConfig::default());
    let names: Vec<_> = out
        .alarms
        .iter()
        .filter_map(|a| a.device_name.clone())
        .collect();
    assert_eq!(names, ["SEP00005E005321", "SEP00005E005323"]);
    let config = CollectorConfig {
        sip_ports: vec![5060, 5070],
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    let names: Vec<_> = out
        .alarms
        .iter()
        .filter_map(|a| a.device_name.clone())
        .collect();
    assert_eq!(
        names,
        ["SEP00005E005321", "SEP00005E005322", "SEP00005E005323"]
    );
}

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn sha1_hex(path: &PathBuf) -> String {
    hex::encode(sha1::Sha1::digest(std::fs::read(path).expect("phone ITL")))
}

#[test]
fn scenario_capture_sip_alarm_over_tcp() {
    let ev = collect_evidence(
        &[capture("sip-devicetlinfo-alarm.pcap")],
        &PipelineOptions::default(),
    )
    .expect("capture reads");
    assert_eq!(ev.alarms.len(), 1, "{:?}", ev.alarms);
    let a = &ev.alarms[0];
    assert_eq!(a.device_name.as_deref(), Some("SEP00005E005323"));
    assert_eq!(a.phone.ip.to_string(), "192.0.2.23");
    assert_eq!(a.status_code, Some(8));
    // The phone reports the ITL it still has: the one the README gives as its installed ITL.
    assert_eq!(
        a.itl_signature.as_deref(),
        Some(sha1_hex(&capture("sip-devicetlinfo-alarm.phone-itl.tlv")).as_str())
    );
}

#[test]
fn scenario_capture_two_phones_tcp_and_udp() {
    let ev = collect_evidence(
        &[capture("two-phones-voice-vlan.pcap")],
        &PipelineOptions::default(),
    )
    .expect("capture reads");
    let mut found: Vec<(String, String, Option<u32>)> = ev
        .alarms
        .iter()
        .map(|a| {
            (
                a.device_name.clone().unwrap_or_default(),
                a.phone.ip.to_string(),
                a.status_code,
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("SEP00005E005321".into(), "192.0.2.21".into(), Some(8)),
            ("SEP00005E005322".into(), "192.0.2.22".into(), Some(1)),
        ]
    );
}
