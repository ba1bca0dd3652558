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

/// `set` as a bit mask of bytes below 128 (every escape set is ASCII punctuation), for
/// [`unescape_in`]'s const parameter.
pub(crate) const fn mask(set: &[u8]) -> u128 {
    let mut m = 0u128;
    let mut i = 0;
    while i < set.len() {
        m |= 1 << set[i];
        i += 1;
    }
    m
}

pub(crate) const MEASUREMENT_MASK: u128 = mask(MEASUREMENT_SET);
pub(crate) const TAG_MASK: u128 = mask(TAG_SET);
pub(crate) const FIELD_KEY_MASK: u128 = mask(FIELD_KEY_SET);
const STRING_MASK: u128 = mask(b"\\\"");

#[inline(always)]
fn in_set<const SET: u128>(b: u8) -> bool {
    b < 128 && (SET >> b) & 1 == 1
}

/// Unescapes `raw` with `set`; borrows when nothing changes.
#[cfg(test)]
pub(crate) fn unescape<'a>(raw: &'a [u8], set: &[u8]) -> Cow<'a, [u8]> {
    let spare = &mut SpareBuffers::default();
    match set {
        MEASUREMENT_SET => unescape_in::<MEASUREMENT_MASK>(raw, spare),
        TAG_SET => unescape_in::<TAG_MASK>(raw, spare),
        FIELD_KEY_SET => unescape_in::<FIELD_KEY_MASK>(raw, spare),
        b"\\\"" => unescape_in::<STRING_MASK>(raw, spare),
        other => panic!("no escape set {other:?}"),
    }
}

/// Unescapes `raw` with the set `SET` ([`mask`]); borrows when nothing changes, and otherwise
/// writes into a buffer taken from `spare` (a lent point's tags and fields give theirs back for
/// the next line, so unescaping allocates only until the spares suffice).
#[inline]
pub(crate) fn unescape_in<'a, const SET: u128>(
    raw: &'a [u8],
    spare: &mut SpareBuffers,
) -> Cow<'a, [u8]> {
    let Some(first) = find_backslash(raw, 0) else {
        return Cow::Borrowed(raw);
    };
    // Find the first backslash that actually escapes something.
    let mut i = first;
    loop {
        match raw.get(i + 1) {
            Some(&next) if in_set::<SET>(next) => break,
            Some(_) => match find_backslash(raw, i + 1) {
                Some(at) => i = at,
                None => return Cow::Borrowed(raw),
            },
            None => return Cow::Borrowed(raw),
        }
    }
    // `out` starts as a copy of `raw`, so the bytes before `raw[i]` are already in place.
    // The pass then reads `raw[j..]` and writes `out[n..]`; the output never outgrows the
    // input (`n <= j`), so eight bytes copied at `n` while `j + 8 <= raw.len()` stay inside
    // `out`. Bytes written past the output's end are cut off at the end.
    let mut out = spare.take();
    out.extend_from_slice(raw);
    let len = raw.len();
    let (mut j, mut n) = (i, i);
    while j < len {
        if raw[j] == b'\\' {
            match raw.get(j + 1) {
                Some(&next) if in_set::<SET>(next) => {
                    out[n] = next;
                    j += 2;
                }
                // A backslash that escapes nothing stays; the byte after it is looked at
                // afresh.
                _ => {
                    out[n] = b'\\';
                    j += 1;
                }
            }
            n += 1;
            continue;
        }
        // Eight bytes at a time up to the next backslash (SWAR: the lowest flagged byte of
        // `has_backslash` is exact), then byte by byte for the last few.
        if let Some(word) = raw.get(j..j + 8) {
            out[n..n + 8].copy_from_slice(word);
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            let found = has_backslash(u64::from_le_bytes(bytes));
            let step = if found == 0 {
                8
            } else {
                (found.trailing_zeros() / 8) as usize
            };
            j += step;
            n += step;
        } else {
            out[n] = raw[j];
            j += 1;
            n += 1;
        }
    }
    out.truncate(n);
    Cow::Owned(out)
}

/// The high bit of every byte of `word` that is a backslash (exact for the lowest one; a
/// byte above a match may be flagged too).
#[inline(always)]
fn has_backslash(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = word ^ (ONES * u64::from(b'\\'));
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// Unescaped buffers given back by earlier lines' lent points, for [`unescape_in`] to reuse.
/// Bounded: at most [`MAX_SPARE`] buffers, each of at most [`MAX_SPARE_CAPACITY`] bytes (larger
/// ones are freed), so a parse keeps at most 64 KiB here.
#[derive(Debug, Default)]
pub(crate) struct SpareBuffers(Vec<Vec<u8>>);

/// How many buffers [`SpareBuffers`] keeps.
const MAX_SPARE: usize = 64;
/// The largest buffer [`SpareBuffers`] keeps.
const MAX_SPARE_CAPACITY: usize = 1024;

impl SpareBuffers {
    /// An empty buffer, reused when one is spare.
    #[inline]
    fn take(&mut self) -> Vec<u8> {
        let mut buffer = self.0.pop().unwrap_or_default();
        buffer.clear();
        buffer
    }

    /// Takes the buffer of an unescaped token (leaving it empty), if it has one and there is
    /// room; a borrowed token is left as it is.
    #[inline]
    pub(crate) fn give(&mut self, token: &mut Cow<'_, [u8]>) {
        if let Cow::Owned(buffer) = token {
            if buffer.capacity() <= MAX_SPARE_CAPACITY && self.0.len() < MAX_SPARE {
                self.0.push(std::mem::take(buffer));
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// `unescapeStringField`: inside the quotes, `\\` becomes `\` and `\"` becomes `"`.
#[inline]
pub(crate) fn unescape_string_in<'a>(raw: &'a [u8], spare: &mut SpareBuffers) -> Cow<'a, [u8]> {
    // The same single pass as the other unescapers, with `\` and `"` as the set.
    unescape_in::<STRING_MASK>(raw, spare)
}

#[cfg(test)]
pub(crate) fn unescape_string(raw: &[u8]) -> Cow<'_, [u8]> {
    unescape_string_in(raw, &mut SpareBuffers::default())
}

#[inline]
fn escape_into(out: &mut Vec<u8>, raw: &[u8], set: &[u8]) {
    out.reserve(raw.len());
    for &b in raw {
        if set.contains(&b) {
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
            raw in proptest::collection::vec(proptest::sample::select(&b"a\\,= \"x"[..]), 0..80),
        ) {
            for set in [MEASUREMENT_SET, TAG_SET, FIELD_KEY_SET] {
                proptest::prop_assert_eq!(&*unescape(&raw, set), &reference_unescape(&raw, set)[..]);
            }
            proptest::prop_assert_eq!(&*unescape_string(&raw), &reference_unescape(&raw, b"\\\"")[..]);
        }

        /// Buffers given back by earlier tokens (longer, shorter, full of other bytes) change
        /// nothing: each token unescapes as it does alone, words of eight and tails alike.
        #[test]
        fn spare_buffers_leave_no_trace(
            raws in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(&b"a\\,= \"xyz"[..]), 0..90),
                1..12,
            ),
        ) {
            let mut spare = SpareBuffers::default();
            let mut kept = Vec::new();
            for raw in &raws {
                let mut token = unescape_in::<TAG_MASK>(raw, &mut spare);
                proptest::prop_assert_eq!(&*token, &reference_unescape(raw, TAG_SET)[..]);
                let mut text = unescape_string_in(raw, &mut spare);
                proptest::prop_assert_eq!(&*text, &reference_unescape(raw, b"\\\"")[..]);
                // Every other token is kept a while, so the spares come and go.
                spare.give(&mut token);
                kept.push(text.to_vec());
                if kept.len() % 2 == 0 {
                    spare.give(&mut text);
                }
                proptest::prop_assert!(token.is_empty() || matches!(token, Cow::Borrowed(_)));
            }
        }
    }

    #[test]
    fn spare_buffers_are_bounded() {
        let mut spare = SpareBuffers::default();
        for len in [10, 2000, 10, 1024, 1025] {
            let mut token = Cow::Owned(vec![b'x'; len]);
            spare.give(&mut token);
            // A kept buffer leaves its token empty; a refused one leaves it whole.
            assert_eq!(token.len(), if len <= MAX_SPARE_CAPACITY { 0 } else { len });
        }
        assert_eq!(spare.len(), 3);
        for _ in 0..200 {
            spare.give(&mut Cow::Owned(vec![b'x'; 8]));
        }
        assert_eq!(spare.len(), MAX_SPARE);
        let mut borrowed = Cow::Borrowed(&b"kept"[..]);
        spare.give(&mut borrowed);
        assert_eq!(&*borrowed, b"kept");
        // A taken buffer comes back empty, whatever it held.
        assert!(spare.take().is_empty());
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
