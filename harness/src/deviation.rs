//! A known deviation of a target: a glob over case names, its kind (a bug or by design), a note
//! and the fault it is known to produce. Read from `targets/<name>.yaml`; applied last when a
//! verdict is assembled (`verdict.rs`), and grouped by note in reports.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fault::FaultKind;

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
    pub fault: Option<FaultKind>,
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
