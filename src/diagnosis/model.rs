//! The diagnosis's output: owned plain data the reports format.

use crate::capture::Timestamp;
use crate::evidence::Seen;
use schemars::JsonSchema;
use serde::Serialize;
use std::net::IpAddr;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// What the check looks for is there and sound.
    Pass,
    /// It is there and wrong.
    Fail,
    /// The capture (and the options) cannot tell.
    Unknown,
    /// Nothing of what the check looks at is in the capture, and nothing is missing for it:
    /// no question to answer (e.g. no other TLS server met).
    NotApplicable,
}

impl Status {
    /// `pass`, `fail`, `unknown` or `not-applicable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::NotApplicable => "not-applicable",
        }
    }
}

/// One piece of evidence behind a check: where it was seen and what it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    /// Index of the capture in `Evidence::captures`, when the item comes from a capture.
    pub capture: Option<usize>,
    /// Frame number (within that capture), when the item comes from a capture.
    pub frame: Option<u64>,
    /// Capture time of that frame.
    pub time: Option<Timestamp>,
    /// One line of prose.
    pub detail: String,
    /// Names, hashes, serials, counts… as typed key/value pairs for machines.
    pub attrs: Vec<(&'static str, AttrValue)>,
}

/// The value of an evidence attribute: a JSON boolean, number or string, never a number or
/// boolean written as text. An enumeration is two attributes: `x` its name, `x_code` its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AttrValue {
    /// A yes/no fact.
    Bool(bool),
    /// A count, index or code.
    Number(u64),
    /// A name, hash (lower-case hex), serial, endpoint or time (RFC 3339).
    Text(String),
}

impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}

impl From<u64> for AttrValue {
    fn from(v: u64) -> Self {
        AttrValue::Number(v)
    }
}

impl From<u32> for AttrValue {
    fn from(v: u32) -> Self {
        AttrValue::Number(u64::from(v))
    }
}

impl From<u16> for AttrValue {
    fn from(v: u16) -> Self {
        AttrValue::Number(u64::from(v))
    }
}

impl From<u8> for AttrValue {
    fn from(v: u8) -> Self {
        AttrValue::Number(u64::from(v))
    }
}

impl From<usize> for AttrValue {
    fn from(v: usize) -> Self {
        // usize is at most 64 bits on every supported target.
        AttrValue::Number(u64::try_from(v).unwrap_or(u64::MAX))
    }
}

impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        AttrValue::Text(v)
    }
}

impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        AttrValue::Text(v.to_owned())
    }
}

impl From<&String> for AttrValue {
    fn from(v: &String) -> Self {
        AttrValue::Text(v.clone())
    }
}

impl EvidenceItem {
    /// An item seen at `seen`.
    pub fn at(seen: Seen, detail: impl Into<String>) -> Self {
        EvidenceItem {
            capture: Some(seen.capture),
            frame: Some(seen.frame),
            time: Some(seen.ts),
            detail: detail.into(),
            attrs: Vec::new(),
        }
    }
    /// An item from outside the capture (an option, a file).
    pub fn note(detail: impl Into<String>) -> Self {
        EvidenceItem {
            capture: None,
            frame: None,
            time: None,
            detail: detail.into(),
            attrs: Vec::new(),
        }
    }
    /// Adds a typed attribute (`key` is a fixed name of docs/report.md).
    pub fn with(mut self, key: &'static str, value: impl Into<AttrValue>) -> Self {
        self.attrs.push((key, value.into()));
        self
    }

    /// Adds an enumeration: `key` its name (when known), `key_code` its code.
    pub fn with_code(
        mut self,
        key: &'static str,
        key_code: &'static str,
        name: Option<impl Into<String>>,
        code: impl Into<AttrValue>,
    ) -> Self {
        if let Some(name) = name {
            self.attrs.push((key, AttrValue::Text(name.into())));
        }
        self.attrs.push((key_code, code.into()));
        self
    }
}

/// One check of a phone's trust state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable identifier (`trust-list-downloads`, `served-itl`, …; see docs/report.md).
    pub id: &'static str,
    /// Outcome.
    pub status: Status,
    /// One line saying what was found and what it means.
    pub explanation: String,
    /// Machine-readable findings (`rollback-itl`, `tvs-unreachable`, …).
    pub flags: Vec<&'static str>,
    /// What the explanation rests on.
    pub evidence: Vec<EvidenceItem>,
}

/// One of the four conditions: true, false or unknown, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `Some(true)`, `Some(false)` or `None` (unknown).
    pub value: Option<bool>,
    /// Why, in one line.
    pub explanation: String,
}

impl Condition {
    /// Builds a condition.
    pub fn new(value: Option<bool>, explanation: impl Into<String>) -> Self {
        Condition {
            value,
            explanation: explanation.into(),
        }
    }
}

/// The four conditions of Cisco's guidance; deletion is needed only when all four hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    /// The phone's installed ITL differs from the ITL the server sent.
    pub itl_differs: Condition,
    /// A certificate presented on port 2445 matches no TVS record of the phone's ITL.
    pub tvs_cert_mismatch: Condition,
    /// The phone shows a verification failure (`--phone-status`).
    pub phone_verification_failed: Condition,
    /// No backup of the old TFTP private key exists (`--key-backup`).
    pub no_key_backup: Condition,
}

impl Conditions {
    /// The four conditions with their contract names, in order.
    pub fn named(&self) -> [(&'static str, &Condition); 4] {
        [
            ("itl_differs", &self.itl_differs),
            ("tvs_cert_mismatch", &self.tvs_cert_mismatch),
            ("phone_verification_failed", &self.phone_verification_failed),
            ("no_key_backup", &self.no_key_backup),
        ]
    }
}

/// Condition 4 as the TAC note means it: can any key the phone trusts still sign a file it
/// will accept? `no_recovery_path` is true only when every path is closed; the verdict is
/// `required` only then (with conditions 1-3 true), `not-required` as soon as one is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// True when every path is closed, false when one is open, else unknown.
    pub no_recovery_path: Condition,
    /// Every path (other TVS, ITLRecovery, CTL, key backup) with its state and why.
    pub paths: Vec<crate::trust::recovery::RecoveryPath>,
}

impl Default for Recovery {
    fn default() -> Self {
        Recovery {
            no_recovery_path: Condition::new(None, "not judged"),
            paths: Vec::new(),
        }
    }
}

impl Recovery {
    /// The first open path, if any.
    pub fn open(&self) -> Option<&crate::trust::recovery::RecoveryPath> {
        self.paths
            .iter()
            .find(|p| p.state == crate::trust::recovery::PathState::Open)
    }
}

/// Must the ITL be deleted?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteItl {
    /// All four conditions hold.
    Required,
    /// At least one condition is false.
    NotRequired,
    /// None is false, at least one is unknown.
    Undetermined,
}

impl DeleteItl {
    /// `required`, `not-required` or `undetermined`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteItl::Required => "required",
            DeleteItl::NotRequired => "not-required",
            DeleteItl::Undetermined => "undetermined",
        }
    }
}

/// The verdict of one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The answer.
    pub delete_itl: DeleteItl,
    /// The four conditions.
    pub conditions: Conditions,
    /// The recovery paths: condition 4 generalised, which decides with conditions 1-3.
    pub recovery: Recovery,
    /// Which conditions decided it, in words.
    pub reasons: Vec<String>,
    /// What to do, from the documented recovery paths, each with what calls for it.
    pub next_steps: Vec<NextStep>,
}

/// One thing to do, and the evidence that calls for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NextStep {
    /// Stable identifier (`restore-tftp-key`, `tvs-tls-version`, …; docs/report.md).
    pub id: &'static str,
    /// What to do, in one paragraph.
    pub text: String,
    /// Why it is advised: the conditions (`itl_differs = true`), check findings
    /// (`tvs-reachability: tvs-unreachable`), trust-path steps and options it follows from.
    pub because: Vec<String>,
}

/// Would the phone accept a file? The one answer of the tool's trust decision.
pub use crate::trust::Acceptance;

/// How the phone would (or would not) come to trust one served file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStep {
    /// The answer.
    pub acceptance: Acceptance,
    /// How: `same-file`, `no-itl`, `rollback-itl`, `signer-in-itl`, `via-tvs`, or None.
    pub via: Option<&'static str>,
    /// One line.
    pub explanation: String,
}

/// Would the phone accept the served ITL and config, given its installed ITL?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPath {
    /// What the phone's installed ITL is known from.
    pub basis: String,
    /// The served ITL.
    pub itl: PathStep,
    /// The served config.
    pub config: PathStep,
}

/// What is known of the ITL the phone has installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledItl {
    /// `phone-itl-file`, `phone-itl-hash` or `device-tl-info`.
    pub source: &'static str,
    /// The phone reported no ITL installed.
    pub not_installed: bool,
    /// Hash algorithm of `hash`.
    pub hash_algorithm: Option<&'static str>,
    /// The hash, lower-case hex.
    pub hash: Option<String>,
    /// Capture of the alarm (index in `Evidence::captures`), for `device-tl-info`.
    pub capture: Option<usize>,
    /// Frame of the alarm, for `device-tl-info`.
    pub frame: Option<u64>,
}

/// The ITL the server sent to this phone (the one the verdict compares against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedItl {
    /// Requested name.
    pub name: String,
    /// Index into `Evidence::files`.
    pub file: usize,
    /// Index of the capture of the request in `Evidence::captures`.
    pub capture: usize,
    /// Frame of the request.
    pub frame: u64,
    /// Size in bytes.
    pub size: usize,
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
    /// Parsed.
    pub parsed: bool,
    /// Its own signature holds (None: not checked or not checkable).
    pub signature_valid: Option<bool>,
    /// The signer record, described.
    pub signer: Option<String>,
    /// A "Prepare Cluster for Rollback" ITL.
    pub rollback: bool,
}

/// A trust-relevant event, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEvent {
    /// Index of the capture in `Evidence::captures`.
    pub capture: usize,
    /// Frame number (within that capture).
    pub frame: u64,
    /// Capture time.
    pub time: Timestamp,
    /// What happened.
    pub what: String,
    /// The other end of the exchange (a server), for a ladder diagram; None for what has no
    /// single peer.
    pub peer: Option<crate::evidence::Endpoint>,
    /// What the peer is to the phone: `tftp`, `http`, `tvs`, `https`, `capf`, … (None with
    /// no peer).
    pub service: Option<String>,
    /// True when the phone sends the message (a request, a ClientHello, an alarm), false when
    /// the server does.
    pub from_phone: bool,
    /// A failure: an error answer, a fatal alert, a connection never answered or refused, a
    /// transfer left incomplete.
    pub failed: bool,
}

/// The diagnosis of one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneDiagnosis {
    /// MAC (12 upper-case hex), when a requested name or alarm carried it.
    pub mac: Option<String>,
    /// The phone's address (the first seen).
    pub ip: Option<IpAddr>,
    /// Further addresses of the same phone.
    pub other_ips: Vec<IpAddr>,
    /// The verdict.
    pub verdict: Verdict,
    /// The checks, in a fixed order.
    pub checks: Vec<Check>,
    /// The trust path, when the phone's installed ITL is known.
    pub trust_path: Option<TrustPath>,
    /// What is known of the installed ITL.
    pub installed_itl: Option<InstalledItl>,
    /// The served ITL compared against.
    pub served_itl: Option<ServedItl>,
    /// Trust-relevant events in time order (across captures).
    pub timeline: Vec<TimelineEvent>,
    /// What `--evidence` files say about this phone, in file and line order (phone clocks
    /// carry no year and are not the capture's, so these are not merged into `timeline`).
    pub reported: Vec<ReportedEvent>,
    /// Indices into `Evidence::files`.
    pub files: Vec<usize>,
    /// Indices into `Evidence::tls`.
    pub tls: Vec<usize>,
    /// Indices into `Evidence::alarms`.
    pub alarms: Vec<usize>,
    /// Model and firmware, when the capture shows them.
    pub device: super::device::DeviceInfo,
    /// The phone's SCCP registration (name, model, CUCM), when it registered over SCCP.
    pub registration: Option<Registration>,
    /// The phone's last SIP registration as its `SEP<MAC>` (UDP or TCP 5060), when any.
    pub sip_registration: Option<crate::evidence::SipRegistration>,
    /// The one main reason of the verdict (a stable code for grouping a fleet).
    pub main_reason: MainReason,
}

/// What a phone's SCCP registration says: its name, model and the CUCM it registered to
/// (the last registration the capture holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Device name as sent (`SEP0011223344AA`).
    pub device_name: String,
    /// Model (`7970`, else `device type N`), None when the message did not carry it.
    pub model: Option<String>,
    /// The CUCM's end (address and port 2000).
    pub cucm: crate::evidence::Endpoint,
    /// `accepted`, `rejected` or `unanswered`.
    pub outcome: &'static str,
    /// CUCM's reject text, when rejected.
    pub reason: Option<String>,
    /// The `StationRegister`'s frame.
    pub seen: Seen,
}

/// The main reason: a code from [`super::reason::CODES`] and one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainReason {
    /// Stable code (see [`super::reason::CODES`]).
    pub code: &'static str,
    /// One line of prose, with the evidence.
    pub text: String,
}

/// The diagnosis of a whole capture set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnosis {
    /// One per phone.
    pub phones: Vec<PhoneDiagnosis>,
    /// Remarks about the whole analysis (ignored hosts, facts applied to several phones…).
    pub notes: Vec<String>,
    /// What was read from each `--evidence` file.
    pub evidence_files: Vec<crate::sidecar::IngestedFile>,
}

/// One fact from an `--evidence` file, for the phone's reported timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedEvent {
    /// `file[!member]:line`.
    pub source: String,
    /// The timestamp as the file writes it.
    pub time: Option<String>,
    /// The fact's kind (`trust-list-verified`, `device-tl-info`…).
    pub kind: &'static str,
    /// What it says.
    pub what: String,
}
