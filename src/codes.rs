//! Names of the protocol codes the reports show: TLS versions, cipher suites, alert levels
//! and descriptions, TFTP error codes. The JSON writes an enumeration as its name with its
//! code beside it; a code without a known name keeps its code and a null name.

/// A TLS wire version as `TLS1.0` … `TLS1.3` (`SSL2.0`, `SSL3.0`), None for other values.
pub fn tls_version(version: u16) -> Option<&'static str> {
    Some(match version {
        0x0002 => "SSL2.0",
        0x0300 => "SSL3.0",
        0x0301 => "TLS1.0",
        0x0302 => "TLS1.1",
        0x0303 => "TLS1.2",
        0x0304 => "TLS1.3",
        _ => return None,
    })
}

/// The IANA name of a cipher suite (`TLS_RSA_WITH_AES_128_CBC_SHA`), None when unknown.
pub fn cipher_suite(code: u16) -> Option<&'static str> {
    tls_parser::TlsCipherSuite::from_id(code).map(|c| c.name)
}

/// A TLS alert level: `warning` (1) or `fatal` (2).
pub fn alert_level(level: u8) -> Option<&'static str> {
    match level {
        1 => Some("warning"),
        2 => Some("fatal"),
        _ => None,
    }
}

/// The RFC name of a TLS alert description (`unknown_ca` for 48), None when unknown.
pub fn alert_description(code: u8) -> Option<String> {
    // tls-parser names the codes in CamelCase ("UnknownCa") and unknown ones as a number.
    let camel = tls_parser::TlsAlertDescription(code).to_string();
    if camel.is_empty() || !camel.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if camel.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut name = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    Some(name)
}

/// The name of a TFTP error code (RFC 1350, 8 from RFC 2347), None above 8.
pub fn tftp_error(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "not_defined",
        1 => "file_not_found",
        2 => "access_violation",
        3 => "disk_full",
        4 => "illegal_operation",
        5 => "unknown_transfer_id",
        6 => "file_already_exists",
        7 => "no_such_user",
        8 => "option_negotiation_failed",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_protocol_names() {
        assert_eq!(tls_version(0x0303), Some("TLS1.2"));
        assert_eq!(tls_version(0x7f1c), None);
        assert_eq!(cipher_suite(0x002f), Some("TLS_RSA_WITH_AES_128_CBC_SHA"));
        assert_eq!(cipher_suite(0x1301), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(cipher_suite(0xfefe), None);
        assert_eq!(alert_level(2), Some("fatal"));
        assert_eq!(alert_level(1), Some("warning"));
        assert_eq!(alert_level(9), None);
        assert_eq!(alert_description(48).as_deref(), Some("unknown_ca"));
        assert_eq!(alert_description(40).as_deref(), Some("handshake_failure"));
        assert_eq!(alert_description(42).as_deref(), Some("bad_certificate"));
        assert_eq!(alert_description(201), None);
        assert_eq!(tftp_error(1), Some("file_not_found"));
        assert_eq!(tftp_error(8), Some("option_negotiation_failed"));
        assert_eq!(tftp_error(99), None);
    }
}
