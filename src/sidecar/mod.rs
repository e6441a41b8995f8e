//! Evidence that lives outside the capture (`analyze --evidence FILE...`): the phone's console
//! log and Problem Report Tool bundle, the text of its Status Messages page, CUCM's `show itl`
//! / `show ctl` output, and certificates exported from CUCM (`tvs.pem`, `CallManager.pem`).
//!
//! An input stage like `capture`: bytes in, plain facts out, each citing its file, archive
//! member and line. Files are recognised by content, never by name ([`detect`]); the wordings
//! recognised in phone text live in one table ([`wording::WORDINGS`]). Nothing here judges a
//! phone: the diagnosis weighs these facts against the capture.

pub mod archive;
pub mod cert;
pub mod cli;
pub mod console;
pub mod detect;
pub mod error;
pub mod hash;
pub mod status;
pub mod tvstrace;
pub mod when;
pub mod wording;

pub use error::SidecarError;

use crate::evidence::CertificateInfo;
use std::fmt;
use std::path::Path;

/// Where a fact was read: the file given on the command line, the archive member inside it
/// (nested members joined with `!`), and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The file as given.
    pub file: String,
    /// The member of an archive, when the file is one.
    pub member: Option<String>,
    /// 1-based line number (the first line of a re-joined log entry).
    pub line: Option<usize>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(m) = &self.member {
            write!(f, "!{m}")?;
        }
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        Ok(())
    }
}

/// What kind of text a file (or archive member) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A phone console log (web "Console logs", PRT member, SSH `show strace`).
    ConsoleLog,
    /// The phone's Status Messages page (or other phone web page) as text.
    StatusMessages,
    /// CUCM CLI output: `show itl`, `show ctl`, `utils itl reset`, `utils ctl`.
    CucmCli,
    /// An X.509 certificate, PEM or DER.
    Certificate,
    /// A tar / gzip archive (a PRT bundle `probrep-*.tar.gz`).
    Archive,
    /// A CUCM TVS service trace (RTMT, "detailed": `HH:MM:SS.mmm | debug …`).
    TvsTrace,
}

impl SourceKind {
    /// `console-log`, `status-messages`, `cucm-cli`, `certificate` or `archive`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::ConsoleLog => "console-log",
            SourceKind::StatusMessages => "status-messages",
            SourceKind::CucmCli => "cucm-cli",
            SourceKind::Certificate => "certificate",
            SourceKind::Archive => "archive",
            SourceKind::TvsTrace => "tvs-trace",
        }
    }
}

/// The `DeviceTLInfo` alarm as a console log prints it (the same fields the SIP alarm has).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoggedAlarm {
    /// `DeviceName`.
    pub device_name: Option<String>,
    /// `ITL_Signature` as written.
    pub itl_signature_raw: Option<String>,
    /// `ITL_Signature` as lower-case hex, when it is hex.
    pub itl_signature: Option<String>,
    /// `CTL_Signature` as lower-case hex, when it is hex.
    pub ctl_signature: Option<String>,
    /// `CTL_Signature` as written (`Not Installed` when the phone holds no CTL).
    pub ctl_signature_raw: Option<String>,
    /// `ITL_TFTP_Server`.
    pub itl_tftp_server: Option<String>,
    /// `StatusCode`.
    pub status_code: Option<u32>,
}

impl LoggedAlarm {
    /// True when `CTL_Signature` says "Not Installed" (any case): the phone holds no CTL.
    pub fn ctl_not_installed(&self) -> bool {
        self.ctl_signature_raw
            .as_deref()
            .is_some_and(crate::evidence::says_not_installed)
    }
}

/// What one recognised line (or re-joined entry) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactKind {
    /// The phone asks for a trust list (`GETXXTP [src=ITLSEP….tlv]`, `Requesting CTL… from`).
    TrustListRequest {
        /// Requested name, when the line gives it.
        name: Option<String>,
    },
    /// A trust list verified and installed ("TL file verified successfully", "Trust List
    /// Updated", "ITL installed").
    TrustListVerified,
    /// A trust list rejected ("Trust List update failed", "verification failure").
    TrustListFailed,
    /// A signed file authenticated ("Hashes match... authentication successful").
    FileAuthenticated,
    /// A signed config rejected ("invalid file ….cnf.xml.sgn, authenticated fail", "Config file
    /// signature failure", "Authentication failed").
    ConfigAuthFailed {
        /// The file, when the line names it.
        name: Option<String>,
    },
    /// The phone queries TVS (connect, request sent).
    TvsQuery,
    /// TVS answered and vouched ("TVS added cert to TVS cache", "Authenticated … via TVS").
    TvsVouched,
    /// The TLS connection to TVS failed ("SSL handshake failed" to 2445).
    TvsFailed,
    /// A server certificate the phone's trust lists do not hold ("HTTPS cert not in CTL").
    CertNotInTrustList,
    /// A TFTP error for a file ("TFTP Error : SEP….cnf.xml.sgn").
    TftpError {
        /// The file, when the line names it.
        name: Option<String>,
    },
    /// The phone holds no trust list ("No Trust List Installed").
    NoTrustList,
    /// The phone's `DeviceTLInfo` alarm as logged.
    DeviceTlInfo(LoggedAlarm),
    /// The ITL signature (hash) the phone's web page or screen shows, lower-case hex.
    ItlSignature {
        /// Lower-case hex.
        hex: String,
    },
    /// The phone checked a signed file (79xx `SECD:` wording, phone-log-lines.md §4 A):
    /// `validate_file_envelope: File sign verify SUCCESS|FAILED` (the signed envelope of the
    /// file just downloaded, a trust list at boot) or `verifyFile: verify SUCCESS|FAILED <file>`.
    FileVerification {
        /// SUCCESS (true) or FAILED (false).
        ok: bool,
        /// The file, when the line names it (`verifyFile … </usr/ram/SEP….cnf.xml>`).
        file: Option<String>,
        /// True for `validate_file_envelope` (the envelope), false for `verifyFile`.
        envelope: bool,
    },
    /// `tvs_cert_vfy: TVS cert verified with hash from TL, <IP>` (§4 B): TVS's own certificate
    /// is in the TVS record of the phone's trust list, i.e. the phone trusts that TVS
    /// (statement 12).
    TvsCertTrusted {
        /// The TVS address the line names.
        server: Option<String>,
    },
    /// `processTvsSrvrResponse: Authentication Response received, status : N` (§4 B, §2.5 D):
    /// TVS's answer; 0 is TVS vouching for the certificate asked about.
    TvsResponse {
        /// The status as logged.
        status: u32,
    },
    /// The phone's own HTTP `User-Agent` in a logged request (`Cisco-CP7821/12.1.1`): its
    /// model and firmware, where the capture carries no HTTP download to show them.
    UserAgent {
        /// The agent's first word, as logged.
        agent: String,
    },
}

impl FactKind {
    /// A stable name for JSON (`trust-list-verified`, `device-tl-info`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            FactKind::TrustListRequest { .. } => "trust-list-request",
            FactKind::TrustListVerified => "trust-list-verified",
            FactKind::TrustListFailed => "trust-list-failed",
            FactKind::FileAuthenticated => "file-authenticated",
            FactKind::ConfigAuthFailed { .. } => "config-auth-failed",
            FactKind::TvsQuery => "tvs-query",
            FactKind::TvsVouched => "tvs-vouched",
            FactKind::TvsFailed => "tvs-failed",
            FactKind::CertNotInTrustList => "cert-not-in-trust-list",
            FactKind::TftpError { .. } => "tftp-error",
            FactKind::NoTrustList => "no-trust-list",
            FactKind::DeviceTlInfo(_) => "device-tl-info",
            FactKind::ItlSignature { .. } => "itl-signature",
            FactKind::FileVerification { ok: true, .. } => "file-verified",
            FactKind::FileVerification { ok: false, .. } => "file-verify-failed",
            FactKind::TvsCertTrusted { .. } => "tvs-cert-trusted",
            FactKind::TvsResponse { .. } => "tvs-response",
            FactKind::UserAgent { .. } => "user-agent",
        }
    }

    /// What the fact says about condition 3: `Some(true)` a verification failure shown,
    /// `Some(false)` a verification that succeeded, None nothing.
    pub fn verification_failed(&self) -> Option<bool> {
        match self {
            FactKind::TrustListFailed | FactKind::ConfigAuthFailed { .. } => Some(true),
            FactKind::TrustListVerified | FactKind::FileAuthenticated => Some(false),
            FactKind::FileVerification { ok, .. } => Some(!ok),
            _ => None,
        }
    }
}

/// One recognised fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideFact {
    /// Where.
    pub source: Source,
    /// What kind of text it came from.
    pub source_kind: SourceKind,
    /// What it says.
    pub kind: FactKind,
    /// The phone it is about (12 upper-case hex MAC), from the line or its file.
    pub device: Option<String>,
    /// The timestamp as the line writes it (phones log no year; not comparable with capture
    /// time).
    pub time: Option<String>,
    /// The line (or re-joined entry), shortened.
    pub text: String,
}

/// A trust-list record as `show itl` / `show ctl` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CliRecord {
    /// `ITL Record #:N`.
    pub number: usize,
    /// `FUNCTION` (`System Administrator Security Token`, `CCM+TFTP`, `TVS`, …).
    pub function: Option<String>,
    /// `DNSNAME`.
    pub dns_name: Option<String>,
    /// `SUBJECTNAME`.
    pub subject: Option<String>,
    /// `ISSUERNAME`.
    pub issuer: Option<String>,
    /// `SERIALNUMBER`, lower-case hex without separators, leading zeros stripped.
    pub serial: Option<String>,
    /// The certificate's SHA-1 (`CERTIFICATE … (SHA1 Hash HEX)`) or `CERTHASH`, lower-case hex.
    pub cert_sha1: Option<String>,
    /// "This etoken was used to sign …" (true) / "… was not used …" (false).
    pub signed_this_file: Option<bool>,
}

/// A trust list as CUCM's `show itl` / `show ctl` describes the file it serves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CliTrustList {
    /// Where.
    pub source: Source,
    /// `ITL` or `CTL`.
    pub kind: String,
    /// `The checksum value of the … file: …(MD5)`, lower-case hex.
    pub md5: Option<String>,
    /// `…(SHA1)`, lower-case hex.
    pub sha1: Option<String>,
    /// `Length of … file: N`.
    pub length: Option<u64>,
    /// The records.
    pub records: Vec<CliRecord>,
    /// `SIGNERNAME` of the header.
    pub signer_name: Option<String>,
    /// `SERIALNUMBER` of the header, lower-case hex.
    pub signer_serial: Option<String>,
    /// "The … file was verified successfully." (true), "Verification of the … file failed."
    /// (false).
    pub verified: Option<bool>,
    /// "… File not found", "Error parsing the … File".
    pub error: Option<String>,
}

/// A CUCM command whose output (or echo) says which key signs (`utils itl reset localkey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliAction {
    /// Where.
    pub source: Source,
    /// What it says, in words.
    pub what: String,
}

/// A certificate exported from CUCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedCert {
    /// Where (PEM: the line of its BEGIN).
    pub source: Source,
    /// The role the file's name suggests (`tvs`, `callmanager`, `itlrecovery`, `tomcat`,
    /// `capf`), used only to say which record it should match.
    pub role_hint: Option<&'static str>,
    /// The decoded certificate.
    pub info: CertificateInfo,
}

/// What was done with one ingested file (every file is reported).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IngestedFile {
    /// The file as given.
    pub path: String,
    /// What it was recognised as (an archive: `archive`; its members below).
    pub kind: Option<SourceKind>,
    /// Members of an archive, or the file itself: what each was taken for.
    pub parts: Vec<IngestedPart>,
    /// Members left aside (not text of a known kind, too large…), with why.
    pub skipped: Vec<String>,
}

/// One text read: a plain file, or one member of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IngestedPart {
    /// Member name, None for the file itself.
    pub member: Option<String>,
    /// Recognised kind.
    pub kind: Option<SourceKind>,
    /// Lines (or log entries after re-joining) read.
    pub lines: usize,
    /// Lines that gave a fact.
    pub recognised: usize,
    /// Lines read and ignored (nothing trust-related recognised).
    pub ignored: usize,
    /// Remarks (lines cut, entries re-joined…).
    pub notes: Vec<String>,
}

/// Everything ingested from the `--evidence` files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SideEvidence {
    /// One entry per file given, in order.
    pub files: Vec<IngestedFile>,
    /// Facts from phone text, in file and line order.
    pub facts: Vec<SideFact>,
    /// Trust lists as CUCM's CLI printed them.
    pub cli_lists: Vec<CliTrustList>,
    /// CLI commands that say which key signs.
    pub cli_actions: Vec<CliAction>,
    /// Exported certificates.
    pub certificates: Vec<ExportedCert>,
    /// Certificate requests read from CUCM TVS traces, in file and line order.
    pub tvs_trace: Vec<TvsTraceRequest>,
    /// What was set aside while reading the inputs from outside the capture (a file of an
    /// `--evidence` folder that is no evidence, inventory columns that stand for no option),
    /// shown among the report's notes.
    pub input_notes: Vec<String>,
}

/// What a CUCM TVS trace says TVS answered to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TvsAnswer {
    /// `Certificate found and equal` (or `Found entry` for a query): TVS vouched.
    Vouched,
    /// `Cannot find the certificate in the cache` / `certificate not found`.
    NotFound,
    /// The trace shows the request but no answer.
    Unknown,
}

impl TvsAnswer {
    /// `vouched`, `not-found` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            TvsAnswer::Vouched => "vouched",
            TvsAnswer::NotFound => "not-found",
            TvsAnswer::Unknown => "unknown",
        }
    }
}

/// One certificate request TVS handled, as its trace shows it (phone-log-lines.md §2.5 F, §4 C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TvsTraceRequest {
    /// Where the request starts (the `MsgType` line, or the lookup when none is logged).
    pub source: Source,
    /// The trace's clock (`15:21:02.010`; no date).
    pub time: Option<String>,
    /// The phone's address from the `tvsSSLHandShake` line before the request.
    pub client: Option<std::net::IpAddr>,
    /// `TVS_MSG_CERT_VERIFICATION_REQ`, `TVS_MSG_QUERY_CERT_REQ`; None when the trace shows
    /// only the lookup.
    pub message: Option<String>,
    /// The certificate asked about, as the trace names it (subject, issuer, serial or the
    /// lookup's map id).
    pub certificate: Option<String>,
    /// TVS's answer.
    pub answer: TvsAnswer,
    /// Where the answer was read.
    pub answer_source: Option<Source>,
}

impl SideEvidence {
    /// Appends what another ingestion found.
    pub fn absorb(&mut self, other: SideEvidence) {
        self.files.extend(other.files);
        self.facts.extend(other.facts);
        self.cli_lists.extend(other.cli_lists);
        self.cli_actions.extend(other.cli_actions);
        self.certificates.extend(other.certificates);
        self.tvs_trace.extend(other.tvs_trace);
        self.input_notes.extend(other.input_notes);
    }

    /// True when no file was given.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Limits that bound ingestion whatever the files claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read from disk.
    pub max_file: u64,
    /// Bytes decompressed from one file in total (all members, all nesting levels).
    pub max_unpacked: u64,
    /// Largest single member kept.
    pub max_member: u64,
    /// Archive entries examined per file (all nesting levels).
    pub max_entries: usize,
    /// Archive levels (each gzip and each tar counts one; a PRT's `.tar.gz` is two).
    pub max_depth: usize,
    /// Facts kept per file.
    pub max_facts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file: 256 << 20,
            max_unpacked: 512 << 20,
            max_member: 64 << 20,
            max_entries: 10_000,
            max_depth: 8,
            max_facts: 10_000,
        }
    }
}

/// Reads every file given with `--evidence`. A file that is none of the known kinds (or an
/// archive holding none) is an error naming it.
pub fn ingest_paths<P: AsRef<Path>>(
    paths: &[P],
    limits: &Limits,
) -> Result<SideEvidence, SidecarError> {
    let mut out = SideEvidence::default();
    for path in paths {
        let path = path.as_ref();
        if path.is_dir() {
            ingest_folder(path, limits, &mut out)?;
            continue;
        }
        let name = path.display().to_string();
        let bytes = read_bounded(path, limits.max_file)?;
        detect::ingest_bytes(&name, &bytes, limits, &mut out)?;
    }
    Ok(out)
}

/// `--evidence DIR`: every file of the folder, in name order (a folder of PRT bundles named
/// by MAC, logs, exports). A file given by name must be evidence; a file that merely sits in
/// the folder and is none (a README, a spreadsheet) is set aside and named in a note.
fn ingest_folder(dir: &Path, limits: &Limits, out: &mut SideEvidence) -> Result<(), SidecarError> {
    let io = |e: std::io::Error| SidecarError::Io {
        file: dir.display().to_string(),
        error: e.to_string(),
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    let mut skipped = Vec::new();
    for path in &files {
        let name = path.display().to_string();
        let bytes = read_bounded(path, limits.max_file)?;
        // A failed file must leave nothing half-read behind: ingest into a copy first.
        let mut one = SideEvidence::default();
        match detect::ingest_bytes(&name, &bytes, limits, &mut one) {
            Ok(()) => out.absorb(one),
            Err(SidecarError::Unrecognised { file, .. }) => skipped.push(file),
            Err(e) => return Err(e),
        }
    }
    if files.is_empty() {
        out.input_notes.push(format!(
            "--evidence {}: the folder holds no file",
            dir.display()
        ));
    }
    if !skipped.is_empty() {
        let shown: Vec<&str> = skipped.iter().take(10).map(String::as_str).collect();
        let more = skipped.len().saturating_sub(shown.len());
        out.input_notes.push(format!(
            "--evidence {}: {} file(s) set aside, not evidence itlscope reads: {}{}",
            dir.display(),
            skipped.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, SidecarError> {
    use std::io::Read;
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| SidecarError::Io {
        file: name.clone(),
        error: e.to_string(),
    })?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SidecarError::Io {
            file: name.clone(),
            error: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(SidecarError::TooLarge { file: name, limit });
    }
    Ok(bytes)
}

/// The MAC of the first `SEP` + 12 hex digits in `text` (upper-case), if any.
pub fn find_mac(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 15 <= b.len() {
        if b[i..i + 3].eq_ignore_ascii_case(b"SEP")
            && b[i + 3..i + 15].iter().all(u8::is_ascii_hexdigit)
            && b.get(i + 15).is_none_or(|c| !c.is_ascii_hexdigit())
        {
            return Some(text[i + 3..i + 15].to_ascii_uppercase());
        }
        i += 1;
    }
    None
}

/// Shortens a line for reports.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    let t = text.trim();
    if t.chars().count() <= MAX {
        t.to_string()
    } else {
        let cut: String = t.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_found_in_names_and_subjects() {
        assert_eq!(
            find_mac("[src=ITLSEPB000B4BA0AEE.tlv]").as_deref(),
            Some("B000B4BA0AEE")
        );
        assert_eq!(
            find_mac("CN=CP-8861-SEPb000b4ba0aee").as_deref(),
            Some("B000B4BA0AEE")
        );
        assert_eq!(find_mac("SEPABC"), None);
        assert_eq!(find_mac("SEPB000B4BA0AEE1"), None);
    }

    #[test]
    fn sources_render_file_member_line() {
        let s = Source {
            file: "p.tar.gz".into(),
            member: Some("logs/messages".into()),
            line: Some(12),
        };
        assert_eq!(s.to_string(), "p.tar.gz!logs/messages:12");
    }
}
