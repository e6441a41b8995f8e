//! Certificate references for the readable report: every certificate met (presented on the
//! wire, or a record of a trust list downloaded in the capture) is named once, in a legend at
//! the end, and called `[C1]`, `[C2]`… everywhere else. One certificate seen both on the wire
//! and in an ITL record (same serial, same subject in either DN spelling) is one reference.

use crate::cisco::model::function;
use crate::cisco::{serial_hex, trustlist};
use crate::evidence::Evidence;
use sha1::{Digest, Sha1};
use std::collections::HashMap;

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
    /// Normalised serial → certificates with that serial.
    by_serial: HashMap<String, Vec<usize>>,
    /// Certificate indices in the order of their first use.
    used: Vec<usize>,
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
        let same = self.by_serial.get(&serial).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|&i| self.certs[i].spellings.iter().any(|s| dn_key(s) == key))
        });
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
                self.by_serial.entry(serial).or_default().push(i);
                i
            }
        };
        let cert = &mut self.certs[index];
        if !cert.spellings.iter().any(|s| s == subject) {
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
        // Only certificates whose serial the text mentions are looked for.
        let mut candidates: Vec<usize> = Vec::new();
        for (at, _) in text.match_indices("serial ") {
            let token: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit() || *c == ':')
                .collect();
            if let Some(ids) = self.by_serial.get(&normal_serial(&token)) {
                for &i in ids {
                    if !candidates.contains(&i) {
                        candidates.push(i);
                    }
                }
            }
        }
        let mut out = text.to_owned();
        for i in candidates {
            let serial = self.certs[i].serial.clone();
            let sha1 = self.certs[i].sha1.clone();
            for spelling in self.certs[i].spellings.clone() {
                let mut from = 0;
                while let Some(found) = out[from..].find(&spelling) {
                    let start = from + found;
                    let after = start + spelling.len();
                    match mention_end(&out[after..], &serial, sha1.as_deref()) {
                        Some((len, open_paren)) => {
                            let mut reference = self.reference(i);
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
        // A bare `(serial X)` of a certificate met under that serial only.
        let mut from = 0;
        while let Some(found) = out[from..].find(" (serial ") {
            let start = from + found;
            let rest = &out[start + 9..];
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_hexdigit() || *c == ':')
                .collect();
            let unique = match self.by_serial.get(&normal_serial(&token)) {
                Some(ids) if ids.len() == 1 && rest[token.len()..].starts_with(')') => Some(ids[0]),
                _ => None,
            };
            match unique {
                Some(i) => {
                    let reference = format!(" {}", self.reference(i));
                    out.replace_range(start..start + 9 + token.len() + 1, &reference);
                    from = start + reference.len();
                }
                None => from = start + 9,
            }
        }
        out
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

/// After a subject: how many bytes of `rest` name the serial (and SHA-1), and whether an
/// opening parenthesis must be kept because more follows inside it.
fn mention_end(rest: &str, serial: &str, sha1: Option<&str>) -> Option<(usize, bool)> {
    let serial_at = |s: &str| -> Option<usize> {
        let token: String = s
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == ':')
            .collect();
        (!token.is_empty() && normal_serial(&token) == serial).then_some(token.len())
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
}
