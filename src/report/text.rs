//! The readable report, made to be read in ten seconds: one line per phone at the very top
//! (`SEP…  verdict  the one reason`), then the captures, then per phone the four conditions,
//! next steps, the trust path, the checks with their evidence and a timeline. Certificates are
//! named once in a legend at the end and referred to as `[C1]`…; the jargon used is explained
//! in a short glossary at the end. No line is longer than [`WIDTH`] columns.

use super::certs::CertRefs;
use super::fleet::PhoneLine;
use super::frame_ref;
use crate::capture::LinkType;
use crate::diagnosis::model::{Check, Condition, DeleteItl, EvidenceItem, PhoneDiagnosis, Status};
use crate::diagnosis::reason::CONDITIONS;
use crate::diagnosis::{Diagnosis, Prepared};
use crate::evidence::{CaptureSummary, Evidence};
use anstyle::{AnsiColor, Style};
use std::borrow::Borrow;
use std::fmt::Write;
use std::net::IpAddr;

/// Longest line of the report, in columns.
pub const WIDTH: usize = 120;

/// How the readable report is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Verdicts in bold colour (ANSI escapes); off for files, pipes and `NO_COLOR`.
    pub color: bool,
    /// Only the verdict table (one line per phone).
    pub brief: bool,
    /// The phone's ITL given with `--phone-itl` (name, bytes): its certificates get
    /// references too.
    pub phone_itl: Option<(String, Vec<u8>)>,
}

/// The words of the glossary: the term as it appears in the report, and what it means.
const GLOSSARY: [(&str, &str); 9] = [
    (
        "ITL",
        "Identity Trust List: the signed list of certificates a phone trusts (ITLSEP<MAC>.tlv, ITLFile.tlv)",
    ),
    (
        "CTL",
        "Certificate Trust List: the ITL's counterpart in a cluster in mixed mode (secure signalling)",
    ),
    (
        "mixed mode",
        "a cluster with the CTL enabled, for encrypted signalling and media",
    ),
    (
        "TVS",
        "Trust Verification Service (CUCM, TCP 2445): vouches for certificates the phone's ITL does not hold",
    ),
    (
        "SAST",
        "System Administrator Security Token: the record whose key signs an ITL or CTL (ITLRecovery or the TFTP certificate)",
    ),
    (
        "CERTHASH",
        "the hash of a certificate an ITL record carries (tag 11); matched against the certificate TVS presents",
    ),
    (
        "leap of faith",
        "a phone without an ITL accepts the first ITL it is served without checking its signature",
    ),
    (
        "CAPF",
        "Certificate Authority Proxy Function (TCP 3804): issues the phone's own certificate (LSC)",
    ),
    (
        "DeviceTLInfo",
        "the SIP alarm in which a phone reports the hash of its installed ITL and CTL",
    ),
];

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// The verdict as the top table shows it, and its colour.
pub(crate) fn verdict_word(d: DeleteItl) -> (&'static str, AnsiColor) {
    match d {
        DeleteItl::Required => ("DELETE THE ITL", AnsiColor::Red),
        DeleteItl::NotRequired => ("DO NOT DELETE", AnsiColor::Green),
        DeleteItl::Undetermined => ("UNDETERMINED", AnsiColor::Yellow),
    }
}

fn headline(d: DeleteItl) -> &'static str {
    match d {
        DeleteItl::Required => {
            "DELETE THE ITL: all four conditions hold and no recovery path is open"
        }
        DeleteItl::NotRequired => "DO NOT DELETE THE ITL: not required",
        DeleteItl::Undetermined => "UNDETERMINED: not enough is known to require deletion",
    }
}

/// `text` in bold `color` when colour is on.
pub(crate) fn paint(text: &str, color: AnsiColor, on: bool) -> String {
    if !on {
        return text.to_owned();
    }
    let style = Style::new().bold().fg_color(Some(color.into()));
    format!("{}{text}{}", style.render(), style.render_reset())
}

/// The one reason of a verdict, for the top table: the phone's main reason, worded once in
/// [`crate::diagnosis::reason`] so the CSV, JSON and HTML say the same line.
pub fn one_reason(p: &PhoneDiagnosis) -> String {
    p.main_reason.text.clone()
}

/// Appends `text` wrapped at [`WIDTH`]: the first line after `first`, the others after
/// `indent` spaces.
fn wrapped(out: &mut String, first: &str, indent: usize, text: &str) {
    let width = WIDTH.saturating_sub(indent).max(20);
    let first_width = WIDTH.saturating_sub(first.chars().count()).max(20);
    let options = textwrap::Options::new(width)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let first_line = textwrap::wrap(text, options.clone().width(first_width));
    let Some(head) = first_line.first() else {
        out.push_str(first.trim_end());
        out.push('\n');
        return;
    };
    out.push_str(first);
    out.push_str(head);
    out.push('\n');
    // The first line is a prefix of `text` (words are only split at spaces or cut).
    let rest = text
        .strip_prefix(head.as_ref())
        .unwrap_or_default()
        .trim_start();
    if rest.is_empty() {
        return;
    }
    let pad = " ".repeat(indent);
    for line in textwrap::wrap(rest, options) {
        out.push_str(&pad);
        out.push_str(&line);
        out.push('\n');
    }
}

fn place(item: &EvidenceItem, captures: &[String]) -> String {
    match (item.frame, item.time) {
        (Some(f), Some(t)) => format!(
            "{} {}: ",
            frame_ref(captures, item.capture, f),
            t.to_rfc3339()
        ),
        (Some(f), None) => format!("{}: ", frame_ref(captures, item.capture, f)),
        _ => String::new(),
    }
}

fn check_block(out: &mut String, c: &Check, refs: &mut CertRefs, captures: &[String]) {
    let mark = match c.status {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Unknown => " ?? ",
        Status::NotApplicable => "n/a ",
    };
    let explanation = refs.shorten(&c.explanation);
    wrapped(out, &format!("    [{mark}] {}: ", c.id), 11, &explanation);
    if !c.flags.is_empty() {
        wrapped(out, "           flags: ", 18, &c.flags.join(", "));
    }
    for item in &c.evidence {
        let detail = refs.shorten(&item.detail);
        wrapped(
            out,
            "           - ",
            13,
            &format!("{}{detail}", place(item, captures)),
        );
    }
}

fn condition_line(out: &mut String, label: &str, c: &Condition, refs: &mut CertRefs) {
    let _ = writeln!(out, "    {label:<46} {}", yes_no(c.value));
    let explanation = refs.shorten(&c.explanation);
    wrapped(out, "       ", 7, &explanation);
}

/// `SEP… (ip)`, or what is known of a phone without a MAC.
/// The phone as the reports name it: `SEP<MAC>`, else its address.
pub(crate) fn phone_name(p: &PhoneDiagnosis) -> String {
    name_of(p.mac.as_deref(), p.ip)
}

/// [`phone_name`] from the MAC and address alone.
fn name_of(mac: Option<&str>, ip: Option<IpAddr>) -> String {
    match (mac, ip) {
        (Some(mac), _) => format!("SEP{mac}"),
        (None, Some(ip)) => format!("{ip} (MAC unknown)"),
        (None, None) => "unidentified phone".to_string(),
    }
}

fn phone_block(
    out: &mut String,
    p: &PhoneDiagnosis,
    refs: &mut CertRefs,
    color: bool,
    captures: &[String],
) {
    let name = match (&p.mac, p.ip) {
        (Some(mac), Some(ip)) => format!("SEP{mac} ({ip})"),
        _ => phone_name(p),
    };
    let v = &p.verdict;
    let (_, colour) = verdict_word(v.delete_itl);
    let _ = writeln!(
        out,
        "Phone {name}: {}",
        paint(headline(v.delete_itl), colour, color)
    );
    if !p.other_ips.is_empty() {
        let ips: Vec<String> = p.other_ips.iter().map(|ip| ip.to_string()).collect();
        wrapped(out, "  also seen as ", 4, &ips.join(", "));
    }
    if let Some(r) = &p.registration {
        let model = r
            .model
            .as_deref()
            .map(|m| format!(" (model {m})"))
            .unwrap_or_default();
        let reason = r
            .reason
            .as_deref()
            .map(|t| format!(": {t:?}"))
            .unwrap_or_default();
        wrapped(
            out,
            "  SCCP: ",
            8,
            &format!(
                "registered as {}{model} to CUCM {} at {}, {}{reason}",
                r.device_name,
                r.cucm,
                super::frame_ref(captures, Some(r.seen.capture), r.seen.frame),
                r.outcome
            ),
        );
    }
    if let Some(r) = &p.sip_registration {
        // Header values are the device's own text: quoted, so nothing it sends can
        // pass for report lines.
        let mut said = Vec::new();
        if let Some(agent) = &r.user_agent {
            said.push(format!("agent {agent:?}"));
        }
        if let Some(load) = &r.active_load {
            said.push(format!("load {load:?}"));
        }
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(" ({})", said.join(", "))
        };
        wrapped(
            out,
            "  SIP: ",
            7,
            &format!(
                "{}{said} to {} at {}",
                match r.device_name.as_deref() {
                    Some(name) => format!("registered as {name}"),
                    // The REGISTER named no SEP<MAC>: say so rather than print a "?".
                    None => "registered without naming a device".to_string(),
                },
                r.registrar,
                super::frame_ref(captures, Some(r.seen.capture), r.seen.frame),
            ),
        );
    }
    let _ = writeln!(
        out,
        "  Conditions (delete the ITL only when all four are yes):"
    );
    for ((label, _, _), (_, c)) in CONDITIONS.iter().zip(v.conditions.named()) {
        condition_line(out, label, c, refs);
    }
    if !v.recovery.paths.is_empty() {
        let _ = writeln!(
            out,
            "  Recovery paths (condition 4 as the note means it; delete only when all are closed):"
        );
        for path in &v.recovery.paths {
            wrapped(
                out,
                &format!("    {:<13} {:<8} ", path.id, path.state.as_str()),
                27,
                &refs.shorten(&path.explanation),
            );
        }
    }
    if !v.next_steps.is_empty() {
        let _ = writeln!(out, "  Next steps:");
        for s in &v.next_steps {
            wrapped(out, "    - ", 6, &refs.shorten(&s.text));
            if !s.because.is_empty() {
                wrapped(
                    out,
                    "      ",
                    6,
                    &format!("(because {})", s.because.join("; ")),
                );
            }
        }
    }
    if let Some(path) = &p.trust_path {
        wrapped(
            out,
            "  Trust path (installed ITL from ",
            4,
            &format!("{}):", path.basis),
        );
        let itl = format!(
            "{} - {}",
            path.itl.acceptance.as_str(),
            refs.shorten(&path.itl.explanation)
        );
        wrapped(out, "    served ITL: ", 16, &itl);
        let config = format!(
            "{} - {}",
            path.config.acceptance.as_str(),
            refs.shorten(&path.config.explanation)
        );
        wrapped(out, "    config:     ", 16, &config);
    }
    let _ = writeln!(out, "  Checks:");
    for c in &p.checks {
        check_block(out, c, refs, captures);
    }
    let _ = writeln!(out, "  Timeline:");
    if p.timeline.is_empty() {
        let _ = writeln!(out, "    (no trust-relevant event in the capture)");
    }
    for e in &p.timeline {
        let first = if captures.is_empty() {
            format!("    frame {:>7}  {}  ", e.frame, e.time.to_rfc3339())
        } else {
            format!(
                "    {}  {}  ",
                frame_ref(captures, Some(e.capture), e.frame),
                e.time.to_rfc3339()
            )
        };
        let indent = first.len();
        wrapped(out, &first, indent, &refs.shorten(&e.what));
    }
    if !p.reported.is_empty() {
        let _ = writeln!(
            out,
            "  Reported by --evidence files (file and line order; phone clocks, not capture time):"
        );
        for e in &p.reported {
            let time = e
                .time
                .as_deref()
                .map(|t| format!(" [{t}]"))
                .unwrap_or_default();
            let mut first = format!("    {}{time}  ", e.source);
            // A long source (a member deep in a tar) goes on its own line.
            if first.chars().count() > WIDTH / 2 {
                let _ = writeln!(out, "    {}", e.source);
                first = format!("     {time}  ");
            }
            wrapped(out, &first, 8, &refs.shorten(&e.what));
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
                wrapped(&mut out, "    note: ", 6, n);
            }
        }
        for s in &f.skipped {
            wrapped(&mut out, "  skipped: ", 4, s);
        }
    }
    out
}

/// The verdict table: one line per phone, `SEP…  verdict  the one reason`.
fn verdict_table(phones: &[PhoneLine], color: bool) -> String {
    let mut out = String::new();
    let name_width = phones
        .iter()
        .map(|p| name_of(p.mac.as_deref(), p.ip).chars().count())
        .max()
        .unwrap_or(0);
    let word_width = phones
        .iter()
        .map(|p| verdict_word(p.delete_itl).0.len())
        .max()
        .unwrap_or(0);
    for p in phones {
        let name = name_of(p.mac.as_deref(), p.ip);
        out.push_str(&table_line(p, &name, name_width, word_width, color));
    }
    out.push_str(&scoped_hint(phones));
    out
}

/// One phone's line of the verdict table, its name and verdict padded to the table's
/// columns (wrapped lines included).
fn table_line(
    p: &PhoneLine,
    name: &str,
    name_width: usize,
    word_width: usize,
    color: bool,
) -> String {
    let (word, colour) = verdict_word(p.delete_itl);
    let mut line = String::new();
    wrapped(
        &mut line,
        &format!("{name:<name_width$}  {word:<word_width$}  "),
        name_width + word_width + 4,
        &p.reason_text,
    );
    // Colour after wrapping, so escapes never count as columns.
    line.replacen(word, &paint(word, colour, color), 1)
}

/// The phone's line as `--brief` prints it for a capture of that phone alone (`--follow`
/// prints it as each phone's boot ends; in a table of several phones the columns are
/// padded to the widest name and verdict).
pub fn verdict_line(p: &PhoneDiagnosis, color: bool) -> String {
    let name = phone_name(p);
    let word = verdict_word(p.verdict.delete_itl).0;
    table_line(
        &PhoneLine::of(p),
        &name,
        name.chars().count(),
        word.len(),
        color,
    )
}

/// Under the table of several phones whose reasons ask for a phone's own input: how to give
/// it to one phone (an unscoped `--phone-status` applies to none of several phones).
fn scoped_hint(phones: &[PhoneLine]) -> String {
    if phones.len() < 2 {
        return String::new();
    }
    let asks = phones.iter().find(|p| {
        let r = &p.reason_text;
        r.contains("--phone-status") || r.contains("--phone-itl")
    });
    let Some(mac) = asks.and_then(|p| p.mac.as_deref()) else {
        return String::new();
    };
    let mut out = String::new();
    wrapped(
        &mut out,
        "",
        2,
        &format!(
            "(several phones: give each its own value, e.g. --phone-status SEP{mac}=failed, --phone-itl-hash SEP{mac}=HEX, or one row per phone with --inventory FILE)"
        ),
    );
    out
}

/// The terms of the glossary used in `text`, added to `seen` (in glossary order).
fn note_terms(text: &str, seen: &mut [bool; GLOSSARY.len()]) {
    for (i, (term, _)) in GLOSSARY.iter().enumerate() {
        if !seen[i] && contains_word(text, term) {
            seen[i] = true;
        }
    }
}

/// `term` in `text` as a word of its own (not `CTL` inside `CTLSEP…` or `XCTL`).
fn contains_word(text: &str, term: &str) -> bool {
    text.match_indices(term).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + term.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
        boundary(before) && boundary(after)
    })
}

/// The whole readable report, without colour.
pub fn render(diagnosis: &Diagnosis, evidence: &Evidence) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(diagnosis, evidence, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the whole readable report to `out` without colour.
pub fn write(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    write_with(diagnosis, evidence, &TextOptions::default(), out)
}

/// Writes the readable report of a held diagnosis to `out`.
pub fn write_with(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    options: &TextOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let lines: Vec<PhoneLine> = diagnosis.phones.iter().map(PhoneLine::of).collect();
    let whole = Whole {
        notes: &diagnosis.notes,
        evidence_files: &diagnosis.evidence_files,
    };
    write_parts(
        &lines,
        diagnosis.phones.iter(),
        whole,
        evidence,
        options,
        out,
    )
}

/// Writes the readable report phone by phone, byte for byte what [`write_with`] writes of
/// the whole diagnosis (issue 20, fleet scale). The top (fleet summary, verdict table) needs
/// every phone first: a first pass keeps each phone's [`PhoneLine`] only, then each phone is
/// diagnosed again for its section (the diagnosis is deterministic) and dropped once
/// written, so no more than one phone's diagnosis is held at a time. `--brief` needs the
/// first pass only.
pub fn write_streaming(
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    options: &TextOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let lines: Vec<PhoneLine> = prepared.phones().map(|p| PhoneLine::of(&p)).collect();
    write_prepared(prepared, &lines, evidence, options, out)
}

/// [`write_streaming`] with the phones' lines already made (by a pass over the phones that
/// other outputs share, issue 20): `lines` are [`PhoneLine::of`] each phone of `prepared`,
/// in order. Each phone is diagnosed again for its section (not at all with `--brief`).
pub fn write_prepared(
    prepared: &Prepared<'_>,
    lines: &[PhoneLine],
    evidence: &Evidence,
    options: &TextOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let whole = Whole {
        notes: prepared.notes(),
        evidence_files: prepared.evidence_files(),
    };
    write_parts(lines, prepared.phones(), whole, evidence, options, out)
}

/// What the report says about the whole analysis, besides its phones.
#[derive(Clone, Copy)]
struct Whole<'a> {
    notes: &'a [String],
    evidence_files: &'a [crate::sidecar::IngestedFile],
}

/// The report from each phone's line (for the top) and its diagnosis (for its section, in
/// the same order; taken one at a time, and not at all with `--brief`).
fn write_parts<P: Borrow<PhoneDiagnosis>>(
    lines: &[PhoneLine],
    phones: impl Iterator<Item = P>,
    whole: Whole<'_>,
    evidence: &Evidence,
    options: &TextOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // With many phones the fleet summary comes first, then the verdict lines (issue 20: the
    // summary was at line 311 for 300 phones). `--brief` stays the verdict lines alone.
    let summary = super::fleet::summary_of(lines);
    if !options.brief && !summary.is_empty() {
        out.write_all(summary.trim_start_matches('\n').as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.write_all(verdict_table(lines, options.color).as_bytes())?;
    if options.brief {
        if lines.is_empty() {
            out.write_all(b"No phone found in the capture.\n")?;
        }
        return Ok(());
    }
    // The table, then a blank line; with no phone the captures come first.
    let mut head = String::new();
    if !lines.is_empty() {
        head.push('\n');
    }
    for c in &evidence.captures {
        head.push_str(&capture_section(c));
    }
    head.push_str(&evidence_files_section(whole.evidence_files));
    let _ = writeln!(
        head,
        "{} phone(s), {} file transfer(s), {} TLS session(s), {} DeviceTLInfo alarm(s)",
        lines.len(),
        evidence.files.len(),
        evidence.tls.len(),
        evidence.alarms.len()
    );
    aggregates_section(&mut head, &evidence.tls_aggregates);
    // With several captures every frame names its file (`FILE#N`).
    let captures = super::capture_labels(evidence);
    for note in whole.notes {
        wrapped(&mut head, "note: ", 6, note);
    }
    if lines.is_empty() {
        wrapped(
            &mut head,
            "\n",
            0,
            "No phone traffic found: no trust-list or config download, no TLS to a phone service port, no DeviceTLInfo alarm.",
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
    let mut terms = [false; GLOSSARY.len()];
    note_terms(&head, &mut terms);
    out.write_all(head.as_bytes())?;
    let mut refs = CertRefs::from_evidence(evidence);
    if let Some((name, bytes)) = &options.phone_itl {
        refs.add_trust_list(&format!("the phone's ITL ({name})"), bytes);
    }
    let mut block = String::new();
    for p in phones {
        block.clear();
        block.push('\n');
        phone_block(&mut block, p.borrow(), &mut refs, options.color, &captures);
        note_terms(&block, &mut terms);
        out.write_all(block.as_bytes())?;
    }
    let mut tail = String::new();
    let legend = refs.legend();
    if !legend.is_empty() {
        tail.push_str("\nCertificates:\n");
        for line in &legend {
            let indent = line.find(' ').map_or(4, |n| n + 3);
            wrapped(&mut tail, "  ", indent, line);
        }
    }
    if terms.iter().any(|&t| t) {
        tail.push_str("\nTerms:\n");
        for ((term, meaning), _) in GLOSSARY.iter().zip(terms).filter(|(_, seen)| *seen) {
            wrapped(&mut tail, &format!("  {term}: "), 4, meaning);
        }
    }
    out.write_all(tail.as_bytes())
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
    wrapped(
        &mut out,
        "  truncated: ",
        4,
        s.truncated.as_deref().unwrap_or("no"),
    );
    if !s.encapsulations.is_empty() {
        let tunnels: Vec<String> = s
            .encapsulations
            .iter()
            .map(|e| format!("{}: {}", e.name, e.frames))
            .collect();
        wrapped(&mut out, "  inside tunnels: ", 4, &tunnels.join(", "));
    }
    for k in &s.skipped {
        wrapped(
            &mut out,
            "  skipped: ",
            4,
            &format!("{} frames: {}", k.frames, k.detail),
        );
    }
    for l in &s.limits_hit {
        wrapped(&mut out, "  limit: ", 4, &super::limits::limit_text(l));
    }
    for n in &s.notes {
        wrapped(&mut out, "  note: ", 4, n);
    }
    out
}
