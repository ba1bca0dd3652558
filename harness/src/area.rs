//! Spec areas: the top-level section of the spec a case cites first (`spec: v2.md §7.2, §1.5`
//! is in area `v2.md §7`), the unit reports score by. Titles come from the spec's headings when
//! the spec directory is at hand (`../shared/spec/` next to the repository, or `--spec DIR`).

use std::collections::BTreeMap;
use std::path::Path;

/// The area of a case's `spec:` text: its first numbered reference cut to the top-level section
/// (`v2.md §7`); else the seed document (`seed`), a spec file without a section (`cloud.md`), or
/// the spec README's decisions (`decisions`), or the text's first word (`generated`).
pub fn area_of(spec: &str) -> String {
    let mut file: Option<&str> = None;
    let words: Vec<&str> = spec
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if let Some(f) = w.strip_suffix(".md").map(|_| *w) {
            let f = f.rsplit('/').next().unwrap_or(f);
            if let Some(num) = words.get(i + 1).and_then(|n| n.strip_prefix('§')) {
                let top: String = num.chars().take_while(|c| c.is_ascii_digit()).collect();
                if !top.is_empty() && f != "README.md" && !f.starts_with("seed") {
                    return format!("{f} §{top}");
                }
            }
            file.get_or_insert(if f == "README.md" { "decisions" } else { f });
        }
    }
    if words
        .iter()
        .any(|w| *w == "seed" || w.starts_with("seed-troubleshoot"))
    {
        return "seed".into();
    }
    if let Some(f) = file {
        return f.to_string();
    }
    words
        .first()
        .map(|w| w.trim_end_matches(':').to_string())
        .unwrap_or_else(|| "unspecified".into())
}

/// Sort key that puts `v2.md §2` before `v2.md §10`.
pub fn sort_key(area: &str) -> (String, u32, String) {
    match area.split_once(" §") {
        Some((file, n)) => (
            file.to_string(),
            n.parse().unwrap_or(u32::MAX),
            String::new(),
        ),
        None => (area.to_string(), 0, area.to_string()),
    }
}

/// Area → title, from the spec's top-level headings (`## 7. \`POST /api/v2/delete\` (...)` →
/// `` `POST /api/v2/delete` ``). Empty when the directory is not there.
pub fn titles(spec_dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(spec_dir) else {
        return out;
    };
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !name.ends_with(".md") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if name.starts_with("seed") {
            if let Some(h) = text.lines().find_map(|l| l.strip_prefix("# ")) {
                out.insert("seed".to_string(), clean(h));
            }
            continue;
        }
        for line in text.lines() {
            let Some(h) = line.strip_prefix("## ") else {
                continue;
            };
            let num: String = h.chars().take_while(|c| c.is_ascii_digit()).collect();
            let Some(rest) = h[num.len()..].strip_prefix(". ") else {
                continue;
            };
            if num.is_empty() {
                continue;
            }
            out.insert(format!("{name} §{num}"), clean(rest));
        }
    }
    out
}

/// A heading without its trailing source references (`(http/delete_handler.go, ...)`) and tags
/// (`[DOC]`).
fn clean(h: &str) -> String {
    let mut t = h.trim().to_string();
    loop {
        let before = t.clone();
        if t.ends_with(')') {
            if let Some(i) = t.rfind(" (") {
                t.truncate(i);
            }
        }
        if t.ends_with(']') {
            if let Some(i) = t.rfind(" [") {
                t.truncate(i);
            }
        }
        t = t.trim().to_string();
        if t == before || t.is_empty() {
            break;
        }
    }
    if t.is_empty() {
        h.trim().to_string()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_top_level_sections() {
        for (spec, area) in [
            ("v2.md §7.2", "v2.md §7"),
            ("v2.md §2.1, §3.4", "v2.md §2"),
            ("v2.md §10", "v2.md §10"),
            ("cloud.md §1.5 (LP-LIB)", "cloud.md §1"),
            (
                "seed \"Review HTTP status codes\"; cloud.md §1.3, §4.1; spec/README.md decisions",
                "cloud.md §1",
            ),
            ("seed \"rejected_points schema\"", "seed"),
            (
                "seed-troubleshoot-writes.md \"Review rejected points\"",
                "seed",
            ),
            ("spec/README.md decisions (v2: 429 / 503)", "decisions"),
            ("cloud.md", "cloud.md"),
            ("generated: the reference is the oracle", "generated"),
            ("", "unspecified"),
        ] {
            assert_eq!(area_of(spec), area, "{spec:?}");
        }
        let mut areas = vec!["v2.md §10", "v2.md §2", "cloud.md §1", "seed"];
        areas.sort_by_key(|a| sort_key(a));
        assert_eq!(areas, ["cloud.md §1", "seed", "v2.md §2", "v2.md §10"]);
    }

    #[test]
    fn titles_come_from_headings() {
        let dir = std::env::temp_dir().join(format!("ic-area-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("v2.md"),
            "# Title\n## 7. `POST /api/v2/delete` (`http/delete_handler.go`)\n### 7.1 Sub\n## 4. Limits and quotas [DOC] (LIMITS unless noted)\n",
        )
        .unwrap();
        std::fs::write(dir.join("seed-x.md"), "# Troubleshoot writes\n## Handle\n").unwrap();
        let t = titles(&dir);
        assert_eq!(t["v2.md §7"], "`POST /api/v2/delete`");
        assert_eq!(t["v2.md §4"], "Limits and quotas");
        assert_eq!(t["seed"], "Troubleshoot writes");
        assert_eq!(t.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
