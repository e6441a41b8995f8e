//! Wireshark agrees with the generator: every scenario capture opens in tshark without
//! "Malformed" or bad-checksum expert items, tshark's exported TFTP and HTTP objects are
//! exactly the complete files the scenario serves (byte for byte; tshark leaves out files
//! with a missing block, as the lossy capture checks), and the server certificates tshark
//! sees are the ones the scenario presents in clear (none under TLS 1.3). And `itlscope
//! extract` agrees with tshark: the same files byte for byte, the same server certificates.
//!
//! Skipped (with a message) when tshark is not installed; `.ci/run` installs it.

mod tool_support;

use itlscope_gen::scenarios::boot::{Step, sha1_hex};
use itlscope_gen::scenarios::{Scenario, catalog};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn capture_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(file)
}

/// Common options: check every checksum, dissect 2445 (TVS) as TLS, and reassemble
/// out-of-order TCP segments (off by default in Wireshark 4.0, which would otherwise miss the
/// certificate of the lossy capture's reordered 8443 handshake).
fn tshark(capture: &Path) -> Command {
    let mut c = Command::new("tshark");
    c.arg("-r")
        .arg(capture)
        .args(["-o", "tcp.reassemble_out_of_order:TRUE"])
        .args(["-o", "tcp.check_checksum:TRUE"])
        .args(["-o", "udp.check_checksum:TRUE"])
        .args(["-o", "ip.check_checksum:TRUE"])
        .args(["-d", "tcp.port==2445,tls"]);
    c
}

fn run(mut c: Command) -> String {
    let out = c.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A name tshark gave a repeated download: `(N)` before the extension.
fn is_renumbered(name: &str) -> bool {
    name.split('(')
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn exported(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("export dir") {
        let entry = entry.expect("entry");
        let bytes = std::fs::read(entry.path()).expect("read export");
        // tshark numbers a file downloaded again `name(1).ext`, `name(2).ext`…; each name is
        // compared once (a boot loop downloads the same files several times).
        if is_renumbered(&entry.file_name().to_string_lossy()) {
            continue;
        }
        out.insert(entry.file_name().to_string_lossy().into_owned(), bytes);
    }
    out
}

/// The complete files a scenario serves, by transport: name -> bytes.
fn served(s: &Scenario, transport: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for p in &s.phones {
        for step in &p.steps {
            match step {
                Step::Tftp(t) if transport == "tftp" && t.missed_blocks.is_empty() => {
                    if let Some(b) = &t.body {
                        out.insert(t.name.clone(), b.clone());
                    }
                }
                Step::Http(h) if transport == "http" && h.answer.status == 200 => {
                    let lost = h
                        .impair
                        .missed
                        .iter()
                        .any(|(side, _)| *side == itlscope_gen::conv::Side::Server);
                    if !lost {
                        out.insert(h.name.clone(), h.answer.body.clone());
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn check(file: &str) {
    if !tool_support::tshark() {
        return;
    }
    let s = catalog::by_file(file).expect("scenario exists");
    let path = capture_path(file);

    // 1. No malformed packets, no bad checksums.
    let mut c = tshark(&path);
    c.args(["-q", "-z", "expert,note"]);
    let expert = run(c);
    for line in expert.lines() {
        let l = line.to_ascii_lowercase();
        let bad_checksum = l.contains("checksum") && l.contains("bad");
        assert!(
            !l.contains("malformed") && !bad_checksum,
            "{file}: tshark expert item: {line}\n{expert}"
        );
    }

    // 2. Exported objects are the complete served files, byte for byte.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (tdir, hdir) = (tmp.path().join("tftp"), tmp.path().join("http"));
    std::fs::create_dir_all(&tdir).expect("mkdir");
    std::fs::create_dir_all(&hdir).expect("mkdir");
    let mut c = tshark(&path);
    c.arg("-q")
        .arg("--export-objects")
        .arg(format!("tftp,{}", tdir.display()))
        .arg("--export-objects")
        .arg(format!("http,{}", hdir.display()));
    run(c);
    for (transport, dir) in [("tftp", &tdir), ("http", &hdir)] {
        let got = exported(dir);
        let want = served(&s, transport);
        let got_names: Vec<&String> = got.keys().collect();
        let want_names: Vec<&String> = want.keys().collect();
        assert_eq!(
            got_names, want_names,
            "{file}: {transport} objects tshark exports"
        );
        for (name, bytes) in &want {
            assert!(
                got.get(name) == Some(bytes),
                "{file}: {transport} object {name} differs from the served file"
            );
        }
    }

    // 3. Server certificates in clear are the scenario's leaf certificates.
    let mut c = tshark(&path);
    c.args([
        "-Y",
        "tls.handshake.type == 11 && (tcp.srcport == 2445 || tcp.srcport == 8443)",
    ])
    .args(["-T", "fields", "-e", "tls.handshake.certificate"]);
    let fields = run(c);
    let mut seen = Vec::new();
    for value in fields.split(['\n', ',']).filter(|v| !v.trim().is_empty()) {
        let der = hex::decode(value.trim().replace(':', "")).expect("tshark prints hex");
        seen.push(sha1_hex(&der));
    }
    for (_, facts) in s.expected_tls() {
        for fact in facts {
            if let Some(leaf) = &fact.leaf_sha1 {
                assert!(
                    seen.contains(leaf),
                    "{file}: tshark does not see the {} leaf {leaf}",
                    fact.port
                );
            }
        }
    }
    // 4. itlscope extract writes the same objects and the same server certificates.
    let xdir = tmp.path().join("itlscope");
    let out = assert_cmd::Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .arg("extract")
        .arg(&path)
        .arg("-o")
        .arg(&xdir)
        .output()
        .expect("itlscope runs");
    assert!(
        out.status.success(),
        "{file}: itlscope extract failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut tshark_objects = exported(&tdir);
    tshark_objects.extend(exported(&hdir));
    for (name, bytes) in &tshark_objects {
        let ours = std::fs::read(xdir.join(name)).ok();
        assert!(
            ours.as_ref() == Some(bytes),
            "{file}: tshark exports {name} ({} bytes) but itlscope extract wrote {}",
            bytes.len(),
            ours.map_or("nothing".to_string(), |b| format!(
                "{} different bytes",
                b.len()
            ))
        );
    }
    // Complete files only: itlscope also keeps what it has of an incomplete download (as
    // `<name>.partial`), where tshark writes nothing rather than a file with a hole.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(xdir.join("index.json")).expect("index.json"))
            .expect("index is JSON");
    let ours_complete: Vec<&str> = index["files"]
        .as_array()
        .expect("files list")
        .iter()
        .filter(|f| f["complete"] == true)
        .filter_map(|f| f["name"].as_str())
        .collect();
    for name in &ours_complete {
        assert!(
            tshark_objects.contains_key(*name),
            "{file}: itlscope extracts {name} whole but tshark exports no such object"
        );
    }
    let mut c = tshark(&path);
    c.args([
        "-Y",
        "tls.handshake.type == 11 && tcp.srcport in {2445, 8443, 443, 2443, 5061, 3804, 6971, 6972}",
    ])
    .args(["-T", "fields", "-e", "tls.handshake.certificate"]);
    let mut tshark_certs: Vec<String> = run(c)
        .split(['\n', ','])
        .filter(|v| !v.trim().is_empty())
        .map(|v| sha1_hex(&hex::decode(v.trim().replace(':', "")).expect("tshark prints hex")))
        .collect();
    tshark_certs.sort();
    tshark_certs.dedup();
    let mut our_certs: Vec<String> = std::fs::read_dir(&xdir)
        .expect("extract dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let der = name.strip_suffix(".der")?.to_owned();
            let bytes = std::fs::read(e.path()).ok()?;
            assert_eq!(
                sha1_hex(&bytes),
                der,
                "{file}: {name} is named by its SHA-1"
            );
            Some(der)
        })
        .collect();
    our_certs.sort();
    assert_eq!(
        our_certs, tshark_certs,
        "{file}: server certificates itlscope extracts vs tshark"
    );

    let visible_sessions: usize = s
        .expected_tls()
        .iter()
        .flat_map(|(_, f)| f.iter())
        .filter(|f| f.leaf_sha1.is_some())
        .count();
    if visible_sessions == 0 {
        assert!(
            seen.is_empty(),
            "{file}: tshark sees certificates that should be hidden"
        );
    }
}

macro_rules! tshark_tests {
    ($($name:ident => $file:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check($file);
            }
        )*

        #[test]
        fn every_scenario_has_a_tshark_test() {
            let listed = [$($file),*];
            for (file, _) in catalog::builders() {
                assert!(listed.contains(&file), "no tshark test for {file}");
            }
        }
    };
}

tshark_tests! {
    healthy_tftp_boot => "healthy-tftp-boot.pcap",
    healthy_http_boot => "healthy-http-boot.pcap",
    cm_regenerated_tvs_ok => "cm-regenerated-tvs-ok.pcap",
    cm_and_tvs_regenerated => "cm-and-tvs-regenerated.pcap",
    hostname_change_single_node => "hostname-change-single-node.pcap",
    moved_cluster_unprepared => "moved-cluster-unprepared.pcap",
    moved_cluster_bulk_imported => "moved-cluster-bulk-imported.pcap",
    centralized_tftp_itlfile => "centralized-tftp-itlfile.pcap",
    rollback_itl => "rollback-itl.pcap",
    rebuilt_without_key => "rebuilt-without-key.pcap",
    tvs_tls13 => "tvs-tls13.pcap",
    encrypted_config => "encrypted-config.pcap",
    expired_tvs_cert => "expired-tvs-cert.pcap",
    lossy_capture => "lossy-capture.pcap",
    two_phones_voice_vlan => "two-phones-voice-vlan.pcap",
    healthy_tftp_boot_pcapng => "healthy-tftp-boot.pcapng",
    healthy_tftp_boot_sll2 => "healthy-tftp-boot-sll2.pcap",
    healthy_tftp_boot_ipv6 => "healthy-tftp-boot-ipv6.pcap",
    healthy_tftp_boot_erspan => "healthy-tftp-boot-erspan.pcap",
    boot_loop => "boot-loop.pcap",
    transfer_stall => "transfer-stall.pcap",
    tftp_blksize_fragmented => "tftp-blksize-fragmented.pcap",
    sip_devicetlinfo_alarm => "sip-devicetlinfo-alarm.pcap",
    tvs_unreachable => "tvs-unreachable.pcap",
    tvs_tls_version_mismatch => "tvs-tls-version-mismatch.pcap",
    two_node_one_tvs_regenerated => "two-node-one-tvs-regenerated.pcap",
    mixed_mode_ctl_not_rerun => "mixed-mode-ctl-not-rerun.pcap",
    mixed_mode_ctl_rerun => "mixed-mode-ctl-rerun.pcap",
    tvs_silent_fin => "tvs-silent-fin.pcap",
    tvs_silent_rst => "tvs-silent-rst.pcap",
    stale_served_itl => "stale-served-itl.pcap",
    tvs_tls13_completed => "tvs-tls13-completed.pcap",
    itlrecovery_12_5 => "itlrecovery-12-5.pcap",
    cm_group_single_node => "cm-group-single-node.pcap",
}
