//! Expectations and snapshots → verdicts.
//!
//! Order of decision (documented in `cases/README.md`):
//! 1. a target fault is `error`, a case the target cannot run is `skipped`;
//! 2. the typed `expect` matchers decide pass or fail; when they fail, an `also_accept`
//!    alternative that matches gives its declared verdict;
//! 3. when the matchers pass, the redacted observation is compared with the profile's snapshot:
//!    equal is `pass`; different is `fail` on the reference (a regression of the source of truth)
//!    and `pass_non_strict` elsewhere;
//! 4. on other targets, a `may` or `info` case that fails is `info`;
//! 5. a known deviation of the target turns `fail` into `xfail` and a pass into `xpass`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::case::{Expect, Level, LoadedCase, Matcher, Profile};
use crate::observe::{Observation, StepObservation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    PassNonStrict,
    Info,
    Skipped,
    Xfail,
    Xpass,
    Fail,
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 8] = [
        Verdict::Pass,
        Verdict::PassNonStrict,
        Verdict::Fail,
        Verdict::Info,
        Verdict::Skipped,
        Verdict::Xfail,
        Verdict::Xpass,
        Verdict::Error,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::PassNonStrict => "pass_non_strict",
            Self::Fail => "fail",
            Self::Info => "info",
            Self::Skipped => "skipped",
            Self::Xfail => "xfail",
            Self::Xpass => "xpass",
            Self::Error => "error",
        }
    }
    /// Whether the run fails because of it (exit code 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Fail | Self::Xpass | Self::Error)
    }
    pub fn is_pass(self) -> bool {
        matches!(self, Self::Pass | Self::PassNonStrict)
    }
}

/// One thing that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub verdict: Verdict,
    pub mismatches: Vec<Mismatch>,
    /// Why an alternative was accepted, or why the snapshot differs.
    pub notes: Vec<String>,
    /// The step to reproduce (1-based), the first that did not hold.
    pub step: Option<usize>,
}

/// Judges the steps' observations with the case's expectations and alternatives.
pub fn judge(case: &LoadedCase, obs: &Observation) -> Judgement {
    let mut verdict = Verdict::Pass;
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
                let v = match a.verdict {
                    crate::case::AltVerdict::PassNonStrict => Verdict::PassNonStrict,
                    crate::case::AltVerdict::Info => Verdict::Info,
                };
                notes.push(format!(
                    "step {n}: accepted alternative ({}): {}",
                    v.as_str(),
                    a.why
                ));
                verdict = verdict.max(v);
            }
            None => {
                first.get_or_insert(n);
                verdict = Verdict::Fail;
                mismatches.extend(main);
            }
        }
    }
    Judgement {
        verdict,
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

/// The snapshot file of a case in a profile: `snapshots/<profile>/<file>__<id>.snap`.
pub fn snapshot_path(dir: &Path, case: &LoadedCase, profile: Profile) -> PathBuf {
    let stem = case
        .file
        .trim_end_matches(".yaml")
        .trim_end_matches(".yml")
        .replace('/', "__");
    dir.join(profile.as_str())
        .join(format!("{stem}__{}.snap", case.case.id))
}

/// The snapshot body of an observation (YAML).
pub fn snapshot_text(obs: &Observation) -> String {
    serde_norway::to_string(obs).unwrap_or_default()
}

/// Reads an insta-format snapshot's content (after the `---` front matter).
pub fn read_snapshot(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(rest[end + 5..].to_string())
}

/// Writes an insta-format snapshot (`.snap`, or `.snap.new` for review with `cargo insta
/// review`).
pub fn write_snapshot(path: &Path, case: &LoadedCase, content: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let body = format!(
        "---\nsource: cases/{}\nexpression: \"{}\"\n---\n{}",
        case.file,
        case.case.id,
        if content.ends_with('\n') {
            content.to_string()
        } else {
            format!("{content}\n")
        }
    );
    std::fs::write(path, body)
}

/// Level softening for targets other than the reference.
pub fn soften(verdict: Verdict, level: Level, is_reference: bool) -> Verdict {
    if !is_reference && verdict == Verdict::Fail && matches!(level, Level::May | Level::Info) {
        Verdict::Info
    } else {
        verdict
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
