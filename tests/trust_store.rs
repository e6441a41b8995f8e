//! The phone's trust store and its timeline (`itlscope::trust::store`, issue 18): what the
//! phone holds before the capture is the store at its start; a CTL or ITL it takes during the
//! capture changes the store, and every later file is judged against the store at its frame.
//! Real trust lists and signed configs from `itlscope-gen`, RSA-verified.

mod scenarios_support;

use assert_cmd::Command;
use itlscope::capture::Timestamp;
use itlscope::cisco::model::TrustList;
use itlscope::cisco::{ParsedFile, parse_any};
use itlscope::diagnosis::{
    KeyBackup, OperatorFacts, PhoneItlFile, PhoneStatus, TrustPath, diagnose,
};
use itlscope::evidence::{Endpoint, Evidence, FileTransfer, FileTransport, PhoneTrustAlarm, Seen};
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

// --- Every download judged (a capture built here), and a CTL known from the wire. ---

/// The CallManager key of a third generation (after two regenerations).
fn callmanager_third() -> Cert {
    CertSpec::callmanager(HOST)
        .with_key(KeyName::OtherCluster)
        .with_serial(&[0x5c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08])
        .self_signed()
}

/// An ITL signed by `sast` (its SAST record) listing `cm` as CCM+TFTP and the TVS.
fn itl_signed_by(sast: &Cert, cm: &Cert) -> Vec<u8> {
    TrustListBuilder::new(&format!("ITLSEP{MAC}.tlv"), Signer::from_cert(sast))
        .record(RecordSpec::from_cert(function::SAST, sast))
        .record(RecordSpec::from_cert(function::CCM_TFTP, cm))
        .record(
            RecordSpec::from_cert(function::TVS, &CertSpec::tvs(HOST).self_signed()).hash_only(),
        )
        .digest(Digest::Sha256)
        .build()
}

const PHONE: &str = "10.10.0.21";
/// 2026-01-01, inside the certificates' validity.
const T0: i64 = 1_767_225_600;

fn seen(frame: u64) -> Seen {
    Seen {
        capture: 0,
        frame,
        ts: Timestamp::from_parts(T0 + frame as i64, 0),
    }
}

fn endpoint(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        ip: ip.parse().expect("test address"),
        port,
    }
}

/// A whole TFTP download of `name` by the phone, beginning at `frame`.
fn download(name: &str, data: &[u8], frame: u64) -> FileTransfer {
    FileTransfer {
        name: name.into(),
        transport: FileTransport::Tftp,
        upload: false,
        client: endpoint(PHONE, 49_152 + frame as u16),
        server: endpoint("10.10.0.1", 69),
        data: data.into(),
        size: Some(data.len() as u64),
        complete: true,
        first: seen(frame),
        last: seen(frame + 2),
        ..Default::default()
    }
}

/// The trust path `analyze` reports for the one phone of `files`, holding `phone_itl`.
fn trust_path_of(files: Vec<FileTransfer>, phone_itl: &[u8]) -> TrustPath {
    trust_path_with_alarms(files, vec![], phone_itl)
}

/// [`trust_path_of`], with the phone's DeviceTLInfo alarms in the capture.
fn trust_path_with_alarms(
    files: Vec<FileTransfer>,
    alarms: Vec<PhoneTrustAlarm>,
    phone_itl: &[u8],
) -> TrustPath {
    let evidence = Evidence {
        files,
        alarms,
        ..Evidence::default()
    };
    let facts = OperatorFacts {
        phone_itl: Some(PhoneItlFile {
            name: "phone.tlv".into(),
            bytes: phone_itl.to_vec(),
        }),
        phone_status: PhoneStatus::Unknown,
        key_backup: KeyBackup::Unknown,
        ..OperatorFacts::default()
    };
    let d = diagnose(&evidence, &facts);
    let phone = d.phones.first().expect("one phone");
    phone.trust_path.clone().expect("a trust path")
}

/// Statements 7 and 21 (the store the phone holds decides), issue 18's "every download": the
/// phone holds ITL O (ITLRecovery R signs it, CallManager 1). The capture shows ITL A (R signs
/// it, lists CallManager 2) at frame 3, then, after a TFTP restart, ITL B signed by
/// CallManager 2 (lists CallManager 3) at frame 30, then a config signed by CallManager 3.
/// B is taken only because A was taken first (O does not list CallManager 2), and the config
/// only because B was; judged against O alone, both would wait on TVS.
#[test]
fn statement_7_every_itl_download_is_judged_against_the_store_at_its_frame() {
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let (cm1, cm2, cm3) = (
        callmanager(),
        callmanager_regenerated(),
        callmanager_third(),
    );
    let o = itl_signed_by(&recovery, &cm1);
    let a = itl_signed_by(&recovery, &cm2);
    let b = itl_signed_by(&cm2, &cm3);
    let itl_name = format!("ITLSEP{MAC}.tlv");
    let cfg_name = format!("SEP{MAC}.cnf.xml.sgn");
    let path = trust_path_of(
        vec![
            download(&itl_name, &a, 3),
            download(&itl_name, &b, 30),
            download(&cfg_name, &config(&cm3), 50),
        ],
        &o,
    );
    assert_eq!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert_eq!(path.itl.via, Some("signer-in-itl"), "{path:?}");
    assert!(
        path.itl
            .explanation
            .contains("of the ITL served at frame 3"),
        "{path:?}"
    );
    assert_eq!(path.config.acceptance, Acceptance::Accepted, "{path:?}");
    assert!(
        path.config.explanation.contains("of the served ITL"),
        "{path:?}"
    );

    // The other way round: B first is judged against O (only TVS could vouch, and no TVS
    // session is in the capture), so it is not taken; A is; the config signed by CallManager 3
    // then meets A, which does not list it: the store changed only at the ITL it took.
    let path = trust_path_of(
        vec![
            download(&itl_name, &b, 3),
            download(&itl_name, &a, 30),
            download(&cfg_name, &config(&cm3), 50),
        ],
        &o,
    );
    assert_eq!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert!(
        path.itl.explanation.contains("of the phone's ITL"),
        "{path:?}"
    );
    assert_eq!(path.config.acceptance, Acceptance::Undetermined, "{path:?}");
    assert!(path.config.explanation.contains("TVS"), "{path:?}");
}

/// Statement 7 with a retry: the phone downloads the same new ITL twice. The second copy meets
/// a store that already holds it; the report still says how the phone took it (the first
/// copy, signed by a record of the phone's ITL), not "already holds".
#[test]
fn statement_7_a_retried_itl_download_reports_how_the_first_copy_was_taken() {
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let o = itl_signed_by(&recovery, &callmanager());
    let a = itl_signed_by(&recovery, &callmanager_regenerated());
    let itl_name = format!("ITLSEP{MAC}.tlv");
    let path = trust_path_of(
        vec![download(&itl_name, &a, 3), download(&itl_name, &a, 30)],
        &o,
    );
    assert_eq!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert_eq!(path.itl.via, Some("signer-in-itl"), "{path:?}");
    assert!(
        path.itl.explanation.contains("of the phone's ITL"),
        "{path:?}"
    );
}

/// The served CTL (eToken 1, new CallManager as CCM+TFTP), the new ITL signed by that
/// CallManager, and the phone's old ITL (ITLRecovery, old CallManager), as test material.
struct MixedMode {
    old: Vec<u8>,
    served_ctl: Vec<u8>,
    new: Vec<u8>,
}

fn mixed_mode() -> MixedMode {
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let token = CertSpec::ca("eToken 1").self_signed();
    let cm2 = callmanager_regenerated();
    MixedMode {
        old: itl(&recovery, &callmanager()),
        served_ctl: ctl(&token, &cm2),
        new: itl_signed_by(&cm2, &cm2),
    }
}

fn ctl_at<'a>(list: &'a TrustList<'a>) -> ServedFile<'a> {
    ServedFile {
        at: (0, 1),
        kind: FileKind::Ctl,
        offered: offered_list(list, "the served CTL"),
        list: Some(list),
        label: "the served CTL",
    }
}

fn itl_at<'a>(list: &'a TrustList<'a>) -> ServedFile<'a> {
    ServedFile {
        at: (0, 3),
        kind: FileKind::Itl,
        offered: offered_list(list, "the served ITL"),
        list: Some(list),
        label: "the served ITL",
    }
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bytes))
}

/// Statement 6: the phone asks for the CTL, then the ITL, whatever it did with the CTL. With
/// its CTL not given, a served CTL that its ITL does not settle (an eToken the ITL does not
/// list, no TVS) is not shown taken by the ITL download after it: the CTL's answer and the
/// store's CTL part are unknown from that frame on, the answer says what would settle it, and
/// the ITL (signed by the CallManager key only that CTL lists) is not claimed accepted through
/// it. This is the case of a phone that refused the CTL and still asked for its ITL.
#[test]
fn statement_6_an_itl_download_after_a_ctl_does_not_show_the_ctl_was_taken() {
    let m = mixed_mode();
    let (old, served_ctl, new) = (
        trust_list(&m.old),
        trust_list(&m.served_ctl),
        trust_list(&m.new),
    );
    let before = Store {
        ctl: Part::Unknown,
        itl: exact(&old, "the phone's ITL"),
    };
    let t = walk(
        before.clone(),
        &[itl_at(&new), ctl_at(&served_ctl)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Undetermined, "{c:?}");
    assert!(!c.by_report, "{c:?}");
    assert!(c.decision.explanation.contains("statement 6"), "{c:?}");
    assert!(c.decision.explanation.contains("--phone-ctl"), "{c:?}");
    assert!(matches!(t.at((0, 2)).ctl, Part::Unknown));
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_ne!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
    assert_ne!(j.via(), Some("signer-in-ctl"), "{j:?}");
    assert!(j.decision.explanation.contains("--phone-ctl"), "{j:?}");

    // The CTL alone: likewise unknown.
    let t = walk(
        before.clone(),
        &[ctl_at(&served_ctl)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Undetermined, "{c:?}");
    assert!(matches!(t.at((0, 9)).ctl, Part::Unknown));

    // Statement 7c: the phone's CTL known exactly, signed by another eToken: it does not
    // verify the served CTL, and going on to the ITL does not overrule that.
    let other_token = CertSpec::ca("eToken 2")
        .with_key(KeyName::OtherCluster)
        .self_signed();
    let held_bytes = ctl(&other_token, &callmanager());
    let held = trust_list(&held_bytes);
    let t = walk(
        Store {
            ctl: exact(&held, "the phone's CTL"),
            ..before
        },
        &[ctl_at(&served_ctl), itl_at(&new)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_ne!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_ne!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
}

/// Statements 7c and 30: with the phone's CTL given, a new CTL signed by one of its SAST
/// records (the same eToken) is taken, and the new ITL through the new CTL's CCM+TFTP.
#[test]
fn statement_30_a_ctl_signed_by_a_sast_of_the_phones_ctl_is_taken_and_vouches_for_the_itl() {
    let m = mixed_mode();
    let (old, served_ctl, new) = (
        trust_list(&m.old),
        trust_list(&m.served_ctl),
        trust_list(&m.new),
    );
    let token = CertSpec::ca("eToken 1").self_signed();
    let held_bytes = ctl(&token, &callmanager());
    let held = trust_list(&held_bytes);
    let t = walk(
        Store {
            ctl: exact(&held, "the phone's CTL"),
            itl: exact(&old, "the phone's ITL"),
        },
        &[ctl_at(&served_ctl), itl_at(&new)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    assert_eq!(c.via(), Some("signer-in-ctl"));
    assert!(matches!(&t.at((0, 2)).ctl, Part::Exact { label, .. } if label == "the served CTL"));
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_eq!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
    assert_eq!(j.via(), Some("signer-in-ctl"));
}

/// Statement 7 (the phone's own word): the phone's CTL not given, but its DeviceTLInfo alarm
/// after the CTL reports that CTL's hash as its `CTL_Signature`: it took it, the store's CTL
/// part is that CTL, and the ITL is taken through it. A report of another hash after the CTL
/// says it did not take it; its hash reported before the CTL says the phone already held it.
#[test]
fn statement_7_the_phone_reporting_the_served_ctls_hash_took_it() {
    use itlscope::trust::store::{CtlReport, walk_reported};
    let m = mixed_mode();
    let (old, served_ctl, new) = (
        trust_list(&m.old),
        trust_list(&m.served_ctl),
        trust_list(&m.new),
    );
    let before = Store {
        ctl: Part::Unknown,
        itl: exact(&old, "the phone's ITL"),
    };
    let report = |frame, hash: String| CtlReport {
        at: Some((0, frame)),
        hash: Some(hash),
        source: format!("DeviceTLInfo alarm, frame {frame}"),
    };
    let files = [ctl_at(&served_ctl), itl_at(&new)];
    let t = walk_reported(
        before.clone(),
        &files,
        &[report(2, sha1_hex(&m.served_ctl).to_uppercase())],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    assert!(c.by_report);
    assert_eq!(c.via(), Some("phone-report"));
    assert!(c.decision.explanation.contains("frame 2"), "{c:?}");
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_eq!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
    assert_eq!(j.via(), Some("signer-in-ctl"));

    // Another hash after the CTL: not taken; the phone's CTL is known by that hash.
    let t = walk_reported(
        before.clone(),
        &files,
        &[report(2, sha1_hex(b"another CTL"))],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Rejected, "{c:?}");
    assert!(matches!(t.at((0, 2)).ctl, Part::ByHash(_)));
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_ne!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");

    // The served CTL's hash reported before it was served (no other CTL in between): the
    // phone already held it.
    let t = walk_reported(
        before,
        &files,
        &[report(0, sha1_hex(&m.served_ctl))],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    assert_eq!(c.via(), Some("phone-report"));
}

/// Statement 7a: a phone known to hold nothing (no CTL, no ITL) takes the first CTL blindly,
/// then the ITL through that CTL (7b). With its CTL unknown, neither blind acceptance is
/// claimed: a CTL it may hold decides.
#[test]
fn statement_7a_only_a_phone_known_to_hold_no_ctl_takes_the_first_ctl_blindly() {
    let m = mixed_mode();
    let (served_ctl, new) = (trust_list(&m.served_ctl), trust_list(&m.new));
    let files = [ctl_at(&served_ctl), itl_at(&new)];
    let t = walk(
        Store {
            ctl: Part::Absent,
            itl: Part::Absent,
        },
        &files,
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    assert_eq!(c.via(), Some("no-itl"));
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_eq!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
    assert_eq!(j.via(), Some("signer-in-ctl"));

    let t = walk(
        Store {
            ctl: Part::Unknown,
            itl: Part::Absent,
        },
        &files,
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Undetermined, "{c:?}");
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_eq!(j.decision.acceptance, Acceptance::Undetermined, "{j:?}");
}

fn analyze_json(args: &[&str]) -> Value {
    let out = Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .arg("analyze")
        .arg("--json")
        .args(args)
        .output()
        .expect("itlscope runs");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Statement 6 end to end: without `--phone-ctl`, the mixed-mode captures claim no answer
/// that rests on the phone's CTL: after the CTL client was re-run the served ITL is not
/// claimed taken through the served CTL (the phone going on to the ITL proves nothing), and
/// before it the ITL is not claimed refused (the CTL the phone holds may verify it); each says
/// what would settle it.
#[test]
fn statement_6_without_the_phone_ctl_the_mixed_mode_captures_claim_nothing_through_a_ctl() {
    for capture in ["mixed-mode-ctl-rerun", "mixed-mode-ctl-not-rerun"] {
        let report = analyze_json(&[
            &format!("captures/{capture}.pcap"),
            "--phone-itl",
            &format!("captures/{capture}.phone-itl.tlv"),
            "--phone-status",
            "failed",
            "--key-backup",
            "no",
        ]);
        let path = &list(&report, "phones")[0]["trust_path"];
        assert_eq!(
            str_of(&path["itl"], "acceptance"),
            "undetermined",
            "{capture}: {path}"
        );
        assert!(
            str_of(&path["itl"], "explanation").contains("--phone-ctl"),
            "{capture}: {path}"
        );
    }
}

/// Statements 7a and 7b for a phone that reports no ITL installed (`path_without_itl`): alone,
/// the served ITL is taken on leap of faith and the config is judged against it. A phone
/// known to hold no trust list at all takes a CTL first blindly (7a), and then the ITL only if
/// that CTL's CCM+TFTP verifies it (7b); with its CTL unknown, neither the CTL nor the ITL
/// after it is claimed (statement 6: it asks for the ITL whatever it did with the CTL).
#[test]
fn statement_7b_a_phone_without_an_itl_that_takes_a_ctl_first_needs_it_for_the_itl() {
    use itlscope::trust::evidence::{
        ConfigDownload, ItlDownload, Wire, path_without_itl, path_without_itl_holding,
    };
    let recovery = CertSpec::itl_recovery(HOST).self_signed();
    let token = CertSpec::ca("eToken 1").self_signed();
    let cm = callmanager();
    let itl_bytes = itl(&recovery, &cm);
    let served = trust_list(&itl_bytes);
    let ctl_bytes = ctl(&token, &callmanager_regenerated());
    let served_ctl = trust_list(&ctl_bytes);
    let config_bytes = config(&cm);
    let sgn = match parse_any(&config_bytes) {
        Ok(ParsedFile::Signed(s)) => s,
        _ => panic!("config parses"),
    };
    let name = format!("SEP{MAC}.cnf.xml.sgn");
    let itl_file = ServedFile {
        at: (0, 3),
        kind: FileKind::Itl,
        offered: offered_list(&served, "the served ITL"),
        list: Some(&served),
        label: "the served ITL",
    };
    let config_file = ServedFile {
        at: (0, 20),
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
    let wire = |served: Vec<ServedFile<'_>>,
                ctl_known_absent: bool|
     -> (String, String, Option<&'static str>) {
        let w = Wire {
            served,
            itl: Some(ItlDownload {
                at: (0, 3),
                bytes: &itl_bytes,
                parses: true,
            }),
            config: Some(ConfigDownload {
                at: (0, 20),
                name: &name,
                bytes: &config_bytes,
                parsed: Ok(&sgn),
            }),
            ctl_reports: vec![],
            verifier: &RsaVerifier,
            tvs: &NoTvsEvidence,
        };
        let p = if ctl_known_absent {
            path_without_itl_holding(&w, Part::Absent)
        } else {
            path_without_itl(&w)
        };
        (
            format!("{:?}", p.itl.acceptance),
            format!("{:?} {}", p.config.acceptance, p.config.explanation),
            p.itl.via,
        )
    };
    for known in [true, false] {
        let (itl_answer, config_answer, via) = wire(vec![itl_file, config_file], known);
        assert_eq!(itl_answer, "Accepted");
        assert_eq!(via, Some("no-itl"));
        assert!(
            config_answer.starts_with("Accepted") && config_answer.contains("of the served ITL"),
            "{config_answer}"
        );
    }
    let ctl_file = ServedFile {
        at: (0, 1),
        kind: FileKind::Ctl,
        offered: offered_list(&served_ctl, "the served CTL"),
        list: Some(&served_ctl),
        label: "the served CTL",
    };
    let (itl_answer, config_answer, _) = wire(vec![ctl_file, itl_file, config_file], true);
    assert_eq!(itl_answer, "Rejected");
    assert!(!config_answer.starts_with("Accepted"), "{config_answer}");
    let (itl_answer, config_answer, _) = wire(vec![ctl_file, itl_file, config_file], false);
    assert_eq!(itl_answer, "Undetermined");
    assert!(!config_answer.starts_with("Accepted"), "{config_answer}");
}

/// A DeviceTLInfo alarm of the phone at `frame` reporting `ctl_signature` (its ITL field
/// absent: what the phone holds as ITL comes from `--phone-itl`).
fn ctl_alarm(ctl_signature: &str, frame: u64) -> PhoneTrustAlarm {
    PhoneTrustAlarm {
        phone: endpoint(PHONE, 5060),
        device_name: Some(format!("SEP{MAC}")),
        itl_signature: None,
        itl_signature_raw: None,
        ctl_signature: Some(ctl_signature.into()),
        ctl_signature_raw: Some(ctl_signature.into()),
        itl_tftp_server: None,
        status_code: None,
        seen: seen(frame),
    }
}

/// Statements 6, 7 and 30 through `analyze`'s diagnosis: the phone (its ITL given, its CTL
/// not) downloads a CTL and then an ITL that only that CTL's CCM+TFTP verifies. Alone, the
/// downloads do not show it took the CTL (statement 6), so the ITL is not claimed taken; its
/// DeviceTLInfo alarm after them reporting the CTL's hash as its `CTL_Signature` shows it did,
/// and the ITL is then taken through that CTL.
#[test]
fn statement_6_the_phones_devicetlinfo_ctl_signature_shows_it_took_the_served_ctl() {
    let m = mixed_mode();
    let files = || {
        vec![
            download(&format!("CTLSEP{MAC}.tlv"), &m.served_ctl, 1),
            download(&format!("ITLSEP{MAC}.tlv"), &m.new, 10),
        ]
    };
    let path = trust_path_of(files(), &m.old);
    assert_ne!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert!(path.itl.explanation.contains("--phone-ctl"), "{path:?}");

    let path = trust_path_with_alarms(
        files(),
        vec![ctl_alarm(&sha1_hex(&m.served_ctl), 40)],
        &m.old,
    );
    assert_eq!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert_eq!(path.itl.via, Some("signer-in-ctl"), "{path:?}");
}

/// A "Not Installed" CTL report of the phone placed at `frame` (its DeviceTLInfo alarm).
fn ctl_none_report(frame: u64) -> itlscope::trust::store::CtlReport {
    itlscope::trust::store::CtlReport {
        at: Some((0, frame)),
        hash: None,
        source: format!(
            "its DeviceTLInfo alarm, frame {frame}, says CTL_Signature \"Not Installed\""
        ),
    }
}

/// Statement 7a: the phone's CTL not given, no ITL, but its DeviceTLInfo alarm before the CTL
/// download says `CTL_Signature` "Not Installed": it is known to hold nothing, so it takes the
/// first CTL blindly and then the ITL through that CTL (7b). The explanation names the alarm.
/// Without that alarm neither is claimed (the CTL it may hold decides).
#[test]
fn statement_7a_a_not_installed_ctl_alarm_before_the_ctl_makes_it_taken_blindly() {
    use itlscope::trust::store::walk_reported;
    let m = mixed_mode();
    let (served_ctl, new) = (trust_list(&m.served_ctl), trust_list(&m.new));
    let files = [ctl_at(&served_ctl), itl_at(&new)];
    let before = Store {
        ctl: Part::Unknown,
        itl: Part::Absent,
    };
    let t = walk_reported(
        before.clone(),
        &files,
        &[ctl_none_report(0)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_eq!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    assert_eq!(c.via(), Some("no-itl"));
    assert!(c.decision.explanation.contains("frame 0"), "{c:?}");
    let j = t.last(FileKind::Itl).expect("ITL judged");
    assert_eq!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
    assert_eq!(j.via(), Some("signer-in-ctl"));

    let t = walk_reported(before, &files, &[], &RsaVerifier, &NoTvsEvidence);
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_ne!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
}

/// Statement 7a, the window: a "Not Installed" report before an earlier CTL download says
/// nothing of the phone's CTL when a later one arrives (it may have taken the first).
#[test]
fn statement_7a_a_not_installed_report_before_another_ctl_download_does_not_settle_the_next() {
    use itlscope::trust::store::walk_reported;
    let m = mixed_mode();
    let served_ctl = trust_list(&m.served_ctl);
    let first = ServedFile {
        at: (0, 5),
        ..ctl_at(&served_ctl)
    };
    let second = ServedFile {
        at: (0, 9),
        ..ctl_at(&served_ctl)
    };
    // Known by its ITL's hash only: neither CTL is settled by the files.
    let before = Store {
        ctl: Part::Unknown,
        itl: Part::ByHash("00".repeat(20)),
    };
    let t = walk_reported(
        before,
        &[first, second],
        &[ctl_none_report(0)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    assert_eq!(t.judged.len(), 2);
    assert!(
        t.judged[0].decision.explanation.contains("frame 0"),
        "{:?}",
        t.judged[0]
    );
    assert!(
        !t.judged[1].decision.explanation.contains("frame 0"),
        "{:?}",
        t.judged[1]
    );
}

/// Statement 7c: a phone holding an ITL and, by its own DeviceTLInfo alarm before the CTL
/// download, no CTL: the new CTL is taken only if its ITL (or TVS) verifies it. The served
/// CTL's eToken is not in the ITL and no TVS vouches: not taken, and never blindly.
#[test]
fn statement_7c_with_an_itl_and_no_ctl_the_new_ctl_needs_its_itl_or_tvs() {
    use itlscope::trust::store::walk_reported;
    let m = mixed_mode();
    let (old, served_ctl) = (trust_list(&m.old), trust_list(&m.served_ctl));
    let t = walk_reported(
        Store {
            ctl: Part::Unknown,
            itl: exact(&old, "the phone's ITL"),
        },
        &[ctl_at(&served_ctl)],
        &[ctl_none_report(0)],
        &RsaVerifier,
        &NoTvsEvidence,
    );
    let c = t.last(FileKind::Ctl).expect("CTL judged");
    assert_ne!(c.decision.acceptance, Acceptance::Accepted, "{c:?}");
    assert_ne!(c.via(), Some("no-itl"));
    assert!(c.decision.explanation.contains("frame 0"), "{c:?}");
}

/// Statement 7a, the phone's own word after the download: its DeviceTLInfo alarm after the
/// CTL still says "Not Installed", so it did not take that CTL (even where the files suggest
/// a blind acceptance), holds no CTL from then on, and takes the next ITL blindly (7a).
#[test]
fn statement_7a_a_not_installed_ctl_alarm_after_the_ctl_shows_it_was_not_taken() {
    use itlscope::trust::store::walk_reported;
    let m = mixed_mode();
    let (served_ctl, new) = (trust_list(&m.served_ctl), trust_list(&m.new));
    let files = [ctl_at(&served_ctl), itl_at(&new)];
    for ctl_before in [Part::Absent, Part::Unknown] {
        let t = walk_reported(
            Store {
                ctl: ctl_before,
                itl: Part::Absent,
            },
            &files,
            &[ctl_none_report(2)],
            &RsaVerifier,
            &NoTvsEvidence,
        );
        let c = t.last(FileKind::Ctl).expect("CTL judged");
        assert_eq!(c.decision.acceptance, Acceptance::Rejected, "{c:?}");
        assert!(c.decision.explanation.contains("frame 2"), "{c:?}");
        assert!(matches!(t.at((0, 2)).ctl, Part::Absent));
        let j = t.last(FileKind::Itl).expect("ITL judged");
        assert_eq!(j.decision.acceptance, Acceptance::Accepted, "{j:?}");
        assert_eq!(j.via(), Some("no-itl"));
    }
}

/// A DeviceTLInfo alarm of the phone at `frame` whose `CTL_Signature` is "Not Installed" and
/// whose `ITL_Signature` is `itl_raw` (None: absent).
fn ctl_not_installed_alarm(itl_raw: Option<&str>, frame: u64) -> PhoneTrustAlarm {
    PhoneTrustAlarm {
        itl_signature_raw: itl_raw.map(str::to_string),
        ctl_signature: None,
        ctl_signature_raw: Some("Not Installed".into()),
        ..ctl_alarm("", frame)
    }
}

/// Statement 7a through `analyze`'s diagnosis: the phone's DeviceTLInfo alarm (frame 0) says
/// neither an ITL nor a CTL is installed; it then downloads a CTL and an ITL that only that
/// CTL's CCM+TFTP verifies. It takes the CTL blindly and the ITL through it. With the alarm's
/// CTL field absent, the CTL it may hold decides and the ITL is not claimed taken.
#[test]
fn statement_7a_the_phones_not_installed_ctl_signature_lets_analyze_take_the_ctl_blindly() {
    let m = mixed_mode();
    let run = |alarm: PhoneTrustAlarm| {
        let evidence = Evidence {
            files: vec![
                download(&format!("CTLSEP{MAC}.tlv"), &m.served_ctl, 1),
                download(&format!("ITLSEP{MAC}.tlv"), &m.new, 10),
            ],
            alarms: vec![alarm],
            ..Evidence::default()
        };
        let d = diagnose(&evidence, &OperatorFacts::default());
        let phone = d.phones.first().expect("one phone");
        phone.trust_path.clone().expect("a trust path")
    };
    let path = run(ctl_not_installed_alarm(Some("Not Installed"), 0));
    assert_eq!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert_eq!(path.itl.via, Some("signer-in-ctl"), "{path:?}");

    let path = run(PhoneTrustAlarm {
        ctl_signature_raw: None,
        ..ctl_not_installed_alarm(Some("Not Installed"), 0)
    });
    assert_ne!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
}

/// Statement 7a through `analyze`'s diagnosis, the alarm after the downloads: the phone (its
/// ITL given) still reports `CTL_Signature` "Not Installed" at frame 40, after the CTL and
/// the ITL: it did not take the CTL, so the ITL is judged by its own ITL alone and the answer
/// no longer waits on the CTL it might hold (no `--phone-ctl` asked for).
#[test]
fn statement_7a_analyze_reads_a_later_not_installed_ctl_as_the_ctl_not_taken() {
    let m = mixed_mode();
    let files = || {
        vec![
            download(&format!("CTLSEP{MAC}.tlv"), &m.served_ctl, 1),
            download(&format!("ITLSEP{MAC}.tlv"), &m.new, 10),
        ]
    };
    let path = trust_path_with_alarms(files(), vec![ctl_not_installed_alarm(None, 40)], &m.old);
    assert_ne!(path.itl.acceptance, Acceptance::Accepted, "{path:?}");
    assert!(!path.itl.explanation.contains("--phone-ctl"), "{path:?}");
}

/// The CTL recovery path `analyze` reports for the one phone of `files` and `alarms`, holding
/// `phone_itl` (its CTL not given).
fn ctl_path_with_alarms(
    files: Vec<FileTransfer>,
    alarms: Vec<PhoneTrustAlarm>,
    phone_itl: &[u8],
) -> itlscope::trust::recovery::RecoveryPath {
    let evidence = Evidence {
        files,
        alarms,
        ..Evidence::default()
    };
    let facts = OperatorFacts {
        phone_itl: Some(PhoneItlFile {
            name: "phone.tlv".into(),
            bytes: phone_itl.to_vec(),
        }),
        ..OperatorFacts::default()
    };
    let d = diagnose(&evidence, &facts);
    let phone = d.phones.first().expect("one phone");
    phone
        .verdict
        .recovery
        .paths
        .iter()
        .find(|p| p.id == "ctl")
        .cloned()
        .expect("a ctl path")
}

/// Statements 7a and 30 through `analyze`'s diagnosis: in mixed mode (a CTL served) the CTL
/// path needs a CTL on the phone whose signer can re-sign. The phone's DeviceTLInfo alarm at
/// frame 40, after the CTL and ITL downloads, says `CTL_Signature` "Not Installed": it holds
/// no CTL, so the path is closed and says why. The same alarm before the CTL download (frame
/// 0) does not settle it (the phone may have taken that CTL since), and without the alarm the
/// path waits on the phone's CTL: neither is closed.
#[test]
fn statements_7a_30_a_phone_reporting_no_ctl_has_its_ctl_path_closed() {
    use itlscope::trust::recovery::PathState;
    let m = mixed_mode();
    let files = || {
        vec![
            download(&format!("CTLSEP{MAC}.tlv"), &m.served_ctl, 1),
            download(&format!("ITLSEP{MAC}.tlv"), &m.new, 10),
        ]
    };
    let path = ctl_path_with_alarms(files(), vec![ctl_not_installed_alarm(None, 40)], &m.old);
    assert_eq!(path.state, PathState::Closed, "{path:?}");
    assert_eq!(
        path.explanation,
        "the phone holds no CTL: its DeviceTLInfo at frame 40 says Not Installed"
    );

    let before = ctl_path_with_alarms(files(), vec![ctl_not_installed_alarm(None, 0)], &m.old);
    assert_ne!(before.state, PathState::Closed, "{before:?}");
    let none = ctl_path_with_alarms(files(), vec![], &m.old);
    assert_eq!(none.state, PathState::Unknown, "{none:?}");
}
