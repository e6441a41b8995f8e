//! What the phone's own behaviour on TCP 2445 says about its trust in each TVS node.
//!
//! The phone trusts a TVS only when that TVS's TLS certificate is in a TVS record of the trust
//! list it holds (statement 12), so its behaviour in the handshake is evidence about the ITL on
//! the phone, whatever file an engineer passes: a completed handshake (TLS 1.2, or TLS 1.3 with
//! application data both ways) means the phone trusts that node; a fatal alert after the
//! server's Certificate, or the phone closing the connection right after it without an alert
//! (phone-behaviour.md §2.3, inferred), is a rejection. Several nodes are judged one by one:
//! another node of the phone's CallManager group can vouch when one is rejected (statements
//! 10, 24, 31).

use crate::evidence::{CertificateInfo, Side, TcpEnd, TlsAlert, TlsSession};
use std::net::IpAddr;
use std::sync::Arc;

/// TLS alert descriptions with which a client says the certificate itself is not trusted
/// (as opposed to expired or revoked): bad_certificate, unsupported_certificate,
/// certificate_unknown, unknown_ca.
const NOT_TRUSTED_ALERTS: &[u8] = &[42, 43, 46, 48];

/// True when the session is TLS 1.3 (certificate encrypted).
pub fn is_tls13(s: &TlsSession) -> bool {
    s.certificates_encrypted || s.version == Some(0x0304)
}

/// True when the TCP connection never got going (SYN unanswered, refused).
pub fn is_unreachable(s: &TlsSession) -> bool {
    matches!(s.end, TcpEnd::NeverAnswered | TcpEnd::Refused)
        || (s.version.is_none()
            && s.certificates.is_empty()
            && !s.certificates_encrypted
            && matches!(s.end, TcpEnd::Reset(Side::Server)))
}

/// A client fatal alert after the server's Certificate: the phone rejected the certificate.
pub fn phone_rejected(s: &TlsSession) -> Option<&TlsAlert> {
    s.alerts
        .iter()
        .find(|a| a.from == Side::Client && a.after_server_certificate && a.level == 2)
}

/// A fatal alert the server sent before presenting a certificate (version or cipher mismatch).
pub fn server_refused(s: &TlsSession) -> Option<&TlsAlert> {
    if !s.certificates.is_empty() || s.handshake_complete {
        return None;
    }
    s.alerts
        .iter()
        .find(|a| a.from == Side::Server && a.level == 2 && !a.after_server_certificate)
}

/// What one TVS session (or node) shows about the phone's trust in that TVS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stance {
    /// The phone completed the handshake: TVS's certificate is in the trust list it holds.
    Trusted {
        /// TLS 1.3, judged by application data both ways (the certificate is encrypted).
        tls13: bool,
    },
    /// The phone refused TVS's certificate.
    Rejected {
        /// The phone's fatal alert, or None when it closed the connection without one.
        alert: Option<TlsAlert>,
        /// True when no alert was sent: the rejection is inferred from the phone closing the
        /// connection (FIN or RST) right after TVS's Certificate.
        inferred: bool,
        /// True when the alert (or the silent close) says the certificate is not trusted at
        /// all, i.e. missing from the phone's TVS records; false for an expired or revoked
        /// certificate, which the phone may well list.
        not_trusted: bool,
    },
    /// TVS refused the phone's hello before any certificate (TLS version or cipher).
    ServerRefused(TlsAlert),
    /// TVS never answered.
    Unreachable,
    /// The session shows neither trust nor rejection (cut short by the capture, TLS 1.3
    /// without data both ways, …).
    Unknown,
}

impl Stance {
    /// `trusted`, `rejected`, `server-refused`, `unreachable` or `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Stance::Trusted { .. } => "trusted",
            Stance::Rejected { .. } => "rejected",
            Stance::ServerRefused(_) => "server-refused",
            Stance::Unreachable => "unreachable",
            Stance::Unknown => "unknown",
        }
    }

    /// Strength of the evidence, to pick one stance per node: a completed handshake beats a
    /// rejection (a TVS restarted with the right certificate), which beats the rest.
    fn rank(&self) -> u8 {
        match self {
            Stance::Trusted { .. } => 4,
            Stance::Rejected { .. } => 3,
            Stance::ServerRefused(_) => 2,
            Stance::Unreachable => 1,
            Stance::Unknown => 0,
        }
    }

    /// One line for reports: what the phone did, frames named `frame N`.
    pub fn describe(&self) -> String {
        self.describe_at(|seen| format!("frame {}", seen.frame))
    }

    /// [`Stance::describe`] with frames named by `place` (e.g. `Evidence::place`, which names
    /// the capture too when several captures are analysed).
    pub fn describe_at(&self, place: impl Fn(crate::evidence::Seen) -> String) -> String {
        match self {
            Stance::Trusted { tls13: false } => "the phone completed the handshake".into(),
            Stance::Trusted { tls13: true } => {
                "the phone completed the TLS 1.3 handshake (application data both ways)".into()
            }
            Stance::Rejected {
                alert: Some(a),
                ..
            } => format!(
                "the phone rejected its certificate (fatal {} at {})",
                a.describe(),
                place(a.seen)
            ),
            Stance::Rejected { alert: None, .. } => {
                "the phone closed the connection right after its Certificate without an alert (a rejection, inferred: phone-behaviour.md §2.3)".into()
            }
            Stance::ServerRefused(a) => format!(
                "TVS refused the handshake (fatal {} from the server, before any certificate)",
                a.describe()
            ),
            Stance::Unreachable => "TVS never answered".into(),
            Stance::Unknown => "the session shows neither acceptance nor rejection".into(),
        }
    }
}

/// The stance one session shows.
pub fn stance(s: &TlsSession) -> Stance {
    if let Some(alert) = phone_rejected(s) {
        return Stance::Rejected {
            alert: Some(alert.clone()),
            inferred: false,
            not_trusted: NOT_TRUSTED_ALERTS.contains(&alert.description),
        };
    }
    if is_tls13(s) {
        // Under TLS 1.3 the Finished messages are encrypted: only data flowing both ways
        // shows the phone accepted the certificate.
        return if s.app_data_bytes.0 > 0 && s.app_data_bytes.1 > 0 {
            Stance::Trusted { tls13: true }
        } else if is_unreachable(s) {
            Stance::Unreachable
        } else {
            Stance::Unknown
        };
    }
    if s.handshake_complete {
        return Stance::Trusted { tls13: false };
    }
    if let Some(alert) = server_refused(s) {
        return Stance::ServerRefused(alert.clone());
    }
    if is_unreachable(s) {
        return Stance::Unreachable;
    }
    let certificate_seen = s.certificate_seen.is_some() || !s.certificates.is_empty();
    if certificate_seen
        && s.alerts.iter().all(|a| a.from != Side::Client)
        && matches!(
            s.end,
            TcpEnd::Fin(Side::Client) | TcpEnd::Reset(Side::Client)
        )
    {
        return Stance::Rejected {
            alert: None,
            inferred: true,
            not_trusted: true,
        };
    }
    Stance::Unknown
}

/// One TVS node the phone reached (its sessions to one server address), with the session
/// that shows its stance best.
#[derive(Debug, Clone)]
pub struct TvsNode<'e> {
    /// The server's address.
    pub server: IpAddr,
    /// What the phone's sessions with it show.
    pub stance: Stance,
    /// The session that shows it.
    pub session: &'e TlsSession,
    /// The leaf certificate the node presented in clear, if any session showed one.
    pub certificate: Option<&'e Arc<CertificateInfo>>,
}

/// The TVS nodes of a phone's TVS sessions, in order of first contact.
pub fn nodes<'e>(sessions: impl IntoIterator<Item = &'e TlsSession>) -> Vec<TvsNode<'e>> {
    let mut nodes: Vec<TvsNode<'e>> = Vec::new();
    for s in sessions {
        let st = stance(s);
        let leaf = s.certificates.first();
        match nodes.iter_mut().find(|n| n.server == s.server.ip) {
            Some(node) => {
                if st.rank() >= node.stance.rank() {
                    node.stance = st;
                    node.session = s;
                }
                if leaf.is_some() {
                    node.certificate = leaf;
                }
            }
            None => nodes.push(TvsNode {
                server: s.server.ip,
                stance: st,
                session: s,
                certificate: leaf,
            }),
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Endpoint, Seen};

    fn session(port_ip: &str) -> TlsSession {
        TlsSession {
            server: Endpoint {
                ip: port_ip.parse().expect("test address"),
                port: 2445,
            },
            version: Some(0x0303),
            ..Default::default()
        }
    }

    fn alert(description: u8) -> TlsAlert {
        TlsAlert {
            from: Side::Client,
            level: 2,
            description,
            after_server_certificate: true,
            seen: Seen::default(),
        }
    }

    /// Statement 17 (the rejection is read off the 2445 handshake): with several captures the
    /// frame is named with its capture, so a reader finds it.
    #[test]
    fn a_rejection_names_its_frame_and_capture() {
        let mut s = session("198.51.100.10");
        let mut a = alert(48);
        a.seen.frame = 13;
        a.seen.capture = 1;
        s.alerts.push(a);
        let st = stance(&s);
        assert!(st.describe().contains("at frame 13"), "{}", st.describe());
        let named = st.describe_at(|seen| format!("b.pcap#{}", seen.frame));
        assert!(named.contains("at b.pcap#13"), "{named}");
    }

    #[test]
    fn completed_handshake_is_trust_statement_12() {
        let mut s = session("198.51.100.10");
        s.handshake_complete = true;
        assert_eq!(stance(&s), Stance::Trusted { tls13: false });
    }

    #[test]
    fn tls13_needs_data_both_ways() {
        let mut s = session("198.51.100.10");
        s.version = Some(0x0304);
        s.certificates_encrypted = true;
        s.handshake_complete = true;
        s.app_data_bytes = (0, 120);
        assert_eq!(stance(&s), Stance::Unknown);
        s.app_data_bytes = (80, 120);
        assert_eq!(stance(&s), Stance::Trusted { tls13: true });
    }

    #[test]
    fn unknown_ca_is_a_rejection_and_expired_is_not_a_missing_record() {
        let mut s = session("198.51.100.10");
        s.certificate_seen = Some(Seen::default());
        s.alerts.push(alert(48));
        assert!(matches!(
            stance(&s),
            Stance::Rejected {
                not_trusted: true,
                inferred: false,
                ..
            }
        ));
        s.alerts[0] = alert(45);
        assert!(matches!(
            stance(&s),
            Stance::Rejected {
                not_trusted: false,
                ..
            }
        ));
    }

    #[test]
    fn silent_fin_or_rst_after_certificate_is_an_inferred_rejection_phone_behaviour_2_3() {
        for end in [TcpEnd::Fin(Side::Client), TcpEnd::Reset(Side::Client)] {
            let mut s = session("198.51.100.10");
            s.certificate_seen = Some(Seen::default());
            s.end = end;
            assert!(matches!(
                stance(&s),
                Stance::Rejected {
                    inferred: true,
                    alert: None,
                    ..
                }
            ));
        }
        // Closed by the server, or before any certificate: nothing about the phone's trust.
        let mut s = session("198.51.100.10");
        s.certificate_seen = Some(Seen::default());
        s.end = TcpEnd::Fin(Side::Server);
        assert_eq!(stance(&s), Stance::Unknown);
    }

    #[test]
    fn a_node_trusted_once_stays_trusted_and_nodes_are_apart_statement_24() {
        let mut rejected = session("198.51.100.10");
        rejected.certificate_seen = Some(Seen::default());
        rejected.alerts.push(alert(48));
        let mut other = session("198.51.100.11");
        other.handshake_complete = true;
        let mut again = session("198.51.100.10");
        again.handshake_complete = true;
        let n = nodes([&rejected, &other]);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].stance.as_str(), "rejected");
        assert_eq!(n[1].stance.as_str(), "trusted");
        let n = nodes([&rejected, &again]);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].stance.as_str(), "trusted");
    }
}
