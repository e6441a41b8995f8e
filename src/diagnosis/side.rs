//! Which facts of the `--evidence` files apply to a phone: those naming its MAC, or naming
//! none in a capture of one phone, and not dated more than a day before the capture. The rest
//! are set aside with why ("inputs are checked before they are believed", issue 18).
//!
//! Below [`super::context`] (which takes the installed ITL a used fact reports) and
//! [`super::outside`] (which weighs the used facts for the checks).

use super::facts::{ItlHash, OperatorFacts};
use super::phone::PhoneEvidence;
use crate::capture::Timestamp;
use crate::evidence::Evidence;
use crate::sidecar::{FactKind, SideFact, find_mac};

/// Why a fact of the `--evidence` files is not used for a phone ("inputs are checked before
/// they are believed", issue 18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAsideWhy {
    /// Dated more than a day before the capture's first frame.
    Older {
        /// The evidence's time as written.
        evidence_time: String,
        /// The capture's first frame, RFC 3339.
        capture_time: String,
        /// How much older, in words (`6 weeks`).
        by: String,
        /// How the date was read, when it needed a guess (a year not logged…).
        how: Option<&'static str>,
    },
    /// Names a MAC that is not this phone's, and not a phone of the capture either.
    OtherPhone {
        /// The MAC the evidence names.
        evidence_mac: String,
        /// This phone: `SEP…`, or its address when no MAC is known.
        phone: String,
    },
    /// Names no phone, and the capture holds several.
    Unattributed,
}

/// A fact not used for a phone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside<'e> {
    /// The fact.
    pub fact: &'e SideFact,
    /// Why.
    pub why: SetAsideWhy,
}

impl SetAside<'_> {
    /// Both sides in words.
    pub fn describe(&self) -> String {
        let f = self.fact;
        let what = format!("{} \"{}\"", f.source, f.text);
        match &self.why {
            SetAsideWhy::Older {
                evidence_time,
                capture_time,
                by,
                how,
            } => format!(
                "not used, older than the capture: {what} is dated {evidence_time}{}, {by} before the capture's first frame ({capture_time}); it says what the phone did then, not now",
                how.map(|h| format!(" ({h})")).unwrap_or_default()
            ),
            SetAsideWhy::OtherPhone {
                evidence_mac,
                phone,
            } if phone.contains("no MAC known") => format!(
                "not used, cannot be tied to this phone: {what} names SEP{evidence_mac}, and the capture does not show this phone's MAC ({phone})"
            ),
            SetAsideWhy::OtherPhone {
                evidence_mac,
                phone,
            } => format!(
                "not used, about another phone: {what} names SEP{evidence_mac}, this phone is {phone}"
            ),
            SetAsideWhy::Unattributed => format!(
                "not used, names no phone: {what}, and the capture holds several phones (evidence without a MAC applies only to a capture of one phone)"
            ),
        }
    }
}

/// The capture's first frame time (the earliest of all captures).
fn capture_start(evidence: &Evidence) -> Option<Timestamp> {
    evidence.captures.iter().filter_map(|c| c.first_ts).min()
}

/// True when the capture holds a phone other than `group` (files, alarms or phone TLS of
/// another host).
pub fn other_phone_in_capture(evidence: &Evidence, group: &PhoneEvidence) -> bool {
    if evidence.files.len() > group.files.len() || evidence.alarms.len() > group.alarms.len() {
        return true;
    }
    evidence.tls.iter().enumerate().any(|(i, s)| {
        group.tls.binary_search(&i).is_err()
            && (matches!(s.server.port, 2445 | 2443 | 5061 | 3804 | 6971 | 6972)
                || matches!(
                    s.service.as_deref(),
                    Some("tvs" | "sccp-tls" | "sip-tls" | "capf" | "https-tftp")
                ))
    })
}

/// True when some file or alarm of the capture names `mac`.
fn mac_in_capture(evidence: &Evidence, mac: &str) -> bool {
    evidence
        .files
        .iter()
        .any(|f| super::names::classify(&f.name).1.as_deref() == Some(mac))
        || evidence
            .alarms
            .iter()
            .any(|a| a.device_name.as_deref().and_then(find_mac).as_deref() == Some(mac))
}

/// Sorts the `--evidence` facts for one phone: those used, and those set aside with why.
/// A fact is used when it names this phone's MAC, or names none and the capture holds one
/// phone, and is not dated more than a day before the capture's first frame.
pub fn sort_facts<'e>(
    evidence: &Evidence,
    facts: &'e OperatorFacts,
    group: &PhoneEvidence,
) -> (Vec<&'e SideFact>, Vec<SetAside<'e>>) {
    let mut used = Vec::new();
    let mut aside = Vec::new();
    let start = capture_start(evidence);
    let mut several: Option<bool> = None;
    let mut known_macs: Vec<(String, bool)> = Vec::new();
    let phone = match (&group.mac, group.ips.first()) {
        (Some(m), _) => format!("SEP{m}"),
        (None, Some(ip)) => format!("the phone at {ip} (no MAC known)"),
        (None, None) => "a phone with no MAC known".to_string(),
    };
    for f in &facts.side.facts {
        match (&f.device, &group.mac) {
            (Some(d), Some(m)) if d == m => {}
            (Some(d), _) => {
                // Another phone of the capture: its evidence, not a conflict of this one's.
                let in_capture = match known_macs.iter().find(|(m, _)| m == d) {
                    Some((_, k)) => *k,
                    None => {
                        let k = mac_in_capture(evidence, d);
                        known_macs.push((d.clone(), k));
                        k
                    }
                };
                if !in_capture {
                    aside.push(SetAside {
                        fact: f,
                        why: SetAsideWhy::OtherPhone {
                            evidence_mac: d.clone(),
                            phone: phone.clone(),
                        },
                    });
                }
                continue;
            }
            (None, _) => {
                if *several.get_or_insert_with(|| other_phone_in_capture(evidence, group)) {
                    aside.push(SetAside {
                        fact: f,
                        why: SetAsideWhy::Unattributed,
                    });
                    continue;
                }
            }
        }
        if let (Some(t), Some(start)) = (f.time.as_deref(), start)
            && let Some((before, read)) = crate::sidecar::when::older_than_a_day(t, start)
        {
            aside.push(SetAside {
                fact: f,
                why: SetAsideWhy::Older {
                    evidence_time: t.to_string(),
                    capture_time: start.to_rfc3339(),
                    by: crate::sidecar::when::span(before),
                    how: read.how,
                },
            });
            continue;
        }
        used.push(f);
    }
    (used, aside)
}

/// What a fact says the installed ITL is: a hash, "none", or nothing.
pub enum Identity {
    /// The hash it gives.
    Hash(ItlHash),
    /// It says no ITL is installed.
    None,
}

/// What `fact` says the installed ITL is, if it says anything about it.
pub fn identity(fact: &SideFact) -> Option<Identity> {
    match &fact.kind {
        FactKind::DeviceTlInfo(a) => match (&a.itl_signature, &a.itl_signature_raw) {
            (Some(hex), _) => ItlHash::parse(hex).ok().map(Identity::Hash),
            (None, Some(raw)) if raw.trim().eq_ignore_ascii_case("Not Installed") => {
                Some(Identity::None)
            }
            _ => None,
        },
        FactKind::ItlSignature { hex } => ItlHash::parse(hex).ok().map(Identity::Hash),
        FactKind::NoTrustList => Some(Identity::None),
        _ => None,
    }
}

/// Notes about the evidence files as a whole: facts about phones the capture does not show,
/// facts that apply to several phones.
pub fn notes(facts: &OperatorFacts, groups: &[PhoneEvidence]) -> Vec<String> {
    let mut notes = facts.side.input_notes.clone();
    let mut absent: Vec<(&str, usize)> = Vec::new();
    let mut unnamed = 0usize;
    for f in &facts.side.facts {
        match &f.device {
            Some(d) if !groups.iter().any(|g| g.mac.as_deref() == Some(d)) => {
                match absent.iter_mut().find(|(m, _)| m == d) {
                    Some(slot) => slot.1 += 1,
                    None => absent.push((d, 1)),
                }
            }
            None => unnamed += 1,
            _ => {}
        }
    }
    let phones: Vec<String> = groups
        .iter()
        .take(3)
        .map(|g| match (&g.mac, g.ips.first()) {
            (Some(m), _) => format!("SEP{m}"),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => "?".into(),
        })
        .collect();
    let phones = match groups.len() {
        0 => String::new(),
        1 => format!(" (the capture's phone: {})", phones.join(", ")),
        n if n <= 3 => format!(" (the capture's phones: {})", phones.join(", ")),
        n => format!(
            " (the capture's phones: {}, … {n} in all)",
            phones.join(", ")
        ),
    };
    for (mac, n) in absent.iter().take(20) {
        notes.push(format!(
            "--evidence: {n} fact(s) about SEP{mac}, which is not a phone of the capture{phones} (not used)"
        ));
    }
    if !facts.side.facts.is_empty() && groups.is_empty() {
        notes.push(format!(
            "--evidence: {} fact(s) not used: the capture shows no phone to attach them to",
            facts.side.facts.len()
        ));
    }
    if unnamed > 0 && groups.len() > 1 {
        notes.push(format!(
            "--evidence: {unnamed} fact(s) name no phone and the capture holds {} phones: not used (evidence without a MAC applies only to a capture of one phone)",
            groups.len()
        ));
    }
    notes
}
