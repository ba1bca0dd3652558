//! Snapshots: the redacted observation of a case on the reference, per profile, in insta's
//! file format (`snapshots/<profile>/<file>__<id>.snap`, reviewable with `cargo insta
//! review`). `check` compares an observation with its snapshot and, in bless mode on the
//! reference, records it; what the comparison means for the verdict is `verdict.rs`'s.

use std::path::{Path, PathBuf};

use crate::case::{LoadedCase, Profile};
use crate::compare::Mismatch;
use crate::observe::Observation;

/// How snapshots are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare; on a difference write `<name>.snap.new` for `cargo insta review`.
    Compare,
    /// Compare without writing anything.
    CompareOnly,
    /// Write snapshots that differ or are missing (bless).
    Bless,
}

/// What the comparison with the snapshot found.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotCheck {
    /// The observation is the snapshot, or (bless mode, on the reference) was just recorded
    /// as it at this path.
    Holds { blessed: Option<PathBuf> },
    /// Bless mode could not write the snapshot.
    CannotWrite { path: PathBuf, error: String },
    /// The observation differs from the snapshot, or there is none (`missing`).
    Differs {
        path: PathBuf,
        missing: bool,
        mismatch: Mismatch,
    },
}

/// Compares `obs` with the case's snapshot in `profile`. On the reference, bless mode records a
/// snapshot that differs or is missing, and compare mode writes it next to the old one as
/// `.snap.new` for review; other targets never write.
pub fn check(
    case: &LoadedCase,
    profile: Profile,
    obs: &Observation,
    dir: &Path,
    is_reference: bool,
    mode: SnapshotMode,
) -> SnapshotCheck {
    let path = snapshot_path(dir, case, profile);
    let actual = snapshot_text(obs);
    let expected = read_snapshot(&path);
    if expected.as_deref() == Some(actual.as_str()) {
        let _ = std::fs::remove_file(path.with_extension("snap.new"));
        return SnapshotCheck::Holds { blessed: None };
    }
    if is_reference {
        match mode {
            SnapshotMode::Bless => {
                return match write_snapshot(&path, case, &actual) {
                    Ok(()) => SnapshotCheck::Holds {
                        blessed: Some(path),
                    },
                    Err(e) => SnapshotCheck::CannotWrite {
                        path,
                        error: e.to_string(),
                    },
                };
            }
            SnapshotMode::Compare => {
                let _ = write_snapshot(&path.with_extension("snap.new"), case, &actual);
            }
            SnapshotMode::CompareOnly => {}
        }
    }
    let missing = expected.is_none();
    SnapshotCheck::Differs {
        mismatch: Mismatch {
            step: 0,
            what: if missing {
                "snapshot missing".to_string()
            } else {
                "snapshot".to_string()
            },
            expected: expected.unwrap_or_default(),
            actual,
        },
        path,
        missing,
    }
}

/// The snapshot file of a case in a profile: `snapshots/<profile>/<file>__<id>.snap`.
pub fn snapshot_path(dir: &Path, case: &LoadedCase, profile: Profile) -> PathBuf {
    let stem = case
        .file
        .trim_end_matches(".yaml")
        .trim_end_matches(".yml")
        .replace('/', "__");
    dir.join(profile.as_str())
        .join(format!("{stem}__{}.snap", case.case.id))
}

/// The snapshot body of an observation (YAML).
pub fn snapshot_text(obs: &Observation) -> String {
    if obs.steps.iter().all(|s| s.unrecorded_body.is_none()) {
        return serde_norway::to_string(obs).unwrap_or_default();
    }
    let mut recorded = obs.clone();
    for step in &mut recorded.steps {
        if let Some(why) = &step.unrecorded_body {
            step.body = Some(format!("<not recorded: {why}>"));
            step.json = None;
        }
    }
    serde_norway::to_string(&recorded).unwrap_or_default()
}

/// Reads an insta-format snapshot's content (after the `---` front matter).
pub fn read_snapshot(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(rest[end + 5..].to_string())
}

/// Writes an insta-format snapshot (`.snap`, or `.snap.new` for review with `cargo insta
/// review`).
pub fn write_snapshot(path: &Path, case: &LoadedCase, content: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let body = format!(
        "---\nsource: cases/{}\nexpression: \"{}\"\n---\n{}",
        case.file,
        case.case.id,
        if content.ends_with('\n') {
            content.to_string()
        } else {
            format!("{content}\n")
        }
    );
    std::fs::write(path, body)
}
