//! Issue 11's wrong answers, end to end on the shipped captures: advice that does not follow
//! from the evidence, `--phone-itl` files that are not ITLs, and several captures in one run.

use assert_cmd::Command;
use scenarios_support::repo;
use serde_json::Value;

mod scenarios_support;

/// Runs `itlscope ARGS` from the repository root.
fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs")
}

/// `analyze --json ARGS`, which must succeed: the JSON object.
fn analyze_json(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--json"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// The one phone's verdict object.
fn verdict(v: &Value) -> &Value {
    let phones = v["phones"].as_array().expect("phones");
    assert_eq!(phones.len(), 1, "{phones:?}");
    &phones[0]["verdict"]
}

#[test]
fn files_that_are_not_an_itl_are_refused_as_phone_itl() {
    let cases = [
        ("tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv", "a CTL"),
        ("tests/fixtures/real/dkgroot-provision_sccp/term45.default.loads", "a signed file"),
        ("captures/lossy-capture.pcap", "a pcap capture"),
        ("captures/README.md", "a text file"),
    ];
    for (file, what) in cases {
        let out = run(&[
            "analyze",
            "captures/healthy-tftp-boot.pcap",
            "--phone-itl",
            file,
            "--phone-status",
            "failed",
            "--key-backup",
            "no",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(file), "{file}: {err}");
        assert!(err.contains(&format!("this is {what}")), "{file}: {err}");
        assert!(out.stdout.is_empty(), "{file}: no report for a refused option");
    }
}
