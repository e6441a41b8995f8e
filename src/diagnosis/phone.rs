//! Grouping the evidence per phone: by the MAC its requested names carry (`SEP<MAC>…`,
//! `ITLSEP<MAC>.tlv`, `CTLSEP<MAC>.tlv`) or its `DeviceTLInfo` alarm names, else by client IP.
//! TLS sessions and alarms attach to the phone that owns their client IP.

use super::names::classify;
use crate::evidence::{Evidence, TlsSession};
use std::collections::BTreeMap;
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
    /// Client IPs, in order of first appearance.
    pub ips: Vec<IpAddr>,
    /// Indices into `Evidence::files`.
    pub files: Vec<usize>,
    /// Indices into `Evidence::tls`.
    pub tls: Vec<usize>,
    /// Indices into `Evidence::alarms`.
    pub alarms: Vec<usize>,
}

/// True for TLS services a phone talks to; other TLS clients (a PC on the same port browsing
/// on 443) do not make a phone by themselves.
fn phone_service(session: &TlsSession) -> bool {
    match session.server.port {
        2445 | 8443 | 2443 | 5061 | 3804 | 6971 | 6972 => true,
        _ => matches!(
            session.service.as_deref(),
            Some("tvs" | "sccp-tls" | "sip-tls" | "capf" | "https-tftp")
        ),
    }
}

/// MAC from a `DeviceName` such as `SEP0011223344AA`.
fn mac_from_device_name(name: &str) -> Option<String> {
    if name.len() != 15 {
        return None;
    }
    let prefix = name.get(..3)?;
    let digits = name.get(3..)?;
    (prefix.eq_ignore_ascii_case("SEP") && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_uppercase())
}

/// Groups the evidence per phone. Returns the phones (MAC-identified first, by MAC, then
/// IP-identified, by IP) and notes about anything ambiguous or ignored.
pub fn group(evidence: &Evidence) -> (Vec<PhoneEvidence>, Vec<String>) {
    let mut notes = Vec::new();
    // First pass: which MAC owns which IP (the first name seen wins).
    let mut ip_mac: BTreeMap<IpAddr, String> = BTreeMap::new();
    let mut claim = |ip: IpAddr, mac: String, notes: &mut Vec<String>| match ip_mac.get(&ip) {
        None => {
            ip_mac.insert(ip, mac);
        }
        Some(owner) if *owner != mac => {
            let note = format!(
                "{ip} requested files for two phones ({owner} and {mac}): files are kept with the MAC they name"
            );
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        Some(_) => {}
    };
    for file in &evidence.files {
        if let (_, Some(mac)) = classify(&file.name) {
            claim(file.client.ip, mac, &mut notes);
        }
    }
    for alarm in &evidence.alarms {
        if let Some(mac) = alarm.device_name.as_deref().and_then(mac_from_device_name) {
            claim(alarm.phone.ip, mac, &mut notes);
        }
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
        });
        if !phone.ips.contains(&ip) {
            phone.ips.push(ip);
        }
        phone
    }
    for (i, file) in evidence.files.iter().enumerate() {
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
    let mut ignored = 0usize;
    for (i, session) in evidence.tls.iter().enumerate() {
        let key = key_for_ip(session.client.ip);
        if phones.contains_key(&key) || phone_service(session) {
            entry(&mut phones, key, session.client.ip).tls.push(i);
        } else {
            ignored += 1;
        }
    }
    if ignored > 0 {
        notes.push(format!(
            "{ignored} TLS session(s) from hosts that showed no phone traffic (no trust-list or config request, no phone service port) were left out"
        ));
    }
    (phones.into_values().collect(), notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::{file, tls};

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
        let (phones, notes) = group(&ev);
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
        let (phones, _) = group(&ev);
        assert_eq!(phones.len(), 300);
        assert!(
            phones
                .iter()
                .all(|p| p.files.len() == 1 && p.tls.len() == 1)
        );
    }
}
