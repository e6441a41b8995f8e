//! What a requested file name says: which trust list or config it is, and whose MAC it names.
//! Cisco names per-phone files `SEP<MAC>…`, `ITLSEP<MAC>.tlv`, `CTLSEP<MAC>.tlv` with the MAC as
//! 12 hex digits (upper case on CUCM; lower case accepted and normalised).

/// The role of a requested file in the phone's trust bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `ITLSEP<MAC>.tlv`: the per-phone ITL.
    ItlPerPhone,
    /// `ITLFile.tlv`: the generic ITL (centralized TFTP or non-CUCM server fallback).
    ItlGeneric,
    /// `ext_ITLSEP<MAC>.tlv` ("extended ITL", meaning unverified).
    ItlExtended,
    /// `CTLSEP<MAC>.tlv`.
    CtlPerPhone,
    /// `CTLFile.tlv`.
    CtlGeneric,
    /// `SEP<MAC>.cnf.xml.sgn` (or `XMLDefault.cnf.xml.sgn`).
    SignedConfig,
    /// `SEP<MAC>.cnf.xml.enc.sgn`: encrypted config.
    EncryptedConfig,
    /// `SEP<MAC>.cnf.xml` (or `XMLDefault.cnf.xml`): unsigned config.
    UnsignedConfig,
    /// Anything else (softkeys, ringlists, firmware…).
    Other,
}

impl RequestKind {
    /// True for ITL requests of any flavour.
    pub fn is_itl(self) -> bool {
        matches!(
            self,
            RequestKind::ItlPerPhone | RequestKind::ItlGeneric | RequestKind::ItlExtended
        )
    }
    /// True for CTL requests.
    pub fn is_ctl(self) -> bool {
        matches!(self, RequestKind::CtlPerPhone | RequestKind::CtlGeneric)
    }
    /// True for the phone's config in any of its three forms.
    pub fn is_config(self) -> bool {
        matches!(
            self,
            RequestKind::SignedConfig | RequestKind::EncryptedConfig | RequestKind::UnsignedConfig
        )
    }
}

/// The last path component, without a leading `/` or `\`.
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Reads 12 hex digits at the start of `s` as a MAC (upper case), if they are there.
fn mac_prefix(s: &str) -> Option<String> {
    let digits = s.get(..12)?;
    if digits.chars().all(|c| c.is_ascii_hexdigit()) {
        Some(digits.to_ascii_uppercase())
    } else {
        None
    }
}

/// Strips `prefix` from `s`, ignoring ASCII case.
fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// True when `s` ends with `suffix`, ignoring ASCII case.
pub fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
}

/// Classifies a requested name and extracts the MAC it names, if any.
pub fn classify(name: &str) -> (RequestKind, Option<String>) {
    let base = base_name(name);
    let kind_of_config = |rest: &str| {
        if ends_with_ci(rest, ".cnf.xml.enc.sgn") {
            Some(RequestKind::EncryptedConfig)
        } else if ends_with_ci(rest, ".cnf.xml.sgn") {
            Some(RequestKind::SignedConfig)
        } else if ends_with_ci(rest, ".cnf.xml") {
            Some(RequestKind::UnsignedConfig)
        } else {
            None
        }
    };
    for (prefix, kind) in [
        ("ext_ITLSEP", RequestKind::ItlExtended),
        ("ITLSEP", RequestKind::ItlPerPhone),
        ("CTLSEP", RequestKind::CtlPerPhone),
    ] {
        if let Some(rest) = strip_prefix_ci(base, prefix)
            && let Some(mac) = mac_prefix(rest)
            && ends_with_ci(rest, ".tlv")
        {
            return (kind, Some(mac));
        }
    }
    if base.eq_ignore_ascii_case("ITLFile.tlv") {
        return (RequestKind::ItlGeneric, None);
    }
    if base.eq_ignore_ascii_case("CTLFile.tlv") {
        return (RequestKind::CtlGeneric, None);
    }
    if let Some(rest) = strip_prefix_ci(base, "SEP")
        && let Some(mac) = mac_prefix(rest)
    {
        let kind = kind_of_config(rest).unwrap_or(RequestKind::Other);
        return (kind, Some(mac));
    }
    if let Some(rest) = strip_prefix_ci(base, "XMLDefault")
        && let Some(kind) = kind_of_config(rest)
    {
        return (kind, None);
    }
    (RequestKind::Other, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_phone_names_give_the_mac() {
        assert_eq!(
            classify("ITLSEP0011223344AA.tlv"),
            (RequestKind::ItlPerPhone, Some("0011223344AA".into()))
        );
        assert_eq!(
            classify("/CTLSEP0011223344aa.tlv"),
            (RequestKind::CtlPerPhone, Some("0011223344AA".into()))
        );
        assert_eq!(
            classify("SEP0011223344AA.cnf.xml.sgn"),
            (RequestKind::SignedConfig, Some("0011223344AA".into()))
        );
        assert_eq!(
            classify("SEP0011223344AA.cnf.xml.enc.sgn").0,
            RequestKind::EncryptedConfig
        );
        assert_eq!(
            classify("SEP0011223344AA.cnf.xml").0,
            RequestKind::UnsignedConfig
        );
        assert_eq!(
            classify("ext_ITLSEP0011223344AA.tlv").0,
            RequestKind::ItlExtended
        );
    }

    #[test]
    fn generic_and_other_names() {
        assert_eq!(classify("ITLFile.tlv"), (RequestKind::ItlGeneric, None));
        assert_eq!(classify("CTLFile.tlv"), (RequestKind::CtlGeneric, None));
        assert_eq!(
            classify("XMLDefault.cnf.xml.sgn"),
            (RequestKind::SignedConfig, None)
        );
        assert_eq!(
            classify("Desktops/320x196x4/List.xml.sgn"),
            (RequestKind::Other, None)
        );
        // Not 12 hex digits after SEP.
        assert_eq!(classify("SEPARATOR.cnf.xml"), (RequestKind::Other, None));
        assert_eq!(classify("ITLSEP00112233.tlv"), (RequestKind::Other, None));
        // Multi-byte text never panics the slicing.
        assert_eq!(classify("SEPé"), (RequestKind::Other, None));
        assert_eq!(classify(""), (RequestKind::Other, None));
    }
}
