//! Scenarios of issue 18: the phone's own trust state decides the verdict. Several TVS
//! nodes, mixed mode (CTL) before and after the CTL client was re-run, a phone that drops
//! TVS without an alert, a stale served ITL, a completed TLS 1.3 TVS session, ITLRecovery
//! on 12.5 and a CallManager group with one node. Each names the TAC-note statement
//! (`seed-statements.md`) it follows.

use super::boot::{Step, fetch, tvs_session};
use super::cluster::{Cluster, Subscriber};
use super::common::{
    A_HOST, F, N, T, cluster_a, cluster_a11, completed, config_fetch, ctl_name, directory_via_tvs,
    itl_name, one_phone, phone_itl_arg, trust_list_fetches, tvs_rejected,
};
use super::phone::Phone;
use super::sidecar;
use super::{Run, Scenario, Verdict};
use crate::conv::Host;
use crate::conv::tls_session::TlsOutcome;
use crate::pki::{Cert, CertSpec, KeyName};
use crate::tls::{alert, version};

const SUB_HOST: &str = "cucm-sub.example.com";
const SUB_IP: &str = "198.51.100.11";

/// One run: options (`{itl}`, `{ctl}`, `{ev}` stand for the side files' paths), the four
/// conditions as the note states them, and the generalised condition 4.
type Expect<'a> = (&'a str, [Option<bool>; 4], Option<bool>);

/// A one-phone scenario `<stem>.pcap` with its side files (suffix after `<stem>.`) and runs.
fn scenario(
    stem: &str,
    shows: &str,
    phone: Phone,
    steps: Vec<Step>,
    side: Vec<(&str, Vec<u8>)>,
    runs: &[Expect],
    seed: u64,
) -> Scenario {
    let mac = phone.mac_hex();
    let runs = runs
        .iter()
        .map(|(options, conditions, recovery)| {
            let args = options
                .replace("{itl}", &phone_itl_arg(stem))
                .replace(
                    "{ctl}",
                    &format!("--phone-ctl captures/{stem}.phone-ctl.tlv"),
                )
                .replace("{ev}", &format!("captures/{stem}"));
            Run::new(
                &args,
                vec![Verdict::with_recovery(&mac, *conditions, *recovery)],
            )
        })
        .collect();
    let mut s = one_phone(&format!("{stem}.pcap"), shows, phone, steps, runs, seed);
    for (suffix, bytes) in side {
        s.side_files.push((format!("{stem}.{suffix}"), bytes));
    }
    s
}

/// The subscriber `cucm-sub` with its own TVS certificate.
fn subscriber(in_group: bool) -> Subscriber {
    Subscriber {
        hostname: SUB_HOST.to_owned(),
        node: Host::new(super::cluster::GATEWAY_MAC, SUB_IP),
        tvs: CertSpec::tvs(SUB_HOST)
            .with_key(KeyName::Rsa1024)
            .with_serial(&[0x2f, 0x41, 0x0a, 0x6e, 0x93, 0x15, 0xc2, 0x08])
            .self_signed(),
        in_group,
    }
}

/// A new ITLRecovery certificate (a rebuilt node, or a hostname change: statement 28).
fn new_itl_recovery() -> Cert {
    CertSpec::itl_recovery(A_HOST)
        .with_key(KeyName::Rsa1024)
        .with_serial(&[0x0e, 0x44, 0x19, 0xd2, 0x7c])
        .self_signed()
}

/// The phone asks `sub`'s TVS about the new signer and TVS vouches (its answer carries the
/// certificate).
fn subscriber_vouches(p: &Phone, sub: &Subscriber, lsc_from: &Cluster, signer: usize) -> Step {
    Step::Tls(tvs_session(
        &sub.node,
        &sub.tvs.der,
        &lsc_from.phone_lsc(p).der,
        version::TLS12,
        311,
        completed(vec![(153, signer + 50)]),
    ))
}

/// Statements 10, 24, 31: CallManager and TVS regenerated on the publisher only; the
/// phone rejects the publisher's new TVS, then the subscriber's unchanged TVS (in its ITL
/// and its CallManager group) vouches and the phone takes the new ITL.
pub fn two_node_one_tvs_regenerated() -> Scenario {
    let phone = Phone::cp8845(0x26, "192.0.2.26");
    let mut old = cluster_a11();
    old.subscribers.push(subscriber(true));
    let new = old.clone().regenerate_callmanager().regenerate_tvs();
    let sub = &new.subscribers[0];
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &new,
        Some(alert::UNKNOWN_CA),
        false,
        16384,
        301,
    ));
    steps.push(subscriber_vouches(
        &phone,
        sub,
        &new,
        new.certs.callmanager.der.len(),
    ));
    steps.extend(config_fetch(&phone, &new));
    scenario(
        "two-node-one-tvs-regenerated",
        "Statements 10, 24, 31: two-node CUCM 11.5, CallManager and TVS regenerated on the publisher only. The phone's ITL lists both TVS; it rejects the publisher's new TVS certificate (unknown_ca), then completes the handshake with the subscriber's unchanged TVS (in its CallManager group), which vouches for the new signer, and takes the new ITL and signed config.",
        phone,
        steps,
        vec![("phone-itl.tlv", old.itl())],
        &[
            // One TVS the phone trusts is enough: another TVS of its group vouches.
            (
                "{itl} --phone-status failed --key-backup no",
                [T, F, T, T],
                F,
            ),
            ("", [N, F, N, N], F),
        ],
        31,
    )
}

/// Two eToken certificates (SAST records of a CTL; the first signs it).
fn etokens() -> Vec<Cert> {
    vec![
        CertSpec::new(
            "SAST-ADN00858f1b",
            KeyName::Rsa1024,
            &[0x3c, 0x18, 0x5a, 0x01],
        )
        .self_signed(),
        CertSpec::new("SAST-ADN0086c2e4", KeyName::Ca, &[0x3c, 0x18, 0x5a, 0x02]).self_signed(),
    ]
}

/// Mixed mode, single node, CallManager and TVS regenerated; the served CTL is the phone's
/// (client not re-run) or a new one listing the new CallManager (`rerun`).
fn mixed_mode(stem: &str, shows: &str, rerun: bool, runs: &[Expect], seed: u64) -> Scenario {
    let phone = Phone::cp7962(0x27, "192.0.2.27");
    let tokens = etokens();
    let old = cluster_a11();
    let new = cluster_a11().regenerate_callmanager().regenerate_tvs();
    let phone_ctl = old.ctl(&tokens, &tokens[0]);
    // Not re-run: the CTL still lists the old CallManager certificate as CCM+TFTP.
    let served_ctl = if rerun {
        new.ctl(&tokens, &tokens[0])
    } else {
        phone_ctl.clone()
    };
    let mut steps = fetch(&phone, &new.node, &ctl_name(&phone), Some(&served_ctl), 404);
    steps.extend(fetch(
        &phone,
        &new.node,
        &itl_name(&phone),
        Some(&new.itl()),
        404,
    ));
    if !rerun {
        // Neither the CTL nor the phone's ITL knows the new signer: the phone asks TVS,
        // whose new certificate it rejects.
        steps.push(tvs_rejected(
            &phone,
            &new,
            &new,
            Some(alert::UNKNOWN_CA),
            false,
            16384,
            seed * 10 + 1,
        ));
    }
    steps.extend(config_fetch(&phone, &new));
    scenario(
        stem,
        shows,
        phone,
        steps,
        vec![("phone-itl.tlv", old.itl()), ("phone-ctl.tlv", phone_ctl)],
        runs,
        seed,
    )
}

/// Statements 7b, 7c, 30: mixed mode, the CTL client not re-run after CallManager and TVS
/// were regenerated. The CTL path is open (re-run the CTL client / `utils ctl update
/// CTLFile`): deletion is not required.
pub fn mixed_mode_ctl_not_rerun() -> Scenario {
    mixed_mode(
        "mixed-mode-ctl-not-rerun",
        "Statements 7b, 7c, 30: single-node CUCM 11.5 in mixed mode (CTL signed by an eToken whose certificate is in the phone's CTL); CallManager and TVS regenerated, the CTL client NOT re-run: the served CTL (equal to the phone's) still lists the old CallManager certificate as CCM+TFTP, so it does not verify the new ITL; the phone asks TVS and rejects its new certificate (unknown_ca). `.phone-ctl.tlv`: the CTL the phone holds. The CTL path is open: re-run the CTL client (`utils ctl update CTLFile`).",
        false,
        &[(
            "{itl} {ctl} --phone-status failed --key-backup no",
            [T, T, T, T],
            F,
        )],
        32,
    )
}

/// Statement 30: the same after the CTL client was re-run: the phone takes the new CTL
/// (same eToken), then the new ITL through the CTL's CCM+TFTP, then the signed config.
pub fn mixed_mode_ctl_rerun() -> Scenario {
    mixed_mode(
        "mixed-mode-ctl-rerun",
        "Statement 30: the mixed-mode cluster above after the CTL client was re-run: the new CTL, signed by the same eToken, lists the new CallManager certificate as CCM+TFTP; the phone accepts the CTL directly, then the new ITL through the CTL's CCM+TFTP, and the signed config. No TVS contact.",
        true,
        &[(
            "{itl} {ctl} --phone-status ok --key-backup no",
            [T, N, F, T],
            F,
        )],
        33,
    )
}

/// phone-behaviour.md 2.3, statement 29: CallManager, TVS and ITLRecovery regenerated on a
/// single node (every path closed); right after TVS's Certificate the phone closes with
/// FIN (`reset` false) or RST and no alert: an inferred rejection.
pub fn tvs_silent(stem: &str, reset: bool) -> Scenario {
    let phone = if reset {
        Phone::cp7962(0x29, "192.0.2.29")
    } else {
        Phone::cp7962(0x28, "192.0.2.28")
    };
    let old = cluster_a11();
    let new = cluster_a11()
        .regenerate_callmanager()
        .regenerate_tvs()
        .with_itl_recovery(new_itl_recovery());
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &new,
        None,
        reset,
        16384,
        if reset { 351 } else { 341 },
    ));
    steps.extend(config_fetch(&phone, &new));
    let close = if reset { "RST" } else { "FIN" };
    let hash = format!(
        "--phone-itl-hash {} --phone-status failed --key-backup no",
        sidecar::md5_hex(&old.itl())
    );
    scenario(
        stem,
        &format!(
            "phone-behaviour.md 2.3, statement 29: single-node cluster rebuilt with new CallManager, TVS and ITLRecovery keys; right after TVS's Certificate the 7962 closes with {close} and no alert, which is read as a rejection (inferred). With the phone's ITL known only by hash, whether a recovery path is open stays unknown."
        ),
        phone,
        steps,
        vec![("phone-itl.tlv", old.itl())],
        &[
            (&hash, [T, T, T, T], N),
            (
                "{itl} --phone-status failed --key-backup no",
                [T, T, T, T],
                T,
            ),
            ("", [N, T, N, N], N),
        ],
        if reset { 35 } else { 34 },
    )
}

/// Statement 23: TVS regenerated but TFTP not restarted: the served ITL (the phone's)
/// still lists the old TVS certificate; the live TVS presents the new one, which the phone
/// rejects. Restart TFTP and TVS, then reset the phones.
pub fn stale_served_itl() -> Scenario {
    let phone = Phone::cp7962(0x2a, "192.0.2.30");
    let old = cluster_a11();
    let live = cluster_a11().regenerate_tvs();
    let itl = old.itl();
    let mut steps = trust_list_fetches(&phone, &old.node, &itl);
    steps.extend(config_fetch(&phone, &old));
    steps.push(Step::Pause(2 * crate::conv::SEC));
    steps.push(directory_via_tvs(
        &phone,
        &live,
        TlsOutcome::ClientRejects {
            description: Some(alert::CERTIFICATE_UNKNOWN),
            reset: false,
        },
        TlsOutcome::ClientRejects {
            description: Some(alert::UNKNOWN_CA),
            reset: false,
        },
        361,
    ));
    let hash = format!(
        "--phone-itl-hash {} --phone-status failed --key-backup no",
        sidecar::md5_hex(&itl)
    );
    scenario(
        "stale-served-itl",
        "Statement 23: TVS regenerated but the TFTP service not restarted: the served ITL, equal to the phone's, still lists the old TVS certificate; the live TVS presents the new one and the phone rejects it (unknown_ca) when checking the directory's certificate on 8443. The CallManager key is unchanged, so the fix is restarting TFTP and TVS (the ITL is rebuilt), then resetting the phones; deleting is not required.",
        phone,
        steps,
        vec![("phone-itl.tlv", itl.clone())],
        &[
            (&hash, [F, T, T, T], F),
            (
                "{itl} --phone-status failed --key-backup no",
                [F, T, T, T],
                F,
            ),
        ],
        36,
    )
}

/// Statement 12, issue 18 item 8: a TLS 1.3 TVS session that completes with application
/// data both ways (the phone trusts that TVS), and an exported TVS certificate that does
/// not match the TVS record of the phone's ITL: a conflict, never `required`.
pub fn tvs_tls13_completed() -> Scenario {
    let phone = Phone::cp8845(0x2b, "192.0.2.31");
    let old = cluster_a11();
    let new = cluster_a11()
        .regenerate_callmanager()
        .with_itl_recovery(new_itl_recovery());
    let steps = super::common::tls13_tvs_boot(&phone, &new, 371);
    // A TVS certificate exported later, after TVS was regenerated: not the one the phone
    // met, not in its ITL.
    let exported = sidecar::pem(&cluster_a11().regenerate_tvs().certs.tvs);
    scenario(
        "tvs-tls13-completed",
        "Statement 12: CUCM 15SU2, CallManager and ITLRecovery regenerated, TVS unchanged; the TLS 1.3 TVS session completes with application data both ways (certificate encrypted), so the phone trusts that TVS. `.tvs.pem`: a TVS certificate exported after TVS was later regenerated, which is not in the phone's ITL and contradicts the completed handshake: condition 2 becomes a conflict (unknown), never required.",
        phone,
        steps,
        vec![("phone-itl.tlv", old.itl()), ("tvs.pem", exported)],
        &[
            (
                "{itl} --phone-status failed --key-backup no",
                [T, F, T, T],
                F,
            ),
            (
                "{itl} --phone-status failed --key-backup no --evidence {ev}.tvs.pem",
                [T, N, T, T],
                // The TVS the phone trusts is still a path: not required (never required).
                F,
            ),
        ],
        37,
    )
}

/// Statement 12.0 note (seed-statements.md header): on CUCM 12.5 ITLRecovery signs the ITL;
/// CallManager and TVS regenerated together, ITLRecovery unchanged: the phone accepts the
/// new ITL directly because its signer is in the phone's ITL.
pub fn itlrecovery_12_5() -> Scenario {
    let phone = Phone::cp8845(0x2c, "192.0.2.32");
    let old = cluster_a();
    let new = cluster_a().regenerate_callmanager().regenerate_tvs();
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.extend(config_fetch(&phone, &new));
    scenario(
        "itlrecovery-12-5",
        "CUCM 12.5 (ITLRecovery signs the ITL, seed-statements.md on 12.0+): CallManager and TVS regenerated together, ITLRecovery unchanged; the phone accepts the new ITL directly (its signer ITLRecovery is in the phone's ITL), then the config signed by the new CallManager certificate the new ITL lists. No TVS contact. ITLRecovery is the open path.",
        phone,
        steps,
        vec![("phone-itl.tlv", old.itl())],
        &[("{itl} --phone-status ok --key-backup no", [T, N, F, T], F)],
        38,
    )
}

/// Statement 31: the phone's ITL lists both TVS, but its CallManager group holds only the
/// publisher, whose CallManager, TVS and ITLRecovery were regenerated: the subscriber's
/// TVS cannot vouch for it, every path is closed.
pub fn cm_group_single_node() -> Scenario {
    let phone = Phone::cp7962(0x2d, "192.0.2.33");
    let mut old = cluster_a11();
    old.subscribers.push(subscriber(false));
    let new = old
        .clone()
        .regenerate_callmanager()
        .regenerate_tvs()
        .with_itl_recovery(new_itl_recovery());
    let mut steps = trust_list_fetches(&phone, &new.node, &new.itl());
    steps.push(tvs_rejected(
        &phone,
        &new,
        &new,
        Some(alert::UNKNOWN_CA),
        false,
        16384,
        391,
    ));
    steps.extend(config_fetch(&phone, &new));
    scenario(
        "cm-group-single-node",
        "Statement 31: two-node CUCM 11.5 whose phones' CallManager group has only the publisher (the signed config's `<callManagerGroup>` and TVS list name only cucm-pub); CallManager, TVS and ITLRecovery regenerated on the publisher. The phone's ITL lists both TVS, but the phone asks only the publisher's TVS and rejects it (unknown_ca): the config's CallManager group decides that the subscriber's TVS cannot vouch, so every path is closed.",
        phone,
        steps,
        vec![("phone-itl.tlv", old.itl())],
        &[(
            "{itl} --phone-status failed --key-backup no",
            [T, T, T, T],
            T,
        )],
        39,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// statement 21 / phone-behaviour.md 4.3: where a run expects the ITLRecovery path
    /// open, the phone's ITL holds the ITLRecovery certificate the cluster still serves.
    #[test]
    fn itlrecovery_path_is_what_the_clusters_hold() {
        let old = cluster_a11();
        let cm_tvs = cluster_a11().regenerate_callmanager().regenerate_tvs();
        assert_eq!(old.certs.itl_recovery, cm_tvs.certs.itl_recovery);
        let rebuilt = cluster_a11().with_itl_recovery(new_itl_recovery());
        assert_ne!(old.certs.itl_recovery, rebuilt.certs.itl_recovery);
        let itl = cm_tvs.itl();
        let rec = &old.certs.itl_recovery.der;
        assert!(itl.windows(rec.len()).any(|w| w == rec.as_slice()));
    }

    /// statement 31: only the CallManager group's nodes are in the served config.
    #[test]
    fn the_config_names_only_the_group_nodes() {
        let phone = Phone::cp7962(0x2d, "192.0.2.33");
        let mut one = cluster_a11();
        one.subscribers.push(subscriber(false));
        let xml = String::from_utf8(one.config_xml(&phone, false, 0)).unwrap_or_default();
        assert!(!xml.contains(SUB_HOST));
        let mut two = cluster_a11();
        two.subscribers.push(subscriber(true));
        let xml = String::from_utf8(two.config_xml(&phone, false, 0)).unwrap_or_default();
        assert!(xml.contains(&format!("<processNodeName>{SUB_HOST}</processNodeName>")));
        assert!(xml.contains(&format!("<address>{SUB_HOST}</address>")));
        // Both TVS are in the ITL either way (by certificate hash).
        let hash = crate::scenarios::common::sha1_bytes(&one.subscribers[0].tvs.der);
        assert!(one.itl().windows(hash.len()).any(|w| w == hash.as_slice()));
    }

    /// statements 7b, 30: the CTL not re-run lists the old CallManager; re-run, the new.
    #[test]
    fn the_ctl_lists_the_callmanager_of_when_the_client_ran() {
        let tokens = etokens();
        let old = cluster_a11();
        let new = cluster_a11().regenerate_callmanager();
        let stale = old.ctl(&tokens, &tokens[0]);
        let fresh = new.ctl(&tokens, &tokens[0]);
        let has = |file: &[u8], der: &[u8]| file.windows(der.len()).any(|w| w == der);
        assert!(has(&stale, &old.certs.callmanager.der));
        assert!(!has(&stale, &new.certs.callmanager.der));
        assert!(has(&fresh, &new.certs.callmanager.der));
        assert!(has(&fresh, &tokens[0].der) && has(&fresh, &tokens[1].der));
    }

    /// What each new capture must show on 2445: the alerts the phone sends after TVS's
    /// Certificate, or none (phone-behaviour.md 2.3), and which sessions complete.
    #[test]
    fn tvs_sessions_show_what_each_scenario_follows() {
        let tvs = |s: Scenario| -> Vec<(Option<&'static str>, Vec<u8>, bool)> {
            s.expected_tls()[0]
                .1
                .iter()
                .filter(|t| t.port == 2445)
                .map(|t| (t.version, t.client_alerts.clone(), t.leaf_sha1.is_some()))
                .collect()
        };
        let tls12 = Some("TLS1.2");
        // statements 10, 24, 31: rejected on the publisher, completed on the subscriber.
        assert_eq!(
            tvs(two_node_one_tvs_regenerated()),
            [
                (tls12, vec![alert::UNKNOWN_CA], true),
                (tls12, vec![], true)
            ]
        );
        // phone-behaviour.md 2.3: no alert, only FIN / RST.
        assert_eq!(tvs(tvs_silent("f", false)), [(tls12, vec![], true)]);
        assert_eq!(tvs(tvs_silent("r", true)), [(tls12, vec![], true)]);
        // statement 30: after the CTL client ran, no TVS contact at all.
        assert!(tvs(mixed_mode_ctl_rerun()).is_empty());
        assert!(tvs(itlrecovery_12_5()).is_empty());
        // statement 12: TLS 1.3, certificate not visible.
        assert_eq!(
            tvs(tvs_tls13_completed()),
            [(Some("TLS1.3"), vec![], false)]
        );
        // statement 31: only the publisher's TVS is asked.
        assert_eq!(
            tvs(cm_group_single_node()),
            [(tls12, vec![alert::UNKNOWN_CA], true)]
        );
    }

    #[test]
    fn new_scenarios_keep_their_side_files_distinct() {
        let s = mixed_mode_ctl_not_rerun();
        let names: Vec<&str> = s.side_files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "mixed-mode-ctl-not-rerun.phone-itl.tlv",
                "mixed-mode-ctl-not-rerun.phone-ctl.tlv"
            ]
        );
    }
}
