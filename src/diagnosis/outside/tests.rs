use super::super::facts::{Hashes, ItlHash};
use super::super::testkit::*;
use super::super::tests::*;
use super::super::{DeleteItl, KeyBackup, PhoneStatus, diagnose_with};
use crate::sidecar::{CliTrustList, ExportedCert, Source};

fn exported(info: crate::evidence::CertificateInfo) -> ExportedCert {
    ExportedCert {
        source: Source {
            file: "tvs.pem".into(),
            member: None,
            line: Some(1),
        },
        role_hint: Some("tvs"),
        info,
    }
}

#[test]
fn a_completed_tls13_handshake_and_a_contradicting_tvs_pem_are_a_conflict_not_required() {
    // Issue 18 item 8 (statement 12): data both ways under TLS 1.3 shows the phone trusts
    // TVS; an exported tvs.pem its ITL lacks contradicts that, so condition 2 is unknown.
    let mut s = tls(IP, 2445);
    s.version = Some(0x0304);
    s.certificates_encrypted = true;
    s.certificate_seen = None;
    let ev = boot(ITL_C, CONFIG_B, s);
    let mut f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
    f.side.certificates.push(exported(new_tvs_cert()));
    let d = diagnose_with(&ev, &f, &cluster());
    let v = &d.phones[0].verdict;
    assert_eq!(v.conditions.tvs_cert_mismatch.value, None);
    let why = &v.conditions.tvs_cert_mismatch.explanation;
    assert!(
        why.contains("TLS 1.3") && why.contains("tvs.pem:1"),
        "{why}"
    );
    assert_ne!(v.delete_itl, DeleteItl::Required);
    // Without the exported certificate the completed handshake decides: false.
    let f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(
        d.phones[0].verdict.conditions.tvs_cert_mismatch.value,
        Some(false)
    );
}

#[test]
fn an_exported_tvs_certificate_decides_tvs_under_tls13() {
    let mut s = tls(IP, 2445);
    s.version = Some(0x0304);
    // No application data both ways: the session does not show the phone accepting TVS.
    s.app_data_bytes = (0, 0);
    let ev = boot(ITL_C, CONFIG_B, s);
    // TVS regenerated: its exported certificate is not in the phone's ITL A.
    let mut f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
    f.side.certificates.push(exported(new_tvs_cert()));
    let d = diagnose_with(&ev, &f, &cluster());
    let v = &d.phones[0].verdict;
    assert_eq!(v.conditions.tvs_cert_mismatch.value, Some(true));
    assert!(
        v.conditions
            .tvs_cert_mismatch
            .explanation
            .contains("tvs.pem:1")
    );
    assert_eq!(v.delete_itl, DeleteItl::Required);
    // TVS unchanged: it is.
    f.side.certificates = vec![exported(old_tvs_cert())];
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(
        d.phones[0].verdict.conditions.tvs_cert_mismatch.value,
        Some(false)
    );
}

#[test]
fn show_itl_stands_in_for_a_capture_without_an_itl() {
    let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
    ev.files.remove(1);
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    f.phone_itl_hash = Some(ItlHash::parse(&Hashes::of(ITL_A).sha1).unwrap());
    let listing = |sha1: String| CliTrustList {
        source: Source {
            file: "show-itl.txt".into(),
            member: None,
            line: Some(1),
        },
        kind: "ITL".into(),
        sha1: Some(sha1),
        ..CliTrustList::default()
    };
    f.side.cli_lists.push(listing(Hashes::of(ITL_A).sha1));
    let d = diagnose_with(&ev, &f, &cluster());
    let c = &d.phones[0].verdict.conditions.itl_differs;
    assert_eq!(c.value, Some(false), "{}", c.explanation);
    assert!(c.explanation.contains("show-itl.txt:1"));
    f.side.cli_lists = vec![listing(Hashes::of(ITL_C).sha1)];
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(d.phones[0].verdict.conditions.itl_differs.value, Some(true));
}

#[test]
fn evidence_without_a_phone_in_the_capture_is_noted() {
    let f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    let mut f = f;
    f.side.facts.push(crate::sidecar::SideFact {
        source: Source::default(),
        source_kind: crate::sidecar::SourceKind::StatusMessages,
        kind: crate::sidecar::FactKind::TrustListFailed,
        device: None,
        time: None,
        text: "Trust List update failed".into(),
    });
    let d = diagnose_with(&crate::evidence::Evidence::default(), &f, &cluster());
    assert!(
        d.notes.iter().any(|n| n.contains("no phone")),
        "{:?}",
        d.notes
    );
}

fn dated_capture(ev: &mut crate::evidence::Evidence) {
    ev.captures.push(crate::evidence::CaptureSummary {
        path: "c.pcap".into(),
        first_ts: Some(crate::capture::Timestamp::from_parts(T0, 0)),
        ..Default::default()
    });
}

fn status_facts(text: &str) -> Vec<crate::sidecar::SideFact> {
    let src = Source {
        file: "stmsg.txt".into(),
        ..Source::default()
    };
    crate::sidecar::status::facts(text, &src, 100).0
}

fn console_facts(text: &str) -> Vec<crate::sidecar::SideFact> {
    let src = Source {
        file: "console.log".into(),
        ..Source::default()
    };
    crate::sidecar::console::facts(text, &src, 100).0
}

fn check<'d>(d: &'d super::super::Diagnosis, id: &str) -> &'d super::super::model::Check {
    d.phones[0]
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

/// Statement 29: "Trust List Verification Failed" on the phone is condition 3.
#[test]
fn statement_29_trust_list_verification_failed_is_condition_3() {
    let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    dated_capture(&mut ev);
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    f.side.facts = status_facts("[9:00:02am 01/01/26] Trust List Verification Failed\n");
    assert_eq!(f.side.facts.len(), 1);
    let d = diagnose_with(&ev, &f, &cluster());
    let c3 = &d.phones[0].verdict.conditions.phone_verification_failed;
    assert_eq!(c3.value, Some(true), "{}", c3.explanation);
    assert!(c3.explanation.contains("stmsg.txt:1"), "{}", c3.explanation);
}

/// Issue 18 item 10 / "inputs are checked before they are believed": a Status Messages
/// line six weeks older than the capture is not used; both times are named.
#[test]
fn a_status_line_six_weeks_older_than_the_capture_is_set_aside() {
    let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    dated_capture(&mut ev);
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    // The capture starts 2026-01-01; the line is from 2025-11-19.
    f.side.facts = status_facts("[9:00:02am 11/19/25] Trust List Updated\n");
    let d = diagnose_with(&ev, &f, &cluster());
    let c3 = &d.phones[0].verdict.conditions.phone_verification_failed;
    assert_eq!(c3.value, None, "{}", c3.explanation);
    assert!(
        c3.explanation.contains("11/19/25") && c3.explanation.contains("2026-01-01T00:00:00"),
        "{}",
        c3.explanation
    );
    let c = check(&d, "phone-reported");
    assert!(c.flags.contains(&"evidence-older-than-capture"), "{c:?}");
    assert!(
        c.explanation.contains("6 weeks before"),
        "{}",
        c.explanation
    );
    assert!(d.phones[0].reported.is_empty());
    // The same line dated the capture's day is used.
    f.side.facts = status_facts("[9:00:02am 01/01/26] Trust List Updated\n");
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(
        d.phones[0]
            .verdict
            .conditions
            .phone_verification_failed
            .value,
        Some(false)
    );
}

/// Evidence naming another MAC than the phone is not used; both MACs are named.
#[test]
fn evidence_about_another_mac_is_set_aside_naming_both() {
    let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    f.side.facts = status_facts("Trust List Verification Failed SEPAABBCCDDEEFF\n");
    assert_eq!(f.side.facts[0].device.as_deref(), Some("AABBCCDDEEFF"));
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(
        d.phones[0]
            .verdict
            .conditions
            .phone_verification_failed
            .value,
        None
    );
    let c = check(&d, "phone-reported");
    assert!(c.flags.contains(&"evidence-about-another-phone"));
    let said = &c.evidence[0].detail;
    assert!(
        said.contains("SEPAABBCCDDEEFF") && said.contains(&format!("SEP{MAC}")),
        "{said}"
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("SEPAABBCCDDEEFF") && n.contains(&format!("SEP{MAC}"))),
        "{:?}",
        d.notes
    );
}

/// Evidence that names no MAC applies only when the capture has one phone (issue 18 item 10).
#[test]
fn evidence_without_a_mac_applies_only_to_a_capture_of_one_phone() {
    let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    f.side.facts = status_facts("Trust List Verification Failed\n");
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(
        d.phones[0]
            .verdict
            .conditions
            .phone_verification_failed
            .value,
        Some(true)
    );
    ev.files
        .push(file("SEPAABBCCDDEEFF.cnf.xml.sgn", "10.0.0.9", CONFIG_B));
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(d.phones.len(), 2);
    for p in &d.phones {
        assert_eq!(p.verdict.conditions.phone_verification_failed.value, None);
        assert!(
            p.checks
                .iter()
                .any(|c| c.flags.contains(&"evidence-names-no-phone"))
        );
    }
    assert!(
        d.notes.iter().any(|n| n.contains("name no phone")),
        "{:?}",
        d.notes
    );
}

/// phone-log-lines.md §4 B (the TAC note's HTTPS-via-TVS log) and §4 C (the CUCM TVS trace
/// of the same exchange): the phone trusts TVS, TVS vouched.
#[test]
fn secd_lines_and_tvs_trace_give_tvs_reports() {
    let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    f.side.facts = console_facts(
        "1215: ERR 15:20:59.431314 SECD: EROR:https_cert_vfy: HTTPS cert not in CTL, <14.48.44.80>
1248: NOT 15:20:59.538726 SECD: tvs_cert_vfy: TVS cert verified with hash from TL, <14.48.44.80>
1273: NOT 15:20:59.825648 SECD: processTvsSrvrResponse: Authentication Response received, status : 0
",
    );
    let trace = format!(
        "15:21:01.954 | debug {IP}: tvsSSLHandShake Session ciphers - AES256-SHA
15:21:02.010 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_REQ
15:21:02.011 | debug CertificateDBCACHE::getCertificateInformation - Certificate found and equal
15:21:02.011 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_RES
15:22:00.000 | debug 10.9.9.9: tvsSSLHandShake Session ciphers - AES256-SHA
15:22:00.010 | debug      MsgType                : TVS_MSG_CERT_VERIFICATION_REQ
15:22:00.011 | debug getCertificateInformation(cert) : certificate not found
"
    );
    let src = Source {
        file: "tvs.trace".into(),
        ..Source::default()
    };
    f.side.tvs_trace = crate::sidecar::tvstrace::requests(&trace, &src, 100).0;
    assert_eq!(f.side.tvs_trace.len(), 2);
    let backend = cluster();
    let reports = first_phone(&ev, &f, &backend, super::tvs_reports);
    let got: Vec<(super::TvsFinding, Option<&str>, bool)> = reports
        .iter()
        .map(|r| (r.finding, r.server.as_deref(), r.server_inferred))
        .collect();
    assert_eq!(
        got,
        [
            (
                super::TvsFinding::PhoneTrustsTvs,
                Some("14.48.44.80"),
                false
            ),
            (super::TvsFinding::Vouched, Some("14.48.44.80"), true),
            // The other phone's (10.9.9.9) "not found" is not this phone's.
            (super::TvsFinding::Vouched, None, false),
        ]
    );
    assert_eq!(reports[0].source, "console.log:2");
    assert_eq!(reports[1].status, Some(0));
    assert_eq!(reports[2].from, crate::sidecar::SourceKind::TvsTrace);
    assert_eq!(reports[2].time.as_deref(), Some("15:21:02.010"));
    let d = diagnose_with(&ev, &f, &backend);
    let c = check(&d, "cucm-tvs-trace");
    assert_eq!(c.status, super::super::model::Status::Pass, "{c:?}");
    let c = check(&d, "phone-reported");
    for flag in ["needs-tvs", "phone-trusts-tvs", "tvs-vouched"] {
        assert!(c.flags.contains(&flag), "{flag}: {:?}", c.flags);
    }
}

/// phone-log-lines.md §4 A: `validate_file_envelope` and `verifyFile` as file reports and
/// condition 3 (the failure forms the note names).
/// `look` at the context of the evidence's first phone, given no phone inputs.
fn first_phone<R>(
    ev: &crate::evidence::Evidence,
    f: &super::super::OperatorFacts,
    backend: &dyn super::super::trust::TrustBackend,
    look: impl FnOnce(&super::super::context::PhoneCtx<'_>) -> R,
) -> R {
    let (groups, _) = super::super::phone::group(ev, 10);
    let ctx = super::super::context::PhoneCtx::new(
        ev,
        f,
        backend,
        &groups[0],
        super::super::context::PhoneInputs::default(),
    );
    look(&ctx)
}

#[test]
fn secd_file_verification_lines_are_reports_and_condition_3() {
    let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    f.side.facts = console_facts(
        "877: NOT 09:13:17.925249 SECD: validate_file_envelope: File sign verify SUCCESS; header length <296>
937: ERR 09:13:18.656906 SECD: verifyFile: verify FAILED </usr/ram/SEP0011223344AA.cnf.xml>
",
    );
    let backend = cluster();
    let r = first_phone(&ev, &f, &backend, super::file_verification_reports);
    assert_eq!(r.len(), 2);
    assert!(r[0].verified && r[0].what == super::VerifiedWhat::Envelope);
    assert!(!r[1].verified);
    assert_eq!(
        r[1].file.as_deref(),
        Some("/usr/ram/SEP0011223344AA.cnf.xml")
    );
    assert_eq!(r[1].time.as_deref(), Some("09:13:18.656906"));
    let d = diagnose_with(&ev, &f, &backend);
    let c3 = &d.phones[0].verdict.conditions.phone_verification_failed;
    assert_eq!(c3.value, Some(true), "{}", c3.explanation);
}

/// Statement 27: `show itl` errors pointing to CSCtn50405 give a cluster-side check whose
/// next step compares the database's CallManager certificate with the OS one.
#[test]
fn statement_27_show_itl_errors_give_csctn50405_guidance() {
    let ev = boot(ITL_A, CONFIG_B, tls(IP, 2445));
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    // One --evidence file given (the facts below stand for what it held).
    f.side.files.push(crate::sidecar::IngestedFile::default());
    let text = "admin:show itl\nLength of ITL file: 5438\nITL Record #:1\n----\n4 FUNCTION 2 System Administrator Security Token\nThis etoken was not used to sign the ITL file.\nVerification of the ITL file failed.\nError parsing the ITL file!!\n";
    let src = Source {
        file: "show-itl.txt".into(),
        ..Source::default()
    };
    f.side.cli_lists = crate::sidecar::cli::parse(text, &src).0;
    let symptoms = super::csctn50405_symptoms(&f.side);
    assert_eq!(symptoms.len(), 1);
    for said in [
        "Verification of the ITL file failed",
        "Error parsing",
        "was not used",
    ] {
        assert!(symptoms[0].1.contains(said), "{said}: {symptoms:?}");
    }
    let d = diagnose_with(&ev, &f, &cluster());
    let c = check(&d, "cucm-itl-csctn50405");
    assert_eq!(c.status, super::super::model::Status::Fail);
    assert!(c.flags.contains(&"csctn50405"));
    assert!(c.explanation.contains("certificatetrustrolemap"));
    assert!(c.explanation.contains("regenerate CallManager.pem"));
    // A listing the ITLRecovery record signed, the CallManager one not: no symptom.
    let ok = "admin:show itl\nLength of ITL file: 5438\nITL Record #:1\nThis etoken was used to sign the ITL file.\nITL Record #:2\nThis etoken was not used to sign the ITL file.\nThe ITL file was verified successfully.\n";
    f.side.cli_lists = crate::sidecar::cli::parse(ok, &src).0;
    assert!(super::csctn50405_symptoms(&f.side).is_empty());
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(
        check(&d, "cucm-itl-csctn50405").status,
        super::super::model::Status::Pass
    );
}
