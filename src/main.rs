//! The `itlscope` command line: a thin layer over the library.

use clap::{Parser, Subcommand};
use itlscope::diagnosis::{ItlHash, KeyBackup, OperatorFacts, PhoneItlFile, PhoneStatus};
use itlscope::evidence::Evidence;
use itlscope::pipeline::{self, PipelineOptions};
use itlscope::report::{OutputFormat, run_analyze};
use itlscope::{cisco, report};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod limits;
use limits::LimitArgs;

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
        /// Capture files.
        #[arg(required = true)]
        captures: Vec<PathBuf>,
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
        #[command(flatten)]
        limits: LimitArgs,
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
        /// Capture files.
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        /// Output directory.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
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
fn collect_evidence(captures: &[PathBuf], limits: &LimitArgs) -> Result<Evidence, Failure> {
    let evidence = pipeline::collect_evidence(
        captures,
        &PipelineOptions {
            progress: itlscope::progress::Progress::stderr(),
            ..limits.options()
        },
    )
    .map_err(|e| Failure::Input(e.to_string()))?;
    for summary in &evidence.captures {
        if let Some(warning) = &summary.truncated {
            eprintln!("itlscope: warning: {warning}");
        }
    }
    Ok(evidence)
}

fn extract(captures: &[PathBuf], dir: &Path, limits: &LimitArgs) -> ExitCode {
    let evidence = match collect_evidence(captures, limits) {
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
    captures: &[PathBuf],
    json: bool,
    output: Option<&Path>,
    phone_itl: Option<&Path>,
    phone_itl_hash: Option<ItlHash>,
    phone_status: PhoneStatus,
    key_backup: KeyBackup,
    limits: &LimitArgs,
) -> Result<(), Failure> {
    let facts = OperatorFacts {
        phone_itl: phone_itl.map(read_phone_itl).transpose()?,
        phone_itl_hash,
        phone_status,
        key_backup,
    };
    let evidence = collect_evidence(captures, limits)?;
    if let Some(path) = output {
        let report = run_analyze(&evidence, &facts, OutputFormat::Json);
        std::fs::write(path, report)
            .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    }
    let format = if json {
        OutputFormat::Json
    } else {
        OutputFormat::Text
    };
    let report = run_analyze(&evidence, &facts, format);
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(report.as_bytes())
        .and_then(|()| stdout.flush())
    {
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
            captures,
            json,
            output,
            phone_itl,
            phone_itl_hash,
            phone_status,
            key_backup,
            limits,
        } => match analyze(
            &captures,
            json,
            output.as_deref(),
            phone_itl.as_deref(),
            phone_itl_hash,
            phone_status,
            key_backup,
            &limits,
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
        Command::Extract {
            captures,
            output,
            limits,
        } => extract(&captures, &output, &limits),
        Command::Verify { file, trust } => verify(&file, &trust),
    }
}
