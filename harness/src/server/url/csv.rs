//! Reads InfluxDB's annotated CSV (spec v2.md §8.3) into landed rows. Strict: a table without
//! `#datatype`, a row of the wrong width or an unknown type is an unparsable answer.

use std::borrow::Cow;
use std::sync::Arc;

use crate::observe::{Row, Value};

/// Splits CSV text into records (Go `encoding/csv` quoting; `\r\n` or `\n` row ends). Blank
/// lines come back as empty records: they separate tables.
pub fn records(text: &str) -> Result<Vec<Vec<String>>, String> {
    Ok(split(text)?
        .into_iter()
        .map(|r| r.into_iter().map(Cow::into_owned).collect())
        .collect())
}

/// A field being read: nothing yet, a stretch of the text, or a copy once it is not one
/// stretch (an escaped quote, a `\r\n` inside quotes, text after a closing quote).
enum Field {
    Empty,
    Span(usize, usize),
    Owned(String),
}

impl Field {
    fn push(&mut self, text: &str, from: usize, to: usize) {
        match self {
            Field::Empty => *self = Field::Span(from, to),
            Field::Span(_, end) if *end == from => *end = to,
            Field::Span(start, end) => {
                let mut o = String::with_capacity(*end - *start + to - from);
                o.push_str(&text[*start..*end]);
                o.push_str(&text[from..to]);
                *self = Field::Owned(o);
            }
            Field::Owned(o) => o.push_str(&text[from..to]),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Field::Empty => true,
            Field::Span(start, end) => start == end,
            Field::Owned(o) => o.is_empty(),
        }
    }

    fn take<'a>(&mut self, text: &'a str) -> Cow<'a, str> {
        match std::mem::replace(self, Field::Empty) {
            Field::Empty => Cow::Borrowed(""),
            Field::Span(start, end) => Cow::Borrowed(&text[start..end]),
            Field::Owned(o) => Cow::Owned(o),
        }
    }
}

/// [`records`] with the fields that are one stretch of the text borrowed from it. Runs of
/// bytes without a quote, comma or line end are taken whole (every byte that decides
/// something is ASCII, so runs end on character boundaries).
fn split(text: &str) -> Result<Vec<Vec<Cow<'_, str>>>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = Field::Empty;
    let mut in_quotes = false;
    let mut any = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_quotes {
            match c {
                b'"' if b.get(i + 1) == Some(&b'"') => {
                    field.push(text, i + 1, i + 2);
                    i += 2;
                }
                b'"' => {
                    in_quotes = false;
                    i += 1;
                }
                // Go's writer with UseCRLF turns \n inside a quoted field into \r\n; its reader
                // turns it back.
                b'\r' if b.get(i + 1) == Some(&b'\n') => i += 1,
                _ => {
                    let run = b[i + 1..]
                        .iter()
                        .position(|&x| x == b'"' || x == b'\r')
                        .map_or(b.len(), |n| i + 1 + n);
                    field.push(text, i, run);
                    i = run;
                }
            }
            continue;
        }
        match c {
            b'"' if field.is_empty() => {
                in_quotes = true;
                any = true;
                i += 1;
            }
            b',' => {
                record.push(field.take(text));
                any = true;
                i += 1;
            }
            b'\r' if b.get(i + 1) == Some(&b'\n') => i += 1,
            b'\n' => {
                if any || !field.is_empty() {
                    record.push(field.take(text));
                }
                let width = record.len();
                out.push(std::mem::replace(&mut record, Vec::with_capacity(width)));
                any = false;
                i += 1;
            }
            _ => {
                // This byte (a quote inside a field, a lone \r, anything else) and what
                // follows up to the next byte that decides something.
                let run = b[i + 1..]
                    .iter()
                    .position(|&x| matches!(x, b'"' | b',' | b'\r' | b'\n'))
                    .map_or(b.len(), |n| i + 1 + n);
                field.push(text, i, run);
                any = true;
                i = run;
            }
        }
    }
    if in_quotes {
        return Err("a quoted field is not closed".into());
    }
    if any || !field.is_empty() {
        record.push(field.take(text));
        out.push(record);
    }
    Ok(out)
}

/// Landed rows from a `from |> range` answer with the `datatype`, `group` and `default`
/// annotations. An error table (`,error,reference`) comes back as `Err` with its message.
pub fn landed_rows(text: &str) -> Result<Vec<Row>, String> {
    let records = split(text)?;
    let mut rows = Vec::new();
    let mut datatypes: Option<Vec<Cow<'_, str>>> = None;
    let mut header: Option<Vec<Cow<'_, str>>> = None;
    for (i, rec) in records.into_iter().enumerate() {
        let line = i + 1;
        if rec.is_empty() || rec.iter().all(|c| c.is_empty()) {
            datatypes = None;
            header = None;
            continue;
        }
        let first = &*rec[0];
        if first.starts_with('#') {
            match first {
                "#datatype" => datatypes = Some(rec),
                "#group" | "#default" => {}
                other => return Err(format!("line {line}: unknown annotation {other:?}")),
            }
            if header.is_some() {
                return Err(format!("line {line}: an annotation after the header row"));
            }
            continue;
        }
        let Some(head) = &header else {
            if rec.get(1).map(|c| &**c) == Some("error") {
                header = Some(rec);
                continue;
            }
            let Some(types) = &datatypes else {
                return Err(format!(
                    "line {line}: a table without a #datatype annotation (the request asked for it)"
                ));
            };
            if types.len() != rec.len() {
                return Err(format!(
                    "line {line}: #datatype has {} columns, the header {}",
                    types.len(),
                    rec.len()
                ));
            }
            header = Some(rec);
            continue;
        };
        if head.get(1).map(|c| &**c) == Some("error") {
            return Err(format!(
                "the query answered an error table: {}",
                rec.get(1).map(|c| &**c).unwrap_or_default()
            ));
        }
        if rec.len() != head.len() {
            return Err(format!(
                "line {line}: {} cells, the header has {}",
                rec.len(),
                head.len()
            ));
        }
        let types = datatypes.as_deref().unwrap_or_default();
        let next = row(head, types, rec, rows.last()).map_err(|e| format!("line {line}: {e}"))?;
        rows.push(next);
    }
    Ok(rows)
}

/// One data row; `rec` has as many cells as `head` (the caller checks). Its names share
/// `prev`'s (the row before: a table's rows are one series and field) when they are equal.
fn row(
    head: &[Cow<'_, str>],
    types: &[Cow<'_, str>],
    rec: Vec<Cow<'_, str>>,
    prev: Option<&Row>,
) -> Result<Row, String> {
    let mut measurement = None;
    let mut field = None;
    let mut time = None;
    let mut value = None;
    let mut tags: Vec<(&str, Cow<'_, str>)> = Vec::new();
    for (i, (name, cell)) in head.iter().zip(rec).enumerate() {
        match &**name {
            "" | "result" | "table" | "_start" | "_stop" => {}
            "_measurement" => measurement = Some(cell),
            "_field" => field = Some(cell),
            "_time" => {
                time = Some(
                    influx_reference::model::time::parse_rfc3339_nano(&cell)
                        .ok_or_else(|| format!("_time {cell:?} is not RFC3339"))?,
                )
            }
            "_value" => {
                let t = types.get(i).map(|c| &**c).unwrap_or("");
                value = Some(parse_value(t, cell)?);
            }
            tag => {
                if !cell.is_empty() {
                    tags.push((tag, cell));
                }
            }
        }
    }
    let measurement = measurement.ok_or("no _measurement column")?;
    let field = field.ok_or("no _field column")?;
    let share = |name: &str, kept: Option<&Arc<str>>| match kept {
        Some(k) if **k == *name => k.clone(),
        _ => Arc::from(name),
    };
    let same_tags = prev.is_some_and(|p| {
        p.tags.len() == tags.len()
            && p.tags
                .iter()
                .zip(&tags)
                .all(|((pk, pv), (k, v))| pk.as_str() == *k && pv.as_str() == &**v)
    });
    Ok(Row {
        measurement: share(&measurement, prev.map(|p| &p.measurement)),
        tags: match prev {
            Some(p) if same_tags => p.tags.clone(),
            _ => tags
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into_owned()))
                .collect(),
        },
        field: share(&field, prev.map(|p| &p.field)),
        value: value.ok_or("no _value column")?,
        time: time.ok_or("no _time column")?,
    })
}

fn parse_value(datatype: &str, cell: Cow<'_, str>) -> Result<Value, String> {
    let bad = || format!("_value {cell:?} is not a {datatype}");
    Ok(match datatype {
        "double" => Value::Float(cell.parse().map_err(|_| bad())?),
        "long" => Value::Integer(cell.parse().map_err(|_| bad())?),
        "unsignedLong" => Value::Unsigned(cell.parse().map_err(|_| bad())?),
        "boolean" => Value::Boolean(match &*cell {
            "true" => true,
            "false" => false,
            _ => return Err(bad()),
        }),
        "string" => Value::String(cell.into_owned()),
        other => return Err(format!("unknown #datatype {other:?} for _value")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Redactions;

    /// Character by character, as `records` was written first.
    fn records_per_char(text: &str) -> Result<Vec<Vec<String>>, String> {
        let mut out = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut in_quotes = false;
        let mut any = false;
        while let Some(c) = chars.next() {
            if in_quotes {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => in_quotes = false,
                    '\r' if chars.peek() == Some(&'\n') => {}
                    c => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.is_empty() => {
                    in_quotes = true;
                    any = true;
                }
                ',' => {
                    record.push(std::mem::take(&mut field));
                    any = true;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    if any || !field.is_empty() {
                        record.push(std::mem::take(&mut field));
                    }
                    out.push(std::mem::take(&mut record));
                    any = false;
                }
                c => {
                    field.push(c);
                    any = true;
                }
            }
        }
        if in_quotes {
            return Err("a quoted field is not closed".into());
        }
        if any || !field.is_empty() {
            record.push(field);
            out.push(record);
        }
        Ok(out)
    }

    proptest::proptest! {
        /// Copying runs reads what reading character by character reads.
        #[test]
        fn runs_read_as_characters_do(s in "([a-z0-9é ]{1,4}|\"|,|\r|\n|\r\n|\"\"){0,40}") {
            proptest::prop_assert_eq!(records(&s), records_per_char(&s));
        }
    }

    #[test]
    fn reads_the_spec_example() {
        let text = "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n#group,false,false,true,true,false,false,true,true,true\r\n#default,_result,,,,,,,,\r\n,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\r\n#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,string\r\n#group,false,false,true,true,false,false,true,true\r\n#default,_result,,,,,,,\r\n,result,table,_start,_stop,_time,_value,_field,_measurement\r\n,,1,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,\"a,\"\"b\",s,m\r\n\r\n";
        let rows = landed_rows(text).unwrap();
        let r = Redactions::default();
        let got: Vec<String> = rows.iter().map(|x| x.render(&r)).collect();
        assert_eq!(
            got,
            [
                "cpu,host=a usage=1.5 1704067800000000000",
                "m s=\"a,\\\"b\" 1704067800000000000"
            ]
        );
        assert_eq!(landed_rows("\r\n").unwrap(), vec![]);
    }

    #[test]
    fn rejects_bad_annotations() {
        for bad in [
            ",result,table,_time\r\n,,0,x\r\n",
            "#datatype,string\r\n,result,table\r\n",
            "#datatype,string,long,dateTime:RFC3339,wat,string,string\r\n,result,table,_time,_value,_field,_measurement\r\n,,0,2024-01-01T00:00:00Z,1,f,m\r\n",
            "#bogus,x\r\n",
        ] {
            assert!(landed_rows(bad).is_err(), "{bad}");
        }
        let err =
            landed_rows("#datatype,string,string\r\n,error,reference\r\n,boom,\r\n").unwrap_err();
        assert!(err.contains("boom"), "{err}");
    }
}
