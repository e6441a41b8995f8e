//! The per-capture section of the report: the decoder's counts folded into the reader's
//! [`CaptureSummary`], and its one-paragraph text rendering.

use super::Decoder;
use crate::capture::LinkType;
use crate::evidence::CaptureSummary;
use std::fmt::Write as _;

/// Adds the decoder's counts and limits to a reader's summary.
pub fn merge_decoder(summary: &mut CaptureSummary, decoder: &Decoder) {
    let stats = decoder.stats();
    summary.malformed += stats.malformed;
    summary.limits_hit.extend(decoder.limits_hit());
    if stats.cut_in_headers > 0 {
        summary.notes.push(format!(
            "{} frames cut by the snaplen inside their headers (not decodable)",
            stats.cut_in_headers
        ));
    }
    for (lt, n) in &stats.unsupported_links {
        summary.notes.push(format!(
            "{n} frames of unsupported link type {} skipped",
            lt.0
        ));
    }
}

/// Renders a summary as the text `itlscope analyze` prints for one capture.
pub fn render_summary(s: &CaptureSummary) -> String {
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
    for l in &s.limits_hit {
        let _ = writeln!(out, "  limit: {l}");
    }
    for n in &s.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}
