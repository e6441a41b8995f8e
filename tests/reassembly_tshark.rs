//! Cross-check against Wireshark: the files `tshark --export-objects` writes and the
//! certificates it prints are byte-identical to what `itlscope extract` writes, on a capture
//! with TFTP (blksize 8192 over fragmented IP), HTTP (chunked, keep-alive) and TLS 1.2.
//! Skipped (with a message) when tshark is not installed.

mod reassembly_support;
mod tool_support;

use itlscope_gen::packet::{Link, TcpSpec, fragment, ip_tcp, ip_udp};
use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
use reassembly_support::tls::content;
use reassembly_support::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn write_pcap(pkts: &[Pkt], path: &Path) {
    let link = Link::Ethernet {
        src: [2, 0, 0, 0, 0, 1],
        dst: [2, 0, 0, 0, 0, 2],
        vlans: vec![],
    };
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(
        file,
        link.link_type(false),
        65535,
        Precision::Micro,
        Endian::Little,
    )
    .unwrap();
    for (i, p) in pkts.iter().enumerate() {
        let id = i as u16;
        let ip = match p.tcp {
            Some((seq, f)) => {
                let spec = TcpSpec {
                    seq,
                    ack: f.ack.then_some(1),
                    syn: f.syn,
                    fin: f.fin,
                    rst: f.rst,
                    psh: false,
                    window: 65535,
                };
                ip_tcp(p.src, p.dst, id, spec, &p.payload)
            }
            None => ip_udp(p.src, p.dst, id, &p.payload),
        };
        for frag in fragment(&ip, 1480) {
            let frame = link.wrap(&frag);
            w.write_packet(i as i64 * 1_000_000, &frame, frame.len() as u32)
                .unwrap();
        }
    }
}

fn scenario() -> Vec<Pkt> {
    let mut pkts = Vec::new();
    // TFTP, blksize 8192, three and a bit blocks.
    let file: Vec<u8> = (0..8192 * 3 + 77).map(|i| (i * 13 % 251) as u8).collect();
    let rrq = b"\0\x01ITLSEP001122334455.tlv\0octet\0blksize\08192\0".to_vec();
    pkts.push(udp("10.1.1.20:50000", "10.1.1.1:69", rrq));
    pkts.push(udp(
        "10.1.1.1:41000",
        "10.1.1.20:50000",
        b"\0\x06blksize\08192\0".to_vec(),
    ));
    pkts.push(udp("10.1.1.20:50000", "10.1.1.1:41000", vec![0, 4, 0, 0]));
    for (i, block) in file.chunks(8192).enumerate() {
        let n = (i + 1) as u16;
        let mut d = vec![0, 3];
        d.extend_from_slice(&n.to_be_bytes());
        d.extend_from_slice(block);
        pkts.push(udp("10.1.1.1:41000", "10.1.1.20:50000", d));
        let mut a = vec![0, 4];
        a.extend_from_slice(&n.to_be_bytes());
        pkts.push(udp("10.1.1.20:50000", "10.1.1.1:41000", a));
    }
    // HTTP on 6970: keep-alive, Content-Length then chunked.
    let mut c = Conv::new("10.1.1.20:40000", "10.1.1.1:6970", 1000, 5000);
    c.open();
    c.send(
        true,
        b"GET /SEP001122334455.cnf.xml.sgn HTTP/1.1\r\nHost: 10.1.1.1:6970\r\n\r\n",
        1460,
    );
    let cfg: Vec<u8> = (0..3000)
        .map(|i| b"<device>config</device>\n"[i % 24])
        .collect();
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", cfg.len()).into_bytes();
    r.extend_from_slice(&cfg);
    c.send(false, &r, 1400);
    c.send(
        true,
        b"GET /Desktops/320x196x4/List.xml HTTP/1.1\r\nHost: 10.1.1.1:6970\r\n\r\n",
        1460,
    );
    let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in [&b"<List>"[..], b"<ImageItem/>", b"</List>"] {
        r.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        r.extend_from_slice(part);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    c.send(false, &r, 20);
    c.fin(true);
    c.fin(false);
    pkts.extend(c.pkts);
    // TLS 1.2 to TVS with a two-certificate chain.
    let certs = ctl_certs();
    let mut t = Conv::new("10.1.1.20:51000", "10.1.1.1:2445", 7, 9);
    t.open();
    let ch = tls::client_hello(0x0303, &[0x002f], &[], None);
    t.send(
        true,
        &tls::records(content::HANDSHAKE, 0x0301, &ch, 16384),
        1460,
    );
    let mut flight = tls::server_hello(0x0303, 0x002f, None);
    flight.extend(tls::certificate(&[&certs[0], &certs[2]]));
    flight.extend(tls::server_hello_done());
    t.send(
        false,
        &tls::records(content::HANDSHAKE, 0x0303, &flight, 1000),
        700,
    );
    t.send(true, &tls::alert(0x0303, 2, 48), 1460);
    t.rst(true);
    pkts.extend(t.pkts);
    pkts
}

fn files_in(dir: &Path) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "index.json"
                && p.extension().is_none_or(|x| x != "der")
            {
                out.insert(std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn extract_matches_tshark_export_objects_and_certificates() {
    if !tool_support::tshark() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pcap = tmp.path().join("scenario.pcap");
    write_pcap(&scenario(), &pcap);
    let ours = tmp.path().join("ours");
    let status = Command::new(env!("CARGO_BIN_EXE_itlscope"))
        .arg("extract")
        .arg(&pcap)
        .arg("-o")
        .arg(&ours)
        .status()
        .unwrap();
    assert!(status.success());
    let theirs = tmp.path().join("theirs");
    for proto in ["tftp", "http"] {
        let out = Command::new("tshark")
            .args(["-n", "-Q", "-r"])
            .arg(&pcap)
            .arg("--export-objects")
            .arg(format!("{proto},{}", theirs.join(proto).display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mine = files_in(&ours);
    let wireshark = files_in(&theirs);
    assert_eq!(
        wireshark.len(),
        3,
        "tshark exported {} objects",
        wireshark.len()
    );
    assert_eq!(mine, wireshark);
    // Certificates: tshark prints each as hex.
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args([
            "-Y",
            "tls.handshake.certificate",
            "-T",
            "fields",
            "-e",
            "tls.handshake.certificate",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: BTreeSet<Vec<u8>> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|h| hex::decode(h.replace(':', "")).unwrap())
        .collect();
    let mine: BTreeSet<Vec<u8>> = std::fs::read_dir(&ours)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "der"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(theirs.len(), 2);
    assert_eq!(mine, theirs);
}
