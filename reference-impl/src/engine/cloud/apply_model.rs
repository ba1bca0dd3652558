//! The point-by-point apply this module started as, kept for the tests: the column-wise
//! `apply_write` must leave the same data and log the same rejections for every batch (see
//! the property test in `apply.rs`).

use std::collections::{BTreeMap, HashMap};

use super::gateway::org_cardinality;
use super::monitoring::{self, reasons, Rejection};
use super::CloudConfig;
use crate::model::{FieldType, Id, OwnedFieldValue};
use crate::storage::cloud::OwnedPoint;
use crate::storage::{BucketData, SeriesKey, Store};

/// What one batch has learned about a series.
#[derive(Debug, Default)]
struct SeriesSeen {
    /// `series_before`: field → its existing type, for every pair present in the bucket.
    before: BTreeMap<Vec<u8>, Option<FieldType>>,
    fields: BTreeMap<Vec<u8>, Seen>,
    /// Accepted values, per point in order: (time, [(field, value)]).
    writes: Vec<(i64, FieldValues)>,
}

/// A point's accepted (field, value) pairs, in order.
type FieldValues = Vec<(Vec<u8>, OwnedFieldValue)>;

/// One series' values in one shard group: field → time → value.
type SeriesValues = crate::storage::SeriesFields;

/// What one batch has learned about a (series, field) pair.
#[derive(Debug, Default)]
struct Seen {
    /// The type values must have, and the rejection reason when they do not.
    known: Option<(FieldType, &'static str)>,
    /// The existing type was looked up.
    existing_checked: bool,
    /// Whether the pair exists in the bucket (for cardinality), once asked.
    exists: Option<bool>,
}

pub(super) fn apply_write_model(
    store: &mut Store,
    config: &CloudConfig,
    org: Id,
    bucket_id: Id,
    points: Vec<OwnedPoint>,
    now: i64,
) {
    // A bucket deleted after the acknowledgement takes its queued writes with it.
    let Some(bucket) = store.buckets.get(&bucket_id).cloned() else {
        return;
    };
    let mut cardinality = org_cardinality(store, org);
    let min_time = (bucket.retention > 0).then(|| now.saturating_sub(bucket.retention));
    // Values are checked in acknowledgement order (types, cardinality and rejections depend
    // on it) but written series by series after the whole batch is checked: one index search
    // per series and shard group instead of one per value, into maps still in cache. Checks
    // never read what the batch writes (each series' prior state is read at its first sight,
    // before any of its values are written), and a series' values keep their order, so the
    // result is the same.
    let mut slot_of: HashMap<SeriesKey, usize> = HashMap::new();
    let mut slots: Vec<SeriesSeen> = Vec::new();
    let mut rejections = Vec::new();
    let mut written = 0;
    let data = store.data.entry(bucket_id).or_default();
    for p in points {
        let OwnedPoint {
            measurement,
            tags,
            fields,
            time,
        } = p;
        let key = SeriesKey::new(
            &measurement,
            tags.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
        );
        let slot = match slot_of.get(&key) {
            Some(&i) => i,
            None => {
                slots.push(SeriesSeen {
                    before: series_before(data, &key),
                    ..SeriesSeen::default()
                });
                slot_of.insert(key.clone(), slots.len() - 1);
                slots.len() - 1
            }
        };
        let Some(SeriesSeen {
            before,
            fields: seen_fields,
            writes,
        }) = slots.get_mut(slot)
        else {
            continue;
        };
        let mut accepted: FieldValues = Vec::new();
        for (field, value) in fields {
            let reject =
                |reason: &str, got: Option<FieldType>, want: Option<FieldType>| Rejection {
                    bucket: bucket_id,
                    measurement: Some(key.measurement().into_owned()),
                    field: Some(field.clone()),
                    reason: reason.to_string(),
                    got,
                    want,
                    error: None,
                };
            let got = value.field_type();
            if min_time.is_some_and(|min| time < min) {
                rejections.push(reject(reasons::RETENTION, None, None));
                continue;
            }
            if !seen_fields.contains_key(&field) {
                seen_fields.insert(field.clone(), Seen::default());
            }
            let Some(s) = seen_fields.get_mut(&field) else {
                continue;
            };
            // The type this series' field had before the batch wins ("existing data"); if it
            // had none, the first value of the batch sets it ("in batch write"). The bucket is
            // asked once per batch: until a value of the pair is written (which sets `known`)
            // its answer cannot change.
            if s.known.is_none() && !s.existing_checked {
                s.existing_checked = true;
                if let Some(&Some(t)) = before.get(&field) {
                    s.known = Some((t, reasons::TYPE_CONFLICT_EXISTING));
                }
            }
            if let Some((want, reason)) = s.known {
                if want != got {
                    rejections.push(reject(reason, Some(got), Some(want)));
                    continue;
                }
            }
            // Likewise whether the pair exists only changes when this loop writes it.
            let exists = match s.exists {
                Some(e) => e,
                None => {
                    let e = before.contains_key(&field);
                    s.exists = Some(e);
                    e
                }
            };
            if !exists {
                if config
                    .limits
                    .cardinality
                    .is_some_and(|limit| cardinality >= limit)
                {
                    rejections.push(reject(reasons::CARDINALITY, None, None));
                    continue;
                }
                cardinality += 1;
            }
            s.known.get_or_insert((got, reasons::TYPE_CONFLICT_BATCH));
            s.exists = Some(true);
            accepted.push((field, value));
        }
        if !accepted.is_empty() {
            writes.push((time, accepted));
        }
    }
    for (key, slot) in slot_of {
        let Some(seen) = slots.get_mut(slot) else {
            continue;
        };
        let mut current: Option<(i64, &mut SeriesValues)> = None;
        for (time, values) in std::mem::take(&mut seen.writes) {
            let start = crate::storage::shard_group_start(time, bucket.shard_group_duration);
            let series = match current {
                Some((s, series)) if s == start => series,
                _ => data
                    .shard_group_mut(time, bucket.shard_group_duration)
                    .series
                    .entry(key.clone())
                    .or_default(),
            };
            for (field, value) in values {
                series.entry(field).or_default().insert(time, value);
                written += 1;
            }
            current = Some((start, series));
        }
    }
    store.cloud.values_written += written;
    monitoring::log(store, org, &rejections, now);
}

/// What the bucket held for one series before this batch touched it, per field: the type of
/// its first value in the earliest shard group that has one (the "existing" type), and that
/// the pair exists at all (for cardinality). Read once per series per batch: a pair's entry can
/// only change when the batch writes that pair, and from then on the batch's own `Seen` state
/// answers for it.
fn series_before(data: &BucketData, key: &SeriesKey) -> BTreeMap<Vec<u8>, Option<FieldType>> {
    let mut out: BTreeMap<Vec<u8>, Option<FieldType>> = BTreeMap::new();
    for g in data.shard_groups.values() {
        let Some(fields) = g.series.get(key) else {
            continue;
        };
        for (field, values) in fields {
            let first = values.first_type();
            match out.get_mut(field) {
                Some(t) => {
                    if t.is_none() {
                        *t = first;
                    }
                }
                None => {
                    out.insert(field.clone(), first);
                }
            }
        }
    }
    out
}
