//! `cargo xtask peers [--update] [--only NAME]`: the conformance suite against real
//! third-party servers, each described by `targets/<name>.yaml` (adapters, labels, known
//! deviations). Without `--update` it fails when a verdict moves against the recorded
//! deviations (a new failure, an xpass) or the harness errors; with `--update` it rewrites
//! the target files' deviation lists and `docs/compat/<name>.md` from the run, and (for a run
//! of every peer) `docs/compat/README.md` — the reference, InfluxDB 1.6 and VictoriaMetrics by
//! tier and spec area, rendered by `influx-conformance report` — and the tier table between
//! the `tier-matrix` markers of the README.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::servers::{self, Result, Server};

struct Peer {
    /// `targets/<target>.yaml`, `docs/compat/<target>.md`.
    target: &'static str,
    /// Starts the server; given the reference binary (for the reference run as a peer).
    start: fn(&Path) -> Result<Server>,
    /// The operator token the harness sends (`--token`); none for the servers without auth.
    token: Option<&'static str>,
    /// In the side-by-side matrix (`docs/compat/README.md`, the README's tier table): the
    /// v2-profile runs of third-party servers. The v3-profile runs and InfluxDB 3 judged by the
    /// 2.7 corpus have their own reports only.
    matrix: bool,
}

fn influxdb(_: &Path) -> Result<Server> {
    servers::start_influxdb()
}

fn victoria_metrics(_: &Path) -> Result<Server> {
    servers::start_victoria_metrics()
}

/// The v3 reference (`serve --flavor v3`), for the report of InfluxDB 3 against 2.7's rules.
fn reference_v3(bin: &Path) -> Result<Server> {
    servers::start_reference(bin, &["--flavor", "v3", "--token", V3_TOKEN])
}

const V3_TOKEN: &str = "my-token";

const PEERS: [Peer; 5] = [
    Peer {
        target: "influxdb-1.6",
        start: influxdb,
        token: None,
        matrix: true,
    },
    Peer {
        target: "victoriametrics-1.79",
        start: victoria_metrics,
        token: None,
        matrix: true,
    },
    // The v3 profile on the compatibility endpoints these servers have (`/write`; InfluxDB 3
    // cases that need `/api/v3/...` are skipped with the reason).
    Peer {
        target: "influxdb-1.6-v3",
        start: influxdb,
        token: None,
        matrix: false,
    },
    Peer {
        target: "victoriametrics-1.79-v3",
        start: victoria_metrics,
        token: None,
        matrix: false,
    },
    // The v2 corpus against InfluxDB 3 (the v3 reference): which 2.7 rules InfluxDB 3 breaks.
    Peer {
        target: "influxdb3-vs-2.7",
        start: reference_v3,
        token: Some(V3_TOKEN),
        matrix: false,
    },
];

pub struct Options {
    pub update: bool,
    pub only: Option<String>,
}

pub fn run(root: &Path, target_dir: &Path, opts: &Options) -> Result<bool> {
    let selected: Vec<&Peer> = PEERS
        .iter()
        .filter(|p| opts.only.as_deref().is_none_or(|o| p.target.contains(o)))
        .collect();
    if selected.iter().any(|p| p.token.is_none()) {
        servers::ensure_packages()?;
    }
    let bin = crate::build_harness(root, target_dir)?;
    let reference_bin = crate::build_reference(root, target_dir)?;
    let out_dir = target_dir.join("peers");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut all_ok = true;
    let mut reports = Vec::new();
    for peer in selected {
        eprintln!("\n=== {} ===", peer.target);
        let server = (peer.start)(&reference_bin)?;
        eprintln!(
            "{} listening on {} (pid {})",
            server.name,
            server.url,
            server.pid()
        );
        let json = out_dir.join(format!("{}.json", peer.target));
        let md = out_dir.join(format!("{}.md", peer.target));
        let mut code = suite(root, &bin, peer, &server.url, &json, &md)?;
        if opts.update {
            let file = root.join("targets").join(format!("{}.yaml", peer.target));
            let changed = update_deviations(&file, &read_json(&json)?)?;
            if changed {
                eprintln!("{}: deviations rewritten; running again", file.display());
                code = suite(root, &bin, peer, &server.url, &json, &md)?;
            }
            let doc = root.join("docs/compat").join(format!("{}.md", peer.target));
            write_doc(&doc, peer, &file, &md)?;
            eprintln!("wrote {}", doc.display());
        }
        drop(server);
        if peer.matrix {
            reports.push(json.clone());
        }
        eprintln!(
            "{}: exit code {code}; reports in {} and {}",
            peer.target,
            json.display(),
            md.display()
        );
        if code != 0 {
            all_ok = false;
        }
    }
    if opts.update && reports.len() == PEERS.iter().filter(|p| p.matrix).count() {
        // The reference over the same (v2) cases, for the matrix's first column.
        let reference = out_dir.join("reference.json");
        let status = Command::new(&bin)
            .current_dir(root)
            .args(["run", "--quiet", "--profile", "v2", "--report-json"])
            .arg(&reference)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if status.code() != Some(0) {
            return Err("the suite does not pass on the reference: fix that first".into());
        }
        reports.insert(0, reference);
        write_matrix(root, &bin, &out_dir, &reports)?;
    }
    Ok(all_ok)
}

/// `docs/compat/README.md` from `influx-conformance report` over the runs, and the README's
/// tier table (between `<!-- tier-matrix:start -->` and `<!-- tier-matrix:end -->`).
fn write_matrix(
    root: &Path,
    bin: &Path,
    out_dir: &Path,
    reports: &[std::path::PathBuf],
) -> Result<()> {
    let md = out_dir.join("matrix.md");
    let html = out_dir.join("compat.html");
    let status = Command::new(bin)
        .current_dir(root)
        .arg("report")
        .args(reports)
        .arg("--report-md")
        .arg(&md)
        .arg("--report-html")
        .arg(&html)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if status.code() != Some(0) {
        return Err("influx-conformance report failed".into());
    }
    let text = std::fs::read_to_string(&md).map_err(|e| format!("{}: {e}", md.display()))?;
    let body = text
        .strip_prefix("# Conformance across servers\n")
        .unwrap_or(&text)
        .trim_start();
    let mut doc = String::from(
        "# Compatibility across servers\n\n\
         Generated by `cargo xtask peers --update` (do not edit by hand): the conformance suite's \
         v2 cases against the reference (in-process), InfluxDB 1.6 and VictoriaMetrics 1.79, each \
         started by hand on loopback from its Debian package, rendered by `influx-conformance \
         report`. Each server's full report, with its deviations grouped by cause: ",
    );
    for peer in PEERS.iter().filter(|p| p.matrix) {
        doc.push_str(&format!("[{0}]({0}.md), ", peer.target));
    }
    doc.truncate(doc.len() - 2);
    doc.push_str(". The same runs as one page: `influx-conformance report --report-html` (see the README's screenshot).\n\n");
    doc.push_str(body);
    let path = root.join("docs/compat/README.md");
    std::fs::write(&path, &doc).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    // The README shows the by-level table.
    let table = body
        .split("### By level\n\n")
        .nth(1)
        .and_then(|t| t.split("\n### ").next())
        .ok_or("the report has no `### By level` table")?;
    let readme = root.join("README.md");
    let text =
        std::fs::read_to_string(&readme).map_err(|e| format!("{}: {e}", readme.display()))?;
    let (start, end) = ("<!-- tier-matrix:start -->\n", "<!-- tier-matrix:end -->");
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        return Err("README.md has no tier-matrix markers".into());
    };
    let new = format!("{}{start}{}\n{}", &text[..a], table.trim_end(), &text[b..]);
    if new != text {
        std::fs::write(&readme, new).map_err(|e| format!("{}: {e}", readme.display()))?;
        eprintln!("updated the tier table in {}", readme.display());
    }
    Ok(())
}

/// One run of the suite against `url` with the target file's adapters and deviations.
fn suite(root: &Path, bin: &Path, peer: &Peer, url: &str, json: &Path, md: &Path) -> Result<i32> {
    let target = peer.target;
    let mut cmd = Command::new(bin);
    cmd.current_dir(root)
        .args(["run", "--quiet", "--target", target, "--url", url]);
    if let Some(token) = peer.token {
        cmd.args(["--token", token]);
    }
    let status = cmd
        .arg("--report-json")
        .arg(json)
        .arg("--report-md")
        .arg(md)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    match status.code() {
        Some(c @ (0 | 1)) => Ok(c),
        Some(c) => Err(format!(
            "the harness stopped with exit code {c} against {target} (a configuration error?)"
        )),
        None => Err(format!("the harness was killed while running {target}")),
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The deviation list a run implies: deviations that still hold (xfail) keep their kind and
/// note; new failures are added as `bug` marked unreviewed; a server answering invalid HTTP is
/// recorded with its fault; stale deviations (xpass) and ones no case used are dropped.
/// Other errors are never recorded (they need a look). Returns whether the file changed.
fn update_deviations(file: &Path, report: &Value) -> Result<bool> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut devs: Vec<Value> = Vec::new();
    let mut push = |d: Value| {
        if !devs.iter().any(|x| x["cases"] == d["cases"]) {
            devs.push(d);
        }
    };
    for r in report["results"].as_array().into_iter().flatten() {
        let name = r["name"].as_str().unwrap_or_default();
        let reason = r["reason"].as_str().unwrap_or_default();
        match r["verdict"].as_str().unwrap_or_default() {
            "xfail" => push(r["deviation"].clone()),
            "fail" => push(serde_json::json!({
                "cases": name,
                "kind": "bug",
                "note": format!("unreviewed: {reason}"),
            })),
            "error" if r["fault"] == "invalid_response" => push(serde_json::json!({
                "cases": name,
                "kind": "bug",
                "note": format!("unreviewed: {reason}"),
                "fault": "invalid_response",
            })),
            "xpass" => {
                let cases = r["deviation"]["cases"].as_str().unwrap_or_default();
                if cases == name {
                    eprintln!("  {name} passes now: its deviation is removed");
                } else {
                    eprintln!(
                        "  {name} passes, but the deviation glob {cases:?} also covers failing cases: narrow it by hand"
                    );
                }
            }
            _ => {}
        }
    }
    // Keep the file's order (the first matching deviation wins, so a specific entry written
    // before a broader glob must stay before it); new entries go last, in run order.
    let old: Value =
        serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let position = |d: &Value| {
        old["deviations"]
            .as_array()
            .and_then(|l| l.iter().position(|o| o["cases"] == d["cases"]))
            .unwrap_or(usize::MAX)
    };
    devs.sort_by_key(position);
    // Clean entries: no null link or fault.
    for d in &mut devs {
        if let Some(o) = d.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
    }
    let Some(at) = text
        .lines()
        .scan(0usize, |off, l| {
            let start = *off;
            *off += l.len() + 1;
            Some((start, l))
        })
        .find(|(_, l)| l.starts_with("deviations:"))
        .map(|(s, _)| s)
    else {
        return Err(format!(
            "{}: no top-level `deviations:` key (it must be the file's last key)",
            file.display()
        ));
    };
    let list = if devs.is_empty() {
        "deviations: []\n".to_string()
    } else {
        serde_norway::to_string(&serde_json::json!({ "deviations": devs }))
            .map_err(|e| format!("cannot write YAML: {e}"))?
    };
    let new = format!("{}{list}", &text[..at]);
    if new == text {
        return Ok(false);
    }
    std::fs::write(file, &new).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(true)
}

/// `docs/compat/<target>.md`: what was run and how, then the harness's Markdown report.
fn write_doc(doc: &Path, peer: &Peer, file: &Path, md: &Path) -> Result<()> {
    let target = peer.target;
    let how = if peer.token.is_some() {
        "The server was `influx-reference serve --flavor v3` on loopback, started by hand with an admin token (see `xtask/src/peers.rs`), against this commit's corpus."
    } else {
        "The server ran on loopback from the Debian package, started by hand with a temporary data directory (see `xtask/src/servers.rs`), against this commit's corpus."
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let t: Value = serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let report = std::fs::read_to_string(md).map_err(|e| format!("{}: {e}", md.display()))?;
    let body = report
        .strip_prefix("# Conformance report\n")
        .unwrap_or(&report);
    let labels = &t["labels"];
    let title = match (labels["server"].as_str(), labels["version"].as_str()) {
        (Some(s), Some(v)) => format!("{s} {v}"),
        _ => target.to_string(),
    };
    let mut out = format!(
        "# Compatibility report: {title}\n\n\
         Generated by `cargo xtask peers --update` from [`targets/{target}.yaml`](../../targets/{target}.yaml) \
         (adapters and the known deviations, each with its kind and note); do not edit by hand. \
         {how}\n\n\
         | | |\n|---|---|\n"
    );
    for key in ["write", "read", "isolation"] {
        if let Some(v) = t[key].as_str() {
            out.push_str(&format!("| {key} adapter | `{v}` |\n"));
        }
    }
    for (k, v) in t["labels"].as_object().into_iter().flatten() {
        out.push_str(&format!(
            "| {k} | {} |\n",
            v.as_str().unwrap_or_default().replace('|', "\\|")
        ));
    }
    out.push('\n');
    out.push_str(body.trim_start());
    if let Some(parent) = doc.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(doc, out).map_err(|e| format!("{}: {e}", doc.display()))
}
