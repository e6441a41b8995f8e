//! The byte source under the capture parser: a file or standard input, transparently
//! gunzipped, whose first read is filled (pcap-parser decides the format from one `read()`,
//! and a pipe may return only a few bytes), and which keeps the last I/O error for the
//! reader to report (pcap-parser only says "read error").

use flate2::read::MultiGzDecoder;
use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many bytes are peeked to recognise gzip and to quote in "not a capture" errors.
pub(crate) const PEEK_LEN: usize = 16;

/// The last I/O error seen by an [`Input`], shared with the reader that owns it.
pub(crate) type ErrorSlot = Arc<Mutex<Option<io::Error>>>;

/// Set when a gzip stream ended without its end marker (a compressed capture cut short).
pub(crate) type GzipCut = Arc<AtomicBool>;

/// A prepared input: the stream to parse, its first bytes, and whether it was gzip.
pub(crate) struct Prepared {
    /// The stream, positioned at its start.
    pub input: Input,
    /// Up to [`PEEK_LEN`] first bytes of the (decompressed) stream.
    pub first_bytes: Vec<u8>,
    /// True when the file was gzip-compressed.
    pub gzip: bool,
    /// Where read errors are recorded.
    pub errors: ErrorSlot,
    /// Whether the gzip stream was cut short (read up to the cut).
    pub gzip_cut: GzipCut,
    /// Bytes the stream has delivered so far (to tell a file cut inside its header).
    pub delivered: Arc<AtomicU64>,
}

/// flate2 reports a compressed stream that stops early as an `UnexpectedEof` error, which
/// would end the capture as unreadable; this ends it as a cut instead, so the capture is
/// read up to the cut like an uncompressed one.
struct CutTolerant {
    inner: Box<dyn Read + Send>,
    cut: GzipCut,
}

impl Read for CutTolerant {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.cut.store(true, Ordering::Relaxed);
                Ok(0)
            }
            other => other,
        }
    }
}

/// Reads up to `buf.len()` bytes, looping over short reads; returns how many were read
/// (fewer only at end of stream).
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(space) = buf.get_mut(filled..) else {
            break;
        };
        match r.read(space) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Peeks the first bytes of `raw`, wraps it in a gzip decoder when it starts with the gzip
/// magic, and returns a stream that yields every byte from the start.
pub(crate) fn prepare(mut raw: Box<dyn Read + Send>) -> io::Result<Prepared> {
    let mut head = vec![0u8; PEEK_LEN];
    let n = read_full(&mut raw, &mut head)?;
    head.truncate(n);
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let mut stream: Box<dyn Read + Send> = Box::new(Cursor::new(head.clone()).chain(raw));
    let gzip_cut = GzipCut::default();
    if gzip {
        let mut decoder: Box<dyn Read + Send> = Box::new(CutTolerant {
            inner: Box::new(MultiGzDecoder::new(stream)),
            cut: Arc::clone(&gzip_cut),
        });
        let mut inner = vec![0u8; PEEK_LEN];
        let n = read_full(&mut decoder, &mut inner)?;
        inner.truncate(n);
        head = inner.clone();
        stream = Box::new(Cursor::new(inner).chain(decoder));
    }
    let errors = ErrorSlot::default();
    let delivered = Arc::new(AtomicU64::new(0));
    Ok(Prepared {
        input: Input {
            inner: stream,
            fill_next: true,
            errors: Arc::clone(&errors),
            delivered: Arc::clone(&delivered),
        },
        first_bytes: head,
        gzip,
        errors,
        gzip_cut,
        delivered,
    })
}

/// The stream handed to pcap-parser.
pub(crate) struct Input {
    inner: Box<dyn Read + Send>,
    /// Fill the next read completely (set for the first read, which decides the format).
    fill_next: bool,
    errors: ErrorSlot,
    delivered: Arc<AtomicU64>,
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = if std::mem::take(&mut self.fill_next) {
            read_full(&mut self.inner, buf)
        } else {
            loop {
                match self.inner.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            }
        };
        match &result {
            Ok(n) => {
                self.delivered.fetch_add(*n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                if let Ok(mut slot) = self.errors.lock() {
                    *slot = Some(io::Error::new(e.kind(), e.to_string()));
                }
            }
        }
        result
    }
}

/// Takes the recorded error, or a generic one when none was recorded.
pub(crate) fn take_error(slot: &ErrorSlot) -> io::Error {
    slot.lock()
        .ok()
        .and_then(|mut s| s.take())
        .unwrap_or_else(|| io::Error::other("read failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A reader that returns at most `chunk` bytes per call, like a pipe.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let rest = self.data.get(self.pos..).unwrap_or_default();
            let n = rest.len().min(self.chunk).min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn first_read_is_filled_even_from_a_trickling_pipe() {
        let data: Vec<u8> = (0..100u8).collect();
        let p = prepare(Box::new(Trickle {
            data: data.clone(),
            pos: 0,
            chunk: 3,
        }))
        .unwrap();
        assert_eq!(p.first_bytes, &data[..PEEK_LEN]);
        let mut input = p.input;
        let mut buf = [0u8; 64];
        assert_eq!(input.read(&mut buf).unwrap(), 64);
        assert_eq!(&buf[..], &data[..64]);
        // Later reads are single reads.
        assert_eq!(input.read(&mut buf).unwrap(), 3);
    }

    #[test]
    fn gzip_is_decompressed_transparently() {
        let plain: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&plain).unwrap();
        let gz = enc.finish().unwrap();
        let p = prepare(Box::new(Cursor::new(gz))).unwrap();
        assert!(p.gzip);
        assert_eq!(p.first_bytes, &plain[..PEEK_LEN]);
        let mut out = Vec::new();
        let mut input = p.input;
        input.read_to_end(&mut out).unwrap();
        assert_eq!(out, plain);
    }
}
