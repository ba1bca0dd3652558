//! `cargo xtask ...`: the project's chores.
//!
//! - `peers [--update] [--only NAME]`: the suite against InfluxDB 1.6 and VictoriaMetrics 1.79
//!   (Debian packages, started by hand on loopback); `--update` rewrites the targets'
//!   deviation lists and `docs/compat/*.md`.
//! - `bench ingest [--points N] [--batch N] [--connections N] [--only NAME]`: the same
//!   generated TSBS cpu-only batches to the reference (v2, cloud), InfluxDB 1.6 and
//!   VictoriaMetrics; points/s, ratios, the reference's resident memory per point.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod peers;
mod servers;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask peers [--update] [--only NAME]\n       cargo xtask bench ingest [--points N] [--batch N] [--connections N] [--only NAME]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let result = match args.first().map(String::as_str) {
        Some("peers") => peers::run(
            &root,
            &target_dir,
            &peers::Options {
                update: flag("--update"),
                only: value("--only"),
            },
        ),
        Some("bench") if args.get(1).map(String::as_str) == Some("ingest") => {
            let num = |name: &str, default: usize| -> Result<usize, String> {
                value(name).map_or(Ok(default), |v| {
                    v.parse().map_err(|_| format!("{name} {v:?}: not a number"))
                })
            };
            let opts = (|| {
                Ok::<_, String>(bench::Options {
                    points: num("--points", 2_000_000)?,
                    batch: num("--batch", 5_000)?,
                    connections: num("--connections", 4)?,
                    only: value("--only"),
                })
            })();
            opts.and_then(|o| bench::run(&root, &target_dir, &o))
        }
        _ => return usage(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds a binary of the workspace and returns its path.
fn build(
    root: &Path,
    target_dir: &Path,
    package: &str,
    bin: &str,
    release: bool,
) -> Result<PathBuf, String> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root).args(["build", "-q", "-p", package]);
    if release {
        cmd.arg("--release");
    }
    let ok = cmd
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?
        .success();
    if !ok {
        return Err(format!("cargo build -p {package} failed"));
    }
    Ok(target_dir
        .join(if release { "release" } else { "debug" })
        .join(bin))
}

/// The harness binary (debug: what `cargo test` already built).
pub fn build_harness(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    build(
        root,
        target_dir,
        "influx-conformance",
        "influx-conformance",
        false,
    )
}
