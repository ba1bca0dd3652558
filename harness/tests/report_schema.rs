//! The JSON report's schema is documented: every key a real report has (a failure, a known
//! deviation, graded steps below `exact`) is named in `docs/report-json.md`, and the report
//! reads back through `influx_conformance::report::load`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const CASES: &str = r#"about: report schema fixtures
spec: v2.md §2.1
cases:
  - id: holds
    description: a write
    expectation: 204
    steps:
      - write: {body: "m v=1 1"}
        expect: {status: 204}
      - landed: {}
        expect: {landed: ["m v=1 1"]}
  - id: wrong_status
    description: a write the case wrongly expects to fail
    expectation: 400
    steps:
      - write: {body: "m v=1 1"}
        expect: {status: 400}
  - id: known
    description: a write covered by a known deviation
    expectation: 400
    spec: seed "Review HTTP status codes"
    steps:
      - write: {body: "m v=1 1"}
        expect: {status: 400, message: {equals: nope}}
"#;

const TARGET: &str = r#"url: http://127.0.0.1:8086
profile: v2
deviations:
  - cases: "w.yaml::known"
    kind: bug
    note: a note
    link: https://example.invalid/issue
"#;

/// Dotted key paths of a JSON value; the children of maps keyed by data (levels, areas,
/// redaction names, labels) are not keys of the schema.
fn keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    const DATA_KEYED: [&str; 7] = [
        "redactions",
        "labels",
        "areas",
        "per_level",
        "by_level",
        "by_area",
        "steps_lost",
    ];
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                out.insert(k.clone());
                if DATA_KEYED.contains(&k.as_str()) {
                    if let serde_json::Value::Object(inner) = child {
                        for grand in inner.values() {
                            keys(grand, out);
                        }
                    }
                } else {
                    keys(child, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[test]
fn every_key_of_the_json_report_is_documented() {
    let dir = std::env::temp_dir().join(format!("ic-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["cases", "targets", "snapshots"] {
        std::fs::create_dir_all(dir.join(d)).expect("dirs");
    }
    std::fs::write(dir.join("cases/w.yaml"), CASES).expect("cases");
    std::fs::write(dir.join("targets/reference.yaml"), TARGET).expect("target");
    let json = dir.join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_influx-conformance"))
        .args(["run", "--quiet", "--profile", "v2", "--cases"])
        .arg(dir.join("cases"))
        .arg("--targets-dir")
        .arg(dir.join("targets"))
        .arg("--snapshots")
        .arg(dir.join("snapshots"))
        .arg("--report-json")
        .arg(&json)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read_to_string(&json).expect("report");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["schema_version"], 2);
    let verdicts: Vec<&str> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["verdict"].as_str())
        .collect();
    assert!(
        verdicts.contains(&"xfail") && verdicts.contains(&"fail"),
        "{verdicts:?}"
    );
    let mut found = BTreeSet::new();
    keys(&v, &mut found);
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-json.md"),
    )
    .expect("docs/report-json.md");
    let missing: Vec<&String> = found
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "keys not in docs/report-json.md: {missing:?}"
    );
    // The kinds of causes and the tiers it names.
    let causes: Vec<&str> = v["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    // The reference has no snapshot of `holds` yet: that fails too.
    assert_eq!(causes, ["bug", "unrecorded", "unrecorded"]);
    assert_eq!(v["causes"][0]["must_steps"], 1);
    let report = influx_conformance::report::load(&json).expect("reads back");
    assert_eq!(report.results.len(), 3);
    assert_eq!(report.tiers.scores.all.steps, 4);
    assert_eq!(report.tiers.scores.all.exact, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
