//! `itlscope plan` on the command line: `show itl` text as input, and bad input named with a
//! clear reason and exit status (1 unreadable input, 2 usage), never a panic.

use assert_cmd::Command;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = Command::cargo_bin("itlscope")
        .expect("itlscope binary")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("itlscope runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const ITL: &str = "captures/cm-and-tvs-regenerated.phone-itl.tlv";
const SHOW_ITL: &str = "captures/tvs-tls13.show-itl.txt";

#[test]
fn show_itl_text_is_a_phone_itl() {
    let out = run(&["plan", SHOW_ITL, "--regenerate", "tvs", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(plan["phone_itl"]["source"], "show-itl");
    // The SHA-1 CUCM printed for the file it serves.
    assert_eq!(
        plan["phone_itl"]["sha1"],
        "406346de8fff02c4fe7aa459da9cfe997139e73c"
    );
    let text = run(&["plan", SHOW_ITL, "--regenerate", "tvs"]);
    assert_eq!(text.code, Some(0));
    assert!(text.stdout.contains("(`show itl` text)"), "{}", text.stdout);
}

#[test]
fn text_output_names_the_steps_and_the_recovery() {
    let out = run(&[
        "plan",
        ITL,
        "--regenerate",
        "callmanager",
        "--regenerate",
        "tvs",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for says in [
        "All at once, as requested: NOT SAFE",
        "[FAILS] regenerate CallManager, regenerate TVS",
        "utils itl reset localkey",
        "Safe order:",
        "then wait until every phone has downloaded the new ITL",
        "offline-during-the-change",
    ] {
        assert!(out.stdout.contains(says), "{says}: {}", out.stdout);
    }
}

#[test]
fn bad_input_is_named_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let no_signer = dir.path().join("show-itl.txt");
    let text = std::fs::read_to_string(repo().join(SHOW_ITL)).expect("show itl text");
    std::fs::write(
        &no_signer,
        text.replace("This etoken was used", "This etoken was not used"),
    )
    .expect("write");
    let no_signer = no_signer.to_str().expect("utf-8");
    let cases: [(&[&str], i32, &str); 10] = [
        (
            &[
                "plan",
                "tests/fixtures/trustlists/SEP001122334455.cnf.xml.sgn",
                "--regenerate",
                "tvs",
            ],
            1,
            "is a signed file",
        ),
        (
            &[
                "plan",
                "tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv",
                "--regenerate",
                "tvs",
            ],
            1,
            "is a CTL, not an ITL",
        ),
        (
            &[
                "plan",
                "captures/healthy-tftp-boot.pcap",
                "--regenerate",
                "tvs",
            ],
            1,
            "this is a pcap capture",
        ),
        (
            &["plan", "/nonexistent.tlv", "--regenerate", "tvs"],
            1,
            "/nonexistent.tlv",
        ),
        (
            &["plan", no_signer, "--regenerate", "tvs"],
            1,
            "which key signs",
        ),
        (
            &["plan", ITL, "--replace", "callmanager=README.md"],
            1,
            "README.md",
        ),
        (&["plan", ITL], 2, "no change given"),
        (
            &["plan", ITL, "--regenerate", "tvs", "--regenerate", "tvs"],
            2,
            "TVS is changed twice",
        ),
        (&["plan", ITL, "--hostname", ""], 2, "expected a host name"),
        (
            &["plan", ITL, "--regenerate", "tomcat"],
            2,
            "expected callmanager",
        ),
    ];
    for (args, code, says) in cases {
        let out = run(args);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        // No Rust debug formatting of parser errors.
        assert!(!out.stderr.contains("Der("), "{args:?}: {}", out.stderr);
    }
}

/// `show itl` text of a two-node cluster: the TFTP node `pub` (CallManager, TVS, ITLRecovery)
/// and a second node `sub` whose TVS record the ITL also lists (statement 5: one TVS entry per
/// server). Written into `dir`; returns its path.
fn two_node_show_itl(dir: &std::path::Path, pub_: &str, sub: &str) -> String {
    let text = std::fs::read_to_string(repo().join(SHOW_ITL)).expect("show itl text");
    let text = text
        .replace("cucm-pub.example.com", &format!("{pub_}.example.com"))
        .replace("cucm-pub", pub_);
    let second = format!(
        "
        ITL Record #:5
        ----
BYTEPOS TAG             LENGTH  VALUE
------- ---             ------  -----
1       RECORDLENGTH    2       745
2       DNSNAME         8       {sub}
3       SUBJECTNAME     69      CN={sub}.example.com;OU=VTG;O=Example Lab;L=Springfield;ST=IL;C=US
4       FUNCTION        2       TVS
5       ISSUERNAME      69      CN={sub}.example.com;OU=VTG;O=Example Lab;L=Springfield;ST=IL;C=US
6       SERIALNUMBER    8       3A:11:22:33:44:55:66:77
7       PUBLICKEY       270
8       CERTHASH        20      D1 D2 D3 D4 D5 D6 D7 D8 D9 DA DB DC DD DE DF E0 E1 E2 E3 E4
9       HASH ALGORITHM  1       SHA-1
"
    );
    // The second TVS record goes right after the first one (before the verification line).
    let at = text
        .find("9       HASH ALGORITHM  1       SHA-1")
        .map(|i| i + "9       HASH ALGORITHM  1       SHA-1\n".len())
        .expect("the TVS record");
    let text = format!("{}{second}{}", &text[..at], &text[at..]);
    let path = dir.join(format!("{pub_}-{sub}.show-itl.txt"));
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

fn json(out: &Out) -> serde_json::Value {
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("JSON")
}

#[test]
fn statements_22_31_two_nodes_both_at_once_is_safe_only_for_groups_with_an_unchanged_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    let itl = two_node_show_itl(dir.path(), "cucm-pub", "cucm-sub");
    let both = ["--regenerate", "callmanager", "--regenerate", "tvs"];
    let args = |extra: &[&str]| {
        let mut a = vec!["plan", itl.as_str()];
        a.extend(both);
        a.extend(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run_owned = |a: Vec<String>| run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let text = run_owned(args(&[]));
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    let stdout = &text.stdout;
    assert!(
        !stdout.contains("All at once, as requested: safe for phones"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "All at once, as requested: safe only for phones whose CallManager group holds an unchanged node (cucm-sub.example.com)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("statements 21, 22"), "{stdout}");
    assert!(stdout.contains("no --cm-group given"), "{stdout}");
    // The wait of the step that regenerates TVS names the TVS that vouched, not "TVS unchanged".
    let requested = stdout
        .split("Safe order")
        .next()
        .expect("the requested steps");
    assert!(
        !requested.contains("keeping the TVS certificate unchanged"),
        "{requested}"
    );
    assert!(
        requested.contains("keeping the TVS certificate of cucm-sub.example.com"),
        "{requested}"
    );
    let plan = json(&run_owned(args(&["--json"])));
    let req = &plan["as_requested"];
    assert_eq!(req["safe"], false);
    assert_eq!(
        req["verdict"],
        "safe-only-if-cm-group-holds-an-unchanged-node"
    );
    assert_eq!(
        req["safe_if_cm_group_holds"],
        serde_json::json!(["cucm-sub.example.com"])
    );
    assert_eq!(
        req["stranded_if_cm_group_is_only"],
        serde_json::json!(["cucm-pub.example.com"])
    );
    assert_eq!(plan["safe_order"]["verdict"], "safe");
    // Statement 10: the CallManager group decides. Only the regenerated node: not safe.
    let only_pub = json(&run_owned(args(&["--json", "--cm-group", "cucm-pub"])));
    assert_eq!(only_pub["as_requested"]["verdict"], "not-safe");
    assert!(
        only_pub["assumptions"]
            .as_array()
            .expect("assumptions")
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.contains("group is cucm-pub"))),
        "{}",
        only_pub["assumptions"]
    );
    let group = json(&run_owned(args(&[
        "--json",
        "--cm-group",
        "cucm-pub,cucm-sub",
    ])));
    assert_eq!(group["as_requested"]["verdict"], "safe");
    // At most 3 nodes, each one the ITL names (whole).
    let four = run_owned(args(&["--cm-group", "cucm-pub,cucm-sub,c,d"]));
    assert_eq!(four.code, Some(2), "{}", four.stderr);
    assert!(four.stderr.contains("statement 10"), "{}", four.stderr);
    let partial = run_owned(args(&["--cm-group", "cucm-su"]));
    assert_eq!(partial.code, Some(2), "{}", partial.stderr);
    assert!(
        partial.stderr.contains("no TVS of a node named cucm-su"),
        "{}",
        partial.stderr
    );
}

#[test]
fn statement_28_node_names_are_matched_whole_cucm1_is_not_cucm10() {
    let dir = tempfile::tempdir().expect("temp dir");
    let itl = two_node_show_itl(dir.path(), "cucm1", "cucm10");
    let out = run(&["plan", &itl, "--hostname", "newpub", "--json"]);
    let plan = json(&out);
    let step = &plan["as_requested"]["steps"][0];
    // cucm10 keeps its TVS and vouches for the renamed node's new signer.
    assert_eq!(step["itl"]["via"], "via-tvs", "{step}");
    let why = step["itl"]["explanation"].as_str().expect("explanation");
    assert!(why.contains("TVS cucm10.example.com (serial"), "{why}");
    assert!(!out.stdout.contains("newpub0"), "{}", out.stdout);
    // Only cucm1's TVS changes with tvs@cucm1; a group of cucm10 alone still gets it through.
    let tvs = json(&run(&[
        "plan",
        &itl,
        "--regenerate",
        "tvs@cucm1",
        "--regenerate",
        "callmanager",
        "--cm-group",
        "cucm10",
        "--json",
    ]));
    assert_eq!(tvs["as_requested"]["verdict"], "safe", "{tvs}");
    assert_eq!(tvs["change"][0], "regenerate TVS on cucm1");
    let bad = run(&["plan", &itl, "--hostname", "cucm=x"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("no node named cucm"), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("cucm1.example.com, cucm10.example.com"),
        "{}",
        bad.stderr
    );
}

#[test]
fn statement_31_renaming_every_node_at_once_strands_and_tvs_at_all_is_expressible() {
    let dir = tempfile::tempdir().expect("temp dir");
    let itl = two_node_show_itl(dir.path(), "cucm-pub", "cucm-sub");
    let all = json(&run(&[
        "plan",
        &itl,
        "--hostname",
        "cucm-pub=cucm-a",
        "--hostname",
        "cucm-sub=cucm-b",
        "--json",
    ]));
    let req = &all["as_requested"];
    assert_eq!(req["verdict"], "not-safe", "{req}");
    let caveats = req["steps"][0]["caveats"].to_string();
    assert!(caveats.contains("every node"), "{caveats}");
    // One node at a time (then a rollback for phones whose group is one node) is the way.
    assert_eq!(all["safe_order"]["safe"], true, "{}", all["safe_order"]);
    let tvs_all = json(&run(&["plan", &itl, "--regenerate", "tvs@all", "--json"]));
    assert_eq!(tvs_all["change"][0], "regenerate TVS on every node");
    assert_eq!(tvs_all["as_requested"]["verdict"], "safe");
    let twice = run(&[
        "plan",
        &itl,
        "--regenerate",
        "tvs",
        "--regenerate",
        "tvs@all",
    ]);
    assert_eq!(twice.code, Some(2), "{}", twice.stderr);
    let per_node_cm = run(&["plan", &itl, "--regenerate", "callmanager@cucm-sub"]);
    assert_eq!(per_node_cm.code, Some(2), "{}", per_node_cm.stderr);
    assert!(
        per_node_cm.stderr.contains("only tvs is given per node"),
        "{}",
        per_node_cm.stderr
    );
}

#[test]
fn statement_23_restart_and_what_is_not_modelled_are_in_the_output() {
    let text = run(&["plan", ITL, "--regenerate", "tvs"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    for says in [
        "then restart TVS and TFTP on every node, then reset the phones (statement 23",
        "Not modelled",
        "24-hour TVS cache",
        "Assumed:",
    ] {
        assert!(text.stdout.contains(says), "{says}: {}", text.stdout);
    }
    let plan = json(&run(&["plan", ITL, "--regenerate", "tvs", "--json"]));
    let restart = plan["as_requested"]["steps"][0]["restart"]
        .as_str()
        .expect("restart");
    assert!(restart.contains("statement 23"), "{restart}");
    assert!(
        plan["not_modelled"]
            .as_array()
            .is_some_and(|n| n.len() >= 3),
        "{}",
        plan["not_modelled"]
    );
    assert_eq!(plan["phone_ctl"], serde_json::Value::Null);
}

#[test]
fn statements_7b_7c_phone_ctl_is_read_and_must_be_a_ctl() {
    let ctl = "tests/fixtures/real/nikhilp93-CMPE202/SCFFile.tlv";
    let plan = json(&run(&[
        "plan",
        ITL,
        "--phone-ctl",
        ctl,
        "--regenerate",
        "callmanager",
        "--json",
    ]));
    assert_eq!(plan["phone_ctl"], ctl);
    assert!(
        plan["assumptions"]
            .to_string()
            .contains("statements 7b, 7c"),
        "{}",
        plan["assumptions"]
    );
    let not_ctl = run(&["plan", ITL, "--phone-ctl", ITL, "--regenerate", "tvs"]);
    assert_eq!(not_ctl.code, Some(1), "{}", not_ctl.stderr);
    assert!(
        not_ctl.stderr.contains("is an ITL, not a CTL"),
        "{}",
        not_ctl.stderr
    );
}

#[test]
fn cm_group_takes_one_comma_separated_value_before_the_phone_itl() {
    // Statement 10: the group; the positional PHONE-ITL after it is not a node name.
    let out = run(&[
        "plan",
        "--cm-group",
        "cucm-pub",
        ITL,
        "--regenerate",
        "tvs",
        "--json",
    ]);
    let plan = json(&out);
    assert!(
        plan["assumptions"]
            .to_string()
            .contains("group is cucm-pub"),
        "{}",
        plan["assumptions"]
    );
}

#[test]
fn issue_20_one_rule_for_show_itl_text_plan_takes_it_analyze_names_the_other_ways() {
    // One rule (docs/plan.md): `show itl` text is the ITL the cluster served when it was
    // taken, known by records and checksums, not by bytes. `plan` reasons from records and
    // takes it; `analyze --phone-itl` needs the phone's file and says what to give instead.
    let plan = run(&["plan", SHOW_ITL, "--regenerate", "tvs"]);
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    let analyze = run(&[
        "analyze",
        "captures/tvs-tls13.pcap",
        "--phone-itl",
        SHOW_ITL,
        "--brief",
    ]);
    assert_eq!(analyze.code, Some(1), "{}", analyze.stderr);
    for says in [
        "--phone-itl captures/tvs-tls13.show-itl.txt: this is CUCM `show itl` text, not an ITL file",
        "ITLSEP<MAC>.tlv from `itlscope extract`",
        // The MD5 CUCM printed, as the phone's hash only if it took that file.
        "--phone-itl-hash ac5995bb74f1056f6cc12ffdaffa3791",
        "`itlscope plan` and `itlscope diff` take this text",
    ] {
        assert!(analyze.stderr.contains(says), "{says}: {}", analyze.stderr);
    }
    assert!(!analyze.stderr.contains("panicked"), "{}", analyze.stderr);
    // The same text as the phone's CTL: refused the same way, without a hash to offer.
    let ctl = run(&[
        "analyze",
        "captures/tvs-tls13.pcap",
        "--phone-ctl",
        SHOW_ITL,
        "--brief",
    ]);
    assert_eq!(ctl.code, Some(1), "{}", ctl.stderr);
    assert!(
        ctl.stderr
            .contains("--phone-ctl captures/tvs-tls13.show-itl.txt: this is CUCM `show itl` text"),
        "{}",
        ctl.stderr
    );
}

#[test]
fn issue_20_planned_serials_are_marked_in_text_and_json() {
    // CallManager regenerated: the config is signed by a certificate that does not exist
    // yet; its serial is never printed like a real one.
    let text = run(&["plan", ITL, "--regenerate", "callmanager"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    assert!(
        text.stdout
            .contains("(new, serial not known until regenerated)"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("7fee"), "{}", text.stdout);
    let plan = json(&run(&[
        "plan",
        ITL,
        "--regenerate",
        "callmanager",
        "--json",
    ]));
    let config = &plan["as_requested"]["steps"][0]["config"];
    assert_eq!(config["placeholder_serials"], true, "{config}");
    // The phone's own ITL certificates are real: no placeholder there.
    assert_eq!(
        plan["populations"][2]["itl"]["placeholder_serials"], false,
        "{}",
        plan["populations"][2]
    );
}

#[test]
fn statement_30_mixed_mode_capture_ctl_plan_prints_the_ctl_client_order() {
    // The mixed-mode scenario's phone ITL and CTL (captures/README.md): CallManager and TVS
    // regenerated on a single node. The safe order is the change, then the CTL client, then
    // restart and reset; not one certificate at a time (statements 30, 32).
    let args = [
        "plan",
        "captures/mixed-mode-ctl-not-rerun.phone-itl.tlv",
        "--phone-ctl",
        "captures/mixed-mode-ctl-not-rerun.phone-ctl.tlv",
        "--regenerate",
        "callmanager",
        "--regenerate",
        "tvs",
    ];
    let text = run(&args);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    assert!(
        text.stdout.contains("Safe order: safe for phones that are online\n  1. [ok] regenerate CallManager, regenerate TVS, then re-run the CTL client (utils ctl update CTLFile"),
        "{}",
        text.stdout
    );
    assert!(
        !text.stdout.contains("2. [ok] regenerate TVS"),
        "{}",
        text.stdout
    );
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let plan = json(&run(&with_json));
    let steps = plan["safe_order"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 1, "{}", plan["safe_order"]);
    assert_eq!(steps[0]["itl"]["via"], "signer-in-ctl", "{}", steps[0]);
    assert_eq!(plan["as_requested"]["steps"][0]["recovery"], "ctl-client");
    assert!(
        plan["manual_deletion_steps"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}
