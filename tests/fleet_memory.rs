//! Fleet scale (issue 20): a report written phone by phone (`diagnosis::Prepared`) is the
//! report of the whole diagnosis byte for byte, and writing it holds one phone's diagnosis
//! at a time, not the fleet's. A counting allocator measures heap bytes (work, not time).
//!
//! Behaviour under test is the verdict of statement 29 and the rest, unchanged: only when
//! each phone is diagnosed moves.

use itlscope::diagnosis::trust::CiscoBackend;
use itlscope::diagnosis::{Limits, OperatorFacts, Prepared, diagnose_limited};
use itlscope::evidence::Evidence;
use itlscope::pipeline::{PipelineOptions, collect_evidence};
use itlscope::report::json::{self, Generated};
use itlscope::report::rows;
use itlscope::report::text::{self, TextOptions};
use itlscope_gen::span::Span;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

mod counting_alloc;
use counting_alloc::{CURRENT, Count, PEAK};

/// The counters are the whole process's: tests that run at once would count each other's
/// bytes, so every test of this file runs alone.
static ALONE: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next test still runs alone.
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn span_evidence(phones: usize, seed: u64) -> Evidence {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("span.pcap");
    std::fs::write(&path, Span::new(phones, seed).capture()).expect("capture written");
    collect_evidence(&[path], &PipelineOptions::default()).expect("capture reads")
}

fn generated() -> Generated {
    Generated {
        tool: "itlscope",
        version: "test",
        date: Some("2026-12-07T00:00:00Z".into()),
        command: vec!["itlscope".into(), "analyze".into(), "span.pcap".into()],
    }
}

#[test]
fn reports_written_phone_by_phone_are_the_whole_diagnosis_reports_byte_for_byte() {
    let _alone = alone();
    let evidence = span_evidence(60, 11);
    let facts = OperatorFacts::default();
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    assert_eq!(
        held.phones.len(),
        60,
        "every phone of the SPAN is diagnosed"
    );
    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    assert_eq!(prepared.len(), 60);

    let mut a = Vec::new();
    let mut b = Vec::new();
    json::write_with(&held, &evidence, Some(&generated()), &mut a).expect("written");
    json::write_streaming(&prepared, &evidence, Some(&generated()), &mut b).expect("written");
    assert!(a == b, "JSON differs between held and streamed diagnosis");

    let (mut a, mut b) = (Vec::new(), Vec::new());
    rows::write_csv(&held, &evidence, &mut a).expect("written");
    rows::write_csv_streaming(&prepared, &evidence, &mut b).expect("written");
    assert!(a == b, "CSV differs between held and streamed diagnosis");

    let (mut a, mut b) = (Vec::new(), Vec::new());
    rows::write_jsonl(&held, &evidence, &mut a).expect("written");
    rows::write_jsonl_streaming(&prepared, &evidence, &mut b).expect("written");
    assert!(a == b, "JSONL differs between held and streamed diagnosis");

    // Diagnosing again on demand gives the same diagnosis as the one held.
    assert!(prepared.phones().eq(held.phones.iter().cloned()));
    assert_eq!(prepared.notes(), held.notes.as_slice());
    let again = prepared.into_diagnosis();
    assert_eq!(again, held);
}

#[test]
fn writing_the_json_phone_by_phone_holds_one_diagnosis_not_the_fleets() {
    let _alone = alone();
    let evidence = span_evidence(200, 3);
    let facts = OperatorFacts::default();

    // What holding every phone's diagnosis costs.
    let before = CURRENT.load(Ordering::Relaxed);
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let held_bytes = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    let mut out = Count(0);
    json::write(&held, &evidence, &mut out).expect("written");
    let held_written = out.0;
    drop(held);

    // What writing the same report phone by phone costs above what it starts with.
    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let mut out = Count(0);
    json::write_streaming(&prepared, &evidence, None, &mut out).expect("written");
    let streamed_peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);

    eprintln!(
        "200 phones: diagnosis held {held_bytes} bytes; written phone by phone, peak {streamed_peak} bytes"
    );
    assert_eq!(out.0, held_written, "same report size");
    assert!(
        held_bytes > 1_000_000,
        "200 phones' diagnoses are worth measuring: {held_bytes} bytes"
    );
    // One phone's diagnosis (a few tens of KiB) plus the writer's buffers, whatever the
    // number of phones: far below the 200 held at once.
    assert!(
        streamed_peak * 10 < held_bytes,
        "writing phone by phone took {streamed_peak} bytes at its peak; holding every diagnosis takes {held_bytes}"
    );
}

/// The three forms of the readable report: whole, `--brief`, and in colour.
fn text_options() -> [TextOptions; 3] {
    [
        TextOptions::default(),
        TextOptions {
            brief: true,
            ..Default::default()
        },
        TextOptions {
            color: true,
            ..Default::default()
        },
    ]
}

#[test]
fn the_text_report_written_phone_by_phone_is_the_whole_diagnosis_report_byte_for_byte() {
    let _alone = alone();
    // Statement 29's verdicts and every other phone's, in the same words and order: only
    // when each phone is diagnosed moves (the top from a first pass, each section again).
    let evidence = span_evidence(60, 11);
    let facts = OperatorFacts::default();
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    for options in text_options() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        text::write_with(&held, &evidence, &options, &mut a).expect("written");
        text::write_streaming(&prepared, &evidence, &options, &mut b).expect("written");
        assert!(
            a == b,
            "text report differs between held and streamed diagnosis ({options:?})"
        );
    }
    // The report has what the streamed path must rebuild: a fleet summary on top and a
    // certificate legend made across the phones' sections.
    let whole = text::render(&held, &evidence);
    assert!(whole.starts_with("Fleet summary (60 phones)"), "{whole}");
    assert!(whole.contains("\nCertificates:\n  [C1] "), "{whole}");
}

#[test]
fn the_text_report_of_no_phone_and_of_one_phone_streams_the_same() {
    let _alone = alone();
    for phones in [0, 1] {
        let evidence = if phones == 0 {
            Evidence::default()
        } else {
            span_evidence(phones, 5)
        };
        let facts = OperatorFacts::default();
        let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
        let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
        for options in text_options() {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            text::write_with(&held, &evidence, &options, &mut a).expect("written");
            text::write_streaming(&prepared, &evidence, &options, &mut b).expect("written");
            assert!(
                a == b,
                "{phones} phone(s), {options:?}: streamed text differs"
            );
        }
    }
}

#[test]
fn writing_the_text_report_phone_by_phone_holds_one_diagnosis_not_the_fleets() {
    let _alone = alone();
    let evidence = span_evidence(200, 3);
    let facts = OperatorFacts::default();

    let before = CURRENT.load(Ordering::Relaxed);
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let held_bytes = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    let mut written = Vec::new();
    for options in [TextOptions::default(), brief()] {
        let mut out = Count(0);
        text::write_with(&held, &evidence, &options, &mut out).expect("written");
        written.push(out.0);
    }
    drop(held);

    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    for (options, held_written) in [TextOptions::default(), brief()].into_iter().zip(written) {
        let start = CURRENT.load(Ordering::Relaxed);
        PEAK.store(start, Ordering::Relaxed);
        let mut out = Count(0);
        text::write_streaming(&prepared, &evidence, &options, &mut out).expect("written");
        let streamed_peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
        eprintln!(
            "200 phones, text (brief: {}): diagnosis held {held_bytes} bytes; written phone by phone, peak {streamed_peak} bytes",
            options.brief
        );
        assert_eq!(out.0, held_written, "same report size");
        assert!(
            held_bytes > 1_000_000,
            "200 phones' diagnoses are worth measuring: {held_bytes} bytes"
        );
        // One phone's diagnosis, one line per phone for the top and the certificate
        // references: far below the 200 diagnoses held at once.
        assert!(
            streamed_peak * 10 < held_bytes,
            "writing the text phone by phone took {streamed_peak} bytes at its peak; holding every diagnosis takes {held_bytes}"
        );
    }
}

fn brief() -> TextOptions {
    TextOptions {
        brief: true,
        ..Default::default()
    }
}

/// Writes the JSON and the readable report of `evidence`, diagnosed whole.
fn reports_of(evidence: &Evidence) -> (String, String) {
    let facts = OperatorFacts::default();
    let held = diagnose_limited(evidence, &facts, &CiscoBackend, Limits::default());
    let mut json_out = Vec::new();
    json::write_with(&held, evidence, Some(&generated()), &mut json_out).expect("written");
    let mut text_out = Vec::new();
    text::write_with(&held, evidence, &TextOptions::default(), &mut text_out).expect("written");
    (
        String::from_utf8(json_out).expect("UTF-8 JSON"),
        String::from_utf8(text_out).expect("UTF-8 text"),
    )
}

/// Statements 2 and 9 (the config is signed by the TFTP key and verified with the ITL's
/// CCM+TFTP record): `analyze` keeps a signed config as its header, the digest of its signed
/// message and its CallManager group only (issue 20). The reports of every phone are the
/// same as with the whole bytes, and the signature is really checked from that digest: a
/// digest that is not the file's fails the check as altered bytes would.
#[test]
fn a_signed_config_kept_as_header_and_digest_gives_the_same_reports() {
    let _alone = alone();
    let whole = span_evidence(40, 5);
    let mut kept = whole.clone();
    let mut dropped = 0;
    for f in &mut kept.files {
        let before = (f.data.len(), f.data.clone());
        if itlscope::proto::summarize_signed_config(f) {
            dropped += 1;
            assert!(f.data.is_empty(), "{}: bytes dropped", f.name);
            assert_eq!(f.captured_len(), before.0, "{}: length kept", f.name);
            let header = itlscope::cisco::signed::parse_signed_file(f.signed_bytes())
                .expect("the kept header parses");
            let full = itlscope::cisco::signed::parse_signed_file(&before.1).expect("parses");
            assert_eq!(header.header, full.header, "{}: same header", f.name);
            assert!(header.payload.is_empty());
        }
    }
    assert!(
        dropped >= 40,
        "every phone's signed config is summarized ({dropped})"
    );
    // A transfer already summarized, or not a signed config, is left alone.
    for f in &mut kept.files {
        assert!(!itlscope::proto::summarize_signed_config(f));
    }

    let (json_whole, text_whole) = reports_of(&whole);
    let (json_kept, text_kept) = reports_of(&kept);
    assert!(
        json_whole.contains("its signature is valid"),
        "the span's configs verify"
    );
    assert!(
        json_whole == json_kept,
        "JSON differs once config bytes are dropped"
    );
    assert!(
        text_whole == text_kept,
        "text differs once config bytes are dropped"
    );

    let mut altered = kept.clone();
    for f in &mut altered.files {
        if let Some(s) = f.signed_config.as_mut()
            && let Some(b) = s.signed_digest.first_mut()
        {
            *b ^= 1;
        }
    }
    let (json_altered, _) = reports_of(&altered);
    let valid = |json: &str| json.matches(".cnf.xml.sgn is signed by").count();
    assert!(valid(&json_whole) >= 40, "every phone's config verifies");
    if let Some(at) = json_altered.find(".cnf.xml.sgn is signed by") {
        panic!(
            "a config verified with a wrong digest: {}",
            &json_altered[at.saturating_sub(300)..at + 200]
        );
    }
    let mismatches = json_altered.matches("digest mismatch").count();
    assert!(
        mismatches >= 40,
        "{mismatches} digest mismatches, {} untrusted",
        json_altered.matches("config-signer-untrusted").count()
    );
}

/// What a run with several outputs keeps of every phone in its first pass: the text
/// report's line and the HTML page's row. (The annotated capture's comments are kept too,
/// they are what it writes; measured apart.)
struct Gathered {
    lines: Vec<itlscope::report::fleet::PhoneLine>,
    html: Vec<itlscope::report::html::HtmlLine>,
}

/// The JSON file, then the HTML page, then the text report, each written phone by phone,
/// the first pass riding along the JSON as `analyze -o FILE --html FILE` does.
fn several_outputs(
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    json_out: &mut dyn Write,
    html_out: &mut dyn Write,
    text_out: &mut dyn Write,
) {
    let mut gathered = Gathered {
        lines: Vec::new(),
        html: Vec::new(),
    };
    json::write_streaming_watched(
        prepared,
        evidence,
        Some(&generated()),
        &mut |i, p| {
            gathered
                .lines
                .push(itlscope::report::fleet::PhoneLine::of(p));
            gathered
                .html
                .push(itlscope::report::html::HtmlLine::of(i, p));
        },
        json_out,
    )
    .expect("written");
    itlscope::report::html::write_streaming(
        prepared,
        &gathered.html,
        evidence,
        Some(&generated()),
        &mut |details| details,
        html_out,
    )
    .expect("written");
    text::write_prepared(
        prepared,
        &gathered.lines,
        evidence,
        &TextOptions::default(),
        text_out,
    )
    .expect("written");
}

#[test]
fn several_outputs_written_phone_by_phone_are_the_held_diagnosis_reports_byte_for_byte() {
    let _alone = alone();
    // Statement 29's verdicts, unchanged in each output form: only when each phone is
    // diagnosed moves (one pass for the tops, riding along the JSON, then one per output).
    let evidence = span_evidence(60, 11);
    let facts = OperatorFacts::default();
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    let (mut json_a, mut html_a, mut text_a) = (Vec::new(), Vec::new(), Vec::new());
    json::write_with(&held, &evidence, Some(&generated()), &mut json_a).expect("written");
    itlscope::report::html::write_with(&held, &evidence, Some(&generated()), &mut html_a)
        .expect("written");
    text::write_with(&held, &evidence, &TextOptions::default(), &mut text_a).expect("written");
    let (mut json_b, mut html_b, mut text_b) = (Vec::new(), Vec::new(), Vec::new());
    several_outputs(&prepared, &evidence, &mut json_b, &mut html_b, &mut text_b);
    assert!(json_a == json_b, "JSON file differs");
    assert!(html_a == html_b, "HTML page differs");
    assert!(text_a == text_b, "text report differs");
    // The annotated capture's comments, gathered phone by phone, are the held ones.
    let mut comments = itlscope::report::annotate::Comments::new();
    for p in prepared.phones() {
        itlscope::report::annotate::add_comments(&mut comments, &p, 0);
    }
    assert_eq!(comments, itlscope::report::annotate::comments(&held, 0));
}

#[test]
fn several_outputs_written_phone_by_phone_hold_one_diagnosis_not_the_fleets() {
    let _alone = alone();
    let evidence = span_evidence(200, 3);
    let facts = OperatorFacts::default();
    let before = CURRENT.load(Ordering::Relaxed);
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let held_bytes = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    let start = CURRENT.load(Ordering::Relaxed);
    let comments = itlscope::report::annotate::comments(&held, 0);
    let comments_bytes = CURRENT.load(Ordering::Relaxed).saturating_sub(start);
    drop(comments);
    drop(held);

    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let (mut a, mut b, mut c) = (Count(0), Count(0), Count(0));
    several_outputs(&prepared, &evidence, &mut a, &mut b, &mut c);
    let streamed_peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    eprintln!(
        "200 phones, JSON file + HTML + text: diagnosis held {held_bytes} bytes; written phone by phone, peak {streamed_peak} bytes (annotate's comments, kept whole: {comments_bytes} bytes)"
    );
    // The HTML page alone: its chunks of 64 phones' details (compressed together) are the
    // largest part of that peak.
    let lines: Vec<_> = prepared
        .phones()
        .enumerate()
        .map(|(i, p)| itlscope::report::html::HtmlLine::of(i, &p))
        .collect();
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    itlscope::report::html::write_streaming(
        &prepared,
        &lines,
        &evidence,
        None,
        &mut |d| d,
        &mut Count(0),
    )
    .expect("written");
    let html_peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    eprintln!("200 phones, the HTML page alone: peak {html_peak} bytes");
    assert!(a.0 > 0 && b.0 > 0 && c.0 > 0);
    assert!(
        held_bytes > 1_000_000,
        "200 phones' diagnoses are worth measuring: {held_bytes} bytes"
    );
    // One phone's diagnosis, a line and a table row per phone, one HTML chunk of details:
    // far below the 200 diagnoses held at once.
    assert!(
        streamed_peak * 3 < held_bytes,
        "several outputs took {streamed_peak} bytes at their peak; holding every diagnosis takes {held_bytes}"
    );
}

/// `--redact`'s reports of a held diagnosis, as the run wrote them before (learnt from the
/// whole JSON and text, each report rewritten whole): the JSON, the text report, the HTML.
fn redacted_held(
    held: &itlscope::diagnosis::Diagnosis,
    evidence: &Evidence,
) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    use itlscope::report::redact::{self, Redactor};
    let options = TextOptions::default();
    let mut r = Redactor::learn(held, evidence, Some(&generated()), &options);
    let (mut j, mut t, mut h) = (Vec::new(), Vec::new(), Vec::new());
    redact::write_json(Some(&mut r), held, evidence, Some(&generated()), &mut j).expect("json");
    redact::write_filtered(Some(&mut r), true, &mut t, |out| {
        text::write_with(held, evidence, &options, out)
    })
    .expect("text");
    redact::write_html(Some(&mut r), held, evidence, Some(&generated()), &mut h).expect("html");
    (j, t, h)
}

/// The same reports phone by phone, as `analyze --redact` writes them now.
fn redacted_streamed(
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    json_out: &mut dyn Write,
    text_out: &mut dyn Write,
    html_out: &mut dyn Write,
) {
    use itlscope::report::redact::{self, Redactor};
    let options = TextOptions::default();
    let mut lines = Vec::new();
    let mut html = Vec::new();
    let mut r = Redactor::default();
    r.learn_json(prepared, evidence, Some(&generated()), &mut |i, p| {
        lines.push(itlscope::report::fleet::PhoneLine::of(p));
        html.push(itlscope::report::html::HtmlLine::of(i, p));
    })
    .expect("learnt");
    r.learn_text(prepared, &lines, evidence, &options)
        .expect("learnt");
    redact::write_json_streaming(
        Some(&mut r),
        prepared,
        evidence,
        Some(&generated()),
        json_out,
    )
    .expect("json");
    redact::write_filtered_streaming(Some(&mut r), true, text_out, |out| {
        text::write_prepared(prepared, &lines, evidence, &options, out)
    })
    .expect("text");
    redact::write_html_streaming(
        Some(&mut r),
        prepared,
        &html,
        evidence,
        Some(&generated()),
        html_out,
    )
    .expect("html");
}

#[test]
fn redacted_reports_written_phone_by_phone_are_the_held_ones_byte_for_byte() {
    let _alone = alone();
    // The same pseudonym for the same value in every form, numbered as before (issue 20,
    // "Share safely"); the verdicts (statement 29 …) untouched.
    let evidence = span_evidence(60, 11);
    let facts = OperatorFacts::default();
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let (json_a, text_a, html_a) = redacted_held(&held, &evidence);
    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    let (mut json_b, mut text_b, mut html_b) = (Vec::new(), Vec::new(), Vec::new());
    redacted_streamed(&prepared, &evidence, &mut json_b, &mut text_b, &mut html_b);
    assert!(json_a == json_b, "redacted JSON differs");
    assert!(text_a == text_b, "redacted text differs");
    assert!(html_a == html_b, "redacted HTML differs");
    let text = String::from_utf8_lossy(&text_b);
    assert!(text.contains("SEP-PHONE-01"), "pseudonyms in the report");
    assert!(
        !text.contains("SEP00"),
        "no phone name left: {}",
        &text[..400]
    );
}

#[test]
fn redacting_phone_by_phone_holds_one_diagnosis_not_the_fleets() {
    let _alone = alone();
    let evidence = span_evidence(200, 3);
    let facts = OperatorFacts::default();
    let before = CURRENT.load(Ordering::Relaxed);
    let held = diagnose_limited(&evidence, &facts, &CiscoBackend, Limits::default());
    let held_bytes = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    // What the run took before: the diagnosis held, and the reports held to be rewritten.
    PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
    let start_held = before;
    let written = redacted_held(&held, &evidence);
    let held_peak = PEAK.load(Ordering::Relaxed).saturating_sub(start_held);
    drop(written);
    drop(held);

    let prepared = Prepared::new(&evidence, &facts, &CiscoBackend, Limits::default());
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let (mut a, mut b, mut c) = (Count(0), Count(0), Count(0));
    redacted_streamed(&prepared, &evidence, &mut a, &mut b, &mut c);
    let streamed_peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    eprintln!(
        "200 phones, --redact JSON + text + HTML: diagnosis held {held_bytes} bytes, the held run's peak {held_peak}; written phone by phone, peak {streamed_peak} bytes"
    );
    assert!(
        held_bytes > 1_000_000,
        "200 phones' diagnoses are worth measuring: {held_bytes} bytes"
    );
    // The pseudonym tables, one piece of report being rewritten and one phone's diagnosis:
    // well below the diagnoses held, and far below the reports held to be rewritten.
    assert!(
        streamed_peak * 3 < held_bytes,
        "redacting took {streamed_peak} bytes at its peak; holding every diagnosis takes {held_bytes}"
    );
    assert!(
        streamed_peak * 10 < held_peak,
        "redacting took {streamed_peak} bytes at its peak; the held run took {held_peak}"
    );
}
