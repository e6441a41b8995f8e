//! HTTP/1.x file downloads (TCP 6970 by default): requests parsed with httparse, responses
//! paired to them in order (keep-alive and pipelining), bodies read by Content-Length,
//! chunked encoding or until the connection closes.
//!
//! A 200 response yields a file named by the request path without its leading `/`; any
//! other status yields a failed transfer carrying the status.
//!
//! A `CONNECT host:port` request opens a tunnel through a proxy, not a download: no file
//! comes of it; the tunnel is described by [`ConnectTunnel`] (target, the proxy's answer,
//! bytes each way, whether the client spoke TLS in it) and its bytes are not parsed as HTTP.
//!
//! Capture loss is not a download error: body bytes the capture lacks leave the file
//! incomplete with the ranges listed and the loss in `notes`, `error` None. `error` is kept
//! for a non-200 status, a malformed response and a response that stopped before its end.

use super::{FileBudget, digests, tls};
use crate::evidence::{Endpoint, FileTransfer, FileTransport, Seen, TcpEnd};
use std::collections::VecDeque;

/// Longest request or response head (start line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most headers parsed per message.
const MAX_HEADERS: usize = 64;
/// Longest chunk-size line accepted.
const MAX_CHUNK_LINE: usize = 1024;
/// Requests waiting for a response, at most (pipelining depth).
const MAX_QUEUED: usize = 256;

/// A message head (start line and headers) being gathered across segments. Each byte is
/// looked at once: the head is handed to httparse only when its blank line has arrived,
/// and bytes after it are never taken in (Suricata's "consumed N, need M" contract), so a
/// long head in small segments costs linear work, and a body is never copied here.
#[derive(Debug, Default)]
struct HeadBuf {
    buf: Vec<u8>,
    /// Bytes looked at or copied, for the linear-work tests.
    work: u64,
}

impl HeadBuf {
    /// Takes bytes of `data` up to the end of the head. Returns how many bytes were used
    /// and whether the head is now complete. Short of completion, every byte is used
    /// unless the head reached [`MAX_HEAD`].
    fn push(&mut self, data: &[u8]) -> (usize, bool) {
        let mut used = 0;
        if self.buf.is_empty() {
            // Blank lines before a message (a stray CRLF after a body) belong to no head.
            used = data
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        }
        let rest = data.get(used..).unwrap_or_default();
        let room = MAX_HEAD - self.buf.len().min(MAX_HEAD);
        let (take, complete) = match head_end(&self.buf, rest) {
            Some(k) if k <= room => (k, true),
            _ => (room.min(rest.len()), false),
        };
        self.work += take as u64;
        self.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        (used + take, complete)
    }

    /// True when the head reached [`MAX_HEAD`] without ending.
    fn full(&self) -> bool {
        self.buf.len() >= MAX_HEAD
    }
}

/// How many bytes of `rest` complete a head whose first bytes are `buf` (the blank line,
/// `\n\n` or `\n\r\n`, included), if they do. Only `rest` and the last two bytes of
/// `buf` are looked at.
fn head_end(buf: &[u8], rest: &[u8]) -> Option<usize> {
    let before = |i: usize, back: usize| -> Option<u8> {
        // Byte `back` places before rest[i], reaching into buf.
        match i.checked_sub(back) {
            Some(j) => rest.get(j).copied(),
            None => buf
                .len()
                .checked_sub(back - i)
                .and_then(|j| buf.get(j).copied()),
        }
    };
    rest.iter().enumerate().find_map(|(i, b)| {
        let ends = *b == b'\n'
            && match before(i, 1) {
                Some(b'\n') => true,
                Some(b'\r') => before(i, 2) == Some(b'\n'),
                _ => false,
            };
        ends.then_some(i + 1)
    })
}

/// True when `b` starts like an HTTP request line (no allocation).
pub fn looks_like_request(b: &[u8]) -> bool {
    [&b"GET "[..], b"HEAD ", b"POST ", b"PUT "]
        .iter()
        .any(|m| b.starts_with(m))
}

#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    seen: Seen,
}

#[derive(Debug)]
enum Body {
    /// Waiting for a response head.
    Head,
    /// `remaining` bytes of a Content-Length body.
    Length(u64),
    /// Chunked: reading a size line.
    ChunkSize,
    /// Chunked: `remaining` data bytes of the current chunk.
    ChunkData(u64),
    /// Chunked: the CRLF after chunk data (`left` bytes of it).
    ChunkEnd(u8),
    /// Chunked: trailer lines until an empty one.
    Trailer,
    /// Body runs until the server closes.
    UntilClose,
}

#[derive(Debug)]
struct Exchange {
    request: Option<Request>,
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Body bytes received (or lost to gaps), in body offsets.
    received: u64,
    declared: Option<u64>,
    missing: Vec<(u64, u64)>,
    cut: Option<crate::events::FileCut>,
    last: Seen,
}

/// An HTTP `CONNECT` request (RFC 9110 section 9.3.6): a tunnel through a proxy to
/// `target`. Counted and described, never written out as a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTunnel {
    /// The request target as sent (`host:port`).
    pub target: String,
    /// The client that asked for the tunnel.
    pub client: Endpoint,
    /// The proxy it asked.
    pub proxy: Endpoint,
    /// The proxy's status code; `None` when its answer is not in the capture.
    pub status: Option<u16>,
    /// Tunnelled bytes seen (or lost to capture gaps): client to target, target to client.
    pub bytes: [u64; 2],
    /// True when the client's first tunnelled bytes are a TLS handshake record.
    pub tls: bool,
    /// The request's frame.
    pub first: Seen,
}

impl ConnectTunnel {
    /// The port of the target (`host:443` → 443; `[v6]:443` too), if it names one.
    pub fn target_port(&self) -> Option<u16> {
        self.target.rsplit_once(':')?.1.parse().ok()
    }

    /// True when the proxy agreed (a 2xx answer): what follows is the tunnel's content.
    pub fn opened(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The phone service the target port belongs to (`tvs` for 2445, `https` for 443 and
    /// 8443, …) when the tunnel carried TLS: a handshake whose certificates the proxy's
    /// tunnel hides from this reading.
    pub fn tls_service(&self) -> Option<&'static str> {
        if !self.tls {
            return None;
        }
        tls::service_for_port(self.target_port()?)
    }
}

/// The `CONNECT` tunnels of a capture: counted, the first few described in the capture's
/// notes.
#[derive(Debug, Default)]
pub struct ConnectTunnels {
    /// Every tunnel asked for.
    pub total: u64,
    /// Of those, the ones carrying TLS to a phone service port (TVS, HTTPS, …).
    pub tls_to_phone_ports: u64,
    /// The first [`ConnectTunnels::KEPT`], described in the notes.
    pub kept: Vec<ConnectTunnel>,
}

impl ConnectTunnels {
    /// Tunnels described one by one; the rest are only counted.
    pub const KEPT: usize = 8;

    /// Counts the tunnel of a finished connection, if it had one.
    pub fn add(&mut self, conn: &HttpConn) {
        let Some(t) = conn.tunnel() else {
            return;
        };
        self.total += 1;
        if t.tls_service().is_some() {
            self.tls_to_phone_ports += 1;
        }
        if self.kept.len() < Self::KEPT {
            self.kept.push(t.clone());
        }
    }

    /// The capture notes: how many tunnels, each kept one in a line, and a warning for
    /// TLS to a phone service port inside a tunnel (its certificates are not read).
    pub fn notes(&self) -> Vec<String> {
        if self.total == 0 {
            return Vec::new();
        }
        let mut out = vec![format!(
            "{} HTTP CONNECT tunnel(s) through a proxy: tunnels, not downloads; their content is not read",
            self.total
        )];
        for t in &self.kept {
            let answer = match t.status {
                Some(s) if t.opened() => format!("opened ({s})"),
                Some(s) => format!("refused ({s})"),
                None => "proxy's answer not in the capture".to_string(),
            };
            let tls = match t.tls_service() {
                Some(service) => format!(", TLS to a {service} port"),
                None if t.tls => ", TLS".to_string(),
                None => String::new(),
            };
            out.push(format!(
                "CONNECT {} from {} via proxy {} (frame {}): {answer}{tls}, {} bytes sent, {} received",
                t.target, t.client, t.proxy, t.first.frame, t.bytes[0], t.bytes[1]
            ));
        }
        if self.tls_to_phone_ports > 0 {
            out.push(format!(
                "{} CONNECT tunnel(s) carried TLS to a phone service port (TVS 2445, HTTPS 443/8443, …): the certificates in them are hidden by the proxy's tunnel; capture between the proxy and the server to see them",
                self.tls_to_phone_ports
            ));
        }
        if self.total > self.kept.len() as u64 {
            out.push(format!(
                "{} more CONNECT tunnel(s) not listed",
                self.total - self.kept.len() as u64
            ));
        }
        out
    }
}

/// One HTTP connection being followed.
#[derive(Debug)]
pub struct HttpConn {
    /// Whether a finished signed config keeps its bytes ([`super::CollectorConfig`]).
    keep_config_bytes: bool,
    client: Endpoint,
    server: Endpoint,
    req_head: HeadBuf,
    req_skip: u64,
    client_dead: bool,
    requests: VecDeque<Request>,
    resp_head: HeadBuf,
    /// A partial chunk-size or trailer line.
    resp_buf: Vec<u8>,
    state: Body,
    current: Option<Exchange>,
    server_dead: bool,
    /// The server's stream lost its framing to bytes missing from the capture: responses
    /// still owed are unknown, not failed.
    responses_lost: bool,
    max_file: u64,
    notes: Vec<String>,
    done: Vec<FileTransfer>,
    /// Set by a `CONNECT` request: the client's later bytes are the tunnel's, not HTTP.
    tunnel: Option<ConnectTunnel>,
    /// The proxy answered the `CONNECT` with 2xx: its later bytes are the tunnel's too.
    tunnel_open: bool,
}

fn header_pairs(h: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    h.iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect()
}

fn find<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl HttpConn {
    /// Starts following a connection; bodies are kept up to `max_file` bytes.
    pub fn new(client: Endpoint, server: Endpoint, max_file: u64) -> Self {
        HttpConn {
            keep_config_bytes: true,
            client,
            server,
            req_head: HeadBuf::default(),
            req_skip: 0,
            client_dead: false,
            requests: VecDeque::new(),
            resp_head: HeadBuf::default(),
            resp_buf: Vec::new(),
            state: Body::Head,
            current: None,
            server_dead: false,
            responses_lost: false,
            max_file,
            notes: Vec::new(),
            done: Vec::new(),
            tunnel: None,
            tunnel_open: false,
        }
    }

    /// Whether finished signed configs keep their bytes (true unless told; see
    /// [`super::CollectorConfig::keep_signed_config_bytes`]).
    pub fn keeping_config_bytes(mut self, keep: bool) -> Self {
        self.keep_config_bytes = keep;
        self
    }

    /// The `CONNECT` tunnel this connection carries, if the client asked for one.
    pub fn tunnel(&self) -> Option<&ConnectTunnel> {
        self.tunnel.as_ref()
    }

    /// Counts tunnelled bytes of direction `dir`; the client's first ones are looked at for
    /// a TLS handshake.
    fn tunnelled(&mut self, dir: usize, data: &[u8]) {
        let Some(t) = self.tunnel.as_mut() else {
            return;
        };
        if dir == 0 && t.bytes[0] == 0 && !data.is_empty() {
            t.tls = tls::probe(data).is_some();
        }
        if let Some(n) = t.bytes.get_mut(dir) {
            *n += data.len() as u64;
        }
    }

    /// Transfers finished so far (taken).
    pub fn take_done(&mut self) -> Vec<FileTransfer> {
        std::mem::take(&mut self.done)
    }

    /// Bytes of the stream in direction `dir` (0 = client → server).
    pub fn data(&mut self, dir: usize, data: &[u8], seen: Seen, budget: &mut FileBudget) {
        if self.tunnel.is_some() && (dir == 0 || self.tunnel_open) {
            self.tunnelled(dir, data);
            return;
        }
        if dir == 0 {
            self.client_data(data, seen)
        } else {
            self.server_data(data, seen, budget)
        }
    }

    /// A gap of `len` bytes in direction `dir`.
    pub fn gap(&mut self, dir: usize, len: u64) {
        if let Some(t) = self.tunnel.as_mut()
            && (dir == 0 || self.tunnel_open)
        {
            // Tunnel content is not parsed: a hole in it costs nothing but its count.
            if let Some(n) = t.bytes.get_mut(dir) {
                *n += len;
            }
            return;
        }
        if dir == 0 {
            if !self.client_dead {
                self.notes.push(format!(
                    "{len} bytes of requests missing; later requests not parsed"
                ));
            }
            self.client_dead = true;
            return;
        }
        if self.server_dead {
            return;
        }
        // Body bytes known to be lost, and whether the body's end is within the gap.
        let (in_body, body_ends) = match &mut self.state {
            Body::Length(rem) => {
                let lost = (*rem).min(len);
                *rem -= lost;
                (lost, *rem == 0)
            }
            Body::ChunkData(rem) if *rem >= len => {
                *rem -= len;
                (len, false)
            }
            Body::UntilClose => (len, false),
            _ => (0, false),
        };
        if in_body > 0
            && let Some(ex) = self.current.as_mut()
        {
            ex.missing.push((ex.received, ex.received + in_body));
            ex.received += in_body;
        }
        if body_ends {
            // The response ran to its end; only the capture lost bytes of it.
            self.end_exchange(None);
        }
        let beyond = len - in_body;
        if beyond == 0 {
            return;
        }
        self.notes.push(format!(
            "{beyond} bytes of responses missing from the capture; later responses not parsed"
        ));
        self.server_dead = true;
        self.responses_lost = true;
        // Where this body ends is lost with the bytes: incomplete, not failed.
        if let Some(ex) = self.current.take()
            && !is_connect(ex.request.as_ref())
        {
            self.state = Body::Head;
            let mut f = self.transfer(ex, false, None);
            f.notes.push(
                "response bytes missing from the capture; the end of the body could not be found"
                    .into(),
            );
            self.done.push(f);
        }
    }

    fn client_data(&mut self, mut data: &[u8], seen: Seen) {
        while !data.is_empty() && !self.client_dead {
            if self.req_skip > 0 {
                let n = usize::try_from(self.req_skip)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                self.req_skip -= n as u64;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            let (used, complete) = self.req_head.push(data);
            data = data.get(used..).unwrap_or_default();
            if !complete {
                if self.req_head.full() {
                    self.notes.push(format!(
                        "request head longer than {MAX_HEAD} bytes; requests not parsed further"
                    ));
                    self.client_dead = true;
                }
                continue;
            }
            let head = std::mem::take(&mut self.req_head.buf);
            self.req_head.work += head.len() as u64;
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&head) {
                Ok(httparse::Status::Complete(_)) => {
                    let hs = header_pairs(req.headers);
                    self.req_skip = find(&hs, "content-length")
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0);
                    let request = Request {
                        method: req.method.unwrap_or("").to_string(),
                        path: req.path.unwrap_or("").to_string(),
                        headers: hs,
                        seen,
                    };
                    if request.method.eq_ignore_ascii_case("CONNECT") && self.tunnel.is_none() {
                        self.tunnel = Some(ConnectTunnel {
                            target: request.path.clone(),
                            client: self.client,
                            proxy: self.server,
                            status: None,
                            bytes: [0, 0],
                            tls: false,
                            first: seen,
                        });
                        // The client may send tunnel bytes before the proxy answers (RFC
                        // 9110 section 9.3.6): nothing after this head is HTTP.
                        self.requests.push_back(request);
                        self.req_skip = 0;
                        let rest = data;
                        self.tunnelled(0, rest);
                        self.req_head.buf = Vec::new();
                        return;
                    }
                    if self.requests.len() < MAX_QUEUED {
                        self.requests.push_back(request);
                    } else {
                        self.notes
                            .push("too many pipelined requests; one dropped".into());
                    }
                }
                Ok(httparse::Status::Partial) => {
                    self.notes.push(
                        "malformed HTTP request (head ended early); requests not parsed further"
                            .into(),
                    );
                    self.client_dead = true;
                }
                Err(e) => {
                    self.notes.push(format!(
                        "malformed HTTP request ({e}); requests not parsed further"
                    ));
                    self.client_dead = true;
                }
            }
            // Keep the allocation for the next head.
            let mut head = head;
            head.clear();
            self.req_head.buf = head;
        }
        if self.client_dead {
            self.req_head.buf = Vec::new();
        }
    }

    fn server_data(&mut self, mut data: &[u8], seen: Seen, budget: &mut FileBudget) {
        if let Some(ex) = self.current.as_mut() {
            ex.last = seen;
        }
        while !data.is_empty() && !self.server_dead {
            if self.tunnel_open {
                self.tunnelled(1, data);
                return;
            }
            match &mut self.state {
                Body::Length(rem) | Body::ChunkData(rem) => {
                    let n = usize::try_from(*rem).unwrap_or(usize::MAX).min(data.len());
                    *rem -= n as u64;
                    let finished = *rem == 0;
                    let chunked = matches!(self.state, Body::ChunkData(_));
                    self.body(data.get(..n).unwrap_or_default(), budget);
                    data = data.get(n..).unwrap_or_default();
                    if finished {
                        if chunked {
                            self.state = Body::ChunkEnd(2);
                        } else {
                            self.end_exchange(None);
                        }
                    }
                }
                Body::UntilClose => {
                    self.body(data, budget);
                    data = &[];
                }
                Body::ChunkEnd(left) => {
                    let n = usize::from(*left).min(data.len());
                    *left -= n as u8;
                    data = data.get(n..).unwrap_or_default();
                    if *left == 0 {
                        self.state = Body::ChunkSize;
                    }
                }
                Body::ChunkSize | Body::Trailer => {
                    let Some(line) = self.line(&mut data) else {
                        continue;
                    };
                    if matches!(self.state, Body::Trailer) {
                        if line.is_empty() {
                            self.end_exchange(None);
                        }
                        continue;
                    }
                    let size_txt = line.split(|c| *c == b';').next().unwrap_or_default();
                    let size = std::str::from_utf8(size_txt)
                        .ok()
                        .and_then(|s| u64::from_str_radix(s.trim(), 16).ok());
                    match size {
                        Some(0) => self.state = Body::Trailer,
                        Some(n) => self.state = Body::ChunkData(n),
                        None => {
                            self.notes
                                .push("malformed chunk size; responses not parsed further".into());
                            self.server_dead = true;
                            self.end_exchange(Some("malformed chunked encoding".into()));
                        }
                    }
                }
                Body::Head => {
                    // Only the head is taken: what follows it stays in `data` for the
                    // next turn of the loop (its body, or the next pipelined response).
                    let (used, complete) = self.resp_head.push(data);
                    data = data.get(used..).unwrap_or_default();
                    if complete {
                        self.head(seen);
                    } else if self.resp_head.full() {
                        self.notes.push(format!(
                            "response head longer than {MAX_HEAD} bytes; not parsed further"
                        ));
                        self.server_dead = true;
                    }
                }
            }
        }
    }

    /// Takes a CRLF-terminated line from `resp_buf` + `data`.
    fn line(&mut self, data: &mut &[u8]) -> Option<Vec<u8>> {
        match data.iter().position(|b| *b == b'\n') {
            Some(i) => {
                self.resp_buf
                    .extend_from_slice(data.get(..i).unwrap_or_default());
                *data = data.get(i + 1..).unwrap_or_default();
                let mut line = std::mem::take(&mut self.resp_buf);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Some(line)
            }
            None => {
                self.resp_buf.extend_from_slice(data);
                *data = &[];
                if self.resp_buf.len() > MAX_CHUNK_LINE {
                    self.notes
                        .push("chunk line too long; responses not parsed further".into());
                    self.server_dead = true;
                    self.end_exchange(Some("malformed chunked encoding".into()));
                }
                None
            }
        }
    }

    /// Parses the complete response head gathered in `resp_head`.
    fn head(&mut self, seen: Seen) {
        let head = std::mem::take(&mut self.resp_head.buf);
        self.resp_head.work += head.len() as u64;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let status = resp.code.unwrap_or(0);
                let reason = resp.reason.unwrap_or("").to_string();
                let hs = header_pairs(resp.headers);
                let mut head = head;
                head.clear();
                self.resp_head.buf = head;
                if (100..200).contains(&status) {
                    return; // interim response; the real one follows
                }
                let request = self.requests.pop_front();
                if let (Some(r), Some(t)) = (&request, self.tunnel.as_mut())
                    && r.method.eq_ignore_ascii_case("CONNECT")
                {
                    t.status = Some(status);
                    if (200..300).contains(&status) {
                        // RFC 9110: a 2xx answer to CONNECT has no body; the tunnel begins
                        // right after the head.
                        self.tunnel_open = true;
                        return;
                    }
                }
                let head_only = request
                    .as_ref()
                    .is_some_and(|r| r.method.eq_ignore_ascii_case("HEAD"));
                let chunked = find(&hs, "transfer-encoding")
                    .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
                let declared = find(&hs, "content-length").and_then(|v| v.parse::<u64>().ok());
                self.current = Some(Exchange {
                    request,
                    status,
                    reason,
                    headers: hs,
                    // Reserve what the server announced, but at most 64 KiB: the length is
                    // the server's claim, and thousands of connections each claiming
                    // megabytes must not reserve memory before any byte arrives.
                    body: Vec::with_capacity(
                        usize::try_from(declared.unwrap_or(0).min(self.max_file).min(64 << 10))
                            .unwrap_or(0),
                    ),
                    received: 0,
                    declared,
                    missing: Vec::new(),
                    cut: None,
                    last: seen,
                });
                self.state = if head_only || status == 204 || status == 304 {
                    Body::Length(0)
                } else if chunked {
                    Body::ChunkSize
                } else if let Some(n) = declared {
                    Body::Length(n)
                } else {
                    Body::UntilClose
                };
                if matches!(self.state, Body::Length(0)) {
                    self.end_exchange(None);
                }
            }
            Ok(httparse::Status::Partial) => {
                self.notes.push(
                    "malformed HTTP response (head ended early); responses not parsed further"
                        .into(),
                );
                self.server_dead = true;
            }
            Err(e) => {
                self.notes.push(format!(
                    "malformed HTTP response ({e}); responses not parsed further"
                ));
                self.server_dead = true;
            }
        }
    }

    fn body(&mut self, d: &[u8], budget: &mut FileBudget) {
        let max_file = self.max_file;
        let Some(ex) = self.current.as_mut() else {
            return;
        };
        let contiguous = ex.missing.is_empty() && ex.cut.is_none();
        ex.received += d.len() as u64;
        if !contiguous || !(200..300).contains(&ex.status) {
            return;
        }
        if ex.received > max_file {
            ex.cut = Some(crate::events::FileCut::PerFileLimit { limit: max_file });
        } else if !budget.take(d.len()) {
            ex.cut = Some(crate::events::FileCut::TotalLimit);
        } else {
            ex.body.extend_from_slice(d);
        }
    }

    /// Closes the current exchange; `failure` says why it could not finish.
    fn end_exchange(&mut self, failure: Option<String>) {
        self.state = Body::Head;
        let Some(ex) = self.current.take() else {
            return;
        };
        if is_connect(ex.request.as_ref()) {
            // The proxy refused the tunnel (its status is in `tunnel`): no download.
            return;
        }
        let body_done = failure.is_none();
        self.done.push(self.transfer(ex, body_done, failure));
    }

    fn transfer(&self, mut ex: Exchange, body_done: bool, failure: Option<String>) -> FileTransfer {
        let (name, method, first, mut options) = match ex.request.take() {
            Some(r) => {
                let name = r.path.strip_prefix('/').unwrap_or(&r.path).to_string();
                let keep: Vec<(String, String)> = r
                    .headers
                    .into_iter()
                    .filter(|(k, _)| {
                        ["host", "user-agent", "range"]
                            .iter()
                            .any(|h| k.eq_ignore_ascii_case(h))
                    })
                    .collect();
                (name, r.method, r.seen, keep)
            }
            None => (String::new(), String::new(), ex.last, Vec::new()),
        };
        options.extend(
            ex.headers
                .iter()
                .filter(|(k, _)| {
                    [
                        "content-type",
                        "content-length",
                        "transfer-encoding",
                        "server",
                    ]
                    .iter()
                    .any(|h| k.eq_ignore_ascii_case(h))
                })
                .map(|(k, v)| (format!("response:{}", k.to_ascii_lowercase()), v.clone())),
        );
        let mut notes = Vec::new();
        if !method.is_empty() && !method.eq_ignore_ascii_case("GET") {
            notes.push(format!("request method {method}"));
        }
        if first.frame == ex.last.frame && name.is_empty() {
            notes.push("the request was not captured".into());
        }
        let ok = ex.status == 200;
        let whole = ok && body_done && ex.missing.is_empty() && ex.cut.is_none();
        let size = if body_done {
            Some(ex.received)
        } else {
            ex.declared
        };
        if let (Some(sz), true) = (size, ok)
            && ex.received < sz
        {
            ex.missing.push((ex.received, sz));
        }
        let error = if !ok {
            Some(
                format!("HTTP {} {}", ex.status, ex.reason)
                    .trim_end()
                    .to_string(),
            )
        } else {
            failure
        };
        if ok && body_done && !ex.missing.is_empty() {
            let lost: u64 = ex.missing.iter().map(|(a, b)| b - a).sum();
            notes.push(format!(
                "{lost} body bytes ({} ranges) missing from the capture; the response ran to its end, so the phone may have received the whole file",
                ex.missing.len()
            ));
        }
        let (md5, sha1, sha256) = if whole {
            digests(&ex.body)
        } else {
            (None, None, None)
        };
        let mut file = FileTransfer {
            name,
            transport: FileTransport::Http,
            upload: false,
            client: self.client,
            server: self.server,
            data: Default::default(),
            size: if ok { size } else { None },
            complete: whole,
            missing: if ok { ex.missing } else { Vec::new() },
            error,
            http_status: Some(ex.status),
            tftp_error_code: None,
            options: super::intern_options(options),
            first,
            last: ex.last,
            md5,
            sha1,
            sha256,
            notes,
            cut: ex.cut,
            signed_config: None,
        };
        super::bound_record_text(&mut file);
        if ok {
            super::finish_transfer(&mut file, ex.body, self.keep_config_bytes);
        }
        file
    }

    /// Ends the connection and returns every transfer not yet taken.
    pub fn finish(mut self, end: TcpEnd, last: Seen) -> Vec<FileTransfer> {
        if let Some(ex) = self.current.as_mut() {
            ex.last = ex.last.max_frame(last);
        }
        match self.state {
            Body::UntilClose if matches!(end, TcpEnd::Fin(crate::evidence::Side::Server)) => {
                self.end_exchange(None)
            }
            Body::Head => {}
            _ => {
                let why = match end {
                    TcpEnd::Open => {
                        "transfer did not finish in the capture (it ended before the response did)"
                    }
                    _ => "the connection closed before the response was complete",
                };
                self.end_exchange(Some(why.into()));
            }
        }
        while let Some(r) = self.requests.pop_front() {
            if is_connect(Some(&r)) {
                // Unanswered in the capture: the tunnel's status stays unknown.
                continue;
            }
            let name = r.path.strip_prefix('/').unwrap_or(&r.path).to_string();
            // A response lost with bytes the capture lacks is unknown, not a failure.
            let (error, notes) = if self.responses_lost {
                (
                    None,
                    vec!["the response was lost with bytes missing from the capture".to_string()],
                )
            } else {
                (Some("no response in the capture".to_string()), Vec::new())
            };
            self.done.push(FileTransfer {
                name,
                transport: FileTransport::Http,
                upload: false,
                client: self.client,
                server: self.server,
                data: Default::default(),
                size: None,
                complete: false,
                missing: Vec::new(),
                error,
                http_status: None,
                tftp_error_code: None,
                options: Vec::new(),
                first: r.seen,
                last,
                md5: None,
                sha1: None,
                sha256: None,
                notes,
                cut: None,
                signed_config: None,
            });
        }
        if !self.notes.is_empty()
            && let Some(f) = self.done.last_mut()
        {
            f.notes.append(&mut self.notes);
        }
        self.done
    }
}

/// True for a `CONNECT` request.
fn is_connect(r: Option<&Request>) -> bool {
    r.is_some_and(|r| r.method.eq_ignore_ascii_case("CONNECT"))
}

trait MaxFrame {
    fn max_frame(self, other: Self) -> Self;
}
impl MaxFrame for Seen {
    fn max_frame(self, other: Seen) -> Seen {
        if other.frame > self.frame {
            other
        } else {
            self
        }
    }
}

/// The memory budget ([`crate::budget`]): what this connection holds besides file bodies
/// (those are kept under the file limits), and giving it up.
impl HttpConn {
    /// Bytes its head and chunk-line buffers hold.
    pub fn buffered(&self) -> usize {
        self.req_head.buf.capacity() + self.resp_head.buf.capacity() + self.resp_buf.capacity()
    }

    /// The memory budget refused the buffers: the heads being gathered are dropped and
    /// neither direction is parsed further, with a note (what follows is unknown).
    pub fn starve(&mut self) {
        self.req_head = HeadBuf::default();
        self.resp_head = HeadBuf::default();
        self.resp_buf = Vec::new();
        if !(self.client_dead && self.server_dead) {
            self.notes.push(
                "the memory budget was spent: this connection's HTTP messages from here on were not parsed (raise --max-memory to read them)".into(),
            );
        }
        self.client_dead = true;
        self.server_dead = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::evidence::Side;
    use proptest::prelude::*;

    fn ep(s: &str) -> Endpoint {
        s.parse().unwrap()
    }
    fn seen(f: u64) -> Seen {
        Seen {
            capture: 0,
            frame: f,
            ts: Timestamp(0),
        }
    }
    fn conn() -> HttpConn {
        HttpConn::new(ep("10.0.0.5:40000"), ep("10.0.0.1:6970"), 1 << 20)
    }

    /// Feeds the server stream in pieces of `step` bytes.
    fn run(requests: &[u8], responses: &[u8], step: usize, end: TcpEnd) -> Vec<FileTransfer> {
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        c.data(0, requests, seen(1), &mut budget);
        for (i, piece) in responses.chunks(step.max(1)).enumerate() {
            c.data(1, piece, seen(2 + i as u64), &mut budget);
        }
        c.finish(end, seen(1000))
    }

    #[test]
    fn keep_alive_pipelined_pairs_in_order_any_segmentation() {
        let reqs = b"GET /ITLSEP0011.tlv HTTP/1.1\r\nHost: x\r\n\r\nGET /CTLSEP0011.tlv HTTP/1.1\r\n\r\nGET /Desktops/320x196x4/List.xml HTTP/1.1\r\n\r\n";
        let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\n\r\nerrHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nList\r\n5\r\n.xml!\r\n0\r\nX-T: 1\r\n\r\n";
        for step in [1, 2, 7, 1000] {
            let f = run(reqs, resps, step, TcpEnd::Fin(Side::Client));
            assert_eq!(f.len(), 3, "step {step}");
            assert_eq!(f[0].name, "ITLSEP0011.tlv");
            assert!(f[0].complete);
            assert_eq!(f[0].data, b"hello");
            assert_eq!(f[1].name, "CTLSEP0011.tlv");
            assert!(!f[1].complete);
            assert_eq!(f[1].http_status, Some(503));
            assert_eq!(f[1].error.as_deref(), Some("HTTP 503 Service Unavailable"));
            assert_eq!(f[2].name, "Desktops/320x196x4/List.xml");
            assert!(f[2].complete, "{:?}", f[2].error);
            assert_eq!(f[2].data, b"List.xml!");
        }
    }

    #[test]
    fn pipelined_bodyless_responses_in_one_segment_are_all_read() {
        let reqs = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n";
        let resps = b"HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let f = run(reqs, resps, 10_000, TcpEnd::Fin(Side::Client));
        let got: Vec<(&str, Option<u16>)> =
            f.iter().map(|t| (t.name.as_str(), t.http_status)).collect();
        assert_eq!(
            got,
            vec![
                ("a", Some(304)),
                ("b", Some(304)),
                ("c", Some(200)),
                ("d", Some(204))
            ]
        );
        assert!(
            f.iter()
                .all(|t| t.error.as_deref() != Some("no response in the capture"))
        );
    }

    #[test]
    fn thousands_of_pipelined_responses_in_one_segment_iterate() {
        let n = 20_000;
        let mut resps = Vec::new();
        for i in 0..n {
            resps.extend_from_slice(
                format!("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{}", i % 10).as_bytes(),
            );
        }
        let f = run(b"", &resps, usize::MAX, TcpEnd::Fin(Side::Client));
        assert_eq!(f.len(), n);
        assert_eq!(f[n - 1].data, b"9");
    }

    /// Work (bytes looked at, copied or parsed) to read a response whose head is `len`
    /// bytes, delivered one byte per segment.
    fn head_work(len: usize) -> u64 {
        let mut head = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
        head.resize(len - 4, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        c.data(0, b"GET /a HTTP/1.1\r\n\r\n", seen(1), &mut budget);
        for b in head.chunks(1) {
            c.data(1, b, seen(2), &mut budget);
        }
        assert!(c.current.is_some(), "{:?}", c.notes);
        c.resp_head.work
    }

    /// The same for a request head.
    fn request_head_work(len: usize) -> u64 {
        let mut head = b"GET /a HTTP/1.1\r\nX-Long: ".to_vec();
        head.resize(len - 4, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        for b in head.chunks(1) {
            c.data(0, b, seen(1), &mut budget);
        }
        assert_eq!(c.requests.len(), 1, "{:?}", c.notes);
        c.req_head.work
    }

    #[test]
    fn a_long_head_in_one_byte_segments_costs_linear_work() {
        for work in [head_work, request_head_work] {
            let small = work(16 << 10);
            let big = work(32 << 10);
            // Doubling the head doubles the work (re-parsing it per segment quadruples it).
            assert!(
                big <= 2 * small + 1024,
                "16 KiB: {small}, 32 KiB: {big} bytes of work"
            );
            assert!(
                big <= 3 * (32 << 10),
                "{big} bytes of work for a 32 KiB head"
            );
        }
    }

    #[test]
    fn body_until_close() {
        let f = run(
            b"GET /a HTTP/1.0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\nabc",
            2,
            TcpEnd::Fin(Side::Server),
        );
        assert!(f[0].complete);
        assert_eq!(f[0].data, b"abc");
    }

    #[test]
    fn short_body_is_incomplete() {
        let f = run(
            b"GET /a HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            100,
            TcpEnd::Open,
        );
        assert!(!f[0].complete);
        assert_eq!(f[0].size, Some(10));
        assert_eq!(f[0].missing, vec![(3, 10)]);
        assert!(f[0].sha1.is_none());
    }

    #[test]
    fn gap_in_body_is_listed() {
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        c.data(0, b"GET /f HTTP/1.1\r\n\r\n", seen(1), &mut budget);
        c.data(
            1,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
            seen(2),
            &mut budget,
        );
        c.gap(1, 3);
        c.data(1, b"fghij", seen(3), &mut budget);
        let f = c.finish(TcpEnd::Fin(Side::Client), seen(4));
        assert!(!f[0].complete);
        assert_eq!(f[0].missing, vec![(2, 5)]);
        assert_eq!(f[0].data, b"ab");
        assert_eq!(f[0].size, Some(10));
        // The body ran to its end: capture loss, not a failed download.
        assert_eq!(f[0].error, None);
        assert!(
            f[0].notes.iter().any(|n| n.contains("3 body bytes")),
            "{:?}",
            f[0].notes
        );
    }

    /// A connection with requests for /a and /b; the server stream is `before`, a gap of
    /// `gap` bytes, then `after`; then the connection ends with `end`.
    fn with_gap(before: &[u8], gap: u64, after: &[u8], end: TcpEnd) -> Vec<FileTransfer> {
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        c.data(
            0,
            b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
            seen(1),
            &mut budget,
        );
        c.data(1, before, seen(2), &mut budget);
        c.gap(1, gap);
        if !after.is_empty() {
            c.data(1, after, seen(3), &mut budget);
        }
        c.finish(end, seen(4))
    }

    #[test]
    fn gap_covering_the_end_of_a_body_ends_it() {
        let f = with_gap(
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc",
            3,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy",
            TcpEnd::Fin(Side::Server),
        );
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].complete, f[0].error.clone()), (false, None));
        assert_eq!(f[0].missing, vec![(3, 6)]);
        assert!(f[1].complete);
        assert_eq!(f[1].data, b"xy");
    }

    #[test]
    fn gap_past_a_body_loses_later_responses_without_failing_them() {
        let f = with_gap(
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc",
            40,
            b"",
            TcpEnd::Fin(Side::Server),
        );
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "a");
        assert_eq!((f[0].complete, f[0].error.clone()), (false, None));
        assert_eq!(f[0].missing, vec![(3, 6)]);
        assert_eq!(f[1].name, "b");
        assert_eq!((f[1].complete, f[1].error.clone()), (false, None));
        assert!(
            f[1].notes
                .iter()
                .any(|n| n.contains("missing from the capture")),
            "{:?}",
            f[1].notes
        );
    }

    #[test]
    fn gap_losing_chunk_framing_is_incomplete_not_failed() {
        let f = with_gap(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",
            50,
            b"zzz",
            TcpEnd::Fin(Side::Server),
        );
        assert_eq!(f[0].name, "a");
        assert!(!f[0].complete);
        assert_eq!(f[0].error, None);
        assert_eq!(f[0].data, b"ab");
        assert!(
            f[0].notes.iter().any(|n| n.contains("end of the body")),
            "{:?}",
            f[0].notes
        );
    }

    #[test]
    fn response_that_stopped_is_still_an_error() {
        let f = with_gap(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
            0,
            b"",
            TcpEnd::Open,
        );
        assert!(!f[0].complete);
        assert_eq!(
            f[0].error.as_deref(),
            Some("transfer did not finish in the capture (it ended before the response did)")
        );
        assert_eq!(f[0].missing, vec![(3, 100)]);
        let f = with_gap(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
            0,
            b"",
            TcpEnd::Reset(Side::Server),
        );
        assert!(f[0].error.as_deref().unwrap_or("").contains("closed"));
        // The request for /b got no response at all.
        assert_eq!(f[1].error.as_deref(), Some("no response in the capture"));
    }

    #[test]
    fn request_without_response() {
        let f = run(
            b"GET /x HTTP/1.1\r\n\r\n",
            b"",
            1,
            TcpEnd::Reset(Side::Server),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].error.as_deref(), Some("no response in the capture"));
    }

    proptest! {
        #[test]
        fn never_panics(a in proptest::collection::vec(any::<u8>(), 0..400), b in proptest::collection::vec(any::<u8>(), 0..400), step in 1usize..50) {
            let mut req = b"GET /a HTTP/1.1\r\n\r\n".to_vec();
            req.extend_from_slice(&a);
            let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            resp.extend_from_slice(&b);
            let _ = run(&req, &resp, step, TcpEnd::Open);
            let _ = run(&a, &b, step, TcpEnd::Open);
        }
    }

    /// A TLS ClientHello record's first bytes.
    const CLIENT_HELLO: [u8; 9] = [0x16, 0x03, 0x01, 0x00, 0x30, 0x01, 0x00, 0x00, 0x2c];

    /// Issue 19 item 7: `CONNECT abc:443` is a tunnel, not a download named `abc:443`.
    #[test]
    fn connect_is_a_tunnel_not_a_download() {
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        let req = [
            &b"CONNECT abc:443 HTTP/1.1\r\nHost: abc:443\r\n\r\n"[..],
            &CLIENT_HELLO,
        ]
        .concat();
        c.data(0, &req, seen(1), &mut budget);
        // The proxy's answer and the server's TLS bytes in one segment.
        let resp = [
            &b"HTTP/1.1 200 Connection established\r\n\r\n"[..],
            &[0x16, 3, 3, 0, 2, 2, 0],
        ]
        .concat();
        c.data(1, &resp, seen(2), &mut budget);
        c.data(0, b"more", seen(3), &mut budget);
        c.gap(1, 100);
        let t = c.tunnel().cloned().expect("tunnel");
        assert_eq!(t.target, "abc:443");
        assert_eq!(t.status, Some(200));
        assert!(t.opened() && t.tls);
        assert_eq!(t.bytes, [CLIENT_HELLO.len() as u64 + 4, 107]);
        assert_eq!(t.target_port(), Some(443));
        assert_eq!(t.tls_service(), Some("https"));
        assert_eq!(t.first.frame, 1);
        let files = c.finish(TcpEnd::Fin(Side::Client), seen(9));
        assert!(files.is_empty(), "{files:?}");
    }

    /// A refused or unanswered CONNECT is no download either; its status is kept (or
    /// unknown).
    #[test]
    fn refused_and_unanswered_connects_leave_no_file() {
        let req = b"CONNECT tvs.example:2445 HTTP/1.1\r\n\r\n";
        let resp = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny";
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        c.data(0, req, seen(1), &mut budget);
        c.data(1, resp, seen(2), &mut budget);
        let t = c.tunnel().cloned().expect("tunnel");
        assert_eq!(t.status, Some(407));
        assert!(!t.opened() && !t.tls);
        assert_eq!(t.tls_service(), None);
        assert!(c.finish(TcpEnd::Fin(Side::Server), seen(3)).is_empty());

        let mut c = conn();
        c.data(0, req, seen(1), &mut budget);
        c.data(0, &CLIENT_HELLO, seen(2), &mut budget);
        let t = c.tunnel().cloned().expect("tunnel");
        assert_eq!(t.status, None);
        assert!(t.tls);
        assert_eq!(t.tls_service(), Some("tvs"));
        assert!(c.finish(TcpEnd::Open, seen(3)).is_empty());
    }

    /// A download before the CONNECT on the same connection is still a file.
    #[test]
    fn a_get_before_a_connect_is_still_a_download() {
        let reqs =
            b"GET /ITLSEP0011.tlv HTTP/1.1\r\n\r\nCONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n";
        let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n\r\nxyz";
        let mut c = conn();
        let mut budget = FileBudget::new(u64::MAX);
        c.data(0, reqs, seen(1), &mut budget);
        c.data(1, resps, seen(2), &mut budget);
        let t = c.tunnel().cloned().expect("tunnel");
        assert_eq!(t.target_port(), Some(8443));
        assert_eq!(t.bytes, [0, 3]);
        let files = c.finish(TcpEnd::Fin(Side::Client), seen(3));
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].name, "ITLSEP0011.tlv");
        assert_eq!(files[0].data, b"hello");
    }
}
