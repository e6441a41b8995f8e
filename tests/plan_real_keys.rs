//! `plan` simulates files that do not exist yet symbolically; here the same changes are made
//! for real with the generator's committed keys (real ITLs and signed configs, RSA-verified by
//! the tool's one trust decision), and the symbolic prediction must match.

use itlscope::cisco::trustlist::parse_trust_list;
use itlscope::cisco::{ParsedFile, parse_any};
use itlscope::plan::cluster::{CertId, PlannedTvs};
use itlscope::plan::{Change, PhoneItl, PopulationId, Recovery, cluster::Role, plan};
use itlscope::trust::{Acceptance, Held, Kind, Offered, RsaVerifier, decide};
use itlscope_gen::pki::{CertSpec, KeyName};
use itlscope_gen::scenarios::cluster::{Cluster, ItlSigner};
use itlscope_gen::scenarios::phone::Phone;

const HOST: &str = "cucm-pub.example.com";

fn cluster(signer: ItlSigner) -> Cluster {
    Cluster::new(HOST, "198.51.100.10", signer)
}

fn new_itl_recovery(c: Cluster) -> Cluster {
    c.with_itl_recovery(
        CertSpec::itl_recovery(HOST)
            .with_key(KeyName::Rsa4096)
            .with_serial(&[0x5e, 0x01, 0x02, 0x03])
            .self_signed(),
    )
}

/// (acceptance, route) of the real next ITL and config, as a phone holding `before`'s ITL
/// judges them, TVS being `after`'s (it vouches for its own signers).
fn real(before: &Cluster, after: &Cluster) -> [(Acceptance, Option<&'static str>); 2] {
    real_with_tvs(before, after, after, &[])
}

/// The same, TVS being `tvs_of`'s, vouching for its own signers and for `imported` (what
/// Bulk Certificate Management gave it).
fn real_with_tvs(
    before: &Cluster,
    after: &Cluster,
    tvs_of: &Cluster,
    imported: &[&Cluster],
) -> [(Acceptance, Option<&'static str>); 2] {
    let phone = Phone::cp8845(0x22, "192.0.2.22");
    let held_bytes = before.itl();
    let next_bytes = after.itl();
    let config_bytes = after.config_sgn(&phone, false, 0);
    let held = parse_trust_list(&held_bytes).expect("before ITL");
    let next = parse_trust_list(&next_bytes).expect("after ITL");
    let Ok(ParsedFile::Signed(config)) = parse_any(&config_bytes) else {
        panic!("config parses");
    };
    let id = |der: &[u8]| CertId::from_der(der).expect("certificate");
    let tvs = [id(&tvs_of.certs.tvs.der)];
    let cm = id(&after.certs.callmanager.der);
    let recovery = id(&after.certs.itl_recovery.der);
    let mut known: Vec<CertId> = std::iter::once(tvs_of)
        .chain(imported.iter().copied())
        .flat_map(|c| [id(&c.certs.callmanager.der), id(&c.certs.itl_recovery.der)])
        .collect();
    known.dedup();
    let knows = || known.iter().collect::<Vec<_>>();
    let signer = match after.signer {
        ItlSigner::CallManager => &cm,
        ItlSigner::ItlRecovery => &recovery,
    };
    let label = "the phone's ITL";
    let itl = decide(
        &Held::List { list: &held, label },
        &Offered {
            bytes: &next_bytes,
            header: &next.header,
            kind: Kind::TrustList,
            what: "the next ITL",
        },
        &RsaVerifier,
        &PlannedTvs {
            presents: &tvs,
            knows: knows(),
            signer,
        },
    );
    let effective = if itl.acceptance == Acceptance::Accepted {
        &next
    } else {
        &held
    };
    let config = decide(
        &Held::List {
            list: effective,
            label,
        },
        &Offered {
            bytes: &config_bytes,
            header: &config.header,
            kind: Kind::Config,
            what: "the signed config",
        },
        &RsaVerifier,
        &PlannedTvs {
            presents: &tvs,
            knows: knows(),
            signer: &cm,
        },
    );
    [
        (itl.acceptance, itl.route.map(|r| r.as_str())),
        (config.acceptance, config.route.map(|r| r.as_str())),
    ]
}

/// The same from `plan`, as requested (one step).
fn planned(before: &Cluster, changes: &[Change]) -> [(String, Option<String>); 2] {
    let bytes = before.itl();
    let held = parse_trust_list(&bytes).expect("before ITL");
    let report = plan(&PhoneItl::from_file("before.tlv", &held), changes).expect("plan");
    let step = &report.as_requested.steps[0];
    [
        (
            step.itl.acceptance.as_str().to_owned(),
            step.itl.via().map(str::to_owned),
        ),
        (
            step.config.acceptance.as_str().to_owned(),
            step.config.via().map(str::to_owned),
        ),
    ]
}

fn assert_same(name: &str, before: Cluster, after: Cluster, changes: &[Change]) {
    let real = real(&before, &after).map(|(a, v)| (a.as_str().to_owned(), v.map(str::to_owned)));
    let planned = planned(&before, changes);
    assert_eq!(planned, real, "{name}: plan vs real keys");
}

#[test]
fn symbolic_plan_matches_real_signatures() {
    use Change::Regenerate;
    use ItlSigner::{CallManager as Cm11, ItlRecovery as Cm12};
    let cases: Vec<(&str, Cluster, Cluster, Vec<Change>)> = vec![
        (
            "11.5 CallManager",
            cluster(Cm11),
            cluster(Cm11).regenerate_callmanager(),
            vec![Regenerate(Role::CallManager)],
        ),
        (
            "11.5 TVS",
            cluster(Cm11),
            cluster(Cm11).regenerate_tvs(),
            vec![Regenerate(Role::Tvs)],
        ),
        (
            "11.5 CallManager and TVS",
            cluster(Cm11),
            cluster(Cm11).regenerate_callmanager().regenerate_tvs(),
            vec![Regenerate(Role::CallManager), Regenerate(Role::Tvs)],
        ),
        (
            "12.5 CallManager and TVS",
            cluster(Cm12),
            cluster(Cm12).regenerate_callmanager().regenerate_tvs(),
            vec![Regenerate(Role::CallManager), Regenerate(Role::Tvs)],
        ),
        (
            "12.5 ITLRecovery",
            cluster(Cm12),
            new_itl_recovery(cluster(Cm12)),
            vec![Regenerate(Role::ItlRecovery)],
        ),
        (
            "12.5 ITLRecovery and TVS",
            cluster(Cm12),
            new_itl_recovery(cluster(Cm12)).regenerate_tvs(),
            vec![Regenerate(Role::ItlRecovery), Regenerate(Role::Tvs)],
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (name, before, after, changes) in cases {
        seen.insert(planned(&before, &changes)[0].clone());
        assert_same(name, before, after, &changes);
    }
    // The cases cover every answer: directly, through TVS, and not at all.
    assert!(seen.len() >= 3, "{seen:?}");
}

#[test]
fn replacing_by_a_certificate_file_uses_its_key() {
    // CallManager replaced by a real certificate (11.5): the same as the real regeneration.
    let after = cluster(ItlSigner::CallManager).regenerate_callmanager();
    let cert = CertId::from_der(&after.certs.callmanager.der).expect("certificate");
    assert_same(
        "11.5 CallManager replaced",
        cluster(ItlSigner::CallManager),
        after,
        &[Change::Replace(Role::CallManager, cert)],
    );
}

#[test]
fn safe_order_splits_callmanager_and_tvs_on_11_5() {
    let bytes = cluster(ItlSigner::CallManager).itl();
    let held = parse_trust_list(&bytes).expect("ITL");
    let report = plan(
        &PhoneItl::from_file("before.tlv", &held),
        &[
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ],
    )
    .expect("plan");
    assert!(!report.as_requested.safe);
    // Recoverable: the phones' ITL holds ITLRecovery, which utils itl reset signs with.
    assert_eq!(
        report.as_requested.steps[0].recovery,
        Some(Recovery::ItlReset)
    );
    let safe = report.safe_order.expect("a safe order");
    assert_eq!(safe.steps.len(), 2);
    assert!(safe.steps.iter().all(|s| !s.stranded));
    // The first step is taken through TVS: TVS must stay as it is until every phone has it.
    let wait = safe.steps[0].wait.as_deref().unwrap_or("");
    assert!(
        wait.contains("keeping the TVS certificate of") && wait.contains("unchanged until then"),
        "{wait}"
    );
    assert!(safe.steps[1].wait.is_none());
    // Phones offline through both steps meet a new signer and a new TVS at once.
    let offline = report
        .populations
        .iter()
        .find(|p| p.id == PopulationId::Offline)
        .expect("offline population");
    assert_eq!(offline.itl.acceptance, Acceptance::Rejected);
}

#[test]
fn hostname_change_is_made_safe_by_rollback_around_it() {
    let bytes = cluster(ItlSigner::ItlRecovery).itl();
    let held = parse_trust_list(&bytes).expect("ITL");
    let report = plan(
        &PhoneItl::from_file("before.tlv", &held),
        &[Change::Hostname("cucm-a.example.com".into())],
    )
    .expect("plan");
    assert!(!report.as_requested.safe);
    assert_eq!(report.manual_deletion_steps.len(), 1);
    let safe = report.safe_order.expect("a safe order");
    let actions: Vec<&str> = safe.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(actions[0].contains("Prepare Cluster for Rollback"));
    assert_eq!(safe.steps[1].itl.via(), Some("rollback-itl"));
}

/// Acceptance and route of every step and population, the part of a plan that must not
/// depend on how the phones' ITL was given.
fn outcomes(r: &itlscope::plan::PlanReport) -> Vec<String> {
    let fate = |f: &itlscope::plan::Fate| format!("{} {:?}", f.acceptance.as_str(), f.via());
    let mut out = Vec::new();
    for seq in std::iter::once(&r.as_requested).chain(r.safe_order.as_ref()) {
        for s in &seq.steps {
            out.push(format!(
                "{}: {} / {} / {:?}",
                s.action,
                fate(&s.itl),
                fate(&s.config),
                s.recovery
            ));
        }
    }
    for p in &r.populations {
        out.push(format!(
            "{}: {} / {} / {:?}",
            p.id.as_str(),
            fate(&p.itl),
            fate(&p.config),
            p.recovery
        ));
    }
    out
}

#[test]
fn show_itl_text_gives_the_same_plan_as_the_itl_file() {
    use itlscope::plan::show_itl;
    use itlscope_gen::scenarios::sidecar::show_itl as cucm_show_itl;
    let changes: Vec<Vec<Change>> = vec![
        vec![Change::Regenerate(Role::CallManager)],
        vec![Change::Regenerate(Role::Tvs)],
        vec![
            Change::Regenerate(Role::CallManager),
            Change::Regenerate(Role::Tvs),
        ],
        vec![
            Change::Regenerate(Role::ItlRecovery),
            Change::Regenerate(Role::Tvs),
        ],
        vec![Change::Hostname("cucm-a.example.com".into())],
    ];
    let mut compared = 0;
    for signer in [ItlSigner::CallManager, ItlSigner::ItlRecovery] {
        let c = cluster(signer);
        let bytes = c.itl();
        let file_list = parse_trust_list(&bytes).expect("ITL");
        let text = cucm_show_itl(&c);
        let shown = show_itl::parse(&text, "show-itl.txt").expect("show itl text");
        assert_eq!(shown.kind, "ITL");
        let text_list = shown.list.view();
        let from_text = PhoneItl {
            file: "show-itl.txt",
            source: itlscope::plan::ItlSource::ShowItl,
            sha1: shown.sha1.clone(),
            list: &text_list,
        };
        let from_file = PhoneItl::from_file("ITLFile.tlv", &file_list);
        // CUCM prints the SHA-1 of the file it serves.
        assert_eq!(from_text.sha1, from_file.sha1, "{signer:?}");
        for change in &changes {
            let a = plan(&from_file, change).expect("plan from the file");
            let b = plan(&from_text, change).expect("plan from show itl");
            assert_eq!(
                a.phone_itl.signer, b.phone_itl.signer,
                "{signer:?} {change:?}"
            );
            assert_eq!(outcomes(&a), outcomes(&b), "{signer:?} {change:?}");
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
}

#[test]
fn show_itl_text_without_a_signer_is_refused() {
    use itlscope::plan::show_itl;
    let text = itlscope_gen::scenarios::sidecar::show_itl(&cluster(ItlSigner::ItlRecovery))
        .replace(
            "This etoken was used to sign",
            "This etoken was not used to sign",
        );
    let e = show_itl::parse(&text, "x.txt").expect_err("no signer");
    assert!(e.contains("which key signs"), "{e}");
}

#[test]
fn show_itl_text_without_certificate_hashes_is_refused() {
    // Records without a certificate SHA-1 would read like a rollback ITL's empty records,
    // which accept anything: refused rather than guessed.
    use itlscope::plan::show_itl;
    let text: String = itlscope_gen::scenarios::sidecar::show_itl(&cluster(ItlSigner::ItlRecovery))
        .lines()
        .filter(|l| !l.contains("CERTIFICATE") && !l.contains("CERTHASH"))
        .map(|l| format!("{l}\n"))
        .collect();
    let e = show_itl::parse(&text, "x.txt").expect_err("no hashes");
    assert!(e.contains("certificate SHA-1"), "{e}");
}

#[test]
fn cluster_move_matches_real_signatures_with_and_without_bulk_import() {
    let home = cluster(ItlSigner::ItlRecovery);
    let mut target = Cluster::new(
        "cucm-b.example.net",
        "198.51.100.20",
        ItlSigner::ItlRecovery,
    );
    target.certs.callmanager = CertSpec::callmanager("cucm-b.example.net")
        .with_key(KeyName::OtherCluster)
        .with_serial(&[0x51, 0xb0, 0x0c, 0x33])
        .self_signed();
    target.certs.itl_recovery = CertSpec::itl_recovery("cucm-b.example.net")
        .with_key(KeyName::Rsa1024)
        .with_serial(&[0x53, 0xb0, 0x21, 0xfe])
        .self_signed();
    target.certs.tvs = CertSpec::tvs("cucm-b.example.net")
        .with_key(KeyName::Rsa4096)
        .with_serial(&[0x52, 0xb0, 0x77, 0x01])
        .self_signed();
    let held_bytes = home.itl();
    let held = parse_trust_list(&held_bytes).expect("home ITL");
    let target_bytes = target.itl();
    let target_list = parse_trust_list(&target_bytes).expect("target ITL");
    let moved = itlscope::plan::cluster::Cluster::from_trust_list(&target_list, 1).expect("target");
    let report = plan(
        &PhoneItl::from_file("home.tlv", &held),
        &[Change::MoveTo(Box::new(moved))],
    )
    .expect("plan");
    let fates = |s: &itlscope::plan::StepOutcome| {
        [
            (s.itl.acceptance, s.itl.via()),
            (s.config.acceptance, s.config.via()),
        ]
    };
    // Unprepared: the old TVS (home) knows only its own signers.
    let unprepared = real_with_tvs(&home, &target, &home, &[]);
    assert_eq!(
        fates(&report.as_requested.steps[0]),
        unprepared,
        "unprepared move"
    );
    assert_eq!(unprepared[0].0, Acceptance::Rejected);
    // Bulk Certificate Management first: the old TVS vouches for the target's signers.
    let safe = report.safe_order.as_ref().expect("a safe order");
    assert!(safe.steps[0].action.contains("Bulk Certificate Management"));
    let prepared = real_with_tvs(&home, &target, &home, &[&target]);
    assert_eq!(fates(&safe.steps[1]), prepared, "move after bulk import");
    assert_eq!(prepared[0], (Acceptance::Accepted, Some("via-tvs")));
    // The unprepared move strands the phones, but the old cluster's TVS, which they still
    // trust and ask, can be taught the new signer afterwards (statement 25): Bulk Certificate
    // Management recovers them, no manual ITL deletion (as `analyze` finds for
    // moved-cluster-unprepared).
    let stranded = &report.as_requested.steps[0];
    assert!(stranded.stranded);
    assert_eq!(
        stranded.recovery,
        Some(itlscope::plan::Recovery::BulkImport)
    );
    assert!(report.manual_deletion_steps.is_empty());
}

#[test]
fn phones_offline_during_a_prepared_move_still_get_the_old_tvs_vouching() {
    // After Bulk Certificate Management the old cluster's TVS knows the target's signers, so
    // phones that come back after the move are vouched for too (not only online ones).
    let home = cluster(ItlSigner::ItlRecovery);
    let mut target = Cluster::new(
        "cucm-b.example.net",
        "198.51.100.20",
        ItlSigner::ItlRecovery,
    );
    target.certs.itl_recovery = CertSpec::itl_recovery("cucm-b.example.net")
        .with_key(KeyName::Rsa1024)
        .with_serial(&[0x53, 0xb0, 0x21, 0xfe])
        .self_signed();
    target.certs.callmanager = CertSpec::callmanager("cucm-b.example.net")
        .with_key(KeyName::OtherCluster)
        .with_serial(&[0x51, 0xb0, 0x0c, 0x33])
        .self_signed();
    let held_bytes = home.itl();
    let held = parse_trust_list(&held_bytes).expect("home ITL");
    let target_bytes = target.itl();
    let target_list = parse_trust_list(&target_bytes).expect("target ITL");
    let moved = itlscope::plan::cluster::Cluster::from_trust_list(&target_list, 1).expect("target");
    let report = plan(
        &PhoneItl::from_file("home.tlv", &held),
        &[Change::MoveTo(Box::new(moved))],
    )
    .expect("plan");
    let offline = report
        .populations
        .iter()
        .find(|p| p.id == PopulationId::Offline)
        .expect("offline population");
    assert_eq!(
        offline.itl.via(),
        Some("via-tvs"),
        "{}",
        offline.itl.explanation
    );
    assert!(offline.description.contains("TVS of their old cluster"));
    // Real signatures, the old TVS knowing the imported signers, agree.
    let real = real_with_tvs(&home, &target, &home, &[&target]);
    assert_eq!((offline.itl.acceptance, offline.itl.via()), real[0]);
}
