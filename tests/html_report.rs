//! `analyze --html FILE` (issue 13): a self-contained page whose ladder diagram shows exactly
//! the phone's timeline, rendered by a real browser (headless Chromium) without a console
//! error.

mod scenarios_support;
mod tool_support;

use scenarios_support::evidence_of;

use itlscope::diagnosis::{KeyBackup, OperatorFacts, PhoneItlFile, PhoneStatus, diagnose};
use itlscope::evidence::Evidence;
use itlscope::pipeline::{PipelineOptions, collect_evidence};
use itlscope::report::html;
use itlscope_gen::scenarios::catalog;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The diagram's messages: (frame, full text, drawing class) of every ladder event of every
/// phone, in order, from the details the page stores (the script draws them when a phone is
/// opened; class 0 normal, 1 failure, 2 an expected "not found").
fn diagram_messages(page: &str) -> Vec<(u64, String, u64)> {
    html::details_of(page)
        .expect("details decode")
        .iter()
        .flat_map(|d| d["e"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e[3].as_u64().expect("frame"),
                e[6].as_str().expect("text").to_string(),
                e[2].as_u64().expect("class"),
            )
        })
        .collect()
}

fn page(evidence: &Evidence, facts: &OperatorFacts) -> (String, itlscope::diagnosis::Diagnosis) {
    let diagnosis = diagnose(evidence, facts);
    let mut out = Vec::new();
    html::write(&diagnosis, evidence, &mut out).expect("write to Vec");
    (String::from_utf8(out).expect("UTF-8"), diagnosis)
}

#[test]
fn every_scenario_page_is_self_contained_and_its_diagram_is_the_timeline() {
    for (file, _) in catalog::builders() {
        let evidence = evidence_of(file);
        let (page, diagnosis) = page(&evidence, &OperatorFacts::default());
        // Self-contained: no script, style sheet, image or frame fetched from anywhere (the
        // one script is inline).
        for banned in ["<link", "<img", "<iframe", "src=", "url(http", "@import"] {
            assert!(!page.contains(banned), "{file}: page contains {banned}");
        }
        let external: Vec<&str> = page
            .match_indices("://")
            .map(|(i, _)| &page[i.saturating_sub(8)..(i + 30).min(page.len())])
            .filter(|s| !s.contains("://www.w3.org/2000/svg\""))
            .collect();
        assert!(external.is_empty(), "{file}: {external:?}");
        // The verdict table comes before the phones' details.
        if !diagnosis.phones.is_empty() {
            let table = page.find("<table id=\"verdicts\">").expect("verdict table");
            let details = page.find("id=\"chunk-0\"").expect("details");
            assert!(table < details, "{file}");
        }
        // The diagrams show each phone's timeline, message for message.
        let want: Vec<(u64, String, bool)> = diagnosis
            .phones
            .iter()
            .flat_map(|p| {
                p.timeline
                    .iter()
                    .map(|e| (e.frame, e.what.clone(), e.failed))
            })
            .collect();
        let got = diagram_messages(&page);
        assert_eq!(
            got.iter()
                .map(|(f, w, c)| (*f, w.clone(), *c != 0))
                .collect::<Vec<_>>(),
            want,
            "{file}"
        );
        // Failures are drawn red, and only failures; the one exception drawn neutral is a
        // CTL "not found" (statement 6: a cluster not in mixed mode serves no CTL).
        assert!(
            got.iter()
                .filter(|(_, _, c)| *c == 2)
                .all(|(_, w, _)| w.starts_with("CTL") && w.to_lowercase().contains("not found")),
            "{file}"
        );
    }
}

#[test]
fn a_failing_boot_shows_red_messages_and_the_verdict() {
    let evidence = evidence_of("cm-and-tvs-regenerated.pcap");
    let facts = OperatorFacts {
        phone_itl: Some(PhoneItlFile {
            name: "cm-and-tvs-regenerated.phone-itl.tlv".into(),
            bytes: std::fs::read(repo().join("captures/cm-and-tvs-regenerated.phone-itl.tlv"))
                .expect("phone ITL"),
        }),
        phone_itl_hash: None,
        phone_status: PhoneStatus::Failed,
        key_backup: KeyBackup::No,
        ..OperatorFacts::default()
    };
    let (page, _) = page(&evidence, &facts);
    // The phone still holds the ITLRecovery the cluster serves: not required (issue 18).
    assert!(
        page.contains("class=\"not-required\">not-required</td>"),
        "{page}"
    );
    let messages = diagram_messages(&page);
    let of_class = |class: u64| -> Vec<&String> {
        messages
            .iter()
            .filter(|(_, _, c)| *c == class)
            .map(|(_, w, _)| w)
            .collect()
    };
    assert!(
        of_class(1).iter().any(|m| m.contains("fatal alert")),
        "the phone's fatal alert is red: {messages:?}"
    );
    // Statement 6: the CTL's "File not found" is how a cluster not in mixed mode answers;
    // it is drawn neutral (issue 20), not red.
    assert!(
        of_class(2).iter().any(|m| m.contains("File not found")),
        "the CTL's TFTP error is neutral: {messages:?}"
    );
    // The TVS lane is named by its role.
    let details = html::details_of(&page).expect("details");
    assert!(
        details[0]["l"]
            .as_array()
            .expect("lanes")
            .iter()
            .any(|l| l == "198.51.100.10 (tftp, tvs)"),
        "{:?}",
        details[0]["l"]
    );
}

#[test]
fn with_several_captures_the_diagram_names_each_frames_capture() {
    // Two boots read as two captures: frame numbers alone would not say which file.
    let paths: Vec<PathBuf> = ["healthy-tftp-boot.pcap", "cm-and-tvs-regenerated.pcap"]
        .iter()
        .map(|f| repo().join("captures").join(f))
        .collect();
    let evidence = collect_evidence(&paths, &PipelineOptions::default()).expect("captures read");
    let (page, diagnosis) = page(&evidence, &OperatorFacts::default());
    let first_name = &evidence.captures[0].path;
    let second_name = &evidence.captures[1].path;
    for (name, capture) in [(first_name, 0usize), (second_name, 1usize)] {
        let phone = diagnosis
            .phones
            .iter()
            .find(|p| p.timeline.iter().any(|e| e.capture == capture))
            .expect("a phone in each capture");
        let e = phone
            .timeline
            .iter()
            .find(|e| e.capture == capture)
            .expect("event");
        // The page lists the captures; the script labels each frame `NAME#N` from them.
        assert!(
            page.contains(&format!("\"{}\"", name.replace('\\', "\\\\"))),
            "{name} listed"
        );
        let index = diagnosis
            .phones
            .iter()
            .position(|p| std::ptr::eq(p, phone))
            .expect("phone index");
        let details = html::details_of(&page).expect("details");
        assert!(
            details[index]["e"]
                .as_array()
                .expect("events")
                .iter()
                .any(|x| x[3] == e.frame && x[4] == capture),
            "frame {} of capture {capture} in the diagram",
            e.frame
        );
    }
}

/// Renders `page` in headless Chromium: a PNG screenshot, and the console log (which must
/// hold no message: the page's one inline script must not complain).
fn render(page: &Path, png: &Path, profile: &Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn chromium_renders_the_report_without_console_errors() {
    if !tool_support::require("chromium", "--version", "chromium") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let page = dir.path().join("report.html");
    let status = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .args([
            "analyze",
            "captures/cm-and-tvs-regenerated.pcap",
            "--phone-itl",
            "captures/cm-and-tvs-regenerated.phone-itl.tlv",
            "--phone-status",
            "failed",
            "--key-backup",
            "no",
            "--quiet",
            "--html",
        ])
        .arg(&page)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("itlscope runs");
    assert!(status.success());
    let png = dir.path().join("report.png");
    let log = render(&page, &png, &dir.path().join("profile"));
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    assert!(bytes.len() > 20_000, "a page with content, not a blank one");
    // The browser parsed the diagram: its DOM has every message group.
    let dom = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile2").display()
        ))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    let source = std::fs::read_to_string(&page).expect("page");
    assert_eq!(
        dom.matches("<tr><td><a href=\"#phone-").count(),
        source.matches("<tr><td><a href=\"#phone-").count()
    );
    assert!(dom.contains("of 1 phone(s) shown"), "the script ran");
}
