//! `analyze --json` is written element by element: writing a report of tens of thousands of
//! file transfers must not hold memory proportional to the report. A counting allocator
//! measures the heap the writing itself takes, against the size of what it wrote.

use itlscope::capture::Timestamp;
use itlscope::diagnosis::{OperatorFacts, diagnose};
use itlscope::evidence::{Endpoint, Evidence, FileTransfer, FileTransport, HexDigest, Seen};
use std::sync::atomic::Ordering;

mod counting_alloc;
use counting_alloc::{CURRENT, Count, PEAK};

fn transfer(phone: u8, n: u64) -> FileTransfer {
    let seen = Seen {
        capture: 0,
        frame: n * 2 + 1,
        ts: Timestamp::from_parts(1_767_225_600 + i64::try_from(n).unwrap_or(0), 0),
    };
    FileTransfer {
        // Signed (`.sgn`), as phones fetch them: a file only a phone asks for (issue 19 item 6).
        name: format!("Desktops/320x196x4/background-{n:06}.png.sgn"),
        transport: FileTransport::Tftp,
        client: Endpoint {
            ip: [10, 0, 0, phone].into(),
            port: 50_000,
        },
        server: Endpoint {
            ip: [10, 0, 0, 1].into(),
            port: 69,
        },
        size: Some(4096),
        complete: true,
        // The hex `00…`, `11…`, `22…`.
        md5: Some(HexDigest([0; 16])),
        sha1: Some(HexDigest([0x11; 20])),
        sha256: Some(HexDigest([0x22; 32])),
        first: seen,
        last: seen,
        ..Default::default()
    }
}

#[test]
fn the_json_report_is_written_without_holding_it() {
    // 40 phones × 1,000 downloads: one phone's view is small, the whole report is not.
    let mut evidence = Evidence::default();
    for phone in 0..40u8 {
        for n in 0..1_000u64 {
            evidence.files.push(transfer(phone + 10, n));
        }
    }
    let diagnosis = diagnose(&evidence, &OperatorFacts::default());
    assert_eq!(diagnosis.phones.len(), 40);

    let mut out = Count(0);
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    itlscope::report::json::write(&diagnosis, &evidence, &mut out).expect("written");
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);

    assert!(out.0 > 20_000_000, "the report is {} bytes", out.0);
    // Building the report whole would take at least its own size; element by element it
    // takes about one phone's view.
    assert!(
        peak * 10 < out.0,
        "writing a {}-byte report held {peak} bytes at once",
        out.0
    );

    // Control: the same measure sees a report built whole.
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let whole = itlscope::report::json::render(&diagnosis, &evidence);
    let whole_peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    drop(whole);
    assert!(
        whole_peak > out.0 / 2,
        "building the report whole took only {whole_peak} bytes"
    );
}
