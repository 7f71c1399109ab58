//! When a retirement takes effect, as an operator writes it: milliseconds since the epoch, an
//! RFC 3339 date-time (`2026-03-01T00:00:00Z`, `2026-03-01T09:30:00+01:00`) or a bare date
//! (`2026-03-01`, midnight UTC).
//!
//! Parsed by hand: the core has no date crate for one field.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A point in time as an edit gives it
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Moment {
    /// Milliseconds since the Unix epoch
    Millis(Timestamp),
    /// An RFC 3339 date-time, or a `YYYY-MM-DD` date meaning its midnight UTC
    Text(String),
}

const MS_PER_DAY: i64 = 86_400_000;

impl Moment {
    /// The instant this names; `None` when the text is not a date or date-time of 1970 or later
    pub fn resolve(&self) -> Option<Timestamp> {
        match self {
            Self::Millis(t) => Some(*t),
            Self::Text(s) => parse(s),
        }
    }
}

/// What an operator is told when [`Moment::resolve`] cannot read a moment
pub const MOMENT_FORMAT: &str = "must be milliseconds since the epoch, an RFC 3339 date-time \
     like 2026-03-01T00:00:00Z or a date like 2026-03-01";

fn parse(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let day = date(b)?;
    let ms = if b.len() == 10 {
        day * MS_PER_DAY
    } else {
        day * MS_PER_DAY + time_of_day(b.get(10..)?)?
    };
    u64::try_from(ms).ok().map(Timestamp)
}

/// A run of ASCII digits at `range` as a number
fn digits(b: &[u8], range: std::ops::Range<usize>) -> Option<i64> {
    let part = b.get(range)?;
    if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    part.iter().try_fold(0i64, |n, d| {
        n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    })
}

/// Days since 1970-01-01 of the `YYYY-MM-DD` at the start of `b`
fn date(b: &[u8]) -> Option<i64> {
    let year = digits(b, 0..4)?;
    let month = digits(b, 5..7)?;
    let day = digits(b, 8..10)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || year < 1970 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Howard Hinnant's `days_from_civil`, for years from 1970 (so no negative eras)
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Milliseconds into the UTC day of `THH:MM:SS[.frac](Z|±HH:MM)`; may fall outside 0..1 day
/// when the offset moves it to the day before or after
fn time_of_day(b: &[u8]) -> Option<i64> {
    if !matches!(b.first(), Some(b'T' | b't')) || b.get(3) != Some(&b':') || b.get(6) != Some(&b':')
    {
        return None;
    }
    let (hour, minute, second) = (digits(b, 1..3)?, digits(b, 4..6)?, digits(b, 7..9)?);
    // A leap second (:60) is read as the last millisecond of its minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = b.get(9..)?;
    let mut millis = 0;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|d| d.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        // Only the first three digits count: the registry's clock is in milliseconds.
        millis = (0..3).fold(0, |ms, i| {
            ms * 10
                + frac
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |d| i64::from(d - b'0'))
        });
        rest = frac.get(n..)?;
    }
    let offset_min = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if rest.len() == 6 && rest.get(3) == Some(&b':') => {
            let (h, m) = (digits(rest, 1..3)?, digits(rest, 4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    let of_minute = if second == 60 {
        59_999
    } else {
        second * 1000 + millis
    };
    Some((hour * 60 + minute - offset_min) * 60_000 + of_minute)
}
