//! Check `exported-certificates`: certificates exported from CUCM, set against the ones
//! the phone's trust lists and sessions show.

use super::common::push_flag;
use crate::cisco::model::function;
use crate::diagnosis::context::{PhoneCtx, is_tvs};
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::diagnosis::trust::{describe_record, find_certificate};

/// Check `exported-certificates`: each exported certificate against the trust lists and
/// the sessions of the capture.
pub(super) fn exported_certificates(ctx: &PhoneCtx<'_>) -> Check {
    let (reference, name) = ctx.comparison_itl();
    let mut c = Check {
        id: "exported-certificates",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    let mut matched = 0usize;
    let mut missing = 0usize;
    for cert in &ctx.facts.side.certificates {
        let info = &cert.info;
        let roles: &[u16] = match cert.role_hint {
            Some("tvs") => &[function::TVS],
            Some("callmanager") => &[
                function::CCM_TFTP,
                function::TFTP,
                function::SAST,
                function::CCM,
            ],
            Some("itlrecovery") => &[function::SAST],
            Some("capf") => &[function::CAPF],
            _ => &[],
        };
        let head = format!(
            "{}: {} (serial {}, sha1 {}){}",
            cert.source,
            info.subject,
            info.serial,
            info.sha1,
            cert.role_hint
                .map(|r| format!(", {r} by its name"))
                .unwrap_or_default()
        );
        let detail = match reference.map(|l| (l, find_certificate(info, l, roles))) {
            Some((l, Some((i, how)))) => {
                matched += 1;
                format!(
                    "{head}: record #{} of {name}, {} (by {})",
                    i + 1,
                    describe_record(l, i),
                    how.as_str()
                )
            }
            Some((_, None)) => {
                missing += 1;
                push_flag(&mut c.flags, "exported-cert-not-in-itl");
                format!(
                    "{head}: matches no {}record of {name}",
                    if roles.is_empty() {
                        ""
                    } else {
                        "record of its role in "
                    }
                )
            }
            None => format!("{head}: no parsed ITL to compare it with ({name})"),
        };
        c.evidence.push(
            EvidenceItem::note(detail)
                .with("source", cert.source.to_string())
                .with("serial", info.serial.clone())
                .with("sha1", info.sha1.clone()),
        );
        // The TVS on the wire presenting another certificate: another node, or a regeneration.
        if cert.role_hint == Some("tvs") {
            for (_, s) in ctx.tls.iter().filter(|(_, s)| is_tvs(s)) {
                if let Some(leaf) = s.certificates.first()
                    && leaf.sha1 != info.sha1
                {
                    push_flag(&mut c.flags, "tvs-on-wire-differs");
                    c.evidence.push(EvidenceItem::at(
                        crate::diagnosis::context::session_time(s),
                        format!(
                            "TVS {} presented another certificate (serial {}, sha1 {}) than {}: another node, or regenerated since",
                            s.server, leaf.serial, leaf.sha1, cert.source
                        ),
                    ));
                }
            }
        }
    }
    let total = ctx.facts.side.certificates.len();
    if missing > 0 {
        c.status = Status::Fail;
        c.explanation = format!(
            "{missing} of {total} exported certificate(s) match no record of {name} for their role"
        );
    } else if matched > 0 {
        c.status = Status::Pass;
        c.explanation = format!("{matched} exported certificate(s) match records of {name}");
    } else {
        c.explanation = format!("no parsed ITL to compare the exported certificates with ({name})");
    }
    c
}
