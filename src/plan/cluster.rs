//! The cluster as the phones see it: its certificates (read from the ITL the phones hold, from
//! a target cluster's ITL/CTL, from certificate files, or planned as regenerated), and the ITL
//! it would serve, as a [`TrustList`] the shared trust decision can read.

use crate::cisco::model::{FileFormat, Header, Record, SignatureCheck, TrustList, function};
use crate::cisco::serial_eq;
use crate::trust::records::{header_signer, normalise_dn};
use crate::trust::{self, Decision, Offered, TvsWitness, Verifier};
use sha1::Digest as _;

/// The certificates `plan` can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// CallManager.pem: the TFTP certificate (CCM+TFTP record; the ITL signer before 12.0).
    CallManager,
    /// TVS.pem.
    Tvs,
    /// ITLRecovery.pem (the ITL signer from 12.0).
    ItlRecovery,
    /// CAPF.pem.
    Capf,
}

impl Role {
    /// Every role, in the order the safe plan prefers to change them.
    pub const ALL: [Role; 4] = [Role::Tvs, Role::Capf, Role::CallManager, Role::ItlRecovery];

    /// From the command line: `callmanager`, `tvs`, `itlrecovery`, `capf` (any case, `-`/`_`
    /// ignored).
    pub fn parse(text: &str) -> Option<Role> {
        let t: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | '.'))
            .collect::<String>()
            .to_ascii_lowercase();
        match t.as_str() {
            "callmanager" | "cm" | "callmanagerpem" | "tftp" => Some(Role::CallManager),
            "tvs" | "tvspem" => Some(Role::Tvs),
            "itlrecovery" | "itlrecoverypem" => Some(Role::ItlRecovery),
            "capf" | "capfpem" => Some(Role::Capf),
            _ => None,
        }
    }

    /// The certificate's name in CUCM.
    pub fn name(self) -> &'static str {
        match self {
            Role::CallManager => "CallManager",
            Role::Tvs => "TVS",
            Role::ItlRecovery => "ITLRecovery",
            Role::Capf => "CAPF",
        }
    }
}

/// One certificate as far as trust is concerned: who it names, its serial and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId {
    /// Subject in CUCM's `CN=…;OU=…` form.
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// Serial number bytes.
    pub serial: Vec<u8>,
    /// The RSA public key (PKCS#1 DER) when known; for a planned certificate, a token that no
    /// other key has.
    pub key: Option<Vec<u8>>,
    /// SHA-1 of the certificate (a record's CERTHASH), when known.
    pub sha1: Option<Vec<u8>>,
    /// True for a certificate that does not exist yet (a planned regeneration).
    pub planned: bool,
}

impl CertId {
    /// From a trust-list record.
    pub fn from_record(r: &Record<'_>) -> CertId {
        let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        let parsed = r
            .certificate
            .and_then(|der| x509_parser::parse_x509_certificate(der).ok());
        let key = parsed
            .as_ref()
            .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
            .or_else(|| r.public_key.map(<[u8]>::to_vec));
        let sha1 = r
            .cert_hash
            .map(<[u8]>::to_vec)
            .or_else(|| r.certificate.map(|der| sha1::Sha1::digest(der).to_vec()));
        CertId {
            subject: text(r.subject).unwrap_or_default(),
            issuer: text(r.issuer).unwrap_or_default(),
            serial: r.serial.map(<[u8]>::to_vec).unwrap_or_default(),
            key,
            sha1,
            planned: false,
        }
    }

    /// From a DER certificate file.
    pub fn from_der(der: &[u8]) -> Result<CertId, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| "not an X.509 certificate (PEM `-----BEGIN CERTIFICATE-----` or DER)")?;
        let cucm = |name: &x509_parser::x509::X509Name<'_>| {
            // CUCM writes the most specific part first: CN=…;OU=…;O=…
            let mut parts: Vec<String> = name
                .iter_attributes()
                .filter_map(|a| {
                    let key = match a.attr_type().to_id_string().as_str() {
                        "2.5.4.3" => "CN",
                        "2.5.4.11" => "OU",
                        "2.5.4.10" => "O",
                        "2.5.4.7" => "L",
                        "2.5.4.8" => "ST",
                        "2.5.4.6" => "C",
                        _ => return None,
                    };
                    Some(format!("{key}={}", a.as_str().ok()?))
                })
                .collect();
            parts.reverse();
            parts.join(";")
        };
        Ok(CertId {
            subject: cucm(cert.subject()),
            issuer: cucm(cert.issuer()),
            serial: cert.raw_serial().to_vec(),
            key: Some(cert.public_key().subject_public_key.data.to_vec()),
            sha1: Some(sha1::Sha1::digest(der).to_vec()),
            planned: false,
        })
    }

    /// From a certificate file: PEM (`-----BEGIN CERTIFICATE-----`) or DER.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<CertId, String> {
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let (_, pem) = x509_parser::pem::parse_x509_pem(bytes)
                .map_err(|_| "the PEM block does not decode (base64 between BEGIN and END)")?;
            if pem.label != "CERTIFICATE" {
                return Err(format!("PEM block is {}, not CERTIFICATE", pem.label));
            }
            CertId::from_der(&pem.contents)
        } else {
            CertId::from_der(bytes)
        }
    }

    /// The same certificate regenerated: same name, new key and serial (`generation` keeps
    /// successive regenerations apart), subject renamed when the host name changes.
    pub fn regenerated(&self, role: Role, generation: u32, rename: Option<(&str, &str)>) -> CertId {
        let rename = |s: &str| match rename {
            Some((old, new)) if !old.is_empty() => rename_subject(s, old, new),
            _ => s.to_owned(),
        };
        let token = format!("planned {} key #{generation}", role.name());
        let mut serial = PLACEHOLDER_SERIAL_PREFIX.to_vec();
        serial.extend_from_slice(&generation.to_be_bytes());
        serial.push(role as u8);
        CertId {
            subject: rename(&self.subject),
            // Regenerated certificates are self-signed.
            issuer: rename(&self.subject),
            serial,
            key: Some(token.clone().into_bytes()),
            sha1: Some(sha1::Sha1::digest(token.as_bytes()).to_vec()),
            planned: true,
        }
    }

    /// The same certificate? The SHA-1 of the certificate decides when both sides know it
    /// (`show itl` text gives it, not the key); else issuer, serial and key.
    pub fn same_cert(&self, other: &CertId) -> bool {
        if let (Some(a), Some(b)) = (&self.sha1, &other.sha1) {
            return a == b;
        }
        let same_name = serial_eq(&self.serial, &other.serial)
            && normalise_dn(&self.issuer) == normalise_dn(&other.issuer);
        match (&self.key, &other.key) {
            (Some(a), Some(b)) => same_name && a == b,
            _ => same_name,
        }
    }

    /// Does a trust-list record hold this certificate?
    pub fn is_in(&self, r: &Record<'_>) -> bool {
        self.same_cert(&CertId::from_record(r))
    }

    /// A short name for reports: the CN and the serial.
    pub fn label(&self) -> String {
        let cn = self
            .subject
            .split([';', ','])
            .find_map(|p| p.trim().strip_prefix("CN="))
            .unwrap_or(&self.subject);
        if self.planned {
            format!("{cn} {NEW_SERIAL}")
        } else {
            format!("{cn} (serial {})", crate::cisco::serial_hex(&self.serial))
        }
    }
}

/// How reports name the serial of a certificate the change creates: it is not known until
/// CUCM regenerates it (issue 20: never printed like a real one).
pub const NEW_SERIAL: &str = "(new, serial not known until regenerated)";

/// The first octets of a planned certificate's placeholder serial, which then has 21 octets
/// in all (prefix, generation, role): RFC 5280 allows at most 20, so no real certificate has
/// one, and [`is_placeholder_serial`] cannot mistake a real serial for it.
const PLACEHOLDER_SERIAL_PREFIX: [u8; 16] = *b"\x7f\xeeitlscope:plan:";

/// Is this serial (as hex, the way reports print it) a planned certificate's placeholder?
pub fn is_placeholder_serial(hex_text: &str) -> bool {
    hex_text.len() == 2 * (PLACEHOLDER_SERIAL_PREFIX.len() + 5)
        && hex::decode(hex_text).is_ok_and(|b| b.starts_with(&PLACEHOLDER_SERIAL_PREFIX))
}

/// Which certificate signs the ITL (phone-behaviour.md §0.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItlSigner {
    /// CUCM before 12.0.
    CallManager,
    /// CUCM 12.0 and later (and `utils itl reset`).
    ItlRecovery,
}

/// A cluster's certificates and how it signs its ITL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Which cluster (0 = the phones' own; a move makes another).
    pub id: u32,
    /// The host name in the CallManager certificate's CN.
    pub hostname: String,
    /// CallManager (CCM+TFTP record).
    pub callmanager: CertId,
    /// The TVS certificates (one per node).
    pub tvs: Vec<CertId>,
    /// ITLRecovery (SAST record), when the ITL has one.
    pub itl_recovery: Option<CertId>,
    /// CAPF.
    pub capf: Option<CertId>,
    /// The ITL signer.
    pub signer: ItlSigner,
    /// "Prepare Cluster for Rollback to pre 8.0" is on: an empty ITL is served.
    pub rollback: bool,
    /// Signers of another cluster imported with Bulk Certificate Management: this cluster's
    /// TVS vouches for them.
    pub imported: Vec<CertId>,
    /// Mixed mode: the CTL the cluster serves; none in non-secure mode (or when the phones'
    /// CTL is not given).
    pub ctl: Option<CtlState>,
}

/// The CTL a mixed-mode cluster serves, as the CTL client last wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlState {
    /// The key that signs it (an eToken, or the publisher's own key when tokenless).
    pub signer: CertId,
    /// Its SAST records (the eTokens, or the tokenless signer).
    pub sast: Vec<CertId>,
    /// The CallManager certificate it lists (CCM+TFTP): the one of the last CTL client run,
    /// stale after a CallManager regeneration until the client is re-run (statement 30).
    pub callmanager: CertId,
    /// Other records kept as they are (CAPF, TFTP, …): (function, certificate).
    pub others: Vec<(u16, CertId)>,
    /// The cluster's ITLRecovery at the last CTL client run (a tokenless CTL may be signed
    /// with it).
    pub itl_recovery: Option<CertId>,
}

impl CtlState {
    /// From the CTL the phones hold.
    pub fn from_trust_list(list: &TrustList<'_>) -> Result<CtlState, String> {
        let with = |f: u16| list.records.iter().filter(move |r| r.function == Some(f));
        let callmanager = with(function::CCM_TFTP)
            .chain(with(function::TFTP))
            .next()
            .map(CertId::from_record)
            .ok_or("the CTL has no CCM+TFTP or TFTP record")?;
        let signer = header_signer(list)
            .and_then(|i| list.records.get(i))
            .map(CertId::from_record)
            .ok_or("the CTL's header names no record of it as its signer")?;
        let others = list
            .records
            .iter()
            .filter(|r| !matches!(r.function, Some(function::SAST | function::CCM_TFTP)))
            .filter_map(|r| Some((r.function?, CertId::from_record(r))))
            .collect();
        Ok(CtlState {
            signer,
            sast: with(function::SAST).map(CertId::from_record).collect(),
            callmanager,
            others,
            itl_recovery: None,
        })
    }

    /// The CTL client re-run on `cluster` (`utils ctl update CTLFile` from 10.0): the CTL now
    /// lists its CallManager and CAPF; a tokenless CTL signed by a key the cluster regenerated since is
    /// signed by the new one (an eToken stays the same, statement 30).
    pub fn updated(&self, cluster: &Cluster) -> CtlState {
        let now = |c: &CertId| {
            if c.same_cert(&self.callmanager) {
                cluster.callmanager.clone()
            } else if let (Some(old), Some(new)) = (&self.itl_recovery, &cluster.itl_recovery)
                && c.same_cert(old)
            {
                new.clone()
            } else {
                c.clone()
            }
        };
        CtlState {
            signer: now(&self.signer),
            sast: self.sast.iter().map(now).collect(),
            callmanager: cluster.callmanager.clone(),
            // The client lists the cluster's CAPF as it is now (a regenerated CAPF too).
            others: self
                .others
                .iter()
                .map(|(f, c)| match (&cluster.capf, *f == function::CAPF) {
                    (Some(capf), true) => (*f, capf.clone()),
                    _ => (*f, c.clone()),
                })
                .collect(),
            itl_recovery: cluster.itl_recovery.clone(),
        }
    }

    /// The CTL file it stands for.
    pub fn file(&self) -> PlannedItl {
        let mut records: Vec<PlannedRecord> = self
            .sast
            .iter()
            .map(|c| PlannedRecord {
                function: function::SAST,
                cert: Some(c.clone()),
            })
            .collect();
        records.push(PlannedRecord {
            function: function::CCM_TFTP,
            cert: Some(self.callmanager.clone()),
        });
        records.extend(self.others.iter().map(|(f, c)| PlannedRecord {
            function: *f,
            cert: Some(c.clone()),
        }));
        let mut file = PlannedItl::new(self.signer.clone(), records);
        // A CTL is never the same file as an ITL of the same certificates.
        file.identity.splice(0..0, b"CTL ".iter().copied());
        file
    }
}

/// The CN of a subject in CUCM's `CN=…;OU=…` form (empty when it has none).
pub fn cn_text(subject: &str) -> String {
    cn_of(subject)
}

fn cn_of(subject: &str) -> String {
    subject
        .split([';', ','])
        .find_map(|p| p.trim().strip_prefix("CN="))
        .unwrap_or_default()
        .to_owned()
}

/// The host a certificate names: its CN, without the `ITLRECOVERY_` prefix CUCM gives the
/// ITLRecovery certificate.
pub fn host_of(subject: &str) -> String {
    let cn = cn_of(subject);
    match cn.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("ITLRECOVERY_") => cn[12..].to_owned(),
        _ => cn,
    }
}

/// The same host? Names are compared whole (case-insensitive), never as substrings: `cucm1`
/// is not `cucm10`. A short name and a full one are the same host when the full name's first
/// label is the short name (`cucm1` and `cucm1.example.com`).
pub fn same_host(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_owned();
    let (a_short, b_short) = (!a.contains('.'), !b.contains('.'));
    (a_short || b_short) && short(a).eq_ignore_ascii_case(&short(b))
}

/// `subject` with its CN renamed from host `old` to `new` (the `ITLRECOVERY_` prefix kept);
/// unchanged when the CN names another host. Only the CN is touched, and only when it names
/// `old` whole.
pub fn rename_subject(subject: &str, old: &str, new: &str) -> String {
    let parts: Vec<String> = subject
        .split_inclusive([';', ','])
        .map(|piece| {
            // Each piece keeps its separator, so the subject is rebuilt as it was written.
            let (part, sep) = match piece.strip_suffix([';', ',']) {
                Some(p) => (p, &piece[p.len()..]),
                None => (piece, ""),
            };
            let Some(cn) = part.trim().strip_prefix("CN=") else {
                return piece.to_owned();
            };
            let (prefix, host) = match cn.get(..12) {
                Some(p) if p.eq_ignore_ascii_case("ITLRECOVERY_") => (p, &cn[12..]),
                _ => ("", cn),
            };
            if !same_host(host, old) {
                return piece.to_owned();
            }
            // Keep the CN's form: a short CN gets the new short name.
            let renamed = if !host.contains('.') {
                new.split('.').next().unwrap_or(new)
            } else {
                new
            };
            format!("CN={prefix}{renamed}{sep}")
        })
        .collect();
    parts.concat()
}

impl Cluster {
    /// The cluster whose ITL (or CTL) this is.
    pub fn from_trust_list(list: &TrustList<'_>, id: u32) -> Result<Cluster, String> {
        if list.is_rollback() {
            return Err(
                "this is a rollback ITL (records without certificates): the phones holding it accept any ITL and config, so there is nothing to plan".to_owned(),
            );
        }
        let with = |f: u16| list.records.iter().filter(move |r| r.function == Some(f));
        let callmanager = with(function::CCM_TFTP)
            .chain(with(function::TFTP))
            .next()
            .map(CertId::from_record)
            .ok_or("no CCM+TFTP or TFTP record: not a CUCM ITL/CTL")?;
        let is_recovery = |r: &&Record<'_>| {
            r.subject.is_some_and(|s| {
                String::from_utf8_lossy(s)
                    .to_ascii_uppercase()
                    .contains("ITLRECOVERY")
            })
        };
        let itl_recovery = with(function::SAST)
            .find(is_recovery)
            .map(CertId::from_record);
        let signer = match header_signer(list).and_then(|i| list.records.get(i)) {
            Some(r) if is_recovery(&r) => ItlSigner::ItlRecovery,
            _ => ItlSigner::CallManager,
        };
        Ok(Cluster {
            id,
            hostname: cn_of(&callmanager.subject),
            tvs: with(function::TVS).map(CertId::from_record).collect(),
            capf: with(function::CAPF).next().map(CertId::from_record),
            callmanager,
            itl_recovery,
            signer,
            rollback: false,
            imported: Vec::new(),
            ctl: None,
        })
    }

    /// The nodes, as their TVS certificates name them (TVS runs on every CallManager node,
    /// statement 10), in ITL order.
    pub fn node_names(&self) -> Vec<String> {
        self.tvs.iter().map(|t| host_of(&t.subject)).collect()
    }

    /// Which TVS records belong to node `name` (matched whole, never as a substring).
    pub fn tvs_of(&self, name: &str) -> Vec<usize> {
        (0..self.tvs.len())
            .filter(|&i| same_host(&host_of(&self.tvs[i].subject), name))
            .collect()
    }

    /// The certificate that signs its ITL.
    pub fn itl_signer(&self) -> &CertId {
        match (self.signer, &self.itl_recovery) {
            (ItlSigner::ItlRecovery, Some(r)) => r,
            _ => &self.callmanager,
        }
    }

    /// The certificates its TVS vouches for: its own signers, and imported ones.
    pub fn tvs_knows(&self) -> Vec<&CertId> {
        let mut known = vec![&self.callmanager];
        known.extend(&self.itl_recovery);
        known.extend(&self.imported);
        known
    }

    /// The ITL it serves.
    pub fn itl(&self) -> PlannedItl {
        let mut records = Vec::new();
        let signer = self.itl_signer().clone();
        if self.rollback {
            for f in [
                function::SAST,
                function::CCM_TFTP,
                function::TVS,
                function::CAPF,
            ] {
                records.push(PlannedRecord {
                    function: f,
                    cert: None,
                });
            }
        } else {
            let rec = |f: u16, c: &CertId| PlannedRecord {
                function: f,
                cert: Some(c.clone()),
            };
            if self.signer == ItlSigner::CallManager {
                records.push(rec(function::SAST, &self.callmanager));
            }
            if let Some(r) = &self.itl_recovery {
                records.push(rec(function::SAST, r));
            }
            records.push(rec(function::CCM_TFTP, &self.callmanager));
            for t in &self.tvs {
                records.push(rec(function::TVS, t));
            }
            if let Some(c) = &self.capf {
                records.push(rec(function::CAPF, c));
            }
        }
        PlannedItl::new(signer, records)
    }
}

/// One record of a planned ITL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRecord {
    /// Role.
    pub function: u16,
    /// The certificate (none in a rollback ITL).
    pub cert: Option<CertId>,
}

/// An ITL that does not exist yet, with what the trust decision reads of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedItl {
    /// Stands for the file's bytes: equal for equal ITLs, different otherwise.
    pub identity: Vec<u8>,
    /// Who signs it.
    pub signer: CertId,
    /// Its records.
    pub records: Vec<PlannedRecord>,
}

impl PlannedItl {
    /// An ITL signed by `signer` holding `records`.
    pub fn new(signer: CertId, records: Vec<PlannedRecord>) -> Self {
        let mut identity = b"planned ITL".to_vec();
        for c in std::iter::once(Some(&signer)).chain(records.iter().map(|r| r.cert.as_ref())) {
            identity.push(0);
            if let Some(c) = c {
                identity.extend_from_slice(&c.serial);
                identity.extend(c.key.iter().flatten());
            }
        }
        PlannedItl {
            identity,
            signer,
            records,
        }
    }

    /// The header a file signed by `signer` carries.
    pub fn header_of(signer: &CertId) -> Header<'_> {
        Header {
            version: (1, 2),
            signer_name: Some(signer.subject.as_bytes()),
            signer_serial: Some(&signer.serial),
            signer_issuer: Some(signer.issuer.as_bytes()),
            digest_algorithm: Some(1),
            ..Header::default()
        }
    }

    /// The ITL as the trust decision reads it.
    pub fn view(&self) -> TrustList<'_> {
        let records = self
            .records
            .iter()
            .map(|r| match &r.cert {
                Some(c) => Record {
                    function: Some(r.function),
                    subject: Some(c.subject.as_bytes()),
                    issuer: Some(c.issuer.as_bytes()),
                    serial: Some(&c.serial),
                    public_key: c.key.as_deref(),
                    cert_hash: c.sha1.as_deref(),
                    ..Record::default()
                },
                None => Record {
                    function: Some(r.function),
                    ..Record::default()
                },
            })
            .collect();
        TrustList {
            format: FileFormat::Itl,
            bytes: &self.identity,
            header: Self::header_of(&self.signer),
            records,
        }
    }
}

/// Signature checks for files that do not exist yet: a file signed with a key verifies with
/// a record holding that same key (what RSA verification would find, without the bytes).
pub struct PlannedVerifier<'a> {
    /// The key the offered file is signed with.
    pub signed_with: &'a CertId,
}

impl Verifier for PlannedVerifier<'_> {
    fn verify_with_trust(
        &self,
        _file: &[u8],
        header: &Header<'_>,
        trust: &TrustList<'_>,
        allowed: &[u16],
    ) -> SignatureCheck {
        let Some(serial) = header.signer_serial else {
            return SignatureCheck::Invalid {
                reason: "no signer in the header".to_owned(),
            };
        };
        let mut found = false;
        for (i, r) in trust.records.iter().enumerate() {
            let role_ok = r.function.is_some_and(|f| allowed.contains(&f));
            if role_ok && r.serial.is_some_and(|s| serial_eq(s, serial)) {
                found = true;
                if self.signed_with.is_in(r) {
                    return SignatureCheck::Valid { signer_record: i };
                }
            }
        }
        SignatureCheck::Invalid {
            reason: if found {
                format!(
                    "digest mismatch: {} is signed with another key than the record of that serial",
                    self.signed_with.label()
                )
            } else {
                format!(
                    "key not found: signer {} is not in the trust list",
                    self.signed_with.label()
                )
            },
        }
    }
}

/// What the phone's TVS would answer: the TVS servers it asks present `presents`, and vouch
/// for `knows`.
pub struct PlannedTvs<'a> {
    /// The certificates the TVS servers present.
    pub presents: &'a [CertId],
    /// The certificates they vouch for.
    pub knows: Vec<&'a CertId>,
    /// The signer asked about.
    pub signer: &'a CertId,
}

impl TvsWitness for PlannedTvs<'_> {
    fn vouch(
        &self,
        held: &TrustList<'_>,
        tvs: &[usize],
        offered: &Offered<'_>,
        why: &str,
    ) -> Decision {
        let what = offered.what;
        // A phone whose TVS fails asks another of its CallManager group (statement 31): the
        // first server that is trusted and knows the signer decides.
        let known = self.knows.iter().any(|k| k.same_cert(self.signer));
        let mut trusted = Vec::new();
        for server in self.presents {
            let Some(&record) = tvs
                .iter()
                .find(|&&i| held.records.get(i).is_some_and(|r| server.is_in(r)))
            else {
                continue;
            };
            let rec = crate::trust::records::describe_record(held, record);
            if known {
                return Decision::accepted(
                    trust::Route::ViaTvs,
                    format!(
                        "only through TVS: {what}'s signer is not in the phone's ITL, but TVS {} presents the certificate of {rec} and vouches for the signer {}",
                        server.label(),
                        self.signer.label()
                    ),
                );
            }
            trusted.push((server, rec));
        }
        if let Some((server, rec)) = trusted.first() {
            return Decision::rejected(format!(
                "not at all: {what}'s signer {} is not in the phone's ITL ({why}); TVS {} is trusted ({rec}) but does not know that signer",
                self.signer.label(),
                server.label()
            ));
        }
        let names: Vec<String> = self.presents.iter().map(CertId::label).collect();
        Decision::rejected(format!(
            "not at all: {what}'s signer {} is not in the phone's ITL, and TVS presents {} which matches none of the ITL's {} TVS record(s)",
            self.signer.label(),
            if names.is_empty() {
                "no certificate".to_owned()
            } else {
                names.join(", ")
            },
            tvs.len()
        ))
    }
}
