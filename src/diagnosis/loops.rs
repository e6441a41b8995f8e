//! Transport findings that are not trust problems: a phone caught in a boot loop (it asks for
//! the same short list of trust lists and configs again and again and never goes on), and
//! downloads that stall mid-transfer (the data stops coming while the phone still waits: an
//! MTU or transport problem, such as 1500-byte frames or IP fragments dropped on the way).
//!
//! A stall is told from capture loss the way the protocol stage already does it: a transfer
//! that ran to its end with bytes missing from the capture has `error: None` (the phone may
//! have the whole file) and is no stall; one cut off by the end of the capture, with nothing
//! of the phone after it, is not a stall either (the capture stopped, not the data).

use super::context::PhoneCtx;
use super::model::{Check, DeleteItl, EvidenceItem, NextStep, Status, Verdict};
use super::names::{RequestKind, base_name};
use crate::capture::Timestamp;
use crate::evidence::{FileTransfer, FileTransport, Seen};

/// Cycles needed to call it a loop: two boots can be an engineer pressing reset.
pub const MIN_LOOP_CYCLES: usize = 3;

/// A request of the cycle's first file at least this long after the cycle began starts a new
/// cycle (an HTTP try and its TFTP fall-back are a few hundred ms apart).
const MIN_CYCLE_NS: i64 = 10_000_000_000;

/// A cycle of at most this many distinct files is "short": trust lists and configs only.
const MAX_SHORT_LIST: usize = 8;

/// A boot loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootLoop {
    /// Boot cycles seen.
    pub cycles: usize,
    /// Start of each cycle (its first request).
    pub starts: Vec<Seen>,
    /// The files of the last cycle, in request order.
    pub files: Vec<String>,
    /// Median time between cycle starts, whole seconds.
    pub period_s: u64,
    /// The last frame of the last cycle.
    pub last: Seen,
}

/// A download that stalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    /// Index into `Evidence::files`.
    pub file: usize,
    /// Requested name.
    pub name: String,
    /// Its role.
    pub kind: RequestKind,
    /// TFTP or HTTP.
    pub transport: FileTransport,
    /// Bytes that arrived before it stopped.
    pub received: u64,
    /// The size announced (tsize, Content-Length), when known.
    pub size: Option<u64>,
    /// The request.
    pub first: Seen,
    /// The last packet of the transfer.
    pub last: Seen,
    /// What ended it, in words.
    pub error: String,
    /// TFTP block size in use, when negotiated.
    pub blksize: Option<u64>,
}

/// What this module found for one phone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Findings {
    /// The boot loop, if any.
    pub boot_loop: Option<BootLoop>,
    /// Stalled downloads, in request order.
    pub stalls: Vec<Stall>,
    /// Downloads cut off by the end of the capture (not stalls).
    pub cut_by_capture_end: Vec<usize>,
    /// Downloads the phone made in the capture (with none, neither finding applies).
    pub downloads: usize,
}

fn secs(a: Timestamp, b: Timestamp) -> f64 {
    (b.0 - a.0) as f64 / 1e9
}

fn is_trust_or_config(kind: RequestKind) -> bool {
    kind.is_itl() || kind.is_ctl() || kind.is_config()
}

/// True when the server had started answering: an HTTP 200/206 head, or a TFTP transfer
/// whose server port, size (OACK tsize) or data showed up.
fn server_started(f: &FileTransfer) -> bool {
    match f.transport {
        FileTransport::Http => matches!(f.http_status, Some(200 | 206)),
        FileTransport::Tftp => f.captured_len() > 0 || f.size.is_some() || f.server.port != 69,
    }
}

/// True when the transfer failed on the way (not refused by the server, not capture loss).
fn broke_off(f: &FileTransfer) -> bool {
    !f.complete
        && !f.upload
        && f.error.is_some()
        && matches!(f.tftp_error_code, None | Some(0))
        && server_started(f)
}

fn option_u64(f: &FileTransfer, key: &str) -> Option<u64> {
    f.options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.parse().ok())
}

/// The latest time of anything the phone did, and whether anything started after `t`.
fn phone_active_after(ctx: &PhoneCtx<'_>, t: Timestamp) -> bool {
    ctx.files.iter().any(|(_, f, _)| f.first.ts > t)
        || ctx.tls.iter().any(|(_, s)| s.first.ts > t)
        || ctx.alarms.iter().any(|(_, a)| a.seen.ts > t)
}

fn stalls(ctx: &PhoneCtx<'_>) -> (Vec<Stall>, Vec<usize>) {
    let mut stalls = Vec::new();
    let mut cut = Vec::new();
    for &(index, f, kind) in &ctx.files {
        if !broke_off(f) {
            continue;
        }
        // The phone closing the connection, or doing anything afterwards, shows it gave up
        // waiting; a transfer that is simply the last thing in the capture was cut by its end.
        let closed = f
            .error
            .as_deref()
            .is_some_and(|e| e.contains("closed before"));
        if !closed && !phone_active_after(ctx, f.last.ts) {
            cut.push(index);
            continue;
        }
        stalls.push(Stall {
            file: index,
            name: f.name.clone(),
            kind,
            transport: f.transport,
            received: f.captured_len() as u64,
            size: f.size,
            first: f.first,
            last: f.last,
            error: f.error.clone().unwrap_or_default(),
            blksize: (f.transport == FileTransport::Tftp)
                .then(|| option_u64(f, "blksize"))
                .flatten(),
        });
    }
    (stalls, cut)
}

/// The boot loop of a phone: at least [`MIN_LOOP_CYCLES`] cycles, each starting with the same
/// first trust request, none going past trust lists and configs. A phone that got a usable
/// signed config goes on to softkeys, dial rules, locales or firmware, so a cycle that stops
/// after the config and starts over is one that got none it could use.
fn boot_loop(ctx: &PhoneCtx<'_>) -> Option<BootLoop> {
    let requests: Vec<&(usize, &FileTransfer, RequestKind)> =
        ctx.files.iter().filter(|(_, f, _)| !f.upload).collect();
    let first = requests.iter().find(|(_, _, k)| is_trust_or_config(*k))?;
    let key = base_name(&first.1.name).to_ascii_lowercase();
    // Split into cycles at each request of `key` well after the current cycle began.
    let mut cycles: Vec<Vec<&FileTransfer>> = Vec::new();
    for (_, f, _) in requests.iter().copied() {
        let starts_cycle = base_name(&f.name).eq_ignore_ascii_case(&key)
            && cycles
                .last()
                .and_then(|c| c.first())
                .is_none_or(|s| f.first.ts.0 - s.first.ts.0 >= MIN_CYCLE_NS);
        if starts_cycle {
            cycles.push(Vec::new());
        }
        if let Some(c) = cycles.last_mut() {
            c.push(f);
        }
    }
    if cycles.len() < MIN_LOOP_CYCLES {
        return None;
    }
    let short = |c: &Vec<&FileTransfer>| {
        let mut names: Vec<String> = c
            .iter()
            .map(|f| base_name(&f.name).to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        names.len() <= MAX_SHORT_LIST
            && c.iter()
                .all(|f| is_trust_or_config(super::names::classify(&f.name).0))
    };
    // A cycle that went on past trust lists and configs is a boot that worked: several of
    // them are resets, not a loop.
    if !cycles.iter().all(short) {
        return None;
    }
    let starts: Vec<Seen> = cycles
        .iter()
        .filter_map(|c| c.first().map(|f| f.first))
        .collect();
    let mut gaps: Vec<u64> = starts
        .windows(2)
        .map(|w| secs(w[0].ts, w[1].ts).round() as u64)
        .collect();
    gaps.sort_unstable();
    let period_s = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    let last_cycle = cycles.last()?;
    let last = last_cycle
        .iter()
        .map(|f| f.last)
        .max_by_key(|s| s.frame)
        .unwrap_or_default();
    let mut files: Vec<String> = Vec::new();
    for f in last_cycle {
        if !files.contains(&f.name) {
            files.push(f.name.clone());
        }
    }
    Some(BootLoop {
        cycles: cycles.len(),
        starts,
        files,
        period_s,
        last,
    })
}

/// Finds boot loops and stalled downloads of one phone.
pub fn find(ctx: &PhoneCtx<'_>) -> Findings {
    let (stalls, cut_by_capture_end) = stalls(ctx);
    Findings {
        boot_loop: boot_loop(ctx),
        stalls,
        cut_by_capture_end,
        downloads: ctx.files.len(),
    }
}

fn describe_stall(s: &Stall) -> String {
    let of = s.size.map(|n| format!(" of {n}")).unwrap_or_default();
    let blk = s
        .blksize
        .map(|b| format!(", blksize {b}"))
        .unwrap_or_default();
    format!(
        "{} over {} stalled at byte {}{of} (frames {}-{}{blk}): {}",
        s.name,
        s.transport.as_str(),
        s.received,
        s.first.frame,
        s.last.frame,
        s.error
    )
}

/// The line a stalled download gives the verdict and the fleet summary.
pub fn stall_line(stalls: &[Stall]) -> Option<String> {
    let first = stalls.first()?;
    let more = match stalls.len() {
        1 => String::new(),
        n => format!(" (and {} more stalled download(s))", n - 1),
    };
    Some(format!(
        "transfer stall: {}{more}: the data stopped coming while the phone waited for it, an MTU or transport problem (large frames or IP fragments dropped between phone and server), not a trust problem: do not delete the ITL over it",
        describe_stall(first)
    ))
}

/// The line a boot loop gives the verdict and the fleet summary.
pub fn loop_line(l: &BootLoop) -> String {
    format!(
        "boot loop: {} cycles, last at frame {} (every ~{} s, each asking for {} and going no further): the phone never got a usable signed config",
        l.cycles,
        l.last.frame,
        l.period_s,
        l.files.join(", ")
    )
}

/// The checks `boot-loop` and `transfer-stall`.
pub fn checks(f: &Findings) -> [Check; 2] {
    let boot_loop = match &f.boot_loop {
        Some(l) => Check {
            id: "boot-loop",
            status: Status::Fail,
            explanation: loop_line(l),
            flags: vec!["boot-loop"],
            evidence: l
                .starts
                .iter()
                .enumerate()
                .map(|(i, s)| EvidenceItem::at(*s, format!("cycle {} starts", i + 1)))
                .collect(),
        },
        None if f.downloads == 0 => Check {
            id: "boot-loop",
            status: Status::NotApplicable,
            explanation: "no download in the capture: no boot to look at".into(),
            flags: Vec::new(),
            evidence: Vec::new(),
        },
        None => Check {
            id: "boot-loop",
            status: Status::Pass,
            explanation: format!(
                "no boot loop: the phone did not ask for the same trust lists and configs {MIN_LOOP_CYCLES} times or more without going on"
            ),
            flags: Vec::new(),
            evidence: Vec::new(),
        },
    };
    let stall = if let Some(line) = stall_line(&f.stalls) {
        Check {
            id: "transfer-stall",
            status: Status::Fail,
            explanation: line,
            flags: vec!["transfer-stall"],
            evidence: f
                .stalls
                .iter()
                .map(|s| {
                    EvidenceItem::at(s.last, describe_stall(s))
                        .with("file", s.name.clone())
                        .with("received", s.received.to_string())
                })
                .collect(),
        }
    } else if !f.cut_by_capture_end.is_empty() {
        Check {
            id: "transfer-stall",
            status: Status::Unknown,
            explanation: format!(
                "{} download(s) were still running when the capture ended: whether they stalled is not known (capture longer)",
                f.cut_by_capture_end.len()
            ),
            flags: Vec::new(),
            evidence: Vec::new(),
        }
    } else if f.downloads == 0 {
        Check {
            id: "transfer-stall",
            status: Status::NotApplicable,
            explanation: "no download in the capture".into(),
            flags: Vec::new(),
            evidence: Vec::new(),
        }
    } else {
        Check {
            id: "transfer-stall",
            status: Status::Pass,
            explanation: "no download stalled mid-transfer (bytes only missing from the capture are capture loss, not a stall)".into(),
            flags: Vec::new(),
            evidence: Vec::new(),
        }
    };
    [boot_loop, stall]
}

/// Puts the findings into the verdict: their lines first among the reasons, their next
/// steps, and never "required" while a trust list or config download stalls (the phone may
/// have failed verification only because the file never arrived whole).
pub fn apply(f: &Findings, verdict: &mut Verdict) {
    let mut lines = Vec::new();
    if let Some(line) = stall_line(&f.stalls) {
        lines.push(line);
    }
    if let Some(l) = &f.boot_loop {
        lines.push(loop_line(l));
    }
    let trust_stall = f.stalls.iter().any(|s| is_trust_or_config(s.kind));
    if trust_stall && verdict.delete_itl == DeleteItl::Required {
        verdict.delete_itl = DeleteItl::Undetermined;
        verdict
            .next_steps
            .retain(|s| !s.text.starts_with("Delete the ITL"));
        lines.push("not required while a trust-list or config download stalls: the four conditions may rest on a file that never arrived whole; fix the transport and capture again".into());
    }
    verdict.reasons.splice(0..0, lines);
    if !f.stalls.is_empty() {
        verdict.next_steps.insert(0, NextStep {
            id: "fix-transport",
            text: "Fix the transport before touching any phone: check the MTU on the path to the TFTP server (tunnels, VPNs, trunks with a smaller MTU), ICMP fragmentation-needed being filtered, and firewalls dropping IP fragments (TFTP blksize above 1468); then reset the phone. Deleting its ITL does not make a dropped frame arrive.".into(),
            because: vec!["transfer-stall: a download stalled mid-transfer".into()],
        });
    }
    if f.boot_loop.is_some() && f.stalls.is_empty() {
        verdict.next_steps.insert(0, NextStep {
            id: "boot-loop",
            text: "The phone restarts its boot again and again: follow the trust findings below for why it refuses the signed config; it will not recover on its own.".into(),
            because: vec!["boot-loop: the same short list of files requested again and again".into()],
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnosis::model::{PhoneDiagnosis, Status};
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::tests::*;
    use crate::diagnosis::{DeleteItl, KeyBackup, PhoneStatus, diagnose_with};
    use crate::evidence::{Evidence, FileTransfer, FileTransport};

    fn shifted(mut f: FileTransfer, by: u64) -> FileTransfer {
        f.first = seen(f.first.frame + by);
        f.last = seen(f.last.frame + by);
        f
    }

    /// `cycles` boots of the same phone, 50 s apart, plus `extra` files in each.
    fn boots(cycles: u64, extra: &[&str]) -> Evidence {
        let one = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        let mut ev = Evidence::default();
        for c in 0..cycles {
            for f in &one.files {
                ev.files.push(shifted(f.clone(), c * 50));
            }
            for (i, name) in extra.iter().enumerate() {
                let mut f = file(name, IP, b"softkeys");
                f.first = seen(c * 50 + 30 + i as u64);
                f.last = f.first;
                ev.files.push(f);
            }
        }
        ev
    }

    fn check<'p>(p: &'p PhoneDiagnosis, id: &str) -> &'p crate::diagnosis::Check {
        p.checks.iter().find(|c| c.id == id).expect("check present")
    }

    #[test]
    fn the_same_short_list_three_times_is_a_boot_loop() {
        let d = diagnose_with(&boots(3, &[]), &Default::default(), &cluster());
        let c = check(&d.phones[0], "boot-loop");
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.explanation
                .starts_with("boot loop: 3 cycles, last at frame 122 (every ~50 s"),
            "{}",
            c.explanation
        );
        assert_eq!(c.flags, ["boot-loop"]);
        assert_eq!(c.evidence.len(), 3);
        assert!(d.phones[0].verdict.reasons[0].starts_with("boot loop: 3 cycles"));
    }

    #[test]
    fn two_boots_or_boots_that_go_on_are_not_a_loop() {
        let d = diagnose_with(&boots(2, &[]), &Default::default(), &cluster());
        assert_eq!(check(&d.phones[0], "boot-loop").status, Status::Pass);
        // A phone that goes on to its softkeys got a config it could use: resets, not a loop.
        let d = diagnose_with(
            &boots(4, &["SKdefault.xml.sgn"]),
            &Default::default(),
            &cluster(),
        );
        assert_eq!(check(&d.phones[0], "boot-loop").status, Status::Pass);
    }

    fn stalled_http(name: &str, frame: u64) -> FileTransfer {
        let mut f = failed(
            name,
            IP,
            FileTransport::Http,
            "the connection closed before the response was complete",
        );
        f.http_status = Some(200);
        f.data = vec![1; 256].into();
        f.size = Some(5000);
        f.first = seen(frame);
        f.last = seen(frame + 10);
        f
    }

    #[test]
    fn a_download_the_phone_gave_up_on_is_a_stall() {
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        ev.files
            .push(stalled_http(&format!("SEP{MAC}.cnf.xml.sgn"), 30));
        let d = diagnose_with(&ev, &Default::default(), &cluster());
        let p = &d.phones[0];
        let c = check(p, "transfer-stall");
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.explanation.contains("stalled at byte 256 of 5000"),
            "{}",
            c.explanation
        );
        assert!(c.explanation.contains("not a trust problem"));
        assert_eq!(p.main_reason.code, "transfer-stall");
        assert!(
            p.verdict.next_steps[0]
                .text
                .starts_with("Fix the transport")
        );
    }

    #[test]
    fn capture_end_and_capture_loss_are_not_stalls() {
        // The TFTP transfer is the last thing of the phone in the capture: cut by its end.
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        let mut cut = failed(
            "SK1.xml.sgn",
            IP,
            FileTransport::Tftp,
            "transfer did not finish in the capture",
        );
        cut.server.port = 40000;
        cut.data = vec![0; 1024].into();
        cut.first = seen(200);
        cut.last = seen(201);
        ev.files.push(cut);
        let d = diagnose_with(&ev, &Default::default(), &cluster());
        let c = check(&d.phones[0], "transfer-stall");
        assert_eq!(c.status, Status::Unknown, "{}", c.explanation);
        assert!(
            c.explanation
                .contains("still running when the capture ended")
        );
        assert_ne!(d.phones[0].main_reason.code, "transfer-stall");
        // Bytes missing from the capture of a transfer that ran to its end: capture loss.
        let mut ev = boot(ITL_A, CONFIG_B, tls(IP, 8443));
        let mut lossy = file("SK1.xml.sgn", IP, b"partial");
        lossy.complete = false;
        lossy.missing = vec![(512, 1024)];
        lossy.first = seen(30);
        lossy.last = seen(31);
        ev.files.push(lossy);
        ev.files.push(shifted(ev.files[0].clone(), 100));
        let d = diagnose_with(&ev, &Default::default(), &cluster());
        assert_eq!(check(&d.phones[0], "transfer-stall").status, Status::Pass);
    }

    #[test]
    fn a_stalled_trust_download_is_never_a_reason_to_delete() {
        let mut ev = boot(
            ITL_C,
            CONFIG_B,
            rejected(tls_with(IP, 2445, new_tvs_cert())),
        );
        ev.files.push(stalled_http(&format!("ITLSEP{MAC}.tlv"), 30));
        let all_four = facts(Some(ITL_A), PhoneStatus::Failed, KeyBackup::No);
        let d = diagnose_with(&ev, &all_four, &cluster());
        let v = &d.phones[0].verdict;
        assert!(
            v.conditions
                .named()
                .iter()
                .all(|(_, c)| c.value == Some(true))
        );
        assert_eq!(v.delete_itl, DeleteItl::Undetermined);
        assert!(v.reasons[0].starts_with("transfer stall:"));
        assert!(
            v.reasons
                .iter()
                .any(|r| r.starts_with("not required while"))
        );
        assert!(
            !v.next_steps
                .iter()
                .any(|s| s.text.starts_with("Delete the ITL"))
        );
        // Without the stall the same evidence requires deletion: the stall is what changed it.
        ev.files.pop();
        let d = diagnose_with(&ev, &all_four, &cluster());
        assert_eq!(d.phones[0].verdict.delete_itl, DeleteItl::Required);
    }
}
