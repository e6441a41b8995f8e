//! "Evidence may be missing": when a limit or an eviction of the protocol stage could have
//! cost a phone evidence, the check concerned says so, with the count and the reason, and
//! carries the flag `evidence-may-be-missing`. The check's status is left as the evidence
//! at hand gives it; the note says why that evidence may be partial.

use super::context::PhoneCtx;
use super::model::{Check, EvidenceItem};
use crate::evidence::{EvidenceLoss, LossReason};

/// The flag added to a check whose evidence a limit may have cut.
pub const FLAG: &str = "evidence-may-be-missing";

/// The check a lost connection, request or record to `port` concerns, and what to call
/// that evidence.
fn concerned(port: u16) -> (&'static [&'static str], &'static str) {
    match port {
        2445 => (&["tvs-reachability", "tvs-certificate"], "TVS evidence"),
        69 | 6970 => (
            &["trust-list-downloads"],
            "trust-list and config download evidence",
        ),
        5060 => (&["installed-itl"], "DeviceTLInfo alarm evidence"),
        _ => (&["other-tls"], "TLS evidence"),
    }
}

fn what_was_lost(loss: &EvidenceLoss) -> String {
    let n = loss.count;
    let port = loss.server_port;
    match loss.reason {
        LossReason::FlowTableFull => {
            format!(
                "{n} connection(s) to port {port} were not followed (the connection table was full)"
            )
        }
        LossReason::Evicted => format!(
            "{n} connection(s) to port {port} were closed early to make room in the connection table"
        ),
        LossReason::TftpTableFull => {
            format!("{n} TFTP request(s) were not followed (too many transfers open at once)")
        }
        LossReason::RecordLimit => {
            format!("{n} record(s) to port {port} were not kept (over the record limit)")
        }
    }
}

pub use super::loss_index::LossIndex;

/// Adds the "may be missing" notes of this phone's losses (those of its addresses, and those
/// no address could be given for) and of its TLS sessions summed before it behaved like a
/// phone.
pub fn annotate(ctx: &PhoneCtx<'_>, checks: &mut [Check]) {
    annotate_counted(ctx, checks);
}

/// [`annotate`], returning the work it did: the losses and aggregates it looked at (a count,
/// so a test can show the work grows linearly with the input; no timed tests). Only the
/// entries the grouping gave the phone ([`LossIndex`]) are looked at.
pub fn annotate_counted(ctx: &PhoneCtx<'_>, checks: &mut [Check]) -> u64 {
    let mut work = 0u64;
    let ips = &ctx.group.ips;
    for loss in ctx
        .group
        .losses
        .iter()
        .filter_map(|&i| ctx.evidence.losses.get(i))
    {
        work += 1;
        let whose = match loss.client {
            Some(ip) if ips.contains(&ip) => "",
            Some(_) => continue,
            None => " (by hosts too many to list; this phone may be among them)",
        };
        let (ids, evidence) = concerned(loss.server_port);
        let detail = format!("{evidence} may be missing: {}{whose}", what_was_lost(loss));
        let item = EvidenceItem::note(detail)
            .with("reason", loss.reason.as_str())
            .with("server_port", loss.server_port.to_string())
            .with("count", loss.count.to_string());
        for id in ids {
            add(checks, id, item.clone());
        }
    }
    for agg in ctx
        .group
        .tls_aggregates
        .iter()
        .filter_map(|&k| ctx.evidence.tls_aggregates.get(k))
    {
        work += 1;
        if agg.clients.iter().any(|ip| ips.contains(ip)) {
            let detail = format!(
                "TLS evidence may be missing: sessions to {} were summed with other hosts' ({} in all, frames {}..{}) before this host behaved like a phone",
                agg.server, agg.sessions, agg.first.frame, agg.last.frame
            );
            add(
                checks,
                "other-tls",
                EvidenceItem::note(detail).with("reason", "summed"),
            );
        }
    }
    work
}

fn add(checks: &mut [Check], id: &str, item: EvidenceItem) {
    if let Some(c) = checks.iter_mut().find(|c| c.id == id) {
        if !c.flags.contains(&FLAG) {
            c.flags.push(FLAG);
        }
        c.evidence.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{seen, tls_with};
    use super::super::tests::{CONFIG_B, IP, ITL_C, boot, cluster, facts, new_tvs_cert};
    use super::*;
    use crate::diagnosis::{KeyBackup, PhoneStatus, diagnose_with};

    fn check<'a>(p: &'a crate::diagnosis::model::PhoneDiagnosis, id: &str) -> &'a Check {
        p.checks.iter().find(|c| c.id == id).expect("check")
    }

    #[test]
    fn a_phone_whose_tvs_connections_were_lost_is_told_next_to_the_tvs_check() {
        let mut ev = boot(ITL_C, CONFIG_B, tls_with(IP, 2445, new_tvs_cert()));
        let f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        let before = diagnose_with(&ev, &f, &cluster());
        ev.losses.push(EvidenceLoss {
            client: Some(IP.parse().expect("ip")),
            server_port: 2445,
            reason: LossReason::FlowTableFull,
            count: 3,
            first: seen(40),
        });
        // Another host's loss is not this phone's.
        ev.losses.push(EvidenceLoss {
            client: Some("10.9.9.9".parse().expect("ip")),
            server_port: 69,
            reason: LossReason::Evicted,
            count: 7,
            first: seen(41),
        });
        let after = diagnose_with(&ev, &f, &cluster());
        let (b, a) = (&before.phones[0], &after.phones[0]);
        assert_eq!(a.verdict, b.verdict, "a note, not a different verdict");
        let tvs = check(a, "tvs-certificate");
        assert!(tvs.flags.contains(&FLAG));
        assert!(
            tvs.evidence.iter().any(|e| e.detail
                == "TVS evidence may be missing: 3 connection(s) to port 2445 were not followed (the connection table was full)"),
            "{:?}",
            tvs.evidence
        );
        assert!(check(a, "tvs-reachability").flags.contains(&FLAG));
        assert!(!check(a, "trust-list-downloads").flags.contains(&FLAG));
        assert!(!check(b, "tvs-certificate").flags.contains(&FLAG));
    }

    #[test]
    fn unattributed_losses_concern_every_phone() {
        let mut ev = boot(ITL_C, CONFIG_B, tls_with(IP, 2445, new_tvs_cert()));
        ev.losses.push(EvidenceLoss {
            client: None,
            server_port: 69,
            reason: LossReason::RecordLimit,
            count: 12,
            first: seen(0),
        });
        let f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        let d = diagnose_with(&ev, &f, &cluster());
        let downloads = check(&d.phones[0], "trust-list-downloads");
        assert!(downloads.flags.contains(&FLAG));
        assert!(
            downloads
                .evidence
                .iter()
                .any(|e| e.detail.contains("may be missing: 12 record(s)"))
        );
    }
}
