//! The one main reason of a phone's verdict, as a stable code a fleet can be grouped by
//! (`itl-matches-served`, `needs-operator-facts`, …; docs/report.md "Rows") and one line.
//!
//! The verdict's `reasons` say everything that decided it; a fleet of 2,000 phones needs one
//! key per phone. A stalled download comes first (not a trust problem, whatever the
//! conditions say), then "all four hold", then a boot loop, then the deciding condition.
//!
//! The line is worded once, here, in the engineer's words ("the phone's ITL is the served one
//! (condition 1 is no)", "conditions 2, 3 unknown: give …"), and every output shows this same
//! line: the text report's verdict table, the CSV/JSONL `main_reason_text`, the JSON phone
//! object's `main_reason` and the HTML table (issue 20).

use super::model::{Check, DeleteItl, InstalledItl, ServedItl, Verdict};
use std::fmt::Write;

pub use super::model::MainReason;

/// Every main-reason code, in the order the rules try them.
pub const CODES: [&str; 16] = [
    "transfer-stall",
    "all-four-hold",
    "boot-loop",
    "no-itl-installed",
    "itl-matches-served",
    "tvs-certificate-in-itl",
    "phone-shows-no-failure",
    "key-backup-exists",
    "recovery-path-open",
    "recovery-path-unknown",
    "tvs-unreachable",
    "served-itl-broken",
    "no-served-itl",
    "installed-itl-unknown",
    "tvs-match-unknown",
    "needs-operator-facts",
];

fn flagged<'c>(checks: &'c [Check], flag: &str) -> Option<&'c Check> {
    checks.iter().find(|c| c.flags.contains(&flag))
}

/// The four conditions (statements 22-25 of the TAC note): the label the text report's
/// condition lines use, what "no" means in the one-line reason, and the option that settles
/// "unknown".
pub const CONDITIONS: [(&str, &str, &str); 4] = [
    (
        "1. phone's ITL differs from the served ITL",
        "the phone's ITL is the served one",
        "--phone-itl or --phone-itl-hash",
    ),
    (
        "2. TVS certificate on the wire not in the ITL",
        "the phone trusts TVS's certificate",
        "",
    ),
    (
        "3. phone shows a verification failure",
        "the phone shows no verification failure",
        "--phone-status",
    ),
    (
        "4. no backup of the old TFTP key",
        "a backup of the old TFTP key exists",
        "--key-backup",
    ),
];

/// What an open recovery path means, in the one-line reason.
fn path_phrase(id: &str) -> &'static str {
    match id {
        "other-tvs" => "another TVS the phone trusts can vouch",
        "itl-recovery" => "ITLRecovery still signs: utils itl reset localkey",
        "ctl" => "mixed mode: re-run the CTL client",
        _ => "a backup of the old TFTP key exists",
    }
}

/// The verdict in one line, from the four conditions and the recovery paths: which condition
/// is no (not required), or which are unknown and what settles them (undetermined).
pub fn verdict_line(verdict: &Verdict) -> String {
    let named = verdict.conditions.named();
    let numbers = |want: Option<bool>| -> Vec<usize> {
        named
            .iter()
            .enumerate()
            .filter(|(_, (_, c))| c.value == want)
            .map(|(i, _)| i + 1)
            .collect()
    };
    let recovery = &verdict.recovery;
    match verdict.delete_itl {
        DeleteItl::Required => "all four conditions hold, no recovery path open".into(),
        DeleteItl::NotRequired => {
            let no = numbers(Some(false));
            let open = recovery.open().filter(|_| no.iter().all(|&n| n == 4));
            let Some(&first) = no
                .first()
                .filter(|_| open.is_none_or(|o| o.id == "key-backup"))
            else {
                return match open {
                    Some(o) => path_phrase(o.id).to_string(),
                    None => "not required".into(),
                };
            };
            let Some((_, phrase, _)) = CONDITIONS.get(first - 1) else {
                return "not required".into();
            };
            let mut reason = format!("{phrase} (condition {first} is no");
            if no.len() > 1 {
                let rest: Vec<String> = no[1..].iter().map(ToString::to_string).collect();
                let _ = write!(reason, "; also {}", rest.join(", "));
            }
            reason.push(')');
            reason
        }
        DeleteItl::Undetermined => {
            let unknown = numbers(None);
            let mut settle: Vec<&str> = Vec::new();
            for &n in &unknown {
                let hint = match n {
                    // Only the phone's ITL file settles both 1 and 2.
                    1 if unknown.contains(&2) => "--phone-itl",
                    // Without 1 unknown, condition 2 waits on the wire (see its line below).
                    2 => continue,
                    _ => CONDITIONS.get(n - 1).map_or("", |c| c.2),
                };
                settle.push(hint);
            }
            if unknown.is_empty() {
                let paths: Vec<&str> = recovery
                    .paths
                    .iter()
                    .filter(|p| p.state == crate::trust::recovery::PathState::Unknown)
                    .map(|p| p.id)
                    .collect();
                return format!(
                    "conditions 1-4 hold; recovery path(s) {} unknown",
                    paths.join(", ")
                );
            }
            let mut reason = match unknown.as_slice() {
                [n] => format!("condition {n} unknown"),
                [_, _, _, _] => "all four conditions unknown".to_owned(),
                many => {
                    let list: Vec<String> = many.iter().map(ToString::to_string).collect();
                    format!("conditions {} unknown", list.join(", "))
                }
            };
            if !settle.is_empty() {
                let _ = write!(reason, ": give {}", settle.join(", "));
            }
            reason
        }
    }
}

/// The main reason's code, and the check that outranks the conditions (a stall or a loop),
/// when one does.
fn main_code<'c>(
    verdict: &Verdict,
    checks: &'c [Check],
    installed: Option<&InstalledItl>,
    served: Option<&ServedItl>,
) -> (&'static str, Option<&'c Check>) {
    if let Some(c) = flagged(checks, "transfer-stall") {
        return ("transfer-stall", Some(c));
    }
    if verdict.delete_itl == DeleteItl::Required {
        return ("all-four-hold", None);
    }
    if let Some(c) = flagged(checks, "boot-loop") {
        return ("boot-loop", Some(c));
    }
    let c = &verdict.conditions;
    let code = match verdict.delete_itl {
        DeleteItl::Required => "all-four-hold",
        DeleteItl::NotRequired => {
            if c.itl_differs.value == Some(false) {
                if installed.is_some_and(|i| i.not_installed) {
                    "no-itl-installed"
                } else {
                    "itl-matches-served"
                }
            } else if c.tvs_cert_mismatch.value == Some(false) {
                "tvs-certificate-in-itl"
            } else if c.phone_verification_failed.value == Some(false) {
                "phone-shows-no-failure"
            } else if verdict
                .recovery
                .open()
                .is_some_and(|o| o.id != "key-backup")
            {
                "recovery-path-open"
            } else {
                "key-backup-exists"
            }
        }
        DeleteItl::Undetermined => {
            if flagged(checks, "tvs-unreachable").is_some() {
                "tvs-unreachable"
            } else if flagged(checks, "bad-signature")
                .or_else(|| flagged(checks, "unparseable"))
                .is_some()
            {
                "served-itl-broken"
            } else if c.itl_differs.value.is_none() {
                if installed.is_some() && served.is_none() {
                    "no-served-itl"
                } else {
                    "installed-itl-unknown"
                }
            } else if c.tvs_cert_mismatch.value.is_none() {
                "tvs-match-unknown"
            } else if c.phone_verification_failed.value.is_some() && c.no_key_backup.value.is_some()
            {
                "recovery-path-unknown"
            } else {
                "needs-operator-facts"
            }
        }
    };
    (code, None)
}

/// The main reason of one phone, from its verdict, checks, what is known of its installed
/// and served ITL, and the transport findings ([`super::loops`]) when there are any.
///
/// The code is the fleet's grouping key; the text is [`verdict_line`], led by the stall's or
/// the loop's own line when one of them outranks the conditions (the conditions still say
/// what would settle the verdict).
pub fn main_reason(
    verdict: &Verdict,
    checks: &[Check],
    installed: Option<&InstalledItl>,
    served: Option<&ServedItl>,
) -> MainReason {
    let (code, check) = main_code(verdict, checks, installed, served);
    let line = verdict_line(verdict);
    let text = match check {
        Some(c) => format!("{}; {line}", c.explanation),
        None => line,
    };
    MainReason { code, text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::model::{Condition, Conditions, Status};

    fn verdict(v: [Option<bool>; 4]) -> Verdict {
        let conditions = Conditions {
            itl_differs: Condition::new(v[0], "a"),
            tvs_cert_mismatch: Condition::new(v[1], "b"),
            phone_verification_failed: Condition::new(v[2], "c"),
            no_key_backup: Condition::new(v[3], "d"),
        };
        Verdict {
            delete_itl: super::super::verdict::decide(&conditions, v[3]),
            conditions,
            recovery: Default::default(),
            reasons: Vec::new(),
            next_steps: Vec::new(),
        }
    }

    fn check(flag: &'static str) -> Check {
        Check {
            id: "x",
            status: Status::Fail,
            explanation: format!("{flag} seen"),
            flags: vec![flag],
            evidence: Vec::new(),
        }
    }

    #[test]
    fn codes_follow_the_deciding_condition() {
        let (t, f) = (Some(true), Some(false));
        let code = |v, checks: &[Check]| main_reason(&verdict(v), checks, None, None).code;
        assert_eq!(code([t, t, t, t], &[]), "all-four-hold");
        assert_eq!(code([f, t, t, t], &[]), "itl-matches-served");
        assert_eq!(code([t, f, None, None], &[]), "tvs-certificate-in-itl");
        assert_eq!(code([t, t, f, t], &[]), "phone-shows-no-failure");
        assert_eq!(code([t, t, t, f], &[]), "key-backup-exists");
        assert_eq!(code([None, None, None, None], &[]), "installed-itl-unknown");
        assert_eq!(code([t, None, None, None], &[]), "tvs-match-unknown");
        assert_eq!(code([t, t, None, None], &[]), "needs-operator-facts");
        assert_eq!(
            code([t, None, None, None], &[check("tvs-unreachable")]),
            "tvs-unreachable"
        );
        // A stalled download outranks every condition: it is not a trust problem.
        assert_eq!(
            code([t, t, t, t], &[check("transfer-stall")]),
            "transfer-stall"
        );
        // A boot loop names phones that are stuck, unless deletion is already the answer.
        assert_eq!(code([t, t, t, t], &[check("boot-loop")]), "all-four-hold");
        assert_eq!(code([t, t, None, None], &[check("boot-loop")]), "boot-loop");
        for c in [
            "all-four-hold",
            "itl-matches-served",
            "needs-operator-facts",
            "transfer-stall",
        ] {
            assert!(CODES.contains(&c));
        }
    }

    #[test]
    fn not_installed_is_its_own_reason() {
        let installed = InstalledItl {
            source: "device-tl-info",
            not_installed: true,
            hash_algorithm: None,
            hash: None,
            capture: Some(0),
            frame: Some(4),
        };
        let r = main_reason(
            &verdict([Some(false), None, None, None]),
            &[],
            Some(&installed),
            None,
        );
        assert_eq!(r.code, "no-itl-installed");
        assert_eq!(
            r.text,
            "the phone's ITL is the served one (condition 1 is no)"
        );
    }
}
