//! The report of a run as data: what the JSON report holds (schema version 2, documented in
//! `docs/report-json.md`) and what every other format is rendered from, including several runs
//! side by side (`influx-conformance report A.json B.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::{Level, Profile};
use crate::compare::Mismatch;
use crate::deviation::Deviation;
use crate::fault::FaultKind;
use crate::run::CaseResult;
use crate::tier::{step_text, StepGrade, Tier};
use crate::verdict::Verdict;

/// Version of the JSON report's schema. 2: tiers (`tiers`, and `tier`, `area`, `spec`, `steps`
/// per result), `areas`, `causes` and `labels`; every field of version 1 is still there.
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// One run: a target (or several) and every result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool: String,
    pub tool_version: String,
    /// Redaction name → what it replaces.
    pub redactions: BTreeMap<String, String>,
    pub targets: Vec<String>,
    /// The target file's labels (`server`, `version`, ...).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub summary: Summary,
    /// Steps meeting each tier, overall, per level, per spec area and per area × level.
    pub tiers: TierScores,
    /// Spec area → title (from the spec's headings, when the spec was at hand).
    #[serde(default)]
    pub areas: BTreeMap<String, String>,
    /// What did not pass, grouped by cause: bugs first, then unrecorded failures, then target
    /// faults, then deviations by design.
    pub causes: Vec<Cause>,
    pub results: Vec<ResultRecord>,
}

/// Verdict counts (per case and profile) and the case-level scores of schema version 1.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub executed: usize,
    pub passed: usize,
    pub non_strict: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub info: usize,
    pub xfail: usize,
    pub xpass: usize,
    pub duration_ms: u64,
    /// Share of judged cases that pass, before known deviations.
    pub score_raw: f64,
    /// Share of judged cases that pass or fail as a known deviation says.
    pub score_with_deviations: f64,
    /// Per level: verdict → count.
    pub per_level: BTreeMap<String, BTreeMap<String, usize>>,
}

/// How many graded steps met each tier (a step that met `shape` met `status` and `outcome`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierCounts {
    pub steps: usize,
    pub status: usize,
    pub outcome: usize,
    pub shape: usize,
    pub exact: usize,
}

impl TierCounts {
    pub fn add(&mut self, tier: Tier) {
        self.steps += 1;
        for t in Tier::MET {
            if tier >= t {
                *self.slot(t) += 1;
            }
        }
    }

    fn slot(&mut self, t: Tier) -> &mut usize {
        match t {
            Tier::Status => &mut self.status,
            Tier::Outcome => &mut self.outcome,
            Tier::Shape => &mut self.shape,
            _ => &mut self.exact,
        }
    }

    pub fn met(&self, t: Tier) -> usize {
        match t {
            Tier::Unmet => self.steps,
            Tier::Status => self.status,
            Tier::Outcome => self.outcome,
            Tier::Shape => self.shape,
            Tier::Exact => self.exact,
        }
    }

    /// The share of steps meeting `t` (None: no step).
    pub fn share(&self, t: Tier) -> Option<f64> {
        (self.steps > 0).then(|| self.met(t) as f64 / self.steps as f64)
    }
}

/// Tier counts overall and per level.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scores {
    pub all: TierCounts,
    /// Level (`must`, ...) → counts; levels without graded steps are absent.
    pub by_level: BTreeMap<String, TierCounts>,
}

impl Scores {
    pub fn add(&mut self, level: Level, tier: Tier) {
        self.all.add(tier);
        self.by_level
            .entry(level.as_str().to_string())
            .or_default()
            .add(tier);
    }

    pub fn level(&self, level: Level) -> Option<&TierCounts> {
        self.by_level.get(level.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TierScores {
    #[serde(flatten)]
    pub scores: Scores,
    /// Spec area → its scores.
    pub by_area: BTreeMap<String, Scores>,
}

/// One case on one target in one profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRecord {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub id: String,
    pub level: Level,
    pub spec: String,
    pub area: String,
    pub profile: Profile,
    pub target: String,
    pub verdict: Verdict,
    /// The highest tier every graded step met; null when no step was graded (skipped).
    pub tier: Option<Tier>,
    pub raw_verdict: Verdict,
    pub reason: String,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<Deviation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    pub duration_ms: u64,
    pub steps: Vec<StepRecord>,
}

/// One graded step: its tier, and what was exchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    #[serde(flatten)]
    pub grade: StepGrade,
    /// The redacted request line (`POST /api/v2/write?org=<org>&bucket=<bucket:main>`), or the
    /// read (`landed main`).
    #[serde(default)]
    pub request: String,
    /// The request as a `curl` command (tokens as `$INFLUX_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curl: Option<String>,
    /// Below `exact`: InfluxDB's answer (the reference's snapshot of the step, YAML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Below `exact`: the target's answer, in the same form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
}

impl ResultRecord {
    pub fn of(r: &CaseResult) -> Self {
        let steps = r
            .steps
            .iter()
            .map(|g| {
                let o = r.observation.as_ref().and_then(|o| o.steps.get(g.step - 1));
                let below = g.tier != Tier::Exact;
                StepRecord {
                    grade: g.clone(),
                    request: o.map(|o| o.request.clone()).unwrap_or_default(),
                    curl: o
                        .and_then(|o| o.curl.as_deref())
                        .map(|c| capped(c, &r.name)),
                    expected: r
                        .reference
                        .get(g.step - 1)
                        .filter(|_| below)
                        .map(|t| capped(t, &r.name)),
                    observed: o.filter(|_| below).map(|o| capped(&step_text(o), &r.name)),
                }
            })
            .collect();
        Self {
            name: r.name.clone(),
            file: r.file.clone(),
            line: r.line,
            id: r.id.clone(),
            level: r.level,
            spec: r.spec.clone(),
            area: r.area.clone(),
            profile: r.profile,
            target: r.target.clone(),
            verdict: r.verdict,
            tier: r.tier,
            raw_verdict: r.raw_verdict,
            reason: r.reason.clone(),
            mismatches: r.mismatches.clone(),
            notes: r.notes.clone(),
            fault: r.fault,
            deviation: r.deviation.clone(),
            reproduce: r.reproduce.clone(),
            duration_ms: r.duration_ms,
            steps,
        }
    }

    /// Graded steps whose expectations do not hold.
    pub fn steps_lost(&self) -> usize {
        self.steps.iter().filter(|s| !s.grade.holds).count()
    }
}

/// Most bytes of one curl line or answer a report keeps (a case may send megabytes).
const TEXT_CAP: usize = 8 << 10;

/// `s`, cut at `TEXT_CAP` bytes with a note saying where the whole text is.
fn capped(s: &str, case: &str) -> String {
    if s.len() <= TEXT_CAP {
        return s.to_string();
    }
    let mut end = TEXT_CAP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… [cut: {} bytes in all; `influx-conformance replay {case}` shows it whole]",
        &s[..end],
        s.len()
    )
}

/// Reads a JSON report written by `--report-json`.
pub fn load(path: &std::path::Path) -> Result<RunReport, crate::Error> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| crate::Error::Config(format!("{}: not JSON: {e}", path.display())))?
        .get("schema_version")
        .and_then(|v| v.as_u64());
    if version != Some(u64::from(JSON_SCHEMA_VERSION)) {
        return Err(crate::Error::Config(format!(
            "{}: a JSON report of schema_version {}, this tool reads {JSON_SCHEMA_VERSION} (run the suite again with this version)",
            path.display(),
            version.map(|v| v.to_string()).unwrap_or_else(|| "(none)".into())
        )));
    }
    serde_json::from_str(&text)
        .map_err(|e| crate::Error::Config(format!("{}: {e}", path.display())))
}

/// The report as JSON.
pub fn json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// The name a run goes by in side-by-side reports: the server label and version when the target
/// file gives them, else the targets.
pub fn run_name(r: &RunReport) -> String {
    match (r.labels.get("server"), r.labels.get("version")) {
        (Some(s), Some(v)) => {
            // `1.79.5 (Debian victoria-metrics ...)`: the version without the package.
            let v = v.split(" (").next().unwrap_or(v);
            format!("{s} {v}")
        }
        (Some(s), None) => s.clone(),
        _ => r.targets.join(", "),
    }
}

/// Why results did not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// A known deviation the target file calls a bug.
    Bug,
    /// A failure no known deviation covers.
    Unrecorded,
    /// The target gave no answer to judge (refused, reset, timeout, invalid HTTP, ...).
    Fault,
    /// A known deviation the target's makers chose.
    ByDesign,
}

impl CauseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bug => "bug",
            Self::Unrecorded => "unrecorded",
            Self::Fault => "fault",
            Self::ByDesign => "by design",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub kind: CauseKind,
    /// The deviation's note, or what went wrong in one line.
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The results it covers (`file::id [profile]`), in report order.
    pub cases: Vec<String>,
    /// Graded steps whose expectations do not hold in those results, per level.
    pub steps_lost: BTreeMap<String, usize>,
    /// `steps_lost` at level `must`: the rank of "what to fix first".
    pub must_steps: usize,
}

impl Cause {
    /// (must-level steps lost, should-level steps lost, results): the larger, the costlier.
    pub fn rank(&self) -> (usize, usize, usize) {
        (
            self.must_steps,
            self.steps_lost.get("should").copied().unwrap_or(0),
            self.cases.len(),
        )
    }
}
