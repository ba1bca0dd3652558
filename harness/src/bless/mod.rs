//! The bless rules: which expectations of a case file to rewrite (those that no longer hold
//! against the reference) or fill in (what a new step does not state yet), and nothing else.
//! The bytes are changed by the YAML editor (`yaml.rs`); the command that runs the reference and
//! writes the files is `cli/bless.rs`.
//!
//! Invariant: the YAML text is edited surgically at the byte spans of the failing values, or by
//! inserting new entries at the indentation of the step; comments, key order, quoting and
//! formatting of everything else survive. Only the
//! failing matchers of a failing step change (a step whose `also_accept` alternative matches is
//! not failing); `also_accept` is never rewritten. A step being filled in only gains the keys
//! it lacks: an existing matcher is never overwritten there.
//!
//! Invariant: a rewrite reads back. The edited text is loaded again with the case loader and
//! every step must then hold against the observation it was written from; a block scalar (`|`,
//! `>`) is rewritten in its own style only when that states the value exactly, otherwise as a
//! double-quoted scalar.

mod yaml;

use crate::case::{Expect, LoadedCase, Matcher, Step};
use crate::compare::{self, matcher_holds};
use crate::observe::StepObservation;
use yaml::{
    after_last_line, block_indent, block_text, flow_close, is_flow, line_end, line_start, newline,
    parse, quote, reads_back, Kind, Node,
};
pub use yaml::{apply, diff, Edit, FileEdits};

/// Whether a summary line of an [`Edit`] (with or without the case id in front) tells of an
/// expectation filled in rather than a matcher rewritten.
pub fn is_added(what: &str) -> bool {
    what.starts_with("added ")
        || what
            .split_once(' ')
            .is_some_and(|(_, rest)| rest.starts_with("added "))
}

/// The observed value a matcher is compared with (None: absent).
fn observed_json(o: &StepObservation, key: &str) -> Option<String> {
    o.json.as_ref().and_then(|j| j.get(key)).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn op_of(m: &Matcher) -> &'static str {
    if m.equals.is_some() {
        "equals"
    } else if m.contains.is_some() {
        "contains"
    } else if m.matches.is_some() {
        "matches"
    } else {
        "absent"
    }
}

/// Edits for one matcher node (a map with one operator key) that no longer holds: it becomes
/// `equals: <observed>`, or `absent: true`. A block scalar value keeps its style when it can
/// (`blocks`), else it becomes a double-quoted scalar.
fn matcher_edits(
    text: &str,
    node: &Node,
    m: &Matcher,
    actual: Option<&str>,
    what: &str,
    blocks: bool,
    out: &mut Vec<Edit>,
) -> Result<(), String> {
    let op = op_of(m);
    let Some((k, v)) = node.get(op) else {
        return Err(format!("{what}: cannot find the `{op}` of the matcher"));
    };
    let (new_op, new_value) = match actual {
        Some(a) => ("equals", quote(a)),
        None => ("absent", "true".to_string()),
    };
    let note = if new_op == op {
        format!("{what}: {op}")
    } else {
        format!("{what}: {op} → {new_op}")
    };
    if new_op != op {
        out.push(Edit {
            start: k.start,
            end: k.end,
            text: new_op.into(),
            what: vec![note.clone()],
        });
    }
    let (start, end, text) = match (&v.kind, v.is_block, v.block) {
        (Kind::Scalar, _, _) if text[v.start..].starts_with('*') => {
            return Err(format!(
                "{what}: the matcher's value is an alias; edit by hand"
            ))
        }
        (Kind::Scalar, false, _) => (v.start, v.end, new_value),
        (Kind::Scalar, true, Some(b)) => {
            let styled = actual.filter(|_| blocks).and_then(|a| {
                block_text(text, &b, a).filter(|t| reads_back(text, b.header, b.end, t, a))
            });
            let text = styled.unwrap_or_else(|| {
                // The header's comment stays on the line.
                let rest = &text[b.indicator_end..b.line_end];
                if rest.trim().is_empty() {
                    new_value
                } else {
                    format!("{new_value}{rest}")
                }
            });
            (b.header, b.end, text)
        }
        _ => {
            return Err(format!(
                "{what}: the matcher's value is not a scalar in a block mapping; edit by hand"
            ))
        }
    };
    out.push(Edit {
        start,
        end,
        text,
        what: vec![note],
    });
    Ok(())
}

fn rows_text(rows: &[String]) -> String {
    let items: Vec<String> = rows.iter().map(|r| quote(r)).collect();
    format!("[{}]", items.join(", "))
}

/// Edits replacing a row list (flow or block) by `rows`.
fn rows_edit(
    text: &str,
    key: &Node,
    node: &Node,
    rows: &[String],
    what: &str,
) -> Result<Edit, String> {
    let what_list = vec![what.to_string()];
    let flow = text[node.start..].starts_with('[');
    if flow {
        let end = flow_close(text, node, what)? + 1;
        return Ok(Edit {
            start: node.start,
            end,
            text: rows_text(rows),
            what: what_list,
        });
    }
    let Kind::Seq(items) = &node.kind else {
        return Err(format!("{what}: not a list"));
    };
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Err(format!("{what}: empty block list"));
    };
    if items
        .iter()
        .any(|i| !matches!(i.kind, Kind::Scalar) || i.is_block)
    {
        return Err(format!("{what}: rows are not one-line scalars"));
    }
    let prefix = &text[line_start(text, first.start)..first.start];
    if !prefix.trim_start().starts_with('-') || prefix.trim().len() != 1 {
        return Err(format!("{what}: unexpected list layout"));
    }
    if rows.is_empty() {
        // `landed:` then the items → `landed: []`.
        let colon = text[key.end..first.start]
            .find(':')
            .map(|i| key.end + i + 1)
            .ok_or_else(|| format!("{what}: cannot find the key's colon"))?;
        // A comment on the key's line is kept.
        let eol = line_end(text, colon).min(first.start);
        let comment = text[colon..eol]
            .find('#')
            .map(|i| format!("  {}", text[colon + i..eol].trim_end()))
            .unwrap_or_default();
        return Ok(Edit {
            start: colon,
            end: last.end,
            text: format!(" []{comment}"),
            what: what_list,
        });
    }
    let items: Vec<String> = rows.iter().map(|r| quote(r)).collect();
    Ok(Edit {
        start: first.start,
        end: last.end,
        text: items.join(&format!("{}{prefix}", newline(text))),
        what: what_list,
    })
}

fn step_fails(step: &Step, o: &StepObservation) -> bool {
    let default_status = compare::default_status(step);
    let empty = Expect::default();
    let expect = step.expect.as_ref().unwrap_or(&empty);
    !compare::check_step(0, expect, default_status, o).is_empty()
        && !step
            .also_accept
            .iter()
            .any(|a| compare::check_step(0, &a.expect, default_status, o).is_empty())
}

/// A key to insert into a step's `expect`: `status: 204`, `message: {equals: "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: &'static str,
    value: String,
    what: String,
}

impl Entry {
    fn text(&self) -> String {
        format!("{}: {}", self.key, self.value)
    }
}

/// At most `n` characters of `s`, with `…` when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}

/// What a step being filled in (step `n`) does not state yet, from its observation: its
/// `status`, and for an answer that is not 2xx the error text, the way the corpus states it
/// most (`message: {equals: ...}` when the body is JSON with a `message`, `body: {equals: ...}`
/// otherwise). Only keys the step lacks: an existing matcher is the stale-matcher path's. Steps
/// with `also_accept` are left to their author (the observation may be the alternative), and a
/// query that answers 2xx is a read like `landed` and `rejected_points`: its rows are recorded
/// in the snapshot, which the reference must match byte for byte.
fn missing(step: &Step, expect: &Expect, o: &StepObservation, n: usize) -> Vec<Entry> {
    let Some(got) = o.status else {
        return Vec::new();
    };
    if compare::default_status(step).is_none() || !step.also_accept.is_empty() {
        return Vec::new();
    }
    let ok = (200..300).contains(&got);
    if ok && step.query.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if expect.status.is_none() {
        out.push(Entry {
            key: "status",
            value: got.to_string(),
            what: format!("added step {n} status: {got}"),
        });
    }
    let states_error =
        expect.body.is_some() || expect.message.is_some() || expect.json.contains_key("message");
    if !ok && !states_error {
        let message = o
            .json
            .as_ref()
            .filter(|j| j.is_object())
            .and_then(|_| observed_json(o, "message"));
        let (key, actual) = match message {
            Some(m) => ("message", m),
            None => ("body", o.body.clone().unwrap_or_default()),
        };
        let value = format!("{{equals: {}}}", quote(&actual));
        out.push(Entry {
            key,
            what: format!("added step {n} {key}: {}", short(&value, 72)),
            value,
        });
    }
    out
}

/// Edits inserting `adds` into a step: into its `expect` (flow or block; `status` first, the
/// rest after the last entry), or as a new `expect` after the step's last key (flow when one
/// entry, else a block mapping at the step's indentation).
fn insert_entries(
    text: &str,
    step: &Node,
    expect: Option<(&Node, &Node)>,
    adds: &[Entry],
) -> Result<Vec<Edit>, String> {
    let nl = newline(text);
    let whats = |es: &[&Entry]| es.iter().map(|e| e.what.clone()).collect::<Vec<_>>();
    let flow = |es: &[&Entry]| es.iter().map(|e| e.text()).collect::<Vec<_>>().join(", ");
    let all: Vec<&Entry> = adds.iter().collect();
    let what = all.first().map(|e| e.what.clone()).unwrap_or_default();
    let edit = |at: usize, text: String, es: &[&Entry]| Edit {
        start: at,
        end: at,
        text,
        what: whats(es),
    };
    match expect {
        None => {
            let Kind::Map(entries) = &step.kind else {
                return Err(format!("{what}: the step is not a mapping"));
            };
            if is_flow(text, step) {
                let close = flow_close(text, step, &what)?;
                let sep = if entries.is_empty() { "" } else { ", " };
                return Ok(vec![edit(
                    close,
                    format!("{sep}expect: {{{}}}", flow(&all)),
                    &all,
                )]);
            }
            let indent = block_indent(text, step, &what)?;
            let at = after_last_line(text, step);
            let body = if all.len() == 1 {
                format!("{nl}{indent}expect: {{{}}}", flow(&all))
            } else {
                let mut s = format!("{nl}{indent}expect:");
                for e in &all {
                    s.push_str(&format!("{nl}{indent}  {}", e.text()));
                }
                s
            };
            Ok(vec![edit(at, body, &all)])
        }
        Some((k, v)) if matches!(v.kind, Kind::Scalar) => {
            // `expect:` with nothing (or `~`, `null`): the entries become its flow mapping.
            if v.start < v.end {
                return Ok(vec![Edit {
                    start: v.start,
                    end: v.end,
                    text: format!("{{{}}}", flow(&all)),
                    what: whats(&all),
                }]);
            }
            let colon = text[k.end..]
                .find(':')
                .map(|i| k.end + i + 1)
                .ok_or_else(|| format!("{what}: cannot find the colon of `expect`"))?;
            Ok(vec![edit(colon, format!(" {{{}}}", flow(&all)), &all)])
        }
        Some((_, e)) => {
            let Kind::Map(entries) = &e.kind else {
                return Err(format!("{what}: `expect` is not a mapping"));
            };
            let (first, rest): (Vec<&Entry>, Vec<&Entry>) =
                adds.iter().partition(|a| a.key == "status");
            let mut out = Vec::new();
            if is_flow(text, e) {
                if entries.is_empty() {
                    return Ok(vec![edit(e.start + 1, flow(&all), &all)]);
                }
                if !first.is_empty() {
                    out.push(edit(e.start + 1, format!("{}, ", flow(&first)), &first));
                }
                if !rest.is_empty() {
                    let close = flow_close(text, e, &what)?;
                    out.push(edit(close, format!(", {}", flow(&rest)), &rest));
                }
                return Ok(out);
            }
            let indent = block_indent(text, e, &what)?;
            if !first.is_empty() {
                let (k0, _) = &entries[0];
                out.push(edit(
                    k0.start,
                    format!("{}{nl}{indent}", first[0].text()),
                    &first,
                ));
            }
            if !rest.is_empty() {
                let at = after_last_line(text, e);
                let body: String = rest
                    .iter()
                    .map(|r| format!("{nl}{indent}{}", r.text()))
                    .collect();
                out.push(edit(at, body, &rest));
            }
            Ok(out)
        }
    }
}

/// The edits that make a case's failing steps hold for the observations `obs` (one per step),
/// and fill in what steps `fill_from..` (0-based) do not state yet. The edited file is loaded
/// again and every step must hold: a block scalar that does not read back in its own style is
/// written double-quoted, and when even that fails nothing is rewritten.
pub fn case_edits(
    text: &str,
    case: &LoadedCase,
    obs: &[StepObservation],
    fill_from: Option<usize>,
) -> Result<Vec<Edit>, String> {
    let styled = edits(text, case, obs, fill_from, true)?;
    let first = verify(text, case, obs, &styled);
    if first.is_ok() {
        return Ok(styled);
    }
    let quoted = edits(text, case, obs, fill_from, false)?;
    if quoted != styled {
        verify(text, case, obs, &quoted)?;
        return Ok(quoted);
    }
    first.map(|_| styled)
}

/// Loads `text` with `edits` applied: every step of the case must hold for `obs`.
fn verify(
    text: &str,
    case: &LoadedCase,
    obs: &[StepObservation],
    edits: &[Edit],
) -> Result<(), String> {
    if edits.is_empty() {
        return Ok(());
    }
    let new = apply(text, edits)?;
    let (_, cases) = crate::case::load_file(&case.path, &case.file, &new)
        .map_err(|e| format!("the rewritten file does not load ({e}); edit by hand"))?;
    let c = cases
        .iter()
        .find(|c| c.case.id == case.case.id)
        .ok_or("the case is gone from the rewritten file; edit by hand")?;
    for (i, (step, o)) in c.case.steps.iter().zip(obs).enumerate() {
        if step_fails(step, o) {
            return Err(format!(
                "step {} does not hold after the rewrite (a value does not read back as observed); edit by hand",
                i + 1
            ));
        }
    }
    Ok(())
}

fn edits(
    text: &str,
    case: &LoadedCase,
    obs: &[StepObservation],
    fill_from: Option<usize>,
    blocks: bool,
) -> Result<Vec<Edit>, String> {
    let root = parse(text)?;
    let (_, cases) = root.get("cases").ok_or("no `cases`")?;
    let Kind::Seq(cases) = &cases.kind else {
        return Err("`cases` is not a list".into());
    };
    let node = cases
        .iter()
        .find(|c| c.get("id").is_some_and(|(_, v)| v.value == case.case.id))
        .ok_or_else(|| format!("case {} not found in the text", case.case.id))?;
    let (_, steps) = node.get("steps").ok_or("no `steps`")?;
    let Kind::Seq(steps) = &steps.kind else {
        return Err("`steps` is not a list".into());
    };
    let mut out = Vec::new();
    for (i, (step, o)) in case.case.steps.iter().zip(obs).enumerate() {
        let n = i + 1;
        let expect = step.expect.clone().unwrap_or_default();
        let mut adds = if fill_from.is_some_and(|f| i >= f) {
            missing(step, &expect, o, n)
        } else {
            Vec::new()
        };
        let fails = step_fails(step, o);
        if !fails && adds.is_empty() {
            continue;
        }
        let snode = steps.get(i).ok_or("fewer steps in the text")?;
        let expect_entry = snode.get("expect");
        let enode = expect_entry
            .map(|(_, v)| v)
            .filter(|v| matches!(v.kind, Kind::Map(_)));
        // status
        if let (true, Some(want), Some(got)) = (
            fails,
            expect.status.or(compare::default_status(step)),
            o.status,
        ) {
            if want != got {
                let what = format!("step {n} status");
                match (expect.status, enode) {
                    (Some(_), Some(e)) => {
                        let (_, v) = e.get("status").ok_or("no status node")?;
                        out.push(Edit {
                            start: v.start,
                            end: v.end,
                            text: got.to_string(),
                            what: vec![what],
                        });
                    }
                    (Some(_), None) => return Err("no expect node".into()),
                    (None, _) => {
                        if !adds.iter().any(|a| a.key == "status") {
                            adds.insert(
                                0,
                                Entry {
                                    key: "status",
                                    value: got.to_string(),
                                    what,
                                },
                            );
                        }
                    }
                }
            }
        }
        if !adds.is_empty() {
            out.extend(insert_entries(text, snode, expect_entry, &adds)?);
        }
        if !fails {
            continue;
        }
        let Some(e) = enode else { continue };
        for (name, m) in &expect.headers {
            let actual = o
                .headers
                .get(&name.to_ascii_lowercase())
                .map(String::as_str);
            if !matcher_holds(m, actual) {
                let (_, h) = e.get("headers").ok_or("no headers node")?;
                let (_, mn) = h.get(name).ok_or("no header node")?;
                let what = format!("step {n} header {name}");
                matcher_edits(text, mn, m, actual, &what, blocks, &mut out)?;
            }
        }
        if let Some(m) = &expect.body {
            let actual = o.body.as_deref().unwrap_or("");
            if !matcher_holds(m, Some(actual)) {
                let (_, mn) = e.get("body").ok_or("no body node")?;
                let what = format!("step {n} body");
                matcher_edits(text, mn, m, Some(actual), &what, blocks, &mut out)?;
            }
        }
        if let Some(m) = &expect.message {
            let actual = observed_json(o, "message");
            if !matcher_holds(m, actual.as_deref()) {
                let (_, mn) = e.get("message").ok_or("no message node")?;
                let what = format!("step {n} message");
                matcher_edits(text, mn, m, actual.as_deref(), &what, blocks, &mut out)?;
            }
        }
        for (key, m) in &expect.json {
            let actual = observed_json(o, key);
            if !matcher_holds(m, actual.as_deref()) {
                let (_, j) = e.get("json").ok_or("no json node")?;
                let (_, mn) = j.get(key).ok_or("no json key node")?;
                let what = format!("step {n} json.{key}");
                matcher_edits(text, mn, m, actual.as_deref(), &what, blocks, &mut out)?;
            }
        }
        for (key, want, got) in [
            ("landed", &expect.landed, &o.landed),
            (
                "rejected_points",
                &expect.rejected_points,
                &o.rejected_points,
            ),
        ] {
            let (Some(want), Some(got)) = (want, got) else {
                continue;
            };
            let (mut w, mut g) = (want.clone(), got.clone());
            w.sort();
            g.sort();
            if w != g {
                let (k, v) = e.get(key).ok_or("no rows node")?;
                out.push(rows_edit(text, k, v, got, &format!("step {n} {key}"))?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use std::collections::BTreeMap;

    use super::yaml::breaks_after;
    use super::*;

    const PARSE_ERROR: &str =
        r#"{"code":"invalid","message":"unable to parse 'm v=': missing field value"}"#;

    /// An answer: status and body (JSON parsed when it is).
    fn answer(status: u16, body: &str) -> StepObservation {
        StepObservation {
            status: Some(status),
            body: (!body.is_empty()).then(|| body.to_string()),
            json: serde_json::from_str(body).ok(),
            ..Default::default()
        }
    }

    /// A read step's observation (`landed`).
    fn rows(rows: &[&str]) -> StepObservation {
        StepObservation {
            landed: Some(rows.iter().map(|r| r.to_string()).collect()),
            ..Default::default()
        }
    }

    /// A case file with one case `c` whose steps are `steps` (indented for `steps:` at 4).
    fn file(steps: &str) -> String {
        format!("about: a\nspec: s\ncases:\n  - id: c\n    description: d\n    expectation: e\n    steps:\n{steps}")
    }

    /// Blesses the one case of `text` against `obs`, filling in from step `fill` (0-based);
    /// the result must load and every step must then hold.
    fn bless(text: &str, obs: &[StepObservation], fill: Option<usize>) -> String {
        let (_, cases) =
            crate::case::load_file(Path::new("t.yaml"), "t.yaml", text).expect("loads");
        let edits = case_edits(text, &cases[0], obs, fill).expect("edits");
        let out = apply(text, &edits).expect("applies");
        let (_, again) =
            crate::case::load_file(Path::new("t.yaml"), "t.yaml", &out).expect("reloads");
        for (i, (s, o)) in again[0].case.steps.iter().zip(obs).enumerate() {
            assert!(
                !step_fails(s, o),
                "step {} fails after bless:\n{out}",
                i + 1
            );
        }
        out
    }

    /// The summary lines of a bless.
    fn summary(text: &str, obs: &[StepObservation], fill: Option<usize>) -> Vec<String> {
        let (_, cases) =
            crate::case::load_file(Path::new("t.yaml"), "t.yaml", text).expect("loads");
        case_edits(text, &cases[0], obs, fill)
            .expect("edits")
            .into_iter()
            .flat_map(|e| e.what)
            .collect()
    }

    #[test]
    fn block_rows_become_empty_and_keys_are_inserted() {
        let text = "e:\n  landed:   # c\n    - a\n    - b  # last\nstep:\n  write: {body: x}  # w\n  also_accept:\n    - {why: y}\nnext: 1\n";
        let root = parse(text).unwrap();
        let (_, e) = root.get("e").unwrap();
        let (k, v) = e.get("landed").unwrap();
        let edit = rows_edit(text, k, v, &[], "rows").unwrap();
        let (_, step) = root.get("step").unwrap();
        let status = Entry {
            key: "status",
            value: "400".into(),
            what: "status".into(),
        };
        let mut edits = insert_entries(text, step, None, &[status]).unwrap();
        edits.push(edit);
        let got = apply(text, &edits).unwrap();
        assert_eq!(
            got,
            "e:\n  landed: []  # c  # last\nstep:\n  write: {body: x}  # w\n  also_accept:\n    - {why: y}\n  expect: {status: 400}\nnext: 1\n"
        );
        let back: serde_norway::Value = serde_norway::from_str(&got).unwrap();
        assert_eq!(back["e"]["landed"], serde_norway::Value::Sequence(vec![]));
    }

    /// Steps with no `expect`, block and flow, with comments between keys: the missing keys
    /// go after the step's last key (and its comment), at the step's indentation; comments
    /// after the step stay after it.
    #[test]
    fn fills_in_steps_without_expect() {
        let text = file(concat!(
            "      # the bad line\n",
            "      - write:\n",
            "          body: \"m v=\"   # no value\n",
            "          # params follow\n",
            "          params: {precision: s}\n",
            "        # after the step\n",
            "      - write: {body: \"m v=1 1\"}   # fine\n",
            "      - {write: {body: \"m v=2 2\"}}\n",
            "      - {write: {body: \"m v=\"}}\n",
            "      - write:\n",
            "          body: |\n",
            "            m v=3 3\n",
            "            m v=4 4\n",
            "\n",
            "      # the end\n",
        ));
        let obs = [
            answer(400, PARSE_ERROR),
            answer(204, ""),
            answer(204, ""),
            answer(400, PARSE_ERROR),
            answer(204, ""),
        ];
        let want = file(concat!(
            "      # the bad line\n",
            "      - write:\n",
            "          body: \"m v=\"   # no value\n",
            "          # params follow\n",
            "          params: {precision: s}\n",
            "        expect:\n",
            "          status: 400\n",
            "          message: {equals: \"unable to parse 'm v=': missing field value\"}\n",
            "        # after the step\n",
            "      - write: {body: \"m v=1 1\"}   # fine\n",
            "        expect: {status: 204}\n",
            "      - {write: {body: \"m v=2 2\"}, expect: {status: 204}}\n",
            "      - {write: {body: \"m v=\"}, expect: {status: 400, message: {equals: \"unable to parse 'm v=': missing field value\"}}}\n",
            "      - write:\n",
            "          body: |\n",
            "            m v=3 3\n",
            "            m v=4 4\n",
            "        expect: {status: 204}\n",
            "\n",
            "      # the end\n",
        ));
        assert_eq!(bless(&text, &obs, Some(0)), want);
        assert_eq!(
            summary(&text, &obs, Some(0)),
            [
                "added step 1 status: 400",
                "added step 1 message: {equals: \"unable to parse 'm v=': missing field value\"}",
                "added step 2 status: 204",
                "added step 3 status: 204",
                "added step 4 status: 400",
                "added step 4 message: {equals: \"unable to parse 'm v=': missing field value\"}",
                "added step 5 status: 204",
            ]
        );
    }

    /// An `expect` that states some keys gains only the ones it lacks: `status` first, the
    /// error text after its last entry; existing matchers are not touched.
    #[test]
    fn fills_in_partial_expect() {
        let text = file(concat!(
            "      - write: {body: \"m v=\"}\n",
            "        expect:\n",
            "          # nothing lands\n",
            "          landed: []   # none\n",
            "          json: {code: {equals: invalid}}\n",
            "      - write: {body: \"m v=\"}\n",
            "        expect: {landed: []}   # flow\n",
            "      - write: {body: \"m v=1 1\"}\n",
            "        expect: {}\n",
            "      - write: {body: \"m v=1 1\"}\n",
            "        expect:   # to do\n",
            "      - write: {body: \"m v=\"}\n",
            "        expect: {message: {contains: missing}}\n",
            "      - write: {body: \"m v=\"}\n",
            "        expect: {status: 400, body: {matches: \"parse\"}}\n",
        ));
        let landed = |mut o: StepObservation| {
            o.landed = Some(Vec::new());
            o
        };
        let obs = [
            landed(answer(400, PARSE_ERROR)),
            landed(answer(400, PARSE_ERROR)),
            answer(204, ""),
            answer(204, ""),
            answer(400, PARSE_ERROR),
            answer(400, PARSE_ERROR),
        ];
        let msg = "message: {equals: \"unable to parse 'm v=': missing field value\"}";
        let want = file(&format!(
            concat!(
                "      - write: {{body: \"m v=\"}}\n",
                "        expect:\n",
                "          # nothing lands\n",
                "          status: 400\n",
                "          landed: []   # none\n",
                "          json: {{code: {{equals: invalid}}}}\n",
                "          {msg}\n",
                "      - write: {{body: \"m v=\"}}\n",
                "        expect: {{status: 400, landed: [], {msg}}}   # flow\n",
                "      - write: {{body: \"m v=1 1\"}}\n",
                "        expect: {{status: 204}}\n",
                "      - write: {{body: \"m v=1 1\"}}\n",
                "        expect: {{status: 204}}   # to do\n",
                "      - write: {{body: \"m v=\"}}\n",
                "        expect: {{status: 400, message: {{contains: missing}}}}\n",
                "      - write: {{body: \"m v=\"}}\n",
                "        expect: {{status: 400, body: {{matches: \"parse\"}}}}\n",
            ),
            msg = msg
        ));
        assert_eq!(bless(&text, &obs, Some(0)), want);
    }

    /// Reads (`landed`, `rejected_points`, a query answering 2xx), steps with alternatives,
    /// `wait` and `settle`, and steps before `fill_from` are not filled in. A query that
    /// answers an error is: it is an error exchange, not a read.
    #[test]
    fn what_is_not_filled_in() {
        let text = file(concat!(
            "      - write: {body: \"m v=1 1\"}\n",
            "      - landed: {}\n",
            "      - query: {flux: \"from(bucket: \\\"{bucket}\\\") |> range(start: 0)\"}\n",
            "      - write: {body: \"m v=1 1\", token: none}\n",
            "        also_accept:\n",
            "          - {expect: {status: 401}, verdict: info, why: w}\n",
            "      - wait: 1h\n",
            "      - settle: {}\n",
            "      - query: {flux: \"nope\"}\n",
            "      - write: {body: \"m v=1 2\"}\n",
        ));
        let bad = r#"{"code":"invalid","message":"compilation failed"}"#;
        let obs = [
            answer(204, ""),
            rows(&["m v=1 1"]),
            answer(200, ",result,table\r\n"),
            answer(
                401,
                r#"{"code":"unauthorized","message":"unauthorized access"}"#,
            ),
            StepObservation::default(),
            StepObservation::default(),
            answer(400, bad),
            answer(204, ""),
        ];
        assert_eq!(
            bless(&text, &obs, Some(1)),
            text.replace(
                "      - query: {flux: \"nope\"}\n",
                "      - query: {flux: \"nope\"}\n        expect:\n          status: 400\n          message: {equals: \"compilation failed\"}\n",
            )
            .replace(
                "      - write: {body: \"m v=1 2\"}\n",
                "      - write: {body: \"m v=1 2\"}\n        expect: {status: 204}\n",
            )
        );
        // Nothing to fill in: the stale path alone, which the passing steps do not call.
        assert_eq!(bless(&text[..text.len() - 27], &obs[..7], None), {
            let t = &text[..text.len() - 27];
            t.replace(
                "      - query: {flux: \"nope\"}\n",
                "      - query: {flux: \"nope\"}\n        expect: {status: 400}\n",
            )
        });
    }

    /// A non-2xx answer without a JSON `message` is stated by its body.
    #[test]
    fn error_without_message_is_stated_by_its_body() {
        let text = file("      - request: {path: /nope}\n      - request: {path: /gone}\n");
        let obs = [answer(404, "404 page not found\n"), answer(405, "")];
        assert_eq!(
            bless(&text, &obs, Some(0)),
            file(concat!(
                "      - request: {path: /nope}\n",
                "        expect:\n",
                "          status: 404\n",
                "          body: {equals: \"404 page not found\\n\"}\n",
                "      - request: {path: /gone}\n",
                "        expect:\n",
                "          status: 405\n",
                "          body: {equals: \"\"}\n",
            ))
        );
    }

    /// The last step of a file without a final line break: the file still ends without one.
    #[test]
    fn last_step_without_final_newline() {
        let text = file("      - write: {body: \"m v=1 1\"}");
        let want = file("      - write: {body: \"m v=1 1\"}\n        expect: {status: 204}");
        assert_eq!(bless(&text, &[answer(204, "")], Some(0)), want);
        let text = file("      - write:\n          body: \"m v=\"  # x");
        let want = file("      - write:\n          body: \"m v=\"  # x\n        expect:\n          status: 400\n          message: {equals: \"unable to parse 'm v=': missing field value\"}");
        assert_eq!(bless(&text, &[answer(400, PARSE_ERROR)], Some(0)), want);
    }

    /// CRLF files (the loader reads them) get CRLF in what is inserted and in rewritten lists.
    #[test]
    fn crlf_files_keep_crlf() {
        let crlf = |s: &str| s.replace('\n', "\r\n");
        let text = crlf(&file(concat!(
            "      - write: {body: \"m v=\"}  # c\n",
            "      - write: {body: \"m v=1 1\"}\n",
            "        expect:\n",
            "          landed:\n",
            "            - m v=9 9\n",
            "            - m v=8 8\n",
            "      - write: {body: \"m v=1 2\"}\n",
        )));
        let mut landed = answer(204, "");
        landed.landed = Some(vec!["m v=1 1".into(), "m v=2 2".into()]);
        let obs = [answer(400, PARSE_ERROR), landed, answer(204, "")];
        let want = crlf(&file(concat!(
            "      - write: {body: \"m v=\"}  # c\n",
            "        expect:\n",
            "          status: 400\n",
            "          message: {equals: \"unable to parse 'm v=': missing field value\"}\n",
            "      - write: {body: \"m v=1 1\"}\n",
            "        expect:\n",
            "          status: 204\n",
            "          landed:\n",
            "            - \"m v=1 1\"\n",
            "            - \"m v=2 2\"\n",
            "      - write: {body: \"m v=1 2\"}\n",
            "        expect: {status: 204}\n",
        )));
        let got = bless(&text, &obs, Some(0));
        assert_eq!(got, want);
        assert!(
            !got.replace("\r\n", "").contains('\n'),
            "a bare LF: {got:?}"
        );
    }

    /// Deeper or shallower indentation than the corpus's: inserted keys follow the file.
    #[test]
    fn follows_the_file_indentation() {
        let text = "about: a\nspec: s\ncases:\n- id: c\n  description: d\n  expectation: e\n  steps:\n  -   write:\n          body: \"m v=\"\n  -   write: {body: \"m v=1 1\"}\n      expect:\n            landed: []\n";
        let mut landed = answer(204, "");
        landed.landed = Some(Vec::new());
        let got = bless(text, &[answer(400, PARSE_ERROR), landed], Some(0));
        assert_eq!(
            got,
            "about: a\nspec: s\ncases:\n- id: c\n  description: d\n  expectation: e\n  steps:\n  -   write:\n          body: \"m v=\"\n      expect:\n        status: 400\n        message: {equals: \"unable to parse 'm v=': missing field value\"}\n  -   write: {body: \"m v=1 1\"}\n      expect:\n            status: 204\n            landed: []\n"
        );
    }

    /// A failing step with no status that is also being filled in gains one `status`.
    #[test]
    fn stale_implicit_status_and_fill_in_agree() {
        let text = file("      - write: {body: \"m v=\"}\n        expect: {landed: []}\n");
        let mut o = answer(400, PARSE_ERROR);
        o.landed = Some(Vec::new());
        let obs = [o];
        let filled = bless(&text, &obs, Some(0));
        assert!(filled.contains("expect: {status: 400, landed: [], message: {equals: "));
        assert_eq!(
            bless(&text, &obs, None),
            file("      - write: {body: \"m v=\"}\n        expect: {status: 400, landed: []}\n")
        );
        assert_eq!(summary(&text, &obs, None), ["step 1 status"]);
    }

    /// A stale matcher whose value is a block scalar: (header and content as written, the
    /// observed value, what the rewrite gives).
    #[test]
    fn block_scalars_are_rewritten_in_their_style() {
        let long = "unable to parse 'cpu,host=a usage=': missing field value; this sentence is long enough to be wrapped by a folded scalar";
        let cases: Vec<(&str, String, &str)> = vec![
            // literal, chomping chosen by the trailing line breaks
            ("|\n              old\n", "new\n".into(), "|\n              new\n"),
            ("|\n              old\n", "new".into(), "|-\n              new\n"),
            ("|-\n              old\n", "a\nb\n\n".into(), "|+\n              a\n              b\n\n"),
            ("|  # keep me\n              old\n", "x: y # z\n  w".into(), "|-  # keep me\n              x: y # z\n                w\n"),
            // leading spaces need an indentation indicator
            ("|\n              old\n", "  lead\n".into(), "|2\n                lead\n"),
            // folded: a line break is an empty line, long lines wrap at spaces
            (">\n              old\n", "one\ntwo\n".into(), ">\n              one\n\n              two\n"),
            (">-\n              old\n", long.into(), ">-\n              unable to parse 'cpu,host=a usage=': missing field value; this sentence is long enough\n              to be wrapped by a folded scalar\n"),
            // what a block cannot state: double-quoted, the header's comment kept
            ("|  # c\n              old\n", "a\rb".into(), "\"a\\rb\"  # c\n"),
            (">\n              old\n", " indented".into(), "\" indented\"\n"),
            ("|\n              old\n", "".into(), "\"\"\n"),
            ("|\n              old\n", "\n\n".into(), "\"\\n\\n\"\n"),
        ];
        for (block, value, want) in cases {
            let text = file(&format!(
                "      - write: {{body: \"m v=\"}}\n        expect:\n          status: 400\n          message:\n            equals: {block}          # after\n      - write: {{body: \"m v=1 1\"}}\n"
            ));
            let body = serde_json::json!({"code": "invalid", "message": value}).to_string();
            let got = bless(&text, &[answer(400, &body), answer(204, "")], None);
            let want = text.replace(&format!("equals: {block}"), &format!("equals: {want}"));
            assert_eq!(got, want, "{block:?} → {value:?}");
        }
    }

    /// `|+` keeps the blank lines after it: they count towards the value.
    #[test]
    fn keep_chomping_counts_the_blank_lines_after() {
        let text = file("      - write: {body: \"m v=\"}\n        expect:\n          status: 400\n          message:\n            equals: |+\n              old\n\n\n  - id: d\n    description: d\n    expectation: e\n    steps:\n      - write: {body: \"m v=1 1\"}\n");
        let obs = |v: &str| {
            [answer(
                400,
                &serde_json::json!({"code": "invalid", "message": v}).to_string(),
            )]
        };
        // Four line breaks wanted, three given (the line's own and two blank lines after): one
        // more is written.
        let got = bless(&text, &obs("a\n\n\n\n"), None);
        assert!(
            got.contains("equals: |+\n              a\n\n\n\n  - id: d"),
            "{got}"
        );
        let got = bless(&text, &obs("a\n\n\n"), None);
        assert!(
            got.contains("equals: |+\n              a\n\n\n  - id: d"),
            "{got}"
        );
        // One wanted: clip, the blank lines no longer count.
        let got = bless(&text, &obs("a\n"), None);
        assert!(
            got.contains("equals: |\n              a\n\n\n  - id: d"),
            "{got}"
        );
        // At the end of a file without a final break, clip needs the break written.
        let text = file("      - write: {body: \"m v=\"}\n        expect:\n          message: {equals: x}\n          status: 400\n          body:\n            contains: |-\n              old");
        let got = bless(&text, &[answer(400, "b\n")], None);
        assert!(
            got.ends_with("body:\n            equals: |\n              b\n"),
            "{got:?}"
        );
    }

    /// Without block styles (the fallback when a styled rewrite does not read back), a block
    /// scalar becomes double-quoted.
    #[test]
    fn block_scalars_fall_back_to_double_quotes() {
        let text = "m:\n  equals: >+  # c\n    old\n\nnext: 1\n";
        let root = parse(text).unwrap();
        let (_, m) = root.get("m").unwrap();
        let matcher = Matcher {
            equals: Some("old\n\n".into()),
            ..Default::default()
        };
        let mut out = Vec::new();
        matcher_edits(text, m, &matcher, Some("new\n"), "body", false, &mut out).unwrap();
        let got = apply(text, &out).unwrap();
        assert_eq!(got, "m:\n  equals: \"new\\n\"  # c\n\nnext: 1\n");
    }

    /// Characters that matter to YAML (quotes, `:`, `#`, indicators, white space, line breaks,
    /// control and non-ASCII characters) and words to wrap.
    fn matcher_string() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-z]{1,12}",
            3 => Just(" ".to_string()),
            2 => Just("\n".to_string()),
            1 => prop::sample::select(vec![
                "\"", "'", "\\", ":", ": ", " #", "#", "-", "- ", "|", ">", "{", "}", "[", "]",
                ",", "&", "*", "!", "%", "@", "`", "?", "\t", "\r", "\r\n", "  ", "...", "---",
                "é", "✓", "𝄞", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}", "\u{1b}", "\u{0}",
                "\u{7f}", "\u{fffe}", "null", "~", "true", "0x1F",
            ])
            .prop_map(str::to_string),
            1 => any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    /// The matcher texts bless rewrites: one-line scalars and block scalars of every style and
    /// chomping, with a header comment or not, at two depths, before more keys or at the end.
    fn original() -> impl Strategy<Value = String> {
        let value = prop_oneof![
            Just("'old'".to_string()),
            Just("{a: 1}".to_string()),
            (
                prop::sample::select(vec!["|", ">"]),
                prop::sample::select(vec!["", "-", "+", "2", "2-"]),
                prop::sample::select(vec!["", "  # c"]),
                prop::sample::select(vec!["old\n", "old\n\n", "a\n  b\n", "x\n\ny\n"]),
            )
                .prop_map(|(s, c, comment, body)| {
                    let content: String = body
                        .split_inclusive('\n')
                        .map(|l| {
                            if l == "\n" {
                                l.to_string()
                            } else {
                                format!("      {l}")
                            }
                        })
                        .collect();
                    format!("{s}{c}{comment}\n{content}")
                }),
        ];
        (
            value,
            prop::sample::select(vec!["  next: 1\n", "\nnext: 1\n", "", "# end\n"]),
        )
            .prop_map(|(v, after)| {
                if v.contains('\n') {
                    format!("m:\n  equals: {v}{after}")
                } else {
                    format!("m:\n  equals: {v}\n{after}")
                }
            })
    }

    proptest! {
        /// Whatever the observed string, the rewritten file reads back (with the case loader's
        /// YAML parser) as exactly that string, in block style or double-quoted, and the keys
        /// after the value are still there.
        #[test]
        fn rewritten_matchers_read_back(text in original(), value in matcher_string(), blocks in any::<bool>()) {
            let root = parse(&text).unwrap();
            let (_, m) = root.get("m").unwrap();
            let Some((_, v)) = m.get("equals") else { return Ok(()) };
            if !matches!(v.kind, Kind::Scalar) {
                return Ok(());
            }
            let old = Matcher { equals: Some(v.value.clone()), ..Default::default() };
            let mut out = Vec::new();
            matcher_edits(&text, m, &old, Some(&value), "m", blocks, &mut out).unwrap();
            let got = apply(&text, &out).unwrap();
            let back: serde_norway::Value = serde_norway::from_str(&got)
                .map_err(|e| TestCaseError::fail(format!("{e}: {got:?}")))?;
            prop_assert_eq!(back["m"]["equals"].as_str(), Some(value.as_str()), "{:?}", got);
            if text.contains("next: 1") {
                prop_assert_eq!(back["next"].as_u64().or(back["m"]["next"].as_u64()), Some(1), "{:?}", got);
            }
        }

        /// Text a block scalar can state (words, single spaces and line breaks, no leading white
        /// space) keeps the block style, `|` or `>`.
        #[test]
        fn block_style_is_kept_when_it_can_state_the_value(
            text in original(),
            words in prop::collection::vec(("[a-z:#'\",{}\\-]{1,30}", prop::sample::select(vec![" ", "\n", "\n\n"])), 1..12),
            trailing in prop::sample::select(vec!["", "\n", "\n\n", "\n\n\n"]),
        ) {
            let root = parse(&text).unwrap();
            let (_, m) = root.get("m").unwrap();
            let (_, v) = m.get("equals").unwrap();
            let Some(b) = v.block else { return Ok(()) };
            let mut value: String = words.iter().map(|(w, sep)| format!("{w}{sep}")).collect();
            value.truncate(value.trim_end().len());
            value.push_str(trailing);
            // `|+` cannot state fewer line breaks than the blank lines after it give.
            let breaks = trailing.len().max(1);
            if trailing.len() >= 2 && breaks_after(&text[b.end..]) > breaks {
                return Ok(());
            }
            let old = Matcher { equals: Some(v.value.clone()), ..Default::default() };
            let mut out = Vec::new();
            matcher_edits(&text, m, &old, Some(&value), "m", true, &mut out).unwrap();
            let style = if b.folded { '>' } else { '|' };
            prop_assert!(out[0].text.starts_with(style), "{:?} → {:?}", text, out[0].text);
            let got = apply(&text, &out).unwrap();
            let back: serde_norway::Value = serde_norway::from_str(&got).unwrap();
            prop_assert_eq!(back["m"]["equals"].as_str(), Some(value.as_str()), "{:?}", got);
        }

        /// `quote` alone: any string reads back.
        #[test]
        fn quoted_strings_read_back(value in matcher_string()) {
            let yaml = format!("v: {}\n", quote(&value));
            let back: BTreeMap<String, String> = serde_norway::from_str(&yaml).unwrap();
            prop_assert_eq!(&back["v"], &value);
        }
    }
}
