//! SIP from phones: a `REGISTER` says who the phone is, and a `REFER` with `Content-Type:
//! application/x-cisco-alarm+xml` carries its `<Alarm Name="DeviceTLInfo">` (the hash of its
//! installed trust lists, phone-behaviour.md §3.2). Pure parsers over one whole SIP message:
//! the message is framed here, the alarm's XML is read by [`crate::alarm`], and the caller
//! fills [`crate::evidence::PhoneTrustAlarm`].

use crate::alarm::find_ci;
pub use crate::alarm::{DeviceTlInfo, parse_alarm_xml, says_not_installed};
use crate::evidence::{Endpoint, Seen};

/// Largest message examined; alarms are a few hundred bytes.
const MAX_MESSAGE: usize = 64 * 1024;
/// Largest field value kept.
const MAX_VALUE: usize = 512;

/// Splits a SIP message into start line, headers and body.
fn split_message(text: &str) -> Option<(&str, &str, &str)> {
    let (head, body) = match text.find("\r\n\r\n") {
        Some(i) => (text.get(..i)?, text.get(i + 4..)?),
        None => {
            let i = text.find("\n\n")?;
            (text.get(..i)?, text.get(i + 2..)?)
        }
    };
    let (start, headers) = head.split_once('\n').unwrap_or((head, ""));
    Some((start.trim_end_matches('\r'), headers, body))
}

/// The value of a header (full or compact name), first occurrence.
fn header<'t>(headers: &'t str, names: &[&str]) -> Option<&'t str> {
    headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        names
            .iter()
            .any(|n| name.trim().eq_ignore_ascii_case(n))
            .then(|| value.trim())
    })
}

/// What a Cisco phone says about itself when it registers over SIP: its device name (in the
/// `Contact` header's `+u.sip!devicename.ccm.cisco.com="SEP…"` parameter, or the `Name=` of
/// the `Reason: …cisco-alarm…` text it sends on the first REGISTER after a restart,
/// phone-log-lines.md §2.5 C), its `User-Agent` (`Cisco-CP8845/14.2.1`) and the load it runs
/// (`ActiveLoad=`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipRegister {
    /// `SEP…` as sent; None when the REGISTER names no Cisco device.
    pub device_name: Option<String>,
    /// The `User-Agent` header, as sent.
    pub user_agent: Option<String>,
    /// `ActiveLoad=` of the cisco-alarm `Reason` text (e.g. `sip78xx.12-1-1-12.loads`).
    pub active_load: Option<String>,
}

impl SipRegister {
    /// The evidence record for this REGISTER, sent by `phone` to `registrar` at `seen`.
    pub fn into_registration(
        self,
        phone: Endpoint,
        registrar: Endpoint,
        seen: Seen,
    ) -> crate::evidence::SipRegistration {
        crate::evidence::SipRegistration {
            phone,
            registrar,
            device_name: self.device_name,
            user_agent: self.user_agent,
            active_load: self.active_load,
            seen,
        }
    }
}

/// The quoted or bare value after `key` in `text` (ASCII case ignored), up to a quote, `;`,
/// `,`, `>` or white space; at most [`MAX_VALUE`] characters.
fn param_value(text: &str, key: &str) -> Option<String> {
    let at = find_ci(text, key, 0)? + key.len();
    let rest = text.get(at..)?.trim_start_matches('"');
    let value: String = rest
        .chars()
        .take_while(|c| !matches!(c, '"' | ';' | ',' | '>') && !c.is_whitespace())
        .take(MAX_VALUE)
        .collect();
    (!value.is_empty()).then_some(value)
}

/// True when a `User-Agent` names a Cisco phone model: `Cisco-CP` then the model number
/// (`Cisco-CP8845/14.2.1`, `Cisco-CP-7821/12.1.1`). Only phones send such an agent: Jabber
/// says `Cisco-CSF`, IOS gateways `Cisco-SIPGateway`, IP Communicator `Cisco-CIPC`, and other
/// vendors' soft clients their own name, so a REGISTER with it is what a phone does (issue
/// 19 item 6) even when it names no `SEP<MAC>`. Any other agent makes no phone by itself.
pub fn is_phone_user_agent(agent: &str) -> bool {
    let first = agent.split_whitespace().next().unwrap_or("");
    let Some(model) = first
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("cisco-cp"))
        .and_then(|_| first.get(8..))
    else {
        return false;
    };
    let model = model.strip_prefix('-').unwrap_or(model);
    model.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// Parses one SIP message's head (the body is not needed); returns what a `REGISTER` says of
/// the device, None for other methods and for a REGISTER that names no device and carries no
/// `User-Agent`.
pub fn parse_register(msg: &[u8]) -> Option<SipRegister> {
    let msg = msg.get(..msg.len().min(MAX_MESSAGE))?;
    let text = String::from_utf8_lossy(msg);
    // A head without its blank line still has every header we read.
    let head = text.split("\r\n\r\n").next().unwrap_or(&text);
    let (start, headers) = head.split_once('\n').unwrap_or((head, ""));
    let method = start.split_whitespace().next()?;
    if !method.eq_ignore_ascii_case("REGISTER") {
        return None;
    }
    // Folded header lines (RFC 3261 §7.3.1) are joined, as the 7821's Reason line is.
    let unfolded = headers.replace("\r\n\t", " ").replace("\r\n ", " ");
    let contact = header(&unfolded, &["Contact", "m"]);
    let reason = header(&unfolded, &["Reason"]);
    let device_name = contact
        .and_then(|c| param_value(c, "devicename.ccm.cisco.com="))
        .or_else(|| reason.and_then(|r| param_value(r, "Name=")))
        .filter(|n| n.len() >= 3 && n.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("SEP")));
    let user_agent = header(&unfolded, &["User-Agent"])
        .map(|v| v.chars().take(MAX_VALUE).collect::<String>())
        .filter(|v| !v.is_empty());
    let active_load = reason.and_then(|r| param_value(r, "ActiveLoad="));
    (device_name.is_some() || user_agent.is_some()).then_some(SipRegister {
        device_name,
        user_agent,
        active_load,
    })
}

/// Parses one whole SIP message; returns the alarm when it is a `REFER` carrying a
/// `DeviceTLInfo` alarm, None otherwise (other methods, other alarms, malformed text).
pub fn parse_device_tl_info(msg: &[u8]) -> Option<DeviceTlInfo> {
    let msg = msg.get(..msg.len().min(MAX_MESSAGE))?;
    let text = String::from_utf8_lossy(msg);
    let (start, headers, body) = split_message(&text)?;
    let method = start.split_whitespace().next()?;
    if !method.eq_ignore_ascii_case("REFER") {
        return None;
    }
    let content_type = header(headers, &["Content-Type", "c"])?;
    let mime = content_type.split(';').next()?.trim();
    if !mime.eq_ignore_ascii_case("application/x-cisco-alarm+xml") {
        return None;
    }
    // Content-Length bounds the body when present and sane.
    let body = match header(headers, &["Content-Length", "l"]).and_then(|v| v.parse::<usize>().ok())
    {
        Some(len) if len <= body.len() => body.get(..len).unwrap_or(body),
        _ => body,
    };
    parse_alarm_xml(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refer(body: &str) -> Vec<u8> {
        format!(
            "REFER sip:10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.5:51234\r\nFrom: <sip:SEP0011223344AA@10.0.0.5>;tag=1\r\nTo: <sip:10.0.0.1>\r\nCall-ID: 1@10.0.0.5\r\nCSeq: 1000 REFER\r\nContent-Type: application/x-cisco-alarm+xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    const BODY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<x-cisco-alarm>
<Alarm Name="DeviceTLInfo">
<ParameterList>
<String name="DeviceName">SEP0011223344AA</String>
<String name="IPv4Address">10.0.0.5</String>
<String name="CTL_Signature">Not Installed</String>
<String name="CTL_TFTP_Server">N/A</String>
<String name="ITL_Signature">1B A1 C9 07 11 22 33 44 55 66 77 88 99 00 AA BB CC DD 4D 6D </String>
<String name="ITL_TFTP_Server">cucm-115.home.lab</String>
<Enum name="StatusCode">3</Enum>
</ParameterList>
</Alarm>
</x-cisco-alarm>"#;

    #[test]
    fn parses_the_device_tl_info_alarm() {
        let info = parse_device_tl_info(&refer(BODY)).expect("alarm");
        assert_eq!(info.device_name.as_deref(), Some("SEP0011223344AA"));
        assert_eq!(info.ipv4_address.as_deref(), Some("10.0.0.5"));
        assert_eq!(
            info.itl_signature.as_deref(),
            Some("1ba1c90711223344556677889900aabbccdd4d6d")
        );
        assert_eq!(info.ctl_signature, None);
        // Statement 7a needs "holds no CTL" told apart from "not said": the raw text stays.
        assert_eq!(info.ctl_signature_raw.as_deref(), Some("Not Installed"));
        assert!(info.ctl_not_installed());
        assert_eq!(info.itl_tftp_server.as_deref(), Some("cucm-115.home.lab"));
        assert_eq!(info.ctl_tftp_server.as_deref(), Some("N/A"));
        assert_eq!(info.status_code, Some(3));
    }

    #[test]
    fn not_installed_itl_keeps_the_raw_text() {
        let body = BODY.replace(
            "1B A1 C9 07 11 22 33 44 55 66 77 88 99 00 AA BB CC DD 4D 6D ",
            "Not Installed",
        );
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert_eq!(info.itl_signature, None);
        assert_eq!(info.itl_signature_raw.as_deref(), Some("Not Installed"));
        let alarm = info.into_alarm(
            Endpoint {
                ip: "10.0.0.5".parse().unwrap(),
                port: 5060,
            },
            Seen::default(),
        );
        assert_eq!(alarm.itl_signature, None);
        assert_eq!(alarm.itl_signature_raw.as_deref(), Some("Not Installed"));
    }

    /// Statement 7a: the alarm's CTL field tells "holds no CTL" (any case) from a CTL's hash
    /// and from a field that is absent; the evidence record keeps the raw text.
    #[test]
    fn ctl_signature_keeps_the_raw_text_and_says_not_installed() {
        let body = BODY.replace(
            "<String name=\"CTL_Signature\">Not Installed</String>",
            "<String name=\"CTL_Signature\"> not INSTALLED </String>",
        );
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert!(info.ctl_not_installed());
        let alarm = info.into_alarm(
            Endpoint {
                ip: "10.0.0.5".parse().unwrap(),
                port: 5060,
            },
            Seen::default(),
        );
        assert_eq!(alarm.ctl_signature, None);
        assert!(alarm.ctl_not_installed());

        let body = BODY.replace(
            "<String name=\"CTL_Signature\">Not Installed</String>",
            "<String name=\"CTL_Signature\">AA BB CC DD 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF</String>",
        );
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert!(!info.ctl_not_installed());
        assert_eq!(
            info.ctl_signature.as_deref(),
            Some("aabbccdd00112233445566778899aabbccddeeff")
        );
        assert!(info.ctl_signature_raw.is_some());

        let body = BODY.replace("<String name=\"CTL_Signature\">Not Installed</String>", "");
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert!(!info.ctl_not_installed());
        assert_eq!(info.ctl_signature_raw, None);
    }

    #[test]
    fn other_messages_are_not_alarms() {
        // Another method.
        let invite = String::from_utf8(refer(BODY))
            .unwrap()
            .replacen("REFER", "INVITE", 1);
        assert_eq!(parse_device_tl_info(invite.as_bytes()), None);
        // Another content type.
        let sdp = String::from_utf8(refer(BODY))
            .unwrap()
            .replace("application/x-cisco-alarm+xml", "application/sdp");
        assert_eq!(parse_device_tl_info(sdp.as_bytes()), None);
        // Another alarm.
        let other = BODY.replace("DeviceTLInfo", "LastOutOfServiceInformation");
        assert_eq!(parse_device_tl_info(&refer(&other)), None);
        // Garbage and truncation never panic.
        assert_eq!(parse_device_tl_info(b""), None);
        assert_eq!(parse_device_tl_info(b"REFER"), None);
        let whole = refer(BODY);
        for cut in 0..whole.len() {
            let _ = parse_device_tl_info(&whole[..cut]);
        }
        assert_eq!(parse_device_tl_info(&[0xff; 300]), None);
    }

    #[test]
    fn compact_headers_and_lf_only_line_ends() {
        let msg = format!(
            "REFER sip:cucm SIP/2.0\nc: application/x-cisco-alarm+xml\n\n{}",
            BODY
        );
        assert!(parse_device_tl_info(msg.as_bytes()).is_some());
    }

    // Issue 19: the alarm XML is read by an XML parser. The phone-behaviour.md §3.2 alarm
    // carries the hash of the phone's ITL that settles condition 1 (statement 16: compare the
    // hash the phone shows with the TFTP file's), so every XML form of the same value must
    // read the same.

    #[test]
    fn xml_comments_are_not_values() {
        let body = BODY
            .replace(
                "<String name=\"DeviceName\">SEP0011223344AA</String>",
                "<!-- <String name=\"DeviceName\">SEPFFFFFFFFFFFF</String> -->\n<String name=\"DeviceName\">SEP<!-- split -->0011223344AA</String>",
            )
            .replace("<ParameterList>", "<ParameterList><!-- </Alarm> in a comment -->");
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert_eq!(info.device_name.as_deref(), Some("SEP0011223344AA"));
        assert_eq!(info.status_code, Some(3));
    }

    #[test]
    fn xml_cdata_reads_as_text() {
        let body = BODY.replace(
            "1B A1 C9 07 11 22 33 44 55 66 77 88 99 00 AA BB CC DD 4D 6D ",
            "<![CDATA[1B A1 C9 07 11 22 33 44 55 66 77 88 99 00 AA BB CC DD 4D 6D]]>",
        );
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert_eq!(
            info.itl_signature.as_deref(),
            Some("1ba1c90711223344556677889900aabbccdd4d6d")
        );
        // A CDATA section holding markup is text, not elements.
        let body = BODY.replace("cucm-115.home.lab", "<![CDATA[<b>cucm</b> & co]]>");
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert_eq!(info.itl_tftp_server.as_deref(), Some("<b>cucm</b> & co"));
    }

    #[test]
    fn xml_numeric_and_named_entities_are_decoded() {
        let body = BODY
            .replace("cucm-115.home.lab", "cucm&#45;115&#x2E;home&amp;lab")
            .replace("DeviceTLInfo", "Device&#84;LInfo")
            .replace(">3</Enum>", ">&#51;</Enum>");
        let info = parse_device_tl_info(&refer(&body)).expect("alarm");
        assert_eq!(info.itl_tftp_server.as_deref(), Some("cucm-115.home&lab"));
        assert_eq!(info.status_code, Some(3));
    }

    #[test]
    fn malformed_alarm_xml_is_no_alarm() {
        // Cut before the end tag, or unbalanced: not read (never half read).
        let cut = BODY.split("</ParameterList>").next().expect("prefix");
        assert_eq!(parse_alarm_xml(cut), None);
        let unbalanced = BODY.replace(
            "</String>\n<String name=\"IPv4Address\">",
            "\n<String name=\"IPv4Address\">",
        );
        assert_eq!(parse_alarm_xml(&unbalanced), None);
        // A DTD is never expanded (no entity bombs): the alarm element alone is parsed.
        let dtd = format!("<!DOCTYPE a [<!ENTITY x \"xx\">]>{BODY}");
        assert!(parse_alarm_xml(&dtd).is_some());
        assert_eq!(
            parse_alarm_xml("<Alarm Name=\"DeviceTLInfo\">&undefined;</Alarm>"),
            None
        );
    }

    #[test]
    fn a_register_names_the_phone_its_model_and_load() {
        // phone-log-lines.md §2.5 C: the 7821's first REGISTER after a restart carries a
        // cisco-alarm Reason with its name and load; Contact names the device too.
        let msg = b"REGISTER sip:192.168.7.200 SIP/2.0\r\n\
Via: SIP/2.0/TCP 192.168.7.51:51234;branch=z9hG4bK1\r\n\
From: <sip:1001@192.168.7.200>;tag=1\r\n\
CSeq: 101 REGISTER\r\n\
User-Agent: Cisco-CP7821/12.1.1\r\n\
Contact: <sip:1001@192.168.7.51:51234;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-c80084aa8743>\";+u.sip!devicename.ccm.cisco.com=\"SEPC80084AA8743\";+u.sip!model.ccm.cisco.com=\"621\"\r\n\
Reason: SIP;cause=200;text=\"cisco-alarm:23 Name=SEPC80084AA8743 ActiveLoad=sip78xx.12-1-1-12.loads\r\n\
\tInactiveLoad=sip78xx.10-3-1-12.loads Last=reset-restart\"\r\n\
Content-Length: 0\r\n\r\n";
        let got = parse_register(msg).expect("a REGISTER");
        assert_eq!(got.device_name.as_deref(), Some("SEPC80084AA8743"));
        assert_eq!(got.user_agent.as_deref(), Some("Cisco-CP7821/12.1.1"));
        assert_eq!(got.active_load.as_deref(), Some("sip78xx.12-1-1-12.loads"));
    }

    #[test]
    fn the_reason_text_alone_names_the_phone() {
        let msg = b"REGISTER sip:cucm SIP/2.0\r\nReason: SIP;cause=200;text=\"cisco-alarm:23 Name=SEP001122334455 ActiveLoad=sip88xx.14-2-1-0001-1\"\r\n\r\n";
        let got = parse_register(msg).expect("a REGISTER");
        assert_eq!(got.device_name.as_deref(), Some("SEP001122334455"));
        assert_eq!(got.user_agent, None);
    }

    #[test]
    fn only_a_cisco_phone_model_in_the_agent_names_a_phone() {
        // Issue 19 item 6: what a phone says of itself, not any Cisco product.
        for agent in [
            "Cisco-CP8845/14.2.1",
            "cisco-cp7821/12.1.1",
            "Cisco-CP-7832/14.0.1 extra",
        ] {
            assert!(is_phone_user_agent(agent), "{agent}");
        }
        for agent in [
            "Cisco-CSF",
            "Cisco-SIPGateway/IOS-16.9",
            "Cisco-CIPC/8.6.6",
            "Cisco-CP",
            "Cisco-CPX/1",
            "Linphone/5.0",
            "",
            "Cisco-CP\u{e9}8845",
        ] {
            assert!(!is_phone_user_agent(agent), "{agent}");
        }
    }

    #[test]
    fn other_methods_and_other_devices_are_not_phones() {
        assert_eq!(
            parse_register(b"INVITE sip:x SIP/2.0\r\nUser-Agent: Cisco-CP8845/14.2.1\r\n\r\n"),
            None
        );
        // A gateway or softphone: no SEP name, no agent.
        assert_eq!(
            parse_register(b"REGISTER sip:x SIP/2.0\r\nContact: <sip:gw@10.0.0.1>\r\n\r\n"),
            None
        );
        // A device name that is not a phone's is not taken as one.
        let got = parse_register(b"REGISTER sip:x SIP/2.0\r\nUser-Agent: Linphone\r\nContact: <sip:a@b>;+u.sip!devicename.ccm.cisco.com=\"CSFJDOE\"\r\n\r\n").expect("agent");
        assert_eq!(got.device_name, None);
        // Garbage and cut messages give nothing, never a panic.
        assert_eq!(parse_register(b"REGISTER"), None);
        assert_eq!(parse_register(&[0xff; 70_000]), None);
    }
}
