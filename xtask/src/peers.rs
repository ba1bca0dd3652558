//! `cargo xtask peers [--update] [--only NAME]`: the conformance suite against real
//! third-party servers, each described by `targets/<name>.yaml` (adapters, labels, known
//! deviations). Without `--update` it fails when a verdict moves against the recorded
//! deviations (a new failure, an xpass) or the harness errors; with `--update` it rewrites
//! the target files' deviation lists and `docs/compat/<name>.md` from the run.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::servers::{self, Result, Server};

struct Peer {
    /// `targets/<target>.yaml`, `docs/compat/<target>.md`.
    target: &'static str,
    start: fn() -> Result<Server>,
}

const PEERS: [Peer; 2] = [
    Peer {
        target: "influxdb-1.6",
        start: servers::start_influxdb,
    },
    Peer {
        target: "victoriametrics-1.79",
        start: servers::start_victoria_metrics,
    },
];

pub struct Options {
    pub update: bool,
    pub only: Option<String>,
}

pub fn run(root: &Path, target_dir: &Path, opts: &Options) -> Result<bool> {
    servers::ensure_packages()?;
    let bin = crate::build_harness(root, target_dir)?;
    let out_dir = target_dir.join("peers");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut all_ok = true;
    for peer in PEERS
        .iter()
        .filter(|p| opts.only.as_deref().is_none_or(|o| p.target.contains(o)))
    {
        eprintln!("\n=== {} ===", peer.target);
        let server = (peer.start)()?;
        eprintln!(
            "{} listening on {} (pid {})",
            server.name,
            server.url,
            server.pid()
        );
        let json = out_dir.join(format!("{}.json", peer.target));
        let md = out_dir.join(format!("{}.md", peer.target));
        let mut code = suite(root, &bin, peer.target, &server.url, &json, &md)?;
        if opts.update {
            let file = root.join("targets").join(format!("{}.yaml", peer.target));
            let changed = update_deviations(&file, &read_json(&json)?)?;
            if changed {
                eprintln!("{}: deviations rewritten; running again", file.display());
                code = suite(root, &bin, peer.target, &server.url, &json, &md)?;
            }
            let doc = root.join("docs/compat").join(format!("{}.md", peer.target));
            write_doc(&doc, peer.target, &file, &md)?;
            eprintln!("wrote {}", doc.display());
        }
        drop(server);
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
    Ok(all_ok)
}

/// One run of the suite against `url` with the target file's adapters and deviations.
fn suite(root: &Path, bin: &Path, target: &str, url: &str, json: &Path, md: &Path) -> Result<i32> {
    let status = Command::new(bin)
        .current_dir(root)
        .args(["run", "--quiet", "--target", target, "--url", url])
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
fn write_doc(doc: &Path, target: &str, file: &Path, md: &Path) -> Result<()> {
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
         The server ran on loopback from the Debian package, started by hand with a temporary data \
         directory (see `xtask/src/servers.rs`), against this commit's corpus.\n\n\
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
