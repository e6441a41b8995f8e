//! The one main reason of a phone's verdict, as a stable code a fleet can be grouped by
//! (`itl-matches-served`, `needs-operator-facts`, …; docs/report.md "Rows") and one line.
//!
//! The verdict's `reasons` say everything that decided it; a fleet of 2,000 phones needs one
//! key per phone. A stalled download comes first (not a trust problem, whatever the
//! conditions say), then "all four hold", then a boot loop, then the deciding condition.

use super::model::{Check, DeleteItl, InstalledItl, ServedItl, Verdict};

/// The main reason: a code from [`CODES`] and one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainReason {
    /// Stable code (see [`CODES`]).
    pub code: &'static str,
    /// One line of prose, with the evidence.
    pub text: String,
}

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

/// The verdict's reason line about condition `name`, or the condition's explanation.
fn reason_about(verdict: &Verdict, name: &str) -> String {
    verdict
        .reasons
        .iter()
        .find(|r| r.starts_with(name))
        .cloned()
        .or_else(|| {
            verdict
                .conditions
                .named()
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, c)| format!("{n}: {}", c.explanation))
        })
        .unwrap_or_default()
}

/// The main reason of one phone, from its verdict, checks, what is known of its installed
/// and served ITL, and the transport findings ([`super::loops`]) when there are any.
pub fn main_reason(
    verdict: &Verdict,
    checks: &[Check],
    installed: Option<&InstalledItl>,
    served: Option<&ServedItl>,
) -> MainReason {
    let reason = |code: &'static str, text: String| MainReason { code, text };
    if let Some(c) = flagged(checks, "transfer-stall") {
        return reason("transfer-stall", c.explanation.clone());
    }
    if verdict.delete_itl == DeleteItl::Required {
        return reason(
            "all-four-hold",
            "all four conditions hold and no recovery path is open".into(),
        );
    }
    if let Some(c) = flagged(checks, "boot-loop") {
        return reason("boot-loop", c.explanation.clone());
    }
    let c = &verdict.conditions;
    match verdict.delete_itl {
        DeleteItl::Required => reason(
            "all-four-hold",
            "all four conditions hold and no recovery path is open".into(),
        ),
        DeleteItl::NotRequired => {
            let (code, name) = if c.itl_differs.value == Some(false) {
                if installed.is_some_and(|i| i.not_installed) {
                    ("no-itl-installed", "itl_differs")
                } else {
                    ("itl-matches-served", "itl_differs")
                }
            } else if c.tvs_cert_mismatch.value == Some(false) {
                ("tvs-certificate-in-itl", "tvs_cert_mismatch")
            } else if c.phone_verification_failed.value == Some(false) {
                ("phone-shows-no-failure", "phone_verification_failed")
            } else if let Some(open) = verdict.recovery.open().filter(|o| o.id != "key-backup") {
                return reason(
                    "recovery-path-open",
                    format!("recovery path {} is open: {}", open.id, open.explanation),
                );
            } else {
                ("key-backup-exists", "no_key_backup")
            };
            reason(code, reason_about(verdict, name))
        }
        DeleteItl::Undetermined => {
            if let Some(check) = flagged(checks, "tvs-unreachable") {
                return reason("tvs-unreachable", check.explanation.clone());
            }
            if let Some(check) =
                flagged(checks, "bad-signature").or_else(|| flagged(checks, "unparseable"))
            {
                return reason("served-itl-broken", check.explanation.clone());
            }
            if c.itl_differs.value.is_none() {
                let code = if installed.is_some() && served.is_none() {
                    "no-served-itl"
                } else {
                    "installed-itl-unknown"
                };
                return reason(code, reason_about(verdict, "itl_differs"));
            }
            if c.tvs_cert_mismatch.value.is_none() {
                return reason(
                    "tvs-match-unknown",
                    reason_about(verdict, "tvs_cert_mismatch"),
                );
            }
            if c.phone_verification_failed.value.is_some() && c.no_key_backup.value.is_some() {
                return reason(
                    "recovery-path-unknown",
                    format!(
                        "no_recovery_path is unknown: {}",
                        verdict.recovery.no_recovery_path.explanation
                    ),
                );
            }
            reason(
                "needs-operator-facts",
                "the phone's ITL differs from the served one and TVS presents a certificate it does not list: deletion depends on --phone-status and --key-backup".into(),
            )
        }
    }
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
        assert_eq!(r.text, "itl_differs: a");
    }
}
