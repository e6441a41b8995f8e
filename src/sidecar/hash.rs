//! Hashes in the forms people read them: phones show MD5 or SHA-1 (by model) as upper-case hex
//! bytes with spaces (`EE 5C 62 …`), CUCM's `show itl` prints lower-case hex with `(MD5)` /
//! `(SHA1)` after it, certificate tools use colons. Input in any of these forms is read by
//! [`crate::diagnosis::ItlHash::parse`]; this module writes them.

/// `EE 5C 62 …` (the phone's Trust List screen and `DeviceTLInfo`).
pub fn phone_form(hex: &str) -> String {
    pairs(hex).join(" ").to_ascii_uppercase()
}

/// `ee:5c:62:…`.
pub fn colon_form(hex: &str) -> String {
    pairs(hex).join(":")
}

/// `b619…(MD5)` as `show itl` prints it; `tag` is `MD5` or `SHA1`.
pub fn cucm_form(hex: &str, tag: &str) -> String {
    format!("{}({tag})", hex.to_ascii_lowercase())
}

fn pairs(hex: &str) -> Vec<&str> {
    (0..hex.len() / 2)
        .filter_map(|i| hex.get(2 * i..2 * i + 2))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms() {
        let h = "ee5c62e05e2bc6822a45641eebbabff2476e1d93";
        assert_eq!(
            phone_form(h),
            "EE 5C 62 E0 5E 2B C6 82 2A 45 64 1E EB BA BF F2 47 6E 1D 93"
        );
        assert_eq!(colon_form("0c05"), "0c:05");
        assert_eq!(
            cucm_form("0C05655DE63FE2A042CF252D96C6D609", "MD5"),
            "0c05655de63fe2a042cf252d96c6d609(MD5)"
        );
    }
}
