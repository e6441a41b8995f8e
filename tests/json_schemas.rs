//! The JSON the tool writes and its published schemas (docs/schema/):
//!
//! * the committed schema files are exactly what the types generate (after an intended change,
//!   regenerate with `ITLSCOPE_REGENERATE=1 cargo test --release --test json_schemas` and read
//!   the diff);
//! * every `analyze --json` report of every scenario run (tests/golden/, which
//!   golden_reports keeps equal to what the tool prints), the index.json `extract` writes for
//!   every scenario capture, and `show --json` of every scenario and field trust list validate
//!   against them (`plan --json` of every scenario prediction: tests/plan_scenarios.rs;
//!   `diff --json`: tests/diff_cli.rs);
//! * no string anywhere in that JSON carries Rust debug formatting.

mod regen_support;

use itlscope::pipeline::{self, PipelineOptions};
use regen_support::Regen;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The schemas: file name under docs/schema/ and the schema the types generate.
fn generated() -> Vec<(&'static str, Value)> {
    let value = |s: schemars::Schema| serde_json::to_value(s).expect("schema is JSON");
    vec![
        (
            "analyze.schema.json",
            value(itlscope::report::json::schema()),
        ),
        (
            "show.schema.json",
            value(itlscope::report::trustlist::show_schema()),
        ),
        (
            "extract-index.schema.json",
            value(itlscope::extract::index_schema()),
        ),
        ("plan.schema.json", value(itlscope::plan::json::schema())),
        ("diff.schema.json", value(itlscope::diff::schema())),
    ]
}

fn schema_file(name: &str) -> PathBuf {
    repo().join("docs/schema").join(name)
}

fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_file(name)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema parses");
    jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("; "));
}

/// Strings that only Rust's `{:?}` writes: `Some(`, `None`, tuples of numbers, escaped quotes.
fn debug_formatting(v: &Value, at: &str, found: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let tuple = s.contains("[(") || s.contains("), (");
            if s.contains("Some(") || s.contains("None") || tuple || s.contains("\\\"") {
                found.push(format!("{at}: {s}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                debug_formatting(item, &format!("{at}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                debug_formatting(item, &format!("{at}/{k}"), found);
            }
        }
        _ => {}
    }
}

fn assert_no_debug_formatting(v: &Value, what: &str) {
    let mut found = Vec::new();
    debug_formatting(v, "", &mut found);
    assert!(found.is_empty(), "{what}: {found:?}");
}

#[test]
fn committed_schemas_are_what_the_types_generate() {
    let mut regen = regen_support::regenerating().then(|| Regen::new("JSON schemas"));
    let mut stale = Vec::new();
    for (name, schema) in generated() {
        let mut text = serde_json::to_string_pretty(&schema).expect("schema renders");
        text.push('\n');
        let path = schema_file(name);
        if let Some(regen) = regen.as_mut() {
            regen.write(&path, text.as_bytes());
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
        // Whatever is committed must itself be a usable schema.
        jsonschema::validator_for(&schema).expect("generated schema compiles");
    }
    assert!(
        stale.is_empty(),
        "stale schema(s) {stale:?}: regenerate with ITLSCOPE_REGENERATE=1 cargo test --release --test json_schemas and read the diff"
    );
}

#[test]
fn every_analyze_report_validates() {
    let validator = validator("analyze.schema.json");
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("tests/golden")).expect("tests/golden") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("golden report");
        let report: Value = serde_json::from_str(&text).expect("golden report is JSON");
        let what = path.display().to_string();
        assert_valid(&validator, &report, &what);
        assert_no_debug_formatting(&report, &what);
        assert_eq!(
            report["schema_version"],
            itlscope::report::json::SCHEMA_VERSION
        );
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} golden reports");
}

fn scenario_captures() -> Vec<PathBuf> {
    let mut captures: Vec<PathBuf> = std::fs::read_dir(repo().join("captures"))
        .expect("captures/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".pcap") || name.ends_with(".pcapng")
        })
        .collect();
    captures.sort();
    assert!(captures.len() >= 18, "only {} captures", captures.len());
    captures
}

fn show_value(bytes: &[u8]) -> Option<Value> {
    let parsed = itlscope::cisco::parse_any(bytes).ok()?;
    Some(serde_json::to_value(itlscope::report::trustlist::show_json(&parsed)).expect("JSON"))
}

#[test]
fn every_extract_index_and_show_validates() {
    let index_validator = validator("extract-index.schema.json");
    let show_validator = validator("show.schema.json");
    let mut shown = 0;
    for capture in scenario_captures() {
        let evidence =
            pipeline::collect_evidence(std::slice::from_ref(&capture), &PipelineOptions::default())
                .expect("scenario capture reads");
        let dir = tempfile::tempdir().expect("tempdir");
        itlscope::extract::write_extraction(&evidence.files, &evidence.tls, dir.path())
            .expect("extraction");
        let text = std::fs::read_to_string(dir.path().join("index.json")).expect("index.json");
        let index: Value = serde_json::from_str(&text).expect("index.json is JSON");
        let what = format!("extract {}", capture.display());
        assert_valid(&index_validator, &index, &what);
        assert_no_debug_formatting(&index, &what);
        assert_eq!(
            index["schema_version"],
            itlscope::extract::INDEX_SCHEMA_VERSION
        );
        // `show --json` of every trust list and signed file the capture carried whole.
        for f in evidence.files.iter().filter(|f| f.complete) {
            if let Some(v) = show_value(&f.data) {
                let what = format!("show {} from {}", f.name, capture.display());
                assert_valid(&show_validator, &v, &what);
                assert_no_debug_formatting(&v, &what);
                shown += 1;
            }
        }
    }
    assert!(shown >= 30, "only {shown} files shown");
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn show_of_field_and_phone_trust_lists_validates() {
    let validator = validator("show.schema.json");
    let mut paths = Vec::new();
    files_under(&repo().join("tests/fixtures/real"), &mut paths);
    files_under(&repo().join("captures"), &mut paths);
    let mut shown = 0;
    for path in paths {
        let bytes = std::fs::read(&path).expect("file");
        if let Some(v) = show_value(&bytes) {
            let what = format!("show {}", path.display());
            assert_valid(&validator, &v, &what);
            assert_no_debug_formatting(&v, &what);
            assert_eq!(
                v["schema_version"],
                itlscope::report::trustlist::SHOW_SCHEMA_VERSION
            );
            shown += 1;
        }
    }
    assert!(shown >= 10, "only {shown} trust lists shown");
}

#[test]
fn the_schemas_reject_what_the_contract_forbids() {
    // The validation above could pass vacuously if the schemas accepted anything: each of
    // these edits of a real report must be refused.
    let validator = validator("analyze.schema.json");
    let text =
        std::fs::read_to_string(repo().join("tests/golden/cm-and-tvs-regenerated.pcap.json"))
            .expect("golden report");
    let report: Value = serde_json::from_str(&text).expect("JSON");
    assert_valid(&validator, &report, "unchanged");
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 5] = [
        ("schema_version 1", |v| v["schema_version"] = 1.into()),
        ("alert level as a number", |v| {
            v["tls"][0]["alerts"][0]["level"] = 2.into();
        }),
        ("condition as a string", |v| {
            v["phones"][0]["verdict"]["conditions"]["itl_differs"] = "true".into();
        }),
        ("unknown delete_itl", |v| {
            v["phones"][0]["verdict"]["delete_itl"] = "maybe".into();
        }),
        ("attribute as an object", |v| {
            v["phones"][0]["checks"][0]["evidence"][0]["attrs"]["complete"] =
                serde_json::json!({"value": true});
        }),
    ];
    for (what, edit) in edits {
        let mut bad = report.clone();
        edit(&mut bad);
        assert!(!validator.is_valid(&bad), "the schema accepts {what}");
    }
}
