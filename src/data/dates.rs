//! Timestamps as they appear in event logs: `YYYYMMDD`, ISO dates and ISO date-times.
//! Digits are parsed by hand on the hot path; chrono validates the calendar date.

use chrono::NaiveDate;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Parses a timestamp into seconds since 1970-01-01T00:00:00Z.
///
/// Accepted: `19970101`, `1997-01-01`, `1997-01-01T13:45:00`, `1997-01-01 13:45`, with optional
/// fractional seconds and `Z` or `±HH:MM` offset (converted to UTC).
pub fn parse_timestamp(s: &[u8]) -> Result<i64, String> {
    let s = trim(s);
    let (y, m, d, rest) = if s.len() >= 8 && s[..8].iter().all(u8::is_ascii_digit) && s.len() == 8 {
        (
            digits(&s[0..4]),
            digits(&s[4..6]),
            digits(&s[6..8]),
            &s[8..],
        )
    } else if s.len() >= 10 && s[4] == b'-' && s[7] == b'-' {
        (
            digits(&s[0..4]),
            digits(&s[5..7]),
            digits(&s[8..10]),
            &s[10..],
        )
    } else {
        return Err(format!(
            "'{}' is not a date: use YYYY-MM-DD, YYYYMMDD or an ISO date-time",
            String::from_utf8_lossy(s)
        ));
    };
    let bad = || {
        format!(
            "'{}' is not a valid date: use YYYY-MM-DD, YYYYMMDD or an ISO date-time",
            String::from_utf8_lossy(s)
        )
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(bad());
    };
    let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(bad)?;
    let days = date.signed_duration_since(epoch()).num_days();
    Ok(days * DAY + parse_time_of_day(rest).ok_or_else(bad)?)
}

/// Parses a calendar date given on the command line (`YYYY-MM-DD` or `YYYYMMDD`) to a day number.
pub fn parse_day(s: &str) -> Result<i64, String> {
    let secs = parse_timestamp(s.as_bytes())?;
    if secs.rem_euclid(DAY) != 0 {
        return Err(format!("'{s}' must be a date without a time of day"));
    }
    Ok(secs.div_euclid(DAY))
}

/// Formats a day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn format_day(day: i64) -> String {
    (epoch() + chrono::Duration::days(day))
        .format("%Y-%m-%d")
        .to_string()
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `""`, `THH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]` (or a space instead of `T`) → seconds, UTC-adjusted.
fn parse_time_of_day(rest: &[u8]) -> Option<i64> {
    if rest.is_empty() {
        return Some(0);
    }
    if !(rest[0] == b'T' || rest[0] == b' ') || rest.len() < 6 || rest[3] != b':' {
        return None;
    }
    let h = digits(&rest[1..3])? as i64;
    let mi = digits(&rest[4..6])? as i64;
    let mut i = 6;
    let mut sec = 0;
    if rest.len() >= 9 && rest[6] == b':' {
        sec = digits(&rest[7..9])? as i64;
        i = 9;
        if rest.get(i) == Some(&b'.') {
            i += 1;
            while rest.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let offset = match &rest[i..] {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, tail @ ..] => {
            let oh = digits(&[*oh1, *oh2])? as i64;
            let om = match tail {
                [] => 0,
                [b':', m1, m2] | [m1, m2] => digits(&[*m1, *m2])? as i64,
                _ => return None,
            };
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(h * 3600 + mi * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let d = parse_timestamp(b"19970101").unwrap();
        assert_eq!(d, parse_timestamp(b"1997-01-01").unwrap());
        assert_eq!(d / DAY, 9862);
        assert_eq!(parse_timestamp(b"1997-01-01T01:00:00Z").unwrap(), d + 3600);
        assert_eq!(parse_timestamp(b"1997-01-01 01:00").unwrap(), d + 3600);
        assert_eq!(
            parse_timestamp(b"1997-01-01T01:00:00.250+01:00").unwrap(),
            d
        );
        assert_eq!(format_day(9862), "1997-01-01");
        assert_eq!(
            parse_day("1997-09-30").unwrap() - parse_day("19970101").unwrap(),
            272
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "1997-02-30",
            "19971301",
            "1997/01/01",
            "yesterday",
            "1997-01-01T25:00",
        ] {
            assert!(parse_timestamp(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
