//! HTTP/1.1 GET on TCP 6970 as a phone's `gethtp` does it: one connection per file, the
//! file name as the path, real-looking request headers, and the CUCM TFTP service's answer
//! (200 with the file, or 404 / 503 with an empty body), optionally chunked.

use super::tcp::{TcpConn, TcpImpair};
use super::{Host, Side, Trace};

/// The server's answer to one GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// Status code (200, 404, 503).
    pub status: u16,
    /// Body (the file for a 200).
    pub body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked` in chunks of this size.
    pub chunked: Option<usize>,
}

impl HttpAnswer {
    /// 200 OK with the file.
    pub fn ok(body: Vec<u8>) -> Self {
        HttpAnswer {
            status: 200,
            body,
            chunked: None,
        }
    }

    /// An error status with no body.
    pub fn status(status: u16) -> Self {
        HttpAnswer {
            status,
            body: Vec::new(),
            chunked: None,
        }
    }

    /// The response bytes.
    pub fn encode(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            404 => "Not Found",
            503 => "Service Unavailable",
            _ => "Error",
        };
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason);
        head.push_str("Cache-Control: no-store\r\n");
        head.push_str("Content-type: */*\r\n");
        let mut out;
        match self.chunked {
            Some(size) => {
                head.push_str("Transfer-Encoding: chunked\r\n\r\n");
                out = head.into_bytes();
                for chunk in self.body.chunks(size.max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            None => {
                head.push_str(&format!("Content-length: {}\r\n\r\n", self.body.len()));
                out = head.into_bytes();
                out.extend_from_slice(&self.body);
            }
        }
        out
    }
}

/// One GET over its own connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGet {
    /// The phone and its source port.
    pub client: (Host, u16),
    /// The server and its port (6970).
    pub server: (Host, u16),
    /// Path without the leading `/` (the requested file name).
    pub path: String,
    /// The phone's `User-Agent`.
    pub user_agent: String,
    /// The answer.
    pub answer: HttpAnswer,
    /// Seed for the initial sequence numbers.
    pub isn_seed: u32,
    /// Capture impairments on the connection.
    pub impair: TcpImpair,
}

impl HttpGet {
    /// The request bytes.
    pub fn request(&self) -> Vec<u8> {
        let host = self.server.0.at(self.server.1);
        format!(
            "GET /{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            self.path, host, self.user_agent
        )
        .into_bytes()
    }

    /// Writes the connection starting at `start`; returns the time of its last packet.
    pub fn write(&self, trace: &mut Trace, start: i64) -> i64 {
        let mss = if self.client.0.ip.is_ipv6() {
            1440
        } else {
            1460
        };
        let mut conn = TcpConn::new(self.client, self.server, self.isn_seed, start)
            .with_mss(mss)
            .with_impair(self.impair.clone());
        conn.open(trace);
        conn.send(trace, Side::Client, &self.request());
        conn.send(trace, Side::Server, &self.answer.encode());
        conn.close(trace, Side::Server);
        conn.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse_with_httparse() {
        let ok = HttpAnswer::ok(b"hello world".to_vec()).encode();
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(&ok).expect("parses") {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("partial"),
        };
        assert_eq!(resp.code, Some(200));
        assert_eq!(&ok[n..], b"hello world");
        let chunked = HttpAnswer {
            status: 200,
            body: b"0123456789".to_vec(),
            chunked: Some(4),
        }
        .encode();
        assert!(chunked.ends_with(b"4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\n"));
        let unavailable = HttpAnswer::status(503).encode();
        assert!(unavailable.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(unavailable.ends_with(b"Content-length: 0\r\n\r\n"));
    }

    #[test]
    fn request_has_host_and_agent() {
        let g = HttpGet {
            client: (Host::new([2; 6], "192.0.2.10"), 50000),
            server: (Host::new([4; 6], "198.51.100.10"), 6970),
            path: "ITLSEP00112233AABB.tlv".into(),
            user_agent: "Cisco-CP8845/14.2.1".into(),
            answer: HttpAnswer::status(404),
            isn_seed: 1,
            impair: TcpImpair::default(),
        };
        let req = g.request();
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut r = httparse::Request::new(&mut headers);
        assert!(r.parse(&req).expect("parses").is_complete());
        assert_eq!(r.path, Some("/ITLSEP00112233AABB.tlv"));
        assert!(
            r.headers
                .iter()
                .any(|h| h.name == "Host" && h.value == b"198.51.100.10:6970")
        );
        let mut t = Trace::new();
        let end = g.write(&mut t, 0);
        assert!(end > 0);
        assert!(t.len() >= 9);
    }
}
