//! `plan --json` (schema: docs/schema/plan.schema.json): a typed view borrowing from the
//! [`PlanReport`], so the schema and the output cannot drift apart.

use super::cluster::ItlSigner;
use super::{
    Fate, ItlSource, PlanReport, Population, PopulationId, Recovery, SCHEMA_VERSION, Sequence,
    StepOutcome,
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

/// A sequence of steps.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SequenceJson<'a> {
    /// True when online phones accept the ITL and config of every step.
    pub safe: bool,
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
}

/// What brings stranded phones back.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryJson {
    /// `utils itl reset localkey` on the publisher, then reset the phones.
    UtilsItlReset,
    /// Delete the ITL on each phone (or restore the old keys from a backup).
    ManualItlDeletion,
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
                Route::SameFile => ViaJson::SameFile,
                Route::NoTrustList => ViaJson::NoItl,
                Route::RollbackHeld => ViaJson::RollbackItl,
                Route::SignerInList { .. } => ViaJson::SignerInItl,
                Route::ViaTvs => ViaJson::ViaTvs,
            }),
            explanation: &f.explanation,
        }
    }
}

fn recovery(r: Recovery) -> RecoveryJson {
    match r {
        Recovery::ItlReset => RecoveryJson::UtilsItlReset,
        Recovery::ManualDeletion => RecoveryJson::ManualItlDeletion,
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
        }
    }
}

impl<'a> From<&'a Sequence> for SequenceJson<'a> {
    fn from(s: &'a Sequence) -> Self {
        SequenceJson {
            safe: s.safe,
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
        change: &r.change,
        as_requested: (&r.as_requested).into(),
        safe_order: r.safe_order.as_ref().map(SequenceJson::from),
        populations: r.populations.iter().map(PopulationJson::from).collect(),
        manual_deletion_steps: &r.manual_deletion_steps,
    }
}

/// The JSON Schema of the `plan --json` object (docs/schema/plan.schema.json).
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(PlanJson)
}
