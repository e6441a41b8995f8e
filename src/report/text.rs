//! The readable report: per phone the verdict first, then the four conditions, next steps, the
//! checks with their evidence, the trust path and a timeline of trust-relevant events.

use crate::capture::LinkType;
use crate::diagnosis::Diagnosis;
use crate::diagnosis::model::{Check, DeleteItl, EvidenceItem, PhoneDiagnosis, Status};
use crate::evidence::{CaptureSummary, Evidence};
use std::fmt::Write;

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn headline(d: DeleteItl) -> &'static str {
    match d {
        DeleteItl::Required => "DELETE THE ITL: all four conditions hold",
        DeleteItl::NotRequired => "DO NOT DELETE THE ITL: not required",
        DeleteItl::Undetermined => "UNDETERMINED: not enough is known to require deletion",
    }
}

fn item_line(out: &mut String, item: &EvidenceItem) {
    let place = match (item.frame, item.time) {
        (Some(f), Some(t)) => format!("frame {f} {}: ", t.to_rfc3339()),
        (Some(f), None) => format!("frame {f}: "),
        _ => String::new(),
    };
    let _ = writeln!(out, "          - {place}{}", item.detail);
}

fn check_block(out: &mut String, c: &Check) {
    let mark = match c.status {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Unknown => " ?? ",
    };
    let _ = writeln!(out, "    [{mark}] {}: {}", c.id, c.explanation);
    if !c.flags.is_empty() {
        let _ = writeln!(out, "          flags: {}", c.flags.join(", "));
    }
    for item in &c.evidence {
        item_line(out, item);
    }
}

fn phone_block(out: &mut String, p: &PhoneDiagnosis) {
    let name = match (&p.mac, p.ip) {
        (Some(mac), Some(ip)) => format!("SEP{mac} ({ip})"),
        (Some(mac), None) => format!("SEP{mac}"),
        (None, Some(ip)) => format!("{ip} (MAC unknown)"),
        (None, None) => "unidentified phone".to_string(),
    };
    let _ = writeln!(out, "Phone {name}");
    if !p.other_ips.is_empty() {
        let ips: Vec<String> = p.other_ips.iter().map(|ip| ip.to_string()).collect();
        let _ = writeln!(out, "  also seen as {}", ips.join(", "));
    }
    let v = &p.verdict;
    let _ = writeln!(out, "  Verdict: {}", headline(v.delete_itl));
    for reason in &v.reasons {
        let _ = writeln!(out, "    - {reason}");
    }
    let _ = writeln!(out, "  Conditions (deletion only when all four are yes):");
    let labels = [
        "1. phone's ITL differs from the served ITL",
        "2. TVS certificate on the wire not in the ITL",
        "3. phone shows a verification failure",
        "4. no backup of the old TFTP key",
    ];
    for (label, (_, c)) in labels.iter().zip(v.conditions.named()) {
        let _ = writeln!(
            out,
            "    {label:<46} {:<7} {}",
            yes_no(c.value),
            c.explanation
        );
    }
    if !v.next_steps.is_empty() {
        let _ = writeln!(out, "  Next steps:");
        for s in &v.next_steps {
            let _ = writeln!(out, "    - {s}");
        }
    }
    if let Some(path) = &p.trust_path {
        let _ = writeln!(out, "  Trust path (installed ITL from {}):", path.basis);
        let _ = writeln!(
            out,
            "    served ITL: {} - {}",
            path.itl.acceptance.as_str(),
            path.itl.explanation
        );
        let _ = writeln!(
            out,
            "    config:     {} - {}",
            path.config.acceptance.as_str(),
            path.config.explanation
        );
    }
    let _ = writeln!(out, "  Checks:");
    for c in &p.checks {
        check_block(out, c);
    }
    let _ = writeln!(out, "  Timeline:");
    if p.timeline.is_empty() {
        let _ = writeln!(out, "    (no trust-relevant event in the capture)");
    }
    for e in &p.timeline {
        let _ = writeln!(
            out,
            "    frame {:>7}  {}  {}",
            e.frame,
            e.time.to_rfc3339(),
            e.what
        );
    }
    if !p.reported.is_empty() {
        let _ = writeln!(
            out,
            "  Reported by --evidence files (file and line order; phone clocks, not capture time):"
        );
        for e in &p.reported {
            let _ = writeln!(
                out,
                "    {}{}  {}",
                e.source,
                e.time
                    .as_deref()
                    .map(|t| format!(" [{t}]"))
                    .unwrap_or_default(),
                e.what
            );
        }
    }
}

/// What was read from each `--evidence` file: kind, lines, recognised, ignored, skipped.
pub fn evidence_files_section(files: &[crate::sidecar::IngestedFile]) -> String {
    let mut out = String::new();
    for f in files {
        let _ = writeln!(
            out,
            "evidence {}: {}",
            f.path,
            f.kind.map_or("?", |k| k.as_str())
        );
        for p in &f.parts {
            let _ = writeln!(
                out,
                "  {}{}: {} line(s), {} recognised, {} ignored",
                p.member
                    .as_deref()
                    .map(|m| format!("{m}: "))
                    .unwrap_or_default(),
                p.kind.map_or("?", |k| k.as_str()),
                p.lines,
                p.recognised,
                p.ignored
            );
            for n in &p.notes {
                let _ = writeln!(out, "    note: {n}");
            }
        }
        for s in &f.skipped {
            let _ = writeln!(out, "  skipped: {s}");
        }
    }
    out
}

/// The whole readable report.
pub fn render(diagnosis: &Diagnosis, evidence: &Evidence) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(diagnosis, evidence, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// How the readable report is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Verdicts in bold colour (ANSI escapes); off for files, pipes and `NO_COLOR`.
    pub color: bool,
    /// Only the verdict table (one line per phone).
    pub brief: bool,
}

/// Writes the whole readable report to `out` without colour.
pub fn write(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    write_with(diagnosis, evidence, &TextOptions::default(), out)
}

/// Writes the readable report to `out`, one phone at a time (a capture with thousands of
/// phones never holds its whole report in memory).
pub fn write_with(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    options: &TextOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let _ = options;
    let mut head = String::new();
    for c in &evidence.captures {
        head.push_str(&capture_section(c));
    }
    head.push_str(&evidence_files_section(&diagnosis.evidence_files));
    let _ = writeln!(
        head,
        "{} phone(s), {} file transfer(s), {} TLS session(s), {} DeviceTLInfo alarm(s)",
        diagnosis.phones.len(),
        evidence.files.len(),
        evidence.tls.len(),
        evidence.alarms.len()
    );
    aggregates_section(&mut head, &evidence.tls_aggregates);
    for note in &diagnosis.notes {
        let _ = writeln!(head, "note: {note}");
    }
    if diagnosis.phones.is_empty() {
        let _ = writeln!(
            head,
            "\nNo phone traffic found: no trust-list or config download, no TLS to a phone service port, no DeviceTLInfo alarm."
        );
        let skipped: u64 = evidence
            .captures
            .iter()
            .flat_map(|c| &c.skipped)
            .map(|k| k.frames)
            .sum();
        if skipped > 0 {
            let _ = writeln!(
                head,
                "{skipped} frames could not be decoded (see \"skipped\" above): the phone's traffic may be among them."
            );
        }
    }
    out.write_all(head.as_bytes())?;
    let mut block = String::new();
    for p in &diagnosis.phones {
        block.clear();
        block.push('\n');
        phone_block(&mut block, p);
        out.write_all(block.as_bytes())?;
    }
    Ok(())
}

/// Aggregates listed in the readable report (the largest; `--json` lists them all).
const AGGREGATES_SHOWN: usize = 5;

/// The TLS sessions summed per server and certificate: a total and the largest few.
fn aggregates_section(out: &mut String, aggregates: &[crate::evidence::TlsAggregate]) {
    if aggregates.is_empty() {
        return;
    }
    let total: u64 = aggregates.iter().map(|a| a.sessions).sum();
    let _ = writeln!(
        out,
        "{total} other TLS session(s) of hosts that are not phones, summed per server and certificate ({} aggregate(s)); the largest:",
        aggregates.len()
    );
    let mut order: Vec<&crate::evidence::TlsAggregate> = aggregates.iter().collect();
    order.sort_by(|a, b| {
        b.sessions
            .cmp(&a.sessions)
            .then(a.first.frame.cmp(&b.first.frame))
    });
    for a in order.iter().take(AGGREGATES_SHOWN) {
        let cert = a.certificate.as_ref().map_or_else(
            || "no certificate seen in clear".to_string(),
            |c| format!("certificate {} (sha256 {})", c.subject, c.sha256),
        );
        let clients: Vec<String> = a.clients.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  {}{}: {} session(s), frames {}..{}, {cert}, from {}{}",
            a.server,
            a.service
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})")),
            a.sessions,
            a.first.frame,
            a.last.frame,
            clients.join(", "),
            if a.clients_cut { " and more" } else { "" }
        );
    }
}

/// The report's section for one capture: frames, link types, time span, malformed and
/// snaplen-cut frames, where it was truncated, and every limit that cut something.
pub fn capture_section(s: &CaptureSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} capture, {} frames, {} bytes",
        s.path,
        if s.format.is_empty() { "?" } else { &s.format },
        s.frames,
        s.bytes
    );
    let links: Vec<String> = s
        .link_types
        .iter()
        .map(|&(lt, n)| match LinkType(lt).name() {
            Some(name) => format!("{name} ({lt}): {n}"),
            None => format!("link type {lt}: {n}"),
        })
        .collect();
    let _ = writeln!(
        out,
        "  link types: {}",
        if links.is_empty() {
            "none".to_string()
        } else {
            links.join(", ")
        }
    );
    match (s.first_ts, s.last_ts) {
        (Some(a), Some(b)) => {
            let span = (b.0 - a.0) as f64 / 1e9;
            let _ = writeln!(
                out,
                "  time: {} .. {} ({span:.3} s)",
                a.to_rfc3339(),
                b.to_rfc3339()
            );
        }
        _ => {
            let _ = writeln!(out, "  time: unknown (no timestamped frames)");
        }
    }
    let _ = writeln!(
        out,
        "  malformed: {}, cut by snaplen: {}",
        s.malformed, s.snaplen_truncated
    );
    let _ = writeln!(
        out,
        "  truncated: {}",
        s.truncated.as_deref().unwrap_or("no")
    );
    if !s.encapsulations.is_empty() {
        let tunnels: Vec<String> = s
            .encapsulations
            .iter()
            .map(|e| format!("{}: {}", e.name, e.frames))
            .collect();
        let _ = writeln!(out, "  inside tunnels: {}", tunnels.join(", "));
    }
    for k in &s.skipped {
        let _ = writeln!(out, "  skipped: {} frames: {}", k.frames, k.detail);
    }
    for l in &s.limits_hit {
        let _ = writeln!(out, "  limit: {l}");
    }
    for n in &s.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}
