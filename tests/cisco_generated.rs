//! Trust lists and signed files built by `itlscope-gen` (rcgen certificates, `rsa` signatures)
//! parse, verify under every digest and key size, and stop verifying after any byte flip.
//! The committed copies in tests/fixtures/trustlists/ must equal a fresh build (determinism
//! across runs); `ITLSCOPE_REGENERATE=1 cargo test --test cisco_generated` rewrites them.

use itlscope::cisco::model::{FileFormat, SignatureCheck, function};
use itlscope::cisco::signed::parse_signed_file;
use itlscope::cisco::trustlist::parse_trust_list;
use itlscope::cisco::verify::{
    CONFIG_SIGNERS, TRUST_LIST_SIGNERS, verify_trust_list, verify_with_trust,
};
use itlscope::cisco::{ParsedFile, detect_format, parse_any, serial_hex};
use itlscope::report::trustlist::show_json;
use itlscope_gen::pki::{CertSpec, ClusterCerts, Digest, KeyName};
use itlscope_gen::trustlist::{
    EncryptedConfigBuilder, RecordSpec, Signer, TrustListBuilder, cucm_itl, rollback_itl,
    signed_file,
};

const HOST: &str = "cucm-pub.example.com";

/// An ITL signed by a SAST certificate with `key`, with CCM+TFTP, TVS (hash only) and CAPF
/// (certificate + hash) records.
fn itl_with(key: KeyName, digest: Digest) -> Vec<u8> {
    let certs = ClusterCerts::new(HOST);
    let sast = CertSpec::itl_recovery(HOST).with_key(key).self_signed();
    TrustListBuilder::new("ITLFile.tlv", Signer::from_cert(&sast))
        .record(RecordSpec::from_cert(function::SAST, &sast))
        .record(RecordSpec::from_cert(
            function::CCM_TFTP,
            &certs.callmanager,
        ))
        .record(RecordSpec::from_cert(function::TVS, &certs.tvs).hash_only())
        .record(RecordSpec::from_cert(function::CAPF, &certs.capf).with_cert_hash())
        .digest(digest)
        .build()
}

fn is_valid(bytes: &[u8]) -> bool {
    parse_trust_list(bytes)
        .is_ok_and(|tl| matches!(verify_trust_list(&tl), SignatureCheck::Valid { .. }))
}

#[test]
fn every_digest_and_key_size_verifies_and_flips_do_not() {
    for (key, bits, code) in [
        (KeyName::Rsa1024, 1024, 1),
        (KeyName::ItlRecovery, 2048, 2),
        (KeyName::Rsa4096, 4096, 3),
    ] {
        for digest in Digest::ALL {
            let bytes = itl_with(key, digest);
            let tl = parse_trust_list(&bytes).expect("parses");
            assert_eq!(tl.format, FileFormat::Itl);
            assert_eq!(tl.header.digest_algorithm, Some(digest.code()));
            assert_eq!(tl.header.modulus_code, Some(code));
            assert_eq!(tl.header.signature.map(|(_, s)| s.len()), Some(bits / 8));
            assert_eq!(tl.header.header_length % 4, 0);
            assert_eq!(
                verify_trust_list(&tl),
                SignatureCheck::Valid { signer_record: 0 },
                "{key:?} {digest:?}"
            );
            let tvs = &tl.records[2];
            assert_eq!(tvs.function, Some(function::TVS));
            assert_eq!(tvs.certificate, None);
            assert_eq!(tvs.cert_hash.map(<[u8]>::len), Some(20));
            assert_eq!(tvs.hash_algorithm, Some(1));
            assert!(tl.records[3].certificate.is_some() && tl.records[3].cert_hash.is_some());

            // Single-byte flips across the records: a prime stride (every 5th byte for one
            // combination, every 41st for the others) keeps the debug-build run short while
            // hitting every field of every record.
            let first_record = usize::from(tl.header.header_length);
            let stride = if bits == 2048 && digest == Digest::Sha256 {
                5
            } else {
                41
            };
            for pos in (first_record..bytes.len()).step_by(stride) {
                let mut copy = bytes.clone();
                copy[pos] ^= 0x01;
                assert!(
                    !is_valid(&copy),
                    "{key:?} {digest:?}: flip at {pos} still verifies"
                );
            }
            // And in the header outside the signature.
            let (sig_at, sig) = tl.header.signature.expect("signature");
            for pos in (0..first_record)
                .step_by(3)
                .filter(|p| *p < sig_at || *p >= sig_at + 3 + sig.len())
            {
                let mut copy = bytes.clone();
                copy[pos] ^= 0x80;
                assert!(
                    !is_valid(&copy),
                    "{key:?} {digest:?}: header flip at {pos} still verifies"
                );
            }
        }
    }
}

#[test]
fn signed_config_verifies_against_the_itl_and_payload_flips_do_not() {
    let certs = ClusterCerts::new(HOST);
    let itl_bytes = cucm_itl(&certs, Digest::Sha256);
    let itl = parse_trust_list(&itl_bytes).expect("parses");
    let payload = b"<?xml version=\"1.0\"?><device><fullConfig>true</fullConfig></device>\n";
    for digest in Digest::ALL {
        let sgn = signed_file(
            "SEP001122334455.cnf.xml.sgn",
            payload,
            Signer::from_cert(&certs.callmanager),
            digest,
        );
        assert_eq!(detect_format(&sgn), Some(FileFormat::Signed));
        let parsed = parse_signed_file(&sgn).expect("parses");
        assert_eq!(parsed.payload, payload);
        assert_eq!(
            parsed.header.filename,
            Some(&b"SEP001122334455.cnf.xml.sgn"[..])
        );
        assert_eq!(
            verify_with_trust(&sgn, &parsed.header, &itl, &CONFIG_SIGNERS),
            SignatureCheck::Valid { signer_record: 1 }
        );
        for pos in usize::from(parsed.header.header_length)..sgn.len() {
            let mut copy = sgn.clone();
            copy[pos] ^= 0x20;
            let p = parse_signed_file(&copy).expect("header untouched");
            assert!(
                matches!(
                    verify_with_trust(&copy, &p.header, &itl, &CONFIG_SIGNERS),
                    SignatureCheck::Invalid { .. }
                ),
                "payload flip at {pos} still verifies"
            );
        }
    }
    // A signer absent from the ITL, and one present only with a role that may not sign configs.
    let other = CertSpec::callmanager("other.example.com")
        .with_key(KeyName::OtherCluster)
        .with_serial(&[9, 9, 9])
        .self_signed();
    let foreign = signed_file(
        "SEP001122334455.cnf.xml.sgn",
        payload,
        Signer::from_cert(&other),
        Digest::Sha1,
    );
    let h = parse_signed_file(&foreign).expect("parses").header;
    let SignatureCheck::Invalid { reason } = verify_with_trust(&foreign, &h, &itl, &CONFIG_SIGNERS)
    else {
        panic!("foreign signer accepted");
    };
    assert!(reason.starts_with("key not found"), "{reason}");
    let by_tvs = signed_file(
        "SEP001122334455.cnf.xml.sgn",
        payload,
        Signer::from_cert(&certs.tvs),
        Digest::Sha1,
    );
    let h = parse_signed_file(&by_tvs).expect("parses").header;
    let SignatureCheck::Invalid { reason } = verify_with_trust(&by_tvs, &h, &itl, &CONFIG_SIGNERS)
    else {
        panic!("TVS accepted as config signer");
    };
    assert!(reason.contains("only as TVS"), "{reason}");
}

#[test]
fn regenerated_callmanager_breaks_trust_in_the_old_itl() {
    let certs = ClusterCerts::new(HOST);
    let old_itl_bytes = cucm_itl(&certs, Digest::Sha1);
    let old_itl = parse_trust_list(&old_itl_bytes).expect("parses");
    // Same subject and serial, new key: the serial matches but the signature does not.
    let regenerated = CertSpec::callmanager(HOST)
        .with_key(KeyName::CallManagerRegenerated)
        .self_signed();
    let sgn = signed_file(
        "SEP001122334455.cnf.xml.sgn",
        b"<device/>",
        Signer::from_cert(&regenerated),
        Digest::Sha1,
    );
    let h = parse_signed_file(&sgn).expect("parses").header;
    let SignatureCheck::Invalid { reason } = verify_with_trust(&sgn, &h, &old_itl, &CONFIG_SIGNERS)
    else {
        panic!("regenerated key accepted");
    };
    assert!(reason.contains("digest mismatch"), "{reason}");
}

#[test]
fn rollback_itl_parses_and_is_reported() {
    let certs = ClusterCerts::new(HOST);
    let bytes = rollback_itl(&certs);
    let tl = parse_trust_list(&bytes).expect("parses");
    assert!(tl.is_rollback());
    assert_eq!(tl.records.len(), 4);
    assert!(
        tl.records
            .iter()
            .all(|r| r.certificate.is_none() && r.serial.is_none())
    );
    // No key inside: its own signature cannot be checked from within...
    assert!(matches!(
        verify_trust_list(&tl),
        SignatureCheck::Invalid { .. }
    ));
    // ...but it verifies against the ITL the phone already trusts.
    let old_bytes = cucm_itl(&certs, Digest::Sha1);
    let old = parse_trust_list(&old_bytes).expect("parses");
    assert_eq!(
        verify_with_trust(&bytes, &tl.header, &old, &TRUST_LIST_SIGNERS),
        SignatureCheck::Valid { signer_record: 0 }
    );
    let parsed = parse_any(&bytes).expect("parses");
    let json = show_json(&parsed);
    assert!(json.rollback);
    assert_eq!(json.records[2].function.as_deref(), Some("TVS"));
    assert_eq!(json.records[2].serial, None);
}

#[test]
fn json_contract_on_a_generated_itl() {
    let certs = ClusterCerts::new(HOST);
    let bytes = cucm_itl(&certs, Digest::Sha512);
    let parsed = parse_any(&bytes).expect("parses");
    assert!(matches!(parsed, ParsedFile::TrustList(_)));
    let value = serde_json::to_value(show_json(&parsed)).expect("serialises");
    assert_eq!(value["format"], "itl");
    assert_eq!(value["version"], "1.2");
    assert_eq!(value["digest_algorithm"], "sha512");
    assert_eq!(value["signature"]["valid"], true);
    assert_eq!(value["signature"]["signer_record"], 0);
    assert_eq!(
        value["signer"]["serial"],
        serial_hex(&certs.itl_recovery.serial)
    );
    assert_eq!(value["timestamp"], "2025-01-15T10:00:00Z");
    let records = value["records"].as_array().expect("array");
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["signed_this_file"], true);
    assert_eq!(records[1]["function"], "CCM+TFTP");
    assert_eq!(
        records[1]["certificate_sha1"],
        hex::encode(certs.callmanager.sha1())
    );
    assert_eq!(records[2]["function"], "TVS");
    assert_eq!(records[2]["function_code"], 21);
    assert_eq!(records[2]["serial"], "2e3e1a7bdaa64d84");
    assert_eq!(records[2]["certificate_sha1"], serde_json::Value::Null);
    assert_eq!(records[2]["cert_hash"], hex::encode(certs.tvs.sha1()));
    assert_eq!(records[3]["function"], "CAPF");
    assert_eq!(records[3]["ip_address"], "10.0.0.10");
}

/// The committed fixtures and how to rebuild them.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let certs = ClusterCerts::new(HOST);
    vec![
        ("ITLFile-sha256-2048.tlv", cucm_itl(&certs, Digest::Sha256)),
        (
            "ITLFile-sha1-1024.tlv",
            itl_with(KeyName::Rsa1024, Digest::Sha1),
        ),
        (
            "ITLFile-sha512-4096.tlv",
            itl_with(KeyName::Rsa4096, Digest::Sha512),
        ),
        ("ITLFile-rollback.tlv", rollback_itl(&certs)),
        (
            "SEP001122334455.cnf.xml.sgn",
            signed_file(
                "SEP001122334455.cnf.xml.sgn",
                b"<?xml version=\"1.0\"?>\n<device><fullConfig>true</fullConfig></device>\n",
                Signer::from_cert(&certs.callmanager),
                Digest::Sha256,
            ),
        ),
        (
            "SEP001122334455.cnf.xml.enc.sgn",
            EncryptedConfigBuilder::new(
                "SEP001122334455.cnf.xml.enc.sgn",
                Signer::from_cert(&certs.callmanager),
                KeyName::Phone,
            )
            .build(b"<?xml version=\"1.0\"?>\n<device><fullConfig>true</fullConfig></device>\n"),
        ),
    ]
}

#[test]
fn committed_fixtures_equal_a_fresh_build() {
    let dir = format!("{}/tests/fixtures/trustlists", env!("CARGO_MANIFEST_DIR"));
    let regenerate = std::env::var_os("ITLSCOPE_REGENERATE").is_some();
    for (name, bytes) in fixtures() {
        let path = format!("{dir}/{name}");
        if regenerate {
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(&path, &bytes).expect("write");
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(committed == bytes, "{name} differs from a fresh build");
    }
}
