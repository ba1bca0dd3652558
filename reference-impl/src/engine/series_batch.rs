//! A parsed batch regrouped the way storage is organized, (series, field) → values, owned and
//! built before the store lock is taken.
//!
//! Grouping once, outside the lock, leaves the locked part of a write with one index search
//! per series and one append per (series, field) instead of one of each per value, which is
//! what lets several connections write at once. Every value keeps its place in the batch (its
//! point's row and its ordinal among all field values of the batch), so the engines still
//! decide everything in input order: nothing here decides whether a value is written.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::line_protocol::{Field, Point};
use crate::model::{FieldType, ValueColumn};
use crate::storage::SeriesKey;

/// A fast, deterministic hasher for the per-batch maps (keys come from one request, so
/// flooding is bounded by the request size that was already accepted).
pub type FastState = foldhash::fast::FixedState;

/// The points of one batch, by series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesBatch {
    /// Series in order of first appearance.
    pub series: Vec<BatchSeries>,
    /// Per point (row, in input order): the index of its series in `series`.
    pub row_series: Vec<usize>,
    /// Per point: its time (its timestamp, or the request's default time).
    pub row_time: Vec<i64>,
    /// Per point: its field signature (measurement, field keys and types in order); points with
    /// equal signatures have equal indices. Indices count from 0 in order of first appearance.
    pub row_signature: Vec<usize>,
    /// Per point: no field needs a look beyond its key and type (see `needs_close_look`).
    pub row_plain: Vec<bool>,
    /// Per point: the ordinal of its first field; the fields of row r have the ordinals
    /// `row_first_ordinal[r]..row_first_ordinal[r + 1]`.
    pub row_first_ordinal: Vec<usize>,
    /// Number of distinct signatures.
    pub signatures: usize,
    /// Number of values held in the columns.
    pub value_count: usize,
}

/// One series of a batch: its key and a column per field key.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSeries {
    pub key: SeriesKey,
    /// Columns in order of first appearance of their field key in this series.
    pub columns: Vec<FieldColumn>,
}

/// The values of one (series, field) pair in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldColumn {
    pub key: Vec<u8>,
    /// Per value: its position among every field of the batch (input order: row, then field).
    pub ordinals: Vec<usize>,
    /// Per value: its point's time.
    pub times: Vec<i64>,
    /// The values, stored by type (8 bytes a number).
    pub values: ValueColumn,
}

impl FieldColumn {
    fn new(key: &[u8], capacity: usize, ty: FieldType) -> Self {
        Self {
            key: key.to_vec(),
            ordinals: Vec::with_capacity(capacity),
            times: Vec::with_capacity(capacity),
            values: ValueColumn::for_type(ty, capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Appends the whole column to its field in `fields` (created when missing; an empty
    /// column creates nothing), leaving the column's buffers.
    pub fn append_to(&mut self, fields: &mut crate::storage::SeriesFields) {
        if self.is_empty() {
            return;
        }
        let values = match fields.get_mut(self.key.as_slice()) {
            Some(values) => values,
            None => fields.entry(self.key.clone()).or_default(),
        };
        values.extend_run(&self.times, std::mem::take(&mut self.values));
    }

    /// Keeps only the values whose ordinal `keep` accepts.
    pub fn retain_ordinals(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut w = 0;
        for r in 0..self.values.len() {
            if keep(self.ordinals[r]) {
                self.ordinals.swap(w, r);
                self.times.swap(w, r);
                self.values.swap(w, r);
                w += 1;
            }
        }
        self.ordinals.truncate(w);
        self.times.truncate(w);
        self.values.truncate(w);
    }
}

/// The last signature computed for a series: its index, the point it was computed for, and
/// the column of each of that point's fields (`None`: the field has no column).
#[derive(Debug, Clone)]
struct Template {
    signature: usize,
    row: usize,
    column_of: Vec<Option<usize>>,
}

/// A point's series, borrowed, for the grouping map: equal when measurement and tags are
/// equal byte for byte, in order.
struct SeriesOf<'p, 'a>(&'p Point<'a>);

impl Hash for SeriesOf<'_, '_> {
    /// Tag keys are left out of the hash (they repeat from series to series); equality still
    /// compares them.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.measurement.as_ref().hash(state);
        state.write_usize(self.0.tags.len());
        for t in &self.0.tags {
            t.value.as_ref().hash(state);
        }
    }
}

impl PartialEq for SeriesOf<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0, other.0);
        a.measurement == b.measurement
            && a.tags.len() == b.tags.len()
            && a.tags
                .iter()
                .zip(&b.tags)
                .all(|(x, y)| x.key == y.key && x.value == y.value)
    }
}

impl Eq for SeriesOf<'_, '_> {}

/// Longest string value a point may hold and still be `plain` (OSS's `MaxFieldValueLength`).
const PLAIN_STRING_LIMIT: usize = crate::engine::points_writer::MAX_FIELD_VALUE_LENGTH;

/// A field that the OSS shard looks at beyond its key and type: the reserved key `time`, or a
/// string value over the length limit.
fn needs_close_look(field: &Field<'_>) -> bool {
    if &*field.key == b"time" {
        return true;
    }
    matches!(&field.value, crate::line_protocol::FieldValue::String(s) if s.len() > PLAIN_STRING_LIMIT)
}

fn type_code(t: FieldType) -> u8 {
    match t {
        FieldType::Float => 0,
        FieldType::Integer => 1,
        FieldType::Unsigned => 2,
        FieldType::String => 3,
        FieldType::Boolean => 4,
    }
}

impl SeriesBatch {
    /// Groups `points` by series. `default_time` stamps points without a timestamp; `column`
    /// says, by field key, which fields get a column (every field still counts for ordinals and
    /// signatures).
    pub fn build(points: &[Point<'_>], default_time: i64, column: impl Fn(&[u8]) -> bool) -> Self {
        let rows = points.len();
        let mut out = SeriesBatch {
            row_series: Vec::with_capacity(rows),
            row_time: Vec::with_capacity(rows),
            row_signature: Vec::with_capacity(rows),
            row_plain: Vec::with_capacity(rows),
            row_first_ordinal: Vec::with_capacity(rows + 1),
            ..SeriesBatch::default()
        };
        // Pass 1: the series of every point, and how many points each series has (so that
        // every column is allocated once, at its final size).
        // Raw keys (as written) are looked up first: one hash and one comparison of contiguous
        // bytes; a raw key not seen yet is looked up by its parsed series.
        let mut by_raw_key: HashMap<&[u8], usize, FastState> =
            HashMap::with_capacity_and_hasher(rows.min(1 << 16), FastState::default());
        let mut series_of: HashMap<SeriesOf<'_, '_>, usize, FastState> =
            HashMap::with_hasher(FastState::default());
        let mut series_rows: Vec<usize> = Vec::new();
        let mut firsts: Vec<usize> = Vec::new();
        for (row, point) in points.iter().enumerate() {
            let next = firsts.len();
            let known = match point.raw_key {
                [] => None,
                raw => by_raw_key.get(raw).copied(),
            };
            let s = match known {
                Some(s) => s,
                None => {
                    let s = *series_of.entry(SeriesOf(point)).or_insert(next);
                    if !point.raw_key.is_empty() {
                        by_raw_key.insert(point.raw_key, s);
                    }
                    s
                }
            };
            if s == next {
                firsts.push(row);
                series_rows.push(0);
            }
            series_rows[s] += 1;
            out.row_series.push(s);
        }
        out.series = firsts
            .iter()
            .map(|&row| {
                let point = &points[row];
                BatchSeries {
                    key: SeriesKey {
                        measurement: point.measurement.to_vec(),
                        tags: point
                            .tags
                            .iter()
                            .map(|t| (t.key.to_vec(), t.value.to_vec()))
                            .collect(),
                    },
                    columns: Vec::new(),
                }
            })
            .collect();

        // Pass 2: signatures and columns. A point whose fields have the same keys and types,
        // in the same order, as the last signature seen in its series shares it without a
        // hash look-up (the usual case: a series keeps its fields).
        let mut signature_of: HashMap<Vec<u8>, usize, FastState> =
            HashMap::with_hasher(FastState::default());
        // Per series: the last signature computed, its point, and the column of each field.
        let mut last_signature: Vec<Option<Template>> = vec![None; out.series.len()];
        let mut signature = Vec::new();
        let mut ordinal = 0;
        for (row, point) in points.iter().enumerate() {
            let s = out.row_series[row];
            let time = point.timestamp.unwrap_or(default_time);
            out.row_time.push(time);
            out.row_first_ordinal.push(ordinal);

            let same_as = last_signature[s].as_ref().filter(|t| {
                let fields = &points[t.row].fields;
                fields.len() == point.fields.len()
                    && fields.iter().zip(&point.fields).all(|(a, b)| {
                        a.key == b.key && a.value.field_type() == b.value.field_type()
                    })
            });
            let columns = &mut out.series[s].columns;
            let mut plain = true;
            if let Some(t) = same_as {
                // Same keys in the same order: the same columns, no key comparison.
                out.row_signature.push(t.signature);
                for (field, c) in point.fields.iter().zip(&t.column_of) {
                    plain &= !needs_close_look(field);
                    if let Some(col) = c.and_then(|c| columns.get_mut(c)) {
                        col.ordinals.push(ordinal);
                        col.times.push(time);
                        col.values.push(field.value.to_owned_value());
                        out.value_count += 1;
                    }
                    ordinal += 1;
                }
                out.row_plain.push(plain);
                continue;
            }
            signature.clear();
            signature.extend_from_slice(&(point.measurement.len() as u64).to_le_bytes());
            signature.extend_from_slice(&point.measurement);
            for field in &point.fields {
                signature.push(type_code(field.value.field_type()));
                signature.extend_from_slice(&(field.key.len() as u64).to_le_bytes());
                signature.extend_from_slice(&field.key);
            }
            let next = signature_of.len();
            let sig = *signature_of.entry(signature.clone()).or_insert(next);
            out.row_signature.push(sig);

            let capacity = series_rows[s];
            let mut column_of = Vec::with_capacity(point.fields.len());
            for field in &point.fields {
                plain &= !needs_close_look(field);
                if !column(&field.key) {
                    column_of.push(None);
                    ordinal += 1;
                    continue;
                }
                let c = match columns.iter().position(|c| c.key == *field.key) {
                    Some(c) => c,
                    None => {
                        columns.push(FieldColumn::new(
                            &field.key,
                            capacity,
                            field.value.field_type(),
                        ));
                        columns.len() - 1
                    }
                };
                column_of.push(Some(c));
                let col = &mut columns[c];
                col.ordinals.push(ordinal);
                col.times.push(time);
                col.values.push(field.value.to_owned_value());
                out.value_count += 1;
                ordinal += 1;
            }
            last_signature[s] = Some(Template {
                signature: sig,
                row,
                column_of,
            });
            out.row_plain.push(plain);
        }
        out.row_first_ordinal.push(ordinal);
        out.signatures = signature_of.len();
        out
    }

    /// Moves the columns of `chunk` (the next points of the same write, grouped on their own)
    /// into this batch, for a write too large to group at once: its ordinals shift by
    /// `ordinal_base` (the fields of every earlier chunk), its series are found by key in
    /// `index` (kept by the caller across chunks) or appended. Only the columns and the value
    /// count carry over (what a queued Cloud write is applied from); per-row arrays are not
    /// kept.
    pub fn absorb(
        &mut self,
        chunk: SeriesBatch,
        index: &mut HashMap<SeriesKey, usize, FastState>,
        ordinal_base: usize,
    ) {
        self.value_count += chunk.value_count;
        for series in chunk.series {
            let s = match index.get(&series.key) {
                Some(&s) => s,
                None => {
                    index.insert(series.key.clone(), self.series.len());
                    self.series.push(BatchSeries {
                        key: series.key.clone(),
                        columns: Vec::new(),
                    });
                    self.series.len() - 1
                }
            };
            let target = &mut self.series[s].columns;
            for mut column in series.columns {
                for o in &mut column.ordinals {
                    *o += ordinal_base;
                }
                match target.iter_mut().find(|c| c.key == column.key) {
                    Some(c) => {
                        c.ordinals.append(&mut column.ordinals);
                        c.times.append(&mut column.times);
                        c.values.append(&mut column.values);
                    }
                    None => target.push(column),
                }
            }
        }
    }

    /// Number of field ordinals (fields of every point, with or without a column).
    pub fn ordinals(&self) -> usize {
        self.row_first_ordinal.last().copied().unwrap_or(0)
    }

    /// The row of the point that holds the value with `ordinal`.
    pub fn row_of(&self, ordinal: usize) -> usize {
        self.row_first_ordinal
            .partition_point(|&first| first <= ordinal)
            .saturating_sub(1)
    }

    /// Number of points.
    pub fn rows(&self) -> usize {
        self.row_time.len()
    }

    /// The earliest point time, if any point.
    pub fn min_time(&self) -> Option<i64> {
        self.row_time.iter().copied().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_protocol::parse_batch;
    use crate::model::Precision;

    #[test]
    fn groups_by_series_and_keeps_input_order() {
        let body = b"m,a=1 v=1,w=2i 10\nn v=\"s\" 11\nm,a=1 w=3i,v=4\nm,a=1 v=5,time=1 12";
        let batch = parse_batch(body, Precision::Nanosecond);
        assert!(batch.errors.is_empty());
        let b = SeriesBatch::build(&batch.points, 99, |key| key != b"time");
        assert_eq!(b.rows(), 4);
        assert_eq!(b.row_series, [0, 1, 0, 0]);
        assert_eq!(b.row_time, [10, 11, 99, 12]);
        assert_eq!(b.row_plain, [true, true, true, false]);
        // `m v,w` and `m w,v` differ (field order), as do the int/float spellings.
        assert_eq!(b.row_signature, [0, 1, 2, 3]);
        assert_eq!(b.signatures, 4);
        let m = &b.series[0];
        assert_eq!(m.key.measurement, b"m");
        assert_eq!(m.columns.len(), 2, "time has no column");
        let v = &m.columns[0];
        assert_eq!(v.key, b"v");
        assert_eq!(v.ordinals, [0, 4, 5]);
        assert_eq!(
            v.ordinals.iter().map(|&o| b.row_of(o)).collect::<Vec<_>>(),
            [0, 2, 3]
        );
        assert_eq!(v.times, [10, 99, 12]);
        let w = &m.columns[1];
        assert_eq!(w.ordinals, [1, 3]);
        assert_eq!(b.row_first_ordinal, [0, 2, 3, 5, 7]);
        assert_eq!(b.value_count, 6);
        assert_eq!(b.min_time(), Some(10));
    }

    #[test]
    fn retain_ordinals_keeps_columns_aligned() {
        let batch = parse_batch(b"m v=1 1\nm v=2 2\nm v=3 3", Precision::Nanosecond);
        let mut b = SeriesBatch::build(&batch.points, 0, |_| true);
        let col = &mut b.series[0].columns[0];
        col.retain_ordinals(|o| o != 1);
        assert_eq!(col.ordinals, [0, 2]);
        assert_eq!(col.times, [1, 3]);
        assert_eq!(
            col.values.to_vec(),
            [
                crate::model::OwnedFieldValue::Float(1.0),
                crate::model::OwnedFieldValue::Float(3.0)
            ]
        );
    }
}
