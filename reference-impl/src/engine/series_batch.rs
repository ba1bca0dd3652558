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
use crate::model::FieldType;
use crate::storage::batch::FastState;
pub use crate::storage::batch::{to_ordinal, BatchSeries, FieldColumn, SeriesBatch};
use crate::storage::SeriesKey;

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

/// Columns of a series searched one by one for a field key before the map of the rest.
const SEARCHED_COLUMNS: usize = 16;

/// Longest string value a point may hold and still be `plain` (OSS's `MaxFieldValueLength`).
const PLAIN_STRING_LIMIT: usize = crate::storage::MAX_FIELD_VALUE_LENGTH;

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
                BatchSeries::new(SeriesKey::new(
                    &point.measurement,
                    point.tags.iter().map(|t| (&*t.key, &*t.value)),
                ))
            })
            .collect();

        // Per row, in input order: its time and the ordinal of its first field (every field
        // counts, with a column or not).
        let mut ordinal = 0;
        for point in points {
            out.row_time.push(point.timestamp.unwrap_or(default_time));
            out.row_first_ordinal.push(ordinal);
            ordinal += point.fields.len();
        }
        out.row_first_ordinal.push(ordinal);

        // The rows of each series, in input order (`by_series[series_start[s]..series_start[s
        // + 1]]`): pass 2 goes series by series, so a series' columns and the point its last
        // signature came from are still in cache for its next point. In input order, every
        // point of a TSBS batch went to another series' ten columns (three vectors each) and
        // compared its fields with a point a thousand rows back, and those loads were ~40% of
        // the grouping's own samples. The misses move to the points, now read out of memory
        // order, so the gain is smaller: 801-858 → 724-763 ns/point (`WRITE_PHASE=group` of
        // the write bench, the two builds taking turns).
        let mut series_start = Vec::with_capacity(series_rows.len() + 1);
        let mut next_start = 0;
        for &n in &series_rows {
            series_start.push(next_start);
            next_start += n;
        }
        series_start.push(next_start);
        let mut by_series = vec![0; rows];
        let mut filled = series_start.clone();
        for (row, &s) in out.row_series.iter().enumerate() {
            by_series[filled[s]] = row;
            filled[s] += 1;
        }

        // Pass 2: signatures and columns. A point whose fields have the same keys and types,
        // in the same order, as the last signature seen in its series shares it without a
        // hash look-up (the usual case: a series keeps its fields).
        let mut signature_of: HashMap<Vec<u8>, usize, FastState> =
            HashMap::with_hasher(FastState::default());
        out.row_signature = vec![0; rows];
        out.row_plain = vec![false; rows];
        let mut signature = Vec::new();
        // Room reserved up front for columns: a new column gets its series' point count while
        // the batch's field count allows, so the reserved room never exceeds the values the
        // batch holds. Without this bound, a series whose points each bring a new field key
        // reserved points × keys (a 700 KB body of one series and 65,536 keys took 8.7 GB).
        let mut room: usize = ordinal;
        // (series, field key) → column for the columns of a series past its first
        // `SEARCHED_COLUMNS`, which are searched in order: a search of every column would be
        // quadratic in a series with many keys, and a map for the usual few was 3.5% of a
        // write.
        let mut column_index: HashMap<(usize, &[u8]), usize, FastState> =
            HashMap::with_hasher(FastState::default());
        for (s, series) in out.series.iter_mut().enumerate() {
            // The last signature computed in this series, its point, and the column of each
            // field.
            let mut last_signature: Option<Template> = None;
            let columns = &mut series.columns;
            for &row in &by_series[series_start[s]..series_start[s + 1]] {
                let point = &points[row];
                let time = out.row_time[row];
                let mut ordinal = out.row_first_ordinal[row];
                let same_as = last_signature.as_ref().filter(|t| {
                    let fields = &points[t.row].fields;
                    fields.len() == point.fields.len()
                        && fields.iter().zip(&point.fields).all(|(a, b)| {
                            a.key == b.key && a.value.field_type() == b.value.field_type()
                        })
                });
                let mut plain = true;
                if let Some(t) = same_as {
                    // Same keys in the same order: the same columns, no key comparison.
                    out.row_signature[row] = t.signature;
                    for (field, c) in point.fields.iter().zip(&t.column_of) {
                        plain &= !needs_close_look(field);
                        if let Some(col) = c.and_then(|c| columns.get_mut(c)) {
                            col.ordinals.push(to_ordinal(ordinal));
                            col.times.push(time);
                            col.values.push(field.value.to_owned_value());
                            out.value_count += 1;
                        }
                        ordinal += 1;
                    }
                    out.row_plain[row] = plain;
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
                out.row_signature[row] = sig;

                let mut column_of = Vec::with_capacity(point.fields.len());
                for field in &point.fields {
                    plain &= !needs_close_look(field);
                    if !column(&field.key) {
                        column_of.push(None);
                        ordinal += 1;
                        continue;
                    }
                    let searched = &columns[..columns.len().min(SEARCHED_COLUMNS)];
                    let found = match searched.iter().position(|c| c.key == *field.key) {
                        None if columns.len() > SEARCHED_COLUMNS => {
                            column_index.get(&(s, &*field.key)).copied()
                        }
                        found => found,
                    };
                    let c = match found {
                        Some(c) => c,
                        None => {
                            let capacity = series_rows[s].min(room);
                            room -= capacity;
                            columns.push(FieldColumn::with_type(
                                &field.key,
                                capacity,
                                field.value.field_type(),
                            ));
                            let c = columns.len() - 1;
                            if c >= SEARCHED_COLUMNS {
                                column_index.insert((s, &*field.key), c);
                            }
                            c
                        }
                    };
                    column_of.push(Some(c));
                    let col = &mut columns[c];
                    col.ordinals.push(to_ordinal(ordinal));
                    col.times.push(time);
                    col.values.push(field.value.to_owned_value());
                    out.value_count += 1;
                    ordinal += 1;
                }
                last_signature = Some(Template {
                    signature: sig,
                    row,
                    column_of,
                });
                out.row_plain[row] = plain;
            }
        }
        // Signatures were numbered series by series: renumber them in order of first
        // appearance in the input.
        let mut renumbered = vec![usize::MAX; signature_of.len()];
        let mut next = 0;
        for sig in &mut out.row_signature {
            if renumbered[*sig] == usize::MAX {
                renumbered[*sig] = next;
                next += 1;
            }
            *sig = renumbered[*sig];
        }
        out.signatures = signature_of.len();
        out
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
        assert_eq!(m.key.measurement().as_ref(), b"m");
        assert_eq!(m.columns.len(), 2, "time has no column");
        let v = &m.columns[0];
        assert_eq!(v.key, b"v");
        assert_eq!(v.ordinals, [0, 4, 5]);
        assert_eq!(
            v.ordinals
                .iter()
                .map(|&o| b.row_of(o as usize))
                .collect::<Vec<_>>(),
            [0, 2, 3]
        );
        assert_eq!(v.times, [10, 99, 12]);
        let w = &m.columns[1];
        assert_eq!(w.ordinals, [1, 3]);
        assert_eq!(b.row_first_ordinal, [0, 2, 3, 5, 7]);
        assert_eq!(b.value_count, 6);
        assert_eq!(b.min_time(), Some(10));
    }

    /// A series whose points each bring a new field key: the columns reserve room for the
    /// values the batch holds, not points × keys (which took 8.7 GB for a 700 KB body).
    #[test]
    fn room_reserved_is_bounded_by_the_values() {
        let n = 2000;
        let body: String = (0..n).map(|i| format!("m f{i}=1 {i}\n")).collect();
        let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
        let b = SeriesBatch::build(&batch.points, 0, |_| true);
        let m = &b.series[0];
        assert_eq!(m.columns.len(), n);
        assert!(m.columns.iter().all(|c| c.len() == 1));
        let reserved: usize = m.columns.iter().map(|c| c.times.capacity()).sum();
        assert!(
            reserved <= 8 * n,
            "{reserved} slots reserved for {n} values"
        );
        // Every point after the first repeats the keys of one before it.
        let body: String = (0..n).map(|i| format!("m f{}=1 {i}\n", i % 7)).collect();
        let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
        let b = SeriesBatch::build(&batch.points, 0, |_| true);
        let keys: Vec<&[u8]> = b.series[0].columns.iter().map(|c| &c.key[..]).collect();
        assert_eq!(keys, [&b"f0"[..], b"f1", b"f2", b"f3", b"f4", b"f5", b"f6"]);
        assert_eq!(
            b.series[0].columns[3].ordinals,
            (3..n as u32).step_by(7).collect::<Vec<_>>()
        );
        // Past the columns searched in order, keys are found in the map.
        let body: String = (0..n).map(|i| format!("m f{}=1 {i}\n", i % 40)).collect();
        let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
        let b = SeriesBatch::build(&batch.points, 0, |_| true);
        let columns = &b.series[0].columns;
        assert_eq!(columns.len(), 40);
        for (k, c) in columns.iter().enumerate() {
            assert_eq!(c.key, format!("f{k}").as_bytes());
            assert_eq!(
                c.ordinals,
                (k as u32..n as u32).step_by(40).collect::<Vec<_>>()
            );
        }
    }
}
