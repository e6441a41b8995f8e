//! The command line's shape: subcommands, options, their help, and the value parsers
//! (sizes, hashes, ports). What each command does is in `main.rs`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use itlscope::capture::{MIN_RECORD_SIZE, ReaderOptions};
use itlscope::diagnosis::{DEFAULT_MAX_PHONES, ItlHash, KeyBackup, PhoneStatus};
use itlscope::net::DefragLimits;
use itlscope::pipeline::PipelineOptions;
use itlscope::proto::CollectorConfig;
use std::fmt;
use std::path::PathBuf;

/// Exit status of `verify` when an input cannot be read or is not a Cisco file.
pub const EXIT_UNREADABLE: u8 = 3;

/// Exit status of `verify` when the trust list given as `--trust` fails its own signature:
/// it is not believed, so whether the file is trusted cannot be told (issue 18).
pub const EXIT_TRUST_NOT_BELIEVED: u8 = 4;

const ANALYZE_AFTER_HELP: &str = "\
Examples:
  itlscope analyze boot.pcap --phone-status failed --key-backup no
  itlscope analyze boot.pcap --phone-itl phone-itl.tlv --json -o report.json
  itlscope analyze a.pcap b.pcapng.gz --brief
  tcpdump -i eth0 -w - port 69 or port 6970 or port 2445 | itlscope analyze -

Sizes: a number of bytes, or with a suffix: K/KiB = 1024, M/MiB = 1024^2, G/GiB = 1024^3;
KB = 1000, MB = 1000^2, GB = 1000^3 (2MB = 2,000,000 bytes, 2MiB = 2,097,152 bytes).

Exit status:
  0  every capture was read and the report written, whatever the verdicts
  1  an input could not be read: a capture (the others are still analysed and reported,
     standard error names the unreadable ones), --phone-itl, or -o FILE not writable
  2  usage error (unknown option, bad value, `-` given twice)";

const SHOW_AFTER_HELP: &str = "\
Examples:
  itlscope show ITLSEP001122334455.tlv
  itlscope show --json CTLFile.tlv
  itlscope show SEP001122334455.cnf.xml.sgn --payload SEP001122334455.cnf.xml
  ssh admin@cucm ... | itlscope show -

Exit status:
  0  the file was parsed and shown
  1  it cannot be read or is not a trust list or signed file (a capture, a text file); a
     damaged trust list still shows its hashes and every record read before the damage
  2  usage error";

const EXTRACT_AFTER_HELP: &str = "\
Examples:
  itlscope extract boot.pcap -o files/
  itlscope extract a.pcap b.pcapng -o files/ && itlscope show files/ITLSEP001122334455.tlv

Exit status:
  0  every capture was read and the files, certificates and index.json written
  1  a capture could not be read (the others are still extracted) or the directory cannot
     be written
  2  usage error";

const VERIFY_AFTER_HELP: &str = "\
Example:
  itlscope verify SEP001122334455.cnf.xml.sgn --trust ITLSEP001122334455.tlv

Exit status:
  0  trusted: signed by a record of the trust list allowed to sign it
  1  not trusted (the reason is printed)
  2  usage error
  3  a file cannot be read, or is not a trust list or signed file
  4  cannot tell: the trust list given as --trust fails its own signature, so it is not
     believed (a phone would not hold it as it is; get the list the phone really holds)";

const PLAN_AFTER_HELP: &str = "\
Examples:
  itlscope plan ITLFile.tlv --regenerate callmanager --regenerate tvs
  itlscope plan ITLFile.tlv --hostname cucm-a.example.com --json
  itlscope plan ITLFile.tlv --hostname cucm1=cucm-a --hostname cucm2=cucm-b --cm-group cucm1,cucm2
  itlscope plan ITLFile.tlv --regenerate tvs@all
  itlscope plan ITLFile.tlv --phone-ctl CTLFile.tlv --regenerate callmanager   (mixed mode)
  itlscope plan ITLFile.tlv --move-to other-cluster-ITLFile.tlv
  itlscope plan show-itl.txt --regenerate itlrecovery   (CUCM `show itl` output saved as text)

Exit status:
  0  the plan was made (whatever it predicts)
  1  an input cannot be read, or is not what it should be
  2  usage error";

const DIFF_AFTER_HELP: &str = "\
Examples:
  itlscope diff ITLFile-before.tlv ITLFile-after.tlv
  itlscope diff show-itl-before.txt ITLFile.tlv --json   (CUCM `show itl` output saved as text)

Exit status:
  0  the lists were compared (whatever the verdict)
  1  an input cannot be read, or is not a trust list or `show itl` / `show ctl` text
  2  usage error";

/// `diff`: the two trust lists.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The trust list a phone holds: ITL/CTL file or CUCM `show itl` / `show ctl` text.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The trust list offered to it: ITL/CTL file or `show itl` / `show ctl` text.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Print the comparison as JSON (docs/schema/diff.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `plan`: the ITL the phones hold and the change.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The ITL the phones hold now: the file (e.g. `file get tftp ITLFile.tlv` before the
    /// change) or CUCM's `show itl` output saved as text.
    #[arg(value_name = "PHONE-ITL")]
    pub phone_itl: PathBuf,
    /// Regenerate this certificate: callmanager, tvs, itlrecovery or capf (the TFTP node's),
    /// or tvs@NODE (that node's TVS), tvs@all (TVS on every node) (repeatable).
    #[arg(long, value_name = "ROLE[@NODE|@all]", value_parser = Hinted(parse_regenerate, &["callmanager", "tvs", "itlrecovery", "capf", "tvs@all"]))]
    pub regenerate: Vec<itlscope::plan::Change>,
    /// Replace a certificate by the one in FILE (PEM or DER), as ROLE=FILE (repeatable).
    #[arg(long, value_name = "ROLE=FILE", value_parser = parse_replace)]
    pub replace: Vec<(itlscope::plan::cluster::Role, PathBuf)>,
    /// Rename a node (its certificates are regenerated under the new name): NEW renames the
    /// TFTP node (the ITL's CallManager), OLD=NEW the node OLD (repeatable, one per node).
    #[arg(long, value_name = "[OLD=]NEW", value_parser = parse_rename)]
    pub hostname: Vec<itlscope::plan::Change>,
    /// The phones' CallManager group: the nodes whose TVS they ask (1 to 3, statement 10).
    /// Without it the prediction assumes every TVS of the ITL is in their group.
    #[arg(
        long = "cm-group",
        value_name = "NODE[,NODE...]",
        value_delimiter = ','
    )]
    pub cm_group: Option<Vec<String>>,
    /// The CTL the phones hold (mixed mode): the file or CUCM `show ctl` text.
    #[arg(long = "phone-ctl", value_name = "CTL")]
    pub phone_ctl: Option<PathBuf>,
    /// Move the phones to the cluster whose ITL (or CTL) this is: the file or `show itl` /
    /// `show ctl` text.
    #[arg(long = "move-to", value_name = "ITL")]
    pub move_to: Option<PathBuf>,
    /// Print the JSON object (docs/plan.md) instead of the readable plan.
    #[arg(long)]
    pub json: bool,
}

fn parse_role(s: &str) -> Result<itlscope::plan::cluster::Role, String> {
    itlscope::plan::cluster::Role::parse(s)
        .ok_or_else(|| format!("{s:?}: expected callmanager, tvs, itlrecovery or capf"))
}

fn parse_regenerate(s: &str) -> Result<itlscope::plan::Change, String> {
    use itlscope::plan::{Change, Nodes, cluster::Role};
    let Some((role, node)) = s.split_once('@') else {
        return Ok(Change::Regenerate(parse_role(s)?));
    };
    if parse_role(role)? != Role::Tvs {
        return Err(format!(
            "{s:?}: only tvs is given per node (tvs@NODE, tvs@all): the ITL lists one TVS per node but only the TFTP node's other certificates"
        ));
    }
    if node.eq_ignore_ascii_case("all") {
        return Ok(Change::RegenerateTvs(Nodes::All));
    }
    Ok(Change::RegenerateTvs(Nodes::Named(parse_hostname(node)?)))
}

fn parse_rename(s: &str) -> Result<itlscope::plan::Change, String> {
    use itlscope::plan::Change;
    match s.split_once('=') {
        Some((old, new)) => Ok(Change::Rename {
            old: parse_hostname(old)?,
            new: parse_hostname(new)?,
        }),
        None => Ok(Change::Hostname(parse_hostname(s)?)),
    }
}

fn parse_hostname(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{s:?}: expected a host name (letters, digits, '-', labels separated by '.')"
        ))
    }
}

fn parse_replace(s: &str) -> Result<(itlscope::plan::cluster::Role, PathBuf), String> {
    let (role, file) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected ROLE=FILE, e.g. callmanager=CallManager.pem"))?;
    if file.is_empty() {
        return Err(format!("{s:?}: no file after ="));
    }
    Ok((parse_role(role)?, PathBuf::from(file)))
}

/// Does this Cisco IP phone's ITL really have to be deleted? Reads captures taken at the
/// phone's port and answers with the evidence.
#[derive(Parser, Debug)]
#[command(name = "itlscope", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze captures (pcap or pcapng; `-` for standard input) and give a per-phone verdict.
    #[command(after_help = ANALYZE_AFTER_HELP, disable_help_flag = true)]
    Analyze(Box<AnalyzeArgs>),
    /// Show a trust list (ITL/CTL) or signed file like CUCM's `show itl`.
    #[command(after_help = SHOW_AFTER_HELP)]
    Show {
        /// The file (`-` for standard input).
        file: PathBuf,
        /// Print the JSON object instead of the text dump.
        #[arg(long)]
        json: bool,
        /// For a signed file: write the unsigned payload to this file.
        #[arg(long, value_name = "OUT")]
        payload: Option<PathBuf>,
        /// Colour the signature verdict: auto (on a terminal, unless NO_COLOR is set), always
        /// or never.
        #[arg(long, value_name = "WHEN", default_value = "auto")]
        color: ColorWhen,
    },
    /// Extract reassembled files and TLS server certificates from captures.
    #[command(after_help = EXTRACT_AFTER_HELP)]
    Extract {
        /// Output directory.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Do not draw progress bars on standard error.
        #[arg(short, long)]
        quiet: bool,
        #[command(flatten)]
        input: CaptureArgs,
    },
    /// Verify a signed file or trust list against a trust list (exit 0 trusted, 1 not,
    /// 3 unreadable input, 4 the --trust list fails its own signature).
    #[command(after_help = VERIFY_AFTER_HELP)]
    Verify {
        /// The signed file.
        file: PathBuf,
        /// The trust list whose records may sign it.
        #[arg(long)]
        trust: PathBuf,
    },
    /// Predict what a certificate change will do to the phones holding an ITL: accepted
    /// directly, through TVS, or not at all, and the safe order of steps (docs/plan.md).
    #[command(after_help = PLAN_AFTER_HELP)]
    Plan(Box<PlanArgs>),
    /// Compare two trust lists: signer, digest algorithm, records added, removed or changed,
    /// and whether a phone holding OLD accepts NEW directly, only through TVS, or not at all.
    #[command(after_help = DIFF_AFTER_HELP)]
    Diff(DiffArgs),
    /// Print a shell completion script (e.g. `itlscope completions bash > /etc/bash_completion.d/itlscope`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print a manual page in roff (`itlscope man analyze > itlscope-analyze.1; man
    /// ./itlscope-analyze.1`), or write every page into a directory (`--dir`).
    Man {
        /// The subcommand whose page to print (analyze, show, …); none: the main page.
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Option<String>,
        /// Write every page (itlscope.1, itlscope-analyze.1, …) into this directory.
        #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
        dir: Option<PathBuf>,
    },
}

/// `analyze`: the four diagnosis options first, then output, then what is read and the limits.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Conditions 1 and 2 (the phone's ITL differs; TVS's certificate is not in it), and the
    /// trust path: the phone's installed ITL file (e.g. a copy from before the change). With
    /// several phones in the capture name the phone: `SEP<MAC>=FILE` (repeat per phone); a
    /// value without a phone applies only to a capture of one phone.
    #[arg(
        long = "phone-itl",
        value_name = "[SEP<MAC>=]FILE",
        value_parser = parse_scoped_path,
        action = clap::ArgAction::Append,
        help_heading = "Diagnosis (the four conditions)"
    )]
    pub phone_itl: Vec<(Option<String>, PathBuf)>,
    /// Condition 1 (the phone's ITL differs): the ITL hash the phone shows (Settings >
    /// Security Configuration > Trust List); MD5, SHA-1 or SHA-256 by length, spaces and
    /// colons allowed; `SEP<MAC>=HEX` for one phone of several.
    #[arg(long = "phone-itl-hash", value_name = "[SEP<MAC>=]HEX", value_parser = parse_scoped_hash, action = clap::ArgAction::Append, help_heading = "Diagnosis (the four conditions)")]
    pub phone_itl_hash: Vec<(Option<String>, ItlHash)>,
    /// Mixed mode: the CTL the phone holds (CTLSEP<MAC>.tlv or CTLFile.tlv from before the
    /// change); says whether the CTL path (re-running the CTL client) can recover the phone.
    /// `SEP<MAC>=FILE` for one phone of several.
    #[arg(
        long = "phone-ctl",
        value_name = "[SEP<MAC>=]FILE",
        value_parser = parse_scoped_path,
        action = clap::ArgAction::Append,
        help_heading = "Diagnosis (the four conditions)"
    )]
    pub phone_ctl: Vec<(Option<String>, PathBuf)>,
    /// Condition 3: does the phone show a verification failure ("Trust List update failed")?
    /// `SEP<MAC>=failed|ok` for one phone of several.
    #[arg(long = "phone-status", value_name = "[SEP<MAC>=]failed|ok|unknown", value_parser = Hinted(parse_scoped_status, &["failed", "ok", "unknown"]), action = clap::ArgAction::Append, help_heading = "Diagnosis (the four conditions)")]
    pub phone_status: Vec<(Option<String>, PhoneStatus)>,
    /// Condition 4: does a backup of the old TFTP (CallManager.pem) private key exist?
    #[arg(long = "key-backup", value_name = "yes|no|unknown", default_value = "unknown", value_parser = Hinted(parse_backup, &["yes", "no", "unknown"]), help_heading = "Diagnosis (the four conditions)")]
    pub key_backup: KeyBackup,
    /// Conditions 1, 2 and 3 from outside the capture, each file recognised by content: the
    /// phone's console log or PRT bundle (probrep-*.tar.gz), its Status Messages text, CUCM
    /// `show itl`/`show ctl` output, certificates exported from CUCM (tvs.pem,
    /// CallManager.pem; PEM or DER). Give it after the captures, or repeat it.
    /// A folder is read whole: every file in it that is evidence (others are set aside and
    /// named).
    #[arg(long = "evidence", value_name = "FILE|DIR", num_args = 1.., action = clap::ArgAction::Append, help_heading = "Diagnosis (the four conditions)")]
    pub evidence: Vec<PathBuf>,
    /// What is known per phone, for a fleet: CSV with a header row, or JSON Lines, one phone
    /// a row. Columns: `mac` or `name` (SEP…), `phone_itl_hash`, `phone_status`,
    /// `phone_itl` and `phone_ctl` (paths, relative to the file), `key_backup` (one value
    /// for the cluster); other columns are ignored and named. Rows for phones not in the
    /// capture are listed in the notes.
    #[arg(
        long = "inventory",
        value_name = "FILE",
        help_heading = "Diagnosis (the four conditions)"
    )]
    pub inventory: Option<PathBuf>,

    /// Print the JSON object (docs/report.md) instead of the readable report.
    #[arg(long, conflicts_with = "format", help_heading = "Output")]
    pub json: bool,
    /// One row per phone instead of the readable report: csv or jsonl (docs/report.md
    /// "Rows"); text and json are the readable report and `--json`.
    #[arg(long, value_name = "FORMAT", value_enum, help_heading = "Output")]
    pub format: Option<Format>,
    /// Also write the JSON object to FILE (`-`: standard output, instead of the readable report).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML report to FILE (verdict table, the four conditions,
    /// checks and a ladder diagram of each phone's boot; no network needed to open it).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: Option<PathBuf>,
    /// Also write a copy of the capture as pcapng with packet comments on the frames that
    /// matter (requests, files, TVS certificates, alerts, the verdict) for Wireshark
    /// (`frame.comment`); every frame as read. One capture, not standard input.
    #[arg(long, value_name = "OUT.pcapng", help_heading = "Output")]
    pub annotate: Option<PathBuf>,
    /// Only the verdict table: one line per phone.
    #[arg(long, conflicts_with = "json", help_heading = "Output")]
    pub brief: bool,
    /// Share safely: replace MAC addresses, IP addresses, host names and certificate names by
    /// stable pseudonyms (SEP-PHONE-1, mac-1, ip-1, host-1, cert-name-1; one value, one
    /// pseudonym in every report of the run) in the text, JSON, CSV, JSON lines and HTML
    /// reports; hashes, serials, sizes and frame numbers stay. Not with --annotate.
    #[arg(long, help_heading = "Output")]
    pub redact: bool,
    /// Watch a capture as it is written (`tcpdump -w - | itlscope analyze - --follow`):
    /// print each phone's verdict line as soon as its boot ends (its config downloaded, or
    /// a boot loop or stalled download recognised), a line starting `update:` when a
    /// phone's verdict changes later, then the full report when the input ends or on Ctrl-C
    /// (the report covers what was read). One capture. With JSON, CSV or JSONL on standard
    /// output the lines go to standard error.
    #[arg(long, help_heading = "Output")]
    pub follow: bool,
    /// Do not draw progress bars on standard error.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// Colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(
        long,
        value_name = "WHEN",
        default_value = "auto",
        help_heading = "Output"
    )]
    pub color: ColorWhen,
    /// Phones diagnosed at most (the first seen); the report says how many were left out.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PHONES, value_parser = parse_max_phones, help_heading = "Limits")]
    pub max_phones: usize,

    #[command(flatten)]
    pub input: CaptureArgs,

    /// Print help (a summary with -h).
    #[arg(short, long, action = clap::ArgAction::Help, help_heading = "Help")]
    pub help: Option<bool>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The readable report.
    Text,
    /// The JSON object.
    Json,
    /// One CSV row per phone.
    Csv,
    /// One JSON object per line per phone.
    Jsonl,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// A byte size as given on the command line; shown in help as `16MiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if n != 0 && n.is_multiple_of(1u64 << shift) {
                return write!(f, "{}{unit}", n >> shift);
            }
        }
        write!(f, "{n}")
    }
}

impl Size {
    fn usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

fn size_of(n: usize) -> Size {
    Size(u64::try_from(n).unwrap_or(u64::MAX))
}

/// The captures to read, the ports to follow and the memory limits (README "Limits"). The
/// defaults shown in help are the library's.
#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// Capture files (pcap or pcapng, optionally gzip-compressed; `-` for standard input, once).
    #[arg(required = true)]
    pub captures: Vec<PathBuf>,
    /// Another UDP port where TFTP read/write requests are accepted (69 always is).
    #[arg(long = "tftp-port", value_name = "PORT", value_parser = parse_tftp_port, help_heading = "Ports")]
    pub tftp_ports: Vec<u16>,
    /// Another TCP port where HTTP downloads are followed (6970 always is).
    #[arg(long = "http-port", value_name = "PORT", value_parser = parse_http_port, help_heading = "Ports")]
    pub http_ports: Vec<u16>,
    /// Largest file kept from one download; larger ones are cut and reported incomplete.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = Size(CollectorConfig::default().max_file_size), help_heading = "Limits")]
    pub max_file_size: Size,
    /// File bytes kept across all downloads of one capture.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = Size(CollectorConfig::default().max_total_file_bytes), help_heading = "Limits")]
    pub max_total_file_bytes: Size,
    /// TCP connections followed at once per capture.
    #[arg(long, value_name = "N", default_value_t = CollectorConfig::default().max_flows, help_heading = "Limits")]
    pub max_flows: usize,
    /// Seconds of capture time after which a TCP connection the server never answered is
    /// closed (SYN-only, half-open).
    #[arg(long, value_name = "SECONDS", default_value_t = CollectorConfig::default().tcp_timeout_new.as_secs(), help_heading = "Limits")]
    pub tcp_timeout_new: u64,
    /// Seconds of capture time after which an idle answered TCP connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = CollectorConfig::default().tcp_timeout_established.as_secs(), help_heading = "Limits")]
    pub tcp_timeout_established: u64,
    /// Seconds of capture time after which an idle TFTP transfer is ended.
    #[arg(long, value_name = "SECONDS", default_value_t = CollectorConfig::default().tftp_timeout.as_secs(), help_heading = "Limits")]
    pub tftp_timeout: u64,
    /// Files, TLS sessions of phones, TLS aggregates and alarms kept per capture (each).
    #[arg(long, value_name = "N", default_value_t = CollectorConfig::default().max_records, value_parser = parse_max_records, help_heading = "Limits")]
    pub max_records: usize,
    /// Latest TLS sessions of hosts that are not phones kept one by one; older ones are summed
    /// per server and certificate.
    #[arg(long, value_name = "N", default_value_t = CollectorConfig::default().max_other_tls_sessions, help_heading = "Limits")]
    pub max_other_tls: usize,
    /// Memory all parser buffers may hold (out-of-order TCP data, partial TLS records and
    /// handshake messages), for all captures read at once; each capture read in parallel
    /// gets an equal share. Past it, flows of hosts that are not phones are closed first,
    /// then a buffer gives up what it waited for; either is reported among the limits.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = size_of(CollectorConfig::default().max_memory), help_heading = "Limits")]
    pub max_memory: Size,
    /// Out-of-order bytes one TCP direction may hold while waiting for a hole.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = size_of(CollectorConfig::default().stream_buffer_cap), help_heading = "Limits")]
    pub stream_buffer: Size,
    /// Out-of-order bytes all TCP directions together may hold.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = size_of(CollectorConfig::default().global_buffer_cap), help_heading = "Limits")]
    pub global_stream_buffer: Size,
    /// Bytes of incomplete IP fragments held at once.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = size_of(DefragLimits::default().max_total_bytes), help_heading = "Limits")]
    pub max_fragment_bytes: Size,
    /// Largest capture record (pcap record or pcapng block) held; a longer one is skipped.
    #[arg(long, value_name = "SIZE", value_parser = parse_record_size, default_value_t = size_of(ReaderOptions::default().max_record_size), help_heading = "Limits")]
    pub max_record_size: Size,
}

impl CaptureArgs {
    /// The library options: defaults, with what was given on the command line.
    pub fn options(&self) -> PipelineOptions {
        let mut o = PipelineOptions::default();
        let c = &mut o.collector;
        c.tftp_ports.extend(&self.tftp_ports);
        c.http_ports.extend(&self.http_ports);
        c.max_file_size = self.max_file_size.0;
        c.max_total_file_bytes = self.max_total_file_bytes.0;
        c.max_flows = self.max_flows;
        c.max_records = self.max_records;
        c.tcp_timeout_new = std::time::Duration::from_secs(self.tcp_timeout_new);
        c.tcp_timeout_established = std::time::Duration::from_secs(self.tcp_timeout_established);
        c.tftp_timeout = std::time::Duration::from_secs(self.tftp_timeout);
        c.max_other_tls_sessions = self.max_other_tls;
        c.stream_buffer_cap = self.stream_buffer.usize();
        c.global_buffer_cap = self.global_stream_buffer.usize();
        c.max_memory = self.max_memory.usize();
        o.defrag.max_total_bytes = self.max_fragment_bytes.usize();
        o.reader.max_record_size = self.max_record_size.usize();
        o
    }

    /// `-` (standard input) can be read once only.
    pub fn stdin_twice(&self) -> bool {
        self.captures
            .iter()
            .filter(|p| p.as_os_str() == "-")
            .count()
            > 1
    }
}

/// A byte size: digits with an optional suffix. K, KiB, M, MiB, G, GiB are powers of 1024;
/// KB, MB, GB are powers of 1000 (as disk vendors and `ls --si` count). Case-insensitive.
pub fn parse_size(s: &str) -> Result<Size, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => {
            return Err(format!(
                "{s:?} is not a size (e.g. 65536, 64K, 2MB = 2,000,000 bytes, 2MiB = 2,097,152 bytes, 1G)"
            ));
        }
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("{s:?} is not a size (e.g. 65536, 64K, 2MB = 2,000,000 bytes, 2MiB = 2,097,152 bytes, 1G)")
    })?;
    n.checked_mul(factor)
        .map(Size)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A server port: 1 to 65535 (0 is no port a server listens on).
pub fn parse_port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(0) => Err("port 0 is not a port a server listens on; give 1 to 65535".into()),
        Ok(p) => Ok(p),
        Err(_) => Err(format!("{s:?} is not a port number (1 to 65535)")),
    }
}

/// `--tftp-port`: a UDP port for TFTP requests; the phones' HTTP port (TCP 6970) and the
/// TLS ports are another protocol, so naming them here is a mistake worth a word.
pub fn parse_tftp_port(s: &str) -> Result<u16, String> {
    let p = parse_port(s)?;
    match p {
        69 => Err("69 is read as TFTP always; --tftp-port adds another UDP port".into()),
        6970 => Err(
            "6970 is the phones' HTTP port (TCP), followed always; --tftp-port takes a UDP port where TFTP requests arrive (--http-port adds TCP ports)"
                .into(),
        ),
        _ => other_protocol(p, "--tftp-port").map(|()| p),
    }
}

/// `--http-port`: a TCP port for HTTP downloads; TFTP's UDP 69 and the TLS ports are not.
pub fn parse_http_port(s: &str) -> Result<u16, String> {
    let p = parse_port(s)?;
    match p {
        6970 => Err("6970 is followed as HTTP always; --http-port adds another TCP port".into()),
        69 => Err(
            "69 is TFTP's port (UDP), read always; --http-port takes a TCP port where phones download files over HTTP (--tftp-port adds UDP ports)"
                .into(),
        ),
        _ => other_protocol(p, "--http-port").map(|()| p),
    }
}

/// Ports that carry TLS to and from phones: never plain TFTP or HTTP.
fn other_protocol(port: u16, option: &str) -> Result<(), String> {
    let what = match port {
        2445 => "TVS (TLS)",
        2443 => "SCCP over TLS",
        5061 => "SIP over TLS",
        3804 => "CAPF (TLS)",
        443 | 8443 => "HTTPS",
        _ => return Ok(()),
    };
    Err(format!(
        "{port} is {what}, read as TLS always; {option} is for plain transfers"
    ))
}

/// `--max-records`: at least 1 (0 would keep no file and report "No phone traffic found").
pub fn parse_max_records(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err(
            "0 would keep no file, TLS session or alarm, and the report would look like a capture without phones; give at least 1"
                .into(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number")),
    }
}

/// `--max-record-size`: at least [`MIN_RECORD_SIZE`] (the reader would raise a smaller value
/// without a word, and 0 reads as "skip every record").
pub fn parse_record_size(s: &str) -> Result<Size, String> {
    let size = parse_size(s)?;
    if size.0 < MIN_RECORD_SIZE as u64 {
        return Err(format!(
            "{s:?} is below the smallest record size read, {MIN_RECORD_SIZE} bytes (a record header and a frame must fit)"
        ));
    }
    Ok(size)
}

/// `--max-phones`: at least 1 (0 would diagnose nothing and still look like an answer).
pub fn parse_max_phones(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 would diagnose no phone at all; give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number of phones")),
    }
}

fn parse_hash(s: &str) -> Result<ItlHash, String> {
    ItlHash::parse(s).map_err(|e| e.to_string())
}

fn parse_status(s: &str) -> Result<PhoneStatus, String> {
    PhoneStatus::parse(s).ok_or_else(|| "expected failed, ok or unknown".to_string())
}

fn parse_scoped_path(s: &str) -> Result<(Option<String>, PathBuf), String> {
    let (mac, value) = crate_split_scope(s);
    if value.is_empty() {
        return Err("expected a file after the phone's name".into());
    }
    Ok((mac, PathBuf::from(value)))
}

fn parse_scoped_hash(s: &str) -> Result<(Option<String>, ItlHash), String> {
    let (mac, value) = crate_split_scope(s);
    Ok((mac, parse_hash(value)?))
}

fn parse_scoped_status(s: &str) -> Result<(Option<String>, PhoneStatus), String> {
    let (mac, value) = crate_split_scope(s);
    Ok((mac, parse_status(value)?))
}

fn crate_split_scope(s: &str) -> (Option<String>, &str) {
    itlscope::diagnosis::split_scope(s)
}

/// A value parser that parses with `.0` and offers `.1` to shell completion and help: the
/// options whose values also take another form (`SEP<MAC>=failed`, `tvs@NODE`) cannot use
/// clap's closed list, but their plain values should still complete.
#[derive(Clone)]
pub struct Hinted<T: Clone + Send + Sync + 'static>(
    pub fn(&str) -> Result<T, String>,
    pub &'static [&'static str],
);

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Hinted<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        self.0.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.1.iter().map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

fn parse_backup(s: &str) -> Result<KeyBackup, String> {
    KeyBackup::parse(s).ok_or_else(|| "expected yes, no or unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sizes_take_binary_and_decimal_suffixes() {
        assert_eq!(parse_size("65536"), Ok(Size(65536)));
        assert_eq!(parse_size("64K"), Ok(Size(64 << 10)));
        assert_eq!(parse_size("16m"), Ok(Size(16 << 20)));
        assert_eq!(parse_size("2MiB"), Ok(Size(2 << 20)));
        assert_eq!(parse_size("2MB"), Ok(Size(2_000_000)));
        assert_eq!(parse_size("3 kb"), Ok(Size(3_000)));
        assert_eq!(parse_size("1G"), Ok(Size(1 << 30)));
        assert_eq!(parse_size("1GB"), Ok(Size(1_000_000_000)));
        assert!(parse_size("").is_err());
        assert!(parse_size("MB").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn sizes_display_in_the_largest_exact_binary_unit() {
        assert_eq!(Size(16 << 20).to_string(), "16MiB");
        assert_eq!(Size(1 << 30).to_string(), "1GiB");
        assert_eq!(Size(1000).to_string(), "1000");
        assert_eq!(Size(0).to_string(), "0");
        for s in [Size(16 << 20), Size(1500), Size(3 << 10)] {
            assert_eq!(parse_size(&s.to_string()), Ok(s));
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let cli = Cli::try_parse_from(["itlscope", "analyze", "x.pcap"]).expect("parses");
        let Command::Analyze(args) = cli.command else {
            panic!("analyze");
        };
        let given = args.input.options();
        let library = PipelineOptions::default();
        assert_eq!(given.reader.max_record_size, library.reader.max_record_size);
        assert_eq!(given.defrag.max_total_bytes, library.defrag.max_total_bytes);
        assert_eq!(
            format!("{:?}", given.collector),
            format!("{:?}", library.collector)
        );
        assert_eq!(args.max_phones, DEFAULT_MAX_PHONES);
    }
}
