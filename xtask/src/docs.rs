//! `cargo xtask docs`: cases marked `docs: true`, run in-process through the harness library,
//! rendered as documentation examples. Nothing here is hand-written: requests, statuses, bodies,
//! `rejected_points` rows and landed rows come from the executed run.

use std::path::Path;
use std::sync::Arc;

use influx_conformance::case::{Corpus, LoadedCase, Profile, Step};
use influx_conformance::observe::StepObservation;
use influx_conformance::run::{run_case, RunConfig};
use influx_conformance::server::inprocess::InProcess;
use influx_conformance::server::Target;
use influx_conformance::verdict::Verdict;

/// The seed's column order for `rejected_points` tables.
const SEED_COLUMNS: [&str; 9] = [
    "_measurement",
    "_field",
    "_value",
    "bucket",
    "field",
    "gotType",
    "measurement",
    "reason",
    "wantType",
];

/// Splits one CSV record (Go `encoding/csv` quoting).
fn csv_record(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Data rows of an annotated-CSV body as (column → value) lists.
fn csv_rows(body: &str) -> Vec<Vec<(String, String)>> {
    let mut header: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in body.split("\r\n") {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells = csv_record(line);
        if cells.get(1).map(String::as_str) == Some("result") {
            header = cells;
            continue;
        }
        rows.push(header.iter().cloned().zip(cells).collect());
    }
    rows
}

/// Splits at unescaped `sep`.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            if let Some(last) = out.last_mut() {
                last.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// A rendered `rejected_points` row (`rejected_points,tag=v field=value time`) as columns.
fn lp_row(row: &str) -> Vec<(String, String)> {
    let Some(space) = row.rfind(' ') else {
        return Vec::new();
    };
    let head = &row[..space];
    let parts = split_unescaped(head, ' ');
    let key = parts.first().cloned().unwrap_or_default();
    let field = parts[1..].join(" ");
    let mut cols = Vec::new();
    let key_parts = split_unescaped(&key, ',');
    cols.push(("_measurement".to_string(), key_parts[0].clone()));
    for t in &key_parts[1..] {
        if let Some((k, v)) = t.split_once('=') {
            cols.push((k.to_string(), v.to_string()));
        }
    }
    if let Some((k, v)) = field.split_once('=') {
        cols.push(("_field".into(), k.to_string()));
        let v = v.trim_end_matches('i').trim_matches('"').to_string();
        cols.push(("_value".into(), v));
    }
    cols
}

fn table(rows: &[Vec<(String, String)>]) -> String {
    let present: Vec<&str> = SEED_COLUMNS
        .iter()
        .copied()
        .filter(|c| rows.iter().any(|r| r.iter().any(|(k, _)| k == c)))
        .collect();
    // Placeholders like `<bucket_id:main>` would read as HTML in a Markdown table.
    let cell = |s: &str| {
        let s = s.replace('|', "\\|").replace('\n', "\\n");
        if s.contains('<') {
            format!("`{s}`")
        } else {
            s
        }
    };
    let mut out = format!(
        "| {} |\n|{}\n",
        present.join(" | "),
        ":---|".repeat(present.len())
    );
    for r in rows {
        let cells: Vec<String> = present
            .iter()
            .map(|c| {
                r.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| cell(v))
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn fence(lang: &str, body: &str) -> String {
    let ticks = if body.contains("```") { "````" } else { "```" };
    format!("{ticks}{lang}\n{}\n{ticks}\n", body.trim_end_matches('\n'))
}

fn pretty_json(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    serde_json::to_string_pretty(&v).ok()
}

/// InfluxDB 3 Core listens on 8181 (`influxdb3 serve`'s default `--http-bind`); the in-process
/// reference reports the v2 port. Pages of v3 cases show the port a v3 reader uses.
const V3_BASE_URL: &str = "http://127.0.0.1:8181";
const REFERENCE_BASE_URL: &str = "http://127.0.0.1:8086";

/// What a profile calls the place writes go: InfluxDB 3 has databases (`db=`), not buckets.
fn container(profile: Profile) -> &'static str {
    match profile {
        Profile::V3 => "database",
        _ => "bucket",
    }
}

fn render_step(n: usize, step: &Step, o: &StepObservation, profile: Profile, out: &mut String) {
    let place = container(profile);
    let is_monitoring_query = step.query.as_ref().is_some_and(|q| {
        q.flux
            .as_deref()
            .unwrap_or_default()
            .contains("\"_monitoring\"")
    });
    if let Some(w) = &step.wait {
        out.push_str(&format!("### {n}. Time passes: {w}\n\n"));
        return;
    }
    if step.settle.is_some() {
        out.push_str(&format!("### {n}. Wait until the write is applied\n\n"));
        return;
    }
    if step.rejected_points.is_some() {
        out.push_str(&format!(
            "### {n}. `rejected_points` logged for the {place}\n\n"
        ));
        let rows: Vec<Vec<(String, String)>> = o
            .rejected_points
            .iter()
            .flatten()
            .map(|r| lp_row(r))
            .collect();
        if rows.is_empty() {
            out.push_str("None.\n\n");
        } else {
            out.push_str(&table(&rows));
            out.push('\n');
        }
        return;
    }
    if step.landed.is_some() {
        out.push_str(&format!("### {n}. What landed in the {place}\n\n"));
        landed(o, out);
        return;
    }
    let what = if step.write.is_some() {
        "Write"
    } else if step.query.is_some() {
        "Query"
    } else if step.delete.is_some() {
        "Delete"
    } else {
        "Request"
    };
    out.push_str(&format!("### {n}. {what}: `{}`\n\n", o.request));
    if let Some(curl) = &o.curl {
        let curl = match profile {
            Profile::V3 => curl.replace(REFERENCE_BASE_URL, V3_BASE_URL),
            _ => curl.clone(),
        };
        out.push_str(&fence("sh", &curl));
        out.push('\n');
    }
    if let Some(w) = &step.write {
        if let Some(body) = &w.body {
            out.push_str("Line protocol:\n\n");
            out.push_str(&fence("text", body));
            out.push('\n');
        }
    }
    if let Some(flux) = step.query.as_ref().and_then(|q| q.flux.as_ref()) {
        out.push_str("Flux:\n\n");
        out.push_str(&fence("js", flux));
        out.push('\n');
    }
    if let Some(status) = o.status {
        out.push_str(&format!("Response: **HTTP {status}**"));
        match o.body.as_deref() {
            None | Some("") => out.push_str(", empty body.\n\n"),
            Some(body) => {
                out.push_str("\n\n");
                match pretty_json(body) {
                    Some(p) => out.push_str(&fence("json", &p)),
                    None => out.push_str(&fence("text", &body.replace("\r\n", "\n"))),
                }
                out.push('\n');
                if is_monitoring_query {
                    let rows = csv_rows(body);
                    if !rows.is_empty() {
                        out.push_str("The `rejected_points` rows, in the seed's column order:\n\n");
                        out.push_str(&table(&rows));
                        out.push('\n');
                    }
                }
            }
        }
    }
    if o.landed.is_some() {
        out.push_str(&format!("Then in the {place}:\n\n"));
        landed(o, out);
    }
}

fn landed(o: &StepObservation, out: &mut String) {
    match &o.landed {
        Some(rows) if rows.is_empty() => out.push_str("Nothing.\n\n"),
        Some(rows) => {
            out.push_str(&fence("text", &rows.join("\n")));
            out.push('\n');
        }
        None => out.push_str("(not read back)\n\n"),
    }
}

fn render_case(case: &LoadedCase, profile: Profile, steps: &[StepObservation]) -> String {
    let c = &case.case;
    let mut out = format!("# {} ({})\n\n", case.name(), profile.as_str());
    out.push_str("<!-- Generated by `cargo xtask docs` from an executed run of the case against the in-process reference; do not edit. -->\n\n");
    out.push_str(&format!("{}\n\n", c.description));
    out.push_str(&format!("**Expected:** {}\n\n", c.expectation));
    out.push_str(&format!(
        "Level `{}`; spec: {}; case [`{}`](../../cases/{}).\n\n",
        case.level.as_str(),
        case.spec,
        case.name(),
        case.file
    ));
    out.push_str(match profile {
        Profile::V3 => "Placeholders: `<bucket:main>` stands for the database (the `db` parameter; InfluxDB 3 has no org and no bucket IDs); `<now>` and `<wall_clock>` for the server's time around the request. `curl` lines use InfluxDB 3's port 8181 (the reference: `influx-reference serve --flavor v3 --bind 127.0.0.1:8181`).\n\n",
        _ => "Placeholders: `<org>`, `<bucket:main>` and `<bucket_id:main>` stand for the org, the bucket and its ID; `<now>` and `<wall_clock>` for the server's time around the request.\n\n",
    });
    let place = container(profile);
    for b in &c.setup.buckets {
        let mut line = format!("- {place} `{}`", b.name);
        if let Some(r) = &b.retention {
            line.push_str(&format!(", retention {r}"));
        }
        if !b.measurements.is_empty() {
            line.push_str(", explicit schema");
        }
        out.push_str(&format!("{line}\n"));
        for m in &b.measurements {
            let json = serde_json::to_string_pretty(&m.to_json()).unwrap_or_default();
            out.push_str("\n  ");
            out.push_str(&fence("json", &json).replace('\n', "\n  "));
            out.push('\n');
        }
    }
    if let Some(seed) = &c.setup.seed {
        out.push_str(&format!("\nThe {place} already holds:\n\n"));
        out.push_str(&fence("text", &seed.lines));
    }
    out.push_str("\n## Exchange\n\n");
    for (i, (step, o)) in c.steps.iter().zip(steps).enumerate() {
        render_step(i + 1, step, o, profile, &mut out);
    }
    let lines: Vec<&str> = out.trim_end().lines().map(str::trim_end).collect();
    lines.join("\n") + "\n"
}

/// Every example: (path relative to the repository root, content).
pub fn render(root: &Path) -> Result<Vec<(String, String)>, String> {
    let corpus = Corpus::load(&root.join("cases")).map_err(|e| e.to_string())?;
    let target: Arc<dyn Target> = Arc::new(InProcess::new(Profile::ALL.to_vec()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let config = RunConfig {
        jobs: 1,
        ..RunConfig::default()
    };
    let mut files = Vec::new();
    let mut index = String::from("# Examples\n\nGenerated by `cargo xtask docs` from the cases marked `docs: true`, each run against the in-process reference; do not edit. `cargo xtask docs --check` (in CI) fails when these differ from a fresh run.\n\n");
    for case in corpus.cases.iter().filter(|c| c.case.docs) {
        let profiles = case.profiles.list();
        for &profile in profiles {
            let r = rt.block_on(run_case(case, target.as_ref(), profile, &config));
            if !matches!(r.verdict, Verdict::Pass) {
                return Err(format!(
                    "{} ({}) does not pass against the reference ({}): fix it before rendering it as documentation",
                    case.name(),
                    profile.as_str(),
                    r.reason
                ));
            }
            let steps = r.observation.map(|o| o.steps).unwrap_or_default();
            let stem = case.file.trim_end_matches(".yaml").replace('/', "__");
            let name = if profiles.len() > 1 {
                format!("{stem}__{}__{}.md", case.case.id, profile.as_str())
            } else {
                format!("{stem}__{}.md", case.case.id)
            };
            index.push_str(&format!(
                "- [{} ({})](./{name}): {}\n",
                case.name(),
                profile.as_str(),
                case.case.description.lines().next().unwrap_or_default()
            ));
            files.push((
                format!("docs/examples/{name}"),
                render_case(case, profile, &steps),
            ));
        }
    }
    files.push(("docs/examples/README.md".into(), index));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_rows_in_seed_order() {
        let row = lp_row(
            r"rejected_points,bucket=<bucket_id:main>,field=temperature,gotType=String,measurement=airSensors,reason=field\ type\ mismatch\ with\ schema,wantType=Float count=1i <now>",
        );
        assert_eq!(
            table(&[row]),
            "| _measurement | _field | _value | bucket | field | gotType | measurement | reason | wantType |\n|:---|:---|:---|:---|:---|:---|:---|:---|:---|\n| rejected_points | count | 1 | `<bucket_id:main>` | temperature | String | airSensors | field type mismatch with schema | Float |\n"
        );
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(
            csv_record(r#",,0,"x, ""y""",a"#),
            ["", "", "0", "x, \"y\"", "a"]
        );
    }
}
