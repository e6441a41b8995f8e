//! Certificate serial numbers, compared and shown as unsigned integers.
//!
//! Trust lists store serials without the DER sign byte (certutils) or with it (DER INTEGER
//! content), so `00 81 a3` and `81 a3` are the same serial. Every stage that shows or
//! compares a serial (wire certificates, trust-list records, the diagnosis) goes through
//! here, so the JSON has one form: lower-case hex of the bytes, leading zero bytes stripped.

/// Strips leading zero bytes.
fn significant(serial: &[u8]) -> &[u8] {
    let first = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    serial.get(first..).unwrap_or_default()
}

/// Serials compared as unsigned big-endian integers (`00 81` equals `81`).
pub fn serial_eq(a: &[u8], b: &[u8]) -> bool {
    significant(a) == significant(b)
}

/// A serial as lower-case hex without leading zero bytes (`"00"` for zero or empty), e.g.
/// `0c614e…` for a DER INTEGER `00 0c 61 4e …`.
pub fn serial_hex(serial: &[u8]) -> String {
    let s = significant(serial);
    if s.is_empty() {
        "00".to_owned()
    } else {
        hex::encode(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_as_unsigned_integers() {
        assert!(serial_eq(&[0, 0x81, 1], &[0x81, 1]));
        assert!(!serial_eq(&[0x81, 1], &[0x81, 1, 0]));
        assert!(serial_eq(&[], &[0, 0]));
        assert_eq!(serial_hex(&[0, 0xAB, 0x0c]), "ab0c");
        assert_eq!(serial_hex(&[0x00, 0x0c, 0x61]), "0c61");
        assert_eq!(serial_hex(&[0, 0]), "00");
    }
}
