//! Reports of a run, all rendered from one model (`model.rs`, what the JSON report holds,
//! assembled here by `build` from the results, with the causes `causes.rs` groups):
//! the terminal (`terminal.rs`), JSON, JUnit (`junit.rs`), Markdown (`markdown.rs`) and a
//! self-contained HTML page (`html.rs`), for one run or several side by side. Failures are
//! grouped by cause (`causes.rs`). Tokens never appear: observations are redacted and curl
//! lines use `$INFLUX_TOKEN`.

pub mod causes;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;

pub use model::{json, load, ResultRecord, RunReport, JSON_SCHEMA_VERSION};

use std::collections::BTreeMap;
use std::time::Duration;

use crate::observe::REDACTION_NAMES;
use crate::verdict::Verdict;
use causes::group;
use model::{Summary, TierScores};

use crate::run::CaseResult;

/// Details of one result that did not pass, for the terminal and test failure messages.
pub fn failure_text(r: &CaseResult, root: &std::path::Path) -> String {
    terminal::failure_text(&ResultRecord::of(r), root)
}

/// What a report knows besides the results.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub duration: Duration,
    /// Area → title.
    pub areas: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// The report of a run.
pub fn build(results: &[CaseResult], meta: &Meta) -> RunReport {
    let records: Vec<ResultRecord> = results.iter().map(ResultRecord::of).collect();
    from_records(records, meta)
}

/// The report of results already recorded.
pub fn from_records(results: Vec<ResultRecord>, meta: &Meta) -> RunReport {
    let mut targets: Vec<String> = results.iter().map(|r| r.target.clone()).collect();
    targets.sort();
    targets.dedup();
    let mut tiers = TierScores::default();
    for r in &results {
        for s in &r.steps {
            tiers.scores.add(r.level, s.grade.tier);
            tiers
                .by_area
                .entry(r.area.clone())
                .or_default()
                .add(r.level, s.grade.tier);
        }
    }
    let areas = tiers
        .by_area
        .keys()
        .filter_map(|a| meta.areas.get(a).map(|t| (a.clone(), t.clone())))
        .collect();
    RunReport {
        schema_version: JSON_SCHEMA_VERSION,
        tool: "influx-conformance".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        redactions: REDACTION_NAMES
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect(),
        targets,
        labels: meta.labels.clone(),
        summary: summarize(&results, meta.duration),
        tiers,
        areas,
        causes: group(&results),
        results,
    }
}

pub fn summarize(results: &[ResultRecord], duration: Duration) -> Summary {
    let mut s = Summary {
        duration_ms: duration.as_millis() as u64,
        ..Default::default()
    };
    let mut judged = 0usize;
    let mut raw_pass = 0usize;
    let mut dev_pass = 0usize;
    for r in results {
        match r.verdict {
            Verdict::Pass => s.passed += 1,
            Verdict::PassNonStrict => s.non_strict += 1,
            Verdict::Fail => s.failed += 1,
            Verdict::Error => s.errors += 1,
            Verdict::Skipped => s.skipped += 1,
            Verdict::Info => s.info += 1,
            Verdict::Xfail => s.xfail += 1,
            Verdict::Xpass => s.xpass += 1,
        }
        if r.verdict != Verdict::Skipped {
            s.executed += 1;
        }
        if !matches!(r.verdict, Verdict::Skipped | Verdict::Info) {
            judged += 1;
            if r.raw_verdict.is_pass() {
                raw_pass += 1;
            }
            if r.verdict.is_pass() || r.verdict == Verdict::Xfail {
                dev_pass += 1;
            }
        }
        *s.per_level
            .entry(r.level.as_str().to_string())
            .or_default()
            .entry(r.verdict.as_str().to_string())
            .or_default() += 1;
    }
    if judged > 0 {
        s.score_raw = raw_pass as f64 / judged as f64;
        s.score_with_deviations = dev_pass as f64 / judged as f64;
    }
    s
}
