//! The `itlscope` command line: a thin layer over the library.

use clap::{Parser, Subcommand};
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
        /// Capture files.
        #[arg(required = true)]
        captures: Vec<PathBuf>,
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

fn not_yet(what: &str) -> ExitCode {
    eprintln!("itlscope: `{what}` is not yet available in this build");
    ExitCode::from(2)
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze { .. } => not_yet("analyze"),
        Command::Show {
            file,
            json,
            payload,
        } => show(&file, json, payload.as_deref()),
        Command::Extract { .. } => not_yet("extract"),
        Command::Verify { file, trust } => verify(&file, &trust),
    }
}
