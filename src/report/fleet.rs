//! The fleet summary at the top of the readable report when a capture holds more than a few
//! phones (a SPAN of a voice VLAN): how many phones per verdict and per main reason, and the
//! phones grouped by main reason, so the list of phones that need a hand is read off at once.

use crate::diagnosis::Diagnosis;
use crate::diagnosis::model::{DeleteItl, PhoneDiagnosis};
use crate::diagnosis::reason::CODES;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

/// Phones from which on the summary is written (below, the phone blocks say it all).
pub const MIN_PHONES: usize = 4;

/// Width the phone lists are wrapped at.
const WIDTH: usize = 100;

/// How the summary names a phone: `SEP<MAC>`, else its IP.
pub fn phone_name(p: &PhoneDiagnosis) -> String {
    name_of(p.mac.as_deref(), p.ip)
}

fn name_of(mac: Option<&str>, ip: Option<IpAddr>) -> String {
    match (mac, ip) {
        (Some(mac), _) => format!("SEP{mac}"),
        (None, Some(ip)) => ip.to_string(),
        (None, None) => "unidentified".to_string(),
    }
}

/// What the fleet summary and the readable report's verdict table read of one phone: a few
/// hundred bytes, where its whole diagnosis is tens of KiB. The text report keeps one per
/// phone for its top (issue 20, fleet scale) and diagnoses each phone again for its section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneLine {
    /// The phone's MAC, upper-case hex without separators.
    pub mac: Option<String>,
    /// The phone's address.
    pub ip: Option<IpAddr>,
    /// The verdict.
    pub delete_itl: DeleteItl,
    /// The main reason's code (the summary's grouping key).
    pub reason_code: &'static str,
    /// The main reason's text (the verdict table's reason).
    pub reason_text: String,
}

impl PhoneLine {
    /// The line of `p`.
    pub fn of(p: &PhoneDiagnosis) -> Self {
        PhoneLine {
            mac: p.mac.clone(),
            ip: p.ip,
            delete_itl: p.verdict.delete_itl,
            reason_code: p.main_reason.code,
            reason_text: p.main_reason.text.clone(),
        }
    }

    /// How the summary names the phone (as [`phone_name`]).
    pub fn fleet_name(&self) -> String {
        name_of(self.mac.as_deref(), self.ip)
    }
}

/// What one main reason means for the phones under it, in a few words.
fn gloss(code: &str) -> &'static str {
    match code {
        "transfer-stall" => "downloads stall: fix the MTU/transport, do not delete ITLs",
        "boot-loop" => "reboots again and again: will not recover on its own",
        "all-four-hold" => "delete the ITL",
        "no-itl-installed" => "no ITL installed: nothing to delete",
        "itl-matches-served" => "holds the served ITL",
        "tvs-certificate-in-itl" => "TVS vouches for the new signer",
        "phone-shows-no-failure" => "shows no verification failure",
        "key-backup-exists" => "restore the old TFTP key",
        "tvs-unreachable" => "TVS unreachable: a service problem",
        "served-itl-broken" => "the served ITL is broken",
        "no-served-itl" => "no ITL downloaded whole",
        "installed-itl-unknown" => "installed ITL unknown",
        "tvs-match-unknown" => "TVS certificate not compared",
        "needs-operator-facts" => "ITL differs, TVS mismatch: --phone-status/--key-backup decide",
        _ => "",
    }
}

/// The summary block (empty below [`MIN_PHONES`] phones).
pub fn summary(diagnosis: &Diagnosis) -> String {
    let lines: Vec<PhoneLine> = diagnosis.phones.iter().map(PhoneLine::of).collect();
    summary_of(&lines)
}

/// The summary block of the phones' lines (empty below [`MIN_PHONES`] phones); the same as
/// [`summary`] of their diagnoses.
pub fn summary_of(phones: &[PhoneLine]) -> String {
    let mut out = String::new();
    if phones.len() < MIN_PHONES {
        return out;
    }
    let count = |d: DeleteItl| phones.iter().filter(|p| p.delete_itl == d).count();
    let _ = writeln!(out, "\nFleet summary ({} phones)", phones.len());
    let _ = writeln!(
        out,
        "  verdicts: {} required, {} not-required, {} undetermined",
        count(DeleteItl::Required),
        count(DeleteItl::NotRequired),
        count(DeleteItl::Undetermined)
    );
    // Grouped in the order the codes are tried, so the urgent ones come first.
    let mut groups: BTreeMap<usize, (&str, Vec<&PhoneLine>)> = BTreeMap::new();
    for p in phones {
        let code = p.reason_code;
        let rank = CODES.iter().position(|c| *c == code).unwrap_or(CODES.len());
        groups.entry(rank).or_insert((code, Vec::new())).1.push(p);
    }
    let _ = writeln!(out, "  main reasons:");
    for (code, members) in groups.values() {
        let _ = writeln!(out, "    {:>6}  {code:<24} {}", members.len(), gloss(code));
    }
    let _ = writeln!(out, "  phones by main reason:");
    for (code, members) in groups.values() {
        let _ = writeln!(out, "    {code} ({}):", members.len());
        let mut line = String::from("      ");
        for p in members {
            let name = p.fleet_name();
            if line.len() > 6 && line.len() + name.len() + 1 > WIDTH {
                let _ = writeln!(out, "{line}");
                line = String::from("      ");
            }
            if line.len() > 6 {
                line.push(' ');
            }
            line.push_str(&name);
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::device::DeviceInfo;
    use crate::diagnosis::model::{Condition, Conditions, Verdict};
    use crate::diagnosis::reason::MainReason;

    fn phone(mac: u32, d: DeleteItl, code: &'static str) -> PhoneDiagnosis {
        let c = || Condition::new(None, "");
        PhoneDiagnosis {
            mac: Some(format!("0011{mac:08X}")),
            ip: None,
            other_ips: Vec::new(),
            verdict: Verdict {
                delete_itl: d,
                conditions: Conditions {
                    itl_differs: c(),
                    tvs_cert_mismatch: c(),
                    phone_verification_failed: c(),
                    no_key_backup: c(),
                },
                recovery: Default::default(),
                reasons: Vec::new(),
                next_steps: Vec::new(),
            },
            checks: Vec::new(),
            trust_path: None,
            installed_itl: None,
            served_itl: None,
            timeline: Vec::new(),
            files: Vec::new(),
            tls: Vec::new(),
            alarms: Vec::new(),
            device: DeviceInfo::default(),
            registration: None,
            sip_registration: None,
            reported: Vec::new(),
            main_reason: MainReason {
                code,
                text: String::new(),
            },
        }
    }

    #[test]
    fn few_phones_get_no_summary() {
        let d = Diagnosis {
            phones: vec![phone(1, DeleteItl::NotRequired, "itl-matches-served")],
            ..Default::default()
        };
        assert_eq!(summary(&d), "");
    }

    #[test]
    fn counts_and_groups_by_reason_urgent_first() {
        let mut phones = Vec::new();
        for i in 0..30 {
            phones.push(phone(i, DeleteItl::NotRequired, "itl-matches-served"));
        }
        phones.push(phone(100, DeleteItl::Undetermined, "transfer-stall"));
        phones.push(phone(101, DeleteItl::Required, "all-four-hold"));
        let d = Diagnosis {
            phones,
            ..Default::default()
        };
        let s = summary(&d);
        assert!(s.contains("Fleet summary (32 phones)"), "{s}");
        assert!(
            s.contains("1 required, 30 not-required, 1 undetermined"),
            "{s}"
        );
        let stall = s.find("transfer-stall (1):").expect("stall group");
        let all = s.find("all-four-hold (1):").expect("required group");
        let ok = s.find("itl-matches-served (30):").expect("healthy group");
        assert!(stall < all && all < ok, "{s}");
        assert!(s.contains("SEP001100000064"), "{s}");
        // Every phone is listed once, and no line runs past the width.
        assert_eq!(s.matches("SEP0011").count(), 32);
        assert!(s.lines().all(|l| l.len() <= WIDTH), "{s}");
        assert!(s.contains("30  itl-matches-served"), "{s}");
    }
}
