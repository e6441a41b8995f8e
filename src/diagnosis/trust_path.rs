//! The trust path: given the ITL the phone holds, would it accept the served ITL and config?
//! A phone accepts a new file when its signer is already in its ITL (SAST / TFTP roles), or when
//! a TVS listed in its ITL — whose certificate on the wire matches that record — vouches for the
//! signer; with no ITL or an empty (rollback) one it accepts anything (phone-behaviour.md §4.1).

use super::checks::{installed_matches, is_tls13, is_unreachable, phone_rejected};
use super::context::{Installed, PhoneCtx, Served};
use super::model::{Acceptance, PathStep, TrustPath};
use super::trust::{describe_record, find_certificate, is_rollback, normalise_dn, tvs_records};
use crate::cisco::model::{Header, SignatureCheck, TrustList, function};

/// Roles that may sign a trust list for the phone.
const ITL_SIGNERS: &[u16] = &[function::SAST, function::CCM_TFTP, function::TFTP];
/// Roles that may sign a config.
const CONFIG_SIGNERS: &[u16] = &[function::CCM_TFTP, function::TFTP];

fn step(acceptance: Acceptance, via: Option<&'static str>, explanation: String) -> PathStep {
    PathStep {
        acceptance,
        via,
        explanation,
    }
}

/// The record of `list` named by a file header's signer fields, with an allowed role.
fn signer_in(list: &TrustList<'_>, header: &Header<'_>, roles: &[u16]) -> Option<usize> {
    let serial = header.signer_serial?;
    let issuer = header
        .signer_issuer
        .map(|i| normalise_dn(&String::from_utf8_lossy(i)));
    list.records.iter().position(|r| {
        r.function.is_some_and(|f| roles.contains(&f))
            && r.serial.is_some_and(|s| crate::cisco::serial_eq(s, serial))
            && match (&issuer, r.issuer) {
                (Some(h), Some(ri)) => *h == normalise_dn(&String::from_utf8_lossy(ri)),
                _ => true,
            }
    })
}

/// Can a TVS listed in `list` vouch, as far as the capture shows?
fn tvs_route(ctx: &PhoneCtx<'_>, list: &TrustList<'_>, what: &str) -> PathStep {
    let records = tvs_records(list);
    if records.is_empty() {
        return step(
            Acceptance::Rejected,
            None,
            format!(
                "the {what}'s signer is not in the phone's ITL and that ITL lists no TVS to ask: the phone rejects it"
            ),
        );
    }
    let mut seen_mismatch = None;
    let mut matched_unfinished = None;
    let mut tls13 = false;
    let mut unreachable = false;
    for (_, s) in ctx.tvs_sessions() {
        tls13 |= is_tls13(s) && s.certificates.is_empty();
        unreachable |= is_unreachable(s);
        let Some(leaf) = s.certificates.first() else {
            continue;
        };
        match find_certificate(leaf, list, &[function::TVS]) {
            Some((record, how)) => {
                if s.handshake_complete && phone_rejected(s).is_none() {
                    return step(
                        Acceptance::Accepted,
                        Some("via-tvs"),
                        format!(
                            "only through TVS: the {what}'s signer is not in the phone's ITL, but TVS {} presented a certificate matching {} (by {}) and the handshake completed (frame {}); what TVS answered is encrypted",
                            s.server,
                            describe_record(list, record),
                            how.as_str(),
                            s.first.frame
                        ),
                    );
                }
                matched_unfinished = Some(s.server);
            }
            None => seen_mismatch = Some((s.server, leaf.serial.clone())),
        }
    }
    if let Some(server) = matched_unfinished {
        return step(
            Acceptance::Undetermined,
            None,
            format!(
                "the {what}'s signer is not in the phone's ITL; TVS {server} presented a matching certificate but the handshake did not complete"
            ),
        );
    }
    if let Some((server, serial)) = seen_mismatch {
        return step(
            Acceptance::Rejected,
            None,
            format!(
                "not at all: the {what}'s signer is not in the phone's ITL, and TVS {server} presented a certificate (serial {serial}) that matches none of the ITL's {} TVS record(s)",
                records.len()
            ),
        );
    }
    let why = if tls13 {
        "TVS spoke TLS 1.3, so its certificate cannot be compared"
    } else if unreachable {
        "TVS did not answer (a service problem)"
    } else {
        "no TVS session is in the capture"
    };
    step(
        Acceptance::Undetermined,
        None,
        format!(
            "only through one of the ITL's {} TVS record(s), and {why}",
            records.len()
        ),
    )
}

/// Would a phone holding `installed` accept `served`?
fn itl_step(ctx: &PhoneCtx<'_>, installed: &TrustList<'_>, served: &Served<'_>) -> PathStep {
    if installed.bytes == served.file.data.as_slice() {
        return step(
            Acceptance::Accepted,
            Some("same-file"),
            "the phone already holds the served ITL".into(),
        );
    }
    if is_rollback(installed, super::trust::header_signer(installed)) {
        return step(
            Acceptance::Accepted,
            Some("rollback-itl"),
            "the phone holds an empty (rollback) ITL and accepts any new ITL".into(),
        );
    }
    let Ok(list) = &served.parsed else {
        return step(
            Acceptance::Rejected,
            None,
            "the served ITL does not parse: the phone rejects it".into(),
        );
    };
    if let Some(SignatureCheck::Invalid { reason }) = &served.signature {
        return step(
            Acceptance::Rejected,
            None,
            format!("the served ITL's own signature does not verify ({reason})"),
        );
    }
    match signer_in(installed, &list.header, ITL_SIGNERS) {
        Some(record) => match ctx.backend.verify_with_trust(
            served.file.data.as_slice(),
            &list.header,
            installed,
            ITL_SIGNERS,
        ) {
            SignatureCheck::Valid { signer_record } => step(
                Acceptance::Accepted,
                Some("signer-in-itl"),
                format!(
                    "its signer is already in the phone's ITL ({})",
                    describe_record(installed, signer_record)
                ),
            ),
            SignatureCheck::Invalid { reason } => step(
                Acceptance::Rejected,
                None,
                format!(
                    "its signer names {} of the phone's ITL but the signature does not verify with it ({reason})",
                    describe_record(installed, record)
                ),
            ),
            SignatureCheck::NotCheckable { reason } => step(
                Acceptance::Undetermined,
                None,
                format!(
                    "its signer is {} of the phone's ITL; the signature could not be checked ({reason})",
                    describe_record(installed, record)
                ),
            ),
        },
        None => tvs_route(ctx, installed, "served ITL"),
    }
}

/// Would a phone whose trust list is `effective` accept the served config?
fn config_step(ctx: &PhoneCtx<'_>, effective: &TrustList<'_>, label: &str) -> PathStep {
    let Some(config) = &ctx.config else {
        return step(
            Acceptance::Undetermined,
            None,
            "no signed config was downloaded whole in the capture".into(),
        );
    };
    if is_rollback(effective, super::trust::header_signer(effective)) {
        return step(
            Acceptance::Accepted,
            Some("rollback-itl"),
            format!("{label} is an empty (rollback) ITL: any config is accepted"),
        );
    }
    let parsed = match &config.parsed {
        Ok(p) => p,
        Err(e) => {
            return step(
                Acceptance::Undetermined,
                None,
                format!("{} could not be read: {e}", config.file.name),
            );
        }
    };
    match signer_in(effective, &parsed.header, CONFIG_SIGNERS) {
        Some(record) => match ctx.backend.verify_with_trust(
            config.file.data.as_slice(),
            &parsed.header,
            effective,
            CONFIG_SIGNERS,
        ) {
            SignatureCheck::Valid { signer_record } => step(
                Acceptance::Accepted,
                Some("signer-in-itl"),
                format!(
                    "{} is signed by {} of {label}",
                    config.file.name,
                    describe_record(effective, signer_record)
                ),
            ),
            SignatureCheck::Invalid { reason } => step(
                Acceptance::Rejected,
                None,
                format!(
                    "{} names {} of {label} but its signature does not verify ({reason})",
                    config.file.name,
                    describe_record(effective, record)
                ),
            ),
            SignatureCheck::NotCheckable { reason } => step(
                Acceptance::Undetermined,
                None,
                format!("the config signature could not be checked ({reason})"),
            ),
        },
        None => tvs_route(ctx, effective, "config"),
    }
}

/// The trust path of one phone, when its installed ITL is known well enough.
pub fn trust_path(ctx: &PhoneCtx<'_>) -> Option<TrustPath> {
    let undetermined = |basis: String, why: &str| TrustPath {
        basis,
        itl: step(Acceptance::Undetermined, None, why.to_string()),
        config: step(Acceptance::Undetermined, None, why.to_string()),
    };
    match &ctx.installed {
        Installed::Unknown => None,
        Installed::NotInstalled(_) | Installed::ReportedNone(_) => {
            let basis = match &ctx.installed {
                Installed::NotInstalled(alarm) => format!(
                    "DeviceTLInfo alarm, frame {}: no ITL installed",
                    alarm.seen.frame
                ),
                other => super::checks::installed_source(other),
            };
            let itl = step(
                Acceptance::Accepted,
                Some("no-itl"),
                "the phone holds no ITL and takes the first one on leap of faith".into(),
            );
            let config = match ctx.served_itl_list() {
                Some(list) => config_step(ctx, list, "the served ITL"),
                None => step(
                    Acceptance::Undetermined,
                    None,
                    "no served ITL to check the config against".into(),
                ),
            };
            Some(TrustPath { basis, itl, config })
        }
        Installed::File(file) => {
            let basis = format!("--phone-itl {}", file.name);
            let installed = match &file.parsed {
                Ok(list) => list,
                Err(e) => {
                    return Some(undetermined(
                        basis,
                        &format!("the phone's ITL does not parse: {e}"),
                    ));
                }
            };
            Some(path_from(ctx, basis, installed))
        }
        installed @ (Installed::OperatorHash(_)
        | Installed::AlarmHash { .. }
        | Installed::Reported { .. }) => {
            let basis = super::checks::installed_source(installed);
            let served = ctx.served_itl.as_ref()?;
            match (installed_matches(installed, served), &served.parsed) {
                (Some(true), Ok(list)) => Some(path_from(
                    ctx,
                    format!("{basis} (equals the served ITL)"),
                    list,
                )),
                (Some(true), Err(_)) => Some(undetermined(basis, "the served ITL does not parse")),
                _ => Some(undetermined(
                    basis,
                    "the phone's ITL is known only by a hash that differs from the served ITL: give --phone-itl FILE to trace the trust path",
                )),
            }
        }
    }
}

fn path_from(ctx: &PhoneCtx<'_>, basis: String, installed: &TrustList<'_>) -> TrustPath {
    let Some(served) = &ctx.served_itl else {
        return TrustPath {
            basis,
            itl: step(
                Acceptance::Undetermined,
                None,
                "no ITL was downloaded whole in the capture".into(),
            ),
            config: config_step(ctx, installed, "the phone's ITL"),
        };
    };
    let itl = itl_step(ctx, installed, served);
    // A phone that takes the new ITL checks its config against it; otherwise against its own.
    let config = match (itl.acceptance, ctx.served_itl_list()) {
        (Acceptance::Accepted, Some(list)) => config_step(ctx, list, "the served ITL"),
        _ => config_step(ctx, installed, "the phone's ITL"),
    };
    TrustPath { basis, itl, config }
}
