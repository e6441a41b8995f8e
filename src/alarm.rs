//! The phone's `DeviceTLInfo` alarm: the XML in which a phone reports the hash of the trust
//! lists it holds (phone-behaviour.md §3.2). It comes in a SIP `REFER` on the wire
//! (`proto::sip` frames the message) or printed in a phone's console log (`sidecar`); both
//! read it here, so the phone-log reader needs no packet code.

use crate::evidence::{Endpoint, PhoneTrustAlarm, Seen};

/// Largest field value kept.
const MAX_VALUE: usize = 512;

/// The fields of a `DeviceTLInfo` alarm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceTlInfo {
    /// `DeviceName`, e.g. `SEP0011223344AA`.
    pub device_name: Option<String>,
    /// `IPv4Address`.
    pub ipv4_address: Option<String>,
    /// `ITL_Signature` as sent (hex bytes with spaces, or `Not Installed`).
    pub itl_signature_raw: Option<String>,
    /// `ITL_Signature` as lower-case hex without separators; None when not hex.
    pub itl_signature: Option<String>,
    /// `CTL_Signature` as lower-case hex; None when "Not Installed" or absent.
    pub ctl_signature: Option<String>,
    /// `CTL_Signature` as sent (hex bytes with spaces, or `Not Installed`), so a phone that
    /// holds no CTL can be told from a field that is absent.
    pub ctl_signature_raw: Option<String>,
    /// `ITL_TFTP_Server`.
    pub itl_tftp_server: Option<String>,
    /// `CTL_TFTP_Server`.
    pub ctl_tftp_server: Option<String>,
    /// `StatusCode`.
    pub status_code: Option<u32>,
}

pub use crate::evidence::says_not_installed;

impl DeviceTlInfo {
    /// True when `CTL_Signature` says "Not Installed": the phone holds no CTL.
    pub fn ctl_not_installed(&self) -> bool {
        self.ctl_signature_raw
            .as_deref()
            .is_some_and(says_not_installed)
    }

    /// The evidence record for this alarm, sent by `phone` at `seen`.
    pub fn into_alarm(self, phone: Endpoint, seen: Seen) -> PhoneTrustAlarm {
        PhoneTrustAlarm {
            phone,
            device_name: self.device_name,
            itl_signature: self.itl_signature,
            itl_signature_raw: self.itl_signature_raw,
            ctl_signature: self.ctl_signature,
            ctl_signature_raw: self.ctl_signature_raw,
            itl_tftp_server: self.itl_tftp_server,
            status_code: self.status_code,
            seen,
        }
    }
}

/// Finds `needle` in `hay` ignoring ASCII case.
pub(crate) fn find_ci(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (from..=h.len() - n.len()).find(|&i| {
        h.get(i..i + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

/// The trimmed text of the first element below `alarm` whose `name` attribute is `field`
/// (`<String name="X">v</String>`, `<Enum name="X">v</Enum>`), names compared ignoring ASCII
/// case. Text and CDATA count, comments do not; entities (numeric too) are already decoded by
/// the XML reader. None when absent or empty.
fn field(alarm: roxmltree::Node<'_, '_>, field: &str) -> Option<String> {
    let element = alarm.descendants().find(|n| {
        n.is_element()
            && n.attributes().any(|a| {
                a.name().eq_ignore_ascii_case("name") && a.value().eq_ignore_ascii_case(field)
            })
    })?;
    let text: String = element
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    let value = text.trim();
    (!value.is_empty()).then(|| value.chars().take(MAX_VALUE).collect())
}

/// At most this many `</Alarm>` ends are tried for one `<Alarm` start (a comment or CDATA
/// section may hold the same text); keeps hostile input linear.
const MAX_ALARM_ENDS: usize = 8;

/// Hex bytes as the phone writes them (`1B A1 C9 …`) to lower-case hex; None when the text is
/// not hex (e.g. `Not Installed`) or empty.
fn hex_value(text: &str) -> Option<String> {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            out.push(c.to_ascii_lowercase());
        } else if !(c.is_whitespace() || c == ':') {
            return None;
        }
    }
    (!out.is_empty() && out.len().is_multiple_of(2)).then_some(out)
}

/// Parses a `DeviceTLInfo` alarm from the text holding its `<Alarm …>` element (a REFER body,
/// or the same XML as a phone's console log prints it); None for other alarms and for an
/// alarm element that is not well-formed XML (cut short, unbalanced).
///
/// The element is read by an XML parser (`roxmltree`), not by hand, so comments, CDATA
/// sections and character references (`&#45;`, `&#x2E;`) read as the phone meant them. Only
/// the `<Alarm>` element is parsed: the text around it (SIP headers, log prefixes) is not XML.
pub fn parse_alarm_xml(body: &str) -> Option<DeviceTlInfo> {
    let alarm_at = find_ci(body, "<Alarm", 0)?;
    let alarm_text = body.get(alarm_at..)?;
    let mut from = 0;
    for _ in 0..MAX_ALARM_ENDS {
        let close = find_ci(alarm_text, "</Alarm", from)?;
        let end = close + alarm_text.get(close..)?.find('>')? + 1;
        from = end;
        let Ok(doc) = roxmltree::Document::parse(alarm_text.get(..end)?) else {
            continue;
        };
        return device_tl_info(doc.root_element());
    }
    None
}

/// The fields of a parsed `<Alarm>` element, when it is a `DeviceTLInfo` alarm.
fn device_tl_info(alarm: roxmltree::Node<'_, '_>) -> Option<DeviceTlInfo> {
    let name = alarm
        .attributes()
        .find(|a| a.name().eq_ignore_ascii_case("Name"))?
        .value();
    if !name.trim().eq_ignore_ascii_case("DeviceTLInfo") {
        return None;
    }
    let itl_raw = field(alarm, "ITL_Signature");
    let ctl_raw = field(alarm, "CTL_Signature");
    Some(DeviceTlInfo {
        device_name: field(alarm, "DeviceName"),
        ipv4_address: field(alarm, "IPv4Address"),
        itl_signature: itl_raw.as_deref().and_then(hex_value),
        itl_signature_raw: itl_raw,
        ctl_signature: ctl_raw.as_deref().and_then(hex_value),
        ctl_signature_raw: ctl_raw,
        itl_tftp_server: field(alarm, "ITL_TFTP_Server"),
        ctl_tftp_server: field(alarm, "CTL_TFTP_Server"),
        status_code: field(alarm, "StatusCode").and_then(|v| v.parse().ok()),
    })
}
