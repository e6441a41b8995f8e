//! What the capture shows of a phone's model and firmware: the HTTP `User-Agent` of its
//! downloads (`Cisco-CP8845/14.1.1`) and the firmware load it requested (`sip88xx.14-1-1-0001-125.loads`).
//! Neither is always there (TFTP carries no user agent; a phone already on its load asks for no
//! `.loads` file), so both stay unknown unless seen.

use super::names::base_name;
use crate::evidence::{FileTransfer, FileTransport};

/// Model and firmware as far as the capture shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// Model as the phone names itself (`CP-8845`), None when not seen.
    pub model: Option<String>,
    /// Firmware version or load name (`14.1.1` from the user agent, else the requested load
    /// `sip88xx.14-1-1-0001-125`), None when not seen.
    pub firmware: Option<String>,
}

/// Longest model or firmware string kept: a crafted header must not fill a report row.
const MAX_LEN: usize = 64;

fn clean(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()
        && s.len() <= MAX_LEN
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)))
    .then(|| s.to_string())
}

/// `Cisco-CP8845/14.1.1` → (`CP-8845`, `14.1.1`); other agents give nothing.
pub fn from_user_agent(agent: &str) -> (Option<String>, Option<String>) {
    let first = agent.split_whitespace().next().unwrap_or("");
    let Some(rest) = first
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("cisco-"))
        .and_then(|_| first.get(6..))
    else {
        return (None, None);
    };
    let (product, version) = rest.split_once('/').unwrap_or((rest, ""));
    // Cisco writes `CP8845` in the agent and `CP-8845` everywhere else.
    let model = match product.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("cp") && !product[2..].starts_with('-') => {
            clean(&format!("CP-{}", &product[2..]))
        }
        _ => clean(product),
    };
    (model, clean(version))
}

/// `SIP88xx.14-1-1-0001-125.loads` → `sip88xx.14-1-1-0001-125`.
fn from_load_name(name: &str) -> Option<String> {
    let base = base_name(name);
    let stem = base
        .len()
        .checked_sub(6)
        .filter(|&i| {
            base.get(i..)
                .is_some_and(|s| s.eq_ignore_ascii_case(".loads"))
        })
        .and_then(|i| base.get(..i))?;
    // `term45.default.loads` names a model's default, not a version.
    if stem.to_ascii_lowercase().ends_with(".default") || !stem.contains('.') {
        return None;
    }
    clean(stem)
}

/// Model and firmware from one phone's transfers (the last user agent wins; the requested
/// load fills the firmware when no agent gave it).
pub fn device_info<'a>(files: impl IntoIterator<Item = &'a FileTransfer>) -> DeviceInfo {
    let mut info = DeviceInfo::default();
    let mut load = None;
    for f in files {
        if f.transport == FileTransport::Http
            && let Some((_, agent)) = f
                .options
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            let (model, version) = from_user_agent(agent);
            if model.is_some() {
                info.model = model;
            }
            if version.is_some() {
                info.firmware = version;
            }
        }
        if !f.upload
            && let Some(l) = from_load_name(&f.name)
        {
            load = Some(l);
        }
    }
    if info.firmware.is_none() {
        info.firmware = load;
    }
    info
}

/// Model and firmware from a SIP REGISTER (issue 19 item 6): its `User-Agent`
/// (`Cisco-CP8845/14.2.1`), else the `ActiveLoad` of its cisco-alarm `Reason` for the
/// firmware. Used only for what nothing better showed.
pub fn from_sip_registration(reg: &crate::evidence::SipRegistration) -> DeviceInfo {
    let (model, firmware) = reg
        .user_agent
        .as_deref()
        .map_or((None, None), from_user_agent);
    DeviceInfo {
        model,
        firmware: firmware.or_else(|| {
            reg.active_load
                .as_deref()
                .and_then(|l| from_load_name(l).or_else(|| clean(l)))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(name: &str, agent: Option<&str>) -> FileTransfer {
        FileTransfer {
            name: name.into(),
            transport: FileTransport::Http,
            options: agent
                .map(|a| vec![("User-Agent".into(), a.into())])
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn user_agent_names_model_and_version() {
        let d = device_info([&http(
            "SEP0011223344AA.cnf.xml.sgn",
            Some("Cisco-CP8845/14.1.1"),
        )]);
        assert_eq!(d.model.as_deref(), Some("CP-8845"));
        assert_eq!(d.firmware.as_deref(), Some("14.1.1"));
        let d = device_info([&http("x", Some("Cisco-CP-7821/12.1.1 extra"))]);
        assert_eq!(d.model.as_deref(), Some("CP-7821"));
        let d = device_info([&http("x", Some("Mozilla/5.0"))]);
        assert_eq!(d, DeviceInfo::default());
    }

    #[test]
    fn requested_load_gives_the_firmware() {
        let tftp = FileTransfer {
            name: "SIP88xx.14-1-1-0001-125.loads".into(),
            ..Default::default()
        };
        let d = device_info([&tftp]);
        assert_eq!(d.model, None);
        assert_eq!(d.firmware.as_deref(), Some("SIP88xx.14-1-1-0001-125"));
        let default = FileTransfer {
            name: "term45.default.loads".into(),
            ..Default::default()
        };
        assert_eq!(device_info([&default]).firmware, None);
    }

    #[test]
    fn sip_registration_names_model_and_firmware() {
        use crate::evidence::SipRegistration;
        let mut reg = SipRegistration {
            phone: "10.0.0.5:5060".parse().unwrap(),
            registrar: "10.0.0.1:5060".parse().unwrap(),
            device_name: Some("SEP0011223344AA".into()),
            user_agent: Some("Cisco-CP8845/14.2.1".into()),
            active_load: Some("sip88xx.14-2-1-0001-14.loads".into()),
            seen: Default::default(),
        };
        let d = from_sip_registration(&reg);
        assert_eq!(d.model.as_deref(), Some("CP-8845"));
        assert_eq!(d.firmware.as_deref(), Some("14.2.1"));
        // Without an agent the load names the firmware, and the model stays unknown.
        reg.user_agent = None;
        let d = from_sip_registration(&reg);
        assert_eq!(d.model, None);
        assert_eq!(d.firmware.as_deref(), Some("sip88xx.14-2-1-0001-14"));
        reg.active_load = Some("sip78xx.12-1-1-12".into());
        assert_eq!(
            from_sip_registration(&reg).firmware.as_deref(),
            Some("sip78xx.12-1-1-12")
        );
        reg.active_load = Some("bad\"load".into());
        assert_eq!(from_sip_registration(&reg), DeviceInfo::default());
    }

    #[test]
    fn hostile_agents_are_not_kept() {
        let long = format!("Cisco-CP{}/1", "9".repeat(200));
        assert_eq!(device_info([&http("x", Some(&long))]).model, None);
        let d = device_info([&http("x", Some("Cisco-CP88\"45/1,2"))]);
        assert_eq!((d.model, d.firmware), (None, None));
    }
}
