//! Replays the committed fuzz corpus on stable: every seed under `fuzz/seeds/<target>/` and
//! every past finding under `tests/fuzz_regressions/<target>/` goes through the same harness
//! the cargo-fuzz target runs (`tests/fuzz_support/mod.rs`), with a time limit per input.
//!
//! To add a finding: copy the crash/timeout/oom file from `fuzz/artifacts/<target>/` into
//! `tests/fuzz_regressions/<target>/` with a name that says what it was.

mod fuzz_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Much more than any input needs; a harness this slow is a hang.
const PER_INPUT_LIMIT: Duration = Duration::from_secs(5);

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, harness: fn(&[u8]), dir: &Path) -> usize {
    let files = files_in(&dir.join(target));
    for file in &files {
        let data = std::fs::read(file).expect("read corpus file");
        let start = Instant::now();
        harness(&data);
        let took = start.elapsed();
        assert!(
            took < PER_INPUT_LIMIT,
            "{} took {took:?} in harness {target}",
            file.display()
        );
    }
    files.len()
}

#[test]
fn seed_corpus_replays_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (target, harness) in fuzz_support::HARNESSES {
        let seeds = replay(target, *harness, &root.join("fuzz/seeds"));
        assert!(seeds >= 3, "fuzz/seeds/{target} holds only {seeds} seeds");
    }
}

#[test]
fn fuzz_regressions_replay_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    assert!(
        dir.is_dir(),
        "{} is missing: the fuzz findings must stay replayed",
        dir.display()
    );
    let mut total = 0;
    for (target, harness) in fuzz_support::HARNESSES {
        total += replay(target, *harness, &dir);
    }
    assert!(total > 0, "{} holds no finding to replay", dir.display());
    eprintln!("replayed {total} fuzz regressions");
}

/// The seeds really drive the stages they target: decoding the program format is right.
#[test]
fn packet_seeds_reach_the_protocol_stages() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let tls = std::fs::read(seeds.join("tls_rejoin/tls12-whole-records")).expect("seed");
    let found = fuzz_support::packets::run_tls_rejoin(&tls);
    assert_eq!(found.tls.len(), 1, "{found:?}");
    assert_eq!(found.tls[0].certificates.len(), 2, "{:?}", found.tls[0]);
    let tftp = std::fs::read(seeds.join("tftp_sessions/plain")).expect("seed");
    let found = fuzz_support::packets::run_tftp_sessions(&tftp);
    assert_eq!(found.files.len(), 1, "{found:?}");
    assert!(found.files[0].complete, "{:?}", found.files[0]);
    assert_eq!(found.files[0].data.len(), 1300);
    let capture = std::fs::read(seeds.join("capture_end_to_end/gen-tftp-itl.pcap")).expect("seed");
    let found = fuzz_support::packets::run_capture_end_to_end(&capture).expect("a capture");
    assert_eq!(found.files.len(), 1, "{found:?}");
    assert!(found.files[0].complete, "{:?}", found.files[0]);
}

/// The seeds of the parsers of outside text and archives (issue 19) really reach them: the
/// alarm is read, the log and page give facts, `show itl` parses, the PRT is evidence, and
/// `plan` plans.
#[test]
fn outside_seeds_reach_their_parsers() {
    use itlscope::sidecar::{self, Limits, SideEvidence, Source};
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let read = |p: &str| std::fs::read(seeds.join(p)).expect("seed");
    for file in files_in(&seeds.join("device_tl_info")) {
        let data = std::fs::read(&file).expect("seed");
        let alarm = itlscope::proto::sip::parse_device_tl_info(&data)
            .or_else(|| itlscope::alarm::parse_alarm_xml(&String::from_utf8_lossy(&data)));
        let alarm = alarm.unwrap_or_else(|| panic!("{} holds no alarm", file.display()));
        assert_eq!(alarm.device_name.as_deref(), Some("SEP0011223344AA"));
    }
    let src = Source::default();
    let log = read("console_log/real-shaped-healthy-http-boot.console.log");
    let (facts, ..) = sidecar::console::facts(&String::from_utf8_lossy(&log), &src, 100);
    assert!(!facts.is_empty(), "console seed gives no fact");
    let page = read("status_messages/cm-regenerated-tvs-ok.txt");
    let (facts, ..) = sidecar::status::facts(&String::from_utf8_lossy(&page), &src, 100);
    assert!(!facts.is_empty(), "status seed gives no fact");
    let show = read("cucm_text/show-itl.txt");
    assert!(itlscope::plan::show_itl::parse(&String::from_utf8_lossy(&show), "seed").is_ok());
    let prt = read("prt_archive/probrep-hostname-change.tar.gz");
    let mut out = SideEvidence::default();
    sidecar::detect::ingest_bytes("seed", &prt, &Limits::default(), &mut out).expect("evidence");
    assert!(
        !out.files.is_empty() && !out.files[0].parts.is_empty(),
        "{out:?}"
    );
    for seed in [
        "sel00-healthy-tftp-boot.phone-itl.tlv",
        "sel02-tvs-tls13.show-itl.txt",
    ] {
        let data = read(&format!("plan_inputs/{seed}"));
        assert!(
            fuzz_support::outside::run_plan_inputs(&data),
            "{seed}: no plan"
        );
    }
}

/// The harnesses also run on arbitrary noise (cheap smoke test of the program decoders).
#[test]
fn harnesses_take_arbitrary_bytes() {
    let mut state = 0x5eed_u64;
    for len in [0usize, 1, 2, 3, 7, 64, 600, 5000] {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect();
        for (_, harness) in fuzz_support::HARNESSES {
            harness(&data);
        }
    }
}

/// Regenerates the generated seeds of `fuzz/seeds/trust_list/` and `fuzz/seeds/signed_file/`
/// (`gen-*`; the `real-*` ones are field files). Run with `--ignored` when the builders change.
#[test]
#[ignore]
fn write_cisco_seeds() {
    use itlscope_gen::pki::{ClusterCerts, Digest};
    use itlscope_gen::trustlist::{Signer, cucm_itl, rollback_itl, signed_file};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let certs = ClusterCerts::new("cucm-pub");
    let lists = [
        ("gen-itl-sha1.tlv", cucm_itl(&certs, Digest::Sha1)),
        ("gen-itl-sha512.tlv", cucm_itl(&certs, Digest::Sha512)),
        ("gen-itl-rollback.tlv", rollback_itl(&certs)),
    ];
    for (name, bytes) in lists {
        std::fs::write(root.join("trust_list").join(name), bytes).expect("write seed");
    }
    let config = b"<device><devicePool><name>Default</name></devicePool></device>\n";
    let signer = Signer::from_cert(&certs.callmanager);
    let sgn = signed_file(
        "SEP001122334455.cnf.xml.sgn",
        config,
        signer,
        Digest::Sha512,
    );
    std::fs::write(root.join("signed_file/gen-cnf.xml.sgn"), sgn).expect("write seed");
}
/// TFTP packets for the seeds.
fn tftp_rrq(name: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut p = vec![0, 1];
    p.extend_from_slice(name.as_bytes());
    p.push(0);
    p.extend_from_slice(b"octet\0");
    for (k, v) in options {
        p.extend_from_slice(k.as_bytes());
        p.push(0);
        p.extend_from_slice(v.as_bytes());
        p.push(0);
    }
    p
}

fn tftp(opcode: u16, number: u16, rest: &[u8]) -> Vec<u8> {
    let mut p = opcode.to_be_bytes().to_vec();
    p.extend_from_slice(&number.to_be_bytes());
    p.extend_from_slice(rest);
    p
}

/// Regenerates `fuzz/seeds/tftp_sessions/` (run with `--ignored` after changing the
/// program encoding). Routes: 0 phone→69, 1 server TID→phone, 2 phone→server TID,
/// 3 other phone→69; +4·k picks TID k.
#[test]
#[ignore]
fn write_tftp_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/tftp_sessions");
    std::fs::create_dir_all(&dir).expect("seed dir");
    let file: Vec<u8> = (0..1300u32).map(|i| (i * 7) as u8).collect();
    // Plain 512-byte blocks, no options (79xx style).
    let rrq = tftp_rrq("ITLSEP001122334455.tlv", &[]);
    let mut plain: Vec<(u8, Vec<u8>)> = vec![(0, rrq)];
    for (i, block) in file.chunks(512).enumerate() {
        let n = i as u16 + 1;
        plain.push((1, tftp(3, n, block)));
        plain.push((2, tftp(4, n, &[])));
    }
    // blksize + tsize negotiated with an OACK.
    let mut oack_body = b"blksize\x001024\x00tsize\x001300\x00".to_vec();
    let mut negotiated: Vec<(u8, Vec<u8>)> = vec![(
        0,
        tftp_rrq(
            "SEP001122334455.cnf.xml.sgn",
            &[("blksize", "1024"), ("tsize", "0")],
        ),
    )];
    let mut oack = vec![0, 6];
    oack.append(&mut oack_body);
    negotiated.push((1, oack));
    negotiated.push((2, tftp(4, 0, &[])));
    for (i, block) in file.chunks(1024).enumerate() {
        let n = i as u16 + 1;
        negotiated.push((1, tftp(3, n, block)));
        negotiated.push((2, tftp(4, n, &[])));
    }
    // File not found, then a retry from another phone with a lost and repeated block.
    let lossy: Vec<(u8, Vec<u8>)> = vec![
        (0, tftp_rrq("CTLSEP001122334455.tlv", &[])),
        (1, tftp(5, 1, b"File not found\0")),
        (3, tftp_rrq("ITLFile.tlv", &[])),
        (5, tftp(3, 1, &file[..512])),
        (5, tftp(3, 1, &file[..512])),
        (5, tftp(3, 3, &file[..100])),
    ];
    for (name, datagrams) in [
        ("plain", plain),
        ("negotiated", negotiated),
        ("lossy", lossy),
    ] {
        let refs: Vec<(u8, &[u8])> = datagrams.iter().map(|(r, p)| (*r, p.as_slice())).collect();
        std::fs::write(dir.join(name), fuzz_support::packets::encode_udp(&refs))
            .expect("write seed");
    }
}

/// Regenerates `fuzz/seeds/tls_rejoin/`: TLS 1.2 and 1.3 handshakes to TVS with the real
/// CTL's certificates, in records and segments of several sizes, and a rejected one.
#[test]
#[ignore]
fn write_tls_seeds() {
    use itlscope_gen::filler::Filler;
    use itlscope_gen::tls::{self, ClientHello, ServerHello, content_type as content};
    const V12: u16 = 0x0303;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/tls_rejoin");
    std::fs::create_dir_all(&dir).expect("seed dir");
    let ctl = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/trust_list/real-SCFFile.tlv"),
    )
    .expect("real CTL seed");
    let certs: Vec<&[u8]> = itlscope::cisco::trustlist::parse_trust_list(&ctl)
        .expect("real CTL parses")
        .records
        .iter()
        .filter_map(|r| r.certificate)
        .collect();
    let mut client = ClientHello::tls12(1, V12, Some("tvs.example"));
    client.cipher_suites = vec![0xc030, 0x002f, 0x0035];
    let hello = client.encode();
    let server_hello = |suite: u16, selected: Option<u16>| {
        let mut h = ServerHello::tls12(1, V12, suite);
        h.selected_version = selected;
        h.encode()
    };
    let opaque = |ct: u8, len: usize| tls::opaque_record(ct, V12, len, &mut Filler::new(7));
    for (name, frag, tls13, rejects) in [
        ("tls12-whole-records", 16384, false, false),
        ("tls12-small-records", 300, false, true),
        ("tls13", 16384, true, false),
    ] {
        let client_hello = tls::records(content::HANDSHAKE, 0x0301, &hello, 16384);
        let mut flight = if tls13 {
            server_hello(0x1301, Some(0x0304))
        } else {
            server_hello(0x0035, None)
        };
        if !tls13 {
            flight.extend(tls::certificate(&[certs[0], certs[3]]));
            flight.extend(tls::server_hello_done());
        }
        let mut server = tls::records(content::HANDSHAKE, V12, &flight, frag);
        if tls13 {
            server.extend(tls::change_cipher_spec(V12));
            server.extend(opaque(content::APPLICATION_DATA, 900));
        }
        let client_end = if rejects {
            tls::alert(V12, 2, 48)
        } else {
            opaque(content::APPLICATION_DATA, 64)
        };
        let program = fuzz_support::packets::encode_tcp(&[
            (0, &client_hello),
            (1, &server),
            (0, &client_end),
        ]);
        std::fs::write(dir.join(name), program).expect("write seed");
    }
}

/// Regenerates `fuzz/seeds/capture_end_to_end/`: small generated captures (pcap and pcapng
/// noise with a TFTP request), plus the scenario captures when `captures/` has small ones.
#[test]
#[ignore]
fn write_capture_seeds() {
    use itlscope_gen::bench::{BenchConfig, Format, NoBoots, write_bench_capture};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("fuzz/seeds/capture_end_to_end");
    std::fs::create_dir_all(&dir).expect("seed dir");
    for (format, name) in [
        (Format::Pcap, "gen-noise.pcap"),
        (Format::PcapNg, "gen-noise.pcapng"),
    ] {
        let config = BenchConfig {
            size: 12_000,
            format,
            seed: 3,
            boots: 0,
            mix: Default::default(),
        };
        let mut out = Vec::new();
        write_bench_capture(&config, &mut NoBoots, &mut out).expect("generate");
        std::fs::write(dir.join(name), out).expect("write seed");
    }
    // A TFTP download of a trust list, the second DATA block fragmented, VLAN tagged.
    {
        use itlscope_gen::packet::{Link, fragment, ip_udp};
        use itlscope_gen::pcap::{Endian, PcapWriter, Precision};
        let phone: std::net::SocketAddr = "10.100.0.20:50000".parse().expect("addr");
        let server: std::net::SocketAddr = "10.1.1.10:69".parse().expect("addr");
        let tid: std::net::SocketAddr = "10.1.1.10:40000".parse().expect("addr");
        let list = std::fs::read(root.join("fuzz/seeds/trust_list/gen-itl-rollback.tlv"))
            .expect("seed ITL");
        let link = Link::Ethernet {
            src: [2; 6],
            dst: [4; 6],
            vlans: vec![100],
        };
        let mut w =
            PcapWriter::new(Vec::new(), 1, 65535, Precision::Micro, Endian::Little).expect("pcap");
        let mut ts = 1_795_860_000_000_000_000i64;
        let mut put = |ip: Vec<u8>| {
            ts += 1_000_000;
            let frame = link.wrap(&ip);
            w.write_packet(ts, &frame, frame.len() as u32)
                .expect("write");
        };
        put(ip_udp(
            phone,
            server,
            1,
            &tftp_rrq("ITLSEP001122334455.tlv", &[]),
        ));
        for (i, block) in list.chunks(512).enumerate() {
            let data = ip_udp(tid, phone, 10 + i as u16, &tftp(3, i as u16 + 1, block));
            for part in fragment(&data, if i == 0 { 1480 } else { 256 }) {
                put(part);
            }
            put(ip_udp(
                phone,
                tid,
                20 + i as u16,
                &tftp(4, i as u16 + 1, &[]),
            ));
        }
        std::fs::write(dir.join("gen-tftp-itl.pcap"), w.into_inner()).expect("write seed");
    }
    for scenario in files_in(&root.join("captures")) {
        let small = std::fs::metadata(&scenario).is_ok_and(|m| m.len() <= 64 * 1024);
        let is_capture = matches!(
            scenario.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng")
        );
        if small && is_capture {
            let name = format!(
                "scenario-{}",
                scenario.file_name().and_then(|n| n.to_str()).unwrap_or("x")
            );
            std::fs::copy(&scenario, dir.join(name)).expect("copy scenario");
        }
    }
}
