//! Executes cases against targets: builds requests from steps, observes, judges. Parallel,
//! bounded in time at every level, and a misbehaving case never stops the run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::case::{Level, LoadedCase, Profile, Step, WriteApi};
use crate::compare::{self, Mismatch, Verdict};
use crate::observe::{Observation, Redactions, Row, StepObservation, CHOSEN_HEADERS};
use crate::target::url::WriteAdapter;
use crate::target::{Context, Fault, FaultKind, HttpRequest, OpenError, Session, Target};

/// Percent-encodes a query-string component (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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
    pub profile: Profile,
    pub target: String,
    pub verdict: Verdict,
    /// The verdict before the target's known deviations were applied.
    pub raw_verdict: Verdict,
    /// One sentence: why this verdict.
    pub reason: String,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<crate::targets::Deviation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    #[serde(skip)]
    pub observation: Option<Observation>,
    pub duration_ms: u64,
}

/// A selected (case, target, profile) triple.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub case: usize,
    pub target: usize,
    pub profile: Profile,
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Globs over case names (`v2/gzip.yaml::*`) or ids; empty selects all.
    pub ids: Vec<String>,
    pub levels: Vec<Level>,
    pub profiles: Vec<Profile>,
    /// `hash:M/N`: the M-th of N stable partitions (1-based).
    pub partition: Option<(u64, u64)>,
}

/// FNV-1a, stable across runs and platforms (partitioning must not move cases around).
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn parse_partition(s: &str) -> Result<(u64, u64), crate::Error> {
    let bad = || {
        crate::Error::Config(format!(
            "partition {s:?}: expected hash:M/N with 1 <= M <= N"
        ))
    };
    let rest = s.strip_prefix("hash:").ok_or_else(bad)?;
    let (m, n) = rest.split_once('/').ok_or_else(bad)?;
    let m: u64 = m.parse().map_err(|_| bad())?;
    let n: u64 = n.parse().map_err(|_| bad())?;
    if m == 0 || n == 0 || m > n {
        return Err(bad());
    }
    Ok((m, n))
}

impl Selection {
    pub fn jobs(
        &self,
        cases: &[LoadedCase],
        targets: &[Arc<dyn Target>],
    ) -> Result<Vec<Job>, crate::Error> {
        let mut globs = Vec::new();
        for g in &self.ids {
            let glob = globset::Glob::new(g)
                .map_err(|e| crate::Error::Config(format!("id glob {g:?}: {e}")))?;
            globs.push(glob.compile_matcher());
        }
        let mut out = Vec::new();
        for (ci, c) in cases.iter().enumerate() {
            if !globs.is_empty()
                && !globs
                    .iter()
                    .any(|g| g.is_match(c.name()) || g.is_match(&c.case.id))
            {
                continue;
            }
            if !self.levels.is_empty() && !self.levels.contains(&c.level) {
                continue;
            }
            for (ti, t) in targets.iter().enumerate() {
                for p in c.profiles.list() {
                    if !t.profiles().contains(p) {
                        continue;
                    }
                    if !self.profiles.is_empty() && !self.profiles.contains(p) {
                        continue;
                    }
                    if let Some((m, n)) = self.partition {
                        if fnv(&format!("{}@{}", c.name(), p.as_str())) % n != m - 1 {
                            continue;
                        }
                    }
                    out.push(Job {
                        case: ci,
                        target: ti,
                        profile: *p,
                    });
                }
            }
        }
        Ok(out)
    }
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
    let mut result = CaseResult {
        name: case.name(),
        file: case.file.clone(),
        line: case.line,
        id: case.case.id.clone(),
        level: case.level,
        profile,
        target: info.name.clone(),
        verdict: Verdict::Error,
        raw_verdict: Verdict::Error,
        reason: String::new(),
        mismatches: Vec::new(),
        notes: Vec::new(),
        fault: None,
        deviation: None,
        reproduce: None,
        observation: None,
        duration_ms: 0,
    };
    let outcome =
        tokio::time::timeout(config.case_timeout, execute(case, target, profile, config)).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(_) => Err(Exec::Fault(
            Fault::new(
                FaultKind::Timeout,
                format!(
                    "the case did not finish within {}s (raise --case-timeout if the server is slow)",
                    config.case_timeout.as_secs_f64()
                ),
            ),
            None,
        )),
    };
    match outcome {
        Err(Exec::Skip(reason)) => {
            result.verdict = Verdict::Skipped;
            result.raw_verdict = Verdict::Skipped;
            result.reason = reason;
        }
        Err(Exec::Fault(f, repro)) => {
            result.fault = Some(f.kind);
            result.reason = format!("target fault ({}): {}", serde_kind(f.kind), f.reason);
            result.reproduce = repro;
        }
        Ok((obs, repros)) => {
            let j = compare::judge(case, &obs);
            let mut verdict = j.verdict;
            result.mismatches = j.mismatches;
            result.notes = j.notes;
            result.reason = match verdict {
                Verdict::Fail => {
                    let m = &result.mismatches[0];
                    format!(
                        "step {}: {} differs (expected {}, got {})",
                        m.step,
                        m.what,
                        one_line(&m.expected),
                        one_line(&m.actual)
                    )
                }
                _ => "the expectations hold".into(),
            };
            if verdict == Verdict::Pass {
                if let Some(dir) = &config.snapshots {
                    verdict = snapshot(
                        case,
                        profile,
                        &obs,
                        dir,
                        info.is_reference,
                        config.snapshot_mode,
                        &mut result,
                    );
                }
            }
            verdict = compare::soften(verdict, case.level, info.is_reference);
            if verdict == Verdict::Info && result.reason.is_empty() {
                result.reason = "an informational case".into();
            }
            result.reproduce = j
                .step
                .or(if verdict == Verdict::Fail {
                    Some(1)
                } else {
                    None
                })
                .and_then(|s| repros.get(s - 1).cloned().flatten());
            result.raw_verdict = verdict;
            result.verdict = verdict;
            result.observation = Some(obs);
        }
    }
    if let Some(d) = info.deviations.iter().find(|d| d.matches(&result.name)) {
        let v = match result.verdict {
            Verdict::Fail => Some(Verdict::Xfail),
            Verdict::Pass | Verdict::PassNonStrict => Some(Verdict::Xpass),
            Verdict::Error if d.fault.is_some() && d.fault == result.fault => Some(Verdict::Xfail),
            _ => None,
        };
        if let Some(v) = v {
            result.verdict = v;
            result.deviation = Some(d.clone());
            result
                .notes
                .push(format!("known deviation ({:?}): {}", d.kind, d.note));
            if v == Verdict::Xpass {
                result.reason = format!(
                    "the case passes although the target lists it as a known deviation ({}); remove the deviation",
                    d.note
                );
            }
        }
    }
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

fn serde_kind(k: FaultKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn one_line(s: &str) -> String {
    let s = s.replace('\n', "\\n");
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

#[allow(clippy::too_many_arguments)]
fn snapshot(
    case: &LoadedCase,
    profile: Profile,
    obs: &Observation,
    dir: &std::path::Path,
    is_reference: bool,
    mode: SnapshotMode,
    result: &mut CaseResult,
) -> Verdict {
    let path = compare::snapshot_path(dir, case, profile);
    let actual = compare::snapshot_text(obs);
    let expected = compare::read_snapshot(&path);
    if expected.as_deref() == Some(actual.as_str()) {
        let _ = std::fs::remove_file(path.with_extension("snap.new"));
        return Verdict::Pass;
    }
    if is_reference {
        match mode {
            SnapshotMode::Bless => {
                if let Err(e) = compare::write_snapshot(&path, case, &actual) {
                    result
                        .notes
                        .push(format!("cannot write {}: {e}", path.display()));
                    return Verdict::Fail;
                }
                result.notes.push(format!("blessed {}", path.display()));
                return Verdict::Pass;
            }
            SnapshotMode::Compare => {
                let _ = compare::write_snapshot(&path.with_extension("snap.new"), case, &actual);
            }
            SnapshotMode::CompareOnly => {}
        }
    }
    let what = if expected.is_none() {
        "snapshot missing".to_string()
    } else {
        "snapshot".to_string()
    };
    let m = Mismatch {
        step: 0,
        what: what.clone(),
        expected: expected.clone().unwrap_or_default(),
        actual,
    };
    if is_reference {
        result.reason = match expected {
            None => format!(
                "no snapshot at {}; run `influx-conformance bless` to record it",
                path.display()
            ),
            Some(_) => format!(
                "the reference's observation differs from {} (a regression, or run `influx-conformance bless` if intended)",
                path.display()
            ),
        };
        result.mismatches.push(m);
        Verdict::Fail
    } else {
        if expected.is_some() {
            result.notes.push(format!(
                "expectations hold; the observation differs from the reference's snapshot:\n{}",
                m.diff()
            ));
            result.reason = "the expectations hold, not byte for byte like the reference".into();
            Verdict::PassNonStrict
        } else {
            Verdict::Pass
        }
    }
}

pub(crate) enum Exec {
    Skip(String),
    Fault(Fault, Option<String>),
}

type Executed = (Observation, Vec<Option<String>>);

async fn execute(
    case: &LoadedCase,
    target: &dyn Target,
    profile: Profile,
    config: &RunConfig,
) -> Result<Executed, Exec> {
    let mut session = match target.open(case, profile).await {
        Ok(s) => s,
        Err(OpenError::Skip(r)) => return Err(Exec::Skip(r)),
        Err(OpenError::Fault(f)) => return Err(Exec::Fault(f, None)),
    };
    let r = steps(case, target, profile, config, session.as_mut()).await;
    session.close().await;
    r
}

async fn steps(
    case: &LoadedCase,
    target: &dyn Target,
    profile: Profile,
    config: &RunConfig,
    session: &mut dyn Session,
) -> Result<Executed, Exec> {
    let mut obs = Observation::default();
    let mut repros = Vec::new();
    let dir = case
        .path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    for step in &case.case.steps {
        session.step_started();
        let now = session.now();
        let opts = StepOptions {
            now,
            judge_unavailable: true,
            reproduce: true,
        };
        let (o, repro) = run_step(step, &dir, target, profile, config, session, opts).await?;
        obs.steps.push(o);
        repros.push(repro);
    }
    Ok((obs, repros))
}

/// How one step runs (the generator runs a target and the oracle in lock-step).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepOptions {
    /// The server time used for body placeholders (`{now_s}`, `{now_s-60}`).
    pub now: i64,
    /// A 429/502/503/504 the step does not expect is a target fault (`false`: observed as is).
    pub judge_unavailable: bool,
    /// Build the step's "reproduce with: curl" line (the generator skips it until it has a
    /// difference to report).
    pub reproduce: bool,
}

/// One step: build the request, send it, observe (status, chosen headers, body, read-back).
/// The caller has called `session.step_started()`.
pub(crate) async fn run_step(
    step: &Step,
    dir: &std::path::Path,
    target: &dyn Target,
    profile: Profile,
    config: &RunConfig,
    session: &mut dyn Session,
    opts: StepOptions,
) -> Result<(StepObservation, Option<String>), Exec> {
    let info = target.info();
    let mut o = StepObservation::default();
    let mut repro = None;
    let bucket_for_read;
    if let Some(req) = build_request(step, session.context(), info.write, dir, opts.now)
        .map_err(|f| Exec::Fault(f, None))?
    {
        let ctx = session.context().clone();
        if opts.reproduce {
            repro = Some(curl(&req, &info.base_url, &ctx, info.is_reference));
            o.curl = Some(curl(&req, &info.base_url, &ctx, false));
        }
        o.request = format!(
            "{} {}",
            req.method,
            redact_request_line(&req.path_and_query, &ctx)
        );
        let resp = tokio::time::timeout(config.request_timeout, session.send(req))
            .await
            .map_err(|_| {
                Exec::Fault(
                    Fault::new(
                        FaultKind::Timeout,
                        format!("no answer within {}s", config.request_timeout.as_secs_f64()),
                    ),
                    repro.clone(),
                )
            })?
            .map_err(|f| Exec::Fault(f, repro.clone()))?;
        let mut window_redactions = ctx.redactions.clone();
        window_redactions.now = Some(session.step_window());
        // A server that is unavailable has not told us anything about conformance.
        if opts.judge_unavailable
            && matches!(resp.status, 429 | 502 | 503 | 504)
            && !expects_status(step, resp.status)
        {
            let retry = resp
                .headers
                .get("retry-after")
                .map(|r| format!(" with Retry-After: {r}"))
                .unwrap_or_default();
            return Err(Exec::Fault(
                Fault::new(
                    FaultKind::Unavailable,
                    format!(
                        "the server answered {}{retry}: it is unavailable or overloaded, not judged; retry later or lower --jobs",
                        resp.status
                    ),
                ),
                repro,
            ));
        }
        o.status = Some(resp.status);
        // The chosen headers, and any other a step's expectations name (`etag`, ...).
        let named = step
            .expect
            .iter()
            .chain(step.also_accept.iter().map(|a| &a.expect))
            .flat_map(|e| e.headers.keys().map(|k| k.to_ascii_lowercase()));
        let wanted: std::collections::BTreeSet<String> = CHOSEN_HEADERS
            .iter()
            .map(|h| h.to_string())
            .chain(named)
            .collect();
        for h in &wanted {
            if let Some(v) = resp.headers.get(h) {
                o.headers.insert(h.clone(), window_redactions.text(v));
            }
        }
        if !resp.body.is_empty() {
            let text = window_redactions.text(&String::from_utf8_lossy(&resp.body));
            o.json = serde_json::from_str(&text).ok();
            o.body = Some(text);
        }
        bucket_for_read = step_bucket(step, session.context());
    } else if let Some(w) = &step.wait {
        let d = influx_reference::config::parse_duration(w).unwrap_or(0);
        o.request = format!("wait {w}");
        session.wait(Duration::from_nanos(d.max(0) as u64)).await;
        return Ok((o, None));
    } else if step.settle.is_some() {
        let b = session.context().default_bucket.clone();
        o.request = "settle".into();
        session
            .settle(&b, config.settle_timeout)
            .await
            .map_err(|f| Exec::Fault(f, None))?;
        return Ok((o, None));
    } else if let Some(r) = &step.rejected_points {
        let b = r
            .bucket
            .clone()
            .unwrap_or_else(|| session.context().default_bucket.clone());
        o.request = format!("rejected_points {b}");
        if profile == Profile::Cloud {
            session
                .settle(&b, config.settle_timeout)
                .await
                .map_err(|f| Exec::Fault(f, None))?;
        }
        let rows = session
            .rejected_points(&b)
            .await
            .map_err(|f| Exec::Fault(f, None))?;
        let red = redactions_for(session);
        o.rejected_points = rows.map(|r| render(r, &red));
        if o.rejected_points.is_none() {
            o.note = Some("this target has no rejected_points to read".into());
        }
        return Ok((o, None));
    } else {
        let b = step
            .landed
            .as_ref()
            .and_then(|l| l.bucket.clone())
            .unwrap_or_else(|| session.context().default_bucket.clone());
        o.request = format!("landed {b}");
        bucket_for_read = Some(b);
    }
    let wants_landed = step.landed.is_some()
        || step.expect.as_ref().is_some_and(|e| e.landed.is_some())
        || step.also_accept.iter().any(|a| a.expect.landed.is_some());
    if let (true, Some(b)) = (wants_landed, bucket_for_read) {
        if profile == Profile::Cloud {
            session
                .settle(&b, config.settle_timeout)
                .await
                .map_err(|f| Exec::Fault(f, repro.clone()))?;
        }
        let rows = session
            .landed(&b)
            .await
            .map_err(|f| Exec::Fault(f, repro.clone()))?;
        let red = redactions_for(session);
        o.landed = rows.map(|r| render(r, &red));
        if o.landed.is_none() {
            o.note = Some("this target has no read-back adapter; landed rows not checked".into());
        }
    }
    Ok((o, repro))
}

/// The request line with named redactions, and the org's name as `org=<org>` (org names are
/// short words, replaced only where they are a parameter's whole value).
fn redact_request_line(path_and_query: &str, ctx: &Context) -> String {
    let text = ctx.redactions.text(path_and_query);
    let Some((path, query)) = text.split_once('?') else {
        return text;
    };
    let org = format!("org={}", encode(&ctx.org));
    let query: Vec<&str> = query
        .split('&')
        .map(|kv| if kv == org { "org=<org>" } else { kv })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn redactions_for(session: &dyn Session) -> Redactions {
    let mut r = session.context().redactions.clone();
    r.now = Some(session.step_window());
    r
}

fn render(mut rows: Vec<Row>, r: &Redactions) -> Vec<String> {
    crate::observe::sort_rows(&mut rows);
    rows.iter().map(|row| row.render(r)).collect()
}

fn expects_status(step: &Step, status: u16) -> bool {
    step.expect.as_ref().and_then(|e| e.status) == Some(status)
        || step
            .also_accept
            .iter()
            .any(|a| a.expect.status == Some(status))
}

fn step_bucket(step: &Step, ctx: &Context) -> Option<String> {
    let b = step
        .write
        .as_ref()
        .and_then(|w| w.bucket.clone())
        .or_else(|| step.query.as_ref().and_then(|q| q.bucket.clone()))
        .or_else(|| step.delete.as_ref().and_then(|d| d.bucket.clone()))
        .or_else(|| step.request.as_ref().and_then(|r| r.bucket.clone()));
    Some(b.unwrap_or_else(|| ctx.default_bucket.clone()))
}

fn template(s: &str, ctx: &Context, bucket: &str, token: &str, now: i64) -> String {
    let b = ctx.bucket(Some(bucket));
    let mut s = s.to_string();
    for (name, id) in &ctx.schemas {
        s = s.replace(&format!("{{schema_id:{name}}}"), id);
    }
    let s = s
        .replace("{org}", &ctx.org)
        .replace("{org_id}", &ctx.org_id)
        .replace("{bucket}", b.map(|b| b.name.as_str()).unwrap_or(bucket))
        .replace("{bucket_id}", b.map(|b| b.id.as_str()).unwrap_or(""))
        .replace("{token}", token)
        .replace("{now_ns}", &now.to_string())
        .replace("{now_us}", &(now / 1_000).to_string())
        .replace("{now_ms}", &(now / 1_000_000).to_string())
        .replace("{now_s}", &(now / 1_000_000_000).to_string());
    now_offsets(&s, now)
}

/// `{now_s-3600}`, `{now_ms+5}`, ...: the server's time in that unit plus an offset in the same
/// unit (generated cases state timestamps relative to "now", so they replay on a wall clock).
fn now_offsets(s: &str, now: i64) -> String {
    if !s.contains("{now_") {
        return s.to_string();
    }
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| regex::Regex::new(r"\{now_(ns|us|ms|s)([+-][0-9]{1,19})\}").ok())
        .as_ref()
    else {
        return s.to_string();
    };
    re.replace_all(s, |c: &regex::Captures<'_>| {
        let unit = match &c[1] {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            _ => 1_000_000_000,
        };
        match c[2].parse::<i64>() {
            Ok(off) => (now / unit).saturating_add(off).to_string(),
            Err(_) => c[0].to_string(),
        }
    })
    .into_owned()
}

fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn apply_overrides(
    params: &mut Vec<(String, String)>,
    overrides: &std::collections::BTreeMap<String, Option<String>>,
    t: &dyn Fn(&str) -> String,
) {
    for (k, v) in overrides {
        match v {
            None => params.retain(|(pk, _)| pk != k),
            Some(v) => {
                let v = t(v);
                match params.iter_mut().find(|(pk, _)| pk == k) {
                    Some(slot) => slot.1 = v,
                    None => params.push((k.clone(), v)),
                }
            }
        }
    }
}

/// The HTTP request of a step (`None` for steps that are not requests).
pub fn build_request(
    step: &Step,
    ctx: &Context,
    adapter: WriteAdapter,
    case_dir: &std::path::Path,
    now: i64,
) -> Result<Option<HttpRequest>, Fault> {
    let token_of = |name: &Option<String>| -> Option<String> {
        match name.as_deref().unwrap_or("operator") {
            "none" => None,
            n => ctx.tokens.get(n).cloned(),
        }
    };
    if let Some(w) = &step.write {
        let logical = w
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let bucket = ctx
            .bucket(Some(&logical))
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let token = token_of(&w.token);
        // `{token}` in params or headers is the step's token, or the operator's when the step
        // sends none (so a case can move the credential elsewhere, e.g. `p={token}`).
        let tok = token
            .clone()
            .or_else(|| ctx.tokens.get("operator").cloned())
            .unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let v1 = w.api == WriteApi::V1 || adapter == WriteAdapter::V1;
        let mut params = if v1 {
            vec![("db".to_string(), bucket.clone())]
        } else {
            vec![
                ("org".to_string(), ctx.org.clone()),
                ("bucket".to_string(), bucket.clone()),
            ]
        };
        let mut overrides = w.params.clone();
        if v1 && w.api == WriteApi::V2 {
            // A v2 step through the v1 adapter: org and bucket have no v1 meaning.
            overrides.remove("org");
            if let Some(b) = overrides.remove("bucket") {
                overrides.insert("db".into(), b);
            }
        }
        apply_overrides(&mut params, &overrides, &t);
        let path = if v1 { "/write" } else { "/api/v2/write" };
        let qs = query_string(&params);
        let mut body = if let Some(b) = &w.body {
            t(b).into_bytes()
        } else if let Some(f) = &w.body_file {
            let p = case_dir.join(f);
            std::fs::read(&p).map_err(|e| {
                Fault::new(
                    FaultKind::Setup,
                    format!("cannot read body_file {}: {e}", p.display()),
                )
            })?
        } else if let Some(h) = &w.body_hex {
            crate::case::decode_hex(h).unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut headers = Vec::new();
        if let Some(a) = &w.authorization {
            headers.push(("Authorization".to_string(), t(a)));
        } else if let Some(tok) = &token {
            headers.push(("Authorization".to_string(), format!("Token {tok}")));
        }
        if w.gzip {
            body = gzip(&body);
            if !w
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-encoding"))
            {
                headers.push(("Content-Encoding".into(), "gzip".into()));
            }
        }
        for (k, v) in &w.headers {
            headers.push((k.clone(), t(v)));
        }
        return Ok(Some(HttpRequest {
            method: w.method.clone().unwrap_or_else(|| "POST".into()),
            path_and_query: if qs.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{qs}")
            },
            headers,
            body,
        }));
    }
    if let Some(q) = &step.query {
        let logical = q
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let token = token_of(&q.token);
        let tok = token.clone().unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let mut params = vec![("org".to_string(), ctx.org.clone())];
        apply_overrides(&mut params, &q.params, &t);
        let body = match (&q.body, &q.flux) {
            (Some(b), _) => t(b),
            (None, flux) => serde_json::json!({
                "query": t(flux.as_deref().unwrap_or_default()),
                "type": "flux",
                "dialect": {"annotations": ["datatype", "group", "default"]},
            })
            .to_string(),
        };
        let mut headers = Vec::new();
        if !q
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        if let Some(tok) = &token {
            headers.push(("Authorization".into(), format!("Token {tok}")));
        }
        for (k, v) in &q.headers {
            headers.push((k.clone(), t(v)));
        }
        return Ok(Some(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v2/query?{}", query_string(&params)),
            headers,
            body: body.into_bytes(),
        }));
    }
    if let Some(d) = &step.delete {
        let logical = d
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let bucket = ctx
            .bucket(Some(&logical))
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let token = token_of(&d.token);
        let tok = token.clone().unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let mut params = vec![
            ("org".to_string(), ctx.org.clone()),
            ("bucket".to_string(), bucket),
        ];
        apply_overrides(&mut params, &d.params, &t);
        let body = match &d.body {
            Some(b) => t(b),
            None => {
                let mut body = serde_json::Map::new();
                for (k, v) in [
                    ("start", &d.start),
                    ("stop", &d.stop),
                    ("predicate", &d.predicate),
                ] {
                    if let Some(v) = v {
                        body.insert(k.into(), serde_json::json!(v));
                    }
                }
                serde_json::Value::Object(body).to_string()
            }
        };
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        if let Some(tok) = &token {
            headers.push(("Authorization".into(), format!("Token {tok}")));
        }
        return Ok(Some(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v2/delete?{}", query_string(&params)),
            headers,
            body: body.into_bytes(),
        }));
    }
    if let Some(r) = &step.request {
        let logical = r
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let token = token_of(&r.token);
        let tok = token
            .clone()
            .or_else(|| ctx.tokens.get("operator").cloned())
            .unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let body = r.body.as_deref().map(t).unwrap_or_default();
        let mut headers = Vec::new();
        if let Some(tok) = &token {
            headers.push(("Authorization".into(), format!("Token {tok}")));
        }
        if r.body.is_some()
            && !r
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        for (k, v) in &r.headers {
            headers.push((k.clone(), t(v)));
        }
        let method = r
            .method
            .clone()
            .unwrap_or_else(|| if r.body.is_some() { "POST" } else { "GET" }.to_string());
        return Ok(Some(HttpRequest {
            method,
            path_and_query: t(&r.path),
            headers,
            body: body.into_bytes(),
        }));
    }
    Ok(None)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// `curl ...` that sends the same request; tokens appear as `$INFLUX_TOKEN`.
pub fn curl(req: &HttpRequest, base: &str, ctx: &Context, is_reference: bool) -> String {
    let shell = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let hide = |s: &str| {
        let mut out = s.to_string();
        for t in ctx.redactions.tokens() {
            out = out.replace(t, "$INFLUX_TOKEN");
        }
        out
    };
    let mut cmd = format!(
        "curl -i -X{} {}",
        req.method,
        shell(&format!("{base}{}", hide(&req.path_and_query)))
    );
    for (k, v) in &req.headers {
        let v = hide(v);
        let h = format!("{k}: {v}");
        if v.contains("$INFLUX_TOKEN") {
            cmd.push_str(&format!(" -H \"{}\"", h.replace('"', "\\\"")));
        } else {
            cmd.push_str(&format!(" -H {}", shell(&h)));
        }
    }
    if !req.body.is_empty() {
        match std::str::from_utf8(&req.body) {
            Ok(text)
                if !req
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-encoding")) =>
            {
                cmd.push_str(&format!(" --data-binary {}", ansi_c(text)));
            }
            _ => {
                let hex: String = req.body.iter().map(|b| format!("{b:02x}")).collect();
                cmd = format!("printf '%s' {hex} | xxd -r -p | {cmd} --data-binary @-");
            }
        }
    }
    if is_reference && ctx.tokens.is_empty() {
        // An `onboarded: false` case: the server must start with no tenant.
        cmd.push_str("    # against a fresh `influx-reference serve --no-setup`");
    } else if is_reference {
        cmd.push_str("    # with INFLUX_TOKEN=my-token against `influx-reference serve` (the case's first bucket is my-bucket)");
    }
    cmd
}

/// Bash `$'...'` quoting, so newlines and control bytes survive copy and paste.
fn ansi_c(s: &str) -> String {
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
