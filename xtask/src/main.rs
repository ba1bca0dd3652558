//! `cargo xtask <command>`: the project's chores.
//!
//! - `coverage [--spec DIR] [--check]`: which spec lines a case shows, which are waived
//!   (`cases/waivers.yaml`) and which are neither → `docs/coverage.md`; `--check` fails on a
//!   line of a checked spec file that is neither, on stale claims and waivers, and on a stale
//!   `docs/coverage.md`; `--list v2.md` prints every line of one spec file as the extractor
//!   reads it.
//! - `docs [--check]`: renders cases marked `docs: true` into `docs/examples/*.md` from an
//!   actual in-process run; `--check` fails when the committed files differ from a fresh render.
//! - `peers [--update] [--only NAME]`: the suite against InfluxDB 1.6 and VictoriaMetrics 1.79
//!   (Debian packages, started by hand on loopback); `--update` rewrites the targets'
//!   deviation lists and `docs/compat/*.md`.
//! - `bench ingest [--points N] [--batch N] [--connections N] [--only NAME] [--passes N]
//!   [--baseline BINARY]`: the same generated TSBS cpu-only batches to the reference (v2,
//!   cloud), InfluxDB 1.6 and VictoriaMetrics; points/s, ratios, the reference's resident
//!   memory per point; with `--baseline`, also another build of the reference, and the ratios
//!   of this one to it.
//! - `hostile`: the release reference tried as a hostile client would, class by class
//!   (nesting, authorization, secrets, query budget, body caps, write memory, connections):
//!   inputs tried, process survived, peak resident memory; fails when a class's rule breaks.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod coverage;
mod docs;
mod hostile;
mod peers;
mod servers;
mod spec;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask coverage [--spec DIR] [--check] [--list SPEC_FILE]\n       cargo xtask docs [--check]\n       cargo xtask peers [--update] [--only NAME]\n       cargo xtask bench ingest [--points N] [--batch N] [--connections N] [--only NAME] [--passes N] [--baseline BINARY]\n       cargo xtask hostile"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    if let Some(code) = docs_or_coverage(&args, &root) {
        return code;
    }
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
        Some("hostile") => hostile::run(&root, &target_dir),
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
                    passes: num("--passes", 3)?,
                    baseline: value("--baseline").map(PathBuf::from),
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

/// Writes `files` (path relative to the root → content), or with `check` compares them with
/// what is on disk; `stale` also lists files under `dir` that a fresh render would not write.
fn write_or_check(root: &Path, dir: &str, files: &[(String, String)], check: bool) -> ExitCode {
    let mut differ = Vec::new();
    for (rel, content) in files {
        let path = root.join(rel);
        let on_disk = std::fs::read_to_string(&path).ok();
        if on_disk.as_deref() == Some(content.as_str()) {
            continue;
        }
        if check {
            differ.push(rel.clone());
            continue;
        }
        if let Some(parent) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                eprintln!("error: cannot create {}: {e}", parent.display());
                return ExitCode::from(2);
            }
        }
        if let Err(e) = std::fs::write(&path, content) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        println!("wrote {rel}");
    }
    let wanted: Vec<&str> = files.iter().map(|(r, _)| r.as_str()).collect();
    // Only the examples directory is owned whole by a renderer; stale examples are removed.
    let entries = if dir == "docs/examples" {
        std::fs::read_dir(root.join(dir)).ok()
    } else {
        None
    };
    if let Some(entries) = entries {
        for e in entries.flatten() {
            let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
            if rel.ends_with(".md") && !wanted.contains(&rel.as_str()) {
                if check {
                    differ.push(format!("{rel} (no longer rendered)"));
                } else if std::fs::remove_file(e.path()).is_ok() {
                    println!("removed {rel}");
                }
            }
        }
    }
    if check && !differ.is_empty() {
        eprintln!(
            "error: these files differ from a fresh render (run `cargo xtask {}`):",
            if dir == "docs" { "coverage" } else { "docs" }
        );
        for d in differ {
            eprintln!("  {d}");
        }
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// `coverage` and `docs`: `None` for any other command.
fn docs_or_coverage(args: &[String], root: &Path) -> Option<ExitCode> {
    let root = root.to_path_buf();
    let check = args.iter().any(|a| a == "--check");
    Some(match args.first().map(String::as_str) {
        Some("coverage") => {
            let spec_dir = args
                .iter()
                .position(|a| a == "--spec")
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("../shared/spec"));
            if let Some(file) = args
                .iter()
                .position(|a| a == "--list")
                .and_then(|i| args.get(i + 1))
            {
                return Some(match coverage::list(&spec_dir, file) {
                    Ok(text) => {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::from(2)
                    }
                });
            }
            match coverage::render(&root, &spec_dir) {
                Ok(out) => {
                    println!("{}", out.summary);
                    let written = write_or_check(
                        &root,
                        "docs",
                        &[("docs/coverage.md".into(), out.text)],
                        check,
                    );
                    if check && !out.problems.is_empty() {
                        eprintln!(
                            "error: {} spec coverage problem(s) (add a case that shows the line, or a waiver in cases/waivers.yaml):",
                            out.problems.len()
                        );
                        for p in &out.problems {
                            eprintln!("  {p}");
                        }
                        return Some(ExitCode::from(1));
                    }
                    written
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some("docs") => match docs::render(&root) {
            Ok(files) => write_or_check(&root, "docs/examples", &files, check),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        _ => return None,
    })
}

/// The workspace root: from `CARGO_MANIFEST_DIR` as `cargo run` sets it at run time, else as it
/// was at build time. A binary reused from a shared target directory (a CI clone elsewhere built
/// it; cargo's fingerprints do not include the checkout's path) would otherwise work in a
/// checkout that may no longer exist.
fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
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

/// The release reference, built together with the harness: one cargo invocation for both
/// packages resolves their dependencies' features as the Python wheel's build does (python/
/// depends on both), so the wheel build that follows in CI reuses every library and only links
/// its two binaries. Built alone, the reference's dependencies get fewer features (serde, hyper,
/// tower, regex...) and the wheel would compile them all again.
pub fn build_release_reference(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    let ok = Command::new(cargo())
        .current_dir(root)
        .args(["build", "-q", "--release", "-p", "influx-reference"])
        .args(["-p", "influx-conformance"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?
        .success();
    if !ok {
        return Err(
            "cargo build --release -p influx-reference -p influx-conformance failed".into(),
        );
    }
    Ok(target_dir.join("release").join("influx-reference"))
}

/// The reference binary (debug: what `cargo test` already built).
pub fn build_reference(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    build(
        root,
        target_dir,
        "influx-reference",
        "influx-reference",
        false,
    )
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
