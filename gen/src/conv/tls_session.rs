//! A whole TLS conversation over a [`TcpConn`]: a phone's handshake with TVS (2445), an HTTPS
//! directory (8443) or another TLS service, TLS 1.0–1.2 (the server's Certificate visible,
//! split over records and segments like a real stack does when the chain is long) or TLS 1.3
//! (everything after ServerHello encrypted), ending in application data, in the phone's
//! fatal alert right after the server's Certificate, or in a server alert.

use super::tcp::TcpConn;
use super::{MS, Side, Trace};
use crate::filler::Filler;
use crate::tls::{self, alert, content_type, suite, version};

/// How the conversation ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsOutcome {
    /// The handshake completes and these application-data exchanges follow (bytes the
    /// phone sends, bytes the server answers: e.g. a TVS query of 153 bytes and a
    /// 1480-byte answer); then the phone sends close_notify and FIN.
    Completed {
        /// (request bytes, response bytes) per exchange.
        exchanges: Vec<(usize, usize)>,
    },
    /// The phone rejects the server's certificate: a fatal alert with this description
    /// right after the server's flight (None: no alert, the phone just closes), then FIN,
    /// or RST when `reset`.
    ClientRejects {
        /// Alert description (48 unknown_ca, 42 bad_certificate, …), if any.
        description: Option<u8>,
        /// Close with RST instead of FIN.
        reset: bool,
    },
    /// The server answers the ClientHello with a fatal alert (e.g. 40 handshake_failure
    /// when the versions do not match) and closes.
    ServerAlert {
        /// Alert description.
        description: u8,
    },
}

/// One TLS conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSession {
    /// Negotiated version: `TLS10`, `TLS11`, `TLS12` or `TLS13`.
    pub version: u16,
    /// Server certificate chain (DER), leaf first.
    pub server_chain: Vec<Vec<u8>>,
    /// The phone's certificate (LSC or MIC) chain when the server asks for one; empty:
    /// no CertificateRequest.
    pub client_chain: Vec<Vec<u8>>,
    /// Largest handshake record the server writes (a 16 KiB default, smaller to force a
    /// Certificate message across several records).
    pub max_record: usize,
    /// SNI the phone sends.
    pub sni: Option<String>,
    /// Seed for randoms and ciphertext filler.
    pub seed: u64,
    /// Server RSA modulus size in bytes (signature and key-exchange lengths).
    pub key_len: usize,
    /// How long the phone takes to answer the server's flight (it may ask TVS about the
    /// certificate meanwhile).
    pub verify_delay: i64,
    /// How it ends.
    pub outcome: TlsOutcome,
}

impl TlsSession {
    /// A session with defaults: 16 KiB records, 2048-bit keys, no client certificate.
    pub fn new(version: u16, server_chain: Vec<Vec<u8>>, seed: u64, outcome: TlsOutcome) -> Self {
        TlsSession {
            version,
            server_chain,
            client_chain: Vec::new(),
            max_record: 16384,
            sni: None,
            seed,
            key_len: 256,
            verify_delay: 3 * MS,
            outcome,
        }
    }

    fn cipher_suite(&self) -> u16 {
        match self.version {
            version::TLS13 => suite::TLS13_AES256_GCM_SHA384,
            // CUCM's TVS trace shows AES256-SHA on the older stacks.
            version::TLS10 | version::TLS11 => suite::RSA_AES256_SHA,
            _ => suite::RSA_AES256_SHA,
        }
    }

    /// Body length of an encrypted record carrying `n` plaintext bytes.
    fn sealed_len(&self, n: usize) -> usize {
        match self.version {
            version::TLS13 => n + 1 + 16,
            version::TLS10 => (n + 20) / 16 * 16 + 16,
            _ => 16 + (n + 20) / 16 * 16 + 16,
        }
    }

    /// Writes the conversation on an opened connection, and closes it. Returns the time the
    /// server's flight (with its Certificate) had fully reached the phone.
    pub fn write(&self, trace: &mut Trace, conn: &mut TcpConn) -> i64 {
        if self.version == version::TLS13 {
            self.write13(trace, conn)
        } else {
            self.write12(trace, conn)
        }
    }

    /// Sends the phone's ClientHello (`hello`); when the outcome is a server alert, the
    /// server's fatal alert (record version `v`) and its FIN follow and the time the
    /// conversation ended is returned.
    fn hello_or_server_alert(
        &self,
        trace: &mut Trace,
        conn: &mut TcpConn,
        hello: &[u8],
        v: u16,
    ) -> Option<i64> {
        // Stacks send the first hello in a TLS 1.0 record for compatibility.
        conn.send(
            trace,
            Side::Client,
            &tls::record(content_type::HANDSHAKE, version::TLS10, hello),
        );
        if let TlsOutcome::ServerAlert { description } = self.outcome {
            conn.send(
                trace,
                Side::Server,
                &tls::alert(v, alert::FATAL, description),
            );
            conn.close(trace, Side::Server);
            return Some(conn.now());
        }
        None
    }

    fn write12(&self, trace: &mut Trace, conn: &mut TcpConn) -> i64 {
        let v = self.version;
        let mut f = Filler::labelled(self.seed, "tls12-ciphertext");
        let hello = tls::ClientHello::tls12(self.seed, v, self.sni.as_deref());
        if let Some(end) = self.hello_or_server_alert(trace, conn, &hello.encode(), v) {
            return end;
        }
        let suite = self.cipher_suite();
        let mut flight = tls::ServerHello::tls12(self.seed, v, suite).encode();
        let chain: Vec<&[u8]> = self.server_chain.iter().map(Vec::as_slice).collect();
        flight.extend_from_slice(&tls::certificate(&chain));
        if !self.client_chain.is_empty() {
            flight.extend_from_slice(&tls::certificate_request());
        }
        flight.extend_from_slice(&tls::server_hello_done());
        conn.send(
            trace,
            Side::Server,
            &tls::records(content_type::HANDSHAKE, v, &flight, self.max_record),
        );
        let flight_seen = conn.now();
        conn.wait(self.verify_delay); // the phone checks the chain against its ITL
        match &self.outcome {
            TlsOutcome::ClientRejects { description, reset } => {
                if let Some(d) = description {
                    conn.send(trace, Side::Client, &tls::alert(v, alert::FATAL, *d));
                }
                if *reset {
                    conn.reset(trace, Side::Client);
                } else {
                    conn.close(trace, Side::Client);
                }
            }
            TlsOutcome::Completed { exchanges } => {
                let mut msgs = Vec::new();
                if !self.client_chain.is_empty() {
                    let chain: Vec<&[u8]> = self.client_chain.iter().map(Vec::as_slice).collect();
                    msgs.extend_from_slice(&tls::certificate(&chain));
                }
                msgs.extend_from_slice(&tls::client_key_exchange_rsa(self.seed, self.key_len));
                if !self.client_chain.is_empty() {
                    msgs.extend_from_slice(&tls::certificate_verify(self.seed, self.key_len));
                }
                let mut out = tls::records(content_type::HANDSHAKE, v, &msgs, 16384);
                out.extend_from_slice(&tls::change_cipher_spec(v));
                let fin = tls::encrypted_finished_len(suite);
                out.extend_from_slice(&tls::opaque_record(content_type::HANDSHAKE, v, fin, &mut f));
                conn.send(trace, Side::Client, &out);
                let mut out = tls::change_cipher_spec(v);
                out.extend_from_slice(&tls::opaque_record(content_type::HANDSHAKE, v, fin, &mut f));
                conn.send(trace, Side::Server, &out);
                self.exchange_and_close(trace, conn, v, exchanges, content_type::ALERT, &mut f);
            }
            TlsOutcome::ServerAlert { .. } => {}
        }
        flight_seen
    }

    /// The application data of `exchanges` (each a sealed request, then a sealed answer) in
    /// records of version `v`; 5 ms later the phone's sealed close_notify in a record of
    /// content type `close_type`, and its FIN.
    fn exchange_and_close(
        &self,
        trace: &mut Trace,
        conn: &mut TcpConn,
        v: u16,
        exchanges: &[(usize, usize)],
        close_type: u8,
        f: &mut Filler,
    ) {
        for &(req, resp) in exchanges {
            let r = tls::opaque_record(content_type::APPLICATION_DATA, v, self.sealed_len(req), f);
            conn.send(trace, Side::Client, &r);
            let r = tls::opaque_record(content_type::APPLICATION_DATA, v, self.sealed_len(resp), f);
            conn.send(trace, Side::Server, &r);
        }
        conn.wait(5 * MS);
        let close = tls::opaque_record(close_type, v, self.sealed_len(2), f);
        conn.send(trace, Side::Client, &close);
        conn.close(trace, Side::Client);
    }

    fn write13(&self, trace: &mut Trace, conn: &mut TcpConn) -> i64 {
        let v = version::TLS12; // record version under TLS 1.3
        let mut f = Filler::labelled(self.seed, "tls13-ciphertext");
        let hello = tls::ClientHello::tls13(self.seed, self.sni.as_deref());
        if let Some(end) = self.hello_or_server_alert(trace, conn, &hello.encode(), v) {
            return end;
        }
        let mut flight = tls::record(
            content_type::HANDSHAKE,
            v,
            &tls::ServerHello::tls13(self.seed, &hello).encode(),
        );
        flight.extend_from_slice(&tls::change_cipher_spec(v));
        // EncryptedExtensions, CertificateRequest?, Certificate (TLS 1.3 layout: context,
        // per-entry extensions), CertificateVerify and Finished, all sealed.
        let cert_msg: usize = 4
            + 1
            + 3
            + self
                .server_chain
                .iter()
                .map(|c| 3 + c.len() + 2)
                .sum::<usize>();
        let cr = if self.client_chain.is_empty() {
            0
        } else {
            4 + 1 + 2 + 2 + 14
        };
        let inner = 6 + cr + cert_msg + (4 + 4 + self.key_len) + (4 + 48);
        let mut left = inner;
        while left > 0 {
            let n = left.min(self.max_record.clamp(1, 16384));
            flight.extend_from_slice(&tls::opaque_record(
                content_type::APPLICATION_DATA,
                v,
                self.sealed_len(n),
                &mut f,
            ));
            left -= n;
        }
        conn.send(trace, Side::Server, &flight);
        let flight_seen = conn.now();
        conn.wait(self.verify_delay);
        let mut out = tls::change_cipher_spec(v);
        match &self.outcome {
            TlsOutcome::ClientRejects { description, reset } => {
                if description.is_some() {
                    // The alert is encrypted: only a small application_data record shows.
                    out.extend_from_slice(&tls::opaque_record(
                        content_type::APPLICATION_DATA,
                        v,
                        self.sealed_len(2),
                        &mut f,
                    ));
                }
                conn.send(trace, Side::Client, &out);
                if *reset {
                    conn.reset(trace, Side::Client);
                } else {
                    conn.close(trace, Side::Client);
                }
            }
            TlsOutcome::Completed { exchanges } => {
                let client_auth = if self.client_chain.is_empty() {
                    0
                } else {
                    4 + 1
                        + 3
                        + self
                            .client_chain
                            .iter()
                            .map(|c| 3 + c.len() + 2)
                            .sum::<usize>()
                        + 8
                        + self.key_len
                };
                out.extend_from_slice(&tls::opaque_record(
                    content_type::APPLICATION_DATA,
                    v,
                    self.sealed_len(client_auth + 52),
                    &mut f,
                ));
                conn.send(trace, Side::Client, &out);
                // Session tickets from the server.
                let ticket = tls::opaque_record(
                    content_type::APPLICATION_DATA,
                    v,
                    self.sealed_len(245),
                    &mut f,
                );
                conn.send(trace, Side::Server, &ticket);
                // The close_notify is sealed like any other record.
                let close = content_type::APPLICATION_DATA;
                self.exchange_and_close(trace, conn, v, exchanges, close, &mut f);
            }
            TlsOutcome::ServerAlert { .. } => {}
        }
        flight_seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::Host;
    use etherparse::{SlicedPacket, TransportSlice};

    /// The server-to-client byte stream of a trace (no loss in these tests).
    fn stream(trace: Trace, server_port: u16, from_server: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for p in trace.finish() {
            let s = SlicedPacket::from_ip(&p.ip).expect("ip");
            if let Some(TransportSlice::Tcp(t)) = s.transport
                && (t.source_port() == server_port) == from_server
            {
                out.extend_from_slice(t.payload());
            }
        }
        out
    }

    fn conn() -> TcpConn {
        TcpConn::new(
            (Host::new([2; 6], "192.0.2.10"), 51000),
            (Host::new([4; 6], "198.51.100.10"), 2445),
            3,
            0,
        )
    }

    fn record_types(stream: &[u8]) -> Vec<(u8, usize)> {
        let mut pos = 0;
        let mut out = Vec::new();
        while pos + 5 <= stream.len() {
            let len = usize::from(u16::from_be_bytes([stream[pos + 3], stream[pos + 4]]));
            out.push((stream[pos], len));
            pos += 5 + len;
        }
        assert_eq!(pos, stream.len(), "records tile the stream");
        out
    }

    #[test]
    fn tls12_rejection_shows_certificate_then_client_alert() {
        let chain = vec![vec![0x30u8; 1200], vec![0x30u8; 900]];
        let mut s = TlsSession::new(
            version::TLS12,
            chain,
            9,
            TlsOutcome::ClientRejects {
                description: Some(alert::UNKNOWN_CA),
                reset: false,
            },
        );
        s.max_record = 1000;
        let mut t = Trace::new();
        let mut c = conn();
        c.open(&mut t);
        s.write(&mut t, &mut c);
        let server = stream(t.clone(), 2445, true);
        let recs = record_types(&server);
        assert!(recs.len() >= 3 && recs.iter().all(|r| r.0 == 22 && r.1 <= 1000));
        let client = stream(t, 2445, false);
        assert!(client.ends_with(&[21, 3, 3, 0, 2, 2, 48]));
    }

    #[test]
    fn tls12_completed_and_tls13_records() {
        let mut t = Trace::new();
        let mut c = conn();
        c.open(&mut t);
        let mut s = TlsSession::new(
            version::TLS12,
            vec![vec![0x30; 800]],
            1,
            TlsOutcome::Completed {
                exchanges: vec![(153, 1480)],
            },
        );
        s.client_chain = vec![vec![0x30; 700]];
        s.write(&mut t, &mut c);
        let client = record_types(&stream(t.clone(), 2445, false));
        let kinds: Vec<u8> = client.iter().map(|r| r.0).collect();
        assert_eq!(kinds, vec![22, 22, 20, 22, 23, 21]);
        let server = record_types(&stream(t, 2445, true));
        assert_eq!(
            server.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![22, 20, 22, 23]
        );

        let mut t = Trace::new();
        let mut c = conn();
        c.open(&mut t);
        TlsSession::new(
            version::TLS13,
            vec![vec![0x30; 800]],
            1,
            TlsOutcome::Completed {
                exchanges: vec![(153, 1480)],
            },
        )
        .write(&mut t, &mut c);
        let server = record_types(&stream(t, 2445, true));
        assert_eq!(server[0].0, 22);
        assert_eq!(server[1], (20, 1));
        assert!(server[2..].iter().all(|r| r.0 == 23));
    }
}
