//! The `analyze --json` object (documented in docs/report.md, schema in
//! docs/schema/analyze.schema.json): `schema_version`, `captures`, `phones` (the verdict
//! contract), `files`, `tls`, `alarms` and `notes`.
//!
//! Every object is a `#[derive(Serialize, JsonSchema)]` view borrowing from the diagnosis and
//! the evidence; the schema is generated from these types. The report is written straight to
//! a writer, one list element at a time ([`Lazy`]): only one element's view exists at once,
//! so a report with 100,000 files or sessions costs no more memory than one.

use super::evidence::{AlarmJson, FileJson, TlsAggregateJson, TlsJson, rfc3339};
use crate::diagnosis::model::{
    Acceptance, AttrValue, Check, Condition, DeleteItl, EvidenceItem, InstalledItl, PathStep,
    PhoneDiagnosis, ReportedEvent, ServedItl, Status, TimelineEvent, TrustPath,
};
use crate::diagnosis::{Diagnosis, Prepared};
use crate::events::LimitEvent;
use crate::evidence::{CaptureSummary, Evidence};
use crate::sidecar::IngestedFile;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::Cell;
use std::io::Write;

/// Version of the JSON layout; bumped when a field changes meaning or disappears.
///
/// 2: typed evidence attributes, enumerations as name + code, RFC 4514 names, objects for
/// byte ranges and options (docs/report.md, "Changes").
pub const SCHEMA_VERSION: u32 = 2;

/// Frames of one link type in a capture.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LinkTypeJson {
    /// tcpdump's `LINKTYPE_` name in lower case (`ethernet`); null for types itlscope does
    /// not decode.
    pub link_type: Option<&'static str>,
    /// The link type's number (1 for Ethernet).
    pub link_type_code: u32,
    /// Frames of that type.
    pub frames: u64,
}

/// What was read of one capture file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CaptureJson<'a> {
    /// The file as named on the command line (`-` for standard input).
    pub path: &'a str,
    /// `pcap` or `pcapng`.
    pub format: &'a str,
    /// Frames read.
    pub frames: u64,
    /// Bytes of the file consumed.
    pub bytes: u64,
    /// Frames per link type.
    pub link_types: Vec<LinkTypeJson>,
    /// Frames whose headers lied, skipped.
    pub malformed: u64,
    /// Frames cut by the snaplen.
    pub snaplen_truncated: u64,
    /// Why reading stopped before the end of the file; null when it did not.
    pub truncated: Option<&'a str>,
    /// First capture time.
    pub first_time: Option<String>,
    /// Last capture time.
    pub last_time: Option<String>,
    /// Limits that cut something off, in words (one per entry of `limit_events`, same order).
    pub limits_hit: Vec<String>,
    /// The same limits, typed.
    pub limit_events: Vec<LimitEventJson>,
    /// Other facts about the file (skipped records, compression…), in words.
    pub notes: &'a [String],
    /// Frames unwrapped per tunnel kind.
    pub encapsulations: Vec<EncapsulationJson<'a>>,
    /// Frames not decoded, per reason.
    pub skipped: Vec<SkippedJson<'a>>,
}

/// One limit that cut something off (or input a stage had to drop), typed: the entry of
/// `limits_hit` at the same index says it in words.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LimitEventJson {
    /// Stable kebab-case name (`file-transfers-cut`, `tcp-flows-evicted`…; docs/report.md).
    pub kind: String,
    /// `capture`, `network`, `transport`, `application`, `files` or `records`.
    pub stage: &'static str,
    /// How many records, frames, datagrams, segments… it concerns.
    pub count: u64,
    /// The value of the limit reached (bytes, entries, seconds); null for an anomaly no
    /// limit caused.
    pub limit: Option<u64>,
    /// First frame concerned; null when the stage does not track it (unknown, not none).
    pub first_frame: Option<u64>,
    /// Byte offset in the capture file, for the reader's events; null otherwise.
    pub byte_offset: Option<u64>,
    /// How many tunnels deep the decoder that met it was (0: outside any tunnel).
    pub tunnel_depth: u8,
}

impl From<&LimitEvent> for LimitEventJson {
    fn from(e: &LimitEvent) -> Self {
        LimitEventJson {
            kind: e.kind(),
            stage: e.stage().as_str(),
            count: e.count(),
            limit: e.limit(),
            first_frame: e.first_frame(),
            byte_offset: e.byte_offset(),
            tunnel_depth: match e {
                LimitEvent::Network { tunnel_depth, .. } => *tunnel_depth,
                _ => 0,
            },
        }
    }
}

/// Frames unwrapped from one kind of encapsulation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EncapsulationJson<'a> {
    /// `gre`, `erspan-i`, `erspan-ii`, `erspan-iii`, `vxlan`, `mpls`, `pppoe`, `ip-in-ip`,
    /// `geneve`, `gtp-u`, `etherip`, `llc-snap`.
    pub encapsulation: &'a str,
    /// For people: "ERSPAN type II".
    pub name: &'a str,
    /// Frames.
    pub frames: u64,
}

/// Frames skipped for one reason.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SkippedJson<'a> {
    /// `unsupported-link-type`, `gre-protocol`, `gre-version`, `gre-routing`,
    /// `erspan-version`, `erspan-frame-type`, `mpls-payload`, `mpls-label-stack`,
    /// `short-encapsulation-header`, `tunnel-nesting`, `other`.
    pub reason: &'a str,
    /// The number the reason is about (link type, GRE protocol type, version…), if any.
    pub code: Option<u32>,
    /// For people.
    pub detail: &'a str,
    /// Frames.
    pub frames: u64,
}

impl<'a> From<&'a CaptureSummary> for CaptureJson<'a> {
    fn from(c: &'a CaptureSummary) -> Self {
        CaptureJson {
            path: &c.path,
            format: &c.format,
            frames: c.frames,
            bytes: c.bytes,
            link_types: c
                .link_types
                .iter()
                .map(|&(code, frames)| LinkTypeJson {
                    link_type: crate::capture::LinkType(code).key(),
                    link_type_code: code,
                    frames,
                })
                .collect(),
            malformed: c.malformed,
            snaplen_truncated: c.snaplen_truncated,
            truncated: c.truncated.as_deref(),
            first_time: c.first_ts.map(rfc3339),
            last_time: c.last_ts.map(rfc3339),
            limits_hit: super::limits::limit_texts(&c.limits_hit),
            limit_events: c.limits_hit.iter().map(LimitEventJson::from).collect(),
            notes: &c.notes,
            encapsulations: c
                .encapsulations
                .iter()
                .map(|e| EncapsulationJson {
                    encapsulation: &e.id,
                    name: &e.name,
                    frames: e.frames,
                })
                .collect(),
            skipped: c
                .skipped
                .iter()
                .map(|k| SkippedJson {
                    reason: &k.reason,
                    code: k.code,
                    detail: &k.detail,
                    frames: k.frames,
                })
                .collect(),
        }
    }
}

/// The typed attributes of an evidence item, written as one JSON object.
#[derive(Debug, Clone)]
pub struct Attrs<'a>(&'a [(&'static str, AttrValue)]);

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl JsonSchema for Attrs<'_> {
    fn schema_name() -> Cow<'static, str> {
        "Attrs".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<AttrValue>();
        schemars::json_schema!({
            "description": "Names, hashes, serials, counts… of the evidence item (keys in docs/report.md): booleans and numbers typed, an enumeration as `x` (name) and `x_code` (code).",
            "type": "object",
            "additionalProperties": value,
        })
    }
}

/// One piece of evidence behind a check.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidenceJson<'a> {
    /// Index into `captures` of the capture the frame is in.
    pub capture: Option<usize>,
    /// Frame number, when the item comes from the capture.
    pub frame: Option<u64>,
    /// Capture time of that frame.
    pub time: Option<String>,
    /// One line of prose.
    pub detail: &'a str,
    /// Typed attributes for machines.
    pub attrs: Attrs<'a>,
}

impl<'a> From<&'a EvidenceItem> for EvidenceJson<'a> {
    fn from(e: &'a EvidenceItem) -> Self {
        EvidenceJson {
            capture: e.capture,
            frame: e.frame,
            time: e.time.map(rfc3339),
            detail: &e.detail,
            attrs: Attrs(&e.attrs),
        }
    }
}

/// One check of a phone's trust state.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckJson<'a> {
    /// Stable identifier (`served-itl`, `tvs-certificate`…).
    pub id: &'static str,
    /// Outcome.
    pub status: Status,
    /// One line saying what was found and what it means.
    pub explanation: &'a str,
    /// Machine-readable findings (`rollback-itl`, `tvs-unreachable`…).
    pub flags: &'a [&'static str],
    /// What the explanation rests on.
    pub evidence: Vec<EvidenceJson<'a>>,
}

impl<'a> From<&'a Check> for CheckJson<'a> {
    fn from(c: &'a Check) -> Self {
        CheckJson {
            id: c.id,
            status: c.status,
            explanation: &c.explanation,
            flags: &c.flags,
            evidence: c.evidence.iter().map(EvidenceJson::from).collect(),
        }
    }
}

/// The four conditions: true, false, or null (unknown).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConditionsJson {
    /// The phone's installed ITL differs from the served ITL.
    pub itl_differs: Option<bool>,
    /// A TVS certificate on the wire matches no TVS record of the phone's ITL.
    pub tvs_cert_mismatch: Option<bool>,
    /// The phone shows a verification failure.
    pub phone_verification_failed: Option<bool>,
    /// No backup of the old TFTP private key exists.
    pub no_key_backup: Option<bool>,
}

/// One condition with why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConditionJson<'a> {
    /// true, false, or null (unknown).
    pub value: Option<bool>,
    /// Why, in one line.
    pub explanation: &'a str,
}

impl<'a> From<&'a Condition> for ConditionJson<'a> {
    fn from(c: &'a Condition) -> Self {
        ConditionJson {
            value: c.value,
            explanation: &c.explanation,
        }
    }
}

/// The four conditions with their explanations.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConditionDetailsJson<'a> {
    /// Condition 1.
    pub itl_differs: ConditionJson<'a>,
    /// Condition 2.
    pub tvs_cert_mismatch: ConditionJson<'a>,
    /// Condition 3.
    pub phone_verification_failed: ConditionJson<'a>,
    /// Condition 4.
    pub no_key_backup: ConditionJson<'a>,
}

/// The recovery paths of one phone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecoveryJson<'a> {
    /// true when every path is closed, false when one is open, null when unknown.
    pub no_recovery_path: ConditionJson<'a>,
    /// Each path (`other-tvs`, `itl-recovery`, `ctl`, `key-backup`): open, closed or
    /// unknown, and why.
    pub paths: &'a [crate::trust::recovery::RecoveryPath],
}

/// The verdict of one phone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VerdictJson<'a> {
    /// `required` only when all four conditions hold.
    pub delete_itl: DeleteItl,
    /// The four conditions.
    pub conditions: ConditionsJson,
    /// The four conditions with their explanations.
    pub condition_details: ConditionDetailsJson<'a>,
    /// Condition 4 as the TAC note means it: the recovery paths, and `no_recovery_path`
    /// (true only when every path is closed), which decides with conditions 1-3.
    pub recovery: RecoveryJson<'a>,
    /// Which conditions decided it, in words.
    pub reasons: &'a [String],
    /// What to do.
    pub next_steps: &'a [crate::diagnosis::model::NextStep],
}

/// What is known of the ITL the phone has installed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InstalledJson<'a> {
    /// `phone-itl-file`, `phone-itl-hash` or `device-tl-info`.
    pub source: &'static str,
    /// The phone reported no ITL installed.
    pub not_installed: bool,
    /// `md5`, `sha1` or `sha256`.
    pub hash_algorithm: Option<&'static str>,
    /// The hash, lower-case hex.
    pub hash: Option<&'a str>,
    /// Index into `captures` of the alarm's capture (`device-tl-info`).
    pub capture: Option<usize>,
    /// Frame of the alarm, for `device-tl-info`.
    pub frame: Option<u64>,
}

impl<'a> From<&'a InstalledItl> for InstalledJson<'a> {
    fn from(i: &'a InstalledItl) -> Self {
        InstalledJson {
            source: i.source,
            not_installed: i.not_installed,
            hash_algorithm: i.hash_algorithm,
            hash: i.hash.as_deref(),
            capture: i.capture,
            frame: i.frame,
        }
    }
}

/// The ITL the server sent to this phone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServedJson<'a> {
    /// Requested name.
    pub name: &'a str,
    /// Index into the report's `files`.
    pub file: usize,
    /// Index into `captures` of the capture the request is in.
    pub capture: usize,
    /// Frame of the request.
    pub frame: u64,
    /// Size in bytes.
    pub size: usize,
    /// MD5, lower-case hex.
    pub md5: &'a str,
    /// SHA-1.
    pub sha1: &'a str,
    /// SHA-256.
    pub sha256: &'a str,
    /// It parses.
    pub parsed: bool,
    /// Its own signature holds; null when not checkable.
    pub signature_valid: Option<bool>,
    /// The signer record, described.
    pub signer: Option<&'a str>,
    /// A "Prepare Cluster for Rollback" ITL.
    pub rollback: bool,
}

impl<'a> From<&'a ServedItl> for ServedJson<'a> {
    fn from(s: &'a ServedItl) -> Self {
        ServedJson {
            name: &s.name,
            file: s.file,
            capture: s.capture,
            frame: s.frame,
            size: s.size,
            md5: &s.md5,
            sha1: &s.sha1,
            sha256: &s.sha256,
            parsed: s.parsed,
            signature_valid: s.signature_valid,
            signer: s.signer.as_deref(),
            rollback: s.rollback,
        }
    }
}

/// Would the phone accept one served file?
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepJson<'a> {
    /// The answer.
    pub acceptance: Acceptance,
    /// How: `same-file`, `no-itl`, `rollback-itl`, `signer-in-itl`, `signer-in-ctl`,
    /// `via-tvs`, or null.
    pub via: Option<&'static str>,
    /// One line.
    pub explanation: &'a str,
}

impl<'a> From<&'a PathStep> for StepJson<'a> {
    fn from(s: &'a PathStep) -> Self {
        StepJson {
            acceptance: s.acceptance,
            via: s.via,
            explanation: &s.explanation,
        }
    }
}

/// Would the phone accept the served ITL and config?
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrustPathJson<'a> {
    /// What the phone's installed ITL is known from.
    pub basis: &'a str,
    /// The served ITL.
    pub itl: StepJson<'a>,
    /// The served config.
    pub config: StepJson<'a>,
}

impl<'a> From<&'a TrustPath> for TrustPathJson<'a> {
    fn from(p: &'a TrustPath) -> Self {
        TrustPathJson {
            basis: &p.basis,
            itl: (&p.itl).into(),
            config: (&p.config).into(),
        }
    }
}

/// A trust-relevant event.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventJson<'a> {
    /// Index into `captures` of the capture the frame is in.
    pub capture: usize,
    /// Frame number.
    pub frame: u64,
    /// Capture time.
    pub time: String,
    /// What happened.
    pub what: &'a str,
}

impl<'a> From<&'a TimelineEvent> for EventJson<'a> {
    fn from(e: &'a TimelineEvent) -> Self {
        EventJson {
            capture: e.capture,
            frame: e.frame,
            time: rfc3339(e.time),
            what: &e.what,
        }
    }
}

/// One fact from an `--evidence` file, on the phone's reported timeline.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportedJson<'a> {
    /// Where it was read: `file!member:line`.
    pub source: &'a str,
    /// When the phone or CUCM said it happened, as written there; null when not given.
    pub time: Option<&'a str>,
    /// What kind of fact (`trust-list-verified`, `device-tl-info`…).
    pub kind: &'static str,
    /// What it says.
    pub what: &'a str,
}

impl<'a> From<&'a ReportedEvent> for ReportedJson<'a> {
    fn from(e: &'a ReportedEvent) -> Self {
        ReportedJson {
            source: &e.source,
            time: e.time.as_deref(),
            kind: e.kind,
            what: &e.what,
        }
    }
}

/// One part of an `--evidence` file (the file itself, or a member of an archive).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidencePartJson<'a> {
    /// The archive member, null for the file itself.
    pub member: Option<&'a str>,
    /// What it was taken for: `console-log`, `status-messages`, `cucm-cli`, `certificate`,
    /// `archive`; null when not recognised.
    pub kind: Option<&'static str>,
    /// Lines read.
    pub lines: usize,
    /// Lines recognised.
    pub recognised: usize,
    /// Lines ignored.
    pub ignored: usize,
    /// Remarks, in words.
    pub notes: &'a [String],
}

/// One `--evidence` file: what it was taken for, and per part what was read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidenceFileJson<'a> {
    /// The file as named on the command line.
    pub path: &'a str,
    /// What it was taken for; null when not recognised.
    pub kind: Option<&'static str>,
    /// Its parts.
    pub parts: Vec<EvidencePartJson<'a>>,
    /// Members skipped, in words.
    pub skipped: &'a [String],
}

impl<'a> From<&'a IngestedFile> for EvidenceFileJson<'a> {
    fn from(f: &'a IngestedFile) -> Self {
        EvidenceFileJson {
            path: &f.path,
            kind: f.kind.map(|k| k.as_str()),
            parts: f
                .parts
                .iter()
                .map(|p| EvidencePartJson {
                    member: p.member.as_deref(),
                    kind: p.kind.map(|k| k.as_str()),
                    lines: p.lines,
                    recognised: p.recognised,
                    ignored: p.ignored,
                    notes: &p.notes,
                })
                .collect(),
            skipped: &f.skipped,
        }
    }
}

/// A phone's main reason (docs/report.md, "Rows": the codes).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MainReasonJson<'a> {
    /// Stable code (`itl-matches-served`, `needs-operator-facts`, …).
    pub code: &'a str,
    /// The line, worded as in the text report.
    pub text: &'a str,
}

/// The diagnosis of one phone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PhoneJson<'a> {
    /// MAC, 12 upper-case hex digits, when a requested name or alarm carried it.
    pub mac: Option<&'a str>,
    /// The phone's address (the first seen).
    pub ip: Option<String>,
    /// Further addresses of the same phone.
    pub other_ips: Vec<String>,
    /// The verdict.
    pub verdict: VerdictJson<'a>,
    /// The one reason a fleet groups this phone by, and its line: the same line the text
    /// report's verdict table, the CSV/JSONL rows and the HTML table show.
    pub main_reason: MainReasonJson<'a>,
    /// What is known of the installed ITL.
    pub installed_itl: Option<InstalledJson<'a>>,
    /// The served ITL compared against.
    pub served_itl: Option<ServedJson<'a>>,
    /// The trust path, when the phone's installed ITL is known.
    pub trust_path: Option<TrustPathJson<'a>>,
    /// The checks, in a fixed order.
    pub checks: Vec<CheckJson<'a>>,
    /// Trust-relevant events.
    pub timeline: Vec<EventJson<'a>>,
    /// What the `--evidence` files say happened.
    pub reported_timeline: Vec<ReportedJson<'a>>,
    /// Indices into the report's `files`.
    pub files: &'a [usize],
    /// Indices into the report's `tls`.
    pub tls: Vec<usize>,
    /// Indices into the report's `alarms`.
    pub alarms: &'a [usize],
    /// The phone's SCCP registration (TCP 2000), present only when it registered over SCCP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sccp_registration: Option<RegistrationJson<'a>>,
    /// The phone's last SIP REGISTER as its `SEP<MAC>` (UDP or TCP 5060), present only when
    /// it registered over SIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_registration: Option<SipRegistrationJson<'a>>,
}

/// A phone's SIP registration: the name, agent and load it gave and the registrar.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SipRegistrationJson<'a> {
    /// Device name as sent (`SEP0011223344AA`).
    pub device_name: Option<&'a str>,
    /// The `User-Agent` header (`Cisco-CP8845/14.2.1`); null when not sent.
    pub user_agent: Option<&'a str>,
    /// `ActiveLoad=` of the cisco-alarm `Reason` header; null when not sent.
    pub active_load: Option<&'a str>,
    /// The registrar's address and port (`10.0.0.1:5060`).
    pub registrar: String,
    /// Index into `captures` of the registration's capture.
    pub capture: usize,
    /// Frame that completed the REGISTER's head.
    pub frame: u64,
}

/// A phone's SCCP registration: who it said it is and which CUCM it registered to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RegistrationJson<'a> {
    /// Device name as sent (`SEP0011223344AA`).
    pub device_name: &'a str,
    /// Model of the device type sent (`7970`, else `device type N`); null when not sent.
    pub model: Option<&'a str>,
    /// The CUCM's address and port (`10.0.0.1:2000`).
    pub cucm: String,
    /// `accepted` (RegisterAck), `rejected` (RegisterReject) or `unanswered`.
    pub outcome: &'static str,
    /// CUCM's reject text, when rejected.
    pub reason: Option<&'a str>,
    /// Index into `captures` of the registration's capture.
    pub capture: usize,
    /// Frame of the `StationRegister`.
    pub frame: u64,
}

impl<'a> PhoneJson<'a> {
    fn new(p: &'a PhoneDiagnosis, tls: &ListedTls) -> Self {
        let v = &p.verdict;
        let c = &v.conditions;
        PhoneJson {
            mac: p.mac.as_deref(),
            ip: p.ip.map(|ip| ip.to_string()),
            other_ips: p.other_ips.iter().map(ToString::to_string).collect(),
            verdict: VerdictJson {
                delete_itl: v.delete_itl,
                conditions: ConditionsJson {
                    itl_differs: c.itl_differs.value,
                    tvs_cert_mismatch: c.tvs_cert_mismatch.value,
                    phone_verification_failed: c.phone_verification_failed.value,
                    no_key_backup: c.no_key_backup.value,
                },
                condition_details: ConditionDetailsJson {
                    itl_differs: (&c.itl_differs).into(),
                    tvs_cert_mismatch: (&c.tvs_cert_mismatch).into(),
                    phone_verification_failed: (&c.phone_verification_failed).into(),
                    no_key_backup: (&c.no_key_backup).into(),
                },
                recovery: RecoveryJson {
                    no_recovery_path: (&v.recovery.no_recovery_path).into(),
                    paths: &v.recovery.paths,
                },
                reasons: &v.reasons,
                next_steps: &v.next_steps,
            },
            main_reason: MainReasonJson {
                code: p.main_reason.code,
                text: &p.main_reason.text,
            },
            installed_itl: p.installed_itl.as_ref().map(Into::into),
            served_itl: p.served_itl.as_ref().map(Into::into),
            trust_path: p.trust_path.as_ref().map(Into::into),
            checks: p.checks.iter().map(Into::into).collect(),
            timeline: p.timeline.iter().map(Into::into).collect(),
            reported_timeline: p.reported.iter().map(Into::into).collect(),
            files: &p.files,
            tls: p.tls.iter().filter_map(|&i| tls.position(i)).collect(),
            alarms: &p.alarms,
            sccp_registration: p.registration.as_ref().map(|r| RegistrationJson {
                device_name: &r.device_name,
                model: r.model.as_deref(),
                cucm: r.cucm.to_string(),
                outcome: r.outcome,
                reason: r.reason.as_deref(),
                capture: r.seen.capture,
                frame: r.seen.frame,
            }),
            sip_registration: p.sip_registration.as_ref().map(|r| SipRegistrationJson {
                device_name: r.device_name.as_deref(),
                user_agent: r.user_agent.as_deref(),
                active_load: r.active_load.as_deref(),
                registrar: r.registrar.to_string(),
                capture: r.seen.capture,
                frame: r.seen.frame,
            }),
        }
    }
}

/// The TLS sessions the report lists: those of the diagnosed phones, in evidence order.
/// Sessions of hosts that are not diagnosed (a PC browsing, phones over `--max-phones`) are
/// left out, with a note, so the list grows with the phones, not with the capture.
struct ListedTls(Vec<usize>);

impl ListedTls {
    fn of(diagnosis: &Diagnosis) -> Self {
        Self::of_sessions(diagnosis.phones.iter().map(|p| p.tls.as_slice()))
    }

    /// The same list from the phones' evidence, before any phone is diagnosed (a phone's
    /// diagnosis lists exactly its evidence's sessions).
    fn of_prepared(prepared: &Prepared<'_>) -> Self {
        Self::of_sessions(prepared.groups().iter().map(|g| g.tls.as_slice()))
    }

    fn of_sessions<'s>(phones: impl Iterator<Item = &'s [usize]>) -> Self {
        let mut listed: Vec<usize> = phones.flat_map(|t| t.iter().copied()).collect();
        listed.sort_unstable();
        listed.dedup();
        ListedTls(listed)
    }

    /// Position in the report's `tls` list of the session at `index` in the evidence.
    fn position(&self, index: usize) -> Option<usize> {
        self.0.binary_search(&index).ok()
    }
}

/// Where the phones of a report come from: a diagnosis held whole, or phones diagnosed one
/// at a time while the array is written (each dropped once written).
enum PhoneSource<'a> {
    Held(&'a [PhoneDiagnosis]),
    Prepared(&'a Prepared<'a>),
    /// As `Prepared`, each phone shown to the watcher (its index, its diagnosis) before it
    /// is written: one pass over the phones serves another output too (issue 20).
    Watched(&'a Prepared<'a>, Cell<Option<Watcher<'a>>>),
}

/// What sees each phone of a [`PhoneSource::Watched`] report.
type Watcher<'a> = &'a mut dyn FnMut(usize, &PhoneDiagnosis);

/// The `phones` array. Written from a [`Prepared`] diagnosis, only one phone's diagnosis
/// exists at a time, so the report of 50,000 phones needs the memory of one (issue 20).
pub struct PhonesJson<'a> {
    source: PhoneSource<'a>,
    listed: ListedTls,
}

impl Serialize for PhonesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.source {
            PhoneSource::Held(phones) => {
                let mut seq = serializer.serialize_seq(Some(phones.len()))?;
                for p in phones.iter() {
                    seq.serialize_element(&PhoneJson::new(p, &self.listed))?;
                }
                seq.end()
            }
            PhoneSource::Prepared(prepared) => {
                let mut seq = serializer.serialize_seq(Some(prepared.len()))?;
                for p in prepared.phones() {
                    seq.serialize_element(&PhoneJson::new(&p, &self.listed))?;
                }
                seq.end()
            }
            PhoneSource::Watched(prepared, watcher) => {
                let mut seq = serializer.serialize_seq(Some(prepared.len()))?;
                // Written once, as `Lazy`; a second serialisation would watch nothing.
                let mut watch = watcher.take();
                for (i, p) in prepared.phones().enumerate() {
                    if let Some(watch) = watch.as_mut() {
                        watch(i, &p);
                    }
                    seq.serialize_element(&PhoneJson::new(&p, &self.listed))?;
                }
                seq.end()
            }
        }
    }
}

impl JsonSchema for PhonesJson<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        <Vec<PhoneJson<'static>>>::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<PhoneJson<'static>>>::json_schema(generator)
    }
}

/// A JSON array whose elements are built one at a time while it is written; its schema is
/// that of an array of `T`.
pub struct Lazy<'a, T>(Cell<Option<Box<dyn Iterator<Item = T> + 'a>>>);

impl<'a, T> Lazy<'a, T> {
    /// The array of what `items` yields, built when written.
    pub fn new(items: impl Iterator<Item = T> + 'a) -> Self {
        Lazy(Cell::new(Some(Box::new(items))))
    }
}

impl<T: Serialize> Serialize for Lazy<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written once; a second serialisation would write an empty array.
        serializer.collect_seq(self.0.take().into_iter().flatten())
    }
}

impl<T: JsonSchema> JsonSchema for Lazy<'_, T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        <Vec<T>>::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<T>>::json_schema(generator)
    }
}

/// The `analyze --json` object, written lazily.
#[derive(Serialize, JsonSchema)]
#[schemars(title = "itlscope analyze --json")]
pub struct Report<'a> {
    /// Version of this layout (docs/report.md); bumped when a field changes meaning.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// Which itlscope, when and with which command line wrote the report (absent when the
    /// report is made by the library without a command line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// Present, and true, when the report was written with `--redact`: MAC addresses, IP
    /// addresses, host names and certificate names are pseudonyms (docs/report.md
    /// "Redaction"); hashes, serials, sizes and frame numbers are as captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<bool>,
    /// With `redacted`: how many distinct values of each kind were replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redactions: Option<Redactions>,
    /// One per capture file.
    pub captures: Lazy<'a, CaptureJson<'a>>,
    /// One per diagnosed phone.
    pub phones: PhonesJson<'a>,
    /// Every file transfer collected.
    pub files: Lazy<'a, FileJson<'a>>,
    /// The TLS sessions of the diagnosed phones.
    pub tls: Lazy<'a, TlsJson<'a>>,
    /// TLS sessions of hosts that are not phones, summed per server and certificate.
    pub tls_aggregates: Lazy<'a, TlsAggregateJson<'a>>,
    /// Every `DeviceTLInfo` alarm collected.
    pub alarms: Lazy<'a, AlarmJson<'a>>,
    /// The `--evidence` files read.
    pub evidence_files: Lazy<'a, EvidenceFileJson<'a>>,
    /// Remarks about the whole analysis.
    pub notes: Lazy<'a, String>,
}

/// How many distinct values of each kind a redacted report replaced (the JSON `redactions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Redactions {
    /// MAC addresses (phone names `SEP<MAC>` and MACs written alone).
    pub mac: usize,
    /// IPv4 and IPv6 addresses.
    pub ip: usize,
    /// Host names (CUCM, TFTP and TVS nodes, DNS names).
    pub host: usize,
    /// Values of certificate names that are not host names (O, OU, L, ST, C, a CN …).
    pub cert_name: usize,
}

/// What made a report: the tool, its version, the date (UTC) and the command line. Shown in
/// the HTML header and as the JSON `generated` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Generated {
    /// Always `itlscope`.
    pub tool: &'static str,
    /// The itlscope version (Cargo package version).
    pub version: &'static str,
    /// When the report was written, RFC 3339 UTC to the second; `ITLSCOPE_FIXED_DATE`
    /// replaces it (reproducible reports, golden tests). Null when the clock cannot be read.
    pub date: Option<String>,
    /// The command line: the program's file name, then every argument as given.
    pub command: Vec<String>,
}

/// Name of the environment variable that fixes the `generated.date` (any text, used as is).
pub const FIXED_DATE_ENV: &str = "ITLSCOPE_FIXED_DATE";

impl Generated {
    /// The record for this process: version, now (or `ITLSCOPE_FIXED_DATE`) and `args`
    /// (`std::env::args_os()`), the program reduced to its file name so a report does not
    /// depend on where the binary lives.
    pub fn now<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> Self {
        let mut command: Vec<String> = args
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        if let Some(program) = command.first_mut() {
            let name = std::path::Path::new(program.as_str())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if let Some(name) = name {
                *program = name;
            }
        }
        let date = match std::env::var(FIXED_DATE_ENV) {
            Ok(fixed) => Some(fixed),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .and_then(super::evidence::rfc3339_secs),
        };
        Generated {
            tool: "itlscope",
            version: env!("CARGO_PKG_VERSION"),
            date,
            command,
        }
    }

    /// The command line as one shell-like line (arguments with spaces or quotes quoted).
    pub fn command_line(&self) -> String {
        self.command
            .iter()
            .map(|a| {
                let plain = !a.is_empty()
                    && a.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%#".contains(c));
                if plain {
                    a.clone()
                } else {
                    format!("'{}'", a.replace('\'', "'\\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl<'a> Report<'a> {
    /// The report of `diagnosis` over `evidence`, ready to be written once.
    pub fn new(diagnosis: &'a Diagnosis, evidence: &'a Evidence) -> Self {
        Self::of(
            PhoneSource::Held(&diagnosis.phones),
            ListedTls::of(diagnosis),
            &diagnosis.notes,
            &diagnosis.evidence_files,
            evidence,
        )
    }

    /// The same report, each phone diagnosed while its part is written and dropped after:
    /// the bytes are those of [`Report::new`] over `prepared.into_diagnosis()`.
    pub fn streaming(prepared: &'a Prepared<'a>, evidence: &'a Evidence) -> Self {
        Self::of(
            PhoneSource::Prepared(prepared),
            ListedTls::of_prepared(prepared),
            prepared.notes(),
            prepared.evidence_files(),
            evidence,
        )
    }

    fn of(
        phones: PhoneSource<'a>,
        listed: ListedTls,
        notes: &'a [String],
        evidence_files: &'a [IngestedFile],
        evidence: &'a Evidence,
    ) -> Self {
        let left_out = evidence.tls.len().saturating_sub(listed.0.len());
        let left_out_note = (left_out > 0).then(|| {
            format!(
                "the tls list holds the {} TLS session(s) of the diagnosed phones; {left_out} session(s) of hosts not diagnosed are left out",
                listed.0.len()
            )
        });
        let tls_items: Vec<usize> = listed.0.clone();
        Report {
            schema_version: SCHEMA_VERSION,
            captures: Lazy::new(evidence.captures.iter().map(CaptureJson::from)),
            phones: PhonesJson {
                source: phones,
                listed,
            },
            files: Lazy::new(evidence.files.iter().map(FileJson::from)),
            tls: Lazy::new(
                tls_items
                    .into_iter()
                    .filter_map(|i| evidence.tls.get(i))
                    .map(TlsJson::from),
            ),
            tls_aggregates: Lazy::new(evidence.tls_aggregates.iter().map(TlsAggregateJson::from)),
            alarms: Lazy::new(evidence.alarms.iter().map(AlarmJson::from)),
            evidence_files: Lazy::new(evidence_files.iter().map(EvidenceFileJson::from)),
            notes: Lazy::new(notes.iter().cloned().chain(left_out_note)),
            generated: None,
            redacted: None,
            redactions: None,
        }
    }
}

/// Writes the whole JSON object, pretty-printed and followed by a newline, to `out`.
pub fn write(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    write_with(diagnosis, evidence, None, out)
}

/// [`write`] with the `generated` object (what `itlscope analyze` writes).
pub fn write_with(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut report = Report::new(diagnosis, evidence);
    report.generated = generated.cloned();
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// [`write_with`] diagnosing each phone while it is written (same bytes, the memory of one
/// phone's diagnosis instead of all of them).
pub fn write_streaming(
    prepared: &Prepared<'_>,
    evidence: &Evidence,
    generated: Option<&Generated>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut report = Report::streaming(prepared, evidence);
    report.generated = generated.cloned();
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// [`write_streaming`], each phone's diagnosis shown to `watch` (its index, from 0)
/// before its part is written: the pass that writes the JSON also gathers what another
/// output needs of every phone (issue 20).
pub fn write_streaming_watched<'a>(
    prepared: &'a Prepared<'a>,
    evidence: &'a Evidence,
    generated: Option<&Generated>,
    watch: Watcher<'a>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut report = Report::streaming(prepared, evidence);
    report.phones.source = PhoneSource::Watched(prepared, Cell::new(Some(watch)));
    report.generated = generated.cloned();
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// The whole JSON object as a `Value` (for tests and callers that want to look into it;
/// [`write`] streams it instead).
pub fn render(diagnosis: &Diagnosis, evidence: &Evidence) -> Value {
    let report = Report::new(diagnosis, evidence);
    // Serialising strings, numbers and booleans into a Value cannot fail.
    serde_json::to_value(&report).unwrap_or(Value::Null)
}

/// The JSON Schema of the `analyze --json` object (docs/schema/analyze.schema.json).
pub fn schema() -> Schema {
    schemars::schema_for!(Report<'static>)
}
