//! The phone's other TLS: check `other-tls` (HTTPS, SCCP/SIP over TLS, CAPF and how the
//! phone took their certificates) and `certificate-validity` (dates against the session's
//! time).

use super::common::{cert_item, check, push_flag};
use crate::diagnosis::context::{PhoneCtx, is_tvs, service_of, session_time};
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::diagnosis::trust::{describe_record, find_certificate};
use crate::trust::tvs::{is_tls13, phone_rejected};

/// Other TLS servers the phone met: is the certificate in the ITL/CTL, or must TVS vouch?
pub(super) fn other_tls(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("other-tls", Status::Unknown, "");
    let (reference, reference_name) = ctx.comparison_itl();
    let ctl = ctx.served_ctl_list();
    let sessions: Vec<_> = ctx.tls.iter().filter(|(_, s)| !is_tvs(s)).collect();
    if sessions.is_empty() {
        c.status = Status::NotApplicable;
        c.explanation =
            "no other TLS server (8443, 2443, 5061, 3804, 6971/6972) in the capture".into();
        return c;
    }
    let mut in_list = 0usize;
    let mut via_tvs = 0usize;
    let mut uncompared = 0usize;
    let mut rejected = 0usize;
    for (_, s) in &sessions {
        let service = service_of(s);
        if let Some(alert) = phone_rejected(s) {
            rejected += 1;
            push_flag(&mut c.flags, "phone-rejected-certificate");
            c.evidence.push(EvidenceItem::at(
                alert.seen,
                format!(
                    "the phone sent fatal alert {} after the certificate of {} ({service}): it rejected it",
                    alert.describe(),
                    s.server
                ),
            ));
        }
        let Some(leaf) = s.certificates.first() else {
            c.evidence.push(EvidenceItem::at(
                s.first,
                format!(
                    "{} ({service}): {}",
                    s.server,
                    if is_tls13(s) {
                        "TLS 1.3, certificate encrypted"
                    } else {
                        "no certificate seen"
                    }
                ),
            ));
            continue;
        };
        let found = reference
            .and_then(|l| find_certificate(leaf, l, &[]).map(|m| (l, m, reference_name.as_str())))
            .or_else(|| {
                ctl.and_then(|l| find_certificate(leaf, l, &[]).map(|m| (l, m, "the served CTL")))
            });
        let detail = match found {
            Some((list, (record, how), name)) => {
                in_list += 1;
                format!(
                    "{} ({service}) presented {}: in {name} as {} (by {})",
                    s.server,
                    leaf.subject,
                    describe_record(list, record),
                    how.as_str()
                )
            }
            // No trust list known to compare with: whether TVS must vouch is unknown.
            None if reference.is_none() && ctl.is_none() => {
                uncompared += 1;
                format!(
                    "{} ({service}) presented {} (serial {}): no ITL or CTL known to compare it with",
                    s.server, leaf.subject, leaf.serial
                )
            }
            None => {
                via_tvs += 1;
                format!(
                    "{} ({service}) presented {} (serial {}): not in the ITL/CTL, the phone must ask TVS",
                    s.server, leaf.subject, leaf.serial
                )
            }
        };
        c.evidence.push(cert_item(s, leaf, detail));
    }
    if via_tvs > 0 {
        push_flag(&mut c.flags, "needs-tvs");
    }
    c.status = if rejected > 0 {
        Status::Fail
    } else if in_list + via_tvs > 0 {
        Status::Pass
    } else {
        Status::Unknown
    };
    c.explanation = format!(
        "{} session(s): {in_list} certificate(s) in the ITL/CTL, {via_tvs} to be vouched for by TVS{}{}",
        sessions.len(),
        if uncompared > 0 {
            format!(
                ", {uncompared} not compared (no ITL or CTL known: --phone-itl would settle it)"
            )
        } else {
            String::new()
        },
        if rejected > 0 {
            format!(", {rejected} rejected by the phone")
        } else {
            String::new()
        }
    );
    c
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-01-01T00:00:00Z`); the number itself when
/// out of range.
fn rfc3339_secs(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Certificates on the wire against the capture time.
pub(super) fn certificate_validity(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("certificate-validity", Status::Unknown, "");
    let mut seen = 0usize;
    let mut bad = 0usize;
    let mut unparsed = 0usize;
    for (_, s) in &ctx.tls {
        let Some(leaf) = s.certificates.first() else {
            continue;
        };
        seen += 1;
        let (Some(not_before), Some(not_after)) = (leaf.not_before, leaf.not_after) else {
            // Unknown is not expired: say so, with the bytes' fingerprint to look it up.
            unparsed += 1;
            c.evidence.push(cert_item(
                s,
                leaf,
                format!(
                    "{} certificate of {} (sha1 {}) could not be parsed: its validity is unknown",
                    service_of(s),
                    s.server,
                    leaf.sha1
                ),
            ));
            continue;
        };
        let at = session_time(s);
        let now = at.ts.secs();
        let problem = if now > not_after {
            Some(("expired", "certificate-expired"))
        } else if now < not_before {
            Some(("not yet valid", "certificate-not-yet-valid"))
        } else {
            None
        };
        if let Some((words, flag)) = problem {
            bad += 1;
            push_flag(&mut c.flags, flag);
            c.evidence.push(
                cert_item(
                    s,
                    leaf,
                    format!(
                        "{} certificate of {} ({}) is {words} at capture time",
                        service_of(s),
                        s.server,
                        leaf.subject
                    ),
                )
                .with("not_before", rfc3339_secs(not_before))
                .with("not_after", rfc3339_secs(not_after)),
            );
        }
    }
    if seen == 0 {
        c.explanation = "no server certificate seen in clear".into();
    } else if bad == 0 && unparsed > 0 {
        c.explanation = format!(
            "{unparsed} of {seen} server certificate(s) could not be parsed, so their validity is unknown; the others are valid at capture time (`itlscope extract` writes the certificate bytes to examine)"
        );
    } else if bad == 0 {
        c.status = Status::Pass;
        c.explanation = format!("{seen} server certificate(s) valid at capture time");
    } else {
        c.status = Status::Fail;
        c.explanation = format!(
            "{bad} of {seen} server certificate(s) expired or not yet valid at capture time: renew them on CUCM"
        );
    }
    c
}
