//! The phone's Status Messages page (screen or web page copied as text) and other phone web
//! page text (the Network setup page's "ITL signature").
//!
//! Timestamp prefixes differ per model (phone-log-lines.md §3.2: `[8:52:30am 10/01/19] …`,
//! `1:33:26a …`, `[5:48:09 AM 10/11/19] …`); they are kept as written.

use super::wording;
use super::{SideFact, Source, SourceKind, find_mac, shorten};

/// Splits a leading timestamp off a status line: (`Some(time)`, rest).
pub fn split_time(line: &str) -> (Option<&str>, &str) {
    let t = line.trim();
    if let Some(inner) = t.strip_prefix('[')
        && let Some(close) = inner.find(']')
        && inner[..close].contains(':')
    {
        return (Some(&inner[..close]), inner[close + 1..].trim_start());
    }
    // `1:33:26a TFTP Error …` / `12:02:55a 25: …`
    let first = t.split_whitespace().next().unwrap_or("");
    let clock = first.trim_end_matches(['a', 'p', 'A', 'P', 'm', 'M']);
    if clock.len() >= 4
        && clock.contains(':')
        && clock.bytes().all(|c| c.is_ascii_digit() || c == b':')
    {
        return (Some(first), t[first.len()..].trim_start());
    }
    (None, t)
}

/// True when at least one line is a recognised status wording.
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .take(5000)
        .any(|l| wording::recognise(split_time(l).1, false).is_some())
}

/// Facts from Status Messages text, and (lines, recognised, notes).
pub fn facts(
    text: &str,
    source: &Source,
    max_facts: usize,
) -> (Vec<SideFact>, usize, usize, Vec<String>) {
    let file_macs: std::collections::BTreeSet<String> = text.lines().filter_map(find_mac).collect();
    let file_mac = (file_macs.len() == 1)
        .then(|| file_macs.iter().next().cloned())
        .flatten();
    let mut facts = Vec::new();
    let mut lines = 0usize;
    let mut cut = 0usize;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let (time, rest) = split_time(line);
        let Some(kind) = wording::recognise(rest, false).and_then(|w| wording::fact(w, rest))
        else {
            continue;
        };
        let device = find_mac(rest).or_else(|| file_mac.clone());
        // A page about several phones: a line naming none cannot be attributed.
        if device.is_none() && file_macs.len() > 1 {
            continue;
        }
        if facts.len() >= max_facts {
            cut += 1;
            continue;
        }
        facts.push(SideFact {
            source: Source {
                line: Some(i + 1),
                ..source.clone()
            },
            source_kind: SourceKind::StatusMessages,
            kind,
            device,
            time: time.map(str::to_string),
            text: shorten(rest),
        });
    }
    let mut notes = Vec::new();
    if cut > 0 {
        notes.push(format!("limit: {cut} fact(s) over {max_facts} left out"));
    }
    let recognised = facts.len();
    (facts, lines, recognised, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sidecar::FactKind;

    #[test]
    fn timestamps_of_each_model_are_split_off() {
        assert_eq!(
            split_time("[8:52:30am 10/01/19] ITL installed"),
            (Some("8:52:30am 10/01/19"), "ITL installed")
        );
        assert_eq!(
            split_time("1:33:26a TFTP Error : SEPB8BEBF9D2061.cnf.xml.sgn"),
            (Some("1:33:26a"), "TFTP Error : SEPB8BEBF9D2061.cnf.xml.sgn")
        );
        assert_eq!(
            split_time("[5:48:09 AM 10/11/19]  DeviceName=SEP007686CF681A"),
            (Some("5:48:09 AM 10/11/19"), "DeviceName=SEP007686CF681A")
        );
        assert_eq!(
            split_time("Trust List Updated"),
            (None, "Trust List Updated")
        );
    }

    #[test]
    fn status_page_lines_give_facts() {
        let text = "[8:52:30am 10/01/19] ITL installed\n\
                    1:33:26a TFTP Error : SEPB8BEBF9D2061.cnf.xml.sgn\n\
                    invalid file SEPB8BEBF9D2061.cnf.xml.sgn, authenticated fail. Reason:14.\n\
                    [8:54:12am 08/20/19] Trust List update failed, verification failure\n\
                    Some other message\n";
        assert!(looks_like(text));
        let src = Source {
            file: "status.txt".into(),
            ..Source::default()
        };
        let (facts, lines, recognised, _) = facts(text, &src, 100);
        assert_eq!((lines, recognised), (5, 4));
        assert_eq!(facts[0].kind, FactKind::TrustListVerified);
        assert_eq!(facts[0].time.as_deref(), Some("8:52:30am 10/01/19"));
        assert_eq!(facts[2].kind.verification_failed(), Some(true));
        assert_eq!(facts[3].kind, FactKind::TrustListFailed);
        assert!(
            facts
                .iter()
                .all(|f| f.device.as_deref() == Some("B8BEBF9D2061"))
        );
        assert_eq!(facts[3].source.to_string(), "status.txt:4");
    }
}
