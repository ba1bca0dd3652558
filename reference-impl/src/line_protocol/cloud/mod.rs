//! Line protocol as InfluxDB Cloud (TSM) parses it: the `lineprotocol` package of
//! influxdata/line-protocol v2, whose `DecodeError` texts (`at line L:C: <message>`) are what
//! Cloud returns (spec `cloud.md` §1.5, §2.4). Ported from `lineprotocol/decoder.go` as stored
//! at d7d08fd8 (its message formats are exactly the list the spec quotes from HEAD 08518c8f),
//! `value.go`, `strconv.go`, `escape.go`, `byteset.go`, `precision.go`.
//!
//! The same [`Point`] / [`Tag`] / [`Field`] / [`FieldValue`] types as the OSS parser
//! ([`super::parse_batch`]), but the grammar, the recovery and the messages are the decoder's.
//! Where it differs from `models/points.go` (OSS):
//!
//! * **Escapes.** Measurement: `\,` `\ `; tag keys, tag values, field keys: `\,` `\=` `\ `
//!   (a field key's `\"` is *not* an escape); string values: `\\` `\"` **and `\n` `\r` `\t`**
//!   (which become LF, CR, TAB). Any other backslash is kept and never ends a token.
//! * **Bytes.** Control bytes (0x00-0x1F, 0x7F; so TAB too) end a measurement, key or tag value
//!   and then fail the line (`expected tag key or field but found '\t' instead`, ...); only
//!   string values may hold them. Every token must be valid UTF-8
//!   (`invalid utf-8 sequence in token "..."`).
//! * **Whitespace.** Only spaces separate sections (any number of them); leading spaces are
//!   skipped, a leading TAB is an error. Lines end at `\n`, `\r\n`, or a `\r` at the end of
//!   input; a lone `\r` elsewhere is an error.
//! * **Comments.** `#` after optional spaces; the comment may not hold control bytes (a TAB in a
//!   comment fails the line: `invalid character found in comment line`).
//! * **Lines.** A raw newline inside a string value belongs to the value (the entry spans
//!   lines); after an error the decoder skips to the next `\n`, so an unterminated string
//!   swallows the rest of the body in one error.
//! * **Values.** Kind by first byte: `"` string; `t T f F` boolean (`t T true True TRUE f F
//!   false False FALSE`); `- 0-9 .` number, with a trailing `i` integer, `u` unsigned, else float
//!   parsed by Go's `strconv.ParseFloat` (so `1_000`, `0x1p3`, `1e-400` are accepted;
//!   `-inf` is `non-number "-inf" ...`); anything else `has unrecognized type`.
//! * **Tags.** No order requirement and no duplicate check (the decoder has none): tags are
//!   returned sorted bytewise by their unescaped key, duplicates kept in input order. No reserved
//!   tag keys, no key-length limit, no timestamp range other than int64 (×precision).
//!
//! Positions: the line is the 1-based physical line of the error; the column is the 1-based
//! byte offset of the error from the start of that line, except that on the first physical
//! line of an entry it is counted from the entry's first byte **after its leading spaces** (Go
//! resets its column origin there).

use std::borrow::Cow;
use std::fmt;

use super::{Field, Point, Precision, Tag};

mod decoder;
mod strconv;
#[cfg(test)]
mod tests;

use decoder::{DecodeError, Decoder};

/// A line (decoder entry) that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudLineError<'a> {
    /// The entry's text: from its first byte after leading spaces through the end of the
    /// physical line where the decoder resumed, without the final `\n` / `\r\n`.
    pub line: &'a [u8],
    /// 1-based physical line of the error (`DecodeError.Line`).
    pub line_number: usize,
    /// 1-based byte column of the error (`DecodeError.Column`).
    pub column: usize,
    /// The decoder's message, without the `at line L:C: ` prefix.
    pub message: String,
}

impl CloudLineError<'_> {
    /// `at line L:C: <message>`, as `DecodeError.Error()` prints it.
    pub fn positioned(&self) -> String {
        format!(
            "at line {}:{}: {}",
            self.line_number, self.column, self.message
        )
    }
}

impl fmt::Display for CloudLineError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.positioned())
    }
}

/// Everything a body parsed into, each list in input order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloudBatch<'a> {
    pub points: Vec<Point<'a>>,
    pub errors: Vec<CloudLineError<'a>>,
}

impl CloudBatch<'_> {
    /// The first error, positioned (`first error: ...` of Cloud's partial-write message).
    pub fn first_error(&self) -> Option<String> {
        self.errors.first().map(CloudLineError::positioned)
    }
}

/// Parses a whole body as Cloud's decoder does: for every entry `Measurement`, `NextTag` until
/// none, `NextField` until none, then `Time(precision, ...)`; the first error of an entry
/// rejects it and the decoder resumes at the next line.
pub fn parse_batch_cloud(body: &[u8], precision: Precision) -> CloudBatch<'_> {
    let mut points = Vec::new();
    let mut errors = Vec::new();
    parse_lines_cloud(body, precision, |p| points.push(p), |e| errors.push(e));
    CloudBatch { points, errors }
}

/// [`parse_batch_cloud`] without collecting: `on_point` and `on_error` see each entry in
/// input order.
pub fn parse_lines_cloud<'a>(
    body: &'a [u8],
    precision: Precision,
    mut on_point: impl FnMut(Point<'a>),
    mut on_error: impl FnMut(CloudLineError<'a>),
) {
    let mut dec = Decoder::new(body);
    while dec.next() {
        let line_number = dec.line;
        match decode_entry(&mut dec, precision) {
            Ok(mut point) => {
                point.line = trim_eol(&body[dec.r0..dec.r1]);
                point.line_number = line_number;
                on_point(point);
            }
            Err(DecodeError {
                line,
                column,
                message,
            }) => {
                let start = dec.r0;
                // What Next does first: skip the rest of the line (no-op if the entry ended).
                dec.recover();
                on_error(CloudLineError {
                    line: trim_eol(&body[start..dec.r1.max(start)]),
                    line_number: line,
                    column,
                    message,
                });
            }
        }
    }
}

fn decode_entry<'a>(dec: &mut Decoder<'a>, precision: Precision) -> Result<Point<'a>, DecodeError> {
    let measurement = dec.measurement()?.unwrap_or(Cow::Borrowed(&[]));
    let mut tags = Vec::new();
    while let Some((key, value)) = dec.next_tag()? {
        tags.push(Tag { key, value });
    }
    // Measurement, tags and the separator after them, as written: equal bytes, equal series.
    let raw_key = dec.entry_so_far();
    let mut fields = Vec::new();
    while let Some((key, value)) = dec.next_field()? {
        fields.push(Field { key, value });
    }
    let timestamp = dec.time(precision)?;
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Point {
        line: &[],
        line_number: 0,
        raw_key,
        measurement,
        tags,
        fields,
        timestamp,
    })
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The number of field values in `points`: what Cloud's write messages count as "points"
/// (spec `cloud.md` §1.5, "1 line with 3 fields = 3 points").
pub fn field_value_count(points: &[Point<'_>]) -> usize {
    points.iter().map(|p| p.fields.len()).sum()
}
