//! `analyze --format csv|jsonl` on every scenario capture and option set of
//! `captures/README.md`: one row per phone, and each row says what the full JSON report says
//! of that phone (verdict, conditions, hashes, main reason) and what the scenario expects.

use itlscope_gen::scenarios::{CONDITIONS, catalog};
use scenarios_support::{analyze_stdout, list, str_of};
use serde_json::Value;

mod scenarios_support;

fn with_format(args: &[String], format: &str) -> Vec<String> {
    let mut a = args.to_vec();
    a.extend(["--format".to_string(), format.to_string()]);
    a
}

#[test]
fn rows_agree_with_the_json_report_on_every_scenario() {
    for s in catalog::all() {
        for run in &s.runs {
            let json: Value =
                serde_json::from_slice(&analyze_stdout(&s.file, true, &run.args)).expect("JSON");
            let phones = list(&json, "phones");
            let jsonl = analyze_stdout(&s.file, false, &with_format(&run.args, "jsonl"));
            let rows: Vec<Value> = String::from_utf8(jsonl)
                .expect("UTF-8")
                .lines()
                .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
                .collect();
            let csv_out = analyze_stdout(&s.file, false, &with_format(&run.args, "csv"));
            let mut csv = csv::Reader::from_reader(csv_out.as_slice());
            let header = csv.headers().expect("header").clone();
            let records: Vec<csv::StringRecord> =
                csv.records().map(|r| r.expect("CSV record")).collect();
            let ctx = format!("{} {:?}", s.file, run.args);
            assert_eq!(rows.len(), phones.len(), "{ctx}: one row per phone");
            assert_eq!(
                records.len(),
                phones.len(),
                "{ctx}: one CSV record per phone"
            );
            for ((phone, row), record) in phones.iter().zip(&rows).zip(&records) {
                assert_eq!(row["schema_version"], 4, "{ctx}");
                assert_eq!(row["mac"], phone["mac"], "{ctx}");
                assert_eq!(row["ip"], phone["ip"], "{ctx}");
                let verdict = &phone["verdict"];
                assert_eq!(row["verdict"], verdict["delete_itl"], "{ctx}");
                for name in CONDITIONS {
                    assert_eq!(row[name], verdict["conditions"][name], "{ctx}: {name}");
                }
                assert_eq!(row["served_itl_md5"], phone["served_itl"]["md5"], "{ctx}");
                assert_eq!(row["served_itl_sha1"], phone["served_itl"]["sha1"], "{ctx}");
                assert_eq!(
                    row["installed_itl_hash"], phone["installed_itl"]["hash"],
                    "{ctx}"
                );
                assert!(!str_of(row, "main_reason").is_empty(), "{ctx}");
                assert_eq!(row["capture"], format!("captures/{}", s.file), "{ctx}");
                assert_eq!(row["last_capture"], row["capture"], "{ctx}: one capture");
                // The CSV record holds the same values, column by column.
                for (col, cell) in header.iter().zip(record.iter()) {
                    let want = match &row[col] {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Array(a) => a
                            .iter()
                            .map(|v| v.as_str().unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join(";"),
                        Value::Object(_) => unreachable!("rows are flat"),
                    };
                    let want = if (CONDITIONS.contains(&col) || col == "no_recovery_path")
                        && want.is_empty()
                    {
                        "unknown".to_string()
                    } else {
                        want
                    };
                    assert_eq!(cell, want, "{ctx}: CSV column {col}");
                }
            }
            // And the scenario's own expectation, per phone.
            for want in &run.verdicts {
                let row = rows
                    .iter()
                    .find(|r| str_of(r, "mac") == want.mac)
                    .unwrap_or_else(|| panic!("{ctx}: no row for {}", want.mac));
                assert_eq!(str_of(row, "verdict"), want.delete_itl, "{ctx}");
            }
        }
    }
}

#[test]
fn format_and_json_flags_conflict() {
    let mut cmd = assert_cmd::Command::cargo_bin("itlscope").expect("binary");
    let out = cmd
        .current_dir(scenarios_support::repo())
        .args([
            "analyze",
            "captures/healthy-tftp-boot.pcap",
            "--json",
            "--format",
            "csv",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "usage error");
}

/// The rows of `analyze captures/FILE ARGS --format jsonl`.
fn rows_of(file: &str, args: &[&str]) -> Vec<Value> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = analyze_stdout(file, false, &with_format(&args, "jsonl"));
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn flags(row: &Value) -> Vec<&str> {
    list(row, "flags")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn boot_loop_scenario_is_flagged_with_its_cycles() {
    let s = catalog::by_file("boot-loop.pcap").expect("scenario");
    // The cycles the generator wrote: one per request of the CTL that opens each boot.
    let ctl = format!("CTL{}.tlv", s.phones[0].phone.device_name());
    let cycles = itlscope_gen::scenarios::boot::expected_files(&s.phones[0].steps)
        .iter()
        .filter(|f| f.name == ctl)
        .count();
    assert_eq!(cycles, 4);
    for args in [
        &[][..],
        &["--phone-status", "failed", "--key-backup", "no"][..],
    ] {
        let rows = rows_of("boot-loop.pcap", args);
        assert_eq!(rows.len(), 1);
        assert!(flags(&rows[0]).contains(&"boot-loop"), "{:?}", rows[0]);
        assert_eq!(str_of(&rows[0], "main_reason"), "boot-loop", "{args:?}");
        let text = str_of(&rows[0], "main_reason_text");
        assert!(
            text.starts_with(&format!(
                "boot loop: {cycles} cycles, last at frame {}",
                rows[0]["last_frame"]
            )),
            "{text}"
        );
    }
    // With the phone's ITL all four conditions hold: deletion is the answer, the loop a symptom.
    let rows = rows_of(
        "boot-loop.pcap",
        &[
            "--phone-itl",
            "captures/boot-loop.phone-itl.tlv",
            "--phone-status",
            "failed",
            "--key-backup",
            "no",
        ],
    );
    // The boot loop's phone still holds the ITLRecovery the cluster serves: not required.
    assert_eq!(str_of(&rows[0], "verdict"), "not-required");
    assert_eq!(str_of(&rows[0], "main_reason"), "boot-loop");
    assert!(flags(&rows[0]).contains(&"boot-loop"));
}

#[test]
fn stall_scenario_is_a_transport_problem_never_a_deletion() {
    let s = catalog::by_file("transfer-stall.pcap").expect("scenario");
    for run in &s.runs {
        let args: Vec<&str> = run.args.iter().map(String::as_str).collect();
        let rows = rows_of("transfer-stall.pcap", &args);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_ne!(str_of(row, "verdict"), "required", "{args:?}");
        assert_eq!(str_of(row, "main_reason"), "transfer-stall", "{args:?}");
        let text = str_of(row, "main_reason_text");
        assert!(text.contains("not a trust problem"), "{text}");
        assert!(text.contains("do not delete the ITL"), "{text}");
        assert!(flags(row).contains(&"transfer-stall"));
    }
    // Even when the engineer says the phone failed and no key backup exists.
    let json: Value = serde_json::from_slice(&analyze_stdout(
        "transfer-stall.pcap",
        true,
        &[
            "--phone-itl".into(),
            "captures/transfer-stall.phone-itl.tlv".into(),
            "--phone-status".into(),
            "failed".into(),
            "--key-backup".into(),
            "no".into(),
        ],
    ))
    .expect("JSON");
    let phone = &list(&json, "phones")[0];
    let steps = list(&phone["verdict"], "next_steps");
    assert!(str_of_value(&steps[0]["text"]).starts_with("Fix the transport"));
    assert!(
        !steps
            .iter()
            .any(|s| str_of_value(s).starts_with("Delete the ITL"))
    );
}

fn str_of_value(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}
