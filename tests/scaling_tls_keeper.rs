//! Scaling of the TLS keeper's summing (issue 19): sessions of hosts that are not phones are
//! summed per server endpoint and leaf certificate. The work counted is the aggregates the
//! keeper looks at; ten times the sessions must cost at most about ten times the work
//! (work is counted, never timed).

mod scaling_support;

use itlscope::evidence::{CertificateInfo, TlsSession};
use itlscope::proto::sessions::{KeeperLimits, TlsKeeper};
use std::sync::Arc;

fn cert(i: usize) -> Arc<CertificateInfo> {
    Arc::new(CertificateInfo {
        der: Vec::new(),
        subject: format!("CN=host-{i}"),
        issuer: "CN=ca".into(),
        serial: "01".into(),
        sha1: String::new(),
        sha256: format!("{i:064x}"),
        not_before: None,
        not_after: None,
        key_type: "RSA".into(),
        key_bits: None,
    })
}

/// Work to sum `n` sessions to one server, each with its own certificate (the worst case of
/// a per-server scan), then `n` more that repeat them.
fn work(n: usize) -> u64 {
    let mut keeper = TlsKeeper::new(KeeperLimits {
        phone_sessions: 16,
        other_sessions: 0,
        aggregates: 1_000_000,
    });
    let certs: Vec<Arc<CertificateInfo>> = (0..n).map(cert).collect();
    for _ in 0..2 {
        for (i, c) in certs.iter().enumerate() {
            let s = TlsSession {
                client: format!("10.9.{}.{}:40000", (i >> 8) & 255, i & 255)
                    .parse()
                    .expect("endpoint"),
                server: "198.51.100.7:443".parse().expect("endpoint"),
                certificates: vec![c.clone()],
                ..TlsSession::default()
            };
            keeper.add_summed(&s);
        }
    }
    assert_eq!(
        keeper.aggregates().len(),
        n,
        "one aggregate per certificate"
    );
    assert!(keeper.aggregates().iter().all(|a| a.sessions == 2));
    keeper.work()
}

#[test]
fn summing_sessions_to_one_server_with_distinct_certificates_grows_linearly() {
    scaling_support::assert_linear("sessions", 1_000, work);
}
