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

/// Undoes the escaping of the page's text.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The diagram's messages: (frame, full text) of every `<g class="message…">`, in order.
fn diagram_messages(page: &str) -> Vec<(u64, String)> {
    page.split("<g class=\"message")
        .skip(1)
        .map(|g| {
            let frame = g
                .split("data-frame=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|n| n.parse().ok())
                .expect("data-frame");
            let title = g
                .split("<title>")
                .nth(1)
                .and_then(|r| r.split("</title>").next())
                .expect("title");
            (frame, unescape(title))
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
        // Self-contained: no script, style sheet, image or frame fetched from anywhere.
        for banned in [
            "<script", "<link", "<img", "<iframe", "src=", "url(http", "@import",
        ] {
            assert!(!page.contains(banned), "{file}: page contains {banned}");
        }
        let external: Vec<&str> = page
            .match_indices("://")
            .map(|(i, _)| &page[i.saturating_sub(8)..(i + 30).min(page.len())])
            .filter(|s| !s.contains("://www.w3.org/2000/svg\""))
            .collect();
        assert!(external.is_empty(), "{file}: {external:?}");
        // The verdict table comes first.
        let table = page.find("<table id=\"verdicts\">").expect("verdict table");
        if let Some(first_phone) = page.find("<h2 id=\"phone-0\">") {
            assert!(table < first_phone, "{file}");
        }
        // The diagrams show each phone's timeline, message for message.
        let want: Vec<(u64, String)> = diagnosis
            .phones
            .iter()
            .flat_map(|p| p.timeline.iter().map(|e| (e.frame, e.what.clone())))
            .collect();
        assert_eq!(diagram_messages(&page), want, "{file}");
        // Failures are drawn red, and only failures.
        let failed = diagnosis
            .phones
            .iter()
            .flat_map(|p| &p.timeline)
            .filter(|e| e.failed)
            .count();
        assert_eq!(
            page.matches("<g class=\"message failed\"").count(),
            failed,
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
    let failed: Vec<String> = diagram_messages(&page)
        .into_iter()
        .filter(|(frame, _)| {
            page.contains(&format!(
                "message failed\" data-capture=\"0\" data-frame=\"{frame}\""
            ))
        })
        .map(|(_, what)| what)
        .collect();
    assert!(
        failed.iter().any(|m| m.contains("fatal alert")),
        "the phone's fatal alert is red: {failed:?}"
    );
    assert!(
        failed.iter().any(|m| m.contains("File not found")),
        "the CTL's TFTP error is red: {failed:?}"
    );
    // The TVS lane is named by its role.
    assert!(page.contains("198.51.100.10 (tftp, tvs)"), "{page}");
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
        let label = format!("{name}#{} +", e.frame);
        assert!(page.contains(&label), "{label} in the diagram");
        assert!(page.contains(&format!(
            "data-capture=\"{capture}\" data-frame=\"{}\"",
            e.frame
        )));
    }
}

/// Renders `page` in headless Chromium: a PNG screenshot, and the console log (which must
/// hold no message: a page with no script and no resource has nothing to complain about).
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
        dom.matches("<g class=\"message").count(),
        source.matches("<g class=\"message").count()
    );
    assert!(dom.contains("<svg"), "SVG kept by the parser");
}
