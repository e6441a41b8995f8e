//! Evidence from outside the capture (`--evidence`: console logs, PRT bundles, Status
//! Messages, `show itl`/`show ctl`, exported certificates) weighed for one phone.
//!
//! It feeds condition 1 (the installed ITL's hash from a logged `DeviceTLInfo` or the web
//! page; CUCM's `show itl` hashes when the capture holds no ITL), condition 2 (an exported TVS
//! certificate when TVS's is not visible on the wire), condition 3 (what the phone logged or
//! displayed about verifying its trust list and config) and a reported timeline. Sources that
//! contradict each other (or the options) are shown as a conflict and the condition stays
//! unknown: nothing is silently preferred.

use super::context::{Installed, PhoneCtx, Served, is_tvs};
use super::facts::{Hashes, ItlHash, OperatorFacts, PhoneStatus};
use super::model::{Check, Condition, EvidenceItem, ReportedEvent, Status};
use super::phone::PhoneEvidence;
use super::trust::{describe_record, find_certificate};
use crate::capture::Timestamp;
use crate::cisco::model::{TrustList, function};
use crate::evidence::Evidence;
use crate::sidecar::hash::{cucm_form, phone_form};
use crate::sidecar::{
    CliTrustList, ExportedCert, FactKind, SideEvidence, SideFact, SourceKind, TvsAnswer, find_mac,
};

/// Facts listed per check at most (a log can hold thousands).
const MAX_ITEMS: usize = 100;

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
fn other_phone_in_capture(evidence: &Evidence, group: &PhoneEvidence) -> bool {
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

fn ctx_facts<'e>(ctx: &PhoneCtx<'e>) -> Vec<&'e SideFact> {
    sort_facts(ctx.evidence, ctx.facts, ctx.group).0
}

/// The `--evidence` facts used for this phone (see [`sort_facts`]).
pub fn usable_facts<'e>(ctx: &PhoneCtx<'e>) -> Vec<&'e SideFact> {
    ctx_facts(ctx)
}

/// The `--evidence` facts set aside for this phone, with both sides named.
pub fn set_aside<'e>(ctx: &PhoneCtx<'e>) -> Vec<SetAside<'e>> {
    sort_facts(ctx.evidence, ctx.facts, ctx.group).1
}

/// What a fact says the installed ITL is: a hash, "none", or nothing.
enum Identity {
    Hash(ItlHash),
    None,
}

fn identity(fact: &SideFact) -> Option<Identity> {
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

/// The installed ITL as the `--evidence` files report it (the last such fact), for a phone
/// whose capture and options say nothing about it, with the capture's checks applied
/// (evidence older than the capture, about another phone, or naming none in a capture of
/// several is not used).
pub fn reported_installed_for<'e>(
    evidence: &Evidence,
    facts: &'e OperatorFacts,
    group: &PhoneEvidence,
) -> Option<Installed<'e>> {
    sort_facts(evidence, facts, group)
        .0
        .into_iter()
        .rev()
        .find_map(|f| match identity(f)? {
            Identity::Hash(hash) => Some(Installed::Reported { hash, fact: f }),
            Identity::None => Some(Installed::ReportedNone(f)),
        })
}

/// One source's claim about the installed ITL.
struct Claim<'a> {
    who: String,
    hash: Option<ItlHash>,
    file: Option<&'a Hashes>,
    none: bool,
}

impl Claim<'_> {
    fn describe(&self) -> String {
        match (&self.hash, self.file, self.none) {
            (_, _, true) => format!("{}: no ITL installed", self.who),
            (Some(h), _, _) => format!("{}: {h}", self.who),
            (None, Some(f), _) => format!("{}: sha1 {}", self.who, f.sha1),
            _ => self.who.clone(),
        }
    }
}

/// Do two claims name different ITLs? False when it cannot be told (different algorithms
/// with no served file to relate them).
fn disagree(a: &Claim<'_>, b: &Claim<'_>, served: Option<&Served<'_>>) -> bool {
    if a.none || b.none {
        return a.none != b.none;
    }
    match (a, b) {
        (Claim { file: Some(f), .. }, Claim { hash: Some(h), .. })
        | (Claim { hash: Some(h), .. }, Claim { file: Some(f), .. }) => f.get(h.algorithm) != h.hex,
        (Claim { file: Some(f), .. }, Claim { file: Some(g), .. }) => f != g,
        (Claim { hash: Some(x), .. }, Claim { hash: Some(y), .. }) => {
            if x.algorithm == y.algorithm {
                x.hex != y.hex
            } else if let Some(s) = served {
                (s.hashes.get(x.algorithm) == x.hex) != (s.hashes.get(y.algorithm) == y.hex)
            } else {
                false
            }
        }
        _ => false,
    }
}

fn claims<'e>(ctx: &PhoneCtx<'e>) -> (Vec<Claim<'e>>, bool) {
    let mut out = Vec::new();
    if let Some(f) = ctx.installed_file {
        out.push(Claim {
            who: format!("--phone-itl {}", f.name),
            hash: None,
            file: Some(&f.hashes),
            none: false,
        });
    }
    if let Some(h) = ctx.phone_itl_hash {
        out.push(Claim {
            who: "--phone-itl-hash".into(),
            hash: Some((*h).clone()),
            file: None,
            none: false,
        });
    }
    let alarm = ctx.alarms.iter().rev().find_map(|(_, a)| {
        let who = format!("DeviceTLInfo frame {}", a.seen.frame);
        match &a.itl_signature {
            Some(sig) => ItlHash::parse(sig).ok().map(|h| (who, Some(h), false)),
            None if super::context::alarm_says_not_installed(a) => Some((who, None, true)),
            None => None,
        }
    });
    if let Some((who, hash, none)) = alarm {
        out.push(Claim {
            who,
            hash,
            file: None,
            none,
        });
    }
    // The last identity of each evidence file (member): a log may report several states.
    let before = out.len();
    let mut per_source: Vec<(String, &SideFact, Identity)> = Vec::new();
    for f in ctx_facts(ctx) {
        if let Some(id) = identity(f) {
            let key = format!(
                "{}!{}",
                f.source.file,
                f.source.member.as_deref().unwrap_or("")
            );
            match per_source.iter_mut().find(|(k, _, _)| *k == key) {
                Some(slot) => {
                    slot.1 = f;
                    slot.2 = id;
                }
                None => per_source.push((key, f, id)),
            }
        }
    }
    for (_, f, id) in per_source {
        out.push(Claim {
            who: f.source.to_string(),
            hash: match &id {
                Identity::Hash(h) => Some(h.clone()),
                Identity::None => None,
            },
            file: None,
            none: matches!(id, Identity::None),
        });
    }
    let has_side = out.len() > before;
    (out, has_side)
}

/// When the sources of the installed ITL (options, capture alarm, evidence files) name
/// different ITLs: the conflict in words. The condition then stays unknown.
pub fn installed_conflict(ctx: &PhoneCtx<'_>) -> Option<String> {
    let (claims, _) = claims(ctx);
    let served = ctx.served_itl.as_ref();
    for (i, a) in claims.iter().enumerate() {
        for b in &claims[i + 1..] {
            if disagree(a, b, served) {
                return Some(format!(
                    "conflict, not resolved: the sources disagree on the phone's installed ITL ({} vs {}); find out which is current (read Settings > Security Configuration > Trust List on the phone now)",
                    a.describe(),
                    b.describe()
                ));
            }
        }
    }
    None
}

/// Lists the evidence files' claims about the installed ITL in the `installed-itl` check.
pub fn installed_evidence(ctx: &PhoneCtx<'_>, c: &mut Check) {
    for f in ctx_facts(ctx) {
        if identity(f).is_some() {
            c.evidence.push(fact_item(f));
        }
    }
}

/// Marks the `installed-itl` check when its sources conflict.
pub fn installed_conflict_check(ctx: &PhoneCtx<'_>, c: &mut Check) {
    if let Some(conflict) = installed_conflict(ctx) {
        c.status = Status::Unknown;
        if !c.flags.contains(&"sources-conflict") {
            c.flags.push("sources-conflict");
        }
        c.explanation = conflict;
    }
}

/// The served ITL's hashes as a phone and as `show itl` print them, to match by eye.
pub fn display_forms(served: &Served<'_>) -> EvidenceItem {
    let (md5, sha1) = (&served.hashes.md5, &served.hashes.sha1);
    EvidenceItem::note(format!(
        "as a phone shows it (MD5 or SHA-1 by model): MD5 {} / SHA-1 {}; as `show itl` prints it: {} {}",
        phone_form(md5),
        phone_form(sha1),
        cucm_form(md5, "MD5"),
        cucm_form(sha1, "SHA1")
    ))
    .with("md5_phone_form", phone_form(md5))
    .with("sha1_phone_form", phone_form(sha1))
    .with("cucm_form", format!("{} {}", cucm_form(md5, "MD5"), cucm_form(sha1, "SHA1")))
}

fn itl_listings<'e>(ctx: &PhoneCtx<'e>) -> Vec<&'e CliTrustList> {
    ctx.facts
        .side
        .cli_lists
        .iter()
        .filter(|l| l.kind == "ITL" && (l.md5.is_some() || l.sha1.is_some()))
        .collect()
}

/// Condition 1 when the capture holds no whole ITL: the installed ITL against the ITL CUCM's
/// `show itl` describes (the same file on every node, unless they disagree).
pub fn compare_with_cli(ctx: &PhoneCtx<'_>, installed: &Installed<'_>) -> Option<Condition> {
    let listings = itl_listings(ctx);
    let first = listings.first()?;
    if listings
        .iter()
        .any(|l| l.md5 != first.md5 || l.sha1 != first.sha1)
    {
        return None;
    }
    let (md5, sha1) = (first.md5.as_deref(), first.sha1.as_deref());
    let same = match installed {
        Installed::File(f) => match (md5, sha1) {
            (_, Some(s)) => s == f.hashes.sha1,
            (Some(m), None) => m == f.hashes.md5,
            _ => return None,
        },
        Installed::OperatorHash(h) => cli_hash_eq(h, md5, sha1)?,
        Installed::AlarmHash { hash, .. } | Installed::Reported { hash, .. } => {
            cli_hash_eq(hash, md5, sha1)?
        }
        _ => return None,
    };
    let source = super::checks::installed_source(ctx.evidence, installed);
    let shown = format!(
        "{}{}",
        md5.map(|m| cucm_form(m, "MD5")).unwrap_or_default(),
        sha1.map(|s| format!(" {}", cucm_form(s, "SHA1")))
            .unwrap_or_default()
    );
    Some(Condition::new(
        Some(!same),
        format!(
            "no ITL downloaded whole in the capture; the phone's ITL ({source}) {} the ITL CUCM's `show itl` describes ({}: {})",
            if same { "equals" } else { "differs from" },
            first.source,
            shown.trim()
        ),
    ))
}

fn cli_hash_eq(h: &ItlHash, md5: Option<&str>, sha1: Option<&str>) -> Option<bool> {
    use super::facts::HashAlgorithm;
    match h.algorithm {
        HashAlgorithm::Md5 => md5.map(|m| m == h.hex),
        HashAlgorithm::Sha1 => sha1.map(|s| s == h.hex),
        HashAlgorithm::Sha256 => None,
    }
}

/// Certificates exported from CUCM that are TVS's: named so, or (unnamed) matching a TVS
/// record of `list`.
fn exported_tvs_certs<'e>(
    ctx: &PhoneCtx<'e>,
    list: Option<&TrustList<'_>>,
) -> Vec<&'e ExportedCert> {
    ctx.facts
        .side
        .certificates
        .iter()
        .filter(|c| match c.role_hint {
            Some(role) => role == "tvs",
            None => list.is_some_and(|l| find_certificate(&c.info, l, &[function::TVS]).is_some()),
        })
        .collect()
}

/// Condition 2 when no TVS certificate is visible on the wire (TLS 1.3, no session): the TVS
/// certificate exported from CUCM against the TVS records of the phone's ITL, given by the
/// caller only when it is known exactly (`reference`, named `name`), never the served one.
pub fn exported_tvs(
    ctx: &PhoneCtx<'_>,
    reference: Option<&TrustList<'_>>,
    name: &str,
    why: &str,
) -> Option<Condition> {
    if ctx.facts.side.certificates.is_empty() {
        return None;
    }
    let certs = exported_tvs_certs(ctx, reference);
    if certs.is_empty() {
        return None;
    }
    let Some(list) = reference else {
        return Some(Condition::new(
            None,
            format!(
                "{why}; a TVS certificate exported from CUCM is at hand ({}) but there is no parsed ITL to compare it with ({name})",
                certs[0].source
            ),
        ));
    };
    for c in &certs {
        if find_certificate(&c.info, list, &[function::TVS]).is_none() {
            return Some(Condition::new(
                Some(true),
                format!(
                    "{why}; the TVS certificate exported from CUCM ({}: {}, serial {}, sha1 {}) matches no TVS record of {name}",
                    c.source, c.info.subject, c.info.serial, c.info.sha1
                ),
            ));
        }
    }
    let which: Vec<String> = certs
        .iter()
        .map(|c| format!("{} serial {}", c.source, c.info.serial))
        .collect();
    Some(Condition::new(
        Some(false),
        format!(
            "{why}; the TVS certificate exported from CUCM ({}) matches a TVS record of {name} (if the phone's TVS is another node, export that node's certificate)",
            which.join(", ")
        ),
    ))
}

/// Condition 3 from the evidence files (and `--phone-status`): per file, the phone's last
/// word on verifying its trust list or config; disagreement is a conflict. None when no file
/// says anything about it.
pub fn verification(ctx: &PhoneCtx<'_>) -> Option<Condition> {
    let mut last: Vec<(String, &SideFact, bool)> = Vec::new();
    for f in ctx_facts(ctx) {
        let Some(failed) = f.kind.verification_failed() else {
            continue;
        };
        let key = format!(
            "{}!{}",
            f.source.file,
            f.source.member.as_deref().unwrap_or("")
        );
        match last.iter_mut().find(|(k, _, _)| *k == key) {
            Some(slot) => {
                slot.1 = f;
                slot.2 = failed;
            }
            None => last.push((key, f, failed)),
        }
    }
    if last.is_empty() {
        // The files spoke about verification, but not about this phone now: unknown, with
        // why, rather than the options' word alone or silence.
        if ctx.phone_status != PhoneStatus::Unknown {
            return None;
        }
        let aside: Vec<String> = set_aside(ctx)
            .iter()
            .filter(|a| a.fact.kind.verification_failed().is_some())
            .take(3)
            .map(SetAside::describe)
            .collect();
        if aside.is_empty() {
            return None;
        }
        return Some(Condition::new(
            None,
            format!(
                "the --evidence files' word on verification is set aside: {}; read the phone's Status Messages now (or give --phone-status)",
                aside.join("; ")
            ),
        ));
    }
    let mut opinions: Vec<(String, bool)> = last
        .iter()
        .map(|(_, f, failed)| (format!("{} \"{}\"", f.source, f.text), *failed))
        .collect();
    match ctx.phone_status {
        PhoneStatus::Failed => opinions.push(("--phone-status failed".into(), true)),
        PhoneStatus::Ok => opinions.push(("--phone-status ok".into(), false)),
        PhoneStatus::Unknown => {}
    }
    let failed: Vec<&str> = opinions
        .iter()
        .filter(|o| o.1)
        .map(|o| o.0.as_str())
        .collect();
    let ok: Vec<&str> = opinions
        .iter()
        .filter(|o| !o.1)
        .map(|o| o.0.as_str())
        .collect();
    Some(match (failed.is_empty(), ok.is_empty()) {
        (false, false) => Condition::new(
            None,
            format!(
                "conflict, not resolved: a verification failure per {} but success per {}; check which is current on the phone's Status Messages",
                failed.join(", "),
                ok.join(", ")
            ),
        ),
        (false, true) => Condition::new(
            Some(true),
            format!(
                "the phone shows a verification failure: {}",
                failed.join("; ")
            ),
        ),
        _ => Condition::new(
            Some(false),
            format!(
                "the phone's last word on verifying its trust list or config is a success: {}",
                ok.join("; ")
            ),
        ),
    })
}

fn describe(f: &SideFact) -> String {
    match &f.kind {
        FactKind::TrustListRequest { name } => {
            format!("requests {}", name.as_deref().unwrap_or("a trust list"))
        }
        FactKind::TrustListVerified => "trust list verified and installed".into(),
        FactKind::TrustListFailed => "trust list update failed (verification failure)".into(),
        FactKind::FileAuthenticated => "signed file authenticated (hashes match)".into(),
        FactKind::ConfigAuthFailed { name } => format!(
            "{} failed authentication (its signature does not verify)",
            name.as_deref().unwrap_or("the config")
        ),
        FactKind::TvsQuery => "queries TVS".into(),
        FactKind::TvsVouched => "TVS vouched for the certificate".into(),
        FactKind::TvsFailed => "TLS connection of the security daemon (TVS) failed".into(),
        FactKind::CertNotInTrustList => {
            "a server certificate is not in its CTL (informational: the phone goes on to its ITL, then TVS; statement 11)".into()
        }
        FactKind::TftpError { name } => {
            format!("TFTP error for {}", name.as_deref().unwrap_or("a file"))
        }
        FactKind::NoTrustList => "no trust list installed".into(),
        FactKind::DeviceTlInfo(a) => format!(
            "DeviceTLInfo: ITL_Signature {}{}{}",
            a.itl_signature_raw.as_deref().unwrap_or("absent").trim(),
            a.status_code
                .map(|c| format!(", StatusCode {c} ({})", super::checks::status_code_name(c)))
                .unwrap_or_default(),
            a.itl_tftp_server
                .as_deref()
                .map(|s| format!(", ITL_TFTP_Server {s}"))
                .unwrap_or_default()
        ),
        FactKind::ItlSignature { hex } => format!("ITL signature {}", phone_form(hex)),
        FactKind::FileVerification { ok, file, envelope } => format!(
            "{} {}",
            match (envelope, file) {
                (true, _) => "the signed envelope of the file just downloaded".to_string(),
                (false, Some(f)) => f.clone(),
                (false, None) => "a signed file".to_string(),
            },
            if *ok {
                "verified (its signature checks out against the phone's trust list)"
            } else {
                "FAILED verification (its signature does not check out against the phone's trust list)"
            }
        ),
        FactKind::TvsCertTrusted { server } => format!(
            "TVS {}'s certificate found in the phone's trust list: the phone trusts that TVS (statement 12)",
            server.as_deref().unwrap_or("(address not logged)")
        ),
        FactKind::TvsResponse { status: 0 } => {
            "TVS answered status 0: TVS vouched for the certificate asked about".into()
        }
        FactKind::TvsResponse { status } => format!(
            "TVS answered status {status}: TVS did not vouch for the certificate asked about"
        ),
        FactKind::UserAgent { agent } => {
            format!("the phone names itself {agent} (its model and firmware)")
        }
    }
}

fn fact_item(f: &SideFact) -> EvidenceItem {
    let mut item = EvidenceItem::note(format!(
        "{}{}: {} ({})",
        f.source,
        f.time
            .as_deref()
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default(),
        describe(f),
        f.text
    ))
    .with("source", f.source.to_string())
    .with("source_kind", f.source_kind.as_str())
    .with("kind", f.kind.as_str());
    if let Some(t) = &f.time {
        item = item.with("log_time", t.clone());
    }
    match &f.kind {
        FactKind::DeviceTlInfo(a) => {
            if let Some(h) = &a.itl_signature {
                item = item.with("itl_signature", h.clone());
            }
        }
        FactKind::ItlSignature { hex } => item = item.with("itl_signature", hex.clone()),
        _ => {}
    }
    item
}

/// The phone's reported timeline: every fact of the evidence files about it.
pub fn reported_timeline(ctx: &PhoneCtx<'_>) -> Vec<ReportedEvent> {
    ctx_facts(ctx)
        .into_iter()
        .map(|f| ReportedEvent {
            source: f.source.to_string(),
            time: f.time.clone(),
            kind: f.kind.as_str(),
            what: describe(f),
        })
        .collect()
}

fn push_flag(flags: &mut Vec<&'static str>, flag: &'static str) {
    if !flags.contains(&flag) {
        flags.push(flag);
    }
}

fn phone_reported(ctx: &PhoneCtx<'_>) -> Check {
    let (facts, aside) = sort_facts(ctx.evidence, ctx.facts, ctx.group);
    let mut c = Check {
        id: "phone-reported",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    for a in aside.iter().take(MAX_ITEMS) {
        push_flag(
            &mut c.flags,
            match a.why {
                SetAsideWhy::Older { .. } => "evidence-older-than-capture",
                SetAsideWhy::OtherPhone { .. } => "evidence-about-another-phone",
                SetAsideWhy::Unattributed => "evidence-names-no-phone",
            },
        );
        c.evidence.push(
            EvidenceItem::note(a.describe())
                .with("source", a.fact.source.to_string())
                .with("kind", a.fact.kind.as_str())
                .with("set_aside", true),
        );
    }
    if aside.len() > MAX_ITEMS {
        c.evidence.push(EvidenceItem::note(format!(
            "{} more fact(s) set aside",
            aside.len() - MAX_ITEMS
        )));
    }
    if facts.is_empty() {
        c.explanation = if aside.is_empty() {
            "the --evidence files say nothing about this phone".into()
        } else {
            format!(
                "conflict: {} fact(s) of the --evidence files set aside ({}), none used",
                aside.len(),
                aside[0].describe()
            )
        };
        return c;
    }
    for f in &facts {
        match f.kind {
            FactKind::TrustListFailed => push_flag(&mut c.flags, "trust-list-failed"),
            FactKind::ConfigAuthFailed { .. } => push_flag(&mut c.flags, "config-auth-failed"),
            FactKind::TvsFailed => push_flag(&mut c.flags, "tvs-failed"),
            FactKind::NoTrustList => push_flag(&mut c.flags, "no-trust-list"),
            FactKind::CertNotInTrustList => push_flag(&mut c.flags, "needs-tvs"),
            FactKind::FileVerification { ok: false, .. } => {
                push_flag(&mut c.flags, "file-verify-failed")
            }
            FactKind::TvsCertTrusted { .. } => push_flag(&mut c.flags, "phone-trusts-tvs"),
            FactKind::TvsResponse { status: 0 } => push_flag(&mut c.flags, "tvs-vouched"),
            FactKind::TvsResponse { .. } => push_flag(&mut c.flags, "tvs-not-vouched"),
            _ => {}
        }
    }
    for f in facts.iter().take(MAX_ITEMS) {
        c.evidence.push(fact_item(f));
    }
    if facts.len() > MAX_ITEMS {
        c.evidence.push(EvidenceItem::note(format!(
            "{} more fact(s) in the reported timeline",
            facts.len() - MAX_ITEMS
        )));
    }
    match verification(ctx) {
        Some(cond) => {
            c.status = match cond.value {
                Some(true) => Status::Fail,
                Some(false) => Status::Pass,
                None => {
                    push_flag(&mut c.flags, "sources-conflict");
                    Status::Unknown
                }
            };
            c.explanation = format!("{} fact(s); {}", facts.len(), cond.explanation);
        }
        None => {
            c.explanation = format!(
                "{} fact(s), none about verifying the trust list or config",
                facts.len()
            );
        }
    }
    if !aside.is_empty() {
        c.explanation.push_str(&format!(
            "; {} fact(s) set aside (older than the capture, or not about this phone)",
            aside.len()
        ));
    }
    c
}

/// What one piece of evidence says about a TVS (for condition 2 and the TVS-vouching path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TvsFinding {
    /// The phone found TVS's own certificate in the TVS record of its trust list
    /// (`tvs_cert_vfy: TVS cert verified with hash from TL`): the phone trusts that TVS, so
    /// condition 2 is false for it (statements 12, 21).
    PhoneTrustsTvs,
    /// TVS vouched for the certificate the phone asked about (phone log `status : 0`, TVS
    /// trace `Certificate found and equal`).
    Vouched,
    /// TVS did not vouch (phone log non-zero status, TVS trace `certificate not found`).
    NotVouched,
    /// The phone's TLS connection to its security server failed (`SSL handshake failed`):
    /// not by itself a rejection of TVS's certificate (CSCua65618 is a cipher mismatch).
    ConnectionFailed,
    /// TVS trace: the request is logged, its answer is not.
    NoAnswer,
}

impl TvsFinding {
    /// `phone-trusts-tvs`, `vouched`, `not-vouched`, `connection-failed`, `no-answer`.
    pub fn as_str(self) -> &'static str {
        match self {
            TvsFinding::PhoneTrustsTvs => "phone-trusts-tvs",
            TvsFinding::Vouched => "vouched",
            TvsFinding::NotVouched => "not-vouched",
            TvsFinding::ConnectionFailed => "connection-failed",
            TvsFinding::NoAnswer => "no-answer",
        }
    }
}

/// One piece of `--evidence` about a TVS, for this phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TvsReport {
    /// What it says.
    pub finding: TvsFinding,
    /// The TVS address, when the line names it or an earlier line of the same file did
    /// (`server_inferred` then says so); None from a CUCM trace (it does not name its node).
    pub server: Option<String>,
    /// True when `server` comes from an earlier line of the same file.
    pub server_inferred: bool,
    /// The certificate asked about, when the evidence names it (TVS trace).
    pub certificate: Option<String>,
    /// TVS's status as the phone logged it.
    pub status: Option<u32>,
    /// Where: `file[!member]:line`.
    pub source: String,
    /// The line.
    pub line: Option<usize>,
    /// The time as written (no date in these logs).
    pub time: Option<String>,
    /// Phone log or TVS trace.
    pub from: SourceKind,
    /// The line, shortened.
    pub text: String,
}

/// What the `--evidence` files say about this phone's TVS servers, in file and line order:
/// the phone trusting a TVS (`tvs_cert_vfy`), TVS's answers (`status : N`, the CUCM trace's
/// found / not found) and failed connections. Evidence set aside for this phone (older than
/// the capture, another phone's) is left out.
pub fn tvs_reports(ctx: &PhoneCtx<'_>) -> Vec<TvsReport> {
    let mut out = Vec::new();
    let mut last_server: Option<(String, String)> = None;
    for f in ctx_facts(ctx) {
        let key = format!(
            "{}!{}",
            f.source.file,
            f.source.member.as_deref().unwrap_or("")
        );
        let (finding, named, status) = match &f.kind {
            FactKind::TvsCertTrusted { server } => {
                (TvsFinding::PhoneTrustsTvs, server.clone(), None)
            }
            FactKind::TvsResponse { status } => (
                if *status == 0 {
                    TvsFinding::Vouched
                } else {
                    TvsFinding::NotVouched
                },
                None,
                Some(*status),
            ),
            FactKind::TvsVouched => (TvsFinding::Vouched, None, None),
            FactKind::TvsFailed => (
                TvsFinding::ConnectionFailed,
                crate::sidecar::wording::bracketed(&f.text),
                None,
            ),
            _ => continue,
        };
        if let Some(s) = &named {
            last_server = Some((key.clone(), s.clone()));
        }
        let inferred = named.is_none()
            && last_server.as_ref().is_some_and(|(k, _)| *k == key)
            && matches!(finding, TvsFinding::Vouched | TvsFinding::NotVouched);
        let server = named.or_else(|| {
            inferred
                .then(|| last_server.as_ref().map(|(_, s)| s.clone()))
                .flatten()
        });
        out.push(TvsReport {
            finding,
            server,
            server_inferred: inferred,
            certificate: None,
            status,
            source: f.source.to_string(),
            line: f.source.line,
            time: f.time.clone(),
            from: f.source_kind,
            text: f.text.clone(),
        });
    }
    let several = std::cell::OnceCell::new();
    for r in &ctx.facts.side.tvs_trace {
        let mine = match r.client {
            Some(ip) => ctx.group.ips.contains(&ip),
            None => !*several.get_or_init(|| other_phone_in_capture(ctx.evidence, ctx.group)),
        };
        if !mine {
            continue;
        }
        out.push(TvsReport {
            finding: match r.answer {
                TvsAnswer::Vouched => TvsFinding::Vouched,
                TvsAnswer::NotFound => TvsFinding::NotVouched,
                TvsAnswer::Unknown => TvsFinding::NoAnswer,
            },
            server: None,
            server_inferred: false,
            certificate: r.certificate.clone(),
            status: None,
            source: r.source.to_string(),
            line: r.source.line,
            time: r.time.clone(),
            from: SourceKind::TvsTrace,
            text: format!(
                "{}{}: {}",
                r.message.as_deref().unwrap_or("certificate lookup"),
                r.client.map(|c| format!(" from {c}")).unwrap_or_default(),
                r.answer.as_str()
            ),
        });
    }
    out
}

/// What a file-verification fact was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifiedWhat {
    /// A trust list (CTL/ITL): "Trust List Updated", "Trust List Verification Failed",
    /// "TL file verified successfully".
    TrustList,
    /// The signed envelope of the file just downloaded (`validate_file_envelope`; the ITL at
    /// boot in the TAC note's log).
    Envelope,
    /// A signed config or other signed file (`verifyFile`, "authenticated fail", "Hashes
    /// match").
    SignedFile,
}

/// One verification the phone reported, for this phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerificationReport {
    /// True when it verified, false when it failed.
    pub verified: bool,
    /// What was verified.
    pub what: VerifiedWhat,
    /// The file, when the line names it.
    pub file: Option<String>,
    /// The fact's kind name (`file-verified`, `trust-list-failed`, …).
    pub kind: &'static str,
    /// Where: `file[!member]:line`.
    pub source: String,
    /// The line.
    pub line: Option<usize>,
    /// The time as written.
    pub time: Option<String>,
    /// The line, shortened.
    pub text: String,
}

/// Every verification success or failure the `--evidence` files report for this phone
/// (condition 3 reads the last per file through [`verification`]), set-aside evidence left
/// out.
pub fn file_verification_reports(ctx: &PhoneCtx<'_>) -> Vec<FileVerificationReport> {
    ctx_facts(ctx)
        .into_iter()
        .filter_map(|f| {
            let failed = f.kind.verification_failed()?;
            let (what, file) = match &f.kind {
                FactKind::FileVerification {
                    envelope: true,
                    file,
                    ..
                } => (VerifiedWhat::Envelope, file.clone()),
                FactKind::FileVerification { file, .. } => (VerifiedWhat::SignedFile, file.clone()),
                FactKind::ConfigAuthFailed { name } => (VerifiedWhat::SignedFile, name.clone()),
                FactKind::FileAuthenticated => (VerifiedWhat::SignedFile, None),
                _ => (VerifiedWhat::TrustList, None),
            };
            Some(FileVerificationReport {
                verified: !failed,
                what,
                file,
                kind: f.kind.as_str(),
                source: f.source.to_string(),
                line: f.source.line,
                time: f.time.clone(),
                text: f.text.clone(),
            })
        })
        .collect()
}

/// The query statement 27 gives to list the certificates in CUCM's database by trust role.
pub const CERT_ROLE_QUERY: &str = "run sql select c.pkid,c.subjectname,c.serialnumber,c.ipv4address,t.name from certificate as c, certificatetrustrolemap as r, typetrustrole as t where c.pkid = r.fkcertificate and t.enum = r.tktrustrole";

/// What to do about CSCtn50405 symptoms (statement 27).
pub const CSCTN50405_NEXT_STEP: &str = "compare the CallManager certificate in CUCM's database with the one the OS uses: run `run sql select c.pkid,c.subjectname,c.serialnumber,c.ipv4address,t.name from certificate as c, certificatetrustrolemap as r, typetrustrole as t where c.pkid = r.fkcertificate and t.enum = r.tktrustrole` and compare the CallManager row's serial number with CallManager.pem on OS Administration > Security > Certificate Management; if they differ, regenerate CallManager.pem (never together with TVS, statement 22), then restart TFTP and TVS and reset the phones (statement 23)";

/// The CSCtn50405 symptoms (statement 27) in CUCM's `show itl` output: "Verification of the
/// ITL file failed", "Error parsing the ITL file!!", or records saying "This etoken was not
/// used to sign the ITL file." with none saying it was. One line per listing that shows them.
pub fn csctn50405_symptoms(side: &SideEvidence) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for l in side.cli_lists.iter().filter(|l| l.kind == "ITL") {
        let mut said = Vec::new();
        if l.verified == Some(false) {
            said.push("\"Verification of the ITL file failed.\"".to_string());
        }
        if l.error.as_deref() == Some("error parsing the file") {
            said.push("\"Error parsing the ITL file!!\"".to_string());
        }
        let not_used: Vec<usize> = l
            .records
            .iter()
            .filter(|r| r.signed_this_file == Some(false))
            .map(|r| r.number)
            .collect();
        if !not_used.is_empty() && !l.records.iter().any(|r| r.signed_this_file == Some(true)) {
            said.push(format!(
                "\"This etoken was not used to sign the ITL file.\" (record{} #{}) and no record says it was",
                if not_used.len() == 1 { "" } else { "s" },
                not_used
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", #")
            ));
        }
        if !said.is_empty() {
            out.push((l.source.to_string(), said.join(", ")));
        }
    }
    out
}

/// Cluster-side check of statement 27: `show itl` reporting the CSCtn50405 symptoms.
fn cucm_itl_csctn50405(ctx: &PhoneCtx<'_>) -> Option<Check> {
    let side = &ctx.facts.side;
    let listings = side.cli_lists.iter().filter(|l| l.kind == "ITL").count();
    if listings == 0 {
        return None;
    }
    let symptoms = csctn50405_symptoms(side);
    let mut c = Check {
        id: "cucm-itl-csctn50405",
        status: Status::Pass,
        explanation: format!(
            "{listings} `show itl` listing(s), none with the CSCtn50405 symptoms of statement 27"
        ),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    if symptoms.is_empty() {
        return Some(c);
    }
    c.status = Status::Fail;
    push_flag(&mut c.flags, "csctn50405");
    for (source, said) in &symptoms {
        c.evidence.push(
            EvidenceItem::note(format!("{source}: show itl says {said}"))
                .with("source", source.clone()),
        );
    }
    c.evidence.push(
        EvidenceItem::note(format!("next step: {CSCTN50405_NEXT_STEP}"))
            .with("next_step", CSCTN50405_NEXT_STEP)
            .with("query", CERT_ROLE_QUERY),
    );
    c.explanation = format!(
        "CUCM's `show itl` points to CSCtn50405 (statement 27: the CallManager certificate in the database is not the one the OS signs with): {}; next step: {CSCTN50405_NEXT_STEP}",
        symptoms
            .iter()
            .map(|(s, w)| format!("{s}: {w}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Some(c)
}

/// The CUCM TVS trace's answers to this phone's requests.
fn cucm_tvs_trace(ctx: &PhoneCtx<'_>) -> Check {
    let reports: Vec<TvsReport> = tvs_reports(ctx)
        .into_iter()
        .filter(|r| r.from == SourceKind::TvsTrace)
        .collect();
    let mut c = Check {
        id: "cucm-tvs-trace",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    for r in reports.iter().take(MAX_ITEMS) {
        let mut item = EvidenceItem::note(format!(
            "{} [{}]: {}{}",
            r.source,
            r.time.as_deref().unwrap_or("no time"),
            r.text,
            r.certificate
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        ))
        .with("source", r.source.clone())
        .with("answer", r.finding.as_str());
        if let Some(cert) = &r.certificate {
            item = item.with("certificate", cert.clone());
        }
        c.evidence.push(item);
    }
    let vouched = reports
        .iter()
        .filter(|r| r.finding == TvsFinding::Vouched)
        .count();
    let refused = reports
        .iter()
        .filter(|r| r.finding == TvsFinding::NotVouched)
        .count();
    if vouched > 0 {
        push_flag(&mut c.flags, "tvs-vouched");
    }
    if refused > 0 {
        push_flag(&mut c.flags, "tvs-not-found");
    }
    (c.status, c.explanation) = match (vouched, refused) {
        (0, 0) if reports.is_empty() => (
            Status::Unknown,
            "the CUCM TVS trace shows no request from this phone's address".into(),
        ),
        (0, 0) => (
            Status::Unknown,
            format!(
                "the CUCM TVS trace shows {} request(s) from this phone, no answer logged",
                reports.len()
            ),
        ),
        (v, 0) => (
            Status::Pass,
            format!("TVS vouched for {v} certificate(s) this phone asked about (CUCM TVS trace)"),
        ),
        (v, n) => (
            Status::Fail,
            format!(
                "TVS did not find {n} certificate(s) this phone asked about{} (CUCM TVS trace): the phone cannot trust them through TVS",
                if v > 0 {
                    format!(" and vouched for {v}")
                } else {
                    String::new()
                }
            ),
        ),
    };
    c
}

fn served_record_ids(list: &TrustList<'_>) -> Vec<(String, String)> {
    use sha1::Digest;
    list.records
        .iter()
        .map(|r| {
            let serial = r.serial.map(crate::serial::serial_hex).unwrap_or_default();
            let hash = r
                .certificate
                .map(|der| hex::encode(sha1::Sha1::digest(der)))
                .or_else(|| r.cert_hash.map(hex::encode))
                .unwrap_or_default();
            (serial, hash)
        })
        .collect()
}

fn cucm_trust_lists(ctx: &PhoneCtx<'_>) -> Check {
    let side = &ctx.facts.side;
    let mut c = Check {
        id: "cucm-trust-lists",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    let mut same = 0usize;
    let mut differ = Vec::new();
    for l in &side.cli_lists {
        let signer = l
            .records
            .iter()
            .find(|r| r.signed_this_file == Some(true))
            .map(|r| {
                format!(
                    ", signed by record #{} ({}, {})",
                    r.number,
                    r.function.as_deref().unwrap_or("?"),
                    r.subject
                        .as_deref()
                        .or(r.dns_name.as_deref())
                        .unwrap_or("?")
                )
            })
            .unwrap_or_default();
        let mut item = EvidenceItem::note(format!(
            "{}: show {}: {}{}{}, {} record(s){signer}{}{}",
            l.source,
            l.kind.to_ascii_lowercase(),
            l.length
                .map(|n| format!("{n} bytes"))
                .unwrap_or_else(|| "length not shown".into()),
            l.md5
                .as_deref()
                .map(|m| format!(", {}", cucm_form(m, "MD5")))
                .unwrap_or_default(),
            l.sha1
                .as_deref()
                .map(|s| format!(" {}", cucm_form(s, "SHA1")))
                .unwrap_or_default(),
            l.records.len(),
            match l.verified {
                Some(true) => ", verified successfully",
                Some(false) => ", VERIFICATION FAILED",
                None => "",
            },
            l.error
                .as_deref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default()
        ))
        .with("source", l.source.to_string());
        if let Some(s) = &l.sha1 {
            item = item.with("sha1", s.clone());
        }
        if let Some(m) = &l.md5 {
            item = item.with("md5", m.clone());
        }
        c.evidence.push(item);
        if l.verified == Some(false) {
            push_flag(&mut c.flags, "cucm-verification-failed");
        }
        let served = match l.kind.as_str() {
            "ITL" => ctx.served_itl.as_ref(),
            "CTL" => ctx.served_ctl.as_ref(),
            _ => None,
        };
        let Some(served) = served else { continue };
        let equal = match (&l.sha1, &l.md5) {
            (Some(s), _) => *s == served.hashes.sha1,
            (None, Some(m)) => *m == served.hashes.md5,
            _ => continue,
        };
        if equal {
            same += 1;
            c.evidence.push(EvidenceItem::at(
                served.file.first,
                format!(
                    "the {} served in the capture ({}) is the file {} describes",
                    l.kind, served.file.name, l.source
                ),
            ));
            continue;
        }
        differ.push(format!("{} ({})", l.kind, l.source));
        let mut detail = format!(
            "the {} served in the capture ({}, {} bytes, sha1 {}) is not the file {} describes: another node served it, or the file changed between the capture and the command",
            l.kind,
            served.file.name,
            served.file.data.len(),
            served.hashes.sha1,
            l.source
        );
        if let Ok(list) = &served.parsed {
            let wire = served_record_ids(list);
            let only_cli: Vec<String> = l
                .records
                .iter()
                .filter(|r| {
                    !wire.iter().any(|(serial, hash)| {
                        r.serial.as_deref() == Some(serial.as_str())
                            || r.cert_sha1.as_deref() == Some(hash.as_str())
                    })
                })
                .map(|r| format!("#{} {}", r.number, r.function.as_deref().unwrap_or("?")))
                .collect();
            detail.push_str(&format!(
                "; {} record(s) on the wire, {} in the CLI output",
                list.records.len(),
                l.records.len()
            ));
            if !only_cli.is_empty() {
                detail.push_str(&format!(
                    "; CLI records not on the wire: {}",
                    only_cli.join(", ")
                ));
            }
        }
        c.evidence.push(EvidenceItem::at(served.file.first, detail));
    }
    for a in &side.cli_actions {
        c.evidence.push(
            EvidenceItem::note(format!("{}: {}", a.source, a.what))
                .with("source", a.source.to_string()),
        );
    }
    if !differ.is_empty() {
        push_flag(&mut c.flags, "served-differs-from-cucm");
        c.status = Status::Fail;
        c.explanation = format!(
            "the trust list on the wire is not what CUCM's CLI describes: {}",
            differ.join(", ")
        );
    } else if c.flags.contains(&"cucm-verification-failed") {
        c.status = Status::Fail;
        c.explanation =
            "CUCM's own check of its trust list failed (\"Verification of the … file failed\")"
                .into();
    } else if same > 0 {
        c.status = Status::Pass;
        c.explanation =
            format!("{same} trust list(s) on the wire are the files CUCM's CLI describes");
    } else {
        c.explanation = if side.cli_lists.is_empty() {
            "CLI commands only, no `show itl`/`show ctl` listing".into()
        } else {
            "no served trust list of the same kind in the capture to compare the CLI output with"
                .into()
        };
    }
    c
}

fn exported_certificates(ctx: &PhoneCtx<'_>) -> Check {
    let (reference, name) = ctx.comparison_itl();
    let mut c = Check {
        id: "exported-certificates",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    let mut matched = 0usize;
    let mut missing = 0usize;
    for cert in &ctx.facts.side.certificates {
        let info = &cert.info;
        let roles: &[u16] = match cert.role_hint {
            Some("tvs") => &[function::TVS],
            Some("callmanager") => &[
                function::CCM_TFTP,
                function::TFTP,
                function::SAST,
                function::CCM,
            ],
            Some("itlrecovery") => &[function::SAST],
            Some("capf") => &[function::CAPF],
            _ => &[],
        };
        let head = format!(
            "{}: {} (serial {}, sha1 {}){}",
            cert.source,
            info.subject,
            info.serial,
            info.sha1,
            cert.role_hint
                .map(|r| format!(", {r} by its name"))
                .unwrap_or_default()
        );
        let detail = match reference.map(|l| (l, find_certificate(info, l, roles))) {
            Some((l, Some((i, how)))) => {
                matched += 1;
                format!(
                    "{head}: record #{} of {name}, {} (by {})",
                    i + 1,
                    describe_record(l, i),
                    how.as_str()
                )
            }
            Some((_, None)) => {
                missing += 1;
                push_flag(&mut c.flags, "exported-cert-not-in-itl");
                format!(
                    "{head}: matches no {}record of {name}",
                    if roles.is_empty() {
                        ""
                    } else {
                        "record of its role in "
                    }
                )
            }
            None => format!("{head}: no parsed ITL to compare it with ({name})"),
        };
        c.evidence.push(
            EvidenceItem::note(detail)
                .with("source", cert.source.to_string())
                .with("serial", info.serial.clone())
                .with("sha1", info.sha1.clone()),
        );
        // The TVS on the wire presenting another certificate: another node, or a regeneration.
        if cert.role_hint == Some("tvs") {
            for (_, s) in ctx.tls.iter().filter(|(_, s)| is_tvs(s)) {
                if let Some(leaf) = s.certificates.first()
                    && leaf.sha1 != info.sha1
                {
                    push_flag(&mut c.flags, "tvs-on-wire-differs");
                    c.evidence.push(EvidenceItem::at(
                        super::context::session_time(s),
                        format!(
                            "TVS {} presented another certificate (serial {}, sha1 {}) than {}: another node, or regenerated since",
                            s.server, leaf.serial, leaf.sha1, cert.source
                        ),
                    ));
                }
            }
        }
    }
    let total = ctx.facts.side.certificates.len();
    if missing > 0 {
        c.status = Status::Fail;
        c.explanation = format!(
            "{missing} of {total} exported certificate(s) match no record of {name} for their role"
        );
    } else if matched > 0 {
        c.status = Status::Pass;
        c.explanation = format!("{matched} exported certificate(s) match records of {name}");
    } else {
        c.explanation = format!("no parsed ITL to compare the exported certificates with ({name})");
    }
    c
}

/// The checks that exist only when `--evidence` files were given.
pub fn checks(ctx: &PhoneCtx<'_>) -> Vec<Check> {
    let side = &ctx.facts.side;
    if side.is_empty() {
        return Vec::new();
    }
    let mut out = vec![phone_reported(ctx)];
    if !side.cli_lists.is_empty() || !side.cli_actions.is_empty() {
        out.push(cucm_trust_lists(ctx));
    }
    if !side.certificates.is_empty() {
        out.push(exported_certificates(ctx));
    }
    if let Some(c) = cucm_itl_csctn50405(ctx) {
        out.push(c);
    }
    if !side.tvs_trace.is_empty() {
        out.push(cucm_tvs_trace(ctx));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::super::facts::{Hashes, ItlHash};
    use super::super::testkit::*;
    use super::super::tests::*;
    use super::super::{DeleteItl, KeyBackup, PhoneStatus, diagnose_with};
    use crate::sidecar::{CliTrustList, ExportedCert, Source};

    fn exported(info: crate::evidence::CertificateInfo) -> ExportedCert {
        ExportedCert {
            source: Source {
                file: "tvs.pem".into(),
                member: None,
                line: Some(1),
            },
            role_hint: Some("tvs"),
            info,
        }
    }

    #[test]
    fn a_completed_tls13_handshake_and_a_contradicting_tvs_pem_are_a_conflict_not_required() {
        // Issue 18 item 8 (statement 12): data both ways under TLS 1.3 shows the phone trusts
        // TVS; an exported tvs.pem its ITL lacks contradicts that, so condition 2 is unknown.
        let mut s = tls(IP, 2445);
        s.version = Some(0x0304);
        s.certificates_encrypted = true;
        s.certificate_seen = None;
        let ev = boot(ITL_C, CONFIG_B, s);
        let mut f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
        f.side.certificates.push(exported(new_tvs_cert()));
        let d = diagnose_with(&ev, &f, &cluster());
        let v = &d.phones[0].verdict;
        assert_eq!(v.conditions.tvs_cert_mismatch.value, None);
        let why = &v.conditions.tvs_cert_mismatch.explanation;
        assert!(
            why.contains("TLS 1.3") && why.contains("tvs.pem:1"),
            "{why}"
        );
        assert_ne!(v.delete_itl, DeleteItl::Required);
        // Without the exported certificate the completed handshake decides: false.
        let f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(
            d.phones[0].verdict.conditions.tvs_cert_mismatch.value,
            Some(false)
        );
    }

    #[test]
    fn an_exported_tvs_certificate_decides_tvs_under_tls13() {
        let mut s = tls(IP, 2445);
        s.version = Some(0x0304);
        // No application data both ways: the session does not show the phone accepting TVS.
        s.app_data_bytes = (0, 0);
        let ev = boot(ITL_C, CONFIG_B, s);
        // TVS regenerated: its exported certificate is not in the phone's ITL A.
        let mut f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
        f.side.certificates.push(exported(new_tvs_cert()));
        let d = diagnose_with(&ev, &f, &cluster());
        let v = &d.phones[0].verdict;
        assert_eq!(v.conditions.tvs_cert_mismatch.value, Some(true));
        assert!(
            v.conditions
                .tvs_cert_mismatch
                .explanation
                .contains("tvs.pem:1")
        );
        assert_eq!(v.delete_itl, DeleteItl::Required);
        // TVS unchanged: it is.
        f.side.certificates = vec![exported(old_tvs_cert())];
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(
            d.phones[0].verdict.conditions.tvs_cert_mismatch.value,
            Some(false)
        );
    }

    #[test]
    fn show_itl_stands_in_for_a_capture_without_an_itl() {
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        ev.files.remove(1);
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        f.phone_itl_hash = Some(ItlHash::parse(&Hashes::of(ITL_A).sha1).unwrap());
        let listing = |sha1: String| CliTrustList {
            source: Source {
                file: "show-itl.txt".into(),
                member: None,
                line: Some(1),
            },
            kind: "ITL".into(),
            sha1: Some(sha1),
            ..CliTrustList::default()
        };
        f.side.cli_lists.push(listing(Hashes::of(ITL_A).sha1));
        let d = diagnose_with(&ev, &f, &cluster());
        let c = &d.phones[0].verdict.conditions.itl_differs;
        assert_eq!(c.value, Some(false), "{}", c.explanation);
        assert!(c.explanation.contains("show-itl.txt:1"));
        f.side.cli_lists = vec![listing(Hashes::of(ITL_C).sha1)];
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(d.phones[0].verdict.conditions.itl_differs.value, Some(true));
    }

    #[test]
    fn evidence_without_a_phone_in_the_capture_is_noted() {
        let f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        let mut f = f;
        f.side.facts.push(crate::sidecar::SideFact {
            source: Source::default(),
            source_kind: crate::sidecar::SourceKind::StatusMessages,
            kind: crate::sidecar::FactKind::TrustListFailed,
            device: None,
            time: None,
            text: "Trust List update failed".into(),
        });
        let d = diagnose_with(&crate::evidence::Evidence::default(), &f, &cluster());
        assert!(
            d.notes.iter().any(|n| n.contains("no phone")),
            "{:?}",
            d.notes
        );
    }

    fn dated_capture(ev: &mut crate::evidence::Evidence) {
        ev.captures.push(crate::evidence::CaptureSummary {
            path: "c.pcap".into(),
            first_ts: Some(crate::capture::Timestamp::from_parts(T0, 0)),
            ..Default::default()
        });
    }

    fn status_facts(text: &str) -> Vec<crate::sidecar::SideFact> {
        let src = Source {
            file: "stmsg.txt".into(),
            ..Source::default()
        };
        crate::sidecar::status::facts(text, &src, 100).0
    }

    fn console_facts(text: &str) -> Vec<crate::sidecar::SideFact> {
        let src = Source {
            file: "console.log".into(),
            ..Source::default()
        };
        crate::sidecar::console::facts(text, &src, 100).0
    }

    fn check<'d>(d: &'d super::super::Diagnosis, id: &str) -> &'d super::super::model::Check {
        d.phones[0]
            .checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no check {id}"))
    }

    /// Statement 29: "Trust List Verification Failed" on the phone is condition 3.
    #[test]
    fn statement_29_trust_list_verification_failed_is_condition_3() {
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        dated_capture(&mut ev);
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        f.side.facts = status_facts("[9:00:02am 01/01/26] Trust List Verification Failed\n");
        assert_eq!(f.side.facts.len(), 1);
        let d = diagnose_with(&ev, &f, &cluster());
        let c3 = &d.phones[0].verdict.conditions.phone_verification_failed;
        assert_eq!(c3.value, Some(true), "{}", c3.explanation);
        assert!(c3.explanation.contains("stmsg.txt:1"), "{}", c3.explanation);
    }

    /// Issue 18 item 10 / "inputs are checked before they are believed": a Status Messages
    /// line six weeks older than the capture is not used; both times are named.
    #[test]
    fn a_status_line_six_weeks_older_than_the_capture_is_set_aside() {
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        dated_capture(&mut ev);
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        // The capture starts 2026-01-01; the line is from 2025-11-19.
        f.side.facts = status_facts("[9:00:02am 11/19/25] Trust List Updated\n");
        let d = diagnose_with(&ev, &f, &cluster());
        let c3 = &d.phones[0].verdict.conditions.phone_verification_failed;
        assert_eq!(c3.value, None, "{}", c3.explanation);
        assert!(
            c3.explanation.contains("11/19/25") && c3.explanation.contains("2026-01-01T00:00:00"),
            "{}",
            c3.explanation
        );
        let c = check(&d, "phone-reported");
        assert!(c.flags.contains(&"evidence-older-than-capture"), "{c:?}");
        assert!(
            c.explanation.contains("6 weeks before"),
            "{}",
            c.explanation
        );
        assert!(d.phones[0].reported.is_empty());
        // The same line dated the capture's day is used.
        f.side.facts = status_facts("[9:00:02am 01/01/26] Trust List Updated\n");
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(
            d.phones[0]
                .verdict
                .conditions
                .phone_verification_failed
                .value,
            Some(false)
        );
    }

    /// Evidence naming another MAC than the phone is not used; both MACs are named.
    #[test]
    fn evidence_about_another_mac_is_set_aside_naming_both() {
        let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        f.side.facts = status_facts("Trust List Verification Failed SEPAABBCCDDEEFF\n");
        assert_eq!(f.side.facts[0].device.as_deref(), Some("AABBCCDDEEFF"));
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(
            d.phones[0]
                .verdict
                .conditions
                .phone_verification_failed
                .value,
            None
        );
        let c = check(&d, "phone-reported");
        assert!(c.flags.contains(&"evidence-about-another-phone"));
        let said = &c.evidence[0].detail;
        assert!(
            said.contains("SEPAABBCCDDEEFF") && said.contains(&format!("SEP{MAC}")),
            "{said}"
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("SEPAABBCCDDEEFF") && n.contains(&format!("SEP{MAC}"))),
            "{:?}",
            d.notes
        );
    }

    /// Evidence that names no MAC applies only when the capture has one phone (issue 18 item 10).
    #[test]
    fn evidence_without_a_mac_applies_only_to_a_capture_of_one_phone() {
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        f.side.facts = status_facts("Trust List Verification Failed\n");
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(
            d.phones[0]
                .verdict
                .conditions
                .phone_verification_failed
                .value,
            Some(true)
        );
        ev.files
            .push(file("SEPAABBCCDDEEFF.cnf.xml.sgn", "10.0.0.9", CONFIG_B));
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(d.phones.len(), 2);
        for p in &d.phones {
            assert_eq!(p.verdict.conditions.phone_verification_failed.value, None);
            assert!(
                p.checks
                    .iter()
                    .any(|c| c.flags.contains(&"evidence-names-no-phone"))
            );
        }
        assert!(
            d.notes.iter().any(|n| n.contains("name no phone")),
            "{:?}",
            d.notes
        );
    }

    /// phone-log-lines.md §4 B (the TAC note's HTTPS-via-TVS log) and §4 C (the CUCM TVS trace
    /// of the same exchange): the phone trusts TVS, TVS vouched.
    #[test]
    fn secd_lines_and_tvs_trace_give_tvs_reports() {
        let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        f.side.facts = console_facts(
            "1215: ERR 15:20:59.431314 SECD: EROR:https_cert_vfy: HTTPS cert not in CTL, <14.48.44.80>
1248: NOT 15:20:59.538726 SECD: tvs_cert_vfy: TVS cert verified with hash from TL, <14.48.44.80>
1273: NOT 15:20:59.825648 SECD: processTvsSrvrResponse: Authentication Response received, status : 0
",
        );
        let trace = format!(
            "15:21:01.954 | debug {IP}: tvsSSLHandShake Session ciphers - AES256-SHA
15:21:02.010 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_REQ
15:21:02.011 | debug CertificateDBCACHE::getCertificateInformation - Certificate found and equal
15:21:02.011 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_RES
15:22:00.000 | debug 10.9.9.9: tvsSSLHandShake Session ciphers - AES256-SHA
15:22:00.010 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_REQ
15:22:00.011 | debug getCertificateInformation(cert) : certificate not found
"
        );
        let src = Source {
            file: "tvs.trace".into(),
            ..Source::default()
        };
        f.side.tvs_trace = crate::sidecar::tvstrace::requests(&trace, &src, 100).0;
        assert_eq!(f.side.tvs_trace.len(), 2);
        let backend = cluster();
        let reports = first_phone(&ev, &f, &backend, super::tvs_reports);
        let got: Vec<(super::TvsFinding, Option<&str>, bool)> = reports
            .iter()
            .map(|r| (r.finding, r.server.as_deref(), r.server_inferred))
            .collect();
        assert_eq!(
            got,
            [
                (
                    super::TvsFinding::PhoneTrustsTvs,
                    Some("14.48.44.80"),
                    false
                ),
                (super::TvsFinding::Vouched, Some("14.48.44.80"), true),
                // The other phone's (10.9.9.9) "not found" is not this phone's.
                (super::TvsFinding::Vouched, None, false),
            ]
        );
        assert_eq!(reports[0].source, "console.log:2");
        assert_eq!(reports[1].status, Some(0));
        assert_eq!(reports[2].from, crate::sidecar::SourceKind::TvsTrace);
        assert_eq!(reports[2].time.as_deref(), Some("15:21:02.010"));
        let d = diagnose_with(&ev, &f, &backend);
        let c = check(&d, "cucm-tvs-trace");
        assert_eq!(c.status, super::super::model::Status::Pass, "{c:?}");
        let c = check(&d, "phone-reported");
        for flag in ["needs-tvs", "phone-trusts-tvs", "tvs-vouched"] {
            assert!(c.flags.contains(&flag), "{flag}: {:?}", c.flags);
        }
    }

    /// phone-log-lines.md §4 A: `validate_file_envelope` and `verifyFile` as file reports and
    /// condition 3 (the failure forms the note names).
    /// `look` at the context of the evidence's first phone, given no phone inputs.
    fn first_phone<R>(
        ev: &crate::evidence::Evidence,
        f: &super::super::OperatorFacts,
        backend: &dyn super::super::trust::TrustBackend,
        look: impl FnOnce(&super::super::context::PhoneCtx<'_>) -> R,
    ) -> R {
        let (groups, _) = super::super::phone::group(ev, 10);
        let ctx = super::super::context::PhoneCtx::new(
            ev,
            f,
            backend,
            &groups[0],
            super::super::context::PhoneInputs::default(),
        );
        look(&ctx)
    }

    #[test]
    fn secd_file_verification_lines_are_reports_and_condition_3() {
        let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        f.side.facts = console_facts(
            "877: NOT 09:13:17.925249 SECD: validate_file_envelope: File sign verify SUCCESS; header length <296>
937: ERR 09:13:18.656906 SECD: verifyFile: verify FAILED </usr/ram/SEP0011223344AA.cnf.xml>
",
        );
        let backend = cluster();
        let r = first_phone(&ev, &f, &backend, super::file_verification_reports);
        assert_eq!(r.len(), 2);
        assert!(r[0].verified && r[0].what == super::VerifiedWhat::Envelope);
        assert!(!r[1].verified);
        assert_eq!(
            r[1].file.as_deref(),
            Some("/usr/ram/SEP0011223344AA.cnf.xml")
        );
        assert_eq!(r[1].time.as_deref(), Some("09:13:18.656906"));
        let d = diagnose_with(&ev, &f, &backend);
        let c3 = &d.phones[0].verdict.conditions.phone_verification_failed;
        assert_eq!(c3.value, Some(true), "{}", c3.explanation);
    }

    /// Statement 27: `show itl` errors pointing to CSCtn50405 give a cluster-side check whose
    /// next step compares the database's CallManager certificate with the OS one.
    #[test]
    fn statement_27_show_itl_errors_give_csctn50405_guidance() {
        let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
        let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
        // One --evidence file given (the facts below stand for what it held).
        f.side.files.push(crate::sidecar::IngestedFile::default());
        let text = "admin:show itl\nLength of ITL file: 5438\nITL Record #:1\n----\n4 FUNCTION 2 System Administrator Security Token\nThis etoken was not used to sign the ITL file.\nVerification of the ITL file failed.\nError parsing the ITL file!!\n";
        let src = Source {
            file: "show-itl.txt".into(),
            ..Source::default()
        };
        f.side.cli_lists = crate::sidecar::cli::parse(text, &src).0;
        let symptoms = super::csctn50405_symptoms(&f.side);
        assert_eq!(symptoms.len(), 1);
        for said in [
            "Verification of the ITL file failed",
            "Error parsing",
            "was not used",
        ] {
            assert!(symptoms[0].1.contains(said), "{said}: {symptoms:?}");
        }
        let d = diagnose_with(&ev, &f, &cluster());
        let c = check(&d, "cucm-itl-csctn50405");
        assert_eq!(c.status, super::super::model::Status::Fail);
        assert!(c.flags.contains(&"csctn50405"));
        assert!(c.explanation.contains("certificatetrustrolemap"));
        assert!(c.explanation.contains("regenerate CallManager.pem"));
        // A listing the ITLRecovery record signed, the CallManager one not: no symptom.
        let ok = "admin:show itl\nLength of ITL file: 5438\nITL Record #:1\nThis etoken was used to sign the ITL file.\nITL Record #:2\nThis etoken was not used to sign the ITL file.\nThe ITL file was verified successfully.\n";
        f.side.cli_lists = crate::sidecar::cli::parse(ok, &src).0;
        assert!(super::csctn50405_symptoms(&f.side).is_empty());
        let d = diagnose_with(&ev, &f, &cluster());
        assert_eq!(
            check(&d, "cucm-itl-csctn50405").status,
            super::super::model::Status::Pass
        );
    }
}
