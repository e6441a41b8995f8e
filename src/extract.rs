//! `itlscope extract`: writes the reassembled files and the TLS server certificates of one
//! or more captures into a directory, with an `index.json` describing them.
//!
//! File names come from the capture (a phone's request), so they are hostile input: every
//! path component is sanitised, `.`/`..` and empty components are dropped, nothing is ever
//! written outside the directory, existing files are never overwritten (a numbered name is
//! chosen instead), and incomplete files are written with a `.partial` suffix.

use crate::evidence::{FileTransfer, TlsSession};
use crate::report::evidence::certificate_json;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why an extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The index could not be rendered.
    #[error("cannot render index.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    /// Files written (complete and partial), relative to the directory.
    pub files: Vec<PathBuf>,
    /// Certificates written, relative to the directory.
    pub certificates: Vec<PathBuf>,
    /// The index file.
    pub index: PathBuf,
}

/// Longest path component written (bytes).
const MAX_COMPONENT: usize = 200;
/// Most path components kept from a requested name.
const MAX_DEPTH: usize = 8;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExtractError + '_ {
    move |source| ExtractError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes one path component safe: no separators, controls or characters Windows rejects,
/// never `.`/`..`, bounded length.
fn safe_component(c: &str) -> Option<String> {
    let mut s: String = c
        .chars()
        .map(|ch| {
            if ch.is_control() || "<>:\"|?*".contains(ch) {
                '_'
            } else {
                ch
            }
        })
        .collect();
    while s.len() > MAX_COMPONENT {
        s.pop();
    }
    let s = s.trim_end_matches([' ', '.']).to_string();
    (!s.is_empty() && s != "." && s != "..").then_some(s)
}

/// The relative path a requested name is written under.
pub fn safe_relative_path(name: &str) -> PathBuf {
    let parts: Vec<String> = name.split(['/', '\\']).filter_map(safe_component).collect();
    let keep = parts.len().saturating_sub(MAX_DEPTH);
    let mut p = PathBuf::new();
    for c in parts.iter().skip(keep) {
        p.push(c);
    }
    if p.as_os_str().is_empty() {
        p.push("unnamed");
    }
    p
}

/// `name` with `-n` inserted before its extensions: `SEP1.cnf.xml` → `SEP1-2.cnf.xml`.
fn numbered(path: &Path, n: usize) -> PathBuf {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match file.get(1..).and_then(|rest| rest.find('.')) {
        Some(i) => file.split_at(i + 1),
        None => (file.as_str(), ""),
    };
    path.with_file_name(format!("{stem}-{n}{ext}"))
}

/// Creates `dir/rel` (or a numbered variant) without overwriting anything; returns the
/// relative path used.
fn write_new(
    dir: &Path,
    rel: &Path,
    data: &[u8],
    taken: &mut HashSet<PathBuf>,
) -> Result<PathBuf, ExtractError> {
    // The name numbered variants are made from; flattened once if a parent clashes.
    let mut base = rel.to_path_buf();
    let mut candidate = base.clone();
    let mut n = 1usize;
    while n < 10_000 {
        if !taken.contains(&candidate) {
            let full = dir.join(&candidate);
            let parent_ok = full.parent().is_none_or(|p| fs::create_dir_all(p).is_ok());
            if parent_ok {
                match OpenOptions::new().write(true).create_new(true).open(&full) {
                    Ok(mut f) => {
                        f.write_all(data).map_err(io_err(&full))?;
                        taken.insert(candidate.clone());
                        return Ok(candidate);
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) if e.kind() == io::ErrorKind::IsADirectory => {}
                    Err(e) => {
                        return Err(ExtractError::Io {
                            path: full,
                            source: e,
                        });
                    }
                }
            } else if base.components().count() > 1 {
                // A parent component clashes with a file: flatten the name, and number
                // from the flat name from here on (the nested one can never be created).
                base = PathBuf::from(base.to_string_lossy().replace(['/', '\\'], "_"));
                candidate = base.clone();
                continue;
            }
        }
        n += 1;
        candidate = numbered(&base, n);
    }
    Err(ExtractError::Io {
        path: dir.join(rel),
        source: io::Error::other("too many files with this name"),
    })
}

/// Writes `files` and the server certificates of `tls` under `dir` (created if needed),
/// with `dir/index.json`.
pub fn write_extraction(
    files: &[FileTransfer],
    tls: &[TlsSession],
    dir: &Path,
) -> Result<Extraction, ExtractError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut taken: HashSet<PathBuf> = HashSet::from([PathBuf::from("index.json")]);
    let mut written_files = Vec::new();
    let mut file_index = Vec::new();
    for f in files {
        let path = if f.data.is_empty() && !f.complete {
            None
        } else {
            let mut rel = safe_relative_path(&f.name);
            if !f.complete {
                let name = rel
                    .file_name()
                    .map(|n| format!("{}.partial", n.to_string_lossy()))
                    .unwrap_or_default();
                rel.set_file_name(name);
            }
            let used = write_new(dir, &rel, &f.data, &mut taken)?;
            written_files.push(used.clone());
            Some(used)
        };
        // The index entry is the report's file object plus where it was written.
        let mut entry = crate::report::evidence::file_json(f);
        entry["path"] = json!(path.as_ref().map(|p| p.to_string_lossy().into_owned()));
        entry["bytes_written"] = json!(path.as_ref().map(|_| f.data.len()));
        entry["first_frame"] = json!(f.first.frame);
        file_index.push(entry);
    }
    let mut certs_written = Vec::new();
    let mut cert_index: Vec<Value> = Vec::new();
    let mut seen_certs: HashSet<&str> = HashSet::new();
    for s in tls {
        for c in &s.certificates {
            if !seen_certs.insert(c.sha1.as_str()) {
                continue;
            }
            let rel = PathBuf::from(format!("{}.der", c.sha1));
            let full = dir.join(&rel);
            // The name is the content's hash: an existing file of that name holds the same bytes.
            if !full.exists() {
                fs::write(&full, &c.der).map_err(io_err(&full))?;
            }
            certs_written.push(rel.clone());
            let mut v = certificate_json(c);
            if let Value::Object(m) = &mut v {
                m.insert("path".into(), json!(rel.to_string_lossy()));
                m.insert("server".into(), json!(s.server.to_string()));
                m.insert("port".into(), json!(s.server.port));
                m.insert("service".into(), json!(s.service));
                m.insert(
                    "first_frame".into(),
                    json!(s.certificate_seen.map(|x| x.frame)),
                );
            }
            cert_index.push(v);
        }
    }
    let index = dir.join("index.json");
    let body =
        serde_json::to_vec_pretty(&json!({ "files": file_index, "certificates": cert_index }))?;
    fs::write(&index, body).map_err(io_err(&index))?;
    Ok(Extraction {
        files: written_files,
        certificates: certs_written,
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape() {
        assert_eq!(
            safe_relative_path("../../etc/passwd"),
            PathBuf::from("etc/passwd")
        );
        assert_eq!(
            safe_relative_path("/ITLSEP1.tlv"),
            PathBuf::from("ITLSEP1.tlv")
        );
        assert_eq!(
            safe_relative_path("Desktops/320x196x4/List.xml"),
            PathBuf::from("Desktops/320x196x4/List.xml")
        );
        assert_eq!(
            safe_relative_path("..\\..\\win.ini"),
            PathBuf::from("win.ini")
        );
        assert_eq!(safe_relative_path("C:\\x"), PathBuf::from("C_/x"));
        assert_eq!(safe_relative_path(""), PathBuf::from("unnamed"));
        assert_eq!(safe_relative_path("a\0b"), PathBuf::from("a_b"));
        assert_eq!(safe_relative_path(".."), PathBuf::from("unnamed"));
    }

    #[test]
    fn a_file_in_the_way_of_a_directory_flattens_every_copy() {
        let dir = tempfile::tempdir().unwrap();
        let mut taken = HashSet::new();
        let x = write_new(dir.path(), Path::new("X"), b"x", &mut taken).unwrap();
        assert_eq!(x, PathBuf::from("X"));
        let mut used = Vec::new();
        for i in 0..4u8 {
            used.push(write_new(dir.path(), Path::new("X/Y.tlv"), &[i], &mut taken).unwrap());
        }
        assert_eq!(
            used,
            ["X_Y.tlv", "X_Y-2.tlv", "X_Y-3.tlv", "X_Y-4.tlv"].map(PathBuf::from)
        );
        for (i, p) in used.iter().enumerate() {
            assert_eq!(std::fs::read(dir.path().join(p)).unwrap(), [i as u8]);
        }
    }

    #[test]
    fn numbering_goes_before_extensions() {
        assert_eq!(
            numbered(Path::new("d/SEP1.cnf.xml"), 2),
            PathBuf::from("d/SEP1-2.cnf.xml")
        );
        assert_eq!(
            numbered(Path::new(".hidden"), 3),
            PathBuf::from(".hidden-3")
        );
        assert_eq!(numbered(Path::new("noext"), 2), PathBuf::from("noext-2"));
    }
}
