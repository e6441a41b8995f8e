//! Condition 1 from outside the capture: what each source (the options, the phone's
//! alarm, logs, the web page, CUCM's `show itl`) says the installed ITL is, the conflicts
//! between them, and the served ITL's hashes in the forms the phone and CUCM display.

use super::common::{ctx_facts, fact_item};
use crate::diagnosis::context::{Installed, PhoneCtx, Served};
use crate::diagnosis::facts::{Hashes, ItlHash};
use crate::diagnosis::model::{Check, Condition, EvidenceItem, Status};
use crate::diagnosis::side::{Identity, identity};
use crate::sidecar::hash::{cucm_form, phone_form};
use crate::sidecar::{CliTrustList, SideFact};

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
            None if crate::diagnosis::context::alarm_says_not_installed(a) => {
                Some((who, None, true))
            }
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
    let source = crate::diagnosis::context::installed_source(ctx.evidence, installed);
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
    use crate::diagnosis::facts::HashAlgorithm;
    match h.algorithm {
        HashAlgorithm::Md5 => md5.map(|m| m == h.hex),
        HashAlgorithm::Sha1 => sha1.map(|s| s == h.hex),
        HashAlgorithm::Sha256 => None,
    }
}
