//! `analyze --annotate OUT.pcapng`: a copy of the capture with pcapng packet comments on the
//! frames that matter (each phone's timeline: requests, completed files, TVS certificates,
//! alerts, alarms) and the verdict on the phone's last frame, so the engineer sees in
//! Wireshark what itlscope concluded (`frame.comment`). Every frame is written as read:
//! same bytes, same length on the wire, same time; only the framing becomes pcapng.
//!
//! pcapng blocks (draft-ietf-opsawg-pcapng): a Section Header Block, one Interface
//! Description Block per interface met (nanosecond resolution, `if_tsresol` = 9), then one
//! Enhanced Packet Block per frame with its comments as `opt_comment` options. No crate in
//! the tree writes pcapng with options, and the layout is a handful of length-prefixed
//! blocks.

use crate::capture::{CaptureError, CaptureReader};
use crate::diagnosis::Diagnosis;
use crate::diagnosis::model::{PhoneDiagnosis, Status};
use std::collections::HashMap;
use std::io::Write;

/// The comments for one capture: frame number → lines.
pub type Comments = HashMap<u64, Vec<String>>;

/// Comments for capture `capture` (its index in the evidence), per phone: every timeline
/// event; what each failing or undecided check rests on at that frame (a TVS certificate not in the phone's ITL,
/// the served ITL's hashes); the served ITL's signer and whether the phone accepts it and its
/// config (the trust path); the ITL hash a DeviceTLInfo alarm reports; and the verdict on the
/// phone's last timeline frame. A line already on a frame is not repeated.
pub fn comments(diagnosis: &Diagnosis, capture: usize) -> Comments {
    let mut out: Comments = HashMap::new();
    for p in &diagnosis.phones {
        add_comments(&mut out, p, capture);
    }
    out
}

/// Adds one phone's comments for capture `capture` to `out` ([`comments`] phone by phone:
/// a fleet's diagnoses need not be held at once, issue 20).
pub fn add_comments(out: &mut Comments, p: &PhoneDiagnosis, capture: usize) {
    {
        let name = super::text::phone_name(p);
        let mut put = |frame: u64, line: String| {
            let lines = out.entry(frame).or_default();
            let line = format!("itlscope {name}: {line}");
            if !lines.contains(&line) {
                lines.push(line);
            }
        };
        let mut last = None;
        let mut said: Vec<(u64, &str)> = Vec::new();
        for e in p.timeline.iter().filter(|e| e.capture == capture) {
            put(e.frame, e.what.clone());
            said.push((e.frame, e.what.as_str()));
            last = Some(last.map_or(e.frame, |l: u64| l.max(e.frame)));
        }
        // What a failing or undecided check rests on; passing ones are said by the lines
        // above and below (the download, the served ITL's hashes).
        let problems = p
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Unknown));
        for check in problems {
            for item in &check.evidence {
                let (Some(c), Some(frame)) = (item.capture, item.frame) else {
                    continue;
                };
                // The timeline already says it in the same words (a request, a download).
                if c != capture || said.iter().any(|&(f, w)| f == frame && w == item.detail) {
                    continue;
                }
                put(
                    frame,
                    format!("{} {}: {}", check.id, check.status.as_str(), item.detail),
                );
            }
        }
        if let Some(itl) = p.served_itl.as_ref().filter(|i| i.capture == capture) {
            let signer = itl.signer.as_deref().unwrap_or("signer not read");
            let signature = match itl.signature_valid {
                Some(true) => "its signature holds",
                Some(false) => "its signature FAILS",
                None => "its signature not checked",
            };
            put(
                itl.frame,
                format!(
                    "served ITL {}: {} bytes, SHA-1 {}, MD5 {}, signed by {signer}; {signature}",
                    itl.name, itl.size, itl.sha1, itl.md5
                ),
            );
            if let Some(path) = &p.trust_path {
                put(
                    itl.frame,
                    format!(
                        "the phone (ITL from {}) takes this ITL: {} - {}",
                        path.basis,
                        path.itl.acceptance.as_str(),
                        path.itl.explanation
                    ),
                );
            }
        }
        if let Some(path) = &p.trust_path {
            let config = p.checks.iter().find(|c| c.id == "config").and_then(|c| {
                c.evidence
                    .iter()
                    .find(|i| i.capture == Some(capture) && i.frame.is_some())
            });
            if let Some(frame) = config.and_then(|i| i.frame) {
                put(
                    frame,
                    format!(
                        "the phone takes this config: {} - {}",
                        path.config.acceptance.as_str(),
                        path.config.explanation
                    ),
                );
            }
        }
        if let Some(installed) = p
            .installed_itl
            .as_ref()
            .filter(|i| i.source == "device-tl-info" && i.capture == Some(capture))
            && let Some(frame) = installed.frame
        {
            let what = if installed.not_installed {
                "DeviceTLInfo: the phone reports no ITL installed".to_string()
            } else {
                format!(
                    "DeviceTLInfo: the phone's ITL hash is {} {}",
                    installed.hash_algorithm.unwrap_or("(algorithm not given)"),
                    installed.hash.as_deref().unwrap_or("(not given)")
                )
            };
            put(frame, what);
        }
        if let Some(frame) = last {
            let (word, _) = super::text::verdict_word(p.verdict.delete_itl);
            put(frame, format!("verdict {word}: {}", p.main_reason.text));
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Frames copied.
    pub frames: u64,
    /// Frames that carry at least one comment.
    pub commented: u64,
}

/// Why the annotated copy could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    /// Reading the capture again failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Writing the copy failed.
    #[error("writing the annotated capture: {0}")]
    Io(#[from] std::io::Error),
}

const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const EPB: u32 = 6;
const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_TSRESOL: u16 = 9;
/// A comment option holds at most 65,535 bytes; longer text is cut at a character boundary.
const MAX_OPTION: usize = u16::MAX as usize;

/// Copies every frame of `reader` to `out` as pcapng, with `comments` on their frames.
pub fn write_annotated(
    reader: &mut CaptureReader,
    comments: &Comments,
    out: &mut dyn Write,
) -> Result<Written, AnnotateError> {
    let mut shb = Vec::new();
    shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes()); // major version
    shb.extend_from_slice(&0u16.to_le_bytes()); // minor version
    shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
    push_option(
        &mut shb,
        OPT_COMMENT,
        b"annotated by itlscope analyze --annotate",
    );
    push_end(&mut shb);
    write_block(out, SHB, &shb)?;
    // (pcapng interface, link type) → interface id in the copy.
    let mut interfaces: Vec<(u32, u32)> = Vec::new();
    let mut written = Written::default();
    while let Some(frame) = reader.next_frame()? {
        let key = (frame.interface, frame.link_type.0);
        let id = match interfaces.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                let mut idb = Vec::new();
                // The link type is 16 bits in an IDB; every type the reader names fits.
                let link = u16::try_from(frame.link_type.0).unwrap_or(u16::MAX);
                idb.extend_from_slice(&link.to_le_bytes());
                idb.extend_from_slice(&0u16.to_le_bytes()); // reserved
                idb.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
                push_option(&mut idb, IF_TSRESOL, &[9]);
                push_end(&mut idb);
                write_block(out, IDB, &idb)?;
                interfaces.push(key);
                interfaces.len() - 1
            }
        };
        let ns = u64::try_from(frame.ts.0).unwrap_or(0);
        let caplen = u32::try_from(frame.data.len()).unwrap_or(u32::MAX);
        let mut epb = Vec::with_capacity(frame.data.len() + 64);
        epb.extend_from_slice(&u32::try_from(id).unwrap_or(u32::MAX).to_le_bytes());
        epb.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ns as u32).to_le_bytes());
        epb.extend_from_slice(&caplen.to_le_bytes());
        epb.extend_from_slice(&frame.orig_len.max(caplen).to_le_bytes());
        epb.extend_from_slice(frame.data);
        pad(&mut epb);
        if let Some(lines) = comments.get(&frame.number).filter(|l| !l.is_empty()) {
            for line in lines {
                push_option(&mut epb, OPT_COMMENT, cut(line).as_bytes());
            }
            push_end(&mut epb);
            written.commented += 1;
        }
        write_block(out, EPB, &epb)?;
        written.frames += 1;
    }
    out.flush()?;
    Ok(written)
}

/// `text` cut to what one option holds, at a character boundary.
fn cut(text: &str) -> &str {
    if text.len() <= MAX_OPTION {
        return text;
    }
    let mut end = MAX_OPTION;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn pad(body: &mut Vec<u8>) {
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
    body.extend_from_slice(&value[..value.len().min(MAX_OPTION)]);
    pad(body);
}

fn push_end(body: &mut Vec<u8>) {
    body.extend_from_slice(&OPT_END.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
}

/// Type, total length, body (already a multiple of 4), total length again.
fn write_block(out: &mut dyn Write, kind: u32, body: &[u8]) -> std::io::Result<()> {
    let total = u32::try_from(body.len() + 12)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "block over 4 GiB"))?;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn healthy() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/captures/healthy-tftp-boot.pcap"
        ))
        .expect("capture")
    }

    fn frames(bytes: Vec<u8>) -> Vec<(u64, i64, u32, Vec<u8>)> {
        let mut r = CaptureReader::from_reader("x", Box::new(Cursor::new(bytes))).expect("capture");
        let mut out = Vec::new();
        while let Some(f) = r.next_frame().expect("frame") {
            out.push((f.number, f.ts.0, f.orig_len, f.data.to_vec()));
        }
        out
    }

    #[test]
    fn the_copy_has_every_frame_as_read_and_the_comments() {
        let original = healthy();
        let mut reader =
            CaptureReader::from_reader("x", Box::new(Cursor::new(original.clone()))).unwrap();
        let mut comments = Comments::new();
        comments.insert(3, vec!["one".into(), "two, longer than four bytes".into()]);
        let mut copy = Vec::new();
        let written = write_annotated(&mut reader, &comments, &mut copy).expect("written");
        assert_eq!(written.commented, 1);
        let before = frames(original);
        assert_eq!(written.frames as usize, before.len());
        assert_eq!(frames(copy.clone()), before, "every frame byte for byte");
        assert_eq!(&copy[..4], &SHB.to_le_bytes());
        let needle = b"two, longer than four bytes";
        assert!(copy.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn an_over_long_comment_is_cut_at_a_character_boundary() {
        let long = "é".repeat(40_000);
        let c = cut(&long);
        assert!(c.len() <= MAX_OPTION);
        assert!(long.starts_with(c));
    }
}
