//! Captures in, evidence out: drives capture reading → decoding → the protocol collector.
//!
//! One worker thread per capture file (up to the machine's cores, and no more than the memory
//! budget has shares of [`MIN_SHARE`] for), each with its own reader,
//! decoder and collector, so several files use several cores and one file's flows never mix
//! with another's. Results are merged in the order the files were given.
//!
//! Within one capture, reading runs on a thread of its own and hands the frames to the
//! collecting thread in batches ([`split`], [`handoff`]), decoded on whichever side has time:
//! bytes travel as places in the reader's shared blocks, not as copies, so the two cores
//! split the work instead of copying it.

mod handoff;
mod live;
mod split;

pub use live::{open_live, run_live};

use crate::budget::{MemoryBudget, MemoryPool};
use crate::capture::{CaptureError, CaptureReader, ReaderOptions};
use crate::evidence::{CaptureSummary, Evidence};
use crate::net::DefragLimits;
use crate::progress::Progress;
use crate::proto::{Collected, Collector, CollectorConfig};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Everything that tunes a run: what to follow and the memory limits of each stage.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    /// Capture reader buffer and record-size limits.
    pub reader: ReaderOptions,
    /// IP defragmentation limits.
    pub defrag: DefragLimits,
    /// Ports to follow and reassembly limits.
    pub collector: CollectorConfig,
    /// Progress bars while files are read (silent by default).
    pub progress: Progress,
}

/// What one capture file gave.
#[derive(Debug)]
pub struct CaptureResult {
    /// Frames, bytes, link types, malformed counts, truncation and limits hit.
    pub summary: CaptureSummary,
    /// Files, TLS sessions and alarms found in it.
    pub collected: Collected,
}

impl CaptureResult {
    /// The evidence of this one capture, as [`collect_evidence`] gives it for several.
    pub fn into_evidence(self) -> Evidence {
        let c = self.collected;
        Evidence {
            captures: vec![self.summary],
            files: c.files,
            tls: c.tls,
            tls_aggregates: c.tls_aggregates,
            alarms: c.alarms,
            losses: c.losses,
            registrations: c.registrations,
            sip_registrations: c.sip_registrations,
        }
    }
}

/// Reads one capture to its end. Fails only when the input cannot be opened or is not a
/// capture; a capture that stops early (cut mid-record, corrupt record) yields what came
/// before, with `summary.truncated` saying where.
pub fn read_capture(path: &Path, options: &PipelineOptions) -> Result<CaptureResult, CaptureError> {
    read_capture_within(path, options, None)
}

/// [`read_capture`] charging the parser buffers to `memory` (a share of the pool of the
/// captures read in parallel) or, without one, to a budget of its own.
fn read_capture_within(
    path: &Path,
    options: &PipelineOptions,
    memory: Option<MemoryBudget>,
) -> Result<CaptureResult, CaptureError> {
    let (reader, _bar) = options.progress.open(path, options.reader)?;
    Ok(run_within(reader, options, memory))
}

/// Reads an already opened capture to its end (standard input, a decompressor, a test
/// buffer).
///
/// Two threads share the work: a second one reads frames and hands them over in batches;
/// this one collects. Decoding goes to whichever is less busy ([`split`]).
pub fn run(reader: CaptureReader, options: &PipelineOptions) -> CaptureResult {
    run_within(reader, options, None)
}

fn run_within(
    reader: CaptureReader,
    options: &PipelineOptions,
    memory: Option<MemoryBudget>,
) -> CaptureResult {
    // One budget for the capture's TCP, TLS, TFTP and fragment buffers alike.
    let memory = memory.unwrap_or_else(|| MemoryBudget::new(options.collector.max_memory));
    let mut decoder = crate::net::Decoder::new(options.defrag);
    decoder.set_memory(&memory);
    let mut collector = Collector::new(options.collector.clone()).with_memory(memory);
    let split = split::each_packet_with(reader, decoder, |packet| collector.packet(packet));
    let collected = collector.finish();
    let mut summary = split.summary;
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
    let (evidence, mut unreadable) = collect_readable(paths, options);
    match unreadable.is_empty() {
        true => Ok(evidence),
        false => Err(unreadable.swap_remove(0)),
    }
}

/// Like [`collect_evidence`], but a capture that cannot be opened or is not a capture does
/// not stop the others: the evidence of the readable ones, and the errors in file order.
pub fn collect_readable(
    paths: &[PathBuf],
    options: &PipelineOptions,
) -> (Evidence, Vec<CaptureError>) {
    let mut evidence = Evidence::default();
    let mut unreadable = Vec::new();
    for result in read_captures(paths, options) {
        match result {
            Ok(CaptureResult { summary, collected }) => {
                // Frame numbers restart in each file: every record says which one it is from.
                let capture = evidence.captures.len();
                evidence.captures.push(summary);
                let mut files = collected.files;
                files.iter_mut().for_each(|f| f.set_capture(capture));
                append(&mut evidence.files, files);
                let mut tls = collected.tls;
                tls.iter_mut().for_each(|s| s.set_capture(capture));
                append(&mut evidence.tls, tls);
                evidence
                    .alarms
                    .extend(collected.alarms.into_iter().map(|mut a| {
                        a.set_capture(capture);
                        a
                    }));
                evidence.tls_aggregates.extend(collected.tls_aggregates);
                evidence.losses.extend(collected.losses);
                evidence
                    .registrations
                    .extend(collected.registrations.into_iter().map(|mut r| {
                        r.set_capture(capture);
                        r
                    }));
                evidence
                    .sip_registrations
                    .extend(collected.sip_registrations.into_iter().map(|mut r| {
                        r.set_capture(capture);
                        r
                    }));
            }
            Err(e) => unreadable.push(e),
        }
    }
    (evidence, unreadable)
}

/// Moves `items` to the end of `all`. The first capture's list is taken as it is, not
/// copied: a fleet's transfer list is tens of MB, and a copy would hold it twice at once.
fn append<T>(all: &mut Vec<T>, mut items: Vec<T>) {
    if all.is_empty() {
        *all = items;
    } else {
        all.append(&mut items);
    }
}

/// Reads one capture like [`read_capture`], and turns a panic while analysing it (a bug,
/// never expected from input) into that capture's error, so the other captures are still
/// read and reported. The panic hook has already printed the panic itself.
fn read_capture_guarded(
    path: &Path,
    options: &PipelineOptions,
    memory: MemoryBudget,
) -> Result<CaptureResult, CaptureError> {
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        #[cfg(test)]
        tests::panic_if_asked(path);
        read_capture_within(path, options, Some(memory))
    }));
    analysed.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Err(CaptureError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(format!("analysis worker failed: {why}")),
        })
    })
}

/// The least parser memory (`--max-memory` divided among the captures read at once) a
/// capture read in parallel gets: more captures at once would each starve.
pub const MIN_SHARE: usize = 8 << 20;

/// Reads every capture, one worker per file (at most one per core and one per
/// [`MIN_SHARE`] of `--max-memory`), results in the order
/// of `paths`. A panic while analysing one capture is that capture's error. Workers take the next file as soon as they finish one, so a big file does
/// not hold back the small ones.
pub fn read_captures(
    paths: &[PathBuf],
    options: &PipelineOptions,
) -> Vec<Result<CaptureResult, CaptureError>> {
    // No more captures at once than the memory budget has shares of MIN_SHARE: each one
    // read at once also holds its fixed read-ahead and hand-over buffers.
    let by_memory = (options.collector.max_memory / MIN_SHARE).max(1);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(by_memory)
        .clamp(1, paths.len().max(1));
    // One pool for the captures read at once, an equal share each: the bound holds per
    // capture and overall, however many cores read in parallel.
    let pool = MemoryPool::new(options.collector.max_memory);
    let share = options.collector.max_memory / workers;
    if workers == 1 {
        return paths
            .iter()
            .map(|p| read_capture_guarded(p, options, pool.budget(share)))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<CaptureResult, CaptureError>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some((path, slot)) = {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    paths.get(i).zip(slots.get(i))
                } {
                    let result = read_capture_guarded(path, options, pool.budget(share));
                    // A slot is only ever locked by the worker that took its index.
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(paths)
        .map(|(slot, path)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(CaptureError::Io {
                    path: path.display().to_string(),
                    source: std::io::Error::other("analysis worker failed"),
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Decoded, Decoder, merge_decoder};
    use itlscope_gen::bench::{BenchConfig, Format, Mix, NoBoots, write_bench_capture};

    fn capture(dir: &Path, name: &str, seed: u64, size: u64) -> PathBuf {
        let path = dir.join(name);
        let config = BenchConfig {
            size,
            format: Format::Pcap,
            seed,
            boots: 0,
            // Short HTTPS sessions with full handshakes, so TLS sessions are collected.
            mix: Mix::TlsHeavy,
        };
        let file = std::fs::File::create(&path).expect("create");
        write_bench_capture(&config, &mut NoBoots, std::io::BufWriter::new(file)).expect("write");
        path
    }

    /// Reads a capture the plain way, one frame after the other on one thread: what
    /// [`run`] must give, whatever the hand-over between its two threads does.
    fn serial(path: &Path, options: &PipelineOptions) -> CaptureResult {
        let mut reader = CaptureReader::open_with(path, options.reader).expect("opens");
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

    #[test]
    fn decoding_on_a_second_thread_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        // Reassembled IP fragments (payloads the decoder built, copied into the batch), a
        // tunnel (payloads inside the outer frame), a lossy capture, and enough noise for
        // hundreds of batches and blocks (small blocks, so frames straddle them).
        let paths = [
            repo.join("tftp-blksize-fragmented.pcap"),
            repo.join("healthy-tftp-boot-erspan.pcap"),
            repo.join("lossy-capture.pcap"),
            repo.join("healthy-tftp-boot.pcapng"),
            capture(dir.path(), "noise.pcap", 7, 3_000_000),
        ];
        for reader in [
            ReaderOptions::default(),
            ReaderOptions {
                buffer_size: 4096,
                ..ReaderOptions::default()
            },
        ] {
            let options = PipelineOptions {
                reader,
                ..PipelineOptions::default()
            };
            for path in &paths {
                let (reader, _) = Progress::hidden()
                    .open(path, options.reader)
                    .expect("opens");
                let two = run(reader, &options);
                let one = serial(path, &options);
                assert_eq!(two.summary, one.summary, "{}", path.display());
                assert_eq!(two.collected, one.collected, "{}", path.display());
                assert!(two.summary.frames > 0);
            }
        }
    }

    /// Test-only injection point: analysing a file whose name says so panics, like a bug
    /// in a collector would.
    pub(super) fn panic_if_asked(path: &Path) {
        let asked = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("inject-panic"));
        assert!(!asked, "injected analysis panic");
    }

    #[test]
    fn a_panic_in_one_capture_is_its_error_and_the_others_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = capture(dir.path(), "good.pcap", 1, 100_000);
        let bad = dir.path().join("inject-panic.pcap");
        std::fs::copy(&good, &bad).expect("copy");
        let other = capture(dir.path(), "other.pcap", 2, 100_000);
        let paths = [good, bad, other];
        let options = PipelineOptions {
            progress: Progress::hidden(),
            ..Default::default()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let paths = paths.to_vec();
            let options = options.clone();
            std::thread::spawn(move || {
                let _ = tx.send(read_captures(&paths, &options));
            });
        }
        let results = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the workers come back");
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok());
        assert!(results[2].is_ok());
        let err = results[1]
            .as_ref()
            .expect_err("the panicking capture fails");
        let text = err.to_string();
        assert!(text.contains("analysis worker failed"), "{text}");
        assert!(text.contains("inject-panic.pcap"), "{text}");
        let (evidence, unreadable) = collect_readable(&paths, &options);
        assert_eq!((evidence.captures.len(), unreadable.len()), (2, 1));
    }

    #[test]
    fn parallel_results_equal_serial_results_in_file_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut paths: Vec<PathBuf> = (0..5u64)
            .map(|i| capture(dir.path(), &format!("c{i}.pcap"), i, 100_000 * (5 - i)))
            .collect();
        paths.push(dir.path().join("missing.pcap"));
        let options = PipelineOptions {
            progress: Progress::hidden(),
            ..Default::default()
        };
        let parallel = read_captures(&paths, &options);
        assert_eq!(parallel.len(), 6);
        for (i, (path, result)) in paths.iter().zip(&parallel).enumerate() {
            let serial = read_capture(path, &PipelineOptions::default());
            match (serial, result) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(x.summary, y.summary);
                    assert_eq!(x.collected, y.collected);
                    assert!(y.summary.path.ends_with(&format!("c{i}.pcap")));
                    assert!(y.summary.frames > 100);
                }
                (Err(x), Err(y)) => {
                    assert_eq!(i, 5);
                    assert_eq!(x.to_string(), y.to_string());
                }
                _ => panic!("file {i}: serial and parallel disagree"),
            }
        }
        let err = collect_evidence(&paths, &options).expect_err("the missing file fails");
        assert!(err.to_string().contains("missing.pcap"), "{err}");
        let evidence = collect_evidence(&paths[..5], &options).expect("readable files");
        assert_eq!(evidence.captures.len(), 5);
        assert!(
            !evidence.tls.is_empty(),
            "HTTPS handshakes in the noise show as TLS sessions"
        );
    }
}
