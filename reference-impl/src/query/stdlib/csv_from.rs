//! `csv.from(csv:, mode:)` (`stdlib/csv/from.go`, decoder `flux/csv/result.go`): annotated
//! CSV (`#datatype`, `#group`, `#default`, header, rows; a new table where the table ID
//! changes or annotations start again) or, with `mode: "raw"`, plain CSV of strings. One
//! result only.

use crate::query::interp::{Args, Interp, R};
use crate::query::table::{ColType, Column, GroupKey, Table, Val};
use crate::query::value::Value;
use crate::query::FluxError;

/// Go `encoding/csv` records: quoted fields, `""` escapes, CRLF or LF, blank lines skipped.
fn records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut out = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut at_start = true;
    let mut line_has_content = false;
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
            '"' if at_start => {
                in_quotes = true;
                at_start = false;
                line_has_content = true;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                at_start = true;
                line_has_content = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if line_has_content || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                    out.push(std::mem::take(&mut row));
                }
                at_start = true;
                line_has_content = false;
            }
            c => {
                field.push(c);
                at_start = false;
                line_has_content = true;
            }
        }
    }
    if in_quotes {
        return Err("extraneous or missing \" in quoted-field".into());
    }
    if line_has_content || !field.is_empty() {
        row.push(field);
        out.push(row);
    }
    Ok(out)
}

fn col_type(dt: &str) -> Result<ColType, String> {
    Ok(match dt.split(':').next().unwrap_or("") {
        "string" => ColType::String,
        "long" => ColType::Long,
        "unsignedLong" => ColType::ULong,
        "double" => ColType::Double,
        "boolean" => ColType::Bool,
        "dateTime" => ColType::Time,
        other => return Err(format!("unsupported data type {other:?}")),
    })
}

fn decode(v: &str, ty: ColType) -> Result<Val, String> {
    if v.is_empty() {
        return Ok(Val::Null);
    }
    Ok(match ty {
        ColType::String => Val::Str(v.into()),
        ColType::Long => Val::Long(
            v.parse()
                .map_err(|_| format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))?,
        ),
        ColType::ULong => Val::ULong(
            v.parse()
                .map_err(|_| format!("strconv.ParseUint: parsing {v:?}: invalid syntax"))?,
        ),
        ColType::Double => Val::Double(
            v.parse()
                .map_err(|_| format!("strconv.ParseFloat: parsing {v:?}: invalid syntax"))?,
        ),
        ColType::Bool => Val::Bool(match v {
            "true" | "TRUE" | "True" | "t" | "T" | "1" => true,
            "false" | "FALSE" | "False" | "f" | "F" | "0" => false,
            _ => return Err(format!("strconv.ParseBool: parsing {v:?}: invalid syntax")),
        }),
        ColType::Time => Val::Time(
            crate::model::time::parse_rfc3339_nano(v)
                .ok_or_else(|| format!("parsing time {v:?}: invalid RFC3339 time"))?,
        ),
    })
}

/// Decodes annotated CSV into tables (the first result).
pub fn decode_annotated(text: &str) -> Result<Vec<Table>, String> {
    let lines = records(text.trim_start_matches('\u{feff}'))?;
    let mut tables: Vec<Table> = Vec::new();
    let mut i = 0;
    let mut first_result: Option<String> = None;
    while i < lines.len() {
        let (mut datatypes, mut groups, mut defaults) = (None, None, None);
        let mut default_result = String::new();
        let mut default_table = String::new();
        while i < lines.len() && lines[i].first().is_some_and(|c| c.starts_with('#')) {
            let line = &lines[i];
            let rest: Vec<String> = line.iter().skip(3).cloned().collect();
            match line[0].trim_start_matches('#') {
                "datatype" => datatypes = Some(rest),
                "group" => groups = Some(rest),
                "default" => {
                    default_result = line.get(1).cloned().unwrap_or_default();
                    default_table = line.get(2).cloned().unwrap_or_default();
                    defaults = Some(rest);
                }
                _ => {}
            }
            i += 1;
        }
        let datatypes = datatypes.ok_or_else(|| {
            "missing expected annotation datatype. Consider using the mode: \"raw\" for csv that is not expected to have annotations.".to_string()
        })?;
        let groups = groups.ok_or("missing expected annotation group")?;
        let defaults = defaults.ok_or("missing expected annotation default")?;
        let header = lines.get(i).ok_or("missing expected header row")?;
        i += 1;
        if header.get(1).map(String::as_str) == Some("error") {
            let msg = lines
                .get(i)
                .and_then(|l| l.get(1))
                .cloned()
                .unwrap_or_default();
            return Err(msg);
        }
        let labels: Vec<String> = header.iter().skip(3).cloned().collect();
        let mut columns = Vec::with_capacity(labels.len());
        for (j, l) in labels.iter().enumerate() {
            let ty = col_type(datatypes.get(j).map_or("string", String::as_str))
                .map_err(|e| format!("column {l:?} has invalid datatype: {e}"))?;
            columns.push(Column::new(l.clone(), ty));
        }
        let is_group = |j: usize| groups.get(j).is_some_and(|g| g == "true");
        let default_of = |j: usize| -> Result<Val, String> {
            decode(defaults.get(j).map_or("", String::as_str), columns[j].ty)
        };
        let n = header.len();
        let mut current: Option<(String, Table)> = None;
        let mut block_rows = 0;
        let flush = |current: &mut Option<(String, Table)>, tables: &mut Vec<Table>| {
            if let Some((_, t)) = current.take() {
                tables.push(t);
            }
        };
        while i < lines.len() && !lines[i].first().is_some_and(|c| c.starts_with('#')) {
            let line = &lines[i];
            if line.len() != n {
                break;
            }
            i += 1;
            let result = if line[1].is_empty() {
                default_result.clone()
            } else {
                line[1].clone()
            };
            match &first_result {
                None => first_result = Some(result.clone()),
                Some(r) if *r != result => {
                    return Err("csv.from() can only parse 1 result".into());
                }
                _ => {}
            }
            let id = if line[2].is_empty() {
                default_table.clone()
            } else {
                line[2].clone()
            };
            if current.as_ref().is_some_and(|(cid, _)| *cid != id) {
                flush(&mut current, &mut tables);
            }
            let mut row = Vec::with_capacity(columns.len());
            for (j, c) in columns.iter().enumerate() {
                let v = &line[3 + j];
                row.push(if v.is_empty() {
                    default_of(j)?
                } else {
                    decode(v, c.ty)?
                });
            }
            if current.is_none() {
                let mut key = GroupKey::default();
                for (j, c) in columns.iter().enumerate() {
                    if is_group(j) {
                        key.cols.push(c.clone());
                        key.values.push(row[j].clone());
                    }
                }
                current = Some((id, Table::new(columns.clone(), key)));
            }
            if let Some((_, t)) = current.as_mut() {
                t.rows.push(row);
            }
            block_rows += 1;
        }
        if block_rows == 0 {
            // An empty table: its key from the defaults.
            let mut key = GroupKey::default();
            for (j, c) in columns.iter().enumerate() {
                if is_group(j) {
                    key.cols.push(c.clone());
                    key.values.push(default_of(j)?);
                }
            }
            tables.push(Table::new(columns.clone(), key));
        }
        flush(&mut current, &mut tables);
    }
    Ok(tables)
}

/// `mode: "raw"`: the first row names the columns, every value a string, one table.
fn decode_raw(text: &str) -> Result<Vec<Table>, String> {
    let lines = records(text.trim_start_matches('\u{feff}'))?;
    let Some(header) = lines.first() else {
        return Ok(Vec::new());
    };
    let columns: Vec<Column> = header
        .iter()
        .map(|h| Column::new(h.clone(), ColType::String))
        .collect();
    let mut t = Table::new(columns, GroupKey::default());
    for line in &lines[1..] {
        if line.len() != header.len() {
            return Err("record on line: wrong number of fields".into());
        }
        t.rows
            .push(line.iter().map(|v| Val::Str(v.as_str().into())).collect());
    }
    Ok(vec![t])
}

pub fn call(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    if name != "from" {
        return Err(FluxError::invalid(format!(
            "error {}: csv.{name} is not supported by influx-reference",
            a.span
        ))
        .wrapped());
    }
    a.check(&["csv", "file", "mode"], &[])?;
    if a.get("file").is_some() {
        if a.get("csv").is_some() {
            return Err(a.err("must provide exactly one of the parameters csv or file"));
        }
        return Err(a.err("csv.from(file:) is not supported by influx-reference"));
    }
    let text = a
        .string("csv")?
        .ok_or_else(|| a.err("must provide csv raw text or filename"))?;
    let tables = match a.string("mode")?.as_deref() {
        Some("raw") => decode_raw(&text),
        None | Some("annotations") => decode_annotated(&text),
        Some(other) => return Err(a.err(format!("invalid csv decode mode {other:?}"))),
    }
    .map_err(|m| a.runtime(m))?;
    let v = it.stream(tables, false)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_tables_and_defaults() {
        let csv = "#datatype,string,long,dateTime:RFC3339,double,string\n#group,false,false,false,false,true\n#default,_result,,,,\n,result,table,_time,_value,host\n,,0,2018-05-22T19:53:26Z,1.0,a\n,,0,2018-05-22T19:53:36Z,,a\n,,1,2018-05-22T19:53:26Z,2,b\n";
        let t = decode_annotated(csv).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].rows.len(), 2);
        assert_eq!(t[0].rows[1][1], Val::Null);
        assert_eq!(t[1].key.values, vec![Val::Str("b".into())]);
    }
}
