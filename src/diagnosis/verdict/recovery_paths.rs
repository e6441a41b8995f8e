//! The generalised condition 4: which documented recovery paths (phone-behaviour.md §4.3)
//! are open, closed or unknown for this phone.

use super::conditions::mixed_mode;
use super::tvs_condition::phone_list;
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::facts::KeyBackup;
use crate::diagnosis::model::Condition;
use crate::evidence::Seen;
use crate::trust::recovery::{self, PathState, RecoveryInputs};
use crate::trust::tvs::TvsNode;

/// The recovery paths of one phone, from what it holds (known exactly only), the served
/// files, its TVS nodes and the engineer's answer about the key backup.
pub(super) fn recovery(
    ctx: &PhoneCtx<'_>,
    nodes: &[TvsNode<'_>],
    tvs_cert_mismatch: Option<bool>,
    served_is_installed: bool,
) -> crate::diagnosis::model::Recovery {
    let (phone_itl, itl_label) = phone_list(ctx, served_is_installed);
    // DeviceTLInfo's CTL_Signature is the phone's CTL known by hash: equal to the served
    // CTL's, the phone holds that very CTL; otherwise the hash is what is known of it.
    // The latest alarm that reports its CTL decides: a hash, or "Not Installed" (no CTL).
    let ctl_report = ctx
        .alarms
        .iter()
        .rev()
        .map(|(_, a)| a)
        .find(|a| a.ctl_signature.is_some() || a.ctl_not_installed());
    let ctl_hash = ctl_report.and_then(|a| a.ctl_signature.as_deref().map(|h| (h, a.seen)));
    // "Not Installed" says the phone holds no CTL at that frame only: a CTL downloaded whole
    // after it may have been taken (statement 7a), so the report no longer settles it.
    let ctl_after = |at: Seen| {
        ctx.files.iter().any(|(_, f, kind)| {
            kind.is_ctl()
                && f.complete
                && !f.upload
                && (f.last.capture, f.last.frame) > (at.capture, at.frame)
        })
    };
    let phone_ctl_absent = ctl_report
        .filter(|a| a.ctl_signature.is_none() && a.ctl_not_installed() && !ctl_after(a.seen))
        .map(|a| format!("its DeviceTLInfo at {} says Not Installed", ctx.at(a.seen)));
    let served_ctl_is_phones = match (ctl_hash, &ctx.served_ctl) {
        (Some((h, _)), Some(served)) => {
            let hashes = &served.hashes;
            [&hashes.md5, &hashes.sha1, &hashes.sha256]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(h))
        }
        _ => false,
    };
    let phone_ctl = ctx
        .installed_ctl
        .and_then(|f| {
            f.usable()
                .ok()
                .map(|l| (l, format!("the phone's CTL ({})", f.name)))
        })
        .or_else(|| {
            let (_, seen) = ctl_hash.filter(|_| served_ctl_is_phones)?;
            ctx.served_ctl_list().map(|l| {
                (
                    l,
                    format!(
                        "the phone's CTL (the served CTL: its hash is the CTL_Signature of the phone's DeviceTLInfo alarm, {})",
                        ctx.at(seen)
                    ),
                )
            })
        });
    let phone_ctl_hash = ctl_hash.filter(|_| phone_ctl.is_none()).map(|(h, seen)| {
        format!(
            "{h} (CTL_Signature of the phone's DeviceTLInfo alarm, {})",
            ctx.at(seen)
        )
    });
    let cm_group = ctx
        .config
        .as_ref()
        .and_then(|c| crate::diagnosis::facts::callmanager_group_of(c.file));
    let inputs = RecoveryInputs {
        key_backup: match ctx.facts.key_backup {
            KeyBackup::Yes => Some(true),
            KeyBackup::No => Some(false),
            KeyBackup::Unknown => None,
        },
        phone_itl: phone_itl.map(|l| (l, itl_label.as_str())),
        served_itl: ctx.served_itl_list(),
        phone_ctl: phone_ctl.as_ref().map(|(l, n)| (*l, n.as_str())),
        phone_ctl_hash: phone_ctl_hash.as_deref(),
        phone_ctl_absent: phone_ctl_absent.as_deref(),
        served_ctl: ctx.served_ctl_list(),
        mixed_mode: mixed_mode(ctx),
        tvs: nodes,
        tvs_cert_mismatch,
        cm_group: cm_group.as_deref(),
    };
    let paths = recovery::recovery_paths(&inputs);
    let value = recovery::no_recovery_path(&paths);
    let explanation = match value {
        Some(false) => {
            let open: Vec<String> = paths
                .iter()
                .filter(|p| p.state == PathState::Open)
                .map(|p| format!("{}: {}", p.id, p.explanation))
                .collect();
            format!("a recovery path is open ({})", open.join("; "))
        }
        Some(true) => {
            "every recovery path is closed (other TVS, ITLRecovery, CTL, key backup)".into()
        }
        None => {
            let unknown: Vec<String> = paths
                .iter()
                .filter(|p| p.state == PathState::Unknown)
                .map(|p| format!("{}: {}", p.id, p.explanation))
                .collect();
            format!(
                "no path is known open, and these are unknown: {}",
                unknown.join("; ")
            )
        }
    };
    crate::diagnosis::model::Recovery {
        no_recovery_path: Condition::new(value, explanation),
        paths,
    }
}
