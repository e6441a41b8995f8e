//! The capture's evidence turned into trust answers: what the phone's TVS sessions say when
//! only a TVS can vouch ([`WireTvs`]), the trust path of a phone from every download it made
//! ([`path`], [`path_without_itl`]), and how the served ITL's signer relates to the phone's
//! own ITL ([`signer_relation`]).
//!
//! The diagnosis picks the values out of its evidence (the phone's TVS sessions, its downloads
//! parsed, what its Status Messages say) and passes them in as plain values; it only turns the
//! answers into report items. This module never reads the diagnosis.

use super::decide::{Acceptance, Decision, Held, Kind, Offered, Route, TvsWitness, Verifier};
use super::records::{
    describe_record, find_certificate, header_signer, is_rollback, normalise_dn, signer_in,
};
use super::recovery::{itl_recovery_record, same_certificate};
use super::store::{self, At, CtlReport, FileKind, Judged, Part, ServedFile, Store};
use super::tvs::{is_tls13, is_unreachable, phone_rejected};
use crate::cisco::model::{SignedFile, TrustList, function};
use crate::evidence::TlsSession;

/// How a step that only a TVS can settle begins its explanation (whether TVS vouched or not
/// is then known or undetermined): advice that depends on TVS staying unchanged looks for it.
pub const ONLY_THROUGH_TVS: &str = "only through TVS";

/// Whether the phone shows a verification failure, and who says so (`--phone-status`, its
/// Status Messages or logs): what settles whether a TVS that completed the handshake vouched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneSays {
    /// True: it shows a failure; false: it shows none; None: nothing says.
    pub failure: Option<bool>,
    /// Who says so ("--phone-status ok", a Status Messages line), empty when nothing does.
    pub said: String,
}

impl PhoneSays {
    /// From the phone's own evidence when there is some (`(failure, explanation)` of its Status
    /// Messages or logs), else from `--phone-status` (`Some(true)` for `failed`).
    pub fn of(evidence: Option<(Option<bool>, String)>, status_failed: Option<bool>) -> Self {
        if let Some((failure, said)) = evidence {
            return PhoneSays { failure, said };
        }
        match status_failed {
            Some(false) => PhoneSays {
                failure: Some(false),
                said: "--phone-status ok".into(),
            },
            Some(true) => PhoneSays {
                failure: Some(true),
                said: "--phone-status failed".into(),
            },
            None => PhoneSays::default(),
        }
    }
}

/// What the capture's TVS sessions (of one phone) show about a TVS of the held list vouching.
#[derive(Debug, Clone)]
pub struct WireTvs<'e> {
    /// The phone's TVS sessions, in evidence order.
    pub sessions: Vec<&'e TlsSession>,
    /// What the phone shows about a verification failure.
    pub phone: PhoneSays,
}

impl TvsWitness for WireTvs<'_> {
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
        for s in &self.sessions {
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
                        let said = &self.phone.said;
                        return match self.phone.failure {
                            Some(false) => Decision::accepted(
                                Route::ViaTvs,
                                format!(
                                    "{reached}; the phone shows no trust-list failure ({said}), so TVS vouched"
                                ),
                            ),
                            Some(true) => Decision::undetermined(format!(
                                "{reached}; the phone shows a verification failure ({said}): TVS may have answered \"invalid\", or the failure is the config's"
                            )),
                            None => Decision::undetermined(format!(
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

/// One answer of the trust path, ready for a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The answer.
    pub acceptance: Acceptance,
    /// How: `same-file`, `no-itl`, `rollback-itl`, `signer-in-itl`, `signer-in-ctl`,
    /// `via-tvs`, or None.
    pub via: Option<&'static str>,
    /// One line.
    pub explanation: String,
}

impl Step {
    fn new(acceptance: Acceptance, via: Option<&'static str>, explanation: String) -> Self {
        Step {
            acceptance,
            via,
            explanation,
        }
    }

    fn undetermined(explanation: &str) -> Self {
        Step::new(Acceptance::Undetermined, None, explanation.into())
    }
}

impl From<Decision> for Step {
    fn from(d: Decision) -> Self {
        Step::new(d.acceptance, d.route.map(Route::as_str), d.explanation)
    }
}

impl From<&Judged> for Step {
    fn from(j: &Judged) -> Self {
        Step::new(
            j.decision.acceptance,
            j.via(),
            j.decision.explanation.clone(),
        )
    }
}

/// The served ITL the report names (the phone's last whole ITL download), as downloaded.
#[derive(Debug, Clone, Copy)]
pub struct ItlDownload<'a> {
    /// Where it was served.
    pub at: At,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Whether it parses (the parse error is then the report's, not this module's).
    pub parses: bool,
}

/// The signed config the report names (the phone's last whole config download).
#[derive(Debug, Clone, Copy)]
pub struct ConfigDownload<'a> {
    /// Where it was served.
    pub at: At,
    /// Its name.
    pub name: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Parsed, or why not.
    pub parsed: Result<&'a SignedFile<'a>, &'a str>,
}

/// Everything one phone's capture shows for its trust path.
pub struct Wire<'a, 'w> {
    /// Every whole CTL, ITL and signed config the phone downloaded that parses, in any order
    /// (each is judged, in capture order, against the store at its frame).
    pub served: Vec<ServedFile<'a>>,
    /// The served ITL the report names.
    pub itl: Option<ItlDownload<'a>>,
    /// The signed config the report names.
    pub config: Option<ConfigDownload<'a>>,
    /// What the phone itself reports of the CTL it holds (DeviceTLInfo `CTL_Signature`, a hash
    /// or "Not Installed"): what shows it took or refused a served CTL, or held none when it
    /// arrived.
    pub ctl_reports: Vec<CtlReport>,
    /// Signature checks.
    pub verifier: &'w dyn Verifier,
    /// What a TVS would answer.
    pub tvs: &'w dyn TvsWitness,
}

impl<'a> Wire<'a, '_> {
    /// Every download judged in capture order from the store `before` the capture.
    fn walk(&self, before: Store<'a>) -> store::Timeline<'a> {
        store::walk_reported(
            before,
            &self.served,
            &self.ctl_reports,
            self.verifier,
            self.tvs,
        )
    }
}

/// The trust path's two answers, and every download judged.
#[derive(Debug, Clone)]
pub struct PathSteps {
    /// The served ITL the report names.
    pub itl: Step,
    /// The signed config the report names.
    pub config: Step,
    /// Every CTL, ITL and config download, in capture order, each judged against the store
    /// the phone held at its frame.
    pub judged: Vec<Judged>,
}

/// Would a phone holding `effective` (named `label`) take the config? Used where the
/// timeline did not judge it (it does not parse, or no ITL was taken before it).
pub fn config_step(wire: &Wire<'_, '_>, effective: &TrustList<'_>, label: &str) -> Step {
    let Some(config) = &wire.config else {
        return Step::undetermined("no signed config was downloaded whole in the capture");
    };
    let parsed = match config.parsed {
        Ok(p) => p,
        // A rollback ITL takes any config, readable or not.
        Err(_) if is_rollback(effective, header_signer(effective)) => {
            return Step::new(
                Acceptance::Accepted,
                Some("rollback-itl"),
                format!("{label} is an empty (rollback) ITL: any config is accepted"),
            );
        }
        Err(e) => {
            return Step::new(
                Acceptance::Undetermined,
                None,
                format!("{} could not be read: {e}", config.name),
            );
        }
    };
    let offered = Offered {
        bytes: config.bytes,
        header: &parsed.header,
        kind: Kind::Config,
        what: config.name,
    };
    super::decide::decide(
        &Held::List {
            list: effective,
            label,
        },
        &offered,
        wire.verifier,
        wire.tvs,
    )
    .into()
}

/// The judgement of the download at `at`, of `kind`.
fn judged_at(judged: &[Judged], kind: FileKind, at: At) -> Option<&Judged> {
    judged.iter().find(|j| j.kind == kind && j.at == at)
}

/// The judgement that decided the reported ITL: the first of its copies (a retry downloads the
/// same bytes again) that the phone took, else its last copy. A retry after the phone took
/// the first copy is "same file" at its frame, which is not the story.
fn itl_judgement<'j>(
    wire: &Wire<'_, '_>,
    judged: &'j [Judged],
    itl: &ItlDownload<'_>,
) -> Option<&'j Judged> {
    let copies: Vec<&Judged> = judged
        .iter()
        .filter(|j| j.kind == FileKind::Itl)
        .filter(|j| {
            wire.served
                .iter()
                .any(|f| f.at == j.at && f.kind == FileKind::Itl && f.offered.bytes == itl.bytes)
        })
        .collect();
    copies
        .iter()
        .find(|j| j.decision.acceptance == Acceptance::Accepted)
        .or(copies.last())
        .copied()
        .or_else(|| judged_at(judged, FileKind::Itl, itl.at))
}

/// The trust path of a phone whose ITL before the capture is `installed` (in `before`'s ITL
/// part, with its CTL when known): every download judged in capture order against the store
/// at its frame; the answers for the served ITL and config the report names.
pub fn path<'a>(before: Store<'a>, installed: &TrustList<'_>, wire: &Wire<'a, '_>) -> PathSteps {
    let timeline = wire.walk(before);
    let itl = match &wire.itl {
        None => Step::undetermined("no ITL was downloaded whole in the capture"),
        Some(served) if installed.bytes == served.bytes => Step::new(
            Acceptance::Accepted,
            Some("same-file"),
            "the phone already holds the served ITL".into(),
        ),
        Some(served) => match (served.parses, itl_judgement(wire, &timeline.judged, served)) {
            (true, Some(j)) => j.into(),
            _ => Step::new(
                Acceptance::Rejected,
                None,
                "the served ITL does not parse: the phone rejects it".into(),
            ),
        },
    };
    // The config is judged against the store the phone holds at its frame: the served ITL
    // once taken, its own before.
    let config = match &wire.config {
        Some(c) => match judged_at(&timeline.judged, FileKind::Config, c.at) {
            Some(j) => j.into(),
            None => match &timeline.at(c.at).itl {
                Part::Exact { list, label } => config_step(wire, list, label),
                _ => config_step(wire, installed, "the phone's ITL"),
            },
        },
        None => config_step(wire, installed, "the phone's ITL"),
    };
    PathSteps {
        itl,
        config,
        judged: timeline.judged,
    }
}

/// The trust path of a phone that reports no ITL installed (DeviceTLInfo, or an `--evidence`
/// file), its CTL unknown: [`path_without_itl_holding`] with an unknown CTL.
pub fn path_without_itl(wire: &Wire<'_, '_>) -> PathSteps {
    path_without_itl_holding(wire, Part::Unknown)
}

/// The trust path of a phone that reports no ITL installed and holds `ctl` (absent when it
/// reports no trust list at all): with no CTL it takes the first CTL or ITL on leap of faith
/// (statement 7a), and after a CTL an ITL only through that CTL (7b); with its CTL unknown in
/// mixed mode, neither is claimed. The config is judged against the ITL it holds at its frame.
pub fn path_without_itl_holding<'a>(wire: &Wire<'a, '_>, ctl: Part<'a>) -> PathSteps {
    let before = Store {
        ctl,
        itl: Part::Absent,
    };
    let timeline = wire.walk(before);
    let itl = match wire
        .itl
        .as_ref()
        .and_then(|i| itl_judgement(wire, &timeline.judged, i))
    {
        Some(j) => j.into(),
        None => Step::new(
            Acceptance::Accepted,
            Some("no-itl"),
            "the phone holds no ITL and takes the first one on leap of faith".into(),
        ),
    };
    let config = match &wire.config {
        Some(c) => match (
            &timeline.at(c.at).itl,
            judged_at(&timeline.judged, FileKind::Config, c.at),
        ) {
            (Part::Exact { .. }, Some(j)) => j.into(),
            (Part::Exact { list, label }, None) => config_step(wire, list, label),
            _ => Step::undetermined("no served ITL to check the config against"),
        },
        None => Step::undetermined("no served ITL to check the config against"),
    };
    PathSteps {
        itl,
        config,
        judged: timeline.judged,
    }
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

/// The relation between the phone's ITL (`installed`, a copy whose own signature holds) and
/// the served ITL.
pub fn signer_relation(installed: &TrustList<'_>, served: &TrustList<'_>) -> SignerRelation {
    let known = installed.bytes == served.bytes
        || is_rollback(installed, header_signer(installed))
        || signer_in(installed, &served.header, ITL_SIGNERS).is_some();
    let same_signer_name = match (installed.header.signer_name, served.header.signer_name) {
        (Some(a), Some(b)) => {
            normalise_dn(&String::from_utf8_lossy(a)) == normalise_dn(&String::from_utf8_lossy(b))
        }
        _ => false,
    };
    let shared_certificates = installed
        .records
        .iter()
        .filter(|r| served.records.iter().any(|s| same_certificate(r, s)))
        .count();
    let itl_recovery = itl_recovery_record(installed).map(|i| describe_record(installed, i));
    SignerRelation {
        known,
        same_signer_name,
        shared_certificates,
        installed_signer: signer_name(installed),
        served_signer: signer_name(served),
        itl_recovery,
    }
}
