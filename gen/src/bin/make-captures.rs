//! Writes every scenario capture, the phones' installed ITLs and `captures/README.md`.
//!
//! Usage: `cargo run -p itlscope-gen --bin make-captures [DIR]` (DIR defaults to
//! `captures` under the workspace root). Output is byte-identical on every run.

use itlscope_gen::scenarios::{catalog, readme};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("captures")
        },
        PathBuf::from,
    );
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("make-captures: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let scenarios = catalog::all();
    let mut files: Vec<(String, Vec<u8>)> = scenarios.iter().flat_map(|s| s.files()).collect();
    files.push(("README.md".to_owned(), readme(&scenarios).into_bytes()));
    for (name, bytes) in files {
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, &bytes) {
            eprintln!("make-captures: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{:>8}  {}", bytes.len(), path.display());
    }
    ExitCode::SUCCESS
}
