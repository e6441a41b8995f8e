//! The `analyze --json` object (documented in docs/report.md): `schema_version`, `captures`,
//! `phones` (the verdict contract), `files` and `tls`.

use crate::capture::Timestamp;
use crate::diagnosis::Diagnosis;
use crate::diagnosis::model::{
    Check, Condition, EvidenceItem, InstalledItl, PathStep, PhoneDiagnosis, ServedItl,
    TimelineEvent, TrustPath,
};
use crate::evidence::{CaptureSummary, Evidence};
use serde_json::{Map, Value, json};

/// Version of the JSON layout; bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

fn time(ts: Option<Timestamp>) -> Value {
    ts.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

fn capture(c: &CaptureSummary) -> Value {
    json!({
        "path": c.path,
        "format": c.format,
        "frames": c.frames,
        "bytes": c.bytes,
        "link_types": c.link_types.iter().map(|(l, n)| json!({"link_type": l, "frames": n})).collect::<Vec<_>>(),
        "malformed": c.malformed,
        "snaplen_truncated": c.snaplen_truncated,
        "truncated": c.truncated,
        "first_time": time(c.first_ts),
        "last_time": time(c.last_ts),
        "limits_hit": c.limits_hit,
    })
}

fn evidence_item(e: &EvidenceItem) -> Value {
    let attrs: Map<String, Value> = e
        .attrs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "frame": e.frame,
        "time": time(e.time),
        "detail": e.detail,
        "attrs": attrs,
    })
}

fn check(c: &Check) -> Value {
    json!({
        "id": c.id,
        "status": c.status.as_str(),
        "explanation": c.explanation,
        "flags": c.flags,
        "evidence": c.evidence.iter().map(evidence_item).collect::<Vec<_>>(),
    })
}

fn condition_detail(c: &Condition) -> Value {
    json!({"value": c.value, "explanation": c.explanation})
}

fn step(s: &PathStep) -> Value {
    json!({"acceptance": s.acceptance.as_str(), "via": s.via, "explanation": s.explanation})
}

fn trust_path(p: &TrustPath) -> Value {
    json!({"basis": p.basis, "itl": step(&p.itl), "config": step(&p.config)})
}

fn installed(i: &InstalledItl) -> Value {
    json!({
        "source": i.source,
        "not_installed": i.not_installed,
        "hash_algorithm": i.hash_algorithm,
        "hash": i.hash,
        "frame": i.frame,
    })
}

fn served(s: &ServedItl) -> Value {
    json!({
        "name": s.name,
        "file": s.file,
        "frame": s.frame,
        "size": s.size,
        "md5": s.md5,
        "sha1": s.sha1,
        "sha256": s.sha256,
        "parsed": s.parsed,
        "signature_valid": s.signature_valid,
        "signer": s.signer,
        "rollback": s.rollback,
    })
}

fn event(e: &TimelineEvent) -> Value {
    json!({"frame": e.frame, "time": e.time.to_rfc3339(), "what": e.what})
}

fn phone(p: &PhoneDiagnosis) -> Value {
    let v = &p.verdict;
    let conditions: Map<String, Value> = v
        .conditions
        .named()
        .iter()
        .map(|(n, c)| ((*n).to_string(), json!(c.value)))
        .collect();
    let details: Map<String, Value> = v
        .conditions
        .named()
        .iter()
        .map(|(n, c)| ((*n).to_string(), condition_detail(c)))
        .collect();
    json!({
        "mac": p.mac,
        "ip": p.ip.map(|ip| ip.to_string()),
        "other_ips": p.other_ips.iter().map(|ip| ip.to_string()).collect::<Vec<_>>(),
        "verdict": {
            "delete_itl": v.delete_itl.as_str(),
            "conditions": conditions,
            "condition_details": details,
            "reasons": v.reasons,
            "next_steps": v.next_steps,
        },
        "installed_itl": p.installed_itl.as_ref().map(installed),
        "served_itl": p.served_itl.as_ref().map(served),
        "trust_path": p.trust_path.as_ref().map(trust_path),
        "checks": p.checks.iter().map(check).collect::<Vec<_>>(),
        "timeline": p.timeline.iter().map(event).collect::<Vec<_>>(),
        "files": p.files,
        "tls": p.tls,
        "alarms": p.alarms,
    })
}

fn alarm(a: &crate::evidence::PhoneTrustAlarm) -> Value {
    json!({
        "phone": a.phone.to_string(),
        "device_name": a.device_name,
        "itl_signature": a.itl_signature,
        "itl_signature_raw": a.itl_signature_raw,
        "ctl_signature": a.ctl_signature,
        "itl_tftp_server": a.itl_tftp_server,
        "status_code": a.status_code,
        "frame": a.seen.frame,
        "time": a.seen.ts.to_rfc3339(),
    })
}

/// The whole JSON object.
pub fn render(diagnosis: &Diagnosis, evidence: &Evidence) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "captures": evidence.captures.iter().map(capture).collect::<Vec<_>>(),
        "phones": diagnosis.phones.iter().map(phone).collect::<Vec<_>>(),
        "files": evidence.files.iter().map(super::evidence::file_json).collect::<Vec<_>>(),
        "tls": evidence.tls.iter().map(super::evidence::tls_json).collect::<Vec<_>>(),
        "alarms": evidence.alarms.iter().map(alarm).collect::<Vec<_>>(),
        "notes": diagnosis.notes,
    })
}
