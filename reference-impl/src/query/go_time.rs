//! The query request's `now`, decoded as Go 1.23's `time.Time.UnmarshalJSON` decodes it (the
//! toolchain InfluxDB 2.7.12 is built with, `go.mod`): the JSON string's bytes parsed by
//! `time.Parse(time.RFC3339, ...)`, with Go's `ParseError` texts; then `Time.UnixNano()`,
//! which wraps for times outside the i64 nanosecond range.

use crate::model::time::days_from_civil;

const LAYOUT: &str = "2006-01-02T15:04:05Z07:00";

/// A decoded `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// Go's zero time (`0001-01-01T00:00:00Z`, in any offset): `proxyRequest` uses the
    /// server's clock.
    Zero,
    /// Unix nanoseconds, as `UnixNano()` computes them (wrapping).
    At(i64),
}

use crate::model::go_text::time_quote as quote;

/// `elem` is what was left of the value, as bytes: Go slices fields off by bytes, so it may
/// begin inside a character.
fn cannot_parse(value: &str, elem: &[u8], layout_elem: &str) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        quote(value),
        quote(LAYOUT),
        crate::model::go_text::time_quote_bytes(elem),
        quote(layout_elem)
    )
}

fn out_of_range(value: &str, what: &str) -> String {
    format!("parsing time {}: {what} out of range", quote(value))
}

fn digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, usize)> {
    if !digit(s, 0) {
        return None;
    }
    if !digit(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), 1));
    }
    Some((i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'), 2))
}

/// Parses `value` with `time.Parse(time.RFC3339, value)`; Unix nanoseconds as i128.
pub fn parse_rfc3339(value: &str) -> Result<i128, String> {
    let v = value.as_bytes();
    let mut rest = v;
    // 2006: four bytes, the first a digit; when the other three are not all digits, Go has
    // already cut the four off (`p, value = value[0:4], value[4:]` before `atoi(p)`), so the
    // error shows what follows them.
    if rest.len() < 4 || !digit(rest, 0) {
        return Err(cannot_parse(value, rest, "2006"));
    }
    if !rest[..4].iter().all(u8::is_ascii_digit) {
        return Err(cannot_parse(value, &rest[4..], "2006"));
    }
    let year: i64 = rest[..4]
        .iter()
        .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
    rest = &rest[4..];
    let literal = |rest: &mut &[u8], lit: &str| -> Result<(), String> {
        if rest.starts_with(lit.as_bytes()) {
            *rest = &rest[lit.len()..];
            Ok(())
        } else {
            Err(cannot_parse(value, rest, lit))
        }
    };
    literal(&mut rest, "-")?;
    let Some((month, n)) = getnum(rest, true) else {
        return Err(cannot_parse(value, rest, "01"));
    };
    rest = &rest[n..];
    if !(1..=12).contains(&month) {
        return Err(out_of_range(value, "month"));
    }
    literal(&mut rest, "-")?;
    let Some((day, n)) = getnum(rest, true) else {
        return Err(cannot_parse(value, rest, "02"));
    };
    rest = &rest[n..];
    // Go checks the day against the month at the end; a day over 31 fails here.
    literal(&mut rest, "T")?;
    let Some((hour, n)) = getnum(rest, false) else {
        return Err(cannot_parse(value, rest, "15"));
    };
    rest = &rest[n..];
    if hour >= 24 {
        return Err(out_of_range(value, "hour"));
    }
    literal(&mut rest, ":")?;
    let Some((minute, n)) = getnum(rest, true) else {
        return Err(cannot_parse(value, rest, "04"));
    };
    rest = &rest[n..];
    if minute >= 60 {
        return Err(out_of_range(value, "minute"));
    }
    literal(&mut rest, ":")?;
    let Some((second, n)) = getnum(rest, true) else {
        return Err(cannot_parse(value, rest, "05"));
    };
    rest = &rest[n..];
    if second >= 60 {
        return Err(out_of_range(value, "second"));
    }
    // A fraction the layout does not name is accepted after the seconds.
    let mut nanos: i64 = 0;
    if rest.len() >= 2 && matches!(rest[0], b'.' | b',') && digit(rest, 1) {
        let mut n = 2;
        while digit(rest, n) {
            n += 1;
        }
        let digits = &rest[1..n.min(10)];
        let mut ns = digits
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
        for _ in digits.len()..9 {
            ns *= 10;
        }
        nanos = ns;
        rest = &rest[n..];
    }
    // Z07:00
    let offset: i64 = if rest.first() == Some(&b'Z') {
        rest = &rest[1..];
        0
    } else {
        if rest.len() < 6 || rest[3] != b':' {
            return Err(cannot_parse(value, rest, "Z07:00"));
        }
        // Go slices sign, hour and minute off before it reads them, so a failure shows what
        // follows the six bytes; the minute is read only when the hour was.
        let (sign, after) = (rest[0], &rest[6..]);
        let hh = getnum(&rest[1..3], true).map(|(v, _)| v);
        let mm = hh.and_then(|_| getnum(&rest[4..6], true).map(|(v, _)| v));
        // The range checks come before the parse error; the minute's is set last and wins.
        if mm.is_some_and(|m| m > 60) {
            return Err(out_of_range(value, "time zone offset minute"));
        }
        if hh.is_some_and(|h| h > 24) {
            return Err(out_of_range(value, "time zone offset hour"));
        }
        let (Some(hh), Some(mm), b'+' | b'-') = (hh, mm, sign) else {
            return Err(cannot_parse(value, after, "Z07:00"));
        };
        let off = (hh * 60 + mm) * 60;
        let off = if sign == b'-' { -off } else { off };
        rest = after;
        off
    };
    if !rest.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            quote(value),
            crate::model::go_text::time_quote_bytes(rest)
        ));
    }
    if day < 1 || day > days_in(year, month) {
        return Err(out_of_range(value, "day"));
    }
    let days = i128::from(days_from_civil(year, month, day));
    let secs = days * 86_400 + i128::from(hour * 3600 + minute * 60 + second) - i128::from(offset);
    Ok(secs * 1_000_000_000 + i128::from(nanos))
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix nanoseconds of `0001-01-01T00:00:00Z`, Go's zero `time.Time`.
const GO_ZERO: i128 = -62_135_596_800 * 1_000_000_000;

/// Decodes the JSON value of `now` as `Time.UnmarshalJSON` (Go 1.23) does; the error is the
/// text `json.Unmarshal` returns.
pub fn decode_now(v: &serde_json::Value) -> Result<Option<Now>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => {
            let nanos = parse_rfc3339(s)?;
            if nanos == GO_ZERO {
                return Ok(Some(Now::Zero));
            }
            Ok(Some(Now::At(go_unix_nano(nanos))))
        }
        _ => Err("Time.UnmarshalJSON: input is not a JSON string".into()),
    }
}

/// `Time.UnixNano()`: seconds times 1e9 plus the nanoseconds, in wrapping i64 arithmetic.
pub fn go_unix_nano(nanos: i128) -> i64 {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000) as i64;
    (secs as i64).wrapping_mul(1_000_000_000).wrapping_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_time_in_any_offset_is_zero() {
        let zero = serde_json::json!("0001-01-01T00:00:00Z");
        assert_eq!(decode_now(&zero), Ok(Some(Now::Zero)));
        let shifted = serde_json::json!("0001-01-01T01:00:00+01:00");
        assert_eq!(decode_now(&shifted), Ok(Some(Now::Zero)));
    }

    #[test]
    fn times_go_parses() {
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00.5+01:00"),
            Ok(1_704_063_600_500_000_000)
        );
        assert_eq!(
            parse_rfc3339("2024-01-01T1:00:00Z"),
            Ok(1_704_070_800_000_000_000)
        );
        assert!(parse_rfc3339("0000-01-01T00:00:00Z").is_ok());
        assert!(parse_rfc3339("9999-12-31T23:59:59.999999999Z").is_ok());
        // Past the i64 range, UnixNano wraps as Go's does.
        let far = parse_rfc3339("9999-12-31T00:00:00Z").unwrap_or_default();
        let secs = 253_402_214_400_i64;
        assert_eq!(go_unix_nano(far), secs.wrapping_mul(1_000_000_000));
    }

    #[test]
    fn errors_as_go_words_them() {
        assert_eq!(
            parse_rfc3339("yesterday"),
            Err(r#"parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006""#.into())
        );
        assert_eq!(
            parse_rfc3339("2024-01-01"),
            Err(r#"parsing time "2024-01-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T""#.into())
        );
        assert_eq!(
            parse_rfc3339("2024-13-01T00:00:00Z"),
            Err(r#"parsing time "2024-13-01T00:00:00Z": month out of range"#.into())
        );
        assert_eq!(
            parse_rfc3339("2023-02-29T00:00:00Z"),
            Err(r#"parsing time "2023-02-29T00:00:00Z": day out of range"#.into())
        );
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00"),
            Err(r#"parsing time "2024-01-01T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00""#.into())
        );
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00Zjunk"),
            Err(r#"parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk""#.into())
        );
        assert_eq!(
            decode_now(&serde_json::json!(5)),
            Err("Time.UnmarshalJSON: input is not a JSON string".into())
        );
    }
}
