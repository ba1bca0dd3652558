//! The `fuzz` command: the target and the generator's configuration from flags, the progress
//! bar, and the summary (throughput, differences by kind, the shrunk cases).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

use super::args::{Cli, FuzzArgs};
use super::out::emit;
use super::progress::Progress;
use super::setup::{build_targets, cases_dir, secs, snapshots_dir};
use crate::case::Profile;
use crate::exit::ExitCode;
use crate::generate::{self, DiffKind, Difference, FuzzConfig, FuzzReport};
use crate::server::inprocess::InProcess;
use crate::server::Target;
use crate::Error;

/// Default `--jobs` of `fuzz --profile cloud` against a URL.
const CLOUD_URL_JOBS: usize = 8;

/// Default `--jobs` against a URL: this many scenarios per core, at least 4 and at most 16.
/// While one scenario waits for the target's answer, others build and judge theirs, and the
/// target finds several requests queued per wake-up. 1,500 v2 scenarios against `influx-reference
/// serve` on 2 busy cores: 269-329/s with 2 jobs, 591-649/s with 4, 720-786/s with 8, 594/s
/// with 16; each request keeps its `--request-timeout`, each step its `--case-timeout`.
const URL_JOBS_PER_CORE: usize = 4;
const URL_JOBS: std::ops::RangeInclusive<usize> = 4..=16;

/// `fuzz`: generated scenarios on the target and on the reference, differences shrunk into
/// regression cases.
pub async fn fuzz(cli: &Cli, args: &FuzzArgs) -> Result<ExitCode, Error> {
    let in_process = args.target.url.is_none() && args.target.target.is_none();
    let target: Arc<dyn Target> = if in_process {
        Arc::new(InProcess::new(vec![args.profile]))
    } else {
        let built = build_targets(cli, &args.target, Some(args.profile))?;
        built.preflight(&args.target).await?;
        let mut targets = built.targets;
        targets
            .pop()
            .ok_or_else(|| Error::Config("no target".into()))?
    };
    let time_limit = match &args.time_limit {
        Some(d) => {
            let ns = influx_reference::config::parse_duration(d).map_err(|_| {
                Error::Config(format!(
                    "--time-limit {d:?}: expected a duration like 30s or 10m"
                ))
            })?;
            Some(Duration::from_nanos(ns.max(0) as u64))
        }
        None => None,
    };
    if args.max_lines == 0 {
        return Err(Error::Config("--max-lines must be at least 1".into()));
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000_007)
            .unwrap_or(1)
    });
    let mut config = FuzzConfig::new(args.profile);
    config.gen.max_lines = args.max_lines;
    // A URL target runs on its own wall clock and cannot take quotas.
    config.gen.exact_clock = in_process;
    config.gen.quotas = in_process;
    config.scenarios = args.scenarios;
    config.seed = seed;
    config.time_limit = time_limit;
    if let Some(j) = args.jobs {
        config.jobs = j.max(1);
    } else if !in_process {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        config.jobs = (cores * URL_JOBS_PER_CORE).clamp(*URL_JOBS.start(), *URL_JOBS.end());
        if args.profile == Profile::Cloud {
            // A cloud scenario over the network mostly waits for the target to settle (reads
            // polled until four agree): more in flight, not more CPU. 40 scenarios against
            // `influx-reference serve --flavor cloud`: 46 s with 2 jobs, 7 s with 16.
            config.jobs = config.jobs.max(CLOUD_URL_JOBS);
        }
    }
    config.shrink = args.shrink;
    config.run.request_timeout = secs(args.target.request_timeout);
    config.run.case_timeout = secs(args.target.case_timeout);
    config.run.settle_timeout = secs(args.target.settle_timeout);
    if !args.no_write {
        config.regressions = Some(
            args.regressions
                .clone()
                .unwrap_or_else(|| cases_dir(cli).join("regressions")),
        );
        config.snapshots = Some(snapshots_dir(cli));
    }
    let bar = Progress::new(
        args.scenarios,
        "{bar:40} {pos}/{len} {per_sec} {msg} ({elapsed})",
        args.quiet,
    );
    let progress_bar = bar.bar().clone();
    let progress: Arc<dyn Fn(u64, u64) + Send + Sync> = Arc::new(move |done, differing| {
        progress_bar.set_position(done);
        if differing > 0 {
            progress_bar.set_message(format!("{differing} differing"));
        }
    });
    let report = generate::fuzz(target.clone(), &config, progress).await;
    bar.finish();
    emit(&fuzz_summary(&report, &target.info().name, args.profile));
    Ok(
        if report.found.is_empty() && report.oracle_errors.is_empty() {
            ExitCode::Pass
        } else {
            ExitCode::Failures
        },
    )
}

/// The fuzz summary: throughput, then differences grouped by kind, then the shrunk cases.
pub fn fuzz_summary(report: &FuzzReport, target: &str, profile: Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fuzz: {} scenarios against {target} [{}], seed {}, in {:.1}s: {:.0} scenarios/s, {} lines sent{}",
        report.run,
        profile.as_str(),
        report.seed,
        report.elapsed.as_secs_f64(),
        report.per_second(),
        report.lines,
        if report.timed_out { " (time limit reached)" } else { "" }
    );
    if report.skipped > 0 {
        let _ = writeln!(
            out,
            "skipped: {} (the target cannot run them)",
            report.skipped
        );
    }
    for (i, e) in report.oracle_errors.iter().take(5) {
        let _ = writeln!(out, "oracle error in scenario {i}: {e}");
    }
    if report.found.is_empty() {
        let _ = writeln!(out, "no difference from the reference");
        return out;
    }
    let mut by_kind: BTreeMap<DiffKind, Vec<(u64, &Difference)>> = BTreeMap::new();
    for f in &report.found {
        let mut seen = Vec::new();
        for d in &f.differences {
            if !seen.contains(&d.kind) {
                seen.push(d.kind);
                by_kind.entry(d.kind).or_default().push((f.index, d));
            }
        }
    }
    let _ = writeln!(
        out,
        "differences in {} of {} scenarios, by kind:",
        report.found.len(),
        report.run
    );
    let short = |s: &str| {
        let s = s.replace('\n', "\\n");
        if s.chars().count() > 120 {
            format!("{}…", s.chars().take(120).collect::<String>())
        } else {
            s
        }
    };
    for (kind, list) in &by_kind {
        let (index, d) = list[0];
        // Long texts that share a prefix: show them from a little before the first difference.
        let common = d
            .expected
            .char_indices()
            .zip(d.actual.chars())
            .find(|((_, a), b)| a != b)
            .map(|((i, _), _)| i)
            .unwrap_or(d.expected.len().min(d.actual.len()));
        let from = d.expected[..common]
            .char_indices()
            .rev()
            .nth(40)
            .map(|(i, _)| i)
            .unwrap_or(0);
        let cut = |s: &str| {
            let tail = s.get(from..).unwrap_or(s);
            if from > 0 {
                format!("…{}", short(tail))
            } else {
                short(tail)
            }
        };
        let _ = writeln!(
            out,
            "  {:<16} {:>6} scenarios; first: scenario {index}, step {}: reference {:?}, target {:?}",
            kind.as_str(),
            list.len(),
            d.step,
            cut(&d.expected),
            cut(&d.actual)
        );
    }
    for f in &report.found {
        let Some(s) = &f.shrunk else { continue };
        let _ = writeln!(
            out,
            "\nscenario {} shrunk to {} op(s), {} line(s) in {} runs{}:",
            f.index,
            s.scenario.ops.len(),
            s.scenario.line_count(),
            s.runs,
            s.path
                .as_ref()
                .map(|p| format!(", written to {}", p.display()))
                .unwrap_or_default()
        );
        out.push_str(&s.yaml);
    }
    out
}
