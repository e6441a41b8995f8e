//! Reads a whole capture through the decoder and fills its
//! [`CaptureSummary`]: the per-capture section of the report (and, until the diagnosis
//! exists, what `itlscope analyze` prints).

use super::{Decoded, Decoder, DefragLimits};
use crate::capture::{CaptureError, CaptureReader, LinkType};
use crate::evidence::CaptureSummary;
use std::fmt::Write as _;
use std::path::Path;

/// Opens `path` (`-` = standard input), decodes every frame and returns the summary.
///
/// Errors only when the input cannot be opened or is not a capture. A capture that stops
/// early (cut mid-record, a corrupt or oversized record, a read error) still yields a
/// summary of what came before, with `truncated` saying where and why.
pub fn summarize_path(path: &Path) -> Result<CaptureSummary, CaptureError> {
    let mut reader = CaptureReader::open(path)?;
    Ok(summarize(&mut reader, DefragLimits::default()))
}

/// Reads `reader` to its end through a fresh [`Decoder`] and returns the summary.
pub fn summarize(reader: &mut CaptureReader, limits: DefragLimits) -> CaptureSummary {
    let mut decoder = Decoder::new(limits);
    let stopped = loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                // Only the counters matter here; the packet itself is not used.
                let _: Decoded<'_> = decoder.decode(&frame);
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let mut summary = reader.summary().clone();
    if let Some(e) = stopped {
        summary.truncated = Some(e.to_string());
    }
    merge_decoder(&mut summary, &decoder);
    summary
}

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
