//! Every scenario capture through the library pipeline (capture reader → net decoder →
//! protocol collector), checked against what the generator put in it: each file the phone
//! fetched (transport, completeness, SHA-1 of the bytes), each TLS session (version, leaf
//! certificate or none under TLS 1.3, the phone's alert), each DeviceTLInfo alarm. The same
//! facts as the end-to-end tests, without the CLI.

use itlscope::capture::CaptureReader;
use itlscope::diagnosis::{ItlHash, KeyBackup, OperatorFacts, PhoneItlFile, PhoneStatus};
use itlscope::evidence::{Evidence, FileTransport, Side};
use itlscope::net::{Decoded, Decoder};
use itlscope::proto::{Collected, Collector, CollectorConfig};
use itlscope::report::{OutputFormat, run_analyze};
use itlscope_gen::scenarios::boot::{Step, sha1_hex};
use itlscope_gen::scenarios::catalog;
use scenarios_support::repo;
use std::path::PathBuf;

mod scenarios_support;

fn collect(file: &str) -> Collected {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(file);
    let mut reader = CaptureReader::open(&path).expect("capture opens");
    let mut decoder = Decoder::default();
    let mut collector = Collector::new(CollectorConfig::default());
    while let Some(frame) = reader.next_frame().expect("frame reads") {
        if let Decoded::Packet(p) = decoder.decode(&frame) {
            collector.packet(&p);
        }
    }
    collector.finish()
}

fn check(file: &str) {
    let s = catalog::by_file(file).expect("scenario");
    let got = collect(file);
    for p in &s.phones {
        let ip: std::net::IpAddr = p.phone.ip.parse().expect("phone ip");
        for fact in itlscope_gen::scenarios::boot::expected_files(&p.steps) {
            let transport = match fact.transport {
                "tftp" => FileTransport::Tftp,
                _ => FileTransport::Http,
            };
            let Some(t) = got
                .files
                .iter()
                .find(|f| f.name == fact.name && f.transport == transport && f.client.ip == ip)
            else {
                panic!(
                    "{file}: no {} transfer of {} in {:#?}",
                    fact.transport, fact.name, got.files
                );
            };
            assert_eq!(
                t.complete, fact.complete,
                "{file}: {} complete ({:?})",
                fact.name, t.error
            );
            // A refused download names its error; a complete one has none; an incomplete
            // one may say why.
            if fact.failed || fact.complete {
                assert_eq!(
                    t.error.is_some(),
                    fact.failed,
                    "{file}: {} error {:?}",
                    fact.name,
                    t.error
                );
            }
            if let Some(sha1) = &fact.sha1 {
                assert_eq!(&sha1_hex(&t.data), sha1, "{file}: {} bytes", fact.name);
            }
        }
        for fact in itlscope_gen::scenarios::boot::expected_tls(&p.steps) {
            let Some(t) = got
                .tls
                .iter()
                .filter(|t| t.client.ip == ip && t.server.port == fact.port)
                .min_by_key(|t| {
                    t.certificates.first().map(|c| c.sha1.as_str()) != fact.leaf_sha1.as_deref()
                })
            else {
                panic!("{file}: no TLS session to {} in {:#?}", fact.port, got.tls);
            };
            let version = fact.version.map(|v| match v {
                "TLS1.0" => 0x0301,
                "TLS1.1" => 0x0302,
                "TLS1.2" => 0x0303,
                _ => 0x0304,
            });
            assert_eq!(t.version, version, "{file}: {} version", fact.port);
            match &fact.leaf_sha1 {
                Some(leaf) => {
                    let first = t.certificates.first();
                    assert_eq!(
                        first.map(|c| c.sha1.as_str()),
                        Some(leaf.as_str()),
                        "{file}: {} leaf",
                        fact.port
                    );
                    assert_eq!(
                        first.map(|c| c.serial.as_str()),
                        fact.leaf_serial.as_deref(),
                        "{file}: {} serial",
                        fact.port
                    );
                }
                None => {
                    assert!(
                        t.certificates.is_empty(),
                        "{file}: {} shows no chain",
                        fact.port
                    );
                    if fact.version == Some("TLS1.3") {
                        assert!(
                            t.certificates_encrypted,
                            "{file}: {} says it is encrypted",
                            fact.port
                        );
                    }
                }
            }
            for code in &fact.server_alerts {
                assert!(
                    t.alerts
                        .iter()
                        .any(|a| a.from == Side::Server && a.description == *code),
                    "{file}: server alert {code} on {}: {:?}",
                    fact.port,
                    t.alerts
                );
            }
            for code in &fact.client_alerts {
                assert!(
                    t.alerts.iter().any(|a| a.from == Side::Client
                        && a.description == *code
                        && a.after_server_certificate),
                    "{file}: client alert {code} after the certificate on {}: {:?}",
                    fact.port,
                    t.alerts
                );
            }
        }
    }
}

/// The DeviceTLInfo alarms the phones sent over SIP/TCP (`tcp`) or SIP/UDP.
fn check_alarms(file: &str, tcp: bool) {
    let s = catalog::by_file(file).expect("scenario");
    let got = collect(file);
    for p in &s.phones {
        let ip: std::net::IpAddr = p.phone.ip.parse().expect("phone ip");
        for step in &p.steps {
            if let Step::Alarm {
                alarm, tcp: over, ..
            } = step
                && *over == tcp
            {
                let want = alarm.itl_signature.as_deref().map(hex);
                let found = got.alarms.iter().any(|a| {
                    a.phone.ip == ip
                        && a.itl_signature == want
                        && a.device_name.as_deref() == Some(alarm.device_name.as_str())
                });
                assert!(
                    found,
                    "{file}: DeviceTLInfo of {} in {:#?}",
                    p.phone.ip, got.alarms
                );
            }
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The REFER the generator writes is one the library's SIP parser reads.
#[test]
fn generated_refer_parses_with_the_library_parser() {
    let s = catalog::by_file("sip-devicetlinfo-alarm.pcap").expect("scenario");
    let p = &s.phones[0];
    for step in &p.steps {
        if let Step::Alarm { alarm, cucm, .. } = step {
            for transport in ["TCP", "UDP"] {
                let msg = alarm.refer(&p.phone.host(), 51000, cucm, transport, 1);
                let parsed = itlscope::proto::sip::parse_device_tl_info(&msg).expect("parses");
                assert_eq!(
                    parsed.itl_signature.as_deref(),
                    alarm.itl_signature.as_deref().map(hex).as_deref()
                );
            }
        }
    }
}

#[test]
fn sip_devicetlinfo_alarm_over_tcp_is_collected() {
    check_alarms("sip-devicetlinfo-alarm.pcap", true);
}

#[test]
fn two_phones_tcp_alarm_is_collected() {
    check_alarms("two-phones-voice-vlan.pcap", true);
}

#[test]
fn two_phones_udp_alarm_is_collected() {
    check_alarms("two-phones-voice-vlan.pcap", false);
}

/// The engineer's options of a README run, as the diagnosis takes them.
fn operator_facts(args: &[String]) -> OperatorFacts {
    let mut facts = OperatorFacts::default();
    let mut it = args.iter();
    while let Some(opt) = it.next() {
        let value = it.next().expect("option value");
        match opt.as_str() {
            "--phone-itl" => {
                facts.phone_itl = Some(PhoneItlFile {
                    name: value.clone(),
                    bytes: std::fs::read(repo().join(value)).expect("phone ITL file"),
                })
            }
            "--phone-ctl" => {
                facts.phone_ctl = Some(PhoneItlFile {
                    name: value.clone(),
                    bytes: std::fs::read(repo().join(value)).expect("phone CTL file"),
                })
            }
            "--phone-itl-hash" => facts.phone_itl_hash = Some(ItlHash::parse(value).expect("hash")),
            "--phone-status" => facts.phone_status = PhoneStatus::parse(value).expect("status"),
            "--key-backup" => facts.key_backup = KeyBackup::parse(value).expect("backup"),
            "--evidence" => {
                let more = itlscope::sidecar::ingest_paths(
                    &[repo().join(value)],
                    &itlscope::sidecar::Limits::default(),
                )
                .expect("evidence file");
                // Named as the CLI names it (relative to the repository root).
                let mut more = more;
                for f in &mut more.files {
                    f.path = value.clone();
                }
                facts.side.files.extend(more.files);
                facts.side.facts.extend(more.facts);
                facts.side.cli_lists.extend(more.cli_lists);
                facts.side.cli_actions.extend(more.cli_actions);
                facts.side.certificates.extend(more.certificates);
            }
            other => panic!("unknown option {other}"),
        }
    }
    facts
}

/// The README verdicts, from the library's collector and diagnosis (no CLI).
fn check_verdicts(file: &str) {
    let s = catalog::by_file(file).expect("scenario");
    let got = collect(file);
    let evidence = Evidence {
        captures: Vec::new(),
        files: got.files,
        tls: got.tls,
        tls_aggregates: got.tls_aggregates,
        losses: got.losses,
        alarms: got.alarms,
        registrations: got.registrations,
        sip_registrations: got.sip_registrations,
    };
    for run in &s.runs {
        let text = run_analyze(&evidence, &operator_facts(&run.args), OutputFormat::Json);
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        scenarios_support::check_verdicts(file, run, &json);
    }
}

macro_rules! library_tests {
    ($($name:ident, $(#[$meta:meta])* $verdict:ident => $file:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check($file);
            }

            #[test]
            $(#[$meta])*
            fn $verdict() {
                check_verdicts($file);
            }
        )*

        #[test]
        fn every_scenario_has_a_library_test() {
            let listed = [$($file),*];
            for (file, _) in catalog::builders() {
                assert!(listed.contains(&file), "no library test for {file}");
            }
        }
    };
}

library_tests! {
    healthy_tftp_boot, healthy_tftp_boot_verdict => "healthy-tftp-boot.pcap",
    healthy_http_boot, healthy_http_boot_verdict => "healthy-http-boot.pcap",
    cm_regenerated_tvs_ok, cm_regenerated_tvs_ok_verdict => "cm-regenerated-tvs-ok.pcap",
    cm_and_tvs_regenerated, cm_and_tvs_regenerated_verdict => "cm-and-tvs-regenerated.pcap",
    hostname_change_single_node, hostname_change_single_node_verdict => "hostname-change-single-node.pcap",
    moved_cluster_unprepared, moved_cluster_unprepared_verdict => "moved-cluster-unprepared.pcap",
    moved_cluster_bulk_imported,
    moved_cluster_bulk_imported_verdict => "moved-cluster-bulk-imported.pcap",
    centralized_tftp_itlfile, centralized_tftp_itlfile_verdict => "centralized-tftp-itlfile.pcap",
    rollback_itl, rollback_itl_verdict => "rollback-itl.pcap",
    rebuilt_without_key, rebuilt_without_key_verdict => "rebuilt-without-key.pcap",
    tvs_tls13, tvs_tls13_verdict => "tvs-tls13.pcap",
    encrypted_config, encrypted_config_verdict => "encrypted-config.pcap",
    expired_tvs_cert, expired_tvs_cert_verdict => "expired-tvs-cert.pcap",
    lossy_capture, lossy_capture_verdict => "lossy-capture.pcap",
    two_phones_voice_vlan,
    two_phones_voice_vlan_verdict => "two-phones-voice-vlan.pcap",
    healthy_tftp_boot_pcapng, healthy_tftp_boot_pcapng_verdict => "healthy-tftp-boot.pcapng",
    healthy_tftp_boot_sll2, healthy_tftp_boot_sll2_verdict => "healthy-tftp-boot-sll2.pcap",
    healthy_tftp_boot_ipv6, healthy_tftp_boot_ipv6_verdict => "healthy-tftp-boot-ipv6.pcap",
    healthy_tftp_boot_erspan, healthy_tftp_boot_erspan_verdict => "healthy-tftp-boot-erspan.pcap",
    boot_loop, boot_loop_verdict => "boot-loop.pcap",
    transfer_stall, transfer_stall_verdict => "transfer-stall.pcap",
    tftp_blksize_fragmented, tftp_blksize_fragmented_verdict => "tftp-blksize-fragmented.pcap",
    sip_devicetlinfo_alarm,
    sip_devicetlinfo_alarm_verdict => "sip-devicetlinfo-alarm.pcap",
    tvs_unreachable, tvs_unreachable_verdict => "tvs-unreachable.pcap",
    tvs_tls_version_mismatch, tvs_tls_version_mismatch_verdict => "tvs-tls-version-mismatch.pcap",
    two_node_one_tvs_regenerated, two_node_one_tvs_regenerated_verdict => "two-node-one-tvs-regenerated.pcap",
    mixed_mode_ctl_not_rerun, mixed_mode_ctl_not_rerun_verdict => "mixed-mode-ctl-not-rerun.pcap",
    mixed_mode_ctl_rerun, mixed_mode_ctl_rerun_verdict => "mixed-mode-ctl-rerun.pcap",
    tvs_silent_fin, tvs_silent_fin_verdict => "tvs-silent-fin.pcap",
    tvs_silent_rst, tvs_silent_rst_verdict => "tvs-silent-rst.pcap",
    stale_served_itl, stale_served_itl_verdict => "stale-served-itl.pcap",
    tvs_tls13_completed, tvs_tls13_completed_verdict => "tvs-tls13-completed.pcap",
    itlrecovery_12_5, itlrecovery_12_5_verdict => "itlrecovery-12-5.pcap",
    cm_group_single_node, cm_group_single_node_verdict => "cm-group-single-node.pcap",
}
