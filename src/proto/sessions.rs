//! Which TLS sessions are kept one by one and which are summed: relevance before volume.
//!
//! A capture at a phone's PC port is mostly a PC's HTTPS. Sessions that can matter to a
//! phone's verdict (to a phone TLS port, or from a host that behaves like a phone) are kept
//! whole under their own record limit, so no amount of other traffic displaces them. The
//! other sessions are summed per server endpoint and leaf certificate
//! ([`TlsAggregate`]); only the latest few of them are kept whole, so a small capture reads
//! exactly as before and a host that turns out to be a phone late keeps its recent sessions.

use super::capped::Capped;
use super::losses::LossLog;
use crate::evidence::{Endpoint, LossReason, TlsAggregate, TlsSession};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;

/// TLS server ports only phones talk to: TVS (2445), CAPF (3804), SCCP/SIP over TLS (2443,
/// 5061), HTTPS TFTP (6971, 6972). The diagnosis makes a phone of any host that uses them.
pub const PHONE_TLS_PORTS: [u16; 6] = [2445, 3804, 2443, 5061, 6971, 6972];

/// True for a port of [`PHONE_TLS_PORTS`].
pub fn is_phone_tls_port(port: u16) -> bool {
    PHONE_TLS_PORTS.contains(&port)
}

/// Web TLS ports (HTTPS, and CUCM's Tomcat on 8443): every PC uses them, so a connection
/// there is followed from its SYN only when the client behaved like a phone; other hosts'
/// sessions are picked up at their first TLS record (so half-open scans cost nothing).
pub const WEB_TLS_PORTS: [u16; 2] = [443, 8443];

/// True for a port of [`WEB_TLS_PORTS`].
pub fn is_web_tls_port(port: u16) -> bool {
    WEB_TLS_PORTS.contains(&port)
}

/// Most hosts remembered as phones (a VLAN has hundreds; a crafted capture could claim more).
pub const MAX_PHONE_HOSTS: usize = 65_536;

/// Hosts that behaved like a phone so far: requested a file over TFTP or from the HTTP
/// file port, sent a `DeviceTLInfo` alarm, or opened TLS to a phone TLS port.
#[derive(Debug, Default)]
pub struct PhoneHosts {
    hosts: HashSet<IpAddr, foldhash::fast::RandomState>,
    /// Hosts not remembered because the set was full.
    pub refused: u64,
    /// The frame of the packet that showed the first of them (set by the collector, which
    /// knows the packet: [`PhoneHosts::date_refusals`]).
    pub first_refused_frame: Option<u64>,
    /// The first host refused.
    pub first_refused_host: Option<IpAddr>,
}

impl PhoneHosts {
    /// Remembers `ip` as a phone.
    pub fn mark(&mut self, ip: IpAddr) {
        if self.hosts.len() < MAX_PHONE_HOSTS {
            self.hosts.insert(ip);
        } else if !self.hosts.contains(&ip) {
            self.refused += 1;
            self.first_refused_host.get_or_insert(ip);
        }
    }

    /// Dates the first refusal at `frame` when there was one and it is not dated yet (called
    /// after each packet; issue 19: the limit event says where it happened).
    pub fn date_refusals(&mut self, frame: u64) {
        if self.refused > 0 && self.first_refused_frame.is_none() {
            self.first_refused_frame = Some(frame);
        }
    }

    /// Whether `ip` behaved like a phone so far.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.hosts.contains(ip)
    }
}

/// Whether a session can matter to a phone's verdict.
pub fn is_phone_session(s: &TlsSession, phones: &PhoneHosts) -> bool {
    is_phone_conversation(s.client, s.server, phones)
}

/// Whether TLS between these ends can matter to a phone's verdict: a phone TLS port, or a
/// client that behaved like a phone so far. Other sessions are only summed.
pub fn is_phone_conversation(client: Endpoint, server: Endpoint, phones: &PhoneHosts) -> bool {
    is_phone_tls_port(server.port) || phones.contains(&client.ip)
}

/// Limits of the [`TlsKeeper`].
#[derive(Debug, Clone, Copy)]
pub struct KeeperLimits {
    /// Sessions of phones kept one by one.
    pub phone_sessions: usize,
    /// Latest sessions of other hosts kept one by one.
    pub other_sessions: usize,
    /// Distinct (server, certificate) aggregates.
    pub aggregates: usize,
}

/// Sorts finished TLS sessions into kept ones and aggregates.
#[derive(Debug)]
pub struct TlsKeeper {
    limits: KeeperLimits,
    phone: Capped<TlsSession>,
    /// The latest sessions of non-phone hosts, oldest first.
    recent: VecDeque<TlsSession>,
    aggregates: Vec<TlsAggregate>,
    /// The aggregates of each server endpoint, by leaf certificate.
    by_server: HashMap<Endpoint, ServerAggregates, foldhash::fast::RandomState>,
    /// Sessions neither kept nor summed: more distinct aggregates than the limit.
    pub unaggregated: u64,
    /// The earliest first frame of those sessions.
    first_unaggregated: Option<u64>,
    /// Aggregate lookups while summing: a count of work, so a test can show that summing
    /// grows linearly with the sessions (no timed tests).
    work: u64,
}

/// The aggregates of one server endpoint: indices into the keeper's aggregates.
#[derive(Debug, Default)]
struct ServerAggregates {
    /// Sessions that presented no certificate.
    no_certificate: Option<usize>,
    /// By the SHA-256 of the leaf certificate.
    by_leaf: HashMap<String, usize, foldhash::fast::RandomState>,
}

/// What the keeper hands back at the end.
#[derive(Debug, Default)]
pub struct KeptTls {
    /// Sessions kept one by one (phones' first, then the latest others; unsorted).
    pub sessions: Vec<TlsSession>,
    /// The other sessions, summed.
    pub aggregates: Vec<TlsAggregate>,
    /// Phone sessions not kept: more than the limit.
    pub phone_dropped: u64,
    /// The first frame of the first phone session not kept.
    pub phone_first_dropped: Option<u64>,
    /// Non-phone sessions neither kept nor summed.
    pub unaggregated: u64,
    /// The earliest first frame of those sessions.
    pub first_unaggregated: Option<u64>,
}

impl TlsKeeper {
    /// The phones' sessions kept so far, in the order they ended.
    pub fn phone_sessions(&self) -> &[TlsSession] {
        self.phone.items()
    }

    /// The latest sessions of hosts not known as phones when they ended (some may become a
    /// phone's at the end).
    pub fn recent_sessions(&self) -> &VecDeque<TlsSession> {
        &self.recent
    }

    /// Empty, with these limits.
    pub fn new(limits: KeeperLimits) -> Self {
        TlsKeeper {
            limits,
            phone: Capped::new(limits.phone_sessions),
            recent: VecDeque::new(),
            aggregates: Vec::new(),
            by_server: HashMap::default(),
            unaggregated: 0,
            first_unaggregated: None,
            work: 0,
        }
    }

    /// Keeps a phone's session, or logs its loss when over the limit.
    fn keep_phone(&mut self, s: TlsSession, losses: &mut LossLog) {
        if self.phone.is_full() {
            losses.add(
                Some(s.client.ip),
                s.server.port,
                LossReason::RecordLimit,
                s.first,
            );
        }
        self.phone.push(s);
    }

    /// Takes one finished session.
    pub fn add(&mut self, s: TlsSession, phones: &PhoneHosts, losses: &mut LossLog) {
        if is_phone_session(&s, phones) {
            self.keep_phone(s, losses);
            return;
        }
        if self.limits.other_sessions == 0 {
            self.aggregate(&s);
            return;
        }
        if self.recent.len() == self.limits.other_sessions
            && let Some(old) = self.recent.pop_front()
        {
            // The oldest of the recent ones may have become a phone's meanwhile.
            if is_phone_session(&old, phones) {
                self.keep_phone(old, losses);
            } else {
                self.aggregate(&old);
            }
        }
        self.recent.push_back(s);
    }

    fn aggregate(&mut self, s: &TlsSession) {
        // One lookup per session: a server with many certificates must not be scanned.
        self.work += 1;
        let leaf = s.certificates.first().map(|c| c.sha256.as_str());
        let found = self.by_server.get(&s.server).and_then(|server| match leaf {
            None => server.no_certificate,
            Some(sha256) => server.by_leaf.get(sha256).copied(),
        });
        let i = match found {
            Some(i) => i,
            None if self.aggregates.len() < self.limits.aggregates => {
                let i = self.aggregates.len();
                let server = self.by_server.entry(s.server).or_default();
                match leaf {
                    None => server.no_certificate = Some(i),
                    Some(sha256) => {
                        server.by_leaf.insert(sha256.to_owned(), i);
                    }
                }
                self.aggregates.push(TlsAggregate::default());
                i
            }
            None => {
                self.unaggregated += 1;
                // Sessions end out of order: the earliest start is where the loss began.
                let f = s.first.frame;
                self.first_unaggregated = Some(self.first_unaggregated.map_or(f, |x| x.min(f)));
                return;
            }
        };
        if let Some(a) = self.aggregates.get_mut(i) {
            a.add(s);
        }
    }

    /// Sums a session of a host that is not a phone straight into its aggregate, past the
    /// window of recent sessions kept whole.
    pub fn add_summed(&mut self, s: &TlsSession) {
        self.aggregate(s);
    }

    /// Aggregate lookups so far while summing sessions (a count of work, not time).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// The aggregates so far, in order of their first session.
    pub fn aggregates(&self) -> &[TlsAggregate] {
        &self.aggregates
    }

    /// Ends the sorting: the latest non-phone sessions whose host became a phone later join
    /// the phone sessions; the rest stay kept one by one.
    pub fn finish(mut self, phones: &PhoneHosts, losses: &mut LossLog) -> KeptTls {
        let mut others = Vec::with_capacity(self.recent.len());
        for s in std::mem::take(&mut self.recent) {
            if is_phone_session(&s, phones) {
                self.keep_phone(s, losses);
            } else {
                others.push(s);
            }
        }
        let phone_first_dropped = self.phone.first_dropped();
        let (mut sessions, phone_dropped) = self.phone.into_parts();
        sessions.extend(others);
        KeptTls {
            sessions,
            aggregates: self.aggregates,
            phone_dropped,
            phone_first_dropped,
            unaggregated: self.unaggregated,
            first_unaggregated: self.first_unaggregated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{CertificateInfo, Seen};
    use std::sync::Arc;

    fn session(
        client: &str,
        server: &str,
        frame: u64,
        cert: Option<&Arc<CertificateInfo>>,
    ) -> TlsSession {
        TlsSession {
            client: client.parse().expect("endpoint"),
            server: server.parse().expect("endpoint"),
            certificates: cert.into_iter().cloned().collect(),
            first: Seen {
                frame,
                ..Seen::default()
            },
            last: Seen {
                frame: frame + 5,
                ..Seen::default()
            },
            ..TlsSession::default()
        }
    }

    fn cert(sha256: &str) -> Arc<CertificateInfo> {
        Arc::new(CertificateInfo {
            der: Vec::new(),
            subject: "CN=x".into(),
            issuer: "CN=x".into(),
            serial: "01".into(),
            sha1: String::new(),
            sha256: sha256.into(),
            not_before: None,
            not_after: None,
            key_type: "RSA".into(),
            key_bits: None,
        })
    }

    fn limits(other: usize) -> KeeperLimits {
        KeeperLimits {
            phone_sessions: 10,
            other_sessions: other,
            aggregates: 3,
        }
    }

    #[test]
    fn phone_sessions_are_kept_whatever_the_other_traffic() {
        let mut phones = PhoneHosts::default();
        phones.mark("10.0.0.5".parse().expect("ip"));
        let mut keeper = TlsKeeper::new(limits(2));
        let a = cert("aa");
        for i in 0..10_000u64 {
            let port = 40_000 + (i % 20_000) as u16;
            keeper.add(
                session(&format!("10.9.9.9:{port}"), "10.1.1.1:443", i, Some(&a)),
                &phones,
                &mut LossLog::default(),
            );
        }
        keeper.add(
            session("10.0.0.5:5000", "10.1.1.1:443", 20_000, Some(&a)),
            &phones,
            &mut LossLog::default(),
        );
        keeper.add(
            session("10.0.0.77:5000", "10.2.2.2:2445", 20_001, None),
            &phones,
            &mut LossLog::default(),
        );
        let kept = keeper.finish(&phones, &mut LossLog::default());
        let frames: Vec<u64> = kept.sessions.iter().map(|s| s.first.frame).collect();
        assert_eq!(frames, vec![20_000, 20_001, 9_998, 9_999]);
        assert_eq!(kept.aggregates.len(), 1);
        let agg = &kept.aggregates[0];
        assert_eq!(agg.sessions, 9_998);
        assert_eq!((agg.first.frame, agg.last.frame), (0, 9_997 + 5));
        assert_eq!(agg.clients, vec!["10.9.9.9".parse::<IpAddr>().expect("ip")]);
        assert!(Arc::ptr_eq(agg.certificate.as_ref().expect("leaf"), &a));
        assert_eq!((kept.phone_dropped, kept.unaggregated), (0, 0));
    }

    #[test]
    fn aggregates_split_by_server_and_certificate_and_are_bounded() {
        let phones = PhoneHosts::default();
        let mut keeper = TlsKeeper::new(limits(0));
        let (a, b) = (cert("aa"), cert("bb"));
        keeper.add(
            session("10.9.9.9:1", "10.1.1.1:443", 1, Some(&a)),
            &phones,
            &mut LossLog::default(),
        );
        keeper.add(
            session("10.9.9.8:1", "10.1.1.1:443", 2, Some(&b)),
            &phones,
            &mut LossLog::default(),
        );
        keeper.add(
            session("10.9.9.7:1", "10.1.1.1:443", 3, Some(&a)),
            &phones,
            &mut LossLog::default(),
        );
        keeper.add(
            session("10.9.9.9:2", "10.1.1.2:443", 4, None),
            &phones,
            &mut LossLog::default(),
        );
        keeper.add(
            session("10.9.9.9:3", "10.1.1.3:443", 5, None),
            &phones,
            &mut LossLog::default(),
        );
        let kept = keeper.finish(&phones, &mut LossLog::default());
        let counts: Vec<u64> = kept.aggregates.iter().map(|a| a.sessions).collect();
        assert_eq!(counts, vec![2, 1, 1]);
        assert_eq!(kept.aggregates[0].clients.len(), 2);
        assert_eq!(
            kept.unaggregated, 1,
            "a fourth aggregate is over the limit of 3"
        );
        // Issue 19: the tls-not-summed event says where the first session not summed began.
        assert_eq!(kept.first_unaggregated, Some(5));
        assert!(kept.sessions.is_empty());
    }

    #[test]
    fn a_host_that_becomes_a_phone_later_keeps_its_recent_sessions() {
        let mut phones = PhoneHosts::default();
        let mut keeper = TlsKeeper::new(limits(4));
        keeper.add(
            session("10.0.0.5:1", "10.1.1.1:8443", 1, None),
            &phones,
            &mut LossLog::default(),
        );
        phones.mark("10.0.0.5".parse().expect("ip"));
        let kept = keeper.finish(&phones, &mut LossLog::default());
        assert_eq!(kept.sessions.len(), 1);
        assert!(kept.aggregates.is_empty());
    }
}
