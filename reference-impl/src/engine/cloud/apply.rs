//! The asynchronous half: queued writes and deletes applied in acknowledgement order.

use std::collections::BTreeMap;

use crate::model::{FieldType, Id};
use crate::storage::cloud::{OwnedPoint, PendingDelete, PendingOp};
use crate::storage::{BucketData, SeriesKey, Store};

use super::gateway::org_cardinality;
use super::monitoring::{self, reasons, Rejection};
use super::CloudConfig;

/// Applies every queued operation whose time has come (`ready_at <= now`), oldest first.
/// Returns how many were applied.
pub fn apply_due(store: &mut Store, config: &CloudConfig, now: i64) -> usize {
    let mut applied = 0;
    while store.cloud.queue.front().is_some_and(|p| p.ready_at <= now) {
        if let Some(p) = store.cloud.queue.pop_front() {
            apply_one(store, config, p.org, p.op, now);
            applied += 1;
        }
    }
    applied
}

/// Applies everything queued, whatever its time: the in-process "wait for eventual
/// consistency" that makes cloud outcomes deterministic.
pub fn settle(store: &mut Store, config: &CloudConfig, now: i64) -> usize {
    let mut applied = 0;
    while let Some(p) = store.cloud.queue.pop_front() {
        apply_one(store, config, p.org, p.op, now);
        applied += 1;
    }
    applied
}

fn apply_one(store: &mut Store, config: &CloudConfig, org: Id, op: PendingOp, now: i64) {
    match op {
        PendingOp::Write { bucket, points } => apply_write(store, config, org, bucket, points, now),
        PendingOp::Delete { bucket, delete } => apply_delete(store, bucket, &delete),
    }
}

/// The type a series' field already has in the bucket, if any.
fn existing_type(data: &BucketData, key: &SeriesKey, field: &[u8]) -> Option<FieldType> {
    data.shard_groups.values().find_map(|g| {
        g.series
            .get(key)
            .and_then(|fields| fields.get(field))
            .and_then(|values| values.values().next())
            .map(|v| v.field_type())
    })
}

fn series_exists(data: &BucketData, key: &SeriesKey, field: &[u8]) -> bool {
    data.shard_groups.values().any(|g| {
        g.series
            .get(key)
            .is_some_and(|fields| fields.contains_key(field))
    })
}

fn apply_write(
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
    let mut known: BTreeMap<(SeriesKey, Vec<u8>), (FieldType, &'static str)> = BTreeMap::new();
    let mut rejections = Vec::new();
    let mut written = 0;
    let data = store.data.entry(bucket_id).or_default();
    for p in points {
        let key = SeriesKey {
            measurement: p.measurement.clone(),
            tags: p.tags.clone(),
        };
        for (field, value) in p.fields {
            let reject =
                |reason: &str, got: Option<FieldType>, want: Option<FieldType>| Rejection {
                    bucket: bucket_id,
                    measurement: Some(p.measurement.clone()),
                    field: Some(field.clone()),
                    reason: reason.to_string(),
                    got,
                    want,
                    error: None,
                };
            let got = value.field_type();
            if min_time.is_some_and(|min| p.time < min) {
                rejections.push(reject(reasons::RETENTION, None, None));
                continue;
            }
            // The type this series' field had before the batch wins ("existing data"); if it
            // had none, the first value of the batch sets it ("in batch write").
            let known_key = (key.clone(), field.clone());
            if !known.contains_key(&known_key) {
                if let Some(t) = existing_type(data, &key, &field) {
                    known.insert(known_key.clone(), (t, reasons::TYPE_CONFLICT_EXISTING));
                }
            }
            if let Some(&(want, reason)) = known.get(&known_key) {
                if want != got {
                    rejections.push(reject(reason, Some(got), Some(want)));
                    continue;
                }
            }
            if !series_exists(data, &key, &field) {
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
            known
                .entry(known_key)
                .or_insert((got, reasons::TYPE_CONFLICT_BATCH));
            data.shard_group_mut(p.time, bucket.shard_group_duration)
                .series
                .entry(key.clone())
                .or_default()
                .entry(field)
                .or_default()
                .insert(p.time, value);
            written += 1;
        }
    }
    store.cloud.values_written += written;
    monitoring::log(store, org, &rejections, now);
}

fn apply_delete(store: &mut Store, bucket: Id, delete: &PendingDelete) {
    let Some(data) = store.data.get_mut(&bucket) else {
        return;
    };
    // The gateway validated the predicate; a parse failure here cannot happen, and deleting
    // nothing is the safe answer if it did.
    let Ok(predicate) = crate::engine::delete_predicate::parse(&delete.predicate) else {
        return;
    };
    data.delete_where(delete.start, delete.stop, |series, field| {
        predicate
            .as_ref()
            .is_none_or(|p| crate::engine::delete_predicate::matches(p, series, field))
    });
}
