//! Shared by the scenario tests: checks an `analyze --json` object against the verdicts a
//! scenario expects under one option set (issue 5's contract).
#![allow(dead_code)]

use itlscope_gen::scenarios::{CONDITIONS, Run};
use serde_json::Value;
use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `itlscope analyze captures/FILE [--json] ARGS` from the repository root and returns
/// its standard output; panics with its standard error unless it exits 0.
pub fn analyze_stdout(file: &str, json: bool, args: &[String]) -> Vec<u8> {
    let mut cmd = assert_cmd::Command::cargo_bin("itlscope").expect("itlscope binary");
    // The JSON `generated.date` is fixed so golden reports stay stable (issue 20).
    cmd.env("ITLSCOPE_FIXED_DATE", "2000-01-01T00:00:00Z");
    cmd.current_dir(repo())
        .arg("analyze")
        .arg(format!("captures/{file}"));
    if json {
        cmd.arg("--json");
    }
    let out = cmd.args(args).output().expect("itlscope runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "itlscope analyze {file} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The list under `key`, or a panic naming it.
pub fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("JSON has no `{key}` list: {v}"))
}

/// The string under `key`, or "".
pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Asserts one verdict per phone, each with `delete_itl`, the four conditions and reasons.
pub fn check_verdicts(file: &str, run: &Run, json: &Value) {
    let phones = list(json, "phones");
    for want in &run.verdicts {
        let phone = phones
            .iter()
            .find(|p| str_of(p, "mac") == want.mac)
            .unwrap_or_else(|| {
                panic!("{file} {:?}: no phone {} in {phones:?}", run.args, want.mac)
            });
        let verdict = phone.get("verdict").expect("verdict");
        assert_eq!(
            str_of(verdict, "delete_itl"),
            want.delete_itl,
            "{file} {:?}: delete_itl of {} ({verdict})",
            run.args,
            want.mac
        );
        let conditions = verdict.get("conditions").expect("conditions");
        for (name, expected) in CONDITIONS.iter().zip(want.conditions) {
            let got = conditions.get(*name).expect("condition present");
            let expected = expected.map_or(Value::Null, Value::Bool);
            assert_eq!(
                got, &expected,
                "{file} {:?}: {name} of {} ({verdict})",
                run.args, want.mac
            );
        }
        assert!(
            !list(verdict, "reasons").is_empty(),
            "{file}: the verdict gives its reasons"
        );
    }
    assert_eq!(
        phones
            .iter()
            .filter(|p| p.get("mac").is_some_and(|m| !m.is_null()))
            .count(),
        run.verdicts.len(),
        "{file}: one verdict per phone"
    );
}

/// The evidence of `captures/FILE`, read by the library's pipeline (no CLI).
pub fn evidence_of(file: &str) -> itlscope::evidence::Evidence {
    let result = itlscope::pipeline::read_capture(
        &repo().join("captures").join(file),
        &itlscope::pipeline::PipelineOptions::default(),
    )
    .expect("capture reads");
    result.into_evidence()
}
