//! The commands that run or show cases: `run`, `list`, `show`, `replay`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::args::{Cli, FilterArgs, RunArgs, TargetArgs};
use super::setup::{build_targets, secs, selection, snapshots_dir, write_file};
use crate::case::{Corpus, Profile};
use crate::deviation::{Deviation, DeviationKind};
use crate::exit::ExitCode;
use crate::fault::FaultKind;
use crate::report;
use crate::run::{run_case, run_jobs, CaseResult, RunConfig};
use crate::server::inprocess::InProcess;
use crate::server::Target;
use crate::snapshot::{read_snapshot, snapshot_path, snapshot_text, SnapshotMode};
use crate::verdict::Verdict;
use crate::Error;

/// `run`: the selected cases on the target, the terminal report and the report files.
pub async fn run(cli: &Cli, corpus: &Corpus, args: &RunArgs) -> Result<ExitCode, Error> {
    let mode = SnapshotMode::Compare;
    let (targets, profiles) = build_targets(cli, &args.target, None)?;
    let mut sel = selection(&args.filter)?;
    if sel.profiles.is_empty() {
        sel.profiles = profiles;
    }
    let jobs = sel.jobs(&corpus.cases, &targets)?;
    if jobs.is_empty() {
        eprintln!("nothing selected: no case matches the filters for this target's profiles");
        return Ok(ExitCode::NothingSelected);
    }
    let config = RunConfig {
        jobs: args.jobs.unwrap_or_else(|| RunConfig::default().jobs),
        case_timeout: secs(args.target.case_timeout),
        request_timeout: secs(args.target.request_timeout),
        settle_timeout: secs(args.target.settle_timeout),
        snapshots: Some(snapshots_dir(cli)),
        snapshot_mode: mode,
    };
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let progress_bar = bar.clone();
    let progress: Arc<dyn Fn(&CaseResult) + Send + Sync> = Arc::new(move |r| {
        progress_bar.set_message(format!("{} {}", r.verdict.as_str(), r.name));
        progress_bar.inc(1);
    });
    let started = Instant::now();
    let cases = Arc::new(corpus.cases.clone());
    let mut results = run_jobs(cases, targets, jobs, config, progress).await;
    bar.finish_and_clear();
    results.sort_by(|a, b| {
        (&a.target, &a.file, a.line, a.profile).cmp(&(&b.target, &b.file, b.line, b.profile))
    });
    let summary = report::summarize(&results, started.elapsed());
    print!("{}", report::terminal(&results, &summary, &corpus.root));
    write_report(&args.report_json, || report::json(&results, &summary))?;
    write_report(&args.report_junit, || {
        report::junit(&results, &summary, &corpus.root)
    })?;
    write_report(&args.report_md, || report::markdown(&results, &summary))?;
    write_report(&args.emit_deviations, || emit_deviations(&results))?;
    Ok(ExitCode::of_results(&results))
}

fn write_report(path: &Option<PathBuf>, render: impl FnOnce() -> String) -> Result<(), Error> {
    let Some(path) = path else { return Ok(()) };
    write_file(path, &render())
}

/// Every failing case as a deviation, ready to paste into `targets/<name>.yaml`; also cases
/// the server answers in invalid HTTP (a deterministic server fault, recorded with `fault`).
/// Other errors (timeouts, refused connections) are never recorded: they need a look.
fn emit_deviations(results: &[CaseResult]) -> String {
    let devs: Vec<Deviation> = results
        .iter()
        .filter(|r| {
            r.verdict == Verdict::Fail
                || (r.verdict == Verdict::Error && r.fault == Some(FaultKind::InvalidResponse))
        })
        .map(|r| Deviation {
            cases: r.name.clone(),
            kind: DeviationKind::Bug,
            note: r.reason.clone(),
            link: None,
            fault: r.fault.filter(|_| r.verdict == Verdict::Error),
        })
        .collect();
    #[derive(serde::Serialize)]
    struct Out {
        deviations: Vec<Deviation>,
    }
    serde_norway::to_string(&Out { deviations: devs }).unwrap_or_default()
}

/// `list`: the selected cases, `file::id [profile] level`.
pub fn list(corpus: &Corpus, f: &FilterArgs) -> Result<ExitCode, Error> {
    let targets: Vec<Arc<dyn Target>> =
        vec![Arc::new(InProcess::new(vec![Profile::V2, Profile::Cloud]))];
    let jobs = selection(f)?.jobs(&corpus.cases, &targets)?;
    for j in &jobs {
        let c = &corpus.cases[j.case];
        println!("{} [{}] {}", c.name(), j.profile.as_str(), c.level.as_str());
    }
    Ok(if jobs.is_empty() {
        ExitCode::NothingSelected
    } else {
        ExitCode::Pass
    })
}

/// `show ID`: a case and its snapshots.
pub fn show(cli: &Cli, corpus: &Corpus, id: &str) -> Result<ExitCode, Error> {
    let Some(c) = corpus.find(id) else {
        eprintln!("error: no case named {id:?} (see `influx-conformance list`)");
        return Ok(ExitCode::NothingSelected);
    };
    println!(
        "# {} ({}, level {}, spec {})",
        c.name(),
        c.location(),
        c.level.as_str(),
        c.spec
    );
    print!("{}", serde_norway::to_string(&c.case).unwrap_or_default());
    for p in c.profiles.list() {
        let path = snapshot_path(&snapshots_dir(cli), c, *p);
        println!("\n# snapshot {}", path.display());
        print!(
            "{}",
            read_snapshot(&path).unwrap_or_else(|| "(none)\n".into())
        );
    }
    Ok(ExitCode::Pass)
}

/// `replay ID`: one case on the target, every exchange in full.
pub async fn replay(
    cli: &Cli,
    corpus: &Corpus,
    id: &str,
    target: &TargetArgs,
) -> Result<ExitCode, Error> {
    let Some(c) = corpus.find(id) else {
        eprintln!("error: no case named {id:?} (see `influx-conformance list`)");
        return Ok(ExitCode::NothingSelected);
    };
    let (targets, profiles) = build_targets(cli, target, None)?;
    let config = RunConfig {
        jobs: 1,
        case_timeout: secs(target.case_timeout),
        request_timeout: secs(target.request_timeout),
        settle_timeout: secs(target.settle_timeout),
        snapshots: Some(snapshots_dir(cli)),
        snapshot_mode: SnapshotMode::CompareOnly,
    };
    let mut code = ExitCode::Pass;
    for t in &targets {
        for p in c.profiles.list().iter().filter(|p| profiles.contains(p)) {
            let r = run_case(c, t.as_ref(), *p, &config).await;
            println!(
                "# {} [{}] on {}: {}",
                r.name,
                p.as_str(),
                r.target,
                r.verdict.as_str()
            );
            if let Some(o) = &r.observation {
                print!("{}", snapshot_text(o));
            }
            if r.verdict != Verdict::Pass {
                print!("{}", report::failure_text(&r, &corpus.root));
            }
            if r.verdict.is_failure() {
                code = ExitCode::Failures;
            }
        }
    }
    Ok(code)
}
