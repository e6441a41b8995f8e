//! Scaling of the text report's certificate references (issue 19): every mention of a
//! certificate becomes `[Cn]`. The work counted is the certificates compared and the bytes
//! of text searched; ten times the certificates and mentions must cost at most about ten
//! times the work (counted, never timed). Many certificates sharing one serial is the worst
//! case of a lookup by serial.

mod scaling_support;

use itlscope::evidence::{CertificateInfo, Evidence, TlsSession};
use itlscope::report::certs::CertRefs;
use std::sync::Arc;

fn sha1(i: usize) -> String {
    format!("{i:040x}")
}

/// `n` servers, each presenting its own certificate; all of them have serial 01.
fn evidence(n: usize) -> Evidence {
    let mut ev = Evidence::default();
    for i in 0..n {
        ev.tls.push(TlsSession {
            client: "10.0.0.5:40000".parse().expect("endpoint"),
            server: format!("198.51.{}.{}:2445", (i >> 8) & 255, i & 255)
                .parse()
                .expect("endpoint"),
            certificates: vec![Arc::new(CertificateInfo {
                der: Vec::new(),
                subject: format!("C=US, O=Lab, CN=tvs-{i}"),
                issuer: "CN=ca".into(),
                serial: "01".into(),
                sha1: sha1(i),
                sha256: String::new(),
                not_before: None,
                not_after: None,
                key_type: "RSA".into(),
                key_bits: None,
            })],
            ..TlsSession::default()
        });
    }
    ev
}

/// The work to name `n` certificates and shorten one line per certificate that mentions it
/// (statement 29: the TVS certificate the phone was presented, named in the TVS check).
fn work(n: usize) -> u64 {
    let mut refs = CertRefs::from_evidence(&evidence(n));
    for i in (0..n).rev() {
        let line = format!(
            "TVS presented C=US, O=Lab, CN=tvs-{i} (serial 01, sha1 {}, frame {i}), and C=US, O=Lab, CN=tvs-{i} serial 01 is presented again",
            sha1(i)
        );
        let short = refs.shorten(&line);
        let number = n - i;
        assert_eq!(
            short,
            format!("TVS presented [C{number}] (frame {i}), and [C{number}] is presented again")
        );
    }
    assert_eq!(refs.legend().len(), n);
    refs.work()
}

#[test]
fn shortening_mentions_of_many_certificates_sharing_a_serial_grows_linearly() {
    scaling_support::assert_linear("certificates and mentions", 80, work);
}
