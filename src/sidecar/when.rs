//! When a piece of evidence was written, as far as its own timestamp tells, to compare it with
//! the capture ("inputs are checked before they are believed": a Status Messages line six
//! weeks older than the capture says nothing about the phone in the capture).
//!
//! Phones write local time and often no year or no date at all (phone-log-lines.md §3.1,
//! §3.2): `Nov 29 06:33:59.395199` (no year), `11:04:15.038637` (no date), `8:52:30am 10/01/19`
//! (two-digit year; month/day or day/month by the phone's locale). Only what the text shows is
//! used: without a date nothing is said; a yearless date is taken in the capture's year; a date
//! that reads both as month/day and day/month gives the later of the two, so evidence is called
//! old only when every reading is old.

use crate::timestamp::Timestamp;

/// Seconds in a day: the slack allowed between evidence and capture (local time against UTC,
/// a phone clock a few hours off).
pub const DAY: i64 = 86_400;

/// The evidence time in seconds since the epoch (its local clock read as UTC) and how it was
/// read; None when the text gives no date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceTime {
    /// Seconds since the epoch.
    pub secs: i64,
    /// How the date was read, for the reader (`year not logged, taken as the capture's`).
    pub how: Option<&'static str>,
}

fn month_of(name: &str) -> Option<u8> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|n| *n == lower)
        .and_then(|i| u8::try_from(i + 1).ok())
}

fn date_secs(year: i32, month: u8, day: u8) -> Option<i64> {
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// `H:MM[:SS][.frac][am|pm|a|p| AM| PM]` → seconds into the day.
fn clock_secs(text: &str) -> Option<i64> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let (clock, pm) = if let Some(c) = lower.strip_suffix("pm").or_else(|| lower.strip_suffix('p'))
    {
        (c.trim().to_string(), Some(true))
    } else if let Some(c) = lower.strip_suffix("am").or_else(|| lower.strip_suffix('a')) {
        (c.trim().to_string(), Some(false))
    } else {
        (lower.clone(), None)
    };
    let clock = clock.split('.').next()?;
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut nums = parts.iter().map(|p| p.parse::<i64>().ok());
    let mut h = nums.next()??;
    let m = nums.next()??;
    let s = nums.next().unwrap_or(Some(0))?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..61).contains(&s) {
        return None;
    }
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    Some(h * 3600 + m * 60 + s)
}

/// Reads the time a console log or Status Messages line carries, against the capture's
/// first frame `capture` (for the year a log leaves out). None when no date is written.
pub fn read(time: &str, capture: Timestamp) -> Option<EvidenceTime> {
    let t = time.trim();
    let capture_year = time::OffsetDateTime::from_unix_timestamp(capture.secs())
        .ok()?
        .year();
    // `Nov 29 06:33:59.395199` (console, no year).
    let mut words = t.split_whitespace();
    let first = words.next()?;
    if let Some(month) = month_of(first) {
        let day: u8 = words.next()?.parse().ok()?;
        let clock = words.next().and_then(clock_secs).unwrap_or(0);
        let secs = date_secs(capture_year, month, day)? + clock;
        return Some(EvidenceTime {
            secs,
            how: Some("year not logged, taken as the capture's"),
        });
    }
    // `8:52:30am 10/01/19`, `5:48:09 AM 10/11/19` (Status Messages).
    let date = t.split_whitespace().find(|w| w.matches('/').count() == 2)?;
    let clock_text = t.replace(date, " ");
    let clock = clock_secs(&clock_text).unwrap_or(0);
    let fields: Vec<&str> = date.split('/').collect();
    let (a, b, y): (u8, u8, i32) = (
        fields.first()?.parse().ok()?,
        fields.get(1)?.parse().ok()?,
        fields.get(2)?.parse().ok()?,
    );
    let year = if y < 100 { 2000 + y } else { y };
    let readings: Vec<i64> = [date_secs(year, a, b), date_secs(year, b, a)]
        .into_iter()
        .flatten()
        .collect();
    let latest = readings.iter().copied().max()?;
    let ambiguous = readings.len() == 2 && readings[0] != readings[1];
    Some(EvidenceTime {
        secs: latest + clock,
        how: ambiguous.then_some("month/day or day/month: the later reading taken"),
    })
}

/// How long before `capture` the evidence was written, in seconds, when that is more than
/// [`DAY`]; None when it is not older (or cannot be told).
pub fn older_than_a_day(time: &str, capture: Timestamp) -> Option<(i64, EvidenceTime)> {
    let t = read(time, capture)?;
    let before = capture.secs() - t.secs;
    (before > DAY).then_some((before, t))
}

/// `6 weeks`, `3 days`, `30 hours`: a duration in the largest unit that reads well, rounded
/// to the nearest unit (a log line written two seconds after nine is still six weeks old).
pub fn span(secs: i64) -> String {
    let days = (secs + DAY / 2) / DAY;
    if days >= 14 {
        format!("{} weeks", (days + 3) / 7)
    } else if days >= 2 {
        format!("{days} days")
    } else {
        format!("{} hours", secs / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u8, d: u8) -> Timestamp {
        Timestamp::from_parts(date_secs(y, m, d).expect("date") + 9 * 3600, 0)
    }

    /// Issue 18 item 10: a Status Messages line six weeks older than the capture.
    #[test]
    fn a_status_line_six_weeks_old_is_older_than_a_day() {
        let capture = at(2026, 3, 2);
        let (before, t) = older_than_a_day("8:59:58am 01/19/26", capture).expect("old");
        assert_eq!(span(before), "6 weeks");
        assert_eq!(t.how, None, "19 cannot be a month: one reading");
        assert_eq!(span(42 * DAY - 2), "6 weeks");
        assert_eq!(span(3 * DAY), "3 days");
        assert_eq!(span(DAY + 7200), "26 hours");
        // The same day: not old.
        assert_eq!(older_than_a_day("8:59:58am 03/02/26", capture), None);
    }

    #[test]
    fn an_ambiguous_date_is_old_only_when_both_readings_are() {
        let capture = at(2026, 3, 2);
        // 03/02 is 2 March or 3 February: the later reading (2 March) is not old.
        let t = read("9:00:02am 03/02/26", capture).expect("dated");
        assert!(t.how.is_some());
        assert_eq!(older_than_a_day("9:00:02am 03/02/26", capture), None);
        // 01/02 is 2 January or 1 February: both old.
        assert!(older_than_a_day("5:48:09 AM 01/02/26", capture).is_some());
    }

    #[test]
    fn console_dates_take_the_capture_year_and_clocks_alone_say_nothing() {
        let capture = at(2026, 11, 29);
        assert_eq!(older_than_a_day("Nov 29 06:33:59.395199", capture), None);
        let (before, t) = older_than_a_day("Oct 15 06:33:59.395199", capture).expect("old");
        assert_eq!(span(before), "6 weeks");
        assert!(t.how.is_some_and(|h| h.contains("year")));
        assert_eq!(read("11:04:15.038637", capture), None);
        assert_eq!(read("1:33:26a", capture), None);
        assert_eq!(read("Foo 99 1:00:00", capture), None);
    }

    #[test]
    fn clocks_read_am_and_pm() {
        assert_eq!(clock_secs("8:52:30am"), Some(8 * 3600 + 52 * 60 + 30));
        assert_eq!(clock_secs("5:48:09 PM"), Some(17 * 3600 + 48 * 60 + 9));
        assert_eq!(clock_secs("12:02:55a"), Some(2 * 60 + 55));
        assert_eq!(clock_secs("06:33:59.395199"), Some(6 * 3600 + 33 * 60 + 59));
        assert_eq!(clock_secs("99:00"), None);
    }

    proptest::proptest! {
        /// Whatever a phone wrote as its time, reading it does not panic.
        #[test]
        fn any_time_text_is_read_without_panic(
            t in "(\\PC{0,30}|[0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?[apAPmM ]{0,3} [0-9]{1,4}/[0-9]{1,4}/[0-9]{1,5}|[A-Za-z]{3} [0-9]{1,3} [0-9:.]{0,15})",
            secs in -100_000_000_000i64..100_000_000_000i64,
        ) {
            let capture = Timestamp::from_parts(secs, 0);
            let _ = read(&t, capture);
            let _ = older_than_a_day(&t, capture);
            let _ = span(secs.abs());
        }
    }
}
