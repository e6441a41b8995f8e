//! `itlscope plan` on the command line: `show itl` text as input, and bad input named with a
//! clear reason and exit status (1 unreadable input, 2 usage), never a panic.

use assert_cmd::Command;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const ITL: &str = "captures/cm-and-tvs-regenerated.phone-itl.tlv";
const SHOW_ITL: &str = "captures/tvs-tls13.show-itl.txt";

#[test]
fn show_itl_text_is_a_phone_itl() {
    let out = run(&["plan", SHOW_ITL, "--regenerate", "tvs", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(plan["phone_itl"]["source"], "show-itl");
    // The SHA-1 CUCM printed for the file it serves.
    assert_eq!(
        plan["phone_itl"]["sha1"],
        "406346de8fff02c4fe7aa459da9cfe997139e73c"
    );
    let text = run(&["plan", SHOW_ITL, "--regenerate", "tvs"]);
    assert_eq!(text.code, Some(0));
    assert!(text.stdout.contains("(`show itl` text)"), "{}", text.stdout);
}

#[test]
fn text_output_names_the_steps_and_the_recovery() {
    let out = run(&[
        "plan",
        ITL,
        "--regenerate",
        "callmanager",
        "--regenerate",
        "tvs",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for says in [
        "All at once, as requested: NOT SAFE",
        "[FAILS] regenerate CallManager, regenerate TVS",
        "utils itl reset localkey",
        "Safe order:",
        "then wait until every phone has downloaded the new ITL",
        "offline-during-the-change",
    ] {
        assert!(out.stdout.contains(says), "{says}: {}", out.stdout);
    }
}

#[test]
fn bad_input_is_named_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let no_signer = dir.path().join("show-itl.txt");
    let text = std::fs::read_to_string(repo().join(SHOW_ITL)).expect("show itl text");
    std::fs::write(
        &no_signer,
        text.replace("This etoken was used", "This etoken was not used"),
    )
    .expect("write");
    let no_signer = no_signer.to_str().expect("utf-8");
    let cases: [(&[&str], i32, &str); 10] = [
        (
            &[
                "plan",
                "tests/fixtures/trustlists/SEP001122334455.cnf.xml.sgn",
                "--regenerate",
                "tvs",
            ],
            1,
            "is a signed file",
        ),
        (
            &[
                "plan",
                "tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv",
                "--regenerate",
                "tvs",
            ],
            1,
            "is a CTL, not an ITL",
        ),
        (
            &[
                "plan",
                "captures/healthy-tftp-boot.pcap",
                "--regenerate",
                "tvs",
            ],
            1,
            "this is a pcap capture",
        ),
        (
            &["plan", "/nonexistent.tlv", "--regenerate", "tvs"],
            1,
            "/nonexistent.tlv",
        ),
        (
            &["plan", no_signer, "--regenerate", "tvs"],
            1,
            "which key signs",
        ),
        (
            &["plan", ITL, "--replace", "callmanager=README.md"],
            1,
            "README.md",
        ),
        (&["plan", ITL], 2, "no change given"),
        (
            &["plan", ITL, "--regenerate", "tvs", "--regenerate", "tvs"],
            2,
            "TVS is changed twice",
        ),
        (&["plan", ITL, "--hostname", ""], 2, "expected a host name"),
        (
            &["plan", ITL, "--regenerate", "tomcat"],
            2,
            "expected callmanager",
        ),
    ];
    for (args, code, says) in cases {
        let out = run(args);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        // No Rust debug formatting of parser errors.
        assert!(!out.stderr.contains("Der("), "{args:?}: {}", out.stderr);
    }
}
