//! Recognises each `--evidence` file by content (never by name) and hands its text to the
//! right reader; archives are opened and each member recognised the same way.

use super::archive::{self, Member};
use super::{IngestedFile, IngestedPart, Limits, SideEvidence, SidecarError, Source, SourceKind};
use super::{cert, cli, console, status, tvstrace};

/// What a member's bytes are; None when none of the known kinds.
pub fn classify(bytes: &[u8]) -> Option<SourceKind> {
    if cert::looks_like(bytes) {
        return Some(SourceKind::Certificate);
    }
    let head = &bytes[..bytes.len().min(4096)];
    if head.contains(&0) {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    if cli::looks_like(&text) {
        Some(SourceKind::CucmCli)
    } else if tvstrace::looks_like(&text) {
        Some(SourceKind::TvsTrace)
    } else if console::looks_like(&text) {
        Some(SourceKind::ConsoleLog)
    } else if status::looks_like(&text) {
        Some(SourceKind::StatusMessages)
    } else {
        None
    }
}

/// Why a member was not recognised, in a few words.
fn why_not(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "empty".into()
    } else if bytes[..bytes.len().min(4096)].contains(&0) {
        "binary data".into()
    } else {
        let lines = bytes.split(|&b| b == b'\n').count();
        format!("{lines} line(s) of text, none a known phone or CUCM wording")
    }
}

fn ingest_member(
    file: &str,
    m: &Member,
    kind: SourceKind,
    limits: &Limits,
    out: &mut SideEvidence,
) -> IngestedPart {
    let member = (!m.name.is_empty()).then(|| m.name.clone());
    let source = Source {
        file: file.to_string(),
        member: member.clone(),
        line: None,
    };
    let mut part = IngestedPart {
        member,
        kind: Some(kind),
        ..IngestedPart::default()
    };
    let text = || String::from_utf8_lossy(&m.bytes);
    match kind {
        SourceKind::ConsoleLog | SourceKind::StatusMessages => {
            let read = if kind == SourceKind::ConsoleLog {
                console::facts
            } else {
                status::facts
            };
            let (facts, lines, recognised, notes) = read(&text(), &source, limits.max_facts);
            part.lines = lines;
            part.recognised = recognised;
            part.notes = notes;
            out.facts.extend(facts);
        }
        SourceKind::CucmCli => {
            let t = text();
            let (lists, actions) = cli::parse(&t, &source);
            part.lines = t.lines().count();
            part.recognised = lists.len() + actions.len();
            for l in &lists {
                part.notes.push(format!(
                    "show {}: {} record(s){}{}",
                    l.kind.to_ascii_lowercase(),
                    l.records.len(),
                    l.sha1
                        .as_deref()
                        .map(|h| format!(", sha1 {h}"))
                        .unwrap_or_default(),
                    match l.verified {
                        Some(true) => ", verified successfully",
                        Some(false) => ", verification failed",
                        None => "",
                    }
                ));
            }
            out.cli_lists.extend(lists);
            out.cli_actions.extend(actions);
        }
        SourceKind::Certificate => {
            let (certs, notes) = cert::certificates(&m.bytes, &source);
            part.lines = String::from_utf8_lossy(&m.bytes).lines().count();
            part.recognised = certs.len();
            part.notes = notes;
            for c in &certs {
                part.notes.push(format!(
                    "certificate {} (serial {}, sha1 {}){}",
                    c.info.subject,
                    c.info.serial,
                    c.info.sha1,
                    c.role_hint
                        .map(|r| format!(", taken as {r} by its name"))
                        .unwrap_or_default()
                ));
            }
            out.certificates.extend(certs);
        }
        SourceKind::TvsTrace => {
            let (requests, entries, recognised) =
                tvstrace::requests(&text(), &source, limits.max_facts);
            part.lines = entries;
            part.recognised = recognised;
            let vouched = requests
                .iter()
                .filter(|r| r.answer == super::TvsAnswer::Vouched)
                .count();
            let not_found = requests
                .iter()
                .filter(|r| r.answer == super::TvsAnswer::NotFound)
                .count();
            part.notes.push(format!(
                "TVS trace: {} certificate request(s), {vouched} vouched, {not_found} not found",
                requests.len()
            ));
            out.tvs_trace.extend(requests);
        }
        SourceKind::Archive => {}
    }
    part.ignored = part.lines.saturating_sub(part.recognised);
    part
}

/// Ingests one file's bytes into `out`; an error when neither it nor any member is usable.
pub fn ingest_bytes(
    file: &str,
    bytes: &[u8],
    limits: &Limits,
    out: &mut SideEvidence,
) -> Result<(), SidecarError> {
    let walk = archive::walk(bytes, limits);
    let mut ingested = IngestedFile {
        path: file.to_string(),
        kind: walk.archive.then_some(SourceKind::Archive),
        skipped: walk.skipped,
        ..IngestedFile::default()
    };
    let mut unrecognised = Vec::new();
    for m in &walk.members {
        match classify(&m.bytes) {
            Some(kind) => {
                let part = ingest_member(file, m, kind, limits, out);
                ingested.parts.push(part);
            }
            None if walk.archive => {
                ingested
                    .skipped
                    .push(format!("{}: {}", m.name, why_not(&m.bytes)))
            }
            None => unrecognised.push(why_not(&m.bytes)),
        }
    }
    if ingested.parts.is_empty() {
        let why = if walk.archive {
            let mut why = format!(
                "an archive of {} member(s), none of them evidence",
                walk.members.len()
            );
            if let Some(first) = ingested.skipped.first() {
                why.push_str(&format!("; {first}"));
            }
            why
        } else if let Some(w) = unrecognised.first() {
            w.clone()
        } else {
            ingested.skipped.join("; ")
        };
        return Err(SidecarError::Unrecognised {
            file: file.to_string(),
            why,
        });
    }
    if !walk.archive {
        ingested.kind = ingested.parts.first().and_then(|p| p.kind);
    }
    out.files.push(ingested);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_content() {
        assert_eq!(
            classify(b"3338 DEB Nov 29 06:34:00.413442 SECUREAPP-TL file verified successfully.\n"),
            Some(SourceKind::ConsoleLog)
        );
        assert_eq!(
            classify(b"[8:52:30am 10/01/19] ITL installed\n"),
            Some(SourceKind::StatusMessages)
        );
        assert_eq!(
            classify(b"admin:show itl\nLength of ITL file: 5438\n"),
            Some(SourceKind::CucmCli)
        );
        // phone-log-lines.md §4 C.
        assert_eq!(
            classify(b"15:21:02.011 | debug CertificateDBCACHE::getCertificateInformation - Certificate found and equal\n"),
            Some(SourceKind::TvsTrace)
        );
        // Statement 29: the note's own screen wording makes a Status Messages file.
        assert_eq!(
            classify(b"Trust List Verification Failed\n"),
            Some(SourceKind::StatusMessages)
        );
        assert_eq!(classify(b"hello world\n"), None);
        assert_eq!(classify(b"\x00\x01\x02"), None);
    }

    #[test]
    fn an_unknown_file_is_an_error_naming_it() {
        let mut out = SideEvidence::default();
        let e = ingest_bytes(
            "notes.txt",
            b"lunch at noon\n",
            &Limits::default(),
            &mut out,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("notes.txt: not a phone console log"),
            "{msg}"
        );
        assert!(out.files.is_empty());
    }
}
