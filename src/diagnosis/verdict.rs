//! The verdict: the four conditions of Cisco's guidance (domain.md), "required" only when all
//! four hold, "not-required" when any is false, else "undetermined"; reasons say which
//! conditions decided it and next steps come from the documented recovery paths
//! (phone-behaviour.md §4.3).

use super::checks::{
    installed_matches, is_tls13, is_unreachable, status_code_failed, status_code_name,
};
use super::context::{Installed, PhoneCtx};
use super::facts::{KeyBackup, PhoneStatus};
use super::model::{Acceptance, Check, Condition, Conditions, DeleteItl, TrustPath, Verdict};
use super::trust::find_certificate;
use crate::cisco::model::function;

/// `itl_differs`: installed ITL vs served ITL; null when either side is unknown. A phone that
/// reports no ITL at all has nothing to delete, so the condition is false for it.
fn itl_differs(ctx: &PhoneCtx<'_>) -> Condition {
    if let Some(conflict) = super::outside::installed_conflict(ctx) {
        return Condition::new(None, conflict);
    }
    let served = ctx.served_itl.as_ref();
    match (&ctx.installed, served) {
        (Installed::Unknown, _) => Condition::new(
            None,
            "the phone's installed ITL is unknown (no --phone-itl, --phone-itl-hash, or DeviceTLInfo alarm in the capture)",
        ),
        (Installed::ReportedNone(fact), _) => Condition::new(
            Some(false),
            format!(
                "the phone reports no ITL installed ({}): there is nothing to delete, it takes the served ITL on leap of faith",
                fact.source
            ),
        ),
        (Installed::NotInstalled(alarm), _) => Condition::new(
            Some(false),
            format!(
                "the phone reports no ITL installed (DeviceTLInfo, frame {}): there is nothing to delete, it takes the served ITL on leap of faith",
                alarm.seen.frame
            ),
        ),
        (installed, None) => {
            super::outside::compare_with_cli(ctx, installed).unwrap_or_else(|| {
                Condition::new(
                    None,
                    "no ITL was downloaded whole in the capture to compare the phone's ITL with",
                )
            })
        }
        (installed, Some(served)) => {
            let source = super::checks::installed_source(installed);
            match installed_matches(installed, served) {
                Some(true) => Condition::new(
                    Some(false),
                    format!(
                        "the phone's ITL ({source}) equals the served {} (frame {})",
                        served.file.name, served.file.first.frame
                    ),
                ),
                Some(false) => Condition::new(
                    Some(true),
                    format!(
                        "the phone's ITL ({source}) differs from the served {} (frame {}, md5 {}, sha1 {})",
                        served.file.name,
                        served.file.first.frame,
                        served.hashes.md5,
                        served.hashes.sha1
                    ),
                ),
                None => Condition::new(None, "the two ITLs cannot be compared"),
            }
        }
    }
}

/// `tvs_cert_mismatch`: a certificate presented on 2445 matches no TVS record of the phone's
/// ITL (`--phone-itl`, else the served ITL); null when no TVS certificate was seen in clear,
/// or when only the served ITL is at hand and the phone rejected a certificate it lists.
///
/// `served_is_installed`: the phone's ITL is known (by hash or alarm) to be the served one, so
/// comparing with the served ITL is comparing with the phone's.
fn tvs_cert_mismatch(ctx: &PhoneCtx<'_>, served_is_installed: bool) -> Condition {
    let sessions: Vec<_> = ctx.tvs_sessions().collect();
    let leaves: Vec<_> = sessions
        .iter()
        .filter_map(|(_, s)| s.certificates.first().map(|c| (*s, c)))
        .collect();
    if leaves.is_empty() {
        let why = if sessions.iter().any(|(_, s)| is_tls13(s)) {
            "TVS spoke TLS 1.3: its certificate is encrypted"
        } else if !sessions.is_empty() && sessions.iter().all(|(_, s)| is_unreachable(s)) {
            "TVS never answered, so no certificate was presented"
        } else if sessions.is_empty() {
            "no TVS (TCP 2445) session in the capture"
        } else {
            "no TVS certificate seen in clear"
        };
        if let Some(c) = super::outside::exported_tvs(ctx, served_is_installed, why) {
            return c;
        }
        return Condition::new(None, why);
    }
    if let Some(file) = ctx.installed_file
        && let Err(e) = &file.parsed
    {
        return Condition::new(
            None,
            format!("--phone-itl {} does not parse: {e}", file.name),
        );
    }
    let (reference, name) = ctx.reference_itl();
    let Some(list) = reference else {
        return Condition::new(
            None,
            format!(
                "a TVS certificate was seen but there is no parsed ITL to compare it with ({name})"
            ),
        );
    };
    for (s, leaf) in &leaves {
        if find_certificate(leaf, list, &[function::TVS]).is_none() {
            return Condition::new(
                Some(true),
                format!(
                    "TVS {} presented {} (serial {}, sha1 {}, frame {}), which matches no TVS record of {name}",
                    s.server,
                    leaf.subject,
                    leaf.serial,
                    leaf.sha1,
                    super::context::session_time(s).frame
                ),
            );
        }
    }
    // Without the phone's own ITL the served ITL stands in for it. If the phone nonetheless
    // refused a TVS certificate that the served ITL lists, the phone's ITL is evidently not
    // the served one, and "matches" would be a guess about the wrong file.
    if ctx.installed_file.is_none()
        && !served_is_installed
        && let Some((s, alert)) = leaves
            .iter()
            .find_map(|(s, _)| super::checks::phone_rejected(s).map(|a| (*s, a)))
    {
        return Condition::new(
            None,
            format!(
                "the TVS certificate of {} matches {name}, but the phone rejected it (fatal alert {} at frame {}): its installed ITL is not the served one; give --phone-itl FILE to compare with the ITL the phone holds",
                s.server,
                alert.describe(),
                alert.seen.frame
            ),
        );
    }
    Condition::new(
        Some(false),
        format!(
            "every TVS certificate on the wire ({}) matches a TVS record of {name}",
            leaves
                .iter()
                .map(|(s, c)| format!("{} serial {}", s.server, c.serial))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn phone_verification_failed(ctx: &PhoneCtx<'_>) -> Condition {
    if let Some(c) = super::outside::verification(ctx) {
        return c;
    }
    match ctx.facts.phone_status {
        PhoneStatus::Failed => Condition::new(
            Some(true),
            "--phone-status failed: the phone shows a verification failure",
        ),
        PhoneStatus::Ok => Condition::new(
            Some(false),
            "--phone-status ok: the phone shows no verification failure",
        ),
        PhoneStatus::Unknown => {
            let hint = ctx
                .alarms
                .iter()
                .rev()
                .find_map(|(_, a)| a.status_code.filter(|c| status_code_failed(*c)).map(|c| (a, c)))
                .map(|(a, c)| {
                    format!(
                        "; note: its DeviceTLInfo alarm (frame {}) carries StatusCode {c} ({}), a trust-list failure if the code follows the TL_* table (unverified)",
                        a.seen.frame,
                        status_code_name(c)
                    )
                })
                .unwrap_or_default();
            Condition::new(
                None,
                format!("--phone-status not given (read the phone's Status Messages){hint}"),
            )
        }
    }
}

fn no_key_backup(ctx: &PhoneCtx<'_>) -> Condition {
    match ctx.facts.key_backup {
        KeyBackup::No => Condition::new(
            Some(true),
            "--key-backup no: no backup of the old TFTP (CallManager.pem) key",
        ),
        KeyBackup::Yes => Condition::new(
            Some(false),
            "--key-backup yes: a backup of the old TFTP key exists",
        ),
        KeyBackup::Unknown => Condition::new(None, "--key-backup not given"),
    }
}

/// `required` only when all four are true; `not-required` when any is false.
pub fn decide(conditions: &Conditions) -> DeleteItl {
    let values = conditions.named().map(|(_, c)| c.value);
    if values.iter().all(|v| *v == Some(true)) {
        DeleteItl::Required
    } else if values.contains(&Some(false)) {
        DeleteItl::NotRequired
    } else {
        DeleteItl::Undetermined
    }
}

fn has_flag(checks: &[Check], flag: &str) -> bool {
    checks.iter().any(|c| c.flags.contains(&flag))
}

fn push(steps: &mut Vec<String>, step: impl Into<String>) {
    let step = step.into();
    if !steps.contains(&step) {
        steps.push(step);
    }
}

/// True when the phone's ITL (file) holds an ITLRecovery SAST record (CUCM 10.0+).
fn installed_has_itl_recovery(ctx: &PhoneCtx<'_>) -> bool {
    let Some(Ok(list)) = ctx.installed_file.map(|f| &f.parsed) else {
        return false;
    };
    list.records.iter().any(|r| {
        r.function == Some(function::SAST)
            && r.subject.is_some_and(|s| {
                String::from_utf8_lossy(s)
                    .to_ascii_uppercase()
                    .contains("ITLRECOVERY")
            })
    })
}

fn next_steps(
    ctx: &PhoneCtx<'_>,
    conditions: &Conditions,
    decision: DeleteItl,
    checks: &[Check],
    path: Option<&TrustPath>,
) -> Vec<String> {
    let mut steps = Vec::new();
    if has_flag(checks, "tvs-unreachable") {
        push(
            &mut steps,
            "Restore TVS reachability: check the Cisco Trust Verification Service and TCP 2445 from the phone to each CUCM node in its group; an unreachable TVS is a service problem and deleting the ITL does not fix it.",
        );
    }
    if has_flag(checks, "itl-over-64k") {
        push(
            &mut steps,
            "Shrink the ITL below 64 KB (fewer certificates in the cluster's trust stores); an oversized ITL fails to load and deleting it on the phone does not help.",
        );
    }
    if has_flag(checks, "bad-signature") || has_flag(checks, "unparseable") {
        push(
            &mut steps,
            "The TFTP server serves a broken trust list: restart the Cisco TFTP service so it rebuilds the ITL/CTL, and check the CallManager/ITLRecovery certificates; phones keep their old ITL meanwhile.",
        );
    }
    match decision {
        DeleteItl::NotRequired => {
            if conditions.itl_differs.value == Some(false) {
                push(
                    &mut steps,
                    "Do not delete the ITL: the phone's ITL is not the problem (it already holds the served ITL, or none); look at the config signature, TVS and registration instead.",
                );
            }
            if conditions.tvs_cert_mismatch.value == Some(false) {
                push(
                    &mut steps,
                    "Do not delete the ITL: TVS presents a certificate the phone's ITL lists, so the phone can have the new signer vouched for by TVS. Keep (or restore) that TVS certificate unchanged until every phone has downloaded the new ITL, then reset the phone with TVS reachable.",
                );
            }
            if conditions.phone_verification_failed.value == Some(false) {
                push(
                    &mut steps,
                    "The phone shows no verification failure: its trust works; no ITL deletion.",
                );
            }
            if conditions.no_key_backup.value == Some(false) {
                push(
                    &mut steps,
                    "Restore CallManager.pem and its private key from the backup (DRS restore of the TFTP certificate) so the TFTP server signs with the key the phone trusts, then reset the phone; or point the phone at a TFTP server it still trusts.",
                );
            }
        }
        DeleteItl::Required => {
            if installed_has_itl_recovery(ctx) {
                push(
                    &mut steps,
                    "The phone's ITL holds an ITLRecovery record: try `utils itl reset localkey` (or `remotekey <host> <user> ITLRecovery.p12`) on the publisher first (CUCM 10.0+), then reset the phones.",
                );
            }
            push(
                &mut steps,
                "Delete the ITL on the phone (all four conditions hold): Settings > Security > Trust List > ITL > Erase on 79xx (unlock with **#), Settings > Admin Settings > Reset Settings > Security Settings on 78xx/88xx/89xx, or a factory reset when settings access is disabled; the phone then takes the served ITL on leap of faith.",
            );
            push(
                &mut steps,
                "Afterwards: never regenerate CallManager and TVS certificates together, let every phone download the new ITL between regenerations, and take a DRS backup after each TFTP certificate regeneration.",
            );
        }
        DeleteItl::Undetermined => {
            if conditions.itl_differs.value.is_none() {
                push(
                    &mut steps,
                    "Read the ITL hash on the phone (Settings > Security Configuration > Trust List) and pass --phone-itl-hash HEX, or --phone-itl FILE; or capture the phone booting (reset it while capturing) so the ITL download and its DeviceTLInfo alarm are seen.",
                );
            }
            if conditions.tvs_cert_mismatch.value.is_none() {
                if ctx.tvs_sessions().any(|(_, s)| is_tls13(s)) {
                    push(
                        &mut steps,
                        "TVS uses TLS 1.3, so its certificate is not visible: compare the TVS record serial in `show itl` with `show cert own TVS` on each node by hand.",
                    );
                } else {
                    push(
                        &mut steps,
                        "Capture the phone while it validates a new signer (reset it during the capture) so the TVS handshake on TCP 2445 shows the certificate.",
                    );
                }
            }
            if conditions.phone_verification_failed.value.is_none() {
                push(
                    &mut steps,
                    "Check the phone's Status Messages for \"Trust List update failed\" or \"authenticated fail\" and pass --phone-status failed|ok.",
                );
            }
            if conditions.no_key_backup.value.is_none() {
                push(
                    &mut steps,
                    "Check whether a DRS backup holding CallManager.pem and its private key exists and pass --key-backup yes|no; restoring it avoids touching the phones.",
                );
            }
        }
    }
    if has_flag(checks, "itlfile-fallback") {
        push(
            &mut steps,
            "The phone fell back to ITLFile.tlv (centralized TFTP): phones of another cluster reject its signatures unless rollback is set on the central TFTP, or the clusters' TFTP certificates are shared with Bulk Certificate Management (export, consolidate, import).",
        );
    }
    if has_flag(checks, "rollback-itl") {
        push(
            &mut steps,
            "A rollback ITL is served (Prepare Cluster for Rollback to pre 8.0 = True): it works only while phones still trust the cluster serving it and turns signed config, TVS and HTTPS trust off; set it back to False once the phones have moved.",
        );
    }
    if let Some(path) = path {
        if path.itl.via == Some("via-tvs") {
            push(
                &mut steps,
                "This phone accepts the new ITL only through TVS: keep the TVS certificate until every phone has updated; never regenerate CallManager and TVS together.",
            );
        }
        if path.itl.acceptance == Acceptance::Rejected && conditions.itl_differs.value == Some(true)
        {
            push(
                &mut steps,
                "If the phone moved between clusters: use Bulk Certificate Management (export, consolidate, import the TFTP certificates, plus ITLRecovery on 12.x) so its old TVS vouches for the new signer, or Prepare Cluster for Rollback on the old cluster while the phone still trusts it.",
            );
        }
    }
    if has_flag(checks, "certificate-expired") || has_flag(checks, "certificate-not-yet-valid") {
        push(
            &mut steps,
            "Renew the expired or not-yet-valid certificate(s) on CUCM one at a time (never CallManager and TVS together), letting the phones re-download the ITL in between.",
        );
    }
    steps
}

/// The verdict of one phone.
pub fn verdict(ctx: &PhoneCtx<'_>, checks: &[Check], path: Option<&TrustPath>) -> Verdict {
    let itl_differs = itl_differs(ctx);
    let served_is_installed = itl_differs.value == Some(false);
    let conditions = Conditions {
        tvs_cert_mismatch: tvs_cert_mismatch(ctx, served_is_installed),
        itl_differs,
        phone_verification_failed: phone_verification_failed(ctx),
        no_key_backup: no_key_backup(ctx),
    };
    let decision = decide(&conditions);
    let named = conditions.named();
    let reasons = match decision {
        DeleteItl::Required => std::iter::once("all four conditions hold".to_string())
            .chain(named.iter().map(|(n, c)| format!("{n}: {}", c.explanation)))
            .collect(),
        DeleteItl::NotRequired => named
            .iter()
            .filter(|(_, c)| c.value == Some(false))
            .map(|(n, c)| format!("{n} is false: {}", c.explanation))
            .collect(),
        DeleteItl::Undetermined => named
            .iter()
            .filter(|(_, c)| c.value.is_none())
            .map(|(n, c)| format!("{n} is unknown: {}", c.explanation))
            .chain(
                named
                    .iter()
                    .filter(|(_, c)| c.value == Some(true))
                    .map(|(n, c)| format!("{n} is true: {}", c.explanation)),
            )
            .collect(),
    };
    let next_steps = next_steps(ctx, &conditions, decision, checks, path);
    Verdict {
        delete_itl: decision,
        conditions,
        reasons,
        next_steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conds(v: [Option<bool>; 4]) -> Conditions {
        Conditions {
            itl_differs: Condition::new(v[0], ""),
            tvs_cert_mismatch: Condition::new(v[1], ""),
            phone_verification_failed: Condition::new(v[2], ""),
            no_key_backup: Condition::new(v[3], ""),
        }
    }

    #[test]
    fn decision_table() {
        let t = Some(true);
        let f = Some(false);
        assert_eq!(decide(&conds([t, t, t, t])), DeleteItl::Required);
        assert_eq!(decide(&conds([t, t, t, f])), DeleteItl::NotRequired);
        assert_eq!(
            decide(&conds([f, None, None, None])),
            DeleteItl::NotRequired
        );
        assert_eq!(decide(&conds([t, t, t, None])), DeleteItl::Undetermined);
        assert_eq!(
            decide(&conds([None, None, None, None])),
            DeleteItl::Undetermined
        );
        // Every combination: required iff all true; not-required iff any false.
        let values = [Some(true), Some(false), None];
        for a in values {
            for b in values {
                for c in values {
                    for d in values {
                        let all = [a, b, c, d];
                        let expected = if all.iter().all(|v| *v == t) {
                            DeleteItl::Required
                        } else if all.contains(&f) {
                            DeleteItl::NotRequired
                        } else {
                            DeleteItl::Undetermined
                        };
                        assert_eq!(decide(&conds(all)), expected, "{all:?}");
                    }
                }
            }
        }
    }
}
