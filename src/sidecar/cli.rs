//! CUCM CLI output: `show itl` / `show ctl` (also flattened onto one line by web pages, with
//! their typos `DIGESTALGORTITHM`, `SIGNATUREALGORTITHM`, values run into the length column),
//! and the `utils itl reset` / `utils ctl` commands that say which key signs.
//!
//! Tokenised on whitespace and read as `BYTEPOS TAG LENGTH VALUE…` rows (phone-log-lines.md
//! §3.5), so line breaks do not matter; each value runs to the next row or sentence.

use super::{CliAction, CliRecord, CliTrustList, Source};

/// Row tags `show itl` / `show ctl` print (typos included as CUCM prints them).
const TAGS: &[&str] = &[
    "RECORDLENGTH",
    "DNSNAME",
    "SUBJECTNAME",
    "FUNCTION",
    "ISSUERNAME",
    "ISSUENAME",
    "SERIALNUMBER",
    "PUBLICKEY",
    "SIGNATURE",
    "CERTIFICATE",
    "IPADDRESS",
    "CERTHASH",
    "HASH",
    "SIGNERID",
    "SIGNERNAME",
    "CANAME",
    "SIGNATUREINFO",
    "DIGESTALGORTITHM",
    "DIGESTALGORITHM",
    "SIGNATUREALGOINFO",
    "SIGNATUREALGORTITHM",
    "SIGNATUREALGORITHM",
    "SIGNATUREMODULUS",
    "FILENAME",
    "TIMESTAMP",
];

/// True when the text holds `show itl` / `show ctl` output or a `utils itl|ctl` command.
pub fn looks_like(text: &str) -> bool {
    let flat: String = text
        .chars()
        .take(1 << 20)
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    [
        "itl record #:",
        "ctl record #:",
        "the checksum value of the",
        "length of itl file",
        "length of ctl file",
        "utils itl reset",
        "utils ctl",
    ]
    .iter()
    .any(|m| flat.contains(m))
}

#[derive(Debug, Clone, Copy)]
struct Tok<'t> {
    text: &'t str,
    line: usize,
}

fn tokens(text: &str) -> Vec<Tok<'_>> {
    text.lines()
        .enumerate()
        .flat_map(|(i, l)| {
            l.split_whitespace().map(move |t| Tok {
                text: t,
                line: i + 1,
            })
        })
        .collect()
}

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

fn eq(t: Option<&Tok<'_>>, s: &str) -> bool {
    t.is_some_and(|t| t.text.eq_ignore_ascii_case(s))
}

/// A row starts at `i`: `BYTEPOS TAG`.
fn row_at(toks: &[Tok<'_>], i: usize) -> Option<&'static str> {
    if !is_num(toks.get(i)?.text) {
        return None;
    }
    let tag = toks.get(i + 1)?.text;
    TAGS.iter().copied().find(|t| *t == tag)
}

/// A sentence that ends a value: `This etoken…`, `The CTL file…`, `ITL Record #:`, `[...]`.
fn stop_at(toks: &[Tok<'_>], i: usize) -> bool {
    let t = toks[i].text;
    (t == "This" && eq(toks.get(i + 1), "etoken"))
        || (t == "The" && (eq(toks.get(i + 1), "ITL") || eq(toks.get(i + 1), "CTL")))
        || ((t == "ITL" || t == "CTL") && eq(toks.get(i + 1), "Record"))
        || t == "Verification"
        || t == "Error"
        || t.starts_with("admin:")
        || t == "[...]"
        || t == "Parse"
        || t == "BYTEPOS"
}

fn hex_only(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

fn serial(value: &str) -> Option<String> {
    let h = hex_only(value.split_whitespace().next()?);
    if h.is_empty() || !h.len().is_multiple_of(2) {
        return None;
    }
    let bytes = hex::decode(&h).ok()?;
    Some(crate::serial::serial_hex(&bytes))
}

/// `E9 D4 … (SHA1 Hash HEX)`, or a CERTHASH value: 20 bytes of hex.
fn cert_hash(value: &str) -> Option<String> {
    let before = value.split('(').next().unwrap_or(value);
    let h = hex_only(before);
    (h.len() == 40).then_some(h)
}

/// Parses `show itl` / `show ctl` output and `utils` commands.
pub fn parse(text: &str, source: &Source) -> (Vec<CliTrustList>, Vec<CliAction>) {
    let toks = tokens(text);
    let mut lists: Vec<CliTrustList> = Vec::new();
    let mut actions = Vec::new();
    let mut cur: Option<CliTrustList> = None;
    let mut record: Option<CliRecord> = None;
    let at = |line: usize| Source {
        line: Some(line),
        ..source.clone()
    };
    fn finish(
        cur: &mut Option<CliTrustList>,
        record: &mut Option<CliRecord>,
        lists: &mut Vec<CliTrustList>,
    ) {
        if let (Some(l), Some(r)) = (cur.as_mut(), record.take()) {
            l.records.push(r);
        }
        if let Some(l) = cur.take() {
            lists.push(l);
        }
    }
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text.trim_start_matches("admin:");
        let next = |k: usize| toks.get(i + k).map(|t| t.text).unwrap_or("");
        // `show itl` / `show ctl`: a new listing.
        if t.eq_ignore_ascii_case("show")
            && (next(1).eq_ignore_ascii_case("itl") || next(1).eq_ignore_ascii_case("ctl"))
        {
            finish(&mut cur, &mut record, &mut lists);
            cur = Some(CliTrustList {
                source: at(toks[i].line),
                kind: next(1).to_ascii_uppercase(),
                ..CliTrustList::default()
            });
            i += 2;
            continue;
        }
        if t.eq_ignore_ascii_case("utils")
            && next(1).eq_ignore_ascii_case("itl")
            && next(2).eq_ignore_ascii_case("reset")
        {
            let what = match next(3).to_ascii_lowercase().as_str() {
                "localkey" => "`utils itl reset localkey`: the ITL is re-signed with this cluster's ITLRecovery key, which phones holding the current ITL trust".to_string(),
                "remotekey" => format!("`utils itl reset remotekey {}`: the ITL is re-signed with the ITLRecovery key of another node", next(4)),
                other => format!("`utils itl reset {other}`"),
            };
            actions.push(CliAction {
                source: at(toks[i].line),
                what,
            });
            i += 3;
            continue;
        }
        if t.eq_ignore_ascii_case("utils") && next(1).eq_ignore_ascii_case("ctl") {
            let what = match next(2).to_ascii_lowercase().as_str() {
                "set-cluster" => format!("`utils ctl set-cluster {}`: the CTL is (re)built and signed by the CallManager/ITLRecovery key (tokenless CTL)", next(3)),
                "update" => "`utils ctl update CTLFile`: the CTL is re-signed by the CallManager/ITLRecovery key (tokenless CTL)".to_string(),
                other => format!("`utils ctl {other}`"),
            };
            actions.push(CliAction {
                source: at(toks[i].line),
                what,
            });
            i += 2;
            continue;
        }
        // `The checksum value of the ITL file: <md5>(MD5) <sha1>(SHA1)`
        if t == "The" && next(1) == "checksum" {
            let kind = next(5).to_ascii_uppercase();
            let l = cur.get_or_insert_with(|| CliTrustList {
                source: at(toks[i].line),
                kind: kind.clone(),
                ..CliTrustList::default()
            });
            for k in 7..9 {
                let v = next(k);
                let (hex, tag) = v.split_once('(').unwrap_or((v, ""));
                let hex = hex_only(hex);
                match tag.to_ascii_uppercase().trim_end_matches(')') {
                    "MD5" if hex.len() == 32 => l.md5 = Some(hex),
                    "SHA1" if hex.len() == 40 => l.sha1 = Some(hex),
                    _ => {}
                }
            }
            i += 7;
            continue;
        }
        // `Length of ITL file: 5438`
        if t == "Length" && next(1) == "of" && next(3) == "file:" {
            let l = cur.get_or_insert_with(|| CliTrustList {
                source: at(toks[i].line),
                kind: next(2).to_ascii_uppercase(),
                ..CliTrustList::default()
            });
            l.length = next(4).parse().ok();
            i += 5;
            continue;
        }
        // `ITL Record #:2`
        if (t == "ITL" || t == "CTL") && next(1) == "Record" && next(2).starts_with("#:") {
            let number = next(2).trim_start_matches("#:").parse().unwrap_or(0);
            let l = cur.get_or_insert_with(|| CliTrustList {
                source: at(toks[i].line),
                kind: t.to_string(),
                ..CliTrustList::default()
            });
            if let Some(r) = record.take() {
                l.records.push(r);
            }
            record = Some(CliRecord {
                number,
                ..CliRecord::default()
            });
            i += 3;
            continue;
        }
        if t == "This" && next(1) == "etoken" {
            let used = next(3) != "not";
            if let Some(r) = record.as_mut() {
                r.signed_this_file = Some(used);
            }
            i += 2;
            continue;
        }
        if t == "The"
            && (next(1) == "ITL" || next(1) == "CTL")
            && next(2).eq_ignore_ascii_case("file")
            && next(3) == "was"
            && next(4) == "verified"
        {
            if let Some(l) = cur.as_mut() {
                l.verified = Some(true);
            }
            i += 5;
            continue;
        }
        if t == "Verification" && next(1) == "of" && next(5).starts_with("failed") {
            if let Some(l) = cur.as_mut() {
                l.verified = Some(false);
            }
            i += 5;
            continue;
        }
        if (t == "Error" && next(1) == "parsing") || (t == "not" && next(1) == "found") {
            if let Some(l) = cur.as_mut() {
                let phrase = if t == "Error" {
                    "error parsing the file"
                } else {
                    "file not found"
                };
                l.error.get_or_insert_with(|| phrase.to_string());
            }
            i += 2;
            continue;
        }
        if let Some(tag) = row_at(&toks, i) {
            // Skip `BYTEPOS TAG [LENGTH]`, then the value to the next row or sentence.
            let mut j = i + 2;
            if tag == "HASH" && eq(toks.get(j), "ALGORITHM") {
                j += 1;
            }
            if toks.get(j).is_some_and(|t| is_num(t.text)) && row_at(&toks, j).is_none() {
                j += 1;
            }
            let start = j;
            while j < toks.len() && row_at(&toks, j).is_none() && !stop_at(&toks, j) {
                j += 1;
            }
            let value = toks[start..j]
                .iter()
                .map(|t| t.text)
                .collect::<Vec<_>>()
                .join(" ");
            let value = (!value.is_empty()).then_some(value);
            match (record.as_mut(), tag) {
                (Some(r), "DNSNAME") => r.dns_name = value,
                (Some(r), "SUBJECTNAME") => r.subject = value,
                (Some(r), "FUNCTION") => r.function = value,
                (Some(r), "ISSUERNAME" | "ISSUENAME") => r.issuer = value,
                (Some(r), "SERIALNUMBER") => r.serial = value.as_deref().and_then(serial),
                (Some(r), "CERTIFICATE" | "CERTHASH") => {
                    r.cert_sha1 = value.as_deref().and_then(cert_hash)
                }
                (None, "SIGNERNAME") => {
                    if let Some(l) = cur.as_mut() {
                        l.signer_name = value;
                    }
                }
                (None, "SERIALNUMBER") => {
                    if let Some(l) = cur.as_mut() {
                        l.signer_serial = value.as_deref().and_then(serial);
                    }
                }
                _ => {}
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    finish(&mut cur, &mut record, &mut lists);
    (lists, actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// phone-log-lines.md §3.5, verbatim (flattened by the web page).
    const SHOW_CTL: &str = "admin: show ctl The checksum value of the CTL file: 0c05655de63fe2a042cf252d96c6d609(MD5) 8c92d1a569f7263cf4485812366e66e3b503a2f5(SHA1) Length of CTL file: 4947 The CTL File was last modified on Fri Mar 06 19:45:13 CET 2015 [...] CTL Record #:1 ---- BYTEPOS TAG             LENGTH  VALUE ------- ---             ------  ----- 1       RECORDLENGTH    2       1156 2       DNSNAME         16      cucm-1051-a-pub 3       SUBJECTNAME     62      CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL 4       FUNCTION        2       System Administrator Security Token 5       ISSUERNAME      62      CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL 6       SERIALNUMBER    16 70:CA:F6:4E:09:07:51:B9:DF:22:F4:9F:75:4F:C5:BB 7       PUBLICKEY       140 8       SIGNATURE       128 9       CERTIFICATE     694     E9 D4 33 64 5B C8 8C ED 51 4D 8F E5 EA 5B 6D 21 A5 A3 8C 9C (SHA1 Hash HEX) 10      IPADDRESS       4 This etoken was used to sign the CTL file. CTL Record #:2 ---- BYTEPOS TAG             LENGTH  VALUE ------- ---             ------  ----- 1       RECORDLENGTH    2       1156 2       DNSNAME         16      cucm-1051-a-pub 3       SUBJECTNAME     62      CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL 4       FUNCTION        2 CCM+TFTP [...] The CTL file was verified successfully.";

    #[test]
    fn flattened_show_ctl_is_read() {
        assert!(looks_like(SHOW_CTL));
        let src = Source {
            file: "show-ctl.txt".into(),
            ..Source::default()
        };
        let (lists, actions) = parse(SHOW_CTL, &src);
        assert!(actions.is_empty());
        assert_eq!(lists.len(), 1);
        let l = &lists[0];
        assert_eq!(l.kind, "CTL");
        assert_eq!(l.md5.as_deref(), Some("0c05655de63fe2a042cf252d96c6d609"));
        assert_eq!(
            l.sha1.as_deref(),
            Some("8c92d1a569f7263cf4485812366e66e3b503a2f5")
        );
        assert_eq!(l.length, Some(4947));
        assert_eq!(l.verified, Some(true));
        assert_eq!(l.records.len(), 2);
        let r = &l.records[0];
        assert_eq!(
            r.function.as_deref(),
            Some("System Administrator Security Token")
        );
        assert_eq!(r.dns_name.as_deref(), Some("cucm-1051-a-pub"));
        assert_eq!(
            r.subject.as_deref(),
            Some("CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL")
        );
        assert_eq!(
            r.serial.as_deref(),
            Some("70caf64e090751b9df22f49f754fc5bb")
        );
        assert_eq!(
            r.cert_sha1.as_deref(),
            Some("e9d433645bc88ced514d8fe5ea5b6d21a5a38c9c")
        );
        assert_eq!(r.signed_this_file, Some(true));
        // The value run into the length column (`2 CCM+TFTP`).
        assert_eq!(l.records[1].function.as_deref(), Some("CCM+TFTP"));
    }

    #[test]
    fn header_with_typos_and_errors() {
        // §3.5, verbatim: the header dump with DIGESTALGORTITHM and SIGNATUREALGORTITHM.
        let text = "admin: show ctl The checksum value of the CTL file: 1d97d9089dd558a062cccfcb1dc4c57f(MD5) 3b452f9ec9d6543df80e50f8b850cddc92fcf847(SHA1) Length of CTL file: 4947 The CTL File was last modified on Fri Mar 06 21:56:07 CET 2015 Parse CTL File ---------------- Version:        1.2 HeaderLength:   336 (BYTES) BYTEPOS TAG             LENGTH  VALUE ------- ---             ------  ----- 3       SIGNERID        2       149 4       SIGNERNAME      62      CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL 5       SERIALNUMBER    16      70:CA:F6:4E:09:07:51:B9:DF:22:F4:9F:75:4F:C5:BB 6       CANAME          62      CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL 7       SIGNATUREINFO   2       15 8       DIGESTALGORTITHM        1 9       SIGNATUREALGOINFO       2       8 10      SIGNATUREALGORTITHM     1 11      SIGNATUREMODULUS        1 12      SIGNATURE       128 65  ba  26  b4";
        let (lists, _) = parse(text, &Source::default());
        let l = &lists[0];
        assert_eq!(
            l.signer_name.as_deref(),
            Some("CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow; ST=Malopolska;C=PL")
        );
        assert_eq!(
            l.signer_serial.as_deref(),
            Some("70caf64e090751b9df22f49f754fc5bb")
        );
        assert!(l.records.is_empty());

        let text = "admin: show ctl Length of CTL file: 0 CTL File not found . Please run CTLClient plugin or run the CLI - utils ctl.. to generate the CTL file.\nError parsing the CTL File.\nadmin:";
        let (lists, actions) = parse(text, &Source::default());
        assert_eq!(lists[0].length, Some(0));
        assert_eq!(lists[0].error.as_deref(), Some("file not found"));
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn utils_commands_say_which_key_signs() {
        let text = "admin: utils ctl set-cluster mixed-mode This operation sets the cluster to Mixed mode. Do you want to continue? (y/n):y Moving Cluster to Mixed Mode Cluster set to Mixed Mode\nadmin:utils itl reset localkey\n";
        assert!(looks_like(text));
        let (lists, actions) = parse(text, &Source::default());
        assert!(lists.is_empty());
        assert_eq!(actions.len(), 2);
        assert!(actions[0].what.contains("mixed-mode"));
        assert!(actions[1].what.contains("localkey"));
        assert_eq!(actions[1].source.line, Some(2));
    }
}
