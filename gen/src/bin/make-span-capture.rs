//! Writes a SPAN capture of a whole voice VLAN: hundreds of phones booting at once in mixed
//! states (see `itlscope_gen::span`). Too large to commit; make it when you need it.
//!
//! ```text
//! make-span-capture [--phones N] [--seed N] [--alone-dir DIR] -o FILE
//! ```
//! `--alone-dir DIR` also writes each phone's boot alone as `DIR/boot-NNN.pcap`, with
//! `DIR/boots.tsv` naming each one's state (for `benches/boots_alone.py`).
//! A count of phones per state (and the main reason itlscope must give each) goes to stderr.

use itlscope_gen::span::{Span, State};
use std::process::ExitCode;

const USAGE: &str = "usage: make-span-capture [--phones N] [--seed N] [--alone-dir DIR] -o FILE";

struct Args {
    phones: usize,
    seed: u64,
    output: String,
    alone_dir: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut phones = 500usize;
    let mut seed = 1u64;
    let mut output = None;
    let mut alone_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--phones" => {
                let v = value("--phones")?;
                phones = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=65_000).contains(n))
                    .ok_or(format!("--phones takes 1 to 65000, not {v:?}"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "--alone-dir" => alone_dir = Some(value("--alone-dir")?.into()),
            "-o" | "--output" => output = Some(value("-o")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        phones,
        seed,
        output: output.ok_or("-o FILE is required")?,
        alone_dir,
    })
}

/// Writes each phone's boot alone and `boots.tsv` into `dir`.
fn write_alone(span: &Span, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut index = String::from("boot\tip\tstate\tmain_reason\n");
    for (i, (boot, state)) in span.phones.iter().zip(&span.states).enumerate() {
        let name = format!("boot-{i:03}.pcap");
        std::fs::write(dir.join(&name), span.phone_alone(i))?;
        index.push_str(&format!(
            "{name}\t{}\t{state:?}\t{}\n",
            boot.phone.ip,
            state.main_reason()
        ));
    }
    std::fs::write(dir.join("boots.tsv"), index)
}

fn main() -> ExitCode {
    let Args {
        phones,
        seed,
        output,
        alone_dir,
    } = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("make-span-capture: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let span = Span::new(phones, seed);
    let bytes = span.capture();
    if let Err(e) = std::fs::write(&output, &bytes) {
        eprintln!("make-span-capture: {output}: {e}");
        return ExitCode::from(1);
    }
    if let Some(dir) = &alone_dir
        && let Err(e) = write_alone(&span, dir)
    {
        eprintln!("make-span-capture: {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    eprintln!("{output}: {} bytes, {phones} phones", bytes.len());
    for state in State::ALL {
        let n = span.states.iter().filter(|s| **s == state).count();
        eprintln!("  {n:>6}  {state:?} (main reason {})", state.main_reason());
    }
    ExitCode::SUCCESS
}
