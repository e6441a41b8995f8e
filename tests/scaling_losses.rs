//! Scaling of the diagnosis's "evidence may be missing" notes (issue 19): each phone is told
//! of its own losses and of the TLS aggregates its addresses were summed into. The work
//! counted is the losses and aggregate entries looked at for all phones; ten times the
//! phones and aggregates must cost at most about ten times the work (counted, never timed).

mod scaling_support;

use itlscope::diagnosis::context::{PhoneCtx, PhoneInputs};
use itlscope::diagnosis::facts::OperatorFacts;
use itlscope::diagnosis::losses::{FLAG, LossIndex, annotate_counted};
use itlscope::diagnosis::model::{Check, Status};
use itlscope::diagnosis::phone::group;
use itlscope::diagnosis::trust::CiscoBackend;
use itlscope::evidence::{Evidence, EvidenceLoss, LossReason, TlsAggregate, TlsSession};
use std::net::IpAddr;

fn phone_ip(i: usize) -> IpAddr {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
        .parse()
        .expect("ip")
}

/// `n` phones (each opened TLS to TVS, statement 29's trust verification service), one
/// loss each plus one loss no address could be given for, and `10 n` aggregates: the first
/// `n` summed one phone's sessions before it behaved like a phone, the others a PC's.
fn evidence(n: usize) -> Evidence {
    let mut ev = Evidence::default();
    for i in 0..n {
        ev.tls.push(TlsSession {
            client: format!("{}:40000", phone_ip(i)).parse().expect("endpoint"),
            server: "198.51.100.10:2445".parse().expect("endpoint"),
            ..TlsSession::default()
        });
        ev.losses.push(EvidenceLoss {
            client: Some(phone_ip(i)),
            server_port: 2445,
            reason: LossReason::FlowTableFull,
            count: 1,
            first: Default::default(),
        });
    }
    ev.losses.push(EvidenceLoss {
        client: None,
        server_port: 69,
        reason: LossReason::RecordLimit,
        count: 3,
        first: Default::default(),
    });
    for k in 0..10 * n {
        let client = if k < n {
            phone_ip(k)
        } else {
            format!("172.16.{}.{}", (k >> 8) & 255, k & 255)
                .parse()
                .expect("ip")
        };
        ev.tls_aggregates.push(TlsAggregate {
            server: format!("203.0.113.{}:443", k % 200)
                .parse()
                .expect("endpoint"),
            clients: vec![client],
            sessions: 1,
            ..TlsAggregate::default()
        });
    }
    ev
}

fn checks() -> Vec<Check> {
    [
        "tvs-reachability",
        "tvs-certificate",
        "trust-list-downloads",
        "other-tls",
    ]
    .into_iter()
    .map(|id| Check {
        id,
        status: Status::Unknown,
        explanation: String::new(),
        flags: Vec::new(),
        evidence: Vec::new(),
    })
    .collect()
}

/// The work of annotating every phone of [`evidence`]`(n)`.
fn work(n: usize) -> u64 {
    let ev = evidence(n);
    let facts = OperatorFacts::default();
    let (groups, _) = group(&ev, usize::MAX);
    assert_eq!(groups.len(), n);
    // The grouping indexes losses and aggregates once (the same index, counted here).
    let mut work = LossIndex::of(&ev).work();
    for g in &groups {
        let ctx = PhoneCtx::new(&ev, &facts, &CiscoBackend, g, PhoneInputs::default());
        let mut checks = checks();
        work += annotate_counted(&ctx, &mut checks);
        // Each phone hears of its own loss, the unattributed one and its own aggregate.
        let notes: usize = checks.iter().map(|c| c.evidence.len()).sum();
        assert_eq!(notes, 2 + 1 + 1, "{:?}", g.ips);
        assert!(checks.iter().all(|c| c.flags.contains(&FLAG)));
    }
    work
}

#[test]
fn annotating_many_phones_against_many_aggregates_grows_linearly() {
    scaling_support::assert_linear("phones and aggregates", 200, work);
}
