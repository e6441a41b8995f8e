//! `itlscope show` and `itlscope verify` end to end.

use assert_cmd::Command;

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn itlscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_itlscope"))
}

fn stdout_of(args: &[&str]) -> (bool, String, String) {
    let out = itlscope().args(args).output().expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn show_genuine_ctl_like_cucm() {
    let (ok, out, _) = stdout_of(&["show", &fixture("real/nikhilp93-CMPE202/SCFFile.tlv")]);
    assert!(ok);
    assert!(out.starts_with("Length of CTL file: 7166\n"), "{out}");
    assert!(out.contains("MD5:    0c43d702a9bc273d1ba7e9512877ab6a"));
    assert!(out.contains("SHA1:   7bc2b30ebc2c52dcb6af9389af7a32e4a65be824"));
    assert!(out.contains("HeaderLength:   312 (BYTES)"));
    assert!(out.contains("24:49:1F:10:70:3F:EA:9B"));
    assert!(out.contains("System Administrator Security Token"));
    assert!(
        out.contains("BD 3A AF C7 F3 E2 16 27 B5 2B 5B DD 7F B4 D0 7C 58 24 A7 68 (SHA1 Hash HEX)")
    );
    assert_eq!(
        out.matches("This etoken was used to sign the CTL file.")
            .count(),
        1
    );
    assert!(
        out.trim_end()
            .ends_with("The CTL file was verified successfully.")
    );
}

#[test]
fn show_json_contract_on_the_certutils_itl() {
    let (ok, out, _) = stdout_of(&[
        "show",
        "--json",
        &fixture("real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv"),
    ]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["format"], "itl");
    assert_eq!(v["version"], "1.2");
    assert_eq!(v["header_length"], 388);
    assert_eq!(v["signer"]["name"], "CN=SAST,O=SAST,OU=SAST");
    assert_eq!(v["signer"]["serial"], "6ba5de3a260b069337c75b38be3c2d74");
    assert_eq!(v["digest_algorithm"], "sha1");
    assert_eq!(v["signature"]["valid"], true);
    assert_eq!(v["signature"]["signer_record"], 0);
    assert_eq!(v["filename"], "ITLFile.tlv");
    assert_eq!(v["timestamp"], "2025-12-30T17:25:42Z");
    assert_eq!(
        v["hashes"]["sha256"],
        "17156172182b66cbb4f8a4c51463702c8fa62ebea47ffe86ad66543c20d744eb"
    );
    let records = v["records"].as_array().expect("records");
    let summary: Vec<(u64, u64, &str)> = records
        .iter()
        .map(|r| {
            (
                r["offset"].as_u64().unwrap_or(0),
                r["length"].as_u64().unwrap_or(0),
                r["function"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (388, 1484, "SAST"),
            (1872, 1675, "CCM"),
            (3547, 1692, "CCM"),
            (5239, 2585, "APP-SERVER"),
            (7824, 2546, "APP-SERVER")
        ]
    );
    assert_eq!(records[2]["serial"], "81a3951a5c4c1c9b7eb4b4f00b8d6e38");
    assert_eq!(records[0]["dns_name"], serde_json::Value::Null);
    assert_eq!(records[0]["signed_this_file"], true);
    assert_eq!(records[1]["signed_this_file"], false);
}

#[test]
fn tampered_file_exits_1_naming_record_5() {
    let path = fixture("real/nikhilp93-CMPE202/SCFFile-puny.tlv");
    let (ok, out, err) = stdout_of(&["show", &path]);
    assert!(!ok);
    // What could be read is still shown: the hashes and the four records before the damage.
    assert!(out.contains("MD5:    "), "{out}");
    assert!(out.contains("CTL Record #:4"), "{out}");
    assert!(!out.contains("CTL Record #:5"), "{out}");
    assert!(out.contains("4 record(s) read before the damage"), "{out}");
    let line = err.trim_end();
    assert!(line.starts_with(&format!("itlscope: {path}: ")), "{line}");
    assert!(line.contains("record #5 (bytes 4862..6023)"), "{line}");
    assert!(line.ends_with("at byte offset 6016 (record #5)"), "{line}");
    itlscope().args(["show", "--json", &path]).assert().code(1);
}

#[test]
fn not_a_cisco_file_and_missing_file_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.tlv");
    std::fs::write(&junk, b"<device/>").expect("write");
    let (ok, _, err) = stdout_of(&["show", junk.to_str().expect("utf-8")]);
    assert!(!ok);
    assert!(err.contains("this is a text file"), "{err}");
    std::fs::write(&junk, b"\x02\x00binary").expect("write");
    let (ok, _, err) = stdout_of(&["show", junk.to_str().expect("utf-8")]);
    assert!(!ok);
    assert!(
        err.contains("expected VERSION (tag 1) at the start of the file"),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with("at byte offset 0 (header)"),
        "{err}"
    );
    let (ok, _, err) = stdout_of(&["show", "/nonexistent/ITLFile.tlv"]);
    assert!(!ok);
    assert!(
        err.starts_with("itlscope: /nonexistent/ITLFile.tlv: "),
        "{err}"
    );
}

#[test]
fn show_signed_file_and_write_its_payload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("payload.txt");
    let (ok, out, _) = stdout_of(&[
        "show",
        &fixture("real/dkgroot-provision_sccp/SCCP6901.9-2-1-a.loads"),
        "--payload",
        out_path.to_str().expect("utf-8"),
    ]);
    assert!(ok);
    assert!(
        out.contains("Payload: 54 bytes at byte offset 408 (text)"),
        "{out}"
    );
    assert!(out.contains("not checkable"), "{out}");
    assert_eq!(
        std::fs::read(&out_path).expect("written"),
        b"KNL6901SCCP.9-2-1-a.zz.sgn\nAPP6901SCCP.9-2-1-a.zz.sgn\n"
    );
    let (ok, out, _) = stdout_of(&[
        "show",
        "--json",
        &fixture("real/dkgroot-provision_sccp/term45.default.loads"),
    ]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["format"], "signed");
    assert_eq!(v["version"], "1.1");
    assert_eq!(v["signature"]["valid"], serde_json::Value::Null);
    assert_eq!(v["timestamp"], serde_json::Value::Null);
    assert_eq!(v["payload"]["length"], 267);
    // --payload on a trust list is refused.
    itlscope()
        .args([
            "show",
            &fixture("trustlists/ITLFile-sha256-2048.tlv"),
            "--payload",
            out_path.to_str().expect("utf-8"),
        ])
        .assert()
        .code(1);
}

#[test]
fn show_rollback_itl() {
    let (ok, out, _) = stdout_of(&["show", &fixture("trustlists/ITLFile-rollback.tlv")]);
    assert!(ok);
    assert!(out.contains("Rollback ITL"), "{out}");
    assert!(
        out.contains("Verification of the ITL file failed."),
        "{out}"
    );
}

#[test]
fn verify_signed_config_and_trust_lists() {
    let sgn = fixture("trustlists/SEP001122334455.cnf.xml.sgn");
    let itl = fixture("trustlists/ITLFile-sha256-2048.tlv");
    let (ok, out, _) = stdout_of(&["verify", &sgn, "--trust", &itl]);
    assert!(ok, "{out}");
    assert_eq!(out.lines().count(), 1);
    assert!(
        out.contains("trusted: signed by record #2 (CCM+TFTP"),
        "{out}"
    );

    // Same config against an ITL of another cluster: not trusted.
    let (ok, out, _) = stdout_of(&[
        "verify",
        &sgn,
        "--trust",
        &fixture("real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv"),
    ]);
    assert!(!ok);
    assert!(out.contains("not trusted: key not found"), "{out}");

    // A trust list checked against itself (SAST) and the rollback ITL against the old ITL.
    itlscope()
        .args(["verify", &itl, "--trust", &itl])
        .assert()
        .success();
    itlscope()
        .args([
            "verify",
            &fixture("trustlists/ITLFile-rollback.tlv"),
            "--trust",
            &itl,
        ])
        .assert()
        .success();
    // An ITL signed by another SAST is not trusted by this one.
    itlscope()
        .args([
            "verify",
            &fixture("trustlists/ITLFile-sha1-1024.tlv"),
            "--trust",
            &itl,
        ])
        .assert()
        .code(1);
    // A malformed trust list names the --trust file.
    let (ok, _, err) = stdout_of(&[
        "verify",
        &sgn,
        "--trust",
        &fixture("real/nikhilp93-CMPE202/SCFFile-puny.tlv"),
    ]);
    assert!(!ok);
    assert!(
        err.contains("SCFFile-puny.tlv: ") && err.contains("(record #5)"),
        "{err}"
    );
}
