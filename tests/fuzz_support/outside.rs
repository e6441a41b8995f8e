//! Harnesses for the parsers of text and archives that come from outside the capture: phone
//! console logs, the Status Messages page, CUCM `show itl` / `show ctl` text and TVS traces,
//! PRT archives (tar/gzip, through the same detection `--evidence` uses), the `DeviceTLInfo`
//! alarm XML (SIP REFER body or console-log copy), and what `plan` reads (a trust list file or
//! `show itl` text, a replacement certificate, the change).

use itlscope::cisco::{self, ParsedFile};
use itlscope::plan::{self, Change, Nodes, PhoneItl, Phones, cluster::CertId, cluster::Cluster};
use itlscope::sidecar::{self, Limits, SideEvidence, Source};

/// Small caps so the fuzzer reaches the limits quickly and every input stays fast.
fn small_limits() -> Limits {
    Limits {
        max_file: 1 << 20,
        max_unpacked: 4 << 20,
        max_member: 1 << 20,
        max_entries: 256,
        max_depth: 4,
        max_facts: 256,
    }
}

fn source() -> Source {
    Source {
        file: "fuzz".to_owned(),
        member: None,
        line: None,
    }
}

/// A phone console log: entry re-joining, header parsing, wording and alarm facts.
pub fn console_log(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = sidecar::console::looks_like(&text);
    let _ = sidecar::console::parse(&text);
    let _ = sidecar::console::facts(&text, &source(), 256);
}

/// The phone's Status Messages page as text.
pub fn status_messages(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = sidecar::status::looks_like(&text);
    let _ = sidecar::status::facts(&text, &source(), 256);
}

/// CUCM text: `show itl` / `show ctl` (the `--evidence` reader and `plan`'s reader of it) and
/// the TVS service trace.
pub fn cucm_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = sidecar::cli::looks_like(&text);
    let _ = sidecar::cli::parse(&text, &source());
    if let Ok(show) = plan::show_itl::parse(&text, "fuzz") {
        let _ = show.list.view();
    }
    let _ = sidecar::tvstrace::looks_like(&text);
    let _ = sidecar::tvstrace::entries(&text);
    let _ = sidecar::tvstrace::requests(&text, &source(), 256);
}

/// A file given with `--evidence`: archive walk (PRT `.tar.gz`, nested), detection of each
/// member and its parser.
pub fn prt_archive(data: &[u8]) {
    let limits = small_limits();
    let _ = sidecar::archive::walk(data, &limits);
    let mut out = SideEvidence::default();
    let _ = sidecar::detect::ingest_bytes("fuzz", data, &limits, &mut out);
}

/// The `DeviceTLInfo` alarm: as a whole SIP message, and as the XML alone (console copy).
pub fn device_tl_info(data: &[u8]) {
    let _ = itlscope::proto::sip::parse_device_tl_info(data);
    let text = String::from_utf8_lossy(data);
    let _ = itlscope::alarm::parse_alarm_xml(&text);
}

/// The changes `plan` is asked about, chosen by one byte; per-node changes name the ITL's
/// first node so they pass the node check.
fn changes(selector: u8, list: &itlscope::cisco::model::TrustList<'_>) -> Vec<Change> {
    use plan::cluster::Role;
    let roles = [Role::CallManager, Role::Tvs, Role::ItlRecovery, Role::Capf];
    let node = Cluster::from_trust_list(list, 0)
        .ok()
        .and_then(|c| c.node_names().into_iter().next())
        .unwrap_or_else(|| "cucm".to_owned());
    let first = match selector % 8 {
        0..=3 => Change::Regenerate(roles[usize::from(selector % 4)]),
        4 => Change::RegenerateTvs(Nodes::All),
        5 => Change::Hostname("renamed.example".to_owned()),
        6 => Change::RegenerateTvs(Nodes::Named(node)),
        _ => Change::Rename {
            new: format!("{node}-new"),
            old: node,
        },
    };
    let mut out = vec![first];
    // The same list as the cluster moved to.
    if selector & 0x80 != 0
        && let Ok(cluster) = Cluster::from_trust_list(list, 1)
    {
        out.push(Change::MoveTo(Box::new(cluster)));
    }
    out
}

/// Runs `plan` (text and JSON) on one phone ITL and its changes; errors are fine, panics
/// not. True when a plan was made.
fn run_plan(phone: &PhoneItl<'_>, changes: &[Change]) -> bool {
    let phones = Phones::default();
    let _ = plan::check_nodes(phone.list, changes, &phones);
    match plan::plan_for(phone, changes, &phones) {
        Ok(report) => {
            let _ = plan::text::render(&report);
            let _ = serde_json::to_string(&plan::json::view(&report));
            true
        }
        Err(_) => false,
    }
}

/// `plan`'s inputs: the first byte picks the change (and whether the rest is also offered as
/// a `--replace` certificate or a `--move-to` ITL); the rest is the phone's ITL as a file or
/// as `show itl` text.
pub fn plan_inputs(data: &[u8]) {
    let _ = run_plan_inputs(data);
}

/// [`plan_inputs`], telling whether a plan was made (for the seed check).
pub fn run_plan_inputs(data: &[u8]) -> bool {
    let Some((&selector, rest)) = data.split_first() else {
        return false;
    };
    let _ = CertId::from_file_bytes(rest);
    let text = std::str::from_utf8(rest).ok();
    if let Some(text) = text.filter(|t| plan::show_itl::looks_like(t)) {
        if let Ok(show) = plan::show_itl::parse(text, "fuzz") {
            let list = show.list.view();
            let phone = PhoneItl {
                file: "fuzz",
                source: plan::ItlSource::ShowItl,
                sha1: show.sha1.clone(),
                list: &list,
            };
            return run_plan(&phone, &changes(selector, &list));
        }
        return false;
    }
    if let Ok(ParsedFile::TrustList(list)) = cisco::parse_any(rest) {
        let phone = PhoneItl::from_file("fuzz", &list);
        return run_plan(&phone, &changes(selector, &list));
    }
    false
}
