//! Grouping the evidence per phone: by the MAC its requested names carry (`SEP<MAC>…`,
//! `ITLSEP<MAC>.tlv`, `CTLSEP<MAC>.tlv`) or its `DeviceTLInfo` alarm names, else by client IP.
//! TLS sessions and alarms attach to the phone that owns their client IP.
//!
//! Only hosts that give evidence a phone gives become one: a phone's file requested
//! (`SEP*`, `ITL*`, `CTL*`, `XMLDefault*`, a signed `.sgn` file, a `.loads` firmware load, or
//! anything from the phones' HTTP file port 6970), a `DeviceTLInfo` alarm, an SCCP
//! or SIP registration as `SEP<MAC>`, or TLS to a service only phones use (TVS, CAPF, HTTPS TFTP).
//! Routers fetching `R1.cfg` and hosts uploading files are "other TFTP clients": counted
//! with what they fetched, not diagnosed. SCCP or SIP over TLS (2443, 5061) alone does not
//! make a phone (voice gateways and trunks use them too), unless the client's certificate is
//! a phone's (`CN=CP-<model>-SEP<MAC>`). A SIP REGISTER that names no `SEP<MAC>` makes a phone
//! only when its `User-Agent` names a Cisco phone model (`Cisco-CP8845/…`), and otherwise
//! joins the phone at its address, if there is one. At most `max_phones` are kept, the
//! first seen, and a note says how many were left out, so the diagnosis stays bounded
//! whatever the capture holds.

use super::names::{RequestKind, classify, ends_with_ci};
use crate::evidence::Seen;
use crate::evidence::{Evidence, FileTransfer, FileTransport, TlsSession};
use crate::proto::sip::is_phone_user_agent;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

/// How a phone is identified.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PhoneKey {
    /// By MAC (12 upper-case hex).
    Mac(String),
    /// By IP only: no requested name or alarm named its MAC.
    Ip(IpAddr),
}

/// The evidence of one phone, as indices into [`Evidence`]'s lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneEvidence {
    /// MAC, when a name carried it.
    pub mac: Option<String>,
    /// Client IPs, in order of first appearance (the first [`MAX_IPS_PER_PHONE`]).
    pub ips: Vec<IpAddr>,
    /// True when the phone used more addresses than [`MAX_IPS_PER_PHONE`].
    pub ips_cut: bool,
    /// Indices into `Evidence::files`.
    pub files: Vec<usize>,
    /// Indices into `Evidence::tls`.
    pub tls: Vec<usize>,
    /// Indices into `Evidence::alarms`.
    pub alarms: Vec<usize>,
    /// Indices into `Evidence::registrations` (SCCP registrations as this phone).
    pub registrations: Vec<usize>,
    /// Indices into `Evidence::sip_registrations` (SIP REGISTERs as this phone's `SEP<MAC>`, or
    /// naming no `SEP<MAC>` and sent from its address).
    pub sip_registrations: Vec<usize>,
    /// Indices into `Evidence::losses` that concern this phone: its addresses' and those no
    /// address could be given for ([`super::loss_index::LossIndex`]).
    pub losses: Vec<usize>,
    /// Indices into `Evidence::tls_aggregates` that summed sessions of its addresses.
    pub tls_aggregates: Vec<usize>,
}

/// True for TLS services only a phone talks to: TVS (2445), CAPF (3804), HTTPS TFTP (6971,
/// 6972). HTTPS on 443/8443 is what any PC browses, and SCCP/SIP over TLS (2443, 5061) is
/// what voice gateways, media resources and trunks use as well, so neither makes a phone by
/// itself (each still attaches to a host that is a phone).
fn phone_service(session: &TlsSession) -> bool {
    match session.server.port {
        2445 | 3804 | 6971 | 6972 => true,
        _ => matches!(
            session.service.as_deref(),
            Some("tvs" | "capf" | "https-tftp")
        ),
    }
}

/// True when requesting this file is something a phone does: a name of the phone's trust
/// bootstrap (`SEP*`, `ITL*`, `CTL*`, `XMLDefault*`), a signed `.sgn` file, a `.loads`
/// firmware load, or any download from the phones' HTTP file port. An upload never is
/// (phones do not write files over TFTP), nor a name such as a router's `R1.cfg`.
fn phone_file(file: &FileTransfer) -> bool {
    if file.upload {
        return false;
    }
    let (kind, mac) = classify(&file.name);
    kind != RequestKind::Other
        || mac.is_some()
        || file.transport == FileTransport::Http
        || ends_with_ci(&file.name, ".sgn")
        || ends_with_ci(&file.name, ".loads")
}

/// Hosts listed one by one among "other TFTP clients" (the rest are counted).
const MAX_OTHER_CLIENTS: usize = 10;

/// Names listed per other TFTP client (the rest are counted).
const MAX_OTHER_NAMES: usize = 5;

/// What a host that is not a phone did over TFTP.
#[derive(Debug, Default)]
struct OtherClient {
    downloads: usize,
    uploads: usize,
    names: Vec<String>,
}

/// The "other TFTP clients" note: each host (the first few) with what it fetched or sent.
fn other_clients_note(others: &BTreeMap<IpAddr, OtherClient>) -> Option<String> {
    if others.is_empty() {
        return None;
    }
    let mut listed: Vec<String> = others
        .iter()
        .take(MAX_OTHER_CLIENTS)
        .map(|(ip, c)| {
            let total = c.downloads + c.uploads;
            let mut what = Vec::new();
            if c.downloads > 0 {
                what.push(format!("fetched {}", c.downloads));
            }
            if c.uploads > 0 {
                what.push(format!("uploaded {}", c.uploads));
            }
            let more = total.saturating_sub(c.names.len());
            let mut names = c.names.join(", ");
            if more > 0 {
                names.push_str(&format!(" and {more} more"));
            }
            format!("{ip} {} file(s): {names}", what.join(" and "))
        })
        .collect();
    if others.len() > MAX_OTHER_CLIENTS {
        listed.push(format!("{} more host(s)", others.len() - MAX_OTHER_CLIENTS));
    }
    Some(format!(
        "{} other TFTP client(s) gave no evidence of being a phone (no SEP/ITL/CTL file, no SCCP registration as SEP<MAC>, no DeviceTLInfo alarm, no TLS to TVS/CAPF) and were not diagnosed: {}",
        others.len(),
        listed.join("; ")
    ))
}

/// Kept here for its users: the type lives in [`super::model`], which the grouping does not
/// feed back into.
pub use super::model::Registration;

/// The last SCCP registration of a phone, if it registered over SCCP.
pub fn registration(phone: &PhoneEvidence, evidence: &Evidence) -> Option<Registration> {
    use crate::evidence::RegistrationOutcome;
    let r = phone
        .registrations
        .iter()
        .filter_map(|&i| evidence.registrations.get(i))
        .max_by_key(|r| (r.seen.capture, r.seen.frame))?;
    let (outcome, reason) = match &r.outcome {
        RegistrationOutcome::Accepted { .. } => ("accepted", None),
        RegistrationOutcome::Rejected { reason, .. } => ("rejected", Some(reason.clone())),
        RegistrationOutcome::Unanswered => ("unanswered", None),
    };
    Some(Registration {
        device_name: r.device_name.clone(),
        model: r.model.clone(),
        cucm: r.cucm,
        outcome,
        reason,
        seen: r.seen,
    })
}

/// The last SIP registration of a phone as its `SEP<MAC>`, if it registered over SIP.
pub fn sip_registration(
    phone: &PhoneEvidence,
    evidence: &Evidence,
) -> Option<crate::evidence::SipRegistration> {
    phone
        .sip_registrations
        .iter()
        .filter_map(|&i| evidence.sip_registrations.get(i))
        .max_by_key(|r| (r.seen.capture, r.seen.frame))
        .cloned()
}

/// Addresses kept per phone: a phone has one or two; a crafted capture could give a MAC
/// 100,000 (and make every lookup in the list slow).
pub const MAX_IPS_PER_PHONE: usize = 64;

/// "Requested files for two phones" notes written one by one; more are counted.
const MAX_CONFLICT_NOTES: usize = 20;

/// MAC from a `DeviceName` such as `SEP0011223344AA`.
pub fn mac_from_device_name(name: &str) -> Option<String> {
    if name.len() != 15 {
        return None;
    }
    let prefix = name.get(..3)?;
    let digits = name.get(3..)?;
    (prefix.eq_ignore_ascii_case("SEP") && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_uppercase())
}

/// MAC from a phone's own TLS certificate: a subject whose CN is `CP-<model>-SEP<MAC>` (the
/// manufacturer-installed certificate) or `SEP<MAC>`.
fn mac_from_certificate_subject(subject: &str) -> Option<String> {
    let cn = subject
        .split([',', '/'])
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))?;
    let at = cn.len().checked_sub(15)?;
    let mac = mac_from_device_name(cn.get(at..)?)?;
    let head = cn.get(..at)?;
    let is_phone = head.is_empty()
        || (head.len() > 4
            && head.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("CP-"))
            && head.ends_with('-'));
    is_phone.then_some(mac)
}

/// Groups the evidence per phone. Returns at most `max_phones` phones (the first seen;
/// MAC-identified first, by MAC, then IP-identified, by IP) and notes about anything
/// ambiguous, ignored or left out.
pub fn group(evidence: &Evidence, max_phones: usize) -> (Vec<PhoneEvidence>, Vec<String>) {
    let mut notes = Vec::new();
    // First pass: which MAC owns which IP (the first name seen wins). Conflicts are noted
    // one by one up to a few, then counted: a crafted capture could make 100,000 of them.
    let mut ip_mac: BTreeMap<IpAddr, String> = BTreeMap::new();
    let mut conflicts: BTreeSet<(IpAddr, String)> = BTreeSet::new();
    let mut claim = |ip: IpAddr, mac: String, notes: &mut Vec<String>| match ip_mac.get(&ip) {
        None => {
            ip_mac.insert(ip, mac);
        }
        Some(owner) if *owner != mac => {
            if conflicts.len() < MAX_CONFLICT_NOTES && !conflicts.contains(&(ip, mac.clone())) {
                notes.push(format!(
                    "{ip} requested files for two phones ({owner} and {mac}): files are kept with the MAC they name"
                ));
            }
            conflicts.insert((ip, mac));
        }
        Some(_) => {}
    };
    // Which hosts gave evidence a phone gives (the only ones diagnosed).
    let mut phone_ips: HashSet<IpAddr> = HashSet::new();
    for file in evidence.files.iter().filter(|f| phone_file(f)) {
        phone_ips.insert(file.client.ip);
        if let (_, Some(mac)) = classify(&file.name) {
            claim(file.client.ip, mac, &mut notes);
        }
    }
    let mut other_devices: BTreeSet<(IpAddr, String)> = BTreeSet::new();
    for reg in &evidence.registrations {
        match mac_from_device_name(&reg.device_name) {
            Some(mac) => {
                phone_ips.insert(reg.phone.ip);
                claim(reg.phone.ip, mac, &mut notes);
            }
            None => {
                other_devices.insert((reg.phone.ip, reg.device_name.clone()));
            }
        }
    }
    // A SIP REGISTER as `SEP<MAC>` is what a phone does (issue 19 item 6), and so is one
    // whose `User-Agent` names a Cisco phone model (`Cisco-CP8845/14.2.1`): only phones send
    // that agent, so the host is a phone known by its address. Another name or agent (a
    // gateway, Jabber, a soft client) makes no phone by itself; its REGISTER still joins a
    // host that is a phone on other evidence (below).
    let mut other_sip: BTreeSet<IpAddr> = BTreeSet::new();
    for reg in &evidence.sip_registrations {
        match reg.device_name.as_deref().and_then(mac_from_device_name) {
            Some(mac) => {
                phone_ips.insert(reg.phone.ip);
                claim(reg.phone.ip, mac, &mut notes);
            }
            None if reg.user_agent.as_deref().is_some_and(is_phone_user_agent) => {
                phone_ips.insert(reg.phone.ip);
            }
            None => {
                other_sip.insert(reg.phone.ip);
            }
        }
    }
    phone_ips.extend(evidence.alarms.iter().map(|a| a.phone.ip));
    for session in &evidence.tls {
        if let Some(mac) = session
            .client_certificate
            .as_ref()
            .and_then(|c| mac_from_certificate_subject(&c.subject))
        {
            phone_ips.insert(session.client.ip);
            claim(session.client.ip, mac, &mut notes);
        }
    }
    phone_ips.extend(
        evidence
            .tls
            .iter()
            .filter(|s| phone_service(s))
            .map(|s| s.client.ip),
    );
    for alarm in &evidence.alarms {
        if let Some(mac) = alarm.device_name.as_deref().and_then(mac_from_device_name) {
            claim(alarm.phone.ip, mac, &mut notes);
        }
    }
    if conflicts.len() > MAX_CONFLICT_NOTES {
        notes.push(format!(
            "{} more time(s) an address requested files for a second phone (not listed one by one)",
            conflicts.len() - MAX_CONFLICT_NOTES
        ));
    }

    let mut phones: BTreeMap<PhoneKey, PhoneEvidence> = BTreeMap::new();
    let key_for_ip = |ip: IpAddr| match ip_mac.get(&ip) {
        Some(mac) => PhoneKey::Mac(mac.clone()),
        None => PhoneKey::Ip(ip),
    };
    fn entry(
        phones: &mut BTreeMap<PhoneKey, PhoneEvidence>,
        key: PhoneKey,
        ip: IpAddr,
    ) -> &mut PhoneEvidence {
        let phone = phones.entry(key.clone()).or_insert_with(|| PhoneEvidence {
            mac: match &key {
                PhoneKey::Mac(m) => Some(m.clone()),
                PhoneKey::Ip(_) => None,
            },
            ips: Vec::new(),
            files: Vec::new(),
            tls: Vec::new(),
            alarms: Vec::new(),
            registrations: Vec::new(),
            sip_registrations: Vec::new(),
            losses: Vec::new(),
            tls_aggregates: Vec::new(),
            ips_cut: false,
        });
        if !phone.ips.contains(&ip) {
            if phone.ips.len() < MAX_IPS_PER_PHONE {
                phone.ips.push(ip);
            } else {
                phone.ips_cut = true;
            }
        }
        phone
    }
    let mut others: BTreeMap<IpAddr, OtherClient> = BTreeMap::new();
    for (i, file) in evidence.files.iter().enumerate() {
        if !phone_ips.contains(&file.client.ip) {
            let other = others.entry(file.client.ip).or_default();
            if file.upload {
                other.uploads += 1;
            } else {
                other.downloads += 1;
            }
            if other.names.len() < MAX_OTHER_NAMES && !other.names.contains(&file.name) {
                other.names.push(file.name.clone());
            }
            continue;
        }
        let key = match classify(&file.name) {
            (_, Some(mac)) => PhoneKey::Mac(mac),
            (_, None) => key_for_ip(file.client.ip),
        };
        entry(&mut phones, key, file.client.ip).files.push(i);
    }
    for (i, alarm) in evidence.alarms.iter().enumerate() {
        let key = match alarm.device_name.as_deref().and_then(mac_from_device_name) {
            Some(mac) => PhoneKey::Mac(mac),
            None => key_for_ip(alarm.phone.ip),
        };
        entry(&mut phones, key, alarm.phone.ip).alarms.push(i);
    }
    for (i, reg) in evidence.registrations.iter().enumerate() {
        if let Some(mac) = mac_from_device_name(&reg.device_name) {
            entry(&mut phones, PhoneKey::Mac(mac), reg.phone.ip)
                .registrations
                .push(i);
        }
    }
    for (i, reg) in evidence.sip_registrations.iter().enumerate() {
        let key = match reg.device_name.as_deref().and_then(mac_from_device_name) {
            Some(mac) => PhoneKey::Mac(mac),
            // Naming no `SEP<MAC>`, it is the REGISTER of the phone at its address (the one
            // that downloaded its files there, say), whose model and firmware its agent
            // tells; a host that is no phone keeps it out of the diagnosis.
            None if phone_ips.contains(&reg.phone.ip) => key_for_ip(reg.phone.ip),
            None => continue,
        };
        entry(&mut phones, key, reg.phone.ip)
            .sip_registrations
            .push(i);
    }
    other_sip.retain(|ip| !phone_ips.contains(ip));
    if !other_sip.is_empty() {
        let listed: Vec<String> = other_sip
            .iter()
            .take(MAX_OTHER_CLIENTS)
            .map(ToString::to_string)
            .collect();
        notes.push(format!(
            "{} host(s) registered over SIP under a name that is not SEP<MAC> (a gateway, trunk or soft client, not a phone) and were not diagnosed: {}{}",
            other_sip.len(),
            listed.join(", "),
            if other_sip.len() > MAX_OTHER_CLIENTS { ", …" } else { "" }
        ));
    }
    notes.extend(other_clients_note(&others));
    if !other_devices.is_empty() {
        let listed: Vec<String> = other_devices
            .iter()
            .take(MAX_OTHER_CLIENTS)
            .map(|(ip, name)| format!("{ip} as {name:?}"))
            .collect();
        notes.push(format!(
            "{} SCCP registration(s) under a name that is not SEP<MAC> (a gateway, media resource or other device, not a phone) were not diagnosed: {}{}",
            other_devices.len(),
            listed.join(", "),
            if other_devices.len() > MAX_OTHER_CLIENTS { ", …" } else { "" }
        ));
    }
    let mut ignored_sessions = 0usize;
    // Bounded by the evidence's own record limit; only the count reaches the report.
    let mut ignored_hosts: BTreeSet<IpAddr> = BTreeSet::new();
    for (i, session) in evidence.tls.iter().enumerate() {
        let key = key_for_ip(session.client.ip);
        if phones.contains_key(&key) || phone_ips.contains(&session.client.ip) {
            entry(&mut phones, key, session.client.ip).tls.push(i);
        } else {
            ignored_sessions += 1;
            ignored_hosts.insert(session.client.ip);
        }
    }
    let summed: u64 = evidence.tls_aggregates.iter().map(|a| a.sessions).sum();
    if summed > 0 {
        notes.push(format!(
            "{summed} more TLS session(s) of hosts that did not behave like phones were summed per server and certificate ({} aggregate(s), `tls_aggregates`), not kept one by one",
            evidence.tls_aggregates.len()
        ));
    }
    if ignored_sessions > 0 {
        notes.push(format!(
            "{} host(s) with only TLS to non-phone ports (e.g. a PC browsing on 443/8443; no phone file requested, no DeviceTLInfo alarm, no TVS/CAPF/phone TLS port) were not diagnosed: {ignored_sessions} TLS session(s) left out",
            ignored_hosts.len()
        ));
    }
    let mut phones: Vec<PhoneEvidence> = phones.into_values().collect();
    if evidence.captures.len() > 1 {
        for phone in &phones {
            spanning_note(phone, evidence, &mut notes);
        }
    }
    let ips_cut = phones.iter().filter(|p| p.ips_cut).count();
    if ips_cut > 0 {
        notes.push(format!(
            "limit: {ips_cut} phone(s) used more than {MAX_IPS_PER_PHONE} addresses: only the first {MAX_IPS_PER_PHONE} of each are listed"
        ));
    }
    if phones.len() > max_phones {
        let total = phones.len();
        keep_first_seen(&mut phones, evidence, max_phones);
        notes.push(format!(
            "limit: {} more phone(s) were not diagnosed: only the first {max_phones} seen of {total} are (raise it with --max-phones)",
            total - max_phones
        ));
    }
    // Each phone's losses and aggregates, found through one index of the whole evidence.
    let index = super::loss_index::LossIndex::of(evidence);
    for phone in &mut phones {
        (phone.losses, phone.tls_aggregates) = index.of_phone(&phone.ips);
    }
    (phones, notes)
}

/// A phone whose evidence comes from several captures is one phone, merged: says so, with
/// the captures, so nobody reads two files' frame numbers as one sequence.
fn spanning_note(phone: &PhoneEvidence, evidence: &Evidence, notes: &mut Vec<String>) {
    let captures: BTreeSet<usize> = phone
        .files
        .iter()
        .filter_map(|&i| evidence.files.get(i).map(|f| f.first.capture))
        .chain(
            phone
                .tls
                .iter()
                .filter_map(|&i| evidence.tls.get(i).map(|s| s.first.capture)),
        )
        .chain(
            phone
                .alarms
                .iter()
                .filter_map(|&i| evidence.alarms.get(i).map(|a| a.seen.capture)),
        )
        .chain(
            phone
                .registrations
                .iter()
                .filter_map(|&i| evidence.registrations.get(i).map(|r| r.seen.capture)),
        )
        .chain(
            phone
                .sip_registrations
                .iter()
                .filter_map(|&i| evidence.sip_registrations.get(i).map(|r| r.seen.capture)),
        )
        .collect();
    if captures.len() < 2 || notes.len() >= MAX_SPANNING_NOTES {
        return;
    }
    let names: Vec<&str> = captures
        .iter()
        .map(|&c| evidence.captures.get(c).map_or("?", |s| s.path.as_str()))
        .collect();
    let who = match (&phone.mac, phone.ips.first()) {
        (Some(mac), _) => format!("SEP{mac}"),
        (None, Some(ip)) => format!("{ip} (MAC unknown)"),
        (None, None) => "a phone".into(),
    };
    notes.push(format!(
        "{who} is in {} captures ({}): their evidence is merged into one phone, the timeline is in time order and every frame is named with its capture (file#frame)",
        names.len(),
        names.join(", ")
    ));
}

/// "Merged from several captures" notes written at most (the rest are not listed).
const MAX_SPANNING_NOTES: usize = 50;

/// When a phone was first seen: its earliest file, alarm or TLS session (by capture time,
/// then frame number).
fn first_seen(phone: &PhoneEvidence, evidence: &Evidence) -> (i64, u64) {
    let files = phone
        .files
        .iter()
        .filter_map(|&i| evidence.files.get(i))
        .map(|f| &f.first);
    let tls = phone
        .tls
        .iter()
        .filter_map(|&i| evidence.tls.get(i))
        .map(|s| &s.first);
    let alarms = phone
        .alarms
        .iter()
        .filter_map(|&i| evidence.alarms.get(i))
        .map(|a| &a.seen);
    let registrations = phone
        .registrations
        .iter()
        .filter_map(|&i| evidence.registrations.get(i))
        .map(|r| &r.seen);
    let sip_registrations = phone
        .sip_registrations
        .iter()
        .filter_map(|&i| evidence.sip_registrations.get(i))
        .map(|r| &r.seen);
    files
        .chain(tls)
        .chain(alarms)
        .chain(registrations)
        .chain(sip_registrations)
        .map(|s: &Seen| (s.ts.0, s.frame))
        .min()
        .unwrap_or((i64::MAX, u64::MAX))
}

/// Keeps the `max` phones seen first, in their original order.
fn keep_first_seen(phones: &mut Vec<PhoneEvidence>, evidence: &Evidence, max: usize) {
    let mut order: Vec<((i64, u64), usize)> = phones
        .iter()
        .enumerate()
        .map(|(i, p)| (first_seen(p, evidence), i))
        .collect();
    if max < order.len() {
        order.select_nth_unstable(max);
        order.truncate(max);
    }
    let mut keep = vec![false; phones.len()];
    for (_, i) in order {
        if let Some(k) = keep.get_mut(i) {
            *k = true;
        }
    }
    let mut flags = keep.into_iter();
    phones.retain(|_| flags.next().unwrap_or(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::{file, seen, tls};

    #[test]
    fn groups_by_mac_then_by_ip() {
        let mut ev = Evidence::default();
        ev.files
            .push(file("ITLSEP0011223344AA.tlv", "10.0.0.5", b"x"));
        ev.files
            .push(file("SEP0011223344AA.cnf.xml.sgn", "10.0.0.5", b"y"));
        ev.files.push(file("ITLFile.tlv", "10.0.0.5", b"z"));
        ev.files.push(file("ITLFile.tlv", "10.0.0.9", b"z"));
        ev.tls.push(tls("10.0.0.5", 2445));
        ev.tls.push(tls("10.0.0.9", 8443));
        ev.tls.push(tls("10.0.0.77", 443));
        let (phones, notes) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 2);
        assert_eq!(phones[0].mac.as_deref(), Some("0011223344AA"));
        assert_eq!(phones[0].files, vec![0, 1, 2]);
        assert_eq!(phones[0].tls, vec![0]);
        assert_eq!(phones[1].mac, None);
        assert_eq!(phones[1].ips, vec!["10.0.0.9".parse::<IpAddr>().unwrap()]);
        assert_eq!(phones[1].files, vec![3]);
        assert_eq!(phones[1].tls, vec![1]);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    /// Issue 19 item 6: a REGISTER naming no `SEP<MAC>` joins the phone at its address
    /// whatever its agent; from a host that is no phone, only a `Cisco-CP…` agent makes one.
    #[test]
    fn a_register_without_a_device_name_joins_the_phone_at_its_address() {
        let reg = |ip: &str, agent: &str| crate::evidence::SipRegistration {
            phone: format!("{ip}:5060").parse().expect("endpoint"),
            registrar: "10.9.0.1:5060".parse().expect("endpoint"),
            device_name: None,
            user_agent: Some(agent.to_string()),
            active_load: None,
            seen: seen(1),
        };
        let mut ev = Evidence::default();
        ev.files
            .push(file("SEP0011223344AA.cnf.xml", "10.0.0.5", b"x"));
        ev.sip_registrations
            .push(reg("10.0.0.5", "SomePhoneAgent/1"));
        ev.sip_registrations
            .push(reg("10.0.0.6", "Cisco-CP8845/14.2.1"));
        ev.sip_registrations
            .push(reg("10.0.0.7", "Cisco-SIPGateway/IOS"));
        let (phones, notes) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 2, "{phones:?}");
        assert_eq!(phones[0].mac.as_deref(), Some("0011223344AA"));
        assert_eq!(phones[0].sip_registrations, vec![0]);
        assert_eq!(phones[1].mac, None);
        assert_eq!(phones[1].sip_registrations, vec![1]);
        assert!(
            notes.iter().any(|n| n.contains("10.0.0.7"))
                && !notes.iter().any(|n| n.contains("10.0.0.6")),
            "{notes:?}"
        );
    }

    #[test]
    fn tftp_clients_without_phone_evidence_are_listed_not_diagnosed() {
        let mut ev = Evidence::default();
        for n in 0..12u32 {
            ev.files.push(file(
                &format!("R{n}.cfg"),
                &format!("10.6.0.{}", n + 1),
                b"x",
            ));
        }
        for n in 0..7u32 {
            ev.files.push(file(&format!("f{n}.txt"), "10.6.0.1", b"x"));
        }
        let mut up = file("SEP0011223344AA.cnf.xml", "10.6.1.1", b"x");
        up.upload = true;
        ev.files.push(up);
        // Statement 6: a phone's own files make a phone, and its other files stay with it.
        ev.files
            .push(file("SEP0011223344BB.cnf.xml", "10.6.2.1", b"x"));
        ev.files.push(file("Ringlist.xml", "10.6.2.1", b"x"));
        let (phones, notes) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].files, vec![20, 21]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let n = &notes[0];
        assert!(n.starts_with("13 other TFTP client(s)"), "{n}");
        assert!(
            n.contains(
                "10.6.0.1 fetched 8 file(s): R0.cfg, f0.txt, f1.txt, f2.txt, f3.txt and 3 more"
            ),
            "{n}"
        );
        assert!(n.ends_with("; 3 more host(s)"), "{n}");
    }

    #[test]
    fn a_phone_certificate_gives_the_mac() {
        for (subject, mac) in [
            (
                "CN=CP-7970G-SEP001122334455, O=Cisco Systems Inc.",
                Some("001122334455"),
            ),
            (
                "O=Cisco Systems Inc., CN=CP-8845-SEP0011223344aa",
                Some("0011223344AA"),
            ),
            ("CN=SEP001122334455", Some("001122334455")),
            ("CN=vgw1.example.com", None),
            ("CN=CP-SEP001122334455", None),
            ("CN=XSEP001122334455", None),
            ("CN=é", None),
            ("", None),
        ] {
            assert_eq!(
                mac_from_certificate_subject(subject).as_deref(),
                mac,
                "{subject}"
            );
        }
    }

    #[test]
    fn device_name_gives_mac() {
        assert_eq!(
            mac_from_device_name("SEP0011223344aa"),
            Some("0011223344AA".into())
        );
        assert_eq!(mac_from_device_name("SEP0011"), None);
        assert_eq!(mac_from_device_name("CSFuser"), None);
    }

    #[test]
    fn hundreds_of_phones_each_get_a_group() {
        let mut ev = Evidence::default();
        for n in 0..300u32 {
            let ip = format!("10.1.{}.{}", n / 250, n % 250 + 1);
            ev.files
                .push(file(&format!("ITLSEP0011223{n:05X}.tlv"), &ip, b"x"));
            ev.tls.push(tls(&ip, 2445));
        }
        let (phones, _) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 300);
        assert!(
            phones
                .iter()
                .all(|p| p.files.len() == 1 && p.tls.len() == 1)
        );
    }

    #[test]
    fn browsing_hosts_are_counted_not_diagnosed() {
        let mut ev = Evidence::default();
        for n in 0..1000u32 {
            let ip = format!("10.2.{}.{}", n / 250, n % 250 + 1);
            ev.tls.push(tls(&ip, if n % 2 == 0 { 443 } else { 8443 }));
        }
        ev.tls.push(tls("10.2.0.1", 443)); // a second session of the same PC
        ev.tls.push(tls("10.9.0.1", 3804)); // CAPF: a phone
        let (phones, notes) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].tls, vec![1001]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("1000 host(s) "), "{}", notes[0]);
        assert!(
            notes[0].ends_with("1001 TLS session(s) left out"),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn the_first_seen_phones_are_kept_and_the_cut_is_noted() {
        let mut ev = Evidence::default();
        // Phone n is seen at frame 1000 - n: the last pushed are seen first.
        for n in 0..10u32 {
            let mut s = tls(&format!("10.3.0.{}", n + 1), 2445);
            s.first = seen(1000 - u64::from(n));
            ev.tls.push(s);
        }
        let (phones, notes) = group(&ev, 3);
        let ips: Vec<String> = phones.iter().map(|p| p.ips[0].to_string()).collect();
        // The three seen first, still in key order.
        assert_eq!(ips, ["10.3.0.8", "10.3.0.9", "10.3.0.10"]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("limit: 7 more phone(s)"), "{}", notes[0]);
        let (all, notes) = group(&ev, 10);
        assert_eq!(all.len(), 10);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn many_mac_conflicts_are_counted_not_listed() {
        let mut ev = Evidence::default();
        for n in 0..1000u32 {
            ev.files
                .push(file(&format!("ITLSEP0011223{n:05X}.tlv"), "10.0.0.5", b"x"));
        }
        // The same conflict twice is one.
        ev.files
            .push(file("ITLSEP001122300001.tlv", "10.0.0.5", b"x"));
        let (phones, notes) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 1000);
        assert_eq!(notes.len(), MAX_CONFLICT_NOTES + 1, "{notes:?}");
        assert!(
            notes[MAX_CONFLICT_NOTES]
                .starts_with(&format!("{} more time(s)", 999 - MAX_CONFLICT_NOTES)),
            "{notes:?}"
        );
    }

    #[test]
    fn a_phone_with_thousands_of_addresses_lists_the_first() {
        let mut ev = Evidence::default();
        for n in 0..1000u32 {
            let ip = format!("10.4.{}.{}", n / 250, n % 250 + 1);
            ev.files.push(file("ITLSEP0011223344AA.tlv", &ip, b"x"));
        }
        let (phones, notes) = group(&ev, usize::MAX);
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].ips.len(), MAX_IPS_PER_PHONE);
        assert_eq!(phones[0].files.len(), 1000);
        assert!(phones[0].ips_cut);
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("limit: 1 phone(s) used more than")),
            "{notes:?}"
        );
    }
}
