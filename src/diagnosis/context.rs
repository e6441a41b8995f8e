//! One phone's evidence, with the files that matter picked out and parsed once: the served ITL
//! and CTL, the signed config, and what is known of the ITL the phone has installed.

use super::facts::{Hashes, ItlHash, OperatorFacts};
use super::names::{RequestKind, classify};
use super::phone::PhoneEvidence;
use super::side::{Identity, identity, sort_facts};
use super::trust::TrustBackend;
use crate::cisco::model::{SignatureCheck, SignedFile, TrustList};
use crate::evidence::{Evidence, FileTransfer, PhoneTrustAlarm, Seen, TlsSession};

/// A served trust list (the last complete download of its kind), parsed.
pub struct Served<'e> {
    /// Index into `Evidence::files`.
    pub index: usize,
    /// The transfer.
    pub file: &'e FileTransfer,
    /// Per-phone or generic.
    pub kind: RequestKind,
    /// Hashes of the whole file.
    pub hashes: Hashes,
    /// Parsed, or why not.
    pub parsed: Result<TrustList<'e>, String>,
    /// Its own signature, when parsed.
    pub signature: Option<SignatureCheck>,
}

/// The served config (`.cnf.xml.sgn` or `.cnf.xml.enc.sgn`), parsed.
pub struct ServedConfig<'e> {
    /// Index into `Evidence::files`.
    pub index: usize,
    /// The transfer.
    pub file: &'e FileTransfer,
    /// Signed or encrypted.
    pub kind: RequestKind,
    /// Parsed, or why not.
    pub parsed: Result<SignedFile<'e>, String>,
}

/// The phone's installed ITL as a file (`--phone-itl`), parsed once for all phones.
pub struct InstalledFile<'f> {
    /// Name to show.
    pub name: &'f str,
    /// Bytes.
    pub bytes: &'f [u8],
    /// Hashes.
    pub hashes: Hashes,
    /// Parsed, or why not.
    pub parsed: Result<TrustList<'f>, String>,
    /// Why the file is not believed to be what the phone holds although it parses: its own
    /// signature does not verify (a damaged or edited copy; a phone would not hold it).
    pub untrusted: Option<String>,
}

impl InstalledFile<'_> {
    /// The parsed list when it can stand for what the phone holds, else why not.
    pub fn usable(&self) -> Result<&TrustList<'_>, String> {
        match (&self.parsed, &self.untrusted) {
            (Err(e), _) => Err(format!("does not parse: {e}")),
            (Ok(_), Some(why)) => Err(why.clone()),
            (Ok(list), None) => Ok(list),
        }
    }
}

/// What the engineer gave about this phone (scoped to it, or unscoped with one phone).
#[derive(Clone, Copy, Default)]
pub struct PhoneInputs<'e> {
    /// `--phone-itl`, parsed.
    pub itl_file: Option<&'e InstalledFile<'e>>,
    /// `--phone-ctl`, parsed.
    pub ctl_file: Option<&'e InstalledFile<'e>>,
    /// `--phone-itl-hash`.
    pub itl_hash: Option<&'e ItlHash>,
    /// `--phone-status`.
    pub status: super::facts::PhoneStatus,
}

/// What the phone says (or the engineer says) it has installed, best source first.
pub enum Installed<'e> {
    /// `--phone-itl FILE`.
    File(&'e InstalledFile<'e>),
    /// `--phone-itl-hash HEX`.
    OperatorHash(&'e ItlHash),
    /// `ITL_Signature` of the phone's last `DeviceTLInfo` alarm.
    AlarmHash {
        /// Parsed hash.
        hash: ItlHash,
        /// The alarm.
        alarm: &'e PhoneTrustAlarm,
    },
    /// The alarm said no ITL is installed.
    NotInstalled(&'e PhoneTrustAlarm),
    /// A hash from an `--evidence` file (the logged `DeviceTLInfo`, the web page's ITL
    /// signature).
    Reported {
        /// Parsed hash.
        hash: ItlHash,
        /// The fact.
        fact: &'e crate::sidecar::SideFact,
    },
    /// An `--evidence` file says no trust list is installed.
    ReportedNone(&'e crate::sidecar::SideFact),
    /// Nothing known.
    Unknown,
}

/// Everything the checks of one phone look at.
pub struct PhoneCtx<'e> {
    /// The whole evidence.
    pub evidence: &'e Evidence,
    /// What the engineer said.
    pub facts: &'e OperatorFacts,
    /// Trust-list parsing and verification.
    pub backend: &'e dyn TrustBackend,
    /// The grouping.
    pub group: &'e PhoneEvidence,
    /// This phone's transfers with their kind, in evidence order.
    pub files: Vec<(usize, &'e FileTransfer, RequestKind)>,
    /// This phone's TLS sessions.
    pub tls: Vec<(usize, &'e TlsSession)>,
    /// This phone's alarms.
    pub alarms: Vec<(usize, &'e PhoneTrustAlarm)>,
    /// The served ITL.
    pub served_itl: Option<Served<'e>>,
    /// The served CTL.
    pub served_ctl: Option<Served<'e>>,
    /// The served signed config.
    pub config: Option<ServedConfig<'e>>,
    /// `--phone-itl`, when given.
    pub installed_file: Option<&'e InstalledFile<'e>>,
    /// `--phone-ctl`, when given: the CTL the phone holds (mixed mode).
    pub installed_ctl: Option<&'e InstalledFile<'e>>,
    /// `--phone-itl-hash` for this phone.
    pub phone_itl_hash: Option<&'e ItlHash>,
    /// `--phone-status` for this phone.
    pub phone_status: super::facts::PhoneStatus,
    /// The best-known installed ITL.
    pub installed: Installed<'e>,
}

/// The TLS services by port, for sessions the proto stage did not label.
pub fn service_of(session: &TlsSession) -> &str {
    match session.service.as_deref() {
        Some(s) => s,
        None => match session.server.port {
            2445 => "tvs",
            8443 | 443 => "https",
            2443 => "sccp-tls",
            5061 => "sip-tls",
            3804 => "capf",
            6971 | 6972 => "https-tftp",
            _ => "tls",
        },
    }
}

/// True for a TVS session (port 2445 or labelled `tvs`).
pub fn is_tvs(session: &TlsSession) -> bool {
    session.server.port == 2445 || session.service.as_deref() == Some("tvs")
}

/// When a session happened, for certificate validity: the Certificate frame, else the first.
pub fn session_time(session: &TlsSession) -> Seen {
    session.certificate_seen.unwrap_or(session.first)
}

impl<'e> PhoneCtx<'e> {
    /// Builds the context of one phone.
    pub fn new(
        evidence: &'e Evidence,
        facts: &'e OperatorFacts,
        backend: &'e dyn TrustBackend,
        group: &'e PhoneEvidence,
        inputs: PhoneInputs<'e>,
    ) -> Self {
        let installed_file = inputs.itl_file;
        let installed_ctl = inputs.ctl_file;
        let files: Vec<_> = group
            .files
            .iter()
            .filter_map(|&i| evidence.files.get(i).map(|f| (i, f, classify(&f.name).0)))
            .collect();
        let tls = group
            .tls
            .iter()
            .filter_map(|&i| evidence.tls.get(i).map(|s| (i, s)))
            .collect();
        let alarms: Vec<_> = group
            .alarms
            .iter()
            .filter_map(|&i| evidence.alarms.get(i).map(|a| (i, a)))
            .collect();

        // The last download by time: with several captures, evidence order is file order.
        let several = evidence.captures.len() > 1;
        let last_complete = |pred: &dyn Fn(RequestKind) -> bool| {
            let mut wanted = files
                .iter()
                .filter(|(_, f, k)| pred(*k) && f.complete && !f.upload);
            if several {
                wanted
                    .max_by_key(|(_, f, _)| (f.first.ts, f.first.capture, f.first.frame))
                    .copied()
            } else {
                wanted.next_back().copied()
            }
        };
        let served = |pick: Option<(usize, &'e FileTransfer, RequestKind)>| {
            pick.map(|(index, file, kind)| {
                let parsed = backend.parse_trust_list(&file.data);
                let signature = parsed.as_ref().ok().map(|l| backend.verify_trust_list(l));
                Served {
                    index,
                    file,
                    kind,
                    hashes: Hashes::of_file(file),
                    parsed,
                    signature,
                }
            })
        };
        // ITLSEP<MAC>.tlv overrides ITLFile.tlv on the phone.
        let served_itl = served(
            last_complete(&|k| k == RequestKind::ItlPerPhone)
                .or_else(|| last_complete(&|k| k == RequestKind::ItlGeneric)),
        );
        let served_ctl = served(
            last_complete(&|k| k == RequestKind::CtlPerPhone)
                .or_else(|| last_complete(&|k| k == RequestKind::CtlGeneric)),
        );
        let config = last_complete(&|k| {
            matches!(k, RequestKind::SignedConfig | RequestKind::EncryptedConfig)
        })
        .map(|(index, file, kind)| ServedConfig {
            index,
            file,
            kind,
            // Only the header when the bytes were not kept: the signature check then uses
            // the digest computed before they went.
            parsed: backend
                .parse_signed_file(file.signed_bytes())
                .map(|mut signed| {
                    signed.header.signed_digest = file.signed_digest();
                    signed
                }),
        });

        let installed = if let Some(file) = installed_file {
            Installed::File(file)
        } else if let Some(hash) = inputs.itl_hash {
            Installed::OperatorHash(hash)
        } else {
            // The last alarm that says something about the ITL.
            alarms
                .iter()
                .rev()
                .find_map(|(_, alarm)| match &alarm.itl_signature {
                    Some(sig) => ItlHash::parse(sig)
                        .ok()
                        .map(|hash| Installed::AlarmHash { hash, alarm }),
                    None if alarm_says_not_installed(alarm) => Some(Installed::NotInstalled(alarm)),
                    None => None,
                })
                .or_else(|| reported_installed_for(evidence, facts, group))
                .unwrap_or(Installed::Unknown)
        };

        PhoneCtx {
            evidence,
            facts,
            backend,
            group,
            files,
            tls,
            alarms,
            served_itl,
            served_ctl,
            config,
            installed_file,
            installed_ctl,
            phone_itl_hash: inputs.itl_hash,
            phone_status: inputs.status,
            installed,
        }
    }

    /// The served ITL, parsed.
    pub fn served_itl_list(&self) -> Option<&TrustList<'e>> {
        self.served_itl
            .as_ref()
            .and_then(|s| s.parsed.as_ref().ok())
    }

    /// The served CTL, parsed.
    pub fn served_ctl_list(&self) -> Option<&TrustList<'e>> {
        self.served_ctl
            .as_ref()
            .and_then(|s| s.parsed.as_ref().ok())
    }

    /// The ITL a check compares the wire with: `--phone-itl` when given (None if it does not
    /// parse), else the served ITL. The string names it. Checks only: a condition asks
    /// [`PhoneCtx::phone_itl_exact`], which never takes the served ITL for the phone's.
    pub fn comparison_itl(&self) -> (Option<&TrustList<'e>>, String) {
        match self.installed_file {
            Some(file) => (
                file.parsed.as_ref().ok(),
                format!("the phone's ITL ({})", file.name),
            ),
            None => match &self.served_itl {
                Some(s) => (
                    s.parsed.as_ref().ok(),
                    format!(
                        "the served ITL ({}, {})",
                        s.file.name,
                        self.at(s.file.first)
                    ),
                ),
                None => (None, "no ITL".to_string()),
            },
        }
    }

    /// The ITL the phone holds, when it is known exactly: `--phone-itl` (None if it does not
    /// parse), or the served ITL when the phone's hash proves it holds that very file. Known
    /// only by a hash that differs, or not at all, it is None: nothing about it may be taken
    /// from the served files (statement 21 is about the phone's own, old ITL).
    pub fn phone_itl_exact(&self) -> (Option<&TrustList<'e>>, String) {
        if let Some(file) = self.installed_file {
            return (
                file.usable().ok(),
                format!("the phone's ITL ({})", file.name),
            );
        }
        match &self.served_itl {
            Some(s)
                if installed_matches(&self.installed, s) == Some(true)
                    && !matches!(self.installed, Installed::Unknown) =>
            {
                (
                    s.parsed.as_ref().ok(),
                    format!(
                        "the phone's ITL (equal to the served {} by {})",
                        s.file.name,
                        installed_source(self.evidence, &self.installed)
                    ),
                )
            }
            _ => (
                None,
                "the phone's ITL (known only by a hash that differs from the served ITL, or not at all)"
                    .to_string(),
            ),
        }
    }

    /// Where `seen` is, for a reader: `frame 12`, or `<capture>#12` with several captures.
    pub fn at(&self, seen: Seen) -> String {
        self.evidence.place(seen)
    }

    /// This phone's TVS sessions.
    pub fn tvs_sessions(&self) -> impl Iterator<Item = (usize, &'e TlsSession)> + '_ {
        self.tls.iter().copied().filter(|(_, s)| is_tvs(s))
    }
}

/// True when the alarm's raw `ITL_Signature` said the phone has no ITL.
pub fn alarm_says_not_installed(alarm: &PhoneTrustAlarm) -> bool {
    alarm
        .itl_signature_raw
        .as_deref()
        .is_some_and(|raw| raw.trim().eq_ignore_ascii_case("Not Installed"))
}

/// Words for where the installed ITL is known from.
pub fn installed_source(evidence: &Evidence, installed: &Installed<'_>) -> String {
    match installed {
        Installed::File(f) => format!("--phone-itl {}, sha1 {}", f.name, f.hashes.sha1),
        Installed::OperatorHash(h) => format!("--phone-itl-hash {h}"),
        Installed::AlarmHash { hash, alarm } => {
            format!("DeviceTLInfo {}: {hash}", evidence.place(alarm.seen))
        }
        Installed::NotInstalled(alarm) => {
            format!("DeviceTLInfo {}: not installed", evidence.place(alarm.seen))
        }
        Installed::Reported { hash, fact } => format!("{}: {hash}", fact.source),
        Installed::ReportedNone(fact) => format!("{}: not installed", fact.source),
        Installed::Unknown => "unknown".into(),
    }
}

/// Is the installed ITL the served one? None when it cannot be told.
pub fn installed_matches(installed: &Installed<'_>, served: &Served<'_>) -> Option<bool> {
    match installed {
        Installed::File(f) => Some(f.bytes == served.file.data.as_slice()),
        Installed::OperatorHash(h) => Some(served.hashes.get(h.algorithm) == h.hex),
        Installed::AlarmHash { hash, .. } | Installed::Reported { hash, .. } => {
            Some(served.hashes.get(hash.algorithm) == hash.hex)
        }
        Installed::NotInstalled(_) | Installed::ReportedNone(_) | Installed::Unknown => None,
    }
}

/// The installed ITL as the `--evidence` files report it (the last such fact), for a phone
/// whose capture and options say nothing about it, with the capture's checks applied
/// (evidence older than the capture, about another phone, or naming none in a capture of
/// several is not used).
pub fn reported_installed_for<'e>(
    evidence: &Evidence,
    facts: &'e OperatorFacts,
    group: &PhoneEvidence,
) -> Option<Installed<'e>> {
    sort_facts(evidence, facts, group)
        .0
        .into_iter()
        .rev()
        .find_map(|f| match identity(f)? {
            Identity::Hash(hash) => Some(Installed::Reported { hash, fact: f }),
            Identity::None => Some(Installed::ReportedNone(f)),
        })
}
