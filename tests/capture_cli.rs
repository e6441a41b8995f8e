//! `itlscope analyze` on captures, until the diagnosis lands: the per-capture summary, the
//! exit codes and the exact error and warning texts.

mod capture_support;

use assert_cmd::Command;
use capture_support::*;
use itlscope_gen::packet::ip_udp;
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};

const T0: i64 = 1_764_324_000_000_000_001;

fn capture(frames: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 1, 65535, Precision::Nano, Endian::Little).unwrap();
    let f = ethernet(vec![]).wrap(&ip_udp(
        addr("192.0.2.1:1024"),
        addr("192.0.2.2:69"),
        1,
        b"x",
    ));
    for i in 0..frames {
        w.write_packet(T0 + i as i64 * 1_500_000_000, &f, f.len() as u32)
            .unwrap();
    }
    w.into_inner()
}

fn itlscope() -> Command {
    Command::cargo_bin("itlscope").expect("binary")
}

#[test]
fn analyze_prints_a_summary_per_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.pcap");
    std::fs::write(&path, capture(3)).unwrap();
    let out = itlscope()
        .arg("analyze")
        .arg(&path)
        .arg(&path)
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let name = path.display().to_string();
    assert_eq!(
        stdout
            .matches(&format!("{name}: pcap capture, 3 frames"))
            .count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("link types: Ethernet (1): 3"), "{stdout}");
    assert!(
        stdout.contains(
            "time: 2025-11-28T10:00:00.000000001Z .. 2025-11-28T10:00:03.000000001Z (3.000 s)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("malformed: 0, cut by snaplen: 0"),
        "{stdout}"
    );
    assert!(stdout.contains("truncated: no"), "{stdout}");
}

#[test]
fn standard_input_is_read_for_dash() {
    let out = itlscope()
        .args(["analyze", "-"])
        .write_stdin(capture(4))
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("-: pcap capture, 4 frames"), "{stdout}");
}

#[test]
fn garbage_exits_1_with_the_exact_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.html");
    std::fs::write(&path, "<html><body>not a capture</body></html>").unwrap();
    itlscope()
        .arg("analyze")
        .arg(&path)
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "itlscope: {}: not a pcap or pcapng capture (first bytes 3c 68 74 6d 6c 3e 3c 62 ...)\n",
            path.display()
        ));
    let missing = dir.path().join("missing.pcap");
    let out = itlscope().arg("analyze").arg(&missing).assert().code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.starts_with(&format!("itlscope: {}: ", missing.display())));
}

#[test]
fn a_truncated_capture_warns_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    let mut bytes = capture(3);
    bytes.truncate(bytes.len() - 10);
    let record = (bytes.len() + 10 - 24) / 3;
    std::fs::write(&path, &bytes).unwrap();
    let out = itlscope().arg("analyze").arg(&path).assert().success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "itlscope: warning: {}: truncated after frame 2 (byte offset {})\n",
            path.display(),
            24 + 2 * record
        )
    );
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("2 frames"), "{stdout}");
}
