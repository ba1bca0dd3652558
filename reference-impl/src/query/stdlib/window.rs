//! `window` (`stdlib/universe/window.go`, windows from `interval/window.go`) and
//! `aggregateWindow` (Flux: `window |> fn |> _fillEmpty |> duplicate |> window(every: inf)`),
//! with the shapes InfluxDB 2.7 gives their optimised forms: over a storage read an
//! aggregate is computed in storage (`storage/flux/reader.go`: `_start`, `_stop`, [`_time`],
//! `_value`, tags); `aggregateWindow` with `count`, `sum` or `mean` elsewhere runs as
//! Flux's `aggregateWindow` transformation (`_time`, the key, `_value`).

use super::misc::add_duration;
use super::shape::{out, Order};
use crate::query::ast::Duration;
use crate::query::interp::{Args, Interp, R};
use crate::query::table::{ColType, Column, GroupKey, Table, Val};
use crate::query::value::{Func, Pushdown, Value};
use crate::query::FluxError;

/// A window: starts at epoch + offset + every × index, each `period` long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSpec {
    pub every: Duration,
    pub period: Duration,
    pub offset: Duration,
}

/// `every: inf`.
pub fn is_inf(d: Duration) -> bool {
    d.months == 0 && d.nanos == i64::MAX
}

fn mul(d: Duration, n: i64) -> Duration {
    Duration {
        months: d.months.wrapping_mul(n),
        nanos: d.nanos.wrapping_mul(n),
    }
}

fn months_since_epoch(t: i64) -> i64 {
    let days = t.div_euclid(crate::model::time::NANOS_PER_DAY);
    let (y, m, _) = crate::model::time::civil_from_days(days);
    (y - 1970) * 12 + (m - 1)
}

impl WindowSpec {
    fn zero(&self) -> i64 {
        add_duration(0, self.offset)
    }

    fn bounds_at(&self, index: i64) -> (i64, i64) {
        let start = add_duration(self.zero(), mul(self.every, index));
        let stop = add_duration(start, self.period);
        if self.period.is_negative() {
            (stop, start)
        } else {
            (start, stop)
        }
    }

    /// `lastIndex`: the largest index whose window starts at or before `t`.
    fn last_index(&self, t: i64) -> i64 {
        let zero = self.zero();
        let (z, target, every) = if self.every.nanos == 0 && self.every.months != 0 {
            let mut target = months_since_epoch(t);
            // Before the zero's day and time within the month: the previous month.
            let within = |x: i64| {
                let days = x.div_euclid(crate::model::time::NANOS_PER_DAY);
                let (_, _, d) = crate::model::time::civil_from_days(days);
                (d, x.rem_euclid(crate::model::time::NANOS_PER_DAY))
            };
            if within(t) < within(zero) {
                target -= 1;
            }
            (months_since_epoch(zero), target, self.every.months)
        } else {
            (zero, t, self.every.nanos)
        };
        let delta = target.wrapping_sub(z);
        let mut index = delta / every;
        if delta < 0 && delta % every != 0 {
            index -= 1;
        }
        index
    }

    /// The windows overlapping `[start, stop)`, earliest first.
    pub fn overlapping(&self, start: i64, stop: i64, cap: usize) -> Result<Vec<(i64, i64)>, ()> {
        if stop <= start {
            return Ok(Vec::new());
        }
        let mut index = self.last_index(stop);
        let mut out = Vec::new();
        loop {
            let (s, e) = self.bounds_at(index);
            if e <= start {
                break;
            }
            // Here `e > start`: the window overlaps when it starts before `stop`.
            let overlaps = s < stop;
            if overlaps {
                out.push((s, e));
                if out.len() > cap {
                    return Err(());
                }
            }
            index -= 1;
            if index < -(1 << 62) {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }
}

fn intersect(w: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    let overlaps = w.0 <= b.0 && b.0 < w.1 || w.0 < b.1 && b.1 <= w.1 || w.0 < b.1 && b.0 <= w.0;
    if !overlaps {
        return w;
    }
    (w.0.max(b.0), w.1.min(b.1))
}

pub fn call(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let started = it.host.clock.now_nanos();
    let input = a.pipe.clone();
    let v = if name == "window" {
        window(it, a)
    } else {
        aggregate_window(it, a)
    }?;
    if let Some(i) = &input {
        it.record_op(
            if name == "window" {
                "window"
            } else {
                "aggregateWindow"
            },
            &v,
            &[i],
            started,
        );
    }
    Ok(v)
}

/// The window arguments as `window` reads them (every defaults to period and vice versa).
fn window_spec(a: &Args, it: &Interp<'_>) -> R<(WindowSpec, bool)> {
    let every = a.duration("every")?.unwrap_or_default();
    let period = a.duration("period")?.unwrap_or_default();
    let offset = a.duration("offset")?.unwrap_or_default();
    if let Some(loc) = a.get("location") {
        let zone = loc.field("zone").cloned();
        let off = loc.field("offset").cloned();
        let utc = matches!(&zone, Some(Value::Str(z)) if &**z == "UTC")
            && matches!(
                off,
                None | Some(Value::Duration(Duration {
                    months: 0,
                    nanos: 0
                }))
            );
        if !utc {
            return Err(
                a.err("window locations other than UTC are not supported by influx-reference")
            );
        }
    }
    let _ = it;
    if every.is_zero() && period.is_zero() {
        return Err(a.err(
            "window function requires at least one of \"every\" or \"period\" to be set and non-zero",
        ));
    }
    let every = if every.is_zero() { period } else { every };
    let period = if period.is_zero() { every } else { period };
    if every.months != 0 && every.nanos != 0 {
        return Err(a.err("duration used as an interval cannot mix month and nanosecond units"));
    }
    if every.is_negative() {
        return Err(a.err("duration used as an interval cannot be negative"));
    }
    let pushable = every == period && !every.is_negative() && !offset.is_negative();
    Ok((
        WindowSpec {
            every,
            period,
            offset,
        },
        pushable,
    ))
}

/// The most windows one table may be split into before the budget is asked (so a 1ns window
/// over years cannot run away between checks).
const WINDOW_CHUNK: usize = 4096;

/// Each window's rows, by index, in input order.
type RowsByWindow = std::collections::BTreeMap<(i64, i64), Vec<usize>>;

/// Bytes one generated window holds while windows are listed (its bounds).
const WINDOW_BYTES: u64 = 16;

/// Every window of `w` overlapping `bounds`, earliest first, listed in chunks: each chunk is
/// charged to `res` and to the step budget, so a 1ns window over decades ends with the
/// memory allocator's error (or the timeout) instead of running away.
fn all_windows(
    it: &Interp<'_>,
    w: &WindowSpec,
    bounds: (i64, i64),
    res: &crate::query::budget::Reservation,
) -> R<Vec<(i64, i64)>> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    if bounds.1 <= bounds.0 {
        return Ok(out);
    }
    if is_inf(w.every) {
        return Ok(vec![(i64::MIN, i64::MAX)]);
    }
    // The first window overlapping the start, then forward index by index.
    let mut index = w.last_index(bounds.0);
    loop {
        let (_, e) = w.bounds_at(index - 1);
        if e <= bounds.0 || index < -(1 << 62) {
            break;
        }
        index -= 1;
    }
    loop {
        let mut chunk = 0usize;
        while chunk < WINDOW_CHUNK {
            let (s, e) = w.bounds_at(index);
            if s >= bounds.1 {
                return Ok(out);
            }
            if e > bounds.0 {
                out.push((s, e));
                chunk += 1;
            }
            index += 1;
            if index > (1 << 62) {
                return Ok(out);
            }
        }
        it.budget.steps(chunk as u64)?;
        res.grow(chunk as u64 * WINDOW_BYTES)
            .map_err(crate::query::FluxError::from)?;
    }
}

/// The windows holding each row's time (`rows` as `(time, value)`), and for each window the
/// indices of its rows in input order.
fn row_windows(
    w: &WindowSpec,
    times: impl Iterator<Item = i64>,
) -> std::collections::BTreeMap<(i64, i64), Vec<usize>> {
    let mut map: std::collections::BTreeMap<(i64, i64), Vec<usize>> = Default::default();
    for (i, x) in times.enumerate() {
        for b in w
            .overlapping(x, x.saturating_add(1), 1 << 20)
            .unwrap_or_default()
        {
            map.entry(b).or_default().push(i);
        }
    }
    map
}

/// Splits `t` into windows; with `create_empty`, every window of `bounds` (clipped) gets a
/// table even without rows.
fn window_table(
    it: &mut Interp<'_>,
    a: &Args,
    t: &Table,
    w: &WindowSpec,
    bounds: (i64, i64),
    create_empty: bool,
    cols: (&str, &str, &str),
) -> R<Vec<Table>> {
    let (time_col, start_col, stop_col) = cols;
    let ti = t
        .col(time_col)
        .ok_or_else(|| a.runtime(format!("missing time column {time_col:?}")))?;
    // Output columns: the input's, `_start`/`_stop` added when missing; the key: the input's
    // key columns and the start and stop columns, in column order.
    let mut columns = t.columns.clone();
    if !columns.iter().any(|c| c.label == start_col) {
        columns.push(Column::new(start_col, ColType::Time));
    }
    if !columns.iter().any(|c| c.label == stop_col) {
        columns.push(Column::new(stop_col, ColType::Time));
    }
    let si = columns
        .iter()
        .position(|c| c.label == start_col)
        .unwrap_or(0);
    let pi = columns
        .iter()
        .position(|c| c.label == stop_col)
        .unwrap_or(0);
    let key_for = |b: (i64, i64)| {
        let mut key = GroupKey::default();
        for c in &columns {
            if c.label == start_col {
                key.cols.push(c.clone());
                key.values.push(Val::Time(b.0));
            } else if c.label == stop_col {
                key.cols.push(c.clone());
                key.values.push(Val::Time(b.1));
            } else if let Some(v) = t.key_value(&c.label) {
                key.cols.push(c.clone());
                key.values.push(v.clone());
            }
        }
        key
    };
    let mut tables: Vec<Table> = Vec::new();
    let mut index: std::collections::HashMap<(i64, i64), usize> = Default::default();
    let mut find = |tables: &mut Vec<Table>, b: (i64, i64)| -> usize {
        *index.entry(b).or_insert_with(|| {
            tables.push(Table::new(columns.clone(), key_for(b)));
            tables.len() - 1
        })
    };
    if bounds.1 <= bounds.0 {
        return Ok(tables);
    }
    let res = it
        .budget
        .reserve(0)
        .map_err(crate::query::FluxError::from)?;
    if create_empty && is_inf(w.every) {
        // `generateWindowsWithinBounds`: the one infinite window is not clipped.
        find(&mut tables, (i64::MIN, i64::MAX));
    } else if create_empty {
        let ws = all_windows(it, w, bounds, &res)?;
        // Each empty table: its key and columns.
        let per_table = 64 + 48 * columns.len() as u64;
        for chunk in ws.chunks(WINDOW_CHUNK) {
            res.grow(chunk.len() as u64 * per_table)
                .map_err(crate::query::FluxError::from)?;
            for b in chunk {
                find(&mut tables, intersect(*b, bounds));
            }
        }
    }
    it.budget.steps(t.rows.len() as u64)?;
    let source: Vec<Option<usize>> = columns.iter().map(|c| t.col(&c.label)).collect();
    let row_bytes = 24 + 32 * columns.len() as u64;
    for r in &t.rows {
        let Val::Time(x) = r[ti] else { continue };
        let ws = if is_inf(w.every) {
            vec![bounds]
        } else {
            let ws = w
                .overlapping(x, x.saturating_add(1), 1 << 20)
                .unwrap_or_default();
            ws.into_iter().map(|b| intersect(b, bounds)).collect()
        };
        // A row is copied into every window it falls in.
        res.grow(row_bytes * ws.len() as u64)
            .map_err(crate::query::FluxError::from)?;
        it.budget.steps(ws.len() as u64)?;
        for b in ws {
            let p = find(&mut tables, b);
            let mut row = Vec::with_capacity(columns.len());
            for (j, src) in source.iter().enumerate() {
                if j == si {
                    row.push(Val::Time(b.0));
                } else if j == pi {
                    row.push(Val::Time(b.1));
                } else {
                    row.push(src.map_or(Val::Null, |k| r[k].clone()));
                }
            }
            tables[p].rows.push(row);
        }
    }
    Ok(tables)
}

fn window(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(
        &[
            "every",
            "period",
            "offset",
            "location",
            "timeColumn",
            "startColumn",
            "stopColumn",
            "createEmpty",
            "tables",
        ],
        &[],
    )?;
    let (w, pushable) = window_spec(&a, it)?;
    let time_col = a.string("timeColumn")?.unwrap_or_else(|| "_time".into());
    let start_col = a.string("startColumn")?.unwrap_or_else(|| "_start".into());
    let stop_col = a.string("stopColumn")?.unwrap_or_else(|| "_stop".into());
    let create_empty = a.bool("createEmpty", false)?;
    let s = a.stream()?;
    let bounds = s.bounds.get().ok_or_else(|| {
        FluxError::invalid("nil bounds passed to window; use range to set the window range")
            .wrapped()
    })?;
    let from_storage = matches!(&*s.pushdown.borrow(), Some(Pushdown::Read)) && !s.shared.get();
    let tables = it.ordered(&s)?;
    let mut out_tables = Vec::new();
    for t in tables.iter() {
        out_tables.extend(window_table(
            it,
            &a,
            t,
            &w,
            bounds,
            create_empty,
            (&time_col, &start_col, &stop_col),
        )?);
    }
    let v = out(it, &a, out_tables, Order::Sorted)?;
    if let Value::Stream(o) = &v {
        o.bounds.set(Some(bounds));
        let default_cols = time_col == "_time" && start_col == "_start" && stop_col == "_stop";
        if from_storage && pushable && default_cols && !is_inf(w.every) {
            *o.pushdown.borrow_mut() = Some(Pushdown::Window {
                input: tables,
                window: w,
                create_empty,
            });
        }
    }
    Ok(v)
}

/// `table.fill()`: an empty table gets one row of its key values and nulls.
fn fill_empty(t: &mut Table) {
    if t.rows.is_empty() {
        let row = t.key_row();
        t.rows.push(row);
    }
}

/// Which builtin aggregate or selector `fn` is, if it is one of those storage or Flux's
/// `aggregateWindow` transformation compute.
fn builtin_name(f: &Value) -> Option<&'static str> {
    match f {
        Value::Func(f) => match f.as_ref() {
            Func::Builtin { pkg: "", name } => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// Reduces the rows of one window for a builtin aggregate or selector, as storage does:
/// `(time, value)` of the chosen row for selectors, the aggregate for the others.
fn reduce_window(kind: &str, rows: &[(i64, Val)], ty: ColType) -> (Option<i64>, Val, ColType) {
    let non_null: Vec<&(i64, Val)> = rows.iter().filter(|(_, v)| !v.is_null()).collect();
    match kind {
        "count" => (None, Val::Long(rows.len() as i64), ColType::Long),
        "sum" => {
            if non_null.is_empty() {
                return (None, Val::Null, ty);
            }
            let v = match ty {
                ColType::Long => Val::Long(non_null.iter().fold(0i64, |s, (_, v)| match v {
                    Val::Long(x) => s.wrapping_add(*x),
                    _ => s,
                })),
                ColType::ULong => Val::ULong(non_null.iter().fold(0u64, |s, (_, v)| match v {
                    Val::ULong(x) => s.wrapping_add(*x),
                    _ => s,
                })),
                _ => Val::Double(
                    non_null
                        .iter()
                        .fold(0.0, |s, (_, v)| s + v.as_f64().unwrap_or(0.0)),
                ),
            };
            (None, v, ty)
        }
        "mean" => {
            if non_null.is_empty() {
                return (None, Val::Null, ColType::Double);
            }
            let sum = match ty {
                ColType::Long => non_null.iter().fold(0i64, |s, (_, v)| match v {
                    Val::Long(x) => s.wrapping_add(*x),
                    _ => s,
                }) as f64,
                ColType::ULong => non_null.iter().fold(0u64, |s, (_, v)| match v {
                    Val::ULong(x) => s.wrapping_add(*x),
                    _ => s,
                }) as f64,
                _ => non_null
                    .iter()
                    .fold(0.0, |s, (_, v)| s + v.as_f64().unwrap_or(0.0)),
            };
            (
                None,
                Val::Double(sum / non_null.len() as f64),
                ColType::Double,
            )
        }
        "first" => non_null
            .first()
            .map_or((None, Val::Null, ty), |(t, v)| (Some(*t), v.clone(), ty)),
        "last" => non_null
            .last()
            .map_or((None, Val::Null, ty), |(t, v)| (Some(*t), v.clone(), ty)),
        _ => {
            let mut best: Option<&(i64, Val)> = None;
            for r in non_null {
                let better = match best {
                    None => true,
                    Some(b) => {
                        let o = match (&r.1, &b.1) {
                            (Val::Double(x), Val::Double(y)) => x.partial_cmp(y),
                            (x, y) => Some(x.compare(y)),
                        };
                        if kind == "min" {
                            o == Some(std::cmp::Ordering::Less)
                        } else {
                            o == Some(std::cmp::Ordering::Greater)
                        }
                    }
                };
                if better {
                    best = Some(r);
                }
            }
            best.map_or((None, Val::Null, ty), |(t, v)| (Some(*t), v.clone(), ty))
        }
    }
}

/// An aggregate over a storage read or a window of one, computed as storage computes it:
/// per series in series order, windows in time order, tables laid out `_start`, `_stop`,
/// [`_time`], `_value`, tags. `time_col`: `None` for `window |> agg` (one table per window),
/// `Some(use_start)` for `aggregateWindow` (one table per series, `_time` the window's
/// stop or start, `_start`/`_stop` the range bounds).
#[allow(clippy::too_many_arguments)]
pub fn storage_aggregate(
    it: &mut Interp<'_>,
    a: &Args,
    kind: &str,
    series: &[Table],
    window: Option<(&WindowSpec, bool)>,
    bounds: (i64, i64),
    time_col: Option<bool>,
    force_aggregate: bool,
) -> R<Vec<Table>> {
    let selector = matches!(kind, "first" | "last" | "min" | "max");
    let mut out_tables = Vec::new();
    for t in series {
        let (Some(ti), Some(vi)) = (t.col("_time"), t.col("_value")) else {
            return Err(a.runtime("column \"_value\" does not exist"));
        };
        let ty = t.columns[vi].ty;
        if matches!(kind, "sum" | "mean") && matches!(ty, ColType::Bool | ColType::String) {
            // storage/reads/array_cursor.gen.go: the storage source's error, which reaches
            // the result without a transformation's "runtime error" prefix.
            let cursor = if ty == ColType::Bool {
                "boolean"
            } else {
                "string"
            };
            return Err(FluxError::runtime(format!(
                "unsupported input type for {kind} aggregate: {cursor}"
            ))
            .wrapped());
        }
        if matches!(kind, "min" | "max") && matches!(ty, ColType::Bool | ColType::String) {
            return Err(a.runtime(format!(
                "invalid use of function: *universe.{}Selector has no implementation for type {}",
                if kind == "min" { "Min" } else { "Max" },
                ty.name()
            )));
        }
        let rows: Vec<(i64, Val)> = t
            .rows
            .iter()
            .filter_map(|r| match r[ti] {
                Val::Time(x) => Some((x, r[vi].clone())),
                _ => None,
            })
            .collect();
        it.budget.steps(rows.len() as u64)?;
        let tags: Vec<Column> = t.columns[4.min(t.columns.len())..].to_vec();
        let tag_vals: Vec<Val> = tags
            .iter()
            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect();
        // The windows: explicit, or one over the whole range; each window's rows.
        let res = it.budget.reserve(0).map_err(FluxError::from)?;
        let (windows, create_empty, by_window): (Vec<(i64, i64)>, bool, RowsByWindow) = match window
        {
            Some((w, ce)) => {
                let by_window = row_windows(w, rows.iter().map(|(x, _)| *x));
                let ws: Vec<(i64, i64)> = if ce {
                    all_windows(it, w, bounds, &res)?
                } else {
                    by_window.keys().copied().collect()
                };
                (ws, ce, by_window)
            }
            None => (
                vec![bounds],
                false,
                std::iter::once((bounds, (0..rows.len()).collect())).collect(),
            ),
        };
        let mut per_window: Vec<Table> = Vec::new();
        let mut one = Table::new(Vec::new(), GroupKey::default());
        let out_row_bytes = 24 + 32 * (4 + tags.len() as u64);
        for (wi, raw) in windows.iter().enumerate() {
            if wi % WINDOW_CHUNK == 0 {
                it.budget.steps(WINDOW_CHUNK as u64)?;
                res.grow(WINDOW_CHUNK as u64 * (out_row_bytes + 64))
                    .map_err(FluxError::from)?;
            }
            let b = &if window.is_some() {
                intersect(*raw, bounds)
            } else {
                *raw
            };
            let members: Vec<(i64, Val)> = by_window
                .get(raw)
                .map(|idx| idx.iter().map(|&i| rows[i].clone()).collect())
                .unwrap_or_default();
            let empty = members.is_empty();
            if empty && !create_empty && kind != "count" && window.is_some() {
                continue;
            }
            if empty && !create_empty && window.is_some() {
                continue;
            }
            let (chosen_time, value, oty) = reduce_window(kind, &members, ty);
            let has_time = time_col.is_some() || (selector && !force_aggregate);
            let (ks, kp) = match time_col {
                Some(_) => bounds,
                None => *b,
            };
            // A window's table: made for every window without `time_col`, once per series
            // with it (where every window is a row of one table).
            let table = || {
                let mut columns = vec![
                    Column::new("_start", ColType::Time),
                    Column::new("_stop", ColType::Time),
                ];
                if has_time {
                    columns.push(Column::new("_time", ColType::Time));
                }
                columns.push(Column::new("_value", oty));
                columns.extend(tags.iter().cloned());
                let mut key = GroupKey::new(
                    vec![
                        Column::new("_start", ColType::Time),
                        Column::new("_stop", ColType::Time),
                    ],
                    vec![Val::Time(ks), Val::Time(kp)],
                );
                for (c, v) in tags.iter().zip(&tag_vals) {
                    key.cols.push(c.clone());
                    key.values.push(v.clone());
                }
                Table::new(columns, key)
            };
            let selector_empty = selector && !force_aggregate && chosen_time.is_none();
            let mut row = vec![Val::Time(ks), Val::Time(kp)];
            if has_time {
                row.push(match time_col {
                    Some(true) => Val::Time(b.0),
                    Some(false) => Val::Time(b.1),
                    None => chosen_time.map_or(Val::Null, Val::Time),
                });
            }
            row.push(value);
            row.extend(tag_vals.iter().cloned());
            match time_col {
                Some(_) => {
                    if one.columns.is_empty() {
                        one = table();
                    }
                    if !selector_empty || create_empty {
                        one.rows.push(row);
                    }
                }
                None => {
                    let mut nt = table();
                    if !selector_empty {
                        nt.rows.push(row);
                    }
                    per_window.push(nt);
                }
            }
        }
        match time_col {
            Some(_) => {
                if !one.columns.is_empty() && !one.rows.is_empty() {
                    out_tables.push(one);
                }
            }
            None => out_tables.extend(per_window),
        }
    }
    Ok(out_tables)
}

fn aggregate_window(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(
        &[
            "period",
            "offset",
            "location",
            "column",
            "timeSrc",
            "timeDst",
            "createEmpty",
            "tables",
        ],
        &["every", "fn"],
    )?;
    let (w, pushable) = window_spec(&a, it)?;
    let f = a.get("fn").cloned().ok_or_else(|| a.missing("fn"))?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let time_src = a.string("timeSrc")?.unwrap_or_else(|| "_stop".into());
    let time_dst = a.string("timeDst")?.unwrap_or_else(|| "_time".into());
    let create_empty = a.bool("createEmpty", true)?;
    let s = a.stream()?;
    let bounds = s.bounds.get().ok_or_else(|| {
        FluxError::invalid("nil bounds passed to window; use range to set the window range")
            .wrapped()
    })?;
    let kind = builtin_name(&f);
    let from_storage = matches!(&*s.pushdown.borrow(), Some(Pushdown::Read)) && !s.shared.get();
    let use_start = match time_src.as_str() {
        "_start" => Some(true),
        "_stop" => Some(false),
        _ => None,
    };
    // InfluxDB computes it in storage.
    if let (true, true, Some(k), Some(use_start), true) = (
        from_storage,
        pushable,
        kind,
        use_start,
        column == "_value" && time_dst == "_time",
    ) {
        if matches!(
            k,
            "count" | "sum" | "mean" | "min" | "max" | "first" | "last"
        ) {
            let series = it.storage_tables(&s)?;
            let tables = storage_aggregate(
                it,
                &a,
                k,
                &series,
                Some((&w, create_empty)),
                bounds,
                Some(use_start),
                create_empty,
            )?;
            let v = out(it, &a, tables, Order::Keep(false))?;
            if let Value::Stream(o) = &v {
                o.bounds.set(Some(bounds));
            }
            return Ok(v);
        }
    }
    // Flux's `aggregateWindow` transformation for count, sum and mean: `_time`, the key
    // (`_start`/`_stop` the range bounds), the column.
    if let (Some(k @ ("count" | "sum" | "mean")), Some(use_start), true) =
        (kind, use_start, time_dst == "_time")
    {
        let tables = it.tables(&s)?;
        let unsorted = s.unsorted.get();
        let mut out_tables = Vec::new();
        for t in tables.iter() {
            let ti = t
                .col("_time")
                .ok_or_else(|| a.runtime("no time column: _time"))?;
            let vi = t
                .col(&column)
                .ok_or_else(|| a.runtime(format!("column {column:?} does not exist")))?;
            if t.is_key(&column) {
                return Err(a.runtime("cannot aggregate columns that are part of the group key"));
            }
            let ty = t.columns[vi].ty;
            if k != "count" && matches!(ty, ColType::Bool | ColType::String | ColType::Time) {
                return Err(a.runtime(format!("unsupported aggregate column type {}", ty.name())));
            }
            let rows: Vec<(i64, Val)> = t
                .rows
                .iter()
                .filter_map(|r| match r[ti] {
                    Val::Time(x) => Some((x, r[vi].clone())),
                    _ => None,
                })
                .collect();
            let res = it.budget.reserve(0).map_err(FluxError::from)?;
            let by_window = row_windows(&w, rows.iter().map(|(x, _)| *x));
            let windows: Vec<(i64, i64)> = if create_empty {
                all_windows(it, &w, bounds, &res)?
            } else {
                by_window.keys().copied().collect()
            };
            // The key with `_start`/`_stop` set to the range bounds (added when missing).
            let mut key = t.key.clone();
            for (label, v) in [("_start", bounds.0), ("_stop", bounds.1)] {
                match key.index(label) {
                    Some(i) => {
                        key.cols[i].ty = ColType::Time;
                        key.values[i] = Val::Time(v);
                    }
                    None => {
                        key.cols.push(Column::new(label, ColType::Time));
                        key.values.push(Val::Time(v));
                    }
                }
            }
            let mut columns = vec![Column::new("_time", ColType::Time)];
            columns.extend(key.cols.iter().cloned());
            let oty = match k {
                "count" => ColType::Long,
                "mean" => ColType::Double,
                _ => ty,
            };
            columns.push(Column::new(column.clone(), oty));
            let mut nt = Table::new(columns, key.clone());
            let row_bytes = 24 + 32 * (2 + key.len() as u64);
            for (wi, b) in windows.iter().enumerate() {
                if wi % WINDOW_CHUNK == 0 {
                    it.budget.steps(WINDOW_CHUNK as u64)?;
                    res.grow(WINDOW_CHUNK as u64 * row_bytes)
                        .map_err(FluxError::from)?;
                }
                let cb = intersect(*b, bounds);
                let members: Vec<(i64, Val)> = by_window
                    .get(b)
                    .map(|idx| idx.iter().map(|&i| rows[i].clone()).collect())
                    .unwrap_or_default();
                if members.is_empty() && !create_empty {
                    continue;
                }
                let (_, value, _) = reduce_window(k, &members, ty);
                let mut row = vec![Val::Time(if use_start { cb.0 } else { cb.1 })];
                row.extend(key.values.iter().cloned());
                row.push(value);
                nt.rows.push(row);
            }
            out_tables.push(nt);
        }
        let v = out(it, &a, out_tables, Order::Keep(unsorted))?;
        if let Value::Stream(o) = &v {
            o.bounds.set(Some(bounds));
        }
        return Ok(v);
    }
    // The Flux definition, step by step.
    let span = a.span;
    let mut wargs = vec![
        ("every".to_string(), Value::Duration(w.every), span),
        ("period".to_string(), Value::Duration(w.period), span),
        ("offset".to_string(), Value::Duration(w.offset), span),
        ("createEmpty".to_string(), Value::Bool(create_empty), span),
    ];
    if let Some(loc) = a.get("location") {
        wargs.push(("location".to_string(), loc.clone(), span));
    }
    let windowed = window(
        it,
        Args {
            name: a.name.clone(),
            span,
            values: wargs,
            pipe: Some(Value::Stream(s.clone())),
        },
    )?;
    let reduced = it.call_value(
        &f,
        vec![("column".to_string(), Value::str(&column), span)],
        Some(windowed),
        span,
        "fn",
    )?;
    let Value::Stream(rs) = &reduced else {
        return Err(a.err(format!(
            "expected stream[A] but found {} (argument fn)",
            reduced.type_name()
        )));
    };
    let mut tables: Vec<Table> = (*it.ordered(rs)?).clone();
    if create_empty {
        for t in &mut tables {
            fill_empty(t);
        }
    }
    // duplicate(column: timeSrc, as: timeDst)
    for t in &mut tables {
        let Some(from) = t.col(&time_src) else {
            return Err(a.runtime(format!(
                "duplicate error: column \"{time_src}\" doesn't exist"
            )));
        };
        let col = Column::new(time_dst.clone(), t.columns[from].ty);
        match t.col(&time_dst) {
            Some(i) => {
                t.columns[i] = col;
                for r in &mut t.rows {
                    r[i] = r[from].clone();
                }
                if let Some(ki) = t.key.index(&time_dst) {
                    t.key.cols.remove(ki);
                    t.key.values.remove(ki);
                }
            }
            None => {
                t.columns.push(col);
                for r in &mut t.rows {
                    let v = r[from].clone();
                    r.push(v);
                }
            }
        }
    }
    tables = super::shape::merge_by_key(tables, true).map_err(|m| a.runtime(m))?;
    // window(every: inf, timeColumn: timeDst)
    let inf = WindowSpec {
        every: Duration::nanos(i64::MAX),
        period: Duration::nanos(i64::MAX),
        offset: Duration::default(),
    };
    let mut out_tables = Vec::new();
    for t in &tables {
        out_tables.extend(window_table(
            it,
            &a,
            t,
            &inf,
            bounds,
            false,
            (&time_dst, "_start", "_stop"),
        )?);
    }
    let v = out(it, &a, out_tables, Order::Sorted)?;
    if let Value::Stream(o) = &v {
        o.bounds.set(Some(bounds));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_interval_window() {
        let s = 1_000_000_000;
        let w = WindowSpec {
            every: Duration::nanos(3 * s),
            period: Duration::nanos(3 * s),
            offset: Duration::default(),
        };
        assert_eq!(
            w.overlapping(5 * s, 20 * s, 100).unwrap(),
            vec![
                (3 * s, 6 * s),
                (6 * s, 9 * s),
                (9 * s, 12 * s),
                (12 * s, 15 * s),
                (15 * s, 18 * s),
                (18 * s, 21 * s)
            ]
        );
        let off = WindowSpec {
            offset: Duration::nanos(2 * s),
            ..w
        };
        assert_eq!(
            off.overlapping(5 * s, 6 * s, 10).unwrap(),
            vec![(5 * s, 8 * s)]
        );
        assert_eq!(intersect((3 * s, 6 * s), (5 * s, 20 * s)), (5 * s, 6 * s));
        let months = WindowSpec {
            every: Duration {
                months: 1,
                nanos: 0,
            },
            period: Duration {
                months: 1,
                nanos: 0,
            },
            offset: Duration::default(),
        };
        // 2024-02-10 → [2024-02-01, 2024-03-01).
        let t = 1_707_523_200 * s;
        assert_eq!(
            months.overlapping(t, t + 1, 10).unwrap(),
            vec![(1_706_745_600 * s, 1_709_251_200 * s)]
        );
    }
}
