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

/// The first 200 characters of a body, for messages.
pub fn preview(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    if s.len() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s.into_owned()
    }
}
