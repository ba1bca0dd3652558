//! Runs cases: each selected (case, target, profile) through execution (`execute.rs`) and
//! verdict (`verdict.rs`) into a [`CaseResult`], the record reports are made of. Parallel,
//! bounded in time at every level, and a misbehaving case never stops the run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::area::area_of;
use crate::case::{Level, LoadedCase, Profile};
use crate::compare::Mismatch;
use crate::deviation::Deviation;
use crate::execute::{execute, Exec, Timeouts};
use crate::fault::{Fault, FaultKind};
use crate::observe::Observation;
use crate::select::Job;
use crate::server::Target;
use crate::snapshot::{read_snapshot, snapshot_path, SnapshotMode};
use crate::tier::{self, SnapshotSteps, StepGrade, Tier};
use crate::verdict::{assess, Snapshots, Verdict};

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub jobs: usize,
    /// Bound on a whole case (setup, steps, read-back, clean-up).
    pub case_timeout: Duration,
    /// Bound on one request to the in-process reference.
    pub request_timeout: Duration,
    pub settle_timeout: Duration,
    pub snapshots: Option<PathBuf>,
    pub snapshot_mode: SnapshotMode,
}

impl RunConfig {
    /// The bounds of one step.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            request: self.request_timeout,
            settle: self.settle_timeout,
        }
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            case_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            settle_timeout: Duration::from_secs(10),
            snapshots: None,
            snapshot_mode: SnapshotMode::Compare,
        }
    }
}

/// The outcome of one case on one target in one profile.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub id: String,
    pub level: Level,
    /// What the case cites (`v2.md §7.2`) and the spec area it is scored in (`v2.md §7`).
    pub spec: String,
    pub area: String,
    pub profile: Profile,
    pub target: String,
    pub verdict: Verdict,
    /// The highest tier every graded step met (None: no step was graded, e.g. skipped).
    pub tier: Option<Tier>,
    /// Each graded step's tier.
    pub steps: Vec<StepGrade>,
    /// The verdict before the target's known deviations were applied.
    pub raw_verdict: Verdict,
    /// One sentence: why this verdict.
    pub reason: String,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<Deviation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    #[serde(skip)]
    pub observation: Option<Observation>,
    /// The reference's snapshot, step by step (YAML), when there is one.
    #[serde(skip)]
    pub reference: Vec<String>,
    pub duration_ms: u64,
}

/// Runs the jobs `config.jobs` at a time; `progress` is called after each.
pub async fn run_jobs(
    cases: Arc<Vec<LoadedCase>>,
    targets: Vec<Arc<dyn Target>>,
    jobs: Vec<Job>,
    config: RunConfig,
    progress: Arc<dyn Fn(&CaseResult) + Send + Sync>,
) -> Vec<CaseResult> {
    let sem = Arc::new(tokio::sync::Semaphore::new(config.jobs.max(1)));
    let config = Arc::new(config);
    let mut handles = Vec::new();
    for job in jobs {
        let sem = sem.clone();
        let cases = cases.clone();
        let target = targets[job.target].clone();
        let config = config.clone();
        let progress = progress.clone();
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            let case = &cases[job.case];
            let r = run_case(case, target.as_ref(), job.profile, &config).await;
            progress(&r);
            r
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        if let Ok(r) = h.await {
            out.push(r);
        }
    }
    out
}

/// One case on one target: never panics on what the target sends, always ends in a verdict.
pub async fn run_case(
    case: &LoadedCase,
    target: &dyn Target,
    profile: Profile,
    config: &RunConfig,
) -> CaseResult {
    let started = Instant::now();
    let info = target.info();
    let executed = tokio::time::timeout(
        config.case_timeout,
        execute(case, target, profile, config.timeouts()),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Exec::Fault(
            Fault::new(
                FaultKind::Timeout,
                format!(
                    "the case did not finish within {}s (raise --case-timeout if the server is slow)",
                    config.case_timeout.as_secs_f64()
                ),
            ),
            None,
        ))
    });
    let snapshots = config.snapshots.as_deref().map(|dir| Snapshots {
        dir,
        mode: config.snapshot_mode,
    });
    let a = assess(case, profile, info, executed, snapshots);
    let snapshot = config
        .snapshots
        .as_deref()
        .filter(|_| a.verdict != Verdict::Skipped)
        .and_then(|dir| read_snapshot(&snapshot_path(dir, case, profile)))
        .map(|text| SnapshotSteps::parse(&text));
    let steps = if a.verdict == Verdict::Skipped {
        Vec::new()
    } else {
        tier::grade(case, a.observation.as_ref(), snapshot.as_ref())
    };
    CaseResult {
        name: case.name(),
        file: case.file.clone(),
        line: case.line,
        id: case.case.id.clone(),
        level: case.level,
        spec: case.spec.clone(),
        area: area_of(&case.spec),
        profile,
        target: info.name.clone(),
        verdict: a.verdict,
        tier: tier::case_tier(&steps),
        steps,
        raw_verdict: a.raw_verdict,
        reason: a.reason,
        mismatches: a.mismatches,
        notes: a.notes,
        fault: a.fault,
        deviation: a.deviation,
        reproduce: a.reproduce,
        observation: a.observation,
        reference: snapshot.map(|s| s.texts).unwrap_or_default(),
        duration_ms: started.elapsed().as_millis() as u64,
    }
}
