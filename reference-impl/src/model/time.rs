//! Go's time and duration text formats, over Unix nanoseconds.

use super::go_text::{time_quote, time_quote_bytes};

/// Nanoseconds per unit.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub const NANOS_PER_HOUR: i64 = 3_600 * NANOS_PER_SECOND;
pub const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

/// Smallest and largest valid point times (`models.MinNanoTime`, `models.MaxNanoTime`).
pub const MIN_NANO_TIME: i64 = i64::MIN + 2;
pub const MAX_NANO_TIME: i64 = i64::MAX - 1;

/// Formats Unix nanoseconds as Go's `t.UTC().Format(time.RFC3339Nano)`: fractional seconds
/// with trailing zeros trimmed (and no dot when the fraction is zero), `Z` suffix.
pub fn format_rfc3339_nano(nanos: i64) -> String {
    let mut out = String::with_capacity(30);
    format_rfc3339_nano_into(&mut out, nanos);
    out
}

/// [`format_rfc3339_nano`] appended to `out`. Digits are written straight into a buffer:
/// every Flux CSV row has three times, and going through `format!` was an eighth of the
/// served reference's time answering read-back queries.
pub fn format_rfc3339_nano_into(out: &mut String, nanos: i64) {
    format_time_into(out, nanos, true);
}

/// Flux's `values.Time.String()` (the nine fraction digits always written) appended to
/// `out`: what `string(v:)` and `pivot`'s row keys spell a time as.
pub fn format_fixed_nano_into(out: &mut String, nanos: i64) {
    format_time_into(out, nanos, false);
}

/// RFC 3339 in UTC with nine fraction digits, or (`trim`) Go's `RFC3339Nano`: trailing
/// fraction zeros dropped, and the fraction with them when it is zero.
fn format_time_into(out: &mut String, nanos: i64, trim: bool) {
    /// The two digits of every number below 100.
    const PAIRS: [u8; 200] = {
        let mut t = [0u8; 200];
        let mut i = 0;
        while i < 100 {
            t[2 * i] = b'0' + (i / 10) as u8;
            t[2 * i + 1] = b'0' + (i % 10) as u8;
            i += 1;
        }
        t
    };
    /// `v % 100` as two digits at `buf[at..at + 2]`.
    #[inline(always)]
    fn pair(buf: &mut [u8; 30], at: usize, v: u32) {
        let i = (v % 100) as usize * 2;
        buf[at] = PAIRS[i];
        buf[at + 1] = PAIRS[i + 1];
    }
    let secs = nanos.div_euclid(NANOS_PER_SECOND);
    let frac = nanos.rem_euclid(NANOS_PER_SECOND) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    // i64 nanoseconds span the years 1677 to 2262: always four digits.
    let year = u32::try_from(y).unwrap_or(0).min(9999);
    let mut buf = *b"0000-00-00T00:00:00.000000000Z";
    pair(&mut buf, 0, year / 100);
    pair(&mut buf, 2, year);
    pair(&mut buf, 5, m as u32);
    pair(&mut buf, 8, d as u32);
    pair(&mut buf, 11, sod / 3600);
    pair(&mut buf, 14, (sod / 60) % 60);
    pair(&mut buf, 17, sod % 60);
    let mut end = 19;
    if !trim || frac != 0 {
        // Nine digits: one, then four pairs.
        buf[20] = b'0' + (frac / 100_000_000) as u8;
        let rest = frac % 100_000_000;
        pair(&mut buf, 21, rest / 1_000_000);
        pair(&mut buf, 23, rest / 10_000);
        pair(&mut buf, 25, rest / 100);
        pair(&mut buf, 27, rest);
        end = 29;
        while trim && buf[end - 1] == b'0' {
            end -= 1;
        }
    }
    buf[end] = b'Z';
    debug_assert!(buf.is_ascii());
    // SAFETY: every byte of `buf` is ASCII: the template's, or a digit from `PAIRS` or
    // `b'0' + (0..=9)`. (Validating these thirty bytes with `from_utf8` was a quarter of the
    // cost of a time.)
    out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[..=end]) });
}

/// Formats Unix nanoseconds as Go's `t.UTC().Format(http.TimeFormat)`, the date in a
/// `Set-Cookie` `Expires`: `Mon, 02 Jan 2006 15:04:05 GMT`, the fraction of a second dropped.
pub fn format_http_date(nanos: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = nanos.div_euclid(NANOS_PER_SECOND);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize];
    format!(
        "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Parses `time.RFC3339Nano` input as Go's `time.Parse` accepts it (see
/// [`parse_rfc3339_nano_wide`] for the rules) into Unix nanoseconds; `None` for anything else,
/// including times outside the i64 nanosecond range.
pub fn parse_rfc3339_nano(s: &str) -> Option<i64> {
    parse_rfc3339_nano_wide(s).and_then(|n| i64::try_from(n).ok())
}

/// Parses `time.RFC3339Nano` input as Go 1.23's `time.Parse` accepts it, without the i64
/// limit: Unix nanoseconds as i128, so callers can tell "not RFC3339" from "RFC3339 but
/// outside the i64 range" (delete's `invalid start time` / `invalid stop time` messages).
///
/// Go tries a strict reader first (`parseRFC3339`, Go 1.20+) and, when it refuses, the
/// layout parser, which is laxer in places: a one-digit hour (`T5:00:00Z`), a `,` before the
/// fraction (at most nine digits then), zone offsets up to `+24:00` and `+23:60`.
pub fn parse_rfc3339_nano_wide(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    strict_rfc3339(b).or_else(|| go_parse_layout(s, GoLayout::Rfc3339Nano).ok())
}

/// Two ASCII digits at `b[at..at + 2]`.
fn two_digits(b: &[u8], at: usize) -> Option<i64> {
    match b.get(at..at + 2)? {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some(i64::from(h - b'0') * 10 + i64::from(l - b'0')),
        _ => None,
    }
}

/// The nanoseconds of the fraction digits `digits` (the first nine count; `parseNanoseconds`).
fn fraction_nanos(digits: &[u8]) -> i128 {
    let digits = &digits[..digits.len().min(9)];
    let n = digits
        .iter()
        .fold(0i128, |acc, d| acc * 10 + i128::from(d - b'0'));
    n * 10_i128.pow(9 - digits.len() as u32)
}

fn unix_nanos(date: (i64, i64, i64), clock: (i64, i64, i64), nanos: i128, offset: i64) -> i128 {
    let (year, month, day) = date;
    let (hour, minute, second) = clock;
    let days = i128::from(days_from_civil(year, month, day));
    let secs = days * 86_400 + i128::from(hour * 3600 + minute * 60 + second) - i128::from(offset);
    secs * i128::from(NANOS_PER_SECOND) + nanos
}

/// Go's `parseRFC3339` (time/format_rfc3339.go): fixed two-digit fields in range, `T`, an
/// optional `.` fraction of any length, `Z` or `±hh:mm` with `hh < 24` and `mm < 60`.
fn strict_rfc3339(b: &[u8]) -> Option<i128> {
    if b.len() < 19 || b[..4].iter().any(|c| !c.is_ascii_digit()) {
        return None;
    }
    let year = b[..4]
        .iter()
        .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    let month = two_digits(b, 5).filter(|m| (1..=12).contains(m))?;
    let day = two_digits(b, 8).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
    let hour = two_digits(b, 11).filter(|h| *h <= 23)?;
    let minute = two_digits(b, 14).filter(|m| *m <= 59)?;
    let second = two_digits(b, 17).filter(|s| *s <= 59)?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0;
    if rest.len() >= 2 && rest[0] == b'.' && rest[1].is_ascii_digit() {
        let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        nanos = fraction_nanos(&rest[1..n]);
        rest = &rest[n..];
    }
    let offset = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hh = two_digits(rest, 1).filter(|h| *h <= 23)?;
            let mm = two_digits(rest, 4).filter(|m| *m <= 59)?;
            let off = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    Some(unix_nanos(
        (year, month, day),
        (hour, minute, second),
        nanos,
        offset,
    ))
}

/// The layouts [`go_parse_layout`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoLayout {
    /// `time.RFC3339` (a query's `now`, through `Time.UnmarshalJSON`).
    Rfc3339,
    /// `time.RFC3339Nano` (delete's start and stop, Flux time literals).
    Rfc3339Nano,
}

impl GoLayout {
    fn text(self) -> &'static str {
        match self {
            Self::Rfc3339 => "2006-01-02T15:04:05Z07:00",
            Self::Rfc3339Nano => "2006-01-02T15:04:05.999999999Z07:00",
        }
    }
}

/// `elem` is what was left of the value, as bytes: Go slices fields off by bytes, so it may
/// begin inside a character.
fn cannot_parse(value: &str, layout: GoLayout, elem: &[u8], layout_elem: &str) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        time_quote(value),
        time_quote(layout.text()),
        time_quote_bytes(elem),
        time_quote(layout_elem)
    )
}

fn out_of_range(value: &str, what: &str) -> String {
    format!("parsing time {}: {what} out of range", time_quote(value))
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

/// Go 1.23's layout parser (`time.parse`) on `layout`, with its `ParseError` texts; Unix
/// nanoseconds as i128. The hour takes one or two digits, the other fields exactly two; the
/// zone is `Z` or `±hh:mm`, range-checked with `>` (so `+24:00` and `+23:60` pass); the day
/// is checked against its month last.
pub fn go_parse_layout(value: &str, layout: GoLayout) -> Result<i128, String> {
    let cannot_parse =
        |elem: &[u8], layout_elem: &str| cannot_parse(value, layout, elem, layout_elem);
    let v = value.as_bytes();
    let mut rest = v;
    // 2006: four bytes, the first a digit; when the other three are not all digits, Go has
    // already cut the four off (`p, value = value[0:4], value[4:]` before `atoi(p)`), so the
    // error shows what follows them.
    if rest.len() < 4 || !digit(rest, 0) {
        return Err(cannot_parse(rest, "2006"));
    }
    if !rest[..4].iter().all(u8::is_ascii_digit) {
        return Err(cannot_parse(&rest[4..], "2006"));
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
            Err(cannot_parse(rest, lit))
        }
    };
    // A field of `getnum` digits (exactly two when `fixed`), taken off the front of `rest`.
    let number = |rest: &mut &[u8], fixed: bool, layout_elem: &str| -> Result<i64, String> {
        let (n, len) = getnum(rest, fixed).ok_or_else(|| cannot_parse(rest, layout_elem))?;
        *rest = &rest[len..];
        Ok(n)
    };
    literal(&mut rest, "-")?;
    let month = number(&mut rest, true, "01")?;
    if !(1..=12).contains(&month) {
        return Err(out_of_range(value, "month"));
    }
    literal(&mut rest, "-")?;
    // Go checks the day against the month at the end; a day over 31 fails here.
    let day = number(&mut rest, true, "02")?;
    literal(&mut rest, "T")?;
    let hour = number(&mut rest, false, "15")?;
    if hour >= 24 {
        return Err(out_of_range(value, "hour"));
    }
    literal(&mut rest, ":")?;
    let minute = number(&mut rest, true, "04")?;
    if minute >= 60 {
        return Err(out_of_range(value, "minute"));
    }
    literal(&mut rest, ":")?;
    let second = number(&mut rest, true, "05")?;
    if second >= 60 {
        return Err(out_of_range(value, "second"));
    }
    // RFC3339 names no fraction: the seconds take one of any length (`stdSecond`), the digits
    // past the ninth dropped; RFC3339Nano's `.999999999` takes at most nine.
    let mut nanos = 0;
    if rest.len() >= 2 && matches!(rest[0], b'.' | b',') && digit(rest, 1) {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let n = 1 + match layout {
            GoLayout::Rfc3339 => digits,
            GoLayout::Rfc3339Nano => digits.min(9),
        };
        nanos = fraction_nanos(&rest[1..n]);
        rest = &rest[n..];
    }
    // Z07:00
    let offset: i64 = if rest.first() == Some(&b'Z') {
        rest = &rest[1..];
        0
    } else {
        if rest.len() < 6 || rest[3] != b':' {
            return Err(cannot_parse(rest, "Z07:00"));
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
            return Err(cannot_parse(after, "Z07:00"));
        };
        let off = (hh * 60 + mm) * 60;
        let off = if sign == b'-' { -off } else { off };
        rest = after;
        off
    };
    if !rest.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            time_quote(value),
            time_quote_bytes(rest)
        ));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(out_of_range(value, "day"));
    }
    Ok(unix_nanos(
        (year, month, day),
        (hour, minute, second),
        nanos,
        offset,
    ))
}

/// Go's `time.Duration.String()`: `1h0m0s`, `720h0m0s`, `1.5s`, `100ms`, `0s`.
pub fn format_go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: one unit with a fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let hours = u / 3_600_000_000_000;
        let rem = u % 3_600_000_000_000;
        let minutes = rem / 60_000_000_000;
        let sec_nanos = rem % 60_000_000_000;
        if hours > 0 {
            out.push_str(&format!("{hours}h{minutes}m"));
        } else if minutes > 0 {
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&fraction(sec_nanos, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::strategy::Strategy;

    /// The `format!` form the direct one replaced, kept as the test's oracle.
    fn format_rfc3339_nano_by_format(nanos: i64) -> String {
        let secs = nanos.div_euclid(NANOS_PER_SECOND);
        let frac = nanos.rem_euclid(NANOS_PER_SECOND);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        );
        if frac != 0 {
            let digits = format!("{frac:09}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }

    proptest::proptest! {
        #[test]
        fn formats_every_time_as_format_did(
            n in proptest::prop_oneof![
                proptest::num::i64::ANY,
                // Whole seconds, milliseconds and microseconds: fractions with trailing zeros.
                (-9_223_372_036i64..9_223_372_036).prop_map(|s| s * NANOS_PER_SECOND),
                (-9_223_372_036_854i64..9_223_372_036_854).prop_map(|s| s * 1_000_000),
                (-9_223_372_036_854_775i64..9_223_372_036_854_775).prop_map(|s| s * 1_000),
            ]
        ) {
            let mut appended = String::from("x");
            format_rfc3339_nano_into(&mut appended, n);
            proptest::prop_assert_eq!(format_rfc3339_nano(n), format_rfc3339_nano_by_format(n));
            proptest::prop_assert_eq!(&appended[1..], format_rfc3339_nano_by_format(n));
            // Flux's `values.Time.String()`, as `string(v:)` spelled it with `format!`.
            let mut fixed = String::from("x");
            format_fixed_nano_into(&mut fixed, n);
            let secs = n.div_euclid(NANOS_PER_SECOND);
            let frac = n.rem_euclid(NANOS_PER_SECOND);
            let sod = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let by_format = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
                sod / 3600,
                (sod / 60) % 60,
                sod % 60
            );
            proptest::prop_assert_eq!(&fixed[1..], by_format);
        }
    }

    #[test]
    fn formats_the_ends_of_the_range() {
        for n in [
            i64::MIN,
            i64::MIN + 1,
            MIN_NANO_TIME,
            -1,
            0,
            1,
            MAX_NANO_TIME,
            i64::MAX,
        ] {
            assert_eq!(
                format_rfc3339_nano(n),
                format_rfc3339_nano_by_format(n),
                "{n}"
            );
        }
        assert_eq!(
            format_rfc3339_nano(i64::MIN),
            "1677-09-21T00:12:43.145224192Z"
        );
        assert_eq!(
            format_rfc3339_nano(i64::MAX),
            "2262-04-11T23:47:16.854775807Z"
        );
    }

    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(format_rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339_nano(1_541_000_000),
            "1970-01-01T00:00:01.541Z"
        );
        assert_eq!(
            format_rfc3339_nano(1_541_000_600),
            "1970-01-01T00:00:01.5410006Z"
        );
        assert_eq!(
            format_rfc3339_nano(1_747_735_200_123_456_789),
            "2025-05-20T10:00:00.123456789Z"
        );
        assert_eq!(format_rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            format_rfc3339_nano(MAX_NANO_TIME),
            "2262-04-11T23:47:16.854775806Z"
        );
        assert_eq!(
            format_rfc3339_nano(MIN_NANO_TIME),
            "1677-09-21T00:12:43.145224194Z"
        );
    }

    #[test]
    fn formats_like_go_http_time_format() {
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_http_date(1_747_742_400_123_456_789),
            "Tue, 20 May 2025 12:00:00 GMT"
        );
        assert_eq!(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(
            format_http_date(951_782_400 * NANOS_PER_SECOND),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
    }

    #[test]
    fn parses_rfc3339nano() {
        assert_eq!(parse_rfc3339_nano("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nano("2025-05-20T10:00:00.123456789Z"),
            Some(1_747_735_200_123_456_789)
        );
        assert_eq!(parse_rfc3339_nano("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339_nano("1970-01-01T00:00:00.5Z"),
            Some(500_000_000)
        );
        // Go's layout parser, behind the strict reader, takes a one-digit hour, a comma before
        // at most nine fraction digits, and zone offsets up to +24:00 and +23:60.
        assert_eq!(
            parse_rfc3339_nano("1970-01-01T1:00:00Z"),
            Some(3_600_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_nano("1970-01-01T00:00:00,5Z"),
            Some(500_000_000)
        );
        assert_eq!(parse_rfc3339_nano("1970-01-01T00:00:00,1234567891Z"), None);
        assert_eq!(
            parse_rfc3339_nano("1970-01-01T00:00:00.1234567891Z"),
            Some(123_456_789)
        );
        assert_eq!(
            parse_rfc3339_nano("1970-01-02T00:00:00+24:00"),
            Some(0),
            "+24:00 passes Go's > 24 check"
        );
        assert_eq!(
            parse_rfc3339_nano("1970-01-02T00:00:00+24:01"),
            Some(-60_000_000_000)
        );
        assert_eq!(parse_rfc3339_nano("1970-01-02T00:00:00+25:00"), None);
        assert_eq!(parse_rfc3339_nano("1970-01-01T00:00:00+00:61"), None);
        assert_eq!(parse_rfc3339_nano("1970-01-01T00:00:00t"), None);
        assert_eq!(parse_rfc3339_nano("1970-01-01t00:00:00Z"), None);
        assert_eq!(parse_rfc3339_nano("1970-01-01"), None);
        assert_eq!(parse_rfc3339_nano("1970-01-01T00:00:00"), None);
        assert_eq!(parse_rfc3339_nano("1970-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_nano("3000-01-01T00:00:00Z"), None);
        assert_eq!(
            parse_rfc3339_nano("1677-09-21T00:12:43.145224194Z"),
            Some(MIN_NANO_TIME)
        );
        assert_eq!(
            parse_rfc3339_nano("2262-04-11T23:47:16.854775807Z"),
            Some(i64::MAX)
        );
    }

    #[test]
    fn wide_parser_reaches_past_the_i64_range() {
        assert_eq!(parse_rfc3339_nano_wide("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nano_wide("1970-01-01T00:00:00.1234567891Z"),
            Some(123_456_789)
        );
        assert_eq!(
            parse_rfc3339_nano_wide("1970-01-01T00:00:00,5Z"),
            Some(500_000_000)
        );
        let early = parse_rfc3339_nano_wide("1500-01-01T00:00:00Z").unwrap();
        assert!(early < i128::from(MIN_NANO_TIME));
        let late = parse_rfc3339_nano_wide("3000-01-01T00:00:00Z").unwrap();
        assert!(late > i128::from(MAX_NANO_TIME));
        for bad in [
            "1970-01-01",
            "1970-01-01t00:00:00Z",
            "1970-01-01T00:00:00z",
            "1970-01-01T00:00:00.Z",
            "1970-02-30T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_nano_wide(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(format_go_duration(NANOS_PER_HOUR), "1h0m0s");
        assert_eq!(format_go_duration(30 * NANOS_PER_DAY), "720h0m0s");
        assert_eq!(format_go_duration(NANOS_PER_DAY), "24h0m0s");
        assert_eq!(format_go_duration(90 * NANOS_PER_SECOND), "1m30s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(1_500_000), "1.5ms");
        assert_eq!(format_go_duration(1_500), "1.5µs");
        assert_eq!(format_go_duration(15), "15ns");
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(-NANOS_PER_HOUR), "-1h0m0s");
    }

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 10_957, 19_000, 106_751] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
