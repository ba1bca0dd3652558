//! The HTML report (`--report-html FILE`, and `influx-conformance report A.json B.json
//! --report-html FILE` for several runs): one self-contained page — no network, no external
//! asset; the style sheet and script are inlined — with the tier × spec area matrix drawn as
//! bars, filters (verdict, level, area, tier, text), what to fix first, the causes, and per case
//! the exchange as `curl`, InfluxDB's answer beside the target's with a diff, the verdict and
//! the deviation note.
//!
//! Invariant: what a server sent reaches the page only as JSON data that the script sets as
//! text (`textContent`), never as markup; the data's `<` are escaped so it cannot end its
//! `<script>` element.

use std::fmt::Write as _;

use serde::Serialize;

use super::causes::{collapse, fix_first};
use super::markdown::tier_legend;
use super::model::Cause;
use super::model::{run_name, ResultRecord, RunReport, Summary};

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

#[derive(Serialize)]
struct PageData<'a> {
    runs: Vec<PageRun<'a>>,
}

#[derive(Serialize)]
struct PageRun<'a> {
    name: String,
    labels: &'a std::collections::BTreeMap<String, String>,
    areas: &'a std::collections::BTreeMap<String, String>,
    results: Vec<PageResult<'a>>,
}

#[derive(Serialize)]
struct PageResult<'a> {
    #[serde(flatten)]
    record: &'a ResultRecord,
    /// Per mismatch, its unified diff as lines (`-`, `+`, ` `, `@@`); same order as
    /// `record.mismatches`.
    mismatch_diffs: Vec<Vec<String>>,
    /// Per step, the diff of InfluxDB's answer and the target's; same order as `record.steps`.
    step_diffs: Vec<Vec<String>>,
}

fn diff_lines(expected: &str, actual: &str) -> Vec<String> {
    let nl = |s: &str| {
        if s.ends_with('\n') {
            s.to_string()
        } else {
            format!("{s}\n")
        }
    };
    let (e, a) = (nl(expected), nl(actual));
    similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(3)
        .header("expected", "observed")
        .to_string()
        .lines()
        .map(str::to_string)
        .collect()
}

fn page_run(r: &RunReport) -> PageRun<'_> {
    PageRun {
        name: run_name(r),
        labels: &r.labels,
        areas: &r.areas,
        results: r
            .results
            .iter()
            .map(|rec| PageResult {
                record: rec,
                mismatch_diffs: rec
                    .mismatches
                    .iter()
                    .map(|m| diff_lines(&m.expected, &m.actual))
                    .collect(),
                step_diffs: rec
                    .steps
                    .iter()
                    .map(|s| match (&s.expected, &s.observed) {
                        (Some(e), Some(o)) => diff_lines(e, o),
                        _ => Vec::new(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JSON that can sit inside `<script type="application/json">`: every `<` escaped.
fn script_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "{\"runs\":[]}".into())
        .replace('<', "\\u003c")
}

fn summary_line(s: &Summary) -> String {
    format!(
        "{} executed: {} passed, {} non-strict, {} failed, {} errors, {} xfail, {} xpass, {} info, {} skipped; score {:.1}% raw, {:.1}% with known deviations",
        s.executed,
        s.passed,
        s.non_strict,
        s.failed,
        s.errors,
        s.xfail,
        s.xpass,
        s.info,
        s.skipped,
        s.score_raw * 100.0,
        s.score_with_deviations * 100.0
    )
}

fn causes_html(run: &RunReport, causes: &[Cause], multi: bool) -> String {
    let mut out = String::new();
    let first = fix_first(causes, 10);
    let title = if multi {
        format!("{}: what to fix first", esc(&run_name(run)))
    } else {
        "What to fix first".to_string()
    };
    let _ = writeln!(out, "<section class=\"fix-first\"><h2>{title}</h2>");
    if first.is_empty() {
        out.push_str("<p class=\"empty\">Nothing: no bug, unrecorded failure or target fault costs a must- or should-level step.</p>");
    } else {
        out.push_str("<p class=\"legend\">Causes other than by-design deviations, ranked by the must-level steps they cost (then should-level).</p><ol class=\"fix\">");
        for c in first {
            let _ = write!(
                out,
                "<li><b>{}</b> <span class=\"kind\">{}</span> — {} result{}, {} must-level step{}</li>",
                esc(&c.note),
                esc(c.kind.as_str()),
                c.cases.len(),
                if c.cases.len() == 1 { "" } else { "s" },
                c.must_steps,
                if c.must_steps == 1 { "" } else { "s" }
            );
        }
        out.push_str("</ol>");
    }
    if !causes.is_empty() {
        out.push_str("<details><summary>All causes, bugs first</summary><table><thead><tr><th>kind</th><th class=\"num\">results</th><th class=\"num\">must steps lost</th><th>cause</th><th>cases</th></tr></thead><tbody>");
        for c in causes {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"meta\">{}</td></tr>",
                esc(c.kind.as_str()),
                c.cases.len(),
                c.must_steps,
                esc(&c.note),
                esc(&collapse(&c.cases))
            );
        }
        out.push_str("</tbody></table></details>");
    }
    out.push_str("</section>\n");
    out
}

/// The page for one run or several side by side.
pub fn html(runs: &[RunReport]) -> String {
    let multi = runs.len() > 1;
    let title = if multi {
        format!(
            "Conformance across servers: {}",
            runs.iter().map(run_name).collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "Conformance report: {}",
            runs.first().map(run_name).unwrap_or_default()
        )
    };
    let data = PageData {
        runs: runs.iter().map(page_run).collect(),
    };
    let mut out = String::from("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No network: a policy that allows nothing but this page's own inline style and script.
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    let _ = writeln!(out, "<style>\n{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<header><h1>{}</h1>", esc(&title));
    for r in runs {
        let labels: Vec<String> = r
            .labels
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "server" | "version"))
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(
            out,
            "<p>{}{} — {}{}</p>",
            if multi {
                format!("<b>{}</b>: ", esc(&run_name(r)))
            } else {
                String::new()
            },
            esc(&r.targets.join(", ")),
            esc(&summary_line(&r.summary)),
            if labels.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&labels.join("; ")))
            }
        );
    }
    out.push_str("</header>\n<main>\n");
    out.push_str("<section><h2>Tiers by spec area</h2><div id=\"matrix\"></div>");
    let _ = writeln!(
        out,
        "<p class=\"legend\">{}</p></section>",
        esc(&tier_legend()).replace("**", "")
    );
    for r in runs {
        out.push_str(&causes_html(r, &r.causes, multi));
    }
    out.push_str("<section><h2>Cases</h2><div class=\"filters\">\n");
    for (id, key, label) in [
        ("f-verdict", "verdict", "verdict"),
        ("f-level", "level", "level"),
        ("f-area", "area", "spec area"),
        ("f-tier", "tier", "tier (of the case)"),
    ] {
        let _ = writeln!(
            out,
            "<label>{label}<select id=\"{id}\" data-key=\"{key}\"><option value=\"\">all</option></select></label>"
        );
    }
    out.push_str("<label>name<input id=\"f-text\" type=\"search\" placeholder=\"file or id\"></label><span id=\"shown\"></span></div>\n<div id=\"cases\"></div></section>\n</main>\n");
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"report-data\">{}</script>",
        script_json(&data)
    );
    let _ = writeln!(out, "<script>\n{JS}</script>\n</body>\n</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{from_records, Meta};

    const RESULT: &str = r#"{"name":"f.yaml::x","file":"f.yaml","line":3,"id":"x","level":"must",
        "spec":"v2.md §2","area":"v2.md §2","profile":"v2","target":"t","verdict":"fail",
        "tier":"status","raw_verdict":"fail","reason":"</script><script>alert(1)</script>",
        "mismatches":[],"notes":[],"duration_ms":1,
        "steps":[{"step":1,"tier":"status","holds":false,"request":"POST /api/v2/write",
        "expected":"- status: 400\n","observed":"- status: 400\n  body: <b>x</b>\n"}]}"#;

    #[test]
    fn server_text_stays_data_and_the_page_needs_nothing_outside() {
        let record: ResultRecord = serde_json::from_str(RESULT).unwrap();
        let report = from_records(vec![record], &Meta::default());
        let page = html(std::slice::from_ref(&report));
        // The only scripts are the data and the inline script; nothing closes them early.
        assert_eq!(page.matches("<script").count(), 2);
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(!page.contains("<b>x</b>"));
        assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)"));
        for external in ["<link", " src=", "@import", "url(", "http://", "https://"] {
            assert!(!page.contains(external), "{external}");
        }
        assert!(page.contains("default-src 'none'"));
        // The data reads back, with the step's diff.
        let start = page.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        let diff = &data["runs"][0]["results"][0]["step_diffs"][0];
        assert!(
            diff.as_array()
                .unwrap()
                .iter()
                .any(|l| l == "+  body: <b>x</b>"),
            "{diff}"
        );
    }
}
