//! A surgical YAML editor: parses a file into nodes with their byte spans (saphyr-parser
//! events, block scalars located by their headers, flow collections by their brackets) and
//! edits byte ranges, so comments, key order, quoting and formatting of everything else
//! survive. It knows YAML, not cases: what to change is the bless rules' (`mod.rs`).
//!
//! Invariants: `quote` gives a double-quoted scalar that reads back as exactly its input;
//! `block_text` gives a block scalar only when its style states the value exactly (else
//! `None`); `apply` refuses overlapping edits instead of guessing.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// One replacement of a byte range of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// What changed, for the summary: `step 2 message: contains → equals` (a rewrite) or
    /// `added step 2 status: 204` (an expectation filled in).
    pub what: Vec<String>,
}

/// A YAML node with its byte span.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    Scalar,
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) kind: Kind,
    pub(super) value: String,
    pub(super) start: usize,
    pub(super) end: usize,
    /// A literal or folded block scalar (`|`, `>`): its span is not the text to replace.
    pub(super) is_block: bool,
    /// Where such a scalar sits, when it is the value of a block mapping entry.
    pub(super) block: Option<Block>,
}

/// A block scalar in the text: its header line and its content lines. Its event span starts at
/// the first content character and ends at the next token, past trailing blank lines and
/// comments, so the text to replace is worked out from the header instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Block {
    pub(super) folded: bool,
    /// The indicator (`|`, `>-`, `|2+`) is `header..indicator_end`; the header line's rest
    /// (spaces, a comment) runs to `line_end`.
    pub(super) header: usize,
    pub(super) indicator_end: usize,
    pub(super) line_end: usize,
    /// The end of the last content line, before its line break: a rewrite replaces
    /// `header..end`.
    pub(super) end: usize,
    /// The indentation of the mapping the scalar is a value of, and of its content.
    pub(super) parent_indent: usize,
    pub(super) indent: usize,
}

impl Node {
    pub(super) fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }
    fn scalar(value: String, start: usize, end: usize) -> Self {
        Node {
            kind: Kind::Scalar,
            value,
            start,
            end,
            is_block: false,
            block: None,
        }
    }
}

/// Parses `text` into a tree of nodes with byte spans.
pub(super) fn parse(text: &str) -> Result<Node, String> {
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
                is_block: matches!(style, ScalarStyle::Literal | ScalarStyle::Folded),
                block: None,
                ..Node::scalar(v.into_owned(), start, end)
            }),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let kind = if matches!(ev, Event::MappingStart(..)) {
                    Kind::Map(Vec::new())
                } else {
                    Kind::Seq(Vec::new())
                };
                stack.push(Node {
                    kind,
                    ..Node::scalar(String::new(), start, end)
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let mut n = stack.pop().ok_or("unbalanced YAML events")?;
                n.end = end.max(n.start);
                Some(n)
            }
            // An alias (`*name`) is a leaf bless does not look into (or rewrite).
            Event::Alias(_) => Some(Node::scalar(String::new(), start, end)),
            _ => None,
        };
        if let Some(mut n) = done {
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
                            if n.is_block {
                                n.block = block_at(text, &last.0);
                            }
                            last.1 = n;
                        }
                        value.clear();
                    } else {
                        let placeholder = Node::scalar(String::new(), n.end, n.end);
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

/// The end of the line that starts at or contains `at` (before its `\r\n` or `\n`).
pub(super) fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find(['\r', '\n'])
        .map(|i| at + i)
        .unwrap_or(text.len())
}

/// The start of the line that contains `at`.
pub(super) fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// Past the line break at `at` (if any).
pub(super) fn skip_break(text: &str, at: usize) -> usize {
    let b = text.as_bytes();
    match b.get(at) {
        Some(b'\r') if b.get(at + 1) == Some(&b'\n') => at + 2,
        Some(b'\r' | b'\n') => at + 1,
        _ => at,
    }
}

/// Finds the block scalar that is the value of `key` in a block mapping: its header after the
/// key's colon, then its content lines (blank, or indented at least as deep as the first
/// non-blank one, which must be deeper than the mapping).
pub(super) fn block_at(text: &str, key: &Node) -> Option<Block> {
    let b = text.as_bytes();
    let blanks = |mut i: usize| {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    let mut i = blanks(key.end);
    if b.get(i) != Some(&b':') {
        return None;
    }
    i = blanks(i + 1);
    let folded = match b.get(i) {
        Some(b'|') => false,
        Some(b'>') => true,
        _ => return None,
    };
    let header = i;
    i += 1;
    let mut digit = None;
    while let Some(&c) = b.get(i) {
        match c {
            b'1'..=b'9' if digit.is_none() => digit = Some(usize::from(c - b'0')),
            b'-' | b'+' => {}
            _ => break,
        }
        i += 1;
    }
    let indicator_end = i;
    let header_end = line_end(text, i);
    let rest = &text[i..header_end];
    if !(rest.trim().is_empty() || rest.starts_with([' ', '\t']) && rest.trim().starts_with('#')) {
        return None;
    }
    let parent_indent = text[line_start(text, key.start)..key.start].chars().count();
    let mut indent = digit.map(|d| parent_indent + d);
    let mut end = header_end;
    let mut at = header_end;
    while at < text.len() {
        let start = skip_break(text, at);
        let stop = line_end(text, start);
        let line = &text[start..stop];
        if !line.trim_matches([' ', '\t']).is_empty() {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            let n = *indent.get_or_insert(spaces);
            if n <= parent_indent || spaces < n {
                break;
            }
            end = stop;
        }
        if stop == text.len() {
            break;
        }
        at = stop;
    }
    Some(Block {
        folded,
        header,
        indicator_end,
        line_end: header_end,
        end,
        parent_indent,
        indent: indent
            .filter(|n| *n > parent_indent)
            .unwrap_or(parent_indent + 2),
    })
}

/// Characters a YAML scalar cannot carry as they are (the loader would refuse them, or read a
/// line break), or that are invisible in a review: written as escapes in double quotes.
pub(super) fn escaped(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0xa0).contains(&u)
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
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
            c if escaped(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The line break the file uses (CRLF files keep CRLF in what bless inserts).
pub(super) fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// The width folded (`>`) scalars are wrapped to, indentation included.
pub(super) const FOLD_WIDTH: usize = 100;

/// The lines of a folded scalar whose content is `body` (no trailing line break): a line
/// break of the value is an empty line (a single break between text lines would fold into a
/// space), and long lines are wrapped at single spaces (which fold back into spaces). None when
/// a line starts with white space: YAML keeps the breaks around such lines, so they do not fold
/// the same way.
pub(super) fn folded_lines(body: &str, width: usize) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut text_before = false;
    for seg in body.split('\n') {
        if seg.is_empty() {
            out.push(String::new());
            continue;
        }
        if seg.starts_with([' ', '\t']) {
            return None;
        }
        if text_before {
            out.push(String::new());
        }
        text_before = true;
        // Break at spaces with text on both sides only.
        let chars: Vec<char> = seg.chars().collect();
        let mut words = Vec::new();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let breakable = c == ' '
                && i > 0
                && !matches!(chars[i - 1], ' ' | '\t')
                && chars.get(i + 1).is_some_and(|n| !matches!(n, ' ' | '\t'));
            if breakable {
                words.push(std::mem::take(&mut word));
            } else {
                word.push(c);
            }
        }
        words.push(word);
        let mut line = String::new();
        for w in words {
            if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
                out.push(std::mem::take(&mut line));
            } else if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&w);
        }
        out.push(line);
    }
    Some(out)
}

/// The line breaks the text after a block scalar's last content line gives its value: that
/// line's own break and the blank lines after it.
pub(super) fn breaks_after(rest: &str) -> usize {
    let run = rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    let run = &rest[..run];
    run.matches('\n').count() + run.matches('\r').count() - run.matches("\r\n").count()
}

/// `value` as a block scalar of the style of `b`, to replace `b.header..b.end` (the header's
/// comment is kept), with the chomping indicator its trailing line breaks need: `-` none, clip
/// one, `+` more. None when the style cannot state it: empty, only line breaks, a character
/// that needs an escape, or (folded) a line that starts with white space.
pub(super) fn block_text(text: &str, b: &Block, value: &str) -> Option<String> {
    if value
        .chars()
        .any(|c| c == '\r' || (c != '\n' && c != '\t' && escaped(c)))
    {
        return None;
    }
    let body = value.trim_end_matches('\n');
    if body.is_empty() {
        return None;
    }
    let breaks = value.len() - body.len();
    let indent = b.indent;
    let lines: Vec<String> = if b.folded {
        folded_lines(body, FOLD_WIDTH.saturating_sub(indent).max(40))?
    } else {
        body.split('\n').map(str::to_string).collect()
    };
    // The first text line sets the indentation unless the header states it.
    let first = lines.iter().find(|l| !l.is_empty())?;
    let digit = if first.starts_with([' ', '\t']) {
        let d = indent - b.parent_indent;
        if !(1..=9).contains(&d) {
            return None;
        }
        d.to_string()
    } else {
        String::new()
    };
    let given = breaks_after(&text[b.end..]);
    let extra = match breaks {
        0 => 0,
        1 => usize::from(given == 0),
        n => n.checked_sub(given)?,
    };
    let nl = newline(text);
    let mut out = String::new();
    out.push(if b.folded { '>' } else { '|' });
    out.push_str(&digit);
    out.push_str(match breaks {
        0 => "-",
        1 => "",
        _ => "+",
    });
    out.push_str(&text[b.indicator_end..b.line_end]);
    for l in &lines {
        out.push_str(nl);
        if !l.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(l);
        }
    }
    for _ in 0..extra {
        out.push_str(nl);
    }
    Some(out)
}

/// The first scalar that starts within `lo..=hi`.
pub(super) fn scalar_within(n: &Node, lo: usize, hi: usize) -> Option<&Node> {
    match &n.kind {
        Kind::Scalar => (lo..=hi).contains(&n.start).then_some(n),
        Kind::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| scalar_within(k, lo, hi).or_else(|| scalar_within(v, lo, hi))),
        Kind::Seq(items) => items.iter().find_map(|i| scalar_within(i, lo, hi)),
    }
}

/// Whether replacing `start..end` of `text` by `new` gives a file whose scalar there reads
/// `want`.
pub(super) fn reads_back(text: &str, start: usize, end: usize, new: &str, want: &str) -> bool {
    let edited = format!("{}{new}{}", &text[..start], &text[end..]);
    parse(&edited)
        .ok()
        .and_then(|root| scalar_within(&root, start, start + new.len()).map(|n| n.value == want))
        .unwrap_or(false)
}

/// Whether a mapping node is written in flow style (`{...}`).
pub(super) fn is_flow(text: &str, n: &Node) -> bool {
    text[n.start..].starts_with(['{', '['])
}

/// The end (past the closing bracket) of the flow collection that opens at `start`. Its end
/// event's span may run on over a comment after it, so brackets are matched instead (plain
/// scalars cannot hold flow indicators; quoted ones are skipped).
pub(super) fn flow_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i = line_end(text, i);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The position of the closing bracket of the flow collection node `n`.
pub(super) fn flow_close(text: &str, n: &Node, what: &str) -> Result<usize, String> {
    flow_end(text, n.start)
        .map(|e| e - 1)
        .ok_or_else(|| format!("{what}: cannot find the end of the flow collection"))
}

/// The indentation of a block mapping's entries (the `- ` of a list item counts as spaces).
pub(super) fn block_indent(text: &str, map: &Node, what: &str) -> Result<String, String> {
    let Kind::Map(entries) = &map.kind else {
        return Err(format!("{what}: not a mapping"));
    };
    let (first, _) = entries
        .first()
        .ok_or_else(|| format!("{what}: empty mapping"))?;
    let indent: String = text[line_start(text, first.start)..first.start]
        .chars()
        .map(|c| if c == '-' { ' ' } else { c })
        .collect();
    if !indent.trim().is_empty() {
        return Err(format!("{what}: unexpected mapping layout"));
    }
    Ok(indent)
}

/// Where a new line goes after a block mapping's last entry: at the line break that ends the
/// entry's last line (after a comment on it), or at the end of a file without a final break.
pub(super) fn after_last_line(text: &str, map: &Node) -> usize {
    let end = content_end(text, map);
    match text[end..].find('\n') {
        Some(i) if end + i > 0 && text.as_bytes()[end + i - 1] == b'\r' => end + i - 1,
        Some(i) => end + i,
        None => text.len(),
    }
}

/// Where a node's own text ends (a block collection's end event may sit at the next token, and
/// so does a block scalar's).
pub(super) fn content_end(text: &str, n: &Node) -> usize {
    let flow = is_flow(text, n);
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
        Kind::Map(_) | Kind::Seq(_) => flow_end(text, n.start).unwrap_or(n.end),
        Kind::Scalar => n.block.map(|b| b.end).unwrap_or(n.end),
    }
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
                w[0].what.join(", "),
                w[1].what.join(", ")
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
            "unicode é ✓ \u{85} \u{2028} \u{feff} \u{7f} \u{1b} \u{fffe} \u{ffff} 𝄞",
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
    fn block_scalar_regions() {
        // (text, the value's key, what a rewrite replaces)
        let cases = [
            (
                "m:\n  equals: |\n    one\n    two\n\n  next: 1\n",
                "|\n    one\n    two",
            ),
            (
                "m:\n  equals: >-  # c\n    one\n\n    two\n# out\nnext: 1",
                ">-  # c\n    one\n\n    two",
            ),
            (
                "m:\n  equals: |2+\n      one\n     two\n",
                "|2+\n      one\n     two",
            ),
            (
                "m:\n  equals: |\r\n    one\r\n  next: 1\r\n",
                "|\r\n    one",
            ),
            ("m:\n  equals: |-\n  next: 1\n", "|-"),
        ];
        for (text, want) in cases {
            let root = parse(text).unwrap();
            let (_, m) = root.get("m").unwrap();
            let (_, v) = m.get("equals").unwrap();
            let b = v.block.unwrap_or_else(|| panic!("no block in {text:?}"));
            assert_eq!(&text[b.header..b.end], want, "{text:?}");
        }
    }

    #[test]
    fn conflicting_rewrites_are_refused() {
        let a = Edit {
            start: 0,
            end: 1,
            text: "1".into(),
            what: vec!["a".into()],
        };
        let b = Edit {
            text: "2".into(),
            ..a.clone()
        };
        assert_eq!(apply("x", &[a.clone(), a.clone()]).unwrap(), "1");
        assert!(apply("x", &[a, b]).unwrap_err().contains("conflicting"));
    }
}
