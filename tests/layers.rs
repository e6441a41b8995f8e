//! The pipeline's layers, kept by a test (issue 19: "make the layers the README describes
//! real … so the compiler keeps them").
//!
//! Every module of `src/` stands on a floor; a file may name (`crate::x`) only its own
//! top-level module or one on a lower floor, so data flows one way: capture → net →
//! transport → proto → diagnosis → report. A new top-level module must be given a floor
//! here, and an import that runs back up fails with its file and line.
//!
//! Why a test and not a workspace of crates: the crates would give the same guarantee, but
//! splitting 66k lines would rewrite every import path at once; this test holds the same
//! rule today and names the offending line, and the table below is the split's plan if it
//! is ever made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Floor of each top-level module of `src/`, lowest first. Same floor = must not import
/// each other (the test checks strictly lower floors only).
const FLOORS: &[(&str, u32)] = &[
    // Ground: plain types shared by everyone.
    ("timestamp", 0),
    ("codes", 0),
    ("serial", 0),
    ("dn", 0),
    ("events", 0),
    ("budget", 1),
    // What the capture stage hands up, and the Cisco file formats (no packets).
    ("evidence", 2),
    ("cisco", 2),
    // Reading captures; the one trust decision.
    ("capture", 3),
    ("trust", 3),
    ("x509", 3),
    ("alarm", 3),
    ("progress", 4),
    ("net", 4),
    ("transport", 5),
    ("proto", 6),
    // Phone logs and CLI text read beside the capture (no packet code).
    ("sidecar", 6),
    ("pipeline", 7),
    ("diagnosis", 7),
    ("plan", 8),
    ("report", 8),
    ("diff", 9),
    ("extract", 9),
    ("follow", 9),
    ("cli", 10),
];

fn floor_of(module: &str) -> Option<u32> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/proto/tls.rs` → `proto`,
/// `src/dn.rs` → `dn`); None for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// Every `crate::name` a line of code names, with comments left out (doc links are not
/// imports).
fn crate_refs(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut refs = Vec::new();
    // `itlscope::` is how the binary's own modules (`cli.rs`) name the library.
    for root in ["crate::", "itlscope::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let after = &rest[at + root.len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                refs.push(name);
            }
            rest = after;
        }
    }
    refs
}

#[test]
fn every_module_of_lib_rs_has_a_floor() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs is readable");
    let unplaced: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';'))
        .filter(|m| floor_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules without a floor in tests/layers.rs FLOORS: {unplaced:?}"
    );
}

#[test]
fn no_module_imports_one_on_its_own_floor_or_above() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ read: {} files", files.len());
    let mut edges: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut upward = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Some(floor) = floor_of(&module) else {
            upward.push(format!("{}: module {module} has no floor", file.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("source file is readable");
        for (n, line) in text.lines().enumerate() {
            for target in crate_refs(line) {
                if target == module {
                    continue;
                }
                *edges.entry((module.clone(), target.clone())).or_default() += 1;
                match floor_of(&target) {
                    Some(f) if f < floor => {}
                    _ => upward.push(format!(
                        "{}:{}: {module} (floor {floor}) names crate::{target} (floor {:?})",
                        file.strip_prefix(&src).unwrap_or(file).display(),
                        n + 1,
                        floor_of(&target)
                    )),
                }
            }
        }
    }
    assert!(
        edges.len() > 30,
        "the scan found only {} module edges: is it reading the imports?",
        edges.len()
    );
    assert!(
        upward.is_empty(),
        "imports that run sideways or back up the pipeline:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_scan_sees_imports_and_skips_comments() {
    assert_eq!(crate_refs("use crate::proto::tls::TlsConn;"), ["proto"]);
    assert_eq!(
        crate_refs("    let a = crate::cisco::parse(x); // crate::report"),
        ["cisco"]
    );
    assert!(crate_refs("/// see [`crate::report`]").is_empty());
    assert_eq!(crate_refs("use itlscope::net::DefragLimits;"), ["net"]);
}
