//! The phone's trust-list status codes (`StatusCode` of `DeviceTLInfo`) in words.

/// Trust-list alarm codes the phone reports (8800 admin guide; the mapping of DeviceTLInfo's
/// `StatusCode` to these is unverified).
pub fn status_code_name(code: u32) -> &'static str {
    match code {
        1 => "TL_SUCCESS",
        2 => "CTL_INITIAL_SUCCESS",
        3 => "ITL_INITIAL_SUCCESS",
        4 => "TL_INITIAL_SUCCESS",
        5 => "TL_FAILED_OLD_CTL",
        6 => "TL_FAILED_NO_TL",
        7 => "TL_FAILED",
        8 => "TL_FAILED_OLD_ITL",
        9 => "TL_FAILED_OLD_TL",
        _ => "unknown code",
    }
}

/// True for the failure codes 5–9.
pub fn status_code_failed(code: u32) -> bool {
    (5..=9).contains(&code)
}
