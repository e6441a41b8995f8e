//! What the phone's config (`SEP<MAC>.cnf.xml`, inside its `.sgn` envelope) says about its
//! CallManager group: the nodes whose TVS the phone asks, at most three (statement 10).
//! A search for two elements, not an XML parser: the config is only read, never trusted.

use memchr::memmem;

/// Most members a CallManager group lists (statement 10: up to three TVS per phone); more
/// names are not a real group.
const MAX_MEMBERS: usize = 3;

/// The `<processNodeName>` of each member of the config's `<callManagerGroup>`, in order;
/// None when the bytes hold no such group (encrypted config, another file) or it names none.
pub fn callmanager_group(bytes: &[u8]) -> Option<Vec<String>> {
    let start = memmem::find(bytes, b"<callManagerGroup>")?;
    let rest = &bytes[start..];
    let end = memmem::find(rest, b"</callManagerGroup>")?;
    let group = &rest[..end];
    let open = b"<processNodeName>";
    let close = b"</processNodeName>";
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(i) = memmem::find(&group[at..], open) {
        let from = at + i + open.len();
        let len = memmem::find(&group[from..], close)?;
        let name = String::from_utf8_lossy(&group[from..from + len])
            .trim()
            .to_string();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
        if names.len() > MAX_MEMBERS {
            return None;
        }
        at = from + len + close.len();
    }
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_of_the_group_in_order_statement_10() {
        let xml = b"\x01\x02<device><devicePool><callManagerGroup><members>\
            <member priority=\"0\"><callManager><processNodeName>cucm-pub</processNodeName></callManager></member>\
            <member priority=\"1\"><callManager><processNodeName> cucm-sub1.example.com </processNodeName></callManager></member>\
            </members></callManagerGroup></devicePool>\
            <capfList><capf><processNodeName>cucm-pub</processNodeName></capf></capfList></device>";
        assert_eq!(
            callmanager_group(xml),
            Some(vec![
                "cucm-pub".to_string(),
                "cucm-sub1.example.com".to_string()
            ])
        );
    }

    #[test]
    fn no_group_cut_tags_and_absurd_groups_give_none() {
        assert_eq!(callmanager_group(b"<device></device>"), None);
        assert_eq!(
            callmanager_group(b"<callManagerGroup><processNodeName>a</callManagerGroup>"),
            None
        );
        let many: String = (0..5)
            .map(|i| format!("<processNodeName>n{i}</processNodeName>"))
            .collect();
        let xml = format!("<callManagerGroup>{many}</callManagerGroup>");
        assert_eq!(callmanager_group(xml.as_bytes()), None);
    }
}
