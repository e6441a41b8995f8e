//! `itlscope diff OLD NEW` on the command line: the phone's ITL of a scenario against the ITL
//! the cluster served in its capture (extracted with `itlscope extract`), `show itl` text as
//! either side, identical lists, bad input (exit 1), and `--json` against its schema.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn find_itl(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_itl(&path, found);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("ITL") && n.ends_with(".tlv"))
        {
            found.push(path);
        }
    }
}

/// The ITL the cluster served in `captures/<scenario>.pcap`, written by `itlscope extract`
/// into `dir`.
fn served_itl(scenario: &str, dir: &Path) -> PathBuf {
    let capture = format!("captures/{scenario}.pcap");
    let out = run(&[
        "extract",
        &capture,
        "-o",
        dir.to_str().expect("utf-8 temp dir"),
        "--quiet",
    ]);
    assert_eq!(out.code, Some(0), "extract {scenario}: {}", out.stderr);
    let mut found = Vec::new();
    find_itl(dir, &mut found);
    found.sort();
    found
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{scenario}: no ITL extracted"))
}

fn json(out: &Out) -> Value {
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("diff --json is JSON");
    let text = std::fs::read_to_string(repo().join("docs/schema/diff.schema.json"))
        .expect("docs/schema/diff.schema.json");
    let schema: Value = serde_json::from_str(&text).expect("schema parses");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .take(5)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "diff --json: {}", errors.join("; "));
    v
}

/// Statements 19 to 21: CallManager and TVS regenerated together. The new ITL's signer is not
/// in the phone's ITL, so only a TVS of the phone's ITL could vouch (statement 20), and the
/// TVS record changed, which is why it would not (statement 21: not in the files, so the
/// verdict stays "only through TVS", undetermined).
#[test]
fn regenerated_callmanager_and_tvs_is_only_through_tvs_statements_19_to_21() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_itl("cm-and-tvs-regenerated", dir.path());
    let served = served.to_str().expect("utf-8");
    let old = "captures/cm-and-tvs-regenerated.phone-itl.tlv";
    let text = run(&["diff", old, served]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    assert!(text.stdout.contains("signer changed"), "{}", text.stdout);
    assert!(text.stdout.contains("only through TVS"), "{}", text.stdout);
    assert!(text.stdout.contains("MD5 "), "{}", text.stdout);
    let v = json(&run(&["diff", old, served, "--json"]));
    assert_eq!(v["identical"], false);
    assert_eq!(v["signer"]["changed"], true);
    assert_eq!(v["verdict"]["answer"], "only-through-tvs");
    assert_eq!(v["verdict"]["acceptance"], "undetermined");
    assert!(!v["verdict"]["tvs"].as_array().expect("tvs").is_empty());
    let tvs_changed = v["records"].as_array().expect("records").iter().any(|c| {
        let roles = |side: &str| {
            c[side]["roles"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == "TVS"))
        };
        roles("old") || roles("new")
    });
    assert!(tvs_changed, "{:#}", v["records"]);
}

/// Statement 4 as it stands on 12.0+ (ITLRecovery, not CallManager, signs the ITL): the
/// signer is unchanged, so the phone takes the new ITL directly although CallManager and TVS
/// were regenerated (statement 21's warning does not apply).
#[test]
fn itlrecovery_signed_itl_is_accepted_directly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_itl("itlrecovery-12-5", dir.path());
    let served = served.to_str().expect("utf-8");
    let old = "captures/itlrecovery-12-5.phone-itl.tlv";
    let out = run(&["diff", old, served]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("directly (signed by record #"),
        "{}",
        out.stdout
    );
    let v = json(&run(&["diff", old, served, "--json"]));
    assert_eq!(v["verdict"]["answer"], "directly");
    assert_eq!(v["verdict"]["acceptance"], "accepted");
    assert!(!v["records"].as_array().expect("records").is_empty());
}

#[test]
fn identical_files_say_identical() {
    let f = "captures/tvs-tls13.phone-itl.tlv";
    let out = run(&["diff", f, f]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("identical"), "{}", out.stdout);
    assert!(out.stdout.contains("0 added, 0 removed"), "{}", out.stdout);
    let v = json(&run(&["diff", f, f, "--json"]));
    assert_eq!(v["identical"], true);
    assert_eq!(v["verdict"]["answer"], "identical");
    assert_eq!(v["records"].as_array().map(Vec::len), Some(0));
}

/// `show itl` text is matched by SHA-1: the text CUCM printed for the ITL on the wire against
/// that ITL is the same list.
#[test]
fn show_itl_text_against_the_served_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_itl("tvs-tls13", dir.path());
    let served = served.to_str().expect("utf-8");
    let text = "captures/tvs-tls13.show-itl.txt";
    let v = json(&run(&["diff", text, served, "--json"]));
    assert_eq!(v["old"]["input"], "show-text");
    assert_eq!(v["old"]["hashes"], Value::Null);
    assert_eq!(v["digest"]["changed"], Value::Null);
    assert_eq!(v["identical"], true, "{v:#}");
    let v = json(&run(&[
        "diff",
        "captures/tvs-tls13.phone-itl.tlv",
        text,
        "--json",
    ]));
    assert_eq!(v["new"]["input"], "show-text");
    let out = run(&["diff", "captures/tvs-tls13.phone-itl.tlv", text]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("verdict: "), "{}", out.stdout);
}

/// Statement 25 (moving phones between clusters): the target cluster's ITL has another
/// signer and other records; only the old cluster's TVS could vouch for it.
#[test]
fn other_cluster_has_another_signer_and_records_statement_25() {
    let old = "captures/moved-cluster-unprepared.phone-itl.tlv";
    let new = "captures/moved-cluster-unprepared.target-itl.tlv";
    let v = json(&run(&["diff", old, new, "--json"]));
    assert_eq!(v["signer"]["changed"], true);
    let count = |kind: &str| {
        v["records"]
            .as_array()
            .map_or(0, |r| r.iter().filter(|c| c["change"] == kind).count())
    };
    assert!(count("added") > 0 && count("removed") > 0, "{v:#}");
    assert_eq!(v["verdict"]["answer"], "only-through-tvs");
}

/// An ITL against a CTL is not a trust decision: said, not guessed.
#[test]
fn itl_against_ctl_is_not_compared() {
    let v = json(&run(&[
        "diff",
        "captures/mixed-mode-ctl-rerun.phone-itl.tlv",
        "captures/mixed-mode-ctl-rerun.phone-ctl.tlv",
        "--json",
    ]));
    assert_eq!(v["verdict"]["answer"], "undetermined");
    assert!(
        v["verdict"]["line"]
            .as_str()
            .is_some_and(|l| l.starts_with("not compared")),
        "{v:#}"
    );
}

#[test]
fn garbage_is_a_clear_error_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let garbage = dir.path().join("garbage.tlv");
    std::fs::write(&garbage, b"\x00\x01garbage that is no trust list\xff\xfe").expect("write");
    let garbage = garbage.to_str().expect("utf-8");
    let out = run(&["diff", garbage, "captures/tvs-tls13.phone-itl.tlv"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(out.stderr.contains("garbage.tlv"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let missing = run(&[
        "diff",
        "captures/tvs-tls13.phone-itl.tlv",
        "no-such-file.tlv",
    ]);
    assert_eq!(missing.code, Some(1), "{}", missing.stderr);
    let usage = run(&["diff", "captures/tvs-tls13.phone-itl.tlv"]);
    assert_eq!(usage.code, Some(2), "{}", usage.stderr);
}

/// A field ITL (tests/fixtures/real/) with no TVS record against a lab ITL signed by a key it
/// does not hold: statement 21's case with no TVS to ask, so "not at all".
#[test]
fn field_itl_without_tvs_rejects_a_foreign_signer() {
    let old = "tests/fixtures/real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv";
    let new = "captures/tvs-tls13.phone-itl.tlv";
    let out = run(&["diff", old, new]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("not at all"), "{}", out.stdout);
    let v = json(&run(&["diff", old, new, "--json"]));
    assert_eq!(v["verdict"]["answer"], "not-at-all");
    assert_eq!(v["verdict"]["acceptance"], "rejected");
    let same = json(&run(&["diff", old, old, "--json"]));
    assert_eq!(same["verdict"]["answer"], "identical");
}

#[test]
fn standard_input_twice_is_a_usage_error() {
    assert_eq!(run(&["diff", "-", "-"]).code, Some(2));
}
