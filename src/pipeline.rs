//! The packet path over whole capture files: reader -> decoder -> collector, streamed, one
//! worker thread per file (up to the number of cores) when several files are given.
//!
//! Files are independent (their own flows, fragments and frame numbers), so workers share
//! nothing; results come back in the order the files were given.

use crate::capture::{CaptureError, ReaderOptions};
use crate::evidence::{CaptureSummary, Evidence};
use crate::net::{Decoded, Decoder, DefragLimits, merge_decoder};
use crate::progress::Progress;
use crate::proto::{Collected, Collector, CollectorConfig};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Buffer sizes and memory limits of every stage.
#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    /// Capture reader buffer and largest record.
    pub reader: ReaderOptions,
    /// IP fragment reassembly limits.
    pub defrag: DefragLimits,
    /// What the protocol stage follows and its limits.
    pub collector: CollectorConfig,
    /// Worker threads for several files; 0 = one per core.
    pub threads: usize,
}

/// What one capture file gave.
#[derive(Debug, Clone)]
pub struct CaptureResult {
    /// The file's summary, with the decoder's and collector's limits in `limits_hit`.
    pub summary: CaptureSummary,
    /// Evidence found in the file.
    pub collected: Collected,
}

/// Reads one capture (`-` = standard input) through the whole packet path.
///
/// Fails only when the input cannot be opened or is not a capture; a capture that stops
/// early still yields what came before, with `summary.truncated` saying where and why.
pub fn collect_capture(
    path: &Path,
    config: &PipelineConfig,
    progress: &Progress,
) -> Result<CaptureResult, CaptureError> {
    let (mut reader, _bar) = progress.open(path, config.reader)?;
    let mut decoder = Decoder::new(config.defrag);
    let mut collector = Collector::new(config.collector.clone());
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
    Ok(CaptureResult { summary, collected })
}

/// Reads every capture, one worker per file up to `config.threads` (0 = all cores);
/// results are in the order of `paths`.
pub fn collect_captures(
    paths: &[PathBuf],
    config: &PipelineConfig,
    progress: &Progress,
) -> Vec<Result<CaptureResult, CaptureError>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted = if config.threads == 0 {
        cores
    } else {
        config.threads
    };
    let workers = wanted.min(paths.len()).max(1);
    if workers == 1 {
        return paths
            .iter()
            .map(|p| collect_capture(p, config, progress))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<CaptureResult, CaptureError>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let result = collect_capture(path, config, progress);
                    if let Some(slot) = results.get(i) {
                        // A poisoned slot can only come from a panic in another worker,
                        // which the scope re-raises anyway.
                        if let Ok(mut slot) = slot.lock() {
                            *slot = Some(result);
                        }
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .zip(paths)
        .map(|(slot, path)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(CaptureError::Io {
                    path: path.display().to_string(),
                    source: std::io::Error::other("worker did not finish"),
                })
            })
        })
        .collect()
}

/// Puts the per-file results together, in file order.
pub fn evidence_from(results: Vec<CaptureResult>) -> Evidence {
    let mut evidence = Evidence::default();
    for r in results {
        evidence.captures.push(r.summary);
        evidence.files.extend(r.collected.files);
        evidence.tls.extend(r.collected.tls);
        evidence.alarms.extend(r.collected.alarms);
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;
    use itlscope_gen::bench::{BenchConfig, Format, NoBoots, write_bench_capture};

    fn capture(dir: &Path, name: &str, seed: u64) -> PathBuf {
        let path = dir.join(name);
        let config = BenchConfig {
            size: 200_000,
            format: Format::Pcap,
            seed,
            boots: 0,
        };
        let file = std::fs::File::create(&path).expect("create");
        write_bench_capture(&config, &mut NoBoots, std::io::BufWriter::new(file)).expect("write");
        path
    }

    #[test]
    fn parallel_results_equal_serial_results_in_file_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut paths: Vec<PathBuf> = (0..5)
            .map(|i| capture(dir.path(), &format!("c{i}.pcap"), i))
            .collect();
        paths.push(dir.path().join("missing.pcap"));
        let serial = PipelineConfig {
            threads: 1,
            ..Default::default()
        };
        let parallel = PipelineConfig {
            threads: 3,
            ..Default::default()
        };
        let a = collect_captures(&paths, &serial, &Progress::silent());
        let b = collect_captures(&paths, &parallel, &Progress::hidden());
        assert_eq!(a.len(), 6);
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            match (x, y) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(x.summary, y.summary);
                    assert_eq!(x.collected, y.collected);
                    assert!(x.summary.path.ends_with(&format!("c{i}.pcap")));
                    assert!(x.summary.frames > 100);
                }
                (Err(x), Err(y)) => {
                    assert_eq!(i, 5);
                    assert_eq!(x.to_string(), y.to_string());
                }
                _ => panic!("file {i}: serial and parallel disagree"),
            }
        }
        let evidence = evidence_from(b.into_iter().flatten().collect());
        assert_eq!(evidence.captures.len(), 5);
        assert!(
            !evidence.tls.is_empty(),
            "port-443 noise shows as TLS sessions"
        );
    }
}
