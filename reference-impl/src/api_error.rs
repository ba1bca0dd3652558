//! The platform error model every endpoint answers with (`kit/platform/errors`): a code from a
//! closed set, a message, and the two JSON encoders InfluxDB uses.

use std::fmt;

/// Platform error codes (`kit/platform/errors/errors.go`) and the status each maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Internal,
    NotImplemented,
    NotFound,
    Conflict,
    Invalid,
    UnprocessableEntity,
    EmptyValue,
    Unavailable,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    MethodNotAllowed,
    TooLarge,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal error",
            Self::NotImplemented => "not implemented",
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
            Self::UnprocessableEntity => "unprocessable entity",
            Self::EmptyValue => "empty value",
            Self::Unavailable => "unavailable",
            Self::Forbidden => "forbidden",
            Self::TooManyRequests => "too many requests",
            Self::Unauthorized => "unauthorized",
            Self::MethodNotAllowed => "method not allowed",
            Self::TooLarge => "request too large",
        }
    }

    /// `influxDBErrorToStatusCode`; note `conflict` is 422, not 409.
    pub fn status(self) -> u16 {
        match self {
            Self::Internal => 500,
            Self::NotImplemented => 501,
            Self::NotFound => 404,
            Self::Conflict => 422,
            Self::Invalid => 400,
            Self::UnprocessableEntity => 422,
            Self::EmptyValue => 400,
            Self::Unavailable => 503,
            Self::Forbidden => 403,
            Self::TooManyRequests => 429,
            Self::Unauthorized => 401,
            Self::MethodNotAllowed => 405,
            Self::TooLarge => 413,
        }
    }
}

/// An error as the API reports it: code, message, and for the rare answers that carry one, a
/// `Retry-After` value in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub retry_after: Option<u64>,
    /// The message's bytes when they are not valid UTF-8: a Go string holds any bytes (a
    /// malformed line quoted in a parse error), and `encoding/json` writes each invalid byte
    /// as the six characters `\ufffd`, where `message` (for display) holds U+FFFD itself.
    pub go_bytes: Option<Box<[u8]>>,
}

/// The message InfluxDB's error handler sends for a raw (non-platform) Go error.
pub const INTERNAL_MESSAGE: &str = "An internal error has occurred - check server logs";

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            go_bytes: None,
        }
    }

    /// An error whose message is a Go string of any bytes ([`ApiError::go_bytes`]).
    pub fn from_go_bytes(code: Code, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(message) => Self::new(code, message),
            Err(e) => {
                let bytes = e.into_bytes();
                let mut err = Self::new(code, crate::model::text::go_lossy(&bytes).into_owned());
                err.go_bytes = Some(bytes.into_boxed_slice());
                err
            }
        }
    }

    fn push_message(&self, out: &mut String) {
        match &self.go_bytes {
            Some(bytes) => {
                out.push('"');
                push_go_json_bytes_content(out, bytes);
                out.push('"');
            }
            None => push_go_json_string(out, &self.message),
        }
    }

    /// A raw Go error reaching `ErrorHandler.HandleHTTPError`: 500 with the generic message.
    pub fn internal_opaque() -> Self {
        Self::new(Code::Internal, INTERNAL_MESSAGE)
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// Encoder A (`ErrorHandler.HandleHTTPError`): compact JSON, `code` then `message`, no
    /// trailing newline. Used by write, delete, query, v1 endpoints and the auth middleware.
    pub fn compact_body(&self) -> String {
        let mut out = String::with_capacity(self.message.len() + 32);
        out.push_str("{\"code\":");
        push_go_json_string(&mut out, self.code.as_str());
        out.push_str(",\"message\":");
        self.push_message(&mut out);
        out.push('}');
        out
    }

    /// Encoder B (`kithttp.API.Err`): `json.MarshalIndent(v, "", "\t")`. Used by the tenant
    /// handlers (setup, orgs, buckets). `API.Respond` writes the `MarshalIndent` bytes as they
    /// are: no trailing newline.
    pub fn indented_body(&self) -> String {
        let mut out = String::with_capacity(self.message.len() + 40);
        out.push_str("{\n\t\"code\": ");
        push_go_json_string(&mut out, self.code.as_str());
        out.push_str(",\n\t\"message\": ");
        self.push_message(&mut out);
        out.push_str("\n}");
        out
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// Appends `s` as a JSON string literal exactly as Go's `encoding/json` writes it with HTML
/// escaping on: `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`/`\u20XX`, control characters as
/// `\b`, `\f`, `\n`, `\r`, `\t` or `\u00XX` (`\b` and `\f` since Go 1.22; 2.7.12 is built
/// with 1.23, older Go wrote `\u0008` and `\u000c`).
pub fn push_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    push_go_json_string_content(out, s);
    out.push('"');
}

/// [`push_go_json_string`] without the surrounding quotes (a string written in pieces).
pub fn push_go_json_string_content(out: &mut String, s: &str) {
    // Runs of bytes that need no escape are copied whole. Each byte that may need one is
    // ASCII or 0xE2 (the lead byte of U+2028 and U+2029), so every run ends on a character
    // boundary.
    let bytes = s.as_bytes();
    out.reserve(bytes.len());
    let mut run = 0;
    let mut i = 0;
    loop {
        i = next_may_escape(bytes, i);
        let Some(&b) = bytes.get(i) else { break };
        let len = match b {
            b'"' | b'\\' | b'<' | b'>' | b'&' => 1,
            0..=0x1f => 1,
            0xe2 if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                3
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[run..i]);
        push_go_json_escape(out, &s[i..i + len]);
        i += len;
        run = i;
    }
    out.push_str(&s[run..]);
}

/// Whether a byte may start something Go's `encoding/json` escapes: a control character,
/// `"`, `\`, `<`, `>`, `&`, or 0xE2 (U+2028 and U+2029 begin with it).
const MAY_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'&' as usize] = true;
    t[0xe2] = true;
    t
};

/// The first index at or after `i` whose byte may need an escape (`bytes.len()` if none):
/// sixteen bytes at a time with SSE2, then byte by byte. Error messages quote whole lines, so
/// this is most of what writing an error body costs.
fn next_may_escape(bytes: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        while let Some(chunk) = bytes.get(i..i + 16) {
            // SAFETY: `chunk` is 16 readable bytes and `_mm_loadu_si128` has no alignment
            // requirement; SSE2, which all these intrinsics need, is part of every x86_64
            // target.
            let bits = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                // Unsigned v <= 0x1f: max(v, 0x1f) == 0x1f.
                let low = _mm_set1_epi8(0x1f);
                let mut hits = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                for c in [b'"', b'\\', b'<', b'>', b'&', 0xe2] {
                    hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)));
                }
                _mm_movemask_epi8(hits) as u32
            };
            if bits != 0 {
                return i + bits.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while let Some(&b) = bytes.get(i) {
        if MAY_ESCAPE[b as usize] {
            break;
        }
        i += 1;
    }
    i
}

/// One character `push_go_json_string_content` escapes, escaped as Go's `encoding/json` does.
fn push_go_json_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Since Go 1.22 (2.7.12 is built with 1.23.9): `\b` and `\f` by name.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// [`push_go_json_string_content`] for a Go string of any bytes: each byte that does not
/// start a valid UTF-8 sequence is written as `\ufffd` (`encoding/json`, `appendString`:
/// `c == utf8.RuneError && size == 1`), one escape per byte.
pub fn push_go_json_bytes_content(out: &mut String, mut bytes: &[u8]) {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => return push_go_json_string_content(out, s),
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                push_go_json_string_content(out, std::str::from_utf8(valid).unwrap_or_default());
                out.push_str("\\ufffd");
                bytes = rest.get(1..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Character by character, as `push_go_json_string_content` was written first.
    fn escaped_per_char(s: &str) -> String {
        let mut out = String::new();
        push_go_json_escape(&mut out, s);
        out
    }

    proptest::proptest! {
        /// Copying runs that need no escape writes what escaping each character writes.
        #[test]
        fn runs_are_escaped_as_characters_are(
            s in "([a-z \"\\\\<>&\u{2028}\u{2029}\u{2027}\u{202a}\u{20ac}é\u{0}-\u{1f}\u{7f}]|\u{e2}\u{80}|[a-z]{16,40}){0,40}"
        ) {
            let mut out = String::new();
            push_go_json_string_content(&mut out, &s);
            proptest::prop_assert_eq!(out, escaped_per_char(&s));
        }
    }

    #[test]
    fn invalid_utf8_is_one_escape_per_byte_as_go_writes_it() {
        // A truncated 3-byte sequence is two invalid bytes for Go (Rust's lossy decoding would
        // make it one U+FFFD); a real U+FFFD stays as it is.
        let e = ApiError::from_go_bytes(Code::Invalid, b"m\xe2\x82 \xef\xbf\xbd\xff<".to_vec());
        assert_eq!(
            e.compact_body(),
            "{\"code\":\"invalid\",\"message\":\"m\\ufffd\\ufffd \u{fffd}\\ufffd\\u003c\"}"
        );
        assert_eq!(e.message, "m\u{fffd}\u{fffd} \u{fffd}\u{fffd}<");
        assert_eq!(
            ApiError::from_go_bytes(Code::Invalid, b"ok".to_vec()).go_bytes,
            None
        );
    }

    #[test]
    fn compact_body_matches_go() {
        let e = ApiError::new(Code::NotFound, "bucket \"x\" not found");
        assert_eq!(
            e.compact_body(),
            r#"{"code":"not found","message":"bucket \"x\" not found"}"#
        );
    }

    #[test]
    fn indented_body_uses_tabs() {
        let e = ApiError::new(Code::Invalid, "name is empty");
        assert_eq!(
            e.indented_body(),
            "{\n\t\"code\": \"invalid\",\n\t\"message\": \"name is empty\"\n}"
        );
    }

    #[test]
    fn html_and_control_characters_are_escaped_like_go() {
        let mut s = String::new();
        push_go_json_string(&mut s, "a<b>&c\n\u{1}\u{8}\u{c}\u{b}\u{2028}é");
        // Go 1.22+ names `\b` and `\f`; other control characters stay `\u00XX`.
        assert_eq!(
            s,
            "\"a\\u003cb\\u003e\\u0026c\\n\\u0001\\b\\f\\u000b\\u2028é\""
        );
    }

    #[test]
    fn conflict_is_422() {
        assert_eq!(Code::Conflict.status(), 422);
        assert_eq!(Code::TooLarge.status(), 413);
    }
}
