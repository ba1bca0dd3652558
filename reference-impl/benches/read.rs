//! The read path: Flux queries over 1,000,000 stored field values (TSBS cpu-only, 100 hosts ×
//! 1,000 ticks × 10 fields, written in-process through `POST /api/v2/write`), each sent as
//! `POST /api/v2/query` through the same router the server serves, so decoding the request,
//! evaluating the script, and encoding the annotated CSV all count:
//! * `count`: a tag-filtered `count()` of one host's `usage_user` (1,000 rows read);
//! * `window`: `aggregateWindow(every: 1m, fn: mean)` of `usage_user` over all hosts in a 3 h range
//!   (100,000 rows read);
//! * `pivot`: every field of ten hosts pivoted on `_time` (100,000 rows read).
//!
//! Criterion's throughput is in rows read from storage (elements). Besides criterion's numbers
//! it prints rows/s of each query from a best-of-N timed loop in the same run, and the size of
//! the CSV answer.
//!
//!     cargo bench -p influx-reference --bench read
//!
//! `READ_PROFILE=count|window|pivot cargo bench --bench read` runs one query for a few seconds
//! (for `perf record`) instead of the benchmarks; with `READ_PASSES=n`, exactly n times (for
//! `valgrind --tool=callgrind`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use criterion::{criterion_group, Criterion, Throughput};
use influx_reference::clock::ManualClock;
use influx_reference::server::Reference;
use influx_reference::tsbs::CpuOnly;
use influx_reference::ServerConfig;

mod common;
use common::best_of;

const HOSTS: usize = 100;
/// Lines: 1,000 ticks of every host, 10 field values each (1,000,000 stored values).
const LINES: usize = 100_000;
const START: i64 = 1_700_000_000_000_000_000;
const TOKEN: &str = "my-token";

/// One query of the bench: its name, its script and how many rows it reads from storage.
struct Query {
    name: &'static str,
    script: String,
    rows: u64,
}

fn queries() -> Vec<Query> {
    let ticks = (LINES / HOSTS) as u64;
    let range = "range(start: 2023-11-14T22:00:00Z, stop: 2023-11-15T01:00:00Z)";
    vec![
        Query {
            name: "count",
            script: format!(
                "from(bucket: \"my-bucket\") |> {range} |> filter(fn: (r) => r._measurement == \"cpu\" and r.hostname == \"host_7\" and r._field == \"usage_user\") |> count()"
            ),
            rows: ticks,
        },
        Query {
            name: "window",
            script: format!(
                "from(bucket: \"my-bucket\") |> {range} |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\") |> aggregateWindow(every: 1m, fn: mean)"
            ),
            rows: ticks * HOSTS as u64,
        },
        Query {
            name: "pivot",
            script: format!(
                "from(bucket: \"my-bucket\") |> {range} |> filter(fn: (r) => r._measurement == \"cpu\" and (r.hostname == \"host_1\" or r.hostname == \"host_2\" or r.hostname == \"host_3\" or r.hostname == \"host_4\" or r.hostname == \"host_5\" or r.hostname == \"host_6\" or r.hostname == \"host_7\" or r.hostname == \"host_8\" or r.hostname == \"host_9\" or r.hostname == \"host_10\")) |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")"
            ),
            rows: ticks * 10 * 10,
        },
    ]
}

/// The reference with the corpus written, and the runtime its router runs on.
struct Server {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    _reference: Reference,
}

fn server() -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let clock = ManualClock::new(START + 3 * 3_600_000_000_000);
    let config = ServerConfig {
        token: TOKEN.into(),
        ..ServerConfig::default()
    };
    let reference =
        Reference::with_clock(config, Arc::new(clock)).unwrap_or_else(|e| panic!("reference: {e}"));
    let router = reference.router();
    let spec = CpuOnly {
        hosts: HOSTS,
        points: LINES,
        batch: 5_000,
        start: START,
    };
    rt.block_on(async {
        for batch in spec.batches_iter() {
            let req = axum::http::Request::post("/api/v2/write?org=my-org&bucket=my-bucket")
                .header("Authorization", format!("Token {TOKEN}"))
                .body(Body::from(batch))
                .unwrap_or_else(|e| panic!("request: {e}"));
            let resp = tower::ServiceExt::oneshot(router.clone(), req)
                .await
                .unwrap_or_else(|never| match never {});
            assert_eq!(resp.status().as_u16(), 204, "the corpus writes");
        }
    });
    Server {
        rt,
        router,
        _reference: reference,
    }
}

/// Runs `script` through `POST /api/v2/query`; the CSV answer's length.
fn query(server: &Server, script: &str) -> usize {
    server.rt.block_on(async {
        let body = serde_json::json!({ "query": script, "type": "flux" }).to_string();
        let req = axum::http::Request::post("/api/v2/query?org=my-org")
            .header("Authorization", format!("Token {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let resp = tower::ServiceExt::oneshot(server.router.clone(), req)
            .await
            .unwrap_or_else(|never| match never {});
        let status = resp.status().as_u16();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        body.len()
    })
}

fn report(server: &Server, queries: &[Query]) {
    for q in queries {
        let bytes = query(server, &q.script);
        let t = best_of(5, || {
            black_box(query(server, &q.script));
        });
        eprintln!(
            "[read {}] {:.0} rows/s ({} rows read in {:.2} ms, {} bytes of CSV)",
            q.name,
            q.rows as f64 / t.as_secs_f64(),
            q.rows,
            t.as_secs_f64() * 1e3,
            bytes
        );
    }
}

fn bench(c: &mut Criterion) {
    let server = server();
    let queries = queries();
    report(&server, &queries);
    let mut group = c.benchmark_group("read");
    for q in &queries {
        group.throughput(Throughput::Elements(q.rows));
        group.bench_function(q.name, |b| b.iter(|| query(&server, black_box(&q.script))));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = bench
}

fn main() {
    if let Some(what) = std::env::var_os("READ_PROFILE") {
        let what = what.to_string_lossy().into_owned();
        let server = server();
        let Some(q) = queries().into_iter().find(|q| q.name == what) else {
            eprintln!("READ_PROFILE: one of count, window, pivot");
            return;
        };
        // `READ_PASSES=n`: exactly n queries (for instruction counts under valgrind, which
        // do not move with the machine's load).
        let passes: Option<usize> = std::env::var("READ_PASSES")
            .ok()
            .and_then(|n| n.parse().ok());
        let until = Instant::now() + Duration::from_secs(8);
        let mut done = 0;
        while passes.map_or(Instant::now() < until, |n| done < n) {
            done += 1;
            black_box(query(&server, &q.script));
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
