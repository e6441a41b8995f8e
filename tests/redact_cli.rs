//! `analyze --redact` (issue 20, "Share safely"): on scenario captures and a generated SPAN,
//! every MAC, IP address, host name and certificate name of the unredacted report is absent
//! from the redacted text, `--brief`, JSON (`--json` and `-o`), CSV, JSON lines and HTML (its
//! compressed phone details too); one value has one pseudonym in every form; verdicts and
//! main reasons do not change (the four conditions of statements 4-7 are read from the same
//! evidence), and the JSON still follows its schema.

use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `itlscope` in the repository; its standard output (exit 0 or 1 expected).
fn itlscope(args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .env("ITLSCOPE_FIXED_DATE", "2026-03-02T12:00:00Z")
        .args(args)
        .output()
        .expect("itlscope runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 report")
}

/// Every output form of one analysis.
struct Outputs {
    text: String,
    brief: String,
    json_text: String,
    json: Value,
    json_file: Value,
    csv: String,
    jsonl: String,
    html: String,
    /// The HTML page's phone details, decompressed, as JSON text.
    html_details: String,
}

impl Outputs {
    fn of(input: &[String], redact: bool, dir: &Path) -> Outputs {
        let with = |extra: &[&str]| -> Vec<String> {
            let mut args = vec!["analyze".to_owned(), "-q".to_owned()];
            args.extend(input.iter().cloned());
            if redact {
                args.push("--redact".into());
            }
            args.extend(extra.iter().map(|s| s.to_string()));
            args
        };
        let json_path = dir.join(format!("report-{redact}.json"));
        let html_path = dir.join(format!("report-{redact}.html"));
        // One run writes the text, the JSON file and the page: the same map for all three.
        let text = itlscope(&with(&[
            "-o",
            json_path.to_str().expect("path"),
            "--html",
            html_path.to_str().expect("path"),
        ]));
        let json_text = itlscope(&with(&["--json"]));
        let html = std::fs::read_to_string(&html_path).expect("page written");
        let details = itlscope::report::html::details_of(&html).expect("details decode");
        Outputs {
            brief: itlscope(&with(&["--brief"])),
            json: serde_json::from_str(&json_text).expect("JSON"),
            json_file: serde_json::from_str(&std::fs::read_to_string(&json_path).expect("-o"))
                .expect("JSON file"),
            json_text,
            csv: itlscope(&with(&["--format", "csv"])),
            jsonl: itlscope(&with(&["--format", "jsonl"])),
            html_details: serde_json::to_string(&details).expect("details"),
            html,
            text,
        }
    }

    /// Every form, named.
    fn forms(&self) -> Vec<(&'static str, String)> {
        vec![
            ("text", self.text.clone()),
            ("brief", self.brief.clone()),
            ("json", self.json_text.clone()),
            ("json -o", self.json_file.to_string()),
            ("csv", self.csv.clone()),
            ("jsonl", self.jsonl.clone()),
            ("html", self.html.clone()),
            ("html details", self.html_details.clone()),
        ]
    }
}

/// What must not be shared, collected from the unredacted JSON.
#[derive(Default, Debug)]
struct Secrets {
    /// Written any way: `SEP…`, 12 hex digits, colon, dash and dotted forms.
    macs: Vec<[u8; 6]>,
    ips: Vec<IpAddr>,
    /// Host names and CN values: must not appear anywhere.
    names: Vec<String>,
    /// Other attribute values of certificate names: must not appear as `KEY=value`.
    attributes: Vec<String>,
}

fn mac_of(hex: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    for (k, b) in mac.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok()?;
    }
    Some(mac)
}

fn push<T: PartialEq>(list: &mut Vec<T>, v: T) {
    if !list.contains(&v) {
        list.push(v);
    }
}

impl Secrets {
    fn of(report: &Value) -> Secrets {
        let mut s = Secrets::default();
        s.walk(report);
        s
    }

    fn walk(&mut self, v: &Value) {
        match v {
            Value::String(text) => self.read(text),
            Value::Array(items) => items.iter().for_each(|i| self.walk(i)),
            Value::Object(map) => map.values().for_each(|i| self.walk(i)),
            _ => {}
        }
    }

    fn read(&mut self, text: &str) {
        // Phone names, anywhere (ITLSEP….tlv, SEP….cnf.xml.sgn, CP-8845-SEP…).
        let upper = text.to_ascii_uppercase();
        for (at, _) in upper.match_indices("SEP") {
            if let Some(mac) = upper.get(at + 3..at + 15).and_then(mac_of) {
                push(&mut self.macs, mac);
            }
        }
        for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || ".:-_[]".contains(c))) {
            let token = token.trim_end_matches([':', '.']);
            let bare = token.trim_start_matches('[');
            let ip = token
                .parse::<IpAddr>()
                .ok()
                .or_else(|| token.parse::<SocketAddr>().ok().map(|a| a.ip()))
                .or_else(|| bare.split(']').next().and_then(|b| b.parse().ok()));
            if let Some(ip) = ip.filter(|ip| !matches!(ip, IpAddr::V6(v) if !token.contains("::") && v.segments().iter().all(|s| *s < 0x100)))
            {
                push(&mut self.ips, ip);
            }
            if token.len() == 12
                && token.bytes().all(|b| b.is_ascii_hexdigit())
                && let Some(mac) = mac_of(token)
                && self.macs.contains(&mac)
            {
                push(&mut self.macs, mac);
            }
            if token.contains(".example.") {
                push(&mut self.names, token.to_owned());
            }
        }
        // Certificate names: `CN=…,OU=…` or CUCM's `CN=…;OU=…`.
        let mut rest = text;
        while let Some(at) = rest.find("CN=") {
            let dn = &rest[at..];
            let end = dn
                .find(" serial")
                .or_else(|| dn.find(" ("))
                .or_else(|| dn.find(')'))
                .unwrap_or(dn.len());
            for part in dn[..end].split([',', ';']) {
                if let Some((key, value)) = part.split_once('=') {
                    let value = value.trim().to_owned();
                    if value.is_empty() || value.to_ascii_uppercase().contains("SEP") {
                        continue;
                    }
                    if key.trim() == "CN" {
                        let host = value.split_once('_').map_or(value.as_str(), |(_, h)| h);
                        push(&mut self.names, host.to_owned());
                    } else {
                        push(&mut self.attributes, value);
                    }
                }
            }
            rest = &rest[at + 3..];
        }
    }
}

/// Whether `needle` occurs in `hay` as a word (no letter or digit either side), any case.
fn has_word(hay: &str, needle: &str) -> bool {
    let hay_l = hay.to_ascii_lowercase();
    let needle_l = needle.to_ascii_lowercase();
    hay_l.match_indices(&needle_l).any(|(at, _)| {
        let before = hay_l[..at].chars().next_back();
        let after = hay_l[at + needle_l.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Every way a report may write `mac`.
fn mac_forms(mac: &[u8; 6]) -> Vec<String> {
    let hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    let plain = hex.concat();
    vec![
        format!("SEP{plain}"),
        plain.clone(),
        hex.join(":"),
        hex.join("-"),
        format!("{}.{}.{}", &plain[..4], &plain[4..8], &plain[8..]),
    ]
}

/// Fails naming the form and the value when a secret is left in a redacted output.
fn assert_nothing_left(secrets: &Secrets, redacted: &Outputs) {
    for (form, out) in &redacted.forms() {
        let out: &str = out;
        for mac in &secrets.macs {
            for written in mac_forms(mac) {
                // `SEP…` is checked inside words too (ITLSEP….tlv).
                let found = if written.starts_with("SEP") {
                    out.to_ascii_lowercase()
                        .contains(&written.to_ascii_lowercase())
                } else {
                    has_word(out, &written)
                };
                assert!(!found, "{form}: MAC {written} left");
            }
        }
        for ip in &secrets.ips {
            assert!(!has_word(out, &ip.to_string()), "{form}: address {ip} left");
        }
        // The scenario ranges (captures/README.md), whatever the report shows of them.
        for range in ["192.0.2.", "198.51.100.", "2001:db8:"] {
            assert!(!out.contains(range), "{form}: an address in {range} left");
        }
        for name in &secrets.names {
            assert!(!has_word(out, name), "{form}: name {name} left");
        }
        for domain in ["example.com", "example.net", "example.org"] {
            assert!(!out.contains(domain), "{form}: a host in {domain} left");
        }
        for value in &secrets.attributes {
            // `O=value` (any attribute), the value whole: not a prefix of a pseudonym.
            for sep in ["=", "= "] {
                let written = format!("{sep}{value}");
                let left = out.match_indices(&written).any(|(at, _)| {
                    !out[at + written.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric())
                });
                assert!(!left, "{form}: certificate name value {value:?} left");
            }
        }
        for distinctive in ["Example Lab", "Springfield"] {
            assert!(!out.contains(distinctive), "{form}: {distinctive} left");
        }
    }
}

/// The CSV's rows as maps of column to value.
fn csv_rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// One value, one pseudonym in every form; the verdicts, conditions and main reasons are
/// those of the unredacted report.
fn assert_same_story(plain: &Outputs, redacted: &Outputs) {
    let (pp, rp) = (&plain.json["phones"], &redacted.json["phones"]);
    let (pp, rp) = (
        pp.as_array().expect("phones"),
        rp.as_array().expect("phones"),
    );
    assert_eq!(pp.len(), rp.len(), "as many phones");
    assert_eq!(redacted.json["phones"], redacted.json_file["phones"]);
    let csv = csv_rows(&redacted.csv);
    let plain_csv = csv_rows(&plain.csv);
    let jsonl: Vec<Value> = redacted
        .jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(csv.len(), rp.len());
    let mut seen_macs = std::collections::HashMap::new();
    for (i, (p, r)) in pp.iter().zip(rp).enumerate() {
        // Statements 4-7: the same four conditions, the same verdict and main reason.
        assert_eq!(p["verdict"]["delete_itl"], r["verdict"]["delete_itl"]);
        assert_eq!(p["verdict"]["conditions"], r["verdict"]["conditions"]);
        assert_eq!(p["main_reason"]["code"], r["main_reason"]["code"]);
        let mac = r["mac"].as_str().expect("mac");
        let ip = r["ip"].as_str().expect("ip");
        assert!(mac.starts_with("mac-"), "{mac}");
        assert!(ip.starts_with("ip-"), "{ip}");
        // Distinct MACs stay distinct.
        if let Some(other) = seen_macs.insert(mac.to_owned(), p["mac"].clone()) {
            assert_eq!(other, p["mac"], "{mac} stands for two MACs");
        }
        let name = format!("SEP-PHONE-{}", mac.trim_start_matches("mac-"));
        assert_eq!(csv[i]["name"], name);
        assert_eq!(csv[i]["mac"], mac);
        assert_eq!(csv[i]["ip"], ip);
        assert_eq!(csv[i]["verdict"], plain_csv[i]["verdict"]);
        assert_eq!(csv[i]["main_reason"], plain_csv[i]["main_reason"]);
        assert_eq!(jsonl[i]["name"], name.as_str());
        assert_eq!(jsonl[i]["ip"], ip);
        assert!(
            redacted.text.contains(&format!("Phone {name} ({ip}): ")),
            "text names {name} ({ip})"
        );
        assert!(
            redacted.brief.lines().any(|l| l.starts_with(&name)),
            "brief has {name}"
        );
        assert!(redacted.html.contains(&name), "page lists {name}");
        assert!(redacted.html_details.contains(ip), "page details show {ip}");
    }
    // Host names: the ITL_TFTP_Server of each alarm, the same pseudonym in JSON and text.
    let alarms = redacted.json["alarms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for alarm in alarms {
        if let Some(host) = alarm["itl_tftp_server"].as_str() {
            assert!(host.starts_with("host-"), "{host}");
            // The text may wrap the line between the label and the name.
            let flat = redacted
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                flat.contains(&format!("ITL_TFTP_Server {host}")),
                "text names {host}"
            );
        }
    }
}

fn schema_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("docs/schema/analyze.schema.json"))
        .expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema parses");
    jsonschema::validator_for(&schema).expect("valid schema")
}

/// The whole check on one input.
fn check(input: &[String], min_phones: usize) -> (Outputs, Secrets) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = Outputs::of(input, false, dir.path());
    let redacted = Outputs::of(input, true, dir.path());
    let secrets = Secrets::of(&plain.json);
    assert!(
        secrets.macs.len() >= min_phones && !secrets.ips.is_empty(),
        "{secrets:?}"
    );
    assert_nothing_left(&secrets, &redacted);
    assert_same_story(&plain, &redacted);
    // Said at the top of every form that has a top.
    assert!(redacted.text.starts_with("REDACTED: "), "{}", redacted.text);
    assert!(redacted.brief.starts_with("REDACTED: "));
    assert_eq!(redacted.json["redacted"], true);
    assert_eq!(
        redacted.json["redactions"]["mac"].as_u64(),
        Some(secrets.macs.len() as u64)
    );
    assert!(redacted.html.contains("<p class=\"redacted\""));
    // Not a word of it without --redact.
    assert!(!plain.text.starts_with("REDACTED"));
    assert!(plain.json.get("redacted").is_none());
    // Hashes stay: they are what is compared.
    for phone in plain.json["phones"].as_array().into_iter().flatten() {
        if let Some(sha1) = phone["served_itl"]["sha1"].as_str() {
            assert!(redacted.text.contains(sha1) && redacted.csv.contains(sha1));
        }
    }
    let validator = schema_validator();
    for (what, json) in [("--json", &redacted.json), ("-o", &redacted.json_file)] {
        let errors: Vec<String> = validator
            .iter_errors(json)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:?}");
    }
    (redacted, secrets)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn two_phones_of_a_voice_vlan_are_redacted_in_every_form() {
    let (redacted, secrets) = check(&args(&["captures/two-phones-voice-vlan.pcap"]), 2);
    // Both CUCM names the phones report (ITL_TFTP_Server) were found and replaced.
    assert!(
        secrets.names.iter().any(|n| n == "cucm-stage.example.net"),
        "{secrets:?}"
    );
    // The usage hint names the phone by its pseudonym too.
    assert!(redacted.text.contains("--phone-status SEP-PHONE-1=failed"));
}

#[test]
fn certificates_prt_and_ipv6_are_redacted() {
    for input in [
        args(&[
            "captures/hostname-change-single-node.pcap",
            "--evidence",
            "captures/hostname-change-single-node.probrep-20260302-090200.tar.gz",
            "--key-backup",
            "no",
        ]),
        args(&[
            "captures/tvs-tls13.pcap",
            "--phone-itl",
            "captures/tvs-tls13.phone-itl.tlv",
            "--evidence",
            "captures/tvs-tls13.show-itl.txt",
            "--phone-status",
            "failed",
        ]),
        args(&[
            "captures/healthy-tftp-boot.pcap",
            "--phone-itl",
            "captures/healthy-tftp-boot.phone-itl.tlv",
        ]),
        args(&["captures/healthy-tftp-boot-ipv6.pcap"]),
        args(&["captures/two-node-one-tvs-regenerated.pcap"]),
        args(&[
            "captures/healthy-http-boot.pcap",
            "--evidence",
            "captures/healthy-http-boot.console.log",
        ]),
    ] {
        let (_, secrets) = check(&input, 1);
        assert!(!secrets.names.is_empty(), "{input:?}: {secrets:?}");
    }
}

#[test]
fn a_span_of_many_phones_is_redacted_with_one_pseudonym_per_phone() {
    let span = itlscope_gen::span::Span::new(24, 11);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("span.pcap");
    std::fs::write(&path, span.capture()).expect("write");
    let (redacted, secrets) = check(&[path.to_str().expect("path").to_owned()], 24);
    // Twenty phones or more: two digits, so the verdict lines stay aligned.
    assert!(
        redacted.text.contains("SEP-PHONE-01 "),
        "{}",
        redacted.brief
    );
    assert_eq!(
        secrets.macs.len() as u64,
        redacted.json["redactions"]["mac"]
    );
}

#[test]
fn annotate_is_refused_with_redact() {
    let out = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .args([
            "analyze",
            "captures/two-phones-voice-vlan.pcap",
            "--redact",
            "--annotate",
            "/nonexistent/out.pcapng",
        ])
        .output()
        .expect("itlscope runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--annotate") && stderr.contains("cannot be redacted"),
        "{stderr}"
    );
}
