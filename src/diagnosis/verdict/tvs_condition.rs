//! Condition 2, `tvs_cert_mismatch`: is TVS's certificate one the phone's ITL lists, by
//! what the capture, the phone's behaviour and the `--evidence` files show; and the
//! [`TvsFinding`] that says what would settle it when it is unknown.

use crate::cisco::model::{TrustList, function};
use crate::diagnosis::checks::{is_tls13, is_unreachable};
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::Condition;
use crate::diagnosis::trust::find_certificate;
use crate::evidence::{CertificateInfo, TlsAlert, TlsSession};
use crate::trust::tvs::{self, Stance, TvsNode, server_refused};

/// Why `tvs_cert_mismatch` came out as it did: the next steps follow from it.
#[derive(Clone)]
pub(super) enum TvsFinding<'e> {
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
pub(super) fn phone_list<'c, 'e>(
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

/// True when `cert` is a TVS record of `list`.
pub(super) fn listed(cert: &CertificateInfo, list: &TrustList<'_>) -> bool {
    find_certificate(cert, list, &[function::TVS]).is_some()
}

/// `tvs_cert_mismatch` from the phone's behaviour per TVS node (statements 12, 17, 21, 24):
/// true only when no TVS the phone reached is trusted and at least one was rejected (or,
/// with the phone's ITL known exactly, presents a certificate its TVS records lack); false
/// when the phone trusts a TVS; unknown when nothing shows either, or when the wire and an
/// input (the phone's ITL, an exported TVS certificate) contradict each other.
pub(super) fn tvs_cert_mismatch<'e>(
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
            && let Some(exported) = crate::diagnosis::outside::exported_tvs(ctx, exact, &name, "")
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
    if let Some(report) = crate::diagnosis::outside::tvs_reports(ctx)
        .into_iter()
        .find(|r| r.finding == crate::diagnosis::outside::TvsFinding::PhoneTrustsTvs)
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
                    ctx.at(crate::diagnosis::context::session_time(n.session))
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
                        ctx.at(crate::diagnosis::context::session_time(n.session))
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
    if let Some(c) = crate::diagnosis::outside::exported_tvs(ctx, exact, &name, &why) {
        return (c, TvsFinding::Compared);
    }
    (Condition::new(None, why), finding)
}

/// The first TVS session the phone completed a handshake with, for citing it.
pub(super) fn trusted_tvs<'e>(ctx: &PhoneCtx<'e>) -> Option<&'e TlsSession> {
    ctx.tvs_sessions()
        .map(|(_, s)| s)
        .find(|s| !s.certificates.is_empty() && phone_accepted(s))
}
