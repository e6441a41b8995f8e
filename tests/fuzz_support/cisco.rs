//! Harnesses for the byte parsers of `cisco` and what `itlscope show` does with their result.

use itlscope::cisco::{self, ParsedFile};
use itlscope::report::trustlist::{own_signature_check, show_json, show_text};

/// Runs `show` (text and JSON) and the own-signature check on whatever parses.
fn show_everything(parsed: &ParsedFile<'_>) {
    let _ = own_signature_check(parsed);
    let _ = show_text(parsed);
    let _ = serde_json::to_string(&show_json(parsed));
}

/// Trust-list parser (ITL/CTL) through content detection, `show` and self-verification.
pub fn trust_list(data: &[u8]) {
    let _ = cisco::detect_format(data);
    if let Ok(list) = cisco::trustlist::parse_trust_list(data) {
        let _ = cisco::verify::verify_trust_list(&list);
        show_everything(&ParsedFile::TrustList(list));
    }
    if let Ok(parsed) = cisco::parse_any(data) {
        show_everything(&parsed);
    }
}

/// Signed-file parser (`.sgn`, `.loads`, …) through `show`.
pub fn signed_file(data: &[u8]) {
    if let Ok(file) = cisco::signed::parse_signed_file(data) {
        let _ = cisco::verify::verify_signed_alone(&file);
        show_everything(&ParsedFile::Signed(file));
    }
}
