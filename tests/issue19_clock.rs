//! Issue 19 item 1: one capture clock that tolerates jumps. A frame dated far from its
//! neighbours is a time anomaly and moves no idle clock until later frames confirm its time;
//! sweeps keep running; two hosts' skewed clocks merged in one capture keep both hosts' flows.
//!
//! The captures are built here from the scenario captures: their legacy pcap records
//! (16-byte header: ts_sec, ts_usec, caplen, origlen) are re-dated or new ones inserted.

mod capture_support;

use capture_support::{addr, ethernet, reader};
use itlscope::pipeline::{PipelineOptions, run};
use itlscope::proto::{Collected, CollectorConfig};
use itlscope_gen::packet::{TcpSpec, ip_tcp, ip_udp};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const TWO_HOURS: i64 = 7200;

/// One legacy pcap record.
#[derive(Clone)]
struct Rec {
    sec: u32,
    usec: u32,
    data: Vec<u8>,
    orig: u32,
}

impl Rec {
    fn shifted(&self, secs: i64) -> Rec {
        let sec = u32::try_from(i64::from(self.sec) + secs).expect("date fits");
        Rec {
            sec,
            ..self.clone()
        }
    }
}

/// A little-endian microsecond pcap: its global header and records.
struct Pcap {
    header: Vec<u8>,
    recs: Vec<Rec>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn scenario(file: &str) -> Pcap {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(file);
    let bytes = std::fs::read(path).expect("scenario capture");
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian microsecond pcap"
    );
    let mut recs = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32_at(&bytes, at + 8) as usize;
        recs.push(Rec {
            sec: u32_at(&bytes, at),
            usec: u32_at(&bytes, at + 4),
            orig: u32_at(&bytes, at + 12),
            data: bytes[at + 16..at + 16 + caplen].to_vec(),
        });
        at += 16 + caplen;
    }
    Pcap {
        header: bytes[..24].to_vec(),
        recs,
    }
}

impl Pcap {
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.header.clone();
        for r in &self.recs {
            for v in [r.sec, r.usec, r.data.len() as u32, r.orig] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&r.data);
        }
        out
    }

    /// Inserts `rec` after frame `frame` (1-based, as frames are numbered).
    fn insert_after(&mut self, frame: usize, rec: Rec) {
        self.recs.insert(frame, rec);
    }
}

/// A record dated like `like`, shifted by `secs`, carrying `ip_packet` over Ethernet.
fn record(like: &Rec, secs: i64, ip_packet: &[u8]) -> Rec {
    let data = ethernet(vec![]).wrap(ip_packet);
    Rec {
        orig: data.len() as u32,
        data,
        ..like.shifted(secs)
    }
}

/// A syslog datagram between two other hosts.
fn syslog() -> Vec<u8> {
    ip_udp(
        addr("192.0.2.99:514"),
        addr("192.0.2.1:514"),
        7,
        b"<13>bogus clock",
    )
}

/// The protocol stage's findings, read through the two-thread pipeline.
fn collect(bytes: Vec<u8>, config: CollectorConfig) -> Collected {
    let options = PipelineOptions {
        collector: config,
        ..PipelineOptions::default()
    };
    run(reader(bytes), &options).collected
}

/// `itlscope analyze --json` on the capture, with `args`.
fn analyze(bytes: &[u8], args: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("clock.pcap");
    std::fs::write(&path, bytes).expect("write capture");
    let out = assert_cmd::Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .arg("analyze")
        .arg(&path)
        .arg("--json")
        .args(args)
        .output()
        .expect("itlscope runs");
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// What a phone's report decides, without frame numbers (inserted frames shift them):
/// verdict, conditions, every check's status, and every file's completeness.
fn decisions(report: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for phone in report["phones"].as_array().expect("phones") {
        let mac = phone["mac"].as_str().unwrap_or("?").to_string();
        out.insert(
            format!("{mac} verdict"),
            phone["verdict"]["delete_itl"].to_string(),
        );
        out.insert(
            format!("{mac} conditions"),
            phone["verdict"]["conditions"].to_string(),
        );
        for check in phone["checks"].as_array().expect("checks") {
            out.insert(
                format!("{mac} check {}", check["id"]),
                check["status"].to_string(),
            );
        }
    }
    for file in report["files"].as_array().expect("files") {
        out.insert(
            format!(
                "file {} {} {}",
                file["client"], file["server"], file["name"]
            ),
            format!("complete {} size {}", file["complete"], file["size"]),
        );
    }
    out
}

fn phone_files_complete(c: &Collected) -> Vec<(String, bool)> {
    c.files
        .iter()
        .map(|f| (f.name.clone(), f.complete))
        .collect()
}

#[test]
fn one_future_frame_in_the_healthy_boot_keeps_its_verdict_statement_6() {
    // Statement 6 (boot order: CTL, ITL, then the signed config): one frame dated two hours
    // ahead, mid-ITL download, must not end the transfers nor the sweeps.
    let healthy = scenario("healthy-tftp-boot.pcap");
    let expected = decisions(&analyze(&healthy.bytes(), &[]));
    let unrelated = record(&healthy.recs[9], TWO_HOURS, &syslog());
    // A copy of the TFTP block itself, misdated: a retransmission with a garbage stamp.
    let copy = healthy.recs[9].shifted(TWO_HOURS);
    for bogus in [unrelated, copy] {
        let mut pcap = scenario("healthy-tftp-boot.pcap");
        pcap.insert_after(10, bogus);
        let bytes = pcap.bytes();
        assert_eq!(decisions(&analyze(&bytes, &[])), expected);
        let c = collect(bytes, CollectorConfig::default());
        assert_eq!(c.time_anomalies, 1);
        assert_eq!(c.clock_steps, 0);
        assert!(
            c.notes.iter().any(|n| n.contains("time anomalies")),
            "{:?}",
            c.notes
        );
        assert!(c.files.iter().filter(|f| f.complete).count() >= 2);
    }
}

#[test]
fn one_past_frame_and_a_confirmed_step_back_keep_the_verdict_statement_15() {
    // Statement 15 (deletion is rarely right): a clock going back, once or for good (an
    // NTP step), must not fake an unfinished transfer that would argue for deleting.
    let healthy = scenario("healthy-tftp-boot.pcap");
    let expected = decisions(&analyze(&healthy.bytes(), &[]));

    let mut single = scenario("healthy-tftp-boot.pcap");
    let bogus = record(&healthy.recs[9], -TWO_HOURS, &syslog());
    single.insert_after(10, bogus);
    let bytes = single.bytes();
    assert_eq!(decisions(&analyze(&bytes, &[])), expected);
    let c = collect(bytes, CollectorConfig::default());
    assert_eq!((c.time_anomalies, c.clock_steps), (1, 0));

    // From the directory connection on (frame 37), the clock is an hour back.
    let mut stepped = scenario("healthy-tftp-boot.pcap");
    for r in &mut stepped.recs[36..] {
        *r = r.shifted(-3600);
    }
    let bytes = stepped.bytes();
    assert_eq!(decisions(&analyze(&bytes, &[])), expected);
    let c = collect(bytes, CollectorConfig::default());
    assert_eq!((c.time_anomalies, c.clock_steps), (0, 1));
}

/// `secs` datagrams from a host on the side, one a second after `after`.
fn heartbeats(after: &Rec, secs: i64) -> Vec<Rec> {
    (1..=secs).map(|i| record(after, i, &syslog())).collect()
}

fn idled_tftp_transfers(c: &Collected) -> Option<&String> {
    c.notes
        .iter()
        .find(|n| n.contains("TFTP transfers idle longer than 60 s"))
}

#[test]
fn one_future_frame_does_not_stop_the_idle_sweeps() {
    // The ITL transfer stalls after block 9 (frame 20); one frame dated two hours ahead
    // comes after frame 10; the capture goes on for 70 s. The sweeps must still end the
    // stalled transfer as idle (they stopped for good when the clock took the bogus time).
    let healthy = scenario("healthy-tftp-boot.pcap");
    let mut recs = healthy.recs[..20].to_vec();
    recs.insert(10, record(&healthy.recs[9], TWO_HOURS, &syslog()));
    recs.extend(heartbeats(&healthy.recs[19], 70));
    let pcap = Pcap {
        header: healthy.header.clone(),
        recs,
    };
    let c = collect(pcap.bytes(), CollectorConfig::default());
    assert_eq!((c.time_anomalies, c.clock_steps), (1, 0));
    assert!(
        idled_tftp_transfers(&c).is_some_and(|n| n.starts_with("1 ")),
        "{:?}",
        c.notes
    );
}

#[test]
fn a_forward_jump_confirmed_by_later_frames_moves_the_clock() {
    // The ITL download completes; the capture goes on two hours later with the config
    // download, which stalls after block 3, then 70 s of other traffic. The later frames
    // confirm the jump (no anomaly), and the sweeps go on on the new time: the stalled
    // config transfer is ended as idle.
    let healthy = scenario("healthy-tftp-boot.pcap");
    let mut recs = healthy.recs[..25].to_vec();
    recs.extend(healthy.recs[25..32].iter().map(|r| r.shifted(TWO_HOURS)));
    recs.extend(heartbeats(&healthy.recs[31].shifted(TWO_HOURS), 70));
    let pcap = Pcap {
        header: healthy.header.clone(),
        recs,
    };
    let c = collect(pcap.bytes(), CollectorConfig::default());
    assert_eq!((c.time_anomalies, c.clock_steps), (0, 1));
    assert!(
        idled_tftp_transfers(&c).is_some_and(|n| n.starts_with("1 ")),
        "{:?}",
        c.notes
    );
    let files = phone_files_complete(&c);
    assert!(files.contains(&("ITLSEP00005E005321.tlv".to_string(), true)));
    assert!(files.contains(&("SEP00005E005321.cnf.xml.sgn".to_string(), false)));
}

#[test]
fn two_merged_clocks_keep_both_hosts_flows() {
    // Two phones' boots in one capture, frames alternating, the second capture point's
    // clock 30 minutes ahead (a capture merged from two skewed capture points). Before the
    // second phone boots, a host on its side sends a datagram a second for 20 s, so idle
    // sweeps fall due on either clock while the first phone's transfers are open. Each
    // phone's report must be what its capture alone gives, whichever clock comes first.
    let a = scenario("healthy-tftp-boot.pcap");
    let b = scenario("healthy-http-boot.pcap");
    let mut expected = decisions(&analyze(&a.bytes(), &[]));
    expected.extend(decisions(&analyze(&b.bytes(), &[])));
    let start = &b.recs[0];
    let mut skewed: Vec<Rec> = (0..20)
        .map(|i| record(start, 1800 + i, &syslog()))
        .collect();
    skewed.extend(b.recs.iter().map(|r| r.shifted(1800 + 20)));
    for a_first in [true, false] {
        let mut recs = Vec::new();
        for i in 0..a.recs.len().max(skewed.len()) {
            let (x, y) = if a_first {
                (a.recs.get(i), skewed.get(i))
            } else {
                (skewed.get(i), a.recs.get(i))
            };
            recs.extend(x.cloned());
            recs.extend(y.cloned());
        }
        let merged = Pcap {
            header: a.header.clone(),
            recs,
        };
        let bytes = merged.bytes();
        let report = decisions(&analyze(&bytes, &[]));
        for (k, v) in &expected {
            if k.starts_with("file ") || k.ends_with(" verdict") {
                assert_eq!(report.get(k), Some(v), "{k} (first clock first: {a_first})");
            }
        }
        let c = collect(bytes, CollectorConfig::default());
        assert!(c.time_anomalies > 0);
        assert!(
            !c.notes.iter().any(|n| n.contains("idle longer")),
            "{:?}",
            c.notes
        );
        assert!(c.files.iter().filter(|f| f.complete).count() >= 4);
    }
}

#[test]
fn max_flows_one_with_a_future_frame_keeps_the_phones_config_statement_1() {
    // Statement 1 (a signed config once a trust list is present): with one flow allowed,
    // a future-dated frame followed by another host's SYN must not make the emergency
    // sweep cut the phone's own config download (frames 30-39 over HTTP 6970).
    let healthy = scenario("healthy-http-boot.pcap");
    let args = ["--max-flows", "1"];
    let expected = decisions(&analyze(&healthy.bytes(), &args));
    let mut pcap = scenario("healthy-http-boot.pcap");
    let at = pcap.recs[32].clone();
    let syn = ip_tcp(
        addr("192.0.2.99:40000"),
        addr("198.51.100.10:6970"),
        9,
        TcpSpec {
            seq: 1,
            syn: true,
            window: 1024,
            ..TcpSpec::default()
        },
        &[],
    );
    pcap.insert_after(33, record(&at, TWO_HOURS, &syslog()));
    pcap.insert_after(34, record(&at, 0, &syn));
    let report = analyze(&pcap.bytes(), &args);
    let got = decisions(&report);
    let config_key =
        "file \"192.0.2.22:50818\" \"198.51.100.10:6970\" \"SEP00005E005322.cnf.xml.sgn\"";
    assert_eq!(got.get(config_key), expected.get(config_key));
    assert!(
        got.get(config_key)
            .is_some_and(|v| v.starts_with("complete true"))
    );
    for (k, v) in &expected {
        if k.contains("check") || k.contains("verdict") {
            assert_eq!(got.get(k), Some(v), "{k}");
        }
    }
    let config = CollectorConfig {
        max_flows: 1,
        ..CollectorConfig::default()
    };
    let c = collect(pcap.bytes(), config);
    assert_eq!(c.time_anomalies, 1);
}
