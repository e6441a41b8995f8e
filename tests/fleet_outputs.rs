//! Issue 20, "Fleet outputs in the engineer's words": on every scenario capture and option
//! set, the text report's verdict line, the CSV `main_reason_text` and the JSON phone
//! object's `main_reason.text` are one and the same line; the CSV carries the first next
//! step; and a report of many phones opens with the fleet summary.
//!
//! The line is the verdict on statement 15 (delete only when all four conditions hold): which
//! condition is no, or which are unknown and what settles them.

use itlscope::diagnosis::{OperatorFacts, diagnose};
use itlscope::pipeline::{PipelineOptions, collect_evidence};
use itlscope_gen::scenarios::catalog;
use itlscope_gen::span::Span;
use scenarios_support::{analyze_stdout, list, str_of};
use serde_json::Value;
use std::collections::BTreeMap;

mod scenarios_support;

/// Words separated by single spaces (the text report wraps long lines).
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The verdict table of a text report: name → the reason after the verdict word, with its
/// wrapped continuation lines joined.
fn verdict_lines(text: &str) -> BTreeMap<String, String> {
    const WORDS: [&str; 3] = ["DELETE THE ITL", "DO NOT DELETE", "UNDETERMINED"];
    let mut blocks = text.split("\n\n");
    let mut table = blocks.next().unwrap_or_default();
    if table.starts_with("Fleet summary") {
        table = blocks.next().unwrap_or_default();
    }
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in table.lines() {
        // The hint under a table of several phones ("(several phones: …") ends the table.
        if line.starts_with('(') {
            break;
        }
        if line.starts_with(' ') {
            let name = last
                .as_ref()
                .expect("a continuation follows a verdict line");
            let reason = out.get_mut(name).expect("reason");
            reason.push(' ');
            reason.push_str(line.trim());
            continue;
        }
        let (name, rest) = line.split_once("  ").expect("NAME  VERDICT  reason");
        let rest = rest.trim_start();
        let word = WORDS
            .iter()
            .find(|w| rest.starts_with(**w))
            .unwrap_or_else(|| panic!("no verdict word in {line:?}"));
        // The text names a phone without MAC "IP (MAC unknown)"; the rows name it by its IP.
        let name = match name.trim_end_matches(" (MAC unknown)") {
            "unidentified phone" => "unidentified",
            n => n,
        };
        out.insert(name.to_string(), rest[word.len()..].trim().to_string());
        last = Some(name.to_string());
    }
    out
}

fn csv_by_name(csv_out: &[u8]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv_out);
    let header = reader.headers().expect("CSV header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("CSV record");
            let row: BTreeMap<String, String> = header
                .iter()
                .zip(r.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect();
            (row["name"].clone(), row)
        })
        .collect()
}

fn name_of(phone: &Value) -> String {
    match phone["mac"].as_str() {
        Some(mac) => format!("SEP{mac}"),
        None => phone["ip"].as_str().unwrap_or("unidentified").to_string(),
    }
}

#[test]
fn main_reason_is_one_line_in_text_csv_and_json_on_every_scenario() {
    let mut compared = 0;
    for s in catalog::all() {
        for run in &s.runs {
            let ctx = format!("{} {:?}", s.file, run.args);
            let text = String::from_utf8(analyze_stdout(&s.file, false, &run.args)).expect("UTF-8");
            let table = verdict_lines(&text);
            let json: Value =
                serde_json::from_slice(&analyze_stdout(&s.file, true, &run.args)).expect("JSON");
            let mut args = run.args.clone();
            args.extend(["--format".to_string(), "csv".to_string()]);
            let csv = csv_by_name(&analyze_stdout(&s.file, false, &args));
            let phones = list(&json, "phones");
            assert_eq!(
                table.len(),
                phones.len(),
                "{ctx}: one verdict line per phone"
            );
            assert_eq!(csv.len(), phones.len(), "{ctx}: one CSV row per phone");
            for phone in phones {
                let name = name_of(phone);
                let reason = &phone["main_reason"];
                let json_text = str_of(reason, "text");
                assert!(!json_text.is_empty(), "{ctx} {name}: JSON main_reason.text");
                let row = &csv[&name];
                assert_eq!(row["main_reason"], str_of(reason, "code"), "{ctx} {name}");
                assert_eq!(
                    row["main_reason_text"], json_text,
                    "{ctx} {name}: CSV vs JSON"
                );
                assert_eq!(
                    words(&table[&name]),
                    words(json_text),
                    "{ctx} {name}: text vs JSON"
                );
                // Never the field-name form the CSV used to have.
                for field in ["itl_differs is", "tvs_cert_mismatch is", "itl_differs:"] {
                    assert!(!json_text.contains(field), "{ctx} {name}: {json_text}");
                }
                // The first next step, id and text, as the JSON verdict lists it.
                let first = list(&phone["verdict"], "next_steps").first();
                assert_eq!(
                    row["next_step"],
                    first.map_or("", |n| str_of(n, "id")),
                    "{ctx} {name}: next_step"
                );
                assert_eq!(
                    row["next_step_text"],
                    first.map_or("", |n| str_of(n, "text")),
                    "{ctx} {name}: next_step_text"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 60, "only {compared} phones compared");
}

/// Every phone with a verdict that is not "required" has something to do first: a sheet
/// sorted by `next_step` is a work list.
#[test]
fn csv_rows_carry_a_next_step_when_the_verdict_gives_one() {
    let csv = csv_by_name(&analyze_stdout(
        "two-phones-voice-vlan.pcap",
        false,
        &["--format".to_string(), "csv".to_string()],
    ));
    assert_eq!(csv.len(), 2);
    assert!(csv.values().any(|r| !r["next_step"].is_empty()), "{csv:?}");
    for row in csv.values() {
        assert_eq!(
            row["next_step"].is_empty(),
            row["next_step_text"].is_empty()
        );
        // Spreadsheet time beside the exact one.
        if !row["first_time"].is_empty() {
            let exact = &row["first_time_exact"];
            assert!(exact.ends_with('Z'), "{exact}");
            assert_eq!(row["first_time"].replace(' ', "T"), exact[..23]);
        }
    }
}

#[test]
fn the_fleet_summary_comes_before_the_verdict_lines() {
    let span = Span::new(12, 3);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("span.pcap");
    std::fs::write(&path, span.capture()).expect("write");
    let evidence = collect_evidence(std::slice::from_ref(&path), &PipelineOptions::default())
        .expect("capture reads");
    let diagnosis = diagnose(&evidence, &OperatorFacts::default());
    let text = itlscope::report::text::render(&diagnosis, &evidence);
    assert!(
        text.starts_with("Fleet summary (12 phones)"),
        "{}",
        &text[..text.len().min(400)]
    );
    let table = verdict_lines(&text);
    assert_eq!(table.len(), 12, "the verdict lines follow the summary");
    let first_line = text.find("\nSEP").expect("a verdict line");
    let first_phone = text.find("\nPhone ").expect("phone blocks");
    assert!(first_line < first_phone);
    // Each verdict line is the phone's main reason.
    for p in &diagnosis.phones {
        let name = format!("SEP{}", p.mac.as_deref().unwrap_or_default());
        assert_eq!(words(&table[&name]), words(&p.main_reason.text), "{name}");
    }
}
