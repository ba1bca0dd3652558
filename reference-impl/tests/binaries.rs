//! Every program the workspace builds on the reference (the two binaries of each crate and of
//! the Python wheel, and the benches) runs on the allocator the served reference runs on. The
//! wheel's `influx-conformance` once lacked it and ran `fuzz` on glibc's allocator, ~1.6×
//! slower than the same program built from `harness/`; nothing else would notice.

use std::path::{Path, PathBuf};

/// The workspace's root (this crate's parent).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

/// The workspace members named in the root `Cargo.toml`.
fn members(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a members line");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The source files of a member's `[[bin]]` and `[[bench]]` targets (a bin without a `path`
/// is `src/main.rs`; a bench without one is `benches/<name>.rs`).
fn targets(member: &Path) -> Vec<PathBuf> {
    let manifest = std::fs::read_to_string(member.join("Cargo.toml")).expect("member Cargo.toml");
    let mut out = Vec::new();
    let mut section = String::new();
    let (mut name, mut path): (Option<String>, Option<String>) = (None, None);
    let mut flush = |section: &str, name: &mut Option<String>, path: &mut Option<String>| {
        let file = match (section, path.take(), name.take()) {
            ("[[bin]]", Some(p), _) | ("[[bench]]", Some(p), _) => Some(p),
            ("[[bin]]", None, _) => Some("src/main.rs".to_string()),
            ("[[bench]]", None, Some(n)) => Some(format!("benches/{n}.rs")),
            _ => None,
        };
        if let Some(f) = file {
            out.push(member.join(f));
        }
    };
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            flush(&section, &mut name, &mut path);
            section = line.to_string();
            continue;
        }
        let value = || line.split('"').nth(1).map(str::to_string);
        if line.starts_with("name") {
            name = value();
        } else if line.starts_with("path") {
            path = value();
        }
    }
    flush(&section, &mut name, &mut path);
    out
}

/// The text of a target and of the modules it declares with `mod m;` (one level: what the
/// benches share lives in `benches/common/mod.rs`).
fn text_with_modules(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let dir = file.parent().expect("a file in a directory");
    let mut all = text.clone();
    for line in text.lines() {
        if let Some(m) = line
            .trim()
            .strip_prefix("mod ")
            .and_then(|r| r.strip_suffix(';'))
        {
            for candidate in [dir.join(m).join("mod.rs"), dir.join(format!("{m}.rs"))] {
                if let Ok(t) = std::fs::read_to_string(candidate) {
                    all.push_str(&t);
                }
            }
        }
    }
    all
}

#[test]
fn every_binary_and_bench_on_the_reference_runs_on_mimalloc() {
    let root = root();
    let mut checked = Vec::new();
    for member in members(&root) {
        let dir = root.join(&member);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("member manifest");
        // Only what links the reference (xtask, the chores, does not).
        if !manifest.contains("influx-reference") {
            continue;
        }
        for file in targets(&dir) {
            let text = text_with_modules(&file);
            assert!(
                text.contains("influx_reference::use_mimalloc!();"),
                "{} does not make mimalloc its global allocator (influx_reference::use_mimalloc!())",
                file.display()
            );
            assert!(
                !text.contains("#[global_allocator]"),
                "{} declares its own global allocator",
                file.display()
            );
            checked.push(file);
        }
    }
    // The crates' two binaries, the wheel's two and the three benches.
    assert_eq!(checked.len(), 7, "{checked:?}");
}
