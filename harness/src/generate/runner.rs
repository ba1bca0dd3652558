//! Differential runs: each scenario goes to the target and to a fresh in-process reference (the
//! oracle) in lock-step. Before every step the oracle's clock is pinned to the target's "now",
//! and the step's body placeholders are filled from that same "now", so both see the same bytes
//! and both observations pass through the same redactions. What differs (status, message,
//! landed rows, rejected_points) is a difference; the generator's intent never decides.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::difference::{compare_step, DiffKind, Difference};
use super::model::{Line, Op, Scenario};
use super::strategy::{generate, raw_scenario, realize, simpler, GenConfig};
use crate::case::{Level, LoadedCase, Profile, Profiles, DEFAULT_NOW};
use crate::execute::{run_built_step, Exec, StepOptions};
use crate::observe::Observation;
use crate::request::build_request;
use crate::run::RunConfig;
use crate::server::inprocess::InProcess;
use crate::server::{OpenError, Session, Target};

/// One scenario's result.
#[derive(Debug, Clone)]
pub enum Outcome {
    Same,
    /// The target cannot run it (e.g. quotas on a URL target).
    Skipped(String),
    Differs {
        differences: Vec<Difference>,
        /// The oracle's observation (expectations of a regression case).
        oracle: Observation,
        /// `curl` lines of the target's requests, per step.
        reproduce: Vec<Option<String>>,
    },
    /// The oracle itself failed to set up or answer: a harness or reference problem.
    OracleError(String),
}

/// The case a scenario runs as (not on disk; `path` only anchors `body_file`, unused here).
pub fn loaded_case(s: &Scenario, id: &str, description: &str) -> LoadedCase {
    let case = s.to_case(id, description);
    LoadedCase {
        file: format!("regressions/{id}.yaml"),
        path: PathBuf::from(format!("regressions/{id}.yaml")),
        line: 1,
        level: Level::Must,
        profiles: match s.profile {
            Profile::V2 => Profiles::V2,
            Profile::Cloud => Profiles::Cloud,
            Profile::V3 => Profiles::V3,
        },
        now: DEFAULT_NOW.to_string(),
        spec: "generated".into(),
        case,
    }
}

/// Runs one scenario on `target` and on a fresh oracle, step by step.
pub async fn check(
    scenario: &Scenario,
    id: &str,
    target: &dyn Target,
    oracle: &InProcess,
    config: &RunConfig,
    reproduce: bool,
) -> Outcome {
    let case = loaded_case(scenario, id, "generated scenario");
    let profile = scenario.profile;
    let mut tsession = match target.open(&case, profile).await {
        Ok(s) => s,
        Err(OpenError::Skip(r)) => return Outcome::Skipped(r),
        Err(OpenError::Fault(f)) => {
            return Outcome::Differs {
                differences: vec![Difference {
                    step: 0,
                    kind: DiffKind::TargetFault,
                    expected: "setup succeeds".into(),
                    actual: f.reason,
                }],
                oracle: Observation::default(),
                reproduce: Vec::new(),
            }
        }
    };
    let mut osession = match oracle.open(&case, profile).await {
        Ok(s) => s,
        Err(OpenError::Skip(r)) => {
            tsession.close().await;
            return Outcome::Skipped(format!("the oracle cannot run it: {r}"));
        }
        Err(OpenError::Fault(f)) => {
            tsession.close().await;
            return Outcome::OracleError(f.reason);
        }
    };
    let outcome = lockstep(
        &case,
        target,
        oracle,
        config,
        tsession.as_mut(),
        osession.as_mut(),
        reproduce,
    )
    .await;
    tsession.close().await;
    osession.close().await;
    outcome
}

async fn lockstep(
    case: &LoadedCase,
    target: &dyn Target,
    oracle: &InProcess,
    config: &RunConfig,
    tsession: &mut dyn Session,
    osession: &mut dyn Session,
    want_curl: bool,
) -> Outcome {
    let dir = Path::new(".");
    let profile = case.profiles.list()[0];
    let mut differences = Vec::new();
    let mut oracle_obs = Observation::default();
    let mut reproduce = Vec::new();
    for (i, step) in case.case.steps.iter().enumerate() {
        tsession.step_started();
        let now = tsession.now();
        osession.pin_now(now);
        osession.step_started();
        let opts = StepOptions {
            now,
            judge_unavailable: false,
            reproduce: want_curl,
            timeouts: config.timeouts(),
        };
        // Both sides send the same bytes: the request is built once when both contexts and
        // write adapters build the same requests (two in-process references always do).
        let treq = build_request(step, tsession.context(), target.info().write, dir, now);
        let oreq = if oracle.info().write == target.info().write
            && osession.context().same_requests(tsession.context())
        {
            treq.clone()
        } else {
            build_request(step, osession.context(), oracle.info().write, dir, now)
        };
        let t = tokio::time::timeout(
            config.case_timeout,
            run_built_step(step, target, profile, tsession, opts, treq),
        )
        .await;
        let o = run_built_step(step, oracle, profile, osession, opts, oreq).await;
        let o = match o {
            Ok((o, _)) => o,
            Err(Exec::Skip(r)) | Err(Exec::Fault(crate::fault::Fault { reason: r, .. }, _)) => {
                return Outcome::OracleError(format!("step {}: {r}", i + 1))
            }
        };
        let (t, repro) = match t {
            Ok(Ok(x)) => x,
            Ok(Err(Exec::Skip(r))) => return Outcome::Skipped(r),
            Ok(Err(Exec::Fault(f, repro))) => {
                reproduce.push(repro);
                differences.push(Difference {
                    step: i + 1,
                    kind: DiffKind::TargetFault,
                    expected: "an answer".into(),
                    actual: f.reason,
                });
                oracle_obs.steps.push(o);
                break;
            }
            Err(_) => {
                differences.push(Difference {
                    step: i + 1,
                    kind: DiffKind::TargetFault,
                    expected: "an answer".into(),
                    actual: format!("no answer within {:?}", config.case_timeout),
                });
                oracle_obs.steps.push(o);
                reproduce.push(None);
                break;
            }
        };
        differences.extend(compare_step(i + 1, &o, &t));
        oracle_obs.steps.push(o);
        reproduce.push(repro);
    }
    if differences.is_empty() {
        Outcome::Same
    } else {
        Outcome::Differs {
            differences,
            oracle: oracle_obs,
            reproduce,
        }
    }
}

/// A fuzz run's settings.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    pub gen: GenConfig,
    pub scenarios: u64,
    pub seed: u64,
    pub time_limit: Option<Duration>,
    /// Scenarios in flight at once.
    pub jobs: usize,
    /// Shrink at most this many differing scenarios (the first ones, by index).
    pub shrink: usize,
    /// Most target runs spent shrinking one scenario.
    pub shrink_budget: usize,
    /// Where regression cases go (`cases/regressions`); `None`: not written.
    pub regressions: Option<PathBuf>,
    /// Snapshot directory for the regression cases' reference snapshots.
    pub snapshots: Option<PathBuf>,
    pub run: RunConfig,
}

impl FuzzConfig {
    pub fn new(profile: Profile) -> Self {
        Self {
            gen: GenConfig::new(profile),
            scenarios: 1000,
            seed: 0,
            time_limit: None,
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            shrink: 3,
            shrink_budget: 400,
            regressions: None,
            snapshots: None,
            run: RunConfig::default(),
        }
    }
}

/// A differing scenario.
#[derive(Debug, Clone)]
pub struct Found {
    pub index: u64,
    pub differences: Vec<Difference>,
    /// After shrinking (when it was shrunk).
    pub shrunk: Option<Shrunk>,
}

#[derive(Debug, Clone)]
pub struct Shrunk {
    pub scenario: Scenario,
    pub differences: Vec<Difference>,
    pub oracle: Observation,
    pub reproduce: Vec<Option<String>>,
    /// Target runs spent.
    pub runs: usize,
    /// The regression case (YAML) and where it was written.
    pub yaml: String,
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct FuzzReport {
    pub seed: u64,
    pub run: u64,
    pub skipped: u64,
    pub lines: u64,
    pub elapsed: Duration,
    pub found: Vec<Found>,
    pub oracle_errors: Vec<(u64, String)>,
    /// The time limit ended the run before `scenarios`.
    pub timed_out: bool,
}

impl FuzzReport {
    pub fn per_second(&self) -> f64 {
        self.run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `fuzz_<seed>_<index>`: the id of a scenario's regression case.
pub fn case_id(seed: u64, index: u64) -> String {
    format!("fuzz_{seed}_{index}")
}

/// Runs `config.scenarios` scenarios against `target`, then shrinks the first differences and
/// writes them as regression cases. `progress` gets (done, differing) after each scenario.
pub async fn fuzz(
    target: Arc<dyn Target>,
    config: &FuzzConfig,
    progress: Arc<dyn Fn(u64, u64) + Send + Sync>,
) -> FuzzReport {
    let oracle = Arc::new(InProcess::new(vec![config.gen.profile]));
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let differing = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let report = Arc::new(Mutex::new(FuzzReport {
        seed: config.seed,
        ..FuzzReport::default()
    }));
    let mut workers = Vec::new();
    for _ in 0..config.jobs.max(1) {
        let (oracle, target) = (oracle.clone(), target.clone());
        let (next, done, differing, stop, report) = (
            next.clone(),
            done.clone(),
            differing.clone(),
            stop.clone(),
            report.clone(),
        );
        let progress = progress.clone();
        let config = config.clone();
        workers.push(tokio::spawn(async move {
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if config
                    .time_limit
                    .is_some_and(|limit| started.elapsed() >= limit)
                {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut r) = report.lock() {
                        r.timed_out = true;
                    }
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= config.scenarios {
                    break;
                }
                let s = generate(&config.gen, config.seed, index);
                let id = case_id(config.seed, index);
                let outcome = check(&s, &id, target.as_ref(), &oracle, &config.run, false).await;
                if let Ok(mut r) = report.lock() {
                    r.lines += s.line_count() as u64;
                    match outcome {
                        Outcome::Same => r.run += 1,
                        Outcome::Skipped(_) => r.skipped += 1,
                        Outcome::OracleError(e) => {
                            r.run += 1;
                            r.oracle_errors.push((index, e));
                        }
                        Outcome::Differs { differences, .. } => {
                            r.run += 1;
                            differing.fetch_add(1, Ordering::Relaxed);
                            r.found.push(Found {
                                index,
                                differences,
                                shrunk: None,
                            });
                        }
                    }
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(d, differing.load(Ordering::Relaxed));
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let mut report = report
        .lock()
        .map(|r| r.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    report.elapsed = started.elapsed();
    report.found.sort_by_key(|f| f.index);
    for found in report.found.iter_mut().take(config.shrink) {
        let shrunk = shrink(config, found.index, target.as_ref(), &oracle).await;
        found.shrunk = shrunk;
    }
    report
}

/// Shrinks the scenario (seed, index): greedily takes the first of its raw scenario's simpler
/// forms that still differs (`strategy::simpler`), then drops ops and lines of the realized
/// scenario the same way; writes the smallest differing scenario as a regression case.
pub async fn shrink(
    config: &FuzzConfig,
    index: u64,
    target: &dyn Target,
    oracle: &InProcess,
) -> Option<Shrunk> {
    let id = case_id(config.seed, index);
    let mut runs = 0usize;
    let mut raw = raw_scenario(&config.gen, config.seed, index);
    let first = realize(&config.gen, &raw);
    let mut best = match check(&first, &id, target, oracle, &config.run, true).await {
        Outcome::Differs {
            differences,
            oracle,
            reproduce,
        } => (first, differences, oracle, reproduce),
        // Not reproducible (a flaky target): nothing to write.
        _ => return None,
    };
    runs += 1;
    // After a simplification that keeps the difference, the search goes on from the same
    // position in the new list (the simplifications before it were just refused), and stops
    // when a whole round finds none.
    let mut position = 0;
    let mut refused_in_a_row = 0;
    loop {
        let candidates = simpler(&raw);
        if candidates.is_empty() || refused_in_a_row >= candidates.len() {
            break;
        }
        let i = position % candidates.len();
        position = i + 1;
        if runs >= config.shrink_budget {
            break;
        }
        let scenario = realize(&config.gen, &candidates[i]);
        if scenario == best.0 {
            refused_in_a_row += 1;
            continue;
        }
        runs += 1;
        match check(&scenario, &id, target, oracle, &config.run, true).await {
            Outcome::Differs {
                differences,
                oracle,
                reproduce,
            } => {
                best = (scenario, differences, oracle, reproduce);
                raw = candidates[i].clone();
                position = i;
                refused_in_a_row = 0;
            }
            _ => refused_in_a_row += 1,
        }
    }
    let mut changed;
    // Greedy: drop whole ops, then single lines, while the difference stays.
    changed = true;
    while changed && runs < config.shrink_budget {
        changed = false;
        for candidate in smaller(&best.0) {
            if runs >= config.shrink_budget {
                break;
            }
            runs += 1;
            if let Outcome::Differs {
                differences,
                oracle,
                reproduce,
            } = check(&candidate, &id, target, oracle, &config.run, true).await
            {
                best = (candidate, differences, oracle, reproduce);
                changed = true;
                break;
            }
        }
    }
    let (scenario, differences, oracle_obs, reproduce) = best;
    let yaml = super::regression::case_yaml(
        &scenario,
        &id,
        config.seed,
        index,
        &target.info().name,
        &differences,
        &oracle_obs,
        &reproduce,
    );
    let path = match &config.regressions {
        Some(dir) => super::regression::write(dir, config.snapshots.as_deref(), &id, &yaml)
            .await
            .ok(),
        None => None,
    };
    Some(Shrunk {
        scenario,
        differences,
        oracle: oracle_obs,
        reproduce,
        runs,
        yaml,
        path,
    })
}

/// Scenarios one step simpler in their setup: no series quota, or a raised one; an implicit
/// bucket; one measurement schema fewer; one tag or field column fewer (a schema keeps one
/// field column, as the schema API requires).
fn simpler_setup(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    if let Some(n) = s.max_series {
        let mut c = s.clone();
        c.max_series = None;
        out.push(c);
        if n < 64 {
            let mut c = s.clone();
            c.max_series = Some(n * 2);
            out.push(c);
        }
    }
    if let Some(schemas) = &s.schemas {
        let mut c = s.clone();
        c.schemas = None;
        out.push(c);
        for (i, m) in schemas.iter().enumerate() {
            let mut c = s.clone();
            if let Some(list) = &mut c.schemas {
                list.remove(i);
            }
            out.push(c);
            for j in 0..m.tags.len() {
                let mut c = s.clone();
                if let Some(list) = &mut c.schemas {
                    list[i].tags.remove(j);
                }
                out.push(c);
            }
            if m.fields.len() > 1 {
                for j in 0..m.fields.len() {
                    let mut c = s.clone();
                    if let Some(list) = &mut c.schemas {
                        list[i].fields.remove(j);
                    }
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Scenarios one op or one line smaller than `s`, or with a simpler setup.
fn smaller(s: &Scenario) -> Vec<Scenario> {
    let mut out = simpler_setup(s);
    if s.ops.len() > 1 {
        for i in 0..s.ops.len() {
            let mut c = s.clone();
            c.ops.remove(i);
            out.push(c);
        }
    }
    for (i, op) in s.ops.iter().enumerate() {
        if let Op::Write(b) = op {
            // A plain body, then the v2 endpoint, are simpler to read than gzip or v1.
            if b.gzip {
                let mut c = s.clone();
                if let Op::Write(cb) = &mut c.ops[i] {
                    cb.gzip = false;
                }
                out.push(c);
            }
            if b.api == crate::case::WriteApi::V1 {
                let mut c = s.clone();
                if let Op::Write(cb) = &mut c.ops[i] {
                    cb.api = crate::case::WriteApi::V2;
                }
                out.push(c);
            }
            if b.lines.len() > 1 {
                for j in 0..b.lines.len() {
                    let mut c = s.clone();
                    if let Op::Write(cb) = &mut c.ops[i] {
                        cb.lines.remove(j);
                    }
                    out.push(c);
                }
            }
            for (j, line) in b.lines.iter().enumerate() {
                if let Line::Point(p) = line {
                    if p.tags.is_empty() && p.fields.len() < 2 {
                        continue;
                    }
                    let mut c = s.clone();
                    if let Op::Write(cb) = &mut c.ops[i] {
                        if let Line::Point(cp) = &mut cb.lines[j] {
                            if !cp.tags.is_empty() {
                                cp.tags.pop();
                            } else {
                                cp.fields.pop();
                            }
                        }
                    }
                    out.push(c);
                }
            }
        }
    }
    out
}
