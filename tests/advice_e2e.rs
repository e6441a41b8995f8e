//! Issue 11's wrong answers, end to end on the shipped captures: advice that does not follow
//! from the evidence, `--phone-itl` files that are not ITLs, and several captures in one run.

use assert_cmd::Command;
use scenarios_support::repo;
use serde_json::Value;

mod scenarios_support;

/// Runs `itlscope ARGS` from the repository root.
fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs")
}

/// `analyze --json ARGS`, which must succeed: the JSON object.
fn analyze_json(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--json"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// The one phone's verdict object.
fn verdict(v: &Value) -> &Value {
    let phones = v["phones"].as_array().expect("phones");
    assert_eq!(phones.len(), 1, "{phones:?}");
    &phones[0]["verdict"]
}

#[test]
fn files_that_are_not_an_itl_are_refused_as_phone_itl() {
    let cases = [
        ("tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv", "a CTL"),
        (
            "tests/fixtures/real/dkgroot-provision_sccp/term45.default.loads",
            "a signed file",
        ),
        ("captures/lossy-capture.pcap", "a pcap capture"),
        ("captures/README.md", "a text file"),
    ];
    for (file, what) in cases {
        let out = run(&[
            "analyze",
            "captures/healthy-tftp-boot.pcap",
            "--phone-itl",
            file,
            "--phone-status",
            "failed",
            "--key-backup",
            "no",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(file), "{file}: {err}");
        assert!(err.contains(&format!("this is {what}")), "{file}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{file}: no report for a refused option"
        );
    }
}

/// The ids of the one phone's next steps.
fn step_ids(v: &Value) -> Vec<String> {
    verdict(v)["next_steps"]
        .as_array()
        .expect("next_steps")
        .iter()
        .map(|s| s["id"].as_str().expect("step id").to_string())
        .collect()
}

#[test]
fn a_key_restore_is_advised_only_when_the_phone_cannot_take_the_served_signer() {
    // Issue 11: each of these advised "Restore CallManager.pem … then reset the phone".
    let runs: [&[&str]; 4] = [
        &[
            "captures/healthy-tftp-boot.pcap",
            "--phone-status",
            "ok",
            "--key-backup",
            "yes",
        ],
        &[
            "captures/expired-tvs-cert.pcap",
            "--phone-itl-hash",
            "efb2291c08278a713e395a7ba6fa6104e488817e",
            "--phone-status",
            "failed",
            "--key-backup",
            "yes",
        ],
        &[
            "captures/moved-cluster-unprepared.pcap",
            "--phone-itl",
            "captures/moved-cluster-unprepared.phone-itl.tlv",
            "--phone-status",
            "failed",
            "--key-backup",
            "yes",
        ],
        &[
            "captures/centralized-tftp-itlfile.pcap",
            "--phone-itl",
            "captures/centralized-tftp-itlfile.phone-itl.tlv",
            "--phone-status",
            "failed",
            "--key-backup",
            "yes",
        ],
    ];
    for args in runs {
        let v = analyze_json(args);
        let steps = verdict(&v)["next_steps"].to_string();
        assert!(!steps.contains("Restore"), "{args:?}: {steps}");
        assert!(
            !step_ids(&v).contains(&"restore-tftp-key".to_string()),
            "{args:?}"
        );
    }
    // The moved phone trusts another cluster's signer: the backup is said not to apply.
    let v = analyze_json(runs[2]);
    assert_eq!(
        step_ids(&v),
        ["bulk-certificate-management", "key-backup-does-not-apply"]
    );
    // Where the served ITL is signed by a regenerated key the phone's ITL knows by name and
    // the phone cannot take it, the restore is the step.
    let v = analyze_json(&[
        "captures/cm-and-tvs-regenerated.pcap",
        "--phone-itl",
        "captures/cm-and-tvs-regenerated.phone-itl.tlv",
        "--phone-status",
        "failed",
        "--key-backup",
        "yes",
    ]);
    // ITLRecovery is still served: `utils itl reset localkey` comes before a restore.
    assert_eq!(step_ids(&v), ["utils-itl-reset", "restore-tftp-key"]);
    let because = verdict(&v)["next_steps"][1]["because"].to_string();
    assert!(because.contains("no_key_backup = false"), "{because}");
    assert!(because.contains("is not in the phone's ITL"), "{because}");
}

#[test]
fn a_completed_tvs_handshake_contradicts_a_phone_itl_without_that_certificate() {
    // A real ITL with no TVS record given as the phone's: the phone nonetheless completed the
    // TVS handshake, so "TVS's certificate is not in the phone's ITL" cannot be true.
    let v = analyze_json(&[
        "captures/healthy-tftp-boot.pcap",
        "--phone-itl",
        "tests/fixtures/real/csptechnologies-ciscoprovsionerweb/ITLFile.tlv",
        "--phone-status",
        "failed",
        "--key-backup",
        "no",
    ]);
    let verdict = verdict(&v);
    assert_eq!(verdict["conditions"]["tvs_cert_mismatch"], Value::Null);
    assert_ne!(verdict["delete_itl"], "required");
    let why = verdict["condition_details"]["tvs_cert_mismatch"]["explanation"]
        .as_str()
        .unwrap();
    assert!(
        why.contains("yet the phone completed the handshake"),
        "{why}"
    );
    assert!(
        step_ids(&v).contains(&"check-phone-itl".to_string()),
        "{:?}",
        step_ids(&v)
    );
}

#[test]
fn a_phone_itl_hash_that_disagrees_with_the_file_is_a_warning() {
    // The file is the served ITL; the hash is another ITL's.
    let v = analyze_json(&[
        "captures/healthy-tftp-boot.pcap",
        "--phone-itl",
        "captures/healthy-tftp-boot.phone-itl.tlv",
        "--phone-itl-hash",
        "e654ce8e7e31627f5fdc83b7f446384ebb7aac19",
    ]);
    let notes = v["notes"].to_string();
    assert!(notes.contains("warning: --phone-itl-hash"), "{notes}");
    assert!(notes.contains("disagrees with --phone-itl"), "{notes}");
    let verdict = verdict(&v);
    assert_eq!(verdict["conditions"]["itl_differs"], Value::Null);
    let why = verdict["condition_details"]["itl_differs"]["explanation"]
        .as_str()
        .unwrap();
    // Said by the diagnosis's own check or by the sources-conflict rule, whichever decides.
    assert!(
        why.contains("one of them is not this phone's ITL") || why.contains("sources disagree"),
        "{why}"
    );
    // The text report shows it too.
    let out = run(&[
        "analyze",
        "captures/healthy-tftp-boot.pcap",
        "--phone-itl",
        "captures/healthy-tftp-boot.phone-itl.tlv",
        "--phone-itl-hash",
        "e654ce8e7e31627f5fdc83b7f446384ebb7aac19",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: --phone-itl-hash"));
}

#[test]
fn several_captures_name_their_frames_and_order_the_timeline_by_time() {
    // The same phone (00005E005322) boots in both captures, which start at the same second:
    // frame numbers repeat across the files and interleave in time.
    let args = [
        "captures/cm-regenerated-tvs-ok.pcap",
        "captures/healthy-http-boot.pcap",
        "--phone-status",
        "ok",
    ];
    let v = analyze_json(&args);
    let phones = v["phones"].as_array().expect("phones");
    assert_eq!(phones.len(), 1, "one MAC, one phone");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("SEP00005E005322 is in 2 captures")
            && notes.contains("captures/healthy-http-boot.pcap")
            && notes.contains("merged"),
        "{notes}"
    );
    let timeline = phones[0]["timeline"].as_array().expect("timeline");
    let times: Vec<&str> = timeline
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let frames: Vec<u64> = timeline
        .iter()
        .map(|e| e["frame"].as_u64().unwrap())
        .collect();
    assert!(
        frames.windows(2).any(|w| w[0] > w[1]),
        "frames interleave: {frames:?}"
    );
    let captures: Vec<u64> = timeline
        .iter()
        .map(|e| e["capture"].as_u64().expect("capture index"))
        .collect();
    assert!(
        captures.contains(&0) && captures.contains(&1),
        "{captures:?}"
    );
    // Every evidence item from a capture says which one.
    for check in phones[0]["checks"].as_array().unwrap() {
        for item in check["evidence"].as_array().unwrap() {
            assert_eq!(item["frame"].is_null(), item["capture"].is_null(), "{item}");
        }
    }
    for file in v["files"].as_array().unwrap() {
        assert!(file["first"]["capture"].as_u64().is_some(), "{file}");
    }
    // The served ITL is the last downloaded by time (healthy-http-boot's, at 09:00:00.159).
    assert_eq!(phones[0]["served_itl"]["capture"], 1);
    // The text report names the capture with each frame, the timeline included.
    let out = run(&[&["analyze"][..], &args[..]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("captures/healthy-http-boot.pcap#16"),
        "{text}"
    );
    assert!(
        text.contains("captures/cm-regenerated-tvs-ok.pcap#34"),
        "{text}"
    );
    assert!(!text.contains("\n    frame "), "{text}");
    // One capture keeps plain frame numbers.
    let out = run(&["analyze", "captures/healthy-http-boot.pcap"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\n    frame ") && !text.contains(".pcap#"),
        "{text}"
    );
}
