//! Scenario tests of the whole diagnosis on hand-built evidence and trust lists.

use super::facts::Hashes;
use super::testkit::*;
use super::*;
use crate::cisco::model::{FileFormat, function};
use crate::evidence::{FileTransport, TcpEnd};

pub(crate) const MAC: &str = "0011223344AA";
pub(crate) const IP: &str = "10.0.0.5";
pub(crate) const ITL_A: &[u8] = b"ITL-A bytes";
const ITL_B: &[u8] = b"ITL-B bytes (CallManager regenerated)";
pub(crate) const ITL_C: &[u8] = b"ITL-C bytes (CallManager and TVS regenerated)";
const CONFIG_A: &[u8] = b"CONFIG signed by cucm-pub";
pub(crate) const CONFIG_B: &[u8] = b"CONFIG signed by cucm-pub-new";
const TVS_OLD_SHA1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TVS_NEW_SHA1: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn ccm_old() -> [crate::cisco::model::Record<'static>; 2] {
    [
        record(
            function::SAST,
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            &[0x11],
        ),
        record(
            function::CCM_TFTP,
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            &[0x11],
        ),
    ]
}

fn ccm_new() -> [crate::cisco::model::Record<'static>; 2] {
    [
        record(
            function::SAST,
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            &[0x33],
        ),
        record(
            function::CCM_TFTP,
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            "CN=cucm-pub;OU=VTG;O=Alpha;C=US",
            &[0x33],
        ),
    ]
}

fn tvs_old() -> crate::cisco::model::Record<'static> {
    tvs_record(
        "CN=tvs-pub;O=Alpha",
        "CN=tvs-pub;O=Alpha",
        &[0x22],
        TVS_OLD_SHA1,
    )
}

fn tvs_new() -> crate::cisco::model::Record<'static> {
    tvs_record(
        "CN=tvs-pub;O=Alpha",
        "CN=tvs-pub;O=Alpha",
        &[0x44],
        TVS_NEW_SHA1,
    )
}

pub(crate) fn cluster() -> FakeBackend {
    let [sast_a, tftp_a] = ccm_old();
    let [sast_b, tftp_b] = ccm_new();
    let itl_a = list(FileFormat::Itl, vec![sast_a, tftp_a.clone(), tvs_old()], 0);
    let itl_b = list(
        FileFormat::Itl,
        vec![sast_b.clone(), tftp_b.clone(), tvs_old()],
        0,
    );
    let itl_c = list(FileFormat::Itl, vec![sast_b, tftp_b.clone(), tvs_new()], 0);
    FakeBackend::default()
        .with_list(ITL_A, itl_a)
        .with_list(ITL_B, itl_b)
        .with_list(ITL_C, itl_c)
        .with_signed(CONFIG_A, signed_by(&tftp_a))
        .with_signed(CONFIG_B, signed_by(&tftp_b))
}

pub(crate) fn old_tvs_cert() -> crate::evidence::CertificateInfo {
    cert(
        "O=Alpha, CN=tvs-pub",
        "O=Alpha, CN=tvs-pub",
        "22",
        TVS_OLD_SHA1,
    )
}

pub(crate) fn new_tvs_cert() -> crate::evidence::CertificateInfo {
    cert(
        "O=Alpha, CN=tvs-pub",
        "O=Alpha, CN=tvs-pub",
        "44",
        TVS_NEW_SHA1,
    )
}

/// A boot: CTL not found, ITLSEP served, signed config served, one TVS session.
pub(crate) fn boot(itl: &[u8], config: &[u8], tvs: crate::evidence::TlsSession) -> Evidence {
    let mut ev = Evidence::default();
    let mut ctl = failed(
        &format!("CTLSEP{MAC}.tlv"),
        IP,
        FileTransport::Tftp,
        "TFTP error 1: File not found",
    );
    ctl.first = seen(1);
    let mut itl_file = file(&format!("ITLSEP{MAC}.tlv"), IP, itl);
    itl_file.first = seen(3);
    itl_file.last = seen(5);
    let mut cfg = file(&format!("SEP{MAC}.cnf.xml.sgn"), IP, config);
    cfg.first = seen(20);
    cfg.last = seen(22);
    ev.files = vec![ctl, itl_file, cfg];
    ev.tls = vec![tvs];
    ev
}

pub(crate) fn facts(
    phone_itl: Option<&[u8]>,
    status: PhoneStatus,
    backup: KeyBackup,
) -> OperatorFacts {
    OperatorFacts {
        phone_itl: phone_itl.map(|b| PhoneItlFile {
            name: "phone-itl.tlv".into(),
            bytes: b.to_vec(),
        }),
        phone_itl_hash: None,
        phone_status: status,
        key_backup: backup,
        ..OperatorFacts::default()
    }
}

/// The boot where all four conditions hold (CallManager and TVS regenerated, the phone
/// rejects TVS, failed, no key backup), read as `capture`: what the report tests render.
pub(crate) fn all_four_holding(
    capture: crate::evidence::CaptureSummary,
) -> (super::Diagnosis, Evidence) {
    let mut ev = boot(
        ITL_C,
        CONFIG_B,
        rejected(tls_with(IP, 2445, new_tvs_cert())),
    );
    ev.captures.push(capture);
    let d = super::diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No),
        &cluster(),
    );
    (d, ev)
}

fn conditions(p: &PhoneDiagnosis) -> [Option<bool>; 4] {
    p.verdict.conditions.named().map(|(_, c)| c.value)
}

pub(crate) fn step_ids(p: &PhoneDiagnosis) -> Vec<&'static str> {
    p.verdict.next_steps.iter().map(|s| s.id).collect()
}

fn check<'p>(p: &'p PhoneDiagnosis, id: &str) -> &'p Check {
    p.checks.iter().find(|c| c.id == id).expect("check present")
}

#[test]
fn healthy_boot_is_not_required() {
    let ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::Unknown);
    f.phone_itl_hash = Some(ItlHash::parse(&Hashes::of(ITL_A).md5).unwrap());
    let d = diagnose_with(&ev, &f, &cluster());
    assert_eq!(d.phones.len(), 1);
    let p = &d.phones[0];
    assert_eq!(p.mac.as_deref(), Some(MAC));
    assert_eq!(conditions(p), [Some(false), Some(false), None, None]);
    assert_eq!(p.verdict.delete_itl, DeleteItl::NotRequired);
    assert_eq!(p.verdict.reasons.len(), 2);
    assert!(p.verdict.reasons[0].starts_with("itl_differs is false"));
    for id in [
        "trust-list-downloads",
        "served-itl",
        "served-itl-content",
        "served-ctl",
        "config",
        "tvs-reachability",
        "tvs-certificate",
        "installed-itl",
        "trust-path",
    ] {
        assert_eq!(
            check(p, id).status,
            Status::Pass,
            "{id}: {}",
            check(p, id).explanation
        );
    }
    assert!(check(p, "trust-list-downloads").flags.contains(&"no-ctl"));
    assert_eq!(p.trust_path.as_ref().unwrap().itl.via, Some("same-file"));
    // Timeline in frame order, citing the requests and the certificate.
    assert!(p.timeline.windows(2).all(|w| w[0].frame <= w[1].frame));
    assert!(
        p.timeline
            .iter()
            .any(|e| e.frame == 11 && e.what.contains("presents certificate"))
    );
}

#[test]
fn callmanager_regenerated_tvs_unchanged() {
    let ev = boot(ITL_B, CONFIG_B, tls_with(IP, 2445, old_tvs_cert()));
    let backend = cluster();
    let f = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
    let p = &diagnose_with(&ev, &f, &backend).phones[0];
    assert_eq!(
        conditions(p),
        [Some(true), Some(false), Some(true), Some(true)]
    );
    assert_eq!(p.verdict.delete_itl, DeleteItl::NotRequired);
    assert!(p.verdict.reasons[0].starts_with("tvs_cert_mismatch is false"));
    let path = p.trust_path.as_ref().unwrap();
    // The handshake completed, but a TVS that does not know the signer completes it too and
    // answers "invalid" inside: with the phone failing, whether TVS vouched is unknown.
    assert_eq!(path.itl.acceptance, Acceptance::Undetermined);
    assert_eq!(path.itl.via, None);
    assert!(
        path.itl
            .explanation
            .contains("what TVS answered is encrypted")
    );
    assert_eq!(path.config.acceptance, Acceptance::Undetermined);
    // TVS is trusted and the signer is a regenerated key of the known one, yet the phone
    // failed: TVS should vouch; no "moved cluster" or key-restore advice.
    assert_eq!(step_ids(p), ["tvs-does-not-vouch"]);
    let ok = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Ok, KeyBackup::Yes),
        &backend,
    )
    .phones[0];
    assert_eq!(step_ids(ok), ["no-action", "keep-tvs-certificate"]);
    // The phone shows no failure: TVS vouched.
    let path = ok.trust_path.as_ref().unwrap();
    assert_eq!(path.itl.acceptance, Acceptance::Accepted);
    assert_eq!(path.itl.via, Some("via-tvs"));
    assert_eq!(path.config.via, Some("signer-in-itl"));
    let unknown = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Unknown, KeyBackup::Yes),
        &backend,
    )
    .phones[0];
    let path = unknown.trust_path.as_ref().unwrap();
    assert_eq!(path.itl.acceptance, Acceptance::Undetermined);
    assert!(
        path.itl.explanation.contains("--phone-status"),
        "{}",
        path.itl.explanation
    );
    assert_eq!(check(p, "installed-itl").status, Status::Fail);
}

#[test]
fn callmanager_and_tvs_regenerated_phone_rejects_tvs() {
    let ev = boot(
        ITL_C,
        CONFIG_B,
        rejected(tls_with(IP, 2445, new_tvs_cert())),
    );
    let backend = cluster();
    // All four hold.
    let p = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No),
        &backend,
    )
    .phones[0];
    assert_eq!(conditions(p), [Some(true); 4]);
    assert_eq!(p.verdict.delete_itl, DeleteItl::Required);
    assert_eq!(
        p.verdict.reasons[0],
        "all four conditions hold and every recovery path is closed"
    );
    assert_eq!(step_ids(p), ["delete-itl", "prevent"]);
    let path = p.trust_path.as_ref().unwrap();
    assert_eq!(path.itl.acceptance, Acceptance::Rejected);
    assert_eq!(path.config.acceptance, Acceptance::Rejected);
    let tvs = check(p, "tvs-certificate");
    assert_eq!(tvs.status, Status::Fail);
    assert!(tvs.flags.contains(&"phone-rejected-tvs-certificate"));
    assert!(tvs.evidence.iter().any(|e| e.frame == Some(12)));
    // A key backup makes deletion unnecessary.
    let p = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::Yes),
        &backend,
    )
    .phones[0];
    assert_eq!(p.verdict.delete_itl, DeleteItl::NotRequired);
    assert_eq!(step_ids(p), ["restore-tftp-key"]);
    assert!(p.verdict.next_steps[0].text.contains("CN=cucm-pub"));
    // Without the engineer's facts: undetermined, and the steps ask for them.
    let p = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Unknown, KeyBackup::Unknown),
        &backend,
    )
    .phones[0];
    assert_eq!(conditions(p), [Some(true), Some(true), None, None]);
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    assert_eq!(step_ids(p), ["give-phone-status", "give-key-backup"]);
}

#[test]
fn without_phone_itl_condition_2_comes_from_the_phone_rejecting_tvs_statement_21() {
    // No --phone-itl: the served ITL is not the phone's (statement 21 is about the phone's
    // own, old ITL); the phone's fatal unknown_ca after the new TVS certificate decides.
    let ev = boot(
        ITL_A,
        CONFIG_A,
        rejected(tls_with(IP, 2445, new_tvs_cert())),
    );
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    assert_eq!(conditions(p), [None, Some(true), None, None]);
    let why = &p.verdict.conditions.tvs_cert_mismatch.explanation;
    assert!(why.contains("the phone rejected its certificate"), "{why}");
    assert!(!why.contains("served ITL"), "{why}");
    assert!(p.trust_path.is_none());
    assert_eq!(check(p, "trust-path").status, Status::Unknown);
}

#[test]
fn tvs_matches_by_serial_and_issuer_without_hash() {
    let mut c = old_tvs_cert();
    c.sha1 = "cc".repeat(20); // not the CERTHASH
    let ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, c));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    assert_eq!(p.verdict.conditions.tvs_cert_mismatch.value, Some(false));
    assert!(
        check(p, "tvs-certificate").evidence[0]
            .detail
            .contains("serial and issuer")
    );
}

#[test]
fn tls13_tvs_leaves_the_certificate_unknown() {
    let mut s = tls(IP, 2445);
    s.version = Some(0x0304);
    s.certificates_encrypted = true;
    s.certificate_seen = None;
    // Data one way only: the TLS 1.3 session does not show the phone accepting TVS.
    s.app_data_bytes = (0, 1480);
    let ev = boot(ITL_B, CONFIG_B, s);
    let p = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No),
        &cluster(),
    )
    .phones[0];
    assert_eq!(conditions(p), [Some(true), None, Some(true), Some(true)]);
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    assert!(
        p.verdict
            .conditions
            .tvs_cert_mismatch
            .explanation
            .contains("TLS 1.3")
    );
    assert!(check(p, "tvs-certificate").flags.contains(&"tls13-tvs"));
    assert_eq!(
        p.trust_path.as_ref().unwrap().itl.acceptance,
        Acceptance::Undetermined
    );
    assert_eq!(step_ids(p), ["compare-tvs-by-hand"]);
}

#[test]
fn two_phones_each_get_their_verdict() {
    let mut ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let other = "10.0.0.6";
    ev.files.push(file("ITLSEP00112233BBBB.tlv", other, ITL_A));
    ev.tls.push(rejected(tls_with(other, 2445, new_tvs_cert())));
    ev.alarms.push(alarm(
        IP,
        &format!("SEP{MAC}"),
        Some(&Hashes::of(ITL_A).sha1),
        30,
    ));
    let d = diagnose_with(&ev, &OperatorFacts::default(), &cluster());
    assert_eq!(d.phones.len(), 2);
    let (a, b) = (&d.phones[0], &d.phones[1]);
    assert_eq!(a.mac.as_deref(), Some(MAC));
    assert_eq!(b.mac.as_deref(), Some("00112233BBBB"));
    assert_eq!(conditions(a), [Some(false), Some(false), None, None]);
    assert_eq!(a.installed_itl.as_ref().unwrap().source, "device-tl-info");
    assert_eq!(conditions(b), [None, Some(true), None, None]);
    assert_eq!(a.verdict.delete_itl, DeleteItl::NotRequired);
    assert_eq!(b.verdict.delete_itl, DeleteItl::Undetermined);
}

#[test]
fn alarm_not_installed_means_nothing_to_delete() {
    let mut ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    ev.alarms.push(alarm(IP, &format!("SEP{MAC}"), None, 30));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    assert_eq!(p.verdict.conditions.itl_differs.value, Some(false));
    assert_eq!(p.trust_path.as_ref().unwrap().itl.via, Some("no-itl"));
    assert_eq!(
        p.trust_path.as_ref().unwrap().config.acceptance,
        Acceptance::Accepted
    );
}

#[test]
fn tvs_unreachable_is_a_service_problem() {
    let mut s = tls(IP, 2445);
    s.version = None;
    s.certificate_seen = None;
    s.handshake_complete = false;
    s.end = TcpEnd::NeverAnswered;
    let ev = boot(ITL_B, CONFIG_B, s);
    let p = &diagnose_with(
        &ev,
        &facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No),
        &cluster(),
    )
    .phones[0];
    assert_eq!(p.verdict.conditions.tvs_cert_mismatch.value, None);
    assert!(
        p.verdict
            .conditions
            .tvs_cert_mismatch
            .explanation
            .contains("never answered")
    );
    let reach = check(p, "tvs-reachability");
    assert_eq!(reach.status, Status::Fail);
    assert!(reach.explanation.contains("not a reason to delete"));
    assert_eq!(step_ids(p), ["restore-tvs-reachability"]);
}

#[test]
fn fallbacks_rollback_size_and_unsigned_config_are_flagged() {
    let rollback_bytes: &[u8] = b"rollback ITL";
    let [sast, _] = ccm_old();
    let rollback = list(
        FileFormat::Itl,
        vec![
            sast,
            empty_record(function::CCM_TFTP),
            empty_record(function::TVS),
        ],
        0,
    );
    let backend = cluster().with_list(rollback_bytes, rollback);
    let mut ev = Evidence::default();
    let mut http = failed(
        &format!("ITLSEP{MAC}.tlv"),
        IP,
        FileTransport::Http,
        "HTTP 503 Service Unavailable",
    );
    http.first = seen(1);
    let mut tftp = failed(
        &format!("ITLSEP{MAC}.tlv"),
        IP,
        FileTransport::Tftp,
        "TFTP error 1: File not found",
    );
    tftp.first = seen(2);
    let mut generic = file("ITLFile.tlv", IP, rollback_bytes);
    generic.first = seen(3);
    let mut cfg = file(&format!("SEP{MAC}.cnf.xml"), IP, b"<device/>");
    cfg.first = seen(6);
    ev.files = vec![http, tftp, generic, cfg];
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &backend).phones[0];
    let dl = check(p, "trust-list-downloads");
    assert_eq!(dl.status, Status::Pass);
    assert!(dl.flags.contains(&"itlfile-fallback"), "{:?}", dl.flags);
    assert!(dl.flags.contains(&"http-to-tftp-fallback"));
    let content = check(p, "served-itl-content");
    assert!(content.flags.contains(&"rollback-itl"));
    assert!(p.served_itl.as_ref().unwrap().rollback);
    assert!(
        check(p, "config")
            .flags
            .contains(&"unsigned-config-with-itl")
    );
    assert!(
        step_ids(p).contains(&"centralized-tftp"),
        "{:?}",
        step_ids(p)
    );

    // An ITL over 64 KB.
    let big = vec![b'x'; 70_000];
    let [sast, tftp_rec] = ccm_old();
    let backend = cluster().with_list(
        &big,
        list(FileFormat::Itl, vec![sast, tftp_rec, tvs_old()], 0),
    );
    let ev = boot(&big, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &backend).phones[0];
    let content = check(p, "served-itl-content");
    assert_eq!(content.status, Status::Fail);
    assert!(content.flags.contains(&"itl-over-64k"));
}

#[test]
fn tampered_and_unparseable_itls_fail() {
    let mut backend = cluster();
    backend.tampered.push(ITL_A.to_vec());
    let ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &backend).phones[0];
    let served = check(p, "served-itl");
    assert_eq!(served.status, Status::Fail);
    assert!(served.flags.contains(&"bad-signature"));
    let ev = boot(b"garbage", CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    let served = check(p, "served-itl");
    assert_eq!(served.status, Status::Fail);
    assert!(served.explanation.contains("byte offset 312"));
}

#[test]
fn config_signed_by_a_foreign_key_fails() {
    let ev = boot(ITL_A, CONFIG_B, tls_with(IP, 2445, old_tvs_cert()));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    let c = check(p, "config");
    assert_eq!(c.status, Status::Fail, "{}", c.explanation);
    assert!(c.flags.contains(&"config-signer-untrusted"));
}

#[test]
fn other_tls_and_expired_certificates() {
    let mut ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let mut tomcat = cert("CN=cucm-pub", "CN=cucm-pub", "99", &"dd".repeat(20));
    tomcat.not_after = Some(T0 - 10);
    ev.tls.push(tls_with(IP, 8443, tomcat));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    let other = check(p, "other-tls");
    assert!(other.flags.contains(&"needs-tvs"));
    assert_eq!(other.status, Status::Pass);
    let validity = check(p, "certificate-validity");
    assert_eq!(validity.status, Status::Fail);
    assert!(validity.flags.contains(&"certificate-expired"));
}

#[test]
fn a_certificate_that_cannot_be_parsed_has_unknown_validity_not_expired() {
    let mut ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let (junk, note) = crate::x509::certificate_info(b"\x30\x03\x02\x01\x07");
    assert!(note.is_some());
    ev.tls.push(tls_with(IP, 8443, junk));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    let validity = check(p, "certificate-validity");
    assert_eq!(validity.status, Status::Unknown, "{}", validity.explanation);
    assert!(!validity.flags.contains(&"certificate-expired"));
    assert!(
        validity.explanation.contains("could not be parsed"),
        "{}",
        validity.explanation
    );
    assert!(
        validity
            .evidence
            .iter()
            .any(|e| e.detail.contains("could not be parsed")),
        "{:?}",
        validity.evidence
    );
}

#[test]
fn itl_lost_by_the_capture_is_incomplete_not_failed() {
    let mut ev = boot(ITL_A, CONFIG_A, tls_with(IP, 2445, old_tvs_cert()));
    let itl = &mut ev.files[1];
    itl.complete = false;
    itl.missing = vec![(512, 1024)];
    itl.data.truncate(512);
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    let dl = check(p, "trust-list-downloads");
    assert_eq!(dl.status, Status::Unknown, "{}", dl.explanation);
    assert!(dl.flags.contains(&"incomplete-transfer"));
    assert!(
        dl.explanation.contains("capture loss"),
        "{}",
        dl.explanation
    );
    assert!(
        dl.evidence
            .iter()
            .any(|e| e.detail.contains("incomplete") && e.detail.contains("missing 512..1024")),
        "{:?}",
        dl.evidence
    );
    assert_eq!(check(p, "served-itl").status, Status::Unknown);
    // The same transfer with a real failure stays a failure.
    ev.files[1].error = Some("transfer did not finish in the capture".into());
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    assert_eq!(check(p, "trust-list-downloads").status, Status::Fail);
}

#[test]
fn no_capture_evidence_is_unknown_not_false() {
    let mut ev = Evidence::default();
    // A CAPF session makes a phone (8443 alone would not: any PC browses HTTPS).
    ev.tls.push(tls(IP, 3804));
    let p = &diagnose_with(&ev, &OperatorFacts::default(), &cluster()).phones[0];
    assert_eq!(conditions(p), [None, None, None, None]);
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    let decided: Vec<(&str, Status)> = p
        .checks
        .iter()
        .filter(|c| !matches!(c.status, Status::Unknown | Status::NotApplicable))
        .filter(|c| c.id != "other-tls")
        .map(|c| (c.id, c.status))
        .collect();
    assert!(decided.is_empty(), "{decided:?}");
}
