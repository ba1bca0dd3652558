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
    /// The distinct signatures, by index: each one's encoding
    /// ([`crate::engine::series_batch::signature_fields`] reads it back).
    pub signatures: Vec<Vec<u8>>,
    /// Number of values held in the columns.
    pub value_count: usize,
}

/// One series of a batch: its key and a column per field key.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSeries {
    pub key: SeriesKey,
    /// Columns in order of first appearance of their field key in this series. A batch built
    /// by [`SeriesBatch::absorb`] may hold a key's values in several columns (pieces, in
    /// input order): see `first_piece`.
    pub columns: Vec<FieldColumn>,
    /// Per column, the index of the first column of its field key; empty while every key has
    /// one column (every batch but a large absorbed one).
    pub first_piece: Vec<usize>,
}

impl BatchSeries {
    /// A series of `key` with no columns yet.
    pub fn new(key: SeriesKey) -> Self {
        Self {
            key,
            columns: Vec::new(),
            first_piece: Vec::new(),
        }
    }

    /// The index of the first column of the field key of column `c` (`c` itself unless the
    /// key's values were absorbed in pieces).
    pub fn first_piece_of(&self, c: usize) -> usize {
        self.first_piece.get(c).copied().unwrap_or(c)
    }
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
    /// column creates nothing), leaving the column's buffers (to be freed by the caller).
    pub fn append_to(&mut self, fields: &mut super::SeriesFields) {
        if self.is_empty() {
            return;
        }
        let values = match fields.get_mut(self.key.as_slice()) {
            Some(values) => values,
            None => fields.entry(self.key.clone()).or_default(),
        };
        values.extend_run_from(&self.times, &mut self.values);
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

/// A column absorbed past this many values takes the next chunk's values as a new piece
/// rather than growing: growing copies it (twice its size resident for a moment), and the
/// doubled room goes unused. A 128 MiB write of one series peaked 2.7-2.98x its body on cloud
/// with one growing column.
pub const PIECE_VALUES: usize = 1 << 16;

/// Where [`SeriesBatch::absorb`] finds the series and columns of the chunks absorbed so far.
#[derive(Debug, Default)]
pub struct AbsorbIndex {
    series: HashMap<SeriesKey, usize, FastState>,
    /// Per series: field key → its last column (a search of the series' columns would be
    /// quadratic in a series with many keys).
    columns: Vec<HashMap<Vec<u8>, usize, FastState>>,
}

impl SeriesBatch {
    /// Moves the columns of `chunk` (the next points of the same write, grouped on their own)
    /// into this batch, for a write too large to group at once: its ordinals shift by
    /// `ordinal_base` (the fields of every earlier chunk), its series are found by key in
    /// `index` (kept by the caller across chunks, with their columns) or appended. Only the
    /// columns and the value count carry over (what a queued Cloud write is applied from);
    /// per-row arrays are not kept.
    ///
    /// A key's column grows while it holds fewer than [`PIECE_VALUES`] values or the chunk's
    /// values fit its room; past that the chunk's column is kept as the key's next piece
    /// (`BatchSeries::first_piece`), so a large write is never copied to grow.
    pub fn absorb(&mut self, chunk: SeriesBatch, index: &mut AbsorbIndex, ordinal_base: usize) {
        self.absorb_in_pieces(chunk, index, ordinal_base, PIECE_VALUES);
    }

    /// [`SeriesBatch::absorb`] with pieces of `piece_values` (tests use small ones).
    pub(crate) fn absorb_in_pieces(
        &mut self,
        chunk: SeriesBatch,
        index: &mut AbsorbIndex,
        ordinal_base: usize,
        piece_values: usize,
    ) {
        self.value_count += chunk.value_count;
        for series in chunk.series {
            let s = match index.series.get(&series.key) {
                Some(&s) => s,
                None => {
                    index.series.insert(series.key.clone(), self.series.len());
                    index.columns.push(HashMap::default());
                    self.series.push(BatchSeries::new(series.key.clone()));
                    self.series.len() - 1
                }
            };
            let target = &mut self.series[s];
            let Some(columns) = index.columns.get_mut(s) else {
                continue;
            };
            for mut column in series.columns {
                let base = to_ordinal(ordinal_base);
                for o in &mut column.ordinals {
                    *o = o.saturating_add(base);
                }
                let Some(&last) = columns.get(column.key.as_slice()) else {
                    columns.insert(column.key.clone(), target.columns.len());
                    if !target.first_piece.is_empty() {
                        target.first_piece.push(target.columns.len());
                    }
                    target.columns.push(column);
                    continue;
                };
                let piece = &mut target.columns[last];
                let fits = piece.len() + column.len() <= piece.times.capacity();
                if piece.len() < piece_values || fits {
                    piece.ordinals.append(&mut column.ordinals);
                    piece.times.append(&mut column.times);
                    piece.values.append(&mut column.values);
                    continue;
                }
                // A new piece of the key, after its last.
                if target.first_piece.is_empty() {
                    target.first_piece = (0..target.columns.len()).collect();
                }
                let first = target.first_piece_of(last);
                target.first_piece.push(first);
                if let Some(c) = columns.get_mut(column.key.as_slice()) {
                    *c = target.columns.len();
                }
                target.columns.push(column);
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
        let mut series = BatchSeries::new(SeriesKey::measurement_only(key));
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

    /// Past the piece size a key's next values become its next piece, never a copy of the
    /// column; keys still below it keep growing, and `first_piece` names each piece's key.
    #[test]
    fn absorb_keeps_large_columns_in_pieces() {
        let mut whole = SeriesBatch::default();
        let mut index = AbsorbIndex::default();
        let chunks: [Vec<(&[u8], &[f64])>; 3] = [
            vec![(b"a", &[1.0, 2.0]), (b"b", &[3.0])],
            vec![(b"a", &[4.0]), (b"b", &[5.0])],
            vec![(b"a", &[6.0]), (b"b", &[7.0]), (b"c", &[8.0])],
        ];
        for (i, chunk) in chunks.into_iter().enumerate() {
            whole.absorb_in_pieces(batch(b"m", chunk), &mut index, 10 * i, 2);
        }
        let m = &whole.series[0];
        let keys: Vec<&[u8]> = m.columns.iter().map(|c| &c.key[..]).collect();
        // a: [1, 2] holds the piece size with no room left, so [4] starts a piece, which
        // holds 1 < 2 values and grows to [4, 6]. b: [3] grows to [3, 5] (past the piece
        // size, but [7] fits the room growing left), so b stays one column.
        assert_eq!(keys, [&b"a"[..], b"b", b"a", b"c"]);
        assert_eq!(m.first_piece, [0, 1, 0, 3]);
        let values = |c: usize| m.columns[c].values.to_vec();
        assert_eq!(values(0), [1.0, 2.0].map(OwnedFieldValue::Float));
        assert_eq!(values(1), [3.0, 5.0, 7.0].map(OwnedFieldValue::Float));
        assert_eq!(values(2), [4.0, 6.0].map(OwnedFieldValue::Float));
        assert_eq!(m.columns[2].ordinals, [10, 20]);
        assert_eq!(whole.value_count, 8);
        assert_eq!(m.first_piece_of(3), 3);
    }
}
