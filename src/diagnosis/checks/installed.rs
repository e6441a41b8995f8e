//! Check `installed-itl`: what is known of the ITL the phone holds, and whether it is the
//! served one.

use super::common::{check, push_flag};
use crate::diagnosis::context::{Installed, PhoneCtx, installed_matches, installed_source};
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::diagnosis::status_codes::status_code_name;

/// The phone's installed ITL: where it is known from, and whether it is the served one.
pub(super) fn installed_itl(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("installed-itl", Status::Unknown, "");
    // Every source, so disagreements show.
    if let Some(file) = ctx.installed_file {
        c.evidence.push(
            EvidenceItem::note(format!(
                "--phone-itl {}: {} bytes, md5 {}, sha1 {}",
                file.name,
                file.bytes.len(),
                file.hashes.md5,
                file.hashes.sha1
            ))
            .with("md5", file.hashes.md5.clone())
            .with("sha1", file.hashes.sha1.clone())
            .with("sha256", file.hashes.sha256.clone()),
        );
        if let Err(e) = &file.parsed {
            c.evidence.push(EvidenceItem::note(format!(
                "--phone-itl does not parse: {e}"
            )));
        }
    }
    if let Some(hash) = ctx.phone_itl_hash {
        c.evidence.push(
            EvidenceItem::note(format!("--phone-itl-hash {hash}"))
                .with(hash.algorithm.as_str(), hash.hex.clone()),
        );
    }
    for (_, alarm) in &ctx.alarms {
        let what = match (&alarm.itl_signature, &alarm.itl_signature_raw) {
            (Some(sig), _) => format!("ITL_Signature {sig}"),
            (None, Some(raw)) => format!("ITL_Signature \"{raw}\""),
            (None, None) => "no ITL_Signature".into(),
        };
        let mut item = EvidenceItem::at(
            alarm.seen,
            format!(
                "DeviceTLInfo alarm from {}: {what}{}{}",
                alarm.phone,
                alarm
                    .status_code
                    .map(|s| format!(", StatusCode {s} ({})", status_code_name(s)))
                    .unwrap_or_default(),
                alarm
                    .itl_tftp_server
                    .as_deref()
                    .map(|s| format!(", ITL_TFTP_Server {s}"))
                    .unwrap_or_default()
            ),
        );
        if let Some(sig) = &alarm.itl_signature {
            item = item.with("itl_signature", sig.clone());
        }
        c.evidence.push(item);
    }
    crate::diagnosis::outside::installed_evidence(ctx, &mut c);
    let served = ctx.served_itl.as_ref();
    let (explanation, status) = match (&ctx.installed, served) {
        (Installed::Unknown, _) => (
            "the phone's installed ITL is unknown: give --phone-itl or --phone-itl-hash (Settings > Security Configuration > Trust List), or capture its DeviceTLInfo alarm (clear-text SIP)".to_string(),
            Status::Unknown,
        ),
        (Installed::NotInstalled(alarm), _) => (
            format!(
                "the phone reports no ITL installed (DeviceTLInfo, {}): it takes the first ITL it downloads on leap of faith",
                ctx.at(alarm.seen)
            ),
            Status::Pass,
        ),
        (Installed::ReportedNone(fact), _) => (
            format!(
                "the phone reports no ITL installed ({}): it takes the first ITL it downloads on leap of faith",
                fact.source
            ),
            Status::Pass,
        ),
        (_, None) => (
            format!(
                "the phone's ITL is known ({}) but no served ITL was downloaded whole to compare it with",
                installed_source(ctx.evidence, &ctx.installed)
            ),
            Status::Unknown,
        ),
        (installed, Some(served)) => match installed_matches(installed, served) {
            Some(true) => (
                format!(
                    "the phone's ITL ({}) is the one the server serves ({})",
                    installed_source(ctx.evidence, installed),
                    served.file.name
                ),
                Status::Pass,
            ),
            Some(false) => {
                push_flag(&mut c.flags, "itl-differs");
                (
                    format!(
                        "the phone's ITL ({}) differs from the one the server serves ({}, md5 {}, sha1 {})",
                        installed_source(ctx.evidence, installed),
                        served.file.name,
                        served.hashes.md5,
                        served.hashes.sha1
                    ),
                    Status::Fail,
                )
            }
            None => (
                "cannot compare".to_string(),
                Status::Unknown,
            ),
        },
    };
    c.status = status;
    c.explanation = explanation;
    crate::diagnosis::outside::installed_conflict_check(ctx, &mut c);
    c
}
