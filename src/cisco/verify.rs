//! Signature verification of trust lists and signed files: RSASSA-PKCS1-v1_5 over the whole
//! file without the tag-12 (SIGNATURE) element, digest by header tag 8 (1 SHA-1, 2 SHA-256,
//! 3 SHA-512), key of the signer record (certificate tag 9, else PKCS#1 tag 7) whose serial
//! (unsigned compare) and, preferably, issuer match header tags 5 and 6.

use super::model::{Header, Record, SignatureCheck, SignedFile, TrustList, function};
use super::{serial_eq, serial_hex};
use rsa::pkcs1::der::Decode;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PublicKey};
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha512};

/// OID of rsaEncryption in a certificate's SubjectPublicKeyInfo.
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// Smallest RSA key accepted (modulus code 0 = 512 bits exists in the format).
const MIN_KEY_BITS: usize = 512;
/// Largest RSA key accepted.
const MAX_KEY_BITS: usize = 8192;

/// Functions allowed to sign a config or other signed file.
pub const CONFIG_SIGNERS: [u16; 2] = [function::TFTP, function::CCM_TFTP];
/// Functions allowed to sign a trust list.
pub const TRUST_LIST_SIGNERS: [u16; 1] = [function::SAST];

/// The digests of header tag 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// Code 1.
    Sha1,
    /// Code 2.
    Sha256,
    /// Code 3.
    Sha512,
}

impl DigestAlgorithm {
    /// From the tag-8 code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(DigestAlgorithm::Sha1),
            2 => Some(DigestAlgorithm::Sha256),
            3 => Some(DigestAlgorithm::Sha512),
            _ => None,
        }
    }

    /// JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// Display name.
    pub fn display(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "SHA-1",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }
}

/// JSON name of a tag-8 code: `sha1`, `sha256`, `sha512` or `unknown(N)` (`unknown(none)`
/// when the tag is absent).
pub fn digest_name(code: Option<u8>) -> String {
    match code {
        Some(c) => DigestAlgorithm::from_code(c)
            .map_or_else(|| format!("unknown({c})"), |d| d.as_str().to_owned()),
        None => "unknown(none)".to_owned(),
    }
}

/// The signed message as two slices: `file[..s]` and `file[s + 3 + n..]` around the tag-12
/// element at `s` with an `n`-byte value. `None` without a signature.
pub fn signed_message<'a>(file: &'a [u8], header: &Header<'a>) -> Option<(&'a [u8], &'a [u8])> {
    let (offset, signature) = header.signature?;
    let before = file.get(..offset)?;
    let after = file.get(offset + 3 + signature.len()..)?;
    Some((before, after))
}

fn digest_of<D: Digest>(parts: (&[u8], &[u8])) -> Vec<u8> {
    let mut hasher = D::new();
    hasher.update(parts.0);
    hasher.update(parts.1);
    hasher.finalize().to_vec()
}

fn digest_with(algorithm: DigestAlgorithm, parts: (&[u8], &[u8])) -> Vec<u8> {
    match algorithm {
        DigestAlgorithm::Sha1 => digest_of::<Sha1>(parts),
        DigestAlgorithm::Sha256 => digest_of::<Sha256>(parts),
        DigestAlgorithm::Sha512 => digest_of::<Sha512>(parts),
    }
}

/// The digest a signature check of `file` compares (the file less its signature element, by
/// the header's digest algorithm), so that the file's bytes can be dropped and the check made
/// later from its header ([`Header::signed_digest`]). None when the header names no usable
/// algorithm or signature: such a file must be kept whole for the check to say why.
pub fn signed_digest(file: &[u8], header: &Header<'_>) -> Option<Vec<u8>> {
    let algorithm = preflight(header).ok()?;
    let parts = signed_message(file, header)?;
    Some(digest_with(algorithm, parts))
}

/// An RSA public key from DER `RSAPublicKey` (PKCS#1), 512 to 8192 bits.
pub fn rsa_key_from_pkcs1(der: &[u8]) -> Result<PublicKey, String> {
    let key = rsa::pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|e| format!("PKCS#1 public key does not parse: {e}"))?;
    let n = key.modulus.as_bytes();
    let e = key.public_exponent.as_bytes();
    if n.len() * 8 > MAX_KEY_BITS || e.len() > n.len() {
        return Err(format!("RSA key of {} bits is too large", n.len() * 8));
    }
    let bits = |bytes: &[u8]| u32::try_from(bytes.len() * 8).unwrap_or(u32::MAX);
    let n = BoxedUint::from_be_slice(n, bits(n)).map_err(|_| "bad RSA modulus".to_owned())?;
    let e = BoxedUint::from_be_slice(e, bits(e)).map_err(|_| "bad RSA exponent".to_owned())?;
    PublicKey::new_with_size_limits(n, e, MIN_KEY_BITS..=MAX_KEY_BITS)
        .map_err(|e| format!("unusable RSA key: {e}"))
}

/// Where a record's key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Tag 9 certificate.
    Certificate,
    /// Tag 7 PKCS#1 public key.
    PublicKey,
}

/// The RSA key of a record: from its certificate (tag 9) when it parses and holds an RSA key,
/// else from tag 7.
pub fn record_key(record: &Record<'_>) -> Result<(PublicKey, KeySource), String> {
    let mut why = Vec::new();
    if let Some(der) = record.certificate {
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, cert)) => {
                let spki = cert.public_key();
                if spki.algorithm.algorithm.to_id_string() == RSA_ENCRYPTION_OID {
                    match rsa_key_from_pkcs1(&spki.subject_public_key.data) {
                        Ok(key) => return Ok((key, KeySource::Certificate)),
                        Err(e) => why.push(format!("certificate: {e}")),
                    }
                } else {
                    why.push(format!(
                        "certificate key is not RSA ({})",
                        spki.algorithm.algorithm.to_id_string()
                    ));
                }
            }
            Err(e) => why.push(format!("certificate does not parse: {e}")),
        }
    }
    if let Some(der) = record.public_key {
        match rsa_key_from_pkcs1(der) {
            Ok(key) => return Ok((key, KeySource::PublicKey)),
            Err(e) => why.push(format!("PUBLICKEY: {e}")),
        }
    }
    if why.is_empty() {
        why.push("no CERTIFICATE and no PUBLICKEY".to_owned());
    }
    Err(why.join("; "))
}

/// Why a signature does not verify with a key.
enum KeyFailure {
    /// The key is the right size but the signature is not over these bytes with it: the file
    /// changed after signing, or another key under the same signer name signed it.
    DigestMismatch(String),
    /// Anything else (no signature, lengths, unsupported algorithm).
    Other(String),
}

impl From<String> for KeyFailure {
    fn from(s: String) -> Self {
        KeyFailure::Other(s)
    }
}

impl From<&str> for KeyFailure {
    fn from(s: &str) -> Self {
        KeyFailure::Other(s.to_owned())
    }
}

/// Checks the header's signature over `file` with `key`.
fn check_with_key(file: &[u8], header: &Header<'_>, key: &PublicKey) -> Result<(), KeyFailure> {
    let (_, signature) = header
        .signature
        .ok_or("no SIGNATURE (tag 12) in the header")?;
    let digest = preflight(header)?;
    if signature.len() != key.size() {
        return Err(format!(
            "malformed signature length: {} bytes, the signer's RSA-{} key needs {}",
            signature.len(),
            key.size() * 8,
            key.size()
        )
        .into());
    }
    // A file kept only as its header carries the digest computed before its bytes went.
    let hashed;
    let message: &[u8] = match header.signed_digest {
        Some(d) => d,
        None => {
            let parts = signed_message(file, header).ok_or("signature element outside the file")?;
            hashed = digest_with(digest, parts);
            &hashed
        }
    };
    let verified = match digest {
        DigestAlgorithm::Sha1 => cached_verify::<Sha1>(key, digest, message, signature),
        DigestAlgorithm::Sha256 => cached_verify::<Sha256>(key, digest, message, signature),
        DigestAlgorithm::Sha512 => cached_verify::<Sha512>(key, digest, message, signature),
    };
    let result = if verified { Ok(()) } else { Err(()) };
    result.map_err(|_| {
        KeyFailure::DigestMismatch(format!(
            "digest mismatch: the {} signature does not verify with that record's RSA-{} key",
            digest.display(),
            key.size() * 8
        ))
    })
}

/// Results of RSA verifications already done this run, keyed by a SHA-256 over (modulus,
/// exponent, digest algorithm, digest, signature): every phone of a cluster checks the
/// same ITL signature with the same key, and the answer cannot differ.
struct VerifyCache {
    results: std::collections::HashMap<[u8; 32], bool>,
    stats: VerifyStats,
}

static VERIFY_CACHE: std::sync::Mutex<Option<VerifyCache>> = std::sync::Mutex::new(None);

/// Most results remembered; past it the cache starts again (a run checks a few distinct
/// signatures per cluster, so this is reached only by adversarial input).
const VERIFY_CACHE_MAX: usize = 1 << 16;

/// Work done by signature checks since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VerifyStats {
    /// Checks asked for (a key, a digest and a signature), cached or not.
    pub requests: u64,
    /// RSA operations actually performed: one per distinct (key, digest algorithm, digest,
    /// signature) while the cache holds it.
    pub rsa_verifications: u64,
    /// Distinct (key, digest algorithm, digest, signature) checks seen.
    pub distinct_checks: u64,
}

/// Counts of signature-check work since the process started (for benchmarks and tests).
pub fn verify_stats() -> VerifyStats {
    let guard = VERIFY_CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    guard.as_ref().map(|c| c.stats).unwrap_or_default()
}

/// Verifies `signature` over `parts` with `key`, once per distinct (key, digest algorithm,
/// digest, signature) per run.
fn cached_verify<D: Digest + sha1::digest::const_oid::AssociatedOid>(
    key: &PublicKey,
    algorithm: DigestAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let mut id = Sha256::new();
    // Length-prefixed so that no two different tuples hash the same input.
    for field in [
        &key.n_bytes()[..],
        &key.e_bytes()[..],
        &[algorithm as u8][..],
        digest,
        signature,
    ] {
        id.update((field.len() as u64).to_be_bytes());
        id.update(field);
    }
    let id: [u8; 32] = id.finalize().into();
    {
        let mut guard = VERIFY_CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cache = guard.get_or_insert_with(|| VerifyCache {
            results: std::collections::HashMap::new(),
            stats: VerifyStats::default(),
        });
        cache.stats.requests += 1;
        if let Some(&known) = cache.results.get(&id) {
            return known;
        }
    }
    // Not under the lock: several captures verify on several threads. Two threads may both
    // miss the same new tuple; both then count it, which the stats show honestly.
    let ok = key
        .verify(Pkcs1v15Sign::new::<D>(), digest, signature)
        .is_ok();
    let mut guard = VERIFY_CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(cache) = guard.as_mut() {
        cache.stats.rsa_verifications += 1;
        if cache.results.len() >= VERIFY_CACHE_MAX {
            cache.results.clear();
        }
        if cache.results.insert(id, ok).is_none() {
            cache.stats.distinct_checks += 1;
        }
    }
    ok
}

/// What can be checked without a key: signature present, algorithms supported, signature
/// length consistent with SIGNATUREMODULUS.
fn preflight(header: &Header<'_>) -> Result<DigestAlgorithm, String> {
    let (_, signature) = header
        .signature
        .ok_or("no SIGNATURE (tag 12) in the header")?;
    if let Some(alg) = header.signature_algorithm
        && alg != 0
    {
        return Err(format!(
            "unsupported algorithm: signature algorithm {alg} (only 0 = RSA is known)"
        ));
    }
    let digest = match header.digest_algorithm {
        Some(code) => DigestAlgorithm::from_code(code)
            .ok_or_else(|| format!("unsupported algorithm: digest algorithm code {code}"))?,
        None => return Err("unsupported algorithm: no DIGESTALGORITHM (tag 8)".to_owned()),
    };
    if let Some(code) = header.modulus_code {
        let expected = 64usize.checked_shl(u32::from(code)).filter(|&n| n <= 1024);
        if expected != Some(signature.len()) {
            return Err(format!(
                "malformed signature length: {} bytes, SIGNATUREMODULUS code {code} says {}",
                signature.len(),
                expected.map_or_else(|| "an impossible size".to_owned(), |n| n.to_string())
            ));
        }
    }
    Ok(digest)
}

/// A readable name for the header's signer.
fn signer_label(header: &Header<'_>) -> String {
    let serial = header
        .signer_serial
        .map_or_else(|| "none".to_owned(), serial_hex);
    let name = header
        .signer_name
        .map_or_else(|| "unnamed".to_owned(), crate::dn::of_text_bytes);
    format!("{name} (serial {serial})")
}

fn role_list(allowed: &[u16]) -> String {
    allowed
        .iter()
        .map(|&f| function::name(f))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records of `records` whose serial matches the header's, with an allowed role, those whose
/// issuer also matches first.
fn candidates<'r>(
    header: &Header<'_>,
    records: &'r [Record<'r>],
    allowed: &[u16],
) -> Vec<(usize, &'r Record<'r>)> {
    let Some(serial) = header.signer_serial else {
        return Vec::new();
    };
    let mut found: Vec<(usize, &Record<'_>)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.function.is_some_and(|f| allowed.contains(&f))
                && r.serial.is_some_and(|s| serial_eq(s, serial))
        })
        .collect();
    // Stable: issuer matches first, file order otherwise.
    found.sort_by_key(|(_, r)| r.issuer != header.signer_issuer);
    found
}

/// Checks `file` (whose header is `header`) against the records of `trust` allowed to sign
/// it. `Valid` names the index of the record (in `trust.records`) whose key verified.
pub fn verify_with_trust(
    file: &[u8],
    header: &Header<'_>,
    trust: &TrustList<'_>,
    allowed_functions: &[u16],
) -> SignatureCheck {
    if let Err(reason) = preflight(header) {
        return SignatureCheck::Invalid { reason };
    }
    let found = candidates(header, &trust.records, allowed_functions);
    if found.is_empty() {
        let other_roles: Vec<String> = trust
            .records
            .iter()
            .filter(|r| {
                header
                    .signer_serial
                    .zip(r.serial)
                    .is_some_and(|(a, b)| serial_eq(a, b))
            })
            .filter_map(|r| r.function.map(function::name))
            .collect();
        let reason = if other_roles.is_empty() {
            format!(
                "key not found: signer {} is not in the trust list",
                signer_label(header)
            )
        } else {
            format!(
                "key not found: signer {} is in the trust list only as {}, which may not sign this file (allowed: {})",
                signer_label(header),
                other_roles.join(", "),
                role_list(allowed_functions)
            )
        };
        return SignatureCheck::Invalid { reason };
    }
    let mut failures = Vec::new();
    for (index, record) in found {
        match record_key(record) {
            Ok((key, _)) => match check_with_key(file, header, &key) {
                Ok(()) => {
                    return SignatureCheck::Valid {
                        signer_record: index,
                    };
                }
                Err(KeyFailure::DigestMismatch(detail)) => failures.push(format!(
                    "the file was altered after record #{} signed it, or another key with the same signer name and serial signed it ({detail})",
                    index + 1
                )),
                Err(KeyFailure::Other(e)) => failures.push(format!("record #{}: {e}", index + 1)),
            },
            Err(e) => failures.push(format!(
                "record #{}: key not found: no usable RSA key ({e})",
                index + 1
            )),
        }
    }
    SignatureCheck::Invalid {
        reason: failures.join("; "),
    }
}

/// Checks a trust list's own signature: the signer is its SAST record matching header tags
/// 5 and 6.
pub fn verify_trust_list(tl: &TrustList<'_>) -> SignatureCheck {
    verify_with_trust(tl.bytes, &tl.header, tl, &TRUST_LIST_SIGNERS)
}

/// A signed file on its own cannot be verified: its signer's key is not in it. Explains why
/// (firmware placeholder signer, or "verify against a trust list").
pub fn verify_signed_alone(signed: &SignedFile<'_>) -> SignatureCheck {
    if let Err(reason) = preflight(&signed.header) {
        return SignatureCheck::Invalid { reason };
    }
    let reason = if signed.is_firmware_signed() {
        "not checkable: Cisco firmware signature (placeholder signer); the key is built into the phone firmware".to_owned()
    } else {
        format!(
            "not checkable here: the signer {} is not in the file; check it against a trust list (itlscope verify FILE --trust ITL)",
            signer_label(&signed.header)
        )
    };
    SignatureCheck::NotCheckable { reason }
}
