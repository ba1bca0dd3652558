//! Where the time of a v2 write goes, phase by phase, on TSBS cpu-only batches (1,000 hosts,
//! 5,000 lines per batch, 400,000 points): parsing, grouping by series (both outside the
//! store lock in the server) and the storage write (inside it). Prints ns per point for
//! each phase, best of five runs:
//!
//!     cargo bench -p influx-reference --bench write

use std::time::{Duration, Instant};

use influx_reference::engine::points_writer::{series_batch, write_points, StorageVersion};
use influx_reference::line_protocol::parse_batch;
use influx_reference::model::{Id, Precision};
use influx_reference::storage::{Bucket, BucketData, BucketKind, SchemaType};
use influx_reference::tsbs::CpuOnly;

const POINTS: usize = 400_000;

// The allocator the server runs with (see src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
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
    let (Some(id), Some(org)) = (Id::new(1), Id::new(2)) else {
        return;
    };
    let bucket = Bucket {
        id,
        org_id: org,
        name: "bench".into(),
        description: String::new(),
        kind: BucketKind::User,
        retention: 0,
        shard_group_duration: 7 * 24 * 3_600_000_000_000,
        schema_type: SchemaType::Implicit,
        created_at: 0,
        updated_at: 0,
    };
    let per_point = |d: Duration| d.as_nanos() as f64 / POINTS as f64;

    let parse = best_of(5, || {
        for b in &batches {
            std::hint::black_box(parse_batch(b.as_bytes(), Precision::Nanosecond));
        }
    });
    let group = best_of(5, || {
        for b in &batches {
            let batch = parse_batch(b.as_bytes(), Precision::Nanosecond);
            std::hint::black_box(series_batch(&batch.points, 0));
        }
    });
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
    println!(
        "  group by series       {:7.0} ns/point",
        per_point(group.saturating_sub(parse))
    );
    println!(
        "  store (under lock)    {:7.0} ns/point",
        per_point(store_only)
    );
}
