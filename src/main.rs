//! The `itlscope` command line: a thin layer over the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
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
    /// Verify a signed file or trust list against a trust list.
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

/// Until the diagnosis lands: a per-capture summary on stdout; warnings (truncated capture)
/// on stderr; exit 1 when a capture cannot be read at all.
fn analyze(captures: &[PathBuf]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for path in captures {
        match itlscope::net::summarize_path(path) {
            Ok(summary) => {
                print!("{}", itlscope::net::render_summary(&summary));
                if let Some(warning) = &summary.truncated {
                    eprintln!("itlscope: warning: {warning}");
                }
            }
            Err(e) => {
                eprintln!("itlscope: {e}");
                code = ExitCode::from(1);
            }
        }
    }
    code
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze { captures } => analyze(&captures),
        Command::Show { .. } => not_yet("show"),
        Command::Extract { .. } => not_yet("extract"),
        Command::Verify { .. } => not_yet("verify"),
    }
}
