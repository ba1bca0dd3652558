//! Escaping and unescaping, as `models/points.go` and `pkg/escape/bytes.go` do it.
//!
//! Every unescaper here is the single left-to-right pass "a backslash followed by a byte of
//! the set is dropped (the byte is kept); any other backslash stays". That is what Go's
//! sequential `bytes.Replace` calls (`unescapeMeasurement`, `unescapeTag`) and
//! `escape.AppendUnescaped` compute: removing the backslash of `\,` never makes a new
//! backslash-plus-set-byte pair, so the order of the replacements does not matter.

use std::borrow::Cow;

use super::scan::find_backslash;

/// `measurementEscapeCodes`: `,` and space.
pub(crate) const MEASUREMENT_SET: &[u8] = b", ";
/// `tagEscapeCodes`: `,`, space and `=`.
pub(crate) const TAG_SET: &[u8] = b", =";
/// `escape.Codes` (`pkg/escape`), used for field keys: `,`, `"`, space and `=`.
pub(crate) const FIELD_KEY_SET: &[u8] = b",\" =";

#[inline]
fn in_set(set: &[u8], b: u8) -> bool {
    set.contains(&b)
}

/// Unescapes `raw` with `set`; borrows when nothing changes.
#[inline]
pub(crate) fn unescape<'a>(raw: &'a [u8], set: &[u8]) -> Cow<'a, [u8]> {
    let Some(first) = find_backslash(raw, 0) else {
        return Cow::Borrowed(raw);
    };
    // Find the first backslash that actually escapes something.
    let mut i = first;
    loop {
        match raw.get(i + 1) {
            Some(&next) if in_set(set, next) => break,
            Some(_) => match find_backslash(raw, i + 1) {
                Some(at) => i = at,
                None => return Cow::Borrowed(raw),
            },
            None => return Cow::Borrowed(raw),
        }
    }
    // `raw[i]` is a backslash that escapes `raw[i + 1]`: copy the bytes before it verbatim,
    // then the escaped byte, then look for the next escaping backslash.
    let mut out = Vec::with_capacity(raw.len());
    let mut copied = 0;
    loop {
        out.extend_from_slice(&raw[copied..i]);
        out.push(raw[i + 1]);
        copied = i + 2;
        let mut from = copied;
        loop {
            let Some(at) = find_backslash(raw, from) else {
                out.extend_from_slice(&raw[copied..]);
                return Cow::Owned(out);
            };
            match raw.get(at + 1) {
                Some(&next) if in_set(set, next) => {
                    i = at;
                    break;
                }
                // A backslash that escapes nothing stays; the byte after it is looked at
                // afresh.
                Some(_) => from = at + 1,
                None => {
                    out.extend_from_slice(&raw[copied..]);
                    return Cow::Owned(out);
                }
            }
        }
    }
}

/// `unescapeStringField`: inside the quotes, `\\` becomes `\` and `\"` becomes `"`.
pub(crate) fn unescape_string(raw: &[u8]) -> Cow<'_, [u8]> {
    // The same single pass as the other unescapers, with `\` and `"` as the set.
    unescape(raw, b"\\\"")
}

#[inline]
fn escape_into(out: &mut Vec<u8>, raw: &[u8], set: &[u8]) {
    out.reserve(raw.len());
    for &b in raw {
        if in_set(set, b) {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Appends `m` escaped as a measurement name (`,` and space).
pub fn escape_measurement(out: &mut Vec<u8>, m: &[u8]) {
    escape_into(out, m, MEASUREMENT_SET);
}

/// Appends a tag key or value escaped (`,`, `=` and space).
pub fn escape_tag(out: &mut Vec<u8>, kv: &[u8]) {
    escape_into(out, kv, TAG_SET);
}

/// Appends a field key escaped like `escape.Bytes` (`,`, `=`, space and `"`).
pub fn escape_field_key(out: &mut Vec<u8>, k: &[u8]) {
    escape_into(out, k, FIELD_KEY_SET);
}

/// Appends the inside of a string field value escaped (`"` and `\`); the caller writes the
/// surrounding quotes.
pub fn escape_string_value(out: &mut Vec<u8>, v: &[u8]) {
    escape_into(out, v, b"\"\\");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_keeps_other_backslashes() {
        assert_eq!(&*unescape(br"a\\b", TAG_SET), br"a\\b");
        assert_eq!(&*unescape(br"a\,b\ c\=d", TAG_SET), b"a,b c=d");
        assert_eq!(&*unescape(br"a\=b", MEASUREMENT_SET), br"a\=b");
        assert_eq!(&*unescape(br"\\,", TAG_SET), br"\,");
        assert_eq!(&*unescape(br#"g\"h"#, FIELD_KEY_SET), b"g\"h");
        assert_eq!(&*unescape(b"x\\", TAG_SET), b"x\\");
        assert!(matches!(unescape(br"a\b", TAG_SET), Cow::Borrowed(_)));
    }

    /// The byte-at-a-time pass the unescapers implement.
    fn reference_unescape(raw: &[u8], set: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'\\' && raw.get(i + 1).is_some_and(|n| set.contains(n)) {
                out.push(raw[i + 1]);
                i += 2;
            } else {
                out.push(raw[i]);
                i += 1;
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn unescape_equals_the_byte_loop(
            raw in proptest::collection::vec(proptest::sample::select(&b"a\\,= \"x"[..]), 0..40),
        ) {
            for set in [MEASUREMENT_SET, TAG_SET, FIELD_KEY_SET] {
                proptest::prop_assert_eq!(&*unescape(&raw, set), &reference_unescape(&raw, set)[..]);
            }
            proptest::prop_assert_eq!(&*unescape_string(&raw), &reference_unescape(&raw, b"\\\"")[..]);
        }
    }

    #[test]
    fn string_unescape() {
        assert_eq!(&*unescape_string(br#"a\"b\\c\nd"#), br#"a"b\c\nd"#);
    }

    #[test]
    fn escape_then_unescape_is_identity() {
        for raw in [&b"a,b c=d\\"[..], b"\\,", b"\\\\ ", b"\"q\""] {
            for set in [MEASUREMENT_SET, TAG_SET, FIELD_KEY_SET] {
                let mut out = Vec::new();
                escape_into(&mut out, raw, set);
                assert_eq!(&*unescape(&out, set), raw);
            }
        }
    }
}
