//! Line protocol as InfluxDB 3 Core 3.10.1 parses it (spec `v3.md` §7): the crate
//! `influxdb-line-protocol` 1.0.0 in that release's tree (`core/influxdb_line_protocol`, a nom 8
//! parser built with the `large-strings` feature the release binary enables).
//!
//! That version is not on crates.io (the registry's newest, 2.0.0, is older code with other
//! messages), so this is a port: written anew, combinator by combinator, keeping nom's two kinds
//! of failure (a recoverable `Error`, which lets an alternative or an `opt` try something else,
//! and a `Failure`, which ends the line), because which one a step raises decides the message.
//! Every message is the crate's `Display` text; `tests.rs` holds the crate's own vectors.
//!
//! Quirks kept on purpose (each is InfluxDB 3's behaviour, see the spec): `\r` is an ordinary
//! character; a `,` may sit inside a tag key and `=` inside a tag value; tags are neither sorted
//! nor de-duplicated; the comma after the *first* field is swallowed when no field follows;
//! booleans are matched as prefixes; out-of-range floats parse as infinities.

use std::borrow::Cow;
use std::fmt;

mod parse;
#[cfg(test)]
mod tests;

pub use parse::{parse_lines, split_lines};

/// Longest measurement, tag key or value, field key or string value, in bytes after
/// unescaping (`STRING_LENGTH_LIMIT_IN_BYTES` with `large-strings`: 1 MiB).
pub const STRING_LENGTH_LIMIT: usize = 1_048_576;

/// Context shown in some messages is cut to this many characters, then `...`.
const MAX_ERROR_CONTEXT_CHARS: usize = 10;

/// `maybe_truncate_context`: more than 10 *bytes* keeps the first 10 *characters* and adds
/// `...`.
fn truncate_context(s: &str) -> Cow<'_, str> {
    if s.len() > MAX_ERROR_CONTEXT_CHARS {
        let mut out: String = s.chars().take(MAX_ERROR_CONTEXT_CHARS).collect();
        out.push_str("...");
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Why a line is not line protocol: the crate's `Error`, with its `Display` texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    MeasurementValueInvalid,
    FieldSetMissing,
    IntegerValueInvalid(String),
    UIntegerValueInvalid(String),
    FloatValueInvalid(String),
    TimestampValueInvalid(String),
    EndsWithBackslash,
    CannotParseEntireLine(String),
    TagSetMalformed,
    TagSetMalformedWithContext {
        context: &'static str,
        input: String,
    },
    /// A nom error kind that no mapping replaced (unreachable from [`parse_lines`]; kept so a
    /// future path cannot panic).
    Generic(&'static str),
    /// `Expected <context>: <inner>` (unreachable from [`parse_lines`]: `maybe_tagset`
    /// rewrites it).
    Context {
        context: &'static str,
        inner: Box<LineError>,
    },
    ExpectedSpace(String),
    ExpectedTagKey(String),
    ExpectedTagValue(String),
    FieldStringValueTooLarge,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let got = |f: &mut fmt::Formatter<'_>, what: &str, input: &str, cut: bool| {
            if input.is_empty() {
                write!(f, "Expected {what}, got end of input")
            } else if cut {
                write!(f, "Expected {what}, got `{}`", truncate_context(input))
            } else {
                write!(f, "Expected {what}, got `{input}`")
            }
        };
        match self {
            Self::MeasurementValueInvalid => f.write_str("Invalid measurement was provided"),
            Self::FieldSetMissing => f.write_str("No fields were provided"),
            Self::IntegerValueInvalid(v) => write!(f, "Unable to parse integer value `{v}`"),
            Self::UIntegerValueInvalid(v) => {
                write!(f, "Unable to parse unsigned integer value `{v}`")
            }
            Self::FloatValueInvalid(v) => write!(f, "Unable to parse floating-point value `{v}`"),
            Self::TimestampValueInvalid(v) => write!(f, "Unable to parse timestamp value `{v}`"),
            Self::EndsWithBackslash => f.write_str(
                "Measurements, tag keys and values, and field keys may not end with a backslash",
            ),
            Self::CannotParseEntireLine(rest) => write!(
                f,
                "Could not parse entire line. Found trailing content: `{}`",
                truncate_context(rest)
            ),
            Self::TagSetMalformed => f.write_str("Tag set malformed"),
            Self::TagSetMalformedWithContext { context, input } => write!(
                f,
                "Tag set malformed: could not find {context} in `{}`",
                truncate_context(input)
            ),
            Self::Generic(kind) => write!(f, "A generic parsing error occurred: {kind}"),
            Self::Context { context, inner } => write!(f, "Expected {context}: {inner}"),
            // The whole rest of the line, not cut.
            Self::ExpectedSpace(input) => got(f, "at least one space character", input, false),
            Self::ExpectedTagKey(input) => got(f, "tag key", input, true),
            Self::ExpectedTagValue(input) => got(f, "tag value", input, true),
            Self::FieldStringValueTooLarge => f.write_str("String is greater than 1MB"),
        }
    }
}

impl std::error::Error for LineError {}

/// A field value as parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    I64(i64),
    U64(u64),
    F64(f64),
    String(Cow<'a, str>),
    Boolean(bool),
}

impl FieldValue<'_> {
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            Self::I64(v) => FieldValue::I64(v),
            Self::U64(v) => FieldValue::U64(v),
            Self::F64(v) => FieldValue::F64(v),
            Self::String(s) => FieldValue::String(Cow::Owned(s.into_owned())),
            Self::Boolean(b) => FieldValue::Boolean(b),
        }
    }
}

/// One parsed line: measurement, tags in input order (duplicates kept), fields in input order,
/// the timestamp as written (unscaled).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine<'a> {
    pub measurement: Cow<'a, str>,
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    pub timestamp: Option<i64>,
}

/// Characters escaped when a line is written back (`escape_and_write_value`'s delimiters).
const MEASUREMENT_DELIMITERS: &[char] = &[',', ' '];
const KEY_VALUE_DELIMITERS: &[char] = &[',', '=', ' '];
const STRING_VALUE_DELIMITERS: &[char] = &['"'];

/// A backslash before each delimiter; nothing else is escaped (not even `\` itself).
fn write_escaped(f: &mut fmt::Formatter<'_>, value: &str, delimiters: &[char]) -> fmt::Result {
    let mut last = 0;
    for (idx, delim) in value.match_indices(delimiters) {
        f.write_str(&value[last..idx])?;
        f.write_str("\\")?;
        f.write_str(delim)?;
        last = idx + delim.len();
    }
    f.write_str(&value[last..])
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::I64(v) => write!(f, "{v}i"),
            Self::U64(v) => write!(f, "{v}u"),
            // Rust's `{}` for f64: `1` for 1.0, no exponent, `inf` for infinity.
            Self::F64(v) => write!(f, "{v}"),
            // Escaped quotes, but no surrounding quotes (the crate's `Display`).
            Self::String(s) => write_escaped(f, s, STRING_VALUE_DELIMITERS),
            Self::Boolean(b) => write!(f, "{b}"),
        }
    }
}

/// The line written back (`impl Display for ParsedLine`): what InfluxDB 3 shows as
/// `original_line` for a line that parsed but failed validation.
impl fmt::Display for ParsedLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.measurement, MEASUREMENT_DELIMITERS)?;
        for (k, v) in &self.tags {
            f.write_str(",")?;
            write_escaped(f, k, KEY_VALUE_DELIMITERS)?;
            f.write_str("=")?;
            write_escaped(f, v, KEY_VALUE_DELIMITERS)?;
        }
        if !self.fields.is_empty() {
            f.write_str(" ")?;
            for (n, (k, v)) in self.fields.iter().enumerate() {
                if n > 0 {
                    f.write_str(",")?;
                }
                write_escaped(f, k, KEY_VALUE_DELIMITERS)?;
                write!(f, "={v}")?;
            }
        }
        if let Some(ts) = self.timestamp {
            write!(f, " {ts}")?;
        }
        Ok(())
    }
}
