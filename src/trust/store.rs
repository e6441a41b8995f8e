//! The phone's trust store as one value, and its timeline during a capture (statement 7).
//!
//! The store is what the phone holds: nothing (or an empty rollback ITL), a CTL only, an ITL
//! only, or a CTL and an ITL. Each part is known exactly (the list itself), known only by a
//! hash, or unknown. What `--phone-itl` / `--phone-ctl` give is the store *before* the
//! capture; when the phone takes a new CTL or ITL during the capture (directly, through its
//! CTL, through TVS, or blindly with nothing or a rollback ITL), every later file is judged
//! against the store it holds at that frame. [`walk`] computes that timeline once, with the
//! tool's one trust decision ([`super::decide`]); the diagnosis only reads it.

use super::decide::{Acceptance, Decision, Held, Kind, Offered, TvsWitness, Verifier, decide};
use super::records::{header_signer, is_rollback};
use crate::cisco::model::TrustList;

/// How well one part of the store (its CTL or its ITL) is known.
#[derive(Debug, Clone)]
pub enum Part<'a> {
    /// The phone holds none.
    Absent,
    /// Known exactly: the list, and how explanations name it ("the phone's ITL").
    Exact {
        /// The list.
        list: &'a TrustList<'a>,
        /// How explanations name it.
        label: String,
    },
    /// Held, but known only by this hash (hex): its records are not known.
    ByHash(String),
    /// Not known whether the phone holds one, nor which.
    Unknown,
}

impl Part<'_> {
    /// The list, when known exactly.
    pub fn exact(&self) -> Option<&TrustList<'_>> {
        match self {
            Part::Exact { list, .. } => Some(list),
            _ => None,
        }
    }

    /// `absent`, `exact`, `by-hash` or `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Part::Absent => "absent",
            Part::Exact { .. } => "exact",
            Part::ByHash(_) => "by-hash",
            Part::Unknown => "unknown",
        }
    }
}

/// The three trust states of statement 7 (the first split in two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No CTL and no ITL: the next CTL or ITL is trusted blindly (7a).
    Nothing,
    /// An empty (rollback) ITL and no CTL: likewise blind (7a).
    RollbackItl,
    /// A CTL and no ITL: an ITL is trusted only if the CTL's CCM+TFTP verifies it (7b).
    CtlOnly,
    /// An ITL and no CTL: its records, then TVS.
    ItlOnly,
    /// Both: the CTL, the ITL or TVS (7c).
    CtlAndItl,
}

/// What the phone holds at one point of the capture.
#[derive(Debug, Clone)]
pub struct Store<'a> {
    /// Its CTL (mixed mode).
    pub ctl: Part<'a>,
    /// Its ITL.
    pub itl: Part<'a>,
}

impl Store<'_> {
    /// The state of statement 7, when what is known settles it (a part known only by hash is
    /// present; an unknown part leaves the state unknown, except that an unknown CTL next to a
    /// known ITL is read as "no CTL", the way the ITL alone decides when no `--phone-ctl` is
    /// given).
    pub fn state(&self) -> Option<State> {
        let itl_present = match &self.itl {
            Part::Absent => false,
            Part::Exact { list, .. } if is_rollback(list, header_signer(list)) => {
                return match self.ctl {
                    Part::Absent | Part::Unknown => Some(State::RollbackItl),
                    _ => Some(State::CtlAndItl),
                };
            }
            Part::Exact { .. } | Part::ByHash(_) => true,
            Part::Unknown => return None,
        };
        let ctl_present = match &self.ctl {
            Part::Absent => false,
            Part::Exact { .. } | Part::ByHash(_) => true,
            Part::Unknown if itl_present => false,
            Part::Unknown => return None,
        };
        Some(match (ctl_present, itl_present) {
            (false, false) => State::Nothing,
            (true, false) => State::CtlOnly,
            (false, true) => State::ItlOnly,
            (true, true) => State::CtlAndItl,
        })
    }
}

/// Where in the captures a file was served: (capture index, frame), ordered.
pub type At = (usize, u64);

/// What kind of file the phone is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A CTL.
    Ctl,
    /// An ITL.
    Itl,
    /// A signed config.
    Config,
}

/// One file the capture shows served to the phone.
#[derive(Debug, Clone, Copy)]
pub struct ServedFile<'a> {
    /// Where it was served (its first frame).
    pub at: At,
    /// CTL, ITL or config.
    pub kind: FileKind,
    /// The file as offered (bytes, header, name).
    pub offered: Offered<'a>,
    /// The parsed list, for a CTL or ITL (what the store holds once it is taken).
    pub list: Option<&'a TrustList<'a>>,
    /// How explanations name it once held ("the served ITL").
    pub label: &'a str,
}

/// The phone's answer to one served file, against the store it held at that frame.
#[derive(Debug, Clone)]
pub struct Judged {
    /// Where the file was served.
    pub at: At,
    /// CTL, ITL or config.
    pub kind: FileKind,
    /// The answer; [`Judged::through_ctl`] says when it came from the phone's CTL.
    pub decision: Decision,
    /// True when accepted because the CTL the phone held verifies it (statements 7b, 7c).
    pub through_ctl: bool,
    /// True when a CTL is taken because the phone itself later reports its hash (DeviceTLInfo
    /// `CTL_Signature`), what it held not settling it — see [`walk_reported`].
    pub by_report: bool,
}

impl Judged {
    /// `signer-in-ctl` when taken through the CTL, `phone-report` for a CTL the phone reports
    /// holding, else the route's own word.
    pub fn via(&self) -> Option<&'static str> {
        if self.by_report {
            return Some("phone-report");
        }
        match self.decision.route {
            Some(super::Route::SignerInList { .. }) if self.through_ctl => Some("signer-in-ctl"),
            r => r.map(super::Route::as_str),
        }
    }
}

/// The store before the capture, each file the phone was served with its answer, and the
/// store after each file it took.
#[derive(Debug, Clone)]
pub struct Timeline<'a> {
    /// What the phone held before the capture (`--phone-itl`, `--phone-ctl`).
    pub before: Store<'a>,
    /// The served files in capture order, each judged against the store at its frame.
    pub judged: Vec<Judged>,
    /// The store after each file the phone took, with where it took it.
    pub changes: Vec<(At, Store<'a>)>,
}

impl<'a> Timeline<'a> {
    /// The store the phone holds when a file served at `at` arrives (changes made at an
    /// earlier frame only).
    pub fn at(&self, at: At) -> &Store<'a> {
        self.changes
            .iter()
            .rev()
            .find(|(when, _)| *when < at)
            .map_or(&self.before, |(_, s)| s)
    }

    /// The answer for the last served file of this kind, if any was served.
    pub fn last(&self, kind: FileKind) -> Option<&Judged> {
        self.judged.iter().rev().find(|j| j.kind == kind)
    }
}

/// The answer through the phone's CTL (statements 7b, 7c): a record of the CTL allowed to
/// sign the file verifies it. The CTL names no TVS.
fn through_ctl(
    ctl: &TrustList<'_>,
    label: &str,
    offered: &Offered<'_>,
    verifier: &dyn Verifier,
) -> Decision {
    decide(
        &Held::List { list: ctl, label },
        offered,
        verifier,
        &super::NoTvsEvidence,
    )
}

/// The answer from the ITL part of `store` (with TVS behind it); `None` when the phone holds
/// a CTL and no ITL, where only the CTL can vouch (statement 7b).
fn by_itl(
    store: &Store<'_>,
    offered: &Offered<'_>,
    verifier: &dyn Verifier,
    tvs: &dyn TvsWitness,
) -> Option<Decision> {
    Some(match &store.itl {
        Part::Exact { list, label } => decide(&Held::List { list, label }, offered, verifier, tvs),
        Part::Absent if store.ctl.exact().is_some() => return None,
        Part::Absent => decide(&Held::Nothing, offered, verifier, tvs),
        Part::ByHash(h) => Decision::undetermined(format!(
            "the phone's ITL is known only by its hash {h}: its records, which would decide, are not known"
        )),
        Part::Unknown => Decision::undetermined(
            "the ITL the phone holds is not known: give --phone-itl FILE".into(),
        ),
    })
}

/// Would a phone holding `store` take `offered`? `(decision, taken through its CTL)`. A CTL
/// the phone does not know exactly is not consulted: the ITL part alone decides.
pub fn judge(
    store: &Store<'_>,
    offered: &Offered<'_>,
    kind: FileKind,
    verifier: &dyn Verifier,
    tvs: &dyn TvsWitness,
) -> (Decision, bool) {
    let accepted = |d: &Decision| d.acceptance == Acceptance::Accepted;
    let Part::Exact {
        list: ctl,
        label: ctl_label,
    } = &store.ctl
    else {
        let d = by_itl(store, offered, verifier, tvs)
            .unwrap_or_else(|| Decision::undetermined(String::new()));
        return (d, false);
    };
    let c = through_ctl(ctl, ctl_label, offered, verifier);
    let via_ctl = |c: Decision| {
        (
            Decision {
                explanation: format!("through the CTL: {}", c.explanation),
                ..c
            },
            true,
        )
    };
    // A new CTL is checked against the CTL held first (statement 6: the CTL comes first).
    if kind == FileKind::Ctl && accepted(&c) {
        return via_ctl(c);
    }
    match by_itl(store, offered, verifier, tvs) {
        Some(d) if accepted(&d) => (d, false),
        // Statement 7c: the CTL, the ITL or TVS.
        _ if accepted(&c) => via_ctl(c),
        Some(d) => (d, false),
        // A CTL and no ITL: only the CTL can vouch (statement 7b).
        None if kind == FileKind::Itl => (
            Decision::rejected(format!(
                "the phone holds a CTL and no ITL: it takes an ITL only if the CTL's CCM+TFTP verifies it ({})",
                c.explanation
            )),
            false,
        ),
        None => (c, false),
    }
}

/// What the phone itself says of the CTL it holds: the `CTL_Signature` of a DeviceTLInfo alarm
/// (SIP, or its console log given with `--evidence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlReport {
    /// Where the capture shows it; None when it is not on the capture's timeline (a log line):
    /// such a report is used only when it names a served CTL, which the phone then holds (a
    /// "Not Installed" one is not used: when it was written against the download is not known).
    pub at: Option<At>,
    /// The hash, hex (MD5, SHA-1 or SHA-256 of the CTL file); None when the phone reports no
    /// CTL installed (`CTL_Signature` "Not Installed").
    pub hash: Option<String>,
    /// Who says so, for explanations ("DeviceTLInfo alarm, frame 40").
    pub source: String,
}

impl CtlReport {
    /// True when the report says the phone holds no CTL.
    pub fn says_none(&self) -> bool {
        self.hash.is_none()
    }
}

/// The phone's own word that it held no CTL when the CTL served at `at` arrived: the last
/// report placed after the previous CTL download (`since`) and before `at` says "Not
/// Installed" (statement 7a: such a phone is known to hold no CTL).
fn said_none_before(reports: &[CtlReport], at: At, since: Option<At>) -> Option<&CtlReport> {
    reports
        .iter()
        .filter(|r| r.at.is_some_and(|w| w < at && since.is_none_or(|s| w > s)))
        .max_by_key(|r| r.at)
        .filter(|r| r.says_none())
}

/// The phone's own word that it did not take the CTL served at `at`: the first report placed
/// after it (and before the next CTL download, `until`) still says "Not Installed".
fn said_none_after(reports: &[CtlReport], at: At, until: Option<At>) -> Option<&CtlReport> {
    reports
        .iter()
        .filter(|r| r.at.is_some_and(|w| w > at && until.is_none_or(|u| w < u)))
        .min_by_key(|r| r.at)
        .filter(|r| r.says_none())
}

/// True when `hash` (hex, any case) is the MD5, SHA-1 or SHA-256 of `bytes`.
fn hash_of(bytes: &[u8], hash: &str) -> bool {
    use sha1::Digest;
    let h = hash.trim();
    [
        hex::encode(md5::Md5::digest(bytes)),
        hex::encode(sha1::Sha1::digest(bytes)),
        hex::encode(sha2::Sha256::digest(bytes)),
    ]
    .iter()
    .any(|x| x.eq_ignore_ascii_case(h))
}

/// What the phone's own reports say of the CTL served at `at` (`bytes`), when the store does
/// not settle it: `Some(Ok(source))` it holds that CTL (a report of its hash between the
/// previous CTL download, `since`, and the next one, `until`: held already, or taken);
/// `Some(Err((hash, source)))` a report placed after it (and before `until`) names another CTL,
/// so it kept or took another; None when no report says.
fn reported<'r>(
    reports: &'r [CtlReport],
    bytes: &[u8],
    at: At,
    (since, until): (Option<At>, Option<At>),
) -> Option<Result<&'r str, (&'r str, &'r str)>> {
    let between = |w: At| since.is_none_or(|s| w > s) && until.is_none_or(|u| w < u);
    // Only reports of a hash: "Not Installed" ones are read by `said_none_*`.
    let hashes = || {
        reports
            .iter()
            .filter_map(|r| r.hash.as_deref().map(|h| (h, r)))
    };
    if let Some((_, r)) =
        hashes().find(|(h, r)| hash_of(bytes, h) && r.at.is_none_or(|w| w != at && between(w)))
    {
        return Some(Ok(&r.source));
    }
    hashes()
        .filter(|(_, r)| r.at.is_some_and(|w| w > at && until.is_none_or(|u| w < u)))
        .find(|(h, _)| !hash_of(bytes, h))
        .map(|(h, r)| Err((h, r.source.as_str())))
}

/// What would settle a CTL the evidence does not show the phone took or refused.
pub const SETTLE_CTL: &str =
    "give --phone-ctl FILE, or the phone's DeviceTLInfo alarm / Status Messages after the CTL";

/// The timeline: `served` (in any order; give every download, retries included) judged in
/// capture order, each against the store the phone holds at its frame; a CTL or ITL it takes
/// replaces that part of the store from that frame on. No report of the phone: see
/// [`walk_reported`].
pub fn walk<'a>(
    before: Store<'a>,
    served: &[ServedFile<'a>],
    verifier: &dyn Verifier,
    tvs: &dyn TvsWitness,
) -> Timeline<'a> {
    walk_reported(before, served, &[], verifier, tvs)
}

/// [`walk`], with what the phone itself reports of its CTL (`reports`).
///
/// A CTL on the wire becomes the store's CTL part only on evidence that the phone took it
/// (statement 6: the phone asks for the CTL, then the ITL, then the config, whatever it did
/// with the CTL, so going on to the ITL proves nothing):
/// - the phone's CTL is known exactly and one of its SAST records signs the new one (7c, 30),
///   or the ITL it holds or TVS vouches for it (7c);
/// - the phone is known to hold no CTL: with no ITL (or a rollback ITL) it takes the first CTL
///   blindly (7a), with an ITL the ITL or TVS decides;
/// - the phone itself reports that CTL's hash ([`CtlReport`]) after it, or before it with no
///   other CTL download in between (it already held it).
///
/// The phone's own "Not Installed" (`CTL_Signature` of a DeviceTLInfo alarm placed in the
/// capture) is read the same way: the last report before the CTL (after the previous CTL
/// download) saying so makes the phone known to hold no CTL when it arrives, so 7a (no ITL:
/// taken blindly) or 7c (an ITL: its records or TVS decide) applies; the first report after
/// it (before the next CTL download) still saying so shows the phone did not take it, and it
/// holds no CTL from that frame on, whatever the files alone suggest. A CTL the phone is given
/// to hold exactly (`--phone-ctl`) is not overridden by an earlier "Not Installed".
///
/// Otherwise the CTL part is unknown from that frame on, and the answer says what would settle
/// it ([`SETTLE_CTL`]). While the phone's CTL is unknown and the cluster is in mixed mode (a
/// CTL was served), an ITL or config that only a blind acceptance would take, or that its ITL
/// and TVS refuse, is undetermined: the CTL it may hold decides (7b, 7c).
pub fn walk_reported<'a>(
    before: Store<'a>,
    served: &[ServedFile<'a>],
    reports: &[CtlReport],
    verifier: &dyn Verifier,
    tvs: &dyn TvsWitness,
) -> Timeline<'a> {
    let mut order: Vec<&ServedFile<'a>> = served.iter().collect();
    // Stable: files served at the same frame keep their given order.
    order.sort_by_key(|f| f.at);
    let mut now = before.clone();
    let mut judged = Vec::new();
    let mut changes = Vec::new();
    let mut mixed = false;
    for (i, f) in order.iter().enumerate() {
        let until = order[i + 1..]
            .iter()
            .find(|n| n.kind == FileKind::Ctl)
            .map(|n| n.at);
        let since = order[..i]
            .iter()
            .rev()
            .find(|n| n.kind == FileKind::Ctl)
            .map(|n| n.at);
        // The phone's own "Not Installed" before this CTL: it holds none when it arrives.
        let none_before = match (f.kind, &now.ctl) {
            (FileKind::Ctl, Part::Exact { .. }) | (FileKind::Itl | FileKind::Config, _) => None,
            (FileKind::Ctl, _) => said_none_before(reports, f.at, since),
        };
        let mut store_changed = false;
        if none_before.is_some() && !matches!(now.ctl, Part::Absent) {
            now.ctl = Part::Absent;
            store_changed = true;
        }
        let (mut decision, through_ctl) = judge(&now, &f.offered, f.kind, verifier, tvs);
        if let Some(r) = none_before {
            decision.explanation = format!(
                "{} (the phone held no CTL when it was served: {}; statement 7a)",
                decision.explanation, r.source
            );
        }
        let mut by_report = false;
        let ctl_known = matches!(now.ctl, Part::Exact { .. } | Part::Absent);
        let blind = matches!(
            decision.route,
            Some(super::Route::NoTrustList | super::Route::RollbackHeld)
        );
        let mut ctl_after: Option<Part<'a>> = None;
        if f.kind == FileKind::Ctl {
            mixed = true;
            let accepted = decision.acceptance == Acceptance::Accepted;
            // An unknown CTL of the phone may refuse what a blind reading would take, and
            // verify what its ITL or TVS refuse: only its ITL's records or TVS settle it.
            let settled = ctl_known && (accepted || decision.acceptance == Acceptance::Rejected)
                || accepted && !blind;
            if !settled {
                match reported(reports, f.offered.bytes, f.at, (since, until)) {
                    Some(Ok(source)) => {
                        by_report = true;
                        decision = Decision {
                            acceptance: Acceptance::Accepted,
                            route: None,
                            explanation: format!(
                                "the phone holds it: it reports this CTL's hash itself ({source})"
                            ),
                        };
                    }
                    Some(Err((hash, source))) => {
                        decision = Decision::rejected(format!(
                            "not taken: after it the phone reports another CTL, hash {hash} ({source})"
                        ));
                        ctl_after = Some(Part::ByHash(hash.to_owned()));
                    }
                    None => {
                        decision = Decision::undetermined(format!(
                            "not shown: {} and what it holds does not settle {} ({}); going on to the ITL proves nothing, since the phone asks for it whatever it did with the CTL (statement 6): {SETTLE_CTL}",
                            match now.ctl {
                                Part::Absent => "the phone held no CTL",
                                _ => "the CTL the phone held is not known",
                            },
                            f.offered.what,
                            decision.explanation,
                        ));
                        ctl_after = Some(Part::Unknown);
                    }
                }
            }
            // The phone's own word after the download beats what the files suggest.
            if let Some(r) = said_none_after(reports, f.at, until) {
                by_report = false;
                decision = Decision::rejected(format!(
                    "not taken: after it the phone still reports no CTL installed ({}); what the files alone suggested: {}",
                    r.source, decision.explanation
                ));
                ctl_after = Some(Part::Absent);
            }
        } else if mixed
            && !ctl_known
            && (decision.acceptance == Acceptance::Rejected
                || decision.acceptance == Acceptance::Accepted && blind)
        {
            decision = Decision::undetermined(format!(
                "the CTL the phone holds is not known and the cluster is in mixed mode (a CTL was served), so it decides ({}): {SETTLE_CTL}",
                decision.explanation
            ));
        } else if mixed && !ctl_known && decision.acceptance == Acceptance::Undetermined {
            // The prefix stays (advice looks for "only through TVS"); the CTL is one more way.
            decision.explanation = format!(
                "{}; the CTL the phone holds (not known, mixed mode) may also verify it: {SETTLE_CTL}",
                decision.explanation
            );
        }
        let taken = decision.acceptance == Acceptance::Accepted;
        if let (true, Some(list)) = (taken, f.list) {
            let part = Part::Exact {
                list,
                label: f.label.to_owned(),
            };
            match f.kind {
                FileKind::Ctl => now.ctl = part,
                FileKind::Itl => now.itl = part,
                FileKind::Config => {}
            }
            if f.kind != FileKind::Config {
                changes.push((f.at, now.clone()));
            }
        } else if let Some(part) = ctl_after {
            // Not shown taken: what the phone holds is no longer what it held before.
            let changed = store_changed
                || !matches!(
                    (&now.ctl, &part),
                    (Part::Unknown, Part::Unknown) | (Part::Absent, Part::Absent)
                );
            now.ctl = part;
            if changed {
                changes.push((f.at, now.clone()));
            }
        } else if store_changed {
            // Known to hold no CTL (its own report), and it did not take this one.
            changes.push((f.at, now.clone()));
        }
        judged.push(Judged {
            at: f.at,
            kind: f.kind,
            decision,
            through_ctl,
            by_report,
        });
    }
    Timeline {
        before,
        judged,
        changes,
    }
}

/// `Offered` for a trust list of `kind` (helper for callers building [`ServedFile`]s).
pub fn offered_list<'a>(list: &'a TrustList<'a>, what: &'a str) -> Offered<'a> {
    Offered {
        bytes: list.bytes,
        header: &list.header,
        kind: Kind::TrustList,
        what,
    }
}
