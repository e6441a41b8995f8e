//! The phone's trust store and its timeline (`itlscope::trust::store`, issue 18): what the
//! phone holds before the capture is the store at its start; a CTL or ITL it takes during the
//! capture changes the store, and every later file is judged against the store at its frame.
//! Real trust lists and signed configs from `itlscope-gen`, RSA-verified.

mod scenarios_support;

use assert_cmd::Command;
use itlscope::cisco::model::TrustList;
use itlscope::cisco::{ParsedFile, parse_any};
use itlscope::trust::store::{FileKind, Part, ServedFile, State, Store, offered_list, walk};
use itlscope::trust::{Acceptance, Kind, NoTvsEvidence, Offered, RsaVerifier};
use itlscope_gen::pki::{Cert, CertSpec, Digest, KeyName};
use itlscope_gen::trustlist::{RecordSpec, Signer, TrustListBuilder, function, signed_file};
use scenarios_support::{list, repo, str_of};
use serde_json::Value;

const HOST: &str = "cucm-pub.example.com";
const MAC: &str = "0011223344AA";

fn callmanager() -> Cert {
    CertSpec::callmanager(HOST).self_signed()
}

fn callmanager_regenerated() -> Cert {
    CertSpec::callmanager(HOST)
        .with_key(KeyName::CallManagerRegenerated)
        .with_serial(&[0x7a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])
        .self_signed()
}

/// A 12.0+ ITL: ITLRecovery (SAST) signs it; `cm` is its CCM+TFTP.
fn itl(recovery: &Cert, cm: &Cert) -> Vec<u8> {
    TrustListBuilder::new(&format!("ITLSEP{MAC}.tlv"), Signer::from_cert(recovery))
        .record(RecordSpec::from_cert(function::SAST, recovery))
        .record(RecordSpec::from_cert(function::CCM_TFTP, cm))
        .record(
            RecordSpec::from_cert(function::TVS, &CertSpec::tvs(HOST).self_signed()).hash_only(),
        )
        .digest(Digest::Sha256)
        .build()
}

/// A CTL signed by `token` (SAST) listing `cm` as CCM+TFTP (mixed mode).
fn ctl(token: &Cert, cm: &Cert) -> Vec<u8> {
    TrustListBuilder::new("CTLFile.tlv", Signer::from_cert(token))
        .record(RecordSpec::from_cert(function::SAST, token))
        .record(RecordSpec::from_cert(function::CCM_TFTP, cm))
        .digest(Digest::Sha256)
        .build()
}

fn config(cm: &Cert) -> Vec<u8> {
    signed_file(
        &format!("SEP{MAC}.cnf.xml.sgn"),
        b"<device><deviceProtocol>SIP</deviceProtocol></device>",
        Signer::from_cert(cm),
        Digest::Sha256,
    )
}

fn trust_list(bytes: &[u8]) -> TrustList<'_> {
    match parse_any(bytes) {
        Ok(ParsedFile::TrustList(l)) => l,
        other => panic!("not a trust list: {:?}", other.err()),
    }
}

fn exact<'a>(list: &'a TrustList<'a>, label: &str) -> Part<'a> {
    Part::Exact {
        list,
        label: label.into(),
    }
}

/// Statement 7 (and the 12.0+ reading of statements 19, 20): the phone holds the old ITL; the
/// capture shows a new ITL signed by the ITLRecovery key it holds (taken directly, frame 3),
/// then a config signed by the new CallManager that only the *new* ITL lists (frame 20). The
/// config is judged against the store at its frame, the new ITL, and accepted; the same config
/// served before the ITL (frame 1) is judged against the old store, where only TVS could vouch.
#[test]
fn statement_7_a_config_after_a_new_itl_is_judged_against_the_new_store() {
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let old_bytes = itl(&recovery, &callmanager());
    let new_bytes = itl(&recovery, &callmanager_regenerated());
    let config_bytes = config(&callmanager_regenerated());
    let old = trust_list(&old_bytes);
    let new = trust_list(&new_bytes);
    let sgn = match parse_any(&config_bytes) {
        Ok(ParsedFile::Signed(s)) => s,
        _ => panic!("config parses"),
    };
    let name = format!("SEP{MAC}.cnf.xml.sgn");
    let config_at = |frame| ServedFile {
        at: (0, frame),
        kind: FileKind::Config,
        offered: Offered {
            bytes: &config_bytes,
            header: &sgn.header,
            kind: Kind::Config,
            what: &name,
        },
        list: None,
        label: "",
    };
    let itl_at = ServedFile {
        at: (0, 3),
        kind: FileKind::Itl,
        offered: offered_list(&new, "the served ITL"),
        list: Some(&new),
        label: "the served ITL",
    };
    let before = Store {
        ctl: Part::Unknown,
        itl: exact(&old, "the phone's ITL"),
    };
    assert_eq!(before.state(), Some(State::ItlOnly));

    let t = walk(
        before.clone(),
        &[config_at(20), itl_at],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let itl_j = t.last(FileKind::Itl).expect("ITL judged");
    assert_eq!(itl_j.decision.acceptance, Acceptance::Accepted, "{itl_j:?}");
    assert_eq!(itl_j.via(), Some("signer-in-itl"));
    // The store changed at frame 3: before it the old ITL, after it the new one.
    assert_eq!(t.changes.len(), 1);
    assert!(matches!(&t.at((0, 3)).itl, Part::Exact { label, .. } if label == "the phone's ITL"));
    assert!(matches!(&t.at((0, 20)).itl, Part::Exact { label, .. } if label == "the served ITL"));
    let cfg = t.last(FileKind::Config).expect("config judged");
    assert_eq!(cfg.decision.acceptance, Acceptance::Accepted, "{cfg:?}");
    assert!(
        cfg.decision.explanation.contains("of the served ITL"),
        "{cfg:?}"
    );

    // The same config before the new ITL: the old store does not list its signer.
    let t = walk(
        before,
        &[config_at(1), itl_at],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let cfg = t.last(FileKind::Config).expect("config judged");
    assert_ne!(cfg.decision.acceptance, Acceptance::Accepted, "{cfg:?}");
    assert!(cfg.decision.explanation.contains("TVS"), "{cfg:?}");
}

/// Statement 7b: a phone with a CTL and no ITL takes an ITL only if the CTL's CCM+TFTP
/// verifies it; then the config is judged against that ITL. Statement 7a: with neither it
/// takes the ITL blindly.
#[test]
fn statement_7b_a_ctl_only_phone_takes_the_itl_through_its_ctl() {
    let token = CertSpec::ca("eToken 1").self_signed();
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let cm = callmanager();
    let ctl_bytes = ctl(&token, &cm);
    let ctl_list = trust_list(&ctl_bytes);
    // The ITL signed by the CallManager key (pre-12.0), which the CTL lists as CCM+TFTP.
    let itl_bytes = TrustListBuilder::new(&format!("ITLSEP{MAC}.tlv"), Signer::from_cert(&cm))
        .record(RecordSpec::from_cert(function::SAST, &cm))
        .record(RecordSpec::from_cert(function::CCM_TFTP, &cm))
        .digest(Digest::Sha256)
        .build();
    let served = trust_list(&itl_bytes);
    let file = ServedFile {
        at: (0, 3),
        kind: FileKind::Itl,
        offered: offered_list(&served, "the served ITL"),
        list: Some(&served),
        label: "the served ITL",
    };
    let ctl_only = Store {
        ctl: exact(&ctl_list, "the phone's CTL"),
        itl: Part::Absent,
    };
    assert_eq!(ctl_only.state(), Some(State::CtlOnly));
    let t = walk(ctl_only, &[file], &RsaVerifier, &NoTvsEvidence);
    let j = t.last(FileKind::Itl).expect("judged");
    assert_eq!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
    assert_eq!(j.via(), Some("signer-in-ctl"));

    // An ITL the CTL does not verify (signed by ITLRecovery) is refused (7b).
    let other_bytes = itl(&recovery, &cm);
    let other = trust_list(&other_bytes);
    let t = walk(
        Store {
            ctl: exact(&ctl_list, "the phone's CTL"),
            itl: Part::Absent,
        },
        &[ServedFile {
            offered: offered_list(&other, "the served ITL"),
            list: Some(&other),
            ..file
        }],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let j = t.last(FileKind::Itl).expect("judged");
    assert_eq!(j.decision.acceptance, Acceptance::Rejected, "{j:?}");
    assert!(j.decision.explanation.contains("a CTL and no ITL"), "{j:?}");

    // 7a: nothing held, the ITL is taken blindly.
    let nothing = Store {
        ctl: Part::Absent,
        itl: Part::Absent,
    };
    assert_eq!(nothing.state(), Some(State::Nothing));
    let t = walk(nothing, &[file], &RsaVerifier, &NoTvsEvidence);
    assert_eq!(t.last(FileKind::Itl).and_then(|j| j.via()), Some("no-itl"));
}

/// A part known only by hash leaves the answer undetermined (unknown is not false), and an
/// unknown ITL leaves the state unknown.
#[test]
fn a_store_known_by_hash_decides_nothing() {
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let bytes = itl(&recovery, &callmanager());
    let served = trust_list(&bytes);
    let store = Store {
        ctl: Part::Unknown,
        itl: Part::ByHash("1d6359c051c00677acf425d921033bc3".into()),
    };
    assert_eq!(store.state(), Some(State::ItlOnly));
    let t = walk(
        store,
        &[ServedFile {
            at: (0, 3),
            kind: FileKind::Itl,
            offered: offered_list(&served, "the served ITL"),
            list: Some(&served),
            label: "the served ITL",
        }],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let j = t.last(FileKind::Itl).expect("judged");
    assert_eq!(j.decision.acceptance, Acceptance::Undetermined);
    assert!(t.changes.is_empty());
    let unknown = Store {
        ctl: Part::Unknown,
        itl: Part::Unknown,
    };
    assert_eq!(unknown.state(), None);
}

/// Statements 7c, 30 end to end: after the CTL client was re-run, the phone takes the new CTL
/// (signed by the same eToken) and then the new ITL through the new CTL's CCM+TFTP: the trust
/// path says so (it said "undetermined, only through TVS" before the store had a CTL), and the
/// config is judged against the new ITL it took at that frame.
#[test]
fn statement_30_the_mixed_mode_capture_takes_the_itl_through_the_new_ctl() {
    let out = Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args([
            "analyze",
            "--json",
            "captures/mixed-mode-ctl-rerun.pcap",
            "--phone-itl",
            "captures/mixed-mode-ctl-rerun.phone-itl.tlv",
            "--phone-ctl",
            "captures/mixed-mode-ctl-rerun.phone-ctl.tlv",
            "--phone-status",
            "ok",
            "--key-backup",
            "no",
        ])
        .output()
        .expect("itlscope runs");
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let path = &list(&report, "phones")[0]["trust_path"];
    assert_eq!(str_of(&path["itl"], "acceptance"), "accepted", "{path}");
    assert_eq!(str_of(&path["itl"], "via"), "signer-in-ctl", "{path}");
    assert!(
        str_of(&path["itl"], "explanation").contains("of the served CTL"),
        "{path}"
    );
    assert_eq!(str_of(&path["config"], "acceptance"), "accepted", "{path}");
    assert!(
        str_of(&path["config"], "explanation").contains("of the served ITL"),
        "{path}"
    );
}
