//! Per-phone diagnosis: groups evidence by phone, runs the checks, and decides whether the
//! phone's ITL must be deleted (only when all four conditions of Cisco's guidance hold).
//!
//! A pure function of the evidence and what the engineer knows: [`diagnose`]. No byte
//! parsing happens here; trust lists are read through [`trust::TrustBackend`].

pub mod checks;
pub mod context;
pub mod device;
pub mod facts;
pub mod inventory;
pub mod loops;
pub mod loss_index;
pub mod losses;
pub mod model;
pub mod names;
pub mod outside;
pub mod phone;
pub mod reason;
pub mod side;
pub mod status_codes;
pub mod timeline;
pub mod trust;
pub mod trust_path;
pub mod verdict;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
pub(crate) mod tests;

pub use facts::{
    HashAlgorithm, ItlHash, KeyBackup, OperatorFacts, PhoneItlError, PhoneItlFile, PhoneStatus,
    ScopedInputs, split_scope,
};
pub use model::{
    Acceptance, Check, Condition, Conditions, DeleteItl, Diagnosis, EvidenceItem, NextStep,
    PhoneDiagnosis, Status, TimelineEvent, TrustPath, Verdict,
};

use crate::cisco::model::SignatureCheck;
use crate::evidence::Evidence;
use context::{InstalledFile, PhoneCtx, PhoneInputs};
use facts::Hashes;
use model::{InstalledItl, ServedItl};
use phone::PhoneEvidence;
use trust::{CiscoBackend, TrustBackend};

/// Phones diagnosed at most by default: a voice VLAN has hundreds; a capture with more
/// "phones" is mostly something else, and each diagnosis costs memory.
pub const DEFAULT_MAX_PHONES: usize = 10_000;

/// Limits that bound the diagnosis whatever the evidence holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Phones diagnosed at most (the first seen); a note says how many were left out.
    pub max_phones: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_phones: DEFAULT_MAX_PHONES,
        }
    }
}

/// Diagnoses every phone in the evidence with the real trust-list backend.
pub fn diagnose(evidence: &Evidence, facts: &OperatorFacts) -> Diagnosis {
    diagnose_limited(evidence, facts, &CiscoBackend, Limits::default())
}

/// Diagnoses every phone, reading trust lists through `backend`.
pub fn diagnose_with(
    evidence: &Evidence,
    facts: &OperatorFacts,
    backend: &dyn TrustBackend,
) -> Diagnosis {
    diagnose_limited(evidence, facts, backend, Limits::default())
}

/// Diagnoses up to `limits.max_phones` phones, reading trust lists through `backend`.
pub fn diagnose_limited<'a>(
    evidence: &'a Evidence,
    facts: &'a OperatorFacts,
    backend: &'a dyn TrustBackend,
    limits: Limits,
) -> Diagnosis {
    Prepared::new(evidence, facts, backend, limits).into_diagnosis()
}

/// The inputs (`--phone-itl`, `--phone-ctl`) parsed once, for one scope.
type ScopedFiles<'a> = (
    &'a ScopedInputs,
    Option<InstalledFile<'a>>,
    Option<InstalledFile<'a>>,
);

/// Everything the diagnosis needs before the first phone: the phones grouped, the inputs
/// parsed, the notes about the whole analysis. Each phone is then diagnosed on demand
/// ([`Prepared::phones`]), so a report can be written phone by phone and a fleet never
/// holds every phone's diagnosis at once (issue 20, fleet scale). [`Prepared::into_diagnosis`]
/// gives the same [`Diagnosis`] as diagnosing them all.
pub struct Prepared<'a> {
    evidence: &'a Evidence,
    facts: &'a OperatorFacts,
    backend: &'a dyn TrustBackend,
    /// The signature checks made, kept for the next pass over the phones (the text report
    /// and several outputs diagnose each phone more than once).
    memo: Memo<'a>,
    groups: Vec<PhoneEvidence>,
    notes: Vec<String>,
    unscoped_itl: Option<InstalledFile<'a>>,
    unscoped_ctl: Option<InstalledFile<'a>>,
    scoped: Vec<ScopedFiles<'a>>,
    unscoped_apply: bool,
}

impl<'a> Prepared<'a> {
    /// Groups the evidence by phone (up to `limits.max_phones`) and parses the inputs; no
    /// phone is diagnosed yet.
    pub fn new(
        evidence: &'a Evidence,
        facts: &'a OperatorFacts,
        backend: &'a dyn TrustBackend,
        limits: Limits,
    ) -> Self {
        let (groups, mut notes) = phone::group(evidence, limits.max_phones);
        // Each file is parsed once, whichever phones it is for.
        let parse = |f: &'a PhoneItlFile| {
            let parsed = backend.parse_trust_list(&f.bytes);
            // A copy whose own signature fails is not what a phone holds: shown, not believed.
            let untrusted = match parsed.as_ref().map(|l| backend.verify_trust_list(l)) {
                Ok(SignatureCheck::Invalid { reason }) => Some(format!(
                    "its own signature does not verify ({reason}): a damaged or edited copy is not taken for what the phone holds"
                )),
                _ => None,
            };
            InstalledFile {
                name: &f.name,
                bytes: &f.bytes,
                hashes: Hashes::of(&f.bytes),
                parsed,
                untrusted,
            }
        };
        let unscoped_itl = facts.phone_itl.as_ref().map(parse);
        let unscoped_ctl = facts.phone_ctl.as_ref().map(parse);
        let scoped: Vec<ScopedFiles<'a>> = facts
            .scoped
            .iter()
            .map(|s| {
                (
                    s,
                    s.phone_itl.as_ref().map(parse),
                    s.phone_ctl.as_ref().map(parse),
                )
            })
            .collect();
        // Unscoped inputs are about "the phone": with several phones they apply to none, so one
        // phone's hash or status never decides another's verdict.
        let unscoped_given = facts.phone_itl.is_some()
            || facts.phone_ctl.is_some()
            || facts.phone_itl_hash.is_some()
            || facts.phone_status != PhoneStatus::Unknown;
        let unscoped_apply = groups.len() == 1;
        if unscoped_given && groups.len() > 1 {
            notes.push(format!(
                "--phone-itl, --phone-itl-hash, --phone-status and --phone-ctl given without a phone apply to none of the {} phones of the capture: name the phone (e.g. --phone-status SEP{}=failed)",
                groups.len(),
                groups
                    .iter()
                    .find_map(|g| g.mac.clone())
                    .unwrap_or_else(|| "<MAC>".into())
            ));
        }
        let absent: Vec<&str> = scoped
            .iter()
            .map(|(s, _, _)| s.mac.as_str())
            .filter(|mac| !groups.iter().any(|g| g.mac.as_deref() == Some(*mac)))
            .collect();
        match absent.as_slice() {
            [] => {}
            [one] => notes.push(format!(
                "inputs given for SEP{one} apply to no phone: that MAC is not in the capture"
            )),
            many => {
                // An inventory of a whole fleet against a capture of part of it: one note that
                // lists them, not one line per absent phone.
                let shown: Vec<String> = many.iter().take(20).map(|m| format!("SEP{m}")).collect();
                let more = many.len() - shown.len();
                notes.push(format!(
                    "inputs given for {} phones apply to no phone: those MACs are not in the capture: {}{}",
                    many.len(),
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                ));
            }
        }
        let mut prepared = Prepared {
            evidence,
            facts,
            backend,
            memo: Memo::new(backend),
            groups,
            notes,
            unscoped_itl,
            unscoped_ctl,
            scoped,
            unscoped_apply,
        };
        let mut disagreements = Vec::new();
        for group in &prepared.groups {
            let inputs = prepared.inputs_of(group);
            if let (Some(file), Some(hash)) = (inputs.itl_file, inputs.itl_hash)
                && file.hashes.get(hash.algorithm) != hash.hex
            {
                disagreements.push(format!(
                    "warning: --phone-itl-hash {hash} disagrees with --phone-itl {} ({} {}): one of them is not the phone's ITL; a condition they decide differently is unknown",
                    file.name,
                    hash.algorithm.as_str(),
                    file.hashes.get(hash.algorithm)
                ));
            }
        }
        prepared.notes.extend(disagreements);
        if !prepared.backend.available() {
            prepared.notes.push(
                "trust lists and signed files could not be parsed in this build: the checks that need them say unknown".into(),
            );
        }
        let outside_notes = side::notes(facts, &prepared.groups);
        prepared.notes.extend(outside_notes);
        prepared
    }

    /// The inputs that apply to `group`'s phone.
    fn inputs_of(&self, group: &PhoneEvidence) -> PhoneInputs<'_> {
        if let Some((s, itl, ctl)) = self
            .scoped
            .iter()
            .find(|(s, _, _)| group.mac.as_deref() == Some(s.mac.as_str()))
        {
            return PhoneInputs {
                itl_file: itl.as_ref(),
                ctl_file: ctl.as_ref(),
                itl_hash: s.phone_itl_hash.as_ref(),
                status: s.phone_status,
            };
        }
        if self.unscoped_apply {
            PhoneInputs {
                itl_file: self.unscoped_itl.as_ref(),
                ctl_file: self.unscoped_ctl.as_ref(),
                itl_hash: self.facts.phone_itl_hash.as_ref(),
                status: self.facts.phone_status,
            }
        } else {
            PhoneInputs::default()
        }
    }

    /// How many phones will be diagnosed.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when the evidence holds no phone.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The evidence of each phone, in report order.
    pub fn groups(&self) -> &[PhoneEvidence] {
        &self.groups
    }

    /// Remarks about the whole analysis (the same as [`Diagnosis::notes`]).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// What was read from each `--evidence` file (the same as [`Diagnosis::evidence_files`]).
    pub fn evidence_files(&self) -> &[crate::sidecar::IngestedFile] {
        &self.facts.side.files
    }

    /// Diagnoses the phone at `index` (in report order); `None` past the last.
    pub fn diagnose(&self, index: usize) -> Option<PhoneDiagnosis> {
        let group = self.groups.get(index)?;
        let ctx = PhoneCtx::new(
            self.evidence,
            self.facts,
            &self.memo,
            group,
            self.inputs_of(group),
        );
        Some(diagnose_phone(&ctx))
    }

    /// Each phone's diagnosis, made when asked for and owned by the caller, in report order.
    pub fn phones(&self) -> impl Iterator<Item = PhoneDiagnosis> + '_ {
        (0..self.groups.len()).filter_map(|i| self.diagnose(i))
    }

    /// Every phone diagnosed and held: the whole [`Diagnosis`].
    pub fn into_diagnosis(self) -> Diagnosis {
        let phones = self.phones().collect();
        Diagnosis {
            phones,
            notes: self.notes,
            evidence_files: self.facts.side.files.clone(),
        }
    }
}

/// Bytes known by where they lie, how long they are and a hash of what they hold (a
/// pointer alone could be a freed buffer's, reused).
type BytesKey = (usize, usize, u64);

fn bytes_key(bytes: &[u8]) -> BytesKey {
    use std::hash::BuildHasher as _;
    let hash = foldhash::fast::FixedState::with_seed(0x1715_c0de).hash_one(bytes);
    (bytes.as_ptr() as usize, bytes.len(), hash)
}

/// A backend that remembers its signature checks (RSA, the dearest part of a phone's
/// diagnosis) by the bytes checked: a report that diagnoses each phone twice or more (the
/// text report's top and sections, several outputs, issue 20) verifies each signature once.
/// Parsing is not remembered: it borrows the bytes and is cheap. Holds one small entry per
/// file checked.
struct Memo<'a> {
    inner: &'a dyn TrustBackend,
    own: std::cell::RefCell<std::collections::HashMap<BytesKey, SignatureCheck>>,
    with_trust: std::cell::RefCell<MemoWithTrust>,
}

/// Checks of a file against a trust list: by the file, the list and the functions allowed.
type MemoWithTrust = std::collections::HashMap<(BytesKey, BytesKey, Vec<u16>), SignatureCheck>;

impl<'a> Memo<'a> {
    fn new(inner: &'a dyn TrustBackend) -> Self {
        Memo {
            inner,
            own: Default::default(),
            with_trust: Default::default(),
        }
    }
}

impl TrustBackend for Memo<'_> {
    fn available(&self) -> bool {
        self.inner.available()
    }
    fn parse_trust_list<'b>(
        &self,
        bytes: &'b [u8],
    ) -> Result<crate::cisco::model::TrustList<'b>, String> {
        self.inner.parse_trust_list(bytes)
    }
    fn parse_signed_file<'b>(
        &self,
        bytes: &'b [u8],
    ) -> Result<crate::cisco::model::SignedFile<'b>, String> {
        self.inner.parse_signed_file(bytes)
    }
    fn verify_trust_list(&self, list: &crate::cisco::model::TrustList<'_>) -> SignatureCheck {
        let key = bytes_key(list.bytes);
        if let Some(done) = self.own.borrow().get(&key) {
            return done.clone();
        }
        let check = self.inner.verify_trust_list(list);
        self.own.borrow_mut().insert(key, check.clone());
        check
    }
}

impl crate::trust::Verifier for Memo<'_> {
    fn verify_with_trust(
        &self,
        file: &[u8],
        header: &crate::cisco::model::Header<'_>,
        trust: &crate::cisco::model::TrustList<'_>,
        allowed_functions: &[u16],
    ) -> SignatureCheck {
        let key = (
            bytes_key(file),
            bytes_key(trust.bytes),
            allowed_functions.to_vec(),
        );
        if let Some(done) = self.with_trust.borrow().get(&key) {
            return done.clone();
        }
        let check = self
            .inner
            .verify_with_trust(file, header, trust, allowed_functions);
        self.with_trust.borrow_mut().insert(key, check.clone());
        check
    }
}

fn diagnose_phone(ctx: &PhoneCtx<'_>) -> PhoneDiagnosis {
    let checks_done = checks::run_all(ctx);
    let path = trust_path::trust_path(ctx);
    let mut all_checks = checks_done;
    all_checks.push(trust_path_check(path.as_ref()));
    all_checks.extend(outside::checks(ctx));
    let transport = loops::find(ctx);
    all_checks.extend(loops::checks(&transport));
    losses::annotate(ctx, &mut all_checks);
    let mut verdict = verdict::verdict(ctx, &all_checks, path.as_ref());
    loops::apply(&transport, &mut verdict);
    let served_itl = ctx.served_itl.as_ref().map(|s| {
        let list = s.parsed.as_ref().ok();
        let signer_record = match &s.signature {
            Some(SignatureCheck::Valid { signer_record }) => Some(*signer_record),
            _ => list.and_then(trust::header_signer),
        };
        ServedItl {
            name: s.file.name.clone(),
            file: s.index,
            capture: s.file.first.capture,
            frame: s.file.first.frame,
            size: s.file.data.len(),
            md5: s.hashes.md5.clone(),
            sha1: s.hashes.sha1.clone(),
            sha256: s.hashes.sha256.clone(),
            parsed: list.is_some(),
            signature_valid: match &s.signature {
                Some(SignatureCheck::Valid { .. }) => Some(true),
                Some(SignatureCheck::Invalid { .. }) => Some(false),
                _ => None,
            },
            signer: list
                .zip(signer_record)
                .map(|(l, r)| trust::describe_record(l, r)),
            rollback: list.is_some_and(|l| trust::is_rollback(l, signer_record)),
        }
    });
    let installed_itl = installed_summary(&ctx.installed);
    let main_reason = reason::main_reason(
        &verdict,
        &all_checks,
        installed_itl.as_ref(),
        served_itl.as_ref(),
    );
    let registration = phone::registration(ctx.group, ctx.evidence);
    let mut device = device::device_info(ctx.files.iter().map(|(_, f, _)| *f));
    // The model an SCCP registration names fills in what no download showed.
    if device.model.is_none() {
        device.model = registration.as_ref().and_then(|r| r.model.clone());
    }
    // Then what its SIP REGISTER says of itself (User-Agent, ActiveLoad).
    let sip_registration = phone::sip_registration(ctx.group, ctx.evidence);
    if let Some(reg) = &sip_registration {
        let said = device::from_sip_registration(reg);
        device.model = device.model.or(said.model);
        device.firmware = device.firmware.or(said.firmware);
    }
    // Then the agent the phone's own console log shows (the last one logged).
    if device.model.is_none() || device.firmware.is_none() {
        let logged = outside::usable_facts(ctx)
            .into_iter()
            .rev()
            .find_map(|f| match &f.kind {
                crate::sidecar::FactKind::UserAgent { agent } => Some(agent.as_str()),
                _ => None,
            });
        if let Some(agent) = logged {
            let (model, firmware) = device::from_user_agent(agent);
            device.model = device.model.or(model);
            device.firmware = device.firmware.or(firmware);
        }
    }
    let mut ips = ctx.group.ips.iter().copied();
    PhoneDiagnosis {
        mac: ctx.group.mac.clone(),
        ip: ips.next(),
        other_ips: ips.collect(),
        verdict,
        checks: all_checks,
        trust_path: path,
        installed_itl,
        served_itl,
        timeline: timeline::timeline(ctx),
        reported: outside::reported_timeline(ctx),
        files: ctx.group.files.clone(),
        tls: ctx.group.tls.clone(),
        alarms: ctx.group.alarms.clone(),
        device,
        registration,
        sip_registration,
        main_reason,
    }
}

fn installed_summary(installed: &context::Installed<'_>) -> Option<InstalledItl> {
    use context::Installed;
    match installed {
        Installed::Unknown => None,
        Installed::File(f) => Some(InstalledItl {
            source: "phone-itl-file",
            not_installed: false,
            hash_algorithm: Some("sha1"),
            hash: Some(f.hashes.sha1.clone()),
            capture: None,
            frame: None,
        }),
        Installed::OperatorHash(h) => Some(InstalledItl {
            source: "phone-itl-hash",
            not_installed: false,
            hash_algorithm: Some(h.algorithm.as_str()),
            hash: Some(h.hex.clone()),
            capture: None,
            frame: None,
        }),
        Installed::AlarmHash { hash, alarm } => Some(InstalledItl {
            source: "device-tl-info",
            not_installed: false,
            hash_algorithm: Some(hash.algorithm.as_str()),
            hash: Some(hash.hex.clone()),
            capture: Some(alarm.seen.capture),
            frame: Some(alarm.seen.frame),
        }),
        Installed::Reported { hash, .. } => Some(InstalledItl {
            source: "evidence-file",
            not_installed: false,
            hash_algorithm: Some(hash.algorithm.as_str()),
            hash: Some(hash.hex.clone()),
            capture: None,
            frame: None,
        }),
        Installed::ReportedNone(_) => Some(InstalledItl {
            source: "evidence-file",
            not_installed: true,
            hash_algorithm: None,
            hash: None,
            capture: None,
            frame: None,
        }),
        Installed::NotInstalled(alarm) => Some(InstalledItl {
            source: "device-tl-info",
            not_installed: true,
            hash_algorithm: None,
            hash: None,
            capture: Some(alarm.seen.capture),
            frame: Some(alarm.seen.frame),
        }),
    }
}

/// The trust path as a check: pass when the phone accepts both, fail when it rejects either.
fn trust_path_check(path: Option<&TrustPath>) -> Check {
    let Some(path) = path else {
        return Check {
            id: "trust-path",
            status: Status::Unknown,
            explanation: "the phone's installed ITL is not known: give --phone-itl FILE to trace whether it would accept the served ITL and config".into(),
            flags: Vec::new(),
            evidence: Vec::new(),
        };
    };
    let status = match (path.itl.acceptance, path.config.acceptance) {
        (Acceptance::Rejected, _) | (_, Acceptance::Rejected) => Status::Fail,
        (Acceptance::Accepted, Acceptance::Accepted) => Status::Pass,
        _ => Status::Unknown,
    };
    let mut flags = Vec::new();
    if path.itl.via == Some("via-tvs") || path.config.via == Some("via-tvs") {
        flags.push("accepted-via-tvs");
    }
    Check {
        id: "trust-path",
        status,
        explanation: format!(
            "served ITL {}: {}; config {}: {}",
            path.itl.acceptance.as_str(),
            path.itl.explanation,
            path.config.acceptance.as_str(),
            path.config.explanation
        ),
        flags,
        evidence: vec![EvidenceItem::note(format!(
            "installed ITL known from {}",
            path.basis
        ))],
    }
}
