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

/// `analyze` keeps a signed config as its header and digest only (issue 20); `extract` still
/// writes its whole bytes: the file written is the one the phone downloaded (statement 1:
/// the signed config it asks for once it holds a trust list), its SHA-256 the index's.
#[test]
fn extract_writes_the_whole_signed_config() {
    use sha2::Digest;
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/healthy-tftp-boot.pcap");
    let out = Command::cargo_bin("itlscope")
        .expect("binary")
        .arg("extract")
        .arg(&capture)
        .arg("-o")
        .arg(dir.path())
        .arg("-q")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("index.json")).expect("index written"),
    )
    .expect("index parses");
    let config = index["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["kind"] == "signed-config")
        .expect("the capture's signed config is listed");
    let path = dir
        .path()
        .join(config["path"].as_str().expect("written under a path"));
    let bytes = std::fs::read(&path).expect("config written");
    assert_eq!(Some(bytes.len() as u64), config["size"].as_u64());
    assert_eq!(config["bytes_written"], config["size"]);
    assert_eq!(
        config["sha256"].as_str(),
        Some(hex::encode(sha2::Sha256::digest(&bytes)).as_str())
    );
    let signed = itlscope::cisco::signed::parse_signed_file(&bytes).expect("a signed file");
    assert!(
        signed.payload.windows(7).any(|w| w == b"<device"),
        "the XML is there"
    );
}
