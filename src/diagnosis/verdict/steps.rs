//! The next steps of a phone: one rule per situation, in a table ([`STEP_RULES`]), each
//! adding the steps it calls for with why.

use super::conditions::{decide, mixed_mode};
use super::tvs_condition::{TvsFinding, listed, trusted_tvs};
use crate::diagnosis::context::{Installed, PhoneCtx};
use crate::diagnosis::model::{
    Acceptance, Check, Condition, Conditions, DeleteItl, NextStep, TrustPath,
};
use crate::diagnosis::trust_path::signer_relation;
use crate::evidence::TlsSession;
use crate::trust::recovery::{PathState, RecoveryPath};
use crate::trust::tvs::TvsNode;

/// `name = true|false|unknown`, for a step's `because`.
fn cond(name: &str, c: &Condition) -> String {
    let value = match c.value {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    format!("{name} = {value}")
}

/// `check-id: flag` of the first check carrying `flag`.
fn flagged(checks: &[Check], flag: &str) -> Option<String> {
    checks
        .iter()
        .find(|c| c.flags.contains(&flag))
        .map(|c| format!("{}: {flag}", c.id))
}

/// The next steps being built: each added once, with why.
#[derive(Default)]
struct Steps(Vec<NextStep>);

impl Steps {
    fn add(&mut self, id: &'static str, because: Vec<String>, text: impl Into<String>) {
        if self.0.iter().any(|s| s.id == id) {
            return;
        }
        self.0.push(NextStep {
            id,
            text: text.into(),
            because,
        });
    }
}

fn version_names(versions: &[u16]) -> String {
    let names: Vec<String> = versions
        .iter()
        .map(|v| crate::evidence::tls_version_name(*v))
        .collect();
    if names.is_empty() {
        "no version seen".into()
    } else {
        names.join(", ")
    }
}

/// Steps for problems the capture shows that deleting the ITL does not fix: they come
/// first, whatever the verdict.
fn service_steps(
    steps: &mut Steps,
    ctx: &PhoneCtx<'_>,
    checks: &[Check],
    tvs: TvsFinding<'_>,
    nodes: &[TvsNode<'_>],
) {
    if let Some(check) = checks.iter().find(|c| {
        c.id == "cucm-itl-csctn50405" && c.status == crate::diagnosis::model::Status::Fail
    }) {
        let next = crate::diagnosis::outside::CSCTN50405_NEXT_STEP;
        let mut text = next.to_string();
        if let Some(first) = text.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        steps.add(
            "csctn50405",
            vec![format!("{}: fail (statement 27)", check.id)],
            format!("{text}."),
        );
    }
    if let Some(stale) = stale_served_itl(ctx, nodes) {
        steps.add(
            "restart-tftp-tvs",
            vec![stale.clone()],
            format!(
                "Restart the Cisco TFTP and Cisco Trust Verification Service on every node, then reset the phones (statement 23): {stale}, so the TFTP server still serves an ITL built before TVS's certificate changed. Deleting the ITL would make the phone take that stale ITL, which does not trust TVS either."
            ),
        );
    }
    if let Some(f) = flagged(checks, "tvs-unreachable") {
        steps.add(
            "restore-tvs-reachability",
            vec![f],
            "Restore TVS reachability: check the Cisco Trust Verification Service and TCP 2445 from the phone to each CUCM node in its group; an unreachable TVS is a service problem and deleting the ITL does not fix it.",
        );
    }
    if let TvsFinding::ServerRefused(s, alert) = tvs {
        steps.add(
            "tvs-tls-version",
            vec![
                format!("tvs-reachability: TVS sent fatal {} before its certificate", alert.describe()),
                "tvs_cert_mismatch = unknown".into(),
            ],
            format!(
                "Fix the TLS version or cipher mismatch with TVS {}: it answered the phone's ClientHello with a fatal {} ({}; the phone offered {}), which is a protocol mismatch, not a certificate problem, and deleting the ITL does not fix it. Compare the TLS minimum on each CUCM node (`show tls min-version`, raised with `set tls min-version` since 11.5(1)SU3; on CUCM 15 SU2 and later TVS also speaks TLS 1.3, and a 1.3 minimum locks out firmware without it) with what this phone's firmware offers: lower the minimum or upgrade the firmware.",
                s.server,
                alert.describe(),
                ctx.at(alert.seen),
                version_names(&s.offered_versions)
            ),
        );
    }
    if let TvsFinding::Tls13 = tvs {
        let mut because = vec!["tvs_cert_mismatch = unknown".to_string()];
        because.extend(flagged(checks, "tls13-tvs"));
        steps.add(
            "compare-tvs-by-hand",
            because,
            format!(
                "TVS speaks TLS 1.3 (CUCM 15 SU2 or later with a TLS 1.3 phone), so its certificate is encrypted on the wire: compare the TVS record serial of {} (`itlscope show`, or `show itl` on CUCM) with `show cert own TVS` on each node by hand.",
                ctx.installed_file
                    .map(|f| format!("the phone's ITL {}", f.name))
                    .unwrap_or_else(|| "the phone's ITL".into())
            ),
        );
    }
    if let Some(f) = flagged(checks, "itl-over-64k") {
        steps.add(
            "shrink-itl",
            vec![f],
            "Shrink the ITL below 64 KB (fewer certificates in the cluster's trust stores); an oversized ITL fails to load and deleting it on the phone does not help.",
        );
    }
    let broken: Vec<String> = flagged(checks, "bad-signature")
        .into_iter()
        .chain(flagged(checks, "unparseable"))
        .collect();
    if !broken.is_empty() {
        steps.add(
            "rebuild-trust-list",
            broken,
            "The TFTP server serves a broken trust list: restart the Cisco TFTP service so it rebuilds the ITL/CTL, and check the CallManager/ITLRecovery certificates; phones keep their old ITL meanwhile.",
        );
    }
    let validity: Vec<String> = flagged(checks, "certificate-expired")
        .into_iter()
        .chain(flagged(checks, "certificate-not-yet-valid"))
        .collect();
    if !validity.is_empty() {
        steps.add(
            "renew-certificates",
            validity,
            "Renew the expired or not-yet-valid certificate(s) on CUCM one at a time (never CallManager and TVS together), letting the phones re-download the ITL in between.",
        );
    }
}

/// The file given as the phone's ITL lacks the certificate of a TVS the phone trusts.
fn check_phone_itl_step(steps: &mut Steps, ctx: &PhoneCtx<'_>, c: &Conditions, s: &TlsSession) {
    steps.add(
        "check-phone-itl",
        vec![
            cond("tvs_cert_mismatch", &c.tvs_cert_mismatch),
            format!("TVS {} handshake completed ({})", s.server, ctx.at(s.last)),
        ],
        format!(
            "Check the --phone-itl file: the phone completed the TVS handshake with {}, whose certificate the file does not list, so the file is not the ITL this phone holds. Read the ITL hash on the phone (--phone-itl-hash) or take this phone's own ITLSEP<MAC>.tlv.",
            s.server
        ),
    );
}

/// The step that takes an open recovery path.
fn recovery_step(steps: &mut Steps, p: &RecoveryPath) {
    let because = vec![format!("recovery path {}: open ({})", p.id, p.explanation)];
    match p.id {
        "itl-recovery" => steps.add(
            "utils-itl-reset",
            because,
            "Run `utils itl reset localkey` on the publisher (CUCM 10.0+): the reset ITL is signed with the ITLRecovery key the phone's ITL still holds, so the phone accepts it; restart Cisco TFTP and TVS, then reset the phones (twice) so they take the reset ITL and then the new one. No ITL deletion is needed.",
        ),
        "ctl" => steps.add(
            "rerun-ctl-client",
            because,
            "Mixed mode: update the CTL so it lists the new CallManager certificate, signed by a key the phone's CTL trusts: re-run the CTL client with the same eToken (or `utils ctl update CTLFile` on a tokenless cluster), restart Cisco TFTP and TVS, then reset the phones; the CTL's CCM+TFTP then vouches for the new ITL (statements 7c, 30). No ITL deletion is needed.",
        ),
        "key-backup" => steps.add(
            "restore-tftp-key",
            because,
            "Restore the old CallManager (and ITLRecovery) certificate with its private key from the DRS backup, so the TFTP server signs with a key the phone's ITL holds; restart Cisco TFTP and TVS, then reset the phones. Take a new DRS backup afterwards.",
        ),
        _ => {}
    }
}

/// A TVS node presents a certificate that the served ITL lists under the same name but as
/// another certificate: the ITL was built before TVS was regenerated and TFTP was not
/// restarted (statement 23). Names the node and the record.
fn stale_served_itl(ctx: &PhoneCtx<'_>, nodes: &[TvsNode<'_>]) -> Option<String> {
    let served = ctx.served_itl_list()?;
    nodes.iter().find_map(|n| {
            let cert = n.certificate?;
            if listed(cert, served) {
                return None;
            }
            let subject = crate::diagnosis::trust::normalise_dn(&cert.subject);
            let record = crate::trust::records::tvs_records(served)
                .into_iter()
                .find(|&i| {
                    served.records[i].subject.is_some_and(|s| {
                        crate::diagnosis::trust::normalise_dn(&String::from_utf8_lossy(s)) == subject
                    })
                })?;
            Some(format!(
                "TVS {} presents {} (serial {}), but the served ITL's {} is another certificate of that name",
                n.server,
                cert.subject,
                cert.serial,
                crate::trust::records::describe_record(served, record)
            ))
        })
}

/// What the next steps of one phone are chosen from: the verdict's inputs and what is
/// derived from them once.
struct Situation<'s, 'e> {
    ctx: &'s PhoneCtx<'e>,
    nodes: &'s [TvsNode<'s>],
    conditions: &'s Conditions,
    recovery: &'s crate::diagnosis::model::Recovery,
    checks: &'s [Check],
    path: Option<&'s TrustPath>,
    tvs: &'s TvsFinding<'s>,
    decision: DeleteItl,
    /// How the served ITL's signer relates to the phone's ITL, when both are at hand.
    relation: Option<crate::diagnosis::trust_path::SignerRelation>,
    /// The phone says it failed to verify (condition 3 is yes).
    failed: bool,
    /// The phone fell back to ITLFile.tlv (the flag's evidence).
    fallback: Option<String>,
    /// The phone can take the served ITL only through TVS.
    via_tvs: bool,
}

/// One situation's steps: each looks at the situation and adds the steps it calls for.
type StepRule = fn(&Situation<'_, '_>, &mut Steps);

/// The situations in the order their steps are shown (a step already added is not added
/// again): services first, then open recovery paths, then TVS not vouching, then what the
/// decision calls for, then what holds whatever the decision.
const STEP_RULES: [StepRule; 8] = [
    service_problems,
    open_recovery_paths,
    tvs_does_not_vouch,
    by_decision,
    phone_itl_contradicted,
    itlfile_fallback,
    rollback_served,
    only_through_tvs,
];

/// The next steps of one phone: every rule of [`STEP_RULES`] in turn, on one [`Situation`].
pub(super) fn next_steps(
    ctx: &PhoneCtx<'_>,
    nodes: &[TvsNode<'_>],
    conditions: &Conditions,
    recovery: &crate::diagnosis::model::Recovery,
    checks: &[Check],
    path: Option<&TrustPath>,
    tvs: TvsFinding<'_>,
) -> Vec<NextStep> {
    let sit = Situation {
        ctx,
        nodes,
        conditions,
        recovery,
        checks,
        path,
        tvs: &tvs,
        decision: decide(conditions, recovery.no_recovery_path.value),
        relation: signer_relation(ctx),
        failed: conditions.phone_verification_failed.value == Some(true),
        fallback: flagged(checks, "itlfile-fallback"),
        via_tvs: path.is_some_and(|p| crate::diagnosis::trust_path::only_through_tvs(&p.itl)),
    };
    let mut steps = Steps::default();
    for rule in STEP_RULES {
        rule(&sit, &mut steps);
    }
    steps.0
}

/// Problems the capture shows that deleting the ITL does not fix (TVS down, TLS versions,
/// a stale served ITL…).
fn service_problems(sit: &Situation<'_, '_>, steps: &mut Steps) {
    service_steps(steps, sit.ctx, sit.checks, sit.tvs.clone(), sit.nodes);
}

/// What the decision itself calls for.
fn by_decision(sit: &Situation<'_, '_>, steps: &mut Steps) {
    match sit.decision {
        DeleteItl::Required => delete_required(sit, steps),
        DeleteItl::NotRequired => delete_not_required(sit, steps),
        DeleteItl::Undetermined => undetermined(sit, steps),
    }
}

/// A phone that could need its ITL deleted but has a recovery path left: that path is the
/// fix, before anything destructive (statement 15 (4) as generalised; issue 18).
fn open_recovery_paths(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let c = sit.conditions;
    let recovery = sit.recovery;
    let relation = &sit.relation;
    let failed = sit.failed;
    let decision = sit.decision;
    if decision == DeleteItl::NotRequired
        && failed
        && c.itl_differs.value == Some(true)
        && c.tvs_cert_mismatch.value == Some(true)
    {
        // Another trusted TVS is advised below with what the capture shows of it.
        for p in recovery
            .paths
            .iter()
            .filter(|p| p.state == PathState::Open && p.id != "other-tvs")
            // With both ITLs at hand the restore is advised below, naming the signer.
            .filter(|p| p.id != "key-backup" || relation.is_none())
        {
            recovery_step(steps, p);
        }
    }
}

/// A phone that trusts TVS (its certificate is in the ITL, the handshake completed) and
/// still fails: TVS does not vouch for the served ITL's signer, which belongs to another
/// cluster (a moved phone, a centralized TFTP).
fn tvs_does_not_vouch(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let relation = &sit.relation;
    let failed = sit.failed;
    let fallback = sit.fallback.clone();
    let via_tvs = sit.via_tvs;
    if failed
        && c.tvs_cert_mismatch.value == Some(false)
        && c.itl_differs.value != Some(false)
        && let Some(s) = trusted_tvs(ctx)
    {
        let mut because = vec![
            cond("phone_verification_failed", &c.phone_verification_failed),
            cond("tvs_cert_mismatch", &c.tvs_cert_mismatch),
            format!("TVS {} handshake completed ({})", s.server, ctx.at(s.last)),
        ];
        if via_tvs {
            because.push("trust path: served ITL only via TVS".into());
        }
        let same_signer = relation.as_ref().filter(|r| r.same_signer_name);
        match fallback {
            _ if same_signer.is_some() => {
                because.push(
                    "the served ITL's signer has the phone's signer's name (a regenerated key)"
                        .into(),
                );
                steps.add(
                    "tvs-does-not-vouch",
                    because,
                    format!(
                        "The phone trusts TVS {} yet fails, although the served ITL is signed by a regenerated key of the signer it knows: this cluster's TVS should vouch for it. Restart the Cisco Trust Verification Service and Cisco TFTP on every node so TVS knows the new certificate, then reset the phone; if it still fails, the TVS it asks belongs to another cluster (check its CM group). No ITL deletion is needed.",
                        s.server
                    ),
                );
            }
            Some(f) => {
                because.push(f);
                steps.add(
                    "centralized-tftp",
                    because,
                    format!(
                        "The phone trusts TVS {} yet fails, and it fell back to ITLFile.tlv: a centralized (or non-CUCM) TFTP serves another cluster's ITL, whose signer this phone's TVS does not know. Set Prepare Cluster for Rollback to pre 8.0 = True on the central TFTP's cluster (restart TVS and TFTP, reset the phones, switch secure URLs to HTTP), or share the clusters' TFTP certificates with Bulk Certificate Management (export, consolidate, import); no ITL deletion is needed.",
                        s.server
                    ),
                );
            }
            None => {
                steps.add(
                    "bulk-certificate-management",
                    because,
                    format!(
                        "The phone trusts TVS {} (the handshake completed) yet fails: that TVS does not vouch for the served ITL's signer{}, which belongs to another cluster (a phone moved without preparation). With both clusters up, use Bulk Certificate Management: export the new cluster's TFTP certificates (plus ITLRecovery on 12.x), consolidate, and import them into the old cluster so its TVS vouches for them; then reset the phone. No ITL deletion is needed.",
                        s.server,
                        relation
                            .as_ref()
                            .map(|r| format!(" ({})", r.served_signer))
                            .unwrap_or_default()
                    ),
                );
            }
        }
    }
}

/// All four conditions hold: the restore that may still avoid it, the deletion, and how to
/// prevent it next time.
fn delete_required(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let relation = &sit.relation;
    let all = vec!["all four conditions hold".to_string()];
    // Required means the itl-recovery path is closed: the cluster no longer serves the
    // ITLRecovery certificate the phone holds, so only a copy of its old key helps.
    if let Some(record) = relation.as_ref().and_then(|r| r.itl_recovery.as_ref()) {
        let mut because = all.clone();
        because.push(format!("the phone's ITL holds {record}"));
        because.push("the served ITL holds another ITLRecovery certificate".into());
        steps.add(
            "utils-itl-reset",
            because,
            format!(
                "Before deleting anything: if a copy of the old ITLRecovery key exists (`file get tftp ITLRecovery.p12` from before, or a DRS backup), run `utils itl reset remotekey <host> <user> ITLRecovery.p12` on the publisher (CUCM 10.0+): the phone's ITL holds {record}, which the cluster no longer serves, so `localkey` will not do. Then reset the phones (twice)."
            ),
        );
    }
    let delete_text = if mixed_mode(ctx) == Some(true) {
        "Delete the ITL on the phone (Settings > Security > Trust List > ITL > Erase on 79xx, unlock with **#; Settings > Admin Settings > Reset Settings > Security Settings on 78xx/88xx/89xx also erases the CTL; a factory reset when settings access is disabled). In mixed mode the phone's CTL stays: it then accepts the served ITL only if the CTL's CCM+TFTP verifies it, so update the CTL first (CTL client or `utils ctl update CTLFile`; `utils ctl reset localkey` is the mixed-mode counterpart of `utils itl reset`)."
    } else {
        "Delete the ITL on the phone: Settings > Security > Trust List > ITL > Erase on 79xx (unlock with **#), Settings > Admin Settings > Reset Settings > Security Settings on 78xx/88xx/89xx, or a factory reset when settings access is disabled; the phone then takes the served ITL on leap of faith."
    };
    steps.add("delete-itl", all.clone(), delete_text);
    if let Some(r) = &relation
        && r.shared_certificates == 0
        && !r.same_signer_name
    {
        steps.add(
            "other-cluster",
            vec![
                "the phone's ITL and the served ITL share no certificate".into(),
                format!("signers differ: {} / {}", r.installed_signer, r.served_signer),
            ],
            "The phone's ITL and the served ITL share no certificate and have different signers: the phone trusts another cluster (or a node renamed with every certificate regenerated). If that cluster is still up, Bulk Certificate Management (export, consolidate, import the TFTP certificates, plus ITLRecovery on 12.x) or Prepare Cluster for Rollback there, while the phone still trusts it, avoids deleting the ITL.",
        );
    }
    steps.add(
        "prevent",
        all,
        "Afterwards: never regenerate CallManager and TVS certificates together, let every phone download the new ITL between regenerations, and take a DRS backup after each TFTP certificate regeneration.",
    );
}

/// No deletion: why, and what to look at instead.
fn delete_not_required(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let checks = sit.checks;
    let path = sit.path;
    let relation = &sit.relation;
    let failed = sit.failed;
    if c.itl_differs.value == Some(false) {
        let failing: Vec<&str> = checks
            .iter()
            .filter(|k| k.status == crate::diagnosis::model::Status::Fail)
            .map(|k| k.id)
            .collect();
        let text = if failed && !failing.is_empty() {
            format!(
                "Do not delete the ITL: the phone already holds the served ITL (or none), so its failure lies elsewhere; see the failing checks: {}.",
                failing.join(", ")
            )
        } else {
            "Do not delete the ITL: the phone already holds the served ITL (or none); look at the config signature, TVS and registration instead.".to_string()
        };
        steps.add(
            "itl-not-the-problem",
            vec![cond("itl_differs", &c.itl_differs)],
            text,
        );
    }
    if c.phone_verification_failed.value == Some(false) {
        steps.add(
            "no-action",
            vec![cond(
                "phone_verification_failed",
                &c.phone_verification_failed,
            )],
            "The phone shows no verification failure: its trust works, nothing to do on the phone.",
        );
    }
    if c.tvs_cert_mismatch.value == Some(false)
        && !failed
        && c.phone_verification_failed.value.is_none()
        && let Some(s) = trusted_tvs(ctx)
    {
        steps.add(
            "tvs-trusted",
            vec![cond("tvs_cert_mismatch", &c.tvs_cert_mismatch)],
            format!(
                "Do not delete the ITL: the phone trusts TVS {} (its certificate is in the ITL and the handshake completed, {}), so TVS can vouch for a new signer.",
                s.server,
                ctx.at(s.last)
            ),
        );
    }
    // A restore is advice only for a phone that cannot take the served ITL: its
    // signer unknown to the phone, TVS not vouching, the phone not saying all is well.
    if c.no_key_backup.value == Some(false)
        && c.phone_verification_failed.value != Some(false)
        && (failed || path.is_none_or(|p| p.itl.acceptance != Acceptance::Accepted))
        && let Some(r) = &relation
        && !r.known
    {
        let because = vec![
            cond("no_key_backup", &c.no_key_backup),
            format!(
                "the served ITL's signer {} is not in the phone's ITL",
                r.served_signer
            ),
        ];
        if r.same_signer_name {
            steps.add(
                "restore-tftp-key",
                because,
                format!(
                    "Restore the old key of {} from the backup (DRS restore of the CallManager / ITLRecovery certificate with its private key), so the TFTP server signs the ITL with the key the phone's ITL holds; then reset the phone. Take a new DRS backup afterwards.",
                    r.installed_signer
                ),
            );
        } else {
            steps.add(
                "key-backup-does-not-apply",
                because,
                format!(
                    "A key backup of this cluster's current signer does not help this phone: it trusts {}, not {}, the served ITL's signer; only a backup holding {0}'s key (the node before its change) does. Point the phone at a TFTP server it still trusts, or restore that key.",
                    r.installed_signer, r.served_signer
                ),
            );
        }
    }
}

/// Undetermined: the facts to give, and what to capture for the TVS condition.
fn undetermined(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let c = sit.conditions;
    if c.itl_differs.value.is_none() {
        steps.add(
            "give-phone-itl",
            vec![cond("itl_differs", &c.itl_differs)],
            "Read the ITL hash on the phone (Settings > Security Configuration > Trust List) and pass --phone-itl-hash HEX, or --phone-itl FILE; or capture the phone booting (reset it while capturing) so the ITL download and its DeviceTLInfo alarm are seen.",
        );
    }
    undetermined_tvs(sit, steps);
    if c.phone_verification_failed.value.is_none() {
        steps.add(
            "give-phone-status",
            vec![cond("phone_verification_failed", &c.phone_verification_failed)],
            "Check the phone's Status Messages for \"Trust List update failed\" or \"authenticated fail\" and pass --phone-status failed|ok.",
        );
    }
    if c.no_key_backup.value.is_none() {
        steps.add(
            "give-key-backup",
            vec![cond("no_key_backup", &c.no_key_backup)],
            "Check whether a DRS backup from before the TFTP (CallManager / ITLRecovery) certificate changed exists and pass --key-backup yes|no.",
        );
    }
}

/// Undetermined, the TVS condition: what would settle it, by what the TVS sessions showed.
fn undetermined_tvs(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let tvs = sit.tvs;
    let tvs_unknown = vec![cond("tvs_cert_mismatch", &c.tvs_cert_mismatch)];
    match tvs.clone() {
        TvsFinding::PhoneHoldsAnotherItl(s, how) => {
            let mut because = tvs_unknown;
            because.push(format!("TVS {}: {how}", s.server));
            if !matches!(ctx.installed, Installed::Unknown) {
                because.push(format!(
                    "the phone's ITL is known only as {}",
                    crate::diagnosis::checks::installed_source(ctx.evidence, &ctx.installed)
                ));
            }
            let known = match &ctx.installed {
                Installed::Unknown => String::new(),
                other => format!(
                    " ({})",
                    crate::diagnosis::checks::installed_source(ctx.evidence, other)
                ),
            };
            steps.add(
                "obtain-phone-itl",
                because,
                format!(
                    "Obtain the ITL file the phone holds and pass it with --phone-itl FILE: the phone rejected TVS's certificate, which the served ITL lists, so it holds another ITL{known}. Take it from an earlier capture of this phone (`itlscope extract`) or from the TFTP server of the cluster it came from; a new capture would show the same."
                ),
            );
        }
        TvsFinding::ContradictsPhoneItl(s) => {
            check_phone_itl_step(steps, ctx, c, s);
        }
        TvsFinding::NoSession | TvsFinding::NoClearCertificate => {
            steps.add(
                "capture-tvs",
                tvs_unknown,
                "Capture the phone while it validates its trust list (reset it during the capture; TVS answers are cached for 24 hours) so the TVS handshake on TCP 2445 shows the certificate.",
            );
        }
        TvsFinding::NoReference => {
            steps.add(
                "give-phone-itl",
                tvs_unknown,
                "Give the phone's ITL with --phone-itl FILE (a trust list that parses), so TVS's certificate can be compared with its TVS records.",
            );
        }
        TvsFinding::ExportContradicts(s, exported) => {
            let mut because = tvs_unknown;
            because.push(format!(
                "TVS {} handshake completed ({})",
                s.server,
                ctx.at(s.last)
            ));
            because.push(exported.trim_start_matches(';').trim().to_string());
            steps.add(
                "check-exported-tvs",
                because,
                format!(
                    "Check the exported TVS certificate: the phone completed the TVS handshake with {}, so it trusts that node's certificate, which the exported file is not (export `show cert own TVS` from node {} itself), or the phone's ITL given is not the one it holds.",
                    s.server, s.server.ip
                ),
            );
        }
        TvsFinding::LogContradicts(source) => {
            steps.add(
                "check-phone-log",
                tvs_unknown,
                format!(
                    "Check that the phone's log ({source}) is from the boot this capture shows: it says the phone verified TVS's certificate, while the capture shows the phone rejecting it. Take the log again right after capturing a reset of the phone."
                ),
            );
        }
        // Said above: a service problem or TLS 1.3.
        TvsFinding::Compared
        | TvsFinding::Unreachable
        | TvsFinding::Tls13
        | TvsFinding::ServerRefused(..) => {}
    }
}

/// The TVS handshake contradicts `--phone-itl`: worth checking whatever was decided.
fn phone_itl_contradicted(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let ctx = sit.ctx;
    let c = sit.conditions;
    let tvs = sit.tvs;
    // The contradiction is worth checking whatever the other paths decided.
    if let TvsFinding::ContradictsPhoneItl(s) = tvs {
        check_phone_itl_step(steps, ctx, c, s);
    }
}

/// A fallback to ITLFile.tlv without a failure: advice for the other clusters' phones.
fn itlfile_fallback(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let checks = sit.checks;
    let failed = sit.failed;
    if let Some(f) = flagged(checks, "itlfile-fallback")
        && !failed
    {
        steps.add(
            "centralized-tftp",
            vec![f],
            "The phone fell back to ITLFile.tlv (centralized TFTP): phones of another cluster reject its signatures unless rollback is set on the central TFTP, or the clusters' TFTP certificates are shared with Bulk Certificate Management (export, consolidate, import).",
        );
    }
}

/// A rollback ITL is served.
fn rollback_served(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let checks = sit.checks;
    if let Some(f) = flagged(checks, "rollback-itl") {
        steps.add(
            "rollback-itl",
            vec![f],
            "A rollback ITL is served (Prepare Cluster for Rollback to pre 8.0 = True): it works only while phones still trust the cluster serving it and turns signed config, TVS and HTTPS trust off; set it back to False once the phones have moved.",
        );
    }
}

/// The phone takes the new ITL only through TVS: keep its certificate.
fn only_through_tvs(sit: &Situation<'_, '_>, steps: &mut Steps) {
    let failed = sit.failed;
    let via_tvs = sit.via_tvs;
    if via_tvs && !failed {
        steps.add(
            "keep-tvs-certificate",
            vec!["trust path: served ITL only via TVS".into()],
            "This phone can take the new ITL only through TVS: keep the TVS certificate unchanged until every phone has downloaded the new ITL; never regenerate CallManager and TVS together.",
        );
    }
}
