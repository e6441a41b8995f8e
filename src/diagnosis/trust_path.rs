//! The trust path, as report items: given the ITL the phone holds, would it accept the served
//! ITL and config? Everything is computed in [`crate::trust`] (the store's timeline over every
//! download, what the TVS sessions show, the signer relation); this module picks the plain
//! values out of the phone's evidence, passes them in, and turns the answers into report items.

use super::checks::installed_matches;
use super::context::{Installed, PhoneCtx};
use super::facts::PhoneStatus;
use super::model::{Acceptance, PathStep, TrustPath};
use super::names::RequestKind;
use crate::cisco::model::{SignedFile, TrustList};
use crate::trust::evidence::{
    self as wire, ConfigDownload, ItlDownload, PhoneSays, Step, Wire, WireTvs,
};
use crate::trust::store::{self, CtlReport, FileKind, Part, ServedFile, Store};
use crate::trust::{Kind, Offered};

pub use crate::trust::evidence::{ONLY_THROUGH_TVS, SignerRelation};

fn step(acceptance: Acceptance, via: Option<&'static str>, explanation: String) -> PathStep {
    PathStep {
        acceptance,
        via,
        explanation,
    }
}

/// A computed answer as a step of the report.
fn from_step(s: Step) -> PathStep {
    step(s.acceptance, s.via, s.explanation)
}

/// True when the step can only be taken through TVS (accepted that way, or undetermined
/// because what TVS answered is not known).
pub fn only_through_tvs(step: &PathStep) -> bool {
    step.via == Some("via-tvs") || step.explanation.starts_with(ONLY_THROUGH_TVS)
}

/// The capture's TVS evidence for this phone: its TVS sessions, and whether it shows a
/// verification failure (its Status Messages or logs given with `--evidence`, else
/// `--phone-status`).
fn wire_tvs<'e>(ctx: &PhoneCtx<'e>) -> WireTvs<'e> {
    let status = match ctx.phone_status {
        PhoneStatus::Ok => Some(false),
        PhoneStatus::Failed => Some(true),
        PhoneStatus::Unknown => None,
    };
    let evidence = super::outside::verification(ctx).map(|c| (c.value, c.explanation));
    WireTvs {
        sessions: ctx.tvs_sessions().map(|(_, s)| s).collect(),
        phone: PhoneSays::of(evidence, status),
    }
}

/// One whole download, parsed (what the timeline judges).
enum Parsed<'e> {
    List(FileKind, TrustList<'e>),
    Config(SignedFile<'e>),
}

/// Every whole CTL and ITL download of the kind the report names (per-phone, else generic),
/// and every signed config, parsed: `(where, name, parsed)`.
fn downloads<'e>(ctx: &PhoneCtx<'e>) -> Vec<(store::At, &'e str, &'e [u8], Parsed<'e>)> {
    let itl_kind = ctx.served_itl.as_ref().map(|s| s.kind);
    let ctl_kind = ctx.served_ctl.as_ref().map(|s| s.kind);
    let mut out = Vec::new();
    for &(_, file, kind) in &ctx.files {
        if !file.complete || file.upload {
            continue;
        }
        // A signed config kept as its header only: that header, with its signed digest.
        let bytes: &'e [u8] = file.signed_bytes();
        let at = (file.first.capture, file.first.frame);
        let parsed = if Some(kind) == itl_kind || Some(kind) == ctl_kind {
            let what = if Some(kind) == itl_kind {
                FileKind::Itl
            } else {
                FileKind::Ctl
            };
            ctx.backend
                .parse_trust_list(bytes)
                .ok()
                .map(|l| Parsed::List(what, l))
        } else if matches!(
            kind,
            RequestKind::SignedConfig | RequestKind::EncryptedConfig
        ) {
            ctx.backend.parse_signed_file(bytes).ok().map(|mut c| {
                c.header.signed_digest = file.signed_digest();
                Parsed::Config(c)
            })
        } else {
            None
        };
        if let Some(p) = parsed {
            out.push((at, file.name.as_str(), bytes, p));
        }
    }
    out
}

/// How explanations name a download once the phone holds it: the one the report names is
/// "the served ITL" (or CTL), an earlier or later one "the ITL served at frame N".
fn label_of(ctx: &PhoneCtx<'_>, kind: FileKind, at: store::At) -> String {
    let (reported, word) = match kind {
        FileKind::Itl => (ctx.served_itl.as_ref(), "ITL"),
        FileKind::Ctl => (ctx.served_ctl.as_ref(), "CTL"),
        FileKind::Config => return String::new(),
    };
    match reported {
        Some(r) if (r.file.first.capture, r.file.first.frame) == at => format!("the served {word}"),
        _ => format!(
            "the {word} served at {}",
            ctx.at(crate::evidence::Seen {
                capture: at.0,
                frame: at.1,
                ..Default::default()
            })
        ),
    }
}

/// The trust path computed by `compute` over this phone's downloads.
fn with_wire(
    ctx: &PhoneCtx<'_>,
    compute: &dyn Fn(&Wire<'_, '_>) -> wire::PathSteps,
) -> (PathStep, PathStep) {
    let parsed = downloads(ctx);
    let labels: Vec<String> = parsed
        .iter()
        .map(|(at, _, _, p)| match p {
            Parsed::List(kind, _) => label_of(ctx, *kind, *at),
            Parsed::Config(_) => String::new(),
        })
        .collect();
    let served = parsed
        .iter()
        .zip(&labels)
        .map(|((at, name, bytes, p), label)| match p {
            Parsed::List(kind, list) => ServedFile {
                at: *at,
                kind: *kind,
                offered: store::offered_list(list, label),
                list: Some(list),
                label,
            },
            Parsed::Config(c) => ServedFile {
                at: *at,
                kind: FileKind::Config,
                offered: Offered {
                    bytes,
                    header: &c.header,
                    kind: Kind::Config,
                    what: name,
                },
                list: None,
                label,
            },
        })
        .collect();
    let tvs = wire_tvs(ctx);
    let config = ctx.config.as_ref().map(|c| ConfigDownload {
        at: (c.file.first.capture, c.file.first.frame),
        name: &c.file.name,
        bytes: c.file.signed_bytes(),
        parsed: c.parsed.as_ref().map_err(String::as_str),
    });
    let w = Wire {
        served,
        itl: ctx.served_itl.as_ref().map(|s| ItlDownload {
            at: (s.file.first.capture, s.file.first.frame),
            bytes: s.file.data.as_slice(),
            parses: s.parsed.is_ok(),
        }),
        config,
        ctl_reports: ctl_reports(ctx),
        verifier: ctx.backend,
        tvs: &tvs,
    };
    let steps = compute(&w);
    (from_step(steps.itl), from_step(steps.config))
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
                other => super::checks::installed_source(ctx.evidence, other),
            };
            let (itl, config) = with_wire(ctx, &|w| {
                wire::path_without_itl_holding(w, ctl_without_itl(ctx))
            });
            Some(TrustPath { basis, itl, config })
        }
        Installed::File(file) => {
            let basis = format!("--phone-itl {}", file.name);
            let installed = match file.usable() {
                Ok(list) => list,
                Err(e) => {
                    return Some(undetermined(basis, &format!("the phone's ITL {e}")));
                }
            };
            Some(path_from(ctx, basis, installed))
        }
        installed @ (Installed::OperatorHash(_)
        | Installed::AlarmHash { .. }
        | Installed::Reported { .. }) => {
            let basis = super::checks::installed_source(ctx.evidence, installed);
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

/// What the phone itself reports of its CTL: the `CTL_Signature` of its DeviceTLInfo alarms in
/// the capture (placed at their frame; a hash, or "Not Installed": it holds no CTL, statement
/// 7a), and of the DeviceTLInfo lines of its console log given with `--evidence` (not placed:
/// used only when they name a served CTL).
fn ctl_reports(ctx: &PhoneCtx<'_>) -> Vec<CtlReport> {
    let mut out: Vec<CtlReport> = ctx
        .alarms
        .iter()
        .filter_map(|(_, a)| {
            let at = Some((a.seen.capture, a.seen.frame));
            if let Some(h) = &a.ctl_signature {
                Some(CtlReport {
                    at,
                    hash: Some(h.clone()),
                    source: format!(
                        "CTL_Signature of its DeviceTLInfo alarm, {}",
                        ctx.at(a.seen)
                    ),
                })
            } else if a.ctl_not_installed() {
                Some(CtlReport {
                    at,
                    hash: None,
                    source: format!(
                        "its DeviceTLInfo alarm, {}, says CTL_Signature \"Not Installed\"",
                        ctx.at(a.seen)
                    ),
                })
            } else {
                None
            }
        })
        .collect();
    for fact in super::outside::usable_facts(ctx) {
        if let crate::sidecar::FactKind::DeviceTlInfo(a) = &fact.kind
            && let Some(h) = &a.ctl_signature
        {
            out.push(CtlReport {
                at: None,
                hash: Some(h.clone()),
                source: format!("CTL_Signature of its logged DeviceTLInfo: {}", fact.text),
            });
        }
    }
    out
}

/// The CTL of a phone that reports no ITL: `--phone-ctl` when given, none when its evidence
/// says no trust list at all is installed ("No Trust List installed", or a logged DeviceTLInfo
/// whose `CTL_Signature` is "Not Installed" too: no CTL and no ITL), else unknown. A
/// DeviceTLInfo alarm in the capture is placed at its frame: the walk reads it
/// ([`CtlReport`]).
fn ctl_without_itl<'a>(ctx: &PhoneCtx<'a>) -> Part<'a> {
    use crate::sidecar::FactKind;
    match (ctl_before(ctx), &ctx.installed) {
        (Part::Unknown, Installed::ReportedNone(fact))
            if match &fact.kind {
                FactKind::NoTrustList => true,
                FactKind::DeviceTlInfo(a) => a.ctl_not_installed(),
                _ => false,
            } =>
        {
            Part::Absent
        }
        (part, _) => part,
    }
}

/// The phone's CTL before the capture: `--phone-ctl` when given and its own signature holds
/// (else unknown, and a CTL the phone takes in the capture is known from the wire).
fn ctl_before<'a>(ctx: &PhoneCtx<'a>) -> Part<'a> {
    match ctx.installed_ctl.map(|f| (f.name, f.usable())) {
        Some((name, Ok(list))) => Part::Exact {
            list,
            label: format!("the phone's CTL ({name})"),
        },
        _ => Part::Unknown,
    }
}

fn path_from<'a>(ctx: &'a PhoneCtx<'a>, basis: String, installed: &'a TrustList<'a>) -> TrustPath {
    let (itl, config) = with_wire(ctx, &|w| {
        let before = Store {
            ctl: ctl_before(ctx),
            itl: Part::Exact {
                list: installed,
                label: "the phone's ITL".into(),
            },
        };
        wire::path(before, installed, w)
    });
    TrustPath { basis, itl, config }
}

/// How the served ITL's signer relates to the phone's ITL (`--phone-itl`, believed), when both
/// parse: computed by [`crate::trust::evidence::signer_relation`].
pub fn signer_relation(ctx: &PhoneCtx<'_>) -> Option<SignerRelation> {
    // A copy the diagnosis does not believe (its own signature fails) says nothing of signers.
    let installed = ctx.installed_file?.usable().ok()?;
    let served = ctx.served_itl_list()?;
    Some(wire::signer_relation(installed, served))
}
