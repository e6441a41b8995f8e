//! `itlscope analyze` option handling and exit codes: 2 for usage errors, 1 for unreadable
//! input.

use assert_cmd::Command;

fn itlscope() -> Command {
    Command::cargo_bin("itlscope").expect("binary built")
}

#[test]
fn bad_hash_is_a_usage_error() {
    let out = itlscope()
        .args(["analyze", "x.pcap", "--phone-itl-hash", "abcd"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not an MD5 (16), SHA-1 (20) or SHA-256 (32) hash"),
        "{err}"
    );
}

#[test]
fn bad_phone_status_and_key_backup_are_usage_errors() {
    for args in [
        ["analyze", "x.pcap", "--phone-status", "broken"],
        ["analyze", "x.pcap", "--key-backup", "maybe"],
    ] {
        let out = itlscope().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn no_capture_is_a_usage_error() {
    let out = itlscope().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_capture_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pcap");
    let out = itlscope()
        .arg("analyze")
        .arg(&missing)
        .args(["--phone-status", "failed", "--key-backup", "no"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pcap"));
}

#[test]
fn unreadable_phone_itl_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.pcap");
    std::fs::write(&capture, b"").unwrap();
    let out = itlscope()
        .arg("analyze")
        .arg(&capture)
        .arg("--phone-itl")
        .arg(dir.path().join("nope.tlv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--phone-itl"));
}
