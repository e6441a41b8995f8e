//! The per-phone checks. Each returns pass / fail / unknown with the evidence it rests on and
//! a one-line explanation. Facts about phones and CUCM come from `docs/` (phone-behaviour.md).

use super::context::{Installed, PhoneCtx, Served, is_tvs, service_of, session_time};
use super::model::{Check, EvidenceItem, Status};
use super::names::RequestKind;
use super::trust::{describe_record, find_certificate, is_rollback, serial_hex, tvs_records};
use crate::cisco::encrypted;
use crate::cisco::model::{SignatureCheck, TrustList, function};
use crate::evidence::{CertificateInfo, FileTransfer, TcpEnd, TlsSession};

/// ITLs above this size fail to load on phones (more than ~39 certificates).
pub const ITL_SIZE_LIMIT: usize = 64 * 1024;

/// Runs every check of one phone, in the documented order.
pub fn run_all(ctx: &PhoneCtx<'_>) -> Vec<Check> {
    vec![
        trust_list_downloads(ctx),
        served_itl(ctx),
        served_itl_content(ctx),
        served_ctl(ctx),
        config(ctx),
        tvs_reachability(ctx),
        tvs_certificate(ctx),
        other_tls(ctx),
        certificate_validity(ctx),
        installed_itl(ctx),
    ]
}

fn check(id: &'static str, status: Status, explanation: impl Into<String>) -> Check {
    Check {
        id,
        status,
        explanation: explanation.into(),
        flags: Vec::new(),
        evidence: Vec::new(),
    }
}

/// "ITLSEP….tlv via tftp from 10.0.0.1:69: 5438 bytes" and so on.
pub fn transfer_outcome(file: &FileTransfer) -> String {
    if file.complete {
        format!("{} bytes", file.data.len())
    } else if let Some(error) = &file.error {
        error.clone()
    } else {
        let missing: Vec<String> = file
            .missing
            .iter()
            .take(4)
            .map(|(a, b)| format!("{a}..{b}"))
            .collect();
        format!(
            "incomplete ({} bytes seen{}{})",
            file.data.len(),
            if missing.is_empty() { "" } else { ", missing " },
            missing.join(", ")
        )
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-01-01T00:00:00Z`); the number itself when
/// out of range.
fn rfc3339_secs(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

fn transfer_item(file: &FileTransfer) -> EvidenceItem {
    let mut item = EvidenceItem::at(
        file.first,
        format!(
            "{} via {} from {}: {}",
            file.name,
            file.transport.as_str(),
            file.server,
            transfer_outcome(file)
        ),
    )
    .with("name", file.name.clone())
    .with("transport", file.transport.as_str())
    .with("complete", file.complete);
    if let Some(error) = &file.error {
        item = item.with("error", error.clone());
    }
    if let Some(code) = file.tftp_error_code {
        item = item.with_code(
            "tftp_error",
            "tftp_error_code",
            crate::codes::tftp_error(code),
            code,
        );
    }
    if let Some(status) = file.http_status {
        item = item.with("http_status", status);
    }
    item
}

/// Which trust lists were requested, how, and what came back.
fn trust_list_downloads(ctx: &PhoneCtx<'_>) -> Check {
    let requests: Vec<_> = ctx
        .files
        .iter()
        .filter(|(_, f, k)| (k.is_itl() || k.is_ctl()) && !f.upload)
        .collect();
    if requests.is_empty() {
        return check(
            "trust-list-downloads",
            Status::Unknown,
            "no trust-list request in the capture: the phone did not boot or reset while capturing (reset it during a capture to see its trust bootstrap)",
        );
    }
    let mut c = check("trust-list-downloads", Status::Unknown, "");
    let mut notes = Vec::new();
    for (_, file, _) in &requests {
        c.evidence.push(transfer_item(file));
        if !file.complete && file.error.is_none() {
            push_flag(&mut c.flags, "incomplete-transfer");
        }
    }
    // HTTP (6970) first, then TFTP for the same name: the normal fallback of newer phones.
    let http_fallback = requests.iter().any(|(_, f, _)| {
        f.transport == crate::evidence::FileTransport::Http
            && !f.complete
            && requests.iter().any(|(_, g, _)| {
                g.transport == crate::evidence::FileTransport::Tftp
                    && g.name == f.name
                    && g.first.frame > f.first.frame
            })
    });
    if http_fallback {
        push_flag(&mut c.flags, "http-to-tftp-fallback");
        notes.push("HTTP 6970 failed and the phone fell back to TFTP (normal)".to_string());
    }
    let per_phone_failed = requests
        .iter()
        .any(|(_, f, k)| *k == RequestKind::ItlPerPhone && !f.complete);
    let per_phone_ok = requests
        .iter()
        .any(|(_, f, k)| *k == RequestKind::ItlPerPhone && f.complete);
    let generic = requests
        .iter()
        .any(|(_, _, k)| *k == RequestKind::ItlGeneric);
    if per_phone_failed && !per_phone_ok && generic {
        push_flag(&mut c.flags, "itlfile-fallback");
        notes.push(
            "ITLSEP<MAC>.tlv was not served and the phone fell back to ITLFile.tlv: a centralized or non-CUCM TFTP server".to_string(),
        );
    }
    let ctl_failed = requests.iter().any(|(_, f, k)| k.is_ctl() && !f.complete);
    let ctl_ok = requests.iter().any(|(_, f, k)| k.is_ctl() && f.complete);
    if ctl_failed && !ctl_ok {
        push_flag(&mut c.flags, "no-ctl");
        notes.push("no CTL served (normal unless the cluster is in mixed mode)".to_string());
    }
    let itl_requested = requests.iter().any(|(_, _, k)| k.is_itl());
    let itl_ok = requests.iter().any(|(_, f, k)| k.is_itl() && f.complete);
    // Incomplete without an error: the download ran to its end, the capture lost bytes.
    let itl_capture_loss = requests
        .iter()
        .any(|(_, f, k)| k.is_itl() && !f.complete && f.error.is_none());
    let (status, head) = match (itl_requested, itl_ok) {
        (true, true) => (Status::Pass, "an ITL was downloaded whole".to_string()),
        (true, false) if itl_capture_loss => (
            Status::Unknown,
            "the ITL download ran to its end but the capture lacks some of its bytes (capture loss, not a failed download)"
                .to_string(),
        ),
        (true, false) => (
            Status::Fail,
            "the phone asked for an ITL and got none whole (failed or incomplete download)"
                .to_string(),
        ),
        (false, _) => (
            Status::Unknown,
            "only CTL requests seen; no ITL request in the capture".to_string(),
        ),
    };
    c.status = status;
    c.explanation = if notes.is_empty() {
        head
    } else {
        format!("{head}; {}", notes.join("; "))
    };
    c
}

fn push_flag(flags: &mut Vec<&'static str>, flag: &'static str) {
    if !flags.contains(&flag) {
        flags.push(flag);
    }
}

/// Header signer fields of a trust list, as evidence attributes.
fn signer_attrs(item: EvidenceItem, list: &TrustList<'_>) -> EvidenceItem {
    let mut item = item;
    if let Some(name) = list.header.signer_name {
        item = item.with("signer_name", crate::dn::of_text_bytes(name));
    }
    if let Some(serial) = list.header.signer_serial {
        item = item.with("signer_serial", serial_hex(serial));
    }
    if let Some(issuer) = list.header.signer_issuer {
        item = item.with("signer_issuer", crate::dn::of_text_bytes(issuer));
    }
    item
}

fn served_item(served: &Served<'_>) -> EvidenceItem {
    EvidenceItem::at(
        served.file.first,
        format!(
            "{} ({} bytes, md5 {}, sha1 {})",
            served.file.name,
            served.file.data.len(),
            served.hashes.md5,
            served.hashes.sha1
        ),
    )
    .with("name", served.file.name.clone())
    .with("md5", served.hashes.md5.clone())
    .with("sha1", served.hashes.sha1.clone())
    .with("sha256", served.hashes.sha256.clone())
}

/// Parses and verifies a served trust list: shared by the ITL and CTL checks.
fn served_list(ctx: &PhoneCtx<'_>, id: &'static str, served: &Served<'_>, what: &str) -> Check {
    let mut c = check(id, Status::Unknown, "");
    let list = match &served.parsed {
        Ok(list) => list,
        Err(e) => {
            c.evidence.push(served_item(served));
            if ctx.backend.available() {
                c.status = Status::Fail;
                c.explanation = format!(
                    "the served {what} does not parse ({e}): the phone rejects it and keeps its old one"
                );
                push_flag(&mut c.flags, "unparseable");
            } else {
                c.explanation = format!("the served {what} could not be examined: {e}");
            }
            return c;
        }
    };
    c.evidence.push(signer_attrs(served_item(served), list));
    match &served.signature {
        Some(SignatureCheck::Valid { signer_record }) => {
            c.status = Status::Pass;
            let role = list
                .records
                .get(*signer_record)
                .and_then(|r| r.function)
                .unwrap_or(u16::MAX);
            c.explanation = format!(
                "parses ({} records) and its signature is valid, signed by {}",
                list.records.len(),
                describe_record(list, *signer_record)
            );
            if role != function::SAST {
                push_flag(&mut c.flags, "signer-not-sast");
                c.explanation
                    .push_str(" (the signer record's role is not SAST, which phones expect)");
            }
            c.evidence.push(
                EvidenceItem::note(describe_record(list, *signer_record))
                    .with("signer_record", signer_record + 1),
            );
        }
        Some(SignatureCheck::Invalid { reason }) if is_rollback(list, None) => {
            c.explanation = format!(
                "parses ({} records): a rollback {what} whose records carry no key, so its signature cannot be checked from the file alone ({reason}); the phone checks it against the trust list it holds",
                list.records.len()
            );
        }
        Some(SignatureCheck::Invalid { reason }) => {
            c.status = Status::Fail;
            push_flag(&mut c.flags, "bad-signature");
            c.explanation = format!(
                "parses but its signature does not verify ({reason}): the phone rejects this {what} (\"Trust List update failed\") and keeps its old one"
            );
        }
        Some(SignatureCheck::NotCheckable { reason }) => {
            c.explanation = format!(
                "parses ({} records); its signature could not be checked: {reason}",
                list.records.len()
            );
        }
        None => {
            c.explanation = format!(
                "parses ({} records); its signature was not checked",
                list.records.len()
            );
        }
    }
    c
}

/// The served ITL: parses, signature, signer.
fn served_itl(ctx: &PhoneCtx<'_>) -> Check {
    match &ctx.served_itl {
        Some(served) => {
            let mut c = served_list(ctx, "served-itl", served, "ITL");
            c.evidence.push(super::outside::display_forms(served));
            c
        }
        None => check(
            "served-itl",
            Status::Unknown,
            "no ITL was downloaded whole in the capture",
        ),
    }
}

/// The served ITL's content: rollback, size, TVS records.
fn served_itl_content(ctx: &PhoneCtx<'_>) -> Check {
    let Some(served) = &ctx.served_itl else {
        return check(
            "served-itl-content",
            Status::Unknown,
            "no ITL was downloaded whole in the capture",
        );
    };
    let mut c = check("served-itl-content", Status::Pass, "");
    c.evidence.push(served_item(served));
    let size = served.file.data.len();
    let mut parts = Vec::new();
    if size > ITL_SIZE_LIMIT {
        c.status = Status::Fail;
        push_flag(&mut c.flags, "itl-over-64k");
        parts.push(format!(
            "the ITL is {size} bytes, over 64 KB: phones fail to load it and registration fails; deleting the ITL does not fix this (remove certificates from the ITL)"
        ));
    }
    let Some(list) = served.parsed.as_ref().ok() else {
        if c.status == Status::Pass {
            c.status = Status::Unknown;
        }
        parts.push("the content cannot be examined (the ITL did not parse)".into());
        c.explanation = parts.join("; ");
        return c;
    };
    let signer = match &served.signature {
        Some(SignatureCheck::Valid { signer_record }) => Some(*signer_record),
        _ => super::trust::header_signer(list),
    };
    let roles: Vec<String> = list
        .records
        .iter()
        .map(|r| r.function.map(function::name).unwrap_or_else(|| "?".into()))
        .collect();
    c.evidence.push(
        EvidenceItem::note(format!(
            "{} records: {}",
            list.records.len(),
            roles.join(", ")
        ))
        .with("records", list.records.len()),
    );
    if is_rollback(list, signer) {
        push_flag(&mut c.flags, "rollback-itl");
        parts.push(
            "a rollback ITL (\"Prepare Cluster for Rollback to pre 8.0\": functions without certificates): phones that trust it accept any config and any new ITL; signed config, TVS and HTTPS trust are off while it is served".to_string(),
        );
    } else {
        let tvs = tvs_records(list);
        if tvs.is_empty() {
            push_flag(&mut c.flags, "no-tvs-records");
            parts.push(
                "the ITL lists no TVS: a phone holding it cannot have new signers vouched for by TVS".to_string(),
            );
        } else {
            parts.push(format!("{} TVS record(s)", tvs.len()));
        }
        let tftp = list
            .records
            .iter()
            .any(|r| matches!(r.function, Some(function::CCM_TFTP | function::TFTP)));
        if !tftp {
            push_flag(&mut c.flags, "no-tftp-record");
            parts.push(
                "no TFTP or CCM+TFTP record: signed configs cannot be verified with it".into(),
            );
            if c.status == Status::Pass {
                c.status = Status::Fail;
            }
        }
    }
    if size <= ITL_SIZE_LIMIT {
        parts.push(format!("{size} bytes, under the 64 KB limit"));
    }
    c.explanation = parts.join("; ");
    c
}

/// The served CTL, when there is one.
fn served_ctl(ctx: &PhoneCtx<'_>) -> Check {
    if let Some(served) = &ctx.served_ctl {
        return served_list(ctx, "served-ctl", served, "CTL");
    }
    let requested: Vec<_> = ctx
        .files
        .iter()
        .filter(|(_, f, k)| k.is_ctl() && !f.upload)
        .collect();
    if requested.is_empty() {
        return check(
            "served-ctl",
            Status::Unknown,
            "no CTL request in the capture",
        );
    }
    let mut c = check(
        "served-ctl",
        Status::Pass,
        "no CTL served: the cluster is not in mixed mode (normal); the ITL alone carries the phone's trust",
    );
    for (_, f, _) in requested {
        c.evidence.push(transfer_item(f));
    }
    c
}

/// Verifies a signed file against a trust list with the TFTP roles.
fn verify_config(
    ctx: &PhoneCtx<'_>,
    bytes: &[u8],
    header: &crate::cisco::model::Header<'_>,
    list: &TrustList<'_>,
) -> SignatureCheck {
    ctx.backend
        .verify_with_trust(bytes, header, list, &[function::CCM_TFTP, function::TFTP])
}

/// The phone's config: signed by a TFTP / CCM+TFTP record of the served ITL or CTL.
fn config(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("config", Status::Unknown, "");
    let requests: Vec<_> = ctx
        .files
        .iter()
        .filter(|(_, f, k)| k.is_config() && !f.upload)
        .collect();
    for (_, f, _) in &requests {
        c.evidence.push(transfer_item(f));
    }
    let mut notes = Vec::new();
    if requests
        .iter()
        .any(|(_, _, k)| *k == RequestKind::EncryptedConfig)
    {
        push_flag(&mut c.flags, "encrypted-config");
        notes
            .push("encrypted config requested (.enc.sgn: TFTP encrypted config is on)".to_string());
    }
    if requests
        .iter()
        .any(|(_, _, k)| *k == RequestKind::UnsignedConfig)
        && ctx.served_itl.is_some()
    {
        push_flag(&mut c.flags, "unsigned-config-with-itl");
        notes.push(
            "the phone asked for the unsigned .cnf.xml although an ITL is served: it holds no ITL, or an empty (rollback) one".to_string(),
        );
    }
    let https_tftp = ctx
        .tls
        .iter()
        .any(|(_, s)| matches!(s.server.port, 6971 | 6972));
    let finish = |mut c: Check, status: Status, head: String, notes: Vec<String>| {
        c.status = status;
        c.explanation = if notes.is_empty() {
            head
        } else {
            format!("{head}; {}", notes.join("; "))
        };
        c
    };
    let Some(config) = &ctx.config else {
        let signed_failed = requests.iter().any(|(_, f, k)| {
            matches!(k, RequestKind::SignedConfig | RequestKind::EncryptedConfig) && !f.complete
        });
        let (status, head) = if signed_failed {
            (
                Status::Fail,
                "the signed config was requested but not downloaded whole".to_string(),
            )
        } else if https_tftp {
            (
                Status::Unknown,
                "no signed config in clear: the phone used HTTPS TFTP (6971/6972), which cannot be seen".to_string(),
            )
        } else if requests.is_empty() {
            (
                Status::Unknown,
                "no config request in the capture".to_string(),
            )
        } else {
            (
                Status::Unknown,
                "no signed config downloaded, nothing to verify".to_string(),
            )
        };
        return finish(c, status, head, notes);
    };
    let file = config.file;
    let parsed = match &config.parsed {
        Ok(p) => p,
        Err(e) => {
            let status = if ctx.backend.available() {
                Status::Fail
            } else {
                Status::Unknown
            };
            return finish(
                c,
                status,
                format!("{} could not be read as a signed file: {e}", file.name),
                notes,
            );
        }
    };
    if config.kind == RequestKind::EncryptedConfig {
        encrypted_config_notes(&mut c, &mut notes, parsed);
    }
    let mut signer = EvidenceItem::at(file.first, format!("{} signer", file.name));
    if let Some(name) = parsed.header.signer_name {
        signer = signer.with("signer_name", crate::dn::of_text_bytes(name));
    }
    if let Some(serial) = parsed.header.signer_serial {
        signer = signer.with("signer_serial", serial_hex(serial));
    }
    if let Some(issuer) = parsed.header.signer_issuer {
        signer = signer.with("signer_issuer", crate::dn::of_text_bytes(issuer));
    }
    c.evidence.push(signer);
    let lists: Vec<(&str, &TrustList<'_>)> = [
        ("served ITL", ctx.served_itl_list()),
        ("served CTL", ctx.served_ctl_list()),
    ]
    .into_iter()
    .filter_map(|(n, l)| l.map(|l| (n, l)))
    .collect();
    if lists.is_empty() {
        return finish(
            c,
            Status::Unknown,
            format!(
                "{} was downloaded but no served ITL/CTL is in the capture to check its signer against",
                file.name
            ),
            notes,
        );
    }
    let mut failures = Vec::new();
    let mut undecided = Vec::new();
    for (name, list) in &lists {
        match verify_config(ctx, &file.data, &parsed.header, list) {
            SignatureCheck::Valid { signer_record } => {
                return finish(
                    c,
                    Status::Pass,
                    format!(
                        "{} is signed by {} of the {name} and its signature is valid",
                        file.name,
                        describe_record(list, signer_record)
                    ),
                    notes,
                );
            }
            SignatureCheck::Invalid { reason } => failures.push(format!("{name}: {reason}")),
            SignatureCheck::NotCheckable { reason } => undecided.push(format!("{name}: {reason}")),
        }
    }
    if !failures.is_empty() {
        push_flag(&mut c.flags, "config-signer-untrusted");
        finish(
            c,
            Status::Fail,
            format!(
                "{} is not validly signed by a TFTP or CCM+TFTP record of the served trust lists ({}): a phone holding them rejects it",
                file.name,
                failures.join("; ")
            ),
            notes,
        )
    } else {
        finish(
            c,
            Status::Unknown,
            format!(
                "the signature of {} could not be checked ({})",
                file.name,
                undecided.join("; ")
            ),
            notes,
        )
    }
}

/// What can be said of an `.enc.sgn` without the phone's private key: how it is encrypted,
/// or that its encryption elements are missing or disagree (the phone could not decrypt it).
fn encrypted_config_notes(
    c: &mut Check,
    notes: &mut Vec<String>,
    parsed: &crate::cisco::model::SignedFile<'_>,
) {
    let Some(info) = &parsed.encryption else {
        push_flag(&mut c.flags, "encrypted-config-malformed");
        notes.push(
            "the .enc.sgn has no encryption elements (header tags 16-27): its payload is not an encrypted config in the known layout".to_string(),
        );
        return;
    };
    let problems = encrypted::problems(info, parsed.payload.len());
    if problems.is_empty() {
        let key = info.key_size.map_or_else(
            || "the phone's key".to_string(),
            |bits| format!("the phone's {bits}-bit key"),
        );
        notes.push(format!(
            "its payload is AES-128-CBC encrypted, the AES key RSA-encrypted to {key} (not decryptable here)"
        ));
    } else {
        push_flag(&mut c.flags, "encrypted-config-malformed");
        notes.push(format!(
            "its encryption elements disagree, so the phone most likely cannot decrypt it: {}",
            problems.join("; ")
        ));
    }
}

pub use crate::trust::tvs::{is_tls13, is_unreachable, phone_rejected};

fn session_summary(s: &TlsSession) -> String {
    let version = s
        .version
        .map(crate::evidence::tls_version_name)
        .unwrap_or_else(|| "no ServerHello".into());
    let end = match s.end {
        TcpEnd::NeverAnswered => "SYN never answered".to_string(),
        TcpEnd::Refused => "refused (RST to SYN)".to_string(),
        TcpEnd::Fin(side) => format!("closed by {}", side.as_str()),
        TcpEnd::Reset(side) => format!("reset by {}", side.as_str()),
        TcpEnd::Open => "open at capture end".to_string(),
    };
    format!(
        "{} -> {} {}: {version}, handshake {}, app data {}/{} bytes, {end}",
        s.client,
        s.server,
        service_of(s),
        if s.handshake_complete {
            "completed"
        } else {
            "not completed"
        },
        s.app_data_bytes.0,
        s.app_data_bytes.1
    )
}

fn cert_item(s: &TlsSession, cert: &CertificateInfo, detail: String) -> EvidenceItem {
    EvidenceItem::at(session_time(s), detail)
        .with("server", s.server.to_string())
        .with("subject", cert.subject.clone())
        .with("issuer", cert.issuer.clone())
        .with("serial", cert.serial.clone())
        .with("sha1", cert.sha1.clone())
}

/// Can the phone reach TVS at all? Unreachable is a service problem, not a reason to delete.
fn tvs_reachability(ctx: &PhoneCtx<'_>) -> Check {
    let sessions: Vec<_> = ctx.tvs_sessions().collect();
    let mut c = check("tvs-reachability", Status::Unknown, "");
    if sessions.is_empty() {
        c.status = Status::NotApplicable;
        c.explanation = "no TVS (TCP 2445) connection in the capture: the phone needed none, or used its 24-hour TVS cache".into();
        return c;
    }
    for (_, s) in &sessions {
        c.evidence.push(
            EvidenceItem::at(s.first, session_summary(s)).with("server", s.server.to_string()),
        );
    }
    let unreachable: Vec<_> = sessions.iter().filter(|(_, s)| is_unreachable(s)).collect();
    let reached = sessions.len() - unreachable.len();
    if !unreachable.is_empty() {
        push_flag(&mut c.flags, "tvs-unreachable");
    }
    if reached == 0 {
        c.status = Status::Fail;
        c.explanation = format!(
            "TVS did not answer ({} attempt(s): SYN unanswered or reset): a network or service problem to fix on CUCM (TVS service, port 2445), not a reason to delete the ITL",
            unreachable.len()
        );
    } else {
        c.status = Status::Pass;
        c.explanation = format!(
            "TVS answered on {reached} connection(s){}",
            if unreachable.is_empty() {
                String::new()
            } else {
                format!("; {} other attempt(s) failed to connect", unreachable.len())
            }
        );
    }
    c
}

/// The TVS certificate on the wire against the TVS records of the phone's ITL.
fn tvs_certificate(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("tvs-certificate", Status::Unknown, "");
    let (reference, reference_name) = ctx.comparison_itl();
    let mut matched = 0usize;
    let mut mismatched = 0usize;
    let mut tls13 = 0usize;
    let mut rejected = 0usize;
    for (_, s) in ctx.tvs_sessions() {
        if let Some(alert) = phone_rejected(s) {
            rejected += 1;
            push_flag(&mut c.flags, "phone-rejected-tvs-certificate");
            c.evidence.push(
                EvidenceItem::at(
                    alert.seen,
                    format!(
                        "the phone sent fatal alert {} right after TVS's certificate: it rejected the certificate",
                        alert.describe()
                    ),
                )
                .with("server", s.server.to_string())
                .with_code(
                    "alert_level",
                    "alert_level_code",
                    crate::codes::alert_level(alert.level),
                    alert.level,
                )
                .with_code(
                    "alert",
                    "alert_code",
                    crate::codes::alert_description(alert.description),
                    alert.description,
                ),
            );
        }
        if is_tls13(s) && s.certificates.is_empty() {
            tls13 += 1;
            push_flag(&mut c.flags, "tls13-tvs");
            c.evidence.push(EvidenceItem::at(
                s.first,
                format!("{}: TLS 1.3, the certificate is encrypted", s.server),
            ));
            continue;
        }
        let Some(leaf) = s.certificates.first() else {
            continue;
        };
        match reference.map(|list| (list, find_certificate(leaf, list, &[function::TVS]))) {
            Some((list, Some((record, how)))) => {
                matched += 1;
                c.evidence.push(cert_item(
                    s,
                    leaf,
                    format!(
                        "TVS {} presented {} (serial {}): matches {} of {reference_name} by {}",
                        s.server,
                        leaf.subject,
                        leaf.serial,
                        describe_record(list, record),
                        how.as_str()
                    ),
                ));
            }
            Some((_, None)) => {
                mismatched += 1;
                c.evidence.push(cert_item(
                    s,
                    leaf,
                    format!(
                        "TVS {} presented {} (serial {}, sha1 {}): matches no TVS record of {reference_name}",
                        s.server, leaf.subject, leaf.serial, leaf.sha1
                    ),
                ));
            }
            None => c.evidence.push(cert_item(
                s,
                leaf,
                format!(
                    "TVS {} presented {} (serial {}); no ITL to compare it with",
                    s.server, leaf.subject, leaf.serial
                ),
            )),
        }
    }
    if mismatched > 0 {
        push_flag(&mut c.flags, "tvs-certificate-mismatch");
        c.status = Status::Fail;
        c.explanation = format!(
            "{mismatched} TVS certificate(s) on the wire match no TVS record of {reference_name}{}",
            if rejected > 0 {
                " and the phone rejected the certificate"
            } else {
                ""
            }
        );
    } else if matched > 0 {
        c.status = Status::Pass;
        c.explanation = format!(
            "the TVS certificate on the wire matches a TVS record of {reference_name}{}",
            if rejected > 0 {
                ", yet the phone sent an alert after it (see evidence)"
            } else {
                ""
            }
        );
        if rejected > 0 {
            c.status = Status::Fail;
        }
    } else if rejected > 0 {
        c.status = Status::Fail;
        c.explanation = format!(
            "the phone rejected TVS's certificate ({rejected} time(s)); it could not be compared with an ITL"
        );
    } else if tls13 > 0 {
        c.explanation = "TVS spoke TLS 1.3: its certificate is encrypted and cannot be compared (only whether the handshake completed is visible)".into();
    } else if c.evidence.is_empty() {
        c.explanation = "no TVS certificate seen in clear".into();
    } else {
        c.explanation = format!(
            "TVS certificate seen but {reference_name} is not available to compare it with"
        );
    }
    c
}

/// Other TLS servers the phone met: is the certificate in the ITL/CTL, or must TVS vouch?
fn other_tls(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("other-tls", Status::Unknown, "");
    let (reference, reference_name) = ctx.comparison_itl();
    let ctl = ctx.served_ctl_list();
    let sessions: Vec<_> = ctx.tls.iter().filter(|(_, s)| !is_tvs(s)).collect();
    if sessions.is_empty() {
        c.status = Status::NotApplicable;
        c.explanation =
            "no other TLS server (8443, 2443, 5061, 3804, 6971/6972) in the capture".into();
        return c;
    }
    let mut in_list = 0usize;
    let mut via_tvs = 0usize;
    let mut uncompared = 0usize;
    let mut rejected = 0usize;
    for (_, s) in &sessions {
        let service = service_of(s);
        if let Some(alert) = phone_rejected(s) {
            rejected += 1;
            push_flag(&mut c.flags, "phone-rejected-certificate");
            c.evidence.push(EvidenceItem::at(
                alert.seen,
                format!(
                    "the phone sent fatal alert {} after the certificate of {} ({service}): it rejected it",
                    alert.describe(),
                    s.server
                ),
            ));
        }
        let Some(leaf) = s.certificates.first() else {
            c.evidence.push(EvidenceItem::at(
                s.first,
                format!(
                    "{} ({service}): {}",
                    s.server,
                    if is_tls13(s) {
                        "TLS 1.3, certificate encrypted"
                    } else {
                        "no certificate seen"
                    }
                ),
            ));
            continue;
        };
        let found = reference
            .and_then(|l| find_certificate(leaf, l, &[]).map(|m| (l, m, reference_name.as_str())))
            .or_else(|| {
                ctl.and_then(|l| find_certificate(leaf, l, &[]).map(|m| (l, m, "the served CTL")))
            });
        let detail = match found {
            Some((list, (record, how), name)) => {
                in_list += 1;
                format!(
                    "{} ({service}) presented {}: in {name} as {} (by {})",
                    s.server,
                    leaf.subject,
                    describe_record(list, record),
                    how.as_str()
                )
            }
            // No trust list known to compare with: whether TVS must vouch is unknown.
            None if reference.is_none() && ctl.is_none() => {
                uncompared += 1;
                format!(
                    "{} ({service}) presented {} (serial {}): no ITL or CTL known to compare it with",
                    s.server, leaf.subject, leaf.serial
                )
            }
            None => {
                via_tvs += 1;
                format!(
                    "{} ({service}) presented {} (serial {}): not in the ITL/CTL, the phone must ask TVS",
                    s.server, leaf.subject, leaf.serial
                )
            }
        };
        c.evidence.push(cert_item(s, leaf, detail));
    }
    if via_tvs > 0 {
        push_flag(&mut c.flags, "needs-tvs");
    }
    c.status = if rejected > 0 {
        Status::Fail
    } else if in_list + via_tvs > 0 {
        Status::Pass
    } else {
        Status::Unknown
    };
    c.explanation = format!(
        "{} session(s): {in_list} certificate(s) in the ITL/CTL, {via_tvs} to be vouched for by TVS{}{}",
        sessions.len(),
        if uncompared > 0 {
            format!(
                ", {uncompared} not compared (no ITL or CTL known: --phone-itl would settle it)"
            )
        } else {
            String::new()
        },
        if rejected > 0 {
            format!(", {rejected} rejected by the phone")
        } else {
            String::new()
        }
    );
    c
}

/// Certificates on the wire against the capture time.
fn certificate_validity(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("certificate-validity", Status::Unknown, "");
    let mut seen = 0usize;
    let mut bad = 0usize;
    let mut unparsed = 0usize;
    for (_, s) in &ctx.tls {
        let Some(leaf) = s.certificates.first() else {
            continue;
        };
        seen += 1;
        let (Some(not_before), Some(not_after)) = (leaf.not_before, leaf.not_after) else {
            // Unknown is not expired: say so, with the bytes' fingerprint to look it up.
            unparsed += 1;
            c.evidence.push(cert_item(
                s,
                leaf,
                format!(
                    "{} certificate of {} (sha1 {}) could not be parsed: its validity is unknown",
                    service_of(s),
                    s.server,
                    leaf.sha1
                ),
            ));
            continue;
        };
        let at = session_time(s);
        let now = at.ts.secs();
        let problem = if now > not_after {
            Some(("expired", "certificate-expired"))
        } else if now < not_before {
            Some(("not yet valid", "certificate-not-yet-valid"))
        } else {
            None
        };
        if let Some((words, flag)) = problem {
            bad += 1;
            push_flag(&mut c.flags, flag);
            c.evidence.push(
                cert_item(
                    s,
                    leaf,
                    format!(
                        "{} certificate of {} ({}) is {words} at capture time",
                        service_of(s),
                        s.server,
                        leaf.subject
                    ),
                )
                .with("not_before", rfc3339_secs(not_before))
                .with("not_after", rfc3339_secs(not_after)),
            );
        }
    }
    if seen == 0 {
        c.explanation = "no server certificate seen in clear".into();
    } else if bad == 0 && unparsed > 0 {
        c.explanation = format!(
            "{unparsed} of {seen} server certificate(s) could not be parsed, so their validity is unknown; the others are valid at capture time (`itlscope extract` writes the certificate bytes to examine)"
        );
    } else if bad == 0 {
        c.status = Status::Pass;
        c.explanation = format!("{seen} server certificate(s) valid at capture time");
    } else {
        c.status = Status::Fail;
        c.explanation = format!(
            "{bad} of {seen} server certificate(s) expired or not yet valid at capture time: renew them on CUCM"
        );
    }
    c
}

/// The phone's installed ITL: where it is known from, and whether it is the served one.
fn installed_itl(ctx: &PhoneCtx<'_>) -> Check {
    let mut c = check("installed-itl", Status::Unknown, "");
    // Every source, so disagreements show.
    if let Some(file) = ctx.installed_file {
        c.evidence.push(
            EvidenceItem::note(format!(
                "--phone-itl {}: {} bytes, md5 {}, sha1 {}",
                file.name,
                file.bytes.len(),
                file.hashes.md5,
                file.hashes.sha1
            ))
            .with("md5", file.hashes.md5.clone())
            .with("sha1", file.hashes.sha1.clone())
            .with("sha256", file.hashes.sha256.clone()),
        );
        if let Err(e) = &file.parsed {
            c.evidence.push(EvidenceItem::note(format!(
                "--phone-itl does not parse: {e}"
            )));
        }
    }
    if let Some(hash) = ctx.phone_itl_hash {
        c.evidence.push(
            EvidenceItem::note(format!("--phone-itl-hash {hash}"))
                .with(hash.algorithm.as_str(), hash.hex.clone()),
        );
    }
    for (_, alarm) in &ctx.alarms {
        let what = match (&alarm.itl_signature, &alarm.itl_signature_raw) {
            (Some(sig), _) => format!("ITL_Signature {sig}"),
            (None, Some(raw)) => format!("ITL_Signature \"{raw}\""),
            (None, None) => "no ITL_Signature".into(),
        };
        let mut item = EvidenceItem::at(
            alarm.seen,
            format!(
                "DeviceTLInfo alarm from {}: {what}{}{}",
                alarm.phone,
                alarm
                    .status_code
                    .map(|s| format!(", StatusCode {s} ({})", status_code_name(s)))
                    .unwrap_or_default(),
                alarm
                    .itl_tftp_server
                    .as_deref()
                    .map(|s| format!(", ITL_TFTP_Server {s}"))
                    .unwrap_or_default()
            ),
        );
        if let Some(sig) = &alarm.itl_signature {
            item = item.with("itl_signature", sig.clone());
        }
        c.evidence.push(item);
    }
    super::outside::installed_evidence(ctx, &mut c);
    let served = ctx.served_itl.as_ref();
    let (explanation, status) = match (&ctx.installed, served) {
        (Installed::Unknown, _) => (
            "the phone's installed ITL is unknown: give --phone-itl or --phone-itl-hash (Settings > Security Configuration > Trust List), or capture its DeviceTLInfo alarm (clear-text SIP)".to_string(),
            Status::Unknown,
        ),
        (Installed::NotInstalled(alarm), _) => (
            format!(
                "the phone reports no ITL installed (DeviceTLInfo, {}): it takes the first ITL it downloads on leap of faith",
                ctx.at(alarm.seen)
            ),
            Status::Pass,
        ),
        (Installed::ReportedNone(fact), _) => (
            format!(
                "the phone reports no ITL installed ({}): it takes the first ITL it downloads on leap of faith",
                fact.source
            ),
            Status::Pass,
        ),
        (_, None) => (
            format!(
                "the phone's ITL is known ({}) but no served ITL was downloaded whole to compare it with",
                installed_source(ctx.evidence, &ctx.installed)
            ),
            Status::Unknown,
        ),
        (installed, Some(served)) => match installed_matches(installed, served) {
            Some(true) => (
                format!(
                    "the phone's ITL ({}) is the one the server serves ({})",
                    installed_source(ctx.evidence, installed),
                    served.file.name
                ),
                Status::Pass,
            ),
            Some(false) => {
                push_flag(&mut c.flags, "itl-differs");
                (
                    format!(
                        "the phone's ITL ({}) differs from the one the server serves ({}, md5 {}, sha1 {})",
                        installed_source(ctx.evidence, installed),
                        served.file.name,
                        served.hashes.md5,
                        served.hashes.sha1
                    ),
                    Status::Fail,
                )
            }
            None => (
                "cannot compare".to_string(),
                Status::Unknown,
            ),
        },
    };
    c.status = status;
    c.explanation = explanation;
    super::outside::installed_conflict_check(ctx, &mut c);
    c
}

/// Words for where the installed ITL is known from.
pub fn installed_source(evidence: &crate::evidence::Evidence, installed: &Installed<'_>) -> String {
    match installed {
        Installed::File(f) => format!("--phone-itl {}, sha1 {}", f.name, f.hashes.sha1),
        Installed::OperatorHash(h) => format!("--phone-itl-hash {h}"),
        Installed::AlarmHash { hash, alarm } => {
            format!("DeviceTLInfo {}: {hash}", evidence.place(alarm.seen))
        }
        Installed::NotInstalled(alarm) => {
            format!("DeviceTLInfo {}: not installed", evidence.place(alarm.seen))
        }
        Installed::Reported { hash, fact } => format!("{}: {hash}", fact.source),
        Installed::ReportedNone(fact) => format!("{}: not installed", fact.source),
        Installed::Unknown => "unknown".into(),
    }
}

/// Is the installed ITL the served one? None when it cannot be told.
pub fn installed_matches(installed: &Installed<'_>, served: &Served<'_>) -> Option<bool> {
    match installed {
        Installed::File(f) => Some(f.bytes == served.file.data.as_slice()),
        Installed::OperatorHash(h) => Some(served.hashes.get(h.algorithm) == h.hex),
        Installed::AlarmHash { hash, .. } | Installed::Reported { hash, .. } => {
            Some(served.hashes.get(hash.algorithm) == hash.hex)
        }
        Installed::NotInstalled(_) | Installed::ReportedNone(_) | Installed::Unknown => None,
    }
}

/// Trust-list alarm codes the phone reports (8800 admin guide; the mapping of DeviceTLInfo's
/// `StatusCode` to these is unverified).
pub fn status_code_name(code: u32) -> &'static str {
    match code {
        1 => "TL_SUCCESS",
        2 => "CTL_INITIAL_SUCCESS",
        3 => "ITL_INITIAL_SUCCESS",
        4 => "TL_INITIAL_SUCCESS",
        5 => "TL_FAILED_OLD_CTL",
        6 => "TL_FAILED_NO_TL",
        7 => "TL_FAILED",
        8 => "TL_FAILED_OLD_ITL",
        9 => "TL_FAILED_OLD_TL",
        _ => "unknown code",
    }
}

/// True for the failure codes 5–9.
pub fn status_code_failed(code: u32) -> bool {
    (5..=9).contains(&code)
}

#[cfg(test)]
mod encrypted_config_tests {
    use super::*;
    use crate::cisco::model::{EncryptionInfo, Header, SignedFile};

    fn notes_for(encryption: Option<EncryptionInfo<'static>>, payload: &'static [u8]) -> Check {
        let file = SignedFile {
            bytes: &[],
            header: Header::default(),
            payload,
            encryption,
        };
        let mut c = check("config", Status::Pass, "");
        let mut notes = Vec::new();
        encrypted_config_notes(&mut c, &mut notes, &file);
        c.explanation = notes.join("; ");
        c
    }

    #[test]
    fn well_formed_missing_and_inconsistent_encryption() {
        let good = EncryptionInfo {
            iv: Some(&[0; 16]),
            padding: Some(3),
            key_size: Some(2048),
            key_algorithm: Some(1),
            encrypted_key: Some(&[0; 256]),
            hash_algorithm: Some(1),
            hash: Some(&[0; 20]),
            ..EncryptionInfo::default()
        };
        let c = notes_for(Some(good.clone()), &[0; 32]);
        assert!(c.flags.is_empty());
        assert!(
            c.explanation
                .contains("2048-bit key (not decryptable here)")
        );

        let c = notes_for(None, &[0; 32]);
        assert_eq!(c.flags, ["encrypted-config-malformed"]);
        assert!(c.explanation.contains("no encryption elements"));

        let c = notes_for(Some(good), &[0; 30]);
        assert_eq!(c.flags, ["encrypted-config-malformed"]);
        assert!(
            c.explanation
                .contains("not a whole number of 16-byte AES blocks")
        );
    }
}
