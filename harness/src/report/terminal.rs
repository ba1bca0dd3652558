//! The terminal report: what did not pass (identical target faults collapsed to one line with a
//! count), the causes, the verdict counts, the tier scores per level and per spec area × level,
//! and what to fix first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::causes::{collapse, fix_first, normalize_fault};
use super::model::CauseKind;
use super::model::{ResultRecord, RunReport, Scores, TierCounts};
use crate::area::sort_key;
use crate::case::Level;
use crate::observe::REDACTION_NAMES;
use crate::tier::Tier;
use crate::verdict::Verdict;

/// Details of one result that did not pass, for the terminal and test failure messages.
pub fn failure_text(r: &ResultRecord, root: &std::path::Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} [{}] {} on {}",
        r.verdict.as_str().to_uppercase(),
        r.profile.as_str(),
        r.name,
        r.target
    );
    let _ = writeln!(out, "  at {}:{}", root.join(&r.file).display(), r.line);
    let _ = writeln!(out, "  {}", r.reason);
    for m in &r.mismatches {
        let label = if m.step == 0 {
            m.what.clone()
        } else {
            format!("step {}: {}", m.step, m.what)
        };
        let _ = writeln!(out, "  {label}:");
        for l in m.diff().lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
    for n in &r.notes {
        for (i, l) in n.lines().enumerate() {
            let _ = writeln!(out, "  {}{l}", if i == 0 { "note: " } else { "  " });
        }
    }
    if let Some(c) = &r.reproduce {
        let _ = writeln!(out, "  reproduce with: {c}");
    }
    out
}

/// A share as a percentage, `–` for none.
pub fn pct(c: &TierCounts, t: Tier) -> String {
    c.share(t)
        .map(|s| format!("{:.1}%", s * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn tier_row(out: &mut String, label: &str, c: &TierCounts) {
    let _ = write!(out, "  {label:<44} {:>6}", c.steps);
    for t in Tier::MET {
        let _ = write!(out, " {:>8}", pct(c, t));
    }
    out.push('\n');
}

fn tier_header(out: &mut String, first: &str) {
    let _ = write!(out, "  {first:<44} {:>6}", "steps");
    for t in Tier::MET {
        let _ = write!(out, " {:>8}", t.as_str());
    }
    out.push('\n');
}

/// Rows of a scores table: one per level present, then `all` when there are several.
pub fn level_rows(s: &Scores) -> Vec<(String, TierCounts)> {
    let mut rows: Vec<(String, TierCounts)> = Level::ALL
        .iter()
        .filter_map(|l| s.level(*l).map(|c| (l.as_str().to_string(), *c)))
        .collect();
    if rows.len() > 1 {
        rows.push(("all".into(), s.all));
    }
    rows
}

/// Areas in spec order.
pub fn areas_in_order(report: &RunReport) -> Vec<&String> {
    let mut areas: Vec<&String> = report.tiers.by_area.keys().collect();
    areas.sort_by_key(|a| sort_key(a));
    areas
}

/// An area with its title when known: `v2.md §7 POST /api/v2/delete`.
pub fn area_label(report: &RunReport, area: &str) -> String {
    match report.areas.get(area) {
        Some(t) => format!("{area} {}", t.replace('`', "")),
        None => area.to_string(),
    }
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

pub fn terminal(report: &RunReport, root: &std::path::Path) -> String {
    let results = &report.results;
    let summary = &report.summary;
    let mut out = String::new();
    for r in results {
        if matches!(r.verdict, Verdict::Fail | Verdict::Xpass) {
            out.push_str(&failure_text(r, root));
            out.push('\n');
        }
    }
    // Target faults: one line per distinct fault, with a count when it repeats.
    let mut faults: BTreeMap<String, Vec<&ResultRecord>> = BTreeMap::new();
    let mut fault_order = Vec::new();
    for r in results.iter().filter(|r| r.verdict == Verdict::Error) {
        let key = normalize_fault(&r.reason);
        if !faults.contains_key(&key) {
            fault_order.push(key.clone());
        }
        faults.entry(key).or_default().push(r);
    }
    for key in &fault_order {
        let rs = &faults[key];
        if rs.len() == 1 {
            out.push_str(&failure_text(rs[0], root));
            out.push('\n');
            continue;
        }
        let _ = writeln!(out, "ERROR ×{} on {}: {key}", rs.len(), rs[0].target);
        let names: Vec<String> = rs
            .iter()
            .map(|r| format!("{} [{}]", r.name, r.profile.as_str()))
            .collect();
        let _ = writeln!(out, "  cases: {}", cut(&collapse(&names), 400));
        if let Some(c) = rs.iter().find_map(|r| r.reproduce.as_ref()) {
            let _ = writeln!(out, "  reproduce with: {c}");
        }
        out.push('\n');
    }
    for c in report
        .causes
        .iter()
        .filter(|c| matches!(c.kind, CauseKind::Bug | CauseKind::ByDesign))
    {
        let _ = writeln!(
            out,
            "xfail ×{} (known deviation, {}): {}",
            c.cases.len(),
            c.kind.as_str(),
            cut(&c.note, 200)
        );
    }
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.verdict == Verdict::Skipped) {
        *skipped.entry(r.reason.as_str()).or_default() += 1;
    }
    for (reason, n) in skipped {
        let _ = writeln!(out, "skipped {n}: {reason}");
    }
    let _ = writeln!(
        out,
        "redactions: {}",
        REDACTION_NAMES
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "summary: {} executed, {} passed, {} non-strict, {} failed, {} errors ({} skipped, {} info, {} xfail, {} xpass) in {:.2}s",
        summary.executed,
        summary.passed,
        summary.non_strict,
        summary.failed,
        summary.errors,
        summary.skipped,
        summary.info,
        summary.xfail,
        summary.xpass,
        summary.duration_ms as f64 / 1000.0
    );
    for level in Level::ALL {
        if let Some(counts) = summary.per_level.get(level.as_str()) {
            let parts: Vec<String> = Verdict::ALL
                .iter()
                .filter_map(|v| {
                    counts
                        .get(v.as_str())
                        .map(|n| format!("{n} {}", v.as_str()))
                })
                .collect();
            let _ = writeln!(out, "  {:<6} {}", level.as_str(), parts.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "score: {:.1}% raw, {:.1}% with known deviations",
        summary.score_raw * 100.0,
        summary.score_with_deviations * 100.0
    );
    if report.tiers.scores.all.steps > 0 {
        let _ = writeln!(out, "\ntiers (graded steps meeting each tier, nested):");
        tier_header(&mut out, "level");
        for (label, c) in level_rows(&report.tiers.scores) {
            tier_row(&mut out, &label, &c);
        }
        let _ = writeln!(out, "\nby spec area × level:");
        tier_header(&mut out, "area");
        for area in areas_in_order(report) {
            let s = &report.tiers.by_area[area];
            for (i, (label, c)) in level_rows(s).into_iter().enumerate() {
                let name = if i == 0 {
                    format!("{} · {label}", cut(&area_label(report, area), 34))
                } else {
                    format!("  · {label}")
                };
                tier_row(&mut out, &name, &c);
            }
        }
    }
    let first = fix_first(&report.causes, 5);
    if !first.is_empty() {
        let _ = writeln!(out, "\nwhat to fix first (must-level steps lost):");
        for (i, c) in first.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {:>4} steps, {:>3} cases [{}] {}",
                i + 1,
                c.must_steps,
                c.cases.len(),
                c.kind.as_str(),
                cut(&c.note, 150)
            );
        }
    }
    out
}
