//! The diagnosis's view of trust lists: the parsing/verification backend (the `cisco` module,
//! behind a small trait so the logic can be tested with hand-built trust lists), and matching
//! a certificate seen on the wire against trust-list records.

use crate::cisco::model::{Header, SignatureCheck, SignedFile, TrustList};

/// Parsing and signature checks the diagnosis needs. [`CiscoBackend`] is the real one. A
/// backend is the shared decision's [`crate::trust::Verifier`] too: `verify_with_trust`
/// checks a file against the records of a trust list allowed to sign it.
pub trait TrustBackend: crate::trust::Verifier {
    /// False when this backend cannot parse at all (so "does not parse" is not blamed on a
    /// file).
    fn available(&self) -> bool {
        true
    }
    /// Parses an ITL or CTL.
    fn parse_trust_list<'a>(&self, bytes: &'a [u8]) -> Result<TrustList<'a>, String>;
    /// Parses a signed file (`.sgn`, `.enc.sgn`).
    fn parse_signed_file<'a>(&self, bytes: &'a [u8]) -> Result<SignedFile<'a>, String>;
    /// Checks a trust list's own signature against its signer record
    /// ([`crate::trust::own_signature`] for the real backend).
    fn verify_trust_list(&self, list: &TrustList<'_>) -> SignatureCheck;
}

/// The backend built on [`crate::cisco`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CiscoBackend;

impl TrustBackend for CiscoBackend {
    fn parse_trust_list<'a>(&self, bytes: &'a [u8]) -> Result<TrustList<'a>, String> {
        crate::cisco::trustlist::parse_trust_list(bytes).map_err(|e| e.to_string())
    }
    fn parse_signed_file<'a>(&self, bytes: &'a [u8]) -> Result<SignedFile<'a>, String> {
        crate::cisco::signed::parse_signed_file(bytes).map_err(|e| e.to_string())
    }
    fn verify_trust_list(&self, list: &TrustList<'_>) -> SignatureCheck {
        crate::trust::own_signature(list, &crate::trust::RsaVerifier)
    }
}

impl crate::trust::Verifier for CiscoBackend {
    fn verify_with_trust(
        &self,
        file: &[u8],
        header: &Header<'_>,
        trust: &TrustList<'_>,
        allowed_functions: &[u16],
    ) -> SignatureCheck {
        crate::trust::RsaVerifier.verify_with_trust(file, header, trust, allowed_functions)
    }
}

pub use crate::cisco::serial_hex;
pub use crate::trust::records::{
    MatchedBy, describe_record, find_certificate, header_signer, is_rollback, match_record,
    normalise_dn, normalise_serial_text, record_certificate_sha1, tvs_records,
};
