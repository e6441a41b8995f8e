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
    // TLS 1.3 with application data both ways: the phone trusts TVS (issue 18 item 8).
    assert_eq!(
        condition(&without, "tvs_cert_mismatch")["value"],
        Value::Bool(false)
    );
    for file in ["captures/tvs-tls13.tvs.pem", "captures/tvs-tls13.tvs.der"] {
        let mut args = base.to_vec();
        args.extend(["--evidence", file]);
        let out = json(&args);
        let c2 = condition(&out, "tvs_cert_mismatch");
        assert_eq!(c2["value"], false, "{file}");
        let why = str_of(c2, "explanation");
        // The completed TLS 1.3 handshake decides; the exported certificate agrees with it.
        assert!(why.contains("TLS 1.3"), "{why}");
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

/// Writes `text` to `name` in `dir` and returns the path as a string.
fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write evidence file");
    path.display().to_string()
}

/// The capture's first frame date as (year, month, day).
fn capture_date(v: &Value) -> time::Date {
    let first = str_of(&list(v, "captures")[0], "first_time");
    let num = |r: std::ops::Range<usize>| -> u32 {
        first
            .get(r)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("first_time {first}"))
    };
    let month = time::Month::try_from(num(5..7) as u8).expect("month");
    time::Date::from_calendar_date(num(0..4) as i32, month, num(8..10) as u8).expect("date")
}

/// `[9:00:02am mm/dd/yy]`, the 78/88 Status Messages prefix (phone-log-lines.md §2.5 H).
fn status_stamp(d: time::Date) -> String {
    format!(
        "[9:00:02am {:02}/{:02}/{:02}]",
        u8::from(d.month()),
        d.day(),
        d.year() % 100
    )
}

fn flags(c: &Value) -> Vec<&str> {
    c["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

const REGENERATED: [&str; 5] = [
    "captures/cm-and-tvs-regenerated.pcap",
    "--phone-itl",
    "captures/cm-and-tvs-regenerated.phone-itl.tlv",
    "--key-backup",
    "no",
];

/// Statement 29 (phone-log-lines.md §4 D): "Trust List Verification Failed" on the Status
/// Messages page was refused as evidence; it is a verification failure (condition 3).
#[test]
fn statement_29_status_messages_are_a_verification_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = json(&REGENERATED);
    let stamp = status_stamp(capture_date(&plain));
    let file = write(
        &dir,
        "stmsg.txt",
        &format!("{stamp} Trust List Verification Failed\n"),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &file]);
    let out = json(&args);
    assert_eq!(list(&out, "evidence_files")[0]["kind"], "status-messages");
    let c3 = condition(&out, "phone_verification_failed");
    assert_eq!(c3["value"], true, "{c3}");
    assert!(str_of(c3, "explanation").contains("stmsg.txt:1"), "{c3}");
    assert!(flags(check(&out, "phone-reported")).contains(&"trust-list-failed"));
}

/// Issue 18 item 10: a Status Messages line six weeks older than the capture is not used
/// (it said "Trust List Updated", which would read as "its trust works"); both times named.
#[test]
fn status_messages_six_weeks_older_than_the_capture_are_set_aside() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = json(&REGENERATED);
    let old = capture_date(&plain) - time::Duration::days(42);
    let stamp = status_stamp(old);
    let file = write(&dir, "old.txt", &format!("{stamp} Trust List Updated\n"));
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &file]);
    let out = json(&args);
    let c3 = condition(&out, "phone_verification_failed");
    assert_eq!(c3["value"], Value::Null, "{c3}");
    let why = str_of(c3, "explanation");
    let first = str_of(&list(&out, "captures")[0], "first_time");
    assert!(
        why.contains(&stamp[1..stamp.len() - 1])
            && why.contains(&first[..10])
            && why.contains("6 weeks"),
        "{why}"
    );
    let c = check(&out, "phone-reported");
    assert!(flags(c).contains(&"evidence-older-than-capture"), "{c}");
    assert_eq!(list(c, "evidence")[0]["attrs"]["set_aside"], true);
    // Dated the capture's day, the same line is used.
    let today = write(
        &dir,
        "today.txt",
        &format!(
            "{} Trust List Updated\n",
            status_stamp(capture_date(&plain))
        ),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &today]);
    let out = json(&args);
    assert_eq!(condition(&out, "phone_verification_failed")["value"], false);
}

/// phone-log-lines.md §4 A and §4 B (the TAC note's 7965 SECD log), the note's MAC replaced by
/// the capture's phone: each line is a typed fact with its time.
const SECD_LOG: &str =
    "868: NOT 09:13:17.860613 TFTP: [28]:Requesting ITLSEP00005E005321.tlv from 14.48.44.80
877: NOT 09:13:17.925249 SECD: validate_file_envelope: File sign verify SUCCESS; header length <296>
937: NOT 09:13:18.656906 SECD: verifyFile: verify SUCCESS </usr/ram/SEP00005E005321.cnf.xml>
1215: ERR 15:20:59.431314 SECD: EROR:https_cert_vfy: HTTPS cert not in CTL, <14.48.44.80>
1220: NOT 15:20:59.444517 SECD: processTvsClntReq: TVS Certificate Authentication request
1248: NOT 15:20:59.538726 SECD: tvs_cert_vfy: TVS cert verified with hash from TL, <14.48.44.80>
1273: NOT 15:20:59.825648 SECD: processTvsSrvrResponse: Authentication Response received, status : 0
1287: ERR 15:20:59.859993 SECD: Authenticated the HTTPS conn via TVS
";

#[test]
fn tac_note_secd_lines_are_typed_facts_with_their_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(&dir, "console.log", SECD_LOG);
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &file]);
    let out = json(&args);
    assert_eq!(list(&out, "evidence_files")[0]["kind"], "console-log");
    let reported = list(phone(&out), "reported_timeline");
    let kinds: Vec<(&str, &str)> = reported
        .iter()
        .map(|e| (str_of(e, "kind"), str_of(e, "time")))
        .collect();
    for want in [
        ("file-verified", "09:13:17.925249"),
        ("file-verified", "09:13:18.656906"),
        ("cert-not-in-trust-list", "15:20:59.431314"),
        ("tvs-cert-trusted", "15:20:59.538726"),
        ("tvs-response", "15:20:59.825648"),
    ] {
        assert!(kinds.contains(&want), "{want:?} in {kinds:?}");
    }
    let c = check(&out, "phone-reported");
    for flag in ["phone-trusts-tvs", "tvs-vouched", "needs-tvs"] {
        assert!(flags(c).contains(&flag), "{flag}: {c}");
    }
    // The last word on verification is verifyFile's SUCCESS.
    assert_eq!(condition(&out, "phone_verification_failed")["value"], false);

    // The failure forms §4 A names.
    let failed = write(
        &dir,
        "failed.log",
        &SECD_LOG.replace("verify SUCCESS </usr", "verify FAILED </usr"),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &failed]);
    let out = json(&args);
    assert_eq!(condition(&out, "phone_verification_failed")["value"], true);
    assert!(flags(check(&out, "phone-reported")).contains(&"file-verify-failed"));

    // The note's own log names SEP0011215A1AE3: another phone than the capture's, not used,
    // both MACs named.
    let other = write(
        &dir,
        "other.log",
        &SECD_LOG.replace("00005E005321", "0011215A1AE3"),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &other]);
    let out = json(&args);
    assert_eq!(
        condition(&out, "phone_verification_failed")["value"],
        Value::Null
    );
    let c = check(&out, "phone-reported");
    assert!(flags(c).contains(&"evidence-about-another-phone"), "{c}");
    let said = str_of(&list(c, "evidence")[0], "detail");
    assert!(
        said.contains("SEP0011215A1AE3") && said.contains("SEP00005E005321"),
        "{said}"
    );
}

/// phone-log-lines.md §4 C: a CUCM TVS trace is an `--evidence` kind of its own; a request is
/// the phone's when the trace's address is the phone's.
#[test]
fn cucm_tvs_trace_says_whether_tvs_vouched_for_the_phone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = json(&REGENERATED);
    let ip = str_of(phone(&plain), "ip").to_string();
    let trace = |client: &str, answer: &str| {
        format!(
            "15:21:01.954 | debug {client}: tvsSSLHandShake Session ciphers - AES256-SHA
15:21:01.954 | debug TLS HS Done for ph_conn .
15:21:02.010 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_REQ
15:21:02.011 | debug tvsGetIssuerNameFromX509 - issuerName : CN=CUCM8-Publisher.bbbburns.lab;OU=TAC;O=Cisco;L=RTP;ST=North Carolina;C=US and Length: 75
15:21:02.011 | debug {answer}
15:21:02.011 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_RES
"
        )
    };
    let vouched = write(
        &dir,
        "tvs-vouched.trace",
        &trace(
            &ip,
            "CertificateDBCACHE::getCertificateInformation - Certificate found and equal",
        ),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &vouched]);
    let out = json(&args);
    assert_eq!(list(&out, "evidence_files")[0]["kind"], "tvs-trace");
    let c = check(&out, "cucm-tvs-trace");
    assert_eq!(c["status"], "pass", "{c}");
    let item = &list(c, "evidence")[0];
    assert_eq!(item["attrs"]["answer"], "vouched");
    assert!(str_of(item, "detail").contains("15:21:02.010"));
    assert!(str_of(&item["attrs"], "certificate").contains("CUCM8-Publisher"));

    let not_found = write(
        &dir,
        "tvs-not-found.trace",
        &trace(
            &ip,
            "getCertificateInformation(cert) : certificate not found",
        ),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &not_found]);
    let c = check(&json(&args), "cucm-tvs-trace").clone();
    assert_eq!(c["status"], "fail", "{c}");
    assert!(flags(&c).contains(&"tvs-not-found"));

    // Another phone's request is not this phone's.
    let other = write(
        &dir,
        "tvs-other.trace",
        &trace("192.0.2.77", "Certificate found and equal"),
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &other]);
    let c = check(&json(&args), "cucm-tvs-trace").clone();
    assert_eq!(c["status"], "unknown", "{c}");
}

/// Statement 27 (phone-log-lines.md §4 D): `show itl` errors pointing to CSCtn50405 give a
/// cluster-side check whose next step is the database/OS certificate comparison.
#[test]
fn statement_27_show_itl_errors_give_the_csctn50405_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        &dir,
        "show-itl.txt",
        "admin:show itl\nLength of ITL file: 5438\nThe ITL File was last modified on Wed Mar 02 09:00:00 CET 2026\nITL Record #:1\n----\nBYTEPOS TAG LENGTH VALUE\n4 FUNCTION 2 System Administrator Security Token\nThis etoken was not used to sign the ITL file.\nVerification of the ITL file failed.\nError parsing the ITL file!!\nadmin:\n",
    );
    let mut args = REGENERATED.to_vec();
    args.extend(["--evidence", &file]);
    let out = json(&args);
    let c = check(&out, "cucm-itl-csctn50405");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(flags(c).contains(&"csctn50405"));
    let why = str_of(c, "explanation");
    for said in [
        "Verification of the ITL file failed",
        "Error parsing the ITL file!!",
        "This etoken was not used to sign the ITL file.",
        "certificatetrustrolemap",
        "regenerate CallManager.pem",
    ] {
        assert!(why.contains(said), "{said}: {why}");
    }
    let step = list(c, "evidence")
        .iter()
        .find(|e| e["attrs"].get("next_step").is_some())
        .expect("next step item");
    assert!(str_of(&step["attrs"], "query").starts_with("run sql select"));
}
