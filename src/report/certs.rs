//! Certificate references for the readable report: every certificate met (presented on the
//! wire, or a record of a trust list downloaded in the capture) is named once, in a legend at
//! the end, and called `[C1]`, `[C2]`… everywhere else. One certificate seen both on the wire
//! and in an ITL record (same serial, same subject in either DN spelling) is one reference.

use crate::cisco::model::function;
use crate::cisco::{serial_hex, trustlist};
use crate::evidence::Evidence;
use sha1::{Digest, Sha1};
use std::collections::{BTreeSet, HashMap};

/// Places one certificate is listed in the legend at most.
const MAX_PLACES: usize = 3;

/// One certificate: how its subject is spelled, its serial, where it was met.
#[derive(Debug, Clone)]
struct Cert {
    /// The subject as the report prints it (first spelling met first).
    spellings: Vec<String>,
    /// Serial, lower-case hex without leading zeros.
    serial: String,
    /// SHA-1 of the DER, when the certificate itself was seen.
    sha1: Option<String>,
    /// Where it was met ("presented by 198.51.100.10:2445", "record #3 TVS of ITL….tlv").
    places: Vec<String>,
    /// Places beyond [`MAX_PLACES`].
    more_places: usize,
    /// Its reference number, once the report has used it.
    number: Option<usize>,
}

/// The certificates of one report and the references handed out so far.
#[derive(Debug, Clone, Default)]
pub struct CertRefs {
    certs: Vec<Cert>,
    /// Normalised serial → the certificates with that serial.
    by_serial: HashMap<String, SameSerial>,
    /// Certificate indices in the order of their first use.
    used: Vec<usize>,
    /// Certificates compared and bytes of text searched so far: a count of work, so a test
    /// can show it grows linearly with the report (no timed tests).
    work: u64,
}

/// The certificates of one serial, indexed so that neither naming a certificate nor finding
/// a mention of one compares it with every other certificate of the serial.
#[derive(Debug, Clone, Default)]
struct SameSerial {
    /// Certificate indices, in the order they were met.
    ids: Vec<usize>,
    /// Name ([`dn_key`]) → its certificate (one per name: same serial and name is one).
    by_name: HashMap<Vec<String>, usize>,
    /// Subject spelling → its certificate.
    by_spelling: HashMap<String, usize>,
    /// The byte lengths of those spellings: a mention is looked up by the text that ends
    /// where its serial begins.
    lengths: BTreeSet<usize>,
}

/// A serial as the report prints it, lower case without leading zeros (or colons).
fn normal_serial(s: &str) -> String {
    let hex: String = s
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// `CN=a;OU=b` and `OU=b, CN=a` are the same name.
fn dn_key(dn: &str) -> Vec<String> {
    let mut parts: Vec<String> = dn
        .split([';', ','])
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    parts.sort();
    parts
}

impl CertRefs {
    /// Every certificate of the capture: TLS server certificates, and the records of every
    /// trust list downloaded whole.
    pub fn from_evidence(evidence: &Evidence) -> Self {
        let mut refs = CertRefs::default();
        for s in &evidence.tls {
            for c in &s.certificates {
                refs.add(
                    &c.subject,
                    &c.serial,
                    Some(c.sha1.clone()),
                    format!("presented by {}", s.server),
                );
            }
        }
        for f in evidence.files.iter().filter(|f| f.complete) {
            refs.add_trust_list(&f.name, &f.data);
        }
        refs
    }

    /// The records of a trust list (nothing when `bytes` is not one), named `name`.
    pub fn add_trust_list(&mut self, name: &str, bytes: &[u8]) {
        let Ok(list) = trustlist::parse_trust_list(bytes) else {
            return;
        };
        for (i, r) in list.records.iter().enumerate() {
            // Spelled as the reports print a record (RFC 4514, from its certificate if any).
            let subject = crate::dn::of_record(r.subject, r.certificate, crate::dn::Which::Subject)
                .or_else(|| r.dns_name.map(|d| String::from_utf8_lossy(d).into_owned()));
            let (Some(serial), Some(subject)) = (r.serial, subject) else {
                continue;
            };
            let role = r
                .function
                .map(function::name)
                .unwrap_or_else(|| "no role".into());
            self.add(
                &subject,
                &serial_hex(serial),
                r.certificate.map(|der| hex::encode(Sha1::digest(der))),
                format!("record #{} {role} of {name}", i + 1),
            );
        }
    }

    fn add(&mut self, subject: &str, serial: &str, sha1: Option<String>, place: String) {
        let serial = normal_serial(serial);
        let key = dn_key(subject);
        self.work += 1;
        let same = self
            .by_serial
            .get(&serial)
            .and_then(|s| s.by_name.get(&key).copied());
        let index = match same {
            Some(i) => i,
            None => {
                self.certs.push(Cert {
                    spellings: Vec::new(),
                    serial: serial.clone(),
                    sha1: None,
                    places: Vec::new(),
                    more_places: 0,
                    number: None,
                });
                let i = self.certs.len() - 1;
                let same = self.by_serial.entry(serial.clone()).or_default();
                same.ids.push(i);
                same.by_name.insert(key, i);
                i
            }
        };
        let same = self.by_serial.entry(serial).or_default();
        let cert = &mut self.certs[index];
        if !same.by_spelling.contains_key(subject) {
            same.by_spelling.insert(subject.to_owned(), index);
            same.lengths.insert(subject.len());
            cert.spellings.push(subject.to_owned());
        }
        if cert.sha1.is_none() {
            cert.sha1 = sha1;
        }
        if cert.places.contains(&place) {
        } else if cert.places.len() < MAX_PLACES {
            cert.places.push(place);
        } else {
            cert.more_places += 1;
        }
    }

    /// The reference of certificate `i`, handing out the next number on first use.
    fn reference(&mut self, i: usize) -> String {
        let number = match self.certs[i].number {
            Some(n) => n,
            None => {
                self.used.push(i);
                let n = self.used.len();
                self.certs[i].number = Some(n);
                n
            }
        };
        format!("[C{number}]")
    }

    /// `text` with every mention of a known certificate (`SUBJECT serial X`,
    /// `SUBJECT (serial X)`, `SUBJECT (serial X, sha1 H)`, `SUBJECT (serial X, …)`) replaced
    /// by its reference.
    pub fn shorten(&mut self, text: &str) -> String {
        if !text.contains("serial ") || self.certs.is_empty() {
            return text.to_owned();
        }
        // New references are handed out serial by serial in the order the text first
        // mentions each serial, and within a serial in the order the certificates were met.
        let mut rank: HashMap<String, usize> = HashMap::new();
        // Mentions of a subject followed by its serial, in text order, not overlapping.
        let mut hits: Vec<(usize, usize, usize, bool)> = Vec::new();
        let mut cursor = 0;
        self.work += text.len() as u64;
        for (at, _) in text.match_indices("serial ") {
            let token = hex_token(&text[at + 7..]);
            let serial = normal_serial(token);
            let Some(same) = self.by_serial.get(&serial) else {
                continue;
            };
            let next = rank.len();
            rank.entry(serial).or_insert(next);
            if token.is_empty() || at < cursor {
                continue;
            }
            let before = &text[..at];
            let end = if before.ends_with(" (") {
                at - 2
            } else if before.ends_with(' ') {
                at - 1
            } else {
                continue;
            };
            if end < cursor {
                continue;
            }
            // The spellings that end here; the earliest certificate met that the mention
            // fits wins (as when each certificate's spellings were searched for in turn).
            let mut found: Vec<(usize, usize)> = Vec::new();
            for &len in &same.lengths {
                if len > end - cursor {
                    break;
                }
                self.work += len as u64;
                if let Some(&i) = text
                    .get(end - len..end)
                    .and_then(|s| same.by_spelling.get(s))
                {
                    found.push((i, end - len));
                }
            }
            found.sort_unstable();
            let hit = found.into_iter().find_map(|(i, start)| {
                let cert = &self.certs[i];
                mention_end(&text[end..], &cert.serial, cert.sha1.as_deref())
                    .map(|(len, open_paren)| (start, end + len, i, open_paren))
            });
            if let Some(hit) = hit {
                cursor = hit.1;
                hits.push(hit);
            }
        }
        let mut fresh: Vec<usize> = hits
            .iter()
            .map(|h| h.2)
            .filter(|&i| self.certs[i].number.is_none())
            .collect();
        fresh.sort_unstable_by_key(|&i| (rank.get(&self.certs[i].serial).copied(), i));
        fresh.dedup();
        for i in fresh {
            self.reference(i);
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, end, i, open_paren) in hits {
            out.push_str(&text[copied..start]);
            out.push_str(&self.reference(i));
            if open_paren {
                out.push_str(" (");
            }
            copied = end;
        }
        out.push_str(&text[copied..]);
        // A bare `(serial X)` of a certificate met under that serial only.
        let mut bare = String::with_capacity(out.len());
        let (mut copied, mut from) = (0, 0);
        while let Some(found) = out[from..].find(" (serial ") {
            let start = from + found;
            self.work += (found + 9) as u64;
            let rest = &out[start + 9..];
            let token = hex_token(rest);
            let unique = match self.by_serial.get(&normal_serial(token)) {
                Some(same) if same.ids.len() == 1 && rest[token.len()..].starts_with(')') => {
                    Some(same.ids[0])
                }
                _ => None,
            };
            match unique {
                Some(i) => {
                    bare.push_str(&out[copied..start]);
                    bare.push(' ');
                    bare.push_str(&self.reference(i));
                    copied = start + 9 + token.len() + 1;
                    from = copied;
                }
                None => from = start + 9,
            }
        }
        bare.push_str(&out[copied..]);
        bare
    }

    /// Certificates compared and bytes of text searched so far (a count of work, not time).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// The legend: one line per certificate referred to, in the order of first use.
    pub fn legend(&self) -> Vec<String> {
        self.used
            .iter()
            .filter_map(|&i| {
                let c = self.certs.get(i)?;
                let mut line = format!(
                    "[C{}] {} serial {}",
                    c.number.unwrap_or_default(),
                    c.spellings.first().map(String::as_str).unwrap_or("?"),
                    c.serial
                );
                if let Some(sha1) = &c.sha1 {
                    line.push_str(&format!(" sha1 {sha1}"));
                }
                if !c.places.is_empty() {
                    line.push_str(": ");
                    line.push_str(&c.places.join("; "));
                    if c.more_places > 0 {
                        line.push_str(&format!(" and {} more", c.more_places));
                    }
                }
                Some(line)
            })
            .collect()
    }
}

/// The serial-like token `s` begins with: hexadecimal digits and colons.
fn hex_token(s: &str) -> &str {
    let len = s
        .find(|c: char| !(c.is_ascii_hexdigit() || c == ':'))
        .unwrap_or(s.len());
    &s[..len]
}

/// After a subject: how many bytes of `rest` name the serial (and SHA-1), and whether an
/// opening parenthesis must be kept because more follows inside it.
fn mention_end(rest: &str, serial: &str, sha1: Option<&str>) -> Option<(usize, bool)> {
    let serial_at = |s: &str| -> Option<usize> {
        let token = hex_token(s);
        (!token.is_empty() && normal_serial(token) == serial).then_some(token.len())
    };
    if let Some(tail) = rest.strip_prefix(" serial ") {
        let n = serial_at(tail)?;
        return Some((8 + n, false));
    }
    let tail = rest.strip_prefix(" (serial ")?;
    let n = serial_at(tail)?;
    let mut used = 9 + n;
    let mut tail = &tail[n..];
    if let (Some(sha1), Some(t)) = (sha1, tail.strip_prefix(", sha1 "))
        && t.starts_with(sha1)
    {
        used += 7 + sha1.len();
        tail = &t[sha1.len()..];
    }
    if tail.starts_with(')') {
        Some((used + 1, false))
    } else if tail.starts_with(", ") {
        Some((used + 2, true))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> CertRefs {
        let mut r = CertRefs::default();
        r.add(
            "C=US, O=Lab, CN=tvs",
            "2e3e",
            Some("aa11".into()),
            "presented by 10.0.0.1:2445".into(),
        );
        r.add(
            "CN=tvs;O=Lab;C=US",
            "002E3E",
            None,
            "record #3 TVS of ITL.tlv".into(),
        );
        r.add("CN=other", "77", None, "record #1 SAST of ITL.tlv".into());
        r
    }

    #[test]
    fn one_certificate_in_either_spelling_is_one_reference() {
        let mut r = refs();
        let text = "TVS presented C=US, O=Lab, CN=tvs (serial 2e3e, sha1 aa11): matches record #3 TVS CN=tvs;O=Lab;C=US serial 2e3e of the ITL";
        assert_eq!(
            r.shorten(text),
            "TVS presented [C1]: matches record #3 TVS [C1] of the ITL"
        );
        assert_eq!(
            r.shorten("signed by record #1 SAST CN=other serial 77"),
            "signed by record #1 SAST [C2]"
        );
        let legend = r.legend();
        assert_eq!(legend.len(), 2);
        assert!(legend[0].starts_with(
            "[C1] C=US, O=Lab, CN=tvs serial 2e3e sha1 aa11: presented by 10.0.0.1:2445; record #3"
        ));
    }

    #[test]
    fn open_parentheses_keep_what_follows() {
        let mut r = refs();
        assert_eq!(
            r.shorten("presented C=US, O=Lab, CN=tvs (serial 2e3e, sha1 aa11, frame 12), which"),
            "presented [C1] (frame 12), which"
        );
        assert_eq!(
            r.shorten("TVS presented a certificate (serial 2e3e) that"),
            "TVS presented a certificate [C1] that"
        );
        // Another serial, or no serial, is left alone.
        let other = "C=US, O=Lab, CN=tvs (serial 9999) and CN=other alone";
        assert_eq!(r.shorten(other), other);
        assert!(r.legend().len() == 1);
    }
    /// The former search, certificate by certificate over the whole text (cubic with many
    /// certificates of one serial): the one-pass [`CertRefs::shorten`] must say the same.
    fn shorten_by_search(r: &mut CertRefs, text: &str) -> String {
        if !text.contains("serial ") || r.certs.is_empty() {
            return text.to_owned();
        }
        let mut candidates: Vec<usize> = Vec::new();
        for (at, _) in text.match_indices("serial ") {
            if let Some(same) = r.by_serial.get(&normal_serial(hex_token(&text[at + 7..]))) {
                for &i in &same.ids {
                    if !candidates.contains(&i) {
                        candidates.push(i);
                    }
                }
            }
        }
        let mut out = text.to_owned();
        for i in candidates {
            let serial = r.certs[i].serial.clone();
            let sha1 = r.certs[i].sha1.clone();
            for spelling in r.certs[i].spellings.clone() {
                let mut from = 0;
                while let Some(found) = out[from..].find(&spelling) {
                    let start = from + found;
                    let after = start + spelling.len();
                    match mention_end(&out[after..], &serial, sha1.as_deref()) {
                        Some((len, open_paren)) => {
                            let mut reference = r.reference(i);
                            if open_paren {
                                reference.push_str(" (");
                            }
                            out.replace_range(start..after + len, &reference);
                            from = start + reference.len();
                        }
                        None => from = after,
                    }
                }
            }
        }
        let mut from = 0;
        while let Some(found) = out[from..].find(" (serial ") {
            let start = from + found;
            let rest = &out[start + 9..];
            let token = hex_token(rest).to_owned();
            let unique = match r.by_serial.get(&normal_serial(&token)) {
                Some(same) if same.ids.len() == 1 && rest[token.len()..].starts_with(')') => {
                    Some(same.ids[0])
                }
                _ => None,
            };
            match unique {
                Some(i) => {
                    let reference = format!(" {}", r.reference(i));
                    out.replace_range(start..start + 9 + token.len() + 1, &reference);
                    from = start + reference.len();
                }
                None => from = start + 9,
            }
        }
        out
    }

    #[test]
    fn one_pass_shortening_says_what_the_search_said() {
        // Spellings that end one another, two serials, a SHA-1 that begins another.
        let mut base = CertRefs::default();
        base.add(
            "C=US, O=Lab, CN=tvs",
            "2e3e",
            Some("aa11".into()),
            "p1".into(),
        );
        base.add("CN=tvs", "2e3e", Some("aa11ff".into()), "p2".into());
        base.add("CN=tvs;O=Lab;C=US", "2E3E", None, "p3".into());
        base.add("O=Lab, CN=tvs", "77", None, "p4".into());
        base.add("CN=sast", "1", None, "p5".into());
        base.add("CN=other", "77", Some("bb".into()), "p6".into());
        let subjects = [
            "C=US, O=Lab, CN=tvs",
            "CN=tvs",
            "CN=tvs;O=Lab;C=US",
            "O=Lab, CN=tvs",
            "CN=sast",
            "CN=other",
            "a certificate",
            "",
        ];
        let seps = [" serial ", " (serial ", "serial ", " ("];
        let serials = ["2e3e", "002E3E", "2e:3e", "77", "1", "01", "", "9"];
        let tails = [
            ")",
            ", sha1 aa11)",
            ", sha1 aa11ff)",
            ", sha1 bb, frame 2)",
            ", frame 3)",
            ", ",
            "",
            " x",
            " and ",
            "é ",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % m
        };
        let mut changed = 0;
        for _ in 0..3_000 {
            let (mut a, mut b) = (base.clone(), base.clone());
            // Several lines through the same references, so numbering is compared too.
            for _ in 0..3 {
                let mut text = String::new();
                for _ in 0..1 + next(6) {
                    text.push_str(subjects[next(subjects.len())]);
                    text.push_str(seps[next(seps.len())]);
                    text.push_str(serials[next(serials.len())]);
                    text.push_str(tails[next(tails.len())]);
                    // Reports separate a mention from what follows (a serial glued to the
                    // next subject could only be matched after an earlier replacement).
                    text.push_str([" ", "; ", ": "][next(3)]);
                }
                let short = a.shorten(&text);
                changed += usize::from(short != text);
                assert_eq!(short, shorten_by_search(&mut b, &text), "{text:?}");
            }
            assert_eq!(a.legend(), b.legend());
        }
        assert!(
            changed > 2_000,
            "the texts mention certificates ({changed})"
        );
    }

    #[test]
    fn a_certificate_with_an_empty_subject_ends() {
        // The former search looked for the empty spelling at the same place forever.
        let mut r = CertRefs::default();
        r.add("", "01", None, "presented by 10.0.0.1:443".into());
        assert_eq!(r.shorten("x (serial 02) serial 01"), "x (serial 02)[C1]");
    }

    #[test]
    fn many_certificates_of_one_serial_are_named_with_one_lookup_each() {
        let mut r = CertRefs::default();
        for i in 0..1_000 {
            r.add(&format!("CN=host-{i}"), "01", None, format!("p{i}"));
        }
        assert_eq!(r.work(), 1_000, "one lookup per certificate, not a scan");
        assert_eq!(r.shorten("CN=host-999 serial 01"), "[C1]");
    }
}
