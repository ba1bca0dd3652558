//! Type conversions (`stdlib/universe/typeconv.go`): `bool`, `int`, `uint`, `float`,
//! `string`, `time`, `duration`, `bytes`.

use std::rc::Rc;

use crate::model::time::format_fixed_nano_into;
use crate::query::ast::{Duration, Pos};
use crate::query::interp::{Args, Interp, R};
use crate::query::value::{format_duration, format_float, Value};

/// `values.Time.String()`: nine fraction digits always.
pub fn fixed_width_time(t: i64) -> String {
    let mut out = String::with_capacity(30);
    format_fixed_nano_into(&mut out, t);
    out
}

/// `string(v:)` for the kinds it accepts.
pub fn to_string(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format_float(*f),
        Value::Bool(b) => b.to_string(),
        Value::Time(t) => fixed_width_time(*t),
        Value::Duration(d) => format_duration(*d),
        Value::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| {
            "bytes contained non utf8 bytes, cannot be converted into a string".to_string()
        })?,
        other => return Err(format!("cannot convert {} to string", other.type_name())),
    })
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms Flux users write.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty() || s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Converts `v` with conversion `name`; null stays null.
pub fn convert(name: &str, v: &Value) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match name {
        "string" => Value::str(to_string(v)?),
        "int" => Value::Int(match v {
            Value::Str(s) => s.parse::<i64>().map_err(|_| {
                format!(
                    "cannot convert string {:?} to int due to invalid syntax",
                    s.as_ref()
                )
            })?,
            Value::Int(i) => *i,
            Value::UInt(u) => *u as i64,
            Value::Float(f) => *f as i64,
            Value::Bool(b) => i64::from(*b),
            Value::Time(t) => *t,
            Value::Duration(d) => duration_nanos(*d),
            other => return Err(format!("cannot convert {} to int", other.type_name())),
        }),
        "uint" => Value::UInt(match v {
            Value::Str(s) => s.parse::<u64>().map_err(|_| {
                format!(
                    "cannot convert string {:?} to uint due to invalid syntax",
                    s.as_ref()
                )
            })?,
            Value::Int(i) => *i as u64,
            Value::UInt(u) => *u,
            Value::Float(f) => *f as u64,
            Value::Bool(b) => u64::from(*b),
            Value::Time(t) => *t as u64,
            Value::Duration(d) => duration_nanos(*d) as u64,
            other => return Err(format!("cannot convert {} to uint", other.type_name())),
        }),
        "float" => Value::Float(match v {
            Value::Str(s) => parse_go_float(s).ok_or_else(|| {
                format!(
                    "cannot convert string {:?} to float due to invalid syntax",
                    s.as_ref()
                )
            })?,
            Value::Int(i) => *i as f64,
            Value::UInt(u) => *u as f64,
            Value::Float(f) => *f,
            Value::Bool(b) => f64::from(u8::from(*b)),
            other => return Err(format!("cannot convert {} to float", other.type_name())),
        }),
        "bool" => Value::Bool(match v {
            Value::Str(s) => match s.as_ref() {
                "true" => true,
                "false" => false,
                other => return Err(format!("cannot convert string {other:?} to bool")),
            },
            Value::Int(0) | Value::UInt(0) => false,
            Value::Int(1) | Value::UInt(1) => true,
            Value::Int(n) => return Err(format!("cannot convert int {n} to bool, must be 0 or 1")),
            Value::UInt(n) => {
                return Err(format!("cannot convert uint {n} to bool, must be 0 or 1"))
            }
            Value::Float(f) if *f == 0.0 => false,
            Value::Float(f) if *f == 1.0 => true,
            Value::Float(f) => {
                return Err(format!(
                    "cannot convert float {f:.6} to bool, must be 0 or 1"
                ))
            }
            Value::Bool(b) => *b,
            other => return Err(format!("cannot convert {} to bool", other.type_name())),
        }),
        "time" => Value::Time(match v {
            Value::Str(s) => crate::query::parser::parse_time_literal(s).ok_or_else(|| {
                format!(
                    "cannot convert string {:?} to time due to invalid syntax",
                    s.as_ref()
                )
            })?,
            Value::Int(i) => *i,
            Value::UInt(u) => *u as i64,
            Value::Time(t) => *t,
            other => return Err(format!("cannot convert {} to time", other.type_name())),
        }),
        "duration" => Value::Duration(match v {
            Value::Str(s) => parse_duration(s).ok_or_else(|| {
                format!(
                    "cannot convert string {:?} to duration due to invalid syntax",
                    s.as_ref()
                )
            })?,
            Value::Int(i) => Duration::nanos(*i),
            Value::UInt(u) => Duration::nanos(*u as i64),
            Value::Duration(d) => *d,
            other => return Err(format!("cannot convert {} to duration", other.type_name())),
        }),
        "bytes" => match v {
            Value::Str(s) => Value::Bytes(Rc::from(s.as_bytes())),
            Value::Bytes(b) => Value::Bytes(b.clone()),
            other => return Err(format!("cannot convert {} to bytes", other.type_name())),
        },
        _ => return Err(format!("unknown conversion {name}")),
    })
}

/// A duration's nanoseconds (`values.Duration.Duration()`: a month is 365.25/12 days).
pub fn duration_nanos(d: Duration) -> i64 {
    const NS_PER_MONTH: f64 = 365.25 * 24.0 * 3_600_000_000_000.0 / 12.0;
    let months = (d.months.unsigned_abs() as f64 * NS_PER_MONTH) as i64;
    let nanos = d.nanos.unsigned_abs() as i64;
    let total = nanos.wrapping_add(months);
    if d.is_negative() {
        total.wrapping_neg()
    } else {
        total
    }
}

/// A duration literal's text (`values.ParseDuration`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let toks = crate::query::lexer::scan(body, Pos { line: 1, col: 1 });
    match toks.as_slice() {
        [t, eof] if matches!(eof.tok, crate::query::lexer::Tok::Eof) => match t.tok {
            crate::query::lexer::Tok::Duration(d) => Some(if neg { d.negate() } else { d }),
            _ => None,
        },
        _ => None,
    }
}

pub fn call(_it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    a.check(&[], &["v"])?;
    let v = a.get("v").cloned().unwrap_or(Value::Null);
    convert(name, &v).map_err(|m| a.err(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_typeconv() {
        assert!(matches!(
            convert("int", &Value::Float(-1.9)),
            Ok(Value::Int(-1))
        ));
        assert!(matches!(convert("float", &Value::str("1e3")), Ok(Value::Float(f)) if f == 1000.0));
        assert_eq!(
            convert("int", &Value::str("x")).unwrap_err(),
            "cannot convert string \"x\" to int due to invalid syntax"
        );
        assert!(
            matches!(convert("string", &Value::Time(0)), Ok(Value::Str(s)) if &*s == "1970-01-01T00:00:00.000000000Z")
        );
        assert!(
            matches!(convert("string", &Value::Duration(Duration::nanos(90_000_000_000))), Ok(Value::Str(s)) if &*s == "1m30s")
        );
        assert!(
            matches!(convert("duration", &Value::str("1h")), Ok(Value::Duration(d)) if d.nanos == 3_600_000_000_000)
        );
        assert!(matches!(
            convert("bool", &Value::Float(1.0)),
            Ok(Value::Bool(true))
        ));
        assert_eq!(
            convert("bool", &Value::Float(2.0)).unwrap_err(),
            "cannot convert float 2.000000 to bool, must be 0 or 1"
        );
    }
}
