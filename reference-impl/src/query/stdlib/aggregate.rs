//! Aggregates and selectors: `count`, `sum`, `mean`, `spread`, `stddev`, `median`,
//! `quantile` (one row per table: the group-key columns, in key order, then the column;
//! `execute/aggregate.go`), and `first`, `last`, `min`, `max`, `top`, `bottom`, `unique`,
//! `distinct`, `sample` (rows selected whole). `quantile`'s default method estimates with a
//! t-digest of compression 1000, as Flux does (`github.com/influxdata/tdigest`).

use super::shape::{out, Order};
use super::window::storage_aggregate;
use crate::query::interp::{Args, Interp, R};
use crate::query::table::{ColType, Column, Table, Val};
use crate::query::value::Pushdown;
use crate::query::value::Value;
use crate::query::FluxError;

pub fn call(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let started = it.host.clock.now_nanos();
    let input = a.pipe.clone();
    let kind: &'static str = match name {
        "count" => "count",
        "sum" => "sum",
        "mean" => "mean",
        "min" => "min",
        "max" => "max",
        "first" => "first",
        "last" => "last",
        _ => "transformation",
    };
    let v = match name {
        "count" | "sum" | "mean" | "spread" | "stddev" => simple(it, name, a),
        "median" => quantile(it, a, Some(0.5)),
        "quantile" => quantile(it, a, None),
        "first" | "last" | "min" | "max" => selector(it, name, a),
        "top" | "bottom" => top_bottom(it, name == "top", a),
        "unique" => unique(it, a),
        "distinct" => distinct(it, a),
        "sample" => sample(it, a),
        _ => Err(FluxError::invalid(format!("unknown aggregate {name}"))),
    }?;
    if let Some(i) = &input {
        it.record_op(kind, &v, &[i], started);
    }
    Ok(v)
}

/// The output of a one-row aggregate: key columns in key order, then `column`.
fn aggregate_row(t: &Table, column: &str, ty: ColType, value: Val) -> Table {
    let mut columns: Vec<Column> = t.key.cols.clone();
    let mut row: Vec<Val> = t.key.values.clone();
    columns.push(Column::new(column, ty));
    row.push(value);
    Table {
        columns,
        key: t.key.clone(),
        rows: vec![row],
    }
}

fn column_of(a: &Args, t: &Table, column: &str) -> R<usize> {
    let i = t
        .col(column)
        .ok_or_else(|| a.runtime(format!("column {column:?} does not exist")))?;
    if t.is_key(column) {
        return Err(a.runtime("cannot aggregate columns that are part of the group key"));
    }
    Ok(i)
}

fn simple(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    let allowed: &[&str] = if name == "stddev" {
        &["column", "mode", "tables"]
    } else {
        &["column", "tables"]
    };
    a.check(allowed, &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let sample = match a.string("mode")?.as_deref() {
        None | Some("sample") => true,
        Some("population") => false,
        Some(other) => {
            return Err(a.err(format!("{other:?} is not a valid standard deviation mode")))
        }
    };
    if matches!(name, "count" | "sum" | "mean") && column == "_value" {
        if let Some(v) = storage_pushdown(it, &a, name)? {
            return Ok(v);
        }
    }
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ci = column_of(&a, t, &column)?;
        let ty = t.columns[ci].ty;
        let unsupported = || a.runtime(format!("unsupported aggregate column type {}", ty.name()));
        let vals: Vec<&Val> = t.rows.iter().map(|r| &r[ci]).collect();
        it.budget.steps(vals.len() as u64)?;
        let non_null: Vec<&Val> = vals.iter().copied().filter(|v| !v.is_null()).collect();
        let (oty, value) = match name {
            "count" => (ColType::Long, Val::Long(vals.len() as i64)),
            "sum" => match ty {
                ColType::Long => (
                    ty,
                    if non_null.is_empty() {
                        Val::Null
                    } else {
                        Val::Long(non_null.iter().fold(0i64, |s, v| match v {
                            Val::Long(x) => s.wrapping_add(*x),
                            _ => s,
                        }))
                    },
                ),
                ColType::ULong => (
                    ty,
                    if non_null.is_empty() {
                        Val::Null
                    } else {
                        Val::ULong(non_null.iter().fold(0u64, |s, v| match v {
                            Val::ULong(x) => s.wrapping_add(*x),
                            _ => s,
                        }))
                    },
                ),
                ColType::Double => (
                    ty,
                    if non_null.is_empty() {
                        Val::Null
                    } else {
                        Val::Double(
                            non_null
                                .iter()
                                .fold(0.0, |s, v| s + v.as_f64().unwrap_or(0.0)),
                        )
                    },
                ),
                _ => return Err(unsupported()),
            },
            "mean" => match ty {
                ColType::Long | ColType::ULong | ColType::Double => (
                    ColType::Double,
                    if non_null.is_empty() {
                        Val::Null
                    } else {
                        let sum = match ty {
                            ColType::Long => non_null.iter().fold(0i64, |s, v| match v {
                                Val::Long(x) => s.wrapping_add(*x),
                                _ => s,
                            }) as f64,
                            ColType::ULong => non_null.iter().fold(0u64, |s, v| match v {
                                Val::ULong(x) => s.wrapping_add(*x),
                                _ => s,
                            }) as f64,
                            _ => non_null
                                .iter()
                                .fold(0.0, |s, v| s + v.as_f64().unwrap_or(0.0)),
                        };
                        Val::Double(sum / non_null.len() as f64)
                    },
                ),
                _ => return Err(unsupported()),
            },
            "spread" => match ty {
                ColType::Long | ColType::ULong | ColType::Double => {
                    let min = non_null.iter().copied().fold(None::<&Val>, |m, v| match m {
                        Some(m) if m.compare(v).is_le() => Some(m),
                        _ => Some(v),
                    });
                    let max = non_null.iter().copied().fold(None::<&Val>, |m, v| match m {
                        Some(m) if m.compare(v).is_ge() => Some(m),
                        _ => Some(v),
                    });
                    let v = match (min, max) {
                        (Some(Val::Long(x)), Some(Val::Long(y))) => Val::Long(y.wrapping_sub(*x)),
                        (Some(Val::ULong(x)), Some(Val::ULong(y))) => {
                            Val::ULong(y.wrapping_sub(*x))
                        }
                        (Some(Val::Double(x)), Some(Val::Double(y))) => Val::Double(y - x),
                        _ => Val::Null,
                    };
                    (ty, v)
                }
                _ => return Err(unsupported()),
            },
            _ => match ty {
                // stddev: Welford, as `StddevAgg`.
                ColType::Long | ColType::ULong | ColType::Double => {
                    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
                    for v in &non_null {
                        let x = v.as_f64().unwrap_or(0.0);
                        n += 1.0;
                        let delta = x - mean;
                        mean += delta / n;
                        m2 += delta * (x - mean);
                    }
                    let d = if sample { n - 1.0 } else { n };
                    let v = if n == 0.0 {
                        Val::Null
                    } else if d < 1.0 {
                        Val::Double(f64::NAN)
                    } else {
                        Val::Double((m2 / d).sqrt())
                    };
                    (ColType::Double, v)
                }
                _ => return Err(unsupported()),
            },
        };
        out_tables.push(aggregate_row(t, &column, oty, value));
    }
    out(it, &a, out_tables, Order::Keep(false))
}

/// A t-digest as `github.com/influxdata/tdigest` keeps one: values are buffered, then merged
/// into centroids bounded by the arcsine scale function.
struct Digest {
    compression: f64,
    max_processed: usize,
    max_unprocessed: usize,
    processed: Vec<(f64, f64)>,
    unprocessed: Vec<(f64, f64)>,
    processed_weight: f64,
    unprocessed_weight: f64,
    min: f64,
    max: f64,
}

impl Digest {
    fn new(compression: f64) -> Self {
        Self {
            compression,
            max_processed: (2.0 * compression.ceil()) as usize,
            max_unprocessed: (8.0 * compression.ceil()) as usize,
            processed: Vec::new(),
            unprocessed: Vec::new(),
            processed_weight: 0.0,
            unprocessed_weight: 0.0,
            min: f64::MAX,
            max: -f64::MAX,
        }
    }

    fn integrated_q(&self, k: f64) -> f64 {
        ((k.min(self.compression) * std::f64::consts::PI / self.compression
            - std::f64::consts::PI / 2.0)
            .sin()
            + 1.0)
            / 2.0
    }

    fn integrated_location(&self, q: f64) -> f64 {
        self.compression * ((2.0 * q - 1.0).asin() + std::f64::consts::PI / 2.0)
            / std::f64::consts::PI
    }

    fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.unprocessed.push((x, 1.0));
        self.unprocessed_weight += 1.0;
        if self.processed.len() > self.max_processed
            || self.unprocessed.len() > self.max_unprocessed
        {
            self.process();
        }
    }

    fn process(&mut self) {
        if self.unprocessed.is_empty() && self.processed.len() <= self.max_processed {
            return;
        }
        let mut all = std::mem::take(&mut self.unprocessed);
        all.append(&mut self.processed);
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        self.processed_weight += self.unprocessed_weight;
        self.unprocessed_weight = 0.0;
        let mut processed = vec![all[0]];
        let mut so_far = all[0].1;
        let mut limit = self.processed_weight * self.integrated_q(1.0);
        for &c in &all[1..] {
            let projected = so_far + c.1;
            if projected <= limit {
                so_far = projected;
                if let Some(last) = processed.last_mut() {
                    // Centroid.Add: weighted mean.
                    last.1 += c.1;
                    last.0 += c.1 * (c.0 - last.0) / last.1;
                }
            } else {
                let k1 = self.integrated_location(so_far / self.processed_weight);
                limit = self.processed_weight * self.integrated_q(k1 + 1.0);
                so_far += c.1;
                processed.push(c);
            }
        }
        self.min = self.min.min(processed[0].0);
        self.max = self.max.max(processed[processed.len() - 1].0);
        self.processed = processed;
    }

    fn quantile(&mut self, q: f64) -> f64 {
        self.process();
        let n = self.processed.len();
        if !(0.0..=1.0).contains(&q) || n == 0 {
            return f64::NAN;
        }
        if n == 1 {
            return self.processed[0].0;
        }
        let mut cumulative = Vec::with_capacity(n + 1);
        let mut prev = 0.0;
        for c in &self.processed {
            cumulative.push(prev + c.1 / 2.0);
            prev += c.1;
        }
        cumulative.push(prev);
        let index = q * self.processed_weight;
        if index <= self.processed[0].1 / 2.0 {
            return self.min + 2.0 * index / self.processed[0].1 * (self.processed[0].0 - self.min);
        }
        let lower = cumulative.partition_point(|&c| c < index);
        if lower + 1 != cumulative.len() {
            let z1 = index - cumulative[lower - 1];
            let z2 = cumulative[lower] - index;
            return weighted_average(self.processed[lower - 1].0, z2, self.processed[lower].0, z1);
        }
        let z1 = index - self.processed_weight - self.processed[lower - 1].1 / 2.0;
        let z2 = self.processed[lower - 1].1 / 2.0 - z1;
        weighted_average(self.processed[n - 1].0, z1, self.max, z2)
    }
}

fn weighted_average(x1: f64, w1: f64, x2: f64, w2: f64) -> f64 {
    let (x1, w1, x2, w2) = if x1 <= x2 {
        (x1, w1, x2, w2)
    } else {
        (x2, w2, x1, w1)
    };
    let x = (x1 * w1 + x2 * w2) / (w1 + w2);
    x1.max(x.min(x2))
}

fn quantile(it: &mut Interp<'_>, a: Args, fixed_q: Option<f64>) -> R<Value> {
    if fixed_q.is_some() {
        a.check(&["method", "compression", "column", "tables"], &[])?;
    } else {
        a.check(&["method", "compression", "column", "tables"], &["q"])?;
    }
    let q = match fixed_q {
        Some(q) => q,
        None => a.float("q")?.unwrap_or(0.0),
    };
    if !(0.0..=1.0).contains(&q) {
        return Err(a.err("quantile must be between 0 and 1"));
    }
    let method = a
        .string("method")?
        .unwrap_or_else(|| "estimate_tdigest".into());
    let mut compression = a.float("compression")?.unwrap_or(0.0);
    if compression > 0.0 && method != "estimate_tdigest" {
        return Err(a.err("compression parameter is only valid for method estimate_tdigest"));
    }
    if method == "estimate_tdigest" && compression == 0.0 {
        compression = 1000.0;
    }
    if !matches!(
        method.as_str(),
        "estimate_tdigest" | "exact_mean" | "exact_selector"
    ) {
        return Err(a.err(format!("unknown method {method}")));
    }
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        it.budget.steps(t.rows.len() as u64)?;
        if method == "exact_selector" {
            let ci = t
                .col(&column)
                .ok_or_else(|| a.runtime(format!("no column {column:?} exists")))?;
            let mut rows: Vec<&Vec<Val>> = t.rows.iter().filter(|r| !r[ci].is_null()).collect();
            rows.sort_by(|x, y| x[ci].compare(&y[ci]));
            let mut nt = Table::new(t.columns.clone(), t.key.clone());
            if rows.is_empty() {
                nt.rows.push(t.key_row());
            } else {
                let mut idx = (q * rows.len() as f64).ceil() as usize;
                idx = idx.saturating_sub(1);
                nt.rows.push(rows[idx.min(rows.len() - 1)].clone());
            }
            out_tables.push(nt);
            continue;
        }
        let ci = column_of(&a, t, &column)?;
        let ty = t.columns[ci].ty;
        if !matches!(ty, ColType::Long | ColType::ULong | ColType::Double) {
            return Err(a.runtime(format!("unsupported aggregate column type {}", ty.name())));
        }
        let vals: Vec<f64> = t.rows.iter().filter_map(|r| r[ci].as_f64()).collect();
        let value = if vals.is_empty() {
            Val::Null
        } else if method == "exact_mean" {
            let mut data = vals.clone();
            data.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
            let x = q * (data.len() - 1) as f64;
            let (x0, x1) = (x.floor(), x.ceil());
            if x0 == x1 {
                Val::Double(data[x0 as usize])
            } else {
                let (y0, y1) = (data[x0 as usize], data[x1 as usize]);
                Val::Double(y0 * (x1 - x) + y1 * (x - x0))
            }
        } else {
            let mut d = Digest::new(compression);
            for v in &vals {
                d.add(*v);
            }
            Val::Double(d.quantile(q))
        };
        out_tables.push(aggregate_row(t, &column, ColType::Double, value));
    }
    out(it, &a, out_tables, Order::Keep(false))
}

/// An aggregate or selector InfluxDB computes in storage: over a read, or a `window` of a
/// read (`PushDownBareAggregateRule`, `PushDownWindowAggregateRule`).
fn storage_pushdown(it: &mut Interp<'_>, a: &Args, kind: &str) -> R<Option<Value>> {
    let s = a.stream()?;
    if s.shared.get() {
        return Ok(None);
    }
    let pushdown = s.pushdown.borrow().clone();
    let Some(bounds) = s.bounds.get() else {
        return Ok(None);
    };
    let tables = match pushdown {
        Some(Pushdown::Read) => {
            let series = it.storage_tables(&s)?;
            storage_aggregate(it, a, kind, &series, None, bounds, None, false)?
        }
        Some(Pushdown::Window {
            input,
            window,
            create_empty,
        }) => storage_aggregate(
            it,
            a,
            kind,
            &input,
            Some((&window, create_empty)),
            bounds,
            None,
            false,
        )?,
        Some(Pushdown::Group) if kind != "mean" => {
            let groups = it.tables(&s)?;
            group_aggregate(it, kind, &groups)?
        }
        Some(Pushdown::Group) | None => return Ok(None),
    };
    let v = out(it, a, tables, Order::Keep(false))?;
    Ok(Some(v))
}

/// An aggregate over storage's groups (`PushDownGroupAggregateRule`, `ReadGroup(agg)`;
/// `storage/flux/table.gen.go` accumulators): count and sum give `_start,_stop,_value` and
/// the other key columns; a selector keeps `_time,_value` and the tags of the series it
/// chose. Ties: `first`, `min` and `max` keep the earlier series, `last` the later.
fn group_aggregate(it: &mut Interp<'_>, kind: &str, groups: &[Table]) -> R<Vec<Table>> {
    let mut out_tables = Vec::with_capacity(groups.len());
    for g in groups {
        let (Some(ti), Some(vi)) = (g.col("_time"), g.col("_value")) else {
            continue;
        };
        it.budget.steps(g.rows.len() as u64)?;
        let ty = g.columns[vi].ty;
        if matches!(kind, "count" | "sum") {
            let (oty, value) = if kind == "count" {
                (ColType::Long, Val::Long(g.rows.len() as i64))
            } else {
                match ty {
                    ColType::Long => (
                        ColType::Long,
                        Val::Long(g.rows.iter().fold(0i64, |acc, r| match r[vi] {
                            Val::Long(v) => acc.wrapping_add(v),
                            _ => acc,
                        })),
                    ),
                    ColType::ULong => (
                        ColType::ULong,
                        Val::ULong(g.rows.iter().fold(0u64, |acc, r| match r[vi] {
                            Val::ULong(v) => acc.wrapping_add(v),
                            _ => acc,
                        })),
                    ),
                    ColType::Double => (
                        ColType::Double,
                        Val::Double(g.rows.iter().fold(0f64, |acc, r| match r[vi] {
                            Val::Double(v) => acc + v,
                            _ => acc,
                        })),
                    ),
                    other => {
                        let cursor = if other == ColType::Bool {
                            "boolean"
                        } else {
                            "string"
                        };
                        return Err(FluxError::runtime(format!(
                            "unsupported input type for sum aggregate: {cursor}"
                        ))
                        .wrapped());
                    }
                }
            };
            let mut columns = vec![
                Column::new("_start", ColType::Time),
                Column::new("_stop", ColType::Time),
                Column::new("_value", oty),
            ];
            let mut row = vec![
                g.key.values.first().cloned().unwrap_or(Val::Null),
                g.key.values.get(1).cloned().unwrap_or(Val::Null),
                value,
            ];
            for (c, v) in g.key.cols.iter().zip(&g.key.values).skip(2) {
                columns.push(c.clone());
                row.push(v.clone());
            }
            let mut t = Table::new(columns, g.key.clone());
            t.rows.push(row);
            out_tables.push(t);
            continue;
        }
        if matches!(kind, "min" | "max") && matches!(ty, ColType::Bool | ColType::String) {
            // storage panics here (`newWindowMinArrayCursor`); Flux reports the panic.
            return Err(FluxError::runtime(format!(
                "panic: unsupported for aggregate {kind}: cursors.{}ArrayCursor",
                if ty == ColType::Bool {
                    "Boolean"
                } else {
                    "String"
                }
            )));
        }
        let mut best: Option<usize> = None;
        for (i, r) in g.rows.iter().enumerate() {
            let Some(b) = best else {
                best = Some(i);
                continue;
            };
            let better = match kind {
                "first" => r[ti].compare(&g.rows[b][ti]).is_lt(),
                "last" => r[ti].compare(&g.rows[b][ti]).is_ge(),
                "min" => r[vi].compare(&g.rows[b][vi]).is_lt(),
                _ => r[vi].compare(&g.rows[b][vi]).is_gt(),
            };
            if better {
                best = Some(i);
            }
        }
        let mut t = Table::new(g.columns.clone(), g.key.clone());
        if let Some(b) = best {
            t.rows.push(g.rows[b].clone());
        }
        out_tables.push(t);
    }
    Ok(out_tables)
}

fn selector(it: &mut Interp<'_>, name: &str, a: Args) -> R<Value> {
    a.check(&["column", "tables"], &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    if column == "_value" {
        if let Some(v) = storage_pushdown(it, &a, name)? {
            return Ok(v);
        }
    }
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ci = t
            .col(&column)
            .ok_or_else(|| a.runtime(format!("no column {column:?} exists")))?;
        let ty = t.columns[ci].ty;
        if matches!(name, "min" | "max") && matches!(ty, ColType::Bool | ColType::String) {
            return Err(a.runtime(format!(
                "invalid use of function: *universe.{}Selector has no implementation for type {}",
                if name == "min" { "Min" } else { "Max" },
                ty.name()
            )));
        }
        it.budget.steps(t.rows.len() as u64)?;
        let valid = t.rows.iter().enumerate().filter(|(_, r)| !r[ci].is_null());
        let chosen = match name {
            "first" => valid.map(|(i, _)| i).next(),
            "last" => valid.map(|(i, _)| i).next_back(),
            _ => {
                let mut best: Option<usize> = None;
                for (i, r) in valid {
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let o = selector_cmp(&r[ci], &t.rows[b][ci]);
                            if name == "min" {
                                o == Some(std::cmp::Ordering::Less)
                            } else {
                                o == Some(std::cmp::Ordering::Greater)
                            }
                        }
                    };
                    if better {
                        best = Some(i);
                    }
                }
                best
            }
        };
        let mut nt = Table::new(t.columns.clone(), t.key.clone());
        if let Some(i) = chosen {
            nt.rows.push(t.rows[i].clone());
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

/// `<`/`>` of Go (NaN compares false).
fn selector_cmp(a: &Val, b: &Val) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Double(x), Val::Double(y)) => x.partial_cmp(y),
        _ => Some(a.compare(b)),
    }
}

/// `top`/`bottom`: `sort(columns, desc) |> limit(n)`.
fn top_bottom(it: &mut Interp<'_>, top: bool, a: Args) -> R<Value> {
    a.check(&["columns", "tables"], &["n"])?;
    let n = a.int("n")?.unwrap_or(0);
    let cols = a
        .strings("columns")?
        .unwrap_or_else(|| vec!["_value".into()]);
    if n <= 0 {
        return Err(a.err(format!("n must be a positive integer, but was {n}")));
    }
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let idx: Vec<usize> = cols
            .iter()
            .filter(|c| !t.is_key(c))
            .filter_map(|c| t.col(c))
            .collect();
        let mut nt = t.clone();
        nt.rows.sort_by(|x, y| {
            let o = idx
                .iter()
                .map(|&i| x[i].compare(&y[i]))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
            if top {
                o.reverse()
            } else {
                o
            }
        });
        nt.rows.truncate(n as usize);
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn unique(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["column", "tables"], &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let ci = t
            .col(&column)
            .ok_or_else(|| a.runtime(format!("no column {column:?} exists")))?;
        let mut seen: Vec<&Val> = Vec::new();
        let mut nt = Table::new(t.columns.clone(), t.key.clone());
        for r in &t.rows {
            if seen.iter().any(|v| **v == r[ci]) {
                continue;
            }
            seen.push(&r[ci]);
            nt.rows.push(r.clone());
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn distinct(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["column", "tables"], &[])?;
    let column = a.string("column")?.unwrap_or_else(|| "_value".into());
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut columns = t.key.cols.clone();
        let key_vals = t.key.values.clone();
        let row_of = |v: Val| {
            let mut r = key_vals.clone();
            r.push(v);
            r
        };
        let mut nt;
        match t.col(&column) {
            None => {
                columns.push(Column::new("_value", ColType::String));
                nt = Table::new(columns, t.key.clone());
                nt.rows.push(row_of(Val::Str("".into())));
            }
            Some(ci) if t.is_key(&column) => {
                columns.push(Column::new("_value", t.columns[ci].ty));
                nt = Table::new(columns, t.key.clone());
                let v = t.key_value(&column).cloned().unwrap_or(Val::Null);
                nt.rows.push(row_of(v));
            }
            Some(ci) => {
                columns.push(Column::new("_value", t.columns[ci].ty));
                nt = Table::new(columns, t.key.clone());
                let mut seen: Vec<Val> = Vec::new();
                it.budget.steps(t.rows.len() as u64)?;
                for r in &t.rows {
                    if seen.contains(&r[ci]) {
                        continue;
                    }
                    seen.push(r[ci].clone());
                    nt.rows.push(row_of(r[ci].clone()));
                }
            }
        }
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

fn sample(it: &mut Interp<'_>, a: Args) -> R<Value> {
    a.check(&["pos", "column", "tables"], &["n"])?;
    let n = a.int("n")?.unwrap_or(0);
    let pos = a.int("pos")?.unwrap_or(-1);
    if n <= 0 {
        return Err(a.err(format!("n must be a positive integer, but was {n}")));
    }
    if pos >= n {
        return Err(a.err(format!("pos must be less than n, but {pos} >= {n}")));
    }
    // With `pos` unset Flux picks a random offset; this model takes 0 so runs repeat.
    let pos = pos.max(0) as usize;
    let (_, tables) = a.ordered(it)?;
    let mut out_tables = Vec::with_capacity(tables.len());
    for t in tables.iter() {
        let mut nt = Table::new(t.columns.clone(), t.key.clone());
        nt.rows = t
            .rows
            .iter()
            .enumerate()
            .filter(|(i, _)| i % n as usize == pos)
            .map(|(_, r)| r.clone())
            .collect();
        out_tables.push(nt);
    }
    out(it, &a, out_tables, Order::Keep(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tdigest_small_sets_interpolate() {
        let mut d = Digest::new(1000.0);
        for v in [1.0, 2.0, 3.0, 4.0] {
            d.add(v);
        }
        assert_eq!(d.quantile(0.5), 2.5);
        let mut d = Digest::new(1000.0);
        for v in [1.0, 2.0, 3.0] {
            d.add(v);
        }
        assert_eq!(d.quantile(0.5), 2.0);
    }
}
