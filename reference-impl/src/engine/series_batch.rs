//! A parsed batch regrouped the way storage is organized, (series, field) → values, owned and
//! built before the store lock is taken.
//!
//! Grouping once, outside the lock, leaves the locked part of a write with one index search
//! per series and one append per (series, field) instead of one of each per value, which is
//! what lets several connections write at once. Every value keeps its place in the batch (its
//! point's row and its ordinal among all field values of the batch), so the engines still
//! decide everything in input order: nothing here decides whether a value is written.

use std::collections::HashMap;

use crate::line_protocol::{Field, Point, PointView};
use crate::model::{FieldType, OwnedFieldValue, ValueColumn};
use crate::storage::batch::FastState;
pub use crate::storage::batch::{to_ordinal, BatchSeries, FieldColumn, SeriesBatch};
use crate::storage::SeriesKey;

/// The last signature computed for a series, and for each field of the point it was computed
/// for, its key, type and column (`None`: the field has no column). The keys and fields live in
/// the builder's `template_keys` and `template_fields`: a series' template takes no allocation
/// of its own (most series of a small batch have one or two points).
#[derive(Debug, Clone)]
struct Template {
    signature: usize,
    /// `template_keys[keys..]` holds the field keys one after another; `fields` indexes
    /// `template_fields`, whose `.0` is where each key ends (relative to `keys`).
    keys: usize,
    fields: std::ops::Range<usize>,
}

impl Template {
    /// Whether `fields` have the keys and types of this template's point, in order.
    fn matches(
        &self,
        fields: &[Field<'_>],
        keys: &[u8],
        spans: &[(usize, FieldType, Option<usize>)],
    ) -> bool {
        let Some(spans) = spans.get(self.fields.clone()) else {
            return false;
        };
        let Some(keys) = keys.get(self.keys..) else {
            return false;
        };
        if fields.len() != spans.len() {
            return false;
        }
        let mut start = 0;
        fields.iter().zip(spans).all(|(f, &(end, ty, _))| {
            let same = keys.get(start..end) == Some(&*f.key) && f.value.field_type() == ty;
            start = end;
            same
        })
    }
}

/// Most series (and signatures) the maps make room for ahead: a batch of many rows usually
/// holds far fewer series than rows.
const MAP_HINT: usize = 64;

/// Most values the first row's fields make room for ahead (40 bytes each).
const VALUES_HINT: usize = 1 << 16;

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

fn type_of_code(code: u8) -> Option<FieldType> {
    Some(match code {
        0 => FieldType::Float,
        1 => FieldType::Integer,
        2 => FieldType::Unsigned,
        3 => FieldType::String,
        4 => FieldType::Boolean,
        _ => return None,
    })
}

/// Appends `bytes` to a signature encoding, length first.
fn push_counted(encoding: &mut Vec<u8>, bytes: &[u8]) {
    encoding.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    encoding.extend_from_slice(bytes);
}

/// Takes a length-prefixed run off the front of `rest`.
fn take_counted<'e>(rest: &mut &'e [u8]) -> Option<&'e [u8]> {
    let (len, tail) = rest.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    let bytes = tail.get(..len)?;
    *rest = tail.get(len..)?;
    Some(bytes)
}

/// A signature's measurement and its fields' keys and types, in the point's order (every
/// field, those without a column too), read back from its encoding in
/// [`SeriesBatch::signatures`]. `None` for bytes that are not such an encoding.
pub fn signature_fields(encoding: &[u8]) -> Option<(&[u8], SignatureFields<'_>)> {
    let mut rest = encoding;
    let measurement = take_counted(&mut rest)?;
    Some((measurement, SignatureFields { rest }))
}

/// The fields of a signature, key and type ([`signature_fields`]).
pub struct SignatureFields<'e> {
    rest: &'e [u8],
}

impl<'e> Iterator for SignatureFields<'e> {
    type Item = (&'e [u8], FieldType);

    fn next(&mut self) -> Option<Self::Item> {
        let (&code, tail) = self.rest.split_first()?;
        self.rest = tail;
        let key = take_counted(&mut self.rest)?;
        Some((key, type_of_code(code)?))
    }
}

impl SeriesBatch {
    /// Groups `points` by series. `default_time` stamps points without a timestamp; `column`
    /// says, by field key, which fields get a column (every field still counts for ordinals and
    /// signatures).
    pub fn build(points: &[Point<'_>], default_time: i64, column: impl Fn(&[u8]) -> bool) -> Self {
        let mut builder = SeriesBatchBuilder::new(default_time, column);
        for point in points {
            builder.push(point);
        }
        builder.finish()
    }
}

/// Groups points by series as they come, one at a time, so that a write's points need not be
/// kept to be grouped: the parser lends each point ([`crate::line_protocol::PointRef`]), and
/// what grouping needs of it (its series, time, signature, and each field's value and column)
/// is noted at once. [`SeriesBatch::build`] is this builder fed kept points.
///
/// The columns are filled at the end, series by series, each allocated once at its final
/// size: appended to in input order, every point went to another series' ten columns (three
/// vectors each), growing them as it went (`WRITE_PHASE=group` of the write bench: 1,145-1,315
/// ns a point against 822-949 for the two passes over kept points this replaced).
///
/// The kept points of a 5,000-line TSBS body took 7.2 MB (1,447 bytes a point, two vectors
/// each) beside the 3.2 MB of its grouping; the values noted here take 40 bytes each.
pub struct SeriesBatchBuilder<'a, C> {
    out: SeriesBatch,
    default_time: i64,
    column: C,
    /// Fields seen so far: the ordinal of the next point's first field.
    ordinal: usize,
    /// Series by their key as written (one hash of contiguous bytes): a raw key not seen yet is
    /// looked up by its parsed series key in `by_key`.
    by_raw_key: HashMap<&'a [u8], usize, FastState>,
    /// Series by their parsed key. The keys move into the batch's series at the end (a copy
    /// per series for the map was ~5% of a small batch's allocations).
    by_key: HashMap<SeriesKey, usize, FastState>,
    /// Per series: its rows, its columns and its last signature.
    series: Vec<SeriesState>,
    /// Every series' columns, each series' in a list (`SeriesState::columns`), their keys
    /// one after another in `column_keys`: a series of a few fields takes no vector of its own
    /// until the end.
    columns: Vec<ColumnState>,
    column_keys: Vec<u8>,
    /// Per series past its first `SEARCHED_COLUMNS` columns (which are searched in order): field
    /// key → column (index in `columns`). A search of every column would be quadratic in a
    /// series with many keys, and a map for the usual few was 3.5% of a write.
    column_index: HashMap<usize, HashMap<Vec<u8>, usize, FastState>, FastState>,
    /// The series' templates' keys and fields (see [`Template`]). A series whose fields change
    /// appends a new template: at most the batch's field keys, once per point.
    template_keys: Vec<u8>,
    template_fields: Vec<(usize, FieldType, Option<usize>)>,
    /// Signature encodings → their index, in order of first appearance.
    signature_of: HashMap<Vec<u8>, usize, FastState>,
    signature: Vec<u8>,
    /// The values that go into a column, in input order; those of row `r` are
    /// `values[row_values[r]..row_values[r + 1]]`.
    values: Vec<PendingValue>,
    row_values: Vec<usize>,
}

/// No next column.
const END: usize = usize::MAX;

/// A series while its points come: how many rows it has, and its columns so far.
struct SeriesState {
    rows: usize,
    /// Its first and last column (indices in the builder's `columns`; `END` when it has none)
    /// and how many it has.
    first_column: usize,
    last_column: usize,
    column_count: usize,
    /// The last signature computed in this series. A point whose fields have the same keys
    /// and types, in the same order, shares it without a hash look-up (the usual case: a
    /// series keeps its fields).
    template: Option<Template>,
}

impl Default for SeriesState {
    fn default() -> Self {
        Self {
            rows: 0,
            first_column: END,
            last_column: END,
            column_count: 0,
            template: None,
        }
    }
}

/// A column while its values come.
struct ColumnState {
    /// Its key: `column_keys[key]`.
    key: std::ops::Range<usize>,
    /// The type of its first value.
    ty: FieldType,
    /// How many values it has.
    values: usize,
    /// Its place among its series' columns, and the series' next column (`END` for none).
    position: usize,
    next: usize,
}

/// A field value noted for its column.
struct PendingValue {
    ordinal: u32,
    /// Index in the builder's `columns` (a batch holds fewer columns than values, and fewer
    /// values than `u32::MAX`: see [`to_ordinal`]).
    column: u32,
    value: OwnedFieldValue,
}

impl<'a, C: Fn(&[u8]) -> bool> SeriesBatchBuilder<'a, C> {
    /// An empty batch; see [`SeriesBatch::build`] for `default_time` and `column`.
    pub fn new(default_time: i64, column: C) -> Self {
        Self::with_capacity(default_time, column, 0)
    }

    /// [`Self::new`] with the per-row vectors allocated for `rows` points, and the maps of
    /// series and signatures for up to [`MAP_HINT`] of them.
    pub fn with_capacity(default_time: i64, column: C, rows: usize) -> Self {
        let with_first = |first: usize| {
            let mut v = Vec::with_capacity(rows + 1);
            v.push(first);
            v
        };
        let keys = rows.min(MAP_HINT);
        Self {
            out: SeriesBatch {
                row_first_ordinal: with_first(0),
                row_series: Vec::with_capacity(rows),
                row_time: Vec::with_capacity(rows),
                row_signature: Vec::with_capacity(rows),
                row_plain: Vec::with_capacity(rows),
                ..SeriesBatch::default()
            },
            default_time,
            column,
            ordinal: 0,
            by_raw_key: HashMap::with_capacity_and_hasher(keys, FastState::default()),
            by_key: HashMap::with_capacity_and_hasher(keys, FastState::default()),
            series: Vec::with_capacity(keys),
            columns: Vec::with_capacity(keys),
            column_keys: Vec::new(),
            column_index: HashMap::with_hasher(FastState::default()),
            template_keys: Vec::new(),
            template_fields: Vec::with_capacity(keys),
            signature_of: HashMap::with_capacity_and_hasher(keys, FastState::default()),
            signature: Vec::new(),
            // Sized by the first point's fields (see `push`).
            values: Vec::new(),
            row_values: with_first(0),
        }
    }

    /// The series of `point`, added when new.
    fn series_of(&mut self, point: &impl PointView<'a>) -> usize {
        let raw = point.raw_key();
        if !raw.is_empty() {
            if let Some(&s) = self.by_raw_key.get(raw) {
                return s;
            }
        }
        let key = SeriesKey::new(
            point.measurement(),
            point.tags().iter().map(|t| (&*t.key, &*t.value)),
        );
        let s = match self.by_key.get(&key) {
            Some(&s) => s,
            None => {
                let s = self.series.len();
                self.by_key.insert(key, s);
                self.series.push(SeriesState::default());
                s
            }
        };
        if !raw.is_empty() {
            self.by_raw_key.insert(raw, s);
        }
        s
    }

    /// Adds the next point (in input order).
    pub fn push(&mut self, point: &impl PointView<'a>) {
        let s = self.series_of(point);
        let time = point.timestamp().unwrap_or(self.default_time);
        let fields = point.fields();
        if self.out.row_series.is_empty() {
            // Room for as many values a row as the first row holds, for the rows the batch
            // made room for (grown from one a row, a TSBS batch's values were copied four
            // times), within a bound a hostile first line cannot push past.
            let hint = self.out.row_series.capacity().saturating_mul(fields.len());
            self.values.reserve(hint.min(VALUES_HINT));
        }
        let first = self.ordinal;
        self.ordinal += fields.len();
        let out = &mut self.out;
        out.row_series.push(s);
        out.row_time.push(time);
        out.row_first_ordinal.push(self.ordinal);
        let (signature, plain) = match self.series.get_mut(s) {
            Some(series) => {
                series.rows += 1;
                let mut notes = Notes {
                    columns: &mut self.columns,
                    column_keys: &mut self.column_keys,
                    column_index: &mut self.column_index,
                    template_keys: &mut self.template_keys,
                    template_fields: &mut self.template_fields,
                    signature_of: &mut self.signature_of,
                    signature: &mut self.signature,
                    values: &mut self.values,
                };
                notes.note_fields(series, s, point.measurement(), fields, first, &self.column)
            }
            None => (0, true),
        };
        out.row_signature.push(signature);
        out.row_plain.push(plain);
        self.row_values.push(self.values.len());
    }

    /// The batch of every point pushed.
    pub fn finish(self) -> SeriesBatch {
        let Self {
            mut out,
            by_key,
            series,
            columns: column_states,
            column_keys,
            signature_of,
            mut values,
            row_values,
            ..
        } = self;
        let mut signatures = vec![Vec::new(); signature_of.len()];
        for (encoding, i) in signature_of {
            if let Some(slot) = signatures.get_mut(i) {
                *slot = encoding;
            }
        }
        out.signatures = signatures;
        // Each series' key, moved out of the map.
        let mut keys: Vec<Option<SeriesKey>> = Vec::with_capacity(series.len());
        keys.resize_with(series.len(), || None);
        for (key, s) in by_key {
            if let Some(slot) = keys.get_mut(s) {
                *slot = Some(key);
            }
        }
        out.series = keys
            .into_iter()
            .map(|key| BatchSeries::new(key.unwrap_or_else(|| SeriesKey::new(b"", []))))
            .collect();
        // The rows of each series, in input order (`by_series[start[s]..start[s + 1]]`).
        let mut start = Vec::with_capacity(series.len() + 1);
        let mut next = 0;
        for state in &series {
            start.push(next);
            next += state.rows;
        }
        start.push(next);
        let mut filled = start.clone();
        let mut by_series = vec![0; out.row_series.len()];
        for (row, &s) in out.row_series.iter().enumerate() {
            by_series[filled[s]] = row;
            filled[s] += 1;
        }
        for (s, state) in series.iter().enumerate() {
            let Some(batch_series) = out.series.get_mut(s) else {
                continue;
            };
            let columns = &mut batch_series.columns;
            columns.reserve_exact(state.column_count);
            let mut c = state.first_column;
            while let Some(col) = column_states.get(c) {
                columns.push(FieldColumn {
                    key: column_keys
                        .get(col.key.clone())
                        .unwrap_or_default()
                        .to_vec(),
                    ordinals: Vec::with_capacity(col.values),
                    times: Vec::with_capacity(col.values),
                    values: ValueColumn::for_type(col.ty, col.values),
                });
                c = col.next;
            }
            for &row in &by_series[start[s]..start[s + 1]] {
                let time = out.row_time[row];
                for v in &mut values[row_values[row]..row_values[row + 1]] {
                    let position = column_states
                        .get(v.column as usize)
                        .map_or(END, |c| c.position);
                    if let Some(col) = columns.get_mut(position) {
                        col.ordinals.push(v.ordinal);
                        col.times.push(time);
                        col.values.push(std::mem::replace(
                            &mut v.value,
                            OwnedFieldValue::Boolean(false),
                        ));
                        out.value_count += 1;
                    }
                }
            }
        }
        out
    }
}

/// Notes `field`'s value (the field of ordinal `ordinal`) for column `c`.
fn note_value(
    columns: &mut [ColumnState],
    values: &mut Vec<PendingValue>,
    c: usize,
    ordinal: usize,
    field: &Field<'_>,
) {
    if let Some(col) = columns.get_mut(c) {
        col.values += 1;
    }
    values.push(PendingValue {
        ordinal: to_ordinal(ordinal),
        column: to_ordinal(c),
        value: field.value.to_owned_value(),
    });
}

/// The builder's parts a point's fields are noted in.
struct Notes<'b> {
    columns: &'b mut Vec<ColumnState>,
    column_keys: &'b mut Vec<u8>,
    column_index: &'b mut HashMap<usize, HashMap<Vec<u8>, usize, FastState>, FastState>,
    template_keys: &'b mut Vec<u8>,
    template_fields: &'b mut Vec<(usize, FieldType, Option<usize>)>,
    signature_of: &'b mut HashMap<Vec<u8>, usize, FastState>,
    signature: &'b mut Vec<u8>,
    values: &'b mut Vec<PendingValue>,
}

impl Notes<'_> {
    /// Notes the fields of one point of series `s` (state `series`): the column of each and
    /// the values that go into one. Returns the point's signature and whether it is plain.
    fn note_fields(
        &mut self,
        series: &mut SeriesState,
        s: usize,
        measurement: &[u8],
        fields: &[Field<'_>],
        first: usize,
        column: &impl Fn(&[u8]) -> bool,
    ) -> (usize, bool) {
        let mut plain = true;
        if let Some(t) = series
            .template
            .as_ref()
            .filter(|t| t.matches(fields, self.template_keys, self.template_fields))
        {
            // Same keys in the same order: the same columns, no key comparison.
            let spans = self.template_fields.get(t.fields.clone()).unwrap_or(&[]);
            for (ordinal, (field, &(_, _, c))) in (first..).zip(fields.iter().zip(spans)) {
                plain &= !needs_close_look(field);
                if let Some(c) = c {
                    note_value(self.columns, self.values, c, ordinal, field);
                }
            }
            return (t.signature, plain);
        }
        let signature = &mut *self.signature;
        signature.clear();
        push_counted(signature, measurement);
        for field in fields {
            signature.push(type_code(field.value.field_type()));
            push_counted(signature, &field.key);
        }
        let next = self.signature_of.len();
        let sig = match self.signature_of.get(signature.as_slice()) {
            Some(&sig) => sig,
            None => {
                self.signature_of.insert(signature.clone(), next);
                next
            }
        };
        // A new template, at the end of the shared buffers (in place of the series' last one
        // when that is the last there: a series whose fields keep changing reuses the room).
        if let Some(old) = series
            .template
            .take()
            .filter(|t| t.fields.end == self.template_fields.len())
        {
            self.template_keys.truncate(old.keys);
            self.template_fields.truncate(old.fields.start);
        }
        let keys_start = self.template_keys.len();
        let fields_start = self.template_fields.len();
        for (ordinal, field) in (first..).zip(fields) {
            plain &= !needs_close_look(field);
            let ty = field.value.field_type();
            self.template_keys.extend_from_slice(&field.key);
            let key_end = self.template_keys.len() - keys_start;
            if !column(&field.key) {
                self.template_fields.push((key_end, ty, None));
                continue;
            }
            let c = self.column_of(series, s, &field.key, ty);
            self.template_fields.push((key_end, ty, Some(c)));
            note_value(self.columns, self.values, c, ordinal, field);
        }
        series.template = Some(Template {
            signature: sig,
            keys: keys_start,
            fields: fields_start..self.template_fields.len(),
        });
        (sig, plain)
    }

    /// The column of `key` in series `s`, added (for values of type `ty`) when it has none.
    fn column_of(
        &mut self,
        series: &mut SeriesState,
        s: usize,
        key: &[u8],
        ty: FieldType,
    ) -> usize {
        let mut c = series.first_column;
        let mut searched = 0;
        while let Some(col) = self.columns.get(c).filter(|_| searched < SEARCHED_COLUMNS) {
            if self.column_keys.get(col.key.clone()) == Some(key) {
                return c;
            }
            searched += 1;
            c = col.next;
        }
        if series.column_count > SEARCHED_COLUMNS {
            if let Some(&c) = self.column_index.get(&s).and_then(|m| m.get(key)) {
                return c;
            }
        }
        let c = self.columns.len();
        let start = self.column_keys.len();
        self.column_keys.extend_from_slice(key);
        self.columns.push(ColumnState {
            key: start..self.column_keys.len(),
            ty,
            values: 0,
            position: series.column_count,
            next: END,
        });
        match self.columns.get_mut(series.last_column) {
            Some(last) => last.next = c,
            None => series.first_column = c,
        }
        series.last_column = c;
        if series.column_count >= SEARCHED_COLUMNS {
            self.column_index
                .entry(s)
                .or_default()
                .insert(key.to_vec(), c);
        }
        series.column_count += 1;
        c
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
        assert_eq!(b.signatures.len(), 4);
        let (m, fields) = signature_fields(&b.signatures[0]).unwrap();
        assert_eq!(m, b"m");
        assert_eq!(
            fields.collect::<Vec<_>>(),
            [
                (&b"v"[..], FieldType::Float),
                (&b"w"[..], FieldType::Integer)
            ]
        );
        let (m, fields) = signature_fields(&b.signatures[3]).unwrap();
        assert_eq!(m, b"m");
        assert_eq!(fields.count(), 2, "time counts in the signature");
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

    /// A series whose fields keep changing rebuilds its template in place: the shared
    /// template buffers stay the size of one point's fields, and every value finds its column.
    #[test]
    fn changing_fields_reuse_the_template_room() {
        let n = 1000;
        let body: String = (0..n)
            .map(|i| match i % 2 {
                0 => format!("m a=1,b=2 {i}\n"),
                _ => format!("m b=3i {i}\n"),
            })
            .collect();
        let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
        let mut builder = SeriesBatchBuilder::new(0, |_: &[u8]| true);
        for point in &batch.points {
            builder.push(point);
        }
        assert!(builder.template_fields.len() <= 2);
        assert!(builder.template_keys.len() <= 2);
        let b = builder.finish();
        assert_eq!(b.signatures.len(), 2);
        let keys: Vec<&[u8]> = b.series[0].columns.iter().map(|c| &c.key[..]).collect();
        assert_eq!(keys, [&b"a"[..], b"b"]);
        // `b` holds every point's value (a float, then integers: types are checked later).
        assert_eq!(b.series[0].columns[1].len(), n);
        assert_eq!(b.series[0].columns[0].len(), n / 2);
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
