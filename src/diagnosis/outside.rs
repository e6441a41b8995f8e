//! Evidence from outside the capture (`--evidence`: console logs, PRT bundles, Status
//! Messages, `show itl`/`show ctl`, exported certificates) weighed for one phone.
//!
//! It feeds condition 1 (the installed ITL's hash from a logged `DeviceTLInfo` or the web
//! page; CUCM's `show itl` hashes when the capture holds no ITL), condition 2 (an exported TVS
//! certificate when TVS's is not visible on the wire), condition 3 (what the phone logged or
//! displayed about verifying its trust list and config) and a reported timeline. Sources that
//! contradict each other (or the options) are shown as a conflict and the condition stays
//! unknown: nothing is silently preferred.

use super::checks::installed_matches;
use super::context::{Installed, PhoneCtx, Served, is_tvs};
use super::facts::{Hashes, ItlHash, OperatorFacts, PhoneStatus};
use super::model::{Check, Condition, EvidenceItem, ReportedEvent, Status};
use super::phone::PhoneEvidence;
use super::trust::{describe_record, find_certificate};
use crate::cisco::model::{TrustList, function};
use crate::sidecar::hash::{cucm_form, phone_form};
use crate::sidecar::{CliTrustList, ExportedCert, FactKind, SideFact};

/// Facts listed per check at most (a log can hold thousands).
const MAX_ITEMS: usize = 100;

fn applies(fact: &SideFact, mac: Option<&str>) -> bool {
    match (&fact.device, mac) {
        (Some(d), Some(m)) => d == m,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// The facts of the `--evidence` files about one phone, in file and line order.
fn phone_facts<'e>(facts: &'e OperatorFacts, mac: Option<&str>) -> Vec<&'e SideFact> {
    facts
        .side
        .facts
        .iter()
        .filter(|f| applies(f, mac))
        .collect()
}

fn ctx_facts<'e>(ctx: &PhoneCtx<'e>) -> Vec<&'e SideFact> {
    phone_facts(ctx.facts, ctx.group.mac.as_deref())
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
/// whose capture and options say nothing about it.
pub fn reported_installed<'e>(
    facts: &'e OperatorFacts,
    mac: Option<&str>,
) -> Option<Installed<'e>> {
    phone_facts(facts, mac)
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
    if let Some(h) = &ctx.facts.phone_itl_hash {
        out.push(Claim {
            who: "--phone-itl-hash".into(),
            hash: Some(h.clone()),
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
/// certificate exported from CUCM against the TVS records of the phone's ITL.
pub fn exported_tvs(ctx: &PhoneCtx<'_>, served_is_installed: bool, why: &str) -> Option<Condition> {
    if ctx.facts.side.certificates.is_empty() {
        return None;
    }
    if ctx.installed_file.is_some_and(|f| f.parsed.is_err()) {
        return None;
    }
    let (reference, name) = ctx.phone_itl_exact();
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
    // The served ITL stands in for the phone's only when nothing says the phone holds another.
    let known_other = ctx.installed_file.is_none()
        && !served_is_installed
        && ctx
            .served_itl
            .as_ref()
            .and_then(|s| installed_matches(&ctx.installed, s))
            == Some(false);
    let which: Vec<String> = certs
        .iter()
        .map(|c| format!("{} serial {}", c.source, c.info.serial))
        .collect();
    if known_other {
        return Some(Condition::new(
            None,
            format!(
                "{why}; the TVS certificate exported from CUCM ({}) matches {name}, but the phone holds another ITL: give --phone-itl FILE to compare with the ITL the phone holds",
                which.join(", ")
            ),
        ));
    }
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
        return None;
    }
    let mut opinions: Vec<(String, bool)> = last
        .iter()
        .map(|(_, f, failed)| (format!("{} \"{}\"", f.source, f.text), *failed))
        .collect();
    match ctx.facts.phone_status {
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
            "a server certificate is not in its trust lists: TVS must vouch for it".into()
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
    let facts = ctx_facts(ctx);
    let mut c = Check {
        id: "phone-reported",
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    };
    if facts.is_empty() {
        c.explanation = "the --evidence files say nothing about this phone".into();
        return c;
    }
    for f in &facts {
        match f.kind {
            FactKind::TrustListFailed => push_flag(&mut c.flags, "trust-list-failed"),
            FactKind::ConfigAuthFailed { .. } => push_flag(&mut c.flags, "config-auth-failed"),
            FactKind::TvsFailed => push_flag(&mut c.flags, "tvs-failed"),
            FactKind::NoTrustList => push_flag(&mut c.flags, "no-trust-list"),
            FactKind::CertNotInTrustList => push_flag(&mut c.flags, "needs-tvs"),
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
    out
}

/// Notes about the evidence files as a whole: facts about phones the capture does not show,
/// facts that apply to several phones.
pub fn notes(facts: &OperatorFacts, groups: &[PhoneEvidence]) -> Vec<String> {
    let mut notes = Vec::new();
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
    for (mac, n) in absent.iter().take(20) {
        notes.push(format!(
            "--evidence: {n} fact(s) about SEP{mac}, which is not a phone of the capture (not used)"
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
            "--evidence: {unnamed} fact(s) name no phone and apply to all {} phones of the capture",
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
}
