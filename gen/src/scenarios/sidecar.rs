//! Evidence that lives outside the capture, for `analyze --evidence`: phone console logs in
//! the 78xx/88xx grammar, a Problem Report Tool bundle (tar.gz with nested archives), Status
//! Messages text, CUCM `show itl` output and certificates exported from CUCM.
//!
//! The wordings are those quoted in `docs/phone-log-lines.md` (public Cisco documents); the
//! values (names, addresses, hashes, times) are the scenario's. A PRT's internal layout is
//! not documented anywhere reachable, so the bundle here is a plausible one: what matters is
//! that its members are found by content.

use super::cluster::{Cluster, ItlSigner};
use super::phone::Phone;
use crate::pki::Cert;
use crate::trustlist::RecordSpec;
use md5::Md5;
use sha1::{Digest as _, Sha1};
use std::fmt::Write as _;

/// Lower-case hex MD5.
pub fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Lower-case hex SHA-1.
pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `1B A1 C9 … ` as the phone writes a hash: upper case, spaced, a trailing space.
pub fn spaced_upper(hex: &str) -> String {
    let mut out = String::new();
    for i in 0..hex.len() / 2 {
        out.push_str(&hex[2 * i..2 * i + 2].to_ascii_uppercase());
        out.push(' ');
    }
    out
}

/// A 78xx/88xx console log being written: `SEQ LVL Mon DD HH:MM:SS.µs (pid:tid) MODULE-…`.
pub struct ConsoleLog {
    seq: u32,
    text: String,
    day: &'static str,
}

impl ConsoleLog {
    /// A log whose first entry is number `seq`, on `day` (e.g. `Mar 02`).
    pub fn new(seq: u32, day: &'static str) -> Self {
        ConsoleLog {
            seq,
            text: String::new(),
            day,
        }
    }

    /// One entry at `ms` milliseconds after 09:00:00; numbers advance by `skip` (other lines
    /// of a real log fall between).
    pub fn entry(&mut self, skip: u32, level: &str, ms: u32, thread: &str, body: &str) {
        self.seq += skip;
        let (s, frac) = (ms / 1000, ms % 1000);
        let _ = writeln!(
            self.text,
            "{} {level} {} 09:{:02}:{:02}.{frac:03}{:03} ({thread}) {body}",
            self.seq,
            self.day,
            s / 60,
            s % 60,
            (self.seq * 37) % 1000
        );
    }

    /// A tab-indented continuation line.
    pub fn cont(&mut self, line: &str) {
        let _ = writeln!(self.text, "\t{line}");
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }

    /// The `DeviceTLInfo` REFER as the 7821 log of C-214535 prints it (§2.5 C): its alarm
    /// name split across two numbered entries mid-word.
    pub fn device_tl_info(
        &mut self,
        ms: u32,
        phone: &Phone,
        cucm: &str,
        cucm_host: &str,
        itl_sha1: Option<&str>,
        status_code: u32,
    ) {
        self.entry(
            11,
            "DEB",
            ms,
            "618:927",
            &format!("JAVA-sipio-sent---> REFER sip:{cucm} SIP/2.0^M"),
        );
        self.cont(&format!("User-Agent: {}^M", phone.user_agent()));
        self.cont("Content-Type: application/x-cisco-alarm+xml^M");
        self.cont("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        self.cont("<x-cisco-alarm>");
        self.cont("<Alarm Name=\"DeviceT");
        self.entry(1, "DEB", ms, "618:927", "JAVA-LInfo\">");
        self.cont("<ParameterList>");
        self.cont(&format!(
            "<String name=\"DeviceName\">{}</String>",
            phone.device_name()
        ));
        self.cont(&format!(
            "<String name=\"IPv4Address\">{}</String>",
            phone.ip
        ));
        self.cont("<String name=\"IPv6Address\"></String>");
        self.cont("<String name=\"CTL_Signature\">Not Installed</String>");
        self.cont("<String name=\"CTL_TFTP_Server\">N/A</String>");
        let sig = itl_sha1.map_or_else(|| "Not Installed".to_owned(), spaced_upper);
        self.cont(&format!("<String name=\"ITL_Signature\">{sig}</String>"));
        self.cont(&format!(
            "<String name=\"ITL_TFTP_Server\">{cucm_host}</String>"
        ));
        self.cont(&format!(
            "<String name=\"StatusCode\">{status_code}</String>"
        ));
        self.cont("</ParameterList>");
        self.cont("</Alarm>");
        self.cont("</x-cisco-alarm>");
    }
}

/// The trust-list downloads of a boot as `downd` logs them (§2.5 B): CTL not found, ITL over
/// HTTP with its length.
pub fn log_trust_list_downloads(log: &mut ConsoleLog, phone: &Phone, cucm: &str, itl_len: usize) {
    let dev = phone.device_name();
    log.entry(
        0,
        "NOT",
        120,
        "339:1850",
        &format!(
            "downd-GETXXTP [GT339][src=CTL{dev}.tlv][dest=/tmp/CTLFile.tlv][serv=][serv6=][sec=0]"
        ),
    );
    log.entry(
        33,
        "ERR",
        260,
        "1858:1858",
        "GHTTP-http get [HTTP/1.1 503 Service Unavailab]",
    );
    log.entry(
        12,
        "NOT",
        510,
        "1862:1862",
        &format!("TFTPD-Requesting CTL{dev}.tlv from {cucm} "),
    );
    log.entry(
        3,
        "WRN",
        990,
        "1862:1862",
        "TFTPD-Error: (1+1)File not found ",
    );
    log.entry(
        1,
        "NOT",
        995,
        "339:1850",
        "downd-XXTP complete - status = 2 ",
    );
    log.entry(
        1,
        "NOT",
        1010,
        "339:1882",
        &format!(
            "downd-GETXXTP [GT339][src=ITL{dev}.tlv][dest=/tmp/ITLFile.tlv][serv=][serv6=][sec=0]"
        ),
    );
    log.entry(26, "NOT", 1180, "1886:1886", "GHTTP-hdr->HTTP/1.1 200 OK");
    log.entry(
        1,
        "NOT",
        1181,
        "1886:1886",
        &format!("GHTTP-hdr->Content-length: {itl_len}"),
    );
    log.entry(
        3,
        "NOT",
        1186,
        "339:1882",
        "downd-XXTP complete - status = 100 ",
    );
    log.entry(
        2,
        "WRN",
        1200,
        "346:1887",
        "SECUREAPP-AUTH: hdr ver 1.2 (knows only upto 1.1)",
    );
}

/// The healthy 8845 boot of `healthy-http-boot.pcap` as its console log shows it: ITL and
/// config authenticated, then the `DeviceTLInfo` alarm with the served ITL's SHA-1.
pub fn healthy_console_log(phone: &Phone, cluster: &Cluster, served_itl: &[u8]) -> String {
    let cucm = cluster.node.ip.to_string();
    let dev = phone.device_name();
    let mut log = ConsoleLog::new(4810, "Mar 02");
    log_trust_list_downloads(&mut log, phone, &cucm, served_itl.len());
    log.entry(
        8,
        "NOT",
        1740,
        "346:1887",
        "SECUREAPP-Hashes match... authentication successful.",
    );
    log.entry(
        4,
        "NOT",
        1746,
        "346:1887",
        "SECUREAPP-updateFromFile: TL parse to table: CTL_SUCCESS",
    );
    log.entry(
        2,
        "DEB",
        1747,
        "346:1887",
        "SECUREAPP-TL file verified successfully.",
    );
    log.entry(1, "INF", 1747, "346:1887", "SECUREAPP-TL file updated.");
    log.entry(
        9,
        "NOT",
        2230,
        "339:1899",
        &format!("downd-GETXXTP [GT339][src={dev}.cnf.xml][dest=/tmp/ram/{dev}.cnf.xml.59075][serv=][serv6=][sec=2]"),
    );
    log.entry(
        14,
        "NOT",
        2341,
        "339:1899",
        "downd-XXTP Secure file requested ",
    );
    log.entry(
        1,
        "NOT",
        2341,
        "339:1899",
        &format!(
            "downd-XXTP authenticated file approved - add .sgn if necessary -- {dev}.cnf.xml.sgn  "
        ),
    );
    log.entry(
        17,
        "NOT",
        2790,
        "346:1887",
        "SECUREAPP-Hashes match... authentication successful.",
    );
    log.device_tl_info(
        6120,
        phone,
        &cucm,
        &cluster.hostname,
        Some(&sha1_hex(served_itl)),
        1,
    );
    log.finish()
}

/// One member of a tar archive, written deterministically.
fn tar_append(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8], mtime: u64) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    b.append_data(&mut h, name, data)
        .expect("writing a tar into memory");
}

fn tar_of(files: &[(&str, &[u8])], mtime: u64) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        tar_append(&mut b, name, data, mtime);
    }
    b.into_inner().expect("a tar in memory")
}

/// gzip with no name and no timestamp: the same bytes on every run.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

/// The PRT bundle of `hostname-change-single-node.pcap`: the 8845 fails to update its ITL
/// after the rename. `prt/logs.tar.gz` (nested) holds the current console log (the logged
/// `DeviceTLInfo` with the ITL it still holds) and a rotated, gzip'ed one; `prt/stmsg` the
/// Status Messages; `prt/screen.png` a screenshot (binary, skipped).
pub fn hostname_change_prt(
    phone: &Phone,
    cluster: &Cluster,
    served_itl: &[u8],
    held_itl: &[u8],
) -> Vec<u8> {
    let cucm = cluster.node.ip.to_string();
    let mut log = ConsoleLog::new(2210, "Mar 02");
    log_trust_list_downloads(&mut log, phone, &cucm, served_itl.len());
    log.entry(
        20,
        "INF",
        1320,
        "346:1810",
        &format!("SECUREAPP-Attempting connect to TVS server addr [{cucm}], mode [IPv4]"),
    );
    log.device_tl_info(
        5200,
        phone,
        &cucm,
        &cluster.hostname,
        Some(&sha1_hex(held_itl)),
        8,
    );
    let current = log.finish();

    let mut old = ConsoleLog::new(1020, "Mar 01");
    old.entry(
        0,
        "NOT",
        100,
        "339:339",
        "downd-DDFORK - execing [/usr/sbin/dgetfile][-L620][ ]",
    );
    old.entry(
        1,
        "NOT",
        120,
        "339:1850",
        &format!(
            "downd-GETXXTP [GT339][src=ITL{}.tlv][dest=/tmp/ITLFile.tlv][serv=][serv6=][sec=0]",
            phone.device_name()
        ),
    );
    let rotated = gzip(old.finish().as_bytes());

    let mtime = 1_772_442_120;
    let logs = gzip(&tar_of(
        &[
            ("messages", current.as_bytes()),
            ("messages.0.gz", &rotated),
        ],
        mtime,
    ));
    let status = format!(
        "[9:00:01am 03/02/26] File Not Found : CTL{dev}.tlv\n\
         [9:00:04am 03/02/26] Trust List update failed, verification failure\n\
         [9:00:06am 03/02/26] invalid file {dev}.cnf.xml.sgn, authenticated fail. Reason:14.\n",
        dev = phone.device_name()
    );
    let mut screen = b"\x89PNG\r\n\x1a\n".to_vec();
    screen.extend([0u8; 200]);
    gzip(&tar_of(
        &[
            ("prt/logs.tar.gz", &logs),
            ("prt/stmsg", status.as_bytes()),
            ("prt/screen.png", &screen),
        ],
        mtime,
    ))
}

/// Status Messages of `cm-regenerated-tvs-ok.pcap` (7800/8800 wording): the new ITL accepted
/// through TVS.
pub fn status_messages_updated(phone: &Phone) -> String {
    format!(
        "Status Messages\n\
         [8:59:58am 03/02/26] File Not Found : CTL{dev}.tlv\n\
         [9:00:02am 03/02/26] Trust List Updated\n\
         [9:00:03am 03/02/26] {dev}.cnf.xml.sgn\n",
        dev = phone.device_name()
    )
}

fn colon_serial(serial: &[u8]) -> String {
    serial
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn function_name(f: u16) -> &'static str {
    match f {
        0 => "System Administrator Security Token",
        2 => "CCM+TFTP",
        4 => "CAPF",
        21 => "TVS",
        _ => "UNKNOWN",
    }
}

/// `show itl` on the cluster's TFTP node, in the CUCM layout (§3.5, one row a line): hashes,
/// length, signer, each record with its certificate's SHA-1, and the verification line.
pub fn show_itl(cluster: &Cluster) -> String {
    use crate::trustlist::function;
    let itl = cluster.itl();
    let c = &cluster.certs;
    let signer = match cluster.signer {
        ItlSigner::CallManager => &c.callmanager,
        ItlSigner::ItlRecovery => &c.itl_recovery,
    };
    let mut records: Vec<(u16, &Cert, bool)> = match cluster.signer {
        ItlSigner::CallManager => vec![
            (function::SAST, &c.callmanager, false),
            (function::CCM_TFTP, &c.callmanager, false),
            (function::SAST, &c.itl_recovery, false),
        ],
        ItlSigner::ItlRecovery => vec![
            (function::SAST, &c.itl_recovery, false),
            (function::CCM_TFTP, &c.callmanager, false),
        ],
    };
    records.push((function::TVS, &c.tvs, true));
    records.push((function::CAPF, &c.capf, true));
    let name = cluster.short_name().to_owned();
    let mut s = String::new();
    let _ = writeln!(s, "admin:show itl");
    let _ = writeln!(s, "The checksum value of the ITL file:");
    let _ = writeln!(s, "{}(MD5)", md5_hex(&itl));
    let _ = writeln!(s, "{}(SHA1)", sha1_hex(&itl));
    let _ = writeln!(s);
    let _ = writeln!(s, "Length of ITL file: {}", itl.len());
    let _ = writeln!(
        s,
        "The ITL File was last modified on Mon Mar 02 08:55:00 UTC 2026"
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "        Parse ITL File");
    let _ = writeln!(s, "        ----------------");
    let _ = writeln!(s);
    let _ = writeln!(s, "Version:        1.2");
    let _ = writeln!(s);
    let _ = writeln!(s, "BYTEPOS TAG             LENGTH  VALUE");
    let _ = writeln!(s, "------- ---             ------  -----");
    let subject = signer.subject_string();
    let _ = writeln!(s, "4       SIGNERNAME      {:<8}{subject}", subject.len());
    let _ = writeln!(
        s,
        "5       SERIALNUMBER    {:<8}{}",
        signer.serial.len(),
        colon_serial(&signer.serial)
    );
    let issuer = signer.issuer_string();
    let _ = writeln!(s, "6       CANAME          {:<8}{issuer}", issuer.len());
    for (i, (f, cert, hash_only)) in records.iter().enumerate() {
        let mut spec = RecordSpec::from_cert(*f, cert).dns_name(&name);
        if let std::net::IpAddr::V4(ip) = cluster.node.ip {
            spec = spec.ip(ip);
        }
        if *hash_only {
            spec = spec.hash_only();
        }
        let len = spec.encode().len();
        let subject = cert.subject_string();
        let issuer = cert.issuer_string();
        let sha1 = spaced_upper(&sha1_hex(&cert.der));
        let _ = writeln!(s);
        let _ = writeln!(s, "        ITL Record #:{}", i + 1);
        let _ = writeln!(s, "        ----");
        let _ = writeln!(s, "BYTEPOS TAG             LENGTH  VALUE");
        let _ = writeln!(s, "------- ---             ------  -----");
        let _ = writeln!(s, "1       RECORDLENGTH    2       {len}");
        let _ = writeln!(s, "2       DNSNAME         {:<8}{name}", name.len());
        let _ = writeln!(s, "3       SUBJECTNAME     {:<8}{subject}", subject.len());
        let _ = writeln!(s, "4       FUNCTION        2       {}", function_name(*f));
        let _ = writeln!(s, "5       ISSUERNAME      {:<8}{issuer}", issuer.len());
        let _ = writeln!(
            s,
            "6       SERIALNUMBER    {:<8}{}",
            cert.serial.len(),
            colon_serial(&cert.serial)
        );
        if *hash_only {
            let _ = writeln!(
                s,
                "7       PUBLICKEY       {}",
                cert.public_key_pkcs1().len()
            );
            let _ = writeln!(s, "8       CERTHASH        20      {}", sha1.trim_end());
            let _ = writeln!(s, "9       HASH ALGORITHM  1       SHA-1");
        } else {
            let _ = writeln!(
                s,
                "7       PUBLICKEY       {}",
                cert.public_key_pkcs1().len()
            );
            let _ = writeln!(
                s,
                "8       SIGNATURE       {}",
                cert.signature_value().len()
            );
            let _ = writeln!(
                s,
                "9       CERTIFICATE     {:<8}{}(SHA1 Hash HEX)",
                cert.der.len(),
                sha1
            );
            let _ = writeln!(s, "10      IPADDRESS       4");
        }
        if std::ptr::eq(*cert, signer) && *f == function::SAST {
            let _ = writeln!(s, "This etoken was used to sign the ITL file.");
        } else if *f == function::SAST {
            let _ = writeln!(s, "This etoken was not used to sign the ITL file.");
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "The ITL file was verified successfully.");
    let _ = writeln!(s);
    let _ = writeln!(s, "admin:");
    s
}

/// A certificate as CUCM exports it (`tvs.pem`): PEM with CRLF line ends.
pub fn pem(cert: &Cert) -> Vec<u8> {
    pem::encode(&pem::Pem::new("CERTIFICATE", cert.der.clone())).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_deterministic_gzip_tar() {
        let p = Phone::cp8845(0x22, "192.0.2.22");
        let c = Cluster::new(
            "cucm-pub.example.com",
            "198.51.100.10",
            ItlSigner::ItlRecovery,
        );
        let a = hostname_change_prt(&p, &c, &c.itl(), b"old");
        let b = hostname_change_prt(&p, &c, &c.itl(), b"old");
        assert_eq!(a, b);
        assert_eq!(&a[..2], &[0x1f, 0x8b]);
    }

    #[test]
    fn the_split_alarm_is_split_mid_word() {
        let p = Phone::cp7821(0x23, "192.0.2.23");
        let mut log = ConsoleLog::new(5839, "Mar 09");
        log.device_tl_info(100, &p, "198.51.100.10", "cucm", Some("1ba1"), 3);
        let text = log.finish();
        assert!(text.contains("<Alarm Name=\"DeviceT\n5851 DEB Mar 09 09:00:00.100"));
        assert!(text.contains("(618:927) JAVA-LInfo\">"));
        assert!(text.contains("1B A1 </String>"));
    }
}
