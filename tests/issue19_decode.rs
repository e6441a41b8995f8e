//! Issue 19 item 7: frames the decoder used to drop without a trace. A phone's TFTP boot
//! (its ITL download included) carried in Geneve, GTP-U, EtherIP, 802.2 LLC/SNAP, Cisco
//! HDLC (link type 104) and NFLOG (link type 239) gives the same files and verdict as the
//! phone's own port, and the same files tshark exports; frames that are still not decoded
//! (plain LLC, vendor SNAP, unknown EtherTypes, unsupported link types) are named with
//! their counts in the capture summary and the text report.
//!
//! The captures are built here: the generator's healthy boot as raw IP packets, each
//! wrapped again in the encapsulation under test.

mod tool_support;

use itlscope::capture::CaptureReader;
use itlscope::diagnosis::{OperatorFacts, diagnose};
use itlscope::evidence::{CaptureSummary, Evidence};
use itlscope::pipeline::{PipelineOptions, run};
use itlscope_gen::conv::tcp::TcpConn;
use itlscope_gen::conv::{Format, Framing, Host, MS, Side, Trace, write_capture};
use itlscope_gen::packet::ip_udp;
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
use itlscope_gen::scenarios::catalog;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use std::process::Command;

/// The summary and evidence of a capture held in memory.
fn analyse(bytes: Vec<u8>) -> (CaptureSummary, Evidence) {
    let reader =
        CaptureReader::from_reader("mem.pcap", Box::new(Cursor::new(bytes))).expect("capture");
    let result = run(reader, &PipelineOptions::default());
    let summary = result.summary.clone();
    (summary, result.into_evidence())
}

/// What must not change with the framing: every file (name, bytes, completeness), the TLS
/// sessions, each phone's address, verdict, conditions and check outcomes.
fn facts(evidence: &Evidence) -> Vec<String> {
    let mut out = Vec::new();
    for f in &evidence.files {
        out.push(format!(
            "file {} {:?} {} {} complete={} error={:?}",
            f.name,
            f.transport,
            f.client.ip,
            f.data.len(),
            f.complete,
            f.error
        ));
        out.push(format!("bytes {:?}", &f.data));
    }
    out.push(format!("{} TLS sessions", evidence.tls.len()));
    let diagnosis = diagnose(evidence, &OperatorFacts::default());
    for p in &diagnosis.phones {
        out.push(format!(
            "phone {:?} {:?} {:?}",
            p.ip, p.verdict.delete_itl, p.verdict.conditions
        ));
        for c in &p.checks {
            out.push(format!("check {} {:?}", c.id, c.status));
        }
    }
    out
}

/// The healthy TFTP boot as raw IP packets: (time in ns, packet).
fn boot_packets() -> Vec<(i64, Vec<u8>)> {
    let mut s = catalog::by_file("healthy-tftp-boot.pcap").expect("scenario");
    s.framing = Framing::Raw;
    s.format = Format::Pcap;
    let file = s.capture();
    let u32_at =
        |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes")) as usize;
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "little-endian microsecond pcap");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= file.len() {
        let ts = u32_at(at) as i64 * 1_000_000_000 + u32_at(at + 4) as i64 * 1000;
        let len = u32_at(at + 8);
        out.push((ts, file[at + 16..at + 16 + len].to_vec()));
        at += 16 + len;
    }
    assert!(out.len() > 10, "the boot has packets");
    out
}

/// Writes frames of one link type as a legacy pcap.
fn pcap(link_type: u32, frames: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(
        Vec::new(),
        link_type,
        262_144,
        Precision::Micro,
        Endian::Little,
    )
    .expect("Vec write");
    for (ts, f) in frames {
        w.write_packet(*ts, f, f.len() as u32).expect("Vec write");
    }
    w.into_inner()
}

const PHONE_MAC: [u8; 6] = [0x00, 0x1b, 0x54, 0x11, 0x22, 0x33];
const SWITCH_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];

/// An Ethernet II frame (or 802.3 when `type_or_len` is below 0x600).
fn ethernet(type_or_len: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&SWITCH_MAC);
    f.extend_from_slice(&PHONE_MAC);
    f.extend_from_slice(&type_or_len.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ether_type_of(ip: &[u8]) -> u16 {
    if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 }
}

/// An outer IPv4 packet of `protocol` between two tunnel ends, with its header checksum.
fn outer_ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(20 + payload.len()).expect("fits one IPv4 packet");
    let mut h = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, protocol, 0, 0];
    h[2..4].copy_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[198, 51, 100, 1, 198, 51, 100, 2]);
    let sum = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// An outer Ethernet/IPv4/UDP frame to `port`.
fn outer_udp(port: u16, payload: &[u8]) -> Vec<u8> {
    let ip = ip_udp(
        "198.51.100.1:40000".parse().expect("addr"),
        std::net::SocketAddr::from(([198, 51, 100, 2], port)),
        1,
        payload,
    );
    ethernet(0x0800, &ip)
}

/// The encapsulations this test wraps the boot in.
#[derive(Debug, Clone, Copy)]
enum Wrap {
    /// Geneve (UDP 6081) with one option word, carrying the Ethernet frame.
    Geneve,
    /// GTP-U G-PDU (UDP 2152) with a sequence number and a PDU session container
    /// extension header, carrying the IP packet.
    GtpU,
    /// EtherIP (IP protocol 97) carrying the Ethernet frame.
    EtherIp,
    /// 802.3 with LLC/SNAP (RFC 1042) carrying the IP packet.
    LlcSnap,
    /// Cisco HDLC link type.
    CiscoHdlc,
    /// NFLOG link type, TLVs in little-endian (host) order.
    Nflog,
}

impl Wrap {
    const ALL: [Wrap; 6] = [
        Wrap::Geneve,
        Wrap::GtpU,
        Wrap::EtherIp,
        Wrap::LlcSnap,
        Wrap::CiscoHdlc,
        Wrap::Nflog,
    ];

    fn link_type(self) -> u32 {
        match self {
            Wrap::CiscoHdlc => 104,
            Wrap::Nflog => 239,
            _ => 1,
        }
    }

    /// The `encapsulations` id the summary counts, if the wrap is one.
    fn id(self) -> Option<&'static str> {
        match self {
            Wrap::Geneve => Some("geneve"),
            Wrap::GtpU => Some("gtp-u"),
            Wrap::EtherIp => Some("etherip"),
            Wrap::LlcSnap => Some("llc-snap"),
            Wrap::CiscoHdlc | Wrap::Nflog => None,
        }
    }

    fn frame(self, ip: &[u8]) -> Vec<u8> {
        let inner_ethernet = || ethernet(ether_type_of(ip), ip);
        match self {
            Wrap::Geneve => {
                // Two words of options, protocol 0x6558, VNI 5000.
                let mut g = vec![0x02, 0x00, 0x65, 0x58, 0x00, 0x13, 0x88, 0x00];
                // One option (class 0x0103, type 0x80, one word of data).
                g.extend_from_slice(&[0x01, 0x03, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]);
                g.extend_from_slice(&inner_ethernet());
                outer_udp(6081, &g)
            }
            Wrap::GtpU => {
                // E and S flags: sequence, N-PDU, next type 0x85, then the container.
                let ext = [0x01, 0x10, 0x05, 0x00];
                let len = u16::try_from(4 + ext.len() + ip.len()).expect("fits");
                let mut g = vec![0x36, 0xff];
                g.extend_from_slice(&len.to_be_bytes());
                g.extend_from_slice(&0x0000_1234u32.to_be_bytes());
                g.extend_from_slice(&[0x00, 0x07, 0x00, 0x85]);
                g.extend_from_slice(&ext);
                g.extend_from_slice(ip);
                outer_udp(2152, &g)
            }
            Wrap::EtherIp => {
                let mut e = vec![0x30, 0x00];
                e.extend_from_slice(&inner_ethernet());
                ethernet(0x0800, &outer_ipv4(97, &e))
            }
            Wrap::LlcSnap => {
                let mut l = vec![0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
                l.extend_from_slice(&ether_type_of(ip).to_be_bytes());
                l.extend_from_slice(ip);
                let len = u16::try_from(l.len()).expect("fits");
                ethernet(len, &l)
            }
            Wrap::CiscoHdlc => {
                let mut h = vec![0x0f, 0x00];
                h.extend_from_slice(&ether_type_of(ip).to_be_bytes());
                h.extend_from_slice(ip);
                h
            }
            Wrap::Nflog => {
                let family = if ip[0] >> 4 == 6 { 10 } else { 2 };
                let mut n = vec![family, 0, 0, 5];
                // NFULA_PACKET_HDR: hardware protocol (network order), hook, padding.
                n.extend_from_slice(&8u16.to_le_bytes());
                n.extend_from_slice(&1u16.to_le_bytes());
                n.extend_from_slice(&ether_type_of(ip).to_be_bytes());
                n.extend_from_slice(&[1, 0]);
                // NFULA_PREFIX "itl" with its NUL, padded to 4.
                n.extend_from_slice(&8u16.to_le_bytes());
                n.extend_from_slice(&10u16.to_le_bytes());
                n.extend_from_slice(b"itl\0");
                // NFULA_PAYLOAD, padded to 4.
                let len = u16::try_from(4 + ip.len()).expect("fits");
                n.extend_from_slice(&len.to_le_bytes());
                n.extend_from_slice(&9u16.to_le_bytes());
                n.extend_from_slice(ip);
                n.resize(n.len().next_multiple_of(4), 0);
                n
            }
        }
    }

    fn capture(self, packets: &[(i64, Vec<u8>)]) -> Vec<u8> {
        let frames: Vec<(i64, Vec<u8>)> = packets
            .iter()
            .map(|(ts, ip)| (*ts, self.frame(ip)))
            .collect();
        pcap(self.link_type(), &frames)
    }
}

/// The ITL the phone downloaded.
fn itl(evidence: &Evidence) -> Option<&itlscope::evidence::FileTransfer> {
    evidence
        .files
        .iter()
        .find(|f| f.name.starts_with("ITL") && f.name.ends_with(".tlv") && f.complete)
}

/// Every encapsulation gives the phone-port facts, ITL included, with nothing skipped:
/// the ITL download of the boot order (statement 6), whose bytes condition 1 compares
/// (statement 16), is read from the wire whatever carries it.
#[test]
fn every_new_encapsulation_gives_the_phone_port_verdict_and_the_itl() {
    let packets = boot_packets();
    let plain = pcap(101, &packets);
    let (_, plain) = analyse(plain);
    let want = facts(&plain);
    let plain_itl = itl(&plain).expect("the plain boot downloads an ITL");
    for wrap in Wrap::ALL {
        let (summary, evidence) = analyse(wrap.capture(&packets));
        let got = itl(&evidence).unwrap_or_else(|| panic!("{wrap:?}: no ITL in {:?}", summary));
        assert_eq!(got.data, plain_itl.data, "{wrap:?}");
        assert_eq!(facts(&evidence), want, "{wrap:?}");
        assert!(
            summary.skipped.is_empty(),
            "{wrap:?}: {:?}",
            summary.skipped
        );
        assert_eq!(summary.malformed, 0, "{wrap:?}");
        if let Some(id) = wrap.id() {
            let e = summary
                .encapsulations
                .iter()
                .find(|e| e.id == id)
                .unwrap_or_else(|| panic!("{wrap:?}: {:?}", summary.encapsulations));
            assert_eq!(e.frames, packets.len() as u64, "{wrap:?}");
        }
    }
}

/// tshark's exported TFTP objects, by name (renumbered repeats left out).
fn tshark_tftp(capture: &Path, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(dir).expect("mkdir");
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .arg("-q")
        .arg("--export-objects")
        .arg(format!("tftp,{}", dir.display()))
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("export dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        // tshark names a repeated download `name(1).ext`.
        if name.contains('(') {
            continue;
        }
        files.insert(name, std::fs::read(entry.path()).expect("read export"));
    }
    files
}

/// itlscope finds the files tshark exports from each encapsulation, byte for byte.
#[test]
fn tshark_exports_the_same_tftp_files_from_every_new_encapsulation() {
    if !tool_support::tshark() {
        return;
    }
    let packets = boot_packets();
    let tmp = tempfile::tempdir().expect("tmp");
    for wrap in Wrap::ALL {
        let bytes = wrap.capture(&packets);
        let path = tmp.path().join(format!("{wrap:?}.pcap"));
        std::fs::write(&path, &bytes).expect("write");
        let exported = tshark_tftp(&path, &tmp.path().join(format!("{wrap:?}-tftp")));
        assert!(
            exported.keys().any(|n| n.starts_with("ITL")),
            "{wrap:?}: tshark exports {:?}",
            exported.keys().collect::<Vec<_>>()
        );
        let (_, evidence) = analyse(bytes);
        let mut ours = BTreeMap::new();
        for f in evidence.files.iter().filter(|f| f.complete) {
            ours.entry(f.name.clone()).or_insert_with(|| f.data.clone());
        }
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            exported.keys().collect::<Vec<_>>(),
            "{wrap:?}"
        );
        for (name, data) in &exported {
            assert!(
                ours.get(name).map(|d| d.as_slice()) == Some(data.as_slice()),
                "{wrap:?}: {name} differs"
            );
        }
    }
}

/// Frames that are still not decoded are counted by a named reason: plain LLC by SAP,
/// vendor SNAP by protocol, unknown EtherTypes, GTP-U signalling, ESP; ARP, Spanning Tree
/// and CDP are not IP and are not "skipped" (every access port carries them).
fn unsupported_frames() -> Vec<(i64, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    let mut push = |f: Vec<u8>| {
        ts += 1_000_000;
        frames.push((ts, f));
    };
    for _ in 0..3 {
        // NetBIOS over LLC: 802.3 length 38, LLC 0xF0/0xF0/UI.
        let mut netbios = vec![0xf0, 0xf0, 0x03];
        netbios.resize(38, 0);
        push(ethernet(38, &netbios));
        // A Spanning Tree BPDU (LLC 0x42/0x42): not IP, not counted as skipped.
        let mut bpdu = vec![0x42, 0x42, 0x03];
        bpdu.resize(38, 0);
        push(ethernet(38, &bpdu));
    }
    for _ in 0..2 {
        // SNAP with Cisco's OUI and a protocol that is not CDP/VTP/DTP/PVST+/UDLD.
        push(ethernet(
            30,
            &[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x01, 0x0c, 0x02, 0xb4],
        ));
        // CDP: SNAP with Cisco's OUI, protocol 0x2000: not IP, not skipped.
        push(ethernet(
            30,
            &[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 0x02, 0xb4],
        ));
    }
    for _ in 0..4 {
        push(ethernet(0x88b5, &[0; 46]));
    }
    // ARP: known, not IP, not skipped.
    push(ethernet(0x0806, &[0; 28]));
    // A GTP-U echo request and an ESP packet.
    push(outer_udp(2152, &[0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]));
    push(ethernet(0x0800, &outer_ipv4(50, &[0; 24])));
    frames
}

#[test]
fn undecoded_frames_are_named_with_counts() {
    let (summary, evidence) = analyse(pcap(1, &unsupported_frames()));
    assert!(evidence.files.is_empty());
    let count = |reason: &str, code: Option<u32>| {
        summary
            .skipped
            .iter()
            .find(|k| k.reason == reason && k.code == code)
            .map(|k| k.frames)
    };
    assert_eq!(
        count("llc-sap", Some(0xf0)),
        Some(3),
        "{:?}",
        summary.skipped
    );
    assert_eq!(count("snap-protocol", Some(0x010c)), Some(2));
    assert_eq!(
        count("llc-sap", Some(0x42)),
        None,
        "Spanning Tree is not IP"
    );
    assert_eq!(count("snap-protocol", Some(0x2000)), None, "CDP is not IP");
    assert_eq!(count("ether-type", Some(0x88b5)), Some(4));
    assert_eq!(count("gtp-message", Some(1)), Some(1));
    assert_eq!(count("ipsec-esp", None), Some(1));
    let skipped: u64 = summary.skipped.iter().map(|k| k.frames).sum();
    assert_eq!(
        skipped, 11,
        "ARP, STP and CDP are not IP, not skipped: {:?}",
        summary.skipped
    );
}

/// The text report's capture section names each reason with its count, unsupported link
/// types included.
#[test]
fn undecoded_frames_reach_the_text_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let eth = dir.path().join("eth.pcap");
    std::fs::write(&eth, pcap(1, &unsupported_frames())).expect("write");
    let user0 = dir.path().join("user0.pcap");
    let frames: Vec<(i64, Vec<u8>)> = (0..12).map(|i| (i * 1000, vec![0u8; 40])).collect();
    std::fs::write(&user0, pcap(147, &frames)).expect("write");
    let bin = env!("CARGO_BIN_EXE_itlscope");
    for (path, wants) in [
        (
            &eth,
            &[
                "3 frames: 802.2 LLC with SAP 0xf0",
                "2 frames: SNAP with Cisco protocol ID 0x010c",
                "4 frames: EtherType 0x88b5 (not decoded)",
                "1 frames: GTP-U message type 1",
                "1 frames: IPsec ESP",
            ][..],
        ),
        (&user0, &["12 frames: link type 147 is not decoded"][..]),
    ] {
        let out = Command::new(bin)
            .arg("analyze")
            .arg(path)
            .output()
            .expect("run");
        // The report wraps long lines: compare with the wrapping undone.
        let text = String::from_utf8_lossy(&out.stdout);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in wants {
            assert!(flat.contains(want), "{want:?} not in:\n{text}");
        }
    }
}

/// Issue 19 item 7: an HTTP `CONNECT abc:443` on the HTTP port is a tunnel, not a
/// download named `abc:443`; it is counted in the capture's notes, and TLS to a TVS port
/// inside a tunnel is said to hide its certificates (statement 17 reads the TVS certificate
/// from the 2445 handshake).
#[test]
fn http_connect_is_a_counted_tunnel_not_a_download() {
    let phone = Host::new(PHONE_MAC, "192.0.2.21");
    let proxy = Host::new(SWITCH_MAC, "198.51.100.10");
    let mut trace = Trace::new();
    for (i, target) in ["abc:443", "tvs.example:2445"].iter().enumerate() {
        let start = 1_700_000_000_000 * MS + i as i64 * 1000 * MS;
        let mut c = TcpConn::new(
            (phone, 40_000 + i as u16),
            (proxy, 6970),
            7 + i as u32,
            start,
        );
        c.open(&mut trace);
        let req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        c.send(&mut trace, Side::Client, req.as_bytes());
        c.send(
            &mut trace,
            Side::Server,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
        );
        // A ClientHello record header and body start, then the server's bytes.
        let mut hello = vec![0x16, 0x03, 0x01, 0x00, 0x30, 0x01, 0x00, 0x00, 0x2c];
        hello.resize(53, 0);
        c.send(&mut trace, Side::Client, &hello);
        c.send(
            &mut trace,
            Side::Server,
            &[0x16, 0x03, 0x03, 0x00, 0x02, 0x02, 0x00],
        );
        c.close(&mut trace, Side::Client);
    }
    let bytes = write_capture(
        &trace.finish(),
        Format::Pcap,
        &Framing::Ethernet { vlans: vec![] },
    );
    let (summary, evidence) = analyse(bytes);
    assert!(
        evidence.files.is_empty(),
        "no download: {:?}",
        evidence.files.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    let notes = summary.notes.join("\n");
    assert!(notes.contains("2 HTTP CONNECT tunnel(s)"), "{notes}");
    assert!(
        notes.contains("CONNECT abc:443 from 192.0.2.21:40000 via proxy 198.51.100.10:6970"),
        "{notes}"
    );
    assert!(
        notes.contains("opened (200), TLS to a https port, 53 bytes sent, 7 received"),
        "{notes}"
    );
    assert!(notes.contains("TLS to a tvs port"), "{notes}");
    assert!(
        notes.contains("2 CONNECT tunnel(s) carried TLS to a phone service port"),
        "{notes}"
    );
}
