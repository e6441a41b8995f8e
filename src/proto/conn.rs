//! TCP connections that matter: which side opened them, how they ended, and the
//! application (TLS or HTTP) their reassembled streams feed.

use super::http::{self, HttpConn};
use super::tls::{self, Probe, TlsConn};
use super::{CollectorConfig, FileBudget};
use crate::evidence::{Endpoint, FileTransfer, Seen, Side, TcpEnd, TlsSession};
use crate::net::{Packet, TcpSegment};
use crate::transport::tcp::{Budget, HalfStream, StreamEvent};
use std::collections::HashMap;

/// Connections are keyed by their two endpoints, lower first.
type Key = (Endpoint, Endpoint);

#[derive(Debug)]
enum App {
    /// Followed from its SYN; the first payload decides.
    Undecided,
    Tls(Box<TlsConn>),
    Http(Box<HttpConn>),
    /// Not something we parse; only the connection's fate is kept.
    Ignored,
}

#[derive(Debug)]
struct Conn {
    client: Endpoint,
    server: Endpoint,
    streams: [HalfStream; 2],
    client_isn: Option<u32>,
    syn: bool,
    synack: bool,
    server_sent: bool,
    fin: [Option<u32>; 2],
    end: Option<TcpEnd>,
    first: Seen,
    last: Seen,
    app: App,
}

impl Conn {
    fn new(client: Endpoint, server: Endpoint, seen: Seen, app: App) -> Self {
        Conn {
            client,
            server,
            streams: [HalfStream::new(), HalfStream::new()],
            client_isn: None,
            syn: false,
            synack: false,
            server_sent: false,
            fin: [None, None],
            end: None,
            first: seen,
            last: seen,
            app,
        }
    }
}

/// All followed TCP connections.
#[derive(Debug)]
pub struct Connections {
    conns: HashMap<Key, Conn>,
    http_ports: Vec<u16>,
    tls_ports: Vec<u16>,
    stream_cap: usize,
    budget: Budget,
    max_flows: usize,
    max_file: u64,
    max_message: usize,
    flows_dropped: u64,
    tls: Vec<TlsSession>,
    files: Vec<FileTransfer>,
}

fn side(dir: usize) -> Side {
    if dir == 0 { Side::Client } else { Side::Server }
}

impl Connections {
    /// Empty, configured.
    pub fn new(c: &CollectorConfig) -> Self {
        Connections {
            conns: HashMap::new(),
            http_ports: c.http_ports.clone(),
            tls_ports: c.tls_ports.clone(),
            stream_cap: c.stream_buffer_cap.max(1),
            budget: Budget::new(c.global_buffer_cap),
            max_flows: c.max_flows,
            max_file: c.max_file_size,
            max_message: c.max_handshake_message,
            flows_dropped: 0,
            tls: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Decides whether an unknown flow matters: returns (client, server, app) if so.
    fn classify(
        &self,
        src: Endpoint,
        dst: Endpoint,
        seg: &TcpSegment<'_>,
    ) -> Option<(Endpoint, Endpoint, App)> {
        if seg.flags.syn && !seg.flags.ack {
            let watched = self.tls_ports.contains(&dst.port) || self.http_ports.contains(&dst.port);
            return watched.then_some((src, dst, App::Undecided));
        }
        if seg.flags.rst || seg.payload.is_empty() {
            return None;
        }
        if let Some(p) = tls::probe(seg.payload) {
            let src_is_client = match p {
                Probe::ClientHello | Probe::Sslv2ClientHello => true,
                Probe::ServerHello => false,
                Probe::Handshake => {
                    !(tls::service_for_port(src.port).is_some() || src.port < dst.port)
                }
            };
            let (c, s) = if src_is_client {
                (src, dst)
            } else {
                (dst, src)
            };
            return Some((c, s, App::Undecided));
        }
        if self.http_ports.contains(&dst.port) && http::looks_like_request(seg.payload) {
            return Some((src, dst, App::Undecided));
        }
        None
    }

    /// One TCP segment.
    pub fn segment(
        &mut self,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        files_budget: &mut FileBudget,
    ) {
        let src = Endpoint {
            ip: pkt.src,
            port: seg.src_port,
        };
        let dst = Endpoint {
            ip: pkt.dst,
            port: seg.dst_port,
        };
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let seen = Seen {
            frame: pkt.frame,
            ts: pkt.ts,
        };
        // A new SYN from the client on a connection that already went somewhere: port reuse.
        if seg.flags.syn
            && !seg.flags.ack
            && let Some(c) = self.conns.get(&key)
            && c.client == src
            && c.client_isn != Some(seg.seq)
            && (c.synack || c.server_sent || c.end.is_some())
        {
            self.close(&key, files_budget);
        }
        if !self.conns.contains_key(&key) {
            let Some((client, server, app)) = self.classify(src, dst, seg) else {
                return;
            };
            if self.conns.len() >= self.max_flows {
                self.flows_dropped += 1;
                return;
            }
            self.conns.insert(key, Conn::new(client, server, seen, app));
        }
        let Some(conn) = self.conns.get_mut(&key) else {
            return;
        };
        let dir = usize::from(src != conn.client);
        conn.last = seen;
        if seg.flags.syn {
            if dir == 0 && !seg.flags.ack {
                conn.syn = true;
                conn.client_isn = Some(seg.seq);
            } else if dir == 1 {
                conn.synack = true;
            }
            conn.streams[dir].syn(seg.seq);
        }
        if dir == 1 && !seg.flags.rst {
            conn.server_sent = true;
        }
        if !seg.payload.is_empty() {
            if matches!(conn.app, App::Undecided) {
                conn.app = self_decide(
                    &self.http_ports,
                    &self.tls_ports,
                    conn,
                    seg.payload,
                    self.max_file,
                    self.max_message,
                );
            }
            if !matches!(conn.app, App::Ignored) {
                let app = &mut conn.app;
                let mut sink = |ev: StreamEvent<'_>| feed(app, dir, ev, seen, files_budget);
                conn.streams[dir].segment(
                    seg.seq,
                    seg.payload,
                    self.stream_cap,
                    &mut self.budget,
                    &mut sink,
                );
                if let App::Http(h) = &mut conn.app {
                    self.files.extend(h.take_done());
                }
            }
        }
        if seg.flags.fin && conn.fin[dir].is_none() {
            conn.fin[dir] = Some(seg.seq.wrapping_add(seg.payload.len() as u32));
            conn.end.get_or_insert(TcpEnd::Fin(side(dir)));
        }
        if seg.flags.rst {
            let end = if dir == 1 && !conn.synack && conn.streams[1].delivered() == 0 && conn.syn {
                TcpEnd::Refused
            } else {
                TcpEnd::Reset(side(dir))
            };
            conn.end.get_or_insert(end);
            self.close(&key, files_budget);
        } else if conn.fin[0].is_some() && conn.fin[1].is_some() {
            self.close(&key, files_budget);
        }
    }

    /// Ends a connection: flushes its streams into its application and records the result.
    fn close(&mut self, key: &Key, files_budget: &mut FileBudget) {
        let Some(mut conn) = self.conns.remove(key) else {
            return;
        };
        let mut notes = Vec::new();
        for dir in 0..2 {
            let app = &mut conn.app;
            let seen = conn.last;
            if !matches!(app, App::Ignored | App::Undecided) {
                let mut sink = |ev: StreamEvent<'_>| feed(app, dir, ev, seen, files_budget);
                conn.streams[dir].flush(&mut self.budget, &mut sink);
                if let Some(fin) = conn.fin[dir]
                    && let Some(missing) = conn.streams[dir].missing_before(fin)
                {
                    sink(StreamEvent::Gap(missing));
                    notes.push(format!(
                        "{missing} bytes before the {}'s FIN missing",
                        side(dir).as_str()
                    ));
                }
            }
            conn.streams[dir].release(&mut self.budget);
            let st = &conn.streams[dir].stats;
            let who = side(dir).as_str();
            if st.missing_bytes > 0 {
                notes.push(format!(
                    "{} bytes missing from the {who}'s stream at {:?}",
                    st.missing_bytes, st.gaps
                ));
            }
            if st.conflicting_bytes > 0 {
                notes.push(format!(
                    "{} retransmitted bytes from the {who} differed from the first copy (first kept)",
                    st.conflicting_bytes
                ));
            }
            if st.cap_hits > 0 {
                notes.push(format!(
                    "the {who}'s out-of-order buffer limit forced {} skips",
                    st.cap_hits
                ));
            }
        }
        let end = match conn.end {
            Some(e) => e,
            None if conn.syn && !conn.synack && !conn.server_sent => TcpEnd::NeverAnswered,
            None => TcpEnd::Open,
        };
        let app = std::mem::replace(&mut conn.app, App::Ignored);
        match app {
            App::Tls(t) => self.tls.push(t.finish(end, conn.last, notes)),
            App::Http(h) => self.files.extend(h.finish(end, conn.last)),
            App::Undecided if self.tls_ports.contains(&conn.server.port) => {
                let t = TlsConn::new(conn.client, conn.server, conn.first, self.max_message);
                self.tls.push(t.finish(end, conn.last, notes));
            }
            App::Undecided | App::Ignored => {}
        }
    }

    /// Ends every connection; returns TLS sessions, HTTP transfers and limits hit.
    pub fn finish(
        mut self,
        files_budget: &mut FileBudget,
    ) -> (Vec<TlsSession>, Vec<FileTransfer>, Vec<String>) {
        let mut keys: Vec<(u64, Key)> = self
            .conns
            .iter()
            .map(|(k, c)| (c.first.frame, *k))
            .collect();
        keys.sort();
        for (_, k) in keys {
            self.close(&k, files_budget);
        }
        let mut limits = Vec::new();
        if self.flows_dropped > 0 {
            limits.push(format!(
                "{} TCP segments of new connections not followed: more than {} connections open at once",
                self.flows_dropped, self.max_flows
            ));
        }
        if self.budget.hits > 0 {
            limits.push(format!(
                "TCP out-of-order buffer limits (per stream {} bytes, total {} bytes) forced {} skips over holes",
                self.stream_cap, self.budget.cap, self.budget.hits
            ));
        }
        (self.tls, self.files, limits)
    }
}

/// Picks the application for a connection from its first payload.
fn self_decide(
    http_ports: &[u16],
    tls_ports: &[u16],
    conn: &Conn,
    payload: &[u8],
    max_file: u64,
    max_message: usize,
) -> App {
    if tls::probe(payload).is_some() {
        return App::Tls(Box::new(TlsConn::new(
            conn.client,
            conn.server,
            conn.first,
            max_message,
        )));
    }
    if http_ports.contains(&conn.server.port) {
        return App::Http(Box::new(HttpConn::new(conn.client, conn.server, max_file)));
    }
    if tls_ports.contains(&conn.server.port) {
        // Not TLS-looking, but on a TLS service port: report what the TLS parser makes of it.
        return App::Tls(Box::new(TlsConn::new(
            conn.client,
            conn.server,
            conn.first,
            max_message,
        )));
    }
    App::Ignored
}

fn feed(app: &mut App, dir: usize, ev: StreamEvent<'_>, seen: Seen, files_budget: &mut FileBudget) {
    match (app, ev) {
        (App::Tls(t), StreamEvent::Data(d)) => t.data(dir, d, seen),
        (App::Tls(t), StreamEvent::Gap(n)) => t.gap(dir, n),
        (App::Http(h), StreamEvent::Data(d)) => h.data(dir, d, seen, files_budget),
        (App::Http(h), StreamEvent::Gap(n)) => h.gap(dir, n),
        _ => {}
    }
}
