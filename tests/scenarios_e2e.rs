//! End-to-end: the real `itlscope analyze --json` binary on every scenario capture, checked
//! against what the generator put in it (files, hashes, TLS versions, certificates, alerts:
//! the JSON contract of issue 4) and against the verdict the diagnosis contract of issue 5
//! gives under each option set listed in `captures/README.md`.
//!
//! The expectations are derived from the scenario data in `gen/src/scenarios/`, never from
//! the analyzer's output.

use itlscope_gen::scenarios::boot::{FileFact, TlsFact};
use itlscope_gen::scenarios::{Scenario, catalog};
use scenarios_support::{analyze_stdout, list, str_of};
use serde_json::Value;

mod scenarios_support;

/// Runs `itlscope analyze captures/FILE --json ARGS` from the repository root.
fn analyze(file: &str, args: &[String]) -> Value {
    let stdout = analyze_stdout(file, true, args);
    serde_json::from_slice(&stdout).unwrap_or_else(|e| {
        panic!(
            "{file}: output is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&stdout)
        )
    })
}

/// The host part of an "ip:port" / "[v6]:port" endpoint.
fn host_of(endpoint: &str) -> String {
    let host = endpoint.rsplit_once(':').map_or(endpoint, |(h, _)| h);
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned()
}

fn port_of(endpoint: &str) -> Option<u16> {
    endpoint.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

fn phone_ip(s: &Scenario, mac: &str) -> String {
    s.phones
        .iter()
        .find(|p| p.phone.mac_hex() == mac)
        .map(|p| p.phone.ip.clone())
        .expect("phone of the scenario")
}

const ALERT_NAMES: [(u8, &str); 6] = [
    (40, "handshake_failure"),
    (42, "bad_certificate"),
    (45, "certificate_expired"),
    (46, "certificate_unknown"),
    (48, "unknown_ca"),
    (70, "protocol_version"),
];

/// An alert description given as its code or its name.
fn alert_is(v: &Value, code: u8) -> bool {
    match v {
        Value::Number(n) => n.as_u64() == Some(u64::from(code)),
        Value::String(s) => {
            let norm = s.to_ascii_lowercase().replace([' ', '-'], "_");
            ALERT_NAMES
                .iter()
                .any(|(c, name)| *c == code && norm.contains(name))
        }
        _ => false,
    }
}

fn check_file(file: &str, json: &Value, ip: &str, fact: &FileFact) {
    let files = list(json, "files");
    let entry = files.iter().find(|f| {
        str_of(f, "name") == fact.name
            && str_of(f, "transport") == fact.transport
            && host_of(str_of(f, "client")) == ip
    });
    let Some(entry) = entry else {
        panic!(
            "{file}: no {} entry for {} from {ip} in files: {files:?}",
            fact.transport, fact.name
        );
    };
    assert_eq!(
        entry.get("complete").and_then(Value::as_bool),
        Some(fact.complete),
        "{file}: {} complete",
        fact.name
    );
    if let Some(sha1) = &fact.sha1 {
        assert_eq!(str_of(entry, "sha1"), sha1, "{file}: {} sha1", fact.name);
    }
    if let (Some(size), true) = (fact.size, fact.complete) {
        assert_eq!(
            entry.get("size").and_then(Value::as_u64),
            Some(size as u64),
            "{file}: {} size",
            fact.name
        );
    }
    // A refused download names its error; a complete one has none; an incomplete one may
    // say why.
    let error = entry.get("error").filter(|e| !e.is_null());
    if fact.failed || fact.complete {
        assert_eq!(
            error.is_some(),
            fact.failed,
            "{file}: {} error field {error:?}",
            fact.name
        );
    }
}

fn check_tls(file: &str, json: &Value, ip: &str, fact: &TlsFact) {
    let sessions = list(json, "tls");
    // Several nodes may answer on one port (TVS of two nodes): the one with the expected leaf.
    let entry = sessions
        .iter()
        .filter(|t| {
            host_of(str_of(t, "client")) == ip && port_of(str_of(t, "server")) == Some(fact.port)
        })
        .min_by_key(|t| {
            list(t, "certificates")
                .first()
                .map(|c| str_of(c, "sha1").to_string())
                != fact.leaf_sha1
        });
    let Some(entry) = entry else {
        panic!(
            "{file}: no TLS session from {ip} to port {}: {sessions:?}",
            fact.port
        );
    };
    let version = entry.get("version").and_then(Value::as_str);
    assert_eq!(version, fact.version, "{file}: port {} version", fact.port);
    if fact.port == 2445 {
        assert_eq!(str_of(entry, "service"), "tvs", "{file}: 2445 is TVS");
    }
    let certs = list(entry, "certificates");
    match &fact.leaf_sha1 {
        Some(leaf) => {
            let first = certs.first();
            assert_eq!(
                first.map(|c| str_of(c, "sha1")),
                Some(leaf.as_str()),
                "{file}: port {} leaf certificate",
                fact.port
            );
            assert_eq!(
                first.map(|c| str_of(c, "serial")),
                fact.leaf_serial.as_deref(),
                "{file}: port {} leaf serial",
                fact.port
            );
        }
        None => assert!(certs.is_empty(), "{file}: no certificate may be seen"),
    }
    let alerts = list(entry, "alerts");
    for (from, codes) in [
        ("client", &fact.client_alerts),
        ("server", &fact.server_alerts),
    ] {
        for code in codes {
            let found = alerts.iter().any(|a| {
                str_of(a, "from") == from
                    && a.get("description").is_some_and(|d| alert_is(d, *code))
            });
            assert!(
                found,
                "{file}: {from} alert {code} on port {}: {alerts:?}",
                fact.port
            );
        }
    }
}

/// Files and TLS sessions (issue 4's `files` and `tls` lists).
fn facts(file: &str) {
    let s = catalog::by_file(file).expect("scenario");
    let json = analyze(file, &[]);
    for (mac, files) in s.expected_files() {
        let ip = phone_ip(&s, &mac);
        for f in &files {
            check_file(file, &json, &ip, f);
        }
    }
    for (mac, sessions) in s.expected_tls() {
        let ip = phone_ip(&s, &mac);
        for t in &sessions {
            check_tls(file, &json, &ip, t);
        }
    }
}

/// Per-phone verdicts under every option set of the README (issue 5's contract).
fn verdicts(file: &str) {
    let s = catalog::by_file(file).expect("scenario");
    for run in &s.runs {
        let json = analyze(file, &run.args);
        scenarios_support::check_verdicts(file, run, &json);
    }
}

macro_rules! e2e_tests {
    ($($facts:ident, $(#[$meta:meta])* $verdict:ident => $file:expr),* $(,)?) => {
        $(
            #[test]
            fn $facts() {
                facts($file);
            }

            #[test]
            $(#[$meta])*
            fn $verdict() {
                verdicts($file);
            }
        )*

        #[test]
        fn every_scenario_has_end_to_end_tests() {
            let listed = [$($file),*];
            for (file, _) in catalog::builders() {
                assert!(listed.contains(&file), "no end-to-end test for {file}");
            }
        }
    };
}

e2e_tests! {
    healthy_tftp_boot_facts, healthy_tftp_boot_verdict => "healthy-tftp-boot.pcap",
    healthy_http_boot_facts, healthy_http_boot_verdict => "healthy-http-boot.pcap",
    cm_regenerated_tvs_ok_facts, cm_regenerated_tvs_ok_verdict => "cm-regenerated-tvs-ok.pcap",
    cm_and_tvs_regenerated_facts, cm_and_tvs_regenerated_verdict => "cm-and-tvs-regenerated.pcap",
    hostname_change_facts, hostname_change_verdict => "hostname-change-single-node.pcap",
    moved_cluster_facts, moved_cluster_verdict => "moved-cluster-unprepared.pcap",
    moved_cluster_prepared_facts,
    moved_cluster_prepared_verdict => "moved-cluster-bulk-imported.pcap",
    centralized_tftp_facts, centralized_tftp_verdict => "centralized-tftp-itlfile.pcap",
    rollback_itl_facts, rollback_itl_verdict => "rollback-itl.pcap",
    rebuilt_without_key_facts, rebuilt_without_key_verdict => "rebuilt-without-key.pcap",
    tvs_tls13_facts, tvs_tls13_verdict => "tvs-tls13.pcap",
    encrypted_config_facts, encrypted_config_verdict => "encrypted-config.pcap",
    expired_tvs_cert_facts, expired_tvs_cert_verdict => "expired-tvs-cert.pcap",
    lossy_capture_facts, lossy_capture_verdict => "lossy-capture.pcap",
    two_phones_voice_vlan_facts,
    two_phones_voice_vlan_verdict => "two-phones-voice-vlan.pcap",
    healthy_pcapng_facts, healthy_pcapng_verdict => "healthy-tftp-boot.pcapng",
    healthy_sll2_facts, healthy_sll2_verdict => "healthy-tftp-boot-sll2.pcap",
    healthy_ipv6_facts, healthy_ipv6_verdict => "healthy-tftp-boot-ipv6.pcap",
    healthy_erspan_facts, healthy_erspan_verdict => "healthy-tftp-boot-erspan.pcap",
    boot_loop_facts, boot_loop_verdict => "boot-loop.pcap",
    transfer_stall_facts, transfer_stall_verdict => "transfer-stall.pcap",
    blksize_fragmented_facts, blksize_fragmented_verdict => "tftp-blksize-fragmented.pcap",
    sip_alarm_facts,
    sip_alarm_verdict => "sip-devicetlinfo-alarm.pcap",
    tvs_unreachable_facts, tvs_unreachable_verdict => "tvs-unreachable.pcap",
    tvs_version_mismatch_facts, tvs_version_mismatch_verdict => "tvs-tls-version-mismatch.pcap",
    two_node_one_tvs_regenerated_facts, two_node_one_tvs_regenerated_verdict => "two-node-one-tvs-regenerated.pcap",
    mixed_mode_ctl_not_rerun_facts, mixed_mode_ctl_not_rerun_verdict => "mixed-mode-ctl-not-rerun.pcap",
    mixed_mode_ctl_rerun_facts, mixed_mode_ctl_rerun_verdict => "mixed-mode-ctl-rerun.pcap",
    tvs_silent_fin_facts, tvs_silent_fin_verdict => "tvs-silent-fin.pcap",
    tvs_silent_rst_facts, tvs_silent_rst_verdict => "tvs-silent-rst.pcap",
    stale_served_itl_facts, stale_served_itl_verdict => "stale-served-itl.pcap",
    tvs_tls13_completed_facts, tvs_tls13_completed_verdict => "tvs-tls13-completed.pcap",
    itlrecovery_12_5_facts, itlrecovery_12_5_verdict => "itlrecovery-12-5.pcap",
    cm_group_single_node_facts, cm_group_single_node_verdict => "cm-group-single-node.pcap",
}
