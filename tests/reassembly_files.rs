//! TFTP and HTTP downloads through the Collector, and `extract` writing them.

mod reassembly_support;

use itlscope::evidence::FileTransport;
use itlscope::proto::CollectorConfig;
use itlscope::report::limits::limit_text;
use proptest::prelude::*;
use reassembly_support::*;

const PHONE: &str = "10.1.1.20:50000";
const TFTP: &str = "10.1.1.1:69";
const TID: &str = "10.1.1.1:41000";

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

fn rrq(name: &str, opts: &[(&str, &str)]) -> Vec<u8> {
    let mut v = vec![0, 1];
    for s in [name, "octet"]
        .iter()
        .copied()
        .chain(opts.iter().flat_map(|(k, v)| [*k, *v]))
    {
        v.extend_from_slice(s.as_bytes());
        v.push(0);
    }
    v
}

fn data(block: u16, d: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 3];
    v.extend_from_slice(&block.to_be_bytes());
    v.extend_from_slice(d);
    v
}

fn ack(block: u16) -> Vec<u8> {
    let mut v = vec![0, 4];
    v.extend_from_slice(&block.to_be_bytes());
    v
}

/// A lock-step TFTP read of `file` with block size `bs`; returns the packets per block so a
/// test can reorder or drop them.
fn tftp_read(name: &str, file: &[u8], bs: usize) -> (Vec<Pkt>, Vec<Vec<Pkt>>) {
    let mut head = Vec::new();
    if bs == 512 {
        head.push(udp(PHONE, TFTP, rrq(name, &[])));
    } else {
        let b = bs.to_string();
        head.push(udp(
            PHONE,
            TFTP,
            rrq(name, &[("blksize", &b), ("tsize", "0")]),
        ));
        let mut oack = vec![0, 6];
        oack.extend_from_slice(format!("blksize\0{bs}\0tsize\0{}\0", file.len()).as_bytes());
        head.push(udp(TID, PHONE, oack));
        head.push(udp(PHONE, TID, ack(0)));
    }
    let mut blocks: Vec<&[u8]> = file.chunks(bs).collect();
    if file.len().is_multiple_of(bs) {
        blocks.push(&[]);
    }
    let per_block = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let n = (i + 1) as u16; // wraps to 0 after 65535
            vec![udp(TID, PHONE, data(n, b)), udp(PHONE, TID, ack(n))]
        })
        .collect();
    (head, per_block)
}

#[test]
fn tftp_blksize_8192_with_loss_duplicates_and_reordering() {
    let file = content(8192 * 6 + 100);
    let (head, blocks) = tftp_read("SEP0011.cnf.xml.sgn", &file, 8192);
    // In order, with block 3 duplicated and blocks 4/5 swapped.
    let mut pkts = head.clone();
    for i in [0, 1, 2, 2, 4, 3, 5, 6] {
        pkts.extend(blocks[i].clone());
    }
    let out = run(&pkts, CollectorConfig::default());
    assert_eq!(out.files.len(), 1);
    let f = &out.files[0];
    assert!(f.complete, "{:?}", f.error);
    assert_eq!(f.data, file);
    assert_eq!(f.transport, FileTransport::Tftp);
    assert_eq!(f.server.to_string(), TID);
    assert_eq!(f.kind().as_str(), "signed-config");
    // Block 4 lost for good: listed, not zero-filled.
    let mut pkts = head;
    for i in [0, 1, 2, 4, 5, 6] {
        pkts.extend(blocks[i].clone());
    }
    let out = run(&pkts, CollectorConfig::default());
    let f = &out.files[0];
    assert!(!f.complete);
    assert_eq!(f.missing, vec![(3 * 8192, 4 * 8192)]);
    assert_eq!(f.data, file[..3 * 8192].to_vec());
    assert_eq!(f.size, Some(file.len() as u64));
    // The final block came: the capture lost block 4, the download did not fail.
    assert_eq!(f.error, None, "{:?}", f.notes);
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("missing from the capture"))
    );
    // Stopped after block 3 (no final block, no ERROR): that one did not finish.
    let mut pkts = tftp_read("SEP0011.cnf.xml.sgn", &file, 8192).0;
    for i in [0, 1, 2] {
        pkts.extend(blocks[i].clone());
    }
    let out = run(&pkts, CollectorConfig::default());
    let f = &out.files[0];
    assert!(!f.complete);
    assert_eq!(
        f.error.as_deref(),
        Some("transfer did not finish in the capture")
    );
}

#[test]
fn tftp_block_numbers_wrap_on_files_over_32_mib() {
    let file = content(512 * 65_600 + 11);
    let (head, blocks) = tftp_read("big.sbn", &file, 512);
    let mut pkts = head;
    for b in blocks {
        pkts.extend(b);
    }
    let config = CollectorConfig {
        max_file_size: 64 << 20,
        ..CollectorConfig::default()
    };
    let out = run(&pkts, config);
    let f = &out.files[0];
    assert!(f.complete, "{:?}", f.error);
    assert_eq!(f.data.len(), file.len());
    assert!(f.data == file);
}

#[test]
fn tftp_file_not_found_and_truncated_block() {
    let mut pkts = vec![udp(PHONE, TFTP, rrq("CTLSEP0011.tlv", &[]))];
    pkts.push(udp(TID, PHONE, b"\0\x05\0\x01File not found\0".to_vec()));
    let file = content(1000);
    let (head, blocks) = tftp_read("ITLSEP0011.tlv", &file, 512);
    pkts.extend(head.into_iter().map(|mut p| {
        p.src = "10.1.1.20:50002".parse().unwrap();
        p
    }));
    for (i, b) in blocks.into_iter().enumerate() {
        for mut p in b {
            if p.src.port() == 50000 {
                p.src = "10.1.1.20:50002".parse().unwrap();
            } else {
                p.dst = "10.1.1.20:50002".parse().unwrap();
            }
            if i == 0 && p.payload.len() > 100 {
                p.truncated = true;
                p.payload.truncate(100);
            }
            pkts.push(p);
        }
    }
    let out = run(&pkts, CollectorConfig::default());
    assert_eq!(out.files.len(), 2);
    assert_eq!(
        out.files[0].error.as_deref(),
        Some("TFTP error 1: File not found")
    );
    assert_eq!(out.files[0].kind().as_str(), "ctl");
    let f = &out.files[1];
    assert!(!f.complete);
    assert_eq!(f.missing, vec![(0, 512)]);
    assert_eq!(
        f.error, None,
        "the snaplen cut a block; the transfer itself ended"
    );
    assert!(
        out.limits_hit
            .iter()
            .any(|l| limit_text(l).contains("snaplen")),
        "{:?}",
        out.limits_hit
    );
}

fn http_conv(responses: &[u8], mss: usize) -> Conv {
    let mut c = Conv::new("10.1.1.20:40000", "10.1.1.1:6970", 0xfffff000, 77);
    c.open();
    c.send(
        true,
        b"GET /CTLSEP0011.tlv HTTP/1.1\r\nHost: 10.1.1.1:6970\r\n\r\n",
        1460,
    );
    c.send(
        true,
        b"GET /ITLSEP0011.tlv HTTP/1.1\r\nHost: 10.1.1.1:6970\r\n\r\n",
        1460,
    );
    c.send(false, responses, mss);
    c.fin(true);
    c.fin(false);
    c
}

fn http_responses(itl: &[u8], chunked: bool) -> Vec<u8> {
    let mut r = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec();
    if chunked {
        r.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for c in itl.chunks(1000) {
            r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            r.extend_from_slice(c);
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"0\r\n\r\n");
    } else {
        r.extend_from_slice(
            format!("HTTP/1.1 200 OK\r\nContent-length: {}\r\n\r\n", itl.len()).as_bytes(),
        );
        r.extend_from_slice(itl);
    }
    r
}

#[test]
fn http_keep_alive_chunked_with_reordering_and_retransmission() {
    let itl = content(7879);
    for chunked in [false, true] {
        let mut c = http_conv(&http_responses(&itl, chunked), 536);
        let n = c.pkts.len();
        c.pkts.swap(n - 6, n - 4);
        let dup = c.pkts[n - 8].clone();
        c.pkts.insert(n - 3, dup);
        let out = run(&c.pkts, CollectorConfig::default());
        assert_eq!(out.files.len(), 2);
        let (a, b) = (&out.files[0], &out.files[1]);
        assert_eq!(a.name, "CTLSEP0011.tlv");
        assert_eq!(a.http_status, Some(503));
        assert!(!a.complete && a.error.is_some());
        assert_eq!(b.name, "ITLSEP0011.tlv");
        assert!(b.complete, "{:?} {:?}", b.error, b.notes);
        assert_eq!(b.data, itl);
        assert_eq!(b.transport, FileTransport::Http);
        assert_eq!(b.kind().as_str(), "itl");
    }
}

#[test]
fn http_lost_segment_leaves_the_file_incomplete() {
    let itl = content(5000);
    let mut c = http_conv(&http_responses(&itl, false), 1000);
    let idx = c
        .pkts
        .iter()
        .rposition(|p| p.src == c.server && p.payload.len() == 1000)
        .unwrap()
        - 1;
    c.pkts.remove(idx);
    let out = run(&c.pkts, CollectorConfig::default());
    let f = &out.files[1];
    assert!(!f.complete);
    assert!(!f.missing.is_empty());
    assert!(f.sha1.is_none());
    assert_eq!(f.error, None, "capture loss is not a download error");
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("missing from the capture")),
        "{:?}",
        f.notes
    );
}

#[test]
fn extract_writes_files_certificates_and_index() {
    let itl = content(7879);
    let mut pkts = http_conv(&http_responses(&itl, true), 1460).pkts;
    let (head, blocks) = tftp_read("../../ITLSEP0011.tlv", &itl, 512);
    pkts.extend(head);
    for b in blocks {
        pkts.extend(b);
    }
    let out = run(&pkts, CollectorConfig::default());
    assert_eq!(out.files.len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let x = itlscope::extract::write_extraction(&out.files, &out.tls, dir.path()).unwrap();
    assert_eq!(x.files.len(), 2);
    assert_eq!(
        std::fs::read(dir.path().join("ITLSEP0011.tlv")).unwrap(),
        itl
    );
    assert_eq!(
        std::fs::read(dir.path().join("ITLSEP0011-2.tlv")).unwrap(),
        itl
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    let files = index["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert!(files[0]["path"].is_null());
    assert_eq!(
        files[1]["sha1"],
        out.files[1].sha1.map(|d| d.hex()).unwrap()
    );
    assert_eq!(files[2]["name"], "../../ITLSEP0011.tlv");
    assert_eq!(files[2]["transport"], "tftp");
    // Nothing escaped the directory.
    assert!(!dir.path().parent().unwrap().join("ITLSEP0011.tlv").exists());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn collector_never_panics_on_arbitrary_payloads(
        payloads in proptest::collection::vec((0usize..6, any::<u32>(), proptest::collection::vec(any::<u8>(), 0..300)), 1..40)
    ) {
        let mut pkts = vec![udp(PHONE, TFTP, rrq("x.tlv", &[]))];
        let mut c = Conv::new("10.1.1.20:40000", "10.1.1.1:6970", 1, 2);
        c.open();
        let mut t = Conv::new("10.1.1.20:40001", "10.1.1.1:2445", 1, 2);
        t.open();
        pkts.extend(c.pkts.clone());
        pkts.extend(t.pkts.clone());
        for (kind, seq, p) in payloads {
            let mut q = match kind {
                0 => udp(TID, PHONE, p.clone()),
                1 => udp(PHONE, TFTP, p.clone()),
                2 => c.pkts[1].clone(),
                3 => t.pkts[1].clone(),
                4 => c.pkts[0].clone(),
                _ => t.pkts[0].clone(),
            };
            if kind >= 2 {
                q.tcp = Some((seq, flags(false, true, seq % 7 == 0, seq % 11 == 0)));
                q.payload = p;
            }
            pkts.push(q);
        }
        let _ = run(&pkts, CollectorConfig::default());
    }
}

#[test]
fn device_tl_info_alarm_over_udp_sip() {
    let body = "<?xml version=\"1.0\"?><x-cisco-alarm><Alarm Name=\"DeviceTLInfo\"><ParameterList>\
<String name=\"DeviceName\">SEP001122334455</String>\
<String name=\"ITL_Signature\">1B A1 C9 07 00 11 22 33 44 55 66 77 88 99 AA BB CC DD 4D 6D </String>\
<String name=\"ITL_TFTP_Server\">cucm-115.home.lab</String>\
<String name=\"StatusCode\">3</String></ParameterList></Alarm></x-cisco-alarm>";
    let msg = format!(
        "REFER sip:10.1.1.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.20:5060\r\nContent-Type: application/x-cisco-alarm+xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let pkts = vec![udp("10.1.1.20:5060", "10.1.1.1:5060", msg.into_bytes())];
    let out = run(&pkts, CollectorConfig::default());
    assert_eq!(out.alarms.len(), 1, "the SIP parser may need other headers");
    assert_eq!(
        out.alarms[0].device_name.as_deref(),
        Some("SEP001122334455")
    );
}

#[test]
fn lossy_scenario_capture_loss_is_not_an_error() {
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/lossy-capture.pcap");
    let ev = itlscope::pipeline::collect_evidence(
        &[path],
        &itlscope::pipeline::PipelineOptions::default(),
    )
    .expect("capture reads");
    let itl = ev
        .files
        .iter()
        .find(|f| f.name == "ITLSEP00005E005321.tlv")
        .expect("ITL transfer");
    // Block 3 is missing from the capture; the final block came, so nothing failed.
    assert!(!itl.complete);
    assert_eq!(itl.missing, vec![(1024, 1536)]);
    assert_eq!(itl.error, None);
    assert!(
        itl.notes
            .iter()
            .any(|n| n.contains("missing from the capture"))
    );
    assert!(itl.sha1.is_none());
    // The CTL really failed (File not found) and keeps its error.
    let ctl = ev
        .files
        .iter()
        .find(|f| f.name == "CTLSEP00005E005321.tlv")
        .expect("CTL request");
    assert_eq!(ctl.error.as_deref(), Some("TFTP error 1: File not found"));
    // The signed config's block 2 was only resent: whole.
    let cfg = ev
        .files
        .iter()
        .find(|f| f.name == "SEP00005E005321.cnf.xml.sgn")
        .expect("config");
    assert!(cfg.complete && cfg.error.is_none());
}
