//! Fleet scale (issue 20): work and memory that do not grow with copies of the same thing.
//! Every phone of a cluster downloads the same ITL and checks the same signature with the
//! same key; these tests count the work done (RSA operations, stored copies), not time.
//!
//! The counters are process-wide, so the tests that read them take `SERIAL` first.

use itlscope::cisco::model::SignatureCheck;
use itlscope::cisco::trustlist::parse_trust_list;
use itlscope::cisco::verify::{verify_stats, verify_trust_list};
use itlscope::diagnosis::{OperatorFacts, diagnose};
use itlscope::evidence::{Evidence, FileKind};
use itlscope::pipeline::{PipelineOptions, collect_evidence};
use itlscope_gen::pki::{ClusterCerts, Digest};
use itlscope_gen::span::Span;
use itlscope_gen::trustlist::cucm_itl;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

/// Evidence of a generated SPAN of `phones` phones.
fn span_evidence(phones: usize, seed: u64) -> Evidence {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("span.pcap");
    std::fs::write(&path, Span::new(phones, seed).capture()).expect("capture written");
    collect_evidence(&[path], &PipelineOptions::default()).expect("capture reads")
}

/// Statements 4 and 9: each phone's served ITL is checked against its own signer record and
/// its signed config against the ITL's CCM+TFTP record. On a SPAN every phone asks for those
/// checks, but each distinct (key, digest algorithm, digest,
/// signature) costs one RSA operation per run.
#[test]
fn each_distinct_signature_check_costs_one_rsa_operation_per_run() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let evidence = span_evidence(60, 7);
    let before = verify_stats();
    let first = diagnose(&evidence, &OperatorFacts::default());
    let after = verify_stats();
    let requests = after.requests - before.requests;
    let rsa = after.rsa_verifications - before.rsa_verifications;
    let distinct = after.distinct_checks - before.distinct_checks;
    assert!(first.phones.len() >= 50, "{} phones", first.phones.len());
    // New tuples only: a tuple seen by an earlier test of this binary is neither verified
    // again nor counted as new, so the two move together.
    assert_eq!(rsa, distinct, "one RSA operation per new distinct check");
    // Every phone needs two checks (its served ITL, its config); the phones share the ITL's,
    // so the RSA operations are well under two a phone. (Repeats may be answered before they
    // reach the counted cache — the diagnosis remembers its own checks — so `requests` is
    // not compared with twice the phones.)
    let phones = first.phones.len() as u64;
    assert!(
        rsa + 10 <= 2 * phones && requests >= rsa,
        "phones share checks: {phones} phones, {requests} asked, {rsa} performed"
    );

    // The same evidence again: every check is one already made.
    let again = diagnose(&evidence, &OperatorFacts::default());
    let last = verify_stats();
    assert_eq!(last.rsa_verifications, after.rsa_verifications);
    assert_eq!(last.distinct_checks, after.distinct_checks);
    assert_eq!(last.requests - after.requests, requests);
    assert_eq!(
        format!(
            "{:?}",
            first.phones.iter().map(|p| &p.verdict).collect::<Vec<_>>()
        ),
        format!(
            "{:?}",
            again.phones.iter().map(|p| &p.verdict).collect::<Vec<_>>()
        ),
        "a cached answer is the answer"
    );
}

/// The cache remembers answers, not trust: an altered copy of a list whose original
/// verified is still refused, the first time and from the cache (statement 7c: new files
/// must match a signature the phone trusts).
#[test]
fn a_cached_valid_answer_does_not_leak_to_an_altered_copy() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let certs = ClusterCerts::new("cucm-fleet.example.net");
    let good = cucm_itl(&certs, Digest::Sha256);
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let check = |bytes: &[u8]| verify_trust_list(&parse_trust_list(bytes).expect("parses"));
    for round in 0..3 {
        let before = verify_stats();
        assert!(
            matches!(check(&good), SignatureCheck::Valid { .. }),
            "round {round}"
        );
        assert!(
            matches!(check(&bad), SignatureCheck::Invalid { .. }),
            "round {round}"
        );
        let after = verify_stats();
        assert_eq!(after.requests - before.requests, 2);
        if round > 0 {
            assert_eq!(after.rsa_verifications, before.rsa_verifications);
        }
    }
}

/// Identical ITL bytes downloaded by many phones are stored once: every transfer of the
/// same contents refers to the same copy.
#[test]
fn identical_itl_bytes_are_stored_once() {
    let evidence = span_evidence(60, 11);
    let itls: Vec<_> = evidence
        .files
        .iter()
        .filter(|f| f.kind() == FileKind::Itl && f.complete && !f.data.is_empty())
        .collect();
    assert!(itls.len() >= 20, "{} complete ITL downloads", itls.len());
    let mut copies: Vec<&itlscope::evidence::FileBytes> = Vec::new();
    for f in &itls {
        match copies.iter().find(|c| c.as_slice() == f.data.as_slice()) {
            Some(held) => assert!(
                held.same_copy(&f.data),
                "{} (frame {}) holds its own copy of bytes already stored",
                f.name,
                f.first.frame
            ),
            None => copies.push(&f.data),
        }
    }
    assert!(
        copies.len() * 4 <= itls.len(),
        "{} distinct ITL contents for {} downloads",
        copies.len(),
        itls.len()
    );
    // Per-phone configurations differ and are not merged.
    let configs: Vec<_> = evidence
        .files
        .iter()
        .filter(|f| f.kind() == FileKind::SignedConfig && f.complete)
        .collect();
    for pair in configs.windows(2) {
        if pair[0].data.as_slice() != pair[1].data.as_slice() {
            assert!(!pair[0].data.same_copy(&pair[1].data));
        }
    }
}
