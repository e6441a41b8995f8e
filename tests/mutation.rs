//! Wireshark-style mutation test: corrupted copies of every capture in `captures/` (plus
//! small generated ones) must never make `itlscope analyze` panic or hang.
//!
//! Mutations, round-robin over the base captures:
//! - `editcap -E 0.02` and `editcap -E 0.1` (random packet bytes changed; needs editcap),
//! - truncation at a random offset (anywhere, including inside the file header),
//! - random bytes overwritten anywhere in the file (record and block headers too, which
//!   editcap never touches).
//!
//! Each copy is analyzed with a time limit; the run passes when every one exits 0 or 1, an
//! exit 1 comes with exactly one line on stderr, and nothing says "panicked".
//!
//! `cargo test` runs a short deterministic round (100 copies). The full run is
//! `ITLSCOPE_MUTATIONS=1000 cargo test --release --test mutation -- --nocapture`
//! (scripts/mutate.sh does that). `ITLSCOPE_MUTATION_SEED` changes the seed. Failing inputs
//! are kept under `target/tmp/mutation-failures/` with the command that failed.

mod tool_support;

use itlscope_gen::bench::{BenchConfig, Format, NoBoots, write_bench_capture};
use itlscope_gen::filler::Filler;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_MUTATIONS: usize = 100;
/// Per-file limit. The inputs are at most a few MB: anything near this is a hang.
const TIME_LIMIT: Duration = Duration::from_secs(20);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn have_editcap() -> bool {
    tool_support::editcap()
}

/// The captures in `captures/` and two small generated ones (pcap and pcapng).
fn base_captures(dir: &Path) -> Vec<PathBuf> {
    let mut bases: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("captures"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pcap" | "pcapng" | "cap")
                )
            })
            .collect();
    bases.sort();
    for (format, name) in [
        (Format::Pcap, "noise.pcap"),
        (Format::PcapNg, "noise.pcapng"),
    ] {
        let path = dir.join(name);
        let config = BenchConfig {
            size: 300_000,
            format,
            seed: 11,
            boots: 0,
            mix: Default::default(),
        };
        let file = std::fs::File::create(&path).expect("create generated capture");
        write_bench_capture(&config, &mut NoBoots, std::io::BufWriter::new(file))
            .expect("write generated capture");
        bases.push(path);
    }
    bases
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Editcap002,
    Editcap01,
    Truncate,
    Overwrite,
}

/// Makes the mutated copy at `out`; returns a description of what was done.
fn mutate(base: &Path, out: &Path, mutation: Mutation, rng: &mut Filler) -> String {
    let bytes = std::fs::read(base).expect("read base capture");
    match mutation {
        Mutation::Editcap002 | Mutation::Editcap01 => {
            let p = if matches!(mutation, Mutation::Editcap002) {
                "0.02"
            } else {
                "0.1"
            };
            let seed = (rng.next_u64() % 1_000_000).to_string();
            let status = Command::new("editcap")
                .args(["-E", p, "--seed", &seed])
                .arg(base)
                .arg(out)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run editcap");
            if !status.success() {
                // editcap refuses some inputs; fall back to a plain copy so the round still counts.
                std::fs::write(out, &bytes).expect("write copy");
            }
            format!("editcap -E {p} --seed {seed} {}", base.display())
        }
        Mutation::Truncate => {
            let at = rng.below(bytes.len() as u64) as usize;
            std::fs::write(out, &bytes[..at]).expect("write truncated copy");
            format!("head -c {at} {}", base.display())
        }
        Mutation::Overwrite => {
            let mut copy = bytes;
            let count = 1 + rng.below(16);
            let mut where_ = Vec::new();
            for _ in 0..count {
                let at = rng.below(copy.len() as u64) as usize;
                let value = rng.next_u64() as u8;
                if let Some(b) = copy.get_mut(at) {
                    *b = value;
                    where_.push(format!("{at}={value:#04x}"));
                }
            }
            std::fs::write(out, &copy).expect("write overwritten copy");
            format!("overwrite {} in {}", where_.join(","), base.display())
        }
    }
}

/// What one run of `itlscope analyze` did.
struct Outcome {
    exit: Option<i32>,
    stderr: String,
    timed_out: bool,
}

fn analyze(file: &Path) -> Outcome {
    let stderr_path = file.with_extension("stderr");
    let stderr_file = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .arg("analyze")
        .arg(file)
        .arg("--json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file)
        .spawn()
        .expect("spawn itlscope");
    let start = Instant::now();
    let (exit, timed_out) = loop {
        match child.try_wait().expect("wait for itlscope") {
            Some(status) => break (status.code(), false),
            None if start.elapsed() > TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                break (None, true);
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_file(&stderr_path);
    Outcome {
        exit,
        stderr,
        timed_out,
    }
}

/// Why an outcome breaks the rules, if it does.
fn violation(o: &Outcome) -> Option<String> {
    if o.timed_out {
        return Some(format!("no answer within {TIME_LIMIT:?} (hang)"));
    }
    if o.stderr.contains("panicked") {
        return Some(format!("panicked: {}", o.stderr.trim()));
    }
    match o.exit {
        Some(0) => None,
        Some(1) => {
            let lines = o.stderr.lines().filter(|l| !l.trim().is_empty()).count();
            (lines != 1).then(|| format!("exit 1 with {lines} lines of error: {:?}", o.stderr))
        }
        other => Some(format!(
            "exit {other:?} (0 or 1 expected): {}",
            o.stderr.trim()
        )),
    }
}

#[test]
fn corrupted_captures_never_panic_or_hang() {
    let total = env_number("ITLSCOPE_MUTATIONS", DEFAULT_MUTATIONS as u64) as usize;
    let mut rng = Filler::new(env_number("ITLSCOPE_MUTATION_SEED", 0x17c0_5c0e));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutation");
    let failures_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutation-failures");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let bases = base_captures(&work);
    let editcap = have_editcap();
    let kinds: &[Mutation] = if editcap {
        &[
            Mutation::Editcap002,
            Mutation::Editcap01,
            Mutation::Truncate,
            Mutation::Overwrite,
        ]
    } else {
        eprintln!("editcap not installed: only truncations and overwrites");
        &[Mutation::Truncate, Mutation::Overwrite]
    };

    let mut failures = Vec::new();
    let mut exits = [0usize; 2];
    let start = Instant::now();
    for i in 0..total {
        let base = &bases[i % bases.len()];
        let kind = kinds[(i / bases.len()) % kinds.len()];
        let ext = base.extension().and_then(|e| e.to_str()).unwrap_or("pcap");
        let copy = work.join(format!("m{i:05}.{ext}"));
        let what = mutate(base, &copy, kind, &mut rng);
        let outcome = analyze(&copy);
        match violation(&outcome) {
            Some(why) => {
                std::fs::create_dir_all(&failures_dir).expect("failures dir");
                let kept = failures_dir.join(copy.file_name().expect("file name"));
                let _ = std::fs::copy(&copy, &kept);
                failures.push(format!("{}: {why}\n    made by: {what}", kept.display()));
            }
            None => exits[usize::from(outcome.exit == Some(1))] += 1,
        }
        let _ = std::fs::remove_file(&copy);
    }
    eprintln!(
        "mutation: {total} copies of {} captures in {:.1}s: {} exit 0, {} exit 1 (one-line error), {} failures",
        bases.len(),
        start.elapsed().as_secs_f64(),
        exits[0],
        exits[1],
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} mutated captures broke the rules:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
