//! The command line's shape: commands, flags and their `INFLUX_CONFORMANCE_*` variables (clap).
//! Nothing here runs anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::case::{Level, Profile};
use crate::server::adapter::{Isolation, ReadAdapter, WriteAdapter};

#[derive(Debug, Clone, Parser)]
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

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run cases against the in-process reference (default) or a server.
    Run(RunArgs),
    /// List the selected cases (`file::id [profiles] level`).
    List(FilterArgs),
    /// Print a case as written in its file (path and line numbers) and its snapshots.
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
    /// Render JSON reports (`--report-json`) of one or more runs side by side: Markdown on
    /// standard output, or to `--report-md`, and a self-contained page with `--report-html`.
    Report(ReportArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// JSON reports written by `run --report-json`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, env = "INFLUX_CONFORMANCE_REPORT_MD")]
    pub report_md: Option<PathBuf>,
    #[arg(long, env = "INFLUX_CONFORMANCE_REPORT_HTML")]
    pub report_html: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The profile the target claims (`v2`, `cloud` or `v3`).
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
    /// Scenarios in flight at once (default: the number of cores in-process; against a URL,
    /// four per core, 4 to 16, and at least 8 for `--profile cloud`, where scenarios mostly
    /// wait for the target to settle).
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
    /// Profiles to run (`v2`, `cloud`, `v3`); with `--url` the target's own profile.
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
    /// Do not check the server (reachable, token, org, a throwaway bucket) before the cases.
    #[arg(long, env = "INFLUX_CONFORMANCE_SKIP_PREFLIGHT")]
    pub skip_preflight: bool,
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
    /// A self-contained HTML page: the tier × spec area matrix, filters, every exchange.
    #[arg(long, env = "INFLUX_CONFORMANCE_REPORT_HTML")]
    pub report_html: Option<PathBuf>,
    /// The spec directory, for the titles of spec areas in reports (default: `../shared/spec`
    /// beside the repository, when it is there).
    #[arg(long, env = "INFLUX_CONFORMANCE_SPEC")]
    pub spec: Option<PathBuf>,
    /// Write every failing case as a deviation list (a start for `targets/<name>.yaml`).
    #[arg(long, env = "INFLUX_CONFORMANCE_EMIT_DEVIATIONS")]
    pub emit_deviations: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, env = "INFLUX_CONFORMANCE_QUIET")]
    pub quiet: bool,
}

pub fn parse_level(s: &str) -> Result<Level, String> {
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == s)
        .ok_or_else(|| format!("unknown level {s:?}: expected must, should, may or info"))
}

pub fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s).ok_or_else(|| format!("unknown profile {s:?}: expected v2, cloud or v3"))
}
