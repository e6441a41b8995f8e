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

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The certificate regenerated in place (new key and serial, same name).
    Regenerate(Role),
    /// The certificate replaced by this one (read from a file).
    Replace(Role, CertId),
    /// The node renamed: CallManager, TVS and ITLRecovery are regenerated under the new name.
    Hostname(String),
    /// The phones moved to the cluster whose ITL/CTL this is.
    MoveTo(Box<Cluster>),
}

impl Change {
    /// One line.
    pub fn describe(&self) -> String {
        match self {
            Change::Regenerate(r) => format!("regenerate {}", r.name()),
            Change::Replace(r, c) => format!("replace {} by {}", r.name(), c.label()),
            Change::Hostname(h) => {
                format!("rename the node to {h} (CallManager, TVS and ITLRecovery regenerated)")
            }
            Change::MoveTo(c) => format!("move the phones to cluster {}", c.hostname),
        }
    }
}

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
            // The TFTP node's TVS (same host as CallManager); every TVS when none matches.
            let host = c.hostname.clone();
            let own: Vec<bool> = c.tvs.iter().map(|t| t.subject.contains(&host)).collect();
            let any = own.contains(&true);
            for (t, mine) in c.tvs.iter_mut().zip(own) {
                if mine || !any {
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
            Role::Tvs => {
                let host = c.hostname.clone();
                match c.tvs.iter_mut().find(|t| t.subject.contains(&host)) {
                    Some(t) => *t = cert.clone(),
                    None => c.tvs = vec![cert.clone()],
                }
            }
            Role::ItlRecovery => c.itl_recovery = Some(cert.clone()),
            Role::Capf => c.capf = Some(cert.clone()),
        },
        Change::Hostname(new) => {
            let old = c.hostname.clone();
            let short_old = old.split('.').next().unwrap_or(&old).to_owned();
            let short_new = new.split('.').next().unwrap_or(new).to_owned();
            let rename = |s: &CertId, role: Role| {
                let renamed = s.regenerated(role, generation, Some((&old, new)));
                if renamed.subject == s.subject {
                    s.regenerated(role, generation, Some((&short_old, &short_new)))
                } else {
                    renamed
                }
            };
            c.callmanager = rename(&c.callmanager, Role::CallManager);
            for t in &mut c.tvs {
                if t.subject.contains(&short_old) {
                    *t = rename(t, Role::Tvs);
                }
            }
            c.itl_recovery = c
                .itl_recovery
                .as_ref()
                .map(|r| rename(r, Role::ItlRecovery));
            c.hostname = new.clone();
        }
        Change::MoveTo(target) => {
            let mut t = (**target).clone();
            // The old cluster's imports stay with the old cluster.
            t.imported.clear();
            *c = t;
        }
    }
}

/// One file's fate: the shared trust decision's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fate {
    /// Accepted, rejected or undetermined.
    pub acceptance: Acceptance,
    /// How, when accepted.
    pub route: Option<trust::Route>,
    /// Why, in one line.
    pub explanation: String,
}

impl From<Decision> for Fate {
    fn from(d: Decision) -> Self {
        Fate {
            acceptance: d.acceptance,
            route: d.route,
            explanation: d.explanation,
        }
    }
}

impl Fate {
    /// True when accepted.
    pub fn accepted(&self) -> bool {
        self.acceptance == Acceptance::Accepted
    }

    /// `same-file`, `no-itl`, `rollback-itl`, `signer-in-itl`, `via-tvs`, or none.
    pub fn via(&self) -> Option<&'static str> {
        self.route.map(trust::Route::as_str)
    }
}

/// What brings phones back that a step left unable to trust the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// `utils itl reset localkey`: the ITLRecovery key the phones hold still signs.
    ItlReset,
    /// Nothing the cluster can do: delete the ITL on each phone (or restore the old keys).
    ManualDeletion,
}

impl Recovery {
    /// One line for the report.
    pub fn text(self) -> &'static str {
        match self {
            Recovery::ItlReset => {
                "recoverable without touching the phones: utils itl reset localkey (the ITLRecovery key the phones hold still signs), then reset them"
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
}

/// A sequence of steps and its outcome for phones that follow it online.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// The steps.
    pub steps: Vec<StepOutcome>,
    /// True when every step is accepted.
    pub safe: bool,
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
}

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

/// What a phone holding `held` does with what `next` serves, when its TVS is `tvs_cluster`'s.
fn judge(
    held: &HeldNow<'_>,
    next: &Cluster,
    tvs_cluster: &Cluster,
) -> (Fate, Fate, Option<PlannedItl>) {
    let planned_view;
    let held_list: Option<&TrustList<'_>> = match held {
        HeldNow::Real(l) => Some(l),
        HeldNow::Planned(p) => {
            planned_view = p.view();
            Some(&planned_view)
        }
        HeldNow::Nothing => None,
    };
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
        presents: &tvs_cluster.tvs,
        knows: tvs_cluster.tvs_knows(),
        signer,
    };
    let itl = trust::decide(
        &held_arg,
        &Offered {
            bytes: &next_itl.identity,
            header: &itl_header,
            kind: Kind::TrustList,
            what: "the next ITL",
        },
        &PlannedVerifier {
            signed_with: signer,
        },
        &tvs,
    );
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
        presents: &tvs_cluster.tvs,
        knows: tvs_cluster.tvs_knows(),
        signer: cm,
    };
    // While rollback is set the phone that took the empty ITL accepts any config: the shared
    // decision says so from the held (rollback) list, as it does for a capture.
    let config = trust::decide(
        &effective,
        &Offered {
            bytes: &config_bytes,
            header: &config_header,
            kind: Kind::Config,
            what: "the signed config",
        },
        &PlannedVerifier { signed_with: cm },
        &config_tvs,
    );
    (itl.into(), config.into(), accepted.then_some(next_itl))
}

/// Can phones stuck on `held` come back with `utils itl reset localkey` on `cluster`?
fn reset_recovers(held: &HeldNow<'_>, cluster: &Cluster) -> bool {
    let mut generation = 0;
    let reset = Step::ItlReset.apply(cluster, &mut generation);
    if reset.signer != ItlSigner::ItlRecovery {
        return false;
    }
    let (itl, config, _) = judge(held, &reset, &reset);
    itl.accepted() && config.accepted()
}

fn recovery(held: &HeldNow<'_>, cluster: &Cluster) -> Recovery {
    if reset_recovers(held, cluster) {
        Recovery::ItlReset
    } else {
        Recovery::ManualDeletion
    }
}

const WAIT: &str = "wait until every phone has downloaded the new ITL (CUCM 14's ITL File Status, or each phone's Trust List hash)";
const KEEP_TVS: &str = "keeping the TVS certificate unchanged until then: the phones take this ITL only because TVS vouches for its signer";

/// The cluster the phones end on, and the last state of their own cluster (whose TVS a phone
/// moved elsewhere still asks).
#[derive(Clone)]
struct End {
    last: Cluster,
    home: Cluster,
}

/// Runs `steps` for phones that start holding `start` on cluster `before`, online throughout.
fn run(start: &TrustList<'_>, before: &Cluster, steps: &[Step]) -> (Sequence, End) {
    let mut cluster = before.clone();
    let mut home = before.clone();
    let mut held = HeldNow::Real(start);
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
        let (itl, config, taken) = judge(&held, &next, tvs_cluster);
        let stranded = !(itl.accepted() && config.accepted());
        let recovery = stranded.then(|| recovery(&held, &next));
        safe &= !stranded;
        if let Some(list) = taken {
            held = HeldNow::Planned(list);
        }
        // Phones that take this ITL only through TVS need TVS as it is until all have it.
        let via_tvs = itl.route == Some(trust::Route::ViaTvs);
        // Nothing to wait for when the step leaves the ITL as it was (a Bulk Certificate
        // Management import changes only what TVS knows).
        let itl_changed = next.itl() != cluster.itl();
        let wait = match (i + 1 < steps.len() && itl_changed, via_tvs) {
            (true, false) => Some(format!("{WAIT} before the next step")),
            (true, true) => Some(format!("{WAIT} before the next step, {KEEP_TVS}")),
            (false, true) => Some(format!("{WAIT}, {KEEP_TVS}")),
            (false, false) => None,
        };
        outcomes.push(StepOutcome {
            number: i + 1,
            action: step.describe(),
            itl,
            config,
            stranded,
            recovery,
            wait,
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
        },
        End {
            last: cluster,
            home,
        },
    )
}

/// One change per certificate: regenerating or replacing the same one twice is one change
/// given twice (a usage error), and the safe-order search tries every order of the
/// per-certificate changes, so this also bounds it (4 roles: at most 24 orders, whatever a
/// command line repeats).
pub fn distinct_certificates(changes: &[Change]) -> Result<(), String> {
    let mut roles = Vec::new();
    for c in changes {
        if let Change::Regenerate(r) | Change::Replace(r, _) = c {
            if roles.contains(r) {
                return Err(format!(
                    "{} is changed twice: give each certificate once (--regenerate or --replace)",
                    r.name()
                ));
            }
            roles.push(*r);
        }
    }
    Ok(())
}

/// Candidate orders, most direct first: one certificate at a time in every order, then the
/// documented preparations (Bulk Certificate Management for a move, rollback around a rename
/// or whatever else).
fn candidates(changes: &[Change]) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let singles: Vec<&Change> = changes
        .iter()
        .filter(|c| matches!(c, Change::Regenerate(_) | Change::Replace(..)))
        .collect();
    let others: Vec<&Change> = changes
        .iter()
        .filter(|c| !matches!(c, Change::Regenerate(_) | Change::Replace(..)))
        .collect();
    let ordered: Vec<Step> = {
        let mut s: Vec<&Change> = singles.clone();
        s.sort_by_key(|c| match c {
            Change::Regenerate(r) | Change::Replace(r, _) => Role::ALL.iter().position(|x| x == r),
            _ => None,
        });
        let mut steps: Vec<Step> = s
            .into_iter()
            .map(|c| Step::Apply(vec![c.clone()]))
            .collect();
        steps.extend(others.iter().map(|c| Step::Apply(vec![(*c).clone()])));
        steps
    };
    if singles.len() > 1 {
        for perm in permutations(singles.len()) {
            let mut steps: Vec<Step> = perm
                .iter()
                .map(|&i| Step::Apply(vec![singles[i].clone()]))
                .collect();
            steps.extend(others.iter().map(|c| Step::Apply(vec![(*c).clone()])));
            out.push(steps);
        }
    } else {
        out.push(ordered.clone());
    }
    if let Some(Change::MoveTo(target)) = changes.iter().find(|c| matches!(c, Change::MoveTo(_))) {
        let mut steps = vec![Step::BulkImport(target.clone())];
        steps.extend(ordered.iter().cloned());
        out.push(steps);
    }
    let mut around = vec![Step::Rollback(true)];
    around.extend(ordered.iter().cloned());
    around.push(Step::Rollback(false));
    out.push(around);
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

/// Plans `changes` for the phones holding `phone_itl`.
pub fn plan(phone: &PhoneItl<'_>, changes: &[Change]) -> Result<PlanReport, String> {
    let phone_itl = phone.list;
    if changes.is_empty() {
        return Err("no change given: --regenerate ROLE, --replace ROLE=CERT, --hostname NEW or --move-to ITL".to_owned());
    }
    distinct_certificates(changes)?;
    let before = Cluster::from_trust_list(phone_itl, 0)?;
    let (as_requested, requested_end) = run(phone_itl, &before, &[Step::Apply(changes.to_vec())]);
    let safe = if as_requested.safe {
        Some((as_requested.clone(), requested_end.clone()))
    } else {
        candidates(changes)
            .into_iter()
            .map(|steps| run(phone_itl, &before, &steps))
            .find(|(seq, _)| seq.safe)
    };
    let end = safe.as_ref().map_or(&requested_end, |(_, e)| e);
    let final_cluster = &end.last;
    // Offline phones meet only the final state; after a move their TVS is still their old
    // cluster's, as the steps left it (with what Bulk Certificate Management imported).
    let tvs_cluster = &end.home;
    let held = HeldNow::Real(phone_itl);
    let (itl, config, _) = judge(&held, final_cluster, tvs_cluster);
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
        recovery: (!offline_ok).then(|| recovery(&held, final_cluster)),
        itl,
        config,
    });
    let (itl, config, _) = judge(&HeldNow::Nothing, final_cluster, final_cluster);
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
        change: changes.iter().map(Change::describe).collect(),
        as_requested,
        safe_order: safe.map(|(s, _)| s),
        populations,
        manual_deletion_steps,
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
        }
    }

    #[test]
    fn a_second_node_whose_tvs_is_unchanged_vouches_during_a_double_regeneration() {
        // domain.md: "Multi-node clusters survive if other TVS nodes keep their certificates."
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
        assert!(report.as_requested.safe);
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
