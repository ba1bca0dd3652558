//! The asynchronous half: queued writes and deletes applied in acknowledgement order.

use std::collections::BTreeMap;

use crate::engine::series_batch::{BatchSeries, FieldColumn, SeriesBatch};
use crate::model::{FieldType, Id};
use crate::storage::cloud::{PendingDelete, PendingOp};
use crate::storage::{series_entry, BucketData, SeriesFields, SeriesKey, Store, TimeValues};

use super::gateway::org_cardinality;
use super::monitoring::{self, reasons, Rejection};
use super::CloudConfig;

/// Applies every queued operation whose time has come (`ready_at <= now`), oldest first.
/// Returns how many were applied.
pub fn apply_due(store: &mut Store, config: &CloudConfig, now: i64) -> usize {
    apply_due_keeping(store, config, now).0
}

/// [`apply_due`], returning also the applied writes' emptied batches: their buffers (a few
/// per (series, field) pair of every write) are freed where the caller drops them, after the
/// store lock is released. Freeing them under the lock was 5-6% of a served cloud ingest, in
/// the part that runs one write at a time.
pub fn apply_due_keeping(store: &mut Store, config: &CloudConfig, now: i64) -> (usize, Spent) {
    let mut applied = 0;
    let mut spent = Spent::default();
    while store.cloud.queue.front().is_some_and(|p| p.ready_at <= now) {
        if let Some(p) = store.cloud.queue.pop_front() {
            spent.0.extend(apply_one(store, config, p.org, p.op, now));
            applied += 1;
        }
    }
    (applied, spent)
}

/// The emptied batches of applied writes, to be dropped once the store is unlocked.
#[derive(Debug, Default)]
pub struct Spent(Vec<SeriesBatch>);

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

/// Applies `op`; a write gives back its emptied batch.
fn apply_one(
    store: &mut Store,
    config: &CloudConfig,
    org: Id,
    op: PendingOp,
    now: i64,
) -> Option<SeriesBatch> {
    match op {
        PendingOp::Write { bucket, batch } => {
            Some(apply_write(store, config, org, bucket, batch, now))
        }
        PendingOp::Delete { bucket, delete } => {
            apply_delete(store, bucket, &delete);
            None
        }
    }
}

/// What the apply decided for one (series, field) pair of a batch before looking at its
/// values one by one.
#[derive(Debug, Clone, Copy)]
struct PairPlan {
    /// The type the pair's values had before the batch, when it existed.
    existing: Option<FieldType>,
    /// The pair is new to the bucket: its first value needs room under the cardinality limit.
    new: bool,
    /// A new pair got that room (decided in acknowledgement order over the whole batch).
    admitted: bool,
}

fn apply_write(
    store: &mut Store,
    config: &CloudConfig,
    org: Id,
    bucket_id: Id,
    mut batch: SeriesBatch,
    now: i64,
) -> SeriesBatch {
    // A bucket deleted after the acknowledgement takes its queued writes with it.
    let Some(bucket) = store.buckets.get(&bucket_id).cloned() else {
        return batch;
    };
    let mut cardinality = org_cardinality(store, org);
    let min_time = (bucket.retention > 0).then(|| now.saturating_sub(bucket.retention));
    let too_old = |time: i64| min_time.is_some_and(|min| time < min);
    let data = store.data.entry(bucket_id).or_default();

    // Every rule but cardinality is a rule about one (series, field) pair and its values in
    // order, so each column is checked on its own. Cardinality is shared by the batch: the
    // new pairs get room in the order their first value not too old for retention arrives
    // (the value the cardinality check would meet first), as a value-by-value apply in
    // acknowledgement order gives it.
    let mut plans: Vec<Vec<PairPlan>> = Vec::with_capacity(batch.series.len());
    let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
    for (s, series) in batch.series.iter().enumerate() {
        // What the bucket held for this series before the batch, shard group by shard group
        // (in time order). Checks never read what the batch writes: values are written after
        // every check, and a pair's own earlier values in the batch are its `known` type.
        let stored: Vec<&SeriesFields> = data
            .shard_groups
            .values()
            .filter_map(|g| g.series.get(&series.key))
            .collect();
        let mut series_plans: Vec<PairPlan> = Vec::with_capacity(series.columns.len());
        // Keys absorbed in pieces (see `SeriesBatch::absorb`): per first piece, whether a
        // candidate was found in an earlier piece.
        let mut found = vec![false; series.first_piece.len()];
        for (c, column) in series.columns.iter().enumerate() {
            let first = series.first_piece_of(c);
            if let Some(&plan) = series_plans.get(first).filter(|_| first != c) {
                // A later piece of its key: the key's plan, and its candidate when no earlier
                // piece held a value not too old.
                let searching = found.get_mut(first).filter(|f| plan.new && !**f);
                if let Some(f) = searching {
                    if let Some(i) = column.times.iter().position(|&t| !too_old(t)) {
                        candidates.push((column.ordinals[i] as usize, s, first));
                        *f = true;
                    }
                }
                series_plans.push(plan);
                continue;
            }
            // The existing type: that of the first value of the earliest group holding one.
            let mut existed = false;
            let mut existing = None;
            for values in stored.iter().filter_map(|f| f.get(column.key.as_slice())) {
                existed = true;
                if existing.is_none() {
                    existing = values.first_type();
                }
            }
            if !existed {
                if let Some(i) = column.times.iter().position(|&t| !too_old(t)) {
                    candidates.push((column.ordinals[i] as usize, s, c));
                    if let Some(f) = found.get_mut(c) {
                        *f = true;
                    }
                }
            }
            series_plans.push(PairPlan {
                existing,
                new: !existed,
                admitted: false,
            });
        }
        plans.push(series_plans);
    }
    candidates.sort_unstable();
    for (_, s, c) in candidates {
        if config
            .limits
            .cardinality
            .is_some_and(|limit| cardinality >= limit)
        {
            // Cardinality only grows within a batch: every later new pair is refused too.
            break;
        }
        cardinality += 1;
        if let Some(plan) = plans.get_mut(s).and_then(|p| p.get_mut(c)) {
            plan.admitted = true;
        }
    }

    // Values, pair by pair: rejected ones are logged (in acknowledgement order, below),
    // accepted ones written by shard group.
    let mut rejections: Vec<(usize, Rejection)> = Vec::new();
    let mut written = 0;
    let duration = bucket.shard_group_duration;
    for (series, series_plans) in batch.series.iter_mut().zip(&plans) {
        // Per column: `None` when every value was accepted (no list to build), else the
        // accepted indices in order.
        let mut keeps: Vec<Option<Vec<usize>>> = Vec::with_capacity(series.columns.len());
        // Keys absorbed in pieces: per first piece, the type known after the last piece.
        let mut carried: Vec<Option<(FieldType, &'static str)>> =
            vec![None; series.first_piece.len()];
        for (c, column) in series.columns.iter_mut().enumerate() {
            let first = series.first_piece.get(c).copied().unwrap_or(c);
            let Some(plan) = series_plans.get(first) else {
                // Cannot happen (a first piece comes before its pieces); writes nothing.
                keeps.push(Some(Vec::new()));
                continue;
            };
            let mut known: Option<(FieldType, &'static str)> = if first == c {
                plan.existing.map(|t| (t, reasons::TYPE_CONFLICT_EXISTING))
            } else {
                carried.get(first).copied().flatten()
            };
            let mut keep: Option<Vec<usize>> = None;
            for i in 0..column.len() {
                let Some(got) = column.values.type_at(i) else {
                    continue;
                };
                let refused = if too_old(column.times[i]) {
                    Some((reasons::RETENTION, None, None))
                } else if let Some((want, reason)) = known.filter(|(want, _)| *want != got) {
                    Some((reason, Some(got), Some(want)))
                } else if plan.new && !plan.admitted {
                    Some((reasons::CARDINALITY, None, None))
                } else {
                    None
                };
                match refused {
                    Some((reason, got, want)) => {
                        keep.get_or_insert_with(|| (0..i).collect());
                        rejections.push((
                            column.ordinals[i] as usize,
                            Rejection {
                                bucket: bucket_id,
                                measurement: Some(series.key.measurement().into_owned()),
                                field: Some(column.key.clone()),
                                reason: reason.to_string(),
                                got,
                                want,
                                error: None,
                            },
                        ));
                    }
                    None => {
                        known.get_or_insert((got, reasons::TYPE_CONFLICT_BATCH));
                        if let Some(keep) = &mut keep {
                            keep.push(i);
                        }
                    }
                }
            }
            if let Some(slot) = carried.get_mut(first) {
                *slot = known;
            }
            written += keep.as_ref().map_or(column.len(), Vec::len);
            keeps.push(keep);
        }
        write_series(data, duration, series, &keeps);
    }
    rejections.sort_unstable_by_key(|(ordinal, _)| *ordinal);
    let rejections: Vec<Rejection> = rejections.into_iter().map(|(_, r)| r).collect();
    store.cloud.values_written += written as u64;
    monitoring::log(store, org, &rejections, now);
    batch
}

/// Writes the accepted values of a series (`keeps`: per column, indices in order): in the
/// usual batch (every value accepted, one shard group) the series is looked up once and each
/// column appended whole; otherwise column by column.
fn write_series(
    data: &mut BucketData,
    duration: i64,
    series: &mut BatchSeries,
    keeps: &[Option<Vec<usize>>],
) {
    let start_of = |t: i64| crate::storage::shard_group_start(t, duration);
    let group = series
        .columns
        .first()
        .and_then(|c| c.times.first())
        .map(|&t| start_of(t));
    // Range checks, not a shard-group computation (a 128-bit remainder) per value.
    let simple = group.is_some_and(|g| {
        let end = g.saturating_add(duration);
        series
            .columns
            .iter()
            .zip(keeps)
            .all(|(c, keep)| keep.is_none() && c.times.iter().all(|&t| t >= g && t < end))
    });
    if let (true, Some(start)) = (simple, group) {
        let stored = &mut data.shard_group_mut(start, duration).series;
        // One search when the series exists (see points_writer).
        let map = match stored.get_mut(&series.key) {
            Some(map) => map,
            None => stored.entry(series.key.clone()).or_default(),
        };
        // A column emptied at the gateway (explicit schemas) creates no pair.
        for column in &mut series.columns {
            column.append_to(map);
        }
        return;
    }
    for (column, keep) in series.columns.iter_mut().zip(keeps) {
        let all: Vec<usize>;
        let keep = match keep {
            Some(keep) => keep,
            None => {
                all = (0..column.len()).collect();
                &all
            }
        };
        write_column(data, duration, &series.key, column, keep);
    }
}

/// Writes the values `keep` (indices, in order) of `column` into series `key`: appended
/// whole when they are the whole column and fall in one shard group (the usual batch), else
/// shard group by shard group.
fn write_column(
    data: &mut BucketData,
    duration: i64,
    key: &SeriesKey,
    column: &mut FieldColumn,
    keep: &[usize],
) {
    let start_of = |t: i64| crate::storage::shard_group_start(t, duration);
    let mut runs: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    let whole = keep.len() == column.len()
        && match (column.times.first(), column.times.last()) {
            (Some(&a), Some(_)) => {
                let start = start_of(a);
                let end = start.saturating_add(duration);
                column.times.iter().all(|&t| t >= start && t < end)
            }
            _ => false,
        };
    if whole {
        let Some(&first) = column.times.first() else {
            return;
        };
        if let Some(stored) = field_values(data, start_of(first), duration, key, &column.key) {
            stored.extend_run_from(&column.times, &mut column.values);
        }
        return;
    }
    for &i in keep {
        runs.entry(start_of(column.times[i])).or_default().push(i);
    }
    for (start, indices) in runs {
        let times: Vec<i64> = indices.iter().map(|&i| column.times[i]).collect();
        let values = indices
            .iter()
            .filter_map(|&i| column.values.take(i))
            .collect();
        if let Some(stored) = field_values(data, start, duration, key, &column.key) {
            stored.extend_run(&times, values);
        }
    }
}

/// The values of (series `key`, field `field`) in the shard group starting at `start`,
/// created when missing.
fn field_values<'d>(
    data: &'d mut BucketData,
    start: i64,
    duration: i64,
    key: &SeriesKey,
    field: &[u8],
) -> Option<&'d mut TimeValues> {
    let series = series_entry(&mut data.shard_group_mut(start, duration).series, key)?;
    if !series.contains_key(field) {
        series.insert(field.to_vec(), TimeValues::new());
    }
    series.get_mut(field)
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
    data.delete_where(delete.start, delete.stop, None, |series, field| {
        predicate
            .as_ref()
            .is_none_or(|p| crate::engine::delete_predicate::matches(p, series, field))
    });
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::apply_model::apply_write_model;
    use super::*;
    use crate::line_protocol::parse_batch_cloud;
    use crate::model::Precision;
    use crate::storage::cloud::OwnedPoint;
    use crate::storage::SchemaType;

    const NOW: i64 = 1_000;

    /// One line from a small universe, so that series, fields, types and times collide.
    fn line() -> impl Strategy<Value = String> {
        let measurement = prop_oneof![Just("m"), Just("n")];
        // The same series spelled two ways (tag order) groups as one.
        let tags = prop_oneof![
            Just(""),
            Just(",a=1"),
            Just(",a=2"),
            Just(",a=1,b=x"),
            Just(",b=x,a=1")
        ];
        let key = prop_oneof![Just("v"), Just("w"), Just("x")];
        let value = prop_oneof![
            Just("1"),
            Just("2.5"),
            Just("3i"),
            Just("4u"),
            Just("t"),
            Just("\"s\"")
        ];
        let fields = proptest::collection::vec((key, value), 1..4).prop_map(|fs| {
            fs.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        });
        // Around the retention bound (NOW - 30) and over several 10 ns shard groups.
        let time = prop_oneof![1 => Just(None), 8 => (940i64..1_000).prop_map(Some)];
        (measurement, tags, fields, time).prop_map(|(m, t, f, time)| match time {
            Some(time) => format!("{m}{t} {f} {time}"),
            None => format!("{m}{t} {f}"),
        })
    }

    /// How [`apply_all`] applies a batch.
    #[derive(Debug, Clone, Copy)]
    enum How {
        /// Point by point, the model.
        Model,
        /// Grouped at once, column-wise.
        Columns,
        /// Grouped `chunk` points at a time and absorbed with pieces of `piece` values, as
        /// the gateway does a large write.
        Pieces { chunk: usize, piece: usize },
    }

    /// Applies `batches` to a fresh cloud store, column-wise or with the point-by-point model,
    /// and returns everything stored (the bucket and `_monitoring`) and the written count.
    fn apply_all(
        batches: &[String],
        cardinality: Option<usize>,
        retention: i64,
        how: How,
    ) -> (String, u64) {
        // An org (with its `_monitoring` bucket) and a bucket, as the bootstrap makes them.
        let mut store = Store::default();
        let Ok(org_id) = store.create_org("o", "", NOW) else {
            panic!("an org is created in an empty store");
        };
        let Ok(bucket_id) = store.create_bucket(org_id, "b", 0, 0, SchemaType::Implicit, NOW)
        else {
            panic!("a bucket is created in a new org");
        };
        let mut config = CloudConfig::default();
        config.limits.cardinality = cardinality;
        {
            let store = &mut store;
            if let Some(b) = store.buckets.get_mut(&bucket_id) {
                b.retention = retention;
                b.shard_group_duration = 10;
            }
            for body in batches {
                let parsed = parse_batch_cloud(body.as_bytes(), Precision::Nanosecond);
                let default_time = 990;
                if let How::Model = how {
                    let points = parsed
                        .points
                        .iter()
                        .map(|p| OwnedPoint {
                            measurement: p.measurement.to_vec(),
                            tags: p
                                .tags
                                .iter()
                                .map(|t| (t.key.to_vec(), t.value.to_vec()))
                                .collect(),
                            fields: p
                                .fields
                                .iter()
                                .map(|f| (f.key.to_vec(), f.value.to_owned_value()))
                                .collect(),
                            time: p.timestamp.unwrap_or(default_time),
                        })
                        .collect();
                    apply_write_model(store, &config, org_id, bucket_id, points, NOW);
                } else if let How::Pieces { chunk, piece } = how {
                    let mut whole = SeriesBatch::default();
                    let mut index = crate::storage::batch::AbsorbIndex::default();
                    let mut base = 0;
                    for points in parsed.points.chunks(chunk) {
                        let grouped = SeriesBatch::build(points, default_time, |_| true);
                        let fields = grouped.ordinals();
                        whole.absorb_in_pieces(grouped, &mut index, base, piece);
                        base += fields;
                    }
                    let _ = apply_write(store, &config, org_id, bucket_id, whole, NOW);
                } else {
                    let batch = SeriesBatch::build(&parsed.points, default_time, |_| true);
                    let _ = apply_write(store, &config, org_id, bucket_id, batch, NOW);
                }
            }
            (format!("{:?}", store.data), store.cloud.values_written)
        }
    }

    /// One to three write bodies of `lines` lines each.
    fn bodies(lines: std::ops::Range<usize>) -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            proptest::collection::vec(line(), lines).prop_map(|ls| ls.join("\n")),
            1..4,
        )
    }

    /// No cardinality limit, or a small one (reached in the middle of a batch).
    fn cardinality() -> impl Strategy<Value = Option<usize>> {
        prop_oneof![Just(None), (0usize..8).prop_map(Some)]
    }

    /// No retention, or 30 ns (around the lines' times).
    fn retention() -> impl Strategy<Value = i64> {
        prop_oneof![Just(0i64), Just(30i64)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Column-wise apply = value-by-value apply in acknowledgement order: same values
        /// stored, same `rejected_points` rows in the same order (type conflicts in batch and
        /// with existing data, retention, cardinality overflow in the middle of a batch).
        #[test]
        fn column_wise_apply_is_value_by_value(
            batches in bodies(1..25),
            cardinality in cardinality(),
            retention in retention(),
        ) {
            let got = apply_all(&batches, cardinality, retention, How::Columns);
            let want = apply_all(&batches, cardinality, retention, How::Model);
            prop_assert_eq!(got, want);
        }

        /// The same for a write grouped a chunk at a time with its keys' values in pieces
        /// (`SeriesBatch::absorb`): the pieces of a key share its type, its cardinality room
        /// and its retention candidate.
        #[test]
        fn apply_of_pieces_is_value_by_value(
            batches in bodies(1..40),
            cardinality in cardinality(),
            retention in retention(),
            chunk in 1usize..6,
            piece in 1usize..4,
        ) {
            let got = apply_all(&batches, cardinality, retention, How::Pieces { chunk, piece });
            let want = apply_all(&batches, cardinality, retention, How::Model);
            prop_assert_eq!(got, want);
        }
    }
}
