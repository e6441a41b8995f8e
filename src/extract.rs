//! `itlscope extract`: writes the reassembled files and the TLS server certificates of one
//! or more captures into a directory, with an `index.json` describing them.
//!
//! File names come from the capture (a phone's request), so they are hostile input: every
//! path component is sanitised, `.`/`..` and empty components are dropped, nothing is ever
//! written outside the directory, existing files are never overwritten (a numbered name is
//! chosen instead), and incomplete files are written with a `.partial` suffix.

use crate::evidence::{FileTransfer, TlsSession};
use crate::report::evidence::{CertificateJson, FileJson};
use schemars::JsonSchema;
use serde::Serialize;
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

/// Version of the index.json layout. It shares the file and certificate objects of
/// `analyze --json`, so it shares that report's version.
pub const INDEX_SCHEMA_VERSION: u32 = crate::report::json::SCHEMA_VERSION;

/// `index.json` (schema: docs/schema/extract-index.schema.json).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "itlscope extract index.json")]
pub struct Index<'a> {
    /// Version of this layout; bumped when a field changes meaning.
    #[schemars(extend("const" = INDEX_SCHEMA_VERSION))]
    pub schema_version: u32,
    /// Every file transfer, written or not.
    pub files: Vec<IndexFile<'a>>,
    /// Every distinct server certificate, written as `<sha1>.der`.
    pub certificates: Vec<IndexCertificate<'a>>,
}

/// One file transfer: the report's file object and where it was written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IndexFile<'a> {
    /// The report's file object.
    #[serde(flatten)]
    pub file: FileJson<'a>,
    /// Where it was written, relative to the directory (`.partial` when incomplete); null
    /// when no byte was captured.
    pub path: Option<String>,
    /// Bytes written.
    pub bytes_written: Option<u64>,
    /// Frame of the request.
    pub first_frame: u64,
}

/// One server certificate: the report's certificate object and where it was seen.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IndexCertificate<'a> {
    /// The report's certificate object.
    #[serde(flatten)]
    pub certificate: CertificateJson<'a>,
    /// Where it was written, relative to the directory.
    pub path: String,
    /// The server that presented it first, `ip:port`.
    pub server: String,
    /// That server's port.
    pub port: u16,
    /// The TLS service label of that port.
    pub service: Option<&'a str>,
    /// Frame of the Certificate message.
    pub first_frame: Option<u64>,
}

/// The JSON Schema of index.json (docs/schema/extract-index.schema.json).
pub fn index_schema() -> schemars::Schema {
    schemars::schema_for!(Index<'static>)
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
        file_index.push(IndexFile {
            bytes_written: path
                .as_ref()
                .map(|_| u64::try_from(f.data.len()).unwrap_or(u64::MAX)),
            path: path.map(|p| p.to_string_lossy().into_owned()),
            first_frame: f.first.frame,
            file: FileJson::from(f),
        });
    }
    let mut certs_written = Vec::new();
    let mut cert_index = Vec::new();
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
            cert_index.push(IndexCertificate {
                certificate: CertificateJson::from(&**c),
                path: rel.to_string_lossy().into_owned(),
                server: s.server.to_string(),
                port: s.server.port,
                service: s.service.as_deref(),
                first_frame: s.certificate_seen.map(|x| x.frame),
            });
            certs_written.push(rel);
        }
    }
    let index = dir.join("index.json");
    let mut body = serde_json::to_vec_pretty(&Index {
        schema_version: INDEX_SCHEMA_VERSION,
        files: file_index,
        certificates: cert_index,
    })?;
    body.push(b'\n');
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
