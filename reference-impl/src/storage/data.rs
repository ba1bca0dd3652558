use std::collections::{BTreeMap, BTreeSet};

pub use super::series_key::SeriesKey;
use super::TimeValues;
use crate::model::{FieldType, OwnedFieldValue};

/// The values of one series in one shard group, by field key then time.
pub type SeriesFields = BTreeMap<Vec<u8>, TimeValues>;

/// One shard group: a time window of a bucket that owns its own field types
/// (`MeasurementFields` are per shard in InfluxDB, so types only conflict within a window).
#[derive(Debug, Clone, Default)]
pub struct ShardGroup {
    pub start: i64,
    pub end: i64,
    /// measurement → field key → type registered in this shard.
    pub fields: BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, FieldType>>,
    /// Series in this shard's index, with their values. A series can exist with no values: the
    /// index entry is created before field validation, so a dropped point leaves its key.
    pub series: BTreeMap<SeriesKey, SeriesFields>,
}

impl ShardGroup {
    pub fn field_type(&self, measurement: &[u8], field: &[u8]) -> Option<FieldType> {
        self.fields.get(measurement)?.get(field).copied()
    }
}

/// The values of series `key` in `series` (a shard group's index), its entry created when
/// missing (the key is copied only then).
pub fn series_entry<'m>(
    series: &'m mut BTreeMap<SeriesKey, SeriesFields>,
    key: &SeriesKey,
) -> Option<&'m mut SeriesFields> {
    if !series.contains_key(key) {
        series.insert(key.clone(), SeriesFields::new());
    }
    series.get_mut(key)
}

/// Nanoseconds from Go's zero time (0001-01-01T00:00:00Z) to the Unix epoch.
const GO_ZERO_TO_UNIX_NANOS: i128 = 62_135_596_800 * 1_000_000_000;

/// Start of the shard group holding `t` for groups of `duration` ns: Go's `t.Truncate(d)`,
/// which counts from the zero time (a Monday), so 7-day groups start on Mondays.
pub fn shard_group_start(t: i64, duration: i64) -> i64 {
    if duration <= 0 {
        return t;
    }
    let since_zero = i128::from(t) + GO_ZERO_TO_UNIX_NANOS;
    let start = i128::from(t) - since_zero.rem_euclid(i128::from(duration));
    i64::try_from(start).unwrap_or(i64::MIN)
}

/// Values of one series and field gathered from several shard groups, by time.
type TimedValues = Vec<(i64, OwnedFieldValue)>;

/// Shard groups whose field types [`BucketData::readable_points`] compares pairwise (past
/// this many, through one map of every type: the pairs grow with the square).
const FEW_GROUPS: usize = 16;

/// The values of each (series, field), sorted by time, as stored points in key order.
fn in_time_order<'d>(
    merged: BTreeMap<(&'d SeriesKey, &'d [u8]), TimedValues>,
) -> Vec<StoredPoint<'d>> {
    let mut out = Vec::new();
    for ((series, field), mut values) in merged {
        // Shard groups are disjoint windows visited in time order, so this is usually
        // already sorted; the sort keeps the guarantee explicit and costs little when sorted.
        values.sort_by_key(|(t, _)| *t);
        out.extend(values.into_iter().map(|(time, value)| StoredPoint {
            series,
            field,
            time,
            value,
        }));
    }
    out
}

/// All data of one bucket.
#[derive(Debug, Clone, Default)]
pub struct BucketData {
    pub shard_groups: BTreeMap<i64, ShardGroup>,
}

/// One stored value, borrowed from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint<'a> {
    pub series: &'a SeriesKey,
    pub field: &'a [u8],
    pub time: i64,
    pub value: OwnedFieldValue,
}

impl BucketData {
    /// The existing shard group holding time `t`: of the groups whose `[start, end)` covers it,
    /// the one with the earliest end, then the earliest start (`ShardGroupAt` in
    /// `v1/coordinator/points_writer.go`; `ShardGroupInfos` sort by end time, then start).
    pub fn shard_group_at(&self, t: i64) -> Option<&ShardGroup> {
        self.shard_groups
            .range(..=t)
            .map(|(_, g)| g)
            .filter(|g| t < g.end)
            .min_by_key(|g| (g.end, g.start))
    }

    /// The `[start, end)` of the shard group a point at `t` goes to for groups of `duration`
    /// ns: the existing group holding `t` ([`BucketData::shard_group_at`]), else the window
    /// `t` truncates to, narrowed so that it overlaps no existing group (`CreateShardGroup` in
    /// `v1/services/meta/data.go`: when a bucket's shard-group duration changes, a new group
    /// stops where an older one starts and starts where an older one ends). A point is thus
    /// stored in exactly one group and read once.
    pub fn shard_group_bounds(&self, t: i64, duration: i64) -> (i64, i64) {
        if let Some(g) = self.shard_group_at(t) {
            return (g.start, g.end);
        }
        let mut start = shard_group_start(t, duration);
        let mut end = start.saturating_add(duration.max(1));
        for g in self.shard_groups.values() {
            // No group holds `t`, so each one ends at or before it, or starts after it.
            if g.end <= t && g.end > start {
                start = g.end;
            }
            if g.start > t && g.start < end {
                end = g.start;
            }
        }
        (start, end)
    }

    /// The shard group for time `t` ([`BucketData::shard_group_bounds`]), created when missing.
    pub fn shard_group_mut(&mut self, t: i64, duration: i64) -> &mut ShardGroup {
        let (start, end) = self.shard_group_bounds(t, duration);
        self.shard_groups
            .entry(start)
            .or_insert_with(|| ShardGroup {
                start,
                end,
                ..ShardGroup::default()
            })
    }

    /// Every stored value in query order: series (measurement, tags), field, time. Values of
    /// one series and field spread over several shard groups are merged by time.
    pub fn points(&self) -> Vec<StoredPoint<'_>> {
        if self.shard_groups.len() == 1 {
            // One group (the usual bucket): its series and fields are already in query order,
            // nothing to merge (a map entry and a vector per (series, field) were most of a
            // read-back of a small bucket).
            let mut out = Vec::new();
            for group in self.shard_groups.values() {
                for (series, fields) in &group.series {
                    for (field, values) in fields {
                        let start = out.len();
                        out.extend(values.iter().map(|(time, value)| StoredPoint {
                            series,
                            field: field.as_slice(),
                            time,
                            value,
                        }));
                        if let Some(run) = out.get_mut(start..) {
                            run.sort_by_key(|p| p.time);
                        }
                    }
                }
            }
            return out;
        }
        self.points_merged()
    }

    /// [`Self::points`] over any number of shard groups.
    fn points_merged(&self) -> Vec<StoredPoint<'_>> {
        let mut merged: BTreeMap<(&SeriesKey, &[u8]), TimedValues> = BTreeMap::new();
        for group in self.shard_groups.values() {
            for (series, fields) in &group.series {
                for (field, values) in fields {
                    let slot = merged.entry((series, field.as_slice())).or_default();
                    slot.extend(values.iter());
                }
            }
        }
        in_time_order(merged)
    }

    /// [`Self::points`] as reading the whole bucket back shows them: a field whose type
    /// changes in a later shard group is read up to the change ([`Self::read_groups`]).
    pub fn readable_points(&self) -> Vec<StoredPoint<'_>> {
        // Usually every field keeps one type in every group: nothing is cut (and a single
        // group has one type per field).
        if self.shard_groups.len() <= 1 {
            return self.points();
        }
        let mixed = if self.shard_groups.len() <= FEW_GROUPS {
            // Each group's types looked up in the groups before it: no map to build.
            let groups: Vec<&ShardGroup> = self.shard_groups.values().collect();
            groups.iter().enumerate().any(|(i, g)| {
                g.fields.iter().any(|(m, fields)| {
                    fields.iter().any(|(f, &ty)| {
                        groups[..i]
                            .iter()
                            .any(|earlier| earlier.field_type(m, f).is_some_and(|t| t != ty))
                    })
                })
            })
        } else {
            let mut types: BTreeMap<(&[u8], &[u8]), FieldType> = BTreeMap::new();
            self.shard_groups.values().any(|g| {
                g.fields.iter().any(|(m, fields)| {
                    fields.iter().any(|(f, &ty)| {
                        *types.entry((m.as_slice(), f.as_slice())).or_insert(ty) != ty
                    })
                })
            })
        };
        if !mixed {
            return self.points();
        }
        let mut pairs: BTreeMap<(&SeriesKey, &[u8]), TimedValues> = BTreeMap::new();
        for group in self.shard_groups.values() {
            for (series, fields) in &group.series {
                for field in fields.keys() {
                    pairs.entry((series, field.as_slice())).or_default();
                }
            }
        }
        for ((series, field), values) in &mut pairs {
            let measurement = series.measurement();
            for group in self.read_groups(&measurement, field, i64::MIN, i64::MAX) {
                if let Some(v) = group.series.get(*series).and_then(|f| f.get(*field)) {
                    values.extend(v.iter());
                }
            }
        }
        in_time_order(pairs)
    }

    /// The shard groups overlapping `[start, stop)` that a read of `field` of `measurement`
    /// visits, in time order: up to the first whose type for the field differs from the
    /// first typed one. The multi-shard cursor takes the type of the first shard whose
    /// measurement has the field, whether or not the series has values there, and ends at
    /// the first shard where it has another (`storage/reads/array_cursor.gen.go`). A group
    /// that registers no type for the field (the Cloud flavor's) does not end the read.
    pub fn read_groups<'s>(
        &'s self,
        measurement: &'s [u8],
        field: &'s [u8],
        start: i64,
        stop: i64,
    ) -> impl Iterator<Item = &'s ShardGroup> + 's {
        let mut first = None;
        self.shard_groups
            .values()
            .filter(move |g| g.end > start && g.start < stop)
            .take_while(move |g| match g.field_type(measurement, field) {
                Some(ty) => *first.get_or_insert(ty) == ty,
                None => true,
            })
    }

    /// Number of stored values.
    pub fn value_count(&self) -> usize {
        self.columns().map(TimeValues::len).sum()
    }

    /// Bytes the stored values take (encoded blocks, uncompressed heads), not counting the
    /// series index.
    pub fn stored_bytes(&self) -> usize {
        self.columns().map(TimeValues::stored_bytes).sum()
    }

    /// Every (series, field) column of every shard group.
    fn columns(&self) -> impl Iterator<Item = &TimeValues> {
        self.shard_groups
            .values()
            .flat_map(|g| g.series.values())
            .flat_map(|f| f.values())
    }

    /// Distinct series keys in the index (series cardinality).
    pub fn series_cardinality(&self) -> usize {
        self.shard_groups
            .values()
            .flat_map(|g| g.series.keys())
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Deletes the values of series matching `matches` with `start <= time <= stop` (both
    /// inclusive, as `DeleteSeriesRange`). A series left without values leaves the index; a
    /// measurement left without series in a shard loses its field types there
    /// (`cleanupMeasurement`), which lets a later write register a new type.
    pub fn delete(&mut self, start: i64, stop: i64, mut matches: impl FnMut(&SeriesKey) -> bool) {
        self.delete_where(start, stop, None, |key, _field| matches(key));
    }

    /// [`BucketData::delete`] with the field key passed to `matches` too (Cloud deletes by
    /// field), and, for a v2 delete whose predicate names one measurement, the measurement
    /// each shard group is walked up to: a group without it is left alone, and in a group with
    /// it only series of measurements up to it (in byte order) are considered.
    pub fn delete_where(
        &mut self,
        start: i64,
        stop: i64,
        through_measurement: Option<&[u8]>,
        mut matches: impl FnMut(&SeriesKey, &[u8]) -> bool,
    ) {
        for group in self.shard_groups.values_mut() {
            if group.end <= start || group.start > stop {
                continue;
            }
            // 2.7's walk (`DeleteSeriesWithPredicate`): a shard without that measurement is
            // skipped, and measurements after it in order are not visited.
            if let Some(name) = through_measurement {
                if !group.series.keys().any(|k| *k.measurement() == *name) {
                    continue;
                }
            }
            let mut emptied = Vec::new();
            for (key, fields) in group.series.iter_mut() {
                if through_measurement.is_some_and(|name| *key.measurement() > *name) {
                    continue;
                }
                // A series in the index with no values yet (its point was dropped) is matched
                // on its key alone.
                let mut touched = fields.is_empty() && matches(key, b"");
                for (field, values) in fields.iter_mut() {
                    if matches(key, field) {
                        touched = true;
                        values.remove_range(start, stop);
                    }
                }
                fields.retain(|_, values| !values.is_empty());
                if touched && fields.is_empty() {
                    emptied.push(key.clone());
                }
            }
            for key in emptied {
                group.series.remove(&key);
            }
            let live: BTreeSet<std::borrow::Cow<'_, [u8]>> =
                group.series.keys().map(SeriesKey::measurement).collect();
            group.fields.retain(|m, _| live.contains(m.as_slice()));
        }
        self.shard_groups
            .retain(|_, g| !g.series.is_empty() || !g.fields.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::{NANOS_PER_DAY, NANOS_PER_HOUR};

    /// A bucket of one shard group reads back as the merge of several groups reads it.
    #[test]
    fn one_group_reads_in_the_merged_order() {
        let mut d = BucketData::default();
        let group = d.shard_group_mut(0, NANOS_PER_DAY);
        for (m, tags, field, times) in [
            ("m", &[("t", "b")][..], "v", &[5, 1, 3][..]),
            ("m", &[("t", "a")][..], "w", &[2][..]),
            ("m", &[("t", "a")][..], "v", &[9, 4][..]),
            ("a", &[][..], "z", &[7, 6][..]),
        ] {
            let key = SeriesKey::new(
                m.as_bytes(),
                tags.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())),
            );
            let fields = group.series.entry(key).or_default();
            for &t in times {
                fields
                    .entry(field.as_bytes().to_vec())
                    .or_default()
                    .insert(t, OwnedFieldValue::Integer(t));
            }
        }
        let fast = d.points();
        assert_eq!(fast, d.points_merged());
        assert_eq!(fast, d.readable_points());
        let order: Vec<(Vec<u8>, &[u8], i64)> = fast
            .iter()
            .map(|p| (p.series.measurement().to_vec(), p.field, p.time))
            .collect();
        assert_eq!(order.len(), 8);
        assert_eq!(order[0], (b"a".to_vec(), &b"z"[..], 6));
        assert_eq!(order[2].2, 4, "series m,t=a comes before m,t=b");
    }

    #[test]
    fn seven_day_groups_start_on_monday() {
        // 1970-01-01 was a Thursday; the group holding it starts Monday 1969-12-29.
        assert_eq!(shard_group_start(0, 7 * NANOS_PER_DAY), -3 * NANOS_PER_DAY);
        // 2024-01-01 was a Monday.
        let monday = 1_704_067_200_000_000_000;
        assert_eq!(shard_group_start(monday + 5, 7 * NANOS_PER_DAY), monday);
        assert_eq!(
            shard_group_start(monday - 1, 7 * NANOS_PER_DAY),
            monday - 7 * NANOS_PER_DAY
        );
    }

    #[test]
    fn hour_groups_align_with_the_epoch() {
        assert_eq!(
            shard_group_start(NANOS_PER_HOUR + 7, NANOS_PER_HOUR),
            NANOS_PER_HOUR
        );
        assert_eq!(shard_group_start(-1, NANOS_PER_HOUR), -NANOS_PER_HOUR);
    }

    /// A group created after the duration changed never overlaps an older one; an existing
    /// group that holds the time wins, the one ending first when several do.
    #[test]
    fn new_shard_groups_are_narrowed_around_existing_ones() {
        let h = NANOS_PER_HOUR;
        let mut d = BucketData::default();
        d.shard_group_mut(2 * h + 5, h);
        d.shard_group_mut(5 * h, h);
        assert_eq!(d.shard_group_bounds(2 * h + 30, 24 * h), (2 * h, 3 * h));
        // Between the two 1h groups, a 1d window shrinks to the gap.
        assert_eq!(d.shard_group_bounds(4 * h, 24 * h), (3 * h, 5 * h));
        // Before the first, it stops where the first starts; after the last it starts there.
        assert_eq!(d.shard_group_bounds(h, 24 * h), (0, 2 * h));
        assert_eq!(d.shard_group_bounds(7 * h, 24 * h), (6 * h, 24 * h));
        d.shard_group_mut(4 * h, 24 * h);
        assert_eq!(
            d.shard_groups
                .values()
                .map(|g| (g.start, g.end))
                .collect::<Vec<_>>(),
            vec![(2 * h, 3 * h), (3 * h, 5 * h), (5 * h, 6 * h)]
        );
        // Overlapping groups (stored before this rule): the earliest end wins.
        let mut o = BucketData::default();
        o.shard_groups.insert(
            0,
            ShardGroup {
                start: 0,
                end: 24 * h,
                ..ShardGroup::default()
            },
        );
        o.shard_groups.insert(
            6 * h,
            ShardGroup {
                start: 6 * h,
                end: 7 * h,
                ..ShardGroup::default()
            },
        );
        assert_eq!(o.shard_group_bounds(6 * h + 1, 24 * h), (6 * h, 7 * h));
        assert_eq!(o.shard_group_bounds(8 * h, 24 * h), (0, 24 * h));
    }

    fn key(m: &str) -> SeriesKey {
        SeriesKey::measurement_only(m.as_bytes())
    }

    #[test]
    fn delete_is_inclusive_and_frees_field_types() {
        let mut d = BucketData::default();
        let g = d.shard_group_mut(10, NANOS_PER_HOUR);
        g.fields
            .entry(b"m".to_vec())
            .or_default()
            .insert(b"v".to_vec(), FieldType::Float);
        let vals = g
            .series
            .entry(key("m"))
            .or_default()
            .entry(b"v".to_vec())
            .or_default();
        for t in [10, 20, 30] {
            vals.insert(t, OwnedFieldValue::Float(1.0));
        }
        d.delete(10, 20, |_| true);
        assert_eq!(d.value_count(), 1);
        d.delete(30, 30, |_| true);
        assert_eq!(d.value_count(), 0);
        assert!(d.shard_groups.is_empty());
    }
}
