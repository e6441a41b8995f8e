//! The served trust lists: checks `served-itl` (parses, signature, signer),
//! `served-itl-content` (rollback, size, TVS records) and `served-ctl`.

use super::common::{check, push_flag, transfer_item};
use crate::cisco::model::{SignatureCheck, TrustList, function};
use crate::diagnosis::context::{PhoneCtx, Served};
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::diagnosis::trust::{describe_record, is_rollback, serial_hex, tvs_records};

/// ITLs above this size fail to load on phones (more than ~39 certificates).
pub const ITL_SIZE_LIMIT: usize = 64 * 1024;

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
pub(super) fn served_itl(ctx: &PhoneCtx<'_>) -> Check {
    match &ctx.served_itl {
        Some(served) => {
            let mut c = served_list(ctx, "served-itl", served, "ITL");
            c.evidence
                .push(crate::diagnosis::outside::display_forms(served));
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
pub(super) fn served_itl_content(ctx: &PhoneCtx<'_>) -> Check {
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
        _ => crate::diagnosis::trust::header_signer(list),
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
pub(super) fn served_ctl(ctx: &PhoneCtx<'_>) -> Check {
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
