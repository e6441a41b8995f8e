//! What CUCM's side shows: `show itl`/`show ctl` and the TFTP actions (check
//! `cucm-trust-lists`), the TVS trace (`cucm-tvs-trace`) and the symptoms of CSCtn50405
//! (`cucm-itl-csctn50405`).

use super::common::{MAX_ITEMS, push_flag};
use super::tvs::{TvsFinding, TvsReport, tvs_reports};
use crate::cisco::model::TrustList;
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::sidecar::hash::cucm_form;
use crate::sidecar::{SideEvidence, SourceKind};

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
pub(super) fn cucm_itl_csctn50405(ctx: &PhoneCtx<'_>) -> Option<Check> {
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
pub(super) fn cucm_tvs_trace(ctx: &PhoneCtx<'_>) -> Check {
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

/// Check `cucm-trust-lists`: CUCM's `show itl`/`show ctl` and TFTP actions set against the
/// served trust lists.
pub(super) fn cucm_trust_lists(ctx: &PhoneCtx<'_>) -> Check {
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
