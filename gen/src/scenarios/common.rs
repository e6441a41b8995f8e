//! What the scenario files share: the capture's start, cluster A and other clusters, the
//! phone's usual fetches and TVS sessions, and the builders of one-phone scenarios. Below
//! [`super::catalog`], [`super::paths`] and [`super::loops`], which all take from here.

use super::boot::{Step, TlsStep, fetch, tvs_session};
use super::cluster::{Cluster, ItlSigner};
use super::phone::Phone;
use super::{PhoneBoot, Run, Scenario, Verdict};
use crate::conv::tcp::TcpImpair;
use crate::conv::tls_session::{TlsOutcome, TlsSession};
use crate::conv::{Format, Framing, Host, MS, SEC};
use crate::pki::{Cert, CertSpec, KeyName};
use crate::tls::version;

/// Capture start: 2026-03-02 09:00:00 UTC.
pub const T0: i64 = 1_772_442_000 * SEC;

pub(crate) const A_HOST: &str = "cucm-pub.example.com";
pub(crate) const A_IP: &str = "198.51.100.10";
pub(crate) const A_IP6: &str = "2001:db8:200::10";

pub(crate) const T: Option<bool> = Some(true);
pub(crate) const F: Option<bool> = Some(false);
pub(crate) const N: Option<bool> = None;

pub(crate) fn eth() -> Framing {
    Framing::Ethernet { vlans: Vec::new() }
}

/// Cluster A on CUCM 12.5+ (ITL signed by ITLRecovery).
pub(crate) fn cluster_a() -> Cluster {
    Cluster::new(A_HOST, A_IP, ItlSigner::ItlRecovery)
}

/// Cluster A on CUCM 11.5 (ITL signed by the CallManager certificate).
pub(crate) fn cluster_a11() -> Cluster {
    Cluster::new(A_HOST, A_IP, ItlSigner::CallManager)
}

/// Another cluster with its own keys (a migration target, a central TFTP, a staging lab).
pub(crate) fn other_cluster(host: &str, ip: &str, serial_tag: u8) -> Cluster {
    let mut c = Cluster::new(host, ip, ItlSigner::ItlRecovery);
    c.certs.callmanager = CertSpec::callmanager(host)
        .with_key(KeyName::OtherCluster)
        .with_serial(&[0x51, serial_tag, 0x0c, 0x33, 0x9d, 0x12, 0x40, 0x07])
        .self_signed();
    c.certs.tvs = CertSpec::tvs(host)
        .with_key(KeyName::Rsa4096)
        .with_serial(&[0x52, serial_tag, 0x77, 0x01, 0x3e, 0x9a])
        .self_signed();
    c.certs.itl_recovery = CertSpec::itl_recovery(host)
        .with_key(KeyName::Rsa1024)
        .with_serial(&[0x53, serial_tag, 0x21, 0xfe, 0x08])
        .self_signed();
    c
}

pub(crate) fn lab_ca() -> Cert {
    CertSpec::ca("Example Lab Issuing CA").self_signed()
}

/// The Tomcat chain of `cluster` as its 8443 services present it: CA-issued leaf and CA.
pub(crate) fn tomcat_chain(cluster: &Cluster) -> Vec<Vec<u8>> {
    let ca = lab_ca();
    vec![
        CertSpec::tomcat(&cluster.hostname).issued_by(&ca).der,
        ca.der,
    ]
}

pub(crate) fn ctl_name(p: &Phone) -> String {
    format!("CTL{}.tlv", p.device_name())
}

pub(crate) fn itl_name(p: &Phone) -> String {
    format!("ITL{}.tlv", p.device_name())
}

pub(crate) fn sgn_name(p: &Phone) -> String {
    format!("{}.cnf.xml.sgn", p.device_name())
}

/// CTLSEP (missing: non-secure cluster), then ITLSEP.
pub(crate) fn trust_list_fetches(p: &Phone, server: &Host, itl: &[u8]) -> Vec<Step> {
    let mut s = fetch(p, server, &ctl_name(p), None, 503);
    s.extend(fetch(p, server, &itl_name(p), Some(itl), 404));
    s
}

pub(crate) fn config_fetch(p: &Phone, c: &Cluster) -> Vec<Step> {
    fetch(
        p,
        &c.node,
        &sgn_name(p),
        Some(&c.config_sgn(p, false, 0)),
        404,
    )
}

/// A TVS signer query: 153-byte request, answer carrying the signer certificate (valid) or
/// a short "invalid" status.
pub(crate) fn tvs_query(
    p: &Phone,
    tvs: &Cluster,
    lsc_from: &Cluster,
    signer_len: Option<usize>,
    seed: u64,
) -> Step {
    let answer = signer_len.map_or(24, |n| n + 50);
    Step::Tls(tvs_session(
        &tvs.node,
        &tvs.certs.tvs.der,
        &lsc_from.phone_lsc(p).der,
        version::TLS12,
        seed,
        TlsOutcome::Completed {
            exchanges: vec![(153, answer)],
        },
    ))
}

/// The phone rejects the TVS certificate: a fatal alert right after it (or none), then
/// FIN/RST. `max_record` makes the server split its flight over records.
pub(crate) fn tvs_rejected(
    p: &Phone,
    tvs: &Cluster,
    lsc_from: &Cluster,
    desc: Option<u8>,
    reset: bool,
    max_record: usize,
    seed: u64,
) -> Step {
    let mut s = tvs_session(
        &tvs.node,
        &tvs.certs.tvs.der,
        &lsc_from.phone_lsc(p).der,
        version::TLS12,
        seed,
        TlsOutcome::ClientRejects {
            description: desc,
            reset,
        },
    );
    s.session.max_record = max_record;
    Step::Tls(s)
}

/// Opening the corporate directory on 8443: the Tomcat certificate is not in the ITL, so the
/// phone has TVS verify it before finishing the handshake.
pub(crate) fn directory_via_tvs(
    p: &Phone,
    c: &Cluster,
    https_outcome: TlsOutcome,
    tvs_outcome: TlsOutcome,
    seed: u64,
) -> Step {
    let chain = tomcat_chain(c);
    let leaf_len = chain.first().map_or(0, Vec::len);
    let mut https = TlsSession::new(version::TLS12, chain, seed, https_outcome);
    https.max_record = 1200; // the chain spans two records and two segments
    https.verify_delay = 350 * MS;
    https.sni = Some(c.hostname.clone());
    let tvs_outcome = match tvs_outcome {
        TlsOutcome::Completed { .. } => TlsOutcome::Completed {
            exchanges: vec![(leaf_len + 60, 38)],
        },
        other => other,
    };
    Step::TlsCheckedByTvs {
        https: Box::new(TlsStep {
            server: c.node,
            port: 8443,
            session: https,
            impair: TcpImpair::default(),
        }),
        tvs: Box::new(tvs_session(
            &c.node,
            &c.certs.tvs.der,
            &c.phone_lsc(p).der,
            version::TLS12,
            seed + 1,
            tvs_outcome,
        )),
    }
}

pub(crate) fn completed(exchanges: Vec<(usize, usize)>) -> TlsOutcome {
    TlsOutcome::Completed { exchanges }
}

pub(crate) fn phone_itl_arg(stem: &str) -> String {
    format!("--phone-itl captures/{stem}.phone-itl.tlv")
}

pub(crate) fn one_phone(
    file: &str,
    shows: &str,
    phone: Phone,
    steps: Vec<Step>,
    runs: Vec<Run>,
    seed: u64,
) -> Scenario {
    Scenario {
        file: file.to_owned(),
        shows: shows.to_owned(),
        format: Format::Pcap,
        framing: eth(),
        phones: vec![PhoneBoot {
            phone,
            steps,
            start: T0,
        }],
        side_files: Vec::new(),
        runs,
        seed,
    }
}

/// Adds `<stem>.<suffix>` next to the capture (an `--evidence` file) and runs that use it:
/// `{ev}` in a run's options stands for `captures/<stem>.<suffix>`.
pub(crate) fn with_evidence(
    mut s: Scenario,
    suffix: &str,
    bytes: Vec<u8>,
    runs: &[(&str, [Option<bool>; 4])],
) -> Scenario {
    let name = format!("{}.{suffix}", s.stem());
    let path = format!("captures/{name}");
    let mac = s.phones[0].phone.mac_hex();
    let itl = phone_itl_arg(s.stem());
    s.side_files.push((name, bytes));
    for (options, conditions) in runs {
        let args = options.replace("{ev}", &path).replace("{itl}", &itl);
        s.runs
            .push(Run::new(&args, vec![Verdict::new(&mac, *conditions)]));
    }
    s
}

/// Sets the generalised condition 4 (`no_recovery_path`) of every verdict of run number
/// `run` (in the order the runs were added), re-deriving `delete_itl`.
pub(crate) fn set_recovery(
    mut s: Scenario,
    run: usize,
    no_recovery_path: Option<bool>,
) -> Scenario {
    if let Some(r) = s.runs.get_mut(run) {
        for v in &mut r.verdicts {
            *v = Verdict::with_recovery(&v.mac, v.conditions, no_recovery_path);
        }
    }
    s
}

pub(crate) fn with_phone_itl(mut s: Scenario, itl: Vec<u8>) -> Scenario {
    let name = format!("{}.phone-itl.tlv", s.stem());
    s.side_files.push((name, itl));
    s
}

/// A TLS 1.3 phone's boot over HTTP (this cluster answers a missing file with 404, Camelot's
/// example, not 503): CTL not found, the cluster's ITL, a completed TLS 1.3 TVS session
/// (`seed` varies its bytes), then the signed config.
pub(crate) fn tls13_tvs_boot(phone: &Phone, cluster: &Cluster, seed: u64) -> Vec<Step> {
    let mut steps = fetch(phone, &cluster.node, &ctl_name(phone), None, 404);
    steps.extend(fetch(
        phone,
        &cluster.node,
        &itl_name(phone),
        Some(&cluster.itl()),
        404,
    ));
    steps.push(Step::Tls(tvs_session(
        &cluster.node,
        &cluster.certs.tvs.der,
        &cluster.phone_lsc(phone).der,
        version::TLS13,
        seed,
        completed(vec![(153, cluster.certs.callmanager.der.len() + 50)]),
    )));
    steps.extend(config_fetch(phone, cluster));
    steps
}

pub(crate) fn sha1_bytes(data: &[u8]) -> Vec<u8> {
    use sha1::{Digest as _, Sha1};
    Sha1::digest(data).to_vec()
}
