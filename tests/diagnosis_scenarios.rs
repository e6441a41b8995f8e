//! The diagnosis end to end on real trust-list bytes (built by `itlscope-gen` and parsed and
//! verified by `itlscope::cisco`), with hand-built evidence standing in for the captures:
//! every condition and the verdict under several option combinations.

use itlscope::capture::Timestamp;
use itlscope::diagnosis::{
    Acceptance, DeleteItl, ItlHash, KeyBackup, OperatorFacts, PhoneDiagnosis, PhoneItlFile,
    PhoneStatus, ScopedInputs, Status, diagnose,
};
use itlscope::evidence::{
    CertificateInfo, Endpoint, Evidence, FileTransfer, FileTransport, Seen, Side, TcpEnd, TlsAlert,
    TlsSession,
};
use itlscope::report::{OutputFormat, run_analyze};
use itlscope_gen::pki::{Cert, CertSpec, Digest, KeyName};
use itlscope_gen::trustlist::{RecordSpec, Signer, TrustListBuilder, function, signed_file};
use sha1::Digest as _;

const HOST: &str = "cucm-pub.example.com";
const MAC: &str = "0011223344AA";
const PHONE: &str = "10.10.0.21";
/// 2026-01-01, inside the certificates' validity.
const T0: i64 = 1_767_225_600;

struct Cluster {
    callmanager: Cert,
    tvs: Cert,
}

fn original() -> Cluster {
    Cluster {
        callmanager: CertSpec::callmanager(HOST).self_signed(),
        tvs: CertSpec::tvs(HOST).self_signed(),
    }
}

fn callmanager_regenerated() -> Cert {
    CertSpec::callmanager(HOST)
        .with_key(KeyName::CallManagerRegenerated)
        .with_serial(&[0x7a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])
        .self_signed()
}

fn tvs_regenerated() -> Cert {
    CertSpec::tvs(HOST)
        .with_key(KeyName::TvsRegenerated)
        .with_serial(&[0x3f, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77])
        .self_signed()
}

/// A pre-12.0 style ITL: the CallManager certificate signs it (SAST) and signs configs.
fn itl(callmanager: &Cert, tvs: &Cert) -> Vec<u8> {
    TrustListBuilder::new(&format!("ITLSEP{MAC}.tlv"), Signer::from_cert(callmanager))
        .record(RecordSpec::from_cert(function::SAST, callmanager))
        .record(RecordSpec::from_cert(function::CCM_TFTP, callmanager))
        .record(RecordSpec::from_cert(function::TVS, tvs).hash_only())
        .digest(Digest::Sha256)
        .build()
}

fn config(callmanager: &Cert) -> Vec<u8> {
    signed_file(
        &format!("SEP{MAC}.cnf.xml.sgn"),
        b"<device><deviceProtocol>SIP</deviceProtocol></device>",
        Signer::from_cert(callmanager),
        Digest::Sha256,
    )
}

fn seen(frame: u64) -> Seen {
    Seen {
        capture: 0,
        frame,
        ts: Timestamp::from_parts(T0 + frame as i64, 0),
    }
}

fn ep(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        ip: ip.parse().unwrap(),
        port,
    }
}

fn transfer(name: &str, phone: &str, data: Option<&[u8]>, frame: u64) -> FileTransfer {
    FileTransfer {
        name: name.into(),
        transport: FileTransport::Tftp,
        upload: false,
        client: ep(phone, 49_152),
        server: ep("10.10.0.1", 69),
        data: data.unwrap_or_default().into(),
        size: data.map(|d| d.len() as u64),
        complete: data.is_some(),
        missing: Vec::new(),
        error: data
            .is_none()
            .then(|| "TFTP error 1: File not found".to_string()),
        http_status: None,
        tftp_error_code: data.is_none().then_some(1),
        options: Vec::new(),
        first: seen(frame),
        last: seen(frame + 2),
        ..Default::default()
    }
}

fn cert_info(cert: &Cert) -> CertificateInfo {
    CertificateInfo {
        der: cert.der.clone(),
        // The RFC 4514 form the capture stage gives (itlscope::dn), which is not the
        // `CN=…;OU=…` text the trust list's records carry.
        subject: itlscope::dn::of_text(&cert.subject_string()),
        issuer: itlscope::dn::of_text(&cert.issuer_string()),
        serial: hex::encode(&cert.serial),
        sha1: hex::encode(sha1::Sha1::digest(&cert.der)),
        sha256: hex::encode(sha2::Sha256::digest(&cert.der)),
        not_before: Some(1_704_067_200),
        not_after: Some(2_019_686_400),
        key_type: "RSA".into(),
        key_bits: Some(2048),
    }
}

fn tvs_session(phone: &str, cert: Option<&Cert>, rejected: bool, tls13: bool) -> TlsSession {
    TlsSession {
        client: ep(phone, 51_000),
        server: ep("10.10.0.1", 2445),
        service: Some("tvs".into()),
        offered_versions: vec![0x0304, 0x0303],
        sni: None,
        version: Some(if tls13 { 0x0304 } else { 0x0303 }),
        cipher_suite: Some(0xc030),
        certificates: cert.map(cert_info).into_iter().map(Into::into).collect(),
        certificates_encrypted: tls13,
        alerts: if rejected {
            vec![TlsAlert {
                from: Side::Client,
                level: 2,
                description: 48,
                after_server_certificate: true,
                seen: seen(13),
            }]
        } else {
            Vec::new()
        },
        handshake_complete: !rejected,
        app_data_bytes: if rejected { (0, 0) } else { (153, 1480) },
        end: if rejected {
            TcpEnd::Reset(Side::Client)
        } else {
            TcpEnd::Fin(Side::Client)
        },
        notes: Vec::new(),
        first: seen(10),
        certificate_seen: (!tls13).then(|| seen(12)),
        last: seen(15),
        ..Default::default()
    }
}

/// A phone boot: CTL not found, ITL, signed config, TVS.
fn boot(phone: &str, mac: &str, itl: &[u8], config: &[u8], tvs: TlsSession) -> Evidence {
    Evidence {
        files: vec![
            transfer(&format!("CTLSEP{mac}.tlv"), phone, None, 1),
            transfer(&format!("ITLSEP{mac}.tlv"), phone, Some(itl), 3),
            transfer(&format!("SEP{mac}.cnf.xml.sgn"), phone, Some(config), 20),
        ],
        tls: vec![tvs],
        ..Evidence::default()
    }
}

/// The phone holds the original cluster's ITL; the cluster then regenerated CallManager (and
/// TVS when `regenerate_tvs`) and the capture shows the new ITL, the new config and a TVS
/// session made by `session` from the TVS certificate of the new ITL. Returns the phone's
/// (old) ITL and the evidence.
fn after_regeneration(
    regenerate_tvs: bool,
    session: impl FnOnce(&Cert) -> TlsSession,
) -> (Vec<u8>, Evidence) {
    let c = original();
    let old_itl = itl(&c.callmanager, &c.tvs);
    let new_cm = callmanager_regenerated();
    let tvs = if regenerate_tvs {
        tvs_regenerated()
    } else {
        c.tvs
    };
    let ev = boot(
        PHONE,
        MAC,
        &itl(&new_cm, &tvs),
        &config(&new_cm),
        session(&tvs),
    );
    (old_itl, ev)
}

fn facts(phone_itl: Option<&[u8]>, status: PhoneStatus, backup: KeyBackup) -> OperatorFacts {
    OperatorFacts {
        phone_itl: phone_itl.map(|b| PhoneItlFile {
            name: "phone.tlv".into(),
            bytes: b.to_vec(),
        }),
        phone_itl_hash: None,
        phone_status: status,
        key_backup: backup,
        ..OperatorFacts::default()
    }
}

fn conditions(p: &PhoneDiagnosis) -> [Option<bool>; 4] {
    p.verdict.conditions.named().map(|(_, c)| c.value)
}

fn status(p: &PhoneDiagnosis, id: &str) -> Status {
    p.checks.iter().find(|c| c.id == id).expect(id).status
}

#[test]
fn healthy_boot() {
    let c = original();
    let itl_bytes = itl(&c.callmanager, &c.tvs);
    let ev = boot(
        PHONE,
        MAC,
        &itl_bytes,
        &config(&c.callmanager),
        tvs_session(PHONE, Some(&c.tvs), false, false),
    );
    let md5 = hex::encode(md5::Md5::digest(&itl_bytes));
    let mut f = facts(None, PhoneStatus::Ok, KeyBackup::Unknown);
    f.phone_itl_hash = Some(ItlHash::parse(&md5).unwrap());
    let d = diagnose(&ev, &f);
    let p = &d.phones[0];
    assert_eq!(p.mac.as_deref(), Some(MAC));
    assert_eq!(conditions(p), [Some(false), Some(false), Some(false), None]);
    assert_eq!(p.verdict.delete_itl, DeleteItl::NotRequired);
    for id in [
        "served-itl",
        "config",
        "tvs-certificate",
        "installed-itl",
        "trust-path",
    ] {
        assert_eq!(
            status(p, id),
            Status::Pass,
            "{id}: {:?}",
            p.checks.iter().find(|c| c.id == id)
        );
    }
    let signer = p.served_itl.as_ref().unwrap().signer.clone().unwrap();
    assert!(signer.contains("SAST"), "{signer}");
}

#[test]
fn callmanager_regenerated_tvs_unchanged() {
    let (old_itl, ev) =
        after_regeneration(false, |tvs| tvs_session(PHONE, Some(tvs), false, false));
    for (status_opt, backup) in [
        (PhoneStatus::Failed, KeyBackup::No),
        (PhoneStatus::Unknown, KeyBackup::Unknown),
        (PhoneStatus::Ok, KeyBackup::Yes),
    ] {
        let d = diagnose(&ev, &facts(Some(&old_itl), status_opt, backup));
        let p = &d.phones[0];
        assert_eq!(p.verdict.conditions.itl_differs.value, Some(true));
        assert_eq!(p.verdict.conditions.tvs_cert_mismatch.value, Some(false));
        assert_eq!(p.verdict.delete_itl, DeleteItl::NotRequired);
        let path = p.trust_path.as_ref().unwrap();
        // Only through TVS, and what TVS answered is encrypted: only the phone's own word
        // (no failure shown) says TVS vouched.
        if status_opt == PhoneStatus::Ok {
            assert_eq!(path.itl.acceptance, Acceptance::Accepted);
            assert_eq!(path.itl.via, Some("via-tvs"));
            assert_eq!(path.config.acceptance, Acceptance::Accepted);
        } else {
            assert_eq!(path.itl.acceptance, Acceptance::Undetermined);
            assert_eq!(path.itl.via, None);
            assert!(
                path.itl.explanation.contains("encrypted"),
                "{}",
                path.itl.explanation
            );
        }
    }
}

#[test]
fn callmanager_and_tvs_regenerated_phone_rejects_tvs() {
    let (old_itl, ev) = after_regeneration(true, |tvs| tvs_session(PHONE, Some(tvs), true, false));
    let cases = [
        (
            PhoneStatus::Failed,
            KeyBackup::No,
            [Some(true); 4],
            DeleteItl::Required,
        ),
        (
            PhoneStatus::Failed,
            KeyBackup::Yes,
            [Some(true), Some(true), Some(true), Some(false)],
            DeleteItl::NotRequired,
        ),
        // --phone-status ok against a trust path the wire shows rejected: a conflict, so
        // condition 3 is unknown (issue 18 item 10), never "nothing to do".
        (
            PhoneStatus::Ok,
            KeyBackup::No,
            [Some(true), Some(true), None, Some(true)],
            DeleteItl::Undetermined,
        ),
        (
            PhoneStatus::Unknown,
            KeyBackup::No,
            [Some(true), Some(true), None, Some(true)],
            DeleteItl::Undetermined,
        ),
    ];
    for (s, b, expected, verdict) in cases {
        let p = &diagnose(&ev, &facts(Some(&old_itl), s, b)).phones[0];
        assert_eq!(conditions(p), expected, "{s:?} {b:?}");
        assert_eq!(p.verdict.delete_itl, verdict, "{s:?} {b:?}");
        let path = p.trust_path.as_ref().unwrap();
        assert_eq!(
            path.itl.acceptance,
            Acceptance::Rejected,
            "{}",
            path.itl.explanation
        );
        assert_eq!(
            path.config.acceptance,
            Acceptance::Rejected,
            "{}",
            path.config.explanation
        );
    }
    // Without --phone-itl the served ITL is not taken for the phone's (statement 21): the
    // phone rejecting TVS's certificate decides condition 2 (issue 18 item 2).
    let p = &diagnose(&ev, &facts(None, PhoneStatus::Failed, KeyBackup::No)).phones[0];
    assert_eq!(p.verdict.conditions.tvs_cert_mismatch.value, Some(true));
    assert_eq!(p.verdict.delete_itl, DeleteItl::Undetermined);
    assert_eq!(p.verdict.conditions.itl_differs.value, None);
}

#[test]
fn tls13_tvs() {
    let (old_itl, ev) = after_regeneration(false, |_| tvs_session(PHONE, None, false, true));
    let p = &diagnose(
        &ev,
        &facts(Some(&old_itl), PhoneStatus::Failed, KeyBackup::No),
    )
    .phones[0];
    // TLS 1.3 with application data both ways: the phone trusts TVS (statement 12), so
    // condition 2 is false although the certificate is encrypted (issue 18 item 8).
    assert_eq!(
        conditions(p),
        [Some(true), Some(false), Some(true), Some(true)]
    );
    assert_eq!(p.verdict.delete_itl, DeleteItl::NotRequired);
    assert_eq!(
        p.trust_path.as_ref().unwrap().itl.acceptance,
        Acceptance::Undetermined
    );
}

#[test]
fn two_phones_in_one_capture() {
    let c = original();
    let itl_bytes = itl(&c.callmanager, &c.tvs);
    let cfg = config(&c.callmanager);
    let new_tvs = tvs_regenerated();
    let mut ev = boot(
        PHONE,
        MAC,
        &itl_bytes,
        &cfg,
        tvs_session(PHONE, Some(&c.tvs), false, false),
    );
    let other = boot(
        "10.10.0.22",
        "0011223344BB",
        &itl_bytes,
        &cfg,
        tvs_session("10.10.0.22", Some(&new_tvs), true, false),
    );
    ev.files.extend(other.files);
    ev.tls.extend(other.tls);
    let d = diagnose(&ev, &facts(None, PhoneStatus::Failed, KeyBackup::No));
    assert_eq!(d.phones.len(), 2);
    assert_eq!(d.phones[0].mac.as_deref(), Some(MAC));
    assert_eq!(d.phones[1].mac.as_deref(), Some("0011223344BB"));
    assert_eq!(
        d.phones[0].verdict.conditions.tvs_cert_mismatch.value,
        Some(false)
    );
    assert_eq!(
        d.phones[1].verdict.conditions.tvs_cert_mismatch.value,
        Some(true)
    );
    assert_eq!(d.phones[0].verdict.delete_itl, DeleteItl::NotRequired);
    assert_eq!(d.phones[1].verdict.delete_itl, DeleteItl::Undetermined);
    // Unscoped inputs apply to none of several phones (issue 18 item 10): one phone's
    // status never decides another's verdict.
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("apply to none of the 2 phones")),
        "{:?}",
        d.notes
    );
    for p in &d.phones {
        assert_eq!(p.verdict.conditions.phone_verification_failed.value, None);
    }
    // Named, each phone gets its own.
    let mut f = facts(None, PhoneStatus::Unknown, KeyBackup::No);
    f.scoped.push(ScopedInputs {
        mac: "0011223344BB".into(),
        phone_status: PhoneStatus::Failed,
        ..ScopedInputs::default()
    });
    let d = diagnose(&ev, &f);
    assert_eq!(
        d.phones[0]
            .verdict
            .conditions
            .phone_verification_failed
            .value,
        None
    );
    assert_eq!(
        d.phones[1]
            .verdict
            .conditions
            .phone_verification_failed
            .value,
        Some(true)
    );
}

#[test]
fn tampered_itl_and_rollback_itl() {
    let c = original();
    let mut bytes = itl(&c.callmanager, &c.tvs);
    let last = bytes.len() - 10;
    bytes[last] ^= 0x01;
    let ev = boot(
        PHONE,
        MAC,
        &bytes,
        &config(&c.callmanager),
        tvs_session(PHONE, Some(&c.tvs), false, false),
    );
    let p = &diagnose(&ev, &OperatorFacts::default()).phones[0];
    assert_eq!(status(p, "served-itl"), Status::Fail);

    let rollback =
        itlscope_gen::trustlist::rollback_itl(&itlscope_gen::pki::ClusterCerts::new(HOST));
    let ev = boot(
        PHONE,
        MAC,
        &rollback,
        &config(&c.callmanager),
        tvs_session(PHONE, Some(&c.tvs), false, false),
    );
    let p = &diagnose(&ev, &OperatorFacts::default()).phones[0];
    assert!(p.served_itl.as_ref().unwrap().rollback);
    let content = p
        .checks
        .iter()
        .find(|c| c.id == "served-itl-content")
        .unwrap();
    assert!(content.flags.contains(&"rollback-itl"));
    assert_ne!(status(p, "served-itl"), Status::Fail);
}

/// Issue 18 item 10: a `--phone-itl` whose own signature fails (a damaged or edited copy) is
/// shown, not believed: the conditions it would decide are unknown and nothing is required.
#[test]
fn a_phone_itl_with_a_bad_signature_is_not_believed() {
    let (old_itl, ev) = after_regeneration(true, |tvs| tvs_session(PHONE, Some(tvs), true, false));
    let mut damaged = old_itl.clone();
    let last = damaged.len() - 10;
    damaged[last] ^= 0x01;
    let good = &diagnose(
        &ev,
        &facts(Some(&old_itl), PhoneStatus::Failed, KeyBackup::No),
    )
    .phones[0];
    assert_eq!(good.verdict.conditions.itl_differs.value, Some(true));
    let p = &diagnose(
        &ev,
        &facts(Some(&damaged), PhoneStatus::Failed, KeyBackup::No),
    )
    .phones[0];
    assert_eq!(p.verdict.conditions.itl_differs.value, None);
    let why = &p.verdict.conditions.itl_differs.explanation;
    assert!(why.contains("own signature does not verify"), "{why}");
    assert_ne!(p.verdict.delete_itl, DeleteItl::Required);
    assert!(
        p.verdict
            .recovery
            .paths
            .iter()
            .find(|r| r.id == "itl-recovery")
            .is_some_and(|r| r.state != itlscope::trust::recovery::PathState::Closed)
    );
}

#[test]
fn reports_render() {
    let (old_itl, ev) = after_regeneration(true, |tvs| tvs_session(PHONE, Some(tvs), true, false));
    let f = facts(Some(&old_itl), PhoneStatus::Failed, KeyBackup::No);
    let json: serde_json::Value =
        serde_json::from_str(&run_analyze(&ev, &f, OutputFormat::Json)).unwrap();
    assert_eq!(json["phones"][0]["verdict"]["delete_itl"], "required");
    assert_eq!(json["phones"][0]["mac"], MAC);
    let text = run_analyze(&ev, &f, OutputFormat::Text);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.ends_with("DELETE THE ITL  all four conditions hold, no recovery path open"),
        "{first}"
    );
    // `ITLSCOPE_SHOW_REPORT=1 cargo test --test diagnosis_scenarios reports_render -- --nocapture`
    // prints the example shown in docs/report.md.
    if std::env::var_os("ITLSCOPE_SHOW_REPORT").is_some() {
        println!("{text}");
    }
}
