//! `analyze --follow`: each phone's verdict line as soon as its boot ends, while the capture
//! is still coming in (`tcpdump … -w - | itlscope analyze - --follow`).
//!
//! A boot ends when the phone's own config (`SEP<MAC>.cnf.xml`, `.cnf.xml.sgn`,
//! `.cnf.xml.enc.sgn`) has downloaded whole, or when the diagnosis recognises a boot loop or
//! a stalled download ([`crate::diagnosis::loops`]). The verdict is not decided here: the
//! phone's records ended so far are handed to [`diagnose_limited`], the function the final
//! report uses, and its line is the one `--brief` prints ([`verdict_line`]).
//!
//! Cost stays linear in the capture: after each packet the collector's lists of ended
//! records are compared by length (they only grow at their end), each new record is filed
//! under its phone once (an index, not a copy), and a phone is diagnosed again only when a
//! record may end its boot: its config downloaded whole, a trust-list or config download
//! broken off (a stall), the same trust list or config asked for a
//! [`MIN_LOOP_CYCLES`]th time (a loop), anything new of a phone with a broken download, or,
//! once its line is out, its `DeviceTLInfo` alarm or a TVS session (an update may be due).
//! Each diagnosis costs the phone's own records, never the whole capture's.
//!
//! What the line of a phone mid-capture cannot know: evidence lost to the limits (counted
//! when the capture ends), transfers still open, and, while only one phone has been seen,
//! whether the options given without a phone (`--phone-status failed`) will still be about
//! "the" phone (they apply only to a capture of one phone). When the final report decides a
//! phone differently, a last line marked `update:` says so ([`Follower::final_updates`]).

use crate::diagnosis::loops::MIN_LOOP_CYCLES;
use crate::diagnosis::names::{RequestKind, base_name, classify};
use crate::diagnosis::phone::PhoneKey;
use crate::diagnosis::phone::mac_from_device_name as device_mac;
use crate::diagnosis::trust::TrustBackend;
use crate::diagnosis::{
    DeleteItl, Diagnosis, Limits, OperatorFacts, PhoneDiagnosis, PhoneStatus, Status,
    diagnose_limited,
};
use crate::evidence::{CaptureSummary, Evidence};
use crate::net::Packet;
use crate::pipeline::{self, CaptureResult, PipelineOptions};
use crate::proto::{Collector, SoFar};
use crate::report::text::verdict_line;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// Where a record is in one of the collector's pairs of lists: the UDP one (TFTP files,
/// alarms and REGISTERs over UDP) or the TCP one (HTTP files, over TCP), and its index.
#[derive(Debug, Clone, Copy)]
enum Ref {
    Udp(usize),
    Tcp(usize),
}

impl Ref {
    /// The record in `udp` or `tcp` this names.
    fn get<'s, T>(self, udp: &'s [T], tcp: &'s [T]) -> Option<&'s T> {
        match self {
            Ref::Udp(i) => udp.get(i),
            Ref::Tcp(i) => tcp.get(i),
        }
    }
}

/// The records `refs` names in `udp` and `tcp`, copied, in order of `frame`.
fn gathered<'r, T: Clone, K: Ord>(
    refs: impl Iterator<Item = &'r Ref>,
    udp: &[T],
    tcp: &[T],
    frame: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut out: Vec<T> = refs.filter_map(|r| r.get(udp, tcp)).cloned().collect();
    out.sort_by_key(|t| frame(t));
    out
}

/// How far each of the collector's lists has been read.
#[derive(Debug, Default, Clone, Copy)]
struct Cursors {
    tftp: usize,
    http: usize,
    udp_alarms: usize,
    tcp_alarms: usize,
    registrations: usize,
    udp_sip_registrations: usize,
    tcp_sip_registrations: usize,
    phone_tls: usize,
}

/// One of the collector's lists, how far it has been read, and how to name its items.
type Cursor<'s, 'c, T, R> = (&'s [T], &'c mut usize, fn(usize) -> R);

/// The items two of the collector's lists gained since they were last read, each named by its
/// list and index; both cursors move to the lists' ends.
fn fresh_pair<'s, T, R>(a: Cursor<'s, '_, T, R>, b: Cursor<'s, '_, T, R>) -> Vec<(R, &'s T)> {
    let mut out = Vec::new();
    for (items, read, name) in [a, b] {
        out.extend(
            items
                .iter()
                .enumerate()
                .skip(*read)
                .map(|(i, item)| (name(i), item)),
        );
        *read = items.len();
    }
    out
}

/// Why a phone is diagnosed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Trigger {
    /// A download that may show a loop or a stall: the boot ended only if the diagnosis
    /// finds one.
    Maybe,
    /// Its config downloaded whole, or evidence of a phone whose boot ended already (its
    /// `DeviceTLInfo` alarm, a TVS session): the boot ended.
    Config,
}

/// One verdict line of `--follow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowLine {
    /// The phone's line as `--brief` prints it, ending in a newline (wrapped lines
    /// included), in colour when asked.
    pub text: String,
    /// True when the phone had a line already and its verdict or main reason changed since.
    pub update: bool,
}

impl FollowLine {
    /// The line as printed: an update starts with `update: `.
    pub fn printed(&self) -> String {
        if self.update {
            format!("update: {}", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// What a line says, compared to tell an update: the verdict and the main reason's code
/// (not its words, which count cycles and frames and would make a line per reboot).
type Decided = (DeleteItl, &'static str);

fn decided(p: &PhoneDiagnosis) -> Decided {
    (p.verdict.delete_itl, p.main_reason.code)
}

fn is_trust_or_config(kind: RequestKind) -> bool {
    kind.is_itl() || kind.is_ctl() || kind.is_config()
}

/// Watches a capture being read and diagnoses each phone as its boot ends.
pub struct Follower<'b> {
    facts: OperatorFacts,
    backend: &'b dyn TrustBackend,
    limits: Limits,
    color: bool,
    /// `facts.scoped` by MAC.
    scoped_index: HashMap<String, usize>,
    /// `facts.side.facts` naming a phone, by its MAC, and those naming none.
    side_named: HashMap<String, Vec<usize>>,
    side_unnamed: Vec<usize>,
    read: Cursors,
    /// Which MAC owns which address (the first name seen wins, as in the grouping).
    ip_mac: HashMap<IpAddr, String>,
    mac_ips: HashMap<String, Vec<IpAddr>>,
    /// Files naming a MAC under it; the others under their client's address.
    files: BTreeMap<PhoneKey, Vec<Ref>>,
    alarms: BTreeMap<PhoneKey, Vec<Ref>>,
    registrations: HashMap<String, Vec<usize>>,
    /// SIP registrations as `SEP<MAC>`, by that MAC (as the final grouping keeps them).
    sip_registrations: HashMap<String, Vec<Ref>>,
    /// Phones' TLS sessions by client address (indices into the kept phone sessions).
    tls: HashMap<IpAddr, Vec<usize>>,
    /// Trust-list and config requests per phone and name (lower case), to see a loop come.
    requests: BTreeMap<(PhoneKey, String), usize>,
    /// Phones with a trust-list or config download broken off, not yet booted since.
    broken: BTreeSet<PhoneKey>,
    /// Hosts that behaved like phones so far.
    phones: BTreeSet<PhoneKey>,
    /// The verdict and main reason of the last line printed per phone.
    printed: BTreeMap<PhoneKey, Decided>,
    /// The capture so far, as the diagnosis sees it (name, first and last time, frames).
    summary: CaptureSummary,
    /// Diagnoses run so far (each costs the phone's own records).
    diagnoses: u64,
}

impl<'b> Follower<'b> {
    /// A follower diagnosing with `facts` (given back by [`Follower::into_facts`]) through
    /// `backend`, within `limits`; lines in colour when `color`.
    pub fn new(
        facts: OperatorFacts,
        backend: &'b dyn TrustBackend,
        limits: Limits,
        capture: &str,
        color: bool,
    ) -> Self {
        let scoped_index = facts
            .scoped
            .iter()
            .enumerate()
            .map(|(i, s)| (s.mac.clone(), i))
            .collect();
        let mut side_named: HashMap<String, Vec<usize>> = HashMap::new();
        let mut side_unnamed = Vec::new();
        for (i, f) in facts.side.facts.iter().enumerate() {
            match &f.device {
                Some(mac) => side_named.entry(mac.clone()).or_default().push(i),
                None => side_unnamed.push(i),
            }
        }
        Follower {
            facts,
            backend,
            limits,
            color,
            scoped_index,
            side_named,
            side_unnamed,
            read: Cursors::default(),
            ip_mac: HashMap::new(),
            mac_ips: HashMap::new(),
            files: BTreeMap::new(),
            alarms: BTreeMap::new(),
            registrations: HashMap::new(),
            sip_registrations: HashMap::new(),
            tls: HashMap::new(),
            requests: BTreeMap::new(),
            broken: BTreeSet::new(),
            phones: BTreeSet::new(),
            printed: BTreeMap::new(),
            summary: CaptureSummary {
                path: capture.to_string(),
                ..CaptureSummary::default()
            },
            diagnoses: 0,
        }
    }

    /// The operator's facts, as given to [`Follower::new`], for the final diagnosis (the
    /// follower keeps what it printed, for [`Follower::final_updates`]).
    pub fn take_facts(&mut self) -> OperatorFacts {
        std::mem::take(&mut self.facts)
    }

    /// Looks at the collector after `packet`: the lines of the phones whose boot ended with
    /// it (usually none).
    pub fn packet(&mut self, collector: &Collector, packet: &Packet<'_>) -> Vec<FollowLine> {
        self.summary.frames = packet.frame;
        self.summary.first_ts.get_or_insert(packet.ts);
        self.summary.last_ts = Some(packet.ts);
        let so_far = collector.so_far();
        let mut due: BTreeMap<PhoneKey, Trigger> = BTreeMap::new();
        self.take_new(&so_far, &mut due);
        let mut lines = Vec::new();
        for (key, trigger) in due {
            if let Some(line) = self.check(&so_far, &key, trigger) {
                lines.push(line);
            }
        }
        lines
    }

    /// The key a record of `ip` naming `mac` is about.
    fn key(&self, ip: IpAddr, mac: Option<&String>) -> PhoneKey {
        match mac.or_else(|| self.ip_mac.get(&ip)) {
            Some(m) => PhoneKey::Mac(m.clone()),
            None => PhoneKey::Ip(ip),
        }
    }

    fn claim(&mut self, ip: IpAddr, mac: &str) {
        if let std::collections::hash_map::Entry::Vacant(owner) = self.ip_mac.entry(ip) {
            owner.insert(mac.to_string());
            self.mac_ips.entry(mac.to_string()).or_default().push(ip);
        }
    }

    /// Files every record ended since the last look under its phone, and notes the phones
    /// whose boot it may end.
    fn take_new(&mut self, so_far: &SoFar<'_>, due: &mut BTreeMap<PhoneKey, Trigger>) {
        let mark = |due: &mut BTreeMap<PhoneKey, Trigger>, key: PhoneKey, t: Trigger| {
            let slot = due.entry(key).or_insert(t);
            *slot = (*slot).max(t);
        };
        let new_files = fresh_pair(
            (so_far.tftp_files, &mut self.read.tftp, Ref::Udp),
            (so_far.http_files, &mut self.read.http, Ref::Tcp),
        );
        for (at, file) in new_files {
            let (kind, mac) = classify(&file.name);
            if let Some(m) = &mac {
                self.claim(file.client.ip, m);
            }
            let bucket = match &mac {
                Some(m) => PhoneKey::Mac(m.clone()),
                None => PhoneKey::Ip(file.client.ip),
            };
            self.files.entry(bucket).or_default().push(at);
            if file.upload {
                continue;
            }
            let key = self.key(file.client.ip, mac.as_ref());
            if kind != RequestKind::Other || mac.is_some() {
                self.phones.insert(key.clone());
            }
            if self.broken.contains(&key) {
                mark(due, key.clone(), Trigger::Maybe);
            }
            if !is_trust_or_config(kind) {
                continue;
            }
            if kind.is_config() && mac.is_some() && file.complete {
                self.broken.remove(&key);
                mark(due, key.clone(), Trigger::Config);
                continue;
            }
            // Broken off on the way, not refused by the server ("File not found", 404): a
            // stall the diagnosis may find once the phone goes on.
            let refused = !matches!(file.tftp_error_code, None | Some(0))
                || !matches!(file.http_status, None | Some(200 | 206));
            if !file.complete && file.error.is_some() && !refused {
                self.broken.insert(key.clone());
                mark(due, key.clone(), Trigger::Maybe);
            }
            let name = base_name(&file.name).to_ascii_lowercase();
            let asked = self.requests.entry((key.clone(), name)).or_default();
            *asked += 1;
            if *asked >= MIN_LOOP_CYCLES {
                mark(due, key, Trigger::Maybe);
            }
        }
        let new_alarms = fresh_pair(
            (so_far.udp_alarms, &mut self.read.udp_alarms, Ref::Udp),
            (so_far.tcp_alarms, &mut self.read.tcp_alarms, Ref::Tcp),
        );
        for (at, alarm) in new_alarms {
            let mac = alarm.device_name.as_deref().and_then(device_mac);
            if let Some(m) = &mac {
                self.claim(alarm.phone.ip, m);
            }
            let bucket = match &mac {
                Some(m) => PhoneKey::Mac(m.clone()),
                None => PhoneKey::Ip(alarm.phone.ip),
            };
            self.alarms.entry(bucket).or_default().push(at);
            let key = self.key(alarm.phone.ip, mac.as_ref());
            self.phones.insert(key.clone());
            // After its boot a phone reports the ITL it holds: an update may be due now.
            if self.printed.contains_key(&key) {
                mark(due, key, Trigger::Config);
            } else if self.broken.contains(&key) {
                mark(due, key, Trigger::Maybe);
            }
        }
        for (i, reg) in so_far
            .registrations
            .iter()
            .enumerate()
            .skip(self.read.registrations)
        {
            if let Some(m) = device_mac(&reg.device_name) {
                self.claim(reg.phone.ip, &m);
                self.registrations.entry(m.clone()).or_default().push(i);
                self.phones.insert(PhoneKey::Mac(m));
            }
        }
        self.read.registrations = so_far.registrations.len();
        // A SIP REGISTER as `SEP<MAC>` makes a phone as an SCCP one does (issue 19 item 6);
        // another name or none is not a phone's, so it is not kept here either.
        let new_sip = fresh_pair(
            (
                so_far.udp_sip_registrations,
                &mut self.read.udp_sip_registrations,
                Ref::Udp,
            ),
            (
                so_far.tcp_sip_registrations,
                &mut self.read.tcp_sip_registrations,
                Ref::Tcp,
            ),
        );
        for (at, reg) in new_sip {
            if let Some(m) = reg.device_name.as_deref().and_then(device_mac) {
                self.claim(reg.phone.ip, &m);
                self.sip_registrations
                    .entry(m.clone())
                    .or_default()
                    .push(at);
                self.phones.insert(PhoneKey::Mac(m));
            }
        }
        for (i, session) in so_far
            .phone_tls
            .iter()
            .enumerate()
            .skip(self.read.phone_tls)
        {
            self.tls.entry(session.client.ip).or_default().push(i);
            let key = self.key(session.client.ip, None);
            let tvs = session.server.port == 2445 || session.service.as_deref() == Some("tvs");
            // TVS vouching (or not) after the boot, e.g. for a web service's certificate.
            if tvs && self.printed.contains_key(&key) {
                mark(due, key, Trigger::Config);
            } else if self.broken.contains(&key) {
                mark(due, key, Trigger::Maybe);
            }
        }
        self.read.phone_tls = so_far.phone_tls.len();
    }

    /// Diagnoses the phone `key` on its records so far; its line when its boot ended and the
    /// line is new or changed.
    fn check(
        &mut self,
        so_far: &SoFar<'_>,
        key: &PhoneKey,
        trigger: Trigger,
    ) -> Option<FollowLine> {
        // Bounded like the final report: no more phones than it diagnoses.
        if !self.printed.contains_key(key) && self.printed.len() >= self.limits.max_phones {
            return None;
        }
        let phone = self.diagnose(so_far, key)?;
        let ended = trigger == Trigger::Config
            || phone.checks.iter().any(|c| {
                matches!(c.id, "boot-loop" | "transfer-stall") && c.status == Status::Fail
            });
        if !ended {
            return None;
        }
        let before = self.printed.insert(key.clone(), decided(&phone));
        if before == Some(decided(&phone)) {
            return None;
        }
        Some(FollowLine {
            text: verdict_line(&phone, self.color),
            update: before.is_some(),
        })
    }

    /// The phone's records so far as evidence of their own, in the order the collector's
    /// end gives them (files and sessions by first frame, alarms by frame).
    fn evidence_of(&self, so_far: &SoFar<'_>, key: &PhoneKey) -> Evidence {
        let (mac, ips): (Option<&String>, Vec<IpAddr>) = match key {
            PhoneKey::Mac(m) => (Some(m), self.mac_ips.get(m).cloned().unwrap_or_default()),
            PhoneKey::Ip(ip) => (None, vec![*ip]),
        };
        let mut buckets: Vec<PhoneKey> = ips.iter().map(|ip| PhoneKey::Ip(*ip)).collect();
        if let Some(m) = mac {
            buckets.push(PhoneKey::Mac(m.clone()));
        }
        let files = gathered(
            buckets.iter().filter_map(|b| self.files.get(b)).flatten(),
            so_far.tftp_files,
            so_far.http_files,
            |f| f.first.frame,
        );
        let alarms = gathered(
            buckets.iter().filter_map(|b| self.alarms.get(b)).flatten(),
            so_far.udp_alarms,
            so_far.tcp_alarms,
            |a| a.seen.frame,
        );
        let mut tls: Vec<_> = ips
            .iter()
            .filter_map(|ip| self.tls.get(ip))
            .flatten()
            .filter_map(|&i| so_far.phone_tls.get(i))
            .chain(
                so_far
                    .recent_tls
                    .iter()
                    .filter(|s| ips.contains(&s.client.ip)),
            )
            .cloned()
            .collect();
        tls.sort_by_key(|s| s.first.frame);
        let mut registrations: Vec<_> = mac
            .and_then(|m| self.registrations.get(m))
            .into_iter()
            .flatten()
            .filter_map(|&i| so_far.registrations.get(i))
            .cloned()
            .collect();
        registrations.sort_by_key(|r| r.seen.frame);
        let sip_registrations = gathered(
            mac.and_then(|m| self.sip_registrations.get(m))
                .into_iter()
                .flatten(),
            so_far.udp_sip_registrations,
            so_far.tcp_sip_registrations,
            |r| r.seen.frame,
        );
        Evidence {
            captures: vec![self.summary.clone()],
            files,
            tls,
            tls_aggregates: Vec::new(),
            alarms,
            losses: Vec::new(),
            registrations,
            sip_registrations,
        }
    }

    /// The diagnosis of phone `key` on its records so far, with the operator's facts about
    /// it: its own (`SEP<MAC>=…`, inventory rows, `--evidence` naming it) and, while it is
    /// the only phone seen, those given without a phone.
    fn diagnose(&mut self, so_far: &SoFar<'_>, key: &PhoneKey) -> Option<PhoneDiagnosis> {
        let key = match key {
            PhoneKey::Ip(ip) => match self.ip_mac.get(ip) {
                Some(m) => PhoneKey::Mac(m.clone()),
                None => key.clone(),
            },
            PhoneKey::Mac(_) => key.clone(),
        };
        let evidence = self.evidence_of(so_far, &key);
        let mac = match &key {
            PhoneKey::Mac(m) => Some(m.clone()),
            PhoneKey::Ip(_) => None,
        };
        let single = self.phones.len() <= 1;
        // The facts about this phone are moved into a set of their own for the call and
        // moved back after: nothing of an inventory of thousands is copied per diagnosis.
        let facts = &mut self.facts;
        let scoped_at = mac.as_ref().and_then(|m| self.scoped_index.get(m)).copied();
        let scoped: Vec<_> = scoped_at
            .and_then(|i| facts.scoped.get_mut(i))
            .map(std::mem::take)
            .into_iter()
            .collect();
        let all_side = std::mem::take(&mut facts.side.facts);
        let chosen: Vec<usize> = mac
            .as_ref()
            .and_then(|m| self.side_named.get(m))
            .into_iter()
            .flatten()
            .chain(self.side_unnamed.iter().filter(|_| single))
            .copied()
            .collect();
        let mut side = std::mem::take(&mut facts.side);
        side.facts = chosen
            .into_iter()
            .filter_map(|i| all_side.get(i).cloned())
            .collect();
        let unscoped = |v: &mut Option<_>| if single { v.take() } else { None };
        let mine = OperatorFacts {
            phone_itl: unscoped(&mut facts.phone_itl),
            phone_itl_hash: if single {
                facts.phone_itl_hash.take()
            } else {
                None
            },
            phone_ctl: unscoped(&mut facts.phone_ctl),
            phone_status: if single {
                facts.phone_status
            } else {
                PhoneStatus::Unknown
            },
            key_backup: facts.key_backup,
            side,
            scoped,
        };
        self.diagnoses += 1;
        let diagnosis = diagnose_limited(&evidence, &mine, self.backend, self.limits);
        // Everything moved back where it was.
        let OperatorFacts {
            phone_itl,
            phone_itl_hash,
            phone_ctl,
            mut side,
            mut scoped,
            ..
        } = mine;
        if single {
            facts.phone_itl = phone_itl;
            facts.phone_itl_hash = phone_itl_hash;
            facts.phone_ctl = phone_ctl;
        }
        side.facts = all_side;
        facts.side = side;
        if let (Some(i), Some(entry)) = (scoped_at, scoped.pop())
            && let Some(slot) = facts.scoped.get_mut(i)
        {
            *slot = entry;
        }
        diagnosis.phones.into_iter().find(|p| match &key {
            PhoneKey::Mac(m) => p.mac.as_ref() == Some(m),
            PhoneKey::Ip(ip) => p.mac.is_none() && (p.ip == Some(*ip) || p.other_ips.contains(ip)),
        })
    }

    /// After the final diagnosis: a line marked as an update for each phone whose line was
    /// printed while reading and that the final report decides differently (the evidence
    /// after its boot, or a second phone that made the options given without a phone apply
    /// to none).
    pub fn final_updates(&self, diagnosis: &Diagnosis) -> Vec<FollowLine> {
        diagnosis
            .phones
            .iter()
            .filter_map(|p| self.final_update(p))
            .collect()
    }

    /// [`Follower::final_updates`] of one phone: its update line if the whole capture
    /// changed the verdict printed while reading (so the phones can be diagnosed one at a
    /// time, issue 20).
    pub fn final_update(&self, p: &PhoneDiagnosis) -> Option<FollowLine> {
        let key = match (&p.mac, p.ip) {
            (Some(m), _) => PhoneKey::Mac(m.clone()),
            (None, Some(ip)) => PhoneKey::Ip(ip),
            (None, None) => return None,
        };
        let before = self.printed.get(&key)?;
        (*before != decided(p)).then(|| FollowLine {
            text: verdict_line(p, self.color),
            update: true,
        })
    }

    /// Phones whose line was printed while reading.
    pub fn phones_printed(&self) -> usize {
        self.printed.len()
    }
}

/// Reads the capture at `path` (`-`: standard input) as it arrives, giving each verdict line
/// to `emit` as soon as a phone's boot ends, until the input ends or `stop` is set (Ctrl-C).
/// The capture's result is what [`crate::pipeline::read_capture`] gives for the frames read;
/// the follower gives back the facts and knows the lines printed.
pub fn follow_capture<'b>(
    path: &std::path::Path,
    options: &PipelineOptions,
    follower: &mut Follower<'b>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    mut emit: impl FnMut(&FollowLine),
) -> Result<CaptureResult, crate::capture::CaptureError> {
    let reader = pipeline::open_live(path, options, stop)?;
    Ok(pipeline::run_live(
        reader,
        options,
        stop,
        |collector, packet| {
            for line in follower.packet(collector, packet) {
                emit(&line);
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::trust::CiscoBackend;
    use crate::pipeline::{open_live, read_capture, run_live};
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// Follows a scenario capture: each line printed, with the frame it was printed at.
    fn follow(path: &Path) -> (Vec<(u64, FollowLine)>, u64) {
        let options = PipelineOptions::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut follower = Follower::new(
            OperatorFacts::default(),
            &CiscoBackend,
            Limits::default(),
            &path.display().to_string(),
            false,
        );
        let reader = open_live(path, &options, &stop).expect("opens");
        let mut lines = Vec::new();
        run_live(reader, &options, &stop, |collector, packet| {
            for line in follower.packet(collector, packet) {
                lines.push((packet.frame, line));
            }
        });
        (lines, follower.diagnoses)
    }

    /// The first `frames` records of a pcap file, as a file of their own.
    fn cut(path: &Path, frames: u64, out: &Path) {
        let bytes = std::fs::read(path).expect("reads");
        let mut at = 24;
        for _ in 0..frames {
            let len = bytes
                .get(at + 8..at + 12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .expect("record header");
            at += 16 + len;
        }
        std::fs::write(out, &bytes[..at]).expect("writes");
    }

    /// Statement 6 (CTL, ITL, then the config ends the boot): the line printed when a boot
    /// ends is the line the report gives for a capture that stops right there: the same
    /// diagnosis on the same evidence, not a decision of its own.
    #[test]
    fn statement_6_each_line_is_the_reports_line_for_the_capture_up_to_there() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut compared = 0;
        for name in [
            "healthy-tftp-boot.pcap",
            "cm-and-tvs-regenerated.pcap",
            "two-phones-voice-vlan.pcap",
            "encrypted-config.pcap",
            "boot-loop.pcap",
            "transfer-stall.pcap",
            "rebuilt-without-key.pcap",
        ] {
            let path = repo.join(name);
            let (lines, _) = follow(&path);
            assert!(!lines.is_empty(), "{name}: no line");
            for (frame, line) in lines {
                let prefix = dir.path().join(format!("{frame}-{name}"));
                cut(&path, frame, &prefix);
                let evidence = read_capture(&prefix, &PipelineOptions::default())
                    .expect("reads")
                    .into_evidence();
                let report = crate::diagnosis::diagnose(&evidence, &OperatorFacts::default());
                let name_of = line.text.split_whitespace().next().unwrap_or_default();
                let phone = report
                    .phones
                    .iter()
                    .find(|p| crate::report::fleet::phone_name(p) == name_of)
                    .unwrap_or_else(|| panic!("{name}: {name_of} in the report"));
                assert_eq!(
                    decided(phone).0,
                    {
                        let word = line.text.split("  ").nth(1).unwrap_or_default();
                        match word.trim() {
                            "DELETE THE ITL" => DeleteItl::Required,
                            "DO NOT DELETE" => DeleteItl::NotRequired,
                            _ => DeleteItl::Undetermined,
                        }
                    },
                    "{name} at frame {frame}: {}",
                    line.text
                );
                assert_eq!(
                    verdict_line(phone, false),
                    line.text,
                    "{name} at frame {frame}"
                );
                compared += 1;
            }
        }
        assert!(compared >= 7, "{compared}");
    }

    #[test]
    fn a_phone_is_diagnosed_only_when_its_boot_may_end() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        // One boot: the config, then the TVS session after it (frames: 80).
        let (_, diagnoses) = follow(&repo.join("healthy-tftp-boot.pcap"));
        assert_eq!(diagnoses, 2);
        // Four cycles of a boot loop: a few per cycle, not one per packet (frames: 150+).
        let (lines, diagnoses) = follow(&repo.join("boot-loop.pcap"));
        assert!(diagnoses <= 12, "{diagnoses}");
        assert_eq!(lines.iter().filter(|(_, l)| l.update).count(), 1);
    }

    /// A SIP REGISTER as `SEP<MAC>` (UDP 5060), then that phone's config over TFTP, as a
    /// pcap file in `dir`.
    fn sip_phone_capture(dir: &Path) -> std::path::PathBuf {
        use itlscope_gen::conv::tftp::{TftpAnswer, TftpRead};
        use itlscope_gen::conv::{Format, Framing, Host, MS, SEC, Trace, write_capture};
        let phone = Host::new([0x00, 0x11, 0x22, 0x33, 0xaa, 0x07], "10.1.0.7");
        let cucm = Host::new([0x00, 0x00, 0x5e, 0x00, 0x53, 0x01], "10.9.0.1");
        let register = "REGISTER sip:10.9.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.0.7:5060;branch=z9hG4bK7\r\nFrom: <sip:1007@10.9.0.1>;tag=7\r\nTo: <sip:1007@10.9.0.1>\r\nCall-ID: 7@10.1.0.7\r\nCSeq: 101 REGISTER\r\nUser-Agent: Cisco-CP8845/14.2.1\r\nContact: <sip:1007@10.1.0.7;transport=udp>;+u.sip!devicename.ccm.cisco.com=\"SEP00112233AA07\"\r\nReason: SIP;cause=200;text=\"cisco-alarm:25 Name=SEP00112233AA07 ActiveLoad=sip88xx.14-2-1-0001-14\"\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n";
        let start = 1_700_000_000 * SEC;
        let mut trace = Trace::new();
        trace.udp(start, (&phone, 5060), (&cucm, 5060), register.as_bytes());
        TftpRead::new(
            (phone, 50007),
            cucm,
            40007,
            "SEP00112233AA07.cnf.xml",
            TftpAnswer::File(b"<device><loadInformation/></device>".to_vec()),
        )
        .write(&mut trace, start + 100 * MS);
        let bytes = write_capture(
            &trace.finish(),
            Format::Pcap,
            &Framing::Ethernet { vlans: Vec::new() },
        );
        let path = dir.join("sip-phone.pcap");
        std::fs::write(&path, bytes).expect("writes");
        path
    }

    /// Issue 19 item 6 with statement 6 (the config ends the boot): a phone that registers
    /// over SIP as `SEP<MAC>` has that registration in its live evidence, so its live
    /// diagnosis (model and firmware from the REGISTER) and line are the final report's.
    #[test]
    fn statement_6_a_sip_registered_phone_is_followed_with_its_registration() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = sip_phone_capture(dir.path());
        let options = PipelineOptions::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut follower = Follower::new(
            OperatorFacts::default(),
            &CiscoBackend,
            Limits::default(),
            &path.display().to_string(),
            false,
        );
        let key = PhoneKey::Mac("00112233AA07".to_string());
        let reader = open_live(&path, &options, &stop).expect("opens");
        let mut lines = Vec::new();
        let mut live = None;
        run_live(reader, &options, &stop, |collector, packet| {
            lines.extend(follower.packet(collector, packet));
            let so_far = collector.so_far();
            live = Some((
                follower.evidence_of(&so_far, &key),
                follower.diagnose(&so_far, &key),
            ));
        });
        let (evidence, phone) = live.expect("packets were read");
        let phone = phone.expect("the phone is diagnosed");
        let report_evidence = read_capture(&path, &PipelineOptions::default())
            .expect("reads")
            .into_evidence();
        assert_eq!(report_evidence.sip_registrations.len(), 1);
        assert_eq!(
            evidence.sip_registrations,
            report_evidence.sip_registrations
        );
        let report = crate::diagnosis::diagnose(&report_evidence, &OperatorFacts::default());
        let final_phone = report
            .phones
            .iter()
            .find(|p| p.mac.as_deref() == Some("00112233AA07"))
            .expect("the phone is in the report");
        assert_eq!(phone.sip_registration, final_phone.sip_registration);
        assert!(phone.sip_registration.is_some());
        assert_eq!(
            format!("{:?}", phone.device),
            format!("{:?}", final_phone.device)
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            lines.first().map(|l| l.text.clone()),
            Some(verdict_line(final_phone, false))
        );
    }
}
