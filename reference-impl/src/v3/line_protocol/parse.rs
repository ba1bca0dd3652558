//! The parser, step for step as `core/influxdb_line_protocol/src/lib.rs` composes its nom
//! combinators. Each function returns the rest of the input and its value, or a [`Fail`]:
//! `Error` (nom's recoverable error: `alt`, `opt` and the list combinators try something else)
//! or `Failure` (nom's `cut`: the line is rejected with that message).

use std::borrow::Cow;

use super::{FieldValue, LineError, ParsedLine, STRING_LENGTH_LIMIT};

#[derive(Debug)]
enum Fail {
    Error(LineError),
    Failure(LineError),
}

impl Fail {
    fn into_error(self) -> LineError {
        match self {
            Self::Error(e) | Self::Failure(e) => e,
        }
    }
    /// nom's `cut`: a recoverable error becomes final.
    fn cut(self) -> Self {
        Self::Failure(self.into_error())
    }
}

type PResult<'a, T> = Result<(&'a str, T), Fail>;

/// Splits a body into the lines the parser sees (`split_lines`, a port of Go's `scanLine`): at
/// `\n`, except after a backslash or inside a double-quoted field string. A `"` opens or closes
/// a string only after the first space and only while more unescaped `=` than `,` have been
/// seen, so an unbalanced quote swallows every following line.
pub fn split_lines(input: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut fields = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    let mut in_escape = false;
    input.split(move |c: char| {
        if in_escape {
            in_escape = false;
            return false;
        }
        if c == '\\' {
            in_escape = true;
            return false;
        }
        if c == ' ' {
            fields = true;
            return false;
        }
        if fields {
            if !quoted && c == '=' {
                equals += 1;
                return false;
            } else if !quoted && c == ',' {
                commas += 1;
                return false;
            } else if c == '"' && equals > commas {
                quoted = !quoted;
                return false;
            }
        }
        if c == '\n' && !quoted {
            quoted = false;
            fields = false;
            equals = 0;
            commas = 0;
            return true;
        }
        false
    })
}

/// Every line of a body that is not blank or a comment, parsed or with its error, in order
/// (`parse_lines`).
pub fn parse_lines(input: &str) -> impl Iterator<Item = Result<ParsedLine<'_>, LineError>> {
    split_lines(input).filter_map(|line| {
        let i = trim_leading(line);
        if i.is_empty() {
            return None;
        }
        Some(match parse_line(i) {
            Ok((rest, _)) if !rest.is_empty() => {
                Err(LineError::CannotParseEntireLine(rest.to_string()))
            }
            Ok((_, line)) => Ok(line),
            Err(e) => Err(e.into_error()),
        })
    })
}

fn is_whitespace_boundary_char(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n'
}

/// Drops leading spaces, tabs and newlines, and whole comment lines (a `#` after them, up to
/// the next `\n`), repeatedly.
fn trim_leading(mut i: &str) -> &str {
    loop {
        let offset = i
            .find(|c| !is_whitespace_boundary_char(c))
            .unwrap_or(i.len());
        i = &i[offset..];
        if i.starts_with('#') {
            let offset = i.find('\n').unwrap_or(i.len());
            i = &i[offset..];
        } else {
            return i;
        }
    }
}

/// nom's `take_while1`.
fn take_while1(i: &str, keep: impl Fn(char) -> bool) -> PResult<'_, &str> {
    let n = i
        .char_indices()
        .find(|(_, c)| !keep(*c))
        .map_or(i.len(), |(k, _)| k);
    if n == 0 {
        Err(Fail::Error(LineError::Generic("TakeWhile1")))
    } else {
        Ok((&i[n..], &i[..n]))
    }
}

/// `recognize(preceded(opt(tag("-")), digit1))`.
fn integral_value_signed(i: &str) -> PResult<'_, &str> {
    let start = usize::from(i.starts_with('-'));
    let digits = i[start..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(Fail::Error(LineError::Generic("Digit")));
    }
    let end = start + digits;
    Ok((&i[end..], &i[..end]))
}

/// `digit1`.
fn digit1(i: &str) -> PResult<'_, &str> {
    let n = i.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        Err(Fail::Error(LineError::Generic("Digit")))
    } else {
        Ok((&i[n..], &i[..n]))
    }
}

fn tag<'a>(i: &'a str, t: &str) -> PResult<'a, &'a str> {
    match i.strip_prefix(t) {
        Some(rest) => Ok((rest, &i[..t.len()])),
        None => Err(Fail::Error(LineError::Generic("Tag"))),
    }
}

/// Pieces of an escaped string, joined only when there is more than one.
#[derive(Default)]
struct Pieces<'a> {
    parts: Vec<&'a str>,
}

impl<'a> Pieces<'a> {
    fn push(&mut self, s: &'a str) {
        self.parts.push(s);
    }
    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }
    fn into_cow(self) -> Cow<'a, str> {
        match self.parts.len() {
            0 => Cow::Borrowed(""),
            1 => Cow::Borrowed(self.parts[0]),
            _ => Cow::Owned(self.parts.concat()),
        }
    }
}

/// `escape_or_fallback`: runs of `normal` characters, and after a backslash either one of the
/// `escaped` characters (which stands for itself) or, for any other character, the backslash
/// and that character both kept. A value ending in a backslash (after unescaping) or longer than
/// [`STRING_LENGTH_LIMIT`] fails the line.
fn escape_or_fallback<'a>(
    i: &'a str,
    normal: impl Fn(char) -> bool,
    escaped: &[char],
) -> PResult<'a, Cow<'a, str>> {
    let mut pieces = Pieces::default();
    let mut head = i;
    loop {
        match take_while1(head, &normal) {
            Ok((rest, run)) => {
                pieces.push(run);
                head = rest;
            }
            Err(e) => {
                if let Some(after) = head.strip_prefix('\\') {
                    match after.chars().next() {
                        Some(c) if escaped.contains(&c) => {
                            let (esc, rest) = after.split_at(c.len_utf8());
                            pieces.push(esc);
                            head = rest;
                        }
                        Some(c) => {
                            // Any other escaped character is kept, backslash and all.
                            pieces.push(&head[..1]);
                            let (esc, rest) = after.split_at(c.len_utf8());
                            pieces.push(esc);
                            head = rest;
                        }
                        None => {
                            pieces.push(&head[..1]);
                            head = after;
                            break;
                        }
                    }
                } else if head.len() == i.len() {
                    return Err(e);
                } else {
                    break;
                }
            }
        }
    }
    let value = pieces.into_cow();
    if value.ends_with('\\') {
        Err(Fail::Failure(LineError::EndsWithBackslash))
    } else if value.len() > STRING_LENGTH_LIMIT {
        Err(Fail::Failure(LineError::FieldStringValueTooLarge))
    } else {
        Ok((head, value))
    }
}

/// Escapes of tag keys, tag values and field keys (`escaped_value`).
const KEY_ESCAPES: &[char] = &['\\', ',', '=', ' '];
/// Escapes of measurements.
const MEASUREMENT_ESCAPES: &[char] = &[',', ' ', '\\'];

fn parse_line(i: &str) -> PResult<'_, ParsedLine<'_>> {
    let (i, (measurement, tags)) = series(i)?;
    let (i, _) = whitespace(i)?;
    let (i, fields) = field_set(i)?;
    // opt(preceded(whitespace, terminated(timestamp, opt(whitespace))))
    let (i, timestamp) = match whitespace(i) {
        Err(Fail::Error(_)) => (i, None),
        Err(f) => return Err(f),
        Ok((after_space, _)) => match timestamp(after_space) {
            Err(Fail::Error(_)) => (i, None),
            Err(f) => return Err(f),
            Ok((rest, ts)) => match whitespace(rest) {
                Ok((rest, _)) => (rest, Some(ts)),
                Err(_) => (rest, Some(ts)),
            },
        },
    };
    Ok((
        i,
        ParsedLine {
            measurement,
            tags: tags.unwrap_or_default(),
            fields,
            timestamp,
        },
    ))
}

type Tags<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

fn series(i: &str) -> PResult<'_, (Cow<'_, str>, Option<Tags<'_>>)> {
    let (i, m) = measurement(i)?;
    let (i, tags) = maybe_tagset(i)?;
    Ok((i, (m, tags)))
}

fn measurement(i: &str) -> PResult<'_, Cow<'_, str>> {
    let normal = |c: char| !is_whitespace_boundary_char(c) && c != '\0' && c != ',' && c != '\\';
    match escape_or_fallback(i, normal, MEASUREMENT_ESCAPES) {
        Err(Fail::Error(_)) => Err(Fail::Error(LineError::MeasurementValueInvalid)),
        other => other,
    }
}

/// Tags are optional, but a comma after the measurement needs at least one `key=value`.
fn maybe_tagset(i: &str) -> PResult<'_, Option<Tags<'_>>> {
    let Some(remainder) = i.strip_prefix(',') else {
        return Ok((i, None));
    };
    match tag_set(remainder) {
        Ok((_, tags)) if tags.is_empty() => Err(Fail::Error(LineError::TagSetMalformed)),
        Ok((rest, tags)) => Ok((rest, Some(tags))),
        Err(Fail::Error(_)) => Err(Fail::Failure(LineError::TagSetMalformed)),
        Err(Fail::Failure(LineError::Context { context, .. })) => {
            Err(Fail::Failure(LineError::TagSetMalformedWithContext {
                context,
                input: remainder.to_string(),
            }))
        }
        Err(f) => Err(f),
    }
}

/// `separated_pair(cut(tag_key), context("equals sign", cut(tag("="))), cut(tag_value))`.
fn one_tag(i: &str) -> PResult<'_, (Cow<'_, str>, Cow<'_, str>)> {
    let (i, key) = tag_key(i).map_err(Fail::cut)?;
    let i = match tag(i, "=") {
        Ok((rest, _)) => rest,
        Err(e) => {
            return Err(Fail::Failure(LineError::Context {
                context: "equals sign",
                inner: Box::new(e.into_error()),
            }))
        }
    };
    let (i, value) = tag_value(i).map_err(Fail::cut)?;
    Ok((i, (key, value)))
}

/// `parameterized_separated_list(tag(","), one_tag)`: zero or more, separated by commas; an
/// element that fails recoverably ends the list before its comma.
fn tag_set(i: &str) -> PResult<'_, Tags<'_>> {
    let mut tags = Vec::new();
    let mut i = match one_tag(i) {
        Err(Fail::Error(_)) => return Ok((i, tags)),
        Err(f) => return Err(f),
        Ok((rest, t)) => {
            tags.push(t);
            rest
        }
    };
    loop {
        let Some(after_comma) = i.strip_prefix(',') else {
            return Ok((i, tags));
        };
        match one_tag(after_comma) {
            Err(Fail::Error(_)) => return Ok((i, tags)),
            Err(f) => return Err(f),
            Ok((rest, t)) => {
                tags.push(t);
                i = rest;
            }
        }
    }
}

fn tag_key(input: &str) -> PResult<'_, Cow<'_, str>> {
    let normal = |c: char| !is_whitespace_boundary_char(c) && c != '=' && c != '\\';
    match escape_or_fallback(input, normal, KEY_ESCAPES) {
        Err(Fail::Error(_)) => Err(Fail::Error(LineError::ExpectedTagKey(input.to_string()))),
        other => other,
    }
}

fn tag_value(input: &str) -> PResult<'_, Cow<'_, str>> {
    let normal = |c: char| !is_whitespace_boundary_char(c) && c != ',' && c != '\\';
    match escape_or_fallback(input, normal, KEY_ESCAPES) {
        Err(Fail::Error(_)) => Err(Fail::Error(LineError::ExpectedTagValue(input.to_string()))),
        other => other,
    }
}

fn field_key(i: &str) -> PResult<'_, Cow<'_, str>> {
    let normal = |c: char| !is_whitespace_boundary_char(c) && c != '=' && c != '\\';
    escape_or_fallback(i, normal, KEY_ESCAPES)
}

type Fields<'a> = Vec<(Cow<'a, str>, FieldValue<'a>)>;

/// `separated_pair(field_key, tag("="), field_value)`.
fn one_field(i: &str) -> PResult<'_, (Cow<'_, str>, FieldValue<'_>)> {
    let (i, key) = field_key(i)?;
    let (i, _) = tag(i, "=")?;
    let (i, value) = field_value(i)?;
    Ok((i, (key, value)))
}

/// `parameterized_separated_list1(tag(","), one_field)`, mapped to `No fields were provided`
/// when even the first field is missing. After the first field and its comma, the rest is
/// `parameterized_separated_list` on the input *after* that comma, so when no field follows
/// the first comma it is consumed; a later dangling comma is left as trailing content.
fn field_set(i: &str) -> PResult<'_, Fields<'_>> {
    let (rest, first) = match one_field(i) {
        Err(Fail::Error(_)) => return Err(Fail::Error(LineError::FieldSetMissing)),
        Err(f) => return Err(f),
        Ok(v) => v,
    };
    let mut fields = vec![first];
    let Some(after_first_comma) = rest.strip_prefix(',') else {
        return Ok((rest, fields));
    };
    let mut i = match one_field(after_first_comma) {
        Err(Fail::Error(_)) => return Ok((after_first_comma, fields)),
        Err(f) => return Err(f),
        Ok((rest, field)) => {
            fields.push(field);
            rest
        }
    };
    loop {
        let Some(after_comma) = i.strip_prefix(',') else {
            return Ok((i, fields));
        };
        match one_field(after_comma) {
            Err(Fail::Error(_)) => return Ok((i, fields)),
            Err(f) => return Err(f),
            Ok((rest, field)) => {
                fields.push(field);
                i = rest;
            }
        }
    }
}

/// `alt((integer, unsigned, float, string, boolean))`.
fn field_value(i: &str) -> PResult<'_, FieldValue<'_>> {
    let parsers: [fn(&str) -> PResult<'_, FieldValue<'_>>; 5] = [
        field_integer_value,
        field_uinteger_value,
        field_float_value,
        field_string_value,
        field_bool_value,
    ];
    for p in parsers {
        match p(i) {
            Err(Fail::Error(_)) => continue,
            other => return other,
        }
    }
    Err(Fail::Error(LineError::Generic("Alt")))
}

fn field_integer_value(i: &str) -> PResult<'_, FieldValue<'_>> {
    let (rest, digits) = integral_value_signed(i)?;
    let (rest, _) = tag(rest, "i")?;
    match digits.parse::<i64>() {
        Ok(v) => Ok((rest, FieldValue::I64(v))),
        Err(_) => Err(Fail::Failure(LineError::IntegerValueInvalid(
            digits.to_string(),
        ))),
    }
}

fn field_uinteger_value(i: &str) -> PResult<'_, FieldValue<'_>> {
    let (rest, digits) = digit1(i)?;
    let (rest, _) = tag(rest, "u")?;
    match digits.parse::<u64>() {
        Ok(v) => Ok((rest, FieldValue::U64(v))),
        Err(_) => Err(Fail::Failure(LineError::UIntegerValueInvalid(
            digits.to_string(),
        ))),
    }
}

/// `digit1 (e|E) (-|+)? digit1`.
fn exponential_value(i: &str) -> PResult<'_, &str> {
    let (rest, _) = digit1(i)?;
    let rest = rest
        .strip_prefix('e')
        .or_else(|| rest.strip_prefix('E'))
        .ok_or(Fail::Error(LineError::Generic("Tag")))?;
    let rest = rest
        .strip_prefix('-')
        .or_else(|| rest.strip_prefix('+'))
        .unwrap_or(rest);
    let (rest, _) = digit1(rest)?;
    Ok((rest, &i[..i.len() - rest.len()]))
}

/// The four float forms, tried in the crate's order: `D.DeD`, `DeD`, `D.D`, `D` (each with an
/// optional leading `-`).
fn float_text(i: &str) -> PResult<'_, &str> {
    let recognized = |rest: &str| &i[..i.len() - rest.len()];
    // with exponential and decimal
    if let Ok((rest, _)) = integral_value_signed(i) {
        if let Some(after_dot) = rest.strip_prefix('.') {
            if let Ok((rest, _)) = exponential_value(after_dot) {
                return Ok((rest, recognized(rest)));
            }
        }
    }
    // with exponential, no decimal
    let unsigned = i.strip_prefix('-').unwrap_or(i);
    if let Ok((rest, _)) = exponential_value(unsigned) {
        return Ok((rest, recognized(rest)));
    }
    // with decimal
    if let Ok((rest, _)) = integral_value_signed(i) {
        if let Some(after_dot) = rest.strip_prefix('.') {
            if let Ok((rest, _)) = digit1(after_dot) {
                return Ok((rest, recognized(rest)));
            }
        }
    }
    // no decimal
    integral_value_signed(i)
}

fn field_float_value(i: &str) -> PResult<'_, FieldValue<'_>> {
    let (rest, text) = float_text(i)?;
    // Rust's parser: every recognised form parses; out of range is ±inf.
    match text.parse::<f64>() {
        Ok(v) => Ok((rest, FieldValue::F64(v))),
        Err(_) => Err(Fail::Failure(LineError::FloatValueInvalid(
            text.to_string(),
        ))),
    }
}

/// A double-quoted string: `\"` stands for `"`, `\\` for `\`, any other backslash is itself.
/// Raw newlines are allowed. Longer than [`STRING_LENGTH_LIMIT`] after unescaping fails the line.
fn field_string_value(i: &str) -> PResult<'_, FieldValue<'_>> {
    let quoted = || -> PResult<'_, Pieces<'_>> {
        let (mut rest, _) = tag(i, "\"")?;
        let mut pieces = Pieces::default();
        loop {
            if let Some(r) = rest.strip_prefix("\\\"") {
                pieces.push("\"");
                rest = r;
            } else if let Some(r) = rest.strip_prefix("\\\\") {
                pieces.push("\\");
                rest = r;
            } else if let Some(r) = rest.strip_prefix('\\') {
                pieces.push("\\");
                rest = r;
            } else {
                match take_while1(rest, |c| c != '\\' && c != '"') {
                    Ok((r, run)) => {
                        pieces.push(run);
                        rest = r;
                    }
                    Err(_) => break,
                }
            }
        }
        let (rest, _) = tag(rest, "\"")?;
        Ok((rest, pieces))
    };
    let (rest, pieces) = match quoted() {
        Ok(v) => v,
        Err(Fail::Error(_)) => {
            // `alt`'s second branch: the empty string `""`.
            let (rest, _) = tag(i, "\"\"")?;
            (rest, Pieces::default())
        }
        Err(f) => return Err(f),
    };
    if pieces.len() > STRING_LENGTH_LIMIT {
        return Err(Fail::Failure(LineError::FieldStringValueTooLarge));
    }
    Ok((rest, FieldValue::String(pieces.into_cow())))
}

/// Booleans match as prefixes, in this order.
fn field_bool_value(i: &str) -> PResult<'_, FieldValue<'_>> {
    const SPELLINGS: [(&str, bool); 10] = [
        ("true", true),
        ("True", true),
        ("TRUE", true),
        ("t", true),
        ("T", true),
        ("false", false),
        ("False", false),
        ("FALSE", false),
        ("f", false),
        ("F", false),
    ];
    for (spelling, value) in SPELLINGS {
        if let Some(rest) = i.strip_prefix(spelling) {
            return Ok((rest, FieldValue::Boolean(value)));
        }
    }
    Err(Fail::Error(LineError::Generic("Tag")))
}

fn timestamp(i: &str) -> PResult<'_, i64> {
    let (rest, digits) = integral_value_signed(i)?;
    match digits.parse::<i64>() {
        Ok(v) => Ok((rest, v)),
        Err(_) => Err(Fail::Failure(LineError::TimestampValueInvalid(
            digits.to_string(),
        ))),
    }
}

/// One or more spaces (a tab is not a separator).
fn whitespace(input: &str) -> PResult<'_, &str> {
    take_while1(input, |c| c == ' ')
        .map_err(|_| Fail::Error(LineError::ExpectedSpace(input.to_string())))
}
