//! Writes a large benchmark capture (streamed, bounded memory): mostly unrelated traffic with
//! phone boots mixed in. See `itlscope_gen::bench`.
//!
//! ```text
//! make-bench-capture --size 1G [--mix ordinary|tls-heavy|flow-churn] [--format pcap|pcapng]
//!                    [--seed N] [--boots N] [--boots-dir DIR] -o FILE
//! ```
//! `--size` takes bytes with an optional K/M/G suffix (binary units). `-o -` writes to stdout.
//! `--boots-dir DIR` also writes every phone boot alone, as `DIR/boot-NNN.pcap` (the same
//! frames and timestamps), so a benchmark can check each boot is diagnosed in the big file
//! exactly as alone. A summary goes to stderr.

use itlscope_gen::bench::{
    BenchConfig, CATEGORY_NAMES, Format, Mix, PhoneBoots, SpanBoots, write_bench_capture,
};
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: make-bench-capture --size SIZE[K|M|G] [--mix ordinary|tls-heavy|flow-churn] [--format pcap|pcapng] [--seed N] [--boots N] [--boots-dir DIR] -o FILE|-";

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
    boots_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut size = None;
    let mut format = Format::Pcap;
    let mut seed = 1u64;
    let mut boots = 36u32;
    let mut mix = Mix::Ordinary;
    let mut boots_dir = None;
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
            "--mix" => {
                let v = value("--mix")?;
                mix = Mix::from_name(&v).ok_or(format!("unknown mix {v:?}"))?;
            }
            "--boots-dir" => boots_dir = Some(PathBuf::from(value("--boots-dir")?)),
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
            mix,
        },
        output: output.ok_or("-o is required")?,
        boots_dir,
    })
}

fn run(args: &Args) -> io::Result<()> {
    let out: Box<dyn Write> = if args.output == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(File::create(&args.output)?)
    };
    let out = BufWriter::with_capacity(1 << 20, out);
    // Phones of a generated voice-VLAN SPAN, each in its own state (`--boots 0` for noise
    // only).
    let mut boots = SpanBoots::new(args.config.boots, args.config.seed);
    let stats = match &args.boots_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let mut recording = Recording {
                inner: boots,
                dir: dir.clone(),
                index: String::from("boot\tip\tstate\tmain_reason\n"),
                error: None,
            };
            let stats = write_bench_capture(&args.config, &mut recording, out)?;
            if let Some(e) = recording.error {
                return Err(e);
            }
            std::fs::write(dir.join("boots.tsv"), recording.index)?;
            stats
        }
        None => write_bench_capture(&args.config, &mut boots, out)?,
    };
    eprintln!(
        "wrote {} bytes, {} packets, {} flows, {} phone boots ({} frames)",
        stats.bytes, stats.packets, stats.flows, stats.boots, stats.boot_packets
    );
    for (name, bytes) in CATEGORY_NAMES.iter().zip(stats.category_bytes) {
        eprintln!("  {name:>11}: {bytes} bytes");
    }
    Ok(())
}

/// Passes boots through and writes each one alone to `dir/boot-NNN.pcap`.
struct Recording {
    inner: SpanBoots,
    dir: PathBuf,
    /// `boots.tsv`: each boot's file, phone address, SPAN state and expected main reason.
    index: String,
    /// The first write error (the hook cannot return one; `run` reports it).
    error: Option<io::Error>,
}

impl Recording {
    fn write_alone(&self, index: u32, frames: &[(i64, Vec<u8>)]) -> io::Result<()> {
        let path = self.dir.join(format!("boot-{index:03}.pcap"));
        let file = BufWriter::new(File::create(path)?);
        let mut w = PcapWriter::new(file, 1, 65535, Precision::Micro, Endian::Little)?;
        for (ts, frame) in frames {
            w.write_packet(*ts, frame, frame.len() as u32)?;
        }
        w.into_inner().flush()
    }
}

impl PhoneBoots for Recording {
    fn boot(&mut self, index: u32, phone_ip: Ipv4Addr, start_ns: i64) -> Vec<(i64, Vec<u8>)> {
        let frames = self.inner.boot(index, phone_ip, start_ns);
        if let Some(state) = self.inner.state(index) {
            self.index.push_str(&format!(
                "boot-{index:03}.pcap\t{phone_ip}\t{state:?}\t{}\n",
                state.main_reason()
            ));
        }
        if self.error.is_none()
            && let Err(e) = self.write_alone(index, &frames)
        {
            self.error = Some(e);
        }
        frames
    }
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
