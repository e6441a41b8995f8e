//! `analyze --html FILE`: one self-contained HTML page to forward to a colleague or attach to a
//! case. No script, no external style sheet, font or image: the styles are inline and the
//! ladder diagram of each phone's boot is inline SVG, so the file opens the same offline.
//!
//! Order: the verdict table first (one row per phone), then per phone the four conditions,
//! the next steps, the ladder diagram (phone, its TFTP/HTTP servers, TVS and the other TLS
//! servers, each message with its frame number and time, failures in red) and the checks.
//! Written phone by phone, like the text report.

use crate::diagnosis::Diagnosis;
use crate::diagnosis::model::{Condition, PhoneDiagnosis, Status, TimelineEvent};
use crate::evidence::{CaptureSummary, Evidence};
use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em;color:#1b1b1b;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}.required{color:#fff;background:#b00020;font-weight:bold}
.not-required{color:#0b5d1e;font-weight:bold}.undetermined{color:#8a5a00;font-weight:bold}
.yes{color:#b00020;font-weight:bold}.no{color:#0b5d1e}.unknown{color:#8a5a00;font-style:italic}
.pass{color:#0b5d1e}.fail{color:#b00020;font-weight:bold}.st-unknown{color:#8a5a00}.st-na{color:#666}
.capture{color:#555;font-size:.9em}svg{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
";

/// Writes the whole page.
pub fn write(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut head = String::new();
    let _ = write!(
        head,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>itlscope report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>itlscope: does the ITL have to be deleted?</h1>\n"
    );
    for c in &evidence.captures {
        capture_line(&mut head, c);
    }
    verdict_table(&mut head, diagnosis);
    for note in &diagnosis.notes {
        let _ = writeln!(head, "<p class=\"capture\">note: {}</p>", esc(note));
    }
    out.write_all(head.as_bytes())?;
    let captures = super::capture_labels(evidence);
    let mut block = String::new();
    for (i, p) in diagnosis.phones.iter().enumerate() {
        block.clear();
        phone_section(&mut block, i, p, &captures);
        out.write_all(block.as_bytes())?;
    }
    out.write_all(b"</body>\n</html>\n")
}

fn capture_line(out: &mut String, c: &CaptureSummary) {
    let _ = writeln!(
        out,
        "<p class=\"capture\">{}: {} capture, {} frames{}</p>",
        esc(&c.path),
        esc(&c.format),
        c.frames,
        c.truncated
            .as_deref()
            .map(|t| format!("; {}", esc(t)))
            .unwrap_or_default()
    );
}

/// The phone's name: `SEP<MAC>`, else its address.
fn phone_name(p: &PhoneDiagnosis) -> String {
    match (&p.mac, p.ip) {
        (Some(mac), _) => format!("SEP{mac}"),
        (None, Some(ip)) => ip.to_string(),
        (None, None) => "unidentified phone".into(),
    }
}

fn verdict_table(out: &mut String, diagnosis: &Diagnosis) {
    if diagnosis.phones.is_empty() {
        out.push_str("<p>No phone traffic found: no trust-list or config download, no TLS to a phone service port, no DeviceTLInfo alarm.</p>\n");
        return;
    }
    out.push_str("<table id=\"verdicts\">\n<tr><th>phone</th><th>address</th><th>delete the ITL?</th><th>main reason</th></tr>\n");
    for (i, p) in diagnosis.phones.iter().enumerate() {
        let verdict = p.verdict.delete_itl.as_str();
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#phone-{i}\">{}</a></td><td>{}</td><td class=\"{verdict}\">{verdict}</td><td>{}</td></tr>",
            esc(&phone_name(p)),
            p.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            esc(&p.main_reason.text)
        );
    }
    out.push_str("</table>\n");
}

fn condition_row(out: &mut String, number: usize, question: &str, c: &Condition) {
    let (class, word) = match c.value {
        Some(true) => ("yes", "yes"),
        Some(false) => ("no", "no"),
        None => ("unknown", "unknown"),
    };
    let _ = writeln!(
        out,
        "<tr><td>{number}. {question}</td><td class=\"{class}\">{word}</td><td>{}</td></tr>",
        esc(&c.explanation)
    );
}

/// One phone; `captures` labels frames when the report covers several captures.
fn phone_section(out: &mut String, index: usize, p: &PhoneDiagnosis, captures: &[String]) {
    let verdict = p.verdict.delete_itl.as_str();
    let _ = writeln!(
        out,
        "<h2 id=\"phone-{index}\">{} {} <span class=\"{verdict}\">{verdict}</span></h2>",
        esc(&phone_name(p)),
        p.ip.map(|ip| format!("({ip})")).unwrap_or_default()
    );
    out.push_str("<h3>The four conditions (delete only when all four are yes)</h3>\n<table class=\"conditions\">\n");
    let c = &p.verdict.conditions;
    condition_row(
        out,
        1,
        "the phone's ITL differs from the served ITL",
        &c.itl_differs,
    );
    condition_row(
        out,
        2,
        "the TVS certificate on the wire is not in that ITL",
        &c.tvs_cert_mismatch,
    );
    condition_row(
        out,
        3,
        "the phone shows a verification failure",
        &c.phone_verification_failed,
    );
    condition_row(
        out,
        4,
        "no backup of the old TFTP key (CallManager.pem)",
        &c.no_key_backup,
    );
    out.push_str("</table>\n");
    if !p.verdict.recovery.paths.is_empty() {
        out.push_str("<h3>Recovery paths (condition 4 as the note means it: delete only when all are closed)</h3>\n<table class=\"recovery\">\n");
        for path in &p.verdict.recovery.paths {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                esc(path.id),
                path.state.as_str(),
                path.state.as_str(),
                esc(&path.explanation)
            );
        }
        out.push_str("</table>\n");
    }
    if !p.verdict.next_steps.is_empty() {
        out.push_str("<h3>Next steps</h3>\n<ul>\n");
        for step in &p.verdict.next_steps {
            let _ = writeln!(
                out,
                "<li>{}<br><small>because {}</small></li>",
                esc(&step.text),
                esc(&step.because.join("; "))
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h3>The boot on the wire</h3>\n");
    ladder(out, p, captures);
    out.push_str("<h3>Checks</h3>\n<table class=\"checks\">\n");
    for check in &p.checks {
        let (class, word) = match check.status {
            Status::Pass => ("pass", "pass"),
            Status::Fail => ("fail", "FAIL"),
            Status::Unknown => ("st-unknown", "unknown"),
            Status::NotApplicable => ("st-na", "n/a"),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td></tr>",
            esc(check.id),
            esc(&check.explanation)
        );
    }
    out.push_str("</table>\n");
}

/// One vertical line of the diagram: the phone, or a server address with what it served.
struct Lane {
    ip: Option<IpAddr>,
    label: String,
}

/// The lanes: the phone first, then each server address in order of first contact.
fn lanes(p: &PhoneDiagnosis) -> Vec<Lane> {
    let mut lanes = vec![Lane {
        ip: None,
        label: phone_name(p),
    }];
    let mut roles: Vec<Vec<&str>> = vec![Vec::new()];
    for e in &p.timeline {
        let Some(peer) = e.peer else { continue };
        let index = match lanes.iter().position(|l| l.ip == Some(peer.ip)) {
            Some(i) => i,
            None => {
                lanes.push(Lane {
                    ip: Some(peer.ip),
                    label: peer.ip.to_string(),
                });
                roles.push(Vec::new());
                lanes.len() - 1
            }
        };
        if let (Some(role), Some(r)) = (e.service.as_deref(), roles.get_mut(index))
            && !r.contains(&role)
        {
            r.push(role);
        }
    }
    for (lane, r) in lanes.iter_mut().zip(roles).skip(1) {
        if !r.is_empty() {
            lane.label = format!("{} ({})", lane.label, r.join(", "));
        }
    }
    lanes
}

/// Lane geometry and row height, in SVG user units.
const LANE_X0: usize = 210;
const LANE_GAP: usize = 440;
const ROW: usize = 26;
const TOP: usize = 40;
/// Labels longer than this are cut in the drawing (the full text is the arrow's tooltip).
const LABEL_CHARS: usize = 60;

/// The message drawn on an arrow: the event without the server address it repeats.
pub fn arrow_label(e: &TimelineEvent) -> String {
    let text: String = e.what.chars().take(LABEL_CHARS).collect();
    if e.what.chars().count() > LABEL_CHARS {
        format!("{text}…")
    } else {
        text
    }
}

/// The ladder diagram of a phone's timeline, as inline SVG. Each event is one row: frame
/// number (`FILE#N` with several captures) and seconds since the phone's first event on the
/// left, an arrow between the phone and the server it is exchanged with, red when it is a
/// failure.
fn ladder(out: &mut String, p: &PhoneDiagnosis, captures: &[String]) {
    if p.timeline.is_empty() {
        out.push_str("<p>No trust-relevant events.</p>\n");
        return;
    }
    let lanes = lanes(p);
    // Several captures: the frame column holds a file name too.
    let label_width = p
        .timeline
        .iter()
        .map(|e| {
            super::frame_ref(captures, Some(e.capture), e.frame)
                .chars()
                .count()
        })
        .max()
        .unwrap_or_default();
    let lane_x0 = LANE_X0.max(label_width * 7 + 70);
    let width = lane_x0 + LANE_GAP * lanes.len().saturating_sub(1) + 220;
    let height = TOP + ROW * (p.timeline.len() + 1);
    let x = |i: usize| lane_x0 + LANE_GAP * i;
    let _ = writeln!(
        out,
        "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"ladder diagram of the boot\">"
    );
    out.push_str("<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#333\"/></marker><marker id=\"arrow-failed\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#b00020\"/></marker></defs>\n");
    for (i, lane) in lanes.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">{}</text><line x1=\"{0}\" y1=\"28\" x2=\"{0}\" y2=\"{}\" stroke=\"#999\"/>",
            x(i),
            esc(&lane.label),
            height - 4
        );
    }
    let t0 = p.timeline.first().map(|e| e.time.0).unwrap_or_default();
    for (row, e) in p.timeline.iter().enumerate() {
        let y = TOP + ROW * (row + 1);
        let lane = e
            .peer
            .and_then(|peer| lanes.iter().position(|l| l.ip == Some(peer.ip)));
        let color = if e.failed { "#b00020" } else { "#333" };
        let marker = if e.failed { "arrow-failed" } else { "arrow" };
        let seconds = (e.time.0 - t0) as f64 / 1e9;
        let _ = write!(
            out,
            "<g class=\"message{}\" data-capture=\"{}\" data-frame=\"{}\"><title>{}</title><text x=\"4\" y=\"{y}\" fill=\"#555\">{} +{seconds:.3}s</text>",
            if e.failed { " failed" } else { "" },
            e.capture,
            e.frame,
            esc(&e.what),
            esc(&super::frame_ref(captures, Some(e.capture), e.frame))
        );
        let label = esc(&arrow_label(e));
        match lane {
            Some(lane) => {
                let (from, to) = if e.from_phone {
                    (x(0), x(lane))
                } else {
                    (x(lane), x(0))
                };
                let _ = write!(
                    out,
                    "<line x1=\"{from}\" y1=\"{y}\" x2=\"{to}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"1.5\" marker-end=\"url(#{marker})\"/><text class=\"label\" x=\"{}\" y=\"{}\" fill=\"{color}\">{label}</text>",
                    x(0) + 6,
                    y - 4
                );
            }
            // No single server: a note beside the phone's line.
            None => {
                let _ = write!(
                    out,
                    "<circle cx=\"{}\" cy=\"{y}\" r=\"4\" fill=\"{color}\"/><text class=\"label\" x=\"{}\" y=\"{}\" fill=\"{color}\">{label}</text>",
                    x(0),
                    x(0) + 8,
                    y - 4
                );
            }
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
