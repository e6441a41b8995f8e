//! `analyze --annotate OUT.pcapng` (issue 20, "Into Wireshark"): the copy opens in tshark with
//! the comments on the right frames (the ITL request, the TVS certificate, the phone's alert,
//! the verdict on the phone's last frame), and every frame is byte-identical to the input.

mod tool_support;

use assert_cmd::Command;
use itlscope::capture::CaptureReader;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const CAPTURE: &str = "captures/cm-and-tvs-regenerated.pcap";

fn annotate(out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .args([
            "analyze",
            CAPTURE,
            "--phone-itl",
            "captures/cm-and-tvs-regenerated.phone-itl.tlv",
            "--phone-status",
            "failed",
            "--key-backup",
            "no",
            "--brief",
            "--annotate",
        ])
        .arg(out)
        .output()
        .expect("itlscope runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// (number, time, length on the wire, bytes) of every frame.
fn frames(path: &Path) -> Vec<(u64, i64, u32, Vec<u8>)> {
    let mut r = CaptureReader::open(path).expect("capture opens");
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().expect("frame") {
        out.push((f.number, f.ts.0, f.orig_len, f.data.to_vec()));
    }
    out
}

#[test]
fn every_frame_of_the_copy_is_the_frame_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("annotated.pcapng");
    annotate(&out);
    let original = frames(&repo().join(CAPTURE));
    assert!(original.len() > 40);
    assert_eq!(frames(&out), original);
}

#[test]
fn tshark_shows_the_comments_on_the_frames_that_matter() {
    if !tool_support::tshark() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("annotated.pcapng");
    annotate(&out);
    let run = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .args([
            "-Y",
            "frame.comment",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.comment",
        ])
        .output()
        .expect("tshark runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    let on = |frame: u64, words: &str| {
        text.lines().any(|l| {
            l.split_once('\t')
                .is_some_and(|(n, c)| n == frame.to_string() && c.contains(words))
        })
    };
    assert!(on(3, "requests ITLSEP00005E005321.tlv"), "{text}");
    assert!(
        on(37, "presents certificate CN=cucm-pub.example.com"),
        "{text}"
    );
    assert!(on(39, "fatal alert unknown_ca"), "{text}");
    // What the frames mean, not only what they carry: the served ITL's hashes and signer, and
    // whether the phone takes it (statement 21: the phone's own ITL decides); the TVS
    // certificate the phone's ITL does not list (statement 24).
    assert!(
        on(
            3,
            "served ITL ITLSEP00005E005321.tlv: 7032 bytes, SHA-1 df54922735e4f4c0eedfa453986d18ae50f1978b, MD5 036c1211ee0e69da39ac5318247a94f7, signed by"
        ),
        "{text}"
    );
    assert!(on(3, "takes this ITL: rejected - not at all"), "{text}");
    assert!(on(44, "takes this config: rejected"), "{text}");
    assert!(on(37, "tvs-certificate fail"), "{text}");
    // The verdict on the phone's last frame of its timeline.
    let last = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(n, _)| n.parse::<u64>().ok())
        .max()
        .expect("commented frames");
    assert!(on(last, "verdict DO NOT DELETE"), "{text}");
    // tshark reads every frame.
    let all = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .output()
        .expect("tshark runs");
    let count = String::from_utf8_lossy(&all.stdout).lines().count();
    assert_eq!(count, frames(&repo().join(CAPTURE)).len());
}

#[test]
fn tshark_shows_the_itl_hash_the_phone_reports_in_its_device_tl_info_alarm() {
    // phone-behaviour.md §3.2: the phone's DeviceTLInfo alarm carries the hash of the ITL it
    // holds, which is what condition 1 compares (statement 16).
    if !tool_support::tshark() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("alarm.pcapng");
    let run = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .current_dir(repo())
        .args([
            "analyze",
            "captures/sip-devicetlinfo-alarm.pcap",
            "--brief",
            "--annotate",
        ])
        .arg(&out)
        .output()
        .expect("itlscope runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let run = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&out)
        .args([
            "-Y",
            "frame.comment contains \"DeviceTLInfo\"",
            "-T",
            "fields",
            "-e",
            "frame.comment",
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("DeviceTLInfo: the phone's ITL hash is sha1 "),
        "{text}"
    );
}

#[test]
fn annotate_takes_one_capture_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("a.pcapng");
    for captures in [vec![CAPTURE, CAPTURE], vec!["-"]] {
        let run = Command::new(env!("CARGO_BIN_EXE_itlscope"))
            .current_dir(repo())
            .arg("analyze")
            .args(&captures)
            .arg("--annotate")
            .arg(&out)
            .output()
            .expect("itlscope runs");
        assert_eq!(run.status.code(), Some(2), "{captures:?}");
        assert!(String::from_utf8_lossy(&run.stderr).contains("--annotate copies one capture"));
    }
}
