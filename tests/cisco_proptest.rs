//! Arbitrary bytes and mutated field files never make the parsers, the verifier or the
//! renderers panic; errors carry an offset inside the file.

use itlscope::cisco::signed::parse_signed_file;
use itlscope::cisco::trustlist::parse_trust_list;
use itlscope::cisco::{detect_format, parse_any};
use itlscope::report::trustlist::{show_json, show_text, verify_verdict};
use proptest::prelude::*;

const SEEDS: [&str; 5] = [
    "real/nikhilp93-CMPE202/SCFFile.tlv",
    "real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv",
    "real/dkgroot-provision_sccp/term45.default.loads",
    "trustlists/ITLFile-sha256-2048.tlv",
    "trustlists/SEP001122334455.cnf.xml.sgn",
];

fn seed(index: usize) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/{}",
        env!("CARGO_MANIFEST_DIR"),
        SEEDS[index]
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Everything a user can make the library do with a file.
fn exercise(bytes: &[u8]) {
    let _ = detect_format(bytes);
    let _ = parse_signed_file(bytes);
    if let Err(e) = parse_trust_list(bytes) {
        assert!(e.offset() <= bytes.len(), "{e}");
    }
    match parse_any(bytes) {
        Ok(parsed) => {
            let _ = show_text(&parsed);
            let _ = serde_json::to_string(&show_json(&parsed)).expect("serialises");
            if let Ok(trust) = parse_trust_list(bytes) {
                let _ = verify_verdict(&parsed, &trust);
            }
        }
        Err(e) => {
            assert!(e.offset() <= bytes.len(), "{e}");
            assert!(e.to_string().contains(" at byte offset "), "{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn header_like_prefix_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        // A valid VERSION/HEADER_LENGTH start reaches the deeper parsers.
        let mut bytes = vec![1, 0, 2, 1, 2, 2, 0, 2];
        let hl = u16::try_from(tail.len() / 2 + 10).unwrap_or(10);
        bytes.extend_from_slice(&hl.to_be_bytes());
        bytes.extend_from_slice(&tail);
        exercise(&bytes);
    }

    #[test]
    fn mutated_field_files_never_panic(
        index in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = seed(index);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        exercise(&bytes);
    }
}
