//! CUCM TVS service traces (RTMT, "detailed" level): per certificate request a phone sent, what
//! TVS answered (phone-log-lines.md §2.5 F, §4 C).
//!
//! Each entry is `HH:MM:SS.mmm | debug TEXT` (some versions add `|-->debug` / `|<--debug`
//! brackets, and web pages flatten several entries onto one line): the text is cut at every
//! `HH:MM:SS.mmm |`. A request starts at `MsgType : TVS_MSG_…_REQ` (the phone's address is on
//! the `tvsSSLHandShake` line before it) and ends at its `…_RES`; `Certificate found and equal`
//! (or `Found entry` for a query) is TVS vouching, `Cannot find the certificate in the cache` /
//! `certificate not found` is TVS not knowing the certificate.

use super::{Source, TvsAnswer, TvsTraceRequest, shorten};
use std::net::IpAddr;

/// Words that make a trace a TVS one (any of them).
const MARKERS: &[&str] = &[
    "TVS_MSG_",
    "tvsSSLHandShake",
    "getCertificateInformation",
    "TVS CORE",
    "tvsHandle",
];

/// `HH:MM:SS.mmm` (two-digit fields, three-digit milliseconds) then spaces and `|` at `i`:
/// the length up to and including the `|`.
fn stamp_at(b: &[u8], i: usize) -> Option<usize> {
    let d = |k: usize| b.get(i + k).is_some_and(u8::is_ascii_digit);
    let c = |k: usize, ch: u8| b.get(i + k) == Some(&ch);
    if !(d(0) && d(1) && c(2, b':') && d(3) && d(4) && c(5, b':') && d(6) && d(7) && c(8, b'.')) {
        return None;
    }
    let mut k = 9;
    while d(k) {
        k += 1;
    }
    if k == 9 {
        return None;
    }
    while c(k, b' ') {
        k += 1;
    }
    c(k, b'|').then_some(k + 1)
}

/// One trace entry: its line, clock and text (without the `debug` level word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// 1-based physical line.
    pub line: usize,
    /// `15:21:02.010`.
    pub time: String,
    /// The text after `| debug`.
    pub text: String,
}

/// Splits a trace into entries (several per physical line when flattened).
pub fn entries(text: &str) -> Vec<TraceEntry> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let mut starts = Vec::new();
        let mut i = 0;
        while i < b.len() {
            // A stamp starts a line or follows a space.
            if (i == 0 || b[i - 1] == b' ')
                && let Some(len) = stamp_at(b, i)
            {
                starts.push((i, len));
                i += len;
                continue;
            }
            i += 1;
        }
        for (k, &(start, len)) in starts.iter().enumerate() {
            let end = starts.get(k + 1).map(|s| s.0).unwrap_or(line.len());
            let (Some(stamp), Some(body)) =
                (line.get(start..start + len), line.get(start + len..end))
            else {
                continue;
            };
            let time = stamp.trim_end_matches('|').trim().to_string();
            let body = body
                .trim_start_matches("-->")
                .trim_start_matches("<--")
                .trim();
            let body = body.strip_prefix("debug").unwrap_or(body).trim();
            if body.is_empty() {
                continue;
            }
            out.push(TraceEntry {
                line: idx + 1,
                time,
                text: body.to_string(),
            });
        }
    }
    out
}

/// True when `text` is a TVS trace: entries in the trace format, one of them TVS wording.
pub fn looks_like(text: &str) -> bool {
    let head: String = text.chars().take(1 << 20).collect();
    let es = entries(&head);
    !es.is_empty()
        && es
            .iter()
            .any(|e| MARKERS.iter().any(|m| e.text.contains(m)))
}

/// The value after `key` up to ` and Length` or the end (`issuerName : CN=… and Length: 75`).
fn value_after(text: &str, key: &str) -> Option<String> {
    let at = text.find(key)? + key.len();
    let rest = text.get(at..)?.trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    let rest = rest.split(" and Length").next().unwrap_or(rest).trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The phone's address on a `<addr>: tvsSSLHandShake …` entry.
fn handshake_client(text: &str) -> Option<IpAddr> {
    let before = text.split(": tvsSSLHandShake").next()?;
    if before.len() == text.len() {
        return None;
    }
    before.split_whitespace().last()?.parse().ok()
}

/// The requests of a TVS trace, and (entries, recognised entries).
pub fn requests(text: &str, source: &Source, max: usize) -> (Vec<TvsTraceRequest>, usize, usize) {
    let es = entries(text);
    let mut out: Vec<TvsTraceRequest> = Vec::new();
    let mut open: Option<TvsTraceRequest> = None;
    let mut client: Option<IpAddr> = None;
    let mut recognised = 0usize;
    let at = |line: usize| Source {
        line: Some(line),
        ..source.clone()
    };
    let push = |r: TvsTraceRequest, out: &mut Vec<TvsTraceRequest>| {
        if out.len() < max {
            out.push(r);
        }
    };
    for e in &es {
        let t = e.text.as_str();
        if let Some(ip) = handshake_client(t) {
            client = Some(ip);
            recognised += 1;
            continue;
        }
        if t.contains("MsgType") && t.contains("TVS_MSG_") {
            recognised += 1;
            let msg = t
                .split_whitespace()
                .find(|w| w.starts_with("TVS_MSG_"))
                .unwrap_or("TVS_MSG_")
                .to_string();
            if msg.ends_with("_REQ") {
                if let Some(r) = open.take() {
                    push(r, &mut out);
                }
                open = Some(TvsTraceRequest {
                    source: at(e.line),
                    time: Some(e.time.clone()),
                    client,
                    message: Some(msg),
                    certificate: None,
                    answer: TvsAnswer::Unknown,
                    answer_source: None,
                });
            } else if msg.ends_with("_RES")
                && let Some(r) = open.take()
            {
                push(r, &mut out);
            }
            continue;
        }
        let answer = if t.contains("Certificate found and equal") || t.contains("Found entry") {
            Some(TvsAnswer::Vouched)
        } else if t.contains("Cannot find the certificate") || t.contains("certificate not found") {
            Some(TvsAnswer::NotFound)
        } else {
            None
        };
        let cert = [
            "issuerName",
            "Subject Name is",
            "Issuer Name is",
            "Serial Number is",
        ]
        .iter()
        .find_map(|k| value_after(t, k).map(|v| format!("{}: {v}", k.trim_end_matches(" is"))))
        .or_else(|| value_after(t, "Unique MAP ID").map(|v| format!("map id {v}")));
        if answer.is_none() && cert.is_none() {
            continue;
        }
        recognised += 1;
        // A bare lookup (no request logged) that already has its answer ends at the next
        // certificate named.
        if cert.is_some()
            && open
                .as_ref()
                .is_some_and(|r| r.message.is_none() && r.answer != TvsAnswer::Unknown)
            && let Some(r) = open.take()
        {
            push(r, &mut out);
        }
        // A lookup logged with no request before it (§2.5 F, second block).
        let r = open.get_or_insert_with(|| TvsTraceRequest {
            source: at(e.line),
            time: Some(e.time.clone()),
            client,
            message: None,
            certificate: None,
            answer: TvsAnswer::Unknown,
            answer_source: None,
        });
        if let Some(c) = cert {
            let joined = match r.certificate.take() {
                Some(prev) => format!("{prev}; {c}"),
                None => c,
            };
            r.certificate = Some(shorten(&joined));
        }
        // TVS looks in several caches: found in any of them is vouching.
        if let Some(a) = answer
            && (r.answer == TvsAnswer::Unknown
                || (r.answer == TvsAnswer::NotFound && a == TvsAnswer::Vouched))
        {
            r.answer = a;
            r.answer_source = Some(at(e.line));
        }
    }
    if let Some(r) = open.take() {
        push(r, &mut out);
    }
    (out, es.len(), recognised)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// phone-log-lines.md §4 C, verbatim.
    const VOUCHED: &str = "15:21:01.954 | debug 14.48.44.202: tvsSSLHandShake Session ciphers - AES256-SHA
15:21:01.954 | debug TLS HS Done for ph_conn .
15:21:02.010 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_REQ
15:21:02.011 | debug tvsGetIssuerNameFromX509 - issuerName : CN=CUCM8-Publisher.bbbburns.lab;OU=TAC;O=Cisco;L=RTP;ST=North Carolina;C=US and Length: 75
15:21:02.011 | debug CertificateDBCACHE::getCertificateInformation - Certificate compare return =0
15:21:02.011 | debug CertificateDBCACHE::getCertificateInformation - Certificate found and equal
15:21:02.011 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_RES
";

    /// §2.5 F second block, verbatim (flattened).
    const NOT_FOUND: &str = "05:54:47.836 |   debug CertificateCTLCache::getCertificateInformation - Looking up the certificate cache using Unique MAP ID : 62E09123B09A61D20E77BE5BF5A82CD4CN=cucmpub9;OU=TAC;O=Cisco;L=Bangalore;ST=KN;C=IN 05:54:47.836 |<--debug 05:54:47.836 |-->debug 05:54:47.836 |   debug ERROR:CertificateCTLCache::getCertificateInformation - Cannot find the certificate in the cache 05:54:47.836 |<--debug 05:54:47.836 |-->debug 05:54:47.836 |   debug getCertificateInformation(cert) : certificate not found";

    fn src() -> Source {
        Source {
            file: "tvs.trace".into(),
            ..Source::default()
        }
    }

    #[test]
    fn tac_note_trace_is_tvs_vouching_for_the_phone() {
        assert!(looks_like(VOUCHED));
        let (reqs, entries, recognised) = requests(VOUCHED, &src(), 100);
        assert_eq!(entries, 7);
        assert_eq!(recognised, 5);
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.answer, TvsAnswer::Vouched);
        assert_eq!(r.client, "14.48.44.202".parse().ok());
        assert_eq!(r.message.as_deref(), Some("TVS_MSG_CERT_VERIFICATION_REQ"));
        assert_eq!(r.time.as_deref(), Some("15:21:02.010"));
        assert_eq!(r.source.to_string(), "tvs.trace:3");
        assert_eq!(r.answer_source.as_ref().and_then(|s| s.line), Some(6));
        assert!(
            r.certificate.as_deref().is_some_and(
                |c| c.contains("CN=CUCM8-Publisher.bbbburns.lab") && !c.contains("Length")
            ),
            "{:?}",
            r.certificate
        );
    }

    #[test]
    fn flattened_not_found_lookup_is_one_unanswered_certificate() {
        assert!(looks_like(NOT_FOUND));
        let (reqs, _, _) = requests(NOT_FOUND, &src(), 100);
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert_eq!(reqs[0].answer, TvsAnswer::NotFound);
        assert_eq!(reqs[0].message, None);
        assert!(
            reqs[0]
                .certificate
                .as_deref()
                .is_some_and(|c| c.contains("cucmpub9"))
        );
    }

    #[test]
    fn query_cert_found_entry_is_vouched() {
        // §2.5 F first block, verbatim lines.
        let text = "18:01:05.855 | debug 192.168.11.100: tvsSSLHandShake Session ciphers - AES256-SHA
18:01:06.345 | debug MsgType : TVS_MSG_QUERY_CERT_REQ
18:01:06.345 | debug tvsHandleQueryCertReq : Serial Number is: 24000000179479B8F124AC3F3B000000000017
18:01:06.345 | debug CertificateDBCache::getCertificateInformation - Found entry {rolecount : 2}
18:01:06.346 | debug 8:UNKNOWN:Sending QUERY_CERT_RES msg
";
        let (reqs, _, _) = requests(text, &src(), 100);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].answer, TvsAnswer::Vouched);
        assert_eq!(reqs[0].client, "192.168.11.100".parse().ok());
    }

    #[test]
    fn other_text_is_not_a_tvs_trace() {
        assert!(!looks_like("15:21:01 hello | world"));
        assert!(!looks_like("17:10:35.825 | debug something unrelated"));
        assert!(!looks_like(
            "3287 INF Nov 29 06:33:59.395199 SECUREAPP-Attempting connect to TVS server addr [192.168.11.32], mode [IPv4]"
        ));
    }

    proptest::proptest! {
        /// Any text, and text shaped like a trace, is read without a panic.
        #[test]
        fn any_text_is_read_without_panic(
            junk in "\\PC{0,200}",
            shaped in proptest::collection::vec(
                "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{0,4} {0,2}\\|[<>-]{0,3}(debug)? ?(MsgType : TVS_MSG_[A-Z_]{0,8}|[0-9.:a-f]{0,20}: tvsSSLHandShake|Certificate found and equal|certificate not found|issuerName : [^\\n]{0,20}|Unique MAP ID : é|\\PC{0,10})",
                0..12,
            ),
        ) {
            let text = shaped.join(if junk.len() % 2 == 0 { "\n" } else { " " });
            let _ = looks_like(&junk);
            let _ = requests(&junk, &src(), 10);
            let _ = looks_like(&text);
            let (reqs, _, _) = requests(&text, &src(), 5);
            proptest::prop_assert!(reqs.len() <= 5);
        }
    }
}
