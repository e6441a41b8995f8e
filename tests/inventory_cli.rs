//! Fleet inputs (issue 20): `--inventory FILE` (CSV or JSON Lines, one phone a row) gives
//! each phone what `SEP<MAC>=VALUE` options would, rows for phones not in the capture are
//! listed, unknown columns are named; `--evidence DIR` reads every file of a folder.

use assert_cmd::Command;
use itlscope_gen::span::Span;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn analyze(args: &[String]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .arg("analyze")
        .args(args)
        .output()
        .expect("itlscope runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[String]) -> Value {
    let mut all = args.to_vec();
    all.push("--json".into());
    let (code, stdout, stderr) = analyze(&all);
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_str(&stdout).expect("JSON report")
}

fn s(x: &str) -> String {
    x.to_owned()
}

/// A SPAN of 12 phones; an inventory for 10 of them (2 missing) and one phone that is not
/// in the capture.
struct Fleet {
    _dir: tempfile::TempDir,
    capture: String,
    macs: Vec<String>,
    dir: PathBuf,
}

fn fleet() -> Fleet {
    let span = Span::new(12, 7);
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("span.pcap");
    std::fs::write(&capture, span.capture()).expect("write");
    let macs = span.phones.iter().map(|b| b.phone.mac_hex()).collect();
    Fleet {
        capture: capture.to_string_lossy().into_owned(),
        dir: dir.path().to_path_buf(),
        macs,
        _dir: dir,
    }
}

const EXTRA: &str = "00AABBCCDDEE";

fn status_of(i: usize) -> &'static str {
    if i.is_multiple_of(3) { "failed" } else { "ok" }
}

#[test]
fn an_inventory_gives_each_phone_what_its_scoped_options_would() {
    let f = fleet();
    let mut csv = String::from("name,phone_status,key_backup,comment\n");
    let mut jsonl = String::new();
    let mut options = vec![f.capture.clone(), s("--key-backup"), s("no")];
    for (i, mac) in f.macs.iter().enumerate().take(10) {
        csv.push_str(&format!("SEP{mac},{},no,desk {i}\n", status_of(i)));
        jsonl.push_str(&format!(
            "{{\"mac\":\"{mac}\",\"phone_status\":\"{}\",\"key_backup\":\"no\"}}\n",
            status_of(i)
        ));
        options.push(s("--phone-status"));
        options.push(format!("SEP{mac}={}", status_of(i)));
    }
    csv.push_str(&format!("SEP{EXTRA},failed,no,spare\n"));
    let csv_path = f.dir.join("inventory.csv");
    std::fs::write(&csv_path, csv).expect("write");
    let jsonl_path = f.dir.join("inventory.jsonl");
    std::fs::write(&jsonl_path, jsonl).expect("write");

    let by_options = json(&options);
    let by_csv = json(&[
        f.capture.clone(),
        s("--inventory"),
        csv_path.to_string_lossy().into_owned(),
    ]);
    let by_jsonl = json(&[
        f.capture.clone(),
        s("--inventory"),
        jsonl_path.to_string_lossy().into_owned(),
    ]);
    assert_eq!(by_options["phones"].as_array().map(Vec::len), Some(12));
    assert_eq!(by_csv["phones"], by_options["phones"], "CSV inventory");
    assert_eq!(by_jsonl["phones"], by_options["phones"], "JSONL inventory");

    // The phone that is not in the capture is named, and so is the column that is no option.
    let notes = by_csv.to_string();
    assert!(notes.contains(&format!("SEP{EXTRA}")), "extra row named");
    assert!(
        notes.contains("columns ignored, they stand for no option: comment"),
        "unknown column named"
    );
    // The two phones without a row got no input: condition 3 unknown for them, as without
    // an inventory at all.
    let plain = json(&[f.capture.clone(), s("--key-backup"), s("no")]);
    for mac in &f.macs[10..] {
        let pick = |v: &Value| {
            v["phones"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p.to_string().contains(mac.as_str())))
                .cloned()
        };
        assert_eq!(pick(&by_csv), pick(&plain), "phone {mac} has no row");
    }
}

#[test]
fn inventory_mistakes_name_the_line_or_the_conflict() {
    let f = fleet();
    let mac = &f.macs[0];
    let bad = f.dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!("mac,phone_status\n{mac},failed\nnot-a-mac,ok\n"),
    )
    .unwrap();
    let (code, _, err) = analyze(&[
        f.capture.clone(),
        s("--inventory"),
        bad.to_string_lossy().into_owned(),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("line 3, column mac"), "{err}");

    let good = f.dir.join("good.csv");
    std::fs::write(
        &good,
        format!("mac,phone_status,key_backup\n{mac},failed,yes\n"),
    )
    .unwrap();
    let good = good.to_string_lossy().into_owned();
    let (code, _, err) = analyze(&[
        f.capture.clone(),
        s("--inventory"),
        good.clone(),
        s("--phone-status"),
        format!("SEP{mac}=ok"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("on the command line and in"), "{err}");
    let (code, _, err) = analyze(&[
        f.capture.clone(),
        s("--inventory"),
        good,
        s("--key-backup"),
        s("no"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--key-backup no contradicts key_backup yes"),
        "{err}"
    );
}

#[test]
fn an_evidence_folder_is_read_whole_and_what_is_no_evidence_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = "captures/healthy-http-boot.console.log";
    std::fs::copy(repo().join(log), dir.path().join("console.log")).expect("copy");
    std::fs::write(dir.path().join("README.txt"), "what is in this folder\n").expect("write");
    std::fs::write(dir.path().join(".hidden"), "x").expect("write");
    let capture = s("captures/healthy-http-boot.pcap");
    let by_file = json(&[capture.clone(), s("--evidence"), s(log)]);
    let by_dir = json(&[
        capture,
        s("--evidence"),
        dir.path().to_string_lossy().into_owned(),
    ]);
    let files = |v: &Value| v["evidence_files"].as_array().map(Vec::len);
    assert_eq!(files(&by_file), Some(1), "the log is read");
    assert_eq!(files(&by_dir), Some(1), "the log, not the README");
    assert_eq!(
        strip_paths(&by_dir["phones"]),
        strip_paths(&by_file["phones"]),
        "the folder's log tells the same as the log given by name"
    );
    let text = by_dir.to_string();
    assert!(
        text.contains("1 file(s) set aside, not evidence itlscope reads")
            && text.contains("README.txt"),
        "{text}"
    );
    assert!(!text.contains(".hidden"));
}

/// The JSON with every file path reduced to its file name (the log was copied elsewhere).
fn strip_paths(v: &Value) -> Value {
    match v {
        Value::String(s) if s.contains('/') => Value::String(
            s.split_whitespace()
                .map(|w| {
                    Path::new(w).file_name().map_or(w.to_owned(), |n| {
                        n.to_string_lossy().replace("healthy-http-boot.", "")
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_paths).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), strip_paths(v))).collect())
        }
        other => other.clone(),
    }
}
