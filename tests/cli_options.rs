//! Command-line options that change what is followed and how much is kept: `--tftp-port`
//! makes a TFTP server on another port visible, `--max-file-size` cuts a download and the
//! report says so.

use itlscope_gen::packet::{Link, ip_udp};
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
use serde_json::Value;

/// A phone reading `SEP0011223344AA.cnf.xml` (1,100 bytes in three blocks) from a TFTP server
/// listening on `server_port`.
fn tftp_capture(server_port: u16) -> Vec<u8> {
    let phone = "192.0.2.30:50000".parse().expect("address");
    let listen = format!("198.51.100.10:{server_port}")
        .parse()
        .expect("address");
    let transfer = "198.51.100.10:40000".parse().expect("address");
    let link = Link::Ethernet {
        src: [2, 0, 0, 0, 0, 1],
        dst: [2, 0, 0, 0, 0, 2],
        vlans: vec![],
    };
    let mut w = PcapWriter::new(Vec::new(), 1, 65535, Precision::Micro, Endian::Little)
        .expect("pcap header");
    let mut t = 1_700_000_000_000_000_000i64;
    let mut put = |src, dst, payload: &[u8]| {
        let frame = link.wrap(&ip_udp(src, dst, 1, payload));
        w.write_packet(t, &frame, frame.len() as u32)
            .expect("write");
        t += 1_000_000;
    };
    put(
        phone,
        listen,
        b"\x00\x01SEP0011223344AA.cnf.xml\x00octet\x00",
    );
    let file: Vec<u8> = (0..1100u32).map(|i| (i % 251) as u8).collect();
    for (i, block) in file.chunks(512).enumerate() {
        let n = (i + 1) as u16;
        let mut data = vec![0, 3];
        data.extend_from_slice(&n.to_be_bytes());
        data.extend_from_slice(block);
        put(transfer, phone, &data);
        let mut ack = vec![0, 4];
        ack.extend_from_slice(&n.to_be_bytes());
        put(phone, transfer, &ack);
    }
    w.into_inner()
}

fn analyze(capture: &[u8], args: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tftp.pcap");
    std::fs::write(&path, capture).expect("write capture");
    let out = assert_cmd::Command::cargo_bin("itlscope")
        .expect("binary")
        .arg("analyze")
        .arg(&path)
        .arg("--json")
        .args(args)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn tftp_on_another_port_needs_tftp_port() {
    let capture = tftp_capture(6969);
    let without = analyze(&capture, &[]);
    assert_eq!(without["files"].as_array().map(Vec::len), Some(0));
    let with = analyze(&capture, &["--tftp-port", "6969"]);
    let file = &with["files"][0];
    assert_eq!(file["name"], "SEP0011223344AA.cnf.xml");
    assert_eq!(file["size"], 1100);
    assert_eq!(file["complete"], true);
}

#[test]
fn a_file_over_the_size_limit_is_cut_and_reported() {
    let report = analyze(&tftp_capture(69), &["--max-file-size", "1K"]);
    let file = &report["files"][0];
    assert_eq!(file["complete"], false, "{file}");
    let said = format!("{} {}", file["error"], file["notes"]);
    assert!(said.contains("1024-byte file limit"), "{file}");
}

#[test]
fn a_malformed_size_is_a_usage_error() {
    assert_cmd::Command::cargo_bin("itlscope")
        .expect("binary")
        .args(["analyze", "x.pcap", "--max-file-size", "lots"])
        .assert()
        .code(2);
}
