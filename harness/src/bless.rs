//! `bless`: rewrite, in the case YAML files, the expectations that no longer hold against the
//! reference, and nothing else.
//!
//! Invariant: the YAML text is edited surgically at the byte spans of the failing values (found
//! with an event parser that tracks spans); comments, key order, quoting and formatting of
//! everything else survive. Only the failing matchers of a failing step change (a step whose
//! `also_accept` alternative matches is not failing); `also_accept` is never rewritten.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::case::{Expect, LoadedCase, Matcher, Step};
use crate::compare::{self, matcher_holds};
use crate::observe::StepObservation;

/// One replacement of a byte range of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// What changed, for the summary (`step 2 message: contains → equals`).
    pub what: String,
}

/// A YAML node with its byte span.
#[derive(Debug, Clone)]
enum Kind {
    Scalar,
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    value: String,
    start: usize,
    end: usize,
    /// A literal or folded block scalar (`|`, `>`): its span is not the text to replace.
    block: bool,
}

impl Node {
    fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }
}

/// Parses `text` into a tree of nodes with byte spans.
fn parse(text: &str) -> Result<Node, String> {
    // Marker indices are in chars; map them to bytes.
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let byte = |c: usize| offsets.get(c).copied().unwrap_or(text.len());
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    let mut parser = Parser::new_from_str(text);
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| e.to_string())?;
        let (start, end) = (byte(span.start.index()), byte(span.end.index()));
        let done = match ev {
            Event::Scalar(v, style, ..) => Some(Node {
                kind: Kind::Scalar,
                value: v.into_owned(),
                start,
                end,
                block: matches!(style, ScalarStyle::Literal | ScalarStyle::Folded),
            }),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let kind = if matches!(ev, Event::MappingStart(..)) {
                    Kind::Map(Vec::new())
                } else {
                    Kind::Seq(Vec::new())
                };
                stack.push(Node {
                    kind,
                    value: String::new(),
                    start,
                    end,
                    block: false,
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let mut n = stack.pop().ok_or("unbalanced YAML events")?;
                n.end = end.max(n.start);
                Some(n)
            }
            Event::Alias(_) => return Err("aliases are not supported by bless".into()),
            _ => None,
        };
        if let Some(n) = done {
            match stack.last_mut() {
                None => root = Some(n),
                Some(Node {
                    kind: Kind::Seq(items),
                    ..
                }) => items.push(n),
                Some(Node {
                    kind: Kind::Map(entries),
                    value,
                    ..
                }) => {
                    // `value` holds a pending key marker: entries with a key but no value yet.
                    if value == "k" {
                        if let Some(last) = entries.last_mut() {
                            last.1 = n;
                        }
                        value.clear();
                    } else {
                        let placeholder = Node {
                            kind: Kind::Scalar,
                            value: String::new(),
                            start: n.end,
                            end: n.end,
                            block: false,
                        };
                        entries.push((n, placeholder));
                        *value = "k".into();
                    }
                }
                Some(_) => {}
            }
        }
    }
    root.ok_or_else(|| "empty YAML document".into())
}

/// A YAML double-quoted scalar that reads back as exactly `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{85}' | '\u{a0}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The observed value a matcher is compared with (None: absent).
fn observed_json(o: &StepObservation, key: &str) -> Option<String> {
    o.json.as_ref().and_then(|j| j.get(key)).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The rewrite of one matcher that no longer holds: (new operator key, new value text).
fn new_matcher(m: &Matcher, actual: Option<&str>) -> (&'static str, String) {
    let _ = m;
    match actual {
        Some(a) => ("equals", quote(a)),
        None => ("absent", "true".into()),
    }
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

/// Edits for one matcher node (a map with one operator key).
fn matcher_edits(
    node: &Node,
    m: &Matcher,
    actual: Option<&str>,
    what: &str,
    out: &mut Vec<Edit>,
) -> Result<(), String> {
    let op = op_of(m);
    let Some((k, v)) = node.get(op) else {
        return Err(format!("{what}: cannot find the `{op}` of the matcher"));
    };
    let (new_op, new_value) = new_matcher(m, actual);
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
            what: note.clone(),
        });
    }
    if !matches!(v.kind, Kind::Scalar) || v.block {
        return Err(format!(
            "{what}: the matcher's value is not a one-line scalar (a `|` or `>` block); edit by hand"
        ));
    }
    out.push(Edit {
        start: v.start,
        end: v.end,
        text: new_value,
        what: note,
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
    let flow = text[node.start..].starts_with('[');
    if flow {
        let end = text[node.start..node.end.max(node.start)]
            .rfind(']')
            .map(|i| node.start + i + 1)
            .or_else(|| text[node.start..].find(']').map(|i| node.start + i + 1))
            .ok_or_else(|| format!("{what}: cannot find the end of the list"))?;
        return Ok(Edit {
            start: node.start,
            end,
            text: rows_text(rows),
            what: what.into(),
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
        .any(|i| !matches!(i.kind, Kind::Scalar) || i.block)
    {
        return Err(format!("{what}: rows are not scalars"));
    }
    let line_start = text[..first.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let prefix = &text[line_start..first.start];
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
        let eol = text[colon..first.start]
            .find('\n')
            .map(|i| colon + i)
            .unwrap_or(first.start);
        let comment = text[colon..eol]
            .find('#')
            .map(|i| format!("  {}", text[colon + i..eol].trim_end()))
            .unwrap_or_default();
        return Ok(Edit {
            start: colon,
            end: last.end,
            text: format!(" []{comment}"),
            what: what.into(),
        });
    }
    let items: Vec<String> = rows.iter().map(|r| quote(r)).collect();
    Ok(Edit {
        start: first.start,
        end: last.end,
        text: items.join(&format!("\n{prefix}")),
        what: what.into(),
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

/// The edits that make a case's failing steps hold for the observations `obs` (one per step).
pub fn case_edits(
    text: &str,
    case: &LoadedCase,
    obs: &[StepObservation],
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
        if !step_fails(step, o) {
            continue;
        }
        let n = i + 1;
        let snode = steps.get(i).ok_or("fewer steps in the text")?;
        let expect = step.expect.clone().unwrap_or_default();
        let enode = snode.get("expect").map(|(_, v)| v);
        // status
        if let (Some(want), Some(got)) = (expect.status.or(compare::default_status(step)), o.status)
        {
            if want != got {
                let what = format!("step {n} status");
                match (expect.status, enode) {
                    (Some(_), Some(e)) => {
                        let (_, v) = e.get("status").ok_or("no status node")?;
                        out.push(Edit {
                            start: v.start,
                            end: v.end,
                            text: got.to_string(),
                            what,
                        });
                    }
                    (None, Some(e)) => out.push(insert_key(
                        text,
                        e,
                        &format!("status: {got}"),
                        &what,
                        false,
                    )?),
                    (_, None) => out.push(insert_key(
                        text,
                        snode,
                        &format!("expect: {{status: {got}}}"),
                        &what,
                        true,
                    )?),
                }
            }
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
                matcher_edits(mn, m, actual, &format!("step {n} header {name}"), &mut out)?;
            }
        }
        if let Some(m) = &expect.body {
            let actual = o.body.as_deref().unwrap_or("");
            if !matcher_holds(m, Some(actual)) {
                let (_, mn) = e.get("body").ok_or("no body node")?;
                matcher_edits(mn, m, Some(actual), &format!("step {n} body"), &mut out)?;
            }
        }
        if let Some(m) = &expect.message {
            let actual = observed_json(o, "message");
            if !matcher_holds(m, actual.as_deref()) {
                let (_, mn) = e.get("message").ok_or("no message node")?;
                matcher_edits(
                    mn,
                    m,
                    actual.as_deref(),
                    &format!("step {n} message"),
                    &mut out,
                )?;
            }
        }
        for (key, m) in &expect.json {
            let actual = observed_json(o, key);
            if !matcher_holds(m, actual.as_deref()) {
                let (_, j) = e.get("json").ok_or("no json node")?;
                let (_, mn) = j.get(key).ok_or("no json key node")?;
                matcher_edits(
                    mn,
                    m,
                    actual.as_deref(),
                    &format!("step {n} json.{key}"),
                    &mut out,
                )?;
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

/// Where a node's own text ends (a block collection's end event may sit at the next token).
fn content_end(text: &str, n: &Node) -> usize {
    let flow = text[n.start..].starts_with(['[', '{']);
    match &n.kind {
        Kind::Map(entries) if !flow => entries
            .iter()
            .map(|(k, v)| content_end(text, k).max(content_end(text, v)))
            .max()
            .unwrap_or(n.start),
        Kind::Seq(items) if !flow => items
            .iter()
            .map(|i| content_end(text, i))
            .max()
            .unwrap_or(n.start),
        _ => n.end,
    }
}

/// Inserts `entry` (`key: value`) into a mapping node, flow or block: first, or (`last`) after
/// the last entry's line.
fn insert_key(text: &str, map: &Node, entry: &str, what: &str, last: bool) -> Result<Edit, String> {
    let Kind::Map(entries) = &map.kind else {
        return Err(format!("{what}: not a mapping"));
    };
    if text[map.start..].starts_with('{') {
        if last {
            let close = map.end.saturating_sub(1);
            if text.as_bytes().get(close) != Some(&b'}') {
                return Err(format!("{what}: cannot find the end of the mapping"));
            }
            let sep = if entries.is_empty() { "" } else { ", " };
            return Ok(Edit {
                start: close,
                end: close,
                text: format!("{sep}{entry}"),
                what: what.into(),
            });
        }
        let sep = if entries.is_empty() { "" } else { ", " };
        return Ok(Edit {
            start: map.start + 1,
            end: map.start + 1,
            text: format!("{entry}{sep}"),
            what: what.into(),
        });
    }
    let (first, _) = entries
        .first()
        .ok_or_else(|| format!("{what}: empty mapping"))?;
    let line_start = text[..first.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let prefix = &text[line_start..first.start];
    let indent: String = prefix
        .chars()
        .map(|c| if c == '-' { ' ' } else { c })
        .collect();
    if !indent.trim().is_empty() {
        return Err(format!("{what}: unexpected mapping layout"));
    }
    if last {
        let end = content_end(text, map);
        let eol = text[end..]
            .find('\n')
            .map(|i| end + i)
            .unwrap_or(text.len());
        return Ok(Edit {
            start: eol,
            end: eol,
            text: format!("\n{indent}{entry}"),
            what: what.into(),
        });
    }
    Ok(Edit {
        start: first.start,
        end: first.start,
        text: format!("{entry}\n{indent}"),
        what: what.into(),
    })
}

/// Applies non-overlapping edits (any order); identical duplicates are applied once.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut e: Vec<&Edit> = Vec::new();
    for x in edits {
        if !e
            .iter()
            .any(|y| y.start == x.start && y.end == x.end && y.text == x.text)
        {
            e.push(x);
        }
    }
    e.sort_by_key(|x| (x.start, x.end));
    for w in e.windows(2) {
        if w[0].end > w[1].start || (w[0].start == w[1].start && w[0].end == w[1].end) {
            return Err(format!(
                "conflicting rewrites ({} / {}): the profiles observe different values; edit by hand",
                w[0].what, w[1].what
            ));
        }
    }
    let mut out = text.to_string();
    for x in e.iter().rev() {
        out.replace_range(x.start..x.end, &x.text);
    }
    Ok(out)
}

/// A unified diff of a file's rewrite.
pub fn diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Per file: the edits of its failing cases.
pub type FileEdits = BTreeMap<String, Vec<Edit>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips() {
        let samples = [
            "",
            "plain",
            "a: b # c",
            "quote \" and \\ back",
            "line\nbreak\ttab\r",
            "  leading and trailing  ",
            "null",
            "true",
            "123",
            "- dash",
            "{not: a map}",
            "unicode é ✓ \u{85} \u{2028} \u{feff} \u{7f} \u{1b}",
            "'single'",
            "m s=\"hi\" 1",
        ];
        for s in samples {
            let yaml = format!("v: {}\n", quote(s));
            let back: BTreeMap<String, String> = serde_norway::from_str(&yaml).unwrap();
            assert_eq!(back["v"], s, "{yaml}");
        }
    }

    #[test]
    fn spans_of_scalars_and_lists() {
        let text = "a: {x: \"q\\\"\", y: 'z'}  # c\nb:\n  - one\n  - \"two\"\nc: [1, 2]\n";
        let root = parse(text).unwrap();
        let (_, a) = root.get("a").unwrap();
        let (_, x) = a.get("x").unwrap();
        assert_eq!(&text[x.start..x.end], "\"q\\\"\"");
        let (_, y) = a.get("y").unwrap();
        assert_eq!(&text[y.start..y.end], "'z'");
        let (_, b) = root.get("b").unwrap();
        let Kind::Seq(items) = &b.kind else { panic!() };
        assert_eq!(&text[items[1].start..items[1].end], "\"two\"");
        let (_, c) = root.get("c").unwrap();
        assert_eq!(&text[c.start..c.start + 1], "[");
    }

    #[test]
    fn block_rows_become_empty_and_keys_are_inserted() {
        let text = "e:\n  landed:   # c\n    - a\n    - b  # last\nstep:\n  write: {body: x}  # w\n  also_accept:\n    - {why: y}\nnext: 1\n";
        let root = parse(text).unwrap();
        let (_, e) = root.get("e").unwrap();
        let (k, v) = e.get("landed").unwrap();
        let edit = rows_edit(text, k, v, &[], "rows").unwrap();
        let (_, step) = root.get("step").unwrap();
        let ins = insert_key(text, step, "expect: {status: 400}", "status", true).unwrap();
        let got = apply(text, &[edit, ins]).unwrap();
        assert_eq!(
            got,
            "e:\n  landed: []  # c  # last\nstep:\n  write: {body: x}  # w\n  also_accept:\n    - {why: y}\n  expect: {status: 400}\nnext: 1\n"
        );
        let back: serde_norway::Value = serde_norway::from_str(&got).unwrap();
        assert_eq!(back["e"]["landed"], serde_norway::Value::Sequence(vec![]));
    }

    #[test]
    fn block_scalars_are_refused() {
        let text = "m:\n  equals: |\n    one\n";
        let root = parse(text).unwrap();
        let (_, m) = root.get("m").unwrap();
        let matcher = Matcher {
            equals: Some("one\n".into()),
            ..Default::default()
        };
        let mut out = Vec::new();
        let err = matcher_edits(m, &matcher, Some("two"), "body", &mut out).unwrap_err();
        assert!(err.contains("edit by hand"), "{err}");
    }

    #[test]
    fn conflicting_rewrites_are_refused() {
        let a = Edit {
            start: 0,
            end: 1,
            text: "1".into(),
            what: "a".into(),
        };
        let b = Edit {
            text: "2".into(),
            ..a.clone()
        };
        assert_eq!(apply("x", &[a.clone(), a.clone()]).unwrap(), "1");
        assert!(apply("x", &[a, b]).unwrap_err().contains("conflicting"));
    }
}
