//! The phones' ITL (or a target cluster's ITL/CTL) given as CUCM `show itl` / `show ctl` text
//! instead of the file. The text is read by the `--evidence` parser ([`crate::sidecar::cli`]);
//! this only turns its records into the certificates `plan` reasons about. `show itl` prints
//! each certificate's SHA-1, issuer and serial but not its key, so certificates are matched by
//! SHA-1 ([`CertId::same_cert`]).

use super::cluster::{CertId, PlannedItl, PlannedRecord};
use crate::cisco::model::function;
use crate::sidecar::{CliRecord, CliTrustList, Source, cli};

/// The trust list the text describes, and the SHA-1 of the file as CUCM printed it.
#[derive(Debug, Clone)]
pub struct ShowItl {
    /// The records as a trust list `plan` can read ([`PlannedItl::view`]).
    pub list: PlannedItl,
    /// `ITL` or `CTL`.
    pub kind: String,
    /// `The checksum value of the … file: …(SHA1)`, when printed.
    pub sha1: Option<String>,
}

/// Does this text look like `show itl` / `show ctl` output?
pub fn looks_like(text: &str) -> bool {
    cli::looks_like(text)
}

/// True when `text` holds a `show itl` / `show ctl` listing with at least one record (not
/// only CLI words such as `utils itl reset`, which a README or a log may also carry).
pub fn has_listing(text: &str) -> bool {
    if !looks_like(text) {
        return false;
    }
    let source = Source {
        file: String::new(),
        member: None,
        line: None,
    };
    let (lists, _) = cli::parse(text, &source);
    lists.iter().any(|l| !l.records.is_empty())
}

/// Why `analyze --phone-itl` / `--phone-ctl` refuses `show itl` / `show ctl` text, and what
/// to give instead. One rule for every command (docs/plan.md): the text stands for the trust
/// list the cluster served when it was taken, known by its records and SHA-1 but not by its
/// bytes. `plan` and `diff` reason from records and take it; `analyze` asks for the file the
/// phone holds, whose MD5 (what most phones display) and own signature the text cannot give,
/// so it refuses the text and names the ways that do.
pub fn refused_as_phone_file(text: &str, file: &str, option: &str) -> String {
    let source = Source {
        file: file.to_owned(),
        member: None,
        line: None,
    };
    let (lists, _) = cli::parse(text, &source);
    let listing = lists.iter().find(|l| !l.records.is_empty());
    let kind = listing.map_or("ITL", |l| l.kind.as_str());
    // The checksum CUCM printed is the phone's hash only if the phone took that very file.
    let printed = listing.and_then(|l| l.md5.as_deref().or(l.sha1.as_deref()));
    let hash = match printed {
        Some(h) if kind == "ITL" => format!(
            "; if the phone has not downloaded an ITL since the text was taken, the checksum it prints is the phone's: --phone-itl-hash {h}"
        ),
        _ => String::new(),
    };
    let article = if kind == "ITL" { "an" } else { "a" };
    format!(
        "this is CUCM `show {}` text, not {article} {kind} file: it describes the {kind} the cluster served when it was taken (records and checksums), not the bytes of the file the phone holds, whose hashes and own signature {option} needs. Give the phone's file ({kind}SEP<MAC>.tlv from `itlscope extract`, or from a PRT), or the hash the phone shows with --phone-itl-hash{hash}. `itlscope plan` and `itlscope diff` take this text as it is",
        kind.to_ascii_lowercase()
    )
}

/// The function code of a `FUNCTION` value as `show itl` prints it.
fn function_code(name: &str) -> Option<u16> {
    let n = name.trim().to_ascii_uppercase();
    if n == "SYSTEM ADMINISTRATOR SECURITY TOKEN" {
        return Some(function::SAST);
    }
    [
        function::SAST,
        function::CCM,
        function::CCM_TFTP,
        function::TFTP,
        function::CAPF,
        function::APP_SERVER,
        function::TVS,
    ]
    .into_iter()
    .find(|&code| function::name(code) == n)
}

fn serial_bytes(hex: &str) -> Option<Vec<u8>> {
    // The sidecar strips leading zeros; pad to whole bytes.
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    hex::decode(padded).ok()
}

fn cert_of(r: &CliRecord) -> Result<CertId, String> {
    let missing = |what: &str| {
        format!(
            "record #{} of the `show itl` text has no {what}: cannot tell which certificate it holds",
            r.number
        )
    };
    let subject = r.subject.clone().ok_or_else(|| missing("SUBJECTNAME"))?;
    let serial = r
        .serial
        .as_deref()
        .and_then(serial_bytes)
        .ok_or_else(|| missing("SERIALNUMBER"))?;
    // Without it a record would look like a rollback ITL's empty one, which accepts anything.
    let sha1 = r
        .cert_sha1
        .as_deref()
        .ok_or_else(|| missing("certificate SHA-1 (CERTIFICATE … (SHA1 Hash HEX) or CERTHASH)"))
        .and_then(|h| {
            hex::decode(h).map_err(|e| format!("record #{}: certificate SHA-1: {e}", r.number))
        })?;
    Ok(CertId {
        issuer: r.issuer.clone().unwrap_or_else(|| subject.clone()),
        subject,
        serial,
        key: None,
        sha1: Some(sha1),
        planned: false,
    })
}

/// The one `show itl` / `show ctl` listing in `text` (read from `file`); errors do not
/// repeat the file name.
pub fn parse(text: &str, file: &str) -> Result<ShowItl, String> {
    let source = Source {
        file: file.to_owned(),
        member: None,
        line: None,
    };
    let (lists, _) = cli::parse(text, &source);
    let mut with_records = lists.into_iter().filter(|l| !l.records.is_empty());
    let list: CliTrustList = with_records.next().ok_or_else(|| {
        "no `show itl` / `show ctl` records (ITL Record #:N) in the text".to_owned()
    })?;
    if with_records.next().is_some() {
        return Err("more than one `show itl` / `show ctl` listing: give one".to_owned());
    }
    if let Some(e) = &list.error {
        return Err(format!("CUCM says: {e}"));
    }
    let mut records = Vec::new();
    let mut signer = None;
    for r in &list.records {
        // Roles `plan` does not reason about (APP-SERVER, unknown) can neither sign nor vouch.
        let Some(code) = r.function.as_deref().and_then(function_code) else {
            continue;
        };
        let cert = cert_of(r)?;
        let signs = r.signed_this_file == Some(true)
            || (r.signed_this_file.is_none()
                && code == function::SAST
                && list
                    .signer_serial
                    .as_deref()
                    .is_some_and(|s| r.serial.as_deref() == Some(s)));
        if signs && signer.is_none() {
            signer = Some(cert.clone());
        }
        records.push(PlannedRecord {
            function: code,
            cert: Some(cert),
        });
    }
    let signer = signer.ok_or_else(|| {
        format!(
            "no record of the `show itl` text says \"This etoken was used to sign the {} file\" (nor matches the header's SERIALNUMBER): cannot tell which key signs it",
            list.kind
        )
    })?;
    Ok(ShowItl {
        list: PlannedItl::new(signer, records),
        kind: list.kind,
        sha1: list.sha1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_as_show_itl_prints_them() {
        assert_eq!(
            function_code("System Administrator Security Token"),
            Some(function::SAST)
        );
        assert_eq!(function_code("CCM+TFTP"), Some(function::CCM_TFTP));
        assert_eq!(function_code("TVS"), Some(function::TVS));
        assert_eq!(function_code("CAPF"), Some(function::CAPF));
        assert_eq!(function_code("something else"), None);
    }

    #[test]
    fn serial_with_leading_zero_stripped_is_padded() {
        assert_eq!(serial_bytes("a213"), Some(vec![0xa2, 0x13]));
        assert_eq!(serial_bytes("213"), Some(vec![0x02, 0x13]));
        assert_eq!(serial_bytes("zz"), None);
    }

    #[test]
    fn text_without_records_is_a_clear_error() {
        let e = parse("admin:show itl\nLength of ITL file: 0\n", "x.txt").unwrap_err();
        assert!(e.contains("no `show itl`"), "{e}");
    }
}
