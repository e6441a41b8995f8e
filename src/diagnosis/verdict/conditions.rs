//! Conditions 1, 3 and 4 (`itl_differs`, `phone_verification_failed`, `no_key_backup`),
//! whether the cluster is in mixed mode, and the decision table over the four.

use super::tvs_condition::listed;
use crate::diagnosis::checks::{installed_matches, status_code_failed, status_code_name};
use crate::diagnosis::context::{Installed, PhoneCtx};
use crate::diagnosis::facts::{KeyBackup, PhoneStatus};
use crate::diagnosis::model::{Acceptance, Condition, Conditions, DeleteItl, TrustPath};
use crate::diagnosis::names::RequestKind;
use crate::trust::tvs::{Stance, TvsNode};

/// `itl_differs`: installed ITL vs served ITL; null when either side is unknown. A phone that
/// reports no ITL at all has nothing to delete, so the condition is false for it.
pub(super) fn itl_differs(ctx: &PhoneCtx<'_>, nodes: &[TvsNode<'_>]) -> Condition {
    if let Some(conflict) = crate::diagnosis::outside::installed_conflict(ctx) {
        return Condition::new(None, conflict);
    }
    if let Some(file) = ctx.installed_file
        && let Some(why) = &file.untrusted
    {
        return Condition::new(None, format!("--phone-itl {}: {why}", file.name));
    }
    let c = itl_differs_as_given(ctx);
    // "Equal to the served ITL" (a hash read from `show itl` instead of the phone, say) is
    // not believed when the phone refused a TVS certificate that ITL lists as not trusted.
    if c.value == Some(false)
        && !matches!(
            ctx.installed,
            Installed::NotInstalled(_) | Installed::ReportedNone(_)
        )
        && let Some(list) = ctx.served_itl_list()
        && let Some((n, cert)) = nodes.iter().find_map(|n| match (&n.stance, n.certificate) {
            (
                Stance::Rejected {
                    not_trusted: true, ..
                },
                Some(cert),
            ) if listed(cert, list) => Some((n, cert)),
            _ => None,
        })
    {
        return Condition::new(
            None,
            format!(
                "{}, yet TVS {} presented {} (serial {}), which that ITL lists, and {}: the phone does not hold the served ITL (read the hash on the phone itself, Settings > Security Configuration > Trust List)",
                c.explanation,
                n.server,
                cert.subject,
                cert.serial,
                n.stance.describe_at(|seen| ctx.at(seen))
            ),
        );
    }
    c
}

fn itl_differs_as_given(ctx: &PhoneCtx<'_>) -> Condition {
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
                "the phone reports no ITL installed (DeviceTLInfo, {}): there is nothing to delete, it takes the served ITL on leap of faith",
                ctx.at(alarm.seen)
            ),
        ),
        (installed, None) => crate::diagnosis::outside::compare_with_cli(ctx, installed)
            .unwrap_or_else(|| {
                Condition::new(
                    None,
                    "no ITL was downloaded whole in the capture to compare the phone's ITL with",
                )
            }),
        (installed, Some(served)) => {
            let source = crate::diagnosis::checks::installed_source(ctx.evidence, installed);
            // The file and the hash read off the phone must tell the same; when they do
            // not, one of them is not this phone's ITL and neither decides.
            if let (Installed::File(file), Some(hash)) = (installed, ctx.phone_itl_hash) {
                let file_equal = file.bytes == served.file.data.as_slice();
                let hash_equal = served.hashes.get(hash.algorithm) == hash.hex;
                if file_equal != hash_equal {
                    return Condition::new(
                        None,
                        format!(
                            "--phone-itl {} {} the served {} but --phone-itl-hash {hash} {}: one of them is not this phone's ITL (read the hash on the phone again, and check the file)",
                            file.name,
                            if file_equal { "equals" } else { "differs from" },
                            served.file.name,
                            if hash_equal { "equals it" } else { "does not" },
                        ),
                    );
                }
            }
            match installed_matches(installed, served) {
                Some(true) => Condition::new(
                    Some(false),
                    format!(
                        "the phone's ITL ({source}) equals the served {} ({})",
                        served.file.name,
                        ctx.at(served.file.first)
                    ),
                ),
                Some(false) => Condition::new(
                    Some(true),
                    format!(
                        "the phone's ITL ({source}) differs from the served {} ({}, md5 {}, sha1 {})",
                        served.file.name,
                        ctx.at(served.file.first),
                        served.hashes.md5,
                        served.hashes.sha1
                    ),
                ),
                None => Condition::new(None, "the two ITLs cannot be compared"),
            }
        }
    }
}

/// `phone_verification_failed` (condition 3): what the phone showed or said about verifying
/// the served trust list and config; null when nothing shows it.
pub(super) fn phone_verification_failed(ctx: &PhoneCtx<'_>, path: Option<&TrustPath>) -> Condition {
    if let Some(c) = crate::diagnosis::outside::verification(ctx) {
        return c;
    }
    let rejected_step = path.and_then(|p| {
        [("served ITL", &p.itl), ("config", &p.config)]
            .into_iter()
            .find(|(_, s)| s.acceptance == Acceptance::Rejected)
    });
    if ctx.phone_status == PhoneStatus::Ok
        && let Some((what, step)) = rejected_step
    {
        return Condition::new(
            None,
            format!(
                "--phone-status ok says the phone shows no failure, but the trust path says the {what} is rejected ({}): one of them is wrong (read the phone's Status Messages again, after this capture)",
                step.explanation
            ),
        );
    }
    match ctx.phone_status {
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
                        "; note: its DeviceTLInfo alarm ({}) carries StatusCode {c} ({}), a trust-list failure if the code follows the TL_* table (unverified)",
                        ctx.at(a.seen),
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

/// `no_key_backup` (condition 4 as Cisco words it): from `--key-backup`, null when not given.
pub(super) fn no_key_backup(ctx: &PhoneCtx<'_>) -> Condition {
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

/// `required` only when conditions 1-3 hold and no recovery path is open (condition 4 as the
/// note means it, statement 15); `not-required` when any of 1-3 is false or a path is open;
/// else `undetermined`. With only the key backup as a path this is the four-condition table.
pub fn decide(conditions: &Conditions, no_recovery_path: Option<bool>) -> DeleteItl {
    let first_three = [
        conditions.itl_differs.value,
        conditions.tvs_cert_mismatch.value,
        conditions.phone_verification_failed.value,
    ];
    if first_three.contains(&Some(false)) || no_recovery_path == Some(false) {
        DeleteItl::NotRequired
    } else if first_three.iter().all(|v| *v == Some(true)) && no_recovery_path == Some(true) {
        DeleteItl::Required
    } else {
        DeleteItl::Undetermined
    }
}

/// Some(true) when a CTL is served (mixed mode), Some(false) when the phone's CTL request was
/// answered "not found" and none was served, None when no CTL request was seen.
pub(super) fn mixed_mode(ctx: &PhoneCtx<'_>) -> Option<bool> {
    if ctx.served_ctl.is_some() {
        return Some(true);
    }
    let not_found = ctx.files.iter().any(|(_, f, k)| {
        matches!(k, RequestKind::CtlPerPhone | RequestKind::CtlGeneric)
            && (f.tftp_error_code == Some(1) || f.http_status == Some(404))
    });
    not_found.then_some(false)
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
        assert_eq!(decide(&conds([t, t, t, t]), t), DeleteItl::Required);
        assert_eq!(decide(&conds([t, t, t, f]), f), DeleteItl::NotRequired);
        assert_eq!(
            decide(&conds([f, None, None, None]), None),
            DeleteItl::NotRequired
        );
        assert_eq!(
            decide(&conds([t, t, t, None]), None),
            DeleteItl::Undetermined
        );
        assert_eq!(
            decide(&conds([None, None, None, None]), None),
            DeleteItl::Undetermined
        );
        // An open recovery path (ITLRecovery, CTL, another TVS) makes deletion unnecessary
        // even when all four conditions of the note hold (statements 24, 30; §4.3).
        assert_eq!(decide(&conds([t, t, t, t]), f), DeleteItl::NotRequired);
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
                        assert_eq!(decide(&conds(all), d), expected, "{all:?}");
                    }
                }
            }
        }
    }
}
