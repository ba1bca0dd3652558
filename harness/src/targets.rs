//! Target files, `targets/<name>.yaml`: a server's URL, adapters, labels and known deviations
//! (like the per-vendor files of Prometheus's compliance suite).

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::case::Profile;
use crate::error::{Error, Result};
use crate::target::url::{Isolation, ReadAdapter, WriteAdapter};

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

/// A known difference: a failing case it covers is `xfail`, a passing one `xpass`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// Glob over case names (`v2/gzip.yaml::*`).
    pub cases: String,
    pub kind: DeviationKind,
    pub note: String,
    pub link: Option<String>,
    /// The case is known to fault this way on the target (a server bug the harness cannot
    /// judge, e.g. `invalid_response`): that `error` becomes `xfail`. Any other error stays
    /// an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<crate::target::FaultKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviationKind {
    Bug,
    ByDesign,
}

impl Deviation {
    pub fn matches(&self, case_name: &str) -> bool {
        globset::Glob::new(&self.cases)
            .map(|g| g.compile_matcher().is_match(case_name))
            .unwrap_or(false)
    }
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
