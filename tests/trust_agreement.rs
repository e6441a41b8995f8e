//! `analyze`, `verify` and `show` decide trust with one function (`itlscope::trust`): on every
//! scenario capture that ships the phone's ITL, the served ITL extracted from the capture is
//! judged the same way by all three (issue 11 item 3).

mod scenarios_support;

use assert_cmd::Command;
use scenarios_support::{list, repo, str_of};
use serde_json::Value;
use std::path::Path;

fn itlscope() -> Command {
    let mut cmd = Command::cargo_bin("itlscope").expect("itlscope binary");
    cmd.current_dir(repo());
    cmd
}

/// `analyze --json CAPTURE --phone-itl ITL`.
fn analyze(capture: &str, phone_itl: &str) -> Value {
    let out = itlscope()
        .args(["analyze", "--json", capture, "--phone-itl", phone_itl])
        .output()
        .expect("analyze runs");
    assert!(out.status.success(), "analyze {capture}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("analyze JSON")
}

/// `extract CAPTURE -o DIR`, then the extracted files as `(sha1, path)`.
fn extract(capture: &str, dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    itlscope()
        .args(["extract", capture, "-o"])
        .arg(dir)
        .assert()
        .success();
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json written"))
            .expect("index JSON");
    list(&index, "files")
        .iter()
        .filter(|f| !str_of(f, "path").is_empty())
        .map(|f| (str_of(f, "sha1").to_owned(), dir.join(str_of(f, "path"))))
        .collect()
}

/// `verify FILE --trust ITL`: (exit 0, the line).
fn verify(file: &Path, trust: &str) -> (bool, String) {
    let out = itlscope()
        .arg("verify")
        .arg(file)
        .args(["--trust", trust])
        .output()
        .expect("verify runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `show --json FILE`'s `signature.valid`.
fn show_valid(file: &Path) -> Value {
    let out = itlscope()
        .arg("show")
        .arg("--json")
        .arg(file)
        .output()
        .expect("show runs");
    assert!(out.status.success(), "show {}: {out:?}", file.display());
    let v: Value = serde_json::from_slice(&out.stdout).expect("show JSON");
    v["signature"]["valid"].clone()
}

#[test]
fn analyze_verify_and_show_agree_on_every_scenario_served_itl() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut compared = 0;
    let mut captures: Vec<_> = std::fs::read_dir(repo().join("captures"))
        .expect("captures/")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".phone-itl.tlv"))
        .collect();
    captures.sort();
    assert!(captures.len() >= 10, "scenario side files: {captures:?}");
    for side in captures {
        let stem = side.trim_end_matches(".phone-itl.tlv");
        let capture = format!("captures/{stem}.pcap");
        let phone_itl = format!("captures/{side}");
        let dir = tmp.path().join(stem);
        let extracted = extract(&capture, &dir);
        let report = analyze(&capture, &phone_itl);
        for phone in list(&report, "phones") {
            let served = &phone["served_itl"];
            if served.is_null() {
                continue;
            }
            let sha1 = str_of(served, "sha1");
            let (_, file) = extracted
                .iter()
                .find(|(s, _)| s == sha1)
                .unwrap_or_else(|| panic!("{stem}: served ITL {sha1} not extracted"));
            let itl = &phone["trust_path"]["itl"];
            let acceptance = str_of(itl, "acceptance");
            let via = str_of(itl, "via");
            let (trusted, line) = verify(file, &phone_itl);
            let context = format!(
                "{stem} {}: analyze {itl} / verify {line}",
                str_of(phone, "mac")
            );
            match (acceptance, via) {
                // TVS is the capture's evidence; verify has none and says so.
                ("accepted", "via-tvs") => {
                    assert!(!trusted && line.contains("TVS"), "{context}");
                }
                ("accepted", _) => assert!(trusted, "{context}"),
                ("rejected", _) => {
                    assert!(!trusted, "{context}");
                    // Rejected without TVS in the way means the same reason in both.
                    if !str_of(itl, "explanation").contains("TVS") {
                        assert!(line.contains(str_of(itl, "explanation")), "{context}");
                    }
                }
                ("undetermined", _) => assert!(!trusted, "{context}"),
                other => panic!("{context}: unexpected acceptance {other:?}"),
            }
            // show's verdict on the file alone is analyze's served-ITL signature verdict.
            assert_eq!(
                show_valid(file),
                served["signature_valid"],
                "{stem}: show and analyze disagree on the served ITL's own signature"
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} served ITLs compared");
}

/// The rollback ITL served by a cluster with "Prepare Cluster for Rollback" is signed by the
/// ITLRecovery key the phone holds: analyze used to reject it because its own records carry no
/// key, while verify (rightly) trusted it.
#[test]
fn rollback_itl_is_accepted_by_analyze_as_by_verify() {
    let report = analyze(
        "captures/rollback-itl.pcap",
        "captures/rollback-itl.phone-itl.tlv",
    );
    let phone = &list(&report, "phones")[0];
    let itl = &phone["trust_path"]["itl"];
    assert_eq!(str_of(itl, "acceptance"), "accepted", "{itl}");
    assert_eq!(str_of(itl, "via"), "signer-in-itl", "{itl}");
    assert!(
        str_of(itl, "explanation").contains("SAST CN=ITLRECOVERY_"),
        "{itl}"
    );
    // Its own signature is "not checkable", not "invalid", in analyze as in show.
    assert_eq!(phone["served_itl"]["signature_valid"], Value::Null);
    let tmp = tempfile::tempdir().expect("temp dir");
    let extracted = extract("captures/rollback-itl.pcap", tmp.path());
    let (_, file) = extracted
        .iter()
        .find(|(_, p)| p.to_string_lossy().ends_with(".tlv"))
        .expect("the served ITL is extracted");
    assert_eq!(show_valid(file), Value::Null);
    let (trusted, line) = verify(file, "captures/rollback-itl.phone-itl.tlv");
    assert!(trusted, "{line}");
}
