//! Condition 4 as the TAC note means it: is there still a key the phone trusts that can sign a
//! file it will accept? The note names the backup of the old TFTP key (statement 15 (4)); it
//! also shows that another TVS node (statements 24, 31) and, in mixed mode, the CTL signed by an
//! unchanged eToken (statements 30, 32) recover a phone without touching it, and from CUCM 10.0
//! `utils itl reset localkey` signs a reset ITL with ITLRecovery (phone-behaviour.md §4.3).
//! Deleting the ITL by hand is needed only when every one of these paths is closed.
//!
//! Pure: trust lists, TVS nodes and the engineer's answer in, paths out. What the phone holds
//! is given only when it is known exactly; a part known by hash or not at all leaves the paths
//! that depend on it unknown, never closed.

use super::records::{describe_record, normalise_dn, record_certificate_sha1};
use super::tvs::{Stance, TvsNode};
use crate::cisco::model::{Record, TrustList, function};

/// Whether a path is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PathState {
    /// The path can still deliver a file the phone accepts.
    Open,
    /// The evidence shows it cannot.
    Closed,
    /// What would settle it is not known.
    Unknown,
}

impl PathState {
    /// `open`, `closed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            PathState::Open => "open",
            PathState::Closed => "closed",
            PathState::Unknown => "unknown",
        }
    }
}

/// One way to get a file signed that the phone will accept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RecoveryPath {
    /// `key-backup`, `itl-recovery`, `ctl` or `other-tvs`.
    pub id: &'static str,
    /// Open, closed or unknown.
    pub state: PathState,
    /// Why, in one line (with what would settle it when unknown).
    pub explanation: String,
}

/// What the paths are judged from. The phone's lists are given only when known exactly.
#[derive(Debug, Clone, Copy)]
pub struct RecoveryInputs<'a> {
    /// `--key-backup`: Some(true) when a backup of the old TFTP key exists.
    pub key_backup: Option<bool>,
    /// The ITL the phone holds, with how reports name it.
    pub phone_itl: Option<(&'a TrustList<'a>, &'a str)>,
    /// The ITL the cluster serves.
    pub served_itl: Option<&'a TrustList<'a>>,
    /// The CTL the phone holds, with how reports name it.
    pub phone_ctl: Option<(&'a TrustList<'a>, &'a str)>,
    /// The phone's CTL known only by hash (e.g. DeviceTLInfo's `CTL_Signature`), described
    /// with where it was read, when `phone_ctl` is not known exactly.
    pub phone_ctl_hash: Option<&'a str>,
    /// Evidence that the phone holds no CTL, in words with where it was read (e.g. "its
    /// DeviceTLInfo at frame 9 says Not Installed"); None when nothing says so.
    pub phone_ctl_absent: Option<&'a str>,
    /// The CTL the cluster serves.
    pub served_ctl: Option<&'a TrustList<'a>>,
    /// Some(true): a CTL is served (mixed mode); Some(false): the phone's CTL request was
    /// answered "not found"; None: not seen.
    pub mixed_mode: Option<bool>,
    /// The TVS nodes the phone reached.
    pub tvs: &'a [TvsNode<'a>],
    /// Condition 2 as judged: Some(true) says no node the phone reached is trusted and their
    /// certificates are not in its ITL, even where the session hides the phone's answer.
    pub tvs_cert_mismatch: Option<bool>,
    /// The phone's CallManager group (node names from its config), when known.
    pub cm_group: Option<&'a [String]>,
}

/// Every path, in the order the advice takes them (least effort first).
pub fn recovery_paths(i: &RecoveryInputs<'_>) -> Vec<RecoveryPath> {
    vec![other_tvs(i), itl_recovery(i), ctl(i), key_backup(i)]
}

/// The generalised condition 4: true when every path is closed, false when one is open.
pub fn no_recovery_path(paths: &[RecoveryPath]) -> Option<bool> {
    if paths.iter().any(|p| p.state == PathState::Open) {
        Some(false)
    } else if paths.iter().all(|p| p.state == PathState::Closed) {
        Some(true)
    } else {
        None
    }
}

fn path(id: &'static str, state: PathState, explanation: impl Into<String>) -> RecoveryPath {
    RecoveryPath {
        id,
        state,
        explanation: explanation.into(),
    }
}

fn key_backup(i: &RecoveryInputs<'_>) -> RecoveryPath {
    match i.key_backup {
        Some(true) => path(
            "key-backup",
            PathState::Open,
            "--key-backup yes: restoring the old TFTP (CallManager.pem) key lets the TFTP server sign with a key the phone holds (statement 26)",
        ),
        Some(false) => path(
            "key-backup",
            PathState::Closed,
            "--key-backup no: no backup of the old TFTP key",
        ),
        None => path(
            "key-backup",
            PathState::Unknown,
            "--key-backup not given: check for a DRS backup from before the TFTP certificate changed",
        ),
    }
}

/// Two records hold the same certificate: same certificate hash, else same serial and issuer.
pub fn same_certificate(a: &Record<'_>, b: &Record<'_>) -> bool {
    if let (Some(x), Some(y)) = (record_certificate_sha1(a), record_certificate_sha1(b)) {
        return x == y;
    }
    match (a.serial, b.serial, a.issuer, b.issuer) {
        (Some(sa), Some(sb), Some(ia), Some(ib)) => {
            crate::cisco::serial_eq(sa, sb)
                && normalise_dn(&String::from_utf8_lossy(ia))
                    == normalise_dn(&String::from_utf8_lossy(ib))
        }
        _ => false,
    }
}

/// The ITLRecovery (SAST) record of a trust list, by its certificate's name.
pub fn itl_recovery_record(list: &TrustList<'_>) -> Option<usize> {
    list.records.iter().position(|r| {
        r.function == Some(function::SAST)
            && r.subject.is_some_and(|s| {
                String::from_utf8_lossy(s)
                    .to_ascii_uppercase()
                    .contains("ITLRECOVERY")
            })
    })
}

fn itl_recovery(i: &RecoveryInputs<'_>) -> RecoveryPath {
    let id = "itl-recovery";
    let Some((phone, label)) = i.phone_itl else {
        return path(
            id,
            PathState::Unknown,
            "the phone's ITL is not known as a file: whether it holds the ITLRecovery certificate the cluster still serves needs it (--phone-itl)",
        );
    };
    let Some(record) = itl_recovery_record(phone) else {
        return path(
            id,
            PathState::Closed,
            format!("{label} holds no ITLRecovery record (an ITL from before CUCM 10.0)"),
        );
    };
    let Some(served) = i.served_itl else {
        return path(
            id,
            PathState::Unknown,
            format!(
                "{label} holds {}, but no served ITL was downloaded whole to see whether the cluster still has it",
                describe_record(phone, record)
            ),
        );
    };
    let held = &phone.records[record];
    if served.records.iter().any(|r| same_certificate(held, r)) {
        path(
            id,
            PathState::Open,
            format!(
                "{label} holds {}, which the served ITL still lists: `utils itl reset localkey` (CUCM 10.0+) signs a reset ITL with it, which the phone accepts",
                describe_record(phone, record)
            ),
        )
    } else {
        path(
            id,
            PathState::Closed,
            format!(
                "{label} holds {}, which the served ITL no longer lists: ITLRecovery was regenerated",
                describe_record(phone, record)
            ),
        )
    }
}

fn ctl(i: &RecoveryInputs<'_>) -> RecoveryPath {
    let id = "ctl";
    // Statements 7a/30: the CTL path needs a CTL on the phone whose signer re-signs; a phone
    // that says it holds none has no such path, mixed mode or not. Said against a CTL given
    // as the phone's, neither side wins.
    if let Some(absent) = i.phone_ctl_absent {
        return match i.phone_ctl {
            Some((_, label)) => path(
                id,
                PathState::Unknown,
                format!(
                    "{label} is given as the phone's CTL, but {absent}: which is right needs the phone's own `show ctl` (or Settings > Security > Trust List)"
                ),
            ),
            None => path(
                id,
                PathState::Closed,
                format!("the phone holds no CTL: {absent}"),
            ),
        };
    }
    match (i.phone_ctl, i.served_ctl, i.mixed_mode) {
        (Some((phone, label)), Some(served), _) => {
            let signers: Vec<usize> = phone
                .records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.function == Some(function::SAST))
                .filter(|(_, r)| served.records.iter().any(|s| same_certificate(r, s)))
                .map(|(n, _)| n)
                .collect();
            match signers.first() {
                Some(&n) => path(
                    id,
                    PathState::Open,
                    format!(
                        "mixed mode: {label} trusts {}, which the served CTL still lists: re-run the CTL client with that eToken (or `utils ctl update CTLFile` when tokenless) so the CTL's CCM+TFTP vouches for the new ITL (statements 7c, 30)",
                        describe_record(phone, n)
                    ),
                ),
                None => path(
                    id,
                    PathState::Closed,
                    format!(
                        "mixed mode, but none of the SAST signers of {label} is in the served CTL"
                    ),
                ),
            }
        }
        (Some((_, label)), None, _) => path(
            id,
            PathState::Unknown,
            format!(
                "the phone holds a CTL ({label}) but no CTL was downloaded whole in the capture to see whether the cluster still has its signer"
            ),
        ),
        (None, Some(_), _) if i.phone_ctl_hash.is_some() => path(
            id,
            PathState::Unknown,
            format!(
                "a CTL is served (mixed mode); the phone's CTL is known only by its hash {}, which is not the served CTL's: whether its signer can re-sign needs the phone's CTL itself (--phone-ctl)",
                i.phone_ctl_hash.unwrap_or_default()
            ),
        ),
        (None, Some(_), _) | (None, None, Some(true)) => path(
            id,
            PathState::Unknown,
            "a CTL is served (mixed mode): whether the phone holds a CTL whose signer can re-sign needs the phone's CTL (--phone-ctl, or its CTL hash compared on the phone)",
        ),
        (None, None, Some(false)) => path(
            id,
            PathState::Closed,
            "not in mixed mode: the phone's CTL request was answered \"not found\", so no CTL can vouch for a new ITL",
        ),
        (None, None, None) => path(
            id,
            PathState::Unknown,
            "no CTL request was seen: whether the cluster is in mixed mode is not known",
        ),
    }
}

/// The name a TVS node goes by: its certificate's CN, lower-case.
fn node_name(node: &TvsNode<'_>) -> Option<String> {
    let cert = node.certificate?;
    normalise_dn(&cert.subject)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("CN"))
        .map(|(_, v)| v.to_ascii_lowercase())
}

/// True when a CallManager group member names this node (host or FQDN, or its address).
fn member_is(member: &str, node: &TvsNode<'_>) -> bool {
    let member = member.trim().to_ascii_lowercase();
    if member == node.server.to_string() {
        return true;
    }
    // `cucm-pub` names `cucm-pub.example.com` and the other way round: compare host labels.
    node_name(node).is_some_and(|cn| member.split('.').next() == cn.split('.').next())
}

fn other_tvs(i: &RecoveryInputs<'_>) -> RecoveryPath {
    let id = "other-tvs";
    if let Some(node) = i
        .tvs
        .iter()
        .find(|n| matches!(n.stance, Stance::Trusted { .. }))
    {
        return path(
            id,
            PathState::Open,
            format!(
                "the phone trusts TVS {} ({}): a TVS it trusts can vouch for a new signer its certificate store holds (statements 20, 24)",
                node.server,
                node.stance.describe()
            ),
        );
    }
    // Nodes that cannot vouch: rejected by the phone, or (condition 2 true) answering with a
    // certificate the phone's ITL lacks where the session hides the phone's answer.
    let rejected: Vec<&TvsNode<'_>> = i
        .tvs
        .iter()
        .filter(|n| match n.stance {
            Stance::Rejected { .. } => true,
            Stance::Unknown => i.tvs_cert_mismatch == Some(true),
            _ => false,
        })
        .collect();
    if let Some(group) = i.cm_group
        && !group.is_empty()
        && group
            .iter()
            .all(|m| rejected.iter().any(|n| member_is(m, n)))
    {
        return path(
            id,
            PathState::Closed,
            format!(
                "the phone's CallManager group ({}) holds only TVS node(s) the phone rejected: other TVS servers make no difference to it (statement 31)",
                group.join(", ")
            ),
        );
    }
    match i.phone_itl {
        Some((list, label)) => {
            let records = super::records::tvs_records(list).len();
            if records == 0 {
                path(
                    id,
                    PathState::Closed,
                    format!("{label} lists no TVS: no TVS can vouch"),
                )
            } else if !rejected.is_empty() && rejected.len() >= records {
                path(
                    id,
                    PathState::Closed,
                    format!(
                        "{label} lists {records} TVS record(s) and the phone rejected {} TVS node(s): none is left to vouch",
                        rejected.len()
                    ),
                )
            } else {
                path(
                    id,
                    PathState::Unknown,
                    format!(
                        "{label} lists {records} TVS record(s); the capture shows the phone trusting none of the {} node(s) it reached: another node of its CallManager group may vouch (statement 24); the served config's CallManager group, or a capture of the phone trying the others, settles it",
                        i.tvs.len()
                    ),
                )
            }
        }
        None => path(
            id,
            PathState::Unknown,
            "no TVS node the phone trusts is in the capture, and without the phone's ITL as a file its other TVS nodes are not known",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(tvs: &'a [TvsNode<'a>]) -> RecoveryInputs<'a> {
        RecoveryInputs {
            key_backup: None,
            phone_itl: None,
            served_itl: None,
            phone_ctl: None,
            phone_ctl_hash: None,
            phone_ctl_absent: None,
            served_ctl: None,
            mixed_mode: None,
            tvs,
            tvs_cert_mismatch: None,
            cm_group: None,
        }
    }

    #[test]
    fn knowing_nothing_leaves_every_path_unknown_never_closed() {
        let paths = recovery_paths(&inputs(&[]));
        assert!(
            paths.iter().all(|p| p.state == PathState::Unknown),
            "{paths:?}"
        );
        assert_eq!(no_recovery_path(&paths), None);
    }

    #[test]
    fn key_backup_alone_follows_statement_15_4() {
        let mut i = inputs(&[]);
        i.key_backup = Some(true);
        assert_eq!(no_recovery_path(&recovery_paths(&i)), Some(false));
        i.key_backup = Some(false);
        // The other paths are still unknown: the generalised condition is unknown.
        assert_eq!(no_recovery_path(&recovery_paths(&i)), None);
    }

    #[test]
    fn not_mixed_mode_closes_the_ctl_path_statement_7() {
        let mut i = inputs(&[]);
        i.mixed_mode = Some(false);
        let paths = recovery_paths(&i);
        let ctl = paths.iter().find(|p| p.id == "ctl").expect("ctl path");
        assert_eq!(ctl.state, PathState::Closed);
        i.mixed_mode = Some(true);
        let paths = recovery_paths(&i);
        let ctl = paths.iter().find(|p| p.id == "ctl").expect("ctl path");
        assert_eq!(ctl.state, PathState::Unknown);
    }

    /// Statements 7c, 30: the phone's CTL known only by DeviceTLInfo's CTL_Signature (not the
    /// served CTL's) is shown as what is known of it, and the path stays unknown, never closed.
    #[test]
    fn a_ctl_known_by_hash_is_named_and_leaves_the_ctl_path_unknown() {
        // Built here from the model (trust/ does not reach into the diagnosis's test kit).
        use crate::cisco::model::{FileFormat, Header, Record};
        let token = Record {
            function: Some(function::SAST),
            subject: Some(b"CN=eToken"),
            issuer: Some(b"CN=eToken"),
            serial: Some(&[1]),
            public_key: Some(b"key"),
            certificate: Some(b"DER:CN=eToken:01"),
            ..Record::default()
        };
        let served = TrustList {
            format: FileFormat::Ctl,
            bytes: &[],
            header: Header {
                version: (1, 2),
                signer_name: token.subject,
                signer_serial: token.serial,
                signer_issuer: token.issuer,
                digest_algorithm: Some(1),
                ..Header::default()
            },
            records: vec![token],
        };
        let mut i = inputs(&[]);
        i.served_ctl = Some(&served);
        i.phone_ctl_hash =
            Some("0123abcd (CTL_Signature of the phone's DeviceTLInfo alarm, frame 9)");
        let paths = recovery_paths(&i);
        let ctl = paths.iter().find(|p| p.id == "ctl").expect("ctl path");
        assert_eq!(ctl.state, PathState::Unknown);
        assert!(ctl.explanation.contains("0123abcd"), "{ctl:?}");
        assert!(ctl.explanation.contains("CTL_Signature"), "{ctl:?}");
    }

    /// A CTL as served in mixed mode, signed by one eToken (SAST) record.
    fn etoken_ctl() -> TrustList<'static> {
        use crate::cisco::model::{FileFormat, Header, Record};
        let token = Record {
            function: Some(function::SAST),
            subject: Some(b"CN=eToken"),
            issuer: Some(b"CN=eToken"),
            serial: Some(&[1]),
            public_key: Some(b"key"),
            certificate: Some(b"DER:CN=eToken:01"),
            ..Record::default()
        };
        TrustList {
            format: FileFormat::Ctl,
            bytes: &[],
            header: Header {
                version: (1, 2),
                signer_name: token.subject,
                signer_serial: token.serial,
                signer_issuer: token.issuer,
                digest_algorithm: Some(1),
                ..Header::default()
            },
            records: vec![token],
        }
    }

    /// Statements 7a, 30: the CTL path needs a CTL on the phone whose signer can re-sign. A
    /// phone whose DeviceTLInfo says "Not Installed" holds none, so the path is closed (with
    /// that evidence named), in mixed mode, outside it, and when mixed mode is unknown.
    #[test]
    fn statements_7a_30_a_phone_holding_no_ctl_has_no_ctl_path() {
        let served = etoken_ctl();
        let absent = "its DeviceTLInfo at frame 9 says Not Installed";
        for (served_ctl, mixed_mode) in [
            (Some(&served), Some(true)),
            (None, Some(true)),
            (None, Some(false)),
            (None, None),
        ] {
            let mut i = inputs(&[]);
            i.served_ctl = served_ctl;
            i.mixed_mode = mixed_mode;
            i.phone_ctl_absent = Some(absent);
            let paths = recovery_paths(&i);
            let ctl = paths.iter().find(|p| p.id == "ctl").expect("ctl path");
            assert_eq!(ctl.state, PathState::Closed, "{mixed_mode:?}: {ctl:?}");
            assert_eq!(
                ctl.explanation,
                "the phone holds no CTL: its DeviceTLInfo at frame 9 says Not Installed"
            );
        }
    }

    /// Statements 7a, 30: a CTL given as the phone's while its DeviceTLInfo says it holds
    /// none is a contradiction: the path is unknown with both sides named, never open.
    #[test]
    fn statements_7a_30_a_given_ctl_against_not_installed_leaves_the_ctl_path_unknown() {
        let served = etoken_ctl();
        let phone = etoken_ctl();
        let mut i = inputs(&[]);
        i.served_ctl = Some(&served);
        i.mixed_mode = Some(true);
        i.phone_ctl = Some((&phone, "the phone's CTL (CTLFile.tlv)"));
        // Without the alarm the same eToken still signs: open.
        let open = recovery_paths(&i);
        let ctl = open.iter().find(|p| p.id == "ctl").expect("ctl path");
        assert_eq!(ctl.state, PathState::Open, "{ctl:?}");
        i.phone_ctl_absent = Some("its DeviceTLInfo at frame 9 says Not Installed");
        let paths = recovery_paths(&i);
        let ctl = paths.iter().find(|p| p.id == "ctl").expect("ctl path");
        assert_eq!(ctl.state, PathState::Unknown, "{ctl:?}");
        assert!(ctl.explanation.contains("CTLFile.tlv"), "{ctl:?}");
        assert!(ctl.explanation.contains("Not Installed"), "{ctl:?}");
    }
}
