//! The one `Observation` type every target produces, and the named redactions applied to it
//! before anything compares or stores it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

/// Response headers worth comparing; everything else (dates, lengths) varies by server.
pub const CHOSEN_HEADERS: [&str; 7] = [
    "content-type",
    // InfluxDB 3 sends it on what the handler answered as success only.
    "access-control-allow-origin",
    "x-platform-error-code",
    "x-influxdb-build",
    "x-influxdb-version",
    "x-influxdb-error",
    "retry-after",
];

/// What a case produced: one entry per step.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Observation {
    pub steps: Vec<StepObservation>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StepObservation {
    /// `POST /api/v2/write?org=<org>&bucket=<bucket:main>` (redacted), or `landed main`.
    pub request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// Rows in the bucket after the step (`measurement,tags field=value time`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landed: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_points: Option<Vec<String>>,
    /// Why something could not be observed (e.g. the target has no read-back adapter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The request as a curl command (tokens as `$INFLUX_TOKEN`); not part of snapshots.
    #[serde(skip)]
    pub curl: Option<String>,
    /// The step's `unrecorded_body` reason: the snapshot records it instead of the body.
    #[serde(skip)]
    pub unrecorded_body: Option<String>,
}

/// A typed value of a stored point.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    String(String),
    Boolean(bool),
}

impl Value {
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    /// [`Self::render`] appended to `out`.
    pub fn render_into(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            // Rust's Display for f64 never uses an exponent, like Go's FormatFloat(v,'f',-1,64).
            Value::Float(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Integer(v) => {
                let _ = write!(out, "{v}i");
            }
            Value::Unsigned(v) => {
                let _ = write!(out, "{v}u");
            }
            Value::Boolean(v) => {
                let _ = write!(out, "{v}");
            }
            Value::String(s) => {
                out.push('"');
                for c in s.chars() {
                    if c == '\\' || c == '"' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
}

/// One stored value: what a Flux `from |> range` row holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Shared by the rows of a series (and `field` by those of a (series, field) pair): the
    /// rows of a read-back took a copy of each name per value.
    pub measurement: Arc<str>,
    pub tags: Arc<[(String, String)]>,
    pub field: Arc<str>,
    pub value: Value,
    pub time: i64,
}

/// `s` appended to `out` with a backslash before each of `specials`.
fn escape(out: &mut String, s: &str, specials: &[char]) {
    for c in s.chars() {
        if specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

impl Row {
    /// `measurement,tag=v field=value time`, line-protocol escaped, time in ns (or `<now>`).
    pub fn render(&self, redact: &Redactions) -> String {
        self.render_at(redact, redact.now)
    }

    /// [`Self::render`] with `now` in place of `redact.now` (a step's window: no copy of the
    /// session's redactions per step).
    pub fn render_at(&self, redact: &Redactions, now: Option<(i64, i64)>) -> String {
        let mut s = String::with_capacity(64);
        escape(&mut s, &self.measurement, &[',', ' ']);
        // Sorted by key (a store's series keys already are: then nothing is copied).
        let mut sorted;
        let mut tags: &[(String, String)] = &self.tags;
        if !self.tags.is_sorted() {
            sorted = self.tags.to_vec();
            sorted.sort();
            tags = &sorted;
        }
        for (k, v) in tags {
            s.push(',');
            escape(&mut s, k, &[',', ' ', '=']);
            s.push('=');
            escape(&mut s, v, &[',', ' ', '=']);
        }
        s.push(' ');
        escape(&mut s, &self.field, &[',', ' ', '=']);
        s.push('=');
        self.value.render_into(&mut s);
        s.push(' ');
        Redactions::time_into_at(&mut s, self.time, now);
        redact.text_owned_at(s, now)
    }
}

/// Sort key that keeps query order (measurement, tags, field, time).
pub fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (&a.measurement, &a.tags, &a.field, a.time).cmp(&(
            &b.measurement,
            &b.tags,
            &b.field,
            b.time,
        ))
    });
}

/// What varies between runs and servers, replaced by a named placeholder. The list of names
/// is printed with every report.
#[derive(Debug, Clone, Default)]
pub struct Redactions {
    /// (name, actual text, placeholder), applied longest actual first. Changed only by
    /// [`Self::add`], which also drops `finder`.
    literals: Vec<(String, String, String)>,
    /// Every actual text in one SIMD searcher (Teddy), found on first use ([`literal_finder`]):
    /// a text is searched once for all of them (most texts hold none) instead of once per
    /// literal.
    finder: std::sync::OnceLock<Option<std::sync::Arc<aho_corasick::packed::Searcher>>>,
    /// Server time around the step, ns: [start, end]. Landed times inside
    /// [start - 1h, end + 1s] become `<now>` (points written without a timestamp, truncated to
    /// at most an hour by v1 precision); RFC3339 times in bodies within 31 days before or one day
    /// after become `<wall_clock>` (retention lower bounds).
    pub now: Option<(i64, i64)>,
}

/// The names of every redaction, for reports.
pub const REDACTION_NAMES: [(&str, &str); 9] = [
    ("org_id", "the org's 16-hex ID → <org_id>"),
    ("org_name", "the org's name in the request line → <org>"),
    ("bucket_id", "a bucket's 16-hex ID → <bucket_id:NAME>"),
    (
        "bucket_name",
        "a bucket's real (unique) name → <bucket:NAME>",
    ),
    ("token", "every token → <token:NAME>"),
    (
        "schema_id",
        "the ID of a measurement schema created by setup → <schema_id:NAME>",
    ),
    ("now", "landed times within an hour of the request → <now>"),
    (
        "wall_clock",
        "RFC3339 times in bodies within 31 days of the request → <wall_clock>; InfluxDB 3's naive ISO times (no `Z`) → <wall_clock>, or <wall_clock>.<fraction> when they have a fractional second, and its soft-delete suffix -YYYYMMDDTHHMMSS → -<wall_clock>",
    ),
    (
        "generated",
        "values the server generates (JSON `id`, `userID`, `token`, `up`, `process_id`), wherever they recur → <generated:KEY>; a version-7 UUID as a Request-Id or X-Request-Id header → <generated:uuid_v7>",
    ),
];

const HOUR: i64 = 3_600_000_000_000;
const DAY: i64 = 24 * HOUR;

impl Redactions {
    pub fn add(&mut self, name: &str, actual: &str, placeholder: String) {
        // A short name ("o", "b") would be replaced inside unrelated words; IDs and tokens
        // are long, names shorter than 4 bytes are left alone.
        if actual.is_empty() || (name.ends_with("_name") && actual.len() < 4) {
            return;
        }
        self.literals
            .push((name.to_string(), actual.to_string(), placeholder));
        self.literals
            .sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1.cmp(&b.1)));
        self.finder = std::sync::OnceLock::new();
    }

    /// Whether `text` holds any literal's actual text. Without a searcher (none can be built
    /// without SIMD, or for too many literals) every literal is looked for in turn.
    fn holds_a_literal(&self, text: &str) -> bool {
        if self.literals.is_empty() {
            return false;
        }
        let finder = self.finder.get_or_init(|| literal_finder(&self.literals));
        match finder {
            Some(f) => f.find(text).is_some(),
            None => self.literals.iter().any(|l| text.contains(l.1.as_str())),
        }
    }

    pub fn time(&self, t: i64) -> String {
        let mut out = String::new();
        self.time_into(&mut out, t);
        out
    }

    /// [`Self::time`] appended to `out`.
    pub fn time_into(&self, out: &mut String, t: i64) {
        Self::time_into_at(out, t, self.now)
    }

    /// [`Self::time_into`] with `now` in place of `self.now`.
    pub fn time_into_at(out: &mut String, t: i64, now: Option<(i64, i64)>) {
        match now {
            Some((start, end)) if t >= start - HOUR && t <= end + 1_000_000_000 => {
                out.push_str("<now>")
            }
            _ => out.push_str(itoa::Buffer::new().format(t)),
        }
    }

    pub fn text(&self, s: &str) -> String {
        self.text_owned(s.to_string())
    }

    /// [`Self::text`] of a text the caller gives away (not copied when nothing is redacted).
    pub fn text_owned(&self, s: String) -> String {
        self.text_owned_at(s, self.now)
    }

    /// [`Self::text_owned`] with `now` in place of `self.now` (no copy of the redactions for a
    /// step's window).
    pub fn text_owned_at(&self, s: String, now: Option<(i64, i64)>) -> String {
        let mut out = s;
        if self.holds_a_literal(&out) {
            // Longest first: a literal inside a longer one is replaced as part of it.
            for (_, actual, placeholder) in &self.literals {
                if out.contains(actual.as_str()) {
                    out = out.replace(actual.as_str(), placeholder);
                }
            }
        }
        // Both clock patterns need two digits, a `T` and two digits, the generated pattern one
        // of its keys and a `"`: a text without them (most landed rows and error messages) is
        // not searched.
        if let Some((start, end)) = now.filter(|_| may_hold_a_time(&out)) {
            if let Some(r) = redact_wall_clock(&out, start - 31 * DAY, end + DAY) {
                out = r;
            }
            if let Some(r) = redact_naive_clock(&out, start - 31 * DAY, end + DAY) {
                out = r;
            }
        }
        if !out.contains(':') || !may_hold_a_generated_key(&out) {
            return out;
        }
        redact_generated(&out).unwrap_or(out)
    }

    /// A response header's value: as [`Self::text`], except that a request ID which is a
    /// version-7 UUID (InfluxDB 3's `Request-Id`, `X-Request-Id`: milliseconds of the server's
    /// clock, then random bits) becomes `<generated:uuid_v7>`. Any other value is kept, so an
    /// expectation of `<generated:uuid_v7>` still checks the form.
    pub fn header(&self, name: &str, value: &str) -> String {
        self.header_at(name, value, self.now)
    }

    /// [`Self::header`] with `now` in place of `self.now`.
    pub fn header_at(&self, name: &str, value: &str, now: Option<(i64, i64)>) -> String {
        let is_request_id =
            name.eq_ignore_ascii_case("request-id") || name.eq_ignore_ascii_case("x-request-id");
        if is_request_id && uuid_v7_regex().is_match(value) {
            return "<generated:uuid_v7>".into();
        }
        self.text_owned_at(value.to_string(), now)
    }

    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.literals
            .iter()
            .filter(|l| l.0 == "token")
            .map(|l| l.1.as_str())
    }
}

/// The searcher of a session's literals. Sessions of one run mostly hold the same literals
/// (the in-process reference's IDs and tokens come from a fixed seed; the target and the
/// oracle of a fuzz scenario hold the same), so each thread keeps the last few it built:
/// building one took 1.5% of an in-process fuzz run, twice a scenario.
fn literal_finder(
    literals: &[(String, String, String)],
) -> Option<std::sync::Arc<aho_corasick::packed::Searcher>> {
    type Kept = Vec<(
        Vec<String>,
        Option<std::sync::Arc<aho_corasick::packed::Searcher>>,
    )>;
    const KEPT: usize = 4;
    thread_local! {
        static FINDERS: std::cell::RefCell<Kept> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let same = |kept: &[String]| {
        kept.len() == literals.len() && kept.iter().zip(literals).all(|(k, l)| *k == l.1)
    };
    FINDERS.with(|f| {
        let mut finders = f.borrow_mut();
        if let Some(i) = finders.iter().position(|(k, _)| same(k)) {
            let hit = finders.remove(i);
            let finder = hit.1.clone();
            finders.insert(0, hit);
            return finder;
        }
        let finder = aho_corasick::packed::Config::new()
            .builder()
            .extend(literals.iter().map(|l| l.1.as_bytes()))
            .build()
            .map(std::sync::Arc::new);
        finders.insert(
            0,
            (
                literals.iter().map(|l| l.1.clone()).collect(),
                finder.clone(),
            ),
        );
        finders.truncate(KEPT);
        finder
    })
}

/// Whether `s` holds two ASCII digits, a `T` and two ASCII digits: every match of
/// [`WALL_CLOCK_PATTERN`], [`NAIVE_CLOCK_PATTERN`] and its prefix does (`..\d\dT\d\d..`).
fn may_hold_a_time(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr_iter(b'T', b).any(|i| {
        i >= 2
            && i + 2 < b.len()
            && b[i - 2].is_ascii_digit()
            && b[i - 1].is_ascii_digit()
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
    })
}

/// Whether `s` holds one of [`GENERATED_PATTERN`]'s keys in quotes (`"id"`, `"userID"`,
/// `"token"`, `"up"`, `"process_id"`, the closing quote possibly escaped): every match does.
fn may_hold_a_generated_key(s: &str) -> bool {
    const KEYS: [&[u8]; 5] = [b"\"id", b"\"userID", b"\"token", b"\"up", b"\"process_id"];
    let b = s.as_bytes();
    memchr::memchr_iter(b'"', b).any(|i| {
        let end = if i >= 1 && b[i - 1] == b'\\' {
            i - 1
        } else {
            i
        };
        KEYS.iter().any(|k| b[..end].ends_with(k))
    })
}

/// RFC3339 times in bodies (the `wall_clock` redaction).
const WALL_CLOCK_PATTERN: &str = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z";
/// Values the server generates (the `generated` redaction), in JSON as it is and escaped inside
/// a YAML or JSON string.
const GENERATED_PATTERN: &str =
    r#"\\?"(id|userID|token|up|process_id)\\?"\s*:\s*\\?"([^"<\\]+)\\?""#;

/// InfluxDB 3's times (arrow's rendering of `Timestamp(Nanosecond, None)`: ISO 8601 without a
/// zone, read as UTC) and the compact `YYYYMMDDTHHMMSS` of a soft-deleted database or table's
/// new name (the `wall_clock` redaction too).
const NAIVE_CLOCK_PATTERN: &str =
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?|-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)\b";

/// What every match of [`NAIVE_CLOCK_PATTERN`] starts with, without its `\b`: a text it
/// does not match is not searched with the full pattern. (A Unicode `\b` keeps the fast
/// DFAs off a text with a non-ASCII byte: every search ran the PikeVM, 4% of a fuzz run.)
const NAIVE_CLOCK_PREFIX_PATTERN: &str =
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d|-\d{4}\d\d\d\dT\d\d\d\d\d\d";

/// A version-7 UUID, lower-case hex (the `generated` redaction of request-ID headers).
const UUID_V7_PATTERN: &str =
    r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";

type Cell = std::sync::OnceLock<regex::Regex>;

static WALL_CLOCK_RE: Cell = Cell::new();
static NAIVE_CLOCK_RE: Cell = Cell::new();
static NAIVE_CLOCK_PREFIX_RE: Cell = Cell::new();
static UUID_V7_RE: Cell = Cell::new();
static GENERATED_RE: Cell = Cell::new();

/// The patterns the redactions are found with, by redaction name, and where each is kept
/// compiled.
const REDACTION_PATTERNS: [(&str, &Cell, &str); 5] = [
    ("wall_clock", &WALL_CLOCK_RE, WALL_CLOCK_PATTERN),
    ("wall_clock", &NAIVE_CLOCK_RE, NAIVE_CLOCK_PATTERN),
    (
        "wall_clock",
        &NAIVE_CLOCK_PREFIX_RE,
        NAIVE_CLOCK_PREFIX_PATTERN,
    ),
    ("generated", &GENERATED_RE, GENERATED_PATTERN),
    ("generated", &UUID_V7_RE, UUID_V7_PATTERN),
];

/// Every redaction pattern compiles: a pattern that does not is an error (the CLI checks this
/// before it runs anything), never a redaction silently switched off. Each is compiled once,
/// here, and kept for the redactions.
pub fn check_patterns() -> Result<(), crate::Error> {
    for (name, cell, pattern) in REDACTION_PATTERNS {
        if cell.get().is_some() {
            continue;
        }
        let re = regex::Regex::new(pattern).map_err(|e| {
            crate::Error::Config(format!(
                "the {name} redaction pattern does not compile: {e}"
            ))
        })?;
        // Another thread may have compiled it meanwhile: the same regex either way.
        let _ = cell.set(re);
    }
    Ok(())
}

/// A redaction pattern, compiled once (by `check_patterns`, or here on first use). It is a
/// literal checked by `check_patterns` (and by a test), so failing here fails loudly on a bug
/// in this file.
fn compiled(cell: &'static Cell, pattern: &str) -> &'static regex::Regex {
    cell.get_or_init(|| {
        regex::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("redaction pattern {pattern:?} does not compile: {e}"))
    })
}

fn rfc3339_regex() -> &'static regex::Regex {
    compiled(&WALL_CLOCK_RE, WALL_CLOCK_PATTERN)
}

fn naive_clock_regex() -> &'static regex::Regex {
    compiled(&NAIVE_CLOCK_RE, NAIVE_CLOCK_PATTERN)
}

fn naive_clock_prefix_regex() -> &'static regex::Regex {
    compiled(&NAIVE_CLOCK_PREFIX_RE, NAIVE_CLOCK_PREFIX_PATTERN)
}

fn uuid_v7_regex() -> &'static regex::Regex {
    compiled(&UUID_V7_RE, UUID_V7_PATTERN)
}

fn generated_regex() -> &'static regex::Regex {
    compiled(&GENERATED_RE, GENERATED_PATTERN)
}

/// IDs, tokens and uptimes a server makes up (a created bucket's ID, a new token): every
/// occurrence of such a value (in links too) becomes `<generated:KEY>`. Values already redacted
/// by name (`<bucket_id:main>`) are left alone. Matches JSON as it is and as it appears escaped
/// inside a YAML or JSON string.
///
/// `None` when the text has no such value.
fn redact_generated(s: &str) -> Option<String> {
    let mut values: Vec<(String, String)> = Vec::new();
    for c in generated_regex().captures_iter(s) {
        let v = c[2].to_string();
        if !values.iter().any(|(x, _)| *x == v) {
            values.push((v, format!("<generated:{}>", &c[1])));
        }
    }
    if values.is_empty() {
        return None;
    }
    values.sort_by_key(|v| std::cmp::Reverse(v.0.len()));
    let mut out = s.to_string();
    for (v, placeholder) in values {
        out = out.replace(&v, &placeholder);
    }
    Some(out)
}

/// RFC3339 times within [lo, hi] as `<wall_clock>`; `None` when the text has no RFC3339 time.
fn redact_wall_clock(s: &str, lo: i64, hi: i64) -> Option<String> {
    match rfc3339_regex().replace_all(s, |c: &regex::Captures<'_>| {
        let t = &c[0];
        match influx_reference::model::time::parse_rfc3339_nano(t) {
            Some(ns) if ns >= lo && ns <= hi => "<wall_clock>".to_string(),
            _ => t.to_string(),
        }
    }) {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(r) => Some(r),
    }
}

/// InfluxDB 3's zone-less times within [lo, hi]. A fractional second is kept as a mark
/// (`<wall_clock>.<fraction>`), since whether a time has one is what a precision shows (a time
/// truncated to the second has none); its digits vary with the clock. A time followed by a zone
/// (`Z`, `+01:00`) is RFC3339, not this form, and is left to `redact_wall_clock`.
///
/// `None` when the text holds nothing the pattern could match (then nothing is redacted).
fn redact_naive_clock(s: &str, lo: i64, hi: i64) -> Option<String> {
    if !naive_clock_prefix_regex().is_match(s) {
        return None;
    }
    Some(redact_naive_clock_searched(s, lo, hi))
}

/// [`redact_naive_clock`] searching the whole text with [`NAIVE_CLOCK_PATTERN`].
fn redact_naive_clock_searched(s: &str, lo: i64, hi: i64) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for c in naive_clock_regex().captures_iter(s) {
        let Some(m) = c.get(0) else { continue };
        let replacement = if let Some(civil) = c.get(1) {
            let zoned = matches!(s.as_bytes().get(m.end()), Some(b'Z' | b'+' | b'-'));
            let frac = c.get(2).map_or("", |f| f.as_str());
            let ns = influx_reference::model::time::parse_rfc3339_nano(&format!(
                "{}{frac}Z",
                civil.as_str()
            ));
            match ns {
                Some(ns) if !zoned && ns >= lo && ns <= hi => Some(if frac.is_empty() {
                    "<wall_clock>".to_string()
                } else {
                    "<wall_clock>.<fraction>".to_string()
                }),
                _ => None,
            }
        } else {
            let text = format!(
                "{}-{}-{}T{}:{}:{}Z",
                &c[3], &c[4], &c[5], &c[6], &c[7], &c[8]
            );
            match influx_reference::model::time::parse_rfc3339_nano(&text) {
                Some(ns) if ns >= lo && ns <= hi => Some("-<wall_clock>".to_string()),
                _ => None,
            }
        };
        if let Some(r) = replacement {
            out.push_str(&s[last..m.start()]);
            out.push_str(&r);
            last = m.end();
        }
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_redaction_pattern_compiles() {
        check_patterns().unwrap();
        assert!(naive_clock_prefix_regex().is_match("x-20250520T110000"));
        assert!(rfc3339_regex().is_match("2025-05-20T10:00:00.123Z"));
        assert!(generated_regex().is_match(r#""id": "4689030b371e58b0""#));
    }

    proptest::proptest! {
        /// The prefix pattern skips only texts the naive-clock pattern finds nothing to
        /// redact in, with non-ASCII letters and digits around (where `\b` differs).
        #[test]
        fn the_naive_clock_prefilter_skips_only_texts_without_a_match(
            s in "([0-9]{1,8}|[-T:.Z+ é٣x_]|2025-05-20T11:00:00|-20250520T110000|2025-05-20T11:00:0٣){0,10}",
            wide in proptest::prelude::any::<bool>(),
        ) {
            let now = influx_reference::model::time::parse_rfc3339_nano("2025-05-20T11:00:00Z").unwrap();
            let (lo, hi) = if wide { (i64::MIN, i64::MAX) } else { (now - 31 * DAY, now + DAY) };
            let searched = redact_naive_clock_searched(&s, lo, hi);
            match redact_naive_clock(&s, lo, hi) {
                Some(r) => proptest::prop_assert_eq!(r, searched),
                None => {
                    proptest::prop_assert_eq!(&searched, &s);
                    proptest::prop_assert!(!naive_clock_regex().is_match(&s));
                }
            }
        }
    }

    proptest::proptest! {
        /// The cheap tests in front of the regexes pass every text a regex matches, including
        /// near misses (a `T` between one and three digits, keys cut short, escaped quotes).
        #[test]
        fn the_time_test_passes_every_text_a_clock_pattern_matches(
            s in "([0-9]{1,5}|[-T:.Z+ é٣x\"]|2025-05-20T11:00:00|-20250520T110000|1T2|12T3){0,10}",
        ) {
            let matched = rfc3339_regex().is_match(&s)
                || naive_clock_regex().is_match(&s)
                || naive_clock_prefix_regex().is_match(&s);
            proptest::prop_assert!(!matched || may_hold_a_time(&s));
        }

        #[test]
        fn the_key_test_passes_every_text_the_generated_pattern_matches(
            s in r#"([:" \\\t]|id|ID|userID|toke|token|up|process_id|value|4689030b){0,12}"#,
        ) {
            proptest::prop_assert!(!generated_regex().is_match(&s) || may_hold_a_generated_key(&s));
        }
    }

    #[test]
    fn the_prefilters_find_what_they_look_for() {
        assert!(may_hold_a_time("at 2025-05-20T11:00:00Z"));
        assert!(may_hold_a_time("-20250520T110000"));
        assert!(!may_hold_a_time("T12 1T2 12T 12Tx1 Tab"));
        assert!(may_hold_a_generated_key(r#"{"id":"x"}"#));
        assert!(may_hold_a_generated_key(r#"{\"token\":\"x\"}"#));
        assert!(!may_hold_a_generated_key(
            r#"{"code":"invalid","message":"x"}"#
        ));
    }

    #[test]
    fn sessions_with_the_same_literals_share_a_searcher() {
        let mut a = Redactions::default();
        a.add("org_id", "0123456789abcdef", "<org_id>".into());
        a.add("token", "secret-token-of-a", "<token:a>".into());
        let b = a.clone();
        let mut c = Redactions::default();
        c.add("org_id", "fedcba9876543210", "<org_id>".into());
        assert_eq!(a.text("x 0123456789abcdef y"), "x <org_id> y");
        assert_eq!(b.text("secret-token-of-a"), "<token:a>");
        assert_eq!(c.text("x 0123456789abcdef y"), "x 0123456789abcdef y");
        assert_eq!(c.text("fedcba9876543210"), "<org_id>");
        let (fa, fb) = (literal_finder(&a.literals), literal_finder(&b.literals));
        assert!(std::sync::Arc::ptr_eq(
            fa.as_ref().unwrap(),
            fb.as_ref().unwrap()
        ));
    }

    #[test]
    fn rows_render_like_line_protocol() {
        let r = Redactions::default();
        let row = Row {
            measurement: "c pu".into(),
            tags: vec![("b".into(), "2".into()), ("a".into(), "x=y".into())].into(),
            field: "v".into(),
            value: Value::String("a\"b".into()),
            time: 5,
        };
        assert_eq!(row.render(&r), r#"c\ pu,a=x\=y,b=2 v="a\"b" 5"#);
        assert_eq!(Value::Float(1e21).render(), "1000000000000000000000");
        assert_eq!(Value::Float(1.0).render(), "1");
    }

    #[test]
    fn redactions_replace_ids_and_times() {
        let mut r = Redactions::default();
        r.add("bucket_id", "0123456789abcdef", "<bucket_id:main>".into());
        let now =
            influx_reference::model::time::parse_rfc3339_nano("2025-05-20T11:00:00Z").unwrap();
        r.now = Some((now, now));
        assert_eq!(
            r.text("at 2025-05-20T10:00:00.123Z for database: 0123456789abcdef, old 2020-01-01T00:00:00Z"),
            "at <wall_clock> for database: <bucket_id:main>, old 2020-01-01T00:00:00Z"
        );
        assert_eq!(r.time(now - 5), "<now>");
        assert_eq!(
            r.text(r#"{"id": "4689030b371e58b0", "links": {"self": "/x/4689030b371e58b0"}, "orgID": "0123456789abcdef"}"#),
            r#"{"id": "<generated:id>", "links": {"self": "/x/<generated:id>"}, "orgID": "<bucket_id:main>"}"#
        );
        assert_eq!(r.time(1), "1");
    }

    #[test]
    fn every_literal_is_found_longest_first_and_one_added_later_counts() {
        let mut r = Redactions::default();
        r.add("bucket_name", "conformance-a-main", "<bucket:main>".into());
        r.add("token", "conformance-a", "<token:t>".into());
        assert_eq!(r.text("no literal here"), "no literal here");
        assert_eq!(
            r.text("db conformance-a-main, token conformance-a."),
            "db <bucket:main>, token <token:t>."
        );
        // The searcher was built by the texts above; a literal added now is found too.
        r.add("org_id", "0123456789abcdef", "<org_id>".into());
        assert_eq!(r.text("org 0123456789abcdef"), "org <org_id>");
        let copy = r.clone();
        assert_eq!(copy.text("x conformance-a-main"), "x <bucket:main>");
    }

    #[test]
    fn influxdb3_times_are_wall_clock() {
        let r = Redactions {
            now: influx_reference::model::time::parse_rfc3339_nano("2025-05-20T11:00:00Z")
                .map(|n| (n, n)),
            ..Redactions::default()
        };
        assert_eq!(
            r.text(r#"[{"time":"2025-05-20T11:00:00.123456789"},{"time":"2025-05-20T11:00:00"}]"#),
            r#"[{"time":"<wall_clock>.<fraction>"},{"time":"<wall_clock>"}]"#
        );
        assert_eq!(
            r.text(r#"{"name":"cpu-20250520T110000","old":"cpu-20200101T000000","t":"2020-01-01T00:00:00"}"#),
            r#"{"name":"cpu-<wall_clock>","old":"cpu-20200101T000000","t":"2020-01-01T00:00:00"}"#
        );
        assert_eq!(
            r.text("2025-05-20T11:00:00+01:00"),
            "2025-05-20T11:00:00+01:00"
        );
        assert_eq!(
            r.header("Request-Id", "0196ed59-affb-7cc1-beeb-8da1658eec67"),
            "<generated:uuid_v7>"
        );
        assert_eq!(
            r.header("request-id", "0196ed59-affb-4cc1-beeb-8da1658eec67"),
            "0196ed59-affb-4cc1-beeb-8da1658eec67"
        );
    }

    proptest::proptest! {
        /// `Redactions::text` skips the clock patterns for a text without `T` and the generated
        /// pattern for one without `"` or `:`: they cannot match such a text.
        #[test]
        fn texts_the_prefilters_skip_are_never_redacted(
            s in "[0-9:.Z+\\-\"a-z _T]{0,60}"
        ) {
            let (lo, hi) = (i64::MIN, i64::MAX);
            if !s.contains('T') {
                proptest::prop_assert_eq!(redact_wall_clock(&s, lo, hi), None);
                proptest::prop_assert_eq!(redact_naive_clock_searched(&s, lo, hi), s.clone());
            }
            if !s.contains('"') || !s.contains(':') {
                proptest::prop_assert_eq!(redact_generated(&s), None);
            }
        }
    }
}
