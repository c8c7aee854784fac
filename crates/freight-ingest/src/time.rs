//! Timestamps as sources write them (RFC 3339 / ISO 8601) to milliseconds since the epoch,
//! with a fast path for the `2025-09-03T00:52:34.495Z` shape every agent log uses.

use chrono::DateTime;

fn digits(bytes: &[u8]) -> Option<i64> {
    let mut value = 0i64;
    for &byte in bytes {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(byte - b'0');
    }
    Some(value)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn fast_utc_millis(text: &[u8]) -> Option<i64> {
    // YYYY-MM-DDTHH:MM:SS[.fff…]Z
    if text.len() < 20 || text[4] != b'-' || text[7] != b'-' || text[10] != b'T' || text[13] != b':' || text[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(&text[0..4])?, digits(&text[5..7])?, digits(&text[8..10])?);
    let (hour, minute, second) = (digits(&text[11..13])?, digits(&text[14..16])?, digits(&text[17..19])?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let rest = &text[19..];
    let (fraction, zone) = match rest.first() {
        Some(b'.') => {
            let end = rest.iter().position(|b| !b.is_ascii_digit() && *b != b'.')?;
            (&rest[1..end], &rest[end..])
        }
        _ => (&rest[..0], rest),
    };
    if zone != b"Z" || fraction.len() > 9 {
        return None;
    }
    let millis = match fraction.len() {
        0 => 0,
        1 => digits(fraction)? * 100,
        2 => digits(fraction)? * 10,
        _ => digits(&fraction[..3])?,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// Milliseconds since the Unix epoch, or `None` when the text is not a timestamp.
pub fn parse_millis(text: &str) -> Option<i64> {
    fast_utc_millis(text.as_bytes())
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|time| time.timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for text in [
            "2025-09-03T00:52:34.495Z",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00.1Z",
            "2026-03-01T10:00:01.123456Z",
        ] {
            let chrono = DateTime::parse_from_rfc3339(text).expect("valid").timestamp_millis();
            assert_eq!(fast_utc_millis(text.as_bytes()), Some(chrono), "{text}");
        }
        assert_eq!(parse_millis("2025-09-03T02:52:34.495+02:00"), parse_millis("2025-09-03T00:52:34.495Z"));
        assert_eq!(parse_millis("yesterday"), None);
        assert_eq!(parse_millis("2025-13-03T00:52:34Z"), None);
    }
}
