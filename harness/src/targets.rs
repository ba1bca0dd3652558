//! Target files, `targets/<name>.yaml`: a server's URL, adapters, labels and known deviations
//! (like the per-vendor files of Prometheus's compliance suite).

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::case::Profile;
use crate::deviation::Deviation;
use crate::error::{Error, Result};
use crate::server::adapter::{Isolation, ReadAdapter, WriteAdapter};
use crate::server::inprocess::InProcess;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// Base URL, e.g. `http://127.0.0.1:8086`.
    pub url: String,
    pub profile: Profile,
    #[serde(default = "default_write")]
    pub write: WriteAdapter,
    #[serde(default = "default_read")]
    pub read: ReadAdapter,
    /// Org name (the token and org may also come from flags or the environment).
    pub org: Option<String>,
    /// A pre-made bucket (no per-case isolation).
    pub bucket: Option<String>,
    /// A pre-made v1 database.
    pub database: Option<String>,
    /// How each case gets state of its own: `buckets` (the v2 tenancy API, default),
    /// `databases` (InfluxQL `CREATE DATABASE`, InfluxDB 1.x) or `extra_label`
    /// (VictoriaMetrics). Cases a target without the v2 tenancy API cannot express (tokens,
    /// Flux queries, deletes) are skipped with the reason.
    #[serde(default)]
    pub isolation: Isolation,
    /// Free-form labels shown in reports (`version: 1.11`, `vendor: x`).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub deviations: Vec<Deviation>,
}

fn default_write() -> WriteAdapter {
    WriteAdapter::V2
}
fn default_read() -> ReadAdapter {
    ReadAdapter::Flux
}

/// The in-process reference with the deviations of `targets/reference.yaml` under
/// `targets_dir`, when that file exists: a case the reference does not meet yet is `xfail`,
/// visibly, instead of failing every run.
pub fn reference(profiles: Vec<Profile>, targets_dir: &Path) -> Result<InProcess> {
    let path = targets_dir.join("reference.yaml");
    let target = InProcess::new(profiles);
    if !path.is_file() {
        return Ok(target);
    }
    let file = TargetFile::load(&path)?;
    Ok(target.with_deviations(file.deviations))
}

impl TargetFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: TargetFile = serde_norway::from_str(&text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            Error::Load {
                path: path.to_path_buf(),
                line,
                column,
                message: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or("")
                    .to_string(),
            }
        })?;
        for d in &file.deviations {
            if let Err(e) = globset::Glob::new(&d.cases) {
                return Err(Error::Config(format!(
                    "{}: deviation glob {:?} is invalid: {e}",
                    path.display(),
                    d.cases
                )));
            }
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_target_file_loads() {
        let path = crate::default_cases_dir().join("../targets/reference-serve.yaml");
        let t = TargetFile::load(&path).unwrap();
        assert_eq!(
            (t.profile, t.write, t.read),
            (Profile::V2, WriteAdapter::V2, ReadAdapter::Flux)
        );
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let dir = std::env::temp_dir().join(format!("ic-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.yaml");
        std::fs::write(&path, "url: http://x\nprofile: v2\nwrtie: v1\n").unwrap();
        let err = TargetFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("t.yaml:3:1: unknown field `wrtie`"), "{err}");
    }
}
