//! Reads the spec's Markdown: its sections (headings, `§N.M`) and its lines, where a *line* is
//! one thing a server can be observed doing: a row of a table (a status, a parse reason, a
//! `rejected_points` row), a list item or paragraph stating a rule (a quoted message, a header,
//! an ordering rule), or the server text of an example body. Everything else is not a line:
//!
//! - headings, the preamble before the first `##` heading (scope, sources, "how this was
//!   checked") and the sections [`NOT_BEHAVIOUR`] names (conventions, a CLI, summary tables);
//! - prose that only frames what follows (a sentence ending in `:` that quotes no server text,
//!   names no status and states nothing before it: `Inner messages:`, `Values:`, `... do the
//!   following:`, or that introduces an example, which counts on its own), a table's header and
//!   separator rows, Hugo shortcodes, tables of contents (`- [..](#..)`);
//! - advice to the reader (`Check ...`, `Verify ...`, `See ...`): what the user should do, not
//!   what the server does;
//! - quotations of a source (`> ...`): each one is restated as a line of the spec or the seed,
//!   which is where it counts;
//! - lines about superseded sources (`[HIST]`, `History ...`): not what the server does now;
//! - source citations inside a line (paths, Go and Rust identifiers and expressions: `impl X for
//!   Y`, `format!(..)`, `Option<String>`, the language's `None`/`Ok`): a line made only of
//!   them, with no behaviour left, is not a line, and they are never needles;
//! - the columns of a comparison table that describe another server ([`OTHER_SERVER_COLUMNS`]:
//!   v3.md §0's "OSS 2.7" column is 2.7's behaviour, counted in v2.md);
//! - example request bodies and queries (` ```js `, ` ```flux `, JSON without a `message`).
//!
//! A line that continues over several Markdown lines (a wrapped list item or paragraph) is one
//! line, reported at its first Markdown line. Each line carries what a case must contain to
//! show it: its `messages` (server texts: every one must appear in a case), else its `tokens`
//! (quoted inputs, parameters, headers: one must appear in a case that names the line's
//! section), or, for a table row of plain values, its `cells` (all in one case). A line with
//! none of these is shown only by a case that claims it by quoting it in its `spec:`.

use std::path::Path;

/// The spec files whose every line must be shown by a case or waived (`coverage --check`).
pub const CHECKED: [&str; 6] = [
    "v2.md",
    "cloud.md",
    "seed-troubleshoot-writes.md",
    "third-party.md",
    "README.md",
    "v3.md",
];

/// Spec files whose numbers are reported but not yet required (none now: `v3.md` moved to
/// [`CHECKED`] when the v3 flavor's cases under `cases/v3/` landed). A new spec file starts here
/// while it is being modelled.
pub const REPORTED: [&str; 0] = [];

/// Sections that state no server behaviour, by file and heading prefix, with the reason.
pub const NOT_BEHAVIOUR: [(&str, &str, &str); 6] = [
    (
        "v2.md",
        "4.1 Call path",
        "the call path through the source; what it fixes for a client (the database is the bucket ID, the retention policy `autogen`) is stated in §4.4–§4.5",
    ),
    (
        "cloud.md",
        "0. Conventions and sources",
        "where the facts come from: tags and the table of sources",
    ),
    (
        "cloud.md",
        "3.6 CLI and column-file formats",
        "the `influx` CLI's flags, file formats and messages, not the server's",
    ),
    (
        "third-party.md",
        "9. Comparison table",
        "a summary of §1–§8, whose lines are counted where they are stated",
    ),
    (
        "v3.md",
        "13. Open items",
        "the spec's list of its own UNCONFIRMED items, each stated (and counted) where it belongs in §1–§12",
    ),
    (
        "third-party.md",
        "10. Deviation classes",
        "the report's taxonomy of deviations, not a server's behaviour",
    ),
];

/// Table columns that describe a server other than the file's, by file and header prefix, with
/// the reason: their cells are not lines of this file (the row's other columns still are).
pub const OTHER_SERVER_COLUMNS: [(&str, &str, &str); 1] = [(
    "v3.md",
    "OSS 2.7",
    "§0 compares with InfluxDB OSS 2.7, whose behaviour is v2.md's and shown by the v2 cases",
)];

/// One spec file, e.g. `v2.md`.
#[derive(Debug)]
pub struct SpecFile {
    pub name: String,
    pub sections: Vec<Section>,
}

#[derive(Debug)]
pub struct Section {
    /// `§2.1` for numbered headings (`§2a` for `2a.`), else the heading text (the seed's).
    pub id: String,
    pub title: String,
    pub line: usize,
    pub items: Vec<Item>,
}

/// What kind of line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A table row.
    Row,
    /// A list item or a paragraph.
    Rule,
    /// The server text of an example body (a code block).
    Example,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Row => "row",
            Kind::Rule => "rule",
            Kind::Example => "example",
        }
    }
}

/// A spec line a case should show.
#[derive(Debug)]
pub struct Item {
    pub line: usize,
    pub kind: Kind,
    /// The line's text as written (continuations joined by a space).
    pub text: String,
    /// Server texts the line quotes; every one must appear in a case naming the file.
    /// Placeholders (`<name>`, `%q`, `...`) match anything; `[...]` is optional.
    pub messages: Vec<String>,
    /// Other quoted texts (inputs, parameters, headers); one must appear in a case naming the
    /// line's section.
    pub tokens: Vec<String>,
    /// A table row of plain values: every cell must appear in one case naming the file.
    pub cells: Vec<String>,
}

impl Item {
    /// The text a `spec:` claim is matched against: no Markdown emphasis or backticks, single
    /// spaces.
    pub fn plain(&self) -> String {
        plain(&self.text)
    }
}

/// Markdown text without emphasis and backticks, whitespace collapsed.
pub fn plain(s: &str) -> String {
    let s = s.replace("**", "").replace('`', "");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Backticked spans of a line.
fn backticked(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find('`') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('`') else { break };
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    out
}

/// The line with its backticked spans and links removed: what the prose says.
fn prose(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('`') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('`') {
            Some(j) => {
                out.push_str(" \u{1} ");
                rest = &after[j + 1..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    // Link targets are not prose.
    static LINK: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\]\([^)]*\)").expect("literal regex"));
    LINK.replace_all(&out, "]").into_owned()
}

/// A quoted span that cites a source: a file path, a `file:line`, a Go or Rust expression or a
/// package-qualified identifier. Citations are never needles.
fn is_citation(s: &str) -> bool {
    let s = s.trim();
    const EXT: [&str; 10] = [
        ".go", ".rs", ".md", ".yml", ".yaml", ".java", ".csv", ".ndjson", ".flux", ".toml",
    ];
    const CODE: [&str; 16] = [
        "fmt.", "Msg:", "Err:", ":=", "()", "{Reason", "Error{", "::", "#[", " = ", "//",
        "Dropped:", "!(", "Option<", "<&", "&self",
    ];
    // Values of the source language, not of the protocol.
    const LANGUAGE: [&str; 6] = ["None", "Some", "Ok", "nil", "Display", "Debug"];
    // IOx names column types `iox::column_type::field::float` in the messages it sends: that
    // `::` is server text, not a Rust path.
    let code = |c: &&str| s.contains(*c) && !(*c == "::" && s.contains("iox::"));
    if s.is_empty()
        || CODE.iter().any(code)
        || LANGUAGE.contains(&s)
        || s.starts_with("impl ")
        || s.contains("|>")
        || s.starts_with("show-in ")
    {
        return true;
    }
    // A call (`len(key)+4`, `gzip.NewReader(r)`): an identifier right before `(`.
    static CALL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[A-Za-z_][A-Za-z0-9_.]*\(").expect("literal regex")
    });
    if CALL.is_match(s) {
        return true;
    }
    let no_space = !s.contains(' ');
    if no_space && EXT.iter().any(|e| s.contains(e)) && !s.starts_with('/') {
        return true;
    }
    // A repository path (`http/points/*.go`, `kit/io.LimitedReadCloser`), not an endpoint
    // (`/api/v2/write`) or a media type (`text/plain`).
    let media = ["application/", "text/", "multipart/"];
    if no_space
        && s.contains('/')
        && !s.starts_with('/')
        && !media.iter().any(|m| s.starts_with(m))
        && !s.contains('=')
        && !s.contains('"')
    {
        return true;
    }
    // `models.ValidPrecision`, `time.Now`, `rp.Duration`: a package-qualified identifier.
    static QUALIFIED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[a-z][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_.]*$").expect("literal regex")
    });
    if QUALIFIED.is_match(s) && s.chars().any(|c| c.is_ascii_uppercase()) {
        return true;
    }
    false
}

/// A quoted span that is something a server sends: words (a space and at least six letters),
/// or a JSON body with a `message` or `error`.
fn is_message(s: &str) -> bool {
    let s = s.trim();
    if is_citation(s) {
        return false;
    }
    if s.starts_with('{') || s.starts_with('[') {
        // A JSON body with a message is one; a shape (`{"code","message"}`) is not.
        return serde_json::from_str::<serde_json::Value>(s).is_ok_and(|v| {
            v.get("message").is_some_and(|m| m.is_string())
                || v.get("error").is_some_and(|m| m.is_string())
        });
    }
    // A request line (`GET /api/v2/swagger.json`, `POST {...}`) is what is sent.
    const METHODS: [&str; 7] = [
        "GET ", "GET/", "POST ", "PATCH ", "DELETE ", "HEAD ", "OPTIONS ",
    ];
    if METHODS.iter().any(|m| s.starts_with(m)) {
        return false;
    }
    s.contains(' ') && s.chars().filter(|c| c.is_alphabetic()).count() >= 6 && !is_header(s)
}

/// `Name-With-Dashes: value` (or `Name: value` for a well-known header).
fn is_header(s: &str) -> bool {
    let Some((name, _)) = s.split_once(": ") else {
        return false;
    };
    (name.contains('-') || name == "Authorization" || name == "Accept" || name == "Prefer")
        && !name.contains(' ')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn heading(line: &str) -> Option<(usize, String, String)> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if hashes == 0 || hashes > 4 || !line[hashes..].starts_with(' ') {
        return None;
    }
    let title = line[hashes..].trim().to_string();
    let num = regex::Regex::new(r"^(\d+(?:\.\d+)*)([a-z])?\.?(?:\s|$)").expect("literal regex");
    let id = match num.captures(&title) {
        Some(c) => format!(
            "§{}{}",
            &c[1],
            c.get(2).map(|m| m.as_str()).unwrap_or_default()
        ),
        None => title.clone(),
    };
    Some((hashes, id, title))
}

/// Lines that tell the reader what to do rather than what the server does.
fn is_advice(prose: &str) -> bool {
    const VERBS: [&str; 9] = [
        "Check ",
        "Verify ",
        "Minimize ",
        "See ",
        "Consider ",
        "Learn ",
        "Do the following",
        "To get a log",
        "To find ",
    ];
    let p = prose.trim_start_matches(|c: char| !c.is_alphanumeric());
    VERBS.iter().any(|v| p.starts_with(v))
}

/// Splits a table row into its cells.
fn cells_of(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn is_separator(row: &str) -> bool {
    let r = row.trim();
    r.starts_with('|') && r.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// Backticked spans that stand inside parentheses, outside other backticks: `(`scanLine`)`.
fn parenthesised(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut rest = line;
    while let Some(i) = rest.find(['`', '(', ')']) {
        let c = rest.as_bytes()[i];
        let after = &rest[i + 1..];
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ => {
                let Some(j) = after.find('`') else { break };
                if depth > 0 {
                    out.push(after[..j].to_string());
                }
                rest = &after[j + 1..];
                continue;
            }
        }
        rest = after;
    }
    out
}

/// A bare identifier (`scanLine`, `ParsePointsWithPrecision`, `models.Tags`) named in
/// parentheses cites the source.
fn is_cited_identifier(span: &str) -> bool {
    static IDENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]$").expect("literal regex")
    });
    IDENT.is_match(span) && span.chars().any(|c| c.is_ascii_uppercase())
}

/// The needles of one line of prose or a table row.
fn needles(text: &str) -> (Vec<String>, Vec<String>) {
    let mut messages = Vec::new();
    let mut tokens = Vec::new();
    let cited: Vec<String> = parenthesised(text)
        .into_iter()
        .filter(|s| is_cited_identifier(s.trim()))
        .collect();
    static STATUS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^([1-5]\d\d)\b\s*(.*)$").expect("literal regex")
    });
    for span in backticked(text) {
        let mut span = span.trim().to_string();
        if span.is_empty() || is_citation(&span) || cited.contains(&span) {
            continue;
        }
        // `400 {"error":"..."}`: a status and the body it comes with; `204 "Success"`, `422
        // Unprocessable Entity`: a status and its reason phrase, shown by the status.
        if let Some(c) = STATUS.captures(&span) {
            let (code, rest) = (c[1].to_string(), c[2].trim().to_string());
            if rest.starts_with('{') && is_message(&rest) {
                span = rest;
            } else {
                if !tokens.contains(&code) {
                    tokens.push(code);
                }
                continue;
            }
        }
        if is_message(&span) {
            if !messages.contains(&span) {
                messages.push(span);
            }
        } else if is_header(&span) {
            // A header: its name shows it (cases match headers by name).
            let name = span.split_once(": ").map(|(n, _)| n).unwrap_or(&span);
            if !tokens.iter().any(|t: &String| t == name) {
                tokens.push(name.to_string());
            }
        } else if span.chars().count() >= 2 && !tokens.contains(&span) && !span.starts_with('%') {
            tokens.push(span);
        }
    }
    (messages, tokens)
}

/// What is left of a line once citations and formatting are gone: does it state anything?
fn states_something(text: &str, messages: &[String], tokens: &[String]) -> bool {
    if !messages.is_empty() || !tokens.is_empty() {
        return true;
    }
    let p = prose(text);
    // A status code is a statement on its own (`1. Auth middleware: 401 (§1.5).`, `8. 204.`).
    if states_status(&p) {
        return true;
    }
    let words = p
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().any(|c| c.is_alphabetic()))
        .count();
    words >= 3
}

/// A line ending in `:` with this many words outside its citations and asides says more than
/// what follows (`a schema block is written when the schema changes ...:`): it is a rule.
const LONG_FRAMING_WORDS: usize = 8;

/// Does the prose of a line name an HTTP status (`400`, `**200**`), not a section or a number?
fn states_status(prose: &str) -> bool {
    static STATUS_WORD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:^|[^\w§.])[1-5]\d\d(?:[^\w]|$)").expect("literal regex")
    });
    STATUS_WORD.is_match(prose)
}

/// A line is framing when it ends with `:`, quotes no server text and names no status (it
/// introduces a list: `Inner messages:`), or is all bold (a run-in heading such as
/// `**Tag keys and values.**`). A line that ends with `:` but states a status first (`the
/// status is always **400** ... Inner messages:`, `the status stays 200 ...:`) is a rule.
fn is_framing(text: &str, messages: &[String], introduces_example: bool) -> bool {
    let t = text.trim_end();
    let run_in_heading =
        t.starts_with("**") && t.ends_with("**") && t[2..].find("**") == Some(t.len() - 4);
    // An aside in parentheses (`Error` (generic; used by 404/500/default):) names where a shape
    // is used; it states no status of its own.
    let p = without_parentheses(&prose(t));
    let words = p
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().any(|c| c.is_alphabetic()))
        .count();
    // `A \r before \n stays part of the last token. Observed:`: a sentence before the one that
    // introduces the list states something; `... do the following:` alone does not.
    static FOLLOWING: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bthe following\b|\bas follows\b").expect("literal regex")
    });
    static LIST_MARKER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*(?:\d+[.)]|[-*])\s+").expect("literal regex")
    });
    let sentence_before = LIST_MARKER
        .replace(&p, "")
        .trim_end()
        .trim_end_matches(':')
        .contains(". ");
    let a_rule_of_its_own = !introduces_example
        && ((states_status(&p) && words >= 3)
            || (words >= LONG_FRAMING_WORDS && (sentence_before || !FOLLOWING.is_match(&p))));
    run_in_heading
        || ((t.ends_with(':') || t.ends_with(":**")) && messages.is_empty() && !a_rule_of_its_own)
}

/// Text outside parentheses (nesting counted; an unclosed `(` hides the rest).
fn without_parentheses(s: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Hugo shortcodes, HTML comments and tables of contents.
fn is_markup(line: &str) -> bool {
    let l = line.trim();
    l.starts_with("{{") || l.starts_with("<!--") || {
        let item = l.trim_start_matches(['-', '*', ' ']);
        item.starts_with('[') && item.ends_with(')') && item.contains("](#")
    }
}

/// A note on how the spec itself was checked (`Rows without "(test)" are derived by tracing the
/// code.`): provenance, like the preamble's, not behaviour.
fn is_provenance(text: &str) -> bool {
    static PROVENANCE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(?:Rows|Lines|Items|Messages) (?:without|marked) .* (?:are|were) (?:derived|traced|tested)\b")
            .expect("literal regex")
    });
    PROVENANCE.is_match(text.trim_start_matches(['-', '*', ' ']))
}

fn is_historical(text: &str) -> bool {
    let p = text.trim_start_matches(['-', '*', ' ', '>']);
    p.starts_with("[HIST]") || p.starts_with("History") || p.starts_with("**History")
}

/// A line that only says where the code is (`Handler: ...`, `Sources: ...`) or what a CLI
/// does (`CLI: influx bucket create ...`).
fn is_source_or_cli(text: &str) -> bool {
    const PREFIXES: [&str; 5] = ["Handler:", "Routing:", "Source:", "Sources:", "CLI:"];
    let p = text.trim_start_matches(['-', '*', ' ']);
    PREFIXES.iter().any(|x| p.starts_with(x))
}

fn list_marker(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let indent = line.len() - t.len();
    if t.starts_with("- ") || t.starts_with("* ") {
        return Some(indent);
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") ")) {
        return Some(indent);
    }
    None
}

/// A block of prose being gathered: its first line and its text.
struct Pending {
    line: usize,
    /// Its last Markdown line (1-based).
    last: usize,
    text: String,
}

struct Builder {
    sections: Vec<Section>,
    /// Inside the preamble or a section that states no behaviour.
    skipping: bool,
    pending: Option<Pending>,
    /// By Markdown line (1-based): the next non-blank line after it opens a code block.
    before_fence: Vec<bool>,
}

impl Builder {
    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        if self.skipping {
            return;
        }
        let text = p.text.trim().to_string();
        let (messages, tokens) = needles(&text);
        let introduces_example = self.before_fence.get(p.last).copied().unwrap_or(false);
        if is_framing(&text, &messages, introduces_example)
            || is_advice(&prose(&text))
            || is_historical(&text)
            || is_provenance(&text)
            || is_source_or_cli(&text)
            || !states_something(&text, &messages, &tokens)
        {
            return;
        }
        self.push(Item {
            line: p.line,
            kind: Kind::Rule,
            text,
            messages,
            tokens,
            cells: Vec::new(),
        });
    }

    fn push(&mut self, item: Item) {
        if let Some(s) = self.sections.last_mut() {
            s.items.push(item);
        }
    }
}

pub fn parse(name: &str, text: &str) -> SpecFile {
    let mut b = Builder {
        sections: vec![Section {
            id: "(preamble)".into(),
            title: "(preamble)".into(),
            line: 1,
            items: Vec::new(),
        }],
        skipping: true,
        pending: None,
        before_fence: Vec::new(),
    };
    let lines: Vec<&str> = text.lines().collect();
    b.before_fence = vec![false; lines.len() + 1];
    let mut next_is_fence = false;
    for i in (0..lines.len()).rev() {
        // Entry i + 1 (line i + 1, 1-based) looks past itself at line i + 2 onwards.
        b.before_fence[i + 1] = next_is_fence;
        let l = lines[i].trim();
        if !l.is_empty() {
            next_is_fence = l.starts_with("```");
        }
    }
    let mut fence: Option<(String, usize, Vec<String>)> = None;
    let mut header_row_seen = false;
    // Columns of the current table that describe another server (by index).
    let mut other_server: Vec<usize> = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if let Some(lang) = line.strip_prefix("```") {
            b.flush();
            match fence.take() {
                Some((lang, start, body)) => {
                    if !b.skipping {
                        example(&mut b, &lang, start, &body);
                    }
                }
                None => fence = Some((lang.trim().to_string(), n, Vec::new())),
            }
            continue;
        }
        if let Some((_, _, body)) = fence.as_mut() {
            body.push(raw.to_string());
            continue;
        }
        if let Some((level, id, title)) = heading(line) {
            b.flush();
            let excluded = NOT_BEHAVIOUR
                .iter()
                .any(|(f, t, _)| *f == name && title.starts_with(t));
            b.skipping = excluded || (level == 1 && b.sections.len() == 1);
            if level >= 2 && !excluded {
                b.skipping = false;
            }
            b.sections.push(Section {
                id,
                title,
                line: n,
                items: Vec::new(),
            });
            continue;
        }
        if line.is_empty() || is_markup(line) {
            b.flush();
            header_row_seen = false;
            continue;
        }
        if line.starts_with('|') {
            b.flush();
            let next_is_separator = lines.get(i + 1).is_some_and(|l| is_separator(l));
            if is_separator(line) {
                continue;
            }
            if next_is_separator {
                header_row_seen = true;
                other_server = cells_of(line)
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| {
                        OTHER_SERVER_COLUMNS
                            .iter()
                            .any(|(f, prefix, _)| *f == name && h.starts_with(prefix))
                    })
                    .map(|(i, _)| i)
                    .collect();
                continue;
            }
            if b.skipping || !header_row_seen {
                continue;
            }
            if other_server.is_empty() {
                row(&mut b, n, line);
            } else {
                // The row without the cells that describe another server.
                let kept: Vec<String> = cells_of(line)
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| !other_server.contains(i))
                    .map(|(_, c)| c)
                    .collect();
                row(&mut b, n, &format!("| {} |", kept.join(" | ")));
            }
            continue;
        }
        if line.starts_with('>') {
            // A quotation of a source; restated where it counts.
            b.flush();
            continue;
        }
        let continues = b.pending.is_some() && list_marker(raw).is_none();
        if continues {
            if let Some(p) = b.pending.as_mut() {
                p.text.push(' ');
                p.text.push_str(line);
                p.last = n;
            }
        } else {
            b.flush();
            b.pending = Some(Pending {
                line: n,
                last: n,
                text: line.to_string(),
            });
        }
    }
    b.flush();
    SpecFile {
        name: name.to_string(),
        sections: b.sections,
    }
}

fn row(b: &mut Builder, n: usize, line: &str) {
    let text = line.to_string();
    let (messages, tokens) = needles(&text);
    if messages.is_empty() && tokens.is_empty() {
        // A row of plain values (a `rejected_points` row): all its cells.
        let cells: Vec<String> = cells_of(line)
            .into_iter()
            .map(|c| c.trim_matches('*').trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if cells.is_empty() {
            return;
        }
        b.push(Item {
            line: n,
            kind: Kind::Row,
            text,
            messages,
            tokens,
            cells,
        });
        return;
    }
    b.push(Item {
        line: n,
        kind: Kind::Row,
        text,
        messages,
        tokens,
        cells: Vec::new(),
    });
}

/// A code block: the `message` of a JSON example, or the server text of a text example.
fn example(b: &mut Builder, lang: &str, start: usize, body: &[String]) {
    if lang == "js" || lang == "flux" {
        return;
    }
    let mut messages = Vec::new();
    for raw in body {
        let line = raw.trim();
        if let Some(pos) = line.find("\"message\":") {
            let v = line[pos + 10..].trim().trim_end_matches(['}', ',', ' ']);
            let v = v.trim_matches('"').to_string();
            if !v.is_empty() && !messages.contains(&v) {
                messages.push(v);
            }
        } else if lang != "json" && !lang.starts_with("json") && is_message(line) {
            // CLI output quotes the server's message after the status line.
            static CLI: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(r"^Error: .*?\b\d{3} [A-Za-z ]+: ").expect("literal regex")
            });
            let v = CLI.replace(line, "").into_owned();
            // Literal `\r\n` at the ends of CSV examples are the row ends, not text.
            let v = v.trim_end_matches("\\r\\n").to_string();
            if !messages.contains(&v) {
                messages.push(v);
            }
        }
    }
    if messages.is_empty() {
        return;
    }
    let text = messages[0].clone();
    b.push(Item {
        line: start,
        kind: Kind::Example,
        text,
        messages,
        tokens: Vec::new(),
        cells: Vec::new(),
    });
}

/// Every spec file the coverage reads, checked ones first.
pub fn all_files() -> impl Iterator<Item = &'static str> {
    CHECKED.into_iter().chain(REPORTED)
}

pub fn load(dir: &Path) -> Result<Vec<SpecFile>, String> {
    let mut out = Vec::new();
    for name in all_files() {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e} (give the spec with --spec DIR)",
                path.display()
            )
        })?;
        out.push(parse(name, &text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(f: &SpecFile) -> Vec<(usize, &str, String)> {
        f.sections
            .iter()
            .flat_map(|s| s.items.iter())
            .map(|i| (i.line, i.kind.name(), i.plain()))
            .collect()
    }

    #[test]
    fn sections_rows_rules_and_examples() {
        let text = "# T\nScope: prose before the first section.\n## 2. Write\n### 2.1 Inputs\n| a | b |\n|---|---|\n| `missing tag key` | `m,=x v=1` |\n- 404 `bucket \"x\" not found` here\n```json\n{\"code\": \"invalid\", \"message\": \"3 out of 3 points rejected\"}\n```\n### 2a. Sub\n";
        let f = parse("v2.md", text);
        let ids: Vec<&str> = f.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["(preamble)", "T", "§2", "§2.1", "§2a"]);
        assert_eq!(
            items(&f),
            [
                (7, "row", "| missing tag key | m,=x v=1 |".to_string()),
                (8, "rule", "- 404 bucket \"x\" not found here".to_string()),
                (9, "example", "3 out of 3 points rejected".to_string()),
            ]
        );
        let row = &f.sections[3].items[0];
        assert_eq!(row.messages, ["missing tag key"]);
        assert_eq!(row.tokens, ["m,=x v=1"]);
        assert_eq!(f.sections[3].items[1].messages, ["bucket \"x\" not found"]);
    }

    #[test]
    fn what_is_not_a_line() {
        let text = "## 1. A\nErrors:\n- `decodeWriteRequest`, in this order:\n- Handler: `http/write_handler.go` (lines 1-9).\n- Check the `message` property.\n> - quoted source\n- [HIST] old text `partial write error (2 written)`\nRows without \"(test)\" are derived by tracing the code.\n{{% show-in \"v2\" %}}\n- [Troubleshoot](#troubleshoot)\n```flux\nfrom(bucket: \"b\")\n```\n- Tags are re-sorted bytewise in the series key.\n";
        let f = parse("v2.md", text);
        assert_eq!(
            items(&f),
            [(
                14,
                "rule",
                "- Tags are re-sorted bytewise in the series key.".to_string()
            )]
        );
    }

    #[test]
    fn wrapped_items_are_one_line() {
        let text = "## 1. A\n- first part `unable to read data`\n  and its continuation\n- second\n  item with three words\n";
        let f = parse("v2.md", text);
        let got = items(&f);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 2);
        assert!(got[0].2.ends_with("and its continuation"));
        assert_eq!(f.sections[1].items[0].messages, ["unable to read data"]);
    }

    #[test]
    fn citations_are_never_needles() {
        for c in [
            "http/points/points_parser.go",
            "models.ValidPrecision",
            "fmt.Sprintf(\"x\")",
            "kit/io.LimitedReadCloser",
            "tsdb/shard.go:119-121",
            "Msg: \"unable to read data\"",
        ] {
            assert!(is_citation(c), "{c}");
        }
        for t in [
            "/api/v2/write",
            "text/plain; charset=utf-8",
            "m,t=1 v=1",
            "Retry-After",
        ] {
            assert!(!is_citation(t), "{t}");
        }
        assert!(is_message(
            "{\"code\":\"unauthorized\",\"message\":\"unauthorized access\"}"
        ));
        assert!(!is_message("X-Influxdb-Version: <version>"));
    }

    #[test]
    fn rust_citations_are_never_needles_but_iox_type_names_are_server_text() {
        for c in [
            "impl IntoResponse for Error",
            "format!(r#\"{{\"error\": \"{self}\"}}\"#)",
            "{p: Option<String>}",
            "From<&SingleTenantExtractError>",
            "Error::PartialLpWrite",
            "None",
            "Ok",
        ] {
            assert!(is_citation(c), "{c}");
        }
        assert!(!is_citation("iox::column_type::field::float"));
        assert!(is_message(
            "invalid column type for column 'f', expected iox::column_type::field::float, got iox::column_type::tag"
        ));
    }

    #[test]
    fn columns_about_another_server_are_not_lines() {
        let text = "## 0. Differences\n| topic | OSS 2.7.12 | InfluxDB 3 Core |\n|---|---|---|\n| empty body | 204 `bucket not found` | **400** `incoming write was empty` |\n| limits | none | 5 databases |\n";
        let f = parse("v3.md", text);
        let items = &f.sections[1].items;
        assert_eq!(items[0].messages, ["incoming write was empty"]);
        assert!(!items[0].text.contains("bucket not found"));
        assert_eq!(items[1].cells, ["limits", "5 databases"]);
        // Only the files OTHER_SERVER_COLUMNS names: elsewhere every column counts.
        let f = parse("v2.md", text);
        assert_eq!(
            f.sections[1].items[0].messages,
            ["bucket not found", "incoming write was empty"]
        );
    }

    #[test]
    fn rows_of_plain_values_need_every_cell() {
        let text = "## 1. A\n| _measurement | _field | reason |\n|:--|:--|:--|\n| rejected_points | count | measurement not allowed by schema |\n";
        let f = parse("seed.md", text);
        let item = &f.sections[1].items[0];
        assert_eq!(
            item.cells,
            [
                "rejected_points",
                "count",
                "measurement not allowed by schema"
            ]
        );
    }

    #[test]
    fn a_line_ending_in_a_colon_counts_when_it_states_a_rule() {
        let text = "## 8. Q\n\
            - Every error is wrapped, so the status is always **400**. Inner messages:\n\
            - Errors after output started: the status stays 200 (`flux:csv/result.go`):\n\
            - **CR is not special.** A CR before LF stays in the token. Observed:\n\
            \n\
            Per table, a schema block is written when the schema changes or the table is the first:\n\
            \n\
            Inner messages:\n\
            \n\
            - 400:\n\
            \n\
            `Error` (generic; used by 404/500/default):\n\
            \n\
            If you notice data is missing in your bucket, do the following:\n\
            \n\
            3. Ingests the batch and returns one of the following HTTP status codes:\n\
            \n\
            Success: **201**, the body:\n\
            ```\n\
            {}\n\
            ```\n";
        let f = parse("v2.md", text);
        let got: Vec<usize> = f.sections[1].items.iter().map(|i| i.line).collect();
        // The four rules count; the bare introducers, an aside's statuses, advice that
        // introduces steps, and a status that introduces the example after it do not.
        assert_eq!(got, [2, 3, 4, 6]);
    }

    #[test]
    fn a_status_code_is_a_statement() {
        let text = "## 2. A\n1. Auth middleware: 401 (§1.5).\n8. 204.\n- Points are split (§4.4).\n| `204 \"Success\"` | x |\n";
        let f = parse("v2.md", text);
        let got: Vec<usize> = f.sections[1].items.iter().map(|i| i.line).collect();
        assert_eq!(got, [2, 3, 4]);
        // `204 "Success"` is the status 204, not a message.
        let text = "## 2. A\n| code | meaning |\n|---|---|\n| `204 \"Success\"` | ok |\n| `400 {\"error\":\"bad thing here\"}` | x |\n";
        let f = parse("v2.md", text);
        let items = &f.sections[1].items;
        assert_eq!(items[0].tokens, ["204"]);
        assert!(items[0].messages.is_empty());
        assert_eq!(items[1].messages, ["{\"error\":\"bad thing here\"}"]);
    }

    #[test]
    fn excluded_sections_and_preamble() {
        let text = "# Title\n- in the preamble `not counted message`\n## 0. Conventions and sources\n- `also not counted here`\n## 1. Real\n- counted `a message here`\n";
        let f = parse("cloud.md", text);
        let got = items(&f);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 6);
    }
}
