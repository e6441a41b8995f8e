//! The readable report reads in ten seconds (issue 11): one line per phone at the very top,
//! no verdict block repeating the conditions, certificates named once, lines of at most 120
//! columns, "unknown" and "not applicable" told apart, jargon explained once, colour only
//! when asked for or on a terminal (NO_COLOR honoured), `--brief` and `--quiet`; and the
//! README's example session is what the tool prints.

mod regen_support;

use assert_cmd::Command;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `itlscope ARGS` from the repository root, with no colour variables inherited.
fn itlscope() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_itlscope"));
    cmd.current_dir(repo())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

const TWO_PHONES: &str = "captures/two-phones-voice-vlan.pcap";
const REGENERATED: [&str; 8] = [
    "analyze",
    "captures/cm-and-tvs-regenerated.pcap",
    "--phone-itl",
    "captures/cm-and-tvs-regenerated.phone-itl.tlv",
    "--phone-status",
    "failed",
    "--key-backup",
    "no",
];

#[test]
fn one_line_per_phone_comes_first_then_the_details() {
    let text = stdout(itlscope().args(["analyze", TWO_PHONES]));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("SEP00005E005321  UNDETERMINED "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("SEP00005E005322  DO NOT DELETE "),
        "{text}"
    );
    // Both phones' reasons are settled per phone: how to give one phone its input.
    assert!(
        lines[2].starts_with(
            "(several phones: give each its own value, e.g. --phone-status SEP00005E005321=failed"
        ),
        "{text}"
    );
    let blank = lines
        .iter()
        .position(|l| l.is_empty())
        .expect("a blank line after the verdict table");
    assert!(
        lines[blank + 1].starts_with(TWO_PHONES),
        "then the captures: {}",
        lines[blank + 1]
    );
    assert!(
        !text.contains("Verdict:"),
        "no verdict block repeating the conditions"
    );
    assert!(
        !text.contains("is false:"),
        "no reasons list repeating the conditions"
    );

    let all_four = stdout(itlscope().args(REGENERATED));
    assert!(
        all_four.starts_with(
            "SEP00005E005321  DO NOT DELETE  ITLRecovery still signs: utils itl reset localkey\n"
        ),
        "{all_four}"
    );
}

#[test]
fn brief_prints_only_the_verdict_table() {
    let text = stdout(itlscope().args(["analyze", TWO_PHONES, "--brief", "--quiet"]));
    let verdicts = text.lines().filter(|l| l.starts_with("SEP")).count();
    assert_eq!(verdicts, 2, "{text}");
    assert!(
        text.contains("(several phones: "),
        "the scoped-input hint: {text}"
    );
    let full = stdout(itlscope().args(["analyze", TWO_PHONES]));
    assert!(
        full.starts_with(&text),
        "--brief is the head of the full report"
    );
    // --brief with --json makes no sense.
    let out = itlscope()
        .args(["analyze", TWO_PHONES, "--brief", "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_line_is_wider_than_120_columns() {
    for args in [
        REGENERATED.to_vec(),
        vec!["analyze", TWO_PHONES],
        vec!["analyze", "captures/moved-cluster-unprepared.pcap"],
        vec!["analyze", "captures/lossy-capture.pcap"],
    ] {
        let text = stdout(itlscope().args(&args));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 120,
                "{args:?}: {} columns: {line}",
                line.chars().count()
            );
        }
    }
}

#[test]
fn certificates_are_named_once_then_referred_to() {
    let text = stdout(itlscope().args(REGENERATED));
    let legend_at = text
        .find("\nCertificates:\n")
        .expect("a certificate legend");
    let (body, legend) = text.split_at(legend_at);
    assert!(body.contains("[C1]"), "{body}");
    // Every certificate of the legend: its serial appears in the legend only.
    let serials: Vec<&str> = legend
        .lines()
        .filter(|l| l.trim_start().starts_with("[C"))
        .filter_map(|l| l.split(" serial ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert!(serials.len() >= 2, "{legend}");
    for serial in serials {
        assert_eq!(
            text.matches(serial).count(),
            1,
            "serial {serial} named more than once:\n{text}"
        );
    }
    assert!(
        !body.contains("CN=cucm-pub.example.com"),
        "a subject spelled out in the body:\n{body}"
    );
}

#[test]
fn unknown_and_not_applicable_are_told_apart() {
    let text = stdout(itlscope().args(REGENERATED));
    assert!(
        text.contains("[n/a ] other-tls: no other TLS server"),
        "{text}"
    );
    let healthy = stdout(itlscope().args(["analyze", "captures/healthy-tftp-boot.pcap"]));
    assert!(healthy.contains("[ ?? ] installed-itl"), "{healthy}");
    assert!(!healthy.contains("[n/a ] installed-itl"), "{healthy}");
    let json = stdout(itlscope().args(REGENERATED).arg("--json"));
    assert!(json.contains("\"not-applicable\""), "the JSON says so too");
}

#[test]
fn jargon_is_explained_once_at_the_end() {
    let text = stdout(itlscope().args(REGENERATED));
    let terms_at = text.rfind("\nTerms:\n").expect("a glossary");
    let terms = &text[terms_at..];
    for term in ["TVS:", "SAST:", "ITL:"] {
        assert_eq!(
            terms.matches(&format!("\n  {term} ")).count(),
            1,
            "{term} in {terms}"
        );
    }
    // Only terms the report uses: no CAPF session or record name here means no CAPF entry.
    let body = &text[..terms_at];
    if !body.contains("CAPF") {
        assert!(!terms.contains("CAPF:"), "{terms}");
    }
    // `show` explains its "etoken" too.
    let show = stdout(itlscope().args(["show", "captures/healthy-tftp-boot.phone-itl.tlv"]));
    assert!(show.contains("etoken: "), "{show}");
    assert!(show.contains("SAST: "), "{show}");
}

#[test]
fn colour_follows_color_and_no_color() {
    let esc = "\u{1b}[";
    let plain = stdout(itlscope().args(["analyze", TWO_PHONES]));
    assert!(!plain.contains(esc), "no colour into a pipe by default");
    let always = stdout(itlscope().args(["analyze", TWO_PHONES, "--color", "always"]));
    assert!(always.contains(esc), "--color always colours");
    let first = always.lines().next().expect("a line");
    assert!(
        first.contains(esc) && first.contains("UNDETERMINED\u{1b}[0m"),
        "the verdict of the table is coloured: {first:?}"
    );
    // Stripped of its escapes, the coloured report is the plain one.
    let stripped = strip_escapes(&always);
    assert_eq!(stripped, plain);
    let never = stdout(
        itlscope()
            .env("CLICOLOR_FORCE", "1")
            .args(["analyze", TWO_PHONES, "--color", "never"]),
    );
    assert!(!never.contains(esc));
    let forced = stdout(
        itlscope()
            .env("CLICOLOR_FORCE", "1")
            .args(["analyze", TWO_PHONES]),
    );
    assert!(forced.contains(esc), "auto honours CLICOLOR_FORCE");
    let no_color = stdout(
        itlscope()
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1")
            .args(["analyze", TWO_PHONES, "--color", "auto"]),
    );
    assert!(!no_color.contains(esc), "NO_COLOR wins over auto");
    let bad = itlscope()
        .args(["analyze", TWO_PHONES, "--color", "sometimes"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

fn strip_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn quiet_is_accepted_and_changes_nothing_on_stdout() {
    let quiet = stdout(itlscope().args(["analyze", TWO_PHONES, "--quiet"]));
    let normal = stdout(itlscope().args(["analyze", TWO_PHONES]));
    assert_eq!(quiet, normal);
    let short = stdout(itlscope().args(["analyze", TWO_PHONES, "-q"]));
    assert_eq!(short, normal);
}

/// README's example session: the command it shows, run, prints every line the README
/// quotes, in that order (`...` stands for lines left out).
#[test]
fn the_readme_example_session_is_what_the_tool_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let start = readme
        .find("## An example session")
        .expect("README has an example session");
    let block = &readme[start..];
    let block = &block[block.find("```console\n").expect("console block") + 11..];
    let block = &block[..block.find("```").expect("end of block")];
    let mut lines = block.lines();
    // The command may continue over lines ending with `\`.
    let mut command = String::new();
    for line in lines.by_ref() {
        let part = line.trim_start_matches("$ ").trim();
        command.push_str(part.trim_end_matches('\\'));
        command.push(' ');
        if !line.ends_with('\\') {
            break;
        }
    }
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args.first(), Some(&"itlscope"), "{command}");
    let actual = stdout(itlscope().args(&args[1..]));
    let actual_lines: Vec<&str> = actual.lines().collect();
    let mut at = 0;
    let mut quoted = 0;
    for want in lines {
        if want.trim() == "..." {
            continue;
        }
        quoted += 1;
        match actual_lines[at..].iter().position(|l| *l == want) {
            Some(i) => at += i + 1,
            None => {
                panic!("README line not printed (in this order): {want:?}\n--- actual:\n{actual}")
            }
        }
    }
    assert!(quoted >= 10, "the README quotes only {quoted} lines");
}

/// docs/report.md shows one scenario's report: the copy is the generated example.
#[test]
fn the_report_doc_example_is_the_generated_one() {
    let doc = std::fs::read_to_string(repo().join("docs/report.md")).expect("docs/report.md");
    let example =
        std::fs::read_to_string(repo().join("docs/examples/cm-and-tvs-regenerated.pcap.txt"))
            .expect("generated example");
    let start = doc
        .find("    $ itlscope analyze captures/cm-and-tvs-regenerated.pcap")
        .expect("the example in docs/report.md");
    let shown: String = doc[start..]
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    if std::env::var_os("ITLSCOPE_REGENERATE").is_some() {
        // Run after golden_reports has regenerated docs/examples: the copy follows.
        let indented: String = example
            .lines()
            .map(|l| {
                if l.is_empty() {
                    "\n".to_owned()
                } else {
                    format!("    {l}\n")
                }
            })
            .collect();
        let old_len: usize = doc[start..]
            .lines()
            .take_while(|l| l.is_empty() || l.starts_with("    "))
            .map(|l| l.len() + 1)
            .sum();
        let end = (start + old_len).min(doc.len());
        let mut updated = doc[..start].to_owned();
        updated.push_str(&indented);
        updated.push_str(&doc[end..]);
        regen_support::Regen::new("docs/report.md example")
            .write(&repo().join("docs/report.md"), updated.as_bytes());
        return;
    }
    assert_eq!(shown.trim_end(), example.trim_end());
}

/// Every generated example (the docs) keeps to 120 columns, apart from the command line.
#[test]
fn the_generated_examples_keep_to_120_columns() {
    let dir = repo().join("docs/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("docs/examples") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("example");
        for line in text.lines().skip(1) {
            assert!(line.chars().count() <= 120, "{}: {line}", path.display());
        }
        seen += 1;
    }
    assert!(seen >= 18, "{seen} examples");
}
