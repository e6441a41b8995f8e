//! Condition 3 from outside the capture: what the phone logged or displayed about
//! verifying its trust list and config, the reported timeline, and the `phone-reported`
//! check.

use super::common::{MAX_ITEMS, ctx_facts, describe, fact_item, push_flag, set_aside};
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::facts::PhoneStatus;
use crate::diagnosis::model::{Check, Condition, EvidenceItem, ReportedEvent, Status};
use crate::diagnosis::side::{SetAside, SetAsideWhy, sort_facts};
use crate::sidecar::{FactKind, SideFact};

/// Condition 3 from the evidence files (and `--phone-status`): per file, the phone's last
/// word on verifying its trust list or config; disagreement is a conflict. None when no file
/// says anything about it.
pub fn verification(ctx: &PhoneCtx<'_>) -> Option<Condition> {
    let mut last: Vec<(String, &SideFact, bool)> = Vec::new();
    for f in ctx_facts(ctx) {
        let Some(failed) = f.kind.verification_failed() else {
            continue;
        };
        let key = format!(
            "{}!{}",
            f.source.file,
            f.source.member.as_deref().unwrap_or("")
        );
        match last.iter_mut().find(|(k, _, _)| *k == key) {
            Some(slot) => {
                slot.1 = f;
                slot.2 = failed;
            }
            None => last.push((key, f, failed)),
        }
    }
    if last.is_empty() {
        // The files spoke about verification, but not about this phone now: unknown, with
        // why, rather than the options' word alone or silence.
        if ctx.phone_status != PhoneStatus::Unknown {
            return None;
        }
        let aside: Vec<String> = set_aside(ctx)
            .iter()
            .filter(|a| a.fact.kind.verification_failed().is_some())
            .take(3)
            .map(SetAside::describe)
            .collect();
        if aside.is_empty() {
            return None;
        }
        return Some(Condition::new(
            None,
            format!(
                "the --evidence files' word on verification is set aside: {}; read the phone's Status Messages now (or give --phone-status)",
                aside.join("; ")
            ),
        ));
    }
    let mut opinions: Vec<(String, bool)> = last
        .iter()
        .map(|(_, f, failed)| (format!("{} \"{}\"", f.source, f.text), *failed))
        .collect();
    match ctx.phone_status {
        PhoneStatus::Failed => opinions.push(("--phone-status failed".into(), true)),
        PhoneStatus::Ok => opinions.push(("--phone-status ok".into(), false)),
        PhoneStatus::Unknown => {}
    }
    let failed: Vec<&str> = opinions
        .iter()
        .filter(|o| o.1)
        .map(|o| o.0.as_str())
        .collect();
    let ok: Vec<&str> = opinions
        .iter()
        .filter(|o| !o.1)
        .map(|o| o.0.as_str())
        .collect();
    Some(match (failed.is_empty(), ok.is_empty()) {
        (false, false) => Condition::new(
            None,
            format!(
                "conflict, not resolved: a verification failure per {} but success per {}; check which is current on the phone's Status Messages",
                failed.join(", "),
                ok.join(", ")
            ),
        ),
        (false, true) => Condition::new(
            Some(true),
            format!(
                "the phone shows a verification failure: {}",
                failed.join("; ")
            ),
        ),
        _ => Condition::new(
            Some(false),
            format!(
                "the phone's last word on verifying its trust list or config is a success: {}",
                ok.join("; ")
            ),
        ),
    })
}

/// The phone's reported timeline: every fact of the evidence files about it.
pub fn reported_timeline(ctx: &PhoneCtx<'_>) -> Vec<ReportedEvent> {
    ctx_facts(ctx)
        .into_iter()
        .map(|f| ReportedEvent {
            source: f.source.to_string(),
            time: f.time.clone(),
            kind: f.kind.as_str(),
            what: describe(f),
        })
        .collect()
}

/// Check `phone-reported`: what the phone's logs and pages say, and the facts set aside.
pub(super) fn phone_reported(ctx: &PhoneCtx<'_>) -> Check {
    let (facts, aside) = sort_facts(ctx.evidence, ctx.facts, ctx.group);
    let mut c = Check {
        id: "phone-reported",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    for a in aside.iter().take(MAX_ITEMS) {
        push_flag(
            &mut c.flags,
            match a.why {
                SetAsideWhy::Older { .. } => "evidence-older-than-capture",
                SetAsideWhy::OtherPhone { .. } => "evidence-about-another-phone",
                SetAsideWhy::Unattributed => "evidence-names-no-phone",
            },
        );
        c.evidence.push(
            EvidenceItem::note(a.describe())
                .with("source", a.fact.source.to_string())
                .with("kind", a.fact.kind.as_str())
                .with("set_aside", true),
        );
    }
    if aside.len() > MAX_ITEMS {
        c.evidence.push(EvidenceItem::note(format!(
            "{} more fact(s) set aside",
            aside.len() - MAX_ITEMS
        )));
    }
    if facts.is_empty() {
        c.explanation = if aside.is_empty() {
            "the --evidence files say nothing about this phone".into()
        } else {
            format!(
                "conflict: {} fact(s) of the --evidence files set aside ({}), none used",
                aside.len(),
                aside[0].describe()
            )
        };
        return c;
    }
    for f in &facts {
        match f.kind {
            FactKind::TrustListFailed => push_flag(&mut c.flags, "trust-list-failed"),
            FactKind::ConfigAuthFailed { .. } => push_flag(&mut c.flags, "config-auth-failed"),
            FactKind::TvsFailed => push_flag(&mut c.flags, "tvs-failed"),
            FactKind::NoTrustList => push_flag(&mut c.flags, "no-trust-list"),
            FactKind::CertNotInTrustList => push_flag(&mut c.flags, "needs-tvs"),
            FactKind::FileVerification { ok: false, .. } => {
                push_flag(&mut c.flags, "file-verify-failed")
            }
            FactKind::TvsCertTrusted { .. } => push_flag(&mut c.flags, "phone-trusts-tvs"),
            FactKind::TvsResponse { status: 0 } => push_flag(&mut c.flags, "tvs-vouched"),
            FactKind::TvsResponse { .. } => push_flag(&mut c.flags, "tvs-not-vouched"),
            _ => {}
        }
    }
    for f in facts.iter().take(MAX_ITEMS) {
        c.evidence.push(fact_item(f));
    }
    if facts.len() > MAX_ITEMS {
        c.evidence.push(EvidenceItem::note(format!(
            "{} more fact(s) in the reported timeline",
            facts.len() - MAX_ITEMS
        )));
    }
    match verification(ctx) {
        Some(cond) => {
            c.status = match cond.value {
                Some(true) => Status::Fail,
                Some(false) => Status::Pass,
                None => {
                    push_flag(&mut c.flags, "sources-conflict");
                    Status::Unknown
                }
            };
            c.explanation = format!("{} fact(s); {}", facts.len(), cond.explanation);
        }
        None => {
            c.explanation = format!(
                "{} fact(s), none about verifying the trust list or config",
                facts.len()
            );
        }
    }
    if !aside.is_empty() {
        c.explanation.push_str(&format!(
            "; {} fact(s) set aside (older than the capture, or not about this phone)",
            aside.len()
        ));
    }
    c
}

/// What a file-verification fact was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifiedWhat {
    /// A trust list (CTL/ITL): "Trust List Updated", "Trust List Verification Failed",
    /// "TL file verified successfully".
    TrustList,
    /// The signed envelope of the file just downloaded (`validate_file_envelope`; the ITL at
    /// boot in the TAC note's log).
    Envelope,
    /// A signed config or other signed file (`verifyFile`, "authenticated fail", "Hashes
    /// match").
    SignedFile,
}

/// One verification the phone reported, for this phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerificationReport {
    /// True when it verified, false when it failed.
    pub verified: bool,
    /// What was verified.
    pub what: VerifiedWhat,
    /// The file, when the line names it.
    pub file: Option<String>,
    /// The fact's kind name (`file-verified`, `trust-list-failed`, …).
    pub kind: &'static str,
    /// Where: `file[!member]:line`.
    pub source: String,
    /// The line.
    pub line: Option<usize>,
    /// The time as written.
    pub time: Option<String>,
    /// The line, shortened.
    pub text: String,
}

/// Every verification success or failure the `--evidence` files report for this phone
/// (condition 3 reads the last per file through [`verification`]), set-aside evidence left
/// out.
pub fn file_verification_reports(ctx: &PhoneCtx<'_>) -> Vec<FileVerificationReport> {
    ctx_facts(ctx)
        .into_iter()
        .filter_map(|f| {
            let failed = f.kind.verification_failed()?;
            let (what, file) = match &f.kind {
                FactKind::FileVerification {
                    envelope: true,
                    file,
                    ..
                } => (VerifiedWhat::Envelope, file.clone()),
                FactKind::FileVerification { file, .. } => (VerifiedWhat::SignedFile, file.clone()),
                FactKind::ConfigAuthFailed { name } => (VerifiedWhat::SignedFile, name.clone()),
                FactKind::FileAuthenticated => (VerifiedWhat::SignedFile, None),
                _ => (VerifiedWhat::TrustList, None),
            };
            Some(FileVerificationReport {
                verified: !failed,
                what,
                file,
                kind: f.kind.as_str(),
                source: f.source.to_string(),
                line: f.source.line,
                time: f.time.clone(),
                text: f.text.clone(),
            })
        })
        .collect()
}
