//! Reads InfluxDB's annotated CSV (spec v2.md §8.3) into landed rows. Strict: a table without
//! `#datatype`, a row of the wrong width or an unknown type is an unparsable answer.

use crate::observe::{Row, Value};

/// Splits CSV text into records (Go `encoding/csv` quoting; `\r\n` or `\n` row ends). Blank
/// lines come back as empty records: they separate tables.
///
/// Runs of bytes without a quote, comma or line end are copied whole (every byte that
/// decides something is ASCII, so runs end on character boundaries).
pub fn records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut any = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_quotes {
            match c {
                b'"' if b.get(i + 1) == Some(&b'"') => {
                    field.push('"');
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
                    field.push_str(&text[i..run]);
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
                record.push(std::mem::take(&mut field));
                any = true;
                i += 1;
            }
            b'\r' if b.get(i + 1) == Some(&b'\n') => i += 1,
            b'\n' => {
                if any || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                }
                out.push(std::mem::take(&mut record));
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
                field.push_str(&text[i..run]);
                any = true;
                i = run;
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

/// Landed rows from a `from |> range` answer with the `datatype`, `group` and `default`
/// annotations. An error table (`,error,reference`) comes back as `Err` with its message.
pub fn landed_rows(text: &str) -> Result<Vec<Row>, String> {
    let records = records(text)?;
    let mut rows = Vec::new();
    let mut datatypes: Option<Vec<String>> = None;
    let mut header: Option<Vec<String>> = None;
    for (i, rec) in records.into_iter().enumerate() {
        let line = i + 1;
        if rec.is_empty() || rec.iter().all(String::is_empty) {
            datatypes = None;
            header = None;
            continue;
        }
        let first = rec[0].as_str();
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
            if rec.get(1).map(String::as_str) == Some("error") {
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
        if head.get(1).map(String::as_str) == Some("error") {
            return Err(format!(
                "the query answered an error table: {}",
                rec.get(1).cloned().unwrap_or_default()
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
        rows.push(row(head, types, rec).map_err(|e| format!("line {line}: {e}"))?);
    }
    Ok(rows)
}

/// One data row; `rec` has as many cells as `head` (the caller checks).
fn row(head: &[String], types: &[String], rec: Vec<String>) -> Result<Row, String> {
    let mut measurement = None;
    let mut field = None;
    let mut time = None;
    let mut value = None;
    let mut tags = Vec::new();
    for (i, (name, cell)) in head.iter().zip(rec).enumerate() {
        match name.as_str() {
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
                let t = types.get(i).map(String::as_str).unwrap_or("");
                value = Some(parse_value(t, cell)?);
            }
            tag => {
                if !cell.is_empty() {
                    tags.push((tag.to_string(), cell));
                }
            }
        }
    }
    Ok(Row {
        measurement: measurement.ok_or("no _measurement column")?,
        tags,
        field: field.ok_or("no _field column")?,
        value: value.ok_or("no _value column")?,
        time: time.ok_or("no _time column")?,
    })
}

fn parse_value(datatype: &str, cell: String) -> Result<Value, String> {
    let bad = || format!("_value {cell:?} is not a {datatype}");
    Ok(match datatype {
        "double" => Value::Float(cell.parse().map_err(|_| bad())?),
        "long" => Value::Integer(cell.parse().map_err(|_| bad())?),
        "unsignedLong" => Value::Unsigned(cell.parse().map_err(|_| bad())?),
        "boolean" => Value::Boolean(match cell.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(bad()),
        }),
        "string" => Value::String(cell),
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
