//! Reports: terminal (summary, diffs, `reproduce with: curl`), JSON (versioned), JUnit XML,
//! Markdown matrix. Tokens never appear: observations are redacted and curl lines use
//! `$INFLUX_TOKEN`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::case::Level;
use crate::observe::REDACTION_NAMES;
use crate::run::CaseResult;
use crate::verdict::Verdict;

/// Version of the JSON report's schema.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub executed: usize,
    pub passed: usize,
    pub non_strict: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub info: usize,
    pub xfail: usize,
    pub xpass: usize,
    pub duration_ms: u64,
    /// Share of judged cases that pass, before known deviations.
    pub score_raw: f64,
    /// Share of judged cases that pass or fail as a known deviation says.
    pub score_with_deviations: f64,
    /// Per level: verdict → count.
    pub per_level: BTreeMap<String, BTreeMap<String, usize>>,
}

pub fn summarize(results: &[CaseResult], duration: Duration) -> Summary {
    let mut s = Summary {
        duration_ms: duration.as_millis() as u64,
        ..Default::default()
    };
    let mut judged = 0usize;
    let mut raw_pass = 0usize;
    let mut dev_pass = 0usize;
    for r in results {
        match r.verdict {
            Verdict::Pass => s.passed += 1,
            Verdict::PassNonStrict => s.non_strict += 1,
            Verdict::Fail => s.failed += 1,
            Verdict::Error => s.errors += 1,
            Verdict::Skipped => s.skipped += 1,
            Verdict::Info => s.info += 1,
            Verdict::Xfail => s.xfail += 1,
            Verdict::Xpass => s.xpass += 1,
        }
        if r.verdict != Verdict::Skipped {
            s.executed += 1;
        }
        if !matches!(r.verdict, Verdict::Skipped | Verdict::Info) {
            judged += 1;
            if r.raw_verdict.is_pass() {
                raw_pass += 1;
            }
            if r.verdict.is_pass() || r.verdict == Verdict::Xfail {
                dev_pass += 1;
            }
        }
        *s.per_level
            .entry(r.level.as_str().to_string())
            .or_default()
            .entry(r.verdict.as_str().to_string())
            .or_default() += 1;
    }
    if judged > 0 {
        s.score_raw = raw_pass as f64 / judged as f64;
        s.score_with_deviations = dev_pass as f64 / judged as f64;
    }
    s
}

/// Details of one result that did not pass, for the terminal and test failure messages.
pub fn failure_text(r: &CaseResult, root: &std::path::Path) -> String {
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

pub fn terminal(results: &[CaseResult], summary: &Summary, root: &std::path::Path) -> String {
    let mut out = String::new();
    for r in results {
        if matches!(r.verdict, Verdict::Fail | Verdict::Error | Verdict::Xpass) {
            out.push_str(&failure_text(r, root));
            out.push('\n');
        }
    }
    for r in results.iter().filter(|r| r.verdict == Verdict::Xfail) {
        let note = r.deviation.as_ref().map(|d| d.note.as_str()).unwrap_or("");
        let _ = writeln!(
            out,
            "xfail [{}] {} on {} (known deviation: {note})",
            r.profile.as_str(),
            r.name,
            r.target
        );
    }
    let skipped: BTreeMap<&str, usize> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Skipped)
        .fold(BTreeMap::new(), |mut m, r| {
            *m.entry(r.reason.as_str()).or_default() += 1;
            m
        });
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
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: &'static str,
    tool_version: &'static str,
    redactions: BTreeMap<&'static str, &'static str>,
    targets: Vec<String>,
    summary: &'a Summary,
    results: &'a [CaseResult],
}

pub fn json(results: &[CaseResult], summary: &Summary) -> String {
    let mut targets: Vec<String> = results.iter().map(|r| r.target.clone()).collect();
    targets.sort();
    targets.dedup();
    let report = JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        tool: "influx-conformance",
        tool_version: env!("CARGO_PKG_VERSION"),
        redactions: REDACTION_NAMES.iter().copied().collect(),
        targets,
        summary,
        results,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

fn xml(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {
                format!("\\x{:02x}", c as u32)
            }
            c => c.to_string(),
        })
        .collect()
}

/// One testcase per case × target (profile in the name).
pub fn junit(results: &[CaseResult], summary: &Summary, root: &std::path::Path) -> String {
    let mut by_target: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by_target.entry(&r.target).or_default().push(r);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"influx-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        results.len(),
        summary.failed + summary.xpass,
        summary.errors,
        summary.duration_ms as f64 / 1000.0
    );
    for (target, rs) in by_target {
        let _ =
            writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml(target),
            rs.len(),
            rs.iter().filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Xpass)).count(),
            rs.iter().filter(|r| r.verdict == Verdict::Error).count(),
            rs.iter().filter(|r| r.verdict == Verdict::Skipped).count(),
        );
        for r in rs {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}::{}\" time=\"{:.3}\"",
                xml(&r.file),
                xml(&r.id),
                r.profile.as_str(),
                r.duration_ms as f64 / 1000.0
            );
            match r.verdict {
                Verdict::Fail | Verdict::Xpass => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                        xml(&r.reason),
                        r.verdict.as_str(),
                        xml(&failure_text(r, root))
                    );
                }
                Verdict::Error => {
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>",
                        xml(&r.reason),
                        xml(&failure_text(r, root))
                    );
                }
                Verdict::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml(&r.reason)
                    );
                }
                v => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>verdict: {}</system-out>\n    </testcase>",
                        v.as_str()
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn symbol(v: Verdict) -> &'static str {
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

/// Scores per requirement level: raw (passes / judged) and with known deviations
/// ((passes + xfail) / judged); judged excludes skipped and info, as in `summarize`.
fn level_table(results: &[CaseResult]) -> String {
    let mut t = String::from(
        "## Scores per level\n\n| level | judged | pass | non-strict | xfail | fail | xpass | error | skipped | info | raw | with deviations |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let pct = |n: usize, d: usize| {
        if d == 0 {
            "–".to_string()
        } else {
            format!("{:.1}%", n as f64 * 100.0 / d as f64)
        }
    };
    for level in Level::ALL {
        let rs: Vec<&CaseResult> = results.iter().filter(|r| r.level == level).collect();
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

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The known deviations the run applied (xfail and xpass), with their kind and note.
fn deviation_table(results: &[CaseResult]) -> String {
    let rows: Vec<&CaseResult> = results.iter().filter(|r| r.deviation.is_some()).collect();
    if rows.is_empty() {
        return String::new();
    }
    let bugs = rows
        .iter()
        .filter(|r| {
            r.deviation
                .as_ref()
                .is_some_and(|d| d.kind == crate::deviation::DeviationKind::Bug)
        })
        .count();
    let mut t = format!(
        "## Known deviations\n\n{} cases: {} by design, {bugs} bugs.\n\n| case | verdict | kind | note |\n|---|---|---|---|\n",
        rows.len(),
        rows.len() - bugs
    );
    for r in rows {
        let Some(d) = &r.deviation else { continue };
        let kind = match d.kind {
            crate::deviation::DeviationKind::Bug => "bug",
            crate::deviation::DeviationKind::ByDesign => "by design",
        };
        let note = match &d.link {
            Some(l) => format!("{} ([link]({l}))", cell(&d.note)),
            None => cell(&d.note),
        };
        let _ = writeln!(
            t,
            "| `{}` | {} {} | {kind} | {note} |",
            r.name,
            symbol(r.verdict),
            r.verdict.as_str()
        );
    }
    t.push('\n');
    t
}

/// Why cases were skipped, with counts.
fn skip_table(results: &[CaseResult]) -> String {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.verdict == Verdict::Skipped) {
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

/// Cases × targets matrix, with a legend and a pruned view (rows that are not all pass).
pub fn markdown(results: &[CaseResult], summary: &Summary) -> String {
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
        &REDACTION_NAMES
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
    out.push_str(&level_table(results));
    out.push_str(&deviation_table(results));
    out.push_str(&skip_table(results));
    out.push_str("## Differences (pruned: rows where something is not a strict pass)\n\n");
    out.push_str(&table(true));
    out.push_str("\n## All cases\n\n");
    out.push_str(&table(false));
    out
}
