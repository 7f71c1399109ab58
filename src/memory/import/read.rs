//! Small readers shared by the import's parsers: each checks one kind of value and names the
//! field when it refuses, and each has its pattern here, so the OpenAPI schema
//! ([`super::schema`]) states exactly what is accepted.

use serde_json::Value;

use crate::memory::error::MemoryError;
use crate::memory::json::{Obj, join};

/// A YouTube video id: 11 characters of the URL-safe base64 alphabet
pub const VIDEO_ID_PATTERN: &str = r"^[A-Za-z0-9_-]{11}(?![\s\S])";
/// A `uint64` the Data API sends as a JSON string (`"viewCount": "1234"`); 19 digits always
/// fit a `u64`
pub const COUNT_PATTERN: &str = r"^[0-9]{1,19}(?![\s\S])";
/// A BCP-47 language tag as YouTube writes them (`en`, `en-US`, `zh-Hans`, `es-419`)
pub const LANGUAGE_PATTERN: &str = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}(?![\s\S])";
/// An RFC 3339 date-time (`2024-10-15T08:30:00Z`, `...00.5+02:00`)
pub const DATE_TIME_PATTERN: &str = r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])(?![\s\S])";
/// An ISO 3166-1 alpha-2 country code, as the Analytics API's `country` dimension gives it
pub const COUNTRY_PATTERN: &str = r"^[A-Z]{2}(?![\s\S])";
/// Largest whole number a JSON number carries exactly (2^53 - 1)
pub const MAX_WHOLE: u64 = (1 << 53) - 1;

/// An optional string field (absent or `null` is `None`)
pub(super) fn string<'a>(obj: &Obj<'a>, key: &str) -> Result<Option<&'a str>, MemoryError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(MemoryError::invalid(
            join(obj.path, key),
            "must be a string",
        )),
    }
}

/// A string field that must be there
pub(super) fn required_string<'a>(obj: &Obj<'a>, key: &str) -> Result<&'a str, MemoryError> {
    string(obj, key)?
        .ok_or_else(|| MemoryError::invalid(join(obj.path, key), "missing required field"))
}

/// An optional `uint64` sent as a string of digits
pub(super) fn count_string(obj: &Obj<'_>, key: &str) -> Result<Option<u64>, MemoryError> {
    let Some(s) = string(obj, key)? else {
        return Ok(None);
    };
    let digits = (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    match s.parse::<u64>() {
        Ok(n) if digits => Ok(Some(n)),
        _ => Err(MemoryError::invalid(
            join(obj.path, key),
            "must be a count written as a string of 1 to 19 digits, as the Data API sends it",
        )),
    }
}

/// A whole number (JSON Schema's `integer`: `1080` and `1080.0` alike) from 0 to 2^53 - 1
pub(super) fn whole_number(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return (n <= MAX_WHOLE).then_some(n);
    }
    let x = v.as_f64()?;
    // The range check makes the cast exact.
    (x.fract() == 0.0 && (0.0..=MAX_WHOLE as f64).contains(&x)).then_some(x as u64)
}

/// An 11-character video id
pub(super) fn is_video_id(s: &str) -> bool {
    s.len() == 11
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A language tag of [`LANGUAGE_PATTERN`]
pub(super) fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or_default();
    let subtags: Vec<&str> = parts.collect();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags.len() <= 4
        && subtags
            .iter()
            .all(|t| (1..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An ISO 3166-1 alpha-2 code of [`COUNTRY_PATTERN`]
pub(super) fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// The `YYYY-MM-DD` of an RFC 3339 date-time of [`DATE_TIME_PATTERN`], `None` when it is not one
pub(super) fn date_of(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<u32>().ok())
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let date_ok = digits(0..4).is_some()
        && at(4, b'-')
        && digits(5..7).is_some_and(|m| (1..=12).contains(&m))
        && at(7, b'-')
        && digits(8..10).is_some_and(|d| (1..=31).contains(&d))
        && at(10, b'T')
        && digits(11..13).is_some_and(|h| h <= 23)
        && at(13, b':')
        && digits(14..16).is_some_and(|m| m <= 59)
        && at(16, b':')
        && digits(17..19).is_some_and(|s| s <= 60);
    if !date_ok {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        rest = frac.get(n..)?;
    }
    let zone_ok = rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.get(3..4) == Some(":")
            && rest
                .get(1..3)
                .and_then(|h| h.parse::<u32>().ok())
                .is_some_and(|h| h <= 23)
            && rest
                .get(1..3)
                .is_some_and(|h| h.bytes().all(|c| c.is_ascii_digit()))
            && rest.get(4..6).is_some_and(|m| {
                m.bytes().all(|c| c.is_ascii_digit()) && m.parse::<u32>().is_ok_and(|m| m <= 59)
            }));
    if zone_ok { s.get(..10) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        assert_eq!(date_of("2024-10-15T08:30:00Z"), Some("2024-10-15"));
        assert_eq!(date_of("2024-10-15T08:30:00.123+02:00"), Some("2024-10-15"));
        assert_eq!(date_of("2024-10-15T23:59:60-11:30"), Some("2024-10-15"));
        for bad in [
            "2024-13-15T08:30:00Z",
            "2024-10-15 08:30:00Z",
            "2024-10-15T08:30:00",
            "2024-10-15T08:30:00.Z",
            "2024-10-15T24:00:00Z",
            "2024-10-15T08:30:00+2:00",
            "2024-10-15T08:30:00Zjunk",
        ] {
            assert_eq!(date_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn tags_and_codes() {
        assert!(is_language("en") && is_language("en-US") && is_language("es-419"));
        assert!(!is_language("e") && !is_language("english") && !is_language("en_US"));
        assert!(is_country("DE") && !is_country("de") && !is_country("DEU"));
        assert!(is_video_id("dQw4w9WgXcQ") && !is_video_id("dQw4w9WgXc"));
    }
}
