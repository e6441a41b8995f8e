//! The certificates of a capture's TLS handshakes, decoded once each ([`CertInterner`]):
//! every phone of a cluster is served the same TVS and CallManager certificates.

use crate::budget::{Account, MemoryBudget};
use crate::evidence::CertificateInfo;
use crate::x509::certificate_info;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

/// Distinct certificates kept by a [`CertInterner`] (a busy capture has a few hundred; a
/// crafted one could have millions).
pub const MAX_INTERNED: usize = 8192;

/// Bytes at the end of a certificate's DER (its signature) that key the cache.
const KEY_TAIL: usize = 64;

/// Certificates kept under one key: past that, one that shares the key is decoded each time
/// (crafted certificates sharing length and signature bytes cannot make a lookup long).
const MAX_BUCKET: usize = 8;

/// DER bytes kept by a [`CertInterner`] across all its certificates (32 MiB).
pub const MAX_INTERNED_BYTES: usize = 32 << 20;

/// A [`CertInterner`] shared by the TLS conversations of one collector (one capture file,
/// one thread).
pub type SharedCerts = std::rc::Rc<std::cell::RefCell<CertInterner>>;

/// One decoded certificate with the note its decoding gave.
type Entry = (Arc<CertificateInfo>, Option<String>);

/// Each distinct certificate decoded and fingerprinted once: thousands of sessions to the
/// same server present the same chain, and decoding plus SHA-1/SHA-256 of every copy was
/// most of the cost of TLS-heavy captures.
///
/// Looked up by a fast keyed hash of the DER bytes; a hit is confirmed by comparing the
/// bytes, so a collision never confuses two certificates. Bounded by [`MAX_INTERNED`]
/// certificates and [`MAX_INTERNED_BYTES`]: past that, certificates are decoded each time
/// (correct, only slower).
#[derive(Debug, Default)]
pub struct CertInterner {
    /// Randomly seeded: colliding certificates would otherwise be cheap to craft.
    hasher: foldhash::fast::RandomState,
    by_hash: HashMap<u64, Vec<Entry>, foldhash::fast::RandomState>,
    count: usize,
    bytes: usize,
    /// Certificates decoded (distinct ones, plus those decoded once the cache was full).
    pub decoded: u64,
    /// Certificates found already decoded.
    pub hits: u64,
    /// The cached certificates, charged to the capture's memory budget.
    account: Account,
    /// Certificates not cached because the memory budget was needed for parser buffers
    /// (decoded again when seen again: correct, only slower).
    pub uncached: u64,
}

/// Bytes a cached certificate costs besides its DER (the decoded names, fingerprints and
/// the cache entry).
const CACHED_OVERHEAD: usize = 512;

impl CertInterner {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The decoded certificate for `der` (and the note its decoding gave), decoding it only
    /// the first time these bytes are seen.
    pub fn intern(&mut self, der: &[u8]) -> Entry {
        // The key is the length and the last bytes, which are the signature's: distinct
        // certificates differ there, and hashing them alone is a fraction of hashing the
        // whole DER (issue 19, tls-heavy). Certificates crafted to share both only share a
        // bucket, and a bucket holds at most MAX_BUCKET: the bytes are always compared.
        let tail = der.get(der.len().saturating_sub(KEY_TAIL)..).unwrap_or(der);
        let h = self.hasher.hash_one((der.len(), tail));
        if let Some(found) = self
            .by_hash
            .get(&h)
            .and_then(|bucket| bucket.iter().find(|(c, _)| c.der == der))
        {
            self.hits += 1;
            return found.clone();
        }
        self.decoded += 1;
        let (info, note) = certificate_info(der);
        let entry = (Arc::new(info), note);
        let bucket_full = self
            .by_hash
            .get(&h)
            .is_some_and(|bucket| bucket.len() >= MAX_BUCKET);
        if !bucket_full
            && self.count < MAX_INTERNED
            && self.bytes + der.len() <= MAX_INTERNED_BYTES
            && self.charge(der.len())
        {
            self.count += 1;
            self.bytes += der.len();
            self.by_hash.entry(h).or_default().push(entry.clone());
        }
        entry
    }

    /// Charges the cached certificates to `memory` (the capture's budget) from now on.
    pub fn set_memory(&mut self, memory: &MemoryBudget) {
        self.account.rebind(memory);
        let held = self.bytes + self.count * CACHED_OVERHEAD;
        self.account.hold(held);
    }

    /// Takes room for one more cached certificate of `der` bytes. The cache is a speed-up,
    /// not evidence: it takes room only while at least half the budget stays free for the
    /// parsers' buffers, and never makes the budget refuse anything.
    fn charge(&mut self, der: usize) -> bool {
        let cost = der.saturating_add(CACHED_OVERHEAD);
        let half = self.account.cap() / 2;
        if !self.account.fits(cost.saturating_add(half)) {
            self.uncached += 1;
            return false;
        }
        let total = self.account.held().saturating_add(cost);
        self.account.hold(total)
    }

    /// Distinct certificates held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no certificate is held.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_decodes_each_distinct_certificate_once() {
        let a = b"\x30\x03\x02\x01\x01".to_vec();
        let b = b"\x30\x03\x02\x01\x02".to_vec();
        let mut cache = CertInterner::new();
        let (first, note) = cache.intern(&a);
        assert!(note.is_some(), "garbage keeps its decoding note");
        for _ in 0..100 {
            let (again, note) = cache.intern(&a.clone());
            assert!(
                Arc::ptr_eq(&first, &again),
                "the same bytes give the same copy"
            );
            assert!(note.is_some());
        }
        let (other, _) = cache.intern(&b);
        assert!(!Arc::ptr_eq(&first, &other));
        assert_ne!(first.sha256, other.sha256);
        assert_eq!((cache.decoded, cache.hits, cache.len()), (2, 100, 2));
    }

    #[test]
    fn a_hash_collision_is_told_apart_by_the_bytes() {
        let mut cache = CertInterner::new();
        let a = b"\x30\x03\x02\x01\x01";
        let b = b"\x30\x03\x02\x01\x02";
        let (ca, _) = cache.intern(a);
        // Force b's bucket to be a's: the lookup must still compare the bytes.
        let h = cache.hasher.hash_one(&b[..]);
        let planted = cache.by_hash.get(&cache.hasher.hash_one(&a[..])).cloned();
        cache.by_hash.insert(h, planted.unwrap_or_default());
        let (cb, _) = cache.intern(b);
        assert!(!Arc::ptr_eq(&ca, &cb));
        assert_eq!(cb.der, b.to_vec());
    }

    #[test]
    fn certificates_sharing_length_and_signature_bytes_are_told_apart_and_bounded() {
        // Issue 19: the cache key is the length and the last bytes; two certificates that
        // share both are still two (the bytes are compared), and a crowd of them stays
        // in a bucket of MAX_BUCKET.
        let mut cache = CertInterner::new();
        let tail = [7u8; KEY_TAIL];
        let mut ders = Vec::new();
        for i in 0..(MAX_BUCKET as u8 + 4) {
            let mut der = vec![i; 40];
            der.extend_from_slice(&tail);
            ders.push(der);
        }
        for der in &ders {
            cache.intern(der);
        }
        assert_eq!(cache.len(), MAX_BUCKET);
        for der in &ders {
            let (info, _) = cache.intern(der);
            assert_eq!(info.der, *der);
        }
        assert_eq!(cache.hits, MAX_BUCKET as u64);
    }
}
