//! Timestamp conversion: legacy pcap seconds + micro/nanoseconds, and pcapng's 64-bit tick
//! counts in each interface's `if_tsresol` units shifted by its `if_tsoffset` seconds; and
//! [`CaptureClock`], the capture time idle sweeps measure against, which a frame dated far
//! from its neighbours does not move.

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

/// Consecutive frames that must agree on a new time before the clock steps to it: one or
/// two frames far off are a garbage timestamp or another host's skewed clock; a run of
/// them is a real jump (an NTP step, a pause in the capture).
pub const CONFIRM_FRAMES: u64 = 3;

/// The shortest jump counted as one (a second): frames closer than this are the ordinary
/// jitter and reordering of a capture.
const MIN_JUMP_NS: i64 = 1_000_000_000;

/// What one frame's timestamp did to the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMove {
    /// In line with the clock (it moved forward or stayed).
    InLine,
    /// Far from the clock: held apart until later frames confirm it.
    Held,
    /// Later frames confirmed a jump: the clock stepped to the new time.
    Stepped,
}

/// Frames far from the clock that agree with each other, not yet confirmed.
#[derive(Debug, Clone, Copy)]
struct Pending {
    last: i64,
    latest: i64,
    frames: u64,
}

/// The capture clock idle sweeps use: the latest timestamp in line with the frames around
/// it. A frame more than the jump threshold ahead of or behind the clock is held apart
/// (a time anomaly) and moves nothing, so one future-dated frame cannot idle out every
/// open flow, and a merged capture whose hosts' clocks disagree keeps the first clock
/// while both hosts keep talking. Only [`CONFIRM_FRAMES`] consecutive frames that agree
/// with each other on the new time step the clock there (forward or back).
#[derive(Debug, Clone)]
pub struct CaptureClock {
    jump_ns: i64,
    now: Option<i64>,
    /// Monotonic idle time: the capture time that passed in line and forward steps, never
    /// going back (see [`CaptureClock::idle_now`]).
    idle: i64,
    pending: Option<Pending>,
    anomalies: u64,
    steps: u64,
}

impl CaptureClock {
    /// A clock that holds apart frames more than `jump_ns` from it (at least a second;
    /// the collector passes its shortest idle timeout: a smaller jump cannot idle out a
    /// flow by itself).
    pub fn new(jump_ns: i64) -> Self {
        CaptureClock {
            jump_ns: jump_ns.max(MIN_JUMP_NS),
            now: None,
            idle: i64::MIN,
            pending: None,
            anomalies: 0,
            steps: 0,
        }
    }

    /// Takes one frame's timestamp (nanoseconds) and says what it did to the clock.
    #[inline]
    pub fn observe(&mut self, ts: i64) -> ClockMove {
        // Nearly every frame: nothing held apart, at or a little after the clock. The same
        // as the in-line case below (one comparison instead of its general one; this runs
        // once per packet on the collecting thread).
        if self.pending.is_none()
            && let Some(now) = self.now
            && let Some(ahead) = ts.checked_sub(now)
            && (0..=self.jump_ns).contains(&ahead)
        {
            self.now = Some(ts);
            self.idle = self.idle.saturating_add(ahead);
            return ClockMove::InLine;
        }
        self.observe_general(ts)
    }

    /// [`CaptureClock::observe`] for any frame (the first, one behind the clock or far from
    /// it, or one while frames are held apart).
    fn observe_general(&mut self, ts: i64) -> ClockMove {
        let Some(now) = self.now else {
            self.now = Some(ts);
            self.idle = ts;
            return ClockMove::InLine;
        };
        if ts.abs_diff(now) <= self.jump_ns.unsigned_abs() {
            // Back in line: frames held apart were anomalies after all.
            if let Some(p) = self.pending.take() {
                self.anomalies += p.frames;
            }
            self.move_to(now, now.max(ts));
            return ClockMove::InLine;
        }
        match &mut self.pending {
            // Agreeing frames go on from the held ones (a sparse capture's frames may each
            // be more than a jump apart; they still only go forward from there).
            Some(p) if ts >= p.last.saturating_sub(self.jump_ns) => {
                p.frames += 1;
                p.last = ts;
                p.latest = p.latest.max(ts);
                if p.frames >= CONFIRM_FRAMES {
                    // The time line moves; idle time does not count the jump (below).
                    self.now = Some(p.latest);
                    self.pending = None;
                    self.steps += 1;
                    return ClockMove::Stepped;
                }
            }
            _ => {
                if let Some(p) = self.pending.replace(Pending {
                    last: ts,
                    latest: ts,
                    frames: 1,
                }) {
                    self.anomalies += p.frames;
                }
            }
        }
        ClockMove::Held
    }

    /// Moves the clock from `from` to `to`, in line; idle time passes only forward.
    fn move_to(&mut self, from: i64, to: i64) {
        self.now = Some(to);
        if to > from {
            self.idle = self.idle.saturating_add(to.saturating_sub(from));
        }
    }

    /// The clock's time (nanoseconds since the epoch); `i64::MIN` before the first frame.
    pub fn now(&self) -> i64 {
        self.now.unwrap_or(i64::MIN)
    }

    /// The time idleness is measured on: it starts at the first frame's time and advances
    /// as the clock moves in line, never by a jump, whichever way and even confirmed. The
    /// capture shows nothing of the time a jump skips: counting a step forward would idle
    /// out every open flow of the other host whenever a merged capture's two clocks take
    /// turns, and a step back would leave what was open before it idle forever.
    pub fn idle_now(&self) -> i64 {
        self.idle
    }

    /// Frames dated far from their neighbours that no later frames confirmed. Of the
    /// frames still held apart when the capture ends, a lone one counts; a run of them
    /// that agree is more likely a jump the capture ended too early to confirm.
    pub fn anomalies(&self) -> u64 {
        let trailing = self
            .pending
            .filter(|p| p.frames == 1)
            .map_or(0, |p| p.frames);
        self.anomalies + trailing
    }

    /// Jumps later frames confirmed (the clock stepped forward or back).
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-line shortcut of `observe` leaves the clock as the general rule does, on
    /// jitter, small steps back, a step of exactly the threshold, single bogus frames and
    /// confirmed jumps both ways (issue 19, one capture clock).
    #[test]
    fn the_in_line_shortcut_moves_the_clock_as_the_general_rule_does() {
        let s = 1_000_000_000i64;
        let mut ts = 1_700_000_000 * s;
        let mut seq = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..5_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let step = match x % 23 {
                0 => 2 * 3600 * s,
                1 => -3600 * s,
                2 => 10 * s,
                3 => -(s / 2),
                4 => 0,
                _ => (x % 1_000_000) as i64,
            };
            ts += step;
            seq.push(ts);
            // Now and then two more frames on the same time: a jump confirmed at once.
            if i.is_multiple_of(997) {
                seq.extend([ts + 1, ts + 2]);
            }
            if x.is_multiple_of(23) && i.is_multiple_of(2) {
                // A single bogus frame: the next ones go back to the old time.
                ts -= step;
            }
        }
        seq.extend([i64::MAX, i64::MIN, 0, i64::MAX - 1]);
        let mut fast = CaptureClock::new(60 * s);
        let mut general = CaptureClock::new(60 * s);
        for (i, &t) in seq.iter().enumerate() {
            assert_eq!(fast.observe(t), general.observe_general(t), "frame {i}");
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "frame {i}");
        }
        assert!(fast.steps > 0 && fast.anomalies > 0);
    }

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

    const S: i64 = 1_000_000_000;

    #[test]
    fn one_future_frame_is_an_anomaly_and_moves_nothing() {
        let mut c = CaptureClock::new(60 * S);
        assert_eq!(c.observe(100 * S), ClockMove::InLine);
        assert_eq!(c.observe(7300 * S), ClockMove::Held);
        assert_eq!(c.now(), 100 * S);
        assert_eq!(c.observe(101 * S), ClockMove::InLine);
        assert_eq!(c.now(), 101 * S);
        assert_eq!((c.anomalies(), c.steps()), (1, 0));
    }

    #[test]
    fn one_past_frame_is_an_anomaly_and_moves_nothing() {
        let mut c = CaptureClock::new(60 * S);
        c.observe(10_000 * S);
        assert_eq!(c.observe(S), ClockMove::Held);
        assert_eq!(c.observe(10_001 * S), ClockMove::InLine);
        assert_eq!(c.now(), 10_001 * S);
        assert_eq!((c.anomalies(), c.steps()), (1, 0));
    }

    #[test]
    fn a_jump_later_frames_confirm_moves_the_clock_both_ways() {
        let mut c = CaptureClock::new(60 * S);
        c.observe(100 * S);
        assert_eq!(c.observe(3700 * S), ClockMove::Held);
        assert_eq!(c.observe(3701 * S), ClockMove::Held);
        assert_eq!(c.observe(3702 * S), ClockMove::Stepped);
        assert_eq!(c.now(), 3702 * S);
        assert_eq!(c.idle_now(), 100 * S);
        // An NTP step back, confirmed the same way.
        c.observe(50 * S);
        c.observe(51 * S);
        assert_eq!(c.observe(52 * S), ClockMove::Stepped);
        assert_eq!(c.now(), 52 * S);
        // Idle time counts only what passed in line.
        assert_eq!(c.idle_now(), 100 * S);
        c.observe(53 * S);
        assert_eq!(c.idle_now(), 101 * S);
        assert_eq!((c.anomalies(), c.steps()), (0, 2));
    }

    #[test]
    fn a_sparse_capture_steps_without_anomalies() {
        let mut c = CaptureClock::new(60 * S);
        for i in 0..30 {
            c.observe(i * 120 * S);
        }
        // The last two agree but are too few to confirm: held, not anomalies.
        assert_eq!(c.now(), 27 * 120 * S);
        assert_eq!(c.anomalies(), 0);
        assert_eq!(c.steps(), 9);
    }

    #[test]
    fn two_interleaved_clocks_keep_the_first() {
        let mut c = CaptureClock::new(60 * S);
        for i in 0..100 {
            c.observe((100 + i) * S);
            assert_eq!(c.observe((1900 + i) * S), ClockMove::Held);
        }
        assert_eq!(c.now(), 199 * S);
        assert_eq!((c.anomalies(), c.steps()), (100, 0));
    }

    #[test]
    fn small_reordering_and_extremes_are_in_line() {
        let mut c = CaptureClock::new(0);
        assert_eq!(c.now(), i64::MIN);
        c.observe(5 * S);
        assert_eq!(c.observe(5 * S - 1), ClockMove::InLine);
        assert_eq!(c.now(), 5 * S);
        assert_eq!(c.observe(i64::MAX), ClockMove::Held);
        assert_eq!(c.observe(i64::MIN), ClockMove::Held);
        assert_eq!(c.anomalies(), 2);
    }
}
