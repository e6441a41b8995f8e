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
pub mod loops;
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

/// The verdict the diagnosis contract (issue 5) gives one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The phone's MAC, 12 upper-case hex digits.
    pub mac: String,
    /// "required" | "not-required" | "undetermined".
    pub delete_itl: &'static str,
    /// `itl_differs`, `tvs_cert_mismatch`, `phone_verification_failed`, `no_key_backup`.
    pub conditions: [Option<bool>; 4],
}

/// The names of the four conditions, in [`Verdict::conditions`] order.
pub const CONDITIONS: [&str; 4] = [
    "itl_differs",
    "tvs_cert_mismatch",
    "phone_verification_failed",
    "no_key_backup",
];

impl Verdict {
    /// A verdict, with `delete_itl` derived from the conditions exactly per the contract:
    /// "required" only when all four are true, "not-required" when any is false.
    pub fn new(mac: &str, conditions: [Option<bool>; 4]) -> Self {
        let delete_itl = if conditions.contains(&Some(false)) {
            "not-required"
        } else if conditions.iter().all(|c| *c == Some(true)) {
            "required"
        } else {
            "undetermined"
        };
        Verdict {
            mac: mac.to_owned(),
            delete_itl,
            conditions,
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
         Verdicts follow the contract of issue 5: `delete_itl` is `required` only when all four\n\
         conditions are true, `not-required` when any is false, else `undetermined`. Conditions\n\
         are listed as itl_differs / tvs_cert_mismatch / phone_verification_failed /\n\
         no_key_backup.\n\n\
         | file | what it shows | options | phone | verdict | conditions |\n\
         |---|---|---|---|---|---|\n",
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
                    "| {} | {} | {} | {} | **{}** | {} |\n",
                    file,
                    shows,
                    args,
                    v.mac,
                    v.delete_itl,
                    v.conditions.map(cond).join(" / ")
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
