//! TCP byte-level corner cases through the Collector: data on a SYN, a capture that starts
//! mid-connection with its first segments reordered, and RSTs outside the window.

mod reassembly_support;

use itlscope::evidence::TcpEnd;
use itlscope::proto::CollectorConfig;
use reassembly_support::*;

const CLIENT: &str = "10.1.1.20:40000";
const SERVER: &str = "10.1.1.1:6970";
const REQUEST: &[u8] = b"GET /ITLSEP0011.tlv HTTP/1.1\r\nHost: 10.1.1.1:6970\r\n\r\n";

fn itl() -> Vec<u8> {
    (0..3000u32).map(|i| (i * 13 % 251) as u8).collect()
}

fn response(body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn data_on_a_syn_keeps_its_first_byte() {
    // TCP Fast Open style: the request rides on the SYN.
    let mut c = Conv::new(CLIENT, SERVER, 1000, 5000);
    c.pkts.push(Pkt {
        src: c.client,
        dst: c.server,
        tcp: Some((1000, flags(true, false, false, false))),
        payload: REQUEST.to_vec(),
        truncated: false,
    });
    c.synack();
    c.cseq = 1001 + REQUEST.len() as u32;
    c.sseq = 5001;
    let body = itl();
    c.send(false, &response(&body), 1460);
    c.fin(true);
    c.fin(false);
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.files.len(), 1, "{:?}", out.files);
    let f = &out.files[0];
    assert_eq!(f.name, "ITLSEP0011.tlv", "{:?}", f.notes);
    // Losing the 'G' leaves "ET /ITLSEP0011.tlv": still a request line, method "ET".
    assert!(
        f.notes.iter().all(|n| !n.contains("request method")),
        "{:?}",
        f.notes
    );
    assert!(f.complete);
    assert_eq!(f.data, body);
}

#[test]
fn capture_starting_mid_connection_with_reordered_first_segments_loses_nothing() {
    // No handshake in the capture; the server's first two segments arrive swapped.
    let mut c = Conv::new(CLIENT, SERVER, 7_000_000, 9_000_000);
    c.send(true, REQUEST, 1460);
    let body = itl();
    c.send(false, &response(&body), 1000);
    let n = c.pkts.len();
    assert_eq!(n, 1 + 4);
    c.pkts.swap(1, 2);
    c.fin(true);
    c.fin(false);
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.files.len(), 1, "{:?}", out.files);
    let f = &out.files[0];
    assert_eq!(f.name, "ITLSEP0011.tlv");
    assert!(f.complete, "{:?} {:?}", f.error, f.notes);
    assert_eq!(f.data, body);
}

#[test]
fn rst_outside_the_window_is_ignored_and_counted() {
    let mut c = Conv::new(CLIENT, SERVER, 1000, 5000);
    c.open();
    c.send(true, REQUEST, 1460);
    let body = itl();
    let resp = response(&body);
    c.send(false, &resp[..1000], 1460);
    // A blind RST, far from the server's sequence numbers.
    c.pkts.push(Pkt {
        src: c.server,
        dst: c.client,
        tcp: Some((
            c.sseq.wrapping_add(0x4000_0000),
            flags(false, true, false, true),
        )),
        payload: Vec::new(),
        truncated: false,
    });
    c.send(false, &resp[1000..], 1460);
    c.fin(true);
    c.fin(false);
    let out = run(&c.pkts, CollectorConfig::default());
    let f = &out.files[0];
    assert!(f.complete, "{:?} {:?}", f.error, f.notes);
    assert_eq!(f.data, body);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("1 TCP RSTs outside the receiver's window were ignored")),
        "{:?}",
        out.notes
    );
}

#[test]
fn rst_in_the_window_still_ends_the_connection() {
    let mut c = Conv::new("10.1.1.20:40001", "10.1.1.1:2445", 1000, 5000);
    c.open();
    c.rst(false);
    let out = run(&c.pkts, CollectorConfig::default());
    assert_eq!(out.tls.len(), 1);
    assert_eq!(
        out.tls[0].end,
        TcpEnd::Reset(itlscope::evidence::Side::Server)
    );
    assert!(
        out.notes.iter().all(|n| !n.contains("RST")),
        "{:?}",
        out.notes
    );
}
