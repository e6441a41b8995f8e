//! Replays the committed fuzz corpus on stable: every seed under `fuzz/seeds/<target>/` and
//! every past finding under `tests/fuzz_regressions/<target>/` goes through the same harness
//! the cargo-fuzz target runs (`tests/fuzz_support/mod.rs`), with a time limit per input.
//!
//! To add a finding: copy the crash/timeout/oom file from `fuzz/artifacts/<target>/` into
//! `tests/fuzz_regressions/<target>/` with a name that says what it was.

mod fuzz_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Much more than any input needs; a harness this slow is a hang.
const PER_INPUT_LIMIT: Duration = Duration::from_secs(5);

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, harness: fn(&[u8]), dir: &Path) -> usize {
    let files = files_in(&dir.join(target));
    for file in &files {
        let data = std::fs::read(file).expect("read corpus file");
        let start = Instant::now();
        harness(&data);
        let took = start.elapsed();
        assert!(
            took < PER_INPUT_LIMIT,
            "{} took {took:?} in harness {target}",
            file.display()
        );
    }
    files.len()
}

#[test]
fn seed_corpus_replays_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (target, harness) in fuzz_support::HARNESSES {
        let seeds = replay(target, *harness, &root.join("fuzz/seeds"));
        assert!(seeds >= 3, "fuzz/seeds/{target} holds only {seeds} seeds");
    }
}

#[test]
fn fuzz_regressions_replay_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for (target, harness) in fuzz_support::HARNESSES {
        total += replay(target, *harness, &root.join("tests/fuzz_regressions"));
    }
    eprintln!("replayed {total} fuzz regressions");
}

/// The harnesses also run on arbitrary noise (cheap smoke test of the program decoders).
#[test]
fn harnesses_take_arbitrary_bytes() {
    let mut state = 0x5eed_u64;
    for len in [0usize, 1, 2, 3, 7, 64, 600, 5000] {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect();
        for (_, harness) in fuzz_support::HARNESSES {
            harness(&data);
        }
    }
}

/// Regenerates the generated seeds of `fuzz/seeds/trust_list/` and `fuzz/seeds/signed_file/`
/// (`gen-*`; the `real-*` ones are field files). Run with `--ignored` when the builders change.
#[test]
#[ignore]
fn write_cisco_seeds() {
    use itlscope_gen::pki::{ClusterCerts, Digest};
    use itlscope_gen::trustlist::{Signer, cucm_itl, rollback_itl, signed_file};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let certs = ClusterCerts::new("cucm-pub");
    let lists = [
        ("gen-itl-sha1.tlv", cucm_itl(&certs, Digest::Sha1)),
        ("gen-itl-sha512.tlv", cucm_itl(&certs, Digest::Sha512)),
        ("gen-itl-rollback.tlv", rollback_itl(&certs)),
    ];
    for (name, bytes) in lists {
        std::fs::write(root.join("trust_list").join(name), bytes).expect("write seed");
    }
    let config = b"<device><devicePool><name>Default</name></devicePool></device>\n";
    let signer = Signer::from_cert(&certs.callmanager);
    let sgn = signed_file(
        "SEP001122334455.cnf.xml.sgn",
        config,
        signer,
        Digest::Sha512,
    );
    std::fs::write(root.join("signed_file/gen-cnf.xml.sgn"), sgn).expect("write seed");
}
