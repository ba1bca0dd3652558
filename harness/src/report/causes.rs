//! Deviations grouped by cause: one row per distinct cause (a known deviation's note, an
//! unrecorded failure's first difference, a target fault's reason) with the cases it covers and
//! the graded steps it costs per level. Bugs come first, then unrecorded failures, then target
//! faults, then deviations by design; "what to fix first" ranks every cause but the ones by
//! design by the must-level steps it costs.

use std::collections::BTreeMap;

use super::model::{Cause, CauseKind, ResultRecord};
use crate::deviation::DeviationKind;
use crate::verdict::Verdict;

/// The cause of one result, or None when it passed (or passed against a deviation: `xpass` is
/// a stale deviation, reported as such).
fn cause_of(r: &ResultRecord) -> Option<(CauseKind, String, Option<String>)> {
    match (r.verdict, &r.deviation) {
        (Verdict::Xfail, Some(d)) => Some((
            match d.kind {
                DeviationKind::Bug => CauseKind::Bug,
                DeviationKind::ByDesign => CauseKind::ByDesign,
            },
            d.note.clone(),
            d.link.clone(),
        )),
        (Verdict::Error, _) => Some((CauseKind::Fault, normalize_fault(&r.reason), None)),
        (Verdict::Fail, _) | (Verdict::Info, _) if !r.mismatches.is_empty() => {
            let m = &r.mismatches[0];
            Some((
                CauseKind::Unrecorded,
                format!(
                    "{}: expected {}, got {}",
                    m.what,
                    short(&m.expected, 100),
                    short(&m.actual, 100)
                ),
                None,
            ))
        }
        _ => None,
    }
}

/// Groups the results that did not pass by cause, bugs first.
pub fn group(results: &[ResultRecord]) -> Vec<Cause> {
    let mut by_key: BTreeMap<(CauseKind, String), Cause> = BTreeMap::new();
    let mut order: Vec<(CauseKind, String)> = Vec::new();
    for r in results {
        let Some((kind, note, link)) = cause_of(r) else {
            continue;
        };
        let key = (kind, note.clone());
        let c = by_key.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Cause {
                kind,
                note,
                link,
                cases: Vec::new(),
                steps_lost: BTreeMap::new(),
                must_steps: 0,
            }
        });
        c.cases.push(format!("{} [{}]", r.name, r.profile.as_str()));
        let lost = r.steps_lost();
        if lost > 0 {
            *c.steps_lost
                .entry(r.level.as_str().to_string())
                .or_default() += lost;
        }
    }
    let mut out: Vec<Cause> = order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .map(|mut c| {
            c.must_steps = c.steps_lost.get("must").copied().unwrap_or(0);
            c
        })
        .collect();
    // Bugs, unrecorded, faults, by design; within a kind the costliest first (stable: report
    // order breaks ties).
    out.sort_by(|a, b| a.kind.cmp(&b.kind).then(b.rank().cmp(&a.rank())));
    out
}

/// The causes to fix first: all but the ones by design, the most must-level steps first.
pub fn fix_first(causes: &[Cause], n: usize) -> Vec<&Cause> {
    let mut v: Vec<&Cause> = causes
        .iter()
        .filter(|c| c.kind != CauseKind::ByDesign && c.must_steps + c.rank().1 > 0)
        .collect();
    v.sort_by(|a, b| b.rank().cmp(&a.rank()).then(a.kind.cmp(&b.kind)));
    v.truncate(n);
    v
}

/// A fault's reason without what differs from case to case: URLs cut to their origin, the
/// per-case bucket and database names (`conformance-<id>-<bucket>-<suffix>`) replaced.
pub fn normalize_fault(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(i) = rest.find("http://").or_else(|| rest.find("https://")) {
        out.push_str(&rest[..i]);
        let url = &rest[i..];
        let scheme = if url.starts_with("https://") { 8 } else { 7 };
        let mut end = url
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | ','))
            .map(|(j, _)| j)
            .unwrap_or(url.len());
        // Punctuation that ends the sentence is not part of the URL.
        while end > scheme && url[..end].ends_with([':', '.', ';']) {
            end -= 1;
        }
        let origin_end = url[scheme..end]
            .find('/')
            .map(|j| scheme + j)
            .unwrap_or(end);
        out.push_str(&url[..origin_end]);
        rest = &url[end..];
    }
    out.push_str(rest);
    // conformance-<case id>-<logical>-<8 hex>
    let mut cleaned = String::with_capacity(out.len());
    let mut s = out.as_str();
    while let Some(i) = s.find("conformance-") {
        cleaned.push_str(&s[..i]);
        let tail = &s[i..];
        let end = tail
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
            .map(|(j, _)| j)
            .unwrap_or(tail.len());
        cleaned.push_str("<bucket>");
        s = &tail[end..];
    }
    cleaned.push_str(s);
    cleaned
}

/// At most `n` characters of `s` on one line, with `…` when cut.
pub fn short(s: &str, n: usize) -> String {
    let s = s.replace('\n', "\\n");
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s
    }
}

/// Case names collapsed by file: `dir/f.yaml::{a, b}; g.yaml::c` (profiles dropped when every
/// case ran in one).
pub fn collapse(cases: &[String]) -> String {
    let mut by_file: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut files: Vec<&str> = Vec::new();
    for c in cases {
        let (file, id) = c.split_once("::").unwrap_or(("", c.as_str()));
        if !by_file.contains_key(file) {
            files.push(file);
        }
        let ids = by_file.entry(file).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    files
        .iter()
        .map(|f| {
            let ids = &by_file[f];
            if ids.len() == 1 {
                format!("{f}::{}", ids[0])
            } else {
                format!("{f}::{{{}}}", ids.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_reasons_lose_what_varies_per_case() {
        let a = "target fault (refused): cannot connect to http://127.0.0.1:9/api/v2/write?org=o&bucket=conformance-one-main-1a2b3c4d: is the server running? (error sending request for url (http://127.0.0.1:9/api/v2/write?org=o&bucket=conformance-one-main-1a2b3c4d))";
        let b = a.replace(
            "conformance-one-main-1a2b3c4d",
            "conformance-two-x-99999999",
        );
        assert_eq!(normalize_fault(a), normalize_fault(&b));
        assert_eq!(
            normalize_fault(a),
            "target fault (refused): cannot connect to http://127.0.0.1:9: is the server running? (error sending request for url (http://127.0.0.1:9))"
        );
    }

    #[test]
    fn cases_collapse_by_file() {
        let cases = [
            "a.yaml::x [v2]".to_string(),
            "a.yaml::y [v2]".into(),
            "b/c.yaml::z [cloud]".into(),
        ];
        assert_eq!(
            collapse(&cases),
            "a.yaml::{x [v2], y [v2]}; b/c.yaml::z [cloud]"
        );
    }

    fn result(
        name: &str,
        verdict: Verdict,
        deviation: Option<(DeviationKind, &str)>,
        lost: usize,
    ) -> ResultRecord {
        use crate::tier::{StepGrade, Tier};
        ResultRecord {
            name: name.into(),
            file: "f.yaml".into(),
            line: 1,
            id: name.into(),
            level: crate::case::Level::Must,
            spec: "v2.md §2".into(),
            area: "v2.md §2".into(),
            profile: crate::case::Profile::V2,
            target: "t".into(),
            verdict,
            tier: Some(Tier::Status),
            raw_verdict: verdict,
            reason: "target fault (timeout): http://h:1/x did not answer".into(),
            mismatches: vec![crate::compare::Mismatch {
                step: 1,
                what: "status".into(),
                expected: "400".into(),
                actual: "204".into(),
            }],
            notes: Vec::new(),
            fault: None,
            deviation: deviation.map(|(kind, note)| crate::deviation::Deviation {
                cases: name.into(),
                kind,
                note: note.into(),
                link: None,
                fault: None,
            }),
            reproduce: None,
            duration_ms: 0,
            steps: (0..lost.max(1))
                .map(|i| super::super::model::StepRecord {
                    grade: StepGrade {
                        step: i + 1,
                        tier: Tier::Status,
                        holds: i >= lost,
                        missed: None,
                    },
                    request: String::new(),
                    curl: None,
                    expected: None,
                    observed: None,
                })
                .collect(),
        }
    }

    #[test]
    fn bugs_come_first_and_fix_first_ranks_by_must_steps() {
        let results = [
            result(
                "a",
                Verdict::Xfail,
                Some((DeviationKind::ByDesign, "design")),
                9,
            ),
            result(
                "b",
                Verdict::Xfail,
                Some((DeviationKind::ByDesign, "design")),
                9,
            ),
            result(
                "c",
                Verdict::Xfail,
                Some((DeviationKind::Bug, "small bug")),
                1,
            ),
            result("d", Verdict::Fail, None, 3),
            result("e", Verdict::Fail, None, 3),
            result("f", Verdict::Error, None, 1),
            result("g", Verdict::Pass, None, 0),
            result(
                "h",
                Verdict::Xfail,
                Some((DeviationKind::Bug, "big bug")),
                2,
            ),
        ];
        let causes = group(&results);
        let rows: Vec<(CauseKind, &str, usize, usize)> = causes
            .iter()
            .map(|c| (c.kind, c.note.as_str(), c.cases.len(), c.must_steps))
            .collect();
        assert_eq!(
            rows,
            [
                (CauseKind::Bug, "big bug", 1, 2),
                (CauseKind::Bug, "small bug", 1, 1),
                (CauseKind::Unrecorded, "status: expected 400, got 204", 2, 6),
                (
                    CauseKind::Fault,
                    "target fault (timeout): http://h:1 did not answer",
                    1,
                    1
                ),
                (CauseKind::ByDesign, "design", 2, 18),
            ]
        );
        let first: Vec<&str> = fix_first(&causes, 3)
            .iter()
            .map(|c| c.note.as_str())
            .collect();
        assert_eq!(
            first,
            ["status: expected 400, got 204", "big bug", "small bug"]
        );
    }
}
