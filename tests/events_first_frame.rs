//! Issue 19: every limit event says where it happened. Each kind below used to carry no
//! frame (`first_frame: null`); each test builds packets that meet exactly one limit, checks
//! the event's first frame, and checks that it is the first: the packets up to that frame
//! meet the limit, the packets before it do not. The words say "first at frame N" (and for
//! out-of-order skips the connection, for refused phone hosts the host).
//!
//! `oversized-record` stays without a frame on purpose (the skipped record is not a frame;
//! its byte offset says where it is): tests/issue19_limits.rs checks that.

mod reassembly_support;

use itlscope::events::LimitEvent;
use itlscope::proto::CollectorConfig;
use itlscope::report::limits::limit_text;
use reassembly_support::*;

const CUCM: &str = "10.9.0.1";
const PHONE: &str = "10.0.0.5";

/// The event of `kind` the packets give, if any.
fn event(pkts: &[Pkt], config: &CollectorConfig, kind: &str) -> Option<LimitEvent> {
    run(pkts, config.clone())
        .limits_hit
        .into_iter()
        .find(|e| e.kind() == kind)
}

/// Checks that the event of `kind` is dated at `expected`, and that this frame is where the
/// limit was first met: the packets up to it give the event, the packets before it do not.
fn assert_first_frame(pkts: &[Pkt], config: &CollectorConfig, kind: &str, expected: u64) {
    let e = event(pkts, config, kind).unwrap_or_else(|| panic!("no {kind} event"));
    assert_eq!(e.first_frame(), Some(expected), "{e:?}");
    let words = limit_text(&e);
    assert!(
        words.contains(&format!("; first at frame {expected}")),
        "{words}"
    );
    let upto = usize::try_from(expected).expect("frame");
    assert!(
        event(&pkts[..upto], config, kind).is_some(),
        "the packets up to frame {expected} meet the limit"
    );
    assert!(
        event(&pkts[..upto - 1], config, kind).is_none(),
        "the packets before frame {expected} do not meet the limit"
    );
}

/// A TFTP read of `blocks` full blocks and a short last one: RRQ, then DATA/ACK pairs.
fn tftp_download(client: &str, name: &str, blocks: u16, tid: u16) -> Vec<Pkt> {
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(name.as_bytes());
    rrq.extend_from_slice(b"\0octet\0");
    let server = format!("{CUCM}:{tid}");
    let mut pkts = vec![udp(client, &format!("{CUCM}:69"), rrq)];
    for n in 1..=blocks + 1 {
        let mut data = vec![0, 3];
        data.extend_from_slice(&n.to_be_bytes());
        let len = if n <= blocks { 512 } else { 100 };
        data.resize(4 + len, b'x');
        pkts.push(udp(&server, client, data));
        let mut ack = vec![0, 4];
        ack.extend_from_slice(&n.to_be_bytes());
        pkts.push(udp(client, &server, ack));
    }
    pkts
}

/// Statement 6 (the phone downloads its trust list and config): the all-files byte budget
/// refuses a block; the event is dated at the DATA packet whose bytes were refused.
#[test]
fn file_total_refusals_are_dated_at_the_refused_block_statement_6() {
    let config = CollectorConfig {
        max_total_file_bytes: 1200,
        ..CollectorConfig::default()
    };
    let pkts = tftp_download(
        &format!("{PHONE}:50000"),
        "ITLSEP001122334455.tlv",
        4,
        40000,
    );
    // Frames: 1 RRQ, then DATA 2, ACK 3, DATA 4, ACK 5, DATA 6 (bytes 1025..1536: over 1200).
    assert_first_frame(&pkts, &config, "file-total-refusals", 6);
}

/// An HTTP download (TCP 6970) whose client stream has a hole: the out-of-order limit of
/// 300 bytes per stream forces a skip at the segment that would hold more.
#[test]
fn out_of_order_skips_are_dated_at_the_segment_that_forced_one() {
    let config = CollectorConfig {
        stream_buffer_cap: 300,
        ..CollectorConfig::default()
    };
    let mut c = Conv::new(
        &format!("{PHONE}:50001"),
        &format!("{CUCM}:6970"),
        1000,
        9000,
    );
    c.open(); // frames 1-3
    c.send(true, b"GET /ITLFile.tlv HTTP/1.1\r\n", 1460); // frame 4
    let base = c.cseq;
    let ahead = |at: u32| Pkt {
        src: c.client,
        dst: c.server,
        tcp: Some((base.wrapping_add(at), flags(false, true, false, false))),
        payload: vec![b'a'; 200],
        truncated: false,
    };
    // Bytes 0..100 never come: 200 bytes held (frame 5), 200 more do not fit (frame 6).
    let mut pkts = c.pkts.clone();
    pkts.push(ahead(100));
    pkts.push(ahead(300));
    pkts.push(ahead(500));
    assert_first_frame(&pkts, &config, "tcp-out-of-order-skips", 6);
    // And on which connection: the words name it.
    let e = event(&pkts, &config, "tcp-out-of-order-skips").expect("skips");
    assert!(
        limit_text(&e).ends_with("; first at frame 6 (10.0.0.5:50001 → 10.9.0.1:6970)"),
        "{}",
        limit_text(&e)
    );
}

/// Statement 29 (the phone asks TVS): a SIP message on TCP announcing a body over the
/// 64 KiB message limit is skipped; the event is dated at the segment ending its head.
#[test]
fn sip_tcp_oversize_is_dated_at_the_segment_that_announced_it() {
    let mut c = Conv::new(&format!("{PHONE}:50002"), &format!("{CUCM}:5060"), 5, 6);
    c.open(); // frames 1-3
    c.send(
        true,
        b"OPTIONS sip:cucm SIP/2.0\r\nContent-Length: 0\r\n\r\n",
        1460,
    ); // frame 4: read
    let body = vec![b'p'; 70_000];
    let head = format!(
        "REFER sip:cucm SIP/2.0\r\nContent-Type: application/x-cisco-alarm+xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    c.send(true, head.as_bytes(), 1460); // frame 5: the head says 70 000 bytes follow
    c.send(true, &body, 1460);
    assert_first_frame(&c.pkts, &CollectorConfig::default(), "sip-tcp-oversize", 5);
}

/// A PC's HTTPS (not a phone's): with room for one aggregate, the session to a second
/// server is not summed; the event is dated at that session's first frame.
#[test]
fn tls_not_summed_is_dated_at_the_first_session_left_out() {
    use reassembly_support::tls;
    let config = CollectorConfig {
        max_records: 1,
        max_other_tls_sessions: 0,
        ..CollectorConfig::default()
    };
    let hello = tls::client_hello(0x0303, &[0x002f], &[], Some("example.org"));
    let mut pkts = Vec::new();
    for server in ["10.8.0.1:443", "10.8.0.2:443"] {
        let mut c = Conv::new("10.7.0.9:40000", server, 100, 900);
        let flight = tls::records(tls::content::HANDSHAKE, 0x0301, &hello, 16384);
        c.send(true, &flight, 1460);
        c.fin(true);
        c.fin(false);
        pkts.extend(c.pkts);
    }
    // Frames: 1 ClientHello, 2-3 FINs to the first server; 4 ClientHello to the second.
    assert_first_frame(&pkts, &config, "tls-not-summed", 4);
}

/// Issue 19 item 6 (what a phone does: asks for files over TFTP): the 65 537th host that
/// asks is not remembered as a phone; the event is dated at its request.
#[test]
fn phone_hosts_refused_are_dated_at_the_first_host_refused() {
    let max = itlscope::proto::sessions::MAX_PHONE_HOSTS;
    let pkts: Vec<Pkt> = (0..=max)
        .map(|i| {
            let client = format!(
                "10.{}.{}.{}:50000",
                1 + i / 65_536,
                (i / 256) % 256,
                i % 256
            );
            let rrq = b"\0\x01SEP001122334455.cnf.xml\0octet\0".to_vec();
            udp(&client, &format!("{CUCM}:69"), rrq)
        })
        .collect();
    let config = CollectorConfig::default();
    let e = event(&pkts, &config, "phone-hosts-refused").expect("refused");
    let last = u64::try_from(max).expect("fits") + 1;
    assert_eq!((e.count(), e.first_frame()), (1, Some(last)), "{e:?}");
    // The host refused is the last one that asked: 10.2.0.0.
    assert!(
        limit_text(&e).ends_with(&format!("; first at frame {last} (10.2.0.0)")),
        "{}",
        limit_text(&e)
    );
}
