//! `analyze --follow` (issue 20, "Watching a reboot"): a capture written to the tool's
//! standard input a little at a time, as `tcpdump -w -` would, gives each phone's verdict
//! line as soon as its boot ends (statement 6: CTL, ITL, then the config, which ends the
//! boot), while the input is still open; the report at the end is the one `analyze` gives
//! without `--follow`; Ctrl-C ends the reading with the report on what was read.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn itlscope() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_itlscope"));
    cmd.current_dir(repo()).env("NO_COLOR", "1");
    cmd
}

/// `analyze ARGS` without `--follow`: its standard output.
fn plain(args: &[&str]) -> String {
    let out = itlscope()
        .arg("analyze")
        .args(args)
        .output()
        .expect("itlscope runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `itlscope analyze - --follow ARGS` with its standard input open: the bytes are written
/// by the test, the lines of standard output arrive on a channel as they are printed.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Live {
    fn start(args: &[&str]) -> Live {
        let mut child = itlscope()
            .args(["analyze", "-", "--follow"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("itlscope starts");
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
            all
        });
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            let _ = err.read_to_string(&mut all);
            all
        });
        Live {
            child,
            stdin,
            lines,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Writes `bytes` in chunks of `chunk` with a pause after each, as a live capture comes.
    fn feed(&mut self, bytes: &[u8], chunk: usize) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        for part in bytes.chunks(chunk) {
            stdin.write_all(part).expect("writes");
            stdin.flush().expect("flushes");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The lines printed until one satisfies `wanted` (at most 60 s): the input stays open.
    fn wait_for(&self, mut wanted: impl FnMut(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = wanted(&line);
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no such line while the input was open; lines so far: {seen:#?}");
    }

    /// Closes the input (end of capture) and gives stdout, stderr and the exit code.
    fn finish(mut self) -> (String, String, Option<i32>) {
        drop(self.stdin.take());
        self.wait()
    }

    fn wait(&mut self) -> (String, String, Option<i32>) {
        let status = self.child.wait().expect("itlscope ends");
        let out = self
            .stdout
            .take()
            .map(|h| h.join().expect("stdout"))
            .unwrap_or_default();
        let err = self
            .stderr
            .take()
            .map(|h| h.join().expect("stderr"))
            .unwrap_or_default();
        (out, err, status.code())
    }
}

/// `analyze - ARGS` without `--follow`, the capture at `path` on standard input (the
/// report names the capture `-`, as the followed one).
fn plain_stdin(path: &Path, args: &[&str]) -> String {
    let input = std::fs::File::open(path).expect("capture opens");
    let out = itlscope()
        .args(["analyze", "-"])
        .args(args)
        .stdin(input)
        .output()
        .expect("itlscope runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scenario(name: &str) -> PathBuf {
    repo().join("captures").join(name)
}

fn capture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("captures").join(name)).expect("scenario capture")
}

/// The `--follow` lines printed before the report: everything before `report`, which must
/// end the output.
fn lines_before<'a>(out: &'a str, report: &str) -> &'a str {
    assert!(
        out.ends_with(report),
        "the report at the end is analyze's without --follow\n--- follow:\n{out}\n--- analyze:\n{report}"
    );
    &out[..out.len() - report.len()]
}

#[test]
fn statement_6_the_verdict_line_comes_when_the_config_is_in_before_the_input_ends() {
    let bytes = capture("healthy-tftp-boot.pcap");
    let mut live = Live::start(&[]);
    live.feed(&bytes, 512);
    // The whole capture is written, the input still open: the phone's line is out already.
    let seen = live.wait_for(|l| l.starts_with("SEP00005E005321  "));
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (out, err, code) = live.finish();
    assert_eq!(code, Some(0), "{err}");
    let report = plain_stdin(&scenario("healthy-tftp-boot.pcap"), &[]);
    let before = lines_before(&out, &report);
    assert!(before.starts_with(&seen[0]), "{before}");
    // What came after the boot (the directory on 8443, which TVS vouched for) changed the
    // verdict: one line marked as an update, the final report's own line.
    let update = before
        .lines()
        .find(|l| l.starts_with("update: "))
        .expect("an update line");
    let table = report.lines().next().expect("the verdict table");
    assert_eq!(update, format!("update: {table}"), "{before}");
}

#[test]
fn a_line_comes_mid_stream_while_the_capture_is_still_being_written() {
    // Only the part of the capture up to just past the config download is written: the
    // line comes without the rest and without the end of the input.
    let bytes = capture("healthy-tftp-boot.pcap");
    let mut live = Live::start(&["--brief"]);
    let mut written = 0;
    let mut seen = None;
    for part in bytes.chunks(256) {
        live.feed(part, 256);
        written += part.len();
        if let Ok(line) = live.lines.recv_timeout(Duration::from_millis(20)) {
            seen = Some(line);
            break;
        }
    }
    let line = seen.unwrap_or_else(|| live.wait_for(|_| true).remove(0));
    assert!(line.starts_with("SEP00005E005321  "), "{line}");
    assert!(
        written < bytes.len(),
        "the line came after {written} of {} bytes",
        bytes.len()
    );
    // Then the rest of the capture, and its end: the report covers all of it.
    live.feed(&bytes[written..], 4096);
    let (out, err, code) = live.finish();
    assert_eq!(code, Some(0), "{err}");
    let report = plain_stdin(&scenario("healthy-tftp-boot.pcap"), &["--brief"]);
    lines_before(&out, &report);
}

#[test]
fn two_phones_give_two_lines_then_the_report_of_both() {
    let bytes = capture("two-phones-voice-vlan.pcap");
    let mut live = Live::start(&[]);
    live.feed(&bytes, 1024);
    let mut phones: Vec<String> = Vec::new();
    live.wait_for(|l| {
        if !l.starts_with("update: ")
            && let Some(name) = l.split_whitespace().next()
        {
            phones.push(name.to_string());
        }
        phones.len() == 2
    });
    phones.sort();
    assert_eq!(phones, ["SEP00005E005321", "SEP00005E005322"]);
    let (out, err, code) = live.finish();
    assert_eq!(code, Some(0), "{err}");
    let report = plain_stdin(&scenario("two-phones-voice-vlan.pcap"), &[]);
    let before = lines_before(&out, &report);
    let first_lines = before.lines().filter(|l| l.starts_with("SEP")).count();
    assert_eq!(first_lines, 2, "{before}");
}

/// The length of the first `records` records of a pcap file (header included).
fn pcap_prefix(bytes: &[u8], records: usize) -> usize {
    let mut at = 24;
    for _ in 0..records {
        let len = bytes
            .get(at + 8..at + 12)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .expect("a record header");
        at += 16 + len;
    }
    at
}

#[test]
fn ctrl_c_mid_stream_ends_with_the_report_on_what_was_read() {
    // Three of the boot loop's four cycles are written (the loop is recognised by then),
    // the input stays open, and the user presses Ctrl-C.
    let bytes = capture("boot-loop.pcap");
    let cut = pcap_prefix(&bytes, 120);
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = dir.path().join("first-120-frames.pcap");
    std::fs::write(&prefix, &bytes[..cut]).expect("writes");
    let mut live = Live::start(&[]);
    live.feed(&bytes[..cut], 2048);
    live.wait_for(|l| l.contains("boot loop"));
    // The loop is recognised a few frames before the last one written: let those be read.
    std::thread::sleep(Duration::from_millis(300));
    let pid = live.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    // The input is still open: only the stop ends the reading.
    let (out, err, code) = live.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("reading stopped on request (Ctrl-C) after 120 frame(s)"),
        "{out}"
    );
    // The report is analyze's on the frames read, with the note about the stop.
    let report = plain_stdin(&prefix, &[]);
    let strip = |text: &str| -> String {
        text.lines()
            .filter(|l| {
                !l.contains("reading stopped on request")
                    && !l.trim_start().starts_with("report covers what was read")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The note about the stop is the only difference.
    assert!(
        strip(&out).ends_with(&strip(&report)),
        "--- follow:\n{out}\n--- analyze:\n{report}"
    );
}

#[test]
fn follow_a_file_lines_as_boots_end_then_the_report() {
    let out = itlscope()
        .args(["analyze", "captures/boot-loop.pcap", "--follow"])
        .output()
        .expect("itlscope runs");
    assert!(out.status.success());
    let out = String::from_utf8_lossy(&out.stdout);
    let report = plain(&["captures/boot-loop.pcap"]);
    let before = lines_before(&out, &report);
    // The first boot's config, then the loop once recognised (an update, not one per cycle).
    assert!(
        before.starts_with("SEP00005E005324  UNDETERMINED"),
        "{before}"
    );
    let updates: Vec<&str> = before
        .lines()
        .filter(|l| l.starts_with("update: "))
        .collect();
    assert_eq!(updates.len(), 1, "{before}");
    assert!(updates[0].contains("boot loop: 3 cycles"), "{before}");
}

#[test]
fn follow_with_json_on_stdout_puts_the_lines_on_stderr() {
    for format in [["--format", "json"], ["--format", "csv"]] {
        let out = itlscope()
            .args(["analyze", "captures/transfer-stall.pcap", "--follow"])
            .args(format)
            .output()
            .expect("itlscope runs");
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("SEP00005E005325  UNDETERMINED  transfer stall"),
            "{stderr}"
        );
        assert!(!stdout.contains("UNDETERMINED  transfer stall"), "{stdout}");
        if format[1] == "json" {
            let _: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
        } else {
            let report = plain(&["captures/transfer-stall.pcap", "--format", "csv"]);
            assert_eq!(stdout, report);
        }
    }
}

#[test]
fn follow_takes_one_capture() {
    let out = itlscope()
        .args([
            "analyze",
            "captures/boot-loop.pcap",
            "captures/transfer-stall.pcap",
            "--follow",
        ])
        .output()
        .expect("itlscope runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--follow watches one capture"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_file_is_an_input_error() {
    let out = itlscope()
        .args(["analyze", "captures/no-such.pcap", "--follow"])
        .output()
        .expect("itlscope runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(Path::new(&repo()).exists());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such.pcap"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
