//! Parser throughput: `line_protocol::parse_lines` against `influxdb_line_protocol::parse_lines`
//! (2.0.0, the IOx parser) on two generated corpora:
//! * `cpu-only`: TSBS "cpu-only" shaped lines (measurement `cpu`, the 10 TSBS tags, the 10
//!   `usage_*` fields as integers like TSBS's InfluxDB serializer writes them, ns timestamps);
//! * `escapes`: names, tags and field keys full of escapes, and quoted strings with escaped
//!   quotes and backslashes, mixed field types.
//!
//! Besides criterion's numbers it prints, per corpus, MB/s and lines/s of both parsers, the
//! ratio ours/crate (ours lending each point, `parse_lines_ref`, as a streaming consumer uses
//! it; and ours handing out owned points, `parse_lines`), and the Cloud decoder
//! (`line_protocol::cloud::parse_lines_cloud`, owned points) with its time relative to v2's
//! owned form, from a best-of-N timed loop in the same run. The parsers take turns within
//! each round, so a busy machine slows all of them alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use influx_reference::line_protocol::{parse_lines, parse_lines_ref, Field, FieldValue, Precision};

const LINES: usize = 100_000;

mod common;

/// splitmix64, so the corpora are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// TSBS cpu-only (`influx_reference::tsbs`): 100 hosts, one line per host every 10 s.
fn cpu_only_corpus() -> String {
    influx_reference::tsbs::CpuOnly {
        hosts: 100,
        points: LINES,
        batch: LINES,
        start: 1_451_606_400_000_000_000,
    }
    .batches()
    .concat()
}

/// Escape-heavy lines: escaped spaces, commas and equals signs everywhere, quoted strings
/// with escaped quotes and backslashes, all field types.
fn escapes_corpus() -> String {
    use std::fmt::Write as _;
    let mut rng = Rng(7);
    let mut out = String::with_capacity(LINES * 260);
    for i in 0..LINES {
        let _ = writeln!(
            out,
            "weather\\ station\\,v2,location=San\\ Francisco\\,\\ CA,sensor\\=id=s\\={s},zone\\ name=bay\\ area \
             temp\\ c={t}.{td},humidity\\=pct={h}i,note=\"he said \\\"hi {i}\\\", ok\",path=\"C:\\\\data\\\\{s}.csv\",\
             msg=\"a, b = c and d\",count={c}u,ok={ok} {ts}",
            s = rng.below(1000),
            t = rng.below(40),
            td = rng.below(10),
            h = rng.below(100),
            c = rng.below(1 << 40),
            ok = if rng.below(2) == 0 { "true" } else { "F" },
            ts = 1_700_000_000_000_000_000i64 + i as i64,
        );
    }
    out
}

/// What every consumer below does with a point: counts its parts and sums its values, so
/// that nothing the parser produced can be optimized away.
fn point_sum(measurement: &[u8], tags: usize, fields: &[Field<'_>], time: Option<i64>) -> usize {
    let mut total = tags + fields.len() + measurement.len();
    for f in fields {
        total = total.wrapping_add(match &f.value {
            FieldValue::Integer(v) => *v as usize,
            FieldValue::Unsigned(v) => *v as usize,
            FieldValue::Float(v) => *v as usize,
            FieldValue::Boolean(v) => usize::from(*v),
            FieldValue::String(s) => s.len(),
        });
    }
    total.wrapping_add(time.unwrap_or(0) as usize)
}

/// Our parser as a streaming consumer uses it ([`parse_lines_ref`]: each point lent).
fn ours(body: &str) -> usize {
    let mut total = 0usize;
    let mut rejected = 0usize;
    parse_lines_ref(
        body.as_bytes(),
        Precision::Nanosecond,
        |p| {
            total = total.wrapping_add(point_sum(
                p.measurement(),
                p.tags().len(),
                p.fields(),
                p.timestamp,
            ));
            black_box(&p);
        },
        |e| {
            black_box(e);
            rejected += 1;
        },
    );
    total.wrapping_add(rejected << 48)
}

/// Our parser handing out owned points ([`parse_lines`]: two vectors allocated per line), as
/// a consumer that keeps every point uses it.
fn ours_owned(body: &str) -> usize {
    let mut total = 0usize;
    let mut rejected = 0usize;
    parse_lines(
        body.as_bytes(),
        Precision::Nanosecond,
        |p| {
            total = total.wrapping_add(point_sum(
                &p.measurement,
                p.tags.len(),
                &p.fields,
                p.timestamp,
            ));
            black_box(&p);
        },
        |e| {
            black_box(e);
            rejected += 1;
        },
    );
    total.wrapping_add(rejected << 48)
}

/// The Cloud decoder, consuming the points the same way as [`ours`].
fn cloud(body: &str) -> usize {
    let mut total = 0usize;
    let mut rejected = 0usize;
    influx_reference::line_protocol::cloud::parse_lines_cloud(
        body.as_bytes(),
        Precision::Nanosecond,
        |p| {
            total = total.wrapping_add(point_sum(
                &p.measurement,
                p.tags.len(),
                &p.fields,
                p.timestamp,
            ));
            black_box(&p);
        },
        |e| {
            black_box(e);
            rejected += 1;
        },
    );
    total.wrapping_add(rejected << 48)
}

fn cloud_rejected(body: &str) -> usize {
    let mut n = 0;
    influx_reference::line_protocol::cloud::parse_lines_cloud(
        body.as_bytes(),
        Precision::Nanosecond,
        |_| {},
        |_| n += 1,
    );
    n
}

fn ours_rejected(body: &str) -> usize {
    let mut n = 0;
    parse_lines(body.as_bytes(), Precision::Nanosecond, |_| {}, |_| n += 1);
    n
}

fn theirs_rejected(body: &str) -> usize {
    influxdb_line_protocol::parse_lines(body)
        .filter(|l| l.is_err())
        .count()
}

fn theirs(body: &str) -> usize {
    use influxdb_line_protocol::FieldValue as V;
    let mut total = 0usize;
    for line in influxdb_line_protocol::parse_lines(body) {
        match line {
            Ok(p) => {
                total += p.series.tag_set.as_ref().map_or(0, |t| t.len())
                    + p.field_set.len()
                    + p.series.measurement.len();
                for (_, v) in &p.field_set {
                    total += match v {
                        V::I64(v) => *v as usize,
                        V::U64(v) => *v as usize,
                        V::F64(v) => *v as usize,
                        V::Boolean(v) => usize::from(*v),
                        V::String(s) => s.len(),
                    };
                }
                total = total.wrapping_add(p.timestamp.unwrap_or(0) as usize);
                black_box(&p);
            }
            Err(e) => {
                black_box(e);
                total = total.wrapping_add(1 << 48);
            }
        }
    }
    total
}

/// Best time of each function over `runs` rounds; in every round each function runs once, in
/// turn, so that load from other processes is spread over all of them.
fn best_of_each<const N: usize>(runs: usize, fs: [&dyn Fn() -> usize; N]) -> [Duration; N] {
    let mut best = [Duration::MAX; N];
    for _ in 0..runs {
        for (f, best) in fs.iter().zip(best.iter_mut()) {
            let t = Instant::now();
            black_box(f());
            *best = (*best).min(t.elapsed());
        }
    }
    best
}

fn report(name: &str, body: &str) {
    let lines = body.lines().count();
    // Both parsers must accept the whole corpus (and agree on what they saw).
    assert_eq!(ours_rejected(body), 0, "{name}: our parser rejected a line");
    assert_eq!(
        theirs_rejected(body),
        0,
        "{name}: the crate rejected a line"
    );
    assert_eq!(
        cloud_rejected(body),
        0,
        "{name}: the Cloud decoder rejected a line"
    );
    let [ours_t, owned_t, theirs_t, cloud_t] = best_of_each(
        9,
        [
            &|| ours(body),
            &|| ours_owned(body),
            &|| theirs(body),
            &|| cloud(body),
        ],
    );
    let mbs = |d: Duration| body.len() as f64 / d.as_secs_f64() / 1e6;
    let lps = |d: Duration| lines as f64 / d.as_secs_f64();
    eprintln!(
        "[{name}] {lines} lines, {:.1} MB: ours {:.0} MB/s, {:.0} lines/s | influxdb_line_protocol {:.0} MB/s, {:.0} lines/s | ratio ours/crate {:.2}x",
        body.len() as f64 / 1e6,
        mbs(ours_t),
        lps(ours_t),
        mbs(theirs_t),
        lps(theirs_t),
        theirs_t.as_secs_f64() / ours_t.as_secs_f64(),
    );
    eprintln!(
        "[{name}] ours with owned points (parse_lines) {:.0} MB/s | ratio owned/crate {:.2}x",
        mbs(owned_t),
        theirs_t.as_secs_f64() / owned_t.as_secs_f64(),
    );
    // The Cloud decoder hands out owned points: it is compared with v2's owned form.
    eprintln!(
        "[{name}] cloud decoder {:.0} MB/s | time ratio cloud/v2 (both owned) {:.2}x",
        mbs(cloud_t),
        cloud_t.as_secs_f64() / owned_t.as_secs_f64(),
    );
}

fn bench(c: &mut Criterion) {
    for (name, body) in [
        ("cpu-only", cpu_only_corpus()),
        ("escapes", escapes_corpus()),
    ] {
        report(name, &body);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("line_protocol::parse_lines", |b| {
            b.iter(|| ours(black_box(&body)))
        });
        group.bench_function("influxdb_line_protocol::parse_lines", |b| {
            b.iter(|| theirs(black_box(&body)))
        });
        group.bench_function("line_protocol::cloud::parse_lines_cloud", |b| {
            b.iter(|| cloud(black_box(&body)))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = bench
}
/// CPU time of this thread: unlike wall time it does not count the time the thread waited
/// for a core, so it stays comparable while other processes keep the machine busy.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; CLOCK_THREAD_CPUTIME_ID always exists on
    // Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `PARSE_PROFILE=1 cargo bench --bench parse` runs only our parser on the cpu-only corpus for
/// a few seconds (for `perf record`), instead of the benchmarks. `PARSE_PROFILE=escapes`
/// profiles the escape-heavy corpus, `owned` and `owned-escapes` our parser handing out owned
/// points, `cloud` and `cloud-escapes` the Cloud decoder, `crate`
/// and `crate-escapes` the `influxdb-line-protocol` crate. At the end it prints the best
/// thread CPU time of one pass over the corpus (for comparing builds on a busy machine).
/// `PARSE_PASSES=n` runs exactly `n` passes instead (for `valgrind --tool=cachegrind`, whose
/// instruction and branch-miss counts do not move with the machine's load).
fn main() {
    if let Some(what) = std::env::var_os("PARSE_PROFILE") {
        let what = what.to_string_lossy().into_owned();
        let body = if what.ends_with("escapes") {
            escapes_corpus()
        } else {
            cpu_only_corpus()
        };
        let parser: fn(&str) -> usize = if what.starts_with("cloud") {
            cloud
        } else if what.starts_with("owned") {
            ours_owned
        } else if what.starts_with("crate") {
            theirs
        } else {
            ours
        };
        // `PARSE_PASSES=n`: exactly n passes (for instruction counts under valgrind).
        let passes: Option<usize> = std::env::var("PARSE_PASSES")
            .ok()
            .and_then(|n| n.parse().ok());
        let until = Instant::now() + Duration::from_secs(5);
        let mut best = Duration::MAX;
        let mut done = 0;
        while passes.map_or(Instant::now() < until, |n| done < n) {
            done += 1;
            let t = thread_cpu_time();
            black_box(parser(&body));
            best = best.min(thread_cpu_time().saturating_sub(t));
        }
        eprintln!(
            "[{what}] best pass {:.2} ms CPU, {:.0} MB/s of CPU time",
            best.as_secs_f64() * 1e3,
            body.len() as f64 / best.as_secs_f64() / 1e6
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
