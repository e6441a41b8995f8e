//! The two field cases of issue 10, scaled down with the limit flags: a phone booting after
//! (a) thousands of short HTTPS sessions of a PC, and (b) thousands of unanswered SYNs
//! spread over minutes of capture time, must be diagnosed exactly as its boot alone.

mod adversarial_support;
mod reassembly_support;

use adversarial_support::{pcap_file, tcp_frame_into};
use reassembly_support::tls::{self, content};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BOOT: &str = "cm-and-tvs-regenerated.pcap";
const PC: [u8; 4] = [10, 50, 0, 9];
const WEB: [u8; 4] = [10, 60, 0, 1];
const V12: u16 = 0x0303;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The records of a little-endian microsecond pcap: (timestamp ns, frame).
fn pcap_records(path: &Path) -> Vec<(i64, Vec<u8>)> {
    let b = std::fs::read(path).expect("scenario capture");
    assert_eq!(
        b.get(..4),
        Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]),
        "LE µs pcap"
    );
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= b.len() {
        let ts = i64::from(u32_at(at)) * 1_000_000_000 + i64::from(u32_at(at + 4)) * 1_000;
        let len = u32_at(at + 8) as usize;
        out.push((ts, b[at + 16..at + 16 + len].to_vec()));
        at += 16 + len;
    }
    out
}

/// A capture of `noise` frames (timestamps relative to the end of the noise) followed by
/// the boot scenario's frames verbatim.
fn with_boot(dir: &Path, name: &str, noise: &[(i64, Vec<u8>)]) -> PathBuf {
    let boot = pcap_records(&repo().join("captures").join(BOOT));
    let start = boot.first().map(|r| r.0).expect("boot frames");
    let span = noise.last().map_or(0, |r| r.0);
    let path = dir.join(name);
    let mut w = pcap_file(&path);
    for (ts, frame) in noise {
        w.write_packet(start - span - 1_000_000 + ts, frame, frame.len() as u32)
            .expect("write");
    }
    for (ts, frame) in &boot {
        w.write_packet(*ts, frame, frame.len() as u32)
            .expect("write");
    }
    drop(w);
    path
}

/// One short HTTPS session of the PC from `port`, full TLS 1.2 handshake: the same
/// template every time, only the port changes (as in the field capture).
fn https_session(port: u16, t0: i64, out: &mut Vec<(i64, Vec<u8>)>) {
    let certs = reassembly_support::ctl_certs();
    let ch = tls::client_hello(V12, &[0xc030, 0x002f], &[], Some("intranet.example"));
    let hello = tls::records(content::HANDSHAKE, 0x0301, &ch, 16384);
    let mut flight = tls::server_hello(V12, 0x002f, None);
    flight.extend(tls::certificate(&[&certs[0], &certs[1]]));
    flight.extend(tls::server_hello_done());
    let flight = tls::records(content::HANDSHAKE, V12, &flight, 16384);
    let mut finished = tls::change_cipher_spec(V12);
    finished.extend(tls::opaque(content::HANDSHAKE, V12, 48));
    let (c, s) = ((PC, port), (WEB, 443));
    let (cs, ss) = (1000u32, 9000u32);
    let steps: [(bool, u32, u8, &[u8]); 9] = [
        (true, cs, 0x02, &[]),
        (false, ss, 0x12, &[]),
        (true, cs + 1, 0x10, &[]),
        (true, cs + 1, 0x18, &hello),
        (false, ss + 1, 0x18, &flight),
        (true, cs + 1 + hello.len() as u32, 0x18, &finished),
        (false, ss + 1 + flight.len() as u32, 0x18, &finished),
        (
            true,
            cs + 1 + (hello.len() + finished.len()) as u32,
            0x11,
            &[],
        ),
        (
            false,
            ss + 1 + (flight.len() + finished.len()) as u32,
            0x11,
            &[],
        ),
    ];
    for (i, (from_client, seq, flags, payload)) in steps.into_iter().enumerate() {
        let mut frame = Vec::new();
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        tcp_frame_into(&mut frame, src, dst, seq, flags, payload);
        out.push((t0 + i as i64 * 100_000, frame));
    }
}

fn analyze(capture: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<String> = vec!["analyze".into(), "--json".into()];
    args.push(capture.display().to_string());
    let itl = repo().join("captures/cm-and-tvs-regenerated.phone-itl.tlv");
    for a in ["--phone-itl", &itl.display().to_string()] {
        args.push(a.into());
    }
    for a in ["--phone-status", "failed", "--key-backup", "no"] {
        args.push(a.into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .args(&args)
        .output()
        .expect("run itlscope");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Digits replaced: frame numbers move when noise comes first, nothing else may.
fn shape(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(ch);
        }
    }
    out
}

/// The phone's verdict and its TVS checks, as the boot alone gives them, and as `capture`
/// gives them (with `extra` options).
fn assert_same_as_boot_alone(capture: &Path, extra: &[&str]) {
    let alone = analyze(&repo().join("captures").join(BOOT), &[]);
    let mixed = analyze(capture, extra);
    let phone = |v: &Value| -> Value {
        let phones = v["phones"].as_array().expect("phones");
        assert_eq!(phones.len(), 1, "one phone: {phones:?}");
        phones[0].clone()
    };
    let (a, m) = (phone(&alone), phone(&mixed));
    assert_eq!(shape(&m["verdict"]), shape(&a["verdict"]), "verdict");
    assert_eq!(a["verdict"]["delete_itl"], "not-required");
    for id in ["tvs-reachability", "tvs-certificate", "installed-itl"] {
        let check = |p: &Value| -> Value {
            p["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .find(|c| c["id"] == id)
                .cloned()
                .expect("check")
        };
        assert_eq!(shape(&check(&m)), shape(&check(&a)), "check {id}");
    }
    assert_eq!(m["mac"], a["mac"]);
}

#[test]
fn a_phone_boot_after_thousands_of_https_sessions_keeps_its_tvs_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut noise = Vec::new();
    for i in 0..3_000u16 {
        https_session(20_000 + i, i64::from(i) * 10_000_000, &mut noise);
    }
    let capture = with_boot(dir.path(), "https-then-boot.pcap", &noise);
    // 3,000 sessions against a record limit of 1,000: the same mechanism as 138,530
    // against 100,000.
    assert_same_as_boot_alone(&capture, &["--max-records", "1000"]);
    let mixed = analyze(&capture, &["--max-records", "1000"]);
    let aggregates = mixed["tls_aggregates"].as_array().expect("aggregates");
    let summed: u64 = aggregates
        .iter()
        .map(|a| a["sessions"].as_u64().expect("count"))
        .sum();
    assert_eq!(summed, 2_000, "all but the latest 1,000 summed");
    assert_eq!(aggregates.len(), 1, "one server, one certificate");
}

/// `n` SYNs of the PC to 443, `gap_ns` apart, never answered, each from its own port.
/// (Not followed at all since web-port SYNs of non-phones are not; these tests show the
/// phone is unaffected either way.)
fn syns(n: u32, gap_ns: i64) -> Vec<(i64, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let mut frame = Vec::new();
            let port = 10_000 + (i % 50_000) as u16;
            tcp_frame_into(&mut frame, (PC, port), (WEB, 443), i * 7, 0x02, &[]);
            (i64::from(i) * gap_ns, frame)
        })
        .collect()
}

#[test]
fn a_phone_boot_after_thousands_of_unanswered_syns_keeps_its_tvs_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 4,000 SYNs over 400 s of capture time against a table of 500: the half-open ones
    // age out (60 s) and the phone's connections find room.
    let capture = with_boot(dir.path(), "syns-then-boot.pcap", &syns(4_000, 100_000_000));
    assert_same_as_boot_alone(&capture, &["--max-flows", "500"]);
    let mixed = analyze(&capture, &["--max-flows", "500"]);
    assert!(!mixed.to_string().contains("may be missing"));
}

#[test]
fn a_pcs_half_open_syns_to_the_web_ports_cost_no_flow_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 4,000 SYNs within 2 s, a table of 500: a PC's SYNs to 443 are not followed (its
    // sessions are picked up at their first TLS record), so the table never fills.
    let capture = with_boot(dir.path(), "burst-then-boot.pcap", &syns(4_000, 500_000));
    assert_same_as_boot_alone(&capture, &["--max-flows", "500"]);
    let mixed = analyze(&capture, &["--max-flows", "500"]);
    let limits = mixed["captures"][0]["limits_hit"].to_string();
    assert_eq!(limits, "[]", "{limits}");
    assert_eq!(mixed["tls_aggregates"], serde_json::json!([]));
}

/// `n` HTTPS connections of the PC that send their ClientHello and are never closed (a
/// browser's idle keep-alive connections), `gap_ns` apart: followed until they age out.
fn open_https(n: u32, gap_ns: i64) -> Vec<(i64, Vec<u8>)> {
    let ch = tls::client_hello(V12, &[0xc030, 0x002f], &[], Some("intranet.example"));
    let hello = tls::records(content::HANDSHAKE, 0x0301, &ch, 16384);
    (0..n)
        .map(|i| {
            let mut frame = Vec::new();
            let port = 10_000 + (i % 50_000) as u16;
            tcp_frame_into(&mut frame, (PC, port), (WEB, 443), i * 7, 0x18, &hello);
            (i64::from(i) * gap_ns, frame)
        })
        .collect()
}

#[test]
fn a_burst_of_open_https_connections_is_evicted_for_the_phone_not_the_phone_for_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 4,000 connections within 2 s: nothing is idle long enough to expire, so the table of
    // 500 makes room by evicting the PC's connections.
    let capture = with_boot(
        dir.path(),
        "open-then-boot.pcap",
        &open_https(4_000, 500_000),
    );
    assert_same_as_boot_alone(&capture, &["--max-flows", "500"]);
    let mixed = analyze(&capture, &["--max-flows", "500"]);
    let limits = mixed["captures"][0]["limits_hit"].to_string();
    assert!(limits.contains("closed early to make room"), "{limits}");
    assert!(limits.contains("0 of them phones'"), "{limits}");
    assert!(!mixed.to_string().contains("may be missing"));
}
