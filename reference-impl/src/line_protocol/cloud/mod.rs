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
mod token_sets;

use super::scan::{classify_line, parse_point_as, PointParts, Scratch};
use decoder::{DecodeError, Decoder, Section};

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
    on_point: impl FnMut(Point<'a>),
    on_error: impl FnMut(CloudLineError<'a>),
) {
    parse_lines_cloud_as(body, precision, true, on_point, on_error);
}

/// [`parse_lines_cloud`], with the shared fast path ([`shared_fast_entry`]) switched on or off
/// (tests compare both).
pub(super) fn parse_lines_cloud_as<'a>(
    body: &'a [u8],
    precision: Precision,
    fast: bool,
    mut on_point: impl FnMut(Point<'a>),
    mut on_error: impl FnMut(CloudLineError<'a>),
) {
    let mut dec = Decoder::new(body);
    let mut scratch = Scratch::pooled();
    while dec.next() {
        let line_number = dec.line;
        if fast {
            if let Some(point) = shared_fast_entry(&mut dec, precision, &mut scratch) {
                on_point(point);
                continue;
            }
        }
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

/// The entry at the decoder's read position through the v2 scanner's plain fast path
/// ([`parse_point_as`]), when the two dialects must agree on it; `None` (decoder untouched)
/// otherwise, and the decoder decodes it.
///
/// The entry qualifies when its physical line holds no `"` and no `\\` (no escapes, no
/// strings: the line is the entry), no control byte (0x00-0x1F, 0x7F: no `\r`, TAB or NUL,
/// which the dialects treat differently), is valid UTF-8 (the decoder checks every token; the
/// tokens of a valid line are valid, since they are cut at ASCII bytes), starts with neither a
/// space nor `#`, and v2 accepts it. Every line v2 accepts under these conditions the decoder
/// accepts with the same point: the same token boundaries (`,` `=` space), v2's number and
/// boolean grammars are subsets of the decoder's with the same values (Go's `ParseFloat`
/// rounds as Rust's does; `ParseInt`/`ParseUint` on the text before `i`/`u`), v2's timestamp
/// range is within the decoder's, and v2's tag order (bytewise by the raw key, no duplicates:
/// v2 refuses them) is the decoder's stable sort by the unescaped key, which is the raw key
/// here. The one token v2 takes and the decoder does not, a tag value starting with `=`,
/// is sent to the decoder. Everything v2 refuses (reserved tag keys, duplicates, key length, its timestamp
/// range) falls back to the decoder, which gives Cloud's answer. A property test compares this
/// path with the decoder alone (`tests.rs`).
fn shared_fast_entry<'a>(
    dec: &mut Decoder<'a>,
    precision: Precision,
    scratch: &mut Scratch,
) -> Option<Point<'a>> {
    let body = dec.buf;
    let start = dec.r1;
    let rest = body.get(start..)?;
    // One pass finds the end of the line and what it holds.
    let class = classify_line(rest)?;
    let (len, newline) = (class.len, class.newline);
    let line = &rest[..len];
    if matches!(line.first(), None | Some(b' ' | b'#')) {
        return None;
    }
    if class.control || (class.high && std::str::from_utf8(line).is_err()) {
        return None;
    }
    let mut parts = PointParts::default();
    let parsed = parse_point_as::<true>(line, precision.multiplier(), scratch, &mut parts).ok()?;
    // v2's `scanTagsValue` does not look at the first byte of a value for `=`; the decoder
    // ends the (then empty) value there.
    if parts.tags.iter().any(|t| t.value.first() == Some(&b'=')) {
        return None;
    }
    // The decoder's series key runs through the spaces after the tags.
    let fields_start = line[parsed.key_len..]
        .iter()
        .position(|&b| b != b' ')
        .map_or(line.len(), |n| parsed.key_len + n);
    dec.r0 = start;
    dec.r1 = start + len + usize::from(newline);
    dec.section = Section::End;
    let line_number = dec.line;
    dec.line += usize::from(newline);
    Some(Point {
        line,
        line_number,
        raw_key: &line[..fields_start],
        measurement: parts.measurement,
        tags: parts.tags,
        fields: parts.fields,
        timestamp: parsed.timestamp,
    })
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
