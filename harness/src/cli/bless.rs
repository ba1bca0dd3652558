//! The `bless` command: runs the selection on the in-process reference, asks the bless rules
//! (`crate::bless`) for the edits each failing or new case calls for, checks that every profile
//! calls for the same ones, writes the case files (or prints the diff with `--dry-run`) and
//! records the snapshots, then runs the rewritten cases again.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::args::{BlessArgs, Cli, FilterArgs, TargetArgs};
use super::out::emit;

/// `println!` that a closed pipe does not panic.
macro_rules! emitln {
    ($($t:tt)*) => {{
        emit(&format!($($t)*));
        emit("\n");
    }};
}
use super::setup::{build_targets, secs, selection, snapshots_dir, write_file};
use crate::bless;
use crate::case::{Corpus, Profile};
use crate::compare::default_status;
use crate::exit::ExitCode;
use crate::run::{run_jobs, CaseResult, RunConfig};
use crate::snapshot::{read_snapshot, snapshot_path, snapshot_text, SnapshotMode};
use crate::verdict::Verdict;
use crate::Error;

/// How many steps each case's snapshot records, per profile (no snapshot: 0), read before a
/// bless run records new ones. The steps past them are new: bless fills in what they do not
/// state. Only cases with a step that could lack something are read.
fn recorded_steps(cli: &Cli, corpus: &Corpus) -> BTreeMap<(String, Profile), usize> {
    let dir = snapshots_dir(cli);
    let mut out = BTreeMap::new();
    for case in &corpus.cases {
        let open = case.case.steps.iter().any(|s| {
            default_status(s).is_some()
                && s.also_accept.is_empty()
                && s.expect.as_ref().is_none_or(|e| {
                    e.status.is_none()
                        || (e.body.is_none()
                            && e.message.is_none()
                            && !e.json.contains_key("message"))
                })
        });
        if !open {
            continue;
        }
        for p in case.profiles.list() {
            let path = snapshot_path(&dir, case, *p);
            let steps = read_snapshot(&path)
                .and_then(|s| serde_norway::from_str::<serde_norway::Value>(&s).ok())
                .and_then(|v| v.get("steps").and_then(|s| s.as_sequence()).map(Vec::len))
                .unwrap_or(0);
            out.insert((case.name(), *p), steps);
        }
    }
    out
}

/// Runs the selected cases on the reference, rewrites the failing expectations in the case
/// files and fills in what new steps do not state (or prints the diff with `--dry-run`), then
/// records the snapshots.
pub async fn bless(cli: &Cli, corpus: &Corpus, args: &BlessArgs) -> Result<ExitCode, Error> {
    let dry = args.dry_run;
    let mode = if dry {
        SnapshotMode::CompareOnly
    } else {
        SnapshotMode::Bless
    };
    // Before the run: a bless run records the snapshots of new cases.
    let recorded = if args.fill {
        BTreeMap::new()
    } else {
        recorded_steps(cli, corpus)
    };
    let results = bless_run(cli, corpus, &args.filter, mode).await?;
    let Some(results) = results else {
        eprintln!("nothing selected: no case matches the filters");
        return Ok(ExitCode::NothingSelected);
    };
    // Observations of failing cases, per case (one per profile).
    let mut failing: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
    for r in &results {
        if r.verdict == Verdict::Fail
            && r.observation.is_some()
            && r.mismatches.iter().any(|m| m.step > 0)
        {
            failing.entry(r.name.clone()).or_default().push(r);
        }
    }
    // The first step to fill in, per case: the first step a snapshot of an observed profile does
    // not record (all with `--fill`). Cases the reference lists as known deviations state what
    // the spec says: they are left alone.
    let mut fill: BTreeMap<String, usize> = BTreeMap::new();
    let mut deviations = std::collections::BTreeSet::new();
    for r in results.iter().filter(|r| r.observation.is_some()) {
        let Some(case) = corpus.cases.iter().find(|c| c.name() == r.name) else {
            continue;
        };
        let from = if args.fill {
            0
        } else {
            recorded
                .get(&(r.name.clone(), r.profile))
                .copied()
                .unwrap_or(case.case.steps.len())
        };
        let e = fill.entry(r.name.clone()).or_insert(from);
        *e = (*e).min(from);
        if r.deviation.is_some() || matches!(r.verdict, Verdict::Xfail | Verdict::Xpass) {
            deviations.insert(r.name.clone());
        }
    }
    fill.retain(|name, from| {
        !deviations.contains(name)
            && corpus
                .cases
                .iter()
                .find(|c| &c.name() == name)
                .is_some_and(|c| *from < c.case.steps.len())
    });
    let names: std::collections::BTreeSet<&String> = failing.keys().chain(fill.keys()).collect();
    let mut per_file: BTreeMap<String, Vec<bless::Edit>> = BTreeMap::new();
    let mut cases_changed = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let Some(case) = corpus.cases.iter().find(|c| &c.name() == name) else {
            continue;
        };
        let text = std::fs::read_to_string(&case.path).map_err(|source| Error::Io {
            path: case.path.clone(),
            source,
        })?;
        // Every profile that observed the case must call for the same rewrite (a profile where
        // the case passes calls for none, or only for what new steps lack): one expectation
        // serves them all.
        let observed = results
            .iter()
            .filter(|r| &r.name == name && r.observation.is_some());
        let mut sets: Vec<(Profile, Vec<bless::Edit>)> = Vec::new();
        let mut ok = true;
        for r in observed {
            let steps = r
                .observation
                .as_ref()
                .map(|o| o.steps.as_slice())
                .unwrap_or(&[]);
            match bless::case_edits(&text, case, steps, fill.get(name).copied()) {
                Ok(mut e) => {
                    for e in &mut e {
                        for w in &mut e.what {
                            *w = format!("{} {w}", case.case.id);
                        }
                    }
                    e.sort_by(|a, b| (a.start, a.end, &a.text).cmp(&(b.start, b.end, &b.text)));
                    e.dedup();
                    sets.push((r.profile, e));
                }
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    ok = false;
                }
            }
        }
        let edits = sets.first().map(|s| s.1.clone()).unwrap_or_default();
        if ok {
            if let Some((p, _)) = sets.iter().find(|s| s.1 != edits) {
                problems.push(format!(
                    "{name}: the profiles observe different outcomes ({} and {}); edit by hand",
                    sets[0].0.as_str(),
                    p.as_str()
                ));
                ok = false;
            }
        }
        if ok {
            if let Err(e) = bless::apply(&text, &edits) {
                problems.push(format!("{name}: {e}"));
                ok = false;
            }
        }
        if ok && !edits.is_empty() {
            cases_changed.push(name.clone());
            per_file.entry(case.file.clone()).or_default().extend(edits);
        }
    }
    let (mut matchers, mut added) = (0, 0);
    let mut notes = Vec::new();
    for (file, edits) in &per_file {
        let path = corpus.root.join(file);
        let old = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let new = bless::apply(&old, edits).map_err(Error::Config)?;
        crate::case::load_file(&path, file, &new)?;
        let mut seen = std::collections::BTreeSet::new();
        for e in edits {
            if !seen.insert((e.start, e.end, e.text.clone())) {
                continue;
            }
            for w in &e.what {
                if !seen_what(&mut notes, file, w) {
                    if bless::is_added(w) {
                        added += 1;
                    } else {
                        matchers += 1;
                    }
                }
            }
        }
        if dry {
            emit(&bless::diff(file, &old, &new));
        } else {
            write_file(&path, &new)?;
        }
    }
    // Snapshots: those written (or that would be) by the run, then the rewritten cases' own.
    let mut snapshots: Vec<String> = Vec::new();
    let mut still = Vec::new();
    let collect = |results: &[CaseResult], snapshots: &mut Vec<String>| {
        for r in results {
            for n in &r.notes {
                if let Some(p) = n.strip_prefix("blessed ") {
                    snapshots.push(p.to_string());
                }
            }
            if dry && r.mismatches.iter().any(|m| m.what.starts_with("snapshot")) {
                snapshots.push(format!("{} [{}]", r.name, r.profile.as_str()));
            }
        }
    };
    collect(&results, &mut snapshots);
    if dry {
        // The snapshots of the rewritten cases (a failing case's snapshot is not compared).
        let dir = snapshots_dir(cli);
        for r in results.iter().filter(|r| cases_changed.contains(&r.name)) {
            let (Some(obs), Some(case)) = (&r.observation, corpus.find(&r.name)) else {
                continue;
            };
            let path = snapshot_path(&dir, case, r.profile);
            let line = format!("{} [{}]", r.name, r.profile.as_str());
            if read_snapshot(&path).as_deref() != Some(snapshot_text(obs).as_str())
                && !snapshots.contains(&line)
            {
                snapshots.push(line);
            }
        }
    }
    if !dry && !cases_changed.is_empty() {
        let corpus = Corpus::load(&corpus.root)?;
        let filter = FilterArgs {
            ids: cases_changed.clone(),
            ..args.filter.clone()
        };
        if let Some(again) = bless_run(cli, &corpus, &filter, SnapshotMode::Bless).await? {
            collect(&again, &mut snapshots);
            still.extend(
                again
                    .iter()
                    .filter(|r| r.verdict.is_failure())
                    .map(|r| format!("{} [{}]: {}", r.name, r.profile.as_str(), r.reason)),
            );
        }
    }
    // A fault on the reference (a 429 or 503 no step expects is one) leaves nothing to
    // bless from: say so rather than pass over it.
    still.extend(
        results
            .iter()
            .filter(|r| r.verdict == Verdict::Error)
            .map(|r| format!("{} [{}]: {}", r.name, r.profile.as_str(), r.reason)),
    );
    for (name, rs) in &failing {
        if !cases_changed.contains(name) {
            for r in rs {
                if r.mismatches.iter().all(|m| m.step > 0)
                    && !problems.iter().any(|p| p.starts_with(name.as_str()))
                {
                    still.push(format!("{} [{}]: {}", r.name, r.profile.as_str(), r.reason));
                }
            }
        }
    }
    let (rewrite, add) = if dry {
        ("would rewrite", "add")
    } else {
        ("rewrote", "added")
    };
    emitln!(
        "bless: {rewrite} {matchers} matcher(s), {add} {added} expectation(s) in {} case(s) of {} file(s); {} snapshot(s) {}",
        cases_changed.len(),
        per_file.len(),
        snapshots.len(),
        if dry { "would be written" } else { "written" }
    );
    for n in &notes {
        emitln!("  {n}");
    }
    for s in &snapshots {
        emitln!("  snapshot {s}");
    }
    for p in &problems {
        emitln!("  not rewritten: {p}");
    }
    for s in &still {
        emitln!("  still failing: {s}");
    }
    Ok(if problems.is_empty() && still.is_empty() {
        ExitCode::Pass
    } else {
        ExitCode::Failures
    })
}

/// Records an edit's summary line once per (file, what); true when already recorded.
fn seen_what(notes: &mut Vec<String>, file: &str, what: &str) -> bool {
    let line = if what.contains(" → ") {
        format!("{file}: {what} (the matcher no longer held: now equals the observed value)")
    } else {
        format!("{file}: {what}")
    };
    if notes.contains(&line) {
        true
    } else {
        notes.push(line);
        false
    }
}

/// Runs the selection on the in-process reference (None: nothing selected).
async fn bless_run(
    cli: &Cli,
    corpus: &Corpus,
    filter: &FilterArgs,
    mode: SnapshotMode,
) -> Result<Option<Vec<CaseResult>>, Error> {
    let built = build_targets(cli, &TargetArgs::default(), None)?;
    let (targets, profiles) = (built.targets, built.profiles);
    let mut sel = selection(filter)?;
    if sel.profiles.is_empty() {
        sel.profiles = profiles;
    }
    let jobs = sel.jobs(&corpus.cases, &targets)?;
    if jobs.is_empty() {
        return Ok(None);
    }
    let defaults = TargetArgs::default();
    let config = RunConfig {
        jobs: RunConfig::default().jobs,
        case_timeout: secs(if defaults.case_timeout > 0.0 {
            defaults.case_timeout
        } else {
            60.0
        }),
        request_timeout: secs(10.0),
        settle_timeout: secs(10.0),
        snapshots: Some(snapshots_dir(cli)),
        snapshot_mode: mode,
    };
    let cases = Arc::new(corpus.cases.clone());
    let progress: Arc<dyn Fn(&CaseResult) + Send + Sync> = Arc::new(|_| {});
    let mut results = run_jobs(cases, targets, jobs, config, progress).await;
    results.sort_by(|a, b| (&a.file, a.line, a.profile).cmp(&(&b.file, b.line, b.profile)));
    Ok(Some(results))
}
