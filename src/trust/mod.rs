//! The one trust decision of the tool: would a phone holding a given trust list accept a new
//! ITL or signed config, directly, through TVS, or not at all? `analyze` (the diagnosis's trust
//! path), `verify`, `show` (a trust list's own signature) and `plan` all decide through
//! [`decide`] and [`own_signature`], so they cannot disagree.
//!
//! Bytes in, decision out: this module knows the `cisco` formats and the evidence's
//! certificate shape, never packets or the diagnosis. What a TVS would answer is evidence the
//! caller supplies ([`TvsWitness`]): the capture for `analyze`, the planned change for `plan`.

pub mod decide;
pub mod evidence;
pub mod records;
pub mod recovery;
pub mod store;
pub mod tvs;

pub use decide::{
    Acceptance, CONFIG_SIGNERS, Decision, Held, ITL_SIGNERS, Kind, NoTvsEvidence, Offered, Route,
    RsaVerifier, TvsWitness, Verifier, decide, own_signature,
};
