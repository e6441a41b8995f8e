//! Check `config`: the served signed (or encrypted) config, verified against the ITL the
//! phone compares it with.

use super::common::{check, push_flag, transfer_item};
use crate::cisco::encrypted;
use crate::cisco::model::{SignatureCheck, TrustList, function};
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::{Check, EvidenceItem, Status};
use crate::diagnosis::names::RequestKind;
use crate::diagnosis::trust::{describe_record, serial_hex};

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
pub(super) fn config(ctx: &PhoneCtx<'_>) -> Check {
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
        match verify_config(ctx, file.signed_bytes(), &parsed.header, list) {
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
