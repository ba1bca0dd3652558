//! Reading tables into values (`stdlib/universe/table_fns.go`): `tableFind`, `getColumn`,
//! `getRecord`, `findColumn`, `findRecord`; and the `array` package (`array.from` builds a
//! table from records).

use std::rc::Rc;

use super::args::row_param;
use super::shape::{key_record, out, Order};
use crate::api_error::Code;
use crate::query::interp::{Args, Interp, R};
use crate::query::table::{Column, GroupKey, Table, Val};
use crate::query::value::Value;
use crate::query::FluxError;

/// The first table (in result order) whose group key satisfies `fn`.
fn find(it: &mut Interp<'_>, a: &Args) -> R<Option<Table>> {
    let f = a.req_func("fn")?;
    let param = row_param(&f);
    let (_, tables) = a.ordered(it)?;
    for t in tables.iter() {
        let rec = key_record(&t.key);
        match it.call_row_fn(&f, &param, rec, a.span)? {
            Value::Bool(true) => return Ok(Some(t.clone())),
            Value::Bool(false) | Value::Null => {}
            other => {
                return Err(a.err(format!(
                    "table predicate function does not evaluate to a boolean, got {}",
                    other.type_name()
                )))
            }
        }
    }
    Ok(None)
}

fn column_values(t: &Table, i: usize) -> Value {
    Value::array(t.rows.iter().map(|r| Value::from_val(&r[i])).collect())
}

fn record_of(t: &Table, i: usize) -> Value {
    Value::record(
        t.columns
            .iter()
            .zip(&t.rows[i])
            .map(|(c, v)| (c.label.clone(), Value::from_val(v)))
            .collect(),
    )
}

/// The single table a `table` argument (a `tableFind` result) holds.
fn one_table(it: &mut Interp<'_>, a: &Args) -> R<Table> {
    let s = match a.pipe.as_ref().or_else(|| a.get("table")) {
        Some(Value::Stream(s)) => s.clone(),
        Some(other) => return Err(a.type_err("table", "stream[A]", other)),
        None => return Err(a.missing("table")),
    };
    let tables = it.ordered(&s)?;
    Ok(tables
        .first()
        .cloned()
        .unwrap_or_else(|| Table::new(Vec::new(), GroupKey::default())))
}

pub fn call(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    match name {
        "tableFind" => {
            a.check(&["tables"], &["fn"])?;
            match find(it, &a)? {
                Some(t) => out(it, &a, vec![t], Order::Keep(false)),
                None => Err(FluxError::invalid("no table found").with_code(Code::NotFound)),
            }
        }
        "getColumn" => {
            a.check(&["table"], &["column"])?;
            let column = a.req_string("column")?;
            let t = one_table(it, &a)?;
            match t.col(&column) {
                Some(i) => Ok(column_values(&t, i)),
                None => Err(a.err(format!("cannot find column {column}"))),
            }
        }
        "getRecord" => {
            a.check(&["table"], &["idx"])?;
            let idx = a.int("idx")?.unwrap_or(0);
            let t = one_table(it, &a)?;
            if idx < 0 || idx as usize >= t.rows.len() {
                return Err(a.err(format!("index out of bounds: {idx}")));
            }
            Ok(record_of(&t, idx as usize))
        }
        "findColumn" => {
            a.check(&["tables"], &["fn", "column"])?;
            let column = a.req_string("column")?;
            Ok(match find(it, &a)? {
                Some(t) => match t.col(&column) {
                    Some(i) => column_values(&t, i),
                    None => Value::array(Vec::new()),
                },
                None => Value::array(Vec::new()),
            })
        }
        _ => {
            a.check(&["tables"], &["fn", "idx"])?;
            let idx = a.int("idx")?.unwrap_or(0);
            Ok(match find(it, &a)? {
                Some(t) if idx >= 0 && (idx as usize) < t.rows.len() => record_of(&t, idx as usize),
                _ => Value::record(Vec::new()),
            })
        }
    }
}

/// The `array` package.
pub fn array(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    match name {
        "from" => {
            a.check(&[], &["rows"])?;
            let Some(Value::Array(rows)) = a.get("rows").cloned() else {
                return Err(a.err(format!(
                    "row data must be an array of records, got {}",
                    a.get("rows").map_or("A".into(), Value::type_name)
                )));
            };
            if rows.is_empty() {
                return Err(a.err("rows must be non-empty"));
            }
            let Value::Record(first) = &rows[0] else {
                return Err(a.err("rows should have been a list of records"));
            };
            let mut columns = Vec::new();
            for (k, v) in first.iter() {
                let ty = v.col_type().ok_or_else(|| {
                    a.err(format!(
                        "cannot represent the type {} as column data",
                        v.type_name()
                    ))
                })?;
                columns.push(Column::new(k.clone(), ty));
            }
            let mut t = Table::new(columns, GroupKey::default());
            for r in rows.iter() {
                let row = t
                    .columns
                    .iter()
                    .map(|c| {
                        r.field(&c.label)
                            .and_then(Value::to_val)
                            .unwrap_or(Val::Null)
                    })
                    .collect();
                t.rows.push(row);
            }
            it.stream(vec![t], false)
        }
        "concat" => {
            let arr = match a.get("arr") {
                Some(Value::Array(x)) => x.clone(),
                _ => return Err(a.missing("arr")),
            };
            let v = match a.get("v") {
                Some(Value::Array(x)) => x.clone(),
                _ => return Err(a.missing("v")),
            };
            let mut out: Vec<Value> = (*arr).clone();
            out.extend(v.iter().cloned());
            Ok(Value::array(out))
        }
        "map" | "filter" => {
            let arr = match a.pipe.as_ref().or_else(|| a.get("arr")) {
                Some(Value::Array(x)) => x.clone(),
                _ => return Err(a.missing("arr")),
            };
            let f = a.req_func("fn")?;
            let param = match f.as_ref() {
                crate::query::value::Func::Closure { params, .. } => params
                    .first()
                    .map_or_else(|| "x".into(), |p| p.name.clone()),
                _ => "x".into(),
            };
            let mut out = Vec::with_capacity(arr.len());
            for x in arr.iter() {
                let v = it.call_row_fn(&f, &param, x.clone(), a.span)?;
                if name == "map" {
                    out.push(v);
                } else if matches!(v, Value::Bool(true)) {
                    out.push(x.clone());
                }
            }
            Ok(Value::Array(Rc::new(out)))
        }
        other => Err(FluxError::invalid(format!(
            "error {}: array.{other} is not supported by influx-reference",
            a.span
        ))
        .wrapped()),
    }
}
