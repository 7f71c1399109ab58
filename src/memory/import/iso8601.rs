//! ISO 8601 durations, as the YouTube Data API writes `contentDetails.duration`.
//!
//! YouTube documents the value as "an ISO 8601 duration in the format PT#M#S" (`PT15M51S` is 15
//! minutes 51 seconds), writes days for videos of a day or more (`P1DT2H3M4S`), and gives a live
//! or upcoming broadcast a zero length (`P0D`)
//! (<https://developers.google.com/youtube/v3/docs/videos#contentDetails.duration>; the
//! discovery document `youtube/v3/youtube-api.json` of googleapis/google-api-go-client types it
//! as a string).
//!
//! Accepted, from ISO 8601-1's "duration format with designators": `PnW`, or
//! `P[nD][T[nH][nM][n[.f]S]]` with at least one component and at least one after `T`; every
//! number has 1 to 9 digits, and only seconds may carry a fraction (`PT1.5S`). Refused: years
//! and months (they have no fixed length in seconds), a comma as the decimal sign, signs, and the
//! alternative format `PThh:mm:ss`. [`DURATION_PATTERN`] is the same grammar as a regular
//! expression, for the API's schema.

/// The accepted grammar as an ECMA/Python regular expression (the OpenAPI document's pattern);
/// `(?![\s\S])` is the end of the text (`$` would also match before a final newline)
pub const DURATION_PATTERN: &str = r"^P(?:[0-9]{1,9}W|(?=[0-9]|T[0-9])(?:[0-9]{1,9}D)?(?:T(?=[0-9])(?:[0-9]{1,9}H)?(?:[0-9]{1,9}M)?(?:[0-9]{1,9}(?:\.[0-9]{1,9})?S)?)?)(?![\s\S])";

/// Most digits of one number (so no sum can overflow: 999,999,999 weeks fit an `f64` exactly)
const MAX_DIGITS: usize = 9;

/// Why a duration was refused
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Iso8601Error {
    /// It does not start with `P`
    #[error("must be an ISO 8601 duration starting with P, like PT4M13S")]
    NoDesignator,
    /// `P` (or `PT`) with no component after it
    #[error("has no component after {0}")]
    Empty(&'static str),
    /// A designator out of order, repeated, or not one of `W D H M S` (`Y` and date `M` included)
    #[error(
        "unexpected {0:?}: use W, or D then T with H, M, S in that order (years and months have no fixed length)"
    )]
    Unexpected(char),
    /// A number without its designator at the end
    #[error("the number at the end has no designator")]
    Dangling,
    /// A number of more than 9 digits, or a fraction anywhere but on seconds
    #[error("numbers have 1 to 9 digits, and only seconds may have a fraction")]
    BadNumber,
}

/// The length of an ISO 8601 duration, in seconds
///
/// # Errors
///
/// [`Iso8601Error`] saying what is wrong; the caller names the field.
pub fn parse_duration(text: &str) -> Result<f64, Iso8601Error> {
    let rest = text.strip_prefix('P').ok_or(Iso8601Error::NoDesignator)?;
    if rest.is_empty() {
        return Err(Iso8601Error::Empty("P"));
    }
    // Weeks stand alone (ISO 8601 does not combine them with the other components).
    if let Some(weeks) = rest
        .strip_suffix('W')
        .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(whole(weeks)? * 7.0 * 86_400.0);
    }
    let (date, time) = match rest.split_once('T') {
        Some((_, "")) => return Err(Iso8601Error::Empty("T")),
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut seconds = 0.0;
    // Before `T` only days, once.
    let (parts, dangling) = components(date)?;
    for (i, (number, designator)) in parts.into_iter().enumerate() {
        if designator != 'D' || i > 0 {
            return Err(Iso8601Error::Unexpected(designator));
        }
        seconds += whole(number)? * 86_400.0;
    }
    if dangling {
        return Err(Iso8601Error::Dangling);
    }
    if let Some(time) = time {
        // The rank of the last time designator seen: H < M < S, each at most once.
        let mut last = 0;
        let (parts, dangling) = components(time)?;
        for (number, designator) in parts {
            let (rank, unit) = match designator {
                'H' => (1, 3_600.0),
                'M' => (2, 60.0),
                'S' => (3, 1.0),
                other => return Err(Iso8601Error::Unexpected(other)),
            };
            if rank <= last {
                return Err(Iso8601Error::Unexpected(designator));
            }
            last = rank;
            seconds += if designator == 'S' {
                decimal(number)?
            } else {
                whole(number)?
            } * unit;
        }
        if dangling {
            return Err(Iso8601Error::Dangling);
        }
    }
    Ok(seconds)
}

/// Splits `12D` / `1H2M3.5S` into (number, designator) pairs, and says whether a number with
/// no designator is left at the end (reported after the designators, which say more); a
/// designator needs a number
type Components<'a> = (Vec<(&'a str, char)>, bool);

fn components(text: &str) -> Result<Components<'_>, Iso8601Error> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_digit() || c == '.' {
            continue;
        }
        let number = text.get(start..i).unwrap_or_default();
        if number.is_empty() {
            return Err(Iso8601Error::Unexpected(c));
        }
        out.push((number, c));
        start = i + c.len_utf8();
    }
    Ok((out, start < text.len()))
}

/// 1 to 9 digits
fn whole(number: &str) -> Result<f64, Iso8601Error> {
    let ok = (1..=MAX_DIGITS).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(Iso8601Error::BadNumber);
    }
    number.parse::<f64>().map_err(|_| Iso8601Error::BadNumber)
}

/// 1 to 9 digits, optionally `.` and 1 to 9 more
fn decimal(number: &str) -> Result<f64, Iso8601Error> {
    match number.split_once('.') {
        None => whole(number),
        Some((int, frac)) => {
            let int = whole(int)?;
            whole(frac)?;
            let frac: f64 = format!("0.{frac}")
                .parse()
                .map_err(|_| Iso8601Error::BadNumber)?;
            Ok(int + frac)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtube_forms() {
        assert_eq!(parse_duration("PT4M13S"), Ok(253.0));
        assert_eq!(parse_duration("PT15M51S"), Ok(951.0));
        assert_eq!(parse_duration("P1DT2H3M4S"), Ok(93_784.0));
        assert_eq!(parse_duration("P0D"), Ok(0.0));
    }

    #[test]
    fn the_designators_are_checked_in_order() {
        assert_eq!(parse_duration("PT1S2M"), Err(Iso8601Error::Unexpected('M')));
        assert_eq!(parse_duration("PT1H1H"), Err(Iso8601Error::Unexpected('H')));
        assert_eq!(parse_duration("P1M"), Err(Iso8601Error::Unexpected('M')));
        assert_eq!(parse_duration("P1Y"), Err(Iso8601Error::Unexpected('Y')));
        assert_eq!(parse_duration("PT1.5M"), Err(Iso8601Error::BadNumber));
    }
}
