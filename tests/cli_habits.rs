//! Command-line habits (issue 11): help that leads with the diagnosis options, completions
//! and a man page, `-o -`, `-` twice, one unreadable capture among several, exit codes of
//! `verify`, what `show` says about files that are no trust list, size suffixes and the
//! options that cannot be 0.

use assert_cmd::Command;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn itlscope() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_itlscope"));
    cmd.current_dir(repo()).env_remove("NO_COLOR");
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = itlscope().args(args).output().expect("itlscope runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const HEALTHY: &str = "captures/healthy-tftp-boot.pcap";
const PHONE_ITL: &str = "captures/healthy-tftp-boot.phone-itl.tlv";

#[test]
fn analyze_help_leads_with_the_four_conditions_and_shows_defaults_examples_and_exit_codes() {
    let help = run(&["analyze", "--help"]);
    assert_eq!(help.code, Some(0));
    let text = help.stdout;
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("help lacks {needle:?}:\n{text}"))
    };
    // The four diagnosis options come before every other option, each with its condition.
    let first_option = at("--phone-itl <[SEP<MAC>=]FILE>");
    for other in [
        "--json",
        "--output",
        "--max-file-size",
        "--tftp-port",
        "--help",
    ] {
        assert!(
            first_option < at(other),
            "{other} listed before --phone-itl"
        );
    }
    assert!(
        at("--phone-itl-hash") < at("--phone-status") && at("--phone-status") < at("--key-backup")
    );
    for condition in [
        "Conditions 1 and 2",
        "Condition 1",
        "Condition 3",
        "Condition 4",
    ] {
        at(condition);
    }
    // Limit defaults, examples, size units and exit codes.
    at("[default: 16MiB]");
    at("[default: 50000]");
    at("[default: 10000]");
    at("Examples:");
    at("2MB = 2,000,000 bytes, 2MiB = 2,097,152 bytes");
    at("Exit status:");
    let verify = run(&["verify", "--help"]).stdout;
    assert!(verify.contains("3  a file cannot be read"), "{verify}");
}

#[test]
fn completions_and_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.code, Some(0), "{shell}: {}", out.stderr);
        assert!(
            out.stdout.contains("analyze"),
            "{shell} completion lacks analyze"
        );
        assert!(
            out.stdout.contains("phone-itl-hash"),
            "{shell} completion lacks options"
        );
    }
    assert_eq!(run(&["completions", "tcsh"]).code, Some(2));
    let man = run(&["man"]);
    assert_eq!(man.code, Some(0));
    assert!(man.stdout.contains(".TH itlscope 1"), "{}", man.stdout);
    for sub in ["analyze", "show", "verify", "extract"] {
        assert!(man.stdout.contains(sub), "man page lacks {sub}");
    }
}

#[test]
fn dash_o_dash_writes_the_json_to_standard_output() {
    let out = run(&["analyze", HEALTHY, "-o", "-"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is the JSON alone");
    assert_eq!(v["phones"][0]["mac"], "00005E005321");
    assert!(!repo().join("-").exists(), "-o - created a file named -");
}

#[test]
fn standard_input_twice_is_a_usage_error() {
    for sub in ["analyze", "extract"] {
        let mut args = vec![sub, "-", "-"];
        if sub == "extract" {
            args.extend(["-o", "/nonexistent/out"]);
        }
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{sub}: {}", out.stderr);
        assert!(out.stderr.contains("more than once"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    let out = run(&["verify", "-", "--trust", "-"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn one_unreadable_capture_among_several_is_named_and_the_others_analysed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a capture\n").expect("write");
    let missing = dir.path().join("missing.pcap");
    let out = run(&[
        "analyze",
        HEALTHY,
        text.to_str().expect("utf-8"),
        "captures/healthy-http-boot.pcap",
        missing.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(
        out.code,
        Some(1),
        "a skipped capture makes the exit non-zero"
    );
    assert!(out.stderr.contains("notes.txt"), "{}", out.stderr);
    assert!(out.stderr.contains("missing.pcap"), "{}", out.stderr);
    assert!(
        out.stderr.contains("2 readable capture(s)"),
        "{}",
        out.stderr
    );
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("the report is still written");
    let paths: Vec<&str> = v["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .filter_map(|c| c["path"].as_str())
        .collect();
    assert_eq!(paths, [HEALTHY, "captures/healthy-http-boot.pcap"]);
    assert!(!v["phones"].as_array().expect("phones").is_empty());

    // When none can be read there is no report, and still exit 1.
    let none = run(&["analyze", missing.to_str().expect("utf-8")]);
    assert_eq!(none.code, Some(1));
    assert!(none.stdout.is_empty());
}

#[test]
fn verify_exits_1_for_not_trusted_and_3_for_unreadable_input() {
    let sgn = "tests/fixtures/trustlists/SEP001122334455.cnf.xml.sgn";
    let itl = "tests/fixtures/trustlists/ITLFile-sha256-2048.tlv";
    let other = "tests/fixtures/real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv";
    assert_eq!(run(&["verify", sgn, "--trust", itl]).code, Some(0));
    let not_trusted = run(&["verify", sgn, "--trust", other]);
    assert_eq!(not_trusted.code, Some(1));
    assert!(
        not_trusted.stdout.contains("not trusted"),
        "{}",
        not_trusted.stdout
    );
    for args in [
        ["verify", "/nonexistent.sgn", "--trust", itl],
        ["verify", sgn, "--trust", "/nonexistent.tlv"],
        ["verify", HEALTHY, "--trust", itl],
        ["verify", sgn, "--trust", "README.md"],
        [
            "verify",
            sgn,
            "--trust",
            "tests/fixtures/real/nikhilp93-CMPE202/SCFFile-puny.tlv",
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(3), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            out.stderr.starts_with("itlscope: "),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn show_says_what_a_capture_or_text_file_is() {
    for (file, says) in [
        (HEALTHY, "this is a pcap capture"),
        (
            "captures/healthy-tftp-boot.pcapng",
            "this is a pcapng capture",
        ),
        ("README.md", "this is a text file"),
    ] {
        let out = run(&["show", file]);
        assert_eq!(out.code, Some(1), "{file}");
        assert!(out.stderr.contains(says), "{file}: {}", out.stderr);
        assert!(out.stderr.contains(file), "{file}: {}", out.stderr);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let gz = dir.path().join("boot.pcap.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut encoder,
        &std::fs::read(repo().join(HEALTHY)).expect("capture"),
    )
    .expect("gzip");
    std::fs::write(&gz, encoder.finish().expect("gzip")).expect("write");
    let out = run(&["show", gz.to_str().expect("utf-8")]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("gzip-compressed"), "{}", out.stderr);
    let analyze_hint = run(&["show", HEALTHY]).stderr;
    assert!(
        analyze_hint.contains("use itlscope analyze"),
        "{analyze_hint}"
    );
}

#[test]
fn show_reads_standard_input() {
    let bytes = std::fs::read(repo().join(PHONE_ITL)).expect("fixture");
    let from_file = run(&["show", PHONE_ITL]).stdout;
    let out = itlscope()
        .args(["show", "-"])
        .write_stdin(bytes)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), from_file);
}

#[test]
fn show_of_a_damaged_trust_list_prints_the_hashes_and_the_records_read() {
    let bytes = std::fs::read(repo().join(PHONE_ITL)).expect("fixture");
    let cut = &bytes[..3000];
    let out = itlscope()
        .args(["show", "-"])
        .write_stdin(cut.to_vec())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    use sha1::Digest as _;
    let sha1 = hex::encode(sha1::Sha1::digest(cut));
    assert!(stdout.contains(&format!("SHA1:   {sha1}")), "{stdout}");
    assert!(stdout.contains("Length of file: 3000"), "{stdout}");
    assert!(stdout.contains("ITL Record #:1"), "{stdout}");
    assert!(!stdout.contains("ITL Record #:2"), "{stdout}");
    assert!(
        stdout.contains("1 record(s) read before the damage"),
        "{stdout}"
    );
    assert!(stdout.contains("Damaged: RECORDLENGTH"), "{stdout}");
    assert!(stderr.contains("record #2"), "{stderr}");
}

#[test]
fn a_signature_that_no_longer_matches_says_the_file_was_altered() {
    let mut bytes = std::fs::read(repo().join(PHONE_ITL)).expect("fixture");
    // Change one byte of the last record's DNS name: the file still parses.
    let at = bytes
        .windows(8)
        .rposition(|w| w == b"cucm-pub")
        .expect("a DNS name");
    bytes[at] = b'C';
    let out = itlscope()
        .args(["show", "-"])
        .write_stdin(bytes)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("the file was altered after record #1 signed it"),
        "{stdout}"
    );
    assert!(!stdout.contains("record #1: digest mismatch"), "{stdout}");
}

#[test]
fn size_flags_take_decimal_and_binary_units() {
    for size in ["2MB", "2MiB", "2M", "1500000", "64 KiB"] {
        let out = run(&["analyze", HEALTHY, "--max-file-size", size, "--json"]);
        assert_eq!(out.code, Some(0), "{size}: {}", out.stderr);
    }
    let bad = run(&["analyze", HEALTHY, "--max-file-size", "2 megs"]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("2MB = 2,000,000 bytes"),
        "{}",
        bad.stderr
    );
}

#[test]
fn zero_phones_and_port_zero_are_usage_errors() {
    for (args, says) in [
        (vec!["analyze", HEALTHY, "--max-phones", "0"], "at least 1"),
        (vec!["analyze", HEALTHY, "--tftp-port", "0"], "port 0"),
        (vec!["analyze", HEALTHY, "--http-port", "0"], "port 0"),
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}
