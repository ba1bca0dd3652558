//! Expectations → what did not hold. The typed `expect` matchers of each step (status, headers,
//! body, JSON keys, landed rows, `rejected_points`) checked against its observation, and the
//! step's `also_accept` alternatives when they do not hold. How a case's judgement becomes a
//! verdict is `verdict.rs`'s.

use serde::{Deserialize, Serialize};

use crate::case::{AltVerdict, Expect, LoadedCase, Matcher};
use crate::observe::{Observation, StepObservation};

/// One thing that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    /// 1-based step number.
    pub step: usize,
    /// `status`, `header content-type`, `json.message`, `body`, `landed`, `snapshot`.
    pub what: String,
    pub expected: String,
    pub actual: String,
}

impl Mismatch {
    /// An expected/actual diff in unified form.
    pub fn diff(&self) -> String {
        let exp = if self.expected.ends_with('\n') {
            self.expected.clone()
        } else {
            format!("{}\n", self.expected)
        };
        let act = if self.actual.ends_with('\n') {
            self.actual.clone()
        } else {
            format!("{}\n", self.actual)
        };
        similar::TextDiff::from_lines(&exp, &act)
            .unified_diff()
            .context_radius(3)
            .header("expected", "actual")
            .to_string()
    }
}

fn describe(m: &Matcher) -> String {
    if let Some(v) = &m.equals {
        v.clone()
    } else if let Some(v) = &m.contains {
        format!("(contains) {v}")
    } else if let Some(v) = &m.matches {
        format!("(matches) {v}")
    } else {
        "(absent)".into()
    }
}

/// Whether `actual` (None: absent) satisfies `m`.
pub fn matcher_holds(m: &Matcher, actual: Option<&str>) -> bool {
    if m.absent == Some(true) {
        return actual.is_none();
    }
    if m.absent == Some(false) {
        return actual.is_some();
    }
    let Some(a) = actual else { return false };
    if let Some(v) = &m.equals {
        return a == v;
    }
    if let Some(v) = &m.contains {
        return a.contains(v.as_str());
    }
    if let Some(v) = &m.matches {
        return regex::Regex::new(v).map(|r| r.is_match(a)).unwrap_or(false);
    }
    false
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks one step's observation against an expectation; `default_status` is the implicit one.
pub fn check_step(
    step: usize,
    expect: &Expect,
    default_status: Option<u16>,
    obs: &StepObservation,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut push = |what: String, expected: String, actual: String| {
        out.push(Mismatch {
            step,
            what,
            expected,
            actual,
        })
    };
    if let Some(want) = expect.status.or(default_status) {
        if obs.status != Some(want) {
            push(
                "status".into(),
                want.to_string(),
                obs.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "none".into()),
            );
        }
    }
    for (name, m) in &expect.headers {
        let actual = obs
            .headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str);
        if !matcher_holds(m, actual) {
            push(
                format!("header {}", name.to_ascii_lowercase()),
                describe(m),
                actual.unwrap_or("(absent)").to_string(),
            );
        }
    }
    if let Some(m) = &expect.body {
        let actual = obs.body.as_deref().unwrap_or("");
        if !matcher_holds(m, Some(actual)) {
            push("body".into(), describe(m), actual.to_string());
        }
    }
    let mut json = expect.json.clone();
    if let Some(m) = &expect.message {
        json.insert("message".into(), m.clone());
    }
    for (key, m) in &json {
        let actual = obs.json.as_ref().and_then(|j| j.get(key)).map(json_text);
        if !matcher_holds(m, actual.as_deref()) {
            let actual = match (&obs.json, actual) {
                (_, Some(a)) => a,
                (Some(_), None) => "(no such key)".into(),
                (None, None) => format!("(body is not JSON) {}", obs.body.as_deref().unwrap_or("")),
            };
            push(format!("json.{key}"), describe(m), actual);
        }
    }
    for (what, want, got) in [
        ("landed", &expect.landed, &obs.landed),
        (
            "rejected_points",
            &expect.rejected_points,
            &obs.rejected_points,
        ),
    ] {
        let (Some(want), Some(got)) = (want, got) else {
            continue;
        };
        let mut w = want.clone();
        let mut g = got.clone();
        w.sort();
        g.sort();
        if w != g {
            let show = |rows: &[String]| {
                if rows.is_empty() {
                    "(no rows)".to_string()
                } else {
                    rows.join("\n")
                }
            };
            push(what.into(), show(want), show(got));
        }
    }
    out
}

/// What the expectations say about a whole case.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// Every step holds (possibly through an alternative).
    pub holds: bool,
    /// The strongest alternative accepted (`info` over `pass_non_strict`), when one was.
    pub accepted: Option<AltVerdict>,
    pub mismatches: Vec<Mismatch>,
    /// Why an alternative was accepted, or why the snapshot differs.
    pub notes: Vec<String>,
    /// The step to reproduce (1-based), the first that did not hold.
    pub step: Option<usize>,
}

/// Judges the steps' observations with the case's expectations and alternatives.
pub fn judge(case: &LoadedCase, obs: &Observation) -> Judgement {
    let mut accepted: Option<AltVerdict> = None;
    let mut mismatches = Vec::new();
    let mut notes = Vec::new();
    let mut first = None;
    for (i, (step, o)) in case.case.steps.iter().zip(&obs.steps).enumerate() {
        let n = i + 1;
        let default_status = default_status(step);
        let empty = Expect::default();
        let expect = step.expect.as_ref().unwrap_or(&empty);
        let main = check_step(n, expect, default_status, o);
        if main.is_empty() {
            continue;
        }
        let alt = step
            .also_accept
            .iter()
            .find(|a| check_step(n, &a.expect, default_status, o).is_empty());
        match alt {
            Some(a) => {
                let name = match a.verdict {
                    AltVerdict::PassNonStrict => "pass_non_strict",
                    AltVerdict::Info => "info",
                };
                notes.push(format!(
                    "step {n}: accepted alternative ({name}): {}",
                    a.why
                ));
                if accepted != Some(AltVerdict::Info) {
                    accepted = Some(a.verdict);
                }
            }
            None => {
                first.get_or_insert(n);
                mismatches.extend(main);
            }
        }
    }
    Judgement {
        holds: first.is_none(),
        accepted,
        mismatches,
        notes,
        step: first,
    }
}

pub fn default_status(step: &crate::case::Step) -> Option<u16> {
    if step.write.is_some() || step.delete.is_some() {
        Some(204)
    } else if step.query.is_some() || step.request.is_some() {
        Some(200)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(equals: Option<&str>, contains: Option<&str>, matches: Option<&str>) -> Matcher {
        Matcher {
            equals: equals.map(Into::into),
            contains: contains.map(Into::into),
            matches: matches.map(Into::into),
            absent: None,
        }
    }

    #[test]
    fn matchers() {
        let cases = [
            (m(Some("a"), None, None), Some("a"), true),
            (m(Some("a"), None, None), Some("ab"), false),
            (m(None, Some("b"), None), Some("abc"), true),
            (m(None, None, Some("^a.c$")), Some("abc"), true),
            (m(None, None, Some("^a.c$")), None, false),
            (
                Matcher {
                    absent: Some(true),
                    ..Default::default()
                },
                None,
                true,
            ),
            (
                Matcher {
                    absent: Some(true),
                    ..Default::default()
                },
                Some("x"),
                false,
            ),
        ];
        for (matcher, actual, want) in cases {
            assert_eq!(
                matcher_holds(&matcher, actual),
                want,
                "{matcher:?} {actual:?}"
            );
        }
    }

    #[test]
    fn landed_is_order_insensitive() {
        let expect = Expect {
            landed: Some(vec!["b 2".into(), "a 1".into()]),
            ..Default::default()
        };
        let obs = StepObservation {
            status: Some(204),
            landed: Some(vec!["a 1".into(), "b 2".into()]),
            ..Default::default()
        };
        assert!(check_step(1, &expect, Some(204), &obs).is_empty());
        let obs = StepObservation {
            status: Some(400),
            landed: Some(vec![]),
            ..Default::default()
        };
        let got: Vec<_> = check_step(1, &expect, Some(204), &obs)
            .into_iter()
            .map(|m| m.what)
            .collect();
        assert_eq!(got, ["status", "landed"]);
    }
}
