//! Transformations that reshape tables: `range`, `filter`, `map`, `keep`, `drop`, `rename`,
//! `duplicate`, `set`, `group`, `columns`, `keys`, `union`, `pivot`, `fill`, `sort`, `limit`,
//! `tail`, `yield`, `timeShift`, `truncateTimeColumn`, `elapsed`, `difference`,
//! `derivative`, `cumulativeSum`, `increase`, `reduce` and the `toX` conversions.
//!
//! Table order follows Flux's executor: transformations that emit each table as soon as it
//! is processed keep their input order; those on a triggering dataset (`keep`, `drop`,
//! `rename`, `duplicate`, `set`, `pivot`, `window`, `elapsed`, `columns`, `union`,
//! `reduce`) emit when their input ends, ordered by group key, tables of equal keys merged;
//! `group` and `map` pass chunks on unflushed, so whatever reads them whole sees them ordered
//! by group key (see `Stream::unsorted`).

use std::rc::Rc;

use super::args::row_param;
use super::convert;
use crate::query::ast::Duration;
use crate::query::interp::{Args, Interp, R};
use crate::query::table::{ColType, Column, GroupKey, Table, Val};
use crate::query::value::{Func, StreamState, Value};
use crate::query::FluxError;

/// How a transformation's output is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As processed; `true` keeps the input's pending regroup (a transformation that passes
    /// chunks on).
    Keep(bool),
    /// By group key when the input ends, equal keys merged.
    Sorted,
    /// Chunks passed on unflushed (group, map): equal keys merged in arrival order, ordered
    /// by key when read whole.
    Group,
}

/// Appends `src`'s rows to `dst` (same key): columns missing on either side are null
/// (`BufferedBuilder.normalizeTableSchema`), a type clash is a schema collision.
pub fn append_table(dst: &mut Table, src: &Table) -> Result<(), String> {
    for c in &src.columns {
        match dst.col(&c.label) {
            Some(i) if dst.columns[i].ty != c.ty => {
                return Err(format!(
                    "schema collision detected: column \"{}\" is both of type {} and {}",
                    c.label,
                    c.ty.name(),
                    dst.columns[i].ty.name()
                ))
            }
            Some(_) => {}
            None => {
                dst.columns.push(c.clone());
                for r in &mut dst.rows {
                    r.push(Val::Null);
                }
            }
        }
    }
    let map: Vec<Option<usize>> = dst.columns.iter().map(|c| src.col(&c.label)).collect();
    for r in &src.rows {
        dst.rows.push(
            map.iter()
                .map(|m| m.map_or(Val::Null, |i| r[i].clone()))
                .collect(),
        );
    }
    Ok(())
}

/// Tables with equal keys merged (in first-appearance position), optionally then sorted by
/// key (stable).
pub fn merge_by_key(tables: Vec<Table>, sort: bool) -> Result<Vec<Table>, String> {
    let mut out: Vec<Table> = Vec::with_capacity(tables.len());
    for t in tables {
        match out.iter_mut().rev().find(|o| o.key.same(&t.key)) {
            Some(o) => append_table(o, &t)?,
            None => out.push(t),
        }
    }
    if sort {
        out.sort_by(|a, b| a.key.compare(&b.key));
    }
    Ok(out)
}

/// Wraps a transformation's output tables as a stream.
pub fn out(it: &mut Interp<'_>, a: &Args, tables: Vec<Table>, order: Order) -> R<Value> {
    let (tables, unsorted) = match order {
        Order::Keep(u) => (tables, u),
        Order::Sorted => (merge_by_key(tables, true).map_err(|m| a.runtime(m))?, false),
        Order::Group => (merge_by_key(tables, false).map_err(|m| a.runtime(m))?, true),
    };
    let v = it.stream(tables, unsorted).map_err(|e| {
        if e.runtime && !e.wrapped && !e.message.starts_with("runtime error") {
            a.runtime(e.message)
        } else {
            e
        }
    })?;
    // The upstream `range` bounds travel with the stream.
    if let (Value::Stream(s), Some(Value::Stream(input))) = (&v, a.pipe.as_ref()) {
        s.bounds.set(input.bounds.get());
    }
    Ok(v)
}

/// A row as a record (the table's columns).
pub fn row_record(t: &Table, row: &[Val]) -> Value {
    Value::record(
        t.columns
            .iter()
            .zip(row)
            .map(|(c, v)| (c.label.clone(), Value::from_val(v)))
            .collect(),
    )
}

/// A group key as a record.
pub fn key_record(key: &GroupKey) -> Value {
    Value::record(
        key.cols
            .iter()
            .zip(&key.values)
            .map(|(c, v)| (c.label.clone(), Value::from_val(v)))
            .collect(),
    )
}

/// Relative (duration), absolute (time) or unix-seconds (int) time, as `range` reads it
/// (`flux.ToQueryTime`); a relative time counts from `now`, months as 365.25/12 days.
pub fn query_time(a: &Args, key: &str, now: i64) -> R<Option<i64>> {
    Ok(match a.get(key) {
        None => None,
        Some(Value::Time(t)) => Some(*t),
        Some(Value::Duration(d)) => Some(now.wrapping_add(convert::duration_nanos(*d))),
        Some(Value::Int(secs)) => Some(secs.wrapping_mul(1_000_000_000)),
        Some(other) => return Err(a.type_err(key, "time", other)),
    })
}

pub fn call(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let started = it.host.clock.now_nanos();
    let input = a.pipe.clone();
    let kind: &'static str = match name {
        "range" => "range",
        "filter" => "filter",
        "map" => "map",
        "keep" => "keep",
        "drop" => "drop",
        "rename" => "rename",
        "duplicate" => "duplicate",
        "set" => "set",
        "group" => "group",
        "sort" => "sort",
        "limit" => "limit",
        "tail" => "tail",
        "pivot" => "pivot",
        "fill" => "fill",
        "yield" => "yield",
        "union" => "union",
        _ => "transformation",
    };
    let v = match name {
        "range" => range(it, a),
        "filter" => filter(it, a),
        "map" => map(it, a),
        "keep" | "drop" => keep_drop(it, name == "keep", a),
        "rename" => rename(it, a),
        "duplicate" => duplicate(it, a),
        "set" => set(it, a),
        "group" => group(it, a),
        "columns" => columns(it, a),
        "keys" => keys(it, a),
        "union" => union(it, a),
        "pivot" => pivot(it, a),
        "fill" => fill(it, a),
        "sort" => sort(it, a),
        "limit" | "tail" => limit_tail(it, name == "limit", a),
        "yield" => yield_(it, a),
        "timeShift" => time_shift(it, a),
        "truncateTimeColumn" => truncate_time_column(it, a),
        "elapsed" => elapsed(it, a),
        "difference" => difference(it, a),
        "derivative" => derivative(it, a),
        "cumulativeSum" => cumulative_sum(it, a),
        "increase" => increase(it, a),
        "reduce" => reduce(it, a),
        "toBool" | "toFloat" | "toInt" | "toString" | "toTime" | "toUInt" => to_type(it, name, a),
        other => Err(FluxError::invalid(format!(
            "error {}: function \"{other}\" is not supported by influx-reference",
            a.span
        ))
        .wrapped()),
    }?;
    if let Some(i) = &input {
        it.record_op(kind, &v, &[i], started);
    }
    Ok(v)
}

fn range(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["start", "stop", "tables"], &["start"])?;
    let start = query_time(&a, "start", it.now)?.ok_or_else(|| a.missing("start"))?;
    let stop = query_time(&a, "stop", it.now)?.unwrap_or(it.now);
    if stop <= start {
        return Err(empty_range());
    }
    let s = a.stream()?;
    // `from |> range`: the read gets its bounds and stays pending.
    let pending = match &*s.state.borrow() {
        StreamState::Pending(spec) => Some(spec.clone()),
        StreamState::Ready(_) => None,
    };
    if let Some(mut spec) = pending {
        if spec.start.is_none() {
            spec.start = Some(start);
            spec.stop = Some(stop);
            return Ok(it.pending(spec));
        }
    }
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ti = t
            .col("_time")
            .ok_or_else(|| a.runtime("range error: supplied time column _time doesn't exist"))?;
        if t.columns[ti].ty != ColType::Time {
            return Err(a.runtime("range error: provided time column _time is not of type time"));
        }
        // The output key: bounds intersected with the table's own when both are in the key.
        let (sk, pk) = (t.key.index("_start"), t.key.index("_stop"));
        let mut key = t.key.clone();
        let (ks, kp) = match (sk, pk) {
            (Some(si), Some(pi)) => {
                let mut b = (start, stop);
                if let (Val::Time(s0), Val::Time(p0)) = (&t.key.values[si], &t.key.values[pi]) {
                    let overlaps = (start <= *s0 && *s0 < stop)
                        || (start <= *p0 && *p0 < stop && *p0 > start)
                        || (*s0 <= start && start < *p0);
                    if overlaps {
                        b = ((*s0).max(start), (*p0).min(stop));
                    }
                }
                key.values[si] = Val::Time(b.0);
                key.values[pi] = Val::Time(b.1);
                b
            }
            _ => {
                let mut cols = Vec::new();
                let mut vals = Vec::new();
                if sk.is_none() {
                    cols.push(Column::new("_start", ColType::Time));
                    vals.push(Val::Time(start));
                }
                if pk.is_none() {
                    cols.push(Column::new("_stop", ColType::Time));
                    vals.push(Val::Time(stop));
                }
                cols.extend(t.key.cols.iter().cloned());
                vals.extend(t.key.values.iter().cloned());
                key = GroupKey::new(cols, vals);
                (
                    match key.value("_start") {
                        Some(Val::Time(v)) => *v,
                        _ => start,
                    },
                    match key.value("_stop") {
                        Some(Val::Time(v)) => *v,
                        _ => stop,
                    },
                )
            }
        };
        let mut columns = Vec::new();
        if t.col("_start").is_none() {
            columns.push(Column::new("_start", ColType::Time));
        }
        if t.col("_stop").is_none() {
            columns.push(Column::new("_stop", ColType::Time));
        }
        let added = columns.len();
        columns.extend(t.columns.iter().cloned());
        let si = columns
            .iter()
            .position(|c| c.label == "_start")
            .unwrap_or(0);
        let pi = columns.iter().position(|c| c.label == "_stop").unwrap_or(0);
        let mut nt = Table::new(columns, key);
        it.budget.steps(t.rows.len() as u64)?;
        for r in &t.rows {
            match r[ti] {
                Val::Time(x) if x >= start && x < stop => {}
                _ => continue,
            }
            let mut row = vec![Val::Null; added];
            row.extend(r.iter().cloned());
            row[si] = Val::Time(ks);
            row[pi] = Val::Time(kp);
            nt.rows.push(row);
        }
        out_tables.push(nt);
    }
    let v = out(it, &a, out_tables, Order::Keep(false))?;
    if let Value::Stream(s) = &v {
        s.bounds.set(Some((start, stop)));
    }
    Ok(v)
}

/// The columns a row function reads (`r.x`, `r["x"]`), or `None` when it uses the record any
/// other way; a predicate on group-key columns only is asked once per table.
fn reads_only(f: &Func, param: &str) -> Option<Vec<String>> {
    use crate::query::ast::{ExprKind, FnBody, StrPart};
    let Func::Closure { body, .. } = f else {
        return None;
    };
    let FnBody::Expr(body) = body.as_ref() else {
        return None;
    };
    fn walk(e: &crate::query::ast::Expr, param: &str, out: &mut Vec<String>) -> bool {
        match &e.kind {
            ExprKind::Member { object, property } => match &object.kind {
                ExprKind::Ident(name) if name == param => {
                    out.push(property.clone());
                    true
                }
                _ => walk(object, param, out),
            },
            ExprKind::Ident(name) => name != param,
            ExprKind::Int(_)
            | ExprKind::UInt(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_)
            | ExprKind::Time(_)
            | ExprKind::Regex(_)
            | ExprKind::PipeLit => true,
            ExprKind::Interp(parts) => parts.iter().all(|p| match p {
                StrPart::Text(_) => true,
                StrPart::Expr(e) => walk(e, param, out),
            }),
            ExprKind::Array(items) => items.iter().all(|i| walk(i, param, out)),
            ExprKind::Dict(items) => items
                .iter()
                .all(|(k, v)| walk(k, param, out) && walk(v, param, out)),
            ExprKind::Record { with, fields } => {
                with.as_ref().is_none_or(|w| walk(w, param, out))
                    && fields.iter().all(|(_, v)| walk(v, param, out))
            }
            ExprKind::Call { callee, args } => {
                walk(callee, param, out) && args.iter().all(|(_, v)| walk(v, param, out))
            }
            ExprKind::Pipe { lhs, call } => walk(lhs, param, out) && walk(call, param, out),
            ExprKind::Function { .. } => false,
            ExprKind::Index { object, index } => {
                walk(object, param, out) && walk(index, param, out)
            }
            ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
                walk(left, param, out) && walk(right, param, out)
            }
            ExprKind::Unary { operand, .. } => walk(operand, param, out),
            ExprKind::Conditional {
                test,
                consequent,
                alternate,
            } => {
                walk(test, param, out)
                    && walk(consequent, param, out)
                    && walk(alternate, param, out)
            }
        }
    }
    let mut out = Vec::new();
    walk(body, param, &mut out).then_some(out)
}

/// Whether a predicate reads `_field` (or reads the record some way not understood).
pub fn reads_field(f: &Func, param: &str) -> bool {
    reads_only(f, param).is_none_or(|cols| cols.iter().any(|c| c == "_field"))
}

/// Whether a predicate can be pushed into the storage read: it reads tags, `_measurement`
/// and `_field` only (what a series key holds).
pub fn pushable(f: &Func, param: &str) -> bool {
    reads_only(f, param).is_some_and(|cols| {
        cols.iter()
            .all(|c| !matches!(c.as_str(), "_value" | "_time" | "_start" | "_stop"))
    })
}

/// Evaluates a row predicate: `true` keeps, `false` and null drop, anything else is an error.
pub fn predicate(
    it: &mut Interp<'_>,
    a: &Args,
    f: &Rc<Func>,
    param: &str,
    record: Value,
    what: &str,
) -> R<bool> {
    match it.call_row_fn(f, param, record, a.span) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(Value::Null) => Ok(false),
        Ok(other) => Err(a.runtime(format!(
            "failed to evaluate {what} function: expected bool but found {}",
            other.type_name()
        ))),
        Err(e) if e.message.starts_with("runtime error") => Err(e),
        Err(e) => Err(a.runtime(format!("failed to evaluate {what} function: {}", e.message))),
    }
}

fn filter(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["fn", "onEmpty", "tables"], &["fn"])?;
    let f = a.req_func("fn")?;
    let keep_empty = match a.string("onEmpty")?.as_deref() {
        None | Some("drop") => false,
        Some("keep") => true,
        Some(other) => {
            // `universe/filter.go`: `%q` of the value.
            return Err(a.err(format!(
                "onEmpty must be keep or drop, was {}",
                crate::model::go_text::quote_str(other)
            )));
        }
    };
    let param = row_param(&f);
    let mut f = f;
    let mut s = a.stream()?;
    // Straight after `from |> range` (2.7's `PushDownFilterRule`): the conjuncts storage can
    // evaluate go into the read; a filter left with nothing else is gone, otherwise the rest
    // runs here on what the read returns.
    if !keep_empty && !s.shared.get() {
        let pending = match &*s.state.borrow() {
            StreamState::Pending(spec) if spec.start.is_some() => Some(spec.clone()),
            _ => None,
        };
        if let (Some(mut spec), Some(split)) = (pending, super::predicate::split(&f)) {
            spec.predicates.push(split.pushed);
            let read = it.pending(spec);
            let Some(rest) = split.rest else {
                return Ok(read);
            };
            let Value::Stream(read) = read else {
                return Err(a.runtime("expected a stream"));
            };
            f = rest;
            s = read;
        }
    }
    let unsorted = s.unsorted.get();
    let tables = it.tables(&s)?;
    let key_only = reads_only(&f, &param);
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        let only_key = key_only
            .as_ref()
            .is_some_and(|cols| cols.iter().all(|c| t.is_key(c) || t.col(c).is_none()));
        let mut kept = Vec::new();
        if only_key {
            if !t.rows.is_empty() {
                let rec = row_record(t, &t.rows[0]);
                if predicate(it, &a, &f, &param, rec, "filter")? {
                    kept = t.rows.clone();
                }
            }
        } else {
            it.budget.steps(t.rows.len() as u64)?;
            for r in &t.rows {
                let rec = row_record(t, r);
                if predicate(it, &a, &f, &param, rec, "filter")? {
                    kept.push(r.clone());
                }
            }
        }
        if kept.is_empty() && !keep_empty {
            continue;
        }
        out_tables.push(Table {
            columns: t.columns.clone(),
            key: t.key.clone(),
            rows: kept,
        });
    }
    out(it, &a, out_tables, Order::Keep(unsorted))
}

fn map(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["fn", "mergeKey", "tables"], &["fn"])?;
    let f = a.req_func("fn")?;
    let param = row_param(&f);
    let (_, tables) = a.arrived(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        if t.rows.is_empty() {
            continue;
        }
        it.budget.steps(t.rows.len() as u64)?;
        let mut records: Vec<Rc<Vec<(String, Value)>>> = Vec::with_capacity(t.rows.len());
        for r in &t.rows {
            let rec = row_record(t, r);
            match it.call_row_fn(&f, &param, rec, a.span) {
                Ok(Value::Record(fields)) => records.push(fields),
                Ok(other) => {
                    return Err(a.runtime(format!(
                        "failed to evaluate map function: expected record but found {}",
                        other.type_name()
                    )))
                }
                Err(e) if e.message.starts_with("runtime error") => return Err(e),
                Err(e) => {
                    return Err(a.runtime(format!("failed to evaluate map function: {}", e.message)))
                }
            }
        }
        // The schema: the first record's labels, sorted; a column's type is its value's in
        // the first record (or, when null there, the input column's or the first non-null).
        let mut labels: Vec<String> = records[0].iter().map(|(k, _)| k.clone()).collect();
        labels.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
        labels.dedup();
        let mut columns = Vec::new();
        for l in &labels {
            let first = records[0].iter().find(|(k, _)| k == l).map(|(_, v)| v);
            let ty = match first.and_then(Value::col_type) {
                Some(ty) => Some(ty),
                None => {
                    if let Some(v) = first {
                        if !v.is_null() {
                            return Err(a.runtime(format!(
                                "map object property \"{l}\" is {} type which is not supported in a flux table",
                                v.nature()
                            )));
                        }
                    }
                    t.col(l).map(|i| t.columns[i].ty).or_else(|| {
                        records.iter().find_map(|r| {
                            r.iter()
                                .find(|(k, _)| k == l)
                                .and_then(|(_, v)| v.col_type())
                        })
                    })
                }
            };
            if let Some(ty) = ty {
                columns.push(Column::new(l.clone(), ty));
            }
        }
        let mut rows = Vec::with_capacity(records.len());
        for rec in &records {
            let mut row = Vec::with_capacity(columns.len());
            for c in &columns {
                let v = rec.iter().find(|(k, _)| k == &c.label).map(|(_, v)| v);
                let cell = match v.and_then(Value::to_val) {
                    Some(Val::Null) | None => Val::Null,
                    Some(cell) if cell.col_type() == Some(c.ty) => cell,
                    Some(cell) => {
                        return Err(a.runtime(format!(
                            "failed to evaluate map function: column \"{}\" is of type {} but a record has {}",
                            c.label,
                            c.ty.name(),
                            cell.col_type().map_or("null", ColType::name)
                        )))
                    }
                };
                row.push(cell);
            }
            rows.push(row);
        }
        // The key: input key columns still present, in output column order; rows whose key
        // values differ go to separate tables (sorted by those values, stable).
        let key_idx: Vec<usize> = (0..columns.len())
            .filter(|&i| t.is_key(&columns[i].label))
            .collect();
        let varying: Vec<usize> = key_idx
            .iter()
            .copied()
            .filter(|&i| rows.iter().any(|r| r[i] != rows[0][i]))
            .collect();
        if !varying.is_empty() {
            rows.sort_by(|x, y| {
                varying
                    .iter()
                    .map(|&i| x[i].compare(&y[i]))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        let mut start = 0;
        while start < rows.len() {
            let mut end = start + 1;
            while end < rows.len() && varying.iter().all(|&i| rows[end][i] == rows[start][i]) {
                end += 1;
            }
            let key = GroupKey::new(
                key_idx.iter().map(|&i| columns[i].clone()).collect(),
                key_idx.iter().map(|&i| rows[start][i].clone()).collect(),
            );
            out_tables.push(Table {
                columns: columns.clone(),
                key,
                rows: rows[start..end].to_vec(),
            });
            start = end;
        }
    }
    out(it, &a, out_tables, Order::Group)
}

/// Drops the columns of `t` that `drop` says to, key and all.
fn retain_columns(t: &Table, drop: impl Fn(&str) -> bool) -> Table {
    let idx: Vec<usize> = (0..t.columns.len())
        .filter(|&i| !drop(&t.columns[i].label))
        .collect();
    let mut key = GroupKey::default();
    for &i in &idx {
        let c = &t.columns[i];
        if let Some(v) = t.key_value(&c.label) {
            key.cols.push(c.clone());
            key.values.push(v.clone());
        }
    }
    Table {
        columns: idx.iter().map(|&i| t.columns[i].clone()).collect(),
        key,
        rows: t
            .rows
            .iter()
            .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    }
}

fn column_fn(it: &mut Interp<'_>, a: &Args, f: &Rc<Func>, label: &str) -> R<Value> {
    let param = match f.as_ref() {
        Func::Closure { params, .. } => params.first().map_or("column".into(), |p| p.name.clone()),
        Func::Builtin { .. } => "column".into(),
    };
    it.call_row_fn(f, &param, Value::str(label), a.span)
}

fn keep_drop(it: &mut Interp<'_>, keep: bool, a: Args) -> R<Value> {
    a.check(&["columns", "fn", "tables"], &[])?;
    let cols = a.strings("columns")?;
    let f = a.func("fn")?;
    if cols.is_some() && f.is_some() {
        return Err(a.err(format!(
            "cannot specify both columns and fn in {}",
            if keep { "keep" } else { "drop" }
        )));
    }
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut dropped: Vec<bool> = Vec::with_capacity(t.columns.len());
        for c in &t.columns {
            let hit = match (&cols, &f) {
                (Some(list), _) => list.iter().any(|x| x == &c.label),
                (None, Some(f)) => matches!(column_fn(it, &a, f, &c.label)?, Value::Bool(true)),
                (None, None) => false,
            };
            dropped.push(if keep {
                if cols.is_none() && f.is_none() {
                    false
                } else {
                    !hit
                }
            } else {
                hit
            });
        }
        let labels: Vec<String> = t.columns.iter().map(|c| c.label.clone()).collect();
        out_tables.push(retain_columns(t, |l| {
            labels
                .iter()
                .position(|x| x == l)
                .is_some_and(|i| dropped[i])
        }));
    }
    out(it, &a, out_tables, Order::Sorted)
}

fn check_unique(a: &Args, t: &Table) -> R<()> {
    for (i, c) in t.columns.iter().enumerate() {
        if let Some(j) = t.columns[..i].iter().position(|x| x.label == c.label) {
            return Err(a.runtime(format!(
                "column {j} and {i} have the same name (\"{}\") which is not allowed",
                c.label
            )));
        }
    }
    Ok(())
}

fn rename(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["columns", "fn", "tables"], &[])?;
    let mapping: Option<Vec<(String, String)>> = match a.get("columns") {
        None => None,
        Some(Value::Record(fields)) => Some(
            fields
                .iter()
                .map(|(k, v)| match v {
                    Value::Str(s) => Ok((k.clone(), s.to_string())),
                    other => Err(a.type_err("columns", "string", other)),
                })
                .collect::<R<Vec<_>>>()?,
        ),
        Some(other) => return Err(a.type_err("columns", "{A with ...}", other)),
    };
    let f = a.func("fn")?;
    if mapping.is_none() && f.is_none() {
        return Err(a.err("rename error: neither column list nor map function provided"));
    }
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        if let Some(m) = &mapping {
            for (from, _) in m {
                if t.col(from).is_none() {
                    return Err(a.runtime(format!("rename error: column \"{from}\" doesn't exist")));
                }
            }
        }
        let mut nt = t.clone();
        let mut key = GroupKey::default();
        for c in nt.columns.iter_mut() {
            let kv = t.key_value(&c.label).cloned();
            let new = match (&mapping, &f) {
                (Some(m), _) => m
                    .iter()
                    .find(|(x, _)| x == &c.label)
                    .map(|(_, y)| y.clone()),
                (None, Some(f)) => match column_fn(it, &a, f, &c.label)? {
                    Value::Str(s) => Some(s.to_string()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(n) = new {
                c.label = n;
            }
            if let Some(v) = kv {
                key.cols.push(c.clone());
                key.values.push(v);
            }
        }
        nt.key = key;
        check_unique(&a, &nt)?;
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Sorted)
}

fn duplicate(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["tables"], &["column", "as"])?;
    let column = a.req_string("column")?;
    let as_ = a.req_string("as")?;
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let from = t.col(&column).ok_or_else(|| {
            a.runtime(format!(
                "duplicate error: column \"{column}\" doesn't exist"
            ))
        })?;
        let new_col = Column::new(as_.clone(), t.columns[from].ty);
        let mut nt = t.clone();
        let as_idx = match nt.col(&as_) {
            Some(i) => {
                nt.columns[i] = new_col.clone();
                for r in &mut nt.rows {
                    r[i] = r[from].clone();
                }
                i
            }
            None => {
                nt.columns.push(new_col.clone());
                for r in &mut nt.rows {
                    let v = r[from].clone();
                    r.push(v);
                }
                nt.columns.len() - 1
            }
        };
        if let Some(ki) = nt.key.index(&nt.columns[as_idx].label) {
            match t.key.index(&column) {
                Some(fi) => {
                    nt.key.cols[ki] = new_col;
                    nt.key.values[ki] = t.key.values[fi].clone();
                }
                None => {
                    nt.key.cols.remove(ki);
                    nt.key.values.remove(ki);
                }
            }
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Sorted)
}

fn set(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["tables"], &["key", "value"])?;
    let key_label = a.req_string("key")?;
    let value = a.req_string("value")?;
    let (_, tables) = a.ordered(it)?;
    let value: std::rc::Rc<str> = value.into();
    let mut out_tables: Vec<Table> = Vec::new();
    for t in tables.iter() {
        let mut key = t.key.clone();
        if let Some(i) = key.index(&key_label) {
            key.values[i] = Val::Str(value.clone());
        }
        let mut nt = t.clone();
        nt.key = key;
        let idx = match nt.col(&key_label) {
            Some(i) => i,
            None => {
                nt.columns
                    .push(Column::new(key_label.clone(), ColType::String));
                for r in &mut nt.rows {
                    r.push(Val::Null);
                }
                nt.columns.len() - 1
            }
        };
        if nt.columns[idx].ty != ColType::String {
            nt.columns[idx].ty = ColType::String;
        }
        for r in &mut nt.rows {
            r[idx] = Val::Str(value.clone());
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Sorted)
}

fn group(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["columns", "mode", "tables"], &[])?;
    let mut cols = a.strings("columns")?.unwrap_or_default();
    let except = match a.string("mode")?.as_deref() {
        None | Some("by") => false,
        Some("except") => true,
        Some(other) => return Err(a.err(format!("invalid group mode: {other}"))),
    };
    if !except && !cols.iter().any(|c| c == "_time" || c == "_value") {
        let s = a.stream()?;
        let pending =
            matches!(&*s.state.borrow(), StreamState::Pending(spec) if spec.start.is_some());
        if pending && !s.shared.get() {
            return read_group(it, &a, &s, &cols);
        }
    }
    cols.sort();
    let (_, tables) = a.arrived(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        let grouped = |label: &str| cols.iter().any(|c| c == label) != except;
        // The whole table has one key when every grouping column it has is in its key.
        let whole = if except {
            t.columns
                .iter()
                .filter(|c| grouped(&c.label))
                .all(|c| t.is_key(&c.label))
        } else {
            cols.iter()
                .filter(|c| t.col(c).is_some())
                .all(|c| t.is_key(c))
        };
        if whole {
            let mut key = GroupKey::default();
            if except {
                for c in &t.columns {
                    if grouped(&c.label) {
                        if let Some(v) = t.key_value(&c.label) {
                            key.cols.push(c.clone());
                            key.values.push(v.clone());
                        }
                    }
                }
            } else {
                for label in &cols {
                    if let (Some(i), Some(v)) = (t.col(label), t.key_value(label)) {
                        key.cols.push(t.columns[i].clone());
                        key.values.push(v.clone());
                    }
                }
            }
            out_tables.push(Table {
                columns: t.columns.clone(),
                key,
                rows: t.rows.clone(),
            });
            continue;
        }
        // By row: keys in table-column order; within this table the sub-tables go out in
        // key order (`groupChunkByRow` ranges over a sorted lookup).
        let idx: Vec<usize> = (0..t.columns.len())
            .filter(|&i| grouped(&t.columns[i].label))
            .collect();
        let mut parts: Vec<Table> = Vec::new();
        it.budget.steps(t.rows.len() as u64)?;
        for r in &t.rows {
            let key = GroupKey::new(
                idx.iter().map(|&i| t.columns[i].clone()).collect(),
                idx.iter().map(|&i| r[i].clone()).collect(),
            );
            match parts.iter_mut().find(|p| p.key.same(&key)) {
                Some(p) => p.rows.push(r.clone()),
                None => parts.push(Table {
                    columns: t.columns.clone(),
                    key,
                    rows: vec![r.clone()],
                }),
            }
        }
        parts.sort_by(|x, y| x.key.compare(&y.key));
        out_tables.extend(parts);
    }
    out(it, &a, out_tables, Order::Group)
}

/// The word storage uses for a cursor's type (`GroupCursorError`).
fn cursor_type(ty: ColType) -> &'static str {
    match ty {
        ColType::Double => "float",
        ColType::Long => "integer",
        ColType::ULong => "unsigned",
        ColType::String => "string",
        ColType::Bool => "boolean",
        ColType::Time => "invalid",
    }
}

/// `group(columns:)` straight after a storage read is done by storage (2.7's
/// `PushDownGroupRule`, `storage/flux/reader.go` `groupIterator`, `storage/reads`
/// `groupResultSet`): series are ordered by their values of the grouping columns (a missing
/// one sorts last) and each run of equal values is one table keyed by `_start`, `_stop` and
/// the grouping columns in the order given (a missing value is ""); its columns are
/// `_start,_stop,_time,_value` and the union of the series' tag keys; its rows are the
/// series' rows one series after another. Series of different value types in one group
/// are storage's schema collision.
fn read_group(
    it: &mut Interp<'_>,
    a: &Args,
    s: &Rc<crate::query::value::Stream>,
    cols: &[String],
) -> R<Value> {
    let (start, stop) = s.bounds.get().unwrap_or((0, 0));
    let series = it.tables(s)?;
    let group_cols: Vec<&String> = cols
        .iter()
        .filter(|c| c.as_str() != "_start" && c.as_str() != "_stop")
        .collect();
    let tag_of = |t: &Table, label: &str| -> Option<std::rc::Rc<str>> {
        match t.key_value(label) {
            Some(Val::Str(v)) if t.col(label).is_some_and(|i| i >= 4) => Some(v.clone()),
            _ => None,
        }
    };
    let sort_key = |t: &Table| -> Vec<u8> {
        let mut k = Vec::new();
        for c in &group_cols {
            match tag_of(t, c) {
                Some(v) if !v.is_empty() => k.extend_from_slice(v.as_bytes()),
                _ => k.push(0xff),
            }
            k.push(0);
        }
        k
    };
    let mut order: Vec<(Vec<u8>, usize)> = series
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.rows.is_empty())
        .map(|(i, t)| (sort_key(t), i))
        .collect();
    order.sort_by(|x, y| x.0.cmp(&y.0));
    let mut out_tables: Vec<Table> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && order[j].0 == order[i].0 {
            j += 1;
        }
        let members: Vec<&Table> = order[i..j].iter().map(|(_, k)| &series[*k]).collect();
        let first = members[0];
        let mut key = GroupKey::new(
            vec![
                Column::new("_start", ColType::Time),
                Column::new("_stop", ColType::Time),
            ],
            vec![Val::Time(start), Val::Time(stop)],
        );
        for c in &group_cols {
            key.cols.push(Column::new(c.as_str(), ColType::String));
            key.values
                .push(Val::Str(tag_of(first, c).unwrap_or_else(|| "".into())));
        }
        let ty = first
            .col("_value")
            .map_or(ColType::Double, |vi| first.columns[vi].ty);
        let mut tags: Vec<String> = Vec::new();
        for m in &members {
            if let Some(vi) = m.col("_value") {
                if m.columns[vi].ty != ty {
                    return Err(FluxError::runtime(format!(
                        "schema collision: cannot group {} and {} types together",
                        cursor_type(ty),
                        cursor_type(m.columns[vi].ty)
                    ))
                    .wrapped());
                }
            }
            for c in m.columns.iter().skip(4) {
                if !tags.contains(&c.label) {
                    tags.push(c.label.clone());
                }
            }
        }
        tags.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
        let mut columns = vec![
            Column::new("_start", ColType::Time),
            Column::new("_stop", ColType::Time),
            Column::new("_time", ColType::Time),
            Column::new("_value", ty),
        ];
        columns.extend(
            tags.iter()
                .map(|t| Column::new(t.as_str(), ColType::String)),
        );
        let mut table = Table::new(columns, key);
        for m in &members {
            let (Some(ti), Some(vi)) = (m.col("_time"), m.col("_value")) else {
                continue;
            };
            it.budget.steps(m.rows.len() as u64)?;
            let tag_vals: Vec<Val> = tags
                .iter()
                .map(|t| tag_of(m, t).map_or(Val::Null, Val::Str))
                .collect();
            for r in &m.rows {
                let mut row = vec![
                    Val::Time(start),
                    Val::Time(stop),
                    r[ti].clone(),
                    r[vi].clone(),
                ];
                row.extend(tag_vals.iter().cloned());
                table.rows.push(row);
            }
        }
        out_tables.push(table);
        i = j;
    }
    let v = out(it, a, out_tables, Order::Keep(false))?;
    if let Value::Stream(o) = &v {
        *o.pushdown.borrow_mut() = Some(crate::query::value::Pushdown::Group);
    }
    Ok(v)
}

fn columns(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["column", "tables"], &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        let mut columns: Vec<Column> = t
            .key
            .cols
            .iter()
            .filter(|c| c.label != column)
            .cloned()
            .collect();
        let key_vals: Vec<Val> = columns
            .iter()
            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect();
        columns.push(Column::new(column.clone(), ColType::String));
        let rows = t
            .columns
            .iter()
            .map(|c| {
                let mut r = key_vals.clone();
                r.push(Val::Str(c.label.as_str().into()));
                r
            })
            .collect();
        out_tables.push(Table {
            columns,
            key: t.key.clone(),
            rows,
        });
    }
    out(it, &a, out_tables, Order::Sorted)
}

fn keys(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["column", "tables"], &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        let mut columns: Vec<Column> = t.key.cols.clone();
        columns.push(Column::new(column.clone(), ColType::String));
        let mut rows = Vec::new();
        for c in &t.key.cols {
            let mut r: Vec<Val> = t.key.values.clone();
            r.push(Val::Str(c.label.as_str().into()));
            rows.push(r);
        }
        out_tables.push(Table {
            columns,
            key: t.key.clone(),
            rows,
        });
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn union(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&[], &["tables"])?;
    let Some(Value::Array(streams)) = a.get("tables").cloned() else {
        return Err(a.type_err(
            "tables",
            "[stream[A]]",
            a.get("tables").unwrap_or(&Value::Null),
        ));
    };
    if streams.len() < 2 {
        return Err(a.err("union must have at least two streams as input"));
    }
    let mut all = Vec::new();
    for s in streams.iter() {
        let Value::Stream(s) = s else {
            return Err(a.type_err("tables", "[stream[A]]", s));
        };
        let t = it.ordered(s)?;
        all.extend(t.iter().cloned());
    }
    out(it, &a, all, Order::Sorted)
}

fn pivot(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["tables"], &["rowKey", "columnKey", "valueColumn"])?;
    let row_key = a.strings("rowKey")?.unwrap_or_default();
    let column_key = a.strings("columnKey")?.unwrap_or_default();
    let value_column = a.req_string("valueColumn")?;
    let (_, tables) = a.ordered(it)?;
    struct Acc {
        table: Table,
        value_cols: Vec<String>,
        /// Row key → its row (found by a linear search before: quadratic in the rows).
        /// Hashed with a per-process random seed: the keys are stored data.
        row_keys: std::collections::HashMap<String, usize, foldhash::fast::RandomState>,
    }
    let mut accs: Vec<Acc> = Vec::new();
    for t in tables.iter() {
        let rk: Vec<usize> = row_key
            .iter()
            .map(|c| {
                t.col(c).ok_or_else(|| {
                    a.runtime(format!(
                        "specified row key column does not exist in table: {c}"
                    ))
                })
            })
            .collect::<R<_>>()?;
        let vi = t.col(&value_column).ok_or_else(|| {
            a.runtime(format!(
                "specified value column does not exist in table: {value_column}"
            ))
        })?;
        let ck: Vec<usize> = column_key
            .iter()
            .map(|c| {
                t.col(c).ok_or_else(|| {
                    a.runtime(format!("specified column does not exist in table: {c}"))
                })
            })
            .collect::<R<_>>()?;
        let mut columns = Vec::new();
        let mut base_idx = Vec::new();
        let mut key = GroupKey::default();
        for (i, c) in t.columns.iter().enumerate() {
            if column_key.contains(&c.label) || c.label == value_column {
                continue;
            }
            if let Some(v) = t.key_value(&c.label) {
                key.cols.push(c.clone());
                key.values.push(v.clone());
                columns.push(c.clone());
                base_idx.push(i);
            } else if row_key.contains(&c.label) {
                columns.push(c.clone());
                base_idx.push(i);
            }
        }
        let pos = match accs.iter().position(|acc| acc.table.key.same(&key)) {
            Some(p) => p,
            None => {
                accs.push(Acc {
                    table: Table::new(columns, key),
                    value_cols: Vec::new(),
                    row_keys: std::collections::HashMap::default(),
                });
                accs.len() - 1
            }
        };
        let acc = &mut accs[pos];
        let vty = t.columns[vi].ty;
        it.budget.steps(t.rows.len() as u64)?;
        // The row and column keys of each row, built in these two buffers.
        let (mut row_id, mut col_id) = (String::new(), String::new());
        for r in &t.rows {
            row_id.clear();
            for &i in &rk {
                pivot_str_into(&mut row_id, &r[i]);
            }
            col_id.clear();
            for (n, &i) in ck.iter().enumerate() {
                if n > 0 {
                    col_id.push('_');
                }
                pivot_str_into(&mut col_id, &r[i]);
            }
            let ci = match acc.value_cols.iter().position(|c| c == &col_id) {
                Some(p) => acc.table.columns.len() - acc.value_cols.len() + p,
                None => {
                    if acc.table.col(&col_id).is_some() {
                        return Err(a.runtime(format!(
                            "value {col_id:?} appears in a column key column, but a column named {col_id:?} already exists; consider renaming {col_id:?} to something else before pivoting"
                        )));
                    }
                    acc.table.columns.push(Column::new(col_id.clone(), vty));
                    for row in &mut acc.table.rows {
                        row.push(Val::Null);
                    }
                    acc.value_cols.push(col_id.clone());
                    acc.table.columns.len() - 1
                }
            };
            let ri = match acc.row_keys.get(row_id.as_str()) {
                Some(&p) => p,
                None => {
                    let mut row: Vec<Val> = base_idx.iter().map(|&i| r[i].clone()).collect();
                    row.resize(acc.table.columns.len(), Val::Null);
                    acc.table.rows.push(row);
                    acc.row_keys
                        .insert(row_id.clone(), acc.table.rows.len() - 1);
                    acc.table.rows.len() - 1
                }
            };
            acc.table.rows[ri][ci] = r[vi].clone();
        }
    }
    let out_tables = accs.into_iter().map(|acc| acc.table).collect();
    out(it, &a, out_tables, Order::Sorted)
}

/// A value as `valueToStr` spells it for pivot's row and column keys, appended to `out` (the
/// keys of every row are built in reused buffers).
fn pivot_str_into(out: &mut String, v: &Val) {
    use std::fmt::Write as _;
    match v {
        Val::Null => out.push_str("null"),
        Val::Str(s) => out.push_str(s),
        Val::Long(i) => {
            let _ = write!(out, "{i}");
        }
        Val::ULong(u) => {
            let _ = write!(out, "{u}");
        }
        Val::Double(f) => out.push_str(&format_float_e(*f)),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Time(t) => crate::model::time::format_fixed_nano_into(out, *t),
    }
}

/// Go's `strconv.FormatFloat(f, 'E', -1, 64)`.
fn format_float_e(f: f64) -> String {
    if !f.is_finite() {
        return crate::query::value::format_float(f);
    }
    let s = match crate::query::value::go_shortest_tie(f) {
        // Go's digits where a tie rounds them differently (`d.dddE<exp>`).
        Some((digits, q)) => {
            let (first, rest) = digits.split_at(1);
            let exp = q + rest.len() as i32;
            let sign = if f.is_sign_negative() { "-" } else { "" };
            let first = char::from(first[0]);
            match std::str::from_utf8(rest).unwrap_or("") {
                "" => format!("{sign}{first}E{exp}"),
                rest => format!("{sign}{first}.{rest}E{exp}"),
            }
        }
        None => format!("{f:E}"),
    };
    // Rust writes `1.5E2`; Go writes `1.5E+02`.
    match s.split_once('E') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}E{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn fill(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["column", "value", "usePrevious", "tables"], &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let use_previous = a.bool("usePrevious", false)?;
    let value = a.get("value").cloned();
    let fill_val = match (&value, use_previous) {
        (Some(_), true) => return Err(a.err("fill requires exactly one of value or usePrevious")),
        (None, false) => return Err(a.err("fill requires exactly one of value or usePrevious")),
        (Some(v), false) => Some(v.to_val().filter(|v| !v.is_null()).ok_or_else(|| {
            a.err(format!(
                "fill value must be a basic type, got {}",
                v.type_name()
            ))
        })?),
        (None, true) => None,
    };
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ci = t.col(&column);
        if ci.is_none() && use_previous {
            out_tables.push(t.clone());
            continue;
        }
        let mut nt = t.clone();
        if let Some(ki) = nt.key.index(&column) {
            if nt.key.values[ki].is_null() {
                if let Some(fv) = &fill_val {
                    nt.key.values[ki] = fv.clone();
                }
            } else {
                out_tables.push(nt);
                continue;
            }
        }
        if let (Some(fv), Some(ci)) = (&fill_val, ci) {
            if Some(t.columns[ci].ty) != fv.col_type() {
                return Err(a.runtime(format!(
                    "fill column type mismatch: {}/{}",
                    t.columns[ci].ty.name(),
                    fv.col_type().map_or("invalid", ColType::name)
                )));
            }
        }
        let ci = match ci {
            Some(ci) => ci,
            None => {
                let ty = fill_val
                    .as_ref()
                    .and_then(Val::col_type)
                    .unwrap_or(ColType::String);
                nt.columns.push(Column::new(column.clone(), ty));
                for r in &mut nt.rows {
                    r.push(Val::Null);
                }
                nt.columns.len() - 1
            }
        };
        let mut prev = Val::Null;
        for r in &mut nt.rows {
            if r[ci].is_null() {
                r[ci] = match &fill_val {
                    Some(fv) => fv.clone(),
                    None => prev.clone(),
                };
            } else {
                prev = r[ci].clone();
            }
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn sort(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["columns", "desc", "tables"], &[])?;
    let cols = a
        .strings("columns")?
        .unwrap_or_else(|| vec!["_value".into()]);
    let desc = a.bool("desc", false)?;
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let idx: Vec<usize> = cols
            .iter()
            .filter(|c| !t.is_key(c))
            .filter_map(|c| t.col(c))
            .collect();
        let mut nt = t.clone();
        it.budget.steps(nt.rows.len() as u64)?;
        nt.rows.sort_by(|x, y| {
            let o = idx
                .iter()
                .map(|&i| x[i].compare(&y[i]))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        });
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn limit_tail(it: &mut Interp<'_>, limit: bool, a: Args) -> R<Value> {
    a.check(&["offset", "tables"], &["n"])?;
    let n = a.int("n")?.unwrap_or(0);
    let offset = a.int("offset")?.unwrap_or(0);
    // `n` is not checked: at `n <= 0` both pass every table on with no rows
    // (`universe/limit.go`, `processChunk`; `universe/tail.go`, `Process`).
    let n = n.max(0);
    if offset < 0 {
        return Err(a.err(format!(
            "offset must be a non-negative integer, but was {offset}"
        )));
    }
    let (n, offset) = (n as usize, offset as usize);
    let s = a.stream()?;
    let unsorted = limit && s.unsorted.get();
    let tables = if limit {
        it.tables(&s)?
    } else {
        it.ordered(&s)?
    };
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut nt = Table::new(t.columns.clone(), t.key.clone());
        nt.rows = if limit {
            t.rows.iter().skip(offset).take(n).cloned().collect()
        } else {
            let len = t.rows.len();
            let end = len.saturating_sub(offset);
            let start = end.saturating_sub(n);
            t.rows[start..end].to_vec()
        };
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(unsorted))
}

fn yield_(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["name", "tables"], &[])?;
    let name = a.string("name")?.unwrap_or_else(|| "_result".into());
    let s = a.stream()?;
    // A pending read is read now: the result is this stream.
    let tables = it.tables(&s)?;
    let v = it.stream_shared(tables, s.unsorted.get())?;
    if let Value::Stream(out) = &v {
        *out.yielded.borrow_mut() = Some(name);
        it.side_effects.push(crate::query::interp::SideEffect {
            stream: out.clone(),
            name: None,
        });
    }
    Ok(v)
}

fn time_shift(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["columns", "tables"], &["duration"])?;
    let d = a.duration("duration")?.unwrap_or_default();
    let cols = a
        .strings("columns")?
        .unwrap_or_else(|| vec!["_start".into(), "_stop".into(), "_time".into()]);
    let s = a.stream()?;
    let unsorted = s.unsorted.get();
    let tables = it.tables(&s)?;
    let shift = |v: &Val| match v {
        Val::Time(t) => Val::Time(crate::query::stdlib::misc::add_duration(*t, d)),
        other => other.clone(),
    };
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut nt = t.clone();
        for c in &cols {
            let Some(i) = nt.col(c) else { continue };
            if nt.columns[i].ty != ColType::Time {
                return Err(a.runtime(format!("column {c} is not of type time")));
            }
            for r in &mut nt.rows {
                r[i] = shift(&r[i]);
            }
            if let Some(ki) = nt.key.index(c) {
                nt.key.values[ki] = shift(&nt.key.values[ki]);
            }
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(unsorted))
}

/// `truncateTimeColumn` is `map(fn: (r) => ({r with _time: date.truncate(t: r._time,
/// unit: unit)}))` in Flux, `timeColumn` unused: it truncates `_time` whatever it names.
fn truncate_time_column(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["timeColumn", "tables"], &["unit"])?;
    let unit = a.duration("unit")?.unwrap_or_default();
    let (_, tables) = a.arrived(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        if t.rows.is_empty() {
            continue;
        }
        let mut nt = t.clone();
        match nt.col("_time") {
            Some(i) => {
                if nt.columns[i].ty != ColType::Time {
                    return Err(a.runtime("failed to evaluate map function: expected time"));
                }
                for r in &mut nt.rows {
                    if let Val::Time(x) = r[i] {
                        r[i] = Val::Time(crate::query::stdlib::misc::truncate_time(x, unit));
                    }
                }
            }
            None => {
                return Err(
                    a.runtime("failed to evaluate map function: missing required argument t")
                )
            }
        }
        out_tables.push(nt);
    }
    // As `map`: columns sorted by label, the key regrouped.
    let sorted: Vec<Table> = out_tables
        .into_iter()
        .map(|t| {
            let mut order: Vec<usize> = (0..t.columns.len()).collect();
            order.sort_by(|&x, &y| {
                t.columns[x]
                    .label
                    .as_bytes()
                    .cmp(t.columns[y].label.as_bytes())
            });
            let columns: Vec<Column> = order.iter().map(|&i| t.columns[i].clone()).collect();
            let rows = t
                .rows
                .iter()
                .map(|r| order.iter().map(|&i| r[i].clone()).collect())
                .collect();
            let mut key = GroupKey::default();
            for c in &columns {
                if let Some(v) = t.key_value(&c.label) {
                    key.cols.push(c.clone());
                    key.values.push(v.clone());
                }
            }
            Table { columns, key, rows }
        })
        .collect();
    out(it, &a, sorted, Order::Group)
}

fn elapsed(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["unit", "timeColumn", "columnName", "tables"], &[])?;
    let unit = a
        .duration("unit")?
        .unwrap_or(Duration::nanos(1_000_000_000));
    let unit = convert::duration_nanos(unit) as f64;
    let time_col = a.string("timeColumn")?.unwrap_or_else(|| "_time".into());
    let name = a.string("columnName")?.unwrap_or_else(|| "elapsed".into());
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ti = t
            .col(&time_col)
            .ok_or_else(|| a.runtime(format!("column {time_col:?} does not exist")))?;
        let mut nt = Table::new(t.columns.clone(), t.key.clone());
        let is_time = t.columns[ti].ty == ColType::Time;
        if is_time {
            nt.columns.push(Column::new(name.clone(), ColType::Long));
        }
        let mut prev: Option<f64> = None;
        for r in &t.rows {
            let Val::Time(cur) = r[ti] else { continue };
            let cur = cur as f64;
            if let Some(p) = prev {
                let mut row = r.clone();
                if is_time {
                    row.push(Val::Long(((cur - p) / unit) as i64));
                }
                nt.rows.push(row);
            }
            prev = Some(cur);
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Sorted)
}

fn difference(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(
        &[
            "nonNegative",
            "columns",
            "keepFirst",
            "initialZero",
            "tables",
        ],
        &[],
    )?;
    let non_negative = a.bool("nonNegative", false)?;
    let keep_first = a.bool("keepFirst", false)?;
    let initial_zero = a.bool("initialZero", false)?;
    let cols = a
        .strings("columns")?
        .unwrap_or_else(|| vec!["_value".into()]);
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut columns = t.columns.clone();
        let mut diffed = vec![false; columns.len()];
        for (j, c) in t.columns.iter().enumerate() {
            if !cols.contains(&c.label) {
                continue;
            }
            columns[j].ty = match c.ty {
                ColType::Long | ColType::ULong => ColType::Long,
                ColType::Double => ColType::Double,
                ColType::Time => {
                    return Err(a.runtime(
                        "difference does not support time columns. Try the elapsed function",
                    ))
                }
                other => {
                    return Err(a.runtime(format!(
                        "difference does not support column \"{}\" of type \"{}\"",
                        c.label,
                        other.name()
                    )))
                }
            };
            diffed[j] = true;
        }
        let first = usize::from(!keep_first);
        let mut out_cols: Vec<Vec<Val>> = Vec::with_capacity(columns.len());
        for (j, _) in t.columns.iter().enumerate() {
            let vals: Vec<Val> = t.rows.iter().map(|r| r[j].clone()).collect();
            if !diffed[j] {
                out_cols.push(vals.into_iter().skip(first).collect());
                continue;
            }
            let mut valid = false;
            let mut prev = Val::Null;
            let mut outv = Vec::with_capacity(vals.len());
            for (i, v) in vals.into_iter().enumerate() {
                let r = if v.is_null() {
                    Val::Null
                } else {
                    let p = std::mem::replace(&mut prev, v.clone());
                    if !valid {
                        valid = true;
                        if keep_first && initial_zero {
                            zero_like(&v)
                        } else {
                            Val::Null
                        }
                    } else {
                        diff_vals(&p, &v, non_negative, initial_zero)
                    }
                };
                if i >= first {
                    outv.push(r);
                }
            }
            out_cols.push(outv);
        }
        let n = out_cols.first().map_or(0, Vec::len);
        let rows = (0..n)
            .map(|i| out_cols.iter().map(|c| c[i].clone()).collect())
            .collect();
        out_tables.push(Table {
            columns,
            key: t.key.clone(),
            rows,
        });
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn zero_like(v: &Val) -> Val {
    match v {
        Val::Double(_) => Val::Double(0.0),
        _ => Val::Long(0),
    }
}

/// One step of `difference` (`difference.update*`).
fn diff_vals(prev: &Val, cur: &Val, non_negative: bool, initial_zero: bool) -> Val {
    match (prev, cur) {
        (Val::Long(p), Val::Long(c)) => {
            let d = c.wrapping_sub(*p);
            if d >= 0 || !non_negative {
                Val::Long(d)
            } else if initial_zero && *c >= 0 {
                Val::Long(*c)
            } else {
                Val::Null
            }
        }
        (Val::ULong(p), Val::ULong(c)) => {
            let d = c.wrapping_sub(*p) as i64;
            if d >= 0 || !non_negative {
                Val::Long(d)
            } else if initial_zero && (*c as i64) >= 0 {
                Val::Long(*c as i64)
            } else {
                Val::Null
            }
        }
        (Val::Double(p), Val::Double(c)) => {
            let d = c - p;
            if d >= 0.0 || !non_negative {
                Val::Double(d)
            } else if initial_zero && *c >= 0.0 {
                Val::Double(*c)
            } else {
                Val::Null
            }
        }
        _ => Val::Null,
    }
}

fn derivative(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(
        &[
            "unit",
            "nonNegative",
            "columns",
            "timeColumn",
            "initialZero",
            "tables",
        ],
        &[],
    )?;
    let unit = a
        .duration("unit")?
        .unwrap_or(Duration::nanos(1_000_000_000));
    let unit = convert::duration_nanos(unit) as f64;
    let non_negative = a.bool("nonNegative", false)?;
    let initial_zero = a.bool("initialZero", false)?;
    let cols = a
        .strings("columns")?
        .unwrap_or_else(|| vec!["_value".into()]);
    let time_col = a.string("timeColumn")?.unwrap_or_else(|| "_time".into());
    let s = a.stream()?;
    let unsorted = s.unsorted.get();
    let tables = it.tables(&s)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ti = t
            .col(&time_col)
            .ok_or_else(|| a.runtime(format!("no column {time_col:?} exists")))?;
        if t.columns[ti].ty != ColType::Time {
            return Err(a.runtime(format!(
                "time column {time_col:?} is type {} and not time",
                t.columns[ti].ty.name()
            )));
        }
        let mut columns = t.columns.clone();
        for c in columns.iter_mut() {
            if cols.contains(&c.label) {
                match c.ty {
                    ColType::Long | ColType::ULong | ColType::Double => c.ty = ColType::Double,
                    other => {
                        return Err(a.runtime(format!(
                            "unsupported derivative column type {}:{}",
                            c.label,
                            other.name()
                        )))
                    }
                }
            }
        }
        // Rows whose time does not increase are skipped; a time going back is an error.
        let mut keep: Vec<usize> = Vec::new();
        let mut last: Option<i64> = None;
        for (i, r) in t.rows.iter().enumerate() {
            let Val::Time(x) = r[ti] else {
                return Err(a.runtime("derivative found null time in time column"));
            };
            match last {
                Some(p) if x < p => {
                    return Err(a.runtime("derivative found out-of-order times in time column"))
                }
                Some(p) if x == p => continue,
                _ => {}
            }
            last = Some(x);
            keep.push(i);
        }
        let mut nt = Table::new(columns.clone(), t.key.clone());
        if keep.is_empty() {
            out_tables.push(nt);
            continue;
        }
        let mut state: Vec<(Option<(i64, Val)>,)> = vec![(None,); columns.len()];
        // The first kept row initialises every derivative and is not output.
        for (j, c) in t.columns.iter().enumerate() {
            if cols.contains(&c.label) {
                let r = &t.rows[keep[0]];
                if let Val::Time(x) = r[ti] {
                    if !r[j].is_null() {
                        state[j].0 = Some((x, r[j].clone()));
                    }
                }
            }
        }
        for &i in &keep[1..] {
            let r = &t.rows[i];
            let Val::Time(x) = r[ti] else { continue };
            let mut row = Vec::with_capacity(columns.len());
            for (j, c) in t.columns.iter().enumerate() {
                if !cols.contains(&c.label) {
                    row.push(r[j].clone());
                    continue;
                }
                let cur = &r[j];
                if cur.is_null() {
                    row.push(Val::Null);
                    continue;
                }
                match state[j].0.take() {
                    None => {
                        row.push(Val::Null);
                        state[j].0 = Some((x, cur.clone()));
                    }
                    Some((pt, pv)) => {
                        let (p, c2) = (pv.as_f64().unwrap_or(0.0), cur.as_f64().unwrap_or(0.0));
                        let decreasing = pv.compare(cur).is_gt();
                        if non_negative && decreasing {
                            row.push(if initial_zero {
                                Val::Double(0.0)
                            } else {
                                Val::Null
                            });
                        } else {
                            let elapsed = (x - pt) as f64 / unit;
                            let diff = match (&pv, cur) {
                                (Val::Long(a1), Val::Long(b1)) if a1 > b1 => {
                                    -((a1.wrapping_sub(*b1)) as f64)
                                }
                                (Val::Long(a1), Val::Long(b1)) => b1.wrapping_sub(*a1) as f64,
                                (Val::ULong(a1), Val::ULong(b1)) if a1 > b1 => -((a1 - b1) as f64),
                                (Val::ULong(a1), Val::ULong(b1)) => (b1 - a1) as f64,
                                _ => c2 - p,
                            };
                            row.push(Val::Double(diff / elapsed));
                        }
                        state[j].0 = Some((x, cur.clone()));
                    }
                }
            }
            nt.rows.push(row);
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(unsorted))
}

fn cumulative_sum(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["columns", "tables"], &[])?;
    let cols = a
        .strings("columns")?
        .unwrap_or_else(|| vec!["_value".into()]);
    let s = a.stream()?;
    let unsorted = s.unsorted.get();
    let tables = it.tables(&s)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut nt = t.clone();
        for c in &cols {
            let Some(j) = nt.col(c) else {
                return Err(a.runtime(format!("cumulative sum: column {c:?} does not exist")));
            };
            match nt.columns[j].ty {
                ColType::Long | ColType::ULong | ColType::Double => {}
                other => {
                    return Err(a.runtime(format!(
                        "unsupported column type {} for cumulative sum",
                        other.name()
                    )))
                }
            }
            let mut acc = Val::Null;
            for r in &mut nt.rows {
                acc = match (&acc, &r[j]) {
                    (_, Val::Null) => acc.clone(),
                    (Val::Null, v) => v.clone(),
                    (Val::Long(x), Val::Long(y)) => Val::Long(x.wrapping_add(*y)),
                    (Val::ULong(x), Val::ULong(y)) => Val::ULong(x.wrapping_add(*y)),
                    (Val::Double(x), Val::Double(y)) => Val::Double(x + y),
                    _ => acc.clone(),
                };
                if !r[j].is_null() {
                    r[j] = acc.clone();
                }
            }
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(unsorted))
}

/// `increase`: `difference(nonNegative: true, columns, keepFirst: true, initialZero: true)
/// |> cumulativeSum(columns)`.
fn increase(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["columns", "tables"], &[])?;
    let cols = a.get("columns").cloned();
    let mut dargs = vec![
        ("nonNegative".to_string(), Value::Bool(true), a.span),
        ("keepFirst".to_string(), Value::Bool(true), a.span),
        ("initialZero".to_string(), Value::Bool(true), a.span),
    ];
    if let Some(c) = &cols {
        dargs.push(("columns".to_string(), c.clone(), a.span));
    }
    let diffed = difference(
        it,
        Args {
            name: a.name.clone(),
            span: a.span,
            values: dargs,
            pipe: a.pipe.clone(),
        },
    )?;
    let mut cargs = Vec::new();
    if let Some(c) = cols {
        cargs.push(("columns".to_string(), c, a.span));
    }
    cumulative_sum(
        it,
        Args {
            name: a.name.clone(),
            span: a.span,
            values: cargs,
            pipe: Some(diffed),
        },
    )
}

fn reduce(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["tables"], &["fn", "identity"])?;
    let f = a.req_func("fn")?;
    let identity = a.get("identity").cloned().unwrap_or(Value::Null);
    let Value::Record(_) = identity else {
        return Err(a.type_err("identity", "{A with ...}", &identity));
    };
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        let mut acc = identity.clone();
        it.budget.steps(t.rows.len() as u64)?;
        for r in &t.rows {
            let rec = row_record(t, r);
            acc = match it.call_value(
                &Value::Func(f.clone()),
                vec![
                    ("r".into(), rec, a.span),
                    ("accumulator".into(), acc, a.span),
                ],
                None,
                a.span,
                "fn",
            ) {
                Ok(v @ Value::Record(_)) => v,
                Ok(other) => {
                    return Err(
                        a.runtime(format!("expected record but found {}", other.type_name()))
                    )
                }
                Err(e) => return Err(a.runtime(e.message)),
            };
        }
        let Value::Record(fields) = acc else { continue };
        let mut columns: Vec<Column> = t
            .key
            .cols
            .iter()
            .filter(|c| !fields.iter().any(|(k, _)| k == &c.label))
            .cloned()
            .collect();
        let mut row: Vec<Val> = columns
            .iter()
            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect();
        let mut key = GroupKey::default();
        for c in &columns {
            key.cols.push(c.clone());
            key.values
                .push(t.key_value(&c.label).cloned().unwrap_or(Val::Null));
        }
        let mut sorted: Vec<&(String, Value)> = fields.iter().collect();
        sorted.sort_by(|x, y| x.0.as_bytes().cmp(y.0.as_bytes()));
        for (k, v) in sorted {
            let cell = v.to_val().unwrap_or(Val::Null);
            let ty = cell.col_type().unwrap_or(ColType::String);
            columns.push(Column::new(k.clone(), ty));
            if t.is_key(k) {
                key.cols.push(Column::new(k.clone(), ty));
                key.values.push(cell.clone());
            }
            row.push(cell);
        }
        out_tables.push(Table {
            columns,
            key,
            rows: vec![row],
        });
    }
    out(it, &a, out_tables, Order::Sorted)
}

/// `toString()` and friends: `map(fn: (r) => ({r with _value: T(v: r._value)}))`.
fn to_type(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    a.check(&["tables"], &[])?;
    let conv = match name {
        "toBool" => "bool",
        "toFloat" => "float",
        "toInt" => "int",
        "toString" => "string",
        "toTime" => "time",
        _ => "uint",
    };
    let (_, tables) = a.arrived(it)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        if t.rows.is_empty() {
            continue;
        }
        let Some(vi) = t.col("_value") else {
            return Err(a.runtime(format!(
                "failed to evaluate map function: error calling function \"{conv}\": missing argument \"v\""
            )));
        };
        let mut nt = t.clone();
        let mut ty = None;
        it.budget.steps(t.rows.len() as u64)?;
        for r in &mut nt.rows {
            let v = convert::convert(conv, &Value::from_val(&r[vi]))
                .map_err(|m| a.runtime(format!("failed to evaluate map function: {m}")))?;
            let cell = v.to_val().unwrap_or(Val::Null);
            if ty.is_none() {
                ty = cell.col_type();
            }
            r[vi] = cell;
        }
        nt.columns[vi].ty = ty.unwrap_or(match conv {
            "bool" => ColType::Bool,
            "float" => ColType::Double,
            "int" => ColType::Long,
            "string" => ColType::String,
            "time" => ColType::Time,
            _ => ColType::ULong,
        });
        out_tables.push(nt);
    }
    // As `map`: columns sorted by label.
    let sorted: Vec<Table> = out_tables
        .into_iter()
        .map(|t| {
            let mut order: Vec<usize> = (0..t.columns.len()).collect();
            order.sort_by(|&x, &y| {
                t.columns[x]
                    .label
                    .as_bytes()
                    .cmp(t.columns[y].label.as_bytes())
            });
            let columns: Vec<Column> = order.iter().map(|&i| t.columns[i].clone()).collect();
            let rows = t
                .rows
                .iter()
                .map(|r| order.iter().map(|&i| r[i].clone()).collect())
                .collect();
            let mut key = GroupKey::default();
            for c in &columns {
                if let Some(v) = t.key_value(&c.label) {
                    key.cols.push(c.clone());
                    key.values.push(v.clone());
                }
            }
            Table { columns, key, rows }
        })
        .collect();
    out(it, &a, sorted, Order::Group)
}

/// A `from()` stream not bounded by `range` yet: the planner's check (`from.go`,
/// `PostPhysicalValidate`), so the message carries the planning stage and no position.
pub fn unbounded(name: &str) -> FluxError {
    FluxError::invalid(format!(
        "{}cannot submit unbounded read to {}; try bounding 'from' with a call to 'range'",
        crate::query::stage::PLAN,
        crate::model::go_text::quote_str(name)
    ))
    .wrapped()
}

/// `range` over no time (`stop <= start`): checked when the range's procedure is planned
/// (`universe/range.go`, `newRangeProcedure`).
pub fn empty_range() -> FluxError {
    FluxError::invalid(format!(
        "{}cannot query an empty range",
        crate::query::stage::PLAN
    ))
    .wrapped()
}
