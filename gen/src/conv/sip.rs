//! The SIP `REFER` a phone sends to CUCM carrying an `application/x-cisco-alarm+xml`
//! `DeviceTLInfo` alarm (phone-behaviour.md §3.2): the hash of the trust lists the phone has
//! installed, in clear text when SIP is not secured. Sent over TCP 5060 (as the 7821 in the
//! field log does) or UDP 5060; CUCM answers `202 Accepted`.

use super::tcp::TcpConn;
use super::{Host, MS, Side, Trace};

/// The alarm's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTlInfo {
    /// `SEP<MAC>`.
    pub device_name: String,
    /// The phone's model for the User-Agent, e.g. `CP7821`.
    pub model: String,
    /// Firmware for the User-Agent, e.g. `12.1.1`.
    pub firmware: String,
    /// `ITL_Signature` bytes (20 for SHA-1), or None for "Not Installed".
    pub itl_signature: Option<Vec<u8>>,
    /// `ITL_TFTP_Server`.
    pub itl_tftp_server: String,
    /// `CTL_Signature` bytes, or None for "Not Installed".
    pub ctl_signature: Option<Vec<u8>>,
    /// `StatusCode` (3 = ITL_INITIAL_SUCCESS, 8 = TL_FAILED_OLD_ITL, …).
    pub status_code: u32,
}

/// Cisco writes the signature as upper-case hex bytes each followed by a space.
fn spaced_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X} ")).collect()
}

impl DeviceTlInfo {
    /// The XML body.
    pub fn xml(&self, phone_ip: &str) -> String {
        let sig = |s: &Option<Vec<u8>>| {
            s.as_deref()
                .map(spaced_hex)
                .unwrap_or_else(|| "Not Installed".to_owned())
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
             <x-cisco-alarm>\r\n\
             <Alarm Name=\"DeviceTLInfo\">\r\n\
             <ParameterList>\r\n\
             <String name=\"DeviceName\">{}</String>\r\n\
             <String name=\"IPv4Address\">{}</String>\r\n\
             <String name=\"CTL_Signature\">{}</String>\r\n\
             <String name=\"CTL_TFTP_Server\">N/A</String>\r\n\
             <String name=\"ITL_Signature\">{}</String>\r\n\
             <String name=\"ITL_TFTP_Server\">{}</String>\r\n\
             <Enum name=\"StatusCode\">{}</Enum>\r\n\
             </ParameterList>\r\n\
             </Alarm>\r\n\
             </x-cisco-alarm>\r\n",
            self.device_name,
            phone_ip,
            sig(&self.ctl_signature),
            sig(&self.itl_signature),
            self.itl_tftp_server,
            self.status_code
        )
    }

    /// The whole REFER request from `phone` (at `port`) to `cucm`, over `transport`
    /// (`TCP` or `UDP`).
    pub fn refer(
        &self,
        phone: &Host,
        port: u16,
        cucm: &Host,
        transport: &str,
        seq: u32,
    ) -> Vec<u8> {
        let pip = phone.ip.to_string();
        let cip = match cucm.ip {
            std::net::IpAddr::V6(v) => format!("[{v}]"),
            v4 => v4.to_string(),
        };
        let pip_uri = match phone.ip {
            std::net::IpAddr::V6(v) => format!("[{v}]"),
            v4 => v4.to_string(),
        };
        let body = self.xml(&pip);
        let tag = format!("{:08x}-{:08x}", seq.wrapping_mul(0x9e37_79b9), seq ^ 0x5eed);
        format!(
            "REFER sip:{cip} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {pip_uri}:{port};branch=z9hG4bK{seq:08x}\r\n\
             From: <sip:{dev}@{pip_uri}>;tag={tag}\r\n\
             To: <sip:{cip}>\r\n\
             Call-ID: {seq:08x}-{tag}@{pip_uri}\r\n\
             Date: Mon, 02 Mar 2026 09:00:05 GMT\r\n\
             CSeq: {cseq} REFER\r\n\
             User-Agent: Cisco-{model}/{fw}\r\n\
             Expires: 10\r\n\
             Max-Forwards: 70\r\n\
             Contact: <sip:{dev}@{pip_uri}:{port};transport={lt}>\r\n\
             Referred-By: <sip:{dev}@{pip_uri}>\r\n\
             Refer-To: cid:{seq}@{pip_uri}\r\n\
             Content-Id: <{seq}@{pip_uri}>\r\n\
             Allow: ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE\r\n\
             Content-Type: application/x-cisco-alarm+xml\r\n\
             Content-Disposition: session;handling=required\r\n\
             Content-Length: {len}\r\n\
             \r\n{body}",
            dev = self.device_name,
            cseq = 1000 + seq,
            model = self.model,
            fw = self.firmware,
            lt = transport.to_ascii_lowercase(),
            len = body.len(),
        )
        .into_bytes()
    }
}

/// CUCM's `202 Accepted` answer to a REFER, echoing the dialog headers.
pub fn accepted(refer: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(refer);
    let mut out = String::from("SIP/2.0 202 Accepted\r\n");
    for line in text.split("\r\n").skip(1) {
        if line.is_empty() {
            break;
        }
        let keep = ["Via:", "From:", "To:", "Call-ID:", "CSeq:"];
        if keep.iter().any(|k| line.starts_with(k)) {
            out.push_str(line);
            if line.starts_with("To:") {
                out.push_str(";tag=cucm-4711");
            }
            out.push_str("\r\n");
        }
    }
    out.push_str("Server: Cisco-CUCM14.0\r\nContent-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// Writes the REFER and its answer. Over TCP a whole connection is opened and left open
/// (the phone keeps its SIP connection); returns the time of the last packet.
pub fn write_alarm(
    trace: &mut Trace,
    start: i64,
    phone: (Host, u16),
    cucm: Host,
    tcp: bool,
    alarm: &DeviceTlInfo,
) -> i64 {
    if tcp {
        let refer = alarm.refer(&phone.0, phone.1, &cucm, "TCP", 1);
        let mut conn = TcpConn::new(phone, (cucm, 5060), 5060, start);
        conn.open(trace);
        conn.send(trace, Side::Client, &refer);
        conn.send(trace, Side::Server, &accepted(&refer));
        conn.now()
    } else {
        let refer = alarm.refer(&phone.0, phone.1, &cucm, "UDP", 1);
        trace.udp(start, (&phone.0, phone.1), (&cucm, 5060), &refer);
        let t = start + 2 * MS;
        trace.udp(t, (&cucm, 5060), (&phone.0, phone.1), &accepted(&refer));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm() -> DeviceTlInfo {
        DeviceTlInfo {
            device_name: "SEP00112233AABB".into(),
            model: "CP7821".into(),
            firmware: "12.1.1".into(),
            itl_signature: Some(vec![0x1b, 0xa1, 0xc9, 0x07]),
            itl_tftp_server: "cucm-pub.example.com".into(),
            ctl_signature: None,
            status_code: 3,
        }
    }

    #[test]
    fn refer_carries_the_alarm_with_a_right_content_length() {
        let phone = Host::new([2; 6], "192.0.2.10");
        let cucm = Host::new([4; 6], "198.51.100.10");
        let msg = alarm().refer(&phone, 51000, &cucm, "TCP", 1);
        let text = String::from_utf8(msg).expect("utf8");
        let (head, body) = text.split_once("\r\n\r\n").expect("header end");
        assert!(head.starts_with("REFER sip:198.51.100.10 SIP/2.0\r\n"));
        assert!(head.contains("Content-Type: application/x-cisco-alarm+xml"));
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.parse().ok())
            .expect("length");
        assert_eq!(len, body.len());
        assert!(body.contains("<String name=\"ITL_Signature\">1B A1 C9 07 </String>"));
        assert!(body.contains("<String name=\"CTL_Signature\">Not Installed</String>"));
        let ok = String::from_utf8(accepted(text.as_bytes())).expect("utf8");
        assert!(ok.starts_with("SIP/2.0 202 Accepted\r\n"));
        assert!(ok.contains("CSeq: 1001 REFER"));
    }
}
