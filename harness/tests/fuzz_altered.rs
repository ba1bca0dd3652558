//! The differential fuzzer against deliberately altered targets: a wrapper around the
//! in-process reference that turns 422 into 204, and one that skips malformed lines and writes
//! the rest (as some third-party servers do). Each is caught, shrunk to a case of a few lines,
//! and the written case is an ordinary case: the reference passes it (strictly, with the
//! snapshot recorded beside it) and the altered target fails it.

use std::sync::Arc;
use std::time::Duration;

use influx_conformance::case::{Corpus, Profile};
use influx_conformance::fault::Fault;
use influx_conformance::generate::{fuzz, FuzzConfig};
use influx_conformance::http::{HttpRequest, HttpResponse};
use influx_conformance::observe::Row;
use influx_conformance::run::{run_case, RunConfig};
use influx_conformance::server::inprocess::InProcess;
use influx_conformance::server::{Context, OpenError, Session, Target, TargetInfo};
use influx_conformance::snapshot::SnapshotMode;
use influx_conformance::verdict::Verdict;

#[derive(Debug, Clone, Copy)]
enum Alteration {
    /// A partial write answers 204 with an empty body.
    HidePartialWrites,
    /// Malformed lines are skipped; the rest is written and the answer is 204.
    SkipBadLines,
    /// Cloud: values refused by an explicit bucket schema are hidden (204 instead of the
    /// `N out of M points rejected` 400).
    HideSchemaRejections,
    /// Cloud: the series cardinality refusal (503) answers 204.
    HideCardinalityRefusal,
}

impl Alteration {
    fn profile(self) -> Profile {
        match self {
            Self::HidePartialWrites | Self::SkipBadLines => Profile::V2,
            Self::HideSchemaRejections | Self::HideCardinalityRefusal => Profile::Cloud,
        }
    }
}

struct Altered {
    inner: InProcess,
    info: TargetInfo,
    alteration: Alteration,
}

impl Altered {
    fn new(alteration: Alteration) -> Self {
        let inner = InProcess::new(vec![alteration.profile()]);
        let mut info = inner.info().clone();
        info.name = format!("altered reference ({alteration:?})");
        info.is_reference = false;
        Self {
            inner,
            info,
            alteration,
        }
    }
}

#[async_trait::async_trait]
impl Target for Altered {
    fn info(&self) -> &TargetInfo {
        &self.info
    }
    fn profiles(&self) -> Vec<Profile> {
        vec![self.alteration.profile()]
    }
    async fn open(
        &self,
        case: &influx_conformance::case::LoadedCase,
        profile: Profile,
    ) -> Result<Box<dyn Session>, OpenError> {
        let inner = self.inner.open(case, profile).await?;
        Ok(Box::new(AlteredSession {
            inner,
            alteration: self.alteration,
        }))
    }
}

struct AlteredSession {
    inner: Box<dyn Session>,
    alteration: Alteration,
}

fn no_content() -> HttpResponse {
    HttpResponse {
        status: 204,
        headers: Default::default(),
        body: Vec::new(),
    }
}

#[async_trait::async_trait]
impl Session for AlteredSession {
    fn context(&self) -> &Context {
        self.inner.context()
    }
    fn now(&self) -> i64 {
        self.inner.now()
    }
    async fn send(&mut self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        let is_write = req.path_and_query.starts_with("/api/v2/write");
        let resp = self.inner.send(req.clone()).await?;
        match self.alteration {
            Alteration::HidePartialWrites if resp.status == 422 => Ok(no_content()),
            Alteration::HideSchemaRejections
                if is_write
                    && resp.status == 400
                    && String::from_utf8_lossy(&resp.body).contains(" points rejected")
                    && !String::from_utf8_lossy(&resp.body).contains("first error") =>
            {
                Ok(no_content())
            }
            Alteration::HideCardinalityRefusal
                if is_write
                    && resp.status == 503
                    && String::from_utf8_lossy(&resp.body).contains("limited_cardinality") =>
            {
                Ok(no_content())
            }
            Alteration::SkipBadLines if is_write && resp.status == 400 => {
                let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
                let message = v["message"].as_str().unwrap_or_default();
                let bad: Vec<&str> = message
                    .split('\n')
                    .filter_map(|m| m.strip_prefix("unable to parse '"))
                    .filter_map(|m| m.rsplit_once("': ").map(|(line, _)| line))
                    .collect();
                if bad.is_empty() {
                    return Ok(resp);
                }
                let body = String::from_utf8_lossy(&req.body).into_owned();
                let kept: Vec<&str> = body
                    .split('\n')
                    .filter(|l| !bad.contains(&l.trim_start()))
                    .collect();
                let retry = HttpRequest {
                    body: kept.join("\n").into_bytes(),
                    ..req
                };
                let again = self.inner.send(retry).await?;
                Ok(if again.status == 422 || again.status == 204 {
                    no_content()
                } else {
                    again
                })
            }
            _ => Ok(resp),
        }
    }
    async fn landed(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        self.inner.landed(bucket).await
    }
    async fn rejected_points(&mut self, bucket: &str) -> Result<Option<Vec<Row>>, Fault> {
        self.inner.rejected_points(bucket).await
    }
    async fn wait(&mut self, d: Duration) {
        self.inner.wait(d).await
    }
    async fn settle(&mut self, bucket: &str, timeout: Duration) -> Result<(), Fault> {
        self.inner.settle(bucket, timeout).await
    }
    fn pin_now(&mut self, ns: i64) {
        self.inner.pin_now(ns)
    }
    fn step_started(&mut self) {
        self.inner.step_started()
    }
    fn step_window(&self) -> (i64, i64) {
        self.inner.step_window()
    }
    async fn close(self: Box<Self>) {
        self.inner.close().await
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "influx-conformance-fuzz-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the fuzzer against `alteration`; the first difference must shrink to at most
/// `max_ops` requests (steps before the read-back) and `max_lines` lines, and its case must
/// contain each of `yaml_has`.
async fn caught_and_shrunk(
    alteration: Alteration,
    seed: u64,
    max_ops: usize,
    max_lines: usize,
    yaml_has: &[&str],
) {
    let profile = alteration.profile();
    let dir = scratch(&format!("{alteration:?}").to_lowercase());
    let cases = dir.join("cases");
    let snapshots = dir.join("snapshots");
    let target: Arc<dyn Target> = Arc::new(Altered::new(alteration));
    let mut config = FuzzConfig::new(profile);
    config.scenarios = 300;
    config.seed = seed;
    config.shrink = 1;
    config.jobs = 1;
    config.regressions = Some(cases.join("regressions"));
    config.snapshots = Some(snapshots.clone());
    let report = fuzz(target.clone(), &config, Arc::new(|_, _| {})).await;
    assert!(!report.found.is_empty(), "{alteration:?} was not caught");
    let shrunk = report.found[0]
        .shrunk
        .as_ref()
        .expect("the first difference is shrunk");
    println!(
        "{alteration:?}: {} of {} scenarios differ; the first shrunk in {} runs to:\n{}",
        report.found.len(),
        report.run,
        shrunk.runs,
        shrunk.yaml
    );
    assert!(
        shrunk.scenario.line_count() <= max_lines && shrunk.scenario.ops.len() <= max_ops,
        "not shrunk enough:\n{}",
        shrunk.yaml
    );
    for want in yaml_has {
        assert!(
            shrunk.yaml.contains(want),
            "no {want:?} in:\n{}",
            shrunk.yaml
        );
    }
    // An ordinary case: the corpus loader reads it, the reference passes it strictly (the
    // snapshot was recorded next to it), the altered target fails it.
    let corpus = Corpus::load(&cases).expect("the regression case loads");
    assert_eq!(corpus.cases.len(), 1);
    let case = &corpus.cases[0];
    let run = RunConfig {
        jobs: 1,
        snapshots: Some(snapshots),
        snapshot_mode: SnapshotMode::CompareOnly,
        ..RunConfig::default()
    };
    let reference = InProcess::new(vec![profile]);
    let r = run_case(case, &reference, profile, &run).await;
    assert_eq!(r.verdict, Verdict::Pass, "{}: {}", r.name, r.reason);
    let r = run_case(case, target.as_ref(), profile, &run).await;
    assert_eq!(r.verdict, Verdict::Fail, "{}: {}", r.name, r.reason);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_hiding_partial_writes_is_caught_and_shrunk() {
    caught_and_shrunk(Alteration::HidePartialWrites, 11, 2, 3, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_skipping_bad_lines_is_caught_and_shrunk() {
    caught_and_shrunk(Alteration::SkipBadLines, 12, 2, 3, &[]).await;
}

/// The shrunk case keeps the explicit bucket (shrinking may drop every schema), and replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_hiding_schema_rejections_is_caught_and_shrunk() {
    caught_and_shrunk(
        Alteration::HideSchemaRejections,
        14,
        1,
        2,
        &["schema: explicit"],
    )
    .await;
}

/// The shrunk case keeps the series quota: a write, settling, a write refused with 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_hiding_the_cardinality_refusal_is_caught_and_shrunk() {
    caught_and_shrunk(
        Alteration::HideCardinalityRefusal,
        15,
        3,
        2,
        &["max_series:", "settle: {}"],
    )
    .await;
}

/// The reference against itself: no difference (determinism of the oracle and the runner).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_does_not_differ_from_itself() {
    for profile in [Profile::V2, Profile::Cloud] {
        let target: Arc<dyn Target> = Arc::new(InProcess::new(vec![profile]));
        let mut config = FuzzConfig::new(profile);
        config.scenarios = 150;
        config.seed = 13;
        let report = fuzz(target, &config, Arc::new(|_, _| {})).await;
        assert_eq!(report.run, 150);
        assert!(
            report.found.is_empty() && report.oracle_errors.is_empty(),
            "{profile:?}: {:?} {:?}",
            report.found.first(),
            report.oracle_errors.first()
        );
    }
}

/// The same seed gives the same report: scenarios run two at a time, reported by index, the
/// same differences and the same shrunk case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_gives_the_same_report_every_run() {
    let run = || async {
        let target: Arc<dyn Target> = Arc::new(Altered::new(Alteration::SkipBadLines));
        let mut config = FuzzConfig::new(Profile::V2);
        config.scenarios = 200;
        config.seed = 21;
        config.shrink = 1;
        config.jobs = 2;
        fuzz(target, &config, Arc::new(|_, _| {})).await
    };
    let (a, b) = (run().await, run().await);
    assert!(!a.found.is_empty());
    assert_eq!((a.run, a.skipped, a.lines), (b.run, b.skipped, b.lines));
    let summary = |r: &influx_conformance::generate::FuzzReport| {
        r.found
            .iter()
            .map(|f| {
                format!(
                    "{} {:?} {:?}",
                    f.index,
                    f.differences,
                    f.shrunk.as_ref().map(|s| &s.yaml)
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&a), summary(&b));
}
