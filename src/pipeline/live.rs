//! One capture read as it arrives (`analyze --follow`): every frame is decoded and collected
//! on this thread as soon as its bytes are in, with no batch to fill first, and a watcher
//! sees the collector after each packet. A thread of its own pulls the input's bytes, so a
//! stop request (Ctrl-C) ends the reading even while the input has nothing to give.

use super::{CaptureResult, PipelineOptions};
use crate::capture::{CaptureError, CaptureReader};
use crate::net::{Decoded, Decoder, Packet, merge_decoder};
use crate::proto::Collector;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Duration;

/// Bytes asked of the input per read: a pipe gives what it has, up to this.
const CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the parser (memory: `AHEAD + 2` chunks).
const AHEAD: usize = 16;
/// How often a reader waiting for input looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

/// A byte stream pulled by a thread of its own: reading it waits for the next chunk, and
/// ends (as at the end of the input) once `stop` is set, even while the input is silent.
struct Pumped {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
    stop: Arc<AtomicBool>,
    finished: bool,
}

impl Pumped {
    fn new(mut input: Box<dyn Read + Send>, stop: Arc<AtomicBool>) -> Self {
        let (tx, chunks) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        // Not joined: after a stop it may stay blocked in `read` on a silent pipe until the
        // process exits; it ends by itself at the end of the input or when nobody listens.
        std::thread::spawn(move || {
            loop {
                let mut chunk = vec![0u8; CHUNK];
                let read = loop {
                    match input.read(&mut chunk) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                let last = !matches!(read, Ok(n) if n > 0);
                let message = read.map(|n| {
                    chunk.truncate(n);
                    chunk
                });
                if tx.send(message).is_err() || last {
                    break;
                }
            }
        });
        Pumped {
            chunks,
            current: Vec::new(),
            at: 0,
            stop,
            finished: false,
        }
    }
}

impl Read for Pumped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.finished || self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            match self.chunks.recv_timeout(STOP_POLL) {
                Ok(Ok(chunk)) if chunk.is_empty() => self.finished = true,
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.finished = true,
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Opens `path` (`-`: standard input) for [`run_live`]: its bytes are pulled by a thread of
/// their own, so that setting `stop` ends the reading at once.
pub fn open_live(
    path: &std::path::Path,
    options: &PipelineOptions,
    stop: &Arc<AtomicBool>,
) -> Result<CaptureReader, CaptureError> {
    let name = path.display().to_string();
    let input: Box<dyn Read + Send> = if path == std::path::Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).map_err(|source| CaptureError::Io {
                path: name.clone(),
                source,
            })?,
        )
    };
    CaptureReader::from_reader_with(
        &name,
        Box::new(Pumped::new(input, Arc::clone(stop))),
        options.reader,
    )
}

/// Reads a capture to its end (or until `stop` is set) on this thread, calling `watch` with
/// the collector and the packet after each packet. Gives what [`super::run`] gives for the
/// frames read: the same reader, decoder and collector, taken one frame at a time. A stop
/// is said in the summary's notes.
pub fn run_live(
    mut reader: CaptureReader,
    options: &PipelineOptions,
    stop: &AtomicBool,
    mut watch: impl FnMut(&Collector, &Packet<'_>),
) -> CaptureResult {
    let mut decoder = Decoder::new(options.defrag);
    let mut collector = Collector::new(options.collector.clone());
    let mut stopped_early = false;
    let stopped = loop {
        if stop.load(Ordering::Relaxed) {
            stopped_early = true;
            break None;
        }
        match reader.next_frame() {
            Ok(Some(frame)) => {
                if let Decoded::Packet(packet) = decoder.decode(&frame) {
                    collector.packet(&packet);
                    watch(&collector, &packet);
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    // A stop that came while waiting for input ends it like an end of input.
    stopped_early |= stop.load(Ordering::Relaxed);
    let mut summary = reader.into_summary();
    if let Some(e) = stopped {
        summary.truncated = Some(e.to_string());
    }
    if stopped_early {
        summary.notes.push(format!(
            "reading stopped on request (Ctrl-C) after {} frame(s): the report covers what was read up to there",
            summary.frames
        ));
    }
    merge_decoder(&mut summary, &decoder);
    let collected = collector.finish();
    summary
        .limits_hit
        .extend(collected.limits_hit.iter().cloned());
    summary.notes.extend(collected.notes.iter().cloned());
    CaptureResult { summary, collected }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Statement-free plumbing check: read frame by frame as it arrives, a capture gives
    /// the evidence the two-thread pipeline gives (the final report of `--follow` is the
    /// report without it).
    #[test]
    fn reading_live_gives_what_the_pipeline_gives() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let options = PipelineOptions::default();
        for name in [
            "healthy-tftp-boot.pcap",
            "two-phones-voice-vlan.pcap",
            "tftp-blksize-fragmented.pcap",
            "boot-loop.pcap",
        ] {
            let path = repo.join(name);
            let stop = Arc::new(AtomicBool::new(false));
            let reader = open_live(&path, &options, &stop).expect("opens");
            let mut packets = 0u64;
            let live = run_live(reader, &options, &stop, |_, _| packets += 1);
            let plain = super::super::read_capture(&path, &options).expect("reads");
            assert_eq!(live.summary, plain.summary, "{name}");
            assert_eq!(live.collected, plain.collected, "{name}");
            assert!(packets > 0, "{name}");
        }
    }

    #[test]
    fn a_stop_ends_the_reading_while_the_input_is_silent() {
        // A pipe whose writer never writes nor closes: only the stop can end the read.
        let (reader_end, _writer_end) = std::io::pipe().expect("pipe");
        let stop = Arc::new(AtomicBool::new(false));
        let mut pumped = Pumped::new(Box::new(reader_end), Arc::clone(&stop));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flag.store(true, Ordering::Relaxed);
        });
        let mut buf = [0u8; 16];
        assert_eq!(pumped.read(&mut buf).expect("reads"), 0);
    }
}
