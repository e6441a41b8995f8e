//! The phones of the scenarios: MAC and addresses in documentation ranges (MAC
//! 00-00-5E-00-53-xx, RFC 7042; IPv4 192.0.2.0/24; IPv6 2001:db8::/32), model and firmware.

use crate::conv::Host;
use crate::pki::{Cert, CertSpec};

/// A phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// MAC address.
    pub mac: [u8; 6],
    /// IP address (v4 or v6).
    pub ip: String,
    /// Model as in the device name of its certificate and User-Agent, e.g. `8845`.
    pub model: String,
    /// Firmware version, e.g. `14.2.1`.
    pub firmware: String,
    /// Load name in its config.
    pub load: String,
    /// Tries HTTP on 6970 before TFTP (78xx/88xx); old 79xx use TFTP only.
    pub http_first: bool,
}

impl Phone {
    /// A 7962G on SIP 9.4.2: TFTP only, plain 512-byte blocks.
    pub fn cp7962(last: u8, ip: &str) -> Self {
        Phone {
            mac: [0x00, 0x00, 0x5e, 0x00, 0x53, last],
            ip: ip.to_owned(),
            model: "7962".into(),
            firmware: "9.4.2SR3".into(),
            load: "SIP42.9-4-2SR3-1S".into(),
            http_first: false,
        }
    }

    /// An 8845 on 14.2.1: HTTP 6970 first, TFTP as fallback.
    pub fn cp8845(last: u8, ip: &str) -> Self {
        Phone {
            mac: [0x00, 0x00, 0x5e, 0x00, 0x53, last],
            ip: ip.to_owned(),
            model: "8845".into(),
            firmware: "14.2.1".into(),
            load: "sip8845_65.14-2-1-0001-14".into(),
            http_first: true,
        }
    }

    /// A 7821 on 12.1.1 (the model of the DeviceTLInfo log): HTTP first.
    pub fn cp7821(last: u8, ip: &str) -> Self {
        Phone {
            mac: [0x00, 0x00, 0x5e, 0x00, 0x53, last],
            ip: ip.to_owned(),
            model: "7821".into(),
            firmware: "12.1.1".into(),
            load: "sip78xx.12-1-1-12".into(),
            http_first: true,
        }
    }

    /// The MAC as 12 upper-case hex digits.
    pub fn mac_hex(&self) -> String {
        self.mac.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// `SEP<MAC>`.
    pub fn device_name(&self) -> String {
        format!("SEP{}", self.mac_hex())
    }

    /// Its manufacturing-installed certificate (phone key, issued by the manufacturing CA):
    /// what an encrypted config is encrypted to.
    pub fn mic(&self) -> Cert {
        CertSpec::phone_mic(
            &self.model,
            &self.device_name(),
            &[0x7a, self.mac[3], self.mac[4], self.mac[5]],
        )
        .issued_by(&CertSpec::manufacturing_ca().self_signed())
    }

    /// The phone as a host on the wire.
    pub fn host(&self) -> Host {
        Host::new(self.mac, &self.ip)
    }

    /// HTTP User-Agent of its downloader.
    pub fn user_agent(&self) -> String {
        format!("Cisco-CP{}/{}", self.model, self.firmware)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_use_upper_case_mac() {
        let p = Phone::cp8845(0x2a, "192.0.2.22");
        assert_eq!(p.device_name(), "SEP00005E00532A");
        assert_eq!(p.user_agent(), "Cisco-CP8845/14.2.1");
    }
}
