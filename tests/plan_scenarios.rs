//! `itlscope plan` predicts what `analyze` then sees: for every scenario that is a certificate
//! change (gen's `plans::rows`, the table in captures/README.md), the plan made from the ITL the
//! phone held says at that step what the capture's trust path says.

mod regen_support;
mod scenarios_support;

use assert_cmd::Command;
use itlscope_gen::scenarios::plans::{PlanStep, rows, unconfirmed};
use scenarios_support::{list, repo, str_of};
use serde_json::Value;

fn plan_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("docs/schema/plan.schema.json"))
        .expect("docs/schema/plan.schema.json");
    let schema: Value = serde_json::from_str(&text).expect("schema parses");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// `itlscope plan --json ARGS`, checked against the published schema.
fn plan_json(args: &str) -> Value {
    let mut argv = vec!["plan", "--json"];
    argv.extend(args.split_whitespace());
    let plan = json_of(&argv);
    let errors: Vec<String> = plan_validator()
        .iter_errors(&plan)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "plan {args}: {}", errors.join("; "));
    assert_eq!(plan["schema_version"], itlscope::plan::SCHEMA_VERSION);
    plan
}

fn json_of(args: &[&str]) -> Value {
    let out = Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs");
    assert!(out.status.success(), "itlscope {args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `accepted via-tvs` from a `{acceptance, via}` object.
fn fate(v: &Value) -> String {
    match v.get("via").and_then(Value::as_str) {
        Some(via) => format!("{} {via}", str_of(v, "acceptance")),
        None => str_of(v, "acceptance").to_owned(),
    }
}

#[test]
fn plan_predictions_match_analyze_on_the_scenario_captures() {
    let rows = rows();
    assert!(rows.len() >= 5);
    for row in rows {
        let plan = plan_json(row.args);
        let (sequence, n) = match row.step {
            PlanStep::AsRequested(n) => (&plan["as_requested"], n),
            PlanStep::SafeOrder(n) => (&plan["safe_order"], n),
        };
        let step = &list(sequence, "steps")[n - 1];
        let phone_itl = row.args.split_whitespace().next().expect("phone ITL");
        let capture = format!("captures/{}", row.capture);
        let mut analyze = vec!["analyze", "--json", &capture, "--phone-itl", phone_itl];
        analyze.extend(row.analyze.split_whitespace());
        let report = json_of(&analyze);
        let path = &list(&report, "phones")[0]["trust_path"];
        let ctx = format!("{}: plan {step} / analyze {path}", row.capture);
        // The README row, plan and analyze say the same.
        assert_eq!(fate(&step["itl"]), row.itl, "{ctx}");
        assert_eq!(fate(&path["itl"]), row.itl, "{ctx}");
        match row.config {
            Some(config) => {
                assert_eq!(fate(&step["config"]), config, "{ctx}");
                assert_eq!(fate(&path["config"]), config, "{ctx}");
            }
            None => assert_eq!(
                str_of(&path["config"], "acceptance"),
                "undetermined",
                "{ctx}"
            ),
        }
    }
}

#[test]
fn predictions_the_capture_cannot_confirm_say_why() {
    for u in unconfirmed() {
        let plan = plan_json(u.args);
        let (sequence, n) = match u.step {
            PlanStep::AsRequested(n) => (&plan["as_requested"], n),
            PlanStep::SafeOrder(n) => (&plan["safe_order"], n),
        };
        let step = &list(sequence, "steps")[n - 1];
        assert_eq!(fate(&step["itl"]), u.itl, "{}: {step}", u.capture);
        let phone_itl = u.args.split_whitespace().next().expect("phone ITL");
        let capture = format!("captures/{}", u.capture);
        let report = json_of(&["analyze", "--json", &capture, "--phone-itl", phone_itl]);
        let itl = &list(&report, "phones")[0]["trust_path"]["itl"];
        assert!(
            str_of(itl, "explanation").contains(u.why),
            "{}: analyze does not say why it cannot tell ({}): {itl}",
            u.capture,
            u.why
        );
    }
}

#[test]
fn captures_readme_lists_the_predictions() {
    let readme = std::fs::read_to_string(repo().join("captures/README.md")).expect("README");
    let args = rows()
        .into_iter()
        .map(|r| r.args)
        .chain(unconfirmed().into_iter().map(|u| u.args));
    for a in args {
        assert!(readme.contains(a), "captures/README.md lacks {a}");
    }
}

/// `itlscope plan ARGS` (text) of every prediction is `docs/examples/plan-<capture>.txt`, the
/// examples docs/plan.md points to (regenerate with `ITLSCOPE_REGENERATE=1`).
#[test]
fn plan_text_examples_are_current() {
    let mut regen =
        regen_support::regenerating().then(|| regen_support::Regen::new("plan examples"));
    let args = rows()
        .into_iter()
        .map(|r| (r.capture, r.args))
        .chain(unconfirmed().into_iter().map(|u| (u.capture, u.args)));
    let mut stale = Vec::new();
    for (capture, args) in args {
        let out = Command::cargo_bin("itlscope")
            .expect("itlscope binary")
            .current_dir(repo())
            .arg("plan")
            .args(args.split_whitespace())
            .output()
            .expect("itlscope runs");
        assert!(out.status.success(), "plan {args}: {out:?}");
        let text = format!(
            "$ itlscope plan {args}\n{}",
            String::from_utf8(out.stdout).expect("UTF-8")
        );
        let stem = capture.trim_end_matches(".pcap");
        let path = repo().join(format!("docs/examples/plan-{stem}.txt"));
        if let Some(regen) = regen.as_mut() {
            regen.write(&path, text.as_bytes());
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale plan example(s) {stale:?}: regenerate with ITLSCOPE_REGENERATE=1 cargo test --release --test plan_scenarios and read the diff"
    );
}
