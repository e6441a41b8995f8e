//! PRT bundles (`probrep-YYYYMMDD-HHMMSS.tar.gz`) and other archives: gzip and tar, nested,
//! walked as streams. Their layout is not documented (phone-log-lines.md §3.3), so members are
//! recognised by content, not by name.
//!
//! Bounded whatever the archive claims: bytes decompressed per file (every level counted),
//! entries examined, nesting depth, and the size of a member kept; a member over a limit is
//! listed as skipped, never read whole.

use super::Limits;
use flate2::read::MultiGzDecoder;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// A text member to classify: its name inside the archive ("" for the file itself) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Member path, nested members joined with `!`; empty for a plain file.
    pub name: String,
    /// Its bytes (at most `Limits::max_member`).
    pub bytes: Vec<u8>,
}

/// The members found and what was left aside.
#[derive(Debug, Default)]
pub struct Walk {
    /// Members read.
    pub members: Vec<Member>,
    /// Members skipped, with why; limits reached; corruption met.
    pub skipped: Vec<String>,
    /// True when the file was an archive (gzip or tar) at its top.
    pub archive: bool,
}

/// gzip magic.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// POSIX/GNU tar magic at offset 257.
pub fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// Counts decompressed bytes against a budget shared by every level of one file.
struct Counted<R> {
    inner: R,
    left: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(io::Error::other("decompression limit reached"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left.set(left - n as u64);
        Ok(n)
    }
}

struct Walker<'l> {
    limits: &'l Limits,
    left: Rc<Cell<u64>>,
    entries: usize,
    out: Walk,
}

fn join(label: &str, name: &str) -> String {
    if label.is_empty() {
        name.to_string()
    } else {
        format!("{label}!{name}")
    }
}

impl Walker<'_> {
    // `dyn Read`: each level wraps the one below, which generics would instantiate forever.
    fn walk(&mut self, label: &str, r: &mut dyn Read, depth: usize, from_gz: bool) {
        let mut head = Vec::with_capacity(512);
        if let Err(e) = (&mut *r).take(512).read_to_end(&mut head) {
            self.out.skipped.push(format!("{}: {e}", shown(label)));
            return;
        }
        let gzip = is_gzip(&head);
        let tar = is_tar(&head);
        if (gzip || tar) && depth >= self.limits.max_depth {
            self.out.skipped.push(format!(
                "{}: archive nested deeper than {} levels",
                shown(label),
                self.limits.max_depth
            ));
            return;
        }
        if depth == 0 {
            self.out.archive = gzip || tar;
        }
        let mut rest = io::Cursor::new(head).chain(r);
        if gzip {
            let mut inner = Counted {
                inner: MultiGzDecoder::new(rest),
                left: self.left.clone(),
            };
            self.walk(label, &mut inner, depth + 1, true);
        } else if tar {
            self.walk_tar(label, &mut rest, depth);
        } else {
            // A gzip of one file is named without `.gz`; a `.tar.gz` keeps its name.
            let label = if from_gz {
                label.strip_suffix(".gz").unwrap_or(label)
            } else {
                label
            };
            self.keep(label, &mut rest);
        }
    }

    fn walk_tar(&mut self, label: &str, r: &mut dyn Read, depth: usize) {
        let mut archive = tar::Archive::new(r);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                self.out
                    .skipped
                    .push(format!("{}: not a readable tar ({e})", shown(label)));
                return;
            }
        };
        for entry in entries {
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                self.out.skipped.push(format!(
                    "limit: more than {} archive entries; the rest were not examined",
                    self.limits.max_entries
                ));
                return;
            }
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.out.skipped.push(format!(
                        "{}: corrupt tar ({e}); stopped there",
                        shown(label)
                    ));
                    return;
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = join(label, &String::from_utf8_lossy(&entry.path_bytes()));
            let size = entry.size();
            if size > self.limits.max_member.saturating_mul(64) {
                // Skipping still decompresses it; refuse absurd claims outright.
                self.out
                    .skipped
                    .push(format!("{name}: claims {size} bytes; stopped there"));
                return;
            }
            self.walk(&name, &mut entry, depth + 1, false);
            if self.left.get() == 0 {
                self.out.skipped.push(format!(
                    "limit: {} bytes decompressed; the rest was not examined",
                    self.limits.max_unpacked
                ));
                return;
            }
        }
    }

    fn keep(&mut self, label: &str, r: &mut dyn Read) {
        let max = self.limits.max_member;
        let mut bytes = Vec::new();
        match r.take(max + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > max => self.out.skipped.push(format!(
                "{}: larger than {max} bytes, not read",
                shown(label)
            )),
            Ok(_) => self.out.members.push(Member {
                name: label.to_string(),
                bytes,
            }),
            Err(e) => self.out.skipped.push(format!("{}: {e}", shown(label))),
        }
    }
}

fn shown(label: &str) -> &str {
    if label.is_empty() { "(file)" } else { label }
}

/// Walks `bytes`: a plain file gives one member named ""; gzip and tar are opened, nested
/// ones too, within `limits`.
pub fn walk(bytes: &[u8], limits: &Limits) -> Walk {
    let mut w = Walker {
        limits,
        left: Rc::new(Cell::new(limits.max_unpacked)),
        entries: 0,
        out: Walk::default(),
    };
    w.walk("", &mut &bytes[..], 0, false);
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn nested_archives_are_walked() {
        let inner = gz(&tar_of(&[("messages.1", b"old log")]));
        let outer = gz(&tar_of(&[
            ("logs/messages", b"log text"),
            ("logs/messages.0.gz", &gz(b"rotated")),
            ("logs/old.tar.gz", &inner),
        ]));
        let w = walk(&outer, &Limits::default());
        assert!(w.archive);
        let names: Vec<&str> = w.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "logs/messages",
                "logs/messages.0",
                "logs/old.tar.gz!messages.1"
            ]
        );
        assert_eq!(w.members[1].bytes, b"rotated");
        assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    }

    #[test]
    fn plain_files_are_one_member() {
        let w = walk(b"hello", &Limits::default());
        assert!(!w.archive);
        assert_eq!(
            w.members,
            [Member {
                name: String::new(),
                bytes: b"hello".to_vec()
            }]
        );
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        // 64 MiB of zeros compress to ~64 KiB.
        let zeros = vec![0u8; 64 << 20];
        let bomb = gz(&tar_of(&[("big.log", &zeros), ("after.log", b"x")]));
        assert!(bomb.len() < 1 << 20);
        let limits = Limits {
            max_unpacked: 1 << 20,
            max_member: 1 << 20,
            ..Limits::default()
        };
        let w = walk(&bomb, &limits);
        assert!(w.members.is_empty());
        assert!(
            w.skipped.iter().any(|s| s.contains("big.log")),
            "{:?}",
            w.skipped
        );
    }

    #[test]
    fn entry_count_and_depth_are_bounded() {
        let many: Vec<(String, Vec<u8>)> = (0..50).map(|i| (format!("f{i}"), vec![b'a'])).collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        let w = walk(&tar_of(&refs), &limits);
        assert_eq!(w.members.len(), 10);
        assert!(w.skipped.iter().any(|s| s.contains("more than 10")));

        let mut nested = b"deep".to_vec();
        for _ in 0..12 {
            nested = gz(&nested);
        }
        let w = walk(&nested, &Limits::default());
        assert!(w.members.is_empty());
        assert!(w.skipped.iter().any(|s| s.contains("nested deeper")));
    }

    #[test]
    fn corrupt_gzip_is_reported_not_fatal() {
        let mut bad = gz(&tar_of(&[("a.log", b"text")]));
        let n = bad.len();
        bad.truncate(n / 2);
        let w = walk(&bad, &Limits::default());
        assert!(!w.skipped.is_empty());
    }
}
