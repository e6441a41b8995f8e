//! The verdict: the four conditions of Cisco's guidance (domain.md), "required" only when all
//! four hold, "not-required" when any is false, else "undetermined"; reasons say which
//! conditions decided it and next steps come from the documented recovery paths
//! (phone-behaviour.md §4.3).
//!
//! One file per part: [`conditions`] (conditions 1, 3, 4 and the decision table),
//! [`tvs_condition`] (condition 2), [`recovery_paths`] (which recovery paths are open) and
//! [`steps`] (the next steps); this file puts them together.

mod conditions;
mod recovery_paths;
mod steps;
mod tvs_condition;

use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::{Check, Conditions, DeleteItl, TrustPath, Verdict};
use crate::trust::recovery::PathState;
use crate::trust::tvs;
use conditions::{itl_differs, no_key_backup, phone_verification_failed};
use recovery_paths::recovery;
use steps::next_steps;
use tvs_condition::tvs_cert_mismatch;

pub use conditions::decide;

/// The verdict of one phone.
pub fn verdict(ctx: &PhoneCtx<'_>, checks: &[Check], path: Option<&TrustPath>) -> Verdict {
    let nodes = tvs::nodes(ctx.tvs_sessions().map(|(_, s)| s));
    let itl_differs = itl_differs(ctx, &nodes);
    let served_is_installed = itl_differs.value == Some(false);
    let (tvs_cert_mismatch, tvs_finding) = tvs_cert_mismatch(ctx, &nodes, served_is_installed);
    let conditions = Conditions {
        tvs_cert_mismatch,
        itl_differs,
        phone_verification_failed: phone_verification_failed(ctx, path),
        no_key_backup: no_key_backup(ctx),
    };
    let recovery = recovery(
        ctx,
        &nodes,
        conditions.tvs_cert_mismatch.value,
        served_is_installed,
    );
    let decision = decide(&conditions, recovery.no_recovery_path.value);
    let named = conditions.named();
    let open: Vec<String> = recovery
        .paths
        .iter()
        .filter(|p| p.state == PathState::Open)
        .map(|p| format!("recovery path {} is open: {}", p.id, p.explanation))
        .collect();
    let reasons = match decision {
        DeleteItl::Required => std::iter::once(
            "all four conditions hold and every recovery path is closed".to_string(),
        )
        .chain(named.iter().map(|(n, c)| format!("{n}: {}", c.explanation)))
        .chain(std::iter::once(format!(
            "no_recovery_path: {}",
            recovery.no_recovery_path.explanation
        )))
        .collect(),
        DeleteItl::NotRequired => {
            let false_ones: Vec<String> = named
                .iter()
                .filter(|(_, c)| c.value == Some(false))
                .map(|(n, c)| format!("{n} is false: {}", c.explanation))
                .collect();
            if false_ones.is_empty() {
                open
            } else {
                false_ones
            }
        }
        DeleteItl::Undetermined => named
            .iter()
            .take(3)
            .filter(|(_, c)| c.value.is_none())
            .map(|(n, c)| format!("{n} is unknown: {}", c.explanation))
            .chain((recovery.no_recovery_path.value.is_none()).then(|| {
                format!(
                    "no_recovery_path is unknown: {}",
                    recovery.no_recovery_path.explanation
                )
            }))
            .chain(
                named
                    .iter()
                    .filter(|(_, c)| c.value == Some(true))
                    .map(|(n, c)| format!("{n} is true: {}", c.explanation)),
            )
            .collect(),
    };
    let next_steps = next_steps(
        ctx,
        &nodes,
        &conditions,
        &recovery,
        checks,
        path,
        tvs_finding,
    );
    Verdict {
        delete_itl: decision,
        conditions,
        recovery,
        reasons,
        next_steps,
    }
}
