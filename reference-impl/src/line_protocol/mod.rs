//! Line protocol as InfluxDB OSS v2.7.12 parses it (spec `v2.md` §3; Go's `models/points.go`).
//!
//! The parser is a faithful port of Go's scanners, including their quirks (see [`scan`]'s
//! module docs), with zero-copy output: names, keys and values borrow from the body and are
//! only copied when unescaping changes them.
//!
//! What the parser does **not** do: fill missing timestamps (the engine gives the request
//! time, truncated to the precision), drop a `time` field, or check field types across points.

use std::borrow::Cow;
use std::fmt;

pub mod cloud;
mod delims;
mod escape;
mod key_cache;
mod line_end;
mod reason;
mod scan;
#[cfg(test)]
mod tests;

pub use crate::model::Precision;
use crate::model::{FieldType, OwnedFieldValue};
pub use cloud::{parse_batch_cloud, CloudBatch, CloudLineError};
pub use escape::{escape_field_key, escape_measurement, escape_string_value, escape_tag};
pub use reason::{Reason, ReservedTagKey, MAX_KEY_LENGTH, MAX_NANO_TIME, MIN_NANO_TIME};

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub struct Point<'a> {
    /// The line after the leading-whitespace strip (spaces, tabs, NUL), verbatim.
    pub line: &'a [u8],
    /// 1-based physical line number where the point starts.
    pub line_number: usize,
    /// The series key as written (escaped, tags in input order), when the parser knows it;
    /// empty otherwise. Equal raw keys always parse to the same series, so grouping can look
    /// at these bytes first (different raw keys may still be one series).
    pub raw_key: &'a [u8],
    /// Unescaped measurement name (`\,` and `\ ` only).
    pub measurement: Cow<'a, [u8]>,
    /// Unescaped tags in series-key order: sorted bytewise by the *escaped* key, as Go's
    /// `scanKey` sorts them (for usual keys the same as the unescaped order).
    pub tags: Vec<Tag<'a>>,
    /// Unescaped field keys in input order; duplicate keys are kept.
    pub fields: Vec<Field<'a>>,
    /// Nanoseconds (already multiplied by the precision); `None` when the line has none.
    pub timestamp: Option<i64>,
}

/// One parsed line lent to a callback of [`parse_lines_ref`]: its measurement, tags and fields
/// are held by the parser, whose vectors and unescaped buffers the next line reuses, so a body
/// parses with no allocation per line once the buffers suffice. [`PointRef::into_point`] keeps
/// it (as [`parse_lines`] does for every line).
#[derive(Debug)]
pub struct PointRef<'p, 'a> {
    /// The line after the leading-whitespace strip (spaces, tabs, NUL), verbatim.
    pub line: &'a [u8],
    /// 1-based physical line number where the point starts.
    pub line_number: usize,
    /// As [`Point::raw_key`].
    pub raw_key: &'a [u8],
    /// Nanoseconds (already multiplied by the precision); `None` when the line has none.
    pub timestamp: Option<i64>,
    parts: &'p mut scan::PointParts<'a>,
}

impl<'p, 'a> PointRef<'p, 'a> {
    pub(crate) fn new(
        line: &'a [u8],
        line_number: usize,
        raw_key: &'a [u8],
        timestamp: Option<i64>,
        parts: &'p mut scan::PointParts<'a>,
    ) -> Self {
        Self {
            line,
            line_number,
            raw_key,
            timestamp,
            parts,
        }
    }

    /// As [`Point::measurement`]: unescaped (`\,` and `\ ` only).
    pub fn measurement(&self) -> &[u8] {
        &self.parts.measurement
    }

    /// As [`Point::tags`]: unescaped, in series-key order.
    pub fn tags(&self) -> &[Tag<'a>] {
        &self.parts.tags
    }

    /// As [`Point::fields`]: unescaped keys, in input order, duplicates kept.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.parts.fields
    }

    /// The point, owned: the parser's vectors are taken (not copied), and the next line
    /// starts new ones.
    pub fn into_point(self) -> Point<'a> {
        Point {
            line: self.line,
            line_number: self.line_number,
            raw_key: self.raw_key,
            measurement: std::mem::take(&mut self.parts.measurement),
            tags: std::mem::take(&mut self.parts.tags),
            fields: std::mem::take(&mut self.parts.fields),
            timestamp: self.timestamp,
        }
    }
}

/// What grouping by series reads of a parsed point, kept ([`Point`]) or lent by the parser
/// ([`PointRef`]): a write can group the points as they are parsed, without keeping them.
pub trait PointView<'a> {
    /// As [`Point::raw_key`].
    fn raw_key(&self) -> &'a [u8];
    /// As [`Point::measurement`].
    fn measurement(&self) -> &[u8];
    /// As [`Point::tags`].
    fn tags(&self) -> &[Tag<'a>];
    /// As [`Point::fields`].
    fn fields(&self) -> &[Field<'a>];
    /// As [`Point::timestamp`].
    fn timestamp(&self) -> Option<i64>;
    /// As [`Point::line`] and [`Point::line_number`].
    fn line(&self) -> (&'a [u8], usize);
}

impl<'a> PointView<'a> for Point<'a> {
    fn raw_key(&self) -> &'a [u8] {
        self.raw_key
    }
    fn measurement(&self) -> &[u8] {
        &self.measurement
    }
    fn tags(&self) -> &[Tag<'a>] {
        &self.tags
    }
    fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn line(&self) -> (&'a [u8], usize) {
        (self.line, self.line_number)
    }
}

impl<'a> PointView<'a> for PointRef<'_, 'a> {
    fn raw_key(&self) -> &'a [u8] {
        self.raw_key
    }
    fn measurement(&self) -> &[u8] {
        PointRef::measurement(self)
    }
    fn tags(&self) -> &[Tag<'a>] {
        PointRef::tags(self)
    }
    fn fields(&self) -> &[Field<'a>] {
        PointRef::fields(self)
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn line(&self) -> (&'a [u8], usize) {
        (self.line, self.line_number)
    }
}

/// A tag of a point (unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<'a> {
    pub key: Cow<'a, [u8]>,
    pub value: Cow<'a, [u8]>,
}

/// A field of a point (unescaped key).
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    pub key: Cow<'a, [u8]>,
    pub value: FieldValue<'a>,
}

/// A field value; strings are unescaped.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    String(Cow<'a, [u8]>),
    Boolean(bool),
}

impl FieldValue<'_> {
    pub fn field_type(&self) -> FieldType {
        match self {
            Self::Float(_) => FieldType::Float,
            Self::Integer(_) => FieldType::Integer,
            Self::Unsigned(_) => FieldType::Unsigned,
            Self::String(_) => FieldType::String,
            Self::Boolean(_) => FieldType::Boolean,
        }
    }

    pub fn to_owned_value(&self) -> OwnedFieldValue {
        match self {
            Self::Float(v) => OwnedFieldValue::Float(*v),
            Self::Integer(v) => OwnedFieldValue::Integer(*v),
            Self::Unsigned(v) => OwnedFieldValue::Unsigned(*v),
            Self::String(v) => OwnedFieldValue::String(v.to_vec()),
            Self::Boolean(v) => OwnedFieldValue::Boolean(*v),
        }
    }
}

/// A line that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError<'a> {
    /// The line after the leading-whitespace strip, verbatim (as Go quotes it).
    pub line: &'a [u8],
    /// 1-based physical line number where the line starts.
    pub line_number: usize,
    pub reason: Reason,
}

impl fmt::Display for LineError<'_> {
    /// `unable to parse '<line>': <reason>` (`ParsePointsWithPrecision`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to parse '{}': {}",
            crate::model::text::go_lossy(self.line),
            self.reason
        )
    }
}

impl LineError<'_> {
    /// `unable to parse '<line>': <reason>` as Go's string holds it: the line's bytes as they
    /// came (not valid UTF-8, maybe), for an encoder that writes Go's `\ufffd` for each
    /// invalid byte ([`crate::api_error::push_go_json_bytes_content`]).
    pub fn push_go_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"unable to parse '");
        out.extend_from_slice(self.line);
        out.extend_from_slice(b"': ");
        self.reason.push_go_bytes(out);
    }
}

/// Everything a body parsed into, in input order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch<'a> {
    pub points: Vec<Point<'a>>,
    pub errors: Vec<LineError<'a>>,
}

impl Batch<'_> {
    /// None when no line failed; else `unable to parse '<line>': <reason>` for every failed
    /// line, in input order, joined by `"\n"`, the line rendered with
    /// [`crate::model::text::go_lossy`] (never truncated).
    pub fn error_message(&self) -> Option<String> {
        self.error_message_bytes()
            .map(|b| crate::model::text::go_lossy(&b).into_owned())
    }

    /// [`Batch::error_message`] as Go's string holds it: the lines' bytes as they came.
    pub fn error_message_bytes(&self) -> Option<Vec<u8>> {
        error_message_bytes(&self.errors)
    }
}

/// [`Batch::error_message_bytes`] of these errors.
pub fn error_message_bytes(errors: &[LineError<'_>]) -> Option<Vec<u8>> {
    if errors.is_empty() {
        return None;
    }
    // Room for every quoted line and its reason (most reasons are shorter than 48 bytes):
    // grown from empty, a message quoting long lines was copied once per doubling.
    let mut out = Vec::with_capacity(errors.iter().map(|e| e.line.len() + 48).sum());
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        e.push_go_bytes(&mut out);
    }
    Some(out)
}

/// Parses a whole body.
pub fn parse_batch(body: &[u8], precision: Precision) -> Batch<'_> {
    let mut batch = Batch::default();
    let points = &mut batch.points;
    let errors = &mut batch.errors;
    parse_lines(body, precision, |p| points.push(p), |e| errors.push(e));
    batch
}

/// Streaming form: calls `on_point` / `on_error` for each line in order without collecting.
/// Blank lines, whitespace-only lines and `#` comment lines produce nothing. Each point is
/// owned (two vectors allocated per line); [`parse_lines_ref`] lends them instead.
pub fn parse_lines<'a>(
    body: &'a [u8],
    precision: Precision,
    mut on_point: impl FnMut(Point<'a>),
    mut on_error: impl FnMut(LineError<'a>),
) {
    parse_lines_ref(body, precision, |p| on_point(p.into_point()), &mut on_error);
}

/// [`parse_lines`] for a consumer that looks at a point and lets it go (or keeps only some):
/// each point's tags and fields are lent from vectors the next line reuses, so nothing is
/// allocated per line unless a line has escapes that unescaping must copy.
pub fn parse_lines_ref<'a>(
    body: &'a [u8],
    precision: Precision,
    mut on_point: impl FnMut(PointRef<'_, 'a>),
    mut on_error: impl FnMut(LineError<'a>),
) {
    scan::parse_lines(body, precision.multiplier(), &mut on_point, &mut on_error);
}

/// Which parser a body went through, to parse one of its lines again the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OSS 2.x (`models.ParsePointsWithPrecision`): [`parse_lines`].
    V2,
    /// The Cloud decoder: [`cloud::parse_lines_cloud`].
    Cloud,
}

impl Dialect {
    /// The point of a line that parsed before, parsed again alone: `line` is the
    /// [`Point::line`] a lent or kept point had, and `line_number` its [`Point::line_number`].
    /// A write that grouped its points as they were parsed, without keeping them, takes back
    /// the few it must look at closely this way. `None` only when `line` does not parse (it
    /// never does for a point's own line).
    pub fn parse_line_again(
        self,
        line: &[u8],
        line_number: usize,
        precision: Precision,
    ) -> Option<Point<'_>> {
        match self {
            Self::V2 => scan::parse_cut_line(line, line_number, precision.multiplier()),
            Self::Cloud => {
                let mut out = None;
                let first = |p| {
                    if out.is_none() {
                        out = Some(p);
                    }
                };
                cloud::parse_lines_cloud(line, precision, first, |_| {});
                out.map(|mut p: Point<'_>| {
                    p.line_number = line_number;
                    p
                })
            }
        }
    }
}

/// Escaped series key `measurement,k1=v1,k2=v2` (tags already in series-key order) as
/// InfluxDB prints it in messages.
pub fn series_key(measurement: &[u8], tags: &[Tag<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        measurement.len()
            + tags
                .iter()
                .map(|t| t.key.len() + t.value.len() + 2)
                .sum::<usize>(),
    );
    escape_measurement(&mut out, measurement);
    for t in tags {
        out.push(b',');
        escape_tag(&mut out, &t.key);
        out.push(b'=');
        escape_tag(&mut out, &t.value);
    }
    out
}

impl Point<'_> {
    /// Serializes the point back to line protocol, escaped (timestamp in ns; none when
    /// `None`). Floats use Rust's shortest round-trip form (`1.0`, `1e300`); NaN and
    /// infinities have no line-protocol form and are written as Rust prints them.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = series_key(&self.measurement, &self.tags);
        out.push(b' ');
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            escape_field_key(&mut out, &f.key);
            out.push(b'=');
            write_value(&mut out, &f.value);
        }
        if let Some(ts) = self.timestamp {
            out.push(b' ');
            out.extend_from_slice(ts.to_string().as_bytes());
        }
        out
    }
}

fn write_value(out: &mut Vec<u8>, value: &FieldValue<'_>) {
    use std::io::Write as _;
    // Writing to a Vec cannot fail.
    let _ = match value {
        FieldValue::Float(v) => write!(out, "{v:?}"),
        FieldValue::Integer(v) => write!(out, "{v}i"),
        FieldValue::Unsigned(v) => write!(out, "{v}u"),
        FieldValue::Boolean(v) => write!(out, "{v}"),
        FieldValue::String(s) => {
            out.push(b'"');
            escape_string_value(out, s);
            out.push(b'"');
            Ok(())
        }
    };
}
