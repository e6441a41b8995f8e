//! The decision itself: would a phone holding a trust list accept an offered trust list or
//! config (phone-behaviour.md §4.1)?
//!
//! In order: it already holds the very file; it holds no ITL (leap of faith); it holds an
//! empty (rollback) ITL and accepts anything; the file's signer is a record of the held list
//! with a signing role and the signature verifies with that record's key; otherwise only a TVS
//! listed in the held list can vouch, and what a TVS would answer is the caller's evidence
//! ([`TvsWitness`]). The offered file's own signature plays no part: the phone checks the
//! signature with the key it already holds, so a rollback ITL whose records carry no key is
//! accepted when its signer is in the held list.

use super::records::{describe_record, header_signer, is_rollback, signer_in, tvs_records};
use crate::cisco::model::{Header, SignatureCheck, TrustList, function};

/// Roles of the held list whose key may sign a new trust list: its SAST, or the TFTP
/// certificate the phone holds ("signed by the TFTP server certificate that is currently
/// installed on the phone").
pub const ITL_SIGNERS: &[u16] = &[function::SAST, function::CCM_TFTP, function::TFTP];
/// Roles of the held list whose key may sign a config.
pub const CONFIG_SIGNERS: &[u16] = &[function::CCM_TFTP, function::TFTP];

/// The answer: what `analyze`'s trust path and `plan` report (`accepted`, `rejected`,
/// `undetermined` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Acceptance {
    /// The phone takes the file.
    Accepted,
    /// The phone refuses it ("Trust List update failed") and keeps what it has.
    Rejected,
    /// What would settle it is not known.
    Undetermined,
}

impl Acceptance {
    /// `accepted`, `rejected` or `undetermined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Acceptance::Accepted => "accepted",
            Acceptance::Rejected => "rejected",
            Acceptance::Undetermined => "undetermined",
        }
    }
}

/// How an accepted file came to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The phone already holds this very file.
    SameFile,
    /// The phone holds no ITL: the first one is taken on leap of faith.
    NoTrustList,
    /// The phone holds an empty (rollback) ITL: anything is accepted.
    RollbackHeld,
    /// The signer is this record of the held list and the signature verifies with its key.
    SignerInList {
        /// Index into the held list's records.
        record: usize,
    },
    /// A TVS listed in the held list vouches for the signer.
    ViaTvs,
}

impl Route {
    /// `same-file`, `no-itl`, `rollback-itl`, `signer-in-itl` or `via-tvs`.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::SameFile => "same-file",
            Route::NoTrustList => "no-itl",
            Route::RollbackHeld => "rollback-itl",
            Route::SignerInList { .. } => "signer-in-itl",
            Route::ViaTvs => "via-tvs",
        }
    }
}

/// The decision and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The answer.
    pub acceptance: Acceptance,
    /// How, when accepted.
    pub route: Option<Route>,
    /// One line for reports.
    pub explanation: String,
}

impl Decision {
    /// An accepted decision.
    pub fn accepted(route: Route, explanation: String) -> Self {
        Decision {
            acceptance: Acceptance::Accepted,
            route: Some(route),
            explanation,
        }
    }
    /// A rejected decision.
    pub fn rejected(explanation: String) -> Self {
        Decision {
            acceptance: Acceptance::Rejected,
            route: None,
            explanation,
        }
    }
    /// An undetermined decision.
    pub fn undetermined(explanation: String) -> Self {
        Decision {
            acceptance: Acceptance::Undetermined,
            route: None,
            explanation,
        }
    }
}

/// What is offered to the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new ITL (or CTL).
    TrustList,
    /// A signed config (`.cnf.xml.sgn`, `.enc.sgn`).
    Config,
}

/// The offered file: its bytes, parsed header and a name for explanations.
#[derive(Debug, Clone, Copy)]
pub struct Offered<'a> {
    /// The whole file.
    pub bytes: &'a [u8],
    /// Its parsed header (signer fields and signature).
    pub header: &'a Header<'a>,
    /// Trust list or config.
    pub kind: Kind,
    /// How explanations name it: "the served ITL", "SEP….cnf.xml.sgn", "the file".
    pub what: &'a str,
}

/// What the phone holds.
#[derive(Debug, Clone, Copy)]
pub enum Held<'a> {
    /// No ITL (and no CTL).
    Nothing,
    /// This trust list, named `label` in explanations ("the phone's ITL").
    List {
        /// The list.
        list: &'a TrustList<'a>,
        /// How explanations name it.
        label: &'a str,
    },
}

/// Checks a file's signature against the records of a trust list allowed to sign it
/// ([`RsaVerifier`] is the real one; the diagnosis tests plug in hand-built lists).
pub trait Verifier {
    /// As [`crate::cisco::verify::verify_with_trust`].
    fn verify_with_trust(
        &self,
        file: &[u8],
        header: &Header<'_>,
        trust: &TrustList<'_>,
        allowed_functions: &[u16],
    ) -> SignatureCheck;
}

/// RSA verification by [`crate::cisco::verify`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RsaVerifier;

impl Verifier for RsaVerifier {
    fn verify_with_trust(
        &self,
        file: &[u8],
        header: &Header<'_>,
        trust: &TrustList<'_>,
        allowed_functions: &[u16],
    ) -> SignatureCheck {
        crate::cisco::verify::verify_with_trust(file, header, trust, allowed_functions)
    }
}

/// Would a TVS listed in the held list vouch for the offered file's signer? Asked only when
/// the signer is not in the held list and the list has TVS records. The capture's TLS
/// sessions answer it for `analyze`, the planned change for `plan`; `verify` has no TVS.
pub trait TvsWitness {
    /// The decision through TVS; `tvs` are the indices of the held list's TVS records and
    /// `why` says why the signer is not in the held list.
    fn vouch(
        &self,
        held: &TrustList<'_>,
        tvs: &[usize],
        offered: &Offered<'_>,
        why: &str,
    ) -> Decision;
}

/// No TVS to ask (`verify`): the answer through TVS is undetermined.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTvsEvidence;

impl TvsWitness for NoTvsEvidence {
    fn vouch(
        &self,
        _: &TrustList<'_>,
        tvs: &[usize],
        offered: &Offered<'_>,
        why: &str,
    ) -> Decision {
        Decision::undetermined(format!(
            "{}'s signer is not in the trust list ({why}): only one of its {} TVS record(s) could vouch for it, and TVS is not asked here",
            offered.what,
            tvs.len()
        ))
    }
}

/// The one trust decision of the tool: would a phone holding `held` accept `offered`?
pub fn decide(
    held: &Held<'_>,
    offered: &Offered<'_>,
    verifier: &dyn Verifier,
    tvs: &dyn TvsWitness,
) -> Decision {
    let what = offered.what;
    let (list, label) = match *held {
        Held::Nothing => {
            let why = match offered.kind {
                Kind::TrustList => "takes the first ITL on leap of faith",
                Kind::Config => "does not check config signatures",
            };
            return Decision::accepted(
                Route::NoTrustList,
                format!("the phone holds no ITL and {why}"),
            );
        }
        Held::List { list, label } => (list, label),
    };
    if list.bytes == offered.bytes {
        return Decision::accepted(Route::SameFile, format!("the phone already holds {what}"));
    }
    if is_rollback(list, header_signer(list)) {
        let takes = match offered.kind {
            Kind::TrustList => "the phone accepts any new ITL",
            Kind::Config => "any config is accepted",
        };
        return Decision::accepted(
            Route::RollbackHeld,
            format!("{label} is an empty (rollback) ITL: {takes}"),
        );
    }
    let roles = match offered.kind {
        Kind::TrustList => ITL_SIGNERS,
        Kind::Config => CONFIG_SIGNERS,
    };
    // Verified: by the record the signer fields name, or by one they do not name exactly
    // (issuer spelt differently), which the phone finds the same way.
    let (reason, checkable) =
        match verifier.verify_with_trust(offered.bytes, offered.header, list, roles) {
            SignatureCheck::Valid { signer_record } => {
                return Decision::accepted(
                    Route::SignerInList {
                        record: signer_record,
                    },
                    format!(
                        "{what} is signed by {} of {label}",
                        describe_record(list, signer_record)
                    ),
                );
            }
            SignatureCheck::Invalid { reason } => (reason, true),
            SignatureCheck::NotCheckable { reason } => (reason, false),
        };
    if let Some(record) = signer_in(list, offered.header, roles) {
        let named = describe_record(list, record);
        return if checkable {
            Decision::rejected(format!(
                "{what} names {named} of {label} as its signer but its signature does not verify with it ({reason})"
            ))
        } else {
            Decision::undetermined(format!(
                "{what}'s signer is {named} of {label}; the signature could not be checked ({reason})"
            ))
        };
    }
    let records = tvs_records(list);
    if records.is_empty() {
        Decision::rejected(format!(
            "{what}'s signer is not in {label} ({reason}) and that list names no TVS to ask: the phone rejects it"
        ))
    } else {
        tvs.vouch(list, &records, offered, &reason)
    }
}

/// A trust list's own signature, as far as the file alone shows: checked with its own SAST
/// record. A rollback ITL whose signer record carries no key cannot be checked this way (the
/// phone checks it against the list it holds), so that is "not checkable", not "invalid".
/// `show` and the diagnosis's served-ITL check both use this.
pub fn own_signature(list: &TrustList<'_>, verifier: &dyn Verifier) -> SignatureCheck {
    let check = verifier.verify_with_trust(
        list.bytes,
        &list.header,
        list,
        &crate::cisco::verify::TRUST_LIST_SIGNERS,
    );
    let signer = header_signer(list);
    let signer_has_key = signer
        .and_then(|i| list.records.get(i))
        .is_some_and(|r| r.certificate.is_some() || r.public_key.is_some());
    match check {
        SignatureCheck::Invalid { reason } if is_rollback(list, signer) && !signer_has_key => {
            SignatureCheck::NotCheckable {
                reason: format!(
                    "a rollback ITL whose records carry no key ({reason}): a phone checks it against the trust list it holds (itlscope verify FILE --trust PHONE-ITL)"
                ),
            }
        }
        other => other,
    }
}
