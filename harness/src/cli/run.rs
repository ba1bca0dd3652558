//! The commands that run or show cases: `run`, `list`, `show`, `replay`, and `report` (JSON
//! reports of earlier runs rendered side by side).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::args::{Cli, FilterArgs, ReportArgs, RunArgs, TargetArgs};
use super::out::emit;
use super::progress::Progress;
use super::setup::{build_targets, secs, selection, snapshots_dir, spec_dir, write_file};
use crate::area;
use crate::case::{Corpus, Profile};
use crate::deviation::{Deviation, DeviationKind};
use crate::exit::ExitCode;
use crate::fault::FaultKind;
use crate::report::{self, Meta};
use crate::run::{run_case, run_jobs, CaseResult, RunConfig};
use crate::server::inprocess::InProcess;
use crate::server::Target;
use crate::snapshot::{read_snapshot, snapshot_path, snapshot_text, SnapshotMode};
use crate::verdict::Verdict;
use crate::Error;

/// `run`: the selected cases on the target, the terminal report and the report files.
pub async fn run(cli: &Cli, corpus: &Corpus, args: &RunArgs) -> Result<ExitCode, Error> {
    let mode = SnapshotMode::Compare;
    let built = build_targets(cli, &args.target, None)?;
    let mut sel = selection(&args.filter)?;
    if sel.profiles.is_empty() {
        sel.profiles = built.profiles.clone();
    }
    let jobs = sel.jobs(&corpus.cases, &built.targets)?;
    if jobs.is_empty() {
        eprintln!("nothing selected: no case matches the filters for this target's profiles");
        return Ok(ExitCode::NothingSelected);
    }
    built.preflight(&args.target).await?;
    let config = RunConfig {
        jobs: args.jobs.unwrap_or_else(|| RunConfig::default().jobs),
        case_timeout: secs(args.target.case_timeout),
        request_timeout: secs(args.target.request_timeout),
        settle_timeout: secs(args.target.settle_timeout),
        snapshots: Some(snapshots_dir(cli)),
        snapshot_mode: mode,
    };
    let bar = Progress::new(jobs.len() as u64, "{bar:40} {pos}/{len} {msg}", args.quiet);
    let progress_bar = bar.bar().clone();
    let progress: Arc<dyn Fn(&CaseResult) + Send + Sync> = Arc::new(move |r| {
        progress_bar.set_message(format!("{} {}", r.verdict.as_str(), r.name));
        progress_bar.inc(1);
    });
    let started = Instant::now();
    let cases = Arc::new(corpus.cases.clone());
    let mut results = run_jobs(cases, built.targets, jobs, config, progress).await;
    bar.finish();
    results.sort_by(|a, b| {
        (&a.target, &a.file, a.line, a.profile).cmp(&(&b.target, &b.file, b.line, b.profile))
    });
    let meta = Meta {
        duration: started.elapsed(),
        areas: spec_dir(cli, &args.spec)
            .map(|d| area::titles(&d))
            .unwrap_or_default(),
        labels: built.labels,
    };
    let report = report::build(&results, &meta);
    write_report(&args.report_json, || report::json(&report))?;
    write_report(&args.report_junit, || {
        report::junit::junit(&report, &corpus.root)
    })?;
    write_report(&args.report_md, || report::markdown::markdown(&report))?;
    write_report(&args.report_html, || {
        report::html::html(std::slice::from_ref(&report))
    })?;
    write_report(&args.emit_deviations, || emit_deviations(&results))?;
    emit(&report::terminal::terminal(&report, &corpus.root));
    Ok(ExitCode::of_results(&results))
}

/// `report A.json B.json`: runs side by side, as Markdown (standard output or `--report-md`)
/// and as a page (`--report-html`).
pub fn report_files(args: &ReportArgs) -> Result<ExitCode, Error> {
    let runs = args
        .files
        .iter()
        .map(|f| report::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    let md = if runs.len() == 1 {
        report::markdown::markdown(&runs[0])
    } else {
        report::markdown::runs(&runs)
    };
    write_report(&args.report_html, || report::html::html(&runs))?;
    match &args.report_md {
        Some(path) => write_file(path, &md)?,
        None if args.report_html.is_none() => {
            emit(&md);
        }
        None => {}
    }
    Ok(ExitCode::Pass)
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
    let targets: Vec<Arc<dyn Target>> = vec![Arc::new(InProcess::new(Profile::ALL.to_vec()))];
    let jobs = selection(f)?.jobs(&corpus.cases, &targets)?;
    for j in &jobs {
        let c = &corpus.cases[j.case];
        // A reader that went away (`list | head`) ends the listing, not the process.
        if !emit(&format!(
            "{} [{}] {}\n",
            c.name(),
            j.profile.as_str(),
            c.level.as_str()
        )) {
            break;
        }
    }
    Ok(if jobs.is_empty() {
        ExitCode::NothingSelected
    } else {
        ExitCode::Pass
    })
}

/// `show ID`: the case as written in its file, with its path and line numbers, then its
/// snapshots.
pub fn show(cli: &Cli, corpus: &Corpus, id: &str) -> Result<ExitCode, Error> {
    let Some(c) = corpus.find(id) else {
        eprintln!("error: no case named {id:?} (see `influx-conformance list`)");
        return Ok(ExitCode::NothingSelected);
    };
    let text = std::fs::read_to_string(&c.path).map_err(|source| Error::Io {
        path: c.path.clone(),
        source,
    })?;
    let lines: Vec<&str> = text.lines().collect();
    let next = corpus
        .cases
        .iter()
        .filter(|o| o.file == c.file && o.line > c.line)
        .map(|o| o.line)
        .min();
    let (first, last) = case_lines(&lines, c.line, next);
    let mut out = format!(
        "# {}:{first}-{last} (level {}, profiles {}, spec {})\n",
        c.path.display(),
        c.level.as_str(),
        c.profiles
            .list()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        c.spec
    );
    let width = last.to_string().len();
    for n in first..=last {
        out.push_str(&format!("{n:>width$} | {}\n", lines[n - 1]));
    }
    for p in c.profiles.list() {
        let path = snapshot_path(&snapshots_dir(cli), c, *p);
        out.push_str(&format!("\n# snapshot {}\n", path.display()));
        out.push_str(&read_snapshot(&path).unwrap_or_else(|| "(none)\n".into()));
    }
    emit(&out);
    Ok(ExitCode::Pass)
}

/// The 1-based lines of the case whose `id:` is on line `id_line`: from its list item's `- `
/// to the line before the next case (`next`: that case's `id:` line) or the end of the file,
/// without the blank lines and comments that introduce the next case.
pub fn case_lines(lines: &[&str], id_line: usize, next: Option<usize>) -> (usize, usize) {
    let id_line = id_line.clamp(1, lines.len().max(1));
    let mut first = id_line;
    while first > 1 && !lines[first - 1].trim_start().starts_with("- ") {
        first -= 1;
    }
    if !lines
        .get(first - 1)
        .is_some_and(|l| l.trim_start().starts_with("- "))
    {
        first = id_line;
    }
    let indent = lines
        .get(first - 1)
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(0);
    let mut last = match next {
        Some(n) => {
            // The next case's item starts at its `- ` line.
            let mut s = n.min(lines.len());
            while s > first + 1 && !lines[s - 1].trim_start().starts_with("- ") {
                s -= 1;
            }
            s - 1
        }
        None => lines.len(),
    };
    while last > first {
        let l = lines[last - 1];
        let t = l.trim_start();
        let i = l.len() - t.len();
        if t.is_empty() || (t.starts_with('#') && i <= indent) {
            last -= 1;
        } else {
            break;
        }
    }
    (first, last.max(first))
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
    let built = build_targets(cli, target, None)?;
    built.preflight(target).await?;
    let (targets, profiles) = (built.targets, built.profiles);
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
            let mut out = format!(
                "# {} [{}] on {}: {}\n",
                r.name,
                p.as_str(),
                r.target,
                r.verdict.as_str()
            );
            if let Some(o) = &r.observation {
                out.push_str(&snapshot_text(o));
            }
            if r.verdict != Verdict::Pass {
                out.push_str(&report::failure_text(&r, &corpus.root));
            }
            emit(&out);
            if r.verdict.is_failure() {
                code = ExitCode::Failures;
            }
        }
    }
    Ok(code)
}
