//! JSON read the way Go's `encoding/json` reads it, so request bodies fail with the same
//! texts InfluxDB answers with: the scanner's syntax errors (`invalid character 'x' after
//! object key`), `json.Decoder`'s `EOF` / `unexpected EOF`, `json.Unmarshal`'s
//! `unexpected end of JSON input`, and `UnmarshalTypeError` texts for typed fields.
//!
//! Strings are decoded as Go decodes them: invalid UTF-8 and lone surrogates become U+FFFD.

/// A parsed JSON value. Objects keep their keys in order, duplicates included (Go assigns each
/// in turn, so the last one wins).
// No `Clone`: a derived clone recurses once per nesting level (see the `Drop` below).
#[derive(Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The literal text of the number.
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Dropping a deeply nested value would recurse once per level; children are moved onto a
/// heap stack instead, so a value as deep as [`MAX_NESTING_DEPTH`] drops in constant stack.
impl Drop for Value {
    fn drop(&mut self) {
        let mut pending: Vec<Value> = match self {
            Self::Array(items) if !items.is_empty() => std::mem::take(items),
            Self::Object(pairs) if !pairs.is_empty() => {
                std::mem::take(pairs).into_iter().map(|(_, v)| v).collect()
            }
            _ => return,
        };
        while let Some(mut v) = pending.pop() {
            match &mut v {
                Self::Array(items) => pending.append(items),
                Self::Object(pairs) => {
                    pending.extend(std::mem::take(pairs).into_iter().map(|(_, v)| v))
                }
                _ => {}
            }
        }
    }
}

impl Value {
    /// The word Go's `UnmarshalTypeError` uses for this value (`number 1.5` for a number that
    /// does not fit an integer is built by the caller).
    pub fn kind_word(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "bool",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }

    /// The value of `key` in an object as Go assigns struct fields: every key that names the
    /// field (exactly or case-insensitively) is assigned in turn, so the last one wins.
    pub fn field(&self, key: &str) -> Option<&Value> {
        let Self::Object(pairs) = self else {
            return None;
        };
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key || fold_eq(k, key))
            .map(|(_, v)| v)
    }

    /// The first key (in document order) naming `key`, for type-error reporting order.
    pub fn field_keys<'a>(
        &'a self,
        keys: &'a [&'a str],
    ) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        let pairs: &[(String, Value)] = match self {
            Self::Object(p) => p,
            _ => &[],
        };
        pairs.iter().filter_map(move |(k, v)| {
            keys.iter()
                .find(|want| k == *want || fold_eq(k, want))
                .map(|want| (*want, v))
        })
    }
}

/// How deep serde_json nests before it refuses a value: [`Value::to_serde`] goes no deeper.
pub const SERDE_MAX_DEPTH: usize = 128;

impl Value {
    /// Whether the value nests deeper than `limit` arrays and objects (checked without
    /// recursion: a value may nest to the parser's own limit).
    pub fn deeper_than(&self, limit: usize) -> bool {
        let mut stack: Vec<(&Value, usize)> = vec![(self, 0)];
        while let Some((v, depth)) = stack.pop() {
            match v {
                Self::Array(_) | Self::Object(_) if depth + 1 > limit => return true,
                Self::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
                Self::Object(pairs) => stack.extend(pairs.iter().map(|(_, c)| (c, depth + 1))),
                _ => {}
            }
        }
        false
    }

    /// This value as a `serde_json::Value`, for a value no deeper than [`SERDE_MAX_DEPTH`]
    /// (the caller checks with [`Self::deeper_than`]; deeper parts become `null`). Objects
    /// whose keys are struct fields to Go (`fold` levels down from here) keep one key per
    /// field, the last one written under any case (Go assigns each in turn); the others keep
    /// their keys as written, the last duplicate winning. A number serde cannot hold (an
    /// exponent past f64's range) becomes 0: only its kind is ever looked at then.
    pub fn to_serde(&self, fold: usize) -> serde_json::Value {
        self.to_serde_at(fold, 0)
    }

    fn to_serde_at(&self, fold: usize, depth: usize) -> serde_json::Value {
        use serde_json::Value as J;
        if depth > SERDE_MAX_DEPTH {
            return J::Null;
        }
        match self {
            Self::Null => J::Null,
            Self::Bool(b) => J::Bool(*b),
            Self::Number(n) => J::Number(
                n.parse::<serde_json::Number>()
                    .unwrap_or_else(|_| serde_json::Number::from(0)),
            ),
            Self::String(s) => J::String(s.clone()),
            Self::Array(items) => J::Array(
                items
                    .iter()
                    .map(|v| v.to_serde_at(fold.saturating_sub(1), depth + 1))
                    .collect(),
            ),
            Self::Object(pairs) => {
                let mut map = serde_json::Map::new();
                let convert = |v: &Value| v.to_serde_at(fold.saturating_sub(1), depth + 1);
                if fold > 0 {
                    // The last key of each folded name, found from the end (one pass: an
                    // object may hold very many keys).
                    let mut seen = std::collections::HashSet::new();
                    let last: Vec<&(String, Value)> = pairs
                        .iter()
                        .rev()
                        .filter(|(k, _)| seen.insert(fold_key(k)))
                        .collect();
                    for (k, v) in last.into_iter().rev() {
                        map.insert(k.clone(), convert(v));
                    }
                } else {
                    for (k, v) in pairs {
                        map.insert(k.clone(), convert(v));
                    }
                }
                J::Object(map)
            }
        }
    }
}

/// Go's case-insensitive field-name match (ASCII folding, plus the two non-ASCII runes that
/// fold to ASCII letters: U+017F long s and U+212A Kelvin sign).
fn fold_eq(a: &str, b: &str) -> bool {
    a.chars().map(fold_char).eq(b.chars().map(fold_char))
}

fn fold_char(c: char) -> char {
    match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// A key as [`fold_eq`] compares it.
fn fold_key(k: &str) -> String {
    k.chars().map(fold_char).collect()
}

/// Why a body did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// `json.Decoder.Decode` on a body with no value at all.
    Eof,
    /// The body ended inside a value: `unexpected EOF` from a decoder,
    /// `unexpected end of JSON input` from `json.Unmarshal`.
    UnexpectedEof,
    /// The body ended where Go's scanner still wanted a byte of a literal, a number or an
    /// escape. A decoder says `unexpected EOF`; `json.Unmarshal` steps its scanner with a
    /// space at the end (`scanner.eof`), and this is what the scanner says about the space:
    /// `invalid character ' ' in literal true (expecting 'r')`.
    UnexpectedEofIn(String),
    /// A scanner error: `invalid character ...`.
    Syntax(String),
}

impl JsonError {
    /// The text `json.NewDecoder(r).Decode(v)` gives.
    pub fn decoder_message(&self) -> String {
        match self {
            Self::Eof => "EOF".into(),
            Self::UnexpectedEof | Self::UnexpectedEofIn(_) => "unexpected EOF".into(),
            Self::Syntax(m) => m.clone(),
        }
    }

    /// The text `json.Unmarshal(b, v)` gives.
    pub fn unmarshal_message(&self) -> String {
        match self {
            Self::Eof | Self::UnexpectedEof => "unexpected end of JSON input".into(),
            Self::UnexpectedEofIn(m) | Self::Syntax(m) => m.clone(),
        }
    }
}

/// What `json.NewDecoder(body).Decode(v)` reads: the first value; bytes after it are not
/// looked at.
pub fn decode_first(input: &[u8]) -> Result<Value, JsonError> {
    let mut p = Parser { b: input, i: 0 };
    p.skip_ws();
    if p.i >= p.b.len() {
        return Err(JsonError::Eof);
    }
    p.value()
}

/// What `json.Unmarshal(body, v)` reads: exactly one value, surrounded by whitespace only.
pub fn unmarshal(input: &[u8]) -> Result<Value, JsonError> {
    let mut p = Parser { b: input, i: 0 };
    p.skip_ws();
    if p.i >= p.b.len() {
        return Err(JsonError::UnexpectedEof);
    }
    let v = p.value()?;
    p.skip_ws();
    if let Some(&c) = p.b.get(p.i) {
        return Err(syntax(c, "after top-level value"));
    }
    Ok(v)
}

/// `json: cannot unmarshal <what> into Go struct field <Struct>.<path> of type <type>`.
pub fn struct_field_type_error(what: &str, go_struct: &str, path: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {what} into Go struct field {go_struct}.{path} of type {go_type}"
    )
}

/// `json: cannot unmarshal <what> into Go value of type <type>`.
pub fn value_type_error(what: &str, go_type: &str) -> String {
    format!("json: cannot unmarshal {what} into Go value of type {go_type}")
}

/// What a JSON value gives when decoded into a Go `string` field: `Ok(None)` for null (the
/// field keeps its value), the type-error word otherwise.
pub fn as_go_string(v: &Value) -> Result<Option<&str>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(other.kind_word().to_string()),
    }
}

/// A JSON value decoded into a Go `int64` (or `int`): null keeps the field, a number must be
/// an integer literal in range (else `number <lit>`).
pub fn as_go_int64(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("number {n}")),
        other => Err(other.kind_word().to_string()),
    }
}

/// A JSON value decoded into a Go `bool`.
pub fn as_go_bool(v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(other.kind_word().to_string()),
    }
}

fn syntax(c: u8, context: &str) -> JsonError {
    JsonError::Syntax(format!("invalid character {} {context}", quote_char(c)))
}

use super::go_text::json_quote_char as quote_char;

/// `encoding/json`'s `maxNestingDepth`: the scanner refuses a value nested deeper than this
/// with `invalid character '[' exceeded max depth` (`scanner.go`, `pushParseState`).
pub const MAX_NESTING_DEPTH: usize = 10_000;

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

/// An array or object being read: the values so far, and for an object the key whose value
/// comes next.
enum Open {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>, String),
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next_or_eof(&mut self) -> Result<u8, JsonError> {
        let c = self.peek().ok_or(JsonError::UnexpectedEof)?;
        self.i += 1;
        Ok(c)
    }

    /// [`Self::next_or_eof`] inside a literal, a number or an escape, where the scanner
    /// refuses the space `json.Unmarshal` ends with: `invalid character ' ' <context>`.
    fn next_in(&mut self, context: &str) -> Result<u8, JsonError> {
        let c = self.peek().ok_or_else(|| {
            JsonError::UnexpectedEofIn(format!("invalid character ' ' {context}"))
        })?;
        self.i += 1;
        Ok(c)
    }

    /// One value, read with an explicit stack of open arrays and objects (no recursion, so
    /// no input can exhaust the thread's stack), refused past Go's nesting depth.
    fn value(&mut self) -> Result<Value, JsonError> {
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // Read the start of a value: a scalar completes at once; `[` or `{` opens.
            self.skip_ws();
            let c = self.next_or_eof()?;
            let mut done = match c {
                b'{' | b'[' => {
                    if stack.len() + 1 > MAX_NESTING_DEPTH {
                        return Err(syntax(c, "exceeded max depth"));
                    }
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                        Some(if c == b'{' {
                            Value::Object(Vec::new())
                        } else {
                            Value::Array(Vec::new())
                        })
                    } else if c == b'[' {
                        stack.push(Open::Array(Vec::new()));
                        None
                    } else {
                        let key = self.object_key()?;
                        stack.push(Open::Object(Vec::new(), key));
                        None
                    }
                }
                b'"' => Some(Value::String(self.string()?)),
                b't' => Some(self.literal(b"rue", "true").map(|_| Value::Bool(true))?),
                b'f' => Some(self.literal(b"alse", "false").map(|_| Value::Bool(false))?),
                b'n' => Some(self.literal(b"ull", "null").map(|_| Value::Null)?),
                b'-' | b'0'..=b'9' => Some(self.number(c)?),
                c => return Err(syntax(c, "looking for beginning of value")),
            };
            // Hand completed values to their containers; a container closes when its
            // closing bracket follows.
            while let Some(v) = done.take() {
                let Some(top) = stack.last_mut() else {
                    return Ok(v);
                };
                self.skip_ws();
                let c = self.next_or_eof()?;
                match top {
                    Open::Array(items) => {
                        items.push(v);
                        match c {
                            b',' => {}
                            b']' => {
                                if let Some(Open::Array(items)) = stack.pop() {
                                    done = Some(Value::Array(items));
                                }
                            }
                            c => return Err(syntax(c, "after array element")),
                        }
                    }
                    Open::Object(pairs, key) => {
                        pairs.push((std::mem::take(key), v));
                        match c {
                            b',' => {
                                self.skip_ws();
                                *key = self.object_key()?;
                            }
                            b'}' => {
                                if let Some(Open::Object(pairs, _)) = stack.pop() {
                                    done = Some(Value::Object(pairs));
                                }
                            }
                            c => return Err(syntax(c, "after object key:value pair")),
                        }
                    }
                }
            }
        }
    }

    /// `"key":` with the position on the opening quote (whitespace already skipped).
    fn object_key(&mut self) -> Result<String, JsonError> {
        let c = self.next_or_eof()?;
        if c != b'"' {
            return Err(syntax(c, "looking for beginning of object key string"));
        }
        let key = self.string()?;
        self.skip_ws();
        let c = self.next_or_eof()?;
        if c != b':' {
            return Err(syntax(c, "after object key"));
        }
        Ok(key)
    }

    fn literal(&mut self, rest: &[u8], name: &str) -> Result<(), JsonError> {
        for &want in rest {
            let context = || format!("in literal {name} (expecting {})", quote_char(want));
            let Some(c) = self.peek() else {
                return Err(JsonError::UnexpectedEofIn(format!(
                    "invalid character ' ' {}",
                    context()
                )));
            };
            self.i += 1;
            if c != want {
                return Err(syntax(c, &context()));
            }
        }
        Ok(())
    }

    fn number(&mut self, first: u8) -> Result<Value, JsonError> {
        let start = self.i - 1;
        let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
        if first == b'-' {
            let c = self.next_in("in numeric literal")?;
            if !c.is_ascii_digit() {
                return Err(syntax(c, "in numeric literal"));
            }
            if c != b'0' {
                while digit(self.peek()) {
                    self.i += 1;
                }
            }
        } else if first != b'0' {
            while digit(self.peek()) {
                self.i += 1;
            }
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            let c = self.next_in("after decimal point in numeric literal")?;
            if !c.is_ascii_digit() {
                return Err(syntax(c, "after decimal point in numeric literal"));
            }
            while digit(self.peek()) {
                self.i += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            let mut c = self.next_in("in exponent of numeric literal")?;
            if c == b'+' || c == b'-' {
                c = self.next_in("in exponent of numeric literal")?;
            }
            if !c.is_ascii_digit() {
                return Err(syntax(c, "in exponent of numeric literal"));
            }
            while digit(self.peek()) {
                self.i += 1;
            }
        }
        let text = String::from_utf8_lossy(&self.b[start..self.i]).into_owned();
        Ok(Value::Number(text))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.next_or_eof()?;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.next_in("in string escape code")?;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xd800..0xdc00).contains(&hi)
                                && self.b.get(self.i) == Some(&b'\\')
                                && self.b.get(self.i + 1) == Some(&b'u')
                            {
                                // A pair is decoded only when both halves are valid.
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                                } else {
                                    self.i = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            let ch = ch.unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        e => return Err(syntax(e, "in string escape code")),
                    }
                }
                c if c < 0x20 => return Err(syntax(c, "in string literal")),
                c => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0;
        for _ in 0..4 {
            let c = self.next_in("in \\u hexadecimal character escape")?;
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| syntax(c, "in \\u hexadecimal character escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_inside_a_token_is_what_the_scanner_says_of_a_space() {
        for (body, unmarshal_says) in [
            (
                "fal",
                "invalid character ' ' in literal false (expecting 's')",
            ),
            (
                "[nu",
                "invalid character ' ' in literal null (expecting 'l')",
            ),
            ("-", "invalid character ' ' in numeric literal"),
            (
                "0.",
                "invalid character ' ' after decimal point in numeric literal",
            ),
            ("1e", "invalid character ' ' in exponent of numeric literal"),
            (
                "1E+",
                "invalid character ' ' in exponent of numeric literal",
            ),
            ("\"\\", "invalid character ' ' in string escape code"),
            (
                "\"\\u00e",
                "invalid character ' ' in \\u hexadecimal character escape",
            ),
            (
                "\"\\ud800\\u",
                "invalid character ' ' in \\u hexadecimal character escape",
            ),
            // Where a space may come, the input just ended.
            ("\"abc", "unexpected end of JSON input"),
            ("[1,", "unexpected end of JSON input"),
            ("{\"a\"", "unexpected end of JSON input"),
        ] {
            let e = unmarshal(body.as_bytes()).unwrap_err();
            assert_eq!(e.unmarshal_message(), unmarshal_says, "{body}");
            let e = decode_first(body.as_bytes()).unwrap_err();
            assert_eq!(e.decoder_message(), "unexpected EOF", "{body}");
        }
    }

    #[test]
    fn depth_is_counted_without_recursion() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let v = decode_first(deep.as_bytes()).unwrap();
        assert!(v.deeper_than(SERDE_MAX_DEPTH));
        let v = decode_first(b"{\"a\":[[1]]}").unwrap();
        assert!(!v.deeper_than(3) && v.deeper_than(2));
        assert!(!decode_first(b"1").unwrap().deeper_than(0));
    }

    #[test]
    fn to_serde_keeps_the_last_key_go_assigns() {
        let v = decode_first(
            b"{\"query\":\"x\",\"QUERY\":\"y\",\"ast\":{\"a\":1,\"A\":2,\"a\":3}} trailing",
        )
        .unwrap();
        assert_eq!(
            v.to_serde(1),
            serde_json::json!({"QUERY": "y", "ast": {"a": 3, "A": 2}})
        );
        // Go's replacement of a lone surrogate, and a number serde cannot hold.
        let v = decode_first(b"[\"\\ud800\", 1e999]").unwrap();
        assert_eq!(v.to_serde(0), serde_json::json!(["\u{fffd}", 0]));
    }

    fn dec(s: &str) -> String {
        decode_first(s.as_bytes()).unwrap_err().decoder_message()
    }

    #[test]
    fn syntax_errors_read_like_go() {
        assert_eq!(dec(""), "EOF");
        assert_eq!(dec("  \n"), "EOF");
        assert_eq!(dec("{\"start\":"), "unexpected EOF");
        assert_eq!(
            dec("nope"),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            dec("x"),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            dec("{start:1}"),
            "invalid character 's' looking for beginning of object key string"
        );
        assert_eq!(dec("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(
            dec("{\"a\":1 \"b\"}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(dec("[1 2]"), "invalid character '2' after array element");
        assert_eq!(dec("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(
            dec("\"\\q\""),
            "invalid character 'q' in string escape code"
        );
        assert_eq!(
            dec("'a'"),
            "invalid character '\\'' looking for beginning of value"
        );
        assert_eq!(dec("\"a\nb\""), "invalid character '\\n' in string literal");
        assert_eq!(
            unmarshal(b"{} {}").unwrap_err().unmarshal_message(),
            "invalid character '{' after top-level value"
        );
        assert_eq!(
            unmarshal(b"{").unwrap_err().unmarshal_message(),
            "unexpected end of JSON input"
        );
    }

    #[test]
    fn decoder_reads_only_the_first_value() {
        assert_eq!(
            decode_first(b"{\"a\":1} trailing").unwrap(),
            Value::Object(vec![("a".into(), Value::Number("1".into()))])
        );
    }

    #[test]
    fn strings_and_fields_decode_like_go() {
        let v = unmarshal(br#"{"start":"x","START":"\u00e9\ud83d\ude00\ud800"}"#).unwrap();
        assert_eq!(v.field("start"), Some(&Value::String("é😀\u{fffd}".into())));
        let v = unmarshal(br#"{"STOP":"y"}"#).unwrap();
        assert_eq!(v.field("stop"), Some(&Value::String("y".into())));
        assert_eq!(
            as_go_int64(&Value::Number("1.5".into())),
            Err("number 1.5".into())
        );
    }

    /// Runs `f` on a thread with a 128 KiB stack: enough for any fixed-depth code, far too
    /// little for a parser or a drop that recurses once per nesting level.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(f)
            .expect("spawn")
            .join()
            .expect("no stack overflow")
    }

    #[test]
    fn nesting_past_go_max_depth_is_a_syntax_error() {
        on_small_stack(|| {
            for open in ["[", "{\"a\":"] {
                let deep = open.repeat(100_000);
                let e = decode_first(deep.as_bytes()).unwrap_err();
                let c = &open[..1];
                assert_eq!(
                    e.decoder_message(),
                    format!("invalid character '{c}' exceeded max depth")
                );
                assert_eq!(
                    unmarshal(deep.as_bytes()).unwrap_err().unmarshal_message(),
                    format!("invalid character '{c}' exceeded max depth")
                );
            }
            // An empty container still counts as one level, as Go pushes then pops it.
            let over = format!(
                "{}[]{}",
                "[".repeat(MAX_NESTING_DEPTH),
                "]".repeat(MAX_NESTING_DEPTH)
            );
            assert_eq!(
                decode_first(over.as_bytes()).unwrap_err().decoder_message(),
                "invalid character '[' exceeded max depth"
            );
        });
    }

    #[test]
    fn values_as_deep_as_go_allows_parse_and_drop_in_constant_stack() {
        on_small_stack(|| {
            let n = MAX_NESTING_DEPTH;
            let arrays = format!("{}1{}", "[".repeat(n), "]".repeat(n));
            let v = unmarshal(arrays.as_bytes()).expect("depth 10000 is allowed");
            let mut depth = 0;
            let mut cur = &v;
            while let Value::Array(items) = cur {
                depth += 1;
                cur = &items[0];
            }
            assert_eq!(depth, n);
            drop(v);
            let objects = format!("{}null{}", "{\"k\":".repeat(n), "}".repeat(n));
            let v = decode_first(objects.as_bytes()).expect("depth 10000 is allowed");
            drop(v);
        });
    }

    fn to_serde(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::from_str(n).expect("number literal"),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
            Value::Object(pairs) => serde_json::Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), to_serde(v)))
                    .collect(),
            ),
        }
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|i| serde_json::json!(i)),
            "[a-z\\u{e9}\"\\\\\n]{0,6}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(6, 64, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any JSON document serde writes reads back to the same value, compact or pretty.
        #[test]
        fn reads_what_serde_writes(doc in arb_json()) {
            for text in [serde_json::to_string(&doc), serde_json::to_string_pretty(&doc)] {
                let text = text.expect("serialize");
                let v = unmarshal(text.as_bytes()).expect("valid JSON parses");
                proptest::prop_assert_eq!(to_serde(&v), doc.clone());
            }
        }

        /// No byte string panics the parser.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = decode_first(&bytes);
            let _ = unmarshal(&bytes);
        }
    }
}
