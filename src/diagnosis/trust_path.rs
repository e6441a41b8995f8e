//! The trust path: given the ITL the phone holds, would it accept the served ITL and config?
//! The decision is the tool's one trust decision ([`crate::trust::decide`], shared with
//! `verify`, `show` and `plan`); what this module adds is the capture's evidence: which files
//! were served, and what the TVS sessions on the wire show when only a TVS can vouch.

use super::checks::{installed_matches, is_tls13, is_unreachable, phone_rejected};
use super::context::{Installed, PhoneCtx};
use super::facts::PhoneStatus;
use super::model::{Acceptance, PathStep, TrustPath};
use super::trust::{describe_record, find_certificate, is_rollback, normalise_dn};
use crate::cisco::model::{TrustList, function};
use crate::trust::records::signer_in;
use crate::trust::recovery::{itl_recovery_record, same_certificate};
use crate::trust::store::{self, FileKind, Part, ServedFile, Store};
use crate::trust::{self as shared, Decision, Held, Kind, Offered, TvsWitness};

fn step(acceptance: Acceptance, via: Option<&'static str>, explanation: String) -> PathStep {
    PathStep {
        acceptance,
        via,
        explanation,
    }
}

/// The shared decision as a step of the report.
fn from_decision(d: Decision) -> PathStep {
    step(
        d.acceptance,
        d.route.map(shared::Route::as_str),
        d.explanation,
    )
}

/// How a step that only a TVS can settle begins its explanation (whether TVS vouched or not
/// is then known or undetermined): advice that depends on TVS staying unchanged looks for it.
pub const ONLY_THROUGH_TVS: &str = "only through TVS";

/// True when the step can only be taken through TVS (accepted that way, or undetermined
/// because what TVS answered is not known).
pub fn only_through_tvs(step: &PathStep) -> bool {
    step.via == Some("via-tvs") || step.explanation.starts_with(ONLY_THROUGH_TVS)
}

/// What the capture's TVS sessions show about a TVS of the held list vouching.
struct WireTvs<'c, 'e>(&'c PhoneCtx<'e>);

impl TvsWitness for WireTvs<'_, '_> {
    fn vouch(
        &self,
        list: &TrustList<'_>,
        tvs: &[usize],
        offered: &Offered<'_>,
        _why: &str,
    ) -> Decision {
        let what = offered.what;
        let mut seen_mismatch = None;
        let mut matched_unfinished = None;
        let mut tls13 = false;
        let mut unreachable = false;
        for (_, s) in self.0.tvs_sessions() {
            tls13 |= is_tls13(s) && s.certificates.is_empty();
            unreachable |= is_unreachable(s);
            let Some(leaf) = s.certificates.first() else {
                continue;
            };
            match find_certificate(leaf, list, &[function::TVS]) {
                Some((record, how)) => {
                    if s.handshake_complete && phone_rejected(s).is_none() {
                        // The frame of the certificate, not the session's first (its SYN).
                        let at = match s.certificate_seen {
                            Some(c) => format!("frame {}", c.frame),
                            None => format!("session from frame {}", s.first.frame),
                        };
                        let reached = format!(
                            "{ONLY_THROUGH_TVS}: {what}'s signer is not in the phone's ITL; TVS {} presented a certificate matching {} (by {}, {at}) and the handshake completed, but what TVS answered is encrypted",
                            s.server,
                            describe_record(list, record),
                            how.as_str(),
                        );
                        // A reachable TVS that does not know the signer also completes the
                        // handshake and answers "invalid" inside it (phone-behaviour.md
                        // §2.1): the handshake alone does not say TVS vouched.
                        return match phone_shows(self.0) {
                            (Some(false), said) => Decision::accepted(
                                shared::Route::ViaTvs,
                                format!(
                                    "{reached}; the phone shows no trust-list failure ({said}), so TVS vouched"
                                ),
                            ),
                            (Some(true), said) => Decision::undetermined(format!(
                                "{reached}; the phone shows a verification failure ({said}): TVS may have answered \"invalid\", or the failure is the config's"
                            )),
                            (None, _) => Decision::undetermined(format!(
                                "{reached}: the phone's Status Messages (--phone-status, or --evidence) or its next DeviceTLInfo alarm (the ITL it then holds) settle whether TVS vouched"
                            )),
                        };
                    }
                    matched_unfinished = Some(s.server);
                }
                None => seen_mismatch = Some((s.server, leaf.serial.clone())),
            }
        }
        if let Some(server) = matched_unfinished {
            return Decision::undetermined(format!(
                "{what}'s signer is not in the phone's ITL; TVS {server} presented a matching certificate but the handshake did not complete"
            ));
        }
        if let Some((server, serial)) = seen_mismatch {
            return Decision::rejected(format!(
                "not at all: {what}'s signer is not in the phone's ITL, and TVS {server} presented a certificate (serial {serial}) that matches none of the ITL's {} TVS record(s)",
                tvs.len()
            ));
        }
        let why = if tls13 {
            "TVS spoke TLS 1.3, so its certificate cannot be compared"
        } else if unreachable {
            "TVS did not answer (a service problem)"
        } else {
            "no TVS session is in the capture"
        };
        Decision::undetermined(format!(
            "only through one of the ITL's {} TVS record(s), and {why}",
            tvs.len()
        ))
    }
}

/// Whether the phone shows a verification failure, and who says so: its Status Messages or
/// logs given with `--evidence` (with `--phone-status`), else `--phone-status` alone.
fn phone_shows(ctx: &PhoneCtx<'_>) -> (Option<bool>, String) {
    if let Some(c) = super::outside::verification(ctx) {
        return (c.value, c.explanation);
    }
    match ctx.phone_status {
        PhoneStatus::Ok => (Some(false), "--phone-status ok".into()),
        PhoneStatus::Failed => (Some(true), "--phone-status failed".into()),
        PhoneStatus::Unknown => (None, String::new()),
    }
}

/// The shared decision for one served file, with the capture as TVS evidence.
fn decide(
    ctx: &PhoneCtx<'_>,
    held: &TrustList<'_>,
    label: &str,
    offered: &Offered<'_>,
) -> PathStep {
    from_decision(shared::decide(
        &Held::List { list: held, label },
        offered,
        ctx.backend,
        &WireTvs(ctx),
    ))
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
    let parsed = match &config.parsed {
        Ok(p) => p,
        // A rollback ITL takes any config, readable or not.
        Err(_) if super::trust::is_rollback(effective, super::trust::header_signer(effective)) => {
            return step(
                Acceptance::Accepted,
                Some("rollback-itl"),
                format!("{label} is an empty (rollback) ITL: any config is accepted"),
            );
        }
        Err(e) => {
            return step(
                Acceptance::Undetermined,
                None,
                format!("{} could not be read: {e}", config.file.name),
            );
        }
    };
    let offered = Offered {
        bytes: config.file.data.as_slice(),
        header: &parsed.header,
        kind: Kind::Config,
        what: &config.file.name,
    };
    decide(ctx, effective, label, &offered)
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

/// Where a transfer begins, as the store's timeline orders it.
fn at(file: &crate::evidence::FileTransfer) -> store::At {
    (file.first.capture, file.first.frame)
}

/// The phone's store before the capture: `installed` as its ITL, and its CTL when
/// `--phone-ctl` gives it and its own signature holds (else it is not consulted).
fn store_before<'a>(ctx: &PhoneCtx<'a>, installed: &'a TrustList<'a>) -> Store<'a> {
    let ctl = match ctx.installed_ctl.map(|f| (f.name, f.usable())) {
        Some((name, Ok(list))) => Part::Exact {
            list,
            label: format!("the phone's CTL ({name})"),
        },
        _ => Part::Unknown,
    };
    Store {
        ctl,
        itl: Part::Exact {
            list: installed,
            label: "the phone's ITL".into(),
        },
    }
}

/// The timeline of the phone's store through the capture, from `installed` (the ITL it held
/// before): the served CTL, ITL and config in capture order, each judged against the store at
/// its frame, with the capture's TVS sessions as TVS evidence.
pub fn timeline<'a>(ctx: &'a PhoneCtx<'a>, installed: &'a TrustList<'a>) -> store::Timeline<'a> {
    let mut served = Vec::new();
    if let Some(ctl) = &ctx.served_ctl
        && let Ok(list) = &ctl.parsed
    {
        served.push(ServedFile {
            at: at(ctl.file),
            kind: FileKind::Ctl,
            offered: store::offered_list(list, "the served CTL"),
            list: Some(list),
            label: "the served CTL",
        });
    }
    if let Some(itl) = &ctx.served_itl
        && let Ok(list) = &itl.parsed
    {
        served.push(ServedFile {
            at: at(itl.file),
            kind: FileKind::Itl,
            offered: store::offered_list(list, "the served ITL"),
            list: Some(list),
            label: "the served ITL",
        });
    }
    if let Some(config) = &ctx.config
        && let Ok(parsed) = &config.parsed
    {
        served.push(ServedFile {
            at: at(config.file),
            kind: FileKind::Config,
            offered: Offered {
                bytes: config.file.data.as_slice(),
                header: &parsed.header,
                kind: Kind::Config,
                what: &config.file.name,
            },
            list: None,
            label: "",
        });
    }
    store::walk(
        store_before(ctx, installed),
        &served,
        ctx.backend,
        &WireTvs(ctx),
    )
}

/// A judged file of the timeline as a step of the report.
fn from_judged(j: &store::Judged) -> PathStep {
    step(
        j.decision.acceptance,
        j.via(),
        j.decision.explanation.clone(),
    )
}

fn path_from<'a>(ctx: &'a PhoneCtx<'a>, basis: String, installed: &'a TrustList<'a>) -> TrustPath {
    let timeline = timeline(ctx, installed);
    let itl = match &ctx.served_itl {
        None => step(
            Acceptance::Undetermined,
            None,
            "no ITL was downloaded whole in the capture".into(),
        ),
        Some(served) if installed.bytes == served.file.data.as_slice() => step(
            Acceptance::Accepted,
            Some("same-file"),
            "the phone already holds the served ITL".into(),
        ),
        Some(served) => match (&served.parsed, timeline.last(FileKind::Itl)) {
            (Ok(_), Some(j)) => from_judged(j),
            _ => step(
                Acceptance::Rejected,
                None,
                "the served ITL does not parse: the phone rejects it".into(),
            ),
        },
    };
    // The config is judged against the store the phone holds at its frame: the served ITL
    // once taken, its own before.
    let config = match (&ctx.config, timeline.last(FileKind::Config)) {
        (Some(_), Some(j)) => from_judged(j),
        (Some(c), None) => {
            let now = timeline.at(at(c.file));
            match &now.itl {
                Part::Exact { list, label } => config_step(ctx, list, label),
                _ => config_step(ctx, installed, "the phone's ITL"),
            }
        }
        (None, _) => config_step(ctx, installed, "the phone's ITL"),
    };
    TrustPath { basis, itl, config }
}

/// Roles that may sign a trust list for the phone.
const ITL_SIGNERS: &[u16] = &[function::SAST, function::CCM_TFTP, function::TFTP];

/// How the served ITL's signer relates to the ITL the phone holds (`--phone-itl`): what the
/// recovery advice rests on (a key restore helps only for a signer the phone knew before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerRelation {
    /// The phone accepts the served ITL's signer from its own ITL (same file, rollback ITL, or
    /// the signer is one of its SAST/TFTP records).
    pub known: bool,
    /// Both ITLs name the same signer (same subject): the served one is a regenerated key of
    /// the signer the phone knows, which a backup of the old key can put back.
    pub same_signer_name: bool,
    /// Certificates (by serial and issuer) found in both ITLs.
    pub shared_certificates: usize,
    /// The phone's ITL's signer, as its header names it.
    pub installed_signer: String,
    /// The served ITL's signer, as its header names it.
    pub served_signer: String,
    /// The phone's ITL's ITLRecovery record, described, when it has one (whether the cluster
    /// still serves it is the `itl-recovery` recovery path's to say).
    pub itl_recovery: Option<String>,
}

fn signer_name(list: &TrustList<'_>) -> String {
    list.header
        .signer_name
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_else(|| "(unnamed signer)".into())
}

/// The relation, when both the phone's ITL (`--phone-itl`) and the served ITL parse.
pub fn signer_relation(ctx: &PhoneCtx<'_>) -> Option<SignerRelation> {
    // A copy the diagnosis does not believe (its own signature fails) says nothing of signers.
    let installed = ctx.installed_file?.usable().ok()?;
    let served = ctx.served_itl.as_ref()?;
    let served_list = served.parsed.as_ref().ok()?;
    let known = installed.bytes == served.file.data.as_slice()
        || is_rollback(installed, super::trust::header_signer(installed))
        || signer_in(installed, &served_list.header, ITL_SIGNERS).is_some();
    let same_signer_name = match (installed.header.signer_name, served_list.header.signer_name) {
        (Some(a), Some(b)) => {
            normalise_dn(&String::from_utf8_lossy(a)) == normalise_dn(&String::from_utf8_lossy(b))
        }
        _ => false,
    };
    let shared_certificates = installed
        .records
        .iter()
        .filter(|r| served_list.records.iter().any(|s| same_certificate(r, s)))
        .count();
    let itl_recovery = itl_recovery_record(installed).map(|i| describe_record(installed, i));
    Some(SignerRelation {
        known,
        same_signer_name,
        shared_certificates,
        installed_signer: signer_name(installed),
        served_signer: signer_name(served_list),
        itl_recovery,
    })
}
