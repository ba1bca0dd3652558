//! The query request's `now`, decoded as Go 1.23's `time.Time.UnmarshalJSON` decodes it (the
//! toolchain InfluxDB 2.7.12 is built with, `go.mod`): the JSON string's bytes parsed by
//! `time.Parse(time.RFC3339, ...)`, with Go's `ParseError` texts; then `Time.UnixNano()`,
//! which wraps for times outside the i64 nanosecond range.

/// A decoded `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// Go's zero time (`0001-01-01T00:00:00Z`, in any offset): `proxyRequest` uses the
    /// server's clock.
    Zero,
    /// Unix nanoseconds, as `UnixNano()` computes them (wrapping).
    At(i64),
}

/// Parses `value` with `time.Parse(time.RFC3339, value)`; Unix nanoseconds as i128 (the
/// strict reader Go tries first accepts nothing this layout parser refuses).
pub fn parse_rfc3339(value: &str) -> Result<i128, String> {
    crate::model::time::go_parse_layout(value, crate::model::time::GoLayout::Rfc3339)
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
