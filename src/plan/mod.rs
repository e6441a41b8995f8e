//! `itlscope plan`: what a planned certificate change will do to the phones holding a given
//! ITL, before doing it.
//!
//! The cluster is read from the ITL the phones hold; the change (certificates regenerated or
//! replaced, a host name change, a move to another cluster) gives the ITL and signed config
//! the cluster will serve next. Each is judged by the tool's one trust decision
//! ([`crate::trust::decide`], as `analyze` judges a capture): files that do not exist yet are
//! "signed" symbolically (a file signed with a key verifies with a record holding that key),
//! and TVS answers as the cluster would (it vouches for its own and imported signers, if the
//! phone trusts the certificate it presents).
//!
//! Three populations: phones online through every step (the safe order: one certificate at a
//! time, waiting for the phones between steps), phones offline during the whole change (they
//! meet only the final ITL), and phones without an ITL (leap of faith).

pub mod cluster;
pub mod json;
pub mod show_itl;
pub mod text;

use crate::cisco::model::TrustList;
use crate::trust::{self, Acceptance, Decision, Held, Kind, Offered};
use cluster::{CertId, Cluster, ItlSigner, PlannedItl, PlannedTvs, PlannedVerifier, Role};

/// Version of the `plan --json` object (docs/schema/plan.schema.json).
pub const SCHEMA_VERSION: u32 = 1;

/// Which nodes' TVS a `--regenerate tvs@…` touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nodes {
    /// Every node of the cluster (`tvs@all`).
    All,
    /// The node of this name, matched whole (`tvs@cucm-sub`).
    Named(String),
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The certificate regenerated in place (new key and serial, same name); for TVS, the
    /// TVS of the TFTP node (the node of the ITL's CallManager record).
    Regenerate(Role),
    /// TVS regenerated on these nodes (`--regenerate tvs@NODE`, `--regenerate tvs@all`).
    RegenerateTvs(Nodes),
    /// The certificate replaced by this one (read from a file).
    Replace(Role, CertId),
    /// The TFTP node renamed: CallManager, TVS and ITLRecovery are regenerated under the new
    /// name (statement 28).
    Hostname(String),
    /// Node `old` renamed to `new` (`--hostname OLD=NEW`): every certificate of that node is
    /// regenerated (statement 28); the ITL lists its TVS (and, for the TFTP node, CallManager
    /// and ITLRecovery).
    Rename {
        /// The node's name now, matched whole against the ITL's nodes.
        old: String,
        /// Its new name.
        new: String,
    },
    /// The phones moved to the cluster whose ITL/CTL this is.
    MoveTo(Box<Cluster>),
}

impl Change {
    /// One line.
    pub fn describe(&self) -> String {
        match self {
            Change::Regenerate(r) => format!("regenerate {}", r.name()),
            Change::RegenerateTvs(Nodes::All) => "regenerate TVS on every node".to_owned(),
            Change::RegenerateTvs(Nodes::Named(n)) => format!("regenerate TVS on {n}"),
            Change::Replace(r, c) => format!("replace {} by {}", r.name(), c.label()),
            Change::Hostname(h) => {
                format!("rename the node to {h} (CallManager, TVS and ITLRecovery regenerated)")
            }
            Change::Rename { old, new } => {
                format!("rename node {old} to {new} (its certificates regenerated)")
            }
            Change::MoveTo(c) => format!("move the phones to cluster {}", c.hostname),
        }
    }

    /// Does this change regenerate or replace a certificate (after which TVS and TFTP are
    /// restarted and the phones reset, statement 23)?
    fn changes_certificates(&self) -> bool {
        !matches!(self, Change::MoveTo(_))
    }
}

/// Statement 30: in mixed mode the CTL client re-signs the CTL with the current CallManager.
const CTL_CLIENT: &str = "re-run the CTL client (utils ctl update CTLFile from CUCM 10.0) so the CTL, signed by the same eToken, lists the new CallManager (statement 30)";

/// One step the cluster administrator takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Apply these changes at once.
    Apply(Vec<Change>),
    /// Set "Prepare Cluster for Rollback to pre 8.0" (true) or clear it (false), then reset
    /// the phones.
    Rollback(bool),
    /// Bulk Certificate Management: export the target cluster's CallManager and ITLRecovery
    /// certificates and import them into this cluster, so its TVS vouches for them.
    BulkImport(Box<Cluster>),
    /// `utils itl reset localkey`: the ITL re-signed with ITLRecovery.
    ItlReset,
    /// Mixed mode: re-run the CTL client, so the CTL lists the current CallManager
    /// (statement 30).
    CtlUpdate,
    /// These changes, then the CTL client re-run before the phones are reset (mixed mode).
    ApplyWithCtl(Vec<Change>),
}

impl Step {
    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Step::Apply(changes) => changes
                .iter()
                .map(Change::describe)
                .collect::<Vec<_>>()
                .join(", "),
            Step::Rollback(true) => "set Enterprise Parameter \"Prepare Cluster for Rollback to pre 8.0\" = True, restart TFTP and TVS, reset the phones".to_owned(),
            Step::Rollback(false) => "set \"Prepare Cluster for Rollback to pre 8.0\" = False, restart TFTP and TVS, reset the phones".to_owned(),
            Step::BulkImport(t) => format!(
                "Bulk Certificate Management: export {}'s CallManager (and ITLRecovery) certificates, consolidate, import them into this cluster (CallManager-trust / Phone-SAST-trust) so its TVS vouches for them",
                t.hostname
            ),
            Step::ItlReset => "utils itl reset localkey on the publisher (the ITL re-signed with ITLRecovery), then reset the phones".to_owned(),
            Step::CtlUpdate => CTL_CLIENT.to_owned(),
            Step::ApplyWithCtl(changes) => format!(
                "{}, then {CTL_CLIENT}, before TVS and TFTP are restarted and the phones reset",
                Step::Apply(changes.clone()).describe()
            ),
        }
    }

    /// The cluster after this step.
    fn apply(&self, before: &Cluster, generation: &mut u32) -> Cluster {
        let mut c = before.clone();
        match self {
            Step::Apply(changes) => {
                for change in changes {
                    *generation += 1;
                    apply_change(&mut c, change, *generation);
                }
            }
            Step::Rollback(on) => c.rollback = *on,
            Step::BulkImport(target) => {
                c.imported.push(target.callmanager.clone());
                c.imported.extend(target.itl_recovery.clone());
            }
            Step::ItlReset => {
                if c.itl_recovery.is_some() {
                    c.signer = ItlSigner::ItlRecovery;
                }
            }
            Step::CtlUpdate => c.ctl = c.ctl.as_ref().map(|ctl| ctl.updated(&c)),
            Step::ApplyWithCtl(changes) => {
                c = Step::Apply(changes.clone()).apply(&c, generation);
                c.ctl = c.ctl.as_ref().map(|ctl| ctl.updated(&c));
            }
        }
        c
    }
}

fn apply_change(c: &mut Cluster, change: &Change, generation: u32) {
    let regen = |cert: &CertId, role: Role| cert.regenerated(role, generation, None);
    match change {
        Change::Regenerate(Role::CallManager) => {
            c.callmanager = regen(&c.callmanager, Role::CallManager)
        }
        Change::Regenerate(Role::Tvs) => {
            // The TFTP node's TVS (same host as CallManager, matched whole); every TVS when
            // none is (the ITL names no TVS of that host).
            let own = c.tvs_of(&c.hostname.clone());
            for (i, t) in c.tvs.iter_mut().enumerate() {
                if own.is_empty() || own.contains(&i) {
                    *t = t.regenerated(Role::Tvs, generation, None);
                }
            }
        }
        Change::RegenerateTvs(nodes) => {
            let on: Vec<usize> = match nodes {
                Nodes::All => (0..c.tvs.len()).collect(),
                Nodes::Named(n) => c.tvs_of(n),
            };
            for i in on {
                if let Some(t) = c.tvs.get_mut(i) {
                    *t = t.regenerated(Role::Tvs, generation, None);
                }
            }
        }
        Change::Regenerate(Role::ItlRecovery) => {
            c.itl_recovery = c.itl_recovery.as_ref().map(|r| regen(r, Role::ItlRecovery));
        }
        Change::Regenerate(Role::Capf) => c.capf = c.capf.as_ref().map(|r| regen(r, Role::Capf)),
        Change::Replace(role, cert) => match role {
            Role::CallManager => c.callmanager = cert.clone(),
            Role::Tvs => match c.tvs_of(&c.hostname.clone()).first() {
                Some(&i) => c.tvs[i] = cert.clone(),
                None => c.tvs = vec![cert.clone()],
            },
            Role::ItlRecovery => c.itl_recovery = Some(cert.clone()),
            Role::Capf => c.capf = Some(cert.clone()),
        },
        Change::Hostname(new) => {
            let old = c.hostname.clone();
            rename_node(c, &old, new, generation);
        }
        Change::Rename { old, new } => rename_node(c, old, new, generation),
        Change::MoveTo(target) => {
            let mut t = (**target).clone();
            // The old cluster's imports stay with the old cluster.
            t.imported.clear();
            *c = t;
        }
    }
}

/// Node `old` renamed to `new`: every certificate naming that host (matched whole) is
/// regenerated under the new name (statement 28).
fn rename_node(c: &mut Cluster, old: &str, new: &str, generation: u32) {
    let rename = |s: &CertId, role: Role| s.regenerated(role, generation, Some((old, new)));
    if cluster::same_host(&c.hostname, old) {
        c.callmanager = rename(&c.callmanager, Role::CallManager);
        c.hostname = cluster::host_of(&c.callmanager.subject);
        if c.hostname.is_empty() {
            c.hostname = new.to_owned();
        }
    }
    for i in c.tvs_of(old) {
        c.tvs[i] = rename(&c.tvs[i], Role::Tvs);
    }
    if let Some(r) = &c.itl_recovery
        && cluster::same_host(&cluster::host_of(&r.subject), old)
    {
        c.itl_recovery = Some(rename(r, Role::ItlRecovery));
    }
}

/// One file's fate: the shared trust decision's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fate {
    /// Accepted, rejected or undetermined.
    pub acceptance: Acceptance,
    /// How, when accepted.
    pub route: Option<trust::Route>,
    /// True when accepted through the phone's CTL (mixed mode): `route` is then the CTL
    /// record that verifies it.
    pub via_ctl: bool,
    /// Why, in one line.
    pub explanation: String,
    /// True when the explanation names a certificate the change creates: its serial is not
    /// known until it is regenerated, and the explanation says [`cluster::NEW_SERIAL`] where
    /// a serial would be.
    pub placeholder_serials: bool,
}

impl From<Decision> for Fate {
    fn from(d: Decision) -> Self {
        Fate {
            acceptance: d.acceptance,
            route: d.route,
            via_ctl: false,
            explanation: d.explanation,
            placeholder_serials: false,
        }
    }
}

/// `text` with each `serial HEX` whose HEX is a placeholder replaced by
/// [`cluster::NEW_SERIAL`], and whether any was (or the text already says so).
fn mark_placeholders(text: &str) -> (String, bool) {
    const SERIAL: &str = "serial ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut any = text.contains(cluster::NEW_SERIAL);
    while let Some(at) = rest.find(SERIAL) {
        let after = &rest[at + SERIAL.len()..];
        let hex_len = after
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(after.len());
        if cluster::is_placeholder_serial(&after[..hex_len]) {
            out.push_str(&rest[..at]);
            out.push_str(cluster::NEW_SERIAL);
            any = true;
        } else {
            out.push_str(&rest[..at + SERIAL.len() + hex_len]);
        }
        rest = &after[hex_len..];
    }
    out.push_str(rest);
    (out, any)
}

impl Fate {
    /// The same answer with every placeholder serial of a planned certificate (which the
    /// shared trust decision prints like a real one) replaced by [`cluster::NEW_SERIAL`].
    fn marked(self) -> Fate {
        let (explanation, placeholders) = mark_placeholders(&self.explanation);
        Fate {
            explanation,
            placeholder_serials: placeholders,
            ..self
        }
    }

    /// True when accepted.
    pub fn accepted(&self) -> bool {
        self.acceptance == Acceptance::Accepted
    }

    /// `same-file`, `no-itl`, `rollback-itl`, `signer-in-itl`, `via-tvs`, `signer-in-ctl`,
    /// or none.
    pub fn via(&self) -> Option<&'static str> {
        match self.route {
            Some(trust::Route::SignerInList { .. }) if self.via_ctl => Some("signer-in-ctl"),
            r => r.map(trust::Route::as_str),
        }
    }
}

/// What brings phones back that a step left unable to trust the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// `utils itl reset localkey`: the ITLRecovery key the phones hold still signs.
    ItlReset,
    /// Nothing the cluster can do: delete the ITL on each phone (or restore the old keys).
    ManualDeletion,
    /// Mixed mode: re-run the CTL client (`utils ctl update CTLFile`), whose CTL the phones'
    /// CTL trusts and whose CCM+TFTP then verifies the new ITL (statements 30, 32).
    CtlClient,
    /// After a move: Bulk Certificate Management imports the new cluster's CallManager and
    /// ITLRecovery certificates into the old cluster, whose TVS the phones still trust and ask,
    /// so it vouches for the new signer (statement 25).
    BulkImport,
}

impl Recovery {
    /// One line for the report.
    pub fn text(self) -> &'static str {
        match self {
            Recovery::ItlReset => {
                "recoverable without touching the phones: utils itl reset localkey (the ITLRecovery key the phones hold still signs), then reset them"
            }
            Recovery::CtlClient => {
                "recoverable without touching the phones: re-run the CTL client (utils ctl update CTLFile from CUCM 10.0), restart TVS and TFTP, reset the phones: the phones' CTL trusts the new CTL, whose CCM+TFTP verifies the new ITL (statements 30, 32)"
            }
            Recovery::BulkImport => {
                "recoverable without touching the phones: Bulk Certificate Management, exporting the new cluster's CallManager (and ITLRecovery) certificates and importing them into the old cluster, whose TVS the phones still trust and ask (statement 25); keep that TVS running until they are all back"
            }
            Recovery::ManualDeletion => {
                "manual ITL deletion on each phone (or restore the old keys from a DRS backup): no key the phones trust signs the new ITL and no trusted TVS vouches for it"
            }
        }
    }
}

/// The phones a population stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulationId {
    /// Registered throughout, downloading each new ITL before the next step.
    Online,
    /// Off or unregistered during the whole change: they meet only the final ITL.
    Offline,
    /// New or factory-reset phones.
    WithoutItl,
}

impl PopulationId {
    /// `online-through-every-step`, `offline-during-the-change`, `without-itl`.
    pub fn as_str(self) -> &'static str {
        match self {
            PopulationId::Online => "online-through-every-step",
            PopulationId::Offline => "offline-during-the-change",
            PopulationId::WithoutItl => "without-itl",
        }
    }
}

/// One step and what the phones do with it.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    /// 1-based.
    pub number: usize,
    /// What the administrator does.
    pub action: String,
    /// The next ITL.
    pub itl: Fate,
    /// The next signed config.
    pub config: Fate,
    /// True when the phones end this step unable to trust the cluster's files.
    pub stranded: bool,
    /// What then gets them back: `utils itl reset localkey`, or a manual ITL deletion.
    pub recovery: Option<Recovery>,
    /// What to wait for before the next step (and, after a step taken through TVS, before
    /// touching TVS); none after a last step that needs no waiting.
    pub wait: Option<String>,
    /// What the administrator does right after the change, before the phones judge the new
    /// files: restart TVS and TFTP on every node and reset the phones (statement 23); none
    /// for a step that changes no certificate.
    pub restart: Option<String>,
    /// Warnings the TAC note gives about this step (e.g. statement 22: never regenerate
    /// CallManager and TVS at once), whatever the prediction.
    pub caveats: Vec<String>,
}

/// How safe a sequence is for the phones it is predicted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every step is accepted by every phone, whatever TVS nodes its CallManager group holds.
    Safe,
    /// Accepted only by phones whose CallManager group holds one of `unchanged` (a node whose
    /// TVS still vouches); phones whose group holds only nodes of `stranded_alone` are
    /// stranded (statement 31: extra TVS servers make no difference to a phone whose group
    /// has one server).
    SafeOnlyIfGroupHolds {
        /// Nodes whose TVS keeps the phones trusting the cluster through every step.
        unchanged: Vec<String>,
        /// Nodes that, alone in a phone's group, leave it stranded.
        stranded_alone: Vec<String>,
    },
    /// Some step leaves the phones unable to trust the cluster's files.
    NotSafe,
}

impl Verdict {
    /// `safe`, `safe-only-if-cm-group-holds-an-unchanged-node`, `not-safe`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::SafeOnlyIfGroupHolds { .. } => "safe-only-if-cm-group-holds-an-unchanged-node",
            Verdict::NotSafe => "not-safe",
        }
    }
}

/// A sequence of steps and its outcome for phones that follow it online.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// The steps.
    pub steps: Vec<StepOutcome>,
    /// True when every step is accepted by every phone the prediction covers (whatever its
    /// CallManager group, unless `--cm-group` gave it).
    pub safe: bool,
    /// Safe, safe only for phones whose CallManager group holds an unchanged node, or not.
    pub verdict: Verdict,
}

/// A population of phones and what happens to it.
#[derive(Debug, Clone)]
pub struct Population {
    /// Which phones.
    pub id: PopulationId,
    /// Who they are.
    pub description: String,
    /// The final ITL.
    pub itl: Fate,
    /// The final config.
    pub config: Fate,
    /// Needs a manual ITL deletion (or `utils itl reset`)?
    pub recovery: Option<Recovery>,
}

/// The `plan` answer.
#[derive(Debug, Clone)]
pub struct PlanReport {
    /// The ITL the phones hold.
    pub phone_itl: PhoneItlSummary,
    /// The CTL the phones hold (mixed mode), as given.
    pub phone_ctl: Option<String>,
    /// The requested change, in words.
    pub change: Vec<String>,
    /// Everything at once, as requested: the online phones' fate.
    pub as_requested: Sequence,
    /// The order that keeps the online phones trusting the cluster (same as requested when
    /// that is already safe); null when no documented order does.
    pub safe_order: Option<Sequence>,
    /// The populations, after the safe order (or the requested change when there is none).
    pub populations: Vec<Population>,
    /// Steps of the requested change that would leave phones needing a manual ITL deletion.
    pub manual_deletion_steps: Vec<String>,
    /// What the prediction assumes about the phones (their CallManager group, their CTL).
    pub assumptions: Vec<String>,
    /// What `plan` does not model, printed with every plan.
    pub not_modelled: Vec<String>,
}

/// What `plan` does not model (docs/plan.md says the same).
pub const NOT_MODELLED: &[&str] = &[
    "the 24-hour TVS cache (statement 13): a phone that asked TVS in the last day may accept without asking again",
    "certificate validity dates: an expired certificate is judged like a valid one",
    "TVS lists of more than one cluster: a moved phone asks only its old cluster's TVS",
    "the order in which a phone asks the TVS servers of its group, and their timeouts",
    "several TFTP servers (one CCM+TFTP record, the TFTP node's, is modelled), centralized TFTP (statement 33) and encrypted configs (statement 3)",
    "a CTL signed by a key the change regenerates (tokenless CTL), and utils ctl reset localkey",
    "the TLS connection to CallManager of phones with an authenticated or encrypted security profile (checked against their CTL): a mixed-mode step that leaves the CTL listing a replaced certificate says so as a caveat, it is not predicted",
];

/// Where the ITL the phones hold was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItlSource {
    /// The ITL file itself.
    File,
    /// CUCM's `show itl` text (the ITL the TFTP server serves, which the phones downloaded).
    ShowItl,
}

/// The ITL the phones hold, summarised.
#[derive(Debug, Clone)]
pub struct PhoneItlSummary {
    /// File name given.
    pub file: String,
    /// Read from the file or from `show itl` text.
    pub source: ItlSource,
    /// SHA-1 of the ITL file (computed, or as `show itl` prints it); none when the text
    /// does not print it.
    pub sha1: Option<String>,
    /// `callmanager` (before CUCM 12.0) or `itlrecovery`.
    pub signer: ItlSigner,
    /// Certificates, one line each.
    pub certificates: Vec<String>,
}

/// The phones' trust list along a sequence: first the real file, then planned ITLs.
enum HeldNow<'a> {
    Real(&'a TrustList<'a>),
    Planned(PlannedItl),
    Nothing,
}

/// The phones' CallManager group: indices of the TVS records of their own cluster (id 0)
/// they ask; `None` for every TVS the ITL lists.
type Group<'g> = Option<&'g [usize]>;

/// The TVS certificates a phone of `group` meets when it asks `c`'s TVS: its group's nodes on
/// its own cluster, every TVS on another (nothing tells which of its nodes it would ask).
fn asked(c: &Cluster, group: Group<'_>) -> Vec<CertId> {
    match group {
        Some(g) if c.id == 0 => g.iter().filter_map(|&i| c.tvs.get(i).cloned()).collect(),
        _ => c.tvs.clone(),
    }
}

/// What a phone does with what the cluster serves after a step.
struct Judged {
    /// The next ITL.
    itl: Fate,
    /// The next signed config.
    config: Fate,
    /// The ITL the phone now holds, when it took a new one.
    itl_taken: Option<PlannedItl>,
    /// The CTL the phone now holds, when it took a new one.
    ctl_taken: Option<PlannedItl>,
}

/// A held list as the trust decision reads it (`view` keeps a planned list's view alive).
fn list_of<'v>(
    held: &'v HeldNow<'v>,
    view: &'v mut Option<TrustList<'v>>,
) -> Option<&'v TrustList<'v>> {
    match held {
        HeldNow::Real(l) => Some(*l),
        HeldNow::Planned(p) => {
            *view = Some(p.view());
            view.as_ref()
        }
        HeldNow::Nothing => None,
    }
}

/// The answer through the phone's CTL (statements 7b, 7c: a file the CTL's CCM+TFTP, or for a
/// trust list its SAST, verifies is trusted); the CTL names no TVS.
fn through_ctl(ctl: &TrustList<'_>, offered: &Offered<'_>, signer: &CertId) -> Decision {
    trust::decide(
        &Held::List {
            list: ctl,
            label: "the phone's CTL",
        },
        offered,
        &PlannedVerifier {
            signed_with: signer,
        },
        &trust::NoTvsEvidence,
    )
}

/// `first` unless the CTL accepts; when both refuse, both reasons.
fn or_ctl(first: Decision, ctl: Option<Decision>, ctl_renewed: bool) -> Fate {
    match ctl {
        Some(d) if d.acceptance == Acceptance::Accepted => Fate {
            acceptance: d.acceptance,
            route: d.route,
            via_ctl: true,
            placeholder_serials: false,
            explanation: if ctl_renewed {
                format!(
                    "through the CTL after the CTL client is re-run: {}",
                    d.explanation
                )
            } else {
                format!("through the CTL: {}", d.explanation)
            },
        },
        Some(d) => Fate {
            explanation: format!(
                "{}; nor through the phone's CTL: {}",
                first.explanation, d.explanation
            ),
            ..first.into()
        },
        None => first.into(),
    }
}

/// What a phone holding `held` (and `held_ctl` in mixed mode) does with what `next` serves,
/// when its TVS is `tvs_cluster`'s.
fn judge(
    held: &HeldNow<'_>,
    held_ctl: &HeldNow<'_>,
    next: &Cluster,
    tvs_cluster: &Cluster,
    group: Group<'_>,
) -> Judged {
    let presents = asked(tvs_cluster, group);
    let mut held_view = None;
    let held_list = list_of(held, &mut held_view);
    let mut ctl_view = None;
    let old_ctl = list_of(held_ctl, &mut ctl_view);
    // The CTL first (statement 6): signed by a SAST of the CTL the phone holds.
    let served_ctl = next.ctl.as_ref().map(cluster::CtlState::file);
    let ctl_taken = match (old_ctl, &served_ctl) {
        (Some(list), Some(file)) => {
            let header = PlannedItl::header_of(&file.signer);
            let d = through_ctl(
                list,
                &Offered {
                    bytes: &file.identity,
                    header: &header,
                    kind: Kind::TrustList,
                    what: "the next CTL",
                },
                &file.signer,
            );
            (d.acceptance == Acceptance::Accepted).then(|| file.clone())
        }
        _ => None,
    };
    let renewed = ctl_taken.is_some()
        && next
            .ctl
            .as_ref()
            .is_some_and(|c| c.callmanager.same_cert(&next.callmanager));
    let new_ctl_view = ctl_taken.as_ref().map(PlannedItl::view);
    let ctl_now: Option<&TrustList<'_>> = new_ctl_view.as_ref().or(old_ctl);
    let next_itl = next.itl();
    let next_view = next_itl.view();
    let label = "the phone's ITL";
    let held_arg = match held_list {
        Some(list) => Held::List { list, label },
        None => Held::Nothing,
    };
    let signer = next.itl_signer();
    let itl_header = PlannedItl::header_of(signer);
    let tvs = PlannedTvs {
        presents: &presents,
        knows: tvs_cluster.tvs_knows(),
        signer,
    };
    let itl_offered = Offered {
        bytes: &next_itl.identity,
        header: &itl_header,
        kind: Kind::TrustList,
        what: "the next ITL",
    };
    let itl = match (held_list, ctl_now) {
        // A CTL but no ITL: the ITL is trusted only if the CTL verifies it (statement 7b).
        (None, Some(ctl)) => {
            let d = through_ctl(ctl, &itl_offered, signer);
            or_ctl(
                Decision::rejected(format!(
                    "the phone holds a CTL and no ITL: it takes an ITL only if the CTL's CCM+TFTP verifies it ({})",
                    d.explanation
                )),
                Some(d),
                renewed,
            )
        }
        _ => {
            let d = trust::decide(
                &held_arg,
                &itl_offered,
                &PlannedVerifier {
                    signed_with: signer,
                },
                &tvs,
            );
            // The CTL is asked when the ITL refuses, and before TVS (statement 7c: CTL, ITL or
            // TVS; statement 11 checks the CTL first): a file the CTL verifies needs no TVS
            // answer, so no TVS has to stay unchanged for it.
            let by_ctl = || ctl_now.map(|ctl| through_ctl(ctl, &itl_offered, signer));
            let ctl = match (d.acceptance, d.route) {
                (Acceptance::Accepted, Some(trust::Route::ViaTvs)) => {
                    by_ctl().filter(|c| c.acceptance == Acceptance::Accepted)
                }
                (Acceptance::Accepted, _) => None,
                _ => by_ctl(),
            };
            or_ctl(d, ctl, renewed)
        }
    };
    let accepted = itl.acceptance == Acceptance::Accepted;
    // The config is checked against the new ITL once taken, else against the old one.
    let effective = match (accepted, held_list) {
        (true, _) | (false, None) => Held::List {
            list: &next_view,
            label: "the next ITL",
        },
        (false, Some(list)) => Held::List { list, label },
    };
    let cm = &next.callmanager;
    let config_header = PlannedItl::header_of(cm);
    let config_bytes = [b"planned config".as_slice(), &cm.serial].concat();
    let config_tvs = PlannedTvs {
        presents: &presents,
        knows: tvs_cluster.tvs_knows(),
        signer: cm,
    };
    let config_offered = Offered {
        bytes: &config_bytes,
        header: &config_header,
        kind: Kind::Config,
        what: "the signed config",
    };
    // While rollback is set the phone that took the empty ITL accepts any config: the shared
    // decision says so from the held (rollback) list, as it does for a capture.
    let config = trust::decide(
        &effective,
        &config_offered,
        &PlannedVerifier { signed_with: cm },
        &config_tvs,
    );
    let config_ctl = (config.acceptance != Acceptance::Accepted)
        .then_some(ctl_now)
        .flatten()
        .map(|ctl| through_ctl(ctl, &config_offered, cm));
    let config = or_ctl(config, config_ctl, renewed);
    Judged {
        itl: itl.marked(),
        config: config.marked(),
        itl_taken: accepted.then_some(next_itl),
        ctl_taken,
    }
}

/// Can phones stuck on `held` come back with `utils itl reset localkey` on `cluster`?
fn reset_recovers(
    held: &HeldNow<'_>,
    held_ctl: &HeldNow<'_>,
    cluster: &Cluster,
    group: Group<'_>,
) -> bool {
    let mut generation = 0;
    let reset = Step::ItlReset.apply(cluster, &mut generation);
    reset.signer == ItlSigner::ItlRecovery && takes_all(held, held_ctl, &reset, group)
}

/// Do phones holding `held` (and `held_ctl`) take both the ITL and the config of `cluster`?
fn takes_all(
    held: &HeldNow<'_>,
    held_ctl: &HeldNow<'_>,
    cluster: &Cluster,
    group: Group<'_>,
) -> bool {
    let j = judge(held, held_ctl, cluster, cluster, group);
    j.itl.accepted() && j.config.accepted()
}

/// Can phones stuck on `held` come back by re-running the CTL client (statement 30)?
fn ctl_client_recovers(
    held: &HeldNow<'_>,
    held_ctl: &HeldNow<'_>,
    cluster: &Cluster,
    group: Group<'_>,
) -> bool {
    if cluster.ctl.is_none() || matches!(held_ctl, HeldNow::Nothing) {
        return false;
    }
    let mut generation = 0;
    let updated = Step::CtlUpdate.apply(cluster, &mut generation);
    takes_all(held, held_ctl, &updated, group)
}

/// Can moved phones stuck on `held` come back by a Bulk Certificate Management import of
/// `cluster`'s certificates into `old`, the cluster whose TVS they still ask (statement 25:
/// the new cluster's files must match a signature in the phone's current TVS)?
fn bulk_import_recovers(
    held: &HeldNow<'_>,
    held_ctl: &HeldNow<'_>,
    cluster: &Cluster,
    old: &Cluster,
    group: Group<'_>,
) -> bool {
    if cluster.id == old.id {
        return false;
    }
    let mut generation = 0;
    let imported = Step::BulkImport(Box::new(cluster.clone())).apply(old, &mut generation);
    let j = judge(held, held_ctl, cluster, &imported, group);
    j.itl.accepted() && j.config.accepted()
}

/// What brings back phones holding `held` (and `held_ctl`) that `cluster` strands, when the
/// TVS they ask is `tvs_cluster`'s (their old cluster's after a move).
fn recovery(
    held: &HeldNow<'_>,
    held_ctl: &HeldNow<'_>,
    cluster: &Cluster,
    tvs_cluster: &Cluster,
    group: Group<'_>,
) -> Recovery {
    if ctl_client_recovers(held, held_ctl, cluster, group) {
        Recovery::CtlClient
    } else if reset_recovers(held, held_ctl, cluster, group) {
        Recovery::ItlReset
    } else if bulk_import_recovers(held, held_ctl, cluster, tvs_cluster, group) {
        Recovery::BulkImport
    } else {
        Recovery::ManualDeletion
    }
}

const WAIT: &str = "wait until every phone has downloaded the new ITL (CUCM 14's ITL File Status, or each phone's Trust List hash)";

/// Statement 23: after a regeneration TVS and TFTP are restarted and the phones reset.
const RESTART: &str = "restart TVS and TFTP on every node, then reset the phones (statement 23; CUCM releases after 8.x restart them and reset the phones by themselves after a certificate regeneration: check that they did)";

/// "Keep TVS unchanged" for phones that took the ITL only because `vouching` vouched.
fn keep_tvs(vouching: &[String]) -> String {
    format!(
        "keeping the TVS certificate of {} (the one the phones' previous ITL lists) unchanged until then: the phones take this ITL only because that TVS vouches for its signer",
        if vouching.is_empty() {
            "the node that vouched".to_owned()
        } else {
            vouching.join(" and ")
        }
    )
}

/// The TAC note's warnings about a step from `before` to `after`, whatever the prediction.
fn caveats(before: &Cluster, after: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    if before.id != after.id {
        return out;
    }
    let signer_changed = !before.itl_signer().same_cert(after.itl_signer());
    let changed_tvs: Vec<String> = before
        .tvs
        .iter()
        .zip(&after.tvs)
        .filter(|(b, a)| !b.same_cert(a))
        .map(|(b, _)| cluster::host_of(&b.subject))
        .collect();
    if signer_changed && !changed_tvs.is_empty() {
        let signer = match before.signer {
            ItlSigner::CallManager => "CallManager",
            ItlSigner::ItlRecovery => "ITLRecovery",
        };
        out.push(format!(
            "this step changes the ITL's signer ({signer}) and TVS ({}) at once: the TAC note says never regenerate CallManager and TVS together (statements 21, 22); only another node's unchanged TVS can vouch (statement 24), which makes no difference to a phone whose CallManager group has one server (statement 31)",
            changed_tvs.join(", ")
        ));
    }
    if ctl_left_stale(before, after) {
        out.push(CTL_STALE.to_owned());
    }
    if before.tvs.len() > 1 && changed_tvs.len() == before.tvs.len() {
        out.push("this step changes the TVS certificate of every node at once: no TVS is left that the phones' ITL lists (statement 31: renaming every node at once strands the phones)".to_owned());
    }
    out
}

/// Mixed mode: does the step from `before` to `after` change a certificate the served CTL
/// lists (CallManager as CCM+TFTP, CAPF, a tokenless signer) and leave the CTL as it was? The
/// CTL client, re-run, would then write another CTL than before the step (statement 30).
fn ctl_left_stale(before: &Cluster, after: &Cluster) -> bool {
    match (&before.ctl, &after.ctl) {
        (Some(b), Some(a)) => *a != a.updated(after) && b.updated(before) != a.updated(after),
        _ => false,
    }
}

/// The caveat of a mixed-mode step that leaves the CTL listing replaced certificates.
const CTL_STALE: &str = "mixed mode: the served CTL still lists the certificate this step replaces until the CTL client is re-run (utils ctl update CTLFile from CUCM 10.0); phones with an authenticated or encrypted security profile check CallManager's TLS certificate against their CTL, and new ITLs are verified through the CTL only once it lists the new CallManager: re-run the CTL client after the change, restart TVS and TFTP, then reset the phones (statement 30)";

/// What the phones hold before the change: their ITL, and their CTL in mixed mode.
#[derive(Clone, Copy)]
struct Start<'a> {
    itl: &'a TrustList<'a>,
    ctl: Option<&'a TrustList<'a>>,
}

/// The cluster the phones end on, and the last state of their own cluster (whose TVS a phone
/// moved elsewhere still asks).
#[derive(Clone)]
struct End {
    last: Cluster,
    home: Cluster,
}

/// Runs `steps` for phones of `group` that start holding `start` on cluster `before`, online
/// throughout.
fn run(start: &Start<'_>, before: &Cluster, steps: &[Step], group: Group<'_>) -> (Sequence, End) {
    let mut cluster = before.clone();
    let mut home = before.clone();
    let mut held = HeldNow::Real(start.itl);
    let mut held_ctl = start.ctl.map_or(HeldNow::Nothing, HeldNow::Real);
    let mut outcomes = Vec::new();
    let mut generation = 0;
    let mut safe = true;
    for (i, step) in steps.iter().enumerate() {
        let next = step.apply(&cluster, &mut generation);
        // A moved phone still asks the TVS of its old configuration.
        let tvs_cluster = if next.id != cluster.id {
            &cluster
        } else {
            &next
        };
        // The nodes whose TVS the phones still trust (their ITL lists its certificate).
        let vouching: Vec<String> = asked(tvs_cluster, group)
            .iter()
            .filter(|t| match &held {
                HeldNow::Real(l) => l.records.iter().any(|r| t.is_in(r)),
                HeldNow::Planned(p) => p
                    .records
                    .iter()
                    .any(|r| r.cert.as_ref().is_some_and(|c| c.same_cert(t))),
                HeldNow::Nothing => false,
            })
            .map(|t| cluster::host_of(&t.subject))
            .collect();
        let Judged {
            itl,
            config,
            itl_taken,
            ctl_taken,
        } = judge(&held, &held_ctl, &next, tvs_cluster, group);
        let stranded = !(itl.accepted() && config.accepted());
        let recovery = stranded.then(|| recovery(&held, &held_ctl, &next, tvs_cluster, group));
        safe &= !stranded;
        if let Some(list) = itl_taken {
            held = HeldNow::Planned(list);
        }
        if let Some(list) = ctl_taken {
            held_ctl = HeldNow::Planned(list);
        }
        // Phones that take this ITL only through TVS need that TVS as it is until all have it.
        let via_tvs = itl.route == Some(trust::Route::ViaTvs);
        // Nothing to wait for when the step leaves the ITL as it was (a Bulk Certificate
        // Management import changes only what TVS knows).
        let itl_changed = next.itl() != cluster.itl();
        let wait = match (i + 1 < steps.len() && itl_changed, via_tvs) {
            (true, false) => Some(format!("{WAIT} before the next step")),
            (true, true) => Some(format!(
                "{WAIT} before the next step, {}",
                keep_tvs(&vouching)
            )),
            (false, true) => Some(format!("{WAIT}, {}", keep_tvs(&vouching))),
            (false, false) => None,
        };
        let restart = match step {
            Step::Apply(changes) | Step::ApplyWithCtl(changes)
                if changes.iter().any(Change::changes_certificates) =>
            {
                Some(RESTART.to_owned())
            }
            // The CTL client's new CTL reaches the phones the same way (statement 30).
            Step::CtlUpdate => Some(RESTART.to_owned()),
            _ => None,
        };
        outcomes.push(StepOutcome {
            number: i + 1,
            action: step.describe(),
            itl,
            config,
            stranded,
            recovery,
            wait,
            restart,
            caveats: caveats(&cluster, &next),
        });
        if next.id == before.id {
            home = next.clone();
        }
        cluster = next;
    }
    (
        Sequence {
            steps: outcomes,
            safe,
            verdict: if safe {
                Verdict::Safe
            } else {
                Verdict::NotSafe
            },
        },
        End {
            last: cluster,
            home,
        },
    )
}

/// [`run`] for the phones the prediction covers. With the CallManager group given, its
/// answer is final. Without it, the steps are judged for phones asking every TVS of the ITL,
/// and a sequence safe for them is safe for all only when it is safe for a phone whose group
/// holds any single node (statement 31): else it is safe only for phones whose group holds
/// one of the nodes that keep it safe.
fn run_for(
    start: &Start<'_>,
    before: &Cluster,
    steps: &[Step],
    group: Group<'_>,
) -> (Sequence, End) {
    let (mut seq, end) = run(start, before, steps, group);
    if group.is_none() && seq.safe && before.tvs.len() > 1 {
        let names = before.node_names();
        let (mut unchanged, mut stranded_alone) = (Vec::new(), Vec::new());
        for (i, name) in names.into_iter().enumerate() {
            let alone = [i];
            if run(start, before, steps, Some(&alone)).0.safe {
                unchanged.push(name);
            } else {
                stranded_alone.push(name);
            }
        }
        if !stranded_alone.is_empty() {
            seq.safe = false;
            seq.verdict = Verdict::SafeOnlyIfGroupHolds {
                unchanged,
                stranded_alone,
            };
        }
    }
    (seq, end)
}

/// One change per certificate: regenerating or replacing the same one twice, or renaming the
/// same node twice, is one change given twice (a usage error). The safe-order search tries
/// every order of the per-certificate changes when there are at most five of them.
pub fn distinct_certificates(changes: &[Change]) -> Result<(), String> {
    // (role, node): None is the TFTP node's certificate, Some("") every node's.
    let mut seen: Vec<(Role, Option<String>)> = Vec::new();
    let mut renamed: Vec<String> = Vec::new();
    for c in changes {
        let key = match c {
            Change::Regenerate(r) | Change::Replace(r, _) => (*r, None),
            Change::RegenerateTvs(Nodes::All) => (Role::Tvs, Some(String::new())),
            Change::RegenerateTvs(Nodes::Named(n)) => (Role::Tvs, Some(n.clone())),
            Change::Hostname(_) | Change::Rename { .. } => {
                let node = match c {
                    Change::Rename { old, .. } => old.clone(),
                    _ => String::new(),
                };
                if renamed
                    .iter()
                    .any(|n| n == &node || (!n.is_empty() && cluster::same_host(n, &node)))
                {
                    return Err(format!(
                        "node {} is renamed twice: give each node once (--hostname [OLD=]NEW)",
                        if node.is_empty() {
                            "of the TFTP server"
                        } else {
                            &node
                        }
                    ));
                }
                renamed.push(node);
                continue;
            }
            Change::MoveTo(_) => continue,
        };
        let clash = seen.iter().any(|(r, n)| {
            *r == key.0
                && match (n, &key.1) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.is_empty() || b.is_empty() || cluster::same_host(a, b),
                    (Some(a), None) | (None, Some(a)) => a.is_empty(),
                }
        });
        if clash {
            return Err(format!(
                "{} is changed twice: give each certificate once (--regenerate or --replace)",
                key.0.name()
            ));
        }
        seen.push(key);
    }
    Ok(())
}

/// Is it a change of one certificate (ordered one at a time in the safe-order search)?
fn is_single(c: &Change) -> bool {
    matches!(
        c,
        Change::Regenerate(_) | Change::RegenerateTvs(_) | Change::Replace(..)
    )
}

/// Candidate orders, most direct first: one certificate at a time in every order, then the
/// documented preparations (Bulk Certificate Management for a move, rollback around a rename
/// or whatever else). Renames and a move come after the certificates, one step each (one node
/// at a time: statement 31).
///
/// Mixed mode (`mixed`) is another procedure: the change, then the CTL client re-run, TVS and
/// TFTP restarted, the phones reset (statement 30) comes first, and a cluster that cannot
/// break permanently (statement 32) needs no certificate-at-a-time order; those orders stay
/// as fallbacks, ending with the CTL client when the change leaves the CTL stale
/// (`ctl_stale`). Rollback is not offered: it blanks the ITL, not the CTL, so it does not
/// serve a secure cluster (phone-behaviour.md §4.3).
fn candidates(changes: &[Change], mixed: bool, ctl_stale: bool) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let moves = changes.iter().any(|c| matches!(c, Change::MoveTo(_)));
    if mixed && !moves {
        out.push(vec![Step::ApplyWithCtl(changes.to_vec())]);
    }
    let finish = |mut steps: Vec<Step>| {
        if ctl_stale {
            steps.push(Step::CtlUpdate);
        }
        steps
    };
    let singles: Vec<&Change> = changes.iter().filter(|c| is_single(c)).collect();
    let others: Vec<&Change> = changes.iter().filter(|c| !is_single(c)).collect();
    let ordered: Vec<Step> = {
        let mut s: Vec<&Change> = singles.clone();
        s.sort_by_key(|c| match c {
            Change::Regenerate(r) | Change::Replace(r, _) => Role::ALL.iter().position(|x| x == r),
            Change::RegenerateTvs(_) => Role::ALL.iter().position(|x| *x == Role::Tvs),
            _ => None,
        });
        let mut steps: Vec<Step> = s
            .into_iter()
            .map(|c| Step::Apply(vec![c.clone()]))
            .collect();
        steps.extend(others.iter().map(|c| Step::Apply(vec![(*c).clone()])));
        steps
    };
    if singles.len() > 1 && singles.len() <= 5 {
        for perm in permutations(singles.len()) {
            let mut steps: Vec<Step> = perm
                .iter()
                .map(|&i| Step::Apply(vec![singles[i].clone()]))
                .collect();
            steps.extend(others.iter().map(|c| Step::Apply(vec![(*c).clone()])));
            out.push(finish(steps));
        }
    } else {
        out.push(finish(ordered.clone()));
    }
    if let Some(Change::MoveTo(target)) = changes.iter().find(|c| matches!(c, Change::MoveTo(_))) {
        let mut steps = vec![Step::BulkImport(target.clone())];
        steps.extend(ordered.iter().cloned());
        out.push(steps);
    }
    // A move in mixed mode: the CTL client path after the Bulk Certificate Management one.
    if mixed && moves {
        out.push(vec![Step::ApplyWithCtl(changes.to_vec())]);
    }
    if !mixed {
        let mut around = vec![Step::Rollback(true)];
        around.extend(ordered.iter().cloned());
        around.push(Step::Rollback(false));
        out.push(around);
    }
    out
}

/// Every order of `0..n` (n ≤ 4 here), in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for first in 0..n {
        for rest in permutations(n - 1) {
            let mut p = vec![first];
            p.extend(rest.into_iter().map(|x| if x >= first { x + 1 } else { x }));
            out.push(p);
        }
    }
    out
}

/// The ITL the phones hold, as given to [`plan`].
#[derive(Debug, Clone)]
pub struct PhoneItl<'a> {
    /// The name given on the command line.
    pub file: &'a str,
    /// File or `show itl` text.
    pub source: ItlSource,
    /// SHA-1 of the file, when known.
    pub sha1: Option<String>,
    /// The list.
    pub list: &'a TrustList<'a>,
}

impl<'a> PhoneItl<'a> {
    /// An ITL file: its SHA-1 is computed from its bytes.
    pub fn from_file(file: &'a str, list: &'a TrustList<'a>) -> Self {
        use sha1::Digest as _;
        PhoneItl {
            file,
            source: ItlSource::File,
            sha1: Some(hex::encode(sha1::Sha1::digest(list.bytes))),
            list,
        }
    }
}

/// What `plan` is told about the phones besides the ITL they hold.
#[derive(Debug, Clone, Default)]
pub struct Phones<'a> {
    /// Their CallManager group: the nodes whose TVS they ask (at most 3, statement 10),
    /// matched whole against the ITL's TVS records. `None`: the prediction assumes every TVS
    /// of the ITL is in their group, and says so.
    pub cm_group: Option<Vec<String>>,
    /// The CTL they hold (mixed mode), named as given; `None`: no CTL (non-secure mode).
    pub ctl: Option<(String, &'a TrustList<'a>)>,
}

/// The largest CallManager group a phone's TVS list is made from (statement 10).
pub const MAX_CM_GROUP: usize = 3;

/// The ITL's nodes, for messages.
fn known_nodes(c: &Cluster) -> String {
    let names = c.node_names();
    if names.is_empty() {
        "the ITL lists no TVS".to_owned()
    } else {
        format!("the ITL's nodes are {}", names.join(", "))
    }
}

/// Checks the node names the options give against the ITL's nodes (matched whole, never as
/// substrings: `cucm1` is not `cucm10`); returns the CallManager group as TVS record indices.
/// An error here is a usage error.
pub fn check_nodes(
    phone_itl: &TrustList<'_>,
    changes: &[Change],
    phones: &Phones<'_>,
) -> Result<Option<Vec<usize>>, String> {
    // An ITL that is no cluster's (a rollback ITL) is refused by the plan itself, as an
    // unreadable input, not here.
    let Ok(before) = Cluster::from_trust_list(phone_itl, 0) else {
        return Ok(None);
    };
    for c in changes {
        let node = match c {
            Change::RegenerateTvs(Nodes::Named(n)) => n,
            Change::Rename { old, .. } => old,
            _ => continue,
        };
        if before.tvs_of(node).is_empty() && !cluster::same_host(&before.hostname, node) {
            return Err(format!("no node named {node}: {}", known_nodes(&before)));
        }
    }
    let Some(names) = &phones.cm_group else {
        return Ok(None);
    };
    if names.is_empty() || names.len() > MAX_CM_GROUP {
        return Err(format!(
            "--cm-group names {} nodes: a CallManager group gives a phone 1 to {MAX_CM_GROUP} TVS servers (statement 10)",
            names.len()
        ));
    }
    let mut group = Vec::new();
    for n in names {
        let idx = before.tvs_of(n);
        if idx.is_empty() {
            return Err(format!(
                "--cm-group: no TVS of a node named {n}: {}",
                known_nodes(&before)
            ));
        }
        group.extend(idx);
    }
    group.sort_unstable();
    group.dedup();
    Ok(Some(group))
}

/// Plans `changes` for the phones holding `phone_itl`, assuming every TVS of the ITL is in
/// their CallManager group.
pub fn plan(phone: &PhoneItl<'_>, changes: &[Change]) -> Result<PlanReport, String> {
    plan_for(phone, changes, &Phones::default())
}

/// Plans `changes` for the phones holding `phone_itl`, with what else is known of them.
pub fn plan_for(
    phone: &PhoneItl<'_>,
    changes: &[Change],
    phones: &Phones<'_>,
) -> Result<PlanReport, String> {
    let phone_itl = phone.list;
    if changes.is_empty() {
        return Err("no change given: --regenerate ROLE, --replace ROLE=CERT, --hostname NEW or --move-to ITL".to_owned());
    }
    distinct_certificates(changes)?;
    let group_idx = check_nodes(phone_itl, changes, phones)?;
    let group = group_idx.as_deref();
    let mut before = Cluster::from_trust_list(phone_itl, 0)?;
    let start = Start {
        itl: phone_itl,
        ctl: phones.ctl.as_ref().map(|(_, l)| *l),
    };
    let mut assumptions = Vec::new();
    match &phones.ctl {
        Some((name, ctl)) => {
            let mut state = cluster::CtlState::from_trust_list(ctl)?;
            state.itl_recovery = before.itl_recovery.clone();
            before.ctl = Some(state);
            assumptions.push(format!(
                "the phones hold the CTL {name} (mixed mode): a new ITL or config is also trusted when that CTL's CCM+TFTP verifies it, and a new CTL when one of its SAST records signs it (statements 7b, 7c); the cluster serves the CTL the CTL client last wrote until it is re-run (statement 30)"
            ));
        }
        None => assumptions.push(
            "no --phone-ctl given: the phones hold no CTL (the cluster is not in mixed mode)"
                .to_owned(),
        ),
    }
    match &phones.cm_group {
        Some(names) => assumptions.push(format!(
            "the phones' CallManager group is {}: they ask the TVS of these nodes only (statement 10)",
            names.join(", ")
        )),
        None if before.tvs.len() <= 1 => assumptions.push(format!(
            "no --cm-group given: the ITL lists one TVS ({}), the one the phones ask",
            before.node_names().join(", ")
        )),
        None => assumptions.push(format!(
            "no --cm-group given: the steps are judged for phones whose CallManager group holds every TVS of the ITL ({}); a step that only another node's TVS makes safe is marked safe only for phones whose group holds that node (statement 31)",
            before.node_names().join(", ")
        )),
    }
    let (as_requested, requested_end) =
        run_for(&start, &before, &[Step::Apply(changes.to_vec())], group);
    // Mixed mode: a change the CTL lists is not done until the CTL client is re-run, even
    // when the phones would take the new files without it (statement 30).
    let ctl_stale = {
        let mut generation = 0;
        let after = Step::Apply(changes.to_vec()).apply(&before, &mut generation);
        before.id == after.id && ctl_left_stale(&before, &after)
    };
    let safe = if as_requested.safe && !ctl_stale {
        Some((as_requested.clone(), requested_end.clone()))
    } else {
        let runs: Vec<(Sequence, End)> = candidates(changes, before.ctl.is_some(), ctl_stale)
            .into_iter()
            .map(|steps| run_for(&start, &before, &steps, group))
            .collect();
        // Safe for every phone first; else safe for phones whose group holds an unchanged
        // node (one at a time before the requested change itself).
        let conditional = matches!(as_requested.verdict, Verdict::SafeOnlyIfGroupHolds { .. });
        let first_safe = runs.iter().position(|(seq, _)| seq.safe);
        let first_conditional = runs
            .iter()
            .position(|(seq, _)| matches!(seq.verdict, Verdict::SafeOnlyIfGroupHolds { .. }));
        match (first_safe, first_conditional) {
            (Some(i), _) | (None, Some(i)) => runs.into_iter().nth(i),
            (None, None) if conditional || as_requested.safe => {
                Some((as_requested.clone(), requested_end.clone()))
            }
            (None, None) => None,
        }
    };
    let end = safe.as_ref().map_or(&requested_end, |(_, e)| e);
    let final_cluster = &end.last;
    // Offline phones meet only the final state; after a move their TVS is still their old
    // cluster's, as the steps left it (with what Bulk Certificate Management imported).
    let tvs_cluster = &end.home;
    let held = HeldNow::Real(phone_itl);
    let held_ctl = start.ctl.map_or(HeldNow::Nothing, HeldNow::Real);
    let Judged { itl, config, .. } = judge(&held, &held_ctl, final_cluster, tvs_cluster, group);
    let offline_ok = itl.accepted() && config.accepted();
    let mut populations = Vec::new();
    if let Some((seq, _)) = &safe {
        let last = seq.steps.last();
        populations.push(Population {
            id: PopulationId::Online,
            description:
                "phones registered throughout, downloading each new ITL before the next step"
                    .to_owned(),
            itl: last.map_or_else(|| itl.clone(), |s| s.itl.clone()),
            config: last.map_or_else(|| config.clone(), |s| s.config.clone()),
            recovery: None,
        });
    }
    populations.push(Population {
        id: PopulationId::Offline,
        description: if final_cluster.id == before.id {
            "phones powered off or unregistered during the whole change: they meet only the final ITL, still holding this one".to_owned()
        } else {
            "phones powered off or unregistered during the whole change: they meet only the final ITL, still holding this one, and ask the TVS of their old cluster (keep it running until they are all back)".to_owned()
        },
        recovery: (!offline_ok)
            .then(|| recovery(&held, &held_ctl, final_cluster, tvs_cluster, group)),
        itl,
        config,
    });
    let Judged { itl, config, .. } = judge(
        &HeldNow::Nothing,
        &HeldNow::Nothing,
        final_cluster,
        final_cluster,
        group,
    );
    populations.push(Population {
        id: PopulationId::WithoutItl,
        description: "new or factory-reset phones (no ITL)".to_owned(),
        itl,
        config,
        recovery: None,
    });
    let manual_deletion_steps = as_requested
        .steps
        .iter()
        .filter(|s| s.recovery == Some(Recovery::ManualDeletion))
        .map(|s| format!("step {}: {}", s.number, s.action))
        .collect();
    let certificates = {
        let mut c = vec![format!("CallManager {}", before.callmanager.label())];
        c.extend(before.tvs.iter().map(|t| format!("TVS {}", t.label())));
        c.extend(
            before
                .itl_recovery
                .iter()
                .map(|t| format!("ITLRecovery {}", t.label())),
        );
        c.extend(before.capf.iter().map(|t| format!("CAPF {}", t.label())));
        c
    };
    Ok(PlanReport {
        phone_itl: PhoneItlSummary {
            file: phone.file.to_owned(),
            source: phone.source,
            sha1: phone.sha1.clone(),
            signer: before.signer,
            certificates,
        },
        phone_ctl: phones.ctl.as_ref().map(|(name, _)| name.clone()),
        change: changes.iter().map(Change::describe).collect(),
        as_requested,
        safe_order: safe.map(|(s, _)| s),
        populations,
        manual_deletion_steps,
        assumptions,
        not_modelled: NOT_MODELLED.iter().map(|s| (*s).to_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::cluster::{CertId, Cluster, ItlSigner, Role};
    use super::*;

    fn cert(cn: &str, serial: u8) -> CertId {
        let subject = format!("CN={cn};OU=VTG;O=Example");
        CertId {
            issuer: subject.clone(),
            subject,
            serial: vec![0x10, serial],
            key: Some(format!("key of {cn} #{serial}").into_bytes()),
            sha1: Some(vec![serial; 20]),
            planned: false,
        }
    }

    /// An 11.5 cluster of two nodes: TVS on the publisher and on the subscriber.
    fn two_nodes() -> Cluster {
        Cluster {
            id: 0,
            hostname: "cucm-pub.example.com".into(),
            callmanager: cert("cucm-pub.example.com", 1),
            tvs: vec![
                cert("cucm-pub.example.com", 2),
                cert("cucm-sub.example.com", 3),
            ],
            itl_recovery: Some(cert("ITLRECOVERY_cucm-pub.example.com", 4)),
            capf: None,
            signer: ItlSigner::CallManager,
            rollback: false,
            imported: Vec::new(),
            ctl: None,
        }
    }

    #[test]
    fn a_second_node_whose_tvs_is_unchanged_vouches_during_a_double_regeneration() {
        // Statement 24: other TVS servers of the CallManager group can vouch. Statements 22
        // and 31: never both at once, and the second node makes no difference to a phone whose
        // group holds only the first: "safe only for phones whose group holds cucm-sub".
        let itl = two_nodes().itl();
        let held = itl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let changes = [
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ];
        let report = plan(&phone, &changes).expect("plan");
        let step = &report.as_requested.steps[0];
        assert_eq!(step.itl.via(), Some("via-tvs"), "{}", step.itl.explanation);
        assert!(
            step.itl.explanation.contains("cucm-sub"),
            "{}",
            step.itl.explanation
        );
        assert!(!report.as_requested.safe);
        assert_eq!(
            report.as_requested.verdict,
            Verdict::SafeOnlyIfGroupHolds {
                unchanged: vec!["cucm-sub.example.com".into()],
                stranded_alone: vec!["cucm-pub.example.com".into()],
            }
        );
        assert!(
            step.caveats.iter().any(|c| c.contains("statements 21, 22")),
            "{:?}",
            step.caveats
        );
        // The wait names the TVS that vouched, not the one this very step regenerates.
        let wait = step.wait.as_deref().unwrap_or_default();
        assert!(
            wait.contains("TVS certificate of cucm-sub.example.com"),
            "{wait}"
        );
        assert!(!wait.contains("cucm-pub"), "{wait}");
        // One at a time is safe for every phone.
        let safe = report.safe_order.as_ref().expect("a safe order");
        assert!(safe.safe);
        assert_eq!(safe.steps.len(), 2);
        assert!(
            report
                .assumptions
                .iter()
                .any(|a| a.contains("no --cm-group")),
            "{:?}",
            report.assumptions
        );
    }

    #[test]
    fn statement_31_a_cm_group_of_the_regenerated_node_alone_is_stranded() {
        let itl = two_nodes().itl();
        let held = itl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let changes = [
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ];
        let only_pub = Phones {
            cm_group: Some(vec!["cucm-pub.example.com".into()]),
            ctl: None,
        };
        let report = plan_for(&phone, &changes, &only_pub).expect("plan");
        assert_eq!(report.as_requested.verdict, Verdict::NotSafe);
        assert_eq!(
            report.as_requested.steps[0].itl.acceptance,
            Acceptance::Rejected
        );
        let both = Phones {
            cm_group: Some(vec!["cucm-pub".into(), "cucm-sub".into()]),
            ctl: None,
        };
        let report = plan_for(&phone, &changes, &both).expect("plan");
        assert_eq!(report.as_requested.verdict, Verdict::Safe);
        assert!(
            report
                .assumptions
                .iter()
                .any(|a| a.contains("cucm-pub, cucm-sub")),
            "{:?}",
            report.assumptions
        );
        // Statement 10: at most three; names matched whole.
        let four = Phones {
            cm_group: Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]),
            ctl: None,
        };
        assert!(check_nodes(&held, &changes, &four).is_err());
        let partial = Phones {
            cm_group: Some(vec!["cucm-su".into()]),
            ctl: None,
        };
        let err = check_nodes(&held, &changes, &partial).expect_err("no such node");
        assert!(
            err.contains("cucm-pub.example.com, cucm-sub.example.com"),
            "{err}"
        );
    }

    /// Nodes `cucm1` (TFTP) and `cucm10`: two hosts, one name the prefix of the other.
    fn cucm1_and_cucm10() -> Cluster {
        Cluster {
            hostname: "cucm1".into(),
            callmanager: cert("cucm1", 1),
            tvs: vec![cert("cucm1", 2), cert("cucm10", 3)],
            itl_recovery: Some(cert("ITLRECOVERY_cucm1", 4)),
            ..two_nodes()
        }
    }

    #[test]
    fn nodes_are_matched_by_exact_name_not_substring() {
        // Statement 28: a hostname change regenerates the certificates of *that* node.
        let mut c = cucm1_and_cucm10();
        apply_change(&mut c, &Change::Hostname("newpub".into()), 1);
        assert_eq!(cluster::host_of(&c.callmanager.subject), "newpub");
        assert_eq!(c.node_names(), ["newpub", "cucm10"]);
        assert_eq!(c.tvs[1], cucm1_and_cucm10().tvs[1], "cucm10 untouched");
        assert_eq!(
            c.itl_recovery
                .as_ref()
                .map(|r| cluster::cn_text(&r.subject)),
            Some("ITLRECOVERY_newpub".to_owned())
        );
        // Regenerating the TFTP node's TVS leaves cucm10's alone.
        let mut c = cucm1_and_cucm10();
        apply_change(&mut c, &Change::Regenerate(Role::Tvs), 1);
        assert!(c.tvs[0].planned);
        assert!(!c.tvs[1].planned);
        // Renaming cucm10 touches only cucm10.
        let mut c = cucm1_and_cucm10();
        apply_change(
            &mut c,
            &Change::Rename {
                old: "cucm10".into(),
                new: "newsub".into(),
            },
            1,
        );
        assert_eq!(c.node_names(), ["cucm1", "newsub"]);
        assert!(!c.callmanager.planned);
    }

    #[test]
    fn statement_23_a_regeneration_is_followed_by_restart_and_reset() {
        let itl = two_nodes().itl();
        let held = itl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let report = plan(&phone, &[Change::Regenerate(Role::Tvs)]).expect("plan");
        let restart = report.as_requested.steps[0].restart.as_deref();
        assert!(
            restart.is_some_and(|r| r.contains("restart TVS and TFTP on every node")
                && r.contains("reset the phones")
                && r.contains("by themselves")),
            "{restart:?}"
        );
        assert!(!report.not_modelled.is_empty());
    }

    #[test]
    fn statement_31_renaming_every_node_at_once_strands_and_one_at_a_time_does_not() {
        let itl = two_nodes().itl();
        let held = itl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let changes = [
            Change::Rename {
                old: "cucm-pub.example.com".into(),
                new: "a.example.com".into(),
            },
            Change::Rename {
                old: "cucm-sub".into(),
                new: "b".into(),
            },
        ];
        let report = plan(&phone, &changes).expect("plan");
        assert_eq!(report.as_requested.verdict, Verdict::NotSafe);
        assert!(
            report.as_requested.steps[0]
                .caveats
                .iter()
                .any(|c| c.contains("every node")),
            "{:?}",
            report.as_requested.steps[0].caveats
        );
        let safe = report.safe_order.as_ref().expect("an order");
        assert_ne!(safe.verdict, Verdict::NotSafe);
        // TVS on every node at once is fine on its own: the ITL's signer is unchanged.
        let report = plan(&phone, &[Change::RegenerateTvs(Nodes::All)]).expect("plan");
        assert_eq!(report.as_requested.verdict, Verdict::Safe);
        // ... but not together with CallManager.
        let report = plan(
            &phone,
            &[
                Change::RegenerateTvs(Nodes::All),
                Change::Regenerate(Role::CallManager),
            ],
        )
        .expect("plan");
        assert_eq!(report.as_requested.verdict, Verdict::NotSafe);
        assert!(report.safe_order.as_ref().is_some_and(|s| s.safe));
    }

    /// The CTL of `c` as the CTL client writes it: signed by an eToken (SAST), listing
    /// CallManager as CCM+TFTP.
    fn ctl_of(c: &Cluster) -> PlannedItl {
        let token = cert("SAST-ADN0054f509", 9);
        cluster::CtlState {
            signer: token.clone(),
            sast: vec![token],
            callmanager: c.callmanager.clone(),
            others: Vec::new(),
            itl_recovery: c.itl_recovery.clone(),
        }
        .file()
    }

    #[test]
    fn statement_30_single_node_mixed_mode_recovers_by_re_running_the_ctl_client() {
        let mut one = two_nodes();
        one.tvs.truncate(1);
        let itl = one.itl();
        let held = itl.view();
        let ctl = ctl_of(&one);
        let held_ctl = ctl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let changes = [
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ];
        let phones = Phones {
            cm_group: None,
            ctl: Some(("CTLFile.tlv".into(), &held_ctl)),
        };
        let report = plan_for(&phone, &changes, &phones).expect("plan");
        let step = &report.as_requested.steps[0];
        assert!(step.stranded);
        // Not a manual deletion: the CTL client brings them back (statement 30).
        assert_eq!(step.recovery, Some(Recovery::CtlClient));
        assert!(report.manual_deletion_steps.is_empty());
        assert_eq!(report.phone_ctl.as_deref(), Some("CTLFile.tlv"));
        assert!(
            report
                .assumptions
                .iter()
                .any(|a| a.contains("statements 7b, 7c"))
        );
        // The change with the CTL client re-run before the phones reset: the new ITL is
        // accepted through the CTL (statement 7c).
        let mut before = Cluster::from_trust_list(&held, 0).expect("cluster");
        let mut state = cluster::CtlState::from_trust_list(&held_ctl).expect("ctl");
        state.itl_recovery = before.itl_recovery.clone();
        before.ctl = Some(state);
        let start = Start {
            itl: &held,
            ctl: Some(&held_ctl),
        };
        let (seq, _) = run(
            &start,
            &before,
            &[Step::ApplyWithCtl(changes.to_vec())],
            None,
        );
        let step = &seq.steps[0];
        assert_eq!(
            step.itl.via(),
            Some("signer-in-ctl"),
            "{}",
            step.itl.explanation
        );
        assert!(
            step.itl
                .explanation
                .contains("through the CTL after the CTL client is re-run"),
            "{}",
            step.itl.explanation
        );
        assert!(seq.safe);
        assert!(
            step.action.contains("utils ctl update CTLFile"),
            "{}",
            step.action
        );
        // Without the CTL the same phones need a deletion or utils itl reset.
        let report = plan(&phone, &changes).expect("plan");
        assert_ne!(
            report.as_requested.steps[0].recovery,
            Some(Recovery::CtlClient)
        );
    }

    /// Statement 32's two-node mixed-mode cluster, a phone whose group holds only the
    /// publisher, both its CallManager and TVS certificates regenerated.
    fn pub_only_mixed_mode_plan() -> PlanReport {
        let c = two_nodes();
        let (itl, ctl) = (c.itl(), ctl_of(&c));
        let (held, held_ctl) = (itl.view(), ctl.view());
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let phones = Phones {
            cm_group: Some(vec!["cucm-pub".into()]),
            ctl: Some(("CTLFile.tlv".into(), &held_ctl)),
        };
        let changes = [
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ];
        plan_for(&phone, &changes, &phones).expect("plan")
    }

    #[test]
    fn statement_32_multi_node_mixed_mode_cannot_break_permanently() {
        // A phone whose group holds only the node regenerated: stranded, but the CTL client
        // recovers it, and the documented orders include the CTL client path.
        let report = pub_only_mixed_mode_plan();
        assert_eq!(
            report.as_requested.steps[0].recovery,
            Some(Recovery::CtlClient)
        );
        for p in &report.populations {
            assert_ne!(p.recovery, Some(Recovery::ManualDeletion), "{:?}", p.id);
        }
    }

    /// The single-node cluster of statement 30 with its CTL, as `plan_for` is given it.
    fn single_node_mixed() -> (PlannedItl, PlannedItl) {
        let mut one = two_nodes();
        one.tvs.truncate(1);
        (one.itl(), ctl_of(&one))
    }

    #[test]
    fn statement_30_mixed_mode_safe_order_is_the_change_then_the_ctl_client_not_one_at_a_time() {
        let (itl, ctl) = single_node_mixed();
        let (held, held_ctl) = (itl.view(), ctl.view());
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let phones = Phones {
            cm_group: None,
            ctl: Some(("CTLFile.tlv".into(), &held_ctl)),
        };
        let changes = [
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ];
        let report = plan_for(&phone, &changes, &phones).expect("plan");
        let safe = report.safe_order.as_ref().expect("a safe order");
        assert!(safe.safe);
        // One step: both changes, then the CTL client, then restart and reset.
        assert_eq!(safe.steps.len(), 1, "{:?}", safe.steps);
        let step = &safe.steps[0];
        assert!(
            step.action.starts_with("regenerate CallManager, regenerate TVS, then re-run the CTL client (utils ctl update CTLFile"),
            "{}",
            step.action
        );
        assert!(
            step.action
                .ends_with("before TVS and TFTP are restarted and the phones reset"),
            "{}",
            step.action
        );
        assert!(
            step.restart
                .as_deref()
                .is_some_and(|r| r.contains("reset the phones"))
        );
        assert_eq!(
            step.itl.via(),
            Some("signer-in-ctl"),
            "{}",
            step.itl.explanation
        );
        // Rollback blanks the ITL, not the CTL: never a mixed-mode order.
        for candidate in candidates(&changes, true, true) {
            assert!(
                !candidate.iter().any(|s| matches!(s, Step::Rollback(_))),
                "{candidate:?}"
            );
        }
        assert!(matches!(
            candidates(&changes, true, true).first().map(Vec::as_slice),
            Some([Step::ApplyWithCtl(_)])
        ));
        // Offline phones meet the final CTL and ITL: they follow too.
        for p in &report.populations {
            assert_eq!(p.recovery, None, "{:?}", p.id);
        }
    }

    #[test]
    fn statement_30_a_callmanager_regeneration_in_mixed_mode_still_needs_the_ctl_client() {
        // Alone, CallManager is taken through TVS (statement 20), but the CTL keeps listing the
        // old certificate until the CTL client is re-run: the safe order adds it.
        let (itl, ctl) = single_node_mixed();
        let (held, held_ctl) = (itl.view(), ctl.view());
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let phones = Phones {
            cm_group: None,
            ctl: Some(("CTLFile.tlv".into(), &held_ctl)),
        };
        let report =
            plan_for(&phone, &[Change::Regenerate(Role::CallManager)], &phones).expect("plan");
        assert!(report.as_requested.safe);
        assert!(
            report.as_requested.steps[0]
                .caveats
                .iter()
                .any(|c| c.contains("utils ctl update CTLFile") && c.contains("statement 30")),
            "{:?}",
            report.as_requested.steps[0].caveats
        );
        let safe = report.safe_order.as_ref().expect("a safe order");
        assert!(matches!(safe.steps.as_slice(), [s] if s.action.contains("re-run the CTL client")));
        assert!(
            safe.steps[0].caveats.is_empty(),
            "{:?}",
            safe.steps[0].caveats
        );
        // Through the re-run CTL, not TVS: no TVS has to stay unchanged (statement 7c).
        assert_eq!(
            safe.steps[0].itl.via(),
            Some("signer-in-ctl"),
            "{}",
            safe.steps[0].itl.explanation
        );
        assert!(safe.steps[0].wait.is_none(), "{:?}", safe.steps[0].wait);
        // TVS is not in the CTL: regenerating it alone needs no CTL client.
        let report = plan_for(&phone, &[Change::Regenerate(Role::Tvs)], &phones).expect("plan");
        assert!(report.as_requested.steps[0].caveats.is_empty());
        let safe = report.safe_order.as_ref().expect("a safe order");
        assert!(
            !safe.steps[0].action.contains("CTL client"),
            "{}",
            safe.steps[0].action
        );
        // Without a CTL, no CTL client anywhere.
        let report = plan(&phone, &[Change::Regenerate(Role::CallManager)]).expect("plan");
        let safe = report.safe_order.as_ref().expect("a safe order");
        assert!(!safe.steps[0].action.contains("CTL client"));
    }

    #[test]
    fn statement_32_multi_node_mixed_mode_safe_order_is_the_ctl_client_path() {
        let report = pub_only_mixed_mode_plan();
        let safe = report.safe_order.as_ref().expect("a safe order");
        assert!(safe.safe);
        assert!(
            matches!(safe.steps.as_slice(), [s] if s.action.contains("utils ctl update CTLFile"))
        );
    }

    #[test]
    fn issue_20_planned_serials_are_placeholders_never_printed_as_real_ones() {
        let itl = two_nodes().itl();
        let held = itl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let report = plan(&phone, &[Change::Regenerate(Role::CallManager)]).expect("plan");
        let step = &report.as_requested.steps[0];
        // The config is signed by the new CallManager: its record is named without a serial.
        assert!(
            step.config.placeholder_serials,
            "{}",
            step.config.explanation
        );
        assert!(
            step.config.explanation.contains(cluster::NEW_SERIAL),
            "{}",
            step.config.explanation
        );
        let planned = cert("cucm-pub.example.com", 1).regenerated(Role::CallManager, 1, None);
        let hex = crate::cisco::serial_hex(&planned.serial);
        assert!(cluster::is_placeholder_serial(&hex));
        // 21 octets: longer than any real serial (RFC 5280: at most 20).
        assert_eq!(planned.serial.len(), 21);
        let text = text::render(&report);
        assert!(!text.contains(&hex), "{text}");
        assert!(!text.contains("7fee"), "{text}");
        // Real serials stay as they are.
        let (same, any) = mark_placeholders("record #2 TVS CN=x serial 1003 of the ITL");
        assert_eq!(same, "record #2 TVS CN=x serial 1003 of the ITL");
        assert!(!any);
        let (marked, any) = mark_placeholders(&format!(
            "record #3 CCM+TFTP CN=x serial {hex} of the next ITL"
        ));
        assert_eq!(
            marked,
            format!(
                "record #3 CCM+TFTP CN=x {} of the next ITL",
                cluster::NEW_SERIAL
            )
        );
        assert!(any);
        // A real certificate's label keeps its serial, a planned one says it has none yet.
        assert!(cert("a", 1).label().contains("serial 1001"));
        assert!(planned.label().ends_with(cluster::NEW_SERIAL));
        let json = serde_json::to_value(json::view(&report)).expect("json");
        assert_eq!(
            json["as_requested"]["steps"][0]["config"]["placeholder_serials"],
            true
        );
        assert!(!json.to_string().contains("7fee"));
    }

    #[test]
    fn the_same_certificate_or_node_twice_is_refused() {
        let twice = |c: &[Change]| distinct_certificates(c).is_err();
        assert!(twice(&[
            Change::Regenerate(Role::Tvs),
            Change::RegenerateTvs(Nodes::All)
        ]));
        assert!(!twice(&[
            Change::RegenerateTvs(Nodes::Named("cucm1".into())),
            Change::RegenerateTvs(Nodes::Named("cucm10".into()))
        ]));
        assert!(twice(&[
            Change::Rename {
                old: "cucm1".into(),
                new: "a".into()
            },
            Change::Rename {
                old: "CUCM1".into(),
                new: "b".into()
            }
        ]));
    }

    #[test]
    fn a_single_node_double_regeneration_strands_the_phones() {
        let mut one = two_nodes();
        one.tvs.truncate(1);
        let itl = one.itl();
        let held = itl.view();
        let phone = PhoneItl::from_file("ITLFile.tlv", &held);
        let changes = [
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ];
        let report = plan(&phone, &changes).expect("plan");
        assert!(!report.as_requested.safe);
        assert_eq!(
            report.as_requested.steps[0].itl.acceptance,
            Acceptance::Rejected
        );
    }

    #[test]
    fn every_order_is_tried_once() {
        assert_eq!(permutations(3).len(), 6);
        let mut all = permutations(3);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 6);
    }
}
