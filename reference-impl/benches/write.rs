//! Where the time of a v2 write goes, phase by phase, on TSBS cpu-only batches (1,000 hosts,
//! 5,000 lines per batch, 400,000 points): parsing, grouping by series (both outside the
//! store lock in the server) and the storage write (inside it). Prints ns per point for
//! each phase, best of five runs:
//!
//!     cargo bench -p influx-reference --bench write

use std::time::{Duration, Instant};

use std::sync::Arc;

use influx_reference::clock::ManualClock;
use influx_reference::config::{Flavor, ServerConfig};
use influx_reference::engine::cloud::{self, CloudConfig, Plan};
use influx_reference::engine::points_writer::{series_batch, write_points, StorageVersion};
use influx_reference::engine::series_batch::SeriesBatch;
use influx_reference::engine::v2::WriteRequest;
use influx_reference::line_protocol::parse_batch;
use influx_reference::line_protocol::parse_batch_cloud;
use influx_reference::model::{Id, Precision};
use influx_reference::server::Reference;
use influx_reference::storage::{Bucket, BucketData, BucketKind, SchemaType};
use influx_reference::tsbs::CpuOnly;

const POINTS: usize = 400_000;

mod common;
use common::best_of;

/// The bucket every phase writes to: no retention, week-long shard groups.
fn bench_bucket() -> Option<Bucket> {
    Some(Bucket {
        id: Id::new(1)?,
        org_id: Id::new(2)?,
        name: "bench".into(),
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

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let spec = CpuOnly {
        hosts: 1000,
        points: POINTS,
        batch: 5000,
        start: 1_700_000_000_000_000_000,
    };
    let batches = spec.batches();
    let Some(bucket) = bench_bucket() else { return };
    let per_point = |d: Duration| d.as_nanos() as f64 / POINTS as f64;

    // Grouping alone, each batch timed right after it is parsed (as a write groups it): the
    // difference of two timed phases took the noise of both.
    let group_one = |b: &str| {
        let batch = parse_batch(b.as_bytes(), Precision::Nanosecond);
        let t = Instant::now();
        std::hint::black_box(series_batch(&batch.points, 0));
        t.elapsed()
    };
    // `WRITE_PHASE=group`: only the v2 grouping, best of 15 rounds (for A/B runs of two
    // builds taking turns, where the whole bench's noise hides a change of a few percent).
    if std::env::var("WRITE_PHASE").is_ok_and(|p| p == "group") {
        let group = sum_of_best(15, &batches, group_one);
        println!("v2 group by series {:7.0} ns/point", per_point(group));
        return;
    }
    let parse = best_of(5, || {
        for b in &batches {
            std::hint::black_box(parse_batch(b.as_bytes(), Precision::Nanosecond));
        }
    });
    let group = sum_of_best(5, &batches, group_one);
    // The storage write alone: parse and group first, then time only `write_points`.
    let mut store_only = Duration::MAX;
    for _ in 0..5 {
        let parsed: Vec<_> = batches
            .iter()
            .map(|b| parse_batch(b.as_bytes(), Precision::Nanosecond))
            .collect();
        let mut grouped: Vec<_> = parsed.iter().map(|b| series_batch(&b.points, 0)).collect();
        let mut data = BucketData::default();
        let t = Instant::now();
        for (batch, grouped) in parsed.iter().zip(grouped.iter_mut()) {
            let (stats, partial) = write_points(
                &mut data,
                &bucket,
                &batch.points,
                grouped,
                0,
                StorageVersion::V2_7,
            );
            assert!(partial.is_none() && stats.points_written == batch.points.len());
        }
        store_only = store_only.min(t.elapsed());
        std::hint::black_box(&data);
    }
    println!("v2 write phases, TSBS cpu-only, {POINTS} points in batches of 5000:");
    println!("  parse                 {:7.0} ns/point", per_point(parse));
    println!("  group by series       {:7.0} ns/point", per_point(group));
    println!(
        "  store (under lock)    {:7.0} ns/point",
        per_point(store_only)
    );
    cloud_phases(&batches, per_point);
    memory();
}

/// Resident memory, in this process, of 2,000,000 TSBS points stored (as `cargo xtask bench
/// ingest` sends them), and how much of it the values take.
fn memory() {
    const N: usize = 2_000_000;
    let Some(bucket) = bench_bucket() else { return };
    let spec = CpuOnly {
        hosts: 1000,
        points: N,
        batch: 5000,
        start: 1_700_000_000_000_000_000,
    };
    let mut data = BucketData::default();
    let before = rss();
    // One batch generated at a time, so that the body does not count.
    for b in spec.batches_iter() {
        let batch = parse_batch(b.as_bytes(), Precision::Nanosecond);
        let mut grouped = series_batch(&batch.points, 0);
        write_points(
            &mut data,
            &bucket,
            &batch.points,
            &mut grouped,
            0,
            StorageVersion::V2_7,
        );
    }
    let after = rss();
    let fields = influx_reference::tsbs::FIELDS.len();
    println!("memory, {N} points stored ({} values):", data.value_count());
    println!(
        "  resident growth       {:7.1} bytes/point",
        after.saturating_sub(before) as f64 / N as f64
    );
    println!(
        "  values (encoded+head) {:7.1} bytes/point ({:.2} per field value)",
        data.stored_bytes() as f64 / N as f64,
        data.stored_bytes() as f64 / (N * fields) as f64
    );
    std::hint::black_box(&data);
}

fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .unwrap_or(0)
        * 1024
}

/// The sum over every batch of what `each` timed (a part of what it does to the batch); the
/// best of `runs` rounds.
fn sum_of_best(runs: usize, batches: &[String], each: impl Fn(&str) -> Duration) -> Duration {
    (0..runs)
        .map(|_| batches.iter().map(|b| each(b)).sum::<Duration>())
        .min()
        .unwrap_or_default()
}

/// The same batches through the Cloud flavor: the decoder, grouping, the gateway (under the
/// lock) and the apply (under the lock).
fn cloud_phases(batches: &[String], per_point: impl Fn(Duration) -> f64) {
    let parse = best_of(5, || {
        for b in batches {
            std::hint::black_box(parse_batch_cloud(b.as_bytes(), Precision::Nanosecond));
        }
    });
    let group = sum_of_best(5, batches, |b| {
        let batch = parse_batch_cloud(b.as_bytes(), Precision::Nanosecond);
        let t = Instant::now();
        std::hint::black_box(SeriesBatch::build(&batch.points, 0, |_| true));
        t.elapsed()
    });
    let mut config = CloudConfig::for_plan(Plan::UsageBased);
    config.limits.write_bytes_per_window = None;
    config.apply_delay = 0;
    let (mut gateway, mut apply) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        let clock = Arc::new(ManualClock::new(1_800_000_000_000_000_000));
        let Ok(reference) = Reference::with_clock(
            ServerConfig {
                flavor: Flavor::Cloud,
                cloud: config,
                ..ServerConfig::default()
            },
            clock.clone(),
        ) else {
            return;
        };
        let (mut g, mut a) = (Duration::ZERO, Duration::ZERO);
        reference.with_store(|store| {
            let Some(auth) = store.authorization_by_token("my-token").cloned() else {
                return;
            };
            for b in batches {
                let req = WriteRequest {
                    bucket: Some(b"my-bucket"),
                    precision: Some("ns"),
                    body: b.as_bytes(),
                    ..WriteRequest::default()
                };
                let pre = cloud::prepare(&req, &config, clock.as_ref());
                let mut parsed = pre.parse(&req);
                let t = Instant::now();
                let ok = cloud::write_prepared(store, &auth, &req, &config, &pre, parsed.as_mut());
                g += t.elapsed();
                assert!(ok.is_ok());
                let t = Instant::now();
                cloud::settle(store, &config, 1_800_000_000_000_000_000);
                a += t.elapsed();
            }
        });
        gateway = gateway.min(g);
        apply = apply.min(a);
    }
    println!("cloud write phases, same batches:");
    println!("  parse (Cloud decoder) {:7.0} ns/point", per_point(parse));
    println!("  group by series       {:7.0} ns/point", per_point(group));
    println!(
        "  gateway (under lock)  {:7.0} ns/point",
        per_point(gateway)
    );
    println!("  apply (under lock)    {:7.0} ns/point", per_point(apply));
}
