//! The `analyze --json` object (documented in docs/report.md): `schema_version`, `captures`,
//! `phones` (the verdict contract), `files` and `tls`.
//!
//! Written straight to a writer, one list element at a time: only one element's `Value` is
//! ever built, so a report with 100,000 files or sessions costs no more memory than one.
//! Keys come in the order serde_json's `Map` keeps them (sorted), so the bytes are those of
//! the whole object pretty-printed.

use crate::capture::Timestamp;
use crate::diagnosis::Diagnosis;
use crate::diagnosis::model::{
    Check, Condition, EvidenceItem, InstalledItl, PathStep, PhoneDiagnosis, ServedItl,
    TimelineEvent, TrustPath,
};
use crate::evidence::{CaptureSummary, Evidence};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use std::cell::Cell;
use std::io::Write;

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
        "encapsulations": c.encapsulations.iter().map(|e| json!({"encapsulation": e.id, "name": e.name, "frames": e.frames})).collect::<Vec<_>>(),
        "skipped": c.skipped.iter().map(|k| json!({"reason": k.reason, "code": k.code, "detail": k.detail, "frames": k.frames})).collect::<Vec<_>>(),
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

/// One `--evidence` file: what it was taken for, and per part lines read, recognised, ignored.
fn evidence_file(f: &crate::sidecar::IngestedFile) -> Value {
    json!({
        "path": f.path,
        "kind": f.kind.map(|k| k.as_str()),
        "parts": f.parts.iter().map(|p| json!({
            "member": p.member,
            "kind": p.kind.map(|k| k.as_str()),
            "lines": p.lines,
            "recognised": p.recognised,
            "ignored": p.ignored,
            "notes": p.notes,
        })).collect::<Vec<_>>(),
        "skipped": f.skipped,
    })
}

fn event(e: &TimelineEvent) -> Value {
    json!({"frame": e.frame, "time": e.time.to_rfc3339(), "what": e.what})
}

fn phone(p: &PhoneDiagnosis, tls: &ListedTls) -> Value {
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
        "reported_timeline": p.reported.iter().map(|e| json!({
            "source": e.source, "time": e.time, "kind": e.kind, "what": e.what,
        })).collect::<Vec<_>>(),
        "files": p.files,
        "tls": p.tls.iter().filter_map(|&i| tls.position(i)).collect::<Vec<_>>(),
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

/// The TLS sessions the report lists: those of the diagnosed phones, in evidence order.
/// Sessions of hosts that are not diagnosed (a PC browsing, phones over `--max-phones`) are
/// left out, with a note, so the list grows with the phones, not with the capture.
struct ListedTls(Vec<usize>);

impl ListedTls {
    fn of(diagnosis: &Diagnosis) -> Self {
        let mut listed: Vec<usize> = diagnosis
            .phones
            .iter()
            .flat_map(|p| p.tls.iter().copied())
            .collect();
        listed.sort_unstable();
        listed.dedup();
        ListedTls(listed)
    }

    /// Position in the report's `tls` list of the session at `index` in the evidence.
    fn position(&self, index: usize) -> Option<usize> {
        self.0.binary_search(&index).ok()
    }
}

/// A JSON array whose elements are built one at a time while it is written.
struct Lazy<I>(Cell<Option<I>>);

impl<I: Iterator<Item = Value>> Lazy<I> {
    fn new(items: I) -> Self {
        Lazy(Cell::new(Some(items)))
    }
}

impl<I: Iterator<Item = Value>> Serialize for Lazy<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written once; a second serialisation would write an empty array.
        serializer.collect_seq(self.0.take().into_iter().flatten())
    }
}

/// The report object, serialised lazily.
struct Report<'a> {
    diagnosis: &'a Diagnosis,
    evidence: &'a Evidence,
}

impl Serialize for Report<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (d, ev) = (self.diagnosis, self.evidence);
        let listed = ListedTls::of(d);
        let left_out = ev.tls.len().saturating_sub(listed.0.len());
        let left_out_note = (left_out > 0).then(|| {
            format!(
                "the tls list holds the {} TLS session(s) of the diagnosed phones; {left_out} session(s) of hosts not diagnosed are left out",
                listed.0.len()
            )
        });
        let mut map = serializer.serialize_map(Some(8))?;
        // Sorted, as a serde_json Map would write them.
        map.serialize_entry("alarms", &Lazy::new(ev.alarms.iter().map(alarm)))?;
        map.serialize_entry("captures", &Lazy::new(ev.captures.iter().map(capture)))?;
        map.serialize_entry(
            "evidence_files",
            &Lazy::new(d.evidence_files.iter().map(evidence_file)),
        )?;
        map.serialize_entry(
            "files",
            &Lazy::new(ev.files.iter().map(super::evidence::file_json)),
        )?;
        map.serialize_entry(
            "notes",
            &Lazy::new(
                d.notes
                    .iter()
                    .cloned()
                    .chain(left_out_note)
                    .map(Value::String),
            ),
        )?;
        map.serialize_entry(
            "phones",
            &Lazy::new(d.phones.iter().map(|p| phone(p, &listed))),
        )?;
        map.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        map.serialize_entry(
            "tls",
            &Lazy::new(
                listed
                    .0
                    .iter()
                    .filter_map(|&i| ev.tls.get(i))
                    .map(super::evidence::tls_json),
            ),
        )?;
        map.serialize_entry(
            "tls_aggregates",
            &Lazy::new(
                ev.tls_aggregates
                    .iter()
                    .map(super::evidence::tls_aggregate_json),
            ),
        )?;
        map.end()
    }
}

/// Writes the whole JSON object, pretty-printed and followed by a newline, to `out`.
pub fn write(
    diagnosis: &Diagnosis,
    evidence: &Evidence,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let report = Report {
        diagnosis,
        evidence,
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// The whole JSON object as a `Value` (for tests and callers that want to look into it;
/// [`write`] streams it instead).
pub fn render(diagnosis: &Diagnosis, evidence: &Evidence) -> Value {
    let report = Report {
        diagnosis,
        evidence,
    };
    // Serialising strings, numbers and Values into a Value cannot fail.
    serde_json::to_value(&report).unwrap_or(Value::Null)
}
