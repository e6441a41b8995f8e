//! Progress bars on standard error while captures are read: bytes read, rate and ETA.
//!
//! Drawn only when standard error is a terminal and the input is a regular file of at least
//! [`MIN_BAR_BYTES`]; silent otherwise (pipes, standard input, redirected stderr, small
//! files). The bar counts the bytes the capture reader pulls from the file by wrapping its
//! `Read`, so nothing is done per packet: one counter update per buffer refill (1 MiB by
//! default), and indicatif redraws at most 20 times a second.

use crate::capture::{CaptureError, CaptureReader, ReaderOptions};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;

/// Files smaller than this get no bar: they are read in well under a second (hundreds of
/// MB/s, docs/performance.md), so a bar would only flash on the terminal.
pub const MIN_BAR_BYTES: u64 = 32 << 20;

/// Where progress bars go: one line per open capture on stderr, or nowhere (the default).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    multi: Option<MultiProgress>,
    /// Files smaller than this get no bar.
    min_bytes: u64,
}

impl Progress {
    /// Bars on stderr when it is a terminal; silent otherwise.
    pub fn stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Progress {
                multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
                min_bytes: MIN_BAR_BYTES,
            }
        } else {
            Progress::silent()
        }
    }

    /// No bars at all.
    pub fn silent() -> Self {
        Progress {
            multi: None,
            min_bytes: 0,
        }
    }

    /// Bars that are tracked but never drawn (for tests).
    pub fn hidden() -> Self {
        Progress {
            multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::hidden())),
            min_bytes: 0,
        }
    }

    /// Opens a capture like [`CaptureReader::open_with`]; when bars are on and `path` is a
    /// regular file (not `-`), the reader's input is counted into a bar sized to the file.
    pub fn open(
        &self,
        path: &Path,
        options: ReaderOptions,
    ) -> Result<(CaptureReader, FileProgress), CaptureError> {
        let Some(multi) = &self.multi else {
            return Ok((CaptureReader::open_with(path, options)?, FileProgress(None)));
        };
        if path == Path::new("-") {
            return Ok((CaptureReader::open_with(path, options)?, FileProgress(None)));
        }
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: name.clone(),
            source,
        })?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        // A small file is read in a fraction of a second: a bar would only flash.
        let Some(size) = size.filter(|&s| s >= self.min_bytes) else {
            return Ok((
                CaptureReader::from_reader_with(&name, Box::new(file), options)?,
                FileProgress(None),
            ));
        };
        let bar = multi.add(ProgressBar::new(size));
        bar.set_style(style());
        bar.set_message(short_name(path));
        let reader =
            CaptureReader::from_reader_with(&name, Box::new(bar.wrap_read(file)), options)?;
        Ok((reader, FileProgress(Some(bar))))
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg:20!} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn short_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The bar of one capture (or none); cleared from the terminal when dropped.
#[derive(Debug)]
pub struct FileProgress(Option<ProgressBar>);

impl FileProgress {
    /// Bytes counted so far (None when no bar is shown).
    pub fn position(&self) -> Option<u64> {
        self.0.as_ref().map(|b| b.position())
    }

    /// The file size the bar counts towards (None when no bar is shown).
    pub fn length(&self) -> Option<u64> {
        self.0.as_ref().and_then(|b| b.length())
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn small_capture() -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        // Legacy pcap, Ethernet, three 60-byte frames.
        let mut bytes = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for i in 0..3u32 {
            for v in [1_700_000_000 + i, 0, 60, 60] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.extend_from_slice(&[0u8; 60]);
        }
        file.write_all(&bytes).expect("write");
        file
    }

    fn read_all(reader: &mut CaptureReader) -> u64 {
        let mut frames = 0;
        while let Ok(Some(_)) = reader.next_frame() {
            frames += 1;
        }
        frames
    }

    #[test]
    fn a_bar_counts_every_byte_of_the_file() {
        let file = small_capture();
        let (mut reader, bar) = Progress::hidden()
            .open(file.path(), ReaderOptions::default())
            .expect("opens");
        assert_eq!(read_all(&mut reader), 3);
        let len = std::fs::metadata(file.path()).expect("meta").len();
        assert_eq!(bar.length(), Some(len));
        assert_eq!(bar.position(), Some(len));
    }

    #[test]
    fn silent_progress_reads_the_same_frames_without_a_bar() {
        let file = small_capture();
        let (mut reader, bar) = Progress::silent()
            .open(file.path(), ReaderOptions::default())
            .expect("opens");
        assert_eq!(read_all(&mut reader), 3);
        assert_eq!(bar.position(), None);
    }

    #[test]
    fn open_errors_name_the_file() {
        let err = Progress::hidden()
            .open(Path::new("/nonexistent/x.pcap"), ReaderOptions::default())
            .expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/x.pcap"), "{err}");
    }
}
