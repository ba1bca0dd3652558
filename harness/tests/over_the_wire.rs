//! In-process and over-the-wire agree: the corpus run against the in-process reference and
//! against the same reference listening on an ephemeral port (per-case buckets and tokens over
//! the tenancy API, read-back through Flux) gives the same verdicts, and since the redacted
//! observations are byte-identical, every over-the-wire case is a strict `pass` against the
//! reference's snapshots, or `xfail` for a deviation the reference records of itself
//! (`targets/reference.yaml`), on both sides alike. (A server without the tenancy API is
//! covered in `misbehaving.rs`.)

use std::sync::Arc;
use std::time::Duration;

use influx_conformance::case::{Corpus, Profile};
use influx_conformance::run::{run_jobs, RunConfig};
use influx_conformance::select::Selection;
use influx_conformance::server::inprocess::InProcess;
use influx_conformance::server::url::{UrlConfig, UrlTarget};
use influx_conformance::server::Target;
use influx_conformance::snapshot::SnapshotMode;
use influx_conformance::targets::TargetFile;
use influx_conformance::verdict::Verdict;
use influx_reference::{Reference, ServerConfig};

/// The tests here each run a corpus over loopback against a debug build; run at once on two
/// cores, one's 2 MB write outlasted its 5 s request timeout. They take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_and_over_the_wire_agree() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let corpus = Corpus::load(&influx_conformance::default_cases_dir()).expect("corpus loads");
    let reference = Reference::new(ServerConfig::default()).expect("reference starts");
    let handle = reference
        .listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listens");
    let mut url_config = UrlConfig::new(&handle.url(), Profile::V2);
    url_config.token = "my-token".into();
    url_config.org = "my-org".into();
    url_config.request_timeout = Duration::from_secs(5);
    // The reference's own known deviations hold for it however it is reached.
    let deviations = TargetFile::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/reference.yaml"),
    )
    .expect("targets/reference.yaml loads")
    .deviations;
    let over_the_wire: Arc<dyn Target> = Arc::new(
        UrlTarget::new(url_config)
            .expect("client")
            .with_deviations(deviations.clone()),
    );
    let in_process: Arc<dyn Target> =
        Arc::new(InProcess::new(vec![Profile::V2]).with_deviations(deviations));
    let config = RunConfig {
        jobs: 2,
        snapshots: Some(influx_conformance::default_snapshots_dir()),
        snapshot_mode: SnapshotMode::CompareOnly,
        ..RunConfig::default()
    };
    let selection = Selection {
        profiles: vec![Profile::V2],
        ..Selection::default()
    };
    let cases = Arc::new(corpus.cases.clone());
    let run = |target: Arc<dyn Target>| {
        let jobs = selection
            .jobs(&cases, std::slice::from_ref(&target))
            .expect("selection");
        run_jobs(
            cases.clone(),
            vec![target],
            jobs,
            config.clone(),
            Arc::new(|_| {}),
        )
    };
    let mut local = run(in_process).await;
    let mut remote = run(over_the_wire).await;
    local.sort_by(|a, b| a.name.cmp(&b.name));
    remote.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(local.len(), remote.len());
    assert!(!remote.is_empty());
    // The snapshot is the reference's own bytes; over the wire the same bytes must come back,
    // so even strictness agrees.
    let differences: Vec<String> = local
        .iter()
        .zip(&remote)
        // A case that configures the server (quotas, faults, storage version) is skipped over
        // the wire by design: a URL target cannot set those.
        .filter(|(l, r)| l.verdict != r.verdict && r.verdict != Verdict::Skipped)
        .map(|(l, r)| {
            format!(
                "{}: in-process {} ({}) / over the wire {} ({})",
                l.name,
                l.verdict.as_str(),
                l.reason,
                r.verdict.as_str(),
                r.reason
            )
        })
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    let not_passed: Vec<String> = remote
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skipped | Verdict::Xfail))
        .map(|r| format!("{}: {} ({})", r.name, r.verdict.as_str(), r.reason))
        .collect();
    assert!(not_passed.is_empty(), "{}", not_passed.join("\n"));
    handle.shutdown().await;
}

/// The v3 profile the same way: the corpus in-process and against `serve --flavor v3` on an
/// ephemeral port (a database per case, written with `/api/v3/write_lp`, read back with SQL).
/// A case that starts its server its own way (`setup.server`: `--without-auth`,
/// `--disable-authz`, `--max-http-request-size`, or a fresh server for the limits) gets a served
/// reference of its own, started with those flags, so every v3 case runs over the socket too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_in_process_and_over_the_wire_agree() {
    let _turn = ONE_AT_A_TIME.lock().await;
    use influx_conformance::case::ServerSpec;
    use influx_conformance::server::adapter::{Isolation, ReadAdapter, WriteAdapter};
    use influx_conformance::server::inprocess::{v3_server_config, OPERATOR_TOKEN};

    let corpus = Corpus::load(&influx_conformance::default_cases_dir()).expect("corpus loads");
    let cases = Arc::new(corpus.cases.clone());
    let config = RunConfig {
        jobs: 2,
        snapshots: Some(influx_conformance::default_snapshots_dir()),
        snapshot_mode: SnapshotMode::CompareOnly,
        ..RunConfig::default()
    };
    let url_target = |url: &str, started_for_case: bool| -> Arc<dyn Target> {
        let mut c = UrlConfig::new(url, Profile::V3);
        c.token = OPERATOR_TOKEN.into();
        c.write = WriteAdapter::V3;
        c.read = ReadAdapter::Sql;
        c.isolation = Isolation::V3Databases;
        c.request_timeout = Duration::from_secs(5);
        c.started_for_case = started_for_case;
        Arc::new(UrlTarget::new(c).expect("client"))
    };
    let run = |target: Arc<dyn Target>, ids: Vec<String>| {
        let selection = Selection {
            ids,
            profiles: vec![Profile::V3],
            ..Selection::default()
        };
        let jobs = selection
            .jobs(&cases, std::slice::from_ref(&target))
            .expect("selection");
        run_jobs(
            cases.clone(),
            vec![target],
            jobs,
            config.clone(),
            Arc::new(|_| {}),
        )
    };

    let mut local = run(Arc::new(InProcess::new(vec![Profile::V3])), Vec::new()).await;
    assert!(!local.is_empty());
    let shared = Reference::new(v3_server_config(&ServerSpec::default())).expect("starts");
    let handle = shared
        .listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listens");
    let mut remote: Vec<_> = run(url_target(&handle.url(), false), Vec::new())
        .await
        .into_iter()
        .filter(|r| r.verdict != Verdict::Skipped || !r.reason.contains("started its own way"))
        .collect();
    handle.shutdown().await;
    // Each case with server flags on a server of its own.
    for c in cases
        .iter()
        .filter(|c| c.case.setup.server.is_some() && c.profiles.list().contains(&Profile::V3))
    {
        let spec = c.case.setup.server.clone().unwrap_or_default();
        let own = Reference::new(v3_server_config(&spec)).expect("starts");
        let h = own
            .listen("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("listens");
        remote.extend(run(url_target(&h.url(), true), vec![c.name()]).await);
        h.shutdown().await;
    }
    local.sort_by(|a, b| a.name.cmp(&b.name));
    remote.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        local.iter().map(|r| &r.name).collect::<Vec<_>>(),
        remote.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
    // Strict: the same redacted bytes as the reference's snapshots, every case run (nothing
    // skipped: the served reference has every endpoint a v3 case calls).
    let differences: Vec<String> = local
        .iter()
        .zip(&remote)
        .filter(|(l, r)| l.verdict != Verdict::Pass || r.verdict != Verdict::Pass)
        .map(|(l, r)| {
            format!(
                "{}: in-process {} ({}) / over the wire {} ({})",
                l.name,
                l.verdict.as_str(),
                l.reason,
                r.verdict.as_str(),
                r.reason
            )
        })
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// The v2 corpus against the served v3 reference, as `cargo xtask peers` runs it
/// (`targets/influxdb3-vs-2.7.yaml`), with two databases already on the server and four cases
/// at once: InfluxDB 3 Core keeps at most five databases, a case's writes to names that are
/// not its buckets (`bucket=nope`) create more, and cases running together once took the
/// last slot from each other (a write answered `exceed limit of 5 databases`, so a case saw
/// nothing land). Every verdict is the recorded one, and the run leaves exactly the databases
/// it found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_corpus_against_served_v3_shares_the_five_databases_and_leaves_none() {
    let _turn = ONE_AT_A_TIME.lock().await;
    use influx_conformance::case::ServerSpec;
    use influx_conformance::server::adapter::{Isolation, ReadAdapter, WriteAdapter};
    use influx_conformance::server::inprocess::{v3_server_config, OPERATOR_TOKEN};

    let corpus = Corpus::load(&influx_conformance::default_cases_dir()).expect("corpus loads");
    let cases = Arc::new(corpus.cases.clone());
    let reference = Reference::new(v3_server_config(&ServerSpec::default())).expect("starts");
    let handle = reference
        .listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listens");
    let url = handle.url();
    let http = reqwest::Client::new();
    let databases = || async {
        let v: serde_json::Value = http
            .get(format!("{url}/api/v3/configure/database?format=json"))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .expect("lists")
            .json()
            .await
            .expect("json");
        let mut names: Vec<String> = v
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|d| d["iox::database"].as_str().map(str::to_string))
            .filter(|n| n != "_internal")
            .collect();
        names.sort();
        names
    };
    for db in ["keep-a", "keep-b"] {
        let resp = http
            .post(format!("{url}/api/v3/write_lp?db={db}"))
            .bearer_auth(OPERATOR_TOKEN)
            .body("m v=1 1")
            .send()
            .await
            .expect("writes");
        assert_eq!(resp.status(), 204);
    }
    let deviations = TargetFile::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/influxdb3-vs-2.7.yaml"),
    )
    .expect("targets/influxdb3-vs-2.7.yaml loads")
    .deviations;
    let mut c = UrlConfig::new(&url, Profile::V2);
    c.token = OPERATOR_TOKEN.into();
    c.write = WriteAdapter::V2;
    c.read = ReadAdapter::Sql;
    c.isolation = Isolation::V3Databases;
    c.request_timeout = Duration::from_secs(5);
    let target: Arc<dyn Target> = Arc::new(
        UrlTarget::new(c)
            .expect("client")
            .with_deviations(deviations),
    );
    let selection = Selection {
        profiles: vec![Profile::V2],
        ..Selection::default()
    };
    let jobs = selection
        .jobs(&cases, std::slice::from_ref(&target))
        .expect("selection");
    let config = RunConfig {
        jobs: 4,
        snapshots: None,
        ..RunConfig::default()
    };
    let results = run_jobs(cases.clone(), vec![target], jobs, config, Arc::new(|_| {})).await;
    let passed = results.iter().filter(|r| r.verdict.is_pass()).count();
    // Most of the v2 corpus is a recorded deviation here; about 60 cases pass.
    assert!(passed > 40, "{passed} of {} passed", results.len());
    let unexpected: Vec<String> = results
        .iter()
        .filter(|r| r.verdict.is_failure())
        .map(|r| format!("{}: {} ({})", r.name, r.verdict.as_str(), r.reason))
        .collect();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert_eq!(databases().await, ["keep-a", "keep-b"]);
    handle.shutdown().await;
}
