//! `cargo xtask coverage [--check]`: which spec lines (see `spec.rs` for what a line is) are
//! shown by a case, which are waived in `cases/waivers.yaml`, and which are neither →
//! `docs/coverage.md`.
//!
//! A case shows a line when:
//! - every server text the line quotes appears in a case that names the line's file in its
//!   `spec:` (in its expectations, description, bodies or matchers; placeholders match
//!   anything), or
//! - the line quotes no server text and one of its quoted inputs, parameters or headers appears
//!   in a case that names the line's section (or a section enclosing it), or
//! - the line is a row of plain values and every cell appears in one case naming the file, or
//! - a case claims it: its `spec:` quotes a fragment of the line after the file's name
//!   (`v2.md §3.4 "re-sorted bytewise"`); a claim must match exactly one line of that file.
//!
//! `third-party.md` describes other servers: for the two that `cargo xtask peers` runs (the
//! sections [`PEERS`] names), the deviation notes of their `targets/*.yaml` are what the cases
//! showed on that server (CI fails when a verdict moves), so they count like a case's text.
//!
//! `--check` fails when a line of a checked file (`spec::CHECKED`) is neither shown nor waived,
//! when a claim or a waiver points at no line (or a waiver at a line a case now shows), and when
//! `docs/coverage.md` differs from a fresh render.

use std::collections::BTreeSet;
use std::path::Path;

use influx_conformance::case::Corpus;

use crate::spec::{self, Item, SpecFile};

/// Target files of the servers `cargo xtask peers` runs, and the `third-party.md` section that
/// describes each.
pub const PEERS: [(&str, &str); 2] = [
    ("influxdb-1.6.yaml", "§1"),
    ("victoriametrics-1.79.yaml", "§2a"),
];

/// A case (or a peer's deviation note) as the coverage sees it.
struct CaseText {
    name: String,
    /// (spec file, section id or title)
    refs: Vec<(String, String)>,
    files: Vec<String>,
    /// (spec file, quoted fragment) the case claims.
    claims: Vec<(String, String)>,
    text: String,
}

/// One waiver of `cases/waivers.yaml`.
#[derive(Debug)]
struct Waiver {
    file: String,
    /// `§N.M` or a seed section title; with no `lines`, every line of it no case shows.
    section: Option<String>,
    /// Fragments of the lines waived.
    lines: Vec<String>,
    why: String,
    testable_when: String,
    /// Position in the waiver file (1-based), for reports.
    index: usize,
}

fn collect_strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                // A header an expectation or a request names shows that header: its name is the
                // map's key (`access-control-max-age: {equals: ...}`), as written and in the
                // spec's canonical case (`Access-Control-Max-Age`).
                if k == "headers" {
                    if let serde_json::Value::Object(h) = x {
                        for name in h.keys() {
                            out.push_str(name);
                            out.push('\n');
                            out.push_str(&canonical_header(name));
                            out.push('\n');
                        }
                    }
                }
                collect_strings(x, out);
            }
        }
        _ => {}
    }
}

/// `x-influxdb-build` → `X-Influxdb-Build`.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn file_of(name: &str) -> String {
    match name {
        s if s.starts_with("seed") => "seed-troubleshoot-writes.md".into(),
        s if s.ends_with("README.md") => "README.md".into(),
        s => s.to_string(),
    }
}

/// A `spec:` reference: (files, section refs, quoted fragments), each section and fragment
/// attached to the file named last before it.
type Refs = (Vec<String>, Vec<(String, String)>, Vec<(String, String)>);

fn refs_of(spec: &str) -> Refs {
    let re = regex::Regex::new(
        r#"(v2\.md|v3\.md|cloud\.md|third-party\.md|seed[-\w.]*|spec/README\.md|README\.md)|§(\d+(?:\.\d+)*[a-z]?)|"([^"]+)""#,
    )
    .expect("literal regex");
    let mut files = Vec::new();
    let mut refs = Vec::new();
    let mut quoted = Vec::new();
    let mut current = String::new();
    for c in re.captures_iter(spec) {
        if let Some(f) = c.get(1) {
            current = file_of(f.as_str());
            if !files.contains(&current) {
                files.push(current.clone());
            }
        } else if current.is_empty() {
            continue;
        } else if let Some(n) = c.get(2) {
            refs.push((current.clone(), format!("§{}", n.as_str())));
        } else if let Some(q) = c.get(3) {
            quoted.push((current.clone(), q.as_str().to_string()));
        }
    }
    (files, refs, quoted)
}

static PLACEHOLDER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"<[^<>]+>|%[sqdvw]|\.\.\.|…|\b[NMK]\b").expect("literal regex")
});
static OPTIONAL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"<[^<>]+>|%[sqdvw]|\.\.\.|…|\b[NMK]\b|\[ [^\[\]]*\]").expect("literal regex")
});

/// A spec text with placeholders (`<name>`, `%q`, `...`, `N`) as a regex; `[ ...]` is optional.
fn needle_regex(needle: &str) -> Option<regex::Regex> {
    if !OPTIONAL.is_match(needle) {
        return None;
    }
    fn plain(s: &str) -> String {
        let mut out = String::new();
        let mut last = 0;
        for m in PLACEHOLDER.find_iter(s) {
            out.push_str(&regex::escape(&s[last..m.start()]));
            out.push_str(if m.as_str().len() == 1 && m.as_str() != "…" {
                r"\d+"
            } else {
                "(?s:.*?)"
            });
            last = m.end();
        }
        out.push_str(&regex::escape(&s[last..]));
        out
    }
    let mut pattern = String::new();
    let mut last = 0;
    for m in OPTIONAL.find_iter(needle) {
        pattern.push_str(&plain(&needle[last..m.start()]));
        let t = m.as_str();
        if t.starts_with('[') {
            pattern.push_str(&format!("(?:{})?", plain(&t[1..t.len() - 1])));
        } else {
            pattern.push_str(&plain(t));
        }
        last = m.end();
    }
    pattern.push_str(&plain(&needle[last..]));
    regex::Regex::new(&pattern).ok()
}

/// A spec text prepared for matching: the literal forms a case may hold it in, and the regexes
/// of its placeholders.
struct Needle {
    literals: Vec<String>,
    regexes: Vec<regex::Regex>,
    /// A JSON body is shown by its `message` (or 1.x `error`).
    inner: Option<Box<Needle>>,
}

impl Needle {
    fn new(needle: &str) -> Needle {
        let needle = needle.trim();
        if needle.starts_with('{') {
            if let Ok(serde_json::Value::Object(o)) =
                serde_json::from_str::<serde_json::Value>(needle)
            {
                if let Some(serde_json::Value::String(m)) =
                    o.get("message").or_else(|| o.get("error"))
                {
                    return Needle {
                        literals: vec![needle.to_string()],
                        regexes: Vec::new(),
                        inner: Some(Box::new(Needle::new(m))),
                    };
                }
            }
        }
        // The spec writes escaped JSON (`\"`) where a case may hold the decoded text, and back;
        // line protocol escapes spaces in tag values (`reason=type\ conflict`).
        let unescaped = needle.replace("\\\"", "\"").replace("\\\\", "\\");
        let with_newlines = unescaped.replace("\\n", "\n").replace("\\t", "\t");
        let lp = unescaped.replace(' ', "\\ ");
        // A case's description or a deviation note may quote the JSON body (`\"nope\"`).
        let json_escaped = unescaped.replace('"', "\\\"");
        let mut literals = Vec::new();
        for l in [
            needle.to_string(),
            unescaped,
            with_newlines,
            lp,
            json_escaped,
        ] {
            if !l.is_empty() && !literals.contains(&l) {
                literals.push(l);
            }
        }
        let regexes = literals[..literals.len().min(3)]
            .iter()
            .filter_map(|l| needle_regex(l))
            .collect();
        Needle {
            literals,
            regexes,
            inner: None,
        }
    }

    fn found_in(&self, text: &str) -> bool {
        self.literals.iter().any(|l| text.contains(l.as_str()))
            || self.inner.as_ref().is_some_and(|n| n.found_in(text))
            || self.regexes.iter().any(|re| re.is_match(text))
    }
}

/// Does `text` (a case's) show the spec text `needle`?
#[cfg(test)]
fn matches(needle: &str, text: &str) -> bool {
    !needle.trim().is_empty() && Needle::new(needle).found_in(text)
}

/// Prepared needles, each built once.
#[derive(Default)]
struct Needles(std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Needle>>>);

impl Needles {
    fn get(&self, s: &str) -> std::rc::Rc<Needle> {
        let mut map = self.0.borrow_mut();
        map.entry(s.to_string())
            .or_insert_with(|| std::rc::Rc::new(Needle::new(s)))
            .clone()
    }
}

/// Every section id enclosing each section of a file (itself included), by section index.
fn scopes(f: &SpecFile) -> Vec<Vec<String>> {
    // Section ids are `§N.M` (their prefixes enclose them) or titles (enclosed by the last
    // numbered section before them).
    let mut out = Vec::new();
    let mut last_numbered: Vec<String> = Vec::new();
    for s in &f.sections {
        let mut scope = vec![s.id.clone(), s.title.clone(), spec::plain(&s.title)];
        if let Some(num) = s.id.strip_prefix('§') {
            let mut parts: Vec<&str> = num.split('.').collect();
            last_numbered = Vec::new();
            while !parts.is_empty() {
                last_numbered.push(format!("§{}", parts.join(".")));
                // `2a` is inside `2`.
                let last = parts.pop().unwrap_or_default();
                let stripped = last.trim_end_matches(|c: char| c.is_ascii_lowercase());
                if stripped != last && !stripped.is_empty() {
                    parts.push(stripped);
                    last_numbered.push(format!("§{}", parts.join(".")));
                    parts.pop();
                }
            }
            scope.extend(last_numbered.iter().cloned());
        } else {
            scope.extend(last_numbered.iter().cloned());
        }
        out.push(scope);
    }
    out
}

/// How a line stands.
enum Status {
    Shown(Vec<String>),
    Waived(usize),
    /// What is missing, in words.
    Open(String),
}

fn shows(item: &Item, file: &str, scope: &[String], c: &CaseText, n: &Needles) -> bool {
    if !c.files.iter().any(|f| f == file) {
        return false;
    }
    if !item.messages.is_empty() {
        return false; // judged across cases, below
    }
    if !item.cells.is_empty() {
        return item.cells.iter().all(|cell| n.get(cell).found_in(&c.text));
    }
    let names_section = c.refs.iter().any(|(f, id)| {
        f == file
            && scope
                .iter()
                .any(|s| s == id || (!id.starts_with('§') && s.contains(id.as_str())))
    });
    if !names_section {
        return false;
    }
    let found = |t: &&String| n.get(t).found_in(&c.text);
    let strong = item
        .tokens
        .iter()
        .filter(|t| token_weight(t) == Weight::Strong)
        .any(|t| found(&t));
    let words = item
        .tokens
        .iter()
        .filter(|t| token_weight(t) == Weight::Word)
        .filter(found)
        .count();
    strong || words >= 2
}

#[derive(Debug, PartialEq, Eq)]
enum Weight {
    /// Specific enough that a case holding it exercises it (`m=x`, `precision=us`, `\,`).
    Strong,
    /// One lowercase word (`default`, `true`, `table`, `org`) that any case may say in
    /// passing: it counts only together with another of the line's words.
    Word,
    /// Never evidence: a bare line ending (`\r\n`, which every CSV answer holds) or a
    /// template made only of placeholders (`,<result>,<table>,<values...>`).
    None,
}

/// How much finding a line's quoted input in a case says; a line whose inputs say too little
/// is shown by a claim.
fn token_weight(token: &str) -> Weight {
    let literal = PLACEHOLDER.replace_all(token, "");
    let literal = literal
        .replace("\\r", "")
        .replace("\\n", "")
        .replace("\\t", "");
    if literal.chars().all(|c| c == ',' || c.is_whitespace()) {
        Weight::None
    } else if literal.chars().all(|c| c.is_ascii_lowercase()) {
        Weight::Word
    } else {
        Weight::Strong
    }
}

fn claimed(item: &Item, file: &str, c: &CaseText) -> bool {
    let plain = item.plain();
    c.claims
        .iter()
        .any(|(f, q)| f == file && plain.contains(&spec::plain(q)))
}

/// Every line of one spec file as the extractor reads it: `line kind [needles] text`, for a
/// reviewer checking the extractor by hand (`cargo xtask coverage --list v2.md`).
pub fn list(spec_dir: &Path, file: &str) -> Result<String, String> {
    let specs = spec::load(spec_dir)?;
    let f = specs
        .iter()
        .find(|s| s.name == file)
        .ok_or_else(|| format!("{file} is not a spec file the coverage reads"))?;
    let mut out = String::new();
    for s in &f.sections {
        out.push_str(&format!("## {} ({}, line {})\n", s.title, s.id, s.line));
        for i in &s.items {
            out.push_str(&format!(
                "{}:{} {} messages={:?} tokens={:?} cells={:?}\n    {}\n",
                file,
                i.line,
                i.kind.name(),
                i.messages,
                i.tokens,
                i.cells,
                short(&i.text, 200)
            ));
        }
    }
    Ok(out)
}

pub struct Outcome {
    pub text: String,
    pub summary: String,
    /// What `--check` fails on (uncovered lines of checked files, stale claims and waivers).
    pub problems: Vec<String>,
}

fn load_waivers(path: &Path) -> Result<Vec<Waiver>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let doc: serde_norway::Value =
        serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let list = doc
        .get("waivers")
        .and_then(|w| w.as_sequence())
        .ok_or_else(|| format!("{}: expected a `waivers:` list", path.display()))?;
    let mut out = Vec::new();
    for (i, w) in list.iter().enumerate() {
        let field = |k: &str| w.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let map = w
            .as_mapping()
            .ok_or_else(|| format!("{}: waiver {}: not a mapping", path.display(), i + 1))?;
        for k in map.keys() {
            let k = k.as_str().unwrap_or_default();
            if !["spec", "lines", "why", "testable_when"].contains(&k) {
                return Err(format!(
                    "{}: waiver {}: unknown key `{k}` (spec, lines, why, testable_when)",
                    path.display(),
                    i + 1
                ));
            }
        }
        let spec = field("spec")
            .ok_or_else(|| format!("{}: waiver {}: no `spec`", path.display(), i + 1))?;
        let (files, refs, quoted) = refs_of(&spec);
        let [file] = files.as_slice() else {
            return Err(format!(
                "{}: waiver {}: `spec` must name one spec file: {spec:?}",
                path.display(),
                i + 1
            ));
        };
        let mut section = refs.first().map(|(_, id)| id.clone());
        if section.is_none() {
            section = quoted.first().map(|(_, q)| q.clone());
        }
        let lines: Vec<String> = w
            .get("lines")
            .and_then(|l| l.as_sequence())
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let why = field("why").unwrap_or_default();
        let testable_when = field("testable_when").unwrap_or_default();
        if why.trim().is_empty() || testable_when.trim().is_empty() {
            return Err(format!(
                "{}: waiver {} ({spec}): `why` and `testable_when` are required",
                path.display(),
                i + 1
            ));
        }
        out.push(Waiver {
            file: file.clone(),
            section,
            lines,
            why,
            testable_when,
            index: i + 1,
        });
    }
    Ok(out)
}

fn peer_notes(root: &Path) -> Result<Vec<CaseText>, String> {
    let mut out = Vec::new();
    for (file, section) in PEERS {
        let path = root.join("targets").join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: serde_norway::Value =
            serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for d in doc
            .get("deviations")
            .and_then(|d| d.as_sequence())
            .into_iter()
            .flatten()
        {
            let cases = d.get("cases").and_then(|v| v.as_str()).unwrap_or_default();
            let note = d.get("note").and_then(|v| v.as_str()).unwrap_or_default();
            out.push(CaseText {
                name: format!("targets/{file}: {cases}"),
                refs: vec![("third-party.md".into(), section.into())],
                files: vec!["third-party.md".into()],
                claims: Vec::new(),
                text: note.to_string(),
            });
        }
    }
    Ok(out)
}

/// Per file: its lines and how each stands.
struct FileStatus<'a> {
    file: &'a SpecFile,
    checked: bool,
    /// (section index, item, status)
    lines: Vec<(usize, &'a Item, Status)>,
    /// Cases naming each section (by index).
    section_cases: Vec<BTreeSet<String>>,
}

pub fn render(root: &Path, spec_dir: &Path) -> Result<Outcome, String> {
    let specs = spec::load(spec_dir)?;
    let corpus = Corpus::load(&root.join("cases")).map_err(|e| e.to_string())?;
    let waivers = load_waivers(&root.join("cases/waivers.yaml"))?;
    let mut cases: Vec<CaseText> = corpus
        .cases
        .iter()
        .map(|c| {
            let mut text = String::new();
            collect_strings(
                &serde_json::to_value(&c.case).unwrap_or_default(),
                &mut text,
            );
            let (files, refs, quoted) = refs_of(&c.spec);
            CaseText {
                name: c.name(),
                refs,
                files,
                claims: quoted,
                text,
            }
        })
        .collect();
    cases.extend(peer_notes(root)?);
    let mut problems = Vec::new();

    // Quoted names of seed sections are section references, not claims.
    for c in &mut cases {
        let mut claims = Vec::new();
        for (f, q) in std::mem::take(&mut c.claims) {
            let is_title = specs
                .iter()
                .filter(|s| s.name == f)
                .flat_map(|s| s.sections.iter())
                .any(|s| spec::plain(&s.title) == spec::plain(&q));
            if is_title {
                c.refs.push((f, q));
            } else {
                claims.push((f, q));
            }
        }
        c.claims = claims;
    }
    // Every section a case names must exist: a reference to a section the spec does not have
    // (a renumbered or imagined `§8.4`) says nothing about what the case shows.
    for c in &cases {
        for (f, id) in &c.refs {
            let Some(spec) = specs.iter().find(|s| &s.name == f) else {
                continue;
            };
            let exists = spec
                .sections
                .iter()
                .any(|s| &s.id == id || spec::plain(&s.title) == spec::plain(id));
            if !exists {
                problems.push(format!(
                    "{}: names {f} {id}, which is no section of {f}",
                    c.name
                ));
            }
        }
    }
    // Every claim must point at exactly one line; one that does not counts for nothing.
    for c in &mut cases {
        let mut kept = Vec::new();
        for (f, q) in std::mem::take(&mut c.claims) {
            let Some(spec) = specs.iter().find(|s| s.name == f) else {
                kept.push((f, q));
                continue;
            };
            let n = spec
                .sections
                .iter()
                .flat_map(|s| s.items.iter())
                .filter(|i| i.plain().contains(&spec::plain(&q)))
                .count();
            if n == 1 {
                kept.push((f, q));
            } else {
                problems.push(format!(
                    "{}: the claim {f} {q:?} matches {n} spec lines (it must match exactly one)",
                    c.name
                ));
            }
        }
        c.claims = kept;
    }

    let needles = Needles::default();
    let mut statuses = Vec::new();
    let mut waiver_used = vec![false; waivers.len()];
    for f in &specs {
        let scope = scopes(f);
        let in_file: Vec<&CaseText> = cases.iter().filter(|c| c.files.contains(&f.name)).collect();
        let mut lines = Vec::new();
        let mut section_cases = vec![BTreeSet::new(); f.sections.len()];
        for (si, s) in f.sections.iter().enumerate() {
            for c in &in_file {
                if c.refs
                    .iter()
                    .any(|(file, id)| file == &f.name && id == &s.id)
                    || c.refs.iter().any(|(file, id)| {
                        file == &f.name && spec::plain(id) == spec::plain(&s.title)
                    })
                {
                    section_cases[si].insert(c.name.clone());
                }
            }
            for item in &s.items {
                let mut by: BTreeSet<String> = BTreeSet::new();
                let claimed_by: Vec<&str> = in_file
                    .iter()
                    .filter(|c| claimed(item, &f.name, c))
                    .map(|c| c.name.as_str())
                    .collect();
                by.extend(claimed_by.iter().map(|s| s.to_string()));
                if !item.messages.is_empty() {
                    let per_message: Vec<Vec<&str>> = item
                        .messages
                        .iter()
                        .map(|m| {
                            in_file
                                .iter()
                                .filter(|c| needles.get(m).found_in(&c.text))
                                .map(|c| c.name.as_str())
                                .collect()
                        })
                        .collect();
                    if per_message.iter().all(|v| !v.is_empty()) {
                        for v in per_message {
                            by.extend(v.into_iter().map(str::to_string));
                        }
                    }
                } else if !waivers
                    .iter()
                    .any(|w| !w.lines.is_empty() && waives(w, f, &scope[si], item))
                {
                    // A waiver that names the line outweighs a quoted input found in a case:
                    // the case may hold that token for another reason.
                    by.extend(
                        in_file
                            .iter()
                            .filter(|c| shows(item, &f.name, &scope[si], c, &needles))
                            .map(|c| c.name.clone()),
                    );
                }
                let status = if !by.is_empty() {
                    for name in &by {
                        section_cases[si].insert(name.clone());
                    }
                    Status::Shown(by.into_iter().collect())
                } else if let Some((wi, _)) = waivers
                    .iter()
                    .enumerate()
                    .find(|(_, w)| waives(w, f, &scope[si], item))
                {
                    waiver_used[wi] = true;
                    Status::Waived(waivers[wi].index)
                } else {
                    let missing: Vec<&String> = item
                        .messages
                        .iter()
                        .filter(|m| !in_file.iter().any(|c| needles.get(m).found_in(&c.text)))
                        .collect();
                    Status::Open(if !missing.is_empty() {
                        format!(
                            "no case shows {}",
                            missing
                                .iter()
                                .map(|m| format!("`{}`", short(m, 80)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else if !item.cells.is_empty() {
                        "no case holds every cell".to_string()
                    } else if !item.tokens.is_empty() {
                        format!(
                            "no case naming {} holds {}",
                            f.sections[si].id,
                            item.tokens
                                .iter()
                                .map(|t| format!("`{t}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        "no case claims it".to_string()
                    })
                };
                lines.push((si, item, status));
            }
        }
        statuses.push(FileStatus {
            file: f,
            checked: spec::CHECKED.contains(&f.name.as_str()),
            lines,
            section_cases,
        });
    }

    // Stale waivers: a fragment that matches no line, a line a case shows, or a waiver that
    // waives nothing.
    for w in &waivers {
        let Some(fs) = statuses.iter().find(|s| s.file.name == w.file) else {
            problems.push(format!(
                "cases/waivers.yaml: waiver {}: {} is not a spec file the coverage reads",
                w.index, w.file
            ));
            continue;
        };
        let scope = scopes(fs.file);
        for frag in &w.lines {
            let hits: Vec<&(usize, &Item, Status)> = fs
                .lines
                .iter()
                .filter(|(si, item, _)| {
                    in_section(w, &scope[*si]) && item.plain().contains(&spec::plain(frag))
                })
                .collect();
            match hits.as_slice() {
                [] => problems.push(format!(
                    "cases/waivers.yaml: waiver {}: no line of {} {} contains {frag:?}",
                    w.index,
                    w.file,
                    w.section.as_deref().unwrap_or("")
                )),
                [(_, item, Status::Shown(by))] => problems.push(format!(
                    "cases/waivers.yaml: waiver {}: {}:{} is shown by {} now; remove {frag:?} from the waiver",
                    w.index, w.file, item.line, by[0]
                )),
                [_] => {}
                _ => problems.push(format!(
                    "cases/waivers.yaml: waiver {}: {frag:?} matches {} lines of {}; quote more of the line",
                    w.index,
                    hits.len(),
                    w.file
                )),
            }
        }
        if !waiver_used[w.index - 1] && w.lines.is_empty() {
            problems.push(format!(
                "cases/waivers.yaml: waiver {} ({} {}) waives no line: remove it",
                w.index,
                w.file,
                w.section.as_deref().unwrap_or("")
            ));
        }
    }
    for fs in &statuses {
        if !fs.checked {
            continue;
        }
        for (si, item, st) in &fs.lines {
            if let Status::Open(why) = st {
                problems.push(format!(
                    "{}:{} ({}) is shown by no case and not waived ({why}): {}",
                    fs.file.name,
                    item.line,
                    fs.file.sections[*si].id,
                    short(&item.text, 120)
                ));
            }
        }
    }

    let (text, summary) = report(&statuses, &waivers, corpus.cases.len());
    Ok(Outcome {
        text,
        summary,
        problems,
    })
}

fn in_section(w: &Waiver, scope: &[String]) -> bool {
    match &w.section {
        None => true,
        Some(s) => scope.iter().any(|x| x == s),
    }
}

fn waives(w: &Waiver, f: &SpecFile, scope: &[String], item: &Item) -> bool {
    w.file == f.name
        && in_section(w, scope)
        && (w.lines.is_empty()
            || w.lines
                .iter()
                .any(|frag| item.plain().contains(&spec::plain(frag))))
}

fn short(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn report(statuses: &[FileStatus], waivers: &[Waiver], n_cases: usize) -> (String, String) {
    let mut out = String::new();
    out.push_str("# Spec coverage\n\n");
    out.push_str(
        "Generated by `cargo xtask coverage` from `../shared/spec/`, `cases/` and `cases/waivers.yaml`; do not edit.\n\n",
    );
    out.push_str(
        "A spec line is one thing a server can be observed doing: a table row (a status, a reason, a\n\
         `rejected_points` row), a rule (a quoted message, a header, an ordering rule) or the server\n\
         text of an example. Headings, the preamble, framing prose, advice to the reader, quotations of\n\
         sources, superseded (`[HIST]`) text and source citations are not lines (`xtask/src/spec.rs`).\n\
         A case shows a line when the line's messages appear in it, when it names the line's section\n\
         and contains one of the line's distinctive quoted inputs (or two of its one-word ones; a bare\n\
         `\\r\\n` or a template of placeholders counts for nothing), or when its `spec:` quotes the line\n\
         (`xtask/src/coverage.rs`). `cargo xtask coverage --check` (CI) fails on a line of a checked\n\
         file that is neither shown nor waived.\n\n",
    );
    let mut summary_parts = Vec::new();
    let mut table = String::from(
        "| spec file | checked | lines | shown by a case | waived | open | sections with lines | with a case |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut body = String::new();
    let mut open_all = String::new();
    let mut waived_all = String::new();
    for fs in statuses {
        let total = fs.lines.len();
        let shown = fs
            .lines
            .iter()
            .filter(|(_, _, s)| matches!(s, Status::Shown(_)))
            .count();
        let waived = fs
            .lines
            .iter()
            .filter(|(_, _, s)| matches!(s, Status::Waived(_)))
            .count();
        let open = total - shown - waived;
        let sections_with_lines: BTreeSet<usize> = fs.lines.iter().map(|(si, _, _)| *si).collect();
        let with_case = sections_with_lines
            .iter()
            .filter(|si| !fs.section_cases[**si].is_empty())
            .count();
        let pct = if total == 0 {
            100.0
        } else {
            (shown + waived) as f64 * 100.0 / total as f64
        };
        table.push_str(&format!(
            "| `{}` | {} | {total} | {shown} | {waived} | {open} | {} | {with_case} |\n",
            fs.file.name,
            if fs.checked { "yes" } else { "reported only" },
            sections_with_lines.len()
        ));
        if fs.checked {
            summary_parts.push(format!(
                "{}: {shown}+{waived}/{total} ({pct:.1}%)",
                fs.file.name
            ));
        } else {
            summary_parts.push(format!(
                "{} (not checked): {shown}+{waived}/{total}",
                fs.file.name
            ));
        }
        body.push_str(&format!(
            "## {}{}\n\n{shown} of {total} lines shown by a case, {waived} waived, {open} open ({pct:.1}% shown or waived).\n\n",
            fs.file.name,
            if fs.checked { "" } else { " (reported, not checked yet)" }
        ));
        body.push_str(
            "| section | at line | title | lines | shown | waived | cases |\n|---|---:|---|---:|---:|---:|---|\n",
        );
        for (si, s) in fs.file.sections.iter().enumerate() {
            let in_s: Vec<&(usize, &Item, Status)> =
                fs.lines.iter().filter(|(i, _, _)| *i == si).collect();
            let cases = &fs.section_cases[si];
            if in_s.is_empty() && cases.is_empty() {
                continue;
            }
            let sh = in_s
                .iter()
                .filter(|(_, _, st)| matches!(st, Status::Shown(_)))
                .count();
            let wv = in_s
                .iter()
                .filter(|(_, _, st)| matches!(st, Status::Waived(_)))
                .count();
            let names: Vec<&String> = cases.iter().collect();
            let list = if names.len() > 4 {
                format!(
                    "{} (+{} more)",
                    names[..4]
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.len() - 4
                )
            } else {
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let id = if s.id == s.title {
                "".to_string()
            } else {
                s.id.clone()
            };
            body.push_str(&format!(
                "| {} | {} | {} | {} | {sh} | {wv} | {} {list} |\n",
                cell(&id),
                s.line,
                cell(&s.title),
                in_s.len(),
                cases.len()
            ));
        }
        body.push('\n');
        for (si, item, st) in &fs.lines {
            let sid = &fs.file.sections[*si].id;
            match st {
                Status::Open(why) => open_all.push_str(&format!(
                    "- `{}:{}` ({}, {}) {} — {}\n",
                    fs.file.name,
                    item.line,
                    cell(sid),
                    item.kind.name(),
                    cell(&short(&item.text, 160)),
                    cell(why)
                )),
                Status::Waived(w) => waived_all.push_str(&format!(
                    "- `{}:{}` ({}) waiver {w}: {}\n",
                    fs.file.name,
                    item.line,
                    cell(sid),
                    cell(&short(&item.text, 120))
                )),
                Status::Shown(_) => {}
            }
        }
    }
    let summary = format!("{}; {n_cases} cases", summary_parts.join("; "));
    out.push_str(&format!("**Summary:** {summary}.\n\n{table}\n"));
    out.push_str("Sections that state no server behaviour (not counted):\n\n");
    for (f, t, why) in spec::NOT_BEHAVIOUR {
        out.push_str(&format!("- `{f}` {t}: {why}.\n"));
    }
    out.push('\n');
    out.push_str(&body);
    out.push_str("## Waived lines\n\n");
    if waived_all.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("Why, and what would make each testable, is in `cases/waivers.yaml`:\n\n");
        for w in waivers {
            out.push_str(&format!(
                "{}. `{}{}`: {} *Testable when:* {}\n",
                w.index,
                w.file,
                w.section
                    .as_deref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default(),
                cell(&short(&w.why, 240)),
                cell(&short(&w.testable_when, 160))
            ));
        }
        out.push('\n');
        out.push_str(&waived_all);
        out.push('\n');
    }
    out.push_str("## Spec lines with no case\n\n");
    if open_all.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str(&open_all);
    }
    (out, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_references() {
        let (files, refs, quoted) = refs_of(
            r#"seed "Detect a measurement mismatch"; cloud.md §1.5, §3.4 "re-sorted"; third-party.md §2a"#,
        );
        assert_eq!(
            files,
            ["seed-troubleshoot-writes.md", "cloud.md", "third-party.md"]
        );
        assert_eq!(
            refs,
            [
                ("cloud.md".to_string(), "§1.5".to_string()),
                ("cloud.md".into(), "§3.4".into()),
                ("third-party.md".into(), "§2a".into()),
            ]
        );
        assert_eq!(
            quoted,
            [
                (
                    "seed-troubleshoot-writes.md".to_string(),
                    "Detect a measurement mismatch".to_string()
                ),
                ("cloud.md".into(), "re-sorted".into()),
            ]
        );
    }

    #[test]
    fn weak_tokens_are_not_evidence_alone() {
        assert_eq!(token_weight("\\r\\n"), Weight::None);
        assert_eq!(token_weight(",<result>,<table>,<values...>"), Weight::None);
        assert_eq!(token_weight(",<message>,"), Weight::None);
        assert_eq!(token_weight("default"), Weight::Word);
        assert_eq!(token_weight("true"), Weight::Word);
        assert_eq!(token_weight(",error,reference"), Weight::Strong);
        assert_eq!(token_weight("\\,"), Weight::Strong);
        assert_eq!(token_weight("precision=us"), Weight::Strong);
        assert_eq!(token_weight("_monitoring"), Weight::Strong);
    }

    #[test]
    fn placeholders_match_anything() {
        assert!(matches(
            "bucket \\\"<name>\\\" not found",
            "404 bucket \"x\" not found"
        ));
        assert!(matches(
            "cannot use reserved tag key \"<key>\"",
            "cannot use reserved tag key \"time\""
        ));
        assert!(matches(
            "bad tag key, at position N",
            "bad tag key, at position 12"
        ));
        assert!(matches(
            "partial write: <Reason> dropped=<n>[ for database: <db>][ for retention policy: <rp>]",
            "partial write: bad dropped=1"
        ));
        assert!(matches(
            "{\"code\":\"not found\",\"message\":\"bucket \\\"x\\\" not found\"}",
            "message: bucket \"x\" not found"
        ));
        assert!(matches(
            "type conflict in batch write",
            "reason=type\\ conflict\\ in\\ batch\\ write"
        ));
        assert!(!matches("missing tag key", "missing tag value"));
    }

    #[test]
    fn scopes_enclose() {
        let f = spec::parse(
            "t.md",
            "## 2. A\n### 2a. B\n#### Sub\n- `x y z w v u`\n### 2.1 C\n",
        );
        let s = scopes(&f);
        assert!(s[2].contains(&"§2".to_string()), "{:?}", s[2]);
        assert!(s[3].contains(&"§2a".to_string()), "{:?}", s[3]);
        assert!(s[3].contains(&"§2".to_string()), "{:?}", s[3]);
        assert!(s[4].contains(&"§2".to_string()), "{:?}", s[4]);
    }
}
