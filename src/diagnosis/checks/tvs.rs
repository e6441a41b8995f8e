//! The TVS checks: `tvs-reachability` (did the phone reach TVS, and how did the session
//! end) and `tvs-certificate` (is TVS's certificate the one the phone's ITL names).

use super::common::{cert_item, check, push_flag, session_summary};
use crate::cisco::model::function;
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::diagnosis::trust::{describe_record, find_certificate};
use crate::trust::tvs::{is_tls13, is_unreachable, phone_rejected};

/// Can the phone reach TVS at all? Unreachable is a service problem, not a reason to delete.
pub(super) fn tvs_reachability(ctx: &PhoneCtx<'_>) -> Check {
    let sessions: Vec<_> = ctx.tvs_sessions().collect();
    let mut c = check("tvs-reachability", Status::Unknown, "");
    if sessions.is_empty() {
        c.status = Status::NotApplicable;
        c.explanation = "no TVS (TCP 2445) connection in the capture: the phone needed none, or used its 24-hour TVS cache".into();
        return c;
    }
    for (_, s) in &sessions {
        c.evidence.push(
            EvidenceItem::at(s.first, session_summary(s)).with("server", s.server.to_string()),
        );
    }
    let unreachable: Vec<_> = sessions.iter().filter(|(_, s)| is_unreachable(s)).collect();
    let reached = sessions.len() - unreachable.len();
    if !unreachable.is_empty() {
        push_flag(&mut c.flags, "tvs-unreachable");
    }
    if reached == 0 {
        c.status = Status::Fail;
        c.explanation = format!(
            "TVS did not answer ({} attempt(s): SYN unanswered or reset): a network or service problem to fix on CUCM (TVS service, port 2445), not a reason to delete the ITL",
            unreachable.len()
        );
    } else {
        c.status = Status::Pass;
        c.explanation = format!(
            "TVS answered on {reached} connection(s){}",
            if unreachable.is_empty() {
                String::new()
            } else {
                format!("; {} other attempt(s) failed to connect", unreachable.len())
            }
        );
    }
    c
}

/// The TVS certificate on the wire against the TVS records of the phone's ITL.
pub(super) fn tvs_certificate(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("tvs-certificate", Status::Unknown, "");
    let (reference, reference_name) = ctx.comparison_itl();
    let mut matched = 0usize;
    let mut mismatched = 0usize;
    let mut tls13 = 0usize;
    let mut rejected = 0usize;
    for (_, s) in ctx.tvs_sessions() {
        if let Some(alert) = phone_rejected(s) {
            rejected += 1;
            push_flag(&mut c.flags, "phone-rejected-tvs-certificate");
            c.evidence.push(
                EvidenceItem::at(
                    alert.seen,
                    format!(
                        "the phone sent fatal alert {} right after TVS's certificate: it rejected the certificate",
                        alert.describe()
                    ),
                )
                .with("server", s.server.to_string())
                .with_code(
                    "alert_level",
                    "alert_level_code",
                    crate::codes::alert_level(alert.level),
                    alert.level,
                )
                .with_code(
                    "alert",
                    "alert_code",
                    crate::codes::alert_description(alert.description),
                    alert.description,
                ),
            );
        }
        if is_tls13(s) && s.certificates.is_empty() {
            tls13 += 1;
            push_flag(&mut c.flags, "tls13-tvs");
            c.evidence.push(EvidenceItem::at(
                s.first,
                format!("{}: TLS 1.3, the certificate is encrypted", s.server),
            ));
            continue;
        }
        let Some(leaf) = s.certificates.first() else {
            continue;
        };
        match reference.map(|list| (list, find_certificate(leaf, list, &[function::TVS]))) {
            Some((list, Some((record, how)))) => {
                matched += 1;
                c.evidence.push(cert_item(
                    s,
                    leaf,
                    format!(
                        "TVS {} presented {} (serial {}): matches {} of {reference_name} by {}",
                        s.server,
                        leaf.subject,
                        leaf.serial,
                        describe_record(list, record),
                        how.as_str()
                    ),
                ));
            }
            Some((_, None)) => {
                mismatched += 1;
                c.evidence.push(cert_item(
                    s,
                    leaf,
                    format!(
                        "TVS {} presented {} (serial {}, sha1 {}): matches no TVS record of {reference_name}",
                        s.server, leaf.subject, leaf.serial, leaf.sha1
                    ),
                ));
            }
            None => c.evidence.push(cert_item(
                s,
                leaf,
                format!(
                    "TVS {} presented {} (serial {}); no ITL to compare it with",
                    s.server, leaf.subject, leaf.serial
                ),
            )),
        }
    }
    if mismatched > 0 {
        push_flag(&mut c.flags, "tvs-certificate-mismatch");
        c.status = Status::Fail;
        c.explanation = format!(
            "{mismatched} TVS certificate(s) on the wire match no TVS record of {reference_name}{}",
            if rejected > 0 {
                " and the phone rejected the certificate"
            } else {
                ""
            }
        );
    } else if matched > 0 {
        c.status = Status::Pass;
        c.explanation = format!(
            "the TVS certificate on the wire matches a TVS record of {reference_name}{}",
            if rejected > 0 {
                ", yet the phone sent an alert after it (see evidence)"
            } else {
                ""
            }
        );
        if rejected > 0 {
            c.status = Status::Fail;
        }
    } else if rejected > 0 {
        c.status = Status::Fail;
        c.explanation = format!(
            "the phone rejected TVS's certificate ({rejected} time(s)); it could not be compared with an ITL"
        );
    } else if tls13 > 0 {
        c.explanation = "TVS spoke TLS 1.3: its certificate is encrypted and cannot be compared (only whether the handshake completed is visible)".into();
    } else if c.evidence.is_empty() {
        c.explanation = "no TVS certificate seen in clear".into();
    } else {
        c.explanation = format!(
            "TVS certificate seen but {reference_name} is not available to compare it with"
        );
    }
    c
}
