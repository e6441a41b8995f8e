//! One row per phone for a fleet: `analyze --format csv` and `--format jsonl` (docs/report.md
//! "Rows"). The columns are the same in both, in the same order; the list a bulk tool that
//! resets phones takes as input.
//!
//! Written phone by phone: one row is built, written and dropped before the next.
//!
//! Made to open in a spreadsheet as a work list (issue 20): the phone's name first, the main
//! reason in the text report's words, the first next step (sort by it), times in a form
//! spreadsheets read as dates with the exact RFC 3339 time beside them, and the constant
//! `schema_version` last.

use crate::capture::Timestamp;
use crate::diagnosis::model::PhoneDiagnosis;
use crate::diagnosis::{Diagnosis, Prepared};
use crate::evidence::{Evidence, Seen};
use serde::Serialize;
use std::borrow::Borrow;
use std::io::Write;

/// Version of the row layout; bumped when a column changes meaning or disappears.
pub const ROW_SCHEMA_VERSION: u32 = 4;

/// The columns, in order (the CSV header and the JSON keys).
pub const COLUMNS: [&str; 33] = [
    "name",
    "mac",
    "ip",
    "model",
    "firmware",
    "served_itl",
    "served_itl_md5",
    "served_itl_sha1",
    "installed_itl_source",
    "installed_itl_algorithm",
    "installed_itl_hash",
    "itl_differs",
    "tvs_cert_mismatch",
    "phone_verification_failed",
    "no_key_backup",
    "no_recovery_path",
    "open_recovery_path",
    "verdict",
    "main_reason",
    "main_reason_text",
    "next_step",
    "next_step_text",
    "flags",
    "first_frame",
    "first_time",
    "first_time_exact",
    "last_frame",
    "last_time",
    "last_time_exact",
    "capture",
    "last_capture",
    "other_ips",
    "schema_version",
];

/// One phone's row. Unknown values are `null` in JSON and empty in CSV, except the four
/// conditions, which CSV writes `true`, `false` or `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneRow {
    /// `SEP<MAC>`, or the IP when the MAC is unknown.
    pub name: String,
    /// 12 upper-case hex digits.
    pub mac: Option<String>,
    /// The phone's first address.
    pub ip: Option<String>,
    /// Model as the phone names itself (`CP-8845`).
    pub model: Option<String>,
    /// Firmware version or requested load.
    pub firmware: Option<String>,
    /// Name of the served ITL the verdict compares against.
    pub served_itl: Option<String>,
    /// Its MD5 (what 79xx phones show).
    pub served_itl_md5: Option<String>,
    /// Its SHA-1 (what 78xx/88xx phones show).
    pub served_itl_sha1: Option<String>,
    /// `phone-itl-file`, `phone-itl-hash` or `device-tl-info`.
    pub installed_itl_source: Option<String>,
    /// `md5`, `sha1` or `sha256`; `none` when the phone reports no ITL installed.
    pub installed_itl_algorithm: Option<String>,
    /// The installed ITL's hash as the phone shows it, lower-case hex.
    pub installed_itl_hash: Option<String>,
    /// Condition 1.
    pub itl_differs: Option<bool>,
    /// Condition 2.
    pub tvs_cert_mismatch: Option<bool>,
    /// Condition 3.
    pub phone_verification_failed: Option<bool>,
    /// Condition 4.
    pub no_key_backup: Option<bool>,
    /// Condition 4 as the note means it: every recovery path closed (true), one open (false).
    pub no_recovery_path: Option<bool>,
    /// The first open recovery path (`other-tvs`, `itl-recovery`, `ctl`, `key-backup`).
    pub open_recovery_path: Option<String>,
    /// `required`, `not-required` or `undetermined`.
    pub verdict: String,
    /// Main-reason code (docs/report.md).
    pub main_reason: String,
    /// The main reason in one line, worded as the text report's verdict table words it.
    pub main_reason_text: String,
    /// Id of the first next step (docs/report.md); None when the verdict advises none.
    pub next_step: Option<String>,
    /// Its text.
    pub next_step_text: Option<String>,
    /// Every check flag of the phone, sorted, `;`-separated in CSV.
    pub flags: Vec<String>,
    /// First frame of the phone's evidence.
    pub first_frame: Option<u64>,
    /// Its time, UTC, as spreadsheets read dates: `2026-03-02 09:02:00.123`.
    pub first_time: Option<String>,
    /// Its exact time, RFC 3339 UTC with nanoseconds: `2026-03-02T09:02:00.123456789Z`.
    pub first_time_exact: Option<String>,
    /// Last frame of the phone's evidence.
    pub last_frame: Option<u64>,
    /// Its time, as [`PhoneRow::first_time`].
    pub last_time: Option<String>,
    /// Its exact time, as [`PhoneRow::first_time_exact`].
    pub last_time_exact: Option<String>,
    /// The capture `first_frame` is in (its path as given).
    pub capture: Option<String>,
    /// The capture `last_frame` is in (the same as `capture` unless the phone's evidence
    /// spans several captures).
    pub last_capture: Option<String>,
    /// Further addresses of the phone.
    pub other_ips: Vec<String>,
    /// [`ROW_SCHEMA_VERSION`]; last, as a sheet has no use for a constant column up front
    /// but a tool reading the file must know the layout.
    pub schema_version: u32,
}

/// First and last frame of the phone's files, TLS sessions and alarms.
fn span(p: &PhoneDiagnosis, ev: &Evidence) -> Option<(Seen, Seen)> {
    let seen = p
        .files
        .iter()
        .filter_map(|&i| ev.files.get(i))
        .flat_map(|f| [f.first, f.last])
        .chain(
            p.tls
                .iter()
                .filter_map(|&i| ev.tls.get(i))
                .flat_map(|s| [s.first, s.last]),
        )
        .chain(
            p.alarms
                .iter()
                .filter_map(|&i| ev.alarms.get(i))
                .map(|a| a.seen),
        );
    // By time first: frame numbers of different captures do not compare.
    let order = |s: &Seen| (s.ts, s.capture, s.frame);
    seen.fold(None, |acc, s| match acc {
        None => Some((s, s)),
        Some((a, b)) => Some((
            if order(&s) < order(&a) { s } else { a },
            if order(&s) > order(&b) { s } else { b },
        )),
    })
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// `t` as spreadsheets (LibreOffice, Excel, Google Sheets) parse a date and time: ISO 8601
/// with a space and milliseconds, UTC, no zone letter (`2026-03-02 09:02:00.123`). None only
/// if the time cannot be formatted (the exact column still has it).
pub fn spreadsheet_time(t: Timestamp) -> Option<String> {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0))
        .ok()
        .and_then(|d| d.format(&format).ok())
}

/// The row of one phone.
pub fn row(p: &PhoneDiagnosis, ev: &Evidence) -> PhoneRow {
    let name = match (&p.mac, p.ip) {
        (Some(mac), _) => format!("SEP{mac}"),
        (None, Some(ip)) => ip.to_string(),
        (None, None) => "unidentified".to_string(),
    };
    let c = &p.verdict.conditions;
    let installed = p.installed_itl.as_ref();
    let served = p.served_itl.as_ref();
    let mut flags: Vec<String> = p
        .checks
        .iter()
        .flat_map(|c| c.flags.iter().map(|f| f.to_string()))
        .collect();
    flags.sort();
    flags.dedup();
    let span = span(p, ev);
    let next = p.verdict.next_steps.first();
    PhoneRow {
        name,
        mac: p.mac.clone(),
        ip: p.ip.map(|ip| ip.to_string()),
        model: p.device.model.clone(),
        firmware: p.device.firmware.clone(),
        served_itl: served.map(|s| s.name.clone()),
        served_itl_md5: served.map(|s| s.md5.clone()),
        served_itl_sha1: served.map(|s| s.sha1.clone()),
        installed_itl_source: installed.map(|i| i.source.to_string()),
        installed_itl_algorithm: installed.map(|i| {
            if i.not_installed {
                "none".to_string()
            } else {
                i.hash_algorithm.unwrap_or("").to_string()
            }
        }),
        installed_itl_hash: installed.and_then(|i| i.hash.clone()),
        itl_differs: c.itl_differs.value,
        tvs_cert_mismatch: c.tvs_cert_mismatch.value,
        phone_verification_failed: c.phone_verification_failed.value,
        no_key_backup: c.no_key_backup.value,
        no_recovery_path: p.verdict.recovery.no_recovery_path.value,
        open_recovery_path: p.verdict.recovery.open().map(|o| o.id.to_string()),
        verdict: p.verdict.delete_itl.as_str().to_string(),
        main_reason: p.main_reason.code.to_string(),
        main_reason_text: p.main_reason.text.clone(),
        next_step: next.map(|n| n.id.to_string()),
        next_step_text: next.map(|n| n.text.clone()),
        flags,
        first_frame: span.map(|(a, _)| a.frame),
        first_time: span.and_then(|(a, _)| spreadsheet_time(a.ts)),
        first_time_exact: span.map(|(a, _)| rfc3339(a.ts)),
        last_frame: span.map(|(_, b)| b.frame),
        last_time: span.and_then(|(_, b)| spreadsheet_time(b.ts)),
        last_time_exact: span.map(|(_, b)| rfc3339(b.ts)),
        capture: span.and_then(|(a, _)| ev.captures.get(a.capture).map(|c| c.path.clone())),
        last_capture: span.and_then(|(_, b)| ev.captures.get(b.capture).map(|c| c.path.clone())),
        other_ips: p.other_ips.iter().map(|ip| ip.to_string()).collect(),
        schema_version: ROW_SCHEMA_VERSION,
    }
}

fn cell<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

fn condition(v: Option<bool>) -> String {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
    .to_string()
}

impl PhoneRow {
    /// The CSV cells, in [`COLUMNS`] order.
    pub fn cells(&self) -> [String; COLUMNS.len()] {
        [
            self.name.clone(),
            cell(&self.mac),
            cell(&self.ip),
            cell(&self.model),
            cell(&self.firmware),
            cell(&self.served_itl),
            cell(&self.served_itl_md5),
            cell(&self.served_itl_sha1),
            cell(&self.installed_itl_source),
            cell(&self.installed_itl_algorithm),
            cell(&self.installed_itl_hash),
            condition(self.itl_differs),
            condition(self.tvs_cert_mismatch),
            condition(self.phone_verification_failed),
            condition(self.no_key_backup),
            condition(self.no_recovery_path),
            cell(&self.open_recovery_path),
            self.verdict.clone(),
            self.main_reason.clone(),
            self.main_reason_text.clone(),
            cell(&self.next_step),
            cell(&self.next_step_text),
            self.flags.join(";"),
            cell(&self.first_frame),
            cell(&self.first_time),
            cell(&self.first_time_exact),
            cell(&self.last_frame),
            cell(&self.last_time),
            cell(&self.last_time_exact),
            cell(&self.capture),
            cell(&self.last_capture),
            self.other_ips.join(";"),
            self.schema_version.to_string(),
        ]
    }
}

/// Writes the CSV: a header, then one row per phone (RFC 4180 quoting by the csv crate).
pub fn write_csv(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    csv_of(diagnosis.phones.iter(), evidence, out)
}

/// Writes one JSON object per line per phone.
pub fn write_jsonl(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    jsonl_of(diagnosis.phones.iter(), evidence, out)
}

/// [`write_csv`] diagnosing each phone while its row is written: the same bytes, one
/// phone's diagnosis in memory at a time (issue 20, fleet scale).
pub fn write_csv_streaming(
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    csv_of(prepared.phones(), evidence, out)
}

/// [`write_jsonl`] diagnosing each phone while its line is written.
pub fn write_jsonl_streaming(
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    jsonl_of(prepared.phones(), evidence, out)
}

fn csv_of<P: Borrow<PhoneDiagnosis>>(
    phones: impl Iterator<Item = P>,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(COLUMNS)?;
    for p in phones {
        w.write_record(row(p.borrow(), evidence).cells())?;
    }
    w.flush()
}

fn jsonl_of<P: Borrow<PhoneDiagnosis>>(
    phones: impl Iterator<Item = P>,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for p in phones {
        serde_json::to_writer(&mut *out, &row(p.borrow(), evidence))
            .map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::diagnose_with;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::tests::*;

    fn all_four() -> (Diagnosis, Evidence) {
        all_four_holding(crate::evidence::CaptureSummary {
            path: "a \"quoted\", path.pcap".into(),
            ..Default::default()
        })
    }

    #[test]
    fn the_readme_names_every_column_in_order() {
        // The README's fleet section lists the columns for engineers who open the CSV.
        let readme = include_str!("../../README.md");
        let mut from = readme
            .find("The columns: `name`")
            .expect("the README's column list");
        for column in COLUMNS {
            let at = readme[from..]
                .find(&format!("`{column}`"))
                .unwrap_or_else(|| panic!("README lacks column `{column}` after byte {from}"));
            from += at + column.len();
        }
    }

    #[test]
    fn json_keys_are_the_columns_in_order() {
        let (d, ev) = all_four();
        let mut out = Vec::new();
        write_jsonl(&d, &ev, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), d.phones.len());
        let line = text.lines().next().unwrap();
        // serde writes struct fields in declaration order: check that order is COLUMNS.
        let mut at = 0;
        for col in COLUMNS {
            let key = format!("\"{col}\":");
            let pos = line[at..].find(&key).map(|p| p + at);
            assert!(pos.is_some(), "{col} missing or out of order in {line}");
            at = pos.unwrap();
        }
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["schema_version"], ROW_SCHEMA_VERSION);
        assert_eq!(v["verdict"], "required");
        assert_eq!(v["main_reason"], "all-four-hold");
        assert_eq!(v["itl_differs"], true);
        assert_eq!(v["name"], format!("SEP{MAC}"));
        assert_eq!(v["installed_itl_source"], "phone-itl-file");
    }

    #[test]
    fn csv_quotes_and_round_trips() {
        let (d, ev) = all_four();
        let mut out = Vec::new();
        write_csv(&d, &ev, &mut out).unwrap();
        let mut r = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, COLUMNS);
        let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 1);
        let expected = row(&d.phones[0], &ev).cells();
        assert_eq!(rows[0].iter().collect::<Vec<_>>(), expected.to_vec());
        let col = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
        assert_eq!(&rows[0][col("capture")], "a \"quoted\", path.pcap");
        assert_eq!(&rows[0][col("itl_differs")], "true");
    }

    #[test]
    fn unknown_conditions_say_unknown_in_csv_and_null_in_json() {
        let ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        let d = diagnose_with(&ev, &Default::default(), &cluster());
        let r = row(&d.phones[0], &ev);
        assert_eq!(r.itl_differs, None);
        let col = COLUMNS.iter().position(|c| *c == "itl_differs").unwrap();
        assert_eq!(r.cells()[col], "unknown");
        assert_eq!(
            r.capture, None,
            "no capture summary: which capture is not known"
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["itl_differs"], serde_json::Value::Null);
        assert_eq!(v["verdict"], "undetermined");
        assert_eq!(v["main_reason"], "installed-itl-unknown");
    }

    #[test]
    fn with_several_captures_first_and_last_frame_name_their_capture() {
        let mut ev = boot(ITL_A, CONFIG_B, tls_with(IP, 2445, new_tvs_cert()));
        for path in ["first.pcap", "second.pcap"] {
            ev.captures.push(crate::evidence::CaptureSummary {
                path: path.into(),
                ..Default::default()
            });
        }
        // The TVS session is in the second capture: later in time, yet a lower frame number
        // than the downloads of the first.
        let later = crate::evidence::Seen {
            capture: 1,
            frame: 1,
            ts: crate::capture::Timestamp(i64::MAX / 2),
        };
        for t in &mut ev.tls {
            t.first = later;
            t.last = later;
        }
        let d = diagnose_with(&ev, &Default::default(), &cluster());
        let r = row(&d.phones[0], &ev);
        assert_eq!(r.capture.as_deref(), Some("first.pcap"));
        assert_eq!(r.last_capture.as_deref(), Some("second.pcap"));
        assert_eq!(
            r.last_frame,
            Some(1),
            "the last by time, not the highest number"
        );
    }

    /// Issue 20: the row carries the verdict's first next step, so a sheet sorted by it is a
    /// work list (statement 15: deletion only when all four conditions hold, so the step says
    /// what to do first).
    #[test]
    fn the_first_next_step_is_in_the_row() {
        let (d, ev) = all_four();
        let r = row(&d.phones[0], &ev);
        let first = d.phones[0].verdict.next_steps.first().expect("a next step");
        assert_eq!(r.next_step.as_deref(), Some(first.id));
        assert_eq!(r.next_step_text.as_deref(), Some(first.text.as_str()));
        let col = COLUMNS.iter().position(|c| *c == "next_step").unwrap();
        assert_eq!(r.cells()[col], first.id);
    }

    #[test]
    fn times_open_as_dates_with_the_exact_time_beside() {
        let t = Timestamp(1_772_442_120_123_456_789);
        assert_eq!(
            spreadsheet_time(t).as_deref(),
            Some("2026-03-02 09:02:00.123")
        );
        assert_eq!(t.to_rfc3339(), "2026-03-02T09:02:00.123456789Z");
        // Every capture time has a calendar date (i64 nanoseconds end in 2262).
        assert!(spreadsheet_time(Timestamp(i64::MAX)).is_some());
        assert!(spreadsheet_time(Timestamp(i64::MIN)).is_some());
        let (d, ev) = all_four();
        let r = row(&d.phones[0], &ev);
        if let (Some(sheet), Some(exact)) = (&r.first_time, &r.first_time_exact) {
            assert_eq!(sheet.replace(' ', "T"), exact[..23]);
        }
        // The constant column is last.
        assert_eq!(COLUMNS[COLUMNS.len() - 1], "schema_version");
        assert_eq!(COLUMNS[0], "name");
    }
}
