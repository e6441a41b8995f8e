//! Captures that arrive in a tunnel (a remote switch's ERSPAN session, GRE, VXLAN, MPLS,
//! PPPoE) give the same evidence and the same verdict as the phone's own port; what is not
//! decoded is counted and named in the capture summary (and so in the text and JSON
//! reports), never silently dropped.

use itlscope::capture::CaptureReader;
use itlscope::diagnosis::{OperatorFacts, diagnose};
use itlscope::evidence::{CaptureSummary, Evidence};
use itlscope::pipeline::{PipelineOptions, run};
use itlscope_gen::conv::Framing;
use itlscope_gen::scenarios::catalog;
use itlscope_gen::tunnel::Encap;
use std::io::Cursor;

/// The summary and evidence of a capture held in memory.
fn analyse(bytes: Vec<u8>) -> (CaptureSummary, Evidence) {
    let reader =
        CaptureReader::from_reader("mem.pcap", Box::new(Cursor::new(bytes))).expect("capture");
    let result = run(reader, &PipelineOptions::default());
    let summary = result.summary.clone();
    (summary, result.into_evidence())
}

/// What must not change with the framing: every file (name, bytes, completeness), the TLS
/// sessions, each phone's MAC, address, verdict, conditions and check outcomes (the TVS
/// certificate check compares the certificates).
fn facts(evidence: &Evidence) -> Vec<String> {
    let mut out = Vec::new();
    for f in &evidence.files {
        out.push(format!(
            "file {} {:?} {} {} complete={} error={:?}",
            f.name,
            f.transport,
            f.client.ip,
            f.data.len(),
            f.complete,
            f.error
        ));
        out.push(format!("bytes {:?}", &f.data));
    }
    out.push(format!("{} TLS sessions", evidence.tls.len()));
    let diagnosis = diagnose(evidence, &OperatorFacts::default());
    for p in &diagnosis.phones {
        out.push(format!(
            "phone {:?} {:?} {:?} {:?}",
            p.mac, p.ip, p.verdict.delete_itl, p.verdict.conditions
        ));
        for c in &p.checks {
            out.push(format!("check {} {:?}", c.id, c.status));
        }
    }
    out
}

fn boot(framing: Framing) -> Vec<u8> {
    let mut s = catalog::by_file("healthy-tftp-boot.pcap").expect("scenario");
    s.framing = framing;
    s.capture()
}

#[test]
fn every_encapsulation_gives_the_phone_port_verdict() {
    let (_, plain) = analyse(boot(Framing::Ethernet { vlans: vec![100] }));
    let want = facts(&plain);
    assert!(
        want.iter().any(|l| l.starts_with("phone Some(")),
        "the plain boot has a phone: {want:?}"
    );
    for encap in Encap::DECODED {
        let (summary, tunnelled) = analyse(boot(Framing::Tunnel {
            encap,
            vlans: vec![100],
        }));
        assert_eq!(facts(&tunnelled), want, "{encap:?}");
        assert!(
            summary.skipped.is_empty(),
            "{encap:?}: {:?}",
            summary.skipped
        );
        assert_eq!(summary.malformed, 0, "{encap:?}");
        assert!(
            !summary.encapsulations.is_empty() && summary.encapsulations[0].frames > 0,
            "{encap:?}: {:?}",
            summary.encapsulations
        );
    }
}

#[test]
fn erspan_type_ii_vlan_and_outer_fragments() {
    let (summary, evidence) = analyse(boot(Framing::Tunnel {
        encap: Encap::ErspanII { vlan: 100 },
        vlans: vec![100],
    }));
    assert_eq!(summary.encapsulations.len(), 1);
    assert_eq!(summary.encapsulations[0].id, "erspan-ii");
    // Mirrored frames over ~1,450 bytes came as two outer fragments each: more frames than
    // packets unwrapped, yet every file is whole.
    assert!(summary.frames > summary.encapsulations[0].frames);
    assert!(
        evidence
            .files
            .iter()
            .all(|f| f.complete || f.error.is_some())
    );
}

#[test]
fn undecoded_gre_is_counted_and_named() {
    let (summary, evidence) = analyse(boot(Framing::Tunnel {
        encap: Encap::GreUnknown,
        vlans: vec![],
    }));
    assert!(evidence.files.is_empty());
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    let k = &summary.skipped[0];
    assert_eq!(k.reason, "gre-protocol");
    assert_eq!(k.code, Some(0x880b));
    assert!(k.detail.contains("0x880b"), "{}", k.detail);
    // Every packet: all frames but the first fragments of the outer packets too big for
    // one frame (those complete a packet with their second fragment).
    assert!(k.frames > 0 && k.frames <= summary.frames, "{k:?}");
}

#[test]
fn skipped_frames_reach_the_text_and_json_reports() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("gre.pcap");
    std::fs::write(
        &path,
        boot(Framing::Tunnel {
            encap: Encap::GreUnknown,
            vlans: vec![],
        }),
    )
    .expect("write");
    let bin = env!("CARGO_BIN_EXE_itlscope");
    let text = std::process::Command::new(bin)
        .arg("analyze")
        .arg(&path)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("GRE carrying protocol type 0x880b"), "{text}");
    assert!(
        text.contains("the phone's traffic may be among them"),
        "{text}"
    );
    let json = std::process::Command::new(bin)
        .arg("analyze")
        .arg("--json")
        .arg(&path)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let skipped = &v["captures"][0]["skipped"][0];
    assert_eq!(skipped["reason"], "gre-protocol", "{v}");
    assert_eq!(skipped["code"], 0x880b, "{v}");
}
