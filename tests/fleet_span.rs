//! A generated SPAN of a voice VLAN (`itlscope_gen::span`): every phone's row agrees with the
//! row of the same phone's boot captured alone, and with the state the generator gave it.

use itlscope::diagnosis::{OperatorFacts, diagnose};
use itlscope::pipeline::{PipelineOptions, collect_evidence};
use itlscope::report::rows::{PhoneRow, row};
use itlscope_gen::span::{Span, State};
use std::path::Path;

fn rows_of(path: &Path) -> Vec<PhoneRow> {
    let evidence = collect_evidence(&[path.to_path_buf()], &PipelineOptions::default())
        .expect("capture reads");
    let diagnosis = diagnose(&evidence, &OperatorFacts::default());
    diagnosis.phones.iter().map(|p| row(p, &evidence)).collect()
}

/// `text` with every frame number (after "frame " or "frames ") replaced by `#`.
fn without_frame_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("frame") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let word_len = if tail.starts_with("frames ") {
            7
        } else if tail.starts_with("frame ") {
            6
        } else {
            5
        };
        out.push_str(&tail[..word_len]);
        let after = &tail[word_len..];
        let digits = after
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(after.len());
        if digits > 0 && word_len > 5 {
            out.push('#');
        } else {
            out.push_str(&after[..digits]);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The row without what depends on the capture it came from (frame numbers, file name).
fn comparable(r: &PhoneRow) -> PhoneRow {
    PhoneRow {
        first_frame: None,
        last_frame: None,
        capture: None,
        last_capture: None,
        main_reason_text: without_frame_numbers(&r.main_reason_text),
        ..r.clone()
    }
}

#[test]
fn frame_numbers_are_masked_and_nothing_else() {
    assert_eq!(
        without_frame_numbers("alarm frame 1911: x (frames 16-20), frame 3"),
        "alarm frame #: x (frames #), frame #"
    );
    assert_eq!(without_frame_numbers("frameless 12"), "frameless 12");
}

#[test]
fn every_row_of_the_span_agrees_with_the_phone_analysed_alone() {
    let span = Span::new(72, 13);
    for state in State::ALL {
        assert!(
            span.states.contains(&state),
            "the SPAN has {state:?} phones"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = dir.path().join("span.pcap");
    std::fs::write(&whole, span.capture()).expect("write");
    let rows = rows_of(&whole);
    assert_eq!(rows.len(), span.phones.len(), "one row per phone");
    for (i, (boot, state)) in span.phones.iter().zip(&span.states).enumerate() {
        let mac = boot.phone.mac_hex();
        let in_span = rows
            .iter()
            .find(|r| r.mac.as_deref() == Some(mac.as_str()))
            .unwrap_or_else(|| panic!("no row for phone {i} ({mac})"));
        let alone_path = dir.path().join(format!("phone{i}.pcap"));
        std::fs::write(&alone_path, span.phone_alone(i)).expect("write");
        let alone = rows_of(&alone_path);
        assert_eq!(alone.len(), 1, "phone {i} alone is one phone");
        assert_eq!(
            comparable(in_span),
            comparable(&alone[0]),
            "phone {i} ({state:?}): SPAN row vs alone"
        );
        // And what the generator made it: the verdict and main reason of its state.
        assert_eq!(
            in_span.main_reason,
            state.main_reason(),
            "phone {i} ({state:?})"
        );
        assert_eq!(in_span.verdict, state.verdict(), "phone {i} ({state:?})");
        assert_eq!(in_span.ip.as_deref(), Some(boot.phone.ip.as_str()));
    }
}

#[test]
fn the_text_report_of_the_span_opens_with_the_fleet_summary() {
    let span = Span::new(40, 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("span.pcap");
    std::fs::write(&path, span.capture()).expect("write");
    let evidence = collect_evidence(std::slice::from_ref(&path), &PipelineOptions::default())
        .expect("capture reads");
    let diagnosis = diagnose(&evidence, &OperatorFacts::default());
    let text = itlscope::report::text::render(&diagnosis, &evidence);
    let summary = text.find("Fleet summary (40 phones)").expect("summary");
    let first_phone = text.find("\nPhone ").expect("phone blocks");
    assert!(summary < first_phone, "the summary comes before the phones");
    for state in State::ALL {
        let n = span.states.iter().filter(|s| **s == state).count();
        if n == 0 {
            continue;
        }
        // States sharing a main reason are counted together.
        let same: usize = State::ALL
            .iter()
            .filter(|s| s.main_reason() == state.main_reason())
            .map(|s| span.states.iter().filter(|x| *x == s).count())
            .sum();
        let group = format!("    {} ({same}):", state.main_reason());
        assert!(
            text.contains(&group),
            "{group} in\n{}",
            &text[summary..first_phone]
        );
    }
}
