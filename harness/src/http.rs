//! The HTTP vocabulary every layer shares: a request as the runner builds it (the same for
//! every target), a response as a target returns it, percent-encoding of query components and
//! a short preview of a body for messages. A leaf: it imports nothing of the crate.

use std::collections::BTreeMap;

/// A request as the runner builds it, the same for every target.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// `/api/v2/write?org=...`, percent-encoded.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Percent-encodes a query-string component (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Bytes as text: borrowed when they are UTF-8, invalid sequences replaced by U+FFFD otherwise
/// (what `String::from_utf8_lossy` gives). Valid text is checked by `str::from_utf8`, which
/// takes ASCII a word at a time; `from_utf8_lossy` walks it byte by byte (2% of a fuzz run).
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// [`lossy`] of bytes the caller gives away: no copy when they are UTF-8.
pub fn lossy_owned(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The first 200 characters of a body, for messages.
pub fn preview(body: &[u8]) -> String {
    let s = lossy(body);
    if s.len() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s.into_owned()
    }
}
