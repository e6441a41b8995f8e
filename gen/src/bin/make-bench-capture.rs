//! Writes a large benchmark capture (streamed, bounded memory): mostly unrelated traffic with
//! phone boots mixed in. See `itlscope_gen::bench`.
//!
//! ```text
//! make-bench-capture --size 1G [--format pcap|pcapng] [--seed N] [--boots N] -o FILE
//! ```
//! `--size` takes bytes with an optional K/M/G suffix (binary units). `-o -` writes to stdout.
//! A summary goes to stderr.

use itlscope_gen::bench::{
    BenchConfig, CATEGORY_NAMES, Format, ScenarioBoots, write_bench_capture,
};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: make-bench-capture --size SIZE[K|M|G] [--format pcap|pcapng] [--seed N] [--boots N] -o FILE|-";

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let mult = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KIB" => 1 << 10,
        "M" | "MIB" => 1 << 20,
        "G" | "GIB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

struct Args {
    config: BenchConfig,
    output: String,
}

fn parse_args() -> Result<Args, String> {
    let mut size = None;
    let mut format = Format::Pcap;
    let mut seed = 1u64;
    let mut boots = 36u32;
    let mut output = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--size" => {
                let v = value("--size")?;
                size = Some(parse_size(&v).ok_or(format!("bad size {v:?}"))?);
            }
            "--format" => {
                format = match value("--format")?.as_str() {
                    "pcap" => Format::Pcap,
                    "pcapng" => Format::PcapNg,
                    other => return Err(format!("unknown format {other:?}")),
                }
            }
            "--seed" => {
                seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--boots" => {
                boots = value("--boots")?
                    .parse()
                    .map_err(|e| format!("--boots: {e}"))?
            }
            "-o" | "--output" => output = Some(value("-o")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Args {
        config: BenchConfig {
            size: size.ok_or("--size is required")?,
            format,
            seed,
            boots,
        },
        output: output.ok_or("-o is required")?,
    })
}

fn run(args: &Args) -> io::Result<()> {
    let out: Box<dyn Write> = if args.output == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(File::create(&args.output)?)
    };
    let out = BufWriter::with_capacity(1 << 20, out);
    // Phone boots replayed from the scenario catalog (`--boots 0` for noise only).
    let mut boots = ScenarioBoots::new();
    let stats = write_bench_capture(&args.config, &mut boots, out)?;
    eprintln!(
        "wrote {} bytes, {} packets, {} flows, {} phone boots ({} frames)",
        stats.bytes, stats.packets, stats.flows, stats.boots, stats.boot_packets
    );
    for (name, bytes) in CATEGORY_NAMES.iter().zip(stats.category_bytes) {
        eprintln!("  {name:>9}: {bytes} bytes");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("make-bench-capture: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make-bench-capture: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("3X"), None);
        assert_eq!(parse_size("99999999999G"), None);
    }
}
