//! One capture on two threads: this one reads frames and sends them in batches
//! ([`Batch`]); the caller's thread takes the packets. Decoding goes to whichever side has
//! time for it: the reading thread decodes while the collector is the slower side (the
//! queue to it filled up), and sends frames raw while the collector waits for them.
//! Frames are decoded in file order whoever decodes them: the reading thread waits for
//! raw batches still queued to be decoded before it decodes again.

use super::handoff::Batch;
use crate::capture::{CaptureError, CaptureReader};
use crate::evidence::CaptureSummary;
use crate::net::{Decoded, Decoder, DefragLimits, Packet, merge_decoder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// What reading a capture gave, besides its packets.
#[derive(Debug)]
pub(super) struct Split {
    /// The reader's summary with the decoder's counts merged (and the error that stopped
    /// the reader as `truncated`).
    pub summary: CaptureSummary,
    /// Batches the collecting side decoded (read by the tests of the hand-over).
    #[cfg_attr(not(test), expect(dead_code))]
    pub raw_batches: u64,
    /// Batches the reading side decoded.
    #[cfg_attr(not(test), expect(dead_code))]
    pub decoded_batches: u64,
}

/// Reads `reader` to its end on a second thread and calls `each` with every packet, in
/// frame order, on this one.
pub(super) fn each_packet(
    reader: CaptureReader,
    defrag: DefragLimits,
    mut each: impl FnMut(&Packet<'_>),
) -> Split {
    let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES_AHEAD);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES_AHEAD + 2);
    let shared = Arc::new(Shared {
        decoder: Mutex::new(Decoder::new(defrag)),
        collector_waiting: AtomicBool::new(true),
        raw_pending: Mutex::new(0),
        raw_decoded: Condvar::new(),
    });
    let reading = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || read(reader, &shared, &full_tx, &empty_rx))
    };
    let (mut raw_batches, mut decoded_batches) = (0, 0);
    loop {
        shared.collector_waiting.store(true, Ordering::Release);
        let Ok(mut batch) = full_rx.recv() else {
            break;
        };
        shared.collector_waiting.store(false, Ordering::Release);
        if batch.is_raw() {
            raw_batches += 1;
            let mut decoder = shared.decoder();
            for frame in batch.frames() {
                if let Decoded::Packet(packet) = decoder.decode(&frame) {
                    each(&packet);
                }
            }
            drop(decoder);
            shared.raw_done();
        } else {
            decoded_batches += 1;
            for packet in batch.packets() {
                each(&packet);
            }
        }
        batch.clear();
        // Best effort: when the queue back is full the batch is just dropped.
        let _ = empty_tx.try_send(batch);
    }
    let mut summary = match reading.join() {
        Ok((mut summary, stopped)) => {
            if let Some(e) = stopped {
                summary.truncated = Some(e.to_string());
            }
            summary
        }
        // Not expected (reading does not panic on input); the packets taken up to there
        // stand, and the summary says the capture was not read to its end.
        Err(_) => CaptureSummary {
            truncated: Some("the capture's reading stopped on an internal error".into()),
            ..CaptureSummary::default()
        },
    };
    merge_decoder(&mut summary, &shared.decoder());
    Split {
        summary,
        raw_batches,
        decoded_batches,
    }
}

/// Batches in flight between the reading and the collecting thread.
const BATCHES_AHEAD: usize = 4;

/// Sends in a row that find the collector waiting before the reading thread stops
/// decoding.
const WAITS_BEFORE_RAW: u32 = 4;

/// What the two threads of [`each_packet`] share.
struct Shared {
    /// Used by one side at a time, in frame order (see `raw_pending`).
    decoder: Mutex<Decoder>,
    /// Set while the collector waits for a batch: it has time to decode.
    collector_waiting: AtomicBool,
    /// Raw batches sent and not yet decoded by the collector: while there are some, the
    /// reading thread must not decode (it would decode later frames before earlier ones).
    raw_pending: Mutex<usize>,
    /// Signalled when `raw_pending` falls to zero.
    raw_decoded: Condvar,
}

impl Shared {
    fn decoder(&self) -> MutexGuard<'_, Decoder> {
        // A panic while decoding leaves a decoder whose counts are still worth merging.
        self.decoder.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn raw_pending(&self) -> MutexGuard<'_, usize> {
        self.raw_pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The collector decoded a raw batch.
    fn raw_done(&self) {
        let mut pending = self.raw_pending();
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.raw_decoded.notify_one();
        }
    }

    /// The reading thread waits until the collector decoded every raw batch.
    fn wait_raw_decoded(&self) {
        let mut pending = self.raw_pending();
        while *pending > 0 {
            pending = self
                .raw_decoded
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The reading thread: reads frames and sends them in batches, decoded first when the
/// collector is busy, until the capture ends, an error stops the reader or the collector
/// is gone. Gives back the reader's summary and what stopped it.
fn read(
    mut reader: CaptureReader,
    shared: &Shared,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> (CaptureSummary, Option<CaptureError>) {
    let mut batch = Batch::default();
    // Decode here while the collector is the slower side: set when the queue to it is
    // full, cleared when it is found waiting several sends in a row (once: right after the
    // switch the queue is empty, and a collector that is slower still catches up at once).
    let mut decode_here = false;
    let mut found_waiting = 0u32;
    let mut send = |mut batch: Batch| -> bool {
        if decode_here {
            if shared.collector_waiting.load(Ordering::Acquire) {
                found_waiting += 1;
            } else {
                found_waiting = 0;
            }
            if found_waiting >= WAITS_BEFORE_RAW {
                decode_here = false;
                found_waiting = 0;
            }
        }
        if decode_here {
            // Frames are decoded in order: raw batches still queued go first.
            shared.wait_raw_decoded();
            batch.decode(&mut shared.decoder());
        } else {
            *shared.raw_pending() += 1;
        }
        match full.try_send(batch) {
            Ok(()) => true,
            Err(TrySendError::Full(batch)) => {
                decode_here = true;
                full.send(batch).is_ok()
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    };
    let stopped = loop {
        match reader.next_shared_frame() {
            Ok(Some((frame, block))) => {
                batch.push_frame(&frame, block);
                if batch.is_full() {
                    let next = empty.try_recv().unwrap_or_default();
                    if !send(std::mem::replace(&mut batch, next)) {
                        break None;
                    }
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    if !batch.is_empty() {
        send(batch);
    }
    (reader.into_summary(), stopped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use itlscope_gen::bench::{BenchConfig, Format, Mix, NoBoots, write_bench_capture};
    use std::path::Path;

    /// Every packet of the capture at `path`, decoded the plain way, as debug text.
    fn serial(path: &Path) -> Vec<String> {
        let mut reader = CaptureReader::open(path).expect("opens");
        let mut decoder = Decoder::new(DefragLimits::default());
        let mut out = Vec::new();
        while let Ok(Some(frame)) = reader.next_frame() {
            if let Decoded::Packet(p) = decoder.decode(&frame) {
                out.push(format!("{p:?}"));
            }
        }
        out
    }

    #[test]
    fn a_slow_then_fast_collector_gets_every_packet_in_order_from_both_sides() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("noise.pcap");
        let config = BenchConfig {
            size: 12_000_000,
            format: Format::Pcap,
            seed: 3,
            boots: 0,
            mix: Mix::TlsHeavy,
        };
        let file = std::fs::File::create(&path).expect("create");
        write_bench_capture(&config, &mut NoBoots, std::io::BufWriter::new(file)).expect("write");
        let expected = serial(&path);
        assert!(
            expected.len() > 20 * 1024,
            "enough packets for many batches"
        );

        // Slow for the first part (the queue fills: the reading side decodes), then fast
        // (the collector waits: batches come raw), then slow again.
        let mut seen = Vec::new();
        let reader = CaptureReader::open(&path).expect("opens");
        let split = each_packet(reader, DefragLimits::default(), |p| {
            let n = seen.len();
            if n < 6 * 1024 || (12 * 1024..16 * 1024).contains(&n) {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            seen.push(format!("{p:?}"));
        });
        assert!(split.decoded_batches > 0, "{split:?}");
        // The first batch is raw (the collector starts waiting); the fast part sends more.
        assert!(split.raw_batches > 2, "{split:?}");
        assert_eq!(seen.len(), expected.len());
        assert!(seen == expected, "the same packets in the same order");
        assert!(split.summary.truncated.is_none());
        assert!(split.summary.frames > 0);
    }
}
