//! `itlscope diff OLD NEW`: what changed between two trust lists (signer, digest algorithm,
//! records) and the one line that matters: would a phone holding OLD accept NEW directly,
//! only through TVS, or not at all. The answer comes from [`crate::trust::decide`], the
//! decision `analyze`, `verify` and `plan` use, so the four cannot disagree.
//!
//! Either side may be the file or CUCM `show itl` / `show ctl` text read by
//! [`crate::plan::show_itl`]; text carries no keys, so certificates are then matched by
//! SHA-1 ([`PlannedVerifier`]) as `plan` does. What a TVS would answer is not in the files:
//! "only through TVS" names OLD's TVS records and stays undetermined.

use crate::cisco::model::{TrustList, function};
use crate::cisco::serial_hex;
use crate::plan::cluster::{CertId, PlannedVerifier};
use crate::trust::records::{describe_record, header_signer, normalise_dn};
use crate::trust::{self, Acceptance, Decision, Held, Kind, Offered, Route, TvsWitness};
use serde::Serialize;
use std::cell::RefCell;

/// One side of the comparison as read from its input.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// How reports name it (the path given).
    pub name: &'a str,
    /// The trust list (for text, [`crate::plan::cluster::PlannedItl::view`]).
    pub list: &'a TrustList<'a>,
    /// `Some` when the input was `show itl` / `show ctl` text.
    pub text: Option<TextSide<'a>>,
}

/// What `show itl` text adds: the signing certificate and the checksum CUCM printed.
#[derive(Debug, Clone, Copy)]
pub struct TextSide<'a> {
    /// The record that says "This etoken was used to sign the … file".
    pub signer: &'a CertId,
    /// `The checksum value of the … file` (SHA-1), when printed.
    pub sha1: Option<&'a str>,
}

/// MD5, SHA-1 and SHA-256 of a file, lower-case hex (what the phone and CUCM print).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Hashes {
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
}

impl Hashes {
    /// The hashes of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha1::Digest as _;
        Hashes {
            md5: hex::encode(md5::Md5::digest(bytes)),
            sha1: hex::encode(sha1::Sha1::digest(bytes)),
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }
}

/// A side in the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SideSummary {
    /// The path given.
    pub file: String,
    /// `file` or `show-text` (CUCM `show itl` / `show ctl` output).
    pub input: &'static str,
    /// `itl` or `ctl`.
    pub format: &'static str,
    /// Number of records.
    pub records: usize,
    /// The file's hashes; null for text (its bytes are not there).
    pub hashes: Option<Hashes>,
    /// For text, the SHA-1 CUCM printed for the file, when printed.
    pub printed_sha1: Option<String>,
}

/// Who signs one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Signer {
    /// Header SIGNERNAME (text: the signing record's subject).
    pub name: Option<String>,
    /// Header serial, hex.
    pub serial: Option<String>,
    /// The record the header names (SAST role), e.g. `record #1 SAST CN=… serial …`;
    /// null when no record matches.
    pub record: Option<String>,
}

/// Signer of both sides.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SignerChange {
    /// Name or serial differ.
    pub changed: bool,
    /// OLD's signer.
    pub old: Signer,
    /// NEW's signer.
    pub new: Signer,
}

/// Digest algorithm (header tag 8) of both sides; null where unknown (`show itl` text does
/// not print it).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DigestChange {
    /// OLD's: `sha1`, `sha256`, `sha512` or `unknown(N)`.
    pub old: Option<String>,
    /// NEW's.
    pub new: Option<String>,
    /// Null when either side is unknown.
    pub changed: Option<bool>,
}

/// One certificate of a list and the records holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Entry {
    /// Record numbers (1-based, file order).
    pub records: Vec<usize>,
    /// Their roles: `SAST`, `CCM+TFTP`, `TVS`, ….
    pub roles: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Serial, hex.
    pub serial: String,
    /// SHA-1 of the certificate (CERTHASH, or of the DER), when known.
    pub sha1: Option<String>,
}

/// How a certificate differs between the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Only in NEW.
    Added,
    /// Only in OLD.
    Removed,
    /// Same roles and subject, another certificate (regenerated: new serial and hash).
    Replaced,
    /// Same certificate, other roles.
    Roles,
}

/// One difference in the records.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RecordChange {
    /// What changed.
    pub change: ChangeKind,
    /// In OLD (null when added).
    pub old: Option<Entry>,
    /// In NEW (null when removed).
    pub new: Option<Entry>,
}

/// The answer in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// NEW is the very list OLD is.
    Identical,
    /// Signed by a record of OLD allowed to sign it (or OLD is a rollback ITL).
    Directly,
    /// Only a TVS of OLD could vouch; whether it knows NEW's signer is not in the files.
    OnlyThroughTvs,
    /// Rejected.
    NotAtAll,
    /// Cannot tell (signature not checkable, or ITL against CTL).
    Undetermined,
}

/// Would a phone holding OLD accept NEW?
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// The answer.
    pub answer: Answer,
    /// What the trust decision says: `accepted`, `rejected` or `undetermined`.
    pub acceptance: Acceptance,
    /// For `only-through-tvs`: OLD's TVS records that could vouch (CN and serial).
    pub tvs: Vec<String>,
    /// The sentence: "a phone holding OLD accepts NEW directly (…)".
    pub line: String,
    /// The trust decision's explanation.
    pub explanation: String,
}

/// `itlscope diff --json` (docs/schema/diff.schema.json).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DiffReport {
    /// OLD.
    pub old: SideSummary,
    /// NEW.
    pub new: SideSummary,
    /// The same list: equal bytes, or equal SHA-1 (CUCM's printed checksum for text);
    /// null when two texts without a printed checksum do not say.
    pub identical: Option<bool>,
    /// Signers.
    pub signer: SignerChange,
    /// Digest algorithms.
    pub digest: DigestChange,
    /// Certificates added, removed, replaced or with other roles, matched by certificate
    /// (SHA-1, else serial and issuer).
    pub records: Vec<RecordChange>,
    /// Certificates in both with the same roles.
    pub unchanged: usize,
    /// The line that matters.
    pub verdict: Verdict,
}

/// The JSON Schema of [`DiffReport`].
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(DiffReport)
}

fn summary(side: &Side<'_>) -> SideSummary {
    SideSummary {
        file: side.name.to_owned(),
        input: if side.text.is_some() {
            "show-text"
        } else {
            "file"
        },
        format: side.list.format.as_str(),
        records: side.list.records.len(),
        hashes: side.text.is_none().then(|| Hashes::of(side.list.bytes)),
        printed_sha1: side.text.and_then(|t| t.sha1.map(str::to_ascii_lowercase)),
    }
}

fn signer_of(side: &Side<'_>) -> Signer {
    let h = &side.list.header;
    Signer {
        name: h
            .signer_name
            .map(|n| String::from_utf8_lossy(n).trim().to_owned()),
        serial: h.signer_serial.map(serial_hex),
        record: header_signer(side.list).map(|i| describe_record(side.list, i)),
    }
}

fn digest_of(side: &Side<'_>) -> Option<String> {
    // PlannedItl's header says SHA-1 for any text; `show itl` does not print the digest.
    if side.text.is_some() {
        return None;
    }
    Some(crate::cisco::verify::digest_name(
        side.list.header.digest_algorithm,
    ))
}

/// A certificate of a list: its identity and the records holding it.
struct Group {
    cert: CertId,
    entry: Entry,
}

fn groups(list: &TrustList<'_>) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for (i, r) in list.records.iter().enumerate() {
        let cert = CertId::from_record(r);
        let role = r
            .function
            .map(function::name)
            .unwrap_or_else(|| "no role".to_owned());
        // A rollback ITL's empty records have no identity: each stands alone.
        let has_identity = cert.sha1.is_some() || !cert.serial.is_empty();
        if has_identity && let Some(g) = out.iter_mut().find(|g| g.cert.same_cert(&cert)) {
            g.entry.records.push(i + 1);
            if !g.entry.roles.contains(&role) {
                g.entry.roles.push(role);
            }
            continue;
        }
        let subject = crate::dn::of_record(r.subject, r.certificate, crate::dn::Which::Subject)
            .or_else(|| r.dns_name.map(|s| String::from_utf8_lossy(s).into_owned()))
            .unwrap_or_else(|| "(no subject)".to_owned());
        out.push(Group {
            entry: Entry {
                records: vec![i + 1],
                roles: vec![role],
                subject,
                serial: if cert.serial.is_empty() {
                    "?".to_owned()
                } else {
                    serial_hex(&cert.serial)
                },
                sha1: cert.sha1.as_deref().map(hex::encode),
            },
            cert,
        });
    }
    out
}

fn has_identity(c: &CertId) -> bool {
    c.sha1.is_some() || !c.serial.is_empty()
}

fn same_roles(a: &Entry, b: &Entry) -> bool {
    let mut x = a.roles.clone();
    let mut y = b.roles.clone();
    x.sort();
    y.sort();
    x == y
}

/// The record differences and the number of certificates unchanged.
fn record_changes(old: &TrustList<'_>, new: &TrustList<'_>) -> (Vec<RecordChange>, usize) {
    let old_groups = groups(old);
    let new_groups = groups(new);
    let mut new_used = vec![false; new_groups.len()];
    let mut old_left = Vec::new();
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for o in &old_groups {
        let found = new_groups
            .iter()
            .enumerate()
            .position(|(j, n)| !new_used[j] && has_identity(&o.cert) && n.cert.same_cert(&o.cert));
        match found {
            Some(j) => {
                new_used[j] = true;
                let n = &new_groups[j];
                if same_roles(&o.entry, &n.entry) {
                    unchanged += 1;
                } else {
                    changes.push(RecordChange {
                        change: ChangeKind::Roles,
                        old: Some(o.entry.clone()),
                        new: Some(n.entry.clone()),
                    });
                }
            }
            None => old_left.push(o),
        }
    }
    // Another certificate in the same roles under the same name: regenerated.
    let mut removed = Vec::new();
    for o in old_left {
        let pair = new_groups.iter().enumerate().position(|(j, n)| {
            !new_used[j]
                && same_roles(&o.entry, &n.entry)
                && normalise_dn(&o.entry.subject) == normalise_dn(&n.entry.subject)
        });
        match pair {
            Some(j) => {
                new_used[j] = true;
                let n = &new_groups[j];
                if !has_identity(&o.cert) && !has_identity(&n.cert) {
                    unchanged += 1;
                } else {
                    changes.push(RecordChange {
                        change: ChangeKind::Replaced,
                        old: Some(o.entry.clone()),
                        new: Some(n.entry.clone()),
                    });
                }
            }
            None => removed.push(RecordChange {
                change: ChangeKind::Removed,
                old: Some(o.entry.clone()),
                new: None,
            }),
        }
    }
    changes.extend(removed);
    for (j, n) in new_groups.iter().enumerate() {
        if !new_used[j] {
            changes.push(RecordChange {
                change: ChangeKind::Added,
                old: None,
                new: Some(n.entry.clone()),
            });
        }
    }
    (changes, unchanged)
}

/// The TVS answer is not in the files: records which TVS could vouch and leaves it
/// undetermined.
struct FilesOnly<'n> {
    /// How OLD is named.
    held: &'n str,
    asked: RefCell<Option<Vec<String>>>,
}

impl TvsWitness for FilesOnly<'_> {
    fn vouch(
        &self,
        held: &TrustList<'_>,
        tvs: &[usize],
        offered: &Offered<'_>,
        why: &str,
    ) -> Decision {
        let names: Vec<String> = tvs
            .iter()
            .filter_map(|&i| held.records.get(i))
            .map(|r| CertId::from_record(r).label())
            .collect();
        let text = names.join(", ");
        *self.asked.borrow_mut() = Some(names);
        Decision::undetermined(format!(
            "{}'s signer is not in {} ({why}): only its TVS {text} could vouch for it, and what TVS answers is not in the files",
            offered.what, self.held
        ))
    }
}

fn identical(old: &Side<'_>, new: &Side<'_>) -> Option<bool> {
    let sha1 = |s: &Side<'_>| match s.text {
        Some(t) => t.sha1.map(str::to_ascii_lowercase),
        None => Some(Hashes::of(s.list.bytes).sha1),
    };
    match (old.text, new.text) {
        (None, None) => Some(old.list.bytes == new.list.bytes),
        _ => match (sha1(old), sha1(new)) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        },
    }
}

fn verdict(old: &Side<'_>, new: &Side<'_>, same: Option<bool>) -> Verdict {
    let (o, n) = (old.name, new.name);
    if same == Some(true) {
        return Verdict {
            answer: Answer::Identical,
            acceptance: Acceptance::Accepted,
            tvs: Vec::new(),
            line: format!("a phone holding {o} already holds {n}: identical"),
            explanation: "the same trust list".to_owned(),
        };
    }
    if old.list.format != new.list.format {
        return Verdict {
            answer: Answer::Undetermined,
            acceptance: Acceptance::Undetermined,
            tvs: Vec::new(),
            line: format!(
                "not compared: {o} is an {} and {n} a {}; a phone checks a new trust list against the one of its kind",
                old.list.format.as_str().to_uppercase(),
                new.list.format.as_str().to_uppercase()
            ),
            explanation: String::new(),
        };
    }
    let what = n.to_owned();
    let offered = Offered {
        bytes: new.list.bytes,
        header: &new.list.header,
        kind: Kind::TrustList,
        what: &what,
    };
    let held = Held::List {
        list: old.list,
        label: o,
    };
    let witness = FilesOnly {
        held: o,
        asked: RefCell::new(None),
    };
    // Text has no keys: match NEW's signing certificate by SHA-1 as `plan` does. A file's
    // signing certificate is the record its own signature verifies with.
    let new_signer = match new.text {
        Some(t) => Some(t.signer.clone()),
        None => {
            let record = match trust::own_signature(new.list, &trust::RsaVerifier) {
                crate::cisco::model::SignatureCheck::Valid { signer_record } => Some(signer_record),
                _ => header_signer(new.list),
            };
            record
                .and_then(|i| new.list.records.get(i))
                .map(CertId::from_record)
        }
    };
    let decision = match (&old.text, &new_signer) {
        (None, _) if new.text.is_none() => {
            trust::decide(&held, &offered, &trust::RsaVerifier, &witness)
        }
        (_, Some(signer)) => trust::decide(
            &held,
            &offered,
            &PlannedVerifier {
                signed_with: signer,
            },
            &witness,
        ),
        (_, None) => trust::decide(&held, &offered, &trust::RsaVerifier, &witness),
    };
    let asked = witness.asked.borrow().clone();
    let (answer, tvs, line) = match (decision.acceptance, decision.route, asked) {
        (Acceptance::Accepted, Some(Route::SameFile), _) => (
            Answer::Identical,
            Vec::new(),
            format!("a phone holding {o} already holds {n}: identical"),
        ),
        (Acceptance::Accepted, Some(Route::SignerInList { record }), _) => (
            Answer::Directly,
            Vec::new(),
            format!(
                "a phone holding {o} accepts {n} directly (signed by {} of {o})",
                describe_record(old.list, record)
            ),
        ),
        (Acceptance::Accepted, _, _) => (
            Answer::Directly,
            Vec::new(),
            format!(
                "a phone holding {o} accepts {n} directly ({})",
                decision.explanation
            ),
        ),
        (Acceptance::Undetermined, _, Some(names)) => {
            let line = format!(
                "a phone holding {o} accepts {n} only through TVS {} (if that TVS knows {n}'s signer)",
                names.join(" or ")
            );
            (Answer::OnlyThroughTvs, names, line)
        }
        (Acceptance::Rejected, _, _) => (
            Answer::NotAtAll,
            Vec::new(),
            format!("a phone holding {o} accepts {n} not at all"),
        ),
        (Acceptance::Undetermined, _, None) => (
            Answer::Undetermined,
            Vec::new(),
            format!("cannot tell whether a phone holding {o} accepts {n}"),
        ),
    };
    Verdict {
        answer,
        acceptance: decision.acceptance,
        tvs,
        line,
        explanation: decision.explanation,
    }
}

/// Compares OLD with NEW.
pub fn diff(old: &Side<'_>, new: &Side<'_>) -> DiffReport {
    let same = identical(old, new);
    let (records, unchanged) = record_changes(old.list, new.list);
    let (s_old, s_new) = (signer_of(old), signer_of(new));
    let (d_old, d_new) = (digest_of(old), digest_of(new));
    DiffReport {
        old: summary(old),
        new: summary(new),
        identical: same,
        signer: SignerChange {
            changed: s_old.name != s_new.name || s_old.serial != s_new.serial,
            old: s_old,
            new: s_new,
        },
        digest: DigestChange {
            changed: match (&d_old, &d_new) {
                (Some(a), Some(b)) => Some(a != b),
                _ => None,
            },
            old: d_old,
            new: d_new,
        },
        records,
        unchanged,
        verdict: verdict(old, new, same),
    }
}

fn entry_text(e: &Entry) -> String {
    let numbers: Vec<String> = e.records.iter().map(|n| format!("#{n}")).collect();
    format!(
        "{} {} {} serial {} SHA-1 {}",
        numbers.join(","),
        e.roles.join("+"),
        e.subject,
        e.serial,
        e.sha1.as_deref().unwrap_or("?")
    )
}

fn side_text(label: &str, s: &SideSummary) -> String {
    let mut out = format!(
        "{label}: {} ({}, {} records{})\n",
        s.file,
        s.format.to_uppercase(),
        s.records,
        if s.input == "show-text" {
            ", `show` text"
        } else {
            ""
        }
    );
    if let Some(h) = &s.hashes {
        out.push_str(&format!(
            "  MD5 {}  SHA-1 {}\n  SHA-256 {}\n",
            h.md5, h.sha1, h.sha256
        ));
    }
    if let Some(sha1) = &s.printed_sha1 {
        out.push_str(&format!("  SHA-1 (as CUCM printed it) {sha1}\n"));
    }
    out
}

fn signer_text(s: &Signer) -> String {
    format!(
        "{} serial {} ({})",
        s.name.as_deref().unwrap_or("(no SIGNERNAME)"),
        s.serial.as_deref().unwrap_or("?"),
        s.record
            .as_deref()
            .unwrap_or("no record of the list matches")
    )
}

/// The readable report.
pub fn render(r: &DiffReport) -> String {
    let mut out = side_text("OLD", &r.old);
    out.push_str(&side_text("NEW", &r.new));
    match r.identical {
        Some(true) => out.push_str("identical\n"),
        Some(false) => out.push_str("the lists differ\n"),
        None => {}
    }
    if r.signer.changed {
        out.push_str(&format!(
            "signer changed: {}\n            -> {}\n",
            signer_text(&r.signer.old),
            signer_text(&r.signer.new)
        ));
    } else {
        out.push_str(&format!("signer: {}\n", signer_text(&r.signer.new)));
    }
    let digest = |d: &Option<String>| d.clone().unwrap_or_else(|| "unknown (text)".to_owned());
    match r.digest.changed {
        Some(true) => out.push_str(&format!(
            "digest algorithm changed: {} -> {}\n",
            digest(&r.digest.old),
            digest(&r.digest.new)
        )),
        Some(false) => out.push_str(&format!("digest algorithm: {}\n", digest(&r.digest.new))),
        None => out.push_str(&format!(
            "digest algorithm: {} -> {} (`show itl` text does not print it)\n",
            digest(&r.digest.old),
            digest(&r.digest.new)
        )),
    }
    let count = |k: ChangeKind| r.records.iter().filter(|c| c.change == k).count();
    out.push_str(&format!(
        "records: {} replaced, {} with other roles, {} added, {} removed, {} unchanged\n",
        count(ChangeKind::Replaced),
        count(ChangeKind::Roles),
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        r.unchanged
    ));
    for c in &r.records {
        match (c.change, &c.old, &c.new) {
            (ChangeKind::Replaced | ChangeKind::Roles, Some(o), Some(n)) => {
                let word = if c.change == ChangeKind::Replaced {
                    "replaced"
                } else {
                    "roles   "
                };
                out.push_str(&format!(
                    "  {word} {}\n        -> {}\n",
                    entry_text(o),
                    entry_text(n)
                ));
            }
            (_, Some(o), None) => out.push_str(&format!("  removed  {}\n", entry_text(o))),
            (_, None, Some(n)) => out.push_str(&format!("  added    {}\n", entry_text(n))),
            _ => {}
        }
    }
    out.push_str(&format!("verdict: {}\n", r.verdict.line));
    if !r.verdict.explanation.is_empty() {
        out.push_str(&format!("  why: {}\n", r.verdict.explanation));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_of_empty_input() {
        let h = Hashes::of(b"");
        assert_eq!(h.md5, "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(h.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn roles_compare_as_sets() {
        let e = |roles: &[&str]| Entry {
            records: vec![1],
            roles: roles.iter().map(|s| (*s).to_owned()).collect(),
            subject: String::new(),
            serial: String::new(),
            sha1: None,
        };
        assert!(same_roles(&e(&["TVS", "CCM"]), &e(&["CCM", "TVS"])));
        assert!(!same_roles(&e(&["TVS"]), &e(&["CCM"])));
    }
}
