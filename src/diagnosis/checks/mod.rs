//! The per-phone checks. Each returns pass / fail / unknown with the evidence it rests on and
//! a one-line explanation. Facts about phones and CUCM come from `docs/` (phone-behaviour.md).
//!
//! One file per check family: [`downloads`] (what was fetched), [`lists`] (the served ITL and
//! CTL), [`config`] (the signed config), [`tvs`] (TVS reachability and certificate), [`tls`]
//! (the phone's other TLS and certificate dates) and [`installed`] (the ITL the phone holds).
//! They share [`common`]; none of them imports this file, so the layers stay one-way.

mod common;
mod config;
mod downloads;
mod installed;
mod lists;
mod tls;
mod tvs;

use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::Check;

pub use common::transfer_outcome;
pub use lists::ITL_SIZE_LIMIT;

// Their users name them from here (trust_path.rs, timeline.rs, verdict.rs, the report).
pub use crate::diagnosis::context::{installed_matches, installed_source};
pub use crate::diagnosis::status_codes::{status_code_failed, status_code_name};
pub use crate::trust::tvs::{is_tls13, is_unreachable, phone_rejected};

/// Runs every check of one phone, in the documented order.
pub fn run_all(ctx: &PhoneCtx<'_>) -> Vec<Check> {
    vec![
        downloads::trust_list_downloads(ctx),
        lists::served_itl(ctx),
        lists::served_itl_content(ctx),
        lists::served_ctl(ctx),
        config::config(ctx),
        tvs::tvs_reachability(ctx),
        tvs::tvs_certificate(ctx),
        tls::other_tls(ctx),
        tls::certificate_validity(ctx),
        installed::installed_itl(ctx),
    ]
}
