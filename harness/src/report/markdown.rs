//! Markdown: a run's report (what to fix first, tier scores per level and per spec area ×
//! level, verdicts per level, deviations grouped by cause, skips, the case matrix), and several
//! runs side by side (`influx-conformance report A.json B.json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::causes::{collapse, fix_first};
use super::model::CauseKind;
use super::model::{run_name, RunReport, Scores, TierCounts};
use super::terminal::{area_label, areas_in_order, level_rows, pct};
use crate::area::sort_key;
use crate::case::Level;
use crate::tier::Tier;
use crate::verdict::Verdict;

pub fn symbol(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::PassNonStrict => "🟢",
        Verdict::Fail => "❌",
        Verdict::Info => "ℹ️",
        Verdict::Skipped => "⏭️",
        Verdict::Xfail => "🟡",
        Verdict::Xpass => "❗",
        Verdict::Error => "💥",
    }
}

pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn tier_cells(c: &TierCounts) -> String {
    Tier::MET
        .iter()
        .map(|t| pct(c, *t))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn tier_head(first: &str) -> String {
    format!(
        "| {first} | steps | {} |\n|---|---:|{}\n",
        Tier::MET
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(Tier::MET.len())
    )
}

/// The tier legend, one line.
pub fn tier_legend() -> String {
    let parts: Vec<String> = Tier::MET
        .iter()
        .map(|t| format!("**{}**: {}", t.as_str(), t.meaning()))
        .collect();
    format!(
        "Tiers are nested and judged per graded step (requests and reads): {}. A share is the graded steps meeting the tier.",
        parts.join("; ")
    )
}

/// One line: the tier shares overall and at `must`.
pub fn tier_line(s: &Scores) -> String {
    let shares = |c: &TierCounts| {
        Tier::MET
            .iter()
            .map(|t| format!("{} {}", t.as_str(), pct(c, *t)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let mut line = format!("{} of {} graded steps", shares(&s.all), s.all.steps);
    if let Some(m) = s.level(Level::Must) {
        let _ = write!(line, " (must: {})", shares(m));
    }
    line
}

fn fix_first_section(report: &RunReport) -> String {
    let mut t = String::from("## What to fix first\n\n");
    let first = fix_first(&report.causes, 10);
    if first.is_empty() {
        t.push_str("Nothing: no bug, unrecorded failure or target fault costs a must- or should-level step.\n");
    } else {
        t.push_str("Causes other than by-design deviations, ranked by the must-level steps they cost (then should-level).\n\n");
        for (i, c) in first.iter().enumerate() {
            let should = c.steps_lost.get("should").copied().unwrap_or(0);
            let _ = writeln!(
                t,
                "{}. **{}** — {}; {} case{}, {} must-level step{}{}",
                i + 1,
                cell(&c.note),
                c.kind.as_str(),
                c.cases.len(),
                if c.cases.len() == 1 { "" } else { "s" },
                c.must_steps,
                if c.must_steps == 1 { "" } else { "s" },
                if should > 0 {
                    format!(", {should} should-level")
                } else {
                    String::new()
                }
            );
        }
    }
    let by_design: Vec<_> = report
        .causes
        .iter()
        .filter(|c| c.kind == CauseKind::ByDesign)
        .collect();
    if !by_design.is_empty() {
        let _ = writeln!(
            t,
            "\nBy design (not ranked): {} cause{} covering {} results and {} must-level steps; see [Deviations by cause](#deviations-by-cause).",
            by_design.len(),
            if by_design.len() == 1 { "" } else { "s" },
            by_design.iter().map(|c| c.cases.len()).sum::<usize>(),
            by_design.iter().map(|c| c.must_steps).sum::<usize>()
        );
    }
    t.push('\n');
    t
}

fn tier_tables(report: &RunReport) -> String {
    let mut t = String::from("## Scores by tier\n\n");
    t.push_str(&tier_legend());
    t.push_str("\n\n");
    t.push_str(&tier_head("level"));
    for (label, c) in level_rows(&report.tiers.scores) {
        let _ = writeln!(t, "| {label} | {} | {} |", c.steps, tier_cells(&c));
    }
    t.push_str("\n## Scores by spec area and level\n\n");
    t.push_str(&tier_head("area · level"));
    for area in areas_in_order(report) {
        for (label, c) in level_rows(&report.tiers.by_area[area]) {
            let _ = writeln!(
                t,
                "| {} · {label} | {} | {} |",
                cell(&area_label(report, area)),
                c.steps,
                tier_cells(&c)
            );
        }
    }
    t.push('\n');
    t
}

/// Scores per requirement level: raw (passes / judged) and with known deviations
/// ((passes + xfail) / judged); judged excludes skipped and info, as in `summarize`.
fn level_table(report: &RunReport) -> String {
    let results = &report.results;
    let mut t = String::from(
        "## Verdicts per level\n\n| level | judged | pass | non-strict | xfail | fail | xpass | error | skipped | info | raw | with deviations |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let pct = |n: usize, d: usize| {
        if d == 0 {
            "–".to_string()
        } else {
            format!("{:.1}%", n as f64 * 100.0 / d as f64)
        }
    };
    for level in Level::ALL {
        let rs: Vec<_> = results.iter().filter(|r| r.level == level).collect();
        if rs.is_empty() {
            continue;
        }
        let count = |v: Verdict| rs.iter().filter(|r| r.verdict == v).count();
        let judged = rs
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::Skipped | Verdict::Info))
            .count();
        let raw = rs
            .iter()
            .filter(|r| {
                !matches!(r.verdict, Verdict::Skipped | Verdict::Info) && r.raw_verdict.is_pass()
            })
            .count();
        let dev = rs
            .iter()
            .filter(|r| r.verdict.is_pass() || r.verdict == Verdict::Xfail)
            .count();
        let _ = writeln!(
            t,
            "| {} | {judged} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            level.as_str(),
            count(Verdict::Pass),
            count(Verdict::PassNonStrict),
            count(Verdict::Xfail),
            count(Verdict::Fail),
            count(Verdict::Xpass),
            count(Verdict::Error),
            count(Verdict::Skipped),
            count(Verdict::Info),
            pct(raw, judged),
            pct(dev, judged),
        );
    }
    t.push('\n');
    t
}

/// One row per cause: kind, results, must-level steps lost, the note and the cases collapsed.
fn cause_table(report: &RunReport) -> String {
    if report.causes.is_empty() {
        return String::new();
    }
    let mut t = String::from(
        "## Deviations by cause\n\nBugs first, then failures no known deviation covers, then target faults, then deviations by design.\n\n| kind | results | must steps lost | cause | cases |\n|---|---:|---:|---|---|\n",
    );
    for c in &report.causes {
        let note = match &c.link {
            Some(l) => format!("{} ([link]({l}))", cell(&c.note)),
            None => cell(&c.note),
        };
        let cases = collapse(&c.cases);
        let cases = if c.cases.len() > 3 {
            format!(
                "<details><summary>{} results</summary>{}</details>",
                c.cases.len(),
                cell(&cases)
            )
        } else {
            cell(&cases)
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {note} | {cases} |",
            c.kind.as_str(),
            c.cases.len(),
            c.must_steps
        );
    }
    t.push('\n');
    t
}

/// Why cases were skipped, with counts.
fn skip_table(report: &RunReport) -> String {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Skipped)
    {
        *reasons.entry(r.reason.as_str()).or_default() += 1;
    }
    if reasons.is_empty() {
        return String::new();
    }
    let mut t = String::from("## Skipped\n\n| cases | why |\n|---|---|\n");
    for (reason, n) in reasons {
        let _ = writeln!(t, "| {n} | {} |", cell(reason));
    }
    t.push('\n');
    t
}

/// A run's report: scores, causes, then the cases × targets matrix (pruned and whole).
pub fn markdown(report: &RunReport) -> String {
    let results = &report.results;
    let summary = &report.summary;
    let mut columns: Vec<String> = results
        .iter()
        .map(|r| format!("{} ({})", r.target, r.profile.as_str()))
        .collect();
    columns.sort();
    columns.dedup();
    let mut rows: BTreeMap<(String, usize, String), BTreeMap<String, Verdict>> = BTreeMap::new();
    for r in results {
        rows.entry((r.file.clone(), r.line, r.id.clone()))
            .or_default()
            .insert(format!("{} ({})", r.target, r.profile.as_str()), r.verdict);
    }
    let mut out = String::from("# Conformance report\n\n");
    let _ = writeln!(
        out,
        "{} executed, {} passed, {} non-strict, {} failed, {} errors; score {:.1}% raw, {:.1}% with known deviations.\n",
        summary.executed,
        summary.passed,
        summary.non_strict,
        summary.failed,
        summary.errors,
        summary.score_raw * 100.0,
        summary.score_with_deviations * 100.0
    );
    if report.tiers.scores.all.steps > 0 {
        let _ = writeln!(out, "Tiers: {}.\n", tier_line(&report.tiers.scores));
    }
    out.push_str("Legend: ");
    out.push_str(
        &Verdict::ALL
            .iter()
            .map(|v| format!("{} {}", symbol(*v), v.as_str()))
            .collect::<Vec<_>>()
            .join(" · "),
    );
    out.push_str("\n\nRedactions: ");
    out.push_str(
        &report
            .redactions
            .iter()
            .map(|(n, d)| format!("`{n}` ({d})"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push_str("\n\n");
    let table = |pruned: bool| {
        let mut t = format!(
            "| case | {} |\n|---|{}\n",
            columns.join(" | "),
            "---|".repeat(columns.len())
        );
        for ((file, _, id), cells) in &rows {
            if pruned
                && cells
                    .values()
                    .all(|v| matches!(v, Verdict::Pass | Verdict::Skipped))
            {
                continue;
            }
            let cells: Vec<String> = columns
                .iter()
                .map(|c| cells.get(c).map(|v| symbol(*v)).unwrap_or("").to_string())
                .collect();
            let _ = writeln!(t, "| `{file}::{id}` | {} |", cells.join(" | "));
        }
        t
    };
    out.push_str(&fix_first_section(report));
    if report.tiers.scores.all.steps > 0 {
        out.push_str(&tier_tables(report));
    }
    out.push_str(&level_table(report));
    out.push_str(&cause_table(report));
    out.push_str(&skip_table(report));
    out.push_str("## Differences (pruned: rows where something is not a strict pass)\n\n");
    out.push_str(&table(true));
    out.push_str("\n## All cases\n\n");
    out.push_str(&table(false));
    out
}

/// `status / outcome / shape / exact` percentages in one cell.
pub fn compact(c: Option<&TierCounts>) -> String {
    match c {
        Some(c) if c.steps > 0 => Tier::MET
            .iter()
            .map(|t| format!("{:.0}", c.share(*t).unwrap_or(0.0) * 100.0))
            .collect::<Vec<_>>()
            .join(" / "),
        _ => "–".into(),
    }
}

/// Several runs side by side: tiers per level, then per spec area (each cell `status / outcome
/// / shape / exact` in %), then the verdict of every case.
pub fn matrix(runs: &[RunReport]) -> String {
    let names: Vec<String> = runs.iter().map(run_name).collect();
    let mut out = String::new();
    let head = |first: &str| {
        format!(
            "| {first} | {} |\n|---|{}\n",
            names.join(" | "),
            "---|".repeat(names.len())
        )
    };
    out.push_str(
        "Each cell: the share of graded steps meeting `status / outcome / shape / exact`, in % (nested tiers; see the legend below).\n\n",
    );
    out.push_str("### By level\n\n");
    out.push_str(&head("level"));
    for l in Level::ALL {
        if runs.iter().all(|r| r.tiers.scores.level(l).is_none()) {
            continue;
        }
        let cells: Vec<String> = runs
            .iter()
            .map(|r| compact(r.tiers.scores.level(l)))
            .collect();
        let _ = writeln!(out, "| {} | {} |", l.as_str(), cells.join(" | "));
    }
    let cells: Vec<String> = runs
        .iter()
        .map(|r| compact(Some(&r.tiers.scores.all)))
        .collect();
    let _ = writeln!(out, "| all | {} |", cells.join(" | "));
    out.push_str("\n### By spec area (all levels; must in parentheses)\n\n");
    out.push_str(&head("area"));
    let mut areas: Vec<String> = runs
        .iter()
        .flat_map(|r| r.tiers.by_area.keys().cloned())
        .collect();
    areas.sort_by_key(|a| sort_key(a));
    areas.dedup();
    for area in &areas {
        let label = runs
            .iter()
            .find_map(|r| {
                r.areas
                    .get(area)
                    .map(|t| format!("{area} {}", t.replace('`', "")))
            })
            .unwrap_or_else(|| area.clone());
        let cells: Vec<String> = runs
            .iter()
            .map(|r| {
                let s = r.tiers.by_area.get(area);
                let all = compact(s.map(|s| &s.all));
                match s.and_then(|s| s.level(Level::Must)) {
                    Some(m) if s.is_some_and(|s| s.by_level.len() > 1) => {
                        format!("{all} ({})", compact(Some(m)))
                    }
                    _ => all,
                }
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", cell(&label), cells.join(" | "));
    }
    out.push_str("\n### Verdicts\n\n");
    out.push_str(&head("verdict"));
    for v in Verdict::ALL {
        let cells: Vec<String> = runs
            .iter()
            .map(|r| {
                r.results
                    .iter()
                    .filter(|x| x.verdict == v)
                    .count()
                    .to_string()
            })
            .collect();
        if cells.iter().all(|c| c == "0") {
            continue;
        }
        let _ = writeln!(
            out,
            "| {} {} | {} |",
            symbol(v),
            v.as_str(),
            cells.join(" | ")
        );
    }
    out.push('\n');
    out.push_str(&tier_legend());
    out.push('\n');
    out
}

/// `influx-conformance report A.json B.json`: the side-by-side matrix, then each run's
/// "what to fix first".
pub fn runs(runs: &[RunReport]) -> String {
    let mut out = String::from("# Conformance across servers\n\n");
    out.push_str(&matrix(runs));
    for r in runs {
        let first = fix_first(&r.causes, 5);
        if first.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## {}: what to fix first\n", run_name(r));
        for (i, c) in first.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. **{}** — {}; {} results, {} must-level steps",
                i + 1,
                cell(&c.note),
                c.kind.as_str(),
                c.cases.len(),
                c.must_steps
            );
        }
    }
    out
}
