//! A write's points regrouped the way storage is organized, (series, field) → values, owned:
//! plain data, built by the engines (`engine::series_batch`) before the store lock is taken and
//! queued as it is by the cloud flavor. Every value keeps its place in the batch (its point's
//! row and its ordinal among all field values of the batch), so the engines still decide
//! everything in input order.

use std::collections::HashMap;

use crate::model::{FieldType, ValueColumn};

use super::SeriesKey;

/// A fast, deterministic hasher for the per-batch maps (keys come from one request, so
/// flooding is bounded by the request size that was already accepted).
pub type FastState = foldhash::fast::FixedState;

/// An ordinal as stored in a column. Ordinals past `u32::MAX` (a write of more than four
/// billion fields, far past every body cap) all read `u32::MAX`: their values are still
/// written, only the order of their rejections among themselves is lost.
pub fn to_ordinal(ordinal: usize) -> u32 {
    u32::try_from(ordinal).unwrap_or(u32::MAX)
}

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
    /// Per value: its position among every field of the batch (input order: row, then field),
    /// as a [`to_ordinal`]: 4 bytes, not 8, for each value of a queued cloud write.
    pub ordinals: Vec<u32>,
    /// Per value: its point's time.
    pub times: Vec<i64>,
    /// The values, stored by type (8 bytes a number).
    pub values: ValueColumn,
}

impl FieldColumn {
    /// An empty column of `key` for values of type `ty`, room for `capacity`.
    pub fn with_type(key: &[u8], capacity: usize, ty: FieldType) -> Self {
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
    pub fn append_to(&mut self, fields: &mut super::SeriesFields) {
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
            if keep(self.ordinals[r] as usize) {
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

/// Where [`SeriesBatch::absorb`] finds the series and columns of the chunks absorbed so far.
#[derive(Debug, Default)]
pub struct AbsorbIndex {
    series: HashMap<SeriesKey, usize, FastState>,
    /// Per series: field key → column (a search of the series' columns would be quadratic in
    /// a series with many keys).
    columns: Vec<HashMap<Vec<u8>, usize, FastState>>,
}

impl SeriesBatch {
    /// Moves the columns of `chunk` (the next points of the same write, grouped on their own)
    /// into this batch, for a write too large to group at once: its ordinals shift by
    /// `ordinal_base` (the fields of every earlier chunk), its series are found by key in
    /// `index` (kept by the caller across chunks, with their columns) or appended. Only the
    /// columns and the value count carry over (what a queued Cloud write is applied from);
    /// per-row arrays are not kept.
    pub fn absorb(&mut self, chunk: SeriesBatch, index: &mut AbsorbIndex, ordinal_base: usize) {
        self.value_count += chunk.value_count;
        for series in chunk.series {
            let s = match index.series.get(&series.key) {
                Some(&s) => s,
                None => {
                    index.series.insert(series.key.clone(), self.series.len());
                    index.columns.push(HashMap::default());
                    self.series.push(BatchSeries {
                        key: series.key.clone(),
                        columns: Vec::new(),
                    });
                    self.series.len() - 1
                }
            };
            let target = &mut self.series[s].columns;
            let Some(columns) = index.columns.get_mut(s) else {
                continue;
            };
            for mut column in series.columns {
                let base = to_ordinal(ordinal_base);
                for o in &mut column.ordinals {
                    *o = o.saturating_add(base);
                }
                match columns.get(column.key.as_slice()) {
                    Some(&c) => {
                        let c = &mut target[c];
                        c.ordinals.append(&mut column.ordinals);
                        c.times.append(&mut column.times);
                        c.values.append(&mut column.values);
                    }
                    None => {
                        columns.insert(column.key.clone(), target.len());
                        target.push(column);
                    }
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
    use crate::model::OwnedFieldValue;

    fn column(values: &[f64]) -> FieldColumn {
        let mut c = FieldColumn::with_type(b"v", values.len(), FieldType::Float);
        for (i, v) in values.iter().enumerate() {
            c.ordinals.push(to_ordinal(i));
            c.times.push(i as i64 + 1);
            c.values.push(OwnedFieldValue::Float(*v));
        }
        c
    }

    #[test]
    fn retain_ordinals_keeps_columns_aligned() {
        let mut col = column(&[1.0, 2.0, 3.0]);
        col.retain_ordinals(|o| o != 1);
        assert_eq!(col.ordinals, [0, 2]);
        assert_eq!(col.times, [1, 3]);
        assert_eq!(
            col.values.to_vec(),
            [OwnedFieldValue::Float(1.0), OwnedFieldValue::Float(3.0)]
        );
    }

    fn batch(key: &[u8], columns: Vec<(&[u8], &[f64])>) -> SeriesBatch {
        let mut series = BatchSeries {
            key: SeriesKey::measurement_only(key),
            columns: Vec::new(),
        };
        let mut value_count = 0;
        for (field, values) in columns {
            let mut c = column(values);
            c.key = field.to_vec();
            value_count += c.len();
            series.columns.push(c);
        }
        SeriesBatch {
            series: vec![series],
            value_count,
            ..SeriesBatch::default()
        }
    }

    /// Chunks are absorbed by series and field key, whatever their order in each chunk.
    #[test]
    fn absorb_finds_series_and_columns_by_key() {
        let mut whole = SeriesBatch::default();
        let mut index = AbsorbIndex::default();
        whole.absorb(
            batch(b"m", vec![(b"a", &[1.0]), (b"b", &[2.0])]),
            &mut index,
            0,
        );
        whole.absorb(batch(b"n", vec![(b"a", &[3.0])]), &mut index, 2);
        whole.absorb(
            batch(b"m", vec![(b"c", &[4.0]), (b"b", &[5.0, 6.0])]),
            &mut index,
            3,
        );
        assert_eq!(whole.value_count, 6);
        assert_eq!(whole.series.len(), 2);
        let m = &whole.series[0].columns;
        let keys: Vec<&[u8]> = m.iter().map(|c| &c.key[..]).collect();
        assert_eq!(keys, [&b"a"[..], b"b", b"c"]);
        // Each test column numbers its values from 0; absorbing shifts them by the base.
        assert_eq!(m[1].ordinals, [0, 3, 4]);
        assert_eq!(
            m[1].values.to_vec(),
            [2.0, 5.0, 6.0].map(OwnedFieldValue::Float)
        );
        assert_eq!(m[2].ordinals, [3]);
        assert_eq!(whole.series[1].columns[0].ordinals, [2]);
    }
}
