//! One capture on two threads: a thread of its own reads frames and sends them in batches
//! ([`Batch`]); the caller's thread takes the packets. Decoding goes to whichever side has
//! time for it: every few batches the reading thread compares how long it waited on a full
//! queue with how long the collector waited for batches, and decodes while it is the one
//! that waits more.
//! Frames are decoded in file order whoever decodes them: the reading thread waits for
//! raw batches still queued to be decoded before it decodes again.

use super::handoff::Batch;
use crate::capture::{CaptureError, CaptureReader};
use crate::evidence::CaptureSummary;
#[cfg(test)]
use crate::net::DefragLimits;
use crate::net::{Decoded, Decoder, Packet, merge_decoder};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

/// The collecting side's end of the hand-over. Dropped while `each` unwinds from a
/// panic, it tells the reading thread the collector is gone (no wait for raw batches to be
/// decoded, no room ever freed in the queue) and waits for that thread to end, so no
/// thread is left waiting on a dead peer.
struct CollectorEnd {
    full_rx: Option<Receiver<Batch>>,
    shared: Arc<Shared>,
    reading: Option<std::thread::JoinHandle<(CaptureSummary, Option<CaptureError>)>>,
}

impl Drop for CollectorEnd {
    fn drop(&mut self) {
        self.shared.collector_gone();
        // Closing the queue makes a blocked or later send fail: the reader stops there.
        drop(self.full_rx.take());
        if let Some(reading) = self.reading.take() {
            // Its own panic is already reported by the hook; nothing to add here.
            let _ = reading.join();
        }
    }
}

/// Reads `reader` to its end on a second thread and calls `each` with every packet, in
/// frame order, on this one. A panic in `each` unwinds out of here after the reading
/// thread has stopped (see [`CollectorEnd`]).
#[cfg(test)]
pub(super) fn each_packet(
    reader: CaptureReader,
    defrag: DefragLimits,
    each: impl FnMut(&Packet<'_>),
) -> Split {
    each_packet_with(reader, Decoder::new(defrag), each)
}

/// [`each_packet`] with a decoder made by the caller (one charged to the capture's memory
/// budget).
pub(super) fn each_packet_with(
    reader: CaptureReader,
    decoder: Decoder,
    mut each: impl FnMut(&Packet<'_>),
) -> Split {
    let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES_AHEAD);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES_AHEAD + 2);
    let shared = Arc::new(Shared {
        decoder: Mutex::new(decoder),
        collector_idle: AtomicU64::new(0),
        raw_pending: Mutex::new(0),
        raw_decoded: Condvar::new(),
        collector_gone: AtomicBool::new(false),
    });
    let reading = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || read(reader, &shared, &full_tx, &empty_rx))
    };
    let mut end = CollectorEnd {
        full_rx: Some(full_rx),
        shared: Arc::clone(&shared),
        reading: Some(reading),
    };
    let (mut raw_batches, mut decoded_batches) = (0, 0);
    loop {
        let waiting = Instant::now();
        let Some(Ok(mut batch)) = end.full_rx.as_ref().map(Receiver::recv) else {
            break;
        };
        shared.idled(waiting);
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
    let joined = end.reading.take().map(std::thread::JoinHandle::join);
    drop(end);
    let mut summary = match joined {
        Some(Ok((mut summary, stopped))) => {
            if let Some(e) = stopped {
                summary.truncated = Some(e.to_string());
            }
            summary
        }
        // Not expected (reading does not panic on input); the packets taken up to there
        // stand, and the summary says the capture was not read to its end.
        Some(Err(_)) | None => CaptureSummary {
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

/// Batches per look at which side waits more (one to two milliseconds).
const WINDOW: u32 = 32;

/// What the two threads of [`each_packet`] share.
struct Shared {
    /// Used by one side at a time, in frame order (see `raw_pending`).
    decoder: Mutex<Decoder>,
    /// Nanoseconds the collector spent waiting for batches: time it has to decode.
    collector_idle: AtomicU64,
    /// Raw batches sent and not yet decoded by the collector: while there are some, the
    /// reading thread must not decode (it would decode later frames before earlier ones).
    raw_pending: Mutex<usize>,
    /// Signalled when `raw_pending` falls to zero or the collector is gone.
    raw_decoded: Condvar,
    /// The collecting side stopped (a panic in its closure): nothing waits for it any more.
    collector_gone: AtomicBool,
}

impl Shared {
    /// The collector waited since `since`.
    fn idled(&self, since: Instant) {
        let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.collector_idle.fetch_add(ns, Ordering::Relaxed);
    }

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

    /// The collecting side is gone: wakes the reading thread if it waits for it.
    fn collector_gone(&self) {
        // Set under the lock the waiter checks it with, so the wake-up cannot be missed.
        let _pending = self.raw_pending();
        self.collector_gone.store(true, Ordering::Release);
        self.raw_decoded.notify_all();
    }

    /// The reading thread waits until the collector decoded every raw batch (or is gone).
    fn wait_raw_decoded(&self) {
        let mut pending = self.raw_pending();
        while *pending > 0 && !self.collector_gone.load(Ordering::Acquire) {
            pending = self
                .raw_decoded
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// What each side waited during the last few batches.
struct Window {
    batches: u32,
    started: Instant,
    /// The collector's waiting total when the window started.
    collector_idle_at_start: u64,
    /// This thread's waiting on a full queue during the window.
    reader_idle: Duration,
}

impl Window {
    fn start(shared: &Shared) -> Self {
        Window {
            batches: 0,
            started: Instant::now(),
            collector_idle_at_start: shared.collector_idle.load(Ordering::Relaxed),
            reader_idle: Duration::ZERO,
        }
    }

    /// Counts a batch; at the end of a window, whether this thread should decode (`None`:
    /// neither side waited much more than the other, keep as is).
    fn count(&mut self, shared: &Shared) -> Option<bool> {
        self.batches += 1;
        if self.batches < WINDOW {
            return None;
        }
        let collector = Duration::from_nanos(
            shared
                .collector_idle
                .load(Ordering::Relaxed)
                .saturating_sub(self.collector_idle_at_start),
        );
        let reader = self.reader_idle;
        let elapsed = self.started.elapsed();
        *self = Window::start(shared);
        who_decodes(reader, collector, elapsed)
    }
}

/// Whether the reading thread should decode, from what each side waited during a window
/// of `elapsed`; `None` to keep the current choice. Less than a quarter of the window is
/// noise, or a phase too short to pay for the switch; handing decoding back to the
/// collector takes half, as taking it again later costs a drained queue.
fn who_decodes(reader: Duration, collector: Duration, elapsed: Duration) -> Option<bool> {
    if reader > collector + elapsed / 4 {
        Some(true)
    } else if collector > reader + elapsed / 2 {
        Some(false)
    } else {
        None
    }
}

/// The reading thread: reads frames and sends them in batches, decoded first while the
/// collector is the slower side, until the capture ends, an error stops the reader or the
/// collector is gone. Gives back the reader's summary and what stopped it.
fn read(
    mut reader: CaptureReader,
    shared: &Shared,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> (CaptureSummary, Option<CaptureError>) {
    let mut batch = Batch::default();
    // Which side waits more decides who decodes: this thread while it waits on a full
    // queue more than the collector waits for batches, the collector in the opposite case,
    // looked at every WINDOW batches; in between (both busy) nothing changes.
    let mut decode_here = false;
    let mut window = Window::start(shared);
    let mut send = |mut batch: Batch| -> bool {
        if let Some(decode) = window.count(shared)
            && decode != decode_here
        {
            decode_here = decode;
            if decode {
                // Frames are decoded in order: raw batches still queued go first. The
                // collector runs dry meanwhile: the next window starts after it.
                shared.wait_raw_decoded();
                window = Window::start(shared);
            }
        }
        if decode_here {
            batch.decode(&mut shared.decoder());
        } else {
            *shared.raw_pending() += 1;
        }
        match full.try_send(batch) {
            Ok(()) => true,
            Err(TrySendError::Full(batch)) => {
                let waiting = Instant::now();
                let sent = full.send(batch).is_ok();
                window.reader_idle += waiting.elapsed();
                sent
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
    use crate::capture::Timestamp;
    use crate::net::Transport;
    use itlscope_gen::bench::{BenchConfig, Format, Mix, NoBoots, write_bench_capture};
    use std::net::IpAddr;
    use std::path::Path;

    /// What identifies a packet, cheap enough not to slow the "fast" collector: its frame,
    /// time, addresses, transport header and the ends of its payload.
    type Print = (u64, Timestamp, IpAddr, IpAddr, [u32; 4], usize, [u8; 16]);

    fn fingerprint(p: &Packet<'_>) -> Print {
        let (header, payload) = match p.transport {
            Transport::Tcp(seg) => (
                [
                    u32::from(seg.src_port),
                    u32::from(seg.dst_port),
                    seg.seq,
                    seg.ack,
                ],
                seg.payload,
            ),
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => ([u32::from(src_port), u32::from(dst_port), 0, 0], payload),
            Transport::Other { protocol, payload } => ([u32::from(protocol), 0, 0, 0], payload),
        };
        let mut ends = [0u8; 16];
        for (to, from) in ends
            .iter_mut()
            .zip(payload.iter().take(8).chain(payload.iter().rev().take(8)))
        {
            *to = *from;
        }
        (p.frame, p.ts, p.src, p.dst, header, payload.len(), ends)
    }

    /// Every packet of the capture at `path`, decoded the plain way.
    fn serial(path: &Path) -> Vec<Print> {
        let mut reader = CaptureReader::open(path).expect("opens");
        let mut decoder = Decoder::new(DefragLimits::default());
        let mut out = Vec::new();
        while let Ok(Some(frame)) = reader.next_frame() {
            if let Decoded::Packet(p) = decoder.decode(&frame) {
                out.push(fingerprint(&p));
            }
        }
        out
    }

    #[test]
    fn a_slow_then_fast_collector_gets_every_packet_in_order_from_both_sides() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("noise.pcap");
        let config = BenchConfig {
            size: 100_000_000,
            format: Format::Pcap,
            seed: 3,
            boots: 0,
            mix: Mix::TlsHeavy,
        };
        let file = std::fs::File::create(&path).expect("create");
        write_bench_capture(&config, &mut NoBoots, std::io::BufWriter::new(file)).expect("write");
        let expected = serial(&path);
        let batch = 1024;
        let windows = expected.len() / (WINDOW as usize * batch);
        assert!(
            windows >= 6,
            "enough packets for several windows: {windows}"
        );

        // Slow for two windows (the queue fills, the reading side waits: it takes the
        // decoding), then fast for two (the collector waits: batches come raw again), then
        // slow again.
        let window = WINDOW as usize * batch;
        let slow = |n: usize| n < 2 * window || (4 * window..5 * window).contains(&n);
        let mut seen = Vec::with_capacity(expected.len());
        let reader = CaptureReader::open(&path).expect("opens");
        let split = each_packet(reader, DefragLimits::default(), |p| {
            let n = seen.len();
            if slow(n) && n % batch == 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            seen.push(fingerprint(p));
        });
        // The slow collector made the reading side decode. (Whether the fast part handed
        // decoding back depends on the collector getting a core while other tests run:
        // `the_side_that_waits_more_decodes` checks that rule without the clock.)
        assert!(split.decoded_batches > 0, "{split:?}");
        assert!(split.raw_batches > 0, "{split:?}");
        assert_eq!(seen.len(), expected.len());
        assert!(seen == expected, "the same packets in the same order");
        assert!(split.summary.truncated.is_none());
        assert!(split.summary.frames > 0);
    }

    /// The capture's bytes, telling when they are dropped: when the reading thread has
    /// ended (it owns the reader).
    struct DropSignal {
        inner: std::io::Cursor<Vec<u8>>,
        dropped: std::sync::mpsc::Sender<()>,
    }

    impl std::io::Read for DropSignal {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::io::Read::read(&mut self.inner, buf)
        }
    }

    impl Drop for DropSignal {
        fn drop(&mut self) {
            let _ = self.dropped.send(());
        }
    }

    /// Runs `each_packet` over `bytes` on a thread of its own with a collector that panics
    /// at packet `at`. True when the panic came back out of `each_packet` and the reading
    /// thread ended; false when either did not happen within 30 s (a thread waiting forever
    /// on the dead collector). The 30 s is only the failure signal, not a timing claim.
    fn panicking_collector(bytes: &[u8], at: usize) -> bool {
        let (unwound_tx, unwound_rx) = std::sync::mpsc::channel();
        let (dropped_tx, dropped_rx) = std::sync::mpsc::channel();
        let input = DropSignal {
            inner: std::io::Cursor::new(bytes.to_vec()),
            dropped: dropped_tx,
        };
        let reader = CaptureReader::from_reader("noise.pcap", Box::new(input)).expect("opens");
        std::thread::spawn(move || {
            let mut n = 0;
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                each_packet(reader, DefragLimits::default(), |_| {
                    n += 1;
                    // Slow, so the queue fills and the reading side takes the decoding at
                    // the end of its first window (32 batches), waiting for the raw
                    // batches still queued: a panic then leaves it waiting on the dead.
                    if n % 256 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    assert!(n != at, "injected collector panic at packet {at}");
                });
            }))
            .is_err();
            let _ = unwound_tx.send(unwound);
        });
        let wait = Duration::from_secs(30);
        unwound_rx.recv_timeout(wait) == Ok(true) && dropped_rx.recv_timeout(wait).is_ok()
    }

    #[test]
    fn a_collector_panic_mid_batch_stops_the_reading_thread_instead_of_hanging() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("noise.pcap");
        let config = BenchConfig {
            size: 40_000_000,
            format: Format::Pcap,
            seed: 5,
            boots: 0,
            mix: Mix::TlsHeavy,
        };
        let file = std::fs::File::create(&path).expect("create");
        write_bench_capture(&config, &mut NoBoots, std::io::BufWriter::new(file)).expect("write");
        let bytes = std::fs::read(&path).expect("read back");
        // First packet, early mid-batch, while the reading side waits for the raw batches
        // of its first window (batches 27-31 of 1,024 frames), and late.
        let (_, summary) = {
            let reader = CaptureReader::from_reader(
                "noise.pcap",
                Box::new(std::io::Cursor::new(bytes.clone())),
            )
            .expect("opens");
            let split = each_packet(reader, DefragLimits::default(), |_| {});
            ((), split.summary)
        };
        assert!(summary.frames > 45_000, "{}", summary.frames);
        for at in [1, 1500, 27_500, 28_500, 29_500, 30_500, 40_000] {
            assert!(
                panicking_collector(&bytes, at),
                "panic at packet {at}: the collector's panic comes back, the reader ends"
            );
        }
    }

    #[test]
    fn a_reader_waiting_for_raw_batches_is_released_when_the_collector_is_gone() {
        let shared = Arc::new(Shared {
            decoder: Mutex::new(Decoder::new(DefragLimits::default())),
            collector_idle: AtomicU64::new(0),
            raw_pending: Mutex::new(2),
            raw_decoded: Condvar::new(),
            collector_gone: AtomicBool::new(false),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                shared.wait_raw_decoded();
                let _ = tx.send(());
            })
        };
        // Two raw batches the collector will never decode.
        shared.collector_gone();
        assert!(rx.recv_timeout(Duration::from_secs(30)).is_ok());
        assert!(waiter.join().is_ok());
    }

    #[test]
    fn the_side_that_waits_more_decodes() {
        let ms = Duration::from_millis;
        // The reading thread waited on a full queue: the collector is behind.
        assert_eq!(who_decodes(ms(5), ms(0), ms(10)), Some(true));
        // The collector waited for batches most of the window: it has time to decode.
        assert_eq!(who_decodes(ms(0), ms(6), ms(10)), Some(false));
        // Not by enough to pay for a switch back (it drains the queue): keep as is.
        assert_eq!(who_decodes(ms(0), ms(4), ms(10)), None);
        assert_eq!(who_decodes(ms(2), ms(0), ms(10)), None);
        // Both busy: keep as is.
        assert_eq!(who_decodes(ms(0), ms(0), ms(10)), None);
    }
}
