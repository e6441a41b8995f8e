//! Evidence from outside the capture (`--evidence`: console logs, PRT bundles, Status
//! Messages, `show itl`/`show ctl`, exported certificates) weighed for one phone.
//!
//! It feeds condition 1 (the installed ITL's hash from a logged `DeviceTLInfo` or the web
//! page; CUCM's `show itl` hashes when the capture holds no ITL), condition 2 (an exported TVS
//! certificate when TVS's is not visible on the wire), condition 3 (what the phone logged or
//! displayed about verifying its trust list and config) and a reported timeline. Sources that
//! contradict each other (or the options) are shown as a conflict and the condition stays
//! unknown: nothing is silently preferred.
//!
//! One file per kind of evidence: [`installed`] (condition 1), [`tvs`] (condition 2),
//! [`verification`] (condition 3 and the reported timeline), [`cucm`] (CUCM's own listings
//! and traces) and [`certs`] (exported certificates); they share [`common`]. Which facts
//! apply to a phone at all is decided below this layer, in [`super::side`].

mod certs;
mod common;
mod cucm;
mod installed;
mod tvs;
mod verification;

#[cfg(test)]
mod tests;

use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::Check;

pub use common::{set_aside, usable_facts};
pub use cucm::{CERT_ROLE_QUERY, CSCTN50405_NEXT_STEP, csctn50405_symptoms};
pub use installed::{
    compare_with_cli, display_forms, installed_conflict, installed_conflict_check,
    installed_evidence,
};
pub use tvs::{TvsFinding, TvsReport, exported_tvs, tvs_reports};
pub use verification::{
    FileVerificationReport, VerifiedWhat, file_verification_reports, reported_timeline,
    verification,
};

// Named from here before they moved below the phone's context.
pub use crate::diagnosis::context::reported_installed_for;
pub use crate::diagnosis::side::{SetAside, SetAsideWhy, sort_facts};

/// The checks that exist only when `--evidence` files were given.
pub fn checks(ctx: &PhoneCtx<'_>) -> Vec<Check> {
    let side = &ctx.facts.side;
    if side.is_empty() {
        return Vec::new();
    }
    let mut out = vec![verification::phone_reported(ctx)];
    if !side.cli_lists.is_empty() || !side.cli_actions.is_empty() {
        out.push(cucm::cucm_trust_lists(ctx));
    }
    if !side.certificates.is_empty() {
        out.push(certs::exported_certificates(ctx));
    }
    if let Some(c) = cucm::cucm_itl_csctn50405(ctx) {
        out.push(c);
    }
    if !side.tvs_trace.is_empty() {
        out.push(cucm::cucm_tvs_trace(ctx));
    }
    out
}
