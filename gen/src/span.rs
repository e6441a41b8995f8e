//! A SPAN of a whole voice VLAN after a certificate change: hundreds of phones booting at
//! once in mixed states (healthy, stale ITL with TVS rejected, TVS unreachable, accepted via
//! TVS, boot loop, stalled downloads), each one's state known from the data that made it.
//!
//! `cargo run --release -p itlscope-gen --bin make-span-capture -- --phones 500 OUT.pcap`
//! writes one (not committed: large); tests build a small one in memory and check that each
//! phone's row agrees with the same phone's boot captured alone ([`Span::phone_alone`]).

use crate::conv::sip::DeviceTlInfo;
use crate::conv::{Format, Framing, MS, SEC, Trace, write_capture};
use crate::filler::Filler;
use crate::scenarios::PhoneBoot;
use crate::scenarios::boot::Step;
use crate::scenarios::catalog::{
    T0, cluster_a11, config_fetch, other_cluster, sha1_bytes, trust_list_fetches, tvs_query,
    tvs_rejected,
};
use crate::scenarios::cluster::Cluster;
use crate::scenarios::loops::{boot_loop_steps, stall_steps};
use crate::scenarios::phone::Phone;
use crate::tls::alert;

/// What a phone of the SPAN goes through, and the main reason itlscope must give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Boots cleanly and reports the served ITL's hash (DeviceTLInfo over SIP).
    HealthyReporting,
    /// Boots cleanly, sends no alarm: its installed ITL stays unknown.
    HealthySilent,
    /// CallManager regenerated, TVS unchanged: the phone has TVS vouch for the new signer,
    /// then reports the new ITL.
    AcceptedViaTvs,
    /// CallManager and TVS regenerated together: TVS rejected, the alarm names the old ITL.
    StaleTvsRejected,
    /// CallManager regenerated while TVS is down: SYNs unanswered, the alarm names the old ITL.
    TvsUnreachable,
    /// The same short list of files every ~45 s (CallManager and TVS regenerated).
    BootLoop,
    /// ITL and config downloads stall: full-size frames dropped on the way.
    Stall,
}

impl State {
    /// The `main_reason` code the analyzer must give (docs/report.md "Rows").
    pub fn main_reason(self) -> &'static str {
        match self {
            State::HealthyReporting | State::AcceptedViaTvs => "itl-matches-served",
            State::HealthySilent => "installed-itl-unknown",
            State::StaleTvsRejected => "needs-operator-facts",
            State::TvsUnreachable => "tvs-unreachable",
            State::BootLoop => "boot-loop",
            State::Stall => "transfer-stall",
        }
    }

    /// The verdict the analyzer must give without operator facts.
    pub fn verdict(self) -> &'static str {
        match self {
            State::HealthyReporting | State::AcceptedViaTvs => "not-required",
            _ => "undetermined",
        }
    }

    /// All states, in the order of [`MIX`].
    pub const ALL: [State; 7] = [
        State::HealthyReporting,
        State::HealthySilent,
        State::AcceptedViaTvs,
        State::StaleTvsRejected,
        State::TvsUnreachable,
        State::BootLoop,
        State::Stall,
    ];
}

/// Share of each state, in per-mille, in [`State::ALL`] order.
pub const MIX: [u64; 7] = [450, 150, 100, 120, 80, 50, 50];

/// A generated SPAN.
#[derive(Debug, Clone)]
pub struct Span {
    /// The phones with their steps and start times.
    pub phones: Vec<PhoneBoot>,
    /// Each phone's state.
    pub states: Vec<State>,
    /// Seed of ports, sequence numbers and filler.
    pub seed: u64,
}

/// The clusters of the SPAN: the home cluster before and after the change, and the lab
/// cluster some phones were staged on.
struct Clusters {
    home: Cluster,
    cm_regenerated: Cluster,
    both_regenerated: Cluster,
    lab: Cluster,
}

fn phone(i: usize, f: &mut Filler) -> Phone {
    // Locally administered MACs 02-00-5E-xx-xx-xx and 198.18.0.0/15 (benchmarking) addresses:
    // the documentation ranges hold only 256 phones.
    let n = i as u32 + 1;
    let [_, a, b, c] = n.to_be_bytes();
    let ip = format!("198.18.{}.{}", (n >> 8) & 0xff, n & 0xff);
    let mut p = match f.below(3) {
        0 => Phone::cp7962(0, &ip),
        1 => Phone::cp8845(0, &ip),
        _ => Phone::cp7821(0, &ip),
    };
    p.mac = [0x02, 0x00, 0x5e, a, b, c];
    p
}

fn state_of(f: &mut Filler) -> State {
    let mut roll = f.below(1000);
    for (state, share) in State::ALL.iter().zip(MIX) {
        if roll < share {
            return *state;
        }
        roll -= share;
    }
    State::HealthyReporting
}

fn alarm(p: &Phone, c: &Cluster, itl: &[u8], status_code: u32) -> Step {
    Step::Alarm {
        cucm: c.node,
        tcp: p.http_first,
        alarm: DeviceTlInfo {
            device_name: p.device_name(),
            model: format!("CP{}", p.model),
            firmware: p.firmware.clone(),
            itl_signature: Some(sha1_bytes(itl)),
            itl_tftp_server: c.hostname.clone(),
            ctl_signature: None,
            status_code,
        },
    }
}

fn steps(p: &Phone, state: State, cl: &Clusters, seed: u64) -> Vec<Step> {
    let mut s = Vec::new();
    match state {
        State::HealthyReporting | State::HealthySilent => {
            let itl = cl.home.itl();
            s.extend(trust_list_fetches(p, &cl.home.node, &itl));
            s.extend(config_fetch(p, &cl.home));
            if state == State::HealthyReporting {
                s.push(Step::Pause(2 * SEC));
                s.push(alarm(p, &cl.home, &itl, 1));
            }
        }
        State::AcceptedViaTvs => {
            let new = &cl.cm_regenerated;
            let itl = new.itl();
            s.extend(trust_list_fetches(p, &new.node, &itl));
            s.push(tvs_query(
                p,
                new,
                new,
                Some(new.certs.callmanager.der.len()),
                seed,
            ));
            s.extend(config_fetch(p, new));
            s.push(Step::Pause(2 * SEC));
            s.push(alarm(p, new, &itl, 1));
        }
        State::StaleTvsRejected => {
            let new = &cl.both_regenerated;
            s.extend(trust_list_fetches(p, &new.node, &new.itl()));
            s.push(tvs_rejected(
                p,
                new,
                new,
                Some(alert::UNKNOWN_CA),
                false,
                600,
                seed,
            ));
            s.extend(config_fetch(p, new));
            s.push(Step::Pause(SEC));
            s.push(alarm(p, new, &cl.home.itl(), 8));
        }
        State::TvsUnreachable => {
            let itl = cl.lab.itl();
            s.extend(trust_list_fetches(p, &cl.home.node, &cl.home.itl()));
            s.push(Step::Unanswered {
                server: cl.lab.node,
                port: 2445,
                retries: 2,
            });
            s.extend(config_fetch(p, &cl.home));
            s.push(Step::Pause(SEC));
            s.push(alarm(p, &cl.home, &itl, 8));
        }
        State::BootLoop => s = boot_loop_steps(p, &cl.both_regenerated, 3, 40, seed),
        State::Stall => s = stall_steps(p, &cl.home, 3, 35),
    }
    s
}

impl Span {
    /// `phones` phones in a mix of states drawn from `seed`, starting within the first
    /// `phones * 50 ms` of the capture.
    pub fn new(phones: usize, seed: u64) -> Self {
        let home = cluster_a11();
        let clusters = Clusters {
            cm_regenerated: cluster_a11().regenerate_callmanager(),
            both_regenerated: cluster_a11().regenerate_callmanager().regenerate_tvs(),
            lab: other_cluster("cucm-stage.example.net", "198.51.100.40", 0x5a),
            home,
        };
        let mut f = Filler::labelled(seed, "span");
        let mut boots = Vec::with_capacity(phones);
        let mut states = Vec::with_capacity(phones);
        for i in 0..phones {
            let p = phone(i, &mut f);
            let state = state_of(&mut f);
            let start = T0 + (i as i64) * 50 * MS + (f.below(40) as i64) * MS;
            let steps = steps(&p, state, &clusters, f.next_u64() % 1000);
            boots.push(PhoneBoot {
                phone: p,
                steps,
                start,
            });
            states.push(state);
        }
        Span {
            phones: boots,
            states,
            seed,
        }
    }

    fn write(&self, which: impl Iterator<Item = usize>) -> Vec<u8> {
        let mut trace = Trace::new();
        for i in which {
            if let Some(p) = self.phones.get(i) {
                p.write(&mut trace, self.seed, i);
            }
        }
        write_capture(
            &trace.finish(),
            Format::Pcap,
            &Framing::Ethernet { vlans: vec![100] },
        )
    }

    /// The whole SPAN as a pcap (802.1Q VLAN 100).
    pub fn capture(&self) -> Vec<u8> {
        self.write(0..self.phones.len())
    }

    /// Phone `i`'s boot alone, byte for byte the packets it has in [`Span::capture`] except
    /// for the servers' IP identification counters.
    pub fn phone_alone(&self, i: usize) -> Vec<u8> {
        self.write(std::iter::once(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_covers_every_state_and_is_deterministic() {
        let a = Span::new(120, 7);
        let b = Span::new(120, 7);
        assert_eq!(a.states, b.states);
        for s in State::ALL {
            assert!(a.states.contains(&s), "{s:?} in a 120-phone SPAN");
        }
        let macs: std::collections::BTreeSet<_> = a.phones.iter().map(|p| p.phone.mac).collect();
        assert_eq!(macs.len(), 120, "every phone has its own MAC");
        assert_eq!(MIX.iter().sum::<u64>(), 1000);
    }
}
