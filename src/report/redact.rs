//! `analyze --redact`: reports that can go into a ticket or a public forum (issue 20, "Share
//! safely"). MAC addresses (every display form), IP addresses (v4 and v6), host names and the
//! values of certificate names (CN, O, OU, … of subjects and issuers) are replaced by stable
//! pseudonyms: the same value gets the same pseudonym in every report of the run, so the
//! report still reads. Hashes, serials, sizes, frame numbers, times and TLS alerts stay: they
//! are what an engineer compares.
//!
//! How: one [`Redactor`] learns every value first from the unredacted JSON object and text
//! report of the diagnosis (so the numbering does not depend on which form is asked for),
//! then rewrites each rendered report, longest value first and boundary-aware (`10.0.0.1`
//! does not hit `10.0.0.12`). Values are recognised by their shape (`SEP` + 12 hex digits,
//! `xx:xx:…`, `xxxx.xxxx.xxxx`, dotted quads, IPv6, DNS names that are not file names), by
//! their place (after `CN=`, `O=`, … in a distinguished name; after `"mac": "`,
//! `"itl_tftp_server": "` … in the JSON), and once learnt wherever they appear, also wrapped
//! over two lines or escaped for HTML and JSON. The HTML page's compressed phone details are
//! rewritten before they are compressed ([`super::html::write_filtered`]); its style sheet and
//! script are left alone.
//!
//! Pseudonyms: `SEP-PHONE-1` for a phone name (`ITLSEP-PHONE-1.tlv` for its files), `mac-1`
//! for the same MAC written alone, `ip-1`, `host-1`, `cert-name-1`.

use super::fleet::PhoneLine;
use super::json::{Generated, Report};
use super::text::TextOptions;
use crate::diagnosis::{Diagnosis, PhoneDiagnosis, Prepared};
use crate::evidence::Evidence;
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The first line of a redacted text report.
pub const TEXT_BANNER: &str = "REDACTED: MACs, IP addresses, host names and certificate names are pseudonyms; hashes, serials and frames as captured";

pub use super::json::Redactions;

/// What a name-like value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Host,
    CertName,
}

/// A learnt value as it is matched: lower case, runs of white space as one space.
struct Entry {
    pattern: Vec<u8>,
    pseudonym: String,
}

/// Attribute names of a distinguished name whose values are names.
const DN_KEYS: [&str; 14] = [
    "cn",
    "ou",
    "o",
    "l",
    "st",
    "c",
    "dc",
    "e",
    "emailaddress",
    "street",
    "serialnumber",
    "uid",
    "t",
    "title",
];

/// JSON keys whose string value is a host name.
const HOST_KEYS: [&str; 9] = [
    "itl_tftp_server",
    "sni",
    "dns_name",
    "host",
    "hostname",
    "server_name",
    "tftp_server",
    "node",
    "callmanager",
];

/// Last parts of file names: a dotted word ending in one of them is a file, not a host.
const FILE_EXTENSIONS: [&str; 64] = [
    "tlv", "sgn", "xml", "cnf", "enc", "pcap", "pcapng", "cap", "gz", "tgz", "tar", "zip", "pem",
    "der", "crt", "cer", "key", "txt", "log", "png", "jpg", "jpeg", "gif", "csv", "json", "jsonl",
    "html", "htm", "md", "bin", "loads", "sbn", "zz", "cop", "p12", "pfx", "csr", "conf", "cfg",
    "ini", "xz", "bz2", "zst", "lz4", "out", "tmp", "sh", "rs", "toml", "lock", "js", "css", "svg",
    "pdf", "doc", "docx", "xls", "xlsx", "bak", "old", "sig", "dat", "raw", "wav",
];

/// Words of the reports themselves: a one-word host or certificate name equal to one of them
/// is replaced only where it stands as a name (after `CN=`…), never in the prose.
const STOP_WORDS: [&str; 24] = [
    "cisco",
    "cucm",
    "tftp",
    "tvs",
    "itl",
    "ctl",
    "capf",
    "sast",
    "callmanager",
    "itlrecovery",
    "phone",
    "phones",
    "server",
    "client",
    "record",
    "records",
    "served",
    "serial",
    "none",
    "unknown",
    "http",
    "https",
    "sip",
    "tomcat",
];

/// The redactor's tables: looked up at every word of a report, never walked, so a fast
/// hash (their order is never seen).
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Replaces MACs, addresses, host names and certificate names by stable pseudonyms.
#[derive(Default)]
pub struct Redactor {
    macs: Map<[u8; 6], usize>,
    ips: Map<IpAddr, usize>,
    names: Map<(Kind, Vec<u8>), String>,
    /// Learnt values matched anywhere, by their first word.
    global: Map<Vec<u8>, Vec<Entry>>,
    /// Learnt values matched only as the value of a name attribute (`O=…`), by first word.
    context: Map<Vec<u8>, Vec<Entry>>,
    counts: Redactions,
    /// Digits of the MAC pseudonyms (`SEP-PHONE-001` with 100 phones or more), so the
    /// verdict lines stay aligned.
    width: usize,
}

impl Redactor {
    /// `report` marked as redacted: when and how it was made, `redacted: true` and the
    /// counts of what was replaced, at the top of the JSON.
    fn mark<'r>(&self, mut report: Report<'r>, generated: Option<&Generated>) -> Report<'r> {
        report.generated = generated.cloned();
        report.redacted = Some(true);
        report.redactions = Some(self.counts());
        report
    }

    /// A redactor that knows every value of this diagnosis: it reads the unredacted JSON
    /// object (with `generated`, the command line) and the text report (with `text`'s
    /// `--phone-itl`), so every output form numbers the values alike.
    pub fn learn(
        diagnosis: &Diagnosis,
        evidence: &Evidence,
        generated: Option<&Generated>,
        text: &TextOptions,
    ) -> Redactor {
        let mut r = Redactor::default();
        let mut buf = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = super::json::write_with(diagnosis, evidence, generated, &mut buf);
        r.rewrite(&buf);
        buf.clear();
        let options = TextOptions {
            color: false,
            brief: false,
            ..text.clone()
        };
        let _ = super::text::write_with(diagnosis, evidence, &options, &mut buf);
        r.rewrite(&buf);
        r.width = r.macs.len().max(1).to_string().len();
        r
    }

    /// How many distinct values of each kind are known so far.
    pub fn counts(&self) -> Redactions {
        self.counts
    }

    /// `text` with every value replaced.
    pub fn redact_str(&mut self, text: &str) -> String {
        let out = self.rewrite(text.as_bytes());
        // Only ASCII is put in and cut at ASCII bytes, so the UTF-8 stays whole.
        String::from_utf8(out).unwrap_or_default()
    }

    /// `bytes` with every value replaced (the bytes between values copied as they are).
    pub fn rewrite(&mut self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        let mut copied = 0;
        let mut i = 0;
        while i < text.len() {
            if !text[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            if let Some((end, replacement)) = self.at(text, i) {
                out.extend_from_slice(&text[copied..i]);
                out.extend_from_slice(replacement.as_bytes());
                copied = end;
                i = end;
            } else {
                i += 1;
            }
        }
        out.extend_from_slice(&text[copied..]);
        out
    }

    /// An HTML page rewritten outside its style sheet and scripts (JSON data excepted).
    pub fn rewrite_html(&mut self, page: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(page.len());
        let mut rest = page;
        loop {
            let style = find(rest, b"<style");
            let script = find(rest, b"<script");
            let (at, close): (usize, &[u8]) = match (style, script) {
                (Some(s), Some(c)) if s < c => (s, b"</style>"),
                (Some(s), None) => (s, b"</style>"),
                (_, Some(c)) => (c, b"</script>"),
                (None, None) => break,
            };
            out.extend(self.rewrite(&rest[..at]));
            let tag_end = find(&rest[at..], b">").map_or(rest.len(), |e| at + e + 1);
            let end = find(&rest[tag_end..], close).map_or(rest.len(), |e| tag_end + e);
            out.extend_from_slice(&rest[at..tag_end]);
            if find(&rest[at..tag_end], b"application/json").is_some() {
                out.extend(self.rewrite(&rest[tag_end..end]));
            } else {
                out.extend_from_slice(&rest[tag_end..end]);
            }
            rest = &rest[end..];
        }
        out.extend(self.rewrite(rest));
        out
    }

    /// The value starting at `i` (an ASCII letter or digit), if it is one to replace: where
    /// it ends and its pseudonym.
    fn at(&mut self, text: &[u8], i: usize) -> Option<(usize, String)> {
        // `SEP<MAC>` inside words too: ITLSEP…, CTLSEP…, CP-8845-SEP…. (The first letter
        // first: this runs at every letter of a report.)
        if let Some(mac) = matches!(text[i], b'S' | b's')
            .then(|| sep_mac(text, i))
            .flatten()
        {
            let n = self.mac(mac);
            let prefix = String::from_utf8_lossy(&text[i..i + 3]).into_owned();
            return Some((i + 15, format!("{prefix}-PHONE-{n:0w$}", w = self.width)));
        }
        if i > 0 && text[i - 1].is_ascii_alphanumeric() {
            return None;
        }
        if let Some((end, mac)) = mac_form(text, i) {
            let n = self.mac(mac);
            return Some((end, format!("mac-{n:0w$}", w = self.width)));
        }
        if let Some((end, ip)) = ipv4(text, i).or_else(|| ipv6(text, i)) {
            return Some((end, format!("ip-{}", self.ip(ip))));
        }
        if let Some(mac) = bare_mac(text, i) {
            let known = self.macs.contains_key(&mac);
            if known || after_json_key(text, i, &["mac"]) {
                let n = self.mac(mac);
                return Some((i + 12, format!("mac-{n:0w$}", w = self.width)));
            }
        }
        let dn_value = after_dn_key(text, i);
        if dn_value {
            // Learn the attribute's value unless a known one already covers it (a value
            // wrapped over two lines is cut short at the line's end).
            let end = dn_value_end(text, i);
            let covered = self.lookup(text, i, true).is_some_and(|(e, _)| e >= end);
            if !covered {
                let value = String::from_utf8_lossy(&text[i..end]).into_owned();
                let key = dn_key_before(text, i).unwrap_or_default();
                self.learn_dn_value(&key, &value);
            }
        } else if let Some(found) = self.json_host(text, i) {
            return Some(found);
        }
        if let Some(found) = self.lookup(text, i, dn_value) {
            return Some(found);
        }
        if let Some(end) = dns_name(text, i) {
            let value = String::from_utf8_lossy(&text[i..end]).into_owned();
            let pseudonym = self.name(Kind::Host, &value, true);
            return Some((end, pseudonym));
        }
        None
    }

    /// The longest learnt value at `i`: one matched anywhere, or (`dn_value`) an attribute's.
    fn lookup(&self, text: &[u8], i: usize, dn_value: bool) -> Option<(usize, String)> {
        // The first word, lower case, on the stack: this runs at every word of the report.
        let mut small = [0u8; 64];
        let long;
        let len = text[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let word: &[u8] = if len <= small.len() {
            for (d, s) in small.iter_mut().zip(&text[i..i + len]) {
                *d = s.to_ascii_lowercase();
            }
            &small[..len]
        } else {
            long = first_word(&text[i..]);
            &long
        };
        let tables = [Some(&self.global), dn_value.then_some(&self.context)];
        let mut best: Option<(usize, String)> = None;
        for table in tables.into_iter().flatten() {
            // Each list is longest first: its first match is its longest.
            let found = table.get(word).into_iter().flatten().find_map(|entry| {
                match_flexible(text, i, &entry.pattern)
                    .filter(|end| ends_word(text, *end))
                    .map(|end| (end, entry.pseudonym.clone()))
            });
            if let Some(f) = found
                && best.as_ref().is_none_or(|b| f.0 > b.0)
            {
                best = Some(f);
            }
        }
        best
    }

    /// The value of a JSON host field at `i` (`"itl_tftp_server": "…"`), learnt: where it
    /// ends and its pseudonym. A one-word value that is a word of the report (`tvs`) is
    /// replaced in its field only.
    fn json_host(&mut self, text: &[u8], i: usize) -> Option<(usize, String)> {
        if !after_json_key(text, i, &HOST_KEYS) {
            return None;
        }
        let end = find(&text[i..], b"\"").map_or(text.len(), |e| i + e);
        let value = String::from_utf8_lossy(&text[i..end]).into_owned();
        if value.contains(char::is_whitespace)
            || value.parse::<IpAddr>().is_ok()
            || value.parse::<std::net::SocketAddr>().is_ok()
            || contains_sep_mac(value.as_bytes())
        {
            return None;
        }
        let global = value.contains('.') || !is_stop_word(&value);
        let pseudonym = self.name(Kind::Host, &value, global);
        Some((end, pseudonym))
    }

    /// Learns one attribute value of a certificate name. A CN that is a host name (maybe
    /// behind a role prefix, `ITLRECOVERY_host`) is a host; a name holding a phone's
    /// `SEP<MAC>` is left to the MAC; other CNs are replaced anywhere, other attributes
    /// only as attributes.
    fn learn_dn_value(&mut self, key: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() || contains_sep_mac(value.as_bytes()) {
            return;
        }
        if key != "cn" {
            self.name(Kind::CertName, value, false);
            return;
        }
        let host_part = value
            .split_once('_')
            .filter(|(prefix, _)| prefix.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map_or(value, |(_, rest)| rest);
        if host_part != value && is_dns_name(host_part.as_bytes()) {
            self.name(Kind::Host, host_part, true);
        } else if is_dns_name(value.as_bytes()) {
            self.name(Kind::Host, value, true);
        } else {
            let global = value.len() >= 4 && !is_stop_word(value);
            self.name(Kind::CertName, value, global);
        }
    }

    /// The number of `mac` (from 1, in the order first met).
    fn mac(&mut self, mac: [u8; 6]) -> usize {
        let next = self.macs.len() + 1;
        *self.macs.entry(mac).or_insert_with(|| {
            self.counts.mac += 1;
            next
        })
    }

    /// The number of `ip` (from 1, in the order first met).
    fn ip(&mut self, ip: IpAddr) -> usize {
        // One address written as IPv4 or as IPv4-mapped IPv6 is one value.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let next = self.ips.len() + 1;
        *self.ips.entry(ip).or_insert_with(|| {
            self.counts.ip += 1;
            next
        })
    }

    /// The pseudonym of a host or certificate name, learnt (anywhere when `global`, else
    /// only as an attribute's value) in the forms a report writes it: as is, escaped for
    /// HTML and for JSON.
    fn name(&mut self, kind: Kind, value: &str, global: bool) -> String {
        let key = (kind, normalise(value));
        let pseudonym = match self.names.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = match kind {
                    Kind::Host => {
                        self.counts.host += 1;
                        format!("host-{}", self.counts.host)
                    }
                    Kind::CertName => {
                        self.counts.cert_name += 1;
                        format!("cert-name-{}", self.counts.cert_name)
                    }
                };
                self.names.insert(key, p.clone());
                p
            }
        };
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(value);
        // A value read inside JSON (`Example\\, Inc`) is also written unescaped in the text.
        let unescaped = value.replace("\\\\", "\\").replace("\\\"", "\"");
        let forms = [
            value.to_owned(),
            html_escape(value),
            json.to_owned(),
            html_escape(&unescaped),
            unescaped,
        ];
        let table = if global {
            &mut self.global
        } else {
            &mut self.context
        };
        for form in forms {
            let pattern = normalise(&form);
            let word = first_word(&pattern);
            if word.is_empty() {
                continue;
            }
            let entries = table.entry(word).or_default();
            if entries.iter().any(|e| e.pattern == pattern) {
                continue;
            }
            entries.push(Entry {
                pattern,
                pseudonym: pseudonym.clone(),
            });
            // Longest first: `cucm-pub.example.com` before `cucm-pub`.
            entries.sort_by_key(|e| std::cmp::Reverse(e.pattern.len()));
        }
        pseudonym
    }
}

/// Writes the JSON object (`--json`, `-o FILE`): as [`super::json::write_with`], or with
/// `redactor` redacted, `redacted: true` and the `redactions` counts at the top.
pub fn write_json(
    redactor: Option<&mut Redactor>,
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let Some(redactor) = redactor else {
        return super::json::write_with(diagnosis, evidence, generated, out);
    };
    let report = redactor.mark(Report::new(diagnosis, evidence), generated);
    let mut buf = Vec::new();
    serde_json::to_writer_pretty(&mut buf, &report).map_err(std::io::Error::from)?;
    buf.push(b'\n');
    out.write_all(&redactor.rewrite(&buf))
}

/// Writes the HTML page (`--html FILE`): as [`super::html::write_with`], or redacted (the
/// phone details before they are compressed, the page outside its style and script) with a
/// banner at the top.
pub fn write_html(
    redactor: Option<&mut Redactor>,
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let Some(redactor) = redactor else {
        return super::html::write_with(diagnosis, evidence, generated, out);
    };
    let mut page = Vec::new();
    super::html::write_filtered(
        diagnosis,
        evidence,
        generated,
        &mut |details: String| redactor.redact_str(&details),
        &mut page,
    )?;
    let page = redactor.rewrite_html(&page);
    let banner = HTML_BANNER;
    match find(&page, b"<body>\n") {
        Some(at) => {
            let split = at + b"<body>\n".len();
            out.write_all(&page[..split])?;
            out.write_all(banner.as_bytes())?;
            out.write_all(&page[split..])
        }
        None => {
            out.write_all(banner.as_bytes())?;
            out.write_all(&page)
        }
    }
}

/// Writes what `render` writes: as it is, or redacted (after [`TEXT_BANNER`] when `banner`:
/// the text report; the CSV and JSON lines have no room for one, docs/report.md says so).
pub fn write_filtered(
    redactor: Option<&mut Redactor>,
    banner: bool,
    out: &mut dyn Write,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let Some(redactor) = redactor else {
        return render(out);
    };
    let mut buf = Vec::new();
    render(&mut buf)?;
    if banner {
        writeln!(out, "{TEXT_BANNER}")?;
    }
    out.write_all(&redactor.rewrite(&buf))
}

/// Where a [`Redacting`] writer may cut what it holds and rewrite the part before: where no
/// value can run across the cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// After any line (the JSON: no string holds a line break; the CSV and JSON lines).
    Line,
    /// After a line followed by an empty one (the text report: a certificate name may be
    /// wrapped over two lines, never over a paragraph).
    Paragraph,
}

/// What is held before a piece is rewritten: large enough that the cuts cost nothing,
/// small beside a fleet's report.
const PIECE: usize = 256 * 1024;

/// A writer that rewrites what passes through it with a [`Redactor`] piece by piece (issue
/// 20, fleet scale: a report of thousands of phones is not held whole to be redacted). The
/// pieces are cut where no value runs across ([`Cut`]), so the bytes are those of
/// [`Redactor::rewrite`] over the whole report. Call [`Redacting::finish`] at the end.
pub struct Redacting<'r, 'w> {
    redactor: &'r mut Redactor,
    out: &'w mut dyn Write,
    pending: Vec<u8>,
    cut: Cut,
}

impl<'r, 'w> Redacting<'r, 'w> {
    /// Rewrites into `out`, cutting as `cut` says.
    pub fn new(redactor: &'r mut Redactor, out: &'w mut dyn Write, cut: Cut) -> Self {
        Redacting {
            redactor,
            out,
            pending: Vec::new(),
            cut,
        }
    }

    /// Rewrites and writes what is held up to the last place it may be cut.
    fn write_whole_pieces(&mut self) -> std::io::Result<()> {
        let at = match self.cut {
            Cut::Line => memchr::memrchr(b'\n', &self.pending).map(|n| n + 1),
            Cut::Paragraph => memchr::memmem::rfind(&self.pending, b"\n\n").map(|n| n + 1),
        };
        let Some(at) = at.filter(|&n| n > 0) else {
            return Ok(());
        };
        let piece = self.redactor.rewrite(&self.pending[..at]);
        self.out.write_all(&piece)?;
        self.pending.drain(..at);
        Ok(())
    }

    /// Rewrites and writes what is still held.
    pub fn finish(mut self) -> std::io::Result<()> {
        let piece = self.redactor.rewrite(&self.pending);
        self.pending.clear();
        self.out.write_all(&piece)?;
        self.out.flush()
    }
}

impl Write for Redacting<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= PIECE {
            self.write_whole_pieces()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Only what may be cut: the rest waits for more or for `finish`.
        self.write_whole_pieces()?;
        self.out.flush()
    }
}

/// The banner at the top of a redacted HTML page.
const HTML_BANNER: &str = "<p class=\"redacted\" role=\"note\" style=\"background:#fff3cd;border:1px solid #c9a100;padding:.4em .8em;font-weight:bold\">Redacted: MAC addresses, IP addresses, host names and certificate names are pseudonyms (SEP-PHONE-1, mac-1, ip-1, host-1, cert-name-1), the same value the same pseudonym throughout; hashes, serials, sizes and frame numbers are as captured.</p>\n";

/// A writer for the HTML page, given one whole part of it at a time (the head, each
/// `<script>` element, the end: [`super::html::write_streaming`]), each rewritten outside
/// its style sheet and scripts; the banner goes after `<body>` of the first part.
struct HtmlRedacting<'r, 'w> {
    redactor: &'r mut Redactor,
    out: &'w mut dyn Write,
    first: bool,
}

impl Write for HtmlRedacting<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let part = self.redactor.rewrite_html(buf);
        if std::mem::take(&mut self.first) {
            match find(&part, b"<body>\n") {
                Some(at) => {
                    let split = at + b"<body>\n".len();
                    self.out.write_all(&part[..split])?;
                    self.out.write_all(HTML_BANNER.as_bytes())?;
                    self.out.write_all(&part[split..])?;
                }
                None => {
                    self.out.write_all(HTML_BANNER.as_bytes())?;
                    self.out.write_all(&part)?;
                }
            }
        } else {
            self.out.write_all(&part)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Redactor {
    /// [`Redactor::learn`] phone by phone: the same values in the same order (the JSON
    /// object, then the text report), each phone diagnosed while its part is read and
    /// dropped after, no report held whole (issue 20). `lines` are the phones' lines
    /// ([`PhoneLine::of`] each phone of `prepared`), for the text report's top.
    pub fn learn_streaming(
        prepared: &Prepared<'_>,
        lines: &[PhoneLine],
        evidence: &Evidence,
        generated: Option<&Generated>,
        text: &TextOptions,
    ) -> std::io::Result<Redactor> {
        let mut r = Redactor::default();
        r.learn_json(prepared, evidence, generated, &mut |_, _| {})?;
        r.learn_text(prepared, lines, evidence, text)?;
        Ok(r)
    }

    /// The first step of [`Redactor::learn_streaming`]: the values of the JSON object,
    /// each phone's diagnosis shown to `watch` (its index, from 0) as it is read, so a
    /// pass over the phones that other outputs need is made at the same time.
    pub fn learn_json(
        &mut self,
        prepared: &Prepared<'_>,
        evidence: &Evidence,
        generated: Option<&Generated>,
        watch: &mut dyn FnMut(usize, &PhoneDiagnosis),
    ) -> std::io::Result<()> {
        let mut sink = std::io::sink();
        let mut json = Redacting::new(self, &mut sink, Cut::Line);
        super::json::write_streaming_watched(prepared, evidence, generated, watch, &mut json)?;
        json.finish()
    }

    /// The second and last step of [`Redactor::learn_streaming`]: the values of the text
    /// report (`lines`: its top), after which the pseudonyms' width is known.
    pub fn learn_text(
        &mut self,
        prepared: &Prepared<'_>,
        lines: &[PhoneLine],
        evidence: &Evidence,
        text: &TextOptions,
    ) -> std::io::Result<()> {
        let mut sink = std::io::sink();
        let options = TextOptions {
            color: false,
            brief: false,
            ..text.clone()
        };
        let mut readable = Redacting::new(self, &mut sink, Cut::Paragraph);
        super::text::write_prepared(prepared, lines, evidence, &options, &mut readable)?;
        readable.finish()?;
        self.width = self.macs.len().max(1).to_string().len();
        Ok(())
    }
}

/// [`write_json`] phone by phone: each phone diagnosed while its part is written, the
/// redacted JSON rewritten piece by piece (the same bytes, issue 20).
pub fn write_json_streaming(
    redactor: Option<&mut Redactor>,
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let Some(redactor) = redactor else {
        return super::json::write_streaming(prepared, evidence, generated, out);
    };
    let report = redactor.mark(Report::streaming(prepared, evidence), generated);
    let mut w = Redacting::new(redactor, out, Cut::Line);
    serde_json::to_writer_pretty(&mut w, &report).map_err(std::io::Error::from)?;
    w.write_all(b"\n")?;
    w.finish()
}

/// [`write_html`] phone by phone ([`super::html::write_streaming`]; `lines` from a first
/// pass): the same bytes, one phone's diagnosis and one part of the page at a time.
pub fn write_html_streaming(
    redactor: Option<&mut Redactor>,
    prepared: &Prepared<'_>,
    lines: &[super::html::HtmlLine],
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let Some(redactor) = redactor else {
        return super::html::write_streaming(
            prepared,
            lines,
            evidence,
            generated,
            &mut |details| details,
            out,
        );
    };
    // The details are rewritten with the same redactor before they are compressed, so the
    // page's parts go through a second borrow of it, one part at a time.
    let redactor = std::cell::RefCell::new(redactor);
    let mut details = |details: String| redactor.borrow_mut().redact_str(&details);
    let mut parts = PartsThrough {
        redactor: &redactor,
        out,
        first: true,
    };
    super::html::write_streaming(
        prepared,
        lines,
        evidence,
        generated,
        &mut details,
        &mut parts,
    )
}

/// [`HtmlRedacting`] over a shared redactor (the details closure holds it too).
struct PartsThrough<'a, 'r, 'w> {
    redactor: &'a std::cell::RefCell<&'r mut Redactor>,
    out: &'w mut dyn Write,
    first: bool,
}

impl Write for PartsThrough<'_, '_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut guard = self.redactor.borrow_mut();
        let mut through = HtmlRedacting {
            redactor: &mut guard,
            out: &mut *self.out,
            first: self.first,
        };
        let n = through.write(buf)?;
        self.first = through.first;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// [`write_filtered`] for a report written in parts (the text report, the CSV and JSON
/// lines): rewritten piece by piece as [`Redacting`] cuts them, not held whole.
pub fn write_filtered_streaming(
    redactor: Option<&mut Redactor>,
    banner: bool,
    out: &mut dyn Write,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let Some(redactor) = redactor else {
        return render(out);
    };
    if banner {
        writeln!(out, "{TEXT_BANNER}")?;
    }
    let cut = if banner { Cut::Paragraph } else { Cut::Line };
    let mut w = Redacting::new(redactor, out, cut);
    render(&mut w)?;
    w.finish()
}

/// Where `needle` first occurs in `hay` (memchr's substring search: linear, where a window
/// by window comparison was not, over pages of megabytes).
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Lower case, runs of white space as one space.
fn normalise(value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for word in value.split_whitespace() {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend(word.bytes().map(|b| b.to_ascii_lowercase()));
    }
    out
}

/// The leading ASCII letters and digits of `text`, lower case.
fn first_word(text: &[u8]) -> Vec<u8> {
    text.iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// Where `pattern` (from [`normalise`]) ends when it starts at `i`, any case, a space of the
/// pattern matching any run of white space (a value wrapped over two lines).
fn match_flexible(text: &[u8], i: usize, pattern: &[u8]) -> Option<usize> {
    let mut t = i;
    for &p in pattern {
        if p == b' ' {
            let start = t;
            while t < text.len() && text[t].is_ascii_whitespace() {
                t += 1;
            }
            if t == start {
                return None;
            }
        } else if text.get(t).map(u8::to_ascii_lowercase) == Some(p) {
            t += 1;
        } else {
            return None;
        }
    }
    Some(t)
}

/// Whether a value may end at `end`: not inside a longer word, number or dotted name.
fn ends_word(text: &[u8], end: usize) -> bool {
    match text.get(end) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.' | b'-' | b'_') => !text.get(end + 1).is_some_and(u8::is_ascii_alphanumeric),
        Some(_) => true,
    }
}

/// Six bytes from twelve hexadecimal digits.
fn mac_of_hex(hex: &[u8]) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    for (k, byte) in mac.iter_mut().enumerate() {
        let pair = std::str::from_utf8(hex.get(2 * k..2 * k + 2)?).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(mac)
}

/// `SEP` and twelve hexadecimal digits at `i`, not followed by a letter or digit.
fn sep_mac(text: &[u8], i: usize) -> Option<[u8; 6]> {
    let head = text.get(i..i + 3)?;
    if !head.eq_ignore_ascii_case(b"SEP") {
        return None;
    }
    let hex = text.get(i + 3..i + 15)?;
    if !hex.iter().all(u8::is_ascii_hexdigit)
        || text.get(i + 15).is_some_and(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    mac_of_hex(hex)
}

/// Whether `text` holds a `SEP<MAC>` anywhere.
fn contains_sep_mac(text: &[u8]) -> bool {
    (0..text.len()).any(|i| sep_mac(text, i).is_some())
}

/// Twelve hexadecimal digits alone at `i`.
fn bare_mac(text: &[u8], i: usize) -> Option<[u8; 6]> {
    let hex = text.get(i..i + 12)?;
    if !hex.iter().all(u8::is_ascii_hexdigit)
        || text.get(i + 12).is_some_and(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    mac_of_hex(hex)
}

/// A MAC written `00:11:22:33:44:55`, `00-11-…` or `0011.2233.4455` at `i`: its end and bytes.
fn mac_form(text: &[u8], i: usize) -> Option<(usize, [u8; 6])> {
    let hex = |k: usize| text.get(k).is_some_and(u8::is_ascii_hexdigit);
    if i > 0 && matches!(text[i - 1], b':' | b'-' | b'.') {
        return None;
    }
    // Pairs with one separator.
    if let Some(&sep) = text.get(i + 2).filter(|s| matches!(s, b':' | b'-')) {
        let end = i + 17;
        let shaped = (0..17).all(|k| {
            if k % 3 == 2 {
                text.get(i + k) == Some(&sep)
            } else {
                hex(i + k)
            }
        });
        let longer = text.get(end).is_some_and(u8::is_ascii_alphanumeric)
            || (text.get(end) == Some(&sep) && hex(end + 1));
        let after_ok = !longer;
        if shaped && after_ok {
            let digits: Vec<u8> = text[i..end].iter().copied().filter(|b| *b != sep).collect();
            return mac_of_hex(&digits).map(|m| (end, m));
        }
        return None;
    }
    // Cisco's dotted form.
    let end = i + 14;
    let shaped = (0..14).all(|k| {
        if k % 5 == 4 {
            text.get(i + k) == Some(&b'.')
        } else {
            hex(i + k)
        }
    });
    if shaped && ends_word(text, end) {
        let digits: Vec<u8> = text[i..end]
            .iter()
            .copied()
            .filter(|b| *b != b'.')
            .collect();
        return mac_of_hex(&digits).map(|m| (end, m));
    }
    None
}

/// A dotted-quad IPv4 address at `i`: its end and value (`10.0.0.1` not inside `10.0.0.12`
/// or `1.10.0.0.1`).
fn ipv4(text: &[u8], i: usize) -> Option<(usize, IpAddr)> {
    if i > 0 && text[i - 1] == b'.' {
        return None;
    }
    let mut end = i;
    while end < text.len() && (text[end].is_ascii_digit() || text[end] == b'.') {
        end += 1;
    }
    // A sentence's full stop after the address.
    while end > i && text[end - 1] == b'.' {
        end -= 1;
    }
    if text.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let token = std::str::from_utf8(&text[i..end]).ok()?;
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 4 || parts.iter().any(|p| p.is_empty() || p.len() > 3) {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        *o = p.parse().ok()?;
    }
    Some((end, IpAddr::V4(Ipv4Addr::from(octets))))
}

/// An IPv6 address at `i` (not a serial written `2E:3E:…`, not a time of day): its end and
/// value. A colon right after it (`TVS 2001:db8::10: …`) is not part of it.
fn ipv6(text: &[u8], i: usize) -> Option<(usize, IpAddr)> {
    if i > 0 && text[i - 1] == b':' {
        return None;
    }
    let mut end = i;
    while end < text.len() && (text[end].is_ascii_hexdigit() || text[end] == b':') {
        end += 1;
    }
    if text.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut token = std::str::from_utf8(&text[i..end]).ok()?;
    if token.matches(':').count() < 2 {
        return None;
    }
    loop {
        if let Ok(ip) = token.parse::<Ipv6Addr>() {
            let serial_like =
                !token.contains("::") && token.split(':').all(|group| group.len() == 2);
            if serial_like {
                return None;
            }
            return Some((i + token.len(), IpAddr::V6(ip)));
        }
        match token.strip_suffix(':') {
            Some(shorter) if !token.ends_with("::") => token = shorter,
            _ => return None,
        }
    }
}

/// Whether `token` is a DNS name: dotted labels, the last one letters (not a file
/// extension, not `e.g`), in one case (not `document.getElementById`).
fn is_dns_name(token: &[u8]) -> bool {
    // Most words of a report have no dot: answered before anything is allocated.
    if !token.contains(&b'.') {
        return false;
    }
    let Ok(token) = std::str::from_utf8(token) else {
        return false;
    };
    let labels: Vec<&str> = token.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return false;
    }
    let last = labels[labels.len() - 1];
    (2..=13).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_alphabetic())
        && (last.bytes().all(|b| b.is_ascii_lowercase())
            || last.bytes().all(|b| b.is_ascii_uppercase()))
        && !FILE_EXTENSIONS.contains(&last.to_ascii_lowercase().as_str())
}

/// A DNS name at `i`: where it ends.
fn dns_name(text: &[u8], i: usize) -> Option<usize> {
    let mut end = i;
    while end < text.len()
        && (text[end].is_ascii_alphanumeric() || text[end] == b'-' || text[end] == b'.')
    {
        end += 1;
    }
    while end > i && matches!(text[end - 1], b'.' | b'-') {
        end -= 1;
    }
    if matches!(text.get(end), Some(b'_' | b'@')) {
        return None;
    }
    is_dns_name(&text[i..end]).then_some(end)
}

/// The attribute name (lower case) right before `i` when `i` starts its value (`O=` here).
fn dn_key_before(text: &[u8], i: usize) -> Option<String> {
    if i == 0 || text[i - 1] != b'=' {
        return None;
    }
    let key_end = i - 1;
    let mut start = key_end;
    while start > 0 && text[start - 1].is_ascii_alphabetic() {
        start -= 1;
    }
    if start == key_end || (start > 0 && text[start - 1].is_ascii_alphanumeric()) {
        return None;
    }
    let key = String::from_utf8_lossy(&text[start..key_end]).to_ascii_lowercase();
    DN_KEYS.contains(&key.as_str()).then_some(key)
}

/// Whether `i` starts the value of a name attribute (`CN=`, `O=` …).
fn after_dn_key(text: &[u8], i: usize) -> bool {
    dn_key_before(text, i).is_some()
}

/// Whether an attribute (`, OU=`) starts at `k`, after optional spaces.
fn dn_key_at(text: &[u8], mut k: usize) -> bool {
    while text.get(k) == Some(&b' ') {
        k += 1;
    }
    let start = k;
    while text.get(k).is_some_and(u8::is_ascii_alphabetic) {
        k += 1;
    }
    text.get(k) == Some(&b'=')
        && DN_KEYS.contains(
            &String::from_utf8_lossy(&text[start..k])
                .to_ascii_lowercase()
                .as_str(),
        )
}

/// Where the attribute value starting at `i` ends: at the separator before the next
/// attribute, at the end of a line or string, or before a lower-case word (`C=US serial …`).
fn dn_value_end(text: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < text.len() {
        match text[j] {
            // An escaped character (`\,` in a name, `\"` in JSON) belongs to the value.
            b'\\' => {
                j += 2;
                continue;
            }
            b'"' | b'\n' | b'\r' | b'<' | b')' | b']' => break,
            b',' | b';' | b'+' | b'/' if dn_key_at(text, j + 1) => break,
            b' ' => {
                let next = text.get(j + 1).copied().unwrap_or(b' ');
                if !(next.is_ascii_uppercase() || next.is_ascii_digit()) {
                    break;
                }
            }
            _ => {}
        }
        j += 1;
    }
    while j > i && matches!(text[j - 1], b' ' | b'.' | b',' | b':' | b';') {
        j -= 1;
    }
    j
}

/// Whether `i` starts the string value of one of `keys` in JSON (`"mac": "` before it).
fn after_json_key(text: &[u8], i: usize, keys: &[&str]) -> bool {
    let head = &text[..i];
    let Some(head) = head.strip_suffix(b"\"") else {
        return false;
    };
    let head = head.strip_suffix(b" ").unwrap_or(head);
    let Some(head) = head.strip_suffix(b"\":") else {
        return false;
    };
    keys.iter().any(|k| {
        head.strip_suffix(k.as_bytes())
            .is_some_and(|h| h.ends_with(b"\""))
    })
}

/// Whether a one-word value is a word of the reports themselves.
fn is_stop_word(value: &str) -> bool {
    STOP_WORDS.contains(&value.to_ascii_lowercase().as_str())
}

/// `text` escaped as the HTML report escapes it.
fn html_escape(text: &str) -> String {
    super::html::esc(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(r: &mut Redactor, s: &str) -> String {
        r.redact_str(s)
    }

    #[test]
    fn every_mac_form_is_one_phone() {
        let mut r = Redactor::default();
        let s = redact(
            &mut r,
            "SEP00005E005321 ITLSEP00005E005321.tlv sep00005e005321.cnf.xml 00:00:5e:00:53:21 00-00-5E-00-53-21 0000.5e00.5321 00005E005321",
        );
        assert_eq!(
            s,
            "SEP-PHONE-1 ITLSEP-PHONE-1.tlv sep-PHONE-1.cnf.xml mac-1 mac-1 mac-1 mac-1"
        );
        assert_eq!(r.counts().mac, 1);
    }

    #[test]
    fn twelve_hex_digits_alone_are_a_mac_only_when_known_or_named_so() {
        let mut r = Redactor::default();
        assert_eq!(redact(&mut r, "serial 00005e005399"), "serial 00005e005399");
        assert_eq!(
            redact(&mut r, "\"mac\": \"00005E005399\""),
            "\"mac\": \"mac-1\""
        );
        assert_eq!(redact(&mut r, "serial 00005e005399"), "serial mac-1");
        // Inside a hash it is not one.
        assert_eq!(
            redact(&mut r, "sha1 aa00005e005399bb"),
            "sha1 aa00005e005399bb"
        );
    }

    #[test]
    fn addresses_are_matched_whole() {
        let mut r = Redactor::default();
        let s = redact(
            &mut r,
            "10.0.0.1 10.0.0.12 10.0.0.1:2445 [2001:db8:200::10]:2445 TVS 2001:db8:200::10: ok. 10.0.0.1.",
        );
        assert_eq!(s, "ip-1 ip-2 ip-1:2445 [ip-3]:2445 TVS ip-3: ok. ip-1.");
        // Versions, times and serials are not addresses.
        let kept = "TLS1.2 14.2.1 09:00:01.300000000Z 2E:3E:1A:7B:DA:A6:11:22 1.2.3.4.5 300.1.1.1";
        assert_eq!(redact(&mut r, kept), kept);
    }

    #[test]
    fn host_names_but_not_file_names() {
        let mut r = Redactor::default();
        let s = redact(
            &mut r,
            "ITL_TFTP_Server cucm-pub.example.com, ITLFile.tlv CallManager.pem logs.tar.gz e.g. document.getElementById CUCM-PUB.EXAMPLE.COM",
        );
        assert_eq!(
            s,
            "ITL_TFTP_Server host-1, ITLFile.tlv CallManager.pem logs.tar.gz e.g. document.getElementById host-1"
        );
    }

    #[test]
    fn certificate_names_keep_their_shape() {
        let mut r = Redactor::default();
        let s = redact(
            &mut r,
            "record #1 SAST CN=ITLRECOVERY_cucm-pub.example.com,OU=VTG,O=Example Lab,L=Springfield,ST=IL,C=US serial 5b73",
        );
        assert_eq!(
            s,
            "record #1 SAST CN=ITLRECOVERY_host-1,OU=cert-name-1,O=cert-name-2,L=cert-name-3,ST=cert-name-4,C=cert-name-5 serial 5b73"
        );
        // The same values in `show itl`'s form, wrapped over two lines; a CN that is not a
        // host is replaced wherever it appears.
        let s = redact(
            &mut r,
            "CN=cucm-pub.example.com;OU=VTG;O=Example\n       Lab;C=US and issuer CN=Example Lab Issuing CA serial 1; Example Lab Issuing CA",
        );
        assert_eq!(
            s,
            "CN=host-1;OU=cert-name-1;O=cert-name-2;C=cert-name-5 and issuer CN=cert-name-6 serial 1; cert-name-6"
        );
        // Attribute values are not replaced in the prose: "US" and "Lab" stay words.
        assert_eq!(redact(&mut r, "US Lab VTG"), "US Lab VTG");
    }

    #[test]
    fn a_phone_certificate_keeps_its_model() {
        let mut r = Redactor::default();
        assert_eq!(
            redact(&mut r, "CN=CP-8845-SEP00005E005321,O=Cisco"),
            "CN=CP-8845-SEP-PHONE-1,O=cert-name-1"
        );
        // "Cisco" as an attribute, not in the prose.
        assert_eq!(
            redact(&mut r, "the Cisco Trust Verification Service"),
            "the Cisco Trust Verification Service"
        );
    }

    #[test]
    fn json_host_fields_are_learnt() {
        let mut r = Redactor::default();
        let s = redact(
            &mut r,
            "\"itl_tftp_server\": \"cucmpub01\", \"sni\": \"tvs\", then cucmpub01 again",
        );
        assert_eq!(
            s,
            "\"itl_tftp_server\": \"host-1\", \"sni\": \"host-2\", then host-1 again"
        );
        // A stop word is a host only in its field.
        assert_eq!(redact(&mut r, "the tvs node"), "the tvs node");
    }

    #[test]
    fn html_keeps_its_script_and_style() {
        let mut r = Redactor::default();
        let page = b"<style>.a.b{x:1}</style><p>10.0.0.1</p><script>var a=document.body; x='10.0.0.1'</script><script type=\"application/json\" id=\"c\">[\"10.0.0.1\"]</script>";
        let out = String::from_utf8(r.rewrite_html(page)).unwrap();
        assert_eq!(
            out,
            "<style>.a.b{x:1}</style><p>ip-1</p><script>var a=document.body; x='10.0.0.1'</script><script type=\"application/json\" id=\"c\">[\"ip-1\"]</script>"
        );
    }

    #[test]
    fn an_escaped_name_is_one_value_in_json_and_text() {
        let mut r = Redactor::default();
        assert_eq!(
            redact(&mut r, "\"subject\": \"CN=a1,O=Example\\\\, Inc.,C=US\""),
            "\"subject\": \"CN=cert-name-1,O=cert-name-2.,C=cert-name-3\""
        );
        assert_eq!(redact(&mut r, "O=Example\\, Inc"), "O=cert-name-2");
    }

    #[test]
    fn escaped_forms_map_to_the_same_pseudonym() {
        let mut r = Redactor::default();
        assert_eq!(redact(&mut r, "CN=AT&T Lab CA"), "CN=cert-name-1");
        assert_eq!(
            redact(&mut r, "<td>AT&amp;T Lab CA</td>"),
            "<td>cert-name-1</td>"
        );
    }
}
