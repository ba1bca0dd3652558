//! `cargo xtask bench ingest`: the same generated batches (TSBS cpu-only shape: measurement
//! `cpu`, 10 tags, 10 integer fields `usage_user..usage_guest_nice`, ns timestamps) sent over
//! loopback by one keep-alive client with several connections to each server in turn: the
//! reference (v2 and cloud, release build), InfluxDB 1.6 and VictoriaMetrics 1.79. Prints
//! points/s and CPU µs per point, the ratios against the targets (reference ≥ 2×
//! VictoriaMetrics and ≥ 5× InfluxDB 1.6 in both) and the reference's resident memory per
//! stored point, for each of `--passes` same-run passes (3 by default).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::servers::{self, Result, Server};

pub struct Options {
    pub points: usize,
    pub batch: usize,
    pub connections: usize,
    pub only: Option<String>,
    /// Same-run passes over every server.
    pub passes: usize,
    /// Another build of the reference (e.g. main's, before a change) measured in each pass
    /// next to this one, with the ratios between them.
    pub baseline: Option<std::path::PathBuf>,
}

const HOSTS: usize = 1000;

/// `points` lines in batches of `batch` (`influx_reference::tsbs`): host i%HOSTS at tick
/// i/HOSTS, ten seconds apart, ending an hour before now.
pub fn generate(points: usize, batch: usize) -> Vec<Bytes> {
    let ticks = points.div_ceil(HOSTS) as i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let step = influx_reference::tsbs::STEP_NS;
    let start = (now - 3_600_000_000_000 - ticks * step) / step * step;
    influx_reference::tsbs::CpuOnly {
        hosts: HOSTS,
        points,
        batch,
        start,
    }
    .batches()
    .into_iter()
    .map(Bytes::from)
    .collect()
}

struct Outcome {
    name: &'static str,
    seconds: f64,
    points_per_s: f64,
    /// Resident bytes before the run, right after its last write, and once the server has
    /// been idle for [`IDLE_BEFORE_READING`].
    rss: Option<(u64, u64, u64)>,
    /// Server CPU seconds (user + system) used by the run, up to its last write.
    cpu: Option<f64>,
    /// Server CPU seconds used while idle after the run (the reference's memory release; a
    /// peer's background work), reported beside the memory, not in the ratios.
    idle_cpu: Option<f64>,
}

/// Sends every batch once over `connections` keep-alive connections; the time from the first
/// request to the last 204.
async fn send_all(
    url: String,
    auth: Option<String>,
    batches: Arc<Vec<Bytes>>,
    connections: usize,
) -> Result<Duration> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, auth, batches, next) = (
            client.clone(),
            url.clone(),
            auth.clone(),
            batches.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = batches.get(i) else {
                    return Ok(());
                };
                let mut req = client.post(&url).body(body.clone());
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                let resp = req.send().await.map_err(|e| format!("POST {url}: {e}"))?;
                let status = resp.status().as_u16();
                if status != 204 {
                    let text = resp.text().await.unwrap_or_default();
                    return Err(format!(
                        "POST {url} batch {i} answered {status}: {}",
                        text.chars().take(300).collect::<String>()
                    ));
                }
            }
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| format!("a client task failed: {e}"))??;
    }
    Ok(started.elapsed())
}

async fn ping(url: &str) -> Result<()> {
    let resp = reqwest::Client::new()
        .get(format!("{url}/ping"))
        .send()
        .await
        .map_err(|e| format!("GET {url}/ping: {e}"))?;
    if resp.status().as_u16() != 204 {
        return Err(format!("GET {url}/ping answered {}", resp.status()));
    }
    Ok(())
}

async fn influxql(url: &str, q: &str) -> Result<()> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/query"))
        .query(&[("q", q)])
        .send()
        .await
        .map_err(|e| format!("{q}: {e}"))?;
    if resp.status().as_u16() != 200 {
        return Err(format!("{q} answered {}", resp.status()));
    }
    Ok(())
}

pub fn run(root: &Path, target_dir: &Path, opts: &Options) -> Result<bool> {
    if opts.batch == 0 || opts.connections == 0 || opts.points == 0 || opts.passes == 0 {
        return Err("--points, --batch, --connections and --passes must be positive".into());
    }
    servers::ensure_packages()?;
    eprintln!("building the reference (release)");
    let reference = crate::build(
        root,
        target_dir,
        "influx-reference",
        "influx-reference",
        true,
    )?;
    let batches = Arc::new(generate(opts.points, opts.batch));
    let bytes: usize = batches.iter().map(Bytes::len).sum();
    eprintln!(
        "{} points in {} batches of {} lines ({:.1} MB of line protocol), {} connections",
        opts.points,
        batches.len(),
        opts.batch,
        bytes as f64 / 1e6,
        opts.connections
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    type Start<'a> = Box<dyn Fn() -> Result<Server> + 'a>;
    let reference_v2: Start = Box::new(|| servers::start_reference(&reference, &[]));
    let reference_cloud: Start = Box::new(|| servers::start_reference(&reference, &CLOUD_ARGS));
    let baseline_v2: Option<Start> = opts
        .baseline
        .as_ref()
        .map(|b| Box::new(move || servers::start_reference(b, &[])) as Start);
    let baseline_cloud: Option<Start> = opts
        .baseline
        .as_ref()
        .map(|b| Box::new(move || servers::start_reference(b, &CLOUD_ARGS)) as Start);
    let influxdb: Start = Box::new(servers::start_influxdb);
    let vm: Start = Box::new(servers::start_victoria_metrics);
    // (name, start, path and query, is the reference)
    let mut plan: Vec<(&'static str, Start, &str, bool)> = vec![
        (
            "reference v2",
            reference_v2,
            "/api/v2/write?org=my-org&bucket=my-bucket&precision=ns",
            true,
        ),
        (
            "reference cloud",
            reference_cloud,
            "/api/v2/write?org=my-org&bucket=my-bucket&precision=ns",
            true,
        ),
        (
            "InfluxDB 1.6.7",
            influxdb,
            "/write?db=bench&precision=ns",
            false,
        ),
        (
            "VictoriaMetrics 1.79.5",
            vm,
            "/api/v2/write?bucket=bench&precision=ns",
            false,
        ),
    ];
    let write = "/api/v2/write?org=my-org&bucket=my-bucket&precision=ns";
    if let Some(b) = baseline_cloud {
        plan.insert(2, ("baseline cloud", b, write, true));
    }
    if let Some(b) = baseline_v2 {
        plan.insert(1, ("baseline v2", b, write, true));
    }
    let mut passes: Vec<Vec<Outcome>> = Vec::new();
    for pass in 1..=opts.passes {
        eprintln!("pass {pass} of {}", opts.passes);
        let mut outcomes = Vec::new();
        for (name, start, path, is_reference) in &plan {
            if let Some(o) = &opts.only {
                // A baseline runs with the flavor of the reference it is compared to.
                let as_reference = name.replace("baseline", "reference");
                if !as_reference.to_lowercase().contains(&o.to_lowercase()) {
                    continue;
                }
            }
            outcomes.push(measure(
                &rt,
                name,
                start.as_ref(),
                path,
                *is_reference,
                &batches,
                opts,
            )?);
        }
        passes.push(outcomes);
    }
    Ok(print_passes(&passes, bytes, opts))
}

/// The cloud flavor as measured: the usage-based plan with the write-rate quota lifted (the
/// benchmark measures ingest, not the plan's 300 MB per 5 minutes), and no apply delay (each
/// request applies what was queued before it, so the run also pays for making every point
/// visible).
const CLOUD_ARGS: [&str; 8] = [
    "--flavor",
    "cloud",
    "--plan",
    "usage-based",
    "--write-rate-bytes",
    "1000000000000",
    "--apply-delay",
    "0s",
];

/// How long a server is left idle after its last write before its resident memory (and CPU)
/// is read the second time.
const IDLE_BEFORE_READING: Duration = Duration::from_secs(1);

/// One server, fresh, sent every batch once.
fn measure(
    rt: &tokio::runtime::Runtime,
    name: &'static str,
    start: &dyn Fn() -> Result<Server>,
    path: &str,
    is_reference: bool,
    batches: &Arc<Vec<Bytes>>,
    opts: &Options,
) -> Result<Outcome> {
    let server = start()?;
    eprintln!("{name}: {} (pid {})", server.url, server.pid());
    if name.starts_with("InfluxDB") {
        rt.block_on(influxql(&server.url, "CREATE DATABASE bench"))?;
    }
    let before = servers::rss_bytes(server.pid());
    let cpu_before = servers::cpu_seconds(server.pid());
    let auth = is_reference.then(|| "Token my-token".to_string());
    let started = Instant::now();
    let mut elapsed = rt.block_on(send_all(
        format!("{}{path}", server.url),
        auth,
        batches.clone(),
        opts.connections,
    ))?;
    if name.ends_with("cloud") {
        // The last write is applied by the next request: time until every point is
        // visible, not only acknowledged.
        rt.block_on(ping(&server.url))?;
        elapsed = started.elapsed();
    }
    let after = servers::rss_bytes(server.pid());
    let cpu_after = servers::cpu_seconds(server.pid());
    // The reference's write threads return their free memory once idle (200 ms): what it
    // keeps for the points it stores is read after that, with the CPU the release took.
    std::thread::sleep(IDLE_BEFORE_READING);
    let idle = servers::rss_bytes(server.pid());
    let cpu_idle = servers::cpu_seconds(server.pid());
    drop(server);
    let seconds = elapsed.as_secs_f64();
    let o = Outcome {
        name,
        seconds,
        points_per_s: opts.points as f64 / seconds,
        rss: before
            .zip(after)
            .zip(idle)
            .map(|((b, a), i)| (b, a, i))
            .filter(|_| is_reference),
        cpu: cpu_before.zip(cpu_after).map(|(b, a)| a - b),
        idle_cpu: cpu_after.zip(cpu_idle).map(|(a, i)| i - a),
    };
    eprintln!("{name}: {:.0} points/s ({seconds:.2}s)", o.points_per_s);
    Ok(o)
}

/// The targets of issue 17: each flavor of the reference at least this many times the peer,
/// in points/s and in server CPU µs per point, in every pass.
const GOALS: [(&str, f64); 2] = [("VictoriaMetrics", 2.0), ("InfluxDB", 5.0)];

/// Prints each pass's table and ratios and the memory per point; true when every goal was met
/// in every pass.
fn print_passes(passes: &[Vec<Outcome>], bytes: usize, opts: &Options) -> bool {
    let mut met = true;
    for (i, outcomes) in passes.iter().enumerate() {
        println!(
            "\npass {} of {}\n\n| server | points/s | seconds | MB/s | server CPU s | CPU µs/point |\n|---|---:|---:|---:|---:|---:|",
            i + 1,
            passes.len()
        );
        let per_point = |o: &Outcome| o.cpu.map(|c| c * 1e6 / opts.points as f64);
        for o in outcomes {
            let cpu = o.cpu.map_or("?".to_string(), |c| format!("{c:.2}"));
            let pp = per_point(o).map_or("?".to_string(), |c| format!("{c:.2}"));
            println!(
                "| {} | {:.0} | {:.2} | {:.1} | {cpu} | {pp} |",
                o.name,
                o.points_per_s,
                o.seconds,
                bytes as f64 / 1e6 / o.seconds
            );
        }
        let find = |n: &str| outcomes.iter().find(|o| o.name.starts_with(n));
        println!();
        for r in ["reference v2", "reference cloud"] {
            let Some(rr) = find(r) else { continue };
            for (peer, goal) in GOALS {
                let Some(p) = find(peer) else { continue };
                let rate = rr.points_per_s / p.points_per_s;
                // CPU per point: the peer's over the reference's (higher is better for both).
                let cpu = per_point(p).zip(per_point(rr)).map(|(p, r)| p / r);
                let ok = rate >= goal && cpu.is_none_or(|c| c >= goal);
                met &= ok;
                println!(
                    "{r} / {peer}: {rate:.2}× points/s, {} CPU per point (target ≥ {goal}× both: {})",
                    cpu.map_or("?".to_string(), |c| format!("{c:.2}×")),
                    if ok { "met" } else { "MISSED" }
                );
            }
        }
        for (r, b) in [
            ("reference v2", "baseline v2"),
            ("reference cloud", "baseline cloud"),
        ] {
            let (Some(rr), Some(bb)) = (find(r), find(b)) else {
                continue;
            };
            let cpu = per_point(bb).zip(per_point(rr)).map(|(b, r)| b / r);
            println!(
                "{r} / {b}: {:.2}× points/s, {} CPU per point",
                rr.points_per_s / bb.points_per_s,
                cpu.map_or("?".to_string(), |c| format!("{c:.2}×")),
            );
        }
        for o in outcomes {
            if let Some((b, a, i)) = o.rss {
                let per_point = |x: u64| x.saturating_sub(b) as f64 / opts.points as f64;
                println!(
                    "{}: resident memory {:.1} MB before, {:.1} MB right after the last write, {:.1} MB idle {}s later: {:.0} bytes per stored point idle ({:.1} per field value), {:.0} right after; {:.0} ms CPU while idle",
                    o.name,
                    b as f64 / 1e6,
                    a as f64 / 1e6,
                    i as f64 / 1e6,
                    IDLE_BEFORE_READING.as_secs(),
                    per_point(i),
                    per_point(i) / influx_reference::tsbs::FIELDS.len() as f64,
                    per_point(a),
                    o.idle_cpu.unwrap_or(0.0) * 1e3,
                );
            }
        }
    }
    if !met {
        println!("\nsome throughput targets were missed in some pass (see above)");
    }
    met
}
