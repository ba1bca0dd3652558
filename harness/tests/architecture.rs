//! ARCHITECTURE.md is the map of the house: every source file of the reference
//! (`reference-impl/src`, `reference-impl/tests`), of the harness (`harness/src`,
//! `harness/tests`) and of the chores (`xtask/src`) is named in its section, and each code map
//! appears once.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The text of the section that starts with `heading`, up to the next `## `.
fn section<'a>(map: &'a str, heading: &str) -> &'a str {
    let count = map.lines().filter(|l| *l == heading).count();
    assert_eq!(count, 1, "ARCHITECTURE.md has {count} sections {heading:?}");
    let start = map.find(heading).unwrap_or(0) + heading.len();
    let rest = &map[start..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// How the map names a file: `name.rs` in backticks, or `dir/` for a `mod.rs` (its module).
fn names(path: &Path, base: &Path) -> Vec<String> {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let file = rel
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    if file == "mod.rs" {
        let dir = rel
            .parent()
            .and_then(|d| d.file_name())
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        vec![format!("`{dir}/`"), format!("`{dir}/` — `mod.rs`")]
    } else {
        vec![format!("`{file}`")]
    }
}

fn check(map: &str, heading: &str, dirs: &[&str]) -> Vec<String> {
    let text = section(map, heading);
    let mut missing = Vec::new();
    for d in dirs {
        let base = root().join(d);
        let mut files = Vec::new();
        rust_files(&base, &mut files);
        assert!(!files.is_empty(), "no sources under {d}");
        for f in files {
            let n = names(&f, &base);
            if !n.iter().any(|n| text.contains(n.as_str())) {
                missing.push(format!(
                    "{d}/{}",
                    f.strip_prefix(&base).unwrap_or(&f).display()
                ));
            }
        }
    }
    missing
}

#[test]
fn every_source_file_is_on_the_map() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut missing = check(
        &map,
        "## Code map: `harness/src` (crate `influx-conformance`)",
        &["harness/src", "harness/tests"],
    );
    missing.extend(check(&map, "## Code map: `xtask/src`", &["xtask/src"]));
    missing.extend(check(
        &map,
        "## Code map: `reference-impl/src`",
        &["reference-impl/src"],
    ));
    missing.extend(check(
        &map,
        "## Code map: `reference-impl/tests`",
        &["reference-impl/tests"],
    ));
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name these files in their code map: {missing:#?}"
    );
}
