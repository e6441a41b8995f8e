//! Reports: the readable text report and the JSON object. Formatting only.

pub mod annotate;
pub mod certs;
pub mod evidence;
pub mod fleet;
pub mod html;
pub mod json;
pub mod limits;
pub mod redact;
pub mod rows;
pub mod text;
pub mod trustlist;

use crate::diagnosis::{Diagnosis, OperatorFacts, diagnose};
use crate::evidence::Evidence;
use std::io::Write;

/// The labels frame references are given: each capture's path when the report covers
/// several captures (frame numbers alone would not say which), empty for one capture.
pub(crate) fn capture_labels(evidence: &Evidence) -> Vec<String> {
    if evidence.captures.len() > 1 {
        evidence.captures.iter().map(|c| c.path.clone()).collect()
    } else {
        Vec::new()
    }
}

/// `frame N`, or `FILE#N` when the report covers several captures (`captures` from
/// [`capture_labels`]).
pub(crate) fn frame_ref(captures: &[String], capture: Option<usize>, frame: u64) -> String {
    match capture.and_then(|c| captures.get(c)) {
        Some(path) => format!("{path}#{frame}"),
        None => format!("frame {frame}"),
    }
}

/// Which report `analyze` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// The readable report.
    Text,
    /// The JSON object of docs/report.md.
    Json,
    /// One CSV row per phone (docs/report.md "Rows").
    Csv,
    /// One JSON object per line per phone, the same columns as the CSV.
    Jsonl,
}

/// Evidence → diagnosis → report: what `itlscope analyze` prints, with the default limits.
pub fn run_analyze(evidence: &Evidence, facts: &OperatorFacts, format: OutputFormat) -> String {
    let diagnosis = diagnose(evidence, facts);
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_report(&diagnosis, evidence, format, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the report of a diagnosis to `out`; the JSON object is streamed, never built whole.
pub fn write_report(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    format: OutputFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Text => text::write(diagnosis, evidence, out),
        OutputFormat::Json => json::write(diagnosis, evidence, out),
        OutputFormat::Csv => rows::write_csv(diagnosis, evidence, out),
        OutputFormat::Jsonl => rows::write_jsonl(diagnosis, evidence, out),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::diagnose_with;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::tests::*;
    use serde_json::Value;

    fn all_four() -> (crate::diagnosis::Diagnosis, crate::evidence::Evidence) {
        all_four_holding(crate::evidence::CaptureSummary {
            path: "boot.pcap".into(),
            format: "pcap".into(),
            frames: 40,
            ..Default::default()
        })
    }

    #[test]
    fn json_follows_the_contract() {
        let (d, ev) = all_four();
        let v = super::json::render(&d, &ev);
        assert_eq!(v["schema_version"], super::json::SCHEMA_VERSION);
        assert_eq!(v["captures"][0]["path"], "boot.pcap");
        let phone = &v["phones"][0];
        assert_eq!(phone["mac"], MAC);
        assert_eq!(phone["ip"], IP);
        assert_eq!(phone["verdict"]["delete_itl"], "required");
        let conditions = phone["verdict"]["conditions"].as_object().unwrap();
        let mut keys: Vec<&str> = conditions.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "itl_differs",
                "no_key_backup",
                "phone_verification_failed",
                "tvs_cert_mismatch"
            ]
        );
        assert!(conditions.values().all(|c| *c == Value::Bool(true)));
        assert!(phone["verdict"]["reasons"].as_array().unwrap().len() >= 5);
        assert_eq!(v["files"].as_array().unwrap().len(), 3);
        assert_eq!(v["files"][1]["kind"], "itl");
        assert_eq!(v["files"][0]["error"], "TFTP error 1: File not found");
        assert_eq!(v["tls"][0]["service"], "tvs");
        assert_eq!(v["tls"][0]["version"], "TLS1.2");
        assert_eq!(v["tls"][0]["alerts"][0]["from"], "client");
        let checks = phone["checks"].as_array().unwrap();
        assert!(checks.iter().all(|c| {
            ["pass", "fail", "unknown", "not-applicable"].contains(&c["status"].as_str().unwrap())
        }));
        assert!(phone["timeline"].as_array().unwrap().len() >= 6);
    }

    #[test]
    fn unknown_conditions_are_null_in_json() {
        let ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        let d = diagnose_with(&ev, &Default::default(), &cluster());
        let v = super::json::render(&d, &ev);
        let c = &v["phones"][0]["verdict"]["conditions"];
        assert_eq!(c["itl_differs"], Value::Null);
        assert_eq!(c["tvs_cert_mismatch"], Value::Null);
        assert_eq!(c["phone_verification_failed"], Value::Null);
        assert_eq!(c["no_key_backup"], Value::Null);
        assert_eq!(v["phones"][0]["verdict"]["delete_itl"], "undetermined");
    }

    #[test]
    fn text_puts_the_verdict_first() {
        let (d, ev) = all_four();
        let text = super::text::render(&d, &ev);
        assert!(
            text.starts_with(
                "SEP0011223344AA  DELETE THE ITL  all four conditions hold, no recovery path open\n"
            ),
            "{text}"
        );
        let phone = text
            .find("Phone SEP0011223344AA (10.0.0.5): DELETE THE ITL")
            .expect("phone header");
        let conditions = text.find("Conditions").expect("conditions");
        let checks = text.find("Checks:").expect("checks");
        let timeline = text.find("Timeline:").expect("timeline");
        assert!(phone < conditions && conditions < checks && checks < timeline);
        assert!(
            !text.contains("Verdict:"),
            "no verdict block repeating the conditions"
        );
        assert!(text.contains("frame      12"));
        assert!(text.contains("[FAIL] tvs-certificate"));
        assert!(
            text.lines()
                .all(|l| l.chars().count() <= super::text::WIDTH)
        );
    }
}
