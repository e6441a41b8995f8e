//! The scenario captures of `captures/`: each scenario is data (phones, the steps each one
//! takes, the cluster files it meets, the options an engineer passes and the verdict the
//! diagnosis contract gives) plus the builder that turns it into capture bytes.
//!
//! `cargo run -p itlscope-gen --bin make-captures` writes them all, with the phones'
//! installed ITLs next to them and `captures/README.md`; a test regenerates them in memory
//! and compares byte for byte.

pub mod boot;
pub mod catalog;
pub mod cluster;
pub mod common;
pub mod loops;
pub mod paths;
pub mod phone;
pub mod plans;
pub mod sidecar;

use crate::conv::{Format, Framing, Trace, write_capture};
use boot::{FileFact, Step, TlsFact, expected_files, expected_tls, write_boot};
use phone::Phone;

/// One phone in a scenario and what it does.
#[derive(Debug, Clone)]
pub struct PhoneBoot {
    /// The phone.
    pub phone: Phone,
    /// Its steps.
    pub steps: Vec<Step>,
    /// When it starts, ns since the epoch.
    pub start: i64,
}

/// The verdict the diagnosis contract (issue 5, generalised by issue 18) gives one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The phone's MAC, 12 upper-case hex digits.
    pub mac: String,
    /// "required" | "not-required" | "undetermined".
    pub delete_itl: &'static str,
    /// `itl_differs`, `tvs_cert_mismatch`, `phone_verification_failed`, `no_key_backup`, as
    /// the TAC note states them.
    pub conditions: [Option<bool>; 4],
    /// The generalised condition 4 (issue 18): true when every way to get a file the phone
    /// will accept signed is closed (old TFTP key backup, ITLRecovery through
    /// `utils itl reset localkey`, the CTL path in mixed mode, another TVS the phone
    /// trusts), false when one is open, null when unknown.
    pub no_recovery_path: Option<bool>,
}

/// The names of the four conditions, in [`Verdict::conditions`] order.
pub const CONDITIONS: [&str; 4] = [
    "itl_differs",
    "tvs_cert_mismatch",
    "phone_verification_failed",
    "no_key_backup",
];

impl Verdict {
    /// A verdict where the key backup is the only recovery path considered:
    /// `no_recovery_path` is `conditions[3]`.
    pub fn new(mac: &str, conditions: [Option<bool>; 4]) -> Self {
        Verdict::with_recovery(mac, conditions, conditions[3])
    }

    /// A verdict with the generalised condition 4 given. `delete_itl` is "not-required" when
    /// one of the first three conditions is false or a recovery path is open, "required"
    /// when the first three are true and every path is closed, else "undetermined".
    pub fn with_recovery(
        mac: &str,
        conditions: [Option<bool>; 4],
        no_recovery_path: Option<bool>,
    ) -> Self {
        let first = &conditions[..3];
        let delete_itl = if first.contains(&Some(false)) || no_recovery_path == Some(false) {
            "not-required"
        } else if first.iter().all(|c| *c == Some(true)) && no_recovery_path == Some(true) {
            "required"
        } else {
            "undetermined"
        };
        Verdict {
            mac: mac.to_owned(),
            delete_itl,
            conditions,
            no_recovery_path,
        }
    }
}

/// One `itlscope analyze` invocation and what it must answer.
#[derive(Debug, Clone)]
pub struct Run {
    /// Options besides the capture path (paths relative to the repository root).
    pub args: Vec<String>,
    /// One verdict per phone.
    pub verdicts: Vec<Verdict>,
}

impl Run {
    /// A run with options given as one string (split on spaces).
    pub fn new(args: &str, verdicts: Vec<Verdict>) -> Self {
        Run {
            args: args.split_whitespace().map(str::to_owned).collect(),
            verdicts,
        }
    }
}

/// A scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Capture file name in `captures/`.
    pub file: String,
    /// One line: what the capture shows.
    pub shows: String,
    /// File format.
    pub format: Format,
    /// Link framing.
    pub framing: Framing,
    /// The phones.
    pub phones: Vec<PhoneBoot>,
    /// Files committed next to the capture (the phone's installed ITL), name and bytes.
    pub side_files: Vec<(String, Vec<u8>)>,
    /// Analyzer runs and their verdicts.
    pub runs: Vec<Run>,
    /// Seed for ports, sequence numbers and filler.
    pub seed: u64,
}

impl PhoneBoot {
    /// Writes this boot into `trace` as phone number `index` of a capture seeded `seed` (each
    /// phone its own ports, sequence numbers and filler).
    pub fn write(&self, trace: &mut Trace, seed: u64, index: usize) {
        write_boot(
            trace,
            &self.phone,
            &self.steps,
            self.start,
            seed ^ (index as u64) << 32,
        );
    }
}

impl Scenario {
    /// The capture bytes.
    pub fn capture(&self) -> Vec<u8> {
        let mut trace = Trace::new();
        for (i, p) in self.phones.iter().enumerate() {
            p.write(&mut trace, self.seed, i);
        }
        write_capture(&trace.finish(), self.format, &self.framing)
    }

    /// Every file this scenario puts in `captures/`: the capture and the side files.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![(self.file.clone(), self.capture())];
        out.extend(self.side_files.iter().cloned());
        out
    }

    /// Files each phone fetched (per phone, in order).
    pub fn expected_files(&self) -> Vec<(String, Vec<FileFact>)> {
        self.phones
            .iter()
            .map(|p| (p.phone.mac_hex(), expected_files(&p.steps)))
            .collect()
    }

    /// TLS sessions each phone made.
    pub fn expected_tls(&self) -> Vec<(String, Vec<TlsFact>)> {
        self.phones
            .iter()
            .map(|p| (p.phone.mac_hex(), expected_tls(&p.steps)))
            .collect()
    }

    /// The stem used for side files: the capture name without extension.
    pub fn stem(&self) -> &str {
        self.file
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(&self.file)
    }
}

fn cond(c: Option<bool>) -> &'static str {
    match c {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    }
}

/// The README's word for the generalised condition 4 (`no_recovery_path`).
fn recovery(no_recovery_path: Option<bool>) -> &'static str {
    match no_recovery_path {
        Some(true) => "closed",
        Some(false) => "open",
        None => "unknown",
    }
}

/// `captures/README.md`, generated from the scenarios so it cannot drift from them.
pub fn readme(scenarios: &[Scenario]) -> String {
    let mut s = String::from(
        "# Scenario captures\n\n\
         Small captures of Cisco IP phones booting against CUCM, one per situation of\n\
         `domain.md` and `phone-behaviour.md` §4, written by the deterministic generator in\n\
         `gen/` (`cargo run -p itlscope-gen --bin make-captures`; do not edit by hand: the\n\
         test `scenarios_regenerate` fails when a file differs from what the generator makes).\n\n\
         Phones use MACs 00-00-5E-00-53-xx and addresses in 192.0.2.0/24 / 2001:db8:100::/48;\n\
         CUCM nodes live in 198.51.100.0/24 / 2001:db8:200::/48, behind the gateway\n\
         00-00-5E-00-53-01. The capture point is the phone's switch port. Times start\n\
         2026-03-02 09:00:00 UTC. Certificates come from `gen/src/pki.rs`, trust lists and\n\
         signed configs from `gen/src/trustlist.rs`. `*.phone-itl.tlv` files are the ITL the\n\
         phone had installed before the capture (what the engineer would pass with\n\
         `--phone-itl`).\n\n\
         Verdicts follow the contract of issue 5 as issue 18 generalises it. Conditions are\n\
         listed as the TAC note states them: itl_differs / tvs_cert_mismatch /\n\
         phone_verification_failed / no_key_backup. `recovery path` is the generalised fourth\n\
         condition (`no_recovery_path`): `open` when some key the phone trusts can still sign a\n\
         file it will accept (the old TFTP key backup, ITLRecovery through `utils itl reset\n\
         localkey`, the CTL in mixed mode, another TVS the phone trusts), `closed` when every\n\
         path is closed, `unknown` otherwise. `delete_itl` is `required` only when the first\n\
         three conditions are true and the recovery path is closed, `not-required` when one of\n\
         the first three is false or a path is open, else `undetermined`. `*.phone-ctl.tlv`\n\
         files are the CTL the phone holds (`--phone-ctl`).\n\n\
         | file | what it shows | options | phone | verdict | conditions | recovery path |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for sc in scenarios {
        let mut first = true;
        for run in &sc.runs {
            for v in &run.verdicts {
                let (file, shows) = if first {
                    (format!("`{}`", sc.file), sc.shows.clone())
                } else {
                    (String::new(), String::new())
                };
                first = false;
                let args = if run.args.is_empty() {
                    "(none)".to_owned()
                } else {
                    format!("`{}`", run.args.join(" "))
                };
                s.push_str(&format!(
                    "| {} | {} | {} | {} | **{}** | {} | {} |\n",
                    file,
                    shows,
                    args,
                    v.mac,
                    v.delete_itl,
                    v.conditions.map(cond).join(" / "),
                    recovery(v.no_recovery_path)
                ));
            }
        }
    }
    s.push_str(
        "\nTry one: `cargo run --release -- analyze captures/healthy-tftp-boot.pcap`.\n\n\
         In Wireshark, TVS is not dissected by default: use Decode As… TCP port 2445 → TLS\n\
         (`tshark -d tcp.port==2445,tls`) to see its handshakes; enable TCP \"reassemble\n\
         out-of-order segments\" for the lossy capture.\n\n\
         Notes on what is assumed rather than observed on real phones (phone-behaviour.md §6):\n\
         the HTTP request headers on 6970, the on-wire reaction of a phone that rejects the TVS\n\
         certificate (a fatal alert right after the server's Certificate, then FIN or RST), the\n\
         TVS application-record sizes, and the exact XML of the `DeviceTLInfo` alarm. The\n\
         `.enc.sgn` file follows certutils' `enccnf` layout (no genuine CUCM one was seen).\n",
    );
    s.push_str(&plans::readme_section());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_path_decides_condition_four() {
        let all = [Some(true); 4];
        // statement 21 with ITLRecovery still served: an open path is enough.
        assert_eq!(
            Verdict::with_recovery("X", all, Some(false)).delete_itl,
            "not-required"
        );
        assert_eq!(
            Verdict::with_recovery("X", all, None).delete_itl,
            "undetermined"
        );
        assert_eq!(
            Verdict::with_recovery("X", all, Some(true)).delete_itl,
            "required"
        );
        // The fourth condition as the note states it no longer decides by itself.
        let no_backup_unknown = [Some(true), Some(true), Some(true), None];
        assert_eq!(
            Verdict::with_recovery("X", no_backup_unknown, Some(true)).delete_itl,
            "required"
        );
        assert_eq!(Verdict::new("X", all).no_recovery_path, Some(true));
    }

    #[test]
    fn verdict_follows_the_contract() {
        assert_eq!(Verdict::new("X", [Some(true); 4]).delete_itl, "required");
        assert_eq!(
            Verdict::new("X", [Some(true), None, Some(false), None]).delete_itl,
            "not-required"
        );
        assert_eq!(
            Verdict::new("X", [Some(true), None, Some(true), Some(true)]).delete_itl,
            "undetermined"
        );
    }
}
