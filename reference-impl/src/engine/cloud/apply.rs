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
    let mut batch_types: BTreeMap<(SeriesKey, Vec<u8>), FieldType> = BTreeMap::new();
    let mut rejections = Vec::new();
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
            if let Some(want) = existing_type(data, &key, &field) {
                if want != got {
                    rejections.push(reject(
                        reasons::TYPE_CONFLICT_EXISTING,
                        Some(got),
                        Some(want),
                    ));
                    continue;
                }
            } else if let Some(&want) = batch_types.get(&(key.clone(), field.clone())) {
                if want != got {
                    rejections.push(reject(reasons::TYPE_CONFLICT_BATCH, Some(got), Some(want)));
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
            batch_types
                .entry((key.clone(), field.clone()))
                .or_insert(got);
            data.shard_group_mut(p.time, bucket.shard_group_duration)
                .series
                .entry(key.clone())
                .or_default()
                .entry(field)
                .or_default()
                .insert(p.time, value);
        }
    }
    monitoring::log(store, org, &rejections, now);
}

fn apply_delete(store: &mut Store, bucket: Id, delete: &PendingDelete) {
    let Some(data) = store.data.get_mut(&bucket) else {
        return;
    };
    let fields: Vec<&str> = delete
        .equals
        .iter()
        .filter(|(k, _)| k == "_field")
        .map(|(_, v)| v.as_str())
        .collect();
    let series_match = |key: &SeriesKey| {
        delete
            .equals
            .iter()
            .filter(|(k, _)| k != "_field")
            .all(|(k, v)| {
                if k == "_measurement" {
                    key.measurement == v.as_bytes()
                } else {
                    let tag = key
                        .tags
                        .iter()
                        .find(|(tk, _)| tk == k.as_bytes())
                        .map(|(_, tv)| tv.as_slice());
                    tag.unwrap_or(b"") == v.as_bytes()
                }
            })
    };
    if fields.is_empty() {
        data.delete(delete.start, delete.stop, series_match);
        return;
    }
    // Cloud deletes by field: remove only those fields' values of the matching series.
    for group in data.shard_groups.values_mut() {
        for (key, series_fields) in group.series.iter_mut() {
            if !series_match(key) {
                continue;
            }
            for (f, values) in series_fields.iter_mut() {
                if fields.iter().any(|want| want.as_bytes() == f.as_slice()) {
                    values.retain(|t, _| *t < delete.start || *t > delete.stop);
                }
            }
            series_fields.retain(|_, v| !v.is_empty());
        }
        group.series.retain(|_, f| !f.is_empty());
    }
}
