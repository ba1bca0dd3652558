//! The command line: `run`, `list`, `show`, `replay`, `bless`, `schema`. Every flag can also
//! come from an `INFLUX_CONFORMANCE_*` variable. Exit codes: 0 all pass, 1 any fail, xpass or
//! error verdict, 2 configuration or harness error, 4 nothing selected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::case::{Corpus, Level, Profile};
use crate::compare::Verdict;
use crate::report;
use crate::run::{self, RunConfig, Selection, SnapshotMode};
use crate::target::inprocess::InProcess;
use crate::target::url::{Isolation, ReadAdapter, UrlConfig, UrlTarget, WriteAdapter};
use crate::target::Target;
use crate::targets::TargetFile;
use crate::Error;

#[derive(Debug, Parser)]
#[command(
    name = "influx-conformance",
    version,
    about = "Point it at a server and learn exactly where it differs from InfluxDB"
)]
pub struct Cli {
    /// Directory of case files.
    #[arg(long, global = true, env = "INFLUX_CONFORMANCE_CASES")]
    pub cases: Option<PathBuf>,
    /// Directory of snapshots (`<dir>/<profile>/...`).
    #[arg(long, global = true, env = "INFLUX_CONFORMANCE_SNAPSHOTS")]
    pub snapshots: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run cases against the in-process reference (default) or a server.
    Run(RunArgs),
    /// List the selected cases (`file::id [profiles] level`).
    List(FilterArgs),
    /// Print a case and its snapshots.
    Show { id: String },
    /// Run one case and print every exchange in full.
    Replay {
        id: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Rewrite the expectations (in the case files) and the snapshots that no longer hold
    /// against the reference, and fill in the status (and error message) new steps do not
    /// state; matchers that still match are kept as written.
    Bless(BlessArgs),
    /// Print the JSON Schema of case files.
    Schema,
    /// Generate scenarios, run each on the target and on the reference, report differences
    /// (shrunk and written as cases under `cases/regressions/`).
    Fuzz(FuzzArgs),
}

#[derive(Debug, Args, Clone)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The profile the target claims (`v2` or `cloud`).
    #[arg(long, env = "INFLUX_CONFORMANCE_PROFILE", value_parser = parse_profile, default_value = "v2")]
    pub profile: Profile,
    /// How many scenarios to run.
    #[arg(long, env = "INFLUX_CONFORMANCE_SCENARIOS", default_value_t = 1000)]
    pub scenarios: u64,
    /// Seed of the scenario sequence (default: from the clock, printed in the summary).
    #[arg(long, env = "INFLUX_CONFORMANCE_SEED")]
    pub seed: Option<u64>,
    /// Most lines in one generated batch.
    #[arg(long, env = "INFLUX_CONFORMANCE_MAX_LINES", default_value_t = 200)]
    pub max_lines: usize,
    /// Stop after this long (`30s`, `10m`), whatever `--scenarios` says.
    #[arg(long, env = "INFLUX_CONFORMANCE_TIME_LIMIT")]
    pub time_limit: Option<String>,
    /// Scenarios in flight at once (default: the number of cores; 8 for `--profile cloud`
    /// against a URL, where scenarios mostly wait for the target to settle).
    #[arg(long, env = "INFLUX_CONFORMANCE_JOBS")]
    pub jobs: Option<usize>,
    /// Shrink (and write as cases) at most this many differing scenarios.
    #[arg(long, env = "INFLUX_CONFORMANCE_SHRINK", default_value_t = 3)]
    pub shrink: usize,
    /// Where shrunk cases are written (default: `<cases>/regressions`).
    #[arg(long, env = "INFLUX_CONFORMANCE_REGRESSIONS")]
    pub regressions: Option<PathBuf>,
    /// Do not write regression cases or snapshots (print them only).
    #[arg(long, env = "INFLUX_CONFORMANCE_NO_WRITE")]
    pub no_write: bool,
    /// No progress bar.
    #[arg(long, env = "INFLUX_CONFORMANCE_QUIET")]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Case name or id glob (`v2/gzip.yaml::*`, `*retention*`); repeatable.
    #[arg(long = "id", env = "INFLUX_CONFORMANCE_ID", value_delimiter = ',')]
    pub ids: Vec<String>,
    #[arg(long = "level", env = "INFLUX_CONFORMANCE_LEVEL", value_delimiter = ',', value_parser = parse_level)]
    pub levels: Vec<Level>,
    /// Profiles to run (`v2`, `cloud`); with `--url` the target's own profile.
    #[arg(long = "profile", env = "INFLUX_CONFORMANCE_PROFILE", value_delimiter = ',', value_parser = parse_profile)]
    pub profiles: Vec<Profile>,
    /// `hash:M/N`: run the M-th of N stable partitions.
    #[arg(long, env = "INFLUX_CONFORMANCE_PARTITION")]
    pub partition: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct BlessArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print a unified diff of what would change; write nothing.
    #[arg(long, env = "INFLUX_CONFORMANCE_DRY_RUN")]
    pub dry_run: bool,
    /// Fill in what every selected step does not state (its status, a non-2xx answer's
    /// message), not only in the steps no snapshot records yet.
    #[arg(long, env = "INFLUX_CONFORMANCE_FILL")]
    pub fill: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// A server's base URL (default: the in-process reference); with `--target`, it
    /// overrides the file's `url` (a server started on a free port).
    #[arg(long, env = "INFLUX_CONFORMANCE_URL")]
    pub url: Option<String>,
    /// A target file `targets/<NAME>.yaml`.
    #[arg(long, env = "INFLUX_CONFORMANCE_TARGET")]
    pub target: Option<String>,
    #[arg(long, env = "INFLUX_CONFORMANCE_TARGETS_DIR")]
    pub targets_dir: Option<PathBuf>,
    #[arg(long, env = "INFLUX_CONFORMANCE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long, env = "INFLUX_CONFORMANCE_ORG")]
    pub org: Option<String>,
    #[arg(long, env = "INFLUX_CONFORMANCE_WRITE", value_enum)]
    pub write: Option<WriteAdapter>,
    #[arg(long, env = "INFLUX_CONFORMANCE_READ", value_enum)]
    pub read: Option<ReadAdapter>,
    /// Use a pre-made bucket instead of creating one per case.
    #[arg(long, env = "INFLUX_CONFORMANCE_BUCKET")]
    pub bucket: Option<String>,
    /// Use a pre-made v1 database instead of creating buckets.
    #[arg(long, env = "INFLUX_CONFORMANCE_DATABASE")]
    pub database: Option<String>,
    /// How each case gets state of its own (default: the target file's, else `buckets`).
    #[arg(long, env = "INFLUX_CONFORMANCE_ISOLATION", value_enum)]
    pub isolation: Option<Isolation>,
    /// Seconds per request.
    #[arg(
        long,
        env = "INFLUX_CONFORMANCE_REQUEST_TIMEOUT",
        default_value_t = 10.0
    )]
    pub request_timeout: f64,
    /// Seconds per case.
    #[arg(long, env = "INFLUX_CONFORMANCE_CASE_TIMEOUT", default_value_t = 60.0)]
    pub case_timeout: f64,
    /// Seconds to wait for asynchronous writes to settle.
    #[arg(
        long,
        env = "INFLUX_CONFORMANCE_SETTLE_TIMEOUT",
        default_value_t = 10.0
    )]
    pub settle_timeout: f64,
    #[arg(long, env = "INFLUX_CONFORMANCE_MAX_RESPONSE_BYTES", default_value_t = 4 << 20)]
    pub max_response_bytes: usize,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Cases run at once.
    #[arg(long, env = "INFLUX_CONFORMANCE_JOBS")]
    pub jobs: Option<usize>,
    #[arg(long, env = "INFLUX_CONFORMANCE_REPORT_JUNIT")]
    pub report_junit: Option<PathBuf>,
    #[arg(long, env = "INFLUX_CONFORMANCE_REPORT_JSON")]
    pub report_json: Option<PathBuf>,
    #[arg(long, env = "INFLUX_CONFORMANCE_REPORT_MD")]
    pub report_md: Option<PathBuf>,
    /// Write every failing case as a deviation list (a start for `targets/<name>.yaml`).
    #[arg(long, env = "INFLUX_CONFORMANCE_EMIT_DEVIATIONS")]
    pub emit_deviations: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, env = "INFLUX_CONFORMANCE_QUIET")]
    pub quiet: bool,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == s)
        .ok_or_else(|| format!("unknown level {s:?}: expected must, should, may or info"))
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s).ok_or_else(|| format!("unknown profile {s:?}: expected v2 or cloud"))
}

/// Runs the CLI and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn cases_dir(cli: &Cli) -> PathBuf {
    cli.cases.clone().unwrap_or_else(|| {
        let local = PathBuf::from("cases");
        if local.is_dir() {
            local
        } else {
            crate::default_cases_dir()
        }
    })
}

fn snapshots_dir(cli: &Cli) -> PathBuf {
    cli.snapshots.clone().unwrap_or_else(|| {
        let local = PathBuf::from("snapshots");
        if PathBuf::from("cases").is_dir() {
            local
        } else {
            crate::default_snapshots_dir()
        }
    })
}

async fn dispatch(cli: Cli) -> Result<i32, Error> {
    let command = cli
        .command
        .as_ref()
        .map(clone_command)
        .unwrap_or(Command::Run(RunArgs::default()));
    if let Command::Schema = command {
        print!("{}", crate::case::json_schema());
        return Ok(0);
    }
    if let Command::Fuzz(args) = &command {
        return fuzz_command(&cli, args).await;
    }
    let corpus = Corpus::load(&cases_dir(&cli))?;
    match command {
        Command::Schema | Command::Fuzz(_) => Ok(0),
        Command::List(f) => {
            let targets: Vec<Arc<dyn Target>> =
                vec![Arc::new(InProcess::new(vec![Profile::V2, Profile::Cloud]))];
            let jobs = selection(&f)?.jobs(&corpus.cases, &targets)?;
            for j in &jobs {
                let c = &corpus.cases[j.case];
                println!("{} [{}] {}", c.name(), j.profile.as_str(), c.level.as_str());
            }
            Ok(if jobs.is_empty() { 4 } else { 0 })
        }
        Command::Show { id } => {
            let Some(c) = corpus.find(&id) else {
                eprintln!("error: no case named {id:?} (see `influx-conformance list`)");
                return Ok(4);
            };
            println!(
                "# {} ({}, level {}, spec {})",
                c.name(),
                c.location(),
                c.level.as_str(),
                c.spec
            );
            print!("{}", serde_norway::to_string(&c.case).unwrap_or_default());
            for p in c.profiles.list() {
                let path = crate::compare::snapshot_path(&snapshots_dir(&cli), c, *p);
                println!("\n# snapshot {}", path.display());
                print!(
                    "{}",
                    crate::compare::read_snapshot(&path).unwrap_or_else(|| "(none)\n".into())
                );
            }
            Ok(0)
        }
        Command::Replay { id, target } => {
            let Some(c) = corpus.find(&id) else {
                eprintln!("error: no case named {id:?} (see `influx-conformance list`)");
                return Ok(4);
            };
            let (targets, profiles) = build_targets(&cli, &target, None)?;
            let config = RunConfig {
                jobs: 1,
                case_timeout: secs(target.case_timeout),
                request_timeout: secs(target.request_timeout),
                settle_timeout: secs(target.settle_timeout),
                snapshots: Some(snapshots_dir(&cli)),
                snapshot_mode: SnapshotMode::CompareOnly,
            };
            let mut code = 0;
            for t in &targets {
                for p in c.profiles.list().iter().filter(|p| profiles.contains(p)) {
                    let r = run::run_case(c, t.as_ref(), *p, &config).await;
                    println!(
                        "# {} [{}] on {}: {}",
                        r.name,
                        p.as_str(),
                        r.target,
                        r.verdict.as_str()
                    );
                    if let Some(o) = &r.observation {
                        print!("{}", crate::compare::snapshot_text(o));
                    }
                    if r.verdict != Verdict::Pass {
                        print!("{}", report::failure_text(&r, &corpus.root));
                    }
                    if r.verdict.is_failure() {
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
        Command::Bless(b) => bless_command(&cli, &corpus, &b).await,
        Command::Run(args) => run_command(&cli, &corpus, &args, SnapshotMode::Compare).await,
    }
}

fn clone_command(c: &Command) -> Command {
    match c {
        Command::Run(a) => Command::Run(a.clone()),
        Command::List(f) => Command::List(f.clone()),
        Command::Show { id } => Command::Show { id: id.clone() },
        Command::Replay { id, target } => Command::Replay {
            id: id.clone(),
            target: target.clone(),
        },
        Command::Bless(f) => Command::Bless(f.clone()),
        Command::Schema => Command::Schema,
        Command::Fuzz(a) => Command::Fuzz(a.clone()),
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 { s } else { 1.0 })
}

fn selection(f: &FilterArgs) -> Result<Selection, Error> {
    Ok(Selection {
        ids: f.ids.clone(),
        levels: f.levels.clone(),
        profiles: f.profiles.clone(),
        partition: f
            .partition
            .as_deref()
            .map(run::parse_partition)
            .transpose()?,
    })
}

fn targets_dir(cli: &Cli, t: &TargetArgs) -> PathBuf {
    t.targets_dir.clone().unwrap_or_else(|| {
        let d = cases_dir(cli).join("../targets");
        if d.is_dir() {
            d
        } else {
            PathBuf::from("targets")
        }
    })
}

/// The targets of a run and the profiles they cover.
type Targets = (Vec<Arc<dyn Target>>, Vec<Profile>);

/// `profile` overrides the URL target's profile (v2 unless a target file says otherwise).
fn build_targets(cli: &Cli, t: &TargetArgs, profile: Option<Profile>) -> Result<Targets, Error> {
    let file = match &t.target {
        Some(name) => {
            let dir = targets_dir(cli, t);
            Some((
                name.clone(),
                TargetFile::load(&dir.join(format!("{name}.yaml")))?,
            ))
        }
        None => None,
    };
    let url = t.url.clone().or(file.as_ref().map(|f| f.1.url.clone()));
    let Some(url) = url else {
        let both = vec![Profile::V2, Profile::Cloud];
        let reference = InProcess::from_targets_dir(both.clone(), &targets_dir(cli, t))?;
        return Ok((vec![Arc::new(reference)], both));
    };
    let profile = profile
        .or(file.as_ref().map(|f| f.1.profile))
        .unwrap_or(Profile::V2);
    let mut config = UrlConfig::new(&url, profile);
    config.name = file
        .as_ref()
        .map(|f| f.0.clone())
        .unwrap_or_else(|| url.clone());
    config.token = t.token.clone().unwrap_or_default();
    config.org = t
        .org
        .clone()
        .or(file.as_ref().and_then(|f| f.1.org.clone()))
        .unwrap_or_default();
    config.write = t
        .write
        .or(file.as_ref().map(|f| f.1.write))
        .unwrap_or(WriteAdapter::V2);
    config.read = t
        .read
        .or(file.as_ref().map(|f| f.1.read))
        .unwrap_or(ReadAdapter::Flux);
    config.bucket = t
        .bucket
        .clone()
        .or(file.as_ref().and_then(|f| f.1.bucket.clone()));
    config.database = t
        .database
        .clone()
        .or(file.as_ref().and_then(|f| f.1.database.clone()));
    config.isolation = t
        .isolation
        .or(file.as_ref().map(|f| f.1.isolation))
        .unwrap_or_default();
    config.request_timeout = secs(t.request_timeout);
    config.settle_timeout = secs(t.settle_timeout);
    config.max_body_bytes = t.max_response_bytes;
    if config.org.is_empty()
        && config.bucket.is_none()
        && config.database.is_none()
        && config.isolation == Isolation::Buckets
    {
        return Err(Error::Config(
            "--org (or INFLUX_CONFORMANCE_ORG) is required with --url".into(),
        ));
    }
    let mut target = UrlTarget::new(config)?;
    if let Some((_, f)) = &file {
        target = target.with_deviations(f.deviations.clone());
    }
    Ok((vec![Arc::new(target)], vec![profile]))
}

async fn run_command(
    cli: &Cli,
    corpus: &Corpus,
    args: &RunArgs,
    mode: SnapshotMode,
) -> Result<i32, Error> {
    let (targets, profiles) = build_targets(cli, &args.target, None)?;
    let mut sel = selection(&args.filter)?;
    if sel.profiles.is_empty() {
        sel.profiles = profiles;
    }
    let jobs = sel.jobs(&corpus.cases, &targets)?;
    if jobs.is_empty() {
        eprintln!("nothing selected: no case matches the filters for this target's profiles");
        return Ok(4);
    }
    let config = RunConfig {
        jobs: args.jobs.unwrap_or_else(|| RunConfig::default().jobs),
        case_timeout: secs(args.target.case_timeout),
        request_timeout: secs(args.target.request_timeout),
        settle_timeout: secs(args.target.settle_timeout),
        snapshots: Some(snapshots_dir(cli)),
        snapshot_mode: mode,
    };
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let progress_bar = bar.clone();
    let progress: Arc<dyn Fn(&run::CaseResult) + Send + Sync> = Arc::new(move |r| {
        progress_bar.set_message(format!("{} {}", r.verdict.as_str(), r.name));
        progress_bar.inc(1);
    });
    let started = Instant::now();
    let cases = Arc::new(corpus.cases.clone());
    let mut results = run::run_jobs(cases, targets, jobs, config, progress).await;
    bar.finish_and_clear();
    results.sort_by(|a, b| {
        (&a.target, &a.file, a.line, a.profile).cmp(&(&b.target, &b.file, b.line, b.profile))
    });
    let summary = report::summarize(&results, started.elapsed());
    print!("{}", report::terminal(&results, &summary, &corpus.root));
    write_report(&args.report_json, || report::json(&results, &summary))?;
    write_report(&args.report_junit, || {
        report::junit(&results, &summary, &corpus.root)
    })?;
    write_report(&args.report_md, || report::markdown(&results, &summary))?;
    write_report(&args.emit_deviations, || emit_deviations(&results))?;
    Ok(report::exit_code(&results))
}

fn write_report(path: &Option<PathBuf>, render: impl FnOnce() -> String) -> Result<(), Error> {
    let Some(path) = path else { return Ok(()) };
    write_file(path, &render())
}

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Every failing case as a deviation, ready to paste into `targets/<name>.yaml`; also cases
/// the server answers in invalid HTTP (a deterministic server fault, recorded with `fault`).
/// Other errors (timeouts, refused connections) are never recorded: they need a look.
fn emit_deviations(results: &[run::CaseResult]) -> String {
    use crate::target::FaultKind;
    let devs: Vec<crate::targets::Deviation> = results
        .iter()
        .filter(|r| {
            r.verdict == Verdict::Fail
                || (r.verdict == Verdict::Error && r.fault == Some(FaultKind::InvalidResponse))
        })
        .map(|r| crate::targets::Deviation {
            cases: r.name.clone(),
            kind: crate::targets::DeviationKind::Bug,
            note: r.reason.clone(),
            link: None,
            fault: r.fault.filter(|_| r.verdict == Verdict::Error),
        })
        .collect();
    #[derive(serde::Serialize)]
    struct Out {
        deviations: Vec<crate::targets::Deviation>,
    }
    serde_norway::to_string(&Out { deviations: devs }).unwrap_or_default()
}

/// Default `--jobs` of `fuzz --profile cloud` against a URL.
const CLOUD_URL_JOBS: usize = 8;

async fn fuzz_command(cli: &Cli, args: &FuzzArgs) -> Result<i32, Error> {
    use crate::generate::{fuzz, FuzzConfig};
    let in_process = args.target.url.is_none() && args.target.target.is_none();
    let target: Arc<dyn Target> = if in_process {
        Arc::new(InProcess::new(vec![args.profile]))
    } else {
        let (mut targets, _) = build_targets(cli, &args.target, Some(args.profile))?;
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
    } else if !in_process && args.profile == Profile::Cloud {
        // A cloud scenario over the network mostly waits for the target to settle (reads
        // polled until four agree): more in flight, not more CPU. 40 scenarios against
        // `influx-reference serve --flavor cloud`: 46 s with 2 jobs, 7 s with 16.
        config.jobs = CLOUD_URL_JOBS;
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
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(args.scenarios);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} {per_sec} {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let progress_bar = bar.clone();
    let progress: Arc<dyn Fn(u64, u64) + Send + Sync> = Arc::new(move |done, differing| {
        progress_bar.set_position(done);
        if differing > 0 {
            progress_bar.set_message(format!("{differing} differing"));
        }
    });
    let report = fuzz(target.clone(), &config, progress).await;
    bar.finish_and_clear();
    print!(
        "{}",
        fuzz_summary(&report, &target.info().name, args.profile)
    );
    Ok(
        if report.found.is_empty() && report.oracle_errors.is_empty() {
            0
        } else {
            1
        },
    )
}

/// The fuzz summary: throughput, then differences grouped by kind, then the shrunk cases.
pub fn fuzz_summary(
    report: &crate::generate::FuzzReport,
    target: &str,
    profile: Profile,
) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write;
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
    let mut by_kind: BTreeMap<crate::generate::DiffKind, Vec<(u64, &crate::generate::Difference)>> =
        BTreeMap::new();
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

/// How many steps each case's snapshot records, per profile (no snapshot: 0), read before a
/// bless run records new ones. The steps past them are new: bless fills in what they do not
/// state. Only cases with a step that could lack something are read.
fn recorded_steps(cli: &Cli, corpus: &Corpus) -> BTreeMap<(String, Profile), usize> {
    let dir = snapshots_dir(cli);
    let mut out = BTreeMap::new();
    for case in &corpus.cases {
        let open = case.case.steps.iter().any(|s| {
            crate::compare::default_status(s).is_some()
                && s.also_accept.is_empty()
                && s.expect.as_ref().is_none_or(|e| {
                    e.status.is_none()
                        || (e.body.is_none()
                            && e.message.is_none()
                            && !e.json.contains_key("message"))
                })
        });
        if !open {
            continue;
        }
        for p in case.profiles.list() {
            let path = crate::compare::snapshot_path(&dir, case, *p);
            let steps = crate::compare::read_snapshot(&path)
                .and_then(|s| serde_norway::from_str::<serde_norway::Value>(&s).ok())
                .and_then(|v| v.get("steps").and_then(|s| s.as_sequence()).map(Vec::len))
                .unwrap_or(0);
            out.insert((case.name(), *p), steps);
        }
    }
    out
}

/// Runs the selected cases on the reference, rewrites the failing expectations in the case
/// files and fills in what new steps do not state (or prints the diff with `--dry-run`), then
/// records the snapshots.
async fn bless_command(cli: &Cli, corpus: &Corpus, args: &BlessArgs) -> Result<i32, Error> {
    let dry = args.dry_run;
    let mode = if dry {
        SnapshotMode::CompareOnly
    } else {
        SnapshotMode::Bless
    };
    // Before the run: a bless run records the snapshots of new cases.
    let recorded = if args.fill {
        BTreeMap::new()
    } else {
        recorded_steps(cli, corpus)
    };
    let results = bless_run(cli, corpus, &args.filter, mode).await?;
    let Some(results) = results else {
        eprintln!("nothing selected: no case matches the filters");
        return Ok(4);
    };
    // Observations of failing cases, per case (one per profile).
    let mut failing: BTreeMap<String, Vec<&run::CaseResult>> = BTreeMap::new();
    for r in &results {
        if r.verdict == Verdict::Fail
            && r.observation.is_some()
            && r.mismatches.iter().any(|m| m.step > 0)
        {
            failing.entry(r.name.clone()).or_default().push(r);
        }
    }
    // The first step to fill in, per case: the first step a snapshot of an observed profile does
    // not record (all with `--fill`). Cases the reference lists as known deviations state what
    // the spec says: they are left alone.
    let mut fill: BTreeMap<String, usize> = BTreeMap::new();
    let mut deviations = std::collections::BTreeSet::new();
    for r in results.iter().filter(|r| r.observation.is_some()) {
        let Some(case) = corpus.cases.iter().find(|c| c.name() == r.name) else {
            continue;
        };
        let from = if args.fill {
            0
        } else {
            recorded
                .get(&(r.name.clone(), r.profile))
                .copied()
                .unwrap_or(case.case.steps.len())
        };
        let e = fill.entry(r.name.clone()).or_insert(from);
        *e = (*e).min(from);
        if r.deviation.is_some() || matches!(r.verdict, Verdict::Xfail | Verdict::Xpass) {
            deviations.insert(r.name.clone());
        }
    }
    fill.retain(|name, from| {
        !deviations.contains(name)
            && corpus
                .cases
                .iter()
                .find(|c| &c.name() == name)
                .is_some_and(|c| *from < c.case.steps.len())
    });
    let names: std::collections::BTreeSet<&String> = failing.keys().chain(fill.keys()).collect();
    let mut per_file: BTreeMap<String, Vec<crate::bless::Edit>> = BTreeMap::new();
    let mut cases_changed = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let Some(case) = corpus.cases.iter().find(|c| &c.name() == name) else {
            continue;
        };
        let text = std::fs::read_to_string(&case.path).map_err(|source| Error::Io {
            path: case.path.clone(),
            source,
        })?;
        // Every profile that observed the case must call for the same rewrite (a profile where
        // the case passes calls for none, or only for what new steps lack): one expectation
        // serves them all.
        let observed = results
            .iter()
            .filter(|r| &r.name == name && r.observation.is_some());
        let mut sets: Vec<(Profile, Vec<crate::bless::Edit>)> = Vec::new();
        let mut ok = true;
        for r in observed {
            let steps = r
                .observation
                .as_ref()
                .map(|o| o.steps.as_slice())
                .unwrap_or(&[]);
            match crate::bless::case_edits(&text, case, steps, fill.get(name).copied()) {
                Ok(mut e) => {
                    for e in &mut e {
                        for w in &mut e.what {
                            *w = format!("{} {w}", case.case.id);
                        }
                    }
                    e.sort_by(|a, b| (a.start, a.end, &a.text).cmp(&(b.start, b.end, &b.text)));
                    e.dedup();
                    sets.push((r.profile, e));
                }
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    ok = false;
                }
            }
        }
        let edits = sets.first().map(|s| s.1.clone()).unwrap_or_default();
        if ok {
            if let Some((p, _)) = sets.iter().find(|s| s.1 != edits) {
                problems.push(format!(
                    "{name}: the profiles observe different outcomes ({} and {}); edit by hand",
                    sets[0].0.as_str(),
                    p.as_str()
                ));
                ok = false;
            }
        }
        if ok {
            if let Err(e) = crate::bless::apply(&text, &edits) {
                problems.push(format!("{name}: {e}"));
                ok = false;
            }
        }
        if ok && !edits.is_empty() {
            cases_changed.push(name.clone());
            per_file.entry(case.file.clone()).or_default().extend(edits);
        }
    }
    let (mut matchers, mut added) = (0, 0);
    let mut notes = Vec::new();
    for (file, edits) in &per_file {
        let path = corpus.root.join(file);
        let old = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let new = crate::bless::apply(&old, edits).map_err(Error::Config)?;
        crate::case::load_file(&path, file, &new)?;
        let mut seen = std::collections::BTreeSet::new();
        for e in edits {
            if !seen.insert((e.start, e.end, e.text.clone())) {
                continue;
            }
            for w in &e.what {
                if !seen_what(&mut notes, file, w) {
                    if crate::bless::is_added(w) {
                        added += 1;
                    } else {
                        matchers += 1;
                    }
                }
            }
        }
        if dry {
            print!("{}", crate::bless::diff(file, &old, &new));
        } else {
            write_file(&path, &new)?;
        }
    }
    // Snapshots: those written (or that would be) by the run, then the rewritten cases' own.
    let mut snapshots: Vec<String> = Vec::new();
    let mut still = Vec::new();
    let collect = |results: &[run::CaseResult], snapshots: &mut Vec<String>| {
        for r in results {
            for n in &r.notes {
                if let Some(p) = n.strip_prefix("blessed ") {
                    snapshots.push(p.to_string());
                }
            }
            if dry && r.mismatches.iter().any(|m| m.what.starts_with("snapshot")) {
                snapshots.push(format!("{} [{}]", r.name, r.profile.as_str()));
            }
        }
    };
    collect(&results, &mut snapshots);
    if dry {
        // The snapshots of the rewritten cases (a failing case's snapshot is not compared).
        let dir = snapshots_dir(cli);
        for r in results.iter().filter(|r| cases_changed.contains(&r.name)) {
            let (Some(obs), Some(case)) = (&r.observation, corpus.find(&r.name)) else {
                continue;
            };
            let path = crate::compare::snapshot_path(&dir, case, r.profile);
            let line = format!("{} [{}]", r.name, r.profile.as_str());
            if crate::compare::read_snapshot(&path).as_deref()
                != Some(crate::compare::snapshot_text(obs).as_str())
                && !snapshots.contains(&line)
            {
                snapshots.push(line);
            }
        }
    }
    if !dry && !cases_changed.is_empty() {
        let corpus = Corpus::load(&corpus.root)?;
        let filter = FilterArgs {
            ids: cases_changed.clone(),
            ..args.filter.clone()
        };
        if let Some(again) = bless_run(cli, &corpus, &filter, SnapshotMode::Bless).await? {
            collect(&again, &mut snapshots);
            still.extend(
                again
                    .iter()
                    .filter(|r| r.verdict.is_failure())
                    .map(|r| format!("{} [{}]: {}", r.name, r.profile.as_str(), r.reason)),
            );
        }
    }
    // A fault on the reference (a 429 or 503 no step expects is one) leaves nothing to
    // bless from: say so rather than pass over it.
    still.extend(
        results
            .iter()
            .filter(|r| r.verdict == Verdict::Error)
            .map(|r| format!("{} [{}]: {}", r.name, r.profile.as_str(), r.reason)),
    );
    for (name, rs) in &failing {
        if !cases_changed.contains(name) {
            for r in rs {
                if r.mismatches.iter().all(|m| m.step > 0)
                    && !problems.iter().any(|p| p.starts_with(name.as_str()))
                {
                    still.push(format!("{} [{}]: {}", r.name, r.profile.as_str(), r.reason));
                }
            }
        }
    }
    let (rewrite, add) = if dry {
        ("would rewrite", "add")
    } else {
        ("rewrote", "added")
    };
    println!(
        "bless: {rewrite} {matchers} matcher(s), {add} {added} expectation(s) in {} case(s) of {} file(s); {} snapshot(s) {}",
        cases_changed.len(),
        per_file.len(),
        snapshots.len(),
        if dry { "would be written" } else { "written" }
    );
    for n in &notes {
        println!("  {n}");
    }
    for s in &snapshots {
        println!("  snapshot {s}");
    }
    for p in &problems {
        println!("  not rewritten: {p}");
    }
    for s in &still {
        println!("  still failing: {s}");
    }
    Ok(if problems.is_empty() && still.is_empty() {
        0
    } else {
        1
    })
}

/// Records an edit's summary line once per (file, what); true when already recorded.
fn seen_what(notes: &mut Vec<String>, file: &str, what: &str) -> bool {
    let line = if what.contains(" → ") {
        format!("{file}: {what} (the matcher no longer held: now equals the observed value)")
    } else {
        format!("{file}: {what}")
    };
    if notes.contains(&line) {
        true
    } else {
        notes.push(line);
        false
    }
}

/// Runs the selection on the in-process reference (None: nothing selected).
async fn bless_run(
    cli: &Cli,
    corpus: &Corpus,
    filter: &FilterArgs,
    mode: SnapshotMode,
) -> Result<Option<Vec<run::CaseResult>>, Error> {
    let (targets, profiles) = build_targets(cli, &TargetArgs::default(), None)?;
    let mut sel = selection(filter)?;
    if sel.profiles.is_empty() {
        sel.profiles = profiles;
    }
    let jobs = sel.jobs(&corpus.cases, &targets)?;
    if jobs.is_empty() {
        return Ok(None);
    }
    let defaults = TargetArgs::default();
    let config = RunConfig {
        jobs: RunConfig::default().jobs,
        case_timeout: secs(if defaults.case_timeout > 0.0 {
            defaults.case_timeout
        } else {
            60.0
        }),
        request_timeout: secs(10.0),
        settle_timeout: secs(10.0),
        snapshots: Some(snapshots_dir(cli)),
        snapshot_mode: mode,
    };
    let cases = Arc::new(corpus.cases.clone());
    let progress: Arc<dyn Fn(&run::CaseResult) + Send + Sync> = Arc::new(|_| {});
    let mut results = run::run_jobs(cases, targets, jobs, config, progress).await;
    results.sort_by(|a, b| (&a.file, a.line, a.profile).cmp(&(&b.file, b.line, b.profile)));
    Ok(Some(results))
}
