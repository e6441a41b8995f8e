//! The `itlscope` command line: a thin layer over the library.

use clap::{Parser, Subcommand};
use itlscope::diagnosis::{DEFAULT_MAX_PHONES, Limits, diagnose_limited, trust::CiscoBackend};
use itlscope::diagnosis::{ItlHash, KeyBackup, OperatorFacts, PhoneItlFile, PhoneStatus};
use itlscope::evidence::Evidence;
use itlscope::pipeline::{self, PipelineOptions};
use itlscope::report::{OutputFormat, write_report};
use itlscope::{cisco, report};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Does this Cisco IP phone's ITL really have to be deleted? Reads captures taken at the
/// phone's port and answers with the evidence.
#[derive(Parser, Debug)]
#[command(name = "itlscope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyze captures (pcap or pcapng; `-` for standard input) and give a per-phone verdict.
    Analyze {
        #[command(flatten)]
        input: CaptureArgs,
        /// Print the JSON object (docs/report.md) instead of the readable report.
        #[arg(long)]
        json: bool,
        /// Also write the JSON object to FILE.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// The phone's installed ITL file (e.g. from a known earlier download).
        #[arg(long = "phone-itl", value_name = "FILE")]
        phone_itl: Option<PathBuf>,
        /// The ITL hash shown on the phone (Settings > Security Configuration > Trust List):
        /// MD5, SHA-1 or SHA-256 by length; spaces and colons allowed.
        #[arg(long = "phone-itl-hash", value_name = "HEX", value_parser = parse_hash)]
        phone_itl_hash: Option<ItlHash>,
        /// Does the phone show a verification failure ("Trust List update failed")?
        #[arg(long = "phone-status", value_name = "failed|ok|unknown", default_value = "unknown", value_parser = parse_status)]
        phone_status: PhoneStatus,
        /// Does a backup of the old TFTP (CallManager.pem) private key exist?
        #[arg(long = "key-backup", value_name = "yes|no|unknown", default_value = "unknown", value_parser = parse_backup)]
        key_backup: KeyBackup,
        /// Phones diagnosed at most (the first seen); the report says how many were left out.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PHONES)]
        max_phones: usize,
    },
    /// Show a trust list (ITL/CTL) or signed file like CUCM's `show itl`.
    Show {
        /// The file.
        file: PathBuf,
        /// Print the JSON object instead of the text dump.
        #[arg(long)]
        json: bool,
        /// For a signed file: write the unsigned payload to this file.
        #[arg(long, value_name = "OUT")]
        payload: Option<PathBuf>,
    },
    /// Extract reassembled files and TLS server certificates from captures.
    Extract {
        #[command(flatten)]
        input: CaptureArgs,
        /// Output directory.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Verify a signed file or trust list against a trust list (exit 0 trusted, 1 not).
    Verify {
        /// The signed file.
        file: PathBuf,
        /// The trust list whose records may sign it.
        #[arg(long)]
        trust: PathBuf,
    },
}

/// The captures to read, the ports to follow and the memory limits (README "Limits").
#[derive(clap::Args, Debug)]
struct CaptureArgs {
    /// Capture files (pcap or pcapng, optionally gzip-compressed; `-` for standard input).
    #[arg(required = true)]
    captures: Vec<PathBuf>,
    /// Another UDP port where TFTP read/write requests are accepted (69 always is).
    #[arg(long = "tftp-port", value_name = "PORT")]
    tftp_ports: Vec<u16>,
    /// Another TCP port where HTTP downloads are followed (6970 always is).
    #[arg(long = "http-port", value_name = "PORT")]
    http_ports: Vec<u16>,
    /// Largest file kept from one download; larger ones are cut and reported incomplete.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,
    /// File bytes kept across all downloads of one capture.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_total_file_bytes: Option<u64>,
    /// TCP connections followed at once per capture.
    #[arg(long, value_name = "N")]
    max_flows: Option<usize>,
    /// Files, TLS sessions of phones, TLS aggregates and alarms kept per capture (each).
    #[arg(long, value_name = "N")]
    max_records: Option<usize>,
    /// Latest TLS sessions of hosts that are not phones kept one by one; older ones are
    /// summed per server and certificate.
    #[arg(long, value_name = "N")]
    max_other_tls: Option<usize>,
    /// Out-of-order bytes one TCP direction may hold while waiting for a hole.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    stream_buffer: Option<u64>,
    /// Out-of-order bytes all TCP directions together may hold.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    global_stream_buffer: Option<u64>,
    /// Bytes of incomplete IP fragments held at once.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_fragment_bytes: Option<u64>,
    /// Largest capture record (pcap record or pcapng block) read.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_record_size: Option<u64>,
}

impl CaptureArgs {
    /// The library options: defaults, with what was given on the command line.
    fn options(&self) -> PipelineOptions {
        let mut o = PipelineOptions::default();
        let c = &mut o.collector;
        c.tftp_ports.extend(&self.tftp_ports);
        c.http_ports.extend(&self.http_ports);
        let usize_of = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        if let Some(v) = self.max_file_size {
            c.max_file_size = v;
        }
        if let Some(v) = self.max_total_file_bytes {
            c.max_total_file_bytes = v;
        }
        if let Some(v) = self.max_flows {
            c.max_flows = v;
        }
        if let Some(v) = self.max_records {
            c.max_records = v;
        }
        if let Some(v) = self.max_other_tls {
            c.max_other_tls_sessions = v;
        }
        if let Some(v) = self.stream_buffer {
            c.stream_buffer_cap = usize_of(v);
        }
        if let Some(v) = self.global_stream_buffer {
            c.global_buffer_cap = usize_of(v);
        }
        if let Some(v) = self.max_fragment_bytes {
            o.defrag.max_total_bytes = usize_of(v);
        }
        if let Some(v) = self.max_record_size {
            o.reader.max_record_size = usize_of(v);
        }
        o
    }
}

/// A byte size: a number with an optional K, M or G suffix (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 65536, 64K, 16M, 1G)"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn parse_hash(s: &str) -> Result<ItlHash, String> {
    ItlHash::parse(s).map_err(|e| e.to_string())
}

fn parse_status(s: &str) -> Result<PhoneStatus, String> {
    PhoneStatus::parse(s).ok_or_else(|| "expected failed, ok or unknown".to_string())
}

fn parse_backup(s: &str) -> Result<KeyBackup, String> {
    KeyBackup::parse(s).ok_or_else(|| "expected yes, no or unknown".to_string())
}

/// Prints `itlscope: FILE: what` and gives exit status 1.
fn fail(path: &Path, what: impl std::fmt::Display) -> ExitCode {
    eprintln!("itlscope: {}: {what}", path.display());
    ExitCode::from(1)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("itlscope: stdout: {e}");
            ExitCode::from(1)
        }
    }
}

fn show(file: &Path, json: bool, payload_out: Option<&Path>) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(file, e),
    };
    let parsed = match cisco::parse_any(&bytes) {
        Ok(p) => p,
        Err(e) => return fail(file, e),
    };
    if let Some(out) = payload_out {
        let cisco::ParsedFile::Signed(signed) = &parsed else {
            return fail(
                file,
                "--payload applies to signed files; this is a trust list",
            );
        };
        if let Err(e) = std::fs::write(out, signed.payload) {
            return fail(out, e);
        }
    }
    if json {
        match serde_json::to_string_pretty(&report::trustlist::show_json(&parsed)) {
            Ok(mut text) => {
                text.push('\n');
                emit(&text)
            }
            Err(e) => fail(file, e),
        }
    } else {
        emit(&report::trustlist::show_text(&parsed))
    }
}

fn verify(file: &Path, trust: &Path) -> ExitCode {
    let (file_bytes, trust_bytes) = match (std::fs::read(file), std::fs::read(trust)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) => return fail(file, e),
        (_, Err(e)) => return fail(trust, e),
    };
    let parsed = match cisco::parse_any(&file_bytes) {
        Ok(p) => p,
        Err(e) => return fail(file, e),
    };
    let trust_list = match cisco::trustlist::parse_trust_list(&trust_bytes) {
        Ok(t) => t,
        Err(e) => return fail(trust, e),
    };
    let (trusted, line) = report::trustlist::verify_verdict(&parsed, &trust_list);
    let status = emit(&format!("{}: {line}\n", file.display()));
    if trusted { status } else { ExitCode::from(1) }
}

/// Why `analyze` stopped.
enum Failure {
    /// Input that cannot be read: exit 1.
    Input(String),
}

/// Reads the captures into evidence; warnings about captures cut short go to stderr.
fn collect_evidence(input: &CaptureArgs) -> Result<Evidence, Failure> {
    let options = PipelineOptions {
        progress: itlscope::progress::Progress::stderr(),
        ..input.options()
    };
    let evidence = pipeline::collect_evidence(&input.captures, &options)
        .map_err(|e| Failure::Input(e.to_string()))?;
    for summary in &evidence.captures {
        if let Some(warning) = &summary.truncated {
            eprintln!("itlscope: warning: {warning}");
        }
    }
    Ok(evidence)
}

fn extract(input: &CaptureArgs, dir: &Path) -> ExitCode {
    let evidence = match collect_evidence(input) {
        Ok(e) => e,
        Err(Failure::Input(message)) => {
            eprintln!("itlscope: {message}");
            return ExitCode::from(1);
        }
    };
    match itlscope::extract::write_extraction(&evidence.files, &evidence.tls, dir) {
        Ok(done) => emit(&format!(
            "{}: {} files and {} certificates written, index in {}\n",
            dir.display(),
            done.files.len(),
            done.certificates.len(),
            dir.join(&done.index).display()
        )),
        Err(e) => {
            eprintln!("itlscope: {e}");
            ExitCode::from(1)
        }
    }
}

fn read_phone_itl(path: &Path) -> Result<PhoneItlFile, Failure> {
    // An ITL is a few KB; refuse anything absurd rather than read it whole.
    const LIMIT: u64 = 16 * 1024 * 1024;
    let meta = std::fs::metadata(path)
        .map_err(|e| Failure::Input(format!("--phone-itl {}: {e}", path.display())))?;
    if meta.len() > LIMIT {
        return Err(Failure::Input(format!(
            "--phone-itl {}: {} bytes is not an ITL (limit {LIMIT})",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Input(format!("--phone-itl {}: {e}", path.display())))?;
    Ok(PhoneItlFile {
        name: path.display().to_string(),
        bytes,
    })
}

#[allow(clippy::too_many_arguments)]
fn analyze(
    input: &CaptureArgs,
    json: bool,
    output: Option<&Path>,
    phone_itl: Option<&Path>,
    phone_itl_hash: Option<ItlHash>,
    phone_status: PhoneStatus,
    key_backup: KeyBackup,
    limits: Limits,
) -> Result<(), Failure> {
    let facts = OperatorFacts {
        phone_itl: phone_itl.map(read_phone_itl).transpose()?,
        phone_itl_hash,
        phone_status,
        key_backup,
    };
    let evidence = collect_evidence(input)?;
    let diagnosis = diagnose_limited(&evidence, &facts, &CiscoBackend, limits);
    if let Some(path) = output {
        let written = std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write_report(&diagnosis, &evidence, OutputFormat::Json, &mut out)?;
            out.flush()
        });
        written.map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    }
    let format = if json {
        OutputFormat::Json
    } else {
        OutputFormat::Text
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match write_report(&diagnosis, &evidence, format, &mut stdout).and_then(|()| stdout.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Input(format!("standard output: {e}")))
        }
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze {
            input,
            json,
            output,
            phone_itl,
            phone_itl_hash,
            phone_status,
            key_backup,
            max_phones,
        } => match analyze(
            &input,
            json,
            output.as_deref(),
            phone_itl.as_deref(),
            phone_itl_hash,
            phone_status,
            key_backup,
            Limits { max_phones },
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Input(message)) => {
                eprintln!("itlscope: {message}");
                ExitCode::from(1)
            }
        },
        Command::Show {
            file,
            json,
            payload,
        } => show(&file, json, payload.as_deref()),
        Command::Extract { input, output } => extract(&input, &output),
        Command::Verify { file, trust } => verify(&file, &trust),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("16m"), Ok(16 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
