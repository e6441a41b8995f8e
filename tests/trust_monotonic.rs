//! Knowing less never reverses an answer (issue 18; statements 15-17, 21): for every scenario
//! capture shipped with the phone's ITL, all 36 combinations of what the engineer knows —
//! the phone's ITL {nothing, its MD5, its SHA-1, the file} × `--phone-status` {none, failed,
//! ok} × `--key-backup` {none, no, yes} — are diagnosed, and whenever one run knows at least
//! what another knows, no condition (nor the generalised condition 4) is true in one and false
//! in the other, and no verdict is `required` in one and `not-required` in the other.

mod scenarios_support;

use itlscope::diagnosis::{
    DeleteItl, Diagnosis, ItlHash, KeyBackup, OperatorFacts, PhoneItlFile, PhoneStatus, diagnose,
};
use scenarios_support::{evidence_of, repo};

/// What is known of the phone's ITL, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Itl {
    Nothing,
    Md5,
    Sha1,
    File,
}

/// One run's knowledge.
#[derive(Debug, Clone, Copy)]
struct Known {
    itl: Itl,
    status: Option<PhoneStatus>,
    backup: Option<KeyBackup>,
}

impl Known {
    /// True when `self` knows at least what `other` knows (and nothing contrary).
    fn covers(&self, other: &Known) -> bool {
        let itl = match (other.itl, self.itl) {
            (Itl::Nothing, _) => true,
            (Itl::Md5 | Itl::Sha1, Itl::Md5 | Itl::Sha1 | Itl::File) => true,
            (a, b) => a == b,
        };
        let status = other.status.is_none() || other.status == self.status;
        let backup = other.backup.is_none() || other.backup == self.backup;
        itl && status && backup
    }
}

/// The answers one run gives a phone: the four conditions, the generalised condition 4 and
/// the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answers {
    values: [Option<bool>; 5],
    verdict: DeleteItl,
}

fn answers(d: &Diagnosis) -> Vec<Answers> {
    d.phones
        .iter()
        .map(|p| {
            let c = p.verdict.conditions.named();
            Answers {
                values: [
                    c[0].1.value,
                    c[1].1.value,
                    c[2].1.value,
                    c[3].1.value,
                    p.verdict.recovery.no_recovery_path.value,
                ],
                verdict: p.verdict.delete_itl,
            }
        })
        .collect()
}

const NAMES: [&str; 5] = [
    "itl_differs",
    "tvs_cert_mismatch",
    "phone_verification_failed",
    "no_key_backup",
    "no_recovery_path",
];

fn check_capture(capture: &str, phone_itl: &str) {
    let evidence = evidence_of(capture);
    let bytes = std::fs::read(repo().join("captures").join(phone_itl)).expect("phone ITL");
    let (md5, sha1) = {
        use sha1::Digest;
        (
            hex::encode(md5::Md5::digest(&bytes)),
            hex::encode(sha1::Sha1::digest(&bytes)),
        )
    };
    let mut runs: Vec<(Known, Vec<Answers>)> = Vec::new();
    for itl in [Itl::Nothing, Itl::Md5, Itl::Sha1, Itl::File] {
        for status in [None, Some(PhoneStatus::Failed), Some(PhoneStatus::Ok)] {
            for backup in [None, Some(KeyBackup::No), Some(KeyBackup::Yes)] {
                let facts = OperatorFacts {
                    phone_itl: (itl == Itl::File).then(|| PhoneItlFile {
                        name: phone_itl.to_string(),
                        bytes: bytes.clone(),
                    }),
                    phone_itl_hash: match itl {
                        Itl::Md5 => Some(ItlHash::parse(&md5).expect("md5")),
                        Itl::Sha1 => Some(ItlHash::parse(&sha1).expect("sha1")),
                        _ => None,
                    },
                    phone_status: status.unwrap_or(PhoneStatus::Unknown),
                    key_backup: backup.unwrap_or(KeyBackup::Unknown),
                    ..OperatorFacts::default()
                };
                let known = Known {
                    itl,
                    status,
                    backup,
                };
                runs.push((known, answers(&diagnose(&evidence, &facts))));
            }
        }
    }
    assert_eq!(runs.len(), 36);
    for (more, a) in &runs {
        for (less, b) in &runs {
            if !more.covers(less) {
                continue;
            }
            for (phone, (x, y)) in a.iter().zip(b).enumerate() {
                for (i, name) in NAMES.iter().enumerate() {
                    let (vx, vy) = (x.values[i], y.values[i]);
                    assert!(
                        !(vx.is_some() && vy.is_some() && vx != vy),
                        "{capture} phone {phone}: {name} is {vx:?} knowing {more:?} but {vy:?} knowing less, {less:?}"
                    );
                }
                let opposite = matches!(
                    (x.verdict, y.verdict),
                    (DeleteItl::Required, DeleteItl::NotRequired)
                        | (DeleteItl::NotRequired, DeleteItl::Required)
                );
                assert!(
                    !opposite,
                    "{capture} phone {phone}: {:?} knowing {more:?} but {:?} knowing {less:?}",
                    x.verdict, y.verdict
                );
            }
        }
    }
}

#[test]
fn knowing_less_never_reverses_an_answer_on_any_scenario_with_a_phone_itl() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(repo().join("captures"))
        .expect("captures dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    for name in &entries {
        let Some(stem) = name.strip_suffix(".phone-itl.tlv") else {
            continue;
        };
        let capture = format!("{stem}.pcap");
        if !entries.contains(&capture) {
            continue;
        }
        check_capture(&capture, name);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} scenarios with a phone ITL");
}

/// One run's knowledge in the mixed-mode check: the phone's CTL (`--phone-ctl`) and ITL
/// (`--phone-itl`) given or not, `--phone-status failed` or none, `--key-backup no` or none.
#[derive(Debug, Clone, Copy)]
struct KnownCtl {
    ctl: bool,
    itl: bool,
    failed: bool,
    no_backup: bool,
}

impl KnownCtl {
    /// True when `self` knows at least what `other` knows.
    fn covers(&self, other: &KnownCtl) -> bool {
        (self.ctl || !other.ctl)
            && (self.itl || !other.itl)
            && (self.failed || !other.failed)
            && (self.no_backup || !other.no_backup)
    }
}

/// Statements 6, 7c and 30 (monotonicity over `--phone-ctl`): on the mixed-mode scenario
/// captures, with and without the phone's CTL, × with and without its ITL, × `--phone-status
/// failed|none`, × `--key-backup no|none`: whenever one run knows at least what another knows,
/// no condition is true in one and false in the other, and no verdict is `required` in one and
/// `not-required` in the other. Without the CTL, a served CTL the phone's ITL does not settle
/// stays unknown (going on to the ITL proves nothing, statement 6), so nothing the CTL would
/// decide is claimed.
#[test]
fn knowing_the_phones_ctl_never_reverses_an_answer_on_the_mixed_mode_scenarios() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(repo().join("captures"))
        .expect("captures dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    for name in &entries {
        let Some(stem) = name.strip_suffix(".phone-ctl.tlv") else {
            continue;
        };
        let (capture, itl_name) = (format!("{stem}.pcap"), format!("{stem}.phone-itl.tlv"));
        if !entries.contains(&capture) || !entries.contains(&itl_name) {
            continue;
        }
        let evidence = evidence_of(&capture);
        let read = |n: &str| std::fs::read(repo().join("captures").join(n)).expect("input file");
        let (ctl_bytes, itl_bytes) = (read(name), read(&itl_name));
        let mut runs: Vec<(KnownCtl, Vec<Answers>)> = Vec::new();
        for ctl in [false, true] {
            for itl in [false, true] {
                for failed in [false, true] {
                    for no_backup in [false, true] {
                        let facts = OperatorFacts {
                            phone_itl: itl.then(|| PhoneItlFile {
                                name: itl_name.clone(),
                                bytes: itl_bytes.clone(),
                            }),
                            phone_ctl: ctl.then(|| PhoneItlFile {
                                name: name.clone(),
                                bytes: ctl_bytes.clone(),
                            }),
                            phone_status: if failed {
                                PhoneStatus::Failed
                            } else {
                                PhoneStatus::Unknown
                            },
                            key_backup: if no_backup {
                                KeyBackup::No
                            } else {
                                KeyBackup::Unknown
                            },
                            ..OperatorFacts::default()
                        };
                        let known = KnownCtl {
                            ctl,
                            itl,
                            failed,
                            no_backup,
                        };
                        runs.push((known, answers(&diagnose(&evidence, &facts))));
                    }
                }
            }
        }
        for (more, a) in &runs {
            for (less, b) in &runs {
                if !more.covers(less) {
                    continue;
                }
                for (phone, (x, y)) in a.iter().zip(b).enumerate() {
                    for (i, what) in NAMES.iter().enumerate() {
                        let (vx, vy) = (x.values[i], y.values[i]);
                        assert!(
                            !(vx.is_some() && vy.is_some() && vx != vy),
                            "{capture} phone {phone}: {what} is {vx:?} knowing {more:?} but {vy:?} knowing less, {less:?}"
                        );
                    }
                    let opposite = matches!(
                        (x.verdict, y.verdict),
                        (DeleteItl::Required, DeleteItl::NotRequired)
                            | (DeleteItl::NotRequired, DeleteItl::Required)
                    );
                    assert!(
                        !opposite,
                        "{capture} phone {phone}: {:?} knowing {more:?} but {:?} knowing {less:?}",
                        x.verdict, y.verdict
                    );
                }
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "only {checked} mixed-mode scenarios with a phone CTL"
    );
}
