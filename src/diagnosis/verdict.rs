//! The verdict: the four conditions of Cisco's guidance (domain.md), "required" only when all
//! four hold, "not-required" when any is false, else "undetermined"; reasons say which
//! conditions decided it and next steps come from the documented recovery paths
//! (phone-behaviour.md §4.3).

use super::checks::{
    installed_matches, is_tls13, is_unreachable, status_code_failed, status_code_name,
};
use super::context::{Installed, PhoneCtx};
use super::facts::{KeyBackup, PhoneStatus};
use super::model::{
    Acceptance, Check, Condition, Conditions, DeleteItl, NextStep, TrustPath, Verdict,
};
use super::names::RequestKind;
use super::trust::find_certificate;
use super::trust_path::signer_relation;
use crate::cisco::model::{TrustList, function};
use crate::evidence::{CertificateInfo, TlsAlert, TlsSession};
use crate::trust::recovery::{self, PathState, RecoveryInputs, RecoveryPath};
use crate::trust::tvs::{self, Stance, TvsNode, server_refused};

/// `itl_differs`: installed ITL vs served ITL; null when either side is unknown. A phone that
/// reports no ITL at all has nothing to delete, so the condition is false for it.
fn itl_differs(ctx: &PhoneCtx<'_>, nodes: &[TvsNode<'_>]) -> Condition {
    if let Some(conflict) = super::outside::installed_conflict(ctx) {
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
        (installed, None) => {
            super::outside::compare_with_cli(ctx, installed).unwrap_or_else(|| {
                Condition::new(
                    None,
                    "no ITL was downloaded whole in the capture to compare the phone's ITL with",
                )
            })
        }
        (installed, Some(served)) => {
            let source = super::checks::installed_source(ctx.evidence, installed);
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

/// Why `tvs_cert_mismatch` came out as it did: the next steps follow from it.
#[derive(Clone)]
enum TvsFinding<'e> {
    /// A certificate was compared, or the phone's behaviour decided (true or false).
    Compared,
    /// No TVS session in the capture.
    NoSession,
    /// TVS never answered.
    Unreachable,
    /// TLS 1.3: the certificate is encrypted.
    Tls13,
    /// TVS answered the ClientHello with a fatal alert before any certificate: a TLS version
    /// or cipher mismatch.
    ServerRefused(&'e TlsSession, &'e TlsAlert),
    /// Sessions without a certificate in clear, for no known reason.
    NoClearCertificate,
    /// A certificate was seen, the phone neither accepted nor rejected it, and its ITL is not
    /// known exactly.
    NoReference,
    /// The phone rejected a certificate that the ITL taken for its own lists: it holds
    /// another ITL. The string says how it rejected.
    PhoneHoldsAnotherItl(&'e TlsSession, String),
    /// The certificate is in no TVS record of `--phone-itl`, yet the phone completed the
    /// handshake: the file is not what the phone holds.
    ContradictsPhoneItl(&'e TlsSession),
    /// The phone's log says it trusts TVS, the wire shows it rejecting TVS (the log's source).
    LogContradicts(String),
    /// The phone completed the handshake, yet the TVS certificate exported from CUCM matches
    /// no TVS record of the phone's ITL.
    ExportContradicts(&'e TlsSession, String),
}

/// The phone's ITL when known exactly and not in conflict: `--phone-itl`, or the served ITL
/// when condition 1 found the phone holds it (a hash that the wire contradicts does not count).
fn phone_list<'c, 'e>(
    ctx: &'c PhoneCtx<'e>,
    served_is_installed: bool,
) -> (Option<&'c TrustList<'e>>, String) {
    let (list, name) = ctx.phone_itl_exact();
    if ctx.installed_file.is_some() || served_is_installed {
        (list, name)
    } else {
        (None, name)
    }
}

/// The phone accepted the server's certificate (see [`tvs::stance`]).
fn phone_accepted(s: &TlsSession) -> bool {
    matches!(tvs::stance(s), Stance::Trusted { .. })
}

fn listed(cert: &CertificateInfo, list: &TrustList<'_>) -> bool {
    find_certificate(cert, list, &[function::TVS]).is_some()
}

/// `tvs_cert_mismatch` from the phone's behaviour per TVS node (statements 12, 17, 21, 24):
/// true only when no TVS the phone reached is trusted and at least one was rejected (or,
/// with the phone's ITL known exactly, presents a certificate its TVS records lack); false
/// when the phone trusts a TVS; unknown when nothing shows either, or when the wire and an
/// input (the phone's ITL, an exported TVS certificate) contradict each other.
fn tvs_cert_mismatch<'e>(
    ctx: &PhoneCtx<'e>,
    nodes: &[TvsNode<'e>],
    served_is_installed: bool,
) -> (Condition, TvsFinding<'e>) {
    if let Some(file) = ctx.installed_file
        && let Err(e) = file.usable()
    {
        return (
            Condition::new(None, format!("--phone-itl {} {e}", file.name)),
            TvsFinding::NoReference,
        );
    }
    let (exact, name) = phone_list(ctx, served_is_installed);
    let cert_of = |n: &TvsNode<'e>| n.certificate.map(|c| c.as_ref());
    let trusted: Vec<&TvsNode<'e>> = nodes
        .iter()
        .filter(|n| matches!(n.stance, Stance::Trusted { .. }))
        .collect();
    let rejected: Vec<&TvsNode<'e>> = nodes
        .iter()
        .filter(|n| matches!(n.stance, Stance::Rejected { .. }))
        .collect();

    // The wire against the list taken for the phone's: either contradiction leaves the
    // condition unknown, with both sides named.
    if let Some(list) = exact {
        for n in &trusted {
            if let Some(cert) = cert_of(n)
                && !listed(cert, list)
            {
                return (
                    Condition::new(
                        None,
                        format!(
                            "TVS {} presented {} (serial {}), which matches no TVS record of {name}, yet {} ({}): it accepted that certificate, so {name} is not the ITL it holds",
                            n.server,
                            cert.subject,
                            cert.serial,
                            n.stance.describe_at(|seen| ctx.at(seen)),
                            ctx.at(n.session.last)
                        ),
                    ),
                    TvsFinding::ContradictsPhoneItl(n.session),
                );
            }
        }
        for n in &rejected {
            if let (
                Some(cert),
                Stance::Rejected {
                    not_trusted: true, ..
                },
            ) = (cert_of(n), &n.stance)
                && listed(cert, list)
            {
                return (
                    Condition::new(
                        None,
                        format!(
                            "TVS {} presented {} (serial {}), which {name} lists, yet {}: the phone holds another ITL than {name}",
                            n.server,
                            cert.subject,
                            cert.serial,
                            n.stance.describe_at(|seen| ctx.at(seen))
                        ),
                    ),
                    TvsFinding::PhoneHoldsAnotherItl(
                        n.session,
                        n.stance.describe_at(|seen| ctx.at(seen)),
                    ),
                );
            }
        }
    }

    if let Some(n) = trusted.first() {
        // An exported certificate that the phone's ITL lacks contradicts a completed
        // handshake whose certificate was encrypted (TLS 1.3).
        if trusted.iter().all(|t| t.certificate.is_none())
            && let Some(exported) = super::outside::exported_tvs(ctx, exact, &name, "")
            && exported.value == Some(true)
        {
            return (
                Condition::new(
                    None,
                    format!(
                        "TVS {}: {} ({}), so the phone trusts its certificate, but{}: one of them is not what this phone sees (export the certificate of the node it asks, or check the phone's ITL)",
                        n.server,
                        n.stance.describe_at(|seen| ctx.at(seen)),
                        ctx.at(n.session.last),
                        exported.explanation.trim_start_matches(';')
                    ),
                ),
                TvsFinding::ExportContradicts(n.session, exported.explanation),
            );
        }
        let others = if rejected.is_empty() {
            String::new()
        } else {
            format!(
                "; it rejected {} (another node of its CallManager group vouches, statement 24)",
                rejected
                    .iter()
                    .map(|r| r.server.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return (
            Condition::new(
                Some(false),
                format!(
                    "TVS {}: {}, so TVS's certificate is in the ITL the phone holds (statement 12){others}",
                    n.server,
                    n.stance.describe_at(|seen| ctx.at(seen))
                ),
            ),
            TvsFinding::Compared,
        );
    }

    // The phone's own log saying it found TVS's certificate in its trust list
    // (`tvs_cert_vfy`, phone-log-lines.md §4) is the same fact as a completed handshake.
    if let Some(report) = super::outside::tvs_reports(ctx)
        .into_iter()
        .find(|r| r.finding == super::outside::TvsFinding::PhoneTrustsTvs)
    {
        let server = report.server.clone().unwrap_or_else(|| "TVS".into());
        return match rejected.first() {
            Some(n) => (
                Condition::new(
                    None,
                    format!(
                        "the phone's log says it verified TVS {server}'s certificate with its trust list ({}: {}), but on the wire TVS {}: {}: the log and the capture disagree (is the log from this boot?)",
                        report.source,
                        report.text,
                        n.server,
                        n.stance.describe_at(|seen| ctx.at(seen))
                    ),
                ),
                TvsFinding::LogContradicts(report.source.clone()),
            ),
            None => (
                Condition::new(
                    Some(false),
                    format!(
                        "the phone's log says it verified TVS {server}'s certificate with the hash from its trust list ({}: {}): it trusts that TVS (statement 12)",
                        report.source, report.text
                    ),
                ),
                TvsFinding::Compared,
            ),
        };
    }
    let decisive: Vec<&&TvsNode<'e>> = rejected
        .iter()
        .filter(|n| match (&n.stance, exact, cert_of(n)) {
            (
                Stance::Rejected {
                    not_trusted: true, ..
                },
                _,
                _,
            ) => true,
            (_, Some(list), Some(cert)) => !listed(cert, list),
            _ => false,
        })
        .collect();
    if let Some(n) = decisive.first() {
        let cert = cert_of(n)
            .map(|c| {
                format!(
                    "{} (serial {}, sha1 {}, {})",
                    c.subject,
                    c.serial,
                    c.sha1,
                    ctx.at(super::context::session_time(n.session))
                )
            })
            .unwrap_or_else(|| "its certificate".into());
        let record = match (exact, cert_of(n)) {
            (Some(list), Some(c)) if !listed(c, list) => {
                format!(", which matches no TVS record of {name}")
            }
            _ => String::new(),
        };
        return (
            Condition::new(
                Some(true),
                format!(
                    "TVS {} presented {cert}{record}; {}, and no TVS the phone reached is trusted",
                    n.server,
                    n.stance.describe_at(|seen| ctx.at(seen))
                ),
            ),
            TvsFinding::Compared,
        );
    }
    if let Some(n) = rejected.first() {
        // Refused as expired or revoked: the certificate may well be in the phone's ITL.
        if let (Some(list), Some(cert)) = (exact, cert_of(n))
            && listed(cert, list)
        {
            return (
                Condition::new(
                    Some(false),
                    format!(
                        "TVS {} presented {} (serial {}), which matches a TVS record of {name}; {}: the certificate itself must be renewed",
                        n.server,
                        cert.subject,
                        cert.serial,
                        n.stance.describe_at(|seen| ctx.at(seen))
                    ),
                ),
                TvsFinding::Compared,
            );
        }
        return (
            Condition::new(
                None,
                format!(
                    "TVS {}: {}, which says why the phone refused it, not whether its ITL lists it; give --phone-itl FILE to compare",
                    n.server,
                    n.stance.describe_at(|seen| ctx.at(seen))
                ),
            ),
            TvsFinding::NoReference,
        );
    }

    // No behaviour either way: certificates in clear against the phone's exact ITL.
    let leaves: Vec<(&TvsNode<'e>, &CertificateInfo)> = nodes
        .iter()
        .filter_map(|n| cert_of(n).map(|c| (n, c)))
        .collect();
    if !leaves.is_empty() {
        let Some(list) = exact else {
            let (s, _) = leaves[0];
            return (
                Condition::new(
                    None,
                    format!(
                        "TVS {} presented a certificate, but the phone's behaviour shows neither acceptance nor rejection ({}) and {name}: give --phone-itl FILE to compare",
                        s.server,
                        s.stance.describe()
                    ),
                ),
                TvsFinding::NoReference,
            );
        };
        if let Some((n, c)) = leaves.iter().find(|(_, c)| !listed(c, list)) {
            return (
                Condition::new(
                    Some(true),
                    format!(
                        "TVS {} presented {} (serial {}, sha1 {}, {}), which matches no TVS record of {name}",
                        n.server,
                        c.subject,
                        c.serial,
                        c.sha1,
                        ctx.at(super::context::session_time(n.session))
                    ),
                ),
                TvsFinding::Compared,
            );
        }
        return (
            Condition::new(
                Some(false),
                format!(
                    "every TVS certificate on the wire ({}) matches a TVS record of {name}",
                    leaves
                        .iter()
                        .map(|(n, c)| format!("{} serial {}", n.server, c.serial))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            TvsFinding::Compared,
        );
    }

    let sessions: Vec<&TlsSession> = nodes.iter().map(|n| n.session).collect();
    let refused = nodes.iter().find_map(|n| match &n.stance {
        Stance::ServerRefused(_) => server_refused(n.session).map(|a| (n.session, a)),
        _ => None,
    });
    let (why, finding) = if sessions.iter().any(|s| is_tls13(s)) {
        (
            "TVS spoke TLS 1.3: its certificate is encrypted and the session does not show the phone accepting it (no application data both ways)".to_string(),
            TvsFinding::Tls13,
        )
    } else if let Some((s, alert)) = refused {
        (
            format!(
                "TVS {} refused the handshake (fatal {} from the server at {}, before any certificate): a TLS version or cipher mismatch, so no certificate was presented",
                s.server,
                alert.describe(),
                ctx.at(alert.seen)
            ),
            TvsFinding::ServerRefused(s, alert),
        )
    } else if !sessions.is_empty() && sessions.iter().all(|s| is_unreachable(s)) {
        (
            "TVS never answered, so no certificate was presented".to_string(),
            TvsFinding::Unreachable,
        )
    } else if sessions.is_empty() {
        (
            "no TVS (TCP 2445) session in the capture".to_string(),
            TvsFinding::NoSession,
        )
    } else {
        (
            "no TVS certificate seen in clear".to_string(),
            TvsFinding::NoClearCertificate,
        )
    };
    if let Some(c) = super::outside::exported_tvs(ctx, exact, &name, &why) {
        return (c, TvsFinding::Compared);
    }
    (Condition::new(None, why), finding)
}

fn phone_verification_failed(ctx: &PhoneCtx<'_>, path: Option<&TrustPath>) -> Condition {
    if let Some(c) = super::outside::verification(ctx) {
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
fn mixed_mode(ctx: &PhoneCtx<'_>) -> Option<bool> {
    if ctx.served_ctl.is_some() {
        return Some(true);
    }
    let not_found = ctx.files.iter().any(|(_, f, k)| {
        matches!(k, RequestKind::CtlPerPhone | RequestKind::CtlGeneric)
            && (f.tftp_error_code == Some(1) || f.http_status == Some(404))
    });
    not_found.then_some(false)
}

/// The recovery paths of one phone, from what it holds (known exactly only), the served
/// files, its TVS nodes and the engineer's answer about the key backup.
fn recovery(
    ctx: &PhoneCtx<'_>,
    nodes: &[TvsNode<'_>],
    tvs_cert_mismatch: Option<bool>,
    served_is_installed: bool,
) -> super::model::Recovery {
    let (phone_itl, itl_label) = phone_list(ctx, served_is_installed);
    // DeviceTLInfo's CTL_Signature is the phone's CTL known by hash: equal to the served
    // CTL's, the phone holds that very CTL; otherwise the hash is what is known of it.
    let ctl_hash = ctx
        .alarms
        .iter()
        .rev()
        .find_map(|(_, a)| a.ctl_signature.as_deref().map(|h| (h, a.seen)));
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
        .and_then(|c| crate::cisco::config::callmanager_group(&c.file.data));
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
    super::model::Recovery {
        no_recovery_path: Condition::new(value, explanation),
        paths,
    }
}

/// `name = true|false|unknown`, for a step's `because`.
fn cond(name: &str, c: &Condition) -> String {
    let value = match c.value {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    format!("{name} = {value}")
}

/// `check-id: flag` of the first check carrying `flag`.
fn flagged(checks: &[Check], flag: &str) -> Option<String> {
    checks
        .iter()
        .find(|c| c.flags.contains(&flag))
        .map(|c| format!("{}: {flag}", c.id))
}

/// The next steps being built: each added once, with why.
#[derive(Default)]
struct Steps(Vec<NextStep>);

impl Steps {
    fn add(&mut self, id: &'static str, because: Vec<String>, text: impl Into<String>) {
        if self.0.iter().any(|s| s.id == id) {
            return;
        }
        self.0.push(NextStep {
            id,
            text: text.into(),
            because,
        });
    }
}

fn version_names(versions: &[u16]) -> String {
    let names: Vec<String> = versions
        .iter()
        .map(|v| crate::evidence::tls_version_name(*v))
        .collect();
    if names.is_empty() {
        "no version seen".into()
    } else {
        names.join(", ")
    }
}

/// Steps for problems the capture shows that deleting the ITL does not fix: they come
/// first, whatever the verdict.
fn service_steps(
    steps: &mut Steps,
    ctx: &PhoneCtx<'_>,
    checks: &[Check],
    tvs: TvsFinding<'_>,
    nodes: &[TvsNode<'_>],
) {
    if let Some(check) = checks
        .iter()
        .find(|c| c.id == "cucm-itl-csctn50405" && c.status == super::model::Status::Fail)
    {
        let next = super::outside::CSCTN50405_NEXT_STEP;
        let mut text = next.to_string();
        if let Some(first) = text.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        steps.add(
            "csctn50405",
            vec![format!("{}: fail (statement 27)", check.id)],
            format!("{text}."),
        );
    }
    if let Some(stale) = stale_served_itl(ctx, nodes) {
        steps.add(
            "restart-tftp-tvs",
            vec![stale.clone()],
            format!(
                "Restart the Cisco TFTP and Cisco Trust Verification Service on every node, then reset the phones (statement 23): {stale}, so the TFTP server still serves an ITL built before TVS's certificate changed. Deleting the ITL would make the phone take that stale ITL, which does not trust TVS either."
            ),
        );
    }
    if let Some(f) = flagged(checks, "tvs-unreachable") {
        steps.add(
            "restore-tvs-reachability",
            vec![f],
            "Restore TVS reachability: check the Cisco Trust Verification Service and TCP 2445 from the phone to each CUCM node in its group; an unreachable TVS is a service problem and deleting the ITL does not fix it.",
        );
    }
    if let TvsFinding::ServerRefused(s, alert) = tvs {
        steps.add(
            "tvs-tls-version",
            vec![
                format!("tvs-reachability: TVS sent fatal {} before its certificate", alert.describe()),
                "tvs_cert_mismatch = unknown".into(),
            ],
            format!(
                "Fix the TLS version or cipher mismatch with TVS {}: it answered the phone's ClientHello with a fatal {} ({}; the phone offered {}), which is a protocol mismatch, not a certificate problem, and deleting the ITL does not fix it. Compare the TLS minimum on each CUCM node (`show tls min-version`, raised with `set tls min-version` since 11.5(1)SU3; on CUCM 15 SU2 and later TVS also speaks TLS 1.3, and a 1.3 minimum locks out firmware without it) with what this phone's firmware offers: lower the minimum or upgrade the firmware.",
                s.server,
                alert.describe(),
                ctx.at(alert.seen),
                version_names(&s.offered_versions)
            ),
        );
    }
    if let TvsFinding::Tls13 = tvs {
        let mut because = vec!["tvs_cert_mismatch = unknown".to_string()];
        because.extend(flagged(checks, "tls13-tvs"));
        steps.add(
            "compare-tvs-by-hand",
            because,
            format!(
                "TVS speaks TLS 1.3 (CUCM 15 SU2 or later with a TLS 1.3 phone), so its certificate is encrypted on the wire: compare the TVS record serial of {} (`itlscope show`, or `show itl` on CUCM) with `show cert own TVS` on each node by hand.",
                ctx.installed_file
                    .map(|f| format!("the phone's ITL {}", f.name))
                    .unwrap_or_else(|| "the phone's ITL".into())
            ),
        );
    }
    if let Some(f) = flagged(checks, "itl-over-64k") {
        steps.add(
            "shrink-itl",
            vec![f],
            "Shrink the ITL below 64 KB (fewer certificates in the cluster's trust stores); an oversized ITL fails to load and deleting it on the phone does not help.",
        );
    }
    let broken: Vec<String> = flagged(checks, "bad-signature")
        .into_iter()
        .chain(flagged(checks, "unparseable"))
        .collect();
    if !broken.is_empty() {
        steps.add(
            "rebuild-trust-list",
            broken,
            "The TFTP server serves a broken trust list: restart the Cisco TFTP service so it rebuilds the ITL/CTL, and check the CallManager/ITLRecovery certificates; phones keep their old ITL meanwhile.",
        );
    }
    let validity: Vec<String> = flagged(checks, "certificate-expired")
        .into_iter()
        .chain(flagged(checks, "certificate-not-yet-valid"))
        .collect();
    if !validity.is_empty() {
        steps.add(
            "renew-certificates",
            validity,
            "Renew the expired or not-yet-valid certificate(s) on CUCM one at a time (never CallManager and TVS together), letting the phones re-download the ITL in between.",
        );
    }
}

/// The file given as the phone's ITL lacks the certificate of a TVS the phone trusts.
fn check_phone_itl_step(steps: &mut Steps, ctx: &PhoneCtx<'_>, c: &Conditions, s: &TlsSession) {
    steps.add(
        "check-phone-itl",
        vec![
            cond("tvs_cert_mismatch", &c.tvs_cert_mismatch),
            format!("TVS {} handshake completed ({})", s.server, ctx.at(s.last)),
        ],
        format!(
            "Check the --phone-itl file: the phone completed the TVS handshake with {}, whose certificate the file does not list, so the file is not the ITL this phone holds. Read the ITL hash on the phone (--phone-itl-hash) or take this phone's own ITLSEP<MAC>.tlv.",
            s.server
        ),
    );
}

/// The step that takes an open recovery path.
fn recovery_step(steps: &mut Steps, p: &RecoveryPath) {
    let because = vec![format!("recovery path {}: open ({})", p.id, p.explanation)];
    match p.id {
        "itl-recovery" => steps.add(
            "utils-itl-reset",
            because,
            "Run `utils itl reset localkey` on the publisher (CUCM 10.0+): the reset ITL is signed with the ITLRecovery key the phone's ITL still holds, so the phone accepts it; restart Cisco TFTP and TVS, then reset the phones (twice) so they take the reset ITL and then the new one. No ITL deletion is needed.",
        ),
        "ctl" => steps.add(
            "rerun-ctl-client",
            because,
            "Mixed mode: update the CTL so it lists the new CallManager certificate, signed by a key the phone's CTL trusts: re-run the CTL client with the same eToken (or `utils ctl update CTLFile` on a tokenless cluster), restart Cisco TFTP and TVS, then reset the phones; the CTL's CCM+TFTP then vouches for the new ITL (statements 7c, 30). No ITL deletion is needed.",
        ),
        "key-backup" => steps.add(
            "restore-tftp-key",
            because,
            "Restore the old CallManager (and ITLRecovery) certificate with its private key from the DRS backup, so the TFTP server signs with a key the phone's ITL holds; restart Cisco TFTP and TVS, then reset the phones. Take a new DRS backup afterwards.",
        ),
        _ => {}
    }
}

/// A TVS node presents a certificate that the served ITL lists under the same name but as
/// another certificate: the ITL was built before TVS was regenerated and TFTP was not
/// restarted (statement 23). Names the node and the record.
fn stale_served_itl(ctx: &PhoneCtx<'_>, nodes: &[TvsNode<'_>]) -> Option<String> {
    let served = ctx.served_itl_list()?;
    nodes.iter().find_map(|n| {
            let cert = n.certificate?;
            if listed(cert, served) {
                return None;
            }
            let subject = super::trust::normalise_dn(&cert.subject);
            let record = crate::trust::records::tvs_records(served)
                .into_iter()
                .find(|&i| {
                    served.records[i].subject.is_some_and(|s| {
                        super::trust::normalise_dn(&String::from_utf8_lossy(s)) == subject
                    })
                })?;
            Some(format!(
                "TVS {} presents {} (serial {}), but the served ITL's {} is another certificate of that name",
                n.server,
                cert.subject,
                cert.serial,
                crate::trust::records::describe_record(served, record)
            ))
        })
}

/// The first TVS session the phone completed a handshake with, for citing it.
fn trusted_tvs<'e>(ctx: &PhoneCtx<'e>) -> Option<&'e TlsSession> {
    ctx.tvs_sessions()
        .map(|(_, s)| s)
        .find(|s| !s.certificates.is_empty() && phone_accepted(s))
}

/// What the next steps of one phone are chosen from: the verdict's inputs and what is
/// derived from them once.
struct Situation<'s, 'e> {
    ctx: &'s PhoneCtx<'e>,
    nodes: &'s [TvsNode<'s>],
    conditions: &'s Conditions,
    recovery: &'s super::model::Recovery,
    checks: &'s [Check],
    path: Option<&'s TrustPath>,
    tvs: &'s TvsFinding<'s>,
    decision: DeleteItl,
    /// How the served ITL's signer relates to the phone's ITL, when both are at hand.
    relation: Option<super::trust_path::SignerRelation>,
    /// The phone says it failed to verify (condition 3 is yes).
    failed: bool,
    /// The phone fell back to ITLFile.tlv (the flag's evidence).
    fallback: Option<String>,
    /// The phone can take the served ITL only through TVS.
    via_tvs: bool,
}

/// One situation's steps: each looks at the situation and adds the steps it calls for.
type StepRule = fn(&Situation<'_, '_>, &mut Steps);

/// The situations in the order their steps are shown (a step already added is not added
/// again): services first, then open recovery paths, then TVS not vouching, then what the
/// decision calls for, then what holds whatever the decision.
const STEP_RULES: [StepRule; 8] = [
    service_problems,
    open_recovery_paths,
    tvs_does_not_vouch,
    by_decision,
    phone_itl_contradicted,
    itlfile_fallback,
    rollback_served,
    only_through_tvs,
];

/// The next steps of one phone: every rule of [`STEP_RULES`] in turn, on one [`Situation`].
fn next_steps(
    ctx: &PhoneCtx<'_>,
    nodes: &[TvsNode<'_>],
    conditions: &Conditions,
    recovery: &super::model::Recovery,
    checks: &[Check],
    path: Option<&TrustPath>,
    tvs: TvsFinding<'_>,
) -> Vec<NextStep> {
    let sit = Situation {
        ctx,
        nodes,
        conditions,
        recovery,
        checks,
        path,
        tvs: &tvs,
        decision: decide(conditions, recovery.no_recovery_path.value),
        relation: signer_relation(ctx),
        failed: conditions.phone_verification_failed.value == Some(true),
        fallback: flagged(checks, "itlfile-fallback"),
        via_tvs: path.is_some_and(|p| super::trust_path::only_through_tvs(&p.itl)),
    };
    let mut steps = Steps::default();
    for rule in STEP_RULES {
        rule(&sit, &mut steps);
    }
    steps.0
}

/// Problems the capture shows that deleting the ITL does not fix (TVS down, TLS versions,
/// a stale served ITL…).
fn service_problems(sit: &Situation<'_, '_>, steps: &mut Steps) {
    service_steps(steps, sit.ctx, sit.checks, sit.tvs.clone(), sit.nodes);
}

/// What the decision itself calls for.
fn by_decision(sit: &Situation<'_, '_>, steps: &mut Steps) {
    match sit.decision {
        DeleteItl::Required => delete_required(sit, steps),
        DeleteItl::NotRequired => delete_not_required(sit, steps),
        DeleteItl::Undetermined => undetermined(sit, steps),
    }
}

/// A phone that could need its ITL deleted but has a recovery path left: that path is the
/// fix, before anything destructive (statement 15 (4) as generalised; issue 18).
fn open_recovery_paths(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let c = sit.conditions;
    let recovery = sit.recovery;
    let relation = &sit.relation;
    let failed = sit.failed;
    let decision = sit.decision;
    if decision == DeleteItl::NotRequired
        && failed
        && c.itl_differs.value == Some(true)
        && c.tvs_cert_mismatch.value == Some(true)
    {
        // Another trusted TVS is advised below with what the capture shows of it.
        for p in recovery
            .paths
            .iter()
            .filter(|p| p.state == PathState::Open && p.id != "other-tvs")
            // With both ITLs at hand the restore is advised below, naming the signer.
            .filter(|p| p.id != "key-backup" || relation.is_none())
        {
            recovery_step(steps, p);
        }
    }
}

/// A phone that trusts TVS (its certificate is in the ITL, the handshake completed) and
/// still fails: TVS does not vouch for the served ITL's signer, which belongs to another
/// cluster (a moved phone, a centralized TFTP).
fn tvs_does_not_vouch(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let relation = &sit.relation;
    let failed = sit.failed;
    let fallback = sit.fallback.clone();
    let via_tvs = sit.via_tvs;
    if failed
        && c.tvs_cert_mismatch.value == Some(false)
        && c.itl_differs.value != Some(false)
        && let Some(s) = trusted_tvs(ctx)
    {
        let mut because = vec![
            cond("phone_verification_failed", &c.phone_verification_failed),
            cond("tvs_cert_mismatch", &c.tvs_cert_mismatch),
            format!("TVS {} handshake completed ({})", s.server, ctx.at(s.last)),
        ];
        if via_tvs {
            because.push("trust path: served ITL only via TVS".into());
        }
        let same_signer = relation.as_ref().filter(|r| r.same_signer_name);
        match fallback {
            _ if same_signer.is_some() => {
                because.push(
                    "the served ITL's signer has the phone's signer's name (a regenerated key)"
                        .into(),
                );
                steps.add(
                    "tvs-does-not-vouch",
                    because,
                    format!(
                        "The phone trusts TVS {} yet fails, although the served ITL is signed by a regenerated key of the signer it knows: this cluster's TVS should vouch for it. Restart the Cisco Trust Verification Service and Cisco TFTP on every node so TVS knows the new certificate, then reset the phone; if it still fails, the TVS it asks belongs to another cluster (check its CM group). No ITL deletion is needed.",
                        s.server
                    ),
                );
            }
            Some(f) => {
                because.push(f);
                steps.add(
                    "centralized-tftp",
                    because,
                    format!(
                        "The phone trusts TVS {} yet fails, and it fell back to ITLFile.tlv: a centralized (or non-CUCM) TFTP serves another cluster's ITL, whose signer this phone's TVS does not know. Set Prepare Cluster for Rollback to pre 8.0 = True on the central TFTP's cluster (restart TVS and TFTP, reset the phones, switch secure URLs to HTTP), or share the clusters' TFTP certificates with Bulk Certificate Management (export, consolidate, import); no ITL deletion is needed.",
                        s.server
                    ),
                );
            }
            None => {
                steps.add(
                    "bulk-certificate-management",
                    because,
                    format!(
                        "The phone trusts TVS {} (the handshake completed) yet fails: that TVS does not vouch for the served ITL's signer{}, which belongs to another cluster (a phone moved without preparation). With both clusters up, use Bulk Certificate Management: export the new cluster's TFTP certificates (plus ITLRecovery on 12.x), consolidate, and import them into the old cluster so its TVS vouches for them; then reset the phone. No ITL deletion is needed.",
                        s.server,
                        relation
                            .as_ref()
                            .map(|r| format!(" ({})", r.served_signer))
                            .unwrap_or_default()
                    ),
                );
            }
        }
    }
}

/// All four conditions hold: the restore that may still avoid it, the deletion, and how to
/// prevent it next time.
fn delete_required(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let relation = &sit.relation;
    let all = vec!["all four conditions hold".to_string()];
    // Required means the itl-recovery path is closed: the cluster no longer serves the
    // ITLRecovery certificate the phone holds, so only a copy of its old key helps.
    if let Some(record) = relation.as_ref().and_then(|r| r.itl_recovery.as_ref()) {
        let mut because = all.clone();
        because.push(format!("the phone's ITL holds {record}"));
        because.push("the served ITL holds another ITLRecovery certificate".into());
        steps.add(
            "utils-itl-reset",
            because,
            format!(
                "Before deleting anything: if a copy of the old ITLRecovery key exists (`file get tftp ITLRecovery.p12` from before, or a DRS backup), run `utils itl reset remotekey <host> <user> ITLRecovery.p12` on the publisher (CUCM 10.0+): the phone's ITL holds {record}, which the cluster no longer serves, so `localkey` will not do. Then reset the phones (twice)."
            ),
        );
    }
    let delete_text = if mixed_mode(ctx) == Some(true) {
        "Delete the ITL on the phone (Settings > Security > Trust List > ITL > Erase on 79xx, unlock with **#; Settings > Admin Settings > Reset Settings > Security Settings on 78xx/88xx/89xx also erases the CTL; a factory reset when settings access is disabled). In mixed mode the phone's CTL stays: it then accepts the served ITL only if the CTL's CCM+TFTP verifies it, so update the CTL first (CTL client or `utils ctl update CTLFile`; `utils ctl reset localkey` is the mixed-mode counterpart of `utils itl reset`)."
    } else {
        "Delete the ITL on the phone: Settings > Security > Trust List > ITL > Erase on 79xx (unlock with **#), Settings > Admin Settings > Reset Settings > Security Settings on 78xx/88xx/89xx, or a factory reset when settings access is disabled; the phone then takes the served ITL on leap of faith."
    };
    steps.add("delete-itl", all.clone(), delete_text);
    if let Some(r) = &relation
        && r.shared_certificates == 0
        && !r.same_signer_name
    {
        steps.add(
            "other-cluster",
            vec![
                "the phone's ITL and the served ITL share no certificate".into(),
                format!("signers differ: {} / {}", r.installed_signer, r.served_signer),
            ],
            "The phone's ITL and the served ITL share no certificate and have different signers: the phone trusts another cluster (or a node renamed with every certificate regenerated). If that cluster is still up, Bulk Certificate Management (export, consolidate, import the TFTP certificates, plus ITLRecovery on 12.x) or Prepare Cluster for Rollback there, while the phone still trusts it, avoids deleting the ITL.",
        );
    }
    steps.add(
        "prevent",
        all,
        "Afterwards: never regenerate CallManager and TVS certificates together, let every phone download the new ITL between regenerations, and take a DRS backup after each TFTP certificate regeneration.",
    );
}

/// No deletion: why, and what to look at instead.
fn delete_not_required(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let checks = sit.checks;
    let path = sit.path;
    let relation = &sit.relation;
    let failed = sit.failed;
    if c.itl_differs.value == Some(false) {
        let failing: Vec<&str> = checks
            .iter()
            .filter(|k| k.status == super::model::Status::Fail)
            .map(|k| k.id)
            .collect();
        let text = if failed && !failing.is_empty() {
            format!(
                "Do not delete the ITL: the phone already holds the served ITL (or none), so its failure lies elsewhere; see the failing checks: {}.",
                failing.join(", ")
            )
        } else {
            "Do not delete the ITL: the phone already holds the served ITL (or none); look at the config signature, TVS and registration instead.".to_string()
        };
        steps.add(
            "itl-not-the-problem",
            vec![cond("itl_differs", &c.itl_differs)],
            text,
        );
    }
    if c.phone_verification_failed.value == Some(false) {
        steps.add(
            "no-action",
            vec![cond(
                "phone_verification_failed",
                &c.phone_verification_failed,
            )],
            "The phone shows no verification failure: its trust works, nothing to do on the phone.",
        );
    }
    if c.tvs_cert_mismatch.value == Some(false)
        && !failed
        && c.phone_verification_failed.value.is_none()
        && let Some(s) = trusted_tvs(ctx)
    {
        steps.add(
            "tvs-trusted",
            vec![cond("tvs_cert_mismatch", &c.tvs_cert_mismatch)],
            format!(
                "Do not delete the ITL: the phone trusts TVS {} (its certificate is in the ITL and the handshake completed, {}), so TVS can vouch for a new signer.",
                s.server,
                ctx.at(s.last)
            ),
        );
    }
    // A restore is advice only for a phone that cannot take the served ITL: its
    // signer unknown to the phone, TVS not vouching, the phone not saying all is well.
    if c.no_key_backup.value == Some(false)
        && c.phone_verification_failed.value != Some(false)
        && (failed || path.is_none_or(|p| p.itl.acceptance != Acceptance::Accepted))
        && let Some(r) = &relation
        && !r.known
    {
        let because = vec![
            cond("no_key_backup", &c.no_key_backup),
            format!(
                "the served ITL's signer {} is not in the phone's ITL",
                r.served_signer
            ),
        ];
        if r.same_signer_name {
            steps.add(
                "restore-tftp-key",
                because,
                format!(
                    "Restore the old key of {} from the backup (DRS restore of the CallManager / ITLRecovery certificate with its private key), so the TFTP server signs the ITL with the key the phone's ITL holds; then reset the phone. Take a new DRS backup afterwards.",
                    r.installed_signer
                ),
            );
        } else {
            steps.add(
                "key-backup-does-not-apply",
                because,
                format!(
                    "A key backup of this cluster's current signer does not help this phone: it trusts {}, not {}, the served ITL's signer; only a backup holding {0}'s key (the node before its change) does. Point the phone at a TFTP server it still trusts, or restore that key.",
                    r.installed_signer, r.served_signer
                ),
            );
        }
    }
}

/// Undetermined: the facts to give, and what to capture for the TVS condition.
fn undetermined(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let c = sit.conditions;
    if c.itl_differs.value.is_none() {
        steps.add(
            "give-phone-itl",
            vec![cond("itl_differs", &c.itl_differs)],
            "Read the ITL hash on the phone (Settings > Security Configuration > Trust List) and pass --phone-itl-hash HEX, or --phone-itl FILE; or capture the phone booting (reset it while capturing) so the ITL download and its DeviceTLInfo alarm are seen.",
        );
    }
    undetermined_tvs(sit, steps);
    if c.phone_verification_failed.value.is_none() {
        steps.add(
            "give-phone-status",
            vec![cond("phone_verification_failed", &c.phone_verification_failed)],
            "Check the phone's Status Messages for \"Trust List update failed\" or \"authenticated fail\" and pass --phone-status failed|ok.",
        );
    }
    if c.no_key_backup.value.is_none() {
        steps.add(
            "give-key-backup",
            vec![cond("no_key_backup", &c.no_key_backup)],
            "Check whether a DRS backup from before the TFTP (CallManager / ITLRecovery) certificate changed exists and pass --key-backup yes|no.",
        );
    }
}

/// Undetermined, the TVS condition: what would settle it, by what the TVS sessions showed.
fn undetermined_tvs(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let tvs = sit.tvs;
    let tvs_unknown = vec![cond("tvs_cert_mismatch", &c.tvs_cert_mismatch)];
    match tvs.clone() {
        TvsFinding::PhoneHoldsAnotherItl(s, how) => {
            let mut because = tvs_unknown;
            because.push(format!("TVS {}: {how}", s.server));
            if !matches!(ctx.installed, Installed::Unknown) {
                because.push(format!(
                    "the phone's ITL is known only as {}",
                    super::checks::installed_source(ctx.evidence, &ctx.installed)
                ));
            }
            let known = match &ctx.installed {
                Installed::Unknown => String::new(),
                other => format!(
                    " ({})",
                    super::checks::installed_source(ctx.evidence, other)
                ),
            };
            steps.add(
                "obtain-phone-itl",
                because,
                format!(
                    "Obtain the ITL file the phone holds and pass it with --phone-itl FILE: the phone rejected TVS's certificate, which the served ITL lists, so it holds another ITL{known}. Take it from an earlier capture of this phone (`itlscope extract`) or from the TFTP server of the cluster it came from; a new capture would show the same."
                ),
            );
        }
        TvsFinding::ContradictsPhoneItl(s) => {
            check_phone_itl_step(steps, ctx, c, s);
        }
        TvsFinding::NoSession | TvsFinding::NoClearCertificate => {
            steps.add(
                "capture-tvs",
                tvs_unknown,
                "Capture the phone while it validates its trust list (reset it during the capture; TVS answers are cached for 24 hours) so the TVS handshake on TCP 2445 shows the certificate.",
            );
        }
        TvsFinding::NoReference => {
            steps.add(
                "give-phone-itl",
                tvs_unknown,
                "Give the phone's ITL with --phone-itl FILE (a trust list that parses), so TVS's certificate can be compared with its TVS records.",
            );
        }
        TvsFinding::ExportContradicts(s, exported) => {
            let mut because = tvs_unknown;
            because.push(format!(
                "TVS {} handshake completed ({})",
                s.server,
                ctx.at(s.last)
            ));
            because.push(exported.trim_start_matches(';').trim().to_string());
            steps.add(
                "check-exported-tvs",
                because,
                format!(
                    "Check the exported TVS certificate: the phone completed the TVS handshake with {}, so it trusts that node's certificate, which the exported file is not (export `show cert own TVS` from node {} itself), or the phone's ITL given is not the one it holds.",
                    s.server, s.server.ip
                ),
            );
        }
        TvsFinding::LogContradicts(source) => {
            steps.add(
                "check-phone-log",
                tvs_unknown,
                format!(
                    "Check that the phone's log ({source}) is from the boot this capture shows: it says the phone verified TVS's certificate, while the capture shows the phone rejecting it. Take the log again right after capturing a reset of the phone."
                ),
            );
        }
        // Said above: a service problem or TLS 1.3.
        TvsFinding::Compared
        | TvsFinding::Unreachable
        | TvsFinding::Tls13
        | TvsFinding::ServerRefused(..) => {}
    }
}

/// The TVS handshake contradicts `--phone-itl`: worth checking whatever was decided.
fn phone_itl_contradicted(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let tvs = sit.tvs;
    // The contradiction is worth checking whatever the other paths decided.
    if let TvsFinding::ContradictsPhoneItl(s) = tvs {
        check_phone_itl_step(steps, ctx, c, s);
    }
}

/// A fallback to ITLFile.tlv without a failure: advice for the other clusters' phones.
fn itlfile_fallback(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let checks = sit.checks;
    let failed = sit.failed;
    if let Some(f) = flagged(checks, "itlfile-fallback")
        && !failed
    {
        steps.add(
            "centralized-tftp",
            vec![f],
            "The phone fell back to ITLFile.tlv (centralized TFTP): phones of another cluster reject its signatures unless rollback is set on the central TFTP, or the clusters' TFTP certificates are shared with Bulk Certificate Management (export, consolidate, import).",
        );
    }
}

/// A rollback ITL is served.
fn rollback_served(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let checks = sit.checks;
    if let Some(f) = flagged(checks, "rollback-itl") {
        steps.add(
            "rollback-itl",
            vec![f],
            "A rollback ITL is served (Prepare Cluster for Rollback to pre 8.0 = True): it works only while phones still trust the cluster serving it and turns signed config, TVS and HTTPS trust off; set it back to False once the phones have moved.",
        );
    }
}

/// The phone takes the new ITL only through TVS: keep its certificate.
fn only_through_tvs(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let failed = sit.failed;
    let via_tvs = sit.via_tvs;
    if via_tvs && !failed {
        steps.add(
            "keep-tvs-certificate",
            vec!["trust path: served ITL only via TVS".into()],
            "This phone can take the new ITL only through TVS: keep the TVS certificate unchanged until every phone has downloaded the new ITL; never regenerate CallManager and TVS together.",
        );
    }
}

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
