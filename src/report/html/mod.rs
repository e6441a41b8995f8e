//! `analyze --html FILE`: one self-contained HTML page to forward to a colleague or attach to
//! a case, usable for one phone and for a SPAN of 5,000 (issue 20). Nothing is fetched: the
//! style sheet and the script are inline, and the page opens the same offline.
//!
//! Order: the header (itlscope version, date, command line, captures), the fleet summary
//! (phones per verdict, per main reason, per model and firmware), then the verdict table (one
//! row per phone, sortable by clicking a header, filtered by a text box, a verdict and a main
//! reason select). A phone's details (conditions, recovery paths, next steps, trust path,
//! files, ladder diagram of its boot, checks) are stored as one compact JSON blob per phone
//! and drawn by the script only when the phone's row is opened: a 5,000-phone page parses
//! 5,000 table rows, not 5,000 diagrams.
//!
//! The blobs are gzipped [`CHUNK`] phones at a time and stored base64 in inert `<script>`
//! elements (`type="application/x-itlscope-details"`); the browser's own
//! `DecompressionStream` inflates the chunk of the phone opened. A SPAN's phones repeat the
//! same messages with other addresses, so a chunk shrinks about tenfold: 5,000 phones fit in
//! a few MB. [`details_of`] reads them back (tests, tools). See docs/report.md "HTML".
//!
//! URL parameters: `?verdict=required&reason=boot-loop&model=CP-8845/14.2.1&q=text` set the
//! filters (each count of the fleet summary is a link to its own filter), and `#phone-N` opens
//! phone N (the N-th phone of the diagnosis, from 0).

use super::json::Generated;
use crate::diagnosis::model::{DeleteItl, PhoneDiagnosis, TimelineEvent};
use crate::diagnosis::{Diagnosis, Prepared};
use crate::evidence::{CaptureSummary, Evidence, FileTransfer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;

/// The page's style sheet (inline in the page).
const STYLE: &str = include_str!("style.css");
/// The page's script (inline in the page): filters, sorting, details on demand.
const SCRIPT: &str = include_str!("page.js");

/// Phones per compressed chunk of details: large enough for deflate to find the messages
/// the phones share, small enough that opening one phone inflates little.
pub const CHUNK: usize = 64;

/// The `type` of the inert script elements that hold the compressed details.
const DETAILS_TYPE: &str = "application/x-itlscope-details";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(text: &str) -> String {
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

/// JSON for a `<script type="application/json">` element: every `<` escaped, so no text can
/// close the element (`</script>`) or open a comment.
fn script_json(v: &Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// Writes the whole page, without the `generated` line (library callers, tests).
pub fn write(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    write_with(diagnosis, evidence, None, out)
}

/// Writes the whole page; `generated` (version, date, command line) goes in the header.
/// Phone blobs are written one at a time; only the table of distinct texts is held.
pub fn write_with(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    write_filtered(diagnosis, evidence, generated, &mut |details| details, out)
}

/// [`write_with`], each chunk of phone details (compact JSON) passed through `details`
/// before it is compressed: `--redact` rewrites them there, where it can still read them.
pub fn write_filtered(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    generated: Option<&Generated>,
    details: &mut dyn FnMut(String) -> String,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let lines: Vec<HtmlLine> = diagnosis
        .phones
        .iter()
        .enumerate()
        .map(|(i, p)| HtmlLine::of(i, p))
        .collect();
    let page = Page {
        lines: &lines,
        notes: &diagnosis.notes,
        evidence,
        generated,
    };
    write_parts(page, diagnosis.phones.iter(), details, out)
}

/// [`write_filtered`] phone by phone (issue 20, fleet scale): `lines` are [`HtmlLine::of`]
/// each phone of `prepared` (made by a first pass), then each phone is diagnosed again for
/// its details and dropped once its chunk is written. The same bytes as [`write_filtered`]
/// of `prepared.into_diagnosis()`. Every part of the page is given to `out` in one
/// `write_all` (the head, each `<script>` element, the end): `--redact` rewrites them so.
pub fn write_streaming(
    prepared: &Prepared<'_>,
    lines: &[HtmlLine],
    evidence: &Evidence,
    generated: Option<&Generated>,
    details: &mut dyn FnMut(String) -> String,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let page = Page {
        lines,
        notes: prepared.notes(),
        evidence,
        generated,
    };
    write_parts(page, prepared.phones(), details, out)
}

/// What the page reads besides each phone's details.
#[derive(Clone, Copy)]
struct Page<'a> {
    lines: &'a [HtmlLine],
    notes: &'a [String],
    evidence: &'a Evidence,
    generated: Option<&'a Generated>,
}

/// What the page's top (fleet summary, verdict table) reads of one phone: its table row,
/// already written, and what the summary counts (a few hundred bytes, where a diagnosis is
/// tens of KiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlLine {
    delete_itl: DeleteItl,
    reason_code: &'static str,
    model: String,
    firmware: String,
    row: String,
}

impl HtmlLine {
    /// The line of `p`, the `index`-th phone of the report (from 0).
    pub fn of(index: usize, p: &PhoneDiagnosis) -> Self {
        HtmlLine {
            delete_itl: p.verdict.delete_itl,
            reason_code: p.main_reason.code,
            model: p.device.model.clone().unwrap_or_default(),
            firmware: p.device.firmware.clone().unwrap_or_default(),
            row: table_row(index, p),
        }
    }
}

fn write_parts<P: std::borrow::Borrow<PhoneDiagnosis>>(
    page: Page<'_>,
    phones: impl Iterator<Item = P>,
    details: &mut dyn FnMut(String) -> String,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let Page {
        lines,
        notes,
        evidence,
        generated,
    } = page;
    let mut head = String::new();
    let _ = write!(
        head,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>itlscope report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>itlscope: does the ITL have to be deleted?</h1>\n"
    );
    generated_line(&mut head, generated);
    for c in &evidence.captures {
        capture_line(&mut head, c);
    }
    for note in notes {
        let _ = writeln!(head, "<p class=\"capture\">note: {}</p>", esc(note));
    }
    head.push_str("</header>\n");
    fleet_summary(&mut head, lines);
    verdict_table(&mut head, lines);
    out.write_all(head.as_bytes())?;
    drop(head);
    let captures = super::capture_labels(evidence);
    let labels = Value::Array(captures.iter().cloned().map(Value::String).collect());
    out.write_all(
        format!(
            "<script type=\"application/json\" id=\"captures\">{}</script>\n",
            script_json(&labels)
        )
        .as_bytes(),
    )?;
    // Each phone's details written out compact at once (the JSON array's bytes: `[`, the
    // blobs joined by `,`, `]`), so a chunk holds text, not 64 phones' trees of values.
    let mut array = String::from("[");
    let mut in_chunk = 0;
    let mut k = 0;
    let mut chunk = |array: &mut String, k: &mut usize| -> std::io::Result<()> {
        array.push(']');
        let packed = gzip_base64(details(std::mem::replace(array, String::from("["))).as_bytes())?;
        out.write_all(
            format!("<script type=\"{DETAILS_TYPE}\" id=\"chunk-{k}\">{packed}</script>\n")
                .as_bytes(),
        )?;
        *k += 1;
        Ok(())
    };
    for p in phones {
        if in_chunk > 0 {
            array.push(',');
        }
        array.push_str(&phone_blob(p.borrow(), evidence).to_string());
        in_chunk += 1;
        if in_chunk == CHUNK {
            chunk(&mut array, &mut k)?;
            in_chunk = 0;
        }
    }
    if in_chunk > 0 {
        chunk(&mut array, &mut k)?;
    }
    out.write_all(format!("<script>{SCRIPT}</script>\n</body>\n</html>\n").as_bytes())
}

/// `bytes` gzipped, then base64 (standard alphabet, padded).
fn gzip_base64(bytes: &[u8]) -> std::io::Result<String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes)?;
    Ok(base64(&gz.finish()?))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with padding (what the page's `atob` reads).
fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group.first().copied().unwrap_or(0),
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 (padding optional); None on a character outside the alphabet.
fn unbase64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = B64.iter().position(|&b| b == c)?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The details of every phone of a page [`write`] made, in phone order: the blobs the
/// script draws (keys documented in `phone_blob`). An error names the chunk that does not
/// decode.
pub fn details_of(page: &str) -> Result<Vec<Value>, String> {
    let marker = format!("<script type=\"{DETAILS_TYPE}\" id=\"chunk-");
    let mut phones = Vec::new();
    for (k, part) in page.split(marker.as_str()).skip(1).enumerate() {
        let body = part
            .split_once("\">")
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(body, _)| body)
            .ok_or(format!("chunk {k} is not closed"))?;
        let gz = unbase64(body).ok_or(format!("chunk {k} is not base64"))?;
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut json)
            .map_err(|e| format!("chunk {k}: {e}"))?;
        let list: Vec<Value> =
            serde_json::from_slice(&json).map_err(|e| format!("chunk {k}: {e}"))?;
        phones.extend(list);
    }
    Ok(phones)
}

/// Which itlscope wrote the page, when, and with which command.
fn generated_line(out: &mut String, generated: Option<&Generated>) {
    match generated {
        Some(g) => {
            let _ = writeln!(
                out,
                "<p class=\"generated\">{} {}, {} (UTC), <code>{}</code></p>",
                esc(g.tool),
                esc(g.version),
                esc(g.date.as_deref().unwrap_or("date unknown")),
                esc(&g.command_line())
            );
        }
        None => {
            let _ = writeln!(
                out,
                "<p class=\"generated\">itlscope {} (written by the library, no command line)</p>",
                env!("CARGO_PKG_VERSION")
            );
        }
    }
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
    super::fleet::phone_name(p)
}

const VERDICTS: [DeleteItl; 3] = [
    DeleteItl::Required,
    DeleteItl::NotRequired,
    DeleteItl::Undetermined,
];

/// Phones per verdict, per main reason and per model and firmware, before the table.
fn fleet_summary(out: &mut String, phones: &[HtmlLine]) {
    if phones.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"summary\">\n<h2>Fleet summary ({} phone(s))</h2>\n<div class=\"summary\">",
        phones.len()
    );
    out.push_str("<table id=\"per-verdict\"><tr><th>delete the ITL?</th><th>phones</th></tr>\n");
    for d in VERDICTS {
        let n = phones.iter().filter(|p| p.delete_itl == d).count();
        let _ = writeln!(
            out,
            "<tr><td class=\"{0}\">{0}</td><td class=\"n\">{1}</td></tr>",
            d.as_str(),
            filter_link(&format!("verdict={}", d.as_str()), n)
        );
    }
    out.push_str("</table>\n");
    out.push_str("<table id=\"per-reason\"><tr><th>main reason</th><th>phones</th></tr>\n");
    let order = |code: &str| {
        crate::diagnosis::reason::CODES
            .iter()
            .position(|c| *c == code)
            .unwrap_or(usize::MAX)
    };
    let mut reasons: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for p in phones {
        let code = p.reason_code;
        *reasons.entry((order(code), code)).or_default() += 1;
    }
    for ((_, code), n) in &reasons {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
            esc(code),
            filter_link(&format!("reason={}", url_value(code)), *n)
        );
    }
    out.push_str("</table>\n");
    out.push_str("<table id=\"per-model\"><tr><th>model</th><th>firmware</th><th>phones</th><th>required</th><th>not-required</th><th>undetermined</th></tr>\n");
    let mut models: BTreeMap<(String, String), [usize; 3]> = BTreeMap::new();
    for p in phones {
        let key = (p.model.clone(), p.firmware.clone());
        let counts = models.entry(key).or_default();
        if let Some(k) = VERDICTS.iter().position(|d| *d == p.delete_itl) {
            counts[k] += 1;
        }
    }
    for ((model, firmware), counts) in &models {
        let shown = |s: &str| {
            if s.is_empty() {
                "<span class=\"unknown\">not seen</span>".to_string()
            } else {
                esc(s)
            }
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            shown(model),
            shown(firmware),
            filter_link(
                &format!("model={}", url_value(&model_key(model, firmware))),
                counts.iter().sum::<usize>()
            ),
            counts[0],
            counts[1],
            counts[2]
        );
    }
    out.push_str("</table>\n</div>\n</section>\n");
}

/// A summary count that filters the table to the phones it counts: a link to the page with
/// the filter in its query (works without script, and is what a bookmark keeps); the page's
/// script applies it in place.
fn filter_link(query: &str, n: usize) -> String {
    if n == 0 {
        return "0".to_string();
    }
    format!("<a class=\"filter\" href=\"?{query}#phones\" title=\"show these phones\">{n}</a>")
}

/// The key the model filter compares: model and firmware as the table shows them.
fn model_key(model: &str, firmware: &str) -> String {
    format!("{model}/{firmware}")
}

/// `value` as a URL query value: letters, digits and `-._~` kept, every other byte
/// percent-encoded (and HTML-safe, since `%` and alphanumerics need no escaping).
fn url_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The table: one row per phone, with the filters above it. Columns: phone, address,
/// verdict, main reason (the text report's words), MAC, model and firmware, first next step
/// (the first four in the order tests/outputs_agree.rs reads them).
fn verdict_table(out: &mut String, phones: &[HtmlLine]) {
    if phones.is_empty() {
        out.push_str("<p>No phone traffic found: no trust-list or config download, no TLS to a phone service port, no DeviceTLInfo alarm.</p>\n");
        return;
    }
    out.push_str("<section id=\"phones\">\n<h2>Phones</h2>\n<div class=\"controls\"><label>filter <input id=\"q\" type=\"search\" placeholder=\"name, address, model, reason…\"></label> <label>delete the ITL? <select id=\"v\"><option value=\"\">any</option>");
    for d in VERDICTS {
        let _ = write!(out, "<option>{}</option>", d.as_str());
    }
    out.push_str(
        "</select></label> <label>main reason <select id=\"r\"><option value=\"\">any</option>",
    );
    for code in crate::diagnosis::reason::CODES {
        if phones.iter().any(|p| p.reason_code == code) {
            let _ = write!(out, "<option>{}</option>", esc(code));
        }
    }
    let _ = writeln!(
        out,
        "</select></label> <span id=\"shown\">{0} of {0} phone(s)</span> <small>(click a phone to open it, a header to sort)</small></div>",
        phones.len()
    );
    out.push_str("<table id=\"verdicts\">\n<colgroup><col style=\"width:12.5%\"><col style=\"width:10%\"><col style=\"width:10%\"><col style=\"width:22%\"><col style=\"width:10.5%\"><col style=\"width:9%\"><col style=\"width:26%\"></colgroup>\n<thead><tr><th>phone</th><th>address</th><th>delete the ITL?</th><th>main reason</th><th>MAC</th><th>model</th><th>first next step</th></tr></thead>\n<tbody>\n");
    for line in phones {
        out.push_str(&line.row);
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// One row of the verdict table: the `index`-th phone (from 0).
fn table_row(i: usize, p: &PhoneDiagnosis) -> String {
    let mut out = String::new();
    let verdict = p.verdict.delete_itl.as_str();
    let model = match (&p.device.model, &p.device.firmware) {
        (Some(m), Some(f)) => format!("{}<br><small>{}</small>", esc(m), esc(f)),
        (Some(m), None) => esc(m),
        (None, Some(f)) => format!("<small>{}</small>", esc(f)),
        (None, None) => String::new(),
    };
    let step = p
        .verdict
        .next_steps
        .first()
        .map(|s| esc(&s.text))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<tr><td><a href=\"#phone-{i}\" class=\"phone\" id=\"phone-{i}\">{}</a></td><td>{}</td><td class=\"{verdict}\">{verdict}</td><td data-code=\"{}\">{}</td><td>{}</td><td data-model=\"{}\">{model}</td><td class=\"step\">{step}</td></tr>",
        esc(&phone_name(p)),
        p.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        esc(p.main_reason.code),
        esc(&super::text::one_reason(p)),
        esc(p.mac.as_deref().unwrap_or_default()),
        esc(&model_key(
            p.device.model.as_deref().unwrap_or_default(),
            p.device.firmware.as_deref().unwrap_or_default()
        )),
    );
    out
}

/// How a timeline event is drawn: 0 normal, 1 failure (red), 2 an expected answer that
/// reads like a failure (grey): a CTL request answered "not found" when no CTL is served,
/// which is how a cluster not in mixed mode answers (served-ctl check).
fn event_class(e: &TimelineEvent, files: &[&FileTransfer]) -> u8 {
    if !e.failed {
        return 0;
    }
    let expected = files.iter().any(|f| {
        f.last.capture == e.capture && f.last.frame == e.frame && file_class(f, files) == 2
    });
    if expected { 2 } else { 1 }
}

/// How a file's outcome is drawn: 0 complete, 1 failed (red), 2 the expected "not found"
/// of a CTL when no CTL is served (see [`event_class`]).
fn file_class(f: &FileTransfer, files: &[&FileTransfer]) -> u8 {
    if f.complete {
        return 0;
    }
    let is_ctl = |f: &FileTransfer| crate::diagnosis::names::classify(&f.name).0.is_ctl();
    let ctl_served = files.iter().any(|g| is_ctl(g) && g.complete && !g.upload);
    let not_found = f.tftp_error_code == Some(1) || f.http_status == Some(404);
    if is_ctl(f) && not_found && !ctl_served {
        2
    } else {
        1
    }
}

/// One lane of the ladder: the phone, or a server address with what it served.
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

/// The message drawn on an arrow: the event's whole text (the page wraps it; nothing is
/// cut, so a screenshot or a PDF keeps it).
pub fn arrow_label(e: &TimelineEvent) -> String {
    e.what.clone()
}

/// One phone's details as the compact blob the script draws (keys in page.js `details`).
///
/// Keys: `n` name, `mac`, `ip`, `v` verdict, `o` other addresses, `c` the four conditions
/// `[value, why]`, `r` recovery paths `[id, state, why]`, `s` next steps `[id, text,
/// because]`, `t` trust path `[basis, ITL acceptance, how, config acceptance, how]` or null,
/// `f` files `[name, transport, server, outcome, failed]`, `k` checks `[id, status,
/// finding]`, `l` ladder lanes, `e` ladder events `[lane (-1: none), from the phone, 0 normal
/// / 1 failed / 2 expected, frame, capture, milliseconds since the first event, text]`, `x`
/// lines of `--evidence` files `[source, time, what]`.
fn phone_blob(p: &PhoneDiagnosis, evidence: &Evidence) -> Value {
    let s = |text: &str| text.to_string();
    let v = &p.verdict;
    let conditions: Vec<Value> = v
        .conditions
        .named()
        .iter()
        .map(|(_, c)| json!([c.value, s(&c.explanation)]))
        .collect();
    let recovery: Vec<Value> = v
        .recovery
        .paths
        .iter()
        .map(|r| json!([r.id, r.state.as_str(), s(&r.explanation)]))
        .collect();
    let steps: Vec<Value> = v
        .next_steps
        .iter()
        .map(|st| json!([st.id, s(&st.text), s(&st.because.join("; "))]))
        .collect();
    let trust = p.trust_path.as_ref().map(|t| {
        json!([
            s(&t.basis),
            t.itl.acceptance.as_str(),
            s(&t.itl.explanation),
            t.config.acceptance.as_str(),
            s(&t.config.explanation)
        ])
    });
    let files: Vec<&FileTransfer> = p
        .files
        .iter()
        .filter_map(|&i| evidence.files.get(i))
        .collect();
    let file_rows: Vec<Value> = files
        .iter()
        .map(|f| {
            json!([
                s(&f.name),
                f.transport.as_str(),
                s(&f.server.to_string()),
                s(&crate::diagnosis::checks::transfer_outcome(f)),
                file_class(f, &files)
            ])
        })
        .collect();
    let checks: Vec<Value> = p
        .checks
        .iter()
        .map(|c| json!([c.id, c.status.as_str(), s(&c.explanation)]))
        .collect();
    let lanes = lanes(p);
    let lane_labels: Vec<String> = lanes.iter().map(|l| l.label.clone()).collect();
    let t0 = p.timeline.first().map(|e| e.time.0).unwrap_or_default();
    let events: Vec<Value> = p
        .timeline
        .iter()
        .map(|e| {
            let lane = e
                .peer
                .and_then(|peer| lanes.iter().position(|l| l.ip == Some(peer.ip)))
                .map_or(-1, |i| i64::try_from(i).unwrap_or(-1));
            let millis = e.time.0.saturating_sub(t0) / 1_000_000;
            json!([
                lane,
                u8::from(e.from_phone),
                event_class(e, &files),
                e.frame,
                e.capture,
                millis,
                s(&arrow_label(e))
            ])
        })
        .collect();
    let reported: Vec<Value> = p
        .reported
        .iter()
        .map(|r| json!([s(&r.source), s(r.time.as_deref().unwrap_or("")), s(&r.what)]))
        .collect();
    let other: Vec<String> = p.other_ips.iter().map(ToString::to_string).collect();
    json!({
        "n": phone_name(p),
        "mac": p.mac,
        "ip": p.ip.map(|ip| ip.to_string()),
        "v": v.delete_itl.as_str(),
        "o": other,
        "c": conditions,
        "r": recovery,
        "s": steps,
        "t": trust,
        "f": file_rows,
        "k": checks,
        "l": lane_labels,
        "e": events,
        "x": reported
    })
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

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = json!(["</script><!-- x"]);
        let s = script_json(&v);
        assert!(!s.contains('<'), "{s}");
        let back: Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..10 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 200) as u8).collect();
            let text = base64(&bytes);
            assert_eq!(text.len() % 4, 0);
            assert_eq!(unbase64(&text).as_deref(), Some(bytes.as_slice()));
        }
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(unbase64("T!=="), None);
    }

    #[test]
    fn the_header_names_version_date_and_command() {
        let g = Generated::now(
            [
                "/usr/local/bin/itlscope",
                "analyze",
                "my capture.pcap",
                "--html",
                "<x>.html",
            ]
            .map(std::ffi::OsString::from),
        );
        assert_eq!(g.command[0], "itlscope", "the program by its file name");
        assert_eq!(
            g.command_line(),
            "itlscope analyze 'my capture.pcap' --html '<x>.html'"
        );
        let mut out = String::new();
        generated_line(&mut out, Some(&g));
        assert!(out.contains(&format!("itlscope {}", env!("CARGO_PKG_VERSION"))));
        assert!(out.contains("&lt;x&gt;.html"), "escaped: {out}");
        assert!(out.contains("(UTC)"));
    }
}
