//! Golden reports: for every scenario capture and every option set its README row lists,
//! `itlscope analyze --json` must give exactly `tests/golden/<capture>[.<n>].json`, and the
//! readable report exactly `docs/examples/<capture>[.<n>].txt` (the examples the docs show).
//!
//! A change in the report is therefore always a visible diff in review. After an intended
//! change, regenerate with `ITLSCOPE_REGENERATE=1 cargo test --test golden_reports` and read
//! the diff before committing it: it prints each file it changed with a short diff and how
//! many were unchanged (`regen_support`).

use itlscope_gen::scenarios::catalog;
use regen_support::Regen;
use scenarios_support::{analyze_stdout, repo};
use std::path::Path;

mod regen_support;
mod scenarios_support;

/// Runs `itlscope analyze captures/FILE ARGS` from the repository root and returns stdout.
fn analyze(file: &str, args: &[String]) -> String {
    String::from_utf8(analyze_stdout(file, false, args)).expect("report is UTF-8")
}

/// Compares `actual` with the committed file, or rewrites it (saying what changed) when
/// regenerating. Returns a description of the mismatch, if any.
fn check(path: &Path, actual: &str, regen: Option<&mut Regen>) -> Option<String> {
    if let Some(regen) = regen {
        regen.write(path, actual.as_bytes());
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(e, a)| e != a)
                .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
            Some(format!(
                "{}: differs from line {} on:\n  expected: {:?}\n  actual:   {:?}",
                path.display(),
                line + 1,
                expected.lines().nth(line).unwrap_or("<end>"),
                actual.lines().nth(line).unwrap_or("<end>")
            ))
        }
        Err(e) => Some(format!("{}: {e}", path.display())),
    }
}

#[test]
fn every_scenario_report_matches_its_golden_file() {
    let mut regen = regen_support::regenerating().then(|| Regen::new("golden reports"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for scenario in catalog::all() {
        for (n, run) in scenario.runs.iter().enumerate() {
            let name = if n == 0 {
                scenario.file.clone()
            } else {
                format!("{}.{n}", scenario.file)
            };
            let mut json_args = run.args.clone();
            json_args.push("--json".into());
            let json = analyze(&scenario.file, &json_args);
            let golden = repo().join("tests/golden").join(format!("{name}.json"));
            failures.extend(check(&golden, &json, regen.as_mut()));
            let text = analyze(&scenario.file, &run.args);
            let mut example = format!("$ itlscope analyze captures/{}", scenario.file);
            for a in &run.args {
                example.push(' ');
                example.push_str(a);
            }
            example.push('\n');
            example.push_str(&text);
            let doc = repo().join("docs/examples").join(format!("{name}.txt"));
            failures.extend(check(&doc, &example, regen.as_mut()));
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} scenario runs found");
    assert!(
        failures.is_empty(),
        "{} of {} golden reports differ (regenerate with ITLSCOPE_REGENERATE=1 after an intended change):\n{}",
        failures.len(),
        checked * 2,
        failures.join("\n")
    );
}
