//! The per-capture section of the report: the decoder's counts folded into the reader's
//! [`CaptureSummary`], and its one-paragraph text rendering.

use super::Decoder;
use crate::evidence::{CaptureSummary, EncapsulationCount, SkippedFrames};

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
        summary.skipped.push(SkippedFrames {
            reason: "unsupported-link-type".into(),
            code: Some(lt.0),
            detail: format!("link type {} is not decoded", lt.0),
            frames: *n,
        });
    }
    for (why, n) in &stats.skipped_encapsulations {
        summary.skipped.push(SkippedFrames {
            reason: why.id().into(),
            code: why.code(),
            detail: why.to_string(),
            frames: *n,
        });
    }
    for (kind, n) in &stats.encapsulations {
        summary.encapsulations.push(EncapsulationCount {
            id: kind.id().into(),
            name: kind.to_string(),
            frames: *n,
        });
    }
}
