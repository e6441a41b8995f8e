//! The committed scenario captures (and the phones' ITLs and the README next to them) are
//! exactly what the generator makes: regenerate everything in memory and compare byte for
//! byte. After changing the generator, run `cargo run -p itlscope-gen --bin make-captures`.

use itlscope_gen::scenarios::{catalog, readme};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures")
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

#[test]
fn committed_captures_are_byte_identical_to_the_generator() {
    let scenarios = catalog::all();
    assert!(
        scenarios.len() >= 33,
        "at least 33 scenarios (issue 18 added nine)"
    );
    let mut expected: Vec<(String, Vec<u8>)> = scenarios.iter().flat_map(|s| s.files()).collect();
    expected.push(("README.md".to_owned(), readme(&scenarios).into_bytes()));
    let mut stale = Vec::new();
    for (name, bytes) in &expected {
        let path = captures_dir().join(name);
        match std::fs::read(&path) {
            Ok(on_disk) if on_disk == *bytes => {}
            Ok(on_disk) => stale.push(format!(
                "{name}: differs at byte {} ({} bytes on disk, {} generated)",
                first_difference(&on_disk, bytes),
                on_disk.len(),
                bytes.len()
            )),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "captures/ is out of date; run `cargo run -p itlscope-gen --bin make-captures`:\n{}",
        stale.join("\n")
    );
    // Nothing in captures/ that the generator does not make.
    let generated: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let entries = std::fs::read_dir(captures_dir()).expect("captures/ exists");
    for entry in entries {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            generated.contains(name.as_ref()),
            "captures/{name} is not made by the generator"
        );
    }
}

#[test]
fn generation_is_deterministic_and_captures_stay_small() {
    for (file, build) in catalog::builders() {
        let a = build().capture();
        let b = build().capture();
        assert_eq!(a, b, "{file} differs between two builds");
        assert!(a.len() < 100_000, "{file} is {} bytes", a.len());
    }
}

#[test]
fn readme_lists_every_capture_with_options_and_verdicts() {
    let scenarios = catalog::all();
    let text = readme(&scenarios);
    let plan_args: Vec<&str> = itlscope_gen::scenarios::plans::rows()
        .iter()
        .map(|r| r.args)
        .chain(
            itlscope_gen::scenarios::plans::unconfirmed()
                .iter()
                .map(|u| u.args),
        )
        .collect();
    for s in &scenarios {
        assert!(
            text.contains(&format!("`{}`", s.file)),
            "{} missing",
            s.file
        );
        for run in &s.runs {
            for v in &run.verdicts {
                assert!(text.contains(&v.mac));
                assert!(["required", "not-required", "undetermined"].contains(&v.delete_itl));
            }
        }
        for (side, _) in &s.side_files {
            let mentioned = s
                .runs
                .iter()
                .any(|r| r.args.iter().any(|a| a.ends_with(side.as_str())));
            // A target cluster's ITL is passed to `itlscope plan --move-to` instead.
            let planned = plan_args.iter().any(|a| a.contains(side.as_str()));
            assert!(
                mentioned || planned,
                "{side} is committed but no run (nor plan row) passes it"
            );
        }
    }
}
