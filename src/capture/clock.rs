//! Timestamp conversion: legacy pcap seconds + micro/nanoseconds, and pcapng's 64-bit tick
//! counts in each interface's `if_tsresol` units shifted by its `if_tsoffset` seconds.

use super::Timestamp;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// How to turn an interface's ticks into nanoseconds (decided once per interface, so the
/// per-packet work is one multiply, divide or shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TickScale {
    /// Ticks are coarser than nanoseconds: multiply.
    Mul(i128),
    /// Ticks are finer than nanoseconds: divide.
    Div(i128),
    /// Ticks are 2^-n seconds: multiply by 1e9, shift right by n.
    Shift(u32),
    /// Ticks so fine (below 10^-47 s) that every timestamp rounds to 0 ns.
    Zero,
}

impl TickScale {
    /// From the raw `if_tsresol` byte: high bit clear = 10^-v s, set = 2^-(v & 0x7f) s.
    pub(crate) fn from_tsresol(tsresol: u8) -> TickScale {
        let exp = u32::from(tsresol & 0x7f);
        if tsresol & 0x80 != 0 {
            return TickScale::Shift(exp);
        }
        if exp <= 9 {
            TickScale::Mul(10i128.pow(9 - exp))
        } else {
            match 10i128.checked_pow(exp - 9) {
                Some(d) => TickScale::Div(d),
                None => TickScale::Zero,
            }
        }
    }

    /// Nanoseconds for a tick count.
    pub(crate) fn nanos(self, ticks: u64) -> i128 {
        let t = i128::from(ticks);
        match self {
            // t < 2^64 and m <= 1e9 < 2^30: no overflow in i128.
            TickScale::Mul(m) => t * m,
            TickScale::Div(d) => t / d,
            // t * 1e9 < 2^94, shift by at most 127.
            TickScale::Shift(n) => (t * NANOS_PER_SEC) >> n,
            TickScale::Zero => 0,
        }
    }
}

/// A pcapng timestamp: ticks since the epoch minus `offset_secs`.
pub(crate) fn pcapng_ts(high: u32, low: u32, scale: TickScale, offset_secs: i64) -> Timestamp {
    let ticks = (u64::from(high) << 32) | u64::from(low);
    let total = scale.nanos(ticks) + i128::from(offset_secs) * NANOS_PER_SEC;
    Timestamp(clamp_i64(total))
}

/// A legacy pcap timestamp; `frac` is micro- or nanoseconds as the file's magic says.
pub(crate) fn legacy_ts(secs: u32, frac: u32, nanosecond_file: bool) -> Timestamp {
    let frac_ns = if nanosecond_file {
        i64::from(frac)
    } else {
        i64::from(frac) * 1000
    };
    Timestamp(i64::from(secs) * 1_000_000_000 + frac_ns)
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_binary_resolutions() {
        assert_eq!(TickScale::from_tsresol(6).nanos(1_500_000), 1_500_000_000);
        assert_eq!(TickScale::from_tsresol(9).nanos(7), 7);
        assert_eq!(TickScale::from_tsresol(0).nanos(2), 2_000_000_000);
        assert_eq!(TickScale::from_tsresol(12).nanos(5_000), 5);
        // 2^-10 s ticks: 1024 ticks = 1 s, 1 tick = 976562.5 ns (rounded down).
        assert_eq!(
            TickScale::from_tsresol(0x80 | 10).nanos(1024),
            1_000_000_000
        );
        assert_eq!(TickScale::from_tsresol(0x80 | 10).nanos(1), 976_562);
        assert_eq!(TickScale::from_tsresol(127).nanos(u64::MAX), 0);
        assert_eq!(TickScale::from_tsresol(0xff).nanos(u64::MAX), 0);
    }

    #[test]
    fn offsets_and_extremes_do_not_overflow() {
        let s = TickScale::from_tsresol(6);
        assert_eq!(pcapng_ts(0, 1, s, 100), Timestamp(100_000_001_000));
        assert_eq!(pcapng_ts(0, 0, s, -1), Timestamp(-1_000_000_000));
        assert_eq!(
            pcapng_ts(u32::MAX, u32::MAX, TickScale::from_tsresol(0), i64::MAX),
            Timestamp(i64::MAX)
        );
        assert_eq!(legacy_ts(1, 5, false), Timestamp(1_000_005_000));
        assert_eq!(legacy_ts(1, 5, true), Timestamp(1_000_000_005));
    }
}
