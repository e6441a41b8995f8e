//! The one table of phone wordings itlscope recognises in console logs and Status Messages.
//!
//! Each entry names the substrings a line must hold (all of them, ASCII case ignored), what
//! the line means, and a sample line quoted verbatim from the public Cisco material collected
//! in `docs/phone-log-lines.md` (the unit tests feed every sample through its parser). To
//! add a wording, add an entry with its sample; wording not seen in a real artefact is not
//! guessed (the catalogue's "Config file signature failure" and "Authentication failed" have
//! no verbatim sample yet and are therefore absent).

use super::FactKind;

/// Which parser a wording applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Console log entries.
    Console,
    /// Status Messages / phone web page lines.
    Status,
    /// Both.
    Both,
}

/// What a matching line means, before names are pulled out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// [`FactKind::TrustListRequest`].
    TrustListRequest,
    /// [`FactKind::TrustListVerified`].
    TrustListVerified,
    /// [`FactKind::TrustListFailed`].
    TrustListFailed,
    /// [`FactKind::FileAuthenticated`].
    FileAuthenticated,
    /// [`FactKind::ConfigAuthFailed`].
    ConfigAuthFailed,
    /// [`FactKind::TvsQuery`].
    TvsQuery,
    /// [`FactKind::TvsVouched`].
    TvsVouched,
    /// [`FactKind::TvsFailed`].
    TvsFailed,
    /// [`FactKind::CertNotInTrustList`].
    CertNotInTrustList,
    /// [`FactKind::TftpError`].
    TftpError,
    /// [`FactKind::NoTrustList`].
    NoTrustList,
    /// [`FactKind::ItlSignature`] (the hex is taken from the line).
    ItlSignature,
    /// [`FactKind::FileVerification`] of a signed envelope (`validate_file_envelope`).
    EnvelopeVerification,
    /// [`FactKind::FileVerification`] of a file (`verifyFile`).
    FileVerification,
    /// [`FactKind::TvsCertTrusted`].
    TvsCertTrusted,
    /// [`FactKind::TvsResponse`].
    TvsResponse,
    /// [`FactKind::UserAgent`].
    UserAgent,
}

/// One recognised wording.
#[derive(Debug, Clone, Copy)]
pub struct Wording {
    /// Substrings that must all appear (ASCII case ignored).
    pub all: &'static [&'static str],
    /// Where it applies.
    pub applies: Applies,
    /// What it means.
    pub meaning: Meaning,
    /// A verbatim line from docs/phone-log-lines.md (section in the comment).
    pub sample: &'static str,
}

/// The table, first match wins.
pub static WORDINGS: &[Wording] = &[
    // §4 A (79xx SECD, the TAC note's boot log): the envelope of the file just downloaded
    // (the ITL at boot) verified; `FAILED` is the failure form the note names.
    Wording {
        all: &["validate_file_envelope", "File sign verify"],
        applies: Applies::Console,
        meaning: Meaning::EnvelopeVerification,
        sample: "877: NOT 09:13:17.925249 SECD: validate_file_envelope: File sign verify SUCCESS; header length <296>",
    },
    // §4 A: the signed config verified (`verify FAILED` is the failure form).
    Wording {
        all: &["verifyFile:", "verify"],
        applies: Applies::Console,
        meaning: Meaning::FileVerification,
        sample: "937: NOT 09:13:18.656906 SECD: verifyFile: verify SUCCESS </usr/ram/SEP0011215A1AE3.cnf.xml>",
    },
    // §4 B: TVS's certificate found in the TVS record of the phone's trust list (statement 12).
    Wording {
        all: &["tvs_cert_vfy", "TVS cert verified with hash from TL"],
        applies: Applies::Console,
        meaning: Meaning::TvsCertTrusted,
        sample: "1248: NOT 15:20:59.538726 SECD: tvs_cert_vfy: TVS cert verified with hash from TL, <14.48.44.80>",
    },
    // §4 B and §2.5 D: TVS's answer; status 0 is TVS vouching.
    Wording {
        all: &["Authentication Response received", "status"],
        applies: Applies::Console,
        meaning: Meaning::TvsResponse,
        sample: "1273: NOT 15:20:59.825648 SECD: processTvsSrvrResponse: Authentication Response received, status : 0",
    },
    // §2.5 A: download of a trust list started.
    Wording {
        all: &["GETXXTP", ".tlv"],
        applies: Applies::Console,
        meaning: Meaning::TrustListRequest,
        sample: "3344 NOT Nov 29 06:34:00.458890 dgetfile(877)-GETXXTP [GT877][src=ITLSEPB000B4BA0AEE.tlv][dest=/tmp/ITLFile.tlv][serv=][serv6=][sec=0]",
    },
    // §2.5 B: the TFTP fallback asks for the trust list.
    Wording {
        all: &["TFTPD-Requesting", ".tlv"],
        applies: Applies::Console,
        meaning: Meaning::TrustListRequest,
        sample: "4894 NOT Mar 09 18:32:38.246634 (1862:1862) TFTPD-Requesting CTLSEPC80084AA8743.tlv from 192.168.7.200 ",
    },
    // §2.5 A: the new trust list is accepted.
    Wording {
        all: &["TL file verified successfully"],
        applies: Applies::Console,
        meaning: Meaning::TrustListVerified,
        sample: "3338 DEB Nov 29 06:34:00.413442 SECUREAPP-TL file verified successfully.",
    },
    // §2.5 A/B: parsed into the phone's table.
    Wording {
        all: &["updateFromFile", "CTL_SUCCESS"],
        applies: Applies::Console,
        meaning: Meaning::TrustListVerified,
        sample: "4943 NOT Mar 09 18:32:40.678040 (346:1887) SECUREAPP-updateFromFile: TL parse to table: CTL_SUCCESS",
    },
    // §2.5 A/B: a signed file's hash checked against its signature.
    Wording {
        all: &["Hashes match", "authentication successful"],
        applies: Applies::Console,
        meaning: Meaning::FileAuthenticated,
        sample: "3333 NOT Nov 29 06:34:00.411671 SECUREAPP-Hashes match... authentication successful.",
    },
    // §2.5 A: TVS queried.
    Wording {
        all: &["Attempting connect to TVS server"],
        applies: Applies::Console,
        meaning: Meaning::TvsQuery,
        sample: "3287 INF Nov 29 06:33:59.395199 SECUREAPP-Attempting connect to TVS server addr [192.168.11.32], mode [IPv4]",
    },
    Wording {
        all: &["Successfully sent the TVS request"],
        applies: Applies::Console,
        meaning: Meaning::TvsQuery,
        sample: "3320 NOT Nov 29 06:33:59.909322 SECUREAPP-TVS process request - Successfully sent the TVS request to TVS server, bytes written : 153",
    },
    // §2.5 D: 79xx SECD wording.
    Wording {
        all: &["TVS Certificate Authentication request"],
        applies: Applies::Console,
        meaning: Meaning::TvsQuery,
        sample: "7995 NOT 11:04:15.039286  SECD: -TVS Certificate Authentication request",
    },
    // §2.5 A: TVS vouched for the certificate.
    Wording {
        all: &["TVS added cert to TVS cache"],
        applies: Applies::Console,
        meaning: Meaning::TvsVouched,
        sample: "3325 INF Nov 29 06:33:59.915121 SECUREAPP-TVS added cert to TVS cache - expires in 24 hours",
    },
    // §2.5 D.
    Wording {
        all: &["Authenticated the HTTPS conn via TVS"],
        applies: Applies::Console,
        meaning: Meaning::TvsVouched,
        sample: "8185 NOT 11:04:15.221043  SECD: -Authenticated the HTTPS conn via TVS",
    },
    // §2.5 D (CSCua65618): the TLS connection to TVS (port 2445 in that log) failed.
    Wording {
        all: &["SSL handshake failed"],
        applies: Applies::Console,
        meaning: Meaning::TvsFailed,
        sample: "5013: ERR 10:25:10.075656 SECD: EROR:clpSetupSsl: ** SSL handshake failed, <192.168.136.6> c:14 s:15",
    },
    // §2.5 D.
    Wording {
        all: &["HTTPS cert not in CTL"],
        applies: Applies::Console,
        meaning: Meaning::CertNotInTrustList,
        sample: "7989 ERR 11:04:15.038637  SECD: -HTTPS cert not in CTL, <10.106.111.100:8443>",
    },
    // §2.5 H: the config's signature does not verify.
    Wording {
        all: &["authenticated fail"],
        applies: Applies::Both,
        meaning: Meaning::ConfigAuthFailed,
        sample: "invalid file SEPABCDEF123456.cnf.xml.sgn, authenticated fail. Reason:14.",
    },
    // §4 D, statement 29: the screen / Status Messages after CallManager and TVS were
    // regenerated together on a single node.
    Wording {
        all: &["Trust List Verification Failed"],
        applies: Applies::Both,
        meaning: Meaning::TrustListFailed,
        sample: "Trust List Verification Failed",
    },
    // §4 D, statement 15 condition 3: the shorter screen wording. Status text only: a console
    // line holding these words can be about anything.
    Wording {
        all: &["Verification Failed"],
        applies: Applies::Status,
        meaning: Meaning::TrustListFailed,
        sample: "Verification Failed",
    },
    // §2.5 H catalogue (DX; 7800/8800 "Trust List Update Failed").
    Wording {
        all: &["Trust List update failed"],
        applies: Applies::Both,
        meaning: Meaning::TrustListFailed,
        sample: "Trust List update failed, verification failure",
    },
    // §2.5 H catalogue (7800/8800).
    Wording {
        all: &["No Trust List Installed"],
        applies: Applies::Both,
        meaning: Meaning::NoTrustList,
        sample: "No Trust List Installed",
    },
    Wording {
        all: &["Trust List Updated"],
        applies: Applies::Both,
        meaning: Meaning::TrustListVerified,
        sample: "Trust List Updated",
    },
    // §2.5 H (78/88 timestamp format).
    Wording {
        all: &["ITL installed"],
        applies: Applies::Both,
        meaning: Meaning::TrustListVerified,
        sample: "[8:52:30am 10/01/19] ITL installed",
    },
    // §2.5 H (79xx timestamp format).
    Wording {
        all: &["TFTP Error"],
        applies: Applies::Status,
        meaning: Meaning::TftpError,
        sample: "1:33:26a TFTP Error : SEPB8BEBF9D2061.cnf.xml.sgn",
    },
    // §2.5 I: the phone web page's ITL signature.
    Wording {
        all: &["itl_sig"],
        applies: Applies::Status,
        meaning: Meaning::ItlSignature,
        sample: "itl_sig = \"<B>EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93 </B>\"",
    },
    // §3.2 / 8821 guide field name "ITL signature" on the Network setup page.
    Wording {
        all: &["ITL signature"],
        applies: Applies::Status,
        meaning: Meaning::ItlSignature,
        sample: "ITL signature EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93 ",
    },
    // §2.5 C: a SIP request the phone logged, with its own agent (model and firmware). Last,
    // so any other wording in the same entry wins.
    Wording {
        all: &["User-Agent: Cisco-"],
        applies: Applies::Console,
        meaning: Meaning::UserAgent,
        sample: "\tUser-Agent: Cisco-CP7821/12.1.1^M",
    },
];

fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The first wording of the table that `text` matches, for a parser.
pub fn recognise(text: &str, console: bool) -> Option<&'static Wording> {
    WORDINGS.iter().find(|w| {
        let applies = match w.applies {
            Applies::Both => true,
            Applies::Console => console,
            Applies::Status => !console,
        };
        applies && w.all.iter().all(|s| contains_ci(text, s))
    })
}

/// A file name ending in one of `suffixes` inside `text` (`ITLSEP….tlv`, `SEP….cnf.xml.sgn`).
pub fn file_name(text: &str, suffixes: &[&str]) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'))
        .find(|tok| {
            let lower = tok.to_ascii_lowercase();
            suffixes.iter().any(|s| lower.ends_with(s)) && lower.len() > 4
        })
        .map(str::to_string)
}

/// Hex bytes in `text` after `after` (tags and separators skipped): the longest run of
/// two-digit groups, as lower-case hex. None when fewer than 16 bytes follow.
pub fn hex_after(text: &str, after: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&after.to_ascii_lowercase())? + after.len();
    let rest = text.get(at..)?;
    // Drop HTML tags so `<B>EE 5C …</B>` reads as hex.
    let mut plain = String::with_capacity(rest.len());
    let mut in_tag = false;
    for c in rest.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let mut hex = String::new();
    for tok in plain.split(|c: char| c.is_whitespace() || c == ':' || c == '"' || c == '=') {
        if tok.is_empty() {
            continue;
        }
        if tok.len().is_multiple_of(2) && tok.chars().all(|c| c.is_ascii_hexdigit()) {
            hex.push_str(&tok.to_ascii_lowercase());
        } else if !hex.is_empty() {
            break;
        }
    }
    matches!(hex.len(), 32 | 40 | 64).then_some(hex)
}

/// The agent after `User-Agent:` (its first word; `^M` and the rest dropped).
fn user_agent(text: &str) -> Option<String> {
    let at = text.to_ascii_lowercase().find("user-agent:")?;
    let rest = text.get(at + "user-agent:".len()..)?.trim_start();
    let word = rest.split(|c: char| c.is_whitespace() || c == '^').next()?;
    (!word.is_empty() && word.len() <= 64).then(|| word.to_owned())
}

/// The fact a wording gives for `text`.
pub fn fact(w: &Wording, text: &str) -> Option<FactKind> {
    Some(match w.meaning {
        Meaning::TrustListRequest => FactKind::TrustListRequest {
            name: file_name(text, &[".tlv"]),
        },
        Meaning::TrustListVerified => FactKind::TrustListVerified,
        Meaning::TrustListFailed => FactKind::TrustListFailed,
        Meaning::FileAuthenticated => FactKind::FileAuthenticated,
        Meaning::ConfigAuthFailed => FactKind::ConfigAuthFailed {
            name: file_name(text, &[".sgn", ".xml"]),
        },
        Meaning::TvsQuery => FactKind::TvsQuery,
        Meaning::TvsVouched => FactKind::TvsVouched,
        Meaning::TvsFailed => FactKind::TvsFailed,
        Meaning::CertNotInTrustList => FactKind::CertNotInTrustList,
        Meaning::TftpError => FactKind::TftpError {
            name: file_name(text, &[".sgn", ".xml", ".tlv"]),
        },
        Meaning::NoTrustList => FactKind::NoTrustList,
        Meaning::ItlSignature => FactKind::ItlSignature {
            hex: hex_after(text, w.all[0])?,
        },
        Meaning::EnvelopeVerification => FactKind::FileVerification {
            ok: outcome(text, "File sign verify")?,
            file: None,
            envelope: true,
        },
        Meaning::FileVerification => FactKind::FileVerification {
            ok: outcome(text, "verify")?,
            file: bracketed(text).filter(|b| b.contains('/') || b.contains('.')),
            envelope: false,
        },
        Meaning::TvsCertTrusted => FactKind::TvsCertTrusted {
            server: bracketed(text),
        },
        Meaning::TvsResponse => FactKind::TvsResponse {
            status: number_after(text, "status")?,
        },
        Meaning::UserAgent => FactKind::UserAgent {
            agent: user_agent(text)?,
        },
    })
}

/// `SUCCESS` (true) or `FAILED` (false) in the word after the last `after` of `text`; None
/// when it is neither (the wording is then not taken).
fn outcome(text: &str, after: &str) -> Option<bool> {
    let lower = text.to_ascii_lowercase();
    let at = lower.rfind(&after.to_ascii_lowercase())? + after.len();
    let word = lower.get(at..)?.split_whitespace().next()?;
    let word = word.trim_end_matches([';', ',', '.', ':']);
    match word {
        "success" => Some(true),
        "failed" | "failure" | "fail" => Some(false),
        _ => None,
    }
}

/// The text of the last `<…>` of `text` (an address, a file path), trimmed; None when absent
/// or empty.
pub fn bracketed(text: &str) -> Option<String> {
    let open = text.rfind('<')?;
    let close = open + text.get(open..)?.find('>')?;
    let inner = text.get(open + 1..close)?.trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

/// The decimal number after `key` and an optional `:` (`status : 0`).
fn number_after(text: &str, key: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let at = lower.rfind(&key.to_ascii_lowercase())? + key.len();
    let rest = text.get(at..)?.trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest.get(..n)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_is_recognised_as_its_own_wording() {
        for (i, w) in WORDINGS.iter().enumerate() {
            let console = w.applies != Applies::Status;
            let got = recognise(w.sample, console).expect("sample recognised");
            assert!(
                std::ptr::eq(got, w),
                "sample {i} ({}) is taken by another wording",
                w.sample
            );
            assert!(fact(w, w.sample).is_some(), "sample {i} gives a fact");
        }
    }

    #[test]
    fn names_and_hashes_are_pulled_out() {
        let w = WORDINGS
            .iter()
            .find(|w| w.meaning == Meaning::TrustListRequest)
            .expect("a request wording");
        assert_eq!(
            fact(w, w.sample),
            Some(FactKind::TrustListRequest {
                name: Some("ITLSEPB000B4BA0AEE.tlv".into())
            })
        );
        let w = recognise(
            "invalid file SEPABCDEF123456.cnf.xml.sgn, authenticated fail. Reason:14.",
            false,
        )
        .unwrap();
        assert_eq!(
            fact(w, w.sample),
            Some(FactKind::ConfigAuthFailed {
                name: Some("SEPABCDEF123456.cnf.xml.sgn".into())
            })
        );
        assert_eq!(
            hex_after(
                "itl_sig = \"<B>EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93 </B>\"",
                "itl_sig"
            )
            .as_deref(),
            Some("ee5c62e05e2bc6822a45641eebbabff2476e1d93")
        );
        assert_eq!(hex_after("ITL signature: none", "ITL signature"), None);
    }

    /// phone-log-lines.md §4 A/B (the TAC note's own SECD lines) and the failure forms §4 A
    /// names ("File sign verify FAILED", "verifyFile: verify FAILED").
    #[test]
    fn secd_lines_of_the_tac_note_give_typed_facts() {
        let of = |line: &str| recognise(line, true).and_then(|w| fact(w, line));
        assert_eq!(
            of(
                "877: NOT 09:13:17.925249 SECD: validate_file_envelope: File sign verify SUCCESS; header length <296>"
            ),
            Some(FactKind::FileVerification {
                ok: true,
                file: None,
                envelope: true
            })
        );
        assert_eq!(
            of(
                "877: ERR 09:13:17.925249 SECD: validate_file_envelope: File sign verify FAILED; header length <296>"
            ),
            Some(FactKind::FileVerification {
                ok: false,
                file: None,
                envelope: true
            })
        );
        assert_eq!(
            of(
                "937: NOT 09:13:18.656906 SECD: verifyFile: verify SUCCESS </usr/ram/SEP0011215A1AE3.cnf.xml>"
            ),
            Some(FactKind::FileVerification {
                ok: true,
                file: Some("/usr/ram/SEP0011215A1AE3.cnf.xml".into()),
                envelope: false
            })
        );
        assert_eq!(
            of("937: ERR 09:13:18.656906 SECD: verifyFile: verify FAILED </usr/ram/SEP0011215A1AE3.cnf.xml>")
                .and_then(|f| f.verification_failed()),
            Some(true)
        );
        assert_eq!(
            of(
                "1248: NOT 15:20:59.538726 SECD: tvs_cert_vfy: TVS cert verified with hash from TL, <14.48.44.80>"
            ),
            Some(FactKind::TvsCertTrusted {
                server: Some("14.48.44.80".into())
            })
        );
        assert_eq!(
            of(
                "1273: NOT 15:20:59.825648 SECD: processTvsSrvrResponse: Authentication Response received, status : 0"
            ),
            Some(FactKind::TvsResponse { status: 0 })
        );
        assert_eq!(
            of("8172 NOT 11:04:15.220060  SECD: -Authentication Response received, status : 1"),
            Some(FactKind::TvsResponse { status: 1 })
        );
        // Statement 11: informational, the phone goes on to its ITL and TVS.
        assert_eq!(
            of(
                "1215: ERR 15:20:59.431314 SECD: EROR:https_cert_vfy: HTTPS cert not in CTL, <14.48.44.80>"
            ),
            Some(FactKind::CertNotInTrustList)
        );
        // Neither SUCCESS nor FAILED: not taken.
        assert_eq!(
            of("1 NOT 09:13:18.656906 SECD: verifyFile: verify pending"),
            None
        );
    }

    /// Statement 29 ("Trust List Verification Failed") and statement 15's "Verification
    /// Failed", phone-log-lines.md §4 D.
    #[test]
    fn statement_29_trust_list_verification_failed_is_a_failure() {
        for line in ["Trust List Verification Failed", "Verification Failed"] {
            let f = recognise(line, false).and_then(|w| fact(w, line));
            assert_eq!(f, Some(FactKind::TrustListFailed), "{line}");
        }
        // On a console line only the full wording is taken.
        assert!(recognise("12 NOT 10:00:00.1 X-Verification Failed", true).is_none());
    }

    #[test]
    fn unrelated_lines_are_not_recognised() {
        for line in [
            "3312 ERR Nov 29 06:33:59.428892 downd-SOCKET accept errno=4 \"Interrupted system call\"",
            "3335 WRN Nov 29 06:34:00.412945 SECUREAPP-AUTH: hdr ver 1.2 (knows only upto 1.1)",
            "4882 ERR Mar 09 18:32:37.985319 (1858:1858) GHTTP-http get [HTTP/1.1 503 Service Unavailab]",
        ] {
            assert!(recognise(line, true).is_none(), "{line}");
        }
    }
}
