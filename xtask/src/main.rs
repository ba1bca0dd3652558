//! `cargo xtask <command>`: the project's chores.
//!
//! - `coverage [--spec DIR] [--check]`: maps spec sections to cases and lists spec lines
//!   (status-table rows, quoted messages, reasons) that no case covers → `docs/coverage.md`.
//! - `docs [--check]`: renders cases marked `docs: true` into `docs/examples/*.md` from an
//!   actual in-process run; `--check` fails when the committed files differ from a fresh render.

mod coverage;
mod docs;
mod spec;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn usage() -> ExitCode {
    eprintln!("usage: cargo xtask coverage [--spec DIR] [--check] | cargo xtask docs [--check]");
    ExitCode::from(2)
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root();
    let check = args.iter().any(|a| a == "--check");
    match args.first().map(String::as_str) {
        Some("coverage") => {
            let spec_dir = args
                .iter()
                .position(|a| a == "--spec")
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("../shared/spec"));
            match coverage::render(&root, &spec_dir) {
                Ok((text, summary)) => {
                    println!("{summary}");
                    write_or_check(&root, "docs", &[("docs/coverage.md".into(), text)], check)
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
        _ => usage(),
    }
}
