//! Phone console logs (web "Console logs", PRT members, SSH `show strace`).
//!
//! Line grammars (phone-log-lines.md §3.1): `SEQ[:] LVL [Mon DD] HH:MM:SS.µs [(pid:tid)|(pid-tid)]
//! MODULE…`. Multi-line payloads continue on tab-indented lines, and a payload can be split
//! across numbered entries mid-token (the `DeviceTLInfo` alarm: `<Alarm Name="DeviceT` / `JAVA-LInfo">`):
//! such entries are re-joined. Web pages sometimes flatten several entries onto one line
//! (`8074: NOT … 8075: NOT …`): those are split again.

use super::wording;
use super::{FactKind, LoggedAlarm, SideFact, Source, SourceKind, find_mac, shorten};

const LEVELS: [&str; 8] = ["NOT", "INF", "DEB", "WRN", "ERR", "CRT", "ALT", "EMR"];
/// Largest re-joined entry kept (an alarm is a few hundred bytes; SIP messages a few KB).
const MAX_ENTRY: usize = 64 * 1024;

/// The header of one numbered log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'t> {
    /// Sequence number.
    pub seq: u64,
    /// `NOT`, `INF`, `DEB`, `WRN`, `ERR`.
    pub level: &'t str,
    /// `Nov 29 06:33:59.395199` or `11:04:15.038637`, as written.
    pub time: String,
    /// `pid:tid` / `pid-tid` when present.
    pub thread: Option<&'t str>,
    /// `MODULE-TEXT` (or `MODULE: TEXT`).
    pub body: &'t str,
}

fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// `HH:MM:SS[.frac]` at the start of `s`: its length.
fn clock_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let h = digits(s);
    if !(1..=2).contains(&h) || b.get(h) != Some(&b':') {
        return None;
    }
    let m = digits(&s[h + 1..]);
    if m != 2 || b.get(h + 3) != Some(&b':') {
        return None;
    }
    let sec = digits(&s[h + 4..]);
    if sec != 2 {
        return None;
    }
    let mut end = h + 6;
    if b.get(end) == Some(&b'.') {
        end += 1 + digits(&s[end + 1..]);
    }
    Some(end)
}

/// Parses the header of a numbered entry; None for continuation lines and other text.
pub fn parse_header(line: &str) -> Option<Header<'_>> {
    let n = digits(line);
    if n == 0 || n > 12 {
        return None;
    }
    let seq = line[..n].parse().ok()?;
    let mut rest = line[n..].strip_prefix(':').unwrap_or(&line[n..]);
    rest = rest.strip_prefix(' ')?.trim_start_matches(' ');
    let level = rest.get(..3)?;
    if !LEVELS.contains(&level) {
        return None;
    }
    rest = rest[3..].strip_prefix(' ')?.trim_start_matches(' ');
    let time_start = rest;
    // Optional `Mon DD ` before the clock.
    if rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        let month = rest.get(..3)?;
        if !month.bytes().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        rest = rest[3..].strip_prefix(' ')?.trim_start_matches(' ');
        let d = digits(rest);
        if !(1..=2).contains(&d) {
            return None;
        }
        rest = rest[d..].strip_prefix(' ')?.trim_start_matches(' ');
    }
    let clock = clock_len(rest)?;
    let consumed = time_start.len() - rest.len() + clock;
    let time = time_start[..consumed]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    rest = rest[clock..].trim_start_matches(' ');
    let mut thread = None;
    if let Some(inner) = rest.strip_prefix('(')
        && let Some(close) = inner.find(')')
    {
        let t = &inner[..close];
        if !t.is_empty()
            && t.bytes()
                .all(|c| c.is_ascii_digit() || c == b':' || c == b'-')
        {
            thread = Some(t);
            rest = inner[close + 1..].trim_start_matches(' ');
        }
    }
    Some(Header {
        seq,
        level,
        time,
        thread,
        body: rest,
    })
}

/// Splits a physical line on further entry headers flattened into it (`… 8075: NOT …`).
fn split_flattened(line: &str) -> Vec<&str> {
    let b = line.as_bytes();
    let mut cuts = vec![0];
    let mut i = 1;
    while i < b.len() {
        if b[i - 1] == b' ' && b[i].is_ascii_digit() {
            let rest = &line[i..];
            if parse_header(rest).is_some() && rest[digits(rest)..].starts_with(':') {
                cuts.push(i);
                i += digits(rest);
                continue;
            }
        }
        i += 1;
    }
    cuts.iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = cuts.get(k + 1).copied().unwrap_or(line.len());
            line[start..end].trim_end()
        })
        .collect()
}

/// One log entry after re-joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Line of its header (1-based).
    pub line: usize,
    /// Sequence number.
    pub seq: u64,
    /// Timestamp as written.
    pub time: String,
    /// Thread, when logged.
    pub thread: Option<String>,
    /// Body and continuation lines (`\n`-separated; split entries joined without one).
    pub text: String,
    /// Continuation lines appended.
    pub continuations: usize,
}

/// The entries of a console log, and how many entries were re-joined and lines ignored.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Entries.
    pub entries: Vec<Entry>,
    /// Physical lines read.
    pub lines: usize,
    /// Entries glued to the one before (split mid-payload).
    pub rejoined: usize,
    /// Lines before the first entry, or cut for size.
    pub stray: usize,
}

/// The module prefix of an entry body: `JAVA-`, `SECUREAPP-`, `SECD: `.
fn strip_module(body: &str) -> &str {
    match body.find(['-', ':']) {
        Some(i)
            if i > 0
                && body[..i].bytes().all(|c| {
                    c.is_ascii_alphanumeric() || c == b'(' || c == b')' || c == b'_' || c == b'.'
                }) =>
        {
            &body[i + 1..]
        }
        _ => body,
    }
}

/// Splits text into entries, re-joining entries that continue a payload cut mid-token.
pub fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (idx, physical) in text.lines().enumerate() {
        out.lines += 1;
        let line_no = idx + 1;
        let physical = physical.trim_end_matches('\r');
        let pieces = if parse_header(physical).is_some() {
            split_flattened(physical)
        } else {
            vec![physical]
        };
        for piece in pieces {
            match parse_header(piece) {
                Some(h) => {
                    let joins = out.entries.last().is_some_and(|prev| {
                        prev.continuations > 0
                            && prev.seq + 1 == h.seq
                            && prev.thread.as_deref() == h.thread
                            && h.thread.is_some()
                            && !prev.text.trim_end().ends_with('>')
                            && !prev.text.trim_end().ends_with("^M")
                    });
                    if joins && let Some(prev) = out.entries.last_mut() {
                        if prev.text.len() < MAX_ENTRY {
                            prev.text.push_str(strip_module(h.body));
                        }
                        prev.seq = h.seq;
                        out.rejoined += 1;
                        continue;
                    }
                    out.entries.push(Entry {
                        line: line_no,
                        seq: h.seq,
                        time: h.time,
                        thread: h.thread.map(str::to_string),
                        text: h.body.to_string(),
                        continuations: 0,
                    });
                }
                None => match out.entries.last_mut() {
                    Some(prev) if prev.text.len() < MAX_ENTRY => {
                        prev.text.push('\n');
                        prev.text.push_str(piece.trim_start_matches('\t'));
                        prev.continuations += 1;
                    }
                    _ => out.stray += 1,
                },
            }
        }
    }
    out
}

/// True when `text` looks like a console log: most lines that do not start with
/// whitespace are numbered entries.
pub fn looks_like(text: &str) -> bool {
    let mut headers = 0usize;
    let mut others = 0usize;
    for line in text.lines().take(2000) {
        if line.trim().is_empty() || line.starts_with([' ', '\t']) {
            continue;
        }
        if parse_header(line).is_some() {
            headers += 1;
        } else {
            others += 1;
        }
    }
    headers > 0 && headers >= others
}

/// The `DeviceTLInfo` alarm in an entry, if it holds one.
fn alarm(entry: &Entry) -> Option<LoggedAlarm> {
    if !entry.text.contains("DeviceTLInfo") {
        return None;
    }
    let a = crate::alarm::parse_alarm_xml(&entry.text)?;
    Some(LoggedAlarm {
        device_name: a.device_name,
        itl_signature_raw: a.itl_signature_raw,
        itl_signature: a.itl_signature,
        ctl_signature: a.ctl_signature,
        ctl_signature_raw: a.ctl_signature_raw,
        itl_tftp_server: a.itl_tftp_server,
        status_code: a.status_code,
    })
}

/// Facts from a console log, and (lines, recognised entries, notes).
pub fn facts(
    text: &str,
    source: &Source,
    max_facts: usize,
) -> (Vec<SideFact>, usize, usize, Vec<String>) {
    let parsed = parse(text);
    let file_macs: std::collections::BTreeSet<String> = parsed
        .entries
        .iter()
        .filter_map(|e| find_mac(&e.text))
        .collect();
    let file_mac = (file_macs.len() == 1)
        .then(|| file_macs.iter().next().cloned())
        .flatten();
    let mut facts = Vec::new();
    let mut cut = 0usize;
    for e in &parsed.entries {
        let kind = match alarm(e) {
            Some(a) => Some(FactKind::DeviceTlInfo(a)),
            None => wording::recognise(&e.text, true).and_then(|w| wording::fact(w, &e.text)),
        };
        let Some(kind) = kind else { continue };
        // Every SIP message a phone logs carries its agent: once per agent is enough.
        if let FactKind::UserAgent { agent } = &kind
            && facts.iter().any(
                |f: &SideFact| matches!(&f.kind, FactKind::UserAgent { agent: a } if a == agent),
            )
        {
            continue;
        }
        if facts.len() >= max_facts {
            cut += 1;
            continue;
        }
        let device = match &kind {
            FactKind::DeviceTlInfo(a) => a.device_name.as_deref().and_then(find_mac),
            _ => None,
        }
        .or_else(|| find_mac(&e.text))
        .or_else(|| file_mac.clone());
        // A file about several phones: a line naming none cannot be attributed.
        if device.is_none() && file_macs.len() > 1 {
            continue;
        }
        facts.push(SideFact {
            source: Source {
                line: Some(e.line),
                ..source.clone()
            },
            source_kind: SourceKind::ConsoleLog,
            kind,
            device,
            time: Some(e.time.clone()),
            // A multi-line entry (a SIP message) is cited by its first line.
            text: match e.text.split_once('\n') {
                Some((first, _)) => shorten(&format!("{first} …")),
                None => shorten(&e.text),
            },
        });
    }
    let mut notes = Vec::new();
    if parsed.rejoined > 0 {
        notes.push(format!(
            "{} entr{} split mid-payload re-joined to the entry before",
            parsed.rejoined,
            if parsed.rejoined == 1 { "y" } else { "ies" }
        ));
    }
    if parsed.stray > 0 {
        notes.push(format!(
            "{} line(s) before the first entry ignored",
            parsed.stray
        ));
    }
    if cut > 0 {
        notes.push(format!("limit: {cut} fact(s) over {max_facts} left out"));
    }
    if file_macs.len() > 1 {
        notes.push(format!(
            "names {} phones ({}); lines that name none are not attributed",
            file_macs.len(),
            file_macs
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let recognised = facts.len();
    (facts, parsed.entries.len(), recognised, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §2.5 C, verbatim (two numbered entries, the alarm name split mid-word).
    const ALARM: &str = "5850 DEB Mar 09 18:32:45.419807 (618:927) JAVA-sipio-sent---> REFER sip:192.168.7.200 SIP/2.0^M
\tUser-Agent: Cisco-CP7821/12.1.1^M
\tContent-Type: application/x-cisco-alarm+xml^M
\t<?xml version=\"1.0\" encoding=\"UTF-8\"?>
\t<x-cisco-alarm>
\t<Alarm Name=\"DeviceT
5851 DEB Mar 09 18:32:45.420021 (618:927) JAVA-LInfo\">
\t<ParameterList>
\t<String name=\"DeviceName\">SEPC80084AA8743</String>
\t<String name=\"IPv4Address\">192.168.7.104</String>
\t<String name=\"IPv6Address\"></String>
\t<String name=\"CTL_Signature\">Not Installed</String>
\t<String name=\"CTL_TFTP_Server\">N/A</String>
\t<String name=\"ITL_Signature\">1B A1 C9 07 E9 9E 4D 3C 53 9D C8 14 24 AF 6C 9F 7D CE 4D 6D </String>
\t<String name=\"ITL_TFTP_Server\">cucm-115.home.lab</String>
\t<String name=\"StatusCode\">3</String>
\t</ParameterList>
\t</Alarm>
\t</x-cisco-alarm>
5904 DEB Mar 09 18:32:45.473187 (618:927) JAVA-sipio-sent---> REGISTER sip:192.168.7.200 SIP/2.0^M
\tReason: SIP;cause=200;text=\"cisco-alarm:23 Name=SEPC80084AA8743 ActiveLoad=si
5905 DEB Mar 09 18:32:45.473370 (618:927) JAVA-p78xx.12-1-1-12.loads InactiveLoad=sip78xx.10-3-1-12.loads Last=reset-restart\"^M
";

    #[test]
    fn the_four_header_grammars_parse() {
        let h = parse_header("3287 INF Nov 29 06:33:59.395199 SECUREAPP-Attempting connect to TVS server addr [192.168.11.32], mode [IPv4]").unwrap();
        assert_eq!(
            (h.seq, h.level, h.time.as_str(), h.thread),
            (3287, "INF", "Nov 29 06:33:59.395199", None)
        );
        assert!(h.body.starts_with("SECUREAPP-Attempting"));
        let h =
            parse_header("4925 NOT Mar 09 18:32:38.937860 (1886:1886) GHTTP-hdr->HTTP/1.1 200 OK")
                .unwrap();
        assert_eq!(h.thread, Some("1886:1886"));
        assert_eq!(h.body, "GHTTP-hdr->HTTP/1.1 200 OK");
        let h = parse_header("4592 NOT Feb 17 11:01:25.041733 (349-349) PAE: -Secure Connection Handshake in progress - status SSL_ERROR_WANT_READ.").unwrap();
        assert_eq!(h.thread, Some("349-349"));
        let h = parse_header("5007: NOT 10:25:10.060663 SECD: clpSetupSsl: Trying to connect to IPV4, IP: 192.168.136.6, Port : 2445").unwrap();
        assert_eq!((h.seq, h.time.as_str()), (5007, "10:25:10.060663"));
        let h = parse_header(
            "7989 ERR 11:04:15.038637  SECD: -HTTPS cert not in CTL, <10.106.111.100:8443>",
        )
        .unwrap();
        assert_eq!(
            h.body,
            "SECD: -HTTPS cert not in CTL, <10.106.111.100:8443>"
        );
        // Two spaces between day and clock (§2.5 A note).
        assert!(parse_header("3333 NOT Nov 29  06:34:00.411671 SECUREAPP-Hashes match... authentication successful.").is_some());
        assert!(parse_header("\t<ParameterList>").is_none());
        assert!(parse_header("18:01:05.855 | debug TLS HS Done for ph_conn").is_none());
    }

    #[test]
    fn the_split_alarm_is_rejoined_and_read() {
        let parsed = parse(ALARM);
        assert_eq!(parsed.rejoined, 2, "5851 and 5905 continue 5850 and 5904");
        assert_eq!(parsed.entries.len(), 2);
        assert!(
            parsed.entries[0]
                .text
                .contains("<Alarm Name=\"DeviceTLInfo\">")
        );
        assert!(
            parsed.entries[1]
                .text
                .contains("ActiveLoad=sip78xx.12-1-1-12.loads")
        );
        let src = Source {
            file: "console.log".into(),
            ..Source::default()
        };
        let (facts, entries, recognised, notes) = facts(ALARM, &src, 100);
        assert_eq!((entries, recognised), (2, 1));
        assert!(notes[0].contains("re-joined"));
        let f = &facts[0];
        assert_eq!(f.source.to_string(), "console.log:1");
        assert_eq!(f.device.as_deref(), Some("C80084AA8743"));
        let FactKind::DeviceTlInfo(a) = &f.kind else {
            panic!("{f:?}")
        };
        assert_eq!(
            a.itl_signature.as_deref(),
            Some("1ba1c907e99e4d3c539dc81424af6c9f7dce4d6d")
        );
        assert_eq!(a.status_code, Some(3));
        assert_eq!(a.itl_tftp_server.as_deref(), Some("cucm-115.home.lab"));
        // Statement 7a: the logged alarm keeps "holds no CTL", not only a hex hash.
        assert_eq!(a.ctl_signature, None);
        assert_eq!(a.ctl_signature_raw.as_deref(), Some("Not Installed"));
        assert!(a.ctl_not_installed());
    }

    #[test]
    fn flattened_entries_are_split() {
        // §2.5 E, verbatim.
        let line = "8089: NOT 23:00:22.601218 SECD: clpTvsInit: Client message received on TVS proxy socket 8090: NOT 23:00:22.602785 SECD: processTvsClntReq: Success reading the client TVS request, len : 3708 8091: NOT 23:00:22.603901 SECD: processTvsClntReq: TVS Certificate cache flush request received 8092: NOT 23:00:22.605720 SECD: tvsFlushCertCache: Completed TVS Certificate cache flush request";
        let parsed = parse(line);
        let seqs: Vec<u64> = parsed.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [8089, 8090, 8091, 8092]);
        assert!(parsed.entries.iter().all(|e| e.line == 1));
    }

    #[test]
    fn success_path_gives_its_facts_in_order() {
        // §2.5 A, verbatim lines.
        let log = "3233 NOT Nov 29 06:33:59.033132 dgetfile(870)-GETXXTP [GT870][src=CTLSEPB000B4BA0AEE.tlv][dest=/tmp/CTLFile.tlv][serv=][serv6=][sec=0]
3287 INF Nov 29 06:33:59.395199 SECUREAPP-Attempting connect to TVS server addr [192.168.11.32], mode [IPv4]
3312 ERR Nov 29 06:33:59.428892 downd-SOCKET accept errno=4 \"Interrupted system call\"
3325 INF Nov 29 06:33:59.915121 SECUREAPP-TVS added cert to TVS cache - expires in 24 hours
3333 NOT Nov 29 06:34:00.411671 SECUREAPP-Hashes match... authentication successful.
3338 DEB Nov 29 06:34:00.413442 SECUREAPP-TL file verified successfully.
";
        assert!(looks_like(log));
        let src = Source {
            file: "c.log".into(),
            ..Source::default()
        };
        let (facts, entries, recognised, _) = facts(log, &src, 100);
        assert_eq!((entries, recognised), (6, 5));
        let kinds: Vec<&str> = facts.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "trust-list-request",
                "tvs-query",
                "tvs-vouched",
                "file-authenticated",
                "trust-list-verified"
            ]
        );
        assert!(
            facts
                .iter()
                .all(|f| f.device.as_deref() == Some("B000B4BA0AEE"))
        );
        assert_eq!(facts[4].source.line, Some(6));
    }

    #[test]
    fn prose_is_not_a_console_log() {
        assert!(!looks_like("Trust List update failed\nITL installed\n"));
        assert!(!looks_like(""));
    }
}
