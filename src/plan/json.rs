//! `plan --json` (schema: docs/schema/plan.schema.json): a typed view borrowing from the
//! [`PlanReport`], so the schema and the output cannot drift apart.

use super::cluster::ItlSigner;
use super::{
    Fate, ItlSource, PlanReport, Population, PopulationId, Recovery, SCHEMA_VERSION, Sequence,
    StepOutcome, Verdict,
};
use crate::trust::{Acceptance, Route};
use schemars::JsonSchema;
use serde::Serialize;

/// The `plan --json` object.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "itlscope plan --json")]
pub struct PlanJson<'a> {
    /// Version of this layout.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// The ITL the phones hold.
    pub phone_itl: PhoneItlJson<'a>,
    /// The CTL the phones hold (`--phone-ctl`, mixed mode), as given; null without one.
    pub phone_ctl: Option<&'a str>,
    /// The requested change, one line per change.
    pub change: &'a [String],
    /// The change made all at once, as requested, for phones online throughout.
    pub as_requested: SequenceJson<'a>,
    /// The order that keeps online phones trusting the cluster (the requested one when that
    /// is already safe); null when no documented order does.
    pub safe_order: Option<SequenceJson<'a>>,
    /// What each population of phones does with the final ITL and config.
    pub populations: Vec<PopulationJson<'a>>,
    /// Steps of the requested change that would leave phones needing a manual ITL deletion.
    pub manual_deletion_steps: &'a [String],
    /// What the prediction assumes about the phones (their CallManager group, their CTL).
    pub assumptions: &'a [String],
    /// What `plan` does not model.
    pub not_modelled: &'a [String],
}

/// Where the phones' ITL was read from.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ItlSourceJson {
    /// The ITL file.
    File,
    /// CUCM `show itl` text.
    ShowItl,
}

/// The ITL the phones hold.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PhoneItlJson<'a> {
    /// The name given on the command line.
    pub file: &'a str,
    /// `file` or `show-itl`.
    pub source: ItlSourceJson,
    /// SHA-1 of the ITL file, lower-case hex; null when `show itl` text did not print it.
    pub sha1: Option<&'a str>,
    /// Which certificate signs the ITL.
    pub signer: ItlSigner,
    /// The certificates, one line each (role, CN, serial).
    pub certificates: &'a [String],
}

/// How safe a sequence is.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictJson {
    /// Every phone online accepts every step, whatever its CallManager group.
    Safe,
    /// Only phones whose CallManager group holds a node of `safe_if_cm_group_holds` accept
    /// every step (statement 31).
    SafeOnlyIfCmGroupHoldsAnUnchangedNode,
    /// Some step leaves phones unable to trust the cluster's files.
    NotSafe,
}

/// A sequence of steps.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SequenceJson<'a> {
    /// True when online phones accept the ITL and config of every step, whatever their
    /// CallManager group (or for the group `--cm-group` gave).
    pub safe: bool,
    /// `safe`, `safe-only-if-cm-group-holds-an-unchanged-node` or `not-safe`.
    pub verdict: VerdictJson,
    /// With that conditional verdict: the nodes whose TVS keeps phones safe when their
    /// CallManager group holds one of them; empty otherwise.
    pub safe_if_cm_group_holds: &'a [String],
    /// With that conditional verdict: the nodes that, alone in a phone's CallManager group,
    /// leave it stranded; empty otherwise.
    pub stranded_if_cm_group_is_only: &'a [String],
    /// The steps.
    pub steps: Vec<StepJson<'a>>,
}

/// One step and what online phones do with it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepJson<'a> {
    /// 1-based.
    pub number: usize,
    /// What the administrator does.
    pub action: &'a str,
    /// The ITL the cluster serves after this step.
    pub itl: FateJson<'a>,
    /// The signed config it serves after this step.
    pub config: FateJson<'a>,
    /// True when phones end this step unable to trust the cluster's files.
    pub stranded: bool,
    /// What brings stranded phones back; null when none are stranded.
    pub recovery: Option<RecoveryJson>,
    /// What to wait for before the next step (and, after a step taken through TVS, before
    /// touching TVS); null after a last step that needs no waiting.
    pub wait: Option<&'a str>,
    /// Done right after the change, before the phones judge the new files (restart TVS and
    /// TFTP, reset the phones: statement 23); null for a step that changes no certificate.
    pub restart: Option<&'a str>,
    /// The TAC note's warnings about this step, whatever the prediction.
    pub caveats: &'a [String],
}

/// The trust decision for one file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FateJson<'a> {
    /// The answer.
    pub acceptance: Acceptance,
    /// How, when accepted; null otherwise.
    pub via: Option<ViaJson>,
    /// Why, in one line.
    pub explanation: &'a str,
    /// True when the explanation names a certificate the change creates: its serial is not
    /// known until CUCM regenerates it, so the explanation says "(new, serial not known until
    /// regenerated)" where a serial would be, never an invented one.
    pub placeholder_serials: bool,
}

/// How an accepted file is trusted (the same words as `analyze`'s trust path).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ViaJson {
    /// The phone already holds this very file.
    SameFile,
    /// The phone holds no ITL (leap of faith).
    NoItl,
    /// The phone holds an empty (rollback) ITL.
    RollbackItl,
    /// Signed by a record of the ITL the phone holds.
    SignerInItl,
    /// A TVS listed in that ITL vouches for the signer.
    ViaTvs,
    /// Signed by a record of the CTL the phone holds (mixed mode, statements 7b, 7c).
    SignerInCtl,
}

/// What brings stranded phones back.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryJson {
    /// `utils itl reset localkey` on the publisher, then reset the phones.
    UtilsItlReset,
    /// Delete the ITL on each phone (or restore the old keys from a backup).
    ManualItlDeletion,
    /// Mixed mode: re-run the CTL client (`utils ctl update CTLFile`), restart TVS and TFTP,
    /// reset the phones (statements 30, 32).
    CtlClient,
    /// After a move: Bulk Certificate Management imports the new cluster's certificates into
    /// the old cluster, whose TVS the phones still trust (statement 25).
    BulkCertificateImport,
}

/// Which phones.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PopulationIdJson {
    /// Registered throughout, downloading each new ITL before the next step.
    OnlineThroughEveryStep,
    /// Off or unregistered during the whole change: they meet only the final ITL.
    OfflineDuringTheChange,
    /// New or factory-reset phones.
    WithoutItl,
}

/// A population of phones and what it does with the final ITL and config.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PopulationJson<'a> {
    /// Which phones.
    pub id: PopulationIdJson,
    /// Who they are, in words.
    pub description: &'a str,
    /// The final ITL.
    pub itl: FateJson<'a>,
    /// The final config.
    pub config: FateJson<'a>,
    /// What brings them back; null when they trust the cluster.
    pub recovery: Option<RecoveryJson>,
}

impl<'a> From<&'a Fate> for FateJson<'a> {
    fn from(f: &'a Fate) -> Self {
        FateJson {
            acceptance: f.acceptance,
            via: f.route.map(|r| match r {
                Route::SignerInList { .. } if f.via_ctl => ViaJson::SignerInCtl,
                Route::SameFile => ViaJson::SameFile,
                Route::NoTrustList => ViaJson::NoItl,
                Route::RollbackHeld => ViaJson::RollbackItl,
                Route::SignerInList { .. } => ViaJson::SignerInItl,
                Route::ViaTvs => ViaJson::ViaTvs,
            }),
            explanation: &f.explanation,
            placeholder_serials: f.placeholder_serials,
        }
    }
}

fn recovery(r: Recovery) -> RecoveryJson {
    match r {
        Recovery::ItlReset => RecoveryJson::UtilsItlReset,
        Recovery::ManualDeletion => RecoveryJson::ManualItlDeletion,
        Recovery::CtlClient => RecoveryJson::CtlClient,
        Recovery::BulkImport => RecoveryJson::BulkCertificateImport,
    }
}

impl<'a> From<&'a StepOutcome> for StepJson<'a> {
    fn from(s: &'a StepOutcome) -> Self {
        StepJson {
            number: s.number,
            action: &s.action,
            itl: (&s.itl).into(),
            config: (&s.config).into(),
            stranded: s.stranded,
            recovery: s.recovery.map(recovery),
            wait: s.wait.as_deref(),
            restart: s.restart.as_deref(),
            caveats: &s.caveats,
        }
    }
}

impl<'a> From<&'a Sequence> for SequenceJson<'a> {
    fn from(s: &'a Sequence) -> Self {
        let (verdict, holds, only): (_, &[String], &[String]) = match &s.verdict {
            Verdict::Safe => (VerdictJson::Safe, &[], &[]),
            Verdict::SafeOnlyIfGroupHolds {
                unchanged,
                stranded_alone,
            } => (
                VerdictJson::SafeOnlyIfCmGroupHoldsAnUnchangedNode,
                unchanged,
                stranded_alone,
            ),
            Verdict::NotSafe => (VerdictJson::NotSafe, &[], &[]),
        };
        SequenceJson {
            safe: s.safe,
            verdict,
            safe_if_cm_group_holds: holds,
            stranded_if_cm_group_is_only: only,
            steps: s.steps.iter().map(StepJson::from).collect(),
        }
    }
}

impl<'a> From<&'a Population> for PopulationJson<'a> {
    fn from(p: &'a Population) -> Self {
        PopulationJson {
            id: match p.id {
                PopulationId::Online => PopulationIdJson::OnlineThroughEveryStep,
                PopulationId::Offline => PopulationIdJson::OfflineDuringTheChange,
                PopulationId::WithoutItl => PopulationIdJson::WithoutItl,
            },
            description: &p.description,
            itl: (&p.itl).into(),
            config: (&p.config).into(),
            recovery: p.recovery.map(recovery),
        }
    }
}

/// The JSON view of a plan.
pub fn view(r: &PlanReport) -> PlanJson<'_> {
    PlanJson {
        schema_version: SCHEMA_VERSION,
        phone_itl: PhoneItlJson {
            file: &r.phone_itl.file,
            source: match r.phone_itl.source {
                ItlSource::File => ItlSourceJson::File,
                ItlSource::ShowItl => ItlSourceJson::ShowItl,
            },
            sha1: r.phone_itl.sha1.as_deref(),
            signer: r.phone_itl.signer,
            certificates: &r.phone_itl.certificates,
        },
        phone_ctl: r.phone_ctl.as_deref(),
        change: &r.change,
        as_requested: (&r.as_requested).into(),
        safe_order: r.safe_order.as_ref().map(SequenceJson::from),
        populations: r.populations.iter().map(PopulationJson::from).collect(),
        manual_deletion_steps: &r.manual_deletion_steps,
        assumptions: &r.assumptions,
        not_modelled: &r.not_modelled,
    }
}

/// The JSON Schema of the `plan --json` object (docs/schema/plan.schema.json).
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(PlanJson)
}
