//! Issue 20's "CLI and set-up" list: each case a new user ran into, and what the tool says
//! now — a cut capture header, `--evidence` swallowing the capture, options that contradict
//! each other or their protocol, a hash whose label contradicts its length, `show --json` of
//! a damaged list, `show --color`, every manual page, and completion values.

use assert_cmd::Command;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("itlscope runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const HEALTHY: &str = "captures/healthy-tftp-boot.pcap";
const PHONE_ITL: &str = "captures/healthy-tftp-boot.phone-itl.tlv";

#[test]
fn a_capture_cut_inside_its_header_is_not_read_as_zero_frames() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = dir.path().join("cut.pcap");
    let whole = std::fs::read(repo().join(HEALTHY)).expect("capture");
    std::fs::write(&cut, &whole[..10]).expect("write");
    let cut = cut.to_string_lossy().into_owned();
    let alone = run(&["analyze", &cut, "--brief"]);
    assert_eq!(alone.code, Some(1), "{}", alone.stderr);
    assert!(
        alone.stderr.contains("cut inside its file header"),
        "{}",
        alone.stderr
    );
    // Beside a readable capture it is named and skipped; the other is still reported.
    let both = run(&["analyze", &cut, HEALTHY, "--brief"]);
    assert_eq!(both.code, Some(1));
    assert!(both.stdout.contains("SEP00005E005321"), "{}", both.stdout);
    assert!(both.stderr.contains("skipped"), "{}", both.stderr);
    // A whole header with no frame behind it is an empty capture, read: exit 0.
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, &whole[..24]).expect("write");
    assert_eq!(
        run(&["analyze", &empty.to_string_lossy(), "--brief"]).code,
        Some(0)
    );
}

#[test]
fn evidence_that_swallowed_the_capture_is_named() {
    let r = run(&["analyze", "--evidence", PHONE_ITL, HEALTHY]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .contains(&format!("--evidence took {HEALTHY} as evidence")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--evidence=FILE"), "{}", r.stderr);
    // With `=`, --evidence takes one file and the capture stays a capture.
    let ok = run(&[
        "analyze",
        "--evidence=captures/README.md",
        HEALTHY,
        "--brief",
    ]);
    assert_ne!(ok.code, Some(2), "{}", ok.stderr);
}

#[test]
fn options_that_contradict_each_other_or_their_protocol_are_usage_errors() {
    for (args, says) in [
        (
            vec!["--format", "csv", "--brief"],
            "--format csv already gives one row per phone",
        ),
        (vec!["--format", "jsonl", "--brief"], "--brief"),
        (vec!["--http-port", "69"], "69 is TFTP's port (UDP)"),
        (vec!["--tftp-port", "6970"], "6970 is the phones' HTTP port"),
        (vec!["--http-port", "2445"], "2445 is TVS (TLS)"),
        (vec!["--max-records", "0"], "0 would keep no file"),
        (
            vec!["--max-record-size", "0"],
            "below the smallest record size",
        ),
        (
            vec!["--max-record-size", "100"],
            "below the smallest record size",
        ),
        (
            vec![
                "--phone-itl-hash",
                "0c05655de63fe2a042cf252d96c6d609 (SHA1)",
            ],
            "labelled SHA-1 but 16 bytes long, which is MD5",
        ),
    ] {
        let mut all = vec!["analyze", HEALTHY];
        all.extend(&args);
        let r = run(&all);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    // `--format text --brief` is the verdict table, as `--brief` alone.
    let r = run(&["analyze", HEALTHY, "--format", "text", "--brief"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Another port of the right protocol is still taken.
    assert_eq!(
        run(&["analyze", HEALTHY, "--tftp-port", "1069", "--brief"]).code,
        Some(0)
    );
}

#[test]
fn show_json_of_a_damaged_list_prints_what_the_text_form_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = dir.path().join("cut.tlv");
    let whole = std::fs::read(repo().join(PHONE_ITL)).expect("itl");
    std::fs::write(&cut, &whole[..3000]).expect("write");
    let cut = cut.to_string_lossy().into_owned();
    let text = run(&["show", &cut]);
    let json = run(&["show", "--json", &cut]);
    assert_eq!((text.code, json.code), (Some(1), Some(1)));
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    let md5 = v["hashes"]["md5"].as_str().expect("md5");
    assert!(
        text.stdout.contains(md5),
        "the text form shows the same MD5"
    );
    assert_eq!(v["format"], "itl");
    assert_eq!(v["file_length"], 3000);
    let records = v["records"].as_array().expect("records");
    assert!(!records.is_empty(), "the records before the damage");
    assert!(v["damaged"].as_str().is_some_and(|d| d.contains("record")));
}

#[test]
fn show_takes_color_like_analyze() {
    let on = run(&["show", "--color", "always", PHONE_ITL]);
    assert_eq!(on.code, Some(0), "{}", on.stderr);
    assert!(
        on.stdout
            .contains("\u{1b}[1m\u{1b}[32mThe ITL file was verified successfully."),
        "{}",
        on.stdout
    );
    let off = run(&["show", "--color", "never", PHONE_ITL]);
    assert!(!off.stdout.contains('\u{1b}'));
}

#[test]
fn every_manual_page_the_main_page_names_is_generated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(&["man", "--dir", &dir.path().to_string_lossy()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let main = std::fs::read_to_string(dir.path().join("itlscope.1")).expect("itlscope.1");
    for sub in [
        "analyze",
        "show",
        "extract",
        "verify",
        "plan",
        "diff",
        "completions",
        "man",
    ] {
        assert!(
            main.contains(&format!("itlscope\\-{sub}(1)")),
            "SEE ALSO names {sub}"
        );
        let page = std::fs::read_to_string(dir.path().join(format!("itlscope-{sub}.1")))
            .unwrap_or_else(|e| panic!("itlscope-{sub}.1: {e}"));
        assert!(page.contains(&format!(".TH itlscope-{sub} 1")), "{sub}");
    }
    let analyze = std::fs::read_to_string(dir.path().join("itlscope-analyze.1")).expect("page");
    for part in ["phone\\-status", "Exit status", "Examples"] {
        assert!(analyze.contains(part), "analyze page lacks {part}");
    }
    let one = run(&["man", "plan"]);
    assert!(one.stdout.contains(".TH itlscope-plan 1"), "{}", one.stdout);
    assert_eq!(run(&["man", "nonsense"]).code, Some(2));
}

#[test]
fn completion_offers_the_values_of_status_backup_and_regenerate() {
    let bash = run(&["completions", "bash"]).stdout;
    for (option, values) in [
        ("--phone-status)", "failed ok unknown"),
        ("--key-backup)", "yes no unknown"),
        ("--regenerate)", "callmanager tvs itlrecovery capf tvs@all"),
    ] {
        let at = bash
            .find(option)
            .unwrap_or_else(|| panic!("{option} in bash completion"));
        let next = &bash[at..(at + 200).min(bash.len())];
        assert!(next.contains(values), "{option}: {next}");
    }
    // The scoped form still parses (completion lists only the plain values).
    let r = run(&[
        "analyze",
        HEALTHY,
        "--phone-status",
        "SEP00005E005321=failed",
        "--brief",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn model_and_firmware_known_only_from_the_console_log_reach_the_csv() {
    // A TFTP boot carries no HTTP User-Agent: the CSV's model and firmware stay empty...
    let plain = run(&["analyze", HEALTHY, "--format", "csv"]);
    let row = |csv: &str| -> Vec<String> {
        let line = csv.lines().nth(1).expect("a row").to_owned();
        line.split(',').map(str::to_owned).collect()
    };
    assert_eq!(row(&plain.stdout)[3..5], [String::new(), String::new()]);
    // ...until the phone's console log shows the agent of a SIP request it sent (§2.5 C).
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("console.log");
    std::fs::write(
        &log,
        "4959 DEB Mar 02 09:00:02.120483 (618:927) JAVA-sipio-sent---> REGISTER sip:198.51.100.10 SIP/2.0^M\n\
         \tContact: <sip:1001@192.0.2.21:5060>;+u.sip!devicename.ccm.cisco.com=\"SEP00005E005321\"^M\n\
         \tUser-Agent: Cisco-CP7821/12.1.1^M\n\
         4960 DEB Mar 02 09:00:02.520483 (618:927) JAVA-sipio-sent---> REGISTER sip:198.51.100.10 SIP/2.0^M\n\
         \tContact: <sip:1001@192.0.2.21:5060>;+u.sip!devicename.ccm.cisco.com=\"SEP00005E005321\"^M\n\
         \tUser-Agent: Cisco-CP7821/12.1.1^M\n",
    )
    .expect("write");
    let log = log.to_string_lossy().into_owned();
    let with_log = run(&["analyze", HEALTHY, "--evidence", &log, "--format", "csv"]);
    assert_eq!(with_log.code, Some(0), "{}", with_log.stderr);
    assert_eq!(
        row(&with_log.stdout)[3..5],
        ["CP-7821".to_string(), "12.1.1".to_string()],
        "{}",
        with_log.stdout
    );
    // Logged once per agent, not once per SIP message.
    let json = run(&["analyze", HEALTHY, "--evidence", &log, "--json"]);
    let reported =
        "\"what\": \"the phone names itself Cisco-CP7821/12.1.1 (its model and firmware)\"";
    assert_eq!(json.stdout.matches(reported).count(), 1, "{}", json.stdout);
}
