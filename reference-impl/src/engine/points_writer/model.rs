//! The plain, point-by-point OSS write this module started as, kept for the tests: the
//! series-batched `write_points` must leave the same data and give the same answer for every
//! batch (see the property test in `mod.rs`).

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::line_protocol::Point;
use crate::storage::{Bucket, BucketData, SeriesKey, ShardGroup};

/// Writes `points` into `data` as InfluxDB OSS does and reports the partial-write error the
/// handler turns into a 422. `default_time` stamps points without a timestamp; `now` is the
/// request time used for the retention lower bound.
///
/// Choices where InfluxDB is nondeterministic (shards are written concurrently and the first
/// error to arrive wins): shard groups are processed in time order and the earliest group's
/// error is reported.
pub fn write_points_model(
    data: &mut BucketData,
    bucket: &Bucket,
    points: &[Point<'_>],
    default_time: i64,
    now: i64,
    version: StorageVersion,
) -> (WriteStats, Option<PartialWrite>) {
    let mut stats = WriteStats::default();
    let min_time = (bucket.retention > 0).then(|| now.saturating_sub(bucket.retention));
    let mut drops = RetentionDrops::default();
    let mut by_group: BTreeMap<i64, Vec<(&Point<'_>, i64)>> = BTreeMap::new();

    for point in points {
        let t = point.timestamp.unwrap_or(default_time);
        if let Some(min) = min_time {
            if t < min {
                drops.note(point, t);
                continue;
            }
        }
        let (start, _) = data.shard_group_bounds(t, bucket.shard_group_duration);
        by_group.entry(start).or_default().push((point, t));
    }
    stats.points_dropped += drops.count;

    let mut first_shard_error: Option<PartialWrite> = None;
    let mut stripped_time_field: Option<Vec<u8>> = None;
    for (start, group_points) in by_group {
        let group = data.shard_group_mut(start, bucket.shard_group_duration);
        let ShardGroup {
            fields: group_fields,
            series: group_series,
            ..
        } = group;
        let mut reason: Option<String> = None;
        let mut dropped = 0;
        // Points are validated in input order (field types are registered as they come), but
        // written series by series: each distinct series is searched in the index once per
        // batch instead of once per point, and its points' values go into maps that are
        // still in cache. The result is the same: validation reads field types, never the
        // index or the values; every point's series enters the index (a dropped point leaves
        // its key); and the points of one series keep their order, so a later value at the
        // same time still wins.
        let mut slot_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut slots: Vec<(&Point<'_>, Vec<(&Point<'_>, i64)>)> = Vec::new();
        for (point, t) in &group_points {
            let slot = *slot_of.entry(series_identity(point)).or_insert_with(|| {
                slots.push((*point, Vec::new()));
                slots.len() - 1
            });
            // The rules are shared with the batched writer: what this model checks is the
            // order points are validated and written in, not the rules themselves.
            if let Err(f) = validate_point(group_fields, point, &mut stripped_time_field) {
                dropped += 1;
                reason.get_or_insert(f);
                continue;
            }
            if let Some((_, accepted)) = slots.get_mut(slot) {
                accepted.push((*point, *t));
            }
            stats.points_written += 1;
        }
        for (first, accepted) in slots {
            let key = SeriesKey::new(
                &first.measurement,
                first.tags.iter().map(|t| (&*t.key, &*t.value)),
            );
            let series = group_series.entry(key).or_default();
            for (point, t) in accepted {
                for field in point.fields.iter().filter(|f| &*f.key != b"time") {
                    let value = field.value.to_owned_value();
                    if let Some(values) = series.get_mut(&*field.key) {
                        values.insert(t, value);
                    } else {
                        series
                            .entry(field.key.to_vec())
                            .or_default()
                            .insert(t, value);
                    }
                }
            }
        }
        stats.points_dropped += dropped;
        if let Some(reason) = reason {
            first_shard_error.get_or_insert(PartialWrite {
                reason,
                dropped,
                database: None,
                retention_policy: None,
            });
        }
    }

    let partial = partial_write(
        bucket,
        first_shard_error,
        drops,
        min_time,
        stripped_time_field,
        version,
    );
    (stats, partial)
}

/// Bytes that name a point's series exactly: every part length-prefixed, so no two
/// different (measurement, tags) give the same bytes (the escaped series key could, for names
/// ending in a backslash).
fn series_identity(point: &Point<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        8 + point.measurement.len()
            + point
                .tags
                .iter()
                .map(|t| 16 + t.key.len() + t.value.len())
                .sum::<usize>(),
    );
    let mut part = |b: &[u8]| {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    };
    part(&point.measurement);
    for t in &point.tags {
        part(&t.key);
        part(&t.value);
    }
    out
}
