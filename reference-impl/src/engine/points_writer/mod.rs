//! The storage side of an OSS write (`coordinator.PointsWriter` and `tsdb.Shard`): retention
//! drops, shard-group mapping, per-shard field types, partial-write errors, and the write of
//! the surviving points.

#[cfg(test)]
mod model;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::series_batch::{signature_fields, SeriesBatch, SeriesBatchBuilder};
use crate::line_protocol::{series_key, Dialect, Point, PointView, Precision};
use crate::model::text::go_lossy;
use crate::model::time::{format_go_duration, format_rfc3339_nano};
use crate::model::FieldType;
use crate::storage::{series_entry, Bucket, BucketData, ShardGroup};

pub use crate::storage::MAX_FIELD_VALUE_LENGTH;

/// Which server release's storage quirks to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageVersion {
    /// v2.7.12: a field named `time` beside other fields is stripped silently (204).
    #[default]
    V2_7,
    /// v2.8+: the same field is stripped and the write answers 422 `dropped=0`.
    V2_8,
}

/// `tsdb.PartialWriteError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialWrite {
    pub reason: String,
    pub dropped: usize,
    pub database: Option<String>,
    pub retention_policy: Option<String>,
}

impl fmt::Display for PartialWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "partial write: {} dropped={}", self.reason, self.dropped)?;
        if let Some(db) = &self.database {
            write!(f, " for database: {db}")?;
        }
        if let Some(rp) = &self.retention_policy {
            write!(f, " for retention policy: {rp}")?;
        }
        Ok(())
    }
}

/// What a write stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteStats {
    /// Points (lines) written.
    pub points_written: usize,
    /// Points dropped (retention or shard validation).
    pub points_dropped: usize,
}

/// A point dropped for retention, as `DroppedPoint.String()` prints it.
struct RetentionDrop {
    key: Vec<u8>,
    time: i64,
}

/// The points of a write dropped for retention: how many, and the oldest and newest.
#[derive(Default)]
pub(crate) struct RetentionDrops {
    count: usize,
    oldest: Option<RetentionDrop>,
    newest: Option<RetentionDrop>,
}

impl RetentionDrops {
    /// Adds the drops of a later chunk of the same write: the first point seen with the
    /// extreme time stays.
    pub(crate) fn absorb(&mut self, later: RetentionDrops) {
        self.count += later.count;
        if let Some(o) = later.oldest {
            if self.oldest.as_ref().is_none_or(|mine| o.time < mine.time) {
                self.oldest = Some(o);
            }
        }
        if let Some(n) = later.newest {
            if self.newest.as_ref().is_none_or(|mine| n.time > mine.time) {
                self.newest = Some(n);
            }
        }
    }

    /// Counts `point`, dropped at time `t`. MinDropped/MaxDropped keep the first point seen
    /// with the extreme time.
    #[cfg(test)]
    pub(crate) fn note(&mut self, point: &Point<'_>, t: i64) {
        self.note_with(t, || Some(Cow::Borrowed(point)));
    }

    /// [`RetentionDrops::note`] of the point `point` gives, asked for only when it is kept
    /// (the oldest or newest so far).
    fn note_with<'r, 'a: 'r>(&mut self, t: i64, point: impl Fn() -> Option<Cow<'r, Point<'a>>>) {
        self.count += 1;
        let drop = || RetentionDrop {
            key: point()
                .map(|p| series_key(&p.measurement, &p.tags))
                .unwrap_or_default(),
            time: t,
        };
        if self.oldest.as_ref().is_none_or(|o| t < o.time) {
            self.oldest = Some(drop());
        }
        if self.newest.as_ref().is_none_or(|n| t > n.time) {
            self.newest = Some(drop());
        }
    }
}

/// A point's [`Point::line`] and [`Point::line_number`].
pub type LineOf<'a> = (&'a [u8], usize);

/// The points of a write as [`write_points`] looks at them: kept, or by their lines in the
/// body, parsed again for the few it looks at closely (the first point of each field
/// signature in a shard group, points with a `time` field or a long string, points dropped
/// for retention that are the oldest or newest so far). A write grouped as it was parsed
/// ([`crate::engine::series_batch::SeriesBatchBuilder`]) keeps only the lines.
#[derive(Clone, Copy)]
pub enum Rows<'r, 'a> {
    Kept(&'r [Point<'a>]),
    /// Each point's [`Point::line`] and [`Point::line_number`], and how the body was parsed.
    Lines {
        lines: &'r [LineOf<'a>],
        precision: Precision,
        dialect: Dialect,
    },
}

impl<'r, 'a> From<&'r [Point<'a>]> for Rows<'r, 'a> {
    fn from(points: &'r [Point<'a>]) -> Self {
        Self::Kept(points)
    }
}

impl<'r, 'a> From<&'r Vec<Point<'a>>> for Rows<'r, 'a> {
    fn from(points: &'r Vec<Point<'a>>) -> Self {
        Self::Kept(points)
    }
}

impl<'r, 'a> Rows<'r, 'a> {
    pub fn len(&self) -> usize {
        match self {
            Self::Kept(points) => points.len(),
            Self::Lines { lines, .. } => lines.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The point of row `row`. `None` past the rows, or for a line that no longer parses
    /// (it parsed before, so never).
    pub fn point(&self, row: usize) -> Option<Cow<'r, Point<'a>>> {
        match *self {
            Self::Kept(points) => points.get(row).map(Cow::Borrowed),
            Self::Lines {
                lines,
                precision,
                dialect,
            } => {
                let &(line, number) = lines.get(row)?;
                dialect
                    .parse_line_again(line, number, precision)
                    .map(Cow::Owned)
            }
        }
    }
}

/// The partial-write error a write answers with, in InfluxDB's precedence: the first shard
/// error, else the retention drops (reported only when no shard failed), else on 2.8+ the
/// stripped `time` field.
pub(crate) fn partial_write(
    bucket: &Bucket,
    first_shard_error: Option<PartialWrite>,
    drops: RetentionDrops,
    min_time: Option<i64>,
    stripped_time_field: Option<Vec<u8>>,
    version: StorageVersion,
) -> Option<PartialWrite> {
    if first_shard_error.is_some() {
        return first_shard_error;
    }
    if let (Some(oldest), Some(newest), Some(min)) = (drops.oldest, drops.newest, min_time) {
        let bound = format_rfc3339_nano(min);
        let describe = |d: &RetentionDrop| {
            format!(
                "point {} at {} dropped because it violates a Retention Policy Lower Bound at {bound}",
                go_lossy(&d.key),
                format_rfc3339_nano(d.time)
            )
        };
        let reason = format!(
            "dropped {} points outside retention policy of duration {} - oldest {}, newest {}",
            drops.count,
            format_go_duration(bucket.retention),
            describe(&oldest),
            describe(&newest)
        );
        return Some(in_bucket(bucket, reason, drops.count));
    }
    if version == StorageVersion::V2_8 {
        if let Some(m) = stripped_time_field {
            let reason = format!(
                "invalid field name: input field \"time\" on measurement \"{}\" is invalid. Field \"time\" has been stripped from point.",
                go_lossy(&m)
            );
            return Some(in_bucket(bucket, reason, 0));
        }
    }
    None
}

/// Points of a write grouped as the parser hands them out, each kept only as its line (see
/// [`Rows::Lines`]): a chunk of a write, or all of an ordinary one.
pub struct GroupedLines<'a> {
    builder: SeriesBatchBuilder<'a, fn(&[u8]) -> bool>,
    lines: Vec<LineOf<'a>>,
}

impl<'a> GroupedLines<'a> {
    /// No points yet; `default_time` stamps points without a timestamp, `column` says which
    /// fields get a column ([`stored_column`] for OSS, every field for Cloud).
    pub fn new(default_time: i64, column: fn(&[u8]) -> bool) -> Self {
        Self::with_capacity(default_time, column, 0)
    }

    /// [`Self::new`] with room for `rows` points.
    pub fn with_capacity(default_time: i64, column: fn(&[u8]) -> bool, rows: usize) -> Self {
        Self {
            builder: SeriesBatchBuilder::with_capacity(default_time, column, rows),
            lines: Vec::with_capacity(rows),
        }
    }

    /// Groups the next point (in input order) and notes its line.
    pub fn push(&mut self, point: &impl PointView<'a>) {
        self.builder.push(point);
        self.lines.push(point.line());
    }

    /// Points pushed so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The grouped batch ([`series_batch`]'s) and every point's line, in input order.
    pub fn finish(self) -> (SeriesBatch, Vec<LineOf<'a>>) {
        (self.builder.finish(), self.lines)
    }
}

/// The columns an OSS write stores: every field but the reserved key `time` (stripped).
pub fn stored_column(key: &[u8]) -> bool {
    key != b"time"
}

/// `points` grouped by series with the columns an OSS write stores ([`stored_column`]).
pub fn series_batch(points: &[Point<'_>], default_time: i64) -> SeriesBatch {
    SeriesBatch::build(points, default_time, stored_column)
}

/// Writes `points` (grouped by series in `batch`, see [`series_batch`]; its values are
/// taken, its buffers left for the caller to free outside the store lock) into `data` as
/// InfluxDB OSS does and reports the partial-write error the handler turns into a 422. `now`
/// is the request time used for the retention lower bound.
///
/// Points are validated in input order, shard group by shard group (field types are
/// registered as they come), then written (column by column): validation reads field types,
/// never the values, and the values of one (series, field) keep their order, so a later value
/// at the same time still wins. Every point's series enters the index of its shard group,
/// even when the point is dropped. A point whose field signature (measurement, field keys and
/// types) already passed in the same shard group passes again without a look-up: types are
/// only ever added during a write.
///
/// Choices where InfluxDB is nondeterministic (shards are written concurrently and the first
/// error to arrive wins): shard groups are processed in time order and the earliest group's
/// error is reported.
pub fn write_points<'r, 'a: 'r>(
    data: &mut BucketData,
    bucket: &Bucket,
    points: impl Into<Rows<'r, 'a>>,
    batch: &mut SeriesBatch,
    now: i64,
    version: StorageVersion,
) -> (WriteStats, Option<PartialWrite>) {
    let mut progress = WriteProgress::default();
    write_chunk(&mut progress, data, bucket, points.into(), batch, now);
    progress.finish(bucket, now, version)
}

/// What the chunks of one write did so far: a large body is parsed and written a chunk of
/// points at a time (so its points never all exist at once), and reports as if written whole.
/// Shard groups are independent and each chunk keeps the input order within a group, so
/// per group the first failure and the sum of drops are the same either way.
#[derive(Default)]
pub struct WriteProgress {
    stats: WriteStats,
    drops: RetentionDrops,
    /// Shard group start → the group's first failure (in input order) and its drop count.
    shard_errors: BTreeMap<i64, (String, usize)>,
    /// The earliest shard group with a stripped `time` field, and that group's first such
    /// measurement: the whole write validates group by group in time order, so a later
    /// chunk's earlier group must win over an earlier chunk's later one.
    stripped_time_field: Option<(i64, Vec<u8>)>,
}

impl WriteProgress {
    /// The write's outcome: what was stored, and the partial-write error in InfluxDB's
    /// precedence (see [`partial_write`]).
    pub fn finish(
        self,
        bucket: &Bucket,
        now: i64,
        version: StorageVersion,
    ) -> (WriteStats, Option<PartialWrite>) {
        let min_time = (bucket.retention > 0).then(|| now.saturating_sub(bucket.retention));
        let first_shard_error =
            self.shard_errors
                .into_iter()
                .next()
                .map(|(_, (reason, dropped))| PartialWrite {
                    reason,
                    dropped,
                    database: None,
                    retention_policy: None,
                });
        let partial = partial_write(
            bucket,
            first_shard_error,
            self.drops,
            min_time,
            self.stripped_time_field.map(|(_, m)| m),
            version,
        );
        (self.stats, partial)
    }
}

/// Writes one chunk of a write's points (all of them for a body of ordinary size): see
/// [`write_points`].
pub fn write_chunk(
    progress: &mut WriteProgress,
    data: &mut BucketData,
    bucket: &Bucket,
    points: Rows<'_, '_>,
    batch: &mut SeriesBatch,
    now: i64,
) {
    let WriteProgress {
        stats,
        drops: all_drops,
        shard_errors,
        stripped_time_field,
    } = progress;
    let rows = batch.rows().min(points.len());
    let duration = bucket.shard_group_duration;
    let min_time = (bucket.retention > 0).then(|| now.saturating_sub(bucket.retention));
    let mut drops = RetentionDrops::default();
    // The shard group of every point kept by retention, and the points of each group.
    let mut row_group: Vec<Option<i64>> = Vec::with_capacity(rows);
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    let mut current: Option<(i64, i64)> = None;
    for row in 0..rows {
        let t = batch.row_time[row];
        if min_time.is_some_and(|min| t < min) {
            drops.note_with(t, || points.point(row));
            row_group.push(None);
            continue;
        }
        let start = match current {
            Some((start, end)) if t >= start && t < end => start,
            _ => {
                let (start, end) = data.shard_group_bounds(t, duration);
                current = Some((start, end));
                start
            }
        };
        row_group.push(Some(start));
        groups.entry(start).or_default().push(row);
    }
    stats.points_dropped += drops.count;
    let chunk_dropped_for_retention = drops.count;
    all_drops.absorb(drops);

    let mut accepted = vec![false; rows];
    let mut in_group = vec![false; batch.series.len()];
    let single_group = groups.len() == 1 && chunk_dropped_for_retention == 0;
    let mut written_directly = false;
    for (&start, group_rows) in &groups {
        let group = data.shard_group_mut(start, duration);
        let ShardGroup {
            fields: group_fields,
            series: group_series,
            ..
        } = group;
        let mut reason: Option<String> = None;
        let mut dropped = 0;
        let mut signature_passed = vec![false; batch.signatures.len()];
        let mut touched = Vec::new();
        let mut stripped_here = None;
        for &row in group_rows {
            let s = batch.row_series[row];
            if !in_group[s] {
                in_group[s] = true;
                touched.push(s);
            }
            let signature = batch.row_signature[row];
            if batch.row_plain[row] && signature_passed[signature] {
                accepted[row] = true;
                stats.points_written += 1;
                continue;
            }
            // A plain point (no `time` field, no long string) is checked by its signature:
            // the checks look at nothing else of it, and its line need not be parsed again.
            let by_signature = match batch.row_plain.get(row) {
                Some(true) => batch
                    .signatures
                    .get(signature)
                    .and_then(|e| signature_fields(e)),
                _ => None,
            };
            let checked = match by_signature {
                Some((measurement, mut fields)) => fields
                    .try_for_each(|(key, ty)| check_field_type(group_fields, measurement, key, ty)),
                None => match points.point(row) {
                    Some(point) => validate_point(group_fields, &point, &mut stripped_here),
                    None => {
                        Err("internal error: a line that parsed did not parse again".to_string())
                    }
                },
            };
            if let Err(failure) = checked {
                dropped += 1;
                reason.get_or_insert(failure);
                continue;
            }
            accepted[row] = true;
            stats.points_written += 1;
            if batch.row_plain[row] {
                signature_passed[signature] = true;
            }
        }
        if let Some(measurement) = stripped_here {
            if stripped_time_field
                .as_ref()
                .is_none_or(|(earliest, _)| start < *earliest)
            {
                *stripped_time_field = Some((start, measurement));
            }
        }
        // The index entry is created before field validation: a dropped point leaves its key.
        // In the usual batch (one shard group, nothing dropped) the values go in at once, each
        // column appended whole.
        written_directly = single_group && dropped == 0;
        for s in touched {
            in_group[s] = false;
            let series = &mut batch.series[s];
            // One search when the series exists (`series_entry` would make it two, on the
            // hottest path of a write).
            let map = match group_series.get_mut(&series.key) {
                Some(map) => map,
                None => group_series.entry(series.key.clone()).or_default(),
            };
            if written_directly {
                for column in &mut series.columns {
                    column.append_to(map);
                }
            }
        }
        stats.points_dropped += dropped;
        if let Some(reason) = reason {
            shard_errors.entry(start).or_insert((reason, 0)).1 += dropped;
        }
    }

    // Otherwise the values are written by shard group, column by column.
    let row_first_ordinal = std::mem::take(&mut batch.row_first_ordinal);
    let row_of = |ordinal: usize| {
        row_first_ordinal
            .partition_point(|&first| first <= ordinal)
            .saturating_sub(1)
    };
    let leftover = if written_directly {
        &mut [][..]
    } else {
        &mut batch.series[..]
    };
    for series in leftover {
        // Accepted values by shard group, in column order and input order within a column.
        let mut by_group: BTreeMap<i64, Vec<(usize, usize)>> = BTreeMap::new();
        for (c, column) in series.columns.iter().enumerate() {
            for (i, &ordinal) in column.ordinals.iter().enumerate() {
                let row = row_of(ordinal as usize);
                if let (Some(true), Some(Some(start))) = (accepted.get(row), row_group.get(row)) {
                    by_group.entry(*start).or_default().push((c, i));
                }
            }
        }
        for (start, entries) in by_group {
            let Some(map) = series_entry(
                &mut data.shard_group_mut(start, duration).series,
                &series.key,
            ) else {
                continue;
            };
            for (c, i) in entries {
                let column = &mut series.columns[c];
                let Some(value) = column.values.take(i) else {
                    continue;
                };
                let time = column.times[i];
                match map.get_mut(column.key.as_slice()) {
                    Some(values) => values.insert(time, value),
                    None => map
                        .entry(column.key.clone())
                        .or_default()
                        .insert(time, value),
                }
            }
        }
    }
}

/// Checks one point against a shard group's field types, as `tsdb.Shard` validates it,
/// registering the types of its new fields as it goes; the error is the partial-write reason.
/// A field named `time` is stripped (noted in `stripped_time_field`, first measurement wins);
/// a point with only such fields is refused.
pub(crate) fn validate_point(
    group_fields: &mut BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, FieldType>>,
    point: &Point<'_>,
    stripped_time_field: &mut Option<Vec<u8>>,
) -> Result<(), String> {
    // Names are only needed for messages: decode them only on failure.
    let measurement = || go_lossy(&point.measurement);
    if point.fields.iter().all(|f| &*f.key == b"time") {
        return Err(format!(
            "invalid field name: input field \"time\" on measurement \"{}\" is invalid",
            measurement()
        ));
    }
    for field in &point.fields {
        if &*field.key == b"time" {
            if stripped_time_field.is_none() {
                *stripped_time_field = Some(point.measurement.to_vec());
            }
            continue;
        }
        if let crate::line_protocol::FieldValue::String(s) = &field.value {
            if s.len() > MAX_FIELD_VALUE_LENGTH {
                return Err(format!(
                    "input field \"{}\" on measurement \"{}\" is too long, {} > {MAX_FIELD_VALUE_LENGTH}",
                    go_lossy(&field.key),
                    measurement(),
                    s.len()
                ));
            }
        }
        check_field_type(
            group_fields,
            &point.measurement,
            &field.key,
            field.value.field_type(),
        )?;
    }
    Ok(())
}

/// Checks one field's type against a shard group's field types (registering it when new); the
/// error is the partial-write reason.
fn check_field_type(
    group_fields: &mut BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, FieldType>>,
    measurement: &[u8],
    key: &[u8],
    new_type: FieldType,
) -> Result<(), String> {
    // `entry` would copy the measurement name for every field; look up first.
    let types = match group_fields.get_mut(measurement) {
        Some(types) => types,
        None => group_fields.entry(measurement.to_vec()).or_default(),
    };
    match types.get(key) {
        Some(&existing) if existing != new_type => Err(conflict_reason(
            &go_lossy(key),
            &go_lossy(measurement),
            new_type,
            existing,
        )),
        Some(_) => Ok(()),
        None => {
            types.insert(key.to_vec(), new_type);
            Ok(())
        }
    }
}

fn in_bucket(bucket: &Bucket, reason: String, dropped: usize) -> PartialWrite {
    PartialWrite {
        reason,
        dropped,
        database: Some(bucket.id.to_string()),
        retention_policy: Some("autogen".to_string()),
    }
}

fn conflict_reason(field: &str, measurement: &str, new: FieldType, existing: FieldType) -> String {
    format!(
        "field type conflict: input field \"{field}\" on measurement \"{measurement}\" is type {new}, already exists as type {existing}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_protocol::{parse_batch, Precision};
    use crate::model::{Id, OwnedFieldValue};
    use crate::storage::{BucketKind, SchemaType};

    fn bucket() -> Option<Bucket> {
        Some(Bucket {
            id: Id::new(1)?,
            org_id: Id::new(2)?,
            name: "b".into(),
            description: String::new(),
            rp: String::new(),
            kind: BucketKind::User,
            retention: 0,
            shard_group_duration: 7 * 24 * 3_600_000_000_000,
            schema_type: SchemaType::Implicit,
            created_at: 0,
            updated_at: 0,
        })
    }

    /// `TestLauncher_OverlappingShards` (cmd/influxd/launcher/storage_test.go): points written
    /// with 1h shard groups, the duration changed to 1d, then the same points again plus an
    /// earlier one last in the batch. Each point lands in the one group that holds its time
    /// (the 1h groups), the earlier point in a new group that stops where the 1h groups start,
    /// and every value is stored once.
    #[test]
    fn a_changed_shard_duration_never_stores_a_point_twice() {
        let Some(mut bucket) = bucket() else {
            panic!("ids 1 and 2 are valid");
        };
        let hour = 3_600_000_000_000;
        bucket.shard_group_duration = hour;
        let mut data = BucketData::default();
        let write = |data: &mut BucketData, bucket: &Bucket, body: &[u8]| {
            let batch = parse_batch(body, Precision::Nanosecond);
            assert!(batch.errors.is_empty());
            let mut grouped = series_batch(&batch.points, 0);
            let (stats, partial) = write_points(
                data,
                bucket,
                &batch.points,
                &mut grouped,
                0,
                StorageVersion::V2_7,
            );
            assert!(partial.is_none());
            stats.points_written
        };
        let first = b"m,s=0 n=0 1626416520000000000\nm,s=0 n=1 1626420120000000000\n";
        assert_eq!(write(&mut data, &bucket, first), 2);
        bucket.shard_group_duration = 24 * hour;
        let second = b"m,s=0 n=0 1626416520000000000\nm,s=0 n=1 1626420120000000000\nm,s=1 n=1 1626412920000000000\n";
        assert_eq!(write(&mut data, &bucket, second), 3);
        let groups: Vec<(i64, i64)> = data
            .shard_groups
            .values()
            .map(|g| (g.start, g.end))
            .collect();
        // 2021-07-16T00:00Z..06:00Z (new, narrowed), 06:00..07:00, 07:00..08:00 (the 1h ones).
        let day = 1_626_393_600_000_000_000;
        assert_eq!(
            groups,
            vec![
                (day, day + 6 * hour),
                (day + 6 * hour, day + 7 * hour),
                (day + 7 * hour, day + 8 * hour)
            ]
        );
        let times: Vec<i64> = data.points().iter().map(|p| p.time).collect();
        assert_eq!(
            times,
            vec![
                1626416520000000000,
                1626420120000000000,
                1626412920000000000
            ]
        );
        // The point-by-point model agrees.
        let mut model = BucketData::default();
        bucket.shard_group_duration = hour;
        let batch = parse_batch(first, Precision::Nanosecond);
        let _ = model::write_points_model(
            &mut model,
            &bucket,
            &batch.points,
            0,
            0,
            StorageVersion::V2_7,
        );
        bucket.shard_group_duration = 24 * hour;
        let batch = parse_batch(second, Precision::Nanosecond);
        let _ = model::write_points_model(
            &mut model,
            &bucket,
            &batch.points,
            0,
            0,
            StorageVersion::V2_7,
        );
        let model_groups: Vec<(i64, i64)> = model
            .shard_groups
            .values()
            .map(|g| (g.start, g.end))
            .collect();
        assert_eq!(model_groups, groups);
        assert_eq!(model.value_count(), 3);
    }

    /// Points are written series by series: interleaved series, a series spelled with its
    /// tags in another order, a repeated time (the later value wins) and a dropped point
    /// (its series still enters the index) end as if written one by one.
    #[test]
    fn series_by_series_writes_keep_point_order() {
        let Some(bucket) = bucket() else {
            panic!("ids 1 and 2 are valid");
        };
        let body = b"m,a=1,b=2 v=1 5\nn,t=x v=1 5\nm,b=2,a=1 v=2 5\nn,t=y v=1i 5\nm,a=1,b=2 v=3 5\nn,t=z v=\"s\" 6\nm,a=1,b=2 w=1 6";
        let batch = parse_batch(body, Precision::Nanosecond);
        assert!(batch.errors.is_empty());
        let mut data = BucketData::default();
        let mut grouped = series_batch(&batch.points, 0);
        let (stats, partial) = write_points(
            &mut data,
            &bucket,
            &batch.points,
            &mut grouped,
            0,
            StorageVersion::V2_7,
        );
        assert_eq!(stats.points_written, 5);
        assert_eq!(stats.points_dropped, 2);
        assert!(partial.is_some_and(|p| p
            .reason
            .contains("\"v\" on measurement \"n\" is type integer, already exists as type float")));
        let rows: Vec<String> = data
            .points()
            .iter()
            .map(|p| {
                let v = match &p.value {
                    OwnedFieldValue::Float(f) => format!("{f}"),
                    other => format!("{other:?}"),
                };
                format!(
                    "{}{:?} {}={v} {}",
                    String::from_utf8_lossy(&p.series.measurement()),
                    p.series
                        .tags()
                        .map(|(k, v)| format!(
                            "{}={}",
                            String::from_utf8_lossy(&k),
                            String::from_utf8_lossy(&v)
                        ))
                        .collect::<Vec<_>>(),
                    String::from_utf8_lossy(p.field),
                    p.time
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                "m[\"a=1\", \"b=2\"] v=3 5",
                "m[\"a=1\", \"b=2\"] w=1 6",
                "n[\"t=x\"] v=1 5",
            ]
        );
        let index: Vec<usize> = data.shard_groups.values().map(|g| g.series.len()).collect();
        assert_eq!(
            index,
            [4],
            "m, and n with t=x, t=y, t=z (dropped points leave their keys)"
        );
    }

    mod same_as_point_by_point {
        use proptest::prelude::*;

        use super::*;
        use crate::engine::points_writer::model::write_points_model;

        /// One line from a small universe, so that series, fields, types and times collide.
        fn line() -> impl Strategy<Value = String> {
            let measurement = prop_oneof![Just("m"), Just("n"), Just("m\\ x")];
            let tags = prop_oneof![
                Just(""),
                Just(",a=1"),
                Just(",a=2"),
                Just(",a=1,b=x"),
                Just(",b=x,a=1")
            ];
            let key = prop_oneof![4 => Just("v"), 4 => Just("w"), 1 => Just("time")];
            let value = prop_oneof![
                Just("1".to_string()),
                Just("2.5".to_string()),
                Just("3i".to_string()),
                Just("4u".to_string()),
                Just("t".to_string()),
                Just("\"s\"".to_string()),
                // A string over two physical lines, and one with escapes.
                Just("\"s\nt\"".to_string()),
                Just("\"a\\\"b\"".to_string()),
            ];
            let fields = proptest::collection::vec((key, value), 1..4).prop_map(|fs| {
                fs.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            });
            let time = prop_oneof![1 => Just(None), 8 => (0i64..40).prop_map(Some)];
            let indent = prop_oneof![4 => Just(""), 1 => Just("  "), 1 => Just("\t")];
            (indent, measurement, tags, fields, time).prop_map(|(i, m, t, f, time)| match time {
                Some(time) => format!("{i}{m}{t} {f} {time}"),
                None => format!("{i}{m}{t} {f}"),
            })
        }

        fn body() -> impl Strategy<Value = String> {
            proptest::collection::vec(line(), 1..30).prop_map(|ls| ls.join("\n"))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            /// Two batches in a row (the second meets the first's types and values), written
            /// by the series-batched path and by the point-by-point model, leave the same data
            /// and give the same answer: shard groups of 10 ns, sometimes a retention bound.
            #[test]
            fn batched_write_is_point_by_point(
                first in body(),
                second in body(),
                retention in prop_oneof![Just(0i64), 1i64..30],
                v2_8 in any::<bool>(),
            ) {
                let Some(mut bucket) = bucket() else {
                    panic!("ids 1 and 2 are valid");
                };
                bucket.shard_group_duration = 10;
                bucket.retention = retention;
                let version = if v2_8 { StorageVersion::V2_8 } else { StorageVersion::V2_7 };
                let now = 35;
                let mut batched = BucketData::default();
                let mut lined = BucketData::default();
                let mut model = BucketData::default();
                for body in [&first, &second] {
                    let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
                    let default_time = 33;
                    let mut grouped = series_batch(&batch.points, default_time);
                    // The same points grouped as the parser lends them, kept as their lines.
                    let (mut lent, lines) = grouped_lines(body, default_time);
                    prop_assert_eq!(&lent, &grouped);
                    let rows = Rows::Lines { lines: &lines, precision: Precision::Nanosecond, dialect: Dialect::V2 };
                    for row in 0..batch.points.len() {
                        let again = rows.point(row);
                        prop_assert_eq!(again.as_deref(), batch.points.get(row));
                    }
                    let got = write_points(&mut batched, &bucket, &batch.points, &mut grouped, now, version);
                    let got_lines = write_points(&mut lined, &bucket, rows, &mut lent, now, version);
                    let want = write_points_model(&mut model, &bucket, &batch.points, default_time, now, version);
                    prop_assert_eq!(&got, &want);
                    prop_assert_eq!(got_lines, want);
                    prop_assert_eq!(format!("{batched:?}"), format!("{model:?}"));
                    prop_assert_eq!(format!("{lined:?}"), format!("{model:?}"));
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            /// A body written a chunk of points at a time (how a large body is written, so its
            /// points never all exist at once) reports and stores exactly what it does written
            /// whole, whatever the chunk size: per shard group the first failure, the drop
            /// counts, the retention extremes and the stripped `time` field all carry over.
            #[test]
            fn chunked_write_is_whole_write(
                first in body(),
                second in body(),
                chunk in 1usize..7,
                retention in prop_oneof![Just(0i64), 1i64..30],
                v2_8 in any::<bool>(),
            ) {
                let Some(mut bucket) = bucket() else {
                    panic!("ids 1 and 2 are valid");
                };
                bucket.shard_group_duration = 10;
                bucket.retention = retention;
                let version = if v2_8 { StorageVersion::V2_8 } else { StorageVersion::V2_7 };
                let mut whole = BucketData::default();
                let mut chunked = BucketData::default();
                for body in [&first, &second] {
                    let (got, want) =
                        chunked_and_whole(&mut chunked, &mut whole, &bucket, body, chunk, version);
                    prop_assert_eq!(got, want);
                    prop_assert_eq!(format!("{chunked:?}"), format!("{whole:?}"));
                }
            }
        }

        /// `body` written a `chunk` of points at a time into `chunked` and whole into `whole`
        /// (request time 35, default point time 33): what each write reported.
        /// `body`'s points grouped as the parser lends them ([`GroupedLines`]), and their
        /// lines.
        fn grouped_lines(body: &str, default_time: i64) -> (SeriesBatch, Vec<LineOf<'_>>) {
            let mut chunk = GroupedLines::new(default_time, stored_column);
            crate::line_protocol::parse_lines_ref(
                body.as_bytes(),
                Precision::Nanosecond,
                |p| chunk.push(&p),
                |_| {},
            );
            chunk.finish()
        }

        fn chunked_and_whole(
            chunked: &mut BucketData,
            whole: &mut BucketData,
            bucket: &Bucket,
            body: &str,
            chunk: usize,
            version: StorageVersion,
        ) -> (
            (WriteStats, Option<PartialWrite>),
            (WriteStats, Option<PartialWrite>),
        ) {
            let (now, default_time) = (35, 33);
            let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
            let mut grouped = series_batch(&batch.points, default_time);
            let want = write_points(whole, bucket, &batch.points, &mut grouped, now, version);
            let mut progress = WriteProgress::default();
            for points in batch.points.chunks(chunk) {
                let mut grouped = series_batch(points, default_time);
                write_chunk(
                    &mut progress,
                    chunked,
                    bucket,
                    points.into(),
                    &mut grouped,
                    now,
                );
            }
            (progress.finish(bucket, now, version), want)
        }

        /// A stripped `time` field is reported from the earliest shard group, as the whole
        /// write reports it, even when a later chunk brings that group (found by the property
        /// above: chunk 1 held group 30's `m`, chunk 2 group 0's `n`).
        #[test]
        fn chunks_report_the_earliest_groups_stripped_time_field() {
            let Some(mut bucket) = bucket() else {
                panic!("ids 1 and 2 are valid");
            };
            bucket.shard_group_duration = 10;
            let body = "m v=1,time=1\nn time=1,v=1 0";
            let (mut chunked, mut whole) = (BucketData::default(), BucketData::default());
            let (got, want) = chunked_and_whole(
                &mut chunked,
                &mut whole,
                &bucket,
                body,
                1,
                StorageVersion::V2_8,
            );
            assert_eq!(got, want);
            let reason = want.1.map(|p| p.reason).unwrap_or_default();
            assert!(reason.contains("on measurement \"n\""), "{reason}");
        }

        /// A point that must be looked at closely (here its `time` field) is parsed again
        /// from its line as the body cut it: after leading whitespace a quote may hold a
        /// newline, and the stripped line cut anew named measurement `mm` here.
        #[test]
        fn a_line_after_leading_whitespace_is_checked_whole() {
            let Some(bucket) = bucket() else {
                panic!("ids 1 and 2 are valid");
            };
            let body = " =\"m\nmm v=1,time=1 5";
            let (now, default_time, version) = (35, 33, StorageVersion::V2_8);
            let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
            let mut kept = BucketData::default();
            let mut grouped = series_batch(&batch.points, default_time);
            let want = write_points(
                &mut kept,
                &bucket,
                &batch.points,
                &mut grouped,
                now,
                version,
            );
            let (mut lent, lines) = grouped_lines(body, default_time);
            let rows = Rows::Lines {
                lines: &lines,
                precision: Precision::Nanosecond,
                dialect: Dialect::V2,
            };
            let mut lined = BucketData::default();
            let got = write_points(&mut lined, &bucket, rows, &mut lent, now, version);
            assert_eq!(got, want);
            let reason = got.1.map(|p| p.reason).unwrap_or_default();
            assert!(reason.contains("on measurement \"=\"m\nmm\""), "{reason}");
        }

        /// Strings over the length limit are rejected by both paths alike (too slow for the
        /// property above).
        #[test]
        fn long_strings_are_dropped_alike() {
            let Some(bucket) = bucket() else {
                panic!("ids 1 and 2 are valid");
            };
            let long = "x".repeat(MAX_FIELD_VALUE_LENGTH + 1);
            let body = format!("m v=\"a\" 1\nm v=\"{long}\" 2\nm v=\"b\" 3\nm v=\"{long}\",w=1 4");
            let batch = parse_batch(body.as_bytes(), Precision::Nanosecond);
            let mut batched = BucketData::default();
            let mut model = BucketData::default();
            let got = write_points(
                &mut batched,
                &bucket,
                &batch.points,
                &mut series_batch(&batch.points, 0),
                0,
                StorageVersion::V2_7,
            );
            let want = write_points_model(
                &mut model,
                &bucket,
                &batch.points,
                0,
                0,
                StorageVersion::V2_7,
            );
            assert_eq!(got.0.points_dropped, 2);
            assert_eq!(got, want);
            assert_eq!(format!("{batched:?}"), format!("{model:?}"));
        }
    }
}
