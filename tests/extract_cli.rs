//! `itlscope extract` on the command line: what it prints about where it wrote.

use assert_cmd::Command;
use std::path::Path;

#[test]
fn extract_into_a_nested_relative_directory_names_the_index_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/healthy-http-boot.pcap");
    let out = Command::cargo_bin("itlscope")
        .expect("binary")
        .current_dir(dir.path())
        .arg("extract")
        .arg(&capture)
        .args(["-o", "out/deeper"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("out/deeper/index.json").is_file());
    assert!(
        stdout.contains("index in out/deeper/index.json"),
        "{stdout}"
    );
    assert!(!stdout.contains("out/deeper/out/deeper"), "{stdout}");
}
