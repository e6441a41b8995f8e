//! Scaling of the diagnosis with many phones (issue 19, "no superlinear path"): every
//! phone of a voice VLAN fetched its CTL (not found), the cluster's ITL and its config over
//! TFTP, and opened TLS to TVS. The work counted is the heap allocations the diagnosis
//! makes (a counting allocator in this test binary: operations, never time); ten times the
//! phones must cost at most about ten times the work.

mod scaling_support;

use itlscope::capture::Timestamp;
use itlscope::diagnosis::diagnose;
use itlscope::diagnosis::facts::OperatorFacts;
use itlscope::evidence::{Endpoint, Evidence, FileTransfer, FileTransport, Seen, TlsSession};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts allocations (and reallocations) of the whole test binary.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on unchanged to the system allocator; only a counter is
// added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees for `layout` are passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The cluster's ITL, the same file for every phone (statement 5's records).
const ITL: &[u8] = include_bytes!("fixtures/trustlists/ITLFile-sha256-2048.tlv");

fn seen(frame: u64) -> Seen {
    Seen {
        capture: 0,
        frame,
        ts: Timestamp::from_parts(1_767_225_600 + (frame / 1000) as i64, 0),
    }
}

fn endpoint(ip: String, port: u16) -> Endpoint {
    Endpoint {
        ip: ip.parse().expect("ip"),
        port,
    }
}

/// `n` phones, each with statement 6's boot downloads and a TVS session (statement 17).
fn evidence(n: usize) -> Evidence {
    let mut ev = Evidence::default();
    let tftp = endpoint("10.0.0.1".into(), 69);
    for i in 0..n {
        let ip = format!("10.{}.{}.{}", 1 + (i >> 16), (i >> 8) & 255, i & 255);
        let mac = format!("0011AA{:06X}", i);
        let frame = 10 * i as u64 + 1;
        let file = |name: String, data: &[u8], at: u64| FileTransfer {
            name,
            transport: FileTransport::Tftp,
            client: endpoint(ip.clone(), 50_000),
            server: tftp,
            data: data.into(),
            size: Some(data.len() as u64),
            complete: true,
            first: seen(at),
            last: seen(at + 1),
            ..FileTransfer::default()
        };
        let mut ctl = file(format!("CTLSEP{mac}.tlv"), b"", frame);
        ctl.complete = false;
        ctl.size = None;
        ctl.tftp_error_code = Some(1);
        ctl.error = Some("TFTP error 1: File not found".into());
        ev.files.push(ctl);
        ev.files
            .push(file(format!("ITLSEP{mac}.tlv"), ITL, frame + 2));
        let config =
            format!("<device><deviceProtocol>SIP</deviceProtocol><name>SEP{mac}</name></device>");
        ev.files.push(file(
            format!("SEP{mac}.cnf.xml"),
            config.as_bytes(),
            frame + 4,
        ));
        ev.tls.push(TlsSession {
            client: endpoint(ip.clone(), 40_000),
            server: endpoint("10.0.0.2".into(), 2445),
            service: Some("tvs".into()),
            first: seen(frame + 6),
            last: seen(frame + 8),
            ..TlsSession::default()
        });
    }
    ev
}

/// Allocations made by diagnosing [`evidence`]`(n)`.
fn work(n: usize) -> u64 {
    let ev = evidence(n);
    let facts = OperatorFacts::default();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let diagnosis = diagnose(&ev, &facts);
    let work = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(diagnosis.phones.len(), n, "{:?}", diagnosis.notes);
    drop(diagnosis);
    work
}

#[test]
fn diagnosing_many_phones_grows_linearly() {
    scaling_support::assert_linear("phones", 200, work);
}
