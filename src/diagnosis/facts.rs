//! What the engineer knows and the capture cannot show: the phone's installed ITL (file or
//! hash read off the phone), whether the phone shows a verification failure, and whether a
//! backup of the TFTP (`CallManager.pem`) private key exists.

use std::fmt;

/// The phone's own status, as the engineer read it off the phone (`--phone-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhoneStatus {
    /// The phone shows "Trust List update failed" or an "authenticated fail" for its config.
    Failed,
    /// The phone shows no verification failure.
    Ok,
    /// Not known.
    #[default]
    Unknown,
}

impl PhoneStatus {
    /// Parses `failed`, `ok` or `unknown`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "failed" | "fail" => Some(PhoneStatus::Failed),
            "ok" => Some(PhoneStatus::Ok),
            "unknown" => Some(PhoneStatus::Unknown),
            _ => None,
        }
    }
}

/// Whether a backup of the old TFTP private key exists (`--key-backup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyBackup {
    /// A backup (DRS, or `CallManager.pem` with its key) exists.
    Yes,
    /// No backup exists.
    No,
    /// Not known.
    #[default]
    Unknown,
}

impl KeyBackup {
    /// Parses `yes`, `no` or `unknown`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(KeyBackup::Yes),
            "no" => Some(KeyBackup::No),
            "unknown" => Some(KeyBackup::Unknown),
            _ => None,
        }
    }

    /// `yes`, `no` or `unknown`, as the option takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyBackup::Yes => "yes",
            KeyBackup::No => "no",
            KeyBackup::Unknown => "unknown",
        }
    }
}

/// A digest algorithm, decided by the length of a hash value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// 16 bytes.
    Md5,
    /// 20 bytes.
    Sha1,
    /// 32 bytes.
    Sha256,
}

impl HashAlgorithm {
    /// `md5`, `sha1` or `sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "md5",
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha256 => "sha256",
        }
    }

    /// The name people write: `MD5`, `SHA-1`, `SHA-256`.
    pub fn display_name(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha256 => "SHA-256",
        }
    }
}

/// A hash of a trust list as shown by the phone (Settings > Security Configuration > Trust
/// List) or sent in its `DeviceTLInfo` alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItlHash {
    /// MD5, SHA-1 or SHA-256, by length.
    pub algorithm: HashAlgorithm,
    /// Lower-case hex without separators.
    pub hex: String,
}

/// Why a hash value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// A character that is neither a hex digit nor a separator.
    #[error("`{0}` is not a hex digit")]
    NotHex(char),
    /// An odd number of hex digits.
    #[error("odd number of hex digits ({0})")]
    OddLength(usize),
    /// A length that is no known digest.
    #[error("{0} bytes is not an MD5 (16), SHA-1 (20) or SHA-256 (32) hash")]
    UnknownLength(usize),
    /// The value carries an algorithm tag (`(SHA1)`) that its length contradicts.
    #[error(
        "labelled {label} but {bytes} bytes long, which is {actual}: check which hash was copied"
    )]
    LabelMismatch {
        /// The algorithm the tag names.
        label: &'static str,
        /// The hash's length in bytes.
        bytes: usize,
        /// The algorithm that length means.
        actual: &'static str,
    },
}

impl ItlHash {
    /// Parses hex as the phone or CUCM shows it: separators (spaces, colons, dashes) allowed,
    /// any case, quotes and HTML tags (`"<B>EE 5C …</B>"`) and CUCM's `(MD5)` / `(SHA1)` tag
    /// ignored. The algorithm follows from the length: 16 bytes MD5, 20 SHA-1, 32 SHA-256.
    pub fn parse(text: &str) -> Result<ItlHash, HashError> {
        let (text, label) = strip_decoration(text);
        let mut hex = String::with_capacity(text.len().min(128));
        for c in text.chars() {
            if c.is_ascii_hexdigit() {
                hex.push(c.to_ascii_lowercase());
            } else if c.is_whitespace() || c == ':' || c == '-' {
                continue;
            } else {
                return Err(HashError::NotHex(c));
            }
        }
        if !hex.len().is_multiple_of(2) {
            return Err(HashError::OddLength(hex.len()));
        }
        let algorithm = match hex.len() / 2 {
            16 => HashAlgorithm::Md5,
            20 => HashAlgorithm::Sha1,
            32 => HashAlgorithm::Sha256,
            n => return Err(HashError::UnknownLength(n)),
        };
        // A tag that names another algorithm than the length means a value cut or pasted
        // together: taking it by length would compare the wrong digest without a word.
        if let Some(label) = label.filter(|l| *l != algorithm) {
            return Err(HashError::LabelMismatch {
                label: label.display_name(),
                bytes: hex.len() / 2,
                actual: algorithm.display_name(),
            });
        }
        Ok(ItlHash { algorithm, hex })
    }
}

/// Drops what surrounds a hash where people copy it from: quotes, `<B>`…`</B>`, a trailing
/// `(MD5)`/`(SHA1)`/`(SHA256)` tag (returned), a `0x` prefix.
fn strip_decoration(text: &str) -> (String, Option<HashAlgorithm>) {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            '"' | '\'' if !in_tag => {}
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let mut t = out.trim();
    let mut label = None;
    for (tag, algorithm) in [
        ("(md5)", HashAlgorithm::Md5),
        ("(sha1)", HashAlgorithm::Sha1),
        ("(sha-1)", HashAlgorithm::Sha1),
        ("(sha256)", HashAlgorithm::Sha256),
        ("(sha-256)", HashAlgorithm::Sha256),
    ] {
        if t.len() >= tag.len()
            && t.is_char_boundary(t.len() - tag.len())
            && t[t.len() - tag.len()..].eq_ignore_ascii_case(tag)
        {
            t = t[..t.len() - tag.len()].trim_end();
            label = Some(algorithm);
        }
    }
    (t.strip_prefix("0x").unwrap_or(t).to_string(), label)
}

impl fmt::Display for ItlHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm.as_str(), self.hex)
    }
}

/// The phone's installed ITL file, as copied off the phone or from a known earlier download
/// (`--phone-itl FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneItlFile {
    /// Where it came from (shown in reports).
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Why a file given as `--phone-itl` was refused: it is not an ITL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneItlError {
    /// A packet capture.
    #[error(
        "this is a {0} capture, not an ITL: give it as a capture to analyze, and the phone's ITL file (ITLSEP<MAC>.tlv) with --phone-itl"
    )]
    Capture(&'static str),
    /// `--phone-ctl` was given something else than a CTL.
    #[error("this is {0}, not a CTL: the phone's CTL is CTLSEP<MAC>.tlv or CTLFile.tlv")]
    NotCtl(&'static str),
    /// A CTL (Certificate Trust List): same layout as an ITL, another file.
    #[error(
        "this is a CTL (Certificate Trust List{0}), not an ITL: the phone's ITL is ITLSEP<MAC>.tlv or ITLFile.tlv"
    )]
    Ctl(String),
    /// A signed file (config, firmware `.loads`/`.sbn`).
    #[error("this is a signed file{0} (config or firmware), not an ITL")]
    Signed(String),
    /// Text (a hash pasted into a file, a config, a log…).
    #[error(
        "this is a text file, not an ITL (to give the hash the phone shows, use --phone-itl-hash HEX)"
    )]
    Text,
    /// Bytes without a Cisco header.
    #[error("this is not a Cisco trust list ({0})")]
    Unknown(String),
}

impl PhoneItlFile {
    /// Takes `bytes` as the phone's ITL only when they are one: a capture, a CTL, a signed
    /// file, text or unknown bytes are refused, saying what they are. An ITL whose records are
    /// damaged is kept (its header says ITL; the report says it does not parse).
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Result<PhoneItlFile, PhoneItlError> {
        use crate::cisco::{FileFormat, detect_format, header::parse_header};
        if let Some(kind) = crate::capture::file_kind(&bytes) {
            return Err(PhoneItlError::Capture(kind));
        }
        let filename = || {
            parse_header(&bytes)
                .ok()
                .and_then(|h| h.filename)
                .map(|n| format!(", FILENAME {}", String::from_utf8_lossy(n)))
                .unwrap_or_default()
        };
        match detect_format(&bytes) {
            Some(FileFormat::Itl) => Ok(PhoneItlFile {
                name: name.into(),
                bytes,
            }),
            Some(FileFormat::Ctl) => Err(PhoneItlError::Ctl(filename())),
            Some(FileFormat::Signed) => Err(PhoneItlError::Signed(filename())),
            None if looks_like_text(&bytes) => Err(PhoneItlError::Text),
            None => Err(PhoneItlError::Unknown(match parse_header(&bytes) {
                Err(e) => e.to_string(),
                Ok(_) => "unrecognised content".into(),
            })),
        }
    }
}

impl PhoneItlFile {
    /// Takes `bytes` as the phone's CTL (`--phone-ctl`) only when they are one; anything else
    /// is refused, saying what it is.
    pub fn new_ctl(name: impl Into<String>, bytes: Vec<u8>) -> Result<PhoneItlFile, PhoneItlError> {
        use crate::cisco::{FileFormat, detect_format};
        match detect_format(&bytes) {
            Some(FileFormat::Ctl) => Ok(PhoneItlFile {
                name: name.into(),
                bytes,
            }),
            Some(FileFormat::Itl) => Err(PhoneItlError::NotCtl("an ITL")),
            _ => match PhoneItlFile::new(String::new(), bytes) {
                Err(e) => Err(e),
                Ok(_) => Err(PhoneItlError::NotCtl("not a CTL")),
            },
        }
    }
}

/// Printable UTF-8 (with ordinary white space) throughout the first 4 KiB.
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    // A multi-byte character may be cut at the 4 KiB mark.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.valid_up_to() + 4 > head.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
}

/// Everything the engineer tells itlscope. These facts apply to every phone in the capture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperatorFacts {
    /// `--phone-itl FILE`.
    pub phone_itl: Option<PhoneItlFile>,
    /// `--phone-itl-hash HEX`.
    pub phone_itl_hash: Option<ItlHash>,
    /// `--phone-ctl FILE`: the CTL the phone holds (mixed mode).
    pub phone_ctl: Option<PhoneItlFile>,
    /// `--phone-status`.
    pub phone_status: PhoneStatus,
    /// `--key-backup`.
    pub key_backup: KeyBackup,
    /// `--evidence FILE...`: phone logs, Status Messages, CUCM CLI output, certificates.
    pub side: crate::sidecar::SideEvidence,
    /// `--phone-itl SEP…=FILE`, `--phone-status SEP…=failed`, …: inputs about one phone. The
    /// unscoped fields above apply only when the capture has a single phone.
    pub scoped: Vec<ScopedInputs>,
}

/// What the engineer knows about one phone, named by its MAC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopedInputs {
    /// The phone's MAC, 12 upper-case hex digits.
    pub mac: String,
    /// `--phone-itl SEP…=FILE`.
    pub phone_itl: Option<PhoneItlFile>,
    /// `--phone-itl-hash SEP…=HEX`.
    pub phone_itl_hash: Option<ItlHash>,
    /// `--phone-status SEP…=failed|ok`.
    pub phone_status: PhoneStatus,
    /// `--phone-ctl SEP…=FILE`.
    pub phone_ctl: Option<PhoneItlFile>,
}

/// Splits `SEP<MAC>=VALUE` (or `<MAC>=VALUE`, any case, `-`/`:`/`.` allowed in the MAC) into
/// the MAC (12 upper-case hex digits) and the value; a value without such a prefix is
/// unscoped.
pub fn split_scope(text: &str) -> (Option<String>, &str) {
    if let Some((left, right)) = text.split_once('=')
        && let Some(mac) = mac_of(left)
    {
        return (Some(mac), right);
    }
    (None, text)
}

/// The MAC (12 upper-case hex digits) of a `SEP…` phone name or a MAC in any common form
/// (`00:11:…`, `00-11-…`, `0011.2233.4455`), any case.
pub fn mac_of(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix("SEP")
        .or_else(|| t.strip_prefix("sep"))
        .unwrap_or(t);
    let hex: String = t
        .chars()
        .filter(|c| !matches!(c, '-' | ':' | '.'))
        .collect();
    (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_uppercase())
}

/// MD5, SHA-1 and SHA-256 of some bytes, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashes {
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
}

impl Hashes {
    /// Hashes `bytes` three ways.
    pub fn of(bytes: &[u8]) -> Hashes {
        use sha1::Digest;
        Hashes {
            md5: hex::encode(md5::Md5::digest(bytes)),
            sha1: hex::encode(sha1::Sha1::digest(bytes)),
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }

    /// The hashes of a downloaded file: the ones the capture stage computed when the file
    /// was whole (every phone of a fleet is served the same ITL, and the diagnosis may run
    /// several passes), else computed from its bytes.
    pub fn of_file(file: &crate::evidence::FileTransfer) -> Hashes {
        match (&file.md5, &file.sha1, &file.sha256) {
            (Some(md5), Some(sha1), Some(sha256)) => Hashes {
                md5: md5.hex(),
                sha1: sha1.hex(),
                sha256: sha256.hex(),
            },
            _ => Hashes::of(&file.data),
        }
    }

    /// The hash of the given algorithm.
    pub fn get(&self, algorithm: HashAlgorithm) -> &str {
        match algorithm {
            HashAlgorithm::Md5 => &self.md5,
            HashAlgorithm::Sha1 => &self.sha1,
            HashAlgorithm::Sha256 => &self.sha256,
        }
    }
}

/// [`crate::cisco::config::callmanager_group`] of a downloaded config: from what was kept of it when its bytes
/// were not ([`crate::evidence::SignedConfigSummary`]).
pub fn callmanager_group_of(file: &crate::evidence::FileTransfer) -> Option<Vec<String>> {
    match &file.signed_config {
        Some(summary) => summary
            .callmanager_group
            .as_ref()
            .map(|names| names.iter().map(|n| n.to_string()).collect()),
        None => crate::cisco::config::callmanager_group(&file.data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_length_decides_the_algorithm() {
        let md5 = ItlHash::parse("B6 19 10 BB 01 D8 D3 A1 C1 B3 65 26 CC 9F 2D DC").unwrap();
        assert_eq!(md5.algorithm, HashAlgorithm::Md5);
        assert_eq!(md5.hex, "b61910bb01d8d3a1c1b36526cc9f2ddc");
        let sha1 = ItlHash::parse("7bc2b30ebc2c52dcb6af9389af7a32e4a65be824").unwrap();
        assert_eq!(sha1.algorithm, HashAlgorithm::Sha1);
        let sha256 = ItlHash::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(sha256.algorithm, HashAlgorithm::Sha256);
    }

    #[test]
    fn every_display_form_is_accepted() {
        let want = "ee5c62e05e2bc6822a45641eebbabff2476e1d93";
        for form in [
            "EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93 ",
            "ee:5c:62:e0:5e:2b:c6:82:2a:45:64:1e:eb:ba:bf:f2:47:6e:1d:93",
            "EE5C62E05E2BC6822A45641EEBBABFF2476E1D93",
            "\"<B>EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93 </B>\"",
            "ee5c62e05e2bc6822a45641eebbabff2476e1d93(SHA1)",
            "0xee5c62e05e2bc6822a45641eebbabff2476e1d93",
        ] {
            let h = ItlHash::parse(form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(
                (h.algorithm, h.hex.as_str()),
                (HashAlgorithm::Sha1, want),
                "{form}"
            );
        }
        let md5 = ItlHash::parse("0c05655de63fe2a042cf252d96c6d609(MD5)").unwrap();
        assert_eq!(md5.algorithm, HashAlgorithm::Md5);
    }

    #[test]
    fn bad_hashes_are_refused() {
        assert_eq!(ItlHash::parse("abc"), Err(HashError::OddLength(3)));
        assert_eq!(ItlHash::parse("zz"), Err(HashError::NotHex('z')));
        assert_eq!(ItlHash::parse("abcd"), Err(HashError::UnknownLength(2)));
    }

    #[test]
    fn a_tag_that_contradicts_the_length_is_refused() {
        // 16 bytes labelled SHA-1: an MD5 copied under the wrong label, or a SHA-1 cut short.
        let e = ItlHash::parse("0c05655de63fe2a042cf252d96c6d609 (SHA1)").unwrap_err();
        assert_eq!(
            e,
            HashError::LabelMismatch {
                label: "SHA-1",
                bytes: 16,
                actual: "MD5"
            }
        );
        assert!(e.to_string().contains("labelled SHA-1 but 16 bytes"), "{e}");
        // A multi-byte character before the tag position must not panic.
        assert!(ItlHash::parse("éééé(md5)").is_err());
        assert!(ItlHash::parse("ée5c62e05e2bc6822a45641eebbabff2").is_err());
    }

    fn phone_itl(bytes: &[u8]) -> Result<PhoneItlFile, PhoneItlError> {
        PhoneItlFile::new("f", bytes.to_vec())
    }

    #[test]
    fn only_an_itl_is_taken_as_the_phones_itl() {
        let itl = include_bytes!("../../captures/healthy-tftp-boot.phone-itl.tlv");
        assert!(phone_itl(itl).is_ok());
        let real_itl = include_bytes!(
            "../../tests/fixtures/real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv"
        );
        assert!(phone_itl(real_itl).is_ok());
        // A genuine CUCM CTL (issue 11: it was taken for the phone's ITL).
        let ctl = include_bytes!("../../tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv");
        let e = phone_itl(ctl).unwrap_err();
        assert!(matches!(e, PhoneItlError::Ctl(_)), "{e}");
        assert!(e.to_string().contains("FILENAME CTLFile.tlv"), "{e}");
        let loads =
            include_bytes!("../../tests/fixtures/real/dkgroot-provision_sccp/term45.default.loads");
        let e = phone_itl(loads).unwrap_err();
        assert!(
            e.to_string()
                .contains("signed file, FILENAME term45.default.loads"),
            "{e}"
        );
        let pcap = include_bytes!("../../captures/healthy-tftp-boot.pcap");
        assert_eq!(phone_itl(pcap), Err(PhoneItlError::Capture("pcap")));
        let pcapng = include_bytes!("../../captures/healthy-tftp-boot.pcapng");
        assert_eq!(phone_itl(pcapng), Err(PhoneItlError::Capture("pcapng")));
        assert_eq!(
            phone_itl(&[0x1f, 0x8b, 8, 0]),
            Err(PhoneItlError::Capture("gzip-compressed"))
        );
        assert_eq!(
            phone_itl(b"7b c2 b3 0e bc 2c 52 dc b6 af 93 89 af 7a 32 e4 a6 5b e8 24\n"),
            Err(PhoneItlError::Text)
        );
        assert!(matches!(
            phone_itl(&[0xff; 64]),
            Err(PhoneItlError::Unknown(_))
        ));
        assert!(matches!(phone_itl(&[]), Err(PhoneItlError::Unknown(_))));
    }

    #[test]
    fn hashes_match_known_vectors() {
        let h = Hashes::of(b"abc");
        assert_eq!(h.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(h.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

#[cfg(test)]
mod scope_tests {
    use super::split_scope;

    #[test]
    fn a_phone_prefix_scopes_a_value_and_anything_else_is_unscoped() {
        assert_eq!(
            split_scope("SEP00005e005321=failed"),
            (Some("00005E005321".to_string()), "failed")
        );
        assert_eq!(
            split_scope("00-00-5E-00-53-22=ab:cd"),
            (Some("00005E005322".to_string()), "ab:cd")
        );
        assert_eq!(split_scope("failed"), (None, "failed"));
        assert_eq!(split_scope("dir=x/itl.tlv"), (None, "dir=x/itl.tlv"));
    }
}

#[cfg(test)]
mod hashes_tests {
    use super::Hashes;
    use crate::diagnosis::testkit::file;

    /// Statement 16 (the served ITL's MD5 is compared with the phone's hash): the hashes taken from the
    /// capture stage's digests are the ones computed from the bytes, and a record without
    /// digests still gets them.
    #[test]
    fn a_files_own_digests_give_the_hashes_of_its_bytes() {
        let bytes = b"an ITL's bytes".as_slice();
        let mut served = file("ITLSEP001122334455.tlv", "10.0.0.9", bytes);
        let computed = Hashes::of_file(&served);
        assert_eq!(computed, Hashes::of(bytes));
        (served.md5, served.sha1, served.sha256) = crate::proto::digests(bytes);
        assert!(served.sha256.is_some());
        assert_eq!(Hashes::of_file(&served), computed);
    }
}
