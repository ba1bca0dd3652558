//! JUnit XML: one testsuite per target, one testcase per case × profile (failures for `fail`
//! and `xpass`, errors for target faults), and the tier scores as properties — per suite
//! overall, per level and per spec area × level (`tier.<area>.<level>.<tier>`), per testcase
//! its tier and area.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::{ResultRecord, RunReport, Scores, TierCounts};
use super::terminal::failure_text;
use crate::case::Level;
use crate::tier::Tier;
use crate::verdict::Verdict;

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

fn property(out: &mut String, indent: &str, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "{indent}<property name=\"{}\" value=\"{}\"/>",
        xml(name),
        xml(value)
    );
}

fn tier_properties(out: &mut String, indent: &str, prefix: &str, c: &TierCounts) {
    property(
        out,
        indent,
        &format!("{prefix}.steps"),
        &c.steps.to_string(),
    );
    for t in Tier::MET {
        if let Some(s) = c.share(t) {
            property(
                out,
                indent,
                &format!("{prefix}.{}", t.as_str()),
                &format!("{s:.4}"),
            );
        }
    }
}

fn scores(results: &[&ResultRecord]) -> (Scores, BTreeMap<String, Scores>) {
    let mut all = Scores::default();
    let mut by_area: BTreeMap<String, Scores> = BTreeMap::new();
    for r in results {
        for s in &r.steps {
            let t = s.grade.tier;
            all.all.add(t);
            all.by_level
                .entry(r.level.as_str().to_string())
                .or_default()
                .add(t);
            let a = by_area.entry(r.area.clone()).or_default();
            a.all.add(t);
            a.by_level
                .entry(r.level.as_str().to_string())
                .or_default()
                .add(t);
        }
    }
    (all, by_area)
}

/// One testcase per case × target (profile in the name).
pub fn junit(report: &RunReport, root: &std::path::Path) -> String {
    let results = &report.results;
    let summary = &report.summary;
    let mut by_target: BTreeMap<&str, Vec<&ResultRecord>> = BTreeMap::new();
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
        let (all, by_area) = scores(&rs);
        out.push_str("    <properties>\n");
        let ind = "      ";
        tier_properties(&mut out, ind, "tier.all", &all.all);
        for l in Level::ALL {
            if let Some(c) = all.level(l) {
                tier_properties(&mut out, ind, &format!("tier.{}", l.as_str()), c);
            }
        }
        for (area, s) in &by_area {
            for l in Level::ALL {
                if let Some(c) = s.level(l) {
                    tier_properties(&mut out, ind, &format!("tier.{area}.{}", l.as_str()), c);
                }
            }
        }
        out.push_str("    </properties>\n");
        for r in rs {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}::{}\" time=\"{:.3}\">",
                xml(&r.file),
                xml(&r.id),
                r.profile.as_str(),
                r.duration_ms as f64 / 1000.0
            );
            out.push_str("      <properties>\n");
            let ind = "        ";
            property(&mut out, ind, "verdict", r.verdict.as_str());
            property(
                &mut out,
                ind,
                "tier",
                r.tier.map(|t| t.as_str()).unwrap_or("ungraded"),
            );
            property(&mut out, ind, "area", &r.area);
            property(&mut out, ind, "level", r.level.as_str());
            out.push_str("      </properties>\n");
            match r.verdict {
                Verdict::Fail | Verdict::Xpass => {
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                        xml(&r.reason),
                        r.verdict.as_str(),
                        xml(&failure_text(r, root))
                    );
                }
                Verdict::Error => {
                    let _ = writeln!(
                        out,
                        "      <error message=\"{}\" type=\"error\">{}</error>",
                        xml(&r.reason),
                        xml(&failure_text(r, root))
                    );
                }
                Verdict::Skipped => {
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(&r.reason));
                }
                v => {
                    let _ = writeln!(
                        out,
                        "      <system-out>verdict: {}, tier: {}</system-out>",
                        v.as_str(),
                        r.tier.map(|t| t.as_str()).unwrap_or("ungraded")
                    );
                }
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{from_records, Meta};

    #[test]
    fn tiers_are_properties_of_suites_and_testcases() {
        let r: ResultRecord = serde_json::from_str(
            r#"{"name":"f.yaml::x","file":"f.yaml","line":3,"id":"x","level":"must",
            "spec":"v2.md §2","area":"v2.md §2","profile":"v2","target":"t","verdict":"pass_non_strict",
            "tier":"shape","raw_verdict":"pass_non_strict","reason":"r","mismatches":[],"notes":[],
            "duration_ms":1,"steps":[{"step":1,"tier":"shape","holds":true},
            {"step":2,"tier":"exact","holds":true}]}"#,
        )
        .unwrap();
        let xml = junit(
            &from_records(vec![r], &Meta::default()),
            std::path::Path::new("."),
        );
        for p in [
            r#"<property name="tier.all.steps" value="2"/>"#,
            r#"<property name="tier.all.shape" value="1.0000"/>"#,
            r#"<property name="tier.must.exact" value="0.5000"/>"#,
            r#"<property name="tier.v2.md §2.must.status" value="1.0000"/>"#,
            r#"<property name="tier" value="shape"/>"#,
            r#"<property name="area" value="v2.md §2"/>"#,
        ] {
            assert!(xml.contains(p), "{p} in\n{xml}");
        }
    }
}
