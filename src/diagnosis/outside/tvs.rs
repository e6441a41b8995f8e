//! Condition 2 from outside the capture: an exported TVS certificate, and what the phone
//! logged about asking TVS.

use super::common::ctx_facts;
use crate::cisco::model::{TrustList, function};
use crate::diagnosis::context::PhoneCtx;
use crate::diagnosis::model::Condition;
use crate::diagnosis::side::other_phone_in_capture;
use crate::diagnosis::trust::find_certificate;
use crate::sidecar::{ExportedCert, FactKind, SourceKind, TvsAnswer};

/// Certificates exported from CUCM that are TVS's: named so, or (unnamed) matching a TVS
/// record of `list`.
fn exported_tvs_certs<'e>(
    ctx: &PhoneCtx<'e>,
    list: Option<&TrustList<'_>>,
) -> Vec<&'e ExportedCert> {
    ctx.facts
        .side
        .certificates
        .iter()
        .filter(|c| match c.role_hint {
            Some(role) => role == "tvs",
            None => list.is_some_and(|l| find_certificate(&c.info, l, &[function::TVS]).is_some()),
        })
        .collect()
}

/// Condition 2 when no TVS certificate is visible on the wire (TLS 1.3, no session): the TVS
/// certificate exported from CUCM against the TVS records of the phone's ITL, given by the
/// caller only when it is known exactly (`reference`, named `name`), never the served one.
pub fn exported_tvs(
    ctx: &PhoneCtx<'_>,
    reference: Option<&TrustList<'_>>,
    name: &str,
    why: &str,
) -> Option<Condition> {
    if ctx.facts.side.certificates.is_empty() {
        return None;
    }
    let certs = exported_tvs_certs(ctx, reference);
    if certs.is_empty() {
        return None;
    }
    let Some(list) = reference else {
        return Some(Condition::new(
            None,
            format!(
                "{why}; a TVS certificate exported from CUCM is at hand ({}) but there is no parsed ITL to compare it with ({name})",
                certs[0].source
            ),
        ));
    };
    for c in &certs {
        if find_certificate(&c.info, list, &[function::TVS]).is_none() {
            return Some(Condition::new(
                Some(true),
                format!(
                    "{why}; the TVS certificate exported from CUCM ({}: {}, serial {}, sha1 {}) matches no TVS record of {name}",
                    c.source, c.info.subject, c.info.serial, c.info.sha1
                ),
            ));
        }
    }
    let which: Vec<String> = certs
        .iter()
        .map(|c| format!("{} serial {}", c.source, c.info.serial))
        .collect();
    Some(Condition::new(
        Some(false),
        format!(
            "{why}; the TVS certificate exported from CUCM ({}) matches a TVS record of {name} (if the phone's TVS is another node, export that node's certificate)",
            which.join(", ")
        ),
    ))
}

/// What one piece of evidence says about a TVS (for condition 2 and the TVS-vouching path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TvsFinding {
    /// The phone found TVS's own certificate in the TVS record of its trust list
    /// (`tvs_cert_vfy: TVS cert verified with hash from TL`): the phone trusts that TVS, so
    /// condition 2 is false for it (statements 12, 21).
    PhoneTrustsTvs,
    /// TVS vouched for the certificate the phone asked about (phone log `status : 0`, TVS
    /// trace `Certificate found and equal`).
    Vouched,
    /// TVS did not vouch (phone log non-zero status, TVS trace `certificate not found`).
    NotVouched,
    /// The phone's TLS connection to its security server failed (`SSL handshake failed`):
    /// not by itself a rejection of TVS's certificate (CSCua65618 is a cipher mismatch).
    ConnectionFailed,
    /// TVS trace: the request is logged, its answer is not.
    NoAnswer,
}

impl TvsFinding {
    /// `phone-trusts-tvs`, `vouched`, `not-vouched`, `connection-failed`, `no-answer`.
    pub fn as_str(self) -> &'static str {
        match self {
            TvsFinding::PhoneTrustsTvs => "phone-trusts-tvs",
            TvsFinding::Vouched => "vouched",
            TvsFinding::NotVouched => "not-vouched",
            TvsFinding::ConnectionFailed => "connection-failed",
            TvsFinding::NoAnswer => "no-answer",
        }
    }
}

/// One piece of `--evidence` about a TVS, for this phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TvsReport {
    /// What it says.
    pub finding: TvsFinding,
    /// The TVS address, when the line names it or an earlier line of the same file did
    /// (`server_inferred` then says so); None from a CUCM trace (it does not name its node).
    pub server: Option<String>,
    /// True when `server` comes from an earlier line of the same file.
    pub server_inferred: bool,
    /// The certificate asked about, when the evidence names it (TVS trace).
    pub certificate: Option<String>,
    /// TVS's status as the phone logged it.
    pub status: Option<u32>,
    /// Where: `file[!member]:line`.
    pub source: String,
    /// The line.
    pub line: Option<usize>,
    /// The time as written (no date in these logs).
    pub time: Option<String>,
    /// Phone log or TVS trace.
    pub from: SourceKind,
    /// The line, shortened.
    pub text: String,
}

/// What the `--evidence` files say about this phone's TVS servers, in file and line order:
/// the phone trusting a TVS (`tvs_cert_vfy`), TVS's answers (`status : N`, the CUCM trace's
/// found / not found) and failed connections. Evidence set aside for this phone (older than
/// the capture, another phone's) is left out.
pub fn tvs_reports(ctx: &PhoneCtx<'_>) -> Vec<TvsReport> {
    let mut out = Vec::new();
    let mut last_server: Option<(String, String)> = None;
    for f in ctx_facts(ctx) {
        let key = format!(
            "{}!{}",
            f.source.file,
            f.source.member.as_deref().unwrap_or("")
        );
        let (finding, named, status) = match &f.kind {
            FactKind::TvsCertTrusted { server } => {
                (TvsFinding::PhoneTrustsTvs, server.clone(), None)
            }
            FactKind::TvsResponse { status } => (
                if *status == 0 {
                    TvsFinding::Vouched
                } else {
                    TvsFinding::NotVouched
                },
                None,
                Some(*status),
            ),
            FactKind::TvsVouched => (TvsFinding::Vouched, None, None),
            FactKind::TvsFailed => (
                TvsFinding::ConnectionFailed,
                crate::sidecar::wording::bracketed(&f.text),
                None,
            ),
            _ => continue,
        };
        if let Some(s) = &named {
            last_server = Some((key.clone(), s.clone()));
        }
        let inferred = named.is_none()
            && last_server.as_ref().is_some_and(|(k, _)| *k == key)
            && matches!(finding, TvsFinding::Vouched | TvsFinding::NotVouched);
        let server = named.or_else(|| {
            inferred
                .then(|| last_server.as_ref().map(|(_, s)| s.clone()))
                .flatten()
        });
        out.push(TvsReport {
            finding,
            server,
            server_inferred: inferred,
            certificate: None,
            status,
            source: f.source.to_string(),
            line: f.source.line,
            time: f.time.clone(),
            from: f.source_kind,
            text: f.text.clone(),
        });
    }
    let several = std::cell::OnceCell::new();
    for r in &ctx.facts.side.tvs_trace {
        let mine = match r.client {
            Some(ip) => ctx.group.ips.contains(&ip),
            None => !*several.get_or_init(|| other_phone_in_capture(ctx.evidence, ctx.group)),
        };
        if !mine {
            continue;
        }
        out.push(TvsReport {
            finding: match r.answer {
                TvsAnswer::Vouched => TvsFinding::Vouched,
                TvsAnswer::NotFound => TvsFinding::NotVouched,
                TvsAnswer::Unknown => TvsFinding::NoAnswer,
            },
            server: None,
            server_inferred: false,
            certificate: r.certificate.clone(),
            status: None,
            source: r.source.to_string(),
            line: r.source.line,
            time: r.time.clone(),
            from: SourceKind::TvsTrace,
            text: format!(
                "{}{}: {}",
                r.message.as_deref().unwrap_or("certificate lookup"),
                r.client.map(|c| format!(" from {c}")).unwrap_or_default(),
                r.answer.as_str()
            ),
        });
    }
    out
}
