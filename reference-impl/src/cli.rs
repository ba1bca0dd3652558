//! `influx-reference serve`: a drop-in InfluxDB test server for clients and CI. The command
//! line lives in the library so that every binary that ships it (this crate's `main.rs`, the
//! Python wheel's) parses the same flags with the same help; each binary picks its allocator.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use crate::config::{parse_duration, FaultInjection};
use crate::engine::cloud::{CloudConfig, Plan};
use crate::engine::StorageVersion;
use crate::{Flavor, Reference, ServerConfig};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "influx-reference",
    version,
    about = "An executable model of InfluxDB's write semantics, served over the real HTTP API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a user with a password, an org, a bucket and an operator token (like
    /// `influx setup`), then serve. The store is in memory: everything written is gone when
    /// the process exits (an acknowledged write is never on disk).
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Which InfluxDB to model: v2 (OSS 2.x), cloud, or v3 (InfluxDB 3 Core 3.10.1).
    #[arg(long, default_value = "v2", env = "INFLUX_REFERENCE_FLAVOR")]
    flavor: Flavor,
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8086", env = "INFLUX_REFERENCE_BIND")]
    bind: SocketAddr,
    #[arg(long, default_value = "my-org", env = "INFLUX_REFERENCE_ORG")]
    org: String,
    #[arg(long, default_value = "my-bucket", env = "INFLUX_REFERENCE_BUCKET")]
    bucket: String,
    #[arg(long, default_value = "my-token", env = "INFLUX_REFERENCE_TOKEN")]
    token: String,
    /// Name of the user created at start.
    #[arg(long, default_value = "my-user", env = "INFLUX_REFERENCE_USERNAME")]
    username: String,
    /// That user's password, for `POST /api/v2/signin` (8 to 72 bytes; empty: no password).
    #[arg(long, default_value = "my-password", env = "INFLUX_REFERENCE_PASSWORD")]
    password: String,
    /// Retention of the initial bucket (e.g. 1h, 30d); 0 keeps data forever. At least 1h.
    #[arg(long, default_value = "0", env = "INFLUX_REFERENCE_RETENTION")]
    retention: String,
    /// Answer 413 when a write body, decompressed, exceeds this many bytes (unset: no limit,
    /// like a stock OSS 2.7 server).
    #[arg(long, env = "INFLUX_REFERENCE_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Inject a 429 or 503 (with Retry-After) into a share of writes, to test client retries.
    #[arg(long, value_parser = ["429", "503"], env = "INFLUX_REFERENCE_FAULT_STATUS")]
    fault_status: Option<String>,
    /// Share of writes that get the injected fault, in (0, 1].
    #[arg(long, default_value_t = 0.1, env = "INFLUX_REFERENCE_FAULT_SHARE")]
    fault_share: f64,
    /// Seconds sent in Retry-After with an injected fault.
    #[arg(long, default_value_t = 1, env = "INFLUX_REFERENCE_FAULT_RETRY_AFTER")]
    fault_retry_after: u64,
    /// Storage behaviour to follow: 2.7 (default) or 2.8 (a stripped `time` field answers 422).
    #[arg(long, default_value = "2.7", value_parser = ["2.7", "2.8"], env = "INFLUX_REFERENCE_STORAGE_VERSION")]
    storage_version: String,
    /// Cloud flavor: plan whose quotas apply (free: 5 MB/5 min, 10k series, 2 buckets;
    /// usage-based: 300 MB/5 min, 1M series).
    #[arg(long, default_value = "free", value_parser = ["free", "usage-based"], env = "INFLUX_REFERENCE_PLAN")]
    plan: String,
    /// Cloud flavor: delay between the 204 and the write becoming visible (e.g. 300ms, 0s).
    #[arg(long, default_value = "300ms", env = "INFLUX_REFERENCE_APPLY_DELAY")]
    apply_delay: String,
    /// Cloud flavor: status for series cardinality over quota (503 with Retry-After, or 429).
    #[arg(long, default_value = "503", value_parser = ["503", "429"], env = "INFLUX_REFERENCE_CARDINALITY_STATUS")]
    cardinality_status: String,
    /// Cloud flavor: override the plan's write rate (uncompressed bytes per 5 minutes).
    #[arg(long, env = "INFLUX_REFERENCE_WRITE_RATE_BYTES")]
    write_rate_bytes: Option<u64>,
    /// Cloud flavor: override the plan's read rate (query response bytes per 5 minutes).
    #[arg(long, env = "INFLUX_REFERENCE_READ_RATE_BYTES")]
    read_rate_bytes: Option<u64>,
    /// Cloud flavor: override the plan's series cardinality limit.
    #[arg(long, env = "INFLUX_REFERENCE_CARDINALITY_LIMIT")]
    cardinality_limit: Option<usize>,
    /// Cloud flavor: override the plan's bucket quota.
    #[arg(long, env = "INFLUX_REFERENCE_MAX_BUCKETS")]
    max_buckets: Option<usize>,
    /// Cloud flavor: override the 50 MB request size limit (compressed or not).
    #[arg(long, env = "INFLUX_REFERENCE_MAX_REQUEST_BYTES")]
    max_request_bytes: Option<usize>,
    /// Cloud flavor: override the 250 MB decompressed size limit.
    #[arg(long, env = "INFLUX_REFERENCE_MAX_DECOMPRESSED_BYTES")]
    max_decompressed_bytes: Option<usize>,
    /// Start un-onboarded (no user, org, bucket or token): `POST /api/v2/setup` creates them,
    /// as on a fresh influxd.
    #[arg(long, env = "INFLUX_REFERENCE_NO_SETUP")]
    no_setup: bool,
    /// FOR TESTS ONLY: generate tokens and session keys from this seed instead of the
    /// operating system's random generator, so runs are reproducible byte for byte. Anyone who
    /// knows the seed can compute every token: never use it on a port others can reach.
    #[arg(
        long,
        value_name = "SEED",
        env = "INFLUX_REFERENCE_DETERMINISTIC_SECRETS"
    )]
    deterministic_secrets: Option<u64>,
    /// Max time to read a request's head, from the connection's start or the first byte after
    /// an idle wait; 0 for none (as influxd's flag).
    #[arg(
        long,
        default_value = "10s",
        env = "INFLUX_REFERENCE_HTTP_READ_HEADER_TIMEOUT"
    )]
    http_read_header_timeout: String,
    /// Max time to read a whole request; 0 for none (influxd's default).
    #[arg(long, default_value = "0", env = "INFLUX_REFERENCE_HTTP_READ_TIMEOUT")]
    http_read_timeout: String,
    /// Max time from the end of a request's head to the end of its answer; 0 for none
    /// (influxd's default).
    #[arg(long, default_value = "0", env = "INFLUX_REFERENCE_HTTP_WRITE_TIMEOUT")]
    http_write_timeout: String,
    /// Max time a keep-alive connection waits for its next request, and a request body may
    /// send nothing; 0 for none.
    #[arg(long, default_value = "3m", env = "INFLUX_REFERENCE_HTTP_IDLE_TIMEOUT")]
    http_idle_timeout: String,
    /// Most connections open at once; past it the one waiting longest without a request in
    /// progress is closed, and a new one is refused when all are in a request.
    #[arg(
        long,
        default_value_t = 10_000,
        env = "INFLUX_REFERENCE_HTTP_MAX_CONNECTIONS"
    )]
    http_max_connections: usize,
    /// v3 flavor: accept every request without a token, as `influxdb3 serve --without-auth`
    /// (a malformed Authorization header is still refused).
    #[arg(long, env = "INFLUX_REFERENCE_WITHOUT_AUTH")]
    without_auth: bool,
    /// v3 flavor: resources that need no token, as `influxdb3 serve --disable-authz`
    /// (comma-separated: health, ping, metrics, ready, pprof).
    #[arg(long, env = "INFLUX_REFERENCE_DISABLE_AUTHZ")]
    disable_authz: Option<String>,
    /// v3 flavor: largest request body, as `--max-http-request-size` (413 past it).
    #[arg(
        long,
        default_value_t = crate::v3::DEFAULT_MAX_REQUEST_BYTES,
        env = "INFLUX_REFERENCE_MAX_HTTP_REQUEST_SIZE"
    )]
    max_http_request_size: usize,
    /// Queries evaluated at once (influxd's flag); 0 is unlimited.
    #[arg(
        long,
        default_value_t = 1024,
        env = "INFLUX_REFERENCE_QUERY_CONCURRENCY"
    )]
    query_concurrency: usize,
    /// Queries waiting for a slot before new ones answer `queue length exceeded` (influxd's
    /// flag).
    #[arg(
        long,
        default_value_t = 1024,
        env = "INFLUX_REFERENCE_QUERY_QUEUE_SIZE"
    )]
    query_queue_size: usize,
    /// Table bytes one query may hold at once (influxd's flag; 0 is unlimited, influxd's
    /// default; ours is 1 GiB so a runaway query ends with an error).
    #[arg(long, default_value_t = 1 << 30, env = "INFLUX_REFERENCE_QUERY_MEMORY_BYTES")]
    query_memory_bytes: u64,
    /// How long a query may run (e.g. 30s, 5m); 0 is unlimited.
    #[arg(long, default_value = "0", env = "INFLUX_REFERENCE_QUERY_TIMEOUT")]
    query_timeout: String,
}

/// A timeout flag: a Go-style duration, 0 for none.
fn timeout(flag: &str, value: &str) -> Result<Option<std::time::Duration>, crate::Error> {
    let nanos =
        parse_duration(value).map_err(|e| crate::Error::Config(format!("--{flag}: {e}")))?;
    Ok((nanos > 0).then(|| std::time::Duration::from_nanos(nanos as u64)))
}

/// Parses the command line, runs the command, and returns the process's exit code.
pub fn main() -> ExitCode {
    crate::http::write_threads::release_memory_when_idle(crate::allocator::release_free_memory);
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("influx-reference: {e}");
                ExitCode::from(2)
            }
        },
    }
}

fn serve(args: ServeArgs) -> Result<(), crate::Error> {
    let fault = match args.fault_status.as_deref() {
        None => None,
        Some(status) => {
            if !(args.fault_share > 0.0 && args.fault_share <= 1.0) {
                return Err(crate::Error::Config(format!(
                    "--fault-share must be in (0, 1], got {}",
                    args.fault_share
                )));
            }
            Some(FaultInjection {
                status: if status == "429" { 429 } else { 503 },
                share: args.fault_share,
                retry_after: args.fault_retry_after,
            })
        }
    };
    let plan = if args.plan == "usage-based" {
        Plan::UsageBased
    } else {
        Plan::Free
    };
    let mut cloud = CloudConfig::for_plan(plan);
    cloud.apply_delay = parse_duration(&args.apply_delay)?;
    cloud.cardinality_status = if args.cardinality_status == "429" {
        429
    } else {
        503
    };
    if let Some(v) = args.write_rate_bytes {
        cloud.limits.write_bytes_per_window = Some(v);
    }
    if let Some(v) = args.read_rate_bytes {
        cloud.limits.read_bytes_per_window = Some(v);
    }
    if let Some(v) = args.cardinality_limit {
        cloud.limits.cardinality = Some(v);
    }
    if let Some(v) = args.max_buckets {
        cloud.limits.max_buckets = Some(v);
    }
    if let Some(v) = args.max_request_bytes {
        cloud.max_request_bytes = v;
    }
    if let Some(v) = args.max_decompressed_bytes {
        cloud.max_decompressed_bytes = v;
    }
    let http = crate::net::HttpLimits {
        read_header_timeout: timeout("http-read-header-timeout", &args.http_read_header_timeout)?,
        read_timeout: timeout("http-read-timeout", &args.http_read_timeout)?,
        write_timeout: timeout("http-write-timeout", &args.http_write_timeout)?,
        idle_timeout: timeout("http-idle-timeout", &args.http_idle_timeout)?,
        max_connections: args.http_max_connections.max(1),
        ..crate::net::HttpLimits::default()
    };
    // As Go programs do: as many open files as the system allows this process.
    crate::net::rlimit::raise_open_files_limit();
    let v3 = crate::v3::V3Config {
        without_auth: args.without_auth,
        disable_authz: match args.disable_authz.as_deref() {
            Some(list) => crate::v3::V3Config::parse_disable_authz(list)?,
            None => Vec::new(),
        },
        max_request_bytes: args.max_http_request_size,
    };
    let config = ServerConfig {
        v3,
        http,
        flavor: args.flavor,
        org: args.org,
        bucket: args.bucket,
        token: args.token,
        username: args.username,
        password: args.password,
        retention: parse_duration(&args.retention)?,
        max_body_bytes: args.max_body_bytes,
        fault,
        storage_version: if args.storage_version == "2.8" {
            StorageVersion::V2_8
        } else {
            StorageVersion::V2_7
        },
        cloud,
        bootstrap: !args.no_setup,
        secrets: match args.deterministic_secrets {
            Some(seed) => crate::storage::Secrets::Deterministic(seed),
            None => crate::storage::Secrets::OsRandom,
        },
        query: crate::query::QueryConfig {
            concurrency: args.query_concurrency,
            queue_size: args.query_queue_size,
            memory_bytes: args.query_memory_bytes,
            timeout: match parse_duration(&args.query_timeout)? {
                0 => None,
                n => Some(std::time::Duration::from_nanos(n.unsigned_abs())),
            },
        },
        ..ServerConfig::default()
    };
    config.query.validate().map_err(crate::Error::Config)?;
    let reference = Reference::new(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(crate::Error::Serve)?;
    let served = runtime.block_on(async {
        let handle = reference.listen(args.bind).await?;
        println!("listening on {}", handle.url());
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        handle.shutdown().await;
        Ok(())
    });
    // Work still running on the blocking pool (a query being cancelled) does not hold the
    // exit up for long.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
