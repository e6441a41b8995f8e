//! What the families of outside evidence share: the facts used for a phone, their
//! wording and evidence items, and flags without repeats.

use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::EvidenceItem;
use crate::diagnosis::side::{SetAside, sort_facts};
use crate::sidecar::hash::phone_form;
use crate::sidecar::{FactKind, SideFact};

/// Facts listed per check at most (a log can hold thousands).
pub(super) const MAX_ITEMS: usize = 100;

/// The `--evidence` facts used for the phone of `ctx`.
pub(super) fn ctx_facts<'e>(ctx: &PhoneCtx<'e>) -> Vec<&'e SideFact> {
    sort_facts(ctx.evidence, ctx.facts, ctx.group).0
}

/// The `--evidence` facts used for this phone (see [`sort_facts`]).
pub fn usable_facts<'e>(ctx: &PhoneCtx<'e>) -> Vec<&'e SideFact> {
    ctx_facts(ctx)
}

/// The `--evidence` facts set aside for this phone, with both sides named.
pub fn set_aside<'e>(ctx: &PhoneCtx<'e>) -> Vec<SetAside<'e>> {
    sort_facts(ctx.evidence, ctx.facts, ctx.group).1
}

/// Adds `flag` once.
pub(super) fn push_flag(flags: &mut Vec<&'static str>, flag: &'static str) {
    if !flags.contains(&flag) {
        flags.push(flag);
    }
}

/// What a fact says, in words.
pub(super) fn describe(f: &SideFact) -> String {
    match &f.kind {
        FactKind::TrustListRequest { name } => {
            format!("requests {}", name.as_deref().unwrap_or("a trust list"))
        }
        FactKind::TrustListVerified => "trust list verified and installed".into(),
        FactKind::TrustListFailed => "trust list update failed (verification failure)".into(),
        FactKind::FileAuthenticated => "signed file authenticated (hashes match)".into(),
        FactKind::ConfigAuthFailed { name } => format!(
            "{} failed authentication (its signature does not verify)",
            name.as_deref().unwrap_or("the config")
        ),
        FactKind::TvsQuery => "queries TVS".into(),
        FactKind::TvsVouched => "TVS vouched for the certificate".into(),
        FactKind::TvsFailed => "TLS connection of the security daemon (TVS) failed".into(),
        FactKind::CertNotInTrustList => {
            "a server certificate is not in its CTL (informational: the phone goes on to its ITL, then TVS; statement 11)".into()
        }
        FactKind::TftpError { name } => {
            format!("TFTP error for {}", name.as_deref().unwrap_or("a file"))
        }
        FactKind::NoTrustList => "no trust list installed".into(),
        FactKind::DeviceTlInfo(a) => format!(
            "DeviceTLInfo: ITL_Signature {}{}{}",
            a.itl_signature_raw.as_deref().unwrap_or("absent").trim(),
            a.status_code
                .map(|c| format!(", StatusCode {c} ({})", crate::diagnosis::status_codes::status_code_name(c)))
                .unwrap_or_default(),
            a.itl_tftp_server
                .as_deref()
                .map(|s| format!(", ITL_TFTP_Server {s}"))
                .unwrap_or_default()
        ),
        FactKind::ItlSignature { hex } => format!("ITL signature {}", phone_form(hex)),
        FactKind::FileVerification { ok, file, envelope } => format!(
            "{} {}",
            match (envelope, file) {
                (true, _) => "the signed envelope of the file just downloaded".to_string(),
                (false, Some(f)) => f.clone(),
                (false, None) => "a signed file".to_string(),
            },
            if *ok {
                "verified (its signature checks out against the phone's trust list)"
            } else {
                "FAILED verification (its signature does not check out against the phone's trust list)"
            }
        ),
        FactKind::TvsCertTrusted { server } => format!(
            "TVS {}'s certificate found in the phone's trust list: the phone trusts that TVS (statement 12)",
            server.as_deref().unwrap_or("(address not logged)")
        ),
        FactKind::TvsResponse { status: 0 } => {
            "TVS answered status 0: TVS vouched for the certificate asked about".into()
        }
        FactKind::TvsResponse { status } => format!(
            "TVS answered status {status}: TVS did not vouch for the certificate asked about"
        ),
        FactKind::UserAgent { agent } => {
            format!("the phone names itself {agent} (its model and firmware)")
        }
    }
}

/// A fact as an evidence item, with its source and time.
pub(super) fn fact_item(f: &SideFact) -> EvidenceItem {
    let mut item = EvidenceItem::note(format!(
        "{}{}: {} ({})",
        f.source,
        f.time
            .as_deref()
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default(),
        describe(f),
        f.text
    ))
    .with("source", f.source.to_string())
    .with("source_kind", f.source_kind.as_str())
    .with("kind", f.kind.as_str());
    if let Some(t) = &f.time {
        item = item.with("log_time", t.clone());
    }
    match &f.kind {
        FactKind::DeviceTlInfo(a) => {
            if let Some(h) = &a.itl_signature {
                item = item.with("itl_signature", h.clone());
            }
        }
        FactKind::ItlSignature { hex } => item = item.with("itl_signature", hex.clone()),
        _ => {}
    }
    item
}
