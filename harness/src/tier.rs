//! Tiers: how close each step of a case came to InfluxDB's answer, on four nested levels of
//! strictness, and the highest one it met.
//!
//! - `status`: the status code is InfluxDB's (read steps have none: met when they ran);
//! - `outcome`: and what landed and what was rejected (`landed`, `rejected_points`) is;
//! - `shape`: and an error body carries InfluxDB's JSON `code` and a `message` where InfluxDB has
//!   one, and the headers InfluxDB sends on every response (`X-Influxdb-Build`,
//!   `X-Influxdb-Version`, v2.md §1.4) are there;
//! - `exact`: and the step's expectations hold and its redacted observation is byte for byte the
//!   reference's snapshot, as the verdict `pass` requires.
//!
//! InfluxDB's answer is the reference's snapshot of the step (what it observed, redacted);
//! without a snapshot, the case's expectations stand in for it. A step that did not run (a target
//! fault) meets no tier. An `also_accept` alternative changes the verdict, never the tier: tiers
//! measure the distance to InfluxDB's own answer. Waits and settles are not graded.

use serde::{Deserialize, Serialize};

use crate::case::{Expect, LoadedCase, Step};
use crate::compare::{check_step, default_status};
use crate::observe::{Observation, StepObservation};

/// A level of strictness, from the loosest. `Unmet` (`none`): not even the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[serde(rename = "none")]
    Unmet,
    Status,
    Outcome,
    Shape,
    Exact,
}

impl Tier {
    /// The four tiers a step can meet, loosest first.
    pub const MET: [Tier; 4] = [Tier::Status, Tier::Outcome, Tier::Shape, Tier::Exact];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unmet => "none",
            Self::Status => "status",
            Self::Outcome => "outcome",
            Self::Shape => "shape",
            Self::Exact => "exact",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Unmet,
            Self::Status,
            Self::Outcome,
            Self::Shape,
            Self::Exact,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// What meeting the tier means, for legends.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Unmet => "not even the status code",
            Self::Status => "the status code",
            Self::Outcome => "the status, and what landed and was rejected",
            Self::Shape => {
                "the outcome, the error body's JSON code and message, and the headers InfluxDB always sends"
            }
            Self::Exact => "the shape, and every byte (the expectations and the reference's snapshot)",
        }
    }
}

/// The headers InfluxDB adds to every response (v2.md §1.4): the `shape` tier wants them present
/// wherever the reference sends them.
pub const ALWAYS_SENT_HEADERS: [&str; 2] = ["x-influxdb-build", "x-influxdb-version"];

/// The grade of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepGrade {
    /// 1-based.
    pub step: usize,
    /// The highest tier met.
    pub tier: Tier,
    /// The step's expectations hold (or one of its `also_accept` alternatives does).
    pub holds: bool,
    /// Why the next tier is not met (absent at `exact`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<String>,
}

/// A snapshot split into its steps: the YAML text of each (for `exact`) and its value (for the
/// other tiers).
#[derive(Debug, Clone, Default)]
pub struct SnapshotSteps {
    pub texts: Vec<String>,
    pub values: Vec<serde_norway::Value>,
}

impl SnapshotSteps {
    /// Splits a snapshot's content (`steps:` then one `- ` item per step at column 0, as
    /// `snapshot_text` writes it).
    pub fn parse(text: &str) -> Self {
        let values = serde_norway::from_str::<serde_norway::Value>(text)
            .ok()
            .and_then(|v| v.get("steps").and_then(|s| s.as_sequence()).cloned())
            .unwrap_or_default();
        Self {
            texts: split_items(text),
            values,
        }
    }
}

/// The `- ` items at column 0 of a `steps:` list, each with its continuation lines.
fn split_items(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("- ") || line == "-\n" {
            out.push(line.to_string());
        } else if let Some(last) = out.last_mut() {
            last.push_str(line);
        }
    }
    out
}

/// One observed step as the snapshot writes it, for a byte comparison with `SnapshotSteps`.
pub fn step_text(o: &StepObservation) -> String {
    let text = serde_norway::to_string(&Observation {
        steps: vec![o.clone()],
    })
    .unwrap_or_default();
    split_items(&text).into_iter().next().unwrap_or_default()
}

/// Whether a step is graded: requests, and reads of landed rows or `rejected_points`.
pub fn is_graded(step: &Step) -> bool {
    default_status(step).is_some() || step.landed.is_some() || step.rejected_points.is_some()
}

/// Grades the steps of a case. `obs: None` means the target faulted: every graded step meets
/// no tier. A read step that observed nothing (no read-back adapter) is not graded.
pub fn grade(
    case: &LoadedCase,
    obs: Option<&Observation>,
    snapshot: Option<&SnapshotSteps>,
) -> Vec<StepGrade> {
    let mut out = Vec::new();
    for (i, step) in case.case.steps.iter().enumerate() {
        if !is_graded(step) {
            continue;
        }
        let n = i + 1;
        let Some(o) = obs.and_then(|obs| obs.steps.get(i)) else {
            if obs.is_none() {
                out.push(StepGrade {
                    step: n,
                    tier: Tier::Unmet,
                    holds: false,
                    missed: Some("the target faulted: no answer to judge".into()),
                });
            }
            continue;
        };
        let read = default_status(step).is_none();
        if read && o.landed.is_none() && o.rejected_points.is_none() {
            continue;
        }
        let reference = snapshot.and_then(|s| s.values.get(i));
        let reference_text = snapshot.and_then(|s| s.texts.get(i));
        out.push(grade_step(n, step, o, reference, reference_text));
    }
    out
}

fn grade_step(
    n: usize,
    step: &Step,
    o: &StepObservation,
    reference: Option<&serde_norway::Value>,
    reference_text: Option<&String>,
) -> StepGrade {
    let empty = Expect::default();
    let expect = step.expect.as_ref().unwrap_or(&empty);
    let status = default_status(step);
    let main = check_step(n, expect, status, o);
    let holds = main.is_empty()
        || step
            .also_accept
            .iter()
            .any(|a| check_step(n, &a.expect, status, o).is_empty());
    let grade = |tier: Tier, missed: Option<String>| StepGrade {
        step: n,
        tier,
        holds,
        missed,
    };
    // status
    if let Some(want) = expect.status.or(status) {
        if o.status != Some(want) {
            let got = o
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "none".into());
            return grade(
                Tier::Unmet,
                Some(format!("status: InfluxDB answers {want}, got {got}")),
            );
        }
    }
    // outcome: InfluxDB's rows are the expectation's, else the snapshot's.
    for (what, want, got) in [
        (
            "landed",
            expect
                .landed
                .clone()
                .or_else(|| reference.and_then(|r| rows(r, "landed"))),
            &o.landed,
        ),
        (
            "rejected_points",
            expect
                .rejected_points
                .clone()
                .or_else(|| reference.and_then(|r| rows(r, "rejected_points"))),
            &o.rejected_points,
        ),
    ] {
        let (Some(mut want), Some(got)) = (want, got.clone()) else {
            continue;
        };
        let mut got = got;
        want.sort();
        got.sort();
        if want != got {
            return grade(
                Tier::Status,
                Some(format!(
                    "{what}: {} row(s) expected, {} observed, {} differ",
                    want.len(),
                    got.len(),
                    symmetric_difference(&want, &got)
                )),
            );
        }
    }
    // shape
    if let Some(missed) = shape_missed(expect, o, reference) {
        return grade(Tier::Outcome, Some(missed));
    }
    // exact
    if let Some(m) = main.first() {
        return grade(
            Tier::Shape,
            Some(format!("{} differs from what the case expects", m.what)),
        );
    }
    if let Some(want) = reference_text {
        if *want != step_text(o) {
            return grade(
                Tier::Shape,
                Some("the bytes differ from the reference's snapshot".into()),
            );
        }
    }
    grade(Tier::Exact, None)
}

fn rows(v: &serde_norway::Value, key: &str) -> Option<Vec<String>> {
    v.get(key).and_then(|r| r.as_sequence()).map(|s| {
        s.iter()
            .map(|x| x.as_str().map(str::to_string).unwrap_or_default())
            .collect()
    })
}

fn symmetric_difference(a: &[String], b: &[String]) -> usize {
    a.iter().filter(|x| !b.contains(x)).count() + b.iter().filter(|x| !a.contains(x)).count()
}

/// Why a step's answer does not have InfluxDB's shape (None: it does).
fn shape_missed(
    expect: &Expect,
    o: &StepObservation,
    reference: Option<&serde_norway::Value>,
) -> Option<String> {
    // InfluxDB's error code and whether it sends a message: the snapshot's, else what the
    // expectations state.
    let (code, message) = match reference {
        Some(r) => {
            let json = r.get("json").filter(|j| j.is_mapping());
            (
                json.and_then(|j| j.get("code"))
                    .and_then(|c| c.as_str())
                    .map(str::to_string),
                json.and_then(|j| j.get("message"))
                    .and_then(|m| m.as_str())
                    .is_some_and(|m| !m.is_empty()),
            )
        }
        None => (
            expect.json.get("code").and_then(|m| m.equals.clone()),
            expect.message.is_some() || expect.json.contains_key("message"),
        ),
    };
    let observed = o.json.as_ref().filter(|j| j.is_object());
    if let Some(code) = code {
        let got = observed
            .and_then(|j| j.get("code"))
            .and_then(|c| c.as_str());
        if got != Some(code.as_str()) {
            return Some(match (observed, got) {
                (None, _) => format!(
                    "error body: InfluxDB sends JSON with code {code:?}, got no JSON object"
                ),
                (Some(_), None) => format!("error body: InfluxDB sends code {code:?}, got none"),
                (Some(_), Some(g)) => {
                    format!("error body: InfluxDB sends code {code:?}, got {g:?}")
                }
            });
        }
    }
    if message {
        let got = observed
            .and_then(|j| j.get("message"))
            .and_then(|m| m.as_str())
            .is_some_and(|m| !m.is_empty());
        if !got {
            return Some("error body: InfluxDB sends a message, got none".into());
        }
    }
    for h in ALWAYS_SENT_HEADERS {
        let sent = match reference {
            Some(r) => r.get("headers").and_then(|hs| hs.get(h)).is_some(),
            None => expect.headers.keys().any(|k| k.eq_ignore_ascii_case(h)),
        };
        if sent && !o.headers.contains_key(h) {
            return Some(format!("header {h}: InfluxDB always sends it, got none"));
        }
    }
    None
}

/// The tier a case met: the lowest of its graded steps (None when no step was graded).
pub fn case_tier(steps: &[StepGrade]) -> Option<Tier> {
    steps.iter().map(|s| s.tier).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(steps: &str) -> LoadedCase {
        let text = format!(
            "about: a\nspec: v2.md §2\ncases:\n  - id: c\n    description: d\n    expectation: e\n    steps:\n{steps}"
        );
        let (_, mut cases) =
            crate::case::load_file(std::path::Path::new("t.yaml"), "t.yaml", &text).unwrap();
        cases.remove(0)
    }

    fn answer(status: u16, body: &str, headers: &[(&str, &str)]) -> StepObservation {
        StepObservation {
            request: "POST /api/v2/write?org=<org>&bucket=<bucket:main>".into(),
            status: Some(status),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: (!body.is_empty()).then(|| body.to_string()),
            json: serde_json::from_str(body).ok(),
            ..Default::default()
        }
    }

    const V2: [(&str, &str); 3] = [
        ("content-type", "application/json; charset=utf-8"),
        ("x-influxdb-build", "OSS"),
        ("x-influxdb-version", "v2.7.12"),
    ];
    const ERROR: &str = r#"{"code":"invalid","message":"unable to parse 'm': missing fields"}"#;

    fn reference_of(o: &StepObservation) -> SnapshotSteps {
        SnapshotSteps::parse(&crate::snapshot::snapshot_text(&Observation {
            steps: vec![o.clone()],
        }))
    }

    fn tier_of(c: &LoadedCase, observed: StepObservation, reference: &StepObservation) -> Tier {
        let snap = reference_of(reference);
        let obs = Observation {
            steps: vec![observed],
        };
        grade(c, Some(&obs), Some(&snap))[0].tier
    }

    #[test]
    fn each_tier_is_met_or_missed_on_its_own_part_of_the_answer() {
        let c = case("      - write: {body: m}\n        expect: {status: 400, message: {contains: missing}}\n");
        let influx = answer(400, ERROR, &V2);
        assert_eq!(tier_of(&c, influx.clone(), &influx), Tier::Exact);
        // A 204 where InfluxDB says 400: nothing met.
        assert_eq!(tier_of(&c, answer(204, "", &V2), &influx), Tier::Unmet);
        // The status, but a text body: the outcome (nothing landed either way), not the shape.
        assert_eq!(
            tier_of(&c, answer(400, "bad line", &V2), &influx),
            Tier::Outcome
        );
        // The JSON code and a message of its own, all headers: the shape, not exact.
        let other = r#"{"code":"invalid","message":"missing field"}"#;
        assert_eq!(tier_of(&c, answer(400, other, &V2), &influx), Tier::Shape);
        // The same body without the version headers: not the shape.
        assert_eq!(
            tier_of(
                &c,
                answer(400, ERROR, &[("content-type", "application/json")]),
                &influx
            ),
            Tier::Outcome
        );
        // Every expectation holds, one header differs in value: shape, not exact.
        let mut v16 = V2;
        v16[2] = ("x-influxdb-version", "1.6.7~rc0");
        assert_eq!(tier_of(&c, answer(400, ERROR, &v16), &influx), Tier::Shape);
    }

    #[test]
    fn landed_rows_decide_the_outcome() {
        let c = case("      - write: {body: 'm v=1 1'}\n        expect: {status: 204, landed: ['m v=1 1']}\n");
        let mut influx = answer(204, "", &V2);
        influx.landed = Some(vec!["m v=1 1".into()]);
        let mut lost = influx.clone();
        lost.landed = Some(vec![]);
        assert_eq!(tier_of(&c, influx.clone(), &influx), Tier::Exact);
        let obs = Observation { steps: vec![lost] };
        let g = &grade(&c, Some(&obs), Some(&reference_of(&influx)))[0];
        assert_eq!(g.tier, Tier::Status);
        assert!(!g.holds);
        assert!(
            g.missed.as_deref().unwrap_or("").starts_with("landed"),
            "{g:?}"
        );
    }

    #[test]
    fn faults_meet_nothing_and_waits_are_not_graded() {
        let c = case("      - write: {body: 'm v=1 1'}\n      - wait: 1s\n      - landed: {}\n");
        let g = grade(&c, None, None);
        assert_eq!(
            g.iter().map(|g| (g.step, g.tier)).collect::<Vec<_>>(),
            [(1, Tier::Unmet), (3, Tier::Unmet)]
        );
        assert_eq!(case_tier(&g), Some(Tier::Unmet));
        assert_eq!(case_tier(&[]), None);
    }

    #[test]
    fn without_a_snapshot_the_expectations_stand_in() {
        let c = case("      - write: {body: m}\n        expect: {status: 400, json: {code: {equals: invalid}}, message: {contains: missing}}\n");
        let obs = |o| Observation { steps: vec![o] };
        let g = grade(&c, Some(&obs(answer(400, ERROR, &V2))), None);
        assert_eq!(g[0].tier, Tier::Exact);
        let g = grade(&c, Some(&obs(answer(400, "{}", &V2))), None);
        assert_eq!(g[0].tier, Tier::Outcome);
    }

    #[test]
    fn snapshot_steps_split_at_items() {
        let text =
            "steps:\n- request: a\n  status: 204\n- request: b\n  body: |-\n    - not an item\n";
        let s = SnapshotSteps::parse(text);
        assert_eq!(s.texts.len(), 2);
        assert_eq!(s.values.len(), 2);
        assert!(s.texts[1].contains("- not an item"));
        let o = StepObservation {
            request: "a".into(),
            status: Some(204),
            ..Default::default()
        };
        assert_eq!(step_text(&o), s.texts[0]);
    }
}
