//! A port of `lineprotocol.Decoder` (influxdata/line-protocol v2, `lineprotocol/decoder.go`)
//! over a complete body (`NewDecoderWithBytes`), method for method, so that recovery after
//! errors, line/column arithmetic and the message texts come out as Go's do.
//!
//! Offsets follow Go: `r0` is where the current entry started (set by `reset`, which
//! `Measurement` calls after the leading spaces were skipped), `r1` the read position; error
//! offsets are relative to `r0`. Unlike Go this never needs to slide or grow a buffer, and it
//! always unescapes (Go's `skipping` mode only changes values that are thrown away).

use std::borrow::Cow;

use super::strconv::{parse_float, parse_int, parse_uint, NumError};
use super::token_sets::{next_stop, KeyChars, MeasurementChars, StringChars, TokenSet};
use crate::line_protocol::{FieldValue, Precision};
use crate::model::go_text::{quote, quote_rune};

/// `DecodeError` without the `at line` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DecodeError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

type Res<T> = Result<T, DecodeError>;
/// An unescaped token, borrowed from the body unless unescaping changed it.
type Bytes<'a> = Cow<'a, [u8]>;

/// The decoder's `section`, in entry order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Section {
    Measurement,
    Tag,
    Field,
    Time,
    /// Error recovery: the rest of the physical line is discarded.
    Newline,
    End,
}

// Byte sets (`decoder.go` var block); those `takeEsc` runs over are in `token_sets.rs`.
pub(super) const fn non_printable(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}
pub(super) const fn whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\r' | b'\n')
}
fn field_val_char(c: u8) -> bool {
    !(c == b',' || whitespace(c))
}
fn time_char(c: u8) -> bool {
    c == b'-' || c.is_ascii_digit()
}
fn comment_char(c: u8) -> bool {
    !non_printable(c)
}
fn not_eol(c: u8) -> bool {
    !matches!(c, b'\r' | b'\n')
}
fn not_newline(c: u8) -> bool {
    c != b'\n'
}

// Escape tables (`newEscaper(...).revTable`): escaped byte -> unescaped byte.
fn measurement_escape(c: u8) -> Option<u8> {
    matches!(c, b' ' | b',').then_some(c)
}
/// `tagKeyEscapes` (also used for field keys) and `tagValEscapes`: `,`, `=` and space.
fn key_escape(c: u8) -> Option<u8> {
    matches!(c, b',' | b'=' | b' ').then_some(c)
}
/// `fieldStringValEscapes`: `\\`, `\"`, `\n`, `\r`, `\t`.
fn string_escape(c: u8) -> Option<u8> {
    match c {
        b'\\' | b'"' => Some(c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        _ => None,
    }
}

/// `ValueKind` of a field value as `NextFieldBytes` classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    String,
    Bool,
    Int,
    Uint,
    Float,
}

pub(super) struct Decoder<'a> {
    pub buf: &'a [u8],
    pub r0: usize,
    pub r1: usize,
    pub section: Section,
    /// Line number of the byte at `r1` (1-based).
    pub line: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            r0: 0,
            r1: 0,
            section: Section::End,
            line: 1,
        }
    }

    fn ensure(&self, n: usize) -> bool {
        self.r1 + n <= self.buf.len()
    }

    fn at(&self, i: usize) -> u8 {
        self.buf.get(self.r1 + i).copied().unwrap_or(0)
    }

    fn advance(&mut self, n: usize) {
        self.r1 += n;
    }

    fn reset(&mut self) {
        self.r0 = self.r1;
    }

    /// The bytes of the current entry read so far.
    pub fn entry_so_far(&self) -> &'a [u8] {
        self.buf.get(self.r0..self.r1).unwrap_or_default()
    }

    fn offset(&self) -> usize {
        self.r1 - self.r0
    }

    /// `Next`: finishes the current entry (recovering from an error by skipping the rest of its
    /// line), skips blank and comment lines and reports whether another entry starts.
    pub fn next(&mut self) -> bool {
        if self.advance_to_section(Section::End).is_err() {
            let _ = self.advance_to_section(Section::End);
        }
        self.skip_empty_lines();
        self.section = Section::Measurement;
        self.ensure(1)
    }

    /// The first step of `Next` on its own: after an error, skip the rest of the line (a no-op
    /// when the entry already ended), so that `r1` shows where the failed entry stops.
    pub fn recover(&mut self) {
        if self.advance_to_section(Section::End).is_err() {
            let _ = self.advance_to_section(Section::End);
        }
    }

    /// `Measurement`.
    pub fn measurement(&mut self) -> Res<Option<Cow<'a, [u8]>>> {
        if !self.advance_to_section(Section::Measurement)? {
            return Ok(None);
        }
        self.reset();
        let (measure, i0) = self.take_esc::<MeasurementChars>(measurement_escape)?;
        if measure.is_empty() {
            if !self.ensure(1) {
                return Err(self.syntax_error(i0, "no measurement name found".into()));
            }
            let msg = format!(
                "invalid character {} found at start of measurement name",
                quote_rune(char::from(self.at(0)))
            );
            return Err(self.syntax_error(i0, msg));
        }
        if measure[0] == b'#' {
            // A comment line holding a non-printable byte: skip_empty_lines rewound to it.
            return Err(self.syntax_error(i0, "invalid character found in comment line".into()));
        }
        self.advance_tag_comma()?;
        self.section = Section::Tag;
        Ok(Some(measure))
    }

    /// `NextTag`: `Ok(None)` when there are no more tags.
    pub fn next_tag(&mut self) -> Res<Option<(Bytes<'a>, Bytes<'a>)>> {
        if !self.advance_to_section(Section::Tag)? {
            return Ok(None);
        }
        if self.ensure(1) && self.at(0) == b' ' {
            self.discardc(b' ');
            self.section = Section::Field;
            return Ok(None);
        }
        let (key, i0) = self.take_esc::<KeyChars>(key_escape)?;
        if key.is_empty() || !self.ensure(1) || self.at(0) != b'=' {
            let has_key = !key.is_empty();
            let eof = !self.ensure(1);
            let has_equals = !eof && self.at(0) == b'=';
            let msg = if eof && !has_key {
                "expected tag key or field but found end of input instead".to_string()
            } else if eof {
                format!(
                    "expected '=' after tag key {}, but got end of input instead",
                    quote(&key)
                )
            } else if has_key {
                format!(
                    "expected '=' after tag key {}, but got {} instead",
                    quote(&key),
                    quote_rune(char::from(self.at(0)))
                )
            } else if has_equals {
                "empty tag key".to_string()
            } else {
                format!(
                    "expected tag key or field but found {} instead",
                    quote_rune(char::from(self.at(0)))
                )
            };
            return Err(self.syntax_error(i0, msg));
        }
        self.advance(1);
        let (value, i0) = self.take_esc::<KeyChars>(key_escape)?;
        if value.is_empty() {
            let msg = format!(
                "expected tag value after tag key {}, but none found",
                quote(&key)
            );
            return Err(self.syntax_error(i0, msg));
        }
        if !self.ensure(1) {
            // End of input right after a tag value: the missing fields are reported by
            // NextField.
            self.section = Section::Field;
            return Ok(Some((key, value)));
        }
        self.advance_tag_comma()?;
        Ok(Some((key, value)))
    }

    /// `advanceTagComma`: a comma after the measurement or a tag value must be followed by a
    /// tag key, not white space or the end of input.
    fn advance_tag_comma(&mut self) -> Res<()> {
        if !self.ensure(1) || self.at(0) != b',' {
            return Ok(());
        }
        self.advance(1);
        if !self.ensure(1) {
            let at = self.offset();
            return Err(
                self.syntax_error(at, "expected tag key after comma; got end of input".into())
            );
        }
        if whitespace(self.at(0)) {
            let at = self.offset();
            return Err(self.syntax_error(
                at,
                "expected tag key after comma; got white space instead".into(),
            ));
        }
        Ok(())
    }

    /// `NextFieldBytes`: key, kind and the value's bytes (strings unescaped, numbers without
    /// their `i`/`u` suffix).
    pub fn next_field_bytes(&mut self) -> Res<Option<(Bytes<'a>, Kind, Bytes<'a>)>> {
        if !self.advance_to_section(Section::Field)? {
            return Ok(None);
        }
        let (key, i0) = self.take_esc::<KeyChars>(key_escape)?;
        if key.is_empty() {
            if !self.ensure(1) {
                return Err(self.syntax_error(i0, "expected field key but none found".into()));
            }
            let msg = format!(
                "invalid character {} found at start of field key",
                quote_rune(char::from(self.at(0)))
            );
            return Err(self.syntax_error(i0, msg));
        }
        if !self.ensure(1) {
            let at = self.offset();
            let msg = format!(
                "want '=' after field key {}, found end of input",
                quote(&key)
            );
            return Err(self.syntax_error(at, msg));
        }
        let nextc = self.at(0);
        if nextc != b'=' {
            let at = self.offset();
            let msg = format!(
                "want '=' after field key {}, found {}",
                quote(&key),
                quote_rune(char::from(nextc))
            );
            return Err(self.syntax_error(at, msg));
        }
        self.advance(1);
        if !self.ensure(1) {
            let at = self.offset();
            let msg = format!(
                "expected value for field {}, found end of input",
                quote(&key)
            );
            return Err(self.syntax_error(at, msg));
        }
        let (value, kind): (Cow<'a, [u8]>, Kind) = match self.at(0) {
            b'"' => {
                self.advance(1);
                let (value, i0) = self.take_esc::<StringChars>(string_escape)?;
                if !self.ensure(1) {
                    let msg = format!(
                        "expected closing quote for string field {}, found end of input",
                        quote(&key)
                    );
                    return Err(self.syntax_error(i0 - 1, msg));
                }
                // Every byte but '"' belongs to a string, so the quote is here.
                self.advance(1);
                (value, Kind::String)
            }
            b't' | b'T' | b'f' | b'F' => (Cow::Borrowed(self.take(field_val_char)), Kind::Bool),
            b'-' | b'0'..=b'9' | b'.' => {
                let value = self.take(field_val_char);
                match value.last() {
                    Some(b'i') => (Cow::Borrowed(&value[..value.len() - 1]), Kind::Int),
                    Some(b'u') => (Cow::Borrowed(&value[..value.len() - 1]), Kind::Uint),
                    _ => (Cow::Borrowed(value), Kind::Float),
                }
            }
            b' ' | b',' => {
                let at = self.offset();
                let msg = format!("missing field value for field {}", quote(&key));
                return Err(self.syntax_error(at, msg));
            }
            _ => {
                let start = self.offset();
                let value = self.take(field_val_char);
                let msg = format!(
                    "value for field {} ({}) has unrecognized type",
                    quote(&key),
                    quote(value)
                );
                return Err(self.syntax_error(start, msg));
            }
        };
        if !self.ensure(1) {
            self.section = Section::End;
            return Ok(Some((key, kind, value)));
        }
        let nextc = self.at(0);
        if nextc == b',' {
            self.advance(1);
            return Ok(Some((key, kind, value)));
        }
        if !whitespace(nextc) {
            let at = self.offset();
            let msg = format!(
                "unexpected character {} after field {}",
                quote_rune(char::from(nextc)),
                quote(&key)
            );
            return Err(self.syntax_error(at, msg));
        }
        self.discardc(b' ');
        if self.take_eol() {
            self.section = Section::End;
            return Ok(Some((key, kind, value)));
        }
        self.section = Section::Time;
        Ok(Some((key, kind, value)))
    }

    /// `NextField`: `NextFieldBytes` plus the value's conversion; a conversion error points at
    /// the first byte of the value.
    pub fn next_field(&mut self) -> Res<Option<(Cow<'a, [u8]>, FieldValue<'a>)>> {
        if !self.advance_to_section(Section::Field)? {
            return Ok(None);
        }
        let start_index = self.offset();
        let Some((key, kind, data)) = self.next_field_bytes()? else {
            return Ok(None);
        };
        match new_value(kind, data) {
            Ok(v) => Ok(Some((key, v))),
            Err(err) => {
                // Go: startIndex + tagKeyEscapes.escapedLen(key) + len("=").
                let esc_len = key.len() + key.iter().filter(|&&b| key_escape(b).is_some()).count();
                let msg = format!("cannot parse value for field key {}: {}", quote(&key), err);
                Err(self.syntax_error(start_index + esc_len + 1, msg))
            }
        }
    }

    /// `takeEOL`: consumes `\n`, `\r\n`, or a `\r` at the end of input.
    fn take_eol(&mut self) -> bool {
        if !self.ensure(1) {
            return true;
        }
        match self.at(0) {
            b'\n' => {
                self.advance(1);
                self.line += 1;
                true
            }
            b'\r' => {
                if !self.ensure(2) {
                    self.advance(1);
                    return true;
                }
                if self.at(1) == b'\n' {
                    self.advance(2);
                    self.line += 1;
                    return true;
                }
                false
            }
            _ => false,
        }
    }

    /// `TimeBytes`.
    fn time_bytes(&mut self) -> Res<Option<&'a [u8]>> {
        if !self.advance_to_section(Section::Time)? {
            return Ok(None);
        }
        let start = self.offset();
        let taken = self.take(time_char);
        let time = if taken.is_empty() {
            self.section = Section::End;
            None
        } else {
            Some(taken)
        };
        if !self.ensure(1) {
            self.section = Section::End;
            return Ok(time);
        }
        if !whitespace(self.at(0)) {
            // Absorb the rest of the line so that the message shows it.
            self.take(not_eol);
            let msg = format!(
                "invalid timestamp ({})",
                quote(&self.buf[self.r0 + start..self.r1])
            );
            return Err(self.syntax_error(start, msg));
        }
        self.discardc(b' ');
        if !self.ensure(1) {
            self.section = Section::End;
            return Ok(time);
        }
        if !self.take_eol() {
            let start = self.offset();
            let extra = self.take(not_eol);
            let msg = format!("unexpected text after timestamp ({})", quote(extra));
            return Err(self.syntax_error(start, msg));
        }
        self.section = Section::End;
        Ok(time)
    }

    /// `Time`: the timestamp in nanoseconds, `None` when the entry has none.
    pub fn time(&mut self, precision: Precision) -> Res<Option<i64>> {
        if !self.advance_to_section(Section::Time)? {
            return Ok(None);
        }
        let start = self.offset();
        let Some(data) = self.time_bytes()? else {
            return Ok(None);
        };
        let ts = match parse_int(data) {
            Ok(ts) => ts,
            Err(e) => {
                let msg = format!(
                    "invalid timestamp ({}): {}",
                    quote(data),
                    match e {
                        NumError::Range => OUT_OF_RANGE,
                        NumError::Syntax => "invalid syntax",
                    }
                );
                return Err(self.syntax_error(start, msg));
            }
        };
        match ts.checked_mul(precision.multiplier()) {
            Some(ns) => Ok(Some(ns)),
            None => {
                let msg = format!("invalid timestamp ({}): {}", quote(data), OUT_OF_RANGE);
                Err(self.syntax_error(start, msg))
            }
        }
    }

    /// `consumeLine`: error recovery up to and including the next `\n`.
    fn consume_line(&mut self) {
        self.take(not_newline);
        if self.at(0) == b'\n' {
            self.advance(1);
            self.line += 1;
        }
        self.reset();
        self.section = Section::End;
    }

    /// `skipEmptyLines`: spaces, `\n`, `\r\n` and comment lines. A comment holding a
    /// non-printable byte is rewound to (including its leading spaces) so that `Measurement`
    /// reports it; a lone `\r` is left for `Measurement` too.
    fn skip_empty_lines(&mut self) {
        loop {
            let start_line = self.r1;
            self.discardc(b' ');
            match self.at(0) {
                b'#' => {
                    self.take(comment_char);
                    if !self.take_eol() {
                        self.r1 = start_line;
                        return;
                    }
                }
                b'\n' => {
                    self.line += 1;
                    self.advance(1);
                }
                b'\r' => {
                    if !self.take_eol() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// `advanceToSection`: consumes sections up to `section`; reports whether the decoder is
    /// now at it (false when it is already past it).
    fn advance_to_section(&mut self, section: Section) -> Res<bool> {
        if self.section == section {
            return Ok(true);
        }
        if self.section > section {
            return Ok(false);
        }
        while self.section < section {
            self.consume_section()?;
        }
        Ok(self.section == section)
    }

    fn consume_section(&mut self) -> Res<()> {
        match self.section {
            Section::Measurement => self.measurement().map(drop),
            Section::Tag => {
                while self.next_tag()?.is_some() {}
                Ok(())
            }
            Section::Field => {
                while self.next_field_bytes()?.is_some() {}
                Ok(())
            }
            Section::Time => self.time_bytes().map(drop),
            Section::Newline => {
                self.consume_line();
                Ok(())
            }
            Section::End => Ok(()),
        }
    }

    /// `take`: the bytes of `set` from the read position on.
    fn take(&mut self, set: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.r1;
        let buf = self.buf;
        let n = buf[start..]
            .iter()
            .position(|&c| !set(c))
            .unwrap_or(buf.len() - start);
        self.r1 += n;
        &buf[start..self.r1]
    }

    /// `discardc`.
    fn discardc(&mut self, c: u8) {
        while self.r1 < self.buf.len() && self.buf[self.r1] == c {
            self.r1 += 1;
        }
    }

    /// `takeEsc`: like `take`, but a backslash followed by a byte of `escape` stands for that
    /// byte (which need not be in `set`), and any other backslash is kept and never ends the
    /// token. Returns the unescaped token and its start offset; invalid UTF-8 in the token is
    /// an error at its start.
    ///
    /// Generic over the sets (not `fn` pointers) so each call site gets its own copy with the
    /// byte test inlined: this loop is most of the decoder's time.
    fn take_esc<S: TokenSet>(
        &mut self,
        escape: impl Fn(u8) -> Option<u8>,
    ) -> Res<(Cow<'a, [u8]>, usize)> {
        let start = self.offset();
        let buf = self.buf;
        let begin = self.r1;
        let mut i = begin;
        let mut unescaped: Option<Vec<u8>> = None;
        let mut segment = begin;
        loop {
            // Plain bytes are skipped sixteen at a time; `i` is now at a backslash, at a byte
            // outside the set, or at the end.
            i = next_stop::<S>(buf, i);
            if buf.get(i) != Some(&b'\\') {
                break;
            }
            let Some(&next) = buf.get(i + 1) else {
                // A backslash at the end of input stays.
                i = buf.len();
                break;
            };
            match escape(next) {
                None => i += 1,
                Some(replacement) => {
                    let out = unescaped.get_or_insert_with(|| Vec::with_capacity(i - begin + 16));
                    out.extend_from_slice(&buf[segment..i]);
                    out.push(replacement);
                    i += 2;
                    segment = i;
                }
            }
        }
        self.r1 = i;
        let raw = &buf[begin..i];
        if S::contains(b'\n') {
            self.line += raw.iter().filter(|&&b| b == b'\n').count();
        }
        let token = match unescaped {
            Some(mut out) => {
                out.extend_from_slice(&buf[segment..i]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(raw),
        };
        // Escapes stand for ASCII bytes, so the token holds a byte of 0x80 or above exactly
        // when the raw bytes do.
        if !raw.is_ascii() && std::str::from_utf8(&token).is_err() {
            let msg = format!("invalid utf-8 sequence in token {}", quote(&token));
            return Err(self.syntax_error(start, msg));
        }
        Ok((token, start))
    }

    /// `syntaxErrorf`: line and 1-based byte column of `offset` (relative to `r0`), and the
    /// switch to error recovery unless the entry already ended.
    fn syntax_error(&mut self, offset: usize, message: String) -> DecodeError {
        let at = (self.r0 + offset).min(self.buf.len());
        let before = &self.buf[self.r0..at];
        let column = match memchr::memrchr(b'\n', before) {
            Some(i) => before.len() - i - 1,
            None => before.len(),
        } + 1;
        let remain = &self.buf[at..self.r1.max(at)];
        let line = self
            .line
            .saturating_sub(remain.iter().filter(|&&b| b == b'\n').count());
        if self.section != Section::End {
            self.section = Section::Newline;
        }
        DecodeError {
            line,
            column,
            message,
        }
    }
}

const OUT_OF_RANGE: &str = "line-protocol value out of range";

/// `newValueFromBytes(kind, data, false)`; the error is the text wrapped by `NextField`.
fn new_value(kind: Kind, data: Cow<'_, [u8]>) -> Result<FieldValue<'_>, String> {
    match kind {
        Kind::String => Ok(FieldValue::String(data)),
        Kind::Int => parse_int(&data)
            .map(FieldValue::Integer)
            .map_err(|e| match e {
                NumError::Range => OUT_OF_RANGE.to_string(),
                NumError::Syntax => "invalid integer value syntax".to_string(),
            }),
        Kind::Uint => parse_uint(&data)
            .map(FieldValue::Unsigned)
            .map_err(|e| match e {
                NumError::Range => OUT_OF_RANGE.to_string(),
                NumError::Syntax => "invalid unsigned integer value syntax".to_string(),
            }),
        Kind::Float => match parse_float(&data) {
            Ok(f) if f.is_finite() => Ok(FieldValue::Float(f)),
            Ok(_) => Err(format!(
                "non-number {} cannot be represented as a line-protocol field value",
                quote(&data)
            )),
            Err(NumError::Range) => Err(OUT_OF_RANGE.to_string()),
            Err(NumError::Syntax) => Err("invalid float value syntax".to_string()),
        },
        Kind::Bool => match &*data {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => Ok(FieldValue::Boolean(true)),
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => Ok(FieldValue::Boolean(false)),
            other => Err(format!("invalid bool value {}", quote(other))),
        },
    }
}
