//! Value-level packages: `strings`, `date`, `regexp`, `math` (part), `experimental`'s
//! time and record helpers, and the universe's `display`, `contains`, `length`, `die`.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::convert;
use super::window::WindowSpec;
use crate::model::time::{civil_from_days, days_from_civil, NANOS_PER_DAY};
use crate::query::ast::Duration;
use crate::query::interp::{Args, Interp, R};
use crate::query::value::{format_duration, format_float, Value};
use crate::query::FluxError;

/// `values.Time.Add`: calendar months first (the day clamped to the month), then nanoseconds.
pub fn add_duration(t: i64, d: Duration) -> i64 {
    let mut out = t;
    if d.months != 0 {
        let days = t.div_euclid(NANOS_PER_DAY);
        let nanos_of_day = t.rem_euclid(NANOS_PER_DAY);
        let (y, m, day) = civil_from_days(days);
        let total = y * 12 + (m - 1) + d.months;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        let month_len = days_from_civil(
            if nm == 12 { ny + 1 } else { ny },
            if nm == 12 { 1 } else { nm + 1 },
            1,
        ) - days_from_civil(ny, nm, 1);
        out = days_from_civil(ny, nm, day.min(month_len))
            .wrapping_mul(NANOS_PER_DAY)
            .wrapping_add(nanos_of_day);
    }
    out.wrapping_add(d.nanos)
}

/// `date.truncate`: the start of the epoch-aligned window of `unit` holding `t`.
pub fn truncate_time(t: i64, unit: Duration) -> i64 {
    if unit.is_zero() || unit.is_negative() {
        return t;
    }
    let w = WindowSpec {
        every: unit,
        period: unit,
        offset: Duration::default(),
    };
    match w.overlapping(t, t.saturating_add(1), 4) {
        Ok(b) => b.first().map_or(t, |b| b.0),
        Err(()) => t,
    }
}

pub const STRINGS: &[&str] = &[
    "title",
    "toUpper",
    "toLower",
    "trim",
    "trimPrefix",
    "trimSpace",
    "trimSuffix",
    "trimRight",
    "trimLeft",
    "toTitle",
    "hasPrefix",
    "hasSuffix",
    "containsStr",
    "containsAny",
    "equalFold",
    "compare",
    "countStr",
    "index",
    "indexAny",
    "lastIndex",
    "lastIndexAny",
    "isDigit",
    "isLetter",
    "isLower",
    "isUpper",
    "repeat",
    "replace",
    "replaceAll",
    "split",
    "splitAfter",
    "splitN",
    "splitAfterN",
    "joinStr",
    "strlen",
    "substring",
];

pub const DATE: &[&str] = &[
    "second",
    "minute",
    "hour",
    "weekDay",
    "monthDay",
    "yearDay",
    "month",
    "year",
    "week",
    "quarter",
    "millisecond",
    "microsecond",
    "nanosecond",
    "add",
    "sub",
    "truncate",
    "time",
];

pub const MATH: &[&str] = &[
    "abs", "ceil", "floor", "round", "sqrt", "pow", "mInf", "maxInt", "minInt",
];

pub fn date_constants(m: &mut BTreeMap<String, Value>) {
    for (i, d) in [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ]
    .iter()
    .enumerate()
    {
        m.insert((*d).into(), Value::Int(i as i64));
    }
    for (i, mo) in [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    .iter()
    .enumerate()
    {
        m.insert((*mo).into(), Value::Int(i as i64 + 1));
    }
}

pub fn math_constants(m: &mut BTreeMap<String, Value>) {
    m.insert("pi".into(), Value::Float(std::f64::consts::PI));
    m.insert("e".into(), Value::Float(std::f64::consts::E));
    m.insert("maxint".into(), Value::Int(i64::MAX));
    m.insert("minint".into(), Value::Int(i64::MIN));
    m.insert("maxuint".into(), Value::UInt(u64::MAX));
    m.remove("maxInt");
    m.remove("minInt");
}

fn s(a: &Args, key: &str) -> R<String> {
    a.req_string(key)
}

fn int(a: &Args, key: &str) -> R<i64> {
    a.int(key)?.ok_or_else(|| a.missing(key))
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn go_title(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut prev_letter = false;
    for c in v.chars() {
        let is_sep = !(c.is_alphanumeric() || c == '_' || c == '\'');
        if !prev_letter && !is_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = !is_sep;
    }
    out
}

fn split_n(v: &str, sep: &str, n: i64, after: bool) -> Vec<Value> {
    if n == 0 {
        return Vec::new();
    }
    let mut parts: Vec<String> = Vec::new();
    if sep.is_empty() {
        let chars: Vec<char> = v.chars().collect();
        let limit = if n < 0 {
            chars.len()
        } else {
            (n as usize).min(chars.len())
        };
        for (i, c) in chars.iter().enumerate() {
            if i + 1 == limit && limit < chars.len() {
                parts.push(chars[i..].iter().collect());
                break;
            }
            parts.push(c.to_string());
        }
    } else {
        let mut rest = v;
        loop {
            if n > 0 && parts.len() as i64 == n - 1 {
                parts.push(rest.to_string());
                break;
            }
            match rest.find(sep) {
                Some(i) => {
                    let end = if after { i + sep.len() } else { i };
                    parts.push(rest[..end].to_string());
                    rest = &rest[i + sep.len()..];
                }
                None => {
                    parts.push(rest.to_string());
                    break;
                }
            }
        }
    }
    parts.into_iter().map(Value::str).collect()
}

/// A Go byte offset as Flux returns it for `index`.
fn byte_index(v: &str, f: impl Fn(&str) -> Option<usize>) -> i64 {
    f(v).map_or(-1, |i| i as i64)
}

pub fn strings(_it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let v = || s(&a, "v");
    Ok(match name {
        "title" => Value::str(go_title(&v()?)),
        "toUpper" => Value::str(v()?.to_uppercase()),
        "toLower" => Value::str(v()?.to_lowercase()),
        "toTitle" => Value::str(v()?.to_uppercase()),
        "trim" => {
            let cut = s(&a, "cutset")?;
            Value::str(v()?.trim_matches(|c| cut.contains(c)))
        }
        "trimLeft" => {
            let cut = s(&a, "cutset")?;
            Value::str(v()?.trim_start_matches(|c| cut.contains(c)))
        }
        "trimRight" => {
            let cut = s(&a, "cutset")?;
            Value::str(v()?.trim_end_matches(|c| cut.contains(c)))
        }
        "trimSpace" => Value::str(v()?.trim()),
        "trimPrefix" => {
            let p = s(&a, "prefix")?;
            let v = v()?;
            Value::str(v.strip_prefix(p.as_str()).unwrap_or(&v))
        }
        "trimSuffix" => {
            let p = s(&a, "suffix")?;
            let v = v()?;
            Value::str(v.strip_suffix(p.as_str()).unwrap_or(&v))
        }
        "hasPrefix" => Value::Bool(v()?.starts_with(s(&a, "prefix")?.as_str())),
        "hasSuffix" => Value::Bool(v()?.ends_with(s(&a, "suffix")?.as_str())),
        "containsStr" => Value::Bool(v()?.contains(s(&a, "substr")?.as_str())),
        "containsAny" => {
            let chars = s(&a, "chars")?;
            Value::Bool(v()?.chars().any(|c| chars.contains(c)))
        }
        "equalFold" => Value::Bool(v()?.to_lowercase() == s(&a, "t")?.to_lowercase()),
        "compare" => Value::Int(match v()?.as_bytes().cmp(s(&a, "t")?.as_bytes()) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        }),
        "countStr" => {
            let sub = s(&a, "substr")?;
            let v = v()?;
            Value::Int(if sub.is_empty() {
                v.chars().count() as i64 + 1
            } else {
                v.matches(sub.as_str()).count() as i64
            })
        }
        "index" => {
            let sub = s(&a, "substr")?;
            Value::Int(byte_index(&v()?, |x| x.find(sub.as_str())))
        }
        "lastIndex" => {
            let sub = s(&a, "substr")?;
            Value::Int(byte_index(&v()?, |x| x.rfind(sub.as_str())))
        }
        "indexAny" => {
            let chars = s(&a, "chars")?;
            Value::Int(byte_index(&v()?, |x| x.find(|c| chars.contains(c))))
        }
        "lastIndexAny" => {
            let chars = s(&a, "chars")?;
            Value::Int(byte_index(&v()?, |x| x.rfind(|c| chars.contains(c))))
        }
        "isDigit" => Value::Bool(v()?.chars().next().is_some_and(|c| c.is_ascii_digit())),
        "isLetter" => Value::Bool(v()?.chars().next().is_some_and(char::is_alphabetic)),
        "isLower" => Value::Bool(v()?.chars().next().is_some_and(char::is_lowercase)),
        "isUpper" => Value::Bool(v()?.chars().next().is_some_and(char::is_uppercase)),
        "repeat" => {
            let n = int(&a, "i")?;
            if n < 0 {
                return Err(a.err("strings: negative Repeat count"));
            }
            let v = v()?;
            if (v.len() as u64).saturating_mul(n as u64) > 64 * 1024 * 1024 {
                return Err(a.err("strings: Repeat output length overflow"));
            }
            Value::str(v.repeat(n as usize))
        }
        "replace" => {
            let (t, u, n) = (s(&a, "t")?, s(&a, "u")?, int(&a, "i")?);
            let v = v()?;
            Value::str(if n < 0 {
                v.replace(t.as_str(), &u)
            } else {
                v.replacen(t.as_str(), &u, n as usize)
            })
        }
        "replaceAll" => Value::str(v()?.replace(s(&a, "t")?.as_str(), &s(&a, "u")?)),
        "split" => Value::array(split_n(&v()?, &s(&a, "t")?, -1, false)),
        "splitAfter" => Value::array(split_n(&v()?, &s(&a, "t")?, -1, true)),
        "splitN" => Value::array(split_n(&v()?, &s(&a, "t")?, int(&a, "i")?, false)),
        "splitAfterN" => Value::array(split_n(&v()?, &s(&a, "t")?, int(&a, "i")?, true)),
        "joinStr" => {
            let arr = a.strings("arr")?.ok_or_else(|| a.missing("arr"))?;
            Value::str(arr.join(&v()?))
        }
        "strlen" => Value::Int(v()?.chars().count() as i64),
        "substring" => {
            let v: Vec<char> = v()?.chars().collect();
            let start = int(&a, "start")?.max(0) as usize;
            let end = (int(&a, "end")?.max(0) as usize).min(v.len());
            Value::str(if start >= end {
                String::new()
            } else {
                v[start..end].iter().collect()
            })
        }
        other => {
            return Err(FluxError::invalid(format!(
                "error {}: strings.{other} is not supported by influx-reference",
                a.span
            ))
            .wrapped())
        }
    })
}

/// A `Timeable` argument: a time, or a duration from now.
fn timeable(it: &Interp<'_>, a: &Args, key: &str) -> R<i64> {
    match a.get(key) {
        Some(Value::Time(t)) => Ok(*t),
        Some(Value::Duration(d)) => Ok(add_duration(it.now, *d)),
        Some(other) => Err(a.type_err(key, "time", other)),
        None => Err(a.missing(key)),
    }
}

fn check_location(a: &Args) -> R<()> {
    if let Some(loc) = a.get("location") {
        let utc = matches!(loc.field("zone"), Some(Value::Str(z)) if &**z == "UTC");
        if !utc {
            return Err(a.err("locations other than UTC are not supported by influx-reference"));
        }
    }
    Ok(())
}

pub fn date(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    check_location(&a)?;
    if matches!(name, "add" | "sub") {
        let d = a.duration("d")?.ok_or_else(|| a.missing("d"))?;
        let t = timeable(it, &a, if name == "add" { "to" } else { "from" })?;
        return Ok(Value::Time(add_duration(
            t,
            if name == "add" { d } else { d.negate() },
        )));
    }
    if name == "truncate" {
        let t = timeable(it, &a, "t")?;
        let unit = a.duration("unit")?.ok_or_else(|| a.missing("unit"))?;
        if unit.months != 0 && unit.nanos != 0 {
            return Err(a.err("duration used as an interval cannot mix month and nanosecond units"));
        }
        if unit.is_zero() {
            return Err(a.err("duration used as an interval cannot be zero"));
        }
        return Ok(Value::Time(truncate_time(t, unit)));
    }
    let t = timeable(it, &a, "t")?;
    let days = t.div_euclid(NANOS_PER_DAY);
    let nod = t.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let yday = days - days_from_civil(y, 1, 1) + 1;
    Ok(match name {
        "time" => Value::Time(t),
        "second" => Value::Int((nod / 1_000_000_000) % 60),
        "minute" => Value::Int((nod / 60_000_000_000) % 60),
        "hour" => Value::Int(nod / 3_600_000_000_000),
        "weekDay" => Value::Int((days + 4).rem_euclid(7)),
        "monthDay" => Value::Int(d),
        "yearDay" => Value::Int(yday),
        "month" => Value::Int(m),
        "year" => Value::Int(y),
        "quarter" => Value::Int((m - 1) / 3 + 1),
        "week" => {
            // ISO 8601 week number (Go's `ISOWeek`).
            let wd = (days + 3).rem_euclid(7); // Monday = 0
            let thursday = days - wd + 3;
            let (ty, _, _) = civil_from_days(thursday);
            Value::Int((thursday - days_from_civil(ty, 1, 1)) / 7 + 1)
        }
        "millisecond" => Value::Int((nod % 1_000_000_000) / 1_000_000),
        "microsecond" => Value::Int((nod % 1_000_000_000) / 1_000),
        "nanosecond" => Value::Int(nod % 1_000_000_000),
        other => {
            return Err(FluxError::invalid(format!(
                "error {}: date.{other} is not supported by influx-reference",
                a.span
            ))
            .wrapped())
        }
    })
}

pub fn regexp(_it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let re = |a: &Args| -> R<Rc<regex::Regex>> {
        match a.get("r") {
            Some(Value::Regex(r)) => Ok(r.clone()),
            Some(other) => Err(a.type_err("r", "regexp", other)),
            None => Err(a.missing("r")),
        }
    };
    Ok(match name {
        "compile" => {
            let v = s(&a, "v")?;
            Value::Regex(Rc::new(
                regex::Regex::new(&v).map_err(|e| a.err(e.to_string()))?,
            ))
        }
        "matchRegexpString" => Value::Bool(re(&a)?.is_match(&s(&a, "v")?)),
        "quoteMeta" => Value::str(regex::escape(&s(&a, "v")?)),
        "findString" => Value::str(
            re(&a)?
                .find(&s(&a, "v")?)
                .map_or(String::new(), |m| m.as_str().to_string()),
        ),
        "replaceAllString" => {
            let r = re(&a)?;
            Value::str(r.replace_all(&s(&a, "v")?, s(&a, "t")?.as_str()))
        }
        other => {
            return Err(FluxError::invalid(format!(
                "error {}: regexp.{other} is not supported by influx-reference",
                a.span
            ))
            .wrapped())
        }
    })
}

pub fn math(_it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let x = || a.float("x")?.ok_or_else(|| a.missing("x"));
    Ok(match name {
        "abs" => Value::Float(x()?.abs()),
        "ceil" => Value::Float(x()?.ceil()),
        "floor" => Value::Float(x()?.floor()),
        "round" => Value::Float(x()?.round()),
        "sqrt" => Value::Float(x()?.sqrt()),
        "pow" => Value::Float(x()?.powf(a.float("y")?.ok_or_else(|| a.missing("y"))?)),
        "mInf" => Value::Float(if a.int("sign")?.unwrap_or(0) >= 0 {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        }),
        other => {
            return Err(FluxError::invalid(format!(
                "error {}: math.{other} is not supported by influx-reference",
                a.span
            ))
            .wrapped())
        }
    })
}

/// `display(v:)`: Flux's `values.Display`.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "<null>".into(),
        Value::Str(s) => s.to_string(),
        Value::Float(f) => format_float(*f),
        Value::Duration(d) => format_duration(*d),
        Value::Time(t) => crate::model::time::format_rfc3339_nano(*t),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(display).collect::<Vec<_>>().join(", ")
        ),
        Value::Record(fields) => {
            let mut sorted: Vec<&(String, Value)> = fields.iter().collect();
            sorted.sort_by(|x, y| x.0.cmp(&y.0));
            format!(
                "{{{}}}",
                sorted
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", display(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Dict(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|(k, v)| format!("{}: {}", display(k), display(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Bytes(b) => format!(
            "0x{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        Value::Regex(r) => r.as_str().to_string(),
        other => convert::to_string(other).unwrap_or_else(|_| other.type_name()),
    }
}

pub fn universe_misc(_it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    match name {
        "display" => {
            a.check(&[], &["v"])?;
            Ok(Value::str(display(a.get("v").unwrap_or(&Value::Null))))
        }
        "contains" => {
            a.check(&[], &["value", "set"])?;
            let v = a.get("value").cloned().unwrap_or(Value::Null);
            match a.get("set") {
                Some(Value::Array(items)) => Ok(Value::Bool(
                    !v.is_null() && items.iter().any(|x| x.equal(&v)),
                )),
                Some(other) => Err(a.type_err("set", "[A]", other)),
                None => Err(a.missing("set")),
            }
        }
        "length" => {
            let arr = a.pipe.as_ref().or_else(|| a.get("arr"));
            match arr {
                Some(Value::Array(items)) => Ok(Value::Int(items.len() as i64)),
                Some(other) => Err(a.type_err("arr", "[A]", other)),
                None => Err(a.missing("arr")),
            }
        }
        _ => {
            let msg = a.string("msg")?.unwrap_or_default();
            Err(FluxError::invalid(msg))
        }
    }
}

/// `experimental`: time arithmetic, `group(mode: "extend")`, `set`, `objectKeys`, `to`.
pub fn experimental(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    match name {
        "addDuration" | "subDuration" => {
            let d = a.duration("d")?.ok_or_else(|| a.missing("d"))?;
            let key = if name == "addDuration" { "to" } else { "from" };
            let t = timeable(it, &a, key)?;
            Ok(Value::Time(add_duration(
                t,
                if name == "addDuration" { d } else { d.negate() },
            )))
        }
        "alignTime" => {
            let align = a.get("alignTo").cloned();
            let Some(Value::Time(to)) = align else {
                return Err(a.missing("alignTo"));
            };
            let (_, tables) = a.ordered(it)?;
            let mut out_tables = Vec::new();
            for t in tables.iter() {
                let mut nt = t.clone();
                if let (Some(Value::Time(_)), Some(ti)) = (Some(Value::Time(0)), nt.col("_time")) {
                    let start = match t.key_value("_start") {
                        Some(crate::query::table::Val::Time(s)) => *s,
                        _ => 0,
                    };
                    for r in &mut nt.rows {
                        if let crate::query::table::Val::Time(x) = r[ti] {
                            r[ti] = crate::query::table::Val::Time(x - start + to);
                        }
                    }
                }
                out_tables.push(nt);
            }
            super::shape::out(it, &a, out_tables, super::shape::Order::Keep(false))
        }
        "objectKeys" => match a.get("o") {
            Some(Value::Record(fields)) => Ok(Value::array(
                fields.iter().map(|(k, _)| Value::str(k)).collect(),
            )),
            Some(other) => Err(a.type_err("o", "{A with ...}", other)),
            None => Err(a.missing("o")),
        },
        "set" => {
            let Some(Value::Record(fields)) = a.get("o").cloned() else {
                return Err(a.missing("o"));
            };
            let (_, tables) = a.ordered(it)?;
            let mut out_tables = Vec::new();
            for t in tables.iter() {
                let mut nt = t.clone();
                for (k, v) in fields.iter() {
                    let cell = v.to_val().unwrap_or(crate::query::table::Val::Null);
                    let ty = cell
                        .col_type()
                        .unwrap_or(crate::query::table::ColType::String);
                    let i = match nt.col(k) {
                        Some(i) => {
                            nt.columns[i].ty = ty;
                            i
                        }
                        None => {
                            nt.columns
                                .push(crate::query::table::Column::new(k.clone(), ty));
                            for r in &mut nt.rows {
                                r.push(crate::query::table::Val::Null);
                            }
                            nt.columns.len() - 1
                        }
                    };
                    for r in &mut nt.rows {
                        r[i] = cell.clone();
                    }
                    if let Some(ki) = nt.key.index(k) {
                        nt.key.values[ki] = cell.clone();
                        nt.key.cols[ki].ty = ty;
                    }
                }
                out_tables.push(nt);
            }
            super::shape::out(it, &a, out_tables, super::shape::Order::Sorted)
        }
        "group" => {
            // `experimental.group(columns, mode: "extend")`: the key extended by columns.
            let cols = a.strings("columns")?.unwrap_or_default();
            match a.string("mode")?.as_deref() {
                Some("extend") => {}
                _ => return Err(a.err("mode must be \"extend\"")),
            }
            let (_, tables) = a.arrived(it)?;
            let mut out_tables = Vec::new();
            for t in tables.iter() {
                let mut parts: Vec<crate::query::table::Table> = Vec::new();
                for r in &t.rows {
                    let mut key = t.key.clone();
                    for c in &cols {
                        if key.has(c) {
                            continue;
                        }
                        if let Some(i) = t.col(c) {
                            key.cols.push(t.columns[i].clone());
                            key.values.push(r[i].clone());
                        }
                    }
                    match parts.iter_mut().find(|p| p.key.same(&key)) {
                        Some(p) => p.rows.push(r.clone()),
                        None => parts.push(crate::query::table::Table {
                            columns: t.columns.clone(),
                            key,
                            rows: vec![r.clone()],
                        }),
                    }
                }
                out_tables.extend(parts);
            }
            super::shape::out(it, &a, out_tables, super::shape::Order::Group)
        }
        "to" => super::influxdb::to(it, a, true),
        other => Err(FluxError::invalid(format!(
            "error {}: experimental.{other} is not supported by influx-reference",
            a.span
        ))
        .wrapped()),
    }
}
