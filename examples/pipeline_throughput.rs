//! The packet path alone, for benchmarks and profiling: capture reader -> decoder ->
//! collector over each file (one worker per file, `itlscope::pipeline`), then a one-line
//! count of what was found: what `itlscope analyze` runs before the diagnosis.
//!
//! `cargo run --release --example pipeline_throughput -- FILE...`

use itlscope::pipeline::{PipelineOptions, read_captures};
use itlscope::progress::Progress;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let options = PipelineOptions {
        progress: Progress::stderr(),
        ..PipelineOptions::default()
    };
    let mut status = ExitCode::SUCCESS;
    for (path, result) in paths.iter().zip(read_captures(&paths, &options)) {
        match result {
            Ok(r) => println!(
                "{}: {} frames, {} malformed, {} files, {} TLS sessions, {} limits hit",
                path.display(),
                r.summary.frames,
                r.summary.malformed,
                r.collected.files.len(),
                r.collected.tls.len(),
                r.summary.limits_hit.len()
            ),
            Err(e) => {
                eprintln!("{e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
