//! One phone's inputs never decide another's verdict (issue 18 item 10): `--phone-status`,
//! `--phone-itl-hash`, `--phone-itl` and `--phone-ctl` name their phone (`SEP<MAC>=VALUE`)
//! in a capture of several phones; a value without a phone applies to none of them.

use serde_json::Value;
use std::process::{Command, Output};

fn itlscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("itlscope runs")
}

fn phones(out: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    v["phones"].as_array().expect("phones").clone()
}

fn status_of(p: &Value) -> Value {
    p["verdict"]["conditions"]["phone_verification_failed"].clone()
}

const TWO: &str = "captures/two-phones-voice-vlan.pcap";

#[test]
fn an_unscoped_status_applies_to_none_of_several_phones() {
    let out = itlscope(&["analyze", TWO, "--phone-status", "failed", "--json"]);
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for p in phones(&out) {
        assert_eq!(status_of(&p), Value::Null, "{p}");
    }
    assert!(
        report["notes"]
            .to_string()
            .contains("apply to none of the 2 phones"),
        "{}",
        report["notes"]
    );
}

#[test]
fn a_scoped_status_reaches_only_its_phone() {
    let out = itlscope(&[
        "analyze",
        TWO,
        "--phone-status",
        "SEP00005E005321=failed",
        "--phone-status",
        "00-00-5e-00-53-22=ok",
        "--json",
    ]);
    assert!(out.status.success());
    for p in phones(&out) {
        let want = match p["mac"].as_str() {
            Some("00005E005321") => Value::Bool(true),
            Some("00005E005322") => Value::Bool(false),
            other => panic!("unexpected phone {other:?}"),
        };
        assert_eq!(status_of(&p), want, "{p}");
    }
}

#[test]
fn the_same_option_twice_without_a_phone_is_a_usage_error() {
    let out = itlscope(&[
        "analyze",
        TWO,
        "--phone-status",
        "failed",
        "--phone-status",
        "ok",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("given twice without a phone"), "{err}");
}

#[test]
fn an_unscoped_value_still_applies_to_a_capture_of_one_phone() {
    let out = itlscope(&[
        "analyze",
        "captures/healthy-tftp-boot.pcap",
        "--phone-status",
        "ok",
        "--json",
    ]);
    let p = &phones(&out)[0];
    assert_eq!(status_of(p), Value::Bool(false));
}
