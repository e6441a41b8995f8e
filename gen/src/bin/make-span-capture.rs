//! Writes a SPAN capture of a whole voice VLAN: hundreds of phones booting at once in mixed
//! states (see `itlscope_gen::span`). Too large to commit; make it when you need it.
//!
//! ```text
//! make-span-capture [--phones N] [--seed N] -o FILE
//! ```
//! A count of phones per state (and the main reason itlscope must give each) goes to stderr.

use itlscope_gen::span::{Span, State};
use std::process::ExitCode;

const USAGE: &str = "usage: make-span-capture [--phones N] [--seed N] -o FILE";

fn parse_args() -> Result<(usize, u64, String), String> {
    let mut phones = 500usize;
    let mut seed = 1u64;
    let mut output = None;
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
            "-o" | "--output" => output = Some(value("-o")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((phones, seed, output.ok_or("-o FILE is required")?))
}

fn main() -> ExitCode {
    let (phones, seed, output) = match parse_args() {
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
    eprintln!("{output}: {} bytes, {phones} phones", bytes.len());
    for state in State::ALL {
        let n = span.states.iter().filter(|s| **s == state).count();
        eprintln!("  {n:>6}  {state:?} (main reason {})", state.main_reason());
    }
    ExitCode::SUCCESS
}
