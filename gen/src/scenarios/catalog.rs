//! The scenarios, as data. Each function builds one [`Scenario`]: the clusters involved, the
//! phone's steps, the side files and the expected verdicts under the options an engineer
//! would pass.

use super::boot::{HttpStep, Step, TftpStep, fetch, sha1_hex, tvs_session};
use super::cluster::{Cluster, ItlSigner};
use super::paths;
use super::phone::Phone;
use super::sidecar;
use super::{PhoneBoot, Run, Scenario, Verdict};
use crate::conv::http::HttpAnswer;
use crate::conv::sip::DeviceTlInfo;
use crate::conv::tcp::TcpImpair;
use crate::conv::tls_session::TlsOutcome;
use crate::conv::{Format, Framing, MS, SEC, Side};
use crate::pki::{CertSpec, KeyName};
use crate::tls::{alert, version};
use crate::tunnel::Encap;
use time::macros::datetime;

pub use super::common::T0;
// The helpers every scenario file shares live below this file (paths.rs and loops.rs take
// them from there too); named from here as well for span.rs.
pub(crate) use super::common::*;

/// A scenario builder.
pub type Builder = fn() -> Scenario;

/// Every scenario's capture file name and builder, in README order (build one without
/// building all).
pub fn builders() -> Vec<(&'static str, Builder)> {
    vec![
        ("healthy-tftp-boot.pcap", || {
            healthy_tftp("healthy-tftp-boot.pcap", Format::Pcap, eth(), false, true)
        }),
        ("healthy-http-boot.pcap", healthy_http),
        ("cm-regenerated-tvs-ok.pcap", cm_regenerated_tvs_ok),
        ("cm-and-tvs-regenerated.pcap", cm_and_tvs_regenerated),
        ("hostname-change-single-node.pcap", hostname_change),
        ("moved-cluster-unprepared.pcap", moved_cluster),
        ("moved-cluster-bulk-imported.pcap", moved_cluster_prepared),
        ("centralized-tftp-itlfile.pcap", centralized_tftp),
        ("rollback-itl.pcap", rollback_itl),
        ("rebuilt-without-key.pcap", rebuilt_without_key),
        ("tvs-tls13.pcap", tvs_tls13),
        ("encrypted-config.pcap", encrypted_config),
        ("expired-tvs-cert.pcap", expired_tvs),
        ("lossy-capture.pcap", lossy),
        ("two-phones-voice-vlan.pcap", two_phones_vlan),
        ("healthy-tftp-boot.pcapng", || {
            healthy_tftp(
                "healthy-tftp-boot.pcapng",
                Format::PcapNg,
                eth(),
                false,
                false,
            )
        }),
        ("healthy-tftp-boot-sll2.pcap", || {
            healthy_tftp(
                "healthy-tftp-boot-sll2.pcap",
                Format::Pcap,
                Framing::Sll2,
                false,
                false,
            )
        }),
        ("healthy-tftp-boot-ipv6.pcap", || {
            healthy_tftp(
                "healthy-tftp-boot-ipv6.pcap",
                Format::Pcap,
                eth(),
                true,
                false,
            )
        }),
        ("healthy-tftp-boot-erspan.pcap", || {
            healthy_tftp(
                "healthy-tftp-boot-erspan.pcap",
                Format::Pcap,
                Framing::Tunnel {
                    encap: Encap::ErspanII { vlan: 100 },
                    vlans: vec![100],
                },
                false,
                false,
            )
        }),
        ("tftp-blksize-fragmented.pcap", blksize_fragmented),
        ("sip-devicetlinfo-alarm.pcap", sip_alarm),
        ("tvs-unreachable.pcap", tvs_unreachable),
        ("tvs-tls-version-mismatch.pcap", tvs_version_mismatch),
        ("boot-loop.pcap", boot_loop),
        ("transfer-stall.pcap", transfer_stall),
        (
            "two-node-one-tvs-regenerated.pcap",
            paths::two_node_one_tvs_regenerated,
        ),
        (
            "mixed-mode-ctl-not-rerun.pcap",
            paths::mixed_mode_ctl_not_rerun,
        ),
        ("mixed-mode-ctl-rerun.pcap", paths::mixed_mode_ctl_rerun),
        ("tvs-silent-fin.pcap", || {
            paths::tvs_silent("tvs-silent-fin", false)
        }),
        ("tvs-silent-rst.pcap", || {
            paths::tvs_silent("tvs-silent-rst", true)
        }),
        ("stale-served-itl.pcap", paths::stale_served_itl),
        ("tvs-tls13-completed.pcap", paths::tvs_tls13_completed),
        ("itlrecovery-12-5.pcap", paths::itlrecovery_12_5),
        ("cm-group-single-node.pcap", paths::cm_group_single_node),
    ]
}

/// Every scenario, in README order.
pub fn all() -> Vec<Scenario> {
    builders().into_iter().map(|(_, build)| build()).collect()
}

/// The scenario whose capture is `file`.
pub fn by_file(file: &str) -> Option<Scenario> {
    builders()
        .into_iter()
        .find(|(name, _)| *name == file)
        .map(|(_, build)| build())
}

/// Whether a run is given the ITL the phone holds (the scenario's side file).
#[derive(Clone, Copy)]
enum PhoneItl {
    Given,
    NotGiven,
}
use PhoneItl::{Given, NotGiven};

/// A one-phone scenario `<stem>.pcap` whose side file is `phone_itl`, the ITL the phone
/// holds. Each run lists its options (after `--phone-itl <side file>` when the ITL is
/// given) and the phone's expected conditions.
fn phone_itl_scenario(
    stem: &str,
    shows: &str,
    phone: Phone,
    steps: Vec<Step>,
    phone_itl: Vec<u8>,
    runs: &[(PhoneItl, &str, [Option<bool>; 4])],
    seed: u64,
) -> Scenario {
    let mac = phone.mac_hex();
    let itl_arg = phone_itl_arg(stem);
    let runs = runs
        .iter()
        .map(|&(itl, options, conditions)| {
            let args = match itl {
                Given => format!("{itl_arg} {options}"),
                NotGiven => options.to_owned(),
            };
            Run::new(&args, vec![Verdict::new(&mac, conditions)])
        })
        .collect();
    let s = one_phone(&format!("{stem}.pcap"), shows, phone, steps, runs, seed);
    with_phone_itl(s, phone_itl)
}

fn healthy_tftp(
    file: &str,
    format: Format,
    framing: Framing,
    ipv6: bool,
    side_file: bool,
) -> Scenario {
    let (phone, c) = if ipv6 {
        (
            Phone::cp7962(0x21, "2001:db8:100::21"),
            Cluster::new(A_HOST, A_IP6, ItlSigner::ItlRecovery),
        )
    } else {
        (Phone::cp7962(0x21, "192.0.2.21"), cluster_a())
    };
    let itl = c.itl();
    let mut steps = trust_list_fetches(&phone, &c.node, &itl);
    steps.extend(config_fetch(&phone, &c));
    steps.push(Step::Pause(3 * SEC));
    steps.push(directory_via_tvs(
        &phone,
        &c,
        completed(vec![(420, 2900)]),
        completed(vec![]),
        11,
    ));
    let mac = phone.mac_hex();
    let what = match (format, &framing, ipv6) {
        (_, _, true) => "The healthy TFTP boot over IPv6.",
        (Format::PcapNg, _, _) => "The healthy TFTP boot, written as pcapng.",
        (_, Framing::Tunnel { .. }, _) => {
            "The healthy TFTP boot, mirrored from a remote site's switch by ERSPAN type II over GRE (voice VLAN 100 in the ERSPAN header); mirrored frames over 1,450 bytes arrive as two IP fragments."
        }
        (_, Framing::Sll2, _) => {
            "The healthy TFTP boot, captured with `tcpdump -i any` (Linux SLL2)."
        }
        _ => {
            "Healthy TFTP boot of a 7962: CTLSEP not found, ITLSEP, signed config; later the corporate directory on 8443, whose Tomcat certificate the phone has TVS (2445) verify."
        }
    };
    let mut runs = vec![Run::new("", vec![Verdict::new(&mac, [N, F, N, N])])];
    if side_file {
        runs.push(Run::new(
            &format!(
                "{} --phone-status ok --key-backup yes",
                phone_itl_arg("healthy-tftp-boot")
            ),
            vec![Verdict::new(&mac, [F, F, F, F])],
        ));
    } else {
        runs.push(Run::new(
            "--phone-status ok",
            vec![Verdict::new(&mac, [N, F, F, N])],
        ));
    }
    let mut s = one_phone(file, what, phone, steps, runs, 1);
    s.format = format;
    s.framing = framing;
    if side_file { with_phone_itl(s, itl) } else { s }
}

fn healthy_http() -> Scenario {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let c = cluster_a();
    let mut steps = trust_list_fetches(&phone, &c.node, &c.itl());
    steps.push(Step::Http(HttpStep {
        server: c.node,
        name: sgn_name(&phone),
        answer: HttpAnswer {
            status: 200,
            body: c.config_sgn(&phone, false, 9000),
            chunked: Some(4096),
        },
        impair: TcpImpair::default(),
    }));
    let mac = phone.mac_hex();
    let log = sidecar::healthy_console_log(&phone, &c, &c.itl());
    let s = one_phone(
        "healthy-http-boot.pcap",
        "Healthy boot of an 8845 over HTTP 6970: CTLSEP gets 503 and falls back to TFTP (File not found), ITLSEP and the signed config (chunked) over HTTP. No TVS traffic (cached). `.console.log`: the phone's console log of the same boot (ITL and config authenticated, DeviceTLInfo with the served ITL's SHA-1 split across two entries); it alone settles the verdict.",
        phone,
        steps,
        vec![
            Run::new("", vec![Verdict::new(&mac, [N, N, N, N])]),
            Run::new("--phone-status ok", vec![Verdict::new(&mac, [N, N, F, N])]),
        ],
        2,
    );
    with_evidence(
        s,
        "console.log",
        log.into_bytes(),
        &[("--evidence {ev}", [F, N, F, N])],
    )
}

fn cm_regenerated_tvs_ok() -> Scenario {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_query(
        &phone,
        &new,
        &new,
        Some(new.certs.callmanager.der.len()),
        31,
    ));
    steps.extend(config_fetch(&phone, &new));
    let status = sidecar::status_messages_updated(&phone);
    let s = phone_itl_scenario(
        "cm-regenerated-tvs-ok",
        "CUCM 11.5: CallManager certificate regenerated, TVS unchanged. The new ITL is signed by a key the phone does not know; the phone asks TVS (handshake completes, certificate matches its ITL) and accepts it. `.status-messages.txt`: the phone's Status Messages (\"Trust List Updated\"); contradicted by `--phone-status failed`, condition 3 becomes a conflict.",
        phone,
        steps,
        old.itl(),
        &[
            (Given, "--phone-status ok --key-backup no", [T, F, F, T]),
            (NotGiven, "", [N, F, N, N]),
        ],
        3,
    );
    with_evidence(
        s,
        "status-messages.txt",
        status.into_bytes(),
        &[
            ("{itl} --evidence {ev} --key-backup no", [T, F, F, T]),
            (
                "{itl} --evidence {ev} --phone-status failed --key-backup no",
                [T, F, N, T],
            ),
        ],
    )
}

fn cm_and_tvs_regenerated() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager().regenerate_tvs();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &new,
        Some(alert::UNKNOWN_CA),
        false,
        600,
        41,
    ));
    steps.extend(config_fetch(&phone, &new));
    let s = phone_itl_scenario(
        "cm-and-tvs-regenerated",
        "CUCM 11.5: CallManager and TVS regenerated together. TVS presents a certificate that is not in the phone's ITL (split over two records); the phone sends a fatal unknown_ca alert right after it.",
        phone,
        steps,
        old.itl(),
        &[
            (Given, "--phone-status failed --key-backup no", [T, T, T, T]),
            (
                Given,
                "--phone-status failed --key-backup yes",
                [T, T, T, F],
            ),
            // The served ITL is never assumed to be the phone's; the phone's unknown_ca
            // right after TVS's Certificate is a rejection, and no TVS it reached is
            // trusted (statement 21, issue 18).
            (NotGiven, "", [N, T, N, N]),
        ],
        4,
    );
    // The phone's ITL holds the ITLRecovery certificate the cluster still serves (only
    // CallManager and TVS were regenerated): `utils itl reset localkey` recovers it
    // (phone-behaviour.md 4.3), so deleting the ITL by hand is not required.
    debug_assert_eq!(old.certs.itl_recovery, new.certs.itl_recovery);
    set_recovery(s, 0, F)
}

fn hostname_change() -> Scenario {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let old = cluster_a();
    let host = "cucm-a.example.com";
    let mut new = Cluster::new(host, A_IP, ItlSigner::ItlRecovery);
    new.certs.callmanager = CertSpec::callmanager(host)
        .with_key(KeyName::CallManagerRegenerated)
        .with_serial(&[0x70, 0x11, 0x2c, 0x5a, 0x09, 0x44, 0x81, 0x3b])
        .self_signed();
    new.certs.tvs = CertSpec::tvs(host)
        .with_key(KeyName::TvsRegenerated)
        .with_serial(&[0x71, 0x0e, 0x93, 0x27, 0xc4, 0x18])
        .self_signed();
    new.certs.itl_recovery = CertSpec::itl_recovery(host)
        .with_serial(&[0x72, 0x33, 0x10, 0x8f, 0x61, 0x05, 0xaa])
        .self_signed();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &old,
        Some(alert::BAD_CERTIFICATE),
        false,
        16384,
        51,
    ));
    steps.extend(config_fetch(&phone, &new));
    let prt = sidecar::hostname_change_prt(&phone, &new, &new.itl(), &old.itl());
    let served_sha1 = sidecar::sha1_hex(&new.itl());
    let s = phone_itl_scenario(
        "hostname-change-single-node",
        "Single-node cluster renamed cucm-pub → cucm-a without the rollback parameter: every certificate regenerated at once, the new ITL's signer unknown to the phone, TVS's new certificate rejected (bad_certificate). `.probrep-20260302-090200.tar.gz`: the phone's PRT bundle (nested logs.tar.gz with the console log and a rotated .gz, Status Messages, a screenshot): its logged DeviceTLInfo gives the ITL the phone still holds, its Status Messages the verification failure; a contradicting `--phone-itl-hash`/`--phone-status` is shown as a conflict.",
        phone,
        steps,
        old.itl(),
        &[(Given, "--phone-status failed --key-backup no", [T, T, T, T])],
        5,
    );
    let conflict = format!(
        "--evidence {{ev}} --phone-itl-hash {served_sha1} --phone-status ok --key-backup no"
    );
    let s = with_evidence(
        s,
        "probrep-20260302-090200.tar.gz",
        prt,
        &[
            // The phone rejected TVS (bad_certificate) and trusts none: condition 2 from
            // its behaviour; whether its ITL holds a still-served ITLRecovery is unknown
            // while that ITL is known only by hash.
            ("--evidence {ev} --key-backup no", [T, T, T, T]),
            ("{itl} --evidence {ev} --key-backup no", [T, T, T, T]),
            (&conflict, [N, T, N, T]),
        ],
    );
    // A hostname change regenerates ITLRecovery too (statement 28): with the phone's ITL
    // known, every path is closed.
    let s = set_recovery(s, 0, T);
    let s = set_recovery(s, 1, N);
    let s = set_recovery(s, 2, T);
    set_recovery(s, 3, N)
}

fn moved_cluster() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let home = cluster_a();
    let b = other_cluster("cucm-b.example.net", "198.51.100.20", 0xb0);
    let mut steps = trust_list_fetches(&phone, &b.node, &b.itl());
    // The phone asks the TVS of its old configuration (cluster A), which does not know B.
    steps.push(tvs_query(&phone, &home, &home, None, 61));
    let hash_run = format!(
        "--phone-itl-hash {} --phone-status failed --key-backup no",
        sidecar::md5_hex(&home.itl())
    );
    steps.extend(config_fetch(&phone, &b));
    let mut s = phone_itl_scenario(
        "moved-cluster-unprepared",
        "Phone moved from cluster A to cluster B without bulk certificate export: B's ITL is signed by a key the phone does not trust; the old TVS (A) answers but does not know B's signer (short answer).",
        phone,
        steps,
        home.itl(),
        &[
            (
                Given,
                "--phone-status failed --key-backup yes",
                [T, F, T, F],
            ),
            (Given, "--phone-status failed --key-backup no", [T, F, T, T]),
            // statement 16: the hash read off the phone; the phone completed the
            // handshake with its home TVS, so it trusts it (statement 21).
            (NotGiven, &hash_run, [T, F, T, T]),
        ],
        6,
    );
    // The target cluster's ITL, for `itlscope plan --move-to`.
    let target = format!("{}.target-itl.tlv", s.stem());
    s.side_files.push((target, b.itl()));
    s
}

/// The same move done the documented way: B's CallManager and ITLRecovery certificates were
/// exported with Bulk Certificate Management and imported into A, so A's TVS vouches for B's
/// signer (its answer carries the certificate).
fn moved_cluster_prepared() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let home = cluster_a();
    let b = other_cluster("cucm-b.example.net", "198.51.100.20", 0xb0);
    let mut steps = trust_list_fetches(&phone, &b.node, &b.itl());
    steps.push(tvs_query(
        &phone,
        &home,
        &home,
        Some(b.certs.itl_recovery.der.len()),
        63,
    ));
    steps.extend(config_fetch(&phone, &b));
    let mut s = phone_itl_scenario(
        "moved-cluster-bulk-imported",
        "Phone moved from cluster A to cluster B after Bulk Certificate Management (B's CallManager and ITLRecovery imported into A): B's ITL is signed by a key the phone does not hold; the phone asks the TVS of its old configuration (A), whose certificate matches its ITL, and takes B's ITL.",
        phone,
        steps,
        home.itl(),
        &[(Given, "--phone-status ok --key-backup yes", [T, F, F, F])],
        64,
    );
    // The target cluster's ITL, for `itlscope plan --move-to`.
    let target = format!("{}.target-itl.tlv", s.stem());
    s.side_files.push((target, b.itl()));
    s
}

fn centralized_tftp() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let home = cluster_a();
    let central = other_cluster("cucm-central.example.org", "198.51.100.30", 0xc0);
    let node = central.node;
    let mut steps = fetch(&phone, &node, &ctl_name(&phone), None, 404);
    steps.extend(fetch(&phone, &node, &itl_name(&phone), None, 404));
    steps.extend(fetch(
        &phone,
        &node,
        "ITLFile.tlv",
        Some(&central.itl()),
        404,
    ));
    steps.extend(fetch(&phone, &node, "CTLFile.tlv", None, 404));
    steps.push(tvs_query(&phone, &home, &home, None, 71));
    steps.extend(config_fetch(&phone, &central));
    let hash_run = format!(
        "--phone-itl-hash {} --phone-status failed --key-backup no",
        sidecar::md5_hex(&home.itl())
    );
    phone_itl_scenario(
        "centralized-tftp-itlfile",
        "Centralized TFTP of another cluster: ITLSEP not found, the phone falls back to ITLFile.tlv, signed by the central cluster; its home TVS cannot vouch for that signer.",
        phone,
        steps,
        home.itl(),
        &[
            (
                Given,
                "--phone-status failed --key-backup yes",
                [T, F, T, F],
            ),
            // statement 16/21: the hash read off the phone must give the same answer as
            // the file; the phone completed the handshake with its home TVS.
            (NotGiven, &hash_run, [T, F, T, T]),
            (NotGiven, "", [N, F, N, N]),
        ],
        7,
    )
}

fn rollback_itl() -> Scenario {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let normal = cluster_a();
    let mut rb = cluster_a();
    rb.rollback = true;
    let mut steps = trust_list_fetches(&phone, &rb.node, &rb.itl());
    let cnf = format!("{}.cnf.xml", phone.device_name());
    steps.extend(fetch(
        &phone,
        &rb.node,
        &cnf,
        Some(&rb.config_xml(&phone, false, 0)),
        404,
    ));
    phone_itl_scenario(
        "rollback-itl",
        "Prepare Cluster for Rollback set: the cluster serves a signed ITL with empty function records; the phone accepts it and then asks for the unsigned `SEP<MAC>.cnf.xml`.",
        phone,
        steps,
        normal.itl(),
        &[(Given, "--phone-status ok", [T, N, F, N])],
        8,
    )
}

fn rebuilt_without_key() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let old = cluster_a11();
    let mut new = cluster_a11();
    new.certs.callmanager = CertSpec::callmanager(A_HOST)
        .with_key(KeyName::CallManagerRegenerated)
        .with_serial(&[0x0b, 0x5e, 0x2d, 0x90, 0x11, 0x73, 0x6a, 0x04])
        .self_signed();
    new.certs.tvs = CertSpec::tvs(A_HOST)
        .with_key(KeyName::TvsRegenerated)
        .with_serial(&[0x0c, 0x61, 0x48, 0x02, 0xfd, 0x39])
        .self_signed();
    new.certs.itl_recovery = CertSpec::itl_recovery(A_HOST)
        .with_key(KeyName::Rsa4096)
        .with_serial(&[0x0d, 0x19, 0x7b, 0x30])
        .self_signed();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &old,
        Some(alert::CERTIFICATE_UNKNOWN),
        true,
        16384,
        91,
    ));
    steps.extend(config_fetch(&phone, &new));
    let s = phone_itl_scenario(
        "rebuilt-without-key",
        "TFTP node rebuilt without restoring CallManager.pem (CSCtn50405): new CallManager, TVS and ITLRecovery keys; the phone rejects TVS (certificate_unknown, then RST).",
        phone,
        steps,
        old.itl(),
        &[(Given, "--phone-status failed --key-backup no", [T, T, T, T])],
        9,
    );
    // Every key regenerated, ITLRecovery too: every path is closed.
    set_recovery(s, 0, T)
}

fn tvs_tls13() -> Scenario {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager();
    let steps = tls13_tvs_boot(&phone, &new, 101);
    let tvs_pem = sidecar::pem(&new.certs.tvs);
    let tvs_der = new.certs.tvs.der.clone();
    let show_itl = sidecar::show_itl(&new);
    let s = phone_itl_scenario(
        "tvs-tls13",
        "CUCM 15SU2 with a TLS 1.3 phone (CTLSEP answered 404 over HTTP): the TVS session is TLS 1.3, so its certificate is encrypted and cannot be compared (CallManager regenerated before the capture). `.tvs.pem` / `.tvs.der`: TVS's certificate exported from CUCM, which settles the TVS condition; `.show-itl.txt`: `show itl` on the node, matching the ITL on the wire.",
        phone,
        steps,
        old.itl(),
        // TLS 1.3 completed with application data both ways: the phone trusts that TVS
        // (statement 12, issue 18 item 8), although its certificate is encrypted.
        &[(Given, "--phone-status failed --key-backup no", [T, F, T, T])],
        10,
    );
    let s = with_evidence(
        s,
        "tvs.pem",
        tvs_pem,
        &[(
            "{itl} --phone-status failed --key-backup no --evidence {ev}",
            [T, F, T, T],
        )],
    );
    let s = with_evidence(
        s,
        "tvs.der",
        tvs_der,
        &[(
            "{itl} --phone-status failed --key-backup no --evidence {ev}",
            [T, F, T, T],
        )],
    );
    with_evidence(
        s,
        "show-itl.txt",
        show_itl.into_bytes(),
        &[(
            "{itl} --phone-status failed --key-backup no --evidence {ev}",
            [T, F, T, T],
        )],
    )
}

fn encrypted_config() -> Scenario {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let c = cluster_a();
    let mut steps = trust_list_fetches(&phone, &c.node, &c.itl());
    steps.extend(fetch(
        &phone,
        &c.node,
        &sgn_name(&phone),
        Some(&c.config_stub_sgn(&phone)),
        404,
    ));
    let enc = format!("{}.cnf.xml.enc.sgn", phone.device_name());
    steps.extend(fetch(
        &phone,
        &c.node,
        &enc,
        Some(&c.config_enc_sgn(&phone)),
        404,
    ));
    let mac = phone.mac_hex();
    one_phone(
        "encrypted-config.pcap",
        "TFTP Encrypted Config on: the signed short config says encrConfig (certHash = MD5 of the phone's MIC), then the phone fetches `SEP<MAC>.cnf.xml.enc.sgn` (AES-128-CBC, key RSA-encrypted to the MIC).",
        phone,
        steps,
        vec![Run::new(
            "--phone-status ok",
            vec![Verdict::new(&mac, [N, N, F, N])],
        )],
        11,
    )
}

fn expired_tvs() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let c = cluster_a().tvs_validity(
        datetime!(2016-01-01 00:00:00 UTC),
        datetime!(2026-01-01 00:00:00 UTC),
    );
    let itl = c.itl();
    let mut steps = trust_list_fetches(&phone, &c.node, &itl);
    steps.extend(config_fetch(&phone, &c));
    steps.push(Step::Pause(2 * SEC));
    steps.push(directory_via_tvs(
        &phone,
        &c,
        TlsOutcome::ClientRejects {
            description: Some(alert::CERTIFICATE_UNKNOWN),
            reset: false,
        },
        TlsOutcome::ClientRejects {
            description: Some(alert::CERTIFICATE_EXPIRED),
            reset: false,
        },
        121,
    ));
    let mac = phone.mac_hex();
    one_phone(
        "expired-tvs-cert.pcap",
        "The TVS certificate (the one in the ITL) expired on 2026-01-01: the phone rejects it (certificate_expired), so the directory on 8443 fails too. Same ITL on phone and server.",
        phone,
        steps,
        vec![Run::new(
            &format!(
                "--phone-itl-hash {} --phone-status failed --key-backup yes",
                sha1_hex(&itl)
            ),
            vec![Verdict::new(&mac, [F, F, T, F])],
        )],
        12,
    )
}

fn lossy() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let c = cluster_a();
    let itl = c.itl();
    let mut steps = fetch(&phone, &c.node, &ctl_name(&phone), None, 404);
    steps.push(Step::Tftp(TftpStep {
        server: c.node,
        name: itl_name(&phone),
        body: Some(itl.clone()),
        options: Vec::new(),
        missed_blocks: vec![3],
        resent_blocks: vec![5],
    }));
    steps.push(Step::Tftp(TftpStep {
        server: c.node,
        name: sgn_name(&phone),
        body: Some(c.config_sgn(&phone, false, 0)),
        options: Vec::new(),
        missed_blocks: Vec::new(),
        resent_blocks: vec![2],
    }));
    steps.push(Step::Pause(3 * SEC));
    let mut dir = directory_via_tvs(
        &phone,
        &c,
        completed(vec![(420, 2900)]),
        completed(vec![]),
        131,
    );
    if let Step::TlsCheckedByTvs { https, tvs } = &mut dir {
        // 8443: the server's two handshake segments arrive swapped, and one segment of its
        // application data never reaches the capture.
        https.impair = TcpImpair {
            missed: vec![(Side::Server, 4)],
            retransmitted: Vec::new(),
            swapped_with_next: vec![(Side::Server, 0)],
        };
        // 2445: the server's flight is retransmitted after a timeout.
        tvs.impair = TcpImpair {
            missed: Vec::new(),
            retransmitted: vec![(Side::Server, 0)],
            swapped_with_next: Vec::new(),
        };
    }
    steps.push(dir);
    phone_itl_scenario(
        "lossy-capture",
        "Capture with losses: ITLSEP block 3 missing from the capture (and block 5 resent by the server), the signed config's block 2 resent; on 8443 the server's handshake segments arrive out of order and one of its data segments is missing; on 2445 the server's flight is retransmitted.",
        phone,
        steps,
        itl,
        &[(Given, "--phone-status ok", [N, F, F, N])],
        13,
    )
}

fn two_phones_vlan() -> Scenario {
    let a = Phone::cp8845(0x22, "192.0.2.22");
    let b = Phone::cp7962(0x21, "192.0.2.21");
    let c = cluster_a();
    let itl = c.itl();
    let staging = other_cluster("cucm-stage.example.net", "198.51.100.40", 0x5a);
    let mut sa = trust_list_fetches(&a, &c.node, &itl);
    sa.extend(config_fetch(&a, &c));
    sa.push(Step::Pause(2 * SEC));
    sa.push(Step::Alarm {
        cucm: c.node,
        tcp: true,
        alarm: DeviceTlInfo {
            device_name: a.device_name(),
            model: format!("CP{}", a.model),
            firmware: a.firmware.clone(),
            itl_signature: Some(sha1_bytes(&itl)),
            itl_tftp_server: A_HOST.into(),
            ctl_signature: None,
            status_code: 1,
        },
    });
    let mut sb = trust_list_fetches(&b, &c.node, &itl);
    sb.push(Step::Unanswered {
        server: staging.node,
        port: 2445,
        retries: 2,
    });
    sb.extend(config_fetch(&b, &c));
    sb.push(Step::Pause(SEC));
    sb.push(Step::Alarm {
        cucm: c.node,
        tcp: false,
        alarm: DeviceTlInfo {
            device_name: b.device_name(),
            model: format!("CP{}", b.model),
            firmware: b.firmware.clone(),
            itl_signature: Some(sha1_bytes(&staging.itl())),
            itl_tftp_server: "cucm-stage.example.net".into(),
            ctl_signature: None,
            status_code: 8,
        },
    });
    let (ma, mb) = (a.mac_hex(), b.mac_hex());
    Scenario {
        file: "two-phones-voice-vlan.pcap".into(),
        shows: "SPAN of voice VLAN 100 (802.1Q): an 8845 boots cleanly and reports the served ITL's hash over SIP/TCP; a 7962 staged on a lab cluster cannot reach the lab's TVS (SYN unanswered) and reports the lab ITL's hash over SIP/UDP (StatusCode 8).".into(),
        format: Format::Pcap,
        framing: Framing::Ethernet { vlans: vec![100] },
        phones: vec![
            PhoneBoot {
                phone: a,
                steps: sa,
                start: T0,
            },
            PhoneBoot {
                phone: b,
                steps: sb,
                start: T0 + 1300 * MS,
            },
        ],
        side_files: Vec::new(),
        runs: vec![Run::new(
            "",
            vec![Verdict::new(&ma, [F, N, N, N]), Verdict::new(&mb, [T, N, N, N])],
        )],
        seed: 14,
    }
}

fn blksize_fragmented() -> Scenario {
    let mut phone = Phone::cp7821(0x23, "192.0.2.23");
    phone.http_first = false;
    let c = cluster_a();
    let opts = || {
        vec![
            ("blksize".to_owned(), "8192".to_owned()),
            ("tsize".to_owned(), "0".to_owned()),
        ]
    };
    let tftp = |name: String, body: Option<Vec<u8>>| {
        Step::Tftp(TftpStep {
            server: c.node,
            name,
            body,
            options: opts(),
            missed_blocks: Vec::new(),
            resent_blocks: Vec::new(),
        })
    };
    let steps = vec![
        tftp(ctl_name(&phone), None),
        tftp(itl_name(&phone), Some(c.itl())),
        tftp(sgn_name(&phone), Some(c.config_sgn(&phone, false, 20_000))),
    ];
    let mac = phone.mac_hex();
    one_phone(
        "tftp-blksize-fragmented.pcap",
        "TFTP with options: blksize 8192 and tsize acknowledged by OACK; each 8 KB block travels as six IP fragments.",
        phone,
        steps,
        vec![Run::new(
            "--phone-status ok",
            vec![Verdict::new(&mac, [N, N, F, N])],
        )],
        18,
    )
}

fn sip_alarm() -> Scenario {
    let phone = Phone::cp7821(0x23, "192.0.2.23");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager().regenerate_tvs();
    let old_itl = old.itl();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &new,
        Some(alert::UNKNOWN_CA),
        false,
        16384,
        191,
    ));
    steps.extend(config_fetch(&phone, &new));
    steps.push(Step::Pause(2 * SEC));
    steps.push(Step::Alarm {
        cucm: new.node,
        tcp: true,
        alarm: DeviceTlInfo {
            device_name: phone.device_name(),
            model: format!("CP{}", phone.model),
            firmware: phone.firmware.clone(),
            itl_signature: Some(sha1_bytes(&old_itl)),
            itl_tftp_server: A_HOST.into(),
            ctl_signature: None,
            status_code: 8,
        },
    });
    let s = phone_itl_scenario(
        "sip-devicetlinfo-alarm",
        "CallManager and TVS regenerated; the 7821 rejects TVS, then reports over clear-text SIP (REFER, DeviceTLInfo) the SHA-1 of the ITL it still has (StatusCode 8, TL_FAILED_OLD_ITL).",
        phone,
        steps,
        old_itl,
        &[
            // The alarm alone proves the ITLs differ; the phone's unknown_ca after TVS's
            // Certificate is a rejection and it trusts no TVS (statement 21). Whether its
            // ITL holds a still-served ITLRecovery stays unknown (known only by hash).
            (
                NotGiven,
                "--phone-status failed --key-backup no",
                [T, T, T, T],
            ),
            (Given, "--phone-status failed --key-backup no", [T, T, T, T]),
        ],
        19,
    );
    // Only CallManager and TVS were regenerated: the phone's ITL holds the ITLRecovery
    // certificate the cluster still serves (`utils itl reset localkey`).
    let s = set_recovery(s, 0, N);
    set_recovery(s, 1, F)
}

fn tvs_unreachable() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(Step::Unanswered {
        server: new.node,
        port: 2445,
        retries: 2,
    });
    steps.extend(config_fetch(&phone, &new));
    let s = phone_itl_scenario(
        "tvs-unreachable",
        "CallManager regenerated while TVS is down: the phone's SYNs to 2445 go unanswered, so it cannot verify the new signer. A service problem, not a reason to delete.",
        phone,
        steps,
        old.itl(),
        &[(Given, "--phone-status failed --key-backup no", [T, N, T, T])],
        20,
    );
    // ITLRecovery unchanged and in the phone's ITL: a recovery path is open.
    set_recovery(s, 0, F)
}

fn tvs_version_mismatch() -> Scenario {
    let phone = Phone::cp7962(0x21, "192.0.2.21");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    // The 7962 offers at most TLS 1.0; TVS, raised to a TLS 1.2 minimum, refuses the hello.
    let mut tvs = tvs_session(
        &new.node,
        &new.certs.tvs.der,
        &new.phone_lsc(&phone).der,
        version::TLS10,
        211,
        TlsOutcome::ServerAlert {
            description: alert::HANDSHAKE_FAILURE,
        },
    );
    tvs.session.client_chain.clear();
    steps.push(Step::Tls(tvs));
    steps.extend(config_fetch(&phone, &new));
    let s = phone_itl_scenario(
        "tvs-tls-version-mismatch",
        "TLS minimum raised to 1.2 on CUCM while a 7962 speaks only TLS 1.0: TVS answers the ClientHello with a fatal handshake_failure alert (CSCua65618-like), so no certificate is seen and the new CallManager signer cannot be verified.",
        phone,
        steps,
        old.itl(),
        &[(Given, "--phone-status failed --key-backup no", [T, N, T, T])],
        21,
    );
    // ITLRecovery unchanged and in the phone's ITL: a recovery path is open.
    set_recovery(s, 0, F)
}

fn boot_loop() -> Scenario {
    let phone = Phone::cp7962(0x24, "192.0.2.24");
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager().regenerate_tvs();
    let steps = super::loops::boot_loop_steps(&phone, &new, 4, 44, 211);
    let s = phone_itl_scenario(
        "boot-loop",
        "CallManager and TVS regenerated together; the 7962 rejects TVS (unknown_ca) and starts over every ~45 s: CTLSEP, ITLSEP, TVS, signed config, four times, never going further (boot loop).",
        phone,
        steps,
        old.itl(),
        &[
            (Given, "--phone-status failed --key-backup no", [T, T, T, T]),
            // The phone rejects TVS (unknown_ca) and trusts none (statement 21).
            (NotGiven, "", [N, T, N, N]),
        ],
        21,
    );
    // ITLRecovery unchanged and in the phone's ITL: `utils itl reset localkey`.
    set_recovery(s, 0, F)
}

fn transfer_stall() -> Scenario {
    let phone = Phone::cp8845(0x25, "192.0.2.25");
    let c = cluster_a();
    let steps = super::loops::stall_steps(&phone, &c, 3, 20);
    let s = phone_itl_scenario(
        "transfer-stall",
        "The path to the TFTP server drops 1500-byte frames: the ITL stalls over HTTP (head and 256 bytes, then nothing; the phone resets) and over TFTP (blksize 1468: OACK, then no block), the signed config stalls too; the 8845 retries every ~45 s. An MTU problem, not a trust problem.",
        phone,
        steps,
        c.itl(),
        &[
            (Given, "--phone-status failed --key-backup no", [N, N, T, T]),
            (NotGiven, "", [N, N, N, N]),
        ],
        22,
    );
    // The served ITL never arrives whole: whether a path is open cannot be told.
    set_recovery(s, 0, N)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_four_scenarios_with_unique_files() {
        let all = all();
        for (s, (name, _)) in all.iter().zip(builders()) {
            assert_eq!(s.file, name, "builder table names its file");
        }
        // 25 scenarios, and issue 18's nine (two-node, two mixed mode, silent FIN/RST,
        // stale ITL, TLS 1.3 completed, 12.5 ITLRecovery, CallManager group of one).
        assert_eq!(all.len(), 34);
        let mut names: Vec<String> = all
            .iter()
            .flat_map(|s| s.files().into_iter().map(|f| f.0))
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "file names are unique");
    }

    #[test]
    fn captures_are_deterministic_and_small() {
        for s in all() {
            let a = s.capture();
            assert_eq!(a, s.capture(), "{}", s.file);
            assert!(a.len() < 120_000, "{} is {} bytes", s.file, a.len());
        }
    }
}
