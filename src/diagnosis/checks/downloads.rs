//! Check `trust-list-downloads`: which trust lists the phone asked for, over which
//! transport, and what came back.

use super::common::{check, push_flag, transfer_item};
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::{Check, Status};
use crate::diagnosis::names::RequestKind;

/// Which trust lists were requested, how, and what came back.
pub(super) fn trust_list_downloads(ctx: &PhoneCtx<'_>) -> Check {
    let requests: Vec<_> = ctx
        .files
        .iter()
        .filter(|(_, f, k)| (k.is_itl() || k.is_ctl()) && !f.upload)
        .collect();
    if requests.is_empty() {
        return check(
            "trust-list-downloads",
            Status::Unknown,
            "no trust-list request in the capture: the phone did not boot or reset while capturing (reset it during a capture to see its trust bootstrap)",
        );
    }
    let mut c = check("trust-list-downloads", Status::Unknown, "");
    let mut notes = Vec::new();
    for (_, file, _) in &requests {
        c.evidence.push(transfer_item(file));
        if !file.complete && file.error.is_none() {
            push_flag(&mut c.flags, "incomplete-transfer");
        }
    }
    // HTTP (6970) first, then TFTP for the same name: the normal fallback of newer phones.
    let http_fallback = requests.iter().any(|(_, f, _)| {
        f.transport == crate::evidence::FileTransport::Http
            && !f.complete
            && requests.iter().any(|(_, g, _)| {
                g.transport == crate::evidence::FileTransport::Tftp
                    && g.name == f.name
                    && g.first.frame > f.first.frame
            })
    });
    if http_fallback {
        push_flag(&mut c.flags, "http-to-tftp-fallback");
        notes.push("HTTP 6970 failed and the phone fell back to TFTP (normal)".to_string());
    }
    let per_phone_failed = requests
        .iter()
        .any(|(_, f, k)| *k == RequestKind::ItlPerPhone && !f.complete);
    let per_phone_ok = requests
        .iter()
        .any(|(_, f, k)| *k == RequestKind::ItlPerPhone && f.complete);
    let generic = requests
        .iter()
        .any(|(_, _, k)| *k == RequestKind::ItlGeneric);
    if per_phone_failed && !per_phone_ok && generic {
        push_flag(&mut c.flags, "itlfile-fallback");
        notes.push(
            "ITLSEP<MAC>.tlv was not served and the phone fell back to ITLFile.tlv: a centralized or non-CUCM TFTP server".to_string(),
        );
    }
    let ctl_failed = requests.iter().any(|(_, f, k)| k.is_ctl() && !f.complete);
    let ctl_ok = requests.iter().any(|(_, f, k)| k.is_ctl() && f.complete);
    if ctl_failed && !ctl_ok {
        push_flag(&mut c.flags, "no-ctl");
        notes.push("no CTL served (normal unless the cluster is in mixed mode)".to_string());
    }
    let itl_requested = requests.iter().any(|(_, _, k)| k.is_itl());
    let itl_ok = requests.iter().any(|(_, f, k)| k.is_itl() && f.complete);
    // Incomplete without an error: the download ran to its end, the capture lost bytes.
    let itl_capture_loss = requests
        .iter()
        .any(|(_, f, k)| k.is_itl() && !f.complete && f.error.is_none());
    let (status, head) = match (itl_requested, itl_ok) {
        (true, true) => (Status::Pass, "an ITL was downloaded whole".to_string()),
        (true, false) if itl_capture_loss => (
            Status::Unknown,
            "the ITL download ran to its end but the capture lacks some of its bytes (capture loss, not a failed download)"
                .to_string(),
        ),
        (true, false) => (
            Status::Fail,
            "the phone asked for an ITL and got none whole (failed or incomplete download)"
                .to_string(),
        ),
        (false, _) => (
            Status::Unknown,
            "only CTL requests seen; no ITL request in the capture".to_string(),
        ),
    };
    c.status = status;
    c.explanation = if notes.is_empty() {
        head
    } else {
        format!("{head}; {}", notes.join("; "))
    };
    c
}
