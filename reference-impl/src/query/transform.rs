//! Table transformations: what each supported Flux function does to a stream of tables.

use std::collections::BTreeMap;

use super::table::{ColType, Column, Table, Val};
use super::FluxError;

/// Keeps tables' order of first appearance when rows are regrouped.
struct Regrouper {
    tables: Vec<Table>,
    index: BTreeMap<String, usize>,
}

impl Regrouper {
    fn new() -> Self {
        Self {
            tables: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    fn slot(&mut self, key: Vec<(String, Val)>, columns: &[Column]) -> &mut Table {
        let id = format!("{key:?}");
        let i = *self.index.entry(id).or_insert_with(|| {
            self.tables.push(Table {
                columns: columns.to_vec(),
                key,
                rows: Vec::new(),
            });
            self.tables.len() - 1
        });
        &mut self.tables[i]
    }

    /// Adds `row` (laid out as `columns`) to its table, widening the table's columns when a
    /// table with another schema was merged into the same key.
    fn push(&mut self, key: Vec<(String, Val)>, columns: &[Column], row: Vec<Val>) {
        let t = self.slot(key, columns);
        let mut out = vec![Val::Null; t.columns.len()];
        for (c, v) in columns.iter().zip(row) {
            match t.columns.iter().position(|tc| tc.label == c.label) {
                Some(i) => out[i] = v,
                None => {
                    t.columns.push(c.clone());
                    for r in &mut t.rows {
                        r.push(Val::Null);
                    }
                    out.push(v);
                }
            }
        }
        t.rows.push(out);
    }
}

pub fn group(tables: Vec<Table>, columns: &[String], except: bool) -> Vec<Table> {
    let mut g = Regrouper::new();
    for t in tables {
        let key_cols: Vec<usize> = t
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| columns.contains(&c.label) != except)
            .map(|(i, _)| i)
            .collect();
        for row in t.rows {
            let key = key_cols
                .iter()
                .map(|&i| (t.columns[i].label.clone(), row[i].clone()))
                .collect();
            g.push(key, &t.columns, row);
        }
    }
    g.tables
}

pub fn keep(tables: Vec<Table>, columns: &[String]) -> Vec<Table> {
    tables
        .into_iter()
        .map(|t| retain_columns(t, |label| columns.iter().any(|c| c == label)))
        .collect()
}

pub fn drop(tables: Vec<Table>, columns: &[String]) -> Vec<Table> {
    tables
        .into_iter()
        .map(|t| retain_columns(t, |label| !columns.iter().any(|c| c == label)))
        .collect()
}

fn retain_columns(t: Table, keep: impl Fn(&str) -> bool) -> Table {
    let idx: Vec<usize> = (0..t.columns.len())
        .filter(|&i| keep(&t.columns[i].label))
        .collect();
    Table {
        columns: idx.iter().map(|&i| t.columns[i].clone()).collect(),
        key: t.key.into_iter().filter(|(k, _)| keep(k)).collect(),
        rows: t
            .rows
            .into_iter()
            .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    }
}

pub fn rename(tables: Vec<Table>, mapping: &[(String, String)]) -> Vec<Table> {
    let rename = |label: &str| {
        mapping
            .iter()
            .find(|(from, _)| from == label)
            .map(|(_, to)| to.clone())
    };
    tables
        .into_iter()
        .map(|mut t| {
            for c in &mut t.columns {
                if let Some(to) = rename(&c.label) {
                    c.label = to;
                }
            }
            for (k, _) in &mut t.key {
                if let Some(to) = rename(k) {
                    *k = to;
                }
            }
            t
        })
        .collect()
}

pub fn sort(tables: Vec<Table>, columns: &[String], desc: bool) -> Vec<Table> {
    tables
        .into_iter()
        .map(|mut t| {
            let idx: Vec<usize> = columns.iter().filter_map(|c| t.col(c)).collect();
            t.rows.sort_by(|a, b| {
                let ord = idx
                    .iter()
                    .map(|&i| a[i].compare(&b[i]))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal);
                if desc {
                    ord.reverse()
                } else {
                    ord
                }
            });
            t
        })
        .collect()
}

pub fn limit(tables: Vec<Table>, n: usize, offset: usize) -> Vec<Table> {
    tables
        .into_iter()
        .map(|mut t| {
            t.rows = t.rows.into_iter().skip(offset).take(n).collect();
            t
        })
        .collect()
}

/// Aggregates and selectors a table can be reduced with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
}

impl Reducer {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "count" => Self::Count,
            "sum" => Self::Sum,
            "mean" => Self::Mean,
            "min" => Self::Min,
            "max" => Self::Max,
            "first" => Self::First,
            "last" => Self::Last,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Mean => "mean",
            Self::Min => "min",
            Self::Max => "max",
            Self::First => "first",
            Self::Last => "last",
        }
    }

    fn is_selector(self) -> bool {
        matches!(self, Self::Min | Self::Max | Self::First | Self::Last)
    }

    /// The output type of an aggregate over a column of `input` type.
    fn output_type(self, input: ColType) -> Result<ColType, FluxError> {
        match self {
            Self::Count => Ok(ColType::Long),
            Self::Mean => match input {
                ColType::Long | ColType::ULong | ColType::Double => Ok(ColType::Double),
                other => Err(unsupported(self, other)),
            },
            Self::Sum => match input {
                ColType::Long | ColType::ULong | ColType::Double => Ok(input),
                other => Err(unsupported(self, other)),
            },
            _ => Ok(input),
        }
    }

    /// Reduces the non-null values of `values`; for selectors, returns the chosen row index.
    fn reduce(self, values: &[(usize, &Val)]) -> Result<(Option<usize>, Val), FluxError> {
        let non_null: Vec<(usize, &Val)> = values
            .iter()
            .copied()
            .filter(|(_, v)| !v.is_null())
            .collect();
        Ok(match self {
            Self::Count => (None, Val::Long(non_null.len() as i64)),
            Self::First => non_null
                .first()
                .map_or((None, Val::Null), |(i, v)| (Some(*i), (*v).clone())),
            Self::Last => non_null
                .last()
                .map_or((None, Val::Null), |(i, v)| (Some(*i), (*v).clone())),
            Self::Min | Self::Max => {
                let mut best: Option<(usize, &Val)> = None;
                for (i, v) in non_null {
                    let better = match best {
                        None => true,
                        Some((_, b)) => {
                            let o = v.compare(b);
                            if self == Self::Min {
                                o.is_lt()
                            } else {
                                o.is_gt()
                            }
                        }
                    };
                    if better {
                        best = Some((i, v));
                    }
                }
                best.map_or((None, Val::Null), |(i, v)| (Some(i), v.clone()))
            }
            Self::Sum => {
                if non_null.is_empty() {
                    return Ok((None, Val::Null));
                }
                let mut acc = non_null[0].1.clone();
                for (_, v) in &non_null[1..] {
                    acc = match (acc, v) {
                        (Val::Long(a), Val::Long(b)) => Val::Long(a.wrapping_add(*b)),
                        (Val::ULong(a), Val::ULong(b)) => Val::ULong(a.wrapping_add(*b)),
                        (Val::Double(a), Val::Double(b)) => Val::Double(a + b),
                        (_, other) => {
                            return Err(unsupported(
                                self,
                                other.col_type().unwrap_or(ColType::String),
                            ))
                        }
                    };
                }
                (None, acc)
            }
            Self::Mean => {
                if non_null.is_empty() {
                    return Ok((None, Val::Null));
                }
                let mut sum = 0.0;
                for (_, v) in &non_null {
                    sum += v.as_f64().ok_or_else(|| {
                        unsupported(self, v.col_type().unwrap_or(ColType::String))
                    })?;
                }
                (None, Val::Double(sum / non_null.len() as f64))
            }
        })
    }
}

fn unsupported(r: Reducer, t: ColType) -> FluxError {
    let kind = if r.is_selector() {
        "selector"
    } else {
        "aggregate"
    };
    FluxError::runtime(format!(
        "unsupported input type for {} {kind}: {}",
        r.name(),
        type_name(t)
    ))
}

fn type_name(t: ColType) -> &'static str {
    match t {
        ColType::String => "string",
        ColType::Long => "int",
        ColType::ULong => "uint",
        ColType::Double => "float",
        ColType::Bool => "bool",
        ColType::Time => "time",
    }
}

/// `count()`, `sum()`, `mean()` (one row per table: the key columns and `column`), and the
/// selectors `first()`, `last()`, `min()`, `max()` (the chosen row, whole).
pub fn reduce(tables: Vec<Table>, r: Reducer, column: &str) -> Result<Vec<Table>, FluxError> {
    let mut out = Vec::new();
    for t in tables {
        let Some(ci) = t.col(column) else {
            return Err(FluxError::runtime(format!(
                "column \"{column}\" does not exist"
            )));
        };
        let values: Vec<(usize, &Val)> = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| (i, &row[ci]))
            .collect();
        let (chosen, value) = r.reduce(&values)?;
        if r.is_selector() {
            let rows = chosen.map(|i| vec![t.rows[i].clone()]).unwrap_or_default();
            out.push(Table {
                columns: t.columns.clone(),
                key: t.key.clone(),
                rows,
            });
            continue;
        }
        let ty = r.output_type(t.columns[ci].ty)?;
        let mut columns: Vec<Column> = t
            .columns
            .iter()
            .filter(|c| t.is_key(&c.label) && c.label != column)
            .cloned()
            .collect();
        let mut row: Vec<Val> = columns
            .iter()
            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect();
        columns.push(Column {
            label: column.to_string(),
            ty,
        });
        row.push(value);
        out.push(Table {
            columns,
            key: t.key.clone(),
            rows: vec![row],
        });
    }
    Ok(out)
}

pub fn distinct(tables: Vec<Table>, column: &str) -> Result<Vec<Table>, FluxError> {
    let mut out = Vec::new();
    for t in tables {
        let Some(ci) = t.col(column) else {
            return Err(FluxError::runtime(format!(
                "column \"{column}\" does not exist"
            )));
        };
        let mut columns: Vec<Column> = t
            .columns
            .iter()
            .filter(|c| t.is_key(&c.label) && c.label != column)
            .cloned()
            .collect();
        let key_vals: Vec<Val> = columns
            .iter()
            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect();
        columns.push(Column {
            label: "_value".to_string(),
            ty: t.columns[ci].ty,
        });
        let mut seen: Vec<Val> = Vec::new();
        for row in &t.rows {
            if !seen
                .iter()
                .any(|v| v.compare(&row[ci]).is_eq() && v.col_type() == row[ci].col_type())
            {
                seen.push(row[ci].clone());
            }
        }
        let rows = seen
            .into_iter()
            .map(|v| {
                let mut r = key_vals.clone();
                r.push(v);
                r
            })
            .collect();
        out.push(Table {
            columns,
            key: t.key.clone(),
            rows,
        });
    }
    Ok(out)
}

/// `pivot(rowKey:, columnKey:, valueColumn:)`: tables sharing the output key (the input key
/// without the column-key and value columns) are merged; one row per distinct row key, one
/// column per distinct column-key value (sorted; UNCONFIRMED whether Flux sorts them or keeps
/// first appearance).
pub fn pivot(
    tables: Vec<Table>,
    row_key: &[String],
    column_key: &[String],
    value_column: &str,
) -> Result<Vec<Table>, FluxError> {
    struct OutRow {
        row_key: Vec<Val>,
        base: Vec<Val>,
        cells: BTreeMap<String, Val>,
    }
    struct Acc {
        base: Vec<Column>,
        key: Vec<(String, Val)>,
        new_cols: BTreeMap<String, ColType>,
        rows: Vec<OutRow>,
    }
    let missing =
        |c: &str| FluxError::runtime(format!("specified column does not exist in table: {c}"));
    let mut accs: Vec<Acc> = Vec::new();
    for t in tables {
        let vi = t.col(value_column).ok_or_else(|| missing(value_column))?;
        let ck: Vec<usize> = column_key
            .iter()
            .map(|c| t.col(c).ok_or_else(|| missing(c)))
            .collect::<Result<_, _>>()?;
        let rk: Vec<usize> = row_key
            .iter()
            .map(|c| t.col(c).ok_or_else(|| missing(c)))
            .collect::<Result<_, _>>()?;
        let removed = |label: &str| label == value_column || column_key.iter().any(|c| c == label);
        let base_idx: Vec<usize> = (0..t.columns.len())
            .filter(|&i| {
                let label = &t.columns[i].label;
                !removed(label) && (t.is_key(label) || row_key.contains(label))
            })
            .collect();
        let key: Vec<(String, Val)> = t.key.iter().filter(|(k, _)| !removed(k)).cloned().collect();
        let pos = match accs.iter().position(|a| a.key == key) {
            Some(p) => p,
            None => {
                let base = base_idx.iter().map(|&i| t.columns[i].clone()).collect();
                accs.push(Acc {
                    base,
                    key,
                    new_cols: BTreeMap::new(),
                    rows: Vec::new(),
                });
                accs.len() - 1
            }
        };
        let acc = &mut accs[pos];
        for row in &t.rows {
            let name = ck
                .iter()
                .map(|&i| match &row[i] {
                    Val::Str(s) => s.clone(),
                    other => super::csv::format_value(other),
                })
                .collect::<Vec<_>>()
                .join("_");
            acc.new_cols.entry(name.clone()).or_insert(t.columns[vi].ty);
            let row_key_vals: Vec<Val> = rk.iter().map(|&i| row[i].clone()).collect();
            match acc.rows.iter_mut().find(|r| r.row_key == row_key_vals) {
                Some(existing) => {
                    existing.cells.insert(name, row[vi].clone());
                }
                None => {
                    let base = acc
                        .base
                        .iter()
                        .map(|c| t.col(&c.label).map_or(Val::Null, |i| row[i].clone()))
                        .collect();
                    let cells = BTreeMap::from([(name, row[vi].clone())]);
                    acc.rows.push(OutRow {
                        row_key: row_key_vals,
                        base,
                        cells,
                    });
                }
            }
        }
    }
    Ok(accs
        .into_iter()
        .map(|mut acc| {
            acc.rows.sort_by(|a, b| {
                a.row_key
                    .iter()
                    .zip(&b.row_key)
                    .map(|(x, y)| x.compare(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let mut columns = acc.base;
            columns.extend(acc.new_cols.iter().map(|(label, ty)| Column {
                label: label.clone(),
                ty: *ty,
            }));
            let rows = acc
                .rows
                .into_iter()
                .map(|r| {
                    let mut out = r.base;
                    out.extend(
                        acc.new_cols
                            .keys()
                            .map(|k| r.cells.get(k).cloned().unwrap_or(Val::Null)),
                    );
                    out
                })
                .collect();
            Table {
                columns,
                key: acc.key,
                rows,
            }
        })
        .collect())
}

/// `aggregateWindow(every:, fn:, createEmpty:)` over fixed windows aligned to the epoch and
/// clipped to each table's `_start`/`_stop`; `_time` is the window's stop. Output columns keep
/// the input layout (UNCONFIRMED: real Flux may move `_time`).
pub fn aggregate_window(
    tables: Vec<Table>,
    every: i64,
    r: Reducer,
    create_empty: bool,
    column: &str,
) -> Result<Vec<Table>, FluxError> {
    if every <= 0 {
        return Err(FluxError::invalid(
            "aggregateWindow: every must be positive",
        ));
    }
    let mut out = Vec::new();
    for t in tables {
        let (Some(ti), Some(ci)) = (t.col("_time"), t.col(column)) else {
            return Err(FluxError::runtime(format!(
                "column \"{column}\" does not exist"
            )));
        };
        let bound = |label: &str| match t.key_value(label) {
            Some(Val::Time(v)) => Some(*v),
            _ => None,
        };
        let times: Vec<i64> = t
            .rows
            .iter()
            .filter_map(|r| {
                if let Val::Time(v) = r[ti] {
                    Some(v)
                } else {
                    None
                }
            })
            .collect();
        let start = bound("_start")
            .or_else(|| times.iter().min().copied())
            .unwrap_or(0);
        let stop = bound("_stop")
            .or_else(|| times.iter().max().map(|m| m + 1))
            .unwrap_or(0);
        let mut columns = t.columns.clone();
        columns[ci].ty = r.output_type(t.columns[ci].ty)?;
        let template: Vec<Val> = t
            .columns
            .iter()
            .map(|c| t.key_value(&c.label).cloned().unwrap_or(Val::Null))
            .collect();
        let mut rows = Vec::new();
        let mut w = start.div_euclid(every) * every;
        while w < stop {
            let (lo, hi) = (w.max(start), (w.saturating_add(every)).min(stop));
            let members: Vec<(usize, &Val)> = t
                .rows
                .iter()
                .enumerate()
                .filter(|(_, row)| matches!(row[ti], Val::Time(x) if x >= lo && x < hi))
                .map(|(i, row)| (i, &row[ci]))
                .collect();
            if !members.is_empty() || create_empty {
                let (chosen, value) = r.reduce(&members)?;
                let mut row = match chosen {
                    Some(i) => t.rows[i].clone(),
                    None => template.clone(),
                };
                row[ti] = Val::Time(hi);
                row[ci] = value;
                rows.push(row);
            }
            w = w.saturating_add(every);
        }
        out.push(Table {
            columns,
            key: t.key.clone(),
            rows,
        });
    }
    Ok(out)
}
