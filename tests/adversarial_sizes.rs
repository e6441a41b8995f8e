//! Adversarial sizes through the command line, under an address-space limit (`prlimit
//! --as`, skipped where prlimit is missing) so "bounded memory" is enforced, not assumed:
//! a TFTP transfer announcing 4 GB that never ends, a million tiny flows, a capture of
//! megabyte records, and an ITL whose records are 65,535 bytes long. (4 GB TCP sequence jumps, a 16 MB TLS record, a pcapng
//! block claiming 4 GiB and 100,000 unfinished IP fragments are covered next to their
//! stages: tests/reassembly_tls.rs and tests/capture_bad_input.rs.)

mod adversarial_support;
mod tool_support;

use adversarial_support::{ETHERNET_IPV4, START_NS, ipv4_header, pcap_file, tcp_frame_into};
use itlscope_gen::pcap::PcapWriter;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Address space allowed to `itlscope` in these tests.
const ADDRESS_SPACE: u64 = 512 << 20;

fn have_prlimit() -> bool {
    tool_support::prlimit()
}

/// Address space allowed to `itlscope` for a million tiny flows: the whole analysis of
/// 10,000 diagnosed phones fits in ~100 MB resident (a real voice VLAN's capture in a few
/// MB); before phones were capped it took 2.7 GB.
const MILLION_FLOWS_ADDRESS_SPACE: u64 = 256 << 20;

/// Runs itlscope with `args` (under the address-space limit when possible); returns the
/// output and the wall time.
fn itlscope(args: &[&str]) -> (Output, Duration) {
    itlscope_within(ADDRESS_SPACE, args)
}

/// Runs itlscope with `args` under an address-space limit of `limit` bytes when possible.
fn itlscope_within(limit: u64, args: &[&str]) -> (Output, Duration) {
    let exe = env!("CARGO_BIN_EXE_itlscope");
    let mut cmd = if have_prlimit() {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={limit}")).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let start = Instant::now();
    let out = cmd.args(args).output().expect("run itlscope");
    (out, start.elapsed())
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// An Ethernet/IPv4/UDP frame (checksum 0: "not computed", valid for UDP over IPv4).
fn udp_frame(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(42 + payload.len());
    f.extend_from_slice(&ETHERNET_IPV4);
    f.extend_from_slice(&ipv4_header(17, src, dst, 8 + payload.len()));
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

fn tftp(opcode: u16, rest: &[u8]) -> Vec<u8> {
    let mut p = opcode.to_be_bytes().to_vec();
    p.extend_from_slice(rest);
    p
}

#[test]
fn tftp_announcing_4_gb_that_never_ends_is_cut_at_the_file_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("endless-tftp.pcap");
    let mut w = pcap_file(&path);
    let (phone, server) = ([10, 100, 0, 20], [10, 1, 1, 10]);
    let mut ts = START_NS;
    let mut put = |w: &mut PcapWriter<BufWriter<std::fs::File>>, frame: Vec<u8>| {
        ts += 100_000;
        w.write_packet(ts, &frame, frame.len() as u32)
            .expect("write");
    };
    let rrq = tftp(
        1,
        b"ITLSEP001122334455.tlv\0octet\0tsize\x004294967296\0blksize\x001428\0",
    );
    put(&mut w, udp_frame(phone, 50000, server, 69, &rrq));
    let oack = tftp(6, b"tsize\x004294967296\0blksize\x001428\0");
    put(&mut w, udp_frame(server, 40000, phone, 50000, &oack));
    let block = vec![0x5a; 1428];
    // 20 MB of full blocks, never a short last block.
    for n in 1..=14_000u32 {
        let mut data = tftp(3, &(n as u16).to_be_bytes());
        data.extend_from_slice(&block);
        put(&mut w, udp_frame(server, 40000, phone, 50000, &data));
        put(
            &mut w,
            udp_frame(
                phone,
                50000,
                server,
                40000,
                &tftp(4, &(n as u16).to_be_bytes()),
            ),
        );
    }
    w.into_inner().flush().expect("flush");

    let p = path.to_str().expect("utf-8 path");
    let (out, took) = itlscope(&["analyze", p, "--json", "--max-file-size", "1M"]);
    let report = json(&out);
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let files = report["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{files:?}");
    let f = &files[0];
    assert_eq!(f["complete"], false, "{f}");
    // The cut must be said somewhere in the report: on the file or in the capture's limits.
    let text = format!("{f} {}", report["captures"][0]["limits_hit"]);
    assert!(
        text.contains("limit") || text.contains("cut"),
        "the cut is reported: {text}"
    );
}

/// A million SYNs to TVS, each from a new address: the packet path follows up to
/// `--max-flows` of them (50,000 by default), each a TVS client, so each a phone; the
/// diagnosis keeps the first `--max-phones` (10,000) and the report says how many it left
/// out. Before the cap this took 2.7 GB and wrote a 340 MB report; a real voice VLAN has
/// hundreds of phones and a report of a few MB. The address-space limit (256 MiB) and the
/// time limit make "bounded" a fact, for the JSON and the text report alike.
#[test]
fn a_million_tiny_flows_stay_bounded_and_the_limit_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("million-flows.pcap");
    let mut w = pcap_file(&path);
    // One SYN to the TVS port per flow, each from a new address and port: every one is a
    // candidate TLS session the collector would like to follow.
    let mut frame = Vec::with_capacity(54);
    let mut ts = START_NS;
    for i in 0..1_000_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let sport = 1024 + (i % 60_000) as u16;
        tcp_frame_into(
            &mut frame,
            (src, sport),
            ([10, 1, 1, 10], 2445),
            i,
            0x02,
            &[],
        );
        ts += 1_000;
        w.write_packet(ts, &frame, frame.len() as u32)
            .expect("write");
    }
    w.into_inner().flush().expect("flush");

    let p = path.to_str().expect("utf-8 path");
    let (out, took) = itlscope_within(MILLION_FLOWS_ADDRESS_SPACE, &["analyze", p, "--json"]);
    let report = json(&out);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(
        out.stdout.len() < 128 << 20,
        "report of {} bytes",
        out.stdout.len()
    );
    let capture = &report["captures"][0];
    assert_eq!(capture["frames"], 1_000_000);
    let limits = capture["limits_hit"].to_string();
    assert!(limits.contains("not followed"), "limit reported: {limits}");
    let phones = report["phones"].as_array().expect("phones");
    assert_eq!(phones.len(), 10_000, "--max-phones default");
    // The first seen are kept: 10.0.0.0 sent the first SYN.
    assert!(
        phones.iter().any(|ph| ph["ip"] == "10.0.0.0"),
        "first phone kept"
    );
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("40000 more phone(s) were not diagnosed"),
        "cap reported: {notes}"
    );
    assert!(
        notes.contains("40000 session(s) of hosts not diagnosed are left out"),
        "{notes}"
    );
    let tls = report["tls"].as_array().expect("tls");
    assert_eq!(tls.len(), 10_000, "only the diagnosed phones' sessions");
    // A phone's `tls` indices point into the report's list, at its own session.
    let first = &phones[0];
    let index = first["tls"][0].as_u64().expect("index") as usize;
    let client = tls[index]["client"].as_str().expect("client");
    assert!(client.starts_with(&format!("{}:", first["ip"].as_str().expect("ip"))));

    let (out, took) = itlscope_within(
        MILLION_FLOWS_ADDRESS_SPACE,
        &["analyze", p, "--max-phones", "100"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("49900 more phone(s) were not diagnosed"),
        "text report says so"
    );
    assert_eq!(text.matches("\nPhone ").count(), 100);
}

#[test]
fn an_itl_with_65535_byte_records_is_shown_without_trouble() {
    use itlscope_gen::pki::ClusterCerts;
    use itlscope_gen::trustlist::rollback_itl;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut itl = rollback_itl(&ClusterCerts::new("cucm-pub"));
    // Two maximal records: RECORDLENGTH 65535, each holding one unknown 65527-byte element.
    for _ in 0..2 {
        itl.extend_from_slice(&[1, 0, 2, 0xff, 0xff]);
        itl.extend_from_slice(&[0x7f, 0xff, 0xf7]);
        itl.resize(itl.len() + 0xfff7, 0x41);
    }
    let whole = dir.path().join("big-records.tlv");
    std::fs::write(&whole, &itl).expect("write");
    // And the same cut in the middle of the second record.
    let cut = dir.path().join("big-records-cut.tlv");
    std::fs::write(&cut, &itl[..itl.len() - 30_000]).expect("write");
    for path in [&whole, &cut] {
        let p = path.to_str().expect("utf-8 path");
        let (out, took) = itlscope(&["show", p, "--json"]);
        assert!(took < Duration::from_secs(10), "took {took:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        match out.status.code() {
            Some(0) => {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
                assert!(v.to_string().len() < 2_000_000, "output stays bounded");
            }
            Some(1) => assert_eq!(stderr.trim().lines().count(), 1, "one-line error: {stderr}"),
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    assert!(Path::new(&whole).exists());
}

/// 200 records of 1 MiB each. Frames travel between the pipeline's two threads as places in
/// the reader's blocks, so a batch in flight holds blocks: batches are capped by the bytes
/// they hold as well as by their 1,024 frames, and blocks grown for a big record are not
/// kept. (Before the cap this file took 410 MB resident: every record's block was held by
/// the one batch.)
#[test]
fn a_capture_of_megabyte_records_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("megabyte-records.pcap");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = PcapWriter::new(
        BufWriter::new(file),
        1,
        4 << 20,
        itlscope_gen::pcap::Precision::Micro,
        itlscope_gen::pcap::Endian::Little,
    )
    .expect("pcap");
    let record = vec![0xee; 1 << 20];
    for i in 0..200i64 {
        w.write_packet(START_NS + i * 1_000, &record, record.len() as u32)
            .expect("write");
    }
    w.into_inner().flush().expect("flush");

    let p = path.to_str().expect("utf-8 path");
    let (out, _) = itlscope_within(MILLION_FLOWS_ADDRESS_SPACE, &["analyze", p, "--json"]);
    let report = json(&out);
    assert_eq!(report["captures"][0]["frames"], 200);
}
