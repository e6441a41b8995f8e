//! `analyze`, `verify` and `plan` agree on the same inputs (issue 18, "What it must show"):
//! for every scenario capture that ships a `*.phone-itl.tlv`, `plan` from that ITL with the
//! change the capture shows predicts what `analyze` decides (phones recover by themselves,
//! need their ITL deleted, or undetermined), and `verify <served ITL> --trust <phone ITL or
//! served CTL>` says what `analyze`'s trust path says about that file.

mod scenarios_support;

use assert_cmd::Command;
use scenarios_support::{list, repo, str_of};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Which step of the plan the capture shows.
#[derive(Debug, Clone, Copy)]
enum At {
    /// Step N of the change all at once, as requested.
    AsRequested(usize),
    /// Step N of the safe order.
    SafeOrder(usize),
}

/// One scenario: the change it shows, as `plan` arguments after the phone ITL.
struct Row {
    /// Capture stem (`captures/<stem>.pcap`, `captures/<stem>.phone-itl.tlv`).
    stem: &'static str,
    /// `plan` arguments after the phone ITL; `None` when the capture shows no certificate
    /// change `plan` can express (then `why` says so).
    change: Option<&'static str>,
    /// The plan step the capture shows.
    at: At,
    /// `analyze` options besides `--phone-itl` (the phone's status as the capture shows it;
    /// no key backup, which `plan` does not model).
    analyze: &'static str,
    /// The TAC-note statement (seed-statements.md) the row follows, or why there is no plan.
    why: &'static str,
}

const FAILED: &str = "--phone-status failed --key-backup no";
const OK: &str = "--phone-status ok --key-backup no";

fn rows() -> Vec<Row> {
    let row = |stem, change, at, analyze, why| Row {
        stem,
        change,
        at,
        analyze,
        why,
    };
    use At::{AsRequested as Req, SafeOrder as Safe};
    vec![
        row(
            "boot-loop",
            Some("--regenerate callmanager --regenerate tvs"),
            Req(1),
            FAILED,
            "statements 21, 22 (CallManager and TVS at once); ITLRecovery unchanged: utils itl reset",
        ),
        row(
            "cm-and-tvs-regenerated",
            Some("--regenerate callmanager --regenerate tvs"),
            Req(1),
            FAILED,
            "statements 21, 22; ITLRecovery unchanged: utils itl reset",
        ),
        row(
            "cm-group-single-node",
            Some(
                "--regenerate callmanager --regenerate tvs --regenerate itlrecovery --cm-group cucm-pub",
            ),
            Req(1),
            FAILED,
            "statement 31 (a CallManager group with one server)",
        ),
        row(
            "cm-regenerated-tvs-ok",
            Some("--regenerate callmanager"),
            Req(1),
            OK,
            "statements 19, 20 (TVS vouches for the new CallManager)",
        ),
        row(
            "hostname-change-single-node",
            Some("--hostname cucm-a.example.com"),
            Req(1),
            FAILED,
            "statements 28, 29 (every certificate regenerated on a single node)",
        ),
        row(
            "itlrecovery-12-5",
            Some("--regenerate callmanager --regenerate tvs"),
            Req(1),
            OK,
            "12.0+: ITLRecovery signs the ITL and is unchanged (seed-statements.md preamble)",
        ),
        row(
            "mixed-mode-ctl-not-rerun",
            Some(
                "--regenerate callmanager --regenerate tvs --phone-ctl captures/mixed-mode-ctl-not-rerun.phone-ctl.tlv",
            ),
            Req(1),
            "--phone-ctl captures/mixed-mode-ctl-not-rerun.phone-ctl.tlv --phone-status failed --key-backup no",
            "statement 30 (re-run the CTL client)",
        ),
        row(
            "mixed-mode-ctl-rerun",
            Some(
                "--regenerate callmanager --regenerate tvs --phone-ctl captures/mixed-mode-ctl-rerun.phone-ctl.tlv",
            ),
            // The capture is mixed mode's safe order (the change, then the CTL client).
            Safe(1),
            "--phone-ctl captures/mixed-mode-ctl-rerun.phone-ctl.tlv --phone-status ok --key-backup no",
            "statements 7c, 30 (the CTL client re-run: the CTL vouches for the new ITL)",
        ),
        row(
            "moved-cluster-bulk-imported",
            Some("--move-to captures/moved-cluster-bulk-imported.target-itl.tlv"),
            Safe(2),
            OK,
            "statement 25 (Bulk Certificate Management, then the move)",
        ),
        row(
            "moved-cluster-unprepared",
            Some("--move-to captures/moved-cluster-unprepared.target-itl.tlv"),
            Req(1),
            FAILED,
            "statements 21, 25 (the old TVS still matches: import the new cluster's certificates into it)",
        ),
        row(
            "rebuilt-without-key",
            Some("--regenerate callmanager --regenerate tvs --regenerate itlrecovery"),
            Req(1),
            FAILED,
            "statement 26 (a new key is a different cluster)",
        ),
        row(
            "rollback-itl",
            Some("--hostname cucm-a.example.com"),
            Safe(1),
            OK,
            "statement 34 (rollback while trust works)",
        ),
        row(
            "sip-devicetlinfo-alarm",
            Some("--regenerate callmanager --regenerate tvs"),
            Req(1),
            FAILED,
            "statements 21, 22; ITLRecovery unchanged: utils itl reset",
        ),
        row(
            "stale-served-itl",
            Some("--regenerate tvs"),
            Req(1),
            FAILED,
            "statement 23 (restart TFTP and TVS: the ITL is rebuilt)",
        ),
        row(
            "tvs-silent-fin",
            Some("--regenerate callmanager --regenerate tvs --regenerate itlrecovery"),
            Req(1),
            FAILED,
            "statement 29 (single node, everything regenerated)",
        ),
        row(
            "tvs-silent-rst",
            Some("--regenerate callmanager --regenerate tvs --regenerate itlrecovery"),
            Req(1),
            FAILED,
            "statement 29 (single node, everything regenerated)",
        ),
        row(
            "tvs-tls-version-mismatch",
            Some("--regenerate callmanager"),
            Req(1),
            FAILED,
            "statements 19, 20 (TVS unchanged; its TLS failure is a service problem)",
        ),
        row(
            "tvs-tls13-completed",
            Some("--regenerate callmanager --regenerate itlrecovery"),
            Req(1),
            FAILED,
            "statements 12, 20 (TVS unchanged and trusted)",
        ),
        row(
            "tvs-tls13",
            Some("--regenerate callmanager"),
            Req(1),
            FAILED,
            "statements 19, 20 (TVS unchanged)",
        ),
        row(
            "tvs-unreachable",
            Some("--regenerate callmanager"),
            Req(1),
            FAILED,
            "statements 19, 20 (TVS unchanged, down during the capture)",
        ),
        row(
            "two-node-one-tvs-regenerated",
            Some("--regenerate callmanager --regenerate tvs@cucm-pub --cm-group cucm-pub,cucm-sub"),
            Req(1),
            FAILED,
            "statements 10, 24, 31 (the other node's TVS vouches)",
        ),
        row(
            "centralized-tftp-itlfile",
            None,
            Req(1),
            FAILED,
            "statement 33: centralized TFTP is not a certificate change, and plan does not model it",
        ),
        row(
            "healthy-tftp-boot",
            None,
            Req(1),
            OK,
            "statement 16: no change, the phone holds the served ITL",
        ),
        row(
            "lossy-capture",
            None,
            Req(1),
            OK,
            "statement 16: no change, the phone holds the served ITL",
        ),
        row(
            "transfer-stall",
            None,
            Req(1),
            FAILED,
            "no change: an MTU problem, not a trust problem",
        ),
    ]
}

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs")
}

fn json_of(args: &[&str]) -> Value {
    let out = run(args);
    assert!(out.status.success(), "itlscope {args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// What `plan` predicts for the phones at one step, in `analyze`'s verdict words: they trust
/// the cluster (`not-required`), a path that does not touch them brings them back
/// (`not-required`: utils itl reset, the CTL client, a Bulk Certificate Management import),
/// only a deletion does (`required`), or it cannot tell (`undetermined`).
fn prediction(step: &Value) -> &'static str {
    let undetermined = ["itl", "config"]
        .iter()
        .any(|k| str_of(&step[*k], "acceptance") == "undetermined");
    if undetermined {
        return "undetermined";
    }
    if step["stranded"] == Value::Bool(false) {
        return "not-required";
    }
    match step["recovery"].as_str() {
        Some("manual-itl-deletion") => "required",
        Some(_) => "not-required",
        None => "undetermined",
    }
}

fn analyze(row: &Row) -> Value {
    let capture = format!("captures/{}.pcap", row.stem);
    let itl = format!("captures/{}.phone-itl.tlv", row.stem);
    let mut args = vec!["analyze", "--json", &capture, "--phone-itl", &itl];
    args.extend(row.analyze.split_whitespace());
    let report = json_of(&args);
    list(&report, "phones")[0].clone()
}

#[test]
fn every_scenario_with_a_phone_itl_has_a_row() {
    let dir = repo().join("captures");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .expect("captures/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".phone-itl.tlv"))
                .map(str::to_owned)
        })
        .collect();
    stems.sort();
    let mut listed: Vec<String> = rows().iter().map(|r| r.stem.to_owned()).collect();
    listed.sort();
    assert_eq!(
        stems, listed,
        "tests/plan_agrees.rs rows vs captures/*.phone-itl.tlv"
    );
}

/// Plan's prediction at the step the capture shows is analyze's verdict (each row names the
/// statement that decides).
#[test]
fn plan_predicts_the_verdict_analyze_finds() {
    let mut disagree = Vec::new();
    for row in rows() {
        let phone = analyze(&row);
        let verdict = str_of(&phone["verdict"], "delete_itl").to_owned();
        let Some(change) = row.change else {
            // No change plan can express: the phone is never predicted stranded by a change,
            // so analyze must not find a deletion required either.
            assert_ne!(verdict, "required", "{}: {}", row.stem, row.why);
            continue;
        };
        let itl = format!("captures/{}.phone-itl.tlv", row.stem);
        let mut args = vec!["plan", "--json", &itl];
        args.extend(change.split_whitespace());
        let plan = json_of(&args);
        let (sequence, n) = match row.at {
            At::AsRequested(n) => (&plan["as_requested"], n),
            At::SafeOrder(n) => (&plan["safe_order"], n),
        };
        let step = &list(sequence, "steps")[n - 1];
        let predicted = prediction(step);
        if predicted != verdict {
            disagree.push(format!(
                "{} ({}): plan predicts {predicted} ({}), analyze says {verdict}",
                row.stem, row.why, step["recovery"]
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// Statement 33: plan says it does not model centralized TFTP, the one row it cannot run.
#[test]
fn plan_names_what_it_cannot_predict() {
    assert!(
        itlscope::plan::NOT_MODELLED
            .iter()
            .any(|n| n.contains("centralized TFTP"))
    );
}

/// The last complete download of this kind (`itl`, `ctl`) that `extract` wrote, if any.
fn extracted(dir: &Path, kind: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join("index.json")).ok()?;
    let index: Value = serde_json::from_str(&text).ok()?;
    list(&index, "files")
        .iter()
        .filter(|f| f["kind"] == kind && f["complete"] == Value::Bool(true))
        .filter_map(|f| f["path"].as_str())
        .next_back()
        .map(|p| dir.join(Path::new(p).file_name().unwrap_or(p.as_ref())))
}

/// `verify <served ITL> --trust <phone ITL>` (or, in mixed mode, `--trust <served CTL>`)
/// agrees with the trust path analyze reports for the served ITL: trusted exactly when that
/// path takes it by a record of that list; verify never asks TVS, so a file only a TVS can
/// vouch for is not trusted by verify, and analyze says it goes (or may go) only through TVS.
#[test]
fn verify_agrees_with_the_trust_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for row in rows() {
        let dir = tmp.path().join(row.stem);
        let capture = repo().join(format!("captures/{}.pcap", row.stem));
        let out = run(&[
            "extract",
            "-q",
            "-o",
            dir.to_str().expect("utf-8"),
            capture.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "extract {}: {out:?}", row.stem);
        let Some(served_itl) = extracted(&dir, "itl") else {
            continue;
        };
        let phone = analyze(&row);
        let path_itl = &phone["trust_path"]["itl"];
        let acceptance = str_of(path_itl, "acceptance");
        let via = path_itl["via"].as_str();
        let served = served_itl.to_str().expect("utf-8");
        let (trust, through_ctl) = match via {
            // Statement 7c: the CTL's CCM+TFTP verifies the ITL.
            Some("signer-in-ctl") => (
                extracted(&dir, "ctl").expect("a served CTL when the ITL goes through it"),
                true,
            ),
            _ => (
                repo().join(format!("captures/{}.phone-itl.tlv", row.stem)),
                false,
            ),
        };
        let out = run(&["verify", served, "--trust", trust.to_str().expect("utf-8")]);
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        let trusted = out.status.code() == Some(0);
        let ctx = format!("{}: analyze {path_itl} / verify {line}", row.stem);
        match (acceptance, via) {
            ("accepted", Some("same-file" | "signer-in-itl" | "rollback-itl")) => {
                assert!(trusted, "{ctx}")
            }
            ("accepted", Some("signer-in-ctl")) => assert!(trusted && through_ctl, "{ctx}"),
            ("accepted", Some("via-tvs")) => {
                assert!(!trusted && line.contains("TVS"), "{ctx}")
            }
            ("rejected", _) => assert!(!trusted, "{ctx}"),
            ("undetermined", _) => {
                // Only TVS could settle it: verify does not take it by a record either.
                assert!(!trusted, "{ctx}");
                assert!(
                    str_of(path_itl, "explanation").contains("TVS")
                        || str_of(path_itl, "explanation").contains("signature"),
                    "{ctx}"
                );
            }
            _ => panic!("{ctx}: unexpected trust path"),
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} scenarios had a served ITL");
}

/// Issue 18 item 10: a trust list given as `--trust` whose own signature fails (a damaged or
/// edited copy) is shown, not believed: verify answers "cannot tell" with exit 4, whatever the
/// list would say, and names the failing signature. (The intact list still verifies.)
#[test]
fn verify_does_not_believe_a_trust_list_whose_own_signature_fails() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let stem = "healthy-tftp-boot";
    let dir = tmp.path().join(stem);
    let capture = repo().join(format!("captures/{stem}.pcap"));
    let out = run(&[
        "extract",
        "-q",
        "-o",
        dir.to_str().expect("utf-8"),
        capture.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "extract: {out:?}");
    let served = extracted(&dir, "itl").expect("the served ITL");
    let served = served.to_str().expect("utf-8");
    let phone_itl = repo().join(format!("captures/{stem}.phone-itl.tlv"));
    let intact = run(&[
        "verify",
        served,
        "--trust",
        phone_itl.to_str().expect("utf-8"),
    ]);
    assert_eq!(intact.status.code(), Some(0), "{intact:?}");

    let mut damaged = std::fs::read(&phone_itl).expect("phone ITL");
    let at = damaged.len() - 10;
    damaged[at] ^= 0x01;
    let damaged_path = tmp.path().join("damaged-itl.tlv");
    std::fs::write(&damaged_path, &damaged).expect("write");
    let out = run(&[
        "verify",
        served,
        "--trust",
        damaged_path.to_str().expect("utf-8"),
    ]);
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(
        line.contains("cannot tell: the trust list given as --trust fails its own signature"),
        "{line}"
    );
    assert!(!line.contains("trusted:"), "{line}");

    // The exit code is documented in --help.
    let help = run(&["verify", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("4  cannot tell: the trust list given as --trust fails its own signature"),
        "{help}"
    );
}
