//! End-to-end: `itlscope analyze CAPTURE --evidence FILE...` with each kind of evidence from
//! outside the capture (console log, PRT bundle, Status Messages, `show itl`, exported
//! certificate in PEM and DER), a contradicting option, an unknown file, and hashes in every
//! display form. Verdicts per README row are checked by `scenarios_e2e`; this file checks
//! what each source contributes (reports, sources cited, conflicts).

use scenarios_support::{list, repo, str_of};
use serde_json::Value;

mod scenarios_support;

fn run(args: &[&str]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::cargo_bin("itlscope").expect("itlscope binary");
    cmd.current_dir(repo())
        .arg("analyze")
        .args(args)
        .output()
        .expect("itlscope runs")
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn phone(v: &Value) -> &Value {
    &list(v, "phones")[0]
}

fn condition<'a>(v: &'a Value, name: &str) -> &'a Value {
    &phone(v)["verdict"]["condition_details"][name]
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    list(phone(v), "checks")
        .iter()
        .find(|c| str_of(c, "id") == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn console_log_alone_settles_the_verdict() {
    let capture = "captures/healthy-http-boot.pcap";
    let log = "captures/healthy-http-boot.console.log";
    let without = json(&[capture]);
    assert_eq!(phone(&without)["verdict"]["delete_itl"], "undetermined");
    let with = json(&[capture, "--evidence", log]);
    assert_eq!(phone(&with)["verdict"]["delete_itl"], "not-required");
    // Every file is reported: kind, lines, recognised, ignored.
    let files = list(&with, "evidence_files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], log);
    assert_eq!(files[0]["kind"], "console-log");
    let part = &files[0]["parts"][0];
    let (lines, recognised, ignored) = (
        part["lines"].as_u64().unwrap(),
        part["recognised"].as_u64().unwrap(),
        part["ignored"].as_u64().unwrap(),
    );
    assert!(recognised >= 5 && ignored >= 5 && lines == recognised + ignored);
    // Condition 1 from the re-joined DeviceTLInfo, cited by file and line.
    let installed = &phone(&with)["installed_itl"];
    assert_eq!(installed["source"], "evidence-file");
    assert_eq!(installed["hash"], phone(&with)["served_itl"]["sha1"]);
    let c1 = str_of(condition(&with, "itl_differs"), "explanation");
    assert!(c1.contains(&format!("{log}:")), "{c1}");
    // Condition 3 from the authentication lines.
    assert_eq!(
        condition(&with, "phone_verification_failed")["value"],
        false
    );
    // The reported timeline keeps the log's own clock.
    let reported = list(phone(&with), "reported_timeline");
    assert!(reported.iter().any(|e| e["kind"] == "device-tl-info"));
    assert!(
        reported
            .iter()
            .all(|e| str_of(e, "time").starts_with("Mar 02 "))
    );
    assert_eq!(check(&with, "phone-reported")["status"], "pass");
}

#[test]
fn prt_bundle_members_are_found_by_content() {
    let out = json(&[
        "captures/hostname-change-single-node.pcap",
        "--evidence",
        "captures/hostname-change-single-node.probrep-20260302-090200.tar.gz",
        "--key-backup",
        "no",
    ]);
    let f = &list(&out, "evidence_files")[0];
    assert_eq!(f["kind"], "archive");
    let members: Vec<(&str, &str)> = list(f, "parts")
        .iter()
        .map(|p| (str_of(p, "member"), str_of(p, "kind")))
        .collect();
    assert_eq!(
        members,
        [
            ("prt/logs.tar.gz!messages", "console-log"),
            ("prt/logs.tar.gz!messages.0", "console-log"),
            ("prt/stmsg", "status-messages"),
        ]
    );
    assert!(
        list(f, "skipped")
            .iter()
            .any(|s| s.as_str().unwrap().contains("screen.png: binary data"))
    );
    let c1 = condition(&out, "itl_differs");
    assert_eq!(c1["value"], true);
    assert!(str_of(c1, "explanation").contains("!prt/logs.tar.gz!messages:12"));
    let c3 = condition(&out, "phone_verification_failed");
    assert_eq!(c3["value"], true);
    assert!(str_of(c3, "explanation").contains("!prt/stmsg:3"));
    let flags = &check(&out, "phone-reported")["flags"];
    assert!(
        flags
            .as_array()
            .unwrap()
            .contains(&Value::from("trust-list-failed"))
    );
}

#[test]
fn contradicting_sources_are_conflicts_not_resolved() {
    let capture = "captures/hostname-change-single-node.pcap";
    let prt = "captures/hostname-change-single-node.probrep-20260302-090200.tar.gz";
    let plain = json(&[capture]);
    let served = str_of(&phone(&plain)["served_itl"], "sha1").to_string();
    let out = json(&[
        capture,
        "--evidence",
        prt,
        "--phone-itl-hash",
        &served,
        "--phone-status",
        "ok",
    ]);
    for name in ["itl_differs", "phone_verification_failed"] {
        let c = condition(&out, name);
        assert_eq!(c["value"], Value::Null, "{name}");
        assert!(
            str_of(c, "explanation").starts_with("conflict, not resolved"),
            "{name}: {c}"
        );
    }
    let installed = check(&out, "installed-itl");
    assert!(
        installed["flags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("sources-conflict"))
    );

    // The Status Messages say "Trust List Updated"; --phone-status failed contradicts them.
    let out = json(&[
        "captures/cm-regenerated-tvs-ok.pcap",
        "--evidence",
        "captures/cm-regenerated-tvs-ok.status-messages.txt",
        "--phone-status",
        "failed",
    ]);
    let c3 = condition(&out, "phone_verification_failed");
    assert_eq!(c3["value"], Value::Null);
    let why = str_of(c3, "explanation");
    assert!(
        why.contains("--phone-status failed") && why.contains("status-messages.txt:3"),
        "{why}"
    );
}

#[test]
fn exported_tvs_certificate_settles_tvs_under_tls13() {
    let base = [
        "captures/tvs-tls13.pcap",
        "--phone-itl",
        "captures/tvs-tls13.phone-itl.tlv",
    ];
    let without = json(&base);
    assert_eq!(
        condition(&without, "tvs_cert_mismatch")["value"],
        Value::Null
    );
    for file in ["captures/tvs-tls13.tvs.pem", "captures/tvs-tls13.tvs.der"] {
        let mut args = base.to_vec();
        args.extend(["--evidence", file]);
        let out = json(&args);
        let c2 = condition(&out, "tvs_cert_mismatch");
        assert_eq!(c2["value"], false, "{file}");
        let why = str_of(c2, "explanation");
        assert!(
            why.contains("TLS 1.3") && why.contains("exported from CUCM"),
            "{why}"
        );
        assert_eq!(list(&out, "evidence_files")[0]["kind"], "certificate");
        assert_eq!(check(&out, "exported-certificates")["status"], "pass");
    }
}

#[test]
fn show_itl_is_compared_with_the_file_on_the_wire() {
    let show = "captures/tvs-tls13.show-itl.txt";
    let out = json(&["captures/tvs-tls13.pcap", "--evidence", show]);
    let c = check(&out, "cucm-trust-lists");
    assert_eq!(c["status"], "pass", "{c}");
    let served = &phone(&out)["served_itl"];
    let item = &list(c, "evidence")[0];
    assert_eq!(item["attrs"]["sha1"], served["sha1"]);
    assert_eq!(item["attrs"]["md5"], served["md5"]);

    // The same CLI output against another cluster's capture: the served ITL is not it.
    let out = json(&["captures/healthy-http-boot.pcap", "--evidence", show]);
    let c = check(&out, "cucm-trust-lists");
    assert_eq!(c["status"], "fail");
    assert!(
        c["flags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("served-differs-from-cucm"))
    );
}

#[test]
fn an_unknown_file_is_an_error_naming_it() {
    let out = run(&[
        "captures/healthy-tftp-boot.pcap",
        "--evidence",
        "captures/healthy-tftp-boot.phone-itl.tlv",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("captures/healthy-tftp-boot.phone-itl.tlv: not a phone console log"),
        "{err}"
    );
    let out = run(&[
        "captures/healthy-tftp-boot.pcap",
        "--evidence",
        "captures/no-such-file",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("captures/no-such-file"));
}

#[test]
fn hashes_are_accepted_and_printed_in_every_display_form() {
    let capture = "captures/expired-tvs-cert.pcap";
    let sha1 = "efb2291c08278a713e395a7ba6fa6104e488817e";
    let spaced: String = (0..20)
        .map(|i| sha1[2 * i..2 * i + 2].to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(" ");
    let colons: String = (0..20)
        .map(|i| &sha1[2 * i..2 * i + 2])
        .collect::<Vec<_>>()
        .join(":");
    let tagged = format!("{sha1}(SHA1)");
    for form in [sha1, &spaced, &colons, &tagged] {
        let out = json(&[capture, "--phone-itl-hash", form]);
        assert_eq!(condition(&out, "itl_differs")["value"], false, "{form}");
    }
    let out = json(&[capture]);
    let forms = list(check(&out, "served-itl"), "evidence")
        .iter()
        .find(|e| e["attrs"].get("sha1_phone_form").is_some())
        .expect("display forms")
        .clone();
    assert_eq!(forms["attrs"]["sha1_phone_form"], spaced.as_str());
    assert!(str_of(&forms["attrs"], "cucm_form").ends_with(&tagged));
}
