//! Captures in, evidence out: drives capture reading → decoding → the protocol collector.
//!
//! One worker thread per capture file (up to the machine's cores), each with its own reader,
//! decoder and collector, so several files use several cores and one file's flows never mix
//! with another's. Results are merged in the order the files were given.

use crate::capture::{CaptureError, CaptureReader, ReaderOptions};
use crate::evidence::{CaptureSummary, Evidence};
use crate::net::merge_decoder;
use crate::net::{Decoded, Decoder, DefragLimits};
use crate::proto::{Collected, Collector, CollectorConfig};
use std::path::{Path, PathBuf};

/// Everything that tunes a run: what to follow and the memory limits of each stage.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    /// Capture reader buffer and record-size limits.
    pub reader: ReaderOptions,
    /// IP defragmentation limits.
    pub defrag: DefragLimits,
    /// Ports to follow and reassembly limits.
    pub collector: CollectorConfig,
}

/// What one capture file gave.
#[derive(Debug)]
pub struct CaptureResult {
    /// Frames, bytes, link types, malformed counts, truncation and limits hit.
    pub summary: CaptureSummary,
    /// Files, TLS sessions and alarms found in it.
    pub collected: Collected,
}

/// Reads one capture to its end. Fails only when the input cannot be opened or is not a
/// capture; a capture that stops early (cut mid-record, corrupt record) yields what came
/// before, with `summary.truncated` saying where.
pub fn read_capture(path: &Path, options: &PipelineOptions) -> Result<CaptureResult, CaptureError> {
    let reader = CaptureReader::open_with(path, options.reader)?;
    Ok(run(reader, options))
}

/// Reads an already opened capture to its end (standard input, a decompressor, a test
/// buffer).
pub fn run(mut reader: CaptureReader, options: &PipelineOptions) -> CaptureResult {
    let mut decoder = Decoder::new(options.defrag);
    let mut collector = Collector::new(options.collector.clone());
    let stopped = loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                if let Decoded::Packet(packet) = decoder.decode(&frame) {
                    collector.packet(&packet);
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let mut summary = reader.into_summary();
    if let Some(e) = stopped {
        summary.truncated = Some(e.to_string());
    }
    merge_decoder(&mut summary, &decoder);
    let collected = collector.finish();
    summary
        .limits_hit
        .extend(collected.limits_hit.iter().cloned());
    summary.notes.extend(collected.notes.iter().cloned());
    CaptureResult { summary, collected }
}

/// Reads every capture, one worker per file (at most one per core), and merges the
/// evidence in the order the files were given. The first unreadable file is the error.
pub fn collect_evidence(
    paths: &[PathBuf],
    options: &PipelineOptions,
) -> Result<Evidence, CaptureError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, paths.len().max(1));
    let mut results: Vec<Option<Result<CaptureResult, CaptureError>>> =
        (0..paths.len()).map(|_| None).collect();
    // Files are dealt out in rounds of `workers`; each round runs in parallel.
    for (round, chunk) in paths.chunks(workers).enumerate() {
        let outputs: Vec<Result<CaptureResult, CaptureError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|path| scope.spawn(move || read_capture(path, options)))
                .collect();
            handles
                .into_iter()
                .zip(chunk)
                .map(|(h, path)| {
                    h.join().unwrap_or_else(|_| {
                        Err(CaptureError::Io {
                            path: path.display().to_string(),
                            source: std::io::Error::other("analysis worker failed"),
                        })
                    })
                })
                .collect()
        });
        for (i, out) in outputs.into_iter().enumerate() {
            if let Some(slot) = results.get_mut(round * workers + i) {
                *slot = Some(out);
            }
        }
    }
    let mut evidence = Evidence::default();
    for result in results.into_iter().flatten() {
        let CaptureResult { summary, collected } = result?;
        evidence.captures.push(summary);
        evidence.files.extend(collected.files);
        evidence.tls.extend(collected.tls);
        evidence.alarms.extend(collected.alarms);
    }
    Ok(evidence)
}
